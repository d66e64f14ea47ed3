//! The benchmark workload (`docs/workload.md`) on MongoDB:
//! `cargo bench -p adapter-mongodb [-- --users N --ops N --concurrency C --url mongodb://...]`.
//! Without `--url` it uses `MONGODB_URL`. Everything runs in a fresh
//! database with a pool of 16 connections; the database is dropped
//! afterwards.

use std::sync::Arc;

use adapter_bench::{self as bench, BenchConfig, BulkSeed, RawLookup, SeedUser};
use adapter_conformance::servers::{self, Server};
use adapter_mongodb::{ACCOUNTS, MongoOptions, MongodbAdapter, SESSIONS, USERS};
use auth_core::AdapterError;
use bson::oid::ObjectId;
use bson::{Bson, DateTime, Document, doc};
use mongodb::Database;

#[tokio::main]
async fn main() {
    let config = BenchConfig::from_args("MONGODB_URL");
    let url = match &config.url {
        Some(url) => url.clone(),
        None => servers::url(Server::Mongodb).await,
    };
    let options = MongoOptions::from_url(&url)
        .expect("a MongoDB connection string")
        .namespace(servers::unique_namespace("bench"))
        .pool_size(16);
    let adapter = MongodbAdapter::connect_with(options)
        .await
        .expect("a MongoDB client");
    adapter.migrate().await.expect("migrate");
    let database = adapter.database().clone();

    // The ceiling: one `find` on `sessions` by its unique `sessionToken`
    // index, on the same pool.
    let sessions = database.collection::<Document>(SESSIONS);
    let raw_lookup: RawLookup = Arc::new(move |token: String| {
        let sessions = sessions.clone();
        Box::pin(async move {
            sessions
                .find_one(doc! { "sessionToken": token })
                .await
                .expect("find_one on sessions")
                .is_some()
        })
    });
    let seed: BulkSeed = {
        let database = database.clone();
        Arc::new(move |batch| Box::pin(seed(database.clone(), batch)))
    };
    bench::run_bulk_seeded("mongodb", Arc::new(adapter), &config, raw_lookup, seed).await;

    if let Err(e) = database.drop().await {
        eprintln!("mongodb: could not drop {}: {e}", database.name());
    }
}

/// The bulk path: one `insert_many` per collection and batch, with the
/// documents shaped as the adapter writes them.
async fn seed(database: Database, batch: Vec<SeedUser>) -> Result<Vec<String>, AdapterError> {
    let ids: Vec<ObjectId> = batch.iter().map(|_| ObjectId::new()).collect();
    let text = |value: &Option<String>| value.clone().map_or(Bson::Null, Bson::String);
    let rows = || ids.iter().zip(&batch);
    let users = rows().map(|(id, r)| {
        doc! {
            "_id": id,
            "name": text(&r.user.name),
            "email": text(&r.user.email),
            "emailVerified": Bson::Null,
            "image": Bson::Null,
        }
    });
    let accounts = rows().map(|(id, r)| {
        let a = &r.account;
        doc! {
            "userId": id,
            "type": a.account_type.as_str(),
            "provider": &a.provider,
            "providerAccountId": &a.provider_account_id,
            "access_token": text(&a.access_token),
            "token_type": text(&a.token_type),
            "scope": text(&a.scope),
        }
    });
    let sessions = rows().map(|(id, r)| {
        doc! {
            "sessionToken": &r.session.session_token,
            "userId": id,
            "expires": DateTime::from_millis(auth_core::timestamp::to_unix_millis(r.session.expires)),
        }
    });
    for (collection, documents) in [
        (USERS, users.collect::<Vec<_>>()),
        (ACCOUNTS, accounts.collect()),
        (SESSIONS, sessions.collect()),
    ] {
        database
            .collection::<Document>(collection)
            .insert_many(documents)
            .await
            .map_err(AdapterError::backend)?;
    }
    Ok(ids.into_iter().map(|id| id.to_hex()).collect())
}

//! The benchmark workload (`docs/workload.md`) on MongoDB:
//! `cargo bench -p adapter-mongodb [-- --users N --ops N --concurrency C --url mongodb://...]`.
//! Without `--url` it uses `MONGODB_URL`. Everything runs in a fresh
//! database with a pool of 16 connections; the database is dropped
//! afterwards.

use std::sync::Arc;

use adapter_bench::{self as bench, BenchConfig, BulkSeed, Call, Ceiling, SeedUser};
use adapter_conformance::servers::{self, Server};
use adapter_mongodb::{
    ACCOUNTS, MongoOptions, MongodbAdapter, SESSIONS, USERS, VERIFICATION_TOKENS,
};
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

    // The ceiling: the same work on a bare client of the driver (its own
    // pool of 16): the `$lookup` aggregate for a session or an account with
    // its user, `find_one_and_update`, `insert_one`, `find_one_and_delete`.
    let bare = mongodb::Client::with_options({
        let mut options = mongodb::options::ClientOptions::parse(&url)
            .await
            .expect("a MongoDB connection string");
        options.max_pool_size = Some(16);
        options
    })
    .expect("a bare MongoDB client")
    .database(database.name());
    let ceiling = Ceiling::new(Arc::new(move |call| {
        let bare = bare.clone();
        Box::pin(async move { ceiling(&bare, call).await })
    }));
    let seed: BulkSeed = {
        let database = database.clone();
        Arc::new(move |batch| Box::pin(seed(database.clone(), batch)))
    };
    bench::run_bulk_seeded("mongodb", Arc::new(adapter), &config, ceiling, seed).await;

    if let Err(e) = database.drop().await {
        eprintln!("mongodb: could not drop {}: {e}", database.name());
    }
}

/// `$lookup` of the user, as the adapter joins it.
fn join_user() -> [Document; 2] {
    [
        doc! { "$lookup": { "from": USERS, "localField": "userId", "foreignField": "_id", "as": "user" } },
        doc! { "$unwind": "$user" },
    ]
}

/// One workload call on the bare driver.
async fn ceiling(db: &Database, call: Call) -> bool {
    use futures::TryStreamExt;
    let now = DateTime::now();
    let first = |collection: &'static str, pipeline: Vec<Document>| async move {
        db.collection::<Document>(collection)
            .aggregate(pipeline)
            .await
            .expect("aggregate")
            .try_next()
            .await
            .expect("the aggregate's first document")
            .is_some()
    };
    match call {
        Call::GetSessionAndUser { session_token } => {
            let mut pipeline = vec![
                doc! { "$match": { "sessionToken": session_token, "expires": { "$gt": now } } },
                doc! { "$limit": 1 },
            ];
            pipeline.extend(join_user());
            first(SESSIONS, pipeline).await
        }
        Call::GetUserByAccount {
            provider,
            provider_account_id,
        } => {
            let mut pipeline = vec![
                doc! { "$match": { "provider": provider, "providerAccountId": provider_account_id } },
                doc! { "$limit": 1 },
            ];
            pipeline.extend(join_user());
            pipeline.push(doc! { "$project": { "user": 1 } });
            first(ACCOUNTS, pipeline).await
        }
        Call::UpdateSession {
            session_token,
            expires,
        } => db
            .collection::<Document>(SESSIONS)
            .find_one_and_update(
                doc! { "sessionToken": session_token, "expires": { "$gt": now } },
                doc! { "$set": { "expires": DateTime::from_time_0_3(expires) } },
            )
            .return_document(mongodb::options::ReturnDocument::After)
            .await
            .expect("find_one_and_update")
            .is_some(),
        Call::CreateSession(session) => {
            let user_id: ObjectId = session.user_id.parse().expect("an ObjectId user id");
            db.collection::<Document>(SESSIONS)
                .insert_one(doc! {
                    "sessionToken": session.session_token,
                    "userId": user_id,
                    "expires": DateTime::from_time_0_3(session.expires),
                })
                .await
                .expect("insert_one");
            true
        }
        Call::UseVerificationToken { identifier, token } => db
            .collection::<Document>(VERIFICATION_TOKENS)
            .find_one_and_delete(doc! { "identifier": identifier, "token": token })
            .await
            .expect("find_one_and_delete")
            .is_some(),
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

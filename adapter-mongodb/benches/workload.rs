//! The BENCH.md workload on MongoDB:
//! `cargo bench -p adapter-mongodb [-- --users N --ops N --concurrency C --url mongodb://...]`.
//! Without `--url` it uses `MONGODB_URL`. Everything runs in a fresh
//! database with a pool of 16 connections; the database is dropped
//! afterwards.

use std::sync::Arc;

use adapter_conformance::bench::{self, BenchConfig, RawLookup};
use adapter_conformance::servers::{self, Server};
use adapter_mongodb::{MongodbAdapter, SESSIONS};
use bson::{Document, doc};
use mongodb::Client;
use mongodb::options::ClientOptions;

#[tokio::main]
async fn main() {
    let config = BenchConfig::from_args("MONGODB_URL");
    let url = match &config.url {
        Some(url) => url.clone(),
        None => servers::url(Server::Mongodb).await,
    };
    let mut options = ClientOptions::parse(&url)
        .await
        .expect("a MongoDB connection string");
    options.max_pool_size = Some(16);
    let client = Client::with_options(options).expect("a MongoDB client");
    let adapter = MongodbAdapter::from_client(client.clone(), &servers::unique_namespace("bench"));
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
    bench::run("mongodb", Arc::new(adapter), &config, raw_lookup).await;

    if let Err(e) = database.drop().await {
        eprintln!("mongodb: could not drop {}: {e}", database.name());
    }
}

//! The whole conformance suite against `MONGODB_URL` (or a `mongo:7`
//! replica-set container when a Docker engine answers), each case in a
//! database of its own.

use adapter_conformance::servers::{self, Server};
use adapter_mongodb::MongodbAdapter;
use mongodb::Client;
use mongodb::options::ClientOptions;

async fn adapter() -> MongodbAdapter {
    let url = servers::url(Server::Mongodb).await;
    let mut options = ClientOptions::parse(&url)
        .await
        .unwrap_or_else(|e| panic!("MONGODB_URL is not a MongoDB connection string: {e}"));
    options.max_pool_size = Some(8);
    let client = Client::with_options(options).expect("a MongoDB client");
    let adapter = MongodbAdapter::from_client(client, &servers::unique_namespace("mg"));
    adapter
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("cannot migrate on the server at MONGODB_URL: {e}"));
    adapter
}

/// Drops the case's database, so runs leave nothing behind.
async fn drop_database(adapter: MongodbAdapter) {
    adapter
        .database()
        .drop()
        .await
        .unwrap_or_else(|e| panic!("cannot drop the test database: {e}"));
}

adapter_conformance::conformance_tests!(adapter, teardown = drop_database);

//! The whole conformance suite against `MONGODB_URL` (or a `mongo:7`
//! replica-set container when a Docker engine answers), each case in a
//! database of its own: once with transactions (the test server reports a
//! replica set) and once on the standalone path (`transactions(false)`).

use std::time::Duration;

use adapter_conformance::servers::{self, Server};
use adapter_mongodb::{MongoOptions, MongodbAdapter};

/// A new client (pool of 8) on database `database`, not migrated.
async fn connect(database: &str, transactions: bool) -> MongodbAdapter {
    let url = servers::url(Server::Mongodb).await;
    let options = MongoOptions::from_url(&url)
        .unwrap_or_else(|e| panic!("MONGODB_URL is not a MongoDB connection string: {e}"))
        .namespace(database)
        .pool_size(8)
        .transactions(transactions)
        // The test server (SecantusDB, in Python) serves the whole suite at
        // once on a 2-core machine: give each call far more than the 10 s
        // default, and server selection the driver's 30 s. The limits
        // themselves are tested in tests/hardening.rs.
        .operation_timeout(Duration::from_secs(90))
        .server_selection_timeout(Duration::from_secs(30));
    MongodbAdapter::connect_with(options)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to MONGODB_URL: {e}"))
}

async fn adapter(transactions: bool) -> MongodbAdapter {
    let adapter = connect(&servers::unique_namespace("mg"), transactions).await;
    adapter
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("cannot migrate on the server at MONGODB_URL: {e}"));
    adapter
}

/// One new instance (its own client) on the database named `namespace`,
/// migrated: the suite runs 8 of these at once on one fresh database.
async fn migrated(
    namespace: String,
    transactions: bool,
) -> Result<MongodbAdapter, auth_core::AdapterError> {
    let adapter = connect(&namespace, transactions).await;
    adapter.migrate().await?;
    Ok(adapter)
}

/// Drops the case's database, so runs leave nothing behind.
async fn drop_namespace(adapter: MongodbAdapter) {
    adapter
        .drop_namespace()
        .await
        .unwrap_or_else(|e| panic!("cannot drop the test database: {e}"));
}

/// Multi-document writes in transactions (claims on the user document).
mod with_transactions {
    use adapter_mongodb::MongodbAdapter;

    async fn adapter() -> MongodbAdapter {
        super::adapter(true).await
    }

    async fn migrated(namespace: String) -> Result<MongodbAdapter, auth_core::AdapterError> {
        super::migrated(namespace, true).await
    }

    adapter_conformance::conformance_tests!(
        adapter,
        teardown = super::drop_namespace,
        migrate = migrated
    );
}

/// The path of a standalone server: write, check again, undo.
mod without_transactions {
    use adapter_mongodb::MongodbAdapter;

    async fn adapter() -> MongodbAdapter {
        super::adapter(false).await
    }

    async fn migrated(namespace: String) -> Result<MongodbAdapter, auth_core::AdapterError> {
        super::migrated(namespace, false).await
    }

    adapter_conformance::conformance_tests!(
        adapter,
        teardown = super::drop_namespace,
        migrate = migrated
    );
}

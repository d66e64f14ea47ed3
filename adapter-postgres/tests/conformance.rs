//! The whole conformance suite against `POSTGRES_URL`, each case in a schema
//! of its own.

use adapter_conformance::servers::{Server, unique_namespace, url};
use adapter_postgres::{PostgresAdapter, PostgresOptions};
use auth_core::AdapterError;

async fn adapter() -> PostgresAdapter {
    migrated(unique_namespace("authpg"))
        .await
        .expect("connect to PostgreSQL and migrate")
}

/// One new adapter instance (a pool of its own) on the schema `namespace`,
/// migrated: what a process starting up does. The suite runs 8 at once on one
/// fresh schema.
async fn migrated(namespace: String) -> Result<PostgresAdapter, AdapterError> {
    let url = url(Server::Postgres).await;
    let options = PostgresOptions::from_url(&url)?
        .namespace(namespace)
        .pool_size(5);
    let adapter = PostgresAdapter::connect_with(options).await?;
    adapter.migrate().await?;
    Ok(adapter)
}

/// Drops the case's schema, so runs leave nothing behind.
async fn drop_namespace(adapter: PostgresAdapter) {
    adapter
        .drop_namespace()
        .await
        .expect("drop the test schema");
}

adapter_conformance::conformance_tests!(adapter, teardown = drop_namespace, migrate = migrated);

//! The whole conformance suite against `POSTGRES_URL`, each case in a schema
//! of its own.

use adapter_conformance::servers::{Server, unique_namespace, url};
use adapter_postgres::sqlx::{self, AssertSqlSafe};
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
    let options = PostgresOptions::new(&url)?
        .schema(namespace)
        .max_connections(5);
    let adapter = PostgresAdapter::with_options(options).await?;
    adapter.migrate().await?;
    Ok(adapter)
}

/// Drops the case's schema, so runs leave nothing behind.
async fn drop_schema(adapter: PostgresAdapter) {
    let schema = adapter
        .schema()
        .expect("the factory sets a schema")
        .to_owned();
    let sql = format!("DROP SCHEMA \"{}\" CASCADE", schema.replace('"', "\"\""));
    sqlx::query(AssertSqlSafe(sql))
        .execute(adapter.pool())
        .await
        .expect("drop the test schema");
    adapter.pool().close().await;
}

adapter_conformance::conformance_tests!(adapter, teardown = drop_schema, migrate = migrated);

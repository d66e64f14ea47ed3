//! The whole conformance suite against `POSTGRES_URL`, each case in a schema
//! of its own.

use adapter_conformance::servers::{Server, unique_namespace, url};
use adapter_postgres::sqlx::{self, AssertSqlSafe};
use adapter_postgres::{PostgresAdapter, PostgresOptions};

async fn adapter() -> PostgresAdapter {
    let url = url(Server::Postgres).await;
    let options = PostgresOptions::new(&url)
        .expect("a PostgreSQL URL")
        .schema(unique_namespace("authpg"))
        .max_connections(5);
    let adapter = PostgresAdapter::with_options(options)
        .await
        .expect("connect to PostgreSQL");
    adapter.migrate().await.expect("migrate");
    adapter
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

adapter_conformance::conformance_tests!(adapter, teardown = drop_schema);

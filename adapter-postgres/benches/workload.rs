//! The BENCH.md workload on PostgreSQL, in a fresh schema that is dropped
//! afterwards:
//! `cargo bench -p adapter-postgres [-- --users N --ops N --concurrency C --url URL]`.
//! The URL defaults to `POSTGRES_URL` (or a test container when Docker runs).

use std::sync::Arc;

use adapter_conformance::bench::{self, BenchConfig, RawLookup};
use adapter_conformance::servers::{Server, unique_namespace, url};
use adapter_postgres::sqlx::{self, AssertSqlSafe};
use adapter_postgres::{PostgresAdapter, PostgresOptions};

#[tokio::main]
async fn main() {
    let config = BenchConfig::from_args("POSTGRES_URL");
    let url = match &config.url {
        Some(url) => url.clone(),
        None => url(Server::Postgres).await,
    };
    let schema = unique_namespace("bench_pg");
    let options = PostgresOptions::new(&url)
        .expect("a PostgreSQL URL")
        .schema(&schema)
        .max_connections(16);
    let adapter = Arc::new(
        PostgresAdapter::with_options(options)
            .await
            .expect("connect to PostgreSQL"),
    );
    adapter.migrate().await.expect("migrate");

    // The ceiling: one prepared statement fetching a session row by its
    // unique token, on the same pool.
    let pool = adapter.pool().clone();
    let raw_lookup: RawLookup = Arc::new(move |token: String| {
        let pool = pool.clone();
        Box::pin(async move {
            sqlx::query(
                r#"SELECT "sessionToken", "userId", "expires" FROM "Session" WHERE "sessionToken" = $1"#,
            )
            .bind(token)
            .fetch_optional(&pool)
            .await
            .expect("the raw lookup succeeded")
            .is_some()
        })
    });
    bench::run("postgres", adapter.clone(), &config, raw_lookup).await;

    let drop = format!("DROP SCHEMA \"{schema}\" CASCADE");
    if let Err(e) = sqlx::query(AssertSqlSafe(drop))
        .execute(adapter.pool())
        .await
    {
        eprintln!("could not drop the bench schema {schema}: {e}");
    }
}

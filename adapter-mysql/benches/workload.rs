//! The BENCH.md workload on MySQL / MariaDB:
//! `cargo bench -p adapter-mysql [-- --users N --ops N --concurrency C --url mysql://...]`.
//! The URL defaults to `MYSQL_URL`; the data goes to a fresh database, dropped afterwards.

use std::sync::Arc;

use adapter_conformance::bench::{self, BenchConfig, RawLookup};
use adapter_conformance::servers::unique_namespace;
use adapter_mysql::sqlx::{self, AssertSqlSafe, Executor};
use adapter_mysql::{MysqlAdapter, MysqlOptions};

#[tokio::main]
async fn main() {
    let config = BenchConfig::from_args("MYSQL_URL");
    let url = config
        .url
        .clone()
        .expect("set MYSQL_URL or pass --url mysql://user@host:3306/db");
    let database = unique_namespace("bench_mysql");
    let options = MysqlOptions::from_url(&url)
        .expect("a MySQL URL")
        .database(&database)
        .create_database_if_missing(true)
        .max_connections(16);
    let adapter = Arc::new(MysqlAdapter::connect_with(options).await.expect("connect"));
    adapter.migrate().await.expect("migrate");

    // The ceiling: one prepared statement by the unique key, nothing else.
    let pool = adapter.pool().clone();
    let raw_lookup: RawLookup = Arc::new(move |token: String| {
        let pool = pool.clone();
        Box::pin(async move {
            sqlx::query(
                "SELECT `sessionToken`, `userId`, `expires` FROM `Session` WHERE `sessionToken` = ?",
            )
            .bind(token)
            .fetch_optional(&pool)
            .await
            .expect("the lookup succeeded")
            .is_some()
        })
    });
    bench::run("mysql", adapter.clone(), &config, raw_lookup).await;

    let drop = format!("DROP DATABASE IF EXISTS `{database}`");
    adapter
        .pool()
        .execute(AssertSqlSafe(drop))
        .await
        .expect("drop the bench database");
}

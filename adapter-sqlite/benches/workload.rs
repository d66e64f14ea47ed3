//! The BENCH.md workload on an SQLite file:
//! `cargo bench -p adapter-sqlite [-- --users N --ops N --concurrency C --url sqlite://path]`.
//! Without `--url` (or `SQLITE_URL`) it uses a fresh file in the target directory.

use std::sync::Arc;

use adapter_conformance::bench::{self, BenchConfig, RawLookup};
use adapter_sqlite::{SqliteAdapter, SqliteOptions};

#[tokio::main]
async fn main() {
    let config = BenchConfig::from_args("SQLITE_URL");
    let scratch = std::env::temp_dir().join(format!(
        "{}.db",
        adapter_conformance::servers::unique_namespace("bench_sqlite")
    ));
    let options = match &config.url {
        Some(url) => SqliteOptions::from_url(url).expect("a sqlite URL"),
        None => SqliteOptions::file(&scratch),
    }
    .pool_size(16);
    let adapter = Arc::new(SqliteAdapter::with_options(options).await.expect("open"));
    adapter.migrate().await.expect("migrate");

    let pool = adapter.pool().clone();
    let raw_lookup: RawLookup = Arc::new(move |token: String| {
        let pool = pool.clone();
        Box::pin(async move {
            let conn = pool.get().await.expect("a pooled connection");
            conn.interact(move |conn| {
                conn.prepare_cached(
                    r#"SELECT "sessionToken", "userId", "expires" FROM "Session" WHERE "sessionToken" = ?1"#,
                )?
                .query_row([token], |row| row.get::<_, String>(0))
                .map(|_| true)
            })
            .await
            .expect("the lookup ran")
            .expect("the lookup succeeded")
        })
    });
    bench::run("sqlite", adapter, &config, raw_lookup).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", scratch.display()));
    }
}

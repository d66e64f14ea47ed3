//! The benchmark workload (`docs/workload.md`) on an SQLite file:
//! `cargo bench -p adapter-sqlite [-- --users N --ops N --concurrency C --url sqlite://path]`.
//! Without `--url` (or `SQLITE_URL`) it uses a fresh file in the temporary directory.

use std::sync::Arc;

use adapter_bench::{self as bench, BenchConfig, BulkSeed, RawLookup, SeedUser};
use adapter_sqlite::{SqliteAdapter, SqliteOptions};
use auth_core::AdapterError;
use auth_core::timestamp::format_iso;
use deadpool_sqlite::Object;
use rusqlite::{TransactionBehavior, params};
use tokio::sync::Mutex;

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
    let adapter = Arc::new(SqliteAdapter::connect_with(options).await.expect("open"));
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
    // SQLite has one writer: the batches go one after the other through one
    // connection (so its page cache stays warm), instead of waiting on each
    // other's locks inside SQLite, which can outlast the busy timeout.
    let writer = adapter.pool().get().await.expect("a connection");
    // Random tokens and ids land all over the indexes: give the seeding
    // connection a page cache (256 MiB) that holds them.
    writer
        .interact(|conn| conn.pragma_update(None, "cache_size", -262_144))
        .await
        .expect("the pragma ran")
        .expect("set cache_size");
    let writer = Arc::new(Mutex::new(writer));
    let seed: BulkSeed = Arc::new(move |batch| {
        let writer = writer.clone();
        Box::pin(async move { seed(&*writer.lock().await, batch).await })
    });
    bench::run_bulk_seeded("sqlite", adapter, &config, raw_lookup, seed).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", scratch.display()));
    }
}

/// The bulk path: one transaction per batch with three prepared `INSERT`s,
/// instead of one implicit transaction (one WAL commit) per record.
async fn seed(conn: &Object, batch: Vec<SeedUser>) -> Result<Vec<String>, AdapterError> {
    conn.interact(move |conn| {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut ids = Vec::with_capacity(batch.len());
        {
            let mut user = tx.prepare_cached(
                r#"INSERT INTO "User" ("id", "name", "email") VALUES (?1, ?2, ?3)"#,
            )?;
            let mut account = tx.prepare_cached(
                r#"INSERT INTO "Account" ("userId", "type", "provider", "providerAccountId",
                                          "access_token", "token_type", "scope")
                   VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"#,
            )?;
            let mut session = tx.prepare_cached(
                r#"INSERT INTO "Session" ("sessionToken", "userId", "expires") VALUES (?1, ?2, ?3)"#,
            )?;
            for r in &batch {
                let id = uuid::Uuid::new_v4().to_string();
                user.execute(params![id, r.user.name, r.user.email])?;
                let a = &r.account;
                account.execute(params![
                    id,
                    a.account_type.as_str(),
                    a.provider,
                    a.provider_account_id,
                    a.access_token,
                    a.token_type,
                    a.scope
                ])?;
                let expires = format_iso("expires", r.session.expires)
                    .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))?;
                session.execute(params![r.session.session_token, id, expires])?;
                ids.push(id);
            }
        }
        tx.commit()?;
        Ok::<_, rusqlite::Error>(ids)
    })
    .await
    .map_err(|e| AdapterError::backend(e.to_string()))?
    .map_err(AdapterError::backend)
}

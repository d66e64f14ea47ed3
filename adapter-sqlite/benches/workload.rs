//! The benchmark workload (`docs/workload.md`) on an SQLite file:
//! `cargo bench -p adapter-sqlite [-- --users N --ops N --concurrency C --url sqlite://path]`.
//! Without `--url` (or `SQLITE_URL`) it uses a fresh file in the temporary directory.

use std::sync::Arc;

use adapter_bench::{self as bench, BenchConfig, BulkSeed, Call, Ceiling, SeedUser};
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

    let ceiling = ceiling(adapter.path().expect("a database file").to_path_buf()).await;
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
    bench::run_bulk_seeded("sqlite", adapter, &config, ceiling, seed).await;
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", scratch.display()));
    }
}

// The work of each operation as the adapter does it for the default layout
// (adapter-sqlite/src/lib.rs), with a plain comparison of the stored ISO
// text for expiry.
const GET_SESSION_AND_USER: &str = r#"SELECT s."sessionToken", s."userId", s."expires",
       u."id", u."name", u."email", u."emailVerified", u."image"
  FROM "Session" s JOIN "User" u ON u."id" = s."userId"
  WHERE s."sessionToken" = ?1 AND s."expires" > ?2"#;
const GET_USER_BY_ACCOUNT: &str = r#"SELECT u."id", u."name", u."email", u."emailVerified", u."image"
  FROM "Account" a JOIN "User" u ON u."id" = a."userId"
  WHERE a."provider" = ?1 AND a."providerAccountId" = ?2"#;
const UPDATE_SESSION: &str = r#"UPDATE "Session" SET "expires" = ?2
  WHERE "sessionToken" = ?1 AND "expires" > ?3
  RETURNING "sessionToken", "userId", "expires""#;
const CREATE_SESSION: &str =
    r#"INSERT INTO "Session" ("sessionToken", "userId", "expires") VALUES (?1, ?2, ?3)"#;
const USE_TOKEN: &str = r#"DELETE FROM "VerificationToken" WHERE "identifier" = ?1 AND "token" = ?2
  RETURNING "identifier", "token", "expires", "expires" > ?3"#;

/// Bare rusqlite, best configured for SQLite: reads on a deadpool-sqlite
/// pool of 16 WAL connections, writes on one dedicated connection in turn
/// (SQLite has one writer; taking turns in the process avoids its busy
/// handler's sleeps).
async fn ceiling(path: std::path::PathBuf) -> Ceiling {
    use deadpool_sqlite::{Hook, HookError};
    // 16 readers and the writer.
    let pool = deadpool_sqlite::Config::new(&path)
        .builder(deadpool_sqlite::Runtime::Tokio1)
        .expect("a pool builder")
        .max_size(17)
        .post_create(Hook::async_fn(|conn, _| {
            Box::pin(async move {
                conn.interact(|conn| {
                    conn.pragma_update(None, "busy_timeout", 5_000)?;
                    conn.pragma_update(None, "journal_mode", "WAL")?;
                    conn.pragma_update(None, "synchronous", "NORMAL")?;
                    conn.pragma_update(None, "foreign_keys", "ON")
                })
                .await
                .map_err(|e| HookError::message(e.to_string()))?
                .map_err(HookError::Backend)
            })
        }))
        .build()
        .expect("a bare rusqlite pool");
    let writer = Arc::new(Mutex::new(pool.get().await.expect("a writer connection")));
    let readers = pool;
    Ceiling::new(Arc::new(move |call| {
        let (readers, writer) = (readers.clone(), writer.clone());
        Box::pin(async move {
            let now = format_iso("now", time::OffsetDateTime::now_utc()).expect("now");
            let read = |sql: &'static str, a: String, b: String| async move {
                let conn = readers.get().await.expect("a pooled connection");
                conn.interact(move |conn| {
                    conn.prepare_cached(sql)?
                        .query([a, b])?
                        .next()
                        .map(|row| row.is_some())
                })
                .await
                .expect("the read ran")
                .expect("the read")
            };
            match call {
                Call::GetSessionAndUser { session_token } => {
                    read(GET_SESSION_AND_USER, session_token, now).await
                }
                Call::GetUserByAccount {
                    provider,
                    provider_account_id,
                } => read(GET_USER_BY_ACCOUNT, provider, provider_account_id).await,
                write => {
                    let conn = writer.lock().await;
                    conn.interact(move |conn| -> rusqlite::Result<bool> {
                        let iso = |t| {
                            format_iso("expires", t)
                                .map_err(|e| rusqlite::Error::ToSqlConversionFailure(e.into()))
                        };
                        match write {
                            Call::UpdateSession {
                                session_token,
                                expires,
                            } => conn
                                .prepare_cached(UPDATE_SESSION)?
                                .query(params![session_token, iso(expires)?, now])?
                                .next()
                                .map(|row| row.is_some()),
                            Call::CreateSession(s) => conn
                                .prepare_cached(CREATE_SESSION)?
                                .execute(params![s.session_token, s.user_id, iso(s.expires)?])
                                .map(|n| n == 1),
                            Call::UseVerificationToken { identifier, token } => conn
                                .prepare_cached(USE_TOKEN)?
                                .query(params![identifier, token, now])?
                                .next()
                                .map(|row| row.is_some()),
                            read => unreachable!("{} is a read", read.op()),
                        }
                    })
                    .await
                    .expect("the write ran")
                    .expect("the write")
                }
            }
        })
    }))
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

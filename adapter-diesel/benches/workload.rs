//! The benchmark workload (`docs/workload.md`) through the Diesel adapter,
//! on any of its three backends:
//!
//! ```text
//! cargo bench -p adapter-diesel -- [--users N --ops N --concurrency C] [--url URL]
//! ```
//!
//! The URL's scheme picks the backend, and the rows are named after it:
//! `diesel-postgres` (`postgres://...`, in a fresh schema dropped
//! afterwards), `diesel-mysql` (`mysql://...`, in a fresh database dropped
//! afterwards), `diesel-sqlite` (`sqlite://path`). Without `--url` (or
//! `DIESEL_URL`) it runs on a fresh SQLite file in the temporary directory.
//! `scripts/bench.sh` runs all three as backends `diesel-sqlite`,
//! `diesel-postgres` and `diesel-mysql`.

use std::sync::Arc;

use adapter_bench::{self as bench, BenchConfig, BulkSeed, Ceiling, RawLookup, SeedUser};
use adapter_conformance::servers::unique_namespace;
use adapter_diesel::diesel;
use adapter_diesel::diesel::prelude::*;
use adapter_diesel::diesel_async::{AsyncConnection, RunQueryDsl};
use adapter_diesel::schema::{Instant, accounts, sessions, users};
use adapter_diesel::{Backend, DieselAdapter, DieselOptions, DieselPool};
use auth_core::AdapterError;
use auth_core::timestamp::truncate_to_millis;

#[tokio::main]
async fn main() {
    let config = BenchConfig::from_args("DIESEL_URL");
    let scratch = std::env::temp_dir().join(format!("{}.db", unique_namespace("bench_diesel")));
    let options = match &config.url {
        Some(url) => DieselOptions::from_url(url).expect("a postgres://, mysql:// or sqlite: URL"),
        None => DieselOptions::sqlite(&scratch),
    };
    let backend = options.backend();
    let name = match backend {
        Backend::Postgres => "diesel-postgres",
        Backend::Mysql => "diesel-mysql",
        Backend::Sqlite => "diesel-sqlite",
    };
    let options = match backend {
        Backend::Postgres => options.namespace(unique_namespace("bench_dpg")),
        Backend::Mysql => options
            .namespace(unique_namespace("bench_dmy"))
            .create_database_if_missing(true),
        Backend::Sqlite => options,
    }
    .pool_size(16);
    let adapter = Arc::new(DieselAdapter::connect_with(options).await.expect("connect"));
    adapter.migrate().await.expect("migrate");

    // The ceiling: one typed query fetching a session row by its unique
    // token, on the same pool.
    let pool = adapter.pool().clone();
    let raw_lookup: RawLookup = Arc::new(move |token: String| {
        let pool = pool.clone();
        Box::pin(async move { raw_lookup(&pool, &token).await })
    });
    // SQLite has one writer: its batches go one after the other instead of
    // waiting on each other's locks inside SQLite.
    let writer = Arc::new(tokio::sync::Mutex::new(()));
    let pool = adapter.pool().clone();
    let seed: BulkSeed = Arc::new(move |batch| {
        let (pool, writer) = (pool.clone(), writer.clone());
        Box::pin(async move {
            let _turn = match pool.backend() {
                Backend::Sqlite => Some(writer.lock().await),
                _ => None,
            };
            seed(&pool, batch).await
        })
    });
    // Only the session lookup has a ceiling here, on Diesel's own connection;
    // the bare clients of each database are in the sqlx/tokio-postgres benches.
    let ceiling = Ceiling::lookup_only(raw_lookup);
    bench::run_bulk_seeded(name, adapter.clone(), &config, ceiling, seed).await;

    let namespace = adapter.namespace().to_owned();
    // A SQLite file named on the command line is kept.
    if (config.url.is_none() || backend != Backend::Sqlite)
        && let Err(e) = DieselAdapter::clone(&adapter).drop_namespace().await
    {
        eprintln!("could not drop the bench namespace {namespace}: {e}");
    }
}

/// Runs `$body` with `$conn` bound to a pooled connection of `$pool`'s
/// backend: one copy of the code per connection type.
macro_rules! with_pooled {
    ($pool:expr, |$conn:ident| $body:expr) => {
        match $pool {
            DieselPool::Postgres(pool) => {
                let mut held = pool.get().await.expect("a pooled connection");
                let $conn = &mut *held;
                $body
            }
            DieselPool::Mysql(pool) => {
                let mut held = pool.get().await.expect("a pooled connection");
                let $conn = &mut *held;
                $body
            }
            DieselPool::Sqlite(pool) => {
                let mut held = pool.get().await.expect("a pooled connection");
                let $conn = &mut *held;
                $body
            }
        }
    };
}

async fn raw_lookup(pool: &DieselPool, token: &str) -> bool {
    let row: Option<(String, String, Instant)> = with_pooled!(pool, |conn| sessions::table
        .filter(sessions::session_token.eq(token))
        .select((
            sessions::session_token,
            sessions::user_id,
            sessions::expires
        ))
        .first(conn)
        .await
        .optional())
    .expect("the raw lookup succeeded");
    row.is_some()
}

#[derive(Insertable)]
#[diesel(table_name = users)]
struct SeedUserRow<'a> {
    id: &'a str,
    name: &'a str,
    email: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = accounts)]
struct SeedAccountRow<'a> {
    user_id: &'a str,
    account_type: &'a str,
    provider: &'a str,
    provider_account_id: &'a str,
    access_token: &'a str,
    token_type: &'a str,
    scope: &'a str,
}

#[derive(Insertable)]
#[diesel(table_name = sessions)]
struct SeedSessionRow<'a> {
    session_token: &'a str,
    user_id: &'a str,
    expires: Instant,
}

/// The bulk path: one transaction per batch with three multi-row `INSERT`s,
/// built by Diesel's query builder.
async fn seed(pool: &DieselPool, batch: Vec<SeedUser>) -> Result<Vec<String>, AdapterError> {
    let ids: Vec<String> = batch.iter().map(|_| auth_core::new_id()).collect();
    let text = |v: &Option<String>| v.as_deref().unwrap_or_default().to_owned();
    let user_rows: Vec<_> = batch
        .iter()
        .zip(&ids)
        .map(|(r, id)| (id.as_str(), text(&r.user.name), text(&r.user.email)))
        .collect();
    let users_in: Vec<SeedUserRow<'_>> = user_rows
        .iter()
        .map(|(id, name, email)| SeedUserRow { id, name, email })
        .collect();
    let account_rows: Vec<_> = batch
        .iter()
        .map(|r| {
            let a = &r.account;
            (text(&a.access_token), text(&a.token_type), text(&a.scope))
        })
        .collect();
    let accounts_in: Vec<SeedAccountRow<'_>> = batch
        .iter()
        .zip(&ids)
        .zip(&account_rows)
        .map(
            |((r, id), (access_token, token_type, scope))| SeedAccountRow {
                user_id: id,
                account_type: r.account.account_type.as_str(),
                provider: &r.account.provider,
                provider_account_id: &r.account.provider_account_id,
                access_token,
                token_type,
                scope,
            },
        )
        .collect();
    let sessions_in: Vec<SeedSessionRow<'_>> = batch
        .iter()
        .zip(&ids)
        .map(|(r, id)| SeedSessionRow {
            session_token: &r.session.session_token,
            user_id: id,
            expires: Instant(truncate_to_millis(r.session.expires)),
        })
        .collect();
    let (users_in, accounts_in, sessions_in) = (&users_in, &accounts_in, &sessions_in);
    // PostgreSQL and MySQL take each table's batch as one multi-row
    // `INSERT`; SQLite one `INSERT` per row (Diesel's SQLite batch insert
    // wants owned rows), all in one transaction, where each costs no sync.
    macro_rules! insert {
        ($conn:ident, $table:expr, $rows:expr, multi_row) => {
            diesel::insert_into($table)
                .values($rows)
                .execute($conn)
                .await?;
        };
        ($conn:ident, $table:expr, $rows:expr, row_by_row) => {
            for row in $rows {
                diesel::insert_into($table)
                    .values(row)
                    .execute($conn)
                    .await?;
            }
        };
    }
    macro_rules! seed_on {
        ($pool:expr, $mode:ident) => {{
            let mut held = $pool.get().await.map_err(AdapterError::backend)?;
            held.transaction::<_, diesel::result::Error, _>(async |conn| {
                insert!(conn, users::table, users_in, $mode);
                insert!(conn, accounts::table, accounts_in, $mode);
                insert!(conn, sessions::table, sessions_in, $mode);
                Ok(())
            })
            .await
        }};
    }
    match pool {
        DieselPool::Postgres(pool) => seed_on!(pool, multi_row),
        DieselPool::Mysql(pool) => seed_on!(pool, multi_row),
        DieselPool::Sqlite(pool) => seed_on!(pool, row_by_row),
    }
    .map_err(|e| AdapterError::backend(e.to_string()))?;
    Ok(ids)
}

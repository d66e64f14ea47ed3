//! The benchmark workload (`docs/workload.md`) on MySQL / MariaDB:
//! `cargo bench -p adapter-mysql [-- --users N --ops N --concurrency C --url mysql://...]`.
//! The URL defaults to `MYSQL_URL`; the data goes to a fresh database, dropped afterwards.

use std::sync::Arc;

use adapter_bench::{self as bench, BenchConfig, BulkSeed, RawLookup, SeedUser};
use adapter_conformance::servers::unique_namespace;
use adapter_mysql::sqlx::{self, MySql, MySqlPool, QueryBuilder};
use adapter_mysql::{MysqlAdapter, MysqlOptions};
use auth_core::AdapterError;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

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
        .namespace(&database)
        .create_database_if_missing(true)
        .pool_size(16);
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
    let pool = adapter.pool().clone();
    let seed: BulkSeed = Arc::new(move |batch| Box::pin(seed(pool.clone(), batch)));
    bench::run_bulk_seeded("mysql", adapter.clone(), &config, raw_lookup, seed).await;

    MysqlAdapter::clone(&adapter)
        .drop_namespace()
        .await
        .expect("drop the bench database");
}

/// The bulk path: one transaction per batch, one multi-row `INSERT` per table.
async fn seed(pool: MySqlPool, batch: Vec<SeedUser>) -> Result<Vec<String>, AdapterError> {
    let ids: Vec<String> = batch.iter().map(|_| auth_core::new_id()).collect();
    let rows = || ids.iter().zip(&batch);
    let mut tx = pool.begin().await.map_err(AdapterError::backend)?;

    let mut users = QueryBuilder::<MySql>::new("INSERT INTO `User` (`id`, `name`, `email`) ");
    users.push_values(rows(), |mut b, (id, r)| {
        b.push_bind(id)
            .push_bind(&r.user.name)
            .push_bind(&r.user.email);
    });
    users
        .build()
        .execute(&mut *tx)
        .await
        .map_err(AdapterError::backend)?;

    let mut accounts = QueryBuilder::<MySql>::new(
        "INSERT INTO `Account` (`userId`, `type`, `provider`, `providerAccountId`, \
         `access_token`, `token_type`, `scope`) ",
    );
    accounts.push_values(rows(), |mut b, (id, r)| {
        let a = &r.account;
        b.push_bind(id)
            .push_bind(a.account_type.as_str())
            .push_bind(&a.provider)
            .push_bind(&a.provider_account_id)
            .push_bind(&a.access_token)
            .push_bind(&a.token_type)
            .push_bind(&a.scope);
    });
    accounts
        .build()
        .execute(&mut *tx)
        .await
        .map_err(AdapterError::backend)?;

    let mut sessions =
        QueryBuilder::<MySql>::new("INSERT INTO `Session` (`sessionToken`, `userId`, `expires`) ");
    sessions.push_values(rows(), |mut b, (id, r)| {
        b.push_bind(&r.session.session_token)
            .push_bind(id)
            .push_bind(utc(r.session.expires));
    });
    sessions
        .build()
        .execute(&mut *tx)
        .await
        .map_err(AdapterError::backend)?;

    tx.commit().await.map_err(AdapterError::backend)?;
    Ok(ids)
}

/// `DATETIME(3)` holds UTC wall-clock time, as the adapter stores it.
fn utc(instant: OffsetDateTime) -> PrimitiveDateTime {
    let utc = instant.to_offset(UtcOffset::UTC);
    PrimitiveDateTime::new(utc.date(), utc.time())
}

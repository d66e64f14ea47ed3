//! The benchmark workload (`docs/workload.md`) on PostgreSQL, in a fresh schema that is dropped
//! afterwards:
//! `cargo bench -p adapter-postgres [-- --users N --ops N --concurrency C --url URL]`.
//! The URL defaults to `POSTGRES_URL` (or a test container when Docker runs).

use std::sync::Arc;

use adapter_bench::{self as bench, BenchConfig, BulkSeed, RawLookup, SeedUser};
use adapter_conformance::servers::{Server, unique_namespace, url};
use adapter_postgres::sqlx::{self, PgPool};
use adapter_postgres::{PostgresAdapter, PostgresOptions};
use auth_core::AdapterError;
use time::OffsetDateTime;

#[tokio::main]
async fn main() {
    let config = BenchConfig::from_args("POSTGRES_URL");
    let url = match &config.url {
        Some(url) => url.clone(),
        None => url(Server::Postgres).await,
    };
    let schema = unique_namespace("bench_pg");
    let options = PostgresOptions::from_url(&url)
        .expect("a PostgreSQL URL")
        .namespace(&schema)
        .pool_size(16);
    let adapter = Arc::new(
        PostgresAdapter::connect_with(options)
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
    let pool = adapter.pool().clone();
    let seed: BulkSeed = Arc::new(move |batch| Box::pin(seed(pool.clone(), batch)));
    bench::run_bulk_seeded("postgres", adapter.clone(), &config, raw_lookup, seed).await;

    if let Err(e) = PostgresAdapter::clone(&adapter).drop_namespace().await {
        eprintln!("could not drop the bench schema {schema}: {e}");
    }
}

/// The bulk path: one transaction per batch, three `INSERT ... SELECT FROM
/// UNNEST(...)` statements that each take whole columns as array parameters.
async fn seed(pool: PgPool, batch: Vec<SeedUser>) -> Result<Vec<String>, AdapterError> {
    let ids: Vec<String> = batch
        .iter()
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    let column = |f: fn(&SeedUser) -> Option<String>| batch.iter().map(f).collect::<Vec<_>>();
    let mut tx = pool.begin().await.map_err(AdapterError::backend)?;
    sqlx::query(
        r#"INSERT INTO "User" ("id", "name", "email")
           SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[])"#,
    )
    .bind(&ids)
    .bind(column(|r| r.user.name.clone()))
    .bind(column(|r| r.user.email.clone()))
    .execute(&mut *tx)
    .await
    .map_err(AdapterError::backend)?;
    sqlx::query(
        r#"INSERT INTO "Account" ("userId", "type", "provider", "providerAccountId",
                                  "access_token", "token_type", "scope")
           SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[],
                                $5::text[], $6::text[], $7::text[])"#,
    )
    .bind(&ids)
    .bind(column(|r| Some(r.account.account_type.as_str().to_owned())))
    .bind(column(|r| Some(r.account.provider.clone())))
    .bind(column(|r| Some(r.account.provider_account_id.clone())))
    .bind(column(|r| r.account.access_token.clone()))
    .bind(column(|r| r.account.token_type.clone()))
    .bind(column(|r| r.account.scope.clone()))
    .execute(&mut *tx)
    .await
    .map_err(AdapterError::backend)?;
    sqlx::query(
        r#"INSERT INTO "Session" ("sessionToken", "userId", "expires")
           SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[])"#,
    )
    .bind(column(|r| Some(r.session.session_token.clone())))
    .bind(&ids)
    .bind(
        batch
            .iter()
            .map(|r| r.session.expires)
            .collect::<Vec<OffsetDateTime>>(),
    )
    .execute(&mut *tx)
    .await
    .map_err(AdapterError::backend)?;
    tx.commit().await.map_err(AdapterError::backend)?;
    Ok(ids)
}

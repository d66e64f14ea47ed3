//! The benchmark workload (`docs/workload.md`) on PostgreSQL, in a fresh schema that is dropped
//! afterwards:
//! `cargo bench -p adapter-postgres [-- --users N --ops N --concurrency C --url URL]`.
//! The URL defaults to `POSTGRES_URL` (or a test container when Docker runs).
//!
//! The ceiling is bare tokio-postgres on its own deadpool-postgres pool of 16
//! (no test query on checkout, the pool's per-connection statement cache):
//! the adapter's own statements for the default layout, without the adapter.

use std::sync::Arc;

use adapter_bench::{self as bench, BenchConfig, BulkSeed, Call, Ceiling, SeedUser};
use adapter_conformance::servers::{Server, unique_namespace, url};
use adapter_postgres::deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use adapter_postgres::tokio_postgres::{self, NoTls};
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
    // The adapter and the ceiling connect alike: without an `sslmode` in the
    // URL, both in plain text (a server on this host needs no TLS; the
    // adapter's default, `prefer`, would encrypt where the server offers it).
    let url = if url.contains("sslmode=") {
        url
    } else {
        let joined = format!(
            "{url}{}sslmode=disable",
            if url.contains('?') { '&' } else { '?' }
        );
        eprintln!("postgres: no sslmode in the URL; both clients use sslmode=disable");
        joined
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

    let pool = bare_pool(&url, &schema);
    let ceiling = {
        let pool = pool.clone();
        Ceiling::new(Arc::new(move |call| {
            let pool = pool.clone();
            Box::pin(async move { ceiling(&pool, call).await })
        }))
    };
    let seed: BulkSeed = Arc::new(move |batch| Box::pin(seed(pool.clone(), batch)));
    bench::run_bulk_seeded("postgres", adapter.clone(), &config, ceiling, seed).await;

    if let Err(e) = PostgresAdapter::clone(&adapter).drop_namespace().await {
        eprintln!("could not drop the bench schema {schema}: {e}");
    }
}

/// tokio-postgres on deadpool-postgres, 16 connections whose `search_path`
/// is the bench schema, handed out without a test query.
fn bare_pool(url: &str, schema: &str) -> Pool {
    let mut config: tokio_postgres::Config = url.parse().expect("a PostgreSQL URL");
    config.options(format!("-c search_path={schema}"));
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(16)
        .build()
        .expect("a bare deadpool-postgres pool")
}

// The adapter's statements for the default layout (adapter-postgres/src/tables.rs).
const GET_SESSION_AND_USER: &str = r#"SELECT s."expires", u."id", u."name", u."email",
       u."emailVerified", u."image"
  FROM "Session" s JOIN "User" u ON u."id" = s."userId"
  WHERE s."sessionToken" = $1 AND s."expires" > $2"#;
const GET_USER_BY_ACCOUNT: &str = r#"SELECT u."id", u."name", u."email", u."emailVerified", u."image"
  FROM "Account" a JOIN "User" u ON u."id" = a."userId"
  WHERE a."provider" = $1 AND a."providerAccountId" = $2"#;
const UPDATE_SESSION: &str = r#"UPDATE "Session"
  SET "expires" = COALESCE($2, "expires"), "userId" = COALESCE($3, "userId")
  WHERE "sessionToken" = $1 AND "expires" > $4
  RETURNING "sessionToken", "userId", "expires""#;
const CREATE_SESSION: &str =
    r#"INSERT INTO "Session" ("sessionToken", "userId", "expires") VALUES ($1, $2, $3)"#;
const USE_VERIFICATION_TOKEN: &str = r#"DELETE FROM "VerificationToken"
  WHERE "identifier" = $1 AND "token" = $2
  RETURNING "identifier", "token", "expires", "expires" > $3 AS "valid""#;

/// One workload call on the bare client: one prepared statement.
async fn ceiling(pool: &Pool, call: Call) -> bool {
    let client = pool.get().await.expect("a bare pooled connection");
    let now = OffsetDateTime::now_utc();
    let one = |sql: &'static str| {
        let client = &client;
        async move { client.prepare_cached(sql).await.expect("prepare") }
    };
    match call {
        Call::GetSessionAndUser { session_token } => client
            .query_opt(&one(GET_SESSION_AND_USER).await, &[&session_token, &now])
            .await
            .expect("the ceiling's lookup")
            .is_some(),
        Call::GetUserByAccount {
            provider,
            provider_account_id,
        } => client
            .query_opt(
                &one(GET_USER_BY_ACCOUNT).await,
                &[&provider, &provider_account_id],
            )
            .await
            .expect("the ceiling's lookup")
            .is_some(),
        Call::UpdateSession {
            session_token,
            expires,
        } => client
            .query_opt(
                &one(UPDATE_SESSION).await,
                &[&session_token, &Some(expires), &None::<String>, &now],
            )
            .await
            .expect("the ceiling's update")
            .is_some(),
        Call::CreateSession(s) => {
            client
                .execute(
                    &one(CREATE_SESSION).await,
                    &[&s.session_token, &s.user_id, &s.expires],
                )
                .await
                .expect("the ceiling's insert")
                == 1
        }
        Call::UseVerificationToken { identifier, token } => client
            .query_opt(
                &one(USE_VERIFICATION_TOKEN).await,
                &[&identifier, &token, &now],
            )
            .await
            .expect("the ceiling's delete")
            .is_some(),
    }
}

/// The bulk path: one transaction per batch, three `INSERT ... SELECT FROM
/// UNNEST(...)` statements that each take whole columns as array parameters.
async fn seed(pool: Pool, batch: Vec<SeedUser>) -> Result<Vec<String>, AdapterError> {
    let ids: Vec<String> = batch
        .iter()
        .map(|_| uuid::Uuid::new_v4().to_string())
        .collect();
    let column = |f: fn(&SeedUser) -> Option<String>| batch.iter().map(f).collect::<Vec<_>>();
    let mut client = pool.get().await.map_err(AdapterError::backend)?;
    let tx = client.transaction().await.map_err(AdapterError::backend)?;
    tx.execute(
        r#"INSERT INTO "User" ("id", "name", "email")
           SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[])"#,
        &[
            &ids,
            &column(|r| r.user.name.clone()),
            &column(|r| r.user.email.clone()),
        ],
    )
    .await
    .map_err(AdapterError::backend)?;
    tx.execute(
        r#"INSERT INTO "Account" ("userId", "type", "provider", "providerAccountId",
                                  "access_token", "token_type", "scope")
           SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::text[],
                                $5::text[], $6::text[], $7::text[])"#,
        &[
            &ids,
            &column(|r| Some(r.account.account_type.as_str().to_owned())),
            &column(|r| Some(r.account.provider.clone())),
            &column(|r| Some(r.account.provider_account_id.clone())),
            &column(|r| r.account.access_token.clone()),
            &column(|r| r.account.token_type.clone()),
            &column(|r| r.account.scope.clone()),
        ],
    )
    .await
    .map_err(AdapterError::backend)?;
    tx.execute(
        r#"INSERT INTO "Session" ("sessionToken", "userId", "expires")
           SELECT * FROM UNNEST($1::text[], $2::text[], $3::timestamptz[])"#,
        &[
            &column(|r| Some(r.session.session_token.clone())),
            &ids,
            &batch
                .iter()
                .map(|r| r.session.expires)
                .collect::<Vec<OffsetDateTime>>(),
        ],
    )
    .await
    .map_err(AdapterError::backend)?;
    tx.commit().await.map_err(AdapterError::backend)?;
    Ok(ids)
}

//! The benchmark workload (`docs/workload.md`) on MySQL / MariaDB:
//! `cargo bench -p adapter-mysql [-- --users N --ops N --concurrency C --url mysql://...]`.
//! The URL defaults to `MYSQL_URL`; the data goes to a fresh database, dropped afterwards.

use std::sync::Arc;

use adapter_bench::{self as bench, BenchConfig, BulkSeed, Call, Ceiling, SeedUser};
use adapter_conformance::servers::unique_namespace;
use adapter_mysql::sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use adapter_mysql::sqlx::{self, MySql, MySqlPool, QueryBuilder};
use adapter_mysql::{MysqlAdapter, MysqlOptions};
use auth_core::AdapterError;
use mysql_async::prelude::Queryable;
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

    // The ceiling: the adapter's own statements on the faster bare client,
    // on its own pool of 16. `BENCH_MYSQL_CLIENT=sqlx|mysql_async` picks
    // one; the default is the one measured faster (docs/benchmarks.md).
    let client = std::env::var("BENCH_MYSQL_CLIENT").unwrap_or_else(|_| "sqlx".into());
    let ceiling = match client.as_str() {
        "sqlx" => sqlx_ceiling(&url, &database).await,
        "mysql_async" => mysql_async_ceiling(&url, &database),
        other => panic!("BENCH_MYSQL_CLIENT={other:?}: use sqlx or mysql_async"),
    };
    eprintln!("mysql: the ceiling runs on {client}");
    let pool = adapter.pool().clone();
    let seed: BulkSeed = Arc::new(move |batch| Box::pin(seed(pool.clone(), batch)));
    bench::run_bulk_seeded("mysql", adapter.clone(), &config, ceiling, seed).await;

    MysqlAdapter::clone(&adapter)
        .drop_namespace()
        .await
        .expect("drop the bench database");
}

// The adapter's statements (adapter-mysql/src/lib.rs, default layout).
const GET_SESSION_AND_USER: &str = "SELECT s.`expires`, u.`id`, u.`name`, u.`email`, \
     u.`emailVerified`, u.`image` FROM `Session` s JOIN `User` u ON u.`id` = s.`userId` \
     WHERE s.`sessionToken` = ? AND s.`sessionToken` = CAST(? AS BINARY) AND s.`expires` > ?";
const GET_USER_BY_ACCOUNT: &str = "SELECT u.`id`, u.`name`, u.`email`, u.`emailVerified`, \
     u.`image` FROM `Account` a JOIN `User` u ON u.`id` = a.`userId` \
     WHERE a.`provider` = ? AND a.`providerAccountId` = ? \
       AND a.`provider` = CAST(? AS BINARY) AND a.`providerAccountId` = CAST(? AS BINARY)";
const FIND_SESSION: &str = "SELECT `userId`, `expires` FROM `Session` \
     WHERE `sessionToken` = ? AND `sessionToken` = CAST(? AS BINARY) \
       AND (? IS NULL OR `expires` > ?)";
const UPDATE_SESSION: &str = "UPDATE `Session` SET `userId` = ?, `expires` = ? \
     WHERE `sessionToken` = ? AND `sessionToken` = CAST(? AS BINARY) \
       AND `userId` = CAST(? AS BINARY) AND `expires` = ?";
const CREATE_SESSION: &str =
    "INSERT INTO `Session` (`sessionToken`, `userId`, `expires`) VALUES (?, ?, ?)";
const USE_TOKEN_SELECT: &str = "SELECT `expires`, `expires` > ? FROM `VerificationToken` \
     WHERE `identifier` = ? AND `token` = ? \
       AND `identifier` = CAST(? AS BINARY) AND `token` = CAST(? AS BINARY)";
const USE_TOKEN_DELETE: &str = "DELETE FROM `VerificationToken` \
     WHERE `identifier` = ? AND `token` = ? \
       AND `identifier` = CAST(? AS BINARY) AND `token` = CAST(? AS BINARY) AND `expires` = ?";

/// sqlx's `MySqlPool` without the ping before every checkout
/// (`test_before_acquire(false)`).
async fn sqlx_ceiling(url: &str, database: &str) -> Ceiling {
    let connect: MySqlConnectOptions = url.parse().expect("a MySQL URL");
    let pool = MySqlPoolOptions::new()
        .max_connections(16)
        .min_connections(16)
        .test_before_acquire(false)
        .connect_with(connect.database(database))
        .await
        .expect("a bare sqlx pool");
    Ceiling::new(Arc::new(move |call| {
        let pool = pool.clone();
        Box::pin(async move {
            let now = utc(OffsetDateTime::now_utc());
            match call {
                Call::GetSessionAndUser { session_token: t } => sqlx::query(GET_SESSION_AND_USER)
                    .bind(&t)
                    .bind(&t)
                    .bind(now)
                    .fetch_optional(&pool)
                    .await
                    .expect("the ceiling's lookup")
                    .is_some(),
                Call::GetUserByAccount {
                    provider: p,
                    provider_account_id: a,
                } => sqlx::query(GET_USER_BY_ACCOUNT)
                    .bind(&p)
                    .bind(&a)
                    .bind(&p)
                    .bind(&a)
                    .fetch_optional(&pool)
                    .await
                    .expect("the ceiling's lookup")
                    .is_some(),
                Call::UpdateSession {
                    session_token: t,
                    expires,
                } => {
                    use sqlx::Row;
                    let Some(row) = sqlx::query(FIND_SESSION)
                        .bind(&t)
                        .bind(&t)
                        .bind(now)
                        .bind(now)
                        .fetch_optional(&pool)
                        .await
                        .expect("the ceiling's read")
                    else {
                        return false;
                    };
                    let (user_id, current): (String, PrimitiveDateTime) = (row.get(0), row.get(1));
                    sqlx::query(UPDATE_SESSION)
                        .bind(&user_id)
                        .bind(utc(expires))
                        .bind(&t)
                        .bind(&t)
                        .bind(&user_id)
                        .bind(current)
                        .execute(&pool)
                        .await
                        .expect("the ceiling's update")
                        .rows_affected()
                        == 1
                }
                Call::CreateSession(s) => {
                    sqlx::query(CREATE_SESSION)
                        .bind(&s.session_token)
                        .bind(&s.user_id)
                        .bind(utc(s.expires))
                        .execute(&pool)
                        .await
                        .expect("the ceiling's insert");
                    true
                }
                Call::UseVerificationToken { identifier, token } => {
                    use sqlx::Row;
                    let Some(row) = sqlx::query(USE_TOKEN_SELECT)
                        .bind(now)
                        .bind(&identifier)
                        .bind(&token)
                        .bind(&identifier)
                        .bind(&token)
                        .fetch_optional(&pool)
                        .await
                        .expect("the ceiling's read")
                    else {
                        return false;
                    };
                    let expires: PrimitiveDateTime = row.get(0);
                    sqlx::query(USE_TOKEN_DELETE)
                        .bind(&identifier)
                        .bind(&token)
                        .bind(&identifier)
                        .bind(&token)
                        .bind(expires)
                        .execute(&pool)
                        .await
                        .expect("the ceiling's delete")
                        .rows_affected()
                        == 1
                }
            }
        })
    }))
}

/// mysql_async's own pool (16 connections, its per-connection statement
/// cache).
fn mysql_async_ceiling(url: &str, database: &str) -> Ceiling {
    let opts = mysql_async::Opts::from_url(url).expect("a MySQL URL");
    let constraints = mysql_async::PoolConstraints::new(16, 16).expect("16..=16");
    let opts = mysql_async::OptsBuilder::from_opts(opts)
        .db_name(Some(database))
        .pool_opts(mysql_async::PoolOpts::default().with_constraints(constraints));
    let pool = mysql_async::Pool::new(opts);
    Ceiling::new(Arc::new(move |call| {
        let pool = pool.clone();
        Box::pin(async move {
            let mut conn = pool
                .get_conn()
                .await
                .expect("a bare mysql_async connection");
            let now = db_text(OffsetDateTime::now_utc());
            match call {
                Call::GetSessionAndUser { session_token: t } => conn
                    .exec_first::<mysql_async::Row, _, _>(GET_SESSION_AND_USER, (&t, &t, &now))
                    .await
                    .expect("the ceiling's lookup")
                    .is_some(),
                Call::GetUserByAccount {
                    provider: p,
                    provider_account_id: a,
                } => conn
                    .exec_first::<mysql_async::Row, _, _>(GET_USER_BY_ACCOUNT, (&p, &a, &p, &a))
                    .await
                    .expect("the ceiling's lookup")
                    .is_some(),
                Call::UpdateSession {
                    session_token: t,
                    expires,
                } => {
                    let Some((user_id, current)) = conn
                        .exec_first::<(String, mysql_async::Value), _, _>(
                            FIND_SESSION,
                            (&t, &t, &now, &now),
                        )
                        .await
                        .expect("the ceiling's read")
                    else {
                        return false;
                    };
                    conn.exec_drop(
                        UPDATE_SESSION,
                        (&user_id, db_text(expires), &t, &t, &user_id, &current),
                    )
                    .await
                    .expect("the ceiling's update");
                    conn.affected_rows() == 1
                }
                Call::CreateSession(s) => {
                    conn.exec_drop(
                        CREATE_SESSION,
                        (&s.session_token, &s.user_id, db_text(s.expires)),
                    )
                    .await
                    .expect("the ceiling's insert");
                    true
                }
                Call::UseVerificationToken { identifier, token } => {
                    let Some((expires, _live)) = conn
                        .exec_first::<(mysql_async::Value, i64), _, _>(
                            USE_TOKEN_SELECT,
                            (&now, &identifier, &token, &identifier, &token),
                        )
                        .await
                        .expect("the ceiling's read")
                    else {
                        return false;
                    };
                    conn.exec_drop(
                        USE_TOKEN_DELETE,
                        (&identifier, &token, &identifier, &token, &expires),
                    )
                    .await
                    .expect("the ceiling's delete");
                    conn.affected_rows() == 1
                }
            }
        })
    }))
}

/// An instant as `DATETIME(3)` text in UTC, for mysql_async's parameters.
fn db_text(instant: OffsetDateTime) -> String {
    let t = utc(instant);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}.{:03}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
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

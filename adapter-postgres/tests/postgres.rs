//! What is special to PostgreSQL: migrations, schemas, rows written by the
//! Auth.js adapters, and the mapping of server errors.

use adapter_conformance::servers::{Server, unique_namespace, url};
use adapter_postgres::deadpool_postgres::{Manager, Pool, Runtime};
use adapter_postgres::tokio_postgres::types::{ToSql, Type};
use adapter_postgres::tokio_postgres::{self, Row};
use adapter_postgres::{MIGRATIONS_TABLE, PostgresAdapter, PostgresOptions};
use auth_core::{
    Account, AccountType, Adapter, AdapterError, Authenticator, Entity, Key, NewUser, Session,
    SessionUpdate, UserUpdate, VerificationToken,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

async fn options(schema: &str) -> PostgresOptions {
    PostgresOptions::from_url(&url(Server::Postgres).await)
        .expect("a PostgreSQL URL")
        .namespace(schema)
        .pool_size(2)
}

async fn adapter() -> PostgresAdapter {
    let adapter = PostgresAdapter::connect_with(options(&unique_namespace("authpg")).await)
        .await
        .expect("connect");
    adapter.migrate().await.expect("migrate");
    adapter
}

/// Runs `sql` on a connection of `pool` with text parameters (sent as
/// `text`, the server casts them where the SQL says), returning its rows.
async fn query(pool: &Pool, sql: &str, params: &[&str]) -> Vec<Row> {
    let client = pool.get().await.expect("a pooled connection");
    let params: Vec<(&(dyn ToSql + Sync), Type)> = params
        .iter()
        .map(|p| (p as &(dyn ToSql + Sync), Type::TEXT))
        .collect();
    client
        .query_typed(sql, &params)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The first column of every row of [`query`].
async fn column<T>(pool: &Pool, sql: &str, params: &[&str]) -> Vec<T>
where
    T: for<'a> tokio_postgres::types::FromSql<'a>,
{
    query(pool, sql, params)
        .await
        .iter()
        .map(|row| row.get(0))
        .collect()
}

/// A pool of `size` plain connections to `url` with `options` as startup
/// options, as an application builds one for `from_pool`.
fn pool(url: &str, options: Option<&str>, size: usize) -> Pool {
    let mut config: tokio_postgres::Config = url.parse().expect("a PostgreSQL URL");
    if let Some(options) = options {
        config.options(options);
    }
    Pool::builder(Manager::new(config, tokio_postgres::NoTls))
        .max_size(size)
        .runtime(Runtime::Tokio1)
        .build()
        .expect("a pool")
}

async fn drop_schema(adapter: &PostgresAdapter) {
    let schema = adapter.namespace();
    query(
        adapter.pool(),
        &format!("DROP SCHEMA \"{schema}\" CASCADE"),
        &[],
    )
    .await;
}

fn later() -> OffsetDateTime {
    auth_core::timestamp::truncate_to_millis(OffsetDateTime::now_utc()) + Duration::days(30)
}

#[tokio::test]
async fn migrate_is_idempotent_and_keeps_data() {
    let adapter = adapter().await;
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    adapter.migrate().await.expect("a second migrate");

    // Another process starting on the same schema migrates too.
    let options = options(adapter.namespace()).await;
    let second = PostgresAdapter::connect_with(options).await.unwrap();
    second.migrate().await.expect("migrate from a second pool");

    let applied: Vec<i64> = column(
        adapter.pool(),
        &format!("SELECT count(*) FROM \"{MIGRATIONS_TABLE}\""),
        &[],
    )
    .await;
    assert_eq!(applied, [2], "versions 1 and 2 are recorded once");
    assert_eq!(second.get_user(&user.id).await.unwrap(), Some(user));
    drop_schema(&adapter).await;
}

/// The checksums sqlx 0.9's migrator recorded for versions 1 and 2 (read
/// from a schema it migrated), as hex.
const SQLX_CHECKSUMS: [&str; 2] = [
    "ce3f1e74684d7a98bcb9cea23972ff573dfe6f92340e50bdce924158d61fa07cbb3cedd59c7a65a7e330f223628970b6",
    "390c8f5932602a5f2b929fb71ed65ae011aa6b343baa3295c883665e50b9ccee4b056720e9c086fe2f6f0e963ddf3e23",
];

/// A schema the sqlx-based versions of this crate migrated to version 1
/// (its table, its record) is continued: version 1 counts as applied,
/// version 2 is applied and recorded as sqlx records it (so the
/// sqlx-based versions accept the schema too); a record whose checksum
/// differs from the shipped file stops `migrate()`.
#[tokio::test]
async fn a_schema_migrated_by_the_sqlx_versions_is_continued() {
    let schema = unique_namespace("authpg");
    let adapter = PostgresAdapter::connect_with(options(&schema).await)
        .await
        .expect("connect");
    let db = adapter.pool();
    query(db, &format!("CREATE SCHEMA \"{schema}\""), &[]).await;
    adapter
        .pool()
        .get()
        .await
        .unwrap()
        .batch_execute(adapter_postgres::SCHEMA_SQL)
        .await
        .unwrap();
    // What sqlx's migrator made of version 1.
    query(
        db,
        &format!(
            "CREATE TABLE {MIGRATIONS_TABLE} (
                version BIGINT PRIMARY KEY,
                description TEXT NOT NULL,
                installed_on TIMESTAMPTZ NOT NULL DEFAULT now(),
                success BOOLEAN NOT NULL,
                checksum BYTEA NOT NULL,
                execution_time BIGINT NOT NULL
            )"
        ),
        &[],
    )
    .await;
    query(
        db,
        &format!(
            "INSERT INTO {MIGRATIONS_TABLE} (version, description, success, checksum, execution_time)
             VALUES (1, 'init', TRUE, decode($1, 'hex'), 123)"
        ),
        &[SQLX_CHECKSUMS[0]],
    )
    .await;
    adapter.migrate().await.expect("continue from version 1");
    let recorded = query(
        db,
        &format!(
            "SELECT version, description, success, encode(checksum, 'hex'), execution_time
             FROM {MIGRATIONS_TABLE} ORDER BY version"
        ),
        &[],
    )
    .await;
    let recorded: Vec<(i64, String, bool, String, i64)> = recorded
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4)))
        .collect();
    assert_eq!(recorded.len(), 2, "{recorded:?}");
    assert_eq!(
        recorded[0],
        (1, "init".into(), true, SQLX_CHECKSUMS[0].into(), 123)
    );
    let (version, description, success, checksum, nanos) = recorded[1].clone();
    assert_eq!(
        (version, description.as_str(), success, checksum.as_str()),
        (2, "authenticator counter bigint", true, SQLX_CHECKSUMS[1])
    );
    assert!(nanos >= 0, "execution_time {nanos}");
    let counter: Vec<String> = column(
        db,
        "SELECT data_type::text FROM information_schema.columns
         WHERE table_schema = $1 AND table_name = 'Authenticator' AND column_name = 'counter'",
        &[&schema],
    )
    .await;
    assert_eq!(counter, ["bigint"]);

    // A recorded version that is not the shipped file.
    query(
        db,
        &format!("UPDATE {MIGRATIONS_TABLE} SET checksum = '\\x00' WHERE version = 2"),
        &[],
    )
    .await;
    let err = adapter.migrate().await.unwrap_err();
    assert!(
        matches!(err, AdapterError::Backend(_)) && err.to_string().contains("migration 2"),
        "{err}"
    );
    drop_schema(&adapter).await;
}

#[tokio::test]
async fn tables_live_in_the_schema_option_only() {
    let a = adapter().await;
    let b = adapter().await;
    let user = a
        .create_user(NewUser {
            email: Some("shared@example.com".into()),
            ..NewUser::default()
        })
        .await
        .unwrap();
    assert_eq!(b.get_user(&user.id).await.unwrap(), None);
    b.create_user(NewUser {
        email: Some("shared@example.com".into()),
        ..NewUser::default()
    })
    .await
    .expect("another schema has its own unique index");

    let tables: Vec<String> = column(
        a.pool(),
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = $1 ORDER BY table_name COLLATE \"C\"",
        &[a.namespace()],
    )
    .await;
    assert_eq!(
        tables,
        [
            "Account",
            "Authenticator",
            "Session",
            "User",
            "VerificationToken",
            MIGRATIONS_TABLE,
        ]
    );
    drop_schema(&a).await;
    drop_schema(&b).await;
}

#[tokio::test]
async fn from_pool_uses_the_pools_search_path() {
    let own = adapter().await;
    let schema = own.namespace().to_owned();
    let pool = pool(
        &url(Server::Postgres).await,
        Some(&format!("-c search_path={schema}")),
        2,
    );
    let borrowed = PostgresAdapter::from_pool(pool);
    assert_eq!(borrowed.namespace(), "");
    borrowed
        .migrate()
        .await
        .expect("migrate through a borrowed pool");
    let user = borrowed.create_user(NewUser::default()).await.unwrap();
    assert_eq!(own.get_user(&user.id).await.unwrap(), Some(user));
    // The borrowed pool's namespace is its search_path's schema.
    borrowed
        .drop_namespace()
        .await
        .expect("drop the pool's schema");
    let left: Vec<i64> = column(
        own.pool(),
        "SELECT count(*) FROM information_schema.schemata WHERE schema_name = $1",
        &[&schema],
    )
    .await;
    assert_eq!(left, [0], "the schema is gone");
}

/// Rows inserted the way the Auth.js Kysely adapter inserts them (plain
/// `INSERT`s of the columns it writes, instants sent as text, no `id` on
/// accounts and sessions) and an authenticator as Prisma writes it are read
/// back unchanged; the columns Auth.js leaves out get their defaults.
#[tokio::test]
async fn rows_written_by_authjs_are_read_back() {
    let adapter = adapter().await;
    let db = adapter.pool();
    let user_id = "6f1c2e0a-3b4d-4e5f-8a9b-0c1d2e3f4a5b";
    query(
        db,
        r#"INSERT INTO "User" ("id", "name", "email", "emailVerified", "image")
           VALUES ($1, $2, $3, $4::timestamptz, $5)"#,
        &[
            user_id,
            "Ada",
            "ada@example.com",
            "2024-05-06T09:08:09.123+02:00",
            "https://example.com/ada.png",
        ],
    )
    .await;
    query(
        db,
        r#"INSERT INTO "Account" ("userId", "type", "provider", "providerAccountId",
               "access_token", "expires_at", "token_type", "scope", "id_token")
           VALUES ($1, 'oidc', 'google', '10769150350006150715113082367', $2, $3::bigint,
               'bearer', 'openid email', $4)"#,
        &[user_id, "ya29.a0Af-access", "1700000000", "eyJ.id.token"],
    )
    .await;
    query(
        db,
        r#"INSERT INTO "Session" ("sessionToken", "userId", "expires")
           VALUES ('kysely-session', $1, $2::timestamptz)"#,
        &[user_id, "2999-01-02T03:04:05.678Z"],
    )
    .await;
    query(
        db,
        r#"INSERT INTO "VerificationToken" ("identifier", "token", "expires")
           VALUES ('ada@example.com', 'kysely-token', $1::timestamptz)"#,
        &["2999-01-02T03:04:05.678Z"],
    )
    .await;
    query(
        db,
        r#"INSERT INTO "Authenticator" ("credentialID", "userId", "providerAccountId",
               "credentialPublicKey", "counter", "credentialDeviceType",
               "credentialBackedUp", "transports")
           VALUES ('cred-1', $1, 'pa-1', 'pQECAyYg', 3, 'multiDevice', true, 'internal')"#,
        &[user_id],
    )
    .await;

    let user = adapter.get_user(user_id).await.unwrap().expect("the user");
    assert_eq!(user.name.as_deref(), Some("Ada"));
    assert_eq!(
        user.email_verified,
        Some(datetime!(2024-05-06 07:08:09.123 UTC))
    );
    assert_eq!(
        adapter.get_user_by_email("ada@example.com").await.unwrap(),
        Some(user.clone())
    );
    let account = adapter
        .get_account("google", "10769150350006150715113082367")
        .await
        .unwrap()
        .expect("the account");
    assert_eq!(
        account,
        Account {
            access_token: Some("ya29.a0Af-access".into()),
            expires_at: Some(1_700_000_000),
            token_type: Some("bearer".into()),
            scope: Some("openid email".into()),
            id_token: Some("eyJ.id.token".into()),
            ..Account::new(
                user_id,
                AccountType::Oidc,
                "google",
                "10769150350006150715113082367"
            )
        }
    );
    assert_eq!(
        adapter
            .get_user_by_account("google", "10769150350006150715113082367")
            .await
            .unwrap(),
        Some(user.clone())
    );
    let expires = datetime!(2999-01-02 03:04:05.678 UTC);
    assert_eq!(
        adapter
            .get_session_and_user("kysely-session")
            .await
            .unwrap(),
        Some((
            Session {
                session_token: "kysely-session".into(),
                user_id: user_id.into(),
                expires,
            },
            user.clone()
        ))
    );
    assert_eq!(
        adapter
            .use_verification_token("ada@example.com", "kysely-token")
            .await
            .unwrap(),
        Some(VerificationToken {
            identifier: "ada@example.com".into(),
            token: "kysely-token".into(),
            expires,
        })
    );
    assert_eq!(
        adapter
            .list_authenticators_by_user_id(user_id)
            .await
            .unwrap(),
        vec![Authenticator {
            credential_id: "cred-1".into(),
            user_id: user_id.into(),
            provider_account_id: "pa-1".into(),
            credential_public_key: "pQECAyYg".into(),
            counter: 3,
            credential_device_type: "multiDevice".into(),
            credential_backed_up: true,
            transports: Some("internal".into()),
        }]
    );

    // Kysely left out the ids: the defaults filled them in, distinct UUIDs.
    let ids: Vec<String> = column(
        db,
        r#"SELECT "id" FROM "Account" UNION ALL SELECT "id" FROM "Session""#,
        &[],
    )
    .await;
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    assert!(ids.iter().all(|id| uuid::Uuid::parse_str(id).is_ok()));

    // An instant written with microseconds (Kysely's `NOW()` default, say)
    // reads back truncated to the millisecond, like everything else.
    query(
        db,
        r#"UPDATE "User" SET "emailVerified" = '2024-05-06 07:08:09.123999+00' WHERE "id" = $1"#,
        &[user_id],
    )
    .await;
    let user = adapter.get_user(user_id).await.unwrap().unwrap();
    assert_eq!(
        user.email_verified,
        Some(datetime!(2024-05-06 07:08:09.123 UTC))
    );
    drop_schema(&adapter).await;
}

/// What the adapter writes is what Auth.js reads: the same columns, the
/// instants as `timestamptz`, the type as its lowercase name.
#[tokio::test]
async fn rows_written_by_the_adapter_read_like_authjs_rows() {
    let adapter = adapter().await;
    let user = adapter
        .create_user(NewUser {
            email: Some("grace@example.com".into()),
            ..NewUser::default()
        })
        .await
        .unwrap();
    adapter
        .link_account(Account::new(&user.id, AccountType::OAuth, "github", "42"))
        .await
        .unwrap();
    let expires = datetime!(2031-02-03 04:05:06.789 UTC);
    adapter
        .create_session(Session {
            session_token: "s1".into(),
            user_id: user.id.clone(),
            expires,
        })
        .await
        .unwrap();
    let rows = query(
        adapter.pool(),
        r#"SELECT a."type", s."expires", s."id" AS "sessionId"
           FROM "Account" a JOIN "Session" s USING ("userId") WHERE a."userId" = $1"#,
        &[&user.id],
    )
    .await;
    let row = &rows[0];
    assert_eq!(row.get::<_, String>("type"), "oauth");
    assert_eq!(row.get::<_, OffsetDateTime>("expires"), expires);
    assert!(!row.get::<_, String>("sessionId").is_empty());
    assert!(
        uuid::Uuid::parse_str(&user.id).is_ok(),
        "ids are UUIDs, as Kysely makes them"
    );
    drop_schema(&adapter).await;
}

#[tokio::test]
async fn errors_name_the_field_and_the_key() {
    let adapter = adapter().await;
    let user = adapter.create_user(NewUser::default()).await.unwrap();

    let err = adapter
        .update_user(UserUpdate {
            name: Some(Some("a\0b".into())),
            ..UserUpdate::new(&user.id)
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, AdapterError::InvalidInput { field: "name", .. }),
        "{err:?}"
    );

    let err = adapter
        .create_user(NewUser {
            email: Some(incompressible(6 * 1024)),
            ..NewUser::default()
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, AdapterError::InvalidInput { field: "email", .. }),
        "{err:?}"
    );

    let err = adapter
        .create_session(Session {
            session_token: "t".into(),
            user_id: user.id.clone(),
            expires: datetime!(-5000-01-01 0:00 UTC),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AdapterError::InvalidInput {
                field: "expires",
                ..
            }
        ),
        "{err:?}"
    );

    // A conflict says which key (the server's DETAIL, which quotes the
    // row, is dropped; the suite checks no secret shows).
    let session = Session {
        session_token: "session-token".into(),
        user_id: user.id.clone(),
        expires: later(),
    };
    adapter.create_session(session.clone()).await.unwrap();
    let err = adapter.create_session(session).await.unwrap_err();
    assert!(
        matches!(
            err,
            AdapterError::Conflict {
                entity: Entity::Session,
                key: Key::SessionToken
            }
        ),
        "{err:?}"
    );

    let err = adapter
        .update_session(SessionUpdate {
            session_token: "session-token".into(),
            expires: None,
            user_id: Some("nobody".into()),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            &err,
            AdapterError::NotFound {
                entity: Entity::User,
                detail
            } if detail.contains("nobody")
        ),
        "{err:?}"
    );

    // Connection failures are Backend, with the driver's error as source.
    drop_schema(&adapter).await;
    adapter.pool().close();
    let err = adapter.get_user(&user.id).await.unwrap_err();
    assert!(matches!(err, AdapterError::Backend(_)), "{err:?}");
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn bad_options_are_invalid_input() {
    let err = PostgresOptions::from_url("not a url").unwrap_err();
    assert!(
        matches!(err, AdapterError::InvalidInput { field: "url", .. }),
        "{err:?}"
    );
    for schema in ["", "pg_mine", "a\0b", &"x".repeat(64)] {
        let err = PostgresAdapter::connect_with(options(schema).await)
            .await
            .unwrap_err();
        assert!(
            matches!(
                err,
                AdapterError::InvalidInput {
                    field: "schema",
                    ..
                }
            ),
            "schema {schema:?}: {err:?}"
        );
    }
}

/// A schema name that needs quoting works end to end.
#[tokio::test]
async fn schema_names_are_quoted() {
    let schema = format!("{} Odd \"Name\"", unique_namespace("authpg"));
    let adapter = PostgresAdapter::connect_with(options(&schema).await)
        .await
        .unwrap();
    adapter.migrate().await.unwrap();
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    assert_eq!(adapter.get_user(&user.id).await.unwrap(), Some(user));
    let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
    query(
        adapter.pool(),
        &format!("DROP SCHEMA {quoted} CASCADE"),
        &[],
    )
    .await;
}

/// Eight processes starting at once on one fresh schema: each with a pool of
/// its own, all migrate, all succeed, and the schema is migrated once.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_migrate_on_a_fresh_schema_succeeds() {
    for _ in 0..3 {
        let schema = unique_namespace("authpg");
        let mut starts = Vec::new();
        for _ in 0..8 {
            let options = options(&schema).await;
            starts.push(tokio::spawn(async move {
                let adapter = PostgresAdapter::connect_with(options).await?;
                adapter.migrate().await?;
                Ok::<_, AdapterError>(adapter)
            }));
        }
        let mut adapters = Vec::new();
        for start in starts {
            adapters.push(start.await.unwrap().expect("every replica migrates"));
        }
        let user = adapters[0].create_user(NewUser::default()).await.unwrap();
        assert_eq!(adapters[7].get_user(&user.id).await.unwrap(), Some(user));
        let applied: Vec<i64> = column(
            adapters[0].pool(),
            &format!("SELECT version FROM \"{MIGRATIONS_TABLE}\" ORDER BY version"),
            &[],
        )
        .await;
        assert_eq!(applied, [1, 2], "each version is recorded once");
        drop_schema(&adapters[0]).await;
    }
}

/// `len` bytes that do not compress (PostgreSQL compresses long index keys,
/// so a repetitive 6 KB value might fit an index entry; this one cannot).
fn incompressible(len: usize) -> String {
    let mut value = String::with_capacity(len + 32);
    while value.len() < len {
        value.push_str(&uuid::Uuid::new_v4().simple().to_string());
    }
    value.truncate(len);
    value
}

fn authenticator(user_id: &str, credential_id: &str, counter: u32) -> Authenticator {
    Authenticator {
        credential_id: credential_id.into(),
        user_id: user_id.into(),
        provider_account_id: "pa".into(),
        credential_public_key: "pQECAyYg".into(),
        counter,
        credential_device_type: "singleDevice".into(),
        credential_backed_up: false,
        transports: None,
    }
}

/// The counter column this crate creates is `bigint` and holds every `u32`;
/// a schema migrated to version 1 only (a 32-bit `integer`) is widened by
/// the next `migrate()`, keeping its rows.
#[tokio::test]
async fn authenticator_counter_is_bigint_and_version_1_is_upgraded() {
    let adapter = adapter().await;
    let column_type = || async {
        column::<String>(
            adapter.pool(),
            "SELECT data_type::text FROM information_schema.columns
             WHERE table_schema = $1 AND table_name = 'Authenticator'
               AND column_name = 'counter'",
            &[adapter.namespace()],
        )
        .await
        .remove(0)
    };
    assert_eq!(column_type().await, "bigint");

    // Back to version 1: the column as Prisma's `Int`, version 2 unrecorded.
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    adapter
        .create_authenticator(authenticator(&user.id, "c1", 7))
        .await
        .unwrap();
    query(
        adapter.pool(),
        r#"ALTER TABLE "Authenticator" ALTER COLUMN "counter" TYPE integer"#,
        &[],
    )
    .await;
    query(
        adapter.pool(),
        &format!("DELETE FROM \"{MIGRATIONS_TABLE}\" WHERE version = 2"),
        &[],
    )
    .await;
    assert_eq!(column_type().await, "integer");

    adapter.migrate().await.expect("migrate to version 2");
    assert_eq!(column_type().await, "bigint");
    assert_eq!(
        adapter
            .get_authenticator("c1")
            .await
            .unwrap()
            .unwrap()
            .counter,
        7
    );
    let top = adapter
        .update_authenticator_counter("c1", u32::MAX)
        .await
        .unwrap();
    assert_eq!(top.counter, u32::MAX);
    drop_schema(&adapter).await;
}

/// On a table another tool created with a 32-bit signed `counter` (Prisma's
/// `Int`), counters up to `i32::MAX` work, larger ones are `InvalidInput`
/// naming `counter` (not `Backend`); a value no `u32` holds, written by
/// another tool, reads as a typed `Backend` error.
#[tokio::test]
async fn a_32_bit_counter_column_of_another_tool() {
    let adapter = adapter().await;
    query(
        adapter.pool(),
        r#"ALTER TABLE "Authenticator" ALTER COLUMN "counter" TYPE integer"#,
        &[],
    )
    .await;
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    let created = adapter
        .create_authenticator(authenticator(&user.id, "c1", i32::MAX as u32))
        .await
        .unwrap();
    assert_eq!(created.counter, i32::MAX as u32);
    assert_eq!(
        adapter.get_authenticator("c1").await.unwrap(),
        Some(created)
    );
    for result in [
        adapter
            .create_authenticator(authenticator(&user.id, "c2", 1 << 31))
            .await
            .map(|_| ()),
        adapter
            .update_authenticator_counter("c1", u32::MAX)
            .await
            .map(|_| ()),
    ] {
        let err = result.unwrap_err();
        assert!(
            matches!(
                err,
                AdapterError::InvalidInput {
                    field: "counter",
                    ..
                }
            ),
            "{err:?}"
        );
    }
    assert_eq!(adapter.get_authenticator("c2").await.unwrap(), None);

    query(
        adapter.pool(),
        r#"UPDATE "Authenticator" SET "counter" = -1 WHERE "credentialID" = 'c1'"#,
        &[],
    )
    .await;
    let err = adapter.get_authenticator("c1").await.unwrap_err();
    let AdapterError::Backend(source) = &err else {
        panic!("expected Backend, got {err:?}");
    };
    let stored = source
        .downcast_ref::<auth_core::StoredDataError>()
        .expect("a StoredDataError");
    assert_eq!(stored.field, "counter");
    assert!(stored.reason.contains("-1"), "{stored}");
    drop_schema(&adapter).await;
}

/// Keys longer than `MAX_KEY_BYTES` (alone or, for composite keys,
/// together) are `InvalidInput` naming the field, checked before sending,
/// even when they do not compress; values of columns that are not keys
/// store 1 MiB; the adapter keeps working.
#[tokio::test]
async fn long_keys_are_invalid_input_and_long_values_are_stored() {
    use adapter_postgres::MAX_KEY_BYTES;
    let adapter = adapter().await;
    let long = incompressible(6 * 1024);
    let user = adapter.create_user(NewUser::default()).await.unwrap();

    let mut account = Account::new(&user.id, AccountType::OAuth, "github", &long);
    let err = adapter.link_account(account.clone()).await.unwrap_err();
    assert!(
        matches!(
            err,
            AdapterError::InvalidInput {
                field: "providerAccountId",
                ..
            }
        ),
        "{err:?}"
    );
    // Each fits alone, not both together.
    account.provider = incompressible(MAX_KEY_BYTES / 2 + 8);
    account.provider_account_id = incompressible(MAX_KEY_BYTES / 2);
    let err = adapter.link_account(account.clone()).await.unwrap_err();
    assert!(
        matches!(
            err,
            AdapterError::InvalidInput {
                field: "provider",
                ..
            }
        ),
        "{err:?}"
    );
    // At the limit, incompressible: stored and found.
    account.provider = incompressible(MAX_KEY_BYTES / 2);
    adapter.link_account(account.clone()).await.unwrap();
    assert_eq!(
        adapter
            .get_account(&account.provider, &account.provider_account_id)
            .await
            .unwrap(),
        Some(account)
    );
    let email = incompressible(MAX_KEY_BYTES);
    let at_limit = adapter
        .create_user(NewUser {
            email: Some(email.clone()),
            ..NewUser::default()
        })
        .await
        .expect("an email of MAX_KEY_BYTES");
    assert_eq!(
        adapter.get_user_by_email(&email).await.unwrap(),
        Some(at_limit)
    );

    let err = adapter
        .create_session(Session {
            session_token: long.clone(),
            user_id: user.id.clone(),
            expires: later(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AdapterError::InvalidInput {
                field: "sessionToken",
                ..
            }
        ),
        "{err:?}"
    );
    let err = adapter
        .create_verification_token(VerificationToken {
            identifier: "a@example.com".into(),
            token: long.clone(),
            expires: later(),
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, AdapterError::InvalidInput { field: "token", .. }),
        "{err:?}"
    );
    let err = adapter
        .create_authenticator(authenticator(&user.id, &long, 0))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AdapterError::InvalidInput {
                field: "credentialID",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(adapter.get_session_and_user(&long).await.unwrap(), None);

    // An index this crate does not know (another tool's): the server's
    // "index row size" error (SQLSTATE 54000) is InvalidInput too.
    query(
        adapter.pool(),
        r#"CREATE INDEX "User_name_idx" ON "User" ("name")"#,
        &[],
    )
    .await;
    let err = adapter
        .create_user(NewUser {
            name: Some(long.clone()),
            ..NewUser::default()
        })
        .await
        .unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
    query(adapter.pool(), r#"DROP INDEX "User_name_idx""#, &[]).await;

    // Not keys: 1 MiB, incompressible, stored byte for byte.
    let mib = incompressible(1024 * 1024);
    let updated = adapter
        .update_user(UserUpdate {
            name: Some(Some(mib.clone())),
            image: Some(Some(mib.clone())),
            ..UserUpdate::new(&user.id)
        })
        .await
        .unwrap();
    assert_eq!(updated.name.as_deref(), Some(mib.as_str()));
    assert_eq!(adapter.get_user(&user.id).await.unwrap(), Some(updated));
    drop_schema(&adapter).await;
}

/// A server that accepts connections and never answers: connecting, and the
/// first call of an adapter on a lazy pool, fail with a timeout within the
/// configured bound instead of waiting for ever.
#[tokio::test]
async fn a_stalled_server_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let held = tokio::spawn(async move {
        let mut sockets = Vec::new();
        loop {
            let (socket, _) = listener.accept().await.unwrap();
            sockets.push(socket); // kept open, never answered
        }
    });
    let stalled = format!("postgres://app:secret@127.0.0.1:{port}/app");
    let limit = std::time::Duration::from_secs(1);
    // Generous: the bound is what matters, not the speed.
    let bound = limit * 5;

    let started = std::time::Instant::now();
    let options = PostgresOptions::from_url(&stalled)
        .unwrap()
        .operation_timeout(limit);
    let err = PostgresAdapter::connect_with(options).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(!format!("{err:?} {err}").contains("secret"));
    assert!(started.elapsed() < bound, "took {:?}", started.elapsed());

    // deadpool opens connections when asked for one: a lazy pool.
    let config: tokio_postgres::Config = stalled.parse().unwrap();
    let pool = Pool::builder(Manager::new(config, tokio_postgres::NoTls))
        .runtime(Runtime::Tokio1)
        .wait_timeout(Some(std::time::Duration::from_secs(600)))
        .build()
        .unwrap();
    let lazy = PostgresAdapter::from_pool(pool).with_operation_timeout(limit);
    let started = std::time::Instant::now();
    let err = lazy.get_user("u1").await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("get_user"), "{err}");
    assert!(started.elapsed() < bound, "took {:?}", started.elapsed());
    held.abort();
}

/// A user row locked by another transaction: `update_user` and `delete_user`
/// give up after the lock timeout (the server's `lock_timeout`), or after
/// the operation timeout when that is the shorter, with a timeout error.
/// The server gave up too: once the lock is released nothing they asked
/// for happens late, and the same adapters work.
#[tokio::test]
async fn a_held_row_lock_times_out() {
    let adapter = adapter().await;
    let schema = adapter.namespace().to_owned();
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    let mut holding = adapter.pool().get().await.unwrap();
    let holder = holding.transaction().await.unwrap();
    holder
        .query_typed(
            r#"SELECT "id" FROM "User" WHERE "id" = $1 FOR UPDATE"#,
            &[(&user.id, Type::TEXT)],
        )
        .await
        .unwrap();

    let short = std::time::Duration::from_secs(1);
    let bound = short * 5;
    let by_lock = PostgresAdapter::connect_with(options(&schema).await.lock_timeout(short))
        .await
        .unwrap();
    let by_operation = PostgresAdapter::connect_with(
        options(&schema)
            .await
            .lock_timeout(std::time::Duration::from_secs(60))
            .operation_timeout(short),
    )
    .await
    .unwrap();
    for waiting in [&by_lock, &by_operation] {
        let started = std::time::Instant::now();
        let err = waiting
            .update_user(UserUpdate {
                name: Some(Some("blocked".into())),
                ..UserUpdate::new(&user.id)
            })
            .await
            .unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(started.elapsed() < bound, "took {:?}", started.elapsed());
        let started = std::time::Instant::now();
        let err = waiting.delete_user(&user.id).await.unwrap_err();
        assert!(err.is_timeout(), "{err:?}");
        assert!(err.to_string().contains("delete_user"), "{err}");
        assert!(started.elapsed() < bound, "took {:?}", started.elapsed());
    }
    holder.rollback().await.unwrap();
    assert_eq!(
        adapter.get_user(&user.id).await.unwrap(),
        Some(user.clone()),
        "a delete that timed out did not happen later"
    );

    for waiting in [&by_lock, &by_operation] {
        let renamed = waiting
            .update_user(UserUpdate {
                name: Some(Some("free".into())),
                ..UserUpdate::new(&user.id)
            })
            .await
            .expect("the lock is released");
        assert_eq!(renamed.name.as_deref(), Some("free"));
    }
    assert!(by_operation.delete_user(&user.id).await.unwrap().is_some());
    drop_schema(&adapter).await;
}

/// Zero time limits would mean "no limit" to PostgreSQL: refused.
#[tokio::test]
async fn zero_time_limits_are_invalid_input() {
    let zero = std::time::Duration::ZERO;
    let base = || options("authpg_zero");
    for (options, field) in [
        (base().await.operation_timeout(zero), "operation_timeout"),
        (base().await.statement_timeout(zero), "statement_timeout"),
        (base().await.lock_timeout(zero), "lock_timeout"),
        (base().await.migrate_timeout(zero), "migrate_timeout"),
    ] {
        let err = PostgresAdapter::connect_with(options).await.unwrap_err();
        assert!(
            matches!(err, AdapterError::InvalidInput { field: f, .. } if f == field),
            "{field}: {err:?}"
        );
    }
}

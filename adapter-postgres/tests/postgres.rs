//! What is special to PostgreSQL: migrations, schemas, rows written by the
//! Auth.js adapters, and the mapping of server errors.

use adapter_conformance::servers::{Server, unique_namespace, url};
use adapter_postgres::sqlx::{self, AssertSqlSafe, Row};
use adapter_postgres::{MIGRATIONS_TABLE, PostgresAdapter, PostgresOptions};
use auth_core::{
    Account, AccountType, Adapter, AdapterError, Authenticator, NewUser, Session, SessionUpdate,
    UserUpdate, VerificationToken,
};
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

async fn options(schema: &str) -> PostgresOptions {
    PostgresOptions::new(&url(Server::Postgres).await)
        .expect("a PostgreSQL URL")
        .schema(schema)
        .max_connections(2)
}

async fn adapter() -> PostgresAdapter {
    let adapter = PostgresAdapter::with_options(options(&unique_namespace("authpg")).await)
        .await
        .expect("connect");
    adapter.migrate().await.expect("migrate");
    adapter
}

async fn drop_schema(adapter: &PostgresAdapter) {
    let schema = adapter.schema().expect("the adapter set a schema");
    sqlx::query(AssertSqlSafe(format!("DROP SCHEMA \"{schema}\" CASCADE")))
        .execute(adapter.pool())
        .await
        .expect("drop the test schema");
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
    let options = options(adapter.schema().unwrap()).await;
    let second = PostgresAdapter::with_options(options).await.unwrap();
    second.migrate().await.expect("migrate from a second pool");

    let applied: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM \"{MIGRATIONS_TABLE}\""
    )))
    .fetch_one(adapter.pool())
    .await
    .unwrap();
    assert_eq!(applied, 1, "version 1 is recorded once");
    assert_eq!(second.get_user(&user.id).await.unwrap(), Some(user));
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

    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = $1 ORDER BY table_name COLLATE \"C\"",
    )
    .bind(a.schema().unwrap())
    .fetch_all(a.pool())
    .await
    .unwrap();
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
    let schema = own.schema().unwrap().to_owned();
    let connect: sqlx::postgres::PgConnectOptions = url(Server::Postgres).await.parse().unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(connect.options([("search_path", &schema)]))
        .await
        .unwrap();
    let borrowed = PostgresAdapter::from_pool(pool);
    assert_eq!(borrowed.schema(), None);
    borrowed
        .migrate()
        .await
        .expect("migrate through a borrowed pool");
    let user = borrowed.create_user(NewUser::default()).await.unwrap();
    assert_eq!(own.get_user(&user.id).await.unwrap(), Some(user));
    drop_schema(&own).await;
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
    sqlx::query(
        r#"INSERT INTO "User" ("id", "name", "email", "emailVerified", "image")
           VALUES ($1, $2, $3, $4::timestamptz, $5)"#,
    )
    .bind(user_id)
    .bind("Ada")
    .bind("ada@example.com")
    .bind("2024-05-06T09:08:09.123+02:00")
    .bind("https://example.com/ada.png")
    .execute(db)
    .await
    .unwrap();
    sqlx::query(
        r#"INSERT INTO "Account" ("userId", "type", "provider", "providerAccountId",
               "access_token", "expires_at", "token_type", "scope", "id_token")
           VALUES ($1, 'oidc', 'google', '10769150350006150715113082367', $2, $3::bigint,
               'bearer', 'openid email', $4)"#,
    )
    .bind(user_id)
    .bind("ya29.a0Af-access")
    .bind("1700000000")
    .bind("eyJ.id.token")
    .execute(db)
    .await
    .unwrap();
    sqlx::query(
        r#"INSERT INTO "Session" ("sessionToken", "userId", "expires")
           VALUES ('kysely-session', $1, $2::timestamptz)"#,
    )
    .bind(user_id)
    .bind("2999-01-02T03:04:05.678Z")
    .execute(db)
    .await
    .unwrap();
    sqlx::query(
        r#"INSERT INTO "VerificationToken" ("identifier", "token", "expires")
           VALUES ('ada@example.com', 'kysely-token', $1::timestamptz)"#,
    )
    .bind("2999-01-02T03:04:05.678Z")
    .execute(db)
    .await
    .unwrap();
    sqlx::query(
        r#"INSERT INTO "Authenticator" ("credentialID", "userId", "providerAccountId",
               "credentialPublicKey", "counter", "credentialDeviceType",
               "credentialBackedUp", "transports")
           VALUES ('cred-1', $1, 'pa-1', 'pQECAyYg', 3, 'multiDevice', true, 'internal')"#,
    )
    .bind(user_id)
    .execute(db)
    .await
    .unwrap();

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
    let ids: Vec<String> =
        sqlx::query_scalar(r#"SELECT "id" FROM "Account" UNION ALL SELECT "id" FROM "Session""#)
            .fetch_all(db)
            .await
            .unwrap();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    assert!(ids.iter().all(|id| uuid::Uuid::parse_str(id).is_ok()));

    // An instant written with microseconds (Kysely's `NOW()` default, say)
    // reads back truncated to the millisecond, like everything else.
    sqlx::query(
        r#"UPDATE "User" SET "emailVerified" = '2024-05-06 07:08:09.123999+00' WHERE "id" = $1"#,
    )
    .bind(user_id)
    .execute(db)
    .await
    .unwrap();
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
    let row = sqlx::query(
        r#"SELECT a."type", s."expires", s."id" AS "sessionId"
           FROM "Account" a JOIN "Session" s USING ("userId") WHERE a."userId" = $1"#,
    )
    .bind(&user.id)
    .fetch_one(adapter.pool())
    .await
    .unwrap();
    assert_eq!(row.get::<String, _>("type"), "oauth");
    assert_eq!(row.get::<OffsetDateTime, _>("expires"), expires);
    assert!(!row.get::<String, _>("sessionId").is_empty());
    assert!(
        uuid::Uuid::parse_str(&user.id).is_ok(),
        "ids are UUIDs, as Kysely makes them"
    );
    drop_schema(&adapter).await;
}

#[tokio::test]
async fn errors_name_the_field_and_keep_secrets_out() {
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

    let auth = Authenticator {
        credential_id: "c".into(),
        user_id: user.id.clone(),
        provider_account_id: "p".into(),
        credential_public_key: "k".into(),
        counter: u32::MAX,
        credential_device_type: "singleDevice".into(),
        credential_backed_up: false,
        transports: None,
    };
    let err = adapter.create_authenticator(auth).await.unwrap_err();
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

    // A conflict on a token says which key, never the token.
    let session = Session {
        session_token: "secret-session-token".into(),
        user_id: user.id.clone(),
        expires: later(),
    };
    adapter.create_session(session.clone()).await.unwrap();
    let err = adapter.create_session(session).await.unwrap_err();
    assert!(err.is_conflict());
    assert!(!format!("{err:?} {err}").contains("secret-session-token"));

    let err = adapter
        .update_session(SessionUpdate {
            session_token: "secret-session-token".into(),
            expires: None,
            user_id: Some("nobody".into()),
        })
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");

    // Connection failures are Backend, with the driver's error as source.
    drop_schema(&adapter).await;
    adapter.pool().close().await;
    let err = adapter.get_user(&user.id).await.unwrap_err();
    assert!(matches!(err, AdapterError::Backend(_)), "{err:?}");
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn bad_options_are_invalid_input() {
    let err = PostgresOptions::new("not a url").unwrap_err();
    assert!(
        matches!(err, AdapterError::InvalidInput { field: "url", .. }),
        "{err:?}"
    );
    for schema in ["", "pg_mine", "a\0b", &"x".repeat(64)] {
        let err = PostgresAdapter::with_options(options(schema).await)
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
    let adapter = PostgresAdapter::with_options(options(&schema).await)
        .await
        .unwrap();
    adapter.migrate().await.unwrap();
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    assert_eq!(adapter.get_user(&user.id).await.unwrap(), Some(user));
    let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
    sqlx::query(AssertSqlSafe(format!("DROP SCHEMA {quoted} CASCADE")))
        .execute(adapter.pool())
        .await
        .unwrap();
}

//! What is special to MySQL / MariaDB: migrations, rows written the way the
//! Auth.js Kysely and Prisma adapters write them, PAD SPACE collations, strict
//! mode, the session time zone, and how server errors are mapped.

use std::str::FromStr;

use adapter_conformance::servers::{self, Server};
use adapter_mysql::sqlx::mysql::MySqlConnectOptions;
use adapter_mysql::sqlx::{self, AssertSqlSafe, Executor, Row};
use adapter_mysql::{MIGRATIONS_TABLE, MysqlAdapter, MysqlOptions};
use auth_core::{
    Account, AccountType, Adapter, AdapterError, NewUser, OffsetDateTime, Session, User,
    UserUpdate, VerificationToken,
};
use time::Duration;
use time::macros::datetime;

/// A migrated adapter on a fresh database, and that database's name.
async fn fresh() -> (MysqlAdapter, String) {
    let url = servers::url(Server::Mysql).await;
    let database = servers::unique_namespace("myschema");
    let options = MysqlOptions::from_url(&url)
        .unwrap()
        .database(&database)
        .create_database_if_missing(true)
        .max_connections(3);
    let adapter = MysqlAdapter::connect_with(options).await.expect("connect");
    adapter.migrate().await.expect("migrate");
    (adapter, database)
}

async fn drop_database(adapter: &MysqlAdapter, database: &str) {
    let sql = format!("DROP DATABASE IF EXISTS `{database}`");
    adapter.pool().execute(AssertSqlSafe(sql)).await.unwrap();
}

fn now_ms() -> OffsetDateTime {
    auth_core::timestamp::truncate_to_millis(OffsetDateTime::now_utc())
}

#[tokio::test]
async fn migrate_is_idempotent_and_keeps_its_own_history_table() {
    let (adapter, database) = fresh().await;
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    adapter.migrate().await.expect("a second migrate");

    // Another process starting on the same database migrates too.
    let url = servers::url(Server::Mysql).await;
    let other =
        MysqlAdapter::connect_with(MysqlOptions::from_url(&url).unwrap().database(&database))
            .await
            .unwrap();
    other.migrate().await.expect("migrate from a second pool");
    assert_eq!(other.get_user(&user.id).await.unwrap(), Some(user));

    let sql = format!("SELECT version, success FROM `{MIGRATIONS_TABLE}`");
    let rows = sqlx::query(AssertSqlSafe(sql))
        .fetch_all(adapter.pool())
        .await
        .unwrap();
    let applied: Vec<(i64, bool)> = rows
        .iter()
        .map(|r| (r.get::<i64, _>(0), r.get::<bool, _>(1)))
        .collect();
    assert_eq!(applied, vec![(1, true)]);
    let default_table: Option<String> = sqlx::query_scalar(
        "SELECT TABLE_NAME FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '_sqlx_migrations'",
    )
    .fetch_optional(adapter.pool())
    .await
    .unwrap();
    assert_eq!(default_table, None, "sqlx's default table must stay free");
    drop_database(&adapter, &database).await;
}

#[tokio::test]
async fn rows_written_like_authjs_are_read_and_ours_read_like_authjs() {
    let (adapter, database) = fresh().await;
    let pool = adapter.pool();

    // As the Kysely adapter writes them: its own UUID for the user, no `id`
    // for accounts and sessions, DATETIME(3) instants in UTC.
    sqlx::query(
        "INSERT INTO `User` (`id`, `name`, `email`, `emailVerified`, `image`) \
         VALUES ('0b5f8f0e-1c1f-4a8a-9d44-3f1f5d3c2a10', 'Ada', 'ada@example.com', \
                 '2024-05-06 07:08:09.123', NULL)",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO `Account` (`userId`, `type`, `provider`, `providerAccountId`, \
         `access_token`, `expires_at`, `token_type`, `scope`) \
         VALUES ('0b5f8f0e-1c1f-4a8a-9d44-3f1f5d3c2a10', 'oauth', 'github', '583231', \
                 'gho_x', 1900000000, 'bearer', 'read:user')",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO `Session` (`sessionToken`, `userId`, `expires`) \
         VALUES ('kysely-token', '0b5f8f0e-1c1f-4a8a-9d44-3f1f5d3c2a10', '9999-01-01 00:00:00.000')",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO `VerificationToken` (`identifier`, `token`, `expires`) \
         VALUES ('ada@example.com', 'vt-hash', '9999-01-01 00:00:00.000')",
    )
    .execute(pool)
    .await
    .unwrap();

    let ada = User {
        id: "0b5f8f0e-1c1f-4a8a-9d44-3f1f5d3c2a10".into(),
        name: Some("Ada".into()),
        email: Some("ada@example.com".into()),
        email_verified: Some(datetime!(2024-05-06 07:08:09.123 UTC)),
        image: None,
    };
    assert_eq!(
        adapter
            .get_user_by_account("github", "583231")
            .await
            .unwrap(),
        Some(ada.clone())
    );
    let account = adapter
        .get_account("github", "583231")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(account.expires_at, Some(1_900_000_000));
    assert_eq!(account.account_type, AccountType::OAuth);
    let (session, user) = adapter
        .get_session_and_user("kysely-token")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user, ada);
    assert_eq!(session.expires, datetime!(9999-01-01 0:00 UTC));
    assert_eq!(
        adapter
            .use_verification_token("ada@example.com", "vt-hash")
            .await
            .unwrap()
            .map(|t| t.expires),
        Some(datetime!(9999-01-01 0:00 UTC))
    );

    // What we write, Auth.js reads by its column names; `id` got a default.
    let grace = adapter
        .create_user(NewUser {
            email: Some("grace@example.com".into()),
            email_verified: Some(datetime!(2030-01-02 03:04:05.678 UTC)),
            ..NewUser::default()
        })
        .await
        .unwrap();
    adapter
        .link_account(Account::new(&grace.id, AccountType::Oidc, "google", "g-1"))
        .await
        .unwrap();
    adapter
        .create_session(Session {
            session_token: "ours".into(),
            user_id: grace.id.clone(),
            expires: datetime!(2031-01-01 0:00 UTC),
        })
        .await
        .unwrap();
    let row = sqlx::query(
        "SELECT u.`emailVerified` = '2030-01-02 03:04:05.678', a.`type`, \
                CHAR_LENGTH(a.`id`), CHAR_LENGTH(s.`id`), s.`expires` = '2031-01-01 00:00:00' \
         FROM `User` u JOIN `Account` a ON a.`userId` = u.`id` JOIN `Session` s ON s.`userId` = u.`id` \
         WHERE u.`email` = 'grace@example.com'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(row.get::<bool, _>(0), "emailVerified is stored as UTC");
    assert_eq!(row.get::<String, _>(1), "oidc");
    assert_eq!(row.get::<i64, _>(2), 36, "Account.id defaults to a UUID");
    assert_eq!(row.get::<i64, _>(3), 36, "Session.id defaults to a UUID");
    assert!(row.get::<bool, _>(4), "expires is stored as UTC");
    drop_database(&adapter, &database).await;
}

/// `utf8mb4_bin` is PAD SPACE on both servers: lookups stay exact (the byte
/// comparison), while the unique indexes treat `x` and `x ` as one key.
#[tokio::test]
async fn trailing_spaces_never_match_but_share_a_unique_key() {
    let (adapter, database) = fresh().await;
    let u = adapter
        .create_user(NewUser {
            email: Some("pad@example.com".into()),
            ..NewUser::default()
        })
        .await
        .unwrap();
    let pad = format!("{} ", u.id);
    assert_eq!(adapter.get_user(&pad).await.unwrap(), None);
    assert_eq!(
        adapter.get_user_by_email("pad@example.com ").await.unwrap(),
        None
    );
    assert_eq!(adapter.delete_user(&pad).await.unwrap(), None);
    assert!(
        adapter
            .list_authenticators_by_user_id(&pad)
            .await
            .unwrap()
            .is_empty()
    );
    let taken = adapter
        .create_user(NewUser {
            email: Some("pad@example.com  ".into()),
            ..NewUser::default()
        })
        .await;
    assert!(
        matches!(taken, Err(AdapterError::Conflict { .. })),
        "{taken:?}"
    );

    let t = VerificationToken {
        identifier: "pad@example.com".into(),
        token: "tok".into(),
        expires: now_ms() + Duration::hours(1),
    };
    adapter.create_verification_token(t.clone()).await.unwrap();
    assert_eq!(
        adapter
            .use_verification_token("pad@example.com ", "tok")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        adapter
            .use_verification_token("pad@example.com", "tok ")
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        adapter
            .use_verification_token("pad@example.com", "tok")
            .await
            .unwrap(),
        Some(t)
    );
    drop_database(&adapter, &database).await;
}

#[tokio::test]
async fn values_the_columns_cannot_hold_are_invalid_input() {
    let (adapter, database) = fresh().await;
    let u = adapter.create_user(NewUser::default()).await.unwrap();

    let long_email = format!("{}@example.com", "a".repeat(250));
    match adapter
        .create_user(NewUser {
            email: Some(long_email.clone()),
            ..NewUser::default()
        })
        .await
    {
        Err(AdapterError::InvalidInput { field, .. }) => assert_eq!(field, "email"),
        other => panic!("a 262-character email: {other:?}"),
    }
    assert_eq!(adapter.get_user_by_email(&long_email).await.unwrap(), None);

    let huge_name = "x".repeat(70_000);
    match adapter
        .update_user(UserUpdate {
            name: Some(Some(huge_name)),
            ..UserUpdate::new(&u.id)
        })
        .await
    {
        Err(AdapterError::InvalidInput { field, .. }) => assert_eq!(field, "name"),
        other => panic!("a 70,000-byte name: {other:?}"),
    }
    assert_eq!(adapter.get_user(&u.id).await.unwrap(), Some(u.clone()));

    let secret = format!("secret-{}", "s".repeat(300));
    let result = adapter
        .create_session(Session {
            session_token: secret.clone(),
            user_id: u.id.clone(),
            expires: now_ms() + Duration::days(1),
        })
        .await;
    match &result {
        Err(AdapterError::InvalidInput { field, reason }) => {
            assert_eq!(*field, "session_token");
            assert!(!reason.contains("secret"));
        }
        other => panic!("a 307-character token: {other:?}"),
    }

    let result = adapter
        .create_session(Session {
            session_token: "early".into(),
            user_id: u.id.clone(),
            expires: datetime!(0999-12-31 23:59:59 UTC),
        })
        .await;
    assert!(matches!(
        result,
        Err(AdapterError::InvalidInput {
            field: "expires",
            ..
        })
    ));

    // A conflict names the key, never the value the server quotes.
    let s = Session {
        session_token: "secret-token-value".into(),
        user_id: u.id.clone(),
        expires: now_ms() + Duration::days(1),
    };
    adapter.create_session(s.clone()).await.unwrap();
    let err = adapter.create_session(s).await.unwrap_err();
    assert!(err.is_conflict());
    let shown = format!("{err} {err:?}");
    assert!(!shown.contains("secret-token-value"), "{shown}");
    drop_database(&adapter, &database).await;
}

/// Expiry is judged in UTC whatever the connection's `time_zone`, and a pool
/// built from `pool_options()` gets strict mode.
#[tokio::test]
async fn expiry_ignores_the_session_time_zone_and_connections_are_strict() {
    let (adapter, database) = fresh().await;
    let url = servers::url(Server::Mysql).await;
    let behind_utc = MySqlConnectOptions::from_str(&url)
        .unwrap()
        .database(&database)
        .timezone(Some("-05:00".to_owned()));
    let pool = MysqlAdapter::pool_options()
        .max_connections(2)
        .connect_with(behind_utc)
        .await
        .unwrap();
    let local = MysqlAdapter::from_pool(pool);

    let mode: String = sqlx::query_scalar("SELECT @@SESSION.sql_mode")
        .fetch_one(local.pool())
        .await
        .unwrap();
    assert!(mode.contains("STRICT_ALL_TABLES"), "{mode}");

    let u = local.create_user(NewUser::default()).await.unwrap();
    let expired = Session {
        session_token: "an-hour-ago".into(),
        user_id: u.id.clone(),
        expires: now_ms() - Duration::hours(1),
    };
    let live = Session {
        session_token: "in-an-hour".into(),
        user_id: u.id.clone(),
        expires: now_ms() + Duration::hours(1),
    };
    local.create_session(expired.clone()).await.unwrap();
    local.create_session(live.clone()).await.unwrap();
    assert_eq!(
        local.get_session_and_user("an-hour-ago").await.unwrap(),
        None
    );
    assert_eq!(
        local.get_session_and_user("in-an-hour").await.unwrap(),
        Some((live.clone(), u.clone()))
    );
    // Read through the UTC pool: the same instants.
    assert_eq!(
        adapter.get_session_and_user("in-an-hour").await.unwrap(),
        Some((live, u))
    );
    assert_eq!(local.purge_expired().await.unwrap(), 1);
    assert_eq!(adapter.delete_session("an-hour-ago").await.unwrap(), None);
    drop_database(&adapter, &database).await;
}

#[tokio::test]
async fn a_url_without_a_database_is_invalid_input() {
    let err = MysqlAdapter::connect("mysql://root@127.0.0.1:1")
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            AdapterError::InvalidInput {
                field: "database",
                ..
            }
        ),
        "{err:?}"
    );
    let err = MysqlAdapter::connect("postgres://x").await.unwrap_err();
    assert!(err.is_invalid_input(), "{err:?}");
}

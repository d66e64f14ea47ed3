//! What is special to MySQL / MariaDB: migrations, rows written the way the
//! Auth.js Kysely and Prisma adapters write them, PAD SPACE collations, strict
//! mode, the session time zone, and how server errors are mapped.

use std::str::FromStr;

use adapter_conformance::servers::{self, Server};
use adapter_mysql::sqlx::mysql::MySqlConnectOptions;
use adapter_mysql::sqlx::{self, AssertSqlSafe, Executor, Row};
use adapter_mysql::{MIGRATIONS_TABLE, MysqlAdapter, MysqlOptions, SCHEMA_SQL};
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
        .namespace(&database)
        .create_database_if_missing(true)
        .pool_size(3);
    let adapter = MysqlAdapter::connect_with(options).await.expect("connect");
    adapter.migrate().await.expect("migrate");
    assert_eq!(adapter.namespace(), database);
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
        MysqlAdapter::connect_with(MysqlOptions::from_url(&url).unwrap().namespace(&database))
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

/// Keys are byte-exact: `migrate()` gives the key columns a NO PAD binary
/// collation, so `x` and `x ` are two keys for the unique indexes and the
/// foreign keys too, not only for lookups.
#[tokio::test]
async fn trailing_spaces_make_another_key_everywhere() {
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
    // The unique index on `email` tells them apart.
    let other = adapter
        .create_user(NewUser {
            email: Some("pad@example.com  ".into()),
            ..NewUser::default()
        })
        .await
        .expect("an email with trailing spaces is another email");
    assert_eq!(
        adapter
            .get_user_by_email("pad@example.com  ")
            .await
            .unwrap(),
        Some(other.clone())
    );
    assert_eq!(
        adapter.get_user_by_email("pad@example.com").await.unwrap(),
        Some(u.clone())
    );
    // The foreign keys do too: `u.id + " "` is no user.
    let err = adapter
        .link_account(Account::new(&pad, AccountType::OAuth, "github", "1"))
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");
    let err = adapter
        .create_session(Session {
            session_token: "s".into(),
            user_id: pad.clone(),
            expires: now_ms() + Duration::hours(1),
        })
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err:?}");

    let t = VerificationToken {
        identifier: "pad@example.com".into(),
        token: "tok".into(),
        expires: now_ms() + Duration::hours(1),
    };
    adapter.create_verification_token(t.clone()).await.unwrap();
    let spaced = VerificationToken {
        token: "tok ".into(),
        ..t.clone()
    };
    adapter
        .create_verification_token(spaced.clone())
        .await
        .expect("a token with a trailing space is another token");
    assert_eq!(
        adapter
            .use_verification_token("pad@example.com ", "tok")
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
    assert_eq!(
        adapter
            .use_verification_token("pad@example.com", "tok ")
            .await
            .unwrap(),
        Some(spaced)
    );

    // What the server says: every key column is NO PAD binary.
    let rows = sqlx::query(
        "SELECT CONCAT(TABLE_NAME, '.', COLUMN_NAME), COLLATION_NAME \
         FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND COLUMN_NAME IN \
           ('id', 'email', 'userId', 'provider', 'providerAccountId', 'sessionToken', \
            'identifier', 'token', 'credentialID') \
           AND TABLE_NAME <> ?",
    )
    .bind(MIGRATIONS_TABLE)
    .fetch_all(adapter.pool())
    .await
    .unwrap();
    assert_eq!(rows.len(), 14, "every key column of the five tables");
    for row in rows {
        let (column, collation): (String, String) = (row.get(0), row.get(1));
        assert!(
            collation == "utf8mb4_nopad_bin" || collation == "utf8mb4_0900_bin",
            "{column} has {collation}"
        );
    }
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

    // A conflict names the key (the server's message, which quotes the
    // duplicate value, is dropped; the suite checks no secret shows).
    let s = Session {
        session_token: "token-value".into(),
        user_id: u.id.clone(),
        expires: now_ms() + Duration::days(1),
    };
    adapter.create_session(s.clone()).await.unwrap();
    let err = adapter.create_session(s).await.unwrap_err();
    assert!(
        matches!(
            err,
            AdapterError::Conflict {
                entity: auth_core::Entity::Session,
                key: auth_core::Key::SessionToken
            }
        ),
        "{err:?}"
    );
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
    assert_eq!(
        local.namespace(),
        database,
        "from the pool's connect options"
    );

    let mode: String = sqlx::query_scalar("SELECT @@SESSION.sql_mode")
        .fetch_one(local.pool())
        .await
        .unwrap();
    assert!(mode.contains("STRICT_ALL_TABLES"), "{mode}");
    // And the default lock and statement timeouts (5 s, 10 s).
    let lock: u64 = sqlx::query_scalar("SELECT @@SESSION.innodb_lock_wait_timeout")
        .fetch_one(local.pool())
        .await
        .unwrap();
    assert_eq!(lock, 5);
    let version: String = sqlx::query_scalar("SELECT VERSION()")
        .fetch_one(local.pool())
        .await
        .unwrap();
    let statement: f64 = if version.contains("MariaDB") {
        sqlx::query_scalar("SELECT CAST(@@SESSION.max_statement_time AS DOUBLE)")
    } else {
        sqlx::query_scalar("SELECT CAST(@@SESSION.max_execution_time / 1000 AS DOUBLE)")
    }
    .fetch_one(local.pool())
    .await
    .unwrap();
    assert_eq!(statement, 10.0);

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

/// An options builder for a fresh (not yet created) database.
async fn options_for(database: &str) -> MysqlOptions {
    let url = servers::url(Server::Mysql).await;
    MysqlOptions::from_url(&url)
        .unwrap()
        .namespace(database)
        .create_database_if_missing(true)
        .pool_size(2)
}

/// Defect 1 of issue 11: sqlx's own lock is `GET_LOCK(name, -1)`, which
/// MariaDB answers with NULL at once, so replicas starting together failed
/// with a duplicate key or `Dirty(1)`. Eight instances, each its own pool,
/// migrate one fresh database at once.
#[tokio::test]
async fn eight_instances_migrate_one_fresh_database_at_once() {
    let database = servers::unique_namespace("mymig");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let database = database.clone();
            tokio::spawn(async move {
                let adapter = MysqlAdapter::connect_with(options_for(&database).await).await?;
                adapter.migrate().await?;
                Ok::<_, AdapterError>(adapter)
            })
        })
        .collect();
    let mut adapters = Vec::new();
    for task in tasks {
        adapters.push(task.await.unwrap().expect("every instance migrates"));
    }
    let adapter = &adapters[0];
    let sql = format!("SELECT version, success FROM `{MIGRATIONS_TABLE}`");
    let applied: Vec<(i64, bool)> = sqlx::query_as(AssertSqlSafe(sql))
        .fetch_all(adapter.pool())
        .await
        .unwrap();
    assert_eq!(applied, vec![(1, true)]);
    // The three foreign keys are there, cascading, and nothing else is left.
    let fks: Vec<(String, String)> = sqlx::query_as(
        "SELECT CONCAT(TABLE_NAME, '.', CONSTRAINT_NAME), DELETE_RULE \
         FROM information_schema.REFERENTIAL_CONSTRAINTS \
         WHERE CONSTRAINT_SCHEMA = DATABASE() ORDER BY 1",
    )
    .fetch_all(adapter.pool())
    .await
    .unwrap();
    assert_eq!(
        fks,
        vec![
            ("Account.Account_userId_fkey".into(), "CASCADE".into()),
            (
                "Authenticator.Authenticator_userId_fkey".into(),
                "CASCADE".into()
            ),
            ("Session.Session_userId_fkey".into(), "CASCADE".into()),
        ]
    );
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT TABLE_NAME FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1",
    )
    .fetch_all(adapter.pool())
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
            MIGRATIONS_TABLE
        ]
    );
    // And the instances share it.
    let u = adapters[7].create_user(NewUser::default()).await.unwrap();
    assert_eq!(adapter.get_user(&u.id).await.unwrap(), Some(u));
    drop_database(adapter, &database).await;
}

/// Tables created first by another tool (here the schema SQL with
/// `utf8mb4_bin`, holding rows) are converted in place by `migrate()`: rows
/// and foreign keys kept. A run that stopped after dropping the foreign keys
/// has them added back by the next one.
#[tokio::test]
async fn migrate_converts_existing_tables_and_restores_dropped_foreign_keys() {
    let database = servers::unique_namespace("myconv");
    let plain = MysqlAdapter::connect_with(options_for(&database).await)
        .await
        .unwrap();
    for statement in SCHEMA_SQL.split(';').filter(|s| s.contains("CREATE")) {
        plain
            .pool()
            .execute(AssertSqlSafe(statement.to_owned()))
            .await
            .unwrap();
    }
    let u = plain.create_user(NewUser::default()).await.unwrap();
    let s = plain
        .create_session(Session {
            session_token: "kept".into(),
            user_id: u.id.clone(),
            expires: now_ms() + Duration::hours(1),
        })
        .await
        .unwrap();
    let collation = || async {
        sqlx::query_scalar::<_, String>(
            "SELECT COLLATION_NAME FROM information_schema.COLUMNS \
             WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'Session' \
               AND COLUMN_NAME = 'userId'",
        )
        .fetch_one(plain.pool())
        .await
        .unwrap()
    };
    assert_eq!(collation().await, "utf8mb4_bin");

    plain.migrate().await.unwrap();
    assert_ne!(collation().await, "utf8mb4_bin");
    assert_eq!(
        plain.get_session_and_user("kept").await.unwrap(),
        Some((s.clone(), u.clone()))
    );

    // As if a run had died between dropping and re-adding a foreign key.
    plain
        .pool()
        .execute(
            "CREATE TABLE `_auth_core_pending_foreign_keys` (`table_name` VARCHAR(64) NOT NULL, \
             `name` VARCHAR(64) NOT NULL, `add_sql` TEXT NOT NULL, \
             PRIMARY KEY (`table_name`, `name`))",
        )
        .await
        .unwrap();
    plain
        .pool()
        .execute(
            "INSERT INTO `_auth_core_pending_foreign_keys` VALUES ('Session', \
             'Session_userId_fkey', 'ALTER TABLE `Session` ADD CONSTRAINT `Session_userId_fkey` \
             FOREIGN KEY (`userId`) REFERENCES `User` (`id`) ON DELETE CASCADE ON UPDATE CASCADE')",
        )
        .await
        .unwrap();
    plain
        .pool()
        .execute("ALTER TABLE `Session` DROP FOREIGN KEY `Session_userId_fkey`")
        .await
        .unwrap();
    plain.migrate().await.unwrap();
    let pending: Option<String> = sqlx::query_scalar(
        "SELECT TABLE_NAME FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '_auth_core_pending_foreign_keys'",
    )
    .fetch_optional(plain.pool())
    .await
    .unwrap();
    assert_eq!(pending, None);
    // The cascade works again.
    assert!(plain.delete_user(&u.id).await.unwrap().is_some());
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM `Session`")
        .fetch_one(plain.pool())
        .await
        .unwrap();
    assert_eq!(left, 0);
    drop_database(&plain, &database).await;
}

/// Counters are `INT UNSIGNED` on our tables: every `u32` round-trips. On an
/// `Authenticator` table another tool made with a signed `INT` counter (as
/// Prisma's `Int` does), values up to 2^31-1 work and larger ones are
/// `InvalidInput` naming `counter`.
#[tokio::test]
async fn counters_round_trip_and_a_signed_column_refuses_large_ones_by_name() {
    let (adapter, database) = fresh().await;
    let u = adapter.create_user(NewUser::default()).await.unwrap();
    let passkey = |id: &str, counter: u32| auth_core::Authenticator {
        credential_id: id.into(),
        user_id: u.id.clone(),
        provider_account_id: "pa".into(),
        credential_public_key: "key".into(),
        counter,
        credential_device_type: "singleDevice".into(),
        credential_backed_up: false,
        transports: None,
    };
    adapter
        .create_authenticator(passkey("max", u32::MAX))
        .await
        .unwrap();
    assert_eq!(
        adapter
            .get_authenticator("max")
            .await
            .unwrap()
            .unwrap()
            .counter,
        u32::MAX
    );

    adapter
        .pool()
        .execute("ALTER TABLE `Authenticator` MODIFY `counter` INT NOT NULL DEFAULT 0")
        .await
        .expect_err("u32::MAX does not fit a signed INT");
    adapter
        .pool()
        .execute("DELETE FROM `Authenticator`")
        .await
        .unwrap();
    adapter
        .pool()
        .execute("ALTER TABLE `Authenticator` MODIFY `counter` INT NOT NULL DEFAULT 0")
        .await
        .unwrap();
    adapter.migrate().await.unwrap();
    adapter
        .create_authenticator(passkey("small", (1 << 31) - 1))
        .await
        .unwrap();
    assert_eq!(
        adapter
            .get_authenticator("small")
            .await
            .unwrap()
            .unwrap()
            .counter,
        (1 << 31) - 1
    );
    let err = adapter
        .create_authenticator(passkey("large", 1 << 31))
        .await
        .unwrap_err();
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
        .update_authenticator_counter("small", u32::MAX)
        .await
        .unwrap_err();
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
    assert_eq!(
        adapter
            .get_authenticator("small")
            .await
            .unwrap()
            .unwrap()
            .counter,
        (1 << 31) - 1
    );
    drop_database(&adapter, &database).await;
}

/// A server that accepts the connection and never says a word: connecting
/// gives up with a timeout error after the operation timeout.
#[tokio::test]
async fn connecting_to_a_stalled_server_times_out() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let options = MysqlOptions::from_url(&format!("mysql://root@127.0.0.1:{port}/stalled"))
        .unwrap()
        .operation_timeout(std::time::Duration::from_secs(1));
    let started = std::time::Instant::now();
    let err = MysqlAdapter::connect_with(options).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("connect") || format!("{err:?}").contains("connect"));
    // Bounded: the limit plus scheduling slack, far below "forever".
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    silent.abort();
}

/// A row lock another connection holds: the call waits `lock_timeout` (the
/// server's `innodb_lock_wait_timeout`) and then fails as a timeout.
#[tokio::test]
async fn a_held_row_lock_makes_writes_time_out() {
    let (setup, database) = fresh().await;
    let options = options_for(&database)
        .await
        .lock_timeout(std::time::Duration::from_secs(1))
        .operation_timeout(std::time::Duration::from_secs(5));
    let adapter = MysqlAdapter::connect_with(options).await.unwrap();
    let u = adapter.create_user(NewUser::default()).await.unwrap();

    let mut holder = setup.pool().begin().await.unwrap();
    sqlx::query("SELECT `id` FROM `User` WHERE `id` = ? FOR UPDATE")
        .bind(&u.id)
        .fetch_one(&mut *holder)
        .await
        .unwrap();

    let started = std::time::Instant::now();
    let err = adapter
        .update_user(UserUpdate {
            name: Some(Some("blocked".into())),
            ..UserUpdate::new(&u.id)
        })
        .await
        .unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    let err = adapter.delete_user(&u.id).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));

    holder.rollback().await.unwrap();
    // Once the lock is gone, the adapter works.
    assert!(adapter.delete_user(&u.id).await.unwrap().is_some());
    drop_database(&setup, &database).await;
}

/// Expiry is judged by the caller's clock, never the server's: on
/// connections whose server clock (`SET timestamp`) runs a day ahead, a
/// session that expires in an hour is still live and is not purged.
#[tokio::test]
async fn expiry_follows_the_callers_clock_not_the_servers() {
    let (adapter, database) = fresh().await;
    let url = servers::url(Server::Mysql).await;
    let connect = MySqlConnectOptions::from_str(&url)
        .unwrap()
        .database(&database);
    let pool = sqlx::mysql::MySqlPoolOptions::new()
        .max_connections(2)
        .after_connect(|conn, _| {
            Box::pin(async move {
                conn.execute("SET SESSION timestamp = UNIX_TIMESTAMP() + 86400")
                    .await?;
                Ok(())
            })
        })
        .connect_with(connect)
        .await
        .unwrap();
    let ahead = MysqlAdapter::from_pool(pool);
    let server_now: OffsetDateTime = sqlx::query_scalar("SELECT UTC_TIMESTAMP()")
        .fetch_one(ahead.pool())
        .await
        .map(|t: time::PrimitiveDateTime| t.assume_utc())
        .unwrap();
    assert!(server_now > now_ms() + Duration::hours(23));

    let u = ahead.create_user(NewUser::default()).await.unwrap();
    let s = Session {
        session_token: "an-hour-left".into(),
        user_id: u.id.clone(),
        expires: now_ms() + Duration::hours(1),
    };
    ahead.create_session(s.clone()).await.unwrap();
    let t = VerificationToken {
        identifier: "x@example.com".into(),
        token: "t".into(),
        expires: now_ms() + Duration::hours(1),
    };
    ahead.create_verification_token(t.clone()).await.unwrap();
    assert_eq!(ahead.purge_expired().await.unwrap(), 0);
    assert_eq!(
        ahead.get_session_and_user("an-hour-left").await.unwrap(),
        Some((s.clone(), u))
    );
    let moved = ahead
        .update_session(auth_core::SessionUpdate {
            session_token: "an-hour-left".into(),
            expires: Some(s.expires + Duration::minutes(1)),
            user_id: None,
        })
        .await
        .unwrap();
    assert!(moved.is_some());
    assert_eq!(
        ahead
            .use_verification_token("x@example.com", "t")
            .await
            .unwrap(),
        Some(t)
    );
    drop_database(&adapter, &database).await;
}

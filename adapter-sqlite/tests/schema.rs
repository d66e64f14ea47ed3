//! What is special to SQLite: the migration, and rows written the way the
//! Auth.js Kysely and Prisma adapters write them.

use adapter_sqlite::{SCHEMA_VERSION, SqliteAdapter};
use auth_core::{AccountType, Adapter};
use time::macros::datetime;

async fn fresh(name: &str) -> (SqliteAdapter, std::path::PathBuf) {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("schema");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(adapter_conformance::servers::unique_namespace(name) + ".db");
    (SqliteAdapter::open(&path).await.unwrap(), path)
}

#[tokio::test]
async fn migrate_is_idempotent_and_records_the_version() {
    let (adapter, path) = fresh("migrate").await;
    adapter.migrate().await.unwrap();
    adapter.migrate().await.unwrap();
    let user = adapter.create_user(Default::default()).await.unwrap();
    // A second adapter on the same file migrates again without harm.
    let again = SqliteAdapter::open(&path).await.unwrap();
    again.migrate().await.unwrap();
    assert_eq!(again.get_user(&user.id).await.unwrap(), Some(user));

    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version as usize, SCHEMA_VERSION);
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
}

#[tokio::test]
async fn rows_written_like_authjs_kysely_are_read_back() {
    let (adapter, path) = fresh("kysely").await;
    adapter.migrate().await.unwrap();
    // Kysely on SQLite: ids it generates, ISO strings for dates, no id for
    // Account and Session rows.
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        r#"PRAGMA foreign_keys = ON;
        INSERT INTO "User" ("id", "name", "email", "emailVerified", "image")
            VALUES ('6f1c0f1e-0000-4000-8000-000000000001', 'Ada', 'ada@example.com',
                    '2024-01-02T03:04:05.678Z', NULL);
        INSERT INTO "Account" ("userId", "type", "provider", "providerAccountId", "access_token", "expires_at")
            VALUES ('6f1c0f1e-0000-4000-8000-000000000001', 'oauth', 'github', '42', 'gho_x', 1700000000);
        INSERT INTO "Session" ("sessionToken", "userId", "expires")
            VALUES ('kysely-session', '6f1c0f1e-0000-4000-8000-000000000001', '9999-01-01T00:00:00.000Z');
        INSERT INTO "VerificationToken" ("identifier", "token", "expires")
            VALUES ('ada@example.com', 'hashed', '9999-01-01T00:00:00.000Z');"#,
    )
    .unwrap();
    let (session, user) = adapter
        .get_session_and_user("kysely-session")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.email.as_deref(), Some("ada@example.com"));
    assert_eq!(
        user.email_verified,
        Some(datetime!(2024-01-02 03:04:05.678 UTC))
    );
    assert_eq!(session.expires, datetime!(9999-01-01 0:00 UTC));
    let account = adapter.get_account("github", "42").await.unwrap().unwrap();
    assert_eq!(account.account_type, AccountType::OAuth);
    assert_eq!(account.expires_at, Some(1_700_000_000));
    assert!(
        adapter
            .use_verification_token("ada@example.com", "hashed")
            .await
            .unwrap()
            .is_some()
    );

    // And what we write reads the way Kysely expects: ISO text in UTC.
    adapter
        .update_user(auth_core::UserUpdate {
            email_verified: Some(Some(datetime!(2030-05-06 07:08:09.1234 +02:00))),
            ..auth_core::UserUpdate::new(&user.id)
        })
        .await
        .unwrap();
    let stored: String = conn
        .query_row(
            r#"SELECT "emailVerified" FROM "User" WHERE "id" = ?1"#,
            [&user.id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, "2030-05-06T05:08:09.123Z");

    // Deleting the user cascades to what Kysely inserted.
    adapter.delete_user(&user.id).await.unwrap();
    let left: i64 = conn
        .query_row(r#"SELECT count(*) FROM "Account""#, [], |r| r.get(0))
        .unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn instants_stored_as_unix_milliseconds_are_read() {
    // Prisma's SQLite connector stores DateTime as integer milliseconds.
    let (adapter, path) = fresh("prisma").await;
    adapter.migrate().await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute(
        r#"INSERT INTO "User" ("id", "email", "emailVerified") VALUES ('p1', 'p@example.com', ?1)"#,
        [1_700_000_000_123_i64],
    )
    .unwrap();
    let user = adapter.get_user("p1").await.unwrap().unwrap();
    assert_eq!(
        user.email_verified,
        Some(datetime!(2023-11-14 22:13:20.123 UTC))
    );
}

#[tokio::test]
async fn urls_name_a_file_or_memory() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("urls");
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join(adapter_conformance::servers::unique_namespace("url") + ".db");
    let adapter = SqliteAdapter::connect(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    adapter.migrate().await.unwrap();
    assert!(file.exists());
    let memory = SqliteAdapter::connect("sqlite::memory:").await.unwrap();
    memory.migrate().await.unwrap();
    for bad in ["sqlite://", "sqlite://auth.db?mode=ro"] {
        let err = SqliteAdapter::connect(bad).await.unwrap_err();
        assert!(err.is_invalid_input(), "{bad}: {err}");
    }
}

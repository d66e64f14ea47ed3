//! The promises of issue 11 on SQLite: concurrent `migrate()` (in one process
//! and across processes), instants compared as instants whatever their
//! stored form, no revival of expired sessions, bounded waits, and one shared
//! database for `:memory:`.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use adapter_sqlite::{SCHEMA_VERSION, SqliteAdapter, SqliteOptions};
use auth_core::timestamp::{format_iso, to_unix_millis};
use auth_core::{Adapter, NewUser, OffsetDateTime, Session, SessionUpdate, VerificationToken};
use rusqlite::types::Value;
use time::UtcOffset;
use time::macros::{format_description, offset};

fn scratch(name: &str) -> PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("hardening");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(adapter_conformance::servers::unique_namespace(name) + ".db")
}

// ---------------------------------------------------------------- migrate

async fn check_migrated(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version as usize, SCHEMA_VERSION);
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN \
             ('User', 'Account', 'Session', 'VerificationToken', 'Authenticator')",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(tables, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn eight_instances_migrate_one_fresh_file_at_once() {
    let path = scratch("migrate8");
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let path = path.clone();
            tokio::spawn(async move {
                let adapter = SqliteAdapter::open(&path).await?;
                adapter.migrate().await?;
                Ok::<_, auth_core::AdapterError>(adapter)
            })
        })
        .collect();
    let mut adapters = Vec::new();
    for (i, task) in tasks.into_iter().enumerate() {
        match task.await.unwrap() {
            Ok(adapter) => adapters.push(adapter),
            Err(e) => panic!("instance {i}: migrate failed: {e}"),
        }
    }
    // They all work on the one database.
    let user = adapters[0].create_user(NewUser::default()).await.unwrap();
    for adapter in &adapters {
        assert_eq!(
            adapter.get_user(&user.id).await.unwrap().as_ref(),
            Some(&user)
        );
    }
    check_migrated(&path).await;
}

/// The variable that turns [`migrate_child_process`] into a real migration.
const CHILD_DB: &str = "ADAPTER_SQLITE_MIGRATE_CHILD_DB";

/// Not a test of its own: [`eight_processes_migrate_one_fresh_file_at_once`]
/// runs this test binary 8 times with only this test and [`CHILD_DB`] set.
/// Without the variable it does nothing.
#[tokio::test]
async fn migrate_child_process() {
    let Ok(path) = std::env::var(CHILD_DB) else {
        return;
    };
    let adapter = SqliteAdapter::open(&path).await.expect("open");
    adapter.migrate().await.expect("migrate");
    adapter
        .create_user(NewUser::default())
        .await
        .expect("create a user after migrating");
}

#[test]
fn eight_processes_migrate_one_fresh_file_at_once() {
    let path = scratch("migrate8p");
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..8)
        .map(|_| {
            std::process::Command::new(&exe)
                .args(["--exact", "migrate_child_process", "--test-threads=1"])
                .env(CHILD_DB, &path)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "process {i} failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    let users: i64 = conn
        .query_row(r#"SELECT count(*) FROM "User""#, [], |r| r.get(0))
        .unwrap();
    assert_eq!(users, 8);
    drop(conn);
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(check_migrated(&path));
}

#[tokio::test]
async fn migrate_refuses_a_newer_schema() {
    let path = scratch("newer");
    let adapter = SqliteAdapter::open(&path).await.unwrap();
    adapter.migrate().await.unwrap();
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", SCHEMA_VERSION as i64 + 1)
        .unwrap();
    let err = adapter.migrate().await.unwrap_err();
    assert!(err.to_string().contains("schema version"), "{err}");
}

// ---------------------------------------------------------------- instants

/// How one form stores an instant.
type Store = fn(OffsetDateTime) -> Value;

/// The ways an instant may be stored, each a function of the instant.
const FORMS: &[(&str, Store)] = &[
    ("ms-integer", |t| Value::Integer(to_unix_millis(t))),
    ("ms-text", |t| Value::Text(to_unix_millis(t).to_string())),
    ("iso-z-3", |t| Value::Text(format_iso("t", t).unwrap())),
    ("iso-plus-2", |t| {
        Value::Text(
            t.to_offset(offset!(+2))
                .format(format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+02:00"
                ))
                .unwrap(),
        )
    }),
    ("iso-minus-0530-0", |t| {
        Value::Text(
            t.to_offset(offset!(-5:30))
                .format(format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second]-05:30"
                ))
                .unwrap(),
        )
    }),
    ("iso-z-0", |t| {
        Value::Text(
            t.to_offset(UtcOffset::UTC)
                .format(format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second]Z"
                ))
                .unwrap(),
        )
    }),
    ("iso-z-6", |t| {
        Value::Text(
            t.to_offset(UtcOffset::UTC)
                .format(format_description!(
                    "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z"
                ))
                .unwrap(),
        )
    }),
];

fn whole_second(t: OffsetDateTime) -> OffsetDateTime {
    t.replace_nanosecond(0).unwrap()
}

/// Instants to store, each `(label, instant, live)`: whole seconds so every
/// form holds them exactly.
fn instants() -> Vec<(&'static str, OffsetDateTime, bool)> {
    let now = OffsetDateTime::now_utc();
    vec![
        ("live", whole_second(now) + Duration::from_secs(3600), true),
        ("soon", whole_second(now) + Duration::from_secs(30), true),
        (
            "expired",
            whole_second(now) - Duration::from_secs(3600),
            false,
        ),
        // Less than a second ago: ISO text without fraction digits sorts
        // after the current time's text, though it is earlier.
        ("just", whole_second(now), false),
    ]
}

/// Inserts, for every form and instant, a session `r-..` (for reads and
/// updates), a session `p-..` (for the purge), and the same two verification
/// tokens, straight into the tables; returns the keys and expectations.
fn seed(path: &std::path::Path) -> Vec<(String, OffsetDateTime, bool)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute(
        r#"INSERT INTO "User" ("id", "email") VALUES ('u1', 'u1@x.com')"#,
        [],
    )
    .unwrap();
    conn.execute(
        r#"INSERT INTO "User" ("id", "email") VALUES ('u2', 'u2@x.com')"#,
        [],
    )
    .unwrap();
    let mut keys = Vec::new();
    for (form, store) in FORMS {
        for (label, t, live) in instants() {
            let key = format!("{form}-{label}");
            for prefix in ["r", "p"] {
                let token = format!("{prefix}-{key}");
                conn.execute(
                    r#"INSERT INTO "Session" ("sessionToken", "userId", "expires")
                       VALUES (?1, 'u1', ?2)"#,
                    rusqlite::params![token, store(t)],
                )
                .unwrap();
                conn.execute(
                    r#"INSERT INTO "VerificationToken" ("identifier", "token", "expires")
                       VALUES ('id', ?1, ?2)"#,
                    rusqlite::params![token, store(t)],
                )
                .unwrap();
            }
            keys.push((key, t, live));
        }
    }
    keys
}

async fn check_every_filter(adapter: &SqliteAdapter, path: &std::path::Path) {
    let keys = seed(path);
    for (key, t, live) in &keys {
        let token = format!("r-{key}");
        let found = adapter.get_session_and_user(&token).await.unwrap();
        assert_eq!(
            found.as_ref().map(|(s, u)| (s.expires, u.id.as_str())),
            live.then_some((*t, "u1")),
            "get_session_and_user({token}): live = {live}"
        );
        // A move to u2 happens only to a live session.
        let updated = adapter
            .update_session(SessionUpdate {
                session_token: token.clone(),
                expires: None,
                user_id: Some("u2".into()),
            })
            .await
            .unwrap();
        assert_eq!(
            updated.map(|s| (s.expires, s.user_id)),
            live.then(|| (*t, "u2".to_owned())),
            "update_session({token}): live = {live}"
        );
        assert!(
            adapter
                .get_session_and_user(&token)
                .await
                .unwrap()
                .is_none()
                != *live,
            "update_session({token}) must not revive it"
        );
        let used = adapter.use_verification_token("id", &token).await.unwrap();
        assert_eq!(
            used.map(|v| v.expires),
            live.then_some(*t),
            "use_verification_token({token}): live = {live}"
        );
    }
    let expired = keys.iter().filter(|(_, _, live)| !live).count() as u64;
    // Expired: `p-` and `r-` sessions, `p-` tokens (the `r-` ones were used).
    assert_eq!(adapter.purge_expired().await.unwrap(), expired * 3);
    for (key, t, live) in &keys {
        let token = format!("p-{key}");
        let found = adapter.get_session_and_user(&token).await.unwrap();
        assert_eq!(
            found.map(|(s, _)| s.expires),
            live.then_some(*t),
            "after the purge, session {token}: live = {live}"
        );
        let used = adapter.use_verification_token("id", &token).await.unwrap();
        assert_eq!(
            used.map(|v| v.expires),
            live.then_some(*t),
            "after the purge, token {token}: live = {live}"
        );
    }
    assert_eq!(adapter.purge_expired().await.unwrap(), 0);
}

#[tokio::test]
async fn every_stored_form_of_an_instant_compares_as_an_instant() {
    // Our schema: `expires TEXT`, so an integer is stored as digits.
    let path = scratch("forms");
    let adapter = SqliteAdapter::open(&path).await.unwrap();
    adapter.migrate().await.unwrap();
    check_every_filter(&adapter, &path).await;
}

#[tokio::test]
async fn every_stored_form_compares_as_an_instant_in_prisma_tables() {
    // Prisma's tables: `expires DATETIME` (NUMERIC affinity) keeps integers
    // as integers and reals as reals. `migrate()` keeps existing tables.
    let path = scratch("prisma-forms");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            r#"CREATE TABLE "Session" (
                 "id" TEXT NOT NULL PRIMARY KEY DEFAULT (lower(hex(randomblob(16)))),
                 "sessionToken" TEXT NOT NULL,
                 "userId" TEXT NOT NULL,
                 "expires" DATETIME NOT NULL,
                 CONSTRAINT "Session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "User" ("id")
                   ON DELETE CASCADE ON UPDATE CASCADE);
               CREATE TABLE "VerificationToken" (
                 "identifier" TEXT NOT NULL,
                 "token" TEXT NOT NULL,
                 "expires" DATETIME NOT NULL);"#,
        )
        .unwrap();
    let adapter = SqliteAdapter::open(&path).await.unwrap();
    adapter.migrate().await.unwrap();
    check_every_filter(&adapter, &path).await;
    let kinds: Vec<String> = {
        let conn = rusqlite::Connection::open(&path).unwrap();
        let mut stmt = conn
            .prepare(r#"SELECT DISTINCT typeof("expires") FROM "Session" ORDER BY 1"#)
            .unwrap();
        stmt.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    assert_eq!(
        kinds,
        ["integer", "text"],
        "the integer forms stayed integers"
    );
}

#[tokio::test]
async fn update_session_of_an_expired_session_changes_nothing() {
    let adapter = SqliteAdapter::in_memory().await.unwrap();
    adapter.migrate().await.unwrap();
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    let past = OffsetDateTime::now_utc() - Duration::from_secs(1);
    adapter
        .create_session(Session {
            session_token: "old".into(),
            user_id: user.id.clone(),
            expires: past,
        })
        .await
        .unwrap();
    let revived = adapter
        .update_session(SessionUpdate {
            session_token: "old".into(),
            expires: Some(OffsetDateTime::now_utc() + Duration::from_secs(3600)),
            user_id: None,
        })
        .await
        .unwrap();
    assert_eq!(revived, None);
    assert_eq!(adapter.get_session_and_user("old").await.unwrap(), None);
    assert_eq!(adapter.purge_expired().await.unwrap(), 1);
}

// ---------------------------------------------------------------- values

#[tokio::test]
async fn one_mib_strings_are_stored_byte_for_byte() {
    let adapter = SqliteAdapter::in_memory().await.unwrap();
    adapter.migrate().await.unwrap();
    let big = |c: &str| c.repeat((1 << 20) / c.len());
    let user = adapter
        .create_user(NewUser {
            name: Some(big("\0é")),
            email: Some(big("a ")),
            image: Some(big("🦀")),
            ..NewUser::default()
        })
        .await
        .unwrap();
    assert_eq!(user.email.as_ref().unwrap().len(), 1 << 20);
    assert_eq!(
        adapter.get_user(&user.id).await.unwrap().as_ref(),
        Some(&user)
    );
    assert_eq!(
        adapter
            .get_user_by_email(user.email.as_deref().unwrap())
            .await
            .unwrap(),
        Some(user.clone())
    );
    let session = adapter
        .create_session(Session {
            session_token: big("t"),
            user_id: user.id.clone(),
            expires: OffsetDateTime::now_utc() + Duration::from_secs(60),
        })
        .await
        .unwrap();
    let (found, _) = adapter
        .get_session_and_user(&session.session_token)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, session);
    let token = VerificationToken {
        identifier: big("i"),
        token: big("v"),
        expires: OffsetDateTime::now_utc() + Duration::from_secs(60),
    };
    let token = adapter.create_verification_token(token).await.unwrap();
    assert_eq!(
        adapter
            .use_verification_token(&token.identifier, &token.token)
            .await
            .unwrap(),
        Some(token)
    );
}

// ---------------------------------------------------------------- timeouts

fn short(path: &std::path::Path) -> SqliteOptions {
    SqliteOptions::file(path)
        .busy_timeout(Duration::from_millis(300))
        .operation_timeout(Duration::from_secs(1))
}

/// A plain connection holding the write lock of `path` until dropped.
fn hold_write_lock(path: &std::path::Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    conn
}

#[tokio::test]
async fn a_held_write_lock_gives_a_timeout_within_the_busy_timeout() {
    let path = scratch("locked");
    let adapter = SqliteAdapter::connect_with(short(&path)).await.unwrap();
    adapter.migrate().await.unwrap();
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    let lock = hold_write_lock(&path);

    let started = Instant::now();
    let err = adapter.create_user(NewUser::default()).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("create_user") || format!("{err:?}").contains("create_user"));
    let err = adapter.purge_expired().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "gave up after {:?}",
        started.elapsed()
    );
    // WAL: reads go on while the lock is held.
    assert!(adapter.get_user(&user.id).await.unwrap().is_some());

    drop(lock);
    adapter.create_user(NewUser::default()).await.unwrap();
}

#[tokio::test]
async fn the_operation_timeout_bounds_a_call_that_waits_for_a_lock() {
    let path = scratch("optimeout");
    // The busy timeout alone would wait 30 s.
    let options = SqliteOptions::file(&path)
        .busy_timeout(Duration::from_secs(30))
        .operation_timeout(Duration::from_millis(500));
    let adapter = SqliteAdapter::connect_with(options).await.unwrap();
    adapter.migrate().await.unwrap();
    let lock = hold_write_lock(&path);
    let started = Instant::now();
    let err = adapter.create_user(NewUser::default()).await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(lock);
}

#[tokio::test]
async fn migrate_waits_for_a_held_lock_within_the_bound() {
    let path = scratch("migratelock");
    let adapter = SqliteAdapter::connect_with(short(&path)).await.unwrap();
    let lock = hold_write_lock(&path);
    let err = adapter.migrate().await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    drop(lock);
    adapter.migrate().await.unwrap();
}

#[tokio::test]
async fn an_exhausted_pool_gives_a_timeout() {
    let path = scratch("pool");
    let adapter = SqliteAdapter::connect_with(short(&path).pool_size(1))
        .await
        .unwrap();
    adapter.migrate().await.unwrap();
    let held = adapter.pool().get().await.unwrap();
    let started = Instant::now();
    let err = adapter.get_user("nobody").await.unwrap_err();
    assert!(err.is_timeout(), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    drop(held);
    assert_eq!(adapter.get_user("nobody").await.unwrap(), None);
}

// ---------------------------------------------------------------- :memory:

async fn exercise_concurrently(adapter: SqliteAdapter) {
    adapter.migrate().await.unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let adapter = adapter.clone();
            tokio::spawn(async move {
                let user = adapter
                    .create_user(NewUser {
                        email: Some(format!("{i}@x.com")),
                        ..NewUser::default()
                    })
                    .await?;
                let session = adapter
                    .create_session(Session {
                        session_token: format!("s{i}"),
                        user_id: user.id.clone(),
                        expires: OffsetDateTime::now_utc() + Duration::from_secs(60),
                    })
                    .await?;
                let (_, owner) = adapter
                    .get_session_and_user(&session.session_token)
                    .await?
                    .expect("the session just created");
                assert_eq!(owner, user);
                adapter.purge_expired().await?;
                Ok::<_, auth_core::AdapterError>(())
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    for i in 0..32 {
        assert!(
            adapter
                .get_user_by_email(&format!("{i}@x.com"))
                .await
                .unwrap()
                .is_some()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_memory_form_is_one_shared_database() {
    exercise_concurrently(SqliteAdapter::open(":memory:").await.unwrap()).await;
    exercise_concurrently(
        SqliteAdapter::connect_with(SqliteOptions::file(":memory:"))
            .await
            .unwrap(),
    )
    .await;
    exercise_concurrently(SqliteAdapter::connect("sqlite://:memory:").await.unwrap()).await;
    exercise_concurrently(SqliteAdapter::connect("sqlite::memory:").await.unwrap()).await;
    // Several pooled connections share it too.
    exercise_concurrently(
        SqliteAdapter::connect_with(SqliteOptions::in_memory().pool_size(4))
            .await
            .unwrap(),
    )
    .await;
}

#[tokio::test]
async fn memory_databases_are_private_to_their_adapter() {
    let a = SqliteAdapter::in_memory().await.unwrap();
    let b = SqliteAdapter::in_memory().await.unwrap();
    a.migrate().await.unwrap();
    let err = b.get_user("x").await.unwrap_err();
    assert!(
        err.to_string().contains("no such table") || format!("{err:?}").contains("no such table")
    );
    b.migrate().await.unwrap();
    let user = a.create_user(NewUser::default()).await.unwrap();
    assert_eq!(b.get_user(&user.id).await.unwrap(), None);
    // A clone shares the database, and keeps it alive without the original.
    let clone = a.clone();
    drop(a);
    assert_eq!(clone.get_user(&user.id).await.unwrap(), Some(user));
}

#[tokio::test]
async fn paths_private_to_each_connection_are_refused() {
    for path in ["", "file::memory:", "file:x?mode=memory"] {
        let err = SqliteAdapter::connect_with(SqliteOptions::file(path))
            .await
            .unwrap_err();
        assert!(err.is_invalid_input(), "{path:?}: {err}");
    }
}

#[tokio::test]
async fn an_unreadable_instant_matches_no_filter() {
    let path = scratch("garbage");
    let adapter = SqliteAdapter::open(&path).await.unwrap();
    adapter.migrate().await.unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        r#"INSERT INTO "User" ("id") VALUES ('u1');
           INSERT INTO "Session" ("sessionToken", "userId", "expires") VALUES ('g', 'u1', 'soon');
           INSERT INTO "VerificationToken" ("identifier", "token", "expires") VALUES ('i', 'g', 'soon');"#,
    )
    .unwrap();
    assert_eq!(adapter.get_session_and_user("g").await.unwrap(), None);
    assert_eq!(adapter.purge_expired().await.unwrap(), 0);
    let update = SessionUpdate {
        session_token: "g".into(),
        expires: None,
        user_id: None,
    };
    assert_eq!(adapter.update_session(update).await.unwrap(), None);
    // Reading it back is a `Backend` error that quotes the stored text.
    let err = adapter.delete_session("g").await.unwrap_err();
    assert!(
        matches!(err, auth_core::AdapterError::Backend(_)) && format!("{err:?}").contains("soon"),
        "{err:?}"
    );
}

// ---------------------------------------------------------------- counters

#[tokio::test]
async fn every_u32_counter_round_trips_in_a_table_another_tool_created() {
    // Prisma declares `counter INTEGER`; a hand-written table may say `INT`.
    // SQLite stores both as 64-bit integers.
    let path = scratch("counter");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            r#"CREATE TABLE "Authenticator" (
                 "credentialID" TEXT NOT NULL PRIMARY KEY,
                 "userId" TEXT NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE,
                 "providerAccountId" TEXT NOT NULL,
                 "credentialPublicKey" TEXT NOT NULL,
                 "counter" INT NOT NULL,
                 "credentialDeviceType" TEXT NOT NULL,
                 "credentialBackedUp" BOOLEAN NOT NULL,
                 "transports" TEXT);"#,
        )
        .unwrap();
    let adapter = SqliteAdapter::open(&path).await.unwrap();
    adapter.migrate().await.unwrap();
    let user = adapter.create_user(NewUser::default()).await.unwrap();
    let created = adapter
        .create_authenticator(auth_core::Authenticator {
            credential_id: "c1".into(),
            user_id: user.id.clone(),
            provider_account_id: "p".into(),
            credential_public_key: "k".into(),
            counter: 0,
            credential_device_type: "singleDevice".into(),
            credential_backed_up: false,
            transports: None,
        })
        .await
        .unwrap();
    for counter in [0, 1, i32::MAX as u32, 1 << 31, u32::MAX] {
        let updated = adapter
            .update_authenticator_counter("c1", counter)
            .await
            .unwrap();
        assert_eq!(updated.counter, counter);
        let read = adapter.get_authenticator("c1").await.unwrap().unwrap();
        assert_eq!(
            read,
            auth_core::Authenticator {
                counter,
                ..created.clone()
            }
        );
    }
}

// ---------------------------------------------------------------- namespace

#[tokio::test]
async fn drop_namespace_removes_the_file_and_its_wal_files() {
    let path = scratch("dropns");
    let options = SqliteOptions::from_url(&format!("sqlite://{}", path.display()))
        .unwrap()
        .pool_size(2);
    let adapter = SqliteAdapter::connect_with(options).await.unwrap();
    assert_eq!(adapter.namespace(), path.to_str().unwrap());
    adapter.migrate().await.unwrap();
    adapter.create_user(NewUser::default()).await.unwrap();
    let wal = format!("{}-wal", path.display());
    assert!(std::path::Path::new(&wal).exists(), "WAL mode makes {wal}");
    adapter.drop_namespace().await.unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let file = format!("{}{suffix}", path.display());
        assert!(!std::path::Path::new(&file).exists(), "{file} is left");
    }

    // An adapter from a pool finds its file by asking SQLite.
    let path = scratch("dropns-pool");
    let pool = adapter_sqlite::deadpool_sqlite::Config::new(&path)
        .create_pool(adapter_sqlite::deadpool_sqlite::Runtime::Tokio1)
        .unwrap();
    let adapter = SqliteAdapter::from_pool(pool);
    assert_eq!(adapter.namespace(), "");
    adapter.migrate().await.unwrap();
    assert!(path.exists());
    adapter.drop_namespace().await.unwrap();
    assert!(!path.exists());

    // In memory: nothing to delete.
    let adapter = SqliteAdapter::connect("sqlite::memory:").await.unwrap();
    assert_eq!(adapter.namespace(), ":memory:");
    adapter.drop_namespace().await.unwrap();
}

#[test]
fn the_namespace_option_names_the_file() {
    let options = SqliteOptions::in_memory().namespace("a.db").pool_size(3);
    assert_eq!(options.path.as_deref(), Some(std::path::Path::new("a.db")));
    assert_eq!(options.pool_size, 3);
    assert_eq!(SqliteOptions::file("a.db").namespace(":memory:").path, None);
}

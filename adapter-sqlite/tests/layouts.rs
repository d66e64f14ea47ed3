//! The other table layouts: the whole conformance suite on Drizzle's tables
//! (created by `migrate()`, or first by Drizzle's own DDL), on custom table
//! names with a prefix, and `migrate()` against the official DDL.

use std::path::{Path, PathBuf};

use adapter_conformance::servers::unique_namespace;
use adapter_sqlite::{Layout, SqliteAdapter, SqliteOptions, TableNames};
use auth_core::{AdapterError, NewUser};

/// The official DDL of `@auth/drizzle-adapter`'s SQLite schema.
const DRIZZLE_DDL: &str = include_str!("fixtures/drizzle-sqlite.sql");

/// The database file of `namespace`, under Cargo's scratch directory.
fn database_file(namespace: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("layouts");
    std::fs::create_dir_all(&dir).expect("create the test database directory");
    dir.join(format!("{namespace}.db"))
}

/// Runs `sql` on the file at `path` with a connection of its own.
fn run_sql(path: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(path).expect("open the database file");
    conn.execute_batch(sql).expect("run the SQL");
}

async fn open(options: SqliteOptions) -> Result<SqliteAdapter, AdapterError> {
    let adapter = SqliteAdapter::connect_with(options).await?;
    adapter.migrate().await?;
    Ok(adapter)
}

async fn drop_namespace(adapter: SqliteAdapter) {
    adapter
        .drop_namespace()
        .await
        .expect("remove the test database");
}

/// Drizzle's tables, created by `migrate()`.
mod drizzle {
    use super::*;

    async fn adapter() -> SqliteAdapter {
        migrated(unique_namespace("drizzle")).await.expect("open")
    }

    async fn migrated(namespace: String) -> Result<SqliteAdapter, AdapterError> {
        open(SqliteOptions::file(database_file(&namespace)).layout(Layout::Drizzle)).await
    }

    adapter_conformance::conformance_tests!(
        adapter,
        teardown = super::drop_namespace,
        migrate = migrated
    );
}

/// Drizzle's tables as its own DDL created them; `migrate()` keeps them.
mod drizzle_official_tables {
    use super::*;

    async fn adapter() -> SqliteAdapter {
        let path = database_file(&unique_namespace("drizzle_ddl"));
        run_sql(&path, DRIZZLE_DDL);
        open(SqliteOptions::file(path).layout(Layout::Drizzle))
            .await
            .expect("open")
    }

    adapter_conformance::conformance_tests!(adapter, teardown = super::drop_namespace);
}

/// Custom names with a prefix, in a file that also holds the default tables
/// (which must stay empty).
mod prisma_custom_names {
    use super::*;

    fn options(path: PathBuf) -> SqliteOptions {
        SqliteOptions::file(path)
            .table_names(TableNames {
                user: "people".into(),
                account: "logins".into(),
                session: "visits".into(),
                verification_token: "magic \"links\"".into(),
                authenticator: "passkeys".into(),
            })
            .table_prefix("app_")
    }

    async fn adapter() -> SqliteAdapter {
        migrated(unique_namespace("custom")).await.expect("open")
    }

    async fn migrated(namespace: String) -> Result<SqliteAdapter, AdapterError> {
        let path = database_file(&namespace);
        SqliteAdapter::open(&path).await?.migrate().await?;
        open(options(path)).await
    }

    /// Tears down after checking that nothing reached the default tables.
    async fn teardown(adapter: SqliteAdapter) {
        let path = adapter.path().expect("a file").to_owned();
        let conn = rusqlite::Connection::open(&path).unwrap();
        for table in [
            "User",
            "Account",
            "Session",
            "VerificationToken",
            "Authenticator",
        ] {
            let rows: i64 = conn
                .query_row(&format!("SELECT count(*) FROM \"{table}\""), [], |r| {
                    r.get(0)
                })
                .unwrap();
            assert_eq!(rows, 0, "the default table {table} was written to");
        }
        drop(conn);
        super::drop_namespace(adapter).await;
    }

    adapter_conformance::conformance_tests!(adapter, teardown = teardown, migrate = migrated);
}

/// Drizzle's layout with a prefix.
mod drizzle_prefixed {
    use super::*;

    async fn adapter() -> SqliteAdapter {
        let path = database_file(&unique_namespace("drizzle_prefix"));
        open(
            SqliteOptions::file(path)
                .layout(Layout::Drizzle)
                .table_prefix("auth_"),
        )
        .await
        .expect("open")
    }

    adapter_conformance::conformance_tests!(adapter, teardown = super::drop_namespace);
}

// ------------------------------------------------------------------ schema

/// Every column (name, declared type, NOT NULL, place in the primary key),
/// foreign key and unique index of `table`, in a comparable form.
fn describe(conn: &rusqlite::Connection, table: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut columns = conn
        .prepare(&format!("PRAGMA table_info(\"{table}\")"))
        .unwrap();
    let rows = columns
        .query_map([], |r| {
            Ok(format!(
                "column {} {} notnull={} pk={}",
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?.to_lowercase(),
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(5)?
            ))
        })
        .unwrap();
    out.extend(rows.map(Result::unwrap));
    let mut fks = conn
        .prepare(&format!("PRAGMA foreign_key_list(\"{table}\")"))
        .unwrap();
    let rows = fks
        .query_map([], |r| {
            Ok(format!(
                "foreign key {} -> {}.{} on update {} on delete {}",
                r.get::<_, String>(3)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(4)?,
                r.get::<_, String>(5)?,
                r.get::<_, String>(6)?
            ))
        })
        .unwrap();
    out.extend(rows.map(Result::unwrap));
    let mut indexes = conn
        .prepare(&format!(
            "SELECT il.name, il.origin FROM pragma_index_list(\"{table}\") il WHERE il.\"unique\""
        ))
        .unwrap();
    let unique: Vec<(String, String)> = indexes
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    for (name, origin) in unique {
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_index_info(?1) ORDER BY seqno")
            .unwrap()
            .query_map([&name], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        // A primary key's automatic index has no name of its own.
        let name = if origin == "pk" {
            "(primary key)"
        } else {
            &name
        };
        out.push(format!("unique {name} ({})", columns.join(", ")));
    }
    out.sort();
    out
}

const DRIZZLE_TABLES: [&str; 5] = [
    "user",
    "account",
    "session",
    "verificationToken",
    "authenticator",
];

#[tokio::test]
async fn migrate_creates_exactly_the_official_drizzle_tables() {
    let official = database_file(&unique_namespace("official"));
    run_sql(&official, DRIZZLE_DDL);
    let ours =
        open(SqliteOptions::file(database_file(&unique_namespace("ours"))).layout(Layout::Drizzle))
            .await
            .unwrap();
    let a = rusqlite::Connection::open(&official).unwrap();
    let b = rusqlite::Connection::open(ours.path().unwrap()).unwrap();
    let tables = |conn: &rusqlite::Connection| -> Vec<String> {
        conn.prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect()
    };
    assert_eq!(tables(&b), tables(&a), "the tables differ");
    for table in DRIZZLE_TABLES {
        assert_eq!(
            describe(&b, table),
            describe(&a, table),
            "table {table}: migrate() differs from the official DDL"
        );
    }
    drop((a, b));
    ours.drop_namespace().await.unwrap();
    std::fs::remove_file(official).unwrap();
}

#[tokio::test]
async fn migrate_keeps_official_drizzle_tables_and_their_rows() {
    let path = database_file(&unique_namespace("keep"));
    run_sql(&path, DRIZZLE_DDL);
    run_sql(
        &path,
        "INSERT INTO user (id, email, emailVerified) VALUES ('u1', 'a@x.io', 1700000000123)",
    );
    let adapter = open(SqliteOptions::file(&path).layout(Layout::Drizzle))
        .await
        .unwrap();
    adapter.migrate().await.unwrap();
    let user = auth_core::Adapter::get_user(&adapter, "u1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        user.email_verified
            .map(auth_core::timestamp::to_unix_millis),
        Some(1_700_000_000_123)
    );
    // `user_version` belongs to the default tables: untouched.
    let conn = rusqlite::Connection::open(&path).unwrap();
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 0);
    drop(conn);
    adapter.drop_namespace().await.unwrap();
}

/// Instants are stored as Drizzle's `timestamp_ms` integers and booleans
/// as 0/1, so Drizzle reads what we write.
#[tokio::test]
async fn drizzle_rows_are_stored_as_drizzle_stores_them() {
    use auth_core::Adapter;
    use time::macros::datetime;
    let path = database_file(&unique_namespace("forms"));
    let adapter = open(SqliteOptions::file(&path).layout(Layout::Drizzle))
        .await
        .unwrap();
    let at = datetime!(2031-02-03 04:05:06.789 UTC);
    let user = adapter
        .create_user(NewUser {
            email_verified: Some(at),
            ..NewUser::default()
        })
        .await
        .unwrap();
    adapter
        .create_session(auth_core::Session {
            session_token: "tok".into(),
            user_id: user.id.clone(),
            expires: at,
        })
        .await
        .unwrap();
    adapter
        .create_authenticator(auth_core::Authenticator {
            credential_id: "cred".into(),
            user_id: user.id.clone(),
            provider_account_id: "pa".into(),
            credential_public_key: "pk".into(),
            counter: u32::MAX,
            credential_device_type: "singleDevice".into(),
            credential_backed_up: true,
            transports: None,
        })
        .await
        .unwrap();
    let conn = rusqlite::Connection::open(&path).unwrap();
    let (kind, verified): (String, i64) = conn
        .query_row(
            "SELECT typeof(emailVerified), emailVerified FROM user",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    let ms = auth_core::timestamp::to_unix_millis(at);
    assert_eq!((kind.as_str(), verified), ("integer", ms));
    let expires: i64 = conn
        .query_row("SELECT expires FROM session", [], |r| r.get(0))
        .unwrap();
    assert_eq!(expires, ms);
    let (counter, backed_up): (i64, i64) = conn
        .query_row(
            "SELECT counter, credentialBackedUp FROM authenticator",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((counter, backed_up), (u32::MAX as i64, 1));
    drop(conn);
    adapter.drop_namespace().await.unwrap();
}

#[tokio::test]
async fn unusable_layouts_and_names_are_invalid_input() {
    let pg = SqliteAdapter::connect_with(SqliteOptions::in_memory().layout(Layout::PgAdapter))
        .await
        .unwrap_err();
    assert!(pg.is_invalid_input(), "{pg}");
    assert!(pg.to_string().contains("layout"), "{pg}");
    let mut twice = TableNames::of(Layout::Drizzle);
    twice.session = "user".into();
    for names in [twice, TableNames::default().with_prefix(&"x".repeat(300))] {
        let err = SqliteAdapter::connect_with(SqliteOptions::in_memory().table_names(names))
            .await
            .unwrap_err();
        assert!(err.is_invalid_input(), "{err}");
        assert!(err.to_string().contains("table_names"), "{err}");
    }
}

#[test]
fn options_builders_set_the_layout_and_names() {
    let options = SqliteOptions::in_memory()
        .layout(Layout::Drizzle)
        .table_prefix("auth_");
    assert_eq!(options.layout, Layout::Drizzle);
    assert_eq!(options.table_names.user, "auth_user");
    // `layout` resets the names to the layout's own.
    let reset = options.layout(Layout::Prisma);
    assert_eq!(reset.table_names, TableNames::default());
}

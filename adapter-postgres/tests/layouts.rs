//! The other table layouts: the whole conformance suite on the tables of
//! `@auth/drizzle-adapter` and `@auth/pg-adapter` (made by their official
//! DDL, then `migrate()`), on custom table names and a prefix (made by
//! `migrate()` alone), and checks that `migrate()` makes exactly the
//! official tables. Each case runs in a schema of its own.

use adapter_conformance::servers::{Server, unique_namespace, url};
use adapter_postgres::deadpool_postgres::{Manager, Pool, Runtime};
use adapter_postgres::tokio_postgres::{self, Row};
use adapter_postgres::{Layout, PostgresAdapter, PostgresOptions, TableNames};
use auth_core::AdapterError;

/// `@auth/pg-adapter`'s documented schema (packages/adapter-pg/schema.sql).
const PG_ADAPTER_SQL: &str = include_str!("fixtures/pg-adapter-schema.sql");
/// What drizzle-kit makes of `@auth/drizzle-adapter`'s `defineTables()`.
const DRIZZLE_SQL: &str = include_str!("fixtures/drizzle-pg.sql");

/// The official DDL of `layout`, without psql meta-commands.
fn official_sql(layout: Layout) -> String {
    let sql = match layout {
        Layout::Drizzle => DRIZZLE_SQL,
        Layout::PgAdapter => PG_ADAPTER_SQL,
        other => panic!("no official DDL fixture for {other}"),
    };
    sql.lines()
        .filter(|line| !line.starts_with('\\'))
        .collect::<Vec<_>>()
        .join("\n")
}

/// An adapter with `layout` (and `names`, if given, and `prefix`) on the
/// schema `namespace`, not migrated.
async fn connect(
    namespace: &str,
    layout: Layout,
    names: Option<TableNames>,
    prefix: &str,
) -> Result<PostgresAdapter, AdapterError> {
    let url = url(Server::Postgres).await;
    let mut options = PostgresOptions::from_url(&url)?
        .namespace(namespace)
        .pool_size(5)
        .layout(layout)
        .table_prefix(prefix);
    if let Some(names) = names {
        options = options.table_names(names);
    }
    PostgresAdapter::connect_with(options).await
}

/// The rows of `sql` (no parameters) on a connection of `pool`.
async fn query(pool: &Pool, sql: &str) -> Vec<Row> {
    let client = pool.get().await.expect("a pooled connection");
    client
        .query_typed(sql, &[])
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The statements of `sql` (one or several, as a script) on a connection of
/// `pool`.
async fn batch(pool: &Pool, sql: &str) -> Result<(), tokio_postgres::Error> {
    let client = pool.get().await.expect("a pooled connection");
    client.batch_execute(sql).await
}

/// Creates the schema and runs the official DDL of `layout` in it, as the
/// Node app's migrations would have.
async fn run_official_ddl(adapter: &PostgresAdapter, layout: Layout) {
    let schema = adapter.namespace().replace('"', "\"\"");
    batch(adapter.pool(), &format!("CREATE SCHEMA \"{schema}\""))
        .await
        .expect("create the test schema");
    batch(adapter.pool(), &official_sql(layout))
        .await
        .unwrap_or_else(|e| panic!("the official {layout} DDL failed: {e}"));
}

/// A fresh schema with the official tables of `layout`, then `migrate()`:
/// a Rust service joining a database the Node app made.
async fn on_official_tables(layout: Layout) -> PostgresAdapter {
    let adapter = connect(&unique_namespace("authly"), layout, None, "")
        .await
        .expect("connect to PostgreSQL");
    run_official_ddl(&adapter, layout).await;
    adapter
        .migrate()
        .await
        .unwrap_or_else(|e| panic!("migrate() on the official {layout} tables: {e}"));
    adapter
}

/// A new instance on `namespace`, migrated (for the concurrent-migrate case).
async fn migrated(
    namespace: String,
    layout: Layout,
    names: Option<TableNames>,
    prefix: &str,
) -> Result<PostgresAdapter, AdapterError> {
    let adapter = connect(&namespace, layout, names, prefix).await?;
    adapter.migrate().await?;
    Ok(adapter)
}

async fn drop_namespace(adapter: PostgresAdapter) {
    adapter
        .drop_namespace()
        .await
        .expect("drop the test schema");
}

/// Names unlike any layout's, for the custom-names suites.
fn custom_names() -> TableNames {
    TableNames {
        user: "People".into(),
        account: "linked logins".into(),
        session: "web_sessions".into(),
        verification_token: "email\"tokens".into(),
        authenticator: "passkeys".into(),
    }
}

mod drizzle {
    use super::*;

    async fn adapter() -> PostgresAdapter {
        on_official_tables(Layout::Drizzle).await
    }

    async fn fresh(namespace: String) -> Result<PostgresAdapter, AdapterError> {
        migrated(namespace, Layout::Drizzle, None, "").await
    }

    adapter_conformance::conformance_tests!(adapter, teardown = drop_namespace, migrate = fresh);
}

mod pg_adapter {
    use super::*;

    async fn adapter() -> PostgresAdapter {
        on_official_tables(Layout::PgAdapter).await
    }

    async fn fresh(namespace: String) -> Result<PostgresAdapter, AdapterError> {
        migrated(namespace, Layout::PgAdapter, None, "").await
    }

    adapter_conformance::conformance_tests!(adapter, teardown = drop_namespace, migrate = fresh);
}

/// Drizzle's columns in tables of other names, with a prefix, made by
/// `migrate()` alone.
mod drizzle_custom_names {
    use super::*;

    async fn adapter() -> PostgresAdapter {
        migrated(
            unique_namespace("authlc"),
            Layout::Drizzle,
            Some(custom_names()),
            "app_",
        )
        .await
        .expect("connect and migrate")
    }

    adapter_conformance::conformance_tests!(adapter, teardown = drop_namespace);
}

// ------------------------------------------------------------ the DDL itself

/// A column as information_schema describes it.
type Column = (String, String, String, Option<i32>, String, bool);

/// Every column of the schema's tables: table, column, type, varchar
/// length, nullable, whether it has a default.
async fn columns(adapter: &PostgresAdapter) -> Vec<Column> {
    query(
        adapter.pool(),
        "SELECT table_name::text, column_name::text, data_type::text,
                character_maximum_length::int4, is_nullable::text,
                column_default IS NOT NULL
         FROM information_schema.columns WHERE table_schema = current_schema()
         ORDER BY 1, 2",
    )
    .await
    .iter()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3), r.get(4), r.get(5)))
    .collect()
}

/// Every constraint and unique index of the schema's tables, described by
/// kind, table and columns (and, for a foreign key, its target and
/// `ON DELETE` action); names left out.
async fn keys(adapter: &PostgresAdapter) -> Vec<String> {
    let mut keys: Vec<String> = query(
        adapter.pool(),
        "SELECT c.contype::text || ' ' || t.relname || ' (' ||
                (SELECT string_agg(a.attname, ',' ORDER BY k.n)
                 FROM unnest(c.conkey) WITH ORDINALITY k(att, n)
                 JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.att) || ')' ||
                CASE WHEN c.contype = 'f'
                     THEN ' -> ' || f.relname || ' on delete ' || c.confdeltype::text ELSE '' END
         FROM pg_constraint c
         JOIN pg_class t ON t.oid = c.conrelid
         LEFT JOIN pg_class f ON f.oid = c.confrelid
         WHERE t.relnamespace = current_schema()::regnamespace AND c.contype IN ('p', 'u', 'f')
         UNION ALL
         SELECT 'unique index ' || t.relname || ' (' ||
                (SELECT string_agg(a.attname, ',' ORDER BY k.n)
                 FROM unnest(i.indkey) WITH ORDINALITY k(att, n)
                 JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.att) || ')'
         FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
         WHERE t.relnamespace = current_schema()::regnamespace AND i.indisunique
           AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
    )
    .await
    .iter()
    .map(|r| r.get(0))
    .collect();
    keys.sort();
    keys
}

/// `migrate()` on an empty schema makes the official adapter's tables
/// column for column (name, type, length, nullability, default or none),
/// with the same keys and foreign keys, except the documented differences;
/// and on the official tables it changes nothing but those.
async fn check_migrate_makes_the_official_tables(layout: Layout) {
    let official = connect(&unique_namespace("authlo"), layout, None, "")
        .await
        .expect("connect");
    run_official_ddl(&official, layout).await;
    let official_columns = columns(&official).await;
    let official_keys = keys(&official).await;
    assert!(
        !official_columns.is_empty(),
        "the official DDL made no tables"
    );

    let ours = migrated(unique_namespace("authlm"), layout, None, "")
        .await
        .expect("connect and migrate");
    let our_columns = columns(&ours).await;
    let our_keys = keys(&ours).await;

    // What the adapter changes or adds, documented in the README.
    let widened = |c: Column| match (layout, c.0.as_str(), c.1.as_str()) {
        (Layout::Drizzle, "authenticator", "counter") => (c.0, c.1, "bigint".into(), c.3, c.4, c.5),
        (Layout::PgAdapter, "users", "name") => (c.0, c.1, "text".into(), None, c.4, c.5),
        _ => c,
    };
    let expected_columns: Vec<Column> = official_columns.iter().cloned().map(widened).collect();
    let official_tables: Vec<&str> = official_columns.iter().map(|c| c.0.as_str()).collect();
    let ours_in_official: Vec<Column> = our_columns
        .iter()
        .filter(|c| official_tables.contains(&c.0.as_str()))
        .cloned()
        .collect();
    assert_eq!(
        ours_in_official, expected_columns,
        "migrate() on an empty schema must make the official {layout} columns"
    );
    let extra_tables: Vec<&str> = our_columns
        .iter()
        .map(|c| c.0.as_str())
        .filter(|t| !official_tables.contains(t))
        .collect();
    match layout {
        Layout::PgAdapter => assert!(
            extra_tables.iter().all(|t| *t == "authenticators"),
            "only the passkey table is added to pg-adapter's: {extra_tables:?}"
        ),
        _ => assert!(extra_tables.is_empty(), "extra tables {extra_tables:?}"),
    }
    for key in &official_keys {
        assert!(
            our_keys.contains(key),
            "migrate() lacks the official {layout} key {key}: {our_keys:?}"
        );
    }
    let added: Vec<&String> = our_keys
        .iter()
        .filter(|k| !official_keys.contains(k))
        .collect();
    let expected_added: &[&str] = match layout {
        Layout::PgAdapter => &[
            "f authenticators (userId) -> users on delete c",
            "p authenticators (userId,credentialID)",
            "unique index accounts (provider,providerAccountId)",
            "unique index authenticators (credentialID)",
            "unique index sessions (sessionToken)",
            "unique index users (email)",
        ],
        _ => &[],
    };
    assert_eq!(added, expected_added, "keys migrate() adds to {layout}'s");

    // On the official tables, migrate() keeps every column and key, and
    // changes or adds exactly the same.
    official
        .migrate()
        .await
        .expect("migrate() on the official tables");
    official.migrate().await.expect("a second migrate()");
    assert_eq!(columns(&official).await, our_columns);
    assert_eq!(keys(&official).await, our_keys);

    drop_namespace(official).await;
    drop_namespace(ours).await;
}

#[tokio::test]
async fn migrate_makes_the_official_drizzle_tables() {
    check_migrate_makes_the_official_tables(Layout::Drizzle).await;
}

#[tokio::test]
async fn migrate_makes_the_official_pg_adapter_tables() {
    check_migrate_makes_the_official_tables(Layout::PgAdapter).await;
}

/// Rows as the official pg-adapter writes them (its SQL, SERIAL ids) read
/// through the adapter with decimal string ids; ids that are no `int4` are
/// no user.
#[tokio::test]
async fn pg_adapter_serial_ids_are_decimal_strings() {
    use auth_core::Adapter;
    let adapter = on_official_tables(Layout::PgAdapter).await;
    let id: i32 = query(
        adapter.pool(),
        r#"INSERT INTO users (name, email, "emailVerified", image)
           VALUES ('Ada', 'ada@example.com', NULL, NULL) RETURNING id"#,
    )
    .await[0]
        .get(0);
    let user = adapter.get_user(&id.to_string()).await.unwrap().unwrap();
    assert_eq!(user.id, id.to_string());
    assert_eq!(user.email.as_deref(), Some("ada@example.com"));
    for other in [
        format!("0{id}"),
        format!("+{id}"),
        format!("{id} "),
        "x".into(),
        "99999999999".into(),
    ] {
        assert_eq!(adapter.get_user(&other).await.unwrap(), None, "{other:?}");
    }
    drop_namespace(adapter).await;
}

/// Bad table names are refused before connecting.
#[tokio::test]
async fn bad_table_names_are_invalid_input() {
    let options = PostgresOptions::from_url("postgres://nobody@127.0.0.1:1/none").unwrap();
    let mut twice = TableNames::of(Layout::Drizzle);
    twice.session = "user".into();
    for options in [
        options.clone().layout(Layout::Drizzle).table_names(twice),
        options.clone().table_prefix(&"x".repeat(60)),
        options.table_names(TableNames {
            user: String::new(),
            ..TableNames::default()
        }),
    ] {
        let err = PostgresAdapter::connect_with(options).await.unwrap_err();
        assert!(
            matches!(
                err,
                AdapterError::InvalidInput {
                    field: "table_names",
                    ..
                }
            ),
            "{err:?}"
        );
    }
}

/// Drizzle's `timestamp` columns hold UTC wall-clock time (what
/// drizzle-orm writes and reads), whatever the session's `TimeZone`.
#[tokio::test]
async fn drizzle_instants_are_utc_wall_clock_in_any_session_time_zone() {
    use auth_core::{Adapter, NewUser};
    use time::macros::datetime;

    // One connection, so that the adapter's calls run in the session whose
    // TimeZone is set here (the adapter starts every session in UTC).
    let adapter = connect(&unique_namespace("authlz"), Layout::Drizzle, None, "")
        .await
        .unwrap();
    adapter.migrate().await.unwrap();
    let mut config: tokio_postgres::Config = url(Server::Postgres)
        .await
        .parse()
        .expect("a PostgreSQL URL");
    config.options(format!("-c search_path={}", adapter.namespace()));
    let adapter = PostgresAdapter::from_pool(
        Pool::builder(Manager::new(config, tokio_postgres::NoTls))
            .max_size(1)
            .runtime(Runtime::Tokio1)
            .build()
            .unwrap(),
    )
    .with_tables(Layout::Drizzle, TableNames::of(Layout::Drizzle))
    .unwrap();
    batch(adapter.pool(), "SET TimeZone = 'Pacific/Chatham'")
        .await
        .unwrap();
    let zone: String = query(adapter.pool(), "SHOW TimeZone").await[0].get(0);
    assert_eq!(zone, "Pacific/Chatham");

    let at = datetime!(2031-02-03 04:05:06.789 UTC);
    let user = adapter
        .create_user(NewUser {
            email_verified: Some(at),
            ..NewUser::default()
        })
        .await
        .unwrap();
    let stored: String = adapter
        .pool()
        .get()
        .await
        .unwrap()
        .query_typed_one(
            r#"SELECT "emailVerified"::text FROM "user" WHERE "id" = $1"#,
            &[(&user.id, tokio_postgres::types::Type::TEXT)],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, "2031-02-03 04:05:06.789");

    // As drizzle-orm writes it: Date.toISOString() into `timestamp`.
    batch(
        adapter.pool(),
        r#"INSERT INTO "user" ("id", "emailVerified") VALUES ('js', '2031-02-03T04:05:06.789Z')"#,
    )
    .await
    .unwrap();
    let read = adapter.get_user("js").await.unwrap().unwrap();
    assert_eq!(read.email_verified, Some(at));
    drop_namespace(adapter).await;
}

/// The default layout under a prefix makes its own tables (beside the
/// default ones, in one schema) with the same columns and keys, and works.
#[tokio::test]
async fn prisma_tables_with_a_prefix_live_beside_the_default_ones() {
    let schema = unique_namespace("authlp");
    let default = migrated(schema.clone(), Layout::Prisma, None, "")
        .await
        .expect("the default tables");
    let prefixed = migrated(schema, Layout::Prisma, None, "tenant_b_")
        .await
        .expect("the prefixed tables");
    assert_eq!(prefixed.table_names().user, "tenant_b_User");
    let all = columns(&prefixed).await;
    let unprefixed: Vec<Column> = all
        .iter()
        .filter(|c| c.0.starts_with("tenant_b_"))
        .map(|c| {
            let mut c = c.clone();
            c.0 = c.0.trim_start_matches("tenant_b_").to_owned();
            c
        })
        .collect();
    let default_columns: Vec<Column> = all
        .iter()
        .filter(|c| !c.0.starts_with("tenant_b_") && !c.0.starts_with("_auth_core"))
        .cloned()
        .collect();
    assert_eq!(unprefixed, default_columns);
    let keys = keys(&prefixed).await;
    let (ours, theirs): (Vec<String>, Vec<String>) = keys
        .into_iter()
        .filter(|k| !k.contains("_auth_core_migrations"))
        .partition(|k| k.contains("tenant_b_"));
    let mut ours: Vec<String> = ours.iter().map(|k| k.replace("tenant_b_", "")).collect();
    ours.sort();
    assert_eq!(ours, theirs);

    for (name, case) in adapter_conformance::cases::ALL.iter().filter(|(name, _)| {
        [
            "create_session_and_get_it_with_its_user",
            "delete_user_removes_accounts_sessions_and_authenticators",
            "link_account_round_trips_every_field",
            "authenticator_counter_round_trips_every_u32",
            "purge_expired_removes_only_expired_records",
        ]
        .contains(name)
    }) {
        let adapter: std::sync::Arc<dyn auth_core::Adapter> = std::sync::Arc::new(prefixed.clone());
        tokio::spawn(case(adapter))
            .await
            .unwrap_or_else(|e| panic!("{name} on the prefixed tables: {e}"));
    }
    drop(default);
    drop_namespace(prefixed).await;
}

/// On pg-adapter tables whose rows break a key the adapter needs unique
/// (two users with one email), `migrate()` fails, names the index, and
/// changes nothing.
#[tokio::test]
async fn migrate_on_duplicate_pg_adapter_rows_fails_and_changes_nothing() {
    let adapter = connect(&unique_namespace("authld"), Layout::PgAdapter, None, "")
        .await
        .expect("connect");
    run_official_ddl(&adapter, Layout::PgAdapter).await;
    batch(
        adapter.pool(),
        "INSERT INTO users (email) VALUES ('twice@example.com'), ('twice@example.com')",
    )
    .await
    .unwrap();
    let before = (columns(&adapter).await, keys(&adapter).await);
    let err = adapter.migrate().await.unwrap_err();
    assert!(
        err.to_string().contains("users_email_key"),
        "the error names the index: {err}"
    );
    assert_eq!((columns(&adapter).await, keys(&adapter).await), before);
    batch(adapter.pool(), "DELETE FROM users WHERE id = 2")
        .await
        .unwrap();
    adapter
        .migrate()
        .await
        .expect("migrate() once the rows are fixed");
    drop_namespace(adapter).await;
}

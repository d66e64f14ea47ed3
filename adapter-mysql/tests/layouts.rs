//! The other table layouts on MySQL / MariaDB (`MYSQL_URL`, or a container):
//! the whole conformance suite on Drizzle's tables (created by `migrate()`,
//! or first by Drizzle's own DDL), on custom table names with a prefix, and
//! `migrate()` against the official DDL. Each case has a database of its own.

use adapter_conformance::servers::{self, Server};
use adapter_mysql::sqlx::{self, AssertSqlSafe, Executor, Row};
use adapter_mysql::{Layout, MysqlAdapter, MysqlOptions, TableNames};
use auth_core::{Adapter, AdapterError};

/// The official DDL of `@auth/drizzle-adapter`'s MySQL schema.
const DRIZZLE_DDL: &str = include_str!("fixtures/drizzle-mysql.sql");

/// Options for a fresh database `namespace`, created when connecting.
async fn options(namespace: &str) -> MysqlOptions {
    let url = servers::url(Server::Mysql).await;
    MysqlOptions::from_url(&url)
        .expect("MYSQL_URL is a MySQL URL")
        .namespace(namespace)
        .create_database_if_missing(true)
        .pool_size(5)
}

async fn open(options: MysqlOptions) -> Result<MysqlAdapter, AdapterError> {
    let adapter = MysqlAdapter::connect_with(options).await?;
    adapter.migrate().await?;
    Ok(adapter)
}

/// Runs the official DDL, statement by statement, on the adapter's database.
async fn run_official_ddl(adapter: &MysqlAdapter) {
    for statement in DRIZZLE_DDL.split("--> statement-breakpoint") {
        let code: String = statement
            .lines()
            .filter(|l| !l.trim_start().starts_with("--"))
            .collect::<Vec<_>>()
            .join("\n");
        let code = code.trim().trim_end_matches(';');
        if !code.is_empty() {
            adapter
                .pool()
                .execute(AssertSqlSafe(code.to_owned()))
                .await
                .unwrap_or_else(|e| panic!("official DDL {code}: {e}"));
        }
    }
}

async fn drop_namespace(adapter: MysqlAdapter) {
    adapter
        .drop_namespace()
        .await
        .expect("drop the test database");
}

/// Drizzle's tables, created by `migrate()`.
mod drizzle {
    use super::*;

    async fn adapter() -> MysqlAdapter {
        migrated(servers::unique_namespace("mydrz"))
            .await
            .expect("connect and migrate")
    }

    async fn migrated(namespace: String) -> Result<MysqlAdapter, AdapterError> {
        open(
            options(&namespace)
                .await
                .pool_size(2)
                .layout(Layout::Drizzle),
        )
        .await
    }

    adapter_conformance::conformance_tests!(
        adapter,
        teardown = super::drop_namespace,
        migrate = migrated
    );
}

/// Drizzle's tables as its own DDL created them; `migrate()` keeps them
/// and widens their value columns.
mod drizzle_official_tables {
    use super::*;

    async fn adapter() -> MysqlAdapter {
        let namespace = servers::unique_namespace("mydrzddl");
        let options = options(&namespace).await.layout(Layout::Drizzle);
        let adapter = MysqlAdapter::connect_with(options).await.expect("connect");
        run_official_ddl(&adapter).await;
        adapter.migrate().await.expect("migrate");
        adapter
    }

    adapter_conformance::conformance_tests!(adapter, teardown = super::drop_namespace);
}

/// The default layout under custom names with a prefix (one with a
/// backtick), beside the default tables, which must stay empty.
mod prisma_custom_names {
    use super::*;

    fn names() -> TableNames {
        TableNames {
            user: "people".into(),
            account: "logins".into(),
            session: "visits".into(),
            verification_token: "magic`links".into(),
            authenticator: "passkeys".into(),
        }
    }

    async fn adapter() -> MysqlAdapter {
        migrated(servers::unique_namespace("mycustom"))
            .await
            .expect("connect and migrate")
    }

    async fn migrated(namespace: String) -> Result<MysqlAdapter, AdapterError> {
        let base = options(&namespace).await.pool_size(2);
        let default = open(base.clone()).await?;
        default.pool().close().await;
        open(base.table_names(names()).table_prefix("app_")).await
    }

    /// Tears down after checking that nothing reached the default tables.
    async fn teardown(adapter: MysqlAdapter) {
        for table in [
            "User",
            "Account",
            "Session",
            "VerificationToken",
            "Authenticator",
        ] {
            let rows: i64 =
                sqlx::query_scalar(AssertSqlSafe(format!("SELECT COUNT(*) FROM `{table}`")))
                    .fetch_one(adapter.pool())
                    .await
                    .unwrap();
            assert_eq!(rows, 0, "the default table {table} was written to");
        }
        super::drop_namespace(adapter).await;
    }

    adapter_conformance::conformance_tests!(adapter, teardown = teardown, migrate = migrated);
}

// ------------------------------------------------------------------ schema

/// Every column (type, nullability, default), primary and unique key and
/// foreign key of the five tables of `names`, one line each, sorted.
async fn describe(adapter: &MysqlAdapter, names: &TableNames) -> Vec<String> {
    let bind = |sql: &'static str| {
        sqlx::query(sql)
            .bind(names.user.clone())
            .bind(names.account.clone())
            .bind(names.session.clone())
            .bind(names.verification_token.clone())
            .bind(names.authenticator.clone())
    };
    let text = |row: &sqlx::mysql::MySqlRow, i: usize| -> String {
        row.try_get::<Option<String>, _>(i)
            .unwrap()
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    let columns = bind(
        "SELECT CONVERT(TABLE_NAME USING utf8mb4), CONVERT(COLUMN_NAME USING utf8mb4), \
                CONVERT(LOWER(COLUMN_TYPE) USING utf8mb4), CONVERT(IS_NULLABLE USING utf8mb4), \
                CONVERT(COLUMN_DEFAULT USING utf8mb4) \
         FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?, ?, ?, ?)",
    )
    .fetch_all(adapter.pool())
    .await
    .unwrap();
    for row in &columns {
        out.push(format!(
            "column {}.{} {} nullable={} default={}",
            text(row, 0),
            text(row, 1),
            // MySQL 8 drops display widths, MariaDB keeps them.
            text(row, 2)
                .replace("int(11)", "int")
                .replace("int(10)", "int")
                .replace("bigint(20)", "bigint")
                .replace("tinyint(1)", "boolean"),
            text(row, 3),
            text(row, 4)
        ));
    }
    let keys = bind(
        "SELECT CONVERT(TABLE_NAME USING utf8mb4), CONVERT(INDEX_NAME USING utf8mb4), \
                CONVERT(GROUP_CONCAT(COLUMN_NAME ORDER BY SEQ_IN_INDEX) USING utf8mb4) \
         FROM information_schema.STATISTICS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?, ?, ?, ?) AND NON_UNIQUE = 0 \
         GROUP BY TABLE_NAME, INDEX_NAME",
    )
    .fetch_all(adapter.pool())
    .await
    .unwrap();
    for row in &keys {
        out.push(format!(
            "unique {}.{} ({})",
            text(row, 0),
            text(row, 1),
            text(row, 2)
        ));
    }
    let foreign = bind(
        "SELECT CONVERT(k.TABLE_NAME USING utf8mb4), CONVERT(k.CONSTRAINT_NAME USING utf8mb4), \
                CONVERT(k.COLUMN_NAME USING utf8mb4), \
                CONVERT(k.REFERENCED_TABLE_NAME USING utf8mb4), \
                CONVERT(k.REFERENCED_COLUMN_NAME USING utf8mb4), \
                CONVERT(r.DELETE_RULE USING utf8mb4), CONVERT(r.UPDATE_RULE USING utf8mb4) \
         FROM information_schema.KEY_COLUMN_USAGE k \
         JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
           ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.TABLE_NAME = k.TABLE_NAME \
          AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME \
         WHERE k.TABLE_SCHEMA = DATABASE() AND k.TABLE_NAME IN (?, ?, ?, ?, ?)",
    )
    .fetch_all(adapter.pool())
    .await
    .unwrap();
    for row in &foreign {
        out.push(format!(
            "foreign key {}.{} ({}) -> {}.{} on delete {} on update {}",
            text(row, 0),
            text(row, 1),
            text(row, 2),
            text(row, 3),
            text(row, 4),
            text(row, 5),
            text(row, 6)
        ));
    }
    out.sort();
    out
}

/// The columns whose type `migrate()` makes wider than the official DDL's,
/// as (column line of the official tables, the same line of ours): the
/// "Sharing a database with Auth.js" table of the crate docs.
const WIDENED: [(&str, &str); 14] = [
    (
        "column account.access_token varchar(255) nullable=YES default=NULL",
        "column account.access_token text nullable=YES default=NULL",
    ),
    (
        "column account.expires_at int nullable=YES default=NULL",
        "column account.expires_at bigint nullable=YES default=NULL",
    ),
    (
        "column account.id_token varchar(2048) nullable=YES default=NULL",
        "column account.id_token text nullable=YES default=NULL",
    ),
    (
        "column account.refresh_token varchar(255) nullable=YES default=NULL",
        "column account.refresh_token text nullable=YES default=NULL",
    ),
    (
        "column account.scope varchar(255) nullable=YES default=NULL",
        "column account.scope text nullable=YES default=NULL",
    ),
    (
        "column account.session_state varchar(255) nullable=YES default=NULL",
        "column account.session_state text nullable=YES default=NULL",
    ),
    (
        "column authenticator.counter int nullable=NO default=",
        "column authenticator.counter int unsigned nullable=NO default=",
    ),
    (
        "column authenticator.credentialPublicKey varchar(255) nullable=NO default=",
        "column authenticator.credentialPublicKey text nullable=NO default=",
    ),
    (
        "column authenticator.transports varchar(255) nullable=YES default=NULL",
        "column authenticator.transports text nullable=YES default=NULL",
    ),
    (
        "column session.expires timestamp nullable=NO default=",
        "column session.expires datetime(3) nullable=NO default=",
    ),
    (
        "column user.emailVerified timestamp(3) nullable=YES default=NULL",
        "column user.emailVerified datetime(3) nullable=YES default=NULL",
    ),
    (
        "column user.image varchar(255) nullable=YES default=NULL",
        "column user.image text nullable=YES default=NULL",
    ),
    (
        "column user.name varchar(255) nullable=YES default=NULL",
        "column user.name text nullable=YES default=NULL",
    ),
    (
        "column verificationToken.expires timestamp nullable=NO default=",
        "column verificationToken.expires datetime(3) nullable=NO default=",
    ),
];

/// `lines` with each official column type replaced by the widened one.
fn widened(lines: Vec<String>) -> Vec<String> {
    lines
        .into_iter()
        .map(|line| {
            WIDENED
                .iter()
                .find(|(official, _)| *official == line)
                .map_or(line, |(_, ours)| (*ours).to_owned())
        })
        .collect()
}

#[tokio::test]
async fn migrate_creates_the_official_drizzle_tables_with_wider_value_columns() {
    let names = TableNames::of(Layout::Drizzle);
    let official = MysqlAdapter::connect_with(
        options(&servers::unique_namespace("myofficial"))
            .await
            .pool_size(1)
            .layout(Layout::Drizzle),
    )
    .await
    .unwrap();
    run_official_ddl(&official).await;
    let ours = open(
        options(&servers::unique_namespace("myours"))
            .await
            .pool_size(1)
            .layout(Layout::Drizzle),
    )
    .await
    .unwrap();
    let theirs = describe(&official, &names).await;
    let mine = describe(&ours, &names).await;
    assert!(
        theirs.iter().filter(|l| l.starts_with("column ")).count() == 30
            && theirs.iter().any(|l| l.starts_with("foreign key ")),
        "the official DDL: {theirs:#?}"
    );
    // Every official column, key and foreign key is there, the same but
    // for the documented wider types; ours has nothing else.
    assert_eq!(
        mine,
        widened(theirs.clone()),
        "migrate() and the official DDL differ beyond the documented widening"
    );
    // And migrate() on the official tables makes them exactly ours.
    official.migrate().await.unwrap();
    let migrated = describe(&official, &names).await;
    let nonunique = |a: &MysqlAdapter| {
        let pool = a.pool().clone();
        async move {
            let n: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FROM information_schema.STATISTICS \
                 WHERE TABLE_SCHEMA = DATABASE() AND NON_UNIQUE = 1",
            )
            .fetch_one(&pool)
            .await
            .unwrap();
            n
        }
    };
    assert_eq!(migrated, mine, "migrate() on the official tables");
    assert!(nonunique(&ours).await >= 3);
    official.drop_namespace().await.unwrap();
    ours.drop_namespace().await.unwrap();
}

#[tokio::test]
async fn migrate_widens_official_tables_keeping_their_rows() {
    let namespace = servers::unique_namespace("mywiden");
    let adapter = MysqlAdapter::connect_with(
        options(&namespace)
            .await
            .pool_size(1)
            .layout(Layout::Drizzle),
    )
    .await
    .unwrap();
    run_official_ddl(&adapter).await;
    // Rows as Drizzle writes them: UTC wall-clock strings, `true` as 1.
    for sql in [
        "INSERT INTO `user` (`id`, `email`, `emailVerified`) \
         VALUES ('u1', 'a@x.io', '2030-01-02 03:04:05.678')",
        "INSERT INTO `session` (`sessionToken`, `userId`, `expires`) \
         VALUES ('s1', 'u1', '2037-06-07 08:09:10')",
        "INSERT INTO `account` (`userId`, `type`, `provider`, `providerAccountId`, `expires_at`) \
         VALUES ('u1', 'oauth', 'github', '42', 1700000000)",
        "INSERT INTO `authenticator` (`credentialID`, `userId`, `providerAccountId`, \
         `credentialPublicKey`, `counter`, `credentialDeviceType`, `credentialBackedUp`) \
         VALUES ('c1', 'u1', '42', 'pk', 7, 'singleDevice', 1)",
    ] {
        let mut conn = adapter.pool().acquire().await.unwrap();
        conn.execute("SET time_zone = '+00:00'").await.unwrap();
        conn.execute(sql).await.unwrap();
    }
    adapter.migrate().await.unwrap();
    adapter.migrate().await.unwrap();
    let (session, user) = adapter.get_session_and_user("s1").await.unwrap().unwrap();
    assert_eq!(
        user.email_verified,
        Some(time::macros::datetime!(2030-01-02 03:04:05.678 UTC))
    );
    assert_eq!(
        session.expires,
        time::macros::datetime!(2037-06-07 08:09:10 UTC)
    );
    assert_eq!(
        adapter
            .get_account("github", "42")
            .await
            .unwrap()
            .unwrap()
            .expires_at,
        Some(1_700_000_000)
    );
    let auth = adapter.get_authenticator("c1").await.unwrap().unwrap();
    assert_eq!((auth.counter, auth.credential_backed_up), (7, true));
    // Widened: beyond 2038 and u32 counters now fit.
    adapter
        .update_authenticator_counter("c1", u32::MAX)
        .await
        .unwrap();
    adapter.delete_user("u1").await.unwrap();
    assert_eq!(adapter.get_authenticator("c1").await.unwrap(), None);
    adapter.drop_namespace().await.unwrap();
}

#[tokio::test]
async fn unusable_layouts_and_names_are_invalid_input() {
    let base = options(&servers::unique_namespace("mybad")).await;
    let pg = MysqlAdapter::connect_with(base.clone().layout(Layout::PgAdapter))
        .await
        .unwrap_err();
    assert!(
        pg.is_invalid_input() && pg.to_string().contains("layout"),
        "{pg}"
    );
    let mut twice = TableNames::of(Layout::Drizzle);
    twice.session = "user".into();
    for names in [twice, TableNames::default().with_prefix(&"x".repeat(60))] {
        let err = MysqlAdapter::connect_with(base.clone().table_names(names))
            .await
            .unwrap_err();
        assert!(
            err.is_invalid_input() && err.to_string().contains("table_names"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn long_prefixes_get_distinct_constraint_names() {
    let prefix = "p".repeat(40);
    let adapter = open(
        options(&servers::unique_namespace("mylong"))
            .await
            .pool_size(1)
            .layout(Layout::Drizzle)
            .table_prefix(&prefix),
    )
    .await
    .unwrap();
    let user = adapter
        .create_user(auth_core::NewUser::default())
        .await
        .unwrap();
    assert_eq!(adapter.get_user(&user.id).await.unwrap(), Some(user));
    assert_eq!(adapter.table_names().user, format!("{prefix}user"));
    adapter.drop_namespace().await.unwrap();
}

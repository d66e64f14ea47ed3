//! The whole conformance suite against `MYSQL_URL` (or a container), each
//! case in a fresh database of its own.

use std::sync::atomic::{AtomicBool, Ordering};

use adapter_conformance::servers::{self, Server};
use adapter_mysql::sqlx::{self, AssertSqlSafe, Executor};
use adapter_mysql::{MysqlAdapter, MysqlOptions};

const PREFIX: &str = "myconf";

async fn adapter() -> MysqlAdapter {
    let url = servers::url(Server::Mysql).await;
    let options = MysqlOptions::from_url(&url)
        .expect("MYSQL_URL is a MySQL URL")
        .database(&servers::unique_namespace(PREFIX))
        .create_database_if_missing(true)
        .max_connections(5);
    let adapter = MysqlAdapter::connect_with(options)
        .await
        .expect("connect to the test database");
    adapter.migrate().await.expect("migrate");
    sweep_old_databases(&adapter).await;
    adapter
}

/// The suite has no teardown hook, so each case's database outlives it. The
/// first case of every run drops the ones that earlier runs left: databases
/// with our prefix migrated more than an hour ago (no run lasts that long, so
/// a concurrent run's databases are never touched).
async fn sweep_old_databases(adapter: &MysqlAdapter) {
    static SWEPT: AtomicBool = AtomicBool::new(false);
    if SWEPT.swap(true, Ordering::SeqCst) {
        return;
    }
    let stale: Vec<String> = sqlx::query_scalar(
        "SELECT TABLE_SCHEMA FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA LIKE 'myconf\\_%' AND TABLE_NAME = '_auth_core_migrations' \
           AND CREATE_TIME < NOW() - INTERVAL 1 HOUR",
    )
    .fetch_all(adapter.pool())
    .await
    .expect("list stale test databases");
    for database in stale {
        let sql = format!("DROP DATABASE IF EXISTS `{}`", database.replace('`', "``"));
        // Another run may be sweeping the same ones.
        let _ = adapter.pool().execute(AssertSqlSafe(sql)).await;
    }
}

adapter_conformance::conformance_tests!(adapter);

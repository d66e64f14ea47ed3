//! The whole conformance suite against `MYSQL_URL` (or a container), each
//! case in a fresh database of its own.

use adapter_conformance::servers::{self, Server};
use adapter_mysql::{MysqlAdapter, MysqlOptions};
use auth_core::AdapterError;

const PREFIX: &str = "myconf";

async fn adapter() -> MysqlAdapter {
    let url = servers::url(Server::Mysql).await;
    let options = MysqlOptions::from_url(&url)
        .expect("MYSQL_URL is a MySQL URL")
        .namespace(servers::unique_namespace(PREFIX))
        .create_database_if_missing(true)
        .pool_size(5);
    let adapter = MysqlAdapter::connect_with(options)
        .await
        .expect("connect to the test database");
    adapter.migrate().await.expect("migrate");
    adapter
}

/// One new adapter instance (its own pool) on the database `namespace`,
/// created if missing, and migrated: what each of several replicas starting
/// at once does.
async fn migrated(namespace: String) -> Result<MysqlAdapter, AdapterError> {
    let url = servers::url(Server::Mysql).await;
    let options = MysqlOptions::from_url(&url)?
        .namespace(&namespace)
        .create_database_if_missing(true)
        .pool_size(2);
    let adapter = MysqlAdapter::connect_with(options).await?;
    adapter.migrate().await?;
    Ok(adapter)
}

/// Drops the case's database, so runs leave nothing behind.
async fn drop_namespace(adapter: MysqlAdapter) {
    adapter
        .drop_namespace()
        .await
        .expect("drop the test database");
}

adapter_conformance::conformance_tests!(adapter, teardown = drop_namespace, migrate = migrated);

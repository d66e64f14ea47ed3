//! The whole conformance suite against `MYSQL_URL` (or a container), each
//! case in a fresh database of its own.

use adapter_conformance::servers::{self, Server};
use adapter_mysql::{MysqlAdapter, MysqlOptions};

async fn adapter() -> MysqlAdapter {
    let url = servers::url(Server::Mysql).await;
    let options = MysqlOptions::from_url(&url)
        .expect("MYSQL_URL is a MySQL URL")
        .database(&servers::unique_namespace("mysql"))
        .create_database_if_missing(true)
        .max_connections(5);
    let adapter = MysqlAdapter::connect_with(options)
        .await
        .expect("connect to the test database");
    adapter.migrate().await.expect("migrate");
    adapter
}

adapter_conformance::conformance_tests!(adapter);

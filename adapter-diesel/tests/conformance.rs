//! The whole conformance suite on the three backends, with the suite's
//! one-line macro, each case in a namespace of its own that the teardown
//! drops: a schema on PostgreSQL (`POSTGRES_URL`), a database on MySQL /
//! MariaDB (`MYSQL_URL`), a file on SQLite (plus the in-memory mode).
//!
//! Without `POSTGRES_URL` / `MYSQL_URL` (and without a Docker engine) the
//! server cases fail and say how to provide the server; they never skip.

use adapter_conformance::servers::{self, Server};
use adapter_diesel::{DieselAdapter, DieselOptions};
use auth_core::AdapterError;

/// Drops the case's namespace, so runs leave nothing behind.
async fn drop_namespace(adapter: DieselAdapter) {
    adapter
        .drop_namespace()
        .await
        .expect("drop the test namespace");
}

mod postgres {
    use super::*;

    async fn adapter() -> DieselAdapter {
        migrated(servers::unique_namespace("dieselpg"))
            .await
            .expect("connect to PostgreSQL and migrate")
    }

    /// One new adapter instance (a pool of its own) on the schema
    /// `namespace`, migrated: what a process starting up does. The suite
    /// runs 8 at once on one fresh schema.
    async fn migrated(namespace: String) -> Result<DieselAdapter, AdapterError> {
        let url = servers::url(Server::Postgres).await;
        let options = DieselOptions::from_url(&url)?
            .namespace(namespace)
            .pool_size(5);
        let adapter = DieselAdapter::connect_with(options).await?;
        adapter.migrate().await?;
        Ok(adapter)
    }

    adapter_conformance::conformance_tests!(adapter, teardown = drop_namespace, migrate = migrated);
}

mod mysql {
    use super::*;

    async fn adapter() -> DieselAdapter {
        migrated(servers::unique_namespace("dieselmy"))
            .await
            .expect("connect to MySQL / MariaDB and migrate")
    }

    /// One new adapter instance (its own pool) on the database `namespace`,
    /// created if missing, and migrated.
    async fn migrated(namespace: String) -> Result<DieselAdapter, AdapterError> {
        let url = servers::url(Server::Mysql).await;
        let options = DieselOptions::from_url(&url)?
            .namespace(namespace)
            .create_database_if_missing(true)
            .pool_size(5);
        let adapter = DieselAdapter::connect_with(options).await?;
        adapter.migrate().await?;
        Ok(adapter)
    }

    adapter_conformance::conformance_tests!(adapter, teardown = drop_namespace, migrate = migrated);
}

mod sqlite {
    use super::*;

    /// The database file of `namespace`, under Cargo's per-package scratch
    /// directory.
    fn database_file(namespace: &str) -> std::path::PathBuf {
        let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance");
        std::fs::create_dir_all(&dir).expect("create the test database directory");
        dir.join(format!("{namespace}.db"))
    }

    async fn adapter() -> DieselAdapter {
        migrated(servers::unique_namespace("diesellite"))
            .await
            .expect("open and migrate the database")
    }

    /// One new adapter (its own pool) on the file of `namespace`, migrated.
    async fn migrated(namespace: String) -> Result<DieselAdapter, AdapterError> {
        let adapter =
            DieselAdapter::connect_with(DieselOptions::sqlite(database_file(&namespace))).await?;
        adapter.migrate().await?;
        Ok(adapter)
    }

    adapter_conformance::conformance_tests!(adapter, teardown = drop_namespace, migrate = migrated);
}

/// The in-memory mode (one database shared by the pool) keeps the promises
/// too.
mod sqlite_in_memory {
    use super::*;

    async fn adapter() -> DieselAdapter {
        let adapter = DieselAdapter::connect("sqlite::memory:")
            .await
            .expect("open");
        adapter.migrate().await.expect("migrate");
        adapter
    }

    adapter_conformance::conformance_tests!(adapter);
}

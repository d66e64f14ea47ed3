//! The whole conformance suite, each case on its own database file.

use adapter_conformance::servers::unique_namespace;
use adapter_sqlite::SqliteAdapter;

/// The database file of `namespace`. Files go under Cargo's per-package
/// scratch directory, never beside the sources.
fn database_file(namespace: &str) -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance");
    std::fs::create_dir_all(&dir).expect("create the test database directory");
    dir.join(format!("{namespace}.db"))
}

async fn adapter() -> SqliteAdapter {
    migrated(unique_namespace("sqlite"))
        .await
        .expect("open and migrate the database")
}

/// One new adapter (its own pool) on the file of `namespace`, migrated: the
/// suite calls it from many tasks at once on one fresh namespace.
async fn migrated(namespace: String) -> Result<SqliteAdapter, auth_core::AdapterError> {
    let adapter = SqliteAdapter::open(database_file(&namespace)).await?;
    adapter.migrate().await?;
    Ok(adapter)
}

/// Removes the case's database file and its WAL files.
async fn drop_namespace(adapter: SqliteAdapter) {
    adapter
        .drop_namespace()
        .await
        .expect("remove the test database");
}

adapter_conformance::conformance_tests!(adapter, teardown = drop_namespace, migrate = migrated);

/// The in-memory mode (one database shared by the pool) keeps the promises too.
mod in_memory {
    use super::SqliteAdapter;

    async fn adapter() -> SqliteAdapter {
        let adapter = SqliteAdapter::in_memory().await.expect("open");
        adapter.migrate().await.expect("migrate");
        adapter
    }

    adapter_conformance::conformance_tests!(adapter);
}

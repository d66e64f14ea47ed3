//! The whole conformance suite, each case on its own database file.

use adapter_conformance::servers::unique_namespace;
use adapter_sqlite::SqliteAdapter;

async fn adapter() -> SqliteAdapter {
    // Files go under Cargo's per-package scratch directory, never beside the sources.
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance");
    std::fs::create_dir_all(&dir).expect("create the test database directory");
    let path = dir.join(format!("{}.db", unique_namespace("sqlite")));
    let adapter = SqliteAdapter::open(&path).await.expect("open the database");
    adapter.migrate().await.expect("migrate");
    adapter
}

adapter_conformance::conformance_tests!(adapter);

/// The in-memory mode (one shared connection) keeps the promises too.
mod in_memory {
    use super::SqliteAdapter;

    async fn adapter() -> SqliteAdapter {
        let adapter = SqliteAdapter::in_memory().await.expect("open");
        adapter.migrate().await.expect("migrate");
        adapter
    }

    adapter_conformance::conformance_tests!(adapter);
}

//! The reference adapter passes the whole suite, including several
//! instances migrating one namespace at once.

use adapter_conformance::memory::MemoryAdapter;
use auth_core::AdapterError;

async fn memory_adapter() -> MemoryAdapter {
    MemoryAdapter::new()
}

async fn migrated(namespace: String) -> Result<MemoryAdapter, AdapterError> {
    let adapter = MemoryAdapter::open(&namespace);
    adapter.migrate().await?;
    Ok(adapter)
}

async fn drop_namespace(adapter: MemoryAdapter) {
    adapter.drop_namespace();
}

adapter_conformance::conformance_tests!(
    memory_adapter,
    teardown = drop_namespace,
    migrate = migrated
);

/// The `temp_file = ...` form of the macro: each case gets a fresh path
/// (the reference adapter names its namespace after it and writes nothing).
mod on_a_temp_file {
    use adapter_conformance::memory::MemoryAdapter;

    async fn adapter(path: std::path::PathBuf) -> MemoryAdapter {
        assert!(!path.exists(), "the temporary file is fresh");
        let adapter = MemoryAdapter::open(&path.display().to_string());
        adapter.migrate().await.expect("migrate");
        adapter
    }

    adapter_conformance::conformance_tests!(temp_file = adapter);
}

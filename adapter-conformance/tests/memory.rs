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

//! The reference adapter passes the whole suite.

use adapter_conformance::memory::MemoryAdapter;

async fn memory_adapter() -> MemoryAdapter {
    MemoryAdapter::new()
}

adapter_conformance::conformance_tests!(memory_adapter);

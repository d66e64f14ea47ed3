#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod bench;
pub mod cases;
pub mod memory;
pub mod servers;

use std::any::Any;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use auth_core;
use auth_core::Adapter;

/// How long one case may run before it fails as hung.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(120);

/// Runs one conformance case on a fresh adapter from `factory`, on a
/// multi-threaded Tokio runtime of its own, and returns the failure message
/// if the case failed (an assertion, a panic in the adapter, or a hang of
/// more than [`CASE_TIMEOUT`]).
///
/// The [`conformance_tests!`] macro calls this for you; call it directly to
/// run a case from your own harness.
pub fn check_case<A, F, Fut, C, CFut>(factory: F, case: C) -> Result<(), String>
where
    A: Adapter + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = A>,
    C: FnOnce(Arc<dyn Adapter>) -> CFut,
    CFut: Future<Output = ()> + Send + 'static,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build a Tokio runtime: {e}"))?;
    runtime.block_on(async move {
        let adapter: Arc<dyn Adapter> = Arc::new(factory().await);
        let task = tokio::spawn(case(adapter));
        match tokio::time::timeout(CASE_TIMEOUT, task).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(join)) if join.is_panic() => Err(panic_message(join.into_panic())),
            Ok(Err(join)) => Err(format!("the case was cancelled: {join}")),
            Err(_) => Err(format!("the case did not finish within {CASE_TIMEOUT:?}")),
        }
    })
}

/// Like [`check_case`], but panics with the case's name and failure message;
/// this is what each generated test calls.
pub fn run_case<A, F, Fut, C, CFut>(name: &str, factory: F, case: C)
where
    A: Adapter + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = A>,
    C: FnOnce(Arc<dyn Adapter>) -> CFut,
    CFut: Future<Output = ()> + Send + 'static,
{
    if let Err(message) = check_case(factory, case) {
        panic!("conformance case `{name}` failed: {message}");
    }
}

fn panic_message(payload: Box<dyn Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
        .unwrap_or_else(|| "the case panicked".to_owned())
}

/// Expands to one `#[test]` per conformance case, each running the case on a
/// fresh adapter built by `$factory` (an async function or closure returning
/// your adapter).
///
/// ```ignore
/// async fn adapter() -> MyAdapter {
///     MyAdapter::connect(&url).await.unwrap()
/// }
/// adapter_conformance::conformance_tests!(adapter);
/// ```
///
/// A failing test is named after the promise it checks, e.g.
/// `use_verification_token_is_atomic_under_concurrency`.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::for_each_case!($crate::__conformance_test; $factory);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test {
    ($factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::run_case(stringify!($case), || ($factory)(), $crate::cases::$case);
            }
        )*
    };
}

#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod cases;
pub mod memory;
pub mod servers;
pub mod temp;

use std::any::Any;
use std::fmt::Display;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use auth_core;
use auth_core::Adapter;

/// How long one case may run before it fails as hung; the factory and the
/// teardown each get as long again.
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
    check_case_with_teardown(factory, case, |_| async {})
}

/// Like [`check_case`], then, if the case passed, hands the adapter to
/// `teardown` to remove the case's namespace (drop its schema, database, key
/// prefix or file). A failed case keeps its namespace for inspection.
pub fn check_case_with_teardown<A, F, Fut, C, CFut, T, TFut>(
    factory: F,
    case: C,
    teardown: T,
) -> Result<(), String>
where
    A: Adapter + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = A>,
    C: FnOnce(Arc<dyn Adapter>) -> CFut,
    CFut: Future<Output = ()> + Send + 'static,
    T: FnOnce(A) -> TFut,
    TFut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build a Tokio runtime: {e}"))?;
    runtime.block_on(async move {
        let adapter = tokio::time::timeout(CASE_TIMEOUT, factory())
            .await
            .map_err(|_| {
                format!("the factory did not return an adapter within {CASE_TIMEOUT:?}")
            })?;
        let adapter = Arc::new(adapter);
        let task = tokio::spawn(case(adapter.clone()));
        let outcome = match tokio::time::timeout(CASE_TIMEOUT, task).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(join)) if join.is_panic() => Err(panic_message(join.into_panic())),
            Ok(Err(join)) => Err(format!("the case was cancelled: {join}")),
            Err(_) => Err(format!("the case did not finish within {CASE_TIMEOUT:?}")),
        };
        outcome?;
        // The case's task has finished and dropped its handle.
        let adapter = Arc::try_unwrap(adapter)
            .map_err(|_| "the case left a task holding the adapter".to_owned())?;
        tokio::time::timeout(CASE_TIMEOUT, teardown(adapter))
            .await
            .map_err(|_| format!("the teardown did not finish within {CASE_TIMEOUT:?}"))
    })
}

/// Runs one case with [`check_case_with_teardown`] and panics with the
/// case's name and failure message; this is what each generated test calls.
pub fn run_case<A, F, Fut, C, CFut, T, TFut>(name: &str, factory: F, case: C, teardown: T)
where
    A: Adapter + 'static,
    F: FnOnce() -> Fut,
    Fut: Future<Output = A>,
    C: FnOnce(Arc<dyn Adapter>) -> CFut,
    CFut: Future<Output = ()> + Send + 'static,
    T: FnOnce(A) -> TFut,
    TFut: Future<Output = ()>,
{
    if let Err(message) = check_case_with_teardown(factory, case, teardown) {
        panic!("conformance case `{name}` failed: {message}");
    }
}

/// Runs one case like [`run_case`] on an adapter that `factory` opens on a
/// fresh [`TempFile`](temp::TempFile) (its path is the factory's argument;
/// `prefix` starts the file name). After the case passed, the adapter is
/// dropped and the file removed with its companions; a failing case keeps
/// its file, and the panic message names it. What
/// `conformance_tests!(temp_file = ...)` calls.
pub fn run_case_on_temp_file<A, F, Fut, C, CFut>(name: &str, prefix: &str, factory: F, case: C)
where
    A: Adapter + 'static,
    F: FnOnce(PathBuf) -> Fut,
    Fut: Future<Output = A>,
    C: FnOnce(Arc<dyn Adapter>) -> CFut,
    CFut: Future<Output = ()> + Send + 'static,
{
    let file = temp::TempFile::new(prefix);
    let path = file.path().to_owned();
    let result = check_case_with_teardown(
        || factory(path),
        case,
        |adapter| async move {
            drop(adapter);
        },
    );
    if let Err(message) = result {
        let kept = file.keep();
        panic!(
            "conformance case `{name}` failed: {message} (its database file is kept: {})",
            kept.display()
        );
    }
}

/// Runs `concurrent_migrate_on_a_fresh_namespace_succeeds`: calls
/// `migrated(namespace)` [`CONCURRENT_MIGRATIONS`](cases::CONCURRENT_MIGRATIONS)
/// times at once, each on a task of its own, with one fresh namespace name
/// (`mig_` and 16 hex digits: lowercase letters, digits and `_`, 20
/// characters). `migrated` must connect one new adapter instance (its own
/// pool or client) to that namespace and call its `migrate()`. Every call must
/// succeed; then [`cases::migrated_instances_share_one_namespace`] checks that
/// the instances work on the same data, and, if everything passed, one of
/// them is handed to `teardown`.
///
/// Returns the failure message, like [`check_case`].
pub fn check_concurrent_migrate<A, M, MFut, E, T, TFut>(
    migrated: M,
    teardown: T,
) -> Result<(), String>
where
    A: Adapter + 'static,
    M: Fn(String) -> MFut,
    MFut: Future<Output = Result<A, E>> + Send + 'static,
    E: Display + Send + 'static,
    T: FnOnce(A) -> TFut,
    TFut: Future<Output = ()>,
{
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .map_err(|e| format!("cannot build a Tokio runtime: {e}"))?;
    runtime.block_on(async move {
        let namespace = format!("mig_{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
        let tasks: Vec<_> = (0..cases::CONCURRENT_MIGRATIONS)
            .map(|_| tokio::spawn(migrated(namespace.clone())))
            .collect();
        let mut adapters = Vec::new();
        let mut failures = Vec::new();
        for (i, task) in tasks.into_iter().enumerate() {
            match tokio::time::timeout(CASE_TIMEOUT, task).await {
                Ok(Ok(Ok(adapter))) => adapters.push(Arc::new(adapter)),
                Ok(Ok(Err(e))) => failures.push(format!("instance {i}: {e}")),
                Ok(Err(join)) if join.is_panic() => failures.push(format!(
                    "instance {i} panicked: {}",
                    panic_message(join.into_panic())
                )),
                Ok(Err(join)) => failures.push(format!("instance {i} was cancelled: {join}")),
                Err(_) => failures.push(format!(
                    "instance {i} did not migrate within {CASE_TIMEOUT:?}"
                )),
            }
        }
        if !failures.is_empty() {
            return Err(format!(
                "{} of {} adapter instances failed to migrate namespace {namespace:?} at the same \
                 time; migrate() must be safe from many processes at once: {}",
                failures.len(),
                cases::CONCURRENT_MIGRATIONS,
                failures.join("; ")
            ));
        }
        let shared: Vec<Arc<dyn Adapter>> = adapters
            .iter()
            .map(|a| a.clone() as Arc<dyn Adapter>)
            .collect();
        let task = tokio::spawn(cases::migrated_instances_share_one_namespace(shared));
        match tokio::time::timeout(CASE_TIMEOUT, task).await {
            Ok(Ok(())) => {}
            Ok(Err(join)) if join.is_panic() => return Err(panic_message(join.into_panic())),
            Ok(Err(join)) => return Err(format!("the case was cancelled: {join}")),
            Err(_) => return Err(format!("the case did not finish within {CASE_TIMEOUT:?}")),
        }
        let mut adapters = adapters.into_iter();
        let kept = adapters.next().expect("at least one instance");
        drop(adapters);
        let kept = Arc::try_unwrap(kept)
            .map_err(|_| "the case left a task holding the adapter".to_owned())?;
        tokio::time::timeout(CASE_TIMEOUT, teardown(kept))
            .await
            .map_err(|_| format!("the teardown did not finish within {CASE_TIMEOUT:?}"))
    })
}

/// Runs [`check_concurrent_migrate`] and panics with the failure message;
/// what the generated `concurrent_migrate_on_a_fresh_namespace_succeeds` test
/// calls.
pub fn run_concurrent_migrate<A, M, MFut, E, T, TFut>(migrated: M, teardown: T)
where
    A: Adapter + 'static,
    M: Fn(String) -> MFut,
    MFut: Future<Output = Result<A, E>> + Send + 'static,
    E: Display + Send + 'static,
    T: FnOnce(A) -> TFut,
    TFut: Future<Output = ()>,
{
    if let Err(message) = check_concurrent_migrate(migrated, teardown) {
        panic!(
            "conformance case `concurrent_migrate_on_a_fresh_namespace_succeeds` failed: {message}"
        );
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
/// With `teardown = ...`, an async function taking the adapter by value runs
/// after each passing case to remove the case's namespace, so test runs leave
/// nothing behind (failing cases keep theirs for inspection):
///
/// ```ignore
/// async fn drop_schema(adapter: MyAdapter) { adapter.drop_schema().await.unwrap() }
/// adapter_conformance::conformance_tests!(adapter, teardown = drop_schema);
/// ```
///
/// With `migrate = ...`, an async function taking a namespace name and
/// returning `Result<YourAdapter, E>` (any `E: Display`) after connecting a
/// *new* instance to that namespace and calling its `migrate()`, one more
/// test, `concurrent_migrate_on_a_fresh_namespace_succeeds`, migrates one
/// fresh namespace from 8 instances at once (see
/// [`check_concurrent_migrate`]). Every adapter with a `migrate()` should
/// pass it: several replicas of an app start at the same time.
///
/// ```ignore
/// async fn migrated(namespace: String) -> Result<MyAdapter, AdapterError> {
///     let adapter = MyAdapter::connect_to_namespace(&url, &namespace).await?;
///     adapter.migrate().await?;
///     Ok(adapter)
/// }
/// adapter_conformance::conformance_tests!(adapter, teardown = drop_schema, migrate = migrated);
/// ```
///
/// For an adapter on a file (an embedded database), `temp_file = ...` takes
/// an async function from a path to your adapter (opened and migrated on
/// that path) instead: each case gets a fresh file in the system's
/// temporary directory, removed after the case passed (see [`temp`]):
///
/// ```ignore
/// async fn adapter(path: std::path::PathBuf) -> MyAdapter {
///     let adapter = MyAdapter::open(&path).await.unwrap();
///     adapter.migrate().await.unwrap();
///     adapter
/// }
/// adapter_conformance::conformance_tests!(temp_file = adapter);
/// ```
///
/// A failing test is named after the promise it checks, e.g.
/// `use_verification_token_is_atomic_under_concurrency`.
#[macro_export]
macro_rules! conformance_tests {
    (temp_file = $factory:expr $(,)?) => {
        $crate::for_each_case!($crate::__conformance_test_on_temp_file; $factory);
    };
    ($factory:expr $(,)?) => {
        $crate::for_each_case!($crate::__conformance_test; $factory, |_| async {});
    };
    ($factory:expr, teardown = $teardown:expr $(,)?) => {
        $crate::for_each_case!($crate::__conformance_test; $factory, $teardown);
    };
    ($factory:expr, migrate = $migrate:expr $(,)?) => {
        $crate::for_each_case!($crate::__conformance_test; $factory, |_| async {});
        $crate::__concurrent_migrate_test!($migrate, |_| async {});
    };
    ($factory:expr, teardown = $teardown:expr, migrate = $migrate:expr $(,)?) => {
        $crate::for_each_case!($crate::__conformance_test; $factory, $teardown);
        $crate::__concurrent_migrate_test!($migrate, $teardown);
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test_on_temp_file {
    ($factory:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::run_case_on_temp_file(
                    stringify!($case),
                    "conformance",
                    |path| ($factory)(path),
                    $crate::cases::$case,
                );
            }
        )*
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __concurrent_migrate_test {
    ($migrate:expr, $teardown:expr) => {
        #[test]
        fn concurrent_migrate_on_a_fresh_namespace_succeeds() {
            $crate::run_concurrent_migrate($migrate, $teardown);
        }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __conformance_test {
    ($factory:expr, $teardown:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::run_case(
                    stringify!($case),
                    || ($factory)(),
                    $crate::cases::$case,
                    $teardown,
                );
            }
        )*
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temp_file_case_removes_its_file_only_when_it_passes() {
        let seen = Arc::new(std::sync::Mutex::new(None::<PathBuf>));
        let record = |seen: &Arc<std::sync::Mutex<Option<PathBuf>>>| {
            let seen = seen.clone();
            move |path: PathBuf| async move {
                assert!(!path.exists(), "the file is fresh");
                std::fs::write(&path, b"db").unwrap();
                *seen.lock().unwrap() = Some(path);
                MemoryAdapter::new()
            }
        };
        run_case_on_temp_file(
            "concurrent_calls_on_one_adapter_do_not_interfere",
            "temp_pass",
            record(&seen),
            cases::concurrent_calls_on_one_adapter_do_not_interfere,
        );
        let passed = seen.lock().unwrap().take().expect("the factory ran");
        assert!(!passed.exists(), "a passing case's file was kept");

        let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            run_case_on_temp_file(
                "delete_user_removes_accounts_sessions_and_authenticators",
                "temp_fail",
                |path: PathBuf| async move {
                    std::fs::write(&path, b"db").unwrap();
                    MemoryAdapter::with_fault(Fault::NoCascadeOnDelete)
                },
                cases::delete_user_removes_accounts_sessions_and_authenticators,
            )
        }));
        let message = *failed
            .expect_err("the case failed")
            .downcast::<String>()
            .unwrap();
        let kept = message
            .rsplit_once("its database file is kept: ")
            .map(|(_, path)| PathBuf::from(path.trim_end_matches(')')))
            .unwrap_or_else(|| panic!("the message names no file: {message}"));
        assert!(kept.exists(), "a failing case's file was removed");
        temp::remove_with_companions(&kept).unwrap();
    }
    use crate::memory::{Fault, MemoryAdapter};
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn teardown_runs_after_passing_cases_only() {
        let torn_down = Arc::new(AtomicUsize::new(0));
        let count = |torn_down: &Arc<AtomicUsize>| {
            let torn_down = torn_down.clone();
            move |_adapter: MemoryAdapter| async move {
                torn_down.fetch_add(1, Ordering::SeqCst);
            }
        };
        let passed = check_case_with_teardown(
            || async { MemoryAdapter::new() },
            cases::concurrent_calls_on_one_adapter_do_not_interfere,
            count(&torn_down),
        );
        assert_eq!(passed, Ok(()));
        assert_eq!(torn_down.load(Ordering::SeqCst), 1);

        let failed = check_case_with_teardown(
            || async { MemoryAdapter::with_fault(Fault::NoCascadeOnDelete) },
            cases::delete_user_removes_accounts_sessions_and_authenticators,
            count(&torn_down),
        );
        assert!(failed.is_err());
        assert_eq!(
            torn_down.load(Ordering::SeqCst),
            1,
            "a failed case was torn down"
        );
    }
}

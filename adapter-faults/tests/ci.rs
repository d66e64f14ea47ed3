//! The short version of the fault harness that runs in CI: a PostgreSQL
//! restart and a PostgreSQL stall (SIGSTOP) with more callers than
//! connections, each under a 32-task mixed load for a few seconds. The full
//! run, every case on every backend, is `bash scripts/faults.sh`
//! (docs/reliability.md).
//!
//! Both tests restart or pause the shared PostgreSQL server through
//! `scripts/services.sh`, so they take a lock and run one at a time; `cargo
//! test` runs test binaries one after another, so no other crate's tests
//! see the outage.

use std::time::Duration;

use adapter_faults::load::Step;
use adapter_faults::{Backend, CaseOptions, Row, run_case};

static SERVER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn services() -> String {
    format!("bash {}/../scripts/services.sh", env!("CARGO_MANIFEST_DIR"))
}

fn postgres_url() -> String {
    std::env::var("POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "POSTGRES_URL is not set: the fault tests restart and pause a real PostgreSQL. \
             Run them with `bash scripts/test.sh -p adapter-faults` (it starts the servers), \
             or `bash scripts/services.sh && source .services/env` first."
        )
    })
}

/// Resumes PostgreSQL even when a test fails half-way through a stall.
struct Resume;

impl Drop for Resume {
    fn drop(&mut self) {
        let _ = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("{} resume postgres", services()))
            .status();
    }
}

/// When the PostgreSQL server last started, in seconds since the epoch, as
/// the server says (through `psql`, which `scripts/services.sh` installs).
fn postmaster_start() -> f64 {
    let out = std::process::Command::new("psql")
        .env("PGPASSWORD", "postgres")
        .args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-d",
            "postgres",
            "-Atc",
            "select extract(epoch from pg_postmaster_start_time())",
        ])
        .output()
        .expect("psql runs (scripts/services.sh installs PostgreSQL and its client)");
    let text = String::from_utf8_lossy(&out.stdout);
    text.trim().parse().unwrap_or_else(|_| {
        panic!(
            "psql answered {text:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// The case, or a failure after two minutes: a hang here must fail the
/// test, not stall CI.
async fn bounded(case: impl std::future::Future<Output = Row>) -> Row {
    tokio::time::timeout(Duration::from_secs(120), case)
        .await
        .expect("the fault case did not finish within 120 s")
}

fn show(row: &Row) -> String {
    serde_json::to_string_pretty(row).unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_mid_load_loses_no_acknowledged_write_and_the_same_adapter_recovers() {
    let _server = SERVER.lock().await;
    let before = postmaster_start();
    let row = bounded(run_case(CaseOptions {
        case: "restart".into(),
        backend: Backend::Postgres,
        url: postgres_url(),
        duration: Duration::from_secs(14),
        rate: 400.0,
        warmup: Duration::from_secs(1),
        timeout: Duration::from_secs(3),
        steps: vec![Step {
            at_secs: 3.0,
            command: format!("{} restart postgres", services()),
        }],
        ..CaseOptions::default()
    }))
    .await;
    assert!(
        row.problems.is_empty(),
        "problems: {:?}\n{}",
        row.problems,
        show(&row)
    );
    assert_eq!(row.verdict, "pass", "{}", show(&row));
    let load = row.load.as_ref().expect("the load ran");
    // The restart really happened (a restart quick enough for every call to
    // wait it out within its timeout is a pass, so failed calls prove
    // nothing either way): the server started again during the test.
    let started_again = postmaster_start();
    assert!(
        started_again > before,
        "PostgreSQL was not restarted (start time {before} → {started_again})"
    );
    let after = load.recovered_after_back_secs.expect("the restart ran");
    assert!(
        after <= 5.0,
        "calls failed {after} s after the server was back"
    );
    let verification = row.verification.as_ref().expect("checked");
    assert!(
        verification.acked.users > 0 && verification.acked.sessions > 0,
        "the load acknowledged nothing to check\n{}",
        show(&row)
    );
    assert_eq!(verification.lost, 0);
    assert_eq!(verification.orphans, 0);
    assert_eq!(verification.used_twice, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stall_with_more_callers_than_connections_times_out_within_the_bound_and_recovers()
{
    let _server = SERVER.lock().await;
    let _resume = Resume;
    let timeout = Duration::from_millis(1500);
    let row = bounded(run_case(CaseOptions {
        case: "stall".into(),
        backend: Backend::Postgres,
        url: postgres_url(),
        duration: Duration::from_secs(12),
        rate: 400.0,
        pool_size: 4,
        warmup: Duration::from_secs(1),
        timeout,
        expect_timeouts: true,
        steps: vec![
            Step {
                at_secs: 3.0,
                command: format!("{} pause postgres", services()),
            },
            Step {
                at_secs: 6.0,
                command: format!("{} resume postgres", services()),
            },
        ],
        ..CaseOptions::default()
    }))
    .await;
    assert!(
        row.problems.is_empty(),
        "problems: {:?}\n{}",
        row.problems,
        show(&row)
    );
    let load = row.load.as_ref().expect("the load ran");
    assert!(load.timeouts > 0, "no call timed out during the stall");
    assert!(
        load.max_call_ms <= (timeout + Duration::from_secs(1)).as_secs_f64() * 1000.0,
        "a call took {} ms with a {} ms timeout",
        load.max_call_ms,
        timeout.as_millis()
    );
    let verification = row.verification.as_ref().expect("checked");
    assert!(verification.clean(), "{}", show(&row));
}

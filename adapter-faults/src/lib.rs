//! The fault harness of the workspace's adapters: proof of what they do when
//! their server restarts, fails over, stalls or runs out of connections, and
//! when the process writing a SQLite file is killed. Not published.
//!
//! A run ([`run_case`]) builds one adapter, drives a mixed load at it from
//! many tasks (`create_user`, `create_session`, `get_session_and_user`,
//! `update_session`, verification tokens used by two racing callers,
//! `delete_user`), runs the fault's shell commands on schedule (usually
//! `bash scripts/services.sh restart|pause|resume|kill NAME`), and then,
//! with the *same* adapter instance, checks every write the adapter
//! acknowledged ([`journal::verify`]): nothing lost, nothing orphaned, no
//! token used twice. The outcome is one [`Row`]; `scripts/faults.sh` runs
//! every case on every backend and `fault-load report` turns the rows into
//! `docs/reliability.md`.
//!
//! ```no_run
//! use std::time::Duration;
//! use adapter_faults::{Backend, CaseOptions, load::Step, run_case};
//!
//! # async fn example() {
//! let row = run_case(CaseOptions {
//!     case: "restart".into(),
//!     backend: Backend::Postgres,
//!     url: std::env::var("POSTGRES_URL").unwrap(),
//!     steps: vec![Step {
//!         at_secs: 5.0,
//!         command: "bash scripts/services.sh restart postgres".into(),
//!     }],
//!     duration: Duration::from_secs(20),
//!     ..CaseOptions::default()
//! })
//! .await;
//! assert!(row.problems.is_empty(), "{:#?}", row.problems);
//! # }
//! ```

#![warn(missing_docs)]

pub mod backend;
pub mod journal;
pub mod load;
pub mod report;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub use backend::{Backend, Connect, connect};
use journal::{Journal, Verification};
use load::{LoadReport, Plan, Step};
use serde::Serialize;

/// What [`run_case`] runs.
#[derive(Clone, Debug)]
pub struct CaseOptions {
    /// The case's name in the results (`restart`, `stall`, `soak`, ...).
    pub case: String,
    /// The backend.
    pub backend: Backend,
    /// Its URL (a file for SQLite).
    pub url: String,
    /// The namespace; empty for a fresh one named after the case.
    pub namespace: String,
    /// Tasks calling at once (default 32).
    pub tasks: usize,
    /// Connections in the adapter's pool (default 16).
    pub pool_size: u32,
    /// The adapter's operation timeout (default 3 s).
    pub timeout: Duration,
    /// How long the load runs (default 30 s).
    pub duration: Duration,
    /// Operations per second over all tasks, 0 for unthrottled (default 800).
    pub rate: f64,
    /// Warm-up excluded from memory and window figures (default 5 s).
    pub warmup: Duration,
    /// Latency window (default 5 s).
    pub window: Duration,
    /// The fault's commands.
    pub steps: Vec<Step>,
    /// Also append the journal to this file (for a check by another process).
    pub journal_file: Option<PathBuf>,
    /// Acknowledged writes may be lost (the database promises no more, e.g.
    /// Redis's asynchronous replication): the loss is measured, not failed.
    pub loss_allowed: bool,
    /// The fault must make calls time out (a stall).
    pub expect_timeouts: bool,
    /// The longest recovery after the server is back (default 5 s).
    pub recover_within: Duration,
    /// Skip the check at the end (a process that will be killed).
    pub verify: bool,
    /// Keep the namespace afterwards.
    pub keep: bool,
    /// The command that reproduces this row, for the results page.
    pub command: String,
}

impl Default for CaseOptions {
    fn default() -> Self {
        Self {
            case: "load".into(),
            backend: Backend::Postgres,
            url: String::new(),
            namespace: String::new(),
            tasks: 32,
            pool_size: 16,
            timeout: Duration::from_secs(3),
            duration: Duration::from_secs(30),
            rate: 800.0,
            warmup: Duration::from_secs(5),
            window: Duration::from_secs(5),
            steps: Vec::new(),
            journal_file: None,
            loss_allowed: false,
            expect_timeouts: false,
            recover_within: Duration::from_secs(5),
            verify: true,
            keep: false,
            command: String::new(),
        }
    }
}

/// The outcome of one case on one backend: a line of `results.jsonl`.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    /// The case.
    pub case: String,
    /// The backend.
    pub backend: Backend,
    /// The command that reproduces it.
    pub command: String,
    /// Tasks.
    pub tasks: usize,
    /// Pool size.
    pub pool_size: u32,
    /// Operation timeout, ms.
    pub timeout_ms: u64,
    /// Target rate, operations per second (0: unthrottled).
    pub rate: f64,
    /// What the load saw (absent for a check-only row).
    pub load: Option<LoadReport>,
    /// From the end of the load until a call succeeded, seconds.
    pub healthy_after_secs: Option<f64>,
    /// The check of acknowledged writes.
    pub verification: Option<Verification>,
    /// Whether acknowledged writes may be lost by the database's design.
    pub loss_allowed: bool,
    /// `pass`, `measured` (loss allowed and found), or `fail`.
    pub verdict: String,
    /// Why it failed, one line each.
    pub problems: Vec<String>,
}

impl Row {
    /// The row of `options`, before anything has run.
    fn new(options: &CaseOptions) -> Self {
        Self {
            case: options.case.clone(),
            backend: options.backend,
            command: options.command.clone(),
            tasks: options.tasks,
            pool_size: options.pool_size,
            timeout_ms: options.timeout.as_millis() as u64,
            rate: options.rate,
            load: None,
            healthy_after_secs: None,
            verification: None,
            loss_allowed: options.loss_allowed,
            verdict: String::new(),
            problems: Vec::new(),
        }
    }
}

impl CaseOptions {
    /// How to build this case's adapter in `namespace`.
    fn connect_to(&self, namespace: &str) -> Connect {
        Connect {
            backend: self.backend,
            url: self.url.clone(),
            namespace: namespace.to_string(),
            pool_size: self.pool_size,
            timeout: self.timeout,
        }
    }
}

/// A namespace no earlier run used: `faults_<case>_<pid>_<n>`.
pub fn fresh_namespace(case: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let case: String = case
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!(
        "faults_{case}_{}_{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Runs one case: connect, load with the fault, wait until a call
/// succeeds, check the acknowledged writes, judge, drop the namespace.
pub async fn run_case(options: CaseOptions) -> Row {
    let namespace = if options.namespace.is_empty() {
        fresh_namespace(&options.case)
    } else {
        options.namespace.clone()
    };
    let mut row = Row::new(&options);
    let store = match connect(&options.connect_to(&namespace)).await {
        Ok(store) => store,
        Err(e) => {
            row.problems.push(format!("connect/migrate failed: {e}"));
            row.verdict = "fail".into();
            return row;
        }
    };
    let journal = match Journal::new(options.verify, options.journal_file.as_deref()) {
        Ok(j) => Arc::new(j),
        Err(e) => {
            row.problems.push(format!("journal file: {e}"));
            row.verdict = "fail".into();
            return row;
        }
    };
    let plan = Plan {
        tasks: options.tasks,
        duration: options.duration,
        rate: options.rate,
        warmup: options.warmup,
        window: options.window,
        steps: options.steps.clone(),
        timeout: options.timeout,
        tag: format!("{namespace}-{}", std::process::id()),
    };
    let report = load::run(store.adapter.clone(), journal.clone(), plan).await;

    // The same instance must serve again, without being rebuilt.
    let end = Instant::now();
    let mut healthy = None;
    while end.elapsed() < Duration::from_secs(60) {
        if store.adapter.get_user("faults-probe").await.is_ok() {
            healthy = Some(end.elapsed().as_secs_f64());
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    row.healthy_after_secs = healthy;
    if healthy.is_none() {
        row.problems
            .push("the adapter did not serve a call within 60 s after the load".into());
    }
    if options.verify {
        let events = journal.events();
        row.verification = Some(journal::verify(store.adapter.as_ref(), &events).await);
    }
    row.load = Some(report);
    judge(&mut row, &options);
    if !options.keep
        && row.problems.is_empty()
        && let Err(e) = store.drop_namespace().await
    {
        eprintln!("[faults] could not drop {namespace}: {e}");
    }
    row
}

/// Checks journals written by other processes against the database: the
/// row of a case whose load ran elsewhere (killed, or several processes).
pub async fn verify_case(
    options: CaseOptions,
    journals: &[PathBuf],
    sqlite_integrity: bool,
) -> Row {
    let mut row = Row::new(&options);
    if sqlite_integrity {
        match backend::sqlite_integrity(&options.url) {
            Ok(problems) => row.problems.extend(problems),
            Err(e) => row.problems.push(format!("integrity check: {e}")),
        }
    }
    let mut events = Vec::new();
    for path in journals {
        match journal::read_journal(path) {
            Ok(mut e) => events.append(&mut e),
            Err(e) => row
                .problems
                .push(format!("journal {}: {e}", path.display())),
        }
    }
    let started = Instant::now();
    match connect(&options.connect_to(&options.namespace)).await {
        Ok(store) => {
            row.healthy_after_secs = Some(started.elapsed().as_secs_f64());
            row.verification = Some(journal::verify(store.adapter.as_ref(), &events).await);
        }
        Err(e) => row.problems.push(format!("reopen failed: {e}")),
    }
    judge(&mut row, &options);
    row
}

fn judge(row: &mut Row, options: &CaseOptions) {
    let slack = Duration::from_secs(1);
    let mut problems = std::mem::take(&mut row.problems);
    let mut loss = false;
    if let Some(load) = &row.load {
        if load.panics > 0 {
            problems.push(format!("{} task(s) panicked", load.panics));
        }
        if load.other_errors > 0 {
            problems.push(format!(
                "{} error(s) of a kind the load never provokes (e.g. {})",
                load.other_errors,
                load.error_examples.first().map_or("", String::as_str)
            ));
        }
        let bound = (options.timeout + slack).as_secs_f64() * 1000.0;
        if load.max_call_ms > bound {
            problems.push(format!(
                "a call ({}) took {:.0} ms, past the {} ms timeout (+1 s)",
                load.max_call_op, load.max_call_ms, row.timeout_ms
            ));
        }
        if load.missing_reads > 0 {
            if options.loss_allowed {
                loss = true;
            } else {
                problems.push(format!(
                    "{} read(s) found nothing where an acknowledged write should be",
                    load.missing_reads
                ));
            }
        }
        for step in &load.steps {
            if step.status != Some(0) {
                problems.push(format!(
                    "the fault step `{}` failed (exit {:?})",
                    step.step.command, step.status
                ));
            }
        }
        let errors = load.timeouts + load.backend_errors + load.other_errors;
        if options.steps.is_empty() {
            if errors > 0 {
                problems.push(format!(
                    "{errors} call(s) failed with no fault injected (e.g. {})",
                    load.error_examples.first().map_or("", String::as_str)
                ));
            }
            // The journal kept for the check grows with the load; memory is
            // judged on runs that keep none (the soak).
            let growth = load.rss_end_kib.saturating_sub(load.rss_warm_kib);
            if !options.verify && growth > 32 * 1024 {
                problems.push(format!(
                    "resident memory grew by {} KiB after the warm-up",
                    growth
                ));
            }
        } else if let Some(recovered) = load.recovered_after_back_secs
            && recovered > options.recover_within.as_secs_f64()
        {
            problems.push(format!(
                "calls still failed {recovered:.1} s after the server was back (bound {} s)",
                options.recover_within.as_secs_f64()
            ));
        }
        if options.expect_timeouts && load.timeouts == 0 {
            problems.push("the stall made no call time out".into());
        }
    }
    if let Some(v) = &row.verification {
        if v.lost > 0 {
            if options.loss_allowed {
                loss = true;
            } else {
                problems.push(format!("{} acknowledged write(s) lost", v.lost));
            }
        }
        if v.orphans > 0 {
            problems.push(format!("{} orphan(s)", v.orphans));
        }
        if v.used_twice > 0 {
            problems.push(format!("{} token(s) used twice", v.used_twice));
        }
        if v.check_errors > 0 {
            problems.push(format!("{} check call(s) failed", v.check_errors));
        }
        if !problems.is_empty() || loss {
            for example in &v.examples {
                eprintln!("[faults] {}: {example}", row.backend);
            }
        }
    }
    row.verdict = if !problems.is_empty() {
        "fail"
    } else if loss {
        "measured"
    } else {
        "pass"
    }
    .into();
    row.problems = problems;
}

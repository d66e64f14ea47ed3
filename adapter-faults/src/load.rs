//! The load driver: tasks calling an adapter in a mix of reads and writes,
//! a fault injected on a schedule, and what the calls saw.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use auth_core::session::generate_session_token;
use auth_core::{Adapter, AdapterError, NewUser, Session, SessionUpdate, VerificationToken};
use hdrhistogram::Histogram;
use serde::Serialize;
use time::OffsetDateTime;
use tokio::time::MissedTickBehavior;

use crate::journal::{Event, Journal, unix_ms};

/// A shell command run at a point of the load (e.g.
/// `bash scripts/services.sh restart postgres`).
#[derive(Clone, Debug, Serialize)]
pub struct Step {
    /// Seconds after the load starts.
    pub at_secs: f64,
    /// The command, run with `bash -c`.
    pub command: String,
}

/// What one run does.
#[derive(Clone, Debug)]
pub struct Plan {
    /// Tasks calling the adapter at once.
    pub tasks: usize,
    /// How long the load runs.
    pub duration: Duration,
    /// Operations per second over all tasks; 0 for as fast as they go.
    pub rate: f64,
    /// Memory and latency before this are not counted as steady state.
    pub warmup: Duration,
    /// Length of the latency windows (p99 per window).
    pub window: Duration,
    /// The fault, and the step that ends it (e.g. SIGSTOP, then SIGCONT).
    pub steps: Vec<Step>,
    /// The adapter's operation timeout (for the report; the adapter is
    /// built with it).
    pub timeout: Duration,
    /// A prefix making this run's emails and tokens unique.
    pub tag: String,
}

/// The outcome of the calls of one kind.
#[derive(Clone, Debug, Default, Serialize)]
pub struct OpCount {
    /// Operation name.
    pub op: &'static str,
    /// Calls that returned `Ok`.
    pub ok: u64,
    /// Calls that returned an error.
    pub errors: u64,
}

/// What the load saw.
#[derive(Clone, Debug, Default, Serialize)]
pub struct LoadReport {
    /// Seconds the load ran.
    pub secs: f64,
    /// Adapter calls made.
    pub calls: u64,
    /// Calls per operation.
    pub per_op: Vec<OpCount>,
    /// Errors for which `is_timeout()` is true.
    pub timeouts: u64,
    /// Other `Backend` errors (the server refused, the connection broke).
    pub backend_errors: u64,
    /// Errors of any other kind (`Conflict`, `NotFound`, `InvalidInput`):
    /// the harness never provokes them, so each is a defect.
    pub other_errors: u64,
    /// Reads that found nothing where an acknowledged write should be.
    pub missing_reads: u64,
    /// Tasks that panicked.
    pub panics: u64,
    /// The longest call, in milliseconds, and which.
    pub max_call_ms: f64,
    /// The operation of the longest call.
    pub max_call_op: &'static str,
    /// Median call, milliseconds.
    pub p50_ms: f64,
    /// 99th percentile call, milliseconds.
    pub p99_ms: f64,
    /// p99 per window after the warm-up, milliseconds.
    pub window_p99_ms: Vec<f64>,
    /// When the first error happened, seconds into the load.
    pub first_error_secs: Option<f64>,
    /// When the last error happened.
    pub last_error_secs: Option<f64>,
    /// When the fault's last step returned (the server is back).
    pub back_secs: Option<f64>,
    /// From `back_secs` to the first call that succeeded after it.
    pub first_ok_after_back_secs: Option<f64>,
    /// From `back_secs` to the end of the last error after it (0 when
    /// nothing failed after the server was back): the recovery time.
    pub recovered_after_back_secs: Option<f64>,
    /// The fault steps that ran, and whether each succeeded.
    pub steps: Vec<StepOutcome>,
    /// Resident memory of this process after the warm-up, KiB.
    pub rss_warm_kib: u64,
    /// At the end, KiB.
    pub rss_end_kib: u64,
    /// The largest seen, KiB.
    pub rss_max_kib: u64,
    /// Up to ten errors, as their messages.
    pub error_examples: Vec<String>,
    /// Up to ten of the missing reads: when, which call, which record
    /// (secrets by a hash).
    pub missing_examples: Vec<String>,
}

/// One fault step as it ran.
#[derive(Clone, Debug, Serialize)]
pub struct StepOutcome {
    /// The step.
    #[serde(flatten)]
    pub step: Step,
    /// Seconds into the load when it returned.
    pub done_secs: f64,
    /// Its exit status (`None` if it could not be started).
    pub status: Option<i32>,
}

const BUCKET: Duration = Duration::from_millis(100);

struct Stats {
    start: Instant,
    per_op: Vec<OpCount>,
    timeouts: u64,
    backend_errors: u64,
    other_errors: u64,
    missing_reads: u64,
    max_call: Duration,
    max_call_op: &'static str,
    all: Histogram<u64>,
    windows: Vec<Histogram<u64>>,
    window: Duration,
    /// (ok, errors) per 100 ms, by completion time.
    buckets: Vec<(u32, u32)>,
    examples: Vec<String>,
    missing_examples: Vec<String>,
}

impl Stats {
    fn new(start: Instant, plan: &Plan) -> Self {
        let hist = || Histogram::<u64>::new_with_bounds(1, 600_000_000, 2).expect("bounds");
        let windows = (plan.duration.as_secs_f64() / plan.window.as_secs_f64()).ceil() as usize + 1;
        let buckets = (plan.duration.as_secs_f64() / BUCKET.as_secs_f64()).ceil() as usize + 600;
        Self {
            start,
            per_op: Vec::new(),
            timeouts: 0,
            backend_errors: 0,
            other_errors: 0,
            missing_reads: 0,
            max_call: Duration::ZERO,
            max_call_op: "",
            all: hist(),
            windows: (0..windows).map(|_| hist()).collect(),
            window: plan.window,
            buckets: vec![(0, 0); buckets],
            examples: Vec::new(),
            missing_examples: Vec::new(),
        }
    }

    fn record(&mut self, op: &'static str, began: Instant, result: Result<(), &AdapterError>) {
        let took = began.elapsed();
        let done = began.duration_since(self.start) + took;
        let entry = match self.per_op.iter_mut().position(|c| c.op == op) {
            Some(i) => &mut self.per_op[i],
            None => {
                self.per_op.push(OpCount {
                    op,
                    ..OpCount::default()
                });
                self.per_op.last_mut().expect("just pushed")
            }
        };
        let bucket = ((done.as_secs_f64() / BUCKET.as_secs_f64()) as usize)
            .min(self.buckets.len().saturating_sub(1));
        match result {
            Ok(()) => {
                entry.ok += 1;
                self.buckets[bucket].0 += 1;
            }
            Err(e) => {
                entry.errors += 1;
                self.buckets[bucket].1 += 1;
                if e.is_timeout() {
                    self.timeouts += 1;
                } else if matches!(e, AdapterError::Backend(_)) {
                    self.backend_errors += 1;
                } else {
                    self.other_errors += 1;
                }
                if self.examples.len() < 10 {
                    self.examples.push(format!("{op}: {e}"));
                }
            }
        }
        if took > self.max_call {
            self.max_call = took;
            self.max_call_op = op;
        }
        let micros = (took.as_micros() as u64).clamp(1, 600_000_000);
        self.all.saturating_record(micros);
        let window =
            (began.duration_since(self.start).as_secs_f64() / self.window.as_secs_f64()) as usize;
        if let Some(h) = self.windows.get_mut(window) {
            h.saturating_record(micros);
        }
    }
}

struct Shared {
    adapter: Arc<dyn Adapter>,
    journal: Arc<Journal>,
    stats: Mutex<Stats>,
    plan: Plan,
}

impl Shared {
    fn record(&self, op: &'static str, began: Instant, result: Result<(), &AdapterError>) {
        self.stats
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .record(op, began, result);
    }

    fn missing(&self, what: String) {
        let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        stats.missing_reads += 1;
        let at = stats.start.elapsed().as_secs_f64();
        if stats.missing_examples.len() < 10 {
            stats.missing_examples.push(format!("{at:.1}s: {what}"));
        }
    }
}

struct LiveUser {
    id: String,
    sessions: Vec<(String, i64)>,
}

/// Runs `plan` against `adapter`, recording acknowledged writes in
/// `journal`, and returns what the calls saw.
pub async fn run(adapter: Arc<dyn Adapter>, journal: Arc<Journal>, plan: Plan) -> LoadReport {
    let start = Instant::now();
    let shared = Arc::new(Shared {
        adapter,
        journal,
        stats: Mutex::new(Stats::new(start, &plan)),
        plan: plan.clone(),
    });

    let rss = Arc::new(Mutex::new(RssSamples::default()));
    let sampler = {
        let rss = rss.clone();
        let warmup = plan.warmup;
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                let now = rss_kib();
                let mut s = rss.lock().unwrap_or_else(|e| e.into_inner());
                s.max = s.max.max(now);
                s.last = now;
                if s.warm == 0 && start.elapsed() >= warmup {
                    s.warm = now;
                }
            }
        })
    };

    let faults = {
        let steps = plan.steps.clone();
        tokio::spawn(async move {
            let mut outcomes = Vec::new();
            for step in steps {
                let at = start + Duration::from_secs_f64(step.at_secs);
                tokio::time::sleep_until(at.into()).await;
                eprintln!(
                    "[faults] {:.1}s: {}",
                    start.elapsed().as_secs_f64(),
                    step.command
                );
                // A blocking wait on a thread of its own: tokio's child
                // reaping hangs when an earlier runtime of the same process
                // (another test) installed the SIGCHLD handler.
                let command = step.command.clone();
                let status = tokio::task::spawn_blocking(move || {
                    std::process::Command::new("bash")
                        .arg("-c")
                        .arg(&command)
                        .stdout(std::process::Stdio::inherit())
                        .stderr(std::process::Stdio::inherit())
                        .status()
                        .ok()
                        .and_then(|s| s.code())
                })
                .await
                .ok()
                .flatten();
                let done_secs = start.elapsed().as_secs_f64();
                eprintln!("[faults] {done_secs:.1}s: done (exit {status:?})");
                outcomes.push(StepOutcome {
                    step,
                    done_secs,
                    status,
                });
            }
            outcomes
        })
    };

    let mut tasks = Vec::new();
    for task in 0..plan.tasks {
        let shared = shared.clone();
        tasks.push(tokio::spawn(async move { drive(shared, task).await }));
    }
    let mut panics = 0;
    for task in tasks {
        if let Err(e) = task.await
            && e.is_panic()
        {
            panics += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    let steps = faults.await.unwrap_or_default();
    sampler.abort();

    let stats = shared.stats.lock().unwrap_or_else(|e| e.into_inner());
    let rss = rss.lock().unwrap_or_else(|e| e.into_inner());
    let ms = |micros: u64| micros as f64 / 1000.0;
    let warm_windows = (plan.warmup.as_secs_f64() / plan.window.as_secs_f64()).ceil() as usize;
    let full_windows = (secs / plan.window.as_secs_f64()).floor() as usize;
    let window_p99_ms = stats
        .windows
        .iter()
        .enumerate()
        .filter(|(i, h)| *i >= warm_windows && *i < full_windows && !h.is_empty())
        .map(|(_, h)| ms(h.value_at_quantile(0.99)))
        .collect();
    let at = |bucket: usize| bucket as f64 * BUCKET.as_secs_f64();
    let first_error_secs = stats.buckets.iter().position(|b| b.1 > 0).map(at);
    let last_error_secs = stats
        .buckets
        .iter()
        .rposition(|b| b.1 > 0)
        .map(|b| at(b + 1));
    let back_secs = steps.last().map(|s| s.done_secs);
    let (first_ok_after_back_secs, recovered_after_back_secs) = match back_secs {
        Some(back) => {
            let from = (back / BUCKET.as_secs_f64()) as usize;
            let first_ok = stats.buckets[from.min(stats.buckets.len())..]
                .iter()
                .position(|b| b.0 > 0)
                .map(|i| (at(from + i) - back).max(0.0));
            let last_err = stats.buckets[from.min(stats.buckets.len())..]
                .iter()
                .rposition(|b| b.1 > 0)
                .map(|i| (at(from + i + 1) - back).max(0.0))
                .unwrap_or(0.0);
            (first_ok, Some(last_err))
        }
        None => (None, None),
    };
    LoadReport {
        secs,
        calls: stats.per_op.iter().map(|c| c.ok + c.errors).sum(),
        per_op: stats.per_op.clone(),
        timeouts: stats.timeouts,
        backend_errors: stats.backend_errors,
        other_errors: stats.other_errors,
        missing_reads: stats.missing_reads,
        panics,
        max_call_ms: stats.max_call.as_secs_f64() * 1000.0,
        max_call_op: stats.max_call_op,
        p50_ms: ms(stats.all.value_at_quantile(0.5)),
        p99_ms: ms(stats.all.value_at_quantile(0.99)),
        window_p99_ms,
        first_error_secs,
        last_error_secs,
        back_secs,
        first_ok_after_back_secs,
        recovered_after_back_secs,
        steps,
        rss_warm_kib: if rss.warm == 0 { rss.last } else { rss.warm },
        rss_end_kib: rss.last,
        rss_max_kib: rss.max,
        error_examples: stats.examples.clone(),
        missing_examples: stats.missing_examples.clone(),
    }
}

/// One task: a mix of operations on users it created itself.
async fn drive(shared: Arc<Shared>, task: usize) {
    let plan = &shared.plan;
    let start = shared.stats.lock().unwrap_or_else(|e| e.into_inner()).start;
    let mut rng = fastrand::Rng::with_seed(task as u64 * 7919 + 1);
    let mut users: VecDeque<LiveUser> = VecDeque::new();
    let mut seq = 0u64;
    let mut ticker = (plan.rate > 0.0).then(|| {
        let period = Duration::from_secs_f64(plan.tasks as f64 / plan.rate);
        let mut t =
            tokio::time::interval_at((Instant::now() + period.mul_f64(rng.f64())).into(), period);
        t.set_missed_tick_behavior(MissedTickBehavior::Delay);
        t
    });
    while start.elapsed() < plan.duration {
        if let Some(t) = ticker.as_mut() {
            t.tick().await;
            if start.elapsed() >= plan.duration {
                break;
            }
        }
        seq += 1;
        let roll = rng.u32(0..100);
        let have_sessions = users.iter().any(|u| !u.sessions.is_empty());
        if users.len() < 3 || (roll < 12 && users.len() < 24) {
            create_user(&shared, task, seq, &mut users).await;
        } else if roll < 27 || !have_sessions {
            let i = rng.usize(0..users.len());
            create_session(&shared, &mut users[i]).await;
        } else if roll < 67 {
            let (token, _) = pick_session(&mut rng, &users);
            let began = Instant::now();
            let result = shared.adapter.get_session_and_user(&token).await;
            shared.record("get_session_and_user", began, result.as_ref().map(|_| ()));
            if let Ok(None) = result {
                shared.missing(format!(
                    "get_session_and_user found no session {}",
                    crate::journal::label(&token)
                ));
            }
        } else if roll < 79 {
            update_session(&shared, &mut rng, &mut users).await;
        } else if roll < 91 {
            verification(&shared, task, seq).await;
        } else {
            delete_user(&shared, &mut users).await;
        }
    }
}

async fn create_user(shared: &Shared, task: usize, seq: u64, users: &mut VecDeque<LiveUser>) {
    let email = format!("{}-{task}-{seq}@faults.example", shared.plan.tag);
    let began = Instant::now();
    let result = shared
        .adapter
        .create_user(NewUser {
            name: Some(format!("Fault {task}-{seq}")),
            email: Some(email.clone()),
            email_verified: None,
            image: None,
        })
        .await;
    shared.record("create_user", began, result.as_ref().map(|_| ()));
    if let Ok(user) = result {
        shared.journal.record(Event::User {
            id: user.id.clone(),
            email,
        });
        users.push_back(LiveUser {
            id: user.id,
            sessions: Vec::new(),
        });
    }
}

async fn create_session(shared: &Shared, user: &mut LiveUser) {
    let Ok(token) = generate_session_token() else {
        return;
    };
    let expires = OffsetDateTime::now_utc() + time::Duration::days(30);
    let expires = OffsetDateTime::from_unix_timestamp(expires.unix_timestamp()).expect("in range");
    shared.journal.record(Event::SessionTry {
        token: token.clone(),
        user: user.id.clone(),
    });
    let began = Instant::now();
    let result = shared
        .adapter
        .create_session(Session {
            session_token: token.clone(),
            user_id: user.id.clone(),
            expires,
        })
        .await;
    shared.record("create_session", began, result.as_ref().map(|_| ()));
    if result.is_ok() {
        let expires_ms = unix_ms(expires);
        shared.journal.record(Event::Session {
            token: token.clone(),
            user: user.id.clone(),
            expires_ms,
        });
        user.sessions.push((token, expires_ms));
    }
}

fn pick_session(rng: &mut fastrand::Rng, users: &VecDeque<LiveUser>) -> (String, i64) {
    let with: Vec<&LiveUser> = users.iter().filter(|u| !u.sessions.is_empty()).collect();
    let user = with[rng.usize(0..with.len())];
    user.sessions[rng.usize(0..user.sessions.len())].clone()
}

async fn update_session(shared: &Shared, rng: &mut fastrand::Rng, users: &mut VecDeque<LiveUser>) {
    let (token, old) = pick_session(rng, users);
    // Every update moves the expiry later, so the stored one can be checked
    // against the last acknowledged.
    let expires_ms = old + 1000 * rng.i64(1..60);
    let expires = OffsetDateTime::from_unix_timestamp(expires_ms / 1000).expect("in range");
    let began = Instant::now();
    let result = shared
        .adapter
        .update_session(SessionUpdate {
            session_token: token.clone(),
            expires: Some(expires),
            user_id: None,
        })
        .await;
    shared.record("update_session", began, result.as_ref().map(|_| ()));
    match result {
        Ok(Some(_)) => shared.journal.record(Event::Update {
            token: token.clone(),
            expires_ms,
        }),
        Ok(None) => shared.missing(format!(
            "update_session found no session {}",
            crate::journal::label(&token)
        )),
        Err(_) => shared.journal.record(Event::UpdateFailed {
            token: token.clone(),
        }),
    }
    for user in users.iter_mut() {
        for session in &mut user.sessions {
            if session.0 == token {
                session.1 = expires_ms;
            }
        }
    }
}

async fn verification(shared: &Shared, task: usize, seq: u64) {
    let identifier = format!("{}-{task}-{seq}@faults.example", shared.plan.tag);
    let Ok(token) = generate_session_token() else {
        return;
    };
    let began = Instant::now();
    let result = shared
        .adapter
        .create_verification_token(VerificationToken {
            identifier: identifier.clone(),
            token: token.clone(),
            expires: OffsetDateTime::now_utc() + time::Duration::hours(24),
        })
        .await;
    shared.record(
        "create_verification_token",
        began,
        result.as_ref().map(|_| ()),
    );
    if result.is_err() {
        return;
    }
    shared.journal.record(Event::Token {
        identifier: identifier.clone(),
        token: token.clone(),
    });
    // Two uses race: at most one may get the token.
    let use_once = || async {
        let began = Instant::now();
        let result = shared
            .adapter
            .use_verification_token(&identifier, &token)
            .await;
        shared.record("use_verification_token", began, result.as_ref().map(|_| ()));
        match result {
            Ok(Some(_)) => {
                shared.journal.record(Event::Used {
                    identifier: identifier.clone(),
                    token: token.clone(),
                });
                1
            }
            Ok(None) => 0,
            Err(_) => {
                shared.journal.record(Event::UseFailed {
                    token: token.clone(),
                });
                2
            }
        }
    };
    let (a, b) = tokio::join!(use_once(), use_once());
    if a == 0 && b == 0 {
        // Neither use failed and neither got it: the token was lost.
        shared.missing(format!(
            "neither use_verification_token got token {}",
            crate::journal::label(&token)
        ));
    }
}

async fn delete_user(shared: &Shared, users: &mut VecDeque<LiveUser>) {
    let Some(user) = users.pop_front() else {
        return;
    };
    shared.journal.record(Event::DeleteTry {
        id: user.id.clone(),
    });
    let began = Instant::now();
    let result = shared.adapter.delete_user(&user.id).await;
    shared.record("delete_user", began, result.as_ref().map(|_| ()));
    if result.is_ok() {
        shared.journal.record(Event::Deleted { id: user.id });
    }
}

#[derive(Default)]
struct RssSamples {
    warm: u64,
    last: u64,
    max: u64,
}

/// This process's resident memory in KiB (`VmRSS`), 0 where unknown.
pub fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

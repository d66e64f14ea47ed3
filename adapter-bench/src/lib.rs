//! The benchmark runner of the workspace's adapters: the workload described in
//! [`docs/workload.md`](https://github.com/authjs-rs/authjs-rs/blob/main/docs/workload.md),
//! the same for every backend. Not published: each adapter crate uses it as a
//! dev-dependency of its `benches/workload.rs`.
//!
//! An adapter crate's bench target (`harness = false`) parses the flags with
//! [`BenchConfig::from_args`], builds its adapter with a pool of 16, and calls
//! [`run`] with a [`Ceiling`]: the same work as each operation, done by the
//! fastest native client of that database on its own best-configured pool
//! (the same statement, join, pipeline or aggregate, without the adapter).
//! Each operation is timed, then its ceiling right after it, so that the two
//! run under the same conditions. [`run`] prints one JSON line per timed
//! operation on stdout and everything else on stderr.
//!
//! ```no_run
//! use std::sync::Arc;
//! use adapter_bench::{self as bench, BenchConfig, Ceiling, RawLookup};
//! # use adapter_conformance::memory::MemoryAdapter;
//!
//! #[tokio::main]
//! async fn main() {
//!     let config = BenchConfig::from_args("MEMORY_URL");
//!     let adapter = Arc::new(MemoryAdapter::new());
//!     let raw = adapter.clone();
//!     let raw_lookup: RawLookup = Arc::new(move |token| {
//!         let raw = raw.clone();
//!         Box::pin(async move { raw.raw_session_exists(&token) })
//!     });
//!     // Only the session lookup has a ceiling here; `Ceiling::new` takes
//!     // one function answering every `Call`.
//!     bench::run("memory", adapter, &config, Ceiling::lookup_only(raw_lookup)).await;
//! }
//! ```

#![warn(missing_docs)]

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration as StdDuration, Instant};

use std::io::IsTerminal;

use auth_core::session::generate_session_token;
use auth_core::{
    Account, AccountType, Adapter, AdapterError, NewUser, Session, SessionUpdate, VerificationToken,
};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use time::{Duration, OffsetDateTime};

/// Fetches one session row by token in one round trip; `true` if found.
pub type RawLookup =
    Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// One call of the workload, as a [`Ceiling`] receives it: the arguments the
/// adapter's method got.
#[derive(Clone, Debug)]
pub enum Call {
    /// `get_session_and_user(session_token)`: the session and its user.
    GetSessionAndUser {
        /// A seeded session's token.
        session_token: String,
    },
    /// `get_user_by_account(provider, provider_account_id)`: the user.
    GetUserByAccount {
        /// `github`.
        provider: String,
        /// `gh-{i}`.
        provider_account_id: String,
    },
    /// `update_session`: moves a session's expiry, returning the row.
    UpdateSession {
        /// A seeded session's token.
        session_token: String,
        /// The new expiry.
        expires: OffsetDateTime,
    },
    /// `create_session`: stores a new session of an existing user.
    CreateSession(Session),
    /// `use_verification_token`: deletes the token, returning it.
    UseVerificationToken {
        /// `user{i}@bench.example`.
        identifier: String,
        /// A token created beforehand (through the adapter, not timed).
        token: String,
    },
}

impl Call {
    /// The operation this call is of, as named in the rows.
    pub fn op(&self) -> &'static str {
        match self {
            Call::GetSessionAndUser { .. } => "get_session_and_user",
            Call::GetUserByAccount { .. } => "get_user_by_account",
            Call::UpdateSession { .. } => "update_session",
            Call::CreateSession(_) => "create_session",
            Call::UseVerificationToken { .. } => "use_verification_token",
        }
    }
}

/// Does one [`Call`] on the bare client; `true` if it found (or stored) its
/// record.
pub type CeilingFn = Arc<dyn Fn(Call) -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

/// The ceiling of a backend: every operation's work done by the fastest
/// native client of the database, with nothing of the adapter. Its rows are
/// named `raw_lookup` (the ceiling of `get_session_and_user`) and
/// `raw_<op>` for the others.
#[derive(Clone)]
pub struct Ceiling {
    call: CeilingFn,
    ops: &'static [&'static str],
}

impl Ceiling {
    /// A ceiling for every operation of the workload.
    pub fn new(call: CeilingFn) -> Self {
        Self {
            call,
            ops: &[
                "get_session_and_user",
                "get_user_by_account",
                "update_session",
                "create_session",
                "use_verification_token",
            ],
        }
    }

    /// A ceiling for `get_session_and_user` only (the `raw_lookup` row).
    pub fn lookup_only(raw_lookup: RawLookup) -> Self {
        Self {
            call: Arc::new(move |call| match call {
                Call::GetSessionAndUser { session_token } => raw_lookup(session_token),
                other => panic!("no ceiling for {}", other.op()),
            }),
            ops: &["get_session_and_user"],
        }
    }

    fn covers(&self, op: &str) -> bool {
        self.ops.contains(&op)
    }

    /// The row name of `op`'s ceiling.
    pub fn row_name(op: &str) -> &'static str {
        match op {
            "get_session_and_user" => "raw_lookup",
            "get_user_by_account" => "raw_get_user_by_account",
            "update_session" => "raw_update_session",
            "create_session" => "raw_create_session",
            "use_verification_token" => "raw_use_verification_token",
            other => panic!("no such operation: {other}"),
        }
    }
}

/// Stores a batch of dataset users with their accounts and sessions through
/// a backend's bulk path, and returns the id each user was stored under, in
/// the order of the batch.
///
/// The `user_id` of each [`SeedUser`]'s account and session is empty: the
/// seeder chooses the user's id (as the adapter's `create_user` would) and
/// links both records to it. Batches of [`SEED_BATCH`] users arrive from up
/// to [`SEED_TASKS`] tasks at once.
pub type BulkSeed = Arc<
    dyn Fn(Vec<SeedUser>) -> Pin<Box<dyn Future<Output = Result<Vec<String>, AdapterError>> + Send>>
        + Send
        + Sync,
>;

/// Users per [`BulkSeed`] call.
pub const SEED_BATCH: usize = 1_000;

/// Seeding tasks running at once (batches in flight for [`BulkSeed`]).
pub const SEED_TASKS: usize = 4;

/// Dataset user `i` of the workload: `User i`, `user{i}@bench.example`, one
/// GitHub account `gh-{i}` and one session expiring in 30 days.
#[derive(Clone, Debug)]
pub struct SeedUser {
    /// The user, without an id.
    pub user: NewUser,
    /// The user's OAuth account; `user_id` is empty.
    pub account: Account,
    /// The user's session; `user_id` is empty.
    pub session: Session,
}

impl SeedUser {
    /// Dataset user `i`, with a fresh random session token.
    ///
    /// # Panics
    /// When the operating system has no randomness to give.
    pub fn new(i: usize) -> Self {
        Self {
            user: NewUser {
                name: Some(format!("User {i}")),
                email: Some(format!("user{i}@bench.example")),
                ..NewUser::default()
            },
            account: Account {
                access_token: Some(format!("gho_{i:036x}")),
                token_type: Some("bearer".into()),
                scope: Some("read:user".into()),
                ..Account::new("", AccountType::OAuth, "github", format!("gh-{i}"))
            },
            session: Session {
                session_token: generate_session_token().expect("randomness"),
                user_id: String::new(),
                expires: OffsetDateTime::now_utc() + Duration::days(30),
            },
        }
    }
}

/// The workload's size, from the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BenchConfig {
    /// Seeded users, each with one account and one session (`--users`, default 10,000).
    pub users: usize,
    /// Operations per timed op (`--ops`, default 20,000).
    pub ops: usize,
    /// Tasks sharing the operations (`--concurrency`, default 32).
    pub concurrency: usize,
    /// Server URL (`--url`, default: the tests' environment variable).
    pub url: Option<String>,
}

impl BenchConfig {
    /// Parses `--users N --ops N --concurrency C --url URL` from the process
    /// arguments, ignoring `--bench` (which cargo adds). The URL defaults to
    /// the environment variable `url_env`.
    ///
    /// # Panics
    /// On an unknown flag or a value that is not a number, with a usage line.
    pub fn from_args(url_env: &str) -> Self {
        Self::parse(std::env::args().skip(1), std::env::var(url_env).ok())
    }

    fn parse(args: impl IntoIterator<Item = String>, env_url: Option<String>) -> Self {
        let usage = "usage: -- [--users N] [--ops N] [--concurrency C] [--url URL]";
        let mut config = Self {
            users: 10_000,
            ops: 20_000,
            concurrency: 32,
            url: env_url.filter(|u| !u.is_empty()),
        };
        let mut args = args.into_iter();
        while let Some(flag) = args.next() {
            let mut value = || {
                args.next()
                    .unwrap_or_else(|| panic!("{flag} needs a value; {usage}"))
            };
            let number = |v: String| -> usize {
                v.replace('_', "")
                    .parse()
                    .unwrap_or_else(|_| panic!("{v:?} is not a number; {usage}"))
            };
            match flag.as_str() {
                "--bench" => {}
                "--users" => config.users = number(value()),
                "--ops" => config.ops = number(value()),
                "--concurrency" => config.concurrency = number(value()).max(1),
                "--url" => config.url = Some(value()),
                other => panic!("unknown argument {other:?}; {usage}"),
            }
        }
        config
    }
}

/// What one timed operation measured.
#[derive(Clone, Debug)]
pub struct OpResult {
    /// Operation name, e.g. `get_session_and_user`.
    pub op: &'static str,
    /// Wall time for all operations.
    pub secs: f64,
    /// Median latency, microseconds.
    pub p50_us: u64,
    /// 99th percentile latency, microseconds.
    pub p99_us: u64,
}

struct Dataset {
    user_ids: Vec<String>,
    session_tokens: Vec<String>,
}

/// Seeds the dataset, runs every operation of the workload in order and
/// prints one JSON line per operation. Returns the measurements too.
///
/// # Panics
/// When an adapter call fails or a lookup that must find its record does not:
/// a benchmark of a broken adapter measures nothing.
pub async fn run<A: Adapter + 'static>(
    backend: &str,
    adapter: Arc<A>,
    config: &BenchConfig,
    ceiling: Ceiling,
) -> Vec<OpResult> {
    workload(backend, adapter, config, ceiling, None).await
}

/// [`run`], seeding through `seed` (the backend's bulk path) instead of one
/// adapter call per record. Before timing anything it reads a sample of the
/// seeded users, accounts and sessions back through the adapter.
///
/// # Panics
/// As [`run`]; also when `seed` fails or stored a record that the adapter
/// reads back differently.
pub async fn run_bulk_seeded<A: Adapter + 'static>(
    backend: &str,
    adapter: Arc<A>,
    config: &BenchConfig,
    ceiling: Ceiling,
    seed: BulkSeed,
) -> Vec<OpResult> {
    workload(backend, adapter, config, ceiling, Some(seed)).await
}

async fn workload<A: Adapter + 'static>(
    backend: &str,
    adapter: Arc<A>,
    config: &BenchConfig,
    ceiling: Ceiling,
    bulk: Option<BulkSeed>,
) -> Vec<OpResult> {
    let adapter: Arc<dyn Adapter> = adapter;
    let started = Instant::now();
    let bulk_seeded = bulk.is_some();
    let seeding = if bulk_seeded { "bulk" } else { "adapter" };
    let progress = Progress::new(backend, config.users);
    let data = Arc::new(seed(&adapter, bulk, config, &progress).await);
    let seed_secs = started.elapsed().as_secs_f64();
    progress.finish();
    eprintln!(
        "{backend}: seeded {} users, accounts and sessions in {seed_secs:.1}s ({seeding} path, {:.0} users/s)",
        config.users,
        config.users as f64 / seed_secs.max(1e-9),
    );
    if bulk_seeded {
        verify_seeded(&adapter, &data).await;
    }
    let users = config.users;
    let pick = move |i: usize| i.wrapping_mul(2_654_435_761) % users;

    // Untimed warm-up of the hot path, through the adapter and the ceiling.
    let lookup: CallAt = {
        let data = data.clone();
        Arc::new(move |i| Call::GetSessionAndUser {
            session_token: data.session_tokens[pick(i)].clone(),
        })
    };
    timed(
        config.concurrency,
        1_000,
        through_adapter(&adapter, lookup.clone()),
    )
    .await;
    timed(
        config.concurrency,
        1_000,
        through_ceiling(&ceiling, lookup.clone()),
    )
    .await;

    // Every operation's calls, by index; `use_verification_token` consumes
    // tokens created here (not timed): the first `ops` through the adapter,
    // the next `ops` by its ceiling.
    let ops = config.ops;
    let tokens: Arc<Vec<String>> = Arc::new(
        (0..2 * ops)
            .map(|_| generate_session_token().expect("randomness"))
            .collect(),
    );
    let identifier = move |i: usize| format!("user{}@bench.example", i % ops.max(1));
    let calls: Vec<CallAt> = vec![
        lookup,
        Arc::new(move |i| Call::GetUserByAccount {
            provider: "github".into(),
            provider_account_id: format!("gh-{}", pick(i)),
        }),
        {
            let data = data.clone();
            Arc::new(move |i| Call::UpdateSession {
                session_token: data.session_tokens[pick(i)].clone(),
                expires: OffsetDateTime::now_utc() + Duration::days(30),
            })
        },
        {
            let data = data.clone();
            Arc::new(move |i| {
                Call::CreateSession(Session {
                    session_token: generate_session_token().expect("randomness"),
                    user_id: data.user_ids[pick(i)].clone(),
                    expires: OffsetDateTime::now_utc() + Duration::days(30),
                })
            })
        },
        {
            let tokens = tokens.clone();
            Arc::new(move |i| Call::UseVerificationToken {
                identifier: identifier(i),
                token: tokens[i].clone(),
            })
        },
    ];
    let mut results = Vec::new();
    for at in calls {
        let op = at(0).op();
        if op == "use_verification_token" {
            let tokens = tokens.clone();
            timed(config.concurrency, 2 * ops, {
                let adapter = adapter.clone();
                move |i| {
                    let (adapter, token) = (adapter.clone(), tokens[i].clone());
                    async move {
                        let token = VerificationToken {
                            identifier: identifier(i),
                            token,
                            expires: OffsetDateTime::now_utc() + Duration::days(1),
                        };
                        adapter
                            .create_verification_token(token)
                            .await
                            .unwrap_or_else(|e| panic!("create_verification_token: {e}"));
                    }
                }
            })
            .await;
        }
        let measured = timed(
            config.concurrency,
            ops,
            through_adapter(&adapter, at.clone()),
        )
        .await;
        results.push(measured.named(op));
        if ceiling.covers(op) {
            // The ceiling's own calls: for tokens, the second half.
            let shifted: CallAt = if op == "use_verification_token" {
                let tokens = tokens.clone();
                Arc::new(move |i| Call::UseVerificationToken {
                    identifier: identifier(i),
                    token: tokens[ops + i].clone(),
                })
            } else {
                at
            };
            let measured = timed(config.concurrency, ops, through_ceiling(&ceiling, shifted)).await;
            results.push(measured.named(Ceiling::row_name(op)));
        }
    }
    let peak_rss_kib = peak_rss_kib();
    if let Some(kib) = peak_rss_kib {
        eprintln!("{backend}: peak RSS {:.1} MiB", kib as f64 / 1024.0);
    }

    for r in &results {
        println!(
            "{}",
            serde_json::json!({
                "impl": "rust",
                "backend": backend,
                "op": r.op,
                "users": config.users,
                "concurrency": config.concurrency,
                "ops": config.ops,
                "secs": (r.secs * 1000.0).round() / 1000.0,
                "ops_per_sec": (config.ops as f64 / r.secs).round() as u64,
                "p50_us": r.p50_us,
                "p99_us": r.p99_us,
                "seed_secs": (seed_secs * 10.0).round() / 10.0,
                "seeding": seeding,
                "peak_rss_kib": peak_rss_kib,
            })
        );
    }
    results
}

/// The call an operation makes for index `i`.
type CallAt = Arc<dyn Fn(usize) -> Call + Send + Sync>;

/// `call_at(i)` through the adapter's own method; panics on an error or when
/// a record that must be found is not.
fn through_adapter(
    adapter: &Arc<dyn Adapter>,
    call_at: CallAt,
) -> impl Fn(usize) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync + 'static {
    let adapter = adapter.clone();
    move |i| {
        let (adapter, call) = (adapter.clone(), call_at(i));
        Box::pin(async move {
            let op = call.op();
            let fail = |e: AdapterError| -> ! { panic!("{op}: {e}") };
            let found = match call {
                Call::GetSessionAndUser { session_token } => adapter
                    .get_session_and_user(&session_token)
                    .await
                    .unwrap_or_else(|e| fail(e))
                    .is_some(),
                Call::GetUserByAccount {
                    provider,
                    provider_account_id,
                } => adapter
                    .get_user_by_account(&provider, &provider_account_id)
                    .await
                    .unwrap_or_else(|e| fail(e))
                    .is_some(),
                Call::UpdateSession {
                    session_token,
                    expires,
                } => adapter
                    .update_session(SessionUpdate {
                        session_token,
                        expires: Some(expires),
                        user_id: None,
                    })
                    .await
                    .unwrap_or_else(|e| fail(e))
                    .is_some(),
                Call::CreateSession(session) => {
                    adapter
                        .create_session(session)
                        .await
                        .unwrap_or_else(|e| fail(e));
                    true
                }
                Call::UseVerificationToken { identifier, token } => adapter
                    .use_verification_token(&identifier, &token)
                    .await
                    .unwrap_or_else(|e| fail(e))
                    .is_some(),
            };
            assert!(found, "{op}: a seeded record was not found");
        })
    }
}

/// `call_at(i)` on the ceiling; panics when a record that must be found is
/// not.
fn through_ceiling(
    ceiling: &Ceiling,
    call_at: CallAt,
) -> impl Fn(usize) -> Pin<Box<dyn Future<Output = ()> + Send>> + Send + Sync + 'static {
    let ceiling = ceiling.call.clone();
    move |i| {
        let call = call_at(i);
        let op = call.op();
        let done = ceiling(call);
        Box::pin(async move {
            assert!(done.await, "{op} (ceiling): a seeded record was not found");
        })
    }
}

/// The process's peak resident set size so far (`VmHWM`), in KiB; `None`
/// where `/proc` does not say.
pub fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

async fn seed(
    adapter: &Arc<dyn Adapter>,
    bulk: Option<BulkSeed>,
    config: &BenchConfig,
    progress: &Progress,
) -> Dataset {
    let users = config.users;
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    let batch = if bulk.is_some() { SEED_BATCH } else { 1 };
    let task_count = if bulk.is_some() {
        SEED_TASKS
    } else {
        config.concurrency
    };
    for _ in 0..task_count.min(users.div_ceil(batch).max(1)) {
        let (adapter, bulk, next, progress) = (
            adapter.clone(),
            bulk.clone(),
            next.clone(),
            progress.clone(),
        );
        tasks.spawn(async move {
            let mut seeded = Vec::new();
            loop {
                let first = next.fetch_add(batch, Ordering::Relaxed);
                if first >= users {
                    break seeded;
                }
                let indices = first..(first + batch).min(users);
                let records: Vec<SeedUser> = indices.clone().map(SeedUser::new).collect();
                let tokens: Vec<String> = records
                    .iter()
                    .map(|r| r.session.session_token.clone())
                    .collect();
                let ids = match &bulk {
                    Some(bulk) => {
                        let ids = bulk(records).await.expect("seeding a batch in bulk");
                        assert_eq!(
                            ids.len(),
                            tokens.len(),
                            "the bulk seeder must return one user id per user"
                        );
                        ids
                    }
                    None => {
                        let mut ids = Vec::with_capacity(records.len());
                        for record in records {
                            ids.push(seed_one(adapter.as_ref(), record).await);
                        }
                        ids
                    }
                };
                progress.advance(ids.len());
                seeded.extend(indices.zip(ids).zip(tokens).map(|((i, id), t)| (i, id, t)));
            }
        });
    }
    let mut rows = Vec::with_capacity(users);
    while let Some(done) = tasks.join_next().await {
        match done {
            Ok(seeded) => rows.extend(seeded),
            Err(failed) => {
                // Stop the other tasks at once instead of seeding on for
                // minutes, then fail with the task's own message.
                tasks.abort_all();
                match failed.try_into_panic() {
                    Ok(panic) => std::panic::resume_unwind(panic),
                    Err(e) => panic!("a seeding task did not finish: {e}"),
                }
            }
        }
    }
    rows.sort_by_key(|(i, ..)| *i);
    let (user_ids, session_tokens) = rows.into_iter().map(|(_, u, s)| (u, s)).unzip();
    Dataset {
        user_ids,
        session_tokens,
    }
}

/// Seeds one dataset user through the adapter's own calls.
async fn seed_one(adapter: &dyn Adapter, record: SeedUser) -> String {
    let user = adapter
        .create_user(record.user)
        .await
        .expect("seeding a user");
    adapter
        .link_account(Account {
            user_id: user.id.clone(),
            ..record.account
        })
        .await
        .expect("seeding an account");
    adapter
        .create_session(Session {
            user_id: user.id.clone(),
            ..record.session
        })
        .await
        .expect("seeding a session");
    user.id
}

/// Reads users spread over the dataset back through the adapter and checks
/// that the bulk path stored them as the adapter itself would have.
async fn verify_seeded(adapter: &Arc<dyn Adapter>, data: &Dataset) {
    let users = data.user_ids.len();
    let sample = 64.min(users);
    for k in 0..sample {
        let i = if sample > 1 {
            k * (users - 1) / (sample - 1)
        } else {
            0
        };
        let expected = SeedUser::new(i);
        let id = &data.user_ids[i];
        let user = adapter
            .get_user_by_account("github", &format!("gh-{i}"))
            .await
            .expect("reading a seeded user back")
            .unwrap_or_else(|| {
                panic!("bulk seeding: the adapter finds no user for account gh-{i}")
            });
        assert_eq!(
            (&user.id, &user.name, &user.email, user.email_verified),
            (id, &expected.user.name, &expected.user.email, None),
            "bulk seeding stored user {i} differently from the adapter"
        );
        let account = adapter
            .get_account("github", &format!("gh-{i}"))
            .await
            .expect("reading a seeded account back")
            .unwrap_or_else(|| panic!("bulk seeding: the adapter finds no account gh-{i}"));
        let expected_account = Account {
            user_id: id.clone(),
            ..expected.account
        };
        assert!(
            account == expected_account,
            "bulk seeding stored the account of user {i} differently from the adapter: {account:?}"
        );
        let token = &data.session_tokens[i];
        let (session, user) = adapter
            .get_session_and_user(token)
            .await
            .expect("reading a seeded session back")
            .unwrap_or_else(|| panic!("bulk seeding: the adapter finds no session of user {i}"));
        let drift = (session.expires - expected.session.expires).abs();
        assert!(
            &session.session_token == token
                && &session.user_id == id
                && &user.id == id
                && drift < Duration::minutes(10),
            "bulk seeding stored the session of user {i} differently from the adapter: {session:?}"
        );
    }
}

/// Seeding progress on stderr: a bar on a terminal, a line every 10% in a
/// log (for 100,000 users or more), nothing for small datasets in a log.
#[derive(Clone)]
struct Progress {
    bar: Option<ProgressBar>,
    backend: Arc<str>,
    total: usize,
    done: Arc<AtomicUsize>,
    started: Instant,
}

impl Progress {
    fn new(backend: &str, total: usize) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template(
                    "{prefix}: seeding [{bar:30}] {human_pos}/{human_len} users, {per_sec}, eta {eta}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            bar.set_prefix(backend.to_owned());
            bar
        });
        Self {
            bar,
            backend: backend.into(),
            total,
            done: Arc::new(AtomicUsize::new(0)),
            started: Instant::now(),
        }
    }

    fn advance(&self, n: usize) {
        let before = self.done.fetch_add(n, Ordering::Relaxed);
        if let Some(bar) = &self.bar {
            bar.inc(n as u64);
        } else if self.total >= 100_000 {
            let tenth = |count: usize| count * 10 / self.total;
            if tenth(before + n) > tenth(before) {
                eprintln!(
                    "{}: seeded {}/{} users ({}%) in {:.0}s",
                    self.backend,
                    before + n,
                    self.total,
                    tenth(before + n) * 10,
                    self.started.elapsed().as_secs_f64()
                );
            }
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

struct Timed {
    secs: f64,
    latencies: Vec<StdDuration>,
}

impl Timed {
    fn named(mut self, op: &'static str) -> OpResult {
        self.latencies.sort_unstable();
        let at = |q: f64| {
            let i = ((self.latencies.len() as f64 - 1.0) * q).round() as usize;
            self.latencies.get(i).map_or(0, |d| d.as_micros() as u64)
        };
        OpResult {
            op,
            secs: self.secs,
            p50_us: at(0.50),
            p99_us: at(0.99),
        }
    }
}

/// Runs `ops` calls of `op(i)` for `i in 0..ops` on `concurrency` tasks and
/// records each call's latency.
async fn timed<F, Fut>(concurrency: usize, ops: usize, op: F) -> Timed
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send,
{
    let op = Arc::new(op);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (op, next) = (op.clone(), next.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= ops {
                        break latencies;
                    }
                    let t = Instant::now();
                    op(i).await;
                    latencies.push(t.elapsed());
                }
            })
        })
        .collect();
    let mut latencies = Vec::with_capacity(ops);
    for task in tasks {
        latencies.extend(task.await.expect("a benchmark task panicked"));
    }
    Timed {
        secs: started.elapsed().as_secs_f64(),
        latencies,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use adapter_conformance::memory::MemoryAdapter;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn flags_override_defaults_and_bench_is_ignored() {
        let c = BenchConfig::parse(args("--bench --users 1_000_000 --concurrency 8"), None);
        assert_eq!(
            (c.users, c.ops, c.concurrency, c.url),
            (1_000_000, 20_000, 8, None)
        );
        let c = BenchConfig::parse(args("--url redis://x"), Some("redis://env".into()));
        assert_eq!(c.url.as_deref(), Some("redis://x"));
        let c = BenchConfig::parse(args(""), Some("redis://env".into()));
        assert_eq!(c.url.as_deref(), Some("redis://env"));
    }

    fn small() -> BenchConfig {
        BenchConfig {
            users: 2_500,
            ops: 300,
            concurrency: 4,
            url: None,
        }
    }

    /// A ceiling that answers every call from the memory adapter's own
    /// map (the session lookup) or its methods (the others).
    fn ceiling(adapter: &Arc<MemoryAdapter>) -> Ceiling {
        let adapter = adapter.clone();
        Ceiling::new(Arc::new(move |call| {
            let adapter = adapter.clone();
            Box::pin(async move {
                match call {
                    Call::GetSessionAndUser { session_token } => {
                        adapter.raw_session_exists(&session_token)
                    }
                    Call::GetUserByAccount {
                        provider,
                        provider_account_id,
                    } => adapter
                        .get_user_by_account(&provider, &provider_account_id)
                        .await
                        .unwrap()
                        .is_some(),
                    Call::UpdateSession {
                        session_token,
                        expires,
                    } => adapter
                        .update_session(SessionUpdate {
                            session_token,
                            expires: Some(expires),
                            user_id: None,
                        })
                        .await
                        .unwrap()
                        .is_some(),
                    Call::CreateSession(session) => adapter.create_session(session).await.is_ok(),
                    Call::UseVerificationToken { identifier, token } => adapter
                        .use_verification_token(&identifier, &token)
                        .await
                        .unwrap()
                        .is_some(),
                }
            })
        }))
    }

    /// A bulk seeder that goes through the adapter, optionally storing every
    /// user's email differently.
    fn seeder(adapter: &Arc<MemoryAdapter>, mangle_email: bool) -> BulkSeed {
        let adapter = adapter.clone();
        Arc::new(move |batch: Vec<SeedUser>| {
            let adapter = adapter.clone();
            Box::pin(async move {
                assert!(batch.len() <= SEED_BATCH);
                let mut ids = Vec::new();
                for mut record in batch {
                    if mangle_email {
                        record.user.email = record.user.email.map(|e| e.to_uppercase());
                    }
                    ids.push(seed_one(adapter.as_ref(), record).await);
                }
                Ok(ids)
            })
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_operation_is_measured_after_either_seeding_path() {
        for bulk in [false, true] {
            let adapter = Arc::new(MemoryAdapter::new());
            let results = if bulk {
                let seed = seeder(&adapter, false);
                run_bulk_seeded("memory", adapter.clone(), &small(), ceiling(&adapter), seed).await
            } else {
                run("memory", adapter.clone(), &small(), ceiling(&adapter)).await
            };
            let ops: Vec<_> = results.iter().map(|r| r.op).collect();
            assert_eq!(
                ops,
                [
                    "get_session_and_user",
                    "raw_lookup",
                    "get_user_by_account",
                    "raw_get_user_by_account",
                    "update_session",
                    "raw_update_session",
                    "create_session",
                    "raw_create_session",
                    "use_verification_token",
                    "raw_use_verification_token",
                ]
            );
            assert!(results.iter().all(|r| r.secs > 0.0 && r.p50_us <= r.p99_us));
            // Every verification token was consumed: half by the adapter,
            // half by the ceiling.
            assert!(results.iter().all(|r| r.secs > 0.0));
            // Seeded users and their accounts are all there.
            let last = adapter
                .get_user_by_account("github", "gh-2499")
                .await
                .unwrap();
            assert_eq!(
                last.unwrap().email.as_deref(),
                Some("user2499@bench.example")
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[should_panic(expected = "stored user 0 differently")]
    async fn a_bulk_seeder_that_stores_records_differently_is_caught() {
        let adapter = Arc::new(MemoryAdapter::new());
        let seed = seeder(&adapter, true);
        run_bulk_seeded("memory", adapter.clone(), &small(), ceiling(&adapter), seed).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[should_panic(expected = "seeding a batch in bulk")]
    async fn a_failing_bulk_seeder_stops_the_run() {
        let adapter = Arc::new(MemoryAdapter::new());
        let seed: BulkSeed =
            Arc::new(|_| Box::pin(async { Err(AdapterError::backend("the disk is full")) }));
        run_bulk_seeded("memory", adapter.clone(), &small(), ceiling(&adapter), seed).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_lookup_only_ceiling_adds_just_the_raw_lookup_row() {
        let adapter = Arc::new(MemoryAdapter::new());
        let raw = adapter.clone();
        let raw_lookup: RawLookup = Arc::new(move |token| {
            let raw = raw.clone();
            Box::pin(async move { raw.raw_session_exists(&token) })
        });
        let results = run(
            "memory",
            adapter,
            &small(),
            Ceiling::lookup_only(raw_lookup),
        )
        .await;
        let raw_rows: Vec<_> = results
            .iter()
            .map(|r| r.op)
            .filter(|op| op.starts_with("raw_"))
            .collect();
        assert_eq!(raw_rows, ["raw_lookup"]);
        assert!(peak_rss_kib().is_some_and(|kib| kib > 0));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[should_panic(expected = "(ceiling): a seeded record was not found")]
    async fn a_ceiling_that_finds_nothing_stops_the_run() {
        let adapter = Arc::new(MemoryAdapter::new());
        let nothing: RawLookup = Arc::new(|_| Box::pin(async { false }));
        run("memory", adapter, &small(), Ceiling::lookup_only(nothing)).await;
    }

    #[test]
    fn dataset_users_follow_bench_md() {
        let u = SeedUser::new(42);
        assert_eq!(u.user.name.as_deref(), Some("User 42"));
        assert_eq!(u.user.email.as_deref(), Some("user42@bench.example"));
        assert_eq!(
            (
                u.account.provider.as_str(),
                u.account.provider_account_id.as_str()
            ),
            ("github", "gh-42")
        );
        assert_eq!(u.account.access_token.as_ref().map(String::len), Some(40));
        assert_eq!(u.session.session_token.len(), 64);
        assert_ne!(
            u.session.session_token,
            SeedUser::new(42).session.session_token
        );
    }

    #[test]
    #[should_panic(expected = "unknown argument")]
    fn unknown_flags_are_refused() {
        BenchConfig::parse(args("--user 5"), None);
    }
}

//! The benchmark workload of `BENCH.md`, the same for every backend.
//!
//! An adapter crate's bench target (`harness = false`) parses the flags with
//! [`BenchConfig::from_args`], builds its adapter with a pool of 16, and calls
//! [`run`] with a `raw_lookup`: the cheapest single round trip its driver can
//! make that fetches one session row by token. [`run`] prints one JSON line
//! per operation on stdout and everything else on stderr.
//!
//! ```no_run
//! use std::sync::Arc;
//! use adapter_conformance::bench::{self, BenchConfig, RawLookup};
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
//!     bench::run("memory", adapter, &config, raw_lookup).await;
//! }
//! ```

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration as StdDuration, Instant};

use auth_core::session::generate_session_token;
use auth_core::{
    Account, AccountType, Adapter, NewUser, Session, SessionUpdate, VerificationToken,
};
use time::{Duration, OffsetDateTime};

/// Fetches one session row by token in one round trip; `true` if found.
pub type RawLookup =
    Arc<dyn Fn(String) -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync>;

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
    raw_lookup: RawLookup,
) -> Vec<OpResult> {
    let adapter: Arc<dyn Adapter> = adapter;
    let started = Instant::now();
    let data = Arc::new(seed(&adapter, config).await);
    eprintln!(
        "{backend}: seeded {} users, accounts and sessions in {:.1}s",
        config.users,
        started.elapsed().as_secs_f64()
    );
    let mut results = Vec::new();
    let users = config.users;
    let pick = move |i: usize| i.wrapping_mul(2_654_435_761) % users;

    // Untimed warm-up of the hot path.
    timed(config.concurrency, 1_000, {
        let (adapter, data) = (adapter.clone(), data.clone());
        move |i| {
            let (adapter, data) = (adapter.clone(), data.clone());
            async move {
                let token = &data.session_tokens[pick(i)];
                assert!(adapter.get_session_and_user(token).await.unwrap().is_some());
            }
        }
    })
    .await;

    let found =
        |op: &'static str| move |ok: bool| assert!(ok, "{op}: a seeded record was not found");
    let op = {
        let (adapter, data) = (adapter.clone(), data.clone());
        timed(config.concurrency, config.ops, move |i| {
            let (adapter, data) = (adapter.clone(), data.clone());
            async move {
                let hit = adapter
                    .get_session_and_user(&data.session_tokens[pick(i)])
                    .await
                    .unwrap();
                found("get_session_and_user")(hit.is_some());
            }
        })
        .await
    };
    results.push(op.named("get_session_and_user"));

    let op = {
        let adapter = adapter.clone();
        timed(config.concurrency, config.ops, move |i| {
            let adapter = adapter.clone();
            async move {
                let pid = format!("gh-{}", pick(i));
                let hit = adapter.get_user_by_account("github", &pid).await.unwrap();
                found("get_user_by_account")(hit.is_some());
            }
        })
        .await
    };
    results.push(op.named("get_user_by_account"));

    let op = {
        let (adapter, data) = (adapter.clone(), data.clone());
        timed(config.concurrency, config.ops, move |i| {
            let (adapter, data) = (adapter.clone(), data.clone());
            async move {
                let update = SessionUpdate {
                    session_token: data.session_tokens[pick(i)].clone(),
                    expires: Some(OffsetDateTime::now_utc() + Duration::days(30)),
                    user_id: None,
                };
                found("update_session")(adapter.update_session(update).await.unwrap().is_some());
            }
        })
        .await
    };
    results.push(op.named("update_session"));

    let op = {
        let (adapter, data) = (adapter.clone(), data.clone());
        timed(config.concurrency, config.ops, move |i| {
            let (adapter, data) = (adapter.clone(), data.clone());
            async move {
                let session = Session {
                    session_token: generate_session_token().unwrap(),
                    user_id: data.user_ids[pick(i)].clone(),
                    expires: OffsetDateTime::now_utc() + Duration::days(30),
                };
                adapter.create_session(session).await.unwrap();
            }
        })
        .await
    };
    results.push(op.named("create_session"));

    let tokens: Arc<Vec<String>> = Arc::new(
        (0..config.ops)
            .map(|_| generate_session_token().unwrap())
            .collect(),
    );
    timed(config.concurrency, config.ops, {
        let (adapter, tokens) = (adapter.clone(), tokens.clone());
        move |i| {
            let (adapter, tokens) = (adapter.clone(), tokens.clone());
            async move {
                let token = VerificationToken {
                    identifier: format!("user{i}@bench.example"),
                    token: tokens[i].clone(),
                    expires: OffsetDateTime::now_utc() + Duration::days(1),
                };
                adapter.create_verification_token(token).await.unwrap();
            }
        }
    })
    .await;
    let op = {
        let (adapter, tokens) = (adapter.clone(), tokens.clone());
        timed(config.concurrency, config.ops, move |i| {
            let (adapter, tokens) = (adapter.clone(), tokens.clone());
            async move {
                let identifier = format!("user{i}@bench.example");
                let used = adapter
                    .use_verification_token(&identifier, &tokens[i])
                    .await
                    .unwrap();
                found("use_verification_token")(used.is_some());
            }
        })
        .await
    };
    results.push(op.named("use_verification_token"));

    let op = {
        let data = data.clone();
        timed(config.concurrency, config.ops, move |i| {
            let (raw_lookup, data) = (raw_lookup.clone(), data.clone());
            async move {
                found("raw_lookup")(raw_lookup(data.session_tokens[pick(i)].clone()).await);
            }
        })
        .await
    };
    results.push(op.named("raw_lookup"));

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
            })
        );
    }
    results
}

async fn seed(adapter: &Arc<dyn Adapter>, config: &BenchConfig) -> Dataset {
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for _ in 0..config.concurrency.min(config.users.max(1)) {
        let (adapter, next, users) = (adapter.clone(), next.clone(), config.users);
        tasks.push(tokio::spawn(async move {
            let mut seeded = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= users {
                    break seeded;
                }
                let user = adapter
                    .create_user(NewUser {
                        name: Some(format!("User {i}")),
                        email: Some(format!("user{i}@bench.example")),
                        ..NewUser::default()
                    })
                    .await
                    .expect("seeding a user");
                let account = Account {
                    access_token: Some(format!("gho_{:036x}", i)),
                    token_type: Some("bearer".into()),
                    scope: Some("read:user".into()),
                    ..Account::new(&user.id, AccountType::OAuth, "github", format!("gh-{i}"))
                };
                adapter
                    .link_account(account)
                    .await
                    .expect("seeding an account");
                let session = Session {
                    session_token: generate_session_token().expect("randomness"),
                    user_id: user.id.clone(),
                    expires: OffsetDateTime::now_utc() + Duration::days(30),
                };
                adapter
                    .create_session(session.clone())
                    .await
                    .expect("seeding a session");
                seeded.push((i, user.id, session.session_token));
            }
        }));
    }
    let mut rows = Vec::with_capacity(config.users);
    for task in tasks {
        rows.extend(task.await.expect("a seeding task panicked"));
    }
    rows.sort_by_key(|(i, ..)| *i);
    let (user_ids, session_tokens) = rows.into_iter().map(|(_, u, s)| (u, s)).unzip();
    Dataset {
        user_ids,
        session_tokens,
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

    #[test]
    #[should_panic(expected = "unknown argument")]
    fn unknown_flags_are_refused() {
        BenchConfig::parse(args("--user 5"), None);
    }
}

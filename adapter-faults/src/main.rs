//! `fault-load`: the load driver of the fault harness (`scripts/faults.sh`).
//!
//! ```text
//! fault-load run --case restart --backend postgres \
//!     --step "10=bash scripts/services.sh restart postgres"
//! fault-load verify --case sigkill --backend sqlite --url /tmp/f.db --journal j.jsonl --integrity
//! fault-load report --results docs/reliability/results.jsonl --out docs/reliability.md
//! ```
//!
//! `run` and `verify` print one JSON row on stdout (and append it to `--out`)
//! and exit 1 when the row's verdict is `fail`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use adapter_faults::load::Step;
use adapter_faults::{Backend, CaseOptions, Row, report, run_case, verify_case};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "fault-load",
    about = "Load an adapter, inject a fault, check what it acknowledged"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Drive the mixed load, run the fault's steps, check every acknowledged write.
    Run(RunArgs),
    /// Check journals written by other `run`s (a killed process, several processes).
    Verify(VerifyArgs),
    /// Write docs/reliability.md from the rows of a run.
    Report(ReportArgs),
}

#[derive(Args)]
struct Common {
    /// The case's name in the results.
    #[arg(long, default_value = "load")]
    case: String,
    /// The backend.
    #[arg(long, value_enum)]
    backend: Backend,
    /// The server's URL (default: the backend's variable from .services/env);
    /// the database file for sqlite.
    #[arg(long)]
    url: Option<String>,
    /// Namespace (schema, database, key prefix); default: a fresh one.
    #[arg(long, default_value = "")]
    namespace: String,
    /// Connections in the adapter's pool.
    #[arg(long, default_value_t = 16)]
    pool: u32,
    /// The adapter's operation timeout, milliseconds.
    #[arg(long, default_value_t = 3000)]
    timeout_ms: u64,
    /// Append the row to this file too.
    #[arg(long)]
    out: Option<PathBuf>,
    /// The command shown in the results as the way to reproduce the row
    /// (default: this command line).
    #[arg(long)]
    command: Option<String>,
    /// Acknowledged writes may be lost (the database promises no more): measure, don't fail.
    #[arg(long)]
    loss_allowed: bool,
}

#[derive(Args)]
struct RunArgs {
    #[command(flatten)]
    common: Common,
    /// Tasks calling at once.
    #[arg(long, default_value_t = 32)]
    tasks: usize,
    /// Seconds of load.
    #[arg(long, default_value_t = 30.0)]
    secs: f64,
    /// Operations per second over all tasks; 0 for as fast as they go.
    #[arg(long, default_value_t = 800.0)]
    rate: f64,
    /// Seconds of warm-up before memory and windows count.
    #[arg(long, default_value_t = 5.0)]
    warmup_secs: f64,
    /// Seconds per latency window.
    #[arg(long, default_value_t = 5.0)]
    window_secs: f64,
    /// A fault step, `SECONDS=COMMAND` (repeatable), run with `bash -c`.
    #[arg(long = "step", value_parser = parse_step)]
    steps: Vec<Step>,
    /// Append every acknowledged write to this file as it happens.
    #[arg(long)]
    journal: Option<PathBuf>,
    /// The fault must make calls time out.
    #[arg(long)]
    expect_timeouts: bool,
    /// Longest recovery after the server is back, seconds.
    #[arg(long, default_value_t = 5.0)]
    recover_secs: f64,
    /// Don't check at the end (this process will be killed).
    #[arg(long)]
    no_verify: bool,
    /// Keep the namespace afterwards.
    #[arg(long)]
    keep: bool,
}

#[derive(Args)]
struct VerifyArgs {
    #[command(flatten)]
    common: Common,
    /// Journal files written by `run --journal`.
    #[arg(long = "journal", required = true)]
    journals: Vec<PathBuf>,
    /// Also run SQLite's integrity and foreign-key checks on the file.
    #[arg(long)]
    integrity: bool,
}

#[derive(Args)]
struct ReportArgs {
    /// The rows (one JSON object per line).
    #[arg(long)]
    results: PathBuf,
    /// Where to write the page.
    #[arg(long)]
    out: PathBuf,
    /// The machine, as the page names it.
    #[arg(long, default_value = "this machine")]
    machine: String,
    /// The command that produced the rows.
    #[arg(long, default_value = "bash scripts/faults.sh")]
    run_command: String,
    /// Markdown copied to the page under "Notes on this run" (e.g. what
    /// else the machine was doing), when the file exists.
    #[arg(long)]
    notes: Option<PathBuf>,
}

fn parse_step(s: &str) -> Result<Step, String> {
    let (at, command) = s
        .split_once('=')
        .ok_or_else(|| format!("a step is SECONDS=COMMAND, got {s:?}"))?;
    let at_secs: f64 = at
        .trim()
        .parse()
        .map_err(|_| format!("a step's time is seconds, got {at:?}"))?;
    Ok(Step {
        at_secs,
        command: command.to_string(),
    })
}

fn options(common: &Common) -> Result<CaseOptions, String> {
    let url = match &common.url {
        Some(url) => url.clone(),
        None => common.backend.url_from_env()?,
    };
    Ok(CaseOptions {
        case: common.case.clone(),
        backend: common.backend,
        url,
        namespace: common.namespace.clone(),
        pool_size: common.pool,
        timeout: Duration::from_millis(common.timeout_ms),
        loss_allowed: common.loss_allowed,
        command: common.command.clone().unwrap_or_else(|| {
            let args: Vec<String> = std::env::args().skip(1).map(|a| shell_quote(&a)).collect();
            format!("fault-load {}", args.join(" "))
        }),
        ..CaseOptions::default()
    })
}

fn shell_quote(arg: &str) -> String {
    if !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,@".contains(c))
    {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', "'\\''"))
    }
}

fn emit(row: &Row, out: Option<&PathBuf>) -> ExitCode {
    let line = serde_json::to_string(row).expect("a row serializes");
    println!("{line}");
    if let Some(path) = out {
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .and_then(|mut f| writeln!(f, "{line}"));
        if let Err(e) = written {
            eprintln!("fault-load: cannot append to {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    eprintln!(
        "[faults] {} on {}: {}{}",
        row.case,
        row.backend,
        row.verdict,
        if row.problems.is_empty() {
            String::new()
        } else {
            format!(" ({})", row.problems.join("; "))
        }
    );
    if row.verdict == "fail" {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => {
            let mut opts = match options(&args.common) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("fault-load: {e}");
                    return ExitCode::from(2);
                }
            };
            opts.tasks = args.tasks;
            opts.duration = Duration::from_secs_f64(args.secs);
            opts.rate = args.rate;
            opts.warmup = Duration::from_secs_f64(args.warmup_secs);
            opts.window = Duration::from_secs_f64(args.window_secs);
            opts.steps = args.steps;
            opts.journal_file = args.journal;
            opts.expect_timeouts = args.expect_timeouts;
            opts.recover_within = Duration::from_secs_f64(args.recover_secs);
            opts.verify = !args.no_verify;
            opts.keep = args.keep;
            let row = run_case(opts).await;
            emit(&row, args.common.out.as_ref())
        }
        Command::Verify(args) => {
            let opts = match options(&args.common) {
                Ok(o) => o,
                Err(e) => {
                    eprintln!("fault-load: {e}");
                    return ExitCode::from(2);
                }
            };
            let row = verify_case(opts, &args.journals, args.integrity).await;
            emit(&row, args.common.out.as_ref())
        }
        Command::Report(args) => {
            let text = match std::fs::read_to_string(&args.results) {
                Ok(t) => t,
                Err(e) => {
                    eprintln!("fault-load: {}: {e}", args.results.display());
                    return ExitCode::from(2);
                }
            };
            let mut rows = Vec::new();
            for (i, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str(line) {
                    Ok(v) => rows.push(v),
                    Err(e) => {
                        eprintln!("fault-load: {} line {}: {e}", args.results.display(), i + 1);
                        return ExitCode::from(2);
                    }
                }
            }
            let notes = args
                .notes
                .as_ref()
                .and_then(|path| std::fs::read_to_string(path).ok())
                .unwrap_or_default();
            let page = report::render(&rows, &args.machine, &args.run_command, &notes);
            if let Err(e) = std::fs::write(&args.out, page) {
                eprintln!("fault-load: {}: {e}", args.out.display());
                return ExitCode::from(2);
            }
            ExitCode::SUCCESS
        }
    }
}

//! `docs/reliability.md` from the rows of a run (`results.jsonl`).

use std::fmt::Write;

use serde_json::Value;

use crate::Backend;

/// What each case does, for the page.
const CASES: &[(&str, &str)] = &[
    (
        "restart",
        "The server is restarted mid-load with `bash scripts/services.sh restart NAME` \
         (a clean stop, then a start; the data is kept). Calls fail while it is down; \
         the same adapter instance must serve again within 5 s of the server being back, \
         and every acknowledged write must be there afterwards.",
    ),
    (
        "failover",
        "A master of the Redis Cluster (3 masters, 1 replica each) is killed with SIGKILL \
         mid-load; its replica is promoted after the cluster's node timeout (5 s). The old \
         master is started again 15 s later and rejoins as a replica. Acknowledged writes \
         lost to asynchronous replication are counted, not hidden.",
    ),
    (
        "stall",
        "More callers than connections (32 tasks, a pool of 4) while the server stops \
         answering: its processes get SIGSTOP for 4 s, then SIGCONT. Calls must fail with a \
         timeout error within the operation timeout (+1 s), and all must recover.",
    ),
    (
        "exhaustion",
        "32 tasks calling as fast as they can through a pool of 2 connections, no fault: \
         callers queue for a connection and none may fail.",
    ),
    (
        "sigkill",
        "The process writing a SQLite file is killed with SIGKILL mid-load; the file is \
         reopened by a new process, checked with `PRAGMA integrity_check` and \
         `foreign_key_check`, and every write acknowledged before the kill is looked up \
         (from the journal the killed process wrote line by line).",
    ),
    (
        "two-processes",
        "Two processes drive the same SQLite file at once; each checks its own writes, then \
         a third process checks both journals and the file's integrity.",
    ),
    (
        "soak",
        "Mixed load at a fixed rate for a long run, no fault: no error, resident memory \
         flat after the warm-up, p99 per window stable.",
    ),
];

/// How each backend behaves under the faults, and why a row reads as it does.
const NOTES: &[(&str, &str)] = &[
    (
        "postgres",
        "These rows were measured on the adapter's former sqlx pool: while the server was \
         down or stalled, calls waited for a connection, since sqlx's pool keeps trying to \
         connect until the operation timeout, so they failed as timeouts (not at once with \
         \"connection refused\"), and none outlived the timeout. Since issue 16 the adapter \
         runs on deadpool-postgres, whose pool hands out a connection without a test query and \
         drops one whose socket has closed; the CI fault tests (adapter-faults/tests/ci.rs: a \
         restart and a 4 s SIGSTOP stall under 32 tasks) pass on it, and this table is to be \
         re-run with `bash scripts/faults.sh --backends postgres`.",
    ),
    (
        "mysql",
        "Timeouts while MariaDB is away, then recovery with the same adapter; InnoDB keeps \
         every committed write across the clean restart. Measured before issue 16 turned off \
         sqlx's ping before each checkout: since then a connection the restart broke fails the \
         one call that meets it, then is discarded.",
    ),
    (
        "redis",
        "The test server keeps nothing on disk by configuration, so the restart command asks \
         it to save its dataset (`SHUTDOWN SAVE`) and starts it again on that file, as a \
         Redis with persistence would. A Redis without persistence loses every key on a \
         restart by design; the adapter cannot and does not promise otherwise.",
    ),
    (
        "redis-cluster",
        "adapter-redis keeps a namespace in one hash slot (its prefix is the hash tag), so \
         every fault targets the master serving the run's namespace (`scripts/services.sh \
         cluster-owner`). On failover, calls to that slot time out until the replica is \
         promoted (the cluster's node timeout is 5 s) and the client follows the new slot map. \
         Redis replicates asynchronously: a write acknowledged by the old master just before \
         it died can be missing on the promoted replica. The failover row counts such writes \
         (`lost`); a count of 0 means none was lost in this run, not that none can be.",
    ),
    (
        "mongodb",
        "The server is SecantusDB, a MongoDB-wire test server written in Python: the runs use \
         200 calls/s (it serves a few hundred in all), and its recovery from a stall is judged \
         against 15 s, the time it takes to drain the requests queued while it was stopped. \
         The MongoDB driver retries a write whose reply a restart cut off (retryable writes). \
         Two effects were found by this harness: (1) a retried insert met its own first \
         attempt and `create_user` reported `Conflict` for a user it had created; fixed: an \
         insert whose fresh `_id` is already there is the call's own and is reported done. \
         (2) A retried `use_verification_token` (find-and-delete) finds the token already \
         deleted by its first attempt and returns nothing, so the token is consumed with no \
         caller getting it (never handed out twice). A replica set answers such a retry from \
         its retryable-write history; the test server forgets that history on restart. The \
         restart row therefore runs with loss allowed and counts those tokens; the user asks \
         for a new sign-in link.",
    ),
    (
        "sqlite",
        "No server: the file-level cases. Every acknowledged write survives SIGKILL of the \
         writing process (WAL, a transaction per write), the reopened file passes SQLite's \
         integrity and foreign-key checks, and two processes share one file under the busy \
         timeout without errors.",
    ),
];

fn f(v: &Value, path: &[&str]) -> Option<f64> {
    let mut v = v;
    for p in path {
        v = v.get(p)?;
    }
    v.as_f64()
}

fn num(v: &Value, path: &[&str]) -> u64 {
    f(v, path).unwrap_or(0.0) as u64
}

fn secs(x: Option<f64>) -> String {
    x.map_or("–".into(), |x| format!("{x:.1} s"))
}

/// The page for `rows` (one JSON object per row, as `fault-load` prints).
/// `notes` (Markdown, may be empty) goes under "Notes on this run".
pub fn render(rows: &[Value], machine: &str, command: &str, notes: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Reliability under faults\n");
    let _ = writeln!(
        out,
        "Generated from [`reliability/results.jsonl`](reliability/results.jsonl) by \
         `fault-load report`; the rows come from one run of `{command}` on {machine}. \
         Each row's last column is the command that reproduces it (run from the \
         repository root after `bash scripts/services.sh && source .services/env`).\n"
    );
    let _ = writeln!(
        out,
        "Every case drives a 32-task mixed load (`create_user`, `create_session`, \
         `get_session_and_user`, `update_session`, a verification token created and used \
         by two racing callers, `delete_user`) through one adapter instance, injects the \
         fault with the service script, and then checks, with the same instance, every \
         write the adapter acknowledged: users and sessions still there (sessions with at \
         least the expiry of their last acknowledged update), deleted users gone along with \
         every session ever created for them, no verification token handed out twice. A \
         write whose call failed may or may not have landed; only acknowledged writes are \
         counted. The harness is `adapter-faults` (`cargo run --release -p adapter-faults \
         --bin fault-load -- --help`); the short version of the restart and stall cases \
         runs in CI (`adapter-faults/tests/ci.rs`, PostgreSQL).\n"
    );

    if !notes.trim().is_empty() {
        let _ = writeln!(out, "## Notes on this run\n\n{}\n", notes.trim());
    }

    let _ = writeln!(out, "## Faults × backends\n");
    let mut cases: Vec<&str> = Vec::new();
    for row in rows {
        if let Some(c) = row["case"].as_str()
            && !cases.contains(&c)
        {
            cases.push(c);
        }
    }
    let backends: Vec<&str> = Backend::ALL
        .iter()
        .map(|b| b.name())
        .filter(|b| rows.iter().any(|r| r["backend"].as_str() == Some(b)))
        .collect();
    let _ = writeln!(out, "| case | {} |", backends.join(" | "));
    let _ = writeln!(out, "|---|{}", "---|".repeat(backends.len()));
    for case in &cases {
        let mut cells = Vec::new();
        for backend in &backends {
            let cell = rows
                .iter()
                .filter(|r| {
                    r["case"].as_str() == Some(case) && r["backend"].as_str() == Some(backend)
                })
                .map(summary_cell)
                .collect::<Vec<_>>()
                .join("; ");
            cells.push(if cell.is_empty() { "–".into() } else { cell });
        }
        let _ = writeln!(out, "| {case} | {} |", cells.join(" | "));
    }
    let _ = writeln!(
        out,
        "\n*pass*: no problem found. *measured*: acknowledged writes were lost where the \
         database promises no more (counted in the row). *fail*: see the problems below. \
         \"back → ok\" is the time from the server being back (the fault's last command \
         returned) to the end of the last failed call; \"calls failed for\" spans the \
         first failed call to the end of the last.\n"
    );

    let _ = writeln!(out, "## The cases\n");
    for (case, text) in CASES {
        if cases.contains(case) {
            let _ = writeln!(out, "- **{case}**: {text}");
        }
    }

    let _ = writeln!(out, "\n## Every row\n");
    let _ = writeln!(
        out,
        "| case | backend | outcome | calls | timeouts / other errors | errors from → to | longest call (timeout) | p99 | back → ok | acked writes | lost | orphans | used twice | RSS warm → end | command |"
    );
    let _ = writeln!(
        out,
        "|---|---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
    );
    for row in rows {
        let load = &row["load"];
        let ver = &row["verification"];
        let acked = num(ver, &["acked", "users"])
            + num(ver, &["acked", "sessions"])
            + num(ver, &["acked", "updates"])
            + num(ver, &["acked", "tokens"])
            + num(ver, &["acked", "uses"])
            + num(ver, &["acked", "deletes"]);
        let errors_window = match (
            f(load, &["first_error_secs"]),
            f(load, &["last_error_secs"]),
        ) {
            (Some(a), Some(b)) => format!("{a:.1} s → {b:.1} s"),
            _ => "none".into(),
        };
        let (calls, errors, longest, p99, rss) = if load.is_null() {
            ("–".into(), "–".into(), "–".into(), "–".into(), "–".into())
        } else {
            (
                num(load, &["calls"]).to_string(),
                format!(
                    "{} / {}",
                    num(load, &["timeouts"]),
                    num(load, &["backend_errors"]) + num(load, &["other_errors"])
                ),
                format!(
                    "{:.0} ms ({} ms)",
                    f(load, &["max_call_ms"]).unwrap_or(0.0),
                    num(row, &["timeout_ms"])
                ),
                format!("{:.1} ms", f(load, &["p99_ms"]).unwrap_or(0.0)),
                format!(
                    "{:.1} → {:.1} MiB",
                    num(load, &["rss_warm_kib"]) as f64 / 1024.0,
                    num(load, &["rss_end_kib"]) as f64 / 1024.0
                ),
            )
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | `{}` |",
            row["case"].as_str().unwrap_or(""),
            row["backend"].as_str().unwrap_or(""),
            row["verdict"].as_str().unwrap_or(""),
            calls,
            errors,
            if load.is_null() {
                "–".into()
            } else {
                errors_window
            },
            longest,
            p99,
            secs(f(load, &["recovered_after_back_secs"])),
            acked,
            num(ver, &["lost"]) + num(load, &["missing_reads"]),
            num(ver, &["orphans"]),
            num(ver, &["used_twice"]),
            rss,
            row["command"].as_str().unwrap_or("").replace('|', "\\|"),
        );
    }

    let soaks: Vec<&Value> = rows
        .iter()
        .filter(|r| r["case"].as_str() == Some("soak"))
        .collect();
    if !soaks.is_empty() {
        let _ = writeln!(out, "\n## Soak: p99 per window and memory\n");
        let _ = writeln!(
            out,
            "| backend | seconds | rate | calls | errors | p99 per window, min – max | RSS after warm-up | RSS at end | growth |"
        );
        let _ = writeln!(out, "|---|---:|---:|---:|---:|---|---:|---:|---:|");
        for row in soaks {
            let load = &row["load"];
            let windows: Vec<f64> = load["window_p99_ms"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_f64).collect())
                .unwrap_or_default();
            let min = windows.iter().copied().fold(f64::INFINITY, f64::min);
            let max = windows.iter().copied().fold(0.0, f64::max);
            let warm = num(load, &["rss_warm_kib"]);
            let end = num(load, &["rss_end_kib"]);
            let _ = writeln!(
                out,
                "| {} | {:.0} | {} /s | {} | {} | {:.1} – {:.1} ms ({} windows) | {:.1} MiB | {:.1} MiB | {:+.1} MiB |",
                row["backend"].as_str().unwrap_or(""),
                f(load, &["secs"]).unwrap_or(0.0),
                num(row, &["rate"]),
                num(load, &["calls"]),
                num(load, &["timeouts"])
                    + num(load, &["backend_errors"])
                    + num(load, &["other_errors"]),
                if windows.is_empty() { 0.0 } else { min },
                max,
                windows.len(),
                warm as f64 / 1024.0,
                end as f64 / 1024.0,
                (end as f64 - warm as f64) / 1024.0,
            );
        }
    }

    let _ = writeln!(out, "\n## What the rows mean, backend by backend\n");
    for (backend, text) in NOTES {
        if backends.contains(backend) {
            let _ = writeln!(out, "- **{backend}**: {text}");
        }
    }

    let failed: Vec<&Value> = rows
        .iter()
        .filter(|r| r["verdict"].as_str() != Some("pass"))
        .collect();
    let _ = writeln!(out, "\n## Problems and measured losses\n");
    if failed.is_empty() {
        let _ = writeln!(out, "None in this run.");
    }
    for row in failed {
        let _ = writeln!(
            out,
            "- **{} on {}** ({}):",
            row["case"].as_str().unwrap_or(""),
            row["backend"].as_str().unwrap_or(""),
            row["verdict"].as_str().unwrap_or("")
        );
        for p in row["problems"].as_array().into_iter().flatten() {
            let _ = writeln!(out, "  - {}", p.as_str().unwrap_or(""));
        }
        for e in row["verification"]["examples"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let _ = writeln!(out, "  - found: {}", e.as_str().unwrap_or(""));
        }
        let missing = num(&row["load"], &["missing_reads"]);
        if missing > 0 {
            let _ = writeln!(
                out,
                "  - {missing} read(s) during the load found nothing where an acknowledged write should be"
            );
            for e in row["load"]["missing_examples"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let _ = writeln!(out, "  - missing: {}", e.as_str().unwrap_or(""));
            }
        }
    }
    out
}

fn summary_cell(row: &Value) -> String {
    let verdict = row["verdict"].as_str().unwrap_or("?");
    let load = &row["load"];
    let lost = num(&row["verification"], &["lost"]) + num(load, &["missing_reads"]);
    let mut cell = verdict.to_string();
    if verdict == "measured" {
        cell = format!("measured: {lost} lost");
    }
    if let (Some(first), Some(last)) = (
        f(load, &["first_error_secs"]),
        f(load, &["last_error_secs"]),
    ) {
        let _ = write!(cell, ", calls failed for {:.1} s", last - first);
    }
    if let Some(r) = f(load, &["recovered_after_back_secs"]) {
        let _ = write!(cell, ", back → ok {r:.1} s");
    }
    if row["case"].as_str() == Some("soak") {
        let growth =
            (num(load, &["rss_end_kib"]) as f64 - num(load, &["rss_warm_kib"]) as f64) / 1024.0;
        let _ = write!(cell, ", RSS {growth:+.1} MiB");
    }
    cell
}

//! `bench-report`: turns the benchmark rows of `scripts/bench.sh` into the
//! results page and its charts.
//!
//! ```text
//! bench-report <dir>
//! ```
//!
//! `scripts/bench.sh` runs the workload of `docs/workload.md` on every backend,
//! appends the JSON rows to `docs/benchmarks/results.jsonl`, and ends with
//! `cargo run -q -p bench-report -- docs/benchmarks`. From `<dir>` it reads:
//!
//! - `results.jsonl`: one row per line (blank lines skipped), one operation
//!   timed on one backend at one number of users in one run. Rows of the
//!   same (backend, operation, users) from several runs are reduced to the
//!   median of `ops_per_sec`, `p50_us` and `p99_us`.
//! - `machine.txt` (optional): `key: value` lines describing the machine,
//!   copied to the page as a list; its `cores:` line also goes into the
//!   page's first paragraph. The generator describes no machine itself:
//!   what the page says about the machine (and how it is shared) comes from
//!   `machine.txt` and `notes.md`.
//! - `notes.md` (optional): Markdown copied verbatim to the page under
//!   `## Notes`, before `## Machine`, e.g. why a backend's scale run used
//!   fewer users. Use `###` or lower for headings inside it; a blank file
//!   adds no section.
//! - `authjs.jsonl` (optional): rows of the same shape from the official
//!   Auth.js adapters run in Node through the same workload
//!   (`scripts/bench-authjs.sh`), each with a `variant` (`as-shipped` or
//!   `indexed`) and the `adapter` package and `node` version. Runs are
//!   reduced to medians as above. A malformed line is an error naming the
//!   file and the line; a file without rows adds no section.
//! - `authjs-machine.txt` (optional): `key: value` lines describing the
//!   machine of the Auth.js runs, listed in the Auth.js section.
//!
//! Each adapter operation has a *ceiling* row of the same backend: the same
//! work done by the fastest bare native client of that database on its own
//! best-configured pool. `raw_lookup` is the ceiling of
//! `get_session_and_user`, `raw_<op>` that of `<op>`; a backend may have
//! only `raw_lookup`. Rows may carry `peak_rss_kib`, the bench process's
//! peak resident set (absent or `null` in older rows).
//!
//! Two sizes matter. The *small* size is the smallest number of users in
//! the file, which every backend runs. The *scale* size is per backend:
//! the largest number of users that backend ran at, if larger than the
//! small size. `--scale` runs every backend at 1,000,000 users, but one may
//! be given fewer (`--scale-users B=N`) or none: the MongoDB test server's
//! `findAndModify` scans its collection, so the script leaves it out.
//!
//! It writes, overwriting what was there:
//!
//! - `<dir>/../benchmarks.md`: throughput and latency at the small size
//!   with each operation's ratio to its ceiling (`vs ceiling`); `## Targets`,
//!   the targets of `report::TARGETS` (ratios to the ceiling, p99 bounds,
//!   and p99 growth from the small size to the scale size) with whether
//!   each is met; when any backend has a scale size, how latency and
//!   seeding changed from the small size to each backend's own scale size
//!   (the section states the scale size most backends share, names the
//!   backends that ran at another size and those with no scale run, and
//!   gives each table row its backend's size); `## Memory`, each backend's
//!   peak RSS at the small and the scale size; and, when `authjs.jsonl` has
//!   rows, `## Against Auth.js`, this adapter's ops/s against each Auth.js
//!   variant's for the same backend, operation and number of users;
//! - `<dir>/throughput.svg`: ops/s per adapter operation and `raw_lookup`
//!   (not the other ceiling rows) and backend at the small size;
//! - `<dir>/scale.svg`: `get_session_and_user` latency at the small size and
//!   in the scale run, one group per backend in the scale run labelled with
//!   its scale size, only when some backend has one (a stale chart is
//!   removed otherwise).
//!
//! Backends, operations and sizes are taken from the rows, in the order
//! they first appear. A missing, empty or malformed results file ends the
//! program with a message and exit status 1.

mod chart;
mod report;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use report::{AuthJs, Extras, Report, ReportError};

/// The text of `path`, or `None` if there is no such file.
fn read_optional(path: PathBuf) -> Result<Option<String>, ReportError> {
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Some(text)),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ReportError::Io { path, source }),
    }
}

/// Reads `<dir>/results.jsonl` and the optional `<dir>/machine.txt`,
/// `<dir>/notes.md`, `<dir>/authjs.jsonl` and `<dir>/authjs-machine.txt`,
/// writes the page and the charts, and returns the files written.
fn run(dir: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let results = dir.join("results.jsonl");
    let text = std::fs::read_to_string(&results).map_err(|source| ReportError::Io {
        path: results.clone(),
        source,
    })?;
    let rows = report::parse_rows(&text, results)?;
    let report = Report::from_rows(&rows);

    let machine = read_optional(dir.join("machine.txt"))?;
    let notes = read_optional(dir.join("notes.md"))?;
    let authjs_path = dir.join("authjs.jsonl");
    let authjs = match read_optional(authjs_path.clone())? {
        Some(text) => AuthJs::from_rows(&report::parse_authjs_rows(&text, authjs_path)?),
        None => None,
    };
    let authjs_machine = read_optional(dir.join("authjs-machine.txt"))?;

    // The page links the charts relative to itself: it sits beside `dir`.
    let images = dir
        .file_name()
        .map_or("benchmarks".into(), |name| name.to_string_lossy());
    let page = match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join("benchmarks.md"),
        _ => dir.join("..").join("benchmarks.md"),
    };
    let extras = Extras {
        machine: machine.as_deref(),
        notes: notes.as_deref(),
        authjs: authjs.as_ref(),
        authjs_machine: authjs_machine.as_deref(),
    };
    let markdown = report::markdown(&report, extras, &images);
    std::fs::write(&page, markdown).map_err(|source| ReportError::Io {
        path: page.clone(),
        source,
    })?;
    let mut written = vec![page];

    let throughput = dir.join("throughput.svg");
    chart::throughput(&throughput, &report)?;
    written.push(throughput);

    let scale = dir.join("scale.svg");
    match report.common_scale() {
        Some(_) => {
            chart::scale(&scale, &report)?;
            written.push(scale);
        }
        None => match std::fs::remove_file(&scale) {
            Ok(()) => eprintln!("removed {} (no scale run in the results)", scale.display()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(ReportError::Io {
                    path: scale,
                    source,
                });
            }
        },
    }
    Ok(written)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dir = match args.as_slice() {
        [flag] if flag == "-h" || flag == "--help" => {
            println!("usage: bench-report <dir>   (e.g. docs/benchmarks)");
            return ExitCode::SUCCESS;
        }
        [dir] => PathBuf::from(dir),
        _ => {
            eprintln!("usage: bench-report <dir>   (e.g. docs/benchmarks)");
            return ExitCode::from(2);
        }
    };
    match run(&dir) {
        Ok(written) => {
            for path in written {
                eprintln!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("bench-report: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh `<tmp>/<unique>/benchmarks` folder holding `results`.
    fn results_dir(name: &str, results: &str) -> PathBuf {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let root = std::env::temp_dir().join(format!(
            "bench-report-{name}-{}-{nanos}",
            std::process::id()
        ));
        let dir = root.join("benchmarks");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("results.jsonl"), results).unwrap();
        dir
    }

    fn read(path: &Path) -> String {
        std::fs::read_to_string(path).unwrap()
    }

    #[test]
    fn two_sizes_write_the_page_and_both_charts() {
        let dir = results_dir("two", &report::tests::two_sizes());
        std::fs::write(dir.join("machine.txt"), "cpu: Test CPU\n").unwrap();
        let page = dir.parent().unwrap().join("benchmarks.md");
        let written = run(&dir).unwrap();
        assert_eq!(
            written,
            [
                page.clone(),
                dir.join("throughput.svg"),
                dir.join("scale.svg")
            ]
        );

        let md = read(&page);
        assert!(md.contains("## From 10,000 users to the scale run"));
        assert!(md.contains("](benchmarks/scale.svg)"));
        assert!(md.contains("- cpu: Test CPU\n"));

        let throughput = read(&dir.join("throughput.svg"));
        assert!(throughput.contains("<svg"));
        for text in [
            "postgres",
            "redis",
            "get_session_and_user",
            "raw_lookup",
            "ops/s per operation, 10,000 users (higher is better)",
        ] {
            assert!(throughput.contains(text), "throughput.svg lacks {text}");
        }
        let scale = read(&dir.join("scale.svg"));
        assert!(scale.contains("<svg"));
        for text in [
            "postgres",
            "redis",
            "postgres (1,000,000)",
            "redis (1,000,000)",
            "p99 at 10,000 users",
            "p99 in the scale run",
            "backend (users in its scale run)",
            "get_session_and_user latency, 10,000 users vs the scale run (lower is better)",
        ] {
            assert!(scale.contains(text), "scale.svg lacks {text}");
        }
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn one_size_removes_a_stale_scale_chart() {
        let rows: String = report::tests::two_sizes()
            .lines()
            .filter(|l| !l.contains(r#""users":1000000,"#))
            .map(|l| format!("{l}\n"))
            .collect();
        let dir = results_dir("one", &rows);
        std::fs::write(dir.join("scale.svg"), "<svg>stale</svg>").unwrap();
        let written = run(&dir).unwrap();
        assert_eq!(written.len(), 2);
        assert!(!dir.join("scale.svg").exists());
        assert!(read(&dir.join("throughput.svg")).contains("redis"));
        let md = read(&dir.parent().unwrap().join("benchmarks.md"));
        assert!(!md.contains("scale.svg"));
        assert!(md.contains("The machine was not recorded"));
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn per_backend_scale_sizes_and_notes() {
        let dir = results_dir("mixed", &report::tests::mixed_scales());
        std::fs::write(dir.join("notes.md"), report::tests::NOTES).unwrap();
        let written = run(&dir).unwrap();
        assert_eq!(written.len(), 3);

        let md = read(&dir.parent().unwrap().join("benchmarks.md"));
        assert!(md.contains("but mongodb ran at 100,000 users (see the notes below)"));
        assert!(md.contains("Not in the scale run: redis."));
        assert!(md.contains("| mongodb | 100,000 | get_session_and_user |"));
        assert!(md.contains(&format!(
            "## Notes\n\n{}\n## Machine\n",
            report::tests::NOTES
        )));

        let scale = read(&dir.join("scale.svg"));
        for text in [
            "sqlite (1,000,000)",
            "postgres (1,000,000)",
            "mongodb (100,000)",
            "get_session_and_user latency, 10,000 users vs the scale run (lower is better)",
        ] {
            assert!(scale.contains(text), "scale.svg lacks {text}");
        }
        assert!(!scale.contains("redis"), "redis is not in the scale run");
        // The throughput chart still has every backend at 10,000 users.
        assert!(read(&dir.join("throughput.svg")).contains("redis"));
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn throughput_chart_has_adapter_ops_and_raw_lookup_only() {
        let ceilings: String = report::tests::two_sizes()
            .lines()
            .filter(|l| l.contains(r#""op":"raw_lookup""#))
            .flat_map(|l| {
                [
                    l.replace("raw_lookup", "update_session"),
                    l.replace("raw_lookup", "raw_update_session"),
                ]
            })
            .map(|l| format!("{l}\n"))
            .collect();
        let dir = results_dir("ceilings", &(report::tests::two_sizes() + &ceilings));
        run(&dir).unwrap();
        let throughput = read(&dir.join("throughput.svg"));
        for text in ["get_session_and_user", "raw_lookup", "update_session"] {
            assert!(throughput.contains(text), "throughput.svg lacks {text}");
        }
        assert!(!throughput.contains("raw_update_session"));
        // The page still lists the ceiling row.
        let md = read(&dir.parent().unwrap().join("benchmarks.md"));
        assert!(
            md.contains("| postgres | raw_update_session | 10,150 |"),
            "{md}"
        );
        assert!(md.contains("| postgres | update_session | 10,150 | 575 | 2,300 | 1.00× |"));
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn authjs_files_add_a_section() {
        let dir = results_dir("authjs", &report::tests::two_sizes());
        let page = dir.parent().unwrap().join("benchmarks.md");
        // An empty authjs.jsonl adds no section.
        std::fs::write(dir.join("authjs.jsonl"), "\n").unwrap();
        run(&dir).unwrap();
        assert!(!read(&page).contains("## Against Auth.js"));

        std::fs::write(dir.join("authjs.jsonl"), report::tests::authjs_rows()).unwrap();
        std::fs::write(dir.join("authjs-machine.txt"), "cpu: Node box\n").unwrap();
        run(&dir).unwrap();
        let md = read(&page);
        for text in [
            "## Against Auth.js\n",
            "PostgreSQL `get_session_and_user`: 7.09× Auth.js as shipped, 2.59× with indexes.\n",
            "| redis | get_session_and_user | 32,150 | 4,150 | 7.75× | – | – | 950 / – |\n",
            "Node.js: v20.19.0.\n",
            "- cpu: Node box\n",
        ] {
            assert!(md.contains(text), "missing {text:?} in:\n{md}");
        }
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn malformed_authjs_is_an_error_naming_the_file_and_line() {
        let dir = results_dir("bad-authjs", &report::tests::two_sizes());
        let rows = report::tests::authjs_rows() + "{\"backend\":\"postgres\"}\n";
        std::fs::write(dir.join("authjs.jsonl"), rows).unwrap();
        let error = run(&dir).unwrap_err();
        assert!(
            matches!(error, ReportError::Malformed { line: 11, .. }),
            "{error}"
        );
        let message = error.to_string();
        assert!(
            message.contains("authjs.jsonl: line 11 is not a result row"),
            "{message}"
        );
        assert!(!dir.parent().unwrap().join("benchmarks.md").exists());
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }

    #[test]
    fn missing_empty_and_malformed_results_are_errors() {
        let dir = results_dir("bad", "\n");
        let error = run(&dir).unwrap_err();
        assert!(matches!(error, ReportError::Empty { .. }), "{error}");

        let first = report::tests::two_sizes()
            .lines()
            .next()
            .unwrap()
            .to_owned();
        std::fs::write(dir.join("results.jsonl"), first + "\nnot json\n").unwrap();
        let error = run(&dir).unwrap_err().to_string();
        assert!(
            error.contains("results.jsonl: line 2 is not a result row"),
            "{error}"
        );

        std::fs::remove_file(dir.join("results.jsonl")).unwrap();
        let error = run(&dir).unwrap_err();
        assert!(matches!(error, ReportError::Io { .. }), "{error}");
        assert!(error.to_string().contains("results.jsonl"));
        assert!(!dir.parent().unwrap().join("benchmarks.md").exists());
        std::fs::remove_dir_all(dir.parent().unwrap()).unwrap();
    }
}

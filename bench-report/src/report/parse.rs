//! Parsing: the rows of `results.jsonl` and `authjs.jsonl`, and the errors
//! of the program.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// Why a report could not be made.
#[derive(Debug)]
pub enum ReportError {
    /// A file could not be read, written or removed.
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The results file holds no row.
    Empty {
        /// The results file.
        path: PathBuf,
    },
    /// A line of a results file (`results.jsonl` or `authjs.jsonl`) is not
    /// a result row.
    Malformed {
        /// The results file.
        path: PathBuf,
        /// The 1-based line number.
        line: usize,
        /// What the JSON parser said.
        message: String,
    },
    /// plotters could not draw a chart.
    Chart {
        /// The SVG file being drawn.
        path: PathBuf,
        /// What plotters said.
        message: String,
    },
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Empty { path } => write!(f, "{}: no result rows", path.display()),
            Self::Malformed {
                path,
                line,
                message,
            } => write!(
                f,
                "{}: line {line} is not a result row: {message}",
                path.display()
            ),
            Self::Chart { path, message } => {
                write!(f, "{}: cannot draw the chart: {message}", path.display())
            }
        }
    }
}

impl std::error::Error for ReportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// One line of `results.jsonl` or `authjs.jsonl`: one operation timed on
/// one backend in one run. Fields the report does not use (`secs`) are
/// accepted and ignored.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Row {
    /// The implementation that ran the workload (`rust`; other
    /// implementations of the same storage model may add their own rows).
    #[serde(rename = "impl", default)]
    pub implementation: Option<String>,
    /// The backend, e.g. `postgres`.
    pub backend: String,
    /// The operation, e.g. `get_session_and_user`.
    pub op: String,
    /// How many users were seeded.
    pub users: u64,
    /// How many tasks shared the operations.
    pub concurrency: u64,
    /// How many operations were timed.
    pub ops: u64,
    /// Throughput.
    pub ops_per_sec: f64,
    /// Median latency in microseconds.
    pub p50_us: f64,
    /// 99th percentile latency in microseconds.
    pub p99_us: f64,
    /// How long seeding the users took, in seconds.
    #[serde(default)]
    pub seed_secs: Option<f64>,
    /// Which path seeded the users (e.g. `bulk`).
    #[serde(default)]
    pub seeding: Option<String>,
    /// Peak resident set of the bench process in KiB (`VmHWM`), the same
    /// in every row of one process; absent or `null` in older rows.
    #[serde(default)]
    pub peak_rss_kib: Option<f64>,
    /// Which run of the script the row comes from.
    #[serde(default)]
    pub run: Option<u64>,
    /// Auth.js rows only: the schema the adapter ran on, [`AS_SHIPPED`] or
    /// [`INDEXED`].
    #[serde(default)]
    pub variant: Option<String>,
    /// Auth.js rows only: the adapter package and version, e.g.
    /// `@auth/pg-adapter@1.11.3`.
    #[serde(default)]
    pub adapter: Option<String>,
    /// Auth.js rows only: the Node.js version, e.g. `v20.19.0`.
    #[serde(default)]
    pub node: Option<String>,
}

/// The Auth.js variant on the schema the adapter's documentation ships.
pub const AS_SHIPPED: &str = "as-shipped";

/// The Auth.js variant with the indexes a user would add for its lookups.
pub const INDEXED: &str = "indexed";

/// Parses the text of `results.jsonl`, skipping blank lines. `path` only
/// names the file in errors.
pub fn parse_rows(text: &str, path: PathBuf) -> Result<Vec<Row>, ReportError> {
    let rows = parse_lines(text, &path, |_| Ok(()))?;
    if rows.is_empty() {
        return Err(ReportError::Empty { path });
    }
    Ok(rows)
}

/// Parses the text of `authjs.jsonl`, skipping blank lines; a file with no
/// row gives no rows. Every row must name its `variant`, [`AS_SHIPPED`] or
/// [`INDEXED`]. `path` only names the file in errors.
pub fn parse_authjs_rows(text: &str, path: PathBuf) -> Result<Vec<Row>, ReportError> {
    parse_lines(text, &path, |row| match row.variant.as_deref() {
        Some(AS_SHIPPED | INDEXED) => Ok(()),
        Some(other) => Err(format!(
            "unknown variant `{other}` (expected `{AS_SHIPPED}` or `{INDEXED}`)"
        )),
        None => Err(format!(
            "missing field `variant` (`{AS_SHIPPED}` or `{INDEXED}`)"
        )),
    })
}

/// The rows of `text`, one a line, blank lines skipped; `check` rejects a
/// row that parses but is not valid for its file.
fn parse_lines(
    text: &str,
    path: &Path,
    check: impl Fn(&Row) -> Result<(), String>,
) -> Result<Vec<Row>, ReportError> {
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row = serde_json::from_str(line)
            .map_err(|error| error.to_string())
            .and_then(|row| check(&row).map(|()| row))
            .map_err(|message| ReportError::Malformed {
                path: path.to_owned(),
                line: index + 1,
                message,
            })?;
        rows.push(row);
    }
    Ok(rows)
}

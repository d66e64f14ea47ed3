//! Reading `results.jsonl`, taking medians over runs, and writing the
//! Markdown page.

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

/// The operation every other one is compared with: one bare round trip of
/// the backend's driver (the ceiling of `BENCH.md`).
pub const RAW_LOOKUP: &str = "raw_lookup";

/// The operation an application calls on every request, shown in the summary
/// table and in the scale chart.
pub const HEADLINE_OP: &str = "get_session_and_user";

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
    /// A line of the results file is not a result row.
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

/// One line of `results.jsonl`: one operation timed on one backend in one
/// run. Fields the report does not use (`secs`) are accepted and ignored.
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
    /// Which run of the script the row comes from.
    #[serde(default)]
    pub run: Option<u64>,
}

/// Parses the text of `results.jsonl`, skipping blank lines. `path` only
/// names the file in errors.
pub fn parse_rows(text: &str, path: PathBuf) -> Result<Vec<Row>, ReportError> {
    let mut rows = Vec::new();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row = serde_json::from_str(line).map_err(|error| ReportError::Malformed {
            path: path.clone(),
            line: index + 1,
            message: error.to_string(),
        })?;
        rows.push(row);
    }
    if rows.is_empty() {
        return Err(ReportError::Empty { path });
    }
    Ok(rows)
}

/// The median of `values` (the mean of the two middle ones for an even
/// count), or `None` for no values.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    match sorted.len() {
        0 => None,
        n if n % 2 == 1 => Some(sorted[mid]),
        _ => Some((sorted[mid - 1] + sorted[mid]) / 2.0),
    }
}

/// The medians over runs of one operation on one backend at one size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cell {
    /// How many rows (runs) the medians are taken over.
    pub runs: usize,
    /// Median throughput.
    pub ops_per_sec: f64,
    /// Median of the runs' p50 latencies, in microseconds.
    pub p50_us: f64,
    /// Median of the runs' p99 latencies, in microseconds.
    pub p99_us: f64,
}

/// How one backend was seeded at one size.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Seeding {
    /// Median seeding time over runs, in seconds, if the rows recorded it.
    pub secs: Option<f64>,
    /// The seeding paths the rows name, in first-appearance order.
    pub paths: Vec<String>,
}

/// Every row of a results file, aggregated over runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// Backend labels in first-appearance order (the backend name, with the
    /// implementation added when the file holds more than one).
    pub backends: Vec<String>,
    /// Operations in first-appearance order.
    pub ops: Vec<String>,
    /// The user counts present, ascending.
    pub sizes: Vec<u64>,
    /// The `concurrency` values present, in first-appearance order.
    pub concurrency: Vec<u64>,
    /// The `ops` values present, in first-appearance order.
    pub ops_per_run: Vec<u64>,
    cells: HashMap<(usize, usize, u64), Cell>,
    seeding: HashMap<(usize, u64), Seeding>,
}

/// Pushes `value` unless it is there already, and returns its index.
fn index_of<T: PartialEq>(list: &mut Vec<T>, value: T) -> usize {
    match list.iter().position(|v| *v == value) {
        Some(i) => i,
        None => {
            list.push(value);
            list.len() - 1
        }
    }
}

impl Report {
    /// Groups `rows` by (backend, operation, users) and takes the median of
    /// each measure over the group's runs.
    pub fn from_rows(rows: &[Row]) -> Self {
        let mut implementations = Vec::new();
        for row in rows {
            index_of(&mut implementations, row.implementation.as_deref());
        }
        let label = |row: &Row| match (&row.implementation, implementations.len()) {
            (Some(implementation), 2..) => format!("{} ({implementation})", row.backend),
            _ => row.backend.clone(),
        };

        let (mut backends, mut ops, mut sizes) = (Vec::new(), Vec::new(), Vec::new());
        let (mut concurrency, mut ops_per_run) = (Vec::new(), Vec::new());
        let mut groups: HashMap<(usize, usize, u64), Vec<&Row>> = HashMap::new();
        // Every operation row of a run repeats that run's seeding time: keep
        // one per run (a row without `run` counts as a run of its own).
        let mut seed_rows: HashMap<(usize, u64), Vec<&Row>> = HashMap::new();
        for row in rows {
            let backend = index_of(&mut backends, label(row));
            let op = index_of(&mut ops, row.op.clone());
            index_of(&mut sizes, row.users);
            index_of(&mut concurrency, row.concurrency);
            index_of(&mut ops_per_run, row.ops);
            groups
                .entry((backend, op, row.users))
                .or_default()
                .push(row);
            let seen = seed_rows.entry((backend, row.users)).or_default();
            if row.run.is_none() || !seen.iter().any(|r| r.run == row.run) {
                seen.push(row);
            }
        }
        sizes.sort_unstable();

        let cells = groups
            .into_iter()
            .map(|(key, rows)| {
                let measure = |f: fn(&Row) -> f64| {
                    median(&rows.iter().map(|r| f(r)).collect::<Vec<_>>()).unwrap_or(f64::NAN)
                };
                let cell = Cell {
                    runs: rows.len(),
                    ops_per_sec: measure(|r| r.ops_per_sec),
                    p50_us: measure(|r| r.p50_us),
                    p99_us: measure(|r| r.p99_us),
                };
                (key, cell)
            })
            .collect();
        let seeding = seed_rows
            .into_iter()
            .map(|(key, rows)| {
                let secs = median(&rows.iter().filter_map(|r| r.seed_secs).collect::<Vec<_>>());
                let mut paths = Vec::new();
                for path in rows.iter().filter_map(|r| r.seeding.clone()) {
                    index_of(&mut paths, path);
                }
                (key, Seeding { secs, paths })
            })
            .collect();

        Self {
            backends,
            ops,
            sizes,
            concurrency,
            ops_per_run,
            cells,
            seeding,
        }
    }

    /// The smallest user count present: the normal run, which every
    /// backend runs.
    pub fn small(&self) -> u64 {
        self.sizes.first().copied().unwrap_or_default()
    }

    /// `backend`'s scale size: the largest user count it was measured at,
    /// if larger than [`Report::small`]. Each backend has its own, since a
    /// slow one may run the scale run with fewer users than the others.
    pub fn scale(&self, backend: &str) -> Option<u64> {
        let backend = self.backends.iter().position(|b| b == backend)?;
        self.seeding
            .keys()
            .filter(|(b, _)| *b == backend)
            .map(|(_, users)| *users)
            .max()
            .filter(|users| *users > self.small())
    }

    /// The backends with a scale size and that size, in backend order.
    pub fn scale_runs(&self) -> Vec<(&str, u64)> {
        self.backends
            .iter()
            .filter_map(|b| Some((b.as_str(), self.scale(b)?)))
            .collect()
    }

    /// The scale size most backends share (the larger one on a tie), if any
    /// backend has one.
    pub fn common_scale(&self) -> Option<u64> {
        let mut counts: Vec<(u64, usize)> = Vec::new();
        for (_, users) in self.scale_runs() {
            match counts.iter_mut().find(|(u, _)| *u == users) {
                Some((_, n)) => *n += 1,
                None => counts.push((users, 1)),
            }
        }
        counts
            .into_iter()
            .max_by_key(|(users, n)| (*n, *users))
            .map(|(users, _)| users)
    }

    /// The medians of `op` on `backend` at `users`, if measured.
    pub fn cell(&self, backend: &str, op: &str, users: u64) -> Option<&Cell> {
        let backend = self.backends.iter().position(|b| b == backend)?;
        let op = self.ops.iter().position(|o| o == op)?;
        self.cells.get(&(backend, op, users))
    }

    /// `op`'s throughput divided by the same backend's `raw_lookup`
    /// throughput at the same size.
    pub fn vs_raw_lookup(&self, backend: &str, op: &str, users: u64) -> Option<f64> {
        let raw = self.cell(backend, RAW_LOOKUP, users)?.ops_per_sec;
        let cell = self.cell(backend, op, users)?;
        (raw > 0.0).then(|| cell.ops_per_sec / raw)
    }

    /// How `backend` was seeded at `users`.
    pub fn seeding(&self, backend: &str, users: u64) -> Option<&Seeding> {
        let backend = self.backends.iter().position(|b| b == backend)?;
        self.seeding.get(&(backend, users))
    }

    /// The fewest and the most runs any (backend, operation, size) has.
    pub fn runs(&self) -> (usize, usize) {
        let runs = self.cells.values().map(|c| c.runs);
        (
            runs.clone().min().unwrap_or_default(),
            runs.max().unwrap_or_default(),
        )
    }

    /// The operation the scale chart shows: [`HEADLINE_OP`] if measured,
    /// else the first operation.
    pub fn chart_op(&self) -> &str {
        if self.ops.iter().any(|o| o == HEADLINE_OP) {
            HEADLINE_OP
        } else {
            self.ops.first().map_or(HEADLINE_OP, String::as_str)
        }
    }
}

/// `n` with a comma between each group of three digits: `1,000,000`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A measure rounded to a whole number, with thousands separators.
pub fn count(value: f64) -> String {
    if value.is_finite() {
        thousands(value.max(0.0).round() as u64)
    } else {
        "–".to_owned()
    }
}

/// A ratio as a multiplier with two decimals: `0.87×`.
pub fn ratio(value: f64) -> String {
    format!("{value:.2}×")
}

/// The change from `from` to `to` as a signed whole percentage: `+12%`,
/// `-3%`, `0%`.
pub fn signed_percent(from: f64, to: f64) -> String {
    if from <= 0.0 || !from.is_finite() || !to.is_finite() {
        return "–".to_owned();
    }
    let percent = ((to - from) / from * 100.0).round();
    if percent == 0.0 {
        "0%".to_owned()
    } else {
        format!("{percent:+}%")
    }
}

/// Seconds with one decimal, or two below a tenth of a second.
pub fn seconds(secs: f64) -> String {
    if secs < 0.1 {
        format!("{secs:.2}")
    } else {
        format!("{secs:.1}")
    }
}

/// Distinct values joined for a sentence: `32`, `32 or 64`.
fn either(values: &[u64]) -> String {
    values
        .iter()
        .map(|v| thousands(*v))
        .collect::<Vec<_>>()
        .join(" or ")
}

/// Names joined for a sentence: `a`, `a and b`, `a, b and c`.
fn and_list(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The optional inputs of the page besides the results.
#[derive(Debug, Clone, Copy, Default)]
pub struct Extras<'a> {
    /// The text of `machine.txt`: `key: value` lines.
    pub machine: Option<&'a str>,
    /// The text of `notes.md`, copied verbatim under `## Notes`.
    pub notes: Option<&'a str>,
}

/// Writes the Markdown page. `extras` holds the texts of `machine.txt` and
/// `notes.md`, if present; `images` is the path of the charts' folder
/// relative to the page.
pub fn markdown(report: &Report, extras: Extras<'_>, images: &str) -> String {
    // Blank notes make no section.
    let notes = extras
        .notes
        .map(|text| text.trim_matches(['\n', '\r']))
        .filter(|text| !text.trim().is_empty());
    let mut md = String::new();
    let mut line = |text: String| {
        md.push_str(&text);
        md.push('\n');
    };
    let small = report.small();
    let scale_run = match report.common_scale() {
        Some(scale) => format!("the scale run, {} users", thousands(scale)),
        None => "the scale run".to_owned(),
    };
    let runs = match report.runs() {
        (1, 1) => "one run".to_owned(),
        (min, max) if min == max => format!("{min} runs"),
        (min, max) => format!("{min} to {max} runs"),
    };

    line("# Benchmarks".into());
    line(String::new());
    line(format!(
        "Generated by `bash scripts/bench.sh` (`bash scripts/bench.sh --scale` for {scale_run}) \
         from `docs/benchmarks/results.jsonl`: do not edit this page by hand."
    ));
    line(String::new());
    line(format!(
        "Each operation runs the workload of `BENCH.md`: {} concurrent tasks share {} \
         operations against a store seeded with the given number of users. The numbers are \
         medians of {runs} on a shared 2-core machine, where the database server and the \
         benchmark compete for the same cores, so absolute numbers move from run to run: \
         compare backends and operations within one run, and quote ratios (such as \
         `vs {RAW_LOOKUP}`, the operation's throughput over that of the backend's bare \
         driver fetching one session row) rather than absolute ops/s.",
        either(&report.concurrency),
        either(&report.ops_per_run),
    ));
    line(String::new());

    line(format!(
        "## Throughput and latency at {} users",
        thousands(small)
    ));
    line(String::new());
    line(format!(
        "| backend | operation | ops/s | p50 (µs) | p99 (µs) | vs {RAW_LOOKUP} |"
    ));
    line("| --- | --- | ---: | ---: | ---: | ---: |".into());
    for backend in &report.backends {
        for op in &report.ops {
            let Some(cell) = report.cell(backend, op, small) else {
                continue;
            };
            let vs_raw = report
                .vs_raw_lookup(backend, op, small)
                .map_or("–".to_owned(), ratio);
            line(format!(
                "| {backend} | {op} | {} | {} | {} | {vs_raw} |",
                count(cell.ops_per_sec),
                count(cell.p50_us),
                count(cell.p99_us),
            ));
        }
    }
    line(String::new());

    line(format!(
        "| backend | {HEADLINE_OP} ops/s | {RAW_LOOKUP} ops/s | ratio | seeding (s) for {} users |",
        thousands(small)
    ));
    line("| --- | ---: | ---: | ---: | ---: |".into());
    for backend in &report.backends {
        let ops_per_sec = |op| {
            report
                .cell(backend, op, small)
                .map_or("–".to_owned(), |c| count(c.ops_per_sec))
        };
        let vs_raw = report
            .vs_raw_lookup(backend, HEADLINE_OP, small)
            .map_or("–".to_owned(), ratio);
        let seed = seed_cell(report.seeding(backend, small));
        line(format!(
            "| {backend} | {} | {} | {vs_raw} | {seed} |",
            ops_per_sec(HEADLINE_OP),
            ops_per_sec(RAW_LOOKUP),
        ));
    }
    line(String::new());
    line(format!(
        "![Throughput per operation and backend]({images}/throughput.svg)"
    ));
    line(String::new());

    match report.common_scale() {
        Some(common) => scale_section(&mut line, report, common, notes.is_some(), images),
        None => {
            line("## Scale".into());
            line(String::new());
            line(format!(
                "The scale run is not in this results file: `bash scripts/bench.sh --scale` adds \
                 the rows at 1,000,000 users, and this page then compares them with the rows at \
                 {} users.",
                thousands(small)
            ));
            line(String::new());
        }
    }

    if let Some(notes) = notes {
        line("## Notes".into());
        line(String::new());
        line(notes.to_owned());
        line(String::new());
    }

    line("## Machine".into());
    line(String::new());
    let lines: Vec<&str> = extras
        .machine
        .map(|text| text.lines().filter(|l| !l.trim().is_empty()).collect())
        .unwrap_or_default();
    if lines.is_empty() {
        line(
            "The machine was not recorded (no `docs/benchmarks/machine.txt` beside the results)."
                .into(),
        );
    } else {
        for l in lines {
            line(format!("- {}", l.trim_end()));
        }
    }
    md
}

/// The seeding time of one backend at one size for a table cell.
fn seed_cell(seeding: Option<&Seeding>) -> String {
    seeding.and_then(|s| s.secs).map_or("–".to_owned(), seconds)
}

/// The `## From <small> users to the scale run` section. `common` is the
/// scale size most backends share; `notes` says whether the page has a
/// `## Notes` section to point to for the exceptions.
fn scale_section(
    line: &mut impl FnMut(String),
    report: &Report,
    common: u64,
    notes: bool,
    images: &str,
) {
    let small = report.small();
    let small_users = thousands(small);
    let runs = report.scale_runs();

    // The backends whose scale size is not the common one, grouped by size.
    let mut exceptions: Vec<(u64, Vec<&str>)> = Vec::new();
    for &(backend, users) in runs.iter().filter(|(_, users)| *users != common) {
        match exceptions.iter_mut().find(|(u, _)| *u == users) {
            Some((_, backends)) => backends.push(backend),
            None => exceptions.push((users, vec![backend])),
        }
    }
    let mut intro = format!(
        "Every lookup is indexed, so latency should not grow with the number of users. \
         The scale run seeds {} users",
        thousands(common)
    );
    if exceptions.is_empty() {
        intro.push('.');
    } else {
        let exceptions: Vec<String> = exceptions
            .iter()
            .map(|(users, backends)| {
                format!("{} ran at {} users", and_list(backends), thousands(*users))
            })
            .collect();
        intro.push_str(&format!(
            ", but {}{}.",
            exceptions.join("; "),
            if notes { " (see the notes below)" } else { "" }
        ));
    }
    let absent: Vec<&str> = report
        .backends
        .iter()
        .map(String::as_str)
        .filter(|b| report.scale(b).is_none())
        .collect();
    if !absent.is_empty() {
        intro.push_str(&format!(" Not in the scale run: {}.", absent.join(", ")));
    }
    intro.push_str(&format!(
        " `change` is the change of the median from {small_users} users to the backend's \
         scale run, whose size is in the `scale users` column."
    ));

    line(format!("## From {small_users} users to the scale run"));
    line(String::new());
    line(intro);
    line(String::new());
    line(
        "| backend | scale users | operation | p50 small → scale (µs) | change | p99 small → scale (µs) | change | ops/s small → scale |"
            .into(),
    );
    line("| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: |".into());
    let arrow = |from: Option<f64>, to: Option<f64>| {
        format!(
            "{} → {}",
            from.map_or("–".to_owned(), count),
            to.map_or("–".to_owned(), count)
        )
    };
    for &(backend, scale) in &runs {
        for op in &report.ops {
            let from = report.cell(backend, op, small);
            let to = report.cell(backend, op, scale);
            if from.is_none() && to.is_none() {
                continue;
            }
            let measure = |f: fn(&Cell) -> f64| (from.map(f), to.map(f));
            let change = |(from, to): (Option<f64>, Option<f64>)| match (from, to) {
                (Some(from), Some(to)) => signed_percent(from, to),
                _ => "–".to_owned(),
            };
            let (p50, p99, tput) = (
                measure(|c| c.p50_us),
                measure(|c| c.p99_us),
                measure(|c| c.ops_per_sec),
            );
            line(format!(
                "| {backend} | {} | {op} | {} | {} | {} | {} | {} |",
                thousands(scale),
                arrow(p50.0, p50.1),
                change(p50),
                arrow(p99.0, p99.1),
                change(p99),
                arrow(tput.0, tput.1),
            ));
        }
    }
    line(String::new());
    line(format!(
        "| backend | scale users | seeding path | seeding (s) for {small_users} users | seeding (s), scale run |"
    ));
    line("| --- | ---: | --- | ---: | ---: |".into());
    for &(backend, scale) in &runs {
        let scale_users = thousands(scale);
        let (at_small, at_scale) = (
            report.seeding(backend, small),
            report.seeding(backend, scale),
        );
        let path_of = |s: Option<&Seeding>| s.map(|s| s.paths.join(", ")).unwrap_or_default();
        let paths = match (path_of(at_small), path_of(at_scale)) {
            (a, b) if a == b => a,
            (a, b) if a.is_empty() => b,
            (a, b) if b.is_empty() => a,
            (a, b) => format!("{a} at {small_users}, {b} at {scale_users}"),
        };
        let paths = if paths.is_empty() {
            "–".to_owned()
        } else {
            paths
        };
        line(format!(
            "| {backend} | {scale_users} | {paths} | {} | {} |",
            seed_cell(at_small),
            seed_cell(at_scale)
        ));
    }
    line(String::new());
    line(format!(
        "![p50 and p99 latency of {op} at {small_users} users and in each backend's scale run]({images}/scale.svg)",
        op = report.chart_op()
    ));
    line(String::new());
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// One result line, as `scripts/bench.sh` writes it.
    fn line(
        backend: &str,
        op: &str,
        users: u64,
        run: u64,
        tput: f64,
        p50: f64,
        p99: f64,
    ) -> String {
        format!(
            r#"{{"impl":"rust","backend":"{backend}","op":"{op}","users":{users},"concurrency":32,"ops":20000,"secs":1.0,"ops_per_sec":{tput},"p50_us":{p50},"p99_us":{p99},"seed_secs":{seed},"seeding":"bulk","run":{run}}}"#,
            seed = if users > 10_000 {
                40.0 + run as f64
            } else {
                0.4 + 0.2 * run as f64
            },
        )
    }

    /// Two operations in two runs on each of `backends`, given as (name,
    /// `raw_lookup` ops/s, sizes it ran at). Latency is 10% higher above
    /// 10,000 users; throughput does not change.
    fn rows(backends: &[(&str, f64, &[u64])]) -> String {
        let mut lines = Vec::new();
        for users in [10_000, 100_000, 1_000_000] {
            let slower = if users > 10_000 { 1.1 } else { 1.0 };
            for run in [1, 2] {
                let noise = run as f64 * 100.0;
                for &(backend, base, sizes) in backends {
                    if !sizes.contains(&users) {
                        continue;
                    }
                    let p50 = (1_000.0 + noise) * slower;
                    lines.push(line(
                        backend,
                        "get_session_and_user",
                        users,
                        run,
                        base * 0.8 + noise,
                        p50,
                        p50 * 3.0,
                    ));
                    lines.push(line(
                        backend,
                        "raw_lookup",
                        users,
                        run,
                        base + noise,
                        p50 / 2.0,
                        p50 * 2.0,
                    ));
                }
            }
        }
        lines.join("\n") + "\n"
    }

    /// Two backends, two operations, two sizes, two runs.
    pub(crate) fn two_sizes() -> String {
        rows(&[
            ("postgres", 10_000.0, &[10_000, 1_000_000]),
            ("redis", 40_000.0, &[10_000, 1_000_000]),
        ])
    }

    /// Four backends: sqlite and postgres ran the scale run at 1,000,000
    /// users, mongodb at 100,000, redis not at all.
    pub(crate) fn mixed_scales() -> String {
        rows(&[
            ("sqlite", 20_000.0, &[10_000, 1_000_000]),
            ("postgres", 10_000.0, &[10_000, 1_000_000]),
            ("mongodb", 5_000.0, &[10_000, 100_000]),
            ("redis", 40_000.0, &[10_000]),
        ])
    }

    /// A `notes.md` as the script's author might write it.
    pub(crate) const NOTES: &str = "### MongoDB scale size\n\nThe MongoDB-wire server seeds about 400 users/s, so `--scale-users mongodb=100000`.\n\n- one\n- two\n";

    fn report(text: &str) -> Report {
        Report::from_rows(&parse_rows(text, "results.jsonl".into()).unwrap())
    }

    /// [`report`], for where a local `report` hides it.
    fn report_of(text: &str) -> Report {
        report(text)
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[7.0]), Some(7.0));
        assert_eq!(median(&[9.0, 1.0, 5.0]), Some(5.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 10.0]), Some(3.5));
        assert_eq!(median(&[2.0, 8.0]), Some(5.0));
    }

    #[test]
    fn runs_reduce_to_their_median() {
        let text = [
            line("sqlite", "raw_lookup", 10_000, 1, 900.0, 10.0, 40.0),
            line("sqlite", "raw_lookup", 10_000, 2, 1_000.0, 30.0, 90.0),
            line("sqlite", "raw_lookup", 10_000, 3, 2_000.0, 20.0, 50.0),
        ]
        .join("\n");
        let report = report(&text);
        let cell = report.cell("sqlite", "raw_lookup", 10_000).unwrap();
        assert_eq!(
            *cell,
            Cell {
                runs: 3,
                ops_per_sec: 1_000.0,
                p50_us: 20.0,
                p99_us: 50.0
            }
        );
        assert_eq!(report.runs(), (3, 3));
        // Seeding 0.6, 0.8 and 1.0 s in runs 1 to 3.
        let seed = report.seeding("sqlite", 10_000).unwrap().secs.unwrap();
        assert!((seed - 0.8).abs() < 1e-9, "{seed}");
    }

    #[test]
    fn ratio_to_raw_lookup_of_the_same_backend_and_size() {
        let report = report(&two_sizes());
        // postgres at 10,000: get_session_and_user 8,000+150, raw_lookup 10,000+150.
        let ratio_pg = report
            .vs_raw_lookup("postgres", "get_session_and_user", 10_000)
            .unwrap();
        assert!((ratio_pg - 8_150.0 / 10_150.0).abs() < 1e-12);
        assert_eq!(
            report.vs_raw_lookup("redis", "raw_lookup", 10_000),
            Some(1.0)
        );
        assert_eq!(report.vs_raw_lookup("mysql", "raw_lookup", 10_000), None);
        assert_eq!(ratio(ratio_pg), "0.80×");
        assert_eq!(ratio(1.0), "1.00×");
    }

    #[test]
    fn order_of_first_appearance_and_sizes() {
        let report = report(&two_sizes());
        assert_eq!(report.backends, ["postgres", "redis"]);
        assert_eq!(report.ops, ["get_session_and_user", "raw_lookup"]);
        assert_eq!(report.sizes, [10_000, 1_000_000]);
        assert_eq!(report.small(), 10_000);
        assert_eq!(report.scale("postgres"), Some(1_000_000));
        assert_eq!(report.scale("redis"), Some(1_000_000));
        assert_eq!(report.common_scale(), Some(1_000_000));
    }

    #[test]
    fn scale_size_is_per_backend() {
        let report = report(&mixed_scales());
        assert_eq!(report.backends, ["sqlite", "postgres", "mongodb", "redis"]);
        assert_eq!(report.sizes, [10_000, 100_000, 1_000_000]);
        assert_eq!(report.small(), 10_000);
        assert_eq!(report.scale("sqlite"), Some(1_000_000));
        assert_eq!(report.scale("mongodb"), Some(100_000));
        assert_eq!(report.scale("redis"), None);
        assert_eq!(report.scale("mysql"), None);
        assert_eq!(
            report.scale_runs(),
            [
                ("sqlite", 1_000_000),
                ("postgres", 1_000_000),
                ("mongodb", 100_000)
            ]
        );
        assert_eq!(report.common_scale(), Some(1_000_000));

        // A tie goes to the larger size.
        let tie = report_of(&rows(&[
            ("mongodb", 5_000.0, &[10_000, 100_000]),
            ("sqlite", 20_000.0, &[10_000, 1_000_000]),
        ]));
        assert_eq!(tie.common_scale(), Some(1_000_000));
        let md = markdown(&tie, Extras::default(), "b");
        assert!(
            md.contains("The scale run seeds 1,000,000 users, but mongodb ran at 100,000 users. "),
            "{md}"
        );
    }

    #[test]
    fn and_lists() {
        assert_eq!(and_list(&[]), "");
        assert_eq!(and_list(&["a"]), "a");
        assert_eq!(and_list(&["a", "b"]), "a and b");
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
    }

    #[test]
    fn thousands_separators() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
        assert_eq!(thousands(16_207), "16,207");
        assert_eq!(thousands(1_000_000), "1,000,000");
        assert_eq!(count(16_206.6), "16,207");
        assert_eq!(count(f64::NAN), "–");
    }

    #[test]
    fn signed_percentages() {
        assert_eq!(signed_percent(100.0, 112.0), "+12%");
        assert_eq!(signed_percent(100.0, 97.0), "-3%");
        assert_eq!(signed_percent(100.0, 100.4), "0%");
        assert_eq!(signed_percent(100.0, 99.6), "0%");
        assert_eq!(signed_percent(1_000.0, 2_500.0), "+150%");
        assert_eq!(signed_percent(0.0, 5.0), "–");
    }

    #[test]
    fn markdown_with_two_sizes() {
        let machine = "cpu: Test CPU\ncores: 2\n\n";
        let extras = Extras {
            machine: Some(machine),
            notes: None,
        };
        let md = markdown(&report(&two_sizes()), extras, "benchmarks");
        for expected in [
            "# Benchmarks\n",
            "`bash scripts/bench.sh --scale`",
            "32 concurrent tasks share 20,000 operations",
            "medians of 2 runs",
            "## Throughput and latency at 10,000 users\n",
            "| backend | operation | ops/s | p50 (µs) | p99 (µs) | vs raw_lookup |\n",
            // p50 runs 1,100 and 1,200; p99 3,300 and 3,600.
            "| postgres | get_session_and_user | 8,150 | 1,150 | 3,450 | 0.80× |\n",
            "| postgres | raw_lookup | 10,150 | 575 | 2,300 | 1.00× |\n",
            "| redis | get_session_and_user | 32,150 | 1,150 | 3,450 | 0.80× |\n",
            "| backend | get_session_and_user ops/s | raw_lookup ops/s | ratio | seeding (s) for 10,000 users |\n",
            "| postgres | 8,150 | 10,150 | 0.80× | 0.7 |\n",
            "![Throughput per operation and backend](benchmarks/throughput.svg)",
            "`bash scripts/bench.sh --scale` for the scale run, 1,000,000 users)",
            "## From 10,000 users to the scale run\n",
            "The scale run seeds 1,000,000 users. `change` is the change of the median from 10,000 users to the backend's scale run",
            "| postgres | 1,000,000 | get_session_and_user | 1,150 → 1,265 | +10% | 3,450 → 3,795 | +10% | 8,150 → 8,150 |\n",
            "| redis | 1,000,000 | raw_lookup | 575 → 633 | +10% | 2,300 → 2,530 | +10% | 40,150 → 40,150 |\n",
            "| backend | scale users | seeding path | seeding (s) for 10,000 users | seeding (s), scale run |\n",
            "| postgres | 1,000,000 | bulk | 0.7 | 41.5 |\n",
            "![p50 and p99 latency of get_session_and_user at 10,000 users and in each backend's scale run](benchmarks/scale.svg)",
            "## Machine\n\n- cpu: Test CPU\n- cores: 2\n",
        ] {
            assert!(md.contains(expected), "missing {expected:?} in:\n{md}");
        }
        for absent in ["but ", "Not in the scale run", "## Notes"] {
            assert!(!md.contains(absent), "unexpected {absent:?} in:\n{md}");
        }
        // One table grouped by backend, operations in file order.
        let table: Vec<String> = md
            .lines()
            .skip_while(|l| !l.starts_with("| backend | operation | ops/s"))
            .skip(2)
            .take_while(|l| l.starts_with('|'))
            .map(|l| l.split(" | ").take(2).collect::<Vec<_>>().join(" "))
            .collect();
        assert_eq!(
            table,
            [
                "| postgres get_session_and_user",
                "| postgres raw_lookup",
                "| redis get_session_and_user",
                "| redis raw_lookup",
            ]
        );
    }

    /// The rows of `text` at 10,000 users: a results file without a scale run.
    fn only_10_000_users(text: &str) -> String {
        text.lines()
            .filter(|l| l.contains(r#""users":10000,"#))
            .map(|l| format!("{l}\n"))
            .collect()
    }

    #[test]
    fn markdown_with_one_size_has_no_scale_section() {
        let text = only_10_000_users(&two_sizes());
        let report = report(&text);
        assert_eq!(report.scale("postgres"), None);
        assert_eq!(report.common_scale(), None);
        assert!(report.scale_runs().is_empty());
        let md = markdown(&report, Extras::default(), "benchmarks");
        assert!(!md.contains("## From"));
        assert!(!md.contains("scale.svg"));
        assert!(md.contains("The scale run is not in this results file"));
        assert!(md.contains("`bash scripts/bench.sh --scale`"));
        assert!(md.contains("The machine was not recorded"));
    }

    #[test]
    fn malformed_line_is_named() {
        let text = format!(
            "{}\n\n{{\"backend\": \"sqlite\"\n",
            line("sqlite", "raw_lookup", 10_000, 1, 1.0, 1.0, 1.0)
        );
        let error = parse_rows(&text, "results.jsonl".into()).unwrap_err();
        assert!(
            matches!(error, ReportError::Malformed { line: 3, .. }),
            "{error:?}"
        );
        assert!(
            error
                .to_string()
                .starts_with("results.jsonl: line 3 is not a result row")
        );

        let missing_field = r#"{"backend":"sqlite","op":"raw_lookup","users":1}"#;
        let error = parse_rows(missing_field, "r".into()).unwrap_err();
        assert!(
            matches!(error, ReportError::Malformed { line: 1, .. }),
            "{error:?}"
        );
    }

    #[test]
    fn blank_file_is_empty() {
        let error = parse_rows("\n  \n", "results.jsonl".into()).unwrap_err();
        assert!(matches!(error, ReportError::Empty { .. }));
        assert_eq!(error.to_string(), "results.jsonl: no result rows");
    }

    #[test]
    fn optional_fields_may_be_missing() {
        let text = r#"{"backend":"redis","op":"raw_lookup","users":10,"concurrency":1,"ops":5,"ops_per_sec":2.5,"p50_us":1,"p99_us":2}"#;
        let report = report(text);
        assert_eq!(
            report.cell("redis", "raw_lookup", 10).unwrap().ops_per_sec,
            2.5
        );
        assert_eq!(report.seeding("redis", 10).unwrap().secs, None);
        assert!(markdown(&report, Extras::default(), "b").contains("| redis | – | 3 | – | – |"));
    }

    /// The lines of the scale section, from its heading to the next one.
    fn scale_lines(md: &str) -> Vec<&str> {
        md.lines()
            .skip_while(|l| !l.starts_with("## From"))
            .skip(1)
            .take_while(|l| !l.starts_with("## "))
            .collect()
    }

    #[test]
    fn markdown_with_per_backend_scale_sizes_and_notes() {
        let report = report(&mixed_scales());
        let extras = Extras {
            machine: None,
            notes: Some(NOTES),
        };
        let md = markdown(&report, extras, "benchmarks");
        for expected in [
            "## From 10,000 users to the scale run\n",
            "The scale run seeds 1,000,000 users, but mongodb ran at 100,000 users (see the notes below). \
             Not in the scale run: redis. `change` is",
            "| backend | scale users | operation | p50 small → scale (µs) | change | p99 small → scale (µs) | change | ops/s small → scale |\n",
            "| sqlite | 1,000,000 | get_session_and_user | 1,150 → 1,265 | +10% | 3,450 → 3,795 | +10% | 16,150 → 16,150 |\n",
            "| postgres | 1,000,000 | raw_lookup | 575 → 633 | +10% | 2,300 → 2,530 | +10% | 10,150 → 10,150 |\n",
            "| mongodb | 100,000 | get_session_and_user | 1,150 → 1,265 | +10% | 3,450 → 3,795 | +10% | 4,150 → 4,150 |\n",
            "| mongodb | 100,000 | raw_lookup | 575 → 633 | +10% | 2,300 → 2,530 | +10% | 5,150 → 5,150 |\n",
            "| sqlite | 1,000,000 | bulk | 0.7 | 41.5 |\n",
            "| mongodb | 100,000 | bulk | 0.7 | 41.5 |\n",
            // redis is still in the tables at 10,000 users.
            "| redis | get_session_and_user | 32,150 | 1,150 | 3,450 | 0.80× |\n",
            "| redis | 32,150 | 40,150 | 0.80× | 0.7 |\n",
        ] {
            assert!(md.contains(expected), "missing {expected:?} in:\n{md}");
        }
        // The scale tables list the backends in the scale run only.
        let backends: Vec<&str> = scale_lines(&md)
            .into_iter()
            .filter(|l| {
                l.starts_with("| ") && !l.starts_with("| backend") && !l.starts_with("| ---")
            })
            .filter_map(|l| l.split(" | ").next())
            .collect();
        assert_eq!(
            backends,
            [
                "| sqlite",
                "| sqlite",
                "| postgres",
                "| postgres",
                "| mongodb",
                "| mongodb",
                "| sqlite",
                "| postgres",
                "| mongodb",
            ]
        );
        // notes.md verbatim under its own heading, before the machine.
        assert!(
            md.contains(&format!(
                "![p50 and p99 latency of get_session_and_user at 10,000 users and in each backend's scale run](benchmarks/scale.svg)\n\n\
                 ## Notes\n\n{NOTES}\n## Machine\n"
            )),
            "{md}"
        );

        // Without notes.md there is no section to point to.
        let md = markdown(&report, Extras::default(), "benchmarks");
        assert!(md.contains("but mongodb ran at 100,000 users. Not in the scale run: redis."));
        assert!(!md.contains("see the notes"));
        assert!(!md.contains("## Notes"));
        // Blank notes make no section either.
        let blank = Extras {
            machine: None,
            notes: Some("\n  \n"),
        };
        assert!(!markdown(&report, blank, "b").contains("## Notes"));
    }

    #[test]
    fn notes_without_a_scale_run() {
        let text = only_10_000_users(&mixed_scales());
        let extras = Extras {
            machine: Some("cpu: X\n"),
            notes: Some("Some note.\r\n"),
        };
        let md = markdown(&report(&text), extras, "b");
        assert!(
            md.contains(
                "{} users.\n\n## Notes\n\nSome note.\n\n## Machine\n\n- cpu: X\n"
                    .replace("{}", "10,000")
                    .as_str()
            ),
            "{md}"
        );
    }
}

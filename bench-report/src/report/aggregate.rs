//! Aggregation: the rows of every run reduced to medians per backend,
//! operation and number of users.

use std::collections::HashMap;

use super::{HEADLINE_OP, RAW_LOOKUP, Row};

/// The prefix of the ceiling rows: `raw_<op>` is the ceiling of `<op>`.
const RAW_PREFIX: &str = "raw_";

/// Whether `op` is a ceiling row (`raw_lookup`, `raw_update_session`, ...)
/// rather than an adapter operation.
pub fn is_ceiling(op: &str) -> bool {
    op.starts_with(RAW_PREFIX)
}

/// The ceiling row of the adapter operation `op`: [`RAW_LOOKUP`] for
/// [`HEADLINE_OP`], `raw_<op>` for the others, `None` for a ceiling row.
pub fn ceiling_of(op: &str) -> Option<String> {
    match op {
        HEADLINE_OP => Some(RAW_LOOKUP.to_owned()),
        op if is_ceiling(op) => None,
        op => Some(format!("{RAW_PREFIX}{op}")),
    }
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

impl Cell {
    /// The medians over `rows`, the runs of one group.
    pub fn of(rows: &[&Row]) -> Self {
        let measure = |f: fn(&Row) -> f64| {
            median(&rows.iter().map(|r| f(r)).collect::<Vec<_>>()).unwrap_or(f64::NAN)
        };
        Self {
            runs: rows.len(),
            ops_per_sec: measure(|r| r.ops_per_sec),
            p50_us: measure(|r| r.p50_us),
            p99_us: measure(|r| r.p99_us),
        }
    }
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
    peak_rss: HashMap<(usize, u64), f64>,
}

/// Pushes `value` unless it is there already, and returns its index.
pub(crate) fn index_of<T: PartialEq>(list: &mut Vec<T>, value: T) -> usize {
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
            .map(|(key, rows)| (key, Cell::of(&rows)))
            .collect();
        // Every row of a process repeats its peak RSS, like the seeding time.
        let peak_rss = seed_rows
            .iter()
            .filter_map(|(key, rows)| {
                let kib = rows.iter().filter_map(|r| r.peak_rss_kib);
                Some((*key, median(&kib.collect::<Vec<_>>())?))
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
            peak_rss,
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

    /// `op`'s throughput divided by that of its ceiling row ([`ceiling_of`])
    /// on the same backend at the same size; `None` for a ceiling row or
    /// when either row is missing.
    pub fn vs_ceiling(&self, backend: &str, op: &str, users: u64) -> Option<f64> {
        let ceiling = self.cell(backend, &ceiling_of(op)?, users)?.ops_per_sec;
        let cell = self.cell(backend, op, users)?;
        (ceiling > 0.0).then(|| cell.ops_per_sec / ceiling)
    }

    /// The median over runs of `backend`'s peak resident set at `users`, in
    /// KiB, if its rows recorded it.
    pub fn peak_rss_kib(&self, backend: &str, users: u64) -> Option<f64> {
        let backend = self.backends.iter().position(|b| b == backend)?;
        self.peak_rss.get(&(backend, users)).copied()
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

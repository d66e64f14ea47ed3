//! The comparison with Auth.js: the rows of `authjs.jsonl` (the official
//! Auth.js adapters run in Node through the same workload) aggregated over
//! runs, and the `## Against Auth.js` section.

use std::collections::HashMap;

use super::{
    AS_SHIPPED, Cell, HEADLINE_OP, INDEXED, Report, Row, count, either, index_of, ratio, thousands,
};

/// The backend the page's headline sentence compares.
const HEADLINE_BACKEND: &str = "postgres";

/// The rows of `authjs.jsonl`, aggregated over runs.
#[derive(Debug, Clone, PartialEq)]
pub struct AuthJs {
    /// Backends in first-appearance order.
    pub backends: Vec<String>,
    /// Operations in first-appearance order.
    pub ops: Vec<String>,
    /// The user counts present, ascending.
    pub sizes: Vec<u64>,
    /// (backend, adapter package) pairs, in first-appearance order.
    pub adapters: Vec<(String, String)>,
    /// The Node.js versions the rows name, in first-appearance order.
    pub nodes: Vec<String>,
    cells: HashMap<(String, String, String, u64), Cell>,
}

impl AuthJs {
    /// Groups `rows` by (backend, variant, operation, users) and takes the
    /// median of each measure over the group's runs; `None` for no rows.
    pub fn from_rows(rows: &[Row]) -> Option<Self> {
        if rows.is_empty() {
            return None;
        }
        let (mut backends, mut ops, mut sizes) = (Vec::new(), Vec::new(), Vec::new());
        let (mut adapters, mut nodes) = (Vec::new(), Vec::new());
        let mut groups: HashMap<_, Vec<&Row>> = HashMap::new();
        for row in rows {
            index_of(&mut backends, row.backend.clone());
            index_of(&mut ops, row.op.clone());
            index_of(&mut sizes, row.users);
            if let Some(adapter) = &row.adapter {
                index_of(&mut adapters, (row.backend.clone(), adapter.clone()));
            }
            if let Some(node) = &row.node {
                index_of(&mut nodes, node.clone());
            }
            let variant = row.variant.clone().unwrap_or_else(|| AS_SHIPPED.to_owned());
            groups
                .entry((row.backend.clone(), variant, row.op.clone(), row.users))
                .or_default()
                .push(row);
        }
        sizes.sort_unstable();
        let cells = groups
            .into_iter()
            .map(|(key, rows)| (key, Cell::of(&rows)))
            .collect();
        Some(Self {
            backends,
            ops,
            sizes,
            adapters,
            nodes,
            cells,
        })
    }

    /// The medians of `op` on `backend` in `variant` at `users`, if
    /// measured.
    pub fn cell(&self, backend: &str, variant: &str, op: &str, users: u64) -> Option<&Cell> {
        self.cells
            .get(&(backend.to_owned(), variant.to_owned(), op.to_owned(), users))
    }
}

/// The Rust adapter's medians of `op` on `backend` at `users`: the row
/// labelled with the backend's name, or with `(rust)` added when the
/// results file holds more than one implementation.
pub fn rust_cell<'r>(report: &'r Report, backend: &str, op: &str, users: u64) -> Option<&'r Cell> {
    report
        .cell(backend, op, users)
        .or_else(|| report.cell(&format!("{backend} (rust)"), op, users))
}

/// How many times the Rust adapter's throughput is Auth.js's.
fn times(rust: Option<&Cell>, authjs: Option<&Cell>) -> Option<f64> {
    let (rust, authjs) = (rust?.ops_per_sec, authjs?.ops_per_sec);
    (authjs > 0.0).then(|| rust / authjs)
}

/// The `## Against Auth.js` section. `machine` is the text of
/// `authjs-machine.txt`, if present.
pub(crate) fn authjs_section(
    line: &mut impl FnMut(String),
    report: &Report,
    authjs: &AuthJs,
    machine: Option<&str>,
) {
    line("## Against Auth.js".into());
    line(String::new());
    line(format!(
        "The official Auth.js database adapters, run in Node.js through the same workload by \
         `bash scripts/bench-authjs.sh` (rows in `docs/benchmarks/authjs.jsonl`, medians over \
         runs) at {} users. *As shipped* is the schema the adapter's documentation ships; \
         *with indexes* adds the indexes a user would add for its lookups (not every backend \
         has that variant). *This adapter* is the row of this page's results for the same \
         backend, operation and number of users; × is its ops/s over Auth.js's.",
        either(&authjs.sizes)
    ));
    line(String::new());
    if let Some(headline) = headline(report, authjs) {
        line(headline);
        line(String::new());
    }
    for &users in &authjs.sizes {
        if authjs.sizes.len() > 1 {
            line(format!("At {} users:", thousands(users)));
            line(String::new());
        }
        authjs_table(line, report, authjs, users);
        line(String::new());
    }

    if !authjs.adapters.is_empty() {
        let adapters: Vec<String> = authjs
            .adapters
            .iter()
            .map(|(backend, adapter)| format!("`{adapter}` ({backend})"))
            .collect();
        line(format!("Adapters: {}.", adapters.join(", ")));
    }
    if !authjs.nodes.is_empty() {
        line(format!("Node.js: {}.", authjs.nodes.join(", ")));
    }
    let lines: Vec<&str> = machine
        .map(|text| text.lines().filter(|l| !l.trim().is_empty()).collect())
        .unwrap_or_default();
    if !lines.is_empty() {
        line(String::new());
        line("The machine of the Auth.js runs (`authjs-machine.txt`):".into());
        line(String::new());
        for l in lines {
            line(format!("- {}", l.trim_end()));
        }
    }
    line(String::new());
}

/// The table of the section at `users`.
fn authjs_table(line: &mut impl FnMut(String), report: &Report, authjs: &AuthJs, users: u64) {
    line(
        "| backend | operation | this adapter ops/s | Auth.js as shipped ops/s | × | Auth.js with indexes ops/s | × | Auth.js p99 (µs) as shipped / indexed |"
            .into(),
    );
    line("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |".into());
    let dash = || "–".to_owned();
    for backend in &authjs.backends {
        for op in &authjs.ops {
            let shipped = authjs.cell(backend, AS_SHIPPED, op, users);
            let indexed = authjs.cell(backend, INDEXED, op, users);
            if shipped.is_none() && indexed.is_none() {
                continue;
            }
            let rust = rust_cell(report, backend, op, users);
            let tput = |c: Option<&Cell>| c.map_or_else(dash, |c| count(c.ops_per_sec));
            let x = |c| times(rust, c).map_or_else(dash, ratio);
            let p99 = |c: Option<&Cell>| c.map_or_else(dash, |c| count(c.p99_us));
            line(format!(
                "| {backend} | {op} | {} | {} | {} | {} | {} | {} / {} |",
                tput(rust),
                tput(shipped),
                x(shipped),
                tput(indexed),
                x(indexed),
                p99(shipped),
                p99(indexed),
            ));
        }
    }
}

/// The sentence on PostgreSQL's [`HEADLINE_OP`] at Auth.js's smallest size,
/// if both sides measured it as shipped.
pub(crate) fn headline(report: &Report, authjs: &AuthJs) -> Option<String> {
    let users = *authjs.sizes.first()?;
    let rust = rust_cell(report, HEADLINE_BACKEND, HEADLINE_OP, users);
    let at = |variant| authjs.cell(HEADLINE_BACKEND, variant, HEADLINE_OP, users);
    let shipped = times(rust, at(AS_SHIPPED))?;
    let indexed = times(rust, at(INDEXED))
        .map(|x| format!(", {} with indexes", ratio(x)))
        .unwrap_or_default();
    Some(format!(
        "PostgreSQL `{HEADLINE_OP}`: {} Auth.js as shipped{indexed}.",
        ratio(shipped)
    ))
}

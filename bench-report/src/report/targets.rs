//! Targets: what each backend's numbers should reach, and whether they do.
//!
//! The rules are data, in [`TARGETS`]: change them there.

use super::{HEADLINE_OP, Report, ceiling_of, is_ceiling, ratio, thousands};

/// The backends a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Backends {
    /// Every backend in the results.
    Every,
    /// Only these backends (by name, as in the rows' `backend`).
    Only(&'static [&'static str]),
}

/// The operations a rule applies to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ops {
    /// One operation.
    One(&'static str),
    /// Every adapter operation other than [`HEADLINE_OP`] that has a
    /// ceiling row on the backend at the small size.
    OthersWithCeiling,
    /// Every adapter operation (not the `raw_` rows) of the backend.
    Adapter,
}

/// What a rule asks of an operation.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Bound {
    /// Throughput at the small size at least this fraction of the ceiling's.
    CeilingAtLeast(f64),
    /// p99 latency at the small size at most this many milliseconds.
    P99AtMostMs(f64),
    /// p99 latency at the backend's scale size at most this multiple of
    /// the p99 at the small size; only for backends with a scale size.
    ScaleP99AtMost(f64),
}

/// One rule of [`TARGETS`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rule {
    /// The backends it applies to.
    pub backends: Backends,
    /// The operations it applies to on each of them.
    pub ops: Ops,
    /// What it asks.
    pub bound: Bound,
}

/// Shorthand for the rules below.
const fn rule(backends: Backends, ops: Ops, bound: Bound) -> Rule {
    Rule {
        backends,
        ops,
        bound,
    }
}

const SQL_SERVERS: Backends = Backends::Only(&["postgres", "mysql"]);
const REDIS: Backends = Backends::Only(&["redis", "redis-cluster"]);
const SQLITE: Backends = Backends::Only(&["sqlite"]);

/// The targets of the `## Targets` section, in the order the table lists
/// them for each backend. Backends not named get only the scale rule.
pub const TARGETS: &[Rule] = &[
    rule(
        SQL_SERVERS,
        Ops::One(HEADLINE_OP),
        Bound::CeilingAtLeast(0.8),
    ),
    rule(
        SQL_SERVERS,
        Ops::OthersWithCeiling,
        Bound::CeilingAtLeast(0.6),
    ),
    // The redis ceiling is two bare HGETALLs.
    rule(REDIS, Ops::One(HEADLINE_OP), Bound::CeilingAtLeast(0.6)),
    rule(SQLITE, Ops::One(HEADLINE_OP), Bound::CeilingAtLeast(0.9)),
    rule(
        SQLITE,
        Ops::One("get_user_by_account"),
        Bound::CeilingAtLeast(0.9),
    ),
    rule(SQLITE, Ops::One("update_session"), Bound::P99AtMostMs(20.0)),
    rule(SQLITE, Ops::One("create_session"), Bound::P99AtMostMs(20.0)),
    rule(
        SQLITE,
        Ops::One("use_verification_token"),
        Bound::P99AtMostMs(20.0),
    ),
    rule(Backends::Every, Ops::Adapter, Bound::ScaleP99AtMost(1.3)),
];

/// One target evaluated on one backend and operation.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// The backend.
    pub backend: String,
    /// The operation.
    pub op: String,
    /// What is asked.
    pub bound: Bound,
    /// The backend's scale size, for [`Bound::ScaleP99AtMost`].
    pub scale: Option<u64>,
    /// The measure compared with the bound (a ratio, or a p99 in µs), or
    /// `None` if a row it needs is missing.
    pub measured: Option<f64>,
}

impl Outcome {
    /// Whether the target is met, or `None` if it could not be measured.
    pub fn met(&self) -> Option<bool> {
        let measured = self.measured?;
        Some(match self.bound {
            Bound::CeilingAtLeast(fraction) => measured >= fraction,
            Bound::P99AtMostMs(ms) => measured <= ms * 1_000.0,
            Bound::ScaleP99AtMost(multiple) => measured <= multiple,
        })
    }

    /// The target as the table states it, e.g. `` `update_session` ≥ 0.6× ceiling``.
    pub fn target(&self, small: u64) -> String {
        let op = &self.op;
        match self.bound {
            Bound::CeilingAtLeast(fraction) => format!("`{op}` ≥ {fraction}× ceiling"),
            Bound::P99AtMostMs(ms) => format!("`{op}` p99 ≤ {ms} ms"),
            Bound::ScaleP99AtMost(multiple) => format!(
                "`{op}` p99 at {} ≤ {multiple}× p99 at {}",
                self.scale.map_or("the scale size".to_owned(), thousands),
                thousands(small)
            ),
        }
    }

    /// The measure as the table shows it: `0.85×`, `12.3 ms`, or `–`.
    pub fn measured_text(&self) -> String {
        match (self.measured, self.bound) {
            (None, _) => "–".to_owned(),
            (Some(us), Bound::P99AtMostMs(_)) => format!("{:.1} ms", us / 1_000.0),
            (Some(value), _) => ratio(value),
        }
    }
}

impl Rule {
    /// Whether the rule applies to `backend`.
    fn applies_to(&self, backend: &str) -> bool {
        match self.backends {
            Backends::Every => true,
            Backends::Only(names) => names.contains(&backend),
        }
    }

    /// The operations the rule checks on `backend`.
    fn ops<'r>(&self, report: &'r Report, backend: &str) -> Vec<&'r str> {
        let small = report.small();
        let adapter_ops = report.ops.iter().filter(|op| !is_ceiling(op));
        match self.ops {
            Ops::One(op) => vec![op],
            Ops::OthersWithCeiling => adapter_ops
                .filter(|op| *op != HEADLINE_OP)
                .filter(|op| {
                    ceiling_of(op).is_some_and(|c| report.cell(backend, &c, small).is_some())
                })
                .map(String::as_str)
                .collect(),
            Ops::Adapter => adapter_ops
                .filter(|op| {
                    report
                        .sizes
                        .iter()
                        .any(|&u| report.cell(backend, op, u).is_some())
                })
                .map(String::as_str)
                .collect(),
        }
    }

    /// The rule on `backend`: one outcome per operation, none when it does
    /// not apply (a scale rule on a backend without a scale size).
    fn evaluate(&self, report: &Report, backend: &str) -> Vec<Outcome> {
        if !self.applies_to(backend) {
            return Vec::new();
        }
        let small = report.small();
        let scale = report.scale(backend);
        if matches!(self.bound, Bound::ScaleP99AtMost(_)) && scale.is_none() {
            return Vec::new();
        }
        self.ops(report, backend)
            .into_iter()
            .map(|op| {
                let p99 = |users| report.cell(backend, op, users).map(|c| c.p99_us);
                let measured = match self.bound {
                    Bound::CeilingAtLeast(_) => report.vs_ceiling(backend, op, small),
                    Bound::P99AtMostMs(_) => p99(small),
                    Bound::ScaleP99AtMost(_) => match (p99(small), scale.and_then(p99)) {
                        (Some(from), Some(to)) if from > 0.0 => Some(to / from),
                        _ => None,
                    },
                };
                Outcome {
                    backend: backend.to_owned(),
                    op: op.to_owned(),
                    bound: self.bound,
                    scale,
                    measured,
                }
            })
            .collect()
    }
}

/// `rules` evaluated on every backend of `report`, grouped by backend in
/// the report's order, each backend's in the order of `rules`.
pub fn evaluate(report: &Report, rules: &[Rule]) -> Vec<Outcome> {
    report
        .backends
        .iter()
        .flat_map(|backend| rules.iter().flat_map(|rule| rule.evaluate(report, backend)))
        .collect()
}

/// The `## Targets` section: a one-line summary and the table of
/// `outcomes`.
pub(crate) fn targets_section(
    line: &mut impl FnMut(String),
    report: &Report,
    outcomes: &[Outcome],
) {
    let small = report.small();
    line("## Targets".into());
    line(String::new());
    if outcomes.is_empty() {
        line("No target applies to the backends in these results.".into());
        line(String::new());
        return;
    }
    let measured = outcomes.iter().filter(|o| o.met().is_some()).count();
    let met = outcomes.iter().filter(|o| o.met() == Some(true)).count();
    let unmeasured = outcomes.len() - measured;
    let mut summary = format!("{met} of {measured} targets met");
    if unmeasured > 0 {
        summary.push_str(&format!(
            "; {unmeasured} could not be measured (a row they need is missing, shown as –)"
        ));
    }
    line(format!("{summary}."));
    line(String::new());
    line(format!(
        "Ratios are to the operation's ceiling at {} users (see `vs ceiling` above); the scale \
         targets compare the backend's scale run with {} users.",
        thousands(small),
        thousands(small)
    ));
    line(String::new());
    line("| backend | target | measured | met |".into());
    line("| --- | --- | ---: | :---: |".into());
    for outcome in outcomes {
        let met = match outcome.met() {
            Some(true) => "✓",
            Some(false) => "✗",
            None => "–",
        };
        line(format!(
            "| {} | {} | {} | {met} |",
            outcome.backend,
            outcome.target(small),
            outcome.measured_text()
        ));
    }
    line(String::new());
}

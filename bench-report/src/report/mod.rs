//! The report, one idea per module: [`parse`] reads `results.jsonl` and
//! `authjs.jsonl`, [`aggregate`] takes medians over runs, [`targets`] checks
//! them against the targets, [`authjs`] compares them with Auth.js,
//! [`format`](mod@format) writes numbers the way the page shows them, and
//! [`page`] writes the Markdown page.

mod aggregate;
mod authjs;
mod format;
mod page;
mod parse;
mod targets;

pub use aggregate::*;
pub use authjs::*;
pub use format::*;
pub use page::*;
pub use parse::*;
pub use targets::*;

/// The ceiling of [`HEADLINE_OP`]: the same lookup done by the fastest bare
/// native client of the database on its own best-configured pool (see
/// `docs/workload.md`). The other operations' ceilings are `raw_<op>`
/// ([`ceiling_of`]).
pub const RAW_LOOKUP: &str = "raw_lookup";

/// The operation an application calls on every request, shown in the summary
/// table and in the scale chart.
pub const HEADLINE_OP: &str = "get_session_and_user";

#[cfg(test)]
pub(crate) mod tests;

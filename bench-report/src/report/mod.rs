//! The report, one idea per module: [`parse`] reads `results.jsonl`,
//! [`aggregate`] takes medians over runs, [`format`](mod@format) writes numbers the way
//! the page shows them, and [`page`] writes the Markdown page.

mod aggregate;
mod format;
mod page;
mod parse;

pub use aggregate::*;
pub use format::*;
pub use page::*;
pub use parse::*;

/// The operation every other one is compared with: one bare round trip of
/// the backend's driver (the ceiling the workload compares every operation
/// with, see `docs/workload.md`).
pub const RAW_LOOKUP: &str = "raw_lookup";

/// The operation an application calls on every request, shown in the summary
/// table and in the scale chart.
pub const HEADLINE_OP: &str = "get_session_and_user";

#[cfg(test)]
pub(crate) mod tests;

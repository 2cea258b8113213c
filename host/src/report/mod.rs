//! Report: collect outcomes into a [`model::Report`] and render it.

pub mod catalog;
pub mod model;
mod text;

pub use text::render as text;

use crate::vocab::Severity;
use model::{Report, Status};

/// One JSON document, pretty-printed, newline-terminated.
pub fn json(report: &Report) -> String {
    let mut s = serde_json::to_string_pretty(report).expect("report serializes");
    s.push('\n');
    s
}

/// Exit codes (documented in README and docs/report-format.md).
pub mod exit {
    pub const CLEAN: i32 = 0;
    pub const FINDINGS: i32 = 1;
    pub const INPUT: i32 = 2;
    pub const CHECK_FAILED: i32 = 3;
}

/// 2 when input could not be read (the scan is incomplete), else 3 when a
/// check failed to run, else 1 when a finding is at or above `fail_on`, else 0.
pub fn exit_code(report: &Report, fail_on: Severity) -> i32 {
    if !report.input_errors.is_empty() {
        exit::INPUT
    } else if report.checks.iter().any(|c| c.status == Status::Error) {
        exit::CHECK_FAILED
    } else if report
        .findings
        .iter()
        .any(|f| f.counts() && f.severity >= fail_on)
    {
        exit::FINDINGS
    } else {
        exit::CLEAN
    }
}

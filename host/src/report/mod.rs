//! Report: collect outcomes into a [`model::Report`] and render it.

pub mod catalog;
pub mod gaps;
mod html;
mod junit;
mod markdown;
pub mod model;
mod policyreport;
mod prometheus;
mod sarif;
mod text;

pub use html::render as html;
pub use junit::render as junit;
pub(crate) use markdown::cell as markdown_cell;
pub use markdown::render as markdown;
pub use policyreport::{
    documents as policy_report_documents, render as policy_reports, Api as ReportApi,
};
pub use prometheus::render as prometheus;
pub use sarif::render as sarif;
pub use text::{render as text, View as TextView};

use crate::vocab::Severity;
use model::Report;

/// ` (1 critical, 8 high, ...)`, highest first; empty without findings.
fn by_severity(s: &model::Summary) -> String {
    let parts: Vec<String> = s
        .by_severity
        .iter()
        .rev()
        .map(|(k, v)| format!("{v} {}", k.to_string().to_lowercase()))
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!(" ({})", parts.join(", "))
    }
}

/// `&`, `<` and `>` escaped: safe as XML or HTML text.
fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Quotes escaped too: safe inside a quoted XML or HTML attribute.
fn escape_attr(s: &str) -> String {
    escape_text(s).replace('"', "&quot;").replace('\'', "&#39;")
}

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
/// `fail_on` None (`--fail-on never`): findings alone never fail the run.
pub fn exit_code(report: &Report, fail_on: Option<Severity>) -> i32 {
    if !report.input_errors.is_empty() {
        exit::INPUT
    } else if report.errored().next().is_some() {
        exit::CHECK_FAILED
    } else if report
        .findings
        .iter()
        .any(|f| f.counts() && fail_on.is_some_and(|min| f.severity >= min))
    {
        exit::FINDINGS
    } else {
        exit::CLEAN
    }
}

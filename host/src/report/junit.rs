//! JUnit XML for CI test views: one test suite per check, one test case per
//! check x resource. A finding is a failure, a suppressed or baseline finding
//! is skipped, a check that found nothing is one passing case, and a check
//! that could not run is an error. Shaped by the common `junit-10.xsd`
//! (Jenkins, GitLab): no `skipped` on `<testsuites>`, `time` on suites and
//! cases; severity and title in the failure message, details in its body.

use super::model::{Report, Status};
use std::collections::BTreeMap;
use std::fmt::Write;

pub fn render(report: &Report) -> String {
    let mut by_check: BTreeMap<&str, Vec<&super::model::Finding>> = BTreeMap::new();
    for f in &report.findings {
        by_check.entry(f.check_id.as_str()).or_default().push(f);
    }
    let mut suites = String::new();
    let (mut tests, mut failures, mut errors, mut seconds) = (0, 0, 0, 0.0);
    for c in &report.checks {
        let findings = by_check.get(c.id.as_str()).cloned().unwrap_or_default();
        let mut cases = String::new();
        let (mut t, mut f_, mut e, mut s) = (0, 0, 0, 0);
        if c.status == Status::Error {
            t += 1;
            e += 1;
            let _ = writeln!(
                cases,
                "    <testcase classname=\"{id}\" name=\"{id}\" time=\"0\"><error message=\"{}\"/></testcase>",
                attr(c.error.as_deref().unwrap_or("failed to run")),
                id = attr(&c.id)
            );
        }
        if findings.is_empty() && c.status != Status::Error {
            t += 1;
            let _ = writeln!(
                cases,
                "    <testcase classname=\"{id}\" name=\"{}\" time=\"0\"/>",
                attr(&c.title),
                id = attr(&c.id)
            );
        }
        for f in findings {
            t += 1;
            let name = attr(&f.resource.display());
            let body = if let Some(sup) = &f.suppressed {
                s += 1;
                format!("<skipped message=\"suppressed: {}\"/>", attr(&sup.reason))
            } else if f.in_baseline {
                s += 1;
                "<skipped message=\"known from the baseline\"/>".to_string()
            } else {
                f_ += 1;
                let mut body = format!(
                    "Severity: {} ({})\nResource: {}\n\n{}",
                    f.severity,
                    f.confidence,
                    f.resource.display(),
                    f.message
                );
                if let Some(r) = &f.raised {
                    let _ = write!(body, "\nRaised from {}: {}", r.from, r.reason);
                }
                if let Some(fix) = &f.remediation {
                    let _ = write!(body, "\n\nFix: {}", fix.summary);
                    if let Some(yaml) = &fix.yaml {
                        let _ = write!(body, "\n{yaml}");
                    }
                }
                format!(
                    "<failure type=\"{}\" message=\"[{}] {}\">{}</failure>",
                    f.severity,
                    f.severity,
                    attr(&f.title),
                    text(&body)
                )
            };
            let _ = writeln!(
                cases,
                "    <testcase classname=\"{}\" name=\"{name}\" time=\"0\">{body}</testcase>",
                attr(&c.id)
            );
        }
        let _ = writeln!(
            suites,
            "  <testsuite name=\"{}\" tests=\"{t}\" failures=\"{f_}\" errors=\"{e}\" skipped=\"{s}\" time=\"{:.3}\">\n{cases}  </testsuite>",
            attr(&c.id),
            c.duration_ms / 1000.0
        );
        tests += t;
        failures += f_;
        errors += e;
        seconds += c.duration_ms / 1000.0;
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"kridik\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{seconds:.3}\">\n{suites}</testsuites>\n"
    )
}

use super::{escape_attr, escape_text as text};

/// Newlines kept as character references: a parser would fold them to spaces.
fn attr(s: &str) -> String {
    escape_attr(s).replace('\n', "&#10;")
}

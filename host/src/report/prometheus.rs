//! Prometheus text exposition (format 0.0.4), for the Pushgateway or a node
//! exporter's textfile collector: open findings by check and severity, the
//! Zero Trust score and its pillars, checks by status, kinds that could not
//! be read, input errors, and each check's run time.

use super::model::{Report, Status};
use std::collections::BTreeMap;
use std::fmt::Write;

/// A label value escaped as the exposition format requires.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn family(out: &mut String, name: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
}

pub fn render(r: &Report) -> String {
    let mut out = String::new();
    family(
        &mut out,
        "kridik_findings",
        "Open findings (not suppressed, not in the baseline) by check and severity.",
    );
    let mut counts: BTreeMap<(&str, String), usize> = BTreeMap::new();
    for f in r.findings.iter().filter(|f| f.counts()) {
        *counts
            .entry((&f.check_id, f.severity.to_string().to_lowercase()))
            .or_default() += 1;
    }
    for ((check, sev), n) in &counts {
        let _ = writeln!(
            out,
            "kridik_findings{{check=\"{}\",severity=\"{sev}\"}} {n}",
            label(check)
        );
    }
    family(
        &mut out,
        "kridik_findings_suppressed",
        "Findings suppressed or known from the baseline.",
    );
    let _ = writeln!(
        out,
        "kridik_findings_suppressed {}",
        r.findings.iter().filter(|f| !f.counts()).count()
    );
    family(&mut out, "kridik_checks", "Checks by status.");
    for (status, name) in [
        (Status::Pass, "pass"),
        (Status::Fail, "fail"),
        (Status::Error, "error"),
        (Status::Skipped, "skipped"),
    ] {
        let n = r.checks.iter().filter(|c| c.status == status).count();
        let _ = writeln!(out, "kridik_checks{{status=\"{name}\"}} {n}");
    }
    family(
        &mut out,
        "kridik_check_duration_seconds",
        "Run time of each check.",
    );
    for c in &r.checks {
        let _ = writeln!(
            out,
            "kridik_check_duration_seconds{{check=\"{}\"}} {}",
            label(&c.id),
            c.duration_ms / 1000.0
        );
    }
    family(&mut out, "kridik_objects", "Objects read.");
    let _ = writeln!(out, "kridik_objects {}", r.summary.objects);
    family(&mut out, "kridik_workloads", "Workloads in the mesh model.");
    let _ = writeln!(out, "kridik_workloads {}", r.summary.workloads);
    family(
        &mut out,
        "kridik_input_errors",
        "Documents or objects that could not be read.",
    );
    let _ = writeln!(out, "kridik_input_errors {}", r.input_errors.len());
    family(
        &mut out,
        "kridik_unavailable_kinds",
        "Kinds that could not be read, by reason (their checks say UNKNOWN).",
    );
    for u in &r.unavailable_kinds {
        let reason = serde_json::to_value(u.reason)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "kridik_unavailable_kinds{{kind=\"{}\",reason=\"{reason}\"}} 1",
            label(&u.kind)
        );
    }
    if !r.clusters.is_empty() {
        family(
            &mut out,
            "kridik_cluster_zero_trust_score",
            "Zero Trust score of each cluster of a multi-cluster scan, 0-100.",
        );
        for c in &r.clusters {
            if let Some(a) = c.assessment.as_ref().filter(|a| a.score.assessed) {
                let _ = writeln!(
                    out,
                    "kridik_cluster_zero_trust_score{{cluster=\"{}\"}} {}",
                    label(&c.context),
                    a.score.score
                );
            }
        }
    }
    if let Some(a) = r.assessment.as_ref().filter(|a| a.score.assessed) {
        family(
            &mut out,
            "kridik_zero_trust_score",
            "Zero Trust score, 0-100.",
        );
        let _ = writeln!(out, "kridik_zero_trust_score {}", a.score.score);
        family(
            &mut out,
            "kridik_zero_trust_confidence",
            "How much of the score rests on evidence, 0-100.",
        );
        let _ = writeln!(out, "kridik_zero_trust_confidence {}", a.score.confidence);
        family(
            &mut out,
            "kridik_pillar_score",
            "Zero Trust score per pillar, 0-100 (assessed pillars only).",
        );
        for p in &a.score.pillars {
            if let Some(s) = p.score {
                let _ = writeln!(
                    out,
                    "kridik_pillar_score{{pillar=\"{}\"}} {s}",
                    label(p.name)
                );
            }
        }
        family(
            &mut out,
            "kridik_attack_paths",
            "Attack paths found to sensitive workloads.",
        );
        let _ = writeln!(out, "kridik_attack_paths {}", a.attack_paths.paths.len());
    }
    out
}

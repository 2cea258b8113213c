//! SARIF 2.1.0, for code-scanning dashboards: one rule per check (help text,
//! level and `security-severity` from its severity), one result per finding
//! with the file and line it came from, or a logical location
//! (kind/namespace/name) for live objects. Suppressed findings stay, with a
//! `suppressions` entry; `partialFingerprints` carries kridik's fingerprint.

use super::model::{Finding, Report};
use crate::vocab::{ObjectRef, Severity};
use serde_json::{json, Value};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low | Severity::Info => "note",
    }
}

/// The 0-10 score GitHub code scanning reads from `properties.security-severity`.
fn security_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "9.5",
        Severity::High => "8.0",
        Severity::Medium => "5.5",
        Severity::Low => "3.0",
        Severity::Info => "1.0",
    }
}

/// A relative URI reference for a path (RFC 3986: spaces and `%` escaped);
/// absolute paths become `file://` URIs.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '%' => out.push_str("%25"),
            '#' => out.push_str("%23"),
            '?' => out.push_str("%3F"),
            '\\' => out.push('/'),
            c => out.push(c),
        }
    }
    if out.starts_with('/') {
        format!("file://{out}")
    } else {
        out.trim_start_matches("./").to_string()
    }
}

fn logical(r: &ObjectRef) -> Value {
    let name = if r.namespace.is_empty() {
        format!("{}/{}", r.kind, r.name)
    } else {
        format!("{}/{}/{}", r.kind, r.namespace, r.name)
    };
    json!({"name": r.name, "fullyQualifiedName": name, "kind": "resource"})
}

fn location(r: &ObjectRef) -> Value {
    let mut loc = json!({"logicalLocations": [logical(r)]});
    if let Some(file) = r
        .file
        .as_deref()
        .filter(|f| *f != "-" && !f.starts_with('<'))
    {
        let mut physical = json!({"artifactLocation": {"uri": uri(file)}});
        if let Some(line) = r.line.filter(|l| *l > 0) {
            physical["region"] = json!({"startLine": line});
        }
        loc["physicalLocation"] = physical;
    }
    loc
}

fn result(f: &Finding, rule_index: Option<usize>, baseline: bool) -> Value {
    let mut text = f.message.clone();
    if let Some(r) = &f.raised {
        text.push_str(&format!(" (raised from {}: {})", r.from, r.reason));
    }
    let mut result = json!({
        "ruleId": f.check_id,
        "level": level(f.severity),
        "message": {"text": text},
        "locations": [location(&f.resource)],
        "partialFingerprints": {"kridik/v1": f.fingerprint},
        "properties": {
            "severity": f.severity,
            "confidence": f.confidence,
            "security-severity": security_severity(f.severity),
            "evidence": f.evidence.iter().map(|e| format!("[{}] {}", e.label, e.detail)).collect::<Vec<_>>(),
        },
    });
    if let Some(i) = rule_index {
        result["ruleIndex"] = json!(i);
    }
    if let Some(fix) = &f.remediation {
        result["properties"]["remediation"] = json!(fix.summary);
        if let Some(yaml) = &fix.yaml {
            result["properties"]["hardenedYaml"] = json!(yaml);
        }
    }
    if let Some(s) = &f.suppressed {
        // A config-file rule is external; the object's own annotation is in source.
        let mut suppression = json!({"status": "accepted", "justification": s.reason});
        match s.source.split_once(":suppressions[") {
            Some((file, _)) => {
                suppression["kind"] = json!("external");
                suppression["location"] =
                    json!({"physicalLocation": {"artifactLocation": {"uri": uri(file)}}});
            }
            None => suppression["kind"] = json!("inSource"),
        }
        result["suppressions"] = json!([suppression]);
    }
    if baseline {
        result["baselineState"] = json!(if f.in_baseline { "unchanged" } else { "new" });
    }
    result
}

pub fn render(report: &Report) -> String {
    let rules: Vec<Value> = report
        .checks
        .iter()
        .filter(|c| c.default_severity.is_some())
        .map(|c| {
            let sev = c.default_severity.unwrap_or(Severity::Medium);
            let description = if c.description.is_empty() {
                c.title.clone()
            } else {
                c.description.clone()
            };
            json!({
                "id": c.id,
                "name": c.id.replace('-', ""),
                "shortDescription": {"text": c.title},
                "fullDescription": {"text": description},
                "help": {
                    "text": format!("{description}\nEvery result carries the fix and hardened YAML in its properties (remediation, hardenedYaml)."),
                    "markdown": format!("**{}**\n\n{description}\n\nSee `kridik checks --format markdown` for the catalog.", c.title),
                },
                "defaultConfiguration": {"level": level(sev)},
                "properties": {
                    "category": c.category,
                    "security-severity": security_severity(sev),
                    "tags": ["security", "istio", c.category.as_str()],
                },
            })
        })
        .collect();
    let index: std::collections::HashMap<&str, usize> = report
        .checks
        .iter()
        .filter(|c| c.default_severity.is_some())
        .enumerate()
        .map(|(i, c)| (c.id.as_str(), i))
        .collect();
    let baseline = report.triage.baseline.is_some();
    let results: Vec<Value> = report
        .findings
        .iter()
        .map(|f| result(f, index.get(f.check_id.as_str()).copied(), baseline))
        .collect();
    let notifications: Vec<Value> = report
        .errored()
        .map(|c| {
            json!({
                "level": "error",
                "message": {"text": format!("{} ({}): {}", c.id, c.plugin, c.error.as_deref().unwrap_or("failed"))},
                "descriptor": {"id": c.id},
            })
        })
        .chain(report.input_errors.iter().map(|e| {
            json!({"level": "error", "message": {"text": e.to_string()}})
        }))
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "kridik",
            "version": report.kridik_version,
            "semanticVersion": report.kridik_version,
            "rules": rules,
        }},
        "invocations": [{
            "executionSuccessful": report.errored().next().is_none() && report.input_errors.is_empty(),
            "toolExecutionNotifications": notifications,
        }],
        "results": results,
        "columnKind": "unicodeCodePoints",
        "properties": {
            "source": report.source.kind,
            "summary": report.summary,
        },
    });
    if let Some(a) = &report.assessment {
        run["properties"]["zeroTrust"] = json!({
            "score": a.score.score,
            "confidence": a.score.confidence,
            "maturity": a.score.maturity,
            "attackPaths": a.attack_paths.paths.iter().map(|p| p.route()).collect::<Vec<_>>(),
        });
    }
    let doc = json!({"$schema": SCHEMA, "version": "2.1.0", "runs": [run]});
    let mut s = serde_json::to_string_pretty(&doc).expect("SARIF serializes");
    s.push('\n');
    s
}

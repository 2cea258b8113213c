//! SARIF 2.1.0, for code-scanning dashboards, shaped for GitHub code scanning
//! (docs.github.com "SARIF support for code scanning"):
//! - one rule per check and severity: GitHub reads `security-severity` on the
//!   rule only, so a CRITICAL result of a MEDIUM check gets the rule
//!   `CHECK-ID/critical` (the check id stays in `properties.checkId`);
//! - every result has a physical location: the file and line it came from
//!   (relative to `%SRCROOT%`), or, for live and stdin objects, a stable
//!   synthetic `Kind/namespace/name.yaml` under `CLUSTER`; plus a logical one;
//! - `partialFingerprints.primaryLocationLineHash` from kridik's fingerprint
//!   (GitHub cannot compute one for a synthetic file);
//! - the fix in the rule's `help.markdown` (GitHub shows it, not `fixes`);
//! - at most 25,000 results (GitHub's limit per run), most severe first, with
//!   a notification saying how many were left out.
//!
//! Suppressed findings stay, with a `suppressions` entry.

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
    let mut name = if r.namespace.is_empty() {
        format!("{}/{}", r.kind, r.name)
    } else {
        format!("{}/{}/{}", r.kind, r.namespace, r.name)
    };
    if let Some(cluster) = &r.cluster {
        name = format!("{cluster}:{name}");
    }
    json!({"name": r.name, "fullyQualifiedName": name, "kind": "resource"})
}

/// GitHub's limit of results per run.
const MAX_RESULTS: usize = 25_000;
/// Base of the relative URIs of input files.
const SRCROOT: &str = "%SRCROOT%";
/// Base of the synthetic URIs of objects that came from no file.
const CLUSTER: &str = "CLUSTER";

fn location(r: &ObjectRef) -> Value {
    let file = r
        .file
        .as_deref()
        .filter(|f| *f != "-" && !f.starts_with('<'));
    let artifact = match file {
        Some(file) if file.starts_with('/') => json!({"uri": uri(file)}),
        Some(file) => json!({"uri": uri(file), "uriBaseId": SRCROOT}),
        None => {
            let ns = if r.namespace.is_empty() {
                "_cluster"
            } else {
                &r.namespace
            };
            json!({"uri": uri(&format!("{}/{ns}/{}.yaml", r.kind, r.name)), "uriBaseId": CLUSTER})
        }
    };
    // A synthetic artifact has no lines of its own.
    let line = r.line.filter(|l| *l > 0 && file.is_some()).unwrap_or(1);
    json!({
        "physicalLocation": {"artifactLocation": artifact, "region": {"startLine": line}},
        "logicalLocations": [logical(r)],
    })
}

/// The rule a result belongs to: the check's own at its default severity,
/// else the check's rule for that severity.
fn rule_id(check_id: &str, severity: Severity, default: Option<Severity>) -> String {
    if default == Some(severity) {
        check_id.to_string()
    } else {
        format!("{check_id}/{}", severity.to_string().to_lowercase())
    }
}

fn result(f: &Finding, rule: &str, rule_index: Option<usize>, baseline: bool) -> Value {
    let mut text = f.message.clone();
    if let Some(r) = &f.raised {
        text.push_str(&format!(" (raised from {}: {})", r.from, r.reason));
    }
    let mut result = json!({
        "ruleId": rule,
        "level": level(f.severity),
        "message": {"text": text},
        "locations": [location(&f.resource)],
        "partialFingerprints": {
            "kridik/v1": f.fingerprint,
            "primaryLocationLineHash": format!("{}:1", f.fingerprint),
        },
        "properties": {
            "checkId": f.check_id,
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
    let checks: Vec<_> = report
        .checks
        .iter()
        .filter(|c| c.default_severity.is_some())
        .collect();
    let default_of = |id: &str| {
        checks
            .iter()
            .find(|c| c.id == id)
            .and_then(|c| c.default_severity)
    };
    // Most severe first (the report's order), so a trim keeps what matters.
    let kept = &report.findings[..report.findings.len().min(MAX_RESULTS)];
    let trimmed = report.findings.len() - kept.len();
    // Every check's own rule, then a rule per other severity a result has.
    let mut rules: Vec<(String, &crate::report::model::CheckRecord, Severity)> = checks
        .iter()
        .map(|c| {
            (
                c.id.clone(),
                *c,
                c.default_severity.unwrap_or(Severity::Medium),
            )
        })
        .collect();
    for f in kept {
        let id = rule_id(&f.check_id, f.severity, default_of(&f.check_id));
        if !rules.iter().any(|(r, _, _)| *r == id) {
            if let Some(c) = checks.iter().find(|c| c.id == f.check_id) {
                rules.push((id, *c, f.severity));
            }
        }
    }
    let index: std::collections::HashMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, (id, _, _))| (id.as_str(), i))
        .collect();
    let rule_docs: Vec<Value> = rules
        .iter()
        .map(|(id, c, sev)| {
            let description = if c.description.is_empty() {
                c.title.clone()
            } else {
                c.description.clone()
            };
            // The fix of this check's first result, as an example of the pattern.
            let fix = kept
                .iter()
                .find(|f| f.check_id == c.id)
                .and_then(|f| f.remediation.as_ref())
                .map(|r| {
                    let yaml = r
                        .yaml
                        .as_deref()
                        .map(|y| format!("\n\n```yaml\n{}\n```", y.trim_end()))
                        .unwrap_or_default();
                    format!("\n\n**Fix** (from this scan): {}{yaml}", r.summary)
                })
                .unwrap_or_default();
            json!({
                "id": id,
                "name": id.replace(['-', '/'], ""),
                "shortDescription": {"text": c.title},
                "fullDescription": {"text": description},
                "help": {
                    "text": format!("{description}\nEvery result carries its own fix and hardened YAML in its properties (remediation, hardenedYaml)."),
                    "markdown": format!("**{}** ({sev})\n\n{description}{fix}\n\nEvery result carries its own fix; the catalog: `kridik checks --format markdown`.", c.title),
                },
                "defaultConfiguration": {"level": level(*sev)},
                "properties": {
                    "checkId": c.id,
                    "category": c.category,
                    "security-severity": security_severity(*sev),
                    "tags": ["security", "istio", c.category.as_str()],
                },
            })
        })
        .collect();
    let baseline = report.triage.baseline.is_some();
    let results: Vec<Value> = kept
        .iter()
        .map(|f| {
            let id = rule_id(&f.check_id, f.severity, default_of(&f.check_id));
            let i = index.get(id.as_str()).copied();
            result(f, &id, i, baseline)
        })
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
        .chain((trimmed > 0).then(|| {
            json!({"level": "warning", "message": {"text": format!(
                "{trimmed} least severe result(s) left out: GitHub code scanning takes at most {MAX_RESULTS} per run (all of them are in --format json)"
            )}})
        }))
        .collect();
    let mut run = json!({
        "tool": {"driver": {
            "name": "kridik",
            "version": report.kridik_version,
            "semanticVersion": report.kridik_version,
            "rules": rule_docs,
        }},
        "originalUriBaseIds": {
            SRCROOT: {"description": {"text": "The directory kridik was run from (input paths are relative to it)"}},
            CLUSTER: {
                "uri": "kridik-cluster:/",
                "description": {"text": "Objects read from a live cluster or stdin, by Kind/namespace/name"},
            },
        },
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

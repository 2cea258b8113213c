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
//! - `helpUri`: a built-in check's section of docs/checks.md, a plugin
//!   check's first reference.
//!
//! Suppressed findings stay, with a `suppressions` entry. The document is
//! built from serde-sarif's types, generated from the SARIF 2.1.0 schema.

use super::model::{CheckRecord, Finding, Report};
use crate::vocab::{ObjectRef, Severity};
use serde_json::{json, Value};
use serde_sarif::sarif::{
    ArtifactLocation, Invocation, Location, LogicalLocation, Message, MultiformatMessageString,
    Notification, PhysicalLocation, PropertyBag, Region, ReportingConfiguration,
    ReportingDescriptor, ReportingDescriptorReference, Result as SarifResult, ResultLevel, Run,
    Sarif, Suppression, Tool, ToolComponent,
};
use std::collections::BTreeMap;

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Where the built-in checks are documented, one section per check id.
const CHECKS_DOC: &str = "https://github.com/kridik/kridik/blob/main/docs/checks.md";

fn level(s: Severity) -> ResultLevel {
    match s {
        Severity::Critical | Severity::High => ResultLevel::Error,
        Severity::Medium => ResultLevel::Warning,
        Severity::Low | Severity::Info => ResultLevel::Note,
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

fn text(s: impl Into<String>) -> Message {
    Message::builder().text(s.into()).build()
}

/// Properties in a SARIF property bag.
fn bag<'a>(pairs: impl IntoIterator<Item = (&'a str, Value)>) -> PropertyBag {
    PropertyBag::builder()
        .additional_properties(
            pairs
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect::<BTreeMap<_, _>>(),
        )
        .build()
}

fn logical(r: &ObjectRef) -> LogicalLocation {
    let mut name = if r.namespace.is_empty() {
        format!("{}/{}", r.kind, r.name)
    } else {
        format!("{}/{}/{}", r.kind, r.namespace, r.name)
    };
    if let Some(cluster) = &r.cluster {
        name = format!("{cluster}:{name}");
    }
    LogicalLocation::builder()
        .name(r.name.clone())
        .fully_qualified_name(name)
        .kind("resource")
        .build()
}

/// GitHub's limit of results per run.
const MAX_RESULTS: usize = 25_000;
/// Base of the relative URIs of input files.
const SRCROOT: &str = "%SRCROOT%";
/// Base of the synthetic URIs of objects that came from no file.
const CLUSTER: &str = "CLUSTER";

fn location(r: &ObjectRef) -> Location {
    let file = r
        .file
        .as_deref()
        .filter(|f| *f != "-" && !f.starts_with('<'));
    let artifact = match file {
        Some(file) if file.starts_with('/') => ArtifactLocation::builder().uri(uri(file)).build(),
        Some(file) => ArtifactLocation::builder()
            .uri(uri(file))
            .uri_base_id(SRCROOT)
            .build(),
        None => {
            let ns = if r.namespace.is_empty() {
                "_cluster"
            } else {
                &r.namespace
            };
            ArtifactLocation::builder()
                .uri(uri(&format!("{}/{ns}/{}.yaml", r.kind, r.name)))
                .uri_base_id(CLUSTER)
                .build()
        }
    };
    // A synthetic artifact has no lines of its own.
    let line = r.line.filter(|l| *l > 0 && file.is_some()).unwrap_or(1);
    Location::builder()
        .physical_location(
            PhysicalLocation::builder()
                .artifact_location(artifact)
                .region(Region::builder().start_line(i64::from(line)).build())
                .build(),
        )
        .logical_locations(vec![logical(r)])
        .build()
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

fn result(f: &Finding, rule: &str, rule_index: Option<usize>, baseline: bool) -> SarifResult {
    let mut message = f.message.clone();
    if let Some(r) = &f.raised {
        message.push_str(&format!(" (raised from {}: {})", r.from, r.reason));
    }
    let mut properties = vec![
        ("checkId", json!(f.check_id)),
        ("severity", json!(f.severity)),
        ("confidence", json!(f.confidence)),
        ("security-severity", json!(security_severity(f.severity))),
        (
            "evidence",
            json!(f
                .evidence
                .iter()
                .map(|e| format!("[{}] {}", e.label, e.detail))
                .collect::<Vec<_>>()),
        ),
    ];
    if let Some(fix) = &f.remediation {
        properties.push(("remediation", json!(fix.summary)));
        if let Some(yaml) = &fix.yaml {
            properties.push(("hardenedYaml", json!(yaml)));
        }
    }
    let suppressions = f.suppressed.as_ref().map(|s| {
        // A config-file rule is external; the object's own annotation is in source.
        let (kind, location) = match s.source.split_once(":suppressions[") {
            Some((file, _)) => (
                "external",
                Some(
                    Location::builder()
                        .physical_location(
                            PhysicalLocation::builder()
                                .artifact_location(
                                    ArtifactLocation::builder().uri(uri(file)).build(),
                                )
                                .build(),
                        )
                        .build(),
                ),
            ),
            None => ("inSource", None),
        };
        vec![Suppression::builder()
            .kind(json!(kind))
            .status(json!("accepted"))
            .justification(s.reason.clone())
            .opt_location(location)
            .build()]
    });
    SarifResult::builder()
        .rule_id(rule)
        .opt_rule_index(rule_index.map(|i| i as i64))
        .level(level(f.severity))
        .message(text(message))
        .locations(vec![location(&f.resource)])
        .partial_fingerprints(BTreeMap::from([
            ("kridik/v1".to_string(), f.fingerprint.clone()),
            (
                "primaryLocationLineHash".to_string(),
                format!("{}:1", f.fingerprint),
            ),
        ]))
        .properties(bag(properties))
        .opt_suppressions(suppressions)
        .opt_baseline_state(
            baseline.then(|| json!(if f.in_baseline { "unchanged" } else { "new" })),
        )
        .build()
}

/// The rule of a check at one severity.
fn rule(id: &str, c: &CheckRecord, sev: Severity, kept: &[Finding]) -> ReportingDescriptor {
    let description = if c.description.is_empty() {
        c.title.clone()
    } else {
        c.description.clone()
    };
    let first = kept.iter().find(|f| f.check_id == c.id);
    // The fix of this check's first result, as an example of the pattern.
    let fix = first
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
    // The built-in and --deep checks each have a docs/checks.md section
    // (GitHub's anchor is the lowercased heading).
    let documented = c.plugin.starts_with(crate::runtime::builtin::PREFIX)
        || c.plugin == crate::assess::deep::PLUGIN;
    let help_uri = if documented {
        Some(format!("{CHECKS_DOC}#{}", c.id.to_lowercase()))
    } else {
        first.and_then(|f| f.references.first().cloned())
    };
    ReportingDescriptor::builder()
        .id(id)
        .name(id.replace(['-', '/'], ""))
        .short_description(MultiformatMessageString::builder().text(c.title.clone()).build())
        .full_description(MultiformatMessageString::builder().text(description.clone()).build())
        .help(
            MultiformatMessageString::builder()
                .text(format!("{description}\nEvery result carries its own fix and hardened YAML in its properties (remediation, hardenedYaml)."))
                .markdown(format!("**{}** ({sev})\n\n{description}{fix}\n\nEvery result carries its own fix; the catalog: `kridik checks --format markdown`.", c.title))
                .build(),
        )
        .opt_help_uri(help_uri)
        .default_configuration(ReportingConfiguration::builder().level(json!(level(sev))).build())
        .properties(
            PropertyBag::builder()
                .tags(vec!["security".into(), "istio".into(), c.category.clone()])
                .additional_properties(BTreeMap::from([
                    ("checkId".to_string(), json!(c.id)),
                    ("category".to_string(), json!(c.category)),
                    ("security-severity".to_string(), json!(security_severity(sev))),
                ]))
                .build(),
        )
        .build()
}

pub fn render(report: &Report) -> String {
    let checks: Vec<&CheckRecord> = report
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
    let mut rules: Vec<(String, &CheckRecord, Severity)> = checks
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
    let baseline = report.triage.baseline.is_some();
    let results: Vec<SarifResult> = kept
        .iter()
        .map(|f| {
            let id = rule_id(&f.check_id, f.severity, default_of(&f.check_id));
            let i = index.get(id.as_str()).copied();
            result(f, &id, i, baseline)
        })
        .collect();
    let notice = |level: &str, message: String| {
        Notification::builder()
            .level(json!(level))
            .message(text(message))
    };
    let notifications: Vec<Notification> = report
        .errored()
        .map(|c| {
            notice(
                "error",
                format!("{} ({}): {}", c.id, c.plugin, c.error.as_deref().unwrap_or("failed")),
            )
            .descriptor(ReportingDescriptorReference::builder().id(c.id.clone()).build())
            .build()
        })
        .chain(
            report
                .input_errors
                .iter()
                .map(|e| notice("error", e.to_string()).build()),
        )
        .chain((trimmed > 0).then(|| {
            notice("warning", format!(
                "{trimmed} least severe result(s) left out: GitHub code scanning takes at most {MAX_RESULTS} per run (all of them are in --format json)"
            ))
            .build()
        }))
        .collect();
    let mut run_properties = vec![
        ("source", json!(report.source.kind)),
        ("summary", json!(report.summary)),
    ];
    if let Some(a) = &report.assessment {
        run_properties.push((
            "zeroTrust",
            json!({
                "score": a.score.score,
                "confidence": a.score.confidence,
                "maturity": a.score.maturity,
                "attackPaths": a.attack_paths.paths.iter().map(|p| p.route()).collect::<Vec<_>>(),
            }),
        ));
    }
    let base = |uri: Option<&str>, description: &str| {
        ArtifactLocation::builder()
            .opt_uri(uri.map(str::to_string))
            .description(text(description))
            .build()
    };
    let run = Run::builder()
        .tool(
            Tool::builder()
                .driver(
                    ToolComponent::builder()
                        .name("kridik")
                        .version(report.kridik_version)
                        .semantic_version(report.kridik_version)
                        .rules(
                            rules
                                .iter()
                                .map(|(id, c, sev)| rule(id, c, *sev, kept))
                                .collect::<Vec<_>>(),
                        )
                        .build(),
                )
                .build(),
        )
        .original_uri_base_ids(BTreeMap::from([
            (
                SRCROOT.to_string(),
                base(
                    None,
                    "The directory kridik was run from (input paths are relative to it)",
                ),
            ),
            (
                CLUSTER.to_string(),
                base(
                    Some("kridik-cluster:/"),
                    "Objects read from a live cluster or stdin, by Kind/namespace/name",
                ),
            ),
        ]))
        .invocations(vec![Invocation::builder()
            .execution_successful(
                report.errored().next().is_none() && report.input_errors.is_empty(),
            )
            .tool_execution_notifications(notifications)
            .build()])
        .results(results)
        .column_kind(json!("unicodeCodePoints"))
        .properties(bag(run_properties))
        .build();
    let doc = Sarif::builder()
        .schema(SCHEMA)
        .version(json!("2.1.0"))
        .runs(vec![run])
        .build();
    let mut s = serde_json::to_string_pretty(&doc).expect("SARIF serializes");
    s.push('\n');
    s
}

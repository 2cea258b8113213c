//! The report: what every output format renders (schema in docs/report-format.md).

use crate::vocab::{Confidence, ObjectRef, Severity};
use serde::Serialize;

pub const SCHEMA_VERSION: &str = "1.1";

#[derive(Clone, Debug, Serialize)]
pub struct Evidence {
    pub label: Confidence,
    pub source: Option<ObjectRef>,
    pub detail: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Remediation {
    pub summary: String,
    pub yaml: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Finding {
    pub check_id: String,
    pub severity: Severity,
    pub confidence: Confidence,
    pub title: String,
    pub message: String,
    pub resource: ObjectRef,
    pub evidence: Vec<Evidence>,
    pub remediation: Option<Remediation>,
    pub references: Vec<String>,
    /// Stable across files, lines and wording: check, resource, title.
    pub fingerprint: String,
    /// Set when a suppression (config rule or annotation) covers the finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<Suppression>,
    /// Known from `--baseline`: reported, but not new.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub in_baseline: bool,
    /// Set when the assessment raised the severity (the finding is on an attack path).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub raised: Option<Raised>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Raised {
    pub from: Severity,
    pub reason: String,
}

impl Finding {
    /// Whether the finding still needs attention (and counts for the exit code).
    pub fn counts(&self) -> bool {
        self.suppressed.is_none() && !self.in_baseline
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Suppression {
    pub reason: String,
    /// `FILE:suppressions[i]`, or the annotated object.
    pub source: String,
    pub expires: Option<String>,
}

/// What triage did: suppressions that expired or matched nothing, the baseline.
#[derive(Clone, Debug, Default, Serialize)]
pub struct TriageInfo {
    pub config: Option<String>,
    pub suppressed: usize,
    pub expired: Vec<String>,
    pub unused: Vec<String>,
    pub baseline: Option<BaselineInfo>,
}

#[derive(Clone, Debug, Serialize)]
pub struct BaselineInfo {
    pub file: String,
    /// Findings the baseline already had.
    pub known: usize,
    /// Findings the baseline did not have: the ones that fail the run.
    pub new: usize,
    /// Baseline findings no longer reported.
    pub fixed: usize,
}

#[derive(Clone, Debug, Serialize, serde::Deserialize)]
pub struct CheckInfo {
    pub id: String,
    pub title: String,
    pub description: String,
    pub default_severity: Severity,
    pub category: String,
    pub kinds: Vec<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pass,
    Fail,
    Error,
    Skipped,
}

#[derive(Clone, Debug, Serialize)]
pub struct CheckRecord {
    pub id: String,
    pub title: String,
    /// What the check looks for and why it matters (empty when it did not load).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_severity: Option<Severity>,
    pub category: String,
    /// The component the check came from.
    pub plugin: String,
    pub status: Status,
    pub duration_ms: f64,
    pub findings: usize,
    pub error: Option<String>,
    /// Captured guest stdout and stderr (truncated), when there was any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stdout: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stderr: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub findings: usize,
    pub by_severity: std::collections::BTreeMap<Severity, usize>,
    pub checks_run: usize,
    pub checks_failed: usize,
    pub checks_errored: usize,
    pub objects: usize,
    pub workloads: usize,
    pub input_errors: usize,
}

impl Summary {
    /// Counts the findings that still need attention (see [`Finding::counts`]).
    pub fn recount(&mut self, findings: &[Finding]) {
        self.findings = findings.iter().filter(|f| f.counts()).count();
        self.by_severity.clear();
        for f in findings.iter().filter(|f| f.counts()) {
            *self.by_severity.entry(f.severity).or_default() += 1;
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct SourceInfo {
    /// `live` or `offline`.
    pub kind: &'static str,
    pub context: Option<String>,
    pub inputs: Vec<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub schema_version: &'static str,
    pub kridik_version: &'static str,
    pub source: SourceInfo,
    pub summary: Summary,
    pub findings: Vec<Finding>,
    pub checks: Vec<CheckRecord>,
    pub input_errors: Vec<crate::gather::InputError>,
    pub unavailable_kinds: Vec<crate::gather::Unavailable>,
    pub model_problems: Vec<String>,
    pub triage: TriageInfo,
    /// What could not be assessed, and how to close each gap.
    pub evidence_gaps: Vec<EvidenceGap>,
    /// Zero Trust score, attack paths and remediation plan.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment: Option<crate::assess::Assessment>,
    /// Result hooks that ran after the scan (they see the report without this).
    pub hooks: Vec<HookRecord>,
    /// Several clusters in one run (`--context a --context b`): each one's
    /// summary, score, attack paths and plan; findings name their cluster.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub clusters: Vec<ClusterResult>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ClusterResult {
    /// The kubeconfig context.
    pub context: String,
    /// Why the cluster could not be scanned (then nothing else is set).
    pub error: Option<String>,
    pub summary: Option<Summary>,
    pub assessment: Option<crate::assess::Assessment>,
}

/// Report order: most severe first, then by check and resource. Applied again
/// after anything changes a severity (attack paths raise some).
pub fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.check_id.cmp(&b.check_id))
            .then_with(|| a.resource.cmp(&b.resource))
    });
}

impl Report {
    /// Checks (and components) that could not run.
    pub fn errored(&self) -> impl Iterator<Item = &CheckRecord> {
        self.checks.iter().filter(|c| c.status == Status::Error)
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct EvidenceGap {
    pub what: String,
    pub checks_affected: String,
    /// The command that would close the gap.
    pub command: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct HookRecord {
    pub name: String,
    /// `pass` or `error`.
    pub status: Status,
    pub duration_ms: f64,
    pub error: Option<String>,
    /// HTTP requests refused because their origin was not granted.
    pub denied: Vec<String>,
    /// Capabilities asked for but not granted.
    pub notes: Vec<String>,
    pub stdout: Option<String>,
    pub stderr: Option<String>,
}

//! Triage: what a team has decided about findings. Suppressions (config rules
//! and `kridik.io/suppress` annotations) and a baseline mark findings; marked
//! findings stay in the JSON output but no longer count for the exit code.

pub mod baseline;
pub mod config;

pub use baseline::fingerprint;

use crate::gather::Snapshot;
use crate::report::model::{BaselineInfo, Report, Suppression, TriageInfo};
use std::collections::{BTreeSet, HashMap};
use std::path::PathBuf;

pub const ANNOTATION: &str = "kridik.io/suppress";

#[derive(Clone, Debug, Default)]
pub struct Options {
    pub config: Option<PathBuf>,
    pub baseline: Option<PathBuf>,
    pub report_unused: bool,
}

/// Marks the report's findings and recounts its summary.
pub fn apply(
    report: &mut Report,
    snapshot: &Snapshot,
    cfg: &config::Config,
    baseline: Option<(&PathBuf, std::collections::BTreeMap<String, String>)>,
    report_unused: bool,
) {
    let today = crate::clock::today();
    let (active, expired): (Vec<&config::Rule>, Vec<&config::Rule>) = cfg
        .rules
        .iter()
        .partition(|r| r.expires.is_none_or(|d| d >= today));
    let annotations = annotated(snapshot);
    let mut used: BTreeSet<usize> = BTreeSet::new();
    for f in &mut report.findings {
        let resource = if f.resource.namespace.is_empty() {
            format!("{}/{}", f.resource.kind, f.resource.name)
        } else {
            format!(
                "{}/{}/{}",
                f.resource.kind, f.resource.namespace, f.resource.name
            )
        };
        let by_rule = active.iter().enumerate().find(|(_, r)| {
            (r.check == "*" || r.check == f.check_id)
                && r.resource
                    .as_deref()
                    .is_none_or(|p| config::glob(p, &resource))
        });
        if let Some((i, r)) = by_rule {
            used.insert(i);
            f.suppressed = Some(Suppression {
                reason: r.reason.clone(),
                source: r.origin.clone(),
                expires: r.expires.map(crate::clock::date),
            });
            continue;
        }
        let key = (
            f.resource.kind.clone(),
            f.resource.namespace.clone(),
            f.resource.name.clone(),
        );
        if let Some(reason) = annotations.get(&key).and_then(|list| {
            list.iter()
                .find(|(id, _)| id == &f.check_id || id == "*")
                .map(|(_, why)| why.clone())
        }) {
            f.suppressed = Some(Suppression {
                reason,
                source: format!("annotation {ANNOTATION} on {}", f.resource.display()),
                expires: None,
            });
        }
    }
    let mut info = TriageInfo {
        config: cfg.path.as_ref().map(|p| p.display().to_string()),
        expired: expired
            .iter()
            .map(|r| {
                format!(
                    "{} ({}) expired on {}: {}",
                    r.origin,
                    r.check,
                    crate::clock::date(r.expires.unwrap_or_default()),
                    r.reason
                )
            })
            .collect(),
        unused: if report_unused {
            active
                .iter()
                .enumerate()
                .filter(|(i, _)| !used.contains(i))
                .map(|(_, r)| format!("{} ({}) matched no finding", r.origin, r.check))
                .collect()
        } else {
            Vec::new()
        },
        ..TriageInfo::default()
    };
    if let Some((path, known)) = baseline {
        let mut seen = BTreeSet::new();
        for f in report
            .findings
            .iter_mut()
            .filter(|f| f.suppressed.is_none())
        {
            if known.contains_key(&f.fingerprint) {
                f.in_baseline = true;
                seen.insert(f.fingerprint.clone());
            }
        }
        let counted = |f: &&crate::report::model::Finding| f.suppressed.is_none();
        info.baseline = Some(BaselineInfo {
            file: path.display().to_string(),
            known: report
                .findings
                .iter()
                .filter(counted)
                .filter(|f| f.in_baseline)
                .count(),
            new: report
                .findings
                .iter()
                .filter(counted)
                .filter(|f| !f.in_baseline)
                .count(),
            fixed: known.keys().filter(|k| !seen.contains(*k)).count(),
        });
    }
    info.suppressed = report
        .findings
        .iter()
        .filter(|f| f.suppressed.is_some())
        .count();
    report.triage = info;
    // The summary counts what still needs attention.
    report.summary.recount(&report.findings);
}

/// `kridik.io/suppress: "CHECK-ID: reason"` (several separated by `;` or new
/// lines) on snapshot objects, by (kind, namespace, name).
fn annotated(snapshot: &Snapshot) -> HashMap<(String, String, String), Vec<(String, String)>> {
    let mut out: HashMap<_, Vec<(String, String)>> = HashMap::new();
    for o in snapshot.all() {
        let Some(value) = o.annotation(ANNOTATION) else {
            continue;
        };
        for entry in value
            .split([';', '\n'])
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            if let Some((id, why)) = entry.split_once(':') {
                let why = why.trim();
                if !why.is_empty() {
                    out.entry((o.kind.clone(), o.namespace.clone(), o.name.clone()))
                        .or_default()
                        .push((id.trim().to_string(), why.to_string()));
                }
            }
        }
    }
    out
}

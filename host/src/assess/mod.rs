//! Assess: from the model and the findings to what a security team acts on,
//! the Zero Trust score, the attack paths to sensitive workloads, and a
//! remediation plan. Runs after triage, so suppressed findings are accepted
//! risk and baseline findings are known work.

pub mod authz;
pub mod deep;
pub mod paths;
pub mod plan;
pub mod score;

use crate::model::ScanData;
use crate::report::model::{Raised, Report};
use serde::Serialize;
use std::collections::HashMap;

/// Attack paths listed in full; the rest are counted.
const MAX_PATHS: usize = 25;

#[derive(Clone, Debug, Serialize)]
pub struct Assessment {
    pub score: score::Score,
    pub attack_paths: paths::AttackPaths,
    pub plan: plan::Plan,
}

/// Computes the assessment and raises the severity of the open findings on
/// an attack path by one level, saying which path.
pub fn run(
    report: &mut Report,
    data: &ScanData,
    sensitive: &[String],
    inputs: &str,
    coverage: &score::Coverage,
    observed: Option<&deep::Observed>,
) -> Assessment {
    let policies = authz::Policies::parse(&data.snapshot, &data.model);
    let protocols = paths::protocols(&data.snapshot, &data.model);
    let mut attack_paths = paths::find(&data.model, &policies, sensitive, &protocols);
    // Every object on a path found (listed or not), with the first path's route.
    let mut on_path: HashMap<(&str, &str, &str), String> = HashMap::new();
    for p in &attack_paths.paths {
        for h in &p.hops {
            for r in &h.objects {
                on_path.entry(r.key()).or_insert_with(|| p.route());
            }
        }
    }
    for f in report.findings.iter_mut() {
        let Some(route) = on_path.get(&f.resource.key()) else {
            continue;
        };
        let from = f.severity;
        if from == from.raised() {
            continue;
        }
        f.severity = from.raised();
        f.raised = Some(Raised {
            from,
            reason: format!("on the attack path {route}"),
        });
    }
    crate::report::model::sort_findings(&mut report.findings);
    report.summary.recount(&report.findings);
    let score = score::compute(&score::Inputs {
        model: &data.model,
        snapshot: &data.snapshot,
        policies: &policies,
        findings: &report.findings,
        checks: &report.checks,
        coverage,
        observed,
    });
    let plan = plan::build(
        &data.model,
        &protocols,
        &policies,
        &report.findings,
        &report.checks,
        &on_path,
        inputs,
    );
    drop(on_path);
    attack_paths.omitted = attack_paths.paths.len().saturating_sub(MAX_PATHS);
    attack_paths.paths.truncate(MAX_PATHS);
    Assessment {
        score,
        attack_paths,
        plan,
    }
}

//! Several clusters in one run (`scan --context a --context b`,
//! `--all-contexts`): each context is scanned as on its own, a few at once,
//! and the reports are merged into one whose findings name their cluster and
//! whose `clusters[]` holds each cluster's score, attack paths and plan. A
//! cluster that cannot be scanned is an input error of the merged report; the
//! others are still reported.

use crate::report::model::{ClusterResult, Finding, Report, SourceInfo, Status, Summary};
use crate::scan::{self, Options};
use std::collections::BTreeMap;

/// Clusters scanned at once: each scan already uses every core for its checks.
const PARALLEL: usize = 4;

/// The contexts of the kubeconfig `--all-contexts` means.
pub fn all_contexts(kubeconfig: Option<&std::path::Path>) -> anyhow::Result<Vec<String>> {
    use anyhow::Context as _;
    let kc = match kubeconfig {
        Some(p) => kube::config::Kubeconfig::read_from(p)
            .with_context(|| format!("cannot read kubeconfig {}", p.display()))?,
        None => kube::config::Kubeconfig::read()
            .context("cannot read the kubeconfig (set KUBECONFIG or --kubeconfig)")?,
    };
    let names: Vec<String> = kc.contexts.into_iter().map(|c| c.name).collect();
    anyhow::ensure!(
        !names.is_empty(),
        "--all-contexts: the kubeconfig has no contexts"
    );
    Ok(names)
}

/// Scans every context with the same options and merges the reports.
pub fn scan(opts: &Options, contexts: &[String]) -> Report {
    let order: Vec<usize> = (0..contexts.len()).collect();
    let mut results = crate::scan::work_queue(PARALLEL, &order, |i| {
        let mut one = opts.clone();
        one.live.context = Some(contexts[i].clone());
        // One progress line cannot speak for several scans.
        one.progress = None;
        scan::scan(&one)
    });
    results.sort_by_key(|(i, _)| *i);
    merge(
        contexts
            .iter()
            .cloned()
            .zip(results.into_iter().map(|(_, r)| r))
            .collect(),
    )
}

/// One report from each cluster's (or the reason it could not be scanned).
pub fn merge(results: Vec<(String, anyhow::Result<Report>)>) -> Report {
    let mut findings: Vec<Finding> = Vec::new();
    let mut checks: BTreeMap<String, crate::report::model::CheckRecord> = BTreeMap::new();
    let mut input_errors = Vec::new();
    let mut unavailable = Vec::new();
    let mut problems = Vec::new();
    let mut gaps = Vec::new();
    let mut hooks = Vec::new();
    let mut triage = crate::report::model::TriageInfo::default();
    let mut clusters = Vec::new();
    let mut summary = Summary::default();
    for (context, result) in results {
        let r = match result {
            Ok(r) => r,
            Err(e) => {
                input_errors.push(crate::gather::InputError {
                    file: format!("context {context}"),
                    line: None,
                    message: format!("{e:#}"),
                });
                clusters.push(ClusterResult {
                    context,
                    error: Some(format!("{e:#}")),
                    summary: None,
                    assessment: None,
                });
                continue;
            }
        };
        let tag = |s: &str| format!("[{context}] {s}");
        for mut f in r.findings {
            f.resource.cluster = Some(context.clone());
            for e in &mut f.evidence {
                if let Some(s) = &mut e.source {
                    s.cluster = Some(context.clone());
                }
            }
            f.fingerprint = crate::triage::fingerprint(&f.check_id, &f.resource, &f.title);
            findings.push(f);
        }
        for c in r.checks {
            match checks.get_mut(&c.id) {
                None => {
                    let mut c = c;
                    c.error = c.error.map(|e| tag(&e));
                    checks.insert(c.id.clone(), c);
                }
                Some(seen) => {
                    seen.findings += c.findings;
                    seen.duration_ms += c.duration_ms;
                    // The worst outcome across clusters: error, fail, pass, skipped.
                    let rank = |s: Status| match s {
                        Status::Error => 3,
                        Status::Fail => 2,
                        Status::Pass => 1,
                        Status::Skipped => 0,
                    };
                    if rank(c.status) > rank(seen.status) {
                        seen.status = c.status;
                    }
                    if let Some(e) = c.error {
                        seen.error = Some(match seen.error.take() {
                            Some(before) => format!("{before}; {}", tag(&e)),
                            None => tag(&e),
                        });
                    }
                }
            }
        }
        input_errors.extend(r.input_errors.into_iter().map(|mut e| {
            e.file = format!("[{context}] {}", e.file);
            e
        }));
        unavailable.extend(r.unavailable_kinds.into_iter().map(|mut u| {
            u.detail = tag(&u.detail);
            u
        }));
        problems.extend(r.model_problems.iter().map(|p| tag(p)));
        gaps.extend(r.evidence_gaps.into_iter().map(|mut g| {
            g.what = tag(&g.what);
            g
        }));
        hooks.extend(r.hooks.into_iter().map(|mut h| {
            h.name = tag(&h.name);
            h
        }));
        triage.suppressed += r.triage.suppressed;
        triage
            .expired
            .extend(r.triage.expired.iter().map(|e| tag(e)));
        triage.unused.extend(r.triage.unused.iter().map(|e| tag(e)));
        triage.config = triage.config.or(r.triage.config);
        summary.objects += r.summary.objects;
        summary.workloads += r.summary.workloads;
        clusters.push(ClusterResult {
            context,
            error: None,
            summary: Some(r.summary),
            assessment: r.assessment,
        });
    }
    crate::report::model::sort_findings(&mut findings);
    let checks: Vec<_> = checks.into_values().collect();
    summary.recount(&findings);
    summary.checks_run = checks
        .iter()
        .filter(|c| c.status != Status::Skipped)
        .count();
    summary.checks_failed = checks.iter().filter(|c| c.status == Status::Fail).count();
    summary.checks_errored = checks.iter().filter(|c| c.status == Status::Error).count();
    summary.input_errors = input_errors.len();
    Report {
        schema_version: crate::report::model::SCHEMA_VERSION,
        kridik_version: env!("CARGO_PKG_VERSION"),
        source: SourceInfo {
            kind: "live",
            context: None,
            inputs: clusters.iter().map(|c| c.context.clone()).collect(),
        },
        summary,
        findings,
        checks,
        input_errors,
        unavailable_kinds: unavailable,
        model_problems: problems,
        triage,
        evidence_gaps: gaps,
        assessment: None,
        hooks,
        clusters,
    }
}

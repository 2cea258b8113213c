//! Kubernetes Policy WG reports, so Policy Reporter and other tools show
//! kridik beside Kyverno and Kubewarden: a `PolicyReport` per namespace and a
//! `ClusterPolicyReport` for cluster-scoped objects (`wgpolicyk8s.io/v1alpha2`),
//! or the same as `Report`/`ClusterReport` of `openreports.io/v1alpha1`, which
//! Kyverno and Policy Reporter are moving to. One result per finding (policy =
//! check id, rule = title, result `fail`, or `skip` when suppressed or known
//! from the baseline), and an `error` result per check that could not run.
//! A report holds at most [`MAX_RESULTS`] results (objects stay well under the
//! API server's ~1.5 MiB); a larger namespace gets numbered reports.

use super::model::{Finding, Report};
use crate::vocab::Severity;
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Results per report object.
pub const MAX_RESULTS: usize = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Api {
    /// `wgpolicyk8s.io/v1alpha2` PolicyReport / ClusterPolicyReport.
    PolicyWg,
    /// `openreports.io/v1alpha1` Report / ClusterReport.
    OpenReports,
}

impl Api {
    /// The group, version and (namespaced, cluster) kinds and plurals.
    pub fn resources(self) -> [(&'static str, &'static str, &'static str, &'static str, bool); 2] {
        match self {
            Api::PolicyWg => [
                (
                    "wgpolicyk8s.io",
                    "v1alpha2",
                    "PolicyReport",
                    "policyreports",
                    true,
                ),
                (
                    "wgpolicyk8s.io",
                    "v1alpha2",
                    "ClusterPolicyReport",
                    "clusterpolicyreports",
                    false,
                ),
            ],
            Api::OpenReports => [
                ("openreports.io", "v1alpha1", "Report", "reports", true),
                (
                    "openreports.io",
                    "v1alpha1",
                    "ClusterReport",
                    "clusterreports",
                    false,
                ),
            ],
        }
    }

    fn api_version(self) -> &'static str {
        match self {
            Api::PolicyWg => "wgpolicyk8s.io/v1alpha2",
            Api::OpenReports => "openreports.io/v1alpha1",
        }
    }

    fn kind(self, cluster: bool) -> &'static str {
        match (self, cluster) {
            (Api::PolicyWg, false) => "PolicyReport",
            (Api::PolicyWg, true) => "ClusterPolicyReport",
            (Api::OpenReports, false) => "Report",
            (Api::OpenReports, true) => "ClusterReport",
        }
    }
}

fn severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Info => "info",
    }
}

fn result(f: &Finding, now: i64) -> Value {
    let outcome = if f.counts() { "fail" } else { "skip" };
    let mut properties = BTreeMap::from([
        ("confidence".to_string(), f.confidence.to_string()),
        ("fingerprint".to_string(), f.fingerprint.clone()),
    ]);
    if let Some(r) = &f.remediation {
        properties.insert("fix".into(), r.summary.clone());
    }
    if let Some(s) = &f.suppressed {
        properties.insert("suppressed".into(), s.reason.clone());
    }
    if let Some(r) = &f.raised {
        properties.insert("raised".into(), format!("from {}: {}", r.from, r.reason));
    }
    let r = &f.resource;
    let mut resource = json!({"apiVersion": r.api_version, "kind": r.kind, "name": r.name});
    if !r.namespace.is_empty() {
        resource["namespace"] = json!(r.namespace);
    }
    json!({
        "source": "kridik",
        "policy": f.check_id,
        "rule": f.title,
        "result": outcome,
        "severity": severity(f.severity),
        "scored": true,
        "message": f.message,
        "timestamp": {"seconds": now, "nanos": 0},
        "resources": [resource],
        "properties": properties,
    })
}

fn report(api: Api, namespace: Option<&str>, part: usize, results: &[Value]) -> Value {
    let count = |r: &str| results.iter().filter(|x| x["result"] == r).count();
    let name = match (namespace, part) {
        (_, 0) => "kridik".to_string(),
        (_, n) => format!("kridik-{n}"),
    };
    let mut metadata = json!({
        "name": name,
        "labels": {"app.kubernetes.io/managed-by": "kridik"},
    });
    if let Some(ns) = namespace {
        metadata["namespace"] = json!(ns);
    }
    json!({
        "apiVersion": api.api_version(),
        "kind": api.kind(namespace.is_none()),
        "metadata": metadata,
        "summary": {
            "pass": count("pass"),
            "fail": count("fail"),
            "warn": count("warn"),
            "error": count("error"),
            "skip": count("skip"),
        },
        "results": results,
    })
}

/// The report objects, one YAML document each.
pub fn render(r: &Report, api: Api) -> String {
    documents(r, api)
        .iter()
        .map(|d| serde_norway::to_string(d).expect("a report serializes"))
        .collect::<Vec<_>>()
        .join("---\n")
}

/// The report objects (what `render` prints and `--write-reports` applies).
pub fn documents(r: &Report, api: Api) -> Vec<Value> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default();
    // Namespace ("" = cluster scope) -> results.
    let mut by_ns: BTreeMap<&str, Vec<Value>> = BTreeMap::new();
    for f in &r.findings {
        // A namespace's own findings belong in that namespace's report.
        let res = &f.resource;
        let ns = if res.namespace.is_empty() && res.kind == "Namespace" {
            res.name.as_str()
        } else {
            res.namespace.as_str()
        };
        by_ns.entry(ns).or_default().push(result(f, now));
    }
    for c in r.errored() {
        by_ns.entry("").or_default().push(json!({
            "source": "kridik",
            "policy": c.id,
            "rule": c.title,
            "result": "error",
            "message": c.error.as_deref().unwrap_or("failed to run"),
            "timestamp": {"seconds": now, "nanos": 0},
        }));
    }
    let mut docs = Vec::new();
    for (ns, results) in &by_ns {
        let namespace = (!ns.is_empty()).then_some(*ns);
        for (part, chunk) in results.chunks(MAX_RESULTS).enumerate() {
            docs.push(report(api, namespace, part, chunk));
        }
    }
    docs
}

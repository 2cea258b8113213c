//! Where AuthorizationPolicies, RequestAuthentications, PeerAuthentications
//! and Sidecars apply: mesh (root namespace, no selector), namespace, selected
//! workloads, or the targets of `targetRefs`.

use crate::gather::Object;
use crate::vocab::ObjectRef;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PolicyScope {
    Mesh,
    Namespace,
    Workload,
    TargetRefs,
}

#[derive(Clone, Debug, Serialize)]
pub struct Policy {
    pub target: ObjectRef,
    pub scope: PolicyScope,
    pub workloads: Vec<String>,
    pub matches_nothing: bool,
    pub reason: String,
}

/// What a workload exposes to policy matching.
pub struct Candidate<'a> {
    pub id: &'a str,
    pub namespace: &'a str,
    pub labels: &'a BTreeMap<String, String>,
    /// Services selecting the workload, by name.
    pub services: Vec<&'a str>,
}

/// The label selector of a policy: `selector.matchLabels`, or Sidecar's `workloadSelector.labels`.
fn selector(o: &Object) -> BTreeMap<String, String> {
    let spec = o.body.get("spec");
    let labels = spec
        .and_then(|s| s.pointer("/selector/matchLabels"))
        .or_else(|| spec.and_then(|s| s.pointer("/workloadSelector/labels")));
    labels
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

fn target_refs(o: &Object) -> Vec<(String, String)> {
    let spec = o.body.get("spec");
    let mut refs: Vec<&Value> = spec
        .and_then(|s| s.get("targetRefs"))
        .and_then(Value::as_array)
        .map(|a| a.iter().collect())
        .unwrap_or_default();
    refs.extend(spec.and_then(|s| s.get("targetRef")));
    refs.iter()
        .map(|r| {
            let text = |k: &str| {
                r.get(k)
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            (text("kind"), text("name"))
        })
        .collect()
}

/// Workloads indexed by namespace, so resolving a policy looks at its namespace only.
pub struct Workloads<'a> {
    all: &'a [Candidate<'a>],
    by_ns: HashMap<&'a str, Vec<&'a Candidate<'a>>>,
}

impl<'a> Workloads<'a> {
    pub fn new(all: &'a [Candidate<'a>]) -> Self {
        let mut by_ns: HashMap<&str, Vec<&Candidate>> = HashMap::new();
        for c in all {
            by_ns.entry(c.namespace).or_default().push(c);
        }
        Workloads { all, by_ns }
    }

    fn in_namespace(&self, ns: &str) -> impl Iterator<Item = &&'a Candidate<'a>> {
        self.by_ns.get(ns).into_iter().flatten()
    }
}

pub fn resolve<'a>(o: &Object, root_ns: &str, workloads: &Workloads<'a>) -> Policy {
    let refs = target_refs(o);
    let sel = selector(o);
    let (scope, matched, reason): (PolicyScope, Vec<&Candidate>, String) = if !refs.is_empty() {
        let matched = workloads
            .in_namespace(&o.namespace)
            .copied()
            .filter(|w| {
                refs.iter().any(|(kind, name)| match kind.as_str() {
                    "Gateway" => {
                        w.labels.get("gateway.networking.k8s.io/gateway-name") == Some(name)
                    }
                    "Service" => w.services.contains(&name.as_str()),
                    _ => false,
                })
            })
            .collect();
        let names: Vec<String> = refs.iter().map(|(k, n)| format!("{k}/{n}")).collect();
        (
            PolicyScope::TargetRefs,
            matched,
            format!("targetRefs {} (selector ignored)", names.join(", ")),
        )
    } else if !sel.is_empty() {
        // An AuthorizationPolicy or RequestAuthentication selector in the root
        // namespace also matches workloads in every other namespace.
        let everywhere = o.namespace == root_ns
            && matches!(
                o.kind.as_str(),
                "AuthorizationPolicy" | "RequestAuthentication"
            );
        let matches = |w: &&Candidate| super::selector::matches(&sel, w.labels);
        let matched = if everywhere {
            workloads.all.iter().filter(matches).collect()
        } else {
            workloads
                .in_namespace(&o.namespace)
                .copied()
                .filter(matches)
                .collect()
        };
        let text: Vec<String> = sel.iter().map(|(k, v)| format!("{k}={v}")).collect();
        (
            PolicyScope::Workload,
            matched,
            format!("selector {} in namespace {}", text.join(","), o.namespace),
        )
    } else if o.namespace == root_ns {
        (
            PolicyScope::Mesh,
            workloads.all.iter().collect(),
            format!("no selector in the root namespace {root_ns}: mesh-wide"),
        )
    } else {
        (
            PolicyScope::Namespace,
            workloads.in_namespace(&o.namespace).copied().collect(),
            format!("no selector: all of namespace {}", o.namespace),
        )
    };
    let narrow = matches!(scope, PolicyScope::Workload | PolicyScope::TargetRefs);
    Policy {
        target: ObjectRef::of(o),
        scope,
        matches_nothing: narrow && matched.is_empty(),
        workloads: matched.iter().map(|w| w.id.to_string()).collect(),
        reason,
    }
}

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

/// Which proxy enforces a policy for the workloads it lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Enforcer {
    /// The workload's own sidecar or ztunnel, or a gateway's own proxy.
    Proxy,
    /// A waypoint (policies attached by targetRefs to a Service, ServiceEntry,
    /// waypoint Gateway or the waypoint GatewayClass): only traffic that goes
    /// through the waypoint meets it.
    Waypoint,
}

#[derive(Clone, Debug, Serialize)]
pub struct Policy {
    pub target: ObjectRef,
    pub scope: PolicyScope,
    pub enforcer: Enforcer,
    pub workloads: Vec<String>,
    pub matches_nothing: bool,
    pub reason: String,
}

/// What a workload exposes to policy matching.
pub struct Candidate<'a> {
    pub id: &'a str,
    pub namespace: &'a str,
    pub labels: &'a BTreeMap<String, String>,
    /// Services selecting the workload, by name, with the waypoint each is bound to.
    pub services: Vec<(&'a str, Option<&'a str>)>,
    /// The waypoint bound to the workload's own addresses (`workload`/`all` traffic).
    pub waypoint: Option<&'a str>,
    pub ambient: bool,
}

impl Candidate<'_> {
    /// A waypoint's own proxy: deployed by Istio's mesh controller, or
    /// labelled with the name of a waypoint Gateway.
    fn is_waypoint(&self, waypoints: &super::waypoints::Waypoints) -> bool {
        self.labels
            .get(super::waypoints::MANAGED)
            .map(String::as_str)
            == Some("istio.io-mesh-controller")
            || self
                .labels
                .get(super::ingress::GATEWAY_NAME)
                .is_some_and(|g| waypoints.contains(&format!("{}/{g}", self.namespace)))
    }

    /// Bound to the waypoint `key` through a Service or its own label.
    fn behind(&self, key: Option<&str>) -> bool {
        self.ambient
            && (self
                .services
                .iter()
                .any(|(_, w)| w.is_some() && (key.is_none() || *w == key))
                || (self.waypoint.is_some() && (key.is_none() || self.waypoint == key)))
    }
}

/// What targetRefs resolution needs beyond the workloads.
pub struct Attachments<'w> {
    /// The waypoint Gateways.
    pub waypoints: &'w super::waypoints::Waypoints,
    /// ServiceEntries bound to a waypoint, as `namespace/name`.
    pub bound_service_entries: std::collections::HashSet<String>,
    /// Every Gateway API Gateway, as `namespace/name`: Istio deploys their pods
    /// itself, so manifests rarely hold them.
    pub k8s_gateways: std::collections::HashSet<String>,
}

/// The label selector of a policy: `selector.matchLabels`, or Sidecar's `workloadSelector.labels`.
fn selector(o: &Object) -> BTreeMap<String, String> {
    let spec: Value = o.spec();
    let labels = spec
        .pointer("/selector/matchLabels")
        .or_else(|| spec.pointer("/workloadSelector/labels"));
    super::selector::from_json(labels)
}

fn target_refs(o: &Object) -> Vec<(String, String, String)> {
    let spec: Value = o.spec();
    let spec = Some(&spec);
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
            (text("group"), text("kind"), text("name"))
        })
        .collect()
}

/// Drops the matched workloads the policy cannot act on, saying why in its
/// reason; true when it matched some and none is left.
fn leave_out(
    matched: &mut Vec<&Candidate>,
    reason: &mut String,
    cannot: impl Fn(&Candidate) -> bool,
    why: &str,
) -> bool {
    if !matched.iter().any(|w| cannot(w)) {
        return false;
    }
    matched.retain(|w| !cannot(w));
    reason.push_str("; ");
    reason.push_str(why);
    matched.is_empty()
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

pub fn resolve<'a>(
    o: &Object,
    root_ns: &str,
    workloads: &Workloads<'a>,
    attach: &Attachments<'_>,
) -> Policy {
    let refs = target_refs(o);
    let sel = selector(o);
    let mut enforcer = Enforcer::Proxy;
    let mut effective_elsewhere = false;
    let (scope, matched, reason): (PolicyScope, Vec<&Candidate>, String) = if !refs.is_empty() {
        let mut matched: Vec<&Candidate> = Vec::new();
        let mut notes: Vec<String> = Vec::new();
        for (_group, kind, name) in &refs {
            let key = format!("{}/{name}", o.namespace);
            match kind.as_str() {
                "Gateway" if attach.waypoints.contains(&key) => {
                    enforcer = Enforcer::Waypoint;
                    matched.extend(workloads.all.iter().filter(|w| w.behind(Some(&key))));
                }
                "Gateway" => {
                    let before = matched.len();
                    matched.extend(workloads.in_namespace(&o.namespace).copied().filter(|w| {
                        w.labels.get(super::ingress::GATEWAY_NAME) == Some(name)
                    }));
                    if matched.len() == before && attach.k8s_gateways.contains(&key) {
                        // The Gateway exists; Istio creates its Deployment.
                        effective_elsewhere = true;
                        notes.push(format!(
                            "enforced by the pods Istio deploys for Gateway {name}, which are not in the snapshot"
                        ));
                    }
                }
                "Service" => {
                    // Sidecars never enforce targetRefs policies: only the waypoint
                    // the Service is bound to does, for ambient workloads.
                    enforcer = Enforcer::Waypoint;
                    let selected: Vec<&Candidate> = workloads
                        .in_namespace(&o.namespace)
                        .copied()
                        .filter(|w| w.services.iter().any(|(s, _)| s == name))
                        .collect();
                    let bound = selected.iter().any(|w| {
                        w.services.iter().any(|(s, wp)| s == name && wp.is_some())
                    });
                    if !bound {
                        notes.push(format!(
                            "Service {name} is not bound to a waypoint (istio.io/use-waypoint on the Service or its namespace), so nothing enforces it"
                        ));
                    } else if selected.iter().any(|w| !w.ambient) {
                        notes.push(format!(
                            "workloads of Service {name} that run sidecars ignore it"
                        ));
                    }
                    matched.extend(selected.into_iter().filter(|w| {
                        w.ambient && w.services.iter().any(|(s, wp)| s == name && wp.is_some())
                    }));
                }
                "ServiceEntry" => {
                    enforcer = Enforcer::Waypoint;
                    if attach.bound_service_entries.contains(&key) {
                        effective_elsewhere = true;
                    } else {
                        notes.push(format!(
                            "ServiceEntry {name} is not bound to a waypoint, so nothing enforces it"
                        ));
                    }
                }
                "GatewayClass" if name == super::waypoints::WAYPOINT_CLASS && o.namespace == root_ns => {
                    enforcer = Enforcer::Waypoint;
                    matched.extend(workloads.all.iter().filter(|w| w.behind(None)));
                    effective_elsewhere |= !attach.waypoints.is_empty();
                }
                "GatewayClass" => notes.push(format!(
                    "a GatewayClass target applies only to istio-waypoint from the root namespace {root_ns}"
                )),
                other => notes.push(format!("targetRefs kind {other} is not a policy target")),
            }
        }
        let mut seen = std::collections::HashSet::new();
        matched.retain(|w| seen.insert(w.id));
        let names: Vec<String> = refs.iter().map(|(_, k, n)| format!("{k}/{n}")).collect();
        let mut reason = format!("targetRefs {} (selector ignored)", names.join(", "));
        if !notes.is_empty() {
            reason = format!("{reason}: {}", notes.join("; "));
        }
        (PolicyScope::TargetRefs, matched, reason)
    } else if !sel.is_empty() && o.namespace == root_ns && o.kind == "PeerAuthentication" {
        // istiod treats selector PeerAuthentications as workload policies only
        // outside the root namespace (`ComposePeerAuthentication`,
        // pilot/pkg/security/authn/policy_applier.go; ztunnel's view in
        // pilot/pkg/serviceregistry/ambient/authorization.go).
        (
            PolicyScope::Workload,
            Vec::new(),
            format!(
                "a PeerAuthentication with a selector in the root namespace {root_ns} is ignored by istiod"
            ),
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
    let (mut matched, mut reason) = (matched, reason);
    // A Sidecar resource configures sidecar proxies: an ambient workload has
    // none, so it has no impact there (istioctl IST0167,
    // pkg/config/analysis/analyzers/sidecar/selector.go). One that applies
    // only to ambient workloads matches nothing that it could change.
    let mut no_sidecars = false;
    if o.kind == "Sidecar" {
        no_sidecars = leave_out(
            &mut matched,
            &mut reason,
            |w| w.ambient,
            "ambient workloads have no sidecar, so it has no impact on them",
        );
    }
    // A waypoint takes AuthorizationPolicies and RequestAuthentications only
    // through targetRefs: a selector, namespace or mesh policy never attaches
    // to it (`ShouldAttachPolicy`, pilot/pkg/model/policyattachment.go).
    if scope != PolicyScope::TargetRefs
        && matches!(
            o.kind.as_str(),
            "AuthorizationPolicy" | "RequestAuthentication"
        )
    {
        leave_out(
            &mut matched,
            &mut reason,
            |w| w.is_waypoint(attach.waypoints),
            "waypoints ignore it (they take policies by targetRefs only)",
        );
    }
    let narrow = matches!(scope, PolicyScope::Workload | PolicyScope::TargetRefs);
    Policy {
        target: ObjectRef::of(o),
        scope,
        enforcer,
        matches_nothing: (narrow && matched.is_empty() && !effective_elsewhere) || no_sidecars,
        workloads: matched.iter().map(|w| w.id.to_string()).collect(),
        reason,
    }
}

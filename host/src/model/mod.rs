//! Model: the mesh as Istio sees it, derived once from the snapshot and handed
//! to every check through the WIT `mesh` interface.

pub mod data;
pub mod dataplane;
pub mod enrollment;
pub mod ingress;
pub mod meshconfig;
pub mod mtls;
pub mod policies;
pub mod selector;
pub mod waypoints;
pub mod workloads;

pub use data::ScanData;
pub use enrollment::{Dataplane, Enrollment};
pub use meshconfig::MeshConfig;
pub use mtls::Mtls;
pub use policies::{Enforcer, Policy, PolicyScope};
pub use workloads::Container;

use crate::gather::{Object, Snapshot};
use crate::kinds;
use crate::vocab::{Confidence, ObjectRef};
use rayon::prelude::*;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MtlsMode {
    Unset,
    Disable,
    Permissive,
    Strict,
}

impl MtlsMode {
    pub fn as_str(self) -> &'static str {
        match self {
            MtlsMode::Unset => "UNSET",
            MtlsMode::Disable => "DISABLE",
            MtlsMode::Permissive => "PERMISSIVE",
            MtlsMode::Strict => "STRICT",
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct Workload {
    pub id: String,
    pub target: ObjectRef,
    pub namespace: String,
    pub name: String,
    pub service_account: String,
    pub identity: String,
    pub labels: BTreeMap<String, String>,
    pub container_ports: Vec<u32>,
    /// Pod template annotations (the pod's own for a bare pod).
    pub annotations: BTreeMap<String, String>,
    pub containers: Vec<Container>,
    pub pods: u32,
    pub enrollment: Enrollment,
    pub mtls: Mtls,
    pub services: Vec<ObjectRef>,
    pub authorization_policies: Vec<ObjectRef>,
    pub request_authentications: Vec<ObjectRef>,
    pub peer_authentications: Vec<ObjectRef>,
    /// The waypoint that enforces L7 policy for an ambient workload: named by
    /// `istio.io/use-waypoint` on the workload, else a Service of it, else its
    /// namespace. `None` when nothing names one (or it names `none`).
    pub waypoint: Option<String>,
    /// Routes that bring traffic from a gateway to a Service of this workload.
    pub ingress: Vec<ObjectRef>,
    /// Container ports the data plane does not capture (no mTLS, no policy), with why.
    pub uncaptured_ports: Vec<(u32, String)>,
    /// Ingress gateways send to it through its Service's waypoint
    /// (`istio.io/ingress-use-waypoint` on the Service or its namespace).
    pub ingress_via_waypoint: bool,
    /// The workload's pods in the snapshot, for reading their proxies (`--deep`).
    #[serde(skip)]
    pub pods_seen: Vec<SeenPod>,
}

/// A pod of a workload, as listed.
#[derive(Clone, Debug)]
pub struct SeenPod {
    pub name: String,
    /// It carries an `istio-proxy` (sidecar or gateway Envoy).
    pub has_proxy: bool,
    pub running: bool,
}

impl Workload {
    /// One of Istio's own workloads: istiod, a gateway (ingress, egress,
    /// east-west, waypoint), ztunnel or the CNI node agent, by the labels
    /// Istio's charts and the Gateway API deployment controller set, or by the
    /// image its containers run (an injected `istio-proxy` does not count).
    pub fn is_istio_component(&self) -> bool {
        const IMAGES: &[&str] = &["pilot", "ztunnel", "install-cni"];
        let label = |k: &str| self.labels.get(k).map(String::as_str);
        ingress::is_gateway(&self.labels)
            || matches!(label("app"), Some("istiod" | "ztunnel" | "istio-cni-node"))
            || label("istio") == Some("pilot")
            || self.name.contains("istio-cni")
            || self
                .containers
                .iter()
                .any(|c| c.name == "discovery" || IMAGES.iter().any(|i| image_name(&c.image) == *i))
    }

    /// In the mesh, with a sidecar or ambient.
    pub fn enrolled(&self) -> bool {
        self.enrollment.dataplane != Dataplane::None
    }

    /// The peer principal AuthorizationPolicies match: the identity without `spiffe://`.
    pub fn principal(&self) -> &str {
        self.identity.trim_start_matches("spiffe://")
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct NamespaceInfo {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub enrollment: Enrollment,
    pub target: Option<ObjectRef>,
}

#[derive(Clone, Debug, Serialize)]
pub struct MeshModel {
    pub config: MeshConfig,
    pub namespaces: Vec<NamespaceInfo>,
    pub workloads: Vec<Workload>,
    pub policies: Vec<Policy>,
    /// Things the model could not read (e.g. a malformed mesh config).
    pub problems: Vec<String>,
}

/// Policy kinds whose scope the model resolves.
const POLICY_KINDS: &[&str] = &[
    kinds::AUTHORIZATION_POLICY,
    kinds::REQUEST_AUTHENTICATION,
    kinds::PEER_AUTHENTICATION,
    kinds::SIDECAR,
];

pub fn build(snapshot: &Snapshot) -> MeshModel {
    let live = snapshot.is_live();
    let (config, mut problems) = meshconfig::build(snapshot);
    let namespaces = namespaces(snapshot, live, &config.injector);
    let ns_enrollment: HashMap<&str, &Enrollment> = namespaces
        .iter()
        .map(|n| (n.name.as_str(), &n.enrollment))
        .collect();
    let none = enrollment::namespace(&BTreeMap::new(), live, &config.injector);
    let ns_labels: HashMap<&str, &BTreeMap<String, String>> = namespaces
        .iter()
        .map(|n| (n.name.as_str(), &n.labels))
        .collect();

    let raws = workloads::collect(snapshot);
    let ids: Vec<String> = raws.iter().map(workloads::Raw::id).collect();
    // Each Service's selector is parsed once, then matched against its namespace's workloads.
    let selectors: Vec<(&crate::gather::Object, BTreeMap<String, String>)> = snapshot
        .of(kinds::SERVICE)
        .iter()
        .map(|s| (s, s.spec::<ServiceSpec>().selector))
        .filter(|(_, sel)| !sel.is_empty())
        .collect();
    let services = by_namespace(selectors.iter(), |(s, _)| s.namespace.as_str());
    let service_lists: Vec<Vec<&crate::gather::Object>> = raws
        .iter()
        .map(|w| {
            services
                .get(w.namespace.as_str())
                .into_iter()
                .flatten()
                .filter(|(_, sel)| selector::matches(sel, &w.labels))
                .map(|(s, _)| *s)
                .collect()
        })
        .collect();

    // Enrollment and waypoint bindings come first: targetRefs policies attach through them.
    let enrollments: Vec<Enrollment> = raws
        .iter()
        .map(|w| {
            let ns = ns_enrollment
                .get(w.namespace.as_str())
                .copied()
                .unwrap_or(&none);
            workloads::enrollment(
                w,
                ns,
                ns_labels.get(w.namespace.as_str()).copied(),
                &config.injector,
            )
        })
        .collect();
    let waypoints = waypoints::Waypoints::collect(snapshot);
    let service_binding = |o: &crate::gather::Object| {
        waypoints.for_service(o, ns_labels.get(o.namespace.as_str()).copied())
    };
    let bindings: Vec<Vec<Option<String>>> = service_lists
        .iter()
        .map(|svcs| {
            svcs.iter()
                .map(|s| service_binding(s).waypoint().map(str::to_string))
                .collect()
        })
        .collect();
    let own_waypoints: Vec<Option<String>> = raws
        .iter()
        .map(|w| {
            waypoints
                .for_workload(
                    &w.labels,
                    &w.namespace,
                    ns_labels.get(w.namespace.as_str()).copied(),
                )
                .waypoint()
                .map(str::to_string)
        })
        .collect();
    let attach = policies::Attachments {
        waypoints: &waypoints,
        k8s_gateways: snapshot
            .of(kinds::K8S_GATEWAY)
            .iter()
            .map(|g| format!("{}/{}", g.namespace, g.name))
            .collect(),
        bound_service_entries: snapshot
            .of(kinds::SERVICE_ENTRY)
            .iter()
            .filter(|se| service_binding(se).waypoint().is_some())
            .map(|se| format!("{}/{}", se.namespace, se.name))
            .collect(),
    };

    // Policy scopes next: workloads list the policies that select them.
    let candidates: Vec<policies::Candidate> = raws
        .iter()
        .enumerate()
        .map(|(i, w)| policies::Candidate {
            id: &ids[i],
            namespace: &w.namespace,
            labels: &w.labels,
            services: service_lists[i]
                .iter()
                .zip(&bindings[i])
                .map(|(s, b)| (s.name.as_str(), b.as_deref()))
                .collect(),
            waypoint: own_waypoints[i].as_deref(),
            ambient: enrollments[i].dataplane == Dataplane::Ambient,
        })
        .collect();
    let scope = policies::Workloads::new(&candidates);
    let index: HashMap<&str, usize> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i))
        .collect();
    let mut attached: Vec<[Vec<ObjectRef>; 4]> = vec![Default::default(); raws.len()];
    // Resolved in parallel, attached in snapshot order.
    let resolved: Vec<(usize, policies::Policy)> = POLICY_KINDS
        .iter()
        .enumerate()
        .flat_map(|(slot, kind)| snapshot.of(kind).iter().map(move |o| (slot, o)))
        .collect::<Vec<_>>()
        .into_par_iter()
        .map(|(slot, o)| {
            (
                slot,
                policies::resolve(o, &config.root_namespace, &scope, &attach),
            )
        })
        .collect();
    let mut policy_list = Vec::with_capacity(resolved.len());
    for (slot, p) in resolved {
        for id in &p.workloads {
            if let Some(&i) = index.get(id.as_str()) {
                attached[i][slot].push(p.target.clone());
            }
        }
        policy_list.push(p);
    }

    let pa_readable = !snapshot
        .unavailable
        .contains_key(kinds::PEER_AUTHENTICATION);
    let peer_policies: Vec<mtls::Policy> = snapshot
        .of(kinds::PEER_AUTHENTICATION)
        .iter()
        .map(mtls::Policy::parse)
        .collect();
    let peer_by_ns = by_namespace(peer_policies.iter(), |p| p.object.namespace.as_str());
    let root_peer: Vec<&mtls::Policy> = peer_by_ns
        .get(config.root_namespace.as_str())
        .cloned()
        .unwrap_or_default();
    let exposure = ingress::build(snapshot);
    let mut out = Vec::with_capacity(raws.len());
    for (i, (((w, enrollment), svcs), [authz, reqauthn, peer, _sidecar])) in raws
        .iter()
        .zip(enrollments)
        .zip(&service_lists)
        .zip(attached)
        .enumerate()
    {
        let base = if pa_readable {
            enrollment.confidence
        } else {
            Confidence::Unknown
        };
        let local = peer_by_ns
            .get(w.namespace.as_str())
            .map(Vec::as_slice)
            .unwrap_or(&[]);
        let uncaptured =
            enrollment::uncaptured_ports(enrollment.dataplane, &w.annotations, &w.container_ports);
        let mtls = mtls::effective(
            &root_peer,
            local,
            &config.root_namespace,
            &mtls::Subject {
                namespace: &w.namespace,
                labels: &w.labels,
                ambient: enrollment.dataplane == Dataplane::Ambient,
                base,
                uncaptured: &uncaptured,
                target: &w.target(),
                container_ports: &w.container_ports,
            },
        );
        let ns_meta = ns_labels.get(w.namespace.as_str()).copied();
        let ingress_via_waypoint = bindings[i].iter().zip(svcs).any(|(b, s)| {
            b.is_some()
                && (s.label(INGRESS_USE_WAYPOINT) == Some("true")
                    || ns_meta
                        .and_then(|l| l.get(INGRESS_USE_WAYPOINT))
                        .map(String::as_str)
                        == Some("true"))
        });
        out.push(Workload {
            id: ids[i].clone(),
            target: w.target(),
            namespace: w.namespace.clone(),
            name: w.object.name.clone(),
            identity: format!(
                "spiffe://{}/ns/{}/sa/{}",
                config.trust_domain, w.namespace, w.service_account
            ),
            service_account: w.service_account.clone(),
            labels: w.labels.clone(),
            container_ports: w.container_ports.clone(),
            annotations: w.annotations.clone(),
            containers: w.all_containers(),
            pods: w.pods.len() as u32,
            enrollment,
            mtls,
            services: svcs.iter().map(|s| ObjectRef::of(s)).collect(),
            authorization_policies: authz,
            request_authentications: reqauthn,
            peer_authentications: peer,
            // The waypoint of the pods' own addresses, else of a Service of theirs.
            waypoint: own_waypoints[i]
                .clone()
                .or_else(|| bindings[i].iter().flatten().next().cloned()),
            ingress: ingress_routes(&exposure, svcs),
            uncaptured_ports: uncaptured,
            ingress_via_waypoint,
            pods_seen: w
                .pods
                .iter()
                .map(|p| SeenPod {
                    name: p.object.name.clone(),
                    has_proxy: p.facts.has_proxy,
                    running: p.facts.running,
                })
                .collect(),
        });
    }
    for (first, other) in snapshot.conflicts() {
        let at = |o: &Object| {
            o.origin
                .as_ref()
                .map(|g| format!("{}:{}", g.file, g.line))
                .unwrap_or_else(|| "the cluster".into())
        };
        problems.push(format!(
            "{} is given twice with different content ({} and {}): a cluster holds one of them (the last applied); both are scanned",
            first.display(),
            at(first),
            at(other)
        ));
    }
    if !istio_present(snapshot, &config, &out) {
        problems.push(
            "no Istio installation or configuration in the input: mesh-wide findings describe Istio's defaults for a mesh that is not in the snapshot (INFERRED)"
                .into(),
        );
    }
    MeshModel {
        config,
        namespaces,
        workloads: out,
        policies: policy_list,
        problems,
    }
}

/// Whether anything in the snapshot shows an Istio mesh: an Istio resource,
/// mesh or injector configuration, an enrolled workload, or a namespace
/// labelled for the mesh.
fn istio_present(snapshot: &Snapshot, config: &MeshConfig, workloads: &[Workload]) -> bool {
    let istio_kind = snapshot
        .all()
        .any(|o| crate::kinds::group(&o.key).ends_with("istio.io"));
    let labelled = snapshot.of(kinds::NAMESPACE).iter().any(|n| {
        ["istio-injection", "istio.io/rev", "istio.io/dataplane-mode"]
            .iter()
            .any(|k| n.labels.contains_key(*k))
    });
    istio_kind
        || labelled
        || config.source.is_some()
        || config.install_source.is_some()
        || workloads.iter().any(Workload::enrolled)
}

const INGRESS_USE_WAYPOINT: &str = "istio.io/ingress-use-waypoint";

/// The routes exposing any of a workload's Services, each once.
fn ingress_routes(
    exposure: &ingress::Exposure,
    services: &[&crate::gather::Object],
) -> Vec<ObjectRef> {
    let mut routes: Vec<ObjectRef> = Vec::new();
    for s in services {
        let key = (s.namespace.clone(), s.name.clone());
        for r in exposure.get(&key).into_iter().flatten() {
            if !routes.contains(r) {
                routes.push(r.clone());
            }
        }
    }
    routes
}

/// Groups items by namespace, keeping their order.
fn by_namespace<'a, T: 'a>(
    items: impl Iterator<Item = &'a T>,
    ns: impl Fn(&'a T) -> &'a str,
) -> HashMap<&'a str, Vec<&'a T>> {
    let mut map: HashMap<&str, Vec<&T>> = HashMap::new();
    for item in items {
        map.entry(ns(item)).or_default().push(item);
    }
    map
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
struct ServiceSpec {
    selector: BTreeMap<String, String>,
}

/// Namespace objects, plus namespaces only known from the objects in them.
fn namespaces(
    snapshot: &Snapshot,
    live: bool,
    injector: &enrollment::Injector,
) -> Vec<NamespaceInfo> {
    let mut seen = BTreeSet::new();
    let mut out: Vec<NamespaceInfo> = snapshot
        .of(kinds::NAMESPACE)
        .iter()
        .filter(|n| seen.insert(n.name.clone()))
        .map(|n| NamespaceInfo {
            name: n.name.clone(),
            labels: n.labels.clone(),
            enrollment: enrollment::namespace(&n.labels, live, injector),
            target: Some(ObjectRef::of(n)),
        })
        .collect();
    let implied: BTreeSet<&str> = snapshot
        .all()
        .map(|o| o.namespace.as_str())
        .filter(|ns| !ns.is_empty() && !seen.contains(*ns))
        .collect();
    for ns in implied {
        out.push(NamespaceInfo {
            name: ns.into(),
            labels: BTreeMap::new(),
            enrollment: Enrollment {
                dataplane: Dataplane::None,
                confidence: Confidence::Unknown,
                reason: format!("namespace {ns} is not in the snapshot, so its labels are unknown"),
            },
            target: None,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[cfg(test)]
mod tests;

/// The repository's last path segment of an image reference, without tag or
/// digest: `docker.io/istio/pilot:1.24.0` -> `pilot`.
pub(crate) fn image_name(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    let last = image.rsplit('/').next().unwrap_or(image);
    last.split(':').next().unwrap_or(last)
}

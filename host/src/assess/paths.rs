//! Attack paths: who can reach the sensitive workloads, hop by hop.
//!
//! The graph: two entry points (the internet, through ingress gateways; and
//! any pod in the cluster without a mesh identity, which reaches workloads
//! that accept plaintext) and one node per workload. An attacker holding a
//! node can open the connections that node's identity is allowed: an edge
//! A -> B exists when B's effective mTLS and AuthorizationPolicies admit A.
//! Two searches run from the entry points, one for the fewest hops and one for
//! the fewest uncertain hops, so each target gets its shortest and its most
//! certain path.
//!
//! Scale: the decision at B for callers without a mesh identity is the same
//! for all of them, and so is the decision at B for every caller when no rule
//! of B's policies looks at the caller. Those destinations are relaxed once per
//! caller class; the rest are found through the principals and namespaces
//! their rules name.

use super::authz::{self, Enforcement, Peer, Policies, Policy};
use crate::model::{ingress, Dataplane, MeshModel, MtlsMode, Workload};
use crate::vocab::{Confidence, ObjectRef};
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};

const SENSITIVE_CLASSES: &[&str] = &["confidential", "restricted", "secret", "sensitive", "pii"];

#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Hop {
    pub from: String,
    pub to: String,
    /// The identity the connection carries (or why it has none).
    pub identity: String,
    /// mTLS or plaintext, and why.
    pub transport: String,
    /// The destination's application protocols by Service port, e.g. `http:80`.
    pub protocol: String,
    pub allowed_by: String,
    /// What narrows the allowed requests, if anything.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<String>,
    pub certainty: Confidence,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uncertainty: Option<String>,
    /// Objects that make the hop possible (the workload entered, the deciding policies).
    #[serde(skip)]
    pub objects: Vec<ObjectRef>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AttackPath {
    pub target: String,
    pub why_sensitive: String,
    pub entry: String,
    /// `shortest`, `most-certain`, or both.
    pub kinds: Vec<&'static str>,
    /// The least certain hop's certainty.
    pub certainty: Confidence,
    pub hops: Vec<Hop>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct AttackPaths {
    pub entry_points: Vec<String>,
    /// Sensitive workloads and why.
    pub targets: Vec<Target>,
    pub reachable: usize,
    pub paths: Vec<AttackPath>,
    /// Paths found but not listed.
    pub omitted: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Target {
    pub workload: String,
    pub why: String,
    pub reachable: bool,
}

pub const INTERNET: &str = "internet";
pub const CLUSTER: &str = "any pod without a mesh identity";

/// Why a workload holds sensitive data, if it does: a `--sensitive` pattern
/// (`NAMESPACE`, `NAMESPACE/WORKLOAD` or `LABEL=VALUE`), else labels on the
/// workload or its namespace (`kridik.io/sensitive=true`, or a
/// `data-classification` of confidential, restricted, secret, sensitive, pii).
pub fn sensitivity(
    w: &Workload,
    ns_labels: Option<&BTreeMap<String, String>>,
    patterns: &[String],
) -> Option<String> {
    for p in patterns {
        let hit = match p.split_once('=') {
            Some((k, v)) => {
                w.labels.get(k).map(String::as_str) == Some(v)
                    || ns_labels.and_then(|l| l.get(k)).map(String::as_str) == Some(v)
            }
            None => match p.split_once('/') {
                Some((ns, name)) => w.namespace == ns && w.name == name,
                None => w.namespace == *p,
            },
        };
        if hit {
            return Some(format!("--sensitive {p}"));
        }
    }
    let labelled = |labels: &BTreeMap<String, String>| -> Option<String> {
        if labels.get("kridik.io/sensitive").map(String::as_str) == Some("true") {
            return Some("kridik.io/sensitive=true".into());
        }
        ["data-classification", "kridik.io/data-classification"]
            .iter()
            .find_map(|k| {
                let class = labels.get(*k)?;
                SENSITIVE_CLASSES
                    .contains(&class.to_ascii_lowercase().as_str())
                    .then(|| format!("{k}={class}"))
            })
    };
    labelled(&w.labels)
        .map(|l| format!("workload labelled {l}"))
        .or_else(|| {
            ns_labels
                .and_then(labelled)
                .map(|l| format!("namespace {} labelled {l}", w.namespace))
        })
}

/// What a destination admits.
struct Guard<'a> {
    enrolled: bool,
    /// Ports (or the workload) that accept plaintext, described; None when STRICT everywhere.
    plaintext: Option<String>,
    /// mTLS DISABLE on every port: callers arrive without a principal.
    disabled: bool,
    policies: Vec<&'a Policy>,
    /// Ambient: selector policies run in ztunnel.
    ztunnel: bool,
    /// Ingress gateways reach it through its Service's waypoint.
    ingress_via_waypoint: bool,
    /// The decision does not depend on which mesh identity calls.
    caller_blind: bool,
    certainty: Confidence,
    why_uncertain: Option<String>,
}

fn guard<'a>(w: &'a Workload, policies: &'a Policies) -> Guard<'a> {
    let enrolled = w.enrolled();
    let mut open: Vec<String> = Vec::new();
    if w.mtls.mode != MtlsMode::Strict {
        let overridden: Vec<u32> = w
            .mtls
            .ports
            .iter()
            .filter(|p| p.mode == MtlsMode::Strict)
            .map(|p| p.port)
            .collect();
        open.push(if overridden.is_empty() {
            format!("mTLS {}", w.mtls.mode.as_str())
        } else {
            format!("mTLS {} except ports {overridden:?}", w.mtls.mode.as_str())
        });
    }
    for p in w.mtls.ports.iter().filter(|p| p.mode != MtlsMode::Strict) {
        if w.mtls.mode == MtlsMode::Strict {
            open.push(format!("port {} mTLS {}", p.port, p.mode.as_str()));
        }
    }
    let disabled = w.mtls.mode == MtlsMode::Disable
        && w.mtls.ports.iter().all(|p| p.mode == MtlsMode::Disable);
    let policies: Vec<&Policy> = policies.enforced(w).collect();
    let caller_blind = !enrolled || disabled || policies.iter().all(|p| p.caller_blind());
    // Outside the mesh nothing but enrollment matters.
    let certainty = if enrolled {
        w.enrollment.confidence.max(w.mtls.confidence)
    } else {
        w.enrollment.confidence
    };
    let mut why = Vec::new();
    if w.enrollment.confidence != Confidence::Verified {
        why.push(w.enrollment.reason.clone());
    }
    if enrolled && w.mtls.confidence != Confidence::Verified {
        why.push(format!(
            "effective mTLS is {}: {}",
            w.mtls.confidence, w.mtls.reason
        ));
    }
    Guard {
        enrolled,
        plaintext: (!open.is_empty()).then(|| open.join(", ")),
        disabled,
        policies,
        ztunnel: w.enrollment.dataplane == Dataplane::Ambient,
        ingress_via_waypoint: w.ingress_via_waypoint,
        caller_blind,
        certainty,
        why_uncertain: (!why.is_empty()).then(|| why.join("; ")),
    }
}

struct Node {
    name: String,
    identity: String,
    peer: Peer,
    workload: Option<usize>,
}

struct Graph<'a> {
    nodes: Vec<Node>,
    /// Per workload, its Service ports' protocols (see [`protocols`]).
    protocols: &'a [Vec<ServicePortProtocol>],
    guards: Vec<Guard<'a>>,
    workloads: &'a [Workload],
    /// Ingress gateway workloads (the internet's neighbours).
    gateways: Vec<usize>,
    by_principal: HashMap<&'a str, Vec<usize>>,
    by_namespace: HashMap<&'a str, Vec<usize>>,
    /// Destinations whose rules match callers by pattern: evaluated for every caller.
    by_pattern: Vec<usize>,
}

const INTERNET_NODE: usize = 0;
const CLUSTER_NODE: usize = 1;

impl<'a> Graph<'a> {
    fn new(
        model: &'a MeshModel,
        policies: &'a Policies,
        protocols: &'a [Vec<ServicePortProtocol>],
    ) -> Self {
        let workloads = &model.workloads;
        let guards: Vec<Guard> = workloads.iter().map(|w| guard(w, policies)).collect();
        let mut nodes = vec![
            Node {
                name: INTERNET.into(),
                identity: "none (external client)".into(),
                peer: Peer::ANONYMOUS,
                workload: None,
            },
            Node {
                name: CLUSTER.into(),
                identity: "none (plaintext)".into(),
                peer: Peer::ANONYMOUS,
                workload: None,
            },
        ];
        for (i, w) in workloads.iter().enumerate() {
            let enrolled = guards[i].enrolled;
            nodes.push(Node {
                name: w.id.clone(),
                identity: if enrolled {
                    w.identity.clone()
                } else {
                    "none (not in the mesh)".into()
                },
                peer: if enrolled {
                    Peer {
                        principal: Some(w.principal().to_string()),
                        namespace: Some(w.namespace.clone()),
                    }
                } else {
                    Peer::ANONYMOUS
                },
                workload: Some(i),
            });
        }
        let (mut by_principal, mut by_namespace, mut by_pattern) = (
            HashMap::<&str, Vec<usize>>::new(),
            HashMap::<&str, Vec<usize>>::new(),
            Vec::new(),
        );
        for (i, g) in guards.iter().enumerate() {
            if g.caller_blind {
                continue;
            }
            let mut pattern = false;
            for p in &g.policies {
                let (principals, namespaces, by_pattern) = p.named_callers();
                for v in principals {
                    by_principal.entry(v).or_default().push(i);
                }
                for v in namespaces {
                    by_namespace.entry(v).or_default().push(i);
                }
                pattern |= by_pattern;
            }
            // Once per destination, however many of its policies match by pattern.
            if pattern {
                by_pattern.push(i);
            }
        }
        let gateways = workloads
            .iter()
            .enumerate()
            .filter(|(_, w)| ingress::is_ingress_gateway(&w.labels))
            .map(|(i, _)| i)
            .collect();
        Graph {
            nodes,
            protocols,
            guards,
            workloads,
            gateways,
            by_principal,
            by_namespace,
            by_pattern,
        }
    }

    /// Where `dst`'s policies meet mTLS traffic from `src`: ambient callers go
    /// through the destination's waypoint, sidecar callers never do, ingress
    /// gateways only with `istio.io/ingress-use-waypoint`.
    fn enforcement(&self, src: usize, dst: usize) -> Enforcement {
        let g = &self.guards[dst];
        let caller = self.nodes[src].workload.map(|i| &self.workloads[i]);
        let ambient_caller = caller.is_some_and(|c| c.enrollment.dataplane == Dataplane::Ambient);
        let gateway = self.nodes[src]
            .workload
            .is_some_and(|i| self.gateways.contains(&i));
        Enforcement {
            ztunnel: g.ztunnel,
            through_waypoint: self.workloads[dst].waypoint.is_some()
                && (ambient_caller || (gateway && g.ingress_via_waypoint)),
        }
    }

    /// The hop from node `src` into workload `dst`, if the destination admits it.
    fn hop(&self, src: usize, dst: usize) -> Option<Hop> {
        let node = &self.nodes[src];
        if node.workload == Some(dst) {
            return None;
        }
        let g = &self.guards[dst];
        let w = &self.workloads[dst];
        let mut objects = vec![w.target.clone()];
        let (transport, decision) = if src == INTERNET_NODE {
            // The gateway's listener: PeerAuthentication does not apply, its policies do.
            (
                "HTTP(S) from outside the cluster to the gateway listener".to_string(),
                authz::decide(&g.policies, &Peer::ANONYMOUS, Enforcement::default()),
            )
        } else if !g.enrolled {
            (
                "plaintext (the destination is not in the mesh)".to_string(),
                authz::Decision {
                    allowed: true,
                    allowed_by: "not in the mesh: no mTLS or AuthorizationPolicy is enforced"
                        .into(),
                    policy: None,
                    limits: None,
                    certainty: Confidence::Verified,
                    uncertainty: None,
                },
            )
        } else if let Some((port, why)) = w.uncaptured_ports.first() {
            // The port bypasses the proxy: no mTLS and no AuthorizationPolicy there.
            (
                format!("plaintext to port {port}, which the data plane does not capture"),
                authz::Decision {
                    allowed: true,
                    allowed_by: format!("port {port} is not captured ({why}): no policy applies"),
                    policy: None,
                    limits: Some(format!("only port {port}")),
                    certainty: w.enrollment.confidence,
                    uncertainty: None,
                },
            )
        } else if node.peer.principal.is_none() || g.disabled {
            // Plaintext callers do not travel through a waypoint.
            let at = Enforcement {
                ztunnel: g.ztunnel,
                through_waypoint: false,
            };
            let open = g.plaintext.as_ref()?;
            objects.extend(w.mtls.decided_by.clone());
            objects.extend(w.mtls.ports.iter().filter_map(|p| p.decided_by.clone()));
            (
                format!("plaintext ({open})"),
                authz::decide(&g.policies, &Peer::ANONYMOUS, at),
            )
        } else {
            (
                "mTLS".to_string(),
                authz::decide(&g.policies, &node.peer, self.enforcement(src, dst)),
            )
        };
        if !decision.allowed {
            return None;
        }
        objects.extend(decision.policy.clone());
        let mut uncertainty: Vec<String> = decision.uncertainty.into_iter().collect();
        uncertainty.extend(g.why_uncertain.clone());
        let mut allowed_by = decision.allowed_by;
        if !w.ingress.is_empty() && self.gateways.iter().any(|&gw| Some(gw) == node.workload) {
            let routes: Vec<String> = w.ingress.iter().map(ObjectRef::display).collect();
            allowed_by = format!("routed by {}; {allowed_by}", routes.join(", "));
        }
        Some(Hop {
            from: node.name.clone(),
            to: w.id.clone(),
            identity: node.identity.clone(),
            transport,
            protocol: describe_ports(&self.protocols[dst]),
            allowed_by,
            limits: decision.limits,
            certainty: decision.certainty.max(g.certainty),
            uncertainty: (!uncertainty.is_empty()).then(|| uncertainty.join("; ")),
            objects,
        })
    }

    /// Best routes from the entry points to every node; `certain_first` orders
    /// costs by uncertain hops, then hops (else hops first).
    fn search(&self, certain_first: bool) -> Vec<Option<(usize, Hop)>> {
        let n = self.nodes.len();
        let mut cost: Vec<Option<(u32, u32)>> = vec![None; n];
        let mut via: Vec<Option<(usize, Hop)>> = vec![None; n];
        let key = |(hops, unsure): (u32, u32)| {
            if certain_first {
                (unsure, hops)
            } else {
                (hops, unsure)
            }
        };
        let mut heap = BinaryHeap::new();
        for entry in [INTERNET_NODE, CLUSTER_NODE] {
            cost[entry] = Some((0, 0));
            heap.push(Reverse(((0, 0), entry)));
        }
        let mut done = vec![false; n];
        // Destinations whose decision is the same for every caller of a class
        // are relaxed by the first (cheapest) caller of that class only.
        let (mut anonymous_done, mut mesh_done) = (false, false);
        let mut stamp = vec![usize::MAX; self.workloads.len()];
        while let Some(Reverse((k, src))) = heap.pop() {
            if done[src] {
                continue;
            }
            done[src] = true;
            let here = cost[src].expect("queued nodes have a cost");
            debug_assert_eq!(key(here), k);
            let candidates: Vec<usize> = if src == INTERNET_NODE {
                self.gateways.clone()
            } else if self.nodes[src].peer.principal.is_none() {
                if std::mem::replace(&mut anonymous_done, true) {
                    Vec::new()
                } else {
                    (0..self.workloads.len()).collect()
                }
            } else {
                let peer = &self.nodes[src].peer;
                let mut list: Vec<usize> = Vec::new();
                if !std::mem::replace(&mut mesh_done, true) {
                    list.extend((0..self.guards.len()).filter(|&i| self.guards[i].caller_blind));
                }
                let named = peer
                    .principal
                    .as_deref()
                    .and_then(|p| self.by_principal.get(p))
                    .into_iter()
                    .chain(
                        peer.namespace
                            .as_deref()
                            .and_then(|ns| self.by_namespace.get(ns)),
                    )
                    .flatten()
                    .chain(&self.by_pattern);
                for &i in named {
                    if stamp[i] != src {
                        stamp[i] = src;
                        list.push(i);
                    }
                }
                list
            };
            for dst in candidates {
                let node = dst + 2;
                if done[node] {
                    continue;
                }
                let Some(hop) = self.hop(src, dst) else {
                    continue;
                };
                let unsure = u32::from(hop.certainty != Confidence::Verified);
                let next = (here.0 + 1, here.1 + unsure);
                if cost[node].is_none_or(|c| key(next) < key(c)) {
                    cost[node] = Some(next);
                    via[node] = Some((src, hop));
                    heap.push(Reverse((key(next), node)));
                }
            }
        }
        via
    }
}

fn trace(via: &[Option<(usize, Hop)>], node: usize) -> Option<Vec<Hop>> {
    let mut hops = Vec::new();
    let mut at = node;
    while let Some((prev, hop)) = &via[at] {
        hops.push(hop.clone());
        at = *prev;
    }
    hops.reverse();
    (!hops.is_empty()).then_some(hops)
}

#[derive(serde::Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ServiceSpec {
    ports: Vec<ServicePort>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ServicePort {
    name: String,
    port: u32,
    app_protocol: Option<String>,
}

/// A Service port and the protocol Istio reads for it.
pub type ServicePortProtocol = (String, u32);

/// `http:80, tcp:5432`.
pub fn describe_ports(ports: &[ServicePortProtocol]) -> String {
    if ports.is_empty() {
        return "unknown (no Service port)".into();
    }
    let parts: Vec<String> = ports.iter().map(|(p, n)| format!("{p}:{n}")).collect();
    parts.join(", ")
}

/// Per workload of `model`, its Services' ports with the protocol Istio reads
/// for each (`appProtocol`, else the port name's prefix).
pub fn protocols(
    snapshot: &crate::gather::Snapshot,
    model: &MeshModel,
) -> Vec<Vec<ServicePortProtocol>> {
    let specs: HashMap<(&str, &str), ServiceSpec> = snapshot
        .of(crate::kinds::SERVICE)
        .iter()
        .map(|s| ((s.namespace.as_str(), s.name.as_str()), s.spec()))
        .collect();
    model
        .workloads
        .iter()
        .map(|w| {
            w.services
                .iter()
                .filter_map(|s| specs.get(&(s.namespace.as_str(), s.name.as_str())))
                .flat_map(|spec| &spec.ports)
                .map(|p| {
                    let declared = p.app_protocol.clone().unwrap_or_else(|| {
                        p.name.split('-').next().unwrap_or_default().to_string()
                    });
                    let known = [
                        "http", "http2", "https", "grpc", "grpc-web", "tcp", "tls", "mongo",
                        "mysql", "redis",
                    ];
                    let proto = if known.contains(&declared.to_ascii_lowercase().as_str()) {
                        declared.to_ascii_lowercase()
                    } else {
                        "undeclared (sniffed)".into()
                    };
                    (proto, p.port)
                })
                .collect()
        })
        .collect()
}

/// Computes the attack paths to the sensitive workloads of `model`;
/// `protocols` comes from [`protocols`].
pub fn find(
    model: &MeshModel,
    policies: &Policies,
    sensitive: &[String],
    protocols: &[Vec<ServicePortProtocol>],
) -> AttackPaths {
    let ns_labels: HashMap<&str, &BTreeMap<String, String>> = model
        .namespaces
        .iter()
        .map(|n| (n.name.as_str(), &n.labels))
        .collect();
    let mut targets: Vec<(usize, String)> = model
        .workloads
        .iter()
        .enumerate()
        .filter_map(|(i, w)| {
            sensitivity(w, ns_labels.get(w.namespace.as_str()).copied(), sensitive)
                .map(|why| (i, why))
        })
        .collect();
    targets.sort_by(|a, b| model.workloads[a.0].id.cmp(&model.workloads[b.0].id));
    let graph = Graph::new(model, policies, protocols);
    let mut out = AttackPaths {
        entry_points: vec![
            format!(
                "{INTERNET}, through {} ingress gateway workload(s)",
                graph.gateways.len()
            ),
            format!("{CLUSTER} (a pod outside the mesh, or any pod sending plaintext)"),
        ],
        ..AttackPaths::default()
    };
    if targets.is_empty() {
        return out;
    }
    let shortest = graph.search(false);
    let certain = graph.search(true);
    let mut paths = Vec::new();
    for (i, why) in &targets {
        let node = i + 2;
        let name = model.workloads[*i].id.clone();
        let reachable = shortest[node].is_some();
        out.targets.push(Target {
            workload: name.clone(),
            why: why.clone(),
            reachable,
        });
        let (Some(a), Some(b)) = (trace(&shortest, node), trace(&certain, node)) else {
            continue;
        };
        out.reachable += 1;
        let found = if a == b {
            vec![(vec!["shortest", "most-certain"], a)]
        } else {
            vec![(vec!["shortest"], a), (vec!["most-certain"], b)]
        };
        for (kinds, hops) in found {
            paths.push(AttackPath {
                target: name.clone(),
                why_sensitive: why.clone(),
                entry: hops[0].from.clone(),
                kinds,
                certainty: hops
                    .iter()
                    .map(|h| h.certainty)
                    .max()
                    .unwrap_or(Confidence::Verified),
                hops,
            });
        }
    }
    // Most certain and shortest first.
    paths.sort_by(|a, b| {
        (a.certainty, a.hops.len(), &a.target).cmp(&(b.certainty, b.hops.len(), &b.target))
    });
    out.paths = paths;
    out
}

impl Hop {
    /// `a -> b: as IDENTITY, TRANSPORT, ALLOWED BY (LIMITS)`.
    pub fn describe(&self) -> String {
        format!(
            "{} -> {}: as {}, {} to {}, {}{}",
            self.from,
            self.to,
            self.identity,
            self.transport,
            self.protocol,
            self.allowed_by,
            self.limits
                .as_ref()
                .map(|l| format!(" ({l})"))
                .unwrap_or_default()
        )
    }
}

impl AttackPaths {
    /// `2 of 3 sensitive workloads reachable`.
    pub fn reach(&self) -> String {
        format!(
            "{} of {} sensitive workloads reachable",
            self.reachable,
            self.targets.len()
        )
    }
}

impl AttackPath {
    /// `internet -> edge/ingress -> payments/ledger`.
    pub fn route(&self) -> String {
        let mut parts = vec![self.entry.clone()];
        parts.extend(self.hops.iter().map(|h| h.to.clone()));
        parts.join(" -> ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gather::{Snapshot, Source, Wants};

    fn paths(yaml: &str) -> AttackPaths {
        let batch =
            kridik_parse::parse_text(yaml, &"test.yaml".into(), &Wants::new(Vec::<String>::new()));
        assert!(batch.errors.is_empty(), "{:?}", batch.errors);
        let snapshot = Snapshot::new(Source::Offline, batch, Default::default());
        let model = crate::model::build(&snapshot);
        let protocols = protocols(&snapshot, &model);
        find(&model, &Policies::parse(&snapshot, &model), &[], &protocols)
    }

    fn deploy(ns: &str, name: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      serviceAccountName: {name}\n      containers: [{{name: app, image: app}}]\n---\n"
        )
    }

    const WAYPOINT: &str = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: waypoint, namespace: data, labels: {istio.io/waypoint-for: service}}\nspec:\n  gatewayClassName: istio-waypoint\n  listeners: [{name: mesh, port: 15008, protocol: HBONE}]\n---\n";

    /// `web` (ambient, PERMISSIVE) may call `db` in an ambient, sensitive
    /// namespace, under an ALLOW rule for web that also names an HTTP path:
    /// `attach` is the policy's selector or targetRefs, `waypoint` the
    /// namespace's waypoint label.
    fn ambient_mesh(waypoint: &str, attach: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: web, labels: {{istio.io/dataplane-mode: ambient}}}}\n---\n\
             apiVersion: v1\nkind: Namespace\nmetadata: {{name: data, labels: {{istio.io/dataplane-mode: ambient, kridik.io/sensitive: \"true\"{waypoint}}}}}\n---\n\
             apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {{name: default, namespace: istio-system}}\nspec: {{mtls: {{mode: STRICT}}}}\n---\n\
             apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {{name: default, namespace: web}}\nspec: {{mtls: {{mode: PERMISSIVE}}}}\n---\n\
             apiVersion: v1\nkind: Service\nmetadata: {{name: db, namespace: data}}\nspec: {{selector: {{app: db}}, ports: [{{port: 5432}}]}}\n---\n\
             apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: db, namespace: data}}\n\
             spec:\n  {attach}\n  rules:\n  - from: [{{source: {{principals: [cluster.local/ns/web/sa/web]}}}}]\n    to: [{{operation: {{paths: [/query]}}}}]\n---\n{WAYPOINT}{}{}",
            deploy("web", "web"),
            deploy("data", "db")
        )
    }

    const SELECTOR: &str = "selector: {matchLabels: {app: db}}";
    const TARGET_SERVICE: &str = "targetRefs: [{kind: Service, group: \"\", name: db}]";

    #[test]
    fn selector_policies_stay_l4_on_ambient_workloads_even_with_a_waypoint() {
        // ztunnel drops the HTTP ALLOW rule; a waypoint never applies selector
        // policies (pilot/pkg/model/policyattachment.go): closed either way.
        for waypoint in ["", ", istio.io/use-waypoint: waypoint"] {
            let closed = paths(&ambient_mesh(waypoint, SELECTOR));
            assert_eq!(closed.targets.len(), 1);
            assert_eq!(closed.reachable, 0, "{closed:?}");
        }
    }

    #[test]
    fn a_service_policy_is_enforced_by_the_bound_waypoint_only() {
        // Bound waypoint: web (ambient) goes through it, gets in for /query only.
        let open = paths(&ambient_mesh(
            ", istio.io/use-waypoint: waypoint",
            TARGET_SERVICE,
        ));
        assert_eq!(open.reachable, 1, "{open:?}");
        let hops = &open.paths[0].hops;
        assert_eq!(hops.len(), 2);
        assert_eq!(hops[1].from, "web/Deployment/web");
        assert_eq!(hops[1].transport, "mTLS");
        assert!(hops[1].limits.as_deref().unwrap().contains("paths /query"));
        assert!(hops[1].allowed_by.contains("AuthorizationPolicy data/db"));
        // No waypoint bound: the policy protects nothing and every caller gets in.
        let unbound = paths(&ambient_mesh("", TARGET_SERVICE));
        assert!(
            unbound
                .paths
                .iter()
                .any(|p| p.hops.len() == 2 && p.hops[1].limits.is_none()),
            "{unbound:?}"
        );
    }

    #[test]
    fn an_uncaptured_port_is_open_whatever_the_policies_say() {
        let yaml = "apiVersion: v1\nkind: Namespace\nmetadata: {name: data, labels: {istio-injection: enabled, kridik.io/sensitive: \"true\"}}\n---\n\
             apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: STRICT}}\n---\n\
             apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: deny-all, namespace: data}\nspec: {}\n---\n\
             apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: db, namespace: data}\nspec:\n  template:\n    metadata:\n      labels: {app: db}\n      annotations: {traffic.sidecar.istio.io/excludeInboundPorts: \"5432\"}\n    spec:\n      containers: [{name: db, image: db, ports: [{containerPort: 5432}]}]\n";
        let found = paths(yaml);
        assert_eq!(found.reachable, 1, "{found:?}");
        let hop = &found.paths[0].hops[0];
        assert!(hop.transport.contains("port 5432"), "{hop:?}");
        assert!(hop.allowed_by.contains("not captured"), "{hop:?}");
        // Without the exclusion the default-deny holds.
        assert_eq!(paths(&yaml.replace("5432\"}", "\"}")).reachable, 0);
    }
}

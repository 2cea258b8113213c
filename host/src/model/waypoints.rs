//! Waypoint binding as istiod resolves it (`pilot/pkg/serviceregistry/ambient/waypoints.go`):
//! a Service, ServiceEntry or workload uses the waypoint its own `istio.io/use-waypoint`
//! label names (`none` opts out), else the one its namespace names; the waypoint
//! must exist, carry the traffic type (`istio.io/waypoint-for`: service by default,
//! workload, all or none) and admit the namespace through its HBONE listener's
//! `allowedRoutes` (Same when unset).

use super::selector;
use crate::gather::{Object, Snapshot};
use crate::kinds;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

pub const USE_WAYPOINT: &str = "istio.io/use-waypoint";
const USE_WAYPOINT_NAMESPACE: &str = "istio.io/use-waypoint-namespace";
const WAYPOINT_FOR: &str = "istio.io/waypoint-for";
/// The controller that deployed a gateway's pods (`istio.io-mesh-controller` for waypoints).
pub(super) const MANAGED: &str = "gateway.istio.io/managed";
pub const WAYPOINT_CLASS: &str = "istio-waypoint";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Traffic {
    Service,
    Workload,
    All,
    None,
}

#[derive(Clone, Debug)]
enum Allowed {
    All,
    Same,
    Selector(BTreeMap<String, String>),
}

#[derive(Clone, Debug)]
pub struct Waypoint {
    pub namespace: String,
    pub name: String,
    pub traffic: Traffic,
    allowed: Allowed,
}

impl Waypoint {
    pub fn key(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    fn admits(&self, ns: &str, ns_labels: Option<&BTreeMap<String, String>>) -> bool {
        match &self.allowed {
            Allowed::All => true,
            Allowed::Same => self.namespace == ns,
            Allowed::Selector(sel) => ns_labels.is_some_and(|l| selector::matches(sel, l)),
        }
    }
}

/// Whether a Gateway API Gateway is a waypoint (class `istio-waypoint`).
pub fn is_waypoint(o: &Object) -> bool {
    o.key == kinds::K8S_GATEWAY
        && o.pointer("/spec/gatewayClassName")
            .is_some_and(|c| c.as_str() == Some(WAYPOINT_CLASS))
}

/// The waypoints of a snapshot, by `namespace/name`.
#[derive(Default)]
pub struct Waypoints(HashMap<String, Waypoint>);

/// What a Service, ServiceEntry or workload is bound to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Binding {
    /// `namespace/name` of the waypoint.
    Bound(String),
    /// Nothing names a waypoint, or the named one cannot be used (the reason says why).
    Unbound(String),
}

impl Binding {
    pub fn waypoint(&self) -> Option<&str> {
        match self {
            Binding::Bound(w) => Some(w),
            Binding::Unbound(_) => None,
        }
    }
}

impl Waypoints {
    pub fn collect(snapshot: &Snapshot) -> Waypoints {
        let mut all = HashMap::new();
        for g in snapshot
            .of(kinds::K8S_GATEWAY)
            .iter()
            .filter(|g| is_waypoint(g))
        {
            let traffic = match g.label(WAYPOINT_FOR) {
                Some("workload") => Traffic::Workload,
                Some("all") => Traffic::All,
                Some("none") => Traffic::None,
                _ => Traffic::Service,
            };
            let w = Waypoint {
                namespace: g.namespace.clone(),
                name: g.name.clone(),
                traffic,
                allowed: allowed_routes(g),
            };
            all.insert(w.key(), w);
        }
        Waypoints(all)
    }

    pub fn get(&self, key: &str) -> Option<&Waypoint> {
        self.0.get(key)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// The waypoint serving traffic addressed to a Service or ServiceEntry.
    pub fn for_service(&self, o: &Object, ns_labels: Option<&BTreeMap<String, String>>) -> Binding {
        // Waypoints and east-west gateways never use a waypoint themselves.
        if matches!(
            o.label(MANAGED),
            Some("istio.io-mesh-controller" | "istio.io-eastwest-controller")
        ) {
            return Binding::Unbound(format!("{} is itself a gateway", o.display()));
        }
        self.resolve(
            &o.labels,
            &o.namespace,
            ns_labels,
            &[Traffic::Service, Traffic::All],
        )
    }

    /// The waypoint serving traffic addressed to a workload's pods directly.
    pub fn for_workload(
        &self,
        labels: &BTreeMap<String, String>,
        ns: &str,
        ns_labels: Option<&BTreeMap<String, String>>,
    ) -> Binding {
        self.resolve(labels, ns, ns_labels, &[Traffic::Workload, Traffic::All])
    }

    fn resolve(
        &self,
        labels: &BTreeMap<String, String>,
        ns: &str,
        ns_labels: Option<&BTreeMap<String, String>>,
        traffic: &[Traffic],
    ) -> Binding {
        let named = match named(labels, ns) {
            Named::None => return Binding::Unbound("istio.io/use-waypoint: none".into()),
            Named::Waypoint(w) => w,
            Named::Absent => match ns_labels.map(|l| named(l, ns)) {
                Some(Named::Waypoint(w)) => w,
                _ => {
                    return Binding::Unbound(
                        "no istio.io/use-waypoint label names a waypoint".into(),
                    )
                }
            },
        };
        let Some(w) = self.get(&named) else {
            return Binding::Unbound(format!(
                "the waypoint {named} named by istio.io/use-waypoint is not in the snapshot (istiod treats it as not ready)"
            ));
        };
        if !w.admits(ns, ns_labels) {
            return Binding::Unbound(format!(
                "waypoint {named} does not admit namespace {ns} (allowedRoutes)"
            ));
        }
        if !traffic.contains(&w.traffic) {
            // E.g. a namespace's service waypoint is no waypoint for its pods' own addresses.
            return Binding::Unbound(format!(
                "waypoint {named} is for {:?} traffic (istio.io/waypoint-for)",
                w.traffic
            ));
        }
        Binding::Bound(named)
    }
}

enum Named {
    Absent,
    None,
    Waypoint(String),
}

fn named(labels: &BTreeMap<String, String>, default_ns: &str) -> Named {
    match labels.get(USE_WAYPOINT).map(String::as_str) {
        None => Named::Absent,
        Some("none") => Named::None,
        Some(name) => {
            let ns = labels
                .get(USE_WAYPOINT_NAMESPACE)
                .map(String::as_str)
                .unwrap_or(default_ns);
            Named::Waypoint(format!("{ns}/{name}"))
        }
    }
}

/// The HBONE listener's (port 15008) `allowedRoutes.namespaces`; Same when absent.
fn allowed_routes(g: &Object) -> Allowed {
    let listeners = match g.pointer("/spec/listeners") {
        Some(Value::Array(l)) => l,
        _ => Vec::new(),
    };
    let hbone = listeners.iter().find(|l| {
        l.get("protocol").and_then(Value::as_str) == Some("HBONE")
            && l.get("port").and_then(Value::as_u64) == Some(15008)
    });
    let Some(ns) = hbone.and_then(|l| l.pointer("/allowedRoutes/namespaces")) else {
        return Allowed::Same;
    };
    match ns.get("from").and_then(Value::as_str) {
        Some("All") => Allowed::All,
        Some("Selector") => {
            Allowed::Selector(selector::from_json(ns.pointer("/selector/matchLabels")))
        }
        _ => Allowed::Same,
    }
}

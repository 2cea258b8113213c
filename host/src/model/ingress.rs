//! Which Services traffic from outside the mesh reaches: the destinations of
//! VirtualServices bound to a Gateway and of Gateway API routes attached to a
//! Gateway that is not a waypoint or east-west gateway. Checks rank findings
//! on them higher.

use crate::gather::{Object, Snapshot};
use crate::kinds;
use crate::vocab::ObjectRef;
use serde::Deserialize;
use std::collections::{BTreeSet, HashMap};

/// The label Gateway API controllers put on a Gateway's pods.
pub(super) const GATEWAY_NAME: &str = "gateway.networking.k8s.io/gateway-name";
const GATEWAY_CLASS: &str = "gateway.networking.k8s.io/gateway-class-name";

/// A gateway's own pods (ingress, egress, east-west or waypoint): Istio's
/// `istio: *gateway` label or the Gateway API deployment label.
pub fn is_gateway(labels: &std::collections::BTreeMap<String, String>) -> bool {
    labels.get("istio").is_some_and(|v| v.contains("gateway")) || labels.contains_key(GATEWAY_NAME)
}

/// An ingress gateway's pods: `istio: *ingress*`, or a Gateway API deployment
/// of a class other than waypoint and east-west.
pub fn is_ingress_gateway(labels: &std::collections::BTreeMap<String, String>) -> bool {
    labels.get("istio").is_some_and(|v| v.contains("ingress"))
        || (labels.contains_key(GATEWAY_NAME)
            && !matches!(
                labels.get(GATEWAY_CLASS).map(String::as_str),
                Some("istio-waypoint" | "istio-east-west")
            ))
}

/// The routes that expose a Service, by (namespace, name) of the Service.
pub type Exposure = HashMap<(String, String), Vec<ObjectRef>>;

pub fn build(snapshot: &Snapshot) -> Exposure {
    let mut exposed: Exposure = HashMap::new();
    let mut add = |service: (String, String), route: &Object| {
        let list = exposed.entry(service).or_default();
        let r = ObjectRef::of(route);
        if !list.contains(&r) {
            list.push(r);
        }
    };
    let gateways: BTreeSet<(&str, &str)> = snapshot
        .of(kinds::GATEWAY)
        .iter()
        .map(|g| (g.namespace.as_str(), g.name.as_str()))
        .collect();
    for vs in snapshot.of(kinds::VIRTUAL_SERVICE) {
        let spec: VirtualService = vs.spec();
        let bound = spec.gateways.iter().any(|g| {
            g != "mesh" && {
                let (ns, name) = g.split_once('/').unwrap_or((&vs.namespace, g));
                // No Istio Gateway in the snapshot at all: trust the binding.
                gateways.is_empty() || gateways.contains(&(ns, name))
            }
        });
        if !bound {
            continue;
        }
        let hosts = spec
            .http
            .iter()
            .chain(&spec.tcp)
            .chain(&spec.tls)
            .flat_map(|r| &r.route)
            .map(|d| d.destination.host.as_str());
        for host in hosts {
            if let Some(service) = service_of(host, &vs.namespace) {
                add(service, vs);
            }
        }
    }
    // Gateway API: a route attached to a Gateway (not to a Service, as mesh
    // routes are, and not to a waypoint) carries traffic in from outside.
    // Waypoints and east-west gateways carry traffic already inside the mesh.
    let waypoints: BTreeSet<(&str, &str)> = snapshot
        .of(kinds::K8S_GATEWAY)
        .iter()
        .filter(|g| {
            let class = g.spec::<K8sGateway>().gateway_class_name;
            matches!(
                class.as_str(),
                "istio-waypoint" | "istio-east-west" | "istio-remote"
            )
        })
        .map(|g| (g.namespace.as_str(), g.name.as_str()))
        .collect();
    for route in [
        kinds::HTTP_ROUTE,
        kinds::GRPC_ROUTE,
        kinds::TLS_ROUTE,
        kinds::TCP_ROUTE,
    ]
    .iter()
    .flat_map(|k| snapshot.of(k))
    {
        let spec: Route = route.spec();
        let attached = spec.parent_refs.iter().any(|p| {
            let ns = p.namespace.as_deref().unwrap_or(&route.namespace);
            p.kind.as_deref().unwrap_or("Gateway") == "Gateway"
                && !waypoints.contains(&(ns, p.name.as_str()))
        });
        if !attached {
            continue;
        }
        for backend in spec.rules.iter().flat_map(|r| &r.backend_refs) {
            if backend.kind.as_deref().unwrap_or("Service") == "Service" {
                let ns = backend.namespace.as_deref().unwrap_or(&route.namespace);
                add((ns.to_string(), backend.name.clone()), route);
            }
        }
    }
    exposed
}

/// The Service a VirtualService destination names, as Istio resolves it: a
/// name without dots is relative to the VirtualService's namespace; otherwise
/// only `<name>.<namespace>.svc.<domain>` names a Service.
fn service_of(host: &str, ns: &str) -> Option<(String, String)> {
    if host.is_empty() || host.contains('*') {
        return None;
    }
    if !host.contains('.') {
        return Some((ns.to_string(), host.to_string()));
    }
    let mut labels = host.split('.');
    let (name, namespace, svc) = (labels.next()?, labels.next()?, labels.next()?);
    (svc == "svc" && labels.next().is_some()).then(|| (namespace.to_string(), name.to_string()))
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct VirtualService {
    gateways: Vec<String>,
    http: Vec<RouteRule>,
    tcp: Vec<RouteRule>,
    tls: Vec<RouteRule>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RouteRule {
    route: Vec<Destination>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Destination {
    destination: Host,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Host {
    host: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct K8sGateway {
    gateway_class_name: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Route {
    parent_refs: Vec<Ref>,
    rules: Vec<RouteRules>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RouteRules {
    backend_refs: Vec<Ref>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Ref {
    kind: Option<String>,
    name: String,
    namespace: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::service_of;

    #[test]
    fn destinations_resolve_like_istio() {
        let svc = |ns: &str, name: &str| Some((ns.to_string(), name.to_string()));
        assert_eq!(service_of("web", "shop"), svc("shop", "web"));
        assert_eq!(
            service_of("cart.orders.svc.cluster.local", "shop"),
            svc("orders", "cart")
        );
        assert_eq!(
            service_of("cart.orders.svc.corp", "shop"),
            svc("orders", "cart")
        );
        // Istio does not expand names with dots: these are not Services.
        assert_eq!(service_of("cart.orders", "shop"), None);
        assert_eq!(service_of("api.example.com", "shop"), None);
        assert_eq!(service_of("*.shop.svc.cluster.local", "shop"), None);
    }
}

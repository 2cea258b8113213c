//! Gateway API exposure: listeners open to routes from anywhere or to any host,
//! HTTPS content also served over plain HTTP, and ReferenceGrants wider than a name.

use kridik_sdk::kinds::K8S_GATEWAY;
use kridik_sdk::prelude::*;
use kridik_sdk::yaml;
use serde_json::Value;

pub const HTTP_ROUTE: &str = "gateway.networking.k8s.io/HTTPRoute";
pub const REFERENCE_GRANT: &str = "gateway.networking.k8s.io/ReferenceGrant";
const API: &str = "https://gateway-api.sigs.k8s.io/reference/spec/";

pub fn listeners_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-GW-008",
        "Gateway API listener open to every namespace, every host, or plain HTTP",
        Severity::Medium,
        "ingress",
        &[K8S_GATEWAY, HTTP_ROUTE],
    )
    .description(
        "On an ingress Gateway (any class but istio-waypoint, istio-east-west and \
         istio-remote): `allowedRoutes.namespaces.from: All` lets a route in any namespace \
         attach to the listener and claim its host names (medium); a listener without \
         `hostname` serves every host name (low; medium together with `from: All`); an \
         HTTP listener that serves the same routes as an HTTPS listener of the gateway, \
         with no RequestRedirect to https, serves the HTTPS content in plaintext (medium). \
         Waypoints and east-west gateways are mesh-internal and not reported.",
    )
}

pub fn grants_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-GW-009",
        "ReferenceGrant to every object of a kind",
        Severity::Medium,
        "ingress",
        &[REFERENCE_GRANT],
    )
    .description(
        "A ReferenceGrant `to` entry without `name` lets the granted namespaces reference \
         every object of that kind in the namespace: for Secrets, every TLS certificate and \
         key there becomes usable by gateways elsewhere (high); for Services, every backend \
         becomes routable from routes elsewhere (medium). A reference that no grant covers \
         is refused by the controller, which is safe.",
    )
}

/// Gateways that carry traffic in from outside the mesh.
fn is_ingress(v: &Value) -> bool {
    crate::servers::is_ingress_class(
        v.pointer("/spec/gatewayClassName")
            .and_then(Value::as_str)
            .unwrap_or_default(),
    )
}

struct Listener<'a> {
    index: usize,
    name: &'a str,
    protocol: &'a str,
    port: u64,
    hostname: Option<&'a str>,
    from: &'a str,
}

fn listeners(v: &Value) -> Vec<Listener<'_>> {
    v.pointer("/spec/listeners")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(index, l)| Listener {
            index,
            name: l.get("name").and_then(Value::as_str).unwrap_or_default(),
            protocol: l
                .get("protocol")
                .and_then(Value::as_str)
                .unwrap_or_default(),
            port: l.get("port").and_then(Value::as_u64).unwrap_or_default(),
            hostname: l.get("hostname").and_then(Value::as_str),
            from: l
                .pointer("/allowedRoutes/namespaces/from")
                .and_then(Value::as_str)
                .unwrap_or("Same"),
        })
        .collect()
}

/// Whether a route's parentRef attaches it to this listener of gateway `gw`.
fn attaches(route: &Object, parent: &Value, gw: &Object, l: &Listener) -> bool {
    let ns = parent
        .get("namespace")
        .and_then(Value::as_str)
        .unwrap_or(&route.target.namespace);
    if parent.get("name").and_then(Value::as_str) != Some(gw.target.name.as_str())
        || ns != gw.target.namespace
        || parent
            .get("kind")
            .and_then(Value::as_str)
            .is_some_and(|k| k != "Gateway")
    {
        return false;
    }
    if let Some(section) = parent.get("sectionName").and_then(Value::as_str) {
        return section == l.name;
    }
    if let Some(port) = parent.get("port").and_then(Value::as_u64) {
        return port == l.port;
    }
    // Same admits only the gateway's namespace; All and Selector are taken as admitting.
    l.from != "Same" || route.target.namespace == gw.target.namespace
}

/// A route that redirects every request to https.
fn redirects_to_https(route: &Value) -> bool {
    let rules: Vec<&Value> = route
        .pointer("/spec/rules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .collect();
    !rules.is_empty()
        && rules.iter().all(|r| {
            r.get("filters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .any(|f| {
                    f.get("type").and_then(Value::as_str) == Some("RequestRedirect")
                        && f.pointer("/requestRedirect/scheme").and_then(Value::as_str)
                            == Some("https")
                })
        })
}

pub fn run_listeners(ctx: &Ctx) -> CheckResult {
    let gateways = match ctx.parsed::<Value>(K8S_GATEWAY, "Gateway API listeners") {
        Ok(g) => g,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    // Without routes the plaintext-twin test cannot run; the other two still can.
    let routes = ctx
        .parsed::<Value>(HTTP_ROUTE, "Gateway API listeners")
        .unwrap_or_default();
    let mut findings = Vec::new();
    for (gw, v) in gateways.iter().filter(|(_, v)| is_ingress(v)) {
        let ls = listeners(v);
        let mut problems: Vec<(Severity, String)> = Vec::new();
        for l in &ls {
            let web = matches!(l.protocol, "HTTP" | "HTTPS" | "TLS" | "GRPC");
            if l.from == "All" {
                problems.push((
                    Severity::Medium,
                    format!(
                        "spec.listeners[{}] ({}) allowedRoutes.namespaces.from is All: a route in any namespace can attach and claim its hosts",
                        l.index, l.name
                    ),
                ));
            }
            if web && l.hostname.is_none_or(|h| h == "*") {
                let severity = if l.from == "All" {
                    Severity::Medium
                } else {
                    Severity::Low
                };
                problems.push((
                    severity,
                    format!(
                        "spec.listeners[{}] ({}) has no hostname: it serves every host name",
                        l.index, l.name
                    ),
                ));
            }
        }
        for http in ls.iter().filter(|l| l.protocol == "HTTP") {
            for https in ls.iter().filter(|l| l.protocol == "HTTPS") {
                let twins: Vec<String> = routes
                    .iter()
                    .filter(|(r, rv)| {
                        let parents: Vec<&Value> = rv
                            .pointer("/spec/parentRefs")
                            .and_then(Value::as_array)
                            .into_iter()
                            .flatten()
                            .collect();
                        !redirects_to_https(rv)
                            && parents.iter().any(|p| attaches(r, p, gw, http))
                            && parents.iter().any(|p| attaches(r, p, gw, https))
                    })
                    .map(|(r, _)| r.target.display())
                    .collect();
                if !twins.is_empty() {
                    problems.push((
                        Severity::Medium,
                        format!(
                            "HTTP listener {} serves {} that HTTPS listener {} also serves, without a redirect to https",
                            http.name,
                            twins.join(", "),
                            https.name
                        ),
                    ));
                }
            }
        }
        let Some(f) = ctx.problems(
            &gw.target,
            "Gateway API listener open to every namespace, every host, or plain HTTP",
            &problems,
        ) else {
            continue;
        };
        let f = f
            .remediation(
                "Give each listener a hostname, admit routes only from the namespaces that own them, and attach an https redirect (not the application routes) to the HTTP listener.",
                Some(
                    yaml::header("gateway.networking.k8s.io/v1", "Gateway", &gw.target.namespace, &gw.target.name)
                        + "spec:\n  # keep gatewayClassName\n  listeners:\n  - name: https\n    port: 443\n    protocol: HTTPS\n    hostname: shop.example.com\n    allowedRoutes:\n      namespaces:\n        from: Selector\n        selector:\n          matchLabels:\n            kubernetes.io/metadata.name: shop\n  - name: http\n    port: 80\n    protocol: HTTP\n    hostname: shop.example.com\n    allowedRoutes:\n      namespaces:\n        from: Same  # only the redirect route below\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: https-redirect\n  namespace: "
                        + &gw.target.namespace
                        + "\nspec:\n  parentRefs:\n  - name: "
                        + &gw.target.name
                        + "\n    sectionName: http\n  rules:\n  - filters:\n    - type: RequestRedirect\n      requestRedirect:\n        scheme: https\n        statusCode: 301\n",
                ),
            )
            .reference(API);
        findings.push(f);
    }
    Ok(findings)
}

pub fn run_grants(ctx: &Ctx) -> CheckResult {
    let grants = match ctx.parsed::<Value>(REFERENCE_GRANT, "ReferenceGrants") {
        Ok(g) => g,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    for (o, v) in &grants {
        let open: Vec<(bool, String)> = v
            .pointer("/spec/to")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter(|(_, t)| {
                t.get("name")
                    .and_then(Value::as_str)
                    .is_none_or(str::is_empty)
            })
            .map(|(i, t)| {
                let kind = t.get("kind").and_then(Value::as_str).unwrap_or_default();
                (
                    kind == "Secret",
                    format!("spec.to[{i}] grants every {kind} in {}", o.target.namespace),
                )
            })
            .collect();
        if open.is_empty() {
            continue;
        }
        let from: Vec<String> = v
            .pointer("/spec/from")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|f| {
                format!(
                    "{} in {}",
                    f.get("kind").and_then(Value::as_str).unwrap_or_default(),
                    f.get("namespace")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                )
            })
            .collect();
        let secrets = open.iter().any(|(s, _)| *s);
        let mut f = ctx
            .finding(
                if secrets { Severity::High } else { Severity::Medium },
                &o.target,
                "ReferenceGrant to every object of a kind",
            )
            .confidence(ctx.observed())
            .message(format!(
                "{} lets {} reference objects by any name: {}.",
                o.target.display(),
                from.join(", "),
                open.iter().map(|(_, p)| p.as_str()).collect::<Vec<_>>().join("; ")
            ))
            .remediation(
                "Name each object the other namespace needs in its own `to` entry.",
                Some(
                    yaml::header("gateway.networking.k8s.io/v1beta1", "ReferenceGrant", &o.target.namespace, &o.target.name)
                        + "spec:\n  # keep from\n  to:\n  - group: \"\"\n    kind: Secret\n    name: shop-example-com-cert  # one entry per object\n",
                ),
            )
            .reference("https://gateway-api.sigs.k8s.io/api-types/referencegrant/");
        for (_, p) in &open {
            f = f.evidence(ctx.observed(), Some(&o.target), p);
        }
        findings.push(f);
    }
    Ok(findings)
}

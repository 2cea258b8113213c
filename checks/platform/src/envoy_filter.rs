//! EnvoyFilters that change what enforces security: the RBAC, JWT and external
//! authorization filters, and the TLS of listeners and clusters.

use kridik_sdk::prelude::*;
use kridik_sdk::yaml;
use serde_json::Value;

pub const ENVOY_FILTER: &str = "networking.istio.io/EnvoyFilter";

pub fn info() -> CheckInfo {
    kridik_sdk::info(
        "IST-EF-001",
        "EnvoyFilter removes, replaces or reorders security filters or changes TLS",
        Severity::High,
        "control-plane",
        &[ENVOY_FILTER],
    )
    .description(
        "AuthorizationPolicy, RequestAuthentication and CUSTOM authorization are enforced by \
         Envoy's `envoy.filters.http.rbac`, `jwt_authn` and `ext_authz` filters (and their \
         network variants); PeerAuthentication by the listeners' TLS contexts. An EnvoyFilter \
         patch that REMOVEs, REPLACEs or MERGEs into those filters, or that touches transport \
         sockets and TLS contexts, silently overrides the policies every other check reads \
         (high). A filter inserted before them (INSERT_BEFORE one of them, or INSERT_FIRST \
         among HTTP filters) runs before authorization and can rewrite what it decides on \
         (medium). A removal, replacement or TLS change is one step higher when the \
         EnvoyFilter sits in the root namespace without a selector, where it applies to \
         every proxy in the mesh.",
    )
}

const SECURITY_FILTERS: &[&str] = &[
    "envoy.filters.http.rbac",
    "envoy.filters.http.jwt_authn",
    "envoy.filters.http.ext_authz",
    "envoy.filters.network.rbac",
    "envoy.filters.network.ext_authz",
    "istio_authn",
    "istio.authn",
];
const TLS_KEYS: &[&str] = &[
    "transport_socket",
    "transportSocket",
    "common_tls_context",
    "commonTlsContext",
    "require_client_certificate",
    "requireClientCertificate",
    "tls_params",
    "tlsParams",
    "DownstreamTlsContext",
    "UpstreamTlsContext",
];

/// What one patch does to security, if anything: (high, description).
fn patch_effect(i: usize, p: &Value) -> Option<(bool, String)> {
    let apply = p.get("applyTo").and_then(Value::as_str).unwrap_or_default();
    let op = p
        .pointer("/patch/operation")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let matched = [
        "/match/listener/filterChain/filter/subFilter/name",
        "/match/listener/filterChain/filter/name",
    ]
    .iter()
    .find_map(|ptr| p.pointer(ptr).and_then(Value::as_str))
    .filter(|n| SECURITY_FILTERS.contains(n));
    let value = p
        .pointer("/patch/value")
        .map(Value::to_string)
        .unwrap_or_default();
    let names_security = SECURITY_FILTERS.iter().find(|f| value.contains(*f));
    let at = format!("spec.configPatches[{i}] ({apply} {op})");
    if let Some(filter) = matched {
        return match op {
            "REMOVE" | "REPLACE" | "MERGE" => Some((true, format!("{at} on {filter}"))),
            "INSERT_BEFORE" => Some((false, format!("{at}: a filter runs before {filter}"))),
            _ => None,
        };
    }
    if let (Some(filter), "REPLACE" | "MERGE" | "ADD" | "INSERT_FIRST" | "INSERT_BEFORE") =
        (names_security, op)
    {
        return Some((true, format!("{at} writes its own {filter}")));
    }
    if apply == "TRANSPORT_SOCKET" || TLS_KEYS.iter().any(|k| value.contains(&format!("\"{k}\""))) {
        return Some((
            true,
            format!("{at} changes a transport socket or TLS context"),
        ));
    }
    if apply == "HTTP_FILTER" && op == "INSERT_FIRST" {
        return Some((false, format!("{at}: a filter runs before authorization")));
    }
    None
}

pub fn run(ctx: &Ctx) -> CheckResult {
    let filters = match ctx.parsed::<Value>(ENVOY_FILTER, "EnvoyFilters") {
        Ok(f) => f,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let root = ctx.mesh_config().root_namespace;
    let mut findings = Vec::new();
    for (o, v) in &filters {
        let effects: Vec<(bool, String)> = v
            .pointer("/spec/configPatches")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
            .filter_map(|(i, p)| patch_effect(i, p))
            .collect();
        if effects.is_empty() {
            continue;
        }
        let scoped = v.pointer("/spec/workloadSelector").is_some()
            || v.pointer("/spec/targetRefs").is_some();
        let mesh_wide = o.target.namespace == root && !scoped;
        let scope = if mesh_wide {
            format!("every proxy in the mesh (root namespace {root}, no selector)")
        } else if scoped {
            "the workloads it selects".to_string()
        } else {
            format!("every proxy in namespace {}", o.target.namespace)
        };
        let high = effects.iter().any(|(h, _)| *h);
        let mut f = ctx
            .finding(
                if high { Severity::High } else { Severity::Medium },
                &o.target,
                "EnvoyFilter changes security filters or TLS",
            )
            .confidence(ctx.observed())
            .message(format!(
                "{} applies to {scope} and {}: the policies other checks read may not be what the proxies enforce.",
                o.target.display(),
                effects.iter().map(|(_, e)| e.as_str()).collect::<Vec<_>>().join("; ")
            ))
            .remediation(
                "Express the intent with AuthorizationPolicy, RequestAuthentication, PeerAuthentication or DestinationRule instead; if the EnvoyFilter must stay, scope it with workloadSelector and keep it away from the rbac, jwt_authn and ext_authz filters and TLS contexts.",
                Some(
                    yaml::header("networking.istio.io/v1alpha3", "EnvoyFilter", &o.target.namespace, &o.target.name)
                        + "spec:\n  workloadSelector:\n    labels:\n      app: THE-ONE-WORKLOAD  # never mesh-wide\n  configPatches: []  # no patches on security filters or TLS contexts\n",
                ),
            )
            .reference("https://istio.io/latest/docs/reference/config/networking/envoy-filter/");
        for (_, e) in &effects {
            f = f.evidence(ctx.observed(), Some(&o.target), e);
        }
        if mesh_wide && high {
            f = f.raised(ctx.observed(), Some(scope));
        }
        findings.push(f);
    }
    Ok(findings)
}

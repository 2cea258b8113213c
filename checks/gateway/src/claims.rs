//! Routing on JWT claims at a gateway that validates no JWT (istioctl's
//! IST0149, pkg/config/analysis/analyzers/virtualservice/jwtclaimroute.go).
//! The proxy fills `@request.auth.claims.*` only from a token that a
//! RequestAuthentication on that proxy validated (pkg/jwt/routing.go
//! `ToRoutingClaim`): without one, a `headers` match on a claim never
//! matches and a `withoutHeaders` match always does, so routes meant to keep
//! users apart by claim keep nobody apart.

use crate::servers::{self, Gateway, GATEWAY_DOCS};
use crate::virtual_service::VirtualService;
use kridik_sdk::kinds::{GATEWAY, REQUEST_AUTHENTICATION, VIRTUAL_SERVICE};
use kridik_sdk::prelude::*;
use kridik_sdk::yaml;
use serde::Deserialize;
use std::collections::BTreeMap;

const CLAIM_PREFIX: &str = "@request.auth.claims";
const DOCS: &str = "https://istio.io/latest/docs/tasks/security/authentication/jwt-route/";

pub fn info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-AUTHN-003",
        "Route matches JWT claims at a gateway that validates no JWT",
        Severity::Medium,
        "authentication",
        &[VIRTUAL_SERVICE, GATEWAY, REQUEST_AUTHENTICATION],
    )
    .description(
        "A VirtualService bound to a Gateway routes on `@request.auth.claims.*` headers, but no \
         RequestAuthentication applies to the gateway's pods. Envoy fills those claims only from \
         a token a RequestAuthentication validated on that proxy: without one, a claim in \
         `headers` never matches and a claim in `withoutHeaders` always does, so the routing \
         meant to separate callers by claim lets everyone take the same route (istioctl \
         IST0149). Offline, when the gateway's pods are not in the input, reported INFERRED if \
         no RequestAuthentication in the input could select them.",
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RequestAuthentication {
    spec: RaSpec,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RaSpec {
    selector: Option<Selector>,
    target_ref: Option<serde_json::Value>,
    target_refs: Vec<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Selector {
    match_labels: BTreeMap<String, String>,
}

/// A header name Istio reads as a JWT claim: `@request.auth.claims.a.b` or
/// `@request.auth.claims[a][b]` (case-insensitive prefix, as `ToRoutingClaim`).
fn is_claim(header: &str) -> bool {
    let Some(prefix) = header.get(..CLAIM_PREFIX.len()) else {
        return false;
    };
    if !prefix.eq_ignore_ascii_case(CLAIM_PREFIX) {
        return false;
    }
    let rest = &header[CLAIM_PREFIX.len()..];
    (rest.starts_with('.') && rest.len() > 1)
        || (rest.starts_with('[') && rest.ends_with(']') && rest.len() > 2)
}

/// The first claim header the VirtualService's HTTP routes match on.
fn claim_key(vs: &VirtualService) -> Option<&str> {
    vs.spec
        .http
        .iter()
        .flat_map(|r| &r.matches)
        .flat_map(|m| m.headers.keys().chain(m.without_headers.keys()))
        .map(String::as_str)
        .find(|k| is_claim(k))
}

/// Could a RequestAuthentication select gateway pods labelled `labels` that
/// are not in the input? Their namespace is unknown: the mesh root or the
/// Gateway's own is where installs put them.
fn could_select(
    ra: &RequestAuthentication,
    ra_ns: &str,
    labels: &BTreeMap<String, String>,
    namespaces: &[&str],
) -> bool {
    if ra.spec.target_ref.is_some() || !ra.spec.target_refs.is_empty() {
        return false;
    }
    let in_scope = namespaces.contains(&ra_ns);
    match &ra.spec.selector {
        None => in_scope,
        Some(s) => in_scope && s.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v)),
    }
}

pub fn run(ctx: &Ctx) -> CheckResult {
    let services = match ctx.parsed::<VirtualService>(VIRTUAL_SERVICE, "JWT claim routing") {
        Ok(v) => v,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let routing: Vec<_> = services
        .into_iter()
        .filter_map(|(o, vs)| claim_key(vs).map(|k| (o, vs, k)))
        .collect();
    if routing.is_empty() {
        return Ok(vec![]);
    }
    let gateways = match servers::gateways(ctx, "JWT claim routing") {
        Ok(g) => g,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let root = ctx.mesh_config().root_namespace;
    let mut findings = Vec::new();
    for (o, vs, claim) in routing {
        for name in vs.spec.gateways.iter().filter(|g| *g != "mesh") {
            let (ns, gw_name) = name
                .split_once('/')
                .unwrap_or((&o.target.namespace, name.as_str()));
            let Some((gw_obj, gw)) = gateways
                .iter()
                .find(|(g, _)| g.target.namespace == ns && g.target.name == gw_name)
            else {
                continue;
            };
            if let Some(f) = unvalidated(ctx, o, claim, gw_obj, gw, &root) {
                findings.push(f);
            }
        }
    }
    Ok(findings)
}

/// The finding for one VirtualService on one Gateway whose pods no
/// RequestAuthentication covers, if that is so.
fn unvalidated(
    ctx: &Ctx,
    o: &Object,
    claim: &str,
    gw_obj: &Object,
    gw: &Gateway,
    root: &str,
) -> Option<kridik_sdk::Finding> {
    let selector = &gw.spec.selector;
    // A Gateway without a selector is not bound to particular pods.
    if selector.is_empty() {
        return None;
    }
    let pods: Vec<&Workload> = ctx
        .workloads()
        .iter()
        .filter(|w| selector.iter().all(|(k, v)| w.label(k) == Some(v)))
        .collect();
    let gateway = gw_obj.target.display();
    let (confidence, why, evidence) = if pods.is_empty() {
        // Offline the gateway is often installed, not in the manifests: say so
        // only when nothing in the input could validate a token for it.
        if ctx.source() == kridik_sdk::SourceKind::Live {
            return None;
        }
        let ras = ctx
            .parsed::<RequestAuthentication>(REQUEST_AUTHENTICATION, "JWT claim routing")
            .ok()?;
        let namespaces = [root, gw_obj.target.namespace.as_str()];
        if ras
            .iter()
            .any(|(r, ra)| could_select(ra, &r.target.namespace, selector, &namespaces))
        {
            return None;
        }
        (
            Confidence::Inferred,
            format!(
                "the pods of {gateway} are not in the input, and no RequestAuthentication \
                 in it (in {root} or {}) selects {}",
                gw_obj.target.namespace,
                labels_text(selector)
            ),
            vec![format!(
                "no RequestAuthentication selects {}",
                labels_text(selector)
            )],
        )
    } else {
        if pods.iter().any(|w| !w.request_authentications.is_empty()) {
            return None;
        }
        let names: Vec<&str> = pods.iter().map(|w| w.id.as_str()).collect();
        (
            kridik_sdk::weakest(pods.iter().map(|w| w.enrollment.confidence)),
            format!(
                "no RequestAuthentication applies to its pods ({})",
                names.join(", ")
            ),
            pods.iter()
                .map(|w| format!("{}: no RequestAuthentication applies", w.id))
                .collect(),
        )
    };
    let ra_ns = pods
        .first()
        .map(|w| w.namespace.clone())
        .unwrap_or_else(|| root.to_string());
    let mut finding = ctx
        .finding(Severity::Medium, &o.target, "Route matches JWT claims at a gateway that validates no JWT")
        .confidence(confidence)
        .message(format!(
            "{} routes on `{claim}` at {gateway}, but {why}. The proxy \
             fills claims only from a token a RequestAuthentication validated there: a claim in \
             `headers` never matches and one in `withoutHeaders` always does, so every caller \
             takes the same route.",
            o.target.display()
        ))
        .remediation(
            "Validate the tokens at the gateway: a RequestAuthentication selecting its pods, with \
             the issuer whose claims the routes match (and an AuthorizationPolicy requiring a \
             requestPrincipal if a token is mandatory).",
            Some(format!(
                "{}spec:\n  selector:\n{}  jwtRules:\n  - issuer: \"https://issuer.example.com\"  # the issuer of the claims routed on\n    jwksUri: \"https://issuer.example.com/.well-known/jwks.json\"\n",
                yaml::header(
                    "security.istio.io/v1",
                    "RequestAuthentication",
                    &ra_ns,
                    &format!("{}-jwt", gw_obj.target.name)
                ),
                yaml::map(4, "matchLabels", selector)
            )),
        )
        .reference(DOCS)
        .reference(GATEWAY_DOCS);
    finding = finding.evidence(
        confidence,
        Some(&gw_obj.target),
        &format!("{gateway} selects {}", labels_text(selector)),
    );
    for e in evidence.iter().take(10) {
        finding = finding.evidence(confidence, None, e);
    }
    Some(finding)
}

fn labels_text(labels: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_headers_are_recognised_as_istio_does() {
        assert!(is_claim("@request.auth.claims.group"));
        assert!(is_claim("@Request.Auth.Claims.group"));
        assert!(is_claim("@request.auth.claims[group][sub]"));
        assert!(!is_claim("@request.auth.claims."));
        assert!(!is_claim("@request.auth.claims[]"));
        assert!(!is_claim("@request.auth.claimsgroup"));
        assert!(!is_claim("x-claims-group"));
        assert!(!is_claim("@request.auth"));
    }
}

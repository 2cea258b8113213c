//! CORS at the mesh's edge: a VirtualService `corsPolicy` that lets any web
//! origin read responses with the user's credentials.

use crate::virtual_service::VirtualService;
use kridik_sdk::kinds::VIRTUAL_SERVICE;
use kridik_sdk::prelude::*;
use kridik_sdk::yaml;
use serde_json::Value;

pub fn info() -> CheckInfo {
    kridik_sdk::info(
        "IST-GW-011",
        "CORS policy lets any origin make credentialed requests",
        Severity::Medium,
        "ingress",
        &[VIRTUAL_SERVICE],
    )
    .description(
        "A VirtualService `corsPolicy` with `allowCredentials: true` and an `allowOrigins` \
         entry that matches every origin (`regex: \".*\"`, `exact: \"*\"`, an empty or \
         scheme-only `prefix`, or the deprecated `allowOrigin: [\"*\"]`) makes Envoy echo the \
         caller's origin with `Access-Control-Allow-Credentials: true`: any web page a user \
         visits can send requests with the user's cookies and read the answers. An origin \
         `null` (sandboxed frames, `file:` pages) is as open. Medium; one step higher when \
         the route is bound to a gateway (reachable from outside the mesh).",
    )
}

/// An `allowOrigins` entry (istio.io StringMatch) that matches any origin,
/// described; None for a specific origin.
fn any_origin(m: &Value) -> Option<String> {
    let field = |k: &str| m.get(k).and_then(Value::as_str);
    if let Some(exact) = field("exact") {
        return matches!(exact, "*" | "null").then(|| format!("exact {exact:?}"));
    }
    if let Some(prefix) = field("prefix") {
        // Every prefix of a scheme (`""`, `"ht"`, `"https://"`) admits any origin.
        let open = "https://".starts_with(prefix) || "http://".starts_with(prefix);
        return open.then(|| format!("prefix {prefix:?}"));
    }
    let regex = field("regex")?;
    // A pattern that stays open whatever follows the scheme.
    let open = [
        ".*",
        ".+",
        "^.*$",
        "^.+$",
        "https?://.*",
        "https?://.+",
        "^https?://.*$",
        "https://.*",
        "http://.*",
        "(.*)",
    ]
    .contains(&regex)
        || regex.starts_with(".*") && !regex.contains('\\');
    open.then(|| format!("regex {regex:?}"))
}

pub fn run(ctx: &Ctx) -> CheckResult {
    let services = match ctx.parsed::<VirtualService>(VIRTUAL_SERVICE, "CORS policies") {
        Ok(s) => s,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    for (o, v) in &services {
        let mut open = Vec::new();
        for (i, route) in v.spec.http.iter().enumerate() {
            let Some(cors) = &route.cors_policy else {
                continue;
            };
            if cors.get("allowCredentials").and_then(Value::as_bool) != Some(true) {
                continue;
            }
            let mut origins: Vec<String> = cors
                .get("allowOrigins")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(any_origin)
                .collect();
            origins.extend(
                cors.get("allowOrigin")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .filter(|o| matches!(*o, "*" | "null"))
                    .map(|o| format!("allowOrigin {o:?}")),
            );
            if !origins.is_empty() {
                open.push(format!(
                    "spec.http[{i}].corsPolicy allows credentials for {}",
                    origins.join(", ")
                ));
            }
        }
        if open.is_empty() {
            continue;
        }
        let gateways: Vec<&str> = v
            .spec
            .gateways
            .iter()
            .map(String::as_str)
            .filter(|g| *g != "mesh")
            .collect();
        let hosts = v.spec.hosts.join(", ");
        let mut f = ctx
            .finding(Severity::Medium, &o.target, "CORS policy lets any origin make credentialed requests")
            .confidence(ctx.observed())
            .message(format!(
                "{} ({}): {}. Any web page a user opens can call these routes with the user's cookies and read the answers.",
                o.target.display(),
                hosts,
                open.join("; ")
            ))
            .remediation(
                "List the exact origins that may send credentials (allowOrigins exact), or turn allowCredentials off.",
                Some(
                    yaml::header("networking.istio.io/v1", "VirtualService", &o.target.namespace, &o.target.name)
                        + "spec:\n  http:\n  - corsPolicy:\n      allowOrigins:\n      - exact: https://app.example.com  # each trusted origin, exactly\n      allowCredentials: true\n",
                ),
            )
            .reference("https://istio.io/latest/docs/reference/config/networking/virtual-service/#CorsPolicy");
        for e in &open {
            f = f.evidence(ctx.observed(), Some(&o.target), e);
        }
        if !gateways.is_empty() {
            f = f.raised(
                ctx.observed(),
                Some(format!("bound to gateway(s) {}", gateways.join(", "))),
            );
        }
        findings.push(f);
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn origins_that_match_anything_are_told_apart_from_specific_ones() {
        for open in [
            json!({"regex": ".*"}),
            json!({"regex": "https?://.*"}),
            json!({"exact": "*"}),
            json!({"exact": "null"}),
            json!({"prefix": ""}),
            json!({"prefix": "https://"}),
        ] {
            assert!(any_origin(&open).is_some(), "{open}");
        }
        for specific in [
            json!({"exact": "https://app.example.com"}),
            json!({"prefix": "https://app.example.com"}),
            json!({"regex": "https://.*\\.example\\.com"}),
        ] {
            assert!(any_origin(&specific).is_none(), "{specific}");
        }
    }
}

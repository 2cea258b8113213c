//! WasmPlugins: code every selected proxy loads and runs inside the request
//! path, so where it comes from and what happens when it fails to load are
//! security decisions.

use kridik_sdk::prelude::*;
use kridik_sdk::yaml;
use serde_json::Value;

pub const WASM_PLUGIN: &str = "extensions.istio.io/WasmPlugin";

pub fn info() -> CheckInfo {
    kridik_sdk::info(
        "IST-WASM-001",
        "WasmPlugin loaded without integrity, or an auth plugin that fails open",
        Severity::High,
        "data-plane",
        &[WASM_PLUGIN],
    )
    .description(
        "A WasmPlugin's module runs inside every proxy it selects, in the request path. Its \
         `url` is fetched by the istio-agent (`oci://`, the default when no scheme is given, \
         or `https://`/`http://`), and only `sha256` (or an image digest `@sha256:`) makes \
         the proxy refuse a module other than the one reviewed \
         (pilot/pkg/model/extensions.go `buildDataSource`). Fetched over plain `http://` \
         without `sha256`, anyone on the path can replace the code (high); a tag without a \
         digest or `sha256` runs whatever is pushed under it next (low). `failStrategy: \
         FAIL_OPEN` makes the proxy skip a module it cannot fetch or that crashes \
         (`FailurePolicy_FAIL_OPEN`): for a plugin in the AUTHN or AUTHZ phase, requests \
         then pass without the check it performs (high). One step higher when the plugin sits \
         in the root namespace without a selector or targetRefs, where it applies to every \
         proxy in the mesh.",
    )
}

/// The scheme Istio fetches `url` with: `oci` when none is written.
fn scheme(url: &str) -> &str {
    match url.split_once("://") {
        Some((s, _)) => s,
        None => "oci",
    }
}

/// What is wrong with one plugin.
fn problems(spec: &Value) -> Vec<(Severity, String)> {
    let text = |k: &str| spec.get(k).and_then(Value::as_str).unwrap_or_default();
    let url = text("url");
    let pinned = !text("sha256").is_empty() || url.contains("@sha256:");
    let mut out = Vec::new();
    match scheme(url).to_ascii_lowercase().as_str() {
        "http" if !pinned => out.push((
            Severity::High,
            format!("spec.url {url} is fetched over plain HTTP and no sha256 pins the module: anyone on the path can replace the code the proxies run"),
        )),
        "file" | "http" => {}
        _ if !pinned && !url.is_empty() => out.push((
            Severity::Low,
            format!("spec.url {url} names no digest and spec.sha256 is unset: whatever is pushed under that reference next runs in the proxies"),
        )),
        _ => {}
    }
    let phase = text("phase");
    if text("failStrategy") == "FAIL_OPEN" && matches!(phase, "AUTHN" | "AUTHZ") {
        out.push((
            Severity::High,
            format!("spec.failStrategy is FAIL_OPEN for a plugin in phase {phase}: when its module cannot be fetched or crashes, requests pass without the check it performs"),
        ));
    }
    out
}

pub fn run(ctx: &Ctx) -> CheckResult {
    let plugins = match ctx.parsed::<Value>(WASM_PLUGIN, "WasmPlugins") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let root = ctx.mesh_config().root_namespace;
    let mut findings = Vec::new();
    for (o, v) in &plugins {
        let spec = v.get("spec").unwrap_or(&Value::Null);
        let problems = problems(spec);
        if problems.is_empty() {
            continue;
        }
        let scoped = ["selector", "targetRefs", "targetRef"]
            .iter()
            .any(|k| spec.get(k).is_some_and(|s| !s.is_null()));
        let mesh_wide = o.target.namespace == root && !scoped;
        let scope = if mesh_wide {
            format!("every proxy in the mesh (root namespace {root}, no selector)")
        } else if scoped {
            "the proxies it selects".to_string()
        } else {
            format!("every proxy in namespace {}", o.target.namespace)
        };
        let url = spec.get("url").and_then(Value::as_str).unwrap_or_default();
        let name = url
            .rsplit('/')
            .next()
            .and_then(|n| n.split([':', '@']).next())
            .filter(|n| !n.is_empty())
            .unwrap_or("PLUGIN");
        let phase = spec
            .get("phase")
            .and_then(Value::as_str)
            .unwrap_or("UNSPECIFIED_PHASE");
        let fix = yaml::header(
            "extensions.istio.io/v1alpha1",
            "WasmPlugin",
            &o.target.namespace,
            &o.target.name,
        ) + &format!(
            "spec:\n  url: oci://REGISTRY/{name}@sha256:DIGEST  # a digest, fetched over TLS\n  sha256: DIGEST  # the module's own sha256: the proxy refuses any other\n  phase: {phase}\n  failStrategy: FAIL_CLOSE  # a module that fails to load stops traffic, never skips the check\n"
        );
        let Some(mut f) = ctx.problems(
            &o.target,
            "WasmPlugin runs unpinned code or fails open",
            &problems,
        ) else {
            continue;
        };
        f = f
            .evidence(ctx.observed(), Some(&o.target), &format!("runs in {scope}"))
            .remediation(
                "Pin the module (an image digest and spec.sha256), fetch it over TLS, and keep failStrategy FAIL_CLOSE for plugins that authenticate or authorize.",
                Some(fix),
            )
            .reference("https://istio.io/latest/docs/reference/config/proxy_extensions/wasm-plugin/");
        if mesh_wide {
            f = f.raised(ctx.observed(), Some(scope));
        }
        findings.push(f);
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn highs(spec: Value) -> Vec<bool> {
        problems(&spec)
            .into_iter()
            .map(|(s, _)| s == Severity::High)
            .collect()
    }

    #[test]
    fn origin_and_pinning_are_graded() {
        assert_eq!(
            highs(json!({"url": "http://files.example/auth.wasm"})),
            vec![true]
        );
        // sha256 makes the proxy verify what it fetched, whatever the transport.
        assert!(
            highs(json!({"url": "http://files.example/auth.wasm", "sha256": "ab12"})).is_empty()
        );
        // No scheme is oci://; a tag is not a pin.
        assert_eq!(highs(json!({"url": "ghcr.io/acme/auth:1.0"})), vec![false]);
        assert_eq!(
            highs(json!({"url": "oci://ghcr.io/acme/auth:latest"})),
            vec![false]
        );
        assert!(highs(json!({"url": "oci://ghcr.io/acme/auth@sha256:0123"})).is_empty());
        assert!(highs(json!({"url": "file:///opt/filters/auth.wasm"})).is_empty());
    }

    #[test]
    fn failing_open_matters_for_auth_phases_only() {
        let pinned = "oci://ghcr.io/acme/auth@sha256:0123";
        assert_eq!(
            highs(json!({"url": pinned, "phase": "AUTHZ", "failStrategy": "FAIL_OPEN"})),
            vec![true]
        );
        assert_eq!(
            highs(json!({"url": pinned, "phase": "AUTHN", "failStrategy": "FAIL_OPEN"})),
            vec![true]
        );
        assert!(
            highs(json!({"url": pinned, "phase": "STATS", "failStrategy": "FAIL_OPEN"})).is_empty()
        );
        assert!(highs(json!({"url": pinned, "phase": "AUTHZ"})).is_empty());
    }
}

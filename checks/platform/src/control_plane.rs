//! Control plane: tokens, plaintext XDS, debug endpoints, CNI.

use crate::istio::{self, env, flag, istiods};
use kridik_sdk::kinds::SERVICE;
use kridik_sdk::prelude::*;
use serde_json::Value;

const BEST: &str = "https://istio.io/latest/docs/ops/best-practices/security/";

pub fn jwt_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-JWT-001",
        "Proxies authenticate to istiod with first-party service account tokens",
        Severity::Medium,
        "control-plane",
        &[],
    )
    .description(
        "With `jwtPolicy: first-party-jwt` proxies present the pod's legacy service account \
         token, which never expires and is accepted by every audience (including the \
         Kubernetes API). Third-party tokens are audience-bound and short-lived. Medium: a \
         leaked token is a long-lived credential.",
    )
}

pub fn run_jwt(ctx: &Ctx) -> CheckResult {
    let (install, source) = istio::install(ctx);
    let mut evidence = Vec::new();
    if install
        .pointer("/values/global/jwtPolicy")
        .and_then(Value::as_str)
        == Some("first-party-jwt")
    {
        evidence.push((
            source.clone(),
            "values.global.jwtPolicy is first-party-jwt".to_string(),
        ));
    }
    for w in istiods(ctx) {
        if env(w, "JWT_POLICY") == Some("first-party-jwt") {
            evidence.push((
                Some(w.target.clone()),
                format!("{} has JWT_POLICY=first-party-jwt", w.id),
            ));
        }
    }
    let Some((object, _)) = evidence.first().cloned() else {
        return Ok(vec![]);
    };
    let object = object.unwrap_or_else(|| ObjectRef::namespace(&ctx.mesh_config().root_namespace));
    let mut f = ctx
        .finding(Severity::Medium, &object, "First-party service account tokens in use")
        .confidence(ctx.observed())
        .message("Istio is installed with jwtPolicy first-party-jwt: proxies use non-expiring, audience-less service account tokens.")
        .remediation(
            "Install with third-party tokens (the default on clusters with the TokenRequest API).",
            Some("# istioctl / IstioOperator\nspec:\n  values:\n    global:\n      jwtPolicy: third-party-jwt\n# Helm: --set global.jwtPolicy=third-party-jwt\n".into()),
        )
        .reference(&format!("{BEST}#configure-third-party-service-account-tokens"));
    for (o, detail) in &evidence {
        f = f.evidence(ctx.observed(), o.as_ref(), detail);
    }
    Ok(vec![f])
}

pub fn ports_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-CP-001",
        "istiod serves plaintext XDS (15010) or debug over HTTP (8080)",
        Severity::Medium,
        "control-plane",
        &[SERVICE],
    )
    .description(
        "istiod's port 15010 serves configuration (XDS) without TLS, and port 8080 exposes \
         a debug interface with read access to cluster state, unless `--grpcAddr=\"\"` and \
         `ENABLE_DEBUG_ON_HTTP=false` turn them off. Medium when a Service exposes 15010 \
         (any pod can read mesh configuration), low otherwise.",
    )
}

pub fn run_ports(ctx: &Ctx) -> CheckResult {
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Service {
        spec: Spec,
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Spec {
        ports: Vec<Port>,
    }
    #[derive(serde::Deserialize, Default)]
    #[serde(default)]
    struct Port {
        port: u32,
    }
    // istiod's own Services, looked up by name: parsing every Service of the
    // mesh for the two or three that front istiod cost more than the check.
    if let Err(missing) = ctx.access(SERVICE) {
        return Ok(vec![
            ctx.unknown(&missing, "istiod ports could not be assessed")
        ]);
    }
    let mut findings = Vec::new();
    for w in istiods(ctx) {
        let mut open = Vec::new();
        let xds_off = flag(w, "--grpcAddr").is_some_and(|v| v.is_empty() || v == "\"\"");
        let mut exposed: Vec<ObjectRef> = Vec::new();
        for r in &w.services {
            match ctx.object(SERVICE, &r.namespace, &r.name) {
                Ok(Some(o)) => {
                    if o.parse::<Service>()
                        .is_ok_and(|s| s.spec.ports.iter().any(|p| p.port == 15010))
                    {
                        exposed.push(o.target);
                    }
                }
                Ok(None) => {}
                Err(missing) => {
                    return Ok(vec![
                        ctx.unknown(&missing, "istiod ports could not be assessed")
                    ])
                }
            }
        }
        if !xds_off {
            open.push(match exposed.first() {
                Some(svc) => format!(
                    "plaintext XDS on 15010 is enabled and {} exposes it",
                    svc.display()
                ),
                None => "plaintext XDS on 15010 is enabled (no --grpcAddr=\"\")".to_string(),
            });
        }
        if env(w, "ENABLE_DEBUG_ON_HTTP") != Some("false") {
            open.push(
                "debug endpoints on HTTP 8080 are enabled (ENABLE_DEBUG_ON_HTTP is not \"false\")"
                    .into(),
            );
        }
        if open.is_empty() {
            continue;
        }
        let severity = if !xds_off && !exposed.is_empty() {
            Severity::Medium
        } else {
            Severity::Low
        };
        let mut f = ctx
            .finding(severity, &w.target, "istiod serves plaintext or debug ports")
            .confidence(ctx.observed())
            .message(format!("{}: {}.", w.id, open.join("; ")))
            .remediation(
                "Disable plaintext XDS and the HTTP debug interface on istiod (istioctl commands that \
                 need debug data then use the authenticated 15014/15012 paths).",
                Some("# istiod Deployment, discovery container (or Helm pilot.env / IstioOperator values.pilot.env)\nspec:\n  template:\n    spec:\n      containers:\n      - name: discovery\n        args: [\"discovery\", \"--grpcAddr=\", \"--monitoringAddr=:15014\"]\n        env:\n        - name: ENABLE_DEBUG_ON_HTTP\n          value: \"false\"\n".into()),
            )
            .reference(&format!("{BEST}#control-plane"));
        for detail in &open {
            f = f.evidence(ctx.observed(), Some(&w.target), detail);
        }
        findings.push(f);
    }
    Ok(findings)
}

pub fn cni_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-CNI-001",
        "Sidecars are set up by istio-init with NET_ADMIN and NET_RAW (no istio-cni)",
        Severity::Low,
        "data-plane",
        &[],
    )
    .description(
        "Without the istio-cni node agent, every injected pod runs the `istio-init` init \
         container with NET_ADMIN and NET_RAW to program iptables, so application \
         namespaces must admit privileged capabilities. istio-cni moves that to one \
         DaemonSet. Low: it widens what a compromised pod spec may ask for.",
    )
}

pub fn run_cni(ctx: &Ctx) -> CheckResult {
    let (install, source) = istio::install(ctx);
    let cni_enabled = [
        "/components/cni/enabled",
        "/values/istio_cni/enabled",
        "/values/cni/enabled",
    ]
    .iter()
    .any(|p| install.pointer(p).and_then(Value::as_bool) == Some(true));
    let cni_agent = ctx.istio_components().iter().any(|w| {
        w.name.contains("istio-cni") || w.containers.iter().any(|c| c.image.contains("install-cni"))
    });
    let sidecars: Vec<&Workload> = ctx
        .workloads()
        .iter()
        .filter(|w| w.enrollment.dataplane == Dataplane::Sidecar)
        .collect();
    if cni_enabled || cni_agent || sidecars.is_empty() {
        return Ok(vec![]);
    }
    let init: Vec<&Workload> = sidecars
        .iter()
        .copied()
        .filter(|w| {
            w.containers
                .iter()
                .any(|c| c.init && c.name == "istio-init")
        })
        .collect();
    // Pods seen running istio-init prove it; otherwise the absence of CNI is inferred.
    let confidence = if init.is_empty() {
        Confidence::Inferred
    } else {
        Confidence::Verified
    };
    let object = source.unwrap_or_else(|| ObjectRef::namespace(&ctx.mesh_config().root_namespace));
    let mut f = ctx
        .finding(Severity::Low, &object, "istio-cni is not used: pods need NET_ADMIN and NET_RAW")
        .confidence(confidence)
        .message(format!(
            "{} sidecar workload(s) and no istio-cni agent or cni setting in the snapshot: \
             injection adds istio-init with NET_ADMIN/NET_RAW{}.",
            sidecars.len(),
            if init.is_empty() { String::new() } else { format!("; {} workload(s) run it", init.len()) }
        ))
        .remediation(
            "Install istio-cni and enable it for sidecar injection.",
            Some("# IstioOperator\nspec:\n  components:\n    cni:\n      enabled: true\n# Helm: helm install istio-cni istio/cni -n istio-system; istiod with --set pilot.cni.enabled=true\n".into()),
        )
        .reference("https://istio.io/latest/docs/setup/additional-setup/cni/");
    for w in init.iter().take(10) {
        let caps: Vec<&str> = w
            .containers
            .iter()
            .filter(|c| c.name == "istio-init")
            .flat_map(|c| c.capabilities_added.iter().map(String::as_str))
            .collect();
        f = f.evidence(
            Confidence::Verified,
            Some(&w.target),
            &format!("{} runs istio-init (capabilities {:?})", w.id, caps),
        );
    }
    Ok(vec![f])
}

pub fn weakened_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-CP-002",
        "Control plane or injector settings that weaken identity and authentication",
        Severity::High,
        "control-plane",
        &[],
    )
    .description(
        "istiod settings (container env or `values.pilot.env`) that turn off checks the mesh's \
         identities rest on: `XDS_AUTH=false` (configuration served to unauthenticated \
         clients), `PILOT_ENABLE_XDS_IDENTITY_CHECK=false` (a proxy may ask for another \
         workload's configuration), `PILOT_SKIP_VALIDATE_TRUST_DOMAIN=true` (peer \
         certificates from any trust domain accepted), a `TRUSTED_GATEWAY_CIDR` of /16 or \
         wider (clients there may assert identities through forwarded certificates) (high); \
         `CA_TRUSTED_NODE_ACCOUNTS` beyond ztunnel (those accounts may obtain certificates \
         for any pod on their node), injector `values.global.proxy.privileged: true` (every \
         sidecar runs privileged), meshConfig `trustDomainAliases` (policies naming the \
         mesh's principals also admit the aliased trust domains) and `caCertificates` \
         (extra trust anchors for peer certificates) (medium).",
    )
}

/// An istiod env value, from the running istiod or the installation values.
fn istiod_env<'a>(
    ctx: &'a Ctx,
    install: &'a Value,
    name: &str,
) -> Vec<(Option<ObjectRef>, String, String)> {
    let mut out: Vec<(Option<ObjectRef>, String, String)> = istiods(ctx)
        .into_iter()
        .filter_map(|w| env(w, name).map(|v| (Some(w.target.clone()), v.to_string(), w.id.clone())))
        .collect();
    if let Some(v) = install.pointer(&format!("/values/pilot/env/{name}")) {
        let text = v
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| v.to_string());
        out.push((None, text, "values.pilot.env".into()));
    }
    out
}

/// A CIDR list as wide as /16 or wider.
fn broad_cidr(list: &str) -> Option<&str> {
    list.split(',').map(str::trim).find(|c| {
        c.split_once('/')
            .and_then(|(ip, bits)| Some((ip.contains(':'), bits.parse::<u8>().ok()?)))
            .is_some_and(|(v6, bits)| bits <= if v6 { 48 } else { 16 })
    })
}

pub fn run_weakened(ctx: &Ctx) -> CheckResult {
    let (install, install_source) = istio::install(ctx);
    let mesh = ctx.mesh_config();
    let mut problems: Vec<(bool, Option<ObjectRef>, String)> = Vec::new();
    let mut flagged = |name: &str, bad: &dyn Fn(&str) -> Option<(bool, String)>| {
        for (object, value, where_) in istiod_env(ctx, &install, name) {
            if let Some((high, why)) = bad(&value) {
                problems.push((
                    high,
                    object.or(install_source.clone()),
                    format!("{where_}: {name}={value}: {why}"),
                ));
            }
        }
    };
    flagged("XDS_AUTH", &|v| {
        (v == "false").then(|| {
            (
                true,
                "istiod serves configuration without authenticating clients".into(),
            )
        })
    });
    flagged("PILOT_ENABLE_XDS_IDENTITY_CHECK", &|v| {
        (v == "false").then(|| {
            (
                true,
                "a proxy may request another workload's configuration".into(),
            )
        })
    });
    flagged("PILOT_SKIP_VALIDATE_TRUST_DOMAIN", &|v| {
        (v == "true").then(|| {
            (
                true,
                "peer certificates of any trust domain are accepted".into(),
            )
        })
    });
    flagged("TRUSTED_GATEWAY_CIDR", &|v| {
        broad_cidr(v).map(|c| (true, format!("{c} is trusted to forward client identities")))
    });
    flagged("CA_TRUSTED_NODE_ACCOUNTS", &|v| {
        let extra: Vec<&str> = v
            .split(',')
            .map(str::trim)
            .filter(|a| !a.is_empty() && !a.ends_with("/ztunnel"))
            .collect();
        (!extra.is_empty()).then(|| {
            (
                false,
                format!(
                    "{} may obtain certificates for any pod on their node",
                    extra.join(", ")
                ),
            )
        })
    });
    if install
        .pointer("/values/global/proxy/privileged")
        .and_then(Value::as_bool)
        == Some(true)
    {
        problems.push((
            false,
            install_source.clone(),
            "values.global.proxy.privileged is true: every injected sidecar runs privileged".into(),
        ));
    }
    let config: Value = serde_json::from_str(&mesh.json).unwrap_or_default();
    let aliases: Vec<&str> = config
        .get("trustDomainAliases")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect();
    if config
        .get("caCertificates")
        .and_then(Value::as_array)
        .is_some_and(|a| !a.is_empty())
    {
        problems.push((
            false,
            mesh.source.clone(),
            "meshConfig.caCertificates adds trust anchors: peers with certificates from those roots are accepted".into(),
        ));
    }
    if !aliases.is_empty() {
        problems.push((
            false,
            mesh.source.clone(),
            format!(
                "meshConfig.trustDomainAliases {aliases:?}: principals of these trust domains match policies written for {}",
                mesh.trust_domain
            ),
        ));
    }
    let Some(object) = problems
        .iter()
        .find_map(|(_, o, _)| o.clone())
        .or_else(|| (!problems.is_empty()).then(|| ObjectRef::namespace(&mesh.root_namespace)))
    else {
        return Ok(vec![]);
    };
    let high = problems.iter().any(|(h, _, _)| *h);
    let mut f = ctx
        .finding(
            if high { Severity::High } else { Severity::Medium },
            &object,
            "Control plane settings weaken identity and authentication",
        )
        .confidence(ctx.observed())
        .message(format!(
            "{}.",
            problems.iter().map(|(_, _, p)| p.as_str()).collect::<Vec<_>>().join("; ")
        ))
        .remediation(
            "Remove these overrides so istiod runs with its secure defaults.",
            Some("# IstioOperator / Helm values\nspec:\n  values:\n    global:\n      proxy:\n        privileged: false\n    pilot:\n      env: {}  # no XDS_AUTH, PILOT_ENABLE_XDS_IDENTITY_CHECK, PILOT_SKIP_VALIDATE_TRUST_DOMAIN, TRUSTED_GATEWAY_CIDR overrides\n  meshConfig:\n    trustDomainAliases: []  # only during a trust domain migration\n".into()),
        )
        .reference("https://istio.io/latest/docs/reference/commands/pilot-discovery/#envvars");
    for (_, o, p) in &problems {
        f = f.evidence(ctx.observed(), o.as_ref(), p);
    }
    Ok(vec![f])
}

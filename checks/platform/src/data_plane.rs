//! Data plane: what lets traffic or workloads slip past the proxy.

use kridik_sdk::kinds::SERVICE;
use kridik_sdk::prelude::*;

const BEST: &str = "https://istio.io/latest/docs/ops/best-practices/security/";

pub fn bypass_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-DP-001",
        "Traffic capture exclusions let traffic bypass the sidecar",
        Severity::Medium,
        "data-plane",
        &[],
    )
    .description(
        "`traffic.sidecar.istio.io/excludeInboundPorts`, `excludeOutboundPorts` and \
         `excludeOutboundIPRanges`, an `includeInboundPorts` that leaves a container port out \
         or an `includeOutboundIPRanges` narrower than `*`, `sidecar.istio.io/interceptionMode: \
         NONE`, in ambient `ambient.istio.io/bypass-inbound-capture: \"true\"`, and the same \
         settings as injector defaults (`values.global.proxy.excludeInboundPorts`, \
         `excludeOutboundPorts`, `excludeIPRanges`, `includeIPRanges`, `includeInboundPorts`) take \
         traffic out of the proxy: those connections get no mTLS, no authorization policy \
         and no egress control. Medium: each is a deliberate hole that is easy to widen.",
    )
}

const BYPASS: &[&str] = &[
    "traffic.sidecar.istio.io/excludeInboundPorts",
    "traffic.sidecar.istio.io/excludeOutboundPorts",
    "traffic.sidecar.istio.io/excludeOutboundIPRanges",
];

/// Ports the injector excludes itself (status and health ports).
const ISTIO_PORTS: &[&str] = &["15020", "15021", "15090"];

/// Injector defaults (`values.global.proxy.*`) that apply the same holes to every
/// injected pod.
const GLOBAL_BYPASS: &[(&str, &str)] = &[
    ("excludeInboundPorts", ""),
    ("excludeOutboundPorts", ""),
    ("excludeIPRanges", ""),
    ("includeIPRanges", "*"),
    ("includeInboundPorts", "*"),
];

fn global_bypass(ctx: &Ctx) -> Option<kridik_sdk::Finding> {
    let (install, source) = crate::istio::install(ctx);
    let holes: Vec<String> = GLOBAL_BYPASS
        .iter()
        .filter_map(|(key, default)| {
            let v = install
                .pointer(&format!("/values/global/proxy/{key}"))?
                .as_str()?;
            let own: Vec<&str> = v
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty() && !ISTIO_PORTS.contains(p))
                .collect();
            (v.trim() != *default && !(default.is_empty() && own.is_empty()))
                .then(|| format!("values.global.proxy.{key}: {v:?}"))
        })
        .collect();
    if holes.is_empty() {
        return None;
    }
    let object = source.unwrap_or_else(|| ObjectRef::namespace(&ctx.mesh_config().root_namespace));
    let f = ctx
        .finding(Severity::Medium, &object, "Injector defaults let traffic bypass every sidecar")
        .confidence(ctx.observed())
        .message(format!(
            "The injector's defaults take traffic out of every injected proxy ({}): those connections get no mTLS, authorization or egress policy anywhere in the mesh.",
            holes.join("; ")
        ))
        .remediation(
            "Remove the mesh-wide exclusions; exclude per workload, with a reason, where unavoidable.",
            Some("# IstioOperator / Helm values\nspec:\n  values:\n    global:\n      proxy:\n        includeIPRanges: \"*\"\n        excludeIPRanges: \"\"\n        excludeInboundPorts: \"\"\n        excludeOutboundPorts: \"\"\n".into()),
        )
        .reference(&format!("{BEST}#understand-traffic-capture-limitations"));
    Some(
        holes
            .iter()
            .fold(f, |f, h| f.evidence(ctx.observed(), Some(&object), h)),
    )
}

pub fn run_bypass(ctx: &Ctx) -> CheckResult {
    let mut findings: Vec<kridik_sdk::Finding> = global_bypass(ctx).into_iter().collect();
    for w in ctx.workloads() {
        let mut holes = Vec::new();
        for key in BYPASS {
            let Some(value) = w.annotation(key) else {
                continue;
            };
            let own: Vec<&str> = value
                .split(',')
                .map(str::trim)
                .filter(|v| !v.is_empty() && !ISTIO_PORTS.contains(v))
                .collect();
            if !own.is_empty() {
                holes.push(format!("{key}: {}", own.join(",")));
            }
        }
        if w.enrollment.dataplane == Dataplane::Sidecar {
            if let Some(v) = w.annotation("traffic.sidecar.istio.io/includeInboundPorts") {
                let listed: Vec<&str> = v.split(',').map(str::trim).collect();
                let left_out: Vec<String> = w
                    .container_ports
                    .iter()
                    .map(u32::to_string)
                    .filter(|p| !listed.contains(&"*") && !listed.contains(&p.as_str()))
                    .collect();
                if !left_out.is_empty() {
                    holes.push(format!(
                        "traffic.sidecar.istio.io/includeInboundPorts: {v:?} leaves container port(s) {} uncaptured",
                        left_out.join(",")
                    ));
                }
            }
            if w.annotation("sidecar.istio.io/interceptionMode") == Some("NONE") {
                holes.push(
                    "sidecar.istio.io/interceptionMode: NONE (no traffic is captured)".into(),
                );
            }
        }
        if w.enrollment.dataplane == Dataplane::Ambient
            && w.annotation("ambient.istio.io/bypass-inbound-capture") == Some("true")
        {
            holes.push(
                "ambient.istio.io/bypass-inbound-capture: \"true\" (ztunnel does not capture inbound traffic)"
                    .into(),
            );
        }
        if let Some(v) = w.annotation("traffic.sidecar.istio.io/includeOutboundIPRanges") {
            if v.trim() != "*" {
                holes.push(format!("traffic.sidecar.istio.io/includeOutboundIPRanges: {v:?} (only these ranges are captured)"));
            }
        }
        if holes.is_empty() {
            continue;
        }
        let mut f = ctx
            .finding(Severity::Medium, &w.target, "Traffic capture exclusions bypass the sidecar")
            .confidence(ctx.observed())
            .message(format!(
                "{} excludes traffic from its proxy ({}): those connections get no mTLS, \
                 authorization or egress policy.",
                w.id,
                holes.join("; ")
            ))
            .remediation(
                "Remove the exclusions; if a port must bypass the proxy, protect it with a \
                 NetworkPolicy and document why.",
                Some(format!(
                    "# {}: pod template annotations\nspec:\n  template:\n    metadata:\n      annotations: {{}}  # no traffic.sidecar.istio.io/exclude* or narrowing include* annotations, no capture bypass\n",
                    w.target.display()
                )),
            )
            .reference(&format!("{BEST}#understand-traffic-capture-limitations"));
        for h in &holes {
            f = f.evidence(ctx.observed(), Some(&w.target), h);
        }
        findings.push(f);
    }
    Ok(findings)
}

pub fn uid_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-DP-002",
        "Application container runs as UID 1337 (the proxy's UID)",
        Severity::High,
        "data-plane",
        &[],
    )
    .description(
        "The sidecar's iptables rules let traffic from UID 1337 (the proxy itself) out \
         uncaptured. An application container running as 1337 therefore bypasses the \
         proxy entirely: no mTLS, no egress policy (istioctl IST0144). High: it silently \
         removes the workload's outbound controls.",
    )
}

pub fn run_uid(ctx: &Ctx) -> CheckResult {
    let mut findings = Vec::new();
    for w in ctx.workloads() {
        let offenders: Vec<&str> = w
            .containers
            .iter()
            .filter(|c| {
                c.run_as_user == Some(1337)
                    && !matches!(
                        c.name.as_str(),
                        "istio-proxy" | "istio-init" | "istio-validation"
                    )
            })
            .map(|c| c.name.as_str())
            .collect();
        if offenders.is_empty() || crate::hygiene::is_proxy_workload(w) {
            continue;
        }
        findings.push(
            ctx.finding(Severity::High, &w.target, "Application container runs as the proxy's UID 1337")
                .confidence(ctx.observed())
                .message(format!(
                    "{} runs container(s) {} as UID 1337: their outbound traffic skips the sidecar.",
                    w.id,
                    offenders.join(", ")
                ))
                .evidence(ctx.observed(), Some(&w.target), &format!("runAsUser 1337 on {}", offenders.join(", ")))
                .remediation(
                    "Run the application under any other UID.",
                    Some(format!(
                        "# {}\nspec:\n  template:\n    spec:\n      securityContext:\n        runAsUser: 1000\n        runAsNonRoot: true\n",
                        w.target.display()
                    )),
                )
                .reference("https://istio.io/latest/docs/ops/deployment/application-requirements/"),
        );
    }
    Ok(findings)
}

pub fn opt_out_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-DP-003",
        "Workload opts out of injection in a mesh namespace",
        Severity::Medium,
        "data-plane",
        &[],
    )
    .description(
        "`sidecar.istio.io/inject: \"false\"` on a workload in a namespace that injects \
         sidecars leaves it outside the mesh: it sends and accepts plaintext, and STRICT \
         peers refuse it or, under PERMISSIVE, accept it unauthenticated. Medium: one hole \
         in an otherwise enrolled namespace.",
    )
}

pub fn run_opt_out(ctx: &Ctx) -> CheckResult {
    let mut findings = Vec::new();
    for w in ctx.workloads() {
        let opted_out = w.label("sidecar.istio.io/inject") == Some("false")
            || w.annotation("sidecar.istio.io/inject") == Some("false");
        let ns_injects = ctx
            .namespace(&w.namespace)
            .is_some_and(|n| n.enrollment.dataplane == Dataplane::Sidecar);
        if !opted_out || !ns_injects || crate::hygiene::is_proxy_workload(w) {
            continue;
        }
        findings.push(
            ctx.finding(Severity::Medium, &w.target, "Workload opts out of sidecar injection")
                .confidence(ctx.observed())
                .message(format!(
                    "{} sets sidecar.istio.io/inject=\"false\" in namespace {}, which injects \
                     sidecars: it is outside the mesh.",
                    w.id, w.namespace
                ))
                .evidence(ctx.observed(), Some(&w.target), "sidecar.istio.io/inject is \"false\"")
                .evidence(w.enrollment.confidence, None, &w.enrollment.reason)
                .remediation(
                    "Remove the opt-out and restart the workload so it is injected.",
                    Some(format!(
                        "# {}\nspec:\n  template:\n    metadata:\n      labels:\n        sidecar.istio.io/inject: \"true\"\n",
                        w.target.display()
                    )),
                )
                .reference("https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/"),
        );
    }
    Ok(findings)
}

/// Alpha annotations users set (istio/api annotations.yaml, featureStatus Alpha).
const ALPHA: &[&str] = &[
    "networking.istio.io/exportTo",
    "sidecar.istio.io/rewriteAppHTTPProbers",
    "sidecar.istio.io/proxyImage",
    "sidecar.istio.io/proxyCPU",
    "sidecar.istio.io/proxyCPULimit",
    "sidecar.istio.io/proxyMemory",
    "sidecar.istio.io/interceptionMode",
    "sidecar.istio.io/bootstrapOverride",
    "sidecar.istio.io/statsInclusionPrefixes",
    "sidecar.istio.io/statsInclusionSuffixes",
    "sidecar.istio.io/statsInclusionRegexps",
    "sidecar.istio.io/userVolume",
    "sidecar.istio.io/enableCoreDump",
    "sidecar.istio.io/logLevel",
    "sidecar.istio.io/componentLogLevel",
    "sidecar.istio.io/agentLogLevel",
    "sidecar.istio.io/extraStatTags",
    "status.sidecar.istio.io/port",
    "readiness.status.sidecar.istio.io/initialDelaySeconds",
    "readiness.status.sidecar.istio.io/periodSeconds",
    "readiness.status.sidecar.istio.io/failureThreshold",
    "readiness.status.sidecar.istio.io/applicationPorts",
    "traffic.sidecar.istio.io/includeInboundPorts",
    "traffic.sidecar.istio.io/excludeInboundPorts",
    "traffic.sidecar.istio.io/includeOutboundIPRanges",
    "traffic.sidecar.istio.io/excludeOutboundIPRanges",
    "traffic.sidecar.istio.io/includeOutboundPorts",
    "traffic.sidecar.istio.io/excludeOutboundPorts",
    "traffic.sidecar.istio.io/kubevirtInterfaces",
    "inject.istio.io/templates",
    "prometheus.istio.io/merge-metrics",
];

/// Set by istio-cni on every pod it handles, not by the user.
const SET_BY_CNI: &[&str] = &[
    "sidecar.istio.io/interceptionMode",
    "traffic.sidecar.istio.io/includeInboundPorts",
    "traffic.sidecar.istio.io/excludeInboundPorts",
    "traffic.sidecar.istio.io/includeOutboundIPRanges",
    "traffic.sidecar.istio.io/excludeOutboundIPRanges",
    "traffic.sidecar.istio.io/excludeOutboundPorts",
    "traffic.sidecar.istio.io/kubevirtInterfaces",
];

pub fn alpha_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-HYG-001",
        "Alpha-phase Istio annotation in use",
        Severity::Info,
        "hygiene",
        &[SERVICE],
    )
    .description(
        "Alpha features may change or disappear between releases and get less security \
         review. Reported once per annotation on pod templates and Services (istioctl \
         IST0136). Info: a maintenance risk, not an exposure.",
    )
}

pub fn run_alpha(ctx: &Ctx) -> CheckResult {
    // Annotations come with every object: nothing to parse.
    let services = match ctx.objects(SERVICE) {
        Ok(s) => s,
        Err(missing) => {
            return Ok(vec![
                ctx.unknown(&missing, "Service annotations could not be assessed")
            ])
        }
    };
    let mut findings = Vec::new();
    let mut report =
        |target: &ObjectRef, key: &str| {
            findings.push(
            ctx.finding(Severity::Info, target, "Alpha-phase Istio annotation")
                .confidence(ctx.observed())
                .message(format!("{} uses {key}, an alpha-phase Istio feature.", target.display()))
                .evidence(ctx.observed(), Some(target), &format!("annotation {key}"))
                .remediation(
                    "Prefer the stable API (e.g. ProxyConfig, Sidecar, Telemetry resources) or \
                     track the feature's status before upgrades.",
                    None,
                )
                .reference("https://istio.io/latest/docs/reference/config/annotations/"),
        );
        };
    for w in ctx.workloads() {
        // Pods istio-cni handled carry its annotations; they are not the user's choice.
        let cni = w.containers.iter().any(|c| c.name == "istio-validation");
        for (key, _) in &w.annotations {
            if ALPHA.contains(&key.as_str()) && !(cni && SET_BY_CNI.contains(&key.as_str())) {
                report(&w.target, key);
            }
        }
    }
    for o in services {
        for (key, _) in &o.annotations {
            if ALPHA.contains(&key.as_str()) {
                report(&o.target, key);
            }
        }
    }
    Ok(findings)
}

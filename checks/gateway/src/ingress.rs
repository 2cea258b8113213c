//! The ingress gateway workloads: who may create gateways, what policies on
//! them match, and whether they limit connections.

use kridik_sdk::kinds::{
    AuthorizationPolicy, AUTHORIZATION_POLICY, CLUSTER_ROLE, CLUSTER_ROLE_BINDING, ROLE,
    ROLE_BINDING, SERVICE,
};
use kridik_sdk::prelude::*;
use kridik_sdk::yaml;
use serde::Deserialize;
use serde_json::Value;

pub fn ports_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-GW-005",
        "AuthorizationPolicy matches Service ports, not the container (target) ports",
        Severity::Medium,
        "authorization",
        &[AUTHORIZATION_POLICY, SERVICE],
    )
    .description(
        "Sidecars, gateways and ztunnel match `to.operation.ports` against the port the \
         connection arrives on at the pod: the container (target) port, never the Service \
         port. A rule on a Service port that maps to another target port (`port: 80, \
         targetPort: 8080`), or on 80/443 of an ingress gateway that listens on 8080/8443, \
         never matches: an ALLOW rule silently denies, a DENY rule silently does nothing \
         (ISTIO-SECURITY-2021-002). Medium for DENY rules (one step higher when the workload \
         is sensitive or reachable from outside the mesh), low for ALLOW.",
    )
}

/// The ports of a Service: only what this check reads is decoded.
#[derive(Deserialize, Default)]
#[serde(default)]
struct ServicePorts {
    spec: ServicePortsSpec,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ServicePortsSpec {
    ports: Vec<ServicePort>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ServicePort {
    port: u32,
    target_port: Option<Value>,
}

/// Service port -> numeric target port (named target ports are left out).
fn service_ports(svc: &ServicePorts) -> Vec<(u32, u32)> {
    svc.spec
        .ports
        .iter()
        .filter_map(|p| {
            let target = match &p.target_port {
                None => p.port,
                Some(t) => t
                    .as_u64()
                    .or_else(|| t.as_str().and_then(|s| s.parse().ok()))?
                    as u32,
            };
            Some((p.port, target))
        })
        .collect()
}

/// Service (namespace, name) -> its (port, numeric target port) pairs.
type ServiceMap = std::collections::BTreeMap<(String, String), Vec<(u32, u32)>>;

/// Why `port` in a rule cannot match traffic to `w`, if it cannot.
fn wrong_port(w: &Workload, port: u32, services: &ServiceMap) -> Option<String> {
    if w.container_ports.contains(&port) {
        return None;
    }
    for s in &w.services {
        let key = (s.namespace.clone(), s.name.clone());
        for (svc_port, target) in services.get(&key).into_iter().flatten() {
            if *svc_port == port && *target != port {
                return Some(format!(
                    "{} maps port {port} to target port {target}",
                    s.display()
                ));
            }
        }
    }
    // A gateway's Envoy listens on 8080/8443 unless it declares 80/443 (its
    // own istio-proxy ports are not in the model's container ports).
    (w.is_ingress_gateway() && matches!(port, 80 | 443)).then(|| {
        format!(
            "ingress gateway {} listens on the container ports (8080/8443 by default), not {port}",
            w.id
        )
    })
}

pub fn run_ports(ctx: &Ctx) -> CheckResult {
    let policies = match ctx.parsed::<AuthorizationPolicy>(AUTHORIZATION_POLICY, "Policy ports") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    // Services are read only when a rule's port is on no selected workload's
    // container ports: most meshes never get that far.
    let services_once: std::cell::OnceCell<ServiceMap> = std::cell::OnceCell::new();
    let services = || {
        services_once.get_or_init(|| {
            ctx.parsed::<ServicePorts>(SERVICE, "Policy ports")
                .unwrap_or_default()
                .into_iter()
                .map(|(o, v)| {
                    (
                        (o.target.namespace.clone(), o.target.name.clone()),
                        service_ports(v),
                    )
                })
                .collect()
        })
    };
    let mut findings = Vec::new();
    for (o, p) in &policies {
        // Only numeric ports can be wrong; a policy without any needs nothing more.
        let ports: Vec<(usize, usize, &str, u32)> = p
            .spec
            .rules()
            .iter()
            .enumerate()
            .flat_map(|(i, rule)| {
                rule.operations().enumerate().flat_map(move |(j, op)| {
                    op.ports.iter().filter_map(move |text| {
                        Some((i, j, text.as_str(), text.parse::<u32>().ok()?))
                    })
                })
            })
            .collect();
        if ports.is_empty() {
            continue;
        }
        // Waypoint policies (targetRefs to a Service) see Service traffic: not this rule.
        if ctx
            .policy(&o.target)
            .is_some_and(|s| s.scope == PolicyScope::TargetRefs)
            && !ctx
                .selected(&o.target)
                .iter()
                .any(|w| w.is_ingress_gateway())
        {
            continue;
        }
        let selected: Vec<&Workload> = ctx
            .selected(&o.target)
            .into_iter()
            .filter(|w| w.enrolled() || w.is_ingress_gateway())
            .collect();
        let mut wrong = Vec::new();
        let mut affected: Vec<&Workload> = Vec::new();
        for (i, j, text, n) in ports {
            // Wrong only when it matches on none of the selected workloads.
            if selected.iter().any(|w| w.container_ports.contains(&n)) {
                continue;
            }
            let reason = selected
                .iter()
                .find_map(|w| wrong_port(w, n, services()).map(|r| (*w, r)));
            if let Some((w, why)) = reason {
                wrong.push(format!(
                    "rules[{i}].to[{j}].operation.ports has {text}: {why}"
                ));
                if !affected.iter().any(|a| a.id == w.id) {
                    affected.push(w);
                }
            }
        }
        if wrong.is_empty() {
            continue;
        }
        let deny = p.spec.action.as_deref() == Some("DENY");
        let severity = if deny {
            Severity::Medium
        } else {
            Severity::Low
        };
        let mut finding = ctx
            .finding(severity, &o.target, "AuthorizationPolicy matches Service ports, not container ports")
            .confidence(kridik_sdk::weakest(affected.iter().map(|w| w.enrollment.confidence)))
            .message(format!(
                "{} matches {}: the proxy sees the container (target) port, so the rule never \
                 matches and {}.",
                o.target.display(),
                wrong.join("; "),
                if deny { "the DENY does nothing" } else { "the ALLOW denies those requests" }
            ))
            .remediation(
                "Match the container (target) ports the workload listens on (e.g. 8080 for Service port 80, 8443 for 443 on a gateway).",
                Some(
                    yaml::header("security.istio.io/v1", "AuthorizationPolicy", &o.target.namespace, &o.target.name)
                        + "spec:\n  # keep the selector and action; in each rule use the container port\n  rules:\n  - to:\n    - operation:\n        ports: [\"8080\", \"8443\"]\n",
                ),
            )
            .reference("https://istio.io/latest/news/security/istio-security-2021-002/");
        if deny {
            finding = finding.raised(ctx.observed(), ctx.blast_radius(affected.iter().copied()));
        }
        for w in &wrong {
            finding = finding.evidence(ctx.observed(), Some(&o.target), w);
        }
        findings.push(finding);
    }
    Ok(findings)
}

pub fn rbac_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-GW-006",
        "Non-admin subjects may create Gateways",
        Severity::High,
        "ingress",
        &[ROLE, CLUSTER_ROLE, ROLE_BINDING, CLUSTER_ROLE_BINDING],
    )
    .description(
        "Whoever can create an Istio Gateway or a Gateway API Gateway can open a new \
         ingress listener (and, with automated deployment, a new load balancer) for \
         arbitrary hosts. Istio recommends restricting gateway creation to cluster \
         administrators. Reported per binding that grants `create` on `gateways` (wildcards \
         included) to a subject outside `system:masters` and the control plane: high for \
         cluster-wide grants, medium for one namespace.",
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Role {
    rules: Vec<RbacRule>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct RbacRule {
    api_groups: Vec<String>,
    resources: Vec<String>,
    verbs: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Binding {
    role_ref: RoleRef,
    subjects: Vec<Subject>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RoleRef {
    kind: String,
    name: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Subject {
    kind: String,
    name: String,
    namespace: String,
}

const GATEWAY_GROUPS: &[&str] = &["networking.istio.io", "gateway.networking.k8s.io", "*"];

fn creates_gateways(rule: &RbacRule) -> bool {
    rule.api_groups
        .iter()
        .any(|g| GATEWAY_GROUPS.contains(&g.as_str()))
        && rule.resources.iter().any(|r| r == "gateways" || r == "*")
        && rule.verbs.iter().any(|v| v == "create" || v == "*")
}

pub fn run_rbac(ctx: &Ctx) -> CheckResult {
    let what = "Gateway creation privileges";
    let parsed = (|| {
        Ok::<_, Box<kridik_sdk::Finding>>((
            ctx.parsed::<Role>(ROLE, what)?,
            ctx.parsed::<Role>(CLUSTER_ROLE, what)?,
            ctx.parsed::<Binding>(ROLE_BINDING, what)?,
            ctx.parsed::<Binding>(CLUSTER_ROLE_BINDING, what)?,
        ))
    })();
    let (roles, cluster_roles, bindings, cluster_bindings) = match parsed {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let root = ctx.mesh_config().root_namespace;
    let admin = |s: &Subject| match s.kind.as_str() {
        "Group" => s.name == "system:masters",
        "ServiceAccount" => s.namespace == root || s.namespace == "kube-system",
        "User" => s.name.starts_with("system:"),
        _ => false,
    };
    let granting = |list: &[Parsed<Role>], name: &str, ns: Option<&str>| {
        list.iter()
            .find(|(o, _)| o.target.name == name && ns.is_none_or(|ns| o.target.namespace == ns))
            .filter(|(_, r)| r.rules.iter().any(creates_gateways))
            .map(|(o, _)| o.target.clone())
    };
    let mut findings = Vec::new();
    for (cluster_wide, list) in [(false, &bindings), (true, &cluster_bindings)] {
        for (o, b) in list.iter() {
            if b.role_ref.name == "cluster-admin" {
                continue;
            }
            let role = match b.role_ref.kind.as_str() {
                "ClusterRole" => granting(&cluster_roles, &b.role_ref.name, None),
                _ => granting(&roles, &b.role_ref.name, Some(&o.target.namespace)),
            };
            let Some(role) = role else { continue };
            let subjects: Vec<String> = b
                .subjects
                .iter()
                .filter(|s| !admin(s))
                .map(|s| match s.kind.as_str() {
                    "ServiceAccount" => format!("ServiceAccount {}/{}", s.namespace, s.name),
                    _ => format!("{} {}", s.kind, s.name),
                })
                .collect();
            if subjects.is_empty() {
                continue;
            }
            let scope = if cluster_wide {
                "in every namespace".to_string()
            } else {
                format!("in namespace {}", o.target.namespace)
            };
            findings.push(
                ctx.finding(
                    if cluster_wide { Severity::High } else { Severity::Medium },
                    &o.target,
                    "Non-admin subjects may create Gateways",
                )
                .confidence(ctx.observed())
                .message(format!(
                    "{} binds {} to {}: they can create gateways {scope} and expose new \
                     ingress listeners.",
                    o.target.display(),
                    role.display(),
                    subjects.join(", ")
                ))
                .evidence(ctx.observed(), Some(&role), "a rule grants create on gateways")
                .evidence(ctx.observed(), Some(&o.target), &format!("subjects: {}", subjects.join(", ")))
                .remediation(
                    "Drop gateways from the role's create verbs (keep read access), and let \
                     platform administrators own Gateways.",
                    Some(
                        yaml::header("rbac.authorization.k8s.io/v1", &role.kind, &role.namespace, &role.name)
                            + "rules:\n# ... the role's other rules, without create on gateways\n- apiGroups: [\"networking.istio.io\", \"gateway.networking.k8s.io\"]\n  resources: [\"gateways\"]\n  verbs: [\"get\", \"list\", \"watch\"]\n",
                    ),
                )
                .reference("https://istio.io/latest/docs/ops/best-practices/security/#restrict-gateway-creation-privileges"),
            );
        }
    }
    Ok(findings)
}

pub fn connections_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-GW-007",
        "Ingress gateway without a downstream connection limit",
        Severity::Low,
        "ingress",
        &[],
    )
    .description(
        "Envoy accepts unlimited downstream connections by default, which a client can \
         exhaust (ISTIO-SECURITY-2020-007). Set `overload.global_downstream_max_connections` \
         in meshConfig `defaultConfig.runtimeValues` or in the gateway's \
         `proxy.istio.io/config` annotation. Low: availability, not confidentiality.",
    )
}

const LIMIT: &str = "overload.global_downstream_max_connections";

pub fn run_connections(ctx: &Ctx) -> CheckResult {
    let mesh = ctx.mesh_config();
    let mesh_json: Value = serde_json::from_str(&mesh.json).unwrap_or(Value::Null);
    if mesh_json
        .pointer("/defaultConfig/runtimeValues")
        .and_then(|r| r.get(LIMIT))
        .is_some()
    {
        return Ok(vec![]);
    }
    let mut findings = Vec::new();
    for w in ctx.workloads().iter().filter(|w| w.is_ingress_gateway()) {
        let annotated = w
            .annotation("proxy.istio.io/config")
            .is_some_and(|c| c.contains(LIMIT));
        // A custom bootstrap may set it; its ConfigMap is not read, so do not flag.
        if annotated || w.annotation("sidecar.istio.io/bootstrapOverride").is_some() {
            continue;
        }
        findings.push(
            ctx.finding(Severity::Low, &w.target, "Ingress gateway without a downstream connection limit")
                .confidence(ctx.observed())
                .message(format!(
                    "Ingress gateway {} has no {LIMIT} (not in meshConfig \
                     defaultConfig.runtimeValues, not in its proxy.istio.io/config \
                     annotation): Envoy accepts unlimited connections.",
                    w.id
                ))
                .evidence(ctx.observed(), Some(&w.target), "no proxy.istio.io/config runtimeValues on the pod template")
                .evidence(
                    ctx.observed(),
                    mesh.source.as_ref(),
                    "meshConfig.defaultConfig.runtimeValues has no connection limit",
                )
                .remediation(
                    "Set a limit sized for the gateway (Istio's example: 100000).",
                    Some(format!(
                        "# on the gateway's pod template ({})\nmetadata:\n  annotations:\n    proxy.istio.io/config: |\n      runtimeValues:\n        \"{LIMIT}\": \"100000\"\n# or mesh-wide:\nmeshConfig:\n  defaultConfig:\n    runtimeValues:\n      \"{LIMIT}\": \"100000\"\n",
                        w.target.display()
                    )),
                )
                .reference("https://istio.io/latest/docs/ops/best-practices/security/#configure-a-limit-on-downstream-connections"),
        );
    }
    Ok(findings)
}

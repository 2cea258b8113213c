//! Transport checks: is mutual TLS enforced where workloads receive traffic?

use kridik_sdk::prelude::*;
use kridik_sdk::MeshConfig;
use std::collections::BTreeMap;

const PA_KIND: &str = "security.istio.io/PeerAuthentication";
const PA_DOCS: &str = "https://istio.io/latest/docs/reference/config/security/peer_authentication/";
const BEST_PRACTICE: &str = "https://istio.io/latest/docs/ops/best-practices/security/#mutual-tls";

fn not_strict_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-MTLS-001",
        "Workloads accept plaintext traffic (effective mTLS is not STRICT)",
        Severity::Medium,
        "transport",
        &[PA_KIND],
    )
    .description(
        "Computes the effective PeerAuthentication mode of every enrolled workload \
         (mesh, namespace, workload and port level, with Istio's UNSET inheritance) and \
         reports the policy that leaves it PERMISSIVE or DISABLE, or the namespace that \
         has none. PERMISSIVE accepts plaintext from any pod, so peer identities and \
         principal-based authorization cannot be relied on; DISABLE turns mTLS off \
         (high). One step higher when a workload is in a namespace labelled sensitive or is \
         reachable from outside the mesh through a gateway route.",
    )
}

fn no_mesh_strict_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-MTLS-002",
        "No mesh-wide STRICT PeerAuthentication",
        Severity::Medium,
        "transport",
        &[PA_KIND],
    )
    .description(
        "Istio defaults to PERMISSIVE. Without a selector-less PeerAuthentication in the \
         root namespace set to STRICT, every new namespace starts out accepting plaintext.",
    )
}

/// One PeerAuthentication as far as the remediation needs it.
#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
struct PeerAuthentication {
    spec: PaSpec,
}

#[derive(serde::Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
struct PaSpec {
    selector: Option<Selector>,
    mtls: Option<ModeSpec>,
    port_level_mtls: BTreeMap<String, ModeSpec>,
}

#[derive(serde::Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
struct Selector {
    match_labels: BTreeMap<String, String>,
}

#[derive(serde::Deserialize, Default, Clone)]
#[serde(default)]
struct ModeSpec {
    mode: String,
}

/// What made a set of workloads non-STRICT: a policy, or no policy in a namespace.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Cause {
    Policy(String, String),
    Default(String),
}

fn run_not_strict(ctx: &Ctx) -> CheckResult {
    let policies = match ctx.parsed::<PeerAuthentication>(PA_KIND, "Effective mTLS") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut groups: BTreeMap<Cause, Vec<&Workload>> = BTreeMap::new();
    let mut port_findings = Vec::new();
    for w in ctx.workloads() {
        if w.enrollment.dataplane == Dataplane::None {
            continue; // unenrolled workloads have no mTLS at all: a separate check
        }
        if w.mtls.mode != MtlsMode::Strict {
            let cause = match &w.mtls.decided_by {
                Some(p) => Cause::Policy(p.namespace.clone(), p.name.clone()),
                None => Cause::Default(w.namespace.clone()),
            };
            groups.entry(cause).or_default().push(w);
        }
        for port in &w.mtls.ports {
            if matches!(port.mode, MtlsMode::Permissive | MtlsMode::Disable) {
                // Uncaptured ports name the workload itself: IST-DP-001 reports those.
                if let Some(policy) = port
                    .decided_by
                    .as_ref()
                    .filter(|p| p.kind == "PeerAuthentication")
                {
                    port_findings.push(port_finding(
                        ctx, w, port.port, port.mode, policy, &policies,
                    ));
                }
            }
        }
    }
    let mesh = ctx.mesh_config();
    let mut findings: Vec<_> = groups
        .into_iter()
        .map(|(cause, workloads)| group_finding(ctx, &mesh, cause, &workloads, &policies))
        .collect();
    findings.extend(port_findings);
    Ok(findings)
}

fn group_finding(
    ctx: &Ctx,
    mesh: &MeshConfig,
    cause: Cause,
    workloads: &[&Workload],
    policies: &Policies,
) -> kridik_sdk::Finding {
    let first = workloads[0];
    let mode = first.mtls.mode;
    let severity = if mode == MtlsMode::Disable {
        Severity::High
    } else {
        Severity::Medium
    };
    // A running proxy makes the exposure VERIFIED; labels alone only INFERRED.
    let confidence = kridik_sdk::weakest(workloads.iter().map(|w| w.mtls.confidence));
    let names = workload_list(workloads);
    let (object, message, yaml) = match cause {
        Cause::Policy(ns, name) => {
            let policy = first
                .mtls
                .decided_by
                .clone()
                .expect("policy cause has a policy");
            let spec = find(policies, &ns, &name).unwrap_or_default().spec;
            let message = format!(
                "{} sets mode {} and decides the effective mTLS of {} workload(s): {names}. \
                 They accept plaintext connections, so callers are not authenticated.",
                policy.display(),
                mode.as_str(),
                workloads.len()
            );
            (
                policy,
                message,
                strict_yaml(&ns, &name, spec.selector.as_ref(), &BTreeMap::new()),
            )
        }
        Cause::Default(ns) => {
            let object = ObjectRef::namespace(&ns);
            let message = format!(
                "No PeerAuthentication applies to namespace {ns} (none in the namespace, none \
                 mesh-wide in {}), so Istio's default PERMISSIVE mode lets {} workload(s) \
                 accept plaintext: {names}.",
                mesh.root_namespace,
                workloads.len()
            );
            (
                object,
                message,
                strict_yaml(&ns, "default", None, &BTreeMap::new()),
            )
        }
    };
    let mut finding = ctx
        .finding(severity, &object, "Workloads accept plaintext traffic")
        .confidence(confidence)
        .message(message)
        .remediation(
            "Require mutual TLS: set mode STRICT (after confirming every client has a sidecar \
             or is ambient; plaintext clients will be refused).",
            Some(yaml),
        )
        .reference(BEST_PRACTICE)
        .reference(PA_DOCS);
    // Plaintext into sensitive data, or into workloads reachable from outside
    // the mesh, ranks one step higher.
    finding = finding.raised(ctx.observed(), ctx.blast_radius(workloads.iter().copied()));
    for w in workloads.iter().take(20) {
        finding = finding.evidence(
            w.mtls.confidence,
            Some(&w.target),
            &format!(
                "{}: effective mTLS {} ({}); data plane {} ({})",
                w.id,
                w.mtls.mode.as_str(),
                w.mtls.reason,
                w.enrollment.dataplane.as_str(),
                w.enrollment.reason
            ),
        );
    }
    finding
}

fn port_finding(
    ctx: &Ctx,
    w: &Workload,
    port: u32,
    mode: MtlsMode,
    policy: &ObjectRef,
    policies: &Policies,
) -> kridik_sdk::Finding {
    let severity = if mode == MtlsMode::Disable {
        Severity::High
    } else {
        Severity::Medium
    };
    let spec = find(policies, &policy.namespace, &policy.name)
        .unwrap_or_default()
        .spec;
    let ports: BTreeMap<String, String> = spec
        .port_level_mtls
        .keys()
        .map(|p| (p.clone(), "STRICT".to_string()))
        .collect();
    ctx.finding(
        severity,
        policy,
        "Port accepts plaintext traffic (portLevelMtls)",
    )
    .confidence(w.mtls.confidence)
    .message(format!(
        "{} sets port {port} of {} to {}: that port accepts plaintext even though the \
             workload's other ports may be STRICT.",
        policy.display(),
        w.id,
        mode.as_str()
    ))
    .evidence(
        w.mtls.confidence,
        Some(&w.target),
        &format!("{} serves port {port}", w.id),
    )
    .remediation(
        "Remove the port-level exception or set it to STRICT; expose health checks through \
             the sidecar's rewritten probes instead of a plaintext port.",
        Some(strict_yaml(
            &policy.namespace,
            &policy.name,
            spec.selector.as_ref(),
            &ports,
        )),
    )
    .reference(PA_DOCS)
    .raised(ctx.observed(), ctx.blast_radius([w]))
}

fn run_no_mesh_strict(ctx: &Ctx) -> CheckResult {
    let policies = match ctx.parsed::<PeerAuthentication>(PA_KIND, "Effective mTLS") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mesh = ctx.mesh_config();
    let root = &mesh.root_namespace;
    let mesh_wide: Vec<&Parsed<PeerAuthentication>> = policies
        .iter()
        .filter(|(o, _)| &o.target.namespace == root)
        .filter(|(_, p)| {
            p.spec
                .selector
                .as_ref()
                .is_none_or(|s| s.match_labels.is_empty())
        })
        .collect();
    if mesh_wide
        .iter()
        .any(|(_, p)| p.spec.mtls.as_ref().is_some_and(|m| m.mode == "STRICT"))
    {
        return Ok(vec![]);
    }
    let (object, detail) = match mesh_wide.first() {
        Some((o, p)) => (
            o.target.clone(),
            format!(
                "the mesh-wide policy {} sets mode {}",
                o.target.display(),
                p.spec
                    .mtls
                    .as_ref()
                    .map(|m| m.mode.as_str())
                    .unwrap_or("UNSET")
            ),
        ),
        None => (
            ObjectRef::namespace(root),
            format!("no selector-less PeerAuthentication exists in the root namespace {root}"),
        ),
    };
    let name = mesh_wide
        .first()
        .map(|(o, _)| o.target.name.clone())
        .unwrap_or("default".into());
    Ok(vec![ctx
        .finding(Severity::Medium, &object, "No mesh-wide STRICT mTLS")
        .confidence(ctx.observed())
        .message(format!(
            "{detail}: namespaces without their own policy fall back to PERMISSIVE and accept \
             plaintext."
        ))
        .evidence(ctx.observed(), Some(&object), &detail)
        .remediation(
            "Create a mesh-wide STRICT PeerAuthentication in the root namespace once every \
             workload is enrolled; keep namespace-level PERMISSIVE exceptions explicit.",
            Some(strict_yaml(root, &name, None, &BTreeMap::new())),
        )
        .reference(BEST_PRACTICE)])
}

type Policies = [Parsed<PeerAuthentication>];

fn find(policies: &Policies, ns: &str, name: &str) -> Option<PeerAuthentication> {
    policies
        .iter()
        .find(|(o, _)| o.target.namespace == ns && o.target.name == name)
        .map(|(_, p)| (*p).clone())
}

fn strict_yaml(
    ns: &str,
    name: &str,
    selector: Option<&Selector>,
    ports: &BTreeMap<String, String>,
) -> String {
    let mut yaml = format!(
        "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n"
    );
    if let Some(sel) = selector.filter(|s| !s.match_labels.is_empty()) {
        yaml.push_str("  selector:\n    matchLabels:\n");
        for (k, v) in &sel.match_labels {
            yaml.push_str(&format!("      {k}: {}\n", quote(v)));
        }
    }
    yaml.push_str("  mtls:\n    mode: STRICT\n");
    if !ports.is_empty() {
        yaml.push_str("  portLevelMtls:\n");
        for (port, mode) in ports {
            yaml.push_str(&format!("    {port}:\n      mode: {mode}\n"));
        }
    }
    yaml
}

fn quote(v: &str) -> String {
    format!("{v:?}")
}

fn workload_list(workloads: &[&Workload]) -> String {
    let mut names: Vec<_> = workloads
        .iter()
        .take(10)
        .map(|w| w.id.as_str())
        .collect::<Vec<_>>();
    if workloads.len() > 10 {
        names.push("...");
    }
    names.join(", ")
}

/// This area's checks, exported with the rest of the built-in pack by
/// `checks/pack` (one component, so the model is decoded once for all).
pub const CHECKS: &[Check] = &[
    Check {
        info: not_strict_info,
        run: run_not_strict,
    },
    Check {
        info: no_mesh_strict_info,
        run: run_no_mesh_strict,
    },
];

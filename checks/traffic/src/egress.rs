//! Egress: plaintext to external hosts, and what limits where workloads can go.

use crate::hosts;
use crate::rule::DestinationRule;
use kridik_sdk::kinds::{DESTINATION_RULE, NETWORK_POLICY, SERVICE_ENTRY, SIDECAR};
use kridik_sdk::prelude::*;
use kridik_sdk::yaml;
use serde::Deserialize;
use std::collections::BTreeSet;

const EGRESS_DOCS: &str =
    "https://istio.io/latest/docs/tasks/traffic-management/egress/egress-tls-origination/";

pub fn plaintext_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-EGRESS-001",
        "External host reached over plaintext without TLS origination",
        Severity::Medium,
        "egress",
        &[SERVICE_ENTRY, DESTINATION_RULE],
    )
    .description(
        "A ServiceEntry for a host outside the mesh with an HTTP, HTTP2 or GRPC port and \
         no DestinationRule originating TLS for it sends requests, headers and tokens in \
         clear text once they leave the pod. Medium: the exposure is on the network path \
         to the external service.",
    )
}

pub fn outbound_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-EGRESS-003",
        "Outbound traffic to unknown destinations is allowed (ALLOW_ANY)",
        Severity::Medium,
        "egress",
        &[SIDECAR, NETWORK_POLICY],
    )
    .description(
        "With `outboundTrafficPolicy.mode: ALLOW_ANY` (Istio's default) sidecars pass \
         traffic to any host not in the registry, so a compromised workload can reach \
         anything. REGISTRY_ONLY narrows that, but it is enforced by the proxy a workload \
         can bypass; without NetworkPolicy egress rules it is only partial control and is \
         reported as such (low), never as a firewall.",
    )
}

pub fn open_sidecar_info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-EGRESS-001",
        "Sidecar allows egress to every host in a sensitive namespace",
        Severity::Medium,
        "egress",
        &[SIDECAR],
    )
    .description(
        "A Sidecar resource whose egress hosts admit every namespace with a host wildcard \
         (`*/*`, or any `*/*.suffix` such as `*/*.svc.cluster.local` or `*/*.com`: every \
         host of a domain in every namespace), or that lists no egress (the same as `*/*`), \
         lets workloads in a namespace labelled sensitive reach every service in the mesh. \
         Zero Trust scopes egress to the namespaces and hosts the workloads call.",
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ServiceEntry {
    spec: SeSpec,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SeSpec {
    hosts: Vec<String>,
    location: Option<String>,
    ports: Vec<SePort>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct SePort {
    number: u32,
    name: String,
    protocol: String,
}

const PLAINTEXT: &[&str] = &["HTTP", "HTTP2", "GRPC"];

pub fn run_plaintext(ctx: &Ctx) -> CheckResult {
    let entries = match ctx.parsed::<ServiceEntry>(SERVICE_ENTRY, "Egress protocols") {
        Ok(e) => e,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let rules = match ctx.parsed::<DestinationRule>(DESTINATION_RULE, "TLS origination") {
        Ok(r) => r,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    // Hosts (and ports; None = every port) a DestinationRule originates TLS for.
    let originated: Vec<(String, Option<u32>)> = rules
        .iter()
        .flat_map(|(o, dr)| {
            let host = hosts::fqdn(&dr.spec.host, &o.target.namespace);
            dr.spec
                .tls_sites()
                .into_iter()
                .filter(|s| matches!(s.tls.mode.as_str(), "SIMPLE" | "MUTUAL"))
                .map(move |s| (host.clone(), s.port))
        })
        .collect();
    let mut findings = Vec::new();
    for (o, se) in &entries {
        if se.spec.location.as_deref() == Some("MESH_INTERNAL") {
            continue;
        }
        let mut open = Vec::new();
        for host in &se.spec.hosts {
            if hosts::cluster_local(&hosts::fqdn(host, &o.target.namespace)) {
                continue;
            }
            for port in &se.spec.ports {
                if !PLAINTEXT.contains(&port.protocol.to_ascii_uppercase().as_str()) {
                    continue;
                }
                let covered = originated
                    .iter()
                    .any(|(h, p)| hosts::covers(h, host) && p.is_none_or(|p| p == port.number));
                if !covered {
                    open.push((host.clone(), port));
                }
            }
        }
        let Some((host, port)) = open.first() else {
            continue;
        };
        let listed: Vec<String> = open
            .iter()
            .map(|(h, p)| format!("{h}:{} ({})", p.number, p.protocol))
            .collect();
        findings.push(
            ctx.finding(
                Severity::Medium,
                &o.target,
                "Plaintext egress without TLS origination",
            )
            .confidence(ctx.observed())
            .message(format!(
                "{} declares {} and no DestinationRule originates TLS for them: \
                     requests leave the mesh unencrypted.",
                o.target.display(),
                listed.join(", ")
            ))
            .evidence(
                ctx.observed(),
                Some(&o.target),
                &format!("port {} is {}", port.name, port.protocol),
            )
            .remediation(
                "Originate TLS at the sidecar (or egress gateway) with a verifying \
                     DestinationRule, and let the application keep calling http://.",
                Some(origination_yaml(&o.target.namespace, host, port.number)),
            )
            .reference(EGRESS_DOCS),
        );
    }
    Ok(findings)
}

fn origination_yaml(ns: &str, host: &str, port: u32) -> String {
    let name = host.trim_start_matches("*.").replace('.', "-");
    yaml::header("networking.istio.io/v1", "DestinationRule", ns, &format!("{name}-tls"))
        + &format!(
            "spec:\n  host: {host}\n  trafficPolicy:\n    portLevelSettings:\n    - port:\n        number: {port}\n      tls:\n        mode: SIMPLE\n        caCertificates: /etc/ssl/certs/ca-certificates.crt\n        subjectAltNames: [{q}]\n        sni: {q}\n",
            q = yaml::quote(host)
        )
        + "# and in the ServiceEntry, send port 80 to 443: targetPort: 443\n"
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Sidecar {
    spec: SidecarSpec,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SidecarSpec {
    outbound_traffic_policy: Option<Mode>,
    egress: Option<Vec<Egress>>,
    workload_selector: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Mode {
    mode: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Egress {
    hosts: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct NetworkPolicy {
    spec: NpSpec,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct NpSpec {
    policy_types: Vec<String>,
    egress: Option<Vec<serde_json::Value>>,
}

pub fn run_outbound(ctx: &Ctx) -> CheckResult {
    let sidecars = match ctx.parsed::<Sidecar>(SIDECAR, "Outbound traffic policy") {
        Ok(s) => s,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mesh = ctx.mesh_config();
    let mesh_object = mesh
        .source
        .clone()
        .unwrap_or_else(|| ObjectRef::namespace(&mesh.root_namespace));
    // An explicit setting is observed; the default is only inferred.
    let mesh_confidence = if mesh.source.is_some() {
        ctx.observed()
    } else {
        Confidence::Inferred
    };
    let mut findings = Vec::new();
    let mesh_open = mesh.outbound_traffic_policy != "REGISTRY_ONLY";
    if mesh_open {
        findings.push(
            ctx.finding(Severity::Medium, &mesh_object, "Mesh allows outbound traffic to any host")
                .confidence(mesh_confidence)
                .message(format!(
                    "meshConfig.outboundTrafficPolicy.mode is {} ({}): sidecars forward \
                     traffic to hosts that are not in the service registry.",
                    mesh.outbound_traffic_policy,
                    if mesh.source.is_some() { "as configured" } else { "Istio's default; no mesh config in the snapshot" }
                ))
                .evidence(mesh_confidence, mesh.source.as_ref(), &format!("outboundTrafficPolicy {}", mesh.outbound_traffic_policy))
                .remediation(
                    "Set REGISTRY_ONLY and declare external dependencies as ServiceEntries; \
                     back it with NetworkPolicy egress rules, since a proxy is not a firewall.",
                    Some("# IstioOperator / Helm values (meshConfig)\nmeshConfig:\n  outboundTrafficPolicy:\n    mode: REGISTRY_ONLY\n".into()),
                )
                .reference("https://istio.io/latest/docs/tasks/traffic-management/egress/egress-control/"),
        );
    }
    for (o, sc) in &sidecars {
        if sc
            .spec
            .outbound_traffic_policy
            .as_ref()
            .map(|m| m.mode.as_str())
            != Some("ALLOW_ANY")
            || mesh_open
        {
            continue;
        }
        let mut hardened = yaml::header(
            "networking.istio.io/v1",
            "Sidecar",
            &o.target.namespace,
            &o.target.name,
        ) + "spec:\n";
        if let Some(labels) = sc
            .spec
            .workload_selector
            .as_ref()
            .and_then(|s| s.get("labels"))
            .and_then(|l| serde_json::from_value(l.clone()).ok())
        {
            hardened += &("  workloadSelector:\n".to_string() + &yaml::map(4, "labels", &labels));
        }
        hardened += "  outboundTrafficPolicy:\n    mode: REGISTRY_ONLY\n";
        findings.push(
            ctx.finding(
                Severity::Medium,
                &o.target,
                "Sidecar re-opens outbound traffic to any host",
            )
            .confidence(ctx.observed())
            .message(format!(
                "{} sets outboundTrafficPolicy ALLOW_ANY although the mesh is REGISTRY_ONLY.",
                o.target.display()
            ))
            .evidence(
                ctx.observed(),
                Some(&o.target),
                "spec.outboundTrafficPolicy.mode is ALLOW_ANY",
            )
            .remediation("Remove the override or set REGISTRY_ONLY.", Some(hardened))
            .reference("https://istio.io/latest/docs/reference/config/networking/sidecar/"),
        );
    }
    if !mesh_open {
        findings.extend(partial_control(ctx, &mesh_object, mesh_confidence));
    }
    Ok(findings)
}

/// REGISTRY_ONLY without NetworkPolicy egress rules: namespaces where the proxy is
/// the only egress control.
fn partial_control(
    ctx: &Ctx,
    mesh_object: &ObjectRef,
    confidence: Confidence,
) -> Vec<kridik_sdk::Finding> {
    let policies =
        match ctx.parsed::<NetworkPolicy>(NETWORK_POLICY, "Egress control beyond the proxy") {
            Ok(p) => p,
            Err(unknown) => return vec![*unknown],
        };
    let guarded: BTreeSet<&str> = policies
        .iter()
        .filter(|(_, p)| {
            p.spec.policy_types.iter().any(|t| t == "Egress") || p.spec.egress.is_some()
        })
        .map(|(o, _)| o.target.namespace.as_str())
        .collect();
    let unguarded: BTreeSet<&str> = ctx
        .workloads()
        .iter()
        .filter(|w| w.enrolled() && !guarded.contains(w.namespace.as_str()))
        .map(|w| w.namespace.as_str())
        .collect();
    let Some(first) = unguarded.iter().next() else {
        return vec![];
    };
    vec![ctx
        .finding(Severity::Low, mesh_object, "REGISTRY_ONLY is the only egress control (partial)")
        .confidence(confidence)
        .message(format!(
            "Outbound traffic is REGISTRY_ONLY, but namespace(s) {} have no NetworkPolicy \
             egress rules: a workload that bypasses its proxy (UID 1337, excluded ports or \
             IP ranges, no sidecar) still reaches any destination. Treat this as partial \
             control, not a firewall.",
            unguarded.iter().copied().collect::<Vec<_>>().join(", ")
        ))
        .evidence(confidence, None, "no NetworkPolicy with policyTypes Egress in these namespaces")
        .remediation(
            "Add a default-deny egress NetworkPolicy per namespace that allows DNS, istiod \
             and the egress gateway only.",
            Some(format!(
                "{}spec:\n  podSelector: {{}}\n  policyTypes: [\"Egress\"]\n  egress:\n  - to:\n    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: kube-system\n    ports:\n    - {{protocol: UDP, port: 53}}\n  - to:\n    - namespaceSelector:\n        matchLabels:\n          kubernetes.io/metadata.name: istio-system\n",
                yaml::header("networking.k8s.io/v1", "NetworkPolicy", first, "default-deny-egress")
            )),
        )
        .reference("https://istio.io/latest/docs/ops/best-practices/security/#understand-traffic-capture-limitations")]
}

/// A Sidecar egress host (`namespace/dnsName`) that admits every namespace and
/// every host of a domain: `*/*`, `*/*.svc.cluster.local`, `*/*.com`.
fn open_host(h: &str) -> bool {
    h.split_once('/')
        .is_some_and(|(ns, host)| ns == "*" && host.starts_with('*'))
}

pub fn run_open_sidecar(ctx: &Ctx) -> CheckResult {
    let sidecars = match ctx.parsed::<Sidecar>(SIDECAR, "Sidecar egress scope") {
        Ok(s) => s,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    for (o, sc) in &sidecars {
        let Some(why) = ctx.sensitivity(&o.target.namespace) else {
            continue;
        };
        let open = match &sc.spec.egress {
            None => Some("spec.egress is not set (all hosts)".to_string()),
            Some(list) => list.iter().enumerate().find_map(|(i, e)| {
                e.hosts
                    .iter()
                    .find(|h| open_host(h))
                    .map(|h| format!("spec.egress[{i}].hosts contains {h}"))
            }),
        };
        let Some(detail) = open else { continue };
        findings.push(
            ctx.finding(Severity::Medium, &o.target, "Sidecar allows egress to every host")
                .confidence(ctx.observed())
                .message(format!(
                    "{}: {detail}, and {why}: its workloads can reach every service in the mesh.",
                    o.target.display()
                ))
                .evidence(ctx.observed(), Some(&o.target), &detail)
                .evidence(Confidence::Verified, None, &why)
                .remediation(
                    "List only the namespaces and hosts the workloads call.",
                    Some(
                        yaml::header("networking.istio.io/v1", "Sidecar", &o.target.namespace, &o.target.name)
                            + "spec:\n  egress:\n  - hosts:\n    - \"./*\"\n    - \"istio-system/*\"\n    # add \"<namespace>/<host>\" for each dependency\n",
                    ),
                )
                .reference("https://istio.io/latest/docs/reference/config/networking/sidecar/"),
        );
    }
    Ok(findings)
}

pub fn wildcard_entry_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-EGRESS-004",
        "ServiceEntry opens wildcard hosts or the cloud metadata service, or exports a sensitive host everywhere",
        Severity::High,
        "egress",
        &[SERVICE_ENTRY],
    )
    .description(
        "A ServiceEntry with a wildcard host (`*`, `*.com`, `*.example.com`) and `resolution: \
         NONE` forwards to whatever address the client asked for: it is an open door past \
         REGISTRY_ONLY (high when the mesh is REGISTRY_ONLY, since it undoes it; low under \
         ALLOW_ANY, where everything is open already and IST-EGRESS-003 reports that). A \
         ServiceEntry whose hosts, addresses or endpoints name a cloud instance metadata \
         service (169.254.169.254, `metadata.google.internal`, fd00:ec2::254, \
         100.100.100.200) lets workloads fetch the node's cloud credentials (high under \
         REGISTRY_ONLY, medium otherwise). A ServiceEntry in a \
         namespace labelled sensitive without `exportTo` (the default is every namespace) or \
         with `exportTo: [\"*\"]` makes its host routable from the whole mesh (medium).",
    )
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct OpenEntrySpec {
    hosts: Vec<String>,
    addresses: Vec<String>,
    endpoints: Vec<Endpoint>,
    resolution: Option<String>,
    export_to: Option<Vec<String>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Endpoint {
    address: String,
}

/// The cloud instance metadata services (AWS, GCP, Azure, OpenStack and
/// DigitalOcean at the link-local address, AWS over IPv6, Alibaba): they hand
/// out the node's cloud credentials to whoever asks.
const METADATA: &[&str] = &[
    "169.254.169.254",
    "fd00:ec2::254",
    "metadata.google.internal",
    "metadata",
    "100.100.100.200",
];

/// Does a host, address or CIDR name a metadata service?
fn metadata_service(value: &str) -> bool {
    let bare = value.split('/').next().unwrap_or(value);
    let cidr_covers = value
        .split_once('/')
        .and_then(|(ip, bits)| {
            Some((
                ip.parse::<std::net::Ipv4Addr>().ok()?,
                bits.parse::<u32>().ok()?,
            ))
        })
        .is_some_and(|(ip, bits)| {
            let meta = u32::from(std::net::Ipv4Addr::new(169, 254, 169, 254));
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits.min(32))
            };
            bits <= 32 && (u32::from(ip) & mask) == (meta & mask)
        });
    METADATA.contains(&bare.to_ascii_lowercase().as_str()) || cidr_covers
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct OpenEntry {
    spec: OpenEntrySpec,
}

pub fn run_wildcard_entry(ctx: &Ctx) -> CheckResult {
    let entries = match ctx.parsed::<OpenEntry>(SERVICE_ENTRY, "ServiceEntry scope") {
        Ok(e) => e,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let registry_only = ctx.mesh_config().outbound_traffic_policy == "REGISTRY_ONLY";
    let mut findings = Vec::new();
    for (o, e) in &entries {
        let mut problems: Vec<(Severity, String)> = Vec::new();
        let wild: Vec<&String> = e.spec.hosts.iter().filter(|h| h.starts_with('*')).collect();
        if !wild.is_empty() && e.spec.resolution.as_deref().unwrap_or("NONE") == "NONE" {
            problems.push((
                if registry_only { Severity::High } else { Severity::Low },
                format!(
                    "hosts {wild:?} with resolution NONE: traffic to any matching name goes to the address the client chose{}",
                    if registry_only { ", undoing REGISTRY_ONLY" } else { "" }
                ),
            ));
        }
        let metadata: Vec<&str> = e
            .spec
            .hosts
            .iter()
            .chain(&e.spec.addresses)
            .map(String::as_str)
            .chain(e.spec.endpoints.iter().map(|p| p.address.as_str()))
            .filter(|v| metadata_service(v))
            .collect();
        if !metadata.is_empty() {
            problems.push((
                if registry_only { Severity::High } else { Severity::Medium },
                format!(
                    "{metadata:?} is a cloud instance metadata service: workloads can fetch the node's cloud credentials through the mesh{}",
                    if registry_only { ", past REGISTRY_ONLY" } else { "" }
                ),
            ));
        }
        let exported = e
            .spec
            .export_to
            .as_ref()
            .is_none_or(|x| x.iter().any(|n| n == "*"));
        if let (true, Some(why)) = (exported, ctx.sensitivity(&o.target.namespace)) {
            problems.push((
                Severity::Medium,
                format!(
                    "{why}, and exportTo {} makes {:?} routable from every namespace",
                    if e.spec.export_to.is_none() {
                        "is not set"
                    } else {
                        "has *"
                    },
                    e.spec.hosts
                ),
            ));
        }
        let Some(f) = ctx.problems(
            &o.target,
            "ServiceEntry opens wildcard hosts or exports a sensitive host",
            &problems,
        ) else {
            continue;
        };
        let f = f
            .remediation(
                "Name each external host exactly, resolve it with DNS, and export it only to the namespaces that call it.",
                Some(
                    yaml::header("networking.istio.io/v1", "ServiceEntry", &o.target.namespace, &o.target.name)
                        + "spec:\n  hosts: [\"api.partner.example.com\"]  # exact names\n  location: MESH_EXTERNAL\n  resolution: DNS\n  exportTo: [\".\"]\n  ports:\n  - {number: 443, name: tls, protocol: TLS}\n",
                ),
            )
            .reference("https://istio.io/latest/docs/reference/config/networking/service-entry/");
        findings.push(f);
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::metadata_service;

    #[test]
    fn metadata_services_are_named_by_host_address_or_range() {
        for v in [
            "169.254.169.254",
            "169.254.169.254/32",
            "169.254.0.0/16",
            "0.0.0.0/0",
            "metadata.google.internal",
            "Metadata.Google.Internal",
            "fd00:ec2::254",
        ] {
            assert!(metadata_service(v), "{v}");
        }
        for v in [
            "10.0.0.0/8",
            "169.254.170.2",
            "api.example.com",
            "10.0.0.1/40",
        ] {
            assert!(!metadata_service(v), "{v}");
        }
    }
}

//! Address rules at an ingress gateway behind a load balancer: the address
//! the gateway sees is the balancer's or a node's unless the topology tells
//! Envoy where the client's is.

use crate::{enforced, fields_in, header_yaml, Policy, Side, AP_KIND};
use kridik_sdk::kinds::SERVICE;
use kridik_sdk::prelude::*;
use kridik_sdk::MeshConfig;
use serde_json::Value;

const INGRESS_DOCS: &str = "https://istio.io/latest/docs/tasks/security/authorization/authz-ingress/#source-ip-address-of-the-original-client";

pub fn info() -> CheckInfo {
    kridik_sdk::info(
        "IST-AUTHZ-008",
        "Address rule at an ingress gateway sees the load balancer, not the client",
        Severity::Medium,
        "authorization",
        &[AP_KIND, SERVICE],
    )
    .description(
        "Behind a Service of type LoadBalancer or NodePort with `externalTrafficPolicy: \
         Cluster` (the default), connections reach the ingress gateway from a node or the \
         balancer, so `ipBlocks` (the peer address) never sees the client unless \
         `gatewayTopology.proxyProtocol` is set, and `remoteIpBlocks` sees it only with \
         `gatewayTopology.numTrustedProxies` (X-Forwarded-For) or the PROXY protocol \
         (meshConfig `defaultConfig`, or the gateway's `proxy.istio.io/config`). A DENY on \
         client addresses then never matches (medium: the block is absent); an ALLOW on them \
         admits every client or none (low). Not reported when the Service keeps client \
         addresses (`externalTrafficPolicy: Local`).",
    )
}

const PEER: &[&str] = &["ipBlocks", "notIpBlocks"];
const REMOTE: &[&str] = &["remoteIpBlocks", "notRemoteIpBlocks"];

/// What the gateway's topology restores, as (PROXY protocol, trusted XFF
/// hops): the mesh's `defaultConfig.gatewayTopology`, or the pod's own
/// `proxy.istio.io/config` (YAML or JSON text) on top of it.
fn topology(mesh: (bool, bool), w: &Workload) -> (bool, bool) {
    let (mut proxy_protocol, mut trusted) = mesh;
    if let Some(own) = w.annotation("proxy.istio.io/config") {
        proxy_protocol |= own.contains("proxyProtocol");
        trusted |= own
            .split("numTrustedProxies")
            .nth(1)
            .map(|rest| rest.trim_start_matches([':', ' ', '"', '\'']))
            .and_then(|rest| {
                rest.split(|c: char| !c.is_ascii_digit())
                    .next()
                    .and_then(|n| n.parse::<u32>().ok())
            })
            .is_some_and(|n| n > 0);
    }
    (proxy_protocol, trusted)
}

/// The mesh-wide part of [`topology`], read once.
fn mesh_topology(mesh: &MeshConfig) -> (bool, bool) {
    let config: Value = serde_json::from_str(&mesh.json).unwrap_or_default();
    let t = config.pointer("/defaultConfig/gatewayTopology");
    (
        t.and_then(|t| t.get("proxyProtocol")).is_some(),
        t.and_then(|t| t.get("numTrustedProxies"))
            .and_then(Value::as_u64)
            .is_some_and(|n| n > 0),
    )
}

/// The gateway's Service that hides client addresses, if one does: type
/// LoadBalancer or NodePort without `externalTrafficPolicy: Local`.
fn hiding_service(ctx: &Ctx, w: &Workload) -> Option<String> {
    w.services.iter().find_map(|r| {
        let o = ctx.object(SERVICE, &r.namespace, &r.name).ok()??;
        let v: Value = o.parse().ok()?;
        let kind = v.pointer("/spec/type").and_then(Value::as_str)?;
        let policy = v
            .pointer("/spec/externalTrafficPolicy")
            .and_then(Value::as_str)
            .unwrap_or("Cluster");
        (matches!(kind, "LoadBalancer" | "NodePort") && policy != "Local").then(|| {
            format!(
                "Service {}/{} is {kind} with externalTrafficPolicy {policy}",
                r.namespace, r.name
            )
        })
    })
}

pub fn run(ctx: &Ctx) -> CheckResult {
    let aps = match ctx.parsed::<Policy>(AP_KIND, "Client addresses at ingress") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mesh = mesh_topology(&ctx.mesh_config());
    let mut findings = Vec::new();
    for (o, p) in &aps {
        if !enforced(o) || p.spec.provider.is_some() {
            continue;
        }
        let deny = p.spec.action.as_deref() == Some("DENY");
        if !deny && !p.spec.is_allow() {
            continue;
        }
        let fields = |names| -> Vec<String> {
            fields_in(p.spec.rules(), Side::From, names)
                .into_iter()
                .map(|(_, f)| f)
                .collect()
        };
        let (peer, remote) = (fields(PEER), fields(REMOTE));
        if peer.is_empty() && remote.is_empty() {
            continue;
        }
        let gateways: Vec<&Workload> = ctx
            .selected(&o.target)
            .into_iter()
            .filter(|w| w.is_ingress_gateway())
            .collect();
        let mut problems = Vec::new();
        for w in &gateways {
            let Some(service) = hiding_service(ctx, w) else {
                continue;
            };
            let (proxy_protocol, trusted) = topology(mesh, w);
            let mut blind: Vec<&String> = Vec::new();
            if !proxy_protocol {
                blind.extend(&peer);
            }
            if !proxy_protocol && !trusted {
                blind.extend(&remote);
            }
            if !blind.is_empty() {
                problems.push(format!(
                    "{}: {service} and no gatewayTopology restores the client address, so {} see a node or the balancer",
                    w.id,
                    blind.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
                ));
            }
        }
        if problems.is_empty() {
            continue;
        }
        let (severity, title) = if deny {
            (
                Severity::Medium,
                "DENY on client addresses at an ingress gateway never sees the client",
            )
        } else {
            (
                Severity::Low,
                "ALLOW on client addresses at an ingress gateway sees the load balancer",
            )
        };
        let mut f = ctx
            .finding(severity, &o.target, title)
            .confidence(ctx.observed())
            .message(format!(
                "{}: {}.",
                o.target.display(),
                problems.join("; ")
            ))
            .remediation(
                "Keep client addresses: set externalTrafficPolicy: Local on the gateway Service, or configure gatewayTopology (proxyProtocol for a TCP balancer, numTrustedProxies for an HTTP one) and match with remoteIpBlocks.",
                Some(
                    "# meshConfig (or the gateway's proxy.istio.io/config annotation)\ndefaultConfig:\n  gatewayTopology:\n    numTrustedProxies: 1  # HTTP balancers in front; or proxyProtocol: {} for TCP ones\n---\n".to_string()
                        + &header_yaml(o, &p.spec)
                        + &format!("  action: {}\n", if deny { "DENY" } else { "ALLOW" })
                        + "  rules:\n  - from:\n    - source:\n        remoteIpBlocks: [\"203.0.113.0/24\"]  # the client ranges\n",
                ),
            )
            .reference(INGRESS_DOCS);
        for p in &problems {
            f = f.evidence(ctx.observed(), Some(&o.target), p);
        }
        findings.push(f);
    }
    Ok(findings)
}

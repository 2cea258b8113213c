//! How gateways expose hosts: breadth, TLS, redirects, passthrough.

use crate::servers::{self, breadth, hardened, GATEWAY_DOCS};
use kridik_sdk::kinds::{GATEWAY, K8S_GATEWAY};
use kridik_sdk::prelude::*;
use kridik_sdk::yaml;

const BEST: &str = "https://istio.io/latest/docs/ops/best-practices/security/#avoid-overly-broad-hosts-configurations";

pub fn broad_hosts_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-GW-001",
        "Gateway exposes overly broad hosts",
        Severity::Medium,
        "ingress",
        &[GATEWAY, K8S_GATEWAY],
    )
    .description(
        "A Gateway server with host `*` (or `ns/*`) accepts requests for every name and \
         lets any VirtualService bound to it publish routes, including internal services a \
         team did not mean to expose; `*.domain` does the same for every subdomain. A \
         Gateway API listener without `hostname` is the same as `*`. Medium for `*`, low \
         for subdomain wildcards.",
    )
}

pub fn tls_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-GW-002",
        "HTTPS or TLS gateway server without a certificate",
        Severity::High,
        "ingress",
        &[GATEWAY],
    )
    .description(
        "An HTTPS or TLS server needs `tls.mode` (SIMPLE, MUTUAL or PASSTHROUGH) and, unless \
         it passes TLS through, a `credentialName` (or certificate files). Without them the \
         listener is rejected or serves without the intended certificate: clients get \
         errors or fall back to plaintext routes. High: ingress encryption is broken.",
    )
}

pub fn redirect_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-GW-003",
        "Plain HTTP gateway server without httpsRedirect",
        Severity::Medium,
        "ingress",
        &[GATEWAY],
    )
    .description(
        "An HTTP server on an ingress gateway that does not set `tls.httpsRedirect: true` \
         serves requests, cookies and tokens in clear text from outside the cluster. \
         Medium: the exposure is on the client's network path.",
    )
}

pub fn passthrough_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-GW-004",
        "AUTO_PASSTHROUGH gateway server exposes services by SNI",
        Severity::Medium,
        "ingress",
        &[GATEWAY],
    )
    .description(
        "`tls.mode: AUTO_PASSTHROUGH` routes on the SNI name to any service in the mesh \
         without a VirtualService, which is meant for east-west gateways reachable only \
         from other clusters. On a gateway reachable from elsewhere it exposes every \
         matching service; keep it on a dedicated, network-restricted gateway.",
    )
}

pub fn run_broad_hosts(ctx: &Ctx) -> CheckResult {
    let gws = match servers::gateways(ctx, "Gateway hosts") {
        Ok(g) => g,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let k8s = match servers::k8s_gateways(ctx, "Gateway API listeners") {
        Ok(g) => g,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    for (o, gw) in &gws {
        for (i, server) in gw.spec.servers.iter().enumerate() {
            for host in &server.hosts {
                let Some((why, severity)) = breadth(host) else {
                    continue;
                };
                let fixed = format!(
                    "  - port:\n      number: {}\n      name: {}\n      protocol: {}\n    hosts:\n    - app.example.com  # the names this gateway serves\n",
                    server.port.number, server.port.name, server.port.protocol
                );
                findings.push(
                    ctx.finding(severity, &o.target, "Gateway exposes overly broad hosts")
                        .confidence(ctx.observed())
                        .message(format!(
                            "{} servers[{i}] (port {}) lists host {host:?}, which {why}: any \
                             VirtualService bound to it can publish routes for those names.",
                            o.target.display(),
                            server.port.number
                        ))
                        .evidence(
                            ctx.observed(),
                            Some(&o.target),
                            &format!("spec.servers[{i}].hosts contains {host:?}"),
                        )
                        .remediation(
                            "List the exact host names this gateway serves.",
                            Some(hardened(o, gw, &fixed)),
                        )
                        .reference(BEST)
                        .reference(GATEWAY_DOCS),
                );
            }
        }
    }
    for (o, gw) in &k8s {
        for (i, l) in gw.spec.listeners.iter().enumerate() {
            let host = l.hostname.clone().unwrap_or_else(|| "*".into());
            let Some((why, severity)) = breadth(&host) else {
                continue;
            };
            let detail = match &l.hostname {
                None => format!("spec.listeners[{i}] ({}) has no hostname", l.name),
                Some(h) => format!("spec.listeners[{i}] ({}) hostname is {h:?}", l.name),
            };
            findings.push(
                ctx.finding(severity, &o.target, "Gateway exposes overly broad hosts")
                    .confidence(ctx.observed())
                    .message(format!("{}: {detail}, which {why}.", o.target.display()))
                    .evidence(ctx.observed(), Some(&o.target), &detail)
                    .remediation(
                        "Set hostname on each listener to the names it serves.",
                        Some(
                            yaml::header("gateway.networking.k8s.io/v1", "Gateway", &o.target.namespace, &o.target.name)
                                + &format!(
                                    "spec:\n  gatewayClassName: {}\n  listeners:\n  - name: {}\n    hostname: app.example.com  # the names this listener serves\n    port: {}\n    protocol: {}\n",
                                    gw.spec.gateway_class_name, l.name, l.port, l.protocol
                                ),
                        ),
                    )
                    .reference(BEST),
            );
        }
    }
    Ok(findings)
}

fn per_server(
    ctx: &Ctx,
    what: &str,
    judge: impl Fn(&servers::Server) -> Option<(Severity, String, String)>,
    title: &str,
    fix: &str,
    reference: &str,
) -> CheckResult {
    let gws = match servers::gateways(ctx, what) {
        Ok(g) => g,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    for (o, gw) in &gws {
        for (i, server) in gw.spec.servers.iter().enumerate() {
            let Some((severity, detail, server_yaml)) = judge(server) else {
                continue;
            };
            findings.push(
                ctx.finding(severity, &o.target, title)
                    .confidence(ctx.observed())
                    .message(format!(
                        "{} servers[{i}] (port {} {}, hosts {}): {detail}.",
                        o.target.display(),
                        server.port.number,
                        server.port.protocol,
                        server.hosts.join(", ")
                    ))
                    .evidence(
                        ctx.observed(),
                        Some(&o.target),
                        &format!("spec.servers[{i}]: {detail}"),
                    )
                    .remediation(fix, Some(hardened(o, gw, &server_yaml)))
                    .reference(reference)
                    .reference(GATEWAY_DOCS),
            );
        }
    }
    Ok(findings)
}

fn server_yaml(server: &servers::Server, protocol: &str, tls: &str) -> String {
    format!(
        "  - port:\n      number: {}\n      name: {}\n      protocol: {protocol}\n    hosts: {}\n    tls:\n{tls}",
        server.port.number,
        server.port.name,
        yaml::list(&server.hosts)
    )
}

pub fn run_tls(ctx: &Ctx) -> CheckResult {
    per_server(
        ctx,
        "Gateway TLS",
        |s| {
            let proto = s.port.protocol.to_ascii_uppercase();
            if proto != "HTTPS" && proto != "TLS" {
                return None;
            }
            let detail = match &s.tls {
                None => "no tls block".to_string(),
                Some(t) if t.mode.is_empty() => "tls.mode is not set".to_string(),
                Some(t)
                    if matches!(t.mode.as_str(), "SIMPLE" | "MUTUAL" | "OPTIONAL_MUTUAL")
                        && t.credential_name.is_empty()
                        && t.server_certificate.is_empty() =>
                {
                    format!("tls.mode {} without credentialName", t.mode)
                }
                _ => return None,
            };
            let fixed = server_yaml(s, &proto, "      mode: SIMPLE\n      credentialName: app-example-com-cert  # a kubernetes.io/tls Secret in the gateway's namespace\n      minProtocolVersion: TLSV1_2\n");
            Some((Severity::High, detail, fixed))
        },
        "HTTPS gateway server without a certificate",
        "Set tls.mode and credentialName to the Secret holding the certificate.",
        "https://istio.io/latest/docs/tasks/traffic-management/ingress/secure-ingress/",
    )
}

pub fn run_redirect(ctx: &Ctx) -> CheckResult {
    per_server(
        ctx,
        "Gateway HTTP redirects",
        |s| {
            if !s.port.protocol.eq_ignore_ascii_case("HTTP") || s.tls.as_ref().is_some_and(|t| t.https_redirect) {
                return None;
            }
            let fixed = server_yaml(s, "HTTP", "      httpsRedirect: true  # answer with 301 to https://\n");
            Some((Severity::Medium, "plain HTTP without tls.httpsRedirect".to_string(), fixed))
        },
        "Plain HTTP gateway server without httpsRedirect",
        "Redirect HTTP to HTTPS (and serve the hosts on an HTTPS server), or remove the HTTP server.",
        "https://istio.io/latest/docs/reference/config/networking/gateway/#ServerTLSSettings",
    )
}

pub fn run_passthrough(ctx: &Ctx) -> CheckResult {
    per_server(
        ctx,
        "Gateway passthrough",
        |s| {
            if s.tls.as_ref().map(|t| t.mode.as_str()) != Some("AUTO_PASSTHROUGH") {
                return None;
            }
            let fixed = server_yaml(s, &s.port.protocol, "      mode: AUTO_PASSTHROUGH\n    # keep this server on a dedicated east-west gateway whose Service is not internet-facing,\n    # and narrow hosts to the services other clusters need, e.g. \"*.payments.svc.cluster.local\"\n");
            Some((Severity::Medium, "tls.mode AUTO_PASSTHROUGH routes by SNI to any matching service".to_string(), fixed))
        },
        "AUTO_PASSTHROUGH server exposes services by SNI",
        "Use AUTO_PASSTHROUGH only on an east-west gateway reachable from peer clusters, with hosts narrowed to what they need.",
        "https://istio.io/latest/docs/setup/install/multicluster/",
    )
}

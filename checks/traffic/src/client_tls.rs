//! DestinationRule TLS: what clients do when they connect to a host.

use crate::hosts;
use crate::rule::{self, DestinationRule, Site};
use kridik_sdk::kinds::DESTINATION_RULE;
use kridik_sdk::prelude::*;
use kridik_sdk::yaml;

const DR_DOCS: &str =
    "https://istio.io/latest/docs/reference/config/networking/destination-rule/#ClientTLSSettings";

pub fn mtls_off_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-MTLS-003",
        "DestinationRule turns off Istio mTLS toward in-mesh hosts",
        Severity::High,
        "transport",
        &[DESTINATION_RULE],
    )
    .description(
        "DestinationRule TLS settings are the client side of a connection. `mode: DISABLE` \
         toward a host whose server is in the mesh sends plaintext (or breaks against a \
         STRICT server); `SIMPLE` replaces the mesh certificate with plain TLS, so the \
         client presents no workload identity. Either way the server cannot authenticate \
         the caller. High for DISABLE (plaintext), medium for SIMPLE. With meshConfig \
         `enableAutoMtls: false`, clients use mTLS only where a DestinationRule says \
         ISTIO_MUTUAL: a DestinationRule without TLS settings for an in-mesh host overrides a \
         wildcard ISTIO_MUTUAL rule (the most specific host wins) and its clients send \
         plaintext (high), and so do the clients of every in-mesh Service no DestinationRule \
         covers (high, reported on the mesh config).",
    )
}

pub fn unverified_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-EGRESS-002",
        "TLS origination without server verification",
        Severity::Medium,
        "egress",
        &[DESTINATION_RULE],
    )
    .description(
        "A DestinationRule that originates TLS (`SIMPLE` or `MUTUAL`) without \
         `caCertificates` (or a `credentialName` with a `workloadSelector`) does not verify \
         who answers, and without `subjectAltNames` or `sni` it does not pin the server \
         name: a man in the middle on the egress path reads the traffic. Medium when \
         nothing is verified (istioctl IST0128/IST0129), high with `insecureSkipVerify`, \
         low when only the name is not pinned.",
    )
}

/// A DestinationRule with its host resolved and the in-mesh Services it covers
/// (none for an external host): the one place that decides in-mesh or not.
struct Resolved {
    object: &'static Object,
    rule: &'static DestinationRule,
    host: String,
    servers: Vec<String>,
}

fn resolved(ctx: &Ctx, what: &str) -> Result<Vec<Resolved>, Box<kridik_sdk::Finding>> {
    let mesh_hosts = hosts::in_mesh(ctx);
    Ok(ctx
        .parsed::<DestinationRule>(DESTINATION_RULE, what)?
        .into_iter()
        .map(|(object, rule)| {
            let host = hosts::fqdn(&rule.spec.host, &object.target.namespace);
            let servers = mesh_hosts.covered_by(&host);
            Resolved {
                object,
                rule,
                host,
                servers,
            }
        })
        .collect())
}

pub fn run_mtls_off(ctx: &Ctx) -> CheckResult {
    let rules = match resolved(ctx, "Client TLS") {
        Ok(r) => r,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    let mesh = ctx.mesh_config();
    if !mesh.enable_auto_mtls {
        findings.extend(auto_mtls_off(ctx, &mesh, &rules));
    }
    for Resolved {
        object: o,
        rule: dr,
        host,
        servers,
    } in &rules
    {
        if servers.is_empty() {
            continue;
        }
        let sites: Vec<Site> = dr
            .spec
            .tls_sites()
            .into_iter()
            .filter(|s| matches!(s.tls.mode.as_str(), "DISABLE" | "SIMPLE"))
            .collect();
        if sites.is_empty() {
            continue;
        }
        let severity = if sites.iter().any(|s| s.tls.mode == "DISABLE") {
            Severity::High
        } else {
            Severity::Medium
        };
        let listed: Vec<String> = sites
            .iter()
            .map(|s| format!("{} mode {}", s.path, s.tls.mode))
            .collect();
        let mut finding = ctx
            .finding(
                severity,
                &o.target,
                "DestinationRule turns off mTLS toward in-mesh servers",
            )
            .confidence(ctx.observed())
            .message(format!(
                "{} sets {} for host {host}, served by in-mesh Service(s) {}: clients \
                 stop presenting their Istio certificate, so the server sees no verified \
                 identity (or plaintext).",
                o.target.display(),
                listed.join(", "),
                servers
                    .iter()
                    .take(5)
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .remediation(
                "Use ISTIO_MUTUAL toward in-mesh hosts, or drop the tls block and let \
                 auto mTLS choose.",
                Some(istio_mutual_yaml(o, &dr.spec.host)),
            )
            .reference(DR_DOCS)
            .reference("https://istio.io/latest/docs/ops/best-practices/security/#mutual-tls");
        for s in &sites {
            finding = finding.evidence(
                ctx.observed(),
                Some(&o.target),
                &format!("{}.mode is {}", s.path, s.tls.mode),
            );
        }
        findings.push(finding);
    }
    Ok(findings)
}

/// With auto mTLS off, in-mesh DestinationRules without TLS make their clients
/// send plaintext, also where a wildcard rule would have said ISTIO_MUTUAL.
fn auto_mtls_off(
    ctx: &Ctx,
    mesh: &kridik_sdk::MeshConfig,
    rules: &[Resolved],
) -> Vec<kridik_sdk::Finding> {
    let mutual = |r: &Resolved| {
        r.rule
            .spec
            .traffic_policy
            .as_ref()
            .and_then(|t| t.tls.as_ref())
            .is_some_and(|t| t.mode == "ISTIO_MUTUAL")
    };
    let wildcards: Vec<&Resolved> = rules
        .iter()
        .filter(|r| r.host.starts_with('*') && mutual(r))
        .collect();
    let mut out = Vec::new();
    for r in rules
        .iter()
        .filter(|r| !r.servers.is_empty() && !r.host.starts_with('*'))
    {
        let tls = r
            .rule
            .spec
            .traffic_policy
            .as_ref()
            .and_then(|t| t.tls.as_ref());
        if tls.is_some() {
            continue;
        }
        let overridden: Vec<String> = wildcards
            .iter()
            .filter(|w| hosts::covers(&w.host, &r.host))
            .map(|w| w.object.target.display())
            .collect();
        let mut f = ctx
            .finding(Severity::High, &r.object.target, "DestinationRule without TLS while auto mTLS is off: clients send plaintext")
            .confidence(Confidence::Inferred)
            .message(format!(
                "meshConfig enableAutoMtls is false and {} sets no TLS for {}{}: its clients send plaintext to in-mesh server(s) {} (rejected by STRICT servers, accepted without identity by PERMISSIVE ones).",
                r.object.target.display(),
                r.host,
                if overridden.is_empty() {
                    String::new()
                } else {
                    format!(", overriding the ISTIO_MUTUAL of {}", overridden.join(", "))
                },
                r.servers.iter().take(5).cloned().collect::<Vec<_>>().join(", ")
            ))
            .remediation(
                "Set ISTIO_MUTUAL in this DestinationRule (or turn auto mTLS back on).",
                Some(istio_mutual_yaml(r.object, &r.rule.spec.host)),
            )
            .reference("https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#MeshConfig")
            .evidence(
                Confidence::Inferred,
                mesh.source.as_ref(),
                "meshConfig.enableAutoMtls: false",
            );
        for w in &overridden {
            f = f.evidence(
                ctx.observed(),
                Some(&r.object.target),
                &format!("more specific than {w}, which it replaces for this host"),
            );
        }
        out.push(f);
    }
    out.extend(bare_services(ctx, mesh, rules));
    out
}

/// With auto mTLS off, an in-mesh Service that no DestinationRule covers gets
/// no TLS at all: istiod's `buildUpstreamTLSSettings`
/// (pilot/pkg/networking/core/cluster_tls.go) returns nil TLS when auto mTLS
/// is disabled and the rule sets none, so its clients connect in plaintext.
fn bare_services(
    ctx: &Ctx,
    mesh: &kridik_sdk::MeshConfig,
    rules: &[Resolved],
) -> Option<kridik_sdk::Finding> {
    let source = mesh.source.as_ref()?;
    let covered: std::collections::HashSet<&str> = rules
        .iter()
        .flat_map(|r| r.servers.iter().map(String::as_str))
        .collect();
    let bare: Vec<String> = hosts::in_mesh(ctx)
        .covered_by("*")
        .into_iter()
        .filter(|h| !covered.contains(h.as_str()))
        .collect();
    if bare.is_empty() {
        return None;
    }
    let fix = yaml::header(
        "networking.istio.io/v1",
        "DestinationRule",
        &mesh.root_namespace,
        "default-mtls",
    )
        + "spec:\n  host: \"*.local\"\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n";
    Some(
        ctx.finding(
            Severity::High,
            source,
            "Auto mTLS is off and no DestinationRule sets TLS for in-mesh Services: clients send plaintext",
        )
        .confidence(ctx.observed())
        .message(format!(
            "meshConfig enableAutoMtls is false and no DestinationRule covers {} in-mesh Service(s) ({}{}): \
             istiod gives their clients no TLS settings, so they connect in plaintext \
             (rejected by STRICT servers, accepted without identity by PERMISSIVE ones, where \
             principal and namespace rules never match).",
            bare.len(),
            bare.iter().take(5).cloned().collect::<Vec<_>>().join(", "),
            if bare.len() > 5 { ", ..." } else { "" },
        ))
        .remediation(
            "Turn auto mTLS back on (enableAutoMtls: true, Istio's default), or apply a \
             mesh-wide DestinationRule with ISTIO_MUTUAL in the root namespace.",
            Some(fix),
        )
        .reference("https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#MeshConfig")
        .evidence(ctx.observed(), Some(source), "meshConfig.enableAutoMtls: false"),
    )
}

pub fn run_unverified(ctx: &Ctx) -> CheckResult {
    let rules = match resolved(ctx, "Egress TLS verification") {
        Ok(r) => r,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    for Resolved {
        object: o,
        rule: dr,
        servers,
        ..
    } in &rules
    {
        if !servers.is_empty() {
            continue; // IST-MTLS-003's ground
        }
        let selected = dr.spec.workload_selector.is_some();
        for site in dr.spec.tls_sites() {
            let tls = site.tls;
            if !matches!(tls.mode.as_str(), "SIMPLE" | "MUTUAL") {
                continue;
            }
            let verified_by_secret = !tls.credential_name.is_empty() && selected;
            let (severity, gap) = if tls.insecure_skip_verify == Some(true) {
                (
                    Severity::High,
                    "insecureSkipVerify is true: the server certificate is not checked".to_string(),
                )
            } else if tls.ca_certificates.is_empty() && !verified_by_secret {
                (Severity::Medium, "no caCertificates (and no credentialName with a workloadSelector): the server certificate is not verified against a trusted CA".to_string())
            } else if tls.subject_alt_names.is_empty() && tls.sni.is_empty() {
                (
                    Severity::Low,
                    "neither subjectAltNames nor sni: any certificate the CA signed is accepted"
                        .to_string(),
                )
            } else {
                continue;
            };
            findings.push(
                ctx.finding(severity, &o.target, "TLS origination without server verification")
                    .confidence(ctx.observed())
                    .message(format!(
                        "{} originates {} TLS to {} at {}{}, with {gap}.",
                        o.target.display(),
                        tls.mode,
                        dr.spec.host,
                        site.path,
                        site.port.map(|p| format!(" (port {p})")).unwrap_or_default()
                    ))
                    .evidence(ctx.observed(), Some(&o.target), &format!("{}: {gap}", site.path))
                    .remediation(
                        "Verify the server: set caCertificates (the CA bundle that signs it), \
                         subjectAltNames and sni to the external host name.",
                        Some(verified_yaml(o, &dr.spec, &site)),
                    )
                    .reference(DR_DOCS)
                    .reference("https://istio.io/latest/docs/ops/best-practices/security/#configure-tls-verification-in-destination-rule-when-using-tls-origination"),
            );
        }
    }
    Ok(findings)
}

fn istio_mutual_yaml(o: &Object, host: &str) -> String {
    yaml::header(
        "networking.istio.io/v1",
        "DestinationRule",
        &o.target.namespace,
        &o.target.name,
    ) + &format!("spec:\n  host: {host}\n  trafficPolicy:\n    tls:\n      mode: ISTIO_MUTUAL\n")
}

fn verified_yaml(o: &Object, spec: &rule::Spec, site: &Site) -> String {
    let mut out = yaml::header(
        "networking.istio.io/v1",
        "DestinationRule",
        &o.target.namespace,
        &o.target.name,
    ) + &format!("spec:\n  host: {}\n", spec.host);
    let labels = rule::selector_labels(&spec.workload_selector);
    if !labels.is_empty() {
        out += &("  workloadSelector:\n".to_string() + &yaml::map(4, "matchLabels", &labels));
    }
    let name = if spec.host.starts_with('*') {
        "HOST.EXAMPLE.COM"
    } else {
        spec.host.as_str()
    };
    let tls = |indent: usize| {
        let p = " ".repeat(indent);
        format!(
            "{p}mode: {}\n{p}caCertificates: /etc/ssl/certs/ca-certificates.crt  # the CA that signs {name}\n{p}subjectAltNames: [{}]\n{p}sni: {}\n",
            site.tls.mode,
            yaml::quote(name),
            yaml::quote(name)
        )
    };
    match site.port {
        None => out + "  trafficPolicy:\n    tls:\n" + &tls(6),
        Some(port) => {
            out + &format!(
                "  trafficPolicy:\n    portLevelSettings:\n    - port:\n        number: {port}\n      tls:\n"
            ) + &tls(8)
        }
    }
}

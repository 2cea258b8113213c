//! Relaxed SNI host matching: a wildcard TLS server and a more specific host
//! with its own TLS settings on the same gateway port. Envoy does not require
//! the HTTP Host (`:authority`) to match the SNI, so a connection opened with a
//! guest SNI can ask for the specific host's routes (istio.io security best
//! practices, "Explicitly disable all the sensitive http host under relaxed
//! SNI host matching"; envoyproxy/envoy#6767).

use crate::servers::{self, GATEWAY_DOCS};
use kridik_sdk::kinds::{GATEWAY, VIRTUAL_SERVICE};
use kridik_sdk::prelude::*;
use kridik_sdk::yaml;
use serde_json::Value;

const BEST: &str = "https://istio.io/latest/docs/ops/best-practices/security/#explicitly-disable-all-the-sensitive-http-host-under-relaxed-sni-host-matching";

pub fn info() -> CheckInfo {
    kridik_sdk::info(
        "IST-GW-010",
        "Wildcard TLS server can reach a specific host's routes (relaxed SNI matching)",
        Severity::Medium,
        "ingress",
        &[GATEWAY, VIRTUAL_SERVICE],
    )
    .description(
        "When one gateway port serves a wildcard host (`*.example.com`) with one TLS setting \
         and a specific host (`admin.example.com`) with another, Envoy picks the TLS settings \
         by SNI but routes by the HTTP Host, which it does not require to match the SNI: a \
         client that opens a connection as `guest.example.com` can send `Host: \
         admin.example.com` and reach the admin routes without the admin server's TLS \
         requirements. Istio asks for a VirtualService on the wildcard gateway that rejects \
         the specific host with 421. High when the specific host requires client \
         certificates (MUTUAL), medium otherwise.",
    )
}

const TERMINATING: &[&str] = &["SIMPLE", "MUTUAL", "OPTIONAL_MUTUAL", "ISTIO_MUTUAL"];

/// A host entry without its `namespace/` prefix.
fn bare(host: &str) -> &str {
    host.rsplit_once('/').map(|(_, h)| h).unwrap_or(host)
}

/// Whether a wildcard server host covers a specific one.
fn covers(wildcard: &str, host: &str) -> bool {
    wildcard == "*"
        || wildcard
            .strip_prefix('*')
            .is_some_and(|suffix| host.ends_with(suffix) && host.len() > suffix.len())
}

/// One TLS server of a Gateway.
struct Tls<'a> {
    gateway: &'a Object,
    selector: &'a std::collections::BTreeMap<String, String>,
    port: u32,
    host: &'a str,
    mode: &'a str,
}

/// VirtualServices that reject `host` on `gateway` (an abort for every request).
fn rejected(vs: &[Parsed<Value>], gateway: &Object, host: &str) -> bool {
    vs.iter().any(|(o, v)| {
        let bound = v
            .pointer("/spec/gateways")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|g| {
                let (ns, name) = g.split_once('/').unwrap_or((&o.target.namespace, g));
                ns == gateway.target.namespace && name == gateway.target.name
            });
        let names_host = v
            .pointer("/spec/hosts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .any(|h| bare(h) == host);
        let aborts = v
            .pointer("/spec/http")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|r| {
                let every = r.get("match").and_then(Value::as_array).is_none_or(|ms| {
                    ms.iter().any(|m| {
                        m.pointer("/uri/prefix").and_then(Value::as_str) == Some("/")
                            || m.as_object().is_some_and(|o| o.is_empty())
                    })
                });
                let status = r
                    .pointer("/fault/abort/httpStatus")
                    .and_then(Value::as_u64)
                    .unwrap_or(0);
                let share = r
                    .pointer("/fault/abort/percentage/value")
                    .and_then(Value::as_f64)
                    .unwrap_or(100.0);
                every && (400..500).contains(&status) && share >= 100.0
            });
        bound && names_host && aborts
    })
}

pub fn run(ctx: &Ctx) -> CheckResult {
    let gateways = match servers::gateways(ctx, "Relaxed SNI host matching") {
        Ok(g) => g,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    // VirtualServices are parsed only when a wildcard server overlaps a
    // specific one: most meshes have none, and the verdict then needs none.
    let mut vs: Option<Vec<Parsed<Value>>> = None;
    let mut servers: Vec<Tls> = Vec::new();
    for (o, g) in &gateways {
        for s in &g.spec.servers {
            let mode = s.tls.as_ref().map(|t| t.mode.as_str()).unwrap_or("");
            if mode.is_empty() {
                continue;
            }
            for h in &s.hosts {
                servers.push(Tls {
                    gateway: o,
                    selector: &g.spec.selector,
                    port: s.port.number,
                    host: bare(h),
                    mode,
                });
            }
        }
    }
    let mut findings = Vec::new();
    for wild in servers
        .iter()
        .filter(|s| s.host.starts_with('*') && TERMINATING.contains(&s.mode))
    {
        let overlapping: Vec<&Tls> = servers
            .iter()
            .filter(|s| {
                // A different TLS requirement on the same port of the same pods.
                s.port == wild.port
                    && s.selector == wild.selector
                    && s.mode != wild.mode
                    && !s.host.starts_with('*')
                    && covers(wild.host, s.host)
            })
            .collect();
        if overlapping.is_empty() {
            continue;
        }
        if vs.is_none() {
            match ctx.parsed::<Value>(VIRTUAL_SERVICE, "Relaxed SNI host matching") {
                Ok(v) => vs = Some(v),
                Err(unknown) => return Ok(vec![*unknown]),
            }
        }
        let routes = vs.as_deref().unwrap_or_default();
        let exposed: Vec<&Tls> = overlapping
            .into_iter()
            .filter(|s| !rejected(routes, wild.gateway, s.host))
            .collect();
        if exposed.is_empty() {
            continue;
        }
        let mutual = exposed.iter().any(|s| s.mode.contains("MUTUAL"));
        let hosts: Vec<&str> = exposed.iter().map(|s| s.host).collect();
        let mut f = ctx
            .finding(
                if mutual { Severity::High } else { Severity::Medium },
                &wild.gateway.target,
                "Wildcard TLS server can reach a specific host's routes",
            )
            .confidence(ctx.observed())
            .message(format!(
                "{} serves {} with TLS {} on port {}, where {} {} its own TLS settings; no VirtualService on {} rejects {} with 421, so a connection opened with a wildcard SNI can request {} routes.",
                wild.gateway.target.display(),
                wild.host,
                wild.mode,
                wild.port,
                hosts.join(", "),
                if hosts.len() == 1 { "has" } else { "have" },
                wild.gateway.target.name,
                hosts.join(", "),
                if hosts.len() == 1 { "its" } else { "their" },
            ))
            .remediation(
                "Reject each specific host on the wildcard gateway with HTTP 421 (or give the specific host its own gateway workload).",
                Some(
                    yaml::header("networking.istio.io/v1", "VirtualService", &wild.gateway.target.namespace, &format!("disable-{}", exposed[0].host.replace('.', "-")))
                        + &format!(
                            "spec:\n  hosts: {}\n  gateways: [{}]\n  http:\n  - match:\n    - uri:\n        prefix: /\n    fault:\n      abort:\n        percentage:\n          value: 100\n        httpStatus: 421\n    route:\n    - destination:\n        host: blackhole.invalid  # never reached\n",
                            yaml::list(&hosts),
                            wild.gateway.target.name
                        ),
                ),
            )
            .reference(BEST)
            .reference(GATEWAY_DOCS);
        for s in &exposed {
            f = f.evidence(
                ctx.observed(),
                Some(&s.gateway.target),
                &format!("{} on port {} uses TLS {}", s.host, s.port, s.mode),
            );
        }
        findings.push(f);
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_deeper_names_only() {
        assert!(covers("*.example.com", "admin.example.com"));
        assert!(covers("*", "admin.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(!covers("*.example.com", "admin.example.org"));
    }
}

//! An example check written against the kridik SDK: Istio Gateway servers that
//! serve hosts over plain HTTP without redirecting to HTTPS. Build it with
//! `cargo build --target wasm32-wasip2 --release`, run it with
//! `kridik scan -f MANIFESTS --plugin target/wasm32-wasip2/release/kridik_example_gateway_tls.wasm`.

use kridik_sdk::kinds::GATEWAY;
use kridik_sdk::prelude::*;
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Gateway {
    spec: Spec,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Spec {
    servers: Vec<Server>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Server {
    port: Port,
    hosts: Vec<String>,
    tls: Option<Tls>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Port {
    number: u32,
    protocol: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Tls {
    https_redirect: bool,
}

fn gateway_tls_info() -> CheckInfo {
    kridik_sdk::info(
        "EXAMPLE-GW-001",
        "Gateway serves hosts without TLS",
        Severity::Medium,
        "ingress",
        &[GATEWAY],
    )
    .description(
        "A Gateway server on protocol HTTP that does not redirect to HTTPS serves its \
         hosts in cleartext: credentials and session cookies cross the network unprotected.",
    )
}

fn run_gateway_tls(ctx: &Ctx) -> CheckResult {
    let gateways = match ctx.parsed::<Gateway>(GATEWAY, "Gateway TLS") {
        Ok(g) => g,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    for (o, gw) in &gateways {
        for (i, server) in gw.spec.servers.iter().enumerate() {
            let redirects = server.tls.as_ref().is_some_and(|t| t.https_redirect);
            if !server.port.protocol.eq_ignore_ascii_case("HTTP") || redirects {
                continue;
            }
            findings.push(
                ctx.finding(Severity::Medium, &o.target, "Gateway serves hosts without TLS")
                    .confidence(ctx.observed())
                    .message(format!(
                        "{} servers[{i}] serves {} on port {} over plain HTTP.",
                        o.target.display(),
                        server.hosts.join(", "),
                        server.port.number
                    ))
                    .evidence(
                        ctx.observed(),
                        Some(&o.target),
                        &format!("spec.servers[{i}].port.protocol is HTTP without tls.httpsRedirect"),
                    )
                    .remediation(
                        "Redirect plain HTTP to HTTPS on this server and serve the hosts on an HTTPS server.",
                        Some("    tls:\n      httpsRedirect: true\n".into()),
                    ),
            );
        }
    }
    Ok(findings)
}

kridik_sdk::export_checks!(Check {
    info: gateway_tls_info,
    run: run_gateway_tls
});

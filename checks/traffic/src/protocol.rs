//! Protocol declaration on Service ports.

use kridik_sdk::kinds::SERVICE;
use kridik_sdk::prelude::*;
use kridik_sdk::yaml;
use serde::Deserialize;

pub fn info() -> CheckInfo {
    kridik_sdk::info(
        "IST-PROTO-001",
        "Service port declares no protocol (name prefix or appProtocol)",
        Severity::Low,
        "protocol",
        &[SERVICE],
    )
    .description(
        "Istio picks HTTP or TCP handling from the port name prefix (`http-`, `grpc-`, \
         `tcp-`, ...) or `appProtocol`. Without either it sniffs the first bytes, which \
         can misclassify server-first protocols and makes HTTP-only authorization fields \
         silently ignored when the traffic is treated as TCP. Low: it weakens policy \
         precision rather than opening access (istioctl IST0118).",
    )
}

/// Protocols Istio recognises in a port name (`<protocol>[-<suffix>]`).
const PROTOCOLS: &[&str] = &[
    "http", "http2", "https", "grpc", "grpc-web", "tcp", "tls", "mongo", "mysql", "redis", "udp",
];
/// Namespaces Istio's analyzer skips: the cluster's own.
const SYSTEM: &[&str] = &[
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "local-path-storage",
];

#[derive(Deserialize, Default)]
#[serde(default)]
struct Service {
    spec: Spec,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Spec {
    #[serde(rename = "type")]
    kind: Option<String>,
    ports: Vec<Port>,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
struct Port {
    name: String,
    port: u32,
    protocol: Option<String>,
    app_protocol: Option<String>,
}

fn declared(port: &Port) -> bool {
    // `<protocol>` or `<protocol>-<suffix>`, any case; no allocation per port
    // and protocol (10,000 Services a scan).
    let name = port.name.as_str();
    let names = |p: &str| {
        name.get(..p.len())
            .is_some_and(|head| head.eq_ignore_ascii_case(p))
            && matches!(name.as_bytes().get(p.len()), None | Some(b'-'))
    };
    port.app_protocol.is_some() || PROTOCOLS.iter().any(|p| names(p))
}

pub fn run(ctx: &Ctx) -> CheckResult {
    let services = match ctx.parsed::<Service>(SERVICE, "Protocol declaration") {
        Ok(s) => s,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let root = ctx.mesh_config().root_namespace;
    let mut findings = Vec::new();
    for (o, svc) in &services {
        let ns = o.target.namespace.as_str();
        if SYSTEM.contains(&ns) || ns == root || svc.spec.kind.as_deref() == Some("ExternalName") {
            continue;
        }
        for (i, port) in svc.spec.ports.iter().enumerate() {
            if declared(port) || port.protocol.as_deref() == Some("UDP") {
                continue;
            }
            let shown = if port.name.is_empty() {
                "(unnamed)"
            } else {
                &port.name
            };
            findings.push(
                ctx.finding(Severity::Low, &o.target, "Service port without a declared protocol")
                    .confidence(ctx.observed())
                    .message(format!(
                        "{} port {} {shown} has neither a protocol name prefix nor appProtocol, \
                         so Istio guesses the protocol.",
                        o.target.display(),
                        port.port
                    ))
                    .evidence(ctx.observed(), Some(&o.target), &format!("spec.ports[{i}].name is {shown:?}, no appProtocol"))
                    .remediation(
                        "Name the port `<protocol>[-suffix]` or set appProtocol.",
                        Some(
                            yaml::header("v1", "Service", ns, &o.target.name)
                                + &format!(
                                    "spec:\n  ports:\n  - name: http-{}\n    port: {}\n    appProtocol: http  # or tcp, grpc, https ...\n",
                                    port.port, port.port
                                ),
                        ),
                    )
                    .reference("https://istio.io/latest/docs/ops/configuration/traffic-management/protocol-selection/"),
            );
        }
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_names_declare_a_protocol_by_prefix_in_any_case() {
        let port = |name: &str| Port {
            name: name.into(),
            ..Port::default()
        };
        for yes in [
            "http",
            "HTTP-api",
            "http2",
            "https-web",
            "grpc-web",
            "tcp",
            "mysql-0",
        ] {
            assert!(declared(&port(yes)), "{yes}");
        }
        for no in ["", "web", "httpx", "tcpx-1", "h", "ħttp", "-http"] {
            assert!(!declared(&port(no)), "{no}");
        }
        let app = Port {
            app_protocol: Some("http".into()),
            ..port("web")
        };
        assert!(declared(&app));
    }
}

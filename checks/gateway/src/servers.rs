//! Ingress listeners: Istio Gateway servers and Gateway API listeners.

use kridik_sdk::kinds::{GATEWAY, K8S_GATEWAY};
use kridik_sdk::prelude::*;
use kridik_sdk::yaml;
use serde::Deserialize;

pub const GATEWAY_DOCS: &str = "https://istio.io/latest/docs/reference/config/networking/gateway/";

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Gateway {
    pub spec: GatewaySpec,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct GatewaySpec {
    pub selector: std::collections::BTreeMap<String, String>,
    pub servers: Vec<Server>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Server {
    pub port: ServerPort,
    pub hosts: Vec<String>,
    pub tls: Option<ServerTls>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ServerPort {
    pub number: u32,
    pub name: String,
    pub protocol: String,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct ServerTls {
    pub mode: String,
    pub credential_name: String,
    pub server_certificate: String,
    pub https_redirect: bool,
}

/// Gateway API Gateway: listeners, and the class that says whether it is ingress.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct K8sGateway {
    pub spec: K8sSpec,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct K8sSpec {
    pub gateway_class_name: String,
    pub listeners: Vec<Listener>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Listener {
    pub name: String,
    pub hostname: Option<String>,
    pub port: u32,
    pub protocol: String,
}

/// Waypoints and east-west gateways are Gateway API Gateways too, not ingress.
pub fn is_ingress_class(class: &str) -> bool {
    !matches!(class, "istio-waypoint" | "istio-east-west" | "istio-remote")
}

pub fn gateways(ctx: &Ctx, what: &str) -> Result<Vec<Parsed<Gateway>>, Box<kridik_sdk::Finding>> {
    ctx.parsed::<Gateway>(GATEWAY, what)
}

pub fn k8s_gateways(
    ctx: &Ctx,
    what: &str,
) -> Result<Vec<Parsed<K8sGateway>>, Box<kridik_sdk::Finding>> {
    Ok(ctx
        .parsed::<K8sGateway>(K8S_GATEWAY, what)?
        .into_iter()
        .filter(|(_, g)| is_ingress_class(&g.spec.gateway_class_name))
        .collect())
}

/// The Gateway with one server rewritten by `server_yaml` (the rest elided).
pub fn hardened(o: &Object, gw: &Gateway, server_yaml: &str) -> String {
    let mut out = yaml::header(
        "networking.istio.io/v1",
        "Gateway",
        &o.target.namespace,
        &o.target.name,
    ) + "spec:\n";
    out += &yaml::map(2, "selector", &gw.spec.selector);
    out + "  servers:\n" + server_yaml
}

/// Is the host pattern (after an optional `namespace/`) a wildcard that
/// admits every name, or every subdomain?
pub fn breadth(host: &str) -> Option<(&'static str, Severity)> {
    let name = host.rsplit_once('/').map(|(_, h)| h).unwrap_or(host);
    match name {
        "*" => Some(("matches every host name", Severity::Medium)),
        n if n.starts_with("*.") => Some(("matches every subdomain", Severity::Low)),
        _ => None,
    }
}

//! The data plane as the proxies run it (`--deep`): what an Envoy `/config_dump`
//! and a ztunnel `/config_dump` say about inbound mTLS, the authorization
//! filters and the workloads ztunnel carries. Pure reading of JSON, no I/O;
//! anything unexpected in a dump reads as "not shown", never as a pass.
//!
//! The shapes follow what istiod generates:
//! - inbound filter chains of the `virtualInbound` listener, one set per
//!   target port, matched on `transport_protocol` (`tls` / `raw_buffer`);
//!   chains that terminate Istio mTLS carry a `DownstreamTlsContext` with
//!   `require_client_certificate` (istio/istio
//!   pilot/pkg/networking/core/filterchain_options.go, listener_inbound.go);
//! - RBAC filters name their policies `ns[NS]-policy[NAME]-rule[N]`, CUSTOM
//!   ones with an `istio-ext-authz-` prefix, dry-run ones in `shadow_rules`
//!   (pilot/pkg/security/authz/builder/builder.go `policyName`);
//! - ztunnel's dump lists workloads by address with `protocol` HBONE or TCP
//!   and the policies it holds (istio/ztunnel src/admin.rs, src/state).

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// The listener istiod builds for a sidecar's captured inbound traffic.
pub const VIRTUAL_INBOUND: &str = "virtualInbound";
/// The port that listener binds; its own chains (the blackhole) are not an application port.
const INBOUND_CAPTURE_PORT: u32 = 15006;

/// What one proxy's dump shows.
#[derive(Clone, Debug, PartialEq)]
pub enum View {
    Envoy(EnvoyView),
    Ztunnel(ZtunnelView),
}

/// How a proxy accepts connections on one inbound port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PortView {
    /// A chain terminates TLS and requires a client certificate (Istio mTLS).
    pub mtls: bool,
    /// A chain accepts a connection without a client certificate (plaintext
    /// or one-way TLS passed through).
    pub plaintext: bool,
    /// The chains, as `name (transport)`, for the evidence.
    pub chains: Vec<String>,
}

impl PortView {
    /// Istio's name for what the chains implement.
    pub fn mode(&self) -> &'static str {
        match (self.mtls, self.plaintext) {
            (true, false) => "STRICT",
            (true, true) => "PERMISSIVE",
            (false, true) => "DISABLE",
            (false, false) => "NONE",
        }
    }
}

/// A policy an RBAC filter was built from.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PolicyName {
    pub namespace: String,
    pub name: String,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct EnvoyView {
    /// The `virtualInbound` listener is active: the proxy is a sidecar that captures inbound.
    pub inbound_listener: bool,
    /// Inbound chains by destination port.
    pub ports: BTreeMap<u32, PortView>,
    /// The chains without a destination port: what any other port gets.
    pub catch_all: Option<PortView>,
    /// Policies enforced by RBAC filters on inbound chains (ALLOW, DENY, AUDIT, CUSTOM).
    pub enforced: BTreeSet<PolicyName>,
    /// Policies present only as shadow rules (dry-run).
    pub dry_run: BTreeSet<PolicyName>,
    /// Actions of the inbound RBAC filters (`ALLOW`, `DENY`, `LOG`), shadow ones excluded.
    pub rbac_actions: BTreeSet<String>,
    /// Some inbound chain runs an HTTP connection manager (HTTP policies can apply).
    pub http_inbound: bool,
    pub jwt_authn: bool,
    pub ext_authz: bool,
    /// Outbound clusters by name (`outbound|PORT|SUBSET|HOST`) with how they
    /// reach their endpoints: `TLS`, `AUTO` (Istio mTLS to endpoints labelled
    /// `tlsMode: istio`, plaintext to the others) or `PLAINTEXT`.
    pub clusters: BTreeMap<String, &'static str>,
}

impl EnvoyView {
    /// How the proxy reaches `host:port` (the default subset's cluster).
    pub fn outbound(&self, host: &str, port: u32) -> Option<&'static str> {
        self.clusters
            .get(&format!("outbound|{port}||{host}"))
            .copied()
    }

    /// How the proxy treats inbound connections to `port`: its own chains, else the catch-all.
    pub fn port(&self, port: u32) -> Option<&PortView> {
        self.ports.get(&port).or(self.catch_all.as_ref())
    }
}

/// One workload as ztunnel knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ZtunnelWorkload {
    pub uid: String,
    /// `HBONE` (mTLS through ztunnel) or `TCP` (plaintext).
    pub protocol: String,
    pub service_account: String,
    /// Policies ztunnel attached to it by selector (`namespace/name`).
    pub policies: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ZtunnelView {
    /// By `namespace/pod name`.
    pub workloads: BTreeMap<String, ZtunnelWorkload>,
    /// Every policy ztunnel holds (`namespace/name`), with its scope.
    pub policies: BTreeMap<String, String>,
}

/// Reads a dump; `None` when it is neither an Envoy nor a ztunnel dump.
pub fn read(dump: &Value) -> Option<View> {
    let o = dump.as_object()?;
    if let Some(configs) = o.get("configs").and_then(Value::as_array) {
        return Some(View::Envoy(envoy(configs)));
    }
    if o.get("workloads").is_some_and(Value::is_object) {
        return Some(View::Ztunnel(ztunnel(dump)));
    }
    None
}

/// Removes what a dump must never keep, even redacted: secrets, keys and
/// certificate material (Envoy's SDS secrets, ztunnel's certificates).
pub fn scrub(dump: &mut Value) {
    const DROPPED: &[&str] = &[
        "dynamic_active_secrets",
        "dynamic_warming_secrets",
        "static_secrets",
        "private_key",
        "certificates",
        "certChain",
        "cert_chain",
    ];
    let mut stack = vec![dump];
    while let Some(v) = stack.pop() {
        match v {
            Value::Object(m) => {
                for k in DROPPED {
                    m.remove(*k);
                }
                stack.extend(m.values_mut());
            }
            Value::Array(a) => stack.extend(a.iter_mut()),
            _ => {}
        }
    }
}

/// The listeners of a dump: `ListenersConfigDump` (whole dump) or the
/// `DynamicListener` items `?resource=dynamic_listeners` returns. Only the
/// active state serves traffic; a warming listener does not yet.
fn listeners(configs: &[Value]) -> Vec<&Value> {
    let mut out = Vec::new();
    for c in configs {
        let kind = c.get("@type").and_then(Value::as_str).unwrap_or_default();
        if kind.ends_with("ListenersConfigDump") {
            for l in c
                .get("dynamic_listeners")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                out.extend(l.pointer("/active_state/listener"));
            }
            for l in c
                .get("static_listeners")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                out.extend(l.get("listener"));
            }
        } else if kind.ends_with("ListenersConfigDump.DynamicListener") {
            out.extend(c.pointer("/active_state/listener"));
        }
    }
    out
}

/// The active clusters of a dump: `ClustersConfigDump` or the `DynamicCluster`
/// items `?resource=dynamic_active_clusters` returns.
fn clusters(configs: &[Value]) -> Vec<&Value> {
    let mut out = Vec::new();
    for c in configs {
        let kind = c.get("@type").and_then(Value::as_str).unwrap_or_default();
        if kind.ends_with("ClustersConfigDump") {
            for field in ["static_clusters", "dynamic_active_clusters"] {
                out.extend(
                    c.get(field)
                        .and_then(Value::as_array)
                        .into_iter()
                        .flatten()
                        .filter_map(|d| d.get("cluster")),
                );
            }
        } else if kind.ends_with("ClustersConfigDump.DynamicCluster") {
            out.extend(c.get("cluster"));
        }
    }
    out
}

/// A transport socket that originates TLS (`UpstreamTlsContext`).
fn originates_tls(socket: Option<&Value>) -> bool {
    socket
        .and_then(|t| t.pointer("/typed_config/@type"))
        .and_then(Value::as_str)
        .is_some_and(|t| t.ends_with("UpstreamTlsContext"))
}

/// How a cluster reaches its endpoints (pilot/pkg/networking/core/cluster_tls.go:
/// a DestinationRule's TLS is the cluster's transport socket; auto mTLS is a
/// `tlsMode-istio` transport socket match beside a raw `tlsMode-disabled` one).
fn cluster_tls(cluster: &Value) -> &'static str {
    if originates_tls(cluster.get("transport_socket")) {
        return "TLS";
    }
    let auto = cluster
        .get("transport_socket_matches")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .any(|m| {
            m.pointer("/match/tlsMode").and_then(Value::as_str) == Some("istio")
                && originates_tls(m.get("transport_socket"))
        });
    if auto {
        "AUTO"
    } else {
        "PLAINTEXT"
    }
}

fn envoy(configs: &[Value]) -> EnvoyView {
    let mut view = EnvoyView::default();
    for c in clusters(configs) {
        if let Some(name) = c.get("name").and_then(Value::as_str) {
            view.clusters.insert(name.to_string(), cluster_tls(c));
        }
    }
    let inbound = listeners(configs)
        .into_iter()
        .find(|l| l.get("name").and_then(Value::as_str) == Some(VIRTUAL_INBOUND));
    // Filters delivered by extension config discovery are the proxy's too.
    let ecds: Vec<&Value> = configs
        .iter()
        .filter(|c| {
            c.get("@type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.ends_with("EcdsConfigDump"))
        })
        .flat_map(|c| {
            c.get("ecds_filters")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
        })
        .filter_map(|f| f.get("ecds_filter"))
        .collect();
    for f in ecds {
        filter(&mut view, f);
    }
    let Some(listener) = inbound else {
        return view;
    };
    view.inbound_listener = true;
    for chain in listener
        .get("filter_chains")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let m = chain.get("filter_chain_match");
        let port = m
            .and_then(|m| m.get("destination_port"))
            .and_then(port_number);
        if port == Some(INBOUND_CAPTURE_PORT) {
            continue;
        }
        let transport = m
            .and_then(|m| m.get("transport_protocol"))
            .and_then(Value::as_str)
            .unwrap_or("any");
        let requires_cert = chain
            .pointer("/transport_socket/typed_config")
            .filter(|t| {
                t.get("@type")
                    .and_then(Value::as_str)
                    .is_some_and(|t| t.ends_with("DownstreamTlsContext"))
            })
            .and_then(|t| t.get("require_client_certificate"))
            .is_some_and(truthy);
        let name = chain
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or("unnamed");
        let slot = match port {
            Some(p) => view.ports.entry(p).or_default(),
            None => view.catch_all.get_or_insert_with(PortView::default),
        };
        if requires_cert {
            slot.mtls = true;
        } else {
            slot.plaintext = true;
        }
        slot.chains.push(format!(
            "{name} ({transport}{})",
            if requires_cert {
                ", client certificate required"
            } else {
                ""
            }
        ));
        for f in chain
            .get("filters")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            filter(&mut view, f);
        }
    }
    view
}

/// Reads one network filter (and an HTTP connection manager's HTTP filters).
fn filter(view: &mut EnvoyView, f: &Value) {
    let name = f.get("name").and_then(Value::as_str).unwrap_or_default();
    let config = f.get("typed_config");
    match name {
        "envoy.filters.network.http_connection_manager" => {
            view.http_inbound = true;
            for h in config
                .and_then(|c| c.get("http_filters"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                filter(view, h);
            }
        }
        "envoy.filters.http.rbac" | "envoy.filters.network.rbac" => {
            if let Some(c) = config {
                rbac(view, c);
            }
        }
        "envoy.filters.http.ext_authz" | "envoy.filters.network.ext_authz" => view.ext_authz = true,
        "envoy.filters.http.jwt_authn" => view.jwt_authn = true,
        _ => {}
    }
}

fn rbac(view: &mut EnvoyView, config: &Value) {
    if let Some(rules) = config.get("rules") {
        // Protobuf JSON omits the default enum value: no action is ALLOW.
        let action = rules
            .get("action")
            .and_then(Value::as_str)
            .unwrap_or("ALLOW");
        view.rbac_actions.insert(action.to_string());
        view.enforced.extend(policy_names(rules));
    }
    // Shadow rules only record a decision (dry-run), except CUSTOM's, which
    // decide whether ext_authz is asked: those are enforced.
    for key in config
        .pointer("/shadow_rules/policies")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.keys())
    {
        if let Some(p) = parse_policy_name(key) {
            if key.starts_with("istio-ext-authz") {
                view.enforced.insert(p);
            } else {
                view.dry_run.insert(p);
            }
        }
    }
}

fn policy_names(rules: &Value) -> impl Iterator<Item = PolicyName> + '_ {
    rules
        .get("policies")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, _)| parse_policy_name(k))
}

/// `[prefix]ns[NS]-policy[NAME]-rule[N]` to its namespace and name
/// (Kubernetes names hold no brackets, so the first `]` ends each part).
pub fn parse_policy_name(key: &str) -> Option<PolicyName> {
    let rest = &key[key.find("ns[")? + 3..];
    let (namespace, rest) = rest.split_once("]-policy[")?;
    let (name, rest) = rest.split_once("]-rule[")?;
    rest.strip_suffix(']')
        .or_else(|| rest.split_once(']').map(|(n, _)| n))
        .filter(|n| n.parse::<u32>().is_ok())?;
    Some(PolicyName {
        namespace: namespace.to_string(),
        name: name.to_string(),
    })
}

/// A destination port as protobuf JSON writes a `UInt32Value`: a number (or a string).
fn port_number(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.parse().ok(),
        Value::Object(m) => m.get("value").and_then(port_number),
        _ => None,
    }
}

/// A `BoolValue`: `true`, or `{"value": true}`.
fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Object(m) => m.get("value").is_some_and(truthy),
        _ => false,
    }
}

fn ztunnel(dump: &Value) -> ZtunnelView {
    let mut view = ZtunnelView::default();
    let text = |w: &Value, k: &str| {
        w.get(k)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };
    for w in dump
        .get("workloads")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|m| m.values())
    {
        let (namespace, name) = (text(w, "namespace"), text(w, "name"));
        if namespace.is_empty() || name.is_empty() {
            continue;
        }
        let policies = super::workloads::strings(w.get("authorizationPolicies"));
        view.workloads.insert(
            format!("{namespace}/{name}"),
            ZtunnelWorkload {
                uid: text(w, "uid"),
                protocol: text(w, "protocol"),
                service_account: text(w, "serviceAccount"),
                policies,
            },
        );
    }
    let policies = match dump.get("policies") {
        Some(Value::Array(a)) => a.iter().collect::<Vec<_>>(),
        Some(Value::Object(m)) => m.values().collect(),
        _ => Vec::new(),
    };
    for p in policies {
        let (namespace, name) = (text(p, "namespace"), text(p, "name"));
        if !name.is_empty() {
            view.policies
                .insert(format!("{namespace}/{name}"), text(p, "scope"));
        }
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn corpus(name: &str) -> Value {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/corpus/istio-config-dumps")
            .join(name);
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    fn chain(port: Option<u32>, transport: &str, mtls: bool, filters: Value) -> Value {
        let mut c = json!({"name": format!("0.0.0.0_{}", port.unwrap_or(0)),
            "filter_chain_match": {"transport_protocol": transport}, "filters": filters});
        if let Some(p) = port {
            c["filter_chain_match"]["destination_port"] = p.into();
        }
        if mtls {
            c["transport_socket"] = json!({"name": "envoy.transport_sockets.tls", "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext",
                "require_client_certificate": true}});
        }
        c
    }

    fn sidecar(chains: Vec<Value>) -> Value {
        json!({"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
            "dynamic_listeners": [{"name": "virtualInbound", "active_state": {"listener": {
                "name": "virtualInbound", "filter_chains": chains}}}]}]})
    }

    fn envoy_view(v: &Value) -> EnvoyView {
        match read(v) {
            Some(View::Envoy(e)) => e,
            other => panic!("not an Envoy view: {other:?}"),
        }
    }

    #[test]
    fn strict_permissive_and_disabled_ports_read_as_istio_builds_them() {
        let v = envoy_view(&sidecar(vec![
            chain(Some(8080), "tls", true, json!([])),
            chain(Some(9090), "tls", true, json!([])),
            chain(Some(9090), "raw_buffer", false, json!([])),
            chain(Some(7070), "raw_buffer", false, json!([])),
            chain(None, "tls", true, json!([])),
            chain(Some(15006), "raw_buffer", false, json!([])),
        ]));
        assert!(v.inbound_listener);
        assert_eq!(v.port(8080).unwrap().mode(), "STRICT");
        assert_eq!(v.port(9090).unwrap().mode(), "PERMISSIVE");
        assert_eq!(v.port(7070).unwrap().mode(), "DISABLE");
        // A port without chains of its own gets the catch-all's.
        assert_eq!(v.port(5000).unwrap().mode(), "STRICT");
        assert!(!v.ports.contains_key(&15006));
    }

    #[test]
    fn one_way_tls_without_a_client_certificate_is_not_mtls() {
        let mut c = chain(Some(8443), "tls", true, json!([]));
        c["transport_socket"]["typed_config"]["require_client_certificate"] = false.into();
        let v = envoy_view(&sidecar(vec![c]));
        assert_eq!(v.port(8443).unwrap().mode(), "DISABLE");
    }

    #[test]
    fn rbac_filters_name_their_policies_by_action_dry_run_and_custom() {
        let hcm = |http: Value| {
            json!([{"name": "envoy.filters.network.http_connection_manager",
            "typed_config": {"http_filters": http}}])
        };
        let v = envoy_view(&sidecar(vec![
            chain(
                Some(8080),
                "tls",
                true,
                hcm(json!([
                    {"name": "envoy.filters.http.rbac", "typed_config": {
                        "rules": {"policies": {"ns[foo]-policy[allow-get]-rule[0]": {}, "ns[foo]-policy[allow-get]-rule[1]": {}}},
                        "shadow_rules": {"policies": {"ns[foo]-policy[trial]-rule[0]": {}}}}},
                    {"name": "envoy.filters.http.rbac", "typed_config": {
                        "rules": {"action": "DENY", "policies": {"ns[istio-system]-policy[deny-debug]-rule[0]": {}}}}},
                    {"name": "envoy.filters.http.rbac", "typed_config": {
                        "shadow_rules": {"policies": {"istio-ext-authz-ns[foo]-policy[opa]-rule[0]": {}}}}},
                    {"name": "envoy.filters.http.ext_authz"},
                    {"name": "envoy.filters.http.jwt_authn"}
                ])),
            ),
            chain(
                Some(3306),
                "tls",
                true,
                json!([{"name": "envoy.filters.network.rbac", "typed_config": {
                "rules": {"policies": {"ns[db]-policy[tcp-only]-rule[0]": {}}}}}]),
            ),
        ]));
        let names: Vec<String> = v
            .enforced
            .iter()
            .map(|p| format!("{}/{}", p.namespace, p.name))
            .collect();
        assert_eq!(
            names,
            [
                "db/tcp-only",
                "foo/allow-get",
                "foo/opa",
                "istio-system/deny-debug"
            ]
        );
        assert_eq!(v.dry_run.len(), 1);
        assert!(v.rbac_actions.contains("ALLOW") && v.rbac_actions.contains("DENY"));
        assert!(v.http_inbound && v.ext_authz && v.jwt_authn);
    }

    #[test]
    fn outbound_clusters_read_as_tls_auto_mtls_or_plaintext() {
        let tls = json!({"name": "envoy.transport_sockets.tls", "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext"}});
        let dump = json!({"configs": [
            {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster",
             "cluster": {"name": "outbound|5432||db.a.svc.cluster.local", "transport_socket": tls}},
            {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster",
             "cluster": {"name": "outbound|80||web.a.svc.cluster.local", "transport_socket_matches": [
                {"name": "tlsMode-istio", "match": {"tlsMode": "istio"}, "transport_socket": tls},
                {"name": "tlsMode-disabled", "match": {}, "transport_socket": {"name": "envoy.transport_sockets.raw_buffer"}}]}},
            {"@type": "type.googleapis.com/envoy.admin.v3.ClustersConfigDump.DynamicCluster",
             "cluster": {"name": "outbound|8200||kms.a.svc.cluster.local"}}]});
        let v = envoy_view(&dump);
        assert_eq!(v.outbound("db.a.svc.cluster.local", 5432), Some("TLS"));
        assert_eq!(v.outbound("web.a.svc.cluster.local", 80), Some("AUTO"));
        assert_eq!(
            v.outbound("kms.a.svc.cluster.local", 8200),
            Some("PLAINTEXT")
        );
        assert_eq!(v.outbound("kms.a.svc.cluster.local", 81), None);
        // The whole-dump form from istioctl's test data has clusters too.
        let w = envoy_view(&corpus("proxyconfig__config_dump.json"));
        assert!(!w.clusters.is_empty());
    }

    #[test]
    fn policy_names_are_parsed_strictly() {
        let p = parse_policy_name("ns[a-b]-policy[c.d]-rule[12]").unwrap();
        assert_eq!((p.namespace.as_str(), p.name.as_str()), ("a-b", "c.d"));
        assert!(parse_policy_name("ns[a]-policy[b]-rule[x]").is_none());
        assert!(parse_policy_name("ns[a]-policy[b]").is_none());
        assert!(parse_policy_name("allow-all").is_none());
        let bad =
            parse_policy_name("istio-ext-authz-ns[a]-policy[b]-rule[0]-bad-custom-action").unwrap();
        assert_eq!(bad.name, "b");
    }

    #[test]
    fn a_warming_listener_does_not_serve_and_garbage_shows_nothing() {
        let dump = json!({"configs": [{"@type": "type.googleapis.com/envoy.admin.v3.ListenersConfigDump",
            "dynamic_listeners": [{"name": "virtualInbound", "warming_state": {"listener": {
                "name": "virtualInbound", "filter_chains": [chain(Some(80), "raw_buffer", false, json!([]))]}}}]}]});
        let v = envoy_view(&dump);
        assert!(!v.inbound_listener && v.ports.is_empty());
        for junk in [
            json!(null),
            json!([1, 2]),
            json!({"configs": 3}),
            json!("x"),
        ] {
            let _ = read(&junk);
        }
        assert!(read(&json!({"other": 1})).is_none());
        let v = envoy_view(
            &json!({"configs": [{"@type": "x.ListenersConfigDump", "dynamic_listeners": [
            {"active_state": {"listener": {"name": "virtualInbound", "filter_chains": [
                {"filter_chain_match": {"destination_port": "not a port"}, "transport_socket": 7}, 5]}}}]}]}),
        );
        assert_eq!(v.catch_all.unwrap().mode(), "DISABLE");
    }

    #[test]
    fn the_waypoint_dump_from_istioctl_has_no_sidecar_inbound() {
        // proxyconfig__config_dump.json is a waypoint's: main_internal, no virtualInbound.
        let v = envoy_view(&corpus("proxyconfig__config_dump.json"));
        assert!(!v.inbound_listener);
    }

    #[test]
    fn ztunnel_dump_lists_workloads_by_pod_with_their_protocol() {
        let mut dump = corpus("writer__ztunnel__configdump__dump.json");
        scrub(&mut dump);
        assert!(dump.get("certificates").is_none());
        let Some(View::Ztunnel(z)) = read(&dump) else {
            panic!("not a ztunnel dump")
        };
        let ratings = z
            .workloads
            .iter()
            .find(|(k, _)| k.starts_with("bookinfo/ratings-v1-"))
            .map(|(_, w)| w)
            .unwrap();
        assert_eq!(ratings.protocol, "HBONE");
        assert_eq!(ratings.service_account, "bookinfo-ratings");
        assert!(z.workloads.values().any(|w| w.protocol == "TCP"));
        assert_eq!(
            z.policies.get("default/allow-nothing").map(String::as_str),
            Some("Namespace")
        );
    }

    #[test]
    fn scrub_removes_secret_material_at_any_depth() {
        let mut v = json!({"configs": [{"dynamic_active_secrets": [{"secret": {"tls_certificate": {"private_key": "k"}}}]},
            {"deep": {"private_key": {"inline_bytes": "x"}, "keep": 1}}]});
        scrub(&mut v);
        let text = v.to_string();
        assert!(!text.contains("private_key") && !text.contains("dynamic_active_secrets"));
        assert!(text.contains("keep"));
    }
}

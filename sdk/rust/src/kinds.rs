//! Kind keys checks declare (`Kind` for the core group, `group/Kind`
//! otherwise) and the shared typed forms of the kinds several checks parse.

pub const SERVICE: &str = "Service";
pub const CONFIG_MAP: &str = "ConfigMap";
pub const NAMESPACE: &str = "Namespace";
pub const DEPLOYMENT: &str = "apps/Deployment";
pub const PEER_AUTHENTICATION: &str = "security.istio.io/PeerAuthentication";
pub const AUTHORIZATION_POLICY: &str = "security.istio.io/AuthorizationPolicy";
pub const REQUEST_AUTHENTICATION: &str = "security.istio.io/RequestAuthentication";
pub const DESTINATION_RULE: &str = "networking.istio.io/DestinationRule";
pub const SERVICE_ENTRY: &str = "networking.istio.io/ServiceEntry";
pub const GATEWAY: &str = "networking.istio.io/Gateway";
pub const SIDECAR: &str = "networking.istio.io/Sidecar";
pub const K8S_GATEWAY: &str = "gateway.networking.k8s.io/Gateway";
pub const NETWORK_POLICY: &str = "networking.k8s.io/NetworkPolicy";
pub const ROLE: &str = "rbac.authorization.k8s.io/Role";
pub const CLUSTER_ROLE: &str = "rbac.authorization.k8s.io/ClusterRole";
pub const ROLE_BINDING: &str = "rbac.authorization.k8s.io/RoleBinding";
pub const CLUSTER_ROLE_BINDING: &str = "rbac.authorization.k8s.io/ClusterRoleBinding";

use serde_json::Value;
use std::collections::BTreeMap;

/// An AuthorizationPolicy as checks read it: the spec's fields, each rule as
/// JSON (`from`, `to`, `when`), so a check can follow any field Istio adds.
/// Checks of one component that parse it with [`crate::Ctx::parsed`] share
/// one parse of the kind.
#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub struct AuthorizationPolicy {
    pub spec: AuthorizationPolicySpec,
}

#[derive(serde::Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct AuthorizationPolicySpec {
    pub action: Option<String>,
    pub provider: Option<Value>,
    pub rules: Option<Vec<BTreeMap<String, Value>>>,
    pub selector: Option<Value>,
    pub target_refs: Option<Vec<Value>>,
    pub target_ref: Option<Value>,
}

impl AuthorizationPolicySpec {
    /// The rules, borrowed: every check reads them, none changes them.
    pub fn rules(&self) -> &[BTreeMap<String, Value>] {
        self.rules.as_deref().unwrap_or_default()
    }

    /// ALLOW, Istio's default action.
    pub fn is_allow(&self) -> bool {
        self.action.as_deref().is_none_or(|a| a == "ALLOW")
    }

    /// The first rule with nothing in `from`, `to` or `when`: it matches every request.
    pub fn empty_rule(&self) -> Option<usize> {
        self.rules.as_ref()?.iter().position(|rule| {
            ["from", "to", "when"].iter().all(|k| {
                rule.get(*k)
                    .is_none_or(|v| v.is_null() || v.as_array().is_some_and(|a| a.is_empty()))
            })
        })
    }

    /// `spec: {}` or an ALLOW with no rules: matches nothing, so denies everything.
    pub fn is_deny_all(&self) -> bool {
        self.is_allow()
            && self.provider.is_none()
            && self.rules.as_ref().is_none_or(|r| r.is_empty())
            && self.selector.is_none()
            && self.target_refs.is_none()
            && self.target_ref.is_none()
    }
}

/// `v[key]` as a list of strings (other entries left out; none when absent).
pub fn strings<'a>(v: &'a Value, key: &str) -> impl Iterator<Item = &'a str> {
    v.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

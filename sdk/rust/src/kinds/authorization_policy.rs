//! AuthorizationPolicy (`security.istio.io/v1`), typed: every field of its
//! rules (istio.io/api security/v1beta1/authorization.proto: `Rule`, `Source`,
//! `Operation`, `Condition`). The checks of a component that parse it with
//! [`crate::Ctx::parsed`] share one parse of the kind; typed, it costs a
//! fraction of a `Value` tree, and field lookups are struct fields instead of
//! map searches. Every list is read leniently (see [`crate::lenient`]): a
//! policy with a field of an unexpected shape is still assessed.

use crate::lenient;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AuthorizationPolicy {
    #[serde(deserialize_with = "lenient::object")]
    pub spec: AuthorizationPolicySpec,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct AuthorizationPolicySpec {
    #[serde(deserialize_with = "lenient::text")]
    pub action: Option<String>,
    pub provider: Option<Value>,
    #[serde(deserialize_with = "rules")]
    pub rules: Vec<Rule>,
    /// Present (even empty or of a wrong shape) or not; typed, not a `Value`:
    /// a tree of maps per policy cost more than the rest of the policy.
    #[serde(deserialize_with = "lenient::present")]
    pub selector: Option<Selector>,
    pub target_refs: Option<Vec<Value>>,
    pub target_ref: Option<Value>,
}

/// A workload selector (istio.io/api type/v1beta1/selector.proto): the
/// workloads whose labels include every `matchLabels` pair. Empty, it selects
/// every workload in scope, as no selector does.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Selector {
    #[serde(deserialize_with = "lenient::pairs")]
    pub match_labels: Vec<(String, String)>,
}

/// Rules; one that is not an object is kept as [`Rule::malformed`], so it
/// counts as a rule that is neither empty (allow-all) nor absent (deny-all).
fn rules<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<Rule>, D::Error> {
    let rules = lenient::maybe_list::<D, Rule>(d)?;
    Ok(rules
        .into_iter()
        .map(|r| {
            r.unwrap_or(Rule {
                malformed: true,
                ..Rule::default()
            })
        })
        .collect())
}

/// One rule: it matches when one `from`, one `to` and every `when` match;
/// an absent or empty list matches anything.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Rule {
    /// The entry was not an object: Istio's validation rejects the policy;
    /// kridik reads it as a rule that matches nothing it can name.
    #[serde(skip)]
    pub malformed: bool,
    #[serde(deserialize_with = "lenient::list")]
    pub from: Vec<From>,
    #[serde(deserialize_with = "lenient::list")]
    pub to: Vec<To>,
    #[serde(deserialize_with = "lenient::list")]
    pub when: Vec<Condition>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct From {
    #[serde(deserialize_with = "lenient::object")]
    pub source: Source,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct To {
    #[serde(deserialize_with = "lenient::object")]
    pub operation: Operation,
}

/// Who the caller is. `trustDomains` is not in Istio's API; it is read so a
/// check can point out that Istio ignores it.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Source {
    #[serde(deserialize_with = "lenient::strings")]
    pub principals: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub not_principals: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub request_principals: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub not_request_principals: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub namespaces: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub not_namespaces: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub service_accounts: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub not_service_accounts: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub ip_blocks: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub not_ip_blocks: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub remote_ip_blocks: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub not_remote_ip_blocks: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub trust_domains: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub not_trust_domains: Vec<String>,
}

impl Source {
    /// A field by its name in the API (`notPrincipals`); empty for any other name.
    pub fn field(&self, name: &str) -> &[String] {
        match name {
            "principals" => &self.principals,
            "notPrincipals" => &self.not_principals,
            "requestPrincipals" => &self.request_principals,
            "notRequestPrincipals" => &self.not_request_principals,
            "namespaces" => &self.namespaces,
            "notNamespaces" => &self.not_namespaces,
            "serviceAccounts" => &self.service_accounts,
            "notServiceAccounts" => &self.not_service_accounts,
            "ipBlocks" => &self.ip_blocks,
            "notIpBlocks" => &self.not_ip_blocks,
            "remoteIpBlocks" => &self.remote_ip_blocks,
            "notRemoteIpBlocks" => &self.not_remote_ip_blocks,
            "trustDomains" => &self.trust_domains,
            "notTrustDomains" => &self.not_trust_domains,
            _ => &[],
        }
    }
}

/// What the request does.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Operation {
    #[serde(deserialize_with = "lenient::strings")]
    pub hosts: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub not_hosts: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub ports: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub not_ports: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub methods: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub not_methods: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub paths: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub not_paths: Vec<String>,
}

impl Operation {
    /// A field by its name in the API (`notPaths`); empty for any other name.
    pub fn field(&self, name: &str) -> &[String] {
        match name {
            "hosts" => &self.hosts,
            "notHosts" => &self.not_hosts,
            "ports" => &self.ports,
            "notPorts" => &self.not_ports,
            "methods" => &self.methods,
            "notMethods" => &self.not_methods,
            "paths" => &self.paths,
            "notPaths" => &self.not_paths,
            _ => &[],
        }
    }
}

/// A `when` condition on a request attribute (`key`).
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Condition {
    #[serde(deserialize_with = "lenient::text")]
    pub key: Option<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub values: Vec<String>,
    #[serde(deserialize_with = "lenient::strings")]
    pub not_values: Vec<String>,
}

impl Condition {
    pub fn key(&self) -> &str {
        self.key.as_deref().unwrap_or_default()
    }
}

impl Rule {
    /// Nothing in `from`, `to` or `when`: the rule matches every request.
    pub fn is_empty(&self) -> bool {
        !self.malformed && self.from.is_empty() && self.to.is_empty() && self.when.is_empty()
    }

    /// The sources of the rule's `from` entries.
    pub fn sources(&self) -> impl Iterator<Item = &Source> {
        self.from.iter().map(|f| &f.source)
    }

    /// The operations of the rule's `to` entries.
    pub fn operations(&self) -> impl Iterator<Item = &Operation> {
        self.to.iter().map(|t| &t.operation)
    }
}

impl AuthorizationPolicySpec {
    /// The rules, borrowed: every check reads them, none changes them.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// ALLOW, Istio's default action.
    pub fn is_allow(&self) -> bool {
        self.action.as_deref().is_none_or(|a| a == "ALLOW")
    }

    /// The first rule with nothing in `from`, `to` or `when`: it matches every request.
    pub fn empty_rule(&self) -> Option<usize> {
        self.rules.iter().position(Rule::is_empty)
    }

    /// `spec: {}` or an ALLOW with no rules for the whole namespace: matches
    /// nothing, so denies everything. An empty selector or `targetRefs` list
    /// is namespace-wide too, as istiod reads it (`selector == nil ||
    /// labels.Instance(matchLabels).SubsetOf(...)`, and targetRefs only when
    /// not empty: pilot/pkg/model/policyattachment.go).
    pub fn is_deny_all(&self) -> bool {
        self.is_allow()
            && self.provider.is_none()
            && self.rules.is_empty()
            && self
                .selector
                .as_ref()
                .is_none_or(|s| s.match_labels.is_empty())
            && self.target_refs.as_ref().is_none_or(Vec::is_empty)
            && self.target_ref.is_none()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> AuthorizationPolicy {
        serde_json::from_str(json).expect("lenient parsing never fails on JSON")
    }

    #[test]
    fn fields_of_the_wrong_shape_read_as_empty_not_as_a_failed_policy() {
        let p = parse(
            r#"{"spec": {"action": "DENY", "rules": [
                {"from": [{"source": {"principals": ["a", 5, null, {"x": 1}], "namespaces": "ns"}}],
                 "to": [{"operation": {"ports": [8080, "9090"], "paths": {"bad": true}}}],
                 "when": [{"key": "source.principal", "values": ["b"]}, "junk"]},
                "not-a-rule",
                {"from": null, "to": [], "when": {}}
            ]}}"#,
        );
        let spec = &p.spec;
        assert_eq!(spec.action.as_deref(), Some("DENY"));
        assert_eq!(spec.rules.len(), 3);
        let source = &spec.rules[0].from[0].source;
        assert_eq!(source.principals, ["a", "5", "", ""]);
        assert!(source.namespaces.is_empty());
        let op = &spec.rules[0].to[0].operation;
        assert_eq!(op.field("ports"), ["8080", "9090"]);
        assert!(op.paths.is_empty());
        assert_eq!(
            spec.rules[0].when.len(),
            2,
            "a malformed condition still counts"
        );
        assert_eq!(spec.rules[0].when[0].key(), "source.principal");
        assert!(spec.rules[1].malformed && !spec.rules[1].is_empty());
        assert_eq!(spec.empty_rule(), Some(2));
        assert!(!spec.is_deny_all());
    }

    #[test]
    fn an_empty_spec_denies_everything() {
        assert!(parse(r#"{"spec": {}}"#).spec.is_deny_all());
        assert!(parse(r#"{"spec": "nonsense"}"#).spec.is_deny_all());
        assert!(!parse(r#"{"spec": {"rules": ["junk"]}}"#).spec.is_deny_all());
        assert!(!parse(r#"{"spec": {"action": "DENY"}}"#).spec.is_deny_all());
        assert!(
            !parse(r#"{"spec": {"selector": {"matchLabels": {"a": "b"}}}}"#)
                .spec
                .is_deny_all()
        );
        assert!(parse(r#"{"spec": {"selector": {}}}"#).spec.is_deny_all());
        assert!(parse(r#"{"spec": {"selector": {"matchLabels": {}}}}"#)
            .spec
            .is_deny_all());
        assert!(parse(r#"{"spec": {"targetRefs": []}}"#).spec.is_deny_all());
        assert!(
            !parse(r#"{"spec": {"targetRefs": [{"kind": "Service", "name": "a"}]}}"#)
                .spec
                .is_deny_all()
        );
    }

    #[test]
    fn a_selector_is_present_whatever_its_shape_and_its_labels_are_text() {
        let labels = |json: &str| parse(json).spec.selector.map(|s| s.match_labels);
        assert_eq!(
            labels(r#"{"spec": {"selector": {"matchLabels": {"app": "a", "v": 2, "x": null}}}}"#),
            Some(vec![
                ("app".into(), "a".into()),
                ("v".into(), "2".into()),
                ("x".into(), String::new())
            ])
        );
        assert_eq!(labels(r#"{"spec": {"selector": {}}}"#), Some(vec![]));
        assert_eq!(labels(r#"{"spec": {"selector": "junk"}}"#), Some(vec![]));
        assert_eq!(
            labels(r#"{"spec": {"selector": {"matchLabels": [1]}}}"#),
            Some(vec![])
        );
        assert_eq!(labels(r#"{"spec": {"selector": null}}"#), None);
        assert_eq!(labels(r#"{"spec": {}}"#), None);
    }
}

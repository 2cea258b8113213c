//! AuthorizationPolicy decisions for one caller at one workload, as much as a
//! snapshot can tell: which connections are allowed at all, which only for some
//! requests (paths, methods, ports, tokens), and which are refused.
//!
//! Istio's order: CUSTOM, then DENY, then ALLOW; with no ALLOW policy the
//! request is allowed, with ALLOW policies it must match one of their rules.
//! A policy annotated `istio.io/dry-run: "true"` is not enforced.

use crate::gather::{Object, Snapshot};
use crate::model::Workload;
use crate::vocab::{Confidence, ObjectRef};
use serde::Deserialize;
use std::collections::HashMap;

/// Who connects: the peer principal (`td/ns/NS/sa/SA`) when the connection is
/// mutual TLS, none for plaintext.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Peer {
    pub principal: Option<String>,
    pub namespace: Option<String>,
}

impl Peer {
    pub const ANONYMOUS: Peer = Peer {
        principal: None,
        namespace: None,
    };
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Action {
    Allow,
    Deny,
    Custom,
    Audit,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct Spec {
    action: Option<String>,
    rules: Option<Vec<Rule>>,
    provider: Option<Provider>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Provider {
    name: String,
}

#[derive(Clone, Deserialize, Default, Debug)]
#[serde(default)]
pub struct Rule {
    from: Vec<From>,
    to: Vec<To>,
    when: Vec<serde_json::Value>,
}

#[derive(Clone, Deserialize, Default, Debug)]
#[serde(default)]
struct From {
    source: Source,
}

#[derive(Clone, Deserialize, Default, Debug)]
#[serde(default, rename_all = "camelCase")]
struct Source {
    principals: Vec<String>,
    not_principals: Vec<String>,
    namespaces: Vec<String>,
    not_namespaces: Vec<String>,
    request_principals: Vec<String>,
    not_request_principals: Vec<String>,
    ip_blocks: Vec<String>,
    not_ip_blocks: Vec<String>,
    remote_ip_blocks: Vec<String>,
    not_remote_ip_blocks: Vec<String>,
}

#[derive(Clone, Deserialize, Default, Debug)]
#[serde(default)]
struct To {
    operation: serde_json::Map<String, serde_json::Value>,
}

/// How a rule (or a policy) matches the connections of one peer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    Never,
    /// Only some requests: the text says which (paths, methods, a token, ...).
    Some(String),
    Always,
}

/// One parsed AuthorizationPolicy.
#[derive(Debug)]
pub struct Policy {
    pub target: ObjectRef,
    action: Action,
    rules: Vec<Rule>,
    provider: String,
    pub dry_run: bool,
}

impl Policy {
    pub fn parse(o: &Object) -> Policy {
        let spec: Spec = o.spec();
        let action = match spec.action.as_deref() {
            Some("DENY") => Action::Deny,
            Some("CUSTOM") => Action::Custom,
            Some("AUDIT") => Action::Audit,
            _ => Action::Allow,
        };
        Policy {
            target: ObjectRef::of(o),
            action,
            rules: spec.rules.unwrap_or_default(),
            provider: spec.provider.unwrap_or_default().name,
            dry_run: o.annotations.get("istio.io/dry-run").map(String::as_str) == Some("true"),
        }
    }

    /// An ALLOW policy (the kind that turns on default-deny for what it selects).
    pub fn allows(&self) -> bool {
        self.action == Action::Allow
    }

    /// Least privilege: every rule names who may call, by peer identity
    /// (principals, namespaces) or end-user identity (JWT issuers), never `*`.
    pub fn names_callers(&self) -> bool {
        let named = |v: &[String]| !v.is_empty() && !v.iter().any(|x| x == "*");
        self.rules.iter().all(|r| {
            !r.from.is_empty()
                && r.from.iter().all(|f| {
                    let s = &f.source;
                    named(&s.principals) || named(&s.namespaces) || named(&s.request_principals)
                })
        })
    }

    /// True when no rule looks at the caller, so the decision is the same for everyone.
    pub fn caller_blind(&self) -> bool {
        self.rules.iter().all(|r| r.from.is_empty())
    }

    /// The exact principals and namespaces the rules name, and whether some rule
    /// also matches callers by a pattern (wildcards, negations, IP blocks).
    pub fn named_callers(&self) -> (Vec<&str>, Vec<&str>, bool) {
        let (mut principals, mut namespaces, mut pattern) = (Vec::new(), Vec::new(), false);
        // Only ALLOW rules let callers in; a DENY rule naming someone says
        // nothing about who else may connect.
        if self.action != Action::Allow {
            return (principals, namespaces, !self.caller_blind());
        }
        for rule in &self.rules {
            if rule.from.is_empty() {
                pattern = true;
            }
            for f in &rule.from {
                let s = &f.source;
                let exact = |v: &String| !v.contains('*');
                principals.extend(s.principals.iter().filter(|v| exact(v)).map(String::as_str));
                namespaces.extend(s.namespaces.iter().filter(|v| exact(v)).map(String::as_str));
                let named = !s.principals.is_empty() || !s.namespaces.is_empty();
                let wild = s.principals.iter().chain(&s.namespaces).any(|v| !exact(v));
                if !named || wild {
                    pattern = true;
                }
            }
        }
        (principals, namespaces, pattern)
    }
}

/// The snapshot's AuthorizationPolicies, parsed once, by namespace and name.
#[derive(Debug, Default)]
pub struct Policies(HashMap<String, HashMap<String, Policy>>);

impl Policies {
    pub fn parse(snapshot: &Snapshot) -> Policies {
        let mut by_ns: HashMap<String, HashMap<String, Policy>> = HashMap::new();
        for o in snapshot.of(crate::kinds::AUTHORIZATION_POLICY) {
            by_ns
                .entry(o.namespace.clone())
                .or_default()
                .insert(o.name.clone(), Policy::parse(o));
        }
        Policies(by_ns)
    }

    /// The policy an object reference names, if it is an AuthorizationPolicy.
    pub fn get(&self, r: &ObjectRef) -> Option<&Policy> {
        if r.kind != "AuthorizationPolicy" {
            return None;
        }
        self.0.get(&r.namespace)?.get(&r.name)
    }

    /// The enforced (not dry-run) policies that apply to a workload.
    pub fn enforced<'a>(&'a self, w: &'a Workload) -> impl Iterator<Item = &'a Policy> {
        w.authorization_policies
            .iter()
            .filter_map(|r| self.get(r))
            .filter(|p| !p.dry_run)
    }
}

/// Istio's string match: exact, `prefix*`, `*suffix`, or `*` (anything non-empty).
fn matches(pattern: &str, value: &str) -> bool {
    if pattern == "*" {
        !value.is_empty()
    } else if let Some(prefix) = pattern.strip_suffix('*') {
        value.starts_with(prefix)
    } else if let Some(suffix) = pattern.strip_prefix('*') {
        value.ends_with(suffix)
    } else {
        pattern == value
    }
}

fn any_matches(patterns: &[String], value: Option<&str>) -> bool {
    value.is_some_and(|v| patterns.iter().any(|p| matches(p, v)))
}

/// Combines two partial results of one rule (all fields must match).
fn and(a: Match, b: Match) -> Match {
    match (a, b) {
        (Match::Never, _) | (_, Match::Never) => Match::Never,
        (Match::Always, m) | (m, Match::Always) => m,
        (Match::Some(x), Match::Some(y)) => Match::Some(format!("{x}; {y}")),
    }
}

/// Best of alternatives (any rule, any source may match).
fn or(a: Match, b: Match) -> Match {
    match (a, b) {
        (Match::Always, _) | (_, Match::Always) => Match::Always,
        (Match::Never, m) | (m, Match::Never) => m,
        (Match::Some(x), Match::Some(_)) => Match::Some(x),
    }
}

fn source_match(s: &Source, peer: &Peer) -> Match {
    let principal = peer.principal.as_deref();
    let namespace = peer.namespace.as_deref();
    let fixed = (s.principals.is_empty() || any_matches(&s.principals, principal))
        && !any_matches(&s.not_principals, principal)
        && (s.namespaces.is_empty() || any_matches(&s.namespaces, namespace))
        && !any_matches(&s.not_namespaces, namespace);
    if !fixed {
        return Match::Never;
    }
    let mut conditions = Vec::new();
    if !s.request_principals.is_empty() || !s.not_request_principals.is_empty() {
        conditions.push("a valid JWT from the named issuers".to_string());
    }
    let ips = [
        &s.ip_blocks,
        &s.not_ip_blocks,
        &s.remote_ip_blocks,
        &s.not_remote_ip_blocks,
    ];
    if ips.iter().any(|v| !v.is_empty()) {
        conditions.push("a source address in the policy's IP blocks".to_string());
    }
    if conditions.is_empty() {
        Match::Always
    } else {
        Match::Some(conditions.join(" and "))
    }
}

/// What a rule's `to` and `when` restrict, e.g. `POST /v1/charges`; None when nothing.
fn request_limits(rule: &Rule) -> Option<String> {
    let mut parts = Vec::new();
    for to in &rule.to {
        for (key, value) in &to.operation {
            let values: Vec<&str> = value
                .as_array()
                .map(|a| a.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            parts.push(format!("{key} {}", values.join(",")));
        }
    }
    for w in &rule.when {
        if let Some(key) = w.get("key").and_then(|k| k.as_str()) {
            parts.push(format!("when {key}"));
        }
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// Whether a rule needs HTTP to be evaluated (ztunnel alone cannot).
fn is_l7(rule: &Rule) -> bool {
    const L4_OPERATION: &[&str] = &["ports", "notPorts"];
    const L4_WHEN: &[&str] = &[
        "source.ip",
        "source.namespace",
        "source.principal",
        "destination.ip",
        "destination.port",
        "remote.ip",
    ];
    rule.to.iter().any(|t| {
        t.operation
            .keys()
            .any(|k| !L4_OPERATION.contains(&k.as_str()))
    }) || rule.when.iter().any(|w| {
        w.get("key")
            .and_then(|k| k.as_str())
            .is_some_and(|k| !L4_WHEN.contains(&k))
    }) || rule.from.iter().any(|f| {
        !f.source.request_principals.is_empty() || !f.source.not_request_principals.is_empty()
    })
}

fn rule_match(rule: &Rule, peer: &Peer) -> Match {
    let from = if rule.from.is_empty() {
        Match::Always
    } else {
        rule.from
            .iter()
            .map(|f| source_match(&f.source, peer))
            .fold(Match::Never, or)
    };
    match request_limits(rule) {
        Some(limits) => and(from, Match::Some(limits)),
        None => from,
    }
}

/// The decision for one peer at one workload.
#[derive(Clone, Debug)]
pub struct Decision {
    /// False when every connection of this peer is refused.
    pub allowed: bool,
    /// The policy that lets the peer in, or why nothing has to.
    pub allowed_by: String,
    /// The policy that decided, when one did.
    pub policy: Option<ObjectRef>,
    /// What limits the allowed requests (paths, a token, a partial DENY), if anything.
    pub limits: Option<String>,
    pub certainty: Confidence,
    /// Why the certainty is not VERIFIED.
    pub uncertainty: Option<String>,
}

/// Decides for `peer` under `policies` (those applying to the workload).
/// `l4_only`: an ambient workload without a waypoint, where ztunnel cannot
/// evaluate HTTP attributes and such rules fail closed.
pub fn decide(policies: &[&Policy], peer: &Peer, l4_only: bool) -> Decision {
    let mut uncertain: Vec<String> = Vec::new();
    let mut limits: Vec<String> = Vec::new();
    let enforced: Vec<&&Policy> = policies.iter().filter(|p| !p.dry_run).collect();
    let rule_of = |p: &Policy, r: &Rule, uncertain: &mut Vec<String>| -> Match {
        if l4_only && is_l7(r) {
            uncertain.push(format!(
                "{} has HTTP rules on an ambient workload without a waypoint: ztunnel cannot \
                 evaluate them",
                p.target.display()
            ));
            // Fails closed: an ALLOW rule never matches, a DENY rule always does.
            return if p.action == Action::Deny {
                Match::Always
            } else {
                Match::Never
            };
        }
        rule_match(r, peer)
    };
    for p in enforced.iter().filter(|p| p.action == Action::Custom) {
        uncertain.push(format!(
            "{} sends the request to the external authorizer {:?}, whose answer is not in the snapshot",
            p.target.display(),
            p.provider
        ));
    }
    // Every outcome carries the uncertainty gathered on the way.
    let decision = |allowed: bool,
                    allowed_by: String,
                    policy: Option<&Policy>,
                    limits: &[String],
                    uncertain: &[String]| Decision {
        allowed,
        allowed_by,
        policy: policy.map(|p| p.target.clone()),
        limits: join(limits),
        certainty: certainty(uncertain),
        uncertainty: join(uncertain),
    };
    for p in enforced.iter().filter(|p| p.action == Action::Deny) {
        let m = p
            .rules
            .iter()
            .map(|r| rule_of(p, r, &mut uncertain))
            .fold(Match::Never, or);
        match m {
            Match::Always => {
                let by = format!("denied by {}", p.target.display());
                return decision(false, by, Some(p), &[], &uncertain);
            }
            Match::Some(what) => limits.push(format!(
                "{} denies requests with {what}",
                p.target.display()
            )),
            Match::Never => {}
        }
    }
    let allows: Vec<&&&Policy> = enforced
        .iter()
        .filter(|p| p.action == Action::Allow)
        .collect();
    if allows.is_empty() {
        let by = "no ALLOW AuthorizationPolicy applies (everything is allowed)".to_string();
        return decision(true, by, None, &limits, &uncertain);
    }
    let mut best: Option<(&Policy, Match)> = None;
    for p in allows {
        let m = p
            .rules
            .iter()
            .map(|r| rule_of(p, r, &mut uncertain))
            .fold(Match::Never, or);
        let better = match (&best, &m) {
            (_, Match::Never) => false,
            (None, _) => true,
            (Some((_, Match::Some(_))), Match::Always) => true,
            _ => false,
        };
        if better {
            best = Some((p, m));
        }
    }
    match best {
        Some((p, m)) => {
            if let Match::Some(what) = m {
                limits.insert(0, format!("only requests with {what}"));
            }
            let by = format!("allowed by {}", p.target.display());
            decision(true, by, Some(p), &limits, &uncertain)
        }
        None => {
            let by = "no ALLOW rule matches this caller".to_string();
            decision(false, by, None, &[], &uncertain)
        }
    }
}

fn certainty(uncertain: &[String]) -> Confidence {
    if uncertain.is_empty() {
        Confidence::Verified
    } else {
        Confidence::Inferred
    }
}

fn join(items: &[String]) -> Option<String> {
    let mut items = items.to_vec();
    items.dedup();
    (!items.is_empty()).then(|| items.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(yaml: &str) -> Policy {
        let body: serde_json::Value = serde_norway::from_str(yaml).unwrap();
        Policy::parse(&Object::from_body(body, None).unwrap())
    }

    fn peer(ns: &str, sa: &str) -> Peer {
        Peer {
            principal: Some(format!("cluster.local/ns/{ns}/sa/{sa}")),
            namespace: Some(ns.into()),
        }
    }

    const ALLOW_CART: &str = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: api, namespace: payments}\nspec:\n  rules:\n  - from: [{source: {principals: [cluster.local/ns/shop/sa/cart]}}]\n    to: [{operation: {methods: [POST], paths: [/v1/charges]}}]\n";

    #[test]
    fn allow_rules_admit_only_named_callers_and_say_what_they_limit() {
        let p = policy(ALLOW_CART);
        let d = decide(&[&p], &peer("shop", "cart"), false);
        assert!(d.allowed);
        assert_eq!(d.certainty, Confidence::Verified);
        let limits = d.limits.unwrap();
        assert!(
            limits.contains("methods POST") && limits.contains("/v1/charges"),
            "{limits}"
        );
        assert!(!decide(&[&p], &peer("shop", "web"), false).allowed);
        assert!(!decide(&[&p], &Peer::ANONYMOUS, false).allowed);
        // With no policy at all, everyone gets in.
        assert!(decide(&[], &Peer::ANONYMOUS, false).allowed);
    }

    #[test]
    fn deny_and_allow_nothing_refuse_and_dry_run_does_not_count() {
        let deny_all = policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: d, namespace: x}\nspec:\n  action: DENY\n  rules: [{}]\n");
        let d = decide(&[&deny_all], &peer("x", "a"), false);
        assert!(!d.allowed && d.allowed_by.contains("denied by"));
        let nothing = policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: n, namespace: x}\nspec: {}\n");
        assert!(!decide(&[&nothing], &peer("x", "a"), false).allowed);
        let dry = policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: n, namespace: x, annotations: {istio.io/dry-run: \"true\"}}\nspec: {}\n");
        assert!(decide(&[&dry], &peer("x", "a"), false).allowed);
    }

    #[test]
    fn http_rules_fail_closed_on_ztunnel_and_lower_certainty() {
        let p = policy(ALLOW_CART);
        let d = decide(&[&p], &peer("shop", "cart"), true);
        assert!(!d.allowed);
        assert_eq!(d.certainty, Confidence::Inferred);
        assert!(d.uncertainty.unwrap().contains("without a waypoint"));
    }

    #[test]
    fn wildcards_and_namespaces_match_like_istio() {
        let p = policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a, namespace: x}\nspec:\n  rules:\n  - from: [{source: {namespaces: [\"team-*\"], notPrincipals: [\"*/sa/default\"]}}]\n");
        assert!(decide(&[&p], &peer("team-a", "api"), false).allowed);
        assert!(!decide(&[&p], &peer("team-a", "default"), false).allowed);
        assert!(!decide(&[&p], &peer("shop", "api"), false).allowed);
        let (_, _, pattern) = p.named_callers();
        assert!(pattern);
    }
}

//! AuthorizationPolicy decisions for one caller at one workload, as much as a
//! snapshot can tell: which connections are allowed at all, which only for some
//! requests (paths, methods, ports, tokens), and which are refused.
//!
//! Istio's order: CUSTOM, then DENY, then ALLOW; with no ALLOW policy the
//! request is allowed, with ALLOW policies it must match one of their rules.
//! A policy annotated `istio.io/dry-run: "true"` is not enforced.
//!
//! Where a policy is enforced matters as much as what it says:
//! - a policy attached by targetRefs to a Service, ServiceEntry or waypoint is
//!   enforced by the waypoint only, so callers whose traffic skips the waypoint
//!   (sidecar clients, ingress gateways without `istio.io/ingress-use-waypoint`,
//!   plaintext clients) never meet it;
//! - a selector, namespace or mesh policy on an ambient workload is enforced by
//!   ztunnel, which istiod gives only the L4 parts, rule by rule
//!   (`handleRule`, pilot/pkg/serviceregistry/ambient/authorization.go): an ALLOW
//!   rule with an HTTP attribute is dropped; in a DENY rule the HTTP attributes
//!   (and `trustDomains`, which is not translated at all) are left out, and a
//!   clause left without any match makes the rule a no-op. Waypoints never apply
//!   selector policies (pilot/pkg/model/policyattachment.go).
//! - identity fields (`principals`, `namespaces`, `serviceAccounts`,
//!   `trustDomains` and the `source.*` conditions) need a verified peer
//!   (pilot/pkg/security/authz/model/model.go): against plaintext a positive one
//!   never matches and a negative one always does.

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

    /// The trust domain of the principal (`td/ns/NS/sa/SA`).
    fn trust_domain(&self) -> Option<&str> {
        self.principal.as_deref()?.split("/ns/").next()
    }

    /// (namespace, service account) of the principal.
    fn account(&self) -> Option<(&str, &str)> {
        let (_, rest) = self.principal.as_deref()?.split_once("/ns/")?;
        rest.split_once("/sa/")
    }
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
    when: Vec<Condition>,
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
    service_accounts: Vec<String>,
    not_service_accounts: Vec<String>,
    trust_domains: Vec<String>,
    not_trust_domains: Vec<String>,
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

#[derive(Clone, Deserialize, Default, Debug)]
#[serde(default, rename_all = "camelCase")]
struct Condition {
    key: String,
    values: Vec<String>,
    not_values: Vec<String>,
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
    /// Attached by targetRefs to what a waypoint serves: only the waypoint enforces it.
    pub via_waypoint: bool,
    namespace: String,
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
            via_waypoint: false,
            namespace: o.namespace.clone(),
        }
    }

    /// An ALLOW policy (the kind that turns on default-deny for what it selects).
    pub fn allows(&self) -> bool {
        self.action == Action::Allow
    }

    /// Whether istiod sends this policy to ztunnel: ALLOW or DENY, not
    /// dry-run, not attached by targetRefs (pilot/pkg/serviceregistry/ambient/
    /// authorization.go `convertAuthorizationPolicy`).
    pub fn reaches_ztunnel(&self) -> bool {
        matches!(self.action, Action::Allow | Action::Deny) && !self.dry_run && !self.via_waypoint
    }

    /// Whether istiod names this policy in a sidecar's RBAC filters
    /// (`ns[..]-policy[..]-rule[..]`): a policy without rules builds no named
    /// rule, and where the proxy serves only TCP (`http` false) an ALLOW rule
    /// with HTTP attributes is dropped (pilot/pkg/security/authz/builder).
    pub fn named_in_rbac(&self, http: bool) -> bool {
        !self.rules.is_empty()
            && (http || self.action != Action::Allow || self.rules.iter().any(|r| !is_l7(r)))
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
    pub fn parse(snapshot: &Snapshot, model: &crate::model::MeshModel) -> Policies {
        let waypoint: std::collections::HashSet<&ObjectRef> = model
            .policies
            .iter()
            .filter(|p| p.enforcer == crate::model::Enforcer::Waypoint)
            .map(|p| &p.target)
            .collect();
        let mut by_ns: HashMap<String, HashMap<String, Policy>> = HashMap::new();
        for o in snapshot.of(crate::kinds::AUTHORIZATION_POLICY) {
            let mut p = Policy::parse(o);
            p.via_waypoint = waypoint.contains(&p.target);
            by_ns
                .entry(o.namespace.clone())
                .or_default()
                .insert(o.name.clone(), p);
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

/// Positive values must match (when given), negative ones must not.
fn identity_field(values: &[String], not_values: &[String], actual: Option<&str>) -> bool {
    (values.is_empty() || any_matches(values, actual)) && !any_matches(not_values, actual)
}

/// Whether a peer's `ns/sa` matches `serviceAccounts` entries (`ns/sa`, or
/// `sa` in the policy's namespace), without building strings per call.
fn account_matches(patterns: &[String], policy_ns: &str, peer: &Peer) -> bool {
    let Some((ns, sa)) = peer.account() else {
        return false;
    };
    patterns.iter().any(|p| {
        let (pns, psa) = p.split_once('/').unwrap_or((policy_ns, p));
        matches(pns, ns) && matches(psa, sa)
    })
}

/// A source as the enforcing proxy sees it. ztunnel (`l4_only`) never gets
/// `trustDomains` nor the HTTP sources (`handleRule`): they are left out.
fn source_match(s: &Source, peer: &Peer, ns: &str, l4_only: bool) -> Match {
    let principal = peer.principal.as_deref();
    let namespace = peer.namespace.as_deref();
    let accounts = (s.service_accounts.is_empty()
        || account_matches(&s.service_accounts, ns, peer))
        && !account_matches(&s.not_service_accounts, ns, peer);
    let fixed = identity_field(&s.principals, &s.not_principals, principal)
        && identity_field(&s.namespaces, &s.not_namespaces, namespace)
        && accounts
        && (l4_only || identity_field(&s.trust_domains, &s.not_trust_domains, peer.trust_domain()));
    if !fixed {
        return Match::Never;
    }
    let mut conditions = Vec::new();
    let jwt = !s.request_principals.is_empty() || !s.not_request_principals.is_empty();
    if jwt && !l4_only {
        conditions.push("a valid JWT from the named issuers".to_string());
    }
    let remote = !s.remote_ip_blocks.is_empty() || !s.not_remote_ip_blocks.is_empty();
    if !s.ip_blocks.is_empty() || !s.not_ip_blocks.is_empty() || (remote && !l4_only) {
        conditions.push("a source address in the policy's IP blocks".to_string());
    }
    if conditions.is_empty() {
        Match::Always
    } else {
        Match::Some(conditions.join(" and "))
    }
}

/// `when` keys that describe the peer's verified identity.
const IDENTITY_WHEN: &[&str] = &[
    "source.principal",
    "source.namespace",
    "source.serviceAccount",
    "source.trustDomain",
];

/// A `when` condition on the peer's identity, decided for this peer; None for other keys.
fn identity_condition(c: &Condition, peer: &Peer, ns: &str) -> Option<bool> {
    let actual = match c.key.as_str() {
        "source.principal" => peer.principal.as_deref(),
        "source.namespace" => peer.namespace.as_deref(),
        "source.trustDomain" => peer.trust_domain(),
        "source.serviceAccount" => {
            return Some(
                (c.values.is_empty() || account_matches(&c.values, ns, peer))
                    && !account_matches(&c.not_values, ns, peer),
            )
        }
        _ => return None,
    };
    Some(identity_field(&c.values, &c.not_values, actual))
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
    for w in rule
        .when
        .iter()
        .filter(|w| !IDENTITY_WHEN.contains(&w.key.as_str()))
    {
        parts.push(format!("when {}", w.key));
    }
    (!parts.is_empty()).then(|| parts.join(", "))
}

/// `when` keys istiod translates for ztunnel (`l4WhenAttributes`,
/// pilot/pkg/serviceregistry/ambient/authorization.go); every other key is HTTP.
const L4_WHEN: &[&str] = &[
    "source.ip",
    "source.namespace",
    "source.principal",
    "destination.ip",
    "destination.port",
];
const HTTP_OPERATION: &[&str] = &[
    "hosts",
    "notHosts",
    "methods",
    "notMethods",
    "paths",
    "notPaths",
];

/// Whether istiod finds HTTP attributes in a rule (`httpOperations`, `httpSources`).
fn is_l7(rule: &Rule) -> bool {
    let nonempty =
        |v: Option<&serde_json::Value>| v.and_then(|v| v.as_array()).is_some_and(|a| !a.is_empty());
    rule.to
        .iter()
        .any(|t| HTTP_OPERATION.iter().any(|k| nonempty(t.operation.get(*k))))
        || rule.when.iter().any(|w| !L4_WHEN.contains(&w.key.as_str()))
        || rule.from.iter().any(|f| {
            let s = &f.source;
            !s.request_principals.is_empty()
                || !s.not_request_principals.is_empty()
                || !s.remote_ip_blocks.is_empty()
                || !s.not_remote_ip_blocks.is_empty()
        })
}

/// A rule as Envoy (sidecar, gateway, waypoint) evaluates it for a peer.
fn rule_match(rule: &Rule, peer: &Peer, ns: &str) -> Match {
    let from = if rule.from.is_empty() {
        Match::Always
    } else {
        rule.from
            .iter()
            .map(|f| source_match(&f.source, peer, ns, false))
            .fold(Match::Never, or)
    };
    let identity = rule
        .when
        .iter()
        .filter_map(|c| identity_condition(c, peer, ns))
        .all(|ok| ok);
    if !identity {
        return Match::Never;
    }
    match request_limits(rule) {
        Some(limits) => and(from, Match::Some(limits)),
        None => from,
    }
}

/// A rule as ztunnel evaluates it after istiod's translation (`handleRule`):
/// clauses (the `to` list, the `from` list, each `when`) must all match; a
/// clause whose matches are all empty is skipped by ztunnel and never matches.
fn ztunnel_rule(action: Action, rule: &Rule, peer: &Peer, ns: &str) -> Match {
    if action == Action::Allow && is_l7(rule) {
        return Match::Never;
    }
    let ports = |v: Option<&serde_json::Value>| -> Vec<String> {
        v.and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(|p| p.as_str().map(str::to_string))
            .collect()
    };
    // Each clause: the results of its non-empty matches.
    let mut clauses: Vec<Vec<Match>> = Vec::new();
    if !rule.to.is_empty() {
        clauses.push(
            rule.to
                .iter()
                .filter_map(|t| {
                    let (p, np) = (
                        ports(t.operation.get("ports")),
                        ports(t.operation.get("notPorts")),
                    );
                    if p.is_empty() && np.is_empty() {
                        return None;
                    }
                    let mut what = Vec::new();
                    if !p.is_empty() {
                        what.push(format!("ports {}", p.join(",")));
                    }
                    if !np.is_empty() {
                        what.push(format!("ports other than {}", np.join(",")));
                    }
                    Some(Match::Some(what.join(" and ")))
                })
                .collect(),
        );
    }
    if !rule.from.is_empty() {
        clauses.push(
            rule.from
                .iter()
                .filter_map(|f| {
                    let s = &f.source;
                    // A source with nothing ztunnel is given is an empty match, skipped.
                    let l4 = [
                        &s.principals,
                        &s.not_principals,
                        &s.namespaces,
                        &s.not_namespaces,
                        &s.service_accounts,
                        &s.not_service_accounts,
                        &s.ip_blocks,
                        &s.not_ip_blocks,
                    ];
                    l4.iter()
                        .any(|v| !v.is_empty())
                        .then(|| source_match(s, peer, ns, true))
                })
                .collect(),
        );
    }
    for c in &rule.when {
        let m = match c.key.as_str() {
            "source.namespace" | "source.principal" => {
                if identity_condition(c, peer, ns) == Some(true) {
                    Match::Always
                } else {
                    Match::Never
                }
            }
            "source.ip" | "destination.ip" | "destination.port" => {
                Match::Some(format!("when {}", c.key))
            }
            // Not translated: an empty match, skipped.
            _ => {
                clauses.push(Vec::new());
                continue;
            }
        };
        clauses.push(vec![m]);
    }
    clauses
        .into_iter()
        .map(|c| {
            if c.is_empty() {
                Match::Never
            } else {
                c.into_iter().fold(Match::Never, or)
            }
        })
        .fold(Match::Always, and)
}

/// Where the destination's policies meet this caller's traffic.
#[derive(Clone, Copy, Debug, Default)]
pub struct Enforcement {
    /// The destination is ambient: its selector policies run in ztunnel, L4 only.
    pub ztunnel: bool,
    /// The caller's traffic passes the destination's waypoint.
    pub through_waypoint: bool,
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
pub fn decide(policies: &[&Policy], peer: &Peer, at: Enforcement) -> Decision {
    let mut uncertain: Vec<String> = Vec::new();
    let mut limits: Vec<String> = Vec::new();
    let mut skipped: Vec<String> = Vec::new();
    let enforced: Vec<&&Policy> = policies
        .iter()
        .filter(|p| !p.dry_run)
        .filter(|p| {
            let meets = !p.via_waypoint || at.through_waypoint;
            if !meets {
                skipped.push(format!(
                    "{} is enforced only by the waypoint, which this caller's traffic does not pass",
                    p.target.display()
                ));
            }
            meets
        })
        .collect();
    let rule_of = |p: &Policy, r: &Rule, limits: &mut Vec<String>| -> Match {
        if at.ztunnel && !p.via_waypoint {
            if is_l7(r) {
                limits.push(format!(
                    "ztunnel enforces {} without its HTTP attributes (istiod drops them for ambient workloads)",
                    p.target.display()
                ));
            }
            return ztunnel_rule(p.action, r, peer, &p.namespace);
        }
        rule_match(r, peer, &p.namespace)
    };
    limits.extend(skipped);
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
            .map(|r| rule_of(p, r, &mut limits))
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
            .map(|r| rule_of(p, r, &mut limits))
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
            decision(false, by, None, &limits, &uncertain)
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
        let d = decide(&[&p], &peer("shop", "cart"), Enforcement::default());
        assert!(d.allowed);
        assert_eq!(d.certainty, Confidence::Verified);
        let limits = d.limits.unwrap();
        assert!(
            limits.contains("methods POST") && limits.contains("/v1/charges"),
            "{limits}"
        );
        assert!(!decide(&[&p], &peer("shop", "web"), Enforcement::default()).allowed);
        assert!(!decide(&[&p], &Peer::ANONYMOUS, Enforcement::default()).allowed);
        // With no policy at all, everyone gets in.
        assert!(decide(&[], &Peer::ANONYMOUS, Enforcement::default()).allowed);
    }

    #[test]
    fn deny_and_allow_nothing_refuse_and_dry_run_does_not_count() {
        let deny_all = policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: d, namespace: x}\nspec:\n  action: DENY\n  rules: [{}]\n");
        let d = decide(&[&deny_all], &peer("x", "a"), Enforcement::default());
        assert!(!d.allowed && d.allowed_by.contains("denied by"));
        let nothing = policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: n, namespace: x}\nspec: {}\n");
        assert!(!decide(&[&nothing], &peer("x", "a"), Enforcement::default()).allowed);
        let dry = policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: n, namespace: x, annotations: {istio.io/dry-run: \"true\"}}\nspec: {}\n");
        assert!(decide(&[&dry], &peer("x", "a"), Enforcement::default()).allowed);
    }

    const ZTUNNEL: Enforcement = Enforcement {
        ztunnel: true,
        through_waypoint: false,
    };

    #[test]
    fn http_allow_rules_are_dropped_by_ztunnel() {
        // handleRule: an ALLOW rule with an HTTP attribute never matches at ztunnel.
        let p = policy(ALLOW_CART);
        let d = decide(&[&p], &peer("shop", "cart"), ZTUNNEL);
        assert!(!d.allowed);
        assert_eq!(d.certainty, Confidence::Verified);
        assert!(d.limits.unwrap().contains("without its HTTP attributes"));
    }

    #[test]
    fn ztunnel_deny_keeps_l4_parts_and_an_http_only_deny_is_a_no_op() {
        // authorization.go: "DENY policy with HTTP attributes is enforced without
        // the HTTP rules" / "no enforceable rules at ztunnel and will have no effect".
        let mixed = policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: d, namespace: x}\nspec:\n  action: DENY\n  rules:\n  - from: [{source: {namespaces: [shop]}}]\n    to: [{operation: {paths: [/admin]}}]\n");
        // The `to` clause holds only an HTTP match: empty at ztunnel, so the rule never fires.
        assert!(decide(&[&mixed], &peer("shop", "a"), ZTUNNEL).allowed);
        let l4_and_http = policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: d, namespace: x}\nspec:\n  action: DENY\n  rules:\n  - from: [{source: {namespaces: [shop], requestPrincipals: [\"*\"]}}]\n");
        // requestPrincipals is dropped, namespaces stays: every shop caller is denied.
        assert!(!decide(&[&l4_and_http], &peer("shop", "a"), ZTUNNEL).allowed);
        assert!(decide(&[&l4_and_http], &peer("web", "a"), ZTUNNEL).allowed);
        // On a sidecar the same rule needs a JWT too: only a partial deny.
        let d = decide(&[&l4_and_http], &peer("shop", "a"), Enforcement::default());
        assert!(d.allowed && d.limits.unwrap().contains("denies requests with"));
        // trustDomains is not translated for ztunnel: a DENY on it alone does nothing there.
        let td = policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: d, namespace: x}\nspec:\n  action: DENY\n  rules:\n  - from: [{source: {trustDomains: [cluster.local]}}]\n");
        assert!(decide(&[&td], &peer("shop", "a"), ZTUNNEL).allowed);
        assert!(!decide(&[&td], &peer("shop", "a"), Enforcement::default()).allowed);
    }

    #[test]
    fn identity_fields_need_a_verified_peer() {
        // model.go: serviceAccounts, trustDomains and source.* conditions match the peer identity.
        let deny_sa = policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: d, namespace: x}\nspec:\n  action: DENY\n  rules:\n  - from: [{source: {serviceAccounts: [shop/cart]}}]\n");
        assert!(!decide(&[&deny_sa], &peer("shop", "cart"), Enforcement::default()).allowed);
        // Plaintext has no identity: the DENY is bypassed.
        assert!(decide(&[&deny_sa], &Peer::ANONYMOUS, Enforcement::default()).allowed);
        // A bare service account is relative to the policy's namespace.
        let allow_local = policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a, namespace: x}\nspec:\n  rules:\n  - from: [{source: {serviceAccounts: [api]}}]\n");
        assert!(decide(&[&allow_local], &peer("x", "api"), Enforcement::default()).allowed);
        assert!(!decide(&[&allow_local], &peer("y", "api"), Enforcement::default()).allowed);
        // A negative `when` on the identity lets plaintext in.
        let allow_not = policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a, namespace: x}\nspec:\n  rules:\n  - when: [{key: source.namespace, notValues: [evil]}]\n");
        assert!(decide(&[&allow_not], &Peer::ANONYMOUS, Enforcement::default()).allowed);
        assert!(!decide(&[&allow_not], &peer("evil", "a"), Enforcement::default()).allowed);
    }

    #[test]
    fn waypoint_policies_do_not_meet_traffic_that_skips_the_waypoint() {
        let mut p = policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: d, namespace: x}\nspec:\n  action: DENY\n  rules: [{}]\n");
        p.via_waypoint = true;
        let through = Enforcement {
            ztunnel: true,
            through_waypoint: true,
        };
        assert!(!decide(&[&p], &peer("x", "a"), through).allowed);
        let d = decide(&[&p], &peer("x", "a"), ZTUNNEL);
        assert!(d.allowed && d.limits.unwrap().contains("only by the waypoint"));
    }

    #[test]
    fn wildcards_and_namespaces_match_like_istio() {
        let p = policy("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: a, namespace: x}\nspec:\n  rules:\n  - from: [{source: {namespaces: [\"team-*\"], notPrincipals: [\"*/sa/default\"]}}]\n");
        assert!(decide(&[&p], &peer("team-a", "api"), Enforcement::default()).allowed);
        assert!(!decide(&[&p], &peer("team-a", "default"), Enforcement::default()).allowed);
        assert!(!decide(&[&p], &peer("shop", "api"), Enforcement::default()).allowed);
        let (_, _, pattern) = p.named_callers();
        assert!(pattern);
    }
}

//! ALLOW rules whose shape grants more than the author meant: a `to` without a
//! `from` beside rules that name callers, addresses taken for identities, and
//! root-namespace grants to whole namespaces.

use crate::{enforced, header_yaml, Policy, AP_DOCS, AP_KIND};
use kridik_sdk::kinds::Rule;
use kridik_sdk::prelude::*;

pub fn split_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-AUTHZ-005",
        "ALLOW rule without `from` beside rules that name callers",
        Severity::Medium,
        "authorization",
        &[AP_KIND],
    )
    .description(
        "Rules of an AuthorizationPolicy are alternatives (OR); within a rule `from`, `to` \
         and `when` must all match (AND). `rules: [{from: ...}, {to: ...}]` (or a rule with \
         `to` but no `from` beside rules that name their callers) is usually an AND written \
         as an OR: the rule without `from` opens its operations to every caller, including \
         callers without any identity. Medium; one step higher when a selected workload is \
         sensitive or reachable from outside the mesh.",
    )
}

pub fn ip_only_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-AUTHZ-006",
        "ALLOW rule that identifies callers only by IP address",
        Severity::Medium,
        "authorization",
        &[AP_KIND],
    )
    .description(
        "`ipBlocks` matches the connection's source address, which belongs to whatever pod \
         holds it now (pod IPs are reused, and a node or NAT hides callers); `remoteIpBlocks` \
         comes from X-Forwarded-For, which clients set unless `numTrustedProxies` is right. \
         An ALLOW rule whose only caller condition is an address grants access to whoever \
         has or claims that address, not to a workload identity. Medium; low on ingress \
         gateways, where external clients have no mesh identity and an address allow-list \
         is the documented pattern (with `numTrustedProxies` set for `remoteIpBlocks`).",
    )
}

pub fn root_grant_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-AUTHZ-007",
        "Root-namespace ALLOW grants whole namespaces access to every workload",
        Severity::Medium,
        "authorization",
        &[AP_KIND],
    )
    .description(
        "An ALLOW policy in the root namespace without a selector (or with an empty one) applies to every workload \
         in the mesh. A rule in it that admits callers by namespace (or by a principal \
         pattern covering a namespace) with no `to` restriction lets every workload of those \
         namespaces call every workload of the mesh on any port and path, and every other \
         ALLOW policy is widened by it. Medium; high when a namespace pattern is a wildcard.",
    )
}

/// A rule names its callers: a `from`, or a `when` on the caller's identity or token.
fn names_callers(rule: &Rule) -> bool {
    !rule.from.is_empty()
        || rule
            .when
            .iter()
            .map(|c| c.key())
            .any(|k| k.starts_with("source.") || k.starts_with("request.auth."))
}

fn allow_policies(ctx: &Ctx, what: &str) -> Result<Vec<Parsed<Policy>>, Box<kridik_sdk::Finding>> {
    Ok(ctx
        .parsed::<Policy>(AP_KIND, what)?
        .into_iter()
        .filter(|(o, p)| p.spec.is_allow() && p.spec.provider.is_none() && enforced(o))
        .collect())
}

pub fn run_split(ctx: &Ctx) -> CheckResult {
    let aps = match allow_policies(ctx, "Split ALLOW rules") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    for (o, p) in &aps {
        let rules: &[Rule] = p.spec.rules();
        if !rules.iter().any(names_callers) {
            continue; // caller-blind by design (or IST-AUTHZ-001's allow-all)
        }
        let open: Vec<String> = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| !names_callers(r) && (!r.to.is_empty() || !r.when.is_empty()))
            .map(|(i, _)| {
                format!("rules[{i}] has no from: its operations are open to every caller")
            })
            .collect();
        if open.is_empty() {
            continue;
        }
        let selected = ctx.selected(&o.target);
        let mut f = ctx
            .finding(Severity::Medium, &o.target, "ALLOW rule without `from` beside rules that name callers")
            .confidence(ctx.observed())
            .message(format!(
                "{}: {}, while its other rules restrict callers. Rules are ORed: put `from` and `to` in the same rule.",
                o.target.display(),
                open.join("; ")
            ))
            .remediation(
                "Merge each `to` into the rule that names its callers.",
                Some(
                    header_yaml(o, &p.spec)
                        + "  action: ALLOW\n  rules:\n  - from:\n    - source:\n        principals: [\"cluster.local/ns/NS/sa/CALLER\"]\n    to:\n    - operation:\n        methods: [\"GET\"]\n        paths: [\"/api/*\"]\n",
                ),
            )
            .reference(AP_DOCS);
        for d in &open {
            f = f.evidence(ctx.observed(), Some(&o.target), d);
        }
        findings.push(f.raised(ctx.observed(), ctx.blast_radius(selected)));
    }
    Ok(findings)
}

const IDENTITY: &[&str] = &[
    "principals",
    "namespaces",
    "serviceAccounts",
    "requestPrincipals",
    "notPrincipals",
    "notNamespaces",
    "notServiceAccounts",
    "notRequestPrincipals",
];
const ADDRESS: &[&str] = &[
    "ipBlocks",
    "remoteIpBlocks",
    "notIpBlocks",
    "notRemoteIpBlocks",
];

pub fn run_ip_only(ctx: &Ctx) -> CheckResult {
    let aps = match allow_policies(ctx, "Address-only ALLOW rules") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    for (o, p) in &aps {
        let mut found = Vec::new();
        for (i, rule) in p.spec.rules().iter().enumerate() {
            for (j, s) in rule.sources().enumerate() {
                let set = |k: &&str| !s.field(k).is_empty();
                let addr: Vec<&str> = ADDRESS.iter().copied().filter(set).collect();
                if !addr.is_empty() && !IDENTITY.iter().any(set) {
                    found.push(format!(
                        "rules[{i}].from[{j}] admits callers by {} only",
                        addr.join(", ")
                    ));
                }
            }
        }
        if found.is_empty() {
            continue;
        }
        let severity = if at_ingress(ctx, o, p) {
            Severity::Low
        } else {
            Severity::Medium
        };
        let mut f = ctx
            .finding(severity, &o.target, "ALLOW rule identifies callers only by IP address")
            .confidence(ctx.observed())
            .message(format!(
                "{}: {}. Addresses are not identities: pod IPs are reused and X-Forwarded-For is set by clients.",
                o.target.display(),
                found.join("; ")
            ))
            .remediation(
                "Admit callers by workload identity (principals) or by a validated JWT (requestPrincipals); keep addresses only as an extra condition.",
                Some(
                    header_yaml(o, &p.spec)
                        + "  action: ALLOW\n  rules:\n  - from:\n    - source:\n        principals: [\"cluster.local/ns/NS/sa/CALLER\"]\n        ipBlocks: [\"10.0.0.0/16\"]  # optional, in addition\n",
                ),
            )
            .reference(AP_DOCS);
        for d in &found {
            f = f.evidence(ctx.observed(), Some(&o.target), d);
        }
        findings.push(f);
    }
    Ok(findings)
}

/// The policy is for ingress gateways: every workload it selects is one, or
/// (nothing selected) its selector names one, e.g. `istio: ingressgateway`
/// or `app: istio-ingressgateway`.
pub(crate) fn at_ingress(ctx: &Ctx, o: &Object, p: &Policy) -> bool {
    let ingress = |k: &str, v: &str| (k == "istio" || k == "app") && v.contains("ingress");
    let selected = ctx.selected(&o.target);
    if !selected.is_empty() {
        return selected.iter().all(|w| w.is_ingress_gateway());
    }
    p.spec
        .selector
        .as_ref()
        .is_some_and(|s| s.match_labels.iter().any(|(k, v)| ingress(k, v)))
}

pub fn run_root_grant(ctx: &Ctx) -> CheckResult {
    let aps = match allow_policies(ctx, "Root-namespace grants") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let root = ctx.mesh_config().root_namespace;
    let mut findings = Vec::new();
    for (o, p) in &aps {
        // The model's scope, as istiod reads it: an empty selector selects
        // every workload too, and targetRefs replace the selector.
        let mesh_wide = ctx
            .policy(&o.target)
            .is_some_and(|m| m.scope == PolicyScope::Mesh);
        if !mesh_wide {
            continue;
        }
        let mut grants = Vec::new();
        let mut wildcard = false;
        for (i, rule) in p.spec.rules().iter().enumerate() {
            if !rule.to.is_empty() || !rule.when.is_empty() {
                continue;
            }
            for s in rule.sources() {
                let namespaces: Vec<&str> = s
                    .namespaces
                    .iter()
                    .map(String::as_str)
                    .filter(|n| !n.is_empty())
                    .collect();
                // A principal pattern ending in a wildcard covers a namespace (or more).
                let patterns: Vec<&str> = s
                    .principals
                    .iter()
                    .map(String::as_str)
                    .filter(|p| p.ends_with('*'))
                    .collect();
                // `ns-*` or `*` namespaces, or principals such as `*` or `td/*`
                // that are not confined to one namespace (`td/ns/NS/*`).
                wildcard |= namespaces.iter().any(|n| n.contains('*'))
                    || patterns
                        .iter()
                        .any(|p| !p.contains("/ns/") || p.ends_with("/ns/*"));
                if !namespaces.is_empty() || !patterns.is_empty() {
                    grants.push(format!(
                        "rules[{i}] admits {} with no `to`",
                        namespaces
                            .iter()
                            .map(|n| format!("namespace {n}"))
                            .chain(patterns.iter().map(|p| format!("principals {p}")))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ));
                }
            }
        }
        if grants.is_empty() {
            continue;
        }
        let mut f = ctx
            .finding(
                if wildcard { Severity::High } else { Severity::Medium },
                &o.target,
                "Root-namespace ALLOW grants whole namespaces access to every workload",
            )
            .confidence(ctx.observed())
            .message(format!(
                "{} is in the root namespace {root} with no label selector (none, or an empty one), so it applies to every workload in the mesh: {}.",
                o.target.display(),
                grants.join("; ")
            ))
            .remediation(
                "Keep the root namespace for a default-deny (`spec: {}`); grant each workload its callers in its own namespace.",
                Some(format!(
                    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: {}\n  namespace: {root}\nspec: {{}}  # mesh-wide default-deny; per-namespace ALLOW policies grant access\n",
                    o.target.name
                )),
            )
            .reference(AP_DOCS);
        for g in &grants {
            f = f.evidence(ctx.observed(), Some(&o.target), g);
        }
        findings.push(f);
    }
    Ok(findings)
}

//! Ambient workloads behind a waypoint: authorization that traffic can go
//! around (pods addressed directly) or that the waypoint hides the caller from
//! (ztunnel sees the waypoint's identity).

use crate::{enforced, Policy, AP_KIND};
use kridik_sdk::kinds::{Rule, K8S_GATEWAY};
use kridik_sdk::prelude::*;
use kridik_sdk::yaml;
use std::collections::{BTreeMap, HashMap};

const L4_DOCS: &str = "https://istio.io/latest/docs/ambient/usage/l4-policy/#considerations";

pub fn info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-AUTHZ-010",
        "Authorization of an ambient workload is bypassed around or through its waypoint",
        Severity::Medium,
        "authorization",
        &[AP_KIND, K8S_GATEWAY],
    )
    .description(
        "A waypoint enforces the policies attached to it by `targetRefs` only for the traffic \
         it carries: with `istio.io/waypoint-for: service` (the default), traffic addressed to \
         the pods' own IPs goes straight to the destination ztunnel, which enforces only the \
         selector, namespace and mesh policies. Unless those allow the waypoint's identity \
         alone, any caller they admit reaches the pods around the waypoint's rules (medium). \
         And the destination ztunnel sees traffic from the waypoint with the waypoint's \
         identity, not the caller's (istio.io, ambient L4 policy considerations): a \
         selector, namespace or mesh DENY on `principals`, `namespaces` or `serviceAccounts` \
         never matches the callers it names when they come through the waypoint (medium). \
         Attach identity rules to the waypoint with `targetRefs`, and give the workload an \
         L4 policy that admits only the waypoint. Raised when the workload is in a sensitive \
         namespace or reachable from outside the mesh.",
    )
}

/// `ns/name` of a waypoint and what traffic it serves (`istio.io/waypoint-for`).
fn waypoint_traffic(ctx: &Ctx) -> HashMap<String, String> {
    ctx.objects(K8S_GATEWAY)
        .unwrap_or_default()
        .iter()
        .map(|g| {
            (
                format!("{}/{}", g.target.namespace, g.target.name),
                g.label("istio.io/waypoint-for")
                    .unwrap_or("service")
                    .to_string(),
            )
        })
        .collect()
}

/// Is this principal the waypoint's own identity (Istio runs a waypoint
/// under a service account named after its Gateway)?
fn is_waypoint_principal(p: &str, waypoint: &str) -> bool {
    let Some((ns, name)) = waypoint.split_once('/') else {
        return false;
    };
    p.ends_with(&format!("/ns/{ns}/sa/{name}"))
}

/// Does an ALLOW rule admit only the waypoint? Every `from` source must name
/// principals, all of them the waypoint's, and nothing wider.
fn admits_only_waypoint(rule: &Rule, waypoint: &str) -> bool {
    !rule.from.is_empty()
        && rule.sources().all(|s| {
            let principals = s.field("principals");
            !principals.is_empty()
                && principals
                    .iter()
                    .all(|p| is_waypoint_principal(p, waypoint))
        })
}

/// Identity fields of a DENY's sources, as field paths.
fn identity_sources(rules: &[Rule]) -> Vec<String> {
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        for s in rule.sources() {
            for k in ["principals", "namespaces", "serviceAccounts"] {
                if !s.field(k).is_empty() {
                    out.push(format!("rules[{i}].from.source.{k}"));
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// What the check needs of one enforced policy, worked out once.
struct Facts {
    object: &'static Object,
    policy: &'static Policy,
    /// Attached by targetRefs: enforced by a waypoint, not by ztunnel.
    at_waypoint: bool,
    /// A ztunnel DENY's caller-identity fields, which the waypoint hides.
    blind: Vec<String>,
}

/// A policy by namespace and name.
type Key = (&'static str, &'static str);

/// Findings gathered per policy (in name order): the facts, the waypoint and
/// the workloads the policy leaves exposed.
type Exposed<'a> = BTreeMap<Key, (&'a Facts, String, Vec<&'static Workload>)>;

fn note<'a>(
    into: &mut Exposed<'a>,
    (key, f): (&Key, &'a Facts),
    waypoint: &str,
    w: &'static Workload,
) {
    into.entry(*key)
        .or_insert_with(|| (f, waypoint.to_string(), Vec::new()))
        .2
        .push(w);
}

pub fn run(ctx: &Ctx) -> CheckResult {
    // Ambient workloads behind a waypoint: most meshes have none, and then
    // no policy needs looking at.
    let behind: Vec<(&'static Workload, &str)> = ctx
        .workloads()
        .iter()
        .filter(|w| w.enrollment.dataplane == Dataplane::Ambient)
        .filter_map(|w| Some((w, w.waypoint.as_deref()?)))
        .collect();
    if behind.is_empty() {
        return Ok(Vec::new());
    }
    let aps = match ctx.parsed::<Policy>(AP_KIND, "Waypoint bypass") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let facts: HashMap<Key, Facts> = aps
        .into_iter()
        .filter(|(o, p)| enforced(o) && p.spec.provider.is_none())
        .map(|(object, policy)| {
            let at_waypoint = ctx
                .policy(&object.target)
                .is_some_and(|s| s.scope == PolicyScope::TargetRefs);
            let blind = if !at_waypoint && policy.spec.action.as_deref() == Some("DENY") {
                identity_sources(policy.spec.rules())
            } else {
                Vec::new()
            };
            let key = (
                object.target.namespace.as_str(),
                object.target.name.as_str(),
            );
            (
                key,
                Facts {
                    object,
                    policy,
                    at_waypoint,
                    blind,
                },
            )
        })
        .collect();
    let traffic = waypoint_traffic(ctx);
    let mut around: Exposed = BTreeMap::new();
    let mut through: Exposed = BTreeMap::new();
    for (w, waypoint) in behind {
        let attached: Vec<(&Key, &Facts)> = w
            .authorization_policies
            .iter()
            .filter_map(|r| facts.get_key_value(&(r.namespace.as_str(), r.name.as_str())))
            .collect();
        // Around: pod-addressed traffic skips a service-only waypoint, and
        // meets only ztunnel's policies.
        let pods_skip = traffic.get(waypoint).is_none_or(|t| t == "service");
        let mut ztunnel_allows = attached
            .iter()
            .filter(|(_, f)| !f.at_waypoint && f.policy.spec.is_allow())
            .peekable();
        let only_waypoint = ztunnel_allows.peek().is_some()
            && ztunnel_allows.all(|(_, f)| {
                f.policy
                    .spec
                    .rules()
                    .iter()
                    .all(|r| admits_only_waypoint(r, waypoint))
            });
        if pods_skip && !only_waypoint {
            for a in attached.iter().filter(|(_, f)| f.at_waypoint) {
                note(&mut around, *a, waypoint, w);
            }
        }
        // Through: ztunnel sees the waypoint, never the caller a DENY names.
        for a in attached.iter().filter(|(_, f)| !f.blind.is_empty()) {
            note(&mut through, *a, waypoint, w);
        }
    }
    let ids = |ws: &[&Workload]| {
        ws.iter()
            .take(5)
            .map(|w| w.id.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut findings = Vec::new();
    for (f, waypoint, ws) in around.into_values() {
        let o = f.object;
        let (ns, name) = waypoint.split_once('/').unwrap_or(("", &waypoint));
        let app = ws[0].label("app").unwrap_or("THE-WORKLOAD");
        let fix = yaml::header("security.istio.io/v1", "AuthorizationPolicy", &ws[0].namespace, "only-from-waypoint")
            + &format!(
                "spec:\n  selector:\n    matchLabels:\n      app: {}\n  action: ALLOW\n  rules:\n  - from:\n    - source:\n        principals: [\"{}/ns/{ns}/sa/{name}\"]\n",
                yaml::quote(app),
                ctx.mesh_config().trust_domain,
            );
        findings.push(
            ctx.finding(Severity::Medium, &o.target, "Waypoint policy is bypassed by traffic addressed to the pods")
                .confidence(ctx.observed())
                .message(format!(
                    "{} is enforced by waypoint {waypoint}, which serves only traffic addressed to Services (istio.io/waypoint-for: service); traffic to the pods of {} goes straight to their ztunnel, whose policies do not restrict callers to the waypoint, so those callers reach the pods without this policy's rules.",
                    o.target.display(),
                    ids(&ws)
                ))
                .evidence(ctx.observed(), Some(&o.target), &format!("attached by targetRefs to waypoint {waypoint}"))
                .remediation(
                    "Add an L4 AuthorizationPolicy on the workload (selector) that allows only the waypoint's identity, so every caller must pass the waypoint; or label the waypoint istio.io/waypoint-for: all.",
                    Some(fix),
                )
                .reference(L4_DOCS)
                .raised(ctx.observed(), ctx.blast_radius(ws.iter().copied())),
        );
    }
    for (f, waypoint, ws) in through.into_values() {
        let (o, fields) = (f.object, &f.blind);
        findings.push(
            ctx.finding(Severity::Medium, &o.target, "DENY on caller identity is blind to traffic through the waypoint")
                .confidence(ctx.observed())
                .message(format!(
                    "{} is enforced by ztunnel on {}, which use waypoint {waypoint}: traffic through the waypoint reaches ztunnel with the waypoint's identity, so {} never match the callers they name when those callers go through it.",
                    o.target.display(),
                    ids(&ws),
                    fields.join(", ")
                ))
                .evidence(ctx.observed(), Some(&o.target), &fields.join(", "))
                .remediation(
                    "Attach the DENY to the waypoint with targetRefs (a Service or the waypoint Gateway), where the caller's identity is seen.",
                    Some(
                        yaml::header("security.istio.io/v1", "AuthorizationPolicy", &o.target.namespace, &o.target.name)
                            + "spec:\n  targetRefs:\n  - kind: Service\n    group: \"\"\n    name: SERVICE  # the Service whose waypoint carries the traffic\n  action: DENY\n  rules: []  # the same rules\n",
                    ),
                )
                .reference(L4_DOCS)
                .raised(ctx.observed(), ctx.blast_radius(ws.iter().copied())),
        );
    }
    Ok(findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_waypoint_identity_is_its_gateway_name() {
        assert!(is_waypoint_principal(
            "cluster.local/ns/shop/sa/waypoint",
            "shop/waypoint"
        ));
        assert!(is_waypoint_principal(
            "spiffe://td/ns/shop/sa/waypoint",
            "shop/waypoint"
        ));
        assert!(!is_waypoint_principal(
            "cluster.local/ns/shop/sa/frontend",
            "shop/waypoint"
        ));
        assert!(!is_waypoint_principal(
            "cluster.local/ns/other/sa/waypoint",
            "shop/waypoint"
        ));
    }
}

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

pub fn run(ctx: &Ctx) -> CheckResult {
    let aps = match ctx.parsed::<Policy>(AP_KIND, "Waypoint bypass") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let by_target: HashMap<(&str, &str), &Policy> = aps
        .iter()
        .filter(|(o, p)| enforced(o) && p.spec.provider.is_none())
        .map(|(o, p)| ((o.target.namespace.as_str(), o.target.name.as_str()), *p))
        .collect();
    let objects: HashMap<(&str, &str), &Object> = aps
        .iter()
        .map(|(o, _)| ((o.target.namespace.as_str(), o.target.name.as_str()), *o))
        .collect();
    let traffic = waypoint_traffic(ctx);
    // Findings gathered per policy (in name order): the waypoint, and the
    // workloads each one leaves exposed.
    type Exposed =
        BTreeMap<(&'static str, &'static str), (&'static Object, String, Vec<&'static Workload>)>;
    let mut around: Exposed = BTreeMap::new();
    let mut through: Exposed = BTreeMap::new();
    let note = |into: &mut Exposed, r: &ObjectRef, waypoint: &str, w: &'static Workload| {
        if let Some(o) = objects.get(&(r.namespace.as_str(), r.name.as_str())) {
            into.entry((o.target.namespace.as_str(), o.target.name.as_str()))
                .or_insert_with(|| (*o, waypoint.to_string(), Vec::new()))
                .2
                .push(w);
        }
    };
    for w in ctx.workloads() {
        let Some(waypoint) = w
            .waypoint
            .as_deref()
            .filter(|_| w.enrollment.dataplane == Dataplane::Ambient)
        else {
            continue;
        };
        let attached: Vec<(&ObjectRef, &Policy, bool)> = w
            .authorization_policies
            .iter()
            .filter_map(|r| {
                let p = by_target.get(&(r.namespace.as_str(), r.name.as_str()))?;
                let at_waypoint = ctx
                    .policy(r)
                    .is_some_and(|s| s.scope == PolicyScope::TargetRefs);
                Some((r, *p, at_waypoint))
            })
            .collect();
        let at_ztunnel = || attached.iter().filter(|(_, _, wp)| !wp);
        // Around: pod-addressed traffic skips a service-only waypoint.
        let pods_skip = traffic.get(waypoint).is_none_or(|t| t == "service");
        let ztunnel_allows: Vec<&Policy> = at_ztunnel()
            .filter(|(_, p, _)| p.spec.is_allow())
            .map(|(_, p, _)| *p)
            .collect();
        let only_waypoint = !ztunnel_allows.is_empty()
            && ztunnel_allows.iter().all(|p| {
                p.spec
                    .rules()
                    .iter()
                    .all(|r| admits_only_waypoint(r, waypoint))
            });
        if pods_skip && !only_waypoint {
            for (r, _, _) in attached.iter().filter(|(_, _, wp)| *wp) {
                note(&mut around, r, waypoint, w);
            }
        }
        // Through: ztunnel sees the waypoint, never the caller a DENY names.
        for (r, p, _) in at_ztunnel() {
            if p.spec.action.as_deref() != Some("DENY") {
                continue;
            }
            if !identity_sources(p.spec.rules()).is_empty() {
                note(&mut through, r, waypoint, w);
            }
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
    for (o, waypoint, ws) in around.into_values() {
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
    for (o, waypoint, ws) in through.into_values() {
        let fields = by_target
            .get(&(o.target.namespace.as_str(), o.target.name.as_str()))
            .map(|p| identity_sources(p.spec.rules()))
            .unwrap_or_default();
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

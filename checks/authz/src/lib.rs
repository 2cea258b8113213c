//! Authorization checks: does the mesh deny by default, and do ALLOW rules stay narrow?

use kridik_sdk::prelude::*;
use kridik_sdk::MeshConfig;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

use kridik_sdk::kinds::AUTHORIZATION_POLICY as AP_KIND;
// One typed form of the kind for every check of the pack (one parse per scan).
use kridik_sdk::kinds::{AuthorizationPolicy as Policy, AuthorizationPolicySpec as Spec, Rule};
const AP_DOCS: &str =
    "https://istio.io/latest/docs/reference/config/security/authorization-policy/";
const SAFER: &str =
    "https://istio.io/latest/docs/ops/best-practices/security/#safer-authorization-policy-patterns";
const DRY_RUN: &str = "istio.io/dry-run";

fn allow_all_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-AUTHZ-001",
        "AuthorizationPolicy allows every request (empty rule)",
        Severity::High,
        "authorization",
        &[AP_KIND],
    )
    .description(
        "An ALLOW rule with no `from`, `to` or `when` (`rules: [{}]`) matches every request, \
         so the policy allows all traffic to the workloads it selects and silently cancels \
         any default-deny. Severity is high when it applies to a whole namespace or the \
         whole mesh.",
    )
}

fn default_deny_info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-AUTHZ-001",
        "Namespace with enrolled workloads has no default-deny AuthorizationPolicy",
        Severity::Medium,
        "authorization",
        &[AP_KIND],
    )
    .description(
        "Zero Trust needs deny-by-default: an enforced ALLOW policy without rules \
         (`spec: {}`) in the namespace or mesh-wide in the root namespace. Without it, a \
         workload that no ALLOW policy selects accepts every request. Medium when some \
         workloads have no policy at all, low when every one is at least narrowed. One step higher when a workload is in a namespace labelled sensitive or is \
         reachable from outside the mesh through a gateway route.",
    )
}

fn negative_allow_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-AUTHZ-002",
        "ALLOW rule with a negative match (notPaths, notPrincipals, ...)",
        Severity::Medium,
        "authorization",
        &[AP_KIND],
    )
    .description(
        "An ALLOW rule that matches on `notPaths`, `notMethods`, `notHosts`, `notPorts`, \
         `notPrincipals`, `notRequestPrincipals`, `notNamespaces`, `notIpBlocks` or \
         `notRemoteIpBlocks` allows everything it does not list, including path variants \
         that normalise to a listed one and callers nobody thought of. Istio recommends \
         ALLOW rules with positive matches. Medium: it widens a grant rather than opening \
         a workload entirely.",
    )
}

fn positive_deny_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-AUTHZ-003",
        "DENY rule with a positive path, method or host match (bypassable)",
        Severity::Medium,
        "authorization",
        &[AP_KIND],
    )
    .description(
        "A DENY rule on `paths`, `methods` or `hosts` denies only the exact spellings it \
         lists: `/admin/`, `//admin`, `/ADMIN` or `%2Fadmin` variants may reach the \
         workload unless path normalization and the rule cover them. Hosts match without \
         regard to case, but an exact host lets `host:443` through unless `host:*` is listed \
         too, and on workloads other than gateways the client chooses the Host header \
         freely. Istio recommends DENY rules with negative matches (deny everything but the \
         allowed set). Medium: the bypass needs a request crafted for the gap.",
    )
}

const NEGATIVE_SOURCE: &[&str] = &[
    "notPrincipals",
    "notRequestPrincipals",
    "notNamespaces",
    "notIpBlocks",
    "notRemoteIpBlocks",
];
const NEGATIVE_OPERATION: &[&str] = &["notPaths", "notMethods", "notHosts", "notPorts"];

/// Which half of a rule a field is in: `from[].source` or `to[].operation`.
#[derive(Clone, Copy)]
enum Side {
    From,
    To,
}

/// `(rule index, field path)` of every `side` entry in the rules that sets one of `fields`.
fn fields_in(rules: &[Rule], side: Side, fields: &[&str]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        let mut note = |path: &str, set: &dyn Fn(&str) -> bool| {
            for f in fields.iter().filter(|f| set(f)) {
                found.push((i, format!("rules[{i}].{path}.{f}")));
            }
        };
        match side {
            Side::From => {
                for s in rule.sources() {
                    note("from.source", &|f| !s.field(f).is_empty());
                }
            }
            Side::To => {
                for o in rule.operations() {
                    note("to.operation", &|f| !o.field(f).is_empty());
                }
            }
        }
    }
    found
}

/// Whether any rule sets one of `fields` on `side`: [`fields_in`] without
/// writing out the paths, for checks that only need to know.
fn sets_any(rules: &[Rule], side: Side, fields: &[&str]) -> bool {
    rules.iter().any(|rule| match side {
        Side::From => rule
            .sources()
            .any(|s| fields.iter().any(|f| !s.field(f).is_empty())),
        Side::To => rule
            .operations()
            .any(|o| fields.iter().any(|f| !o.field(f).is_empty())),
    })
}

fn run_negative_allow(ctx: &Ctx) -> CheckResult {
    let policies = match ctx.parsed::<Policy>(AP_KIND, "Authorization policies") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    for (o, policy) in &policies {
        if !policy.spec.is_allow() {
            continue;
        }
        let rules = policy.spec.rules();
        let mut hits = fields_in(rules, Side::From, NEGATIVE_SOURCE);
        hits.extend(fields_in(rules, Side::To, NEGATIVE_OPERATION));
        if hits.is_empty() {
            continue;
        }
        let fields: Vec<&str> = hits.iter().map(|(_, f)| f.as_str()).collect();
        let mut finding = ctx
            .finding(
                Severity::Medium,
                &o.target,
                "ALLOW rule with a negative match",
            )
            .confidence(ctx.observed())
            .message(format!(
                "{} allows requests by exclusion ({}): anything not listed, including spellings \
                 that normalise to a listed value and callers added later, is allowed.",
                o.target.display(),
                fields.join(", ")
            ))
            .remediation(
                "Rewrite the rule with positive matches (principals, paths, methods that are \
                 allowed) and keep a default-deny policy for everything else.",
                Some(positive_yaml(o, &policy.spec)),
            )
            .reference(SAFER)
            .reference(AP_DOCS);
        for (_, f) in &hits {
            finding = finding.evidence(
                ctx.observed(),
                Some(&o.target),
                &format!("{f} is set on an ALLOW rule"),
            );
        }
        findings.push(finding);
    }
    Ok(findings)
}

/// Exact hosts of a DENY rule that a `host:port` Host header slips past:
/// Istio routes `example.com` and `example.com:*`, but authorization matches
/// only the strings listed (case-insensitively, `HostMatcher` in
/// pilot/pkg/security/authz/matcher/header.go), so each exact host needs its
/// `:*` twin (istio.io security best practices, "Writing Host Match Policies").
fn hosts_without_port_variant(rules: &[Rule]) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for (i, rule) in rules.iter().enumerate() {
        for op in rule.operations() {
            let covered = |h: &str| {
                op.hosts.iter().any(|o| {
                    o.strip_suffix('*').is_some_and(|prefix| {
                        format!("{h}:")
                            .to_ascii_lowercase()
                            .starts_with(&prefix.to_ascii_lowercase())
                    })
                })
            };
            for h in op
                .hosts
                .iter()
                .filter(|h| !h.starts_with('*') && !h.ends_with('*') && !h.contains(':'))
            {
                if !covered(h) {
                    out.push((i, h.clone()));
                }
            }
        }
    }
    out
}

fn run_positive_deny(ctx: &Ctx) -> CheckResult {
    let policies = match ctx.parsed::<Policy>(AP_KIND, "Authorization policies") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mesh = ctx.mesh_config();
    let normalization = format!("{:?}", mesh.path_normalization);
    let mut findings = Vec::new();
    for (o, policy) in &policies {
        if policy.spec.action.as_deref() != Some("DENY") {
            continue;
        }
        let rules = policy.spec.rules();
        let exact = fields_in(rules, Side::To, &["paths", "methods"]);
        // Hosts: at a gateway only the port variant escapes; on a sidecar the
        // client writes the Host header it likes (the same page).
        let host_fields = fields_in(rules, Side::To, &["hosts"]);
        let mut problems: Vec<String> = Vec::new();
        if !exact.is_empty() {
            let fields: Vec<&str> = exact.iter().map(|(_, f)| f.as_str()).collect();
            problems.push(format!(
                "it denies only the exact values listed in {}; variants such as a trailing \
                 slash, doubled slashes, other letter case or percent-encoding may not match \
                 (mesh path normalization: {normalization})",
                fields.join(", ")
            ));
        }
        if !host_fields.is_empty() {
            if shape::at_ingress(ctx, o, policy) {
                let bare = hosts_without_port_variant(rules);
                if !bare.is_empty() {
                    let listed: Vec<String> = bare
                        .iter()
                        .map(|(i, h)| format!("rules[{i}] host {h} without {h}:*"))
                        .collect();
                    problems.push(format!(
                        "{}: a request with Host `{}:443` is not denied (Istio routes host:port too; authorization matches the listed strings only)",
                        listed.join(", "),
                        bare[0].1
                    ));
                }
            } else {
                let fields: Vec<&str> = host_fields.iter().map(|(_, f)| f.as_str()).collect();
                problems.push(format!(
                    "{} matches the Host header on workloads that are not gateways: a client that reaches the pods sends any Host it likes",
                    fields.join(", ")
                ));
            }
        }
        if problems.is_empty() {
            continue;
        }
        let mut finding = ctx
            .finding(Severity::Medium, &o.target, "DENY rule with a positive match can be bypassed")
            .confidence(ctx.observed())
            .message(format!("{}: {}.", o.target.display(), problems.join("; ")))
            .remediation(
                "Deny by exclusion instead: a DENY rule with notPaths/notMethods listing what is \
                 allowed, and set meshConfig.pathNormalization to MERGE_SLASHES or \
                 DECODE_AND_MERGE_SLASHES; list every exact host with its `host:*` twin, and \
                 match hosts only at gateways.",
                Some(negative_deny_yaml(o, &policy.spec)),
            )
            .reference(SAFER)
            .reference("https://istio.io/latest/docs/ops/best-practices/security/#understand-path-normalization-in-authorization-policy")
            .reference("https://istio.io/latest/docs/ops/best-practices/security/#writing-host-match-policies");
        for (_, f) in exact.iter().chain(&host_fields) {
            finding = finding.evidence(
                ctx.observed(),
                Some(&o.target),
                &format!("{f} is set on a DENY rule"),
            );
        }
        findings.push(finding);
    }
    Ok(findings)
}

/// The policy's header (name, namespace, selector) as YAML.
fn header_yaml(o: &Object, spec: &Spec) -> String {
    let mut yaml = format!(
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: {}\n  namespace: {}\nspec:\n",
        o.target.name, o.target.namespace
    );
    if let Some(selector) = spec
        .selector
        .as_ref()
        .filter(|s| !s.match_labels.is_empty())
    {
        yaml.push_str("  selector:\n    matchLabels:\n");
        for (k, v) in &selector.match_labels {
            yaml.push_str(&format!("      {k}: {}\n", Value::from(v.as_str())));
        }
    }
    yaml
}

fn positive_yaml(o: &Object, spec: &Spec) -> String {
    header_yaml(o, spec)
        + &format!(
            "  action: ALLOW\n  rules:\n  - from:\n    - source:\n        # the callers that need access\n        principals: [\"cluster.local/ns/{}/sa/CALLER\"]\n    to:\n    - operation:\n        # the operations the workload serves\n        methods: [\"GET\"]\n        paths: [\"/api/*\"]\n",
            o.target.namespace
        )
}

fn negative_deny_yaml(o: &Object, spec: &Spec) -> String {
    header_yaml(o, spec)
        + "  action: DENY\n  rules:\n  - to:\n    - operation:\n        # deny everything except the paths the workload serves\n        notPaths: [\"/api/*\", \"/healthz\"]\n"
}

fn enforced(o: &Object) -> bool {
    o.annotation(DRY_RUN) != Some("true")
}

fn run_allow_all(ctx: &Ctx) -> CheckResult {
    let policies = match ctx.parsed::<Policy>(AP_KIND, "Authorization policies") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    for (o, policy) in &policies {
        let spec = &policy.spec;
        let Some(rule_index) = spec.empty_rule().filter(|_| spec.is_allow()) else {
            continue;
        };
        let scope = ctx.policy(&o.target);
        let (severity, reach) = match scope.map(|p| p.scope) {
            Some(PolicyScope::Mesh) => {
                (Severity::Critical, "every workload in the mesh".to_string())
            }
            Some(PolicyScope::Namespace) => (
                Severity::High,
                format!("every workload in namespace {}", o.target.namespace),
            ),
            _ => (
                Severity::Medium,
                match scope.map(|p| p.workloads.len()).unwrap_or(0) {
                    0 => "no workload in the snapshot (the selector matches nothing)".to_string(),
                    n => format!(
                        "{n} selected workload(s): {}",
                        scope.map(|p| p.workloads.join(", ")).unwrap_or_default()
                    ),
                },
            ),
        };
        let enforced = enforced(o);
        let mut finding = ctx
            .finding(
                severity,
                &o.target,
                "AuthorizationPolicy allows every request",
            )
            .confidence(ctx.observed())
            .message(format!(
                "{} has an ALLOW rule with no from/to/when (rules[{rule_index}]: {{}}), which \
                 matches every request from any source, authenticated or not, to {reach}.{}",
                o.target.display(),
                if enforced {
                    ""
                } else {
                    " The policy is in dry-run, so it is not enforced yet."
                }
            ))
            .evidence(
                ctx.observed(),
                Some(&o.target),
                &format!("spec.rules[{rule_index}] is empty"),
            )
            .remediation(
                "Replace the empty rule with the callers and operations the workload really \
                 serves; keep a default-deny policy beside it.",
                Some(narrowed_yaml(o, spec)),
            )
            .reference(SAFER)
            .reference(AP_DOCS);
        if !enforced {
            finding = finding.severity(Severity::Low);
        }
        findings.push(finding);
    }
    Ok(findings)
}

fn run_default_deny(ctx: &Ctx) -> CheckResult {
    let policies = match ctx.parsed::<Policy>(AP_KIND, "Authorization policies") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mesh = ctx.mesh_config();
    let deny_all: BTreeSet<&str> = policies
        .iter()
        .filter(|(o, p)| enforced(o) && p.spec.is_deny_all())
        .map(|(o, _)| o.target.namespace.as_str())
        .collect();
    if deny_all.contains(mesh.root_namespace.as_str()) {
        return Ok(vec![]);
    }
    let mut enrolled: BTreeMap<&str, Vec<&Workload>> = BTreeMap::new();
    for w in ctx.workloads() {
        if w.enrollment.dataplane != Dataplane::None && w.namespace != mesh.root_namespace {
            enrolled.entry(w.namespace.as_str()).or_default().push(w);
        }
    }
    Ok(enrolled
        .into_iter()
        .filter(|(ns, _)| !deny_all.contains(ns))
        .map(|(ns, workloads)| default_deny_finding(ctx, &mesh, ns, &workloads))
        .collect())
}

fn default_deny_finding(
    ctx: &Ctx,
    mesh: &MeshConfig,
    ns: &str,
    workloads: &[&Workload],
) -> kridik_sdk::Finding {
    let unguarded: Vec<&Workload> = workloads
        .iter()
        .copied()
        .filter(|w| w.authorization_policies.is_empty())
        .collect();
    let open: Vec<&str> = unguarded.iter().map(|w| w.id.as_str()).collect();
    // Workloads no policy selects accept everything; the rest are at least narrowed.
    let severity = if open.is_empty() {
        Severity::Low
    } else {
        Severity::Medium
    };
    let confidence = kridik_sdk::weakest(workloads.iter().map(|w| w.enrollment.confidence));
    let mut finding = ctx
        .finding(severity, &ObjectRef::namespace(ns), "No default-deny AuthorizationPolicy")
        .confidence(confidence)
        .message(format!(
            "Namespace {ns} has {} enrolled workload(s) but neither it nor the root namespace \
             {} has an enforced allow-nothing policy; {} of them have no AuthorizationPolicy \
             at all and accept every request{}.",
            workloads.len(),
            mesh.root_namespace,
            open.len(),
            if open.is_empty() { String::new() } else { format!(": {}", open.join(", ")) }
        ))
        .remediation(
            "Add an allow-nothing policy to the namespace (or once, mesh-wide, in the root \
             namespace), then add narrow ALLOW policies for each legitimate caller.",
            Some(format!(
                "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: default-deny\n  namespace: {ns}\nspec: {{}}\n"
            )),
        )
        .reference("https://istio.io/latest/docs/ops/best-practices/security/#use-default-deny-patterns")
        .reference(AP_DOCS);
    for w in workloads.iter().take(20) {
        finding = finding.evidence(
            w.enrollment.confidence,
            Some(&w.target),
            &format!(
                "{} is enrolled ({}); {} policy(ies) select it",
                w.id,
                w.enrollment.reason,
                w.authorization_policies.len()
            ),
        );
    }
    // Accepting every request matters more on sensitive or exposed workloads.
    finding.raised(ctx.observed(), ctx.blast_radius(unguarded))
}

/// The same policy with the empty rule replaced by a same-namespace-only rule,
/// the narrowest grant that is certain not to break in-namespace callers.
fn narrowed_yaml(o: &Object, spec: &Spec) -> String {
    header_yaml(o, spec)
        + &format!(
            "  action: ALLOW\n  rules:\n  - from:\n    - source:\n        # list the callers' identities (principals); this keeps only same-namespace callers\n        namespaces: [\"{}\"]\n    to:\n    - operation:\n        methods: [\"GET\"]\n        # add the paths and methods the workload serves\n",
            o.target.namespace
        )
}

mod client_address;
mod shape;
mod waypoint_bypass;
mod zero_trust;

/// This area's checks, exported with the rest of the built-in pack by
/// `checks/pack` (one component, so the model is decoded once for all).
pub const CHECKS: &[Check] = &[
    Check {
        info: allow_all_info,
        run: run_allow_all,
    },
    Check {
        info: negative_allow_info,
        run: run_negative_allow,
    },
    Check {
        info: positive_deny_info,
        run: run_positive_deny,
    },
    Check {
        info: default_deny_info,
        run: run_default_deny,
    },
    Check {
        info: zero_trust::normalization_info,
        run: zero_trust::run_normalization,
    },
    Check {
        info: zero_trust::wildcard_info,
        run: zero_trust::run_wildcard,
    },
    Check {
        info: zero_trust::jwt_info,
        run: zero_trust::run_jwt,
    },
    Check {
        info: zero_trust::tcp_deny_info,
        run: zero_trust::run_tcp_deny,
    },
    Check {
        info: zero_trust::custom_info,
        run: zero_trust::run_custom,
    },
    Check {
        info: zero_trust::dry_run_info,
        run: zero_trust::run_dry_run,
    },
    Check {
        info: zero_trust::plaintext_principal_info,
        run: zero_trust::run_plaintext_principal,
    },
    Check {
        info: zero_trust::waypoint_info,
        run: zero_trust::run_waypoint,
    },
    Check {
        info: zero_trust::token_deny_info,
        run: zero_trust::run_token_deny,
    },
    Check {
        info: shape::split_info,
        run: shape::run_split,
    },
    Check {
        info: shape::ip_only_info,
        run: shape::run_ip_only,
    },
    Check {
        info: shape::root_grant_info,
        run: shape::run_root_grant,
    },
    Check {
        info: waypoint_bypass::info,
        run: waypoint_bypass::run,
    },
    Check {
        info: client_address::info,
        run: client_address::run,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(json: &str) -> Vec<Rule> {
        serde_json::from_str::<Policy>(json).unwrap().spec.rules
    }

    #[test]
    fn an_exact_host_needs_its_port_twin() {
        let bare = |json: &str| -> Vec<String> {
            hosts_without_port_variant(&rules(json))
                .into_iter()
                .map(|(_, h)| h)
                .collect()
        };
        // The hardened form of istio.io's best practices page.
        assert!(bare(r#"{"spec": {"rules": [{"to": [{"operation": {"hosts": ["example.com", "example.com:*"]}}]}]}}"#).is_empty());
        // Case does not matter to Istio's host matcher; a prefix wildcard covers the port.
        assert!(bare(r#"{"spec": {"rules": [{"to": [{"operation": {"hosts": ["Example.com", "example.COM*"]}}]}]}}"#).is_empty());
        assert_eq!(
            bare(
                r#"{"spec": {"rules": [{"to": [{"operation": {"hosts": ["admin.example.com", "*.internal", "api.example.com:8443"]}}]}]}}"#
            ),
            ["admin.example.com"]
        );
        // The twin must be in the same operation: another rule is another request.
        assert_eq!(
            bare(
                r#"{"spec": {"rules": [{"to": [{"operation": {"hosts": ["a.com"]}}]}, {"to": [{"operation": {"hosts": ["a.com:*"]}}]}]}}"#
            ),
            ["a.com"]
        );
    }

    #[test]
    fn sets_any_agrees_with_the_paths_it_does_not_write() {
        let r = rules(
            r#"{"spec": {"rules": [
                {"from": [{"source": {"principals": ["a"]}}]},
                {"from": [{"source": {}}, {"source": {"notRequestPrincipals": ["*"]}}],
                 "to": [{"operation": {"methods": ["GET"]}}, {"operation": {"notPaths": ["/x"]}}]}
            ]}}"#,
        );
        let cases: &[(Side, &[&str])] = &[
            (Side::From, &["requestPrincipals"]),
            (Side::From, &["notRequestPrincipals"]),
            (Side::From, &["principals", "namespaces"]),
            (Side::To, &["paths", "notPaths"]),
            (Side::To, &["ports"]),
        ];
        let found: Vec<bool> = cases
            .iter()
            .map(|(side, fields)| {
                let any = sets_any(&r, *side, fields);
                assert_eq!(any, !fields_in(&r, *side, fields).is_empty());
                any
            })
            .collect();
        assert_eq!(found, [false, true, true, true, false]);
    }
}

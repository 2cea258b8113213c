//! Zero Trust audit beyond authorization rules: policies that select nothing,
//! workloads left outside the mesh, shared identities, JWKS fetching.

use kridik_sdk::kinds::{AuthorizationPolicy, AUTHORIZATION_POLICY, REQUEST_AUTHENTICATION};
use kridik_sdk::prelude::*;
use serde_json::Value;
use std::collections::BTreeMap;

fn unmatched_info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-POLICY-001",
        "Policy selects no workload",
        Severity::Low,
        "policy-hygiene",
        &[AUTHORIZATION_POLICY],
    )
    .description(
        "An AuthorizationPolicy, RequestAuthentication, PeerAuthentication or Sidecar whose \
         selector or targetRefs matches no workload (or a namespace-wide one in a namespace \
         without workloads) protects nothing: usually a typo in a label or a renamed app, \
         and the workload it was written for runs without it (istioctl IST0127). This \
         includes policies Istio ignores: a PeerAuthentication with a selector in the root \
         namespace, and targetRefs on a Service or ServiceEntry that no waypoint serves \
         (sidecars never enforce those). Severity follows what is missing: an ALLOW that \
         selects nothing is hygiene (low), but a DENY or CUSTOM that selects nothing leaves \
         the intended block absent, and an ALLOW with rules that attaches nowhere leaves \
         the workloads it names (by selector value or targetRefs Service) with no ALLOW \
         policy, so they accept every caller (medium, high when its namespace is labelled \
         sensitive or such a workload is reachable from outside the mesh). A policy in \
         a namespace with no workloads in the snapshot stays low: nothing there is \
         unprotected yet, and offline the input may simply be partial.",
    )
}

/// The action of an AuthorizationPolicy (ALLOW when unset).
fn action_of(p: &AuthorizationPolicy) -> &str {
    p.spec.action.as_deref().unwrap_or("ALLOW")
}

/// The selector values and targetRefs names of a policy, to find the
/// workload it was written for.
fn selector_values(p: &AuthorizationPolicy) -> Vec<&str> {
    let labels = p
        .spec
        .selector
        .iter()
        .flat_map(|s| s.match_labels.iter().map(|(_, v)| v.as_str()));
    let refs = p
        .spec
        .target_refs
        .iter()
        .flatten()
        .chain(&p.spec.target_ref)
        .filter_map(|r| r.get("name").and_then(Value::as_str));
    labels.chain(refs).collect()
}

fn run_unmatched(ctx: &Ctx) -> CheckResult {
    let root = ctx.mesh_config().root_namespace;
    // Unreadable AuthorizationPolicies leave every unmatched policy at its
    // base severity. The pack's one typed parse of the kind, shared.
    let aps = ctx
        .parsed::<AuthorizationPolicy>(AUTHORIZATION_POLICY, "Unmatched policies")
        .unwrap_or_default();
    let ap_by_name: std::collections::HashMap<(&str, &str), &AuthorizationPolicy> = aps
        .iter()
        .map(|(o, p)| ((o.target.namespace.as_str(), o.target.name.as_str()), *p))
        .collect();
    let populated: std::collections::BTreeSet<&str> = ctx
        .workloads()
        .iter()
        .map(|w| w.namespace.as_str())
        .collect();
    let mut findings = Vec::new();
    for p in ctx.policies() {
        let empty_namespace = p.scope == PolicyScope::Namespace
            && p.workloads.is_empty()
            && p.target.namespace != root
            && !populated.contains(p.target.namespace.as_str());
        if !p.matches_nothing && !empty_namespace {
            continue;
        }
        let why = if empty_namespace {
            format!(
                "namespace {} has no workloads in the snapshot",
                p.target.namespace
            )
        } else {
            p.reason.clone()
        };
        // A DENY or CUSTOM that applies nowhere is a missing block, not hygiene.
        let ap = (p.target.kind == "AuthorizationPolicy")
            .then(|| {
                ap_by_name
                    .get(&(p.target.namespace.as_str(), p.target.name.as_str()))
                    .copied()
            })
            .flatten();
        // Only where the namespace has workloads in the snapshot is a miss a typo
        // rather than a partial input (or a namespace still empty).
        let has_workloads = if p.target.namespace == root {
            !populated.is_empty()
        } else {
            populated.contains(p.target.namespace.as_str())
        };
        // Offline, Istio's own gateways are usually installed, not written in
        // the manifests: a policy for them may well apply in the cluster.
        let for_istio_gateway = ctx.source() == kridik_sdk::SourceKind::Offline
            && ap.and_then(|p| p.spec.selector.as_ref()).is_some_and(|s| {
                s.match_labels
                    .iter()
                    .any(|(k, v)| (k == "istio" || k == "app") && v.contains("gateway"))
            });
        let action = ap.map(action_of);
        let blocking = has_workloads
            && !for_istio_gateway
            && action.is_some_and(|a| a == "DENY" || a == "CUSTOM");
        // The workloads the selector or targetRefs names (by name, app label
        // or Service): the ones the policy was written for.
        let intended: Vec<&Workload> = ap
            .filter(|_| has_workloads && !for_istio_gateway)
            .map(|ap| {
                let named = selector_values(ap);
                ctx.workloads_in(&p.target.namespace)
                    .into_iter()
                    .filter(|w| {
                        named.iter().any(|n| {
                            *n == w.name
                                || w.label("app") == Some(n)
                                || w.services.iter().any(|s| s.name == *n)
                        })
                    })
                    .collect()
            })
            .unwrap_or_default();
        // An ALLOW with rules that attaches nowhere leaves the workloads it
        // names without any ALLOW policy: they accept every request, not
        // only the callers it lists (a targetRefs policy on a Service no
        // waypoint serves is the usual case in ambient).
        let restricting = ap.is_some_and(|p| !p.spec.rules.is_empty());
        let open: Vec<&Workload> = if action == Some("ALLOW") && restricting {
            intended
                .iter()
                .copied()
                .filter(|w| {
                    w.enrolled()
                        && !w.authorization_policies.iter().any(|r| {
                            ap_by_name
                                .get(&(r.namespace.as_str(), r.name.as_str()))
                                .is_some_and(|p| action_of(p) == "ALLOW")
                        })
                })
                .collect()
        } else {
            Vec::new()
        };
        let severity = if blocking || !open.is_empty() {
            Severity::Medium
        } else {
            Severity::Low
        };
        let mut raise = None;
        if blocking || !open.is_empty() {
            let exposed = if blocking {
                intended.clone()
            } else {
                open.clone()
            };
            raise = ctx
                .sensitivity(&p.target.namespace)
                .or_else(|| ctx.blast_radius(exposed));
        }
        let title = if blocking {
            "DENY/CUSTOM policy applies to no workload: the block it describes is absent"
        } else if !open.is_empty() {
            "ALLOW policy applies to no workload: the workload it restricts accepts every request"
        } else {
            "Policy selects no workload"
        };
        let why = if open.is_empty() {
            why
        } else {
            format!(
                "{why}; {} has no other ALLOW policy, so every caller is allowed",
                open.iter()
                    .map(|w| w.id.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        findings.push(
            ctx.finding(severity, &p.target, title)
                .raised(ctx.observed(), raise)
                .confidence(ctx.observed())
                .message(format!("{} applies to nothing: {why}.", p.target.display()))
                .evidence(ctx.observed(), Some(&p.target), &why)
                .remediation(
                    "Fix the selector labels (or targetRefs) to match the intended workload, or delete the policy.",
                    None,
                )
                .reference("https://istio.io/latest/docs/reference/config/analysis/ist0127/"),
        );
    }
    Ok(findings)
}

fn unenrolled_info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-ENROLL-001",
        "Workload outside the mesh where the mesh is expected",
        Severity::Medium,
        "enrollment",
        &[],
    )
    .description(
        "A workload with no sidecar and not in ambient mode gets no mTLS, no authorization \
         policy and no telemetry. Reported when something says it should be enrolled: its \
         namespace asks for injection or ambient, other workloads in its namespace are \
         enrolled, or mesh policies select it. VERIFIED when running pods lack the proxy. One step higher when a workload is in a namespace labelled sensitive or is \
         reachable from outside the mesh through a gateway route.",
    )
}

/// How the model's enrollment reason starts for a hostNetwork pod.
const HOST_NETWORK: &str = "hostNetwork: true";

const SYSTEM: &[&str] = &[
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "local-path-storage",
];

fn run_unenrolled(ctx: &Ctx) -> CheckResult {
    let root = ctx.mesh_config().root_namespace;
    let mut enrolled_in: BTreeMap<&str, usize> = BTreeMap::new();
    for w in ctx.workloads().iter().filter(|w| w.enrolled()) {
        *enrolled_in.entry(w.namespace.as_str()).or_default() += 1;
    }
    let mut findings = Vec::new();
    for w in ctx.workloads() {
        // hostNetwork pods can be neither injected nor captured (the model's
        // enrollment reason says so): asking to enroll them would be wrong.
        if w.enrolled()
            || w.namespace == root
            || SYSTEM.contains(&w.namespace.as_str())
            || w.enrollment.reason.starts_with(HOST_NETWORK)
            || w.label("sidecar.istio.io/inject") == Some("false")
            || w.annotation("sidecar.istio.io/inject") == Some("false")
        {
            continue; // explicit opt-outs are IST-DP-003's
        }
        let mut reasons = Vec::new();
        // A namespace label that reaches no injector webhook (a removed
        // revision) still says the mesh is expected; the model's reason says
        // why the pods get nothing.
        let labelled = |n: &kridik_sdk::NamespaceInfo| {
            n.labels
                .iter()
                .any(|(k, v)| (k == "istio-injection" && v == "enabled") || k == "istio.io/rev")
        };
        if ctx
            .namespace(&w.namespace)
            .is_some_and(|n| n.enrollment.dataplane != Dataplane::None || labelled(n))
        {
            reasons.push(format!("namespace {} asks for the mesh", w.namespace));
        }
        if let Some(n) = enrolled_in.get(w.namespace.as_str()) {
            reasons.push(format!(
                "{n} other workload(s) in {} are enrolled",
                w.namespace
            ));
        }
        let policies = w.authorization_policies.len()
            + w.peer_authentications.len()
            + w.request_authentications.len();
        if policies > 0 {
            reasons.push(format!(
                "{policies} mesh policy(ies) select it but cannot be enforced"
            ));
        }
        if reasons.is_empty() {
            continue;
        }
        let finding = ctx.finding(Severity::Medium, &w.target, "Workload is not in the mesh")
                .confidence(w.enrollment.confidence)
                .message(format!("{} has no sidecar and is not ambient ({}), although {}.", w.id, w.enrollment.reason, reasons.join("; ")))
                .evidence(w.enrollment.confidence, Some(&w.target), &w.enrollment.reason)
                .remediation(
                    "Enroll it: label the namespace for injection (or ambient) and restart the workload.",
                    Some(format!(
                        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {}\n  labels:\n    istio-injection: enabled  # or istio.io/dataplane-mode: ambient\n# then: kubectl rollout restart -n {} {}\n",
                        w.namespace,
                        w.namespace,
                        w.target.kind.to_ascii_lowercase() + "/" + &w.name
                    )),
                )
                .reference("https://istio.io/latest/docs/setup/additional-setup/sidecar-injection/");
        // A gateway sends plaintext to it; sensitive data travels unencrypted.
        findings.push(finding.raised(ctx.observed(), ctx.blast_radius([w])));
    }
    Ok(findings)
}

fn shared_identity_info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-ID-001",
        "Service account shared by unrelated workloads",
        Severity::Low,
        "identity",
        &[AUTHORIZATION_POLICY],
    )
    .description(
        "Istio identities are service accounts. When unrelated workloads share one (often \
         `default`), every grant to that identity reaches all of them and a compromise of \
         one impersonates the others. INFERRED (whether workloads are related is a \
         judgement); medium when an ALLOW policy names the shared identity, low otherwise.",
    )
}

fn run_shared_identity(ctx: &Ctx) -> CheckResult {
    let aps =
        match ctx.parsed::<AuthorizationPolicy>(AUTHORIZATION_POLICY, "Shared identity grants") {
            Ok(p) => p,
            Err(unknown) => return Ok(vec![*unknown]),
        };
    // Hashed, not ordered: identities share a long `spiffe://<td>/ns/` prefix,
    // so ordering 10,000 of them was mostly byte comparisons.
    let mut by_identity: std::collections::HashMap<&str, Vec<&Workload>> = Default::default();
    for w in ctx.workloads().iter().filter(|w| w.enrolled()) {
        by_identity.entry(w.identity.as_str()).or_default().push(w);
    }
    // Identities that unrelated workloads share (few), then one pass over the
    // policies for the grants naming them: no index of every principal.
    let mut shared: Vec<(&str, Vec<&Workload>)> = by_identity
        .into_iter()
        .filter(|(_, ws)| {
            let apps: std::collections::BTreeSet<&str> = ws
                .iter()
                .map(|w| {
                    w.label("app")
                        .or(w.label("app.kubernetes.io/name"))
                        .unwrap_or(&w.name)
                })
                .collect();
            apps.len() >= 2
        })
        .collect();
    if shared.is_empty() {
        return Ok(Vec::new());
    }
    shared.sort_unstable_by_key(|(identity, _)| *identity);
    let trust_domain = ctx.mesh_config().trust_domain;
    let mut named: std::collections::HashMap<&str, Vec<&ObjectRef>> = shared
        .iter()
        .map(|(identity, _)| (identity.trim_start_matches("spiffe://"), Vec::new()))
        .collect();
    for (o, v) in &aps {
        principals_named(v, &o.target.namespace, &trust_domain, |p| {
            if let Some(refs) = named.get_mut(p) {
                if !refs.iter().any(|r| std::ptr::eq(*r, &o.target)) {
                    refs.push(&o.target);
                }
            }
        });
    }
    let mut findings = Vec::new();
    for (identity, ws) in shared {
        let principal = identity.trim_start_matches("spiffe://");
        let granted: Vec<&ObjectRef> = named.get(principal).cloned().unwrap_or_default();
        let severity = if granted.is_empty() {
            Severity::Low
        } else {
            Severity::Medium
        };
        let first = ws[0];
        let mut f = ctx
            .finding(severity, &first.target, "Service account shared by unrelated workloads")
            .confidence(Confidence::Inferred)
            .message(format!(
                "{} workloads ({}) run as {identity}{}.",
                ws.len(),
                ws.iter().take(6).map(|w| w.id.as_str()).collect::<Vec<_>>().join(", "),
                if granted.is_empty() {
                    String::new()
                } else {
                    format!("; {} grant(s) to it reach all of them", granted.len())
                }
            ))
            .remediation(
                "Give each workload its own service account and update the grants.",
                Some(format!(
                    "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: {name}\n  namespace: {ns}\n---\n# {target}: spec.template.spec.serviceAccountName: {name}\n",
                    name = first.name,
                    ns = first.namespace,
                    target = first.target.display()
                )),
            )
            .reference("https://istio.io/latest/docs/concepts/security/#istio-identity");
        for w in ws.iter().take(10) {
            f = f.evidence(
                w.enrollment.confidence,
                Some(&w.target),
                &format!("{} runs as service account {}", w.id, w.service_account),
            );
        }
        for g in granted.iter().take(5) {
            f = f.evidence(ctx.observed(), Some(g), &format!("grants {principal}"));
        }
        findings.push(f);
    }
    Ok(findings)
}

/// The exact principals an AuthorizationPolicy names: `principals`, the
/// `source.principal` condition, and `serviceAccounts` (`ns/sa`, or `sa` in
/// the policy's namespace) as principals of the mesh's trust domain.
fn principals_named(
    policy: &AuthorizationPolicy,
    ns: &str,
    trust_domain: &str,
    mut each: impl FnMut(&str),
) {
    use std::fmt::Write;
    let mut sa_principal = String::new();
    for rule in policy.spec.rules() {
        for source in rule.sources() {
            source.principals.iter().for_each(|p| each(p));
            for sa in &source.service_accounts {
                let (sa_ns, name) = sa.split_once('/').unwrap_or((ns, sa.as_str()));
                sa_principal.clear();
                let _ = write!(sa_principal, "{trust_domain}/ns/{sa_ns}/sa/{name}");
                each(&sa_principal);
            }
        }
        for c in rule.when.iter().filter(|c| c.key() == "source.principal") {
            c.values.iter().for_each(|p| each(p));
        }
    }
}

fn jwks_info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-AUTHN-001",
        "istiod fetches jwksUri without blocked address ranges",
        Severity::Medium,
        "authentication",
        &[REQUEST_AUTHENTICATION],
    )
    .description(
        "istiod fetches the `jwksUri` of every RequestAuthentication. Anyone who can create \
         one can make istiod request internal addresses (SSRF) unless \
         `BLOCKED_CIDRS_IN_JWKS_URIS` lists the ranges it must not reach (istioctl IST0175). \
         Medium: it needs the right to create policies in some namespace.",
    )
}

fn run_jwks(ctx: &Ctx) -> CheckResult {
    let ras = match ctx.parsed::<Value>(REQUEST_AUTHENTICATION, "JWKS fetching") {
        Ok(r) => r,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let fetched: Vec<(&ObjectRef, &str)> = ras
        .iter()
        .flat_map(|(o, v)| {
            v.pointer("/spec/jwtRules")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|r| r.get("jwksUri").and_then(Value::as_str))
                .map(move |u| (&o.target, u))
        })
        .collect();
    if fetched.is_empty() {
        return Ok(vec![]);
    }
    let mut findings = Vec::new();
    for w in ctx.workloads().iter().filter(|w| {
        w.containers
            .iter()
            .any(|c| c.name == "discovery" || c.image.contains("/pilot:"))
    }) {
        let blocked = w
            .containers
            .iter()
            .flat_map(|c| &c.env)
            .any(|(k, v)| k == "BLOCKED_CIDRS_IN_JWKS_URIS" && !v.is_empty());
        if blocked {
            continue;
        }
        let mut f = ctx
            .finding(Severity::Medium, &w.target, "jwksUri fetched without blocked address ranges")
            .confidence(ctx.observed())
            .message(format!(
                "{} fetches {} jwksUri(s) and has no BLOCKED_CIDRS_IN_JWKS_URIS: a RequestAuthentication can make it call internal addresses.",
                w.id,
                fetched.len()
            ))
            .remediation(
                "Block internal ranges for JWKS fetches on istiod.",
                Some("# istiod discovery container (Helm: pilot.env)\nenv:\n- name: BLOCKED_CIDRS_IN_JWKS_URIS\n  value: \"10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,169.254.0.0/16,127.0.0.0/8\"\n".into()),
            )
            .reference("https://istio.io/latest/docs/reference/config/analysis/ist0175/");
        for (o, uri) in fetched.iter().take(10) {
            f = f.evidence(ctx.observed(), Some(o), &format!("jwksUri {uri}"));
        }
        findings.push(f);
    }
    Ok(findings)
}

fn jwt_rules_info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-AUTHN-002",
        "RequestAuthentication fetches keys over plain HTTP or accepts tokens for any audience",
        Severity::High,
        "authentication",
        &[REQUEST_AUTHENTICATION],
    )
    .description(
        "A `jwtRules` entry whose `jwksUri` is `http://` fetches the signing keys in the \
         clear: whoever can tamper with that path substitutes keys and mints accepted tokens \
         (high). An entry without `audiences` accepts a token of the issuer minted for any \
         other application, so a token leaked by or phished for one service opens this one \
         (medium).",
    )
}

fn run_jwt_rules(ctx: &Ctx) -> CheckResult {
    let ras = match ctx.parsed::<Value>(REQUEST_AUTHENTICATION, "JWT rules") {
        Ok(r) => r,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    for (o, v) in &ras {
        let mut problems: Vec<(Severity, String)> = Vec::new();
        for (i, rule) in v
            .pointer("/spec/jwtRules")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let issuer = rule
                .get("issuer")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if let Some(uri) = rule.get("jwksUri").and_then(Value::as_str) {
                if uri.to_ascii_lowercase().starts_with("http://") {
                    problems.push((
                        Severity::High,
                        format!("spec.jwtRules[{i}] ({issuer}) jwksUri {uri} is plain HTTP"),
                    ));
                }
            }
            if rule
                .get("audiences")
                .and_then(Value::as_array)
                .is_none_or(|a| a.is_empty())
            {
                problems.push((
                    Severity::Medium,
                    format!("spec.jwtRules[{i}] ({issuer}) has no audiences: tokens minted for any application are accepted"),
                ));
            }
        }
        let Some(f) = ctx.problems(
            &o.target,
            "RequestAuthentication accepts tokens it should not",
            &problems,
        ) else {
            continue;
        };
        let f = f
            .remediation(
                "Fetch keys over https and pin the audiences this service accepts.",
                Some(
                    kridik_sdk::yaml::header("security.istio.io/v1", "RequestAuthentication", &o.target.namespace, &o.target.name)
                        + "spec:\n  # keep selector or targetRefs\n  jwtRules:\n  - issuer: https://issuer.example.com\n    jwksUri: https://issuer.example.com/.well-known/jwks.json\n    audiences: [\"this-service\"]\n",
                ),
            )
            .reference("https://istio.io/latest/docs/reference/config/security/jwt/");
        findings.push(f);
    }
    Ok(findings)
}

/// This area's checks, exported with the rest of the built-in pack by
/// `checks/pack` (one component, so the model is decoded once for all).
pub const CHECKS: &[Check] = &[
    Check {
        info: unmatched_info,
        run: run_unmatched,
    },
    Check {
        info: unenrolled_info,
        run: run_unenrolled,
    },
    Check {
        info: shared_identity_info,
        run: run_shared_identity,
    },
    Check {
        info: jwks_info,
        run: run_jwks,
    },
    Check {
        info: jwt_rules_info,
        run: run_jwt_rules,
    },
];

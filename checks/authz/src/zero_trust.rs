//! Zero Trust audit of AuthorizationPolicies: rules that do not mean what they
//! say, or that depend on something the mesh does not provide.

use crate::{enforced, fields_in, header_yaml, sets_any, Policy, Side, AP_DOCS, AP_KIND};
use kridik_sdk::kinds::{Condition, Rule, REQUEST_AUTHENTICATION};
use kridik_sdk::prelude::*;
use kridik_sdk::{MeshConfig, PathNormalization};
use serde_json::Value;

/// Attributes Envoy only has for HTTP traffic.
const HTTP_ONLY: &[&str] = &[
    "paths",
    "notPaths",
    "methods",
    "notMethods",
    "hosts",
    "notHosts",
];

fn policies(ctx: &Ctx, what: &str) -> Result<Vec<Parsed<Policy>>, Box<kridik_sdk::Finding>> {
    ctx.parsed::<Policy>(AP_KIND, what)
}

/// Every `when` condition of the rules: (rule index, condition index, key, condition).
fn conditions(rules: &[Rule]) -> impl Iterator<Item = (usize, usize, &str, &Condition)> {
    rules.iter().enumerate().flat_map(|(i, rule)| {
        rule.when
            .iter()
            .enumerate()
            .map(move |(j, c)| (i, j, c.key(), c))
    })
}

fn has_ports(rule: &Rule) -> bool {
    rule.operations()
        .any(|op| !op.ports.is_empty() || !op.not_ports.is_empty())
}

pub fn normalization_info() -> CheckInfo {
    kridik_sdk::info(
        "IST-AUTHZ-004",
        "Path-based policies without strict path normalization",
        Severity::Medium,
        "authorization",
        &[AP_KIND],
    )
    .description(
        "AuthorizationPolicies that match `paths` compare against the normalized path. \
         With `meshConfig.pathNormalization` NONE or BASE (the default), `//admin` or \
         `/%2Fadmin` can slip past a rule on `/admin` (ISTIO-SECURITY-2021-005). High with \
         NONE, medium with BASE.",
    )
}

pub fn run_normalization(ctx: &Ctx) -> CheckResult {
    let aps = match policies(ctx, "Path normalization") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mesh = ctx.mesh_config();
    let severity = match mesh.path_normalization {
        PathNormalization::None => Severity::High,
        PathNormalization::Base => Severity::Medium,
        _ => return Ok(vec![]),
    };
    let users: Vec<&Object> = aps
        .iter()
        .filter(|(o, p)| enforced(o) && sets_any(p.spec.rules(), Side::To, &["paths", "notPaths"]))
        .map(|(o, _)| *o)
        .collect();
    if users.is_empty() {
        return Ok(vec![]);
    }
    let object = mesh
        .source
        .clone()
        .unwrap_or_else(|| ObjectRef::namespace(&mesh.root_namespace));
    let mode = if mesh.path_normalization == PathNormalization::None {
        "NONE"
    } else {
        "BASE"
    };
    let mut f = ctx
        .finding(severity, &object, "Path-based policies without strict path normalization")
        .confidence(if mesh.source.is_some() { ctx.observed() } else { Confidence::Inferred })
        .message(format!(
            "meshConfig.pathNormalization is {mode}{} while {} AuthorizationPolicy(ies) match on \
             paths: variants such as //admin or %2Fadmin may not match the rules.",
            if mesh.source.is_some() { "" } else { " (Istio's default; no mesh config in the snapshot)" },
            users.len()
        ))
        .remediation(
            "Normalize paths mesh-wide before policies see them.",
            Some("meshConfig:\n  pathNormalization:\n    normalization: MERGE_SLASHES  # or DECODE_AND_MERGE_SLASHES\n".into()),
        )
        .reference("https://istio.io/latest/docs/ops/best-practices/security/#understand-path-normalization-in-authorization-policy");
    for o in users.iter().take(10) {
        f = f.evidence(ctx.observed(), Some(&o.target), "matches on paths");
    }
    Ok(vec![f])
}

pub fn wildcard_info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-AUTHZ-002",
        "ALLOW rule grants wildcard principals, namespaces or the default service account",
        Severity::Medium,
        "authorization",
        &[AP_KIND],
    )
    .description(
        "`principals: [\"*\"]` or `namespaces: [\"*\"]` allows any workload with a mesh \
         certificate, and prefix wildcards (`cluster.local/ns/*`) or the `default` service \
         account grant access to workloads nobody reviewed. Least privilege names the \
         calling identities. Medium: the grant is wider than intended but still requires \
         mesh identity.",
    )
}

pub fn run_wildcard(ctx: &Ctx) -> CheckResult {
    let aps = match policies(ctx, "Wildcard grants") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    for (o, p) in &aps {
        if !p.spec.is_allow() || p.spec.provider.is_some() {
            continue;
        }
        let mut broad = Vec::new();
        for (i, rule) in p.spec.rules().iter().enumerate() {
            for (j, source) in rule.sources().enumerate() {
                for key in ["principals", "namespaces"] {
                    for v in source.field(key) {
                        let wide = v == "*"
                            || (key == "principals"
                                && (v.ends_with("/sa/default")
                                    || v.ends_with("/*")
                                    || v.starts_with('*')))
                            || (key == "namespaces" && (v.starts_with('*') || v.ends_with('*')));
                        if wide {
                            broad.push(format!("rules[{i}].from[{j}].source.{key} has {v:?}"));
                        }
                    }
                }
            }
        }
        if broad.is_empty() {
            continue;
        }
        let mut f = ctx
            .finding(Severity::Medium, &o.target, "ALLOW rule grants wildcard or default identities")
            .confidence(ctx.observed())
            .message(format!("{} allows callers by wildcard or default identity: {}.", o.target.display(), broad.join("; ")))
            .remediation(
                "Name the calling workloads' service accounts.",
                Some(header_yaml(o, &p.spec) + &format!(
                    "  action: ALLOW\n  rules:\n  - from:\n    - source:\n        principals: [\"cluster.local/ns/{}/sa/CALLER\"]  # each real caller\n",
                    o.target.namespace
                )),
            )
            .reference(AP_DOCS);
        for b in &broad {
            f = f.evidence(ctx.observed(), Some(&o.target), b);
        }
        findings.push(f);
    }
    Ok(findings)
}

pub fn jwt_info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-AUTHZ-003",
        "RequestAuthentication without an AuthorizationPolicy requiring a token",
        Severity::High,
        "authentication",
        &[REQUEST_AUTHENTICATION, AP_KIND],
    )
    .description(
        "RequestAuthentication only rejects invalid tokens: a request with no token at all \
         passes unless an AuthorizationPolicy requires `requestPrincipals` (or \
         `request.auth.*` conditions) for the same workloads. High: anonymous requests \
         reach workloads the team believes are protected by JWT.",
    )
}

pub fn run_jwt(ctx: &Ctx) -> CheckResult {
    let aps = match policies(ctx, "JWT enforcement") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let ras = match ctx.objects(REQUEST_AUTHENTICATION) {
        Ok(r) => r,
        Err(missing) => {
            return Ok(vec![
                ctx.unknown(&missing, "JWT enforcement could not be assessed")
            ])
        }
    };
    // Policies that make a token necessary: ALLOW with requestPrincipals or
    // request.auth conditions, or DENY with notRequestPrincipals.
    let requiring: std::collections::BTreeSet<(&str, &str)> = aps
        .iter()
        .filter(|(o, p)| {
            let rules = p.spec.rules();
            enforced(o)
                && ((p.spec.is_allow()
                    && (sets_any(rules, Side::From, &["requestPrincipals"])
                        || conditions(rules)
                            .any(|(_, _, key, _)| key.starts_with("request.auth."))))
                    || (p.spec.action.as_deref() == Some("DENY")
                        && sets_any(rules, Side::From, &["notRequestPrincipals"])))
        })
        .map(|(o, _)| (o.target.namespace.as_str(), o.target.name.as_str()))
        .collect();
    let mut findings = Vec::new();
    for ra in ras {
        let open: Vec<&Workload> = ctx
            .selected(&ra.target)
            .into_iter()
            .filter(|w| {
                !w.authorization_policies
                    .iter()
                    .any(|p| requiring.contains(&(p.namespace.as_str(), p.name.as_str())))
            })
            .collect();
        if open.is_empty() {
            continue;
        }
        let mut f = ctx
            .finding(Severity::High, &ra.target, "JWT validated but not required: anonymous requests pass")
            .confidence(kridik_sdk::weakest(open.iter().map(|w| w.enrollment.confidence)))
            .message(format!(
                "{} validates tokens for {} workload(s), but no AuthorizationPolicy requires a \
                 request principal for {}: requests without a token are allowed.",
                ra.target.display(),
                open.len(),
                open.iter().take(5).map(|w| w.id.as_str()).collect::<Vec<_>>().join(", ")
            ))
            .remediation(
                "Add an ALLOW policy that requires a valid token (requestPrincipals) on the same workloads.",
                Some(format!(
                    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: require-jwt\n  namespace: {}\nspec:\n  # same selector as the RequestAuthentication\n  action: ALLOW\n  rules:\n  - from:\n    - source:\n        requestPrincipals: [\"ISSUER/*\"]  # the issuers you accept\n",
                    ra.target.namespace
                )),
            )
            .reference("https://istio.io/latest/docs/tasks/security/authentication/authn-policy/#require-a-valid-token");
        for w in open.iter().take(10) {
            f = f.evidence(
                w.enrollment.confidence,
                Some(&w.target),
                &format!("{}: no policy requires requestPrincipals", w.id),
            );
        }
        findings.push(f);
    }
    Ok(findings)
}

pub fn tcp_deny_info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-AUTHZ-004",
        "DENY rule on HTTP-only attributes without ports",
        Severity::Low,
        "authorization",
        &[AP_KIND],
    )
    .description(
        "HTTP-only attributes (paths, methods, hosts, requestPrincipals, request.* \
         conditions) do not exist for TCP traffic; for a DENY rule Istio drops them and the \
         rule matches differently than written on every TCP port of the workload. Pin the \
         rule to the HTTP ports with `ports`. Low: behaviour differs from intent, usually \
         by denying more. Rules whose HTTP matches are all negative (`notPaths`, \
         `notRequestPrincipals: [\"*\"]`) are left alone: denying TCP traffic, which can \
         carry neither, is what they mean.",
    )
}

/// A rule that names HTTP values to deny (`paths`, `methods`, `hosts`,
/// `requestPrincipals`, a `request.*` condition's `values`). Dropped on TCP,
/// such a rule denies far more than it names. A rule whose HTTP fields are
/// only negative (`notPaths`, `notRequestPrincipals: ["*"]`: "deny unless")
/// denies TCP traffic outright, which is its intent: TCP can carry neither
/// the path nor the token it asks for (istio.io's own hardened examples).
fn positive_l7(rule: &Rule) -> bool {
    rule.operations().any(|op| {
        ["paths", "methods", "hosts"]
            .iter()
            .any(|k| !op.field(k).is_empty())
    }) || rule
        .sources()
        .any(|s| !s.field("requestPrincipals").is_empty())
        || rule
            .when
            .iter()
            .any(|c| c.key().starts_with("request.") && !c.values.is_empty())
}

pub fn run_tcp_deny(ctx: &Ctx) -> CheckResult {
    let aps = match policies(ctx, "DENY rules on TCP") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    for (o, p) in &aps {
        if p.spec.action.as_deref() != Some("DENY") {
            continue;
        }
        let rules = p.spec.rules();
        let loose: Vec<String> = rules
            .iter()
            .enumerate()
            .filter(|(_, r)| !has_ports(r) && positive_l7(r))
            .map(|(i, _)| format!("rules[{i}]"))
            .collect();
        if loose.is_empty() {
            continue;
        }
        findings.push(
            ctx.finding(Severity::Low, &o.target, "DENY rule on HTTP-only attributes without ports")
                .confidence(ctx.observed())
                .message(format!(
                    "{} {} match on HTTP-only attributes but set no ports: on TCP traffic Istio \
                     ignores those attributes.",
                    o.target.display(),
                    loose.join(", ")
                ))
                .evidence(ctx.observed(), Some(&o.target), &format!("{} without to.operation.ports", loose.join(", ")))
                .remediation(
                    "Add the HTTP ports to each DENY rule.",
                    Some(header_yaml(o, &p.spec) + "  action: DENY\n  rules:\n  - to:\n    - operation:\n        ports: [\"8080\"]  # the workload's HTTP port(s)\n        paths: [\"/admin*\"]\n"),
                )
                .reference("https://istio.io/latest/docs/ops/configuration/security/security-policy-examples/"),
        );
    }
    Ok(findings)
}

pub fn custom_info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-AUTHZ-005",
        "CUSTOM authorization names an undefined provider or one that fails open",
        Severity::High,
        "authorization",
        &[AP_KIND],
    )
    .description(
        "An AuthorizationPolicy with `action: CUSTOM` delegates to `provider.name`, which \
         must be one of `meshConfig.extensionProviders`. With an unknown provider the \
         external authorization the policy promises does not run as intended (Istio \
         rejects the policy or denies the requests): high, an authorization layer is \
         missing or the workload is down. A provider with `failOpen: true` \
         (`envoyExtAuthzHttp`/`envoyExtAuthzGrpc`) lets every request through while the \
         authorizer is down or slow, which an attacker can provoke: medium.",
    )
}

pub fn run_custom(ctx: &Ctx) -> CheckResult {
    let aps = match policies(ctx, "CUSTOM providers") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mesh: MeshConfig = ctx.mesh_config();
    let known: Vec<&str> = mesh
        .extension_providers
        .iter()
        .map(|p| p.name.as_str())
        .collect();
    let mut findings = Vec::new();
    for (o, p) in &aps {
        if p.spec.action.as_deref() != Some("CUSTOM") {
            continue;
        }
        let name = p
            .spec
            .provider
            .as_ref()
            .and_then(|v| v.get("name"))
            .and_then(Value::as_str)
            .unwrap_or("");
        if known.contains(&name) {
            findings.extend(fail_open(ctx, &mesh, o, name));
            continue;
        }
        let confidence = if mesh.source.is_some() {
            ctx.observed()
        } else {
            Confidence::Inferred
        };
        findings.push(
            ctx.finding(Severity::High, &o.target, "CUSTOM provider is not defined in meshConfig")
                .confidence(confidence)
                .message(format!(
                    "{} delegates to provider {name:?}, but meshConfig.extensionProviders has {}.",
                    o.target.display(),
                    if known.is_empty() { "none".to_string() } else { known.join(", ") }
                ))
                .evidence(ctx.observed(), Some(&o.target), &format!("spec.provider.name is {name:?}"))
                .evidence(confidence, mesh.source.as_ref(), "no extension provider with that name")
                .remediation(
                    "Define the provider in meshConfig (or fix the name in the policy).",
                    Some(format!(
                        "meshConfig:\n  extensionProviders:\n  - name: {}\n    envoyExtAuthzHttp:\n      service: ext-authz.{}.svc.cluster.local\n      port: 8000\n",
                        if name.is_empty() { "ext-authz" } else { name },
                        o.target.namespace
                    )),
                )
                .reference("https://istio.io/latest/docs/tasks/security/authorization/authz-custom/"),
        );
    }
    Ok(findings)
}

/// A CUSTOM policy whose provider lets requests through when the authorizer fails.
fn fail_open(ctx: &Ctx, mesh: &MeshConfig, o: &Object, name: &str) -> Option<kridik_sdk::Finding> {
    let config: Value = serde_json::from_str(&mesh.json).unwrap_or_default();
    let provider = config
        .get("extensionProviders")
        .and_then(Value::as_array)?
        .iter()
        .find(|p| p.get("name").and_then(Value::as_str) == Some(name))?;
    let kind = ["envoyExtAuthzHttp", "envoyExtAuthzGrpc"]
        .into_iter()
        .find(|k| {
            provider
                .pointer(&format!("/{k}/failOpen"))
                .and_then(Value::as_bool)
                == Some(true)
        })?;
    Some(
        ctx.finding(Severity::Medium, &o.target, "CUSTOM provider fails open")
            .confidence(ctx.observed())
            .message(format!(
                "{} delegates to provider {name:?}, whose {kind}.failOpen is true: while the authorizer is unreachable or times out, every request is allowed.",
                o.target.display()
            ))
            .evidence(ctx.observed(), mesh.source.as_ref(), &format!("meshConfig.extensionProviders[{name}].{kind}.failOpen: true"))
            .evidence(ctx.observed(), Some(&o.target), "action: CUSTOM")
            .remediation(
                "Fail closed: remove failOpen (the default is false) and run the authorizer with enough replicas.",
                Some(format!(
                    "meshConfig:\n  extensionProviders:\n  - name: {name}\n    {kind}:\n      # keep service and port\n      failOpen: false\n"
                )),
            )
            .reference("https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#MeshConfig-ExtensionProvider-EnvoyExternalAuthorizationHttpProvider"),
    )
}

pub fn dry_run_info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-AUTHZ-006",
        "AuthorizationPolicy left in dry-run (not enforced)",
        Severity::Low,
        "authorization",
        &[AP_KIND],
    )
    .description(
        "`istio.io/dry-run: \"true\"` only logs what a policy would do. Left in place, the \
         policy looks like protection in reviews but enforces nothing. Medium for DENY \
         policies (the block they describe is not happening), low otherwise.",
    )
}

pub fn run_dry_run(ctx: &Ctx) -> CheckResult {
    let aps = match policies(ctx, "Dry-run policies") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    Ok(aps
        .iter()
        .filter(|(o, _)| !enforced(o))
        .map(|(o, p)| {
            let deny = p.spec.action.as_deref() == Some("DENY");
            ctx.finding(if deny { Severity::Medium } else { Severity::Low }, &o.target, "AuthorizationPolicy is in dry-run")
                .confidence(ctx.observed())
                .message(format!(
                    "{} ({}) has istio.io/dry-run=\"true\": it is evaluated for logs only and enforces nothing.",
                    o.target.display(),
                    p.spec.action.as_deref().unwrap_or("ALLOW")
                ))
                .evidence(ctx.observed(), Some(&o.target), "annotation istio.io/dry-run is \"true\"")
                .remediation(
                    "Review the dry-run logs, then remove the annotation to enforce (or delete the policy).",
                    Some(format!(
                        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: {}\n  namespace: {}\n  annotations: {{}}  # istio.io/dry-run removed\n",
                        o.target.name, o.target.namespace
                    )),
                )
                .reference("https://istio.io/latest/docs/tasks/security/authorization/authz-dry-run/")
        })
        .collect())
}

pub fn plaintext_principal_info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-AUTHZ-007",
        "Identity-based rule on workloads that accept plaintext",
        Severity::Medium,
        "authorization",
        &[AP_KIND],
    )
    .description(
        "`principals`, `namespaces`, `serviceAccounts`, `trustDomains` (and their `not` \
         forms) and the `when` keys `source.principal`, `source.namespace`, \
         `source.serviceAccount` and `source.trustDomain` come from the peer's mTLS \
         certificate (pilot/pkg/security/authz/model/model.go). On a workload or port whose \
         effective mTLS is PERMISSIVE or DISABLE (port-level modes and uncaptured ports \
         included), plaintext callers have no identity: a DENY rule on a positive match \
         silently lets them through, and an ALLOW rule on a negative match (`notNamespaces`, \
         `notValues`) admits them (both high); an ALLOW rule on a positive match denies them \
         only because they lack an identity (medium: the protection depends on the mTLS \
         mode, not on the policy).",
    )
}

const IDENTITY_SOURCE: &[&str] = &[
    "principals",
    "namespaces",
    "serviceAccounts",
    "trustDomains",
];
const NOT_IDENTITY_SOURCE: &[&str] = &[
    "notPrincipals",
    "notNamespaces",
    "notServiceAccounts",
    "notTrustDomains",
];
const IDENTITY_WHEN: &[&str] = &[
    "source.principal",
    "source.namespace",
    "source.serviceAccount",
    "source.trustDomain",
];

/// The identity matches of the rules, positive and negative, as field paths.
fn identity_matches(rules: &[Rule]) -> (Vec<String>, Vec<String>) {
    let paths = |fields| -> Vec<String> {
        fields_in(rules, Side::From, fields)
            .into_iter()
            .map(|(_, f)| f)
            .collect()
    };
    let (mut positive, mut negative) = (paths(IDENTITY_SOURCE), paths(NOT_IDENTITY_SOURCE));
    for (i, j, key, c) in conditions(rules) {
        if !IDENTITY_WHEN.contains(&key) {
            continue;
        }
        if !c.values.is_empty() {
            positive.push(format!("rules[{i}].when[{j}] {key}"));
        }
        if !c.not_values.is_empty() {
            negative.push(format!("rules[{i}].when[{j}] {key} notValues"));
        }
    }
    (positive, negative)
}

/// Where a workload accepts plaintext: its mode, or the ports that do.
fn plaintext_ports(w: &Workload) -> Option<String> {
    if w.mtls.mode != MtlsMode::Strict {
        return Some(format!("{} {}", w.id, w.mtls.mode.as_str()));
    }
    let ports: Vec<String> = w
        .mtls
        .ports
        .iter()
        .filter(|p| p.mode != MtlsMode::Strict)
        .map(|p| format!("port {} {}", p.port, p.mode.as_str()))
        .collect();
    (!ports.is_empty()).then(|| format!("{} {}", w.id, ports.join(", ")))
}

pub fn run_plaintext_principal(ctx: &Ctx) -> CheckResult {
    let aps = match policies(ctx, "Identity rules on plaintext workloads") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    for (o, p) in &aps {
        if p.spec.provider.is_some() {
            continue;
        }
        // The plaintext workloads first: most policies select none, and then
        // the rules' field paths need not be written out.
        let weak: Vec<(&Workload, String)> = ctx
            .selected(&o.target)
            .into_iter()
            .filter(|w| w.enrolled())
            .filter_map(|w| plaintext_ports(w).map(|why| (w, why)))
            .collect();
        if weak.is_empty() {
            continue;
        }
        let (positive, negative) = identity_matches(p.spec.rules());
        if positive.is_empty() && negative.is_empty() {
            continue;
        }
        let deny = p.spec.action.as_deref() == Some("DENY");
        let (severity, ids, effect) = match (deny, positive.is_empty(), negative.is_empty()) {
            (true, false, _) => (
                Severity::High,
                &positive,
                "plaintext callers have no identity, so the DENY never matches them",
            ),
            (false, _, false) => (
                Severity::High,
                &negative,
                "plaintext callers have no identity, so the negative match holds for them and the ALLOW admits them",
            ),
            (false, false, true) => (
                Severity::Medium,
                &positive,
                "plaintext callers are denied only because they have no identity",
            ),
            // A DENY on negative matches catches plaintext callers: fails closed.
            _ => continue,
        };
        let mut f = ctx
            .finding(severity, &o.target, "Identity-based rule on workloads that accept plaintext")
            .confidence(kridik_sdk::weakest(weak.iter().map(|(w, _)| w.mtls.confidence)))
            .message(format!(
                "{} matches on {} but {} selected workload(s) accept plaintext ({}): {effect}.",
                o.target.display(),
                ids.join(", "),
                weak.len(),
                weak.iter().take(5).map(|(_, why)| why.as_str()).collect::<Vec<_>>().join("; "),
            ))
            .remediation(
                "Make the workloads STRICT on every port (no PERMISSIVE/DISABLE port-level override, no excluded inbound port) so identities are always present.",
                Some(format!(
                    "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: default\n  namespace: {}\nspec:\n  mtls:\n    mode: STRICT\n",
                    o.target.namespace
                )),
            )
            .reference("https://istio.io/latest/docs/ops/best-practices/security/#mutual-tls");
        for (w, why) in weak.iter().take(10) {
            f = f.evidence(
                w.mtls.confidence,
                Some(&w.target),
                &format!("{why} ({})", w.mtls.reason),
            );
        }
        findings.push(f);
    }
    Ok(findings)
}

pub fn waypoint_info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-AUTHZ-008",
        "Selector policy with HTTP rules on ambient workloads (ztunnel enforces L4 only)",
        Severity::High,
        "authorization",
        &[AP_KIND],
    )
    .description(
        "On ambient workloads a selector, namespace or mesh-wide AuthorizationPolicy is \
         enforced by ztunnel, never by a waypoint (pilot/pkg/model/policyattachment.go), and \
         istiod sends ztunnel only the L4 parts, rule by rule (`handleRule`, \
         pilot/pkg/serviceregistry/ambient/authorization.go): an ALLOW rule with an HTTP \
         attribute (paths, methods, hosts, requestPrincipals, remoteIpBlocks, request.* and \
         other non-L4 `when` keys) is dropped and allows nothing; in a DENY rule those \
         attributes and `trustDomains` are left out, and a rule left with an empty clause is \
         a no-op. High when a DENY rule does nothing (the block is absent), medium when ALLOW \
         rules are dropped (callers meant to be allowed are refused, which invites loosening \
         the policy), low when a DENY is enforced more broadly than written. Attach HTTP \
         policies to a waypoint with `targetRefs`.",
    )
}

const L4_WHEN: &[&str] = &[
    "source.ip",
    "source.namespace",
    "source.principal",
    "destination.ip",
    "destination.port",
];
const ZTUNNEL_SOURCE: &[&str] = &[
    "principals",
    "notPrincipals",
    "namespaces",
    "notNamespaces",
    "serviceAccounts",
    "notServiceAccounts",
    "ipBlocks",
    "notIpBlocks",
];
const HTTP_SOURCE: &[&str] = &[
    "requestPrincipals",
    "notRequestPrincipals",
    "remoteIpBlocks",
    "notRemoteIpBlocks",
];

/// What ztunnel does with one rule after istiod's translation.
#[derive(PartialEq)]
enum AtZtunnel {
    AsWritten,
    /// ALLOW rule with HTTP attributes: dropped, allows nothing.
    Dropped(Vec<String>),
    /// DENY rule left with an empty clause: never fires.
    NoOp(Vec<String>),
    /// DENY rule enforced without its HTTP attributes: blocks more.
    Broadened(Vec<String>),
    /// ALLOW rule whose `trustDomains` ztunnel never sees: admits other trust domains.
    Widened(Vec<String>),
}

fn at_ztunnel(deny: bool, i: usize, rule: &Rule) -> AtZtunnel {
    let mut http: Vec<String> = Vec::new();
    let mut empty_clause = false;
    for op in rule.operations() {
        for k in HTTP_ONLY.iter().filter(|k| !op.field(k).is_empty()) {
            http.push(format!("rules[{i}].to.operation.{k}"));
        }
    }
    if !rule.to.is_empty() && !has_ports(rule) {
        empty_clause = true;
    }
    for source in rule.sources() {
        for k in HTTP_SOURCE.iter().filter(|k| !source.field(k).is_empty()) {
            http.push(format!("rules[{i}].from.source.{k}"));
        }
        for k in ["trustDomains", "notTrustDomains"]
            .iter()
            .filter(|k| !source.field(k).is_empty())
        {
            http.push(format!(
                "rules[{i}].from.source.{k} (not translated for ztunnel)"
            ));
        }
    }
    if !rule.from.is_empty()
        && !rule
            .sources()
            .any(|s| ZTUNNEL_SOURCE.iter().any(|k| !s.field(k).is_empty()))
    {
        empty_clause = true;
    }
    for (_, j, key, _) in conditions(std::slice::from_ref(rule)) {
        if !L4_WHEN.contains(&key) {
            http.push(format!("rules[{i}].when[{j}] {key}"));
            empty_clause = true;
        }
    }
    let allow_l7 = http
        .iter()
        .any(|h| !h.ends_with("(not translated for ztunnel)"));
    match (deny, http.is_empty()) {
        (_, true) if !empty_clause => AtZtunnel::AsWritten,
        (false, _) if allow_l7 => AtZtunnel::Dropped(http),
        (false, _) if empty_clause => AtZtunnel::Dropped(http),
        (false, _) => AtZtunnel::Widened(http),
        (true, _) if empty_clause => AtZtunnel::NoOp(http),
        (true, _) => AtZtunnel::Broadened(http),
    }
}

pub fn run_waypoint(ctx: &Ctx) -> CheckResult {
    let aps = match policies(ctx, "Ambient L7 policies") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let mut findings = Vec::new();
    for (o, p) in &aps {
        if p.spec.provider.is_some() || !enforced(o) {
            continue;
        }
        let Some(scope) = ctx.policy(&o.target) else {
            continue;
        };
        if scope.scope == PolicyScope::TargetRefs {
            continue; // enforced by a waypoint or gateway, which speaks HTTP
        }
        let ambient: Vec<&Workload> = ctx
            .selected(&o.target)
            .into_iter()
            .filter(|w| w.enrollment.dataplane == Dataplane::Ambient)
            .collect();
        if ambient.is_empty() {
            continue;
        }
        let deny = p.spec.action.as_deref() == Some("DENY");
        let rules = p.spec.rules();
        let effects: Vec<AtZtunnel> = rules
            .iter()
            .enumerate()
            .map(|(i, r)| at_ztunnel(deny, i, r))
            .filter(|e| *e != AtZtunnel::AsWritten)
            .collect();
        let fields = |pick: fn(&AtZtunnel) -> Option<&Vec<String>>| -> Vec<String> {
            effects.iter().filter_map(pick).flatten().cloned().collect()
        };
        let noop = fields(|e| match e {
            AtZtunnel::NoOp(f) => Some(f),
            _ => None,
        });
        let dropped = fields(|e| match e {
            AtZtunnel::Dropped(f) => Some(f),
            _ => None,
        });
        let broadened = fields(|e| match e {
            AtZtunnel::Broadened(f) => Some(f),
            _ => None,
        });
        let widened = fields(|e| match e {
            AtZtunnel::Widened(f) => Some(f),
            _ => None,
        });
        let (severity, what) = if !noop.is_empty() {
            (
                Severity::High,
                format!(
                    "its DENY rule(s) with {} have no enforceable match left at ztunnel and block nothing",
                    noop.join(", ")
                ),
            )
        } else if !widened.is_empty() {
            (
                Severity::Medium,
                format!(
                    "ztunnel enforces its ALLOW rule(s) without {}, so peers of any trust domain match",
                    widened.join(", ")
                ),
            )
        } else if !dropped.is_empty() {
            (
                Severity::Medium,
                format!(
                    "its ALLOW rule(s) with {} are dropped at ztunnel and allow nothing",
                    dropped.join(", ")
                ),
            )
        } else if !broadened.is_empty() {
            (
                Severity::Low,
                format!(
                    "ztunnel enforces its DENY rule(s) without {}, so they block more than written",
                    broadened.join(", ")
                ),
            )
        } else {
            continue;
        };
        let with_waypoint = ambient.iter().filter(|w| w.waypoint.is_some()).count();
        let mut f = ctx
            .finding(severity, &o.target, "HTTP rules in a selector policy on ambient workloads")
            .confidence(kridik_sdk::weakest(ambient.iter().map(|w| w.enrollment.confidence)))
            .message(format!(
                "{} applies to ambient workload(s) {} through ztunnel, which enforces L4 only: {what}.{}",
                o.target.display(),
                ambient.iter().take(5).map(|w| w.id.as_str()).collect::<Vec<_>>().join(", "),
                if with_waypoint > 0 {
                    " Their waypoint does not help: waypoints never apply selector policies."
                } else {
                    ""
                }
            ))
            .remediation(
                "Deploy a waypoint, bind the Service to it (istio.io/use-waypoint) and attach the HTTP rules to the Service with targetRefs; keep only L4 rules (ports, principals, namespaces, ipBlocks) in selector policies.",
                Some(format!(
                    "# istioctl waypoint apply -n {ns} --enroll-namespace\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  targetRefs:\n  - kind: Service\n    group: \"\"\n    name: SERVICE  # the service the rules protect\n  # rules unchanged\n",
                    ns = o.target.namespace,
                    name = o.target.name
                )),
            )
            .reference("https://istio.io/latest/docs/ambient/usage/l7-features/");
        for w in ambient.iter().take(10) {
            f = f.evidence(
                w.enrollment.confidence,
                Some(&w.target),
                &format!(
                    "{} is ambient ({}){}",
                    w.id,
                    w.enrollment.reason,
                    w.waypoint
                        .as_ref()
                        .map(|wp| format!("; its waypoint {wp} ignores selector policies"))
                        .unwrap_or_default()
                ),
            );
        }
        findings.push(f);
    }
    Ok(findings)
}

pub fn token_deny_info() -> CheckInfo {
    kridik_sdk::info(
        "ZT-AUTHZ-009",
        "DENY on JWT claims is bypassed by requests without a token",
        Severity::Medium,
        "authorization",
        &[AP_KIND],
    )
    .description(
        "`requestPrincipals` and the `request.auth.*` conditions describe a validated JWT. A \
         request with no token has none of them, so a DENY rule that matches positive values \
         (`requestPrincipals: [\"evil-issuer/*\"]`, `request.auth.claims[groups]: [\"guest\"]`) \
         never matches it: sending no token at all bypasses the DENY, unless another policy \
         on the same workloads requires a token (a DENY with `notRequestPrincipals: [\"*\"]`). \
         Medium; one step higher when a selected workload is sensitive or reachable from \
         outside the mesh.",
    )
}

/// A DENY rule that refuses every request without a token.
fn requires_token(rule: &Rule) -> bool {
    rule.sources()
        .any(|s| s.not_request_principals.iter().any(|v| v == "*"))
        && rule.to.is_empty()
        && rule.when.is_empty()
}

pub fn run_token_deny(ctx: &Ctx) -> CheckResult {
    let aps = match policies(ctx, "Token-dependent DENY rules") {
        Ok(p) => p,
        Err(unknown) => return Ok(vec![*unknown]),
    };
    let deny = |p: &Policy| p.spec.action.as_deref() == Some("DENY");
    // Workloads on which some enforced DENY refuses token-less requests.
    let guarded: std::collections::BTreeSet<String> = aps
        .iter()
        .filter(|(o, p)| deny(p) && enforced(o))
        .filter(|(_, p)| p.spec.rules().iter().any(requires_token))
        .flat_map(|(o, _)| ctx.selected(&o.target).into_iter().map(|w| w.id.clone()))
        .collect();
    let mut findings = Vec::new();
    for (o, p) in aps.iter().filter(|(o, p)| deny(p) && enforced(o)) {
        let rules = p.spec.rules();
        let mut on_token: Vec<String> = fields_in(rules, Side::From, &["requestPrincipals"])
            .into_iter()
            .map(|(_, f)| f)
            .collect();
        on_token.extend(
            conditions(rules)
                .filter(|(_, _, k, c)| k.starts_with("request.auth.") && !c.values.is_empty())
                .map(|(i, j, k, _)| format!("rules[{i}].when[{j}] {k}")),
        );
        if on_token.is_empty() {
            continue;
        }
        let open: Vec<&Workload> = ctx
            .selected(&o.target)
            .into_iter()
            .filter(|w| !guarded.contains(&w.id))
            .collect();
        if open.is_empty() {
            continue;
        }
        let f = ctx
            .finding(Severity::Medium, &o.target, "DENY on JWT claims is bypassed by requests without a token")
            .confidence(ctx.observed())
            .message(format!(
                "{} denies on {} but nothing requires a token on {}: a request without any token matches no JWT condition and is not denied.",
                o.target.display(),
                on_token.join(", "),
                open.iter().take(5).map(|w| w.id.as_str()).collect::<Vec<_>>().join(", ")
            ))
            .evidence(ctx.observed(), Some(&o.target), &on_token.join(", "))
            .remediation(
                "Require a token first, then deny on its claims (or turn the rule into an ALLOW on the accepted claims).",
                Some(format!(
                    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: require-jwt\n  namespace: {}\nspec:\n  # same selector as {}\n  action: DENY\n  rules:\n  - from:\n    - source:\n        notRequestPrincipals: [\"*\"]\n",
                    o.target.namespace, o.target.name
                )),
            )
            .reference("https://istio.io/latest/docs/tasks/security/authentication/authn-policy/#require-a-valid-token");
        findings.push(f.raised(ctx.observed(), ctx.blast_radius(open)));
    }
    Ok(findings)
}

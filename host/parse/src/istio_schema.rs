//! What Istio would refuse: the schemas and validation rules of the security
//! kinds (PeerAuthentication, AuthorizationPolicy, RequestAuthentication,
//! whole), and the security enums of DestinationRule, Gateway, Sidecar and
//! ServiceEntry (TLS modes and versions, capture and outbound modes, location).
//! A typo such as `mode: PERMISIVE` is refused by the API server (the CRD's
//! enum) or by istiod's validating webhook, so the object never takes effect:
//! scanning it as a valid policy would report protection that does not exist.
//!
//! Written from Istio's CRD schemas (`manifests/charts/base/files/crd-all.gen.yaml`:
//! types, enums, `x-kubernetes-validations`) and istiod's webhook
//! (`pkg/config/validation/validation.go`: `ValidateAuthorizationPolicy`,
//! `ValidateRequestAuthentication`, `ValidatePeerAuthentication`).

use serde_json::Value;

/// Why an object does not pass.
#[derive(Debug, PartialEq, Eq)]
pub struct Problem {
    /// Istio refuses the object: it is not in force.
    pub rejects: bool,
    pub message: String,
}

/// The value shape a field must have (null always means "absent").
enum T {
    Str,
    Bool,
    Strs,
    Enum(&'static [&'static str]),
    /// A closed object: other fields are unknown (the API server prunes them).
    Obj(&'static [(&'static str, T)]),
    /// An object of which only these fields are checked (large APIs whose
    /// other fields no check reads).
    Open(&'static [(&'static str, T)]),
    List(&'static T),
    /// `matchLabels`: string to string.
    Labels,
    /// `portLevelMtls`: port number (as a string key) to a value.
    Ports(&'static T),
}

const SELECTOR: T = T::Obj(&[("matchLabels", T::Labels)]);
const TARGET_REF: T = T::Obj(&[
    ("group", T::Str),
    ("kind", T::Str),
    ("name", T::Str),
    ("namespace", T::Str),
]);
const MTLS_MODES: &[&str] = &["UNSET", "DISABLE", "PERMISSIVE", "STRICT"];
const MTLS: T = T::Obj(&[("mode", T::Enum(MTLS_MODES))]);

const PEER_AUTHENTICATION: T = T::Obj(&[
    ("selector", SELECTOR),
    ("mtls", MTLS),
    ("portLevelMtls", T::Ports(&MTLS)),
]);

const SOURCE: T = T::Obj(&[
    ("principals", T::Strs),
    ("notPrincipals", T::Strs),
    ("requestPrincipals", T::Strs),
    ("notRequestPrincipals", T::Strs),
    ("namespaces", T::Strs),
    ("notNamespaces", T::Strs),
    ("serviceAccounts", T::Strs),
    ("notServiceAccounts", T::Strs),
    ("trustDomains", T::Strs),
    ("notTrustDomains", T::Strs),
    ("ipBlocks", T::Strs),
    ("notIpBlocks", T::Strs),
    ("remoteIpBlocks", T::Strs),
    ("notRemoteIpBlocks", T::Strs),
]);
const OPERATION: T = T::Obj(&[
    ("hosts", T::Strs),
    ("notHosts", T::Strs),
    ("ports", T::Strs),
    ("notPorts", T::Strs),
    ("methods", T::Strs),
    ("notMethods", T::Strs),
    ("paths", T::Strs),
    ("notPaths", T::Strs),
]);
const RULE: T = T::Obj(&[
    ("from", T::List(&T::Obj(&[("source", SOURCE)]))),
    ("to", T::List(&T::Obj(&[("operation", OPERATION)]))),
    (
        "when",
        T::List(&T::Obj(&[
            ("key", T::Str),
            ("values", T::Strs),
            ("notValues", T::Strs),
        ])),
    ),
]);
const AUTHORIZATION_POLICY: T = T::Obj(&[
    ("selector", SELECTOR),
    ("targetRef", TARGET_REF),
    ("targetRefs", T::List(&TARGET_REF)),
    ("action", T::Enum(&["ALLOW", "DENY", "AUDIT", "CUSTOM"])),
    ("provider", T::Obj(&[("name", T::Str)])),
    ("rules", T::List(&RULE)),
]);

const JWT_RULE: T = T::Obj(&[
    ("issuer", T::Str),
    ("audiences", T::Strs),
    ("jwksUri", T::Str),
    ("jwks_uri", T::Str),
    ("jwks", T::Str),
    (
        "fromHeaders",
        T::List(&T::Obj(&[("name", T::Str), ("prefix", T::Str)])),
    ),
    ("fromParams", T::Strs),
    ("fromCookies", T::Strs),
    ("outputPayloadToHeader", T::Str),
    ("forwardOriginalToken", T::Bool),
    (
        "outputClaimToHeaders",
        T::List(&T::Obj(&[("header", T::Str), ("claim", T::Str)])),
    ),
    ("spaceDelimitedClaims", T::Strs),
    ("timeout", T::Str),
    ("presence", T::Enum(&["OPTIONAL", "REQUIRED"])),
]);
const REQUEST_AUTHENTICATION: T = T::Obj(&[
    ("selector", SELECTOR),
    ("targetRef", TARGET_REF),
    ("targetRefs", T::List(&TARGET_REF)),
    ("jwtRules", T::List(&JWT_RULE)),
]);

const TLS_MODES: T = T::Enum(&["DISABLE", "SIMPLE", "MUTUAL", "ISTIO_MUTUAL"]);
const TRAFFIC_POLICY: T = T::Open(&[
    ("tls", T::Open(&[("mode", TLS_MODES)])),
    (
        "portLevelSettings",
        T::List(&T::Open(&[("tls", T::Open(&[("mode", TLS_MODES)]))])),
    ),
    (
        "proxyProtocol",
        T::Open(&[("version", T::Enum(&["V1", "V2"]))]),
    ),
]);
const DESTINATION_RULE: T = T::Open(&[
    ("host", T::Str),
    ("trafficPolicy", TRAFFIC_POLICY),
    (
        "subsets",
        T::List(&T::Open(&[("trafficPolicy", TRAFFIC_POLICY)])),
    ),
    ("exportTo", T::Strs),
]);
const TLS_VERSIONS: T = T::Enum(&["TLS_AUTO", "TLSV1_0", "TLSV1_1", "TLSV1_2", "TLSV1_3"]);
const SERVER_TLS: T = T::Open(&[
    (
        "mode",
        T::Enum(&[
            "PASSTHROUGH",
            "SIMPLE",
            "MUTUAL",
            "AUTO_PASSTHROUGH",
            "ISTIO_MUTUAL",
            "OPTIONAL_MUTUAL",
        ]),
    ),
    ("minProtocolVersion", TLS_VERSIONS),
    ("maxProtocolVersion", TLS_VERSIONS),
    ("httpsRedirect", T::Bool),
]);
const GATEWAY: T = T::Open(&[
    ("selector", T::Labels),
    (
        "servers",
        T::List(&T::Open(&[("hosts", T::Strs), ("tls", SERVER_TLS)])),
    ),
]);
const CAPTURE: T = T::Enum(&["DEFAULT", "IPTABLES", "NONE"]);
const SIDECAR: T = T::Open(&[
    ("workloadSelector", T::Open(&[("labels", T::Labels)])),
    (
        "egress",
        T::List(&T::Open(&[("hosts", T::Strs), ("captureMode", CAPTURE)])),
    ),
    (
        "ingress",
        T::List(&T::Open(&[("captureMode", CAPTURE), ("tls", SERVER_TLS)])),
    ),
    (
        "outboundTrafficPolicy",
        T::Open(&[("mode", T::Enum(&["REGISTRY_ONLY", "ALLOW_ANY"]))]),
    ),
]);
const SERVICE_ENTRY: T = T::Open(&[
    ("hosts", T::Strs),
    ("location", T::Enum(&["MESH_EXTERNAL", "MESH_INTERNAL"])),
    (
        "resolution",
        T::Enum(&["NONE", "STATIC", "DNS", "DNS_ROUND_ROBIN", "DYNAMIC_DNS"]),
    ),
    ("exportTo", T::Strs),
]);

fn no_rules(_: &Value, _: &mut Vec<String>) {}

/// The problems of an object of kind `key`; empty for kinds not validated.
pub fn check(key: &str, body: &Value) -> Vec<Problem> {
    let (schema, rules): (&T, fn(&Value, &mut Vec<String>)) = match key {
        crate::kinds::PEER_AUTHENTICATION => (&PEER_AUTHENTICATION, peer_authentication),
        crate::kinds::AUTHORIZATION_POLICY => (&AUTHORIZATION_POLICY, authorization_policy),
        crate::kinds::REQUEST_AUTHENTICATION => (&REQUEST_AUTHENTICATION, request_authentication),
        crate::kinds::DESTINATION_RULE => (&DESTINATION_RULE, no_rules),
        crate::kinds::GATEWAY => (&GATEWAY, no_rules),
        crate::kinds::SIDECAR => (&SIDECAR, no_rules),
        crate::kinds::SERVICE_ENTRY => (&SERVICE_ENTRY, no_rules),
        _ => return Vec::new(),
    };
    let spec = match body.get("spec") {
        None | Some(Value::Null) => return Vec::new(),
        Some(spec) => spec,
    };
    let mut out = Vec::new();
    let mut rejected = Vec::new();
    let mut unknown = Vec::new();
    shape(schema, spec, &Path::Root, &mut rejected, &mut unknown);
    // The webhook's rules read the fields the schema let through.
    if rejected.is_empty() {
        rules(spec, &mut rejected);
    }
    out.extend(rejected.into_iter().map(|message| Problem {
        rejects: true,
        message,
    }));
    out.extend(unknown.into_iter().map(|path| Problem {
        rejects: false,
        message: format!("unknown field {path}"),
    }));
    out
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

/// Where a value is (`spec.rules[0].from`), built on the stack and only
/// written out for a problem: the walk allocates nothing for a valid object.
#[derive(Clone, Copy)]
enum Path<'a> {
    Root,
    Key(&'a Path<'a>, &'a str),
    Index(&'a Path<'a>, usize),
}

impl std::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            Path::Root => f.write_str("spec"),
            Path::Key(parent, k) => write!(f, "{parent}.{}", crate::printable::line(k)),
            Path::Index(parent, i) => write!(f, "{parent}[{i}]"),
        }
    }
}

fn shape(t: &T, v: &Value, path: &Path, rejected: &mut Vec<String>, unknown: &mut Vec<String>) {
    if v.is_null() {
        return;
    }
    let wrong = |want: &str, rejected: &mut Vec<String>| {
        rejected.push(format!("{path} is {}, not {want}", type_name(v)));
    };
    match t {
        T::Str => {
            if !v.is_string() {
                wrong("a string", rejected)
            }
        }
        T::Bool => {
            if !v.is_boolean() {
                wrong("a boolean", rejected)
            }
        }
        T::Strs => match v.as_array() {
            Some(items) => {
                for (i, item) in items.iter().enumerate() {
                    if !item.is_string() {
                        rejected.push(format!("{path}[{i}] is {}, not a string", type_name(item)));
                    }
                }
            }
            None => wrong("a list of strings", rejected),
        },
        T::Enum(values) => match v.as_str() {
            Some(s) if values.contains(&s) => {}
            Some(s) => rejected.push(format!(
                "{path} `{}` is not one of {}",
                crate::printable::line(s),
                values.join(", ")
            )),
            None => wrong("a string", rejected),
        },
        T::Obj(fields) => match v.as_object() {
            Some(map) => {
                for (k, child) in map {
                    let child_path = Path::Key(path, k);
                    match fields.iter().find(|(name, _)| name == k) {
                        Some((_, t)) => shape(t, child, &child_path, rejected, unknown),
                        None => unknown.push(child_path.to_string()),
                    }
                }
            }
            None => wrong("an object", rejected),
        },
        T::Open(fields) => match v.as_object() {
            Some(map) => {
                for (name, t) in fields.iter() {
                    if let Some(child) = map.get(*name) {
                        shape(t, child, &Path::Key(path, name), rejected, unknown);
                    }
                }
            }
            None => wrong("an object", rejected),
        },
        T::List(item) => match v.as_array() {
            Some(items) => {
                for (i, child) in items.iter().enumerate() {
                    shape(item, child, &Path::Index(path, i), rejected, unknown);
                }
            }
            None => wrong("a list", rejected),
        },
        T::Labels => match v.as_object() {
            Some(map) => {
                for (k, value) in map {
                    if !value.is_string() {
                        rejected.push(format!(
                            "{path}.{} is {}, not a string",
                            crate::printable::line(k),
                            type_name(value)
                        ));
                    }
                }
            }
            None => wrong("an object", rejected),
        },
        T::Ports(item) => match v.as_object() {
            Some(map) => {
                for (k, child) in map {
                    let child_path = Path::Key(path, k);
                    // CRD: `0 < int(key) && int(key) <= 65535`.
                    if !k.parse::<u32>().is_ok_and(|p| (1..=65535).contains(&p)) {
                        rejected.push(format!("{child_path}: a port must be between 1 and 65535"));
                    }
                    shape(item, child, &child_path, rejected, unknown);
                }
            }
            None => wrong("an object", rejected),
        },
    }
}

fn has(spec: &Value, field: &str) -> bool {
    spec.get(field).is_some_and(|v| !v.is_null())
}

/// A list field's length; None when absent (Go's nil), Some(0) when `[]`.
fn len(v: &Value, field: &str) -> Option<usize> {
    v.get(field).and_then(Value::as_array).map(Vec::len)
}

fn nonempty(v: &Value, field: &str) -> bool {
    len(v, field).is_some_and(|n| n > 0)
}

/// `validateOneOfSelectorType` and `validateWorkloadSelector` (shared by the
/// three kinds), and the targetRef rules of the CRD.
fn selection(spec: &Value, out: &mut Vec<String>) {
    let set = ["selector", "targetRef", "targetRefs"]
        .iter()
        .filter(|f| has(spec, f))
        .count();
    if set > 1 {
        out.push("only one of selector, targetRef or targetRefs can be set".into());
    }
    if let Some(labels) = spec
        .pointer("/selector/matchLabels")
        .and_then(Value::as_object)
    {
        for (k, v) in labels {
            if k.is_empty() {
                out.push("spec.selector.matchLabels: a key must not be empty".into());
            }
            if k.contains('*') || v.as_str().is_some_and(|v| v.contains('*')) {
                out.push(format!(
                    "spec.selector.matchLabels.{}: wildcards are not allowed in a selector",
                    crate::printable::line(k)
                ));
            }
        }
    }
    let refs = spec
        .get("targetRef")
        .into_iter()
        .chain(
            spec.get("targetRefs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten(),
        )
        .filter(|r| !r.is_null());
    for r in refs {
        let text = |f: &str| r.get(f).and_then(Value::as_str).unwrap_or_default();
        if text("kind").is_empty() || text("name").is_empty() {
            out.push("a targetRef needs a kind and a name".into());
        }
        if !text("namespace").is_empty() {
            out.push("a targetRef cannot name another namespace".into());
        }
    }
}

fn peer_authentication(spec: &Value, out: &mut Vec<String>) {
    selection(spec, out);
    let has_labels = spec
        .pointer("/selector/matchLabels")
        .and_then(Value::as_object)
        .is_some_and(|m| !m.is_empty());
    if has(spec, "portLevelMtls") && !has_labels {
        out.push("portLevelMtls requires a selector with matchLabels".into());
    }
}

fn authorization_policy(spec: &Value, out: &mut Vec<String>) {
    selection(spec, out);
    let action = spec
        .get("action")
        .and_then(Value::as_str)
        .unwrap_or("ALLOW");
    let rules = spec.get("rules").and_then(Value::as_array);
    // Go's `Rules == nil`: absent, or an empty list (protojson appends nothing).
    let no_rules = rules.is_none_or(|r| r.is_empty());
    let provider = spec
        .pointer("/provider/name")
        .and_then(Value::as_str)
        .unwrap_or_default();
    match action {
        "CUSTOM" if no_rules => out.push(
            "a CUSTOM action without rules is never triggered (add an empty rule `{}` for every request)".into(),
        ),
        "CUSTOM" if provider.is_empty() => out.push("a CUSTOM action needs provider.name".into()),
        "DENY" if no_rules => out.push(
            "a DENY action without rules is never triggered (add an empty rule `{}` for every request)".into(),
        ),
        _ => {}
    }
    if has(spec, "provider") && action != "CUSTOM" {
        out.push(format!(
            "provider is only for the CUSTOM action, not {action}"
        ));
    }
    for (i, rule) in rules.into_iter().flatten().enumerate() {
        if rule.is_null() {
            out.push(format!("rule {i} is null"));
            continue;
        }
        for from in rule
            .get("from")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(src) = from.get("source").filter(|s| !s.is_null()) else {
                out.push(format!("rule {i}: from.source must be set"));
                continue;
            };
            let fields = [
                "principals",
                "notPrincipals",
                "requestPrincipals",
                "notRequestPrincipals",
                "namespaces",
                "notNamespaces",
                "ipBlocks",
                "notIpBlocks",
                "remoteIpBlocks",
                "notRemoteIpBlocks",
                "serviceAccounts",
                "notServiceAccounts",
                "trustDomains",
                "notTrustDomains",
            ];
            if !fields.iter().any(|f| nonempty(src, f)) {
                out.push(format!("rule {i}: from.source must not be empty"));
            }
            let identities = ["principals", "notPrincipals", "namespaces", "notNamespaces"]
                .iter()
                .any(|f| nonempty(src, f));
            let accounts = nonempty(src, "serviceAccounts") || nonempty(src, "notServiceAccounts");
            if identities && accounts {
                out.push(format!(
                    "rule {i}: serviceAccounts cannot be set with namespaces or principals"
                ));
            }
            if action == "CUSTOM" {
                for f in [
                    "namespaces",
                    "notNamespaces",
                    "serviceAccounts",
                    "notServiceAccounts",
                    "trustDomains",
                    "notTrustDomains",
                    "principals",
                    "notPrincipals",
                    "requestPrincipals",
                    "notRequestPrincipals",
                ] {
                    if nonempty(src, f) {
                        out.push(format!(
                            "rule {i}: from.source.{f} is not supported with the CUSTOM action"
                        ));
                    }
                }
            }
            empty_values(src, &format!("rule {i}: from.source"), out);
        }
        for to in rule
            .get("to")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(op) = to.get("operation").filter(|o| !o.is_null()) else {
                out.push(format!("rule {i}: to.operation must be set"));
                continue;
            };
            let fields = [
                "ports",
                "notPorts",
                "methods",
                "notMethods",
                "paths",
                "notPaths",
                "hosts",
                "notHosts",
            ];
            if !fields.iter().any(|f| nonempty(op, f)) {
                out.push(format!("rule {i}: to.operation must not be empty"));
            }
            for f in ["ports", "notPorts"] {
                for p in op.get(f).and_then(Value::as_array).into_iter().flatten() {
                    let p = p.as_str().unwrap_or_default();
                    // security.ValidatePorts: a number from 0 to 65535.
                    if !p.parse::<u32>().is_ok_and(|n| n <= 65535) {
                        out.push(format!(
                            "rule {i}: to.operation.{f} `{}` is not a port",
                            crate::printable::line(p)
                        ));
                    }
                }
            }
            empty_values(op, &format!("rule {i}: to.operation"), out);
        }
        for when in rule
            .get("when")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let key = when.get("key").and_then(Value::as_str).unwrap_or_default();
            if key.is_empty() {
                out.push(format!("rule {i}: a `when` condition needs a key"));
            } else if !nonempty(when, "values") && !nonempty(when, "notValues") {
                out.push(format!(
                    "rule {i}: the `when` condition on {} needs values or notValues",
                    crate::printable::line(key)
                ));
            }
            if action == "CUSTOM"
                && (matches!(
                    key,
                    "source.namespace"
                        | "source.serviceAccount"
                        | "source.trustDomain"
                        | "source.principal"
                ) || key.starts_with("request.auth."))
            {
                out.push(format!(
                    "rule {i}: the `when` key {} is not supported with the CUSTOM action",
                    crate::printable::line(key)
                ));
            }
        }
    }
}

/// `security.CheckEmptyValues`: no empty string in a list of values.
fn empty_values(obj: &Value, what: &str, out: &mut Vec<String>) {
    for (field, values) in obj.as_object().into_iter().flatten() {
        if values
            .as_array()
            .is_some_and(|vs| vs.iter().any(|v| v.as_str() == Some("")))
        {
            out.push(format!("{what}.{field} holds an empty value"));
        }
    }
}

fn request_authentication(spec: &Value, out: &mut Vec<String>) {
    selection(spec, out);
    for (i, rule) in spec
        .get("jwtRules")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
    {
        let issuer = rule
            .get("issuer")
            .and_then(Value::as_str)
            .unwrap_or_default();
        if issuer.is_empty() {
            out.push(format!("jwtRules[{i}]: issuer must be set"));
        }
        let keys = ["jwksUri", "jwks_uri", "jwks"]
            .iter()
            .filter(|f| has(rule, f))
            .count();
        if keys > 1 {
            out.push(format!(
                "jwtRules[{i}]: only one of jwks or jwksUri can be set"
            ));
        }
        for f in ["jwksUri", "jwks_uri"] {
            if let Some(uri) = rule.get(f).and_then(Value::as_str) {
                if !(uri.starts_with("http://") || uri.starts_with("https://")) {
                    out.push(format!(
                        "jwtRules[{i}].{f} must start with http:// or https://"
                    ));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(key: &str, yaml: &str) -> Vec<Problem> {
        let body: Value = serde_norway::from_str(yaml).unwrap();
        check(key, &body)
    }

    fn rejected(key: &str, yaml: &str) -> Vec<String> {
        problems(key, yaml)
            .into_iter()
            .filter(|p| p.rejects)
            .map(|p| p.message)
            .collect()
    }

    const PA: &str = crate::kinds::PEER_AUTHENTICATION;
    const AP: &str = crate::kinds::AUTHORIZATION_POLICY;
    const RA: &str = crate::kinds::REQUEST_AUTHENTICATION;

    #[test]
    fn a_misspelt_mtls_mode_is_rejected_and_a_valid_one_is_not() {
        let bad = rejected(PA, "spec: {mtls: {mode: PERMISIVE}}");
        assert_eq!(bad.len(), 1);
        assert!(bad[0].contains("`PERMISIVE` is not one of"), "{bad:?}");
        assert!(problems(PA, "spec: {mtls: {mode: STRICT}}").is_empty());
        assert!(problems(
            PA,
            "spec: {selector: {matchLabels: {app: a}}, portLevelMtls: {'8080': {mode: DISABLE}}}"
        )
        .is_empty());
        // portLevelMtls without a selector, and a port out of range.
        assert_eq!(
            rejected(PA, "spec: {portLevelMtls: {'8080': {mode: DISABLE}}}").len(),
            1
        );
        assert_eq!(
            rejected(
                PA,
                "spec: {selector: {matchLabels: {app: a}}, portLevelMtls: {'0': {mode: DISABLE}}}"
            )
            .len(),
            1
        );
    }

    #[test]
    fn unknown_fields_are_reported_but_do_not_reject() {
        let p = problems(PA, "spec: {mtls: {mod: STRICT}}");
        assert_eq!(
            p,
            vec![Problem {
                rejects: false,
                message: "unknown field spec.mtls.mod".into()
            }]
        );
    }

    #[test]
    fn authorization_policy_rules_follow_istiods_webhook() {
        assert_eq!(rejected(AP, "spec: {action: DENNY, rules: [{}]}").len(), 1);
        assert!(rejected(AP, "spec: {action: DENY}")[0].contains("without rules"));
        assert!(rejected(AP, "spec: {action: CUSTOM, rules: [{}]}")[0].contains("provider.name"));
        assert!(rejected(AP, "spec: {provider: {name: x}, rules: [{}]}")[0]
            .contains("only for the CUSTOM"));
        assert!(rejected(AP, "spec: {rules: [{from: [{source: {}}]}]}")[0]
            .contains("must not be empty"));
        assert!(rejected(
            AP,
            "spec: {rules: [{from: [{source: {principals: [a], serviceAccounts: [b]}}]}]}"
        )[0]
        .contains("serviceAccounts cannot"));
        assert!(
            rejected(AP, "spec: {rules: [{to: [{operation: {ports: [http]}}]}]}")[0]
                .contains("not a port")
        );
        assert!(
            rejected(AP, "spec: {rules: [{when: [{key: 'request.headers[x]'}]}]}")[0]
                .contains("needs values")
        );
        assert!(rejected(
            AP,
            "spec: {selector: {matchLabels: {app: a}}, targetRefs: [{kind: Gateway, name: g}]}"
        )[0]
        .contains("only one of"));
        assert!(
            rejected(AP, "spec: {selector: {matchLabels: {app: '*'}}}")[0].contains("wildcards")
        );
        assert!(rejected(
            AP,
            "spec: {rules: [{from: [{source: {principals: ['']}}]}]}"
        )[0]
        .contains("empty value"));
        // Valid policies, including the allow-nothing `{}` and an empty rule.
        for ok in [
            "spec: {}",
            "spec: {action: ALLOW, rules: [{}]}",
            "spec: {action: DENY, rules: [{to: [{operation: {paths: [/admin*], ports: ['8080']}}]}]}",
            "spec: {action: CUSTOM, provider: {name: ext}, rules: [{to: [{operation: {paths: [/x]}}]}]}",
            "spec: {targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: w}], rules: [{from: [{source: {namespaces: [a]}}], when: [{key: 'request.auth.claims[iss]', values: [x]}]}]}",
        ] {
            assert!(problems(AP, ok).is_empty(), "{ok}: {:?}", problems(AP, ok));
        }
    }

    #[test]
    fn networking_enums_are_checked_and_other_fields_left_alone() {
        let dr = crate::kinds::DESTINATION_RULE;
        let bad = rejected(dr, "spec: {host: a, trafficPolicy: {portLevelSettings: [{port: {number: 80}, tls: {mode: ISTIO_MUTAL}}]}}");
        assert_eq!(bad.len(), 1, "{bad:?}");
        assert!(
            bad[0].contains("spec.trafficPolicy.portLevelSettings[0].tls.mode `ISTIO_MUTAL`"),
            "{bad:?}"
        );
        assert!(problems(dr, "spec: {host: a, trafficPolicy: {loadBalancer: {simple: ROUND_ROBIN}, tls: {mode: ISTIO_MUTUAL, sni: x}}}").is_empty());
        let gw = crate::kinds::GATEWAY;
        assert_eq!(rejected(gw, "spec: {servers: [{port: {number: 443}, hosts: ['*'], tls: {mode: SIMPLE, minProtocolVersion: TLSV1_4}}]}").len(), 1);
        assert!(problems(gw, "spec: {selector: {istio: ingressgateway}, servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ['*'], tls: {mode: SIMPLE, credentialName: c}}]}").is_empty());
        assert_eq!(
            rejected(
                crate::kinds::SIDECAR,
                "spec: {outboundTrafficPolicy: {mode: REGISTRY}}"
            )
            .len(),
            1
        );
        assert_eq!(
            rejected(
                crate::kinds::SERVICE_ENTRY,
                "spec: {hosts: [a.com], location: EXTERNAL}"
            )
            .len(),
            1
        );
    }

    #[test]
    fn request_authentication_rules() {
        assert!(rejected(RA, "spec: {jwtRules: [{jwksUri: 'https://x'}]}")[0].contains("issuer"));
        assert!(
            rejected(RA, "spec: {jwtRules: [{issuer: i, jwksUri: 'ftp://x'}]}")[0]
                .contains("http://")
        );
        assert!(rejected(
            RA,
            "spec: {jwtRules: [{issuer: i, jwks: '{}', jwksUri: 'https://x'}]}"
        )[0]
        .contains("only one"));
        assert!(rejected(
            RA,
            "spec: {jwtRules: [{issuer: i, forwardOriginalToken: 'yes'}]}"
        )[0]
        .contains("boolean"));
        assert!(problems(
            RA,
            "spec: {jwtRules: [{issuer: i, jwksUri: 'https://x', fromHeaders: [{name: x-jwt}]}]}"
        )
        .is_empty());
    }
}

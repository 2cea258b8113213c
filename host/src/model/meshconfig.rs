//! meshConfig: from the `istio` ConfigMap (key `mesh`), else an IstioOperator's
//! `spec.meshConfig`, else Istio's defaults.

use crate::gather::{Object, Snapshot};
use crate::kinds;
use crate::vocab::ObjectRef;
use serde_json::Value;

#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PathNormalization {
    None,
    Base,
    MergeSlashes,
    DecodeAndMergeSlashes,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct ExtensionProvider {
    pub name: String,
    pub kind: String,
}

#[derive(Clone, Debug, serde::Serialize)]
pub struct MeshConfig {
    pub root_namespace: String,
    pub trust_domain: String,
    pub path_normalization: PathNormalization,
    pub outbound_traffic_policy: String,
    pub enable_auto_mtls: bool,
    pub extension_providers: Vec<ExtensionProvider>,
    pub source: Option<ObjectRef>,
    pub json: Value,
    /// `{"values": ..., "components": ...}` from the injector ConfigMap or an IstioOperator.
    pub install: Value,
    pub install_source: Option<ObjectRef>,
    /// The injector's policy and selectors (host-side only).
    pub injector: super::enrollment::Injector,
}

/// Istio's root (and control-plane) namespace unless meshConfig says otherwise.
pub const DEFAULT_ROOT: &str = "istio-system";

pub fn build(snapshot: &Snapshot) -> (MeshConfig, Vec<String>) {
    let mut problems = Vec::new();
    let from_configmap = snapshot
        .of(kinds::CONFIG_MAP)
        .iter()
        .filter(|cm| {
            cm.name == "istio"
                || cm.name.starts_with("istio-") && cm.label("istio.io/rev").is_some()
        })
        .filter(|cm| {
            cm.name != "istio-sidecar-injector" && !cm.name.starts_with("istio-sidecar-injector")
        })
        .min_by_key(|cm| (cm.name != "istio", cm.namespace != DEFAULT_ROOT))
        .and_then(|cm| {
            let text = cm.pointer("/data/mesh")?;
            match serde_norway::from_str::<Value>(text.as_str()?) {
                Ok(v) => Some((cm, v)),
                Err(e) => {
                    problems.push(format!(
                        "{}: data.mesh is not valid YAML: {e}",
                        cm.display()
                    ));
                    None
                }
            }
        });
    let source: Option<(&Object, Value)> = from_configmap.or_else(|| {
        snapshot
            .of(kinds::ISTIO_OPERATOR)
            .iter()
            .find_map(|op| op.pointer("/spec/meshConfig").map(|m| (op, m)))
    });
    let (object, json) = match source {
        Some((o, v)) => (Some(o), v),
        None => (None, Value::Object(Default::default())),
    };
    let text = |ptr: &str| {
        json.pointer(ptr)
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let root_namespace = text("/rootNamespace")
        .or_else(|| {
            object
                .map(|o| o.namespace.clone())
                .filter(|ns| !ns.is_empty() && object.is_some_and(|o| o.kind == "ConfigMap"))
        })
        .unwrap_or_else(|| DEFAULT_ROOT.into());
    let path_normalization = match text("/pathNormalization/normalization").as_deref() {
        Some("NONE") => PathNormalization::None,
        Some("MERGE_SLASHES") => PathNormalization::MergeSlashes,
        Some("DECODE_AND_MERGE_SLASHES") => PathNormalization::DecodeAndMergeSlashes,
        _ => PathNormalization::Base,
    };
    let extension_providers = json
        .get("extensionProviders")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .map(|p| ExtensionProvider {
                    name: p
                        .get("name")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .into(),
                    kind: p
                        .as_object()
                        .and_then(|m| m.keys().find(|k| *k != "name").cloned())
                        .unwrap_or_default(),
                })
                .collect()
        })
        .unwrap_or_default();
    let (install, install_source) = install(snapshot, &mut problems);
    let injector = injector(snapshot, &install, &mut problems);
    let config = MeshConfig {
        root_namespace,
        trust_domain: text("/trustDomain").unwrap_or_else(|| "cluster.local".into()),
        path_normalization,
        outbound_traffic_policy: text("/outboundTrafficPolicy/mode")
            .unwrap_or_else(|| "ALLOW_ANY".into()),
        enable_auto_mtls: json
            .get("enableAutoMtls")
            .and_then(Value::as_bool)
            .unwrap_or(true),
        extension_providers,
        source: object.map(ObjectRef::of),
        json,
        install,
        install_source,
        injector,
    };
    (config, problems)
}

/// Installation values: the injector ConfigMap's `values` (what the running
/// injector uses), else an IstioOperator's `values` and `components`.
fn install(snapshot: &Snapshot, problems: &mut Vec<String>) -> (Value, Option<ObjectRef>) {
    let injector = snapshot
        .of(kinds::CONFIG_MAP)
        .iter()
        .filter(|cm| cm.name.starts_with("istio-sidecar-injector"))
        .min_by_key(|cm| cm.name != "istio-sidecar-injector")
        .and_then(|cm| {
            let text = cm.pointer("/data/values")?;
            match serde_json::from_str::<Value>(text.as_str()?) {
                Ok(values) => Some((serde_json::json!({ "values": values }), ObjectRef::of(cm))),
                Err(e) => {
                    problems.push(format!(
                        "{}: data.values is not valid JSON: {e}",
                        cm.display()
                    ));
                    None
                }
            }
        });
    let operator = || {
        snapshot.of(kinds::ISTIO_OPERATOR).iter().next().map(|op| {
            let part = |k: &str| op.pointer(&format!("/spec/{k}")).unwrap_or(Value::Null);
            (
                serde_json::json!({ "values": part("values"), "components": part("components") }),
                ObjectRef::of(op),
            )
        })
    };
    match injector.or_else(operator) {
        Some((v, o)) => (v, Some(o)),
        None => (Value::Object(Default::default()), None),
    }
}

/// What Istio's sidecar-injector webhooks (`*sidecar-injector.istio.io`) in
/// the snapshot select: the revisions of their `istio.io/rev In` selectors,
/// and whether one of them (the default revision's `namespace.` and `object.`
/// webhooks, or the `default` tag's) selects without a revision. None when
/// the snapshot holds no injector webhook: a manifest set rarely does, and
/// then nothing can be said against a label.
fn served(snapshot: &Snapshot) -> Option<super::enrollment::Served> {
    let mut out = super::enrollment::Served::default();
    let mut any = false;
    for config in snapshot.of(kinds::MUTATING_WEBHOOK) {
        let Some(Value::Array(hooks)) = config.pointer("/webhooks") else {
            continue;
        };
        for hook in hooks.iter().filter(|h| {
            h.get("name")
                .and_then(Value::as_str)
                .is_some_and(|n| n.ends_with("sidecar-injector.istio.io"))
        }) {
            any = true;
            let mut revisions = Vec::new();
            for sel in ["namespaceSelector", "objectSelector"] {
                let exprs = hook
                    .pointer(&format!("/{sel}/matchExpressions"))
                    .and_then(Value::as_array);
                for e in exprs.into_iter().flatten() {
                    let field = |k: &str| e.get(k).and_then(Value::as_str);
                    if field("key") == Some("istio.io/rev") && field("operator") == Some("In") {
                        revisions.extend(
                            e.get("values")
                                .and_then(Value::as_array)
                                .into_iter()
                                .flatten()
                                .filter_map(Value::as_str)
                                .map(str::to_string),
                        );
                    }
                }
            }
            if revisions.is_empty() {
                out.injection_label = true;
            }
            out.revisions.extend(revisions);
        }
    }
    any.then_some(out)
}

/// The default revision's injector settings: ConfigMap `istio-sidecar-injector`
/// key `config` (YAML with `policy`, `neverInjectSelector`, `alwaysInjectSelector`).
fn injector(
    snapshot: &Snapshot,
    install: &Value,
    problems: &mut Vec<String>,
) -> super::enrollment::Injector {
    let selectors = |v: Option<&Value>| -> Vec<std::collections::BTreeMap<String, String>> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|s| super::selector::from_json(s.get("matchLabels")))
            .collect()
    };
    let mut out = super::enrollment::Injector {
        namespaces_by_default: install
            .pointer("/values/sidecarInjectorWebhook/enableNamespacesByDefault")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        served: served(snapshot),
        ..Default::default()
    };
    let Some(cm) = snapshot
        .of(kinds::CONFIG_MAP)
        .iter()
        .find(|cm| cm.name == "istio-sidecar-injector")
    else {
        return out;
    };
    let Some(Value::String(text)) = cm.pointer("/data/config") else {
        return out;
    };
    match serde_norway::from_str::<Value>(&text) {
        Ok(config) => {
            out.policy_disabled = config.get("policy").and_then(Value::as_str) == Some("disabled");
            out.never = selectors(config.get("neverInjectSelector"));
            out.always = selectors(config.get("alwaysInjectSelector"));
        }
        Err(e) => problems.push(format!(
            "{}: data.config is not valid YAML: {e}",
            cm.display()
        )),
    }
    out
}

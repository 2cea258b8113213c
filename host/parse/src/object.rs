//! The snapshot's unit: one Kubernetes object with where it came from.

use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// Where an object was read from (files only; live objects have none).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<str>,
    pub line: u32,
}

#[derive(Clone, Debug, Default)]
pub struct OwnerRef {
    pub kind: String,
    pub name: String,
    pub controller: bool,
}

#[derive(Clone, Debug)]
pub struct Object {
    /// Kind key (`Kind` or `group/Kind`), see [`crate::kinds`].
    pub key: String,
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub uid: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub creation_timestamp: Option<String>,
    pub owners: Vec<OwnerRef>,
    pub origin: Option<Origin>,
    /// The object as compact JSON text: whole for kinds checks declared,
    /// projected to the fields the model reads otherwise (see `slim`). Text,
    /// not a `Value` tree: a tree costs ten times the input per small object,
    /// and the checks receive text anyway.
    body: Box<RawValue>,
}

/// The last-applied annotation repeats the whole object; it is dropped on read.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

impl Object {
    /// Builds an object from its JSON body; None when it has no kind or apiVersion.
    pub fn from_body(mut body: Value, origin: Option<Origin>) -> Option<Object> {
        // Identity fields are printed in every report: escaped here, once
        // (Kubernetes itself would reject such names).
        let api_version = crate::printable::line(body.get("apiVersion")?.as_str()?).into_owned();
        let kind = crate::printable::line(body.get("kind")?.as_str()?).into_owned();
        if let Some(meta) = body.get_mut("metadata").and_then(Value::as_object_mut) {
            meta.remove("managedFields");
            if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
                a.remove(LAST_APPLIED);
            }
        }
        let meta = body.get("metadata");
        let text = |k: &str| {
            crate::printable::line(
                meta.and_then(|m| m.get(k))
                    .and_then(Value::as_str)
                    .unwrap_or_default(),
            )
            .into_owned()
        };
        let map = |k: &str| -> BTreeMap<String, String> {
            meta.and_then(|m| m.get(k))
                .and_then(Value::as_object)
                .map(|o| o.iter().map(|(k, v)| (k.clone(), scalar(v))).collect())
                .unwrap_or_default()
        };
        let owners = meta
            .and_then(|m| m.get("ownerReferences"))
            .and_then(Value::as_array)
            .map(|refs| {
                refs.iter()
                    .map(|r| OwnerRef {
                        kind: r
                            .get("kind")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .into(),
                        name: r
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .into(),
                        controller: r
                            .get("controller")
                            .and_then(Value::as_bool)
                            .unwrap_or(false),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let creation = text("creationTimestamp");
        Some(Object {
            key: crate::kinds::key(&api_version, &kind),
            namespace: text("namespace"),
            name: text("name"),
            uid: text("uid"),
            labels: map("labels"),
            annotations: map("annotations"),
            creation_timestamp: (!creation.is_empty()).then_some(creation),
            owners,
            origin,
            api_version,
            kind,
            body: serde_json::value::to_raw_value(&body).ok()?,
        })
    }

    /// The body as compact JSON text (what checks receive).
    pub fn json(&self) -> &RawValue {
        &self.body
    }

    /// Forgets the body (an empty object remains), for projections nothing
    /// reads once the model is built.
    pub fn drop_body(&mut self) {
        self.body = serde_json::value::to_raw_value(&serde_json::Map::new())
            .expect("an empty object serializes");
    }

    /// The body as a tree, parsed on each call: parse once per use site.
    pub fn value(&self) -> Value {
        serde_json::from_str(self.body.get()).unwrap_or(Value::Null)
    }

    /// The value at a JSON pointer (`/spec/template/spec`), parsed on each call.
    pub fn pointer(&self, ptr: &str) -> Option<Value> {
        self.value().pointer_mut(ptr).map(Value::take)
    }

    pub fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.annotations.get(key).map(String::as_str)
    }

    /// `spec` deserialized into `T` (only the fields `T` names, the rest is
    /// skipped unbuilt); default when absent or malformed.
    pub fn spec<T: serde::de::DeserializeOwned + Default>(&self) -> T {
        #[derive(serde::Deserialize)]
        struct Wrap<'a> {
            #[serde(borrow, default)]
            spec: Option<&'a RawValue>,
        }
        serde_json::from_str::<Wrap>(self.body.get())
            .ok()
            .and_then(|w| w.spec)
            .and_then(|s| serde_json::from_str(s.get()).ok())
            .unwrap_or_default()
    }

    /// `Kind namespace/name`, for messages.
    pub fn display(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

/// Labels and annotations are strings, but YAML authors write `inject: true`.
fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

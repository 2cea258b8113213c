//! Projections: the fields the mesh model reads from workload objects. Pods are
//! most of a live snapshot's bytes; deserializing straight into these structs
//! skips everything else (env, volumes, status conditions, managedFields)
//! without building it.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Deserialize, Serialize)]
pub struct Slim {
    // Items of API list responses omit these; the caller fills them in.
    #[serde(
        rename = "apiVersion",
        default,
        skip_serializing_if = "String::is_empty"
    )]
    api_version: String,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    kind: String,
    #[serde(default)]
    metadata: Meta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spec: Option<Spec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<Status>,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Meta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    creation_timestamp: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    labels: Option<BTreeMap<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    annotations: Option<BTreeMap<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner_references: Option<Vec<Value>>,
}

/// Pod spec fields, plus the template fields of controllers (one struct for all
/// workload kinds keeps the projection a single pass).
#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Spec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service_account_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    service_account: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    host_network: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    containers: Option<Vec<Container>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    init_containers: Option<Vec<Container>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    security_context: Option<SecurityContext>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    selector: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    replicas: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    template: Option<Box<Template>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    job_template: Option<Box<Template>>,
}

#[derive(Deserialize, Serialize, Default)]
struct Template {
    #[serde(default)]
    metadata: Meta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    spec: Option<Spec>,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct Container {
    #[serde(default)]
    name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ports: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    restart_policy: Option<String>,
    // Kept only for Istio's own containers (see `Slim::into_value`): the
    // control-plane checks read istiod's flags and environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    args: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    env: Option<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    security_context: Option<SecurityContext>,
}

#[derive(Deserialize, Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct SecurityContext {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    run_as_user: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    capabilities: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    privileged: Option<Value>,
}

#[derive(Deserialize, Serialize, Default)]
struct Status {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    phase: Option<String>,
}

impl Slim {
    pub fn into_value(mut self) -> Value {
        if let Some(spec) = self.spec.as_mut() {
            spec.drop_app_settings();
        }
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

impl Spec {
    /// Drops args and env of containers that are not Istio's: application
    /// settings are most of a pod's bytes and no check reads them.
    fn drop_app_settings(&mut self) {
        for c in self
            .containers
            .iter_mut()
            .chain(self.init_containers.iter_mut())
            .flatten()
        {
            if !c.image.as_deref().is_some_and(|i| i.contains("istio")) {
                c.args = None;
                c.env = None;
            }
        }
        for t in [self.template.as_mut(), self.job_template.as_mut()]
            .into_iter()
            .flatten()
        {
            if let Some(spec) = t.spec.as_mut() {
                spec.drop_app_settings();
            }
        }
    }
}

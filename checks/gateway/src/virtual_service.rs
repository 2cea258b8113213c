//! The typed form of VirtualService the gateway checks read, parsed once per
//! scan for all of them (`Ctx::parsed` keeps one parse per type).

use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct VirtualService {
    pub spec: VsSpec,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct VsSpec {
    pub hosts: Vec<String>,
    pub gateways: Vec<String>,
    pub http: Vec<HttpRoute>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpRoute {
    #[serde(rename = "match")]
    pub matches: Vec<RouteMatch>,
    /// Kept as written: rare, and read by one check.
    pub cors_policy: Option<Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct RouteMatch {
    pub headers: BTreeMap<String, Value>,
    pub without_headers: BTreeMap<String, Value>,
}

//! The parts of a DestinationRule the TLS checks read.

use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DestinationRule {
    pub spec: Spec,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Spec {
    pub host: String,
    pub traffic_policy: Option<TrafficPolicy>,
    pub subsets: Vec<Subset>,
    pub workload_selector: Option<serde_json::Value>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct TrafficPolicy {
    pub tls: Option<Tls>,
    pub port_level_settings: Vec<PortSettings>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Subset {
    pub name: String,
    #[serde(rename = "trafficPolicy")]
    pub traffic_policy: Option<TrafficPolicy>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PortSettings {
    pub port: Option<Port>,
    pub tls: Option<Tls>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Port {
    pub number: u32,
}

#[derive(Deserialize, Default, Clone)]
#[serde(default, rename_all = "camelCase")]
pub struct Tls {
    pub mode: String,
    pub ca_certificates: String,
    pub credential_name: String,
    pub subject_alt_names: Vec<String>,
    pub sni: String,
    pub insecure_skip_verify: Option<bool>,
}

/// Where in the rule a TLS block sits: `trafficPolicy.tls`, a port, or a subset.
pub struct Site<'a> {
    pub path: String,
    pub port: Option<u32>,
    pub tls: &'a Tls,
}

impl Spec {
    /// Every TLS block of the rule, destination level first.
    pub fn tls_sites(&self) -> Vec<Site<'_>> {
        let mut sites = Vec::new();
        visit(&mut sites, String::new(), self.traffic_policy.as_ref());
        for (i, s) in self.subsets.iter().enumerate() {
            let prefix = format!("subsets[{i}]({}).", s.name);
            visit(&mut sites, prefix, s.traffic_policy.as_ref());
        }
        sites
    }
}

fn visit<'a>(sites: &mut Vec<Site<'a>>, prefix: String, policy: Option<&'a TrafficPolicy>) {
    let Some(policy) = policy else { return };
    if let Some(tls) = &policy.tls {
        sites.push(Site {
            path: format!("{prefix}trafficPolicy.tls"),
            port: None,
            tls,
        });
    }
    for (i, p) in policy.port_level_settings.iter().enumerate() {
        if let Some(tls) = &p.tls {
            sites.push(Site {
                path: format!("{prefix}trafficPolicy.portLevelSettings[{i}].tls"),
                port: p.port.as_ref().map(|p| p.number),
                tls,
            });
        }
    }
}

/// Labels of a `workloadSelector`, for remediation YAML.
pub fn selector_labels(selector: &Option<serde_json::Value>) -> BTreeMap<String, String> {
    selector
        .as_ref()
        .and_then(|s| s.get("matchLabels"))
        .and_then(|m| serde_json::from_value(m.clone()).ok())
        .unwrap_or_default()
}

//! Effective PeerAuthentication mode per workload and port.
//!
//! Istio: a workload policy (selector) beats the namespace policy, which beats
//! the mesh policy (root namespace, no selector). UNSET inherits from the
//! level above; with nothing set the mode is PERMISSIVE. Ties at one level go
//! to the oldest policy. portLevelMtls works only on a workload policy.

use super::MtlsMode;
use crate::gather::Object;
use crate::vocab::{Confidence, ObjectRef};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct PaSpec {
    selector: Option<Selector>,
    mtls: Option<ModeSpec>,
    port_level_mtls: BTreeMap<String, ModeSpec>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub struct Selector {
    pub match_labels: BTreeMap<String, String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ModeSpec {
    mode: String,
}

fn mode_of(spec: Option<&ModeSpec>) -> MtlsMode {
    match spec.map(|m| m.mode.as_str()) {
        Some("STRICT") => MtlsMode::Strict,
        Some("PERMISSIVE") => MtlsMode::Permissive,
        Some("DISABLE") => MtlsMode::Disable,
        _ => MtlsMode::Unset,
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct PortMtls {
    pub port: u32,
    pub mode: MtlsMode,
    pub decided_by: Option<ObjectRef>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Mtls {
    pub mode: MtlsMode,
    pub confidence: Confidence,
    pub decided_by: Option<ObjectRef>,
    pub reason: String,
    pub ports: Vec<PortMtls>,
}

/// A parsed PeerAuthentication.
pub struct Policy<'a> {
    pub object: &'a Object,
    pub selector: BTreeMap<String, String>,
    mode: MtlsMode,
    ports: Vec<(u32, MtlsMode)>,
}

impl<'a> Policy<'a> {
    pub fn parse(object: &'a Object) -> Self {
        let spec: PaSpec = object.spec();
        Policy {
            object,
            selector: spec.selector.map(|s| s.match_labels).unwrap_or_default(),
            mode: mode_of(spec.mtls.as_ref()),
            ports: spec
                .port_level_mtls
                .iter()
                .filter_map(|(p, m)| Some((p.parse().ok()?, mode_of(Some(m)))))
                .collect(),
        }
    }
}

/// Oldest first; name breaks ties so the result does not depend on input order.
fn oldest<'p, 'a>(policies: impl Iterator<Item = &'p Policy<'a>>) -> Option<&'p Policy<'a>>
where
    'a: 'p,
{
    policies.min_by(|a, b| {
        let ka = (
            a.object.creation_timestamp.is_none(),
            &a.object.creation_timestamp,
            &a.object.name,
        );
        let kb = (
            b.object.creation_timestamp.is_none(),
            &b.object.creation_timestamp,
            &b.object.name,
        );
        ka.cmp(&kb)
    })
}

/// The effective mode of a workload in `ns` with `labels`.
pub fn effective(
    root_policies: &[&Policy],
    ns_policies: &[&Policy],
    root_ns: &str,
    ns: &str,
    labels: &BTreeMap<String, String>,
    ambient: bool,
    base: Confidence,
) -> Mtls {
    let mesh = oldest(
        root_policies
            .iter()
            .copied()
            .filter(|p| p.selector.is_empty()),
    );
    let namespace = oldest(
        ns_policies
            .iter()
            .copied()
            .filter(|p| ns != root_ns && p.selector.is_empty()),
    );
    let workload = oldest(
        ns_policies
            .iter()
            .copied()
            .filter(|p| !p.selector.is_empty() && super::selector::matches(&p.selector, labels)),
    );
    let mut mode = MtlsMode::Permissive;
    let mut decided_by: Option<&Policy> = None;
    let mut reason = "no PeerAuthentication sets a mode: Istio's default PERMISSIVE".to_string();
    for (level, p) in [
        ("mesh-wide", mesh),
        ("namespace", namespace),
        ("workload", workload),
    ] {
        if let Some(p) = p.filter(|p| p.mode != MtlsMode::Unset) {
            mode = p.mode;
            decided_by = Some(p);
            reason = format!(
                "{level} policy {} sets {}",
                p.object.display(),
                mode.as_str()
            );
        }
    }
    if ambient && mode == MtlsMode::Disable {
        mode = MtlsMode::Permissive;
        reason.push_str(
            "; ambient does not support DISABLE, ztunnel accepts plaintext and mTLS (PERMISSIVE)",
        );
    }
    let ports = workload
        .map(|p| {
            p.ports
                .iter()
                .map(|&(port, m)| PortMtls {
                    port,
                    mode: if m == MtlsMode::Unset { mode } else { m },
                    decided_by: Some(ObjectRef::of(p.object)),
                })
                .collect()
        })
        .unwrap_or_default();
    Mtls {
        mode,
        confidence: base,
        decided_by: decided_by.map(|p| ObjectRef::of(p.object)),
        reason,
        ports,
    }
}

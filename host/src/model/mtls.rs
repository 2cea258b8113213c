//! Effective PeerAuthentication mode per workload and port.
//!
//! Istio: a workload policy (selector) beats the namespace policy, which beats
//! the mesh policy (root namespace, no selector). UNSET inherits from the
//! level above; with nothing set the mode is PERMISSIVE. Ties at one level go
//! to the oldest policy. portLevelMtls works only on a workload policy, and a
//! selector policy in the root namespace is no workload policy at all: istiod
//! ignores it (`ComposePeerAuthentication`, pilot/pkg/security/authn/policy_applier.go).
//! A port the data plane does not capture accepts plaintext whatever the policies say.

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

/// What the effective mode depends on besides the policies.
pub struct Subject<'a> {
    pub namespace: &'a str,
    pub labels: &'a BTreeMap<String, String>,
    pub ambient: bool,
    /// The confidence of what the mode rests on (enrollment, readable policies).
    pub base: Confidence,
    /// Ports the data plane does not capture, with why.
    pub uncaptured: &'a [(u32, String)],
    pub target: &'a ObjectRef,
    /// The container ports the workload declares (empty when it declares none).
    pub container_ports: &'a [u32],
}

/// The effective mode of a workload.
pub fn effective(
    root_policies: &[&Policy],
    ns_policies: &[&Policy],
    root_ns: &str,
    w: &Subject,
) -> Mtls {
    let (ns, labels, ambient, base) = (w.namespace, w.labels, w.ambient, w.base);
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
    let workload = oldest(ns_policies.iter().copied().filter(|p| {
        ns != root_ns && !p.selector.is_empty() && super::selector::matches(&p.selector, labels)
    }));
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
    let mut ports: Vec<PortMtls> = workload
        .map(|p| {
            // Per-port settings are keyed by the port the workload listens on
            // (`needPerPortPassthroughFilterChain`, pilot/pkg/networking/plugin/
            // authn/authentication.go): a port no container declares opens nothing.
            p.ports
                .iter()
                .filter(|(port, _)| {
                    w.container_ports.is_empty() || w.container_ports.contains(port)
                })
                .map(|&(port, m)| PortMtls {
                    port,
                    mode: if m == MtlsMode::Unset { mode } else { m },
                    decided_by: Some(ObjectRef::of(p.object)),
                })
                .collect()
        })
        .unwrap_or_default();
    for (port, why) in w.uncaptured {
        ports.retain(|p| p.port != *port);
        ports.push(PortMtls {
            port: *port,
            mode: MtlsMode::Disable,
            decided_by: Some(w.target.clone()),
        });
        reason.push_str(&format!(
            "; port {port} is not captured ({why}): plaintext, no policy"
        ));
    }
    ports.sort_by_key(|p| p.port);
    Mtls {
        mode,
        confidence: base,
        decided_by: decided_by.map(|p| ObjectRef::of(p.object)),
        reason,
        ports,
    }
}

//! Evidence gaps: what the scan could not assess, and the command that would
//! close each gap, so UNKNOWN and INFERRED have a way forward.

use super::model::EvidenceGap;
use crate::gather::{Snapshot, UnavailableReason};
use crate::model::MeshModel;
use crate::vocab::Confidence;

pub fn find(snapshot: &Snapshot, model: &MeshModel) -> Vec<EvidenceGap> {
    let mut gaps = Vec::new();
    for u in snapshot.unavailable.values() {
        let (group, kind) = (crate::kinds::group(&u.kind), crate::kinds::kind(&u.kind));
        let resource = if group.is_empty() {
            kind.to_ascii_lowercase()
        } else {
            format!("{}.{group}", kind.to_ascii_lowercase())
        };
        let command = match u.reason {
            UnavailableReason::Forbidden => format!(
                "kubectl auth can-i list {resource} --all-namespaces  # then grant get/list on it to the scanning identity"
            ),
            UnavailableReason::NotInstalled => format!(
                "kubectl api-resources --api-group={group}  # not served: install its CRD if the mesh uses it"
            ),
            UnavailableReason::Failed => format!("kubectl get {resource} -A  # retry; see the error"),
        };
        gaps.push(EvidenceGap {
            what: format!("{} could not be read: {}", u.kind, u.detail),
            checks_affected: "checks that read it report UNKNOWN".into(),
            command,
        });
    }
    let unknown: Vec<&str> = model
        .workloads
        .iter()
        .filter(|w| w.enrollment.confidence == Confidence::Unknown)
        .map(|w| w.id.as_str())
        .collect();
    if !unknown.is_empty() {
        let namespaces: std::collections::BTreeSet<&str> = model
            .workloads
            .iter()
            .filter(|w| w.enrollment.confidence == Confidence::Unknown)
            .map(|w| w.namespace.as_str())
            .collect();
        gaps.push(EvidenceGap {
            what: format!(
                "data-plane enrollment of {} workload(s) is unknown (their namespaces are not in the input): {}",
                unknown.len(),
                sample(&unknown)
            ),
            checks_affected: "mTLS, authorization and enrollment findings on them are INFERRED at best".into(),
            command: format!(
                "kubectl get namespace {} -o yaml > namespaces.yaml  # and scan it with the rest (-f namespaces.yaml)",
                namespaces.into_iter().collect::<Vec<_>>().join(" ")
            ),
        });
    }
    if !snapshot.is_live() {
        let unobserved: Vec<&str> = model
            .workloads
            .iter()
            .filter(|w| w.pods == 0 && w.enrollment.confidence != Confidence::Unknown)
            .map(|w| w.id.as_str())
            .collect();
        if !unobserved.is_empty() {
            gaps.push(EvidenceGap {
                what: format!(
                    "{} workload(s) have no running pods in the input, so their sidecars and mTLS are inferred from labels, not observed: {}",
                    unobserved.len(),
                    sample(&unobserved)
                ),
                checks_affected: "findings on them are INFERRED, not VERIFIED".into(),
                command: "kubectl get pods -A -o yaml > pods.yaml  # scan it with the manifests (-f pods.yaml), or scan the live cluster".into(),
            });
        }
    }
    gaps
}

fn sample(ids: &[&str]) -> String {
    let mut s = ids.iter().take(5).copied().collect::<Vec<_>>().join(", ");
    if ids.len() > 5 {
        s.push_str(&format!(" and {} more", ids.len() - 5));
    }
    s
}

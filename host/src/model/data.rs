//! What a scan hands to checks and to the assessment: the snapshot and the
//! mesh model derived from it, with the lookups the WIT queries answer.

use super::MeshModel;
use crate::gather::{Object, Snapshot};
use std::collections::HashMap;
use std::sync::OnceLock;

pub struct ScanData {
    pub snapshot: Snapshot,
    pub model: MeshModel,
    index: OnceLock<Index>,
}

/// Positions in the model's lists, built on the first query so that a query
/// costs what it returns, never a walk over the mesh.
#[derive(Default)]
struct Index {
    workload_by_id: HashMap<String, usize>,
    workloads_by_namespace: HashMap<String, Vec<usize>>,
    policy_by_key: HashMap<(String, String, String), usize>,
    policies_by_workload: HashMap<String, Vec<usize>>,
    istio_components: Vec<usize>,
}

impl ScanData {
    pub fn new(snapshot: Snapshot, model: MeshModel) -> Self {
        ScanData {
            snapshot,
            model,
            index: OnceLock::new(),
        }
    }

    /// Builds the query index now rather than on the first query.
    pub fn prepare(&self) {
        self.index();
    }

    fn index(&self) -> &Index {
        self.index.get_or_init(|| {
            let mut ix = Index::default();
            for (i, w) in self.model.workloads.iter().enumerate() {
                ix.workload_by_id.insert(w.id.clone(), i);
                ix.workloads_by_namespace
                    .entry(w.namespace.clone())
                    .or_default()
                    .push(i);
                if w.is_istio_component() {
                    ix.istio_components.push(i);
                }
            }
            for (i, p) in self.model.policies.iter().enumerate() {
                let t = &p.target;
                ix.policy_by_key
                    .insert((t.kind.clone(), t.namespace.clone(), t.name.clone()), i);
                for w in &p.workloads {
                    ix.policies_by_workload
                        .entry(w.clone())
                        .or_default()
                        .push(i);
                }
            }
            ix
        })
    }

    /// The position of a workload in `model.workloads`.
    pub fn workload(&self, id: &str) -> Option<usize> {
        self.index().workload_by_id.get(id).copied()
    }

    /// Positions of a namespace's workloads.
    pub fn workloads_in(&self, namespace: &str) -> &[usize] {
        self.index()
            .workloads_by_namespace
            .get(namespace)
            .map_or(&[], Vec::as_slice)
    }

    /// Positions of Istio's own workloads (istiod, gateways, ztunnel, CNI, waypoints).
    pub fn istio_components(&self) -> &[usize] {
        &self.index().istio_components
    }

    /// The position of a policy record by kind, namespace and name.
    pub fn policy(&self, kind: &str, namespace: &str, name: &str) -> Option<usize> {
        self.index()
            .policy_by_key
            .get(&(kind.to_string(), namespace.to_string(), name.to_string()))
            .copied()
    }

    /// Positions of the policy records that apply to a workload.
    pub fn policies_for(&self, workload: &str) -> &[usize] {
        self.index()
            .policies_by_workload
            .get(workload)
            .map_or(&[], Vec::as_slice)
    }

    /// Objects of a kind in one namespace: a binary search, since the
    /// snapshot keeps each kind sorted by namespace and name.
    pub fn objects_in(&self, kind: &str, namespace: &str) -> &[Object] {
        let all = self.snapshot.of(kind);
        let start = all.partition_point(|o| o.namespace.as_str() < namespace);
        let end = start + all[start..].partition_point(|o| o.namespace.as_str() == namespace);
        &all[start..end]
    }

    /// One object of a kind by namespace and name (the first when files
    /// repeat it): a binary search by name within the namespace.
    pub fn object(&self, kind: &str, namespace: &str, name: &str) -> Option<&Object> {
        let in_ns = self.objects_in(kind, namespace);
        in_ns
            .get(in_ns.partition_point(|o| o.name.as_str() < name))
            .filter(|o| o.name == name)
    }
}

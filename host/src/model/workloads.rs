//! Workloads: controllers (Deployment, StatefulSet, ...) and bare pods, with
//! their pods attached through ownerReferences.

use super::enrollment::{self, Enrollment};
use crate::gather::{Object, Snapshot};
use crate::kinds;
use crate::vocab::ObjectRef;
use rayon::prelude::*;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap};

/// A workload before mTLS and policies are resolved.
pub struct Raw<'a> {
    pub object: &'a Object,
    pub namespace: String,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub service_account: String,
    pub container_ports: Vec<u32>,
    pub containers: Vec<Container>,
    pub pods: Vec<Pod<'a>>,
    pub host_network: bool,
}

/// An observed pod: what its body says, from one parse (the tree is not kept:
/// 30,000 pods' trees would cost more than the whole input).
pub struct Pod<'a> {
    pub object: &'a Object,
    pub containers: Vec<Container>,
    pub facts: enrollment::PodFacts,
}

impl<'a> Pod<'a> {
    fn of(object: &'a Object, body: &Value) -> Self {
        Pod {
            object,
            containers: containers(body.get("spec")),
            facts: enrollment::pod_facts(body),
        }
    }
}

/// A container of a workload's pods: from the template, plus any that only the
/// running pods show (an injected `istio-proxy` or `istio-init`).
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Container {
    pub name: String,
    pub image: String,
    pub init: bool,
    /// The container's `runAsUser`, else the pod's.
    pub run_as_user: Option<i64>,
    pub capabilities_added: Vec<String>,
    /// Only for Istio's containers (the snapshot keeps no others).
    pub args: Vec<String>,
    /// Literal `env` values only for Istio's containers.
    pub env: Vec<(String, String)>,
}

/// The strings of a JSON array (other items and non-arrays give nothing).
pub(crate) fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect()
}

/// The containers (init containers first) of a pod spec.
fn containers(spec: Option<&Value>) -> Vec<Container> {
    let pod_uid = spec
        .and_then(|s| s.pointer("/securityContext/runAsUser"))
        .and_then(Value::as_i64);
    let mut out = Vec::new();
    for (field, init) in [("initContainers", true), ("containers", false)] {
        for c in spec
            .and_then(|s| s.get(field))
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let text = |ptr: &str| c.pointer(ptr).and_then(Value::as_str).unwrap_or("");
            out.push(Container {
                name: text("/name").into(),
                image: text("/image").into(),
                init,
                run_as_user: c
                    .pointer("/securityContext/runAsUser")
                    .and_then(Value::as_i64)
                    .or(pod_uid),
                capabilities_added: strings(c.pointer("/securityContext/capabilities/add")),
                args: strings(c.get("args")),
                env: c
                    .get("env")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|e| {
                        let name = e.get("name")?.as_str()?;
                        let value = e.get("value").and_then(Value::as_str).unwrap_or("");
                        Some((name.to_string(), value.to_string()))
                    })
                    .collect(),
            });
        }
    }
    out
}

impl Raw<'_> {
    /// Template containers, then containers only the observed pods have.
    pub fn all_containers(&self) -> Vec<Container> {
        let mut all = self.containers.clone();
        for pod in &self.pods {
            for c in &pod.containers {
                if !all.iter().any(|a| a.name == c.name && a.init == c.init) {
                    all.push(c.clone());
                }
            }
        }
        all
    }
}

impl Raw<'_> {
    pub fn id(&self) -> String {
        format!(
            "{}/{}/{}",
            self.namespace, self.object.kind, self.object.name
        )
    }

    pub fn target(&self) -> ObjectRef {
        ObjectRef::of(self.object)
    }
}

/// Where the pod template of a workload object is: the pod itself, or the template.
fn template_path(o: &Object) -> &'static str {
    match o.kind.as_str() {
        "Pod" => "",
        "CronJob" => "/spec/jobTemplate/spec/template",
        _ => "/spec/template",
    }
}

fn template_meta(o: &Object, body: &Value, field: &str) -> BTreeMap<String, String> {
    if o.kind == "Pod" {
        return if field == "labels" {
            o.labels.clone()
        } else {
            o.annotations.clone()
        };
    }
    body.pointer(&format!("{}/metadata", template_path(o)))
        .and_then(|m| m.get(field))
        .and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| v.to_string()),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn service_account(spec: Option<&Value>) -> String {
    spec.and_then(|s| {
        s.get("serviceAccountName")
            .or_else(|| s.get("serviceAccount"))
    })
    .and_then(Value::as_str)
    .filter(|s| !s.is_empty())
    .unwrap_or("default")
    .to_string()
}

fn container_ports(spec: Option<&Value>) -> Vec<u32> {
    let mut ports: Vec<u32> = spec
        .and_then(|s| s.get("containers"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter(|c| c.get("name").and_then(Value::as_str) != Some("istio-proxy"))
        .flat_map(|c| {
            c.get("ports")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter_map(|p| {
            p.get("containerPort")
                .and_then(Value::as_u64)
                .map(|n| n as u32)
        })
        .collect();
    ports.sort_unstable();
    ports.dedup();
    ports
}

/// The controller a pod belongs to, as (kind, name), following ReplicaSet ->
/// Deployment and Job -> CronJob, also when the intermediate object is absent.
fn top_owner(
    pod: &Object,
    by_name: &HashMap<(&str, &str, &str), &Object>,
) -> Option<(String, String)> {
    let owner = pod
        .owners
        .iter()
        .find(|o| o.controller)
        .or(pod.owners.first())?;
    let (kind, name) = (owner.kind.as_str(), owner.name.as_str());
    let parent = |k: &str| by_name.get(&(k, pod.namespace.as_str(), name)).copied();
    match kind {
        "ReplicaSet" => match parent("ReplicaSet") {
            Some(rs) => Some(match rs.owners.iter().find(|o| o.kind == "Deployment") {
                Some(d) => ("Deployment".into(), d.name.clone()),
                None => ("ReplicaSet".into(), rs.name.clone()),
            }),
            // Without the ReplicaSet, the pod-template-hash suffix names the Deployment.
            None => match pod
                .label("pod-template-hash")
                .and_then(|h| name.strip_suffix(&format!("-{h}")))
            {
                Some(deploy) => Some(("Deployment".into(), deploy.into())),
                None => Some(("ReplicaSet".into(), name.into())),
            },
        },
        "Job" => match parent("Job").and_then(|j| j.owners.iter().find(|o| o.kind == "CronJob")) {
            Some(cj) => Some(("CronJob".into(), cj.name.clone())),
            None => Some(("Job".into(), name.into())),
        },
        _ => Some((kind.into(), name.into())),
    }
}

pub fn collect(snapshot: &Snapshot) -> Vec<Raw<'_>> {
    let controllers: Vec<&Object> = kinds::WORKLOAD_KINDS
        .iter()
        .filter(|k| **k != kinds::POD)
        .flat_map(|k| snapshot.of(k))
        .collect();
    let by_name: HashMap<(&str, &str, &str), &Object> = controllers
        .iter()
        .map(|o| ((o.kind.as_str(), o.namespace.as_str(), o.name.as_str()), *o))
        .collect();
    // ReplicaSets and Jobs owned by a controller in the snapshot are not workloads themselves.
    let owned = |o: &Object| match o.kind.as_str() {
        "ReplicaSet" => o.owners.iter().any(|r| r.kind == "Deployment"),
        "Job" => o.owners.iter().any(|r| r.kind == "CronJob"),
        _ => false,
    };
    // Each workload object and pod body is parsed once, in parallel (the
    // parse was 0.9 s of a 10,000-workload model on one core); the results
    // are assembled in snapshot order, so the model does not depend on it.
    let roots: Vec<&Object> = controllers.iter().copied().filter(|o| !owned(o)).collect();
    let mut workloads: Vec<Raw> = roots.par_iter().map(|o| raw(o)).collect();
    let index: HashMap<(&str, &str, &str), usize> = roots
        .iter()
        .enumerate()
        .map(|(i, o)| ((o.kind.as_str(), o.namespace.as_str(), o.name.as_str()), i))
        .collect();
    // A pod joins its controller's workload, or is a workload of its own: a
    // bare pod, or one whose controller is not in the snapshot.
    enum Joined<'a> {
        Controller(usize, Pod<'a>),
        Own(Raw<'a>),
    }
    let pods: Vec<Joined> = snapshot
        .of(kinds::POD)
        .par_iter()
        .map(|pod| {
            let owner = top_owner(pod, &by_name);
            let slot = owner.and_then(|(k, n)| {
                index
                    .get(&(k.as_str(), pod.namespace.as_str(), n.as_str()))
                    .copied()
            });
            let body = pod.value();
            match slot {
                Some(i) => Joined::Controller(i, Pod::of(pod, &body)),
                None => {
                    let mut w = raw_from(pod, &body);
                    w.pods.push(Pod::of(pod, &body));
                    Joined::Own(w)
                }
            }
        })
        .collect();
    for pod in pods {
        match pod {
            Joined::Controller(i, p) => workloads[i].pods.push(p),
            Joined::Own(w) => workloads.push(w),
        }
    }
    workloads
}

fn raw(o: &Object) -> Raw<'_> {
    // One parse of the (projected) body per workload object.
    raw_from(o, &o.value())
}

fn raw_from<'a>(o: &'a Object, body: &Value) -> Raw<'a> {
    let spec = body.pointer(&format!("{}/spec", template_path(o)));
    Raw {
        object: o,
        namespace: o.namespace.clone(),
        labels: template_meta(o, body, "labels"),
        annotations: template_meta(o, body, "annotations"),
        service_account: service_account(spec),
        container_ports: container_ports(spec),
        containers: containers(spec),
        pods: Vec::new(),
        host_network: spec
            .and_then(|s| s.get("hostNetwork"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
    }
}

/// Enrollment of a workload: what its pods show if any were observed, else what
/// its template and namespace ask for.
pub fn enrollment(
    w: &Raw,
    ns: &Enrollment,
    ns_labels: Option<&BTreeMap<String, String>>,
    injector: &enrollment::Injector,
) -> Enrollment {
    let intended = enrollment::template(&enrollment::Pod {
        namespace: &w.namespace,
        ns_labels,
        ns,
        labels: &w.labels,
        annotations: &w.annotations,
        host_network: w.host_network,
        injector,
    });
    let observed: Vec<Enrollment> = w
        .pods
        .iter()
        .map(|p| enrollment::observed_pod(p.object, &p.facts, &intended))
        .collect();
    // The least protected pod decides: one pod without a proxy is a hole.
    observed
        .into_iter()
        .min_by_key(|e| {
            (
                e.dataplane != super::enrollment::Dataplane::None,
                e.confidence,
            )
        })
        .unwrap_or(intended)
}

//! What a running check can see: the declared snapshot kinds and the mesh model.

use crate::bindings::kridik::plugin::{mesh, snapshot};
use crate::{Confidence, Finding, MeshConfig, NamespaceInfo, Object, ObjectRef, Policy, Severity};
use crate::{SourceKind, Unavailable, Workload};
use serde::de::DeserializeOwned;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The mesh model, fetched from the host and decoded once per component
/// instance: the host runs all of a component's checks in one instance during
/// a scan, and the model does not change during a scan. Snapshot objects are
/// not kept here: which kinds a check may read is decided per check.
struct Model {
    config: OnceLock<MeshConfig>,
    workloads: OnceLock<Vec<Workload>>,
    policies: OnceLock<Vec<Policy>>,
    namespaces: OnceLock<Vec<NamespaceInfo>>,
    // Lookups by key, built on first use so per-policy lookups stay O(1).
    policy_index: OnceLock<HashMap<(String, String, String), usize>>,
    workload_index: OnceLock<HashMap<String, usize>>,
    namespace_index: OnceLock<HashMap<String, usize>>,
}

static MODEL: Model = Model {
    config: OnceLock::new(),
    workloads: OnceLock::new(),
    policies: OnceLock::new(),
    namespaces: OnceLock::new(),
    policy_index: OnceLock::new(),
    workload_index: OnceLock::new(),
    namespace_index: OnceLock::new(),
};

/// The context of one check run.
pub struct Ctx {
    check_id: String,
}

impl Ctx {
    pub(crate) fn new(check_id: &str) -> Self {
        Ctx {
            check_id: check_id.into(),
        }
    }

    pub fn check_id(&self) -> &str {
        &self.check_id
    }

    /// Objects of a declared kind, or why they are not available. A kind the
    /// cluster does not serve (its CRD is not installed) has no objects: that
    /// is proof of absence, not a gap.
    pub fn objects(&self, kind: &str) -> Result<Vec<Object>, Unavailable> {
        match snapshot::objects(kind) {
            Err(u) if u.reason == crate::UnavailableReason::NotInstalled => Ok(Vec::new()),
            other => other,
        }
    }

    pub fn source(&self) -> SourceKind {
        snapshot::source()
    }

    /// Live scans prove what exists; offline scans only infer from the files given.
    pub fn observed(&self) -> Confidence {
        match self.source() {
            SourceKind::Live => Confidence::Verified,
            SourceKind::Offline => Confidence::Inferred,
        }
    }

    pub fn mesh_config(&self) -> MeshConfig {
        MODEL.config.get_or_init(mesh::config).clone()
    }

    pub fn namespaces(&self) -> &'static [NamespaceInfo] {
        MODEL.namespaces.get_or_init(mesh::namespaces)
    }

    pub fn namespace(&self, name: &str) -> Option<&'static NamespaceInfo> {
        let index = MODEL.namespace_index.get_or_init(|| {
            let namespaces = self.namespaces();
            (0..namespaces.len())
                .map(|i| (namespaces[i].name.clone(), i))
                .collect()
        });
        index.get(name).map(|&i| &self.namespaces()[i])
    }

    /// Why a namespace holds sensitive data, if its labels say so: `kridik.io/sensitive:
    /// "true"` or a `data-classification` (also `kridik.io/data-classification`) of
    /// confidential, restricted, secret, sensitive or pii. Findings there rank higher.
    pub fn sensitivity(&self, namespace: &str) -> Option<String> {
        let labels = &self.namespace(namespace)?.labels;
        if lookup(labels, "kridik.io/sensitive") == Some("true") {
            return Some(format!(
                "namespace {namespace} is labelled kridik.io/sensitive=true"
            ));
        }
        ["data-classification", "kridik.io/data-classification"]
            .iter()
            .find_map(|key| {
                let class = lookup(labels, key)?;
                SENSITIVE_CLASSES
                    .contains(&class.to_ascii_lowercase().as_str())
                    .then(|| format!("namespace {namespace} is labelled {key}={class}"))
            })
    }

    /// Why findings on these workloads weigh more, if anything says so: a namespace
    /// labelled sensitive (see [`Ctx::sensitivity`]), or routes that bring traffic
    /// in from a gateway. The first reason of each sort, joined.
    pub fn blast_radius<'a>(
        &self,
        workloads: impl IntoIterator<Item = &'a Workload>,
    ) -> Option<String> {
        let (mut sensitive, mut exposed) = (None, None);
        for w in workloads {
            if sensitive.is_none() {
                sensitive = self.sensitivity(&w.namespace);
            }
            if exposed.is_none() && !w.ingress.is_empty() {
                let routes: Vec<String> = w.ingress.iter().map(ObjectRef::display).collect();
                exposed = Some(format!(
                    "{} is reachable from outside the mesh through {}",
                    w.id,
                    routes.join(", ")
                ));
            }
        }
        let reasons: Vec<String> = sensitive.into_iter().chain(exposed).collect();
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }

    pub fn workloads(&self) -> &'static [Workload] {
        MODEL.workloads.get_or_init(mesh::workloads)
    }

    pub fn policies(&self) -> &'static [Policy] {
        MODEL.policies.get_or_init(mesh::policies)
    }

    /// The policy record for an object (AuthorizationPolicy, PeerAuthentication, ...).
    pub fn policy(&self, target: &ObjectRef) -> Option<&'static Policy> {
        let index = MODEL.policy_index.get_or_init(|| {
            let policies = self.policies();
            (0..policies.len())
                .map(|i| (object_key(&policies[i].target), i))
                .collect()
        });
        index.get(&object_key(target)).map(|&i| &self.policies()[i])
    }

    /// The workload with this id (`namespace/Kind/name`).
    pub fn workload(&self, id: &str) -> Option<&'static Workload> {
        let index = MODEL.workload_index.get_or_init(|| {
            let workloads = self.workloads();
            (0..workloads.len())
                .map(|i| (workloads[i].id.clone(), i))
                .collect()
        });
        index.get(id).map(|&i| &self.workloads()[i])
    }

    /// The workloads a policy (AuthorizationPolicy, PeerAuthentication, ...) applies to.
    pub fn selected(&self, policy: &ObjectRef) -> Vec<&'static Workload> {
        self.policy(policy)
            .map(|p| {
                p.workloads
                    .iter()
                    .filter_map(|id| self.workload(id))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// One finding about `object` for several problems: the worst severity, the
    /// problems as the message and one evidence each; None when there are none.
    pub fn problems(
        &self,
        object: &ObjectRef,
        title: &str,
        problems: &[(Severity, String)],
    ) -> Option<Finding> {
        let severity = problems.iter().map(|(s, _)| *s).max()?;
        let listed: Vec<&str> = problems.iter().map(|(_, p)| p.as_str()).collect();
        let finding = self
            .finding(severity, object, title)
            .confidence(self.observed())
            .message(format!("{}: {}.", object.display(), listed.join("; ")));
        Some(
            listed
                .iter()
                .fold(finding, |f, p| f.evidence(self.observed(), Some(object), p)),
        )
    }

    /// Starts a finding of this check about `object`.
    pub fn finding(&self, severity: Severity, object: &ObjectRef, title: &str) -> Finding {
        Finding::new(&self.check_id, severity, object, title)
    }

    /// Objects of a declared kind parsed into `T` (objects that do not fit are
    /// skipped); when the kind is unreadable, the UNKNOWN finding to return
    /// instead of passing or failing. `what` names what could not be assessed.
    pub fn parsed<T: DeserializeOwned>(
        &self,
        kind: &str,
        what: &str,
    ) -> Result<Vec<(Object, T)>, Box<Finding>> {
        let objects = self.objects(kind).map_err(|missing| {
            Box::new(self.unknown(&missing, &format!("{what} could not be assessed")))
        })?;
        Ok(objects
            .into_iter()
            .filter_map(|o| o.parse().ok().map(|t| (o, t)))
            .collect())
    }

    /// A finding that says the check could not decide because a kind was unreadable.
    pub fn unknown(&self, missing: &Unavailable, title: &str) -> Finding {
        let object = ObjectRef {
            api_version: String::new(),
            kind: missing.kind.clone(),
            namespace: String::new(),
            name: String::new(),
            file: None,
            line: None,
        };
        Finding::new(&self.check_id, Severity::Info, &object, title)
            .confidence(Confidence::Unknown)
            .message(format!(
                "could not be assessed: {} is unavailable ({:?}): {}",
                missing.kind, missing.reason, missing.detail
            ))
            .evidence(Confidence::Unknown, None, &missing.detail)
    }
}

const SENSITIVE_CLASSES: &[&str] = &["confidential", "restricted", "secret", "sensitive", "pii"];

fn object_key(o: &ObjectRef) -> (String, String, String) {
    (o.kind.clone(), o.namespace.clone(), o.name.clone())
}

/// Same Kubernetes object (files and lines aside).
pub fn same_object(a: &ObjectRef, b: &ObjectRef) -> bool {
    a.kind == b.kind && a.namespace == b.namespace && a.name == b.name
}

/// Typed views of a snapshot object.
pub trait ObjectExt {
    /// Deserializes the object's JSON into `T` (only the fields `T` names).
    fn parse<T: DeserializeOwned>(&self) -> Result<T, String>;
    fn label(&self, key: &str) -> Option<&str>;
    fn annotation(&self, key: &str) -> Option<&str>;
}

impl ObjectExt for Object {
    fn parse<T: DeserializeOwned>(&self) -> Result<T, String> {
        serde_json::from_str(&self.json).map_err(|e| {
            format!(
                "{} {}/{}: unexpected shape: {e}",
                self.target.kind, self.target.namespace, self.target.name
            )
        })
    }

    fn label(&self, key: &str) -> Option<&str> {
        lookup(&self.labels, key)
    }

    fn annotation(&self, key: &str) -> Option<&str> {
        lookup(&self.annotations, key)
    }
}

pub(crate) fn lookup<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

impl Workload {
    pub fn label(&self, key: &str) -> Option<&str> {
        lookup(&self.labels, key)
    }

    pub fn annotation(&self, key: &str) -> Option<&str> {
        lookup(&self.annotations, key)
    }

    /// An ingress gateway's pods: Istio's `istio: *ingress*` label, or pods the
    /// Gateway API controller deployed for a class other than waypoint and east-west.
    pub fn is_ingress_gateway(&self) -> bool {
        self.label("istio").is_some_and(|v| v.contains("ingress"))
            || (self
                .label("gateway.networking.k8s.io/gateway-name")
                .is_some()
                && !matches!(
                    self.label("gateway.networking.k8s.io/gateway-class-name"),
                    Some("istio-waypoint" | "istio-east-west")
                ))
    }

    /// Has a sidecar or is ambient.
    pub fn enrolled(&self) -> bool {
        self.enrollment.dataplane != crate::Dataplane::None
    }
}

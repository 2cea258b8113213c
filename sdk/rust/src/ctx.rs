//! What a running check can see: the declared snapshot kinds and the mesh model.

use crate::bindings::kridik::plugin::{mesh, snapshot};
use crate::{Confidence, Finding, MeshConfig, NamespaceInfo, Object, ObjectRef, Policy, Severity};
use crate::{SourceKind, Unavailable, Workload};
use serde::de::DeserializeOwned;
use std::any::{Any, TypeId};
use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The mesh model, fetched from the host and decoded once per component
/// instance: the host runs all of a component's checks in one instance during
/// a scan, and the model does not change during a scan.
struct Model {
    config: OnceLock<MeshConfig>,
    workloads: OnceLock<Vec<Workload>>,
    policies: OnceLock<Vec<Policy>>,
    namespaces: OnceLock<Vec<NamespaceInfo>>,
    // Lookups by key, built on first use so per-policy lookups stay O(1).
    // Keys borrow from the records above, which live as long as the instance:
    // building an index copies no strings, and a lookup allocates nothing.
    policy_index: OnceLock<HashMap<ObjectKey<'static>, usize>>,
    workload_index: OnceLock<HashMap<&'static str, usize>>,
    namespace_index: OnceLock<HashMap<&'static str, usize>>,
    // Positions of the workloads each policy applies to, resolved once: checks
    // ask for the workloads of every one of 10,000 policies, often several times.
    selected_index: OnceLock<Vec<Vec<usize>>>,
    istio_components: OnceLock<Vec<Workload>>,
}

static MODEL: Model = Model {
    config: OnceLock::new(),
    workloads: OnceLock::new(),
    policies: OnceLock::new(),
    namespaces: OnceLock::new(),
    policy_index: OnceLock::new(),
    workload_index: OnceLock::new(),
    namespace_index: OnceLock::new(),
    selected_index: OnceLock::new(),
    istio_components: OnceLock::new(),
};

// Snapshot kinds, copied from the host once per instance and kept for all of
// the component's checks; each check's right to read a kind is still asked of
// the host (`snapshot::access`) on every call. Parsed forms are kept per kind
// and target type, so sixteen checks over 10,000 policies parse them once.
// A component runs on one thread: thread-locals, leaked for `'static` borrows
// that live as long as the instance anyway.
thread_local! {
    static KINDS: RefCell<HashMap<String, &'static [Object]>> = RefCell::new(HashMap::new());
    static NAMESPACES: RefCell<HashMap<String, &'static [Workload]>> = RefCell::new(HashMap::new());
    static PARSED: RefCell<HashMap<(String, TypeId), &'static dyn Any>> = RefCell::new(HashMap::new());
}

/// A list the host sent in one buffer (`*-packed` in mesh.wit): decoded here,
/// inside the guest, instead of one boundary allocation per string. None if
/// it does not decode whole, and the caller asks for the typed list instead.
fn unpack<T: DeserializeOwned>(bytes: &[u8]) -> Option<Vec<T>> {
    match postcard::take_from_bytes::<Vec<T>>(bytes) {
        Ok((list, [])) => Some(list),
        _ => None,
    }
}

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
    pub fn objects(&self, kind: &str) -> Result<&'static [Object], Unavailable> {
        if self.access(kind)? == 0 {
            return Ok(&[]);
        }
        if let Some(cached) = KINDS.with(|k| k.borrow().get(kind).copied()) {
            return Ok(cached);
        }
        // One buffer decoded here (0.2.1) rather than one guest allocation
        // per string made by the host; the typed list if it does not decode.
        let listed = snapshot::objects_packed(kind)
            .map(|bytes| unpack(&bytes))
            .transpose()
            .unwrap_or_else(|| snapshot::objects(kind));
        let fetched: &'static [Object] = match listed {
            Ok(objects) => Vec::leak(objects),
            Err(u) if u.reason == crate::UnavailableReason::NotInstalled => &[],
            Err(u) => return Err(u),
        };
        KINDS.with(|k| k.borrow_mut().insert(kind.to_string(), fetched));
        Ok(fetched)
    }

    /// Whether this check may read a declared kind and how many objects it
    /// holds, without copying them (a kind the cluster does not serve has none).
    pub fn access(&self, kind: &str) -> Result<u32, Unavailable> {
        match snapshot::access(kind) {
            Err(u) if u.reason == crate::UnavailableReason::NotInstalled => Ok(0),
            other => other,
        }
    }

    /// The objects of a declared kind in one namespace (`""`: cluster-scoped),
    /// without copying the rest of the kind.
    pub fn objects_in(&self, kind: &str, namespace: &str) -> Result<Vec<Object>, Unavailable> {
        match snapshot::objects_in(kind, namespace) {
            Err(u) if u.reason == crate::UnavailableReason::NotInstalled => Ok(Vec::new()),
            other => other,
        }
    }

    /// One object of a declared kind by namespace (`""` when cluster-scoped) and name.
    pub fn object(
        &self,
        kind: &str,
        namespace: &str,
        name: &str,
    ) -> Result<Option<Object>, Unavailable> {
        match snapshot::find_object(kind, namespace, name) {
            Err(u) if u.reason == crate::UnavailableReason::NotInstalled => Ok(None),
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
                .map(|i| (namespaces[i].name.as_str(), i))
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
        MODEL
            .workloads
            .get_or_init(|| unpack(&mesh::workloads_packed()).unwrap_or_else(mesh::workloads))
    }

    /// Istio's own workloads (istiod, gateways, waypoints, ztunnel, the CNI
    /// agent), without copying the rest of the mesh when no other check of
    /// the component needs it.
    pub fn istio_components(&self) -> &'static [Workload] {
        MODEL.istio_components.get_or_init(mesh::istio_components)
    }

    /// The workloads of one namespace.
    pub fn workloads_in(&self, namespace: &str) -> Vec<&'static Workload> {
        match MODEL.workloads.get() {
            Some(all) => all.iter().filter(|w| w.namespace == namespace).collect(),
            None => {
                let cached = NAMESPACES.with(|n| n.borrow().get(namespace).copied());
                let listed: &'static [Workload] = cached.unwrap_or_else(|| {
                    let listed = Vec::leak(mesh::workloads_in(namespace));
                    NAMESPACES.with(|n| n.borrow_mut().insert(namespace.to_string(), listed));
                    listed
                });
                listed.iter().collect()
            }
        }
    }

    pub fn policies(&self) -> &'static [Policy] {
        MODEL
            .policies
            .get_or_init(|| unpack(&mesh::policies_packed()).unwrap_or_else(mesh::policies))
    }

    /// The policy record for an object (AuthorizationPolicy, PeerAuthentication, ...).
    pub fn policy(&self, target: &ObjectRef) -> Option<&'static Policy> {
        self.policy_position(target).map(|i| &self.policies()[i])
    }

    fn policy_position(&self, target: &ObjectRef) -> Option<usize> {
        let index = MODEL.policy_index.get_or_init(|| {
            let policies = self.policies();
            (0..policies.len())
                .map(|i| (object_key(&policies[i].target), i))
                .collect()
        });
        index.get(&object_key(target)).copied()
    }

    /// The workload with this id (`namespace/Kind/name`).
    pub fn workload(&self, id: &str) -> Option<&'static Workload> {
        self.workload_position(id).map(|i| &self.workloads()[i])
    }

    fn workload_position(&self, id: &str) -> Option<usize> {
        let index = MODEL.workload_index.get_or_init(|| {
            let workloads = self.workloads();
            (0..workloads.len())
                .map(|i| (workloads[i].id.as_str(), i))
                .collect()
        });
        index.get(id).copied()
    }

    /// The workloads a policy (AuthorizationPolicy, PeerAuthentication, ...) applies to.
    pub fn selected(&self, policy: &ObjectRef) -> Vec<&'static Workload> {
        let Some(i) = self.policy_position(policy) else {
            return Vec::new();
        };
        let index = MODEL.selected_index.get_or_init(|| {
            self.policies()
                .iter()
                .map(|p| {
                    p.workloads
                        .iter()
                        .filter_map(|id| self.workload_position(id))
                        .collect()
                })
                .collect()
        });
        let workloads = self.workloads();
        index[i].iter().map(|&w| &workloads[w]).collect()
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
    /// Parsed once per component instance and type, whichever check asks first.
    pub fn parsed<T: DeserializeOwned + 'static>(
        &self,
        kind: &str,
        what: &str,
    ) -> Result<Vec<Parsed<T>>, Box<Finding>> {
        let objects = self.objects(kind).map_err(|missing| {
            Box::new(self.unknown(&missing, &format!("{what} could not be assessed")))
        })?;
        let key = (kind.to_string(), TypeId::of::<T>());
        let cached = PARSED.with(|p| p.borrow().get(&key).copied());
        let parsed: &'static Vec<(&'static Object, T)> = match cached {
            Some(any) => any
                .downcast_ref()
                .expect("the cache is keyed by the type it holds"),
            None => {
                let parsed: &'static Vec<(&'static Object, T)> = Box::leak(Box::new(
                    objects
                        .iter()
                        .filter_map(|o| o.parse().ok().map(|t| (o, t)))
                        .collect(),
                ));
                PARSED.with(|p| p.borrow_mut().insert(key, parsed as &'static dyn Any));
                parsed
            }
        };
        Ok(parsed.iter().map(|(o, t)| (*o, t)).collect())
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

/// Kind, namespace and name: what names an object, files and lines aside.
type ObjectKey<'a> = (&'a str, &'a str, &'a str);

fn object_key(o: &ObjectRef) -> ObjectKey<'_> {
    (&o.kind, &o.namespace, &o.name)
}

/// Same Kubernetes object (files and lines aside).
pub fn same_object(a: &ObjectRef, b: &ObjectRef) -> bool {
    a.kind == b.kind && a.namespace == b.namespace && a.name == b.name
}

/// An object and its typed form, both kept for the whole component instance.
pub type Parsed<T> = (&'static Object, &'static T);

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

//! The host side of the WIT imports (`snapshot`, `mesh`) and the conversions
//! between host types and binding types. Each supported `kridik:plugin`
//! version has its own binding types; one body, instantiated per version by
//! [`version!`], converts for all of them, so 0.1 components and 0.2 ones see
//! the same model.

use super::sandbox::State;
use crate::gather::{Object, UnavailableReason};
use crate::model::{self, Dataplane, MtlsMode, PolicyScope, ScanData};
use crate::report::model as report;
use crate::vocab::{Confidence, ObjectRef, Severity};
use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

/// The scan data and, built lazily once per scan and shared by every
/// component, its WIT forms for each version.
pub struct WitData {
    pub data: Arc<ScanData>,
    pub v0_1: v0_1::Cache,
    pub v0_2: v0_2::Cache,
    packed_workloads: OnceLock<Vec<u8>>,
    packed_policies: OnceLock<Vec<u8>>,
}

impl WitData {
    pub fn new(data: Arc<ScanData>) -> Self {
        WitData {
            data,
            v0_1: Default::default(),
            v0_2: Default::default(),
            packed_workloads: OnceLock::new(),
            packed_policies: OnceLock::new(),
        }
    }

    /// Builds what every 0.2 component asks for first (the packed model, the
    /// query index) before the checks start, on both cores: host work done
    /// once per scan, not billed to whichever check happens to ask first.
    pub fn prepare(&self) {
        rayon::join(
            || self.packed_workloads(),
            || {
                self.packed_policies();
                self.data.prepare();
            },
        );
    }

    /// The 0.2 workload records in the `*-packed` encoding, built once per
    /// scan and shared by every component (one copy each crosses over).
    fn packed_workloads(&self) -> &[u8] {
        self.packed_workloads
            .get_or_init(|| pack(self.data.model.workloads.iter().map(v0_2::workload), 0))
    }

    fn packed_policies(&self) -> &[u8] {
        self.packed_policies
            .get_or_init(|| pack(self.data.model.policies.iter().map(v0_2::policy), 0))
    }
}

/// Postcard's encoding of a list (its length, then each item), written one
/// record at a time so the whole list never exists in binding form, into a
/// vector of `capacity` bytes to start with (each string copied once).
fn pack<T: serde::Serialize>(items: impl ExactSizeIterator<Item = T>, capacity: usize) -> Vec<u8> {
    /// A list serialized from an iterator (taken on the one `serialize` call).
    struct Items<I>(std::cell::Cell<Option<I>>);
    impl<T: serde::Serialize, I: ExactSizeIterator<Item = T>> serde::Serialize for Items<I> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            match self.0.take() {
                Some(items) => s.collect_seq(items),
                None => Err(serde::ser::Error::custom("a list is packed once")),
            }
        }
    }
    /// A growable output that copies slices whole (postcard's default
    /// `try_extend` pushes byte by byte).
    struct Bytes(Vec<u8>);
    impl postcard::ser_flavors::Flavor for Bytes {
        type Output = Vec<u8>;
        fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
            self.0.extend_from_slice(data);
            Ok(())
        }
        fn try_push(&mut self, data: u8) -> postcard::Result<()> {
            self.0.push(data);
            Ok(())
        }
        fn finalize(self) -> postcard::Result<Vec<u8>> {
            Ok(self.0)
        }
    }
    let items = Items(std::cell::Cell::new(Some(items)));
    postcard::serialize_with_flavor(&items, Bytes(Vec::with_capacity(capacity)))
        .expect("a model record encodes")
}

/// `snapshot.object` (0.2.1 `objects-packed`) serialized straight from the
/// snapshot: field for field the binding record, without building it first.
#[derive(serde::Serialize)]
struct PackedObject<'a> {
    target: PackedRef<'a>,
    uid: &'a str,
    labels: Pairs<'a>,
    annotations: Pairs<'a>,
    creation_timestamp: Option<&'a str>,
    json: &'a str,
}

/// `types.object-ref`, borrowed.
#[derive(serde::Serialize)]
struct PackedRef<'a> {
    api_version: &'a str,
    kind: &'a str,
    namespace: &'a str,
    name: &'a str,
    file: Option<&'a str>,
    line: Option<u32>,
}

/// `list<tuple<string, string>>`, borrowed from a map.
struct Pairs<'a>(&'a BTreeMap<String, String>);

impl serde::Serialize for Pairs<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.iter())
    }
}

impl<'a> PackedObject<'a> {
    fn of(o: &'a Object) -> Self {
        PackedObject {
            target: PackedRef {
                api_version: &o.api_version,
                kind: &o.kind,
                namespace: &o.namespace,
                name: &o.name,
                file: o.origin.as_ref().map(|x| &*x.file),
                line: o.origin.as_ref().map(|x| x.line),
            },
            uid: &o.uid,
            labels: Pairs(&o.labels),
            annotations: Pairs(&o.annotations),
            creation_timestamp: o.creation_timestamp.as_deref(),
            json: o.json().get(),
        }
    }
}

/// Why a check may not read `kind`, in terms of the host's snapshot.
enum Refusal<'a> {
    NotDeclared,
    NeverRead,
    Unavailable(&'a crate::gather::Unavailable),
}

fn refusal<'a>(state: &'a State, kind: &str) -> Option<Refusal<'a>> {
    if !state.declared.contains(kind) {
        return Some(Refusal::NotDeclared);
    }
    if crate::kinds::NEVER_READ.contains(&kind) {
        return Some(Refusal::NeverRead);
    }
    state
        .data
        .data
        .snapshot
        .unavailable
        .get(kind)
        .map(Refusal::Unavailable)
}

macro_rules! version {
    ($v:ident, injected_settings: $injected:expr) => {
        pub mod $v {
            use super::*;
            pub use crate::runtime::bindings::$v::kridik::plugin::{
                mesh as wm, snapshot as ws, types as wt,
            };

            /// This version's form of the model. Objects are converted per
            /// call and not kept: an SDK asks for a kind once per component,
            /// and a second copy of every declared kind for the whole scan
            /// cost more memory than the conversion costs time.
            #[derive(Default)]
            pub struct Cache {
                mesh: OnceLock<WitMesh>,
            }

            impl Cache {
                pub fn mesh(&self, data: &ScanData) -> &WitMesh {
                    self.mesh.get_or_init(|| wit_mesh(&data.model))
                }
            }

            /// The check may read `kind`, or why not, in this version's terms.
            pub fn readable(state: &State, kind: &str) -> Result<(), ws::Unavailable> {
                let refused = |reason, detail: String| ws::Unavailable {
                    kind: kind.to_string(),
                    reason,
                    detail,
                };
                match refusal(state, kind) {
                    None => Ok(()),
                    Some(Refusal::NotDeclared) => Err(refused(
                        ws::UnavailableReason::NotDeclared,
                        format!("the check did not declare `{kind}` in its check-info kinds"),
                    )),
                    // kridik never reads Secrets: saying so keeps a check from
                    // taking "no Secrets" for a fact.
                    Some(Refusal::NeverRead) => Err(refused(
                        ws::UnavailableReason::Forbidden,
                        format!("kridik never reads `{kind}` (credentials stay out of the snapshot); assess what references it instead"),
                    )),
                    Some(Refusal::Unavailable(u)) => Err(unavailable(u)),
                }
            }

            pub fn source(state: &State) -> ws::SourceKind {
                if state.data.data.snapshot.is_live() {
                    ws::SourceKind::Live
                } else {
                    ws::SourceKind::Offline
                }
            }

            pub fn objects(state: &State, kind: String) -> Result<Vec<ws::Object>, ws::Unavailable> {
                readable(state, &kind)?;
                Ok(state.data.data.snapshot.of(&kind).iter().map(wit_object).collect())
            }

            pub fn unavailable_kinds(state: &State) -> Vec<ws::Unavailable> {
                let snapshot = &state.data.data.snapshot;
                state
                    .declared
                    .iter()
                    .filter_map(|k| snapshot.unavailable.get(k))
                    .map(unavailable)
                    .collect()
            }

            pub fn mesh(state: &State) -> &WitMesh {
                state.data.$v.mesh(&state.data.data)
            }

            /// The small parts of the model in binding types, converted once
            /// per scan. Workloads and policies are converted per call from the
            /// model: a kept copy cost as much to clone as to convert, and
            /// held the whole model a second time for the scan.
            pub struct WitMesh {
                pub config: wm::MeshConfig,
                pub namespaces: Vec<wm::NamespaceInfo>,
            }

        fn unavailable(u: &crate::gather::Unavailable) -> ws::Unavailable {
            ws::Unavailable {
                kind: u.kind.clone(),
                reason: match u.reason {
                    UnavailableReason::Forbidden => ws::UnavailableReason::Forbidden,
                    UnavailableReason::NotInstalled => ws::UnavailableReason::NotInstalled,
                    UnavailableReason::Failed => ws::UnavailableReason::Failed,
                },
                detail: u.detail.clone(),
            }
        }

        pub fn wit_object(o: &Object) -> ws::Object {
            ws::Object {
                target: into_wit(ObjectRef::of(o)),
                uid: o.uid.clone(),
                labels: pairs(&o.labels),
                annotations: pairs(&o.annotations),
                creation_timestamp: o.creation_timestamp.clone(),
                json: o.json().get().to_owned(),
            }
        }

        pub fn policy(p: &model::policies::Policy) -> wm::Policy {
            wm::Policy {
                target: object_ref(&p.target),
                scope: match p.scope {
                    PolicyScope::Mesh => wm::PolicyScope::Mesh,
                    PolicyScope::Namespace => wm::PolicyScope::Namespace,
                    PolicyScope::Workload => wm::PolicyScope::Workload,
                    PolicyScope::TargetRefs => wm::PolicyScope::TargetRefs,
                },
                workloads: p.workloads.clone(),
                matches_nothing: p.matches_nothing,
                reason: p.reason.clone(),
            }
        }

        pub fn wit_mesh(m: &model::MeshModel) -> WitMesh {
            let c = &m.config;
            WitMesh {
                config: wm::MeshConfig {
                    root_namespace: c.root_namespace.clone(),
                    trust_domain: c.trust_domain.clone(),
                    path_normalization: match c.path_normalization {
                        model::meshconfig::PathNormalization::None => wm::PathNormalization::None,
                        model::meshconfig::PathNormalization::Base => wm::PathNormalization::Base,
                        model::meshconfig::PathNormalization::MergeSlashes => {
                            wm::PathNormalization::MergeSlashes
                        }
                        model::meshconfig::PathNormalization::DecodeAndMergeSlashes => {
                            wm::PathNormalization::DecodeAndMergeSlashes
                        }
                    },
                    outbound_traffic_policy: c.outbound_traffic_policy.clone(),
                    enable_auto_mtls: c.enable_auto_mtls,
                    extension_providers: c
                        .extension_providers
                        .iter()
                        .map(|p| wm::ExtensionProvider {
                            name: p.name.clone(),
                            kind: p.kind.clone(),
                        })
                        .collect(),
                    source: c.source.as_ref().map(object_ref),
                    json: c.json.to_string(),
                    install_json: c.install.to_string(),
                    install_source: c.install_source.as_ref().map(object_ref),
                },
                namespaces: m
                    .namespaces
                    .iter()
                    .map(|n| wm::NamespaceInfo {
                        name: n.name.clone(),
                        labels: pairs(&n.labels),
                        enrollment: enrollment(&n.enrollment),
                        target: n.target.as_ref().map(object_ref),
                    })
                    .collect(),
            }
        }

        pub fn workload(w: &model::Workload) -> wm::Workload {
            let refs = |v: &[ObjectRef]| v.iter().map(object_ref).collect();
            wm::Workload {
                id: w.id.clone(),
                target: object_ref(&w.target),
                namespace: w.namespace.clone(),
                name: w.name.clone(),
                service_account: w.service_account.clone(),
                identity: w.identity.clone(),
                labels: pairs(&w.labels),
                container_ports: w.container_ports.clone(),
                annotations: pairs(&w.annotations),
                containers: {
                    let settings = $injected || w.is_istio_component();
                    w.containers
                    .iter()
                    .map(|c| wm::Container {
                        name: c.name.clone(),
                        image: c.image.clone(),
                        init: c.init,
                        run_as_user: c.run_as_user,
                        capabilities_added: c.capabilities_added.clone(),
                        args: if settings { c.args.clone() } else { Vec::new() },
                        env: if settings { c.env.clone() } else { Vec::new() },
                    })
                    .collect()
                },
                pods: w.pods,
                enrollment: enrollment(&w.enrollment),
                mtls: wm::Mtls {
                    mode: mtls_mode(w.mtls.mode),
                    confidence: confidence(w.mtls.confidence),
                    decided_by: w.mtls.decided_by.as_ref().map(object_ref),
                    reason: w.mtls.reason.clone(),
                    ports: w
                        .mtls
                        .ports
                        .iter()
                        .map(|p| wm::PortMtls {
                            port: p.port,
                            mode: mtls_mode(p.mode),
                            decided_by: p.decided_by.as_ref().map(object_ref),
                        })
                        .collect(),
                },
                services: refs(&w.services),
                authorization_policies: refs(&w.authorization_policies),
                request_authentications: refs(&w.request_authentications),
                peer_authentications: refs(&w.peer_authentications),
                waypoint: w.waypoint.clone(),
                ingress: refs(&w.ingress),
            }
        }

        fn enrollment(e: &model::Enrollment) -> wm::Enrollment {
            wm::Enrollment {
                dataplane: match e.dataplane {
                    Dataplane::None => wm::Dataplane::None,
                    Dataplane::Sidecar => wm::Dataplane::Sidecar,
                    Dataplane::Ambient => wm::Dataplane::Ambient,
                },
                confidence: confidence(e.confidence),
                reason: e.reason.clone(),
            }
        }

        fn mtls_mode(m: MtlsMode) -> wm::MtlsMode {
            match m {
                MtlsMode::Unset => wm::MtlsMode::Unset,
                MtlsMode::Disable => wm::MtlsMode::Disable,
                MtlsMode::Permissive => wm::MtlsMode::Permissive,
                MtlsMode::Strict => wm::MtlsMode::Strict,
            }
        }

        fn pairs(m: &BTreeMap<String, String>) -> Vec<(String, String)> {
            m.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
        }

        /// A reference in this version's terms, moved: every object of a
        /// kind crosses with one built for the call.
        fn into_wit(r: ObjectRef) -> wt::ObjectRef {
            wt::ObjectRef {
                api_version: r.api_version,
                kind: r.kind,
                namespace: r.namespace,
                name: r.name,
                file: r.file,
                line: r.line,
            }
        }

        fn object_ref(r: &ObjectRef) -> wt::ObjectRef {
            into_wit(r.clone())
        }

        fn confidence(c: Confidence) -> wt::Confidence {
            match c {
                Confidence::Verified => wt::Confidence::Verified,
                Confidence::Inferred => wt::Confidence::Inferred,
                Confidence::Unknown => wt::Confidence::Unknown,
            }
        }

        fn wit_severity(s: Severity) -> wt::Severity {
            match s {
                Severity::Info => wt::Severity::Info,
                Severity::Low => wt::Severity::Low,
                Severity::Medium => wt::Severity::Medium,
                Severity::High => wt::Severity::High,
                Severity::Critical => wt::Severity::Critical,
            }
        }

        /// A report finding in WIT form, for result hooks.
                #[allow(dead_code)] // hooks are 0.1 only
                pub fn wit_finding(f: &report::Finding) -> wt::Finding {
            wt::Finding {
                check_id: f.check_id.clone(),
                severity: wit_severity(f.severity),
                confidence: confidence(f.confidence),
                title: f.title.clone(),
                message: f.message.clone(),
                object: object_ref(&f.resource),
                evidence: f
                    .evidence
                    .iter()
                    .map(|e| wt::Evidence {
                        label: confidence(e.label),
                        source: e.source.as_ref().map(object_ref),
                        detail: e.detail.clone(),
                    })
                    .collect(),
                remediation: f.remediation.as_ref().map(|r| wt::Remediation {
                    summary: r.summary.clone(),
                    yaml: r.yaml.clone(),
                }),
                references: f.references.clone(),
            }
        }

        pub fn severity(s: wt::Severity) -> Severity {
            match s {
                wt::Severity::Info => Severity::Info,
                wt::Severity::Low => Severity::Low,
                wt::Severity::Medium => Severity::Medium,
                wt::Severity::High => Severity::High,
                wt::Severity::Critical => Severity::Critical,
            }
        }

        fn label(c: wt::Confidence) -> Confidence {
            match c {
                wt::Confidence::Verified => Confidence::Verified,
                wt::Confidence::Inferred => Confidence::Inferred,
                wt::Confidence::Unknown => Confidence::Unknown,
            }
        }

        /// An object a guest names. Its file and line are the host's to fill from
        /// the snapshot (`scan::locate`), never the guest's to claim.
        fn host_ref(r: wt::ObjectRef) -> ObjectRef {
            ObjectRef {
                api_version: name(r.api_version),
                kind: name(r.kind),
                namespace: name(r.namespace),
                name: name(r.name),
                ..ObjectRef::default()
            }
        }

        /// A guest finding, attributed to the check that actually ran (a component
        /// cannot report under another check's id).
        pub fn finding(check_id: &str, f: wt::Finding) -> report::Finding {
            let resource = host_ref(f.object);
            let title = text(f.title);
            report::Finding {
                fingerprint: crate::triage::fingerprint(check_id, &resource, &title),
                suppressed: None,
                in_baseline: false,
                raised: None,
                check_id: check_id.to_string(),
                severity: severity(f.severity),
                confidence: label(f.confidence),
                title,
                message: text(f.message),
                resource,
                evidence: f
                    .evidence
                    .into_iter()
                    .take(100)
                    .map(|e| report::Evidence {
                        label: label(e.label),
                        source: e.source.map(host_ref),
                        detail: text(e.detail),
                    })
                    .collect(),
                remediation: f.remediation.map(|r| report::Remediation {
                    summary: text(r.summary),
                    yaml: r.yaml.map(block),
                }),
                references: f.references.into_iter().take(20).map(text).collect(),
            }
        }

        pub fn check_info(c: wt::CheckInfo) -> report::CheckInfo {
            report::CheckInfo {
                id: c.id,
                title: text(c.title),
                description: text(c.description),
                default_severity: severity(c.default_severity),
                category: name(c.category),
                kinds: c.kinds.into_iter().take(64).map(name).collect(),
            }
        }

        }
    };
}

// 0.1 carries the args and env of every Istio container, injected proxies
// included; 0.2 only those of Istio's own workloads (istiod, gateways, ...):
// the injector writes the same thirty settings into every sidecar, and
// copying them into every component made up 40% of the model's crossing.
version!(v0_1, injected_settings: true);
version!(v0_2, injected_settings: false);

/// The records at positions `at` of `all`, converted.
fn pick<T, W>(all: &[T], at: &[usize], convert: fn(&T) -> W) -> Vec<W> {
    at.iter().map(|&i| convert(&all[i])).collect()
}

/// The `Host` traits of one version: what every version answers alike, plus
/// that version's own queries (`snapshot: {...}`, `mesh: {...}`).
macro_rules! hosts {
    ($v:ident, snapshot: { $($ws_extra:tt)* }, mesh: { $($wm_extra:tt)* }) => {
        impl $v::wt::Host for State {}

        impl $v::ws::Host for State {
            fn source(&mut self) -> $v::ws::SourceKind {
                $v::source(self)
            }

            fn objects(&mut self, kind: String) -> Result<Vec<$v::ws::Object>, $v::ws::Unavailable> {
                $v::objects(self, kind)
            }

            fn unavailable_kinds(&mut self) -> Vec<$v::ws::Unavailable> {
                $v::unavailable_kinds(self)
            }

            $($ws_extra)*
        }

        impl $v::wm::Host for State {
            fn config(&mut self) -> $v::wm::MeshConfig {
                $v::mesh(self).config.clone()
            }

            fn namespaces(&mut self) -> Vec<$v::wm::NamespaceInfo> {
                $v::mesh(self).namespaces.clone()
            }

            fn workloads(&mut self) -> Vec<$v::wm::Workload> {
                self.data.data.model.workloads.iter().map($v::workload).collect()
            }

            fn policies(&mut self) -> Vec<$v::wm::Policy> {
                self.data.data.model.policies.iter().map($v::policy).collect()
            }

            $($wm_extra)*
        }
    };
}

hosts!(v0_1, snapshot: {}, mesh: {});

hosts!(
    v0_2,
    snapshot: {
    fn access(&mut self, kind: String) -> Result<u32, v0_2::ws::Unavailable> {
        v0_2::readable(self, &kind)?;
        Ok(u32::try_from(self.data.data.snapshot.of(&kind).len()).unwrap_or(u32::MAX))
    }

    fn objects_in(
        &mut self,
        kind: String,
        namespace: String,
    ) -> Result<Vec<v0_2::ws::Object>, v0_2::ws::Unavailable> {
        v0_2::readable(self, &kind)?;
        Ok(self
            .data
            .data
            .objects_in(&kind, &namespace)
            .iter()
            .map(v0_2::wit_object)
            .collect())
    }

    fn objects_packed(&mut self, kind: String) -> Result<Vec<u8>, v0_2::ws::Unavailable> {
        v0_2::readable(self, &kind)?;
        let objects = self.data.data.snapshot.of(&kind);
        // The JSON bodies are most of it; names, labels and lengths the rest.
        let size = objects.iter().map(|o| o.json().get().len() + 256).sum();
        Ok(pack(objects.iter().map(PackedObject::of), size))
    }

    fn find_object(
        &mut self,
        kind: String,
        namespace: String,
        name: String,
    ) -> Result<Option<v0_2::ws::Object>, v0_2::ws::Unavailable> {
        v0_2::readable(self, &kind)?;
        Ok(self
            .data
            .data
            .object(&kind, &namespace, &name)
            .map(v0_2::wit_object))
    }
    },
    mesh: {
    fn find_workload(&mut self, id: String) -> Option<v0_2::wm::Workload> {
        let i = self.data.data.workload(&id)?;
        Some(v0_2::workload(&self.data.data.model.workloads[i]))
    }

    fn workloads_in(&mut self, namespace: String) -> Vec<v0_2::wm::Workload> {
        let data = &self.data.data;
        pick(&data.model.workloads, data.workloads_in(&namespace), v0_2::workload)
    }

    fn istio_components(&mut self) -> Vec<v0_2::wm::Workload> {
        let data = &self.data.data;
        pick(&data.model.workloads, data.istio_components(), v0_2::workload)
    }

    fn find_policy(&mut self, target: v0_2::wt::ObjectRef) -> Option<v0_2::wm::Policy> {
        let i = self
            .data
            .data
            .policy(&target.kind, &target.namespace, &target.name)?;
        Some(v0_2::policy(&self.data.data.model.policies[i]))
    }

    fn policies_for(&mut self, workload_id: String) -> Vec<v0_2::wm::Policy> {
        let data = &self.data.data;
        pick(&data.model.policies, data.policies_for(&workload_id), v0_2::policy)
    }

    fn workloads_packed(&mut self) -> Vec<u8> {
        self.data.packed_workloads().to_vec()
    }

    fn policies_packed(&mut self) -> Vec<u8> {
        self.data.packed_policies().to_vec()
    }
    }
);

// ---- guest -> host ----

/// Longest text kept from a guest string (messages, YAML).
const MAX_TEXT: usize = 64 << 10;

/// A guest's one-line text: capped at [`MAX_TEXT`], control characters escaped.
pub fn text(s: String) -> String {
    crate::printable::line_owned(cap(s, MAX_TEXT))
}

/// A guest's multi-line text (YAML): newlines kept.
fn block(s: String) -> String {
    crate::printable::block_owned(cap(s, MAX_TEXT))
}

/// Longest name-like string kept from a guest (kinds, names, categories):
/// Kubernetes names are at most 253 bytes.
const MAX_NAME: usize = 512;

fn cap(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push_str(" [truncated]");
    }
    s
}

fn name(s: String) -> String {
    crate::printable::line_owned(cap(s, MAX_NAME))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gather::Origin;

    /// `objects-packed` is `objects` encoded as mesh.wit says: the bytes
    /// written from the snapshot equal postcard's encoding of the binding
    /// records, with and without a file, labels, annotations and a timestamp.
    #[test]
    fn packed_objects_encode_the_binding_records() {
        let full = Object::from_body(
            serde_json::json!({
                "apiVersion": "security.istio.io/v1",
                "kind": "AuthorizationPolicy",
                "metadata": {
                    "name": "allow", "namespace": "shop", "uid": "u-1",
                    "creationTimestamp": "2025-03-01T08:00:00Z",
                    "labels": {"b": "2", "a": "1"},
                    "annotations": {"note": "é\n"},
                },
                "spec": {"action": "ALLOW", "rules": [{}]},
            }),
            Some(Origin {
                file: "mesh/policies.yaml".into(),
                line: 12,
            }),
        )
        .unwrap();
        let bare = Object::from_body(
            serde_json::json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "shop"}}),
            None,
        )
        .unwrap();
        let objects = [full, bare];
        let packed = pack(objects.iter().map(PackedObject::of), 0);
        let records: Vec<v0_2::ws::Object> = objects.iter().map(v0_2::wit_object).collect();
        assert_eq!(packed, postcard::to_allocvec(&records).unwrap());
        assert_eq!(records[0].labels.len(), 2);
        assert_eq!(records[0].target.line, Some(12));
    }
}

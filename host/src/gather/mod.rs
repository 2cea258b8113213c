//! Gather: build a [`Snapshot`] of cluster objects from files or a live API server.

pub mod files;
pub mod live;
pub mod proxies;
pub mod rbac;

pub use kridik_parse::{cluster_scoped, Batch, InputError, Object, Origin, OwnerRef, Shape, Wants};

use std::collections::BTreeMap;

/// Where the snapshot came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Live { context: String },
    Offline,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum UnavailableReason {
    Forbidden,
    NotInstalled,
    Failed,
}

/// A kind that could not be read from the cluster.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Unavailable {
    pub kind: String,
    pub reason: UnavailableReason,
    pub detail: String,
}

/// A snapshot of the cluster: objects by kind key, and what could not be read.
#[derive(Debug)]
pub struct Snapshot {
    pub source: Source,
    /// Every object, sorted by kind key, namespace, name and origin: one
    /// allocation of exactly the input's size (per-kind vectors grown by
    /// doubling cost up to twice that on large inputs).
    objects: Vec<Object>,
    /// Each kind key's range in `objects`.
    kinds: BTreeMap<String, std::ops::Range<usize>>,
    pub unavailable: BTreeMap<String, Unavailable>,
    pub input_errors: Vec<InputError>,
    pub skipped: BTreeMap<String, usize>,
}

impl Snapshot {
    pub fn new(source: Source, batch: Batch, unavailable: BTreeMap<String, Unavailable>) -> Self {
        let mut objects = batch.objects;
        objects.shrink_to_fit();
        objects.sort_by(|a, b| {
            fn origin(o: &Object) -> Option<(&str, u32)> {
                o.origin.as_ref().map(|o| (o.file.as_ref(), o.line))
            }
            (&a.key, &a.namespace, &a.name)
                .cmp(&(&b.key, &b.namespace, &b.name))
                .then_with(|| origin(a).cmp(&origin(b)))
        });
        // The same object read twice (overlapping dumps, a file given under
        // two names) is one object: kept twice it would count its workload
        // twice. Copies that differ are all kept: `conflicts` names them.
        objects.dedup_by(|later, first| {
            same_identity(first, later) && first.json().get() == later.json().get()
        });
        let mut kinds: BTreeMap<String, std::ops::Range<usize>> = BTreeMap::new();
        for (i, o) in objects.iter().enumerate() {
            match kinds.get_mut(&o.key) {
                Some(range) => range.end = i + 1,
                None => {
                    kinds.insert(o.key.clone(), i..i + 1);
                }
            }
        }
        let mut input_errors = batch.errors;
        input_errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Snapshot {
            source,
            objects,
            kinds,
            unavailable,
            input_errors,
            skipped: batch.skipped,
        }
    }

    /// Objects of a kind key, sorted by namespace and name.
    pub fn of(&self, key: &str) -> &[Object] {
        self.kinds
            .get(key)
            .map(|r| &self.objects[r.clone()])
            .unwrap_or(&[])
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }

    pub fn all(&self) -> impl Iterator<Item = &Object> {
        self.objects.iter()
    }

    /// Drops the bodies of kinds kept only as the model's projection (no
    /// check declared them): once the model is built nothing reads them, and
    /// on a live mesh the pods' projections are a third of the snapshot.
    pub fn drop_projections(&mut self, wants: &Wants) {
        for (key, range) in &self.kinds {
            if wants.shape(key) == Some(Shape::Slim) {
                self.objects[range.clone()]
                    .iter_mut()
                    .for_each(Object::drop_body);
            }
        }
    }

    pub fn is_live(&self) -> bool {
        matches!(self.source, Source::Live { .. })
    }

    /// Objects given more than once with different content, as
    /// `(first, other)` pairs: a cluster holds one object per kind, namespace
    /// and name, so the input disagrees with itself (`kubectl apply` would
    /// keep the last one applied). Both are scanned, so neither one's
    /// findings are lost.
    pub fn conflicts(&self) -> impl Iterator<Item = (&Object, &Object)> {
        self.objects
            .windows(2)
            .filter(|w| same_identity(&w[0], &w[1]))
            .map(|w| (&w[0], &w[1]))
    }
}

/// Same kind, namespace and name; unnamed objects (`generateName`) are never the same.
fn same_identity(a: &Object, b: &Object) -> bool {
    !a.name.is_empty() && a.key == b.key && a.namespace == b.namespace && a.name == b.name
}

//! Gather: build a [`Snapshot`] of cluster objects from files or a live API server.

mod decode;
pub mod files;
#[cfg(test)]
mod fuzz;
pub mod live;
mod object;
mod slim;
mod split;
mod strict;

pub use object::{Object, Origin, OwnerRef};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

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

/// A document that could not be read; the rest of the input still is.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct InputError {
    pub file: String,
    pub line: Option<u32>,
    pub message: String,
}

impl InputError {
    pub fn at(file: &str, line: u32, message: String) -> Self {
        InputError {
            file: crate::printable::line(file).as_ref().into(),
            line: (line > 0).then_some(line),
            message: crate::printable::line_owned(message),
        }
    }

    pub fn file(file: &str, message: String) -> Self {
        Self::at(file, 0, message)
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}", self.file, line, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// How much of an object of a kind to keep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// The whole object (a check declared the kind, or the model reads most of it).
    Full,
    /// Only the fields the mesh model reads (workload kinds no check declared).
    Slim,
}

/// Which kinds to keep and how: the model's kinds plus those the checks declared.
#[derive(Clone, Debug, Default)]
pub struct Wants {
    full: BTreeSet<String>,
    slim: BTreeSet<String>,
    /// Kinds checks declared (they get them unabridged).
    declared: BTreeSet<String>,
}

impl Wants {
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(check_kinds: I) -> Self {
        let declared: BTreeSet<String> = check_kinds.into_iter().map(Into::into).collect();
        let mut full = declared.clone();
        let mut slim = BTreeSet::new();
        for k in crate::kinds::MODEL_KINDS {
            if crate::kinds::WORKLOAD_KINDS.contains(k) && !full.contains(*k) {
                slim.insert(k.to_string());
            } else {
                full.insert(k.to_string());
            }
        }
        for k in crate::kinds::NEVER_READ {
            full.remove(*k);
        }
        Wants {
            full,
            slim,
            declared,
        }
    }

    /// Whether a check asked for this kind (and so must see it whole).
    pub fn declared(&self, key: &str) -> bool {
        self.declared.contains(key)
    }

    /// Every object of these kinds and the model's kinds whole, for `kridik snapshot`
    /// (a saved snapshot must serve any later check). Secrets aside.
    pub fn whole<I: IntoIterator<Item = S>, S: Into<String>>(kinds: I) -> Self {
        let mut w = Wants::new(kinds);
        w.full.append(&mut w.slim);
        w.declared = w.full.clone();
        w
    }

    pub fn shape(&self, key: &str) -> Option<Shape> {
        if crate::kinds::NEVER_READ.contains(&key) {
            None
        } else if self.full.contains(key) {
            Some(Shape::Full)
        } else if self.slim.contains(key) {
            Some(Shape::Slim)
        } else {
            None
        }
    }

    /// The kinds to list from a live cluster.
    pub fn kinds(&self) -> Vec<String> {
        self.full.iter().chain(&self.slim).cloned().collect()
    }
}

/// What decoding some input produced.
#[derive(Default, Debug)]
pub struct Batch {
    pub objects: Vec<Object>,
    pub errors: Vec<InputError>,
    /// Objects of kinds nothing reads, counted by kind.
    pub skipped: BTreeMap<String, usize>,
}

impl Batch {
    fn object(o: Object) -> Self {
        Batch {
            objects: vec![o],
            ..Batch::default()
        }
    }

    fn error(e: InputError) -> Self {
        Batch {
            errors: vec![e],
            ..Batch::default()
        }
    }

    fn skipped(key: String) -> Self {
        Batch {
            skipped: BTreeMap::from([(key, 1)]),
            ..Batch::default()
        }
    }

    fn merge(mut self, mut other: Batch) -> Self {
        if self.objects.len() < other.objects.len() {
            std::mem::swap(&mut self.objects, &mut other.objects);
        }
        self.objects.append(&mut other.objects);
        self.errors.append(&mut other.errors);
        for (k, n) in other.skipped {
            *self.skipped.entry(k).or_default() += n;
        }
        self
    }
}

/// A snapshot of the cluster: objects by kind key, and what could not be read.
#[derive(Debug)]
pub struct Snapshot {
    pub source: Source,
    objects: BTreeMap<String, Vec<Object>>,
    pub unavailable: BTreeMap<String, Unavailable>,
    pub input_errors: Vec<InputError>,
    pub skipped: BTreeMap<String, usize>,
}

impl Snapshot {
    pub fn new(source: Source, batch: Batch, unavailable: BTreeMap<String, Unavailable>) -> Self {
        let mut objects: BTreeMap<String, Vec<Object>> = BTreeMap::new();
        for o in batch.objects {
            objects.entry(o.key.clone()).or_default().push(o);
        }
        for list in objects.values_mut() {
            list.sort_by(|a, b| {
                (
                    &a.namespace,
                    &a.name,
                    &a.origin.as_ref().map(|o| (&o.file, o.line)),
                )
                    .cmp(&(
                        &b.namespace,
                        &b.name,
                        &b.origin.as_ref().map(|o| (&o.file, o.line)),
                    ))
            });
        }
        let mut input_errors = batch.errors;
        input_errors.sort_by(|a, b| (&a.file, a.line).cmp(&(&b.file, b.line)));
        Snapshot {
            source,
            objects,
            unavailable,
            input_errors,
            skipped: batch.skipped,
        }
    }

    /// Objects of a kind key, sorted by namespace and name.
    pub fn of(&self, key: &str) -> &[Object] {
        self.objects.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    pub fn len(&self) -> usize {
        self.objects.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn all(&self) -> impl Iterator<Item = &Object> {
        self.objects.values().flatten()
    }

    pub fn is_live(&self) -> bool {
        matches!(self.source, Source::Live { .. })
    }
}

/// Kinds without a namespace (objects in files that omit one keep it empty).
pub fn cluster_scoped(kind: &str) -> bool {
    matches!(
        kind,
        "Namespace"
            | "Node"
            | "PersistentVolume"
            | "ClusterRole"
            | "ClusterRoleBinding"
            | "CustomResourceDefinition"
            | "MutatingWebhookConfiguration"
            | "ValidatingWebhookConfiguration"
            | "StorageClass"
            | "PriorityClass"
            | "GatewayClass"
            | "APIService"
            | "IngressClass"
            | "RuntimeClass"
            | "ValidatingAdmissionPolicy"
            | "ValidatingAdmissionPolicyBinding"
    )
}

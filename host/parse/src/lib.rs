//! Every parser of untrusted text in kridik, apart from the runtime: manifests,
//! `kubectl` dumps and Lists into [`Object`]s (the text layer of the gather
//! stage), suppression configs, baselines and OCI pack manifests. Each has the
//! bounds a hostile input needs (depth, duplicate keys, sizes) and says what it
//! refused; a document that cannot be read becomes an [`InputError`] while the
//! rest is kept. No wasmtime or kube here, so the fuzz targets in `fuzz/`
//! (one per parser, see [`fuzzing`]) build small and fast.

pub mod baseline;
pub(crate) mod block_yaml;
pub mod clock;
mod decode;
pub mod fuzzing;
pub mod istio_schema;
pub mod kinds;
#[cfg(test)]
mod mutation_fuzz;
mod object;
pub mod oci_manifest;
pub mod printable;
mod slim;
mod split;
mod strict;
pub mod suppressions;
mod text;

pub use object::{Object, Origin, OwnerRef};
pub use text::{api_list_page, parse_text};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

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
            file: printable::line(file).as_ref().into(),
            line: (line > 0).then_some(line),
            message: printable::line_owned(message),
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
        for k in kinds::MODEL_KINDS {
            if kinds::WORKLOAD_KINDS.contains(k) && !full.contains(*k) {
                slim.insert(k.to_string());
            } else {
                full.insert(k.to_string());
            }
        }
        for k in kinds::NEVER_READ {
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
        if kinds::NEVER_READ.contains(&key) {
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
    pub fn object(o: Object) -> Self {
        Batch {
            objects: vec![o],
            ..Batch::default()
        }
    }

    pub fn error(e: InputError) -> Self {
        Batch {
            errors: vec![e],
            ..Batch::default()
        }
    }

    pub fn skipped(key: String) -> Self {
        Batch {
            skipped: BTreeMap::from([(key, 1)]),
            ..Batch::default()
        }
    }

    pub fn merge(mut self, mut other: Batch) -> Self {
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

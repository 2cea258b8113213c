//! Words shared by the model, the runtime and the report.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    /// Highest first, the order reports list them in.
    pub const DESCENDING: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Info,
    ];

    /// One level up (critical stays critical).
    pub fn raised(self) -> Severity {
        match self {
            Severity::Info => Severity::Low,
            Severity::Low => Severity::Medium,
            Severity::Medium => Severity::High,
            Severity::High | Severity::Critical => Severity::Critical,
        }
    }
}

/// How well the snapshot supports a statement (see the WIT `confidence`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Confidence {
    Verified,
    Inferred,
    Unknown,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            Severity::Info => "INFO",
            Severity::Low => "LOW",
            Severity::Medium => "MEDIUM",
            Severity::High => "HIGH",
            Severity::Critical => "CRITICAL",
        })
    }
}

impl fmt::Display for Confidence {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(match self {
            Confidence::Verified => "VERIFIED",
            Confidence::Inferred => "INFERRED",
            Confidence::Unknown => "UNKNOWN",
        })
    }
}

/// An object named in a finding or the model, with its file and line when it has one.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct ObjectRef {
    pub api_version: String,
    pub kind: String,
    pub namespace: String,
    pub name: String,
    pub file: Option<String>,
    pub line: Option<u32>,
    /// The kubeconfig context, when one report covers several clusters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
}

impl ObjectRef {
    pub fn of(o: &crate::gather::Object) -> Self {
        ObjectRef {
            api_version: o.api_version.clone(),
            kind: o.kind.clone(),
            namespace: o.namespace.clone(),
            name: o.name.clone(),
            file: o.origin.as_ref().map(|x| x.file.to_string()),
            line: o.origin.as_ref().map(|x| x.line),
            cluster: None,
        }
    }

    /// (kind, namespace, name): what names an object within a snapshot.
    pub fn key(&self) -> (&str, &str, &str) {
        (&self.kind, &self.namespace, &self.name)
    }

    pub fn display(&self) -> String {
        let cluster = self
            .cluster
            .as_ref()
            .map(|c| format!("[{c}] "))
            .unwrap_or_default();
        if self.namespace.is_empty() {
            format!("{cluster}{} {}", self.kind, self.name)
        } else {
            format!("{cluster}{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

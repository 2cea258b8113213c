//! Builder methods for findings, so checks read as prose.

use crate::{Confidence, Evidence, Finding, ObjectRef, Remediation, Severity};

impl Finding {
    pub fn new(check_id: &str, severity: Severity, object: &ObjectRef, title: &str) -> Self {
        Finding {
            check_id: check_id.into(),
            severity,
            confidence: Confidence::Inferred,
            title: title.into(),
            message: String::new(),
            object: named(object),
            evidence: Vec::new(),
            remediation: None,
            references: Vec::new(),
        }
    }

    pub fn message(mut self, message: impl Into<String>) -> Self {
        self.message = message.into();
        self
    }

    pub fn confidence(mut self, confidence: Confidence) -> Self {
        self.confidence = confidence;
        self
    }

    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// One step more severe when there is a reason, which becomes evidence
    /// (see [`crate::Ctx::blast_radius`]).
    pub fn raised(self, label: Confidence, why: Option<String>) -> Self {
        match why {
            Some(why) => {
                let severity = raise(self.severity);
                self.severity(severity)
                    .evidence(label, None, &format!("severity raised: {why}"))
            }
            None => self,
        }
    }

    pub fn evidence(mut self, label: Confidence, source: Option<&ObjectRef>, detail: &str) -> Self {
        self.evidence.push(Evidence {
            label,
            source: source.map(named),
            detail: detail.into(),
        });
        self
    }

    pub fn remediation(mut self, summary: impl Into<String>, yaml: Option<String>) -> Self {
        self.remediation = Some(Remediation {
            summary: summary.into(),
            yaml,
        });
        self
    }

    pub fn reference(mut self, url: &str) -> Self {
        self.references.push(url.into());
        self
    }
}

/// The parts of a reference the host reads from a finding. The host locates
/// objects in its own snapshot and never takes a file or line from a check,
/// so a finding does not copy them across (two strings fewer per reference,
/// thousands of findings per scan).
fn named(o: &ObjectRef) -> ObjectRef {
    ObjectRef {
        api_version: o.api_version.clone(),
        kind: o.kind.clone(),
        namespace: o.namespace.clone(),
        name: o.name.clone(),
        file: None,
        line: None,
    }
}

impl ObjectRef {
    /// `Kind namespace/name`, for messages.
    pub fn display(&self) -> String {
        if self.namespace.is_empty() {
            format!("{} {}", self.kind, self.name)
        } else {
            format!("{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}

impl crate::CheckInfo {
    pub fn description(mut self, description: &str) -> Self {
        self.description = description.into();
        self
    }
}

impl ObjectRef {
    /// A reference to a Namespace (for findings about a namespace that lacks something).
    pub fn namespace(name: &str) -> Self {
        ObjectRef {
            api_version: "v1".into(),
            kind: "Namespace".into(),
            namespace: String::new(),
            name: name.into(),
            file: None,
            line: None,
        }
    }
}

/// One step more severe (critical stays critical): for findings on sensitive or
/// exposed workloads.
pub fn raise(severity: Severity) -> Severity {
    match severity {
        Severity::Info => Severity::Low,
        Severity::Low => Severity::Medium,
        Severity::Medium => Severity::High,
        Severity::High | Severity::Critical => Severity::Critical,
    }
}

/// The least certain label of a group decides the group's confidence.
pub fn weakest(labels: impl IntoIterator<Item = Confidence>) -> Confidence {
    labels
        .into_iter()
        .fold(Confidence::Verified, |acc, c| match (acc, c) {
            (Confidence::Unknown, _) | (_, Confidence::Unknown) => Confidence::Unknown,
            (Confidence::Inferred, _) | (_, Confidence::Inferred) => Confidence::Inferred,
            _ => Confidence::Verified,
        })
}

impl crate::MtlsMode {
    /// The name Istio's YAML uses.
    pub fn as_str(self) -> &'static str {
        match self {
            crate::MtlsMode::Unset => "UNSET",
            crate::MtlsMode::Disable => "DISABLE",
            crate::MtlsMode::Permissive => "PERMISSIVE",
            crate::MtlsMode::Strict => "STRICT",
        }
    }
}

impl crate::Dataplane {
    pub fn as_str(self) -> &'static str {
        match self {
            crate::Dataplane::None => "none",
            crate::Dataplane::Sidecar => "sidecar",
            crate::Dataplane::Ambient => "ambient",
        }
    }
}

//! A check component built against the frozen `kridik:plugin@0.1.0` (no SDK),
//! as every component published before 0.2 was: the host must keep running it
//! unchanged. It reports what it saw, so a test can compare with the scan.

wit_bindgen::generate!({ world: "check", path: "../../../wit/v0.1.0" });

use exports::kridik::plugin::checks::Guest;
use kridik::plugin::types::{CheckInfo, Confidence, Finding, ObjectRef, Severity};
use kridik::plugin::{mesh, snapshot};

struct Legacy;

impl Guest for Legacy {
    fn describe() -> Vec<CheckInfo> {
        vec![CheckInfo {
            id: "LEGACY-001".into(),
            title: "what a 0.1 component sees".into(),
            description: String::new(),
            default_severity: Severity::Info,
            category: "test".into(),
            kinds: vec!["Service".into()],
        }]
    }

    fn run(_: String) -> Result<Vec<Finding>, String> {
        let services = snapshot::objects("Service").map_err(|u| u.detail)?;
        let workloads = mesh::workloads();
        let policies = mesh::policies();
        let undeclared = snapshot::objects("ConfigMap").is_err();
        Ok(vec![Finding {
            check_id: "LEGACY-001".into(),
            severity: Severity::Info,
            confidence: Confidence::Verified,
            title: "seen".into(),
            message: format!(
                "services={} workloads={} policies={} trust-domain={} undeclared-refused={undeclared}",
                services.len(),
                workloads.len(),
                policies.len(),
                mesh::config().trust_domain
            ),
            object: ObjectRef {
                api_version: "v1".into(),
                kind: "Namespace".into(),
                namespace: String::new(),
                name: "legacy".into(),
                file: None,
                line: None,
            },
            evidence: vec![],
            remediation: None,
            references: vec![],
        }])
    }
}

export!(Legacy);

//! Baselines: today's findings by stable fingerprint, so CI fails only on new ones.

use crate::report::model::Finding;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Check, resource (kind, namespace, name) and title: stable across files,
/// line numbers and message wording.
pub fn fingerprint(check_id: &str, resource: &crate::vocab::ObjectRef, title: &str) -> String {
    let key = format!(
        "{check_id}\0{}\0{}\0{}\0{title}",
        resource.kind, resource.namespace, resource.name
    );
    crate::runtime::sha256(key.as_bytes())[..32].to_string()
}

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    /// fingerprint -> `CHECK-ID Kind namespace/name` (for people reading the file).
    findings: BTreeMap<String, String>,
}

const VERSION: u32 = 1;

pub fn write(path: &Path, findings: &[&Finding]) -> Result<usize> {
    let file = File {
        version: VERSION,
        findings: findings
            .iter()
            .map(|f| {
                (
                    f.fingerprint.clone(),
                    format!("{} {}", f.check_id, f.resource.display()),
                )
            })
            .collect(),
    };
    let text = serde_json::to_string_pretty(&file)? + "\n";
    crate::state_file::write_atomic(path, text.as_bytes())
        .with_context(|| format!("cannot write the baseline {}", path.display()))?;
    Ok(file.findings.len())
}

/// The fingerprints of a baseline file.
pub fn read(path: &Path) -> Result<BTreeMap<String, String>> {
    let text = crate::state_file::read_text_capped(path, crate::state_file::MAX_STATE_BYTES)
        .with_context(|| {
            format!(
                "cannot read the baseline {}: create it with `kridik scan --write-baseline {}`",
                path.display(),
                path.display()
            )
        })?;
    let file: File = serde_json::from_str(&text)
        .with_context(|| format!("{} is not a kridik baseline", path.display()))?;
    if file.version != VERSION {
        bail!(
            "{} has baseline version {}, this kridik reads {VERSION}",
            path.display(),
            file.version
        );
    }
    Ok(file.findings)
}

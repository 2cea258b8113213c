//! Baselines: today's findings by stable fingerprint, so CI fails only on new ones.

use crate::report::model::Finding;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// Check, resource (kind, namespace, name) and title: stable across files,
/// line numbers and message wording.
pub fn fingerprint(check_id: &str, resource: &crate::vocab::ObjectRef, title: &str) -> String {
    let mut key = format!(
        "{check_id}\0{}\0{}\0{}\0{title}",
        resource.kind, resource.namespace, resource.name
    );
    // One report over several clusters: the same object in two clusters is two findings.
    if let Some(cluster) = &resource.cluster {
        key.push('\0');
        key.push_str(cluster);
    }
    crate::runtime::sha256(key.as_bytes())[..32].to_string()
}

pub fn write(path: &Path, findings: &[&Finding]) -> Result<usize> {
    let entries: BTreeMap<String, String> = findings
        .iter()
        .map(|f| {
            (
                f.fingerprint.clone(),
                format!("{} {}", f.check_id, f.resource.display()),
            )
        })
        .collect();
    let count = entries.len();
    crate::state_file::write_atomic(path, kridik_parse::baseline::render(entries).as_bytes())
        .with_context(|| format!("cannot write the baseline {}", path.display()))?;
    Ok(count)
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
    kridik_parse::baseline::parse(&text, &path.display().to_string())
}

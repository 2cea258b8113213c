//! Baselines: today's findings by stable fingerprint, so CI fails only on new ones.

use crate::report::model::Finding;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// Check, resource (kind, namespace, name) and title: stable across files,
/// line numbers and message wording.
pub fn fingerprint(check_id: &str, resource: &crate::vocab::ObjectRef, title: &str) -> String {
    use sha2::{Digest, Sha256};
    // The first 128 bits of SHA-256 over the parts joined by NUL (and the
    // cluster, for one report over several clusters: the same object in two
    // clusters is two findings). Hashed in place: this runs for every finding.
    let mut h = Sha256::new();
    h.update(check_id);
    for part in [&resource.kind, &resource.namespace, &resource.name] {
        h.update([0]);
        h.update(part);
    }
    h.update([0]);
    h.update(title);
    if let Some(cluster) = &resource.cluster {
        h.update([0]);
        h.update(cluster);
    }
    hex::encode(&h.finalize()[..16])
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::ObjectRef;

    /// Baselines store these: they must never change. The expected values are
    /// `printf 'IST-MTLS-001\0Namespace\0\0shop\0Plaintext allowed' | sha256sum`,
    /// cut to 32 hex digits.
    #[test]
    fn fingerprints_are_stable() {
        let ns = ObjectRef {
            kind: "Namespace".into(),
            name: "shop".into(),
            ..ObjectRef::default()
        };
        assert_eq!(
            fingerprint("IST-MTLS-001", &ns, "Plaintext allowed"),
            "3910e2cb0147082c4eaf14328c534dde"
        );
        let web = ObjectRef {
            kind: "Deployment".into(),
            namespace: "shop".into(),
            name: "web".into(),
            cluster: Some("prod-eu".into()),
            ..ObjectRef::default()
        };
        assert_eq!(
            fingerprint("IST-MTLS-001", &web, "Plaintext allowed"),
            "1c6d6fbba93388578baf0c575f7cdb03"
        );
    }
}

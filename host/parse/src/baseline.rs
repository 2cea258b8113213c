//! The baseline file: today's findings by stable fingerprint, so CI fails
//! only on new ones. Read back from a repository, so parsed defensively.

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Serialize, Deserialize)]
struct File {
    version: u32,
    /// fingerprint -> `CHECK-ID Kind namespace/name` (for people reading the file).
    findings: BTreeMap<String, String>,
}

const VERSION: u32 = 1;

/// The text of a baseline holding these fingerprints (with their labels).
pub fn render(findings: BTreeMap<String, String>) -> String {
    let file = File {
        version: VERSION,
        findings,
    };
    serde_json::to_string_pretty(&file).expect("a map of strings serializes") + "\n"
}

/// The fingerprints of a baseline's text; `source` names it in messages.
pub fn parse(text: &str, source: &str) -> Result<BTreeMap<String, String>> {
    let file: File =
        serde_json::from_str(text).with_context(|| format!("{source} is not a kridik baseline"))?;
    if file.version != VERSION {
        bail!(
            "{source} has baseline version {}, this kridik reads {VERSION}",
            file.version
        );
    }
    Ok(file.findings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_baseline_reads_back_what_was_written_and_refuses_other_versions() {
        let entries = BTreeMap::from([("ab12".to_string(), "IST-X-001 Kind ns/n".to_string())]);
        assert_eq!(parse(&render(entries.clone()), "b.json").unwrap(), entries);
        let future = r#"{"version": 2, "findings": {}}"#;
        let err = parse(future, "b.json").unwrap_err().to_string();
        assert!(err.contains("version 2"), "{err}");
        assert!(parse("[]", "b.json").is_err());
    }
}

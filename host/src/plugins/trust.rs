//! The trust policy of check packs (`trust:` in `.kridik.yaml`): for a
//! registry or repository prefix, the keys that must have signed a pack
//! before `plugin add` or `plugin update` installs it. A pack under no rule
//! installs as before (pinned by digest); one under a rule must carry a
//! cosign-format signature for its exact manifest digest by one of the keys.

use super::{oci, signing};
use anyhow::{bail, Context, Result};
use kridik_parse::suppressions::TrustRule;
use std::path::Path;

/// The rule for a `registry/repository`: the longest matching prefix.
pub fn rule_for<'r>(rules: &'r [TrustRule], repository: &str) -> Option<&'r TrustRule> {
    rules
        .iter()
        .filter(|r| repository.starts_with(&r.repository))
        .max_by_key(|r| r.repository.len())
}

/// Verifies `source` at `digest` against the policy: the id of the key that
/// verified it and the signatures read (kept for `plugin save`), or None when
/// no rule covers the repository.
pub fn verify(
    rules: &[TrustRule],
    config_dir: &Path,
    source: &str,
    digest: &str,
    access: &oci::Access,
) -> Result<Option<(String, Vec<super::signing::Signature>)>> {
    let r = oci::parse(source)?;
    let repository = oci::repository(&r);
    if rule_for(rules, &repository).is_none() {
        return Ok(None);
    }
    let found = oci::signatures(source, digest, access)?;
    let key = verify_signatures(rules, config_dir, &repository, digest, &found)?;
    Ok(key.map(|k| (k, found)))
}

/// Verifies signatures already at hand (from a saved layout, offline).
pub fn verify_signatures(
    rules: &[TrustRule],
    config_dir: &Path,
    repository: &str,
    digest: &str,
    found: &[super::signing::Signature],
) -> Result<Option<String>> {
    let Some(rule) = rule_for(rules, repository) else {
        return Ok(None);
    };
    if rule.keys.is_empty() {
        bail!(
            "{} requires keyless signatures for {}, which need the Fulcio and Rekor services: this machine verifies keys only; add `keys:` to the rule",
            rule.origin,
            rule.repository
        );
    }
    let mut keys = Vec::new();
    for k in &rule.keys {
        let path = config_dir.join(k);
        let pem = crate::state_file::read_text_capped(&path, 64 << 10)
            .with_context(|| format!("{}: cannot read the key {}", rule.origin, path.display()))?;
        keys.push(signing::verifying_key(&pem, &path.display().to_string())?);
    }
    if let Some(key) = signing::signed_by(&keys, found, repository, digest) {
        return Ok(Some(signing::key_id(key)));
    }
    bail!(
        "{repository}@{digest} is not signed by a key {} trusts ({} signature(s) found, none by those keys for this digest): sign it with `kridik plugin sign`, or pass --insecure-skip-signature",
        rule.origin,
        found.len()
    )
}

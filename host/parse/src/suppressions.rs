//! Suppression rules of `.kridik.yaml`: a check, a resource pattern, a
//! mandatory reason and an optional expiry. Untrusted text (a repository's
//! file), so every rule is validated and a rule that would hide everything
//! is refused.

use anyhow::{bail, Context, Result};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Raw {
    #[serde(default)]
    suppressions: Vec<RawRule>,
    #[serde(default)]
    trust: Vec<RawTrust>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTrust {
    repository: String,
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    keyless: Vec<Keyless>,
}

/// A keyless identity (Fulcio certificate issuer and subject), for policies
/// written today and verified where a transparency log is reachable.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Keyless {
    pub issuer: String,
    pub subject: String,
}

/// Who must have signed the packs of a registry or repository prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustRule {
    /// `registry/repository` prefix, e.g. `ghcr.io/acme/` (no `oci://`).
    pub repository: String,
    /// Public key files (PEM, like cosign.pub), relative to the config file.
    pub keys: Vec<String>,
    pub keyless: Vec<Keyless>,
    /// `path:trust[i]`, for messages.
    pub origin: String,
}

/// The `trust:` rules of a config's text; `source` names it in messages.
pub fn trust(text: &str, source: &str) -> Result<Vec<TrustRule>> {
    let raw: Raw = serde_norway::from_str(text)
        .with_context(|| format!("{source} is not a valid kridik config"))?;
    let mut out = Vec::new();
    for (i, t) in raw.trust.into_iter().enumerate() {
        let origin = format!("{source}:trust[{i}]");
        let repository = t.repository.trim().trim_start_matches("oci://").to_string();
        if repository.is_empty() {
            bail!("{origin} names no repository: write `repository: REGISTRY/REPO-PREFIX`");
        }
        if t.keys.is_empty() && t.keyless.is_empty() {
            bail!("{origin} ({repository}) names no key: add `keys: [cosign.pub]`");
        }
        out.push(TrustRule {
            repository,
            keys: t.keys,
            keyless: t.keyless,
            origin,
        });
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    check: String,
    #[serde(default)]
    resource: Option<String>,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    expires: Option<String>,
}

/// One suppression: a check id (or `*`), a resource pattern, why, until when.
#[derive(Clone, Debug)]
pub struct Rule {
    pub check: String,
    /// `Kind/namespace/name` (`Kind/name` when cluster-scoped), `*` matches anything.
    pub resource: Option<String>,
    pub reason: String,
    /// Days since the epoch; the rule stops suppressing after that day.
    pub expires: Option<i64>,
    /// `path:suppressions[i]`, for messages.
    pub origin: String,
}

/// The rules of a config's text; `source` names it in messages.
pub fn parse(text: &str, source: &str) -> Result<Vec<Rule>> {
    let raw: Raw = serde_norway::from_str(text)
        .with_context(|| format!("{source} is not a valid kridik config"))?;
    let mut rules = Vec::new();
    for (i, r) in raw.suppressions.into_iter().enumerate() {
        let origin = format!("{source}:suppressions[{i}]");
        if r.check.trim().is_empty() {
            bail!("{origin} names no check: write `check: CHECK-ID` (or `*`)");
        }
        if r.reason.trim().is_empty() {
            bail!(
                "{origin} ({}) has no reason: every suppression needs one",
                r.check
            );
        }
        // A rule for every check on every resource hides the whole report.
        let everything = |p: &str| p.trim().chars().all(|c| c == '*');
        if everything(&r.check) && r.resource.as_deref().is_none_or(everything) {
            bail!(
                "{origin} suppresses every check on every resource, which would hide the whole report: name the check or the resource"
            );
        }
        let expires = match &r.expires {
            None => None,
            Some(s) => Some(crate::clock::parse_date(s).with_context(|| {
                format!("{origin}: expires `{s}` is not a date (write YYYY-MM-DD)")
            })?),
        };
        rules.push(Rule {
            check: r.check.trim().to_string(),
            resource: r.resource.map(|s| s.trim().to_string()),
            reason: r.reason.trim().to_string(),
            expires,
            origin,
        });
    }
    Ok(rules)
}

/// `*` matches any run of characters; everything else literally.
pub fn glob(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    if parts.len() == 1 {
        return pattern == text;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !text.starts_with(first) || !text[first.len()..].ends_with(last) {
        return false;
    }
    let mut rest = &text[first.len()..text.len() - last.len()];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(i) => rest = &rest[i + part.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::glob;

    #[test]
    fn globs_match_whole_resource_names() {
        assert!(glob("Namespace/legacy", "Namespace/legacy"));
        assert!(glob("*/legacy/*", "Deployment/legacy/billing"));
        assert!(glob(
            "PeerAuthentication/*",
            "PeerAuthentication/shop/default"
        ));
        assert!(!glob("Namespace/legacy", "Namespace/legacy-2"));
        assert!(!glob("*/legacy/*", "Deployment/shop/legacy"));
        assert!(glob("*", "anything/at/all"));
    }
}

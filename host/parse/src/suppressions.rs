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

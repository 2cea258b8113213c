//! Label selectors as Istio uses them (`matchLabels` only; all must match).

use std::collections::BTreeMap;

/// True when every selector label is present with the same value.
/// An empty selector matches everything.
pub fn matches(selector: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn all_selector_labels_must_match() {
        let labels = m(&[("app", "web"), ("version", "v1")]);
        assert!(matches(&m(&[("app", "web")]), &labels));
        assert!(!matches(&m(&[("app", "web"), ("tier", "x")]), &labels));
        assert!(!matches(&m(&[("app", "api")]), &labels));
        assert!(matches(&m(&[]), &labels));
    }
}

//! Label selectors as Istio uses them (`matchLabels` only; all must match).

use serde_json::Value;
use std::collections::BTreeMap;

/// A JSON object of labels (`matchLabels`), non-string values as empty strings;
/// anything else is the empty selector.
pub fn from_json(v: Option<&Value>) -> BTreeMap<String, String> {
    v.and_then(Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}

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

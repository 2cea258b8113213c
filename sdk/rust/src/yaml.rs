//! Small writers for the hardened YAML in remediations. Values are written as
//! JSON strings, which YAML reads back unchanged whatever they contain.

use std::collections::BTreeMap;

/// A quoted YAML scalar.
pub fn quote(value: &str) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// `apiVersion`, `kind` and `metadata` of an object; cluster-scoped when `namespace` is empty.
pub fn header(api_version: &str, kind: &str, namespace: &str, name: &str) -> String {
    let mut yaml = format!("apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: {name}\n");
    if !namespace.is_empty() {
        yaml.push_str(&format!("  namespace: {namespace}\n"));
    }
    yaml
}

/// A `key:` block of string pairs at `indent` spaces (nothing when empty).
pub fn map(indent: usize, key: &str, pairs: &BTreeMap<String, String>) -> String {
    if pairs.is_empty() {
        return String::new();
    }
    let pad = " ".repeat(indent);
    let mut yaml = format!("{pad}{key}:\n");
    for (k, v) in pairs {
        yaml.push_str(&format!("{pad}  {k}: {}\n", quote(v)));
    }
    yaml
}

/// A flow list of quoted strings: `["a", "b"]`.
pub fn list<S: AsRef<str>>(items: &[S]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| quote(s.as_ref())).collect();
    format!("[{}]", quoted.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_survives_yaml_specials() {
        assert_eq!(quote("a: b #c"), "\"a: b #c\"");
        assert_eq!(list(&["*", "x"]), "[\"*\", \"x\"]");
        let labels = BTreeMap::from([("app".to_string(), "web".to_string())]);
        assert_eq!(
            map(2, "selector", &labels),
            "  selector:\n    app: \"web\"\n"
        );
        assert_eq!(
            header("v1", "Namespace", "", "x"),
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: x\n"
        );
    }
}

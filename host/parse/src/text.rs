//! One file's text: YAML documents or JSON (one object, a List, an array of
//! objects, or several concatenated), told apart by the first character.

use crate::decode;
use crate::split::yaml_documents;
use crate::{Batch, InputError, Origin, Wants};
use rayon::prelude::*;
use serde_json::value::RawValue;
use std::sync::Arc;

/// Decodes the text of one file (YAML or JSON, detected from the first character).
pub fn parse_text(text: &str, file: &Arc<str>, wants: &Wants) -> Batch {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let yaml = || {
        yaml_documents(text)
            .par_iter()
            .map(|chunk| decode::yaml_chunk(chunk, file, wants))
            .reduce(Batch::default, Batch::merge)
    };
    if !text.trim_start().starts_with(['{', '[']) {
        return yaml();
    }
    // JSON, or YAML in flow style (`{apiVersion: v1, ...}` and `---` documents):
    // when JSON fails, YAML decides; its errors are kept only if it fails too.
    let json = parse_json(text, file, wants);
    if json.errors.is_empty() {
        return json;
    }
    let as_yaml = yaml();
    if as_yaml.errors.is_empty() {
        as_yaml
    } else {
        json
    }
}

/// A JSON file: one object, a List, an array of objects, or several concatenated.
fn parse_json(text: &str, file: &Arc<str>, wants: &Wants) -> Batch {
    let lines = LineIndex::new(text);
    let origin_of = |raw: &RawValue| {
        let offset = raw.get().as_ptr() as usize - text.as_ptr() as usize;
        Some(Origin {
            file: file.clone(),
            line: lines.line(offset),
        })
    };
    let mut values: Vec<&RawValue> = Vec::new();
    let mut batch = Batch::default();
    for item in serde_json::Deserializer::from_str(text).into_iter::<&RawValue>() {
        match item {
            Ok(raw) if raw.get().starts_with('[') => {
                match serde_json::from_str::<Vec<&RawValue>>(raw.get()) {
                    Ok(items) => values.extend(items),
                    Err(e) => batch.errors.push(InputError::at(
                        file,
                        e.line() as u32,
                        format!("invalid JSON: {e}"),
                    )),
                }
            }
            Ok(raw) => values.push(raw),
            Err(e) => {
                batch.errors.push(InputError::at(
                    file,
                    e.line() as u32,
                    format!("invalid JSON: {e}"),
                ));
                break;
            }
        }
    }
    values
        .par_iter()
        .map(|raw| decode::json_value(raw, origin_of(raw), wants, None, false, &origin_of))
        .reduce(Batch::default, Batch::merge)
        .merge_into(batch)
}

impl Batch {
    fn merge_into(self, other: Batch) -> Batch {
        Batch::merge(other, self)
    }
}

/// Byte offset to 1-based line.
struct LineIndex(Vec<usize>);

impl LineIndex {
    fn new(text: &str) -> Self {
        LineIndex(memchr::memchr_iter(b'\n', text.as_bytes()).collect())
    }

    fn line(&self, offset: usize) -> u32 {
        self.0.partition_point(|&nl| nl < offset) as u32 + 1
    }
}

/// A list response. `items` must be there (`null` is an empty list): a body
/// without it (a `Status`, a proxy's error object) is not an empty kind.
#[derive(serde::Deserialize)]
struct Page<'a> {
    #[serde(borrow, deserialize_with = "null_is_empty")]
    items: Vec<&'a RawValue>,
}

fn null_is_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<&'de RawValue>, D::Error> {
    use serde::Deserialize;
    Option::<Vec<&'de RawValue>>::deserialize(d).map(Option::unwrap_or_default)
}

/// One page of an API server's list response for `kind` (items omit their
/// apiVersion and kind). A page that is not a list is an input error, so the
/// caller can mark the kind unavailable rather than empty.
pub fn api_list_page(text: &str, api_version: &str, kind: &str, wants: &Wants) -> Batch {
    let head = decode::ItemHead { api_version, kind };
    // serde would also read a struct from an array (`[[]]`): only an object is a list.
    let page = match text.trim_start().starts_with('{') {
        true => serde_json::from_str::<Page>(text).map_err(|e| e.to_string()),
        false => Err("not a JSON object".to_string()),
    };
    match page {
        Ok(page) => page
            .items
            .par_iter()
            .map(|item| decode::json_value(item, None, wants, Some(head), true, &|_| None))
            .reduce(Batch::default, Batch::merge),
        Err(e) => Batch::error(InputError::file(
            &format!("<api {kind}>"),
            format!("unreadable list response: {e}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wants() -> Wants {
        Wants::new(["security.istio.io/AuthorizationPolicy"])
    }

    #[test]
    fn multi_document_yaml_keeps_lines_and_reports_bad_documents() {
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n  namespace: x\n---\napiVersion: v1\nkind: Service\nmetadata: [oops\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: p\n";
        let b = parse_text(text, &"f.yaml".into(), &wants());
        let names: Vec<_> = b
            .objects
            .iter()
            .map(|o| (o.name.as_str(), o.origin.as_ref().unwrap().line))
            .collect();
        assert!(
            names.contains(&("a", 1)) && names.contains(&("p", 11)),
            "{names:?}"
        );
        assert_eq!(b.errors.len(), 1);
        assert_eq!(b.errors[0].file, "f.yaml");
        assert!(b.errors[0].line.unwrap() >= 9, "{:?}", b.errors[0]);
        // A namespaced object without a namespace lands in `default`, as with kubectl apply.
        assert!(b
            .objects
            .iter()
            .any(|o| o.name == "p" && o.namespace == "default"));
    }

    #[test]
    fn a_kind_line_inside_a_multi_line_scalar_never_hides_a_policy() {
        // Issue 13, defect 1: the continuation line of a quoted scalar looks like
        // a top-level `kind: Secret` to a text scan.
        let text = "apiVersion: security.istio.io/v1\nmetadata:\n  name: p\n  namespace: x\n  annotations:\n    note: \"first line\nkind: Secret\n      rest\"\nkind: AuthorizationPolicy\nspec: {}\n";
        let b = parse_text(text, &"f.yaml".into(), &wants());
        assert!(b.errors.is_empty(), "{:?}", b.errors);
        assert_eq!(b.objects.len(), 1);
        assert_eq!(b.objects[0].kind, "AuthorizationPolicy");
        // Flow style, with the fake line as the only one a scan could see.
        let flow = "{apiVersion: security.istio.io/v1, metadata: {name: q, namespace: x, annotations: {a: \"x\nkind: Secret\napiVersion: v1\"}}, kind: AuthorizationPolicy, spec: {}}\n";
        let b = parse_text(flow, &"f.yaml".into(), &wants());
        assert_eq!(b.objects.len(), 1, "{:?}", b.errors);
        assert_eq!(b.objects[0].name, "q");
    }

    #[test]
    fn a_repeated_key_is_an_input_error_not_last_wins() {
        let text = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: x}\nkind: Secret\n";
        let b = parse_text(text, &"f.yaml".into(), &wants());
        assert!(b.objects.is_empty());
        assert_eq!(b.errors.len(), 1, "{:?}", b.skipped);
        assert!(b.errors[0].message.contains("duplicate"), "{:?}", b.errors);
        let json = r#"{"apiVersion":"security.istio.io/v1","kind":"AuthorizationPolicy","metadata":{"name":"p","namespace":"x"},"kind":"Secret"}"#;
        let b = parse_text(json, &"f.json".into(), &wants());
        assert!(
            b.objects.is_empty() && b.errors.len() == 1,
            "{:?}",
            b.errors
        );
    }

    #[test]
    fn deep_nesting_is_refused_quickly() {
        // Defects 5 and 6: nested Lists overflowed the stack; deep flow mappings were quadratic.
        let mut list = String::from(
            r#"{"apiVersion":"security.istio.io/v1","kind":"AuthorizationPolicy","metadata":{"name":"p","namespace":"x"}}"#,
        );
        for _ in 0..2000 {
            list = format!(r#"{{"apiVersion":"v1","kind":"List","items":[{list}]}}"#);
        }
        let b = parse_text(&list, &"f.json".into(), &wants());
        assert!(
            b.objects.is_empty() && b.errors.len() == 1,
            "{:?}",
            b.errors
        );
        assert!(b.errors[0].message.contains("List inside a List"));
        let deep = format!("a: {}1{}\n", "{b: ".repeat(100_000), "}".repeat(100_000));
        let start = std::time::Instant::now();
        let b = parse_text(&deep, &"f.yaml".into(), &wants());
        assert!(b.errors[0].message.contains("nested"), "{:?}", b.errors);
        // Refused by a linear scan, not after a quadratic parse.
        assert!(start.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn yaml_in_flow_style_is_not_mistaken_for_json() {
        // Defect 10: a file starting with `{` is YAML when it is not JSON.
        let text = "{apiVersion: security.istio.io/v1, kind: AuthorizationPolicy, metadata: {name: a, namespace: x}}\n---\n{apiVersion: security.istio.io/v1, kind: AuthorizationPolicy, metadata: {name: b, namespace: x}}\n";
        let b = parse_text(text, &"f.yaml".into(), &wants());
        assert!(b.errors.is_empty(), "{:?}", b.errors);
        assert_eq!(b.objects.len(), 2);
        // Broken JSON keeps JSON's error.
        let b = parse_text("{\"kind\": ", &"f.json".into(), &wants());
        assert!(b.errors[0].message.contains("JSON"), "{:?}", b.errors);
    }

    #[test]
    fn kinds_nobody_reads_are_skipped_and_secrets_never_read() {
        let text = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\ndata:\n  k: c2VjcmV0\n---\napiVersion: acme.io/v1\nkind: Widget\nmetadata:\n  name: w\n";
        let b = parse_text(text, &"f.yaml".into(), &wants());
        assert!(b.objects.is_empty());
        assert_eq!(b.skipped.get("Secret"), Some(&1));
        assert_eq!(b.skipped.get("acme.io/Widget"), Some(&1));
    }

    #[test]
    fn pods_are_projected_when_no_check_declares_them() {
        let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  namespace: x\n  managedFields: [{manager: kubectl}]\nspec:\n  serviceAccountName: sa\n  volumes: [{name: v}]\n  containers:\n  - name: app\n    image: nginx\n    env: [{name: A, value: b}]\n";
        let b = parse_text(text, &"f.yaml".into(), &wants());
        let pod = &b.objects[0].value();
        assert_eq!(pod["spec"]["serviceAccountName"], "sa");
        assert_eq!(pod["spec"]["containers"][0]["image"], "nginx");
        assert!(
            pod["spec"].get("volumes").is_none()
                && pod["spec"]["containers"][0].get("env").is_none()
        );
        assert!(pod["metadata"].get("managedFields").is_none());
        let full = parse_text(text, &"f.yaml".into(), &Wants::new(["Pod"]));
        assert!(full.objects[0].value()["spec"].get("volumes").is_some());
    }

    #[test]
    fn only_istio_config_maps_keep_their_data_unless_declared() {
        let text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\n  namespace: istio-system\ndata:\n  mesh: 'trustDomain: x'\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: grafana-dashboards\n  namespace: monitoring\ndata:\n  big.json: '{}'\n";
        let b = parse_text(text, &"f.yaml".into(), &wants());
        let data = |name: &str| {
            b.objects
                .iter()
                .find(|o| o.name == name)
                .unwrap()
                .value()
                .get("data")
                .is_some()
        };
        assert!(data("istio") && !data("grafana-dashboards"));
        let declared = parse_text(text, &"f.yaml".into(), &Wants::new(["ConfigMap"]));
        assert!(declared
            .objects
            .iter()
            .all(|o| o.value().get("data").is_some()));
    }

    #[test]
    fn json_lists_and_typed_lists_carry_item_lines_and_kinds() {
        let text = "{\n \"apiVersion\": \"v1\",\n \"kind\": \"ServiceList\",\n \"items\": [\n  {\"metadata\": {\"name\": \"a\", \"namespace\": \"n\"}},\n  {\"metadata\": {\"name\": \"b\", \"namespace\": \"n\"}}\n ]\n}\n";
        let b = parse_text(text, &"l.json".into(), &wants());
        let mut got: Vec<_> = b
            .objects
            .iter()
            .map(|o| {
                (
                    o.kind.as_str(),
                    o.name.as_str(),
                    o.origin.as_ref().unwrap().line,
                )
            })
            .collect();
        got.sort();
        assert_eq!(got, vec![("Service", "a", 5), ("Service", "b", 6)]);
    }

    #[test]
    fn documents_without_kind_are_errors_with_a_hint() {
        let b = parse_text("replicas: 3\n", &"values.yaml".into(), &wants());
        assert_eq!(b.errors.len(), 1);
        assert!(b.errors[0]
            .to_string()
            .starts_with("values.yaml:1: document has no apiVersion/kind"));
    }
}

//! Offline snapshots: manifests, `kubectl get -o yaml|json` dumps, directories, stdin.

use super::decode::{self};
use super::split::yaml_documents;
use super::{Batch, InputError, Origin, Snapshot, Source, Wants};
use rayon::prelude::*;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Reads every path (file, directory walked recursively, `-` for stdin) into a
/// snapshot. Unreadable files and documents become input errors; the rest is kept.
pub fn load(paths: &[PathBuf], wants: &Wants) -> Snapshot {
    let mut errors = Vec::new();
    let mut files = Vec::new();
    for p in paths {
        expand(p, &mut files, &mut errors);
    }
    let batch = files
        .par_iter()
        .map(|path| match read(path) {
            Ok((name, text)) => parse_text(&text, &name, wants),
            Err(e) => Batch {
                errors: vec![e],
                ..Batch::default()
            },
        })
        .reduce(Batch::default, Batch::merge);
    let batch = Batch::merge(
        Batch {
            errors,
            ..Batch::default()
        },
        batch,
    );
    Snapshot::new(Source::Offline, batch, BTreeMap::new())
}

/// Decodes the text of one file (YAML or JSON, detected from the first character).
pub fn parse_text(text: &str, file: &Arc<str>, wants: &Wants) -> Batch {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.trim_start().starts_with(['{', '[']) {
        parse_json(text, file, wants)
    } else {
        yaml_documents(text)
            .par_iter()
            .map(|chunk| decode::yaml_chunk(chunk, file, wants))
            .reduce(Batch::default, Batch::merge)
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
        .map(|raw| decode::json_value(raw, origin_of(raw), wants, None, &origin_of))
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

fn read(path: &Path) -> Result<(Arc<str>, String), InputError> {
    if path == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| InputError::file("<stdin>", format!("cannot read standard input: {e}")))?;
        return Ok(("<stdin>".into(), text));
    }
    let name: Arc<str> = path.display().to_string().into();
    let bytes =
        std::fs::read(path).map_err(|e| InputError::file(&name, format!("cannot read: {e}")))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        InputError::file(
            &name,
            format!(
                "not UTF-8 text (byte {}): is this a manifest?",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    Ok((name, text))
}

/// Files named on the command line are read whatever their name; in directories,
/// only `.yaml`, `.yml` and `.json` files are (hidden entries are skipped).
fn expand(path: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<InputError>) {
    if path == Path::new("-") {
        files.push(path.into());
        return;
    }
    let shown = path.display().to_string();
    match std::fs::metadata(path) {
        Err(e) => errors.push(InputError::file(
            &shown,
            format!("{e}: check the path given to -f"),
        )),
        Ok(m) if m.is_file() => files.push(path.into()),
        Ok(_) => {
            let before = files.len();
            walk(path, files, errors);
            if files.len() == before {
                errors.push(InputError::file(
                    &shown,
                    "directory holds no .yaml, .yml or .json file".into(),
                ));
            }
        }
    }
}

fn walk(dir: &Path, files: &mut Vec<PathBuf>, errors: &mut Vec<InputError>) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            return errors.push(InputError::file(
                &dir.display().to_string(),
                format!("cannot list directory: {e}"),
            ))
        }
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        let hidden = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with('.'));
        if hidden {
            continue;
        }
        if p.is_dir() {
            walk(&p, files, errors);
        } else if matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        ) {
            files.push(p);
        }
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
        let pod = &b.objects[0].body;
        assert_eq!(pod["spec"]["serviceAccountName"], "sa");
        assert_eq!(pod["spec"]["containers"][0]["image"], "nginx");
        assert!(
            pod["spec"].get("volumes").is_none()
                && pod["spec"]["containers"][0].get("env").is_none()
        );
        assert!(pod["metadata"].get("managedFields").is_none());
        let full = parse_text(text, &"f.yaml".into(), &Wants::new(["Pod"]));
        assert!(full.objects[0].body["spec"].get("volumes").is_some());
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
                .body
                .get("data")
                .is_some()
        };
        assert!(data("istio") && !data("grafana-dashboards"));
        let declared = parse_text(text, &"f.yaml".into(), &Wants::new(["ConfigMap"]));
        assert!(declared
            .objects
            .iter()
            .all(|o| o.body.get("data").is_some()));
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

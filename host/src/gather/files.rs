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

/// The largest file (or standard input) read: far above any cluster dump
/// (a 10,000-workload mesh is about 160 MB), far below a runaway read.
pub const MAX_INPUT_BYTES: u64 = 1 << 30;

fn read(path: &Path) -> Result<(Arc<str>, String), InputError> {
    let (name, bytes): (Arc<str>, Vec<u8>) = if path == Path::new("-") {
        let bytes = read_capped(std::io::stdin().lock())
            .map_err(|e| InputError::file("<stdin>", format!("cannot read standard input: {e}")))?;
        ("<stdin>".into(), bytes)
    } else {
        let name: Arc<str> = crate::printable::line(&path.display().to_string())
            .as_ref()
            .into();
        let file = std::fs::File::open(path)
            .map_err(|e| InputError::file(&name, format!("cannot read: {e}")))?;
        let bytes =
            read_capped(file).map_err(|e| InputError::file(&name, format!("cannot read: {e}")))?;
        (name, bytes)
    };
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

/// Reads at most [`MAX_INPUT_BYTES`]; more is an error, not a truncation.
fn read_capped(reader: impl Read) -> std::io::Result<Vec<u8>> {
    crate::state_file::read_limited(reader, MAX_INPUT_BYTES)
}

/// Files named on the command line are read whatever their name (a pipe such
/// as `<(kubectl get ...)` included); in directories, only regular `.yaml`,
/// `.yml` and `.json` files are (hidden entries are skipped), each once however
/// many symbolic links lead to it.
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
        Ok(m) if m.is_file() || std::os::unix::fs::FileTypeExt::is_fifo(&m.file_type()) => {
            files.push(path.into())
        }
        Ok(m) if !m.is_dir() => errors.push(InputError::file(
            &shown,
            "not a regular file or pipe (a device or socket): give a manifest file".into(),
        )),
        Ok(_) => {
            let before = files.len();
            let mut seen = std::collections::HashSet::new();
            walk(path, files, errors, &mut seen);
            if files.len() == before {
                errors.push(InputError::file(
                    &shown,
                    "directory holds no .yaml, .yml or .json file".into(),
                ));
            }
        }
    }
}

fn walk(
    dir: &Path,
    files: &mut Vec<PathBuf>,
    errors: &mut Vec<InputError>,
    seen: &mut std::collections::HashSet<PathBuf>,
) {
    // A directory reached again through a link (or a loop) is not walked twice.
    if !seen.insert(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.into())) {
        return;
    }
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
        let Ok(meta) = std::fs::metadata(&p) else {
            errors.push(InputError::file(
                &p.display().to_string(),
                "cannot follow this entry (a broken link?): skipped".into(),
            ));
            continue;
        };
        if meta.is_dir() {
            walk(&p, files, errors, seen);
            continue;
        }
        let manifest = matches!(
            p.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml" | "json")
        );
        if !manifest {
            continue;
        }
        if !meta.is_file() {
            errors.push(InputError::file(
                &p.display().to_string(),
                "not a regular file (a FIFO, device or socket): skipped; name it with -f to read it".into(),
            ));
        } else if seen.insert(std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone())) {
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
    fn directories_yield_regular_files_once_and_never_block() {
        // Defects 4, 7 and 13: a FIFO named *.yaml blocked, a link to /dev/zero
        // grew without limit, a link loop repeated every file.
        let dir = tempfile::tempdir().unwrap();
        let policy = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: x}\n";
        std::fs::write(dir.path().join("p.yaml"), policy).unwrap();
        let fifo = dir.path().join("pipe.yaml");
        assert!(std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.yaml")).unwrap();
        std::os::unix::fs::symlink(dir.path(), dir.path().join("loop")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("p.yaml"), dir.path().join("again.yaml"))
            .unwrap();
        let snapshot = load(&[dir.path().to_path_buf()], &wants());
        assert_eq!(snapshot.of(crate::kinds::AUTHORIZATION_POLICY).len(), 1);
        let skipped: Vec<&str> = snapshot
            .input_errors
            .iter()
            .map(|e| e.file.as_ref())
            .collect();
        assert_eq!(skipped.len(), 2, "{:?}", snapshot.input_errors);
        assert!(
            skipped.iter().any(|f| f.ends_with("pipe.yaml"))
                && skipped.iter().any(|f| f.ends_with("zero.yaml"))
        );
        // Named on the command line, a device is refused before any read.
        let direct = load(&[PathBuf::from("/dev/zero")], &wants());
        assert!(direct.input_errors[0]
            .message
            .contains("not a regular file"));
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

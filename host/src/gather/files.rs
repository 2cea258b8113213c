//! Offline snapshots: manifests, `kubectl get -o yaml|json` dumps, directories, stdin.

use super::{Batch, InputError, Snapshot, Source, Wants};
use kridik_parse::parse_text;
use rayon::prelude::*;
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

/// The largest file (or standard input) read: far above any cluster dump
/// (a 10,000-workload mesh is about 160 MB), far below a runaway read.
pub const MAX_INPUT_BYTES: u64 = 1 << 30;

fn read(path: &Path) -> Result<(Arc<str>, String), InputError> {
    let (name, bytes): (Arc<str>, Vec<u8>) = if path == Path::new("-") {
        let bytes = read_capped(std::io::stdin().lock(), 0)
            .map_err(|e| InputError::file("<stdin>", format!("cannot read standard input: {e}")))?;
        ("<stdin>".into(), bytes)
    } else {
        let name: Arc<str> = crate::printable::line(&path.display().to_string())
            .as_ref()
            .into();
        let file = std::fs::File::open(path)
            .map_err(|e| InputError::file(&name, format!("cannot read: {e}")))?;
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        let bytes = read_capped(file, size)
            .map_err(|e| InputError::file(&name, format!("cannot read: {e}")))?;
        (name, bytes)
    };
    if let Some(text) = utf16(&bytes) {
        return text.map(|t| (name.clone(), t)).map_err(|at| {
            InputError::file(
                &name,
                format!("not valid UTF-16 text (byte {at}): save the file as UTF-8"),
            )
        });
    }
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

/// Text that starts with a UTF-16 byte order mark, decoded: Windows
/// PowerShell's `kubectl get -o yaml > dump.yaml` writes UTF-16LE. None for
/// anything else; Err(byte offset) when the UTF-16 is broken.
fn utf16(bytes: &[u8]) -> Option<Result<String, usize>> {
    let little = match bytes {
        [0xff, 0xfe, ..] => true,
        [0xfe, 0xff, ..] => false,
        _ => return None,
    };
    let body = &bytes[2..];
    if !body.len().is_multiple_of(2) {
        return Some(Err(bytes.len() - 1));
    }
    let units = body.chunks_exact(2).map(|c| {
        if little {
            u16::from_le_bytes([c[0], c[1]])
        } else {
            u16::from_be_bytes([c[0], c[1]])
        }
    });
    let mut out = String::with_capacity(body.len() / 2);
    for (i, c) in char::decode_utf16(units).enumerate() {
        match c {
            Ok(c) => out.push(c),
            Err(_) => return Some(Err(2 + 2 * i)),
        }
    }
    Some(Ok(out))
}

/// Reads at most [`MAX_INPUT_BYTES`]; more is an error, not a truncation.
/// `expected` is the file's size (0 when unknown).
fn read_capped(reader: impl Read, expected: u64) -> std::io::Result<Vec<u8>> {
    crate::state_file::read_limited(reader, MAX_INPUT_BYTES, expected)
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
            let (before, errors_before) = (files.len(), errors.len());
            let mut seen = std::collections::HashSet::new();
            walk(path, files, errors, &mut seen);
            if files.len() == before && errors.len() == errors_before {
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
    // Templates are not manifests until Helm renders them.
    if dir.join("Chart.yaml").is_file() {
        let shown = dir.display().to_string();
        return errors.push(InputError::file(
            &shown,
            format!("a Helm chart (Chart.yaml): kridik reads rendered manifests; run `helm template RELEASE {shown} | kridik scan -f -`"),
        ));
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

    #[test]
    fn utf16_with_a_byte_order_mark_is_decoded() {
        let text = "kind: Namespace\nmetadata: {name: caf\u{e9}}\n";
        let le: Vec<u8> = [0xff, 0xfe]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xfe, 0xff]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(utf16(&le), Some(Ok(text.to_string())));
        assert_eq!(utf16(&be), Some(Ok(text.to_string())));
        assert_eq!(utf16(text.as_bytes()), None);
        // A lone surrogate or an odd length is broken UTF-16, said where.
        assert_eq!(utf16(&[0xff, 0xfe, 0x00, 0xd8, 0x41, 0x00]), Some(Err(2)));
        assert_eq!(utf16(&[0xff, 0xfe, 0x41]), Some(Err(2)));
    }

    fn wants() -> Wants {
        Wants::new(["security.istio.io/AuthorizationPolicy"])
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
    fn projections_are_dropped_after_the_model_and_declared_kinds_kept() {
        let dir = tempfile::tempdir().unwrap();
        let text = "apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: x, labels: {app: web}}\nspec:\n  containers:\n  - name: app\n    image: web:1\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: x}\nspec:\n  action: DENY\n  rules:\n  - to:\n    - operation:\n        paths: [\"/admin\"]\n";
        std::fs::write(dir.path().join("m.yaml"), text).unwrap();
        let mut snapshot = load(&[dir.path().to_path_buf()], &wants());
        let pod = |s: &Snapshot| s.of("Pod")[0].json().get().to_string();
        assert!(pod(&snapshot).contains("web:1"));
        snapshot.drop_projections(&wants());
        assert_eq!(pod(&snapshot), "{}");
        // What identifies the object stays; a declared kind keeps its body.
        assert_eq!(snapshot.of("Pod")[0].label("app"), Some("web"));
        let policy = &snapshot.of(crate::kinds::AUTHORIZATION_POLICY)[0];
        assert!(policy.json().get().contains("DENY"));
        // Declared, the pods keep theirs too.
        let declared = Wants::new(["Pod"]);
        let mut whole = load(&[dir.path().to_path_buf()], &declared);
        whole.drop_projections(&declared);
        assert!(pod(&whole).contains("web:1"));
    }
}

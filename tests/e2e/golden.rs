//! Golden tests: every output format of both bundled examples, compared with
//! tests/golden/. Run with KRIDIK_UPDATE_GOLDEN=1 to rewrite them after an
//! intended change, then review the diff like code.

use crate::support::*;
use std::path::Path;

const FORMATS: &[(&str, &str)] = &[
    ("text", "txt"),
    ("json", "json"),
    ("sarif", "sarif"),
    ("junit", "junit.xml"),
    ("markdown", "md"),
    ("html", "html"),
];

/// Timings differ between runs; everything else must not.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if let Some(i) = line.find("\"duration_ms\": ") {
            let end = line[i..].find([',', '\n']).map_or(line.len(), |e| i + e);
            out.push_str(&line[..i]);
            out.push_str("\"duration_ms\": 0");
            out.push_str(&line[end..]);
        } else {
            out.push_str(line);
        }
    }
    // JUnit time attributes.
    let mut s = String::with_capacity(out.len());
    let mut rest = out.as_str();
    while let Some(i) = rest.find(" time=\"") {
        let start = i + " time=\"".len();
        s.push_str(&rest[..start]);
        let end = rest[start..].find('"').map_or(rest.len(), |e| start + e);
        s.push('0');
        rest = &rest[end..];
    }
    s.push_str(rest);
    s
}

fn compare(example: &str) {
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = kridik();
    cmd.current_dir(repo())
        .args(["scan", "-f", &format!("examples/{example}")]);
    for (format, ext) in FORMATS {
        cmd.arg(format!(
            "--format={format}={}",
            dir.path().join(format!("out.{ext}")).display()
        ));
    }
    let run = run(&mut cmd);
    assert!(run.code <= 1, "{}", run.stderr);
    let golden = repo().join("tests/golden");
    let update = std::env::var_os("KRIDIK_UPDATE_GOLDEN").is_some();
    let mut stale = Vec::new();
    for (format, ext) in FORMATS {
        let got =
            normalize(&std::fs::read_to_string(dir.path().join(format!("out.{ext}"))).unwrap());
        let path = golden.join(format!("{example}.{ext}"));
        if update {
            std::fs::create_dir_all(&golden).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("{}: {e} (KRIDIK_UPDATE_GOLDEN=1 writes it)", path.display())
        });
        if got != want {
            stale.push(first_difference(format, &path, &want, &got));
        }
    }
    assert!(
        stale.is_empty(),
        "outputs differ from tests/golden (KRIDIK_UPDATE_GOLDEN=1 cargo test golden rewrites them; review the diff):\n{}",
        stale.join("\n")
    );
}

fn first_difference(format: &str, path: &Path, want: &str, got: &str) -> String {
    let line = want
        .lines()
        .zip(got.lines())
        .position(|(a, b)| a != b)
        .unwrap_or_else(|| want.lines().count().min(got.lines().count()));
    format!(
        "{format} ({}), line {}:\n  golden: {}\n  now:    {}",
        path.display(),
        line + 1,
        want.lines().nth(line).unwrap_or("<end>"),
        got.lines().nth(line).unwrap_or("<end>")
    )
}

#[test]
fn golden_outputs_of_the_insecure_example() {
    compare("insecure-mesh");
}

#[test]
fn golden_outputs_of_the_hardened_example() {
    compare("hardened-mesh");
}

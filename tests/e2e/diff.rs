//! `kridik diff`: what a change does (issue 17), on pairs of fixture trees.

use crate::support::*;
use serde_json::Value;

fn diff(base: &str, head: &str, format: &str) -> Run {
    run(kridik()
        .current_dir(repo())
        .args(["diff", "--base", base, "--head", head, "--format", format]))
}

fn copy_example(name: &str, dir: &std::path::Path, edit: impl Fn(String) -> String) {
    for f in std::fs::read_dir(example(name)).unwrap().flatten() {
        let text = std::fs::read_to_string(f.path()).unwrap();
        std::fs::write(dir.join(f.file_name()), edit(text)).unwrap();
    }
}

#[test]
fn a_change_that_opens_paths_fails_and_its_reverse_passes() {
    let hardened = example("hardened-mesh").display().to_string();
    let insecure = example("insecure-mesh").display().to_string();
    let worse = diff(&hardened, &insecure, "json");
    assert_eq!(worse.code, 1, "{}", worse.stderr);
    let d: Value = worse.json();
    assert!(!d["paths_opened"].as_array().unwrap().is_empty(), "{d}");
    assert!(d["added"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["check_id"] == "IST-AUTHZ-001"));
    assert!(d["score"][0].as_f64().unwrap() > d["score"][1].as_f64().unwrap());
    let better = diff(&insecure, &hardened, "json");
    assert_eq!(better.code, 0, "{}", better.stderr);
    let d: Value = better.json();
    assert!(d["added"].as_array().unwrap().is_empty(), "{d}");
    assert_eq!(d["paths_closed"], worse.json()["paths_opened"]);
    // The pull-request comment names the opened path.
    let md = diff(&hardened, &insecure, "markdown").stdout;
    assert!(md.starts_with("## kridik: what this change does"), "{md}");
    assert!(md.contains("**opens an attack path**"), "{md}");
}

/// A one-line change (one workload's port-level mode relaxed to PERMISSIVE)
/// is rated by what it joins: the workload is already on an attack path in
/// this mesh, so the new finding is CRITICAL and the diff fails.
#[test]
fn a_small_change_is_rated_by_the_attack_paths_it_joins() {
    let base = tempfile::tempdir().unwrap();
    let head = tempfile::tempdir().unwrap();
    copy_example("insecure-mesh", base.path(), |t| t);
    copy_example("insecure-mesh", head.path(), |t| {
        t.replace("mode: STRICT", "mode: PERMISSIVE")
    });
    let run = diff(&s(base.path()), &s(head.path()), "json");
    assert_eq!(run.code, 1, "{}", run.stdout);
    let d: Value = run.json();
    let added = d["added"].as_array().unwrap();
    assert_eq!(added.len(), 1, "{d}");
    assert_eq!(added[0]["check_id"], "IST-MTLS-001");
    assert_eq!(added[0]["severity"], "critical");
    assert_eq!(
        added[0]["resource"],
        "PeerAuthentication payments/ledger-db"
    );
}

#[test]
fn renaming_objects_or_the_same_tree_from_git_is_no_change() {
    let base = example("insecure-mesh").display().to_string();
    let renamed = tempfile::tempdir().unwrap();
    copy_example("insecure-mesh", renamed.path(), |t| {
        t.replace("name: allow-all", "name: allow-everything")
    });
    let run = diff(&base, &s(renamed.path()), "text");
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(
        run.stdout.starts_with("No security change"),
        "{}",
        run.stdout
    );
    // The committed tree at HEAD against the working tree.
    let git = diff(
        "HEAD:examples/insecure-mesh",
        "examples/insecure-mesh",
        "json",
    );
    assert_eq!(git.code, 0, "{}", git.stderr);
    let d: Value = git.json();
    assert!(
        d["added"].as_array().unwrap().is_empty() && d["fixed"].as_array().unwrap().is_empty(),
        "{d}"
    );
}

fn s(p: &std::path::Path) -> String {
    p.display().to_string()
}

//! The same check written with each SDK finds the same things: the Rust,
//! JavaScript, Python and Go examples, built by `make sdk-examples`, through
//! the real binary.

use crate::support::*;
use std::path::{Path, PathBuf};

fn example_wasm(lang: &str) -> PathBuf {
    let path = repo()
        .join("target/sdk-examples")
        .join(format!("{lang}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: run `make sdk-examples` (`make test` does)",
        path.display()
    );
    path
}

fn findings(plugin: &Path, mesh: &str) -> serde_json::Value {
    let run = scan_json(&[
        "-f",
        &example(mesh).display().to_string(),
        "--no-builtin",
        "--plugin",
        &plugin.display().to_string(),
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(
        report["checks"][0]["status"],
        if mesh == "insecure-mesh" {
            "fail"
        } else {
            "pass"
        }
    );
    report["findings"].clone()
}

#[test]
fn the_rust_javascript_python_and_go_examples_report_identical_findings() {
    let rust = component("kridik_example_gateway_tls");
    for mesh in ["insecure-mesh", "hardened-mesh"] {
        let expected = findings(&rust, mesh);
        // python-v0.1: built against the frozen 0.1 WIT, still run unchanged.
        for lang in ["js", "python", "go", "python-v0.1"] {
            assert_eq!(
                findings(&example_wasm(lang), mesh),
                expected,
                "{lang} on {mesh}"
            );
        }
    }
    // Which world each was built for: the findings above are the same whether
    // a component imports 0.1.0, the frozen 0.2.0 or the 0.2.1 this kridik binds.
    let names = |lang: &str, needle: &str| {
        let wasm = std::fs::read(example_wasm(lang)).unwrap();
        let needle = format!("kridik:plugin/checks@{needle}");
        wasm.windows(needle.len()).any(|w| w == needle.as_bytes())
    };
    for (lang, version) in [
        ("python-v0.1", "0.1.0"),
        ("js", "0.2.0"),
        ("python", "0.2.0"),
        ("go", "0.2.0"),
        ("rust", "0.2.1"),
    ] {
        assert!(names(lang, version), "{lang}.wasm exports checks@{version}");
    }
    assert!(
        !names("python-v0.1", "0.2.0"),
        "python-v0.1.wasm exports only the 0.1 world"
    );
    let insecure = findings(&rust, "insecure-mesh");
    assert_eq!(insecure.as_array().unwrap().len(), 1);
    assert_eq!(insecure[0]["resource"]["name"], "public");
    assert_eq!(
        std::fs::read(example_wasm("rust")).unwrap(),
        std::fs::read(&rust).unwrap()
    );
}

#[test]
fn the_javascript_type_definitions_are_current() {
    let jco = repo().join("sdk/js/node_modules/.bin/jco");
    assert!(
        jco.is_file(),
        "run `make sdk-examples` to install sdk/js's packages"
    );
    let out = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(&jco)
        .current_dir(repo())
        .args(["types", "wit/v0.2.0", "--world-name", "check", "-o"])
        .arg(out.path())
        .stdout(std::process::Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    for file in [
        "check.d.ts",
        "interfaces/kridik-plugin-mesh.d.ts",
        "interfaces/kridik-plugin-snapshot.d.ts",
        "interfaces/kridik-plugin-types.d.ts",
        "interfaces/kridik-plugin-checks.d.ts",
    ] {
        let fresh = std::fs::read_to_string(out.path().join(file)).unwrap();
        let committed =
            std::fs::read_to_string(repo().join("sdk/js/types").join(file)).unwrap_or_default();
        assert!(
            fresh == committed,
            "sdk/js/types/{file} is stale: run `npm run types` in sdk/js"
        );
    }
}

/// `kridik check new` gives a project whose own `make test` builds the check
/// and proves it flags the vulnerable fixture and passes the hardened one.
fn scaffold_passes_its_own_test(lang: &str) {
    let dir = tempfile::tempdir().unwrap();
    let new = run(kridik()
        .args(["check", "new", "port-names", "--lang", lang, "--dir"])
        .arg(dir.path()));
    assert_eq!(new.code, 0, "{}", new.stderr);
    assert!(
        new.stdout.contains("(check PORT-NAMES-001)"),
        "{}",
        new.stdout
    );
    let project = dir.path().join("port-names");
    let again = run(kridik()
        .args(["check", "new", "port-names", "--lang", lang, "--dir"])
        .arg(dir.path()));
    assert_eq!(again.code, 2);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);

    // kridik-go-componentize is built beside kridik (`make sdk-examples`).
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_kridik"));
    let componentize = bin.with_file_name("kridik-go-componentize");
    let out = std::process::Command::new("make")
        .arg("test")
        // No KRIDIK=: the generated Makefile finds the kridik that wrote it.
        .arg(format!("KRIDIK_GO_COMPONENTIZE={}", componentize.display()))
        .current_dir(&project)
        .env_remove("MAKEFLAGS")
        .env_remove("MFLAGS")
        .env_remove("MAKELEVEL")
        .env("KRIDIK_HOME", dir.path().join("home"))
        .env("KRIDIK_CACHE_DIR", dir.path().join("cache"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{lang} scaffold: make test failed\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("PORT-NAMES-001: vulnerable fixture flagged, hardened fixture clean"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Service demo/web port 80 has no name."),
        "{stdout}"
    );
}

#[test]
fn a_new_rust_check_builds_and_passes_as_generated() {
    scaffold_passes_its_own_test("rust");
}

#[test]
fn a_new_javascript_check_builds_and_passes_as_generated() {
    scaffold_passes_its_own_test("js");
}

#[test]
fn a_new_go_check_builds_and_passes_as_generated() {
    scaffold_passes_its_own_test("go");
}

#[test]
fn a_new_python_check_builds_and_passes_as_generated() {
    scaffold_passes_its_own_test("python");
}

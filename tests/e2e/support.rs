//! Running the real binary and reading its JSON report.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

pub fn example(name: &str) -> PathBuf {
    repo().join("examples").join(name)
}

/// A component built by host/build.rs (`kridik_test_hostile`, ...).
pub fn component(name: &str) -> PathBuf {
    Path::new(env!("KRIDIK_WASM_DIR")).join(format!("{name}.wasm"))
}

/// One compile cache for the whole test run, outside the user's home.
fn cache_dir() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

/// An empty plugin home, so the user's installed plugins never join a test's scan.
fn empty_home() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| tempfile::tempdir().unwrap()).path()
}

pub fn kridik() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kridik"));
    cmd.env("KRIDIK_CACHE_DIR", cache_dir())
        .env("KRIDIK_HOME", empty_home())
        .env_remove("KUBECONFIG")
        .env("NO_COLOR", "1");
    cmd.stdin(Stdio::null());
    cmd
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON document ({e}):\n{}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
}

pub fn run(cmd: &mut Command) -> Run {
    finished(cmd.output().expect("running kridik"))
}

fn finished(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs with `input` on stdin (e.g. --password-stdin).
pub fn run_with_stdin(cmd: &mut Command, input: &str) -> Run {
    use std::io::Write;
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running kridik");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    finished(child.wait_with_output().unwrap())
}

/// `kridik scan --format json ARGS...`
pub fn scan_json(args: &[&str]) -> Run {
    run(kridik().arg("scan").args(args).args(["--format", "json"]))
}

/// The ids of every check `kridik checks` lists (the built-in pack).
pub fn check_ids() -> Vec<String> {
    let all = run(kridik().args(["checks", "--format", "json"]));
    assert_eq!(all.code, 0, "{}", all.stderr);
    serde_json::from_str::<Value>(&all.stdout)
        .unwrap()
        .as_array()
        .unwrap()
        .iter()
        // The `--deep` checks read proxies, not files: tests/e2e/deep.rs covers them.
        .filter(|c| c["plugin"] != "kridik --deep")
        .map(|c| c["check"]["id"].as_str().unwrap().to_string())
        .collect()
}

/// The check record with this id.
pub fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {}", report["checks"]))
}

/// (check_id, kind, namespace/name) of every finding, sorted.
pub fn flagged(report: &Value) -> Vec<(String, String, String)> {
    let mut v: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let r = &f["resource"];
            (
                f["check_id"].as_str().unwrap().to_string(),
                r["kind"].as_str().unwrap().to_string(),
                format!(
                    "{}/{}",
                    r["namespace"].as_str().unwrap(),
                    r["name"].as_str().unwrap()
                ),
            )
        })
        .collect();
    v.sort();
    v
}

/// A temporary directory whose `.kridik.yaml` suppresses one check, with a reason.
pub fn suppressing(check: &str, reason: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(".kridik.yaml"),
        format!("suppressions:\n- check: {check}\n  reason: {reason}\n"),
    )
    .unwrap();
    dir
}

/// Runs a Python script (the test tools: jsonschema, prometheus_client) with
/// `args`, feeding `stdin`; returns its stdout parsed as JSON.
pub fn python_json(script: &str, args: &[&std::ffi::OsStr], stdin: &str) -> Value {
    use std::io::Write;
    let mut child = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

//! `kridik plugin add/list/info/remove` with a real check component built from
//! `sdk/rust/examples/gateway-tls`, in a throwaway KRIDIK_HOME.

use crate::support::*;
use std::path::{Path, PathBuf};

pub const EXAMPLE: &str = "kridik_example_gateway_tls";

/// A throwaway KRIDIK_HOME.
pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn command(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = kridik();
        cmd.env("KRIDIK_HOME", self.dir.path()).args(args);
        cmd
    }

    pub fn kridik(&self, args: &[&str]) -> Run {
        run(&mut self.command(args))
    }

    /// `kridik scan -f examples/insecure-mesh --format json EXTRA...` in this home.
    pub fn scan_insecure(&self, extra: &[&str]) -> Run {
        let insecure = s(&example("insecure-mesh"));
        let mut args = vec!["scan", "-f", &insecure, "--format", "json"];
        args.extend(extra);
        self.kridik(&args)
    }

    pub fn list(&self) -> serde_json::Value {
        let run = self.kridik(&["plugin", "list", "--format", "json"]);
        assert_eq!(run.code, 0, "{}", run.stderr);
        run.json()
    }

    /// Every file under the home, to prove a failed command changed nothing.
    pub fn files(&self) -> Vec<(PathBuf, Vec<u8>)> {
        fn walk(dir: &Path, out: &mut Vec<(PathBuf, Vec<u8>)>) {
            for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                let path = e.path();
                if path.is_dir() {
                    walk(&path, out);
                } else {
                    out.push((path.clone(), std::fs::read(&path).unwrap()));
                }
            }
        }
        let mut out = Vec::new();
        walk(self.dir.path(), &mut out);
        out.sort();
        out
    }
}

pub fn s(p: &Path) -> String {
    p.display().to_string()
}

/// The same component with a custom section appended: same checks, new digest.
pub fn variant(dir: &Path, name: &str) -> PathBuf {
    let mut bytes = std::fs::read(component(EXAMPLE)).unwrap();
    let section_name = b"kridik-test-variant";
    let payload = name.as_bytes();
    let len = 1 + section_name.len() + payload.len();
    assert!(len < 128, "one-byte LEB128 sizes keep this simple");
    bytes.extend([0u8, len as u8, section_name.len() as u8]);
    bytes.extend(section_name);
    bytes.extend(payload);
    let path = dir.join(format!("{name}.wasm"));
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn an_added_plugin_runs_beside_the_builtin_pack_until_removed() {
    let home = Home::new();
    let wasm = s(&component(EXAMPLE));
    assert_eq!(home.list(), serde_json::json!([]));

    let add = home.kridik(&["plugin", "add", &wasm, "--name", "gw-tls"]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert!(
        add.stdout.starts_with("added gw-tls (sha256:") && add.stdout.contains("EXAMPLE-GW-001"),
        "{}",
        add.stdout
    );
    let listed = home.list();
    let entry = &listed[0];
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(entry["name"], "gw-tls");
    assert_eq!(entry["world"], "check");
    assert_eq!(entry["wit_version"], "0.2.1");
    assert_eq!(entry["checks"][0]["id"], "EXAMPLE-GW-001");
    assert_eq!(
        entry["checks"][0]["kinds"][0],
        "networking.istio.io/Gateway"
    );
    let bytes = std::fs::read(component(EXAMPLE)).unwrap();
    let digest = entry["digest"].as_str().unwrap().to_string();
    assert_eq!(
        digest,
        format!("sha256:{}", kridik::runtime::sha256(&bytes))
    );

    // Adding the same bytes again is a no-op, whatever the name.
    let before = home.files();
    let again = home.kridik(&["plugin", "add", &wasm]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    assert!(
        again.stdout.contains("already installed as gw-tls"),
        "{}",
        again.stdout
    );
    assert_eq!(home.files(), before);

    // info by name and by check id.
    for key in ["gw-tls", "EXAMPLE-GW-001"] {
        let info = home.kridik(&["plugin", "info", key]);
        assert_eq!(info.code, 0, "{}", info.stderr);
        assert!(info.stdout.contains(&digest), "{}", info.stdout);
        assert!(info
            .stdout
            .contains("world:        kridik:plugin/check@0.2.1"));
        assert!(info.stdout.contains("reads networking.istio.io/Gateway"));
    }

    // A scan runs it with the built-in pack; --no-builtin runs it alone.
    let scan = |extra: &[&str]| home.scan_insecure(extra).json();
    let both = scan(&[]);
    assert_eq!(check(&both, "EXAMPLE-GW-001")["plugin"], "gw-tls");
    assert_eq!(check(&both, "EXAMPLE-GW-001")["status"], "fail");
    assert_eq!(check(&both, "IST-GW-003")["status"], "fail");
    let alone = scan(&["--no-builtin"]);
    assert_eq!(alone["checks"].as_array().unwrap().len(), 1);
    assert_eq!(
        flagged(&alone),
        [(
            "EXAMPLE-GW-001".to_string(),
            "Gateway".to_string(),
            "shop/public".to_string()
        )]
    );

    let removed = home.kridik(&["plugin", "remove", "gw-tls"]);
    assert_eq!(removed.code, 0, "{}", removed.stderr);
    assert_eq!(home.list(), serde_json::json!([]));
    let blobs: Vec<_> = home
        .files()
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    assert!(
        blobs.is_empty(),
        "the blob goes with the last plugin using it"
    );
    let twice = home.kridik(&["plugin", "remove", "gw-tls"]);
    assert_eq!(twice.code, 2);
    assert!(
        twice.stderr.contains("no installed plugin is named gw-tls"),
        "{}",
        twice.stderr
    );
}

#[test]
fn clashing_names_and_ids_are_refused_unless_replaced() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let v1 = variant(dir.path(), "gw-tls");
    let v2_dir = dir.path().join("v2");
    std::fs::create_dir(&v2_dir).unwrap();
    let v2 = variant(&v2_dir, "gw-tls-2");
    assert_eq!(home.kridik(&["plugin", "add", &s(&v1)]).code, 0);
    let before = home.files();

    // Same name, other bytes.
    let same_name = home.kridik(&["plugin", "add", &s(&v2), "--name", "gw-tls"]);
    assert_eq!(same_name.code, 2);
    assert_eq!(same_name.stderr.lines().count(), 1, "{}", same_name.stderr);
    assert!(
        same_name
            .stderr
            .contains("installed plugin gw-tls has the same name; pass --replace"),
        "{}",
        same_name.stderr
    );
    // Other name, same check id.
    let same_id = home.kridik(&["plugin", "add", &s(&v2)]);
    assert_eq!(same_id.code, 2);
    assert!(
        same_id
            .stderr
            .contains("installed plugin gw-tls provides check id EXAMPLE-GW-001"),
        "{}",
        same_id.stderr
    );
    assert_eq!(home.files(), before, "a refused add changes nothing");

    let replaced = home.kridik(&["plugin", "add", &s(&v2), "--replace"]);
    assert_eq!(replaced.code, 0, "{}", replaced.stderr);
    assert!(
        replaced.stdout.contains("replacing gw-tls"),
        "{}",
        replaced.stdout
    );
    let listed = home.list();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0]["name"], "gw-tls-2");
    let wasm: Vec<_> = home
        .files()
        .into_iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    assert_eq!(wasm.len(), 1, "the replaced blob is gone");
}

#[test]
fn broken_components_are_refused_and_damage_is_reported_at_scan() {
    let home = Home::new();
    let dir = tempfile::tempdir().unwrap();
    let core = dir.path().join("core.wasm");
    std::fs::write(&core, b"\0asm\x01\0\0\0").unwrap();
    let cases = [
        (s(&core), "is a core WebAssembly module, not a component"),
        (s(&dir.path().join("missing.wasm")), "cannot read plugin"),
        (
            s(&component("kridik_test_future_version")),
            "was built for kridik:plugin@1.0.0, but this kridik runs kridik:plugin@0.1.x, 0.2.x",
        ),
        (
            s(&component("kridik_test_foreign_import")),
            "which kridik does not give to checks",
        ),
    ];
    for (file, message) in &cases {
        let run = home.kridik(&["plugin", "add", file]);
        assert_eq!(run.code, 2, "{file}");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains(message), "{file}: {}", run.stderr);
    }
    assert!(home.files().is_empty(), "nothing is half-installed");

    // A stored blob changed behind kridik's back is refused at scan time,
    // and the rest of the scan still runs.
    assert_eq!(
        home.kridik(&["plugin", "add", &s(&component(EXAMPLE))])
            .code,
        0
    );
    let blob = home
        .files()
        .into_iter()
        .map(|(p, _)| p)
        .find(|p| p.extension().is_some_and(|e| e == "wasm"))
        .unwrap();
    let mut bytes = std::fs::read(&blob).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    let report = home.scan_insecure(&[]).json();
    let error = check(&report, &format!("plugin:{EXAMPLE}"))["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        error.contains(&format!("installed plugin {EXAMPLE} is damaged")),
        "{error}"
    );
    assert!(error.contains("kridik plugin add --replace"), "{error}");
    assert_eq!(check(&report, "IST-MTLS-001")["status"], "fail");
}

#[test]
fn save_and_load_move_plugins_through_an_oci_layout() {
    let home = Home::new();
    assert_eq!(
        home.kridik(&["plugin", "add", &s(&component(EXAMPLE)), "--name", "gw-tls"])
            .code,
        0
    );
    let out = tempfile::tempdir().unwrap();
    let layout = out.path().join("packs");
    let save = home.kridik(&["plugin", "save", "-o", &s(&layout)]);
    assert_eq!(save.code, 0, "{}", save.stderr);
    assert!(
        save.stdout.starts_with("saved gw-tls to"),
        "{}",
        save.stdout
    );
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(layout.join("index.json")).unwrap()).unwrap();
    assert_eq!(
        index["manifests"][0]["annotations"]["org.opencontainers.image.ref.name"],
        "gw-tls"
    );
    assert!(layout.join("oci-layout").is_file());

    // The air-gapped side installs the same bytes under the same name.
    let offline = Home::new();
    let load = offline.kridik(&["plugin", "load", &s(&layout)]);
    assert_eq!(load.code, 0, "{}", load.stderr);
    assert_eq!(offline.list()[0]["name"], "gw-tls");
    assert_eq!(offline.list()[0]["digest"], home.list()[0]["digest"]);
    assert!(offline.list()[0]["source"]
        .as_str()
        .unwrap()
        .starts_with("oci-layout:"));

    // A changed blob is refused and nothing is installed.
    let layer = kridik::runtime::sha256(&std::fs::read(component(EXAMPLE)).unwrap());
    let blob = layout.join("blobs/sha256").join(&layer);
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[10] ^= 1;
    std::fs::write(&blob, bytes).unwrap();
    let third = Home::new();
    let refused = third.kridik(&["plugin", "load", &s(&layout)]);
    assert_eq!(refused.code, 2);
    assert!(
        refused.stderr.contains("does not match its digest"),
        "{}",
        refused.stderr
    );
    assert!(third.files().is_empty());
}

/// Issue 13, defect 8: parallel `plugin add`/`remove` runs and a `kill -9`
/// mid-add leave a valid index whose every plugin's blob exists and verifies,
/// and nothing that exited 0 is missing.
#[test]
fn concurrent_adds_and_killed_adds_lose_nothing() {
    let home = Home::new();
    let components = [
        ("gateway-tls", EXAMPLE),
        ("report-file", "kridik_example_hook_report_file"),
        ("webhook", "kridik_example_hook_webhook"),
        ("hostile", "kridik_test_hostile"),
        ("hostile-hook", "kridik_test_hostile_hook"),
    ];
    for round in 0..4 {
        let children: Vec<(String, std::process::Child)> = components
            .iter()
            .map(|(name, c)| {
                let file = s(&component(c));
                let child = home
                    .command(&["plugin", "add", &file, "--name", name])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap();
                (name.to_string(), child)
            })
            .collect();
        let mut added = Vec::new();
        for (name, mut child) in children {
            if child.wait().unwrap().success() {
                added.push(name);
            }
        }
        assert_eq!(
            added.len(),
            components.len(),
            "round {round}: every add succeeds"
        );
        let listed: Vec<String> = home
            .list()
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap().to_string())
            .collect();
        for name in &added {
            assert!(
                listed.contains(name),
                "round {round}: {name} vanished from {listed:?}"
            );
            // `plugin info` reads and verifies the blob.
            let info = home.kridik(&["plugin", "info", name]);
            assert_eq!(info.code, 0, "round {round}: {name}: {}", info.stderr);
        }
        // Remove them all again, in parallel too.
        let removals: Vec<std::process::Child> = added
            .iter()
            .map(|n| {
                home.command(&["plugin", "remove", n])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        for mut r in removals {
            assert!(
                r.wait().unwrap().success(),
                "round {round}: a remove failed"
            );
        }
        assert!(home.list().as_array().unwrap().is_empty());
    }
    // A killed add leaves at worst a temporary file, removed by the next change.
    let file = s(&component(EXAMPLE));
    for delay in [0u64, 20, 60, 150] {
        let mut child = home
            .command(&["plugin", "add", &file, "--name", "killed"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay));
        let _ = child.kill();
        let _ = child.wait();
        let _ = home.kridik(&["plugin", "remove", "killed"]);
    }
    let after = home.kridik(&["plugin", "add", &file, "--name", "survivor"]);
    assert_eq!(after.code, 0, "{}", after.stderr);
    let leftovers: Vec<String> = home
        .files()
        .iter()
        .map(|(p, _)| p.file_name().unwrap().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n != ".lock")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    assert_eq!(home.kridik(&["plugin", "info", "survivor"]).code, 0);
}

/// A component built against the frozen 0.1 WIT (no SDK) runs beside 0.2
/// components and sees the same model; every 0.2 query agrees with the whole
/// lists it answers from (the component reports each disagreement).
#[test]
fn components_of_both_wit_versions_run_side_by_side() {
    let legacy = s(&component("kridik_test_legacy_v0_1"));
    let queries = s(&component("kridik_test_queries_v0_2"));
    for mesh in ["insecure-mesh", "hardened-mesh"] {
        let run = scan_json(&[
            "-f",
            &s(&example(mesh)),
            "--plugin",
            &legacy,
            "--plugin",
            &queries,
        ]);
        assert!(run.code <= 1, "{}", run.stderr);
        let report = run.json();
        let messages = |id: &str| -> Vec<String> {
            report["findings"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|f| f["check_id"] == id)
                .map(|f| f["message"].as_str().unwrap().to_string())
                .collect()
        };
        let workloads = report["summary"]["workloads"].as_u64().unwrap();
        assert!(workloads > 0, "{mesh}");
        let seen = messages("LEGACY-001");
        assert_eq!(seen.len(), 1, "{mesh}: {seen:?}");
        assert!(
            seen[0].contains(&format!(" workloads={workloads} "))
                && seen[0].contains("undeclared-refused=true"),
            "{mesh}: {}",
            seen[0]
        );
        let compared = messages("QUERIES-001");
        assert!(
            compared[0].starts_with(&format!("compared workloads={workloads} ")),
            "{mesh}: {compared:?}"
        );
        assert_eq!(
            compared.len(),
            1,
            "{mesh}: the queries disagree: {compared:?}"
        );
        // The built-in pack (0.2) ran in the same scan.
        let builtin_ran = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["plugin"] == "builtin:istio" && c["status"] != "error");
        assert!(builtin_ran, "{mesh}");
    }
}

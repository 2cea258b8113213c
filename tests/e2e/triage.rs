//! Suppressions (config and annotation, with expiry on a fixed clock) and
//! baselines, through the real binary.

use crate::plugins::s;
use crate::support::*;
use std::path::Path;

fn scan_in(dir: &Path, today: &str, args: &[&str]) -> Run {
    run(kridik()
        .current_dir(dir)
        .env("KRIDIK_TODAY", today)
        .arg("scan")
        .args(args)
        .args(["--format", "json"]))
}

fn finding<'a>(report: &'a serde_json::Value, check: &str, name: &str) -> &'a serde_json::Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check_id"] == check && f["resource"]["name"] == name)
        .unwrap_or_else(|| panic!("no {check} on {name}"))
}

const CONFIG: &str = "suppressions:
- check: IST-MTLS-002
  reason: mesh-wide STRICT is rolled out namespace by namespace
  expires: 2027-03-31
- check: IST-AUTHZ-001
  resource: \"AuthorizationPolicy/shop/*\"
  reason: shop is replaced next sprint
- check: ZT-AUTHZ-006
  resource: \"AuthorizationPolicy/nowhere/*\"
  reason: matches nothing
";

#[test]
fn config_suppressions_mark_findings_until_they_expire() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(".kridik.yaml"), CONFIG).unwrap();
    let mesh = s(&example("insecure-mesh"));
    let plain = scan_json(&["-f", &mesh]).json();

    // Found upward from the working directory.
    let sub = dir.path().join("a/b");
    std::fs::create_dir_all(&sub).unwrap();
    let run = scan_in(
        &sub,
        "2026-11-23",
        &["-f", &mesh, "--report-unused-suppressions"],
    );
    let report = run.json();
    let mtls = finding(&report, "IST-MTLS-002", "istio-system");
    assert_eq!(
        mtls["suppressed"]["reason"],
        "mesh-wide STRICT is rolled out namespace by namespace"
    );
    assert_eq!(mtls["suppressed"]["expires"], "2027-03-31");
    let allow_all = finding(&report, "IST-AUTHZ-001", "allow-all");
    assert!(allow_all["suppressed"]["source"]
        .as_str()
        .unwrap()
        .ends_with(".kridik.yaml:suppressions[1]"));
    assert_eq!(report["triage"]["suppressed"], 2);
    assert_eq!(
        report["summary"]["findings"].as_u64().unwrap() + 2,
        plain["summary"]["findings"].as_u64().unwrap(),
        "suppressed findings stay in the JSON but leave the summary"
    );
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        plain["findings"].as_array().unwrap().len()
    );
    assert!(report["triage"]["unused"][0]
        .as_str()
        .unwrap()
        .contains("(ZT-AUTHZ-006) matched no finding"));
    assert!(run.stderr.contains("matched no finding"), "{}", run.stderr);

    // After the expiry date the rule stops suppressing and says so.
    let later = scan_in(&sub, "2027-04-01", &["-f", &mesh]).json();
    assert!(finding(&later, "IST-MTLS-002", "istio-system")["suppressed"].is_null());
    assert!(later["triage"]["expired"][0]
        .as_str()
        .unwrap()
        .contains("(IST-MTLS-002) expired on 2027-03-31"));
    assert_eq!(later["triage"]["suppressed"], 1);
}

#[test]
fn an_annotation_suppresses_on_the_resource_itself() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: open
  namespace: web
  annotations:
    kridik.io/suppress: \"IST-AUTHZ-001: public status page, reviewed by security\"
spec:
  rules:
  - {}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: open-too
  namespace: web
spec:
  rules:
  - {}
";
    std::fs::write(dir.path().join("policies.yaml"), yaml).unwrap();
    let run = scan_in(
        dir.path(),
        "2026-11-23",
        &[
            "-f",
            "policies.yaml",
            "-i",
            "IST-AUTHZ-001",
            "--fail-on",
            "info",
        ],
    );
    assert_eq!(run.code, 1, "open-too still fails the run");
    let report = run.json();
    let open = finding(&report, "IST-AUTHZ-001", "open");
    assert_eq!(
        open["suppressed"]["reason"],
        "public status page, reviewed by security"
    );
    assert_eq!(
        open["suppressed"]["source"],
        "annotation kridik.io/suppress on AuthorizationPolicy web/open"
    );
    assert!(finding(&report, "IST-AUTHZ-001", "open-too")["suppressed"].is_null());
}

#[test]
fn a_suppression_without_a_reason_or_date_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = s(&example("insecure-mesh"));
    for (config, message) in [
        (
            "suppressions:\n- check: IST-MTLS-002\n",
            "has no reason: every suppression needs one",
        ),
        (
            "suppressions:\n- check: IST-MTLS-002\n  reason: later\n  expires: soon\n",
            "expires `soon` is not a date (write YYYY-MM-DD)",
        ),
        ("suppresions: []\n", "is not a valid kridik config"),
    ] {
        std::fs::write(dir.path().join(".kridik.yaml"), config).unwrap();
        let run = scan_in(dir.path(), "2026-11-23", &["-f", &mesh]);
        assert_eq!(run.code, 2, "{config}");
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains(message), "{}", run.stderr);
    }
}

#[test]
fn a_baseline_fails_only_on_new_findings_and_counts_the_fixed() {
    let dir = tempfile::tempdir().unwrap();
    let mesh = dir.path().join("mesh");
    std::fs::create_dir(&mesh).unwrap();
    for f in std::fs::read_dir(example("insecure-mesh"))
        .unwrap()
        .flatten()
    {
        std::fs::copy(f.path(), mesh.join(f.file_name())).unwrap();
    }
    let baseline = s(&dir.path().join("baseline.json"));
    let write = scan_in(
        dir.path(),
        "2026-11-23",
        &["-f", "mesh", "--write-baseline", &baseline],
    );
    assert_eq!(write.code, 1);
    let total = write.json()["findings"].as_array().unwrap().len();
    assert!(
        write
            .stderr
            .contains(&format!("wrote {total} finding(s) to the baseline")),
        "{}",
        write.stderr
    );

    let same = scan_in(
        dir.path(),
        "2026-11-23",
        &["-f", "mesh", "--baseline", &baseline, "--fail-on", "info"],
    );
    assert_eq!(same.code, 0, "nothing new");
    let report = same.json();
    assert_eq!(report["triage"]["baseline"]["known"], total);
    assert_eq!(report["triage"]["baseline"]["new"], 0);
    assert_eq!(report["summary"]["findings"], 0);

    // Fix one thing (the allow-all policy), break another (a new one elsewhere).
    let shop = std::fs::read_to_string(mesh.join("shop.yaml")).unwrap();
    std::fs::write(
        mesh.join("shop.yaml"),
        shop.replace("name: allow-all", "name: allow-all-renamed"),
    )
    .unwrap();
    let changed = scan_in(
        dir.path(),
        "2026-11-23",
        &["-f", "mesh", "--baseline", &baseline],
    );
    assert_eq!(changed.code, 1, "the renamed policy is a new high finding");
    let report = changed.json();
    assert_eq!(report["triage"]["baseline"]["new"], 1);
    assert_eq!(report["triage"]["baseline"]["fixed"], 1);
    assert!(finding(&report, "IST-AUTHZ-001", "allow-all-renamed")["in_baseline"].is_null());

    let missing = scan_in(
        dir.path(),
        "2026-11-23",
        &["-f", "mesh", "--baseline", "nope.json"],
    );
    assert_eq!(missing.code, 2);
    assert!(
        missing
            .stderr
            .contains("create it with `kridik scan --write-baseline nope.json`"),
        "{}",
        missing.stderr
    );
}

/// Issue 13, defect 13: a rule for every check on every resource would hide
/// the whole report; it is refused, not applied.
#[test]
fn a_suppression_of_everything_is_refused() {
    for rule in [
        "- check: \"*\"\n  resource: \"*\"\n  reason: quiet please\n",
        "- check: \"*\"\n  reason: quiet please\n",
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(".kridik.yaml"),
            format!("suppressions:\n{rule}"),
        )
        .unwrap();
        let r = scan_in(dir.path(), "2026-11-01", &[]);
        assert_eq!(r.code, 2, "{rule}");
        assert!(
            r.stderr.contains("every check on every resource"),
            "{}",
            r.stderr
        );
    }
}

//! `scan --deep` end to end: the loopback API server forwards ports to pods
//! whose "proxies" serve recorded config dumps, hang, refuse, answer HTML or
//! are forbidden, as a cluster's would.

use crate::apiserver::{Admin, ApiServer, Config};
use crate::support::*;
use serde_json::Value;
use std::collections::BTreeMap;

fn fixtures() -> std::path::PathBuf {
    repo().join("tests/fixtures/deep")
}

fn dump(name: &str) -> Admin {
    Admin::Dump(std::fs::read(fixtures().join("dumps").join(name)).unwrap())
}

/// `kridik scan --deep` through the harness, whatever it finds.
fn deep_scan(kc: &str) -> Run {
    scan_json(&[
        "--kubeconfig",
        kc,
        "--deep",
        "--deep-timeout",
        "3s",
        "--fail-on",
        "never",
    ])
}

fn server(admin: BTreeMap<String, Admin>) -> (ApiServer, tempfile::TempDir, String) {
    let server = ApiServer::start(
        &[fixtures()],
        Config {
            admin,
            ..Config::default()
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig(dir.path(), None).display().to_string();
    (server, dir, kubeconfig)
}

fn proxies() -> BTreeMap<String, Admin> {
    BTreeMap::from([
        ("bank/vault-api-0".into(), dump("bank__vault-api-0.json")),
        (
            "bank/vault-audit-0".into(),
            dump("bank__vault-audit-0.json"),
        ),
        // An admin that closes the connection after each answer.
        (
            "bank/kms-0".into(),
            Admin::DumpThenClose(std::fs::read(fixtures().join("dumps/bank__kms-0.json")).unwrap()),
        ),
        ("bank/slow-0".into(), Admin::Hang),
        ("bank/closed-0".into(), Admin::Refused),
        ("bank/junk-0".into(), Admin::Garbage),
        ("bank/locked-0".into(), Admin::Forbidden),
        (
            "istio-system/ztunnel-x7k2p".into(),
            dump("istio-system__ztunnel-x7k2p.json"),
        ),
    ])
}

fn findings<'a>(report: &'a Value, check: &str) -> Vec<&'a Value> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["check_id"] == check)
        .collect()
}

fn on(f: &Value) -> String {
    format!(
        "{}/{}",
        f["resource"]["namespace"].as_str().unwrap(),
        f["resource"]["name"].as_str().unwrap()
    )
}

#[test]
fn deep_verifies_what_the_proxies_run_and_reports_where_they_differ() {
    let (server, _dir, kc) = server(proxies());
    let scan = deep_scan(&kc);
    assert_eq!(scan.code, 0, "{}", scan.stderr);
    let report = scan.json();

    // The configuration says STRICT; vault-audit's proxy also accepts plaintext on 9000.
    let weaker = findings(&report, "DP-MTLS-001");
    assert_eq!(
        weaker.iter().map(|f| on(f)).collect::<Vec<_>>(),
        ["bank/vault-audit-0"],
        "{weaker:?}"
    );
    let f = weaker[0];
    assert_eq!(f["confidence"], "VERIFIED");
    let message = f["message"].as_str().unwrap();
    assert!(
        message.contains("STRICT")
            && message.contains("port 9000")
            && message.contains("PERMISSIVE"),
        "{message}"
    );
    let evidence = f["evidence"][0]["detail"].as_str().unwrap();
    assert!(
        evidence.contains("raw_buffer") && evidence.contains("bank/vault-audit-0"),
        "{evidence}"
    );
    assert_eq!(f["evidence"][0]["source"]["kind"], "Pod");

    // Its RBAC filters were built from a retired policy, not from the one that applies.
    let missing = findings(&report, "DP-AUTHZ-001");
    assert_eq!(missing.len(), 2, "{missing:?}");
    let sidecar = missing
        .iter()
        .find(|f| f["resource"]["kind"] == "Pod")
        .unwrap();
    assert!(sidecar["message"]
        .as_str()
        .unwrap()
        .contains("AuthorizationPolicy bank/vault-audit"));
    // ztunnel holds orbit-allow but never got orbit-deny, which applies to the ambient pods.
    let ztunnel = missing
        .iter()
        .find(|f| f["resource"]["kind"] == "AuthorizationPolicy")
        .unwrap();
    assert_eq!(on(ztunnel), "orbit/orbit-deny");
    let message = ztunnel["message"].as_str().unwrap();
    assert!(
        message.contains("3 ambient workload(s)") && message.contains("istio-system/ztunnel-x7k2p"),
        "{message}"
    );
    let stale = findings(&report, "DP-AUTHZ-002");
    assert_eq!(stale.len(), 1, "{stale:?}");
    assert!(stale[0]["message"]
        .as_str()
        .unwrap()
        .contains("bank/retired-audit-access"));

    // vault-api's proxy agrees with the configuration: nothing to report on it.
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| !(f["check_id"].as_str().unwrap().starts_with("DP-")
            && on(f) == "bank/vault-api-0")));

    // vault-jwt applies to every bank workload: vault-api's proxy validates
    // tokens, vault-audit's has no jwt_authn filter; kms's read agrees too.
    let jwt: Vec<String> = findings(&report, "DP-JWT-001")
        .iter()
        .map(|f| on(f))
        .collect();
    assert!(jwt.contains(&"bank/vault-audit-0".to_string()), "{jwt:?}");
    assert!(!jwt.contains(&"bank/vault-api-0".to_string()), "{jwt:?}");

    // vault-audit's proxy sends plaintext to the ledger, whose rule says ISTIO_MUTUAL.
    let dr = findings(&report, "DP-DR-001");
    assert_eq!(dr.len(), 1, "{dr:?}");
    assert_eq!(on(dr[0]), "bank/ledger");
    assert!(dr[0]["message"]
        .as_str()
        .unwrap()
        .contains("ledger.bank.svc.cluster.local:5432"));
    assert!(dr[0]["evidence"][0]["detail"]
        .as_str()
        .unwrap()
        .contains("vault-audit-0"));
    // kms's rule turns mTLS off, and the proxies show it: IST-MTLS-003 is VERIFIED by them.
    let kms = findings(&report, "IST-MTLS-003")
        .into_iter()
        .find(|f| on(f) == "bank/kms")
        .expect("IST-MTLS-003 on kms");
    assert_eq!(kms["confidence"], "VERIFIED");
    assert!(
        kms["evidence"]
            .to_string()
            .contains("--deep: the proxies run this rule's TLS setting"),
        "{kms}"
    );

    // Ambient: amb-a is carried over HBONE, amb-b unknown to ztunnel, amb-c plaintext TCP.
    let mut bypass: Vec<String> = findings(&report, "DP-AMB-001")
        .iter()
        .map(|f| on(f))
        .collect();
    bypass.sort();
    assert_eq!(bypass, ["orbit/amb-b", "orbit/amb-c"]);
    let amb_c = findings(&report, "DP-AMB-001")
        .into_iter()
        .find(|f| on(f) == "orbit/amb-c")
        .unwrap();
    assert!(amb_c["message"]
        .as_str()
        .unwrap()
        .contains("over TCP instead of HBONE"));

    // Proxies that could not be read are evidence gaps, each with why.
    let gaps: Vec<&str> = report["evidence_gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["what"].as_str().unwrap())
        .collect();
    let gap = |pod: &str| {
        gaps.iter()
            .find(|g| g.contains(pod))
            .unwrap_or_else(|| panic!("no gap for {pod}: {gaps:?}"))
            .to_string()
    };
    assert!(gap("bank/slow-0").contains("no answer within 3 s"));
    assert!(
        gap("bank/closed-0").contains("connection refused"),
        "{gaps:?}"
    );
    assert!(gap("bank/junk-0").contains("not JSON"));
    assert!(gap("bank/locked-0").contains("forbidden"));
    assert!(!gaps.iter().any(|g| g.contains("pending-0")));

    // The data-plane checks are listed with their outcome.
    assert_eq!(check(&report, "DP-MTLS-001")["status"], "fail");
    assert_eq!(check(&report, "DP-MTLS-002")["status"], "pass");

    // The score rests on what the proxies showed.
    let transport = report["assessment"]["score"]["pillars"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "transport")
        .unwrap();
    let failing = transport["controls"][0]["failing"].to_string();
    assert!(
        failing.contains("vault-audit-0:9000") && failing.contains("--deep"),
        "{failing}"
    );

    // Only GETs of config dumps went through the forwards; pods not running were not asked.
    let forwarded = server.forwarded();
    assert!(!forwarded.is_empty());
    for line in &forwarded {
        assert!(line.contains(" GET /config_dump"), "{line}");
        assert!(!line.contains("pending-0"), "{line}");
    }
    assert!(forwarded
        .iter()
        .any(|l| l == "bank/vault-api-0 GET /config_dump?resource=dynamic_listeners"));
    assert!(forwarded
        .iter()
        .any(|l| l == "istio-system/ztunnel-x7k2p GET /config_dump"));
    // One port-forward per pod: its requests share the connection.
    let forwards = server.forwards();
    assert_eq!(forwards.get("bank/vault-api-0"), Some(&1), "{forwards:?}");
    // An admin that closes after each answer gets a fresh forward per request.
    assert_eq!(forwards.get("bank/kms-0"), Some(&3), "{forwards:?}");
    assert!(forwarded
        .iter()
        .any(|l| l.starts_with("bank/kms-0 GET /config_dump?resource=dynamic_active_clusters")));
    assert_eq!(
        forwarded
            .iter()
            .filter(|l| l.starts_with("bank/vault-api-0 "))
            .count(),
        3,
        "{forwarded:?}"
    );

    // What a user reads: the contradiction, with the proxy as its evidence.
    let text = run(kridik().args([
        "scan",
        "--kubeconfig",
        &kc,
        "--deep",
        "--deep-timeout",
        "3s",
        "-i",
        "IST-MTLS-001,DP-MTLS-001",
        "--fail-on",
        "never",
        "-v",
    ]));
    println!("{}", text.stdout);
    assert!(
        text.stdout.contains("DP-MTLS-001") && text.stdout.contains("Configuration says STRICT"),
        "exit {}: {}\nstderr: {}",
        text.code,
        text.stdout,
        text.stderr
    );
    // -i chose among the data-plane checks too.
    assert!(!text.stdout.contains("DP-AMB-001"), "{}", text.stdout);
}

#[test]
fn with_no_proxy_readable_the_data_plane_checks_are_skipped_not_passed() {
    // Every port-forward is refused (no pod listed answers): nothing was verified.
    let (_server, _dir, kc) = server(BTreeMap::new());
    let report = deep_scan(&kc).json();
    for id in [
        "DP-MTLS-001",
        "DP-DR-001",
        "DP-AMB-001",
        "DP-JWT-001",
        "DP-AUTHZ-001",
    ] {
        assert_eq!(check(&report, id)["status"], "skipped", "{id}");
    }
    assert!(report["evidence_gaps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g["what"].as_str().unwrap().contains("bank/vault-api-0")));
}

#[test]
fn without_deep_the_same_cluster_has_no_data_plane_findings() {
    let (server, _dir, kc) = server(proxies());
    let report = scan_json(&["--kubeconfig", &kc, "--fail-on", "never"]).json();
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| !f["check_id"].as_str().unwrap().starts_with("DP-")));
    assert!(report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| !c["id"].as_str().unwrap().starts_with("DP-")));
    assert!(server.forwarded().is_empty());
}

#[test]
fn deep_stays_live_only_and_its_role_is_separate() {
    let run = scan_json(&[
        "-f",
        &example("insecure-mesh").display().to_string(),
        "--deep",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("--deep reads the proxies of a live cluster"),
        "{}",
        run.stderr
    );

    let role = run_role(&["rbac", "--deep"]);
    let doc: Value = serde_norway::from_str(&role).unwrap();
    assert_eq!(doc["kind"], "ClusterRole");
    let rules = doc["rules"].as_array().unwrap();
    let forward = rules
        .iter()
        .find(|r| r["resources"][0] == "pods/portforward")
        .expect("a pods/portforward rule");
    let verbs: Vec<&str> = forward["verbs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(verbs, ["get", "create"]);
    assert!(role.contains("WARNING") && role.contains("EVERY localhost port"));
    // The scan role itself never grants it.
    assert!(!run_role(&["rbac"]).contains("portforward"));
}

fn run_role(args: &[&str]) -> String {
    let run = run(kridik().args(args));
    assert_eq!(run.code, 0, "{}", run.stderr);
    run.stdout
}

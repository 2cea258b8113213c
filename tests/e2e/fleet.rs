//! Several clusters in one scan: two loopback API servers and a context whose
//! server is down, as a fleet's kubeconfig has them.

use crate::apiserver::{ApiServer, Config};
use crate::support::*;
use base64::Engine as _;
use serde_json::Value;

/// A kubeconfig with a context per server, plus `down` (nothing listens there).
fn kubeconfig(dir: &std::path::Path, servers: &[(&str, &ApiServer)]) -> String {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut clusters = String::new();
    let mut contexts = String::new();
    let mut users = String::new();
    for (name, s) in servers {
        clusters.push_str(&format!(
            "- name: {name}\n  cluster:\n    server: {}\n    certificate-authority-data: {}\n",
            s.url(),
            b64(&s.ca_pem)
        ));
        contexts.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n"
        ));
        users.push_str(&format!(
            "- name: {name}\n  user:\n    token: {}\n",
            s.token
        ));
    }
    // A closed port on loopback: the connection is refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    clusters.push_str(&format!("- name: down\n  cluster:\n    server: https://127.0.0.1:{closed}\n    insecure-skip-tls-verify: true\n"));
    contexts.push_str("- name: down\n  context:\n    cluster: down\n    user: down\n");
    users.push_str("- name: down\n  user:\n    token: x\n");
    let text = format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: {}\nclusters:\n{clusters}contexts:\n{contexts}users:\n{users}",
        servers[0].0
    );
    let path = dir.join("kubeconfig");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

fn servers() -> (ApiServer, ApiServer) {
    let prod = ApiServer::start(
        &[
            example("insecure-mesh"),
            repo().join("tests/fixtures/cluster"),
        ],
        Config::default(),
    );
    let stage = ApiServer::start(&[repo().join("tests/fixtures/deep")], Config::default());
    (prod, stage)
}

fn cluster<'a>(report: &'a Value, context: &str) -> &'a Value {
    report["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["context"] == context)
        .unwrap_or_else(|| panic!("no cluster {context}"))
}

#[test]
fn several_contexts_make_one_report_with_a_cluster_per_finding_and_a_score_per_cluster() {
    let (prod, stage) = servers();
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(dir.path(), &[("prod", &prod), ("stage", &stage)]);
    let run = scan_json(&[
        "--kubeconfig",
        &kc,
        "--context",
        "prod,stage",
        "--fail-on",
        "never",
    ]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let fleet = run.json();

    // Each cluster is what a scan of it alone reports, plus its name.
    for (context, server) in [("prod", &prod), ("stage", &stage)] {
        let alone = scan_json(&[
            "--kubeconfig",
            &kubeconfig_of(dir.path(), context, server),
            "--fail-on",
            "never",
        ])
        .json();
        let mine: Vec<(String, String, String)> = fleet["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["resource"]["cluster"] == context)
            .map(|f| {
                (
                    f["check_id"].as_str().unwrap().into(),
                    f["resource"]["kind"].as_str().unwrap().into(),
                    f["resource"]["name"].as_str().unwrap().into(),
                )
            })
            .collect();
        let mut mine = mine;
        mine.sort();
        let mut theirs: Vec<(String, String, String)> = alone["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["check_id"].as_str().unwrap().into(),
                    f["resource"]["kind"].as_str().unwrap().into(),
                    f["resource"]["name"].as_str().unwrap().into(),
                )
            })
            .collect();
        theirs.sort();
        assert_eq!(mine, theirs, "{context}");
        assert!(!mine.is_empty());
        let c = cluster(&fleet, context);
        assert_eq!(
            c["assessment"]["score"]["score"], alone["assessment"]["score"]["score"],
            "{context}"
        );
        assert_eq!(c["summary"]["findings"], alone["summary"]["findings"]);
    }
    // Every finding names its cluster; the same object in two clusters is two findings.
    let findings = fleet["findings"].as_array().unwrap();
    assert!(findings
        .iter()
        .all(|f| f["resource"]["cluster"].is_string()));
    let mut prints: Vec<&str> = findings
        .iter()
        .map(|f| f["fingerprint"].as_str().unwrap())
        .collect();
    let n = prints.len();
    prints.sort();
    prints.dedup();
    assert_eq!(prints.len(), n, "fingerprints collide across clusters");
    assert_eq!(
        fleet["summary"]["findings"].as_u64().unwrap() as usize,
        findings.len()
    );
    assert!(fleet["assessment"].is_null());

    // The text shows each cluster's score and names the cluster on each line.
    let text = run_text(&[
        "--kubeconfig",
        &kc,
        "--context",
        "prod",
        "--context",
        "stage",
    ]);
    assert!(
        text.contains("== cluster prod ==") && text.contains("== cluster stage =="),
        "{text}"
    );
    assert!(text.contains("[stage] Pod bank/"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("prod: Zero Trust score")),
        "{text}"
    );
}

/// A kubeconfig for one server under the context name the fleet uses.
fn kubeconfig_of(dir: &std::path::Path, context: &str, server: &ApiServer) -> String {
    let sub = dir.join(format!("alone-{context}"));
    std::fs::create_dir_all(&sub).unwrap();
    server.kubeconfig(&sub, None).display().to_string()
}

fn run_text(args: &[&str]) -> String {
    let run = run(kridik().arg("scan").args(args).args(["--fail-on", "never"]));
    assert!(run.code == 0 || run.code == 2, "{}", run.stderr);
    run.stdout
}

#[test]
fn a_cluster_that_cannot_be_scanned_is_an_input_error_and_hides_nothing() {
    let (prod, stage) = servers();
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(dir.path(), &[("prod", &prod), ("stage", &stage)]);
    let run = scan_json(&[
        "--kubeconfig",
        &kc,
        "--all-contexts",
        "--fail-on",
        "never",
        "--request-timeout",
        "5s",
    ]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let fleet = run.json();
    let contexts: Vec<&str> = fleet["clusters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["context"].as_str().unwrap())
        .collect();
    assert_eq!(contexts, ["prod", "stage", "down"]);
    let down = cluster(&fleet, "down");
    assert!(
        down["error"].as_str().unwrap().contains("127.0.0.1"),
        "{down}"
    );
    assert!(down["assessment"].is_null());
    let errors = fleet["input_errors"].to_string();
    assert!(errors.contains("context down"), "{errors}");
    // The reachable clusters are all there.
    for c in ["prod", "stage"] {
        assert!(cluster(&fleet, c)["assessment"]["score"]["score"].is_number());
        assert!(fleet["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["resource"]["cluster"] == c));
    }
    let markdown = run_text(&[
        "--kubeconfig",
        &kc,
        "--all-contexts",
        "--format",
        "markdown",
        "--request-timeout",
        "5s",
    ]);
    assert!(
        markdown.contains("| cluster | Zero Trust score | findings |"),
        "{markdown}"
    );
    assert!(markdown.contains("| down | not scanned:"), "{markdown}");
}

#[test]
fn what_belongs_to_one_cluster_is_refused_for_several() {
    let (prod, stage) = servers();
    let dir = tempfile::tempdir().unwrap();
    let kc = kubeconfig(dir.path(), &[("prod", &prod), ("stage", &stage)]);
    for (extra, says) in [
        (
            vec!["--format", "policyreport"],
            "PolicyReports belong to one cluster",
        ),
        (
            vec!["--write-reports"],
            "PolicyReports belong to one cluster",
        ),
        (vec!["--baseline", "b.json"], "baselines are per cluster"),
    ] {
        let run = run(kridik()
            .args(["scan", "--kubeconfig", &kc, "--context", "prod,stage"])
            .args(&extra));
        assert_eq!(run.code, 2, "{extra:?}: {}", run.stderr);
        assert!(run.stderr.contains(says), "{extra:?}: {}", run.stderr);
    }
    let diff = run(kridik().args([
        "snapshot",
        "--kubeconfig",
        &kc,
        "--context",
        "prod,stage",
        "-o",
        "-",
    ]));
    assert_eq!(diff.code, 2, "{}", diff.stderr);
    assert!(
        diff.stderr.contains("give one --context"),
        "{}",
        diff.stderr
    );
}

//! The live path, against the loopback API server: the real kubectl proves
//! the harness is faithful, then kridik scans it like a cluster.

use crate::apiserver::{ApiServer, Config, Fault};
use crate::support::*;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

fn fixtures() -> Vec<PathBuf> {
    vec![
        example("insecure-mesh"),
        repo().join("tests/fixtures/cluster"),
    ]
}

fn server(config: Config) -> (ApiServer, tempfile::TempDir, String) {
    let server = ApiServer::start(&fixtures(), config);
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = server.kubeconfig(dir.path(), None).display().to_string();
    (server, dir, kubeconfig)
}

fn kubectl(kubeconfig: &str, args: &[&str]) -> String {
    let out = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .args(args)
        .output()
        .expect("kubectl is installed (.ci/run installs it)");
    assert!(
        out.status.success(),
        "kubectl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn the_real_kubectl_can_use_the_harness() {
    let (server, _dir, kc) = server(Config::default());
    let pods = kubectl(&kc, &["get", "pods", "-A"]);
    assert!(
        pods.contains("payments") && pods.contains("ledger-0"),
        "{pods}"
    );
    // Paging with a small chunk size still lists everything.
    let chunked = kubectl(
        &kc,
        &["get", "pods", "-A", "--chunk-size", "2", "-o", "name"],
    );
    assert_eq!(chunked.lines().count(), 9, "{chunked}");
    assert!(server.continued() >= 3);
    let policies = kubectl(
        &kc,
        &[
            "get",
            "authorizationpolicies.security.istio.io",
            "-n",
            "shop",
            "-o",
            "yaml",
        ],
    );
    assert!(
        policies.contains("name: allow-all") && policies.contains("kind: AuthorizationPolicy"),
        "{policies}"
    );
    let resources = kubectl(&kc, &["api-resources"]);
    assert!(
        resources.contains("peerauthentications") && resources.contains("security.istio.io/v1"),
        "{resources}"
    );
}

#[test]
fn a_live_scan_finds_what_the_files_show_and_verifies_it_with_running_pods() {
    let (_server, _dir, kc) = server(Config::default());
    let live = scan_json(&["--kubeconfig", &kc]);
    assert_eq!(live.code, 1, "{}", live.stderr);
    let report = live.json();
    assert_eq!(report["source"]["kind"], "live");
    assert_eq!(report["source"]["context"], "harness");
    let offline = scan_json(&["-f", &example("insecure-mesh").display().to_string()]).json();
    // Running pods show more than manifests: their injected proxies' release.
    let (live_only, shared): (Vec<_>, Vec<_>) = flagged(&report)
        .into_iter()
        .partition(|f| !flagged(&offline).contains(f));
    assert_eq!(shared, flagged(&offline));
    assert!(
        !live_only.is_empty() && live_only.iter().all(|(check, _, _)| check == "IST-HYG-002"),
        "{live_only:?}"
    );
    // Running pods with istio-proxy make the mTLS exposure VERIFIED.
    let shop = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"]["name"] == "default" && f["check_id"] == "IST-MTLS-001")
        .unwrap();
    assert_eq!(shop["confidence"], "VERIFIED", "{shop}");
    assert!(
        shop["resource"]["file"].is_null(),
        "live objects have no file"
    );
    assert_eq!(
        report["summary"]["workloads"], 8,
        "pods fold into their Deployments and StatefulSet"
    );
}

/// In a pod there is no kubeconfig: the service account's token and CA sit at
/// the standard paths and KUBERNETES_SERVICE_HOST/PORT name the API server
/// (kube's `Config::incluster`, what the CronJob in deploy/ relies on). The
/// paths are fixed, so the scan runs in a private mount namespace (unshare)
/// with a tmpfs on /run, which /var/run points to, holding them.
#[test]
fn in_a_pod_the_service_account_reaches_the_api_server() {
    let (server, dir, kc) = server(Config::default());
    let sa = dir.path().join("serviceaccount");
    let home = dir.path().join("home");
    std::fs::create_dir(&sa).unwrap();
    std::fs::create_dir(&home).unwrap();
    std::fs::write(sa.join("token"), &server.token).unwrap();
    std::fs::write(sa.join("ca.crt"), &server.ca_pem).unwrap();
    std::fs::write(sa.join("namespace"), "kridik").unwrap();
    assert!(
        std::fs::read_link("/var/run").is_ok_and(|t| t.ends_with("run")),
        "this test expects /var/run -> /run (Debian)"
    );
    // A mount namespace needs CAP_SYS_ADMIN (root, unless a container took
    // it away); otherwise a user namespace grants it inside.
    let direct = Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success());
    let mut cmd = Command::new("unshare");
    cmd.args(if direct {
        &["-m"][..]
    } else {
        &["-r", "-m"][..]
    });
    cmd.args([
        "sh",
        "-c",
        "set -e; mount -t tmpfs tmpfs /run; d=/var/run/secrets/kubernetes.io/serviceaccount; \
         mkdir -p $d; cp \"$1\"/token \"$1\"/ca.crt \"$1\"/namespace $d/; exec \"$0\" scan --format json",
        env!("CARGO_BIN_EXE_kridik"),
    ])
    .arg(&sa);
    for (key, value) in kridik().get_envs() {
        match value {
            Some(v) => cmd.env(key, v),
            None => cmd.env_remove(key),
        };
    }
    cmd.env("HOME", &home)
        .env("KUBERNETES_SERVICE_HOST", "127.0.0.1")
        .env("KUBERNETES_SERVICE_PORT", server.addr.port().to_string());
    let in_pod = run(&mut cmd);
    assert_eq!(in_pod.code, 1, "{}", in_pod.stderr);
    let report = in_pod.json();
    assert_eq!(report["source"]["kind"], "live");
    assert_eq!(report["source"]["context"], "in-cluster");
    // The harness answers only the service account's bearer token: the same
    // findings as through a kubeconfig prove every list was authorised.
    let outside = scan_json(&["--kubeconfig", &kc]).json();
    assert_eq!(flagged(&report), flagged(&outside));
    assert_eq!(report["unavailable_kinds"], outside["unavailable_kinds"]);
}

/// Issue 16: `--write-reports` applies the PolicyReports of a live scan in
/// the scanned cluster by server-side apply (field manager kridik), the real
/// kubectl lists them, and the next run replaces them: reports it no longer
/// writes are deleted, other tools' reports are left alone. Writing is its
/// own grant: without it the scan says which role to bind.
#[test]
fn written_reports_are_applied_server_side_and_replace_the_last_run() {
    let (api, dir, kc) = server(Config::default());
    let first = scan_json(&["--kubeconfig", &kc, "--write-reports"]);
    assert_eq!(first.code, 1, "{}", first.stderr);
    let report = first.json();
    let findings = report["findings"].as_array().unwrap().len();
    let listed = |kind: &str| -> Vec<serde_json::Value> {
        let out = kubectl(&kc, &["get", kind, "-A", "-o", "json"]);
        let list: serde_json::Value = serde_json::from_str(&out).unwrap();
        list["items"].as_array().unwrap().clone()
    };
    let reports = listed("policyreports.wgpolicyk8s.io");
    let cluster = listed("clusterpolicyreports.wgpolicyk8s.io");
    let results = |items: &[serde_json::Value]| -> usize {
        items
            .iter()
            .map(|r| r["results"].as_array().map_or(0, |a| a.len()))
            .sum()
    };
    assert!(reports.len() >= 2, "{reports:?}");
    assert_eq!(results(&reports) + results(&cluster), findings);
    assert!(
        first.stderr.contains(&format!(
            "wrote {} report object(s) to context `harness` by server-side apply; deleted 0 stale",
            reports.len() + cluster.len()
        )),
        "{}",
        first.stderr
    );
    for w in api.writes() {
        assert!(
            w.starts_with("PATCH ")
                && w.contains("fieldManager=kridik")
                && w.contains("force=true")
                && w.ends_with(" application/apply-patch+yaml"),
            "{w}"
        );
    }
    // Another tool's report, applied with the real kubectl, is not kridik's.
    let foreign = dir.path().join("kyverno.yaml");
    std::fs::write(
        &foreign,
        "apiVersion: wgpolicyk8s.io/v1alpha2\nkind: PolicyReport\nmetadata:\n  name: kyverno-polr\n  namespace: shop\n  labels:\n    app.kubernetes.io/managed-by: kyverno\nresults: []\n",
    )
    .unwrap();
    kubectl(
        &kc,
        &[
            "apply",
            "--server-side",
            "--validate=false",
            "-f",
            &foreign.display().to_string(),
        ],
    );
    // The next run finds less (one check): what it no longer writes goes.
    let second = scan_json(&["--kubeconfig", &kc, "--write-reports", "-i", "IST-HYG-002"]);
    assert!(second.code <= 1, "{}", second.stderr);
    let now = listed("policyreports.wgpolicyk8s.io");
    let (others, ours): (Vec<_>, Vec<_>) = now
        .iter()
        .partition(|r| r["metadata"]["name"] == "kyverno-polr");
    assert_eq!(others.len(), 1, "another tool's report was deleted");
    assert!(ours.len() < reports.len(), "{ours:?}");
    assert!(ours
        .iter()
        .flat_map(|r| r["results"].as_array().unwrap())
        .all(|r| r["policy"] == "IST-HYG-002"));
    assert!(api.writes().iter().any(|w| w.starts_with("DELETE ")));
    assert!(second.stderr.contains("deleted "), "{}", second.stderr);
    // A scan limited to one namespace replaces that namespace's report only.
    let full = scan_json(&["--kubeconfig", &kc, "--write-reports"]);
    assert_eq!(full.code, 1, "{}", full.stderr);
    let before = listed("policyreports.wgpolicyk8s.io").len();
    let scoped = scan_json(&[
        "--kubeconfig",
        &kc,
        "--write-reports",
        "-n",
        "shop",
        "-i",
        "IST-HYG-002",
    ]);
    assert!(scoped.code <= 1, "{}", scoped.stderr);
    let after = listed("policyreports.wgpolicyk8s.io");
    assert!(after.len() >= before - 1, "{before} -> {}", after.len());
    assert!(
        after.iter().any(|r| r["metadata"]["namespace"] != "shop"
            && r["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "kridik"),
        "reports outside -n shop were deleted"
    );

    // Without the grant: one line naming the role to bind; the scan's own
    // output is still written first.
    let (_denied, _d, kc) = server(Config {
        forbidden: ["policyreports".to_string()].into(),
        ..Config::default()
    });
    let refused = scan_json(&["--kubeconfig", &kc, "--write-reports"]);
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("forbidden")
            && refused.stderr.contains("kridik rbac --write-reports"),
        "{}",
        refused.stderr
    );
    let role = run(kridik().args(["rbac", "--write-reports"]));
    assert!(
        role.stdout
            .contains("resources: [policyreports, clusterpolicyreports]"),
        "{}",
        role.stdout
    );
    assert!(role
        .stdout
        .contains("verbs: [get, list, create, patch, delete]"));
}

#[test]
fn forbidden_and_missing_kinds_are_unknown_not_fatal() {
    let config = Config {
        forbidden: BTreeSet::from(["authorizationpolicies".to_string()]),
        absent_groups: BTreeSet::from(["networking.istio.io".to_string()]),
        ..Config::default()
    };
    let (_server, _dir, kc) = server(config);
    let run = scan_json(&["--kubeconfig", &kc]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    let unavailable: Vec<(String, String)> = report["unavailable_kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["kind"].as_str().unwrap().to_string(),
                u["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        unavailable.contains(&(
            "security.istio.io/AuthorizationPolicy".into(),
            "forbidden".into()
        )),
        "{unavailable:?}"
    );
    assert!(
        unavailable.contains(&("networking.istio.io/Sidecar".into(), "not-installed".into())),
        "{unavailable:?}"
    );
    // ...and the evidence gaps say how to close each one.
    let gaps: Vec<(String, String)> = report["evidence_gaps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| {
            (
                g["what"].as_str().unwrap().to_string(),
                g["command"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert!(
        gaps.iter().any(|(what, command)| what
            .starts_with("security.istio.io/AuthorizationPolicy could not be read")
            && command.starts_with(
                "kubectl auth can-i list authorizationpolicy.security.istio.io --all-namespaces"
            )),
        "{gaps:?}"
    );
    assert!(
        gaps.iter().any(|(what, command)| what
            .starts_with("networking.istio.io/Sidecar could not be read")
            && command.starts_with("kubectl api-resources --api-group=networking.istio.io")),
        "{gaps:?}"
    );
    assert!(
        !gaps
            .iter()
            .any(|(what, _)| what.contains("no running pods")),
        "a live scan observes pods: {gaps:?}"
    );
    // The authorization checks say UNKNOWN instead of passing or failing...
    for id in ["IST-AUTHZ-001", "ZT-AUTHZ-001"] {
        let findings: Vec<_> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["check_id"] == id)
            .collect();
        assert_eq!(findings.len(), 1, "{id}");
        assert_eq!(findings[0]["confidence"], "UNKNOWN");
        assert!(findings[0]["message"]
            .as_str()
            .unwrap()
            .contains("forbidden by RBAC"));
    }
    // ...and the mTLS checks are unaffected.
    assert!(flagged(&report)
        .iter()
        .any(|(id, _, name)| id == "IST-MTLS-001" && name == "shop/default"));
}

#[test]
fn paging_snapshot_and_offline_rescan_agree() {
    let (server, dir, kc) = server(Config::default());
    let paged = scan_json(&["--kubeconfig", &kc, "--page-size", "2"]);
    assert!(
        server.continued() > 0,
        "small pages must use continue tokens"
    );
    let file = dir.path().join("snapshot.json");
    let saved = run(kridik()
        .args(["snapshot", "--kubeconfig", &kc, "-o"])
        .arg(&file));
    assert_eq!(saved.code, 0, "{}", saved.stderr);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        !text.contains("\"kind\": \"Secret\""),
        "secrets are never saved"
    );
    let offline = scan_json(&["-f", &file.display().to_string()]);
    assert_eq!(flagged(&paged.json()), flagged(&offline.json()));
}

#[test]
fn unreachable_or_unauthorized_servers_are_one_clear_line() {
    let (server, dir, _kc) = server(Config::default());
    let bad_token = server
        .kubeconfig(dir.path(), Some("wrong"))
        .display()
        .to_string();
    let denied = scan_json(&["--kubeconfig", &bad_token]);
    assert_eq!(denied.code, 2);
    assert!(denied.stdout.is_empty());
    assert_eq!(denied.stderr.trim().lines().count(), 1, "{}", denied.stderr);
    assert!(
        denied
            .stderr
            .contains("cannot reach the Kubernetes API server")
            && denied.stderr.contains("401"),
        "{}",
        denied.stderr
    );

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let text = std::fs::read_to_string(&bad_token)
        .unwrap()
        .replace(&server.url(), &format!("https://127.0.0.1:{port}"));
    std::fs::write(&bad_token, text).unwrap();
    let down = scan_json(&["--kubeconfig", &bad_token]);
    assert_eq!(down.code, 2);
    assert_eq!(down.stderr.trim().lines().count(), 1, "{}", down.stderr);
    assert!(
        down.stderr
            .contains("cannot reach the Kubernetes API server"),
        "{}",
        down.stderr
    );

    let none = run(kridik().args(["scan", "--kubeconfig", "/nonexistent/kubeconfig"]));
    assert_eq!(none.code, 2);
    assert!(
        none.stderr
            .contains("cannot read kubeconfig /nonexistent/kubeconfig"),
        "{}",
        none.stderr
    );
}

/// The check records and findings of a live scan under `config`, and how long it took.
fn faulty_scan(config: Config, extra: &[&str]) -> (serde_json::Value, std::time::Duration) {
    let (_server, _dir, kc) = server(config);
    let start = std::time::Instant::now();
    let mut args = vec!["--kubeconfig", kc.as_str()];
    args.extend_from_slice(extra);
    let run = scan_json(&args);
    let took = start.elapsed();
    assert!(
        run.code <= 1,
        "a faulty kind is never fatal: {}",
        run.stderr
    );
    (run.json(), took)
}

fn unavailable_reason(report: &serde_json::Value, kind: &str) -> Option<String> {
    report["unavailable_kinds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["kind"] == kind)
        .map(|u| u["reason"].as_str().unwrap().to_string())
}

fn check_status(report: &serde_json::Value, id: &str) -> String {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .map(|c| c["status"].as_str().unwrap().to_string())
        .unwrap()
}

/// Issue 13, defect 2: a list that did not complete is `failed`, its checks
/// say UNKNOWN, and nothing built on it is VERIFIED.
#[test]
fn an_unreadable_page_is_never_an_empty_kind() {
    for fault in [
        Fault::Truncated,
        Fault::Html,
        Fault::ServerError,
        Fault::Gone,
        Fault::RepeatedContinue,
        Fault::EndlessContinue,
    ] {
        let config = Config {
            faults: [
                ("authorizationpolicies".to_string(), fault),
                ("peerauthentications".to_string(), fault),
            ]
            .into(),
            ..Config::default()
        };
        let (report, _) = faulty_scan(config, &[]);
        let ap = "security.istio.io/AuthorizationPolicy";
        assert_eq!(
            unavailable_reason(&report, ap).as_deref(),
            Some("failed"),
            "{fault:?}"
        );
        // IST-AUTHZ-001 cannot pass on policies it never saw.
        let unknown = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check_id"] == "IST-AUTHZ-001" && f["confidence"] == "UNKNOWN");
        assert!(
            unknown,
            "{fault:?}: {:?}",
            check_status(&report, "IST-AUTHZ-001")
        );
        // Without PeerAuthentications no mTLS statement is VERIFIED.
        let verified_mtls = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["check_id"] == "IST-MTLS-001" && f["confidence"] == "VERIFIED");
        assert!(!verified_mtls, "{fault:?}");
    }
}

/// Defect 3: a 500 on one group's discovery marks that group's kinds failed; the rest is scanned.
#[test]
fn one_failing_api_group_does_not_end_the_scan() {
    let config = Config {
        failing_groups: ["security.istio.io".to_string()].into(),
        ..Config::default()
    };
    let (report, _) = faulty_scan(config, &[]);
    assert_eq!(
        unavailable_reason(&report, "security.istio.io/PeerAuthentication").as_deref(),
        Some("failed")
    );
    // Workloads (core and apps groups) were still read.
    assert!(
        report["summary"]["workloads"].as_u64().unwrap() >= 8,
        "{}",
        report["summary"]
    );
}

/// Defect 4: a list that never answers stops at --request-timeout.
#[test]
fn a_hanging_list_is_cut_off_by_the_request_timeout() {
    let config = Config {
        faults: [("authorizationpolicies".to_string(), Fault::Hang)].into(),
        ..Config::default()
    };
    let (report, took) = faulty_scan(config, &["--request-timeout", "2s"]);
    assert_eq!(
        unavailable_reason(&report, "security.istio.io/AuthorizationPolicy").as_deref(),
        Some("failed")
    );
    assert!(took < std::time::Duration::from_secs(30), "{took:?}");
}

/// What the roles `kridik rbac` prints grant: `group/plural` for the
/// ClusterRole, `namespace:group/plural` for a Role.
fn granted(roles: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for doc in serde_norway::Deserializer::from_str(roles) {
        let doc = <serde_json::Value as serde::Deserialize>::deserialize(doc).unwrap();
        let scope = match doc["kind"].as_str() {
            Some("ClusterRole") => String::new(),
            Some("Role") => format!("{}:", doc["metadata"]["namespace"].as_str().unwrap()),
            other => panic!("unexpected {other:?} in {roles}"),
        };
        for rule in doc["rules"].as_array().unwrap() {
            assert_eq!(
                rule["verbs"],
                serde_json::json!(["get", "list"]),
                "read-only"
            );
            for g in rule["apiGroups"].as_array().unwrap() {
                for r in rule["resources"].as_array().unwrap() {
                    out.insert(format!(
                        "{scope}{}/{}",
                        g.as_str().unwrap(),
                        r.as_str().unwrap()
                    ));
                }
            }
        }
    }
    out
}

/// Issue 15: a live scan under exactly the role `kridik rbac` prints (the
/// harness enforcing it) reads everything it needs; the role never grants
/// Secrets; and the harness does enforce it (a role without one kind leaves
/// that kind forbidden).
#[test]
fn a_live_scan_under_the_rbac_role_reads_everything_it_needs() {
    let role = run(kridik().arg("rbac"));
    assert_eq!(role.code, 0, "{}", role.stderr);
    let allowed = granted(&role.stdout);
    assert!(
        !allowed.iter().any(|r| r.ends_with("/secrets")),
        "{allowed:?}"
    );
    // ConfigMaps only where Istio keeps its own (mesh config, injector), not cluster-wide.
    assert!(!allowed.contains("/configmaps"), "{allowed:?}");
    assert!(allowed.contains("istio-system:/configmaps"), "{allowed:?}");
    let (_server, _dir, kc) = server(Config {
        allowed: Some(allowed.clone()),
        ..Config::default()
    });
    let report = scan_json(&["--kubeconfig", &kc]).json();
    let forbidden: Vec<&serde_json::Value> = report["unavailable_kinds"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| u["reason"] == "forbidden")
        .collect();
    assert!(forbidden.is_empty(), "{forbidden:?}");
    assert!(report["summary"]["objects"].as_u64().unwrap() > 10);
    // The mesh config (ConfigMap istio-system/istio) was still read: the
    // trust domain is VERIFIED from it, not assumed.
    let identity = report["assessment"]["score"]["pillars"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "identity")
        .unwrap();
    let domain = identity["controls"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "trust-domain")
        .unwrap();
    assert_eq!(domain["passed_verified"], 1, "{domain}");

    let mut less = allowed;
    assert!(less.remove("security.istio.io/peerauthentications"));
    let (_server, _dir, kc) = server(Config {
        allowed: Some(less),
        ..Config::default()
    });
    let report = scan_json(&["--kubeconfig", &kc]).json();
    assert!(
        report["unavailable_kinds"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["kind"] == "security.istio.io/PeerAuthentication"
                && u["reason"] == "forbidden"),
        "{}",
        report["unavailable_kinds"]
    );
}

/// Issue 15: a tenant whose role lists its own namespaces only (plus
/// istio-system, where mesh-wide policy lives) scans them with `-n`: each kind
/// it may not list cluster-wide is listed per namespace instead.
#[test]
fn a_namespace_scoped_role_scans_its_namespaces_with_n() {
    const CLUSTER_SCOPED: &[&str] = &[
        "/namespaces",
        "rbac.authorization.k8s.io/clusterroles",
        "rbac.authorization.k8s.io/clusterrolebindings",
        "admissionregistration.k8s.io/mutatingwebhookconfigurations",
    ];
    let role = run(kridik().arg("rbac"));
    let mut tenant = BTreeSet::new();
    for g in granted(&role.stdout) {
        let gp = g.rsplit(':').next().unwrap().to_string();
        if CLUSTER_SCOPED.contains(&gp.as_str()) {
            tenant.insert(gp);
        } else {
            tenant.insert(format!("shop:{gp}"));
            tenant.insert(format!("istio-system:{gp}"));
        }
    }
    let (server, _dir, kc) = server(Config {
        allowed: Some(tenant),
        ..Config::default()
    });
    let _ = &server;
    let report = scan_json(&["--kubeconfig", &kc, "-n", "shop"]).json();
    let unavailable = report["unavailable_kinds"].as_array().unwrap();
    assert!(
        unavailable.iter().all(|u| u["reason"] != "forbidden"),
        "{unavailable:?}"
    );
    let shop: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["resource"]["namespace"] == "shop")
        .collect();
    assert!(!shop.is_empty());
    // Without -n the same role leaves the namespaced kinds forbidden, said so.
    let report = scan_json(&["--kubeconfig", &kc]).json();
    assert!(report["unavailable_kinds"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["kind"] == "Pod" && u["reason"] == "forbidden"));
}

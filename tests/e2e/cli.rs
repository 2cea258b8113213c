//! `kridik scan` on files: findings on the examples, output contract, exit
//! codes, and input errors that never hide the rest.

use crate::support::*;
use serde_json::Value;

fn s(path: std::path::PathBuf) -> String {
    path.display().to_string()
}

#[test]
fn insecure_example_flags_exactly_the_planted_defects() {
    let run = scan_json(&["-f", &s(example("insecure-mesh"))]);
    assert_eq!(run.code, 1, "high findings exit 1; stderr: {}", run.stderr);
    let report = run.json();
    let expected = [
        ("IST-AUTHZ-001", "AuthorizationPolicy", "shop/allow-all"),
        (
            "IST-AUTHZ-003",
            "AuthorizationPolicy",
            "istio-system/edge-block-admin",
        ),
        ("IST-AUTHZ-004", "ConfigMap", "istio-system/istio"),
        ("IST-CNI-001", "Namespace", "/istio-system"),
        ("IST-CP-001", "Deployment", "istio-system/istiod"),
        ("IST-DP-001", "Deployment", "shop/metrics-agent"),
        ("IST-DP-002", "Deployment", "shop/metrics-agent"),
        ("IST-EGRESS-001", "ServiceEntry", "shop/card-processor"),
        ("IST-EGRESS-002", "DestinationRule", "shop/shipping-partner"),
        ("IST-EGRESS-003", "ConfigMap", "istio-system/istio"),
        ("IST-GW-001", "Gateway", "shop/public"),
        ("IST-GW-002", "Gateway", "shop/public"),
        ("IST-GW-003", "Gateway", "shop/public"),
        (
            "IST-GW-005",
            "AuthorizationPolicy",
            "istio-system/edge-block-admin",
        ),
        ("IST-GW-006", "RoleBinding", "shop/frontend-developers"),
        (
            "IST-GW-007",
            "Deployment",
            "istio-system/istio-ingressgateway",
        ),
        ("IST-HYG-001", "Deployment", "shop/metrics-agent"),
        (
            "IST-HYG-002",
            "Deployment",
            "istio-system/istio-ingressgateway",
        ),
        ("IST-HYG-002", "Deployment", "istio-system/istiod"),
        ("IST-MTLS-001", "Namespace", "/payments"),
        ("IST-MTLS-001", "PeerAuthentication", "payments/ledger-db"),
        ("IST-MTLS-001", "PeerAuthentication", "shop/default"),
        ("IST-MTLS-002", "Namespace", "/istio-system"),
        ("IST-MTLS-003", "DestinationRule", "shop/cart"),
        ("IST-PROTO-001", "Service", "legacy/report-batch"),
        ("ZT-AUTHN-001", "Deployment", "istio-system/istiod"),
        ("ZT-AUTHN-002", "RequestAuthentication", "shop/frontend-jwt"),
        ("ZT-AUTHZ-001", "Namespace", "/payments"),
        ("ZT-AUTHZ-001", "Namespace", "/shop"),
        ("ZT-AUTHZ-003", "RequestAuthentication", "shop/frontend-jwt"),
        ("ZT-AUTHZ-006", "AuthorizationPolicy", "shop/block-debug"),
        (
            "ZT-AUTHZ-007",
            "AuthorizationPolicy",
            "payments/payments-api",
        ),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect();
    assert_eq!(flagged(&report), expected);

    // Every finding names its file and line, and carries evidence and a fix.
    let allow_all = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check_id"] == "IST-AUTHZ-001")
        .unwrap();
    // High by the check; on the attack path to payments, so raised one level.
    assert_eq!(allow_all["severity"], "critical");
    assert_eq!(allow_all["raised"]["from"], "high");
    assert_eq!(
        allow_all["confidence"], "INFERRED",
        "offline manifests are intent, not proof"
    );
    assert!(allow_all["resource"]["file"]
        .as_str()
        .unwrap()
        .ends_with("insecure-mesh/shop.yaml"));
    assert_eq!(allow_all["resource"]["line"], 18);
    assert!(allow_all["remediation"]["yaml"]
        .as_str()
        .unwrap()
        .contains("name: allow-all\n  namespace: shop"));
    let port = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"]["name"] == "ledger-db")
        .unwrap();
    assert_eq!(
        port["severity"], "critical",
        "DISABLE on a port is high, one step more in a restricted namespace"
    );
    assert!(port["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["detail"]
            == "severity raised: namespace payments is labelled data-classification=restricted"));
    assert!(port["message"]
        .as_str()
        .unwrap()
        .contains("port 5432 of payments/StatefulSet/ledger to DISABLE"));
    assert_eq!(report["schema_version"], "1.1");
    assert_eq!(report["summary"]["findings"], 32);
    assert_eq!(report["summary"]["workloads"], 8);
}

#[test]
fn offline_scans_name_what_they_could_not_observe() {
    let report = scan_json(&["-f", &s(example("insecure-mesh"))]).json();
    let gaps = report["evidence_gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1, "{gaps:?}");
    assert!(gaps[0]["what"]
        .as_str()
        .unwrap()
        .starts_with("8 workload(s) have no running pods in the input"));
    assert!(gaps[0]["command"]
        .as_str()
        .unwrap()
        .starts_with("kubectl get pods -A -o yaml > pods.yaml"));
}

#[test]
fn hardened_example_is_clean() {
    let run = scan_json(&["-f", &s(example("hardened-mesh"))]);
    assert_eq!(run.code, 0, "{}", run.stdout);
    let report = run.json();
    assert_eq!(
        report["findings"].as_array().unwrap().len(),
        0,
        "{}",
        report["findings"]
    );
    assert!(report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["status"] == "pass"));
}

fn run_cmd_explain() -> String {
    run(kridik().args(["scan", "-f", &s(example("insecure-mesh")), "--explain"])).stdout
}

#[test]
fn text_output_groups_by_severity_and_ends_with_a_summary() {
    let run = run(kridik().args(["scan", "-f", &s(example("insecure-mesh"))]));
    assert_eq!(run.code, 1);
    assert!(
        run.stdout.starts_with("== CRITICAL (3) =="),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\n== HIGH (7) ==\n"), "{}", run.stdout);
    // Compact by default: one line per finding, then a table by check.
    assert!(
        run.stdout
            .contains("\nCRITICAL IST-AUTHZ-001 AuthorizationPolicy shop/allow-all ("),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("\n== findings by check ==\n"));
    assert!(
        !run.stdout.contains("resource: "),
        "details only with --explain"
    );
    assert!(
        run.stdout.lines().count() < 150,
        "{}",
        run.stdout.lines().count()
    );
    let explained = run_cmd_explain();
    assert!(explained.contains("resource: AuthorizationPolicy shop/allow-all ("));
    assert!(explained.contains("    fix: "), "{explained}");
    assert!(
        !run.stdout.contains('\x1b'),
        "no colour when stdout is not a terminal"
    );
    assert!(
        run.stdout
            .trim_end()
            .ends_with("over 33 objects, 8 workloads"),
        "{}",
        run.stdout
    );
}

#[test]
fn include_exclude_and_fail_on_steer_checks_and_exit_codes() {
    let insecure = s(example("insecure-mesh"));
    let only = scan_json(&["-f", &insecure, "-i", "IST-MTLS-002"]).json();
    assert_eq!(only["checks"].as_array().unwrap().len(), 1);
    let mediums = scan_json(&[
        "-f",
        &insecure,
        "-i",
        "IST-MTLS-002,IST-EGRESS-003,IST-GW-001,IST-PROTO-001",
    ]);
    assert_eq!(
        mediums.code, 0,
        "only medium and low left, below the default --fail-on high"
    );
    let strict = scan_json(&[
        "-f",
        &insecure,
        "-e",
        "IST-AUTHZ-001,IST-MTLS-001",
        "--fail-on",
        "low",
    ]);
    assert_eq!(strict.code, 1);
    let unknown = scan_json(&["-f", &insecure, "-i", "NOPE-001"]);
    assert_eq!(unknown.code, 2);
    assert!(unknown.stdout.is_empty());
    assert_eq!(unknown.stderr.lines().count(), 1, "{}", unknown.stderr);
    assert!(unknown.stderr.contains("--include names check NOPE-001"));
}

#[test]
fn a_broken_file_is_reported_with_its_line_and_the_rest_is_scanned() {
    let dir = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(example("insecure-mesh"))
        .unwrap()
        .flatten()
    {
        std::fs::copy(f.path(), dir.path().join(f.file_name())).unwrap();
    }
    std::fs::write(
        dir.path().join("broken.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: ok\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: [unclosed\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("values.yaml"), "replicaCount: 3\n").unwrap();
    let run = scan_json(&["-f", &s(dir.path().to_path_buf())]);
    assert_eq!(run.code, 2, "unreadable input exits 2 even with findings");
    let report = run.json();
    let errors: Vec<String> = report["input_errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}:{}",
                e["file"].as_str().unwrap().rsplit('/').next().unwrap(),
                e["line"]
            )
        })
        .collect();
    // libyaml notices the unclosed sequence at the end of the document and names where it began.
    assert_eq!(errors, vec!["broken.yaml:10", "values.yaml:1"]);
    assert!(
        run.stderr.contains("broken.yaml:10: invalid YAML"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("while parsing a flow sequence at line 9"),
        "{}",
        run.stderr
    );
    assert!(run
        .stderr
        .contains("values.yaml:1: document has no apiVersion/kind"));
    // Everything else was still scanned: the example's findings are all there.
    let example = scan_json(&["-f", &s(example("insecure-mesh"))]).json();
    let mine = flagged(&report);
    assert!(
        flagged(&example).iter().all(|f| mine.contains(f)),
        "{mine:?}"
    );
}

#[test]
fn stdin_and_json_lists_are_read() {
    let list = r#"{"apiVersion":"v1","kind":"List","items":[
 {"apiVersion":"security.istio.io/v1","kind":"AuthorizationPolicy","metadata":{"name":"open","namespace":"web"},"spec":{"rules":[{}]}}
]}"#;
    let mut cmd = kridik();
    cmd.args(["scan", "-f", "-", "--format", "json", "-i", "IST-AUTHZ-001"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped());
    let mut child = cmd.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(list.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let f = &report["findings"][0];
    assert_eq!(f["resource"]["name"], "open");
    assert_eq!(f["resource"]["file"], "<stdin>");
    assert_eq!(f["resource"]["line"], 2);
}

#[test]
fn missing_paths_and_empty_directories_are_input_errors() {
    let dir = tempfile::tempdir().unwrap();
    // A path that does not exist stops the scan before it starts (issue 15).
    let missing = scan_json(&[
        "-f",
        "/nonexistent/manifests",
        "-f",
        &s(dir.path().to_path_buf()),
    ]);
    assert_eq!(missing.code, 2);
    assert!(missing.stdout.is_empty(), "{}", missing.stdout);
    assert!(
        missing.stderr.contains("check the path given to -f"),
        "{}",
        missing.stderr
    );
    // Nothing to scan is one line and exit 2, never a report of a mesh that
    // is not there: an empty directory, a Helm chart, only Secrets.
    let chart = tempfile::tempdir().unwrap();
    std::fs::write(
        chart.path().join("Chart.yaml"),
        "apiVersion: v2\nname: x\nversion: 0.1.0\n",
    )
    .unwrap();
    std::fs::create_dir(chart.path().join("templates")).unwrap();
    std::fs::write(
        chart.path().join("templates/svc.yaml"),
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Values.name }}\n",
    )
    .unwrap();
    let secret = chart.path().join("secret.yaml");
    std::fs::write(
        &secret,
        "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n",
    )
    .unwrap();
    for (input, says) in [
        (
            s(dir.path().to_path_buf()),
            "holds no .yaml, .yml or .json file",
        ),
        (
            s(chart.path().to_path_buf()),
            "a Helm chart (Chart.yaml): kridik reads rendered manifests; run `helm template",
        ),
        (s(secret), "only kinds no check reads: 1 Secret"),
    ] {
        let run = scan_json(&["-f", &input]);
        assert_eq!(run.code, 2, "{input}");
        assert!(run.stdout.is_empty(), "{}", run.stdout);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(
            run.stderr.contains("no Kubernetes objects to scan"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains(says), "{}", run.stderr);
    }
}

/// Issue 13, defect 13: limits of zero would silently keep nothing.
#[test]
fn zero_limits_are_refused_before_the_scan() {
    let insecure = example("insecure-mesh").display().to_string();
    for (flag, value) in [
        ("--max-findings", "0"),
        ("--memory-limit", "0"),
        ("--memory-limit", "0MiB"),
    ] {
        let r = run(kridik().args(["scan", "-f", &insecure, flag, value]));
        assert_eq!(r.code, 2, "{flag} {value}: {}", r.stdout);
        assert!(r.stderr.contains(flag), "{flag}: {}", r.stderr);
    }
}

/// Issue 15: no input is never a clean scan, and `--fail-on` reads like the rest of the CLI.
#[test]
fn no_input_is_an_error_and_fail_on_takes_never_in_any_case() {
    let missing = run(kridik().args(["scan", "-f", "/no/such/dir"]));
    assert_eq!(missing.code, 2);
    assert_eq!(missing.stderr.lines().count(), 1, "{}", missing.stderr);
    assert!(missing.stderr.contains("does not exist"));
    let dir = tempfile::tempdir().unwrap();
    let empty = dir.path().join("empty.yaml");
    std::fs::write(&empty, "# nothing here\n").unwrap();
    let none = run(kridik().args(["scan", "-f"]).arg(&empty));
    assert_eq!(none.code, 2, "{}", none.stdout);
    assert!(
        none.stderr.contains("no Kubernetes objects"),
        "{}",
        none.stderr
    );
    let insecure = example("insecure-mesh").display().to_string();
    assert_eq!(
        run(kridik().args(["scan", "-f", &insecure, "--fail-on", "never"])).code,
        0
    );
    assert_eq!(
        run(kridik().args(["scan", "-f", &insecure, "--fail-on", "CRITICAL"])).code,
        1
    );
}

/// Issue 15: a mistyped check id in -i or -e is an error that names the closest id.
#[test]
fn mistyped_check_ids_get_a_suggestion() {
    let insecure = example("insecure-mesh").display().to_string();
    for flag in ["-i", "-e"] {
        let r = run(kridik().args(["scan", "-f", &insecure, flag, "ist-mtls-01"]));
        assert_eq!(r.code, 2, "{flag}");
        assert!(
            r.stderr.contains("did you mean IST-MTLS-001?"),
            "{flag}: {}",
            r.stderr
        );
    }
}

/// Issue 15: input without any Istio says so plainly; mesh-wide findings are
/// about Istio's defaults, labelled INFERRED.
#[test]
fn input_without_istio_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain.yaml");
    std::fs::write(
        &plain,
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx}]\n",
    )
    .unwrap();
    let text = run(kridik().args(["scan", "-f"]).arg(&plain));
    assert!(
        text.stdout
            .contains("no Istio installation or configuration in the input"),
        "{}",
        text.stdout
    );
    let report = scan_json(&["-f", &plain.display().to_string()]).json();
    assert!(report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["confidence"] == "INFERRED"));
    // With Istio in the input, no such note.
    let insecure = run(kridik().args(["scan", "-f"]).arg(example("insecure-mesh")));
    assert!(!insecure.stdout.contains("no Istio installation"));
}

/// Issue 15: an Istio object Istio itself refuses (`mode: STRIKT`, an enum the
/// CRD does not allow) is an input error at its line and is scanned as
/// absent, never as the policy it meant to be.
#[test]
fn an_object_istio_rejects_is_an_input_error_and_not_in_force() {
    let dir = tempfile::tempdir().unwrap();
    for f in std::fs::read_dir(example("hardened-mesh"))
        .unwrap()
        .flatten()
    {
        let text = std::fs::read_to_string(f.path()).unwrap();
        std::fs::write(
            dir.path().join(f.file_name()),
            text.replace("    mode: STRICT\n", "    mode: STRIKT\n"),
        )
        .unwrap();
    }
    let run = scan_json(&["-f", &s(dir.path().to_path_buf())]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    let report = run.json();
    let errors = report["input_errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert!(errors[0]["file"]
        .as_str()
        .unwrap()
        .ends_with("istio-system.yaml"));
    assert_eq!(errors[0]["line"], 85, "the PeerAuthentication's first line");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(
        message.contains("PeerAuthentication istio-system/default: spec.mtls.mode `STRIKT` is not one of UNSET, DISABLE, PERMISSIVE, STRICT"),
        "{message}"
    );
    // The mesh has no STRICT default any more: the hardened example is not clean.
    let flagged = flagged(&report);
    assert!(
        flagged.iter().any(|(check, _, _)| check == "IST-MTLS-002"),
        "{flagged:?}"
    );
    // The unmodified example has neither.
    let clean = scan_json(&["-f", &s(example("hardened-mesh"))]);
    assert_eq!(clean.code, 0, "{}", clean.stderr);
}

/// Issue 15: many findings of one check are counted, not listed line by line.
#[test]
fn repeated_findings_of_one_check_are_grouped_in_the_text() {
    let dir = tempfile::tempdir().unwrap();
    let mut docs = vec!["apiVersion: v1\nkind: Namespace\nmetadata:\n  name: many\n  labels: {istio-injection: enabled}\n".to_string()];
    for i in 0..40 {
        docs.push(format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: s{i}\n  namespace: many\nspec:\n  selector: {{app: s{i}}}\n  ports:\n  - port: 8080\n"));
    }
    let file = dir.path().join("many.yaml");
    std::fs::write(&file, docs.join("---\n")).unwrap();
    let out = run(kridik().args(["scan", "-f", &s(file.clone())])).stdout;
    let listed = out
        .lines()
        .filter(|l| l.starts_with("LOW      IST-PROTO-001 "))
        .count();
    assert_eq!(listed, 5, "{out}");
    assert!(
        out.contains("... 35 more IST-PROTO-001 finding(s)"),
        "{out}"
    );
    assert!(out.contains("IST-PROTO-001     40  "), "{out}");
    let all = run(kridik().args(["scan", "-f", &s(file), "-v"])).stdout;
    assert_eq!(
        all.matches("IST-PROTO-001 Service port without").count(),
        40
    );
}

/// Issue 15: a `--context` the kubeconfig does not have lists the ones it has.
#[test]
fn an_unknown_context_lists_the_kubeconfigs_contexts() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("config");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: dev\nclusters:\n- name: c\n  cluster: {server: 'https://127.0.0.1:1'}\nusers:\n- name: u\n  user: {token: t}\ncontexts:\n- name: dev\n  context: {cluster: c, user: u}\n- name: prod-eu\n  context: {cluster: c, user: u}\n",
    )
    .unwrap();
    let run = run(kridik().args(["scan", "--kubeconfig", &s(kubeconfig), "--context", "prod"]));
    assert_eq!(run.code, 2);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr
            .contains("context `prod` is not in the kubeconfig; its contexts: dev, prod-eu"),
        "{}",
        run.stderr
    );
}

/// Issue 15: shell completions and a man page from the command line's own definition.
#[test]
fn completions_and_man_page_come_from_the_cli_definition() {
    let bash = run(kridik().args(["completion", "bash"]));
    assert_eq!(bash.code, 0, "{}", bash.stderr);
    assert!(bash.stdout.contains("--memory-limit") && bash.stdout.contains("scan"));
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("kridik.bash");
    std::fs::write(&script, &bash.stdout).unwrap();
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(syntax.success(), "bash rejects the completion script");
    for shell in ["zsh", "FISH"] {
        assert_eq!(run(kridik().args(["completion", shell])).code, 0, "{shell}");
    }
    let man = run(kridik().arg("man"));
    assert!(
        man.stdout.contains(".SH NAME") && man.stdout.contains("completion"),
        "{}",
        man.stdout
    );
}

/// Issue 15: -n and --exclude-namespaces scope what is reported; the whole
/// mesh is still modelled (the payments findings are the same as unscoped).
#[test]
fn namespace_flags_scope_the_findings_not_the_model() {
    let insecure = s(example("insecure-mesh"));
    let all = scan_json(&["-f", &insecure]).json();
    let scoped = scan_json(&["-f", &insecure, "-n", "payments"]).json();
    let ns_of = |f: &Value| {
        let r = &f["resource"];
        if r["kind"] == "Namespace" {
            r["name"].clone()
        } else {
            r["namespace"].clone()
        }
    };
    let in_payments: Vec<Value> = all["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| ns_of(f) == "payments")
        .map(|f| f["fingerprint"].clone())
        .collect();
    let got: Vec<Value> = scoped["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["fingerprint"].clone())
        .collect();
    assert!(!in_payments.is_empty());
    assert_eq!(got, in_payments);
    // Check records are recounted: a check with findings only elsewhere passes.
    assert_eq!(check(&scoped, "IST-AUTHZ-001")["status"], "pass");
    assert_eq!(check(&scoped, "IST-AUTHZ-001")["findings"], 0);
    let excluded = scan_json(&["-f", &insecure, "--exclude-namespaces", "payments,shop"]).json();
    assert!(excluded["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| ns_of(f) != "payments" && ns_of(f) != "shop"));
    // -n and -A contradict each other.
    let both = run(kridik().args(["scan", "-f", &insecure, "-n", "shop", "-A"]));
    assert_eq!(both.code, 2);
}

/// Issue 16: `kridik version` names the build, the WIT it hosts and the pack.
#[test]
fn version_names_the_commit_the_wit_and_the_pack() {
    let v = run(kridik().arg("version"));
    assert_eq!(v.code, 0);
    assert!(
        v.stdout
            .starts_with(&format!("kridik {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout
            .contains("WIT: checks kridik:plugin@0.1.x, 0.2.x, hooks kridik:plugin@0.1.x"),
        "{}",
        v.stdout
    );
    let digest = v.stdout.split("built-in pack: sha256:").nth(1).unwrap();
    assert_eq!(digest.split(' ').next().unwrap().len(), 64, "{}", v.stdout);
}

/// Issue 16: installed as `kubectl-kridik`, the real kubectl runs it as a plugin.
#[test]
fn kubectl_runs_kridik_as_a_plugin() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("kubectl-kridik");
    std::fs::copy(env!("CARGO_BIN_EXE_kridik"), &bin).unwrap();
    let path = format!(
        "{}:{}",
        dir.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = std::process::Command::new("kubectl")
        .args([
            "kridik",
            "scan",
            "-f",
            &s(example("insecure-mesh")),
            "--format",
            "json",
        ])
        .env("PATH", &path)
        .output()
        .expect("kubectl is installed (make test installs it)");
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["summary"]["findings"], 32);
    let list = std::process::Command::new("kubectl")
        .args(["plugin", "list"])
        .env("PATH", &path)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&list.stdout).contains("kubectl-kridik"));
}

/// Issue 15: progress on stderr when it is a terminal, nothing when it is not.
#[test]
fn progress_shows_on_a_terminal_only() {
    let insecure = s(example("insecure-mesh"));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r.json");
    let quiet = run(kridik().args([
        "scan",
        "-f",
        &insecure,
        "--format",
        "json",
        "-o",
        &s(out.clone()),
    ]));
    assert_eq!(quiet.code, 1);
    assert!(quiet.stderr.is_empty(), "{}", quiet.stderr);
    // `script` gives the command a pseudo-terminal.
    let cmd = format!(
        "{} scan -f {insecure} --format json -o {}",
        env!("CARGO_BIN_EXE_kridik"),
        out.display()
    );
    let tty = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .output()
        .expect("script (util-linux)");
    let shown = String::from_utf8_lossy(&tty.stdout);
    assert!(
        ["reading the input", "modelling the mesh", "running checks"]
            .iter()
            .any(|s| shown.contains(s)),
        "{shown:?}"
    );
}

/// Overlapping inputs (a file given under two names, two dumps of the same
/// cluster) hold the same objects twice: they are one object each, so the
/// report is the one of a single copy. Two different objects under one name
/// are both scanned and named in a note.
#[test]
fn the_same_object_given_twice_is_one_and_differing_copies_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let shop = std::fs::read_to_string(example("insecure-mesh").join("shop.yaml")).unwrap();
    std::fs::write(dir.path().join("a.yaml"), &shop).unwrap();
    std::fs::write(dir.path().join("b.yaml"), &shop).unwrap();
    let once = scan_json(&["-f", &s(example("insecure-mesh").join("shop.yaml"))]).json();
    let twice = scan_json(&["-f", &dir.path().display().to_string()]).json();
    assert_eq!(flagged(&twice), flagged(&once));
    assert_eq!(twice["summary"]["workloads"], once["summary"]["workloads"]);
    assert_eq!(twice["model_problems"], once["model_problems"]);

    let conflict = dir.path().join("conflict.yaml");
    std::fs::write(
        &conflict,
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: default}\nspec:\n  rules:\n  - {}\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: default}\nspec: {}\n",
    )
    .unwrap();
    let report = scan_json(&["-f", &s(conflict), "-i", "IST-AUTHZ-001"]).json();
    // The allow-all copy is still scanned.
    assert_eq!(
        flagged(&report),
        vec![(
            "IST-AUTHZ-001".to_string(),
            "AuthorizationPolicy".to_string(),
            "default/p".to_string()
        )]
    );
    let notes = report["model_problems"].to_string();
    assert!(
        notes.contains("AuthorizationPolicy default/p is given twice with different content")
            && notes.contains("conflict.yaml:1")
            && notes.contains("conflict.yaml:8"),
        "{notes}"
    );
}

/// Windows PowerShell's `kubectl get -o yaml > dump.yaml` writes UTF-16LE
/// with a byte order mark: such a dump is read like its UTF-8 form.
#[test]
fn a_utf16_dump_from_powershell_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let utf8 = example("insecure-mesh").join("shop.yaml");
    let text = std::fs::read_to_string(&utf8)
        .unwrap()
        .replace('\n', "\r\n");
    let utf16: Vec<u8> = [0xff, 0xfe]
        .into_iter()
        .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let dump = dir.path().join("dump.yaml");
    std::fs::write(&dump, utf16).unwrap();
    let from_utf16 = scan_json(&["-f", &s(dump)]).json();
    let from_utf8 = scan_json(&["-f", &s(utf8)]).json();
    assert!(from_utf16["input_errors"].as_array().unwrap().is_empty());
    assert_eq!(flagged(&from_utf16), flagged(&from_utf8));
    assert!(!flagged(&from_utf8).is_empty());
}

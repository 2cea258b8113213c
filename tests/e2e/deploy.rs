//! `deploy/`: the in-cluster CronJob as a kustomize base and overlay. Rendered
//! by the real `kubectl kustomize`, its ClusterRole is exactly `kridik rbac`,
//! it passes kridik's own checks, and its pod passes a Pod Security
//! `restricted` review (the fields that profile requires).

use crate::support::*;
use serde_json::Value;

fn render(dir: &str) -> Vec<Value> {
    let out = std::process::Command::new("kubectl")
        .args(["kustomize", &repo().join(dir).display().to_string()])
        .output()
        .expect("kubectl is installed (make test installs it)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    serde_norway::Deserializer::from_str(&text)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect()
}

#[test]
fn the_committed_cluster_role_is_what_kridik_rbac_prints() {
    let rbac = run(kridik().arg("rbac"));
    assert_eq!(rbac.code, 0, "{}", rbac.stderr);
    let committed = std::fs::read_to_string(repo().join("deploy/base/roles.yaml")).unwrap();
    assert_eq!(
        committed, rbac.stdout,
        "deploy/base/roles.yaml is stale: kridik rbac > deploy/base/roles.yaml"
    );
}

#[test]
fn the_deployment_renders_passes_kridik_and_is_pod_security_restricted() {
    for dir in [
        "deploy/base",
        "deploy/overlays/daily",
        "deploy/overlays/policy-reports",
    ] {
        let docs = render(dir);
        let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        for k in [
            "Namespace",
            "ServiceAccount",
            "ClusterRole",
            "ClusterRoleBinding",
            "Role",
            "RoleBinding",
            "NetworkPolicy",
            "CronJob",
        ] {
            assert!(kinds.contains(&k), "{dir}: no {k} in {kinds:?}");
        }
        // ConfigMaps are read in istio-system only, through a Role bound there
        // (no `namespace:` override moved it into kridik's namespace).
        for k in ["Role", "RoleBinding"] {
            let d = docs.iter().find(|d| d["kind"] == k).unwrap();
            assert_eq!(d["metadata"]["namespace"], "istio-system", "{dir}: {k}");
        }
        for d in docs.iter().filter(|d| {
            ["ServiceAccount", "CronJob", "NetworkPolicy"].contains(&d["kind"].as_str().unwrap())
        }) {
            assert_eq!(d["metadata"]["namespace"], "kridik", "{dir}: {}", d["kind"]);
        }
        let role = docs
            .iter()
            .find(|d| d["kind"] == "ClusterRole" && d["metadata"]["name"] == "kridik-scan")
            .unwrap();
        for rule in role["rules"].as_array().unwrap() {
            assert_eq!(rule["verbs"], serde_json::json!(["get", "list"]), "{dir}");
            assert!(!rule["resources"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r == "secrets"));
        }
        // Pod Security `restricted`: non-root, no privilege escalation, all
        // capabilities dropped, RuntimeDefault seccomp, no host namespaces or paths.
        let cron = docs.iter().find(|d| d["kind"] == "CronJob").unwrap();
        let pod = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"];
        assert_eq!(pod["securityContext"]["runAsNonRoot"], true, "{dir}");
        assert_eq!(
            pod["securityContext"]["seccompProfile"]["type"],
            "RuntimeDefault"
        );
        for field in ["hostNetwork", "hostPID", "hostIPC"] {
            assert!(
                pod[field].is_null() || pod[field] == false,
                "{dir}: {field}"
            );
        }
        for v in pod["volumes"].as_array().unwrap() {
            assert!(v["hostPath"].is_null(), "{dir}: hostPath volume");
        }
        for c in pod["containers"].as_array().unwrap() {
            let sc = &c["securityContext"];
            assert_eq!(sc["allowPrivilegeEscalation"], false, "{dir}");
            assert_eq!(sc["readOnlyRootFilesystem"], true, "{dir}");
            assert_eq!(
                sc["capabilities"]["drop"],
                serde_json::json!(["ALL"]),
                "{dir}"
            );
            assert!(
                c["resources"]["limits"]["memory"].is_string(),
                "{dir}: no memory limit"
            );
        }
        let ns = docs.iter().find(|d| d["kind"] == "Namespace").unwrap();
        assert_eq!(
            ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"],
            "restricted"
        );

        // kridik's own checks find nothing on kridik's objects.
        let file = tempfile::NamedTempFile::new().unwrap();
        let text: Vec<String> = docs
            .iter()
            .map(|d| serde_norway::to_string(d).unwrap())
            .collect();
        std::fs::write(file.path(), text.join("---\n")).unwrap();
        let scan = scan_json(&["-f", &file.path().display().to_string()]);
        assert!(scan.code <= 1, "{dir}: {}", scan.stderr);
        let report = scan.json();
        assert!(
            report["input_errors"].as_array().unwrap().is_empty(),
            "{dir}"
        );
        let own: Vec<&Value> = report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| {
                f["resource"]["namespace"] == "kridik"
                    || f["resource"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .starts_with("kridik")
            })
            .collect();
        assert!(
            own.is_empty(),
            "{dir}: kridik flags its own deployment: {own:?}"
        );
    }
}

/// The PolicyReports overlay: the scan role stays read-only; writing is a
/// second ClusterRole, exactly what `kridik rbac --write-reports` prints,
/// bound to the same service account, and the CronJob writes its reports.
#[test]
fn the_policy_reports_overlay_grants_writing_separately() {
    let printed = run(kridik().args(["rbac", "--write-reports"]));
    assert_eq!(printed.code, 0, "{}", printed.stderr);
    let committed =
        std::fs::read_to_string(repo().join("deploy/overlays/policy-reports/write-role.yaml"))
            .unwrap();
    assert_eq!(
        committed, printed.stdout,
        "write-role.yaml is stale: kridik rbac --write-reports > deploy/overlays/policy-reports/write-role.yaml"
    );
    let docs = render("deploy/overlays/policy-reports");
    let writer = docs
        .iter()
        .find(|d| d["kind"] == "ClusterRole" && d["metadata"]["name"] == "kridik-write-reports")
        .expect("the write role");
    for rule in writer["rules"].as_array().unwrap() {
        assert_eq!(rule["apiGroups"], serde_json::json!(["wgpolicyk8s.io"]));
    }
    let binding = docs
        .iter()
        .find(|d| {
            d["kind"] == "ClusterRoleBinding" && d["roleRef"]["name"] == "kridik-write-reports"
        })
        .expect("the write role's binding");
    assert_eq!(binding["subjects"][0]["name"], "kridik");
    assert_eq!(binding["subjects"][0]["namespace"], "kridik");
    let cron = docs.iter().find(|d| d["kind"] == "CronJob").unwrap();
    let args = &cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]["args"];
    assert!(
        args.as_array()
            .unwrap()
            .iter()
            .any(|a| a == "--write-reports"),
        "{args}"
    );
}

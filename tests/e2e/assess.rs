//! The assessment: the Zero Trust score recomputed by hand, attack paths cut
//! by one policy, severities raised on a path, the remediation plan.

use crate::support::*;
use serde_json::Value;

fn fixture(name: &str) -> String {
    repo()
        .join("tests/fixtures/assess")
        .join(name)
        .display()
        .to_string()
}

fn pillar<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["assessment"]["score"]["pillars"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no pillar {name}"))
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[test]
fn assessment_score_recomputed_by_hand() {
    let report = scan_json(&["-f", &fixture("score")]).json();
    // The worked example of docs/scoring.md, figure by figure.
    for (name, score, confidence) in [
        ("identity", 60.0, 80.0),
        ("transport", 50.0, 50.0),
        ("authorization", 25.0, 50.0),
        ("egress", 100.0, 100.0),
        ("policy-hygiene", 100.0, 100.0),
    ] {
        let p = pillar(&report, name);
        assert_eq!(p["score"].as_f64(), Some(score), "{name}: {p}");
        assert_eq!(p["confidence"].as_f64(), Some(confidence), "{name}: {p}");
    }
    assert!(
        pillar(&report, "ingress")["score"].is_null(),
        "no Gateway: not counted"
    );
    let s = &report["assessment"]["score"];
    assert_eq!(s["score"].as_f64(), Some(67.0), "{s}");
    assert_eq!(s["confidence"].as_f64(), Some(76.0));
    assert_eq!(s["maturity"], "Initial");
    assert_eq!(s["workloads_in_scope"], 2);
    // The formula, applied to the counts the report publishes, gives the same figures.
    let mut scores = Vec::new();
    for p in s["pillars"].as_array().unwrap() {
        let (mut n, mut credit, mut evidence) = (0.0, 0.0, 0.0);
        for c in p["controls"].as_array().unwrap() {
            let f = |k: &str| c[k].as_f64().unwrap();
            n += f("evaluated");
            credit += f("passed_verified") + 0.5 * f("passed_inferred");
            evidence += f("verified") + 0.5 * f("inferred");
            assert_eq!(f("evaluated"), f("verified") + f("inferred") + f("unknown"));
        }
        if n > 0.0 {
            assert_eq!(p["score"].as_f64(), Some(round1(100.0 * credit / n)));
            assert_eq!(p["confidence"].as_f64(), Some(round1(100.0 * evidence / n)));
            scores.push(round1(100.0 * credit / n));
        }
    }
    let mean = round1(scores.iter().sum::<f64>() / scores.len() as f64);
    assert_eq!(s["score"].as_f64(), Some(mean));
}

/// The plan item of one finding, by check and resource.
fn plan_item<'a>(report: &'a Value, check: &str, resource: &str) -> &'a Value {
    report["assessment"]["plan"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["check_id"] == check && i["resource"] == resource)
        .unwrap_or_else(|| panic!("no plan item {check} {resource}"))
}

fn paths(report: &Value) -> &Value {
    &report["assessment"]["attack_paths"]
}

#[test]
fn one_authorization_policy_cuts_the_attack_path() {
    let open = scan_json(&["-f", &fixture("paths")]).json();
    let ap = paths(&open);
    assert_eq!(ap["reachable"], 1, "{ap}");
    let path = &ap["paths"][0];
    assert_eq!(path["target"], "vault/Deployment/secrets");
    assert_eq!(path["entry"], "any pod without a mesh identity");
    assert_eq!(
        path["kinds"],
        serde_json::json!(["shortest", "most-certain"])
    );
    let hops = path["hops"].as_array().unwrap();
    let route: Vec<&str> = hops.iter().map(|h| h["to"].as_str().unwrap()).collect();
    assert_eq!(route, ["web/Deployment/web", "vault/Deployment/secrets"]);
    assert_eq!(hops[0]["transport"], "plaintext (mTLS PERMISSIVE)");
    assert_eq!(hops[1]["identity"], "spiffe://cluster.local/ns/web/sa/web");
    assert_eq!(hops[1]["transport"], "mTLS");
    assert!(hops[1]["allowed_by"].as_str().unwrap().contains("no ALLOW"));
    // No pods in the input: enrollment is inferred from labels, and the path says so.
    assert_eq!(path["certainty"], "INFERRED");
    // The PERMISSIVE policy that opens the first hop is raised and says why.
    let raised: Vec<&Value> = open["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["raised"].is_object())
        .collect();
    let mtls = raised
        .iter()
        .find(|f| f["check_id"] == "IST-MTLS-001" && f["resource"]["name"] == "default")
        .expect("the PERMISSIVE PeerAuthentication is on the path");
    assert!(mtls["raised"]["reason"]
        .as_str()
        .unwrap()
        .contains("-> web/Deployment/web -> vault/Deployment/secrets"));
    assert_eq!(mtls["raised"]["from"], "medium");
    assert_eq!(mtls["severity"], "high");
    // Its plan item is immediate containment, on the path.
    let plan = open["assessment"]["plan"]["items"].as_array().unwrap();
    let item = plan
        .iter()
        .find(|i| i["fingerprint"] == mtls["fingerprint"])
        .unwrap();
    assert_eq!(item["on_attack_path"], true);
    assert_eq!(item["phase"], "immediate");
    assert!(item["validate"]["negative"]
        .as_str()
        .unwrap()
        .contains("http://web.web.svc.cluster.local:80/"));

    // The positive test runs from the caller the policy names, when one exists:
    // secrets has no policy, so the plan item of ZT-AUTHZ-001 says whom to ask.
    let zt = plan_item(&open, "ZT-AUTHZ-001", "Namespace vault");
    assert!(zt["validate"]["positive"]
        .as_str()
        .unwrap()
        .contains("http://secrets.vault.svc.cluster.local:8200/"));

    let cut = scan_json(&["-f", &fixture("paths"), "-f", &fixture("paths-cut")]).json();
    let ap = paths(&cut);
    assert_eq!(ap["reachable"], 0, "{ap}");
    assert_eq!(ap["targets"][0]["reachable"], false);
    assert_eq!(ap["paths"], serde_json::json!([]));
    assert!(cut["findings"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["raised"].is_null()));
    // Now a policy names the caller, and the positive test runs from it.
    let zt = plan_item(&cut, "ZT-AUTHZ-001", "Namespace vault");
    assert!(zt["validate"]["positive"]
        .as_str()
        .unwrap()
        .starts_with("kubectl exec -n admin deployment/operator -- curl"));
}

#[test]
fn sensitive_patterns_add_targets() {
    let report = scan_json(&[
        "-f",
        &fixture("paths"),
        "--sensitive",
        "admin/operator",
        "--sensitive",
        "app=web",
    ])
    .json();
    let targets = paths(&report)["targets"].as_array().unwrap().clone();
    let find = |w: &str| targets.iter().find(|t| t["workload"] == w).cloned();
    let op = find("admin/Deployment/operator").expect("--sensitive NS/NAME");
    assert_eq!(op["why"], "--sensitive admin/operator");
    // Only admin may call it and it is STRICT: nothing reaches it.
    assert_eq!(op["reachable"], false);
    assert_eq!(find("web/Deployment/web").unwrap()["reachable"], true);
    assert_eq!(targets.len(), 3);
}

#[test]
fn hardened_example_scores_higher_and_plans_nothing() {
    let insecure = scan_json(&["-f", &example("insecure-mesh").display().to_string()]).json();
    let hardened = scan_json(&["-f", &example("hardened-mesh").display().to_string()]).json();
    let score = |r: &Value| r["assessment"]["score"]["score"].as_f64().unwrap();
    assert!(
        score(&hardened) > score(&insecure) + 40.0,
        "{} vs {}",
        score(&hardened),
        score(&insecure)
    );
    assert_eq!(
        hardened["assessment"]["plan"]["items"],
        serde_json::json!([])
    );
    assert_eq!(paths(&hardened)["reachable"], 0);
    assert!(paths(&insecure)["reachable"].as_u64().unwrap() > 0);
    // Every open finding of the insecure mesh is in its plan, once.
    let items = insecure["assessment"]["plan"]["items"].as_array().unwrap();
    assert_eq!(
        items.len() as u64,
        insecure["summary"]["findings"].as_u64().unwrap()
    );
}

/// Issue 15: findings an attack path raises are sorted again, in every format
/// that lists them in report order.
#[test]
fn raised_findings_keep_the_report_in_severity_order() {
    let report = scan_json(&["-f", &example("insecure-mesh").display().to_string()]).json();
    let rank = |s: &str| {
        ["info", "low", "medium", "high", "critical"]
            .iter()
            .position(|x| *x == s)
            .unwrap()
    };
    let severities: Vec<usize> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| rank(f["severity"].as_str().unwrap()))
        .collect();
    assert!(
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| !f["raised"].is_null()),
        "the example has findings raised by attack paths"
    );
    assert!(
        severities.windows(2).all(|w| w[0] >= w[1]),
        "{severities:?}"
    );
}

/// Issue 15: the score is a property of the cluster. `-i`/`-e` leave out the
/// pillars that rest on excluded checks (named as partial) instead of scoring
/// them on fewer findings; `--no-builtin` is "not assessed", never 0/100.
#[test]
fn the_score_does_not_move_with_include_and_exclude() {
    let insecure = example("insecure-mesh").display().to_string();
    let full = scan_json(&["-f", &insecure]).json();
    let one = scan_json(&["-f", &insecure, "-i", "IST-MTLS-001"]).json();
    let score = |r: &Value| r["assessment"]["score"].clone();
    assert_eq!(score(&full)["assessed"], true);
    assert!(score(&full).get("partial").is_none(), "{}", score(&full));
    let partial: Vec<&str> = one["assessment"]["score"]["partial"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert!(
        partial.contains(&"policy-hygiene") && partial.contains(&"ingress"),
        "{partial:?}"
    );
    // The model's pillars are the same whichever checks ran.
    for name in ["identity", "transport", "authorization"] {
        assert_eq!(
            pillar(&full, name)["score"],
            pillar(&one, name)["score"],
            "{name}"
        );
    }
    assert!(pillar(&one, "policy-hygiene")["score"].is_null());
    let text = run(kridik().args([
        "scan",
        "-f",
        &insecure,
        "-i",
        "IST-MTLS-001",
        "--color",
        "never",
    ]));
    assert!(
        text.stdout
            .contains("not assessed (checks excluded with -i/-e)"),
        "{}",
        text.stdout
    );

    let hostile = component("kridik_test_hostile").display().to_string();
    let alone = scan_json(&[
        "-f",
        &insecure,
        "--no-builtin",
        "--plugin",
        &hostile,
        "-i",
        "HOSTILE-SNOOP",
    ]);
    assert_eq!(alone.json()["assessment"]["score"]["assessed"], false);
    let text = run(kridik().args([
        "scan",
        "-f",
        &insecure,
        "--no-builtin",
        "--plugin",
        &hostile,
        "-i",
        "HOSTILE-SNOOP",
        "--color",
        "never",
    ]));
    assert!(
        text.stdout.contains("Zero Trust score not assessed"),
        "{}",
        text.stdout
    );
}

//! SARIF validated against the SARIF 2.1.0 schema with a real validator, and
//! the HTML report rendered and clicked through in headless Chromium.

use crate::support::*;
use serde_json::Value;
use std::path::PathBuf;

/// The npm packages of tests/tools (`make test-tools` installs them).
fn tools() -> PathBuf {
    let dir = repo().join("tests/tools");
    assert!(
        dir.join("node_modules/playwright-core").is_dir(),
        "tests/tools/node_modules is missing: run `make test-tools`"
    );
    dir
}

/// Validates with Python's jsonschema against the schema the SARIF SDK ships
/// (@microsoft/sarif-multitool); returns the validator's error messages.
fn sarif_errors(doc: &Value) -> Vec<String> {
    let schema = tools().join("node_modules/@microsoft/sarif-multitool-linux/sarif-2.1.0.json");
    let script = "import json,sys,jsonschema\n\
schema=json.load(open(sys.argv[1]))\n\
cls=jsonschema.validators.validator_for(schema)\n\
doc=json.load(sys.stdin)\n\
print(json.dumps([e.json_path+': '+e.message for e in cls(schema).iter_errors(doc)]))";
    let errors = python_json(script, &[schema.as_os_str()], &doc.to_string());
    serde_json::from_value(errors).unwrap()
}

fn insecure() -> String {
    example("insecure-mesh").display().to_string()
}

#[test]
fn sarif_validates_and_keeps_suppressed_findings_with_locations() {
    let dir = suppressing("IST-AUTHZ-001", "replaced next sprint");
    let (sarif, json) = (dir.path().join("k.sarif"), dir.path().join("k.json"));
    let scan = run(kridik()
        .current_dir(dir.path())
        .args(["scan", "-f", &insecure()])
        .args([
            format!("--format=sarif={}", sarif.display()),
            format!("--format=json={}", json.display()),
        ]));
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    let doc: Value = serde_json::from_slice(&std::fs::read(&sarif).unwrap()).unwrap();
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(sarif_errors(&doc), Vec::<String>::new());
    // The validator bites: a wrong level and a missing message are refused.
    let mut broken = doc.clone();
    broken["runs"][0]["results"][0]["level"] = "severe".into();
    broken["runs"][0]["results"][1]
        .as_object_mut()
        .unwrap()
        .remove("message");
    assert_eq!(
        sarif_errors(&broken).len(),
        2,
        "{:?}",
        sarif_errors(&broken)
    );

    let run0 = &doc["runs"][0];
    let rules = run0["tool"]["driver"]["rules"].as_array().unwrap();
    // A rule per check, and one per other severity its results have
    // (GitHub reads security-severity on rules only).
    let checks = report["checks"].as_array().unwrap();
    assert!(rules.len() > checks.len());
    for c in checks {
        assert!(rules.iter().any(|r| r["id"] == c["id"]), "{}", c["id"]);
    }
    let rule = rules.iter().find(|r| r["id"] == "IST-AUTHZ-001").unwrap();
    assert_eq!(rule["defaultConfiguration"]["level"], "error");
    assert!(rule["help"]["text"].as_str().unwrap().len() > 40);
    assert_eq!(rule["properties"]["security-severity"], "8.0");
    // helpUri: each built-in check's section of docs/checks.md, by an anchor
    // that exists there.
    let catalog =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/checks.md")).unwrap();
    for r in rules {
        let uri = r["helpUri"]
            .as_str()
            .unwrap_or_else(|| panic!("no helpUri: {}", r["id"]));
        let anchor = uri.split_once("/docs/checks.md#").expect(uri).1;
        assert!(
            catalog.lines().any(|l| l
                .strip_prefix("## ")
                .is_some_and(|h| h.to_lowercase() == anchor)),
            "{uri}"
        );
    }

    let results = run0["results"].as_array().unwrap();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(results.len(), findings.len(), "suppressed findings stay");
    for (r, f) in results.iter().zip(findings) {
        assert_eq!(r["properties"]["checkId"], f["check_id"]);
        assert_eq!(r["partialFingerprints"]["kridik/v1"], f["fingerprint"]);
        assert!(r["partialFingerprints"]["primaryLocationLineHash"].is_string());
        let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
        assert_eq!(rule["id"], r["ruleId"]);
        assert_eq!(rule["properties"]["checkId"], f["check_id"]);
        let (level, score) = match f["severity"].as_str().unwrap() {
            "critical" => ("error", "9.5"),
            "high" => ("error", "8.0"),
            "medium" => ("warning", "5.5"),
            "low" => ("note", "3.0"),
            _ => ("note", "1.0"),
        };
        assert_eq!(r["level"], level);
        // The severity GitHub shows (the rule's) is the result's own.
        assert_eq!(
            rule["properties"]["security-severity"], score,
            "{}",
            r["ruleId"]
        );
        let loc = &r["locations"][0];
        // Every object of this input came from a file, namespaces included.
        let file = f["resource"]["file"]
            .as_str()
            .unwrap_or_else(|| panic!("no file: {f}"));
        let uri = loc["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .unwrap();
        assert!(
            uri == file || uri == format!("file://{file}"),
            "{uri} for {file}"
        );
        if !uri.starts_with("file://") {
            assert_eq!(
                loc["physicalLocation"]["artifactLocation"]["uriBaseId"],
                "%SRCROOT%"
            );
        }
        assert_eq!(
            loc["physicalLocation"]["region"]["startLine"],
            f["resource"]["line"]
        );
        assert_eq!(loc["logicalLocations"][0]["kind"], "resource");
    }
    let suppressed: Vec<&Value> = results
        .iter()
        .filter(|r| r["suppressions"].is_array())
        .collect();
    assert_eq!(suppressed.len(), 1);
    assert_eq!(suppressed[0]["properties"]["checkId"], "IST-AUTHZ-001");
    // The rule's help shows the fix (GitHub ignores `fixes`).
    let authz = rules
        .iter()
        .find(|r| r["id"] == "IST-AUTHZ-001/critical")
        .unwrap();
    assert!(
        authz["help"]["markdown"]
            .as_str()
            .unwrap()
            .contains("**Fix**"),
        "{authz}"
    );
    assert_eq!(suppressed[0]["suppressions"][0]["kind"], "external");
    assert_eq!(
        suppressed[0]["suppressions"][0]["justification"],
        "replaced next sprint"
    );
    let zt = &run0["properties"]["zeroTrust"];
    assert_eq!(zt["score"], report["assessment"]["score"]["score"]);
}

#[test]
fn sarif_from_stdin_has_synthetic_artifacts_and_baseline_states() {
    let dir = tempfile::tempdir().unwrap();
    let base = dir.path().join("base.json");
    let shop = std::fs::read_to_string(example("insecure-mesh").join("shop.yaml")).unwrap();
    let first = run_with_stdin(
        kridik()
            .args(["scan", "-f", "-", "--format", "json", "--write-baseline"])
            .arg(&base),
        &shop,
    );
    assert!(first.code <= 1, "{}", first.stderr);
    let all = shop.clone()
        + &std::fs::read_to_string(example("insecure-mesh").join("legacy.yaml")).unwrap();
    let second = run_with_stdin(
        kridik()
            .args(["scan", "-f", "-", "--format", "sarif", "--baseline"])
            .arg(&base),
        &all,
    );
    let doc: Value = serde_json::from_str(&second.stdout).unwrap();
    assert_eq!(sarif_errors(&doc), Vec::<String>::new());
    let results = doc["runs"][0]["results"].as_array().unwrap();
    for r in results {
        let loc = &r["locations"][0];
        // stdin has no file: GitHub still needs an artifact, a stable synthetic one.
        let artifact = &loc["physicalLocation"]["artifactLocation"];
        assert_eq!(artifact["uriBaseId"], "CLUSTER", "{loc}");
        assert!(
            artifact["uri"].as_str().unwrap().ends_with(".yaml"),
            "{loc}"
        );
        assert_eq!(loc["physicalLocation"]["region"]["startLine"], 1);
        assert!(loc["logicalLocations"][0]["fullyQualifiedName"]
            .as_str()
            .unwrap()
            .contains('/'));
    }
    let state = |s: &str| results.iter().filter(|r| r["baselineState"] == s).count();
    assert!(state("unchanged") > 0 && state("new") > 0, "{results:?}");
    assert_eq!(state("unchanged") + state("new"), results.len());
}

#[test]
fn html_report_renders_filters_and_draws_the_attack_paths_in_chromium() {
    let dir = suppressing("IST-HYG-001", "the agent is replaced in Q1");
    let (html, json) = (dir.path().join("k.html"), dir.path().join("k.json"));
    let scan = run(kridik()
        .current_dir(dir.path())
        .args(["scan", "-f", &insecure()])
        .args([
            format!("--format=html={}", html.display()),
            format!("--format=json={}", json.display()),
        ]));
    assert_eq!(scan.code, 1, "{}", scan.stderr);
    let report: Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let page = std::fs::read_to_string(&html).unwrap();
    // Self-contained: no scripts, styles or images fetched from anywhere.
    for tag in [" src=", "<link", "@import", "url(http"] {
        assert!(!page.contains(tag), "{tag} in the page");
    }

    // Screenshots land where CI keeps artifacts, else in the temp dir.
    let shots = std::env::var_os("KRIDIK_SCREENSHOTS")
        .map(PathBuf::from)
        .unwrap_or_else(|| dir.path().to_path_buf());
    std::fs::create_dir_all(&shots).unwrap();
    let shot = shots.join("html-report.png");
    let out = std::process::Command::new("node")
        .arg(tools().join("html-report.mjs"))
        .arg(&html)
        .arg(&shot)
        .output()
        .expect("node");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let seen: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(seen["console"], serde_json::json!([]), "console errors");
    assert_eq!(
        seen["external"],
        serde_json::json!([]),
        "requests beyond the file"
    );
    let findings = report["findings"].as_array().unwrap();
    let count = |p: &dyn Fn(&Value) -> bool| findings.iter().filter(|f| p(f)).count() as u64;
    assert_eq!(seen["all"], findings.len() as u64);
    let critical = count(&|f| f["severity"] == "critical");
    assert!(critical > 0);
    assert_eq!(seen["criticalOnly"], critical);
    assert_eq!(seen["shownCounter"], critical);
    assert_eq!(seen["byText"], count(&|f| f["check_id"] == "IST-AUTHZ-001"));
    assert_eq!(seen["openOnly"], count(&|f| f["suppressed"].is_null()));
    assert_eq!(
        seen["openOnly"].as_u64().unwrap() + 1,
        findings.len() as u64
    );
    let paths = report["assessment"]["attack_paths"]["paths"]
        .as_array()
        .unwrap();
    // One arrow per distinct hop (a hop several paths share is drawn once, counted).
    let hops: std::collections::BTreeSet<(String, String)> = paths
        .iter()
        .flat_map(|p| {
            let mut from = p["entry"].as_str().unwrap().to_string();
            p["hops"]
                .as_array()
                .unwrap()
                .iter()
                .map(|h| {
                    let to = h["to"].as_str().unwrap().to_string();
                    (std::mem::replace(&mut from, to.clone()), to)
                })
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(seen["pathArrows"], hops.len() as u64);
    assert_eq!(
        seen["edgeLabels"],
        serde_json::json!(vec![2; hops.len()]),
        "each arrow labelled with transport and policy"
    );
    assert_eq!(seen["labelsOverNodes"], 0, "an edge label covers a node");
    let targets: std::collections::BTreeSet<&str> = paths
        .iter()
        .map(|p| {
            p["hops"].as_array().unwrap().last().unwrap()["to"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(seen["pathTargets"], targets.len() as u64);
    assert_eq!(seen["pillars"], 6);
    assert!(
        seen["ids"].as_u64().unwrap() >= findings.len() as u64,
        "{seen}"
    );
    assert_eq!(seen["wrappedIds"], 0, "a check id wrapped mid-id at 700 px");
    let score = report["assessment"]["score"]["score"].as_f64().unwrap();
    assert!(seen["scoreCard"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{score}/100")));
    let png = std::fs::read(&shot).unwrap();
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 20_000,
        "screenshot of {} bytes",
        png.len()
    );
}

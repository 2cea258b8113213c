//! Report formats besides text and JSON, and writing several in one run.

use crate::support::*;

fn insecure() -> String {
    example("insecure-mesh").display().to_string()
}

/// Parses JUnit XML with Python's XML parser and returns the totals.
fn junit_totals(path: &std::path::Path) -> serde_json::Value {
    let script = "import json,sys,xml.etree.ElementTree as ET\n\
r=ET.parse(sys.argv[1]).getroot()\n\
cases=r.findall('testsuite/testcase')\n\
print(json.dumps({'root':r.tag,'suites':len(r.findall('testsuite')),'cases':len(cases),\
'failures':sum(1 for c in cases if c.find('failure') is not None),\
'skipped':sum(1 for c in cases if c.find('skipped') is not None),\
'attr_failures':int(r.get('failures')),'attr_tests':int(r.get('tests')),\
'schema':[f'{e.tag}@{a}' for e,ok in [(r,{'name','time','tests','failures','disabled','errors'})]\
+[(t,{'name','tests','failures','errors','time','disabled','skipped','timestamp','hostname','id','package','file','log','url','version'}) for t in r.findall('testsuite')]\
+[(c,{'name','assertions','time','classname','status'}) for c in cases] for a in e.attrib if a not in ok]\
+[f'{c.get(\"name\")} has no time' for c in cases if c.get('time') is None],\
'untitled':[f.get('message') for f in r.iter('failure') if not f.get('message','').startswith('[')]}))";
    let out = std::process::Command::new("python3")
        .args(["-c", script])
        .arg(path)
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn several_formats_in_one_run_agree() {
    let dir = tempfile::tempdir().unwrap();
    let (xml, json, md) = (
        dir.path().join("k.xml"),
        dir.path().join("k.json"),
        dir.path().join("k.md"),
    );
    let multi = run(kridik()
        .args(["scan", "-f", &insecure(), "--format", "text"])
        .args([
            format!("--format=junit={}", xml.display()),
            format!("--format=json={}", json.display()),
            format!("--format=markdown={}", md.display()),
        ]));
    assert_eq!(multi.code, 1, "{}", multi.stderr);
    assert!(
        multi.stdout.contains("== HIGH (7) =="),
        "text goes to stdout"
    );
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let findings = report["summary"]["findings"].as_u64().unwrap();
    let checks = report["checks"].as_array().unwrap().len() as u64;

    let totals = junit_totals(&xml);
    assert_eq!(totals["root"], "testsuites");
    assert_eq!(totals["suites"], checks, "one suite per check");
    assert_eq!(totals["failures"], findings, "one failure per finding");
    assert_eq!(totals["attr_failures"], findings);
    assert_eq!(totals["attr_tests"], totals["cases"]);
    // The attributes junit-10.xsd allows (no `skipped` on <testsuites>), time
    // on every case, and the severity in every failure's message.
    assert_eq!(totals["schema"], serde_json::json!([]));
    assert_eq!(totals["untitled"], serde_json::json!([]));

    let markdown = std::fs::read_to_string(&md).unwrap();
    assert!(
        markdown.starts_with(&format!(
            "## kridik: {findings} finding(s) (3 critical, 7 high"
        )),
        "{markdown}"
    );
    let rows = markdown
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Severity"))
        .count();
    assert_eq!(rows as u64, findings);
    assert!(markdown.contains("| CRITICAL | `IST-AUTHZ-001` | AuthorizationPolicy shop/allow-all"));
    let score = report["assessment"]["score"]["score"].as_f64().unwrap();
    assert!(
        markdown.contains(&format!("**Zero Trust score {score}/100 (Traditional)")),
        "{markdown}"
    );
    assert!(markdown.contains("- `any pod without a mesh identity -> payments/StatefulSet/ledger`"));
    assert!(markdown.contains("```yaml\napiVersion: security.istio.io/v1"));
}

#[test]
fn suppressed_findings_are_skipped_cases_and_outputs_are_checked_first() {
    let dir = suppressing("IST-AUTHZ-001", "replaced next sprint");
    let xml = dir.path().join("k.xml");
    let junit = run(kridik()
        .current_dir(dir.path())
        .args(["scan", "-f", &insecure(), "--format", "junit", "-o"])
        .arg(&xml));
    assert_eq!(junit.code, 1, "{}", junit.stderr);
    assert!(
        junit.stdout.is_empty(),
        "-o writes the file instead of stdout"
    );
    let totals = junit_totals(&xml);
    assert_eq!(totals["skipped"], 1);
    assert!(std::fs::read_to_string(&xml)
        .unwrap()
        .contains("<skipped message=\"suppressed: replaced next sprint\"/>"));

    for (args, message) in [
        (
            vec!["--format", "json", "--format", "markdown"],
            "only one --format can go to stdout",
        ),
        (
            vec!["--format", "json", "--format", "text", "-o", "x"],
            "-o FILE takes one --format",
        ),
        (
            vec!["--format", "xml"],
            "`xml` is not a format (text, json, sarif, junit, markdown, html, policyreport, openreports, prometheus)",
        ),
    ] {
        let refused = run(kridik().args(["scan", "-f", &insecure()]).args(&args));
        assert_eq!(refused.code, 2, "{args:?}");
        assert!(
            refused.stderr.contains(message),
            "{args:?}: {}",
            refused.stderr
        );
    }
}

/// Issue 13, defect 9: a hostile object name (terminal escapes, a forged
/// report line, HTML) reaches no format raw.
#[test]
fn hostile_names_are_escaped_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("hostile.yaml");
    std::fs::write(
        &manifest,
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: \"evil\\e]0;pwned\\a\\e[2J\\n== CRITICAL (0) ==<script>alert(1)</script>|`x`\"\n  namespace: shop\nspec:\n  rules: [{}]\n",
    )
    .unwrap();
    let out = |format: &str| dir.path().join(format!("report.{format}"));
    let run = run(kridik()
        .args(["scan", "-f"])
        .arg(&manifest)
        .args(["-i", "IST-AUTHZ-001", "--format", "text"])
        .arg("--format")
        .arg(format!("markdown={}", out("md").display()))
        .arg("--format")
        .arg(format!("junit={}", out("xml").display()))
        .arg("--format")
        .arg(format!("html={}", out("html").display())));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let outputs = [
        ("text", run.stdout.clone()),
        ("markdown", std::fs::read_to_string(out("md")).unwrap()),
        ("junit", std::fs::read_to_string(out("xml")).unwrap()),
        ("html", std::fs::read_to_string(out("html")).unwrap()),
    ];
    for (format, text) in &outputs {
        assert!(text.contains("evil"), "{format}: the finding is reported");
        assert!(
            !text.contains('\u{7}') && !text.contains("\u{1b}]0;") && !text.contains("\u{1b}[2J"),
            "{format} carries raw control characters"
        );
        assert!(
            !text.lines().any(|l| l.starts_with("== CRITICAL (0) ==")),
            "{format}: a forged line"
        );
    }
    // Markdown renders inline HTML except inside fenced code (the hardened YAML).
    let mut fenced = false;
    let prose: Vec<&str> = outputs[1]
        .1
        .lines()
        .filter(|l| {
            if l.starts_with("```") {
                fenced = !fenced;
            }
            !fenced
        })
        .collect();
    assert!(
        !prose.iter().any(|l| l.contains("<script>alert")),
        "markdown carries raw HTML"
    );
    for (format, text) in &outputs[2..] {
        assert!(!text.contains("<script>alert"), "{format} carries raw HTML");
    }
    // The JUnit document is still well-formed XML.
    let totals = junit_totals(&out("xml"));
    assert_eq!(totals["failures"], 1, "{totals}");
}

/// Issue 15: a pull-request comment stays under GitHub's 65,536 characters
/// however many findings there are, and says what it left out.
#[test]
fn markdown_fits_in_a_github_comment() {
    let dir = tempfile::tempdir().unwrap();
    let mut docs = vec!["apiVersion: v1\nkind: Namespace\nmetadata:\n  name: many\n  labels: {istio-injection: enabled}\n".to_string()];
    for i in 0..2000 {
        docs.push(format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: service-with-a-long-name-{i}\n  namespace: many\nspec:\n  selector: {{app: s{i}}}\n  ports:\n  - port: 8080\n"));
    }
    let file = dir.path().join("many.yaml");
    std::fs::write(&file, docs.join("---\n")).unwrap();
    let run = run(kridik().args([
        "scan",
        "-f",
        &file.display().to_string(),
        "--format",
        "markdown",
    ]));
    let chars = run.stdout.chars().count();
    assert!(chars <= 65_536, "{chars} characters");
    assert!(chars > 40_000, "the room is used: {chars}");
    assert!(
        run.stdout.contains("more finding(s) not listed"),
        "{}",
        &run.stdout[run.stdout.len() - 500..]
    );
    assert!(run.stdout.trim_end().ends_with("</details>") || run.stdout.contains("Cut to fit"));
}

/// Issue 16: Policy WG reports (a report per namespace, a cluster report for
/// cluster-scoped objects, one result per finding) and OpenReports.
#[test]
fn policy_reports_hold_one_result_per_finding_by_namespace() {
    let dir = suppressing("IST-AUTHZ-001", "replaced next sprint");
    let json = dir.path().join("k.json");
    let run = run(kridik()
        .current_dir(dir.path())
        .args(["scan", "-f", &insecure(), "--format", "policyreport"])
        .arg(format!("--format=json={}", json.display())));
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let docs: Vec<serde_json::Value> = serde_norway::Deserializer::from_str(&run.stdout)
        .map(|d| serde::Deserialize::deserialize(d).unwrap())
        .collect();
    let mut results = 0;
    for d in &docs {
        assert_eq!(d["apiVersion"], "wgpolicyk8s.io/v1alpha2");
        let cluster = d["kind"] == "ClusterPolicyReport";
        assert!(cluster || d["kind"] == "PolicyReport");
        assert_eq!(
            cluster,
            d["metadata"]["namespace"].is_null(),
            "{}",
            d["metadata"]
        );
        let rs = d["results"].as_array().unwrap();
        for r in rs {
            assert!(
                ["fail", "skip", "error", "pass", "warn"].contains(&r["result"].as_str().unwrap())
            );
            assert!(["critical", "high", "medium", "low", "info"]
                .contains(&r["severity"].as_str().unwrap_or("info")));
            if let (false, Some(res)) = (cluster, r["resources"][0].as_object()) {
                let ns = res.get("namespace").or(if res["kind"] == "Namespace" {
                    res.get("name")
                } else {
                    None
                });
                assert_eq!(ns, Some(&d["metadata"]["namespace"]), "{r}");
            }
        }
        let fails = rs.iter().filter(|r| r["result"] == "fail").count();
        assert_eq!(d["summary"]["fail"], fails);
        results += rs.len();
    }
    assert_eq!(results, report["findings"].as_array().unwrap().len());
    let skipped: Vec<&serde_json::Value> = docs
        .iter()
        .flat_map(|d| d["results"].as_array().unwrap())
        .filter(|r| r["result"] == "skip")
        .collect();
    assert_eq!(skipped.len(), 1);
    assert_eq!(skipped[0]["policy"], "IST-AUTHZ-001");
    assert_eq!(
        skipped[0]["properties"]["suppressed"],
        "replaced next sprint"
    );
    let open = run_in(&["--format", "openreports"]);
    assert!(
        open.contains("apiVersion: openreports.io/v1alpha1") && open.contains("kind: Report\n")
    );
}

fn run_in(args: &[&str]) -> String {
    run(kridik().args(["scan", "-f", &insecure()]).args(args)).stdout
}

/// Issue 16: Prometheus text exposition, read by the Prometheus project's own parser.
#[test]
fn prometheus_metrics_parse_and_match_the_report() {
    let text = run_in(&["--format", "prometheus"]);
    let script = concat!(
        "import json,sys\n",
        "from prometheus_client.parser import text_string_to_metric_families as parse\n",
        "out={}\n",
        "for fam in parse(sys.stdin.read()):\n",
        "    for s in fam.samples: out.setdefault(s.name,[]).append([s.labels,s.value])\n",
        "print(json.dumps(out))\n",
    );
    let m = python_json(script, &[], &text);
    let total: f64 = m["kridik_findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s[1].as_f64().unwrap())
        .sum();
    assert_eq!(total, 32.0, "the insecure example's findings");
    let critical: f64 = m["kridik_findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s[0]["severity"] == "critical")
        .map(|s| s[1].as_f64().unwrap())
        .sum();
    assert_eq!(critical, 3.0);
    assert_eq!(m["kridik_zero_trust_score"][0][1], 14.4);
    assert_eq!(m["kridik_objects"][0][1], 33.0);
}

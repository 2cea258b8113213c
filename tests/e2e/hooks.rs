//! Result hooks built from `sdk/rust/examples/hook-*`: they get the report,
//! and a directory or HTTP only when they ask for it and the user grants it.

use crate::plugins::{s, Home};
use crate::support::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;

const REPORT_FILE: &str = "kridik_example_hook_report_file";
const WEBHOOK: &str = "kridik_example_hook_webhook";

/// An HTTP server on 127.0.0.1 that answers 200 and hands over each request
/// line and body.
fn http_sink() -> (String, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            let mut length = 0;
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                if line.trim().is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(':') {
                    if k.eq_ignore_ascii_case("content-length") {
                        length = v.trim().parse().unwrap();
                    }
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let mut stream = stream;
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = tx.send((
                request_line.trim().to_string(),
                String::from_utf8_lossy(&body).into_owned(),
            ));
        }
    });
    (origin, rx)
}

fn scan(home: &Home) -> serde_json::Value {
    let run = home.scan_insecure(&[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    run.json()
}

fn hook<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["hooks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["name"] == name)
        .unwrap_or_else(|| panic!("no hook {name}: {}", report["hooks"]))
}

#[test]
fn a_granted_directory_receives_the_report_and_an_ungranted_one_does_not() {
    let home = Home::new();
    let out = tempfile::tempdir().unwrap();
    let reports = out.path().join("reports");
    let wasm = s(&component(REPORT_FILE));

    // Granting what a hook does not ask for is refused.
    let unasked = home.kridik(&[
        "plugin",
        "add",
        &wasm,
        "--allow-http",
        "https://hooks.example.com",
    ]);
    assert_eq!(unasked.code, 2);
    assert!(
        unasked
            .stderr
            .contains("does not ask for http (it asks for: write-dir); drop --allow-http"),
        "{}",
        unasked.stderr
    );
    // Checks get no capabilities at all.
    let check = home.kridik(&[
        "plugin",
        "add",
        &s(&component("kridik_example_gateway_tls")),
        "--set",
        "a=b",
    ]);
    assert_eq!(check.code, 2);
    assert!(
        check.stderr.contains("are for result hooks"),
        "{}",
        check.stderr
    );

    let add = home.kridik(&[
        "plugin",
        "add",
        &wasm,
        "--name",
        "to-file",
        "--allow-dir",
        &s(&reports),
        "--set",
        "content=typed",
        "--set",
        "file=typed.json",
    ]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    // The same component again, writing the JSON document (its default).
    let full = home.kridik(&[
        "plugin",
        "add",
        &wasm,
        "--name",
        "full-json",
        "--allow-dir",
        &s(&reports),
    ]);
    assert_eq!(full.code, 0, "{}", full.stderr);
    assert!(
        add.stdout
            .contains("result hook; asks for write-dir; granted dir"),
        "{}",
        add.stdout
    );
    // A suppression, so the hook's copy must carry the mark too.
    let suppressions = suppressing("IST-AUTHZ-001", "replaced next sprint");
    let config = suppressions.path().join(".kridik.yaml");
    let run = home.scan_insecure(&["--config", &s(&config)]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(
        hook(&report, "to-file")["status"],
        "pass",
        "{}",
        report["hooks"]
    );

    // The JSON document is the JSON output (written before the hooks ran, so
    // without their records), assessment included.
    let document: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("kridik-report.json")).unwrap())
            .unwrap();
    assert!(report["assessment"]["score"]["score"].is_number());
    let mut expected = report.clone();
    expected["hooks"] = serde_json::json!([]);
    assert_eq!(document, expected);
    // The typed report holds the same content.
    let written: serde_json::Value =
        serde_json::from_slice(&std::fs::read(reports.join("typed.json")).unwrap()).unwrap();
    assert_eq!(
        written["summary"]["findings"],
        report["summary"]["findings"]
    );
    assert_eq!(
        written["summary"]["critical"],
        report["summary"]["by_severity"]["critical"]
    );
    // The hook sees each finding with its fingerprint, as the JSON output has it.
    let written_ids: Vec<(String, String)> = written["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let id = f["finding"]["check_id"].as_str().unwrap().to_string();
            (id, f["fingerprint"].as_str().unwrap().to_string())
        })
        .collect();
    let report_ids: Vec<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let id = f["check_id"].as_str().unwrap().to_string();
            (id, f["fingerprint"].as_str().unwrap().to_string())
        })
        .collect();
    assert_eq!(written_ids, report_ids);
    let allow_all = written["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["finding"]["check_id"] == "IST-AUTHZ-001")
        .unwrap();
    assert_eq!(allow_all["suppressed"], "replaced next sprint");
    assert_eq!(
        written["checks"].as_array().unwrap().len(),
        report["checks"].as_array().unwrap().len()
    );

    // The same hook without the grant: no /out, an error, and a note saying why.
    let bare = Home::new();
    assert_eq!(bare.kridik(&["plugin", "add", &wasm]).code, 0);
    let report = scan(&bare);
    let record = hook(&report, REPORT_FILE);
    assert_eq!(record["status"], "error");
    assert!(
        record["error"]
            .as_str()
            .unwrap()
            .contains("cannot write /out/kridik-report.json"),
        "{record}"
    );
    assert_eq!(
        record["notes"][0],
        "asks for write-dir, not granted (kridik plugin add --allow-dir DIR)"
    );
}

#[test]
fn the_webhook_posts_to_a_granted_origin_and_is_denied_elsewhere() {
    let (granted, posts) = http_sink();
    let (other, elsewhere) = http_sink();
    let wasm = s(&component(WEBHOOK));

    let home = Home::new();
    let url = format!("url={granted}/kridik");
    let add = home.kridik(&[
        "plugin",
        "add",
        &wasm,
        "--name",
        "notify",
        "--allow-http",
        &granted,
        "--set",
        &url,
    ]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    let report = scan(&home);
    assert_eq!(
        hook(&report, "notify")["status"],
        "pass",
        "{}",
        report["hooks"]
    );
    let (line, body) = posts
        .recv_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    assert_eq!(line, "POST /kridik HTTP/1.1");
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["findings"], report["summary"]["findings"]);
    assert_eq!(body["high"], report["summary"]["by_severity"]["high"]);

    // Granted one origin, told to post to another: kridik refuses the request.
    let sneaky = Home::new();
    let url = format!("url={other}/exfiltrate");
    assert_eq!(
        sneaky
            .kridik(&[
                "plugin",
                "add",
                &wasm,
                "--allow-http",
                &granted,
                "--set",
                &url
            ])
            .code,
        0
    );
    let report = scan(&sneaky);
    let record = hook(&report, WEBHOOK);
    assert_eq!(record["status"], "error");
    assert_eq!(record["denied"][0], format!("POST {other}/exfiltrate"));
    assert!(
        elsewhere
            .recv_timeout(std::time::Duration::from_millis(500))
            .is_err(),
        "nothing reached the ungranted server"
    );
    // And without any grant, the same.
    let none = Home::new();
    let url = format!("url={granted}/kridik");
    assert_eq!(
        none.kridik(&["plugin", "add", &wasm, "--set", &url]).code,
        0
    );
    let record = hook(&scan(&none), WEBHOOK).clone();
    assert_eq!(record["status"], "error");
    assert_eq!(record["denied"][0], format!("POST {granted}/kridik"));
    assert!(posts
        .recv_timeout(std::time::Duration::from_millis(500))
        .is_err());
}

#[test]
fn a_hostile_hook_is_its_own_error_and_the_scan_stands() {
    let home = Home::new();
    let wasm = s(&component("kridik_test_hostile_hook"));
    for mode in ["trap", "loop", "bomb", "files"] {
        let set = format!("mode={mode}");
        let add = home.kridik(&["plugin", "add", &wasm, "--name", mode, "--set", &set]);
        assert_eq!(add.code, 0, "{}", add.stderr);
    }
    let run = home.scan_insecure(&["--timeout", "1s", "--memory-limit", "64MiB"]);
    assert_eq!(
        run.code, 1,
        "hooks do not change the exit code: {}",
        run.stderr
    );
    let report = run.json();
    let error = |name: &str| hook(&report, name)["error"].as_str().unwrap().to_string();
    assert!(
        error("trap").contains("hostile hook panics on purpose"),
        "{}",
        error("trap")
    );
    assert!(
        error("loop").contains("timed out after 1s"),
        "{}",
        error("loop")
    );
    assert!(
        error("bomb").contains("exceeded the memory limit of 64 MiB"),
        "{}",
        error("bomb")
    );
    assert!(error("files").contains("no files"), "{}", error("files"));
    assert_eq!(check(&report, "IST-AUTHZ-001")["status"], "fail");
    assert_eq!(
        run.stderr
            .lines()
            .filter(|l| l.contains("kridik: warning: hook"))
            .count(),
        4,
        "{}",
        run.stderr
    );
}

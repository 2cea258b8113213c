//! Each built-in check on a vulnerable and a hardened fixture.

use crate::support::*;

fn fixture(name: &str) -> String {
    repo()
        .join("tests/fixtures/checks")
        .join(name)
        .display()
        .to_string()
}

fn triples(v: &[(&str, &str, &str)]) -> Vec<(String, String, String)> {
    v.iter()
        .map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string()))
        .collect()
}

#[test]
fn safer_authorization_patterns() {
    let checks = "IST-AUTHZ-002,IST-AUTHZ-003";
    let vulnerable = scan_json(&["-f", &fixture("safer-authz/vulnerable.yaml"), "-i", checks]);
    assert_eq!(
        vulnerable.code, 0,
        "medium findings stay below --fail-on high"
    );
    let report = vulnerable.json();
    assert_eq!(
        flagged(&report),
        triples(&[
            (
                "IST-AUTHZ-002",
                "AuthorizationPolicy",
                "web/allow-except-admin"
            ),
            (
                "IST-AUTHZ-002",
                "AuthorizationPolicy",
                "web/allow-not-untrusted"
            ),
            ("IST-AUTHZ-003", "AuthorizationPolicy", "web/deny-admin"),
            ("IST-AUTHZ-003", "AuthorizationPolicy", "web/deny-delete"),
        ])
    );
    let deny_admin = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"]["name"] == "deny-admin")
        .unwrap();
    assert!(deny_admin["message"]
        .as_str()
        .unwrap()
        .contains("rules[0].to.operation.paths"));
    let fix = deny_admin["remediation"]["yaml"].as_str().unwrap();
    assert!(
        fix.contains("name: deny-admin\n  namespace: web") && fix.contains("notPaths"),
        "{fix}"
    );
    let allow = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["resource"]["name"] == "allow-except-admin")
        .unwrap();
    assert!(allow["remediation"]["yaml"]
        .as_str()
        .unwrap()
        .contains("matchLabels:\n      app: \"portal\""));

    let hardened = scan_json(&[
        "-f",
        &fixture("safer-authz/hardened.yaml"),
        "-i",
        checks,
        "--fail-on",
        "info",
    ]);
    assert_eq!(hardened.code, 0);
    assert!(flagged(&hardened.json()).is_empty());
}

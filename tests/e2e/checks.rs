//! Each built-in check on a vulnerable and a hardened fixture.

use crate::support::*;
use serde_json::Value;

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
            (
                "IST-AUTHZ-003",
                "AuthorizationPolicy",
                "istio-system/deny-admin-host"
            ),
            ("IST-AUTHZ-003", "AuthorizationPolicy", "web/deny-admin"),
            ("IST-AUTHZ-003", "AuthorizationPolicy", "web/deny-delete"),
            (
                "IST-AUTHZ-003",
                "AuthorizationPolicy",
                "web/deny-internal-host"
            ),
        ])
    );
    let message = |name: &str| finding(&report, "IST-AUTHZ-003", name)["message"].to_string();
    assert!(message("deny-admin-host").contains("admin.example.com:443"));
    assert!(message("deny-internal-host").contains("not gateways"));
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

/// Scans a pack's vulnerable fixture with the checks named in `expected`
/// (exactly those findings) and its hardened fixture (nothing flagged);
/// returns the vulnerable report for the test's own assertions.
fn pack(name: &str, expected: &[(&str, &str, &str)]) -> Value {
    let checks: std::collections::BTreeSet<&str> = expected.iter().map(|e| e.0).collect();
    let only = checks.iter().copied().collect::<Vec<_>>().join(",");
    let vulnerable = scan_json(&[
        "-f",
        &fixture(&format!("{name}/vulnerable.yaml")),
        "-i",
        &only,
    ]);
    let report = vulnerable.json();
    assert_eq!(
        report["summary"]["checks_errored"], 0,
        "{}",
        vulnerable.stdout
    );
    assert_eq!(flagged(&report), triples(expected));
    for f in report["findings"].as_array().unwrap() {
        assert!(
            !f["remediation"]["summary"]
                .as_str()
                .unwrap_or("")
                .is_empty(),
            "{f}"
        );
        assert!(!f["evidence"].as_array().unwrap().is_empty(), "{f}");
    }
    let hardened = scan_json(&[
        "-f",
        &fixture(&format!("{name}/hardened.yaml")),
        "-i",
        &only,
    ]);
    assert_eq!(hardened.code, 0, "{}", hardened.stdout);
    assert_eq!(flagged(&hardened.json()), vec![], "{}", hardened.stdout);
    report
}

/// The finding of `check` on the object named `name`.
fn finding<'a>(report: &'a Value, check: &str, name: &str) -> &'a Value {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["check_id"] == check && f["resource"]["name"] == name)
        .unwrap_or_else(|| panic!("no {check} finding on {name}"))
}

#[test]
fn zero_trust_audit() {
    pack(
        "zero-trust",
        &[
            ("ZT-AUTHZ-002", "AuthorizationPolicy", "app/api-callers"),
            ("ZT-AUTHZ-004", "AuthorizationPolicy", "app/deny-tcp"),
            ("ZT-AUTHZ-005", "AuthorizationPolicy", "app/ext-authz"),
            ("ZT-AUTHZ-007", "AuthorizationPolicy", "app/api-callers"),
            (
                "ZT-AUTHZ-008",
                "AuthorizationPolicy",
                "mesh-ambient/reviews-get",
            ),
            ("ZT-ENROLL-001", "Pod", "app/debug-shell"),
            ("ZT-ID-001", "Deployment", "app/api"),
            ("ZT-POLICY-001", "AuthorizationPolicy", "app/typo"),
        ],
    );
}

/// istioctl IST0149: routing on JWT claims at a gateway no
/// RequestAuthentication covers (the claims are never filled there).
#[test]
fn claim_routing_needs_a_request_authentication_at_the_gateway() {
    pack(
        "claim-routing",
        &[("ZT-AUTHN-003", "VirtualService", "shop/by-claim")],
    );
}

#[test]
fn platform_and_release_hygiene() {
    pack(
        "platform",
        &[
            ("IST-DP-003", "Deployment", "billing/exporter"),
            ("IST-GW-004", "Gateway", "istio-system/cross-network"),
            ("IST-HYG-001", "Deployment", "billing/invoices"),
            (
                "IST-JWT-001",
                "ConfigMap",
                "istio-system/istio-sidecar-injector",
            ),
            ("ZT-EGRESS-001", "Sidecar", "billing/default"),
        ],
    );
}

/// (check, namespace, severity, evidence that raised it) of each finding.
fn severities(report: &serde_json::Value) -> Vec<(String, String, String, String)> {
    let mut v: Vec<_> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let raised = f["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|e| e["detail"].as_str())
                .find(|d| d.starts_with("severity raised: "))
                .unwrap_or_default();
            (
                f["check_id"].as_str().unwrap().to_string(),
                f["resource"]["name"].as_str().unwrap().to_string(),
                f["severity"].as_str().unwrap().to_string(),
                raised.to_string(),
            )
        })
        .collect();
    v.sort();
    v
}

/// The same plaintext and the same missing default-deny weigh one step more on
/// a namespace labelled restricted, and on a workload a gateway route reaches;
/// the route alone makes the difference for `web`.
#[test]
fn severity_follows_sensitivity_and_ingress_reachability() {
    let checks = ["-i", "IST-MTLS-001,ZT-AUTHZ-001"];
    let internal = scan_json(&[&["-f", &fixture("reachability/mesh.yaml")][..], &checks].concat());
    let exposed = scan_json(&[&["-f", &fixture("reachability")][..], &checks].concat());
    let sensitive = "severity raised: namespace vault is labelled data-classification=restricted";
    let routed = "severity raised: web/Deployment/frontend is reachable from outside the mesh \
                  through VirtualService web/www";
    let row = |id: &str, ns: &str, sev: &str, why: &str| {
        (
            id.to_string(),
            ns.to_string(),
            sev.to_string(),
            why.to_string(),
        )
    };
    assert_eq!(
        severities(&internal.json()),
        [
            row("IST-MTLS-001", "vault", "high", sensitive),
            row("IST-MTLS-001", "web", "medium", ""),
            row("ZT-AUTHZ-001", "vault", "high", sensitive),
            row("ZT-AUTHZ-001", "web", "medium", ""),
        ]
    );
    assert_eq!(
        severities(&exposed.json()),
        [
            row("IST-MTLS-001", "vault", "high", sensitive),
            row("IST-MTLS-001", "web", "high", routed),
            row("ZT-AUTHZ-001", "vault", "high", sensitive),
            row("ZT-AUTHZ-001", "web", "high", routed),
        ]
    );
}

/// Every check the example meshes exercise: planted in insecure-mesh, fixed in
/// hardened-mesh (whose cleanliness `cli::hardened_example_is_clean` asserts).
#[test]
fn example_meshes_cover_the_rest_of_the_pack() {
    let report = scan_json(&[
        "-f",
        &repo().join("examples/insecure-mesh").display().to_string(),
    ])
    .json();
    let fired: std::collections::BTreeSet<String> =
        flagged(&report).into_iter().map(|f| f.0).collect();
    let covered_elsewhere = [
        "IST-AUTHZ-002",
        "IST-AUTHZ-003",
        "ZT-AUTHZ-002",
        "ZT-AUTHZ-004",
        "ZT-AUTHZ-005",
        "ZT-AUTHZ-007",
        "ZT-AUTHZ-008",
        "ZT-POLICY-001",
        "ZT-ENROLL-001",
        "ZT-ID-001",
        "IST-DP-003",
        "IST-GW-004",
        "IST-HYG-001",
        "IST-JWT-001",
        "ZT-EGRESS-001",
        // corpus::another_mesh_tools_expectations_are_met
        "IST-GW-010",
        // claim_routing_needs_a_request_authentication_at_the_gateway
        "ZT-AUTHN-003",
        // wider_attack_surface
        "IST-AUTHZ-005",
        "IST-AUTHZ-006",
        "IST-AUTHZ-007",
        "IST-CP-002",
        "IST-EF-001",
        "IST-EGRESS-004",
        "IST-GW-008",
        "IST-GW-009",
        "IST-TLS-001",
        "ZT-AUTHZ-009",
        // wasm_plugins_must_be_pinned_and_fail_closed
        "IST-WASM-001",
        // waypoint_policies_cannot_be_gone_around_or_through
        "ZT-AUTHZ-010",
        // address_rules_at_an_ingress_gateway_must_see_the_client
        "IST-AUTHZ-008",
        // cors_never_lets_any_origin_send_credentials
        "IST-GW-011",
    ];
    let ids = check_ids();
    let untested: Vec<&String> = ids
        .iter()
        .filter(|id| !fired.contains(*id) && !covered_elsewhere.contains(&id.as_str()))
        .collect();
    assert!(
        untested.is_empty(),
        "checks without a vulnerable fixture: {untested:?}"
    );
}

#[test]
fn the_check_catalogue_in_docs_is_current() {
    let run = run(kridik().args(["checks", "--format", "markdown"]));
    assert_eq!(run.code, 0, "{}", run.stderr);
    let docs = std::fs::read_to_string(repo().join("docs/checks.md")).unwrap_or_default();
    assert!(
        docs == run.stdout,
        "docs/checks.md is stale: run `make docs`"
    );
    assert!(run.stdout.contains("\n## ZT-AUTHZ-008\n"));
}

/// Issue 12's wider attack surface: EnvoyFilter, TLS strength, Gateway API,
/// ReferenceGrant, ServiceEntry, JWT rules, rule shapes, CUSTOM fail-open and
/// control-plane flags, each against its safe look-alike.
#[test]
fn wider_attack_surface() {
    let checks = "IST-EF-001,IST-CP-002,IST-TLS-001,IST-GW-008,IST-GW-009,IST-EGRESS-004,ZT-AUTHN-002,IST-AUTHZ-005,IST-AUTHZ-006,IST-AUTHZ-007,ZT-AUTHZ-005,ZT-AUTHZ-009,IST-DP-001,ZT-EGRESS-001";
    let vulnerable = scan_json(&[
        "-f",
        &fixture("attack-surface/vulnerable.yaml"),
        "-i",
        checks,
    ]);
    let report = vulnerable.json();
    assert_eq!(
        flagged(&report),
        triples(&[
            ("IST-AUTHZ-005", "AuthorizationPolicy", "shop/web-split"),
            ("IST-AUTHZ-006", "AuthorizationPolicy", "shop/web-by-ip"),
            (
                "IST-AUTHZ-007",
                "AuthorizationPolicy",
                "istio-system/trust-batch"
            ),
            (
                "IST-AUTHZ-007",
                "AuthorizationPolicy",
                "istio-system/trust-team-namespaces"
            ),
            ("IST-CP-002", "Deployment", "istio-system/istiod"),
            (
                "IST-DP-001",
                "ConfigMap",
                "istio-system/istio-sidecar-injector"
            ),
            ("IST-EF-001", "EnvoyFilter", "istio-system/no-rbac"),
            ("IST-EGRESS-004", "ServiceEntry", "shop/anything"),
            ("IST-EGRESS-004", "ServiceEntry", "shop/instance-metadata"),
            ("IST-EGRESS-004", "ServiceEntry", "vault/hsm"),
            ("IST-GW-008", "Gateway", "shop/public"),
            ("IST-GW-009", "ReferenceGrant", "vault/certs-for-all"),
            ("IST-TLS-001", "ConfigMap", "istio-system/istio"),
            ("IST-TLS-001", "Gateway", "shop/legacy-tls"),
            ("ZT-AUTHN-002", "RequestAuthentication", "shop/jwt"),
            ("ZT-AUTHZ-005", "AuthorizationPolicy", "shop/web-ext"),
            ("ZT-AUTHZ-009", "AuthorizationPolicy", "shop/no-guests"),
            ("ZT-EGRESS-001", "Sidecar", "vault/default"),
        ])
    );
    let finding = |id: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check_id"] == id)
            .unwrap()
            .clone()
    };
    // Mesh-wide removal of the RBAC filter is raised to critical.
    assert_eq!(finding("IST-EF-001")["severity"], "critical");
    // The HTTP listener serves the route the HTTPS listener serves.
    let gw = finding("IST-GW-008")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        gw.contains("HTTP listener http serves HTTPRoute shop/storefront"),
        "{gw}"
    );
    assert!(
        gw.contains("from is All") && gw.contains("listeners[2] (any) has no hostname"),
        "{gw}"
    );
    let cp = finding("IST-CP-002")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        cp.contains("TRUSTED_GATEWAY_CIDR=0.0.0.0/0") && cp.contains("trustDomainAliases"),
        "{cp}"
    );
    // REGISTRY_ONLY makes the wildcard NONE entry an open door, and the
    // metadata entry a way to the node's cloud credentials: both high.
    assert_eq!(
        self::finding(&report, "IST-EGRESS-004", "anything")["severity"],
        "high"
    );
    assert_eq!(
        self::finding(&report, "IST-EGRESS-004", "instance-metadata")["severity"],
        "high"
    );
    assert!(
        self::finding(&report, "IST-EGRESS-004", "instance-metadata")["message"]
            .as_str()
            .unwrap()
            .contains("cloud instance metadata service")
    );
    // Each comes with hardened YAML for the exact object.
    assert!(finding("ZT-AUTHN-002")["remediation"]["yaml"]
        .as_str()
        .unwrap()
        .contains("name: jwt\n  namespace: shop"));

    let hardened = scan_json(&[
        "-f",
        &fixture("attack-surface/hardened.yaml"),
        "-i",
        checks,
        "--fail-on",
        "info",
    ]);
    assert_eq!(hardened.code, 0, "{:?}", flagged(&hardened.json()));
}

/// Issue 12's model rules seen through the checks: root-namespace selector
/// PeerAuthentications, targetRefs without a waypoint, ztunnel's L4 translation,
/// identity fields on a plaintext port, Service vs target ports, auto mTLS off,
/// uncaptured ports and hostNetwork pods, each beside a look-alike that is safe.
#[test]
fn istio_semantics() {
    let checks = "ZT-POLICY-001,IST-MTLS-001,ZT-AUTHZ-008,ZT-AUTHZ-007,IST-DP-001,IST-MTLS-003,IST-GW-005,ZT-ENROLL-001";
    let report = scan_json(&[
        "-f",
        &fixture("istio-semantics/vulnerable.yaml"),
        "-i",
        checks,
    ])
    .json();
    let severity = |check: &str, name: &str| {
        report["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["check_id"] == check && f["resource"]["name"] == name)
            .map(|f| f["severity"].as_str().unwrap().to_string())
    };
    assert_eq!(
        flagged(&report),
        triples(&[
            ("IST-DP-001", "Deployment", "pay/ledger"),
            ("IST-GW-005", "AuthorizationPolicy", "pay/ledger-port-deny"),
            ("IST-MTLS-003", "DestinationRule", "pay/ledger"),
            ("ZT-AUTHZ-007", "AuthorizationPolicy", "pay/ledger-no-batch"),
            ("ZT-AUTHZ-008", "AuthorizationPolicy", "amb/api-deny-admin"),
            ("ZT-POLICY-001", "AuthorizationPolicy", "pay/deny-debug"),
            (
                "ZT-POLICY-001",
                "AuthorizationPolicy",
                "pay/ledger-waypoint-deny"
            ),
            (
                "ZT-POLICY-001",
                "PeerAuthentication",
                "istio-system/ledger-off"
            ),
        ])
    );
    // The ignored root-namespace DISABLE never makes IST-MTLS-001 blame it.
    assert_eq!(severity("IST-MTLS-001", "ledger-off"), None);
    // A DENY that applies nowhere is a missing block (raised: sensitive namespace);
    // the ignored PeerAuthentication is hygiene.
    assert_eq!(
        severity("ZT-POLICY-001", "deny-debug").as_deref(),
        Some("high")
    );
    assert_eq!(
        severity("ZT-POLICY-001", "ledger-off").as_deref(),
        Some("low")
    );
    // A DENY left without any ztunnel match blocks nothing: high.
    assert_eq!(
        severity("ZT-AUTHZ-008", "api-deny-admin").as_deref(),
        Some("high")
    );
    let hardened = scan_json(&[
        "-f",
        &fixture("istio-semantics/hardened.yaml"),
        "-i",
        checks,
        "--fail-on",
        "info",
    ]);
    assert_eq!(hardened.code, 0, "{:?}", flagged(&hardened.json()));
}

/// Auto mTLS off: an in-mesh Service no DestinationRule covers gets no TLS
/// from istiod (`buildUpstreamTLSSettings`), so its clients send plaintext;
/// a mesh-wide ISTIO_MUTUAL rule closes it.
#[test]
fn auto_mtls_off_without_a_destination_rule() {
    let report = pack(
        "auto-mtls-off",
        &[("IST-MTLS-003", "ConfigMap", "istio-system/istio")],
    );
    let f = finding(&report, "IST-MTLS-003", "istio");
    assert_eq!(f["severity"], "high");
    let message = f["message"].as_str().unwrap();
    assert!(message.contains("cart.shop.svc.cluster.local"), "{message}");
    assert!(!message.contains("orders"), "{message}");
}

/// A namespace on a revision no injector webhook serves (the old revision of
/// a canary upgrade, removed) gets no sidecar: ZT-ENROLL-001 says so, naming
/// the revisions that are served; moved to the served revision, it is clean.
#[test]
fn a_revision_no_injector_serves_leaves_pods_outside_the_mesh() {
    let report = pack(
        "dangling-revision",
        &[("ZT-ENROLL-001", "Deployment", "pay/ledger")],
    );
    let message = finding(&report, "ZT-ENROLL-001", "ledger")["message"]
        .as_str()
        .unwrap();
    assert!(
        message.contains("no injector webhook serves revision 1-27")
            && message.contains("served: 1-28"),
        "{message}"
    );
}

/// An ALLOW with rules that attaches nowhere (targetRefs on a Service no
/// waypoint serves) leaves the workload it names with no ALLOW policy, so
/// every caller gets in: medium. The same miss beside another ALLOW on the
/// workload stays hygiene, and with the waypoint in place nothing is flagged.
#[test]
fn an_unattached_allow_opens_the_workload_it_restricts() {
    let report = pack(
        "ambient-allow-unattached",
        &[
            (
                "ZT-POLICY-001",
                "AuthorizationPolicy",
                "shop/billing-callers",
            ),
            (
                "ZT-POLICY-001",
                "AuthorizationPolicy",
                "shop/orders-callers",
            ),
        ],
    );
    let orders = finding(&report, "ZT-POLICY-001", "orders-callers");
    assert_eq!(orders["severity"], "medium");
    let message = orders["message"].as_str().unwrap();
    assert!(
        message.contains("shop/Deployment/orders has no other ALLOW policy"),
        "{message}"
    );
    assert_eq!(
        finding(&report, "ZT-POLICY-001", "billing-callers")["severity"],
        "low"
    );
}

/// WasmPlugins: plaintext fetch without sha256 (high), a mesh-wide AUTHZ
/// plugin failing open (high, raised: every proxy), a tag without a digest
/// (low); pinned and failing closed, nothing.
#[test]
fn wasm_plugins_must_be_pinned_and_fail_closed() {
    let report = pack(
        "wasm-plugins",
        &[
            ("IST-WASM-001", "WasmPlugin", "istio-system/opa-authz"),
            ("IST-WASM-001", "WasmPlugin", "shop/basic-auth"),
            ("IST-WASM-001", "WasmPlugin", "shop/header-filter"),
        ],
    );
    let severity = |name: &str| finding(&report, "IST-WASM-001", name)["severity"].clone();
    assert_eq!(severity("opa-authz"), "critical");
    assert_eq!(severity("header-filter"), "high");
    assert_eq!(severity("basic-auth"), "low");
}

/// Ambient workloads behind a service waypoint: a waypoint policy that
/// traffic to the pods goes around, and a ztunnel DENY on caller identity
/// that sees only the waypoint. Admitting only the waypoint at ztunnel, the
/// DENY at the waypoint, or a waypoint for all traffic, closes both.
#[test]
fn waypoint_policies_cannot_be_gone_around_or_through() {
    let report = pack(
        "waypoint-bypass",
        &[
            ("ZT-AUTHZ-010", "AuthorizationPolicy", "shop/deny-batch"),
            ("ZT-AUTHZ-010", "AuthorizationPolicy", "shop/orders-callers"),
        ],
    );
    let around = finding(&report, "ZT-AUTHZ-010", "orders-callers")["message"].to_string();
    assert!(around.contains("waypoint-for: service"), "{around}");
    let through = finding(&report, "ZT-AUTHZ-010", "deny-batch")["message"].to_string();
    assert!(
        through.contains("rules[0].from.source.namespaces"),
        "{through}"
    );
}

/// Address rules at an ingress gateway behind a LoadBalancer Service that
/// hides clients: a DENY on `ipBlocks` never matches a client (medium), an
/// ALLOW on untrusted `remoteIpBlocks` sees the node (low). Trusted
/// X-Forwarded-For hops or `externalTrafficPolicy: Local` keep clients seen.
#[test]
fn address_rules_at_an_ingress_gateway_must_see_the_client() {
    let report = pack(
        "ingress-client-address",
        &[
            (
                "IST-AUTHZ-008",
                "AuthorizationPolicy",
                "istio-system/block-bad-ips",
            ),
            (
                "IST-AUTHZ-008",
                "AuthorizationPolicy",
                "istio-system/office-only",
            ),
        ],
    );
    assert_eq!(
        finding(&report, "IST-AUTHZ-008", "block-bad-ips")["severity"],
        "medium"
    );
    assert_eq!(
        finding(&report, "IST-AUTHZ-008", "office-only")["severity"],
        "low"
    );
}

/// Credentialed CORS for any origin: high on a gateway route, medium inside
/// the mesh; exact origins, or a wildcard without credentials, are clean.
#[test]
fn cors_never_lets_any_origin_send_credentials() {
    let report = pack(
        "cors",
        &[
            ("IST-GW-011", "VirtualService", "shop/accounts"),
            ("IST-GW-011", "VirtualService", "shop/shop"),
        ],
    );
    assert_eq!(finding(&report, "IST-GW-011", "shop")["severity"], "high");
    assert_eq!(
        finding(&report, "IST-GW-011", "accounts")["severity"],
        "medium"
    );
}

/// A running pod in an ambient namespace that istio-cni never redirected
/// (no `ambient.istio.io/redirection` mark) is outside the mesh, VERIFIED,
/// whatever its namespace asks; the marked pod is in.
#[test]
fn an_ambient_pod_ztunnel_never_captured_is_outside_the_mesh() {
    let report = pack(
        "ambient-uncaptured",
        &[("ZT-ENROLL-001", "Pod", "payments/ledger-7d9f")],
    );
    let f = finding(&report, "ZT-ENROLL-001", "ledger-7d9f");
    assert_eq!(f["confidence"], "VERIFIED");
    let message = f["message"].as_str().unwrap();
    assert!(message.contains("not redirected to ztunnel"), "{message}");
}

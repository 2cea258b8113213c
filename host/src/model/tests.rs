//! Istio semantics the model must get right, on small hand-written meshes.

use super::*;
use crate::gather::{Snapshot, Source, Wants};

fn mesh(yaml: &str) -> MeshModel {
    let batch =
        kridik_parse::parse_text(yaml, &"test.yaml".into(), &Wants::new(Vec::<String>::new()));
    assert!(batch.errors.is_empty(), "{:?}", batch.errors);
    build(&Snapshot::new(Source::Offline, batch, Default::default()))
}

fn workload<'a>(m: &'a MeshModel, id: &str) -> &'a Workload {
    m.workloads
        .iter()
        .find(|w| w.id == id)
        .unwrap_or_else(|| panic!("no workload {id}"))
}

fn deploy(ns: &str, name: &str, labels: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  template:\n    metadata:\n      labels: {labels}\n    spec:\n      containers:\n      - name: app\n        image: app\n        ports:\n        - containerPort: 8080\n---\n"
    )
}

fn pa(ns: &str, name: &str, body: &str, created: &str) -> String {
    format!(
        "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata:\n  name: {name}\n  namespace: {ns}\n  creationTimestamp: \"{created}\"\nspec:\n{body}\n---\n"
    )
}

fn ap(ns: &str, name: &str, spec: &str) -> String {
    format!("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n{spec}\n---\n")
}

const NS: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: app\n  labels:\n    istio-injection: enabled\n---\n";

#[test]
fn nothing_set_means_permissive_by_default() {
    let m = mesh(&format!("{NS}{}", deploy("app", "web", "{app: web}")));
    let w = workload(&m, "app/Deployment/web");
    assert_eq!(w.mtls.mode, MtlsMode::Permissive);
    assert!(w.mtls.decided_by.is_none());
    assert_eq!(w.identity, "spiffe://cluster.local/ns/app/sa/default");
}

#[test]
fn workload_beats_namespace_beats_mesh_and_unset_inherits() {
    let yaml = format!(
        "{NS}{}{}{}{}{}",
        deploy("app", "web", "{app: web}"),
        deploy("app", "db", "{app: db}"),
        pa("istio-system", "default", "  mtls:\n    mode: STRICT", "2026-01-01T00:00:00Z"),
        pa("app", "ns", "  mtls:\n    mode: PERMISSIVE", "2026-01-01T00:00:00Z"),
        pa("app", "db", "  selector:\n    matchLabels:\n      app: db\n  mtls:\n    mode: UNSET\n  portLevelMtls:\n    8080:\n      mode: DISABLE", "2026-01-01T00:00:00Z"),
    );
    let m = mesh(&yaml);
    let web = workload(&m, "app/Deployment/web");
    assert_eq!(web.mtls.mode, MtlsMode::Permissive, "namespace beats mesh");
    assert_eq!(web.mtls.decided_by.as_ref().unwrap().name, "ns");
    let db = workload(&m, "app/Deployment/db");
    assert_eq!(
        db.mtls.mode,
        MtlsMode::Permissive,
        "UNSET inherits from the namespace"
    );
    assert_eq!(db.mtls.ports.len(), 1);
    assert_eq!(
        (db.mtls.ports[0].port, db.mtls.ports[0].mode),
        (8080, MtlsMode::Disable)
    );
    assert_eq!(
        db.peer_authentications.len(),
        3,
        "mesh, namespace and workload policies all apply to db"
    );
}

#[test]
fn oldest_policy_wins_a_tie_at_one_level() {
    let yaml = format!(
        "{NS}{}{}{}",
        deploy("app", "web", "{app: web}"),
        pa(
            "app",
            "newer",
            "  mtls:\n    mode: DISABLE",
            "2026-05-01T00:00:00Z"
        ),
        pa(
            "app",
            "older",
            "  mtls:\n    mode: STRICT",
            "2026-01-01T00:00:00Z"
        ),
    );
    let w = workload(&mesh(&yaml), "app/Deployment/web").clone();
    assert_eq!(w.mtls.mode, MtlsMode::Strict);
    assert_eq!(w.mtls.decided_by.unwrap().name, "older");
}

#[test]
fn a_selector_policy_in_another_namespace_does_not_apply() {
    let yaml = format!(
        "{NS}{}{}",
        deploy("app", "web", "{app: web}"),
        pa(
            "other",
            "web",
            "  selector:\n    matchLabels:\n      app: web\n  mtls:\n    mode: DISABLE",
            "2026-01-01T00:00:00Z"
        ),
    );
    let m = mesh(&yaml);
    assert_eq!(
        workload(&m, "app/Deployment/web").mtls.mode,
        MtlsMode::Permissive
    );
    let p = m.policies.iter().find(|p| p.target.name == "web").unwrap();
    assert!(p.matches_nothing);
}

#[test]
fn ambient_does_not_support_disable() {
    let yaml = format!(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: amb\n  labels:\n    istio.io/dataplane-mode: ambient\n---\n{}{}",
        deploy("amb", "api", "{app: api}"),
        pa("amb", "default", "  mtls:\n    mode: DISABLE", "2026-01-01T00:00:00Z"),
    );
    let m = mesh(&yaml);
    let w = workload(&m, "amb/Deployment/api");
    assert_eq!(w.enrollment.dataplane, Dataplane::Ambient);
    assert_eq!(w.mtls.mode, MtlsMode::Permissive);
    assert!(w.mtls.reason.contains("ambient does not support DISABLE"));
}

#[test]
fn enrollment_follows_labels_and_running_pods() {
    let yaml = format!(
        "{NS}{}{}apiVersion: v1\nkind: Pod\nmetadata:\n  name: old-1\n  namespace: app\n  labels: {{app: old}}\nspec:\n  containers:\n  - name: app\n    image: app\nstatus:\n  phase: Running\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: new-1\n  namespace: app\n  labels: {{app: new}}\nspec:\n  containers:\n  - name: app\n    image: app\n  - name: istio-proxy\n    image: proxyv2\nstatus:\n  phase: Running\n",
        deploy("app", "web", "{app: web}"),
        deploy("app", "optout", "{app: optout, sidecar.istio.io/inject: \"false\"}"),
    );
    let m = mesh(&yaml);
    let web = workload(&m, "app/Deployment/web");
    assert_eq!(
        (web.enrollment.dataplane, web.enrollment.confidence),
        (Dataplane::Sidecar, Confidence::Inferred)
    );
    let optout = workload(&m, "app/Deployment/optout");
    assert_eq!(optout.enrollment.dataplane, Dataplane::None);
    // A running pod without the proxy is not enrolled, whatever the namespace asks.
    let old = workload(&m, "app/Pod/old-1");
    assert_eq!(
        (old.enrollment.dataplane, old.enrollment.confidence),
        (Dataplane::None, Confidence::Verified)
    );
    assert!(old.enrollment.reason.contains("restart it to inject"));
    let new = workload(&m, "app/Pod/new-1");
    assert_eq!(
        (new.enrollment.dataplane, new.enrollment.confidence),
        (Dataplane::Sidecar, Confidence::Verified)
    );
}

#[test]
fn authorization_scope_mesh_namespace_selector_and_root_selectors() {
    let yaml = format!(
        "{NS}{}{}{}{}{}{}",
        deploy("app", "web", "{app: web}"),
        deploy("other", "web", "{app: web}"),
        ap("istio-system", "deny-all", "  {}"),
        ap(
            "app",
            "ns-wide",
            "  action: DENY\n  rules:\n  - to:\n    - operation:\n        paths: [/admin]"
        ),
        ap(
            "istio-system",
            "root-selector",
            "  selector:\n    matchLabels:\n      app: web"
        ),
        ap(
            "app",
            "nobody",
            "  selector:\n    matchLabels:\n      app: ghost"
        ),
    );
    let m = mesh(&yaml);
    let scope = |name: &str| m.policies.iter().find(|p| p.target.name == name).unwrap();
    assert_eq!(scope("deny-all").scope, PolicyScope::Mesh);
    assert_eq!(scope("deny-all").workloads.len(), 2);
    assert_eq!(scope("ns-wide").scope, PolicyScope::Namespace);
    assert_eq!(scope("ns-wide").workloads, vec!["app/Deployment/web"]);
    assert_eq!(
        scope("root-selector").workloads.len(),
        2,
        "a root-namespace selector matches in every namespace"
    );
    assert!(scope("nobody").matches_nothing);
    assert_eq!(
        workload(&m, "app/Deployment/web")
            .authorization_policies
            .len(),
        3
    );
}

#[test]
fn mesh_config_comes_from_the_istio_configmap() {
    let yaml = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\n  namespace: istio-system\ndata:\n  mesh: |-\n    trustDomain: corp.example\n    rootNamespace: mesh-root\n    pathNormalization:\n      normalization: MERGE_SLASHES\n    outboundTrafficPolicy:\n      mode: REGISTRY_ONLY\n    extensionProviders:\n    - name: opa\n      envoyExtAuthzGrpc:\n        service: opa.opa.svc.cluster.local\n        port: 9191\n";
    let m = mesh(yaml);
    let c = &m.config;
    assert_eq!(
        (c.trust_domain.as_str(), c.root_namespace.as_str()),
        ("corp.example", "mesh-root")
    );
    assert_eq!(
        c.path_normalization,
        meshconfig::PathNormalization::MergeSlashes
    );
    assert_eq!(c.outbound_traffic_policy, "REGISTRY_ONLY");
    assert_eq!(c.extension_providers[0].name, "opa");
    assert_eq!(c.extension_providers[0].kind, "envoyExtAuthzGrpc");
    assert_eq!(c.source.as_ref().unwrap().name, "istio");
}

fn svc(ns: &str, name: &str, app: &str) -> String {
    format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  selector:\n    app: {app}\n  ports:\n  - name: http\n    port: 80\n---\n")
}

#[test]
fn ingress_follows_gateway_routes_not_mesh_or_waypoint_routes() {
    let routes = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: public\n  namespace: edge\nspec:\n  selector:\n    istio: ingressgateway\n---\n\
apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: store\n  namespace: app\nspec:\n  hosts: [shop.example.com]\n  gateways: [edge/public]\n  http:\n  - route:\n    - destination:\n        host: web\n---\n\
apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: internal\n  namespace: app\nspec:\n  hosts: [db]\n  http:\n  - route:\n    - destination:\n        host: db\n---\n\
apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: dangling\n  namespace: app\nspec:\n  hosts: [x.example.com]\n  gateways: [gone]\n  tcp:\n  - route:\n    - destination:\n        host: db.app.svc.cluster.local\n---\n\
apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: waypoint\n  namespace: app\nspec:\n  gatewayClassName: istio-waypoint\n---\n\
apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: via-waypoint\n  namespace: app\nspec:\n  parentRefs:\n  - name: waypoint\n  rules:\n  - backendRefs:\n    - name: db\n---\n\
apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: api\n  namespace: edge\nspec:\n  parentRefs:\n  - name: public-gw\n  rules:\n  - backendRefs:\n    - name: api\n      namespace: app\n---\n";
    let yaml = format!(
        "{NS}{}{}{}{}{}{}{routes}",
        deploy("app", "web", "{app: web}"),
        deploy("app", "db", "{app: db}"),
        deploy("app", "api", "{app: api}"),
        svc("app", "web", "web"),
        svc("app", "db", "db"),
        svc("app", "api", "api"),
    );
    let m = mesh(&yaml);
    let names = |id: &str| -> Vec<String> {
        workload(&m, id)
            .ingress
            .iter()
            .map(|r| r.display())
            .collect()
    };
    assert_eq!(names("app/Deployment/web"), ["VirtualService app/store"]);
    assert_eq!(names("app/Deployment/api"), ["HTTPRoute edge/api"]);
    assert!(
        names("app/Deployment/db").is_empty(),
        "mesh-only, dangling and waypoint routes do not bring traffic in: {:?}",
        names("app/Deployment/db")
    );
}

/// A Deployment with pod-template annotations and extra pod spec lines.
fn deploy_full(ns: &str, name: &str, labels: &str, annotations: &str, spec: &str) -> String {
    format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  template:\n    metadata:\n      labels: {labels}\n      annotations: {annotations}\n    spec:\n{spec}      containers:\n      - name: app\n        image: app\n        ports:\n        - containerPort: 8080\n        - containerPort: 9090\n---\n"
    )
}

fn namespace(name: &str, labels: &str) -> String {
    format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels: {labels}\n---\n")
}

#[test]
fn a_selector_peer_authentication_in_the_root_namespace_is_ignored() {
    // pilot/pkg/security/authn/policy_applier.go ComposePeerAuthentication: only
    // selector policies outside the root namespace are workload policies.
    let yaml = format!(
        "{NS}{}{}{}",
        deploy("app", "web", "{app: web}"),
        pa("istio-system", "default", "  mtls:\n    mode: STRICT", "2026-01-01T00:00:00Z"),
        pa("istio-system", "web-off", "  selector:\n    matchLabels:\n      app: web\n  mtls:\n    mode: DISABLE\n  portLevelMtls:\n    8080:\n      mode: DISABLE", "2026-01-01T00:00:00Z"),
    );
    let m = mesh(&yaml);
    let web = workload(&m, "app/Deployment/web");
    assert_eq!(web.mtls.mode, MtlsMode::Strict);
    assert!(web.mtls.ports.is_empty());
    assert_eq!(web.mtls.decided_by.as_ref().unwrap().name, "default");
    let ignored = m
        .policies
        .iter()
        .find(|p| p.target.name == "web-off")
        .unwrap();
    assert!(ignored.matches_nothing && ignored.reason.contains("ignored by istiod"));
}

#[test]
fn injection_follows_the_webhook_selectors_and_inject_required() {
    // pkg/kube/inject/inject.go injectRequired and the webhooks' selectors in
    // manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml.
    let yaml = format!(
        "{NS}{}{}{}{}{}{}{}{}",
        namespace("plain", "{}"),
        namespace("off", "{istio-injection: disabled}"),
        namespace("kube-system", "{istio-injection: enabled}"),
        deploy_full(
            "app",
            "host",
            "{app: host}",
            "{}",
            "      hostNetwork: true\n"
        ),
        deploy_full(
            "plain",
            "by-annotation",
            "{app: a}",
            "{sidecar.istio.io/inject: \"true\"}",
            ""
        ),
        deploy_full(
            "plain",
            "by-label",
            "{app: b, sidecar.istio.io/inject: \"true\"}",
            "{}",
            ""
        ),
        deploy_full(
            "off",
            "label-in-disabled-ns",
            "{app: c, sidecar.istio.io/inject: \"true\"}",
            "{}",
            ""
        ),
        deploy_full("kube-system", "dns", "{app: dns}", "{}", ""),
    ) + &format!(
        "{}{}",
        // The label beats the annotation.
        deploy_full(
            "app",
            "label-wins",
            "{app: d, sidecar.istio.io/inject: \"false\"}",
            "{sidecar.istio.io/inject: \"true\"}",
            ""
        ),
        deploy_full(
            "app",
            "odd-value",
            "{app: e, sidecar.istio.io/inject: \"yes\"}",
            "{}",
            ""
        ),
    );
    let m = mesh(&yaml);
    let plane = |id: &str| workload(&m, id).enrollment.dataplane;
    assert_eq!(plane("app/Deployment/host"), Dataplane::None);
    assert!(workload(&m, "app/Deployment/host")
        .enrollment
        .reason
        .starts_with("hostNetwork: true"));
    assert_eq!(
        plane("plain/Deployment/by-annotation"),
        Dataplane::None,
        "the webhook selects by label only"
    );
    assert_eq!(plane("plain/Deployment/by-label"), Dataplane::Sidecar);
    assert_eq!(
        plane("off/Deployment/label-in-disabled-ns"),
        Dataplane::None
    );
    assert_eq!(plane("kube-system/Deployment/dns"), Dataplane::None);
    assert_eq!(plane("app/Deployment/label-wins"), Dataplane::None);
    // Values other than true/false fall back to the namespace default.
    assert_eq!(plane("app/Deployment/odd-value"), Dataplane::Sidecar);
}

/// A MutatingWebhookConfiguration with Istio's injector webhooks: one per
/// `(name, namespaceSelector expressions)`, as the chart renders them.
fn webhooks(name: &str, hooks: &[(&str, &str)]) -> String {
    let mut out = format!("apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata:\n  name: {name}\nwebhooks:\n");
    for (hook, exprs) in hooks {
        out += &format!("- name: {hook}\n  namespaceSelector:\n    matchExpressions: {exprs}\n");
    }
    out + "---\n"
}

#[test]
fn a_label_no_injector_webhook_serves_injects_nothing() {
    // manifests/charts/istio-control/istio-discovery/templates/mutatingwebhook.yaml:
    // revision webhooks select `istio.io/rev In [rev]`, the default revision's
    // also `istio-injection In [enabled]`; revision tags render the same.
    let workloads = format!(
        "{}{}{}{}{}{}",
        namespace("old", "{istio.io/rev: canary}"),
        namespace("tagged", "{istio.io/rev: prod-stable}"),
        namespace("legacy", "{istio-injection: enabled}"),
        deploy("old", "api", "{app: api}"),
        deploy("tagged", "web", "{app: web}"),
        deploy("legacy", "db", "{app: db}"),
    );
    let rev = |r: &str| {
        format!("[{{key: istio.io/rev, operator: In, values: [{r}]}}, {{key: istio-injection, operator: DoesNotExist}}]")
    };
    let default_install = webhooks(
        "istio-sidecar-injector",
        &[
            ("rev.namespace.sidecar-injector.istio.io", &rev("default")),
            (
                "namespace.sidecar-injector.istio.io",
                "[{key: istio-injection, operator: In, values: [enabled]}]",
            ),
        ],
    );
    let tag = webhooks(
        "istio-revision-tag-prod-stable",
        &[(
            "rev.namespace.sidecar-injector.istio.io",
            &rev("prod-stable"),
        )],
    );
    let plane = |m: &MeshModel, id: &str| workload(m, id).enrollment.dataplane;

    // The default install and a tag: the removed revision `canary` injects nothing.
    let m = mesh(&format!("{workloads}{default_install}{tag}"));
    assert_eq!(plane(&m, "old/Deployment/api"), Dataplane::None);
    let why = &workload(&m, "old/Deployment/api").enrollment.reason;
    assert!(
        why.contains("no injector webhook serves revision canary"),
        "{why}"
    );
    assert_eq!(plane(&m, "tagged/Deployment/web"), Dataplane::Sidecar);
    assert_eq!(plane(&m, "legacy/Deployment/db"), Dataplane::Sidecar);
    let ns = |name: &str| m.namespaces.iter().find(|n| n.name == name).unwrap();
    assert_eq!(ns("old").enrollment.dataplane, Dataplane::None);
    assert_eq!(ns("tagged").enrollment.dataplane, Dataplane::Sidecar);

    // A revision-only install: istio-injection=enabled reaches no webhook.
    let m = mesh(&format!("{workloads}{tag}"));
    assert_eq!(plane(&m, "legacy/Deployment/db"), Dataplane::None);
    assert_eq!(plane(&m, "tagged/Deployment/web"), Dataplane::Sidecar);

    // No webhook in the snapshot: the labels are taken at their word.
    let m = mesh(&workloads);
    assert_eq!(plane(&m, "old/Deployment/api"), Dataplane::Sidecar);
    assert_eq!(plane(&m, "legacy/Deployment/db"), Dataplane::Sidecar);
}

#[test]
fn the_injector_policy_and_selectors_decide_after_the_webhook() {
    let injector = |config: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio-sidecar-injector\n  namespace: istio-system\ndata:\n  config: |\n{config}\n---\n")
    };
    let workloads = format!(
        "{NS}{}{}{}",
        deploy("app", "plain", "{app: plain}"),
        deploy("app", "batch", "{app: batch, kind: job}"),
        deploy_full(
            "app",
            "asks",
            "{app: asks, sidecar.istio.io/inject: \"true\"}",
            "{}",
            ""
        ),
    );
    let disabled = mesh(&format!(
        "{workloads}{}",
        injector("    policy: disabled\n    alwaysInjectSelector:\n    - matchLabels: {kind: job}")
    ));
    let plane = |m: &MeshModel, id: &str| workload(m, id).enrollment.dataplane;
    assert_eq!(plane(&disabled, "app/Deployment/plain"), Dataplane::None);
    assert_eq!(plane(&disabled, "app/Deployment/batch"), Dataplane::Sidecar);
    assert_eq!(plane(&disabled, "app/Deployment/asks"), Dataplane::Sidecar);
    let never = mesh(&format!(
        "{workloads}{}",
        injector("    policy: enabled\n    neverInjectSelector:\n    - matchLabels: {kind: job}")
    ));
    assert_eq!(plane(&never, "app/Deployment/plain"), Dataplane::Sidecar);
    assert_eq!(plane(&never, "app/Deployment/batch"), Dataplane::None);
    // An explicit label beats neverInjectSelector.
    assert_eq!(plane(&never, "app/Deployment/asks"), Dataplane::Sidecar);
}

#[test]
fn ambient_opt_outs_and_uncaptured_ports() {
    let yaml = format!(
        "{NS}{}{}{}{}{}",
        namespace("amb", "{istio.io/dataplane-mode: ambient}"),
        deploy_full(
            "amb",
            "out",
            "{app: out, istio.io/dataplane-mode: none}",
            "{}",
            ""
        ),
        deploy_full(
            "amb",
            "bypass",
            "{app: bypass}",
            "{ambient.istio.io/bypass-inbound-capture: \"true\"}",
            ""
        ),
        deploy_full(
            "app",
            "include",
            "{app: inc}",
            "{traffic.sidecar.istio.io/includeInboundPorts: \"8080\"}",
            ""
        ),
        pa(
            "istio-system",
            "default",
            "  mtls:\n    mode: STRICT",
            "2026-01-01T00:00:00Z"
        ),
    );
    let m = mesh(&yaml);
    assert_eq!(
        workload(&m, "amb/Deployment/out").enrollment.dataplane,
        Dataplane::None
    );
    let bypass = workload(&m, "amb/Deployment/bypass");
    assert_eq!(bypass.enrollment.dataplane, Dataplane::Ambient);
    let off: Vec<(u32, MtlsMode)> = bypass.mtls.ports.iter().map(|p| (p.port, p.mode)).collect();
    assert_eq!(
        off,
        vec![(8080, MtlsMode::Disable), (9090, MtlsMode::Disable)]
    );
    // includeInboundPorts leaves 9090 out: plaintext there despite the mesh-wide STRICT.
    let inc = workload(&m, "app/Deployment/include");
    assert_eq!(inc.mtls.mode, MtlsMode::Strict);
    let off: Vec<(u32, MtlsMode)> = inc.mtls.ports.iter().map(|p| (p.port, p.mode)).collect();
    assert_eq!(off, vec![(9090, MtlsMode::Disable)]);
    assert_eq!(inc.uncaptured_ports.len(), 1);
}

#[test]
fn target_refs_attach_through_the_waypoint_a_service_actually_uses() {
    // pilot/pkg/serviceregistry/ambient/waypoints.go: the Service's own label,
    // else its namespace's; `none` opts out; the waypoint must exist, carry
    // service traffic and admit the namespace.
    let waypoint = |ns: &str, name: &str, labels: &str, from: &str| {
        format!("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {labels}\nspec:\n  gatewayClassName: istio-waypoint\n  listeners:\n  - name: mesh\n    port: 15008\n    protocol: HBONE\n    allowedRoutes: {{namespaces: {{from: {from}}}}}\n---\n")
    };
    let svc = |ns: &str, name: &str, labels: &str| {
        format!("apiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\n  namespace: {ns}\n  labels: {labels}\nspec:\n  selector: {{app: {name}}}\n  ports: [{{port: 80, targetPort: 8080}}]\n---\n")
    };
    let deny_by_ref = |ns: &str, name: &str, target: &str| {
        format!("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  targetRefs: [{target}]\n  action: DENY\n  rules: [{{}}]\n---\n")
    };
    let yaml = [
        namespace(
            "amb",
            "{istio.io/dataplane-mode: ambient, istio.io/use-waypoint: wp}",
        ),
        namespace("other", "{istio.io/dataplane-mode: ambient}"),
        waypoint("amb", "wp", "{}", "Same"),
        waypoint("amb", "wl-only", "{istio.io/waypoint-for: workload}", "All"),
        deploy("amb", "bound", "{app: bound}"),
        svc("amb", "bound", "{}"),
        deploy("amb", "optout", "{app: optout}"),
        svc("amb", "optout", "{istio.io/use-waypoint: none}"),
        deploy("amb", "wrongtype", "{app: wrongtype}"),
        svc("amb", "wrongtype", "{istio.io/use-waypoint: wl-only}"),
        deploy("other", "foreign", "{app: foreign}"),
        svc(
            "other",
            "foreign",
            "{istio.io/use-waypoint: wp, istio.io/use-waypoint-namespace: amb}",
        ),
        // A sidecar workload behind a Service bound to the waypoint.
        deploy_full(
            "amb",
            "sc",
            "{app: sc, sidecar.istio.io/inject: \"true\"}",
            "{}",
            "",
        ),
        svc("amb", "sc", "{}"),
        deny_by_ref(
            "amb",
            "p-bound",
            "{kind: Service, group: \"\", name: bound}",
        ),
        deny_by_ref(
            "amb",
            "p-optout",
            "{kind: Service, group: \"\", name: optout}",
        ),
        deny_by_ref(
            "amb",
            "p-wrongtype",
            "{kind: Service, group: \"\", name: wrongtype}",
        ),
        deny_by_ref(
            "other",
            "p-foreign",
            "{kind: Service, group: \"\", name: foreign}",
        ),
        deny_by_ref("amb", "p-sc", "{kind: Service, group: \"\", name: sc}"),
        deny_by_ref(
            "amb",
            "p-gateway",
            "{kind: Gateway, group: gateway.networking.k8s.io, name: wp}",
        ),
        deny_by_ref(
            "istio-system",
            "p-class",
            "{kind: GatewayClass, group: gateway.networking.k8s.io, name: istio-waypoint}",
        ),
        deny_by_ref(
            "amb",
            "p-class-local",
            "{kind: GatewayClass, group: gateway.networking.k8s.io, name: istio-waypoint}",
        ),
    ]
    .concat();
    let m = mesh(&yaml);
    let policy = |name: &str| m.policies.iter().find(|p| p.target.name == name).unwrap();
    let applies = |name: &str| policy(name).workloads.clone();
    assert_eq!(applies("p-bound"), vec!["amb/Deployment/bound"]);
    assert_eq!(policy("p-bound").enforcer, Enforcer::Waypoint);
    for unenforced in [
        "p-optout",
        "p-wrongtype",
        "p-foreign",
        "p-sc",
        "p-class-local",
    ] {
        assert!(
            policy(unenforced).matches_nothing,
            "{unenforced}: {:?}",
            policy(unenforced)
        );
    }
    assert!(policy("p-foreign").reason.contains("not bound"));
    // The sidecar workload's Service is bound, but sidecars ignore targetRefs.
    assert!(applies("p-sc").is_empty());
    // A policy on the waypoint itself covers what the waypoint serves.
    assert_eq!(applies("p-gateway"), vec!["amb/Deployment/bound"]);
    assert_eq!(applies("p-class"), vec!["amb/Deployment/bound"]);
    assert_eq!(
        workload(&m, "amb/Deployment/bound").waypoint.as_deref(),
        Some("amb/wp")
    );
    assert_eq!(workload(&m, "amb/Deployment/optout").waypoint, None);
}

#[test]
fn a_gateway_target_is_enforced_by_the_pods_istio_deploys() {
    // Istio creates the Deployment of a Gateway API Gateway itself
    // (pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go): manifests hold
    // the Gateway, not its pods, and the policy still applies in the cluster.
    let yaml = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: edge, namespace: web}\nspec:\n  gatewayClassName: istio\n  listeners: [{name: http, port: 80, protocol: HTTP}]\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: edge-jwt, namespace: web}\nspec:\n  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: edge}]\n  action: DENY\n  rules: [{from: [{source: {notRequestPrincipals: [\"*\"]}}]}]\n---\napiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: typo, namespace: web}\nspec:\n  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: edgy}]\n  action: DENY\n  rules: [{}]\n";
    let m = mesh(yaml);
    let policy = |name: &str| m.policies.iter().find(|p| p.target.name == name).unwrap();
    assert!(
        !policy("edge-jwt").matches_nothing,
        "{:?}",
        policy("edge-jwt")
    );
    // A Gateway that does not exist protects nothing.
    assert!(policy("typo").matches_nothing);
}

#[test]
fn port_level_mtls_on_a_port_nobody_listens_on_opens_nothing() {
    // authentication.go keys per-port chains by the workload's target ports.
    let yaml = format!(
        "{NS}{}{}",
        deploy("app", "web", "{app: web}"),
        pa("app", "web", "  selector:\n    matchLabels:\n      app: web\n  mtls:\n    mode: STRICT\n  portLevelMtls:\n    80:\n      mode: DISABLE\n    8080:\n      mode: PERMISSIVE", "2026-01-01T00:00:00Z"),
    );
    let m = mesh(&yaml);
    let ports: Vec<(u32, MtlsMode)> = workload(&m, "app/Deployment/web")
        .mtls
        .ports
        .iter()
        .map(|p| (p.port, p.mode))
        .collect();
    // 80 is a Service port, not a container port: only 8080 is real.
    assert_eq!(ports, vec![(8080, MtlsMode::Permissive)]);
}

#[test]
fn a_ztunnel_pod_is_a_node_proxy_not_a_sidecar() {
    // manifests/charts/ztunnel/templates/daemonset.yaml names ztunnel's container
    // istio-proxy; only the image tells it from an injected sidecar.
    let pod = |name: &str, image: &str| {
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: istio-system\n  labels: {{app: {name}}}\nspec:\n  containers:\n  - name: istio-proxy\n    image: {image}\nstatus:\n  phase: Running\n---\n")
    };
    let m = mesh(&format!(
        "{}{}",
        pod("ztunnel", "docker.io/istio/ztunnel:1.27.3@sha256:abc"),
        pod("gateway", "docker.io/istio/proxyv2:1.27.3")
    ));
    let z = workload(&m, "istio-system/Pod/ztunnel");
    assert_eq!(
        z.enrollment.dataplane,
        Dataplane::None,
        "{}",
        z.enrollment.reason
    );
    assert!(z.pods_seen[0].running && !z.pods_seen[0].has_proxy);
    let g = workload(&m, "istio-system/Pod/gateway");
    assert_eq!(g.enrollment.dataplane, Dataplane::Sidecar);
}

#[test]
fn waypoints_take_authorization_only_through_target_refs() {
    // pilot/pkg/model/policyattachment.go `ShouldAttachPolicy`: a waypoint
    // never takes a selector, namespace or mesh AuthorizationPolicy or
    // RequestAuthentication; a Gateway API gateway that is not a waypoint does
    // (ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY defaults to true).
    let yaml = format!(
        "{NS}apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: waypoint\n  namespace: app\nspec:\n  gatewayClassName: istio-waypoint\n---\n{}{}{}{}{}{}{}",
        deploy("app", "web", "{app: web}"),
        deploy(
            "app",
            "waypoint",
            "{gateway.networking.k8s.io/gateway-name: waypoint, gateway.istio.io/managed: istio.io-mesh-controller}"
        ),
        deploy(
            "app",
            "edge-istio",
            "{gateway.networking.k8s.io/gateway-name: edge, gateway.istio.io/managed: istio.io-gateway-controller}"
        ),
        ap("app", "ns-wide", "  action: DENY\n  rules:\n  - to:\n    - operation:\n        paths: [/admin]"),
        ap(
            "app",
            "waypoint-by-selector",
            "  selector:\n    matchLabels:\n      gateway.networking.k8s.io/gateway-name: waypoint\n  rules:\n  - {}"
        ),
        ap(
            "app",
            "edge-by-selector",
            "  selector:\n    matchLabels:\n      gateway.networking.k8s.io/gateway-name: edge\n  rules:\n  - {}"
        ),
        ap(
            "app",
            "waypoint-by-ref",
            "  targetRefs:\n  - kind: Gateway\n    group: gateway.networking.k8s.io\n    name: waypoint\n  rules:\n  - {}"
        ),
    );
    let m = mesh(&yaml);
    let policy = |name: &str| m.policies.iter().find(|p| p.target.name == name).unwrap();
    assert_eq!(
        policy("ns-wide").workloads,
        vec!["app/Deployment/edge-istio", "app/Deployment/web"],
        "{}",
        policy("ns-wide").reason
    );
    assert!(policy("ns-wide").reason.contains("waypoints ignore it"));
    let by_selector = policy("waypoint-by-selector");
    assert!(by_selector.workloads.is_empty());
    assert!(by_selector.matches_nothing, "{}", by_selector.reason);
    assert_eq!(
        policy("edge-by-selector").workloads,
        vec!["app/Deployment/edge-istio"]
    );
    assert!(
        workload(&m, "app/Deployment/waypoint")
            .authorization_policies
            .iter()
            .all(|p| p.name != "ns-wide" && p.name != "waypoint-by-selector"),
        "{:?}",
        workload(&m, "app/Deployment/waypoint").authorization_policies
    );
}

#[test]
fn a_sidecar_resource_has_no_impact_on_ambient_workloads() {
    // istioctl IST0167 (pkg/config/analysis/analyzers/sidecar/selector.go):
    // an ambient pod has no sidecar proxy for a Sidecar resource to configure.
    let sidecar = |ns: &str, name: &str, spec: &str| {
        format!("apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n{spec}\n---\n")
    };
    let egress = "  egress:\n  - hosts: [\"./*\"]";
    let yaml = format!(
        "{}{}{}{}{}{}{}",
        namespace("ambient", "{istio.io/dataplane-mode: ambient}"),
        namespace("mixed", "{istio-injection: enabled}"),
        deploy("ambient", "api", "{app: api}"),
        deploy("mixed", "web", "{app: web}"),
        deploy(
            "mixed",
            "batch",
            "{app: batch, istio.io/dataplane-mode: ambient, sidecar.istio.io/inject: \"false\"}"
        ),
        sidecar("ambient", "default", egress),
        sidecar(
            "ambient",
            "api-only",
            &format!("  workloadSelector:\n    labels:\n      app: api\n{egress}")
        ),
    ) + &sidecar("mixed", "default", egress);
    let m = mesh(&yaml);
    let policy = |ns: &str, name: &str| {
        m.policies
            .iter()
            .find(|p| p.target.namespace == ns && p.target.name == name)
            .unwrap()
    };
    for name in ["default", "api-only"] {
        let p = policy("ambient", name);
        assert!(p.workloads.is_empty(), "{name}: {:?}", p.workloads);
        assert!(p.matches_nothing, "{name}: {}", p.reason);
        assert!(p.reason.contains("no impact"), "{}", p.reason);
    }
    let mixed = policy("mixed", "default");
    assert_eq!(
        mixed.workloads,
        vec!["mixed/Deployment/web"],
        "{}",
        mixed.reason
    );
    assert!(!mixed.matches_nothing);
}

#[test]
fn a_running_ambient_pod_without_the_cni_mark_is_not_captured() {
    // istio-cni annotates every pod it redirects (`ambient.istio.io/redirection:
    // enabled`; istioctl's PodInAmbientMode reads it): a running pod without
    // it is outside the mesh, a pending one is still only what it asks for.
    let pod = |name: &str, annotations: &str, phase: &str| {
        format!("apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: amb\n  labels: {{app: {name}}}\n  annotations: {annotations}\nspec:\n  containers:\n  - name: app\n    image: app\nstatus:\n  phase: {phase}\n---\n")
    };
    let m = mesh(&format!(
        "{}{}{}{}{}",
        namespace("amb", "{istio.io/dataplane-mode: ambient}"),
        namespace(
            "both",
            "{istio.io/dataplane-mode: ambient, istio-injection: enabled}"
        ),
        pod(
            "captured",
            "{ambient.istio.io/redirection: enabled}",
            "Running"
        ),
        pod("missed", "{}", "Running"),
        pod("starting", "{}", "Pending"),
    ));
    let e = |id: &str| &workload(&m, id).enrollment;
    assert_eq!(e("amb/Pod/captured").dataplane, Dataplane::Ambient);
    assert_eq!(e("amb/Pod/missed").dataplane, Dataplane::None);
    assert_eq!(e("amb/Pod/missed").confidence, Confidence::Verified);
    assert!(e("amb/Pod/missed")
        .reason
        .contains("not redirected to ztunnel"));
    assert_eq!(e("amb/Pod/starting").dataplane, Dataplane::Ambient);
    // An injection label beside the ambient one: pods get sidecars.
    let both = m.namespaces.iter().find(|n| n.name == "both").unwrap();
    assert_eq!(both.enrollment.dataplane, Dataplane::Sidecar);
}

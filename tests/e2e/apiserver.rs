//! A loopback Kubernetes API server for tests: HTTPS (rcgen CA), bearer-token
//! auth, discovery, paginated lists across or within namespaces, Table
//! responses for `kubectl get`, and configurable 403s. It serves recorded
//! objects from YAML fixtures. The real kubectl is run against it in tests.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request, StatusCode, Uri};
use axum::response::Response;
use base64::Engine as _;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

/// A served resource type.
#[derive(Clone)]
struct Resource {
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
}

const fn res(
    group: &'static str,
    version: &'static str,
    kind: &'static str,
    plural: &'static str,
    namespaced: bool,
) -> Resource {
    Resource {
        group,
        version,
        kind,
        plural,
        namespaced,
    }
}

/// What a real cluster with Istio serves (a subset that covers kridik's kinds).
const CATALOG: &[Resource] = &[
    res("", "v1", "Namespace", "namespaces", false),
    res("", "v1", "Pod", "pods", true),
    res("", "v1", "Service", "services", true),
    res("", "v1", "ConfigMap", "configmaps", true),
    res("", "v1", "Secret", "secrets", true),
    res("", "v1", "ServiceAccount", "serviceaccounts", true),
    res("apps", "v1", "Deployment", "deployments", true),
    res("apps", "v1", "StatefulSet", "statefulsets", true),
    res("apps", "v1", "DaemonSet", "daemonsets", true),
    res("apps", "v1", "ReplicaSet", "replicasets", true),
    res("batch", "v1", "Job", "jobs", true),
    res("batch", "v1", "CronJob", "cronjobs", true),
    res(
        "admissionregistration.k8s.io",
        "v1",
        "MutatingWebhookConfiguration",
        "mutatingwebhookconfigurations",
        false,
    ),
    res(
        "security.istio.io",
        "v1",
        "PeerAuthentication",
        "peerauthentications",
        true,
    ),
    res(
        "security.istio.io",
        "v1",
        "AuthorizationPolicy",
        "authorizationpolicies",
        true,
    ),
    res(
        "security.istio.io",
        "v1",
        "RequestAuthentication",
        "requestauthentications",
        true,
    ),
    res("networking.istio.io", "v1", "Sidecar", "sidecars", true),
    res("networking.istio.io", "v1", "Gateway", "gateways", true),
    res(
        "networking.istio.io",
        "v1",
        "DestinationRule",
        "destinationrules",
        true,
    ),
    res(
        "networking.istio.io",
        "v1",
        "ServiceEntry",
        "serviceentries",
        true,
    ),
    res(
        "networking.istio.io",
        "v1",
        "VirtualService",
        "virtualservices",
        true,
    ),
    res(
        "gateway.networking.k8s.io",
        "v1",
        "Gateway",
        "gateways",
        true,
    ),
    res(
        "networking.k8s.io",
        "v1",
        "NetworkPolicy",
        "networkpolicies",
        true,
    ),
    res("rbac.authorization.k8s.io", "v1", "Role", "roles", true),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "RoleBinding",
        "rolebindings",
        true,
    ),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRole",
        "clusterroles",
        false,
    ),
    res(
        "rbac.authorization.k8s.io",
        "v1",
        "ClusterRoleBinding",
        "clusterrolebindings",
        false,
    ),
    // What `--write-reports` writes (server-side apply; see `write`).
    res(
        "wgpolicyk8s.io",
        "v1alpha2",
        "PolicyReport",
        "policyreports",
        true,
    ),
    res(
        "wgpolicyk8s.io",
        "v1alpha2",
        "ClusterPolicyReport",
        "clusterpolicyreports",
        false,
    ),
];

/// Plurals clients may write (PATCH as server-side apply, DELETE).
const WRITABLE: &[&str] = &["policyreports", "clusterpolicyreports"];

#[derive(Default, Clone)]
pub struct Config {
    /// Plurals whose list returns 403.
    pub forbidden: BTreeSet<String>,
    /// When set, a role: only these `group/plural` (core group empty, so
    /// `/pods`) may be listed, and `namespace:group/plural` only in that
    /// namespace (a Role); everything else is 403.
    pub allowed: Option<BTreeSet<String>>,
    /// API groups not served at all (as if the CRDs were not installed).
    pub absent_groups: BTreeSet<String>,
    /// API groups whose discovery answers 500.
    pub failing_groups: BTreeSet<String>,
    /// Plurals whose list misbehaves.
    pub faults: BTreeMap<String, Fault>,
    /// What a port-forward to a pod's admin port (15000) finds, by `namespace/pod`.
    /// A pod not listed refuses the connection, as a pod without a proxy does.
    pub admin: BTreeMap<String, Admin>,
}

/// How a pod's admin port answers through a port-forward.
#[derive(Clone, Debug)]
pub enum Admin {
    /// `GET /config_dump...` answers this JSON (ECDS requests answer 404).
    Dump(Vec<u8>),
    /// The same, but the admin closes the connection after each answer.
    DumpThenClose(Vec<u8>),
    /// The port accepts the connection and never answers.
    Hang,
    /// The kubelet cannot connect: an error on the port's error channel.
    Refused,
    /// Something that is not an admin answers (HTML).
    Garbage,
    /// The port-forward itself is forbidden (403 before the upgrade).
    Forbidden,
}

/// How a list request misbehaves (fault injection for the live path).
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// The JSON body cut in half.
    Truncated,
    /// An HTML error page with status 200, as some proxies send.
    Html,
    /// 500 Internal Server Error.
    ServerError,
    /// 410 Gone (an expired continue token).
    Gone,
    /// Never answers.
    Hang,
    /// Empty pages, each with a new continue token, forever.
    EndlessContinue,
    /// The same continue token on every page.
    RepeatedContinue,
}

struct Shared {
    token: String,
    config: Config,
    /// Objects by plural, in creation order.
    objects: std::sync::Mutex<BTreeMap<String, Vec<Value>>>,
    /// Every write: `METHOD path?query content-type`.
    writes: std::sync::Mutex<Vec<String>>,
    /// Every request line sent through a port-forward: `namespace/pod GET /path`.
    forwarded: std::sync::Mutex<Vec<String>>,
    /// Port-forwards opened, by `namespace/pod`.
    forwards: std::sync::Mutex<BTreeMap<String, usize>>,
    pub requests: AtomicUsize,
    pub continued: AtomicUsize,
}

pub struct ApiServer {
    pub addr: SocketAddr,
    pub ca_pem: String,
    pub token: String,
    shared: Arc<Shared>,
    _runtime: tokio::runtime::Runtime,
}

impl ApiServer {
    /// Serves every object in the YAML files under `dirs`.
    pub fn start(dirs: &[PathBuf], config: Config) -> ApiServer {
        let objects = load(dirs);
        let token = "kridik-test-token".to_string();
        let shared = Arc::new(Shared {
            token: token.clone(),
            config,
            objects: std::sync::Mutex::new(objects),
            writes: std::sync::Mutex::new(Vec::new()),
            forwarded: std::sync::Mutex::new(Vec::new()),
            forwards: std::sync::Mutex::new(BTreeMap::new()),
            requests: AtomicUsize::new(0),
            continued: AtomicUsize::new(0),
        });

        let ca_key = rcgen::KeyPair::generate().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "kridik test CA");
        let ca_cert = ca_params.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca_params, ca_key);
        let server_key = rcgen::KeyPair::generate().unwrap();
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress("127.0.0.1".parse().unwrap()));
        let server_cert = params.signed_by(&server_key, &issuer).unwrap();

        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![server_cert.der().clone(), ca_cert.der().clone()],
                rustls::pki_types::PrivateKeyDer::Pkcs8(server_key.serialize_der().into()),
            )
            .unwrap();
        let mut tls = tls;
        tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(shared.clone());
        runtime.spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let (acceptor, app) = (acceptor.clone(), app.clone());
                tokio::spawn(async move {
                    let Ok(stream) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper_util::server::conn::auto::Builder::new(
                        hyper_util::rt::TokioExecutor::new(),
                    )
                    .serve_connection_with_upgrades(hyper_util::rt::TokioIo::new(stream), service)
                    .await;
                });
            }
        });
        ApiServer {
            addr,
            ca_pem: ca_cert.pem(),
            token,
            shared,
            _runtime: runtime,
        }
    }

    pub fn url(&self) -> String {
        format!("https://127.0.0.1:{}", self.addr.port())
    }

    /// A kubeconfig for this server (context `harness`), written into `dir`.
    pub fn kubeconfig(&self, dir: &Path, token: Option<&str>) -> PathBuf {
        let ca = base64::engine::general_purpose::STANDARD.encode(&self.ca_pem);
        let text = format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: harness\nclusters:\n- name: harness\n  cluster:\n    server: {}\n    certificate-authority-data: {ca}\ncontexts:\n- name: harness\n  context:\n    cluster: harness\n    user: scanner\nusers:\n- name: scanner\n  user:\n    token: {}\n",
            self.url(),
            token.unwrap_or(&self.token)
        );
        let path = dir.join("kubeconfig");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Every write request so far: `METHOD path?query content-type`.
    pub fn writes(&self) -> Vec<String> {
        self.shared.writes.lock().unwrap().clone()
    }

    /// Request lines sent to pods through port-forwards: `namespace/pod GET /path`.
    pub fn forwarded(&self) -> Vec<String> {
        self.shared.forwarded.lock().unwrap().clone()
    }

    /// Port-forwards opened so far, by `namespace/pod`.
    pub fn forwards(&self) -> BTreeMap<String, usize> {
        self.shared.forwards.lock().unwrap().clone()
    }

    /// List requests that carried a continue token.
    pub fn continued(&self) -> usize {
        self.shared.continued.load(Ordering::Relaxed)
    }
}

fn load(dirs: &[PathBuf]) -> BTreeMap<String, Vec<Value>> {
    let mut objects: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    let mut files = Vec::new();
    for d in dirs {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(d)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .collect();
        entries.sort();
        files.extend(
            entries
                .into_iter()
                .filter(|p| p.extension().is_some_and(|e| e == "yaml")),
        );
    }
    let mut serial = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for doc in serde_norway::Deserializer::from_str(&text) {
            let Ok(mut v) = <Value as serde::Deserialize>::deserialize(doc) else {
                continue;
            };
            let Some(kind) = v["kind"].as_str().map(str::to_string) else {
                continue;
            };
            let Some(r) = CATALOG.iter().find(|r| r.kind == kind) else {
                continue;
            };
            serial += 1;
            // What the API server adds to every object.
            let meta = v["metadata"].as_object_mut().unwrap();
            if r.namespaced && !meta.contains_key("namespace") {
                meta.insert("namespace".into(), "default".into());
            }
            meta.entry("uid")
                .or_insert_with(|| format!("00000000-0000-4000-8000-{serial:012}").into());
            meta.entry("resourceVersion")
                .or_insert_with(|| (1000 + serial).to_string().into());
            meta.entry("creationTimestamp").or_insert_with(|| {
                format!("2026-11-01T10:{:02}:{:02}Z", serial / 60, serial % 60).into()
            });
            objects.entry(r.plural.to_string()).or_default().push(v);
        }
    }
    objects
}

fn json_response(status: StatusCode, body: Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn status(code: StatusCode, reason: &str, message: String) -> Response {
    json_response(
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure", "message": message, "reason": reason, "code": code.as_u16()}),
    )
}

fn served(shared: &Shared) -> impl Iterator<Item = &'static Resource> + '_ {
    CATALOG
        .iter()
        .filter(|r| !shared.config.absent_groups.contains(r.group))
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request<Body>) -> Response {
    shared.requests.fetch_add(1, Ordering::Relaxed);
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default();
    if auth != format!("Bearer {}", shared.token) {
        return status(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "Unauthorized".into(),
        );
    }
    let uri = req.uri().clone();
    let headers = req.headers().clone();
    let method = req.method().clone();
    if let ["api", "v1", "namespaces", ns, "pods", pod, "portforward"] = uri
        .path()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .as_slice()
    {
        return port_forward(&shared, &format!("{ns}/{pod}"), req);
    }
    if method != axum::http::Method::GET {
        let body = axum::body::to_bytes(req.into_body(), 8 << 20)
            .await
            .unwrap_or_default();
        return write(&shared, &method, &uri, &headers, &body);
    }
    let hang = shared.config.faults.iter().any(|(plural, f)| {
        matches!(f, Fault::Hang)
            && uri
                .path()
                .trim_end_matches('/')
                .ends_with(&format!("/{plural}"))
    });
    if hang {
        tokio::time::sleep(std::time::Duration::from_secs(600)).await;
    }
    route(&shared, &uri, &headers)
}

fn route(shared: &Shared, uri: &Uri, headers: &HeaderMap) -> Response {
    let path = uri.path().trim_end_matches('/');
    let query: BTreeMap<String, String> = uri
        .query()
        .unwrap_or_default()
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (k.to_string(), percent_decode(v)))
        .collect();
    let seg: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    match seg.as_slice() {
        ["version"] => json_response(
            StatusCode::OK,
            json!({"major": "1", "minor": "32", "gitVersion": "v1.32.0", "platform": "linux/amd64"}),
        ),
        ["api"] => json_response(
            StatusCode::OK,
            json!({"kind": "APIVersions", "versions": ["v1"], "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}]}),
        ),
        ["apis"] => {
            let groups: BTreeSet<(&str, &str)> = served(shared)
                .filter(|r| !r.group.is_empty())
                .map(|r| (r.group, r.version))
                .collect();
            let groups: Vec<Value> = groups
                .iter()
                .map(|(g, v)| {
                    let gv = json!({"groupVersion": format!("{g}/{v}"), "version": v});
                    json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
                })
                .collect();
            json_response(
                StatusCode::OK,
                json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}),
            )
        }
        ["api", "v1"] => resource_list(shared, "", "v1"),
        ["apis", g, v] => resource_list(shared, g, v),
        ["api", "v1", rest @ ..] => objects(shared, "", rest, &query, headers),
        ["apis", g, _v, rest @ ..] => objects(shared, g, rest, &query, headers),
        _ => status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        ),
    }
}

/// PATCH as server-side apply (`application/apply-patch+yaml` with a field
/// manager, as kubectl and kube-rs send it; the object replaces the stored
/// one) and DELETE, on the report kinds only.
fn write(
    shared: &Shared,
    method: &axum::http::Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let content_type = headers
        .get("content-type")
        .and_then(|c| c.to_str().ok())
        .unwrap_or_default()
        .to_string();
    shared.writes.lock().unwrap().push(format!(
        "{method} {}?{} {content_type}",
        uri.path(),
        uri.query().unwrap_or_default()
    ));
    let seg: Vec<&str> = uri.path().split('/').filter(|s| !s.is_empty()).collect();
    let (namespace, plural, name) = match seg.as_slice() {
        ["apis", _, _, "namespaces", ns, plural, name] => (Some(*ns), *plural, *name),
        ["apis", _, _, plural, name] => (None, *plural, *name),
        _ => {
            return status(
                StatusCode::METHOD_NOT_ALLOWED,
                "MethodNotAllowed",
                format!("{method} {}", uri.path()),
            )
        }
    };
    if !WRITABLE.contains(&plural) {
        return status(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowed",
            format!("{plural} is read-only here"),
        );
    }
    if shared.config.forbidden.contains(plural) {
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("{plural}.wgpolicyk8s.io \"{name}\" is forbidden: User \"system:serviceaccount:kridik:scanner\" cannot patch resource \"{plural}\" in API group \"wgpolicyk8s.io\""),
        );
    }
    let same = |o: &Value| {
        o["metadata"]["name"] == name && namespace.is_none_or(|ns| o["metadata"]["namespace"] == ns)
    };
    let mut objects = shared.objects.lock().unwrap();
    let stored = objects.entry(plural.to_string()).or_default();
    if method == axum::http::Method::DELETE {
        let before = stored.len();
        stored.retain(|o| !same(o));
        return if stored.len() < before {
            json_response(
                StatusCode::OK,
                json!({"kind": "Status", "apiVersion": "v1", "status": "Success"}),
            )
        } else {
            status(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{plural} \"{name}\" not found"),
            )
        };
    }
    let query = uri.query().unwrap_or_default();
    if method != axum::http::Method::PATCH
        || content_type != "application/apply-patch+yaml"
        || !query.contains("fieldManager=")
    {
        return status(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaType",
            format!("only server-side apply is served here, not {method} {content_type}"),
        );
    }
    let Ok(object) = serde_norway::from_slice::<Value>(body) else {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the body is not YAML or JSON".into(),
        );
    };
    if !same(&object) {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "the body names another object".into(),
        );
    }
    stored.retain(|o| !same(o));
    stored.push(object.clone());
    json_response(StatusCode::OK, object)
}

/// The pod port-forward as the API server serves it to kube-rs and kubectl
/// over WebSocket (`v4.channel.k8s.io`): per port a data channel (0) and an
/// error channel (1), each opened by a frame holding the port (little
/// endian), then frames prefixed by their channel byte
/// (k8s.io/apiserver/pkg/util/wsstream, kube-client src/api/portforward.rs).
fn port_forward(shared: &Arc<Shared>, pod: &str, mut req: Request<Body>) -> Response {
    let admin = shared
        .config
        .admin
        .get(pod)
        .cloned()
        .unwrap_or(Admin::Refused);
    if let Admin::Forbidden = admin {
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("pods \"{}\" is forbidden: User \"system:serviceaccount:kridik:scanner\" cannot create resource \"pods/portforward\" in API group \"\"", pod.split('/').nth(1).unwrap_or_default()),
        );
    }
    let port: u16 = req
        .uri()
        .query()
        .unwrap_or_default()
        .split('&')
        .find_map(|kv| kv.strip_prefix("ports="))
        .and_then(|p| p.parse().ok())
        .unwrap_or(0);
    let Some(key) = req.headers().get("sec-websocket-key").cloned() else {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "not a WebSocket upgrade".into(),
        );
    };
    let offered = req
        .headers()
        .get("sec-websocket-protocol")
        .and_then(|p| p.to_str().ok())
        .unwrap_or_default()
        .to_string();
    if !offered.split(',').any(|p| p.trim() == "v4.channel.k8s.io") {
        return status(
            StatusCode::BAD_REQUEST,
            "BadRequest",
            format!("unsupported subprotocols {offered}"),
        );
    }
    let upgrade = hyper::upgrade::on(&mut req);
    let shared = shared.clone();
    let pod = pod.to_string();
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else {
            return;
        };
        let ws = tokio_tungstenite::WebSocketStream::from_raw_socket(
            hyper_util::rt::TokioIo::new(upgraded),
            tokio_tungstenite::tungstenite::protocol::Role::Server,
            None,
        )
        .await;
        serve_forward(ws, &shared, &pod, port, admin).await;
    });
    Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header("upgrade", "websocket")
        .header("connection", "Upgrade")
        .header(
            "sec-websocket-accept",
            tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes()),
        )
        .header("sec-websocket-protocol", "v4.channel.k8s.io")
        .body(Body::empty())
        .unwrap()
}

async fn serve_forward<S>(
    mut ws: tokio_tungstenite::WebSocketStream<S>,
    shared: &Shared,
    pod: &str,
    port: u16,
    admin: Admin,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    use futures::{SinkExt, StreamExt};
    use tokio_tungstenite::tungstenite::Message;
    let frame = |channel: u8, data: &[u8]| {
        let mut b = vec![channel];
        b.extend_from_slice(data);
        Message::binary(b)
    };
    for channel in [0, 1] {
        if ws.send(frame(channel, &port.to_le_bytes())).await.is_err() {
            return;
        }
    }
    if let Admin::Refused = admin {
        let message = format!("error forwarding port {port} to pod {pod}, uid : failed to execute portforward in network namespace: failed to connect to localhost:{port} inside namespace: connection refused");
        let _ = ws.send(frame(1, message.as_bytes())).await;
        // Close once the client has sent its request (or after a moment):
        // closing at once raced the client's first write, and kube's forwarder
        // gives up on a failed write before it reads the error already sent.
        let _ = tokio::time::timeout(std::time::Duration::from_secs(2), ws.next()).await;
        let _ = ws.close(None).await;
        return;
    }
    shared
        .forwards
        .lock()
        .unwrap()
        .entry(pod.to_string())
        .and_modify(|n| *n += 1)
        .or_insert(1);
    // Requests on channel 0, one after another on the same connection (the
    // admin keeps connections alive), until the client closes it.
    let mut pending: Vec<u8> = Vec::new();
    loop {
        let end = loop {
            if let Some(i) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match ws.next().await {
                Some(Ok(Message::Binary(b))) if b.first() == Some(&0) => {
                    pending.extend_from_slice(&b[1..])
                }
                Some(Ok(m)) if m.is_close() => return,
                Some(Ok(_)) => {}
                _ => return,
            }
        };
        let head: Vec<u8> = pending.drain(..end).collect();
        let text = String::from_utf8_lossy(&head).to_string();
        let line = text.lines().next().unwrap_or_default().to_string();
        shared
            .forwarded
            .lock()
            .unwrap()
            .push(format!("{pod} {}", line.trim_end_matches(" HTTP/1.1")));
        let path = line.split(' ').nth(1).unwrap_or_default();
        let (code, body): (&str, Vec<u8>) = match &admin {
            Admin::Hang => {
                tokio::time::sleep(std::time::Duration::from_secs(600)).await;
                return;
            }
            Admin::Garbage => ("200 OK", b"<html><body>It works!</body></html>".to_vec()),
            Admin::Dump(bytes) | Admin::DumpThenClose(bytes) => match admin_resource(bytes, path) {
                Some(body) => ("200 OK", body),
                None => ("404 Not Found", b"unknown resource".to_vec()),
            },
            Admin::Refused | Admin::Forbidden => unreachable!(),
        };
        let mut response = format!(
            "HTTP/1.1 {code}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        response.extend_from_slice(&body);
        // In frames of at most 32 KiB, as the kubelet relays a TCP stream.
        for chunk in response.chunks(32 << 10) {
            if ws.send(frame(0, chunk)).await.is_err() {
                return;
            }
        }
        if let Admin::DumpThenClose(_) = admin {
            let _ = ws.close(None).await;
            return;
        }
    }
}

/// Envoy's `/config_dump?resource=R`: only the items of that resource type
/// (`dynamic_listeners`, `dynamic_active_clusters`, ...); None (404) when the
/// dump has none, as Envoy answers for a resource it does not hold. Without
/// `resource`, the whole dump (ztunnel's, or an Envoy dump as recorded).
fn admin_resource(dump: &[u8], path: &str) -> Option<Vec<u8>> {
    let Some(resource) = path
        .split_once('?')
        .and_then(|(_, q)| q.split('&').find_map(|kv| kv.strip_prefix("resource=")))
    else {
        return Some(dump.to_vec());
    };
    let suffix = match resource {
        "dynamic_listeners" => "ListenersConfigDump.DynamicListener",
        "dynamic_active_clusters" => "ClustersConfigDump.DynamicCluster",
        "ecds_filters" => "EcdsConfigDump.EcdsFilterConfig",
        _ => return None,
    };
    let all: Value = serde_json::from_slice(dump).ok()?;
    let items: Vec<Value> = all["configs"]
        .as_array()?
        .iter()
        .filter(|c| c["@type"].as_str().is_some_and(|t| t.ends_with(suffix)))
        .cloned()
        .collect();
    (!items.is_empty()).then(|| json!({ "configs": items }).to_string().into_bytes())
}

fn resource_list(shared: &Shared, group: &str, version: &str) -> Response {
    if shared.config.failing_groups.contains(group) {
        return status(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            format!("discovery of {group} failed"),
        );
    }
    let resources: Vec<Value> = served(shared)
        .filter(|r| r.group == group && r.version == version)
        .map(|r| {
            json!({"name": r.plural, "singularName": r.kind.to_lowercase(), "namespaced": r.namespaced, "kind": r.kind,
                   "verbs": ["get", "list", "watch"]})
        })
        .collect();
    if resources.is_empty() {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("no group {group}/{version}"),
        );
    }
    let gv = if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    };
    json_response(
        StatusCode::OK,
        json!({"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": gv, "resources": resources}),
    )
}

fn objects(
    shared: &Shared,
    group: &str,
    rest: &[&str],
    query: &BTreeMap<String, String>,
    headers: &HeaderMap,
) -> Response {
    // [plural] | [plural, name] | [namespaces, ns, plural] | [namespaces, ns, plural, name]
    let (namespace, plural, name) = match rest {
        ["namespaces", ns, plural] => (Some(*ns), *plural, None),
        ["namespaces", ns, plural, name] => (Some(*ns), *plural, Some(*name)),
        [plural] => (None, *plural, None),
        [plural, name] => (None, *plural, Some(*name)),
        _ => return status(StatusCode::NOT_FOUND, "NotFound", "not found".into()),
    };
    let Some(r) = served(shared).find(|r| r.group == group && r.plural == plural) else {
        return status(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("the server could not find the requested resource ({plural})"),
        );
    };
    // A ClusterRole grants `group/plural` everywhere; a Role `ns:group/plural` in its namespace only.
    let outside_role = shared.config.allowed.as_ref().is_some_and(|a| {
        let gp = format!("{group}/{plural}");
        !a.contains(&gp) && !namespace.is_some_and(|ns| a.contains(&format!("{ns}:{gp}")))
    });
    if shared.config.forbidden.contains(plural) || outside_role {
        let gr = if group.is_empty() {
            plural.to_string()
        } else {
            format!("{plural}.{group}")
        };
        let scope = match namespace {
            Some(ns) => format!("in the namespace \"{ns}\""),
            None => "at the cluster scope".to_string(),
        };
        return status(
            StatusCode::FORBIDDEN,
            "Forbidden",
            format!("{gr} is forbidden: User \"system:serviceaccount:kridik:scanner\" cannot list resource \"{plural}\" in API group \"{group}\" {scope}"),
        );
    }
    match shared.config.faults.get(plural) {
        Some(Fault::ServerError) => {
            return status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "etcd is unhappy".into(),
            )
        }
        Some(Fault::Gone) => {
            return status(
                StatusCode::GONE,
                "Expired",
                "the provided continue parameter is too old".into(),
            )
        }
        Some(Fault::Html) => {
            return Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "text/html")
                .body(Body::from(
                    "<html><body><h1>502 Bad Gateway</h1></body></html>",
                ))
                .unwrap()
        }
        Some(Fault::EndlessContinue) => {
            let next = query
                .get("continue")
                .and_then(|c| c.parse::<u64>().ok())
                .unwrap_or(0)
                + 1;
            return json_response(
                StatusCode::OK,
                json!({"kind": format!("{}List", r.kind), "apiVersion": "v1", "metadata": {"continue": next.to_string()}, "items": []}),
            );
        }
        Some(Fault::RepeatedContinue) => {
            return json_response(
                StatusCode::OK,
                json!({"kind": format!("{}List", r.kind), "apiVersion": "v1", "metadata": {"continue": "again"}, "items": [shared.objects.lock().unwrap().get(plural).and_then(|o| o.first()).cloned().unwrap_or(json!({}))]}),
            );
        }
        _ => {}
    }
    let all = shared
        .objects
        .lock()
        .unwrap()
        .get(plural)
        .cloned()
        .unwrap_or_default();
    let mut items: Vec<Value> = all
        .into_iter()
        .filter(|o| namespace.is_none_or(|ns| o["metadata"]["namespace"] == ns))
        .collect();
    if let Some(name) = name {
        return match items.into_iter().find(|o| o["metadata"]["name"] == name) {
            Some(o) => json_response(StatusCode::OK, o),
            None => status(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{plural} \"{name}\" not found"),
            ),
        };
    }
    let offset: usize = query
        .get("continue")
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    if offset > 0 {
        shared.continued.fetch_add(1, Ordering::Relaxed);
    }
    let limit: usize = query
        .get("limit")
        .and_then(|l| l.parse().ok())
        .filter(|l| *l > 0)
        .unwrap_or(usize::MAX);
    let total = items.len();
    let page: Vec<Value> = items.drain(..).skip(offset).take(limit).collect();
    let next = offset + page.len();
    let mut meta = json!({"resourceVersion": "5000"});
    if next < total {
        meta["continue"] = next.to_string().into();
        meta["remainingItemCount"] = (total - next).into();
    }
    let accept = headers
        .get("accept")
        .and_then(|a| a.to_str().ok())
        .unwrap_or_default();
    if accept.contains("as=Table") {
        return json_response(StatusCode::OK, table(r, &page, meta));
    }
    // Real list responses omit apiVersion and kind on items.
    let items: Vec<Value> = page
        .into_iter()
        .map(|mut o| {
            let m = o.as_object_mut().unwrap();
            m.remove("apiVersion");
            m.remove("kind");
            o
        })
        .collect();
    let api_version = if r.group.is_empty() {
        r.version.to_string()
    } else {
        format!("{}/{}", r.group, r.version)
    };
    let body = json!({"kind": format!("{}List", r.kind), "apiVersion": api_version, "metadata": meta, "items": items});
    if let Some(Fault::Truncated) = shared.config.faults.get(plural) {
        let text = body.to_string();
        return Response::builder()
            .status(StatusCode::OK)
            .header("content-type", "application/json")
            .body(Body::from(text[..text.len() / 2].to_string()))
            .unwrap();
    }
    json_response(StatusCode::OK, body)
}

/// The meta.k8s.io/v1 Table kubectl asks for when printing.
fn table(r: &Resource, page: &[Value], meta: Value) -> Value {
    let rows: Vec<Value> = page
        .iter()
        .map(|o| {
            let name = o["metadata"]["name"].clone();
            json!({"cells": [name, "25d"], "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": o["metadata"]}})
        })
        .collect();
    let _ = r;
    json!({
        "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": meta,
        "columnDefinitions": [
            {"name": "Name", "type": "string", "format": "name", "description": "Name of the object", "priority": 0},
            {"name": "Age", "type": "string", "format": "", "description": "Time since creation", "priority": 0}
        ],
        "rows": rows
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

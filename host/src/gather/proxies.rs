//! `--deep`: reads proxies' own config dumps, as `istioctl proxy-config` and
//! `istioctl ztunnel-config` do: a port-forward through the API server to the
//! pod's admin port (Envoy and ztunnel listen on localhost:15000 only), one
//! HTTP GET, nothing else. Each read is bounded in time and size, secret
//! material is dropped before anything else sees the dump, and a pod that
//! cannot be read is recorded with why, never fatal.

use crate::model::dataplane::{self, View};
use anyhow::{anyhow, bail, Context, Result};
use futures::StreamExt;
use http_body_util::BodyExt;
use k8s_openapi::api::core::v1::Pod;
use kube::{Api, Client};
use std::time::Duration;

/// Envoy's and ztunnel's admin port (pilot/pkg/model/proxy.go, ztunnel's `admin_addr`).
pub const ADMIN_PORT: u16 = 15000;
/// Envoy: only the listeners (inbound mTLS, RBAC filters) and extension
/// configs, never `dynamic_active_secrets`; `include_eds` stays off.
const ENVOY_PATH: &str = "/config_dump?resource=dynamic_listeners";
const ENVOY_ECDS_PATH: &str = "/config_dump?resource=ecds_filters";
/// Outbound clusters, masked to their names and transport sockets (the
/// endpoints and everything else a large mesh puts there are not needed).
const ENVOY_CLUSTERS_PATH: &str = "/config_dump?resource=dynamic_active_clusters&mask=cluster.name,cluster.transport_socket,cluster.transport_socket_matches";
const ZTUNNEL_PATH: &str = "/config_dump";
/// A sidecar's listeners are a few MB on large meshes; more is not a dump.
pub const MAX_DUMP_BYTES: usize = 64 << 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProxyKind {
    Envoy,
    Ztunnel,
}

/// A pod whose proxy is to be read.
#[derive(Clone, Debug)]
pub struct Target {
    pub namespace: String,
    pub pod: String,
    pub kind: ProxyKind,
}

/// What reading one pod's proxy gave.
#[derive(Debug)]
pub struct Read {
    pub target: Target,
    pub result: Result<View, String>,
}

#[derive(Clone, Debug)]
pub struct Limits {
    pub timeout: Duration,
    pub concurrency: usize,
}

/// Reads every target, `limits.concurrency` at once, each within `limits.timeout`.
pub async fn read_all(client: &Client, targets: Vec<Target>, limits: &Limits) -> Vec<Read> {
    futures::stream::iter(targets)
        .map(|target| async move {
            let result = match tokio::time::timeout(limits.timeout, read(client, &target)).await {
                Ok(Ok(view)) => Ok(view),
                Ok(Err(e)) => Err(format!("{e:#}")),
                Err(_) => Err(format!(
                    "no answer within {} s (raise --deep-timeout if the proxy is slow)",
                    limits.timeout.as_secs_f64()
                )),
            };
            Read { target, result }
        })
        .buffered(limits.concurrency.max(1))
        .collect()
        .await
}

async fn read(client: &Client, t: &Target) -> Result<View> {
    let mut admin = Admin::open(client, t).await?;
    match t.kind {
        ProxyKind::Ztunnel => {
            let dump = admin.get(ZTUNNEL_PATH).await?;
            match dataplane::read(&dump) {
                Some(v @ View::Ztunnel(_)) => Ok(v),
                _ => bail!("port {ADMIN_PORT} did not answer with a ztunnel config dump"),
            }
        }
        ProxyKind::Envoy => {
            let mut dump = admin.get(ENVOY_PATH).await?;
            // Extension configs and clusters are additions: an Envoy without
            // any ECDS filter answers 404, and a failed cluster read only
            // leaves DestinationRules unverified. They ride the same
            // connection; an admin that closed it gets one fresh forward.
            for path in [ENVOY_ECDS_PATH, ENVOY_CLUSTERS_PATH] {
                let more = match admin.get(path).await {
                    Err(e) if admin.closed() => match Admin::open(client, t).await {
                        Ok(fresh) => {
                            admin = fresh;
                            admin.get(path).await
                        }
                        Err(_) => Err(e),
                    },
                    other => other,
                };
                if let Ok(more) = more {
                    if let (Some(a), Some(b)) = (
                        dump.get_mut("configs").and_then(|c| c.as_array_mut()),
                        more.get("configs").and_then(|c| c.as_array()),
                    ) {
                        a.extend(b.iter().cloned());
                    }
                }
            }
            match dataplane::read(&dump) {
                Some(v @ View::Envoy(_)) => Ok(v),
                _ => bail!("port {ADMIN_PORT} did not answer with an Envoy config dump"),
            }
        }
    }
}

/// The kubelet's error channel of a forward: its first message, if any.
/// Fused: after it has answered, later requests poll it as pending.
type ErrorChannel = futures::future::Fuse<futures::future::BoxFuture<'static, Option<String>>>;

/// One HTTP/1.1 connection to a pod's admin port through one port-forward,
/// kept for the pod's requests (the admin keeps connections alive).
struct Admin {
    forward: kube::api::Portforwarder,
    sender: hyper::client::conn::http1::SendRequest<http_body_util::Empty<bytes::Bytes>>,
    driver: tokio::task::JoinHandle<Result<(), hyper::Error>>,
    error: Option<ErrorChannel>,
}

impl Drop for Admin {
    fn drop(&mut self) {
        self.driver.abort();
        self.forward.abort();
    }
}

impl Admin {
    async fn open(client: &Client, t: &Target) -> Result<Admin> {
        let pods: Api<Pod> = Api::namespaced(client.clone(), &t.namespace);
        let mut forward = pods
            .portforward(&t.pod, &[ADMIN_PORT])
            .await
            .map_err(|e| anyhow!(crate::gather::live::describe(&e)))
            .context("port-forward refused")?;
        let stream = forward
            .take_stream(ADMIN_PORT)
            .ok_or_else(|| anyhow!("port-forward gave no stream"))?;
        let error = forward
            .take_error(ADMIN_PORT)
            .map(|e| futures::FutureExt::fuse(futures::FutureExt::boxed(e)));
        let io = hyper_util::rt::TokioIo::new(stream);
        let (sender, connection) = hyper::client::conn::http1::handshake(io)
            .await
            .context("HTTP handshake over the port-forward")?;
        Ok(Admin {
            forward,
            sender,
            driver: tokio::spawn(connection),
            error,
        })
    }

    /// Whether the admin closed the connection (a new forward is needed).
    fn closed(&self) -> bool {
        self.sender.is_closed() || self.driver.is_finished()
    }

    /// One GET, the body read up to [`MAX_DUMP_BYTES`], parsed, and scrubbed
    /// of secret material at once.
    async fn get(&mut self, path: &str) -> Result<serde_json::Value> {
        let request = http::Request::get(path)
            .header(http::header::HOST, "localhost")
            .header(http::header::ACCEPT, "application/json")
            .body(http_body_util::Empty::<bytes::Bytes>::new())
            .context("building the request")?;
        let sender = &mut self.sender;
        let exchange = async {
            sender
                .ready()
                .await
                .context("the admin closed the connection")?;
            let response = sender
                .send_request(request)
                .await
                .context("no HTTP response")?;
            let status = response.status();
            let mut body = response.into_body();
            let mut bytes = Vec::new();
            while let Some(frame) = body.frame().await {
                let frame = frame.context("reading the response")?;
                if let Some(data) = frame.data_ref() {
                    if bytes.len() + data.len() > MAX_DUMP_BYTES {
                        bail!("the dump is larger than {} MiB", MAX_DUMP_BYTES >> 20);
                    }
                    bytes.extend_from_slice(data);
                }
            }
            if !status.is_success() {
                bail!(
                    "admin answered {status}: {}",
                    crate::printable::line(&String::from_utf8_lossy(
                        &bytes[..bytes.len().min(200)]
                    ))
                );
            }
            Ok(bytes)
        };
        // The kubelet reports a failed connection to the port on the error
        // channel, before it closes the stream: when the exchange fails, its
        // message is the reason.
        let kubelet = |message: String| {
            anyhow!(
                "the kubelet could not connect to port {ADMIN_PORT}: {}",
                crate::printable::line(&message)
            )
        };
        let bytes = match self.error.as_mut() {
            Some(error) => {
                tokio::select! {
                    biased;
                    Some(message) = &mut *error => Err(kubelet(message)),
                    r = exchange => match r {
                        Ok(bytes) => Ok(bytes),
                        Err(e) => match tokio::time::timeout(Duration::from_millis(500), &mut *error).await {
                            Ok(Some(message)) => Err(kubelet(message)),
                            _ => Err(e),
                        },
                    },
                }
            }
            None => exchange.await,
        };
        let bytes = bytes?;
        let mut dump: serde_json::Value = serde_json::from_slice(&bytes).map_err(|e| {
            anyhow!("port {ADMIN_PORT} answered something that is not JSON ({e}): not an Envoy or ztunnel admin")
        })?;
        dataplane::scrub(&mut dump);
        Ok(dump)
    }
}

//! Live snapshots: lists the wanted kinds from the API server the kubeconfig
//! points at, paginated and in parallel. A kind that is forbidden or not
//! installed is recorded, never fatal. Pages stay JSON text until decoded in
//! parallel by the same code as offline `-o json` dumps.

use super::{Batch, Snapshot, Source, Unavailable, UnavailableReason, Wants};
use anyhow::{anyhow, Context, Result};
use futures::StreamExt;
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::discovery::{ApiResource, Discovery};
use kube::{Client, Config};
use rayon::prelude::*;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Clone, Debug, Default)]
pub struct LiveOptions {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// Objects per list request.
    pub page_size: u32,
    /// List requests in flight at once.
    pub concurrency: usize,
    /// Deadline of each request (discovery, every list page); zero = the default.
    pub request_timeout: std::time::Duration,
    /// The namespaces reported on (`-n`): where a kind the identity may not
    /// list cluster-wide is listed instead (a tenant's namespace-scoped role).
    pub namespaces: Vec<String>,
}

/// Per-request deadline when none is given: a healthy API server answers a
/// 500-object page in well under a second.
pub const DEFAULT_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Pages per kind at most (500 objects each: 5 million objects), so a server
/// that keeps handing out new continue tokens cannot keep a scan going forever.
const MAX_PAGES: usize = 10_000;

impl LiveOptions {
    fn timeout(&self) -> std::time::Duration {
        if self.request_timeout.is_zero() {
            DEFAULT_REQUEST_TIMEOUT
        } else {
            self.request_timeout
        }
    }
}

/// `--context` must name a context of the kubeconfig; the error lists them.
fn known_context(kc: &Kubeconfig, wanted: Option<&str>) -> Result<()> {
    let Some(wanted) = wanted else {
        return Ok(());
    };
    let names: Vec<&str> = kc.contexts.iter().map(|c| c.name.as_str()).collect();
    if names.contains(&wanted) {
        return Ok(());
    }
    Err(anyhow!(
        "context `{}` is not in the kubeconfig; its contexts: {} (pass one with --context)",
        crate::printable::line(wanted),
        if names.is_empty() {
            "none".to_string()
        } else {
            names.join(", ")
        }
    ))
}

/// A client for the cluster, with the names errors should mention.
pub struct Connection {
    pub client: Client,
    /// The kubeconfig context (`in-cluster` inside a pod).
    pub context: String,
    /// The API server's URL.
    pub url: String,
}

/// Connects with the kubeconfig (or in-cluster config).
pub async fn connect(opts: &LiveOptions) -> Result<Connection> {
    // One TLS provider for the process (kube uses ring); a second crate's
    // provider would otherwise make the first handshake panic.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let options = KubeConfigOptions {
        context: opts.context.clone(),
        ..Default::default()
    };
    let (config, context) = match &opts.kubeconfig {
        Some(path) => {
            let kc = Kubeconfig::read_from(path)
                .with_context(|| format!("cannot read kubeconfig {}: check --kubeconfig", path.display()))?;
            known_context(&kc, opts.context.as_deref())?;
            let name = opts.context.clone().or_else(|| kc.current_context.clone()).unwrap_or_default();
            let config = Config::from_custom_kubeconfig(kc, &options)
                .await
                .with_context(|| format!("cannot use context `{name}` of {}: check --context", path.display()))?;
            (config, name)
        }
        None => match Kubeconfig::read() {
            Ok(kc) => {
                known_context(&kc, opts.context.as_deref())?;
                let name = opts.context.clone().or_else(|| kc.current_context.clone()).unwrap_or_default();
                let config = Config::from_custom_kubeconfig(kc, &options)
                    .await
                    .with_context(|| format!("cannot use kubeconfig context `{name}`: check --context"))?;
                (config, name)
            }
            Err(kubeconfig_error) => match Config::incluster() {
                Ok(config) => (config, "in-cluster".to_string()),
                Err(_) => {
                    return Err(anyhow!(kubeconfig_error)).context(
                        "no cluster to scan: no kubeconfig found (set KUBECONFIG or --kubeconfig) and not running in a cluster; to scan files use -f PATH",
                    )
                }
            },
        },
    };
    let url = config.cluster_url.clone();
    // A server that accepts the connection and never answers must not hold the scan.
    let mut config = config;
    config.connect_timeout = Some(opts.timeout());
    config.read_timeout = Some(opts.timeout());
    config.write_timeout = Some(opts.timeout());
    let client =
        Client::try_from(config).with_context(|| format!("cannot create a client for {url}"))?;
    Ok(Connection {
        client,
        context,
        url: url.to_string(),
    })
}

pub async fn gather(opts: &LiveOptions, wants: &Wants) -> Result<Snapshot> {
    let Connection {
        client,
        context,
        url,
    } = connect(opts).await?;
    let wanted: Vec<String> = wants.kinds();
    let mut groups: Vec<&str> = wanted.iter().map(|k| crate::kinds::group(k)).collect();
    groups.sort_unstable();
    groups.dedup();
    // Plain discovery (aggregated discovery silently returns nothing from
    // servers without it), one group at a time and concurrently: a group whose
    // discovery fails marks only its own kinds unavailable.
    let timeout = opts.timeout();
    let discovered: Vec<(&str, Result<Discovery, String>)> = futures::stream::iter(groups)
        .map(|group| {
            let client = client.clone();
            async move {
                let run = Discovery::new(client).filter(&[group]).run();
                let result = match tokio::time::timeout(timeout, run).await {
                    Ok(Ok(d)) => Ok(d),
                    Ok(Err(e)) => Err(describe(&e)),
                    Err(_) => Err(format!("no answer within {}s", timeout.as_secs())),
                };
                (group, result)
            }
        })
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    if discovered.iter().all(|(_, r)| r.is_err()) {
        let why = discovered
            .iter()
            .find_map(|(_, r)| r.as_ref().err().cloned())
            .unwrap_or_default();
        return Err(anyhow!(
            "cannot reach the Kubernetes API server {url} (context `{context}`): {why}"
        ));
    }
    let mut unavailable = BTreeMap::new();
    let mut targets = Vec::new();
    for key in &wanted {
        let (group, kind) = (crate::kinds::group(key), crate::kinds::kind(key));
        let Some((_, found)) = discovered.iter().find(|(g, _)| *g == group) else {
            continue;
        };
        let discovery = match found {
            Ok(d) => d,
            Err(why) => {
                let shown = if group.is_empty() { "core" } else { group };
                unavailable.insert(
                    key.clone(),
                    Unavailable {
                        kind: key.clone(),
                        reason: UnavailableReason::Failed,
                        detail: format!("discovery of API group {shown} failed: {why}"),
                    },
                );
                continue;
            }
        };
        match discovery.get(group).and_then(|g| g.recommended_kind(kind)) {
            Some((ar, caps)) => targets.push((
                key.clone(),
                ar,
                caps.scope == kube::discovery::Scope::Namespaced,
            )),
            None => {
                unavailable.insert(
                    key.clone(),
                    Unavailable {
                        kind: key.clone(),
                        reason: UnavailableReason::NotInstalled,
                        detail: format!("the API server does not serve {key}"),
                    },
                );
            }
        }
    }
    let page_size = if opts.page_size == 0 {
        500
    } else {
        opts.page_size
    };
    let concurrency = opts.concurrency.max(1);
    // The model reads only Istio's own ConfigMaps (mesh config, injector
    // settings): unless a check declared ConfigMaps, they are listed in the
    // Istio namespaces alone, once the workloads say where istiod runs, so
    // the scan role needs no cluster-wide ConfigMap access.
    let narrow = |key: &str| key == crate::kinds::CONFIG_MAP && !wants.declared(key);
    let (configmaps, targets): (Vec<_>, Vec<_>) =
        targets.into_iter().partition(|(key, _, _)| narrow(key));
    let list = |key: String, ar: ApiResource, namespaced: bool, only: Option<Vec<String>>| {
        let client = client.clone();
        async move {
            let pages = match &only {
                Some(namespaces) => {
                    list_in(&client, &key, &ar, namespaces, page_size, timeout).await
                }
                None => {
                    let all = list_all(&client, &key, &ar, None, page_size, timeout).await;
                    // A tenant's role lists its namespaces only: fall back to them.
                    match all {
                        Err(u)
                            if u.reason == UnavailableReason::Forbidden
                                && namespaced
                                && !opts.namespaces.is_empty() =>
                        {
                            let mut namespaces = opts.namespaces.clone();
                            namespaces.push(crate::gather::rbac::ISTIO_NAMESPACE.to_string());
                            list_in(&client, &key, &ar, &namespaces, page_size, timeout).await
                        }
                        other => other,
                    }
                }
            };
            (key, ar, pages)
        }
    };
    let results: Vec<(String, ApiResource, Result<Vec<String>, Unavailable>)> =
        futures::stream::iter(targets)
            .map(|(key, ar, namespaced)| list(key, ar, namespaced, None))
            .buffer_unordered(concurrency)
            .collect()
            .await;
    let decode = |pages: &[(ApiResource, String)]| {
        pages
            .par_iter()
            .map(|(ar, text)| kridik_parse::api_list_page(text, &ar.api_version, &ar.kind, wants))
            .reduce(Batch::default, Batch::merge)
    };
    let mut pages = Vec::new();
    for (key, ar, result) in results {
        match result {
            Ok(p) => pages.extend(p.into_iter().map(|text| (ar.clone(), text))),
            Err(u) => {
                unavailable.insert(key, u);
            }
        }
    }
    let mut batch = decode(&pages);
    drop(pages);
    if !configmaps.is_empty() {
        let namespaces = istio_namespaces(&batch.objects);
        let mut pages = Vec::new();
        for (key, ar, namespaced) in configmaps {
            let (key, ar, result) = list(key, ar, namespaced, Some(namespaces.clone())).await;
            match result {
                Ok(p) => pages.extend(p.into_iter().map(|text| (ar.clone(), text))),
                Err(u) => {
                    unavailable.insert(key, u);
                }
            }
        }
        batch = batch.merge(decode(&pages));
    }
    Ok(Snapshot::new(Source::Live { context }, batch, unavailable))
}

/// What every page of a list must be: a complete JSON object with `items`.
#[derive(Deserialize)]
struct ListPage<'a> {
    #[serde(default)]
    metadata: ContinueMeta,
    #[serde(borrow)]
    items: Option<Vec<&'a RawValue>>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContinueMeta {
    #[serde(rename = "continue")]
    token: Option<String>,
}

/// Where Istio keeps its own ConfigMaps: istio-system, and every namespace
/// where istiod runs (a revision or a custom control-plane namespace).
fn istio_namespaces(objects: &[crate::gather::Object]) -> Vec<String> {
    let mut out = vec![crate::gather::rbac::ISTIO_NAMESPACE.to_string()];
    for o in objects {
        let istiod = o.labels.get("app").map(String::as_str) == Some("istiod")
            || o.labels.get("istio").map(String::as_str) == Some("pilot");
        if istiod
            && crate::kinds::WORKLOAD_KINDS.contains(&o.key.as_str())
            && !out.contains(&o.namespace)
        {
            out.push(o.namespace.clone());
        }
    }
    out
}

/// Every page of one kind in each of `namespaces`, one after another; the
/// first namespace that cannot be listed makes the kind unavailable, naming it.
async fn list_in(
    client: &Client,
    key: &str,
    ar: &ApiResource,
    namespaces: &[String],
    limit: u32,
    timeout: std::time::Duration,
) -> Result<Vec<String>, Unavailable> {
    let mut pages = Vec::new();
    for ns in namespaces {
        pages.extend(list_all(client, key, ar, Some(ns), limit, timeout).await?);
    }
    Ok(pages)
}

/// Every page of one kind, across all namespaces or in `namespace`. A page that is not a complete
/// list (truncated, an HTML error page), a continue token seen before, too many
/// pages or a request past its deadline make the kind `failed`: a kind is never
/// taken as empty because its list did not complete.
async fn list_all(
    client: &Client,
    key: &str,
    ar: &ApiResource,
    namespace: Option<&str>,
    limit: u32,
    timeout: std::time::Duration,
) -> Result<Vec<String>, Unavailable> {
    let prefix = if ar.group.is_empty() {
        format!("/api/{}", ar.version)
    } else {
        format!("/apis/{}/{}", ar.group, ar.version)
    };
    let base = match namespace {
        Some(ns) => format!("{prefix}/namespaces/{}/{}", encode(ns), ar.plural),
        None => format!("{prefix}/{}", ar.plural),
    };
    let failed = |detail: String| Unavailable {
        kind: key.into(),
        reason: UnavailableReason::Failed,
        detail: format!("listing {key} failed: {detail}"),
    };
    let mut pages = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut token: Option<String> = None;
    loop {
        if pages.len() >= MAX_PAGES {
            return Err(failed(format!("more than {MAX_PAGES} pages")));
        }
        let mut url = format!("{base}?limit={limit}");
        if let Some(t) = &token {
            url.push_str("&continue=");
            url.push_str(&encode(t));
        }
        let request = http::Request::get(&url)
            .body(Vec::new())
            .expect("valid request");
        let text = match tokio::time::timeout(timeout, client.request_text(request)).await {
            Ok(result) => result.map_err(|e| unavailable(key, &e))?,
            Err(_) => {
                return Err(failed(format!(
                    "no answer within {}s (--request-timeout)",
                    timeout.as_secs()
                )))
            }
        };
        let page = serde_json::from_str::<ListPage>(&text).map_err(|e| {
            failed(format!(
                "page {} is not a complete list response ({e})",
                pages.len() + 1
            ))
        })?;
        let Some(items) = &page.items else {
            return Err(failed(format!("page {} has no items", pages.len() + 1)));
        };
        token = page.metadata.token.filter(|t| !t.is_empty());
        // The API server fills every page but the last: an empty page that
        // promises more is a server going round in circles.
        if items.is_empty() && token.is_some() {
            return Err(failed(format!(
                "page {} is empty but carries a continue token",
                pages.len() + 1
            )));
        }
        pages.push(text);
        match &token {
            None => return Ok(pages),
            Some(t) if !seen.insert(t.clone()) => {
                return Err(failed(format!(
                    "the server repeated continue token {t:?} after {} pages",
                    pages.len()
                )))
            }
            Some(_) => {}
        }
    }
}

fn unavailable(key: &str, e: &kube::Error) -> Unavailable {
    let reason = match e {
        kube::Error::Api(s) if s.code == 403 => UnavailableReason::Forbidden,
        kube::Error::Api(s) if s.code == 404 => UnavailableReason::NotInstalled,
        _ => UnavailableReason::Failed,
    };
    let detail = match reason {
        UnavailableReason::Forbidden => format!(
            "listing {key} is forbidden by RBAC ({}); grant list on it to the scanning identity",
            describe(e)
        ),
        _ => format!("listing {key} failed: {}", describe(e)),
    };
    Unavailable {
        kind: key.into(),
        reason,
        detail,
    }
}

/// A kube error in one line, with its causes.
pub fn describe(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{} {}: {}", s.code, s.reason, s.message),
        other => {
            let mut text = other.to_string();
            let mut source = std::error::Error::source(other);
            while let Some(s) = source {
                text.push_str(": ");
                text.push_str(&s.to_string());
                source = s.source();
            }
            text
        }
    }
}

/// Percent-encodes a continue token for a query string.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Gathers with a runtime of its own (the rest of kridik is synchronous).
pub fn gather_blocking(opts: &LiveOptions, wants: &Wants) -> Result<Snapshot> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(gather(opts, wants))
}

//! Live snapshots: lists the wanted kinds from the API server the kubeconfig
//! points at, paginated and in parallel. A kind that is forbidden or not
//! installed is recorded, never fatal. Pages stay JSON text until decoded in
//! parallel by the same code as offline `-o json` dumps.

use super::decode::{self, ItemHead};
use super::{Batch, InputError, Snapshot, Source, Unavailable, UnavailableReason, Wants};
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
}

/// Connects with the kubeconfig (or in-cluster config) and returns the client and the context name.
pub async fn connect(opts: &LiveOptions) -> Result<(Client, String)> {
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
            let name = opts.context.clone().or_else(|| kc.current_context.clone()).unwrap_or_default();
            let config = Config::from_custom_kubeconfig(kc, &options)
                .await
                .with_context(|| format!("cannot use context `{name}` of {}: check --context", path.display()))?;
            (config, name)
        }
        None => match Kubeconfig::read() {
            Ok(kc) => {
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
    let client =
        Client::try_from(config).with_context(|| format!("cannot create a client for {url}"))?;
    Ok((client, context))
}

pub async fn gather(opts: &LiveOptions, wants: &Wants) -> Result<Snapshot> {
    let (client, context) = connect(opts).await?;
    let wanted: Vec<String> = wants.kinds();
    let mut groups: Vec<&str> = wanted.iter().map(|k| crate::kinds::group(k)).collect();
    groups.sort_unstable();
    groups.dedup();
    // Aggregated discovery silently returns nothing from servers without it; plain discovery works everywhere.
    let discovery = Discovery::new(client.clone())
        .filter(&groups)
        .run()
        .await
        .map_err(|e| {
            anyhow!(
                "cannot reach the Kubernetes API server (context `{context}`): {}",
                describe(&e)
            )
        })?;
    let mut unavailable = BTreeMap::new();
    let mut targets = Vec::new();
    for key in &wanted {
        let (group, kind) = (crate::kinds::group(key), crate::kinds::kind(key));
        match discovery.get(group).and_then(|g| g.recommended_kind(kind)) {
            Some((ar, _caps)) => targets.push((key.clone(), ar)),
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
    let results: Vec<(String, ApiResource, Result<Vec<String>, Unavailable>)> =
        futures::stream::iter(targets)
            .map(|(key, ar)| {
                let client = client.clone();
                async move {
                    let pages = list_all(&client, &key, &ar, page_size).await;
                    (key, ar, pages)
                }
            })
            .buffer_unordered(concurrency)
            .collect()
            .await;
    let mut pages = Vec::new();
    for (key, ar, result) in results {
        match result {
            Ok(p) => pages.extend(p.into_iter().map(|text| (ar.clone(), text))),
            Err(u) => {
                unavailable.insert(key, u);
            }
        }
    }
    let batch = pages
        .par_iter()
        .map(|(ar, text)| decode_page(text, ar, wants))
        .reduce(Batch::default, Batch::merge);
    Ok(Snapshot::new(Source::Live { context }, batch, unavailable))
}

#[derive(Deserialize)]
struct Page<'a> {
    #[serde(borrow, default)]
    items: Vec<&'a RawValue>,
}

fn decode_page(text: &str, ar: &ApiResource, wants: &Wants) -> Batch {
    let head = ItemHead {
        api_version: &ar.api_version,
        kind: &ar.kind,
    };
    match serde_json::from_str::<Page>(text) {
        Ok(page) => page
            .items
            .par_iter()
            .map(|item| decode::json_value(item, None, wants, Some(head), true, &|_| None))
            .reduce(Batch::default, Batch::merge),
        Err(e) => Batch {
            errors: vec![InputError::file(
                &format!("<api {}>", ar.kind),
                format!("unreadable list response: {e}"),
            )],
            ..Batch::default()
        },
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Continue {
    metadata: ContinueMeta,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ContinueMeta {
    #[serde(rename = "continue")]
    token: Option<String>,
}

/// Every page of one kind across all namespaces.
async fn list_all(
    client: &Client,
    key: &str,
    ar: &ApiResource,
    limit: u32,
) -> Result<Vec<String>, Unavailable> {
    let base = if ar.group.is_empty() {
        format!("/api/{}/{}", ar.version, ar.plural)
    } else {
        format!("/apis/{}/{}/{}", ar.group, ar.version, ar.plural)
    };
    let mut pages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut url = format!("{base}?limit={limit}");
        if let Some(t) = &token {
            url.push_str("&continue=");
            url.push_str(&encode(t));
        }
        let request = http::Request::get(&url)
            .body(Vec::new())
            .expect("valid request");
        let text = client
            .request_text(request)
            .await
            .map_err(|e| unavailable(key, &e))?;
        token = serde_json::from_str::<Continue>(&text)
            .ok()
            .and_then(|c| c.metadata.token)
            .filter(|t| !t.is_empty());
        pages.push(text);
        if token.is_none() {
            return Ok(pages);
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

fn describe(e: &kube::Error) -> String {
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

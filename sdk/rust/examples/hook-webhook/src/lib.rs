//! Example result hook: posts a JSON summary of each scan to a webhook. Install
//! it with `kridik plugin add kridik_example_hook_webhook.wasm
//! --allow-http https://hooks.example.com --set url=https://hooks.example.com/kridik`.
//! A URL whose origin was not granted is refused by kridik, not by this hook.

use kridik_sdk::hook::{setting, Capability, HookInfo, Report, Settings};
use wasi::http::outgoing_handler;
use wasi::http::types::{Fields, Method, OutgoingBody, OutgoingRequest, Scheme};

fn info() -> HookInfo {
    HookInfo {
        name: "webhook".into(),
        description: "Posts a JSON summary of the scan to the `url` setting".into(),
        capabilities: vec![Capability::Http],
    }
}

fn on_report(report: Report, settings: Settings) -> Result<(), String> {
    let url = setting(&settings, "url").ok_or("no url: install with --set url=https://...")?;
    let s = &report.summary;
    let body = serde_json::json!({
        "text": format!(
            "kridik: {} finding(s) ({} critical, {} high) from {} check(s)",
            s.findings, s.critical, s.high, s.checks_run
        ),
        "findings": s.findings,
        "critical": s.critical,
        "high": s.high,
        "medium": s.medium,
        "low": s.low,
        "checks_failed": s.checks_failed,
        "source": report.source,
    });
    post(url, &body.to_string())
}

fn post(url: &str, body: &str) -> Result<(), String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| format!("url {url}: write scheme://host/path"))?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    let headers = Fields::from_list(&[
        ("content-type".into(), b"application/json".to_vec()),
        ("content-length".into(), body.len().to_string().into_bytes()),
    ])
    .map_err(|e| format!("{e:?}"))?;
    let request = OutgoingRequest::new(headers);
    request.set_method(&Method::Post).map_err(|_| "method")?;
    let scheme = match scheme {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => return Err(format!("url {url}: unsupported scheme {other}")),
    };
    request.set_scheme(Some(&scheme)).map_err(|_| "scheme")?;
    request
        .set_authority(Some(authority))
        .map_err(|_| "authority")?;
    request
        .set_path_with_query(Some(path))
        .map_err(|_| "path")?;
    let outgoing = request.body().map_err(|_| "body")?;
    let sent = outgoing_handler::handle(request, None).map_err(|e| format!("POST {url}: {e:?}"))?;
    {
        let stream = outgoing.write().map_err(|_| "body stream")?;
        stream
            .blocking_write_and_flush(body.as_bytes())
            .map_err(|e| format!("POST {url}: {e:?}"))?;
    }
    OutgoingBody::finish(outgoing, None).map_err(|e| format!("POST {url}: {e:?}"))?;
    sent.subscribe().block();
    let response = sent
        .get()
        .ok_or("no response")?
        .map_err(|_| "response taken twice")?
        .map_err(|e| format!("POST {url}: {e:?}"))?;
    match response.status() {
        200..=299 => Ok(()),
        status => Err(format!("POST {url}: HTTP {status}")),
    }
}

kridik_sdk::export_hook!(info, on_report);

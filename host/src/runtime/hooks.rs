//! Result hooks: components of the `hook` world that get the final report.
//! A hook runs sandboxed like a check; it gets a directory or outbound HTTP
//! only when it asked for it (its `describe`) AND the user granted it at
//! install time. Every HTTP request outside the granted origins is refused
//! and listed in the hook's record.

use super::bindings::v0_1_hook::exports::kridik::plugin::hooks as wh;
use super::bindings::v0_1_hook::kridik::plugin::reports as wr;
use super::bindings::v0_1_hook::{Hook as HookWorld, HookPre};
use super::sandbox::{Capture, Limiter, Limits};
use super::{engine, explain_failure, host_impl, root, Runtime};
use crate::report::model::{HookRecord, Report, Status};
use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::Store;
use wasmtime_wasi::{FsPerms, WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

/// What a hook may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    WriteDir,
    Http,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::WriteDir => "write-dir",
            Capability::Http => "http",
        }
    }
}

/// What the user granted at install time.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Grants {
    /// Preopened at `/out` when the hook asks for `write-dir`.
    pub dir: Option<PathBuf>,
    /// Origins (`scheme://host[:port]`) the hook may send HTTP requests to.
    pub http: Vec<String>,
    /// `--set key=value`, handed to the hook with the report.
    pub settings: BTreeMap<String, String>,
}

pub struct Hook {
    pub name: String,
    pub digest: String,
    pub wit_version: String,
    pub title: String,
    pub description: String,
    pub capabilities: Vec<Capability>,
    pre: HookPre<HookState>,
}

pub struct HookState {
    wasi: WasiCtx,
    table: ResourceTable,
    http: WasiHttpCtx,
    net: Net,
    pub limiter: Limiter,
    pub stdout: Capture,
    pub stderr: Capture,
    /// The JSON report, for `report-document.json`.
    document: Arc<str>,
}

impl super::bindings::v0_1_hook::kridik::plugin::report_document::Host for HookState {
    fn json(&mut self) -> String {
        self.document.to_string()
    }
}

impl WasiView for HookState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HookState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.net,
        }
    }
}

/// The HTTP allow-list of one hook run.
struct Net {
    allowed: Vec<String>,
    denied: Arc<Mutex<Vec<String>>>,
    timeout: std::time::Duration,
}

type Sent = std::result::Result<
    (
        http::Response<wasmtime_wasi_http::WasiBody>,
        Box<
            dyn std::future::Future<Output = std::result::Result<(), wasmtime_wasi_http::Error>>
                + Send,
        >,
    ),
    wasmtime_wasi_http::Error,
>;

impl WasiHttpHooks for Net {
    fn send_request(
        &mut self,
        request: http::Request<wasmtime_wasi_http::WasiBody>,
        options: Option<wasmtime_wasi_http::RequestOptions>,
        fut: Box<
            dyn std::future::Future<Output = std::result::Result<(), wasmtime_wasi_http::Error>>
                + Send,
        >,
    ) -> Box<dyn std::future::Future<Output = Sent> + Send> {
        let uri = request.uri();
        let origin = origin(
            uri.scheme_str().unwrap_or("https"),
            uri.authority().map(|a| a.as_str()).unwrap_or_default(),
        );
        if !self.allowed.contains(&origin) {
            self.denied
                .lock()
                .unwrap()
                .push(format!("{} {uri}", request.method()));
            return Box::new(async { Err(wasmtime_wasi_http::Error::HttpRequestDenied) });
        }
        let timeout = self.timeout;
        let send =
            Box::into_pin(wasmtime_wasi_http::default_hooks().send_request(request, options, fut));
        // Host-side waits are outside the epoch deadline: bound them here.
        Box::new(async move {
            match tokio::time::timeout(timeout, send).await {
                Ok(sent) => sent,
                Err(_) => Err(wasmtime_wasi_http::Error::ConnectionTimeout),
            }
        })
    }
}

/// `https://Hooks.Example.com:443/x` -> `https://hooks.example.com`.
pub fn origin(scheme: &str, authority: &str) -> String {
    let scheme = scheme.to_ascii_lowercase();
    let authority = authority.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "https" => ":443",
        "http" => ":80",
        _ => "",
    };
    let host = authority
        .strip_suffix(default_port)
        .filter(|_| !default_port.is_empty())
        .unwrap_or(&authority);
    format!("{scheme}://{host}")
}

/// A granted `--allow-http` value as an origin; refuses paths and other schemes.
pub fn parse_origin(s: &str) -> Result<String> {
    let uri: http::Uri = s.parse().map_err(|_| {
        anyhow!("--allow-http {s}: not a URL (write https://host or http://host:port)")
    })?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        bail!("--allow-http {s}: write the origin with its scheme, e.g. https://hooks.example.com");
    };
    if !matches!(scheme, "http" | "https") {
        bail!("--allow-http {s}: only http and https origins can be granted");
    }
    if !matches!(uri.path(), "" | "/") {
        bail!("--allow-http {s}: grant the origin (scheme://host[:port]) without a path");
    }
    Ok(origin(scheme, authority.as_str()))
}

pub(super) fn linker(engine: &wasmtime::Engine) -> Result<Linker<HookState>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
        .map_err(anyhow::Error::from)
        .context("linking WASI for hooks")?;
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)
        .map_err(anyhow::Error::from)
        .context("linking wasi:http for hooks")?;
    super::bindings::v0_1_hook::kridik::plugin::report_document::add_to_linker::<
        _,
        wasmtime::component::HasSelf<_>,
    >(&mut linker, |state| state)
    .map_err(anyhow::Error::from)
    .context("linking the report document for hooks")?;
    Ok(linker)
}

impl Runtime {
    /// Validates, compiles (or loads from the cache) and describes a hook.
    pub fn load_hook(&self, name: &str, wasm: &[u8]) -> Result<Hook> {
        let (component, digest, wit_version) = self.component(name, wasm, "hooks")?;
        let pre = self
            .hook_linker
            .instantiate_pre(&component)
            .map_err(|e| anyhow!("{name} imports something kridik does not give to hooks ({}): hooks get WASI without network sockets and wasi:http", root(&e.into())))?;
        let pre = HookPre::new(pre).map_err(|e| {
            anyhow!(
                "{name} does not match the kridik:plugin/hook world: {}",
                root(&e.into())
            )
        })?;
        let mut store = self.hook_store(&[], &Grants::default(), &Arc::default(), Arc::from(""))?;
        let info = pre
            .instantiate(&mut store)
            .and_then(|i| i.kridik_plugin_hooks().call_describe(&mut store))
            .map_err(|e| anyhow!("{name}: describe failed: {}", root(&e.into())))?;
        let mut capabilities: Vec<Capability> = info
            .capabilities
            .iter()
            .map(|c| match c {
                wh::Capability::WriteDir => Capability::WriteDir,
                wh::Capability::Http => Capability::Http,
            })
            .collect();
        capabilities.sort();
        capabilities.dedup();
        Ok(Hook {
            name: name.to_string(),
            digest,
            wit_version,
            title: host_impl::text(info.name),
            description: host_impl::text(info.description),
            capabilities,
            pre,
        })
    }

    /// The store of one hook run: effective capabilities = asked AND granted.
    fn hook_store(
        &self,
        asked: &[Capability],
        grants: &Grants,
        denied: &Arc<Mutex<Vec<String>>>,
        document: Arc<str>,
    ) -> Result<Store<HookState>> {
        let limits: &Limits = &self.limits;
        let stdout = Capture::new(limits.output_bytes);
        let stderr = Capture::new(limits.output_bytes);
        let mut wasi = WasiCtxBuilder::new();
        wasi.stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        if let (true, Some(dir)) = (asked.contains(&Capability::WriteDir), &grants.dir) {
            std::fs::create_dir_all(dir).with_context(|| {
                format!("cannot create the granted directory {}", dir.display())
            })?;
            wasi.preopened_dir(dir, "/out", FsPerms::ReadWrite)
                .map_err(anyhow::Error::from)
                .with_context(|| format!("cannot open the granted directory {}", dir.display()))?;
        }
        let allowed = if asked.contains(&Capability::Http) {
            grants.http.clone()
        } else {
            Vec::new()
        };
        let state = HookState {
            wasi: wasi.build(),
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            net: Net {
                allowed,
                denied: denied.clone(),
                timeout: limits.timeout,
            },
            limiter: Limiter::new(limits.memory_bytes),
            document,
            stdout,
            stderr,
        };
        let mut store = Store::new(&self.engine, state);
        store.limiter(|s| &mut s.limiter);
        let ticks = (limits.timeout.as_millis() / engine::TICK.as_millis()).max(1) as u64;
        store.set_epoch_deadline(ticks);
        store.epoch_deadline_trap();
        Ok(store)
    }

    /// Runs one hook with the report; its failure is its own record.
    /// Runs a hook with the report; `document` is the same report as JSON.
    pub fn run_hook(
        &self,
        hook: &Hook,
        grants: &Grants,
        report: &Report,
        document: &Arc<str>,
    ) -> HookRecord {
        let started = Instant::now();
        let denied = Arc::new(Mutex::new(Vec::new()));
        let asked = &hook.capabilities;
        // Grants the hook never asked for are not given; name them.
        let mut notes = Vec::new();
        if asked.contains(&Capability::WriteDir) && grants.dir.is_none() {
            notes.push(
                "asks for write-dir, not granted (kridik plugin add --allow-dir DIR)".to_string(),
            );
        }
        if asked.contains(&Capability::Http) && grants.http.is_empty() {
            notes.push(
                "asks for http, not granted (kridik plugin add --allow-http ORIGIN)".to_string(),
            );
        }
        let settings: Vec<(String, String)> = grants
            .settings
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let (error, stdout, stderr) =
            match self.hook_store(asked, grants, &denied, document.clone()) {
                Err(e) => (Some(format!("{e:#}")), String::new(), String::new()),
                Ok(mut store) => {
                    let result = hook.pre.instantiate(&mut store).and_then(|i: HookWorld| {
                        i.kridik_plugin_hooks().call_on_report(
                            &mut store,
                            &wit_report(report),
                            &settings,
                        )
                    });
                    let state = store.data();
                    let stderr = state.stderr.text();
                    let error = match result {
                        Ok(Ok(())) => None,
                        Ok(Err(message)) => Some(format!(
                            "the hook reported an error: {}",
                            host_impl::text(message)
                        )),
                        Err(e) => Some(
                            explain_failure(
                                &self.limits,
                                state.limiter.hit,
                                &stderr,
                                &e.into(),
                                &hook.name,
                            )
                            .to_string(),
                        ),
                    };
                    (error, state.stdout.text(), stderr)
                }
            };
        let denied = denied.lock().unwrap().clone();
        HookRecord {
            name: hook.name.clone(),
            status: if error.is_none() {
                Status::Pass
            } else {
                Status::Error
            },
            duration_ms: started.elapsed().as_secs_f64() * 1000.0,
            error,
            denied,
            notes,
            stdout: Some(stdout).filter(|s| !s.is_empty()),
            stderr: Some(stderr).filter(|s| !s.is_empty()),
        }
    }
}

/// The report in the hook world's types: the same content as the JSON output.
fn wit_report(r: &Report) -> wr::Report {
    let count = |s| r.summary.by_severity.get(&s).copied().unwrap_or(0) as u32;
    use crate::vocab::Severity as S;
    wr::Report {
        schema_version: r.schema_version.to_string(),
        kridik_version: r.kridik_version.to_string(),
        source: r.source.kind.to_string(),
        context: r.source.context.clone(),
        summary: wr::Summary {
            findings: r.summary.findings as u32,
            checks_run: r.summary.checks_run as u32,
            checks_failed: r.summary.checks_failed as u32,
            checks_errored: r.summary.checks_errored as u32,
            objects: r.summary.objects as u32,
            workloads: r.summary.workloads as u32,
            input_errors: r.summary.input_errors as u32,
            critical: count(S::Critical),
            high: count(S::High),
            medium: count(S::Medium),
            low: count(S::Low),
            info: count(S::Info),
        },
        findings: r
            .findings
            .iter()
            .map(|f| wr::ReportedFinding {
                finding: host_impl::v0_1::wit_finding(f),
                fingerprint: f.fingerprint.clone(),
                suppressed: f.suppressed.as_ref().map(|s| s.reason.clone()),
                in_baseline: f.in_baseline,
            })
            .collect(),
        checks: r
            .checks
            .iter()
            .map(|c| wr::CheckRecord {
                id: c.id.clone(),
                title: c.title.clone(),
                category: c.category.clone(),
                plugin: c.plugin.clone(),
                status: match c.status {
                    Status::Pass => wr::CheckStatus::Pass,
                    Status::Fail => wr::CheckStatus::Fail,
                    Status::Error => wr::CheckStatus::Error,
                    Status::Skipped => wr::CheckStatus::Skipped,
                },
                duration_ms: c.duration_ms,
                findings: c.findings as u32,
                error: c.error.clone(),
            })
            .collect(),
        input_errors: r.input_errors.iter().map(|e| e.to_string()).collect(),
        unavailable_kinds: r
            .unavailable_kinds
            .iter()
            .map(|u| format!("{}: {}", u.kind, u.detail))
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_normalised_and_grants_must_be_origins() {
        assert_eq!(
            origin("HTTPS", "Hooks.Example.com:443"),
            "https://hooks.example.com"
        );
        assert_eq!(origin("http", "127.0.0.1:8080"), "http://127.0.0.1:8080");
        assert_eq!(
            parse_origin("https://hooks.example.com/").unwrap(),
            "https://hooks.example.com"
        );
        assert!(parse_origin("https://hooks.example.com/x").is_err());
        assert!(parse_origin("hooks.example.com").is_err());
        assert!(parse_origin("ftp://hooks.example.com").is_err());
    }
}

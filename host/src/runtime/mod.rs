//! Runtime: loads check components and runs each check in its own sandbox.

pub mod bindings;
pub mod builtin;
mod engine;
mod hooks;
mod host_impl;
mod sandbox;

pub use engine::{sha256, CompileCache};
pub use hooks::{parse_origin, Capability, Grants, Hook};
pub use sandbox::Limits;

use crate::gather::Snapshot;
use crate::model::MeshModel;
use crate::report::model::{CheckInfo, CheckRecord, Finding, Status};
use anyhow::{anyhow, bail, Context, Result};
use bindings::v0_1::{Check, CheckPre};
use sandbox::State;
use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};
use std::time::Instant;
use wasmtime::component::{types::ComponentItem, Component, HasSelf, Linker};
use wasmtime::{Engine, Store, Trap};

/// What checks see: the snapshot and the model, plus their binding forms, built lazily once.
pub struct ScanData {
    pub snapshot: Snapshot,
    pub model: MeshModel,
    objects: std::sync::Mutex<
        std::collections::HashMap<
            String,
            Arc<OnceLock<Vec<bindings::v0_1::kridik::plugin::snapshot::Object>>>,
        >,
    >,
    mesh: OnceLock<host_impl::WitMesh>,
}

impl ScanData {
    pub fn new(snapshot: Snapshot, model: MeshModel) -> Self {
        ScanData {
            snapshot,
            model,
            objects: Default::default(),
            mesh: OnceLock::new(),
        }
    }

    fn wit_objects(
        &self,
        kind: &str,
    ) -> Arc<OnceLock<Vec<bindings::v0_1::kridik::plugin::snapshot::Object>>> {
        let cell = self
            .objects
            .lock()
            .unwrap()
            .entry(kind.to_string())
            .or_default()
            .clone();
        cell.get_or_init(|| {
            self.snapshot
                .of(kind)
                .iter()
                .map(host_impl::wit_object)
                .collect()
        });
        cell
    }

    fn wit_mesh(&self) -> &host_impl::WitMesh {
        self.mesh.get_or_init(|| host_impl::wit_mesh(&self.model))
    }
}

/// A loaded check component, ready to instantiate.
pub struct Plugin {
    pub name: String,
    pub digest: String,
    /// The `kridik:plugin` version the component was built against.
    pub wit_version: String,
    pub checks: Vec<CheckInfo>,
    pub from_cache: bool,
    /// The component's own import and export names (for OCI artifact metadata).
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    pre: CheckPre<State>,
}

pub struct Runtime {
    engine: Engine,
    linker: Linker<State>,
    hook_linker: Linker<hooks::HookState>,
    cache: CompileCache,
    pub limits: Limits,
    _ticker: engine::Ticker,
}

/// The outcome of one check run.
pub struct Outcome {
    pub record: CheckRecord,
    pub findings: Vec<Finding>,
}

impl Runtime {
    pub fn new(cache: CompileCache, limits: Limits) -> Result<Self> {
        let engine = engine::new_engine()?;
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)
            .map_err(anyhow::Error::from)
            .context("linking WASI")?;
        Check::add_to_linker::<_, HasSelf<State>>(&mut linker, |s| s)
            .map_err(anyhow::Error::from)
            .context("linking the kridik interfaces")?;
        let ticker = engine::Ticker::start(&engine);
        Ok(Runtime {
            hook_linker: hooks::linker(&engine)?,
            engine,
            linker,
            cache,
            limits,
            _ticker: ticker,
        })
    }

    /// Which world a component is built for, from its exports.
    pub fn world_of(&self, name: &str, wasm: &[u8]) -> Result<World> {
        validate_header(name, wasm)?;
        let (component, _) = self
            .cache
            .load(&self.engine, wasm, &sha256(wasm))
            .map_err(|e| invalid(name, &e))?;
        let exports: Vec<String> = component
            .component_type()
            .exports(&self.engine)
            .map(|(n, _)| n.to_string())
            .collect();
        let ours = |i: &str| {
            exports
                .iter()
                .any(|n| n.starts_with(&format!("{}/{i}@", bindings::PACKAGE)))
        };
        Ok(if ours("hooks") {
            World::Hook
        } else {
            World::Check
        })
    }

    /// Validates the header, compiles (or loads from the cache) and checks that
    /// the component exports `kridik:plugin/<interface>` of a supported version.
    fn component(
        &self,
        name: &str,
        wasm: &[u8],
        interface: &str,
    ) -> Result<(Component, String, String)> {
        validate_header(name, wasm)?;
        let digest = sha256(wasm);
        let (component, _) = self
            .cache
            .load(&self.engine, wasm, &digest)
            .map_err(|e| invalid(name, &e))?;
        let wit_version = self.check_exports(name, &component, interface)?;
        Ok((component, digest, wit_version))
    }

    /// Validates, compiles (or loads from the cache) and describes a component.
    pub fn load(&self, name: &str, wasm: &[u8]) -> Result<Plugin> {
        validate_header(name, wasm)?;
        let digest = sha256(wasm);
        let (component, from_cache) = self
            .cache
            .load(&self.engine, wasm, &digest)
            .map_err(|e| invalid(name, &e))?;
        let wit_version = self.check_exports(name, &component, "checks")?;
        self.check_imports(name, &component)?;
        let pre = self
            .linker
            .instantiate_pre(&component)
            .map_err(|e| anyhow!("{name} cannot be linked: {}", root(&e.into())))?;
        let pre = CheckPre::new(pre).map_err(|e| {
            anyhow!(
                "{name} does not match the kridik:plugin/check world: {}",
                root(&e.into())
            )
        })?;
        let ty = component.component_type();
        let names = |items: &mut dyn Iterator<Item = &str>| items.map(String::from).collect();
        let mut plugin = Plugin {
            name: name.to_string(),
            digest,
            wit_version,
            checks: Vec::new(),
            from_cache,
            imports: names(&mut ty.imports(&self.engine).map(|(n, _)| n)),
            exports: names(&mut ty.exports(&self.engine).map(|(n, _)| n)),
            pre,
        };
        plugin.checks = self.describe(&plugin)?;
        Ok(plugin)
    }

    /// The exported `kridik:plugin/<interface>@X` must be a version this host runs.
    fn check_exports(&self, name: &str, component: &Component, interface: &str) -> Result<String> {
        let ty = component.component_type();
        let prefix = format!("{}/{interface}@", bindings::PACKAGE);
        let exports: Vec<String> = ty
            .exports(&self.engine)
            .map(|(n, _)| n.to_string())
            .collect();
        let Some(version) = exports.iter().find_map(|n| n.strip_prefix(&prefix)) else {
            bail!(
                "{name} is not a kridik {} component: it does not export {}/{interface} (it exports: {}); build it against wit/v0.1.0 with the kridik SDK",
                if interface == "hooks" { "hook" } else { "check" },
                bindings::PACKAGE,
                if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") }
            );
        };
        let line = major_line(version);
        if !bindings::SUPPORTED.contains(&line.as_str()) {
            bail!(
                "{name} was built for {}@{version}, but this kridik runs {}@{}: rebuild the plugin against a supported version or upgrade kridik",
                bindings::PACKAGE,
                bindings::PACKAGE,
                bindings::SUPPORTED.iter().map(|v| format!("{v}.x")).collect::<Vec<_>>().join(", ")
            );
        }
        Ok(version.to_string())
    }

    /// Checks get only the kridik interfaces and an empty WASI; name anything else.
    fn check_imports(&self, name: &str, component: &Component) -> Result<()> {
        let ty = component.component_type();
        let foreign: Vec<String> = ty
            .imports(&self.engine)
            .filter(|(n, item)| {
                let ours =
                    n.starts_with(&format!("{}/", bindings::PACKAGE)) || n.starts_with("wasi:");
                !ours || !matches!(item.ty, ComponentItem::ComponentInstance(_))
            })
            .map(|(n, _)| n.to_string())
            .collect();
        if !foreign.is_empty() {
            bail!(
                "{name} imports {}, which kridik does not give to checks (they get only {}/snapshot, {}/mesh and a sandboxed WASI)",
                foreign.join(", "),
                bindings::PACKAGE,
                bindings::PACKAGE
            );
        }
        Ok(())
    }

    fn describe(&self, plugin: &Plugin) -> Result<Vec<CheckInfo>> {
        // describe() needs no data; it gets an empty snapshot and model.
        let empty = Snapshot::new(
            crate::gather::Source::Offline,
            Default::default(),
            Default::default(),
        );
        let model = crate::model::build(&empty);
        let data = Arc::new(ScanData::new(empty, model));
        let mut store = self.store(data, BTreeSet::new());
        let instance = plugin
            .pre
            .instantiate(&mut store)
            .map_err(|e| self.failure(&store, &e.into(), &plugin.name))?;
        let infos = instance
            .kridik_plugin_checks()
            .call_describe(&mut store)
            .map_err(|e| {
                anyhow!(
                    "{}: describe failed: {}",
                    plugin.name,
                    self.failure(&store, &e.into(), &plugin.name)
                )
            })?;
        let mut seen = BTreeSet::new();
        let infos: Vec<CheckInfo> = infos.into_iter().map(host_impl::check_info).collect();
        for c in &infos {
            if !valid_id(&c.id) {
                bail!("{}: check id `{}` is not valid (use letters, digits, `-`, `_` and `.`, up to 64)", plugin.name, c.id);
            }
            if !seen.insert(c.id.clone()) {
                bail!("{}: check id `{}` appears twice", plugin.name, c.id);
            }
        }
        Ok(infos)
    }

    fn store(&self, data: Arc<ScanData>, declared: BTreeSet<String>) -> Store<State> {
        let mut store = Store::new(&self.engine, State::new(data, declared, &self.limits));
        store.limiter(|s| &mut s.limiter);
        store.set_epoch_deadline(self.deadline_ticks());
        store.epoch_deadline_trap();
        store
    }

    /// The per-call deadline in epoch ticks (`--timeout`).
    fn deadline_ticks(&self) -> u64 {
        (self.limits.timeout.as_millis() / engine::TICK.as_millis()).max(1) as u64
    }

    /// Runs a component's checks one after another in one instance, so what the
    /// guest decoded once (the model, a parsed kind) serves all of them. Limits
    /// stay per check: each call has its own deadline, declared kinds, output
    /// capture and findings cap; memory is per instance (linear memory never
    /// shrinks). A trap poisons the instance: the next check gets a fresh one,
    /// so a timeout or memory blow-up is that check's error and nothing else's.
    pub fn run_component(
        &self,
        plugin: &Plugin,
        checks: &[&CheckInfo],
        data: Arc<ScanData>,
    ) -> Vec<Outcome> {
        let mut live: Option<(Store<State>, Check)> = None;
        let mut outcomes = Vec::with_capacity(checks.len());
        for check in checks {
            let started = Instant::now();
            let declared: BTreeSet<String> = check.kinds.iter().cloned().collect();
            if live.is_none() {
                let mut store = self.store(data.clone(), declared.clone());
                match plugin.pre.instantiate(&mut store) {
                    Ok(instance) => live = Some((store, instance)),
                    Err(e) => {
                        let error = self.failure(&store, &e.into(), &plugin.name).to_string();
                        outcomes.push(self.outcome(plugin, check, started, &store, Err(error)));
                        continue;
                    }
                }
            }
            let (store, instance) = live.as_mut().expect("instantiated above");
            store.data_mut().declared = declared;
            store.set_epoch_deadline(self.deadline_ticks());
            let result = instance
                .kridik_plugin_checks()
                .call_run(&mut *store, &check.id);
            let trapped = result.is_err();
            let result = match result {
                Ok(r) => Ok(r),
                Err(e) => Err(self.failure(store, &e.into(), &plugin.name).to_string()),
            };
            outcomes.push(self.outcome(plugin, check, started, store, result));
            if trapped {
                live = None;
            }
        }
        outcomes
    }

    /// One check's record and findings from what its call returned.
    fn outcome(
        &self,
        plugin: &Plugin,
        check: &CheckInfo,
        started: Instant,
        store: &Store<State>,
        result: Result<Result<Vec<bindings::v0_1::kridik::plugin::types::Finding>, String>, String>,
    ) -> Outcome {
        // Each check's output on its own, even when the instance is shared.
        let captured = |c: &sandbox::Capture| Some(c.take_text()).filter(|s| !s.is_empty());
        let (stdout, stderr) = (
            captured(&store.data().stdout),
            captured(&store.data().stderr),
        );
        let (status, findings, error) = match result {
            Ok(Ok(found)) => {
                let total = found.len();
                let mut findings: Vec<Finding> = found
                    .into_iter()
                    .take(self.limits.max_findings)
                    .map(|f| host_impl::finding(&check.id, f))
                    .collect();
                findings.sort_by(|a, b| {
                    b.severity
                        .cmp(&a.severity)
                        .then_with(|| a.resource.cmp(&b.resource))
                });
                if total > self.limits.max_findings {
                    let msg = format!("returned {total} findings; kept the first {} (raise --max-findings to see more)", self.limits.max_findings);
                    (Status::Error, findings, Some(msg))
                } else if findings.is_empty() {
                    (Status::Pass, findings, None)
                } else {
                    (Status::Fail, findings, None)
                }
            }
            Ok(Err(message)) => (
                Status::Error,
                Vec::new(),
                Some(format!("the check reported an error: {message}")),
            ),
            Err(failure) => (Status::Error, Vec::new(), Some(failure)),
        };
        Outcome {
            record: CheckRecord {
                id: check.id.clone(),
                title: check.title.clone(),
                description: check.description.clone(),
                default_severity: Some(check.default_severity),
                category: check.category.clone(),
                plugin: plugin.name.clone(),
                status,
                duration_ms: started.elapsed().as_secs_f64() * 1000.0,
                findings: findings.len(),
                error,
                stdout,
                stderr,
            },
            findings,
        }
    }

    /// Explains why a guest call failed, in the user's terms.
    fn failure(&self, store: &Store<State>, e: &anyhow::Error, name: &str) -> anyhow::Error {
        let state = store.data();
        explain_failure(
            &self.limits,
            state.limiter.hit,
            &state.stderr.text(),
            e,
            name,
        )
    }
}

/// Memory cap, timeout or trap (with the guest's last stderr line, usually
/// its panic message): the same words for checks and hooks.
fn explain_failure(
    limits: &Limits,
    memory_hit: bool,
    stderr: &str,
    e: &anyhow::Error,
    name: &str,
) -> anyhow::Error {
    if memory_hit {
        return anyhow!(
            "exceeded the memory limit of {} MiB (raise it with --memory-limit)",
            limits.memory_bytes >> 20
        );
    }
    if e.downcast_ref::<Trap>() == Some(&Trap::Interrupt) {
        return anyhow!(
            "timed out after {:?} (raise it with --timeout)",
            limits.timeout
        );
    }
    // The panic message is the last line before Rust's "note: run with RUST_BACKTRACE" hint.
    let last = stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty() && !l.starts_with("note: "))
        .unwrap_or_default();
    let trap = e
        .downcast_ref::<Trap>()
        .map(|t| t.to_string())
        .unwrap_or_else(|| root(e));
    if last.is_empty() {
        anyhow!("{name} trapped: {trap}")
    } else {
        anyhow!("{name} trapped: {trap} (stderr: {last})")
    }
}

/// The world a component is built for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum World {
    Check,
    Hook,
}

fn invalid(name: &str, e: &anyhow::Error) -> anyhow::Error {
    anyhow!(
        "{name} is not a valid WebAssembly component ({}): rebuild it with `cargo build --target wasm32-wasip2`",
        root(e)
    )
}

fn root(e: &anyhow::Error) -> String {
    e.root_cause().to_string()
}

/// `0.1.2` -> `0.1`; `1.4.0` -> `1`: the part of a version that must match.
fn major_line(version: &str) -> String {
    let mut parts = version.split('.');
    match (parts.next(), parts.next()) {
        (Some("0"), Some(minor)) => format!("0.{minor}"),
        (Some(major), _) => major.to_string(),
        _ => version.to_string(),
    }
}

fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
}

/// Whether bytes start like any WebAssembly binary (module or component).
pub fn is_wasm(head: &[u8]) -> bool {
    head.starts_with(b"\0asm")
}

/// Cheap, precise errors for files that are not components at all.
fn validate_header(name: &str, wasm: &[u8]) -> Result<()> {
    if wasm.len() < 8 || !is_wasm(wasm) {
        bail!("{name} is not a WebAssembly file (no \\0asm header): pass a .wasm component built for wasm32-wasip2");
    }
    match wasm[4..8] {
        [1, 0, 0, 0] => bail!(
            "{name} is a core WebAssembly module, not a component: build it with `cargo build --target wasm32-wasip2` (or wrap it with `wasm-tools component new`)"
        ),
        [0x0d, 0, 1, 0] => Ok(()),
        _ => bail!("{name} has an unsupported WebAssembly binary version {:?}", &wasm[4..8]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_lines_follow_semver_for_zero_majors() {
        assert_eq!(major_line("0.1.0"), "0.1");
        assert_eq!(major_line("0.2.3"), "0.2");
        assert_eq!(major_line("1.0.0"), "1");
    }

    #[test]
    fn headers_tell_core_modules_from_components() {
        assert!(validate_header("x", b"\0asm\x0d\0\x01\0").is_ok());
        let core = validate_header("m.wasm", b"\0asm\x01\0\0\0")
            .unwrap_err()
            .to_string();
        assert!(
            core.contains("core WebAssembly module, not a component"),
            "{core}"
        );
        let junk = validate_header("j.wasm", b"hello world")
            .unwrap_err()
            .to_string();
        assert!(junk.contains("not a WebAssembly file"), "{junk}");
    }

    #[test]
    fn ids_are_restricted() {
        assert!(valid_id("IST-MTLS-001"));
        assert!(!valid_id("a b"));
        assert!(!valid_id(""));
    }
}

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

pub use host_impl::WitData;

use crate::gather::Snapshot;
use crate::model::ScanData;
use crate::report::model::{CheckInfo, CheckRecord, Finding, Status};
use anyhow::{anyhow, bail, Context, Result};
use sandbox::State;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;
use wasmtime::component::{types::ComponentItem, Component, HasSelf, Linker};
use wasmtime::{Engine, Store, Trap};

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
    pre: Pre,
}

/// A component linked against the world of the version it was built for.
enum Pre {
    V0_1(bindings::v0_1::CheckPre<State>),
    V0_2(bindings::v0_2::CheckPre<State>),
}

/// A live instance of either version.
enum Instance {
    V0_1(bindings::v0_1::Check),
    V0_2(bindings::v0_2::Check),
}

/// What one `run` call returned: the findings (at most `max`, converted) and
/// how many the guest returned, or the guest's own error.
type Returned = Result<(usize, Vec<Finding>), String>;

impl Pre {
    fn instantiate(&self, store: &mut Store<State>) -> wasmtime::Result<Instance> {
        Ok(match self {
            Pre::V0_1(p) => Instance::V0_1(p.instantiate(store)?),
            Pre::V0_2(p) => Instance::V0_2(p.instantiate(store)?),
        })
    }
}

impl Instance {
    fn describe(&self, store: &mut Store<State>) -> wasmtime::Result<Vec<CheckInfo>> {
        Ok(match self {
            Instance::V0_1(i) => i
                .kridik_plugin_checks()
                .call_describe(store)?
                .into_iter()
                .map(host_impl::v0_1::check_info)
                .collect(),
            Instance::V0_2(i) => i
                .kridik_plugin_checks()
                .call_describe(store)?
                .into_iter()
                .map(host_impl::v0_2::check_info)
                .collect(),
        })
    }

    fn run(&self, store: &mut Store<State>, id: &str, max: usize) -> wasmtime::Result<Returned> {
        fn keep<F>(
            found: Result<Vec<F>, String>,
            max: usize,
            f: impl Fn(F) -> Finding,
        ) -> Returned {
            found.map(|v| (v.len(), v.into_iter().take(max).map(f).collect()))
        }
        Ok(match self {
            Instance::V0_1(i) => keep(i.kridik_plugin_checks().call_run(store, id)?, max, |f| {
                host_impl::v0_1::finding(id, f)
            }),
            Instance::V0_2(i) => keep(i.kridik_plugin_checks().call_run(store, id)?, max, |f| {
                host_impl::v0_2::finding(id, f)
            }),
        })
    }
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
        bindings::v0_1::Check::add_to_linker::<_, HasSelf<State>>(&mut linker, |s| s)
            .map_err(anyhow::Error::from)
            .context("linking the kridik 0.1 interfaces")?;
        bindings::v0_2::Check::add_to_linker::<_, HasSelf<State>>(&mut linker, |s| s)
            .map_err(anyhow::Error::from)
            .context("linking the kridik 0.2 interfaces")?;
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
        let mismatch = |e: wasmtime::Error| {
            anyhow!(
                "{name} does not match the {}/check@{wit_version} world: {}",
                bindings::PACKAGE,
                root(&e.into())
            )
        };
        let pre = if major_line(&wit_version) == "0.1" {
            Pre::V0_1(bindings::v0_1::CheckPre::new(pre).map_err(mismatch)?)
        } else {
            Pre::V0_2(bindings::v0_2::CheckPre::new(pre).map_err(mismatch)?)
        };
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
                "{name} is not a kridik {} component: it does not export {}/{interface} (it exports: {}); build it against wit/{} with the kridik SDK",
                if interface == "hooks" { "hook" } else { "check" },
                bindings::PACKAGE,
                if exports.is_empty() { "nothing".to_string() } else { exports.join(", ") },
                if interface == "hooks" { "v0.1.0" } else { "v0.2.1" }
            );
        };
        let line = major_line(version);
        let supported = if interface == "hooks" {
            bindings::HOOKS
        } else {
            bindings::CHECKS
        };
        if !supported.contains(&line.as_str()) {
            bail!(
                "{name} was built for {}@{version}, but this kridik runs {}@{}: rebuild the plugin against a supported version or upgrade kridik",
                bindings::PACKAGE,
                bindings::PACKAGE,
                supported.iter().map(|v| format!("{v}.x")).collect::<Vec<_>>().join(", ")
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
        let data = Arc::new(WitData::new(Arc::new(ScanData::new(empty, model))));
        let mut store = self.store(data, BTreeSet::new());
        let instance = plugin
            .pre
            .instantiate(&mut store)
            .map_err(|e| self.failure(&store, &e.into(), &plugin.name))?;
        let infos = instance.describe(&mut store).map_err(|e| {
            anyhow!(
                "{}: describe failed: {}",
                plugin.name,
                self.failure(&store, &e.into(), &plugin.name)
            )
        })?;
        let mut seen = BTreeSet::new();
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

    fn store(&self, data: Arc<WitData>, declared: BTreeSet<String>) -> Store<State> {
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
    /// A check that hits the memory limit in an instance the component's
    /// earlier checks had already grown runs once more in a fresh instance:
    /// what the others kept must not make it fail where it fits on its own.
    pub fn run_component(
        &self,
        plugin: &Plugin,
        checks: &[&CheckInfo],
        data: Arc<WitData>,
    ) -> Vec<Outcome> {
        // The instance and how many checks it has run.
        let mut live: Option<(Store<State>, Instance, usize)> = None;
        let mut outcomes = Vec::with_capacity(checks.len());
        for check in checks {
            let started = Instant::now();
            let declared: BTreeSet<String> = check.kinds.iter().cloned().collect();
            loop {
                if live.is_none() {
                    let mut store = self.store(data.clone(), declared.clone());
                    match plugin.pre.instantiate(&mut store) {
                        Ok(instance) => live = Some((store, instance, 0)),
                        Err(e) => {
                            let error = self.failure(&store, &e.into(), &plugin.name).to_string();
                            outcomes.push(self.outcome(plugin, check, started, &store, Err(error)));
                            break;
                        }
                    }
                }
                let (store, instance, ran) = live.as_mut().expect("instantiated above");
                store.data_mut().declared = declared.clone();
                // Whether this call, not an earlier one, was refused memory.
                store.data_mut().limiter.hit = false;
                store.set_epoch_deadline(self.deadline_ticks());
                let result = instance.run(store, &check.id, self.limits.max_findings);
                *ran += 1;
                let e = match result {
                    Ok(returned) => {
                        outcomes.push(self.outcome(plugin, check, started, store, Ok(returned)));
                        break;
                    }
                    Err(e) => e,
                };
                let shared = *ran > 1;
                let (store, _, _) = live.take().expect("instantiated above");
                if shared && store.data().limiter.hit {
                    continue;
                }
                let error = self.failure(&store, &e.into(), &plugin.name).to_string();
                outcomes.push(self.outcome(plugin, check, started, &store, Err(error)));
                break;
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
        result: Result<Returned, String>,
    ) -> Outcome {
        // Each check's output on its own, even when the instance is shared.
        let captured = |c: &sandbox::Capture| Some(c.take_text()).filter(|s| !s.is_empty());
        let (stdout, stderr) = (
            captured(&store.data().stdout),
            captured(&store.data().stderr),
        );
        let (status, findings, error) = match result {
            Ok(Ok((total, mut findings))) => {
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

//! The pipeline: load checks -> gather a snapshot -> build the model -> run
//! every check in its sandbox, in parallel -> assemble the report.

use crate::gather::{self, live::LiveOptions, Snapshot, Wants};
use crate::model;
use crate::model::ScanData;
use crate::plugins;
use crate::report::model::{
    CheckInfo, CheckRecord, Finding, HookRecord, Report, SourceInfo, Status, Summary,
    SCHEMA_VERSION,
};
use crate::runtime::{builtin, CompileCache, Limits, Plugin, Runtime, WitData};
use crate::triage;
use anyhow::Result;
use rayon::prelude::*;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Files and directories to read; empty means a live scan.
    pub inputs: Vec<PathBuf>,
    pub live: LiveOptions,
    /// Components to run without installing them.
    pub plugins: Vec<PathBuf>,
    pub no_builtin: bool,
    /// Skip the plugins installed with `kridik plugin add`.
    pub no_installed: bool,
    /// Where installed plugins live (default: `KRIDIK_HOME`, then the user data dir).
    pub home: Option<PathBuf>,
    pub include: Vec<String>,
    pub exclude: Vec<String>,
    pub limits: Limits,
    pub cache_dir: Option<PathBuf>,
    pub no_cache: bool,
    /// Suppressions and baseline.
    pub triage: crate::triage::Options,
    /// Extra sensitive workloads for attack paths: `NAMESPACE`, `NAMESPACE/NAME`, `LABEL=VALUE`.
    pub sensitive: Vec<String>,
    /// Report only on these namespaces (`-n`); empty means all.
    pub namespaces: Vec<String>,
    /// Report nothing on these namespaces (`--exclude-namespaces`).
    pub exclude_namespaces: Vec<String>,
    /// Where to show progress (a terminal's stderr), or nowhere.
    pub progress: Option<indicatif::ProgressBar>,
    /// `--deep`: read the proxies' config dumps (live scans only).
    pub deep: Option<crate::assess::deep::Options>,
}

impl Options {
    fn stage(&self, message: String) {
        if let Some(p) = &self.progress {
            p.set_message(message);
        }
    }
}

impl Options {
    /// Whether a finding on this object is in the namespaces asked for. The
    /// model always sees the whole mesh (a root-namespace policy decides for
    /// every namespace); only what is reported is scoped. A Namespace object
    /// counts as in its own namespace; other cluster-scoped objects are in
    /// scope unless namespaces were named.
    pub fn in_scope(&self, r: &crate::vocab::ObjectRef) -> bool {
        let ns = if r.namespace.is_empty() && r.kind == "Namespace" {
            r.name.as_str()
        } else {
            r.namespace.as_str()
        };
        self.namespace_in_scope(ns)
    }

    /// Whether results in namespace `ns` (`""`: cluster scope) are reported.
    pub fn namespace_in_scope(&self, ns: &str) -> bool {
        if ns.is_empty() {
            return self.namespaces.is_empty();
        }
        (self.namespaces.is_empty() || self.namespaces.iter().any(|n| n == ns))
            && !self.exclude_namespaces.iter().any(|n| n == ns)
    }
}

/// Components that loaded, and records for those that did not.
pub struct Loaded {
    pub plugins: Vec<Plugin>,
    pub failures: Vec<CheckRecord>,
    /// Installed result hooks with their bytes (read with the index, once).
    pub hooks: Vec<(plugins::Installed, anyhow::Result<Vec<u8>>)>,
}

pub fn runtime(opts: &Options) -> Result<Runtime> {
    let cache = if opts.no_cache {
        CompileCache::disabled()
    } else {
        CompileCache::new(opts.cache_dir.clone())
    };
    Runtime::new(cache, opts.limits.clone())
}

/// Loads the built-in pack, the installed plugins and `--plugin` files in
/// parallel. A component that fails to load becomes an errored record; the
/// others still run.
pub fn load_plugins(rt: &Runtime, opts: &Options) -> Loaded {
    let mut sources: Vec<(String, Result<Vec<u8>, String>)> = Vec::new();
    if !opts.no_builtin {
        sources.extend(
            builtin::COMPONENTS
                .iter()
                .map(|(name, bytes)| (name.to_string(), Ok(bytes.to_vec()))),
        );
    }
    let mut hooks = Vec::new();
    if !opts.no_installed {
        // Without a home (a scratch image) nothing can be installed.
        if let Some(store) = plugins::Store::find(opts.home.clone()) {
            match store.list() {
                Ok(installed) => {
                    for p in installed {
                        let bytes = store.read(&p);
                        if p.world == "hook" {
                            hooks.push((p, bytes));
                        } else {
                            sources.push((p.name, bytes.map_err(|e| format!("{e:#}"))));
                        }
                    }
                }
                Err(e) => sources.push(("installed plugins".into(), Err(format!("{e:#}")))),
            }
        }
    }
    for p in &opts.plugins {
        let name = p.display().to_string();
        let bytes = crate::state_file::read_capped(p, crate::state_file::MAX_COMPONENT_BYTES)
            .map_err(|e| format!("cannot read plugin {name}: {e}"));
        sources.push((name, bytes));
    }
    let results: Vec<(String, Result<Plugin, String>)> = sources
        .into_par_iter()
        .map(|(name, bytes)| {
            let loaded = bytes.and_then(|b| rt.load(&name, &b).map_err(|e| format!("{e:#}")));
            (name, loaded)
        })
        .collect();
    let mut loaded = Loaded {
        plugins: Vec::new(),
        failures: Vec::new(),
        hooks,
    };
    let mut ids = BTreeSet::new();
    for (name, result) in results {
        match result {
            Ok(mut plugin) => {
                // The first component to claim an id keeps it.
                let (keep, clash): (Vec<CheckInfo>, Vec<CheckInfo>) = plugin
                    .checks
                    .drain(..)
                    .partition(|c| ids.insert(c.id.clone()));
                for c in clash {
                    loaded.failures.push(errored(
                        &c.id,
                        &c.title,
                        &name,
                        format!("check id {} is already provided by another component", c.id),
                    ));
                }
                plugin.checks = keep;
                loaded.plugins.push(plugin);
            }
            Err(message) => loaded.failures.push(errored(
                &format!("plugin:{name}"),
                "plugin failed to load",
                &name,
                message,
            )),
        }
    }
    loaded
}

fn errored(id: &str, title: &str, plugin: &str, error: String) -> CheckRecord {
    CheckRecord {
        id: id.into(),
        title: title.into(),
        description: String::new(),
        default_severity: None,
        category: String::new(),
        plugin: plugin.into(),
        status: Status::Error,
        duration_ms: 0.0,
        findings: 0,
        error: Some(error),
        stdout: None,
        stderr: None,
    }
}

/// The known id nearest to a mistyped one (case ignored), if it is near at all.
fn closest<'a>(id: &str, known: &[&'a str]) -> Option<&'a str> {
    let wanted = id.to_ascii_uppercase();
    known
        .iter()
        .map(|k| (strsim::normalized_levenshtein(&wanted, k), *k))
        .filter(|(score, _)| *score >= 0.7)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, k)| k)
}

/// What a scan with these components and options reads (and so lists live).
pub fn wants(loaded: &Loaded, opts: &Options) -> Wants {
    Wants::new(
        loaded
            .plugins
            .iter()
            .flat_map(|p| &p.checks)
            .filter(|c| selected(c, opts))
            .flat_map(|c| c.kinds.iter().cloned()),
    )
}

fn selected(check: &CheckInfo, opts: &Options) -> bool {
    selected_id(&check.id, opts)
}

fn selected_id(id: &str, opts: &Options) -> bool {
    (opts.include.is_empty() || opts.include.iter().any(|i| i == id))
        && !opts.exclude.iter().any(|e| e == id)
}

pub fn gather(opts: &Options, wants: &Wants) -> Result<Snapshot> {
    if opts.inputs.is_empty() {
        let live = gather::live::LiveOptions {
            namespaces: opts.namespaces.clone(),
            ..opts.live.clone()
        };
        gather::live::gather_blocking(&live, wants)
    } else {
        Ok(gather::files::load(&opts.inputs, wants))
    }
}

pub fn scan(opts: &Options) -> Result<Report> {
    if opts.deep.is_some() && !opts.inputs.is_empty() {
        anyhow::bail!(
            "--deep reads the proxies of a live cluster: drop -f, or drop --deep to scan files"
        );
    }
    // A path that does not exist is a typo, not an empty cluster: stop first.
    if let Some(missing) = opts
        .inputs
        .iter()
        .find(|p| p.as_os_str() != "-" && std::fs::symlink_metadata(p).is_err())
    {
        anyhow::bail!(
            "{} does not exist: check the path given to -f",
            crate::printable::line(&missing.display().to_string())
        );
    }
    // Config and baseline mistakes stop the scan before it starts.
    let cwd = std::env::current_dir().unwrap_or_default();
    let config = triage::config::load(opts.triage.config.as_deref(), &cwd)?;
    let baseline = match &opts.triage.baseline {
        Some(path) => Some((path, triage::baseline::read(path)?)),
        None => None,
    };
    // `--plugin` naming a file that is missing or not WebAssembly at all (a
    // manifest, a typo) is a usage mistake: stop before scanning. A broken or
    // hostile component is that check's reported error instead.
    for p in &opts.plugins {
        let mut head = [0u8; 4];
        let wasm = std::fs::File::open(p)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
            .map(|_| crate::runtime::is_wasm(&head));
        match wasm {
            Ok(true) => {}
            Ok(false) => anyhow::bail!(
                "--plugin {} is not a WebAssembly file: pass a check component (.wasm) built for wasm32-wasip2",
                crate::printable::line(&p.display().to_string())
            ),
            Err(e) => anyhow::bail!(
                "--plugin {}: {e}: check the path",
                crate::printable::line(&p.display().to_string())
            ),
        }
    }
    let rt = runtime(opts)?;
    let loaded = load_plugins(&rt, opts);
    let jobs: Vec<(&Plugin, &CheckInfo)> = loaded
        .plugins
        .iter()
        .flat_map(|p| p.checks.iter().map(move |c| (p, c)))
        .filter(|(_, c)| selected(c, opts))
        .collect();
    // An id no component provides is a typo: say so, with the closest id.
    let deep_catalog = crate::assess::deep::catalog();
    let known: Vec<&str> = loaded
        .plugins
        .iter()
        .flat_map(|p| p.checks.iter().map(|c| c.id.as_str()))
        .chain(deep_catalog.iter().map(|c| c.id.as_str()))
        .collect();
    for (flag, ids) in [("--include", &opts.include), ("--exclude", &opts.exclude)] {
        if let Some(id) = ids.iter().find(|i| !known.contains(&i.as_str())) {
            anyhow::bail!(
                "{flag} names check {id}, which no loaded component provides{} (list them with `kridik checks`)",
                closest(id, &known)
                    .map(|c| format!("; did you mean {c}?"))
                    .unwrap_or_default()
            );
        }
    }
    let wants = wants(&loaded, opts);
    opts.stage(if opts.inputs.is_empty() {
        "listing the cluster's objects".to_string()
    } else {
        "reading the input".to_string()
    });
    let mut snapshot = gather(opts, &wants)?;
    crate::memory::release_freed();
    opts.stage(format!(
        "modelling the mesh from {} objects",
        snapshot.len()
    ));
    if !opts.inputs.is_empty() && snapshot.is_empty() {
        // Nothing to scan is not a clean scan: say why in one line.
        let why = match (snapshot.input_errors.first(), snapshot.skipped.is_empty()) {
            (Some(first), _) => format!(
                " ({} input error(s); the first: {first})",
                snapshot.input_errors.len()
            ),
            (None, false) => format!(
                " (only kinds no check reads: {})",
                snapshot
                    .skipped
                    .iter()
                    .map(|(k, n)| format!("{n} {k}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            (None, true) => String::new(),
        };
        anyhow::bail!(
            "no Kubernetes objects to scan in the input{why}: give manifests or a `kubectl get -o yaml` dump"
        );
    }
    let model = model::build(&snapshot);
    // --deep reads the proxies while the checks run (network beside CPU).
    let deep = opts
        .deep
        .as_ref()
        .map(|o| start_deep(opts, o, &snapshot, &model));
    snapshot.drop_projections(&wants);
    crate::memory::release_freed();
    let data = Arc::new(ScanData::new(snapshot, model));
    let wit = Arc::new(WitData::new(data.clone()));
    if !jobs.is_empty() {
        wit.prepare();
    }
    // Components in parallel, each component's checks in one instance, in turn.
    let mut by_component: Vec<(&Plugin, Vec<&CheckInfo>)> = Vec::new();
    for (p, c) in &jobs {
        match by_component.iter_mut().find(|(q, _)| std::ptr::eq(*q, *p)) {
            Some((_, checks)) => checks.push(c),
            None => by_component.push((p, vec![c])),
        }
    }
    if let Some(p) = &opts.progress {
        p.set_length(jobs.len() as u64);
        p.set_position(0);
        p.set_message("running checks");
    }
    // Longest first, each free core taking the next component: with a pack
    // of uneven components (authz holds sixteen checks), an even split by
    // position left one core idle while the other ran the long tail.
    let mut order: Vec<usize> = (0..by_component.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(by_component[i].1.len()));
    let workers = rayon::current_num_threads();
    let mut outcomes = work_queue(workers, &order, |i| {
        let (p, checks) = &by_component[i];
        let outcome = rt.run_component(p, checks, wit.clone());
        if let Some(bar) = &opts.progress {
            bar.inc(checks.len() as u64);
        }
        outcome
    });
    // The report's order does not depend on which core finished first.
    outcomes.sort_by_key(|(i, _)| *i);
    let outcomes = outcomes.into_iter().flat_map(|(_, o)| o);
    opts.stage("assessing attack paths and the score".to_string());

    let mut checks: Vec<CheckRecord> = loaded.failures;
    let mut findings: Vec<Finding> = Vec::new();
    for o in outcomes {
        checks.push(o.record);
        findings.extend(o.findings);
    }
    let deep = deep.map(|reads| {
        opts.stage("comparing the proxies with the configuration".to_string());
        finish_deep(reads, &data, &checks, &mut findings)
    });
    let mut deep_gaps = Vec::new();
    let observed = deep.map(|mut d| {
        // -i / -e choose among the data-plane checks too.
        d.findings.retain(|f| selected_id(&f.check_id, opts));
        d.checks.retain(|c| selected_id(&c.id, opts));
        findings.append(&mut d.findings);
        checks.append(&mut d.checks);
        deep_gaps = d.gaps;
        d.observed
    });
    // -n / --exclude-namespaces: keep the findings on the namespaces asked
    // for, and recount each check's findings and status.
    findings.retain(|f| opts.in_scope(&f.resource));
    for c in &mut checks {
        if matches!(c.status, Status::Fail | Status::Pass) {
            c.findings = findings.iter().filter(|f| f.check_id == c.id).count();
            c.status = if c.findings > 0 {
                Status::Fail
            } else {
                Status::Pass
            };
        }
    }
    locate(&mut findings, &data.snapshot);
    crate::report::model::sort_findings(&mut findings);
    checks.sort_by(|a, b| a.id.cmp(&b.id));
    let mut report = assemble(opts, &data, checks, findings);
    report.evidence_gaps.extend(deep_gaps);
    triage::apply(
        &mut report,
        &data.snapshot,
        &config,
        baseline,
        opts.triage.report_unused,
    );
    let inputs: String = opts
        .inputs
        .iter()
        .map(|p| format!("-f {} ", p.display()))
        .collect();
    let coverage = crate::assess::score::Coverage {
        excluded: loaded
            .plugins
            .iter()
            .flat_map(|p| &p.checks)
            .filter(|c| !selected(c, opts))
            .map(|c| c.category.clone())
            .collect(),
        builtin_ran: report
            .checks
            .iter()
            .any(|c| c.plugin.starts_with(builtin::PREFIX)),
    };
    report.assessment = Some(crate::assess::run(
        &mut report,
        &data,
        &opts.sensitive,
        &inputs,
        &coverage,
        observed.as_ref(),
    ));
    report.hooks = run_hooks(&rt, &loaded.hooks, &report);
    if let Some(p) = &opts.progress {
        p.finish_and_clear();
    }
    Ok(report)
}

/// Runs `f` on every index of `order`, `workers` threads taking the next
/// index as they free up (so a long item does not hold a share of the rest
/// behind it); the results come with their index, in no particular order.
pub(crate) fn work_queue<T: Send>(
    workers: usize,
    order: &[usize],
    f: impl Fn(usize) -> T + Sync,
) -> Vec<(usize, T)> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers.clamp(1, order.len().max(1)))
            .map(|_| {
                scope.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let taken = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(&i) = order.get(taken) else {
                            break done;
                        };
                        done.push((i, f(i)));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker panicked"))
            .collect()
    })
}

/// Proxy reads under way: the thread doing them, which workload each pod
/// speaks for, how many pods the cap left out, and the parsed policies (the
/// sample needed them; the comparison reuses them).
struct DeepReads {
    handle: std::thread::JoinHandle<Result<Vec<crate::gather::proxies::Read>>>,
    workloads: Vec<Option<usize>>,
    left_out: usize,
    policies: crate::assess::authz::Policies,
}

/// Chooses the pods (every pod of a workload on an attack path) and reads
/// their proxies on a thread of its own.
fn start_deep(
    opts: &Options,
    deep: &crate::assess::deep::Options,
    snapshot: &Snapshot,
    model: &model::MeshModel,
) -> DeepReads {
    let policies = crate::assess::authz::Policies::parse(snapshot, model);
    let protocols = crate::assess::paths::protocols(snapshot, model);
    let paths = crate::assess::paths::find(model, &policies, &opts.sensitive, &protocols);
    let by_target: std::collections::HashMap<_, &str> = model
        .workloads
        .iter()
        .map(|w| (w.target.key(), w.id.as_str()))
        .collect();
    let on_path: std::collections::HashSet<&str> = paths
        .paths
        .iter()
        .flat_map(|p| &p.hops)
        .flat_map(|h| &h.objects)
        .filter_map(|r| by_target.get(&r.key()).copied())
        .collect();
    let sample = crate::assess::deep::sample(model, &on_path, deep);
    let (targets, workloads): (Vec<_>, Vec<_>) = sample.targets.into_iter().unzip();
    let live = opts.live.clone();
    let limits = crate::gather::proxies::Limits {
        timeout: deep.timeout,
        concurrency: deep.concurrency,
    };
    let handle = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        rt.block_on(async {
            let client = gather::live::connect(&live).await?.client;
            Ok(gather::proxies::read_all(&client, targets, &limits).await)
        })
    });
    DeepReads {
        handle,
        workloads,
        left_out: sample.left_out,
        policies,
    }
}

fn finish_deep(
    deep: DeepReads,
    data: &ScanData,
    checks: &[CheckRecord],
    findings: &mut [Finding],
) -> crate::assess::deep::Outcome {
    let (reads, failure) = match deep.handle.join() {
        Ok(Ok(reads)) => (reads, None),
        Ok(Err(e)) => (Vec::new(), Some(format!("{e:#}"))),
        // A bug in the reader must not cost the scan its report.
        Err(_) => (
            Vec::new(),
            Some("its reader thread failed (a bug: please report it)".to_string()),
        ),
    };
    let reads: Vec<_> = reads.into_iter().zip(deep.workloads).collect();
    let mut out = crate::assess::deep::compare(
        &data.snapshot,
        &data.model,
        &deep.policies,
        &reads,
        deep.left_out,
    );
    if let Some(e) = failure {
        // The scan itself connected a moment ago; say why this did not.
        out.gaps.push(crate::report::model::EvidenceGap {
            what: format!("--deep could not read the proxies: {e}"),
            checks_affected: "--deep verification".into(),
            command: "kridik scan --deep".into(),
        });
    }
    let categories: std::collections::HashMap<&str, &str> = checks
        .iter()
        .map(|c| (c.id.as_str(), c.category.as_str()))
        .collect();
    crate::assess::deep::confirm(findings, &data.model, &out.observed, &categories);
    out
}

/// Gives every object a finding names (its resource and its evidence sources)
/// the file and line it was read from: checks never choose them, so SARIF and
/// the text point only at objects that are in the snapshot.
fn locate(findings: &mut [Finding], snapshot: &Snapshot) {
    let origins: std::collections::HashMap<(&str, &str, &str), &gather::Origin> = snapshot
        .all()
        .filter_map(|o| {
            Some((
                (o.kind.as_str(), o.namespace.as_str(), o.name.as_str()),
                o.origin.as_ref()?,
            ))
        })
        .collect();
    if origins.is_empty() {
        return;
    }
    let fill = |r: &mut crate::vocab::ObjectRef| {
        if r.file.is_none() {
            let found = origins.get(&r.key()).map(|o| (o.file.to_string(), o.line));
            if let Some((file, line)) = found {
                r.file = Some(file);
                r.line = Some(line);
            }
        }
    };
    for f in findings.iter_mut() {
        fill(&mut f.resource);
        for e in &mut f.evidence {
            if let Some(source) = &mut e.source {
                fill(source);
            }
        }
    }
}

/// Runs every installed result hook, in name order, with the finished report.
fn run_hooks(
    rt: &Runtime,
    hooks: &[(plugins::Installed, anyhow::Result<Vec<u8>>)],
    report: &Report,
) -> Vec<HookRecord> {
    // The JSON document hooks may ask for, serialized once for all of them.
    let document: Arc<str> = if hooks.is_empty() {
        Arc::from("")
    } else {
        Arc::from(crate::report::json(report))
    };
    hooks
        .iter()
        .map(|(p, bytes)| {
            let loaded = match bytes {
                Ok(bytes) => rt.load_hook(&p.name, bytes),
                Err(e) => Err(anyhow::anyhow!("{e:#}")),
            };
            match loaded {
                Ok(hook) => rt.run_hook(&hook, &p.grants, report, &document),
                Err(e) => HookRecord {
                    name: p.name.clone(),
                    status: Status::Error,
                    duration_ms: 0.0,
                    error: Some(format!("{e:#}")),
                    denied: Vec::new(),
                    notes: Vec::new(),
                    stdout: None,
                    stderr: None,
                },
            }
        })
        .collect()
}

fn assemble(
    opts: &Options,
    data: &ScanData,
    checks: Vec<CheckRecord>,
    findings: Vec<Finding>,
) -> Report {
    let snapshot = &data.snapshot;
    let mut summary = Summary {
        findings: findings.len(),
        checks_run: checks
            .iter()
            .filter(|c| c.status != Status::Skipped)
            .count(),
        checks_failed: checks.iter().filter(|c| c.status == Status::Fail).count(),
        checks_errored: checks.iter().filter(|c| c.status == Status::Error).count(),
        objects: snapshot.len(),
        workloads: data.model.workloads.len(),
        input_errors: snapshot.input_errors.len(),
        ..Summary::default()
    };
    for f in &findings {
        *summary.by_severity.entry(f.severity).or_default() += 1;
    }
    let source = match &snapshot.source {
        gather::Source::Live { context } => SourceInfo {
            kind: "live",
            context: Some(context.clone()),
            inputs: vec![],
        },
        gather::Source::Offline => SourceInfo {
            kind: "offline",
            context: None,
            inputs: opts
                .inputs
                .iter()
                .map(|p| p.display().to_string())
                .collect(),
        },
    };
    Report {
        schema_version: SCHEMA_VERSION,
        kridik_version: env!("CARGO_PKG_VERSION"),
        source,
        summary,
        findings,
        checks,
        input_errors: snapshot.input_errors.clone(),
        unavailable_kinds: snapshot.unavailable.values().cloned().collect(),
        model_problems: data.model.problems.clone(),
        triage: Default::default(),
        evidence_gaps: crate::report::gaps::find(snapshot, &data.model),
        assessment: None,
        hooks: Vec::new(),
        clusters: Vec::new(),
    }
}

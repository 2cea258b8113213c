//! Command-line arguments and what each command does with them.

mod plugin;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand, ValueEnum};
use is_terminal::IsTerminal;
use kridik::gather::live::LiveOptions;
use kridik::gather::Wants;
use kridik::report;
use kridik::runtime::Limits;
use kridik::scan::{self, Options};
use kridik::vocab::Severity;
use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Parser)]
#[command(
    name = "kridik",
    version,
    about = "Security scanner for Kubernetes clusters running Istio; checks are sandboxed WebAssembly components"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Scan a live cluster (current kubeconfig context) or manifests (-f).
    Scan(Box<ScanArgs>),
    /// Save a live cluster's objects to a file, to scan offline later with -f.
    Snapshot(SnapshotArgs),
    /// List the checks that would run.
    Checks(ChecksArgs),
    /// Add, list, inspect and remove installed check components.
    #[command(subcommand)]
    Plugin(plugin::PluginCommand),
    /// Start a new check project.
    #[command(subcommand)]
    Check(CheckCommand),
    /// Print the least-privilege ClusterRole a live scan needs (get/list on
    /// exactly what it reads, never Secrets), for these checks and plugins.
    Rbac(RbacArgs),
    /// What a change does: scan --base and --head and report the findings
    /// added, fixed and re-rated, the score before and after, and the attack
    /// paths opened and closed.
    Diff(Box<DiffArgs>),
    /// Print the version, commit, the WIT versions this kridik runs and the
    /// built-in pack's digest.
    Version,
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell),
    /// e.g. `kridik completion bash > /etc/bash_completion.d/kridik`.
    Completion {
        #[arg(value_enum, ignore_case = true)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) to stdout; `make man` writes target/man/kridik.1.
    #[command(hide = true)]
    Man,
}

#[derive(Subcommand)]
enum CheckCommand {
    /// Scaffold a check that builds and passes as generated (`make test` in it).
    New(NewArgs),
}

#[derive(Args)]
struct NewArgs {
    /// Project and check name: lower-case letters, digits and `-`.
    name: String,
    #[arg(long, value_enum, default_value_t = kridik::scaffold::Lang::Rust)]
    lang: kridik::scaffold::Lang,
    /// Where to create it (default: the current directory).
    #[arg(long, value_name = "DIR", default_value = ".")]
    dir: PathBuf,
}

/// Which checks run (-i / -e), shared by scan, diff and rbac.
#[derive(Args)]
struct Selection {
    /// Run only these check ids (comma separated).
    #[arg(short = 'i', long, value_delimiter = ',')]
    include: Vec<String>,
    /// Skip these check ids (comma separated).
    #[arg(short = 'e', long, value_delimiter = ',')]
    exclude: Vec<String>,
}

#[derive(Args)]
struct Cluster {
    /// Path to the kubeconfig (default: $KUBECONFIG or ~/.kube/config, then in-cluster).
    #[arg(long, env = "KUBECONFIG", value_name = "FILE")]
    kubeconfig: Option<PathBuf>,
    /// Kubeconfig context to use (default: the current context). `scan`
    /// takes several (repeatable, or comma-separated) for one report over
    /// several clusters.
    #[arg(long, value_delimiter = ',')]
    context: Vec<String>,
    /// Objects per list request.
    #[arg(long, default_value_t = 500)]
    page_size: u32,
    /// Deadline of each API request (discovery and every list page).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    request_timeout: Duration,
}

impl Cluster {
    /// The options for one cluster: several contexts are `scan`'s alone.
    fn options(&self) -> LiveOptions {
        LiveOptions {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.first().cloned(),
            page_size: self.page_size,
            concurrency: 8,
            request_timeout: self.request_timeout,
            namespaces: Vec::new(),
        }
    }

    /// For commands that read one cluster.
    fn one(&self) -> Result<LiveOptions> {
        if self.context.len() > 1 {
            bail!("this command reads one cluster: give one --context (several are for `kridik scan`)");
        }
        Ok(self.options())
    }
}

#[derive(Args)]
struct Checks {
    /// Run this check component too (repeatable); it is not installed.
    #[arg(long = "plugin", value_name = "FILE.wasm")]
    plugins: Vec<PathBuf>,
    /// Run only the --plugin components, not the built-in pack.
    #[arg(long)]
    no_builtin: bool,
    /// Wall-time limit per check run.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// Memory limit per component instance, shared by the component's checks
    /// (e.g. 512MiB, 1GiB); the built-in pack needs 96-128 MiB at 10,000 workloads.
    #[arg(long, default_value = "512MiB", value_parser = parse_size)]
    memory_limit: usize,
    /// Most findings kept from one check.
    #[arg(long, default_value_t = 10_000, value_parser = parse_positive)]
    max_findings: usize,
    /// Do not read or write the compiled-component cache.
    #[arg(long)]
    no_cache: bool,
}

#[derive(Args)]
struct ScanArgs {
    /// Manifest file, directory (recursive) or - for stdin; repeatable. Without -f the live cluster is scanned.
    #[arg(short = 'f', long = "filename", value_name = "PATH")]
    files: Vec<PathBuf>,
    #[command(flatten)]
    cluster: Cluster,
    #[command(flatten)]
    checks: Checks,
    #[command(flatten)]
    selection: Selection,
    /// Output format (text, json, sarif, junit, markdown, html, policyreport,
    /// openreports, prometheus), or FORMAT=FILE to write one
    /// to a file; repeatable, e.g. `--format text --format junit=kridik.xml`.
    #[arg(long, default_value = "text", value_parser = parse_output)]
    format: Vec<Output>,
    /// Write the (single) output to FILE instead of stdout.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: Option<PathBuf>,
    /// Exit 1 when a finding is at or above this severity (info, low, medium,
    /// high, critical), or `never`.
    #[arg(long, default_value = "high", value_parser = parse_fail_on)]
    fail_on: FailOn,
    /// Colour in text output.
    #[arg(long, value_enum, ignore_case = true, default_value_t = Color::Auto)]
    color: Color,
    /// Text output: each finding with its message, evidence and fix (the
    /// default is one line per finding).
    #[arg(short = 'v', long)]
    explain: bool,
    /// Suppressions file (default: the nearest .kridik.yaml from the working directory up).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Report and fail only on findings this baseline does not have.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Record today's unsuppressed findings as a baseline.
    #[arg(long, value_name = "FILE")]
    write_baseline: Option<PathBuf>,
    /// List suppressions that matched no finding.
    #[arg(long)]
    report_unused_suppressions: bool,
    /// After the scan, write its PolicyReports (or `openreports` Reports)
    /// into the scanned cluster by server-side apply, replacing the last
    /// run's; live scans only. Needs the role `kridik rbac --write-reports`.
    #[arg(long, value_enum, ignore_case = true, num_args = 0..=1, default_missing_value = "policyreport", value_name = "API")]
    write_reports: Option<ReportsApi>,
    /// Report only on this namespace (repeatable, or comma-separated). The
    /// whole mesh is still read and modelled: mesh-wide policy applies.
    #[arg(
        short = 'n',
        long = "namespace",
        value_delimiter = ',',
        conflicts_with = "all_namespaces"
    )]
    namespaces: Vec<String>,
    /// Report on every namespace (the default; for habit from kubectl).
    #[arg(short = 'A', long)]
    all_namespaces: bool,
    /// Report nothing on these namespaces (repeatable, or comma-separated).
    #[arg(long, value_delimiter = ',')]
    exclude_namespaces: Vec<String>,
    /// Also treat these as sensitive for attack paths: NAMESPACE,
    /// NAMESPACE/WORKLOAD or LABEL=VALUE (repeatable; labels
    /// data-classification and kridik.io/sensitive count already).
    #[arg(long, value_name = "PATTERN")]
    sensitive: Vec<String>,
    #[command(flatten)]
    deep: DeepArgs,
    /// Scan every context of the kubeconfig into one report (as several --context).
    #[arg(long, conflicts_with_all = ["files", "context"])]
    all_contexts: bool,
}

/// `--deep`: verify the configuration against the proxies' own config dumps.
#[derive(Args)]
struct DeepArgs {
    /// Read each sidecar's and ztunnel's config dump through a port-forward
    /// to its admin port and verify the configuration against it (live scans
    /// only; needs the role `kridik rbac --deep`).
    #[arg(long)]
    deep: bool,
    /// Sidecar pods read per workload (all pods of workloads on an attack path).
    #[arg(long, default_value_t = 1, value_parser = parse_positive, requires = "deep")]
    deep_pods_per_workload: usize,
    /// Pods read at most; the rest are listed as evidence gaps.
    #[arg(long, default_value_t = 1000, value_parser = parse_positive, requires = "deep")]
    deep_max_pods: usize,
    /// Deadline of each proxy read (port-forward, request, whole dump).
    #[arg(long, default_value = "10s", value_parser = parse_duration, requires = "deep")]
    deep_timeout: Duration,
    /// Proxy reads in flight at once.
    #[arg(long, default_value_t = 8, value_parser = parse_positive, requires = "deep")]
    deep_concurrency: usize,
}

impl DeepArgs {
    fn options(&self) -> Option<kridik::assess::deep::Options> {
        self.deep.then_some(kridik::assess::deep::Options {
            pods_per_workload: self.deep_pods_per_workload,
            max_pods: self.deep_max_pods,
            timeout: self.deep_timeout,
            concurrency: self.deep_concurrency,
        })
    }
}

#[derive(Args)]
struct SnapshotArgs {
    /// Where to write the snapshot (JSON List; - for stdout).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    output: PathBuf,
    #[command(flatten)]
    cluster: Cluster,
}

#[derive(Args)]
struct ChecksArgs {
    #[command(flatten)]
    checks: Checks,
    #[arg(long, value_enum, default_value_t = CatalogFormat::Text)]
    format: CatalogFormat,
}

#[derive(Args)]
struct DiffArgs {
    /// Before the change: a path (file or directory; comma-separated for
    /// several), a git revision and path (`origin/main:deploy/`), or `live`
    /// for the current cluster.
    #[arg(long, value_name = "SIDE")]
    base: String,
    /// After the change, in the same forms.
    #[arg(long, value_name = "SIDE")]
    head: String,
    #[command(flatten)]
    checks: Checks,
    #[command(flatten)]
    cluster: Cluster,
    /// text, json or markdown (a pull-request comment).
    #[arg(long, value_enum, ignore_case = true, default_value_t = DiffFormat::Text)]
    format: DiffFormat,
    /// Exit 1 when the change adds a finding at or above this severity (or
    /// opens an attack path); `never` to fail only on opened paths.
    #[arg(long, default_value = "high", value_parser = parse_fail_on)]
    fail_on: FailOn,
    #[command(flatten)]
    selection: Selection,
}

#[derive(Clone, Copy, ValueEnum)]
enum DiffFormat {
    Text,
    Json,
    Markdown,
}

#[derive(Args)]
struct RbacArgs {
    #[command(flatten)]
    checks: Checks,
    #[command(flatten)]
    selection: Selection,
    /// The ClusterRole's name.
    #[arg(long, default_value = "kridik-scan")]
    name: String,
    /// Print instead the role `scan --write-reports` needs to write its
    /// reports (a separate grant from the read-only scan role).
    #[arg(long, value_enum, ignore_case = true, num_args = 0..=1, default_missing_value = "policyreport", value_name = "API", conflicts_with = "deep")]
    write_reports: Option<ReportsApi>,
    /// Namespaces where Istio keeps its ConfigMaps (istiod's): the Roles that
    /// read them (repeatable; a scan also reads them where istiod runs).
    #[arg(long = "istio-namespace", value_name = "NS", default_value = kridik::gather::rbac::ISTIO_NAMESPACE)]
    istio_namespaces: Vec<String>,
    /// Print instead the role `scan --deep` needs: port-forward to pods. It
    /// reaches every localhost port of every pod (Envoy's admin has
    /// state-changing endpoints): grant it separately and deliberately.
    #[arg(long)]
    deep: bool,
}

/// Which report objects `--write-reports` writes.
#[derive(Clone, Copy, ValueEnum)]
enum ReportsApi {
    /// wgpolicyk8s.io/v1alpha2 PolicyReport and ClusterPolicyReport.
    Policyreport,
    /// openreports.io/v1alpha1 Report and ClusterReport.
    Openreports,
}

impl ReportsApi {
    fn api(self) -> report::ReportApi {
        match self {
            ReportsApi::Policyreport => report::ReportApi::PolicyWg,
            ReportsApi::Openreports => report::ReportApi::OpenReports,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum CatalogFormat {
    Text,
    Json,
    /// The documentation page (docs/checks.md).
    Markdown,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
    Markdown,
    Junit,
    Sarif,
    Html,
    /// wgpolicyk8s.io/v1alpha2 PolicyReport and ClusterPolicyReport (YAML).
    Policyreport,
    /// openreports.io/v1alpha1 Report and ClusterReport (YAML).
    Openreports,
    /// Prometheus text exposition.
    Prometheus,
}

#[derive(Clone)]
struct Output {
    format: Format,
    path: Option<PathBuf>,
}

/// `--fail-on`: a severity, or None for `never`.
#[derive(Clone, Copy)]
struct FailOn(Option<Severity>);

/// A severity (any case), or `never`.
fn parse_fail_on(s: &str) -> Result<FailOn, String> {
    if s.eq_ignore_ascii_case("never") {
        return Ok(FailOn(None));
    }
    Severity::from_str(s, true)
        .map(|v| FailOn(Some(v)))
        .map_err(|_| {
            format!("`{s}` is not a severity (info, low, medium, high, critical) or `never`")
        })
}

fn parse_output(s: &str) -> Result<Output, String> {
    let (name, path) = match s.split_once('=') {
        Some((n, p)) if !p.is_empty() => (n, Some(PathBuf::from(p))),
        Some(_) => return Err(format!("`{s}`: write FORMAT=FILE")),
        None => (s, None),
    };
    let format = Format::from_str(name, true).map_err(|_| {
        format!("`{name}` is not a format (text, json, sarif, junit, markdown, html, policyreport, openreports, prometheus)")
    })?;
    Ok(Output { format, path })
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    Auto,
    Always,
    Never,
}

pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Scan(args) => scan_cmd(*args),
        Command::Snapshot(args) => snapshot_cmd(args),
        Command::Checks(args) => checks_cmd(args),
        Command::Plugin(cmd) => plugin::run(cmd),
        Command::Check(CheckCommand::New(args)) => new_check(args),
        Command::Rbac(args) => {
            if args.deep {
                write_stdout(&kridik::gather::rbac::deep_role("kridik-deep"))?;
                return Ok(0);
            }
            if let Some(api) = args.write_reports {
                write_stdout(&kridik::gather::rbac::report_writer_role(
                    "kridik-write-reports",
                    &api.api().resources(),
                ))?;
                return Ok(0);
            }
            let mut opts = options(&args.checks);
            opts.include = args.selection.include;
            opts.exclude = args.selection.exclude;
            let rt = scan::runtime(&opts)?;
            let loaded = scan::load_plugins(&rt, &opts);
            if let Some(f) = loaded.failures.first() {
                anyhow::bail!(
                    "{}: {}: the role would miss what it reads",
                    f.plugin,
                    f.error.as_deref().unwrap_or("failed to load")
                );
            }
            let wants = scan::wants(&loaded, &opts);
            write_stdout(&kridik::gather::rbac::scan_roles(
                &args.name,
                &wants,
                &args.istio_namespaces,
            ))?;
            Ok(0)
        }
        Command::Diff(args) => diff_cmd(*args),
        Command::Version => {
            use kridik::runtime::{bindings, builtin};
            let p = bindings::PACKAGE;
            let lines = |v: &[&str]| {
                v.iter()
                    .map(|v| format!("{v}.x"))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let mut pack = String::new();
            for (name, bytes) in builtin::COMPONENTS {
                pack.push_str(&format!(
                    "{name} sha256:{}\n",
                    kridik::runtime::sha256(bytes)
                ));
            }
            let text = format!(
                "kridik {} (commit {})\nWIT: checks {p}@{}, hooks {p}@{}\nbuilt-in pack: sha256:{} ({} component{})\n",
                env!("CARGO_PKG_VERSION"),
                env!("KRIDIK_COMMIT"),
                lines(bindings::CHECKS),
                lines(bindings::HOOKS),
                kridik::runtime::sha256(pack.as_bytes()),
                builtin::COMPONENTS.len(),
                if builtin::COMPONENTS.len() == 1 { "" } else { "s" }
            );
            write_stdout(&text)?;
            Ok(0)
        }
        Command::Completion { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "kridik", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => {
            let cmd = <Cli as clap::CommandFactory>::command();
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd).render(&mut out)?;
            write_stdout(&String::from_utf8_lossy(&out))?;
            Ok(0)
        }
    }
}

fn new_check(args: NewArgs) -> Result<i32> {
    let created = kridik::scaffold::create(&args.dir, &args.name, args.lang)?;
    println!(
        "created {} (check {}): cd {} && make test",
        created.dir.display(),
        created.id,
        created.dir.display()
    );
    println!("then: kridik scan -f MANIFESTS --plugin {}", created.wasm);
    Ok(report::exit::CLEAN)
}

fn options(checks: &Checks) -> Options {
    Options {
        plugins: checks.plugins.clone(),
        no_builtin: checks.no_builtin,
        limits: Limits {
            memory_bytes: checks.memory_limit,
            timeout: checks.timeout,
            max_findings: checks.max_findings,
            ..Limits::default()
        },
        no_cache: checks.no_cache,
        ..Options::default()
    }
}

fn scan_cmd(args: ScanArgs) -> Result<i32> {
    // Where each output goes is settled before the scan runs.
    let mut outputs = args.format.clone();
    if let Some(path) = &args.output {
        match outputs.as_mut_slice() {
            [only] if only.path.is_none() => only.path = Some(path.clone()),
            _ => bail!(
                "-o FILE takes one --format without =FILE; for several, write --format FORMAT=FILE"
            ),
        }
    }
    if outputs.iter().filter(|o| o.path.is_none()).count() > 1 {
        bail!("only one --format can go to stdout; write the others as --format FORMAT=FILE");
    }
    if args.checks.no_builtin
        && args.checks.plugins.is_empty()
        && kridik::plugins::Store::find(None)
            .map(|s| s.list())
            .transpose()?
            .is_none_or(|installed| installed.is_empty())
    {
        bail!("--no-builtin leaves no checks to run: add --plugin FILE.wasm or install one with `kridik plugin add`");
    }
    let opts = Options {
        inputs: args.files.clone(),
        live: args.cluster.options(),
        include: args.selection.include.clone(),
        exclude: args.selection.exclude.clone(),
        triage: kridik::triage::Options {
            config: args.config.clone(),
            baseline: args.baseline.clone(),
            report_unused: args.report_unused_suppressions,
        },
        sensitive: args.sensitive.clone(),
        namespaces: args.namespaces.clone(),
        exclude_namespaces: args.exclude_namespaces.clone(),
        progress: progress(),
        deep: args.deep.options(),
        ..options(&args.checks)
    };
    if args.write_reports.is_some() && !args.files.is_empty() {
        bail!("--write-reports writes into the scanned cluster: drop -f to scan it live");
    }
    let contexts = if args.all_contexts {
        kridik::fleet::all_contexts(args.cluster.kubeconfig.as_deref())?
    } else {
        args.cluster.context.clone()
    };
    let report = if contexts.len() > 1 {
        fleet_usage(&args, &outputs)?;
        kridik::fleet::scan(&opts, &contexts)
    } else {
        let mut opts = opts.clone();
        opts.live.context = contexts.first().cloned();
        scan::scan(&opts)?
    };
    if let Some(api) = args.write_reports {
        let w = kridik::publish::write_reports(&opts.live, &report, api.api(), &|ns| {
            opts.namespace_in_scope(ns)
        })?;
        eprintln!(
            "kridik: wrote {} report object(s) to context `{}` by server-side apply; deleted {} stale",
            w.applied, w.context, w.deleted
        );
    }
    for line in report.triage.expired.iter().chain(&report.triage.unused) {
        eprintln!("kridik: warning: suppression {line}");
    }
    if let Some(path) = &args.write_baseline {
        let unsuppressed: Vec<_> = report
            .findings
            .iter()
            .filter(|f| f.suppressed.is_none())
            .collect();
        let n = kridik::triage::baseline::write(path, &unsuppressed)?;
        eprintln!(
            "kridik: wrote {n} finding(s) to the baseline {}",
            path.display()
        );
    }
    // Problems also go to stderr, so a JSON consumer's log still shows them.
    for e in &report.input_errors {
        eprintln!("kridik: warning: {e}");
    }
    for c in report.errored() {
        eprintln!(
            "kridik: warning: check {} failed to run: {}",
            c.id,
            c.error.as_deref().unwrap_or_default()
        );
    }
    for h in report.hooks.iter().filter(|h| h.error.is_some()) {
        eprintln!(
            "kridik: warning: hook {} failed: {}",
            h.name,
            h.error.as_deref().unwrap_or_default()
        );
    }
    for o in &outputs {
        let text = match o.format {
            Format::Json => report::json(&report),
            Format::Markdown => report::markdown(&report),
            Format::Junit => report::junit(&report),
            Format::Sarif => report::sarif(&report),
            Format::Html => report::html(&report),
            Format::Policyreport => report::policy_reports(&report, report::ReportApi::PolicyWg),
            Format::Openreports => report::policy_reports(&report, report::ReportApi::OpenReports),
            Format::Prometheus => report::prometheus(&report),
            Format::Text => {
                let color = match args.color {
                    Color::Always => true,
                    Color::Never => false,
                    Color::Auto => {
                        o.path.is_none()
                            && std::io::stdout().is_terminal()
                            && std::env::var_os("NO_COLOR").is_none()
                    }
                };
                report::text(
                    &report,
                    report::TextView {
                        color,
                        explain: args.explain,
                        width: terminal_width(o.path.is_none()),
                    },
                )
            }
        };
        match &o.path {
            None => write_stdout(&text)?,
            Some(path) => std::fs::write(path, text)
                .with_context(|| format!("cannot write the report to {}", path.display()))?,
        }
    }
    Ok(report::exit_code(&report, args.fail_on.0))
}

/// What one report over several clusters cannot do, said before scanning any.
fn fleet_usage(args: &ScanArgs, outputs: &[Output]) -> Result<()> {
    if !args.files.is_empty() {
        bail!("-f scans files, --context clusters: use one or the other");
    }
    if args.write_reports.is_some()
        || outputs
            .iter()
            .any(|o| matches!(o.format, Format::Policyreport | Format::Openreports))
    {
        bail!("PolicyReports belong to one cluster: write them with one scan per --context (the CronJob in deploy/ does this in each cluster)");
    }
    if args.baseline.is_some() || args.write_baseline.is_some() {
        bail!("baselines are per cluster: run one scan per --context with its own --baseline");
    }
    Ok(())
}

fn snapshot_cmd(args: SnapshotArgs) -> Result<i32> {
    let opts = Options {
        live: args.cluster.one()?,
        ..Options::default()
    };
    let rt = scan::runtime(&opts)?;
    let loaded = scan::load_plugins(&rt, &opts);
    let wants = Wants::whole(
        loaded
            .plugins
            .iter()
            .flat_map(|p| p.checks.iter().flat_map(|c| c.kinds.clone())),
    );
    let snapshot = scan::gather(&opts, &wants)?;
    let items: Vec<&serde_json::value::RawValue> = snapshot.all().map(|o| o.json()).collect();
    let doc = serde_json::json!({ "apiVersion": "v1", "kind": "List", "items": items });
    let text = serde_json::to_string_pretty(&doc)? + "\n";
    if args.output.as_os_str() == "-" {
        write_stdout(&text)?;
    } else {
        std::fs::write(&args.output, text)
            .with_context(|| format!("cannot write {}", args.output.display()))?;
        eprintln!(
            "kridik: saved {} objects to {}",
            snapshot.len(),
            args.output.display()
        );
    }
    for u in snapshot.unavailable.values() {
        eprintln!("kridik: warning: {}: {}", u.kind, u.detail);
    }
    Ok(report::exit::CLEAN)
}

fn checks_cmd(args: ChecksArgs) -> Result<i32> {
    let opts = options(&args.checks);
    let rt = scan::runtime(&opts)?;
    let loaded = scan::load_plugins(&rt, &opts);
    for f in &loaded.failures {
        eprintln!(
            "kridik: warning: {}: {}",
            f.plugin,
            f.error.as_deref().unwrap_or_default()
        );
    }
    let deep = kridik::assess::deep::catalog();
    let rows: Vec<(&str, &report::model::CheckInfo)> = loaded
        .plugins
        .iter()
        .flat_map(|p| p.checks.iter().map(move |c| (p.name.as_str(), c)))
        .chain(deep.iter().map(|c| (kridik::assess::deep::PLUGIN, c)))
        .collect();
    let out = match args.format {
        CatalogFormat::Markdown => report::catalog::markdown(&rows),
        CatalogFormat::Json => {
            let list: Vec<_> = rows
                .iter()
                .map(|(p, c)| serde_json::json!({ "plugin": p, "check": c }))
                .collect();
            serde_json::to_string_pretty(&list)? + "\n"
        }
        CatalogFormat::Text => rows
            .iter()
            .map(|(p, c)| {
                format!(
                    "{:<16} {:<9} {:<14} {}  [{}]\n",
                    c.id,
                    c.default_severity.to_string(),
                    c.category,
                    c.title,
                    p
                )
            })
            .collect(),
    };
    write_stdout(&out)?;
    Ok(if loaded.failures.is_empty() {
        report::exit::CLEAN
    } else {
        report::exit::CHECK_FAILED
    })
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
pub(crate) fn write_stdout(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}

fn parse_duration(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s.trim())
        .map_err(|e| format!("`{s}` is not a duration ({e}; e.g. 500ms, 10s, 2m)"))?;
    if d.is_zero() {
        return Err("the timeout must be positive".into());
    }
    Ok(d)
}

fn parse_size(s: &str) -> Result<usize, String> {
    let size: bytesize::ByteSize = s
        .trim()
        .parse()
        .map_err(|e| format!("`{s}` is not a size ({e}; e.g. 256MiB, 256MB, 1G)"))?;
    let bytes = usize::try_from(size.as_u64()).map_err(|_| format!("`{s}` is too large"))?;
    if bytes == 0 {
        return Err("the size must be positive".into());
    }
    Ok(bytes)
}

/// A count that must be at least 1 (0 would silently keep nothing).
fn parse_positive(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a number")),
    }
}

/// Columns of the terminal on stdout; `COLUMNS`, else 120, when it is not one
/// (CI logs wrap on their own).
fn terminal_width(to_stdout: bool) -> usize {
    #[cfg(unix)]
    if to_stdout && std::io::stdout().is_terminal() {
        // SAFETY: TIOCGWINSZ writes one winsize into the struct we own.
        let mut size: libc::winsize = unsafe { std::mem::zeroed() };
        if unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0
            && size.ws_col > 0
        {
            return size.ws_col as usize;
        }
    }
    std::env::var("COLUMNS")
        .ok()
        .and_then(|c| c.parse().ok())
        .filter(|&c: &usize| c >= 40)
        .unwrap_or(120)
}

fn diff_cmd(args: DiffArgs) -> Result<i32> {
    let scratch = tempdir_for_diff()?;
    let side = |spec: &str, name: &str| -> Result<Options> {
        let inputs = resolve_side(spec, &scratch.join(name))?;
        Ok(Options {
            inputs,
            live: args.cluster.one()?,
            include: args.selection.include.clone(),
            exclude: args.selection.exclude.clone(),
            ..options(&args.checks)
        })
    };
    let base =
        scan::scan(&side(&args.base, "base")?).with_context(|| format!("--base {}", args.base))?;
    let head =
        scan::scan(&side(&args.head, "head")?).with_context(|| format!("--head {}", args.head))?;
    let _ = std::fs::remove_dir_all(&scratch);
    let diff = kridik::diff::compare(&base, &head);
    let text = match args.format {
        DiffFormat::Text => diff.text(),
        DiffFormat::Markdown => diff.markdown(),
        DiffFormat::Json => serde_json::to_string_pretty(&diff)? + "\n",
    };
    write_stdout(&text)?;
    // Input that could not be read on either side makes the comparison partial.
    if !base.input_errors.is_empty() || !head.input_errors.is_empty() {
        for e in base.input_errors.iter().chain(&head.input_errors) {
            eprintln!("kridik: warning: {e}");
        }
        return Ok(report::exit::INPUT);
    }
    Ok(diff.exit_code(args.fail_on.0))
}

fn tempdir_for_diff() -> Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("kridik-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// The input paths of one side of a diff: `live` (none: the cluster), a git
/// `REV:PATH` (extracted with `git archive` into `scratch`), or paths.
fn resolve_side(spec: &str, scratch: &std::path::Path) -> Result<Vec<PathBuf>> {
    if spec == "live" {
        return Ok(Vec::new());
    }
    if let Some((rev, path)) = spec.split_once(':') {
        let is_rev = std::process::Command::new("git")
            .args([
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{rev}^{{commit}}"),
            ])
            .output()
            .is_ok_and(|o| o.status.success());
        if is_rev && !std::path::Path::new(spec).exists() {
            std::fs::create_dir_all(scratch)?;
            let path = if path.is_empty() { "." } else { path };
            let archive = std::process::Command::new("git")
                .args(["archive", "--format=tar", rev, "--", path])
                .output()
                .context("cannot run git")?;
            if !archive.status.success() {
                bail!(
                    "`{spec}`: git archive failed: {}",
                    String::from_utf8_lossy(&archive.stderr).trim()
                );
            }
            let mut tar = std::process::Command::new("tar")
                .args(["-x", "-C"])
                .arg(scratch)
                .stdin(std::process::Stdio::piped())
                .spawn()
                .context("cannot run tar")?;
            std::io::Write::write_all(tar.stdin.as_mut().expect("piped"), &archive.stdout)?;
            if !tar.wait()?.success() {
                bail!("`{spec}`: cannot unpack the revision's files");
            }
            // git archive paths are relative to the repository's top.
            let top = std::process::Command::new("git")
                .args(["rev-parse", "--show-prefix"])
                .output()
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
                .unwrap_or_default();
            return Ok(vec![scratch.join(top).join(path)]);
        }
    }
    Ok(spec.split(',').map(PathBuf::from).collect())
}

/// A progress line on stderr when it is a terminal (nothing in CI logs or pipes).
fn progress() -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} {pos}/{len} [{elapsed}]")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    Some(bar)
}

//! `kridik plugin add|list|info|remove`. Plugins live under `$KRIDIK_HOME`,
//! else the user data dir.

use super::write_stdout;
use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use kridik::plugins::{self, layout, lock, oci, AddRequest, Added, Installed, Store};
use kridik::report::exit;
use kridik::runtime::Grants;
use kridik::scan::{self, Options};
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum PluginCommand {
    /// Validate a check component, compile it once and install it.
    Add(AddArgs),
    /// List installed plugins.
    List(ListArgs),
    /// Show one plugin (by name, or by a check id it provides).
    Info(InfoArgs),
    /// Uninstall a plugin.
    Remove(RemoveArgs),
    /// Publish a check component to an OCI registry.
    Push(PushArgs),
    /// Move the lock file's pins to what the packs' tags name now, and install them.
    Update(UpdateArgs),
    /// Write installed plugins to an OCI image layout directory (for air-gapped machines).
    Save(SaveArgs),
    /// Install every plugin of an OCI image layout directory written by `save`.
    Load(LoadArgs),
    /// Create a signing key pair (ECDSA P-256, cosign-compatible public key).
    Keygen(KeygenArgs),
    /// Sign a pack in its registry (cosign's signature format and tag).
    Sign(SignArgs),
    /// Check a pack's signature with a public key.
    Verify(VerifyArgs),
}

#[derive(Args)]
pub struct SaveArgs {
    /// Plugins to save (default: all installed).
    names: Vec<String>,
    /// The directory to create.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: PathBuf,
}

#[derive(Args)]
pub struct LoadArgs {
    #[command(flatten)]
    trust: TrustArgs,
    /// A directory written by `kridik plugin save`.
    dir: PathBuf,
    /// Replace installed plugins that have the same names or check ids.
    #[arg(long)]
    replace: bool,
}

/// How to reach an OCI registry.
#[derive(Args)]
pub struct RegistryArgs {
    /// Registry user name (the password is read from stdin with --password-stdin).
    #[arg(long, requires = "password_stdin")]
    username: Option<String>,
    /// Read the registry password from stdin.
    #[arg(long, requires = "username")]
    password_stdin: bool,
    /// Use plain HTTP (always the case for localhost and 127.0.0.1).
    #[arg(long)]
    insecure: bool,
}

impl RegistryArgs {
    fn access(&self) -> Result<oci::Access> {
        let basic = match &self.username {
            Some(user) => {
                let mut password = String::new();
                std::io::stdin()
                    .read_line(&mut password)
                    .context("cannot read the password from stdin")?;
                Some((
                    user.clone(),
                    password.trim_end_matches(['\r', '\n']).to_string(),
                ))
            }
            None => None,
        };
        Ok(oci::Access {
            basic,
            insecure: self.insecure,
        })
    }
}

#[derive(Args)]
pub struct AddArgs {
    /// The component to install: a .wasm file, or oci://REGISTRY/REPO:TAG (or @sha256:DIGEST).
    file: String,
    /// Install under this name (default: from the file name).
    #[arg(long)]
    name: Option<String>,
    /// Replace installed plugins that have the same name or provide the same check ids.
    #[arg(long)]
    replace: bool,
    /// Result hooks only: a directory it may write into (it sees it as /out).
    #[arg(long, value_name = "DIR")]
    allow_dir: Option<PathBuf>,
    /// Result hooks only: an origin (https://host[:port]) it may send HTTP requests to; repeatable.
    #[arg(long, value_name = "ORIGIN")]
    allow_http: Vec<String>,
    /// Result hooks only: a setting handed to it with every report; repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    settings: Vec<String>,
    #[command(flatten)]
    registry: RegistryArgs,
    /// The lock file pinning OCI packs by digest (default: ./kridik.lock if it exists, else one in KRIDIK_HOME).
    #[arg(long, value_name = "FILE")]
    lock: Option<PathBuf>,
    #[command(flatten)]
    trust: TrustArgs,
}

/// The signature policy of packs (`trust:` in .kridik.yaml).
#[derive(Args)]
pub struct TrustArgs {
    /// The config holding the trust policy (default: the nearest .kridik.yaml).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Install without checking signatures the trust policy requires (says so loudly).
    #[arg(long)]
    insecure_skip_signature: bool,
}

impl TrustArgs {
    /// The key id that verified `source` at `digest` and the signatures read,
    /// None when no policy covers it (or the check was skipped, with a warning).
    fn verify(
        &self,
        source: &str,
        digest: &str,
        access: &oci::Access,
    ) -> Result<Option<(String, Vec<plugins::signing::Signature>)>> {
        let cwd = std::env::current_dir().unwrap_or_default();
        let config = kridik::triage::config::load(self.config.as_deref(), &cwd)?;
        if self.insecure_skip_signature {
            let r = oci::parse(source)?;
            if plugins::trust::rule_for(&config.trust, &oci::repository(&r)).is_some() {
                eprintln!(
                    "kridik: WARNING: --insecure-skip-signature: installing {source} ({digest}) WITHOUT checking the signature the trust policy requires"
                );
            }
            return Ok(None);
        }
        plugins::trust::verify(&config.trust, &config.dir(), source, digest, access)
    }
}

#[derive(Args)]
pub struct KeygenArgs {
    /// Writes PREFIX.key (keep it secret) and PREFIX.pub (PEM, like cosign.pub).
    /// With a password the private key is in cosign's encrypted form (cosign
    /// and skopeo read it), else PKCS#8 PEM.
    #[arg(long, default_value = "kridik")]
    out: String,
    #[command(flatten)]
    password: PasswordArgs,
}

/// Where the password of an encrypted private key comes from.
#[derive(Args)]
pub struct PasswordArgs {
    /// Read the signing key's password from the first line of stdin (else
    /// from COSIGN_PASSWORD, as cosign does).
    #[arg(long)]
    key_password_stdin: bool,
}

impl PasswordArgs {
    /// The password given, if any: stdin when asked, else COSIGN_PASSWORD
    /// (an empty value is a password, as cosign takes it).
    fn given(&self) -> Result<Option<String>> {
        if self.key_password_stdin {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .context("cannot read the password from stdin")?;
            return Ok(Some(line.trim_end_matches(['\n', '\r']).to_string()));
        }
        Ok(std::env::var("COSIGN_PASSWORD").ok())
    }
}

#[derive(Args)]
pub struct SignArgs {
    /// The pack: oci://REGISTRY/REPO@sha256:... (a tag is resolved to its digest).
    reference: String,
    /// The private key: PKCS#8 PEM or cosign's encrypted key (`kridik plugin
    /// keygen`, `cosign generate-key-pair`).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    #[command(flatten)]
    password: PasswordArgs,
    #[command(flatten)]
    registry: RegistryArgs,
    /// Store a Sigstore bundle attached as an OCI referrer (cosign v3's
    /// format) instead of cosign's `sha256-<hex>.sig` tag.
    #[arg(long)]
    bundle: bool,
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The pack: oci://REGISTRY/REPO@sha256:... or :TAG.
    reference: String,
    /// The public key (PEM; cosign.pub works).
    #[arg(long, value_name = "FILE")]
    key: PathBuf,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Args)]
pub struct PushArgs {
    /// The component (.wasm) to publish.
    file: PathBuf,
    /// Where: oci://REGISTRY/REPO:TAG.
    reference: String,
    /// org.opencontainers.image.version (default: the tag).
    #[arg(long)]
    version: Option<String>,
    /// org.opencontainers.image.description (default: the checks it contains).
    #[arg(long)]
    description: Option<String>,
    /// org.opencontainers.image.source, e.g. the repository URL.
    #[arg(long)]
    source: Option<String>,
    /// org.opencontainers.image.licenses, an SPDX expression.
    #[arg(long)]
    licenses: Option<String>,
    #[command(flatten)]
    registry: RegistryArgs,
}

#[derive(Args)]
pub struct UpdateArgs {
    /// Plugins to update (default: every pack in the lock file).
    names: Vec<String>,
    #[command(flatten)]
    registry: RegistryArgs,
    #[arg(long, value_name = "FILE")]
    lock: Option<PathBuf>,
    #[command(flatten)]
    trust: TrustArgs,
}

#[derive(Args)]
pub struct ListArgs {
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Args)]
pub struct InfoArgs {
    /// Plugin name, or a check id it provides.
    key: String,
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
}

#[derive(Args)]
pub struct RemoveArgs {
    name: String,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

pub fn run(cmd: PluginCommand) -> Result<i32> {
    match cmd {
        PluginCommand::Add(a) => add(a),
        PluginCommand::List(a) => list(a),
        PluginCommand::Info(a) => info(a),
        PluginCommand::Remove(a) => remove(a),
        PluginCommand::Push(a) => push(a),
        PluginCommand::Update(a) => update(a),
        PluginCommand::Save(a) => save(a),
        PluginCommand::Load(a) => load(a),
        PluginCommand::Keygen(a) => keygen(a),
        PluginCommand::Sign(a) => sign(a),
        PluginCommand::Verify(a) => verify(a),
    }
}

fn save(args: SaveArgs) -> Result<i32> {
    let store = Store::open(None)?;
    let installed = store.list()?;
    let chosen: Vec<&Installed> = if args.names.is_empty() {
        installed.iter().collect()
    } else {
        args.names
            .iter()
            .map(|n| {
                installed.iter().find(|p| &p.name == n).with_context(|| {
                    format!("no installed plugin is named {n} (see `kridik plugin list`)")
                })
            })
            .collect::<Result<_>>()?
    };
    if chosen.is_empty() {
        anyhow::bail!("no plugins installed: nothing to save");
    }
    let rt = scan::runtime(&Options::default())?;
    let mut loaded = Vec::new();
    for p in &chosen {
        let wasm = store.read(p)?;
        let plugin = rt.load(&p.name, &wasm)?;
        let provenance = store.read_provenance(&p.digest);
        loaded.push((p, wasm, plugin, provenance));
    }
    let entries: Vec<layout::Entry> = loaded
        .iter()
        .map(|(p, wasm, plugin, provenance)| layout::Entry {
            provenance: provenance.as_ref(),
            name: &p.name,
            wasm,
            component: (&plugin.imports, &plugin.exports),
            describe: oci::Describe {
                description: Some(format!("kridik checks from {}", p.source)),
                ..Default::default()
            },
        })
        .collect();
    layout::save(&args.output, &entries)?;
    let names: Vec<&str> = chosen.iter().map(|p| p.name.as_str()).collect();
    println!(
        "saved {} to {} (install there with `kridik plugin load {}`)",
        names.join(", "),
        args.output.display(),
        args.output.display()
    );
    Ok(exit::CLEAN)
}

fn load(args: LoadArgs) -> Result<i32> {
    let store = Store::open(None)?;
    let rt = scan::runtime(&Options::default())?;
    let dir = std::path::absolute(&args.dir).unwrap_or(args.dir.clone());
    // Read and verify everything before installing anything: digests, and
    // signatures of packs a trust policy covers (offline, from the layout).
    let packs = layout::load(&dir)?;
    let cwd = std::env::current_dir().unwrap_or_default();
    let config = kridik::triage::config::load(args.trust.config.as_deref(), &cwd)?;
    for pack in &packs {
        let Some(repository) = &pack.repository else {
            continue;
        };
        if args.trust.insecure_skip_signature {
            eprintln!(
                "kridik: WARNING: --insecure-skip-signature: loading {repository}@{} WITHOUT checking its signature",
                pack.manifest_digest
            );
            continue;
        }
        if let Some(key) = plugins::trust::verify_signatures(
            &config.trust,
            &config.dir(),
            repository,
            &pack.manifest_digest,
            &pack.signatures,
        )? {
            println!(
                "signature of {repository}@{} verified with key {key}",
                pack.manifest_digest
            );
        }
    }
    for pack in packs {
        let added = plugins::add(
            &store,
            &rt,
            AddRequest {
                bytes: &pack.wasm,
                source: format!("oci-layout:{}@{}", dir.display(), pack.manifest_digest),
                name: Some(pack.name.clone()),
                replace: args.replace,
                grants: Grants::default(),
            },
        )?;
        println!("{}", added_line(&added));
    }
    Ok(exit::CLEAN)
}

fn add(args: AddArgs) -> Result<i32> {
    let store = Store::open(None)?;
    let rt = scan::runtime(&Options::default())?;
    if oci::is_oci(&args.file) {
        return add_oci(&store, &rt, args);
    }
    let path = PathBuf::from(&args.file);
    let bytes = kridik::state_file::read_capped(&path, kridik::state_file::MAX_COMPONENT_BYTES)
        .with_context(|| {
            let looks_remote = !path.exists() && args.file.contains('/') && args.file.contains(':');
            let hint = if looks_remote {
                format!(" (to add from a registry, write oci://{})", args.file)
            } else {
                String::new()
            };
            format!("cannot read plugin {}{hint}", args.file)
        })?;
    // The file's absolute path says where it came from even after a `cd`.
    let source = std::path::absolute(&path)
        .map(|p| p.display().to_string())
        .unwrap_or(args.file.clone());
    let request = AddRequest {
        bytes: &bytes,
        source,
        grants: args.grants()?,
        name: args.name,
        replace: args.replace,
    };
    let line = match plugins::add(&store, &rt, request)? {
        Added::Unchanged(p) => format!(
            "{} is already installed as {} ({}): nothing to do",
            args.file, p.name, p.digest
        ),
        added => added_line(&added),
    };
    println!("{line}");
    Ok(exit::CLEAN)
}

impl AddArgs {
    fn grants(&self) -> Result<Grants> {
        let dir = match &self.allow_dir {
            Some(d) => Some(
                std::path::absolute(d)
                    .with_context(|| format!("--allow-dir {}: not a usable path", d.display()))?,
            ),
            None => None,
        };
        let http = self
            .allow_http
            .iter()
            .map(|o| kridik::runtime::parse_origin(o))
            .collect::<Result<_>>()?;
        let settings = self
            .settings
            .iter()
            .map(|kv| {
                kv.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .with_context(|| format!("--set {kv}: write KEY=VALUE"))
            })
            .collect::<Result<_>>()?;
        Ok(Grants {
            dir,
            http,
            settings,
        })
    }
}

fn added_line(added: &Added) -> String {
    match added {
        Added::Unchanged(p) => format!(
            "{} is already installed ({}): nothing to do",
            p.name, p.digest
        ),
        Added::New(p) => format!("added {}", summary(p)),
        Added::Replaced(p, old) => format!("added {}, replacing {}", summary(p), old.join(", ")),
    }
}

/// A tag resolves through the lock file when it pins it, so CI installs the
/// same bytes every time; otherwise the tag's digest is pinned now.
fn add_oci(store: &Store, rt: &kridik::runtime::Runtime, args: AddArgs) -> Result<i32> {
    let access = args.registry.access()?;
    let lock_path = lock::path(args.lock.clone(), store);
    let mut lock = lock::Lock::read(&lock_path)?;
    let reference = oci::parse(&args.file)?;
    let locked = lock.get(&args.file).map(|p| p.digest.clone());
    let fetch = match &locked {
        Some(digest) => format!(
            "oci://{}/{}@{digest}",
            reference.registry(),
            reference.repository()
        ),
        None => args.file.clone(),
    };
    let pulled = oci::pull(&fetch, &access)?;
    let verified = args
        .trust
        .verify(&args.file, &pulled.manifest_digest, &access)?;
    let verified_by = verified.as_ref().map(|(key, _)| key.clone());
    if let Some(key) = &verified_by {
        println!(
            "signature of {} verified with key {key}",
            pulled.manifest_digest
        );
    }
    let name = args
        .name
        .clone()
        .unwrap_or_else(|| plugins::name_from(reference.repository()));
    let added = plugins::add(
        store,
        rt,
        AddRequest {
            bytes: &pulled.bytes,
            // Through the lock, the tag the user named stays in the record.
            source: match &locked {
                Some(digest) => format!("{}@{digest}", args.file),
                None => pulled.pinned.clone(),
            },
            name: Some(name.clone()),
            replace: args.replace,
            grants: args.grants()?,
        },
    )?;
    println!("{}", added_line(&added));
    keep_provenance(
        store,
        &added,
        &args.file,
        &pulled,
        verified.map(|(_, s)| s),
        &access,
    );
    match locked {
        Some(digest) => println!("pinned by {} to {digest}", lock_path.display()),
        None if reference.digest().is_none() => {
            lock.set(lock::Pin {
                reference: args.file.clone(),
                digest: pulled.manifest_digest.clone(),
                name,
                verified_by,
            });
            lock.write(&lock_path)?;
            println!(
                "{} is {}; pinned in {} (pin it elsewhere with oci://{}/{}@{})",
                args.file,
                pulled.manifest_digest,
                lock_path.display(),
                reference.registry(),
                reference.repository(),
                pulled.manifest_digest
            );
        }
        None => {}
    }
    Ok(exit::CLEAN)
}

fn push(args: PushArgs) -> Result<i32> {
    let file = args.file.display().to_string();
    let bytes =
        kridik::state_file::read_capped(&args.file, kridik::state_file::MAX_COMPONENT_BYTES)
            .with_context(|| format!("cannot read plugin {file}"))?;
    // Only a component this kridik can load is worth publishing.
    let rt = scan::runtime(&Options::default())?;
    let plugin = rt.load(&file, &bytes)?;
    let ids: Vec<&str> = plugin.checks.iter().map(|c| c.id.as_str()).collect();
    let describe = oci::Describe {
        version: args.version,
        description: args
            .description
            .or_else(|| Some(format!("kridik checks: {}", ids.join(", ")))),
        source: args.source,
        licenses: args.licenses,
    };
    let pushed = oci::push(
        &bytes,
        &args.reference,
        &plugins::name_from(&file),
        &describe,
        (&plugin.imports, &plugin.exports),
        &args.registry.access()?,
    )?;
    println!(
        "pushed {} ({} check(s): {})",
        pushed.pinned,
        ids.len(),
        ids.join(", ")
    );
    Ok(exit::CLEAN)
}

fn update(args: UpdateArgs) -> Result<i32> {
    let store = Store::open(None)?;
    let rt = scan::runtime(&Options::default())?;
    let access = args.registry.access()?;
    let lock_path = lock::path(args.lock.clone(), &store);
    let mut lock = lock::Lock::read(&lock_path)?;
    let pins: Vec<lock::Pin> = lock
        .pins()
        .iter()
        .filter(|p| args.names.is_empty() || args.names.contains(&p.name))
        .cloned()
        .collect();
    if let Some(missing) = args
        .names
        .iter()
        .find(|n| !pins.iter().any(|p| &p.name == *n))
    {
        anyhow::bail!(
            "{} pins no pack named {missing} (add it with `kridik plugin add oci://...`)",
            lock_path.display()
        );
    }
    for pin in pins {
        let pulled = oci::pull(&pin.reference, &access)?;
        if pulled.manifest_digest == pin.digest {
            println!("{}: {} is still {}", pin.name, pin.reference, pin.digest);
            continue;
        }
        // A tag moved to a digest nobody trusted signed is refused here.
        let verified = args
            .trust
            .verify(&pin.reference, &pulled.manifest_digest, &access)?;
        let verified_by = verified.as_ref().map(|(key, _)| key.clone());
        let added = plugins::add(
            &store,
            &rt,
            AddRequest {
                bytes: &pulled.bytes,
                source: pulled.pinned.clone(),
                name: Some(pin.name.clone()),
                replace: true,
                // A hook keeps what the user granted it.
                grants: store
                    .list()?
                    .into_iter()
                    .find(|p| p.name == pin.name)
                    .map(|p| p.grants)
                    .unwrap_or_default(),
            },
        )?;
        println!("{}", added_line(&added));
        keep_provenance(
            &store,
            &added,
            &pin.reference,
            &pulled,
            verified.map(|(_, s)| s),
            &access,
        );
        println!(
            "{}: {} moved from {} to {}",
            pin.name, pin.reference, pin.digest, pulled.manifest_digest
        );
        lock.set(lock::Pin {
            digest: pulled.manifest_digest,
            verified_by,
            ..pin
        });
        lock.write(&lock_path)?;
    }
    Ok(exit::CLEAN)
}

fn summary(p: &Installed) -> String {
    if p.world == "hook" {
        return format!(
            "{} ({}): result hook; {}",
            p.name,
            p.digest,
            capabilities(p)
        );
    }
    let ids: Vec<&str> = p.checks.iter().map(|c| c.id.as_str()).collect();
    format!(
        "{} ({}): {} check(s): {}",
        p.name,
        p.digest,
        ids.len(),
        ids.join(", ")
    )
}

/// What a hook asks for and what it was granted, in one line.
fn capabilities(p: &Installed) -> String {
    let asked: Vec<&str> = p.capabilities.iter().map(|c| c.as_str()).collect();
    let mut granted = Vec::new();
    if let Some(dir) = &p.grants.dir {
        granted.push(format!("dir {}", dir.display()));
    }
    granted.extend(p.grants.http.iter().map(|o| format!("http {o}")));
    format!(
        "asks for {}; granted {}",
        if asked.is_empty() {
            "nothing".to_string()
        } else {
            asked.join(", ")
        },
        if granted.is_empty() {
            "nothing".to_string()
        } else {
            granted.join(", ")
        }
    )
}

fn list(args: ListArgs) -> Result<i32> {
    let installed = Store::open(None)?.list()?;
    let out = match args.format {
        Format::Json => serde_json::to_string_pretty(&installed)? + "\n",
        Format::Text if installed.is_empty() => {
            "no plugins installed (add one with `kridik plugin add FILE.wasm`)\n".into()
        }
        Format::Text => {
            let w = installed
                .iter()
                .map(|p| p.name.len())
                .max()
                .unwrap_or(0)
                .max(4);
            let mut out = format!(
                "{:<w$} {:<6} {:<8} {:<6} {:<19} {}\n",
                "NAME", "WORLD", "WIT", "CHECKS", "DIGEST", "SOURCE"
            );
            for p in &installed {
                out += &format!(
                    "{:<w$} {:<6} {:<8} {:<6} {:<19} {}\n",
                    p.name,
                    p.world,
                    p.wit_version,
                    p.checks.len(),
                    &p.digest[..p.digest.len().min(19)],
                    p.source
                );
            }
            out
        }
    };
    write_stdout(&out)?;
    Ok(exit::CLEAN)
}

fn info(args: InfoArgs) -> Result<i32> {
    let store = Store::open(None)?;
    let p = plugins::find(&store, &args.key)?;
    let out = match args.format {
        Format::Json => serde_json::to_string_pretty(&p)? + "\n",
        Format::Text => {
            let mut out = format!(
                "name:         {}\ndigest:       {}\nworld:        kridik:plugin/{}@{}\nsource:       {}\nsize:         {} bytes\ncapabilities: {}\nstored at:    {}\n",
                p.name,
                p.digest,
                p.world,
                p.wit_version,
                p.source,
                p.size,
                if p.world == "hook" {
                    capabilities(&p)
                } else {
                    "none (checks get only the snapshot and the mesh model)".to_string()
                },
                store.blob_path(&p.digest).display()
            );
            if !p.checks.is_empty() {
                out += "checks:\n";
            }
            for (k, v) in &p.grants.settings {
                out += &format!("setting:      {k}={v}\n");
            }
            for c in &p.checks {
                let kinds = if c.kinds.is_empty() {
                    "the mesh model only".to_string()
                } else {
                    c.kinds.join(", ")
                };
                out += &format!(
                    "  {:<16} {:<8} {}\n  {:<16} reads {kinds}\n",
                    c.id,
                    c.default_severity.to_string(),
                    c.title,
                    ""
                );
            }
            out
        }
    };
    write_stdout(&out)?;
    Ok(exit::CLEAN)
}

fn remove(args: RemoveArgs) -> Result<i32> {
    let gone = plugins::remove(&Store::open(None)?, &args.name)?;
    println!("removed {} ({})", gone.name, gone.digest);
    Ok(exit::CLEAN)
}

fn keygen(args: KeygenArgs) -> Result<i32> {
    let (private, public) = plugins::signing::keygen(args.password.given()?.as_deref())?;
    let (key, pub_) = (format!("{}.key", args.out), format!("{}.pub", args.out));
    for p in [&key, &pub_] {
        if std::path::Path::new(p).exists() {
            anyhow::bail!("{p} already exists: choose another --out");
        }
    }
    kridik::state_file::write_atomic(std::path::Path::new(&key), private.as_bytes())
        .with_context(|| format!("cannot write {key}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))?;
    }
    kridik::state_file::write_atomic(std::path::Path::new(&pub_), public.as_bytes())
        .with_context(|| format!("cannot write {pub_}"))?;
    println!("wrote {key} (private: keep it secret) and {pub_} (give it to those who verify)");
    Ok(exit::CLEAN)
}

fn sign(args: SignArgs) -> Result<i32> {
    let access = args.registry.access()?;
    let digest = oci::resolve(&args.reference, &access)?;
    let r = oci::parse(&args.reference)?;
    let pinned = format!("oci://{}@{digest}", oci::repository(&r));
    let key = kridik::state_file::read_text_capped(&args.key, 64 << 10)
        .with_context(|| format!("cannot read the key {}", args.key.display()))?;
    let payload = plugins::signing::payload(&oci::repository(&r), &digest);
    let what = args.key.display().to_string();
    let password = || {
        args.password.given()?.ok_or_else(|| {
            anyhow::anyhow!("{what} is encrypted: set COSIGN_PASSWORD or pass --key-password-stdin")
        })
    };
    if args.bundle {
        let bundle =
            plugins::signing::sign_bundle(&key, &what, &password, &oci::repository(&r), &digest)?;
        let at = oci::push_bundle(&pinned, bundle, &access)?;
        println!("signed {pinned}; Sigstore bundle in {at}, a referrer of the digest");
        return Ok(exit::CLEAN);
    }
    let signature = plugins::signing::sign(&key, &what, &password, &payload)?;
    let tag = oci::push_signature(&pinned, payload, &signature, &access)?;
    println!("signed {pinned}; signature in {tag}");
    Ok(exit::CLEAN)
}

fn verify(args: VerifyArgs) -> Result<i32> {
    let access = args.registry.access()?;
    let digest = oci::resolve(&args.reference, &access)?;
    let r = oci::parse(&args.reference)?;
    let repository = oci::repository(&r);
    let pem = kridik::state_file::read_text_capped(&args.key, 64 << 10)
        .with_context(|| format!("cannot read the key {}", args.key.display()))?;
    let key = plugins::signing::verifying_key(&pem, &args.key.display().to_string())?;
    let found = oci::signatures(&args.reference, &digest, &access)?;
    if plugins::signing::signed_by(std::slice::from_ref(&key), &found, &repository, &digest)
        .is_none()
    {
        anyhow::bail!(
            "{repository}@{digest}: no signature by {} ({} signature(s) found)",
            args.key.display(),
            found.len()
        );
    }
    println!(
        "{repository}@{digest}: signed by {} ({})",
        args.key.display(),
        plugins::signing::key_id(&key)
    );
    Ok(exit::CLEAN)
}

/// Keeps an OCI pack's manifest, config and signatures beside it, for `save`
/// (best effort: a pack without them still saves, as a new artifact).
fn keep_provenance(
    store: &Store,
    added: &Added,
    source: &str,
    pulled: &oci::Pulled,
    // Signatures the trust check already read, else fetched here.
    known: Option<Vec<plugins::signing::Signature>>,
    access: &oci::Access,
) {
    use base64::Engine as _;
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let installed = match added {
        Added::New(p) | Added::Replaced(p, _) | Added::Unchanged(p) => p,
    };
    let Ok(r) = oci::parse(source) else { return };
    let found = known.unwrap_or_else(|| {
        oci::signatures(source, &pulled.manifest_digest, access).unwrap_or_default()
    });
    let mut signatures = Vec::new();
    let mut bundles = Vec::new();
    for s in found {
        match s {
            plugins::signing::Signature::Simple { payload, signature } => {
                signatures.push((b64(&payload), signature))
            }
            plugins::signing::Signature::Bundle(json) => bundles.push(b64(&json)),
        }
    }
    let provenance = plugins::Provenance {
        repository: oci::repository(&r),
        manifest: b64(&pulled.manifest),
        config: b64(&pulled.config),
        signatures,
        bundles,
    };
    if let Err(e) = store.write_provenance(&installed.digest, &provenance) {
        eprintln!("kridik: warning: cannot keep the provenance of {source}: {e:#}");
    }
}

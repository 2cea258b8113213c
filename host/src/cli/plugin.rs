//! `kridik plugin add|list|info|remove`. Plugins live under `$KRIDIK_HOME`,
//! else the user data dir.

use super::write_stdout;
use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use kridik::plugins::{self, AddRequest, Added, Installed, Store};
use kridik::report::exit;
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
}

#[derive(Args)]
pub struct AddArgs {
    /// The component (.wasm) to install.
    file: PathBuf,
    /// Install under this name (default: from the file name).
    #[arg(long)]
    name: Option<String>,
    /// Replace installed plugins that have the same name or provide the same check ids.
    #[arg(long)]
    replace: bool,
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
    }
}

fn add(args: AddArgs) -> Result<i32> {
    let store = Store::open(None)?;
    let source = args.file.display().to_string();
    let bytes =
        std::fs::read(&args.file).with_context(|| format!("cannot read plugin {source}"))?;
    // The file's absolute path says where it came from even after a `cd`.
    let source = std::path::absolute(&args.file)
        .map(|p| p.display().to_string())
        .unwrap_or(source);
    let rt = scan::runtime(&Options::default())?;
    let added = plugins::add(
        &store,
        &rt,
        AddRequest {
            bytes: &bytes,
            source,
            name: args.name,
            replace: args.replace,
        },
    )?;
    let line = match added {
        Added::Unchanged(p) => format!(
            "{} is already installed as {} ({}): nothing to do",
            args.file.display(),
            p.name,
            p.digest
        ),
        Added::New(p) => format!("added {}", summary(&p)),
        Added::Replaced(p, old) => format!("added {}, replacing {}", summary(&p), old.join(", ")),
    };
    println!("{line}");
    Ok(exit::CLEAN)
}

fn summary(p: &Installed) -> String {
    let ids: Vec<&str> = p.checks.iter().map(|c| c.id.as_str()).collect();
    format!(
        "{} ({}): {} check(s): {}",
        p.name,
        p.digest,
        ids.len(),
        ids.join(", ")
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
                "{:<w$} {:<8} {:<6} {:<19} {}\n",
                "NAME", "WIT", "CHECKS", "DIGEST", "SOURCE"
            );
            for p in &installed {
                out += &format!(
                    "{:<w$} {:<8} {:<6} {:<19} {}\n",
                    p.name,
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
                "name:         {}\ndigest:       {}\nworld:        kridik:plugin/{}@{}\nsource:       {}\nsize:         {} bytes\ncapabilities: none (checks get only the snapshot and the mesh model)\nstored at:    {}\nchecks:\n",
                p.name,
                p.digest,
                p.world,
                p.wit_version,
                p.source,
                p.size,
                store.blob_path(&p.digest).display()
            );
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

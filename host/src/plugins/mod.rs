//! Installed plugins: adding a component validates it, reads its checks from
//! the component itself, refuses check ids that another component owns, and
//! compiles it into the cache so the next scan starts fast.

pub mod layout;
pub mod lock;
pub mod oci;
pub mod signing;
pub mod store;
pub mod trust;

/// Where an OCI pack came from, kept beside its component so `plugin save`
/// writes the registry's own manifest (the digest signatures name) and the
/// signatures, and `plugin load` can verify them offline.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Provenance {
    /// `registry/repository`.
    pub repository: String,
    /// Base64 of the manifest and config bytes as pulled.
    pub manifest: String,
    pub config: String,
    /// (base64 payload, base64 signature) pairs stored for the digest.
    pub signatures: Vec<(String, String)>,
    /// Base64 of the Sigstore bundles attached to the digest (cosign v3).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bundles: Vec<String>,
}

impl Provenance {
    /// The signatures kept, decoded (entries that are not base64 are dropped).
    pub fn decoded(&self) -> Vec<signing::Signature> {
        use base64::Engine as _;
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.decode(s).ok();
        let simple = self.signatures.iter().filter_map(|(p, s)| {
            Some(signing::Signature::Simple {
                payload: b64(p)?,
                signature: s.clone(),
            })
        });
        let bundles = self
            .bundles
            .iter()
            .filter_map(|b| Some(signing::Signature::Bundle(b64(b)?)));
        simple.chain(bundles).collect()
    }
}

pub use store::{Installed, Store};

use crate::runtime::{builtin, sha256, Capability, Grants, Hook, Plugin, Runtime, World};
use anyhow::{bail, Result};
use std::collections::BTreeMap;
use std::path::Path;

/// What `add` did.
pub enum Added {
    New(Installed),
    /// The same bytes were already installed: nothing changed.
    Unchanged(Installed),
    /// Installed, replacing these plugins (by name).
    Replaced(Installed, Vec<String>),
}

pub struct AddRequest<'a> {
    pub bytes: &'a [u8],
    /// Where the bytes came from, for messages and `plugin info`.
    pub source: String,
    pub name: Option<String>,
    pub replace: bool,
    /// For hooks only: what the user grants.
    pub grants: Grants,
}

/// A plugin name: lower-case letters, digits, `-`, `_` and `.`.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_.".contains(c))
}

/// `./checks/My Check.wasm` -> `my-check`.
pub fn name_from(source: &str) -> String {
    let stem = Path::new(source)
        .file_stem()
        .map(|s| s.to_string_lossy().to_string())
        .unwrap_or_default();
    let name: String = stem
        .to_ascii_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let name = name.trim_matches(|c| c == '-' || c == '.').to_string();
    if name.is_empty() {
        "plugin".into()
    } else {
        name
    }
}

pub fn add(store: &Store, rt: &Runtime, req: AddRequest) -> Result<Added> {
    let described = match rt.world_of(&req.source, req.bytes)? {
        World::Check => {
            if req.grants != Grants::default() {
                bail!("{}: --allow-dir, --allow-http and --set are for result hooks; checks get no capabilities", req.source);
            }
            Described::Check(rt.load(&req.source, req.bytes)?)
        }
        World::Hook => {
            let hook = rt.load_hook(&req.source, req.bytes)?;
            refuse_unasked(&req.source, &hook.capabilities, &req.grants)?;
            Described::Hook(hook)
        }
    };
    let digest = format!("sha256:{}", sha256(req.bytes));
    // From here to the commit the store is ours: the index read below is the
    // one the commit replaces.
    let _lock = store.lock()?;
    let installed = store.list()?;
    if let Some(same) = installed
        .iter()
        .find(|p| p.digest == digest && p.grants == req.grants)
    {
        return Ok(Added::Unchanged(same.clone()));
    }
    let name = req.name.unwrap_or_else(|| name_from(&req.source));
    if !valid_name(&name) {
        bail!("`{name}` is not a valid plugin name (use a-z, 0-9, `-`, `_` and `.`): pass --name");
    }
    if name.starts_with("builtin") {
        bail!("`{name}`: names starting with `builtin` are reserved: pass --name");
    }
    let checks = match &described {
        Described::Check(plugin) => {
            refuse_builtin_clash(rt, &req.source, plugin)?;
            plugin.checks.clone()
        }
        Described::Hook(_) => Vec::new(),
    };

    // Plugins this one would displace: the same name, or an owner of one of its ids.
    let mut displaced: BTreeMap<String, String> = BTreeMap::new();
    if installed.iter().any(|p| p.name == name) {
        displaced.insert(name.clone(), "has the same name".into());
    }
    for p in installed.iter().filter(|p| p.name != name) {
        if let Some(c) = p
            .checks
            .iter()
            .find(|c| checks.iter().any(|n| n.id == c.id))
        {
            displaced.insert(p.name.clone(), format!("provides check id {}", c.id));
        }
    }
    if !displaced.is_empty() && !req.replace {
        let why: Vec<String> = displaced
            .iter()
            .map(|(n, why)| format!("installed plugin {n} {why}"))
            .collect();
        bail!(
            "{}: {}; pass --replace to replace it, or --name to install under another name",
            req.source,
            why.join(", ")
        );
    }
    let (world, wit_version, capabilities) = match &described {
        Described::Check(p) => ("check", p.wit_version.clone(), Vec::new()),
        Described::Hook(h) => ("hook", h.wit_version.clone(), h.capabilities.clone()),
    };
    let entry = Installed {
        name,
        digest: digest.clone(),
        world: world.into(),
        wit_version,
        source: req.source,
        size: req.bytes.len() as u64,
        checks,
        capabilities,
        grants: req.grants,
    };
    let mut kept: Vec<Installed> = installed
        .into_iter()
        .filter(|p| !displaced.contains_key(&p.name))
        .collect();
    kept.push(entry.clone());
    store.commit(Some((&digest, req.bytes)), kept)?;
    Ok(if displaced.is_empty() {
        Added::New(entry)
    } else {
        Added::Replaced(entry, displaced.into_keys().collect())
    })
}

enum Described {
    Check(Plugin),
    Hook(Hook),
}

/// A grant the hook never asked for would be a capability nobody reviewed.
fn refuse_unasked(source: &str, asked: &[Capability], grants: &Grants) -> Result<()> {
    let unasked = |c: Capability, flag: &str| {
        anyhow::anyhow!(
            "{source} does not ask for {} (it asks for: {}); drop {flag}",
            c.as_str(),
            if asked.is_empty() {
                "nothing".to_string()
            } else {
                asked
                    .iter()
                    .map(|c| c.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        )
    };
    if grants.dir.is_some() && !asked.contains(&Capability::WriteDir) {
        return Err(unasked(Capability::WriteDir, "--allow-dir"));
    }
    if !grants.http.is_empty() && !asked.contains(&Capability::Http) {
        return Err(unasked(Capability::Http, "--allow-http"));
    }
    Ok(())
}

/// Built-in ids are never replaced: a report's IST-MTLS-001 is always ours.
fn refuse_builtin_clash(rt: &Runtime, source: &str, plugin: &Plugin) -> Result<()> {
    for (name, bytes) in builtin::COMPONENTS {
        let builtin = rt.load(name, bytes)?;
        if let Some(c) = plugin
            .checks
            .iter()
            .find(|c| builtin.checks.iter().any(|b| b.id == c.id))
        {
            bail!(
                "{source}: check id {} is a built-in check of {name}; built-in ids cannot be replaced: give the check another id",
                c.id
            );
        }
    }
    Ok(())
}

/// Removes a plugin by name; returns what was removed.
pub fn remove(store: &Store, name: &str) -> Result<Installed> {
    let _lock = store.lock()?;
    let installed = store.list()?;
    let Some(gone) = installed.iter().find(|p| p.name == name).cloned() else {
        bail!("no installed plugin is named {name} (see `kridik plugin list`)");
    };
    store.commit(
        None,
        installed.into_iter().filter(|p| p.name != name).collect(),
    )?;
    Ok(gone)
}

/// A plugin by name, or the plugin providing a check id.
pub fn find(store: &Store, key: &str) -> Result<Installed> {
    let installed = store.list()?;
    installed
        .iter()
        .find(|p| p.name == key)
        .or_else(|| installed.iter().find(|p| p.checks.iter().any(|c| c.id == key)))
        .cloned()
        .ok_or_else(|| {
            anyhow::anyhow!(
                "no installed plugin is named {key} or provides check {key} (see `kridik plugin list`)"
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_file_stems() {
        assert_eq!(name_from("./checks/My Check.wasm"), "my-check");
        assert_eq!(name_from("/x/acme_gw.v2.wasm"), "acme_gw.v2");
        assert_eq!(name_from("!!!.wasm"), "plugin");
        assert!(valid_name("acme-gw"));
        assert!(!valid_name("Acme"));
        assert!(!valid_name(".hidden"));
    }
}

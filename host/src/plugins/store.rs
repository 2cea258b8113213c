//! Where installed plugins live: `<home>/plugins/index.json` lists them and
//! `<home>/plugins/blobs/sha256-<hex>.wasm` holds each component once, by
//! content digest. Every write goes to a temporary file renamed into place, and
//! the index is written last, so a failed install leaves nothing behind.

use crate::report::model::CheckInfo;
use crate::runtime::{Capability, Grants};
use crate::state_file::{read_if_present, write_atomic};
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// One installed component, as `kridik plugin list/info` show it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Installed {
    pub name: String,
    /// `sha256:<hex>` of the component bytes.
    pub digest: String,
    /// The world it was built for: `check` or `hook`.
    pub world: String,
    /// The `kridik:plugin` version it was built against.
    pub wit_version: String,
    /// Where it came from: the file it was added from, or an OCI reference.
    pub source: String,
    pub size: u64,
    /// Empty for hooks.
    pub checks: Vec<CheckInfo>,
    /// What a hook asks for (its own `describe`); empty for checks.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    /// What the user granted a hook at install time.
    #[serde(default)]
    pub grants: Grants,
}

#[derive(Default, Serialize, Deserialize)]
struct Index {
    version: u32,
    plugins: Vec<Installed>,
}

const INDEX_VERSION: u32 = 1;

pub struct Store {
    dir: PathBuf,
}

impl Store {
    /// `home`, else `KRIDIK_HOME`, else the user data dir.
    pub fn open(home: Option<PathBuf>) -> Result<Store> {
        Store::find(home).context("no home directory to keep plugins in: set KRIDIK_HOME")
    }

    /// The store, or None where there is no home to keep one in (a scratch
    /// container image without HOME or a passwd entry): nothing is installed
    /// there, which is not an error for a scan.
    pub fn find(home: Option<PathBuf>) -> Option<Store> {
        let home = home
            .or_else(|| std::env::var_os("KRIDIK_HOME").map(PathBuf::from))
            .or_else(|| {
                directories::ProjectDirs::from("io", "kridik", "kridik")
                    .map(|d| d.data_dir().to_path_buf())
            })?;
        Some(Store {
            dir: home.join("plugins"),
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn index_path(&self) -> PathBuf {
        self.dir.join("index.json")
    }

    /// Holds the store for one change: concurrent `plugin add`/`remove` runs
    /// take turns, each re-reading the index under the lock, so none loses
    /// another's install. Released when dropped.
    pub fn lock(&self) -> Result<std::fs::File> {
        crate::state_file::lock(&self.dir.join(".lock"))
    }

    /// Where an OCI pack's provenance (original manifest, config, signatures)
    /// is kept, by the component's digest.
    pub fn provenance_path(&self, digest: &str) -> PathBuf {
        self.dir
            .join("provenance")
            .join(format!("{}.json", digest.replace(':', "-")))
    }

    pub fn write_provenance(&self, digest: &str, p: &super::Provenance) -> Result<()> {
        let path = self.provenance_path(digest);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        write_atomic(&path, serde_json::to_string(p)?.as_bytes())
    }

    pub fn read_provenance(&self, digest: &str) -> Option<super::Provenance> {
        let text = crate::state_file::read_text_capped(
            &self.provenance_path(digest),
            crate::state_file::MAX_STATE_BYTES,
        )
        .ok()?;
        serde_json::from_str(&text).ok()
    }

    pub fn blob_path(&self, digest: &str) -> PathBuf {
        self.dir
            .join("blobs")
            .join(format!("{}.wasm", digest.replace(':', "-")))
    }

    /// The installed plugins, in name order. No index yet means none.
    pub fn list(&self) -> Result<Vec<Installed>> {
        let path = self.index_path();
        let Some(text) = read_if_present(&path)? else {
            return Ok(Vec::new());
        };
        let index: Index = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is damaged: remove it and add the plugins again",
                path.display()
            )
        })?;
        if index.version != INDEX_VERSION {
            bail!(
                "{} has version {}, this kridik reads version {INDEX_VERSION}: upgrade kridik",
                path.display(),
                index.version
            );
        }
        Ok(index.plugins)
    }

    /// The component bytes of an installed plugin, verified against its digest.
    pub fn read(&self, p: &Installed) -> Result<Vec<u8>> {
        let path = self.blob_path(&p.digest);
        let bytes = crate::state_file::read_capped(&path, crate::state_file::MAX_COMPONENT_BYTES).with_context(|| {
            format!(
                "installed plugin {} is missing {}: reinstall it with `kridik plugin add --replace`",
                p.name,
                path.display()
            )
        })?;
        let actual = format!("sha256:{}", crate::runtime::sha256(&bytes));
        if actual != p.digest {
            bail!(
                "installed plugin {} is damaged: {} has digest {actual}, not {}; reinstall it with `kridik plugin add --replace`",
                p.name,
                path.display(),
                p.digest
            );
        }
        Ok(bytes)
    }

    /// Stores the blob (once per digest), then replaces the index with `plugins`.
    pub fn commit(&self, bytes: Option<(&str, &[u8])>, plugins: Vec<Installed>) -> Result<()> {
        if let Some((digest, bytes)) = bytes {
            let blob = self.blob_path(digest);
            if !blob.exists() {
                write_atomic(&blob, bytes)?;
            }
        }
        let mut plugins = plugins;
        plugins.sort_by(|a, b| a.name.cmp(&b.name));
        let index = Index {
            version: INDEX_VERSION,
            plugins,
        };
        write_atomic(
            &self.index_path(),
            (serde_json::to_string_pretty(&index)? + "\n").as_bytes(),
        )?;
        self.collect_garbage(&index.plugins);
        Ok(())
    }

    /// Blobs no plugin refers to any more (left by remove or --replace), and
    /// temporary files of writes that never finished (a killed add). Runs
    /// under the store lock, so no write of another run is in flight.
    fn collect_garbage(&self, plugins: &[Installed]) {
        let own_tmp = format!(".{}.", std::process::id());
        for dir in [
            self.dir.clone(),
            self.dir.join("blobs"),
            self.dir.join("provenance"),
        ] {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for e in entries.flatten() {
                let (path, name) = (e.path(), e.file_name().to_string_lossy().into_owned());
                let blob = name.starts_with("sha256-")
                    && !plugins.iter().any(|p| {
                        self.blob_path(&p.digest) == path || self.provenance_path(&p.digest) == path
                    });
                // write_atomic's temporaries are `.<pid>.<name>`.
                let stale_tmp = name.starts_with('.')
                    && name[1..].split_once('.').is_some_and(|(pid, _)| {
                        pid.chars().all(|c| c.is_ascii_digit()) && !pid.is_empty()
                    })
                    && !name.starts_with(&own_tmp);
                if blob || stale_tmp {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
    }
}

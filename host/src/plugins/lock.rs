//! `kridik.lock`: OCI packs pinned by manifest digest, so installing from a tag
//! in CI gets the same bytes every time until `kridik plugin update` moves it.

use super::Store;
use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const FILE: &str = "kridik.lock";
const VERSION: u32 = 1;

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Pin {
    /// As the user wrote it: `oci://REGISTRY/REPO:TAG`.
    pub reference: String,
    /// The manifest digest the tag named when it was pinned.
    pub digest: String,
    /// The plugin name it is installed under.
    pub name: String,
    /// The key that verified the digest's signature, under a trust policy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub verified_by: Option<String>,
}

#[derive(Default, Serialize, Deserialize)]
pub struct Lock {
    version: u32,
    packs: Vec<Pin>,
}

/// `--lock`, else `./kridik.lock` when the project has one, else the one in the store.
pub fn path(explicit: Option<PathBuf>, store: &Store) -> PathBuf {
    explicit.unwrap_or_else(|| {
        let local = PathBuf::from(FILE);
        if local.is_file() {
            local
        } else {
            store.dir().join(FILE)
        }
    })
}

impl Lock {
    pub fn read(path: &Path) -> Result<Lock> {
        let Some(text) = crate::state_file::read_if_present(path)? else {
            return Ok(Lock {
                version: VERSION,
                packs: Vec::new(),
            });
        };
        let lock: Lock = serde_json::from_str(&text).with_context(|| {
            format!(
                "{} is not a kridik lock file: fix it or remove it to pin packs afresh",
                path.display()
            )
        })?;
        if lock.version != VERSION {
            bail!(
                "{} has version {}, this kridik reads version {VERSION}",
                path.display(),
                lock.version
            );
        }
        Ok(lock)
    }

    pub fn pins(&self) -> &[Pin] {
        &self.packs
    }

    pub fn get(&self, reference: &str) -> Option<&Pin> {
        self.packs.iter().find(|p| p.reference == reference)
    }

    pub fn set(&mut self, pin: Pin) {
        self.packs.retain(|p| p.reference != pin.reference);
        self.packs.push(pin);
        self.packs.sort_by(|a, b| a.reference.cmp(&b.reference));
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)? + "\n";
        crate::state_file::write_atomic(path, text.as_bytes())
    }
}

//! `.kridik.yaml`: suppressions with a mandatory reason and an optional expiry,
//! found upward from the working directory (or given with `--config`).

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

pub const FILE: &str = ".kridik.yaml";

pub use kridik_parse::suppressions::{glob, Rule, TrustRule};

pub struct Config {
    pub path: Option<PathBuf>,
    pub rules: Vec<Rule>,
    /// Who must have signed the check packs of a repository (`trust:`).
    pub trust: Vec<TrustRule>,
}

impl Config {
    /// The directory relative paths in the config are resolved from.
    pub fn dir(&self) -> PathBuf {
        self.path
            .as_deref()
            .and_then(Path::parent)
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }
}

/// `--config FILE`, else the nearest `.kridik.yaml` from `start` upward, else none.
pub fn load(explicit: Option<&Path>, start: &Path) -> Result<Config> {
    let path = match explicit {
        Some(p) => Some(p.to_path_buf()),
        None => start
            .ancestors()
            .map(|d| d.join(FILE))
            .find(|p| p.is_file()),
    };
    let Some(path) = path else {
        return Ok(Config {
            path: None,
            rules: Vec::new(),
            trust: Vec::new(),
        });
    };
    let text = crate::state_file::read_text_capped(&path, crate::state_file::MAX_STATE_BYTES)
        .with_context(|| format!("cannot read the config {}", path.display()))?;
    let shown = path.display().to_string();
    let rules = kridik_parse::suppressions::parse(&text, &shown)?;
    let trust = kridik_parse::suppressions::trust(&text, &shown)?;
    Ok(Config {
        path: Some(path),
        rules,
        trust,
    })
}

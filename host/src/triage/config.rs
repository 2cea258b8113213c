//! `.kridik.yaml`: suppressions with a mandatory reason and an optional expiry,
//! found upward from the working directory (or given with `--config`).

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

pub const FILE: &str = ".kridik.yaml";

pub use kridik_parse::suppressions::{glob, Rule};

pub struct Config {
    pub path: Option<PathBuf>,
    pub rules: Vec<Rule>,
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
        });
    };
    let text = crate::state_file::read_text_capped(&path, crate::state_file::MAX_STATE_BYTES)
        .with_context(|| format!("cannot read the config {}", path.display()))?;
    let rules = kridik_parse::suppressions::parse(&text, &path.display().to_string())?;
    Ok(Config {
        path: Some(path),
        rules,
    })
}

//! kridik's own small files (plugin index, lock file, compile cache): written
//! through a temporary file renamed into place, so a crash or a concurrent
//! reader never sees half a file; read with "absent" told apart from "broken".

use anyhow::{Context, Result};
use std::path::Path;

/// Writes `bytes` to `path` atomically, creating the directory if needed.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let tmp = dir.join(format!(
        ".{}.{}",
        std::process::id(),
        path.file_name().unwrap_or_default().to_string_lossy()
    ));
    std::fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}

/// Largest state or settings file read (index, lock file, baseline, config).
pub const MAX_STATE_BYTES: u64 = 64 << 20;

/// Largest component read or pulled (a JavaScript check is about 12 MB).
pub const MAX_COMPONENT_BYTES: u64 = 64 << 20;

/// The file's bytes, refusing anything but a regular file (a FIFO would block,
/// a device never ends) and anything larger than `max`.
pub fn read_capped(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    if meta.len() > max {
        return Err(std::io::Error::other(format!(
            "{} bytes, more than the {} MiB kridik reads",
            meta.len(),
            max >> 20
        )));
    }
    read_limited(file, max, meta.len())
}

/// At most `max` bytes from any reader (a pipe included); more is an error,
/// never a truncation. `expected` (a file's size, 0 when unknown) sizes the
/// buffer: one allocation instead of a doubling series, whose last step
/// held one and a half times a large file at once.
pub fn read_limited(
    reader: impl std::io::Read,
    max: u64,
    expected: u64,
) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::with_capacity(expected.min(max) as usize + 1);
    reader.take(max + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB, the most kridik reads",
            max >> 20
        )));
    }
    Ok(bytes)
}

/// [`read_capped`] as UTF-8 text.
pub fn read_text_capped(path: &Path, max: u64) -> std::io::Result<String> {
    String::from_utf8(read_capped(path, max)?)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

/// The file's text, or `None` when it does not exist (yet).
pub fn read_if_present(path: &Path) -> Result<Option<String>> {
    match read_text_capped(path, MAX_STATE_BYTES) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// An exclusive advisory lock on `path` (created if needed), released when
/// the returned file is dropped. The lock file is never renamed or replaced,
/// unlike the files it guards.
pub fn lock(path: &Path) -> Result<std::fs::File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    file.lock()
        .with_context(|| format!("cannot lock {}", path.display()))?;
    Ok(file)
}

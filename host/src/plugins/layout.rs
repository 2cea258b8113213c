//! `kridik plugin save/load`: installed plugins as an OCI image layout
//! directory (`oci-layout`, `index.json`, `blobs/sha256/`), the same Wasm
//! artifacts `push` publishes, so packs cross an air gap on a USB stick and
//! `oras cp --from-oci-layout` can still put them in a registry there.

use super::oci::{self, Describe};
use anyhow::{bail, Context, Result};
use kridik_parse::oci_manifest;
use oci_client::manifest::OCI_IMAGE_MEDIA_TYPE;
use serde_json::json;
use std::path::Path;

const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// One component to save: its bytes, the name to save it under, its (imports, exports).
pub struct Entry<'a> {
    pub name: &'a str,
    pub wasm: &'a [u8],
    pub component: (&'a [String], &'a [String]),
    pub describe: Describe,
}

/// Writes the entries as a new OCI image layout at `dir`.
pub fn save(dir: &Path, entries: &[Entry]) -> Result<()> {
    if dir.join("index.json").exists() {
        bail!(
            "{} already holds an OCI layout: choose a new directory",
            dir.display()
        );
    }
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs)
        .with_context(|| format!("cannot create {}", blobs.display()))?;
    let write_blob = |bytes: &[u8]| -> Result<String> {
        let hex = crate::runtime::sha256(bytes);
        let path = blobs.join(&hex);
        std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
        Ok(format!("sha256:{hex}"))
    };
    let mut manifests = Vec::new();
    for e in entries {
        let a = oci::artifact(e.wasm, e.name, &e.describe, e.component)?;
        write_blob(&a.layers[0].data)?;
        write_blob(&a.config.data)?;
        let manifest = serde_json::to_vec(&a.manifest)?;
        let digest = write_blob(&manifest)?;
        manifests.push(json!({
            "mediaType": OCI_IMAGE_MEDIA_TYPE,
            "digest": digest,
            "size": manifest.len(),
            "annotations": { REF_NAME: e.name },
        }));
    }
    let index = json!({ "schemaVersion": 2, "manifests": manifests });
    std::fs::write(dir.join("index.json"), serde_json::to_vec_pretty(&index)?)?;
    std::fs::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#)?;
    Ok(())
}

/// A component read back from a layout, digests verified.
pub struct Loaded {
    pub name: String,
    pub manifest_digest: String,
    pub wasm: Vec<u8>,
}

/// Reads every Wasm artifact of the layout at `dir`.
pub fn load(dir: &Path) -> Result<Vec<Loaded>> {
    let index_path = dir.join("index.json");
    let text = crate::state_file::read_text_capped(&index_path, crate::state_file::MAX_STATE_BYTES).with_context(|| {
        format!(
            "{} is not an OCI layout (no index.json): pass a directory written by `kridik plugin save`",
            dir.display()
        )
    })?;
    let index: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", index_path.display()))?;
    let list = index["manifests"]
        .as_array()
        .with_context(|| format!("{} lists no manifests", index_path.display()))?;
    let mut out = Vec::new();
    for m in list {
        let digest = m["digest"].as_str().unwrap_or_default();
        let name = m["annotations"][REF_NAME]
            .as_str()
            .unwrap_or("plugin")
            .to_string();
        let what = format!("{}#{name}", dir.display());
        let manifest = oci_manifest::parse(&blob(dir, digest, &what)?, &what)?;
        let layer = oci_manifest::wasm_layer(&what, &manifest, oci::MAX_COMPONENT_BYTES)?;
        out.push(Loaded {
            name,
            manifest_digest: digest.to_string(),
            wasm: blob(dir, &layer.digest, &what)?,
        });
    }
    Ok(out)
}

/// A blob of the layout, refused unless its content matches its digest.
fn blob(dir: &Path, digest: &str, what: &str) -> Result<Vec<u8>> {
    let Some(hex) = digest
        .strip_prefix("sha256:")
        .filter(|_| oci_manifest::is_sha256_digest(digest))
    else {
        bail!(
            "{what}: `{}` is not a sha256 digest",
            crate::printable::line(digest)
        );
    };
    let path = dir.join("blobs/sha256").join(hex);
    let size = std::fs::metadata(&path)
        .with_context(|| format!("{what}: cannot read {}", path.display()))?
        .len();
    if size > oci::MAX_COMPONENT_BYTES as u64 {
        bail!("{what}: {} is larger than kridik accepts", path.display());
    }
    let bytes = crate::state_file::read_capped(&path, crate::state_file::MAX_COMPONENT_BYTES)
        .with_context(|| format!("{what}: cannot read {}", path.display()))?;
    let actual = crate::runtime::sha256(&bytes);
    if actual != hex {
        bail!(
            "{what}: {} does not match its digest (it is sha256:{actual}); refusing it",
            path.display()
        );
    }
    Ok(bytes)
}

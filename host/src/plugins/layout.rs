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
/// The `registry/repository` an artifact was pulled from (kridik's annotation).
const REPOSITORY: &str = "dev.kridik.repository";
/// On a signature manifest: the manifest digest it signs (kridik's annotation).
const SIGNATURE_OF: &str = "dev.kridik.signature-of";
const EMPTY_CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";

/// One component to save: its bytes, the name to save it under, its (imports, exports).
pub struct Entry<'a> {
    pub name: &'a str,
    pub wasm: &'a [u8],
    pub component: (&'a [String], &'a [String]),
    pub describe: Describe,
    /// An OCI pack's registry manifest and signatures, kept as they were.
    pub provenance: Option<&'a super::Provenance>,
}

fn b64(s: &str) -> Option<Vec<u8>> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
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
        // The registry's own manifest when the pack came from one (and still
        // names this component), so its signatures stay valid offline.
        let original = e.provenance.and_then(|p| {
            let (manifest, config) = (b64(&p.manifest)?, b64(&p.config)?);
            let parsed = oci_manifest::parse(&manifest, e.name).ok()?;
            let layer = oci_manifest::wasm_layer(e.name, &parsed, oci::MAX_COMPONENT_BYTES).ok()?;
            (layer.digest == format!("sha256:{}", crate::runtime::sha256(e.wasm)))
                .then_some((p, manifest, config))
        });
        if let Some((p, manifest, config)) = original {
            write_blob(e.wasm)?;
            write_blob(&config)?;
            let digest = write_blob(&manifest)?;
            manifests.push(json!({
                "mediaType": OCI_IMAGE_MEDIA_TYPE,
                "digest": digest,
                "size": manifest.len(),
                "annotations": { REF_NAME: e.name, REPOSITORY: p.repository },
            }));
            let found = p.decoded();
            if found.is_empty() {
                continue;
            }
            // The empty config every signature manifest names.
            let empty = write_blob(b"{}")?;
            // Bundles as the registry holds them: referrers of the digest.
            for bundle in found.iter().filter_map(|s| match s {
                super::signing::Signature::Bundle(json) => Some(json),
                _ => None,
            }) {
                let referrer = serde_json::to_vec(&json!({
                    "schemaVersion": 2,
                    "mediaType": OCI_IMAGE_MEDIA_TYPE,
                    "artifactType": super::signing::BUNDLE_MEDIA_TYPE,
                    "config": { "mediaType": "application/vnd.oci.empty.v1+json", "digest": empty, "size": 2 },
                    "layers": [{ "mediaType": super::signing::BUNDLE_MEDIA_TYPE, "digest": write_blob(bundle)?, "size": bundle.len() }],
                    "subject": { "mediaType": OCI_IMAGE_MEDIA_TYPE, "digest": digest, "size": manifest.len() },
                }))?;
                manifests.push(json!({
                    "mediaType": OCI_IMAGE_MEDIA_TYPE,
                    "artifactType": super::signing::BUNDLE_MEDIA_TYPE,
                    "digest": write_blob(&referrer)?,
                    "size": referrer.len(),
                    "annotations": { SIGNATURE_OF: digest },
                }));
            }
            let simple: Vec<(&Vec<u8>, &String)> = found
                .iter()
                .filter_map(|s| match s {
                    super::signing::Signature::Simple { payload, signature } => {
                        Some((payload, signature))
                    }
                    _ => None,
                })
                .collect();
            if simple.is_empty() {
                continue;
            }
            let mut layers = Vec::new();
            for (payload, signature) in simple {
                layers.push(json!({
                    "mediaType": super::signing::PAYLOAD_MEDIA_TYPE,
                    "digest": write_blob(payload)?,
                    "size": payload.len(),
                    "annotations": { super::signing::SIGNATURE_ANNOTATION: signature },
                }));
            }
            let sig_manifest = serde_json::to_vec(&json!({
                "schemaVersion": 2,
                "mediaType": OCI_IMAGE_MEDIA_TYPE,
                "config": { "mediaType": EMPTY_CONFIG_TYPE, "digest": empty, "size": 2 },
                "layers": layers,
            }))?;
            manifests.push(json!({
                "mediaType": OCI_IMAGE_MEDIA_TYPE,
                "digest": write_blob(&sig_manifest)?,
                "size": sig_manifest.len(),
                "annotations": { REF_NAME: format!("{}.sig", e.name), SIGNATURE_OF: digest },
            }));
            continue;
        }
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
    /// Where it was pulled from, when it came from a registry.
    pub repository: Option<String>,
    /// (payload, signature) pairs saved with it.
    pub signatures: Vec<super::signing::Signature>,
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
    let mut out: Vec<Loaded> = Vec::new();
    let mut signatures: Vec<(String, Vec<super::signing::Signature>)> = Vec::new();
    for m in list {
        let digest = m["digest"].as_str().unwrap_or_default();
        let name = m["annotations"][REF_NAME]
            .as_str()
            .unwrap_or("plugin")
            .to_string();
        let what = format!("{}#{name}", dir.display());
        if let Some(of) = m["annotations"][SIGNATURE_OF].as_str() {
            let manifest: serde_json::Value = serde_json::from_slice(&blob(dir, digest, &what)?)
                .with_context(|| format!("{what}: the signature manifest is not JSON"))?;
            let bundle = manifest["artifactType"] == super::signing::BUNDLE_MEDIA_TYPE;
            let mut found = Vec::new();
            for layer in manifest["layers"].as_array().into_iter().flatten() {
                let Some(d) = layer["digest"].as_str() else {
                    continue;
                };
                if bundle {
                    if layer["mediaType"] == super::signing::BUNDLE_MEDIA_TYPE {
                        found.push(super::signing::Signature::Bundle(blob(dir, d, &what)?));
                    }
                    continue;
                }
                let Some(sig) = layer["annotations"][super::signing::SIGNATURE_ANNOTATION].as_str()
                else {
                    continue;
                };
                found.push(super::signing::Signature::Simple {
                    payload: blob(dir, d, &what)?,
                    signature: sig.to_string(),
                });
            }
            signatures.push((of.to_string(), found));
            continue;
        }
        let manifest = oci_manifest::parse(&blob(dir, digest, &what)?, &what)?;
        let layer = oci_manifest::wasm_layer(&what, &manifest, oci::MAX_COMPONENT_BYTES)?;
        out.push(Loaded {
            name,
            manifest_digest: digest.to_string(),
            wasm: blob(dir, &layer.digest, &what)?,
            repository: m["annotations"][REPOSITORY].as_str().map(String::from),
            signatures: Vec::new(),
        });
    }
    for (of, found) in signatures {
        if let Some(pack) = out.iter_mut().find(|p| p.manifest_digest == of) {
            pack.signatures.extend(found);
        }
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

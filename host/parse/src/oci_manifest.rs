//! OCI image manifests of check packs (CNCF Wasm OCI artifact layout), read
//! from registries kridik does not trust: size-capped, digests well-formed,
//! exactly one Wasm layer within the component size cap.

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;

pub const WASM_CONFIG_MEDIA_TYPE: &str = "application/vnd.wasm.config.v0+json";
pub const WASM_LAYER_MEDIA_TYPE: &str = "application/wasm";
/// The distribution spec asks registries to accept manifests of at least
/// 4 MiB; a pack's is under 1 KiB. Anything larger is refused unread.
pub const MAX_MANIFEST_BYTES: usize = 4 << 20;

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Manifest {
    pub schema_version: u32,
    #[serde(default)]
    pub media_type: Option<String>,
    pub config: Descriptor,
    pub layers: Vec<Descriptor>,
    #[serde(default)]
    pub annotations: Option<BTreeMap<String, String>>,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Descriptor {
    pub media_type: String,
    pub digest: String,
    pub size: i64,
}

/// A manifest's bytes; `what` names the artifact in messages.
pub fn parse(bytes: &[u8], what: &str) -> Result<Manifest> {
    if bytes.len() > MAX_MANIFEST_BYTES {
        bail!(
            "{what}: the manifest is {} bytes, more than kridik reads ({MAX_MANIFEST_BYTES}); refusing it",
            bytes.len()
        );
    }
    let m: Manifest = serde_json::from_slice(bytes).with_context(|| {
        format!("{what}: the registry served a manifest that is not an OCI image manifest")
    })?;
    if m.schema_version != 2 {
        bail!(
            "{what}: manifest schemaVersion {} (OCI manifests are 2)",
            m.schema_version
        );
    }
    for d in std::iter::once(&m.config).chain(&m.layers) {
        if !is_sha256_digest(&d.digest) {
            bail!(
                "{what}: the manifest names a blob by `{}`, not a sha256 digest; refusing it",
                crate::printable::line(&d.digest)
            );
        }
    }
    Ok(m)
}

/// `sha256:` and 64 lowercase hex digits: the only digests kridik fetches by.
pub fn is_sha256_digest(d: &str) -> bool {
    d.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// The one `application/wasm` layer of a Wasm artifact, within `max_bytes`.
pub fn wasm_layer<'m>(what: &str, m: &'m Manifest, max_bytes: usize) -> Result<&'m Descriptor> {
    let layers: Vec<&str> = m.layers.iter().map(|l| l.media_type.as_str()).collect();
    if m.config.media_type != WASM_CONFIG_MEDIA_TYPE || layers.as_slice() != [WASM_LAYER_MEDIA_TYPE]
    {
        bail!(
            "{} is not a Wasm component artifact: config {}, layers [{}]; kridik plugins have config {WASM_CONFIG_MEDIA_TYPE} and one {WASM_LAYER_MEDIA_TYPE} layer (publish with `kridik plugin push`)",
            what,
            crate::printable::line(&m.config.media_type),
            crate::printable::line(&layers.join(", "))
        );
    }
    let layer = &m.layers[0];
    if layer.size < 0 || layer.size as u64 > max_bytes as u64 {
        bail!(
            "{}: the component is {} bytes, more than kridik accepts ({max_bytes})",
            what,
            layer.size
        );
    }
    Ok(layer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(layer_type: &str, size: i64, digest: &str) -> String {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "config":{{"mediaType":"{WASM_CONFIG_MEDIA_TYPE}","digest":"sha256:{z}","size":2}},
            "layers":[{{"mediaType":"{layer_type}","digest":"{digest}","size":{size}}}]}}"#,
            z = "0".repeat(64)
        )
    }

    #[test]
    fn a_wasm_pack_manifest_yields_its_one_layer() {
        let d = format!("sha256:{}", "a".repeat(64));
        let m = parse(manifest(WASM_LAYER_MEDIA_TYPE, 10, &d).as_bytes(), "pack").unwrap();
        assert_eq!(wasm_layer("pack", &m, 100).unwrap().digest, d);
    }

    #[test]
    fn hostile_manifests_are_refused_with_the_reason() {
        let d = format!("sha256:{}", "a".repeat(64));
        let refuse = |text: &str, max: usize, why: &str| {
            let err = parse(text.as_bytes(), "pack")
                .and_then(|m| wasm_layer("pack", &m, max).map(|_| ()))
                .unwrap_err();
            assert!(format!("{err:#}").contains(why), "{err:#} should say {why}");
        };
        refuse(
            &manifest(WASM_LAYER_MEDIA_TYPE, 10, "../../etc/passwd"),
            100,
            "not a sha256 digest",
        );
        refuse(
            &manifest(WASM_LAYER_MEDIA_TYPE, 1000, &d),
            100,
            "more than kridik accepts",
        );
        refuse(
            &manifest(WASM_LAYER_MEDIA_TYPE, -1, &d),
            100,
            "more than kridik accepts",
        );
        refuse(
            &manifest("application/vnd.oci.image.layer.v1.tar", 10, &d),
            100,
            "not a Wasm component",
        );
        refuse("{}", 100, "not an OCI image manifest");
        let huge = format!(
            "{}{}",
            manifest(WASM_LAYER_MEDIA_TYPE, 10, &d),
            " ".repeat(MAX_MANIFEST_BYTES)
        );
        refuse(&huge, 100, "more than kridik reads");
    }
}

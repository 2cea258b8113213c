//! Check packs in OCI registries, in the CNCF Wasm OCI artifact layout: a
//! config of media type `application/vnd.wasm.config.v0+json` and one
//! `application/wasm` layer, with `org.opencontainers.image.*` annotations,
//! so `wkg` and ORAS-style tools read and write the same artifacts.

use anyhow::{anyhow, bail, Context, Result};
use base64::Engine as _;
use kridik_parse::oci_manifest;
use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
use oci_client::errors::{OciDistributionError, OciErrorCode};
use oci_client::manifest::{
    OciDescriptor, OciImageManifest, OCI_IMAGE_INDEX_MEDIA_TYPE, OCI_IMAGE_MEDIA_TYPE,
};
use oci_client::secrets::RegistryAuth;
use oci_client::RegistryOperation;
use oci_client::{Client, Reference};
use std::collections::BTreeMap;
use std::pin::Pin;
use std::task::{Context as TaskContext, Poll};

// oci-client's WASM_* constants are the older wasm-to-oci types, not CNCF's.
pub use kridik_parse::oci_manifest::{WASM_CONFIG_MEDIA_TYPE, WASM_LAYER_MEDIA_TYPE};
/// The largest component kridik pulls; the biggest real checks (JS) are ~12 MB.
pub const MAX_COMPONENT_BYTES: usize = crate::state_file::MAX_COMPONENT_BYTES as usize;

const SCHEME: &str = "oci://";

/// How to reach a registry.
#[derive(Clone, Debug, Default)]
pub struct Access {
    /// `--username` with the password read from stdin.
    pub basic: Option<(String, String)>,
    /// Plain HTTP (always allowed for localhost and 127.0.0.1).
    pub insecure: bool,
}

/// Annotations a pack carries (`org.opencontainers.image.*`).
#[derive(Clone, Debug, Default)]
pub struct Describe {
    pub version: Option<String>,
    pub description: Option<String>,
    pub source: Option<String>,
    pub licenses: Option<String>,
}

pub struct Pushed {
    /// `oci://registry/repo:tag@sha256:...`: the tag and the digest to pin.
    pub pinned: String,
    pub manifest_digest: String,
}

pub struct Pulled {
    pub bytes: Vec<u8>,
    /// The manifest and config as the registry served them (digests
    /// verified), so a saved layout keeps the digest signatures name.
    pub manifest: Vec<u8>,
    pub config: Vec<u8>,
    pub manifest_digest: String,
    pub pinned: String,
    pub annotations: BTreeMap<String, String>,
}

pub fn is_oci(s: &str) -> bool {
    s.starts_with(SCHEME)
}

/// `oci://REGISTRY/REPO:TAG` or `oci://REGISTRY/REPO@sha256:...`.
pub fn parse(s: &str) -> Result<Reference> {
    let rest = s
        .strip_prefix(SCHEME)
        .with_context(|| format!("`{s}` is not an OCI reference: write oci://REGISTRY/REPO:TAG"))?;
    let reference: Reference = rest.parse().map_err(|e| {
        anyhow!("`{s}` is not a valid OCI reference ({e}): write oci://REGISTRY/REPO:TAG or oci://REGISTRY/REPO@sha256:DIGEST")
    })?;
    if !rest.starts_with(reference.registry()) {
        bail!("`{s}` names no registry: write oci://REGISTRY/REPO:TAG (e.g. oci://ghcr.io/acme/checks:1.0)");
    }
    Ok(reference)
}

fn display(r: &Reference) -> String {
    format!("{SCHEME}{}", r.whole())
}

fn pinned(r: &Reference, manifest_digest: &str) -> String {
    let tag = r.tag().map(|t| format!(":{t}")).unwrap_or_default();
    format!(
        "{SCHEME}{}/{}{tag}@{manifest_digest}",
        r.registry(),
        r.repository()
    )
}

/// Plain HTTP: asked for with --insecure, and always allowed for loopback.
fn plain_http(host: &str, access: &Access) -> bool {
    access.insecure
        || ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .any(|l| host == *l || host.starts_with(&format!("{l}:")))
}

const CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
const READ_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);

fn client(r: &Reference, access: &Access) -> Client {
    let host = r.registry().to_string();
    let protocol = if plain_http(&host, access) {
        ClientProtocol::HttpsExcept(vec![host])
    } else {
        ClientProtocol::Https
    };
    // reqwest's rustls has no provider of its own: use kube's ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    Client::new(ClientConfig {
        protocol,
        platform_resolver: None,
        connect_timeout: Some(CONNECT_TIMEOUT),
        read_timeout: Some(READ_TIMEOUT),
        ..ClientConfig::default()
    })
}

/// A plain HTTP client with the same deadlines, for reads kridik caps itself.
fn http_client() -> Result<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .read_timeout(READ_TIMEOUT)
        .build()
        .context("cannot start an HTTP client")
}

/// Explicit credentials, else the Docker config file's, else anonymous.
fn auth(r: &Reference, access: &Access) -> Result<RegistryAuth> {
    if let Some((user, password)) = &access.basic {
        return Ok(RegistryAuth::Basic(user.clone(), password.clone()));
    }
    Ok(docker_config_auth(r.registry())?.unwrap_or(RegistryAuth::Anonymous))
}

/// `auths.<registry>` of `$DOCKER_CONFIG/config.json` or `~/.docker/config.json`:
/// `auth` (base64 `user:password`) or `username`/`password`.
fn docker_config_auth(registry: &str) -> Result<Option<RegistryAuth>> {
    let path = match std::env::var_os("DOCKER_CONFIG") {
        Some(dir) => std::path::PathBuf::from(dir).join("config.json"),
        None => match directories::BaseDirs::new() {
            Some(b) => b.home_dir().join(".docker/config.json"),
            None => return Ok(None),
        },
    };
    let Ok(text) = crate::state_file::read_text_capped(&path, crate::state_file::MAX_STATE_BYTES)
    else {
        return Ok(None);
    };
    let config: serde_json::Value = serde_json::from_str(&text)
        .with_context(|| format!("{} is not valid JSON", path.display()))?;
    // A credential helper for this registry, else the default store, as docker does.
    let helper = config["credHelpers"][registry]
        .as_str()
        .or_else(|| config["credsStore"].as_str())
        .filter(|h| !h.is_empty());
    let entry = config["auths"].as_object().and_then(|auths| {
        auths.iter().find_map(|(k, v)| {
            let host = k
                .trim_start_matches("https://")
                .trim_start_matches("http://");
            (host.trim_end_matches('/') == registry).then_some(v)
        })
    });
    let has_inline = entry.is_some_and(|e| {
        e["auth"].as_str().is_some_and(|a| !a.is_empty()) || e["password"].is_string()
    });
    if let (Some(helper), false) = (helper, has_inline) {
        return credential_helper(helper, registry);
    }
    let Some(entry) = entry else {
        return Ok(None);
    };
    if let Some(encoded) = entry["auth"].as_str().filter(|s| !s.is_empty()) {
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|s| {
                s.split_once(':')
                    .map(|(u, p)| (u.to_string(), p.to_string()))
            })
            .with_context(|| {
                format!(
                    "{}: auths.{registry}.auth is not base64 of user:password",
                    path.display()
                )
            })?;
        return Ok(Some(RegistryAuth::Basic(decoded.0, decoded.1)));
    }
    match (entry["username"].as_str(), entry["password"].as_str()) {
        (Some(u), Some(p)) => Ok(Some(RegistryAuth::Basic(u.into(), p.into()))),
        _ => Ok(None),
    }
}

/// Asks `docker-credential-HELPER get` for a registry's credentials (the
/// docker credential-helper protocol: the server on stdin, JSON with
/// `Username` and `Secret` on stdout). "Not found" means anonymous; a
/// username of `<token>` means the secret is an identity token.
fn credential_helper(helper: &str, registry: &str) -> Result<Option<RegistryAuth>> {
    use std::io::Write;
    let program = format!("docker-credential-{helper}");
    let mut child = std::process::Command::new(&program)
        .arg("get")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .with_context(|| {
            format!("the Docker config names the credential helper `{helper}` for {registry}, but {program} cannot be run: install it or fix credsStore/credHelpers")
        })?;
    let _ = child
        .stdin
        .take()
        .map(|mut i| i.write_all(registry.as_bytes()));
    // A helper that hangs (a locked keychain prompt) must not hold the command.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let out = loop {
        if child.try_wait()?.is_some() {
            break child.wait_with_output()?;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            bail!("{program} did not answer within 15 s for {registry}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    if !out.status.success() {
        let why = String::from_utf8_lossy(&out.stdout).to_string()
            + &String::from_utf8_lossy(&out.stderr);
        if why.to_ascii_lowercase().contains("not found") {
            return Ok(None);
        }
        bail!(
            "{program} get failed for {registry}: {}",
            crate::printable::line(why.trim())
        );
    }
    let creds: serde_json::Value = serde_json::from_slice(&out.stdout)
        .with_context(|| format!("{program} answered something that is not JSON"))?;
    let user = creds["Username"].as_str().unwrap_or_default();
    let secret = creds["Secret"].as_str().unwrap_or_default();
    Ok(match (user, secret) {
        (_, "") => None,
        ("<token>", token) => Some(RegistryAuth::Bearer(token.to_string())),
        (user, secret) => Some(RegistryAuth::Basic(user.to_string(), secret.to_string())),
    })
}

/// Whole-operation deadline of a registry exchange: the client's read timeout
/// bounds each silence, this bounds a registry that drips bytes.
const OPERATION_DEADLINE: std::time::Duration = std::time::Duration::from_secs(180);

fn block_on<F: std::future::Future>(f: F) -> Result<F::Output> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the network runtime")?;
    rt.block_on(async { tokio::time::timeout(OPERATION_DEADLINE, f).await })
        .map_err(|_| {
            anyhow!(
                "the registry did not finish within {}s: check that it is reachable and healthy",
                OPERATION_DEADLINE.as_secs()
            )
        })
}

/// A component as a Wasm OCI artifact: config, the one layer, the manifest.
pub struct Artifact {
    pub config: Config,
    pub layers: [ImageLayer; 1],
    pub manifest: OciImageManifest,
}

/// Builds the artifact for a component (already validated by the caller);
/// `component` is its (imports, exports).
pub fn artifact(
    wasm: &[u8],
    title: &str,
    describe: &Describe,
    component: (&[String], &[String]),
) -> Result<Artifact> {
    let layer_digest = format!("sha256:{}", crate::runtime::sha256(wasm));
    let created = created();
    let config = serde_json::json!({
        "created": created,
        "architecture": "wasm",
        "os": "wasip2",
        "layerDigests": [layer_digest],
        "component": { "imports": component.0, "exports": component.1 },
    });
    let config = Config::new(
        serde_json::to_vec(&config)?,
        WASM_CONFIG_MEDIA_TYPE.to_string(),
        None,
    );
    let layers = [ImageLayer::new(
        wasm.to_vec(),
        WASM_LAYER_MEDIA_TYPE.to_string(),
        None,
    )];
    let mut annotations = BTreeMap::from([
        ("org.opencontainers.image.created".to_string(), created),
        (
            "org.opencontainers.image.title".to_string(),
            title.to_string(),
        ),
    ]);
    for (key, value) in [
        ("version", &describe.version),
        ("description", &describe.description),
        ("source", &describe.source),
        ("licenses", &describe.licenses),
    ] {
        if let Some(v) = value {
            annotations.insert(format!("org.opencontainers.image.{key}"), v.clone());
        }
    }
    // push(.., None) would drop the annotations: build the manifest ourselves.
    let mut manifest = OciImageManifest::build(&layers, &config, Some(annotations));
    manifest.media_type = Some(OCI_IMAGE_MEDIA_TYPE.to_string());
    Ok(Artifact {
        config,
        layers,
        manifest,
    })
}

/// Publishes a component (already validated by the caller) to `target`.
pub fn push(
    wasm: &[u8],
    target: &str,
    title: &str,
    describe: &Describe,
    component: (&[String], &[String]),
    access: &Access,
) -> Result<Pushed> {
    let r = parse(target)?;
    let describe = Describe {
        version: describe
            .version
            .clone()
            .or_else(|| r.tag().map(String::from)),
        ..describe.clone()
    };
    let Artifact {
        config,
        layers,
        manifest,
    } = artifact(wasm, title, &describe, component)?;
    let c = client(&r, access);
    let auth = auth(&r, access)?;
    block_on(async {
        c.push(&r, &layers, config, &auth, Some(manifest))
            .await
            .map_err(|e| explain(e, &r, "push to"))?;
        let digest = c
            .fetch_manifest_digest(&r, &auth)
            .await
            .map_err(|e| explain(e, &r, "read back"))?;
        Ok(Pushed {
            pinned: pinned(&r, &digest),
            manifest_digest: digest,
        })
    })?
}

/// Fetches a component, refusing anything that is not one Wasm layer or that
/// does not match its digests.
pub fn pull(source: &str, access: &Access) -> Result<Pulled> {
    let r = parse(source)?;
    let c = client(&r, access);
    let auth = auth(&r, access)?;
    block_on(async {
        let bytes = manifest_bytes(&c, &r, &auth, access).await?;
        // The digest of the bytes received, not the one the registry claims.
        let digest = format!("sha256:{}", crate::runtime::sha256(&bytes));
        if let Some(wanted) = r.digest() {
            if wanted != digest {
                bail!(
                    "{}: the registry served manifest {digest}, not the digest asked for; refusing it",
                    display(&r)
                );
            }
        }
        let manifest = oci_manifest::parse(&bytes, &display(&r))?;
        let layer = oci_manifest::wasm_layer(&display(&r), &manifest, MAX_COMPONENT_BYTES)?;
        let descriptor = OciDescriptor {
            media_type: layer.media_type.clone(),
            digest: layer.digest.clone(),
            size: layer.size,
            ..OciDescriptor::default()
        };
        let mut out = Capped::new(MAX_COMPONENT_BYTES);
        c.pull_blob(&r, &descriptor, &mut out)
            .await
            .map_err(|e| explain(e, &r, "pull from"))?;
        if out.buf.len() as i64 != layer.size {
            bail!(
                "{}: the manifest declares a {}-byte component but the registry sent {} bytes; refusing it",
                display(&r),
                layer.size,
                out.buf.len()
            );
        }
        let config_descriptor = OciDescriptor {
            media_type: manifest.config.media_type.clone(),
            digest: manifest.config.digest.clone(),
            size: manifest.config.size,
            ..OciDescriptor::default()
        };
        let mut config = Capped::new(MAX_PAYLOAD_BYTES);
        c.pull_blob(&r, &config_descriptor, &mut config)
            .await
            .map_err(|e| explain(e, &r, "pull from"))?;
        Ok(Pulled {
            bytes: out.buf,
            manifest: bytes.clone(),
            config: config.buf,
            pinned: pinned(&r, &digest),
            manifest_digest: digest,
            annotations: manifest.annotations.clone().unwrap_or_default(),
        })
    })?
}

/// The manifest's bytes, read by kridik itself so a registry cannot make it
/// hold more than [`oci_manifest::MAX_MANIFEST_BYTES`] (oci-client reads a
/// manifest whole). Authentication is still oci-client's (token exchange).
async fn manifest_bytes(
    c: &Client,
    r: &Reference,
    auth: &RegistryAuth,
    access: &Access,
) -> Result<Vec<u8>> {
    manifest_if_present(c, r, auth, access)
        .await?
        .with_context(|| {
            format!(
                "{} was not found in registry {}: check the repository and tag",
                display(r),
                r.registry()
            )
        })
}

/// The manifest's bytes, or None when the registry has no such tag or digest.
async fn manifest_if_present(
    c: &Client,
    r: &Reference,
    auth: &RegistryAuth,
    access: &Access,
) -> Result<Option<Vec<u8>>> {
    let name = r.digest().or(r.tag()).unwrap_or("latest").to_string();
    get_if_present(c, r, &format!("manifests/{name}"), auth, access).await
}

/// GET `/v2/REPO/TAIL` (a manifest, or the referrers of a digest) with the
/// registry's auth, capped like a manifest; None on 404.
async fn get_if_present(
    c: &Client,
    r: &Reference,
    tail: &str,
    auth: &RegistryAuth,
    access: &Access,
) -> Result<Option<Vec<u8>>> {
    let bearer = c
        .auth(r, auth, RegistryOperation::Pull)
        .await
        .map_err(|e| explain(e, r, "pull from"))?;
    let registry = r.resolve_registry();
    let scheme = if plain_http(r.registry(), access) {
        "http"
    } else {
        "https"
    };
    let url = format!("{scheme}://{registry}/v2/{}/{tail}", r.repository());
    let mut request = http_client()?.get(&url).header(
        reqwest::header::ACCEPT,
        format!("{OCI_IMAGE_MEDIA_TYPE}, {OCI_IMAGE_INDEX_MEDIA_TYPE}"),
    );
    request = match (bearer, auth) {
        (Some(token), _) => request.bearer_auth(token),
        (None, RegistryAuth::Basic(user, password)) => request.basic_auth(user, Some(password)),
        (None, RegistryAuth::Bearer(token)) => request.bearer_auth(token),
        (None, _) => request,
    };
    let network = |e: reqwest::Error| {
        anyhow!(
            "cannot pull from registry {}: {}; check that it is running at that address (a plain-HTTP registry not on localhost needs --insecure)",
            r.registry(),
            chain(&e)
        )
    };
    let mut response = request.send().await.map_err(network)?;
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        bail!(
            "registry {} refused access to {}: pass --username and --password-stdin, or `docker login {}`",
            r.registry(),
            r.repository(),
            r.registry()
        );
    }
    if status == reqwest::StatusCode::NOT_FOUND {
        return Ok(None);
    }
    if !status.is_success() {
        bail!(
            "cannot pull from registry {} ({}): HTTP {status}",
            r.registry(),
            display(r)
        );
    }
    let too_big = || {
        anyhow!(
            "{}: the registry serves a manifest of more than {} bytes (a pack's is under 1 KiB); refusing it",
            display(r),
            oci_manifest::MAX_MANIFEST_BYTES
        )
    };
    if response
        .content_length()
        .is_some_and(|n| n > oci_manifest::MAX_MANIFEST_BYTES as u64)
    {
        return Err(too_big());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(network)? {
        if bytes.len() + chunk.len() > oci_manifest::MAX_MANIFEST_BYTES {
            return Err(too_big());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Some(bytes))
}

/// The largest signature payload kridik reads (a simple-signing document is
/// a few hundred bytes).
const MAX_PAYLOAD_BYTES: usize = 64 << 10;
/// The largest Sigstore bundle kridik reads (a key-signed one is about 1 KiB;
/// with certificates and log entries a few KiB).
const MAX_BUNDLE_BYTES: usize = 1 << 20;
/// Bundles read per digest at most (a referrers list can be long).
const MAX_REFERRERS: usize = 16;

/// `registry/repository` of a reference, as signatures name it.
pub fn repository(r: &Reference) -> String {
    format!("{}/{}", r.registry(), r.repository())
}

/// The signatures stored for `digest` in the reference's repository: cosign's
/// `sha256-<hex>.sig` tag (simple signing), and Sigstore bundles attached as
/// OCI referrers (cosign v3), from the referrers API or, where the registry
/// has none, the `sha256-<hex>` referrers tag. Each payload must match its
/// blob digest; none found is an empty list.
pub fn signatures(
    source: &str,
    digest: &str,
    access: &Access,
) -> Result<Vec<super::signing::Signature>> {
    let r = parse(source)?;
    let c = client(&r, access);
    let auth = auth(&r, access)?;
    block_on(async {
        let mut found = signatures_of(&c, &r, digest, &auth, access).await?;
        found.extend(bundles_of(&c, &r, digest, &auth, access).await?);
        Ok(found)
    })?
}

/// A blob of `r`'s repository, read up to `cap` bytes and refused unless it
/// matches its digest.
async fn small_blob(
    c: &Client,
    r: &Reference,
    media: &str,
    digest: &str,
    cap: usize,
) -> Option<Vec<u8>> {
    if !oci_manifest::is_sha256_digest(digest) {
        return None;
    }
    let descriptor = OciDescriptor {
        media_type: media.to_string(),
        digest: digest.to_string(),
        ..OciDescriptor::default()
    };
    let mut out = Capped::new(cap);
    c.pull_blob(r, &descriptor, &mut out).await.ok()?;
    (format!("sha256:{}", crate::runtime::sha256(&out.buf)) == digest).then_some(out.buf)
}

async fn signatures_of(
    c: &Client,
    r: &Reference,
    digest: &str,
    auth: &RegistryAuth,
    access: &Access,
) -> Result<Vec<super::signing::Signature>> {
    let sig_ref = sibling_tag(r, super::signing::signature_tag(digest));
    let Some(bytes) = manifest_if_present(c, &sig_ref, auth, access).await? else {
        return Ok(Vec::new());
    };
    let manifest: serde_json::Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: the signature manifest is not JSON", display(&sig_ref)))?;
    let mut out = Vec::new();
    for layer in manifest["layers"].as_array().into_iter().flatten() {
        let (Some(media), Some(blob), Some(signature)) = (
            layer["mediaType"].as_str(),
            layer["digest"].as_str(),
            layer["annotations"][super::signing::SIGNATURE_ANNOTATION].as_str(),
        ) else {
            continue;
        };
        if media != super::signing::PAYLOAD_MEDIA_TYPE {
            continue;
        }
        if let Some(payload) = small_blob(c, &sig_ref, media, blob, MAX_PAYLOAD_BYTES).await {
            out.push(super::signing::Signature::Simple {
                payload,
                signature: signature.to_string(),
            });
        }
    }
    Ok(out)
}

/// Another tag of `r`'s repository (signatures, referrers).
fn sibling_tag(r: &Reference, tag: String) -> Reference {
    Reference::with_tag(r.registry().to_string(), r.repository().to_string(), tag)
}

/// Another manifest of `r`'s repository, by digest.
fn sibling_digest(r: &Reference, digest: String) -> Reference {
    Reference::with_digest(r.registry().to_string(), r.repository().to_string(), digest)
}

/// The referrers tag of a digest (OCI distribution spec, referrers tag schema).
fn referrers_tag(digest: &str) -> String {
    digest.replace(':', "-")
}

/// The referrers index of `digest`: the registry's referrers API, else the
/// referrers tag (Debian's registry 2.8 has no API and answers 404).
async fn referrers(
    c: &Client,
    r: &Reference,
    digest: &str,
    auth: &RegistryAuth,
    access: &Access,
) -> Result<Option<serde_json::Value>> {
    let api = get_if_present(c, r, &format!("referrers/{digest}"), auth, access).await?;
    let bytes = match api {
        Some(b) => Some(b),
        None => {
            let tag = sibling_tag(r, referrers_tag(digest));
            manifest_if_present(c, &tag, auth, access).await?
        }
    };
    Ok(bytes.and_then(|b| serde_json::from_slice(&b).ok()))
}

/// Sigstore bundles attached to `digest` as referrers.
async fn bundles_of(
    c: &Client,
    r: &Reference,
    digest: &str,
    auth: &RegistryAuth,
    access: &Access,
) -> Result<Vec<super::signing::Signature>> {
    use super::signing::BUNDLE_MEDIA_TYPE;
    let Some(index) = referrers(c, r, digest, auth, access).await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    let listed = index["manifests"].as_array().into_iter().flatten();
    for m in listed
        .filter(|m| m["artifactType"] == BUNDLE_MEDIA_TYPE)
        .take(MAX_REFERRERS)
    {
        let Some(d) = m["digest"]
            .as_str()
            .filter(|d| oci_manifest::is_sha256_digest(d))
        else {
            continue;
        };
        let at = sibling_digest(r, d.to_string());
        let Some(bytes) = manifest_if_present(c, &at, auth, access).await? else {
            continue;
        };
        if format!("sha256:{}", crate::runtime::sha256(&bytes)) != d {
            continue;
        }
        let Ok(manifest) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            continue;
        };
        // The referrer must say it is about this digest.
        if manifest["subject"]["digest"] != digest {
            continue;
        }
        for layer in manifest["layers"].as_array().into_iter().flatten() {
            let (Some(media), Some(blob)) = (layer["mediaType"].as_str(), layer["digest"].as_str())
            else {
                continue;
            };
            if media != BUNDLE_MEDIA_TYPE {
                continue;
            }
            if let Some(json) = small_blob(c, &at, media, blob, MAX_BUNDLE_BYTES).await {
                out.push(super::signing::Signature::Bundle(json));
            }
        }
    }
    Ok(out)
}

/// The reference a signature is for and its digest: signatures name digests, never tags.
fn signed_subject(source: &str) -> Result<(Reference, String)> {
    let r = parse(source)?;
    let digest = r
        .digest()
        .with_context(|| {
            format!("{source}: sign a digest, not a tag (oci://REGISTRY/REPO@sha256:...)")
        })?
        .to_string();
    Ok((r, digest))
}

/// Attaches a Sigstore bundle to `source` (pinned by digest) as cosign v3
/// does: a manifest with the bundle as its layer and the digest as its
/// subject, listed in the digest's referrers tag beside earlier referrers
/// (the registry's referrers API, where it has one, lists it by itself).
pub fn push_bundle(source: &str, bundle: Vec<u8>, access: &Access) -> Result<String> {
    use super::signing::BUNDLE_MEDIA_TYPE;
    let (r, digest) = signed_subject(source)?;
    let c = client(&r, access);
    let auth = auth(&r, access)?;
    block_on(async {
        let subject = manifest_if_present(&c, &r, &auth, access)
            .await?
            .with_context(|| format!("{source}: no such manifest in the registry"))?;
        let subject_type = serde_json::from_slice::<serde_json::Value>(&subject)
            .ok()
            .and_then(|m| m["mediaType"].as_str().map(String::from))
            .unwrap_or_else(|| OCI_IMAGE_MEDIA_TYPE.to_string());
        let empty = b"{}".to_vec();
        let empty_digest = format!("sha256:{}", crate::runtime::sha256(&empty));
        let bundle_digest = format!("sha256:{}", crate::runtime::sha256(&bundle));
        c.push_blob(&r, bundle.clone(), &bundle_digest)
            .await
            .map_err(|e| explain(e, &r, "push to"))?;
        c.push_blob(&r, empty.clone(), &empty_digest)
            .await
            .map_err(|e| explain(e, &r, "push to"))?;
        let annotations = serde_json::json!({
            "dev.sigstore.bundle.content": "dsse-envelope",
            "dev.sigstore.bundle.predicateType": super::signing::SIGN_PREDICATE,
            "org.opencontainers.image.created": created(),
        });
        let manifest = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_IMAGE_MEDIA_TYPE,
            "artifactType": BUNDLE_MEDIA_TYPE,
            "config": { "mediaType": "application/vnd.oci.empty.v1+json", "digest": empty_digest, "size": 2 },
            "layers": [{ "mediaType": BUNDLE_MEDIA_TYPE, "digest": bundle_digest, "size": bundle.len() }],
            "subject": { "mediaType": subject_type, "digest": digest, "size": subject.len() },
            "annotations": annotations,
        }))?;
        let manifest_digest = format!("sha256:{}", crate::runtime::sha256(&manifest));
        let at = sibling_digest(&r, manifest_digest.clone());
        c.push_manifest_raw(&at, manifest.clone(), OCI_IMAGE_MEDIA_TYPE.parse()?)
            .await
            .map_err(|e| explain(e, &at, "push to"))?;
        // The referrers tag: the index of this digest's referrers, this one added.
        let tag = sibling_tag(&r, referrers_tag(&digest));
        let mut listed: Vec<serde_json::Value> =
            match manifest_if_present(&c, &tag, &auth, access).await? {
                Some(b) => serde_json::from_slice::<serde_json::Value>(&b)
                    .ok()
                    .and_then(|i| i["manifests"].as_array().cloned())
                    .unwrap_or_default(),
                None => Vec::new(),
            };
        listed.retain(|m| m["digest"] != manifest_digest.as_str());
        listed.push(serde_json::json!({
            "mediaType": OCI_IMAGE_MEDIA_TYPE,
            "digest": manifest_digest,
            "size": manifest.len(),
            "artifactType": BUNDLE_MEDIA_TYPE,
            // The spec copies the referrer's annotations into the index.
            "annotations": annotations,
        }));
        let index = serde_json::to_vec(&serde_json::json!({
            "schemaVersion": 2,
            "mediaType": OCI_IMAGE_INDEX_MEDIA_TYPE,
            "manifests": listed,
        }))?;
        c.push_manifest_raw(&tag, index, OCI_IMAGE_INDEX_MEDIA_TYPE.parse()?)
            .await
            .map_err(|e| explain(e, &tag, "push to"))?;
        Ok(display(&at))
    })?
}

/// Adds a signature for `source` (pinned by digest) beside the ones already
/// stored, as cosign does; returns the signature tag's reference.
pub fn push_signature(
    source: &str,
    payload: Vec<u8>,
    signature: &str,
    access: &Access,
) -> Result<String> {
    let (r, digest) = signed_subject(source)?;
    let c = client(&r, access);
    let auth = auth(&r, access)?;
    let sig_ref = sibling_tag(&r, super::signing::signature_tag(&digest));
    block_on(async {
        let mut layers: Vec<ImageLayer> = Vec::new();
        for found in signatures_of(&c, &r, &digest, &auth, access).await? {
            if let super::signing::Signature::Simple {
                payload,
                signature: s,
            } = found
            {
                if s != signature {
                    layers.push(signature_layer(payload, &s));
                }
            }
        }
        layers.push(signature_layer(payload, signature));
        let config = Config::new(
            b"{}".to_vec(),
            "application/vnd.oci.image.config.v1+json".to_string(),
            None,
        );
        let mut manifest = OciImageManifest::build(&layers, &config, None);
        manifest.media_type = Some(OCI_IMAGE_MEDIA_TYPE.to_string());
        c.push(&sig_ref, &layers, config, &auth, Some(manifest))
            .await
            .map_err(|e| explain(e, &sig_ref, "push to"))?;
        Ok(display(&sig_ref))
    })?
}

fn signature_layer(payload: Vec<u8>, signature: &str) -> ImageLayer {
    ImageLayer::new(
        payload,
        super::signing::PAYLOAD_MEDIA_TYPE.to_string(),
        Some(BTreeMap::from([(
            super::signing::SIGNATURE_ANNOTATION.to_string(),
            signature.to_string(),
        )])),
    )
}

/// The manifest digest a reference names now (a tag's current target).
pub fn resolve(source: &str, access: &Access) -> Result<String> {
    let r = parse(source)?;
    if let Some(d) = r.digest() {
        return Ok(d.to_string());
    }
    let c = client(&r, access);
    let auth = auth(&r, access)?;
    block_on(async {
        let bytes = manifest_bytes(&c, &r, &auth, access).await?;
        Ok(format!("sha256:{}", crate::runtime::sha256(&bytes)))
    })?
}

/// One line that names the registry and says what to do.
fn explain(e: OciDistributionError, r: &Reference, what: &str) -> anyhow::Error {
    let reg = r.registry();
    let whole = display(r);
    let codes: Vec<&OciErrorCode> = match &e {
        OciDistributionError::RegistryError { envelope, .. } => {
            envelope.errors.iter().map(|x| &x.code).collect()
        }
        _ => Vec::new(),
    };
    let has = |c: OciErrorCode| codes.contains(&&c);
    match &e {
        OciDistributionError::RequestError(re) if re.is_connect() || re.is_timeout() => anyhow!(
            "cannot {what} registry {reg}: {}; check that it is running at that address (a plain-HTTP registry not on localhost needs --insecure)",
            chain(re).rsplit(": ").next().unwrap_or_default()
        ),
        OciDistributionError::RequestError(re) => anyhow!(
            "cannot {what} registry {reg}: {}; a plain-HTTP registry not on localhost needs --insecure",
            chain(re)
        ),
        OciDistributionError::AuthenticationFailure(_)
        | OciDistributionError::UnauthorizedError { .. } => anyhow!(
            "registry {reg} refused access to {}: pass --username and --password-stdin, or `docker login {reg}`",
            r.repository()
        ),
        OciDistributionError::ServerError { code: 401 | 403, .. } => anyhow!(
            "registry {reg} refused access to {}: pass --username and --password-stdin, or `docker login {reg}`",
            r.repository()
        ),
        _ if has(OciErrorCode::Unauthorized) || has(OciErrorCode::Denied) => anyhow!(
            "registry {reg} refused access to {}: pass --username and --password-stdin, or `docker login {reg}`",
            r.repository()
        ),
        OciDistributionError::ImageManifestNotFoundError(_) => {
            anyhow!("{whole} was not found in registry {reg}: check the repository and tag")
        }
        _ if has(OciErrorCode::ManifestUnknown) || has(OciErrorCode::NameUnknown) => {
            anyhow!("{whole} was not found in registry {reg}: check the repository and tag")
        }
        OciDistributionError::ServerError { code: 404, .. } => {
            anyhow!("{whole} was not found in registry {reg}: check the repository and tag")
        }
        OciDistributionError::DigestError(d) => anyhow!(
            "{whole}: registry {reg} served content that does not match its digest ({d}); refusing it"
        ),
        OciDistributionError::IoError(io) if io.kind() == std::io::ErrorKind::FileTooLarge => {
            anyhow!("{whole}: the component is larger than kridik accepts ({MAX_COMPONENT_BYTES} bytes)")
        }
        other => anyhow!("cannot {what} registry {reg} ({whole}): {other}"),
    }
}

/// An error and its causes on one line (reqwest hides the useful part in sources).
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(s) = cur {
        let text = s.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cur = s.source();
    }
    parts.join(": ")
}

/// `SOURCE_DATE_EPOCH` (reproducible builds), else now, as RFC 3339 UTC.
fn created() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0)
        });
    crate::clock::rfc3339(secs)
}

/// A buffer that refuses to grow past a limit: a registry cannot make kridik
/// hold more than [`MAX_COMPONENT_BYTES`] whatever it streams.
struct Capped {
    buf: Vec<u8>,
    limit: usize,
}

impl Capped {
    fn new(limit: usize) -> Self {
        Capped {
            buf: Vec::new(),
            limit,
        }
    }
}

impl tokio::io::AsyncWrite for Capped {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut TaskContext<'_>,
        data: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        if self.buf.len() + data.len() > self.limit {
            return Poll::Ready(Err(std::io::Error::new(
                std::io::ErrorKind::FileTooLarge,
                "component too large",
            )));
        }
        self.buf.extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_need_the_scheme_and_a_registry() {
        let r = parse("oci://127.0.0.1:5000/kridik/pack:1.0").unwrap();
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "kridik/pack");
        assert_eq!(r.tag(), Some("1.0"));
        assert_eq!(
            pinned(&r, "sha256:ab"),
            "oci://127.0.0.1:5000/kridik/pack:1.0@sha256:ab"
        );
        let err = parse("127.0.0.1:5000/kridik/pack:1.0")
            .unwrap_err()
            .to_string();
        assert!(err.contains("write oci://REGISTRY/REPO:TAG"), "{err}");
        let err = parse("oci://pack:1.0").unwrap_err().to_string();
        assert!(err.contains("names no registry"), "{err}");
    }
}

//! Signatures on check packs in cosign's key-pair format, so `cosign verify
//! --key cosign.pub --insecure-ignore-tlog=true` and kridik accept the same
//! artifacts (sigstore/cosign `specs/SIGNATURE_SPEC.md`):
//! - the signed payload is the "simple signing" JSON naming the repository and
//!   the manifest digest;
//! - the signature is ECDSA P-256 over SHA-256 of the payload, ASN.1 DER,
//!   base64, in the layer annotation `dev.cosignproject.cosign/signature`;
//! - the signature manifest is tagged `sha256-<hex>.sig` in the same repository.
//!
//! Keys: public keys are PEM SubjectPublicKeyInfo (cosign.pub works as is);
//! kridik writes and reads private keys as PKCS#8 PEM (cosign's encrypted
//! format is not read: `cosign import-key-pair` converts the other way).

use anyhow::{bail, Context, Result};
use base64::Engine as _;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use serde::{Deserialize, Serialize};

/// A stored signature: the signed payload and its base64 signature.
pub type Signature = (Vec<u8>, String);

pub const PAYLOAD_MEDIA_TYPE: &str = "application/vnd.dev.cosign.simplesigning.v1+json";
pub const SIGNATURE_ANNOTATION: &str = "dev.cosignproject.cosign/signature";
const SIGNATURE_TYPE: &str = "cosign container image signature";

#[derive(Serialize, Deserialize)]
struct Payload {
    critical: Critical,
    optional: Option<serde_json::Value>,
}

#[derive(Serialize, Deserialize)]
struct Critical {
    identity: Identity,
    image: Image,
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Serialize, Deserialize)]
struct Identity {
    #[serde(rename = "docker-reference")]
    docker_reference: String,
}

#[derive(Serialize, Deserialize)]
struct Image {
    #[serde(rename = "docker-manifest-digest")]
    docker_manifest_digest: String,
}

/// The simple-signing payload for `repository` (`registry/repo`) at `digest`.
pub fn payload(repository: &str, digest: &str) -> Vec<u8> {
    serde_json::to_vec(&Payload {
        critical: Critical {
            identity: Identity {
                docker_reference: repository.to_string(),
            },
            image: Image {
                docker_manifest_digest: digest.to_string(),
            },
            kind: SIGNATURE_TYPE.to_string(),
        },
        optional: None,
    })
    .expect("a payload serializes")
}

/// A new key pair: (PKCS#8 private key PEM, public key PEM).
pub fn keygen() -> Result<(String, String)> {
    let key = SigningKey::random(&mut rand_core::OsRng);
    let private = key
        .to_pkcs8_pem(LineEnding::LF)
        .context("cannot encode the private key")?
        .to_string();
    let public = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .context("cannot encode the public key")?;
    Ok((private, public))
}

fn signing_key(pem: &str, what: &str) -> Result<SigningKey> {
    if pem.contains("ENCRYPTED") {
        bail!("{what} is an encrypted key: kridik reads PKCS#8 PEM keys (`kridik plugin keygen`), not cosign's encrypted format");
    }
    SigningKey::from_pkcs8_pem(pem)
        .with_context(|| format!("{what} is not an ECDSA P-256 private key in PKCS#8 PEM"))
}

pub fn verifying_key(pem: &str, what: &str) -> Result<VerifyingKey> {
    VerifyingKey::from_public_key_pem(pem)
        .with_context(|| format!("{what} is not an ECDSA P-256 public key (PEM, like cosign.pub)"))
}

/// The base64 DER signature of a payload.
pub fn sign(key_pem: &str, what: &str, payload: &[u8]) -> Result<String> {
    let key = signing_key(key_pem, what)?;
    let sig: DerSignature = key.sign(payload);
    Ok(base64::engine::general_purpose::STANDARD.encode(sig.as_bytes()))
}

/// Whether `signature` (base64 DER) is `key`'s over `payload`.
pub fn verifies(key: &VerifyingKey, payload: &[u8], signature: &str) -> bool {
    let Ok(der) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else {
        return false;
    };
    let Ok(sig) = p256::ecdsa::Signature::from_der(&der) else {
        return false;
    };
    key.verify(payload, &sig).is_ok()
}

/// The first of `keys` that signed `digest` of `repository` in one of the
/// stored signatures (the payload must name both).
pub fn signed_by<'k>(
    keys: &'k [VerifyingKey],
    found: &[Signature],
    repository: &str,
    digest: &str,
) -> Option<&'k VerifyingKey> {
    found
        .iter()
        .filter(|(payload, _)| payload_names(payload, repository, digest))
        .find_map(|(payload, signature)| keys.iter().find(|k| verifies(k, payload, signature)))
}

/// A short, stable name of a public key (sha256 of its DER), for the lock file.
pub fn key_id(key: &VerifyingKey) -> String {
    let der = key
        .to_public_key_der()
        .map(|d| d.as_bytes().to_vec())
        .unwrap_or_default();
    format!("sha256:{}", &crate::runtime::sha256(&der)[..16])
}

/// Whether a payload names exactly this repository and manifest digest.
pub fn payload_names(payload: &[u8], repository: &str, digest: &str) -> bool {
    serde_json::from_slice::<Payload>(payload).is_ok_and(|p| {
        p.critical.kind == SIGNATURE_TYPE
            && p.critical.image.docker_manifest_digest == digest
            && p.critical.identity.docker_reference == repository
    })
}

/// The tag cosign stores a digest's signatures under.
pub fn signature_tag(digest: &str) -> String {
    format!("{}.sig", digest.replace(':', "-"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_only_with_its_key_and_payload() {
        let (private, public) = keygen().unwrap();
        let (_, other) = keygen().unwrap();
        let digest = format!("sha256:{}", "a".repeat(64));
        let body = payload("127.0.0.1:5000/acme/checks", &digest);
        assert!(payload_names(&body, "127.0.0.1:5000/acme/checks", &digest));
        assert!(!payload_names(&body, "127.0.0.1:5000/acme/other", &digest));
        let sig = sign(&private, "k", &body).unwrap();
        let key = verifying_key(&public, "p").unwrap();
        assert!(verifies(&key, &body, &sig));
        assert!(!verifies(&verifying_key(&other, "o").unwrap(), &body, &sig));
        let other_digest = payload(
            "127.0.0.1:5000/acme/checks",
            &format!("sha256:{}", "b".repeat(64)),
        );
        assert!(!verifies(&key, &other_digest, &sig));
        assert!(!verifies(&key, &body, "not base64!"));
        assert_eq!(
            signature_tag(&digest),
            format!("sha256-{}.sig", "a".repeat(64))
        );
        // The payload is cosign's simple-signing document, field for field.
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["critical"]["type"], "cosign container image signature");
        assert_eq!(
            v["critical"]["image"]["docker-manifest-digest"],
            digest.as_str()
        );
        assert!(v["optional"].is_null());
    }

    /// The formats are the standard ones cosign uses: OpenSSL, an independent
    /// implementation, verifies kridik's signature with kridik's public key,
    /// and kridik verifies OpenSSL's signature made with an OpenSSL key.
    #[test]
    fn openssl_and_kridik_verify_each_others_signatures() {
        let dir = tempfile::tempdir().unwrap();
        let path = |f: &str| dir.path().join(f);
        let openssl = |args: &[&std::ffi::OsStr]| {
            let out = std::process::Command::new("openssl")
                .args(args)
                .output()
                .expect("openssl");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            out
        };
        let body = payload(
            "r.example/acme/checks",
            &format!("sha256:{}", "c".repeat(64)),
        );
        std::fs::write(path("payload"), &body).unwrap();
        // kridik signs, OpenSSL verifies.
        let (private, public) = keygen().unwrap();
        std::fs::write(path("k.pub"), &public).unwrap();
        let sig = sign(&private, "k", &body).unwrap();
        let der = base64::engine::general_purpose::STANDARD
            .decode(&sig)
            .unwrap();
        std::fs::write(path("sig.der"), der).unwrap();
        let out = openssl(&[
            "dgst".as_ref(),
            "-sha256".as_ref(),
            "-verify".as_ref(),
            path("k.pub").as_os_str(),
            "-signature".as_ref(),
            path("sig.der").as_os_str(),
            path("payload").as_os_str(),
        ]);
        assert!(String::from_utf8_lossy(&out.stdout).contains("Verified OK"));
        // OpenSSL signs with its own P-256 key, kridik verifies.
        openssl(&[
            "ecparam".as_ref(),
            "-name".as_ref(),
            "prime256v1".as_ref(),
            "-genkey".as_ref(),
            "-noout".as_ref(),
            "-out".as_ref(),
            path("o.key").as_os_str(),
        ]);
        openssl(&[
            "ec".as_ref(),
            "-in".as_ref(),
            path("o.key").as_os_str(),
            "-pubout".as_ref(),
            "-out".as_ref(),
            path("o.pub").as_os_str(),
        ]);
        openssl(&[
            "dgst".as_ref(),
            "-sha256".as_ref(),
            "-sign".as_ref(),
            path("o.key").as_os_str(),
            "-out".as_ref(),
            path("o.sig").as_os_str(),
            path("payload").as_os_str(),
        ]);
        let key = verifying_key(&std::fs::read_to_string(path("o.pub")).unwrap(), "o.pub").unwrap();
        let theirs =
            base64::engine::general_purpose::STANDARD.encode(std::fs::read(path("o.sig")).unwrap());
        assert!(verifies(&key, &body, &theirs));
    }
}

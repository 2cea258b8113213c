//! Signatures on check packs in cosign's key-pair format, so `cosign verify
//! --key cosign.pub --insecure-ignore-tlog=true` and kridik accept the same
//! artifacts (sigstore/cosign `specs/SIGNATURE_SPEC.md`):
//! - the signed payload is the "simple signing" JSON naming the repository and
//!   the manifest digest;
//! - the signature is ECDSA P-256 over SHA-256 of the payload, ASN.1 DER,
//!   base64, in the layer annotation `dev.cosignproject.cosign/signature`;
//! - the signature manifest is tagged `sha256-<hex>.sig` in the same repository.
//!
//! Keys: public keys are PEM SubjectPublicKeyInfo (cosign.pub works as is).
//! Private keys are PKCS#8 PEM, or cosign's own encrypted form (`cosign
//! generate-key-pair`, `skopeo generate-sigstore-key`): PEM `ENCRYPTED
//! SIGSTORE PRIVATE KEY` (or the older `ENCRYPTED COSIGN PRIVATE KEY`) whose
//! body is go-securesystemslib's `encrypted` envelope, JSON with the scrypt
//! parameters and salt, the NaCl secretbox nonce and the sealed PKCS#8 DER.

use anyhow::{bail, Context, Result};
use base64::Engine as _;
use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{DerSignature, SigningKey, VerifyingKey};
use p256::pkcs8::{
    DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey, LineEnding,
};
use serde::{Deserialize, Serialize};

/// A signature stored with a pack, in either of cosign's layouts.
#[derive(Clone, Debug, PartialEq)]
pub enum Signature {
    /// The simple-signing payload and its base64 signature (the `.sig` tag).
    Simple { payload: Vec<u8>, signature: String },
    /// A Sigstore bundle as JSON (cosign v3: an OCI referrer of the digest).
    Bundle(Vec<u8>),
}

/// The Sigstore bundle cosign v3 writes, and the referrer artifact type it stores it under.
pub const BUNDLE_MEDIA_TYPE: &str = "application/vnd.dev.sigstore.bundle.v0.3+json";
/// What a cosign v3 image signature states (an in-toto statement in a DSSE envelope).
pub const SIGN_PREDICATE: &str = "https://sigstore.dev/cosign/sign/v1";
const IN_TOTO_STATEMENT: &str = "https://in-toto.io/Statement/v1";
const IN_TOTO_PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

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

/// A new key pair: (private key PEM, public key PEM). With a password the
/// private key is in cosign's encrypted form, else PKCS#8 PEM.
pub fn keygen(password: Option<&str>) -> Result<(String, String)> {
    let key = SigningKey::random(&mut rand_core::OsRng);
    let private = match password {
        Some(password) => {
            let der = key
                .to_pkcs8_der()
                .context("cannot encode the private key")?;
            encrypt_key(der.as_bytes(), password)?
        }
        None => key
            .to_pkcs8_pem(LineEnding::LF)
            .context("cannot encode the private key")?
            .to_string(),
    };
    let public = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .context("cannot encode the public key")?;
    Ok((private, public))
}

/// PEM labels of cosign's encrypted private keys (v2 and later, then v1).
const ENCRYPTED_LABELS: [&str; 2] = [
    "ENCRYPTED SIGSTORE PRIVATE KEY",
    "ENCRYPTED COSIGN PRIVATE KEY",
];
/// cosign's scrypt cost (go-securesystemslib `encrypted`: N=2^15, r=8, p=1).
const SCRYPT_LOG_N: u8 = 15;

#[derive(Serialize, Deserialize)]
struct Envelope {
    kdf: Kdf,
    cipher: Cipher,
    #[serde(with = "b64")]
    ciphertext: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct Kdf {
    name: String,
    params: ScryptParams,
    #[serde(with = "b64")]
    salt: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct ScryptParams {
    #[serde(rename = "N")]
    n: u64,
    r: u32,
    p: u32,
}

#[derive(Serialize, Deserialize)]
struct Cipher {
    name: String,
    #[serde(with = "b64")]
    nonce: Vec<u8>,
}

/// Go's JSON encoding of `[]byte`: standard base64.
mod b64 {
    use base64::Engine as _;
    use serde::{Deserialize, Deserializer, Serializer};
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(bytes))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(serde::de::Error::custom)
    }
}

/// The envelope of cosign's encrypted key, if `pem` is one (PEM is decoded
/// by the RFC 7468 codec the PKCS#8 keys already use).
fn encrypted_envelope(pem: &str) -> Option<Vec<u8>> {
    let (label, body) = p256::pkcs8::der::pem::decode_vec(pem.trim().as_bytes()).ok()?;
    ENCRYPTED_LABELS.contains(&label).then_some(body)
}

fn secretbox_key(password: &str, salt: &[u8], log_n: u8, r: u32, p: u32) -> Result<[u8; 32]> {
    let params = scrypt::Params::new(log_n, r, p, 32)
        .map_err(|e| anyhow::anyhow!("invalid scrypt parameters: {e}"))?;
    let mut key = [0u8; 32];
    scrypt::scrypt(password.as_bytes(), salt, &params, &mut key)
        .map_err(|e| anyhow::anyhow!("scrypt failed: {e}"))?;
    Ok(key)
}

/// Seals PKCS#8 DER in cosign's encrypted form.
fn encrypt_key(der: &[u8], password: &str) -> Result<String> {
    use crypto_secretbox::aead::{Aead, KeyInit};
    let mut salt = [0u8; 32];
    let mut nonce = [0u8; 24];
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut salt);
    rand_core::RngCore::fill_bytes(&mut rand_core::OsRng, &mut nonce);
    let key = secretbox_key(password, &salt, SCRYPT_LOG_N, 8, 1)?;
    let sealed = crypto_secretbox::XSalsa20Poly1305::new(&key.into())
        .encrypt(&nonce.into(), der)
        .map_err(|_| anyhow::anyhow!("cannot seal the private key"))?;
    let envelope = Envelope {
        kdf: Kdf {
            name: "scrypt".into(),
            params: ScryptParams {
                n: 1 << SCRYPT_LOG_N,
                r: 8,
                p: 1,
            },
            salt: salt.to_vec(),
        },
        cipher: Cipher {
            name: "nacl/secretbox".into(),
            nonce: nonce.to_vec(),
        },
        ciphertext: sealed,
    };
    let json = serde_json::to_vec(&envelope).expect("an envelope serializes");
    p256::pkcs8::der::pem::encode_string(ENCRYPTED_LABELS[0], LineEnding::LF, &json)
        .map_err(|e| anyhow::anyhow!("cannot encode the encrypted key: {e}"))
}

/// Opens cosign's encrypted form: the PKCS#8 DER inside.
fn decrypt_key(envelope: &[u8], password: &str, what: &str) -> Result<Vec<u8>> {
    use crypto_secretbox::aead::{Aead, KeyInit};
    let e: Envelope = serde_json::from_slice(envelope).with_context(|| {
        format!("{what} is not a cosign encrypted key (its JSON envelope does not parse)")
    })?;
    if e.kdf.name != "scrypt" || e.cipher.name != "nacl/secretbox" {
        bail!(
            "{what} uses {} with {}: kridik reads cosign's scrypt + nacl/secretbox keys",
            e.kdf.name,
            e.cipher.name
        );
    }
    let ScryptParams { n, r, p } = e.kdf.params;
    // The key file is the user's, but its cost still bounds the time spent:
    // cosign writes N=2^15, r=8, p=1; allow up to 2^20 (1 GiB) with small r, p.
    if !n.is_power_of_two() || !(2..=1 << 20).contains(&n) || r > 32 || p > 16 {
        bail!("{what}: scrypt parameters N={n} r={r} p={p} are outside what cosign writes");
    }
    let key = secretbox_key(password, &e.kdf.salt, n.trailing_zeros() as u8, r, p)?;
    let nonce: [u8; 24] = e
        .cipher
        .nonce
        .as_slice()
        .try_into()
        .with_context(|| format!("{what}: the nonce is not 24 bytes"))?;
    crypto_secretbox::XSalsa20Poly1305::new(&key.into())
        .decrypt(&nonce.into(), e.ciphertext.as_slice())
        .map_err(|_| {
            anyhow::anyhow!(
                "wrong password for {what} (set COSIGN_PASSWORD or pass --key-password-stdin)"
            )
        })
}

/// A private key from PKCS#8 PEM or cosign's encrypted form; `password` is
/// asked for only when the key is encrypted.
fn signing_key(pem: &str, what: &str, password: &dyn Fn() -> Result<String>) -> Result<SigningKey> {
    if let Some(envelope) = encrypted_envelope(pem) {
        let der = decrypt_key(&envelope, &password()?, what)?;
        return SigningKey::from_pkcs8_der(&der)
            .with_context(|| format!("{what} holds no ECDSA P-256 private key"));
    }
    if pem.contains("ENCRYPTED") {
        bail!("{what} is encrypted in a form kridik does not read: use cosign's key pair (`cosign generate-key-pair`) or `kridik plugin keygen`");
    }
    SigningKey::from_pkcs8_pem(pem).with_context(|| {
        format!("{what} is not an ECDSA P-256 private key in PKCS#8 PEM or cosign's encrypted form")
    })
}

pub fn verifying_key(pem: &str, what: &str) -> Result<VerifyingKey> {
    VerifyingKey::from_public_key_pem(pem)
        .with_context(|| format!("{what} is not an ECDSA P-256 public key (PEM, like cosign.pub)"))
}

/// The base64 DER signature of a payload; `password` opens an encrypted key.
pub fn sign(
    key_pem: &str,
    what: &str,
    password: &dyn Fn() -> Result<String>,
    payload: &[u8],
) -> Result<String> {
    let key = signing_key(key_pem, what, password)?;
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
/// stored signatures: a simple-signing payload must name both, a bundle's
/// statement the digest (a digest names content, whichever repository holds it).
pub fn signed_by<'k>(
    keys: &'k [VerifyingKey],
    found: &[Signature],
    repository: &str,
    digest: &str,
) -> Option<&'k VerifyingKey> {
    found.iter().find_map(|s| match s {
        Signature::Simple { payload, signature } => {
            if !payload_names(payload, repository, digest) {
                return None;
            }
            keys.iter().find(|k| verifies(k, payload, signature))
        }
        Signature::Bundle(json) => bundle_signed_by(keys, json, digest),
    })
}

/// DSSE's pre-authentication encoding: what a DSSE signature signs
/// (secure-systems-lab/dsse `protocol.md`).
fn pae(payload_type: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {payload_type} {} ",
        payload_type.len(),
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

/// The in-toto statement cosign v3 signs for an image: this digest, the
/// `cosign/sign/v1` predicate, nothing else.
fn statement(repository: &str, digest: &str) -> Vec<u8> {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    serde_json::to_vec(&serde_json::json!({
        "_type": IN_TOTO_STATEMENT,
        "subject": [{ "name": repository, "digest": { "sha256": hex } }],
        "predicateType": SIGN_PREDICATE,
        "predicate": {}
    }))
    .expect("a statement serializes")
}

/// A Sigstore bundle (v0.3, DSSE) signing `digest` as `cosign sign
/// --new-bundle-format --key` writes it; no transparency log entry (none is
/// reachable here, as with `--tlog-upload=false`).
pub fn sign_bundle(
    key_pem: &str,
    what: &str,
    password: &dyn Fn() -> Result<String>,
    repository: &str,
    digest: &str,
) -> Result<Vec<u8>> {
    let key = signing_key(key_pem, what, password)?;
    let body = statement(repository, digest);
    let sig: DerSignature = key.sign(&pae(IN_TOTO_PAYLOAD_TYPE, &body));
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let bundle = serde_json::json!({
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {
            "publicKey": { "hint": key_id(key.verifying_key()) },
            "tlogEntries": []
        },
        "dsseEnvelope": {
            "payload": b64(&body),
            "payloadType": IN_TOTO_PAYLOAD_TYPE,
            "signatures": [{ "sig": b64(sig.as_bytes()), "keyid": "" }]
        }
    });
    Ok(serde_json::to_vec(&bundle)?)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Bundle {
    media_type: String,
    dsse_envelope: Option<Dsse>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Dsse {
    payload: String,
    payload_type: String,
    signatures: Vec<EnvelopeSignature>,
}

#[derive(Deserialize)]
struct EnvelopeSignature {
    sig: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Statement {
    #[serde(rename = "_type")]
    kind: String,
    subject: Vec<Subject>,
    predicate_type: String,
}

#[derive(Deserialize)]
struct Subject {
    digest: std::collections::BTreeMap<String, String>,
}

/// The key of `keys` that signed a bundle stating `digest`: a Sigstore
/// bundle with a DSSE envelope of an in-toto statement whose predicate is
/// cosign's image signature and whose subject is this digest. Anything else
/// (message signatures, attestations of other predicates) signs nothing here.
fn bundle_signed_by<'k>(
    keys: &'k [VerifyingKey],
    json: &[u8],
    digest: &str,
) -> Option<&'k VerifyingKey> {
    let bundle: Bundle = serde_json::from_slice(json).ok()?;
    if !bundle
        .media_type
        .starts_with("application/vnd.dev.sigstore.bundle")
    {
        return None;
    }
    let envelope = bundle.dsse_envelope?;
    if envelope.payload_type != IN_TOTO_PAYLOAD_TYPE {
        return None;
    }
    let body = base64::engine::general_purpose::STANDARD
        .decode(envelope.payload.trim())
        .ok()?;
    let statement: Statement = serde_json::from_slice(&body).ok()?;
    let hex = digest.strip_prefix("sha256:")?;
    let names_digest = statement
        .subject
        .iter()
        .any(|s| s.digest.get("sha256").is_some_and(|d| d == hex));
    if !statement.kind.starts_with("https://in-toto.io/Statement/")
        || statement.predicate_type != SIGN_PREDICATE
        || !names_digest
    {
        return None;
    }
    let signed = pae(&envelope.payload_type, &body);
    envelope
        .signatures
        .iter()
        .find_map(|s| keys.iter().find(|k| verifies(k, &signed, &s.sig)))
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

    fn no_password() -> Result<String> {
        panic!("a PKCS#8 key asks for no password")
    }

    /// cosign's encrypted form: what kridik writes it opens with the password
    /// and only with it, and signs like the plain key.
    #[test]
    fn encrypted_keys_open_with_their_password_only() {
        let (private, public) = keygen(Some("s3cret")).unwrap();
        assert!(private.starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----\n"));
        let envelope: serde_json::Value =
            serde_json::from_slice(&encrypted_envelope(&private).unwrap()).unwrap();
        assert_eq!(envelope["kdf"]["params"]["N"], 32768);
        assert_eq!(envelope["cipher"]["name"], "nacl/secretbox");
        let body = payload(
            "registry.example/pack",
            &format!("sha256:{}", "a".repeat(64)),
        );
        let sig = sign(&private, "k", &|| Ok("s3cret".into()), &body).unwrap();
        assert!(verifies(&verifying_key(&public, "p").unwrap(), &body, &sig));
        let wrong = sign(&private, "k", &|| Ok("guess".into()), &body).unwrap_err();
        assert!(wrong.to_string().contains("wrong password"), "{wrong}");
        // The older cosign label reads the same.
        let v1 = private.replace("SIGSTORE", "COSIGN");
        assert!(sign(&v1, "k", &|| Ok("s3cret".into()), &body).is_ok());
    }

    #[test]
    fn a_signature_verifies_only_with_its_key_and_payload() {
        let (private, public) = keygen(None).unwrap();
        let (_, other) = keygen(None).unwrap();
        let digest = format!("sha256:{}", "a".repeat(64));
        let body = payload("127.0.0.1:5000/acme/checks", &digest);
        assert!(payload_names(&body, "127.0.0.1:5000/acme/checks", &digest));
        assert!(!payload_names(&body, "127.0.0.1:5000/acme/other", &digest));
        let sig = sign(&private, "k", &no_password, &body).unwrap();
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
    /// go-securesystemslib's `encrypted` format, written independently in
    /// Python (hashlib's scrypt, PyNaCl's secretbox): it opens kridik's
    /// encrypted keys, and kridik opens and signs with the keys it seals.
    #[test]
    fn python_and_kridik_read_each_others_encrypted_keys() {
        const SCRIPT: &str = r#"
import base64, hashlib, json, sys
import nacl.secret, nacl.utils
mode, password = sys.argv[1], sys.argv[2].encode()
def derive(salt, n, r, p):
    return hashlib.scrypt(password, salt=salt, n=n, r=r, p=p, dklen=32, maxmem=128 << 20)
if mode == "open":
    pem = sys.stdin.read()
    body = "".join(l for l in pem.splitlines() if not l.startswith("-----"))
    env = json.loads(base64.b64decode(body))
    assert (env["kdf"]["name"], env["cipher"]["name"]) == ("scrypt", "nacl/secretbox")
    k = env["kdf"]["params"]
    key = derive(base64.b64decode(env["kdf"]["salt"]), k["N"], k["r"], k["p"])
    der = nacl.secret.SecretBox(key).decrypt(base64.b64decode(env["ciphertext"]), base64.b64decode(env["cipher"]["nonce"]))
    sys.stdout.write(base64.b64encode(der).decode())
else:
    der = base64.b64decode(sys.stdin.read())
    salt, nonce = nacl.utils.random(32), nacl.utils.random(24)
    sealed = nacl.secret.SecretBox(derive(salt, 32768, 8, 1)).encrypt(der, nonce).ciphertext
    b64 = lambda b: base64.b64encode(b).decode()
    env = {"kdf": {"name": "scrypt", "params": {"N": 32768, "r": 8, "p": 1}, "salt": b64(salt)},
           "cipher": {"name": "nacl/secretbox", "nonce": b64(nonce)}, "ciphertext": b64(sealed)}
    body = b64(json.dumps(env).encode())
    lines = [body[i:i + 64] for i in range(0, len(body), 64)]
    print("\n".join(["-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----", *lines, "-----END ENCRYPTED SIGSTORE PRIVATE KEY-----"]))
"#;
        let python = |mode: &str, input: &str| -> String {
            use std::io::Write;
            let mut child = std::process::Command::new("python3")
                .args(["-c", SCRIPT, mode, "pass phrase"])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("python3");
            child
                .stdin
                .take()
                .unwrap()
                .write_all(input.as_bytes())
                .unwrap();
            let out = child.wait_with_output().unwrap();
            assert!(
                out.status.success(),
                "python (PyNaCl: make test-tools): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8(out.stdout).unwrap()
        };
        let b64 = base64::engine::general_purpose::STANDARD;
        // kridik seals, Python opens: the same PKCS#8 key inside.
        let (sealed, public) = keygen(Some("pass phrase")).unwrap();
        let der = b64.decode(python("open", &sealed)).unwrap();
        let opened = SigningKey::from_pkcs8_der(&der).unwrap();
        assert_eq!(
            opened.verifying_key(),
            &verifying_key(&public, "p").unwrap()
        );
        // Python seals, kridik opens and signs.
        let (plain, public) = keygen(None).unwrap();
        let der = SigningKey::from_pkcs8_pem(&plain)
            .unwrap()
            .to_pkcs8_der()
            .unwrap();
        let theirs = python("seal", &b64.encode(der.as_bytes()));
        let body = payload(
            "r.example/acme/checks",
            &format!("sha256:{}", "e".repeat(64)),
        );
        let sig = sign(&theirs, "k", &|| Ok("pass phrase".into()), &body).unwrap();
        assert!(verifies(&verifying_key(&public, "p").unwrap(), &body, &sig));
    }

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
        let (private, public) = keygen(None).unwrap();
        std::fs::write(path("k.pub"), &public).unwrap();
        let sig = sign(&private, "k", &no_password, &body).unwrap();
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

    /// cosign v3's bundle, built and checked independently: Python writes the
    /// in-toto statement and DSSE's pre-authentication encoding, OpenSSL signs
    /// and verifies. kridik verifies the bundle they make, they verify
    /// kridik's, and bundles for another digest or predicate sign nothing.
    #[test]
    fn cosign_v3_bundles_cross_verify_with_python_and_openssl() {
        const SCRIPT: &str = r#"
import base64, json, subprocess, sys
mode, d = sys.argv[1], sys.argv[2]
def pae(t, b):
    return b"DSSEv1 %d %s %d %s" % (len(t), t.encode(), len(b), b)
if mode == "check":
    bundle = json.load(open(d + "/bundle.json"))
    env = bundle["dsseEnvelope"]
    body = base64.b64decode(env["payload"])
    st = json.loads(body)
    assert bundle["mediaType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"
    assert st["predicateType"] == "https://sigstore.dev/cosign/sign/v1", st
    assert st["subject"][0]["digest"]["sha256"] == sys.argv[3], st
    open(d + "/pae", "wb").write(pae(env["payloadType"], body))
    open(d + "/sig.der", "wb").write(base64.b64decode(env["signatures"][0]["sig"]))
else:
    st = {"_type": "https://in-toto.io/Statement/v1", "subject": [{"digest": {"sha256": sys.argv[3]}}],
          "predicateType": sys.argv[4], "predicate": {}}
    body = json.dumps(st).encode()
    open(d + "/pae", "wb").write(pae("application/vnd.in-toto+json", body))
    subprocess.run(["openssl", "dgst", "-sha256", "-sign", d + "/o.key", "-out", d + "/o.sig", d + "/pae"], check=True)
    sig = base64.b64encode(open(d + "/o.sig", "rb").read()).decode()
    json.dump({"mediaType": "application/vnd.dev.sigstore.bundle.v0.3+json",
               "verificationMaterial": {"publicKey": {"hint": "o"}},
               "dsseEnvelope": {"payload": base64.b64encode(body).decode(),
                                "payloadType": "application/vnd.in-toto+json",
                                "signatures": [{"sig": sig, "keyid": ""}]}}, open(d + "/theirs.json", "w"))
"#;
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let run = |program: &str, args: &[&str]| {
            let out = std::process::Command::new(program)
                .args(args)
                .output()
                .expect(program);
            assert!(
                out.status.success(),
                "{program} {args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        };
        let dir_s = d.to_str().unwrap();
        let hex = "d".repeat(64);
        let digest = format!("sha256:{hex}");
        // kridik signs; Python and OpenSSL check it.
        let (private, public) = keygen(None).unwrap();
        std::fs::write(d.join("k.pub"), &public).unwrap();
        let bundle = sign_bundle(
            &private,
            "k",
            &no_password,
            "r.example/acme/checks",
            &digest,
        )
        .unwrap();
        std::fs::write(d.join("bundle.json"), &bundle).unwrap();
        run("python3", &["-c", SCRIPT, "check", dir_s, &hex]);
        let out = run(
            "openssl",
            &[
                "dgst",
                "-sha256",
                "-verify",
                &format!("{dir_s}/k.pub"),
                "-signature",
                &format!("{dir_s}/sig.der"),
                &format!("{dir_s}/pae"),
            ],
        );
        assert!(out.contains("Verified OK"));
        let key = verifying_key(&public, "p").unwrap();
        let keys = [key];
        let found = [Signature::Bundle(bundle.clone())];
        assert!(signed_by(&keys, &found, "any/repo", &digest).is_some());
        assert!(signed_by(
            &keys,
            &found,
            "any/repo",
            &format!("sha256:{}", "e".repeat(64))
        )
        .is_none());
        let (_, other) = keygen(None).unwrap();
        assert!(signed_by(&[verifying_key(&other, "o").unwrap()], &found, "r", &digest).is_none());
        // A tampered statement no longer verifies.
        let mut v: serde_json::Value = serde_json::from_slice(&bundle).unwrap();
        let b64 = base64::engine::general_purpose::STANDARD;
        let forged = String::from_utf8(
            b64.decode(v["dsseEnvelope"]["payload"].as_str().unwrap())
                .unwrap(),
        )
        .unwrap()
        .replace(&hex, &"f".repeat(64));
        v["dsseEnvelope"]["payload"] = b64.encode(forged).into();
        let forged = [Signature::Bundle(serde_json::to_vec(&v).unwrap())];
        assert!(signed_by(&keys, &forged, "r", &format!("sha256:{}", "f".repeat(64))).is_none());
        // OpenSSL signs a bundle Python assembled; kridik verifies it, and only
        // for cosign's image-signature predicate.
        run(
            "openssl",
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                &format!("{dir_s}/o.key"),
            ],
        );
        run(
            "openssl",
            &[
                "ec",
                "-in",
                &format!("{dir_s}/o.key"),
                "-pubout",
                "-out",
                &format!("{dir_s}/o.pub"),
            ],
        );
        let theirs_key =
            [verifying_key(&std::fs::read_to_string(d.join("o.pub")).unwrap(), "o.pub").unwrap()];
        for (predicate, accepted) in [
            (SIGN_PREDICATE, true),
            ("https://slsa.dev/provenance/v1", false),
        ] {
            run("python3", &["-c", SCRIPT, "make", dir_s, &hex, predicate]);
            let theirs = [Signature::Bundle(
                std::fs::read(d.join("theirs.json")).unwrap(),
            )];
            assert_eq!(
                signed_by(&theirs_key, &theirs, "r", &digest).is_some(),
                accepted,
                "{predicate}"
            );
        }
    }
}

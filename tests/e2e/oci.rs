//! Check packs through a real OCI registry (Debian's docker-registry on
//! 127.0.0.1): push, pull by tag and digest, the lock file, tampering,
//! wrong artifacts, missing tags, a registry that is down, and basic auth.

use crate::plugins::{s, variant, Home, EXAMPLE};
use crate::registry::{Registry, PASSWORD, USER};
use crate::support::*;

fn example_wasm() -> String {
    s(&component(EXAMPLE))
}

/// The manifest digest at the end of `pushed oci://...@sha256:...`.
fn pushed_digest(run: &Run) -> String {
    assert_eq!(run.code, 0, "{}", run.stderr);
    let at = run.stdout.find("@sha256:").expect("a pinned reference");
    run.stdout[at + 1..at + 72].to_string()
}

#[test]
fn packs_round_trip_by_tag_and_digest_and_the_lock_pins_them() {
    let reg = Registry::start(false);
    let home = Home::new();
    let tag = reg.reference("acme/gw-tls:1.0");
    let push = home.kridik(&[
        "plugin",
        "push",
        &example_wasm(),
        &tag,
        "--source",
        "https://example.com/acme/checks",
        "--licenses",
        "Apache-2.0",
    ]);
    let v1 = pushed_digest(&push);
    assert!(push.stdout.contains("EXAMPLE-GW-001"), "{}", push.stdout);

    // The artifact is in the CNCF Wasm layout, with the standard annotations.
    let manifest: serde_json::Value = {
        let url = format!("http://{}/v2/acme/gw-tls/manifests/1.0", reg.host);
        let out = std::process::Command::new("curl")
            .args([
                "-sf",
                "-H",
                "Accept: application/vnd.oci.image.manifest.v1+json",
                &url,
            ])
            .output()
            .expect("curl");
        serde_json::from_slice(&out.stdout).expect("the manifest is JSON")
    };
    assert_eq!(
        manifest["config"]["mediaType"],
        "application/vnd.wasm.config.v0+json"
    );
    assert_eq!(manifest["layers"][0]["mediaType"], "application/wasm");
    assert_eq!(manifest["layers"].as_array().unwrap().len(), 1);
    let ann = &manifest["annotations"];
    assert_eq!(ann["org.opencontainers.image.version"], "1.0");
    assert_eq!(ann["org.opencontainers.image.licenses"], "Apache-2.0");
    assert_eq!(
        ann["org.opencontainers.image.source"],
        "https://example.com/acme/checks"
    );
    assert_eq!(
        ann["org.opencontainers.image.description"],
        "kridik checks: EXAMPLE-GW-001"
    );

    // Add by tag: installed under the repository's name, digest printed and pinned.
    let lock = home.dir.path().join("project.lock");
    let lock_arg = s(&lock);
    let add = home.kridik(&["plugin", "add", &tag, "--lock", &lock_arg]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert!(
        add.stdout.contains(&format!("is {v1}; pinned in")),
        "{}",
        add.stdout
    );
    let listed = home.list();
    assert_eq!(listed[0]["name"], "gw-tls");
    assert_eq!(listed[0]["source"], format!("{tag}@{v1}"));
    let scan = home.scan_insecure(&["--no-builtin"]);
    assert_eq!(check(&scan.json(), "EXAMPLE-GW-001")["status"], "fail");

    // Add by digest in another home.
    let other = Home::new();
    let by_digest = format!("oci://{}/acme/gw-tls@{v1}", reg.host);
    let add = other.kridik(&["plugin", "add", &by_digest]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert_eq!(other.list()[0]["digest"], listed[0]["digest"]);

    // The tag moves; a CI run with the lock still gets v1 until `update`.
    let dir = tempfile::tempdir().unwrap();
    let v2 = pushed_digest(&home.kridik(&["plugin", "push", &s(&variant(dir.path(), "v2")), &tag]));
    assert_ne!(v1, v2);
    let ci = Home::new();
    let add = ci.kridik(&["plugin", "add", &tag, "--lock", &lock_arg]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert!(add.stdout.contains(&format!("to {v1}")), "{}", add.stdout);
    assert_eq!(ci.list()[0]["source"], format!("{tag}@{v1}"));
    let update = ci.kridik(&["plugin", "update", "--lock", &lock_arg]);
    assert_eq!(update.code, 0, "{}", update.stderr);
    assert!(
        update.stdout.contains(&format!("moved from {v1} to {v2}")),
        "{}",
        update.stdout
    );
    assert_eq!(ci.list()[0]["source"], format!("{tag}@{v2}"));
    let pinned: serde_json::Value = serde_json::from_slice(&std::fs::read(&lock).unwrap()).unwrap();
    assert_eq!(pinned["packs"][0]["digest"], v2.as_str());
    let again = ci.kridik(&["plugin", "update", "--lock", &lock_arg]);
    assert!(
        again.stdout.contains(&format!("is still {v2}")),
        "{}",
        again.stdout
    );
}

#[test]
fn tampered_wrong_missing_and_unreachable_packs_are_clear_errors() {
    let reg = Registry::start(false);
    let home = Home::new();
    let tag = reg.reference("acme/gw-tls:1.0");
    pushed_digest(&home.kridik(&["plugin", "push", &example_wasm(), &tag]));

    let fails = |args: &[&str], message: &str| {
        let run = home.kridik(args);
        assert_eq!(run.code, 2, "{args:?}: {}", run.stdout);
        assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
        assert!(run.stderr.contains(message), "{args:?}: {}", run.stderr);
    };
    fails(
        &["plugin", "add", &reg.reference("acme/gw-tls:9.9")],
        &format!(
            "{} was not found in registry {}",
            reg.reference("acme/gw-tls:9.9"),
            reg.host
        ),
    );
    fails(
        &["plugin", "add", &reg.reference("acme/absent:1.0")],
        "was not found in registry",
    );
    fails(
        &["plugin", "add", "registry.example/acme:1.0"],
        "to add from a registry, write oci://registry.example/acme:1.0",
    );
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down = format!("oci://{}/acme/gw-tls:1.0", closed.local_addr().unwrap());
    drop(closed);
    fails(
        &["plugin", "add", &down],
        "check that it is running at that address",
    );

    // An OCI image that is not a Wasm component.
    let image = reg.reference("acme/not-wasm:1.0");
    push_foreign_image(&image);
    fails(
        &["plugin", "add", &image],
        "is not a Wasm component artifact",
    );

    // A blob changed in the registry's storage is refused.
    let layer = kridik::runtime::sha256(&std::fs::read(component(EXAMPLE)).unwrap());
    let blob = reg.blob_file(&format!("sha256:{layer}"));
    let mut bytes = std::fs::read(&blob).unwrap();
    bytes[100] ^= 0xff;
    std::fs::write(&blob, bytes).unwrap();
    fails(&["plugin", "add", &tag], "does not match its digest");
    assert!(
        home.files().is_empty(),
        "nothing is installed after a failure"
    );
}

/// Pushes an ordinary container-image-shaped artifact with oci-client.
fn push_foreign_image(reference: &str) {
    use oci_client::client::{ClientConfig, ClientProtocol, Config, ImageLayer};
    let r: oci_client::Reference = reference.trim_start_matches("oci://").parse().unwrap();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let client = oci_client::Client::new(ClientConfig {
        protocol: ClientProtocol::Http,
        ..Default::default()
    });
    let layers = [ImageLayer::oci_v1(b"not a component".to_vec(), None)];
    let config = Config::oci_v1(b"{}".to_vec(), None);
    tokio::runtime::Runtime::new()
        .unwrap()
        .block_on(client.push(
            &r,
            &layers,
            config,
            &oci_client::secrets::RegistryAuth::Anonymous,
            None,
        ))
        .unwrap();
}

#[test]
fn basic_auth_from_flags_or_the_docker_config() {
    let reg = Registry::start(true);
    let home = Home::new();
    let tag = reg.reference("private/gw-tls:1.0");
    let wasm = example_wasm();

    let anonymous = home.kridik(&["plugin", "push", &wasm, &tag]);
    assert_eq!(anonymous.code, 2);
    assert!(
        anonymous.stderr.contains(&format!(
            "registry {} refused access to private/gw-tls",
            reg.host
        )),
        "{}",
        anonymous.stderr
    );
    let push_as = |password: &str| {
        let args = [
            "plugin",
            "push",
            &wasm,
            &tag,
            "--username",
            USER,
            "--password-stdin",
        ];
        run_with_stdin(&mut home.command(&args), &format!("{password}\n"))
    };
    let wrong = push_as("not-the-password");
    assert_eq!(wrong.code, 2);
    assert!(wrong.stderr.contains("refused access"), "{}", wrong.stderr);
    let push = push_as(PASSWORD);
    pushed_digest(&push);

    // Pull with the credentials `docker login` would have stored.
    let docker = tempfile::tempdir().unwrap();
    use base64::Engine as _;
    let auth = base64::engine::general_purpose::STANDARD.encode(format!("{USER}:{PASSWORD}"));
    std::fs::write(
        docker.path().join("config.json"),
        serde_json::json!({ "auths": { reg.host.clone(): { "auth": auth } } }).to_string(),
    )
    .unwrap();
    let add = run(home
        .command(&["plugin", "add", &tag])
        .env("DOCKER_CONFIG", docker.path()));
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert_eq!(home.list()[0]["name"], "gw-tls");

    // Or from a credential helper (credsStore / credHelpers), as Docker
    // Desktop, ECR and GCR logins store them (issue 15).
    let helpers = tempfile::tempdir().unwrap();
    let script = helpers.path().join("docker-credential-fake");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 2\nread server\n[ \"$server\" = \"{}\" ] || {{ echo 'credentials not found in native keychain'; exit 1; }}\necho '{{\"ServerURL\":\"'$server'\",\"Username\":\"{USER}\",\"Secret\":\"{PASSWORD}\"}}'\n",
            reg.host
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        helpers.path().display(),
        std::env::var("PATH").unwrap()
    );
    for config in [
        serde_json::json!({ "credsStore": "fake" }),
        serde_json::json!({ "credHelpers": { reg.host.clone(): "fake" }, "auths": { reg.host.clone(): {} } }),
    ] {
        let other = Home::new();
        std::fs::write(docker.path().join("config.json"), config.to_string()).unwrap();
        let add = run(other
            .command(&["plugin", "add", &tag])
            .env("DOCKER_CONFIG", docker.path())
            .env("PATH", &path));
        assert_eq!(add.code, 0, "{config}: {}", add.stderr);
        assert_eq!(other.list()[0]["name"], "gw-tls");
    }
    // A helper that is not installed is one line naming it.
    std::fs::write(
        docker.path().join("config.json"),
        serde_json::json!({ "credsStore": "missing" }).to_string(),
    )
    .unwrap();
    let add = run(Home::new()
        .command(&["plugin", "add", &tag])
        .env("DOCKER_CONFIG", docker.path()));
    assert_eq!(add.code, 2);
    assert_eq!(add.stderr.lines().count(), 1, "{}", add.stderr);
    assert!(
        add.stderr
            .contains("docker-credential-missing cannot be run"),
        "{}",
        add.stderr
    );
}

/// A registry that answers every request, and streams a manifest without end
/// (chunked, no length): kridik stops at its manifest cap, in one line, and
/// installs nothing (issue 13, defect 7).
#[test]
fn an_endless_manifest_is_cut_off_at_the_cap() {
    use std::io::{BufRead, BufReader, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request = String::new();
                reader.read_line(&mut request).unwrap_or_default();
                // Drain the headers.
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 2) {
                    line.clear();
                }
                let mut out = stream;
                if request.contains("/manifests/") {
                    let head = "HTTP/1.1 200 OK\r\nContent-Type: application/vnd.oci.image.manifest.v1+json\r\nTransfer-Encoding: chunked\r\n\r\n";
                    if out.write_all(head.as_bytes()).is_err() {
                        return;
                    }
                    let chunk = format!("{:x}\r\n{}\r\n", 64 * 1024, " ".repeat(64 * 1024));
                    // 1 GiB at most, should the client never stop.
                    for _ in 0..16 * 1024 {
                        if out.write_all(chunk.as_bytes()).is_err() {
                            return;
                        }
                    }
                } else {
                    let _ = out.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n{}");
                }
            });
        }
    });
    let home = Home::new();
    let run = home.kridik(&["plugin", "add", &format!("oci://{addr}/acme/endless:1.0")]);
    assert_eq!(run.code, 2, "{}", run.stdout);
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(
        run.stderr.contains("manifest of more than 4194304 bytes"),
        "{}",
        run.stderr
    );
    assert!(home.files().is_empty(), "nothing is installed");
}

/// Issue 18: signed packs. Sign and verify round trip; another key, a
/// signature for another digest, an unsigned pack and a tag moved to an
/// unsigned digest are refused by `add` and `update` under a trust policy;
/// `--insecure-skip-signature` installs and says so.
#[test]
fn packs_must_be_signed_by_a_trusted_key_under_a_trust_policy() {
    let reg = Registry::start(false);
    let home = Home::new();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    let in_project = |args: &[&str]| run(home.command(args).current_dir(dir));
    let tag = reg.reference("acme/gw-tls:1.0");
    let d1 = pushed_digest(&home.kridik(&["plugin", "push", &example_wasm(), &tag]));
    let by_digest = reg.reference(&format!("acme/gw-tls@{d1}"));
    for prefix in ["trusted", "other"] {
        let k = in_project(&["plugin", "keygen", "--out", prefix]);
        assert_eq!(k.code, 0, "{}", k.stderr);
    }
    // Nothing signed yet.
    let unsigned = in_project(&["plugin", "verify", &tag, "--key", "trusted.pub"]);
    assert_eq!(unsigned.code, 2);
    assert!(
        unsigned
            .stderr
            .contains("no signature by trusted.pub (0 signature(s) found)"),
        "{}",
        unsigned.stderr
    );
    // Sign by digest; verify with the right key only.
    let signed = in_project(&["plugin", "sign", &by_digest, "--key", "trusted.key"]);
    assert_eq!(signed.code, 0, "{}", signed.stderr);
    assert!(
        signed
            .stdout
            .contains(&format!("{}.sig", d1.replace(':', "-"))),
        "{}",
        signed.stdout
    );
    assert_eq!(
        in_project(&["plugin", "verify", &tag, "--key", "trusted.pub"]).code,
        0
    );
    let wrong_key = in_project(&["plugin", "verify", &tag, "--key", "other.pub"]);
    assert_eq!(wrong_key.code, 2, "{}", wrong_key.stdout);

    // cosign's encrypted keys: written under a password (COSIGN_PASSWORD, as
    // cosign reads it); signing asks for it and says so when it is missing.
    let enc = run(home
        .command(&["plugin", "keygen", "--out", "enc"])
        .current_dir(dir)
        .env("COSIGN_PASSWORD", "pass phrase"));
    assert_eq!(enc.code, 0, "{}", enc.stderr);
    assert!(std::fs::read_to_string(dir.join("enc.key"))
        .unwrap()
        .starts_with("-----BEGIN ENCRYPTED SIGSTORE PRIVATE KEY-----"));
    let no_password = run(home
        .command(&["plugin", "sign", &by_digest, "--key", "enc.key"])
        .current_dir(dir)
        .env_remove("COSIGN_PASSWORD"));
    assert_eq!(no_password.code, 2, "{}", no_password.stdout);
    assert!(
        no_password
            .stderr
            .contains("enc.key is encrypted: set COSIGN_PASSWORD or pass --key-password-stdin"),
        "{}",
        no_password.stderr
    );
    let wrong = run_with_stdin(
        home.command(&[
            "plugin",
            "sign",
            &by_digest,
            "--key",
            "enc.key",
            "--key-password-stdin",
        ])
        .current_dir(dir),
        "guess\n",
    );
    assert_eq!(wrong.code, 2);
    assert!(
        wrong.stderr.contains("wrong password for enc.key"),
        "{}",
        wrong.stderr
    );
    let by_stdin = run_with_stdin(
        home.command(&[
            "plugin",
            "sign",
            &by_digest,
            "--key",
            "enc.key",
            "--key-password-stdin",
        ])
        .current_dir(dir),
        "pass phrase\n",
    );
    assert_eq!(by_stdin.code, 0, "{}", by_stdin.stderr);
    assert_eq!(
        in_project(&["plugin", "verify", &tag, "--key", "enc.pub"]).code,
        0
    );

    // A trust policy for the repository prefix.
    std::fs::write(
        dir.join(".kridik.yaml"),
        format!(
            "trust:\n  - repository: {}/acme/\n    keys: [trusted.pub]\n",
            reg.host
        ),
    )
    .unwrap();
    let lock = dir.join("kridik.lock");
    let lock_arg = lock.display().to_string();
    let add = in_project(&["plugin", "add", &tag, "--lock", &lock_arg]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert!(
        add.stdout.contains("signature of sha256:"),
        "{}",
        add.stdout
    );
    let pinned: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    assert!(pinned["packs"][0]["verified_by"]
        .as_str()
        .unwrap()
        .starts_with("sha256:"));

    // An unsigned pack under the policy is refused, and nothing is installed.
    let v2 = pushed_digest(&home.kridik(&[
        "plugin",
        "push",
        &s(&variant(dir, "v2")),
        &reg.reference("acme/gw-tls:2.0"),
    ]));
    let other_home = Home::new();
    let refused = run(other_home
        .command(&["plugin", "add", &reg.reference("acme/gw-tls:2.0")])
        .current_dir(dir));
    assert_eq!(refused.code, 2);
    assert_eq!(refused.stderr.lines().count(), 1, "{}", refused.stderr);
    assert!(
        refused.stderr.contains("is not signed by a key"),
        "{}",
        refused.stderr
    );
    assert!(other_home.files().is_empty());
    // A signature for another digest does not count: v1's signatures (the
    // trusted key's and the encrypted key's) copied to v2's tag.
    reg.copy_tag(
        "acme/gw-tls",
        &format!("{}.sig", d1.replace(':', "-")),
        &format!("{}.sig", v2.replace(':', "-")),
    );
    let copied = run(other_home
        .command(&["plugin", "add", &reg.reference("acme/gw-tls:2.0")])
        .current_dir(dir));
    assert_eq!(copied.code, 2, "{}", copied.stdout);
    assert!(
        copied
            .stderr
            .contains("(2 signature(s) found, none by those keys for this digest)"),
        "{}",
        copied.stderr
    );
    // The pinned tag moved to the unsigned digest: update refuses and keeps the pin.
    pushed_digest(&home.kridik(&["plugin", "push", &s(&variant(dir, "v2")), &tag]));
    let update = in_project(&["plugin", "update", "--lock", &lock_arg]);
    assert_eq!(update.code, 2, "{}", update.stdout);
    assert!(
        update.stderr.contains("is not signed by a key"),
        "{}",
        update.stderr
    );
    let still: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&lock).unwrap()).unwrap();
    assert_eq!(still["packs"][0]["digest"], d1.as_str());
    // save/load carry the registry's manifest and its signatures: the other
    // side verifies them offline under its own policy.
    let layout = dir.join("layout");
    let save = in_project(&["plugin", "save", "-o", &s(&layout)]);
    assert_eq!(save.code, 0, "{}", save.stderr);
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(layout.join("index.json")).unwrap()).unwrap();
    assert!(
        index["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["digest"] == d1.as_str()),
        "{index}"
    );
    let air_gapped = Home::new();
    let load = run(air_gapped
        .command(&["plugin", "load", &s(&layout)])
        .current_dir(dir));
    assert_eq!(load.code, 0, "{}", load.stderr);
    assert!(
        load.stdout.contains(&format!(
            "signature of {}/acme/gw-tls@{d1} verified",
            reg.host
        )),
        "{}",
        load.stdout
    );
    // A layout whose signatures were stripped is refused there.
    let mut stripped = index.clone();
    stripped["manifests"]
        .as_array_mut()
        .unwrap()
        .retain(|m| m["annotations"]["dev.kridik.signature-of"].is_null());
    std::fs::write(layout.join("index.json"), stripped.to_string()).unwrap();
    let refused = run(Home::new()
        .command(&["plugin", "load", &s(&layout)])
        .current_dir(dir));
    assert_eq!(refused.code, 2, "{}", refused.stdout);
    assert!(
        refused.stderr.contains("is not signed by a key"),
        "{}",
        refused.stderr
    );

    // Skipping the check installs, loudly.
    let skipped = run(other_home
        .command(&[
            "plugin",
            "add",
            &reg.reference("acme/gw-tls:2.0"),
            "--insecure-skip-signature",
        ])
        .current_dir(dir));
    assert_eq!(skipped.code, 0, "{}", skipped.stderr);
    assert!(
        skipped.stderr.contains("WITHOUT checking the signature"),
        "{}",
        skipped.stderr
    );
}

/// cosign v3's layout: a Sigstore bundle attached to the digest as an OCI
/// referrer, listed in the `sha256-<hex>` referrers tag (Debian's registry 2.8
/// has no referrers API), verified like the `.sig` form and carried by save/load.
#[test]
fn cosign_v3_bundles_attached_as_referrers_sign_and_verify() {
    let reg = Registry::start(false);
    let home = Home::new();
    let project = tempfile::tempdir().unwrap();
    let dir = project.path();
    let in_project = |args: &[&str]| run(home.command(args).current_dir(dir));
    let tag = reg.reference("acme/bundled:1.0");
    let d1 = pushed_digest(&home.kridik(&["plugin", "push", &example_wasm(), &tag]));
    let hex1 = d1.strip_prefix("sha256:").unwrap().to_string();
    for prefix in ["trusted", "other"] {
        assert_eq!(in_project(&["plugin", "keygen", "--out", prefix]).code, 0);
    }
    let signed = in_project(&["plugin", "sign", &tag, "--key", "trusted.key", "--bundle"]);
    assert_eq!(signed.code, 0, "{}", signed.stderr);
    assert!(
        signed.stdout.contains("Sigstore bundle in"),
        "{}",
        signed.stdout
    );
    // The registry holds what cosign v3 writes: the referrers index under the
    // digest's tag, a referrer manifest with the digest as subject, the bundle.
    let index = reg
        .manifest("acme/bundled", &format!("sha256-{hex1}"))
        .expect("the referrers tag");
    assert_eq!(
        index["mediaType"],
        "application/vnd.oci.image.index.v1+json"
    );
    let listed = index["manifests"].as_array().unwrap();
    assert_eq!(listed.len(), 1, "{index}");
    assert_eq!(
        listed[0]["artifactType"],
        "application/vnd.dev.sigstore.bundle.v0.3+json"
    );
    let referrer = reg.blob(listed[0]["digest"].as_str().unwrap()).unwrap();
    assert_eq!(referrer["subject"]["digest"], d1.as_str());
    assert_eq!(
        referrer["config"]["mediaType"],
        "application/vnd.oci.empty.v1+json"
    );
    let bundle = reg
        .blob(referrer["layers"][0]["digest"].as_str().unwrap())
        .unwrap();
    assert_eq!(
        bundle["dsseEnvelope"]["payloadType"],
        "application/vnd.in-toto+json"
    );
    use base64::Engine as _;
    let statement: serde_json::Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(bundle["dsseEnvelope"]["payload"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        statement["predicateType"],
        "https://sigstore.dev/cosign/sign/v1"
    );
    assert_eq!(statement["subject"][0]["digest"]["sha256"], hex1.as_str());
    assert!(reg
        .manifest("acme/bundled", &format!("sha256-{hex1}.sig"))
        .is_none());

    assert_eq!(
        in_project(&["plugin", "verify", &tag, "--key", "trusted.pub"]).code,
        0
    );
    let wrong = in_project(&["plugin", "verify", &tag, "--key", "other.pub"]);
    assert_eq!(wrong.code, 2, "{}", wrong.stdout);
    // A second signature is added to the list, not in place of the first.
    assert_eq!(
        in_project(&["plugin", "sign", &tag, "--key", "other.key", "--bundle"]).code,
        0
    );
    let index = reg
        .manifest("acme/bundled", &format!("sha256-{hex1}"))
        .unwrap();
    assert_eq!(index["manifests"].as_array().unwrap().len(), 2, "{index}");
    assert_eq!(
        in_project(&["plugin", "verify", &tag, "--key", "trusted.pub"]).code,
        0
    );
    assert_eq!(
        in_project(&["plugin", "verify", &tag, "--key", "other.pub"]).code,
        0
    );

    // Under a trust policy, add accepts the bundle and records the key.
    std::fs::write(
        dir.join(".kridik.yaml"),
        format!(
            "trust:\n  - repository: {}/acme/\n    keys: [trusted.pub]\n",
            reg.host
        ),
    )
    .unwrap();
    let add = in_project(&["plugin", "add", &tag]);
    assert_eq!(add.code, 0, "{}", add.stderr);
    assert!(
        add.stdout.contains("signature of sha256:"),
        "{}",
        add.stdout
    );

    // Another digest with v1's referrers copied to its tag: the referrers name
    // v1 as subject and the statement v1's digest, so nothing signs v2.
    let v2 = pushed_digest(&home.kridik(&[
        "plugin",
        "push",
        &s(&variant(dir, "v2")),
        &reg.reference("acme/bundled:2.0"),
    ]));
    reg.copy_tag(
        "acme/bundled",
        &format!("sha256-{hex1}"),
        &format!("sha256-{}", v2.strip_prefix("sha256:").unwrap()),
    );
    let other_home = Home::new();
    let copied = run(other_home
        .command(&["plugin", "add", &reg.reference("acme/bundled:2.0")])
        .current_dir(dir));
    assert_eq!(copied.code, 2, "{}", copied.stdout);
    assert!(
        copied.stderr.contains("is not signed by a key"),
        "{}",
        copied.stderr
    );
    assert!(other_home.files().is_empty());

    // save/load carry the bundle: an air-gapped machine verifies it offline.
    let layout = dir.join("layout");
    let save = in_project(&["plugin", "save", "-o", &s(&layout)]);
    assert_eq!(save.code, 0, "{}", save.stderr);
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(layout.join("index.json")).unwrap()).unwrap();
    assert!(
        saved["manifests"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["artifactType"] == "application/vnd.dev.sigstore.bundle.v0.3+json"),
        "{saved}"
    );
    let air_gapped = Home::new();
    let load = run(air_gapped
        .command(&["plugin", "load", &s(&layout)])
        .current_dir(dir));
    assert_eq!(load.code, 0, "{}", load.stderr);
    assert!(
        load.stdout.contains(&format!(
            "signature of {}/acme/bundled@{d1} verified",
            reg.host
        )),
        "{}",
        load.stdout
    );
}

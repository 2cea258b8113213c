//! A real OCI registry for the tests: Debian's `docker-registry` (distribution
//! 2.8) on 127.0.0.1, on a port it picks, optionally behind htpasswd basic auth.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub const USER: &str = "ci";
pub const PASSWORD: &str = "s3cret-pass";

pub struct Registry {
    child: Child,
    dir: tempfile::TempDir,
    pub host: String,
}

impl Registry {
    pub fn start(with_auth: bool) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let mut config = format!(
            "version: 0.1\nlog:\n  level: info\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:0\n",
            dir.path().join("data").display()
        );
        if with_auth {
            let out = Command::new("htpasswd")
                .args(["-Bbn", USER, PASSWORD])
                .output()
                .expect("htpasswd is missing: apt-get install apache2-utils (.ci/run does)");
            assert!(out.status.success());
            std::fs::write(dir.path().join("htpasswd"), out.stdout).unwrap();
            config += &format!(
                "auth:\n  htpasswd:\n    realm: kridik-test\n    path: {}\n",
                dir.path().join("htpasswd").display()
            );
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let mut child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("docker-registry is missing: apt-get install docker-registry (.ci/run does)");
        // It logs the port it bound: "listening on 127.0.0.1:NNNNN".
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(at) = line.find("listening on ") {
                    let addr: String = line[at + 13..]
                        .chars()
                        .take_while(|c| c.is_ascii_digit() || *c == '.' || *c == ':')
                        .collect();
                    let _ = tx.send(addr);
                }
            }
        });
        let host = rx
            .recv_timeout(Duration::from_secs(20))
            .expect("docker-registry did not report its address");
        Registry { child, dir, host }
    }

    pub fn reference(&self, repo_tag: &str) -> String {
        format!("oci://{}/{repo_tag}", self.host)
    }

    /// Points tag `to` at what tag `from` names, behind the registry's back
    /// (its storage), as an attacker with write access to it could.
    pub fn copy_tag(&self, repo: &str, from: &str, to: &str) {
        let tags = self
            .dir
            .path()
            .join("data/docker/registry/v2/repositories")
            .join(repo)
            .join("_manifests/tags");
        let link = std::fs::read_to_string(tags.join(from).join("current/link")).unwrap();
        let hex = link.trim().strip_prefix("sha256:").unwrap().to_string();
        std::fs::create_dir_all(tags.join(to).join("current")).unwrap();
        std::fs::write(tags.join(to).join("current/link"), &link).unwrap();
        let index = tags.join(to).join("index/sha256").join(hex);
        std::fs::create_dir_all(&index).unwrap();
        std::fs::write(index.join("link"), &link).unwrap();
    }

    /// The manifest a tag names, read from the registry's storage.
    pub fn manifest(&self, repo: &str, tag: &str) -> Option<serde_json::Value> {
        let link = self
            .dir
            .path()
            .join("data/docker/registry/v2/repositories")
            .join(repo)
            .join("_manifests/tags")
            .join(tag)
            .join("current/link");
        let digest = std::fs::read_to_string(link).ok()?;
        self.blob(digest.trim())
    }

    /// A blob as JSON, read from the registry's storage.
    pub fn blob(&self, digest: &str) -> Option<serde_json::Value> {
        serde_json::from_slice(&std::fs::read(self.blob_file(digest)).ok()?).ok()
    }

    /// The file holding a blob in the registry's storage, to tamper with.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.strip_prefix("sha256:").unwrap();
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

//! `deploy/ci/pre-commit` with the real git: an insecure mesh staged for a
//! commit is refused, a hardened one goes through (docs/ci.md).

use crate::support::*;

fn git(dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env("KRIDIK", env!("CARGO_BIN_EXE_kridik"))
        .output()
        .expect("git")
}

#[test]
fn the_pre_commit_hook_refuses_an_insecure_mesh() {
    let repo_dir = tempfile::tempdir().unwrap();
    let dir = repo_dir.path();
    assert!(git(dir, &["init", "-q"]).status.success());
    let hook = dir.join(".git/hooks/pre-commit");
    std::fs::copy(repo().join("deploy/ci/pre-commit"), &hook).unwrap();
    for (example_name, allowed) in [("insecure-mesh", false), ("hardened-mesh", true)] {
        let target = dir.join("mesh");
        let _ = std::fs::remove_dir_all(&target);
        std::fs::create_dir_all(&target).unwrap();
        for f in std::fs::read_dir(example(example_name)).unwrap().flatten() {
            if f.path().extension().is_some_and(|e| e == "yaml") {
                std::fs::copy(f.path(), target.join(f.file_name())).unwrap();
            }
        }
        assert!(git(dir, &["add", "-A"]).status.success());
        let commit = git(dir, &["commit", "-q", "-m", example_name]);
        assert_eq!(
            commit.status.success(),
            allowed,
            "{example_name}: {}",
            String::from_utf8_lossy(&commit.stderr)
        );
        if !allowed {
            assert!(String::from_utf8_lossy(&commit.stderr).contains("findings at or above high"));
        }
    }
}

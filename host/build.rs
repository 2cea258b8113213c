//! Builds the guest components (the built-in checks and the test components)
//! for wasm32-wasip2 with the `wasm` profile, in a target directory of their
//! own so this nested cargo never waits on the outer build's lock.

use std::path::{Path, PathBuf};
use std::process::Command;

const GUESTS: &[&str] = &[
    "kridik-check-pack",
    "kridik-example-gateway-tls",
    "kridik-example-hook-report-file",
    "kridik-example-hook-webhook",
    "kridik-test-hostile",
    "kridik-test-hostile-hook",
    "kridik-test-foreign-import",
    "kridik-test-future-version",
    "kridik-test-legacy-v0-1",
    "kridik-test-queries-v0-2",
];

fn main() {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest.parent().unwrap().to_path_buf();
    for watched in [
        "wit",
        "sdk/rust",
        "checks",
        "tests/components",
        "Cargo.lock",
        // The guests' `[profile.wasm]` lives here.
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    // The commit `kridik version` names (none outside a git checkout).
    let commit = std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .current_dir(&root)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into());
    println!("cargo:rustc-env=KRIDIK_COMMIT={commit}");
    for git in [".git/HEAD", ".git/refs/heads"] {
        if root.join(git).exists() {
            println!("cargo:rerun-if-changed={}", root.join(git).display());
        }
    }
    memcpy();
    // OUT_DIR is <target>/<profile>/build/<pkg>/out.
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap());
    let target_dir = out.ancestors().nth(4).unwrap().join("wasm-guests");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args([
            "build",
            "--profile",
            "wasm",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir);
    for g in GUESTS {
        cmd.args(["-p", g]);
    }
    // Host-only settings must not leak into the guest build.
    for var in [
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_PRIMARY_PACKAGE",
    ] {
        cmd.env_remove(var);
    }
    let output = cmd
        .output()
        .expect("running cargo for the guest components");
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let hint = if stderr.contains("wasm32-wasip2")
            && (stderr.contains("may not be installed") || stderr.contains("can't find crate"))
        {
            "\nthe wasm32-wasip2 target is missing: run `rustup target add wasm32-wasip2` (`make build` does it)\n"
        } else {
            ""
        };
        panic!("building the guest components failed:{hint}\n{stderr}");
    }
    let wasm_dir = target_dir.join("wasm32-wasip2").join("wasm");
    for g in GUESTS {
        let file = wasm_dir.join(format!("{}.wasm", g.replace('-', "_")));
        assert!(Path::new(&file).exists(), "missing {}", file.display());
    }
    println!("cargo:rustc-env=KRIDIK_WASM_DIR={}", wasm_dir.display());
}

/// host/src/memcpy.c: as `kridik_memcpy`/`kridik_memmove` everywhere (their
/// unit test), and as `memcpy`/`memmove` in the static musl build, where they
/// replace musl's.
fn memcpy() {
    println!("cargo:rerun-if-changed=src/memcpy.c");
    let mut build = cc::Build::new();
    build
        .file("src/memcpy.c")
        .opt_level(2)
        .flag("-fno-builtin")
        .flag_if_supported("-fno-tree-loop-distribute-patterns");
    build.clone().compile("kridik_memcpy");
    if std::env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("musl") {
        build
            .define("KRIDIK_MEMCPY_NAME", "memcpy")
            .define("KRIDIK_MEMMOVE_NAME", "memmove")
            .compile("kridik_musl_memcpy");
    }
}

//! `kridik check new`: a new check project that builds and passes as
//! generated. It carries its own copy of the WIT and of the SDK, so it builds
//! anywhere, without this repository.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Rust,
    Js,
    Go,
    Python,
}

/// The WIT every project is built against, as shipped with this kridik:
/// Rust checks use the newest version (0.2.1), the Go, JavaScript and Python
/// SDKs 0.2.0 (they do not call what 0.2.1 added, and so also run on a kridik
/// of 0.2.0), the Rust SDK's hooks 0.1.
const WIT: &[(&str, &str)] = &[
    (
        "v0.2.1/types.wit",
        include_str!("../../wit/v0.2.1/types.wit"),
    ),
    (
        "v0.2.1/snapshot.wit",
        include_str!("../../wit/v0.2.1/snapshot.wit"),
    ),
    ("v0.2.1/mesh.wit", include_str!("../../wit/v0.2.1/mesh.wit")),
    (
        "v0.2.1/worlds.wit",
        include_str!("../../wit/v0.2.1/worlds.wit"),
    ),
    (
        "v0.2.0/types.wit",
        include_str!("../../wit/v0.2.0/types.wit"),
    ),
    (
        "v0.2.0/snapshot.wit",
        include_str!("../../wit/v0.2.0/snapshot.wit"),
    ),
    ("v0.2.0/mesh.wit", include_str!("../../wit/v0.2.0/mesh.wit")),
    (
        "v0.2.0/worlds.wit",
        include_str!("../../wit/v0.2.0/worlds.wit"),
    ),
    (
        "v0.1.0/types.wit",
        include_str!("../../wit/v0.1.0/types.wit"),
    ),
    (
        "v0.1.0/snapshot.wit",
        include_str!("../../wit/v0.1.0/snapshot.wit"),
    ),
    ("v0.1.0/mesh.wit", include_str!("../../wit/v0.1.0/mesh.wit")),
    (
        "v0.1.0/hooks.wit",
        include_str!("../../wit/v0.1.0/hooks.wit"),
    ),
    (
        "v0.1.0/worlds.wit",
        include_str!("../../wit/v0.1.0/worlds.wit"),
    ),
];

/// (path in the project, template); `{{name}}`, `{{id}}`, ... are filled in.
const COMMON_TEMPLATES: &[(&str, &str)] = &[
    (
        "fixtures/vulnerable.yaml",
        include_str!("../../sdk/templates/common/fixtures/vulnerable.yaml"),
    ),
    (
        "fixtures/hardened.yaml",
        include_str!("../../sdk/templates/common/fixtures/hardened.yaml"),
    ),
    (
        "README.md",
        include_str!("../../sdk/templates/common/README.md.tmpl"),
    ),
];

const RUST_TEMPLATES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../../sdk/templates/rust/Cargo.toml.tmpl"),
    ),
    (
        "src/lib.rs",
        include_str!("../../sdk/templates/rust/src/lib.rs.tmpl"),
    ),
    (
        "Makefile",
        include_str!("../../sdk/templates/rust/Makefile.tmpl"),
    ),
    (
        "kridik-sdk/Cargo.toml",
        include_str!("../../sdk/templates/rust/kridik-sdk.Cargo.toml.tmpl"),
    ),
];

const JS_TEMPLATES: &[(&str, &str)] = &[
    (
        "package.json",
        include_str!("../../sdk/templates/js/package.json.tmpl"),
    ),
    (
        "check.js",
        include_str!("../../sdk/templates/js/check.js.tmpl"),
    ),
    (
        "Makefile",
        include_str!("../../sdk/templates/js/Makefile.tmpl"),
    ),
];

const GO_TEMPLATES: &[(&str, &str)] = &[
    ("go.mod", include_str!("../../sdk/templates/go/go.mod.tmpl")),
    (
        "main.go",
        include_str!("../../sdk/templates/go/main.go.tmpl"),
    ),
    (
        "Makefile",
        include_str!("../../sdk/templates/go/Makefile.tmpl"),
    ),
];

const PYTHON_TEMPLATES: &[(&str, &str)] = &[
    (
        "app.py",
        include_str!("../../sdk/templates/python/app.py.tmpl"),
    ),
    (
        "Makefile",
        include_str!("../../sdk/templates/python/Makefile.tmpl"),
    ),
];

const GO_SDK: &[(&str, &str)] = &[
    ("abi.go", include_str!("../../sdk/go/kridik/abi.go")),
    ("kridik.go", include_str!("../../sdk/go/kridik/kridik.go")),
];

const RUST_SDK: &[(&str, &str)] = &[
    ("lib.rs", include_str!("../../sdk/rust/src/lib.rs")),
    ("ctx.rs", include_str!("../../sdk/rust/src/ctx.rs")),
    ("finding.rs", include_str!("../../sdk/rust/src/finding.rs")),
    ("hook.rs", include_str!("../../sdk/rust/src/hook.rs")),
    (
        "kinds/mod.rs",
        include_str!("../../sdk/rust/src/kinds/mod.rs"),
    ),
    (
        "kinds/authorization_policy.rs",
        include_str!("../../sdk/rust/src/kinds/authorization_policy.rs"),
    ),
    ("lenient.rs", include_str!("../../sdk/rust/src/lenient.rs")),
    ("yaml.rs", include_str!("../../sdk/rust/src/yaml.rs")),
];

pub struct Created {
    pub dir: PathBuf,
    pub id: String,
    pub wasm: String,
}

/// `my-check` -> `MY-CHECK-001`.
pub fn check_id(name: &str) -> String {
    format!("{}-001", name.to_ascii_uppercase())
}

pub fn create(parent: &Path, name: &str, lang: Lang) -> Result<Created> {
    let valid = !name.is_empty()
        && name.len() <= 40
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !valid {
        bail!("`{name}` is not a valid check name: use lower-case letters, digits and `-`, starting with a letter");
    }
    let dir = parent.join(name);
    if dir.exists() {
        bail!(
            "{} already exists: choose another name or directory",
            dir.display()
        );
    }
    let id = check_id(name);
    let crate_name = name.replace('-', "_");
    let (wasm, source) = match lang {
        Lang::Rust => (
            format!("target/wasm32-wasip2/release/{crate_name}.wasm"),
            "src/lib.rs",
        ),
        Lang::Js => (format!("{name}.wasm"), "check.js"),
        Lang::Go => (format!("{name}.wasm"), "main.go"),
        Lang::Python => (format!("{name}.wasm"), "app.py"),
    };
    // The generated Makefile runs `kridik` from PATH, else this very binary,
    // so `make test` works right after `check new` wherever kridik lives.
    let kridik = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "kridik".into());
    let fill = |template: &str| {
        template
            .replace("{{name}}", name)
            .replace("{{crate}}", &crate_name)
            .replace("{{id}}", &id)
            .replace("{{wasm}}", &wasm)
            .replace("{{source}}", source)
            .replace("{{kridik}}", &kridik)
            .replace(
                "{{lang}}",
                match lang {
                    Lang::Rust => "Rust",
                    Lang::Js => "JavaScript",
                    Lang::Go => "Go",
                    Lang::Python => "Python",
                },
            )
    };
    let (templates, ignore): (&[(&str, &str)], &str) = match lang {
        Lang::Rust => (RUST_TEMPLATES, "/target\n"),
        Lang::Js => (JS_TEMPLATES, "node_modules/\n*.wasm\n"),
        Lang::Go => (GO_TEMPLATES, "*.wasm\n"),
        Lang::Python => (PYTHON_TEMPLATES, "*.wasm\n__pycache__/\n"),
    };
    let mut files: Vec<(String, String)> = COMMON_TEMPLATES
        .iter()
        .chain(templates)
        .map(|(path, template)| (path.to_string(), fill(template)))
        .collect();
    files.push((".gitignore".into(), ignore.into()));
    files.extend(
        WIT.iter()
            .map(|(f, text)| (format!("wit/{f}"), text.to_string())),
    );
    // The SDK, copied; its sources name the WIT relative to the repository.
    match lang {
        Lang::Rust => files.extend(RUST_SDK.iter().map(|(f, text)| {
            (
                format!("kridik-sdk/src/{f}"),
                text.replace("\"../../wit/v0.", "\"../wit/v0."),
            )
        })),
        Lang::Js => {
            files.push((
                "kridik.js".into(),
                include_str!("../../sdk/js/kridik.js").into(),
            ));
            files.push((
                "build.mjs".into(),
                include_str!("../../sdk/js/build.mjs")
                    .replace("'../../wit/v0.2.0'", "'wit/v0.2.0'"),
            ));
        }
        Lang::Python => files.push((
            "kridik.py".into(),
            include_str!("../../sdk/python/kridik.py").into(),
        )),
        Lang::Go => {
            files.push((
                "sdk/go.mod".into(),
                include_str!("../../sdk/go/go.mod").into(),
            ));
            files.extend(
                GO_SDK
                    .iter()
                    .map(|(f, text)| (format!("sdk/kridik/{f}"), text.to_string())),
            );
        }
    }
    for (path, text) in &files {
        let full = dir.join(path);
        if let Some(p) = full.parent() {
            std::fs::create_dir_all(p).with_context(|| format!("cannot create {}", p.display()))?;
        }
        std::fs::write(&full, text).with_context(|| format!("cannot write {}", full.display()))?;
    }
    Ok(Created { dir, id, wasm })
}

#[cfg(test)]
mod tests {
    /// A new Rust check vendors the SDK: every source file of `sdk/rust/src`
    /// must be in it, or the generated project does not build.
    #[test]
    fn the_vendored_rust_sdk_has_every_source_file() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk/rust/src");
        let mut stack = vec![root.clone()];
        let mut files = Vec::new();
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let rel = path.strip_prefix(&root).unwrap();
                    files.push(rel.to_string_lossy().replace('\\', "/"));
                }
            }
        }
        files.sort();
        let mut vendored: Vec<String> =
            super::RUST_SDK.iter().map(|(f, _)| f.to_string()).collect();
        vendored.sort();
        assert_eq!(vendored, files);
    }
}

//! Host bindings, one module per supported WIT version (frozen folders under
//! `wit/`), so a new major version can be added beside the old one.

pub mod v0_1 {
    wasmtime::component::bindgen!({
        world: "check",
        path: "../wit/v0.1.0",
    });
}

/// The result-hook world, sharing the check world's types.
pub mod v0_1_hook {
    wasmtime::component::bindgen!({
        world: "hook",
        path: "../wit/v0.1.0",
        with: {
            "kridik:plugin/types": super::v0_1::kridik::plugin::types,
        },
    });
}

/// The package versions this host runs: `major.minor` for 0.x (semver: minors break).
pub const SUPPORTED: &[&str] = &["0.1"];
pub const PACKAGE: &str = "kridik:plugin";

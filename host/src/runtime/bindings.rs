//! Host bindings, one module per supported WIT version (frozen folders under
//! `wit/`): the host links every version at once, so a component built
//! against an older version keeps working unchanged (as Zed's extension host
//! does with its versioned `since_v*` APIs).

pub mod v0_1 {
    wasmtime::component::bindgen!({
        world: "check",
        path: "../wit/v0.1.0",
    });
}

/// 0.2: the 0.1 check world plus queries (one workload, a namespace, Istio's
/// own components, a policy's record, an object by name, access without copy).
/// Bound at its newest patch (0.2.1, `objects-packed`): wasmtime's linker
/// satisfies a 0.2.0 component's imports with it and finds its 0.2.0 exports
/// (semver-compatible names), so the frozen wit/v0.2.0 needs no binding.
pub mod v0_2 {
    wasmtime::component::bindgen!({
        world: "check",
        path: "../wit/v0.2.1",
        // The `*-packed` queries serialize these types (see mesh.wit).
        additional_derives: [serde::Serialize],
    });
}

/// The result-hook world (0.1 only: hooks did not change in 0.2), sharing the
/// 0.1 check world's types.
pub mod v0_1_hook {
    wasmtime::component::bindgen!({
        world: "hook",
        path: "../wit/v0.1.0",
        with: {
            "kridik:plugin/types": super::v0_1::kridik::plugin::types,
        },
    });
}

/// The package versions this host runs for check components, newest last:
/// `major.minor` for 0.x (semver: minors break).
pub const CHECKS: &[&str] = &["0.1", "0.2"];
/// The package versions this host runs for result hooks.
pub const HOOKS: &[&str] = &["0.1"];
pub const PACKAGE: &str = "kridik:plugin";

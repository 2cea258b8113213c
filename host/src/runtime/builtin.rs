//! The built-in check pack: components built from `checks/` by build.rs and
//! embedded in the binary, so `kridik` is one self-contained file.

/// The name prefix of the built-in components (`builtin:mtls`, ...).
pub const PREFIX: &str = "builtin:";

/// (name, component bytes) of every built-in check component.
pub const COMPONENTS: &[(&str, &[u8])] = &[
    (
        "builtin:mtls",
        include_bytes!(concat!(env!("KRIDIK_WASM_DIR"), "/kridik_check_mtls.wasm")),
    ),
    (
        "builtin:authz",
        include_bytes!(concat!(env!("KRIDIK_WASM_DIR"), "/kridik_check_authz.wasm")),
    ),
    (
        "builtin:traffic",
        include_bytes!(concat!(
            env!("KRIDIK_WASM_DIR"),
            "/kridik_check_traffic.wasm"
        )),
    ),
    (
        "builtin:gateway",
        include_bytes!(concat!(
            env!("KRIDIK_WASM_DIR"),
            "/kridik_check_gateway.wasm"
        )),
    ),
    (
        "builtin:platform",
        include_bytes!(concat!(
            env!("KRIDIK_WASM_DIR"),
            "/kridik_check_platform.wasm"
        )),
    ),
    (
        "builtin:zerotrust",
        include_bytes!(concat!(
            env!("KRIDIK_WASM_DIR"),
            "/kridik_check_zerotrust.wasm"
        )),
    ),
];

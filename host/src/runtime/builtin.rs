//! The built-in check pack: components built from `checks/` by build.rs and
//! embedded in the binary, so `kridik` is one self-contained file.

/// The name prefix of the built-in components.
pub const PREFIX: &str = "builtin:";

/// (name, component bytes) of every built-in check component: one, the checks
/// of every `checks/` area crate, so that the model is decoded and each kind
/// parsed once per scan for all of them.
pub const COMPONENTS: &[(&str, &[u8])] = &[(
    "builtin:istio",
    include_bytes!(concat!(env!("KRIDIK_WASM_DIR"), "/kridik_check_pack.wasm")),
)];

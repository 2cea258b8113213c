//! Platform checks: control plane settings, data plane bypasses and release hygiene.

mod control_plane;
mod data_plane;
mod envoy_filter;
mod hygiene;
mod istio;
mod wasm_plugin;

use kridik_sdk::Check;

/// This area's checks, exported with the rest of the built-in pack by
/// `checks/pack` (one component, so the model is decoded once for all).
pub const CHECKS: &[Check] = &[
    Check {
        info: control_plane::cni_info,
        run: control_plane::run_cni,
    },
    Check {
        info: control_plane::jwt_info,
        run: control_plane::run_jwt,
    },
    Check {
        info: control_plane::ports_info,
        run: control_plane::run_ports,
    },
    Check {
        info: data_plane::bypass_info,
        run: data_plane::run_bypass,
    },
    Check {
        info: data_plane::uid_info,
        run: data_plane::run_uid,
    },
    Check {
        info: data_plane::opt_out_info,
        run: data_plane::run_opt_out,
    },
    Check {
        info: data_plane::alpha_info,
        run: data_plane::run_alpha,
    },
    Check {
        info: hygiene::version_info,
        run: hygiene::run_version,
    },
    Check {
        info: control_plane::weakened_info,
        run: control_plane::run_weakened,
    },
    Check {
        info: envoy_filter::info,
        run: envoy_filter::run,
    },
    Check {
        info: wasm_plugin::info,
        run: wasm_plugin::run,
    },
];

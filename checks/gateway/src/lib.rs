//! Ingress checks: what gateways expose and who may create them.

mod claims;
mod cors;
mod exposure;
mod gateway_api;
mod ingress;
mod servers;
mod sni;
mod tls;
mod virtual_service;

use kridik_sdk::Check;

/// This area's checks, exported with the rest of the built-in pack by
/// `checks/pack` (one component, so the model is decoded once for all).
pub const CHECKS: &[Check] = &[
    Check {
        info: exposure::broad_hosts_info,
        run: exposure::run_broad_hosts,
    },
    Check {
        info: exposure::tls_info,
        run: exposure::run_tls,
    },
    Check {
        info: exposure::redirect_info,
        run: exposure::run_redirect,
    },
    Check {
        info: exposure::passthrough_info,
        run: exposure::run_passthrough,
    },
    Check {
        info: ingress::ports_info,
        run: ingress::run_ports,
    },
    Check {
        info: ingress::rbac_info,
        run: ingress::run_rbac,
    },
    Check {
        info: ingress::connections_info,
        run: ingress::run_connections,
    },
    Check {
        info: tls::info,
        run: tls::run,
    },
    Check {
        info: gateway_api::listeners_info,
        run: gateway_api::run_listeners,
    },
    Check {
        info: gateway_api::grants_info,
        run: gateway_api::run_grants,
    },
    Check {
        info: sni::info,
        run: sni::run,
    },
    Check {
        info: claims::info,
        run: claims::run,
    },
    Check {
        info: cors::info,
        run: cors::run,
    },
];

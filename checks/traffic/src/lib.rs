//! Traffic checks: client TLS (DestinationRule), egress and protocol declaration.

mod client_tls;
mod egress;
mod hosts;
mod protocol;
mod rule;

use kridik_sdk::Check;

/// This area's checks, exported with the rest of the built-in pack by
/// `checks/pack` (one component, so the model is decoded once for all).
pub const CHECKS: &[Check] = &[
    Check {
        info: client_tls::mtls_off_info,
        run: client_tls::run_mtls_off,
    },
    Check {
        info: client_tls::unverified_info,
        run: client_tls::run_unverified,
    },
    Check {
        info: egress::plaintext_info,
        run: egress::run_plaintext,
    },
    Check {
        info: egress::outbound_info,
        run: egress::run_outbound,
    },
    Check {
        info: egress::open_sidecar_info,
        run: egress::run_open_sidecar,
    },
    Check {
        info: protocol::info,
        run: protocol::run,
    },
    Check {
        info: egress::wildcard_entry_info,
        run: egress::run_wildcard_entry,
    },
];

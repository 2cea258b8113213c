//! The built-in check pack, one component: the checks of every area crate.
//! One instance per scan decodes the model once and parses each declared kind
//! once for all of them (as six components, it was decoded six times).

#![no_builtins]

mod memcmp;

kridik_sdk::export_check_lists!(
    kridik_check_mtls::CHECKS,
    kridik_check_authz::CHECKS,
    kridik_check_traffic::CHECKS,
    kridik_check_gateway::CHECKS,
    kridik_check_platform::CHECKS,
    kridik_check_zerotrust::CHECKS,
);

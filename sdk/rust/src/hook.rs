//! Write kridik result hooks in Rust. A hook is a function from the final
//! report (and the `--set key=value` settings) to `Ok(())` or an error;
//! [`export_hook!`](crate::export_hook) turns it into a `kridik:plugin/hook`
//! component:
//!
//! ```ignore
//! use kridik_sdk::hook::*;
//!
//! fn info() -> HookInfo { HookInfo { name: "count".into(), description: "".into(), capabilities: vec![] } }
//! fn on_report(report: Report, settings: Settings) -> Result<(), String> { Ok(()) }
//!
//! kridik_sdk::export_hook!(info, on_report);
//! ```
//! Capabilities (`Capability::WriteDir`: the granted directory at `/out`;
//! `Capability::Http`: wasi:http to the granted origins) work only when the
//! hook asks for them in `info` AND the user grants them at install time.

pub mod bindings {
    wit_bindgen::generate!({
        world: "hook",
        path: "../../wit/v0.1.0",
        pub_export_macro: true,
        export_macro_name: "export_hook_world",
        default_bindings_module: "kridik_sdk::hook::bindings",
        additional_derives: [serde::Serialize],
    });
}

pub use bindings::exports::kridik::plugin::hooks::{Capability, HookInfo};
pub use bindings::kridik::plugin::reports::{CheckRecord, CheckStatus, Report, Summary};
pub use bindings::kridik::plugin::types::{Confidence, Finding, ObjectRef, Severity};

/// The whole report as `kridik scan --format json` writes it, with the Zero
/// Trust score, attack paths and remediation plan the typed [`Report`] leaves out.
pub fn report_json() -> String {
    bindings::kridik::plugin::report_document::json()
}

/// The `--set key=value` pairs the user gave at install time.
pub type Settings = Vec<(String, String)>;

/// The value of one setting.
pub fn setting<'a>(settings: &'a Settings, key: &str) -> Option<&'a str> {
    settings
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// Exports `info` and `on_report` as the component's `kridik:plugin/hooks`.
#[macro_export]
macro_rules! export_hook {
    ($info:path, $on_report:path) => {
        struct __KridikHook;
        impl $crate::hook::bindings::exports::kridik::plugin::hooks::Guest for __KridikHook {
            fn describe() -> $crate::hook::HookInfo {
                $info()
            }
            fn on_report(
                report: $crate::hook::Report,
                settings: ::std::vec::Vec<(::std::string::String, ::std::string::String)>,
            ) -> ::std::result::Result<(), ::std::string::String> {
                $on_report(report, settings)
            }
        }
        $crate::hook::bindings::export_hook_world!(__KridikHook with_types_in $crate::hook::bindings);
    };
}

//! Write kridik checks in Rust.
//!
//! A check is a plain function from a [`Ctx`] to findings; [`export_checks!`]
//! turns a list of them into a `kridik:plugin/check` component:
//!
//! ```ignore
//! use kridik_sdk::prelude::*;
//!
//! fn info() -> CheckInfo { kridik_sdk::info("ACME-001", "Title", Severity::Low, "hygiene", &["Service"]) }
//! fn run(ctx: &Ctx) -> CheckResult { Ok(vec![]) }
//!
//! kridik_sdk::export_checks!(Check { info, run });
//! ```
//! Build with `cargo build --release --target wasm32-wasip2`.

pub mod bindings {
    wit_bindgen::generate!({
        world: "check",
        path: "../../wit/v0.2.1",
        pub_export_macro: true,
        default_bindings_module: "kridik_sdk::bindings",
        // The `*-packed` queries deliver these types serialized (see mesh.wit).
        additional_derives: [serde::Deserialize],
    });
}

mod ctx;
mod finding;
pub mod hook;
pub mod kinds;
pub mod lenient;
pub mod yaml;

pub use bindings::kridik::plugin::mesh::{
    self, Container, Dataplane, Enrollment, MeshConfig, MtlsMode, NamespaceInfo, PathNormalization,
    Policy, PolicyScope, Workload,
};
pub use bindings::kridik::plugin::snapshot::{Object, SourceKind, Unavailable, UnavailableReason};
pub use bindings::kridik::plugin::types::{
    CheckInfo, Confidence, Evidence, Finding, ObjectRef, Remediation, Severity,
};
pub use ctx::{same_object, Ctx, ObjectExt, Parsed};
pub use finding::{raise, weakest};

/// What a check returns: its findings, or an error reported as status `error`.
pub type CheckResult = Result<Vec<Finding>, String>;

/// One check: its metadata and the function that runs it.
#[derive(Clone, Copy)]
pub struct Check {
    pub info: fn() -> CheckInfo,
    pub run: fn(&Ctx) -> CheckResult,
}

pub mod prelude {
    pub use crate::{
        Check, CheckInfo, CheckResult, Confidence, Ctx, Dataplane, MtlsMode, Object, ObjectExt,
        ObjectRef, Parsed, PolicyScope, Severity, Workload,
    };
}

/// Builds a [`CheckInfo`]; `kinds` are `Kind` (core group) or `group/Kind`.
pub fn info(
    id: &str,
    title: &str,
    default_severity: Severity,
    category: &str,
    kinds: &[&str],
) -> CheckInfo {
    CheckInfo {
        id: id.into(),
        title: title.into(),
        description: String::new(),
        default_severity,
        category: category.into(),
        kinds: kinds.iter().map(|k| k.to_string()).collect(),
    }
}

/// Runs the check with `id` among `checks`; used by [`export_checks!`].
/// The checks' ids are read once per instance (the host runs every check of a
/// component in one instance; building each `CheckInfo` per run to find one
/// id cost a pack of fifty checks over a thousand builds per scan).
pub fn dispatch<'a>(checks: impl IntoIterator<Item = &'a Check>, id: &str) -> CheckResult {
    type Run = fn(&Ctx) -> CheckResult;
    thread_local! {
        static RUNS: std::cell::OnceCell<std::collections::HashMap<String, Run>> =
            const { std::cell::OnceCell::new() };
    }
    let run = RUNS.with(|runs| {
        let runs = runs.get_or_init(|| {
            let mut by_id = std::collections::HashMap::new();
            for c in checks {
                // The first check with an id wins, as a search in order would.
                by_id.entry((c.info)().id).or_insert(c.run);
            }
            by_id
        });
        runs.get(id).copied()
    });
    let run = run.ok_or_else(|| format!("this component has no check `{id}`"))?;
    run(&Ctx::new(id))
}

/// Exports the given [`Check`]s as this component's `kridik:plugin/checks`.
#[macro_export]
macro_rules! export_checks {
    ($($check:expr),+ $(,)?) => {
        $crate::export_check_lists!(&[$($check),+]);
    };
}

/// Exports several lists of [`Check`]s as one component, e.g. the lists of
/// crates that each hold one area's checks. One component decodes the model
/// and parses each kind once for all of its checks.
#[macro_export]
macro_rules! export_check_lists {
    ($($list:expr),+ $(,)?) => {
        const __KRIDIK_CHECKS: &[&[$crate::Check]] = &[$($list),+];
        struct __KridikChecks;
        impl $crate::bindings::exports::kridik::plugin::checks::Guest for __KridikChecks {
            fn describe() -> ::std::vec::Vec<$crate::CheckInfo> {
                __KRIDIK_CHECKS.iter().copied().flatten().map(|c| (c.info)()).collect()
            }
            fn run(check_id: ::std::string::String) -> $crate::CheckResult {
                $crate::dispatch(__KRIDIK_CHECKS.iter().copied().flatten(), &check_id)
            }
        }
        $crate::bindings::export!(__KridikChecks with_types_in $crate::bindings);
    };
}

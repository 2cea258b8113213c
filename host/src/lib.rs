//! kridik: a security scanner for Istio meshes whose checks are sandboxed
//! WebAssembly components. The modules follow the data flow:
//! [`gather`] -> [`model`] -> [`runtime`] -> [`assess`] -> [`report`], tied
//! together by [`scan`];
//! [`plugins`] keeps the components users install.

pub mod assess;
pub use kridik_parse::clock;
pub mod diff;
pub mod fleet;
pub mod gather;
pub use kridik_parse::kinds;
mod memcpy;
pub mod memory;
pub mod model;
pub mod plugins;
pub mod publish;
pub use kridik_parse::printable;
pub mod report;
pub mod runtime;
pub mod scaffold;
pub mod scan;
pub mod state_file;
pub mod triage;
pub mod vocab;

//! End-to-end tests: the real `kridik` binary on real files, real components
//! built from source by host/build.rs, and a loopback API server.

mod apiserver;
mod assess;
mod checks;
mod ci;
mod cli;
mod corpus;
mod coverage;
mod deep;
mod deploy;
mod diff;
mod fleet;
mod formats;
mod golden;
mod hooks;
mod live;
mod oci;
mod plugins;
mod registry;
mod reports;
mod sandbox;
mod sdk_examples;
mod support;
mod triage;

//! cargo-fuzz target; the body (and its invariant) is kridik_parse::fuzzing::block_yaml.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kridik_parse::fuzzing::block_yaml(data));

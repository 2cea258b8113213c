//! cargo-fuzz target; the body (and its invariant) is kridik_parse::fuzzing::api_page.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kridik_parse::fuzzing::api_page(data));

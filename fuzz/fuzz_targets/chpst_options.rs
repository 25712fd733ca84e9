#![no_main]
//! cargo-fuzz target: see `tools::fuzzing::chpst_options` for the properties checked.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tools::fuzzing::chpst_options(data));

#![no_main]
//! cargo-fuzz target: see `tools::fuzzing::sv_action` for the properties checked.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tools::fuzzing::sv_action(data));

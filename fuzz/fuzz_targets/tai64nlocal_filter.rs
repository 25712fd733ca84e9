#![no_main]
//! cargo-fuzz target: see `tools::fuzzing::tai64nlocal_filter` for the properties checked.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tools::fuzzing::tai64nlocal_filter(data));

#![no_main]
//! cargo-fuzz target: see `supervise::fuzzing::runsv_start` for the properties checked.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| supervise::fuzzing::runsv_start(data));

#![no_main]
//! cargo-fuzz target: see `supervise::fuzzing::tai64n_parse` for the properties checked.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| supervise::fuzzing::tai64n_parse(data));

#![no_main]
//! cargo-fuzz target: see `tools::fuzzing::chpst_uidgid` for the properties checked.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| tools::fuzzing::chpst_uidgid(data));

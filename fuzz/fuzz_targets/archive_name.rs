#![no_main]
//! cargo-fuzz target: see `formats::fuzzing::archive_name` for the properties checked.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| formats::fuzzing::archive_name(data));

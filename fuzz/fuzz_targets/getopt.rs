#![no_main]
//! cargo-fuzz target: see `formats::fuzzing::getopt` for the properties checked.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| formats::fuzzing::getopt(data));

#![no_main]
//! cargo-fuzz target: see `svlogd::fuzzing::svlogd_options` for the properties checked.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| svlogd::fuzzing::svlogd_options(data));

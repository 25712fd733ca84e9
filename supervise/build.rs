//! Link runsv and runsvdir at a fixed address (non-PIE) when they are linked dynamically.
//!
//! One runsv runs per service, so its private memory is multiplied by the number of services.
//! In a dynamically linked position-independent executable the loader writes absolute addresses
//! into `.data.rel.ro` at every start: about 64 KiB of private dirty pages per process (measured
//! with supervise/bench/memory.sh). The workspace normally links statically
//! (`.cargo/config.toml`, `crt-static`), which yields a static-PIE with far fewer such pages; a
//! non-PIE static glibc binary does not start, so `-no-pie` is only for dynamic builds.
fn main() {
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    if !features.split(',').any(|f| f == "crt-static") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}

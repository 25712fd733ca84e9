//! Link runsv and runsvdir at a fixed address (non-PIE) when they are linked dynamically
//! against glibc.
//!
//! One runsv runs per service, so its private memory is multiplied by the number of services.
//! In a dynamically linked position-independent executable the loader writes absolute addresses
//! into `.data.rel.ro` at every start: about 64 KiB of private dirty pages per process (measured
//! with supervise/bench/memory.sh). The release build also links them statically
//! (`scripts/build-release.sh`, `crt-static`), which yields a static-PIE with far fewer such
//! pages; a static binary given `-no-pie` does not start (glibc's, and musl's as rustc links
//! it: it crashes at once), so `-no-pie` is only for dynamic glibc builds. On musl, Cargo
//! leaves `crt-static` out of `CARGO_CFG_TARGET_FEATURE` even though the target links
//! statically by default (it asks rustc for every crate type, and a dylib turns it off), so the
//! feature alone cannot tell: the C library decides.
fn main() {
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let static_crt = features.split(',').any(|f| f == "crt-static");
    let glibc = std::env::var("CARGO_CFG_TARGET_ENV").is_ok_and(|env| env == "gnu");
    if glibc && !static_crt {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}

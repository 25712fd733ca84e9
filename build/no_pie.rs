// Included by the build scripts of the crates whose binaries run once per service (runsv,
// runsvdir, svlogd, and runit-rs, which holds them): link them at a fixed address (non-PIE)
// when they are linked dynamically against glibc.
//
// In a dynamically linked position-independent executable the loader writes absolute
// addresses into `.data.rel.ro` at every start: tens of KiB of private dirty pages per process
// (measured with supervise/bench/memory.sh and svlogd/bench/rss.sh), multiplied by the number
// of services. The release build also links runsv and runsvdir statically
// (`scripts/build-release.sh`, `crt-static`), which yields a static-PIE with far fewer such
// pages; a static binary given `-no-pie` does not start (glibc's, and musl's as rustc links
// it: it crashes at once), so `-no-pie` is only for dynamic glibc builds. On musl, Cargo
// leaves `crt-static` out of `CARGO_CFG_TARGET_FEATURE` even though the target links
// statically by default (it asks rustc for every crate type, and a dylib turns it off), so the
// feature alone cannot tell: the C library decides.
fn main() {
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let static_crt = features.split(',').any(|f| f == "crt-static");
    let glibc = std::env::var("CARGO_CFG_TARGET_ENV").is_ok_and(|env| env == "gnu");
    if glibc && !static_crt {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}

//! Link runit-rs at a fixed address (non-PIE) when it is linked dynamically against glibc, for
//! the runsv inside it: the same reason and the same rule as `supervise/build.rs` (one runsv
//! runs per service, and a PIE's relocated pages are private to each; a static binary given
//! `-no-pie` does not start, and on musl Cargo does not say `crt-static`).
fn main() {
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    let static_crt = features.split(',').any(|f| f == "crt-static");
    let glibc = std::env::var("CARGO_CFG_TARGET_ENV").is_ok_and(|env| env == "gnu");
    if glibc && !static_crt {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}

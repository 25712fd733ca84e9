//! Link runit-rs at a fixed address (non-PIE) when it is linked dynamically, for the runsv
//! inside it: the same reason and the same rule as `supervise/build.rs` (one runsv runs per
//! service, and a PIE's relocated pages are private to each).
fn main() {
    let features = std::env::var("CARGO_CFG_TARGET_FEATURE").unwrap_or_default();
    if !features.split(',').any(|f| f == "crt-static") {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
}

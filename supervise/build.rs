//! Link runsv and runsvdir as fixed-address (non-PIE) executables.
//!
//! One runsv runs per service, so its private memory is multiplied by the number of services.
//! In a position-independent executable the dynamic loader writes the absolute addresses into
//! `.data.rel.ro` at every start, which makes about 64 KiB of private dirty pages per process
//! (measured with supervise/bench/memory.sh). Linked at a fixed address those pages need no
//! relocation and stay clean pages of the file, shared by every runsv. Shared libraries keep
//! their address randomisation; only the executable's own image is at a fixed address.
fn main() {
    println!("cargo:rustc-link-arg-bins=-no-pie");
}

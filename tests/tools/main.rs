//! End-to-end tests of tools, run through the real binaries.
//!
//! Each module drives one tool (or a family) next to its reference binary from Debian's
//! runit, daemontools and busybox packages, on real service and log directories.

mod activate;
mod chpst;
mod common;
mod install;
mod logs;
mod sv;
mod svc;
mod tai64n;

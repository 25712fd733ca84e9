//! End-to-end tests of supervise: our `runsv` and `runsvdir`, run as real processes, driven by
//! runit's `sv` and daemontools' `svc`/`svstat`/`svok`, and compared with runit's `runsv`.

mod compat;
mod container;
mod layout;
mod runsv;
mod runsvdir;

//! The reliability suite (project issue 7): faults, load and bad input against the whole
//! system. Each scenario asserts its property here at a reduced size, on our binaries; the
//! full-size run, ours beside runit's, is `scripts/reliability.sh`, which writes the figures
//! into `docs/reliability.md` (see [`frame`]).
//!
//! Modules: `frame` (sizes and reports, shared by every scenario), `sup_*` (supervision:
//! runsv, runsvdir, the tools, chpst), `log_*` (svlogd).

mod frame;
mod log_bad_config;
mod log_bad_input;
mod log_clock_steps;
mod log_disk_full;
mod log_feed;
mod log_logger_killed;
mod log_measured;
mod log_security;
mod log_slow;
mod sup_bad_config;
mod sup_common;
mod sup_container;
mod sup_limit;
mod sup_load;
mod sup_no_inotify;
mod sup_restart_loop;
mod sup_runsv_killed;
mod sup_security;
mod sup_supervise_gone;

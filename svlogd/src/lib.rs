//! svlogd: a runit-compatible logger that writes rotated, timestamped log directories, and
//! never loses a line, even to SIGKILL.
//!
//! Command line, `config` syntax, messages, exit codes and on-disk formats are runit's
//! (spec/svlogd.md); the deliberate fixes of spec §12 are documented in the module that makes
//! each of them. Layout: [`options`] (command line) and [`config`] (per-directory settings)
//! parse with no I/O; [`pmatch`], [`stamp`], [`replace`] and [`split`] are pure line handling;
//! [`input`] takes standard input without losing it; [`logdir`], [`rotate`] and [`processor`]
//! own a log directory's files; [`udp`] forwards as runit does, [`forward`] as a syslog client;
//! [`logger`] is the event loop.
//!
//! Beyond runit (each opt-in through a `config` line or an option, see [`extras`]):
//! [`archive`] (names and clock-proof order), [`prune`] (retention: `n` at once, `S`,
//! `maxage`), [`compress`] (gzip on a worker thread), [`overload`] (drop mode), [`copy`]
//! (stdout/stderr copies), [`metrics`] (status file), [`reload`] (`autoreload`), [`check`]
//! (`-C`), [`faults`] (test-only crash points).

pub mod archive;
pub mod batch;
pub mod check;
pub mod compress;
pub mod config;
pub mod copy;
pub mod dirfd;
pub mod extras;
pub mod faults;
pub mod forward;
pub mod fuzzing;
pub mod input;
pub mod logdir;
pub mod logger;
pub mod metrics;
pub mod msg;
pub mod options;
pub mod overload;
pub mod pmatch;
pub mod processor;
pub mod prune;
pub mod reload;
pub mod replace;
pub mod rotate;
pub mod scan;
pub mod split;
pub mod stamp;
pub mod udp;

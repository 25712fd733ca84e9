//! svlogd: a runit-compatible logger that writes rotated, timestamped log directories, and
//! never loses a line, even to SIGKILL.
//!
//! Command line, `config` syntax, messages, exit codes and on-disk formats are runit's
//! (spec/svlogd.md); the deliberate fixes of spec §12 are documented in the module that makes
//! each of them.
//!
//! Layout, in the order data flows ([`program`] is the command, argv to exit code):
//! - parsing, no I/O: [`options`] (command line), [`config`] (per-directory settings; our
//!   added lines in `config::added`, the `>` lines in `forward::config`), [`pmatch`];
//! - lines: [`input`] takes standard input without losing it, [`split`] cuts it into lines,
//!   [`replace`], [`stamp`] (line timestamps), [`batch`] (a directory's pending output);
//! - [`logger`], the event loop, hands lines to each [`logdir`] (runit's per-directory state:
//!   lock, `config`, `current`, the write path), whose rotations follow [`rotate`] (a machine
//!   over named steps) and whose retention follows [`prune`] (a pure plan); [`processor`]
//!   runs `!` processors; [`ctx`] is what a directory knows of the logger's turn;
//! - runit's UDP: [`udp`].
//!
//! Beyond runit (each opt-in through a `config` line or an option), gathered per directory in
//! [`additions`]: [`archive`] (names and clock-proof order), retention by `S` and `maxage`
//! ([`prune`]), [`compress`] (gzip on a worker thread), [`overload`] (drop mode),
//! [`stdio_copy`] (`copy stdout`/`stderr`), [`metrics`] (status file), [`reload`]
//! (`autoreload`), [`forward`] (syslog client); [`check`] (`-C`), [`faults`] (test-only crash
//! points).

pub mod additions;
pub mod batch;
pub mod census;
pub mod check;
pub mod compress;
pub mod config;
pub mod ctx;
pub mod faults;
pub mod forward;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod input;
pub mod links;
pub mod logdir;
pub mod logger;
pub mod metrics;
pub mod msg;
pub mod options;
pub mod overload;
pub mod pmatch;
pub mod prefilter;
pub mod processor;
pub mod program;
pub mod prune;
pub mod reload;
pub mod replace;
pub mod rotate;
pub mod split;
pub mod stdio_copy;
pub mod udp;

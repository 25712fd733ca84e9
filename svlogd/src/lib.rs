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

pub mod batch;
pub mod config;
pub mod dirfd;
pub mod forward;
pub mod fuzzing;
pub mod input;
pub mod logdir;
pub mod logger;
pub mod msg;
pub mod options;
pub mod pmatch;
pub mod processor;
pub mod replace;
pub mod rotate;
pub mod scan;
pub mod split;
pub mod stamp;
pub mod udp;

//! runit's formats and conventions, one home for each, used by every program of the toolkit
//! (runsv and runsvdir, svlogd, the tools): what is written on disk, sent through a FIFO or
//! printed, and how it is read back.
//!
//! - [`tai64n`]: TAI64N labels (12-byte packed, 24 hex digits).
//! - [`status`]: the `supervise/status` record, `stat`, `pid` and `ready`, and their readers.
//! - [`control`]: the command bytes of `supervise/control` and the FIFO client.
//! - [`svdir`]: service-directory names, and how a client opens `supervise/` files.
//! - [`stamp`]: svlogd's line timestamps, rendered and parsed back.
//! - [`archive`]: the names of a log directory's rotated files, and their order.
//! - [`scan`]: djb's `scan_ulong`, the number reader of runit's options and configs.
//! - [`strerr`]: runit's error texts and message shapes; [`getopt`]: runit's option scanning;
//!   [`help`]: every command's `--help` and `--version`.

pub mod archive;
pub mod control;
#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod getopt;
pub mod help;
pub mod scan;
pub mod stamp;
pub mod status;
pub mod strerr;
pub mod svdir;
pub mod tai64n;

//! The supervision half of the toolkit: the library behind `runsv` and `runsvdir`, and the one
//! home of runit's on-disk formats and control protocol that every tool of the workspace uses.
//!
//! Formats live in one module each: TAI64N labels in [`tai64n`], the `supervise/status` record
//! and its `stat`/`pid` companions in [`status`], the command bytes and the FIFO client in
//! [`control`]. runit's error texts and option scanning are in [`strerr`] and [`getopt`];
//! every command's `--help` and `--version` in [`help`].

#[cfg(feature = "fuzzing")]
pub mod fuzzing;
pub mod procinfo;
pub mod runsv;
pub mod runsvdir;
pub mod setup;
pub mod spell;

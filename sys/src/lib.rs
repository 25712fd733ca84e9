//! The mechanisms every program of the toolkit is built on, once each, on `nix`: raw `libc`
//! only where `nix` lacks the call, each with a one-line reason, so the programs above hold
//! almost no `unsafe`.
//!
//! - [`spawn`]: the only `fork`: a program started with its fds, directory and session
//!   arranged by a list of file actions.
//! - [`signal`]: signals read from a signalfd, dispositions, sending; [`child`]: reaping.
//! - [`poll`]: waiting on a few fds until a deadline; [`inotify`]: watching directories.
//! - [`lock`]: `flock`; [`fs`]: FIFOs, pipes and small file tests; [`dirfd`]: files reached
//!   through a directory descriptor.
//! - [`proc`]: what `/proc` says about a process, and pidfds.
//! - [`start`]: what std's start-up does, for the `no_main` binaries; [`arena`]: runsv's
//!   allocator, small requests from a static buffer; [`memory`]: pages given back while
//!   idle (buffers, the C allocator's free memory, the stack below the idle point);
//!   `layout`: the loader's writes into the program kept on one page (no items: a link rule).

pub mod arena;
pub mod child;
pub mod dirfd;
pub mod fs;
pub mod inotify;
mod layout;
pub mod lock;
pub mod memory;
pub mod poll;
pub mod proc;
pub mod signal;
pub mod spawn;
pub mod start;

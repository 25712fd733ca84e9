//! End-to-end tests of svlogd, run through the real binaries: ours next to runit's
//! `/usr/bin/svlogd` (which must be installed; the tests fail without it).
//!
//! Conformance tests run both on the same input and config and compare directories, stderr
//! and datagrams with timestamps masked. Each deliberate fix of spec/svlogd.md §12 has a test
//! that asserts our behaviour and shows the reference's, so it would fail on runit's.

mod big_config;
mod census;
mod check;
mod cli;
mod compress;
mod compress_exit;
mod config;
mod copy;
mod crash_tail;
mod fixes;
mod formats;
mod handover;
mod idle_memory;
mod input;
mod logdir;
mod metrics;
mod no_tls;
mod overload;
mod processor;
mod regex_select;
mod reload;
mod retention;
mod rotation;
mod signals;
mod term_limit;
mod timestamps;
mod udp;
mod util;
mod zero_loss;

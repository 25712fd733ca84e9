//! The end-to-end test harness: scratch directories, our binaries and the reference ones,
//! child processes that are always killed by pid, and bounded waits.
//!
//! Every test target in this package (`svlogd/`, `supervise/`, `tools/`, ...) uses it. A test
//! never sleeps to wait for something: it calls [`wait_until`], which panics with what it was
//! waiting for and a listing of the scratch directory when the time runs out. That bound only
//! catches a hang: it is at least ten times what the wait takes on a loaded machine, and no
//! test asserts how fast something happens. To show that something does not happen, a test
//! waits until the process has dealt with what could have caused it ([`wait_handled`],
//! [`wait_slept_again`], [`pipe_full`]) instead of sleeping a while.
//!
//! Nothing here depends on the host: the date, the clock and the zone come from the test
//! process (TZ and libfaketime's settings pass through clean environments, see [`ambient`]),
//! syscall numbers from libc, libfaketime is looked for where Debian puts it on any
//! architecture, a test that needs `chattr +i` makes its own ext4 ([`Ext4`]), and what another
//! user runs is copied where that user can reach it ([`Scratch::bin_for_anyone`]).

//!
//! One module per job; everything is re-exported here, so a test says `harness::read_text`.
//! No helper is written twice in `tests/`: what two test targets need lives here.

mod bins;
mod disks;
mod faketime;
mod idle;
mod impls;
mod logs;
mod namespaces;
mod procfs;
mod procs;
mod rng;
mod run;
mod scratch;
mod service;
mod svlogd;
mod text;
mod wait;

pub use bins::*;
pub use disks::*;
pub use faketime::*;
pub use idle::*;
pub use impls::*;
pub use logs::*;
pub use namespaces::*;
pub use procfs::*;
pub use procs::*;
pub use rng::*;
pub use run::*;
pub use scratch::*;
pub use service::*;
pub use svlogd::*;
pub use text::*;
pub use wait::*;

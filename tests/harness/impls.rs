//! Whose binaries a test runs: ours, or runit's from Debian's package, for tests that run the
//! same scenario on both and compare.

use crate::{bin, cmd_clean, reference, Scratch};
use std::path::PathBuf;
use std::process::Command;

/// Whose binaries a test runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Impl {
    /// The workspace's binaries (first on PATH, so runsvdir finds our runsv).
    Ours,
    /// Debian's runit 2.1.2 (`/usr/bin`, and our binaries nowhere on PATH).
    Runit,
}

impl Impl {
    /// Both, runit's first: the reference is what a comparison expects.
    pub const BOTH: [Impl; 2] = [Impl::Runit, Impl::Ours];

    /// `ours` or `runit`, for scratch directory names and messages.
    pub fn name(self) -> &'static str {
        match self {
            Impl::Ours => "ours",
            Impl::Runit => "runit",
        }
    }

    /// PATH for the processes of this implementation.
    pub fn path_env(self) -> String {
        match self {
            Impl::Ours => crate::test_path(),
            Impl::Runit => "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into(),
        }
    }

    /// The path of one of this implementation's programs (`runsv`, `sv`, `svlogd`, ...).
    pub fn bin(self, name: &str) -> PathBuf {
        match self {
            Impl::Ours => bin(name),
            Impl::Runit => reference(&format!("/usr/bin/{name}")),
        }
    }

    /// This implementation's program `name` where any user can run it: ours copied into the
    /// scratch directory (see [`Scratch::bin_for_anyone`]), runit's where Debian installs it.
    pub fn bin_for_anyone(self, s: &Scratch, name: &str) -> PathBuf {
        match self {
            Impl::Ours => s.bin_for_anyone(name),
            Impl::Runit => self.bin(name),
        }
    }

    /// A command for one of this implementation's programs, with a clean environment (see
    /// [`cmd_clean`]) whose PATH is [`Impl::path_env`].
    pub fn cmd(self, name: &str) -> Command {
        let mut c = cmd_clean(self.bin(name).as_os_str());
        c.env("PATH", self.path_env());
        c
    }
}

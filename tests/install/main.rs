//! The one install command, `scripts/install.sh`: it puts every binary of the workspace,
//! chpst's daemontools names and every man page into a prefix under a staging root, and the
//! installed binaries work on their own (a service under the installed runsvdir and runsv,
//! logging through the installed svlogd, driven by the installed sv).
//!
//! Every installed command, alias included, answers `--help` and `--version`, while the
//! command lines runit and daemontools know keep their answers.
//!
//! The tests install the debug build the test command made (`--from`/`BINSRC`), so they
//! need no release build; the default path (release and static-PIE builds) is the same code
//! after the build step.

mod build_release;
mod container;
mod help;
mod install;
mod multicall;

use harness::CleanEnv;
use harness::{code, names, read_text, transcript, Scratch, CHPST_ALIASES, SILENT_OK, WAIT as T};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const CRATES: [&str; 3] = ["supervise", "svlogd", "tools"];

pub fn script() -> PathBuf {
    harness::workspace("scripts/install.sh")
}

/// Every binary of the workspace: one `src/bin/NAME.rs` per crate.
pub fn binaries() -> Vec<String> {
    let mut v = Vec::new();
    for c in CRATES {
        for n in names(harness::workspace(c).join("src/bin")) {
            if let Some(b) = n.strip_suffix(".rs") {
                v.push(b.to_string());
            }
        }
    }
    assert!(v.len() >= 14, "too few binaries found: {v:?}");
    v
}

/// Every man page: (file name, section, source path).
pub fn pages() -> Vec<(String, String, PathBuf)> {
    let mut v = Vec::new();
    for c in CRATES {
        let dir = harness::workspace(c).join("man");
        for n in names(&dir) {
            if let Some((_, sec)) = n.rsplit_once('.') {
                if sec.len() == 1 && ('1'..='8').contains(&sec.chars().next().unwrap()) {
                    v.push((n.clone(), sec.to_string(), dir.join(&n)));
                }
            }
        }
    }
    v
}

/// Runs the install script with only PATH and `env` in its environment.
pub fn install(s: &Scratch, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new("/bin/sh");
    c.arg(script())
        .args(args)
        .clean_env()
        .env("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")
        .envs(env.iter().copied())
        .current_dir(&s.path);
    harness::run(&mut c, T)
}

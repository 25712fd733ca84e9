//! The `!processor` of a log directory (spec/svlogd.md §4): after a rotation produced `@T.u`,
//! `/bin/sh -c CMD` runs in the log directory with stdin `@T.u`, stdout `@T.t`, fd 4 `state`
//! (created empty if missing) and fd 5 `newstate`; on success `@T.t` becomes `@T.s`, the `.u`
//! is removed and `newstate` replaces `state`. It runs in the background; the next rotation of
//! the directory waits for it.
//!
//! Fixes over runit (spec §12): a processor killed by a signal has failed (item 3: runit
//! took it for a success and deleted the `.u`); a failed processor is restarted after
//! [`BACKOFF`], not at once in a tight loop (item 4); the state lives beside the directory, not
//! in its open state, so a HUP does not forget a running processor (item 5); `@T.t` is fsynced
//! before it becomes `@T.s`, and the directory after the renames (item 11). If the exit was
//! requested with TERM, a processor that fails is not restarted: its `.u` is left for the
//! admin, so that TERM always ends svlogd once running processors are done.
//!
//! The child is started by `sys::spawn`, with its files as a list of actions prepared before
//! the fork.

use crate::faults;
use crate::msg;
use formats::strerr::errno_of;
use nix::libc;
use std::ffi::CString;
use std::os::fd::OwnedFd;
use std::time::{Duration, Instant};
use sys::dirfd::{chmodat, openat, renameat, unlinkat};

/// How long a failed processor waits before it is started again.
pub const BACKOFF: Duration = Duration::from_secs(3);
/// How long a failed finishing step (rename, chmod) waits before it is retried.
pub const RETRY: Duration = Duration::from_secs(3);

/// One rotated file to process.
#[derive(Debug)]
pub struct Job {
    /// The log directory (a descriptor of its own, so a HUP that reopens the directory does
    /// not disturb the job).
    dir: OwnedFd,
    /// The directory's name, for messages.
    dirname: Vec<u8>,
    /// `@<tai64n>.u`.
    name: [u8; 27],
    /// The command line for `/bin/sh -c`.
    command: CString,
}

impl Job {
    /// A job for `name` (`@....u`) in the directory `dir`.
    pub fn new(dir: OwnedFd, dirname: &[u8], name: [u8; 27], command: &[u8]) -> Job {
        let command = CString::new(command.to_vec()).unwrap_or_else(|e| {
            // runit stores the command as a C string: it ends at the first NUL.
            let n = e.nul_position();
            CString::new(command[..n].to_vec()).unwrap_or_default()
        });
        Job {
            dir,
            dirname: dirname.to_vec(),
            name,
            command,
        }
    }

    /// The `.u` file's name.
    pub fn name(&self) -> &[u8; 27] {
        &self.name
    }

    fn with_suffix(&self, c: u8) -> [u8; 27] {
        let mut n = self.name;
        n[26] = c;
        n
    }
}

/// Steps after a successful run, each retried on failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// fsync `@T.t`.
    SyncOutput,
    /// `@T.t` → `@T.s`.
    RenameOutput,
    /// `@T.s` to 0744.
    ChmodOutput,
    /// Remove `@T.u`.
    UnlinkInput,
    /// `newstate` → `state`.
    RenameState,
    /// fsync the directory.
    SyncDir,
}

/// A directory's processor slot.
#[derive(Debug, Default)]
pub enum Processor {
    /// Nothing to do.
    #[default]
    Idle,
    /// The child is running.
    Running {
        /// Its pid.
        pid: i32,
        /// What it works on.
        job: Job,
    },
    /// It failed (or could not be forked); start it again at `until`.
    Backoff {
        /// When to restart.
        until: Instant,
        /// What it works on.
        job: Job,
    },
    /// It succeeded; the `.t` is being renamed into place.
    Finishing {
        /// The next step.
        step: Finish,
        /// When to retry a failed step (`None`: now).
        retry_at: Option<Instant>,
        /// What it worked on.
        job: Job,
    },
}

/// Starts `job`'s processor; a fork failure is a pause (`unable to fork for processor`) with
/// a retry after [`RETRY`].
pub fn start(job: Job, verbose: bool, now: Instant) -> Processor {
    // Output and state left by an earlier run of this job (a processor orphaned by a
    // crashed svlogd may even still be writing them): start from fresh files.
    let _ = unlinkat(&job.dir, &job.with_suffix(b't'));
    let _ = unlinkat(&job.dir, b"newstate");
    crate::links::remove_link(&job.dir, &job.dirname, b"state");
    match spawn(&job, verbose) {
        Ok(pid) => {
            faults::hit("processor-started");
            Processor::Running { pid, job }
        }
        Err(errno) => {
            msg::pause("unable to fork for processor", &job.dirname, errno);
            Processor::Backoff {
                until: now + RETRY,
                job,
            }
        }
    }
}

impl Processor {
    /// Whether a job is in progress (running, waiting to restart, or finishing).
    pub fn busy(&self) -> bool {
        !matches!(self, Processor::Idle)
    }

    /// The pid of the running child, if any.
    pub fn pid(&self) -> Option<i32> {
        match self {
            Processor::Running { pid, .. } => Some(*pid),
            _ => None,
        }
    }

    /// The job in progress, if any.
    pub fn job(&self) -> Option<&Job> {
        match self {
            Processor::Idle => None,
            Processor::Running { job, .. }
            | Processor::Backoff { job, .. }
            | Processor::Finishing { job, .. } => Some(job),
        }
    }

    /// Whether the archive label `label` is the job's (in progress, or waiting to restart).
    pub fn holds_label(&self, label: &[u8; 24]) -> bool {
        self.job().is_some_and(|j| j.name[1..25] == label[..])
    }

    /// When the slot next wants attention (a restart or a retry), if it waits for a time.
    pub fn deadline(&self) -> Option<Instant> {
        match self {
            Processor::Backoff { until, .. } => Some(*until),
            Processor::Finishing { retry_at, .. } => *retry_at,
            _ => None,
        }
    }

    /// The child `pid` ended with wait status `status`. `give_up`: TERM was received, so a
    /// failure is not retried. Returns whether it succeeded.
    pub fn exited(&mut self, status: i32, now: Instant, give_up: bool) -> bool {
        let Processor::Running { job, .. } = std::mem::take(self) else {
            return false;
        };
        let ok = libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0;
        if ok {
            faults::hit("processor-exited");
            *self = Processor::Finishing {
                step: Finish::SyncOutput,
                retry_at: None,
                job,
            };
            return true;
        }
        msg::warnx("processor failed, restart", &job.dirname);
        let t = job.with_suffix(b't');
        let _ = unlinkat(&job.dir, &t);
        if give_up {
            abandon(&job);
            return false;
        }
        *self = Processor::Backoff {
            until: now + BACKOFF,
            job,
        };
        false
    }

    /// TERM during the exit: a job waiting to restart is given up (its `.u` stays).
    pub fn give_up(&mut self) {
        if matches!(self, Processor::Backoff { .. }) {
            if let Processor::Backoff { job, .. } = std::mem::take(self) {
                abandon(&job);
            }
        }
    }

    /// TERM's time is up: a running processor gets TERM and is not waited for, and no job
    /// goes on; its `.u` stays for the next svlogd (which queues it again).
    pub fn stop_at_exit(&mut self) {
        match std::mem::take(self) {
            Processor::Idle => {}
            Processor::Running { pid, job } => {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGTERM,
                );
                abandon(&job);
            }
            Processor::Backoff { job, .. } | Processor::Finishing { job, .. } => abandon(&job),
        }
    }

    /// Does what is due at `now`: restarts a job after its backoff, runs finishing steps.
    /// Returns whether a job was completed (its `.s` is in place).
    pub fn advance(&mut self, now: Instant, verbose: bool) -> bool {
        match self {
            Processor::Backoff { until, .. } if *until <= now => {
                let Processor::Backoff { job, .. } = std::mem::take(self) else {
                    unreachable!()
                };
                *self = start(job, verbose, now);
                false
            }
            Processor::Finishing { retry_at, .. } if retry_at.is_none_or(|t| t <= now) => {
                self.finish(now, verbose)
            }
            _ => false,
        }
    }

    fn finish(&mut self, now: Instant, verbose: bool) -> bool {
        let Processor::Finishing {
            step,
            retry_at,
            job,
        } = self
        else {
            return false;
        };
        let t = job.with_suffix(b't');
        let s = job.with_suffix(b's');
        loop {
            let result: Result<(), (&str, i32)> = match *step {
                Finish::SyncOutput => {
                    // Best effort: if the .t cannot be opened, the rename below says why.
                    if let Ok(fd) = openat(&job.dir, &t, libc::O_RDONLY) {
                        let _ = nix::unistd::fsync(&fd);
                    }
                    Ok(())
                }
                Finish::RenameOutput => {
                    let r =
                        renameat(&job.dir, &t, &s).map_err(|e| ("unable to rename processed", e));
                    if r.is_ok() {
                        faults::hit("processor-renamed");
                    }
                    r
                }
                Finish::ChmodOutput => {
                    chmodat(&job.dir, &s, 0o744).map_err(|e| ("unable to set mode of processed", e))
                }
                Finish::UnlinkInput => {
                    if unlinkat(&job.dir, &job.name).is_err() {
                        let mut arg = job.dirname.clone();
                        arg.push(b'/');
                        arg.extend_from_slice(&job.name);
                        msg::warnx("unable to unlink", &arg);
                    }
                    faults::hit("processor-unlinked");
                    Ok(())
                }
                Finish::RenameState => match renameat(&job.dir, b"newstate", b"state") {
                    // A processor that removed newstate leaves the old state in place.
                    Err(libc::ENOENT) | Ok(()) => Ok(()),
                    Err(e) => Err(("unable to rename state", e)),
                },
                Finish::SyncDir => {
                    let _ = nix::unistd::fsync(&job.dir);
                    if verbose {
                        msg::info(&[b"processed: ", &job.dirname, b"/", &s]);
                    }
                    *self = Processor::Idle;
                    return true;
                }
            };
            match result {
                Ok(()) => {
                    *step = match *step {
                        Finish::SyncOutput => Finish::RenameOutput,
                        Finish::RenameOutput => Finish::ChmodOutput,
                        Finish::ChmodOutput => Finish::UnlinkInput,
                        Finish::UnlinkInput => Finish::RenameState,
                        Finish::RenameState | Finish::SyncDir => Finish::SyncDir,
                    };
                    *retry_at = None;
                }
                Err((what, errno)) => {
                    msg::pause(what, &job.dirname, errno);
                    *retry_at = Some(now + RETRY);
                    return false;
                }
            }
        }
    }
}

fn abandon(job: &Job) {
    let mut arg = job.dirname.clone();
    arg.push(b'/');
    arg.extend_from_slice(&job.name);
    msg::warnx("processor given up at exit, left unprocessed", &arg);
}

/// Forks and execs the processor: in the log directory, `@T.u` on fd 0, `@T.t` on fd 1,
/// `state` (made empty if missing) on fd 4, `newstate` on fd 5, `/bin/sh -c CMD`. Returns the
/// child's pid, or the errno of `fork`. A failing step ends the child with runit's message
/// (`svlogd: fatal: unable to open input for processor: DIR: ...`) and exit 111.
fn spawn(job: &Job, verbose: bool) -> Result<i32, i32> {
    use std::os::fd::AsRawFd;
    use sys::spawn::{Action, Spawn, Step};
    let input = CString::new(job.name.to_vec()).expect("no NUL");
    let output = CString::new(job.with_suffix(b't').to_vec()).expect("no NUL");
    if verbose {
        msg::info(&[b"processing: ", &job.dirname, b"/", &job.name]);
    }
    // Each step's words: runit's, then the directory's name.
    let words = |what: &str| [what.as_bytes(), b": ", &job.dirname, b": "].concat();
    let chdir = words("unable to change directory, want processor");
    let open_in = words("unable to open input for processor");
    let open_out = words("unable to open output for processor");
    let open_state = words("unable to open state for processor");
    let create_state = words("unable to create empty state for processor");
    let open_new = words("unable to open newstate for processor");
    let run = words("unable to run processor");
    // No link is followed (the parent removed those it could; one planted since fails).
    let trunc = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_NOFOLLOW;
    let read = libc::O_RDONLY | libc::O_NOFOLLOW;
    let steps = [
        Step {
            action: Action::Fchdir(job.dir.as_raw_fd()),
            what: &chdir,
        },
        Step {
            action: Action::Open {
                path: &input,
                flags: read,
                to: 0,
            },
            what: &open_in,
        },
        Step {
            action: Action::Open {
                path: &output,
                flags: trunc,
                to: 1,
            },
            what: &open_out,
        },
        Step {
            action: Action::CreateIfMissing {
                path: c"state",
                create: &create_state,
            },
            what: &open_state,
        },
        Step {
            action: Action::Open {
                path: c"state",
                flags: read,
                to: 4,
            },
            what: &open_state,
        },
        Step {
            action: Action::Open {
                path: c"newstate",
                flags: trunc,
                to: 5,
            },
            what: &open_new,
        },
    ];
    sys::spawn::spawn(&Spawn {
        program: Some(c"/bin/sh"),
        argv: &[c"sh", c"-c", &job.command],
        steps: &steps,
        exec_what: &run,
        fail_prefix: msg::FATAL,
        fail_code: 111,
    })
    .map(|pid| pid as i32)
    .map_err(|e| errno_of(&e))
}

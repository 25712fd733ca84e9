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
//! The fork child only calls async-signal-safe functions: everything it needs (paths, argv,
//! message pieces) is prepared before `fork`.

use crate::dirfd::{chmodat, openat, renameat, unlinkat};
use crate::faults;
use crate::msg;
use formats::strerr::errstr;
use nix::libc;
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

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
    crate::dirfd::remove_link(&job.dir, &job.dirname, b"state");
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

/// A message assembled without allocating, for the fork child.
struct StackMsg {
    buf: [u8; 1024],
    len: usize,
}

impl StackMsg {
    fn new() -> StackMsg {
        StackMsg {
            buf: [0; 1024],
            len: 0,
        }
    }

    fn push(&mut self, b: &[u8]) -> &mut StackMsg {
        let room = self.buf.len() - 1 - self.len;
        let n = b.len().min(room);
        self.buf[self.len..self.len + n].copy_from_slice(&b[..n]);
        self.len += n;
        self
    }

    fn write_line(&mut self) {
        self.buf[self.len] = b'\n';
        // SAFETY: write(2) of our own stack buffer.
        unsafe { libc::write(2, self.buf.as_ptr().cast(), self.len + 1) };
    }
}

/// Forks and execs the processor. Returns the child's pid, or the errno of `fork`.
fn spawn(job: &Job, verbose: bool) -> Result<i32, i32> {
    // Everything the child needs, prepared before fork.
    let input = CString::new(job.name.to_vec()).expect("no NUL");
    let output = CString::new(job.with_suffix(b't').to_vec()).expect("no NUL");
    let state = c"state";
    let newstate = c"newstate";
    let sh = c"/bin/sh";
    let argv: [*const libc::c_char; 4] = [
        c"sh".as_ptr(),
        c"-c".as_ptr(),
        job.command.as_ptr(),
        std::ptr::null(),
    ];
    let dirfd = job.dir.as_raw_fd();
    let dirname: &[u8] = &job.dirname;

    // SAFETY: the process is single-threaded; the child only makes async-signal-safe calls
    // on data prepared above and ends in execve or _exit.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(nix::errno::Errno::last_raw());
    }
    if pid > 0 {
        return Ok(pid);
    }
    // The child.
    unsafe {
        let die = |what: &[u8]| -> ! {
            let e = nix::errno::Errno::last_raw();
            StackMsg::new()
                .push(msg::FATAL)
                .push(what)
                .push(b": ")
                .push(dirname)
                .push(b": ")
                .push(errstr(e).as_bytes())
                .write_line();
            libc::_exit(111)
        };
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        if libc::fchdir(dirfd) < 0 {
            die(b"unable to change directory, want processor");
        }
        if verbose {
            StackMsg::new()
                .push(msg::INFO)
                .push(b"processing: ")
                .push(dirname)
                .push(b"/")
                .push(input.as_bytes())
                .write_line();
        }
        let fd_move = |to: i32, fd: i32| -> bool {
            if fd == to {
                return true;
            }
            if libc::dup2(fd, to) < 0 {
                return false;
            }
            libc::close(fd);
            true
        };
        // Opens `path` and moves it to fd `to`, or dies with `what`.
        let open_to = |path: &std::ffi::CStr, flags: i32, to: i32, what: &[u8]| {
            let fd = libc::open(path.as_ptr(), flags, 0o644);
            if fd < 0 {
                die(what);
            }
            if !fd_move(to, fd) {
                die(b"unable to move filedescriptor for processor");
            }
        };
        // No link is followed (the parent removed those it could; one planted since fails).
        let trunc = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_NOFOLLOW;
        open_to(
            &input,
            libc::O_RDONLY | libc::O_NOFOLLOW,
            0,
            b"unable to open input for processor",
        );
        open_to(&output, trunc, 1, b"unable to open output for processor");
        let fd = libc::open(state.as_ptr(), libc::O_RDONLY | libc::O_NOFOLLOW);
        if fd >= 0 {
            libc::close(fd);
        } else if nix::errno::Errno::last_raw() != libc::ENOENT {
            die(b"unable to open state for processor");
        } else {
            let c = libc::open(state.as_ptr(), trunc, 0o644);
            if c < 0 {
                die(b"unable to create empty state for processor");
            }
            libc::close(c);
        }
        open_to(
            state,
            libc::O_RDONLY | libc::O_NOFOLLOW,
            4,
            b"unable to open state for processor",
        );
        open_to(newstate, trunc, 5, b"unable to open newstate for processor");
        libc::execv(sh.as_ptr(), argv.as_ptr());
        die(b"unable to run processor");
    }
}

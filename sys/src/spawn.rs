//! The only `fork` of the toolkit: a program started with its descriptors, working directory
//! and session arranged by a list of file actions, the way runsv starts `./run`, runsvdir
//! starts `runsv` and svlogd starts a processor (skalibs' `cspawn` shape).
//!
//! Everything the child needs (argv, paths, the pieces of every failure message) is prepared
//! before `fork`. The child then calls only async-signal-safe functions: `dup2`, `fcntl`,
//! `open`, `close`, `fchdir`, `chdir`, `setsid`, `signal`, `sigprocmask`, `execve`, `writev`
//! and `_exit`. It empties the signal mask (the daemons keep the signals they read blocked)
//! and puts SIGPIPE back to its default (Rust ignores it), so the program starts with the
//! signal state a shell gives. A failing action or exec writes `fail_prefix`, the action's own
//! words, the error text and a newline to fd 2, and exits with `fail_code`.

use nix::libc;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

extern "C" {
    static environ: *const *const libc::c_char;
}

/// One step of the child's set-up, in order.
#[derive(Clone, Copy, Debug)]
pub enum Action<'a> {
    /// Make fd `from` appear as fd `to` (clearing close-on-exec when they are the same).
    Dup {
        /// The source.
        from: RawFd,
        /// The target number.
        to: RawFd,
    },
    /// Change to the directory open as `fd`.
    Fchdir(RawFd),
    /// Change to the directory at `path`.
    Chdir(&'a CStr),
    /// Open `path` with `flags` (mode 0644 when created) and make it fd `to`.
    Open {
        /// The file.
        path: &'a CStr,
        /// `open(2)` flags.
        flags: i32,
        /// The target fd number.
        to: RawFd,
    },
    /// Create `path` empty if it does not exist (runit's processor `state`): a failure to look
    /// at it says `what` of [`Step`], a failure to create it says `create`.
    CreateIfMissing {
        /// The file.
        path: &'a CStr,
        /// The words when it cannot be created.
        create: &'a [u8],
    },
    /// Start a new session.
    Setsid,
}

/// An action and the words that name it in the failure message (after `fail_prefix`,
/// before the error text).
#[derive(Clone, Copy, Debug)]
pub struct Step<'a> {
    /// What to do.
    pub action: Action<'a>,
    /// Its words.
    pub what: &'a [u8],
}

/// How to start one child.
pub struct Spawn<'a> {
    /// Path given to `execve`; `None` makes the child fail with "file does not exist" (a
    /// program not found on PATH).
    pub program: Option<&'a CStr>,
    /// argv, argv\[0\] included.
    pub argv: &'a [&'a CStr],
    /// The set-up, in order.
    pub steps: &'a [Step<'a>],
    /// The words for a failed exec.
    pub exec_what: &'a [u8],
    /// Every failure message starts with this.
    pub fail_prefix: &'a [u8],
    /// The exit code of a child whose set-up or exec failed.
    pub fail_code: i32,
}

/// Forks and starts the child; returns its pid. Only the fork itself can fail here: a failed
/// set-up or exec is reported by the child on stderr and seen as its exit code.
pub fn spawn(s: &Spawn<'_>) -> io::Result<u32> {
    let mut argv: Vec<*const libc::c_char> = s.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let program = s.program.map(|p| p.as_ptr());
    // SAFETY: the child only runs `child` below, which uses async-signal-safe calls on data
    // prepared before the fork and never returns (it ends in execve or _exit).
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: see above.
        unsafe { child(s, program, &argv) }
    }
    Ok(pid as u32)
}

/// The child: set-up, exec, or the failure message and `_exit`.
///
/// # Safety
/// Only in the child of a `fork`, with `argv` NUL-terminated.
unsafe fn child(
    s: &Spawn<'_>,
    program: Option<*const libc::c_char>,
    argv: &[*const libc::c_char],
) -> ! {
    let errno = || *libc::__errno_location();
    let fail = |what: &[u8], e: i32| -> ! {
        let text = formats::strerr::errstr(e).as_bytes();
        let part = |b: &[u8]| libc::iovec {
            iov_base: b.as_ptr() as *mut libc::c_void,
            iov_len: b.len(),
        };
        let parts = [part(s.fail_prefix), part(what), part(text), part(b"\n")];
        libc::writev(2, parts.as_ptr(), parts.len() as i32);
        libc::_exit(s.fail_code)
    };
    let move_to = |from: RawFd, to: RawFd| -> bool {
        if from == to {
            let flags = libc::fcntl(to, libc::F_GETFD);
            return flags >= 0 && libc::fcntl(to, libc::F_SETFD, flags & !libc::FD_CLOEXEC) == 0;
        }
        libc::dup2(from, to) == to
    };
    for step in s.steps {
        let ok = match step.action {
            Action::Dup { from, to } => move_to(from, to),
            Action::Fchdir(fd) => libc::fchdir(fd) == 0,
            Action::Chdir(path) => libc::chdir(path.as_ptr()) == 0,
            Action::Open { path, flags, to } => {
                let fd = libc::open(path.as_ptr(), flags, 0o644);
                if fd < 0 {
                    false
                } else if fd == to {
                    true
                } else {
                    let moved = libc::dup2(fd, to) == to;
                    libc::close(fd);
                    moved
                }
            }
            Action::CreateIfMissing { path, create } => {
                let fd = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_NOFOLLOW);
                if fd >= 0 {
                    libc::close(fd);
                    true
                } else if errno() != libc::ENOENT {
                    false
                } else {
                    let flags = libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC | libc::O_NOFOLLOW;
                    let c = libc::open(path.as_ptr(), flags, 0o644);
                    if c < 0 {
                        fail(create, errno());
                    }
                    libc::close(c);
                    true
                }
            }
            Action::Setsid => {
                libc::setsid();
                true
            }
        };
        if !ok {
            fail(step.what, errno());
        }
    }
    libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    let mut empty: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut empty);
    libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    match program {
        Some(p) => {
            libc::execve(p, argv.as_ptr(), environ);
            let mut e = errno();
            // execve says EACCES for a directory; "is a directory" tells the admin what is
            // wrong (`stat` is async-signal-safe).
            let mut st: libc::stat = std::mem::zeroed();
            if e == libc::EACCES
                && libc::stat(p, &mut st) == 0
                && st.st_mode & libc::S_IFMT == libc::S_IFDIR
            {
                e = libc::EISDIR;
            }
            fail(s.exec_what, e)
        }
        None => fail(s.exec_what, libc::ENOENT),
    }
}

/// A path as a C string (paths never hold NUL on Unix; one that does becomes empty).
pub fn cstring(p: impl AsRef<Path>) -> CString {
    CString::new(p.as_ref().as_os_str().as_bytes()).unwrap_or_default()
}

/// Finds `name` on `$PATH` as `execvp` would (first executable regular file); a name with a
/// slash is used as it is.
pub fn which(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        return Some(PathBuf::from(name));
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/bin:/usr/bin".into());
    for dir in std::env::split_paths(&path) {
        let dir = if dir.as_os_str().is_empty() {
            PathBuf::from(".")
        } else {
            dir
        };
        let cand = dir.join(name);
        let executable = nix::unistd::access(&cand, nix::unistd::AccessFlags::X_OK).is_ok();
        if executable && cand.is_file() {
            return Some(cand);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    fn run(steps: &[Step<'_>], program: &CStr, argv: &[&CStr]) -> (i32, Vec<u8>) {
        let (r, w) = nix::unistd::pipe().unwrap();
        let mut all = vec![Step {
            action: Action::Dup {
                from: w.as_raw_fd(),
                to: 2,
            },
            what: b"",
        }];
        all.extend_from_slice(steps);
        let pid = spawn(&Spawn {
            program: Some(program),
            argv,
            steps: &all,
            exec_what: b"unable to run: ",
            fail_prefix: b"test: ",
            fail_code: 111,
        })
        .unwrap();
        drop(w);
        let st = crate::child::wait_for(pid).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 256];
        while let Ok(n) = nix::unistd::read(&r, &mut buf) {
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        (st, out)
    }

    #[test]
    fn file_actions_then_exec() {
        let dir = std::env::temp_dir().join(format!("sys-spawn-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("in"), "hello\n").unwrap();
        let d = std::fs::File::open(&dir).unwrap();
        let steps = [
            Step {
                action: Action::Fchdir(d.as_raw_fd()),
                what: b"unable to change directory: ",
            },
            Step {
                action: Action::Open {
                    path: c"in",
                    flags: libc::O_RDONLY,
                    to: 0,
                },
                what: b"unable to open input: ",
            },
            Step {
                action: Action::Open {
                    path: c"out",
                    flags: libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC,
                    to: 1,
                },
                what: b"unable to open output: ",
            },
            Step {
                action: Action::CreateIfMissing {
                    path: c"state",
                    create: b"unable to create state: ",
                },
                what: b"unable to open state: ",
            },
        ];
        let (st, err) = run(&steps, c"/bin/sh", &[c"sh", c"-c", c"cat; exit 7"]);
        assert_eq!(
            libc::WEXITSTATUS(st),
            7,
            "{}",
            String::from_utf8_lossy(&err)
        );
        assert_eq!(std::fs::read(dir.join("out")).unwrap(), b"hello\n");
        assert!(dir.join("state").exists());
        // A failing action: its words and the error text, exit 111.
        let missing = [Step {
            action: Action::Open {
                path: c"/nonexistent/in",
                flags: libc::O_RDONLY,
                to: 0,
            },
            what: b"unable to open input: ",
        }];
        let (st, err) = run(&missing, c"/bin/true", &[c"true"]);
        assert_eq!(libc::WEXITSTATUS(st), 111);
        assert_eq!(err, b"test: unable to open input: file does not exist\n");
        // A directory as the program says so.
        let p = cstring(&dir);
        let (st, err) = run(&[], &p, &[c"run"]);
        assert_eq!(libc::WEXITSTATUS(st), 111);
        assert_eq!(err, b"test: unable to run: is a directory\n");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn which_finds_sh() {
        assert!(which("sh").is_some());
        assert_eq!(which("./x"), Some(PathBuf::from("./x")));
        assert!(which("no-such-program-here").is_none());
    }
}

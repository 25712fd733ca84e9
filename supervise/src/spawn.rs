//! The only `fork` in the workspace: start a program with its standard fds, working directory
//! and session arranged, the way runsv starts `./run` and runsvdir starts `runsv`.
//!
//! Everything the child needs (argv, the program path, the failure message's fixed parts) is
//! built before `fork`. The child then calls only async-signal-safe functions: `dup2`, `fcntl`,
//! `chdir`, `setsid`, `signal`, `sigprocmask`, `execve`, `writev` and `_exit`. It empties the
//! signal mask (the daemons keep CHLD and TERM blocked for their signalfd) and puts SIGPIPE back
//! to its default (Rust ignores it), so the service starts with the signal state a shell gives.

use formats::strerr::errstr;
use nix::libc;
use std::ffi::{CStr, CString};
use std::io;
use std::os::fd::RawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

extern "C" {
    static environ: *const *const libc::c_char;
}

/// How to start one child.
pub struct Spawn<'a> {
    /// Path given to `execve`; `None` makes the child fail with "file does not exist" (a
    /// program not found on PATH).
    pub program: Option<&'a CStr>,
    /// argv, argv\[0\] included.
    pub argv: &'a [&'a CStr],
    /// fd to become the child's stdin.
    pub stdin: Option<RawFd>,
    /// fd to become the child's stdout.
    pub stdout: Option<RawFd>,
    /// `(source, target)`: `source` becomes fd `target` (the readiness pipe, `notification-fd`).
    pub extra: Option<(RawFd, RawFd)>,
    /// Directory to change to before exec.
    pub chdir: Option<&'a CStr>,
    /// Start a new session (runsvdir `-P`).
    pub setsid: bool,
    /// The message printed (followed by the error text and a newline) when setup or exec fails.
    pub fail_prefix: &'a [u8],
    /// The exit code of a child whose exec failed.
    pub fail_code: i32,
}

/// Forks and starts the child; returns its pid. Only the fork itself can fail here: a failed
/// exec is reported by the child on stderr and seen as its exit code.
pub fn spawn(s: &Spawn<'_>) -> io::Result<u32> {
    let mut argv: Vec<*const libc::c_char> = s.argv.iter().map(|a| a.as_ptr()).collect();
    argv.push(std::ptr::null());
    let program = s.program.map(|p| p.as_ptr());
    // SAFETY: fork in a single-threaded daemon; the child only runs `child` below, which
    // uses async-signal-safe calls on data prepared before the fork and never returns.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(io::Error::last_os_error());
    }
    if pid == 0 {
        // SAFETY: see above; `child` ends in execve or _exit.
        unsafe { child(s, program, &argv) }
    }
    Ok(pid as u32)
}

/// Makes `from` appear as fd `to` in the child (clearing close-on-exec when already there).
unsafe fn move_to(from: RawFd, to: RawFd) -> bool {
    if from == to {
        let flags = libc::fcntl(to, libc::F_GETFD);
        return flags >= 0 && libc::fcntl(to, libc::F_SETFD, flags & !libc::FD_CLOEXEC) == 0;
    }
    libc::dup2(from, to) == to
}

unsafe fn fail(s: &Spawn<'_>, errno: i32) -> ! {
    let text = errstr(errno);
    let parts = [
        libc::iovec {
            iov_base: s.fail_prefix.as_ptr() as *mut libc::c_void,
            iov_len: s.fail_prefix.len(),
        },
        libc::iovec {
            iov_base: text.as_ptr() as *mut libc::c_void,
            iov_len: text.len(),
        },
        libc::iovec {
            iov_base: b"\n".as_ptr() as *mut libc::c_void,
            iov_len: 1,
        },
    ];
    libc::writev(2, parts.as_ptr(), 3);
    libc::_exit(s.fail_code)
}

unsafe fn errno() -> i32 {
    *libc::__errno_location()
}

/// Whether `path` is a directory (following symlinks); `stat` is async-signal-safe.
unsafe fn is_dir(path: *const libc::c_char) -> bool {
    let mut st: libc::stat = std::mem::zeroed();
    libc::stat(path, &mut st) == 0 && st.st_mode & libc::S_IFMT == libc::S_IFDIR
}

unsafe fn child(
    s: &Spawn<'_>,
    program: Option<*const libc::c_char>,
    argv: &[*const libc::c_char],
) -> ! {
    if let Some(fd) = s.stdin {
        if !move_to(fd, 0) {
            fail(s, errno());
        }
    }
    if let Some(fd) = s.stdout {
        if !move_to(fd, 1) {
            fail(s, errno());
        }
    }
    if let Some((from, to)) = s.extra {
        if !move_to(from, to) {
            fail(s, errno());
        }
    }
    if let Some(dir) = s.chdir {
        if libc::chdir(dir.as_ptr()) != 0 {
            fail(s, errno());
        }
    }
    if s.setsid {
        libc::setsid();
    }
    libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    let mut empty: libc::sigset_t = std::mem::zeroed();
    libc::sigemptyset(&mut empty);
    libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    match program {
        Some(p) => {
            libc::execve(p, argv.as_ptr(), environ);
            let mut e = errno();
            // execve says EACCES for a directory; "is a directory" tells the admin what is wrong.
            if e == libc::EACCES && is_dir(p) {
                e = libc::EISDIR;
            }
            fail(s, e)
        }
        None => fail(s, libc::ENOENT),
    }
}

/// Opens `/dev/null` on any of fds 0, 1, 2 that is closed, so no file the daemon opens later
/// lands there by accident (std's start-up does the same; `no_main` binaries call this).
pub fn sanitize_stdio() {
    for fd in 0..3 {
        // SAFETY: F_GETFD only queries; open returns the lowest free fd, which is `fd`.
        unsafe {
            if libc::fcntl(fd, libc::F_GETFD) == -1 && *libc::__errno_location() == libc::EBADF {
                libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
            }
        }
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
        let c = cstring(&cand);
        // SAFETY: access only reads the NUL-terminated path.
        if unsafe { libc::access(c.as_ptr(), libc::X_OK) } == 0 && cand.is_file() {
            return Some(cand);
        }
    }
    None
}

/// `./finish`'s arguments for a wait status: the exit code (or `-1` if the process was killed
/// by a signal) and `wstat & 0xff` (the signal, +128 with a core dump).
pub fn finish_args(wstat: i32) -> (String, String) {
    let code = if libc::WIFSIGNALED(wstat) {
        "-1".to_string()
    } else {
        libc::WEXITSTATUS(wstat).to_string()
    };
    (code, (wstat & 0xff).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    #[test]
    fn finish_arguments_as_runit() {
        // spec/supervise.md §1.4: exit 3 → "3 0"; SIGTERM → "-1 15"; SIGKILL → "-1 9".
        assert_eq!(finish_args(3 << 8), ("3".into(), "0".into()));
        assert_eq!(finish_args(15), ("-1".into(), "15".into()));
        assert_eq!(finish_args(9), ("-1".into(), "9".into()));
        assert_eq!(finish_args(11 | 0x80), ("-1".into(), "139".into()));
        assert_eq!(finish_args(111 << 8), ("111".into(), "0".into()));
    }

    #[test]
    fn spawn_redirects_stdout_and_reports_exec_failure() {
        let (r, w) = nix::unistd::pipe().unwrap();
        let sh = cstring("/bin/sh");
        let args = [c"sh", c"-c", c"echo hi; exit 7"];
        let pid = spawn(&Spawn {
            program: Some(&sh),
            argv: &args,
            stdin: None,
            stdout: Some(w.as_raw_fd()),
            extra: None,
            chdir: None,
            setsid: false,
            fail_prefix: b"test: ",
            fail_code: 111,
        })
        .unwrap();
        drop(w);
        let st = crate::sig::wait_for(pid).unwrap();
        assert_eq!(libc::WEXITSTATUS(st), 7);
        let mut buf = [0u8; 16];
        let n = nix::unistd::read(&r, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"hi\n");

        let missing = cstring("/nonexistent/prog");
        let pid = spawn(&Spawn {
            program: Some(&missing),
            argv: &[c"prog"],
            stdin: None,
            stdout: None,
            extra: None,
            chdir: None,
            setsid: false,
            fail_prefix: b"",
            fail_code: 111,
        })
        .unwrap();
        let st = crate::sig::wait_for(pid).unwrap();
        assert_eq!(libc::WEXITSTATUS(st), 111);
    }

    #[test]
    fn a_directory_is_reported_as_one() {
        // execve gives EACCES for a directory; the child says "is a directory".
        let (r, w) = nix::unistd::pipe().unwrap();
        let dir = std::env::temp_dir().join(format!("spawn-dir-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        // The message goes to fd 2: give the child the pipe as stderr through `extra`.
        let prog = cstring(&dir);
        let pid = spawn(&Spawn {
            program: Some(&prog),
            argv: &[c"run"],
            stdin: None,
            stdout: None,
            extra: Some((w.as_raw_fd(), 2)),
            chdir: None,
            setsid: false,
            fail_prefix: b"unable to start ./run: ",
            fail_code: 111,
        })
        .unwrap();
        drop(w);
        let st = crate::sig::wait_for(pid).unwrap();
        assert_eq!(libc::WEXITSTATUS(st), 111);
        let mut buf = [0u8; 64];
        let n = nix::unistd::read(&r, &mut buf).unwrap();
        assert_eq!(&buf[..n], b"unable to start ./run: is a directory\n");
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn which_finds_sh() {
        assert!(which("sh").is_some());
        assert_eq!(which("./x"), Some(PathBuf::from("./x")));
        assert!(which("no-such-program-here").is_none());
    }
}

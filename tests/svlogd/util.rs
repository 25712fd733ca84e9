//! Helpers for the svlogd tests beyond the harness: run our svlogd and runit's on the same
//! input and compare the directories they leave (names, modes, sizes, contents, timestamps
//! masked); numbered lines and how often each arrived; a pipe that one svlogd after another
//! reads; a log directory whose svlogd was killed at a fault point.

use harness::{
    assert_text_eq, log_text, logdir, mask_stamps, mode, pipe_bytes, run_with_input, spawn_svlogd,
    svlogd_cmd, Impl, Proc, Scratch,
};
use std::fs;
use std::path::Path;
use std::process::{Output, Stdio};
use std::time::Duration;

/// How long a one-shot run may take: the longest take a second or two.
pub const RUN: Duration = Duration::from_secs(60);

/// Runs `imp` with `args` in `cwd`, feeding `input` through a pipe, until it exits.
pub fn run(imp: Impl, cwd: &Path, args: &[&str], input: &[u8]) -> Output {
    run_with_input(svlogd_cmd(imp, cwd).args(args), input, RUN)
}

/// Asserts that a run of `imp` ([`run`]) exited 0, showing its stderr if not.
#[track_caller]
pub fn exited_0(imp: Impl, out: &Output) {
    assert_eq!(
        harness::code(out.status),
        0,
        "{} svlogd: {}",
        imp.name(),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts `imp` in `cwd` with its stdin piped (see [`spawn_svlogd`]).
pub fn spawn(imp: Impl, cwd: &Path, args: &[&str]) -> Proc {
    spawn_svlogd(svlogd_cmd(imp, cwd).args(args), cwd, Stdio::piped())
}

/// A scratch directory `NAME-IMPL` holding the log directory `d` with `config`, and `imp`'s
/// svlogd started on it ([`spawn`], `args` before `d`): how most tests of one logger begin.
pub fn on_d(name: &str, imp: Impl, config: &str, args: &[&str]) -> (Scratch, Proc) {
    let s = Scratch::new(&format!("{name}-{}", imp.name()));
    logdir(&s.path, "d", config);
    let p = spawn(imp, &s.path, &[args, &["d"]].concat());
    (s, p)
}

/// A description of a log directory: every entry (sorted) with its mode and size, and the
/// contents of every file except `lock`, timestamps masked.
pub fn snapshot(dir: &Path) -> String {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut out = String::new();
    for n in names {
        let p = dir.join(&n);
        let md = fs::symlink_metadata(&p).expect("stat");
        out.push_str(&format!(
            "== {} {:o} {}\n",
            mask_stamps(&n),
            mode(&p).expect("mode"),
            md.len()
        ));
        if md.is_file() && n != "lock" {
            let data = fs::read(&p).expect("read");
            out.push_str(&mask_stamps(&String::from_utf8_lossy(&data)));
            out.push_str("<EOF>\n");
        }
    }
    out
}

/// Runs both svlogds, each in its own copy of a scratch layout made by `setup` (called with
/// the working directory), with the same arguments and input; asserts that the directories
/// `dirs`, stderr (masked) and the exit code are the same. Returns ours' working directory.
pub fn conform(
    name: &str,
    setup: impl Fn(&Path),
    args: &[&str],
    input: &[u8],
    dirs: &[&str],
) -> Scratch {
    let mut outputs = Vec::new();
    let mut scratches = Vec::new();
    for imp in Impl::BOTH {
        let s = Scratch::new(&format!("{name}-{}", imp.name()));
        setup(&s.path);
        let out = run(imp, &s.path, args, input);
        let mut text = format!(
            "exit {}\nstderr:\n{}",
            harness::code(out.status),
            mask_stamps(&String::from_utf8_lossy(&out.stderr))
        );
        for d in dirs {
            text.push_str(&format!("---- {d}\n{}", snapshot(&s.join(d))));
        }
        outputs.push(text);
        scratches.push(s);
    }
    assert_text_eq(
        &format!("{name}: runit's svlogd (expected) vs ours"),
        &outputs[0],
        &outputs[1],
    );
    scratches.pop().expect("ours")
}

/// Numbered test lines `prefix 0000`, `prefix 0001`, ... each with a newline.
pub fn numbered(prefix: &str, n: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..n {
        v.extend_from_slice(format!("{prefix} {i:04}\n").as_bytes());
    }
    v
}

/// Waits until the logger has taken everything written to its stdin out of the pipe.
pub fn drained(p: &Proc) {
    let stdin = p.child.stdin.as_ref().expect("stdin");
    harness::wait_until(Duration::from_secs(20), "svlogd to read its input", || {
        pipe_bytes(stdin) == 0
    });
}

/// A pipe the test writes to, whose read end is the standard input of one svlogd after
/// another (as runsv keeps a logger's pipe across restarts).
pub struct SharedPipe {
    /// The read end (each svlogd gets a duplicate).
    pub rd: Option<std::os::fd::OwnedFd>,
    /// The write end.
    pub wr: Option<fs::File>,
}

impl SharedPipe {
    /// A new pipe.
    pub fn new() -> SharedPipe {
        let (rd, wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).expect("pipe");
        SharedPipe {
            rd: Some(rd),
            wr: Some(fs::File::from(wr)),
        }
    }

    /// Starts our svlogd in `cwd` on the pipe, with `env` added (see [`spawn_svlogd`]).
    pub fn start(&self, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let rd = self.rd.as_ref().expect("open").try_clone().expect("dup");
        let mut c = svlogd_cmd(Impl::Ours, cwd);
        c.args(args).envs(env.iter().copied());
        spawn_svlogd(&mut c, cwd, Stdio::from(rd))
    }

    /// Writes to the pipe.
    pub fn send(&mut self, data: &[u8]) {
        use std::io::Write;
        self.wr
            .as_mut()
            .expect("open")
            .write_all(data)
            .expect("write to the pipe");
    }

    /// Closes the write end (the last svlogd sees end of input).
    pub fn close(&mut self) {
        self.wr = None;
        self.rd = None;
    }
}

/// Counts, for every numbered line `PREFIX NNNN` of `numbered(prefix, n)`, how often it is
/// in `text` (anywhere in a line, so stamps and processor marks may come before it).
pub fn line_counts(text: &str, prefix: &str, n: usize) -> Vec<usize> {
    let mut counts = vec![0; n];
    let tag = format!("{prefix} ");
    for l in text.lines() {
        if let Some(p) = l.find(&tag) {
            if let Ok(i) = l[p + tag.len()..].trim_end().parse::<usize>() {
                if i < n {
                    counts[i] += 1;
                }
            }
        }
    }
    counts
}

/// A log directory `d` whose svlogd was killed at a fault point (svlogd's `faults` module),
/// with the pipe it read from, for the crash tests.
pub struct Crashed {
    /// The scratch directory (svlogd's working directory).
    pub s: Scratch,
    /// `s/d`.
    pub d: std::path::PathBuf,
    /// The pipe the next svlogd reads.
    pub pipe: SharedPipe,
    /// `numbered("line", n)`: its first half was sent before the crash.
    pub input: Vec<u8>,
}

impl Crashed {
    /// Starts our svlogd on `d` (with `config`) armed to kill itself at `point`, sends the
    /// first half of `n` numbered lines and waits for the SIGKILL.
    pub fn at(name: &str, config: &str, n: usize, point: &str) -> Crashed {
        use std::os::unix::process::ExitStatusExt;
        let s = Scratch::new(&format!("{name}-{point}"));
        logdir(&s.path, "d", config);
        let d = s.join("d");
        let input = numbered("line", n);
        let mut pipe = SharedPipe::new();
        let mut p = pipe.start(&s.path, &["d"], &[("SVLOGD_FAULT", point)]);
        pipe.send(&input[..input.len() / 2]);
        let st = p.wait_timeout(Duration::from_secs(10));
        assert_eq!(
            st.signal(),
            Some(9),
            "{point}: killed at its fault point: {st:?}"
        );
        Crashed { s, d, pipe, input }
    }

    /// Starts a fresh svlogd on the same pipe and sends the second half.
    pub fn resume(&mut self) -> Proc {
        let p = self.pipe.start(&self.s.path, &["d"], &[]);
        let half = self.input.len() / 2;
        self.pipe.send(&self.input[half..]);
        p
    }

    /// Asserts that every line is in the directory, at most twice (a line written but not
    /// yet taken from the pipe when the kill came is written again); returns the text.
    pub fn check_lines(&self, point: &str) -> String {
        let n = self.input.iter().filter(|&&b| b == b'\n').count();
        let text = log_text(&self.d);
        let counts = line_counts(&text, "line", n);
        let missing: Vec<usize> = (0..n).filter(|&i| counts[i] == 0).collect();
        assert!(missing.is_empty(), "{point}: lost {missing:?}");
        assert!(counts.iter().all(|&c| c <= 2), "{point}");
        text
    }
}

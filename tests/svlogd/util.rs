//! Helpers for the svlogd tests: run our svlogd or runit's on the same input, and describe a
//! log directory (names, modes, sizes, contents, timestamps masked) so two runs compare.

use harness::CleanEnv;
use harness::{assert_text_eq, bin, mask_stamps, reference, run_with_input, Proc, Scratch};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// The reference binary.
pub const REF: &str = "/usr/bin/svlogd";
/// How long a one-shot run may take: the longest take a second or two.
pub const RUN: Duration = Duration::from_secs(60);

/// Which svlogd.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Impl {
    /// Ours.
    Ours,
    /// runit's (Debian 2.1.2-54).
    Ref,
}

impl Impl {
    /// Both, reference first.
    pub const BOTH: [Impl; 2] = [Impl::Ref, Impl::Ours];

    /// A command for this svlogd, run as `svlogd` (argv\[0\]) with a clean environment, in
    /// `cwd`.
    pub fn cmd(self, cwd: &Path) -> Command {
        let path = match self {
            Impl::Ours => bin("svlogd"),
            Impl::Ref => reference(REF),
        };
        let mut c = Command::new(path);
        c.arg0("svlogd");
        c.clean_env();
        c.env("PATH", harness::test_path());
        c.current_dir(cwd);
        c
    }

    /// A short name for messages and scratch directories.
    pub fn name(self) -> &'static str {
        match self {
            Impl::Ours => "ours",
            Impl::Ref => "ref",
        }
    }
}

/// Runs `imp` with `args` in `cwd`, feeding `input` through a pipe, until it exits.
pub fn run(imp: Impl, cwd: &Path, args: &[&str], input: &[u8]) -> Output {
    run_with_input(imp.cmd(cwd).args(args), input, RUN)
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

/// Where [`spawn`] sends the logger's stderr.
pub const STDERR_FILE: &str = "svlogd.stderr";

/// Starts `imp` in `cwd` with its stdin piped and its stderr going to `cwd/svlogd.stderr`
/// (a file, so a chatty logger never blocks on a full pipe).
pub fn spawn(imp: Impl, cwd: &Path, args: &[&str]) -> Proc {
    let err = fs::File::create(cwd.join(STDERR_FILE)).expect("stderr file");
    let mut c = imp.cmd(cwd);
    c.args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(err);
    Proc::spawn_group(&mut c)
}

/// What a logger started with [`spawn`] in `cwd` printed on stderr so far.
pub fn stderr_of(cwd: &Path) -> String {
    harness::read_text(cwd.join(STDERR_FILE))
}

/// Writes to a spawned logger's stdin.
pub fn send(p: &mut Proc, data: &[u8]) {
    p.send(data);
}

/// Replaces the 24 hex digits of rotated file names and timestamps, for comparing runs.
pub fn mask(s: &str) -> String {
    mask_stamps(s)
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
            mask(&n),
            md.mode() & 0o7777,
            md.len()
        ));
        if md.is_file() && n != "lock" {
            let data = fs::read(&p).expect("read");
            out.push_str(&mask(&String::from_utf8_lossy(&data)));
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
            mask(&String::from_utf8_lossy(&out.stderr))
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

/// Makes `dir` (inside `cwd`) with `config` as its config file (none if empty).
pub fn logdir(cwd: &Path, dir: &str, config: &str) {
    let d = cwd.join(dir);
    fs::create_dir_all(&d).expect("mkdir");
    if !config.is_empty() {
        fs::write(d.join("config"), config).expect("config");
    }
}

/// The file's mode bits.
pub fn mode(p: &Path) -> u32 {
    fs::metadata(p)
        .unwrap_or_else(|e| panic!("stat {}: {e}", p.display()))
        .permissions()
        .mode()
        & 0o7777
}

/// Names in `dir` that are rotated files (`@` + 26 bytes) with the given suffix letter.
pub fn rotated(dir: &Path, suffix: char) -> Vec<String> {
    harness::names(dir)
        .into_iter()
        .filter(|n| n.len() == 27 && n.starts_with('@') && n.ends_with(suffix))
        .collect()
}

/// All log text of a directory: every rotated file in name order, then `current`.
pub fn all_logs(dir: &Path) -> String {
    let mut out = String::new();
    for n in harness::names(dir) {
        if n.len() == 27 && n.starts_with('@') {
            out.push_str(&harness::read_text(dir.join(&n)));
        }
    }
    out.push_str(&harness::read_text(dir.join("current")));
    out
}

/// Numbered test lines `prefix 0000`, `prefix 0001`, ... each with a newline.
pub fn numbered(prefix: &str, n: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for i in 0..n {
        v.extend_from_slice(format!("{prefix} {i:04}\n").as_bytes());
    }
    v
}

pub use harness::Tmpfs;

pub use harness::pipe_bytes;

/// Waits until the logger has taken everything written to its stdin out of the pipe.
pub fn drained(p: &Proc) {
    let stdin = p.child.stdin.as_ref().expect("stdin");
    harness::wait_until(Duration::from_secs(20), "svlogd to read its input", || {
        pipe_bytes(stdin) == 0
    });
}

/// Every archive in `dir` (`@` + 24 hex digits + `.s`, `.u`, `.t`, `.s.gz`, `.s.gz.tmp`),
/// sorted.
pub fn archives(dir: &Path) -> Vec<String> {
    harness::names(dir)
        .into_iter()
        .filter(|n| n.starts_with('@') && formats::archive::Name::parse(n.as_bytes()).is_some())
        .collect()
}

/// A file's text, through `gzip -dc` if its name ends in `.gz` (which also checks it is a
/// complete gzip file).
pub fn read_log(path: &Path) -> String {
    if path.extension().is_some_and(|e| e == "gz") {
        let out = Command::new(reference("/usr/bin/gzip"))
            .arg("-dc")
            .arg(path)
            .output()
            .expect("run gzip");
        assert!(
            out.status.success(),
            "{} is not a complete gzip file: {}",
            path.display(),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    } else {
        harness::read_text(path)
    }
}

/// All log text of a directory, compressed archives included: one file per label (`.s`
/// before `.s.gz` before `.u`, as the log viewers choose), in label order, then `current`.
pub fn all_text(dir: &Path) -> String {
    let mut out = String::new();
    let mut last = String::new();
    let rank = |n: &str| match &n[25..] {
        ".s" => 0,
        ".s.gz" => 1,
        _ => 2,
    };
    let mut names: Vec<String> = archives(dir)
        .into_iter()
        .filter(|n| n.ends_with(".s") || n.ends_with(".s.gz") || n.ends_with(".u"))
        .collect();
    names.sort_by(|a, b| a[..25].cmp(&b[..25]).then(rank(a).cmp(&rank(b))));
    for n in names {
        if n[..25] == last[..last.len().min(25)] {
            continue;
        }
        out.push_str(&read_log(&dir.join(&n)));
        last = n;
    }
    out.push_str(&harness::read_text(dir.join("current")));
    out
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

    /// Starts our svlogd in `cwd` on the pipe, with `env` added, stderr appended to
    /// `cwd/svlogd.stderr`.
    pub fn start(&self, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Proc {
        let err = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(cwd.join(STDERR_FILE))
            .expect("stderr file");
        let mut c = Impl::Ours.cmd(cwd);
        c.args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::from(
                self.rd.as_ref().expect("open").try_clone().expect("dup"),
            ))
            .stdout(Stdio::null())
            .stderr(err);
        Proc::spawn_group(&mut c)
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
        let text = all_text(&self.d);
        let counts = line_counts(&text, "line", n);
        let missing: Vec<usize> = (0..n).filter(|&i| counts[i] == 0).collect();
        assert!(missing.is_empty(), "{point}: lost {missing:?}");
        assert!(counts.iter().all(|&c| c <= 2), "{point}");
        text
    }
}

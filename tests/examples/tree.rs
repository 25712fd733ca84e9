//! A scratch service tree built from `examples/`, supervised by our runsvdir.

use formats::status::Status;
use harness::CleanEnv;
use harness::{bin, exec, read_status, read_text, test_path, wait_until_or, Proc, Scratch};
use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// How long any wait of these tests may take.
pub const T: Duration = Duration::from_secs(15);

/// `sv/NAME` directories (copies of examples), enabled by links in `service/`, and the
/// runsvdir that runs them (its standard output and error, where the output of a service
/// without a logger goes, are the file `runsvdir.err`).
pub struct Tree {
    /// Dropped first: runsvdir is killed, then the scratch directory kills every runsv and
    /// service left inside it.
    runsvdir: Option<Proc>,
    pub s: Scratch,
}

impl Tree {
    pub fn new(name: &str) -> Tree {
        let s = Scratch::new(name);
        s.mkdir("sv");
        s.mkdir("service");
        s.mkdir("bin");
        Tree { runsvdir: None, s }
    }

    /// `sv/NAME`.
    pub fn dir(&self, name: &str) -> PathBuf {
        self.s.join("sv").join(name)
    }

    /// Copies `examples/EXAMPLE` to `sv/NAME` (modes kept) and enables it.
    pub fn add(&self, example: &str, name: &str) -> PathBuf {
        let dest = self.dir(name);
        let o = harness::run(
            Command::new("/bin/cp")
                .arg("-a")
                .arg(harness::workspace("examples").join(example))
                .arg(&dest),
            T,
        );
        assert!(
            o.status.success(),
            "cp: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        std::os::unix::fs::symlink(&dest, self.s.join("service").join(name)).unwrap();
        dest
    }

    /// Writes `sv/NAME/REL` (a `conf` override, usually).
    pub fn write(&self, name: &str, rel: &str, text: &str) {
        self.s.write(format!("sv/{name}/{rel}"), text);
    }

    /// Writes an executable helper `bin/NAME` and returns its path.
    pub fn helper(&self, name: &str, body: &str) -> PathBuf {
        self.s.script(format!("bin/{name}"), body)
    }

    /// Starts our runsvdir on `service/`, with our binaries first on PATH and SVDIR set.
    pub fn start(&mut self) {
        let err = fs::File::create(self.s.join("runsvdir.err")).unwrap();
        let mut c = Command::new(bin("runsvdir"));
        c.clean_env()
            .env("PATH", test_path())
            .env("SVDIR", self.s.join("service"))
            .arg(self.s.join("service"))
            .current_dir(&self.s.path)
            .stdin(Stdio::null())
            .stdout(err.try_clone().unwrap())
            .stderr(err);
        self.runsvdir = Some(Proc::spawn_group(&mut c));
    }

    /// Runs our `sv` with SVDIR pointing at the tree.
    pub fn sv(&self, args: &[&str]) -> Output {
        let svdir = self.s.join("service");
        let svdir = svdir.to_str().expect("utf-8 path");
        exec(&bin("sv"), &self.s.path, args, &[("SVDIR", svdir)])
    }

    /// The status record of service NAME, if it can be read (see [`read_status`]).
    pub fn status(&self, name: &str) -> Option<Status> {
        read_status(&self.dir(name))
    }

    /// What the services without a logger wrote (runsvdir's standard output and error).
    pub fn stderr(&self) -> String {
        read_text(self.s.join("runsvdir.err"))
    }

    /// Waits until `cond` holds; on failure shows the tree and runsvdir's standard error.
    pub fn wait(&self, what: &str, mut cond: impl FnMut() -> bool) {
        wait_until_or(T, what, &mut cond, || {
            format!("{}\n--- runsvdir.err\n{}", self.s.listing(), self.stderr())
        });
    }

    /// Waits until service NAME runs a process other than `not`, and returns its pid (see
    /// [`harness::wait_new_run`], which shows `runsvdir.err` too when it times out).
    pub fn wait_running(&self, name: &str, not: u32) -> u32 {
        harness::wait_new_run(&self.s, &self.dir(name), not, T).pid
    }

    /// Waits until service NAME is down and wants down.
    pub fn wait_down(&self, name: &str) {
        harness::wait_down(&self.s, &self.dir(name));
    }
}

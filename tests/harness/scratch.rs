//! Scratch directories: one per test, removed when it passes, kept when it fails, and every
//! process left running inside it killed by pid.

use crate::{bin, default_signals, kill_processes_under};
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

static COUNTER: AtomicUsize = AtomicUsize::new(0);

/// A unique scratch directory for one test. Removed when the test passes; kept (and its path
/// printed) when it fails. On drop, every process still running inside it (by working
/// directory or by a path on its command line) is killed by pid.
pub struct Scratch {
    /// The directory (canonical, under the system temp dir).
    pub path: PathBuf,
}

impl Scratch {
    /// Creates `/tmp/e2e-NAME-PID-N`.
    pub fn new(name: &str) -> Scratch {
        default_signals();
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let base = std::env::var_os("E2E_TMPDIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let path = base.join(format!("e2e-{name}-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("create scratch dir");
        // Whatever the umask: tests run programs as `nobody` in here.
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).expect("chmod scratch");
        let path = fs::canonicalize(&path).expect("canonicalize scratch");
        Scratch { path }
    }

    /// A copy of our binary `name` in `bin/` of the scratch directory (mode 0755), for a test
    /// that runs it as another user (`chpst -u nobody`): the checkout, and `target/` in it,
    /// may sit under a directory only root can enter (`/root`, a `mktemp -d` folder).
    /// Copied once per scratch directory (a running copy could not be written again).
    pub fn bin_for_anyone(&self, name: &str) -> PathBuf {
        let dir = self.mkdir("bin");
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).expect("chmod bin");
        let to = dir.join(name);
        if to.is_file() {
            return to;
        }
        fs::copy(bin(name), &to).unwrap_or_else(|e| panic!("copy {name}: {e}"));
        fs::set_permissions(&to, fs::Permissions::from_mode(0o755)).expect("chmod");
        to
    }

    /// A path inside the scratch directory.
    pub fn join(&self, rel: impl AsRef<Path>) -> PathBuf {
        self.path.join(rel)
    }

    /// Creates a directory (and its parents) inside the scratch directory.
    pub fn mkdir(&self, rel: impl AsRef<Path>) -> PathBuf {
        let p = self.join(rel);
        fs::create_dir_all(&p).expect("mkdir");
        p
    }

    /// Writes a file inside the scratch directory.
    pub fn write(&self, rel: impl AsRef<Path>, data: impl AsRef<[u8]>) -> PathBuf {
        let p = self.join(rel);
        if let Some(parent) = p.parent() {
            fs::create_dir_all(parent).expect("mkdir parent");
        }
        fs::write(&p, data).expect("write file");
        p
    }

    /// Writes an executable script (mode 0755) inside the scratch directory.
    pub fn script(&self, rel: impl AsRef<Path>, body: &str) -> PathBuf {
        let p = self.write(rel, body);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).expect("chmod");
        p
    }

    /// A recursive listing (mode, size, name) for failure messages.
    pub fn listing(&self) -> String {
        listing(&self.path)
    }

    /// Kills by pid every process whose working directory is inside the scratch directory or
    /// whose command line names a path inside it, and returns how many it killed.
    pub fn kill_stray_processes(&self) -> usize {
        kill_processes_under(&self.path)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        self.kill_stray_processes();
        if std::thread::panicking() {
            eprintln!("scratch directory kept: {}", self.path.display());
            eprintln!("{}", self.listing());
        } else {
            let _ = fs::remove_dir_all(&self.path);
        }
    }
}

/// A recursive listing of `dir`: mode, size and relative path of every entry.
pub fn listing(dir: &Path) -> String {
    fn walk(base: &Path, dir: &Path, out: &mut String, depth: usize) {
        let Ok(rd) = fs::read_dir(dir) else { return };
        let mut entries: Vec<_> = rd.flatten().collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let p = e.path();
            let Ok(md) = fs::symlink_metadata(&p) else {
                continue;
            };
            let rel = p.strip_prefix(base).unwrap_or(&p);
            out.push_str(&format!(
                "{:o} {:>10} {}\n",
                md.mode(),
                md.len(),
                rel.display()
            ));
            if md.is_dir() && depth < 6 {
                walk(base, &p, out, depth + 1);
            }
        }
    }
    let mut out = String::new();
    walk(dir, dir, &mut out, 0);
    out
}

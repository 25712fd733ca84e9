//! Reading an svlogd log directory back: its archives, and every line in it in the order it
//! was written, compressed archives included.

use crate::{names, reference};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The archives of the log directory `dir`: every name that starts with `@` (svlogd names a
/// rotated file `@` + 24 hex digits + `.s`, `.u`, `.t`, `.s.gz`, ...; a name it should not
/// have made shows here too), sorted: by name, which is by time.
pub fn archives(dir: &Path) -> Vec<String> {
    names(dir)
        .into_iter()
        .filter(|n| n.starts_with('@'))
        .collect()
}

/// The archives of `dir` whose name ends in `suffix` (`.s`, `.u`, `.s.gz`, ...).
pub fn archives_ending(dir: &Path, suffix: &str) -> Vec<String> {
    archives(dir)
        .into_iter()
        .filter(|n| n.ends_with(suffix))
        .collect()
}

/// The files of the log directory `dir` that hold its lines, oldest first: one archive per
/// rotation (its `.s`, else its `.s.gz`, else its `.u`, as the log viewers choose; work files
/// left out), then `current`. With a small size limit a line is spread over several files,
/// so they are read in this order, not one by one.
pub fn log_files(dir: &Path) -> Vec<PathBuf> {
    let rank = |n: &str| match &n[25..] {
        ".s" => 0,
        ".s.gz" => 1,
        _ => 2,
    };
    let mut names: Vec<String> = archives(dir)
        .into_iter()
        .filter(|n| formats::archive::Name::parse(n.as_bytes()).is_some())
        .filter(|n| n.ends_with(".s") || n.ends_with(".s.gz") || n.ends_with(".u"))
        .collect();
    names.sort_by(|a, b| a[..25].cmp(&b[..25]).then(rank(a).cmp(&rank(b))));
    names.dedup_by(|later, first| later[..25] == first[..25]);
    names.push("current".into());
    names.iter().map(|n| dir.join(n)).collect()
}

/// The bytes of one log file, through `gzip -dc` if its name ends in `.gz` (which also checks
/// that it is a complete gzip file); nothing for a file that is not there.
pub fn read_log(path: &Path) -> Vec<u8> {
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
        out.stdout
    } else {
        fs::read(path).unwrap_or_default()
    }
}

/// Every byte logged in the directory `dir`, oldest first (see [`log_files`]).
pub fn log_bytes(dir: &Path) -> Vec<u8> {
    log_files(dir).iter().flat_map(|f| read_log(f)).collect()
}

/// Every line logged in the directory `dir`, oldest first, as (lossy) text.
pub fn log_text(dir: &Path) -> String {
    String::from_utf8_lossy(&log_bytes(dir)).into_owned()
}

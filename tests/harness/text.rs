//! Reading what the programs wrote (files as text, directory entries) and comparing texts.

use std::fs;
use std::path::Path;

/// Replaces every timestamp svlogd can write (TAI64N labels, `-tt`/`-ttt` stamps) and rotated
/// file names with fixed placeholders, so outputs of two runs can be compared.
pub fn mask_stamps(s: &str) -> String {
    let tai = regex::Regex::new(r"@[0-9a-f]{24}").unwrap();
    // `[0-9]`, not `\d`: the workspace's regex is built without Unicode classes.
    let utc =
        regex::Regex::new(r"[0-9]{4}-[0-9]{2}-[0-9]{2}[_T][0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{5}")
            .unwrap();
    let s = tai.replace_all(s, "@<TAI64N>");
    utc.replace_all(&s, "<UTC>").into_owned()
}

/// Asserts two texts are equal, printing both in full blocks when they are not.
#[track_caller]
pub fn assert_text_eq(what: &str, expected: &str, actual: &str) {
    if expected != actual {
        panic!(
            "{what} differs\n===== expected =====\n{expected}\n===== actual =====\n{actual}\n===================="
        );
    }
}

/// Reads a file as (lossy) text, or an empty string if it is missing.
pub fn read_text(p: impl AsRef<Path>) -> String {
    fs::read(p)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default()
}

/// The lines of a file another process may be writing: those it has ended with a newline
/// (a line read in the middle of being written is left for the next look).
pub fn whole_lines(p: impl AsRef<Path>) -> Vec<String> {
    let text = read_text(p);
    let whole = text.rfind('\n').map_or("", |end| &text[..end]);
    whole.lines().map(str::to_string).collect()
}

/// Names (sorted) of the entries of `dir`.
pub fn names(dir: impl AsRef<Path>) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// The permission bits (`0o7777`) of `p` itself, a link's own included (never its target's);
/// `None` when it is missing.
pub fn mode(p: impl AsRef<Path>) -> Option<u32> {
    use std::os::unix::fs::MetadataExt;
    fs::symlink_metadata(p).ok().map(|m| m.mode() & 0o7777)
}

/// Replaces pids, ages in seconds and `$Id$` strings with placeholders: what differs between
/// two runs of `sv`, `svstat` and the like that otherwise print the same.
pub fn mask_pids(s: &str) -> String {
    let pid = regex::Regex::new(r"pid [0-9]+").unwrap();
    let secs = regex::Regex::new(r"(?-u)\b[0-9]+s\b").unwrap();
    let seconds = regex::Regex::new(r"(?-u)\b[0-9]+ seconds").unwrap();
    let id = regex::Regex::new(r"\$Id:[^$]*\$").unwrap();
    let s = pid.replace_all(s, "pid N");
    let s = secs.replace_all(&s, "Ns");
    let s = seconds.replace_all(&s, "N seconds");
    id.replace_all(&s, "$$Id$$").into_owned()
}

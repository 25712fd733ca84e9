//! The `config` lines svlogd adds to runit's, parsed with no I/O (the table is in
//! `config`'s module doc and in svlogd(8)).
//!
//! Every one of them starts with a byte runit's svlogd does not know (it ignores such lines
//! without a word), so a `config` written for runit means the same here, and one written for
//! us still works, minus the additions, under runit's svlogd. `S` follows s6-log's letter for a
//! total size; the others are words: the word, then blanks, then the value. A line that starts
//! with one of these words but does not parse is refused with a warning (`svlogd: warning:
//! invalid config line: LINE`) and changes nothing; a line whose first word is none of these
//! stays an unknown line, ignored as runit ignores it (`svlogd -C` names both).

use formats::scan::scan_ulong;
use formats::stamp::{parse_stamp, Timestamp};
use std::time::Duration;

/// Default `queue`: how many rotated files may wait for a busy processor.
pub const DEFAULT_QUEUE: usize = 4;
/// Default gzip level for `compress gzip`.
pub const DEFAULT_GZIP_LEVEL: u32 = 6;
/// The warning for a line of ours that does not parse.
pub const INVALID: &str = "invalid config line";

/// What a directory does when it cannot keep up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overload {
    /// Stop reading (runit's back-pressure): the writer waits, nothing is lost.
    Block,
    /// Keep reading: lines the directory cannot take are dropped, counted and reported.
    Drop,
}

/// Which of svlogd's own output streams a copy goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// `copy`: selected lines also go to svlogd's stdout or stderr.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copy {
    /// Where.
    pub to: Stream,
    /// Written before each line; `None`: the service's name and ` | `.
    pub prefix: Option<Vec<u8>>,
}

/// The settings our lines control; [`Extras::default`] is what a runit `config` gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extras {
    /// `S`: the archives may hold at most this many bytes (0: no limit).
    pub total_max: u64,
    /// `maxage`: archives older than this are deleted.
    pub age_max: Option<Duration>,
    /// `compress gzip [LEVEL]`: the gzip level rotated files are compressed with.
    pub gzip: Option<u32>,
    /// `queue`: how many rotated files may wait for a busy processor before a rotation
    /// waits (0: runit's behaviour, a rotation waits for the running processor).
    pub queue: usize,
    /// `overload`: `None` leaves it to the command line (`-L` drops, otherwise block).
    pub overload: Option<Overload>,
    /// `T`: this directory's timestamp format, instead of the command line's.
    pub stamp: Option<Timestamp>,
    /// `copy`.
    pub copy: Option<Copy>,
    /// `metrics`: write the status file `svlogd.prom`.
    pub metrics: bool,
    /// `autoreload`: reload the directory when `config` changes.
    pub autoreload: bool,
}

impl Default for Extras {
    fn default() -> Extras {
        Extras {
            total_max: 0,
            age_max: None,
            gzip: None,
            queue: DEFAULT_QUEUE,
            overload: None,
            stamp: None,
            copy: None,
            metrics: false,
            autoreload: false,
        }
    }
}

/// What [`apply`] made of a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Not one of our lines.
    NotOurs,
    /// Applied.
    Applied,
    /// One of our lines, but its value does not parse.
    Invalid,
}

/// `s` without its leading blanks.
fn blanks(mut s: &[u8]) -> &[u8] {
    while let Some((&(b' ' | b'\t'), r)) = s.split_first() {
        s = r;
    }
    s
}

/// Splits `word rest` at the first blank; `rest` starts after the blanks.
fn word(line: &[u8]) -> (&[u8], &[u8]) {
    let end = line
        .iter()
        .position(|&b| b == b' ' || b == b'\t')
        .unwrap_or(line.len());
    (&line[..end], blanks(&line[end..]))
}

/// The value with trailing blanks and a `\r` removed.
fn value(rest: &[u8]) -> &[u8] {
    let mut v = rest;
    while let Some((&b, r)) = v.split_last() {
        if !matches!(b, b' ' | b'\t' | b'\r') {
            break;
        }
        v = r;
    }
    v
}

/// A byte count: digits and an optional `k`, `m` or `g` (powers of 1024), nothing else.
pub fn parse_size(v: &[u8]) -> Option<u64> {
    let (n, used) = scan_ulong(v);
    if used == 0 || used > 19 {
        return None;
    }
    let mult: u64 = match &v[used..] {
        b"" => 1,
        b"k" | b"K" => 1 << 10,
        b"m" | b"M" => 1 << 20,
        b"g" | b"G" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(mult)
}

/// A duration: digits and an optional `s`, `m`, `h` or `d` (seconds if none), nothing else.
pub fn parse_duration(v: &[u8]) -> Option<Duration> {
    let (n, used) = scan_ulong(v);
    if used == 0 || used > 19 {
        return None;
    }
    let mult: u64 = match &v[used..] {
        b"" | b"s" => 1,
        b"m" => 60,
        b"h" => 3600,
        b"d" => 86_400,
        _ => return None,
    };
    n.checked_mul(mult).map(Duration::from_secs)
}

/// Applies `line` (without its newline) to `x` if it is one of our lines.
pub fn apply(x: &mut Extras, line: &[u8]) -> Outcome {
    let Some(&first) = line.first() else {
        return Outcome::NotOurs;
    };
    let ok = |applied: bool| {
        if applied {
            Outcome::Applied
        } else {
            Outcome::Invalid
        }
    };
    if first == b'S' {
        let v = value(blanks(&line[1..]));
        return ok(parse_size(v).map(|n| x.total_max = n).is_some());
    }
    if first == b'T' {
        let v = value(blanks(&line[1..]));
        return ok(parse_stamp(v).map(|t| x.stamp = Some(t)).is_some());
    }
    let (w, rest) = word(line);
    match w {
        b"maxage" => ok(parse_duration(value(rest))
            .map(|d| x.age_max = (!d.is_zero()).then_some(d))
            .is_some()),
        b"compress" => {
            let (kind, level) = word(value(rest));
            match (kind, level) {
                (b"none" | b"off", b"") => {
                    x.gzip = None;
                    Outcome::Applied
                }
                (b"gzip", b"") => {
                    x.gzip = Some(DEFAULT_GZIP_LEVEL);
                    Outcome::Applied
                }
                (b"gzip", l) => match scan_ulong(l) {
                    (n @ 1..=9, 1) => {
                        x.gzip = Some(n as u32);
                        Outcome::Applied
                    }
                    _ => Outcome::Invalid,
                },
                _ => Outcome::Invalid,
            }
        }
        b"queue" => {
            let v = value(rest);
            match scan_ulong(v) {
                (n, used) if used > 0 && used == v.len() && n <= 1_000_000 => {
                    x.queue = n as usize;
                    Outcome::Applied
                }
                _ => Outcome::Invalid,
            }
        }
        b"overload" => match value(rest) {
            b"block" => {
                x.overload = Some(Overload::Block);
                Outcome::Applied
            }
            b"drop" => {
                x.overload = Some(Overload::Drop);
                Outcome::Applied
            }
            _ => Outcome::Invalid,
        },
        b"copy" => {
            // `copy stdout` (the default prefix), `copy stdout PREFIX` (kept as written,
            // trailing blanks included), `copy stdout ` (one blank: no prefix), `copy none`.
            let (to, after) = match line.get(5..) {
                Some(r) if line[4] == b' ' => {
                    let n = r
                        .iter()
                        .position(|&b| b == b' ' || b == b'\r')
                        .unwrap_or(r.len());
                    (&r[..n], &r[n..])
                }
                _ => return Outcome::Invalid,
            };
            let to = match to {
                b"stdout" => Stream::Stdout,
                b"stderr" => Stream::Stderr,
                b"none" if value(after).is_empty() => {
                    x.copy = None;
                    return Outcome::Applied;
                }
                _ => return Outcome::Invalid,
            };
            let prefix = match after {
                b"" | b"\r" => None,
                p => Some(p[1..].to_vec()),
            };
            x.copy = Some(Copy { to, prefix });
            Outcome::Applied
        }
        b"metrics" => ok(value(rest).is_empty() && {
            x.metrics = true;
            true
        }),
        b"autoreload" => ok(value(rest).is_empty() && {
            x.autoreload = true;
            true
        }),
        _ => Outcome::NotOurs,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(lines: &[&str]) -> (Extras, Vec<Outcome>) {
        let mut x = Extras::default();
        let o = lines.iter().map(|l| apply(&mut x, l.as_bytes())).collect();
        (x, o)
    }

    #[test]
    fn sizes_and_ages() {
        assert_eq!(parse_size(b"100"), Some(100));
        assert_eq!(parse_size(b"2k"), Some(2048));
        assert_eq!(parse_size(b"3m"), Some(3 << 20));
        assert_eq!(parse_size(b"1g"), Some(1 << 30));
        assert_eq!(parse_size(b"1x"), None);
        assert_eq!(parse_size(b""), None);
        assert_eq!(parse_size(b"99999999999999999999"), None);
        assert_eq!(parse_duration(b"90"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration(b"2h"), Some(Duration::from_secs(7200)));
        assert_eq!(parse_duration(b"7d"), Some(Duration::from_secs(604_800)));
        assert_eq!(parse_duration(b"7w"), None);
        let (x, o) = with(&["S10m", "maxage 7d", "S 5k\r"]);
        assert_eq!(o, vec![Outcome::Applied; 3]);
        assert_eq!(x.total_max, 5 << 10);
        assert_eq!(x.age_max, Some(Duration::from_secs(604_800)));
        let (x, o) = with(&["Sfoo", "maxage", "maxage 0"]);
        assert_eq!(o[..2], [Outcome::Invalid, Outcome::Invalid]);
        assert_eq!((x.total_max, x.age_max), (0, None));
    }

    #[test]
    fn words() {
        let (x, o) = with(&[
            "compress gzip",
            "queue 0",
            "overload drop",
            "Trfc3339",
            "metrics",
            "autoreload",
        ]);
        assert!(o.iter().all(|o| *o == Outcome::Applied), "{o:?}");
        assert_eq!(x.gzip, Some(6));
        assert_eq!(x.queue, 0);
        assert_eq!(x.overload, Some(Overload::Drop));
        assert_eq!(x.stamp, Some(Timestamp::Rfc3339));
        assert!(x.metrics && x.autoreload);
        let (x, _) = with(&["compress gzip 9", "T", "T none"]);
        assert_eq!(x.gzip, Some(9));
        assert_eq!(x.stamp, Some(Timestamp::None));
        let (_, o) = with(&[
            "compress zstd",
            "compress gzip 10",
            "queue -1",
            "overload maybe",
            "Tlocaltime",
            "metrics please",
        ]);
        assert!(o.iter().all(|o| *o == Outcome::Invalid), "{o:?}");
        // Not ours: runit ignores them, and so do we.
        let (_, o) = with(&["maximum 3", "compression gzip", "x", "", "Q"]);
        assert!(o.iter().all(|o| *o == Outcome::NotOurs), "{o:?}");
    }

    #[test]
    fn copy_prefixes() {
        let (x, _) = with(&["copy stdout"]);
        assert_eq!(
            x.copy,
            Some(Copy {
                to: Stream::Stdout,
                prefix: None
            })
        );
        let (x, _) = with(&["copy stderr web | "]);
        assert_eq!(x.copy.unwrap().prefix.as_deref(), Some(&b"web | "[..]));
        let (x, _) = with(&["copy stderr "]);
        assert_eq!(x.copy.unwrap().prefix.as_deref(), Some(&b""[..]));
        let (x, _) = with(&["copy stdout\r"]);
        assert_eq!(x.copy.unwrap().prefix, None);
        let (x, o) = with(&["copy stdout", "copy none"]);
        assert_eq!(o[1], Outcome::Applied);
        assert_eq!(x.copy, None);
        let (_, o) = with(&["copy", "copy tty", "copystdout"]);
        assert_eq!(o[..2], [Outcome::Invalid, Outcome::Invalid]);
        assert_eq!(o[2], Outcome::NotOurs);
    }

    #[test]
    fn first_bytes_are_unknown_to_runit() {
        // runit's directives: a line of ours must never start with one of them, or runit's
        // svlogd would take it for its own.
        let runit = b"#+-eEsnNt!uUp";
        let ours = [
            "S1",
            "T",
            "maxage 1",
            "compress gzip",
            "queue 1",
            "overload drop",
            "copy stdout",
            "metrics",
            "autoreload",
        ];
        for l in ours {
            // Every one is a line of ours (the list is not stale) ...
            assert_eq!(
                apply(&mut Extras::default(), l.as_bytes()),
                Outcome::Applied
            );
            assert!(!runit.contains(&l.as_bytes()[0]), "{l}");
        }
        // ... and none is taken with one of runit's bytes in front or in place of its first:
        // what the parser takes, not only the list, stays clear of runit's letters.
        for &b in runit {
            for l in ours {
                for tail in [l.as_bytes(), &l.as_bytes()[1..], b"", b"1", b" 1"] {
                    let line = [&[b][..], tail].concat();
                    assert_eq!(
                        apply(&mut Extras::default(), &line),
                        Outcome::NotOurs,
                        "{}",
                        String::from_utf8_lossy(&line)
                    );
                }
            }
        }
    }
}

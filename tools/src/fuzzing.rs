//! Property checks shared by the cargo-fuzz targets (`fuzz/`) and the corpus-replay test, so
//! both run exactly the same code. Each function panics when a property fails and must never
//! panic otherwise, whatever the input.

use crate::chpst::limits::{self, Soft};
use crate::chpst::uidgid::{parse_ext, LookupError};
use crate::localtime::{self, Renderer};
use crate::logs::{dir, since};
use crate::sv::action::{Act, Action};
use crate::tai64n::LocalFilter;

/// tai64nlocal: the streaming filter gives, for any chunking (the first byte picks it), the
/// same output as converting the input line by line; a stamp's moment is always valid.
pub fn tai64nlocal_filter(data: &[u8]) {
    let Some((&split, text)) = data.split_first() else {
        return;
    };
    let mut whole = Vec::new();
    let mut r = Renderer::new();
    for line in text.split_inclusive(|&c| c == b'\n') {
        r.line(line, &mut whole);
    }
    let mut f = LocalFilter::new();
    let mut got = Vec::new();
    let mut step = (split as usize % 64).max(1);
    let mut rest = text;
    while !rest.is_empty() {
        let n = step.min(rest.len());
        f.feed(&rest[..n], &mut got);
        rest = &rest[n..];
        step = step % 7 + 1;
    }
    f.finish(&mut got);
    assert_eq!(got, whole);
    if let Some(m) = localtime::line_moment(text) {
        assert!(m.nanos < 1_000_000_000);
    }
}

/// chpst's numeric `-u :uid:gid...`: never panics, and what parses renders back to a
/// specification that parses to the same ids.
pub fn chpst_uidgid(data: &[u8]) {
    let mut spec = b":".to_vec();
    spec.extend_from_slice(data);
    match parse_ext(&spec) {
        Ok(ug) => {
            assert!(!ug.gids.is_empty() && ug.gids.len() <= crate::chpst::uidgid::MAX_GROUPS);
            let mut again = format!(":{}", ug.uid);
            for g in &ug.gids {
                again.push_str(&format!(":{g}"));
            }
            assert_eq!(parse_ext(again.as_bytes()), Ok(ug));
        }
        Err(e) => assert_eq!(e, LookupError::Invalid(data.to_vec())),
    }
}

/// The log viewers' `--since` and archive names: never panic; an archive name parses only
/// with its 24 digits and a known suffix.
pub fn log_since(data: &[u8]) {
    if let Ok(text) = std::str::from_utf8(data) {
        let now = localtime::Moment {
            secs: 1_795_372_941,
            nanos: 0,
        };
        if let Some(m) = since::parse(text, now) {
            assert!(m.nanos < 1_000_000_000);
        }
    }
    if let Some(a) = dir::archive(data) {
        assert_eq!(&a.key[..], &data[..25]);
        assert!(data.len() == 27 || data.len() == 30);
    }
}

/// sv's command words: any word either is a usage error or gives a non-empty command string
/// of letters runsv (or sv's wait) knows, and only the status request sends nothing.
pub fn sv_action(data: &[u8]) {
    for (verbose, lsb) in [(false, false), (true, false), (false, true)] {
        if let Some(a) = Action::parse(data, verbose, lsb) {
            assert!(!a.acts.is_empty());
            assert!(a.acts.bytes().all(|c| b"udoxtkpchaiq12sC".contains(&c)));
            if a.act == Act::Status {
                assert!(!a.wait);
            }
            if a.kill {
                assert!(a.wait);
            }
        }
    }
}

/// What runit's chpst makes of its command line.
#[derive(Debug, Default)]
struct RunitChpst {
    /// `-u -U -b -e -/ -C`, in that order.
    strings: [Option<Vec<u8>>; 6],
    /// runit's `limitd limits limitl limita limito limitp limitf limitc limitr limitt`
    /// (`None`: its -2, not set).
    limits: [Option<u64>; 10],
    nice: i64,
    lock: Option<(Vec<u8>, bool)>,
    flags: [bool; 5],
    prog: Vec<Vec<u8>>,
}

/// The resources of runit's limit variables, in their order.
const RUNIT_LIMITS: [nix::sys::resource::Resource; 10] = {
    use nix::sys::resource::Resource as R;
    [
        R::RLIMIT_DATA,
        R::RLIMIT_STACK,
        R::RLIMIT_MEMLOCK,
        R::RLIMIT_AS,
        R::RLIMIT_NOFILE,
        R::RLIMIT_NPROC,
        R::RLIMIT_FSIZE,
        R::RLIMIT_CORE,
        R::RLIMIT_RSS,
        R::RLIMIT_CPU,
    ]
};

/// runit's way to read a limit's number: `if (optarg[scan_ulong(optarg, &ul)]) usage();`.
fn runit_number(arg: &[u8]) -> Option<u64> {
    let (v, n) = formats::scan::scan_ulong(arg);
    (n == arg.len()).then_some(v)
}

/// runit 2.1.2's chpst `main` up to its program (with Debian's `-C`), from its C. `Err`:
/// the usage, after sgetopt's message if there is one, or `Err(None)` twice over for `-V`.
#[allow(clippy::type_complexity)]
fn runit_chpst(words: &[&[u8]]) -> Result<RunitChpst, Option<Option<Vec<u8>>>> {
    use formats::fuzzing::sgetopt::{Scan, Step};
    let mut r = RunitChpst::default();
    let usage = || Err(Some(None));
    let mut g = Scan::new(words, b"u:U:b:e:m:d:o:p:f:c:r:t:/:C:n:l:L:vP012V");
    loop {
        let (c, arg) = match g.getopt() {
            Step::Done => break,
            Step::Problem(_, m) => return Err(Some(Some(m))),
            Step::Opt(c, arg) => (c, arg.unwrap_or_default()),
        };
        if let Some(i) = b"uUbe/C".iter().position(|&l| l == c) {
            r.strings[i] = Some(arg);
            continue;
        }
        // limitd, limito, limitp, limitf, limitc, limitr, limitt (limits, limitl and limita are
        // set by -m only).
        if let Some(i) = [
            (b'd', 0),
            (b'o', 4),
            (b'p', 5),
            (b'f', 6),
            (b'c', 7),
            (b'r', 8),
            (b't', 9),
        ]
        .iter()
        .find(|(l, _)| *l == c)
        .map(|(_, i)| *i)
        {
            let Some(ul) = runit_number(&arg) else {
                return usage();
            };
            r.limits[i] = Some(ul);
            continue;
        }
        match c {
            b'm' => {
                let Some(ul) = runit_number(&arg) else {
                    return usage();
                };
                for i in 0..4 {
                    r.limits[i] = Some(ul);
                }
            }
            b'n' => {
                let (neg, rest) = match arg.first() {
                    Some(b'-') => (true, &arg[1..]),
                    Some(b'+') => (false, &arg[1..]),
                    _ => (false, &arg[..]),
                };
                let Some(ul) = runit_number(rest) else {
                    return usage();
                };
                r.nice = if neg {
                    (ul as i64).wrapping_mul(-1)
                } else {
                    ul as i64
                };
            }
            b'l' | b'L' => {
                if r.lock.is_some() {
                    return usage();
                }
                r.lock = Some((arg, c == b'l'));
            }
            b'V' => return Err(None),
            _ => {
                let i = b"vP012".iter().position(|&l| l == c).expect("a flag");
                r.flags[i] = true;
            }
        }
    }
    r.prog = words[g.optind.min(words.len())..]
        .iter()
        .map(|w| w.to_vec())
        .collect();
    if r.prog.is_empty() {
        return usage();
    }
    Ok(r)
}

/// chpst's command line (the input's words between NUL bytes, argv[0] first) gives what
/// runit's chpst makes of it: the same refusals (usage with sgetopt's message or none, the
/// `-V` line), and otherwise the same settings and program, each limit resource ending with
/// the value runit's would set. Limit values (`-m -d -o -p -f -c -r -t`, `-n` after its
/// sign) are exactly the all-digit words, the empty one being 0, read modulo 2^64 as runit's
/// `unsigned long`; softlimit's values are those or `=`.
pub fn chpst_options(data: &[u8]) {
    use crate::chpst::{parse, Refused};
    use formats::getopt::progname;
    use std::ffi::{OsStr, OsString};
    use std::os::unix::ffi::OsStrExt;
    let argv = formats::fuzzing::argv_of(data);
    let words: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    for w in &words {
        let want = runit_number(w);
        assert_eq!(limits::parse_number(w), want);
        assert_eq!(
            want.is_some(),
            w.iter().all(u8::is_ascii_digit),
            "the numbers runit accepts"
        );
        let soft = if *w == b"=" {
            Some(Soft::Hard)
        } else {
            want.map(Soft::Value)
        };
        assert_eq!(limits::soft_value(w), soft);
    }
    let prog = progname(argv.first().map_or(OsStr::new("chpst"), |a| a.as_os_str()));
    let bytes = |o: &Option<OsString>| o.as_ref().map(|s| s.as_bytes().to_vec());
    match (runit_chpst(&words), parse(&argv, &prog)) {
        (Err(None), Err(Refused::Version)) => {}
        (Err(Some(None)), Err(Refused::Usage(None))) => {}
        (Err(Some(Some(m))), Err(Refused::Usage(Some(ours)))) => {
            formats::fuzzing::same_message(&ours, &m)
        }
        (Ok(r), Ok(plan)) => {
            let strings = [
                &plan.set_user,
                &plan.env_user,
                &plan.argv0,
                &plan.env_dir,
                &plan.root,
                &plan.pwd,
            ]
            .map(bytes);
            assert_eq!(strings, r.strings);
            for (res, want) in RUNIT_LIMITS.iter().zip(r.limits) {
                let last = plan.limits.iter().rev().find(|(p, _)| p == res);
                assert_eq!(last.map(|l| l.1), want, "{res:?}");
            }
            assert!(plan.limits.iter().all(|(p, _)| RUNIT_LIMITS.contains(p)));
            assert_eq!(plan.nice, r.nice);
            let lock = plan.lock.as_ref().map(|(f, w)| (f.as_bytes().to_vec(), *w));
            assert_eq!(lock, r.lock);
            let flags = [
                plan.verbose,
                plan.pgrp,
                plan.close[0],
                plan.close[1],
                plan.close[2],
            ];
            assert_eq!(flags, r.flags);
            let ours: Vec<&[u8]> = plan.prog.iter().map(|a| a.as_bytes()).collect();
            assert_eq!(ours, r.prog);
        }
        (runit, ours) => panic!("runit's chpst: {runit:?}, ours: {ours:?}, argv {argv:?}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn properties_hold_on_simple_inputs() {
        super::tai64nlocal_filter(b"\x05@400000006b0337972f6e0954 x\nplain\n");
        super::chpst_uidgid(b"1:2:3");
        super::chpst_uidgid(b"x");
        super::log_since(b"1h30m");
        super::log_since(b"@400000006b0337972f6e0954.s.gz");
        super::sv_action(b"force-restart");
        super::sv_action(b"status");
        super::chpst_options(b"chpst\0-v\0-u\0nobody\0-o5\0-m\0\0-n+3\0prog\0-x");
        super::chpst_options(b"chpst\0-n\0-9223372036854775808\0-m18446744073709551621\0t");
        super::chpst_options(b"/usr/bin/chpst\0-x\0t");
        super::chpst_options(b"chpst\0-l\0a\0-L\0b\0t");
        super::chpst_options(b"chpst\0-V");
        super::chpst_options(b"chpst\0-o\0=\0t");
        super::chpst_options(b"chpst\0-t");
    }
}

//! Property checks of the formats shared by the cargo-fuzz targets (`fuzz/`: `status_decode`,
//! `control_bytes`, `tai64n_parse`, `getopt`, `archive_name`, `numbers`) and the corpus-replay
//! test that the test command runs, so both exercise exactly the same code. Each function
//! panics when a property fails; it must never panic otherwise, whatever the input.
//!
//! [`sgetopt`] is runit's option scanner redone step by step from its C, the reference the
//! command-line targets (here and in svlogd's and the tools' `fuzzing`) compare with.

use crate::archive::{self, Name, Suffix};
use crate::control::Command;
use crate::getopt::{progname, Getopt, Opt};
use crate::scan::scan_ulong;
use crate::status::{Status, DAEMONTOOLS_LEN, RUNIT_LEN};
use crate::svdir::{parse_number, NumberError};
use crate::tai64n::Tai64n;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// Status records: decoding never panics, accepts exactly the 18- and 20-byte sizes, and a
/// decoded record encodes back to the same bytes (up to the 0/1 normalisation of the flags).
pub fn status_decode(data: &[u8]) {
    match Status::decode(data) {
        None => assert!(data.len() != RUNIT_LEN && data.len() != DAEMONTOOLS_LEN),
        Some(st) => {
            let enc = st.encode();
            assert_eq!(&enc[..16], &data[..16]);
            assert_eq!(enc[16], (data[16] != 0) as u8);
            assert_eq!(enc[17], data[17]);
            if data.len() == RUNIT_LEN {
                assert_eq!(enc[18], (data[18] != 0) as u8);
                assert_eq!(enc[19], data[19]);
            }
            assert_eq!(Status::decode(&enc), Some(st));
        }
    }
}

/// Control bytes: every byte either decodes to a command that encodes back to it, or is
/// ignored; only the pure signal commands carry a signal.
pub fn control_bytes(data: &[u8]) {
    for &b in data {
        if let Some(c) = Command::from_byte(b) {
            assert_eq!(c.byte(), b);
            let is_signal = !matches!(
                c,
                Command::Up | Command::Down | Command::Once | Command::Exit
            );
            assert_eq!(c.signal().is_some(), is_signal);
        }
    }
}

/// TAI64N text: parsing never panics, and whatever parses renders back to the same digits
/// (lowercased); packing round-trips.
pub fn tai64n_parse(data: &[u8]) {
    let text = data.strip_prefix(b"@").unwrap_or(data);
    if let Some(t) = Tai64n::parse_hex(text) {
        assert_eq!(t.to_hex().as_bytes(), text.to_ascii_lowercase().as_slice());
        assert_eq!(Tai64n::unpack(&t.pack()), t);
    }
    if data.len() >= 12 {
        let mut b = [0u8; 12];
        b.copy_from_slice(&data[..12]);
        assert_eq!(Tai64n::unpack(&b).pack(), b);
    }
}

/// A command line from fuzz input: the words between NUL bytes (a C argv has no NUL in a
/// word), argv[0] first.
pub fn argv_of(data: &[u8]) -> Vec<OsString> {
    data.split(|&b| b == 0)
        .map(|w| OsStr::from_bytes(w).to_os_string())
        .collect()
}

/// runit's (djb's public-domain) `sgetopt`, transliterated from its C: `subgetopt` and the
/// `getopt` wrapper that prints the messages. It keeps C's state (`optind`, `optpos`) and
/// reads a word past its end as C reads the NUL there. The reference for the getopt target
/// and for the svlogd and chpst command-line targets.
pub mod sgetopt {
    /// What one call of `getopt` returns.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Step {
        /// `opteof`: no more options.
        Done,
        /// An option letter and `optarg` (set only for a letter followed by `:`).
        Opt(u8, Option<Vec<u8>>),
        /// `'?'`: `optproblem`, and the message sgetopt prints (without its newline).
        Problem(u8, Vec<u8>),
    }

    /// One scan of `argv` (argv\[0\] included) for `opts`.
    pub struct Scan<'a> {
        argv: &'a [&'a [u8]],
        opts: &'a [u8],
        /// `optind`.
        pub optind: usize,
        optpos: usize,
    }

    /// `s[i]`, with the terminating NUL (and what lies beyond, never read by sgetopt) as 0.
    fn at(s: &[u8], i: usize) -> u8 {
        s.get(i).copied().unwrap_or(0)
    }

    impl<'a> Scan<'a> {
        /// `optind = 1`, `optpos = 0`.
        pub fn new(argv: &'a [&'a [u8]], opts: &'a [u8]) -> Scan<'a> {
            Scan {
                argv,
                opts,
                optind: 1,
                optpos: 0,
            }
        }

        /// One call of `getopt(argc, argv, opts)`.
        pub fn getopt(&mut self) -> Step {
            let argc = self.argv.len();
            let c = self.subgetopt();
            match c {
                Err(problem) => {
                    let mut m = super::progname_bytes(self.argv.first().copied().unwrap_or(b""));
                    // sgetopt: `if (argv[optind] && (optind < argc))`.
                    if self.optind < argc {
                        m.extend_from_slice(b": illegal option -- ");
                    } else {
                        m.extend_from_slice(b": option requires an argument -- ");
                    }
                    m.push(problem);
                    Step::Problem(problem, m)
                }
                Ok(step) => step,
            }
        }

        fn subgetopt(&mut self) -> Result<Step, u8> {
            let argc = self.argv.len();
            if self.optind >= argc {
                return Ok(Step::Done);
            }
            if self.optpos != 0 && at(self.argv[self.optind], self.optpos) == 0 {
                self.optind += 1;
                self.optpos = 0;
                if self.optind >= argc {
                    return Ok(Step::Done);
                }
            }
            let word = self.argv[self.optind];
            if self.optpos == 0 {
                if at(word, 0) != b'-' {
                    return Ok(Step::Done);
                }
                self.optpos += 1;
                let c = at(word, 1);
                if c == b'-' || c == 0 {
                    if c != 0 {
                        self.optind += 1;
                    }
                    self.optpos = 0;
                    return Ok(Step::Done);
                }
            }
            let c = at(word, self.optpos);
            self.optpos += 1;
            let mut s = 0;
            while at(self.opts, s) != 0 {
                if c == self.opts[s] {
                    if at(self.opts, s + 1) == b':' {
                        let mut optarg = &word[self.optpos..];
                        self.optind += 1;
                        self.optpos = 0;
                        if optarg.is_empty() {
                            if self.optind >= argc {
                                return Err(c);
                            }
                            optarg = self.argv[self.optind];
                            self.optind += 1;
                        }
                        return Ok(Step::Opt(c, Some(optarg.to_vec())));
                    }
                    return Ok(Step::Opt(c, None));
                }
                s += 1;
                if at(self.opts, s) == b':' {
                    s += 1;
                }
            }
            Err(c)
        }
    }
}

/// sgetopt's program name: argv\[0\] after its last `/`, as bytes.
fn progname_bytes(argv0: &[u8]) -> Vec<u8> {
    match argv0.iter().rposition(|&c| c == b'/') {
        Some(i) => argv0[i + 1..].to_vec(),
        None => argv0.to_vec(),
    }
}

/// Our message for a getopt error against sgetopt's bytes. They are the same text; ours is a
/// `String`, so a program name that is not UTF-8, or an option byte beyond ASCII (printed as
/// the character of that code), is rendered differently: compared as such.
pub fn same_message(ours: &str, runit: &[u8]) {
    let (head, c) = runit.split_at(runit.len() - 1);
    let mut want = String::from_utf8_lossy(head).into_owned();
    want.push(c[0] as char);
    assert_eq!(ours, want);
}

/// The option strings of the toolkit's programs (svlogd, chpst, sv, svc, setlock, softlimit,
/// p_log, w_log, svactivate).
const SPECS: [&str; 9] = [
    "R:r:l:b:T:tvVLC",
    "u:U:b:e:m:d:o:p:f:c:r:t:/:C:n:l:L:vP012V",
    "w:vV",
    "udopchaitkxq12",
    "nNxX",
    "a:c:d:f:l:m:o:p:r:s:t:",
    "mPd:s:",
    "md:n:s:",
    "asvi:d:L:w:",
];

/// getopt: for the programs' option strings and for any well-formed one (the first word of
/// the input; no `:` first, no `::`), our scanner takes the same steps as runit's sgetopt,
/// with the same arguments, messages and first operand. Every letter it returns is in the
/// option string, with an argument exactly when the letter is followed by `:`; it never
/// reads past argv. The strict form (the toolkit's own commands) takes the same steps up to a
/// word starting with `--`, which it scans as letters instead of ending there.
pub fn getopt(data: &[u8]) {
    let mut words = data.split(|&b| b == 0);
    let first = words.next().unwrap_or(b"");
    let argv: Vec<OsString> = words.map(|w| OsStr::from_bytes(w).to_os_string()).collect();
    let mut specs: Vec<&str> = SPECS.to_vec();
    if let Ok(spec) = std::str::from_utf8(first) {
        if !spec.starts_with(':') && !spec.contains("::") {
            specs.push(spec);
        }
    }
    for spec in specs {
        getopt_with(&argv, spec);
    }
}

fn getopt_with(argv: &[OsString], spec: &str) {
    let words: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    let prog = argv.first().map(|a| progname(a)).unwrap_or_default();
    let in_spec = |c: u8| spec.as_bytes().contains(&c);
    let mut reference = sgetopt::Scan::new(&words, spec.as_bytes());
    let mut g = Getopt::new(argv, spec);
    let mut steps = Vec::new();
    // The error step that ends the scan (a program stops there), if any.
    let error = loop {
        let want = reference.getopt();
        let got = g.next();
        match (&got, &want) {
            (None, sgetopt::Step::Done) => break None,
            (Some(Opt::Flag(c, arg)), sgetopt::Step::Opt(rc, rarg)) => {
                assert_eq!(c, rc);
                assert_eq!(arg.as_ref().map(|a| a.as_bytes()), rarg.as_deref());
                let i = spec
                    .bytes()
                    .position(|s| s == *c)
                    .expect("a letter of the spec");
                assert_eq!(arg.is_some(), spec.as_bytes().get(i + 1) == Some(&b':'));
            }
            (Some(o @ Opt::Illegal(c)), sgetopt::Step::Problem(rc, m))
            | (Some(o @ Opt::MissingArg(c)), sgetopt::Step::Problem(rc, m)) => {
                assert_eq!(c, rc);
                match o {
                    Opt::Illegal(c) => assert!(!in_spec(*c) || *c == b':'),
                    _ => assert!(in_spec(*c)),
                }
                same_message(&o.error_message(&prog).expect("an error"), m);
                break Some(o.clone());
            }
            _ => panic!("ours {got:?}, runit's {want:?}, spec {spec:?}, argv {argv:?}"),
        }
        steps.push(got.expect("a step"));
        assert!(steps.len() <= words.iter().map(|w| w.len()).sum::<usize>());
    };
    if error.is_none() {
        assert_eq!(g.optind, reference.optind);
        assert_eq!(g.operands(), &argv[reference.optind.min(argv.len())..]);
    }
    // Strict: the same steps, unless a `--word` ended the scan.
    let mut strict = Getopt::new(argv, spec).strict();
    for s in &steps {
        assert_eq!(strict.next().as_ref(), Some(s));
    }
    let next = strict.next();
    match (error, next) {
        (Some(e), next) => assert_eq!(next, Some(e)),
        (None, None) => assert_eq!(strict.optind, g.optind),
        (None, Some(next)) => {
            let ended_on = words[reference.optind - 1];
            assert!(
                ended_on.len() > 2 && ended_on.starts_with(b"--"),
                "{next:?}"
            );
            assert!(matches!(
                next,
                Opt::Flag(b'-', _) | Opt::Illegal(b'-') | Opt::MissingArg(b'-')
            ));
        }
    }
}

/// The suffixes of archive names, as text.
const SUFFIXES: [(Suffix, &[u8]); 6] = [
    (Suffix::Saved, b".s"),
    (Suffix::SavedGz, b".s.gz"),
    (Suffix::UnfinishedGz, b".u.gz"),
    (Suffix::Unfinished, b".u"),
    (Suffix::Processing, b".t"),
    (Suffix::GzTemp, b".s.gz.tmp"),
];

/// Archive names: a name parses exactly when it is `@`, 24 lowercase hex digits and one of
/// the six suffixes, and gives back its label and suffix; a parsed name renders back to the
/// same bytes, under any suffix it parses back to itself, and its 27-byte forms parse; a
/// label is exactly 24 lowercase hex digits. The label of a new file is the clock's when it
/// is greater than the newest in the directory, and greater than the newest otherwise.
pub fn archive_name(data: &[u8]) {
    let reference = (data.len() >= 25 && data[0] == b'@')
        .then(|| &data[1..25])
        .filter(|l| {
            l.iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c))
        })
        .and_then(|l| {
            let s = SUFFIXES.iter().find(|(_, t)| &data[25..] == *t)?;
            Some((<[u8; 24]>::try_from(l).expect("24 digits"), s.0))
        });
    let parsed = Name::parse(data);
    assert_eq!(parsed.map(|n| (n.label, n.suffix)), reference);
    assert_eq!(archive::label_of(data), reference.map(|r| r.0));
    if let Some(n) = parsed {
        name_properties(n);
    }
    // Any 12 bytes as a label, any suffix: a name that must parse.
    if let Some((b, rest)) = data.split_first_chunk::<12>() {
        let t = Tai64n::unpack(b);
        let mut label = [0u8; 24];
        t.write_hex(&mut label);
        let suffix = SUFFIXES[rest.first().map_or(0, |&c| c as usize % 6)].0;
        let n = Name { label, suffix };
        assert_eq!(Name::parse(&n.to_bytes()), Some(n));
        name_properties(n);
        // next_label, with the rest as the newest label in the directory.
        let newest = rest.get(1..25).and_then(archive::label);
        let got = archive::next_label(t, newest);
        assert!(archive::label(&got).is_some());
        match newest {
            Some(newest) if label <= newest => {
                let n = Tai64n::parse_hex(&newest).expect("a label");
                // A label of the last second of 2^64 has no successor (it wraps to 0).
                if n.secs != u64::MAX || n.nanos < 999_999_999 {
                    assert!(got > newest);
                }
            }
            _ => assert_eq!(got, label),
        }
    }
}

fn name_properties(n: Name) {
    let bytes = n.to_bytes();
    assert_eq!(bytes[0], b'@');
    assert_eq!(&bytes[1..25], &n.label);
    assert_eq!(&bytes[25..], n.suffix.text());
    assert_eq!(Name::parse(&bytes), Some(n));
    assert_eq!(archive::label(&n.label), Some(n.label));
    for (s, _) in SUFFIXES {
        let m = n.with(s);
        assert_eq!(Name::parse(&m.to_bytes()), Some(m));
        assert_eq!(m.label, n.label);
        assert_eq!(m.cmp(&n), s.cmp(&n.suffix));
        assert_eq!(
            s.is_log(),
            matches!(s, Suffix::Saved | Suffix::SavedGz | Suffix::Unfinished)
        );
    }
    for (letter, s) in [
        (b's', Suffix::Saved),
        (b'u', Suffix::Unfinished),
        (b't', Suffix::Processing),
    ] {
        let short = archive::short_name(&n.label, letter);
        assert_eq!(Name::parse(&short), Some(n.with(s)));
    }
}

/// The number readers. scan_ulong takes the leading digits, however many, and their value
/// modulo 2^64 (runit's `unsigned long`); on digits that fit it is the decimal value. A
/// setting file's number (`svdir::parse_number`) is its digits after spaces and tabs, refused
/// without digits, and refused beyond 64 bits where scan_ulong would wrap.
pub fn numbers(data: &[u8]) {
    let n = data.iter().take_while(|c| c.is_ascii_digit()).count();
    let digits = &data[..n];
    // The value as a sum of digit * 10^k, each term modulo 2^64.
    let wrapped = digits.iter().rev().enumerate().fold(0u64, |v, (k, d)| {
        let pow = 10u64.wrapping_pow(u32::try_from(k).unwrap_or(u32::MAX));
        v.wrapping_add(u64::from(d - b'0').wrapping_mul(pow))
    });
    let (value, len) = scan_ulong(data);
    assert_eq!((value, len), (wrapped, n));
    let exact = exact_value(digits);
    if let Some(v) = exact {
        assert_eq!(value, v);
    }
    let blanks = data
        .iter()
        .take_while(|c| **c == b' ' || **c == b'\t')
        .count();
    let after = &data[blanks..];
    let k = after.iter().take_while(|c| c.is_ascii_digit()).count();
    let want = if k == 0 {
        Err(NumberError::NoDigits)
    } else {
        exact_value(&after[..k]).ok_or(NumberError::TooLarge)
    };
    assert_eq!(parse_number(data), want);
}

/// The value of decimal digits if it fits 64 bits (the digits' text, without leading zeros,
/// compared with u64::MAX's).
fn exact_value(digits: &[u8]) -> Option<u64> {
    let start = digits
        .iter()
        .position(|&c| c != b'0')
        .unwrap_or(digits.len());
    let sig = &digits[start..];
    let max = u64::MAX.to_string();
    if sig.len() > max.len() || (sig.len() == max.len() && sig > max.as_bytes()) {
        return None;
    }
    if sig.is_empty() {
        return Some(0);
    }
    Some(
        std::str::from_utf8(sig)
            .ok()?
            .parse()
            .expect("20 digits at most"),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn properties_hold_on_simple_inputs() {
        super::status_decode(&[0u8; 20]);
        super::status_decode(&[0xffu8; 18]);
        super::status_decode(b"short");
        super::control_bytes(b"udoxtkpchaiq12es\n");
        super::tai64n_parse(b"@400000006b0337972f6e0954");
        super::tai64n_parse(b"400000006B0337972F6E0954");
        super::getopt(b"ab:c\0prog\0-ab\0x\0-c\0--\0op");
        super::getopt(b"\0/bin/svlogd\0-ttv\0-l\x005\0--check\0d\0-t");
        super::getopt(b"x:\0p\0-x");
        super::getopt(b"x\0p\0-y\0-:\0-\0");
        super::archive_name(b"@400000006b0337972f6e0954.s.gz");
        super::archive_name(b"@400000006B0337972f6e0954.s");
        super::archive_name(b"0123456789ab\x02400000006b0337972f6e0954");
        super::archive_name(b"\xff\xff\xff\xff\xff\xff\xff\xff\x3b\x9a\xc9\xff\x00");
        super::numbers(b"18446744073709551616");
        super::numbers(b" \t00018446744073709551615\n");
        super::numbers(b"123abc");
        super::numbers(b"");
    }
}

//! The per-directory `config` file (spec/svlogd.md §3), parsed with no I/O.
//!
//! [`parse`] turns the file's bytes into a [`Config`] (every setting, defaults first) plus the
//! warnings runit prints for it, and keeps every line with what it meant ([`Config::lines`]), so
//! a later check mode can name the lines svlogd ignores.
//!
//! runit's reading, kept on purpose: the first byte of a line picks the directive, with no
//! whitespace allowed before it; unknown lines are silently ignored; numbers are decimal
//! prefixes (`s1k` = 1024, `sfoo` = 0, wrapping on overflow); a final one-byte line with no
//! newline is skipped; a `\r` is kept as part of a pattern, prefix or processor. runit stores
//! these strings C-style, so a NUL byte ends a prefix or processor, and inside a pattern line it
//! starts another pattern entry.
//!
//! Deliberate differences (spec §12 item 8 and beyond): a `u`/`U` line that does not parse is
//! an invalid line that changes nothing (runit had already set "UDP only" for `U`, so every
//! selected line went nowhere, and a half-parsed address overwrote the previous target); a port
//! that is 0 modulo 65536 is refused with the port warning; and `u`/`U` also accept an IPv6
//! address in brackets, `u[::1]:514`.
//!
//! # Every directive
//!
//! | line | meaning | default |
//! |---|---|---|
//! | `s<size>` | rotate `current` at this many bytes (`k`, `m` suffixes) | `s1000000` |
//! | `n<num>` | keep at most this many archives (0: no limit) | `n10` |
//! | `N<min>` | on a full disk, delete archives while more than this many remain | `N10` |
//! | `t<secs>` | rotate a non-empty `current` this often (`m`, `h` suffixes) | off |
//! | `!<cmd>` | processor for rotated files, `/bin/sh -c` | none |
//! | `u<addr>` / `U<addr>` | also / only send selected lines by UDP | none |
//! | `p<prefix>` | prefix every line | none |
//! | `+` `-` `e` `E` `<glob>` | select for the log / for stderr | all to the log |
//! | **additions** ([`added`]) | | |
//! | `S<size>` | the archives may hold this many bytes in all (`k`, `m`, `g`; s6-log's `S`) | no limit |
//! | `maxage <age>` | delete archives older than this (`s`, `m`, `h`, `d`) | no limit |
//! | `compress gzip [1-9]` | gzip rotated files into `@….s.gz` on a worker thread | off |
//! | `queue <num>` | rotated files that may wait for a busy processor (0: wait as runit) | 4 |
//! | `overload block` / `overload drop` | when the directory cannot keep up: wait, or drop and count | `block` (`drop` with `-L`) |
//! | `T<format>` | timestamp format: `none` `tai64n` `utc` `iso` `local` `rfc3339` `rfc3339ns` | the command line's |
//! | `copy stdout` / `copy stderr [prefix]` | also copy selected lines there, with a prefix | off; prefix `SERVICE \| ` |
//! | `metrics` | keep the status file `svlogd.prom` (Prometheus text format) | off |
//! | `autoreload` | reload the directory when `config` changes | off |
//! | `~+` `~-` `~e` `~E` `<regex>` | select by regular expression ([`regexp`]), in order with the globs | none |
//! | `>udp` `>tcp` `>tls` `>pri` `>spool` | syslog forwarding (`forward::config`) | none |
//!
//! An empty line or one starting with `#` is a comment; any other line is ignored, as runit
//! ignores it (`svlogd -C` names it, with its number).

pub mod added;
pub mod regexp;
pub mod warning;

use crate::forward::config::{self as forward, ForwardConfig};
use crate::pmatch::pmatch;
use added::Extras;
use formats::scan::scan_ulong;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
pub use warning::Warning;

/// Default `s`: rotate at 1,000,000 bytes.
pub const DEFAULT_SIZEMAX: u64 = 1_000_000;
/// Default `n`: keep 10 old files.
pub const DEFAULT_NMAX: u64 = 10;
/// Default `N`: on a full disk, delete old files only while more than 10 remain.
pub const DEFAULT_NMIN: u64 = 10;
/// Default UDP port when `u`/`U` names none.
pub const DEFAULT_UDP_PORT: u16 = 514;

/// What a pattern line does when its pattern matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `+`: select the line for the log.
    Select,
    /// `-`: deselect it.
    Deselect,
    /// `e`: select it for stderr.
    Alert,
    /// `E`: deselect it for stderr.
    NoAlert,
}

impl Action {
    /// The action a pattern line's first byte names (`+`, `-`, `e`, `E`).
    pub fn from_byte(b: u8) -> Option<Action> {
        match b {
            b'+' => Some(Action::Select),
            b'-' => Some(Action::Deselect),
            b'e' => Some(Action::Alert),
            b'E' => Some(Action::NoAlert),
            _ => None,
        }
    }
}

/// The selection lines, in file order: runit's globs (`+`/`-`/`e`/`E`) and our regular
/// expressions (`~+`/`~-`/`~e`/`~E`, see [`regexp`]). Every glob's bytes are in one buffer, so
/// that a config of half a million patterns takes about its own size in memory, not several
/// times it.
#[derive(Debug, Clone, Default)]
pub struct Patterns {
    /// The globs, one after the other.
    bytes: Vec<u8>,
    /// Each pattern: its action and how it matches.
    items: Vec<(Action, Matcher)>,
    /// The compiled regular expressions.
    regexes: Vec<regexp::Regexp>,
}

/// How one pattern matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Matcher {
    /// runit's glob: where it is in the buffer.
    Glob(u32, u32),
    /// A regular expression: which one.
    Regex(u32),
}

/// One pattern as [`Patterns::iter`] shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pattern<'a> {
    /// runit's glob.
    Glob(&'a [u8]),
    /// A regular expression, as written.
    Regex(&'a str),
}

impl PartialEq for Patterns {
    fn eq(&self, other: &Patterns) -> bool {
        self.iter().eq(other.iter())
    }
}

impl Eq for Patterns {}

impl Patterns {
    /// Adds a glob (a config larger than 4 GiB is not read: the offsets are 32 bits).
    pub fn push(&mut self, action: Action, glob: &[u8]) {
        let (Ok(start), Ok(len)) = (u32::try_from(self.bytes.len()), u32::try_from(glob.len()))
        else {
            return;
        };
        self.bytes.extend_from_slice(glob);
        self.items.push((action, Matcher::Glob(start, len)));
    }

    /// Adds a regular expression.
    pub fn push_regex(&mut self, action: Action, re: regexp::Regexp) {
        let Ok(k) = u32::try_from(self.regexes.len()) else {
            return;
        };
        self.regexes.push(re);
        self.items.push((action, Matcher::Regex(k)));
    }

    /// Whether there is none.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Each pattern's action and what it is, in file order.
    pub fn iter(&self) -> impl Iterator<Item = (Action, Pattern<'_>)> {
        self.items.iter().map(|&(a, m)| (a, self.pattern(m)))
    }

    fn pattern(&self, m: Matcher) -> Pattern<'_> {
        match m {
            Matcher::Glob(start, len) => {
                Pattern::Glob(&self.bytes[start as usize..(start + len) as usize])
            }
            Matcher::Regex(k) => Pattern::Regex(self.regexes[k as usize].source()),
        }
    }

    /// Texts one of which a line's head must contain for any pattern to match it; `None`
    /// when there are no patterns or one shows no such text (runit's globs, an expression
    /// without a required text). See `crate::prefilter`.
    pub fn needles(&self) -> Option<Vec<&[u8]>> {
        if self.items.is_empty() {
            return None;
        }
        let mut all = Vec::new();
        for &(_, m) in &self.items {
            match m {
                Matcher::Glob(..) => return None,
                Matcher::Regex(k) => all.extend(self.regexes[k as usize].needles()?),
            }
        }
        Some(all)
    }

    /// Whether pattern `m` matches `text`.
    #[inline]
    fn matches(&self, m: Matcher, text: &[u8]) -> bool {
        match m {
            Matcher::Glob(start, len) => {
                pmatch(&self.bytes[start as usize..(start + len) as usize], text)
            }
            Matcher::Regex(k) => self.regexes[k as usize].is_match(text),
        }
    }
}

/// Where a line goes, after every pattern has been tried (the last match wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Selection {
    /// Selected for the log (and UDP).
    pub log: bool,
    /// Selected for stderr.
    pub alert: bool,
}

/// What one line of the file meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Meaning {
    /// Empty line.
    Blank,
    /// `#...`.
    Comment,
    /// `s`, `n`, `N`, `t`, `!`, `p`, `u`/`U` or a pattern, applied.
    Setting,
    /// A directive runit ignores as written (`!` or `p` with nothing after it, a final
    /// one-byte line without newline).
    Ignored,
    /// A first byte that is no directive; runit ignores it without a word.
    Unknown,
    /// A line refused with a warning (bad `u`/`U` address or port).
    Invalid,
}

/// One line of the file as read, and what it meant (for `svlogd -C`; a running svlogd keeps
/// none of them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// 1-based line number.
    pub number: usize,
    /// Where its bytes (without the newline) are in the file.
    pub text: std::ops::Range<usize>,
    /// How it was read.
    pub meaning: Meaning,
}

/// Every per-directory setting; [`Config::default`] is what a directory without `config` gets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `s`: rotate `current` at this size in bytes; 0 = never by size.
    pub sizemax: u64,
    /// `n`: keep at most this many old files; 0 = never delete.
    pub nmax: u64,
    /// `N`: on ENOSPC, delete old files only while more than this many remain.
    pub nmin: u64,
    /// `t`: rotate a non-empty `current` this many seconds after the config was read; 0 = off.
    pub tmax: u64,
    /// `!`: the processor command line for `/bin/sh -c`.
    pub processor: Option<Vec<u8>>,
    /// `u`/`U`: where selected lines are also sent.
    pub udp: Option<SocketAddr>,
    /// `U`: selected lines go to UDP only, not to `current`.
    pub udp_only: bool,
    /// `p`: written before every line (log, stderr, UDP), after the timestamp.
    pub prefix: Vec<u8>,
    /// The pattern lines, in file order.
    pub patterns: Patterns,
    /// Our additions (see [`added`]).
    pub extras: Extras,
    /// `>` lines: syslog forwarding (see `forward::config`).
    pub forward: ForwardConfig,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            sizemax: DEFAULT_SIZEMAX,
            nmax: DEFAULT_NMAX,
            nmin: DEFAULT_NMIN,
            tmax: 0,
            processor: None,
            udp: None,
            udp_only: false,
            prefix: Vec::new(),
            patterns: Patterns::default(),
            extras: Extras::default(),
            forward: ForwardConfig::default(),
        }
    }
}

impl Config {
    /// Runs every pattern over `text` (the first `-l` bytes of a line, after replacement);
    /// the last match of each kind wins. With no patterns: log yes, stderr no.
    pub fn select(&self, text: &[u8]) -> Selection {
        let mut sel = Selection {
            log: true,
            alert: false,
        };
        for &(action, m) in &self.patterns.items {
            if self.patterns.matches(m, text) {
                match action {
                    Action::Select => sel.log = true,
                    Action::Deselect => sel.log = false,
                    Action::Alert => sel.alert = true,
                    Action::NoAlert => sel.alert = false,
                }
            }
        }
        sel
    }
}

/// Bytes up to (not including) the first NUL, as a C string reads them.
fn c_str(b: &[u8]) -> &[u8] {
    match memchr::memchr(0, b) {
        Some(i) => &b[..i],
        None => b,
    }
}

/// Parses a whole `config` file.
pub fn parse(data: &[u8]) -> (Config, Vec<Warning>) {
    let mut cfg = Config::default();
    let mut warnings = Vec::new();
    let mut number = 0;
    each_line(data, |text, last| {
        number += 1;
        if !last {
            apply_numbered(&mut cfg, &mut warnings, text, number);
        }
    });
    (cfg, warnings)
}

/// Parses a whole `config` file as [`parse`] does, and tells what each line meant.
pub fn parse_lines(data: &[u8]) -> (Config, Vec<Warning>, Vec<Line>) {
    let mut cfg = Config::default();
    let mut warnings = Vec::new();
    let mut lines = Vec::new();
    let mut start = 0;
    each_line(data, |text, last| {
        let meaning = if last {
            Meaning::Ignored
        } else {
            apply_numbered(&mut cfg, &mut warnings, text, lines.len() + 1)
        };
        lines.push(Line {
            number: lines.len() + 1,
            text: start..start + text.len(),
            meaning,
        });
        start += text.len() + 1;
    });
    (cfg, warnings, lines)
}

/// Calls `f` with each line of `data` (without its newline) and whether runit skips it: its
/// loop never looks at a line that starts on the file's last byte.
fn each_line(data: &[u8], mut f: impl FnMut(&[u8], bool)) {
    let mut start = 0;
    while start < data.len() {
        let len = memchr::memchr(b'\n', &data[start..]).unwrap_or(data.len() - start);
        f(&data[start..start + len], start + 1 >= data.len());
        start += len + 1;
    }
}

/// Applies line `number` (without its newline) to `cfg`; its warnings get the number.
fn apply_numbered(
    cfg: &mut Config,
    warnings: &mut Vec<Warning>,
    line: &[u8],
    number: usize,
) -> Meaning {
    let before = warnings.len();
    let meaning = apply(cfg, warnings, line);
    for w in &mut warnings[before..] {
        w.line = number;
    }
    meaning
}

/// Applies one line (without its newline) to `cfg`.
fn apply(cfg: &mut Config, warnings: &mut Vec<Warning>, line: &[u8]) -> Meaning {
    let Some(&first) = line.first() else {
        return Meaning::Blank;
    };
    let rest = &line[1..];
    match first {
        b'#' => Meaning::Comment,
        b'+' | b'-' | b'e' | b'E' => {
            // runit keeps each pattern C-style: a NUL ends it, and what follows the NUL is
            // read as another pattern entry (its first byte picks the action again).
            let mut piece = line;
            loop {
                let end = memchr::memchr(0, piece).unwrap_or(piece.len());
                if let Some(action) = piece.first().and_then(|&b| Action::from_byte(b)) {
                    if end > 0 {
                        cfg.patterns.push(action, &piece[1..end]);
                    }
                }
                if end >= piece.len() {
                    break;
                }
                piece = &piece[end + 1..];
            }
            Meaning::Setting
        }
        b's' => {
            let (mut v, n) = scan_ulong(rest);
            match rest.get(n) {
                Some(b'm') => v = v.wrapping_mul(1024 * 1024),
                Some(b'k') => v = v.wrapping_mul(1024),
                _ => {}
            }
            cfg.sizemax = v;
            Meaning::Setting
        }
        b'n' => {
            cfg.nmax = scan_ulong(rest).0;
            Meaning::Setting
        }
        b'N' => {
            cfg.nmin = scan_ulong(rest).0;
            Meaning::Setting
        }
        b't' => {
            let (mut v, n) = scan_ulong(rest);
            match rest.get(n) {
                Some(b'h') => v = v.wrapping_mul(3600),
                Some(b'm') => v = v.wrapping_mul(60),
                _ => {}
            }
            cfg.tmax = v;
            Meaning::Setting
        }
        b'!' => {
            if rest.is_empty() {
                return Meaning::Ignored;
            }
            cfg.processor = Some(c_str(rest).to_vec());
            Meaning::Setting
        }
        b'p' => {
            if rest.is_empty() {
                return Meaning::Ignored;
            }
            cfg.prefix = c_str(rest).to_vec();
            Meaning::Setting
        }
        b'u' | b'U' => match parse_udp(c_str(rest)) {
            Ok(addr) => {
                cfg.udp = Some(addr);
                if first == b'U' {
                    cfg.udp_only = true;
                }
                Meaning::Setting
            }
            Err(w) => {
                warnings.push(w);
                Meaning::Invalid
            }
        },
        // Syslog forwarding (our addition; runit ignores the line).
        b'>' => match forward::apply(&mut cfg.forward, c_str(rest)) {
            Ok(()) => Meaning::Setting,
            Err(w) => {
                warnings.push(w);
                Meaning::Invalid
            }
        },
        // Regular-expression selection (our addition; runit ignores the line).
        b'~' => match regexp::line(c_str(rest)) {
            Some(Ok((action, re))) => {
                cfg.patterns.push_regex(action, re);
                Meaning::Setting
            }
            Some(Err(w)) => {
                warnings.push(w);
                Meaning::Invalid
            }
            None => {
                warnings.push(Warning::new(added::INVALID, c_str(line)));
                Meaning::Invalid
            }
        },
        // Our additions: lines runit ignores (see `added`).
        _ => match added::apply(&mut cfg.extras, c_str(line)) {
            added::Outcome::NotOurs => Meaning::Unknown,
            added::Outcome::Applied => Meaning::Setting,
            added::Outcome::Invalid => {
                warnings.push(Warning::new(added::INVALID, c_str(line)));
                Meaning::Invalid
            }
        },
    }
}

/// Reads `a.b.c.d[:port]` as runit's `ip4_scan` does (octets wrap modulo 256, anything after
/// the fourth number that is not `:` is ignored), or `[ipv6][:port]`.
pub fn parse_udp(s: &[u8]) -> Result<SocketAddr, Warning> {
    let bad_ip = || Warning::new("unable to scan ip address", s);
    let (ip, used) = if s.first() == Some(&b'[') {
        let close = memchr::memchr(b']', s).ok_or_else(bad_ip)?;
        let text = std::str::from_utf8(&s[1..close]).map_err(|_| bad_ip())?;
        let v6: Ipv6Addr = text.parse().map_err(|_| bad_ip())?;
        (IpAddr::V6(v6), close + 1)
    } else {
        let mut octets = [0u8; 4];
        let mut pos = 0;
        for (k, octet) in octets.iter_mut().enumerate() {
            if k > 0 {
                if s.get(pos) != Some(&b'.') {
                    return Err(bad_ip());
                }
                pos += 1;
            }
            let (v, n) = scan_ulong(&s[pos..]);
            if n == 0 {
                return Err(bad_ip());
            }
            *octet = v as u8;
            pos += n;
        }
        (IpAddr::V4(Ipv4Addr::from(octets)), pos)
    };
    let port = if s.get(used) == Some(&b':') {
        let rest = &s[used + 1..];
        let port = scan_ulong(rest).0 as u16;
        if port == 0 {
            return Err(Warning::new("unable to scan port number", rest));
        }
        port
    } else {
        DEFAULT_UDP_PORT
    };
    Ok(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(text: &str) -> (Config, Vec<Warning>) {
        parse(text.as_bytes())
    }

    /// What each line meant.
    fn meanings(text: &str) -> Vec<Meaning> {
        parse_lines(text.as_bytes())
            .2
            .into_iter()
            .map(|l| l.meaning)
            .collect()
    }

    /// The patterns as (action, glob) pairs.
    fn pats(c: &Config) -> Vec<(Action, Vec<u8>)> {
        c.patterns
            .iter()
            .map(|(a, p)| match p {
                Pattern::Glob(g) => (a, g.to_vec()),
                Pattern::Regex(r) => (a, [b"~", r.as_bytes()].concat()),
            })
            .collect()
    }

    #[test]
    fn defaults() {
        let (c, w) = cfg("");
        assert!(w.is_empty());
        assert_eq!(c.sizemax, 1_000_000);
        assert_eq!((c.nmax, c.nmin, c.tmax), (10, 10, 0));
        assert!(c.processor.is_none() && c.udp.is_none() && !c.udp_only);
    }

    #[test]
    fn numbers_and_suffixes() {
        // spec §3 table.
        assert_eq!(cfg("s1k\n").0.sizemax, 1024);
        assert_eq!(cfg("s1m\n").0.sizemax, 1_048_576);
        assert_eq!(cfg("s\n").0.sizemax, 0);
        assert_eq!(cfg("sfoo\n").0.sizemax, 0);
        assert_eq!(cfg("s100\r\n").0.sizemax, 100);
        assert_eq!(cfg("s5x\n").0.sizemax, 5);
        assert_eq!(cfg("n3\nN2\n").0.nmax, 3);
        assert_eq!(cfg("n3\nN2\n").0.nmin, 2);
        assert_eq!(cfg("n\n").0.nmax, 0);
        assert_eq!(cfg("t2\n").0.tmax, 2);
        assert_eq!(cfg("t2m\n").0.tmax, 120);
        assert_eq!(cfg("t1h\n").0.tmax, 3600);
        assert_eq!(cfg("t1d\n").0.tmax, 1);
        // The last line wins.
        assert_eq!(cfg("s10\ns20\n").0.sizemax, 20);
    }

    #[test]
    fn final_single_byte_line_is_skipped() {
        // spec §3: a final `-` without newline is ignored, `-*` works.
        let (c, _) = cfg("-");
        assert!(c.patterns.is_empty());
        assert_eq!(meanings("-")[0], Meaning::Ignored);
        let (c, _) = cfg("-*");
        assert_eq!(c.patterns.len(), 1);
        let (c, _) = cfg("-\n");
        assert_eq!(pats(&c), vec![(Action::Deselect, vec![])]);
        // A final line without newline is still read when longer than one byte.
        assert_eq!(cfg("n5").0.nmax, 5);
    }

    #[test]
    fn strings_keep_spaces_and_carriage_returns() {
        let (c, _) = cfg("pPFX: \n!gzip\r\n+a*\r\n");
        assert_eq!(c.prefix, b"PFX: ");
        assert_eq!(c.processor.as_deref(), Some(&b"gzip\r"[..]));
        assert_eq!(pats(&c)[0].1, b"a*\r");
        let (c, _) = cfg("p\n!\nx\n");
        assert!(c.prefix.is_empty() && c.processor.is_none());
        let m = meanings("p\n!\nx\n");
        assert_eq!(m[0], Meaning::Ignored);
        assert_eq!(m[2], Meaning::Unknown);
    }

    #[test]
    fn nul_bytes_act_as_c_strings() {
        let (c, _) = parse(b"pab\0cd\n+x\0-y\0\0q\n");
        assert_eq!(c.prefix, b"ab");
        assert_eq!(
            pats(&c),
            vec![
                (Action::Select, b"x".to_vec()),
                (Action::Deselect, b"y".to_vec())
            ]
        );
    }

    #[test]
    fn regular_expressions_mix_with_globs_in_file_order() {
        let (c, w) = cfg("-*\n~+error|warn\n~-health\n+*keep\n~e^E\n~+(\n");
        assert_eq!(w.len(), 1, "{w:?}");
        assert_eq!(w[0].what, regexp::INVALID);
        assert_eq!(
            pats(&c),
            vec![
                (Action::Deselect, b"*".to_vec()),
                (Action::Select, b"~error|warn".to_vec()),
                (Action::Deselect, b"~health".to_vec()),
                (Action::Select, b"*keep".to_vec()),
                (Action::Alert, b"~^E".to_vec()),
            ]
        );
        let sel = |t: &str| c.select(t.as_bytes());
        assert!(!sel("all fine").log);
        assert!(sel("an error here").log);
        assert!(!sel("warn: health check").log);
        assert!(sel("warn: health, keep").log);
        assert!(sel("Error").alert && !sel("Error").log);
        // `~` and another byte: not a selection line, ignored as runit ignores it.
        assert_eq!(meanings("~x\n")[0], Meaning::Invalid);
    }

    #[test]
    fn selection_last_match_wins() {
        let (c, _) = cfg("-*\n+foo*\ne*bar\n");
        assert_eq!(
            c.select(b"foo bar"),
            Selection {
                log: true,
                alert: true
            }
        );
        assert_eq!(
            c.select(b"baz"),
            Selection {
                log: false,
                alert: false
            }
        );
        // No patterns: the stderr selection is always reset (spec §12 item 6).
        assert_eq!(
            Config::default().select(b"x"),
            Selection {
                log: true,
                alert: false
            }
        );
    }

    #[test]
    fn udp_addresses() {
        let (c, w) = cfg("u127.0.0.1:5514\n");
        assert!(w.is_empty());
        assert_eq!(c.udp, Some("127.0.0.1:5514".parse().unwrap()));
        assert!(!c.udp_only);
        let (c, _) = cfg("U10.0.0.1\n");
        assert_eq!(c.udp, Some("10.0.0.1:514".parse().unwrap()));
        assert!(c.udp_only);
        // Octets wrap, the port is reduced modulo 65536 (spec §3).
        let (c, _) = cfg("u256.1.2.3:99999\n");
        assert_eq!(c.udp, Some("0.1.2.3:34463".parse().unwrap()));
        let (c, _) = cfg("u[::1]:5514\n");
        assert_eq!(c.udp, Some("[::1]:5514".parse().unwrap()));
        let (c, _) = cfg("u[::1]\n");
        assert_eq!(c.udp, Some("[::1]:514".parse().unwrap()));
    }

    #[test]
    fn bad_udp_lines_are_invalid_and_change_nothing() {
        let (c, w) = cfg("Ufoo\n");
        assert_eq!(
            w,
            vec![Warning {
                line: 1,
                ..Warning::new("unable to scan ip address", b"foo")
            }]
        );
        // spec §12 item 8: runit set "UDP only" anyway and dropped every line.
        assert!(!c.udp_only && c.udp.is_none());
        assert_eq!(meanings("Ufoo\n")[0], Meaning::Invalid);
        let (c, w) = cfg("u1.2.3.4:99\nU1.2.3.4:x\n");
        assert_eq!(w[0].what, "unable to scan port number");
        assert_eq!(w[0].arg, b"x");
        assert_eq!(c.udp, Some("1.2.3.4:99".parse().unwrap()));
        assert!(!c.udp_only);
        let (_, w) = cfg("u1.2.3.4:65536\n");
        assert_eq!(w[0].what, "unable to scan port number");
        let (_, w) = cfg("u[::1\n");
        assert_eq!(w[0].what, "unable to scan ip address");
    }
}

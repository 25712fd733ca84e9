//! Property checks shared by the cargo-fuzz targets (`fuzz/`: `svlogd_config`, `pmatch`,
//! `line_split`, `forward_frame`, `forward_cursor`, `forward_response`, `svlogd_options`) and
//! the corpus replay test, so both run exactly the same code. Each function
//! panics when a property fails; it must never panic otherwise, whatever the input.

use crate::config::{self, Meaning};
use crate::pmatch::pmatch as glob;
use crate::split::{Event, LineEnd, Splitter};
use formats::tai64n::Tai64n;

/// The `~` selection lines: an expression that compiles matches exactly the lines the engine
/// alone matches (the plain-text paths and the required-text filter change nothing), and no
/// expression or line makes it panic. `data` is the expression, a newline, the line.
pub fn svlogd_regex(data: &[u8]) {
    let (pattern, text) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let Ok(pattern) = std::str::from_utf8(pattern) else {
        return;
    };
    let Ok(ours) = config::regexp::Regexp::new(pattern) else {
        return;
    };
    let engine = regex_lite::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .expect("it compiled once");
    let want = engine.is_match(&String::from_utf8_lossy(text));
    assert_eq!(ours.is_match(text), want, "{pattern:?} on {text:?}");
}

/// The config parser: never panics; every line of the file is accounted for, in order; one
/// warning per invalid line; `U` never without a target; selection works on any text.
pub fn svlogd_config(data: &[u8]) {
    let (cfg, warnings, lines) = config::parse_lines(data);
    let again = config::parse(data);
    assert_eq!(
        again.0, cfg,
        "parsing is deterministic, with or without the lines"
    );
    assert_eq!(again.1, warnings);
    let rebuilt: Vec<u8> = lines
        .iter()
        .map(|l| &data[l.text.clone()])
        .collect::<Vec<_>>()
        .join(&b'\n');
    let expect = data.strip_suffix(b"\n").unwrap_or(data);
    assert_eq!(rebuilt, expect, "the lines are the file");
    for (i, l) in lines.iter().enumerate() {
        assert_eq!(l.number, i + 1);
        assert!(!data[l.text.clone()].contains(&b'\n'));
    }
    let invalid = lines
        .iter()
        .filter(|l| l.meaning == Meaning::Invalid)
        .count();
    assert_eq!(invalid, warnings.len());
    assert!(!cfg.udp_only || cfg.udp.is_some(), "U only with a target");
    // The prefilter: a line whose head holds none of the patterns' needles is one that no
    // pattern selects or alerts (the file's own lines serve as the text).
    if let Some(needles) = cfg.patterns.needles() {
        let mut hits = crate::prefilter::Hits::default();
        if hits.find(data, &needles) {
            let mut start = 0;
            for line in data.split(|&b| b == b'\n') {
                let head = start..start + line.len();
                start += line.len() + 1;
                if !hits.any_in(&head) {
                    let sel = cfg.select(&data[head]);
                    assert!(sel.log && !sel.alert, "no needle, yet selected: {line:?}");
                }
            }
        }
    }
    if let Some(a) = cfg.udp {
        assert_ne!(a.port(), 0);
    }
    for (_, pattern) in cfg.patterns.iter() {
        match pattern {
            config::Pattern::Glob(glob) => assert!(!glob.contains(&0), "patterns are C strings"),
            config::Pattern::Regex(re) => assert!(!re.contains('\0'), "patterns are C strings"),
        }
    }
    assert!(!cfg.prefix.contains(&0) && !cfg.prefix.contains(&b'\n'));
    let _ = cfg.select(data);
    // Our additions: values within their ranges; the check report never fails.
    let x = &cfg.extras;
    assert!(x.gzip.is_none_or(|l| (1..=9).contains(&l)));
    assert!(x.queue <= 1_000_000);
    if let Some(c) = &x.copy {
        assert!(c.prefix.as_ref().is_none_or(|p| !p.contains(&b'\n')));
    }
    let opts = crate::options::Options::parse(&["svlogd".into(), "d".into()]).expect("options");
    let report = crate::check::report(b"d", true, data, &lines, &cfg, &warnings, &opts);
    assert_eq!(
        report.lines().filter(|l| l.starts_with("line ")).count(),
        lines
            .iter()
            .filter(|l| l.meaning != Meaning::Blank
                && l.meaning != Meaning::Comment
                && l.meaning != Meaning::Setting)
            .count()
            + report.matches("(only leading digits count)").count(),
        "every line not acted on is named once"
    );
}

/// The matcher: never panics, never reads past either input; without `*` and `+` it is byte
/// equality; a trailing `*` alone is a prefix test; `*` alone matches everything.
pub fn pmatch(data: &[u8]) {
    let (pattern, text) = match data.iter().position(|&b| b == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => data.split_at(data.len() / 2),
    };
    let m = glob(pattern, text);
    let specials = |p: &[u8]| p.iter().any(|&b| b == b'*' || b == b'+');
    if !specials(pattern) {
        assert_eq!(m, pattern == text, "plain pattern is equality");
    }
    if let Some(stem) = pattern.strip_suffix(b"*") {
        if !specials(stem) {
            assert_eq!(m, text.starts_with(stem), "trailing * is a prefix test");
        }
    }
    assert!(glob(b"*", text));
    if !specials(text) {
        assert!(glob(text, text), "a plain text matches itself");
    }
}

/// A tiny deterministic generator for chunk sizes and choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) as usize) % n.max(1)
    }
}

/// The line splitter, driven the way the logger drives it (chunks of any size, the buffer
/// compacted after each chunk, pending lines spilled at any point, forced or not): the log
/// pieces plus added newlines are exactly the input with a final newline; every line has one
/// head event before its first piece; and the bytes marked for `-r` replacing are exactly the
/// first `len` bytes of every line, each once.
pub fn line_split(data: &[u8]) {
    let Some((&len, rest)) = data.split_first() else {
        return;
    };
    let Some((&seed, input)) = rest.split_first() else {
        return;
    };
    let linemax = (len as usize % 40) + 1;
    let mut rng = Rng(seed as u64 + 1);
    let mut sp = Splitter::new(linemax);
    let mut buf: Vec<u8> = Vec::new();
    let mut base = 0usize; // input offset of buf[0]
    let mut fed = 0usize;
    let mut log = Vec::new();
    let mut marked = vec![0u8; input.len()];
    let mut heads = 0usize;
    let mut firsts = 0usize;
    let mut want_first = false; // a head was seen, its first piece not yet
    let mut events = Vec::new();
    let t = Tai64n::default();
    let mut handle = |events: &mut Vec<Event>, base: usize, log: &mut Vec<u8>, buf: &[u8]| {
        for ev in events.drain(..) {
            match ev {
                Event::Head { head, .. } => {
                    assert!(!want_first, "two heads for one line");
                    heads += 1;
                    want_first = true;
                    for i in head {
                        marked[base + i] += 1;
                    }
                }
                Event::Body {
                    bytes,
                    replace,
                    first,
                    end,
                } => {
                    if first {
                        assert!(want_first, "first piece without a head");
                        want_first = false;
                        firsts += 1;
                    } else {
                        assert!(!want_first, "a head without its first piece");
                    }
                    assert!(replace <= bytes.len());
                    for i in bytes.start..bytes.start + replace {
                        marked[base + i] += 1;
                    }
                    log.extend_from_slice(&buf[bytes]);
                    if end == LineEnd::Added {
                        log.push(b'\n');
                    }
                }
            }
        }
    };
    while fed < input.len() {
        let n = 1 + rng.next(input.len() - fed);
        buf.extend_from_slice(&input[fed..fed + n]);
        fed += n;
        let from = buf.len() - n;
        sp.feed(&buf, from, t, &mut events);
        handle(&mut events, base, &mut log, &buf);
        if rng.next(4) == 0 {
            let force = rng.next(2) == 0;
            sp.spill(buf.len(), force, &mut events);
            handle(&mut events, base, &mut log, &buf);
        }
        let keep = sp.pending_start().unwrap_or(buf.len());
        buf.drain(..keep);
        base += keep;
        sp.shift(keep);
    }
    sp.finish(buf.len(), &mut events);
    handle(&mut events, base, &mut log, &buf);
    assert!(!want_first);

    let mut expect = input.to_vec();
    if !expect.is_empty() && !expect.ends_with(b"\n") {
        expect.push(b'\n');
    }
    assert_eq!(log, expect, "the log is the input, newline-terminated");
    let lines = expect.iter().filter(|&&b| b == b'\n').count();
    assert_eq!(heads, lines);
    assert_eq!(firsts, lines);
    let mut col = 0usize;
    for (i, &b) in input.iter().enumerate() {
        let want = u8::from(b != b'\n' && col < linemax);
        assert_eq!(marked[i], want, "replacement marks at input offset {i}");
        col = if b == b'\n' { 0 } else { col + 1 };
    }
}

/// Syslog framing, from a spool line to the wire (`forward::sender::render_line`): never
/// panics; the PRI is the one chosen; a message never exceeds `max` unless its fixed header
/// alone does; octet counting counts exactly the bytes that follow; LF framing ends each
/// message with its only newline; the message text is a prefix of the line (after its stamp).
pub fn forward_frame(data: &[u8]) {
    use crate::forward::config::{Format, ForwardConfig};
    use crate::forward::cursor::{FileId, Pos};
    use crate::forward::syslog::{Renderer, Wire};
    use crate::forward::{sender::render_line, DirInfo};
    use formats::stamp::Timestamp;
    if data.len() < 5 {
        return;
    }
    let (ctl, rest) = data.split_at(5);
    let format = if ctl[0] & 1 == 0 {
        Format::Rfc5424
    } else {
        Format::Rfc3164
    };
    let wire = [Wire::Datagram, Wire::Octet, Wire::Lf][(ctl[0] as usize >> 1) % 3];
    let stamp = [
        Timestamp::None,
        Timestamp::Tai64n,
        Timestamp::Utc,
        Timestamp::Iso8601,
    ][(ctl[0] as usize >> 3) % 4];
    let max = 64 + ctl[2] as usize * 8;
    let mut parts = rest.splitn(4, |&b| b == 0xff);
    let host = parts.next().unwrap_or(b"");
    let app = parts.next().unwrap_or(b"");
    let prefix: Vec<u8> = parts.next().unwrap_or(b"").to_vec();
    let line = parts.next().unwrap_or(b"");
    let line = &line[..memchr::memchr(b'\n', line).unwrap_or(line.len())];
    let mut fc = ForwardConfig::default();
    let pri_line = format!("pri {}.{} *{}*", ctl[1] % 24, ctl[3] % 8, ctl[4] as char);
    let _ = crate::forward::config::apply(&mut fc, pri_line.as_bytes());
    let info = DirInfo {
        name: b"d".to_vec(),
        service: b"svc".to_vec(),
        stamp,
        prefix,
        linemax: 1 + ctl[3] as usize,
        verbose: false,
    };
    let mut r = Renderer::new(format, wire, max, host, app);
    let mut out = Vec::new();
    let mut marks = std::collections::VecDeque::new();
    let mut last = None;
    let after = Pos {
        file: FileId::Current(1),
        offset: line.len() as u64 + 1,
    };
    render_line(
        &mut r,
        &mut out,
        &info,
        &fc,
        None,
        &mut marks,
        &mut last,
        Some((1, 0)),
        after,
        line,
    );
    let msg: &[u8] = match wire {
        Wire::Octet => {
            let sp = memchr::memchr(b' ', &out).expect("a length and a space");
            let len: usize = std::str::from_utf8(&out[..sp])
                .expect("digits")
                .parse()
                .expect("a number");
            assert_eq!(len, out.len() - sp - 1, "octet count");
            &out[sp + 1..]
        }
        Wire::Lf => {
            assert_eq!(out.last(), Some(&b'\n'));
            assert_eq!(memchr::memchr(b'\n', &out), Some(out.len() - 1));
            &out[..out.len() - 1]
        }
        Wire::Datagram => &out,
    };
    assert_eq!(msg[0], b'<');
    let close = memchr::memchr(b'>', msg).expect("PRI closes");
    let pri: u8 = std::str::from_utf8(&msg[1..close])
        .expect("digits")
        .parse()
        .expect("PRI");
    assert!(pri <= 191);
    // Only the header (PRI, time, at most 255 bytes of host and 48 of app) can overrun.
    assert!(msg.len() <= max.max(5 + 2 + 27 + 1 + 255 + 1 + 48 + 7));
    if format == Format::Rfc5424 {
        assert_eq!(&msg[close + 1..close + 3], b"1 ", "version");
        assert_eq!(msg[close + 3 + 26], b'Z', "UTC timestamp");
    }
}

/// The cursor file: any content either is no cursor or reads back the same after writing.
pub fn forward_cursor(data: &[u8]) {
    use crate::forward::cursor::Cursor;
    if let Some(c) = Cursor::parse(data) {
        assert_eq!(Cursor::parse(&c.render()), Some(c));
    }
}

/// Whatever a collector sends back over TLS, in any chunks: rustls and the forwarder's
/// handling of it never panic, and once the connection is refused it stays refused.
#[cfg(feature = "tls")]
pub fn forward_response(data: &[u8]) {
    let mut conn = crate::forward::tls::untrusting_session();
    let mut out = Vec::new();
    conn.take_output(&mut out).expect("to a Vec");
    let mut scratch = [0u8; 4096];
    let mut rng = Rng(data.len() as u64 + 7);
    let mut rest = data;
    let mut failed = false;
    while !rest.is_empty() {
        let n = 1 + rng.next(rest.len());
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        let mut src = chunk;
        while !src.is_empty() {
            match conn.read_from(&mut src) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            if conn.absorb(&mut scratch, &mut out).is_err() {
                failed = true;
                break;
            }
        }
        if failed {
            break;
        }
    }
    if failed {
        let mut src: &[u8] = &[0x17, 0x03, 0x03, 0x00, 0x01, 0x00];
        let _ = conn.read_from(&mut src);
        assert!(conn.absorb(&mut scratch, &mut out).is_err());
    }
    assert!(out.len() < 1 << 20, "bounded replies");
}

/// What runit's svlogd makes of its command line.
#[derive(Debug)]
enum RunitCli {
    /// It logs: `-t` count (at most 3), `-v`, `repl` (0: none), `replace`, `linemax`,
    /// `buflen`, the directories.
    Logs(u8, bool, u8, Vec<u8>, u64, u64, Vec<Vec<u8>>),
    /// The usage message, after sgetopt's message if there is one.
    Usage(Option<Vec<u8>>),
    /// `-V`: the version line, then the usage.
    Version,
}

/// runit 2.1.2's svlogd `main` up to its directories, from its C: getopt over
/// `R:r:l:b:tvV`, then at least one directory and `buflen > linemax`.
fn runit_svlogd(words: &[&[u8]]) -> RunitCli {
    use formats::fuzzing::sgetopt::{Scan, Step};
    let (mut ts, mut verbose, mut repl, mut replace) = (0u8, false, 0u8, Vec::new());
    let (mut linemax, mut buflen) = (1000u64, 1024u64);
    let mut g = Scan::new(words, b"R:r:l:b:tvV");
    loop {
        let (c, arg) = match g.getopt() {
            Step::Done => break,
            Step::Problem(_, m) => return RunitCli::Usage(Some(m)),
            Step::Opt(c, arg) => (c, arg.unwrap_or_default()),
        };
        match c {
            b'R' => {
                replace = arg;
                if repl == 0 {
                    repl = b'_';
                }
            }
            b'r' => {
                repl = arg.first().copied().unwrap_or(0);
                if repl == 0 || arg.len() > 1 {
                    return RunitCli::Usage(None);
                }
            }
            b'l' => {
                linemax = formats::scan::scan_ulong(&arg).0;
                if linemax == 0 {
                    linemax = 1000;
                }
            }
            b'b' => {
                buflen = formats::scan::scan_ulong(&arg).0;
                if buflen == 0 {
                    buflen = 1024;
                }
            }
            b't' => ts = (ts + 1).min(3),
            b'v' => verbose = true,
            b'V' => return RunitCli::Version,
            _ => unreachable!("getopt returns the letters of its option string"),
        }
    }
    let dirs: Vec<Vec<u8>> = words[g.optind.min(words.len())..]
        .iter()
        .map(|w| w.to_vec())
        .collect();
    if dirs.is_empty() || buflen <= linemax {
        return RunitCli::Usage(None);
    }
    RunitCli::Logs(ts, verbose, repl, replace, linemax, buflen, dirs)
}

/// svlogd's command line (the input's words between NUL bytes, argv[0] first): wherever
/// runit's svlogd would get to its directories, ours takes the same options and
/// directories; wherever runit's refuses, ours refuses with the same message (sgetopt's, or
/// none) or the `-V` version line. Only a command line that uses an addition (`-T`, `-L`,
/// `-C`, which runit refuses as illegal options) may differ, and then whatever ours accepts
/// still has a directory and `buflen > linemax`.
pub fn svlogd_options(data: &[u8]) {
    use crate::options::{CliError, Options};
    use formats::stamp::Timestamp;
    use std::os::unix::ffi::OsStrExt;
    let argv = formats::fuzzing::argv_of(data);
    let words: Vec<&[u8]> = argv.iter().map(|a| a.as_bytes()).collect();
    let ours = Options::parse(&argv);
    match (runit_svlogd(&words), &ours) {
        (RunitCli::Usage(Some(m)), _) if m.len() >= 2 && b"TLC".contains(&m[m.len() - 1]) => {
            // An addition letter, unless runit complained about a missing argument.
            if let Ok(o) = &ours {
                assert!(!o.dirs.is_empty() && o.buflen > o.linemax && o.linemax > 0);
            }
        }
        (RunitCli::Usage(m), Err(CliError::Usage(ours))) => match (m, ours) {
            (None, None) => {}
            (Some(m), Some(ours)) => formats::fuzzing::same_message(ours, &m),
            (m, ours) => panic!("runit's message {m:?}, ours {ours:?}"),
        },
        (RunitCli::Version, Err(CliError::Version)) => {}
        (RunitCli::Logs(ts, verbose, repl, replace, linemax, buflen, dirs), Ok(o)) => {
            let stamp = [
                Timestamp::None,
                Timestamp::Tai64n,
                Timestamp::Utc,
                Timestamp::Iso8601,
            ][usize::from(ts)];
            assert_eq!(o.timestamp, stamp);
            assert_eq!(o.verbose, verbose);
            assert_eq!(o.replace_char, (repl != 0).then_some(repl));
            assert_eq!(o.replace_set, replace);
            assert_eq!((o.linemax, o.buflen), (linemax, buflen));
            let ours: Vec<&[u8]> = o.dirs.iter().map(|d| d.as_bytes()).collect();
            assert_eq!(ours, dirs);
            assert!(!o.lossy && !o.check);
        }
        (runit, ours) => panic!("runit's svlogd: {runit:?}, ours: {ours:?}, argv {argv:?}"),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn properties_hold_on_simple_inputs() {
        super::svlogd_config(b"s100\nn3\n+a*\nUfoo\nu1.2.3.4:5\npP: \n!cat\n-");
        super::svlogd_config(
            b"S1k\nmaxage 2d\ncompress gzip 3\nqueue 9\nTrfc3339\ncopy stderr x\nsz\nqueue\n",
        );
        super::svlogd_config(b"");
        super::svlogd_config(b"\n\n\0\xff");
        super::pmatch(b"a*\xffabc");
        super::pmatch(b"a+b\xffaab");
        super::pmatch(b"");
        super::line_split(b"\x03\x07one\ntwo long line\n\npartial");
        super::line_split(b"\x00\x00\n\n\n");
        super::line_split(b"\x27\x99abcdefghijklmnopqrstuvwxyz0123456789abcdefghij\nx");
        super::svlogd_options(b"svlogd\0-ttv\0-l5\0-b\x0099\0-R\0ab\0d1\0-t");
        super::svlogd_options(b"/bin/svlogd\0-x\0d");
        super::svlogd_options(b"svlogd\0-l");
        super::svlogd_options(b"svlogd\0-V\0d");
        super::svlogd_options(b"svlogd\0--check\0d");
        super::svlogd_options(b"svlogd\0-r\0xy\0d");
        super::svlogd_options(b"svlogd\0-T\0rfc3339\0-L\0d");
    }
}

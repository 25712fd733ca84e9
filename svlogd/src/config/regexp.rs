//! Selection by regular expression: `~+REGEX`, `~-REGEX`, `~eREGEX` and `~EREGEX` select and
//! deselect a line for the log and for standard error exactly as runit's `+`, `-`, `e` and
//! `E` do with a glob, and mix with them in file order (the last match wins). runit's svlogd
//! ignores a line starting with `~`, so a directory using them still works under it (without
//! the selection).
//!
//! The expression is searched for anywhere in the line's first `len` bytes (without stamp or
//! prefix), as s6-log and grep do: anchor it with `^` and `$` to match the whole. The syntax
//! is the regex crate's (its small engine, `regex-lite`), which covers the POSIX extended
//! expressions s6-log users write: alternation, bracket expressions with classes such as
//! `[[:digit:]]`, repetition, anchors; `\d` `\w` `\s` are ASCII. A line that is not UTF-8 is
//! matched with each invalid byte read as U+FFFD. s6-log's `-.*` `+error|warn` `-health`
//! becomes `~-.*` `~+error|warn` `~-health`.
//!
//! Speed: an expression that is plain text, or plain texts joined by `|`, possibly anchored
//! with `^`/`$`, is searched with memchr's vectorised substring search, never by the engine;
//! that is what most selection lines are (`error|warn`, `^GET /health`).
//!
//! An expression that does not compile is refused with `svlogd: warning: invalid regular
//! expression: LINE: WHY` and changes nothing; the other lines still apply. A compiled
//! expression is limited to 1 MiB of program (a longer one is refused the same way), so no
//! `config` can make svlogd's memory explode.

use super::warning::Warning;
use super::Action;

/// The warning for an expression that does not compile.
pub const INVALID: &str = "invalid regular expression";

/// The most memory one compiled expression may take.
const SIZE_LIMIT: usize = 1 << 20;

/// A compiled expression and its text.
#[derive(Debug, Clone)]
pub struct Regexp {
    source: String,
    how: How,
}

/// How an expression is matched.
#[derive(Debug, Clone)]
enum How {
    /// Plain texts joined by `|`: found anywhere.
    Anywhere(Vec<memchr::memmem::Finder<'static>>),
    /// `^text`.
    Prefix(Vec<u8>),
    /// `text$`.
    Suffix(Vec<u8>),
    /// `^text$`.
    Whole(Vec<u8>),
    /// Anything else: the engine, run only on lines that contain the text every match
    /// must contain, when the expression shows one (see [`required`]).
    Engine(Box<(regex_lite::Regex, Option<memchr::memmem::Finder<'static>>)>),
}

/// The bytes that make an expression more than plain text.
const META: &[u8] = b"\\.+*?()[]{}^$|";

/// Whether `s` is non-empty plain text.
fn plain(s: &str) -> bool {
    !s.is_empty() && !s.bytes().any(|b| META.contains(&b))
}

impl Regexp {
    /// Compiles `source` (see the module doc).
    pub fn new(source: &str) -> Result<Regexp, String> {
        let re = regex_lite::RegexBuilder::new(source)
            .size_limit(SIZE_LIMIT)
            .build()
            .map_err(|e| why(&e))?;
        let how = if source.split('|').all(plain) {
            How::Anywhere(
                source
                    .split('|')
                    .map(|t| memchr::memmem::Finder::new(t.as_bytes()).into_owned())
                    .collect(),
            )
        } else {
            let head = source.strip_prefix('^');
            let tail = |s: &str| s.strip_suffix('$').map(str::to_string);
            match (head, tail(source)) {
                (Some(h), _) if plain(h) => How::Prefix(h.as_bytes().to_vec()),
                (Some(h), _) if tail(h).as_deref().is_some_and(plain) => {
                    How::Whole(tail(h).unwrap_or_default().into_bytes())
                }
                (None, Some(t)) if plain(&t) => How::Suffix(t.into_bytes()),
                _ => How::Engine(Box::new((
                    re,
                    required(source).map(|r| memchr::memmem::Finder::new(&r).into_owned()),
                ))),
            }
        };
        Ok(Regexp {
            source: source.to_string(),
            how,
        })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// Texts one of which every match contains (its plain texts, its anchored text, or the
    /// engine's required text); `None` when the expression shows none. A line holding none
    /// of them cannot match (see `prefilter`).
    pub fn needles(&self) -> Option<Vec<&[u8]>> {
        match &self.how {
            How::Anywhere(finders) => Some(finders.iter().map(|f| f.needle()).collect()),
            How::Prefix(t) | How::Suffix(t) | How::Whole(t) => Some(vec![t.as_slice()]),
            How::Engine(engine) => engine.1.as_ref().map(|f| vec![f.needle()]),
        }
    }

    /// Whether it occurs in `text`.
    #[inline]
    pub fn is_match(&self, text: &[u8]) -> bool {
        match &self.how {
            How::Anywhere(finders) => finders.iter().any(|f| f.find(text).is_some()),
            How::Prefix(p) => text.starts_with(p),
            How::Suffix(s) => text.ends_with(s),
            How::Whole(w) => text == w.as_slice(),
            How::Engine(engine) => {
                let (re, must) = &**engine;
                if must.as_ref().is_some_and(|m| m.find(text).is_none()) {
                    return false;
                }
                match std::str::from_utf8(text) {
                    Ok(s) => re.is_match(s),
                    Err(_) => re.is_match(&String::from_utf8_lossy(text)),
                }
            }
        }
    }
}

/// The longest plain text every match of `source` must contain, read off its top level:
/// `err.r` must contain `err`, `^\\[ERROR\\] (db|web)` `[ERROR] `. Nothing when the top level
/// has a `|`, an inline flag, or an escape this reading does not know (it never guesses:
/// a line without the text is rejected without running the engine, so the text must be in
/// every match). Texts of one byte are not worth it.
fn required(source: &str) -> Option<Vec<u8>> {
    if source.contains("(?") {
        return None;
    }
    let b = source.as_bytes();
    let (mut best, mut run): (Vec<u8>, Vec<u8>) = (Vec::new(), Vec::new());
    let mut flush = |run: &mut Vec<u8>| {
        if run.len() > best.len() {
            best = run.clone();
        }
        run.clear();
    };
    let mut depth = 0usize;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        i += 1;
        match c {
            b'\\' => {
                let n = *b.get(i)?;
                i += 1;
                if n == b'<' || n == b'>' {
                    // Word boundaries.
                    flush(&mut run);
                } else if n.is_ascii_punctuation() {
                    // An escaped metacharacter: the character itself.
                    if depth == 0 {
                        run.push(n);
                    }
                } else if b"dDwWsSbBAz".contains(&n) {
                    flush(&mut run);
                } else {
                    // \x41, \p{..}, ...: not read here.
                    return None;
                }
            }
            b'[' => {
                flush(&mut run);
                i = class_end(b, i)?;
            }
            b'(' => {
                flush(&mut run);
                depth += 1;
            }
            b')' => {
                flush(&mut run);
                depth = depth.checked_sub(1)?;
            }
            b'|' if depth == 0 => return None,
            b'?' | b'*' | b'{' | b'+' => {
                // A quantifier, and any that follow it (`+?`, `+??`, `*+`, `{2}?`): the atom
                // before is certain to be there only under `+` alone or lazy `+?`; otherwise it
                // is not part of the required text (a character, all of its UTF-8 bytes).
                let start = i - 1;
                let mut end = start;
                loop {
                    match b.get(end) {
                        Some(b'?' | b'*' | b'+') => end += 1,
                        Some(b'{') => end += b[end..].iter().position(|&x| x == b'}')? + 1,
                        _ => break,
                    }
                }
                if c != b'+' || !matches!(&b[start..end], b"+" | b"+?") {
                    while run.last().is_some_and(|&x| x & 0xC0 == 0x80) {
                        run.pop();
                    }
                    run.pop();
                }
                flush(&mut run);
                i = end;
            }
            b'.' | b'^' | b'$' | b'|' => flush(&mut run),
            _ if depth == 0 => run.push(c),
            _ => {}
        }
    }
    flush(&mut run);
    // ASCII only: the engine reads a line that is not UTF-8 with U+FFFD for its bad bytes.
    (best.len() >= 2 && best.is_ascii()).then_some(best)
}

/// Where the bracket expression that starts before `i` (just after its `[`) ends: the index
/// after its `]`. A `]` first (after an optional `^`) is a member; `[:name:]` is a class.
fn class_end(b: &[u8], mut i: usize) -> Option<usize> {
    if b.get(i) == Some(&b'^') {
        i += 1;
    }
    if b.get(i) == Some(&b']') {
        i += 1;
    }
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'[' if b.get(i + 1) == Some(&b':') => {
                i += 2 + b[i + 2..].windows(2).position(|w| w == b":]")? + 2;
            }
            b'[' => return None,
            b']' => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The one-line reason of a compile error (the engine's message may span several lines).
fn why(e: &regex_lite::Error) -> String {
    let text = e.to_string();
    let last = text.lines().map(str::trim).rfind(|l| !l.is_empty());
    let reason = last.unwrap_or("does not compile");
    if reason.contains("size limit") {
        "too big".into()
    } else {
        reason.trim_start_matches("error: ").to_string()
    }
}

/// Reads what follows the `~` of a config line: `None` when the next byte is not `+`, `-`,
/// `e` or `E` (not a selection line); otherwise the action and the compiled expression, or
/// the warning that refuses the line.
pub fn line(rest: &[u8]) -> Option<Result<(Action, Regexp), Warning>> {
    let (&first, source) = rest.split_first()?;
    let action = Action::from_byte(first)?;
    let refuse =
        |why: &str| Warning::new(INVALID, &[&b"~"[..], rest, b": ", why.as_bytes()].concat());
    let Ok(source) = std::str::from_utf8(source) else {
        return Some(Err(refuse("not UTF-8")));
    };
    Some(
        Regexp::new(source)
            .map(|re| (action, re))
            .map_err(|e| refuse(&e)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn searches_bytes_anywhere_unless_anchored() {
        let re = Regexp::new("error|warn").unwrap();
        assert!(re.is_match(b"2026 warn: disk"));
        assert!(!re.is_match(b"all good"));
        let anchored = Regexp::new("^GET /health$").unwrap();
        assert!(anchored.is_match(b"GET /health"));
        assert!(!anchored.is_match(b"GET /health?x"));
        // ASCII classes, on bytes that are not UTF-8.
        let digits = Regexp::new(r"[[:digit:]]{3} \w+").unwrap();
        assert!(digits.is_match(b"\xff status 503 down"));
        // The plain-text paths agree with the engine.
        for (re, yes, no) in [
            ("^GET /h", "GET /health", "a GET /h"),
            ("down$", "503 down", "down 503"),
            ("^ok$", "ok", "ok!"),
            ("a.b|c", "xc", "ab"),
        ] {
            let r = Regexp::new(re).unwrap();
            assert!(r.is_match(yes.as_bytes()), "{re} {yes}");
            assert!(!r.is_match(no.as_bytes()), "{re} {no}");
        }
    }

    #[test]
    fn the_required_text_is_in_every_match() {
        for (re, want) in [
            ("err.r", Some("err")),
            (r"^\[ERROR\] (db|web)", Some("[ERROR] ")),
            ("ab+c", Some("ab")),
            ("ab+?c", Some("ab")),
            // (b+)?? and (b+)*: b may be absent (found by the fuzz target).
            ("ab+??", None),
            ("xab+*cde", Some("cde")),
            ("xyb{2}?c", Some("xy")),
            ("abc?d", Some("ab")),
            ("x{2}yz", Some("yz")),
            ("[[:digit:]]{3} down", Some(" down")),
            ("[]a]+ zz", Some(" zz")),
            ("error|warn.", None),
            ("(?i)error.", None),
            (r"\x41bc.", None),
            ("a.b", None),
            ("aé?bc", Some("bc")),
            ("é.", None),
            (r"\<ab\>cd", Some("ab")),
        ] {
            assert_eq!(
                required(re).map(|r| String::from_utf8(r).unwrap()),
                want.map(str::to_string),
                "{re}"
            );
        }
        // With the text and the engine together, nothing changes.
        let r = Regexp::new(r"^\[ERROR\] (db|web)").unwrap();
        assert!(r.is_match(b"[ERROR] web down"));
        assert!(!r.is_match(b"[ERROR] api down"));
        assert!(!r.is_match(b"x [ERROR] web"));
        let r = Regexp::new("ab+??").unwrap();
        assert!(r.is_match(b"a\xb8bbc"));
    }

    #[test]
    fn lines_and_refusals() {
        let (a, re) = line(b"+a.c").unwrap().unwrap();
        assert_eq!(a, Action::Select);
        assert_eq!(re.source(), "a.c");
        assert!(line(b"x").is_none());
        assert!(line(b"").is_none());
        let w = line(b"-foo(").unwrap().unwrap_err();
        assert_eq!(w.what, INVALID);
        let arg = String::from_utf8(w.arg).unwrap();
        assert!(arg.starts_with("~-foo(: "), "{arg}");
        assert!(!arg.contains('\n'), "{arg}");
        let big = line(b"+(a{1000}){1000}").unwrap().unwrap_err();
        assert!(String::from_utf8(big.arg).unwrap().ends_with(": too big"));
        assert!(line(b"E\xff").unwrap().is_err());
    }
}

//! Property checks shared by the cargo-fuzz targets (`fuzz/`) and the corpus-replay test, so
//! both run exactly the same code. Each function panics when a property fails and must never
//! panic otherwise, whatever the input.

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
    }
}

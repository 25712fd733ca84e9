//! Time stamps at the start of log lines, read and re-written in local time.
//!
//! Three stamps are recognised (`spec/svlogd.md` §6): a TAI64N label `@` + 24 hex digits
//! (`svlogd -t`, multilog, `tai64n`), rendered as daemontools' `tai64nlocal` does
//! (`YYYY-MM-DD HH:MM:SS.NNNNNNNNN`); and svlogd's UTC stamps `YYYY-MM-DD_HH:MM:SS.ddddd`
//! (`-tt`) and `YYYY-MM-DDTHH:MM:SS.ddddd` (`-ttt`), rendered in local time with their five
//! digits (`YYYY-MM-DD HH:MM:SS.ddddd`). Local time follows `TZ` (chrono). Anything else is
//! left as it is, including labels outside the calendar's range.

use chrono::{DateTime, Local, TimeZone};

// Reading the stamps back is the stamp format's business: it lives beside the code that writes
// them (`formats::stamp`), which svlogd's forwarder uses too.
pub use formats::stamp::{line_moment, parse, Moment, Stamp, DECIDE_LEN, TAI_LEN, UTC_LEN};

/// Renders stamps in local time, formatting the date and time once per second.
#[derive(Default)]
pub struct Renderer {
    cache: Option<(i64, [u8; 19])>,
}

impl Renderer {
    /// A renderer with an empty cache.
    pub fn new() -> Renderer {
        Renderer::default()
    }

    fn date_time(&mut self, secs: i64) -> Option<[u8; 19]> {
        if let Some((s, text)) = self.cache {
            if s == secs {
                return Some(text);
            }
        }
        let dt: DateTime<Local> = Local.timestamp_opt(secs, 0).single()?;
        let formatted = dt.format("%Y-%m-%d %H:%M:%S").to_string();
        let b = formatted.as_bytes();
        if b.len() != 19 {
            return None;
        }
        let mut text = [0u8; 19];
        text.copy_from_slice(b);
        self.cache = Some((secs, text));
        Some(text)
    }

    /// Appends the local-time form of `stamp`; false (nothing appended) when it has none.
    pub fn render(&mut self, stamp: &Stamp, out: &mut Vec<u8>) -> bool {
        let m = stamp.moment();
        let Some(text) = self.date_time(m.secs) else {
            return false;
        };
        out.extend_from_slice(&text);
        out.push(b'.');
        match *stamp {
            Stamp::Tai(t) => out.extend_from_slice(format!("{:09}", t.nanos).as_bytes()),
            Stamp::Utc { frac, .. } => out.extend_from_slice(format!("{frac:05}").as_bytes()),
        }
        true
    }

    /// Appends `line` with its leading stamp (if any) in local time.
    pub fn line(&mut self, line: &[u8], out: &mut Vec<u8>) {
        if let Some((stamp, len)) = parse(line) {
            if self.render(&stamp, out) {
                out.extend_from_slice(&line[len..]);
                return;
            }
        }
        out.extend_from_slice(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conv(s: &str) -> String {
        let mut out = Vec::new();
        Renderer::new().line(s.as_bytes(), &mut out);
        String::from_utf8(out).unwrap()
    }

    // TZ is read once per process by chrono; every test here sets the same zone.
    fn utc() {
        std::env::set_var("TZ", "UTC");
    }

    #[test]
    fn tai64n_labels_as_daemontools_prints_them() {
        utc();
        assert_eq!(
            conv("@400000006b0337972f6e0954 hello\n"),
            "2026-11-22 18:42:21.795740500 hello\n"
        );
        assert_eq!(
            conv("@400000006B0337972F6E0954"),
            "2026-11-22 18:42:21.795740500"
        );
        for left in [
            "@400000006b0337972f6e095 short",
            "@400000006b0337972f6e09541 long",
            "@",
            "@zz",
            "no stamp",
            "",
        ] {
            assert_eq!(conv(left), left);
        }
    }

    #[test]
    fn svlogd_utc_stamps_become_local() {
        utc();
        assert_eq!(
            conv("2026-11-22_18:42:17.03672 hello"),
            "2026-11-22 18:42:17.03672 hello"
        );
        assert_eq!(
            conv("2026-11-22T18:42:17.04306 x"),
            "2026-11-22 18:42:17.04306 x"
        );
        assert_eq!(
            conv("2026-13-22_18:42:17.04306 x"),
            "2026-13-22_18:42:17.04306 x"
        );
        assert_eq!(
            conv("2026-11-22_18:42:17.043061"),
            "2026-11-22_18:42:17.043061"
        );
        assert_eq!(
            conv("2026-11-22 18:42:17.04306 x"),
            "2026-11-22 18:42:17.04306 x"
        );
        let m = line_moment(b"2026-11-22_18:42:17.03672 x").unwrap();
        assert_eq!(m.nanos, 36_720_000);
        let t = line_moment(b"@400000006b0337972f6e0954 x").unwrap();
        assert_eq!(t.secs, m.secs + 4);
    }

    #[test]
    fn labels_out_of_range_are_left_alone() {
        utc();
        for s in ["@ffffffffffffffff00000000 x", "@0000000000000000ffffffff y"] {
            assert_eq!(conv(s), s);
        }
    }
}

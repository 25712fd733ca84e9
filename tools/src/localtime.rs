//! Time stamps at the start of log lines, read and re-written in local time.
//!
//! Three stamps are recognised (`spec/svlogd.md` §6): a TAI64N label `@` + 24 hex digits
//! (`svlogd -t`, multilog, `tai64n`), rendered as daemontools' `tai64nlocal` does
//! (`YYYY-MM-DD HH:MM:SS.NNNNNNNNN`); and svlogd's UTC stamps `YYYY-MM-DD_HH:MM:SS.ddddd`
//! (`-tt`) and `YYYY-MM-DDTHH:MM:SS.ddddd` (`-ttt`), rendered in local time with their five
//! digits (`YYYY-MM-DD HH:MM:SS.ddddd`). Local time follows `TZ` (chrono). Anything else is
//! left as it is, including labels outside the calendar's range.

use chrono::{DateTime, Local, NaiveDate, TimeZone};
use supervise::tai64n::Tai64n;

/// A moment as Unix seconds and nanoseconds, for ordering lines and `--since`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Moment {
    /// Seconds since 1970-01-01 UTC (no leap seconds).
    pub secs: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

/// A stamp found at the start of a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stamp {
    /// `@` + 24 hex digits.
    Tai(Tai64n),
    /// svlogd's `-tt`/`-ttt`: UTC seconds and the five fraction digits.
    Utc {
        /// Unix seconds.
        secs: i64,
        /// The fraction in units of 10 µs (the five digits as a number).
        frac: u32,
    },
}

/// Length of a TAI64N stamp (`@` + 24 digits).
pub const TAI_LEN: usize = 25;
/// Length of a `-tt`/`-ttt` stamp.
pub const UTC_LEN: usize = 25;
/// Bytes needed to decide whether a line starts with a stamp (the stamp and one more).
pub const DECIDE_LEN: usize = 26;

impl Stamp {
    /// The moment the stamp stands for.
    pub fn moment(&self) -> Moment {
        match *self {
            Stamp::Tai(t) => Moment {
                secs: t.unix_secs(),
                nanos: t.nanos.min(999_999_999),
            },
            Stamp::Utc { secs, frac } => Moment {
                secs,
                nanos: frac * 10_000,
            },
        }
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    let mut v = 0u32;
    for &c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// The stamp at the start of `line`, and its length. `line` may be cut anywhere: a stamp is
/// recognised only when the byte after it (if any) cannot continue it.
pub fn parse(line: &[u8]) -> Option<(Stamp, usize)> {
    if line.first() == Some(&b'@') {
        let hex = line.get(1..TAI_LEN)?;
        if line.get(TAI_LEN).is_some_and(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        let t = Tai64n::parse_hex(hex)?;
        return Some((Stamp::Tai(t), TAI_LEN));
    }
    let s = line.get(..UTC_LEN)?;
    if line.get(UTC_LEN).is_some_and(|c| c.is_ascii_digit()) {
        return None;
    }
    if s[4] != b'-' || s[7] != b'-' || !(s[10] == b'_' || s[10] == b'T') {
        return None;
    }
    if s[13] != b':' || s[16] != b':' || s[19] != b'.' {
        return None;
    }
    let year = digits(&s[0..4])? as i32;
    let (month, day) = (digits(&s[5..7])?, digits(&s[8..10])?);
    let (h, m, sec) = (
        digits(&s[11..13])?,
        digits(&s[14..16])?,
        digits(&s[17..19])?,
    );
    let frac = digits(&s[20..25])?;
    let dt = NaiveDate::from_ymd_opt(year, month, day)?.and_hms_opt(h, m, sec)?;
    Some((
        Stamp::Utc {
            secs: dt.and_utc().timestamp(),
            frac,
        },
        UTC_LEN,
    ))
}

/// The moment of the stamp at the start of `line`, if there is one.
pub fn line_moment(line: &[u8]) -> Option<Moment> {
    parse(line).map(|(s, _)| s.moment())
}

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

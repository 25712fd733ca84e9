//! Line timestamps, byte for byte as runit writes them (spec/svlogd.md §6), from a cache.
//!
//! Every stamp is 26 bytes including its trailing space:
//! `-t` `@400000006b03379301a86e4c `, `-tt` `2026-11-22_18:42:17.03672 `,
//! `-ttt` `2026-11-22T18:42:17.03672 `. The clock reading is libtai's (wall clock, µs×1000+500
//! ns, label 2^62+10+seconds, see `supervise::tai64n`); the UTC forms print the first five of
//! the nine nanosecond digits. The seconds part changes once a second, so [`Stamper`] keeps it
//! rendered and only rewrites the sub-second digits.
//!
//! [`parse`] reads any of the three back from the start of a line (for `tai64nlocal`, `p_log`
//! and the syslog forwarder, which recovers each line's time of receipt from it).

use crate::options::Timestamp;
use chrono::NaiveDate;
use supervise::tai64n::{write_hex_u64, Tai64n};

/// Length of every stamp, including the trailing space.
pub const STAMP_LEN: usize = 26;

/// Renders stamps of one format, re-rendering the date only when the second changes.
#[derive(Debug, Clone)]
pub struct Stamper {
    kind: Timestamp,
    /// The seconds label `buf` currently holds (`None` before the first render).
    cached: Option<u64>,
    buf: [u8; STAMP_LEN],
}

impl Stamper {
    /// A stamper for `-t`, `-tt` or `-ttt` (`Timestamp::None` renders nothing).
    pub fn new(kind: Timestamp) -> Stamper {
        Stamper {
            kind,
            cached: None,
            buf: [b' '; STAMP_LEN],
        }
    }

    /// The format this stamper writes.
    pub fn kind(&self) -> Timestamp {
        self.kind
    }

    /// The stamp for the clock reading `t` (empty for `Timestamp::None`).
    pub fn render(&mut self, t: Tai64n) -> &[u8] {
        match self.kind {
            Timestamp::None => return &[],
            Timestamp::Tai64n => {
                if self.cached != Some(t.secs) {
                    self.buf[0] = b'@';
                    write_hex_u64(t.secs, &mut self.buf[1..17]);
                    self.cached = Some(t.secs);
                }
                write_hex_u64(t.nanos as u64, &mut self.buf[17..25]);
            }
            Timestamp::Utc | Timestamp::Iso8601 => {
                if self.cached != Some(t.secs) {
                    let sep = if self.kind == Timestamp::Utc {
                        b'_'
                    } else {
                        b'T'
                    };
                    write_utc_seconds(t.unix_secs(), sep, &mut self.buf);
                    self.cached = Some(t.secs);
                }
                // The first five of nine nanosecond digits.
                write_decimal(t.nanos as u64 / 10_000, &mut self.buf[20..25]);
            }
        }
        self.buf[25] = b' ';
        &self.buf
    }
}

/// Writes `v` as `out.len()` zero-padded decimal digits (keeping the low digits).
fn write_decimal(mut v: u64, out: &mut [u8]) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Writes `YYYY-MM-DD?HH:MM:SS.` (20 bytes) for Unix seconds `secs`, UTC.
fn write_utc_seconds(secs: i64, sep: u8, out: &mut [u8; STAMP_LEN]) {
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    write_decimal(y.rem_euclid(10_000) as u64, &mut out[0..4]);
    out[4] = b'-';
    write_decimal(m as u64, &mut out[5..7]);
    out[7] = b'-';
    write_decimal(d as u64, &mut out[8..10]);
    out[10] = sep;
    write_decimal((sod / 3600) as u64, &mut out[11..13]);
    out[13] = b':';
    write_decimal((sod / 60 % 60) as u64, &mut out[14..16]);
    out[16] = b':';
    write_decimal((sod % 60) as u64, &mut out[17..19]);
    out[19] = b'.';
}

/// The proleptic Gregorian (year, month, day) of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Datelike, Timelike};

    fn text(s: &[u8]) -> &str {
        std::str::from_utf8(s).unwrap()
    }

    #[test]
    fn tai64n_stamp() {
        // spec §6 example label.
        let mut st = Stamper::new(Timestamp::Tai64n);
        let t = Tai64n {
            secs: 0x4000_0000_6b03_3793,
            nanos: 0x01a8_6e4c,
        };
        assert_eq!(text(st.render(t)), "@400000006b03379301a86e4c ");
        let t2 = Tai64n { nanos: 500, ..t };
        assert_eq!(text(st.render(t2)), "@400000006b033793000001f4 ");
    }

    #[test]
    fn utc_stamps() {
        // 2026-11-22 18:42:17 UTC, 36720500 ns → ".03672".
        let secs = 1_795_372_937;
        let t = Tai64n::from_unix(secs, 36_720_500);
        let mut st = Stamper::new(Timestamp::Utc);
        assert_eq!(text(st.render(t)), "2026-11-22_18:42:17.03672 ");
        let mut st = Stamper::new(Timestamp::Iso8601);
        assert_eq!(text(st.render(t)), "2026-11-22T18:42:17.03672 ");
        assert_eq!(
            text(st.render(Tai64n::from_unix(secs, 999_999_500))),
            "2026-11-22T18:42:17.99999 "
        );
        assert_eq!(
            text(st.render(Tai64n::from_unix(secs + 1, 500))),
            "2026-11-22T18:42:18.00000 "
        );
        assert!(Stamper::new(Timestamp::None)
            .render(Tai64n::from_unix(0, 0))
            .is_empty());
    }

    #[test]
    fn calendar_agrees_with_chrono() {
        let mut st = Stamper::new(Timestamp::Utc);
        let mut secs: i64 = 0;
        while secs < 4_200_000_000 {
            let t = Tai64n::from_unix(secs, 500);
            let ours = text(st.render(t)).to_string();
            let c = DateTime::from_timestamp(secs, 0).unwrap();
            let want = format!(
                "{:04}-{:02}-{:02}_{:02}:{:02}:{:02}.00000 ",
                c.year(),
                c.month(),
                c.day(),
                c.hour(),
                c.minute(),
                c.second()
            );
            assert_eq!(ours, want, "at {secs}");
            secs += 86_399 * 7 + 12_345;
        }
    }
}

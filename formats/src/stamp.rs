//! Line timestamps, byte for byte as runit writes them (spec/svlogd.md §6), and our additional
//! formats, from a cache.
//!
//! runit's stamps are 26 bytes including their trailing space: `-t`
//! `@400000006b03379301a86e4c `, `-tt` `2026-11-22_18:42:17.03672 `, `-ttt`
//! `2026-11-22T18:42:17.03672 `. The TAI64N form uses libtai's reading (label
//! 2^62+10+seconds, nanoseconds µs×1000+500, see `tai64n`), whatever the precision
//! of the clock reading given; the UTC forms print the first five of the nine nanosecond digits.
//!
//! Additions (`-T` and the `T` config line): `local` is `-tt`'s shape in local time
//! (`2026-11-22_19:42:17.03672 `), `rfc3339` is local time with its offset and microseconds
//! (`2026-11-22T19:42:17.036720+01:00 `), `rfc3339ns` the same with nanoseconds. Local time is
//! whatever `TZ` or `/etc/localtime` say (chrono); the offset is looked up again every new
//! second, so a change to or from summer time shows at once.
//!
//! The seconds part changes once a second, so [`Stamper`] keeps it rendered and only rewrites
//! the sub-second digits.
//!
//! [`parse`] reads runit's three back from the start of a line (for `tai64nlocal`, `p_log`
//! and the syslog forwarder, which recovers each line's time of receipt from it).

use crate::tai64n::{write_hex_u64, Tai64n};
use chrono::NaiveDate;

/// Which timestamp every line gets (`-t` counted, capped at 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timestamp {
    /// No `-t`.
    None,
    /// `-t`: `@` + 24 hex digits of TAI64N.
    Tai64n,
    /// `-tt`: `YYYY-MM-DD_HH:MM:SS.xxxxx` UTC.
    Utc,
    /// `-ttt`: `YYYY-MM-DDTHH:MM:SS.xxxxx` UTC.
    Iso8601,
    /// `-T local`: `YYYY-MM-DD_HH:MM:SS.xxxxx` in local time (the shape of `-tt`).
    Local,
    /// `-T rfc3339`: `YYYY-MM-DDTHH:MM:SS.uuuuuu+hh:mm`, local time with its UTC offset.
    Rfc3339,
    /// `-T rfc3339ns`: the same with nanoseconds.
    Rfc3339Nano,
}

/// A timestamp format's name (also `-T`'s argument).
pub fn parse_stamp(v: &[u8]) -> Option<Timestamp> {
    Some(match v {
        b"none" => Timestamp::None,
        b"tai64n" | b"t" => Timestamp::Tai64n,
        b"utc" | b"tt" => Timestamp::Utc,
        b"iso" | b"ttt" => Timestamp::Iso8601,
        b"" | b"local" => Timestamp::Local,
        b"rfc3339" => Timestamp::Rfc3339,
        b"rfc3339ns" => Timestamp::Rfc3339Nano,
        _ => return None,
    })
}

/// The name [`parse_stamp`] reads for a format.
pub fn stamp_name(t: Timestamp) -> &'static str {
    match t {
        Timestamp::None => "none",
        Timestamp::Tai64n => "tai64n",
        Timestamp::Utc => "utc",
        Timestamp::Iso8601 => "iso",
        Timestamp::Local => "local",
        Timestamp::Rfc3339 => "rfc3339",
        Timestamp::Rfc3339Nano => "rfc3339ns",
    }
}

/// Length of runit's stamps, including the trailing space.
pub const STAMP_LEN: usize = 26;
/// Room for the longest stamp (`rfc3339ns`: 36 bytes).
pub const STAMP_MAX: usize = 40;

/// A rendered stamp, trailing space included (empty for `Timestamp::None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rendered {
    buf: [u8; STAMP_MAX],
    len: u8,
}

impl Default for Rendered {
    fn default() -> Rendered {
        Rendered {
            buf: [b' '; STAMP_MAX],
            len: 0,
        }
    }
}

impl Rendered {
    /// The stamp's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }

    /// A stamp holding `b` (at most [`STAMP_MAX`] bytes).
    pub fn from_bytes(b: &[u8]) -> Rendered {
        let mut s = Rendered::default();
        let n = b.len().min(STAMP_MAX);
        s.buf[..n].copy_from_slice(&b[..n]);
        s.len = n as u8;
        s
    }
}

/// The wall clock now, with the full precision the system gives (runit's formats round it
/// as libtai did when they render it).
pub fn clock_now() -> Tai64n {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => Tai64n::from_unix(d.as_secs() as i64, d.subsec_nanos()),
        Err(_) => Tai64n::now(),
    }
}

/// Renders stamps of one format, re-rendering the date only when the second changes.
#[derive(Debug, Clone)]
pub struct Stamper {
    kind: Timestamp,
    /// The seconds label `buf` currently holds (`None` before the first render).
    cached: Option<u64>,
    buf: [u8; STAMP_MAX],
    len: usize,
}

impl Stamper {
    /// A stamper for one format (`Timestamp::None` renders nothing).
    pub fn new(kind: Timestamp) -> Stamper {
        Stamper {
            kind,
            cached: None,
            buf: [b' '; STAMP_MAX],
            len: 0,
        }
    }

    /// The format this stamper writes.
    pub fn kind(&self) -> Timestamp {
        self.kind
    }

    /// The stamp for the clock reading `t` (empty for `Timestamp::None`).
    pub fn render(&mut self, t: Tai64n) -> &[u8] {
        // libtai's reading of the same moment: microseconds, plus 500 ns.
        let libtai = (t.nanos / 1000) * 1000 + 500;
        match self.kind {
            Timestamp::None => return &[],
            Timestamp::Tai64n => {
                if self.cached != Some(t.secs) {
                    self.buf[0] = b'@';
                    write_hex_u64(t.secs, &mut self.buf[1..17]);
                    self.cached = Some(t.secs);
                    self.buf[25] = b' ';
                    self.len = STAMP_LEN;
                }
                write_hex_u64(libtai as u64, &mut self.buf[17..25]);
            }
            Timestamp::Utc | Timestamp::Iso8601 | Timestamp::Local => {
                if self.cached != Some(t.secs) {
                    let (secs, sep) = match self.kind {
                        Timestamp::Utc => (t.unix_secs(), b'_'),
                        Timestamp::Iso8601 => (t.unix_secs(), b'T'),
                        _ => (t.unix_secs() + local_offset(t.unix_secs()) as i64, b'_'),
                    };
                    write_civil_seconds(secs, sep, &mut self.buf);
                    self.buf[19] = b'.';
                    self.buf[25] = b' ';
                    self.len = STAMP_LEN;
                    self.cached = Some(t.secs);
                }
                // The first five of nine nanosecond digits.
                write_decimal(t.nanos as u64 / 10_000, &mut self.buf[20..25]);
            }
            Timestamp::Rfc3339 | Timestamp::Rfc3339Nano => {
                let digits = if self.kind == Timestamp::Rfc3339 {
                    6
                } else {
                    9
                };
                if self.cached != Some(t.secs) {
                    let off = local_offset(t.unix_secs());
                    write_civil_seconds(t.unix_secs() + off as i64, b'T', &mut self.buf);
                    self.buf[19] = b'.';
                    let z = 20 + digits;
                    self.buf[z] = if off < 0 { b'-' } else { b'+' };
                    let m = off.unsigned_abs() / 60;
                    write_decimal((m / 60) as u64, &mut self.buf[z + 1..z + 3]);
                    self.buf[z + 3] = b':';
                    write_decimal((m % 60) as u64, &mut self.buf[z + 4..z + 6]);
                    self.buf[z + 6] = b' ';
                    self.len = z + 7;
                    self.cached = Some(t.secs);
                }
                let frac = if digits == 6 {
                    t.nanos as u64 / 1000
                } else {
                    t.nanos as u64
                };
                write_decimal(frac, &mut self.buf[20..20 + digits]);
            }
        }
        &self.buf[..self.len]
    }
}

/// `t` as RFC 3339 in UTC with microseconds, `2026-11-22T18:42:17.036720Z` (svlogd's own
/// messages in the log, such as the drop marker).
pub fn rfc3339_utc(t: Tai64n) -> String {
    let mut buf = [b' '; STAMP_MAX];
    write_civil_seconds(t.unix_secs(), b'T', &mut buf);
    buf[19] = b'.';
    write_decimal(t.nanos as u64 / 1000, &mut buf[20..26]);
    buf[26] = b'Z';
    String::from_utf8_lossy(&buf[..27]).into_owned()
}

/// Local time's offset from UTC, in seconds, at Unix time `secs`.
pub fn local_offset(secs: i64) -> i32 {
    use chrono::{Offset, TimeZone};
    match chrono::DateTime::from_timestamp(secs, 0) {
        Some(utc) => chrono::Local
            .offset_from_utc_datetime(&utc.naive_utc())
            .fix()
            .local_minus_utc(),
        None => 0,
    }
}

/// Writes `v` as `out.len()` zero-padded decimal digits (keeping the low digits).
fn write_decimal(mut v: u64, out: &mut [u8]) {
    for b in out.iter_mut().rev() {
        *b = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// Writes `YYYY-MM-DD?HH:MM:SS` (19 bytes) for Unix seconds `secs` (already shifted to the
/// wanted zone).
fn write_civil_seconds(secs: i64, sep: u8, out: &mut [u8; STAMP_MAX]) {
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

/// The stamp a directory with format `kind` put at the start of `line`: its moment and its
/// length (without the space after it). Unlike [`parse`], this reads every format: `local`
/// is `-tt`'s shape in local time, so only the directory's format tells it apart.
pub fn parse_as(kind: Timestamp, line: &[u8]) -> Option<(Moment, usize)> {
    match kind {
        Timestamp::None => None,
        Timestamp::Tai64n | Timestamp::Utc | Timestamp::Iso8601 => {
            parse(line).map(|(s, n)| (s.moment(), n))
        }
        Timestamp::Local => match parse(line)? {
            (Stamp::Utc { secs, frac }, n) => {
                // `secs` is the local wall time read as if it were UTC.
                let off = local_offset(secs - local_offset(secs) as i64) as i64;
                Some((
                    Moment {
                        secs: secs - off,
                        nanos: frac * 10_000,
                    },
                    n,
                ))
            }
            _ => None,
        },
        Timestamp::Rfc3339 | Timestamp::Rfc3339Nano => parse_rfc3339(line),
    }
}

/// `YYYY-MM-DDTHH:MM:SS.fraction±hh:mm` at the start of `line`.
fn parse_rfc3339(line: &[u8]) -> Option<(Moment, usize)> {
    let s = line.get(..20)?;
    if s[4] != b'-' || s[7] != b'-' || s[10] != b'T' || s[13] != b':' || s[16] != b':' {
        return None;
    }
    if s[19] != b'.' {
        return None;
    }
    let digits_end = 20 + line[20..].iter().take_while(|c| c.is_ascii_digit()).count();
    let frac = &line[20..digits_end];
    if frac.is_empty() || frac.len() > 9 {
        return None;
    }
    let zone = line.get(digits_end..digits_end + 6)?;
    let sign: i64 = match zone[0] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    if zone[3] != b':' {
        return None;
    }
    let off = sign * (digits(&zone[1..3])? as i64 * 3600 + digits(&zone[4..6])? as i64 * 60);
    let dt = NaiveDate::from_ymd_opt(
        digits(&s[0..4])? as i32,
        digits(&s[5..7])?,
        digits(&s[8..10])?,
    )?
    .and_hms_opt(
        digits(&s[11..13])?,
        digits(&s[14..16])?,
        digits(&s[17..19])?,
    )?;
    let nanos = digits(frac)? * 10u32.pow(9 - frac.len() as u32);
    Some((
        Moment {
            secs: dt.and_utc().timestamp() - off,
            nanos,
        },
        digits_end + 6,
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
    fn precise_readings_render_as_libtai_did() {
        // A reading with full nanoseconds gives the same -t and -tt stamps as libtai's.
        let secs = 1_795_372_937;
        let precise = Tai64n::from_unix(secs, 36_720_987);
        let libtai = Tai64n::from_unix(secs, 36_720_500);
        for k in [Timestamp::Tai64n, Timestamp::Utc, Timestamp::Iso8601] {
            let a = Stamper::new(k).render(precise).to_vec();
            let b = Stamper::new(k).render(libtai).to_vec();
            assert_eq!(a, b, "{k:?}");
        }
    }

    #[test]
    fn local_and_rfc3339_stamps() {
        use chrono::TimeZone;
        let secs = 1_795_372_937;
        let t = Tai64n::from_unix(secs, 36_720_987);
        let local = chrono::Local.timestamp_opt(secs, 36_720_987).unwrap();
        let mut st = Stamper::new(Timestamp::Local);
        assert_eq!(
            text(st.render(t)),
            local.format("%Y-%m-%d_%H:%M:%S.03672 ").to_string()
        );
        let mut st = Stamper::new(Timestamp::Rfc3339);
        assert_eq!(
            text(st.render(t)),
            local.format("%Y-%m-%dT%H:%M:%S.036720%:z ").to_string()
        );
        let mut st = Stamper::new(Timestamp::Rfc3339Nano);
        assert_eq!(
            text(st.render(t)),
            local.format("%Y-%m-%dT%H:%M:%S.036720987%:z ").to_string()
        );
        // The cached seconds part is kept, the fraction rewritten.
        let t2 = Tai64n::from_unix(secs, 5);
        assert_eq!(
            text(st.render(t2)),
            local.format("%Y-%m-%dT%H:%M:%S.000000005%:z ").to_string()
        );
        assert!(st.render(t2).len() <= STAMP_MAX);
    }

    #[test]
    fn every_format_reads_back() {
        let t = Tai64n::from_unix(1_795_372_937, 36_720_987);
        for (kind, nanos) in [
            (Timestamp::Tai64n, 36_720_500),
            (Timestamp::Utc, 36_720_000),
            (Timestamp::Iso8601, 36_720_000),
            (Timestamp::Local, 36_720_000),
            (Timestamp::Rfc3339, 36_720_000),
            (Timestamp::Rfc3339Nano, 36_720_987),
        ] {
            let mut line = Stamper::new(kind).render(t).to_vec();
            let len = line.len() - 1;
            line.extend_from_slice(b"text");
            assert_eq!(
                parse_as(kind, &line),
                Some((
                    Moment {
                        secs: 1_795_372_937,
                        nanos
                    },
                    len
                )),
                "{kind:?}"
            );
        }
        assert_eq!(parse_as(Timestamp::None, b"@4000"), None);
        assert_eq!(
            parse_as(Timestamp::Rfc3339, b"2026-11-22T18:42:17.03Z"),
            None
        );
    }

    #[test]
    fn utc_rfc3339_for_messages() {
        let t = Tai64n::from_unix(1_795_372_937, 36_720_987);
        assert_eq!(rfc3339_utc(t), "2026-11-22T18:42:17.036720Z");
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

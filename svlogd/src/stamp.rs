//! Line timestamps, byte for byte as runit writes them (spec/svlogd.md §6), and our additional
//! formats, from a cache.
//!
//! runit's stamps are 26 bytes including their trailing space: `-t`
//! `@400000006b03379301a86e4c `, `-tt` `2026-11-22_18:42:17.03672 `, `-ttt`
//! `2026-11-22T18:42:17.03672 `. The TAI64N form uses libtai's reading (label
//! 2^62+10+seconds, nanoseconds µs×1000+500, see `supervise::tai64n`), whatever the precision
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

use crate::options::Timestamp;
use supervise::tai64n::{write_hex_u64, Tai64n};

/// Length of runit's stamps, including the trailing space.
pub const STAMP_LEN: usize = 26;
/// Room for the longest stamp (`rfc3339ns`: 36 bytes).
pub const STAMP_MAX: usize = 40;

/// A rendered stamp, trailing space included (empty for `Timestamp::None`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    buf: [u8; STAMP_MAX],
    len: u8,
}

impl Default for Stamp {
    fn default() -> Stamp {
        Stamp {
            buf: [b' '; STAMP_MAX],
            len: 0,
        }
    }
}

impl Stamp {
    /// The stamp's bytes.
    #[inline]
    pub fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len as usize]
    }

    /// A stamp holding `b` (at most [`STAMP_MAX`] bytes).
    pub fn from_bytes(b: &[u8]) -> Stamp {
        let mut s = Stamp::default();
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

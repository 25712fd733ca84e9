//! TAI64N labels as runit, daemontools and multilog write them.
//!
//! The seconds label is `2^62 + 10 + unix seconds` (libtai's constant offset, no leap-second
//! table; s6 adds 37 instead, see `spec/supervise.md` §0), and a clock reading taken by
//! [`Tai64n::now`] has nanoseconds `µs × 1000 + 500`, as libtai's `taia_now` produces them from
//! `gettimeofday`. This module is the one home of that format: the 12-byte packed form used by
//! `supervise/status`, and the 24-hex-digit form used by `svlogd -t` and rotated file names.
//!
//! The `tai64` crate is not used: its `SystemTime` conversion adds 37 s (the leap seconds to
//! date, s6's labels), where runit, daemontools and multilog add 10, and a label one program
//! writes must read back the same in every other.

use std::time::{SystemTime, UNIX_EPOCH};

/// The difference between a runit TAI64 seconds label and Unix seconds.
pub const OFFSET: u64 = (1 << 62) + 10;

/// A TAI64N moment: the full seconds label (including the 2^62 bit) and nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Tai64n {
    /// TAI64 seconds label, `OFFSET + unix seconds`.
    pub secs: u64,
    /// Nanoseconds within the second, below 10^9 for a valid label.
    pub nanos: u32,
}

const HEX: &[u8; 16] = b"0123456789abcdef";

impl Tai64n {
    /// The current wall-clock time the way libtai's `taia_now` reads it (µs resolution, +500 ns).
    pub fn now() -> Tai64n {
        Tai64n::from_system_time(SystemTime::now())
    }

    /// A wall-clock time with libtai's rounding: microseconds kept, 500 ns added.
    pub fn from_system_time(t: SystemTime) -> Tai64n {
        let (secs, nanos) = match t.duration_since(UNIX_EPOCH) {
            Ok(d) => (d.as_secs() as i64, d.subsec_nanos()),
            Err(e) => {
                // Before 1970: step back to the whole second below and count forward.
                let d = e.duration();
                let mut s = -(d.as_secs() as i64);
                let mut n = d.subsec_nanos();
                if n > 0 {
                    s -= 1;
                    n = 1_000_000_000 - n;
                }
                (s, n)
            }
        };
        Tai64n::from_unix(secs, (nanos / 1000) * 1000 + 500)
    }

    /// A label for the given Unix seconds and nanoseconds, with no rounding applied.
    pub fn from_unix(secs: i64, nanos: u32) -> Tai64n {
        Tai64n {
            secs: OFFSET.wrapping_add(secs as u64),
            nanos,
        }
    }

    /// The Unix seconds this label stands for.
    pub fn unix_secs(&self) -> i64 {
        self.secs.wrapping_sub(OFFSET) as i64
    }

    /// The 12-byte big-endian form (8 bytes seconds, 4 bytes nanoseconds).
    pub fn pack(&self) -> [u8; 12] {
        let mut b = [0u8; 12];
        b[..8].copy_from_slice(&self.secs.to_be_bytes());
        b[8..].copy_from_slice(&self.nanos.to_be_bytes());
        b
    }

    /// Reads the 12-byte big-endian form.
    pub fn unpack(b: &[u8; 12]) -> Tai64n {
        let mut s = [0u8; 8];
        s.copy_from_slice(&b[..8]);
        let mut n = [0u8; 4];
        n.copy_from_slice(&b[8..]);
        Tai64n {
            secs: u64::from_be_bytes(s),
            nanos: u32::from_be_bytes(n),
        }
    }

    /// Writes the 24 lowercase hex digits (16 for seconds, 8 for nanoseconds), without `@`.
    pub fn write_hex(&self, out: &mut [u8; 24]) {
        write_hex_u64(self.secs, &mut out[..16]);
        write_hex_u64(self.nanos as u64, &mut out[16..]);
    }

    /// The 24 hex digits as a `String`, for file names and messages.
    pub fn to_hex(&self) -> String {
        let mut b = [0u8; 24];
        self.write_hex(&mut b);
        String::from_utf8_lossy(&b).into_owned()
    }

    /// Parses 24 hex digits (either case, no `@`). Returns `None` for anything else.
    pub fn parse_hex(s: &[u8]) -> Option<Tai64n> {
        if s.len() != 24 {
            return None;
        }
        let secs = parse_hex_u64(&s[..16])?;
        let nanos = parse_hex_u64(&s[16..])? as u32;
        Some(Tai64n { secs, nanos })
    }
}

/// Writes `v` as `out.len()` lowercase hex digits, most significant first.
pub fn write_hex_u64(mut v: u64, out: &mut [u8]) {
    for b in out.iter_mut().rev() {
        *b = HEX[(v & 15) as usize];
        v >>= 4;
    }
}

fn parse_hex_u64(s: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for &c in s {
        let d = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            b'A'..=b'F' => c - b'A' + 10,
            _ => return None,
        };
        v = (v << 4) | d as u64;
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn label_of_a_known_second() {
        // spec/svlogd.md §2.8: the label is 2^62 + 10 + unix seconds.
        let t = Tai64n::from_unix(0x6b03_3797 - 10, 0x2f6e_0954);
        assert_eq!(t.to_hex(), "400000006b0337972f6e0954");
        assert_eq!(t.unix_secs(), 0x6b03_3797 - 10);
    }

    #[test]
    fn clock_readings_end_in_500_nanoseconds() {
        let t = Tai64n::from_system_time(UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789));
        assert_eq!(t.nanos, 123_456_500);
        assert_eq!(t.unix_secs(), 1_700_000_000);
    }

    #[test]
    fn pack_round_trips() {
        let t = Tai64n {
            secs: 0x4000_0000_6b03_37b9,
            nanos: 0x2046_0bfc,
        };
        let b = t.pack();
        assert_eq!(
            b,
            [0x40, 0, 0, 0, 0x6b, 0x03, 0x37, 0xb9, 0x20, 0x46, 0x0b, 0xfc]
        );
        assert_eq!(Tai64n::unpack(&b), t);
        assert_eq!(Tai64n::parse_hex(t.to_hex().as_bytes()), Some(t));
    }

    #[test]
    fn parse_rejects_bad_hex() {
        assert_eq!(Tai64n::parse_hex(b"400000006b0337972f6e095"), None);
        assert_eq!(Tai64n::parse_hex(b"400000006b0337972f6e095g"), None);
        assert!(Tai64n::parse_hex(b"400000006B0337972F6E0954").is_some());
    }

    #[test]
    fn before_the_epoch() {
        let t = Tai64n::from_system_time(UNIX_EPOCH - Duration::new(1, 250_000_000));
        assert_eq!(t.unix_secs(), -2);
        assert_eq!(t.nanos, 750_000_500);
    }
}

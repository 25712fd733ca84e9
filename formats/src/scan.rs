//! djb's `scan_ulong`: the decimal-prefix number reader behind every number runit's programs
//! accept (svlogd's options and `config`, `sv -w`, `$SVWAIT`).
//!
//! runit reads `-l 12abc` as 12, `sfoo` as 0 and `s1k` as 1 followed by the suffix `k`: it takes
//! the longest run of leading ASCII digits, never complains, and lets the value wrap on overflow
//! (`unsigned long` arithmetic). Scripts and configs rely on that leniency, so every number goes
//! through [`scan_ulong`].

/// Reads the leading decimal digits of `s`. Returns the value (wrapping like C's `unsigned long`)
/// and how many bytes were digits; no digits gives `(0, 0)`.
pub fn scan_ulong(s: &[u8]) -> (u64, usize) {
    let mut value: u64 = 0;
    let mut pos = 0;
    while let Some(&c) = s.get(pos) {
        let d = c.wrapping_sub(b'0');
        if d >= 10 {
            break;
        }
        value = value.wrapping_mul(10).wrapping_add(d as u64);
        pos += 1;
    }
    (value, pos)
}

#[cfg(test)]
mod tests {
    use super::scan_ulong;

    #[test]
    fn decimal_prefix() {
        assert_eq!(scan_ulong(b"123abc"), (123, 3));
        assert_eq!(scan_ulong(b"abc"), (0, 0));
        assert_eq!(scan_ulong(b""), (0, 0));
        assert_eq!(scan_ulong(b"0007\r"), (7, 4));
        assert_eq!(scan_ulong(b"-1"), (0, 0));
        assert_eq!(scan_ulong(b" 1"), (0, 0));
    }

    #[test]
    fn wraps_like_unsigned_long() {
        // 2^64 + 5 wraps to 5.
        assert_eq!(scan_ulong(b"18446744073709551621"), (5, 20));
    }
}

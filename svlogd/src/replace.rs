//! `-r c` / `-R abc`: replacing bytes in the first `-l` bytes of each line (spec/svlogd.md §7).
//!
//! runit replaces every byte below 32 or above 126 (so every UTF-8 byte, TAB, NUL and ESC too)
//! and every byte of the `-R` set, and only in the part of the line it matches and forwards
//! (the first `len` bytes); the rest of a long line reaches the log untouched. One 256-entry
//! table, built once, does it.

/// The replacement table, or nothing when replacing is off.
#[derive(Debug, Clone)]
pub struct Replacer {
    table: Option<Box<[u8; 256]>>,
}

impl Replacer {
    /// Builds the table for `-r`/`-R` (`None` = no replacing).
    pub fn new(replace_char: Option<u8>, set: &[u8]) -> Replacer {
        let table = replace_char.map(|c| {
            let mut t = Box::new([0u8; 256]);
            for (i, slot) in t.iter_mut().enumerate() {
                let b = i as u8;
                *slot = if !(32..=126).contains(&b) || set.contains(&b) {
                    c
                } else {
                    b
                };
            }
            t
        });
        Replacer { table }
    }

    /// Whether replacing is on.
    pub fn active(&self) -> bool {
        self.table.is_some()
    }

    /// Replaces, in place, every byte of `bytes` the options say to replace.
    pub fn apply(&self, bytes: &mut [u8]) {
        if let Some(t) = &self.table {
            for b in bytes {
                *b = t[*b as usize];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Replacer;

    #[test]
    fn non_printables_and_the_set() {
        let r = Replacer::new(Some(b'_'), b"ab");
        let mut s = *b"a\tb\x00c\xc3\xa9d\x7f~ ";
        r.apply(&mut s);
        assert_eq!(&s, b"____c__d_~ ");
    }

    #[test]
    fn off_and_idempotent() {
        let r = Replacer::new(None, b"x");
        assert!(!r.active());
        let mut s = *b"x\t";
        r.apply(&mut s);
        assert_eq!(&s, b"x\t");
        let r = Replacer::new(Some(b'\t'), b"");
        let mut s = *b"a\tb\x01";
        r.apply(&mut s);
        r.apply(&mut s);
        assert_eq!(&s, b"a\tb\t");
    }
}

//! The names of a log directory's rotated files ("archives"), and the order they are made in.
//!
//! runit names every rotated file `@`, 24 hex digits (the TAI64N label of the rotation), `.`
//! and a letter: `.s` saved, `.u` unfinished (waiting for, or being fed to, the processor), `.t`
//! the processor's output in progress. Compression adds `.s.gz` (what the log viewers in
//! `tools` read) and its work file `.s.gz.tmp`. runit's own code only looks at 27-byte names,
//! so it neither counts nor deletes the longer ones.
//!
//! **Order.** Archives are ordered by label, which runit takes from the wall clock at each
//! rotation. A clock that steps back would then give the newest file the smallest label, and
//! pruning ("delete the oldest") would delete the newest data. So a new label is never
//! allowed to be smaller than one already in the directory: [`next_label`] takes the clock's
//! label if it is greater than the newest label present, and the newest label plus one
//! nanosecond otherwise. Labels then always grow in the order files are made, whatever the
//! clock does; after a step back they run ahead of the clock (by at most the size of the
//! step) until the clock catches up, and a step forward simply leaves a gap.

use crate::tai64n::Tai64n;

/// What a rotated file is, by its suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Suffix {
    /// `.s`: a finished file (rotated `current`, or a processor's output).
    Saved,
    /// `.s.gz`: a finished file, gzip-compressed.
    SavedGz,
    /// `.u.gz`: an unfinished file someone compressed (svlogd never makes one; the log
    /// viewers read it, svlogd leaves it alone).
    UnfinishedGz,
    /// `.u`: unfinished (waiting for the processor, or recovered after a crash).
    Unfinished,
    /// `.t`: a processor's output in progress.
    Processing,
    /// `.s.gz.tmp`: a compression in progress.
    GzTemp,
}

impl Suffix {
    /// The text after the label, dot included.
    pub fn text(self) -> &'static [u8] {
        match self {
            Suffix::Saved => b".s",
            Suffix::SavedGz => b".s.gz",
            Suffix::UnfinishedGz => b".u.gz",
            Suffix::Unfinished => b".u",
            Suffix::Processing => b".t",
            Suffix::GzTemp => b".s.gz.tmp",
        }
    }

    /// Whether the file is log data that counts against `n`, `S` and the age limit (work
    /// files do not).
    pub fn is_log(self) -> bool {
        matches!(self, Suffix::Saved | Suffix::SavedGz | Suffix::Unfinished)
    }
}

/// A parsed archive name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name {
    /// The 24 hex digits.
    pub label: [u8; 24],
    /// What the file is.
    pub suffix: Suffix,
}

impl Name {
    /// Reads `@<24 hex>.<suffix>`; `None` for anything else. This is the one reader of
    /// archive names: svlogd's retention, compressor and forwarder and the log viewers all
    /// use it.
    pub fn parse(name: &[u8]) -> Option<Name> {
        if name.len() < 27 || name[0] != b'@' || name[25] != b'.' {
            return None;
        }
        let suffix = match &name[25..] {
            b".s" => Suffix::Saved,
            b".s.gz" => Suffix::SavedGz,
            b".u" => Suffix::Unfinished,
            b".u.gz" => Suffix::UnfinishedGz,
            b".t" => Suffix::Processing,
            b".s.gz.tmp" => Suffix::GzTemp,
            _ => return None,
        };
        Some(Name {
            label: label(&name[1..25])?,
            suffix,
        })
    }

    /// The file name.
    pub fn to_bytes(self) -> Vec<u8> {
        let mut v = Vec::with_capacity(34);
        v.push(b'@');
        v.extend_from_slice(&self.label);
        v.extend_from_slice(self.suffix.text());
        v
    }

    /// The same label with another suffix.
    pub fn with(self, suffix: Suffix) -> Name {
        Name { suffix, ..self }
    }
}

/// A label: exactly 24 lowercase hex digits, as runit writes them.
pub fn label(hex: &[u8]) -> Option<[u8; 24]> {
    let label: [u8; 24] = hex.try_into().ok()?;
    label
        .iter()
        .all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'))
        .then_some(label)
}

/// The label of an archive's file name, if it is one.
pub fn label_of(name: &[u8]) -> Option<[u8; 24]> {
    Name::parse(name).map(|n| n.label)
}

/// runit's 27-byte form of a name (`@` + label + `.` + letter).
pub fn short_name(label: &[u8; 24], letter: u8) -> [u8; 27] {
    let mut n = [0u8; 27];
    n[0] = b'@';
    n[1..25].copy_from_slice(label);
    n[25] = b'.';
    n[26] = letter;
    n
}

/// The label for a file made now: the clock's, unless that is not greater than `newest` (the
/// greatest label in the directory), then `newest` + 1 ns (see the module doc).
pub fn next_label(now: Tai64n, newest: Option<[u8; 24]>) -> [u8; 24] {
    let mut out = [0u8; 24];
    now.write_hex(&mut out);
    if let Some(n) = newest {
        if out <= n {
            let t = Tai64n::parse_hex(&n).map(successor).unwrap_or(now);
            t.write_hex(&mut out);
        }
    }
    out
}

/// The label one nanosecond later.
fn successor(t: Tai64n) -> Tai64n {
    if t.nanos >= 999_999_999 {
        Tai64n {
            secs: t.secs.wrapping_add(1),
            nanos: 0,
        }
    } else {
        Tai64n {
            nanos: t.nanos + 1,
            ..t
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for s in [
            "@400000006b0337972f6e0954.s",
            "@400000006b0337972f6e0954.s.gz",
            "@400000006b0337972f6e0954.u",
            "@400000006b0337972f6e0954.t",
            "@400000006b0337972f6e0954.s.gz.tmp",
            "@400000006b0337972f6e0954.u.gz",
        ] {
            let n = Name::parse(s.as_bytes()).unwrap();
            assert_eq!(n.to_bytes(), s.as_bytes());
        }
        for bad in [
            "@400000006b0337972f6e0954.x",
            "@400000006b0337972f6e095.s",
            "@400000006B0337972f6e0954.s",
            "400000006b0337972f6e0954.s",
            "@400000006b0337972f6e0954.t.gz",
            "current",
        ] {
            assert_eq!(Name::parse(bad.as_bytes()), None, "{bad}");
        }
        let n = Name::parse(b"@400000006b0337972f6e0954.s").unwrap();
        assert_eq!(short_name(&n.label, b'u'), *b"@400000006b0337972f6e0954.u");
        assert_eq!(
            n.with(Suffix::SavedGz).to_bytes(),
            b"@400000006b0337972f6e0954.s.gz"
        );
    }

    #[test]
    fn labels_of_names() {
        assert!(label_of(b"@400000006b0337972f6e0954.s").is_some());
        assert!(label_of(b"@400000006b0337972f6e0954.s.gz").is_some());
        assert!(label_of(b"@400000006b0337972f6e0954").is_none());
        assert!(label_of(b"@400000006b0337972f6e095x.s").is_none());
        assert!(label_of(b"current").is_none());
        assert_eq!(
            label(b"400000006b0337972f6e0954"),
            Some(*b"400000006b0337972f6e0954")
        );
        assert_eq!(label(b"400000006B0337972F6E0954"), None);
    }

    #[test]
    fn labels_never_go_backwards() {
        let now = Tai64n::from_unix(1_795_372_937, 500);
        let mut hex = [0u8; 24];
        now.write_hex(&mut hex);
        assert_eq!(next_label(now, None), hex);
        // The clock is ahead of the directory: its label.
        let older = Tai64n::from_unix(1_795_372_000, 500);
        let mut old = [0u8; 24];
        older.write_hex(&mut old);
        assert_eq!(next_label(now, Some(old)), hex);
        // The directory is ahead (the clock stepped back a day): newest + 1 ns.
        let ahead = Tai64n::from_unix(1_795_372_937 + 86_400, 999_999_999);
        let mut a = [0u8; 24];
        ahead.write_hex(&mut a);
        let got = Tai64n::parse_hex(&next_label(now, Some(a))).unwrap();
        assert_eq!(got, Tai64n::from_unix(1_795_372_937 + 86_401, 0));
        // The same label twice: still strictly greater.
        assert!(next_label(now, Some(hex)) > hex);
    }
}

//! A log directory as svlogd leaves it (`spec/svlogd.md` §2): `current`, and archives named
//! `@` + 24 hex digits (the TAI64N time of the rotation) + `.s` (finished), `.u` (unfinished)
//! or, once compressed, `.s.gz` / `.u.gz`. `.t` files are a processor's work in progress and are
//! never shown.

use crate::localtime::Moment;
use flate2::read::MultiGzDecoder;
use formats::tai64n::Tai64n;
use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The file svlogd appends to.
pub const CURRENT: &str = "current";

/// One rotated file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Archive {
    /// The file name.
    pub name: OsString,
    /// `@` and the 24 hex digits: equal for a file and its compressed copy.
    pub key: [u8; 25],
    /// When it was rotated.
    pub rotated: Moment,
    /// Whether it is gzip-compressed.
    pub gz: bool,
}

/// Which of two names for the same rotation to read: the finished text first, then its
/// compressed copy, then an unfinished file.
fn rank(name: &[u8]) -> u8 {
    match &name[25..] {
        b".s" => 0,
        b".s.gz" => 1,
        b".u" => 2,
        _ => 3,
    }
}

/// The archive a file name stands for, if it is one a viewer reads (`.s`, `.u`, `.s.gz`,
/// `.u.gz`; not a processor's or the compressor's work file).
pub fn archive(name: &[u8]) -> Option<Archive> {
    use formats::archive::{Name, Suffix};
    let n = Name::parse(name)?;
    if !matches!(
        n.suffix,
        Suffix::Saved | Suffix::Unfinished | Suffix::SavedGz | Suffix::UnfinishedGz
    ) {
        return None;
    }
    let t = Tai64n::parse_hex(&n.label)?;
    let mut key = [0u8; 25];
    key.copy_from_slice(&name[..25]);
    Some(Archive {
        name: OsString::from(std::ffi::OsStr::from_bytes(name)),
        key,
        rotated: Moment {
            secs: t.unix_secs(),
            nanos: t.nanos.min(999_999_999),
        },
        gz: matches!(n.suffix, Suffix::SavedGz | Suffix::UnfinishedGz),
    })
}

/// How many times [`archives`] reads a directory again while the readings disagree.
const SETTLE_TRIES: usize = 10;

/// The archives of `dir`, oldest first, one per rotation.
///
/// One reading of a directory may miss a name made while it runs (POSIX leaves that open; musl
/// reads 2 KiB of entries per system call, glibc 32 KiB, so a busy directory changes between
/// calls), and a follower that missed a rotation older than one it saw would never show it.
/// So the directory is read again, until a second reading shows no rotation older than the
/// first one's newest that the first missed: a name that existed through the whole second
/// reading is in it.
pub fn archives(dir: &Path) -> io::Result<Vec<Archive>> {
    let mut list = read_archives(dir)?;
    for _ in 0..SETTLE_TRIES {
        let Some(newest) = list.last().map(|a| a.key) else {
            break;
        };
        let again = read_archives(dir)?;
        let missed = again
            .iter()
            .any(|a| a.key < newest && list.binary_search_by(|b| b.key.cmp(&a.key)).is_err());
        if !missed {
            break;
        }
        list = again;
    }
    Ok(list)
}

/// One reading of the archives of `dir`, oldest first, one per rotation.
fn read_archives(dir: &Path) -> io::Result<Vec<Archive>> {
    let mut all: Vec<Archive> = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        if let Some(a) = archive(e.file_name().as_bytes()) {
            all.push(a);
        }
    }
    all.sort_by(|a, b| {
        a.key
            .cmp(&b.key)
            .then(rank(a.name.as_bytes()).cmp(&rank(b.name.as_bytes())))
    });
    all.dedup_by(|later, first| later.key == first.key);
    Ok(all)
}

/// Opens an archive for reading, decompressing it if needed.
pub fn open(dir: &Path, a: &Archive) -> io::Result<(Box<dyn Read>, (u64, u64))> {
    let f = File::open(dir.join(&a.name))?;
    let md = f.metadata()?;
    let id = (md.dev(), md.ino());
    let r: Box<dyn Read> = if a.gz {
        Box::new(MultiGzDecoder::new(io::BufReader::new(f)))
    } else {
        Box::new(f)
    };
    Ok((r, id))
}

/// Where a log named on the command line lives: a name with a `/` is a path; otherwise it is
/// looked up under `base`.
pub fn resolve(name: &std::ffi::OsStr, base: &Path) -> PathBuf {
    if name.as_bytes().contains(&b'/') {
        PathBuf::from(name)
    } else {
        base.join(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let a = archive(b"@400000006b0337972f6e0954.s").unwrap();
        assert!(!a.gz);
        assert_eq!(a.rotated.secs, 1_795_372_941);
        assert!(archive(b"@400000006b0337972f6e0954.s.gz").unwrap().gz);
        assert!(archive(b"@400000006b0337972f6e0954.u").is_some());
        for bad in [
            &b"@400000006b0337972f6e0954.t"[..],
            b"@400000006b0337972f6e095.s",
            b"current",
            b"@400000006b0337972f6e0954.sx",
            b"@zz0000006b0337972f6e0954.s",
        ] {
            assert!(archive(bad).is_none());
        }
    }

    #[test]
    fn one_file_per_rotation_in_order() {
        let dir = std::env::temp_dir().join(format!("logdir-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for n in [
            "@400000006b0337972f6e0954.s.gz",
            "@400000006b0337972f6e0954.s",
            "@400000006b0337962f6e0954.u",
            "@400000006b0337982f6e0954.s.gz",
            "@400000006b0337992f6e0954.t",
            "current",
            "lock",
        ] {
            std::fs::write(dir.join(n), "").unwrap();
        }
        let names: Vec<String> = archives(&dir)
            .unwrap()
            .into_iter()
            .map(|a| a.name.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            names,
            [
                "@400000006b0337962f6e0954.u",
                "@400000006b0337972f6e0954.s",
                "@400000006b0337982f6e0954.s.gz"
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

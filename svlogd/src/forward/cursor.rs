//! Positions in a log directory's data, and the cursor file that keeps one across restarts.
//!
//! A position names a file and a byte offset in it. Rotated files are named by their TAI64N
//! label alone (`@400000006b0337972f6e0954`), whatever their suffix (`.u` before the processor,
//! `.s`, `.s.gz` once compressed), so a position survives the renames and compression that
//! follow a rotation; offsets always count uncompressed bytes. `current` is named by its inode,
//! which it keeps when rotation renames it, so a position in `current` can be found again in
//! the archive it became.
//!
//! The cursor file (`forward.<target>` in the log directory, a name svlogd's rotated files and
//! runit's own files never take) holds one line, `FILE OFFSET SAVED`, where FILE is
//! `@<24 hex>` or `current:<inode>` and SAVED is the TAI64N label of when it was written (so a
//! `current` that was rotated and compressed while svlogd was not running can still be found:
//! it is the first archive rotated after SAVED). It is written to `.new`, fsynced and renamed.

use formats::tai64n::Tai64n;
use nix::libc;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use sys::dirfd::{openat, renameat};

/// The prefix of every cursor file's name.
pub const PREFIX: &str = "forward.";

/// Which file of the log directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileId {
    /// A rotated file, by the 24 hex digits of its name's label.
    Archive([u8; 24]),
    /// `current` (or what it became), by inode.
    Current(u64),
}

/// A byte offset in a file of the log directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// The file.
    pub file: FileId,
    /// Bytes before the position (uncompressed).
    pub offset: u64,
}

/// What a cursor file says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    /// Where sending resumes.
    pub pos: Pos,
    /// When it was saved.
    pub saved: Tai64n,
}

impl Cursor {
    /// The file's one line.
    pub fn render(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(80);
        match self.pos.file {
            FileId::Archive(l) => {
                v.push(b'@');
                v.extend_from_slice(&l);
            }
            FileId::Current(ino) => v.extend_from_slice(format!("current:{ino}").as_bytes()),
        }
        v.extend_from_slice(format!(" {} ", self.pos.offset).as_bytes());
        let mut hex = [0u8; 24];
        self.saved.write_hex(&mut hex);
        v.extend_from_slice(&hex);
        v.push(b'\n');
        v
    }

    /// Reads the line back; `None` for anything that is not exactly a cursor.
    pub fn parse(data: &[u8]) -> Option<Cursor> {
        let line = data.strip_suffix(b"\n")?;
        let mut words = line.split(|&b| b == b' ');
        let file = words.next()?;
        let offset = number(words.next()?)?;
        let saved = Tai64n::parse_hex(words.next()?)?;
        if words.next().is_some() {
            return None;
        }
        let file = if let Some(ino) = file.strip_prefix(b"current:") {
            FileId::Current(number(ino)?)
        } else {
            FileId::Archive(formats::archive::label(file.strip_prefix(b"@")?)?)
        };
        Some(Cursor {
            pos: Pos { file, offset },
            saved,
        })
    }

    /// Reads `name` in `dir`: `Ok(None)` when there is none (or it is not a cursor).
    pub fn load(dir: &OwnedFd, name: &[u8]) -> Result<Option<Cursor>, i32> {
        let fd = match openat(dir, name, libc::O_RDONLY) {
            Ok(fd) => fd,
            Err(libc::ENOENT) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut data = Vec::new();
        std::fs::File::from(fd)
            .take(4096)
            .read_to_end(&mut data)
            .map_err(|e| formats::strerr::errno_of(&e))?;
        Ok(Cursor::parse(&data))
    }

    /// Writes it to `name` in `dir`: `.new`, fsync, rename.
    pub fn save(&self, dir: &OwnedFd, name: &[u8]) -> Result<(), i32> {
        let mut tmp = name.to_vec();
        tmp.extend_from_slice(b".new");
        let fd = openat(dir, &tmp, libc::O_WRONLY | libc::O_CREAT | libc::O_TRUNC)?;
        let mut f = std::fs::File::from(fd);
        let errno = |e: std::io::Error| formats::strerr::errno_of(&e);
        f.write_all(&self.render()).map_err(errno)?;
        f.sync_data().map_err(errno)?;
        renameat(dir, &tmp, name)
    }
}

/// A decimal number of at most 20 digits, nothing else.
fn number(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(s).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let saved = Tai64n::from_unix(1_795_372_937, 500);
        for file in [
            FileId::Archive(*b"400000006b0337972f6e0954"),
            FileId::Current(1234567),
        ] {
            let c = Cursor {
                pos: Pos { file, offset: 42 },
                saved,
            };
            assert_eq!(Cursor::parse(&c.render()), Some(c));
        }
        let text = b"@400000006b0337972f6e0954 42 400000006b033789000001f4\n";
        assert!(Cursor::parse(text).is_some());
    }

    #[test]
    fn junk_is_no_cursor() {
        for bad in [
            &b""[..],
            b"\n",
            b"current:1 2 400000006b033789000001f4",
            b"current:1 2 400000006b033789000001f4 x\n",
            b"current:x 2 400000006b033789000001f4\n",
            b"current:1 -2 400000006b033789000001f4\n",
            b"@400000006b0337972f6e095 42 400000006b033789000001f4\n",
            b"@400000006B0337972f6e0954 42 400000006b033789000001f4\n",
            b"@400000006b0337972f6e0954 42 zz\n",
            b"current:1 99999999999999999999999 400000006b033789000001f4\n",
        ] {
            assert_eq!(
                Cursor::parse(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}

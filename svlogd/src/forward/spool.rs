//! The log directory read as a spool: the forwarder's own view of the files svlogd writes,
//! oldest first, from any saved position.
//!
//! The order is the rotated files by label (the time of their rotation), then `current`. The
//! file being read is held open, so a rotation (rename), a processor (which deletes the `.u`)
//! or compression (which replaces `.s` by `.s.gz`) never pulls it away mid-read. When `current`
//! ends, it is final only once svlogd says it was renamed (the event loop passes every
//! rotation's inode and label through [`super::shared::Shared`]); it is then read to its end once more
//! and the next file is taken. A line that svlogd's size limit split across two files is read
//! as one line.
//!
//! Rotated files are read through streaming gzip decompression when they start with gzip's
//! magic bytes (a `!gzip` processor's output, or compressed archives), so offsets always count
//! the uncompressed bytes that svlogd wrote. With a processor, the raw `@T.u` is read while it
//! exists, else its `.s` (whatever the processor made of it, gunzipped if it is gzip).

use super::cursor::{FileId, Pos};
use flate2::read::MultiGzDecoder;
use formats::archive::label_of as archive_label;
use nix::libc;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use sys::dirfd::{list, openat, statat};

/// Bytes read from a file at a time.
const CHUNK: usize = 128 * 1024;
/// A line longer than this (without a newline) is handed out in pieces of this size.
pub const LONG_LINE: usize = 256 * 1024;

enum Reader {
    Plain(File),
    Gz(Box<MultiGzDecoder<File>>),
}

impl Read for Reader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Reader::Plain(f) => f.read(buf),
            Reader::Gz(g) => g.read(buf),
        }
    }
}

/// The file being read.
struct Open {
    id: FileId,
    ino: u64,
    /// Modification time (Unix seconds), the time fallback for lines with no other.
    mtime: i64,
    reader: Reader,
}

/// Why a position cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Missing {
    /// The file is gone (pruned before it was sent).
    Gone,
    /// A system error (errno).
    Sys(i32),
}

/// The log directory as a stream of lines.
pub struct Spool {
    dir: OwnedFd,
    file: Option<Open>,
    /// Inodes of former `current`s and the labels they were renamed to (newest last).
    renamed: Vec<(u64, [u8; 24])>,
    buf: Vec<u8>,
    /// The first byte not yet consumed (a line start).
    start: usize,
    end: usize,
    /// Where the open file's bytes begin in `buf` (before: the unfinished last line of the
    /// previous file).
    file_start: usize,
    /// The open file's offset of `buf[file_start]`.
    file_base: u64,
    /// The position of `buf[start]`.
    line_pos: Pos,
    /// Bytes of the current line already handed out as pieces (a line over [`LONG_LINE`]).
    skipping: bool,
}

impl Spool {
    /// A spool over the log directory `dir` (an fd of its own), positioned nowhere yet.
    pub fn new(dir: OwnedFd, pos: Pos) -> Spool {
        Spool {
            dir,
            file: None,
            renamed: Vec::new(),
            buf: Vec::new(),
            start: 0,
            end: 0,
            file_start: 0,
            file_base: pos.offset,
            line_pos: pos,
            skipping: false,
        }
    }

    /// The directory.
    pub fn dir(&self) -> &OwnedFd {
        &self.dir
    }

    /// Records that `current` with inode `ino` was renamed to the rotated file `label`.
    pub fn renamed(&mut self, ino: u64, label: [u8; 24]) {
        if !self.renamed.iter().any(|r| r.0 == ino) {
            self.renamed.push((ino, label));
            if self.renamed.len() > 256 {
                self.renamed.remove(0);
            }
        }
    }

    /// The file a position is in, with a renamed `current` named by its label.
    pub fn resolve(&self, id: FileId) -> FileId {
        match id {
            FileId::Current(ino) => match self.renamed.iter().find(|r| r.0 == ino) {
                Some(&(_, l)) => FileId::Archive(l),
                None => id,
            },
            a => a,
        }
    }

    /// The position of the next line to be handed out.
    pub fn pos(&self) -> Pos {
        self.line_pos
    }

    /// Inode and mtime of the file being read (for the time of lines without a stamp).
    pub fn file_info(&self) -> Option<(u64, i64)> {
        self.file.as_ref().map(|f| (f.ino, f.mtime))
    }

    /// Goes to `pos`: the next line handed out starts there. `Err(Gone)` when its file no
    /// longer exists.
    pub fn seek(&mut self, pos: Pos) -> Result<(), Missing> {
        self.file = None;
        self.start = 0;
        self.end = 0;
        self.file_start = 0;
        self.skipping = false;
        let pos = Pos {
            file: self.resolve(pos.file),
            offset: pos.offset,
        };
        self.line_pos = pos;
        self.file_base = pos.offset;
        let mut open = self.open(pos.file)?;
        if let Reader::Plain(f) = &mut open.reader {
            f.seek(SeekFrom::Start(pos.offset))
                .map_err(|e| Missing::Sys(formats::strerr::errno_of(&e)))?;
        } else {
            let skipped = io::copy(&mut (&mut open.reader).take(pos.offset), &mut io::sink())
                .map_err(|e| Missing::Sys(formats::strerr::errno_of(&e)))?;
            if skipped < pos.offset {
                self.file_base = skipped;
            }
        }
        self.line_pos.file = open.id;
        self.file = Some(open);
        Ok(())
    }

    /// Opens a file of the directory by its identity.
    fn open(&self, id: FileId) -> Result<Open, Missing> {
        match self.resolve(id) {
            FileId::Archive(label) => self.open_archive(label),
            FileId::Current(ino) => {
                if let Ok(f) = self.open_current() {
                    if f.ino == ino {
                        return Ok(f);
                    }
                }
                // Rotated since: find the archive that has the inode.
                let names = list(&self.dir).map_err(Missing::Sys)?;
                for n in names.iter() {
                    if let Some(label) = archive_label(n) {
                        if ino_of(&self.dir, n) == Some(ino) {
                            return self.open_archive(label);
                        }
                    }
                }
                Err(Missing::Gone)
            }
        }
    }

    fn open_current(&self) -> Result<Open, Missing> {
        let fd = openat(&self.dir, b"current", libc::O_RDONLY).map_err(|e| {
            if e == libc::ENOENT {
                Missing::Gone
            } else {
                Missing::Sys(e)
            }
        })?;
        let f = File::from(fd);
        let md = f
            .metadata()
            .map_err(|e| Missing::Sys(formats::strerr::errno_of(&e)))?;
        Ok(Open {
            id: FileId::Current(md.ino()),
            ino: md.ino(),
            mtime: md.mtime(),
            reader: Reader::Plain(f),
        })
    }

    /// Opens the rotated file with this label: the raw `.u` if it is still there, else `.s`,
    /// else any other suffix (a compressed archive).
    fn open_archive(&self, label: [u8; 24]) -> Result<Open, Missing> {
        let names = list(&self.dir).map_err(Missing::Sys)?;
        let candidates: Vec<&[u8]> = names
            .iter()
            .filter(|n| archive_label(n) == Some(label) && n[26] != b't')
            .collect();
        let rank = |n: &[u8]| match &n[26..] {
            b"u" => 0,
            b"s" => 1,
            _ => 2,
        };
        let name = candidates
            .into_iter()
            .min_by_key(|n| rank(n))
            .ok_or(Missing::Gone)?;
        let fd = openat(&self.dir, name, libc::O_RDONLY).map_err(|e| {
            if e == libc::ENOENT {
                Missing::Gone
            } else {
                Missing::Sys(e)
            }
        })?;
        let mut f = File::from(fd);
        let md = f
            .metadata()
            .map_err(|e| Missing::Sys(formats::strerr::errno_of(&e)))?;
        let mut magic = [0u8; 2];
        let n = sys::fs::read_full(&mut f, &mut magic);
        f.seek(SeekFrom::Start(0))
            .map_err(|e| Missing::Sys(formats::strerr::errno_of(&e)))?;
        let reader = if n == 2 && magic == [0x1f, 0x8b] {
            Reader::Gz(Box::new(MultiGzDecoder::new(f)))
        } else {
            Reader::Plain(f)
        };
        Ok(Open {
            id: FileId::Archive(label),
            ino: md.ino(),
            mtime: md.mtime(),
            reader,
        })
    }

    /// The unconsumed bytes: complete lines, then perhaps the start of one.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.start..self.end]
    }

    /// Whether the unconsumed bytes are one line too long to wait for: hand them out as a
    /// piece.
    pub fn is_full(&self) -> bool {
        self.end - self.start >= LONG_LINE
    }

    /// Whether the line at the start of [`Spool::data`] continues one handed out in pieces
    /// (its text is not a new message).
    pub fn in_long_line(&self) -> bool {
        self.skipping
    }

    /// The position just after the first `n` bytes of [`Spool::data`].
    pub fn pos_at(&self, n: usize) -> Pos {
        let k = self.start + n;
        match &self.file {
            Some(f) if k >= self.file_start => Pos {
                file: f.id,
                offset: self.file_base + (k - self.file_start) as u64,
            },
            _ => self.line_pos,
        }
    }

    /// Marks the first `n` bytes of [`Spool::data`] as handed out; `piece` says they are
    /// part of a long line that goes on.
    pub fn consume(&mut self, n: usize, piece: bool) {
        self.line_pos = self.pos_at(n);
        self.start += n;
        self.skipping = piece;
    }

    /// Reads more; `Ok(false)` when nothing new is there yet (wait for svlogd). Finishes
    /// files and moves on to the next as needed.
    pub fn fill(&mut self) -> Result<bool, Missing> {
        loop {
            if self.file.is_none() {
                let pos = self.line_pos;
                self.seek(pos)?;
            }
            // Room at the end.
            if self.start > 0 && (self.buf.len() - self.end < CHUNK || self.start == self.end) {
                let (s, e) = (self.start, self.end);
                self.buf.copy_within(s..e, 0);
                self.end -= s;
                if self.file_start >= s {
                    self.file_start -= s;
                } else {
                    // Only the previous file's unfinished line was before it.
                    self.file_base += (s - self.file_start) as u64;
                    self.file_start = 0;
                }
                self.start = 0;
            }
            if self.buf.len() < self.end + CHUNK {
                self.buf.resize(self.end + CHUNK, 0);
            }
            let f = self.file.as_mut().expect("opened above");
            let n = match f.reader.read(&mut self.buf[self.end..self.end + CHUNK]) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A corrupt compressed archive: treat its readable part as all there is.
                Err(e) if e.kind() == io::ErrorKind::InvalidInput => 0,
                Err(e) if e.kind() == io::ErrorKind::InvalidData => 0,
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => 0,
                Err(e) => return Err(Missing::Sys(formats::strerr::errno_of(&e))),
            };
            if n > 0 {
                self.end += n;
                return Ok(true);
            }
            match f.id {
                FileId::Current(ino) => {
                    let Some(&(_, label)) = self.renamed.iter().find(|r| r.0 == ino) else {
                        return Ok(false);
                    };
                    // Renamed: read once more to its end, then it is final.
                    f.id = FileId::Archive(label);
                    if self.line_pos.file == FileId::Current(ino) {
                        self.line_pos.file = FileId::Archive(label);
                    }
                }
                FileId::Archive(label) => {
                    if !self.next_file(label)? {
                        return Ok(false);
                    }
                }
            }
        }
    }

    /// Moves from the finished archive `label` to the file after it. `Ok(false)` when that
    /// cannot be told yet (`current` is missing in the middle of a rotation).
    fn next_file(&mut self, label: [u8; 24]) -> Result<bool, Missing> {
        // `current` first, then the listing: a rotation between the two shows up in the
        // listing as an archive, which is read before this `current`.
        let cur = match self.open_current() {
            Ok(c) => Some(c),
            Err(Missing::Gone) => None,
            Err(e) => return Err(e),
        };
        let names = list(&self.dir).map_err(Missing::Sys)?;
        let next = names
            .iter()
            .filter(|n| n.get(26) != Some(&b't'))
            .filter_map(archive_label)
            .filter(|l| *l > label)
            .min();
        let open = match next {
            Some(l) => match self.open_archive(l) {
                Ok(o) => o,
                // Removed between listing and opening: look again.
                Err(Missing::Gone) => return Ok(true),
                Err(e) => return Err(e),
            },
            // No later rotated file: `current` (even if it was already renamed to an older
            // label because the clock went back, it holds what came after).
            None => match cur {
                Some(c) => c,
                None => return Ok(false),
            },
        };
        self.file_start = self.end;
        self.file_base = 0;
        if self.start == self.end {
            self.line_pos = Pos {
                file: open.id,
                offset: 0,
            };
        }
        self.file = Some(open);
        Ok(true)
    }
}

/// The inode of `name` in `dir`.
fn ino_of(dir: &OwnedFd, name: &[u8]) -> Option<u64> {
    let fd = openat(dir, name, libc::O_RDONLY | libc::O_NONBLOCK).ok()?;
    File::from(fd).metadata().ok().map(|m| m.ino())
}

/// Bytes left to send from `pos` (compressed archives count their size on disk; of a `.u`
/// and its `.s`, only the `.u` counts).
pub fn backlog(dir: &OwnedFd, pos: Pos) -> u64 {
    let Ok(names) = list(dir) else { return 0 };
    let current = statat(dir, b"current").map(|(_, s)| s).unwrap_or(0);
    let from = match pos.file {
        FileId::Current(_) => return current.saturating_sub(pos.offset),
        FileId::Archive(l) => l,
    };
    let mut total = current;
    let mut counted: Vec<[u8; 24]> = Vec::new();
    let mut archives: Vec<&[u8]> = names
        .iter()
        .filter(|n| archive_label(n).is_some_and(|l| l >= from) && n[26] != b't')
        .collect();
    // `.u` sorts before `.s`: the raw file counts, its processed twin does not.
    archives.sort_unstable_by_key(|n| (archive_label(n), n[26] != b'u'));
    for n in archives {
        let l = archive_label(n).expect("filtered");
        if counted.contains(&l) {
            continue;
        }
        counted.push(l);
        let size = statat(dir, n).map(|(_, s)| s).unwrap_or(0);
        total += if l == from {
            size.saturating_sub(pos.offset)
        } else {
            size
        };
    }
    total
}

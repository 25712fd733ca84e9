//! Reading what a log directory holds: archives oldest first, then `current`, as one stream
//! of lines ([`History`]), from a moment on or only the last lines ([`tail`]).
//!
//! `current` is opened before the directory is listed and read through that descriptor, so a
//! rotation while reading neither loses the file nor shows it twice (an archive with the same
//! inode as the open `current` is skipped). The same descriptor is handed back for following.

use super::dir::{self, Archive, CURRENT};
use super::lines::{Lines, BEGINNING};
use crate::localtime::Moment;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

const CHUNK: usize = 64 * 1024;

/// One file to read, and the earliest moment its lines can have.
enum Source {
    Archive(Archive, Moment),
    Current(Moment),
}

/// The inode of an open file.
pub fn file_id(f: &File) -> io::Result<(u64, u64)> {
    let md = f.metadata()?;
    Ok((md.dev(), md.ino()))
}

/// Opens `dir/current` if it exists.
pub fn open_current(dir: &Path) -> io::Result<Option<File>> {
    match File::open(dir.join(CURRENT)) {
        Ok(f) => Ok(Some(f)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// A line and its moment.
pub type Line = (Moment, Vec<u8>);

/// The lines of one log, oldest first, as `(moment, line)` pairs.
pub struct History {
    dir: PathBuf,
    sources: VecDeque<Source>,
    /// The file being read, and its name for messages.
    reader: Option<(Box<dyn Read>, std::ffi::OsString)>,
    current: Option<File>,
    current_id: Option<(u64, u64)>,
    lines: Lines,
    ready: VecDeque<(Moment, Vec<u8>)>,
    since: Option<Moment>,
    finished: bool,
    /// Problems met on the way (an unreadable or truncated archive), for the caller to print.
    pub warnings: Vec<String>,
}

impl History {
    /// Prepares to read `dir` from `since` on (everything with `None`). `current` is the
    /// already open `current` to use, if the caller holds one.
    pub fn open(dir: &Path, since: Option<Moment>, current: Option<File>) -> io::Result<History> {
        let current = match current {
            Some(f) => Some(f),
            None => open_current(dir)?,
        };
        let archives = dir::archives(dir)?;
        Ok(History::over(dir, archives, since, current))
    }

    fn over(
        dir: &Path,
        archives: Vec<Archive>,
        since: Option<Moment>,
        current: Option<File>,
    ) -> History {
        let mut sources = VecDeque::new();
        let mut floor = BEGINNING;
        for a in archives {
            let next_floor = a.rotated;
            if since.is_none_or(|s| a.rotated >= s) {
                sources.push_back(Source::Archive(a, floor));
            }
            floor = next_floor;
        }
        let current_id = current.as_ref().and_then(|f| file_id(f).ok());
        if current.is_some() {
            sources.push_back(Source::Current(floor));
        }
        History {
            dir: dir.to_path_buf(),
            sources,
            reader: None,
            current,
            current_id,
            lines: Lines::new(),
            ready: VecDeque::new(),
            since,
            finished: false,
            warnings: Vec::new(),
        }
    }

    /// Gives back the `current` descriptor (positioned at its end once everything was read).
    pub fn into_current(self) -> Option<File> {
        self.current
    }

    /// The line splitter's state (a line cut by the end of `current` stays in it).
    pub fn into_parts(self) -> (Option<File>, Lines) {
        (self.current, self.lines)
    }

    fn push(&mut self, data: &[u8]) {
        let since = self.since;
        let ready = &mut self.ready;
        self.lines.feed(data, &mut |m, l| {
            if since.is_none_or(|s| m >= s) {
                ready.push_back((m, l.to_vec()));
            }
        });
    }

    /// Reads one more chunk or moves to the next file; false when everything was read.
    fn fill(&mut self, final_partial: bool) -> bool {
        let mut buf = vec![0u8; CHUNK];
        loop {
            if let Some((r, what)) = self.reader.as_mut() {
                match r.read(&mut buf) {
                    Ok(0) => self.reader = None,
                    Ok(n) => {
                        self.push(&buf[..n]);
                        return true;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.warnings.push(format!(
                            "unable to read {}/{}: {}",
                            self.dir.display(),
                            what.to_string_lossy(),
                            formats::strerr::ioerr(&e)
                        ));
                        self.reader = None;
                    }
                }
                continue;
            }
            match self.sources.pop_front() {
                Some(Source::Archive(a, floor)) => match dir::open(&self.dir, &a) {
                    Ok((_, id)) if Some(id) == self.current_id => {}
                    Ok((r, _)) => {
                        self.lines.file_start(floor);
                        self.reader = Some((r, a.name));
                    }
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => self.warnings.push(format!(
                        "unable to open {}/{}: {}",
                        self.dir.display(),
                        a.name.to_string_lossy(),
                        formats::strerr::ioerr(&e)
                    )),
                },
                Some(Source::Current(floor)) => {
                    self.lines.file_start(floor);
                    // A duplicate shares the offset: reading it leaves `current` at its end.
                    let dup = self.current.as_ref().map(File::try_clone);
                    match dup {
                        Some(Ok(f)) => self.reader = Some((Box::new(f), CURRENT.into())),
                        Some(Err(e)) => self.warnings.push(format!(
                            "unable to read {}/{CURRENT}: {}",
                            self.dir.display(),
                            formats::strerr::ioerr(&e)
                        )),
                        None => {}
                    }
                }
                None => {
                    if final_partial && !self.finished {
                        self.finished = true;
                        let since = self.since;
                        let ready = &mut self.ready;
                        self.lines.finish(&mut |m, l| {
                            if since.is_none_or(|s| m >= s) {
                                ready.push_back((m, l.to_vec()));
                            }
                        });
                        return !self.ready.is_empty();
                    }
                    return false;
                }
            }
        }
    }

    /// The next line, keeping a last line without newline back when `keep_partial` (a follower
    /// will see its end later).
    pub fn next_line(&mut self, keep_partial: bool) -> Option<(Moment, Vec<u8>)> {
        loop {
            if let Some(l) = self.ready.pop_front() {
                return Some(l);
            }
            if !self.fill(!keep_partial) {
                return None;
            }
        }
    }
}

impl Iterator for History {
    type Item = (Moment, Vec<u8>);

    fn next(&mut self) -> Option<Self::Item> {
        self.next_line(false)
    }
}

/// Newlines in a readable source.
fn count_newlines(mut r: impl Read) -> usize {
    let mut buf = vec![0u8; CHUNK];
    let mut n = 0;
    loop {
        match r.read(&mut buf) {
            Ok(0) | Err(_) => return n,
            Ok(k) => n += memchr::memchr_iter(b'\n', &buf[..k]).count(),
        }
    }
}

/// A reader over a file by position, leaving the file's own offset alone.
struct At<'a> {
    f: &'a File,
    pos: u64,
}

impl Read for At<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.f.read_at(buf, self.pos)?;
        self.pos += n as u64;
        Ok(n)
    }
}

/// The last `n` lines of `dir` (reading only as many archives as needed), with the open
/// `current` (at its end) and the splitter state, for following.
pub fn tail(dir: &Path, n: usize, current: Option<File>) -> io::Result<(Vec<Line>, History)> {
    let current = match current {
        Some(f) => Some(f),
        None => open_current(dir)?,
    };
    let mut archives = dir::archives(dir)?;
    let mut lines = current
        .as_ref()
        .map(|f| count_newlines(At { f, pos: 0 }))
        .unwrap_or(0);
    let mut first = archives.len();
    while lines <= n && first > 0 {
        first -= 1;
        if let Ok((r, _)) = dir::open(dir, &archives[first]) {
            lines += count_newlines(r);
        }
    }
    let floor_of_first = first
        .checked_sub(1)
        .map(|i| archives[i].rotated)
        .unwrap_or(BEGINNING);
    archives.drain(..first);
    let mut h = History::over(dir, archives, None, current);
    h.lines.file_start(floor_of_first);
    let mut last: VecDeque<(Moment, Vec<u8>)> = VecDeque::with_capacity(n + 1);
    while let Some(l) = h.next_line(true) {
        last.push_back(l);
        if last.len() > n {
            last.pop_front();
        }
    }
    Ok((last.into(), h))
}

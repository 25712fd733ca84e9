//! Following a log directory live, across rotations, without missing or repeating a line.
//!
//! The follower keeps `current` open. When inotify reports anything in the directory it reads
//! that descriptor to its end; if `current` is now another file, the one it holds was rotated:
//! it reads it to the end once more (svlogd writes everything before the rename), then any
//! archive rotated after it that it never saw as `current`, oldest first, and only then opens
//! the new `current`. Its own file's archive is recognised by inode (or, once a processor or
//! compression replaced it, as the first rotation after the last one it knew).

use super::dir::{self, CURRENT};
use super::history::file_id;
use super::lines::Lines;
use crate::localtime::Moment;
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

const CHUNK: usize = 64 * 1024;

/// The live state of one followed log.
pub struct Follower {
    /// The log directory.
    pub dir: PathBuf,
    cur: Option<(File, (u64, u64))>,
    /// The key of the archive the held file became, once known.
    cur_key: Option<[u8; 25]>,
    /// The newest rotation already accounted for.
    newest: Option<[u8; 25]>,
    lines: Lines,
}

impl Follower {
    /// Starts following `dir` from the end of `current` (an already open, already read
    /// descriptor if the caller showed history through it) with the splitter's state.
    pub fn new(dir: &Path, current: Option<File>, lines: Lines) -> io::Result<Follower> {
        let mut f = Follower {
            dir: dir.to_path_buf(),
            cur: None,
            cur_key: None,
            newest: None,
            lines,
        };
        if let Some(file) = current {
            let id = file_id(&file)?;
            f.cur = Some((file, id));
        }
        for a in dir::archives(dir)? {
            if f.cur_key.is_none() && f.held_is(&a) {
                f.cur_key = Some(a.key);
            }
            f.newest = Some(a.key);
        }
        Ok(f)
    }

    fn held_is(&self, a: &dir::Archive) -> bool {
        let Some((_, id)) = &self.cur else {
            return false;
        };
        std::fs::metadata(self.dir.join(&a.name))
            .map(|md| {
                use std::os::unix::fs::MetadataExt;
                (md.dev(), md.ino()) == *id
            })
            .unwrap_or(false)
    }

    fn drain(&mut self, emit: &mut dyn FnMut(Moment, &[u8])) -> io::Result<()> {
        let Some((f, _)) = self.cur.as_ref() else {
            return Ok(());
        };
        let mut buf = vec![0u8; CHUNK];
        let mut r: &File = f;
        loop {
            match r.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(n) => self.lines.feed(&buf[..n], emit),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads every rotation newer than the last one accounted for, except the held file's:
    /// the one with its inode, or else the first new one (the held file, since replaced by a
    /// processor's output or a compressed copy).
    fn catch_up(&mut self, emit: &mut dyn FnMut(Moment, &[u8])) -> io::Result<()> {
        let fresh: Vec<dir::Archive> = dir::archives(&self.dir)?
            .into_iter()
            .filter(|a| self.newest.is_none_or(|n| a.key > n))
            .collect();
        let ours = if self.cur.is_some() && self.cur_key.is_none() {
            fresh.iter().position(|a| self.held_is(a)).or(Some(0))
        } else {
            None
        };
        let mut buf = vec![0u8; CHUNK];
        for (i, a) in fresh.iter().enumerate() {
            self.newest = Some(a.key);
            if Some(i) == ours || self.held_is(a) {
                continue;
            }
            match dir::open(&self.dir, a) {
                Ok((mut r, _)) => loop {
                    match r.read(&mut buf) {
                        Ok(0) => break,
                        Ok(n) => self.lines.feed(&buf[..n], emit),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(_) => break,
                    }
                },
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Emits everything new since the last call.
    pub fn pump(&mut self, emit: &mut dyn FnMut(Moment, &[u8])) -> io::Result<()> {
        loop {
            self.drain(emit)?;
            let now = match std::fs::metadata(self.dir.join(CURRENT)) {
                Ok(md) => {
                    use std::os::unix::fs::MetadataExt;
                    Some((md.dev(), md.ino()))
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => None,
                Err(e) => return Err(e),
            };
            if now.is_some() && now == self.cur.as_ref().map(|(_, id)| *id) {
                return Ok(());
            }
            // Rotated (or not created yet): finish the held file, then the rotations after it.
            self.drain(emit)?;
            self.catch_up(emit)?;
            self.cur = None;
            self.cur_key = None;
            loop {
                let file = match File::open(self.dir.join(CURRENT)) {
                    Ok(f) => f,
                    Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                    Err(e) => return Err(e),
                };
                let id = file_id(&file)?;
                self.cur = Some((file, id));
                // A rotation between the listing and this open holds lines older than the
                // new file's: read it first (the new file is not read yet, so just reopen).
                let before = self.newest;
                let newer = dir::archives(&self.dir)?
                    .iter()
                    .any(|a| before.is_none_or(|n| a.key > n) && !self.held_is(a));
                if !newer {
                    break;
                }
                self.cur = None;
                self.catch_up(emit)?;
            }
        }
    }

    /// Emits a line cut short at the end (when following stops).
    pub fn finish(&mut self, emit: &mut dyn FnMut(Moment, &[u8])) {
        self.lines.finish(emit);
    }
}

//! The `supervise/status`, `supervise/stat` and `supervise/pid` files: the one place that knows
//! their bytes.
//!
//! `status` is runit's 20-byte record (`spec/supervise.md` §2.2): TAI64N stamp big-endian
//! (12 bytes), pid little-endian (4), paused, want (`'u'` or `'d'`), got-TERM, state. daemontools'
//! `supervise` writes only the first 18 bytes (and want 0 for "once"); [`Status::decode`] reads
//! either. `stat` is the one-line text of §2.3 and `pid` the pid and a newline, or nothing.
//! Every file is written as `NAME.new` and renamed into place, so no reader sees half a record.

use crate::tai64n::Tai64n;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Size of runit's status record.
pub const RUNIT_LEN: usize = 20;
/// Path of the status record inside a service directory, for clients.
pub const STATUS: &str = "supervise/status";
/// Size of daemontools' status record (a prefix of runit's).
pub const DAEMONTOOLS_LEN: usize = 18;

/// What the supervised process is doing, as byte 19 records it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum State {
    /// Nothing runs.
    Down,
    /// `./run` runs.
    Run,
    /// `./finish` runs.
    Finish,
    /// A byte runit never writes; kept so a record round-trips.
    Other(u8),
}

impl State {
    /// The byte runit stores for this state.
    pub fn byte(self) -> u8 {
        match self {
            State::Down => 0,
            State::Run => 1,
            State::Finish => 2,
            State::Other(b) => b,
        }
    }

    /// The state a status byte stands for.
    pub fn from_byte(b: u8) -> State {
        match b {
            0 => State::Down,
            1 => State::Run,
            2 => State::Finish,
            b => State::Other(b),
        }
    }

    /// The word `sv` and the `stat` file use (`down`, `run`, `finish`); empty for unknown bytes.
    pub fn word(self) -> &'static str {
        match self {
            State::Down => "down",
            State::Run => "run",
            State::Finish => "finish",
            State::Other(_) => "",
        }
    }
}

/// What the supervisor wants the service to do. The record stores `'d'` for both Down and Exit;
/// the `stat` text tells them apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Want {
    /// Keep it running (`'u'`).
    Up,
    /// Keep it stopped (`'d'`).
    Down,
    /// Stop it and let the supervisor exit (`'d'` in the record).
    Exit,
}

impl Want {
    /// Byte 17 of the record.
    pub fn byte(self) -> u8 {
        match self {
            Want::Up => b'u',
            Want::Down | Want::Exit => b'd',
        }
    }
}

/// One status record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Status {
    /// When the service last started or went down (`spec/supervise.md` §2.2).
    pub stamp: Tai64n,
    /// The running process (the `./finish` process in state Finish), 0 for none.
    pub pid: u32,
    /// Set by `p`, cleared by `c` and by every start.
    pub paused: bool,
    /// Byte 17 as stored: `b'u'`, `b'd'`, or 0 (daemontools' "once").
    pub want: u8,
    /// TERM was sent and the process has not exited yet (false for daemontools records).
    pub got_term: bool,
    /// Byte 19 (Run when a daemontools record shows a pid, Down otherwise).
    pub state: State,
}

impl Status {
    /// Packs the 20-byte runit record.
    pub fn encode(&self) -> [u8; RUNIT_LEN] {
        let mut b = [0u8; RUNIT_LEN];
        b[..12].copy_from_slice(&self.stamp.pack());
        b[12..16].copy_from_slice(&self.pid.to_le_bytes());
        b[16] = self.paused as u8;
        b[17] = self.want;
        b[18] = self.got_term as u8;
        b[19] = self.state.byte();
        b
    }

    /// Reads a runit record (exactly 20 bytes) or a daemontools one (exactly 18 bytes).
    /// Anything else is a bad format.
    pub fn decode(b: &[u8]) -> Option<Status> {
        if b.len() != RUNIT_LEN && b.len() != DAEMONTOOLS_LEN {
            return None;
        }
        let mut stamp = [0u8; 12];
        stamp.copy_from_slice(&b[..12]);
        let pid = u32::from_le_bytes([b[12], b[13], b[14], b[15]]);
        let (got_term, state) = if b.len() == RUNIT_LEN {
            (b[18] != 0, State::from_byte(b[19]))
        } else if pid != 0 {
            (false, State::Run)
        } else {
            (false, State::Down)
        };
        Some(Status {
            stamp: Tai64n::unpack(&stamp),
            pid,
            paused: b[16] != 0,
            want: b[17],
            got_term,
            state,
        })
    }

    /// Whether byte 17 asks for the service to be up.
    pub fn wants_up(&self) -> bool {
        self.want == b'u'
    }
}

/// The one line of `supervise/stat` (`spec/supervise.md` §2.3), newline included.
pub fn stat_text(state: State, paused: bool, got_term: bool, want: Want) -> String {
    let mut s = String::with_capacity(32);
    s.push_str(state.word());
    if paused {
        s.push_str(", paused");
    }
    if got_term {
        s.push_str(", got TERM");
    }
    if state != State::Down {
        match want {
            Want::Down => s.push_str(", want down"),
            Want::Exit => s.push_str(", want exit"),
            Want::Up => {}
        }
    }
    s.push('\n');
    s
}

/// The text of `supervise/pid`: the pid and a newline, or nothing when no process runs.
pub fn pid_text(pid: u32) -> String {
    if pid == 0 {
        String::new()
    } else {
        format!("{pid}\n")
    }
}

/// Which step of a `.new`-then-rename write failed; runsv words its warning from it.
#[derive(Debug)]
pub enum WriteError {
    /// Creating or truncating `NAME.new`.
    Open(PathBuf, io::Error),
    /// Writing `NAME.new`.
    Write(PathBuf, io::Error),
    /// Renaming `NAME.new` over `NAME`.
    Rename(PathBuf, io::Error),
}

/// Writes `data` to `dir/NAME.new` (mode 0644 minus umask) and renames it over `dir/NAME`.
pub fn write_file(dir: &Path, name: &str, data: &[u8]) -> Result<(), WriteError> {
    let new = dir.join(format!("{name}.new"));
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(&new)
        .map_err(|e| WriteError::Open(new.clone(), e))?;
    f.write_all(data)
        .map_err(|e| WriteError::Write(new.clone(), e))?;
    drop(f);
    fs::rename(&new, dir.join(name)).map_err(|e| WriteError::Rename(new, e))
}

/// Everything runsv publishes about one service after a transition.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Snapshot {
    /// The record for `status`.
    pub status: Status,
    /// The supervisor's intent, which `stat` spells out (want exit is not in the record).
    pub want: Want,
}

/// Writes `pid` (only when `pid_changed`), `stat` and `status` into the supervise directory
/// `dir`, in runit's order. Stops at the first failure, as runsv does.
pub fn publish(dir: &Path, snap: &Snapshot, pid_changed: bool) -> Result<(), WriteError> {
    let st = &snap.status;
    if pid_changed {
        write_file(dir, "pid", pid_text(st.pid).as_bytes())?;
    }
    write_file(
        dir,
        "stat",
        stat_text(st.state, st.paused, st.got_term, snap.want).as_bytes(),
    )?;
    write_file(dir, "status", &st.encode())
}

/// Name of the readiness file beside `status` (not in runit: its 20-byte record stays as it is).
pub const READY: &str = "ready";
/// Size of the readiness record.
pub const READY_LEN: usize = 16;

/// When the current run of a service reported readiness (s6's `notification-fd` protocol).
///
/// Stored in `supervise/ready` as 16 bytes: the TAI64N stamp (12 bytes, big-endian, as in
/// `status`) and the pid (4 bytes, little-endian) of the run that became ready. A reader
/// trusts it only while `status` shows the same pid, so a stale file from an earlier run can
/// never claim readiness; the supervisor removes it whenever the service goes down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ready {
    /// When the readiness line arrived.
    pub stamp: Tai64n,
    /// The pid of the run that became ready.
    pub pid: u32,
}

impl Ready {
    /// Packs the 16-byte record.
    pub fn encode(&self) -> [u8; READY_LEN] {
        let mut b = [0u8; READY_LEN];
        b[..12].copy_from_slice(&self.stamp.pack());
        b[12..].copy_from_slice(&self.pid.to_le_bytes());
        b
    }

    /// Reads a 16-byte record; anything else is not a readiness record.
    pub fn decode(b: &[u8]) -> Option<Ready> {
        if b.len() != READY_LEN {
            return None;
        }
        let mut stamp = [0u8; 12];
        stamp.copy_from_slice(&b[..12]);
        Some(Ready {
            stamp: Tai64n::unpack(&stamp),
            pid: u32::from_le_bytes([b[12], b[13], b[14], b[15]]),
        })
    }

    /// Reads `DIR/ready` for the supervise directory `dir` and returns it if it belongs to the
    /// run `status` describes (same non-zero pid, state Run).
    pub fn read_for(dir: &Path, status: &Status) -> Option<Ready> {
        let (head, len) = read_path(&dir.join(READY)).ok()?;
        let r = Ready::decode(&head[..len])?;
        (status.pid != 0 && status.state == State::Run && r.pid == status.pid).then_some(r)
    }
}

/// Why a status file could not be read.
#[derive(Debug)]
pub enum ReadError {
    /// Opening or reading the file failed.
    Io(io::Error),
    /// The file has the wrong size for a status record.
    BadFormat,
}

/// The first bytes of a status file as runit's and daemontools' readers take them: up to
/// runit's 20 (a longer file is read by its first 20 bytes), and how many there were. Every
/// program reads the record through this (the tools from a file opened with
/// `svdir::open_supervised`).
pub fn read_head(f: &mut impl Read) -> io::Result<([u8; RUNIT_LEN], usize)> {
    let mut buf = [0u8; RUNIT_LEN];
    let mut got = 0;
    while got < RUNIT_LEN {
        match f.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((buf, got))
}

/// The record as `sv` reads it: 20 bytes, or a bad format.
pub fn decode_runit(head: &[u8; RUNIT_LEN], len: usize) -> Result<Status, ReadError> {
    (len == RUNIT_LEN)
        .then(|| Status::decode(head))
        .flatten()
        .ok_or(ReadError::BadFormat)
}

/// The record as daemontools' `svstat` reads it: runit's 20 bytes, or the first 18 of at
/// least 18 (daemontools' `supervise` writes 18).
pub fn decode_any(head: &[u8; RUNIT_LEN], len: usize) -> Result<Status, ReadError> {
    let take = match len {
        RUNIT_LEN => RUNIT_LEN,
        n if n >= DAEMONTOOLS_LEN => DAEMONTOOLS_LEN,
        _ => return Err(ReadError::BadFormat),
    };
    Status::decode(&head[..take]).ok_or(ReadError::BadFormat)
}

/// Opens a status file read-only and non-blocking, and reads its head ([`read_head`]).
pub fn read_path(path: &Path) -> io::Result<([u8; RUNIT_LEN], usize)> {
    let mut f = fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::libc::O_NONBLOCK)
        .open(path)?;
    read_head(&mut f)
}

/// Reads `path` as `sv` does ([`decode_runit`]).
pub fn read_runit(path: &Path) -> Result<Status, ReadError> {
    let (head, len) = read_path(path).map_err(ReadError::Io)?;
    decode_runit(&head, len)
}

/// Reads `path` as daemontools' `svstat` does ([`decode_any`]).
pub fn read_any(path: &Path) -> Result<Status, ReadError> {
    let (head, len) = read_path(path).map_err(ReadError::Io)?;
    decode_any(&head, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_record_measured_from_runit() {
        // spec/supervise.md §2.2: `4000 0000 6b03 37b9 2046 0bfc 7921 0000 0075 0001`.
        let raw = [
            0x40, 0x00, 0x00, 0x00, 0x6b, 0x03, 0x37, 0xb9, 0x20, 0x46, 0x0b, 0xfc, 0x79, 0x21,
            0x00, 0x00, 0x00, 0x75, 0x00, 0x01,
        ];
        let st = Status::decode(&raw).unwrap();
        assert_eq!(st.pid, 0x2179);
        assert_eq!(st.state, State::Run);
        assert!(st.wants_up());
        assert!(!st.paused && !st.got_term);
        assert_eq!(st.stamp.unix_secs(), 0x6b03_37b9 - 10);
        assert_eq!(st.encode(), raw);
    }

    #[test]
    fn daemontools_prefix() {
        let st = Status {
            stamp: Tai64n::from_unix(1_700_000_000, 500),
            pid: 42,
            paused: true,
            want: 0,
            got_term: false,
            state: State::Run,
        };
        let rec = st.encode();
        assert_eq!(Status::decode(&rec[..18]), Some(st));
        assert_eq!(Status::decode(&rec[..19]), None);
        let mut down = st;
        down.pid = 0;
        let rec = down.encode();
        assert_eq!(Status::decode(&rec[..18]).unwrap().state, State::Down);
    }

    #[test]
    fn stat_lines() {
        // spec/supervise.md §2.3: the examples seen.
        assert_eq!(stat_text(State::Run, false, false, Want::Up), "run\n");
        assert_eq!(
            stat_text(State::Finish, false, false, Want::Down),
            "finish, want down\n"
        );
        assert_eq!(
            stat_text(State::Run, true, false, Want::Down),
            "run, paused, want down\n"
        );
        assert_eq!(
            stat_text(State::Finish, false, false, Want::Exit),
            "finish, want exit\n"
        );
        assert_eq!(stat_text(State::Down, false, false, Want::Down), "down\n");
        assert_eq!(
            stat_text(State::Run, false, true, Want::Down),
            "run, got TERM, want down\n"
        );
    }

    #[test]
    fn ready_record_round_trips_and_matches_pid() {
        let r = Ready {
            stamp: Tai64n::from_unix(1_700_000_000, 500),
            pid: 77,
        };
        assert_eq!(Ready::decode(&r.encode()), Some(r));
        assert_eq!(Ready::decode(&r.encode()[..15]), None);
        let dir = std::env::temp_dir().join(format!("ready-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        write_file(&dir, READY, &r.encode()).unwrap();
        let mut st = Status {
            stamp: r.stamp,
            pid: 77,
            paused: false,
            want: b'u',
            got_term: false,
            state: State::Run,
        };
        assert_eq!(Ready::read_for(&dir, &st), Some(r));
        st.pid = 78;
        assert_eq!(Ready::read_for(&dir, &st), None);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn publish_writes_all_three() {
        let dir = std::env::temp_dir().join(format!("status-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let snap = Snapshot {
            status: Status {
                stamp: Tai64n::from_unix(1_700_000_000, 500),
                pid: 1234,
                paused: false,
                want: b'u',
                got_term: false,
                state: State::Run,
            },
            want: Want::Up,
        };
        publish(&dir, &snap, true).unwrap();
        assert_eq!(fs::read(dir.join("pid")).unwrap(), b"1234\n");
        assert_eq!(fs::read(dir.join("stat")).unwrap(), b"run\n");
        assert_eq!(read_runit(&dir.join("status")).unwrap(), snap.status);
        assert!(!dir.join("status.new").exists());
        fs::write(dir.join("short"), [0u8; 19]).unwrap();
        assert!(matches!(
            read_runit(&dir.join("short")),
            Err(ReadError::BadFormat)
        ));
        assert!(read_any(&dir.join("short")).is_ok());
        fs::remove_dir_all(&dir).unwrap();
    }
}

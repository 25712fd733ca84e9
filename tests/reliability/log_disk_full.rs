//! Scenario 4: the log directory on a small tmpfs that fills up. (a) The default policy:
//! the writer blocks, nothing is lost, writing resumes when space appears, and SIGTERM while
//! blocked still stops svlogd cleanly, what it accepted in the log and the rest left in the
//! pipe for the next svlogd. (b) `N` below `n`: the oldest archives are deleted to make room.
//! (c) `overload drop`: the writer is never held up; the lines that do not fit are dropped,
//! counted, and the marker line written once there is room again.

use crate::frame::{self, secs, Report};
use crate::log_feed::{lines, pipe, svlogd, tally_dir, Numbers, Writer};
use harness::{archives, comes_true, log_files, read_text, wait_until_or, Impl, Scratch, Tmpfs};
use nix::sys::signal::Signal;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A file of `kib` KiB.
fn plant(path: &Path, kib: usize) -> PathBuf {
    fs::write(path, vec![b'f'; kib * 1024]).expect("filler");
    path.to_path_buf()
}

/// Bytes in the files of a log directory.
fn log_size(d: &Path) -> u64 {
    log_files(d)
        .iter()
        .filter_map(|f| fs::metadata(f).ok())
        .map(|m| m.len())
        .sum()
}

fn exit_code(st: std::process::ExitStatus) -> String {
    harness::code(st).to_string()
}

/// (a): the default policy.
struct Blocking {
    lines: u64,
    /// The writer was still held up a second after svlogd said it was pausing.
    blocked: bool,
    /// From freeing space to the log growing again.
    resumed: Option<Duration>,
    /// From SIGTERM (sent while blocked again) to exit, when it came before space did.
    term_exit: Option<Duration>,
    /// Its exit code.
    term_code: String,
    /// When it did not exit on TERM alone: from freeing space to exit.
    exit_after_space: Option<Duration>,
    /// The next svlogd, on the same pipe, exited 0 at its end.
    next_ok: bool,
    lost: u64,
    duplicates: u64,
    torn: u64,
}

fn blocking(imp: Impl) -> Blocking {
    let s = Scratch::new(&format!("rel-diskfull-block-{}", imp.name()));
    let fs_ = Tmpfs::mount(&s.join("mnt"), 2048);
    let d = s.mkdir("mnt/d");
    s.write("mnt/d/config", "");
    // Room for 150 KiB of log; removing `a` makes 200 KiB more, removing `b` the rest.
    let a = plant(&s.join("mnt/a"), 200);
    let b_kib = (fs_.free() / 1024) as usize - 150;
    let b = plant(&s.join("mnt/b"), b_kib);
    let n = 60_000;
    let (rd, wr) = pipe();
    let mut p = svlogd(&s, imp, &rd, &[&d], "err1", None);
    let writer = Writer::spawn(wr, lines(1, n), 4096);
    wait_until_or(
        Duration::from_secs(20),
        "svlogd pausing",
        &mut || read_text(s.join("err1")).contains("pausing: unable to write to current"),
        || read_text(s.join("err1")),
    );
    // svlogd takes no more input: the pipe fills and the writer waits.
    harness::wait_until(Duration::from_secs(20), "the pipe full", || {
        harness::pipe_full(&rd) || writer.finished()
    });
    let blocked = !writer.finished();
    let before = log_size(&d);
    let pauses = || {
        read_text(s.join("err1"))
            .matches("pausing: unable to write")
            .count()
    };
    let paused = pauses();
    fs::remove_file(&a).expect("remove a");
    let t = Instant::now();
    let resumed =
        comes_true(Duration::from_secs(10), || log_size(&d) > before).then(|| t.elapsed());
    // Full again: svlogd pauses once more, takes no more input, and the writer waits (runit
    // may not get this far: its figures are recorded, not asserted).
    comes_true(Duration::from_secs(20), || {
        (pauses() > paused && harness::pipe_full(&rd)) || writer.finished()
    });
    assert!(
        !writer.finished(),
        "{}: the writer finished early",
        imp.name()
    );
    p.signal(Signal::SIGTERM);
    let t = Instant::now();
    let exited = comes_true(Duration::from_secs(5), || !p.is_running());
    let term_exit = exited.then(|| t.elapsed());
    fs::remove_file(&b).expect("remove b");
    let t = Instant::now();
    let st = p.wait_timeout(Duration::from_secs(20));
    let exit_after_space = (!exited).then(|| t.elapsed());
    // The next svlogd (as runsv would start) takes up what is left in the pipe.
    let mut next = svlogd(&s, imp, &rd, &[&d], "err2", None);
    drop(rd);
    let w = writer.join(Duration::from_secs(30));
    drop(w.wr);
    let next_ok = next.wait_timeout(Duration::from_secs(20)).success();
    let t = tally_dir(&d);
    Blocking {
        lines: n,
        blocked,
        resumed,
        term_exit,
        term_code: exit_code(st),
        exit_after_space,
        next_ok,
        lost: t.missing(1, n),
        duplicates: t.duplicates(),
        torn: t.torn,
    }
}

/// (b): `N` below `n`.
struct Pruning {
    lines: u64,
    finished: bool,
    longest: Duration,
    exit_ok: bool,
    deleted: usize,
    left: usize,
    lowest: u64,
    /// Lines missing above the oldest one kept.
    gaps: u64,
    torn: u64,
}

fn pruning(imp: Impl) -> Pruning {
    let s = Scratch::new(&format!("rel-diskfull-prune-{}", imp.name()));
    let fs_ = Tmpfs::mount(&s.join("mnt"), 512);
    let d = s.mkdir("mnt/d");
    s.write("mnt/d/config", "s4096\nn100\nN3\n");
    let kib = (fs_.free() / 1024) as usize - 100;
    plant(&s.join("mnt/filler"), kib);
    let n = 50_000;
    let (rd, wr) = pipe();
    let mut p = svlogd(&s, imp, &rd, &[&d], "err", None);
    drop(rd);
    let writer = Writer::spawn(wr, lines(1, n), 4096);
    let finished = comes_true(Duration::from_secs(60), || writer.finished());
    let (longest, exit_ok) = if finished {
        let w = writer.join(Duration::from_secs(1));
        drop(w.wr);
        (w.longest, p.wait_timeout(Duration::from_secs(20)).success())
    } else {
        p.signal(Signal::SIGKILL);
        (Duration::ZERO, false)
    };
    let err = read_text(s.join("err"));
    let t = tally_dir(&d);
    Pruning {
        lines: n,
        finished,
        longest,
        exit_ok,
        deleted: err.matches("out of disk space, delete: ").count(),
        left: archives(&d).len(),
        lowest: t.lowest(),
        gaps: t.missing(t.lowest().max(1), n),
        torn: t.torn,
    }
}

/// (c): `overload drop` (ours only).
struct Dropping {
    lines: u64,
    finished: bool,
    longest: Duration,
    warned: bool,
    in_log: u64,
    dropped: u64,
    markers: usize,
    /// From freeing space to the marker in the log.
    marker_after: Option<Duration>,
    exit_ok: bool,
    torn: u64,
}

fn dropped_in(own: &[String]) -> (u64, usize) {
    let re =
        regex::Regex::new(r"^svlogd: dropped ([0-9]+) lines between [^ ]+ and [^ ]+$").unwrap();
    let counts: Vec<u64> = own
        .iter()
        .filter_map(|l| re.captures(l).map(|c| c[1].parse().unwrap()))
        .collect();
    (counts.iter().sum(), counts.len())
}

fn dropping() -> Dropping {
    let imp = Impl::Ours;
    let s = Scratch::new("rel-diskfull-drop");
    let fs_ = Tmpfs::mount(&s.join("mnt"), 512);
    let d = s.mkdir("mnt/d");
    s.write("mnt/d/config", "n0\noverload drop\n");
    let kib = (fs_.free() / 1024) as usize - 100;
    let filler = plant(&s.join("mnt/filler"), kib);
    let n = 50_000;
    let (rd, wr) = pipe();
    let mut p = svlogd(&s, imp, &rd, &[&d], "err", None);
    drop(rd);
    let writer = Writer::spawn(wr, lines(1, n), 4096);
    let finished = comes_true(Duration::from_secs(20), || writer.finished());
    let warned = read_text(s.join("err")).contains(&format!(
        "svlogd: warning: dropping lines, directory cannot keep up: {}",
        d.display()
    ));
    fs::remove_file(&filler).expect("remove filler");
    let w = writer.join(Duration::from_secs(60));
    let t = Instant::now();
    let marker_after = comes_true(Duration::from_secs(10), || {
        dropped_in(&tally_dir(&d).own).1 > 0
    })
    .then(|| t.elapsed());
    drop(w.wr);
    let exit_ok = p.wait_timeout(Duration::from_secs(20)).success();
    let t: Numbers = tally_dir(&d);
    let (dropped, markers) = dropped_in(&t.own);
    Dropping {
        lines: n,
        finished,
        longest: w.longest,
        warned,
        in_log: t.distinct(),
        dropped,
        markers,
        marker_after,
        exit_ok,
        torn: t.torn,
    }
}

fn opt_secs(d: Option<Duration>) -> String {
    d.map(secs).unwrap_or_else(|| "never".into())
}

fn yes(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

#[test]
fn disk_full() {
    let mut r = Report::new("04-disk-full", "Disk full");
    r.how(
        "svlogd writes into a log directory on a tmpfs the test mounts, fed through a pipe by \
         a writer thread in 4 KiB writes of numbered lines (`N N`). (a) Default config (runit's \
         `s99999`, `n10`, `N10`, so nothing may be deleted): a 2 MiB tmpfs with room for \
         150 KiB of log, 60,000 lines (690 KB); when svlogd says it is pausing, 200 KiB are \
         freed; when it is stuck again, it gets SIGTERM; then the rest of the space is freed \
         and a second svlogd (as runsv would start it) reads the same pipe to its end. \
         (b) `s4096`, `n100`, `N3` on a 512 KiB tmpfs with room for 100 KiB: 50,000 lines, \
         the oldest archives must go. (c) `n0`, `overload drop`, the same tmpfs, never freed \
         until the writer is done; then the filler is removed. \
         `tests/reliability/log_disk_full.rs`.",
    );
    let imps = frame::impls();
    let a: Vec<(Impl, Blocking)> = imps.iter().map(|&i| (i, blocking(i))).collect();
    let b: Vec<(Impl, Pruning)> = imps.iter().map(|&i| (i, pruning(i))).collect();
    let c = dropping();
    let geta = |i: Impl| a.iter().find(|(x, _)| *x == i).map(|(_, f)| f);
    let (ao, ar) = (geta(Impl::Ours).unwrap(), geta(Impl::Runit));
    let getb = |i: Impl| b.iter().find(|(x, _)| *x == i).map(|(_, f)| f);
    let (bo, br) = (getb(Impl::Ours).unwrap(), getb(Impl::Runit));

    r.rows(
        ao,
        ar,
        &[
            ("(a) lines written", &|f: &Blocking| frame::count(f.lines)),
            ("(a) writer held up while the disk is full", &|f| {
                yes(f.blocked)
            }),
            ("(a) from freeing space to writing again", &|f| {
                opt_secs(f.resumed)
            }),
            ("(a) from SIGTERM while blocked to exit", &|f| {
                f.term_exit
                    .map(secs)
                    .unwrap_or_else(|| "no exit until space appeared".into())
            }),
            ("(a) exit code after SIGTERM", &|f| f.term_code.clone()),
            (
                "(a) from freeing space to exit, when TERM was not enough",
                &|f| f.exit_after_space.map(secs).unwrap_or_default(),
            ),
            (
                "(a) the next svlogd on the same pipe: exit 0 at its end",
                &|f| yes(f.next_ok),
            ),
            ("(a) lines lost / twice / torn", &|f| {
                format!("{} / {} / {}", f.lost, f.duplicates, f.torn)
            }),
        ],
    );
    r.rows(
        bo,
        br,
        &[
            ("(b) lines written", &|f: &Pruning| frame::count(f.lines)),
            (
                "(b) the writer got everything through",
                &|f| yes(f.finished),
            ),
            ("(b) longest single write(2) of the writer", &|f| {
                secs(f.longest)
            }),
            ("(b) exit 0 at the end of input", &|f| yes(f.exit_ok)),
            (
                "(b) archives deleted for room (`out of disk space, delete:`)",
                &|f| f.deleted.to_string(),
            ),
            ("(b) archives left", &|f| f.left.to_string()),
            ("(b) oldest line kept", &|f| frame::count(f.lowest)),
            ("(b) lines missing after the oldest kept / torn", &|f| {
                format!("{} / {}", f.gaps, f.torn)
            }),
        ],
    );
    r.row("(c) lines written", frame::count(c.lines), "");
    r.row(
        "(c) the writer got everything through within 20 s",
        yes(c.finished),
        "",
    );
    r.row(
        "(c) longest single write(2) of the writer",
        secs(c.longest),
        "",
    );
    r.row("(c) `dropping lines` warning", yes(c.warned), "");
    r.row(
        "(c) lines in the log / torn",
        format!("{} / {}", frame::count(c.in_log), c.torn),
        "",
    );
    r.row(
        "(c) lines dropped (marker counts) / markers",
        format!("{} / {}", frame::count(c.dropped), c.markers),
        "",
    );
    r.row(
        "(c) from freeing space to the marker",
        opt_secs(c.marker_after),
        "",
    );
    r.row("(c) exit 0 at the end of input", yes(c.exit_ok), "");
    let key_a = |f: &Blocking| {
        format!(
            "(a) {}, {} lost, TERM while blocked: {}",
            if f.blocked {
                "writer blocked"
            } else {
                "writer NOT blocked"
            },
            f.lost,
            f.term_exit
                .map(|t| format!("exit {} in {}", f.term_code, secs(t)))
                .unwrap_or_else(|| "no exit until space appeared".into())
        )
    };
    let key_b = |f: &Pruning| format!("(b) {} archives deleted for room", f.deleted);
    r.summary(
        format!(
            "{}; {}; (c) {} lines dropped, {} marker{}",
            key_a(ao),
            key_b(bo),
            frame::count(c.dropped),
            c.markers,
            if c.markers == 1 { "" } else { "s" }
        ),
        match (ar, br) {
            (Some(a), Some(b)) => format!("{}; {}; (c) no drop policy", key_a(a), key_b(b)),
            _ => String::new(),
        },
    );
    r.note(
        "runit's svlogd acts on TERM only once a write succeeds again, so a logger stuck on a \
         full disk cannot be stopped (`sv down` waits), and when it does exit it loses the \
         unfinished line it held (the line lost in (a)). Ours exits at once: it cuts the line \
         the full disk had cut in the middle off `current` again (fixed in this round: it \
         used to stay, torn), leaves `current` without its execute bit, and leaves what it \
         had not written in the pipe (it consumes input only once written), so the next \
         svlogd writes the held block again, whole (the lines written twice). In (c) the part \
         of a line that fitted is cut off the same way and the line counted with the dropped \
         ones. (c) has no runit counterpart: runit's svlogd ignores the `overload` line and \
         blocks as in (a).",
    );
    r.check(ao.blocked, "(a) the writer blocks while the disk is full");
    r.check(
        ao.resumed.is_some(),
        "(a) writing resumes when space appears",
    );
    r.check(
        ao.term_exit.is_some() && ao.term_code == "0",
        "(a) SIGTERM while blocked stops svlogd with exit 0",
    );
    r.check(ao.next_ok, "(a) the next svlogd ends cleanly");
    r.check(ao.lost == 0 && ao.torn == 0, "(a) no line lost or torn");
    r.check(
        bo.finished && bo.exit_ok,
        "(b) the writer gets through, svlogd exits 0",
    );
    r.check(bo.deleted > 0, "(b) old archives are deleted for room");
    r.check(bo.left >= 3, "(b) at least N archives are kept");
    r.check(
        bo.gaps == 0 && bo.torn == 0,
        "(b) no line lost after the oldest kept",
    );
    r.check(c.finished, "(c) the writer is never held up");
    r.check(c.warned, "(c) the dropping warning is given");
    r.check(
        c.markers > 0 && c.marker_after.is_some(),
        "(c) the marker is written",
    );
    r.check(
        c.in_log + c.dropped == c.lines && c.torn == 0,
        "(c) every line is in the log or counted as dropped",
    );
    r.check(c.exit_ok, "(c) exit 0 at the end of input");
    r.finish();
}

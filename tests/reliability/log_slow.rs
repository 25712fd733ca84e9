//! Scenario 5: a slow disk and a slow processor. How long is the service's write(2) held up,
//! and does that stay within what the overload policy says: under `overload block` (runit's
//! behaviour, the default) the writer waits as long as svlogd does; under `overload drop` it
//! never waits for the processor (a full queue drops and counts lines instead), while a write
//! that is merely slow is waited for in either mode (svlogd.8, OVERLOAD).
//!
//! The slow disk: this kernel has no device mapper (so no `delay` target); what every kernel
//! with a block throttle has is cgroup's: v2's `io.max` or, where the io controller is bound
//! to a v1 hierarchy (as on the machine these figures come from), v1's
//! `blkio.throttle.write_bps_device`. An ext4 image on a loop device, mounted `sync` so that
//! every write(2) goes to the device from svlogd's own context, and svlogd in a cgroup whose
//! throttle limits its writes to that device.

use crate::frame::{self, secs, Report};
use crate::log_feed::{lines, pipe, svlogd, tally_dir, Writer};
use harness::{comes_true, Impl, Scratch};
use nix::mount::MsFlags;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

static CGROUPS: AtomicUsize = AtomicUsize::new(0);

/// An ext4 image on a loop device, mounted `sync`, and a cgroup that throttles writes to it;
/// all undone on drop.
struct SlowDisk {
    /// Field order is drop order: the cgroup's processes go before the disk is unmounted.
    cgroup: Throttle,
    disk: harness::Ext4,
}

impl SlowDisk {
    fn new(s: &Scratch, bytes_per_sec: u64) -> SlowDisk {
        let disk = harness::Ext4::mount(s, "slow", &s.join("slow"), 64, MsFlags::MS_SYNCHRONOUS);
        let rdev = fs::metadata(&disk.dev).expect("loop device").rdev();
        let dev = format!(
            "{}:{}",
            nix::sys::stat::major(rdev),
            nix::sys::stat::minor(rdev)
        );
        let name = format!(
            "rel-slow-{}-{}",
            std::process::id(),
            CGROUPS.fetch_add(1, Ordering::SeqCst)
        );
        SlowDisk {
            cgroup: Throttle::new(&name, &dev, bytes_per_sec),
            disk,
        }
    }

    fn mnt(&self) -> &Path {
        &self.disk.path
    }
}

/// Which block throttle this machine has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Version {
    /// The v1 blkio hierarchy: `blkio.throttle.write_bps_device`.
    V1,
    /// A cgroup2 hierarchy with the io controller: `io.max`.
    V2,
}

impl Version {
    /// The throttle's file, for the report.
    fn name(self) -> &'static str {
        match self {
            Version::V1 => "cgroup v1 `blkio.throttle.write_bps_device`",
            Version::V2 => "cgroup v2 `io.max`",
        }
    }
}

/// A cgroup whose writes to one device are throttled; its processes killed and the group
/// removed on drop.
struct Throttle {
    dir: PathBuf,
    version: Version,
}

/// Where the v1 blkio hierarchy is mounted when there is one.
const BLKIO_V1: &str = "/sys/fs/cgroup/blkio";

impl Throttle {
    /// A group `name` limiting writes to the device `dev` (`MAJOR:MINOR`) to `bps` bytes a
    /// second: in the v1 blkio hierarchy if the machine has one mounted, else in the cgroup2
    /// hierarchy if its io controller is free, else in a v1 blkio hierarchy mounted for the
    /// purpose (root can, for a controller cgroup2 does not hold). Fails loudly when none of
    /// the three works.
    fn new(name: &str, dev: &str, bps: u64) -> Throttle {
        let (root, version) = if Path::new(BLKIO_V1).join("cgroup.procs").exists() {
            (PathBuf::from(BLKIO_V1), Version::V1)
        } else if let Some(root) = v2_with_io() {
            (root, Version::V2)
        } else {
            mount_blkio_v1();
            (PathBuf::from(BLKIO_V1), Version::V1)
        };
        let dir = root.join(name);
        fs::create_dir(&dir)
            .unwrap_or_else(|e| panic!("create the cgroup {} ({version:?}): {e}", dir.display()));
        let t = Throttle { dir, version };
        let (file, line) = match version {
            Version::V1 => ("blkio.throttle.write_bps_device", format!("{dev} {bps}\n")),
            Version::V2 => ("io.max", format!("{dev} wbps={bps}\n")),
        };
        fs::write(t.dir.join(file), line).unwrap_or_else(|e| {
            panic!("set the write throttle {}: {e}", t.dir.join(file).display())
        });
        t
    }
}

/// The cgroup2 hierarchy's root directory, with `io` enabled for its children, if the kernel
/// has its io controller there (on a cgroup2-only machine; not where blkio is bound to v1).
fn v2_with_io() -> Option<PathBuf> {
    let info = fs::read_to_string("/proc/self/mountinfo").ok()?;
    let root = info.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        let fields: Vec<&str> = left.split(' ').collect();
        // The hierarchy's own root mounted (field 4 is `/`), not a part of it.
        (right.starts_with("cgroup2 ") && fields.get(3) == Some(&"/"))
            .then(|| fields.get(4).map(PathBuf::from))?
    })?;
    let has = |file: &str| {
        harness::read_text(root.join(file))
            .split_whitespace()
            .any(|c| c == "io")
    };
    if !has("cgroup.controllers") {
        return None;
    }
    if !has("cgroup.subtree_control") {
        fs::write(root.join("cgroup.subtree_control"), "+io\n").unwrap_or_else(|e| {
            panic!(
                "enable io in {}/cgroup.subtree_control: {e}",
                root.display()
            )
        });
    }
    Some(root)
}

/// Mounts the cgroup v1 blkio hierarchy at [`BLKIO_V1`], for a machine that booted with
/// neither it nor cgroup2's io controller available.
fn mount_blkio_v1() {
    let root = Path::new(BLKIO_V1);
    let _ = fs::create_dir_all(root);
    nix::mount::mount(
        Some("cgroup"),
        root,
        Some("cgroup"),
        MsFlags::empty(),
        Some("blkio"),
    )
    .unwrap_or_else(|e| {
        panic!(
            "the slow disk needs a block throttle: no cgroup2 hierarchy with the io controller, \
             and mount -t cgroup -o blkio on {}: {e}",
            root.display()
        )
    });
}

impl Drop for Throttle {
    fn drop(&mut self) {
        let procs = self.dir.join("cgroup.procs");
        for p in harness::read_text(&procs).lines() {
            if let Ok(pid) = p.trim().parse::<i32>() {
                harness::signal(pid, nix::sys::signal::Signal::SIGKILL);
            }
        }
        comes_true(Duration::from_secs(20), || {
            fs::remove_dir(&self.dir).is_ok() || !self.dir.exists()
        });
    }
}

/// What a run saw.
struct Figures {
    lines: u64,
    /// The writer's longest single write(2).
    longest: Duration,
    /// From the first write to the last one's return, if that came within the bound.
    taken: Option<Duration>,
    /// The writer's bytes the logger took.
    bytes: usize,
    in_log: u64,
    lost: u64,
    dropped: u64,
    markers: usize,
    torn: u64,
    exit_ok: bool,
    /// The slow disk's throttle, as the report names it.
    throttle: Option<&'static str>,
}

#[derive(Clone, Copy)]
enum Slow {
    /// The log directory on the throttled disk, at this many bytes a second.
    Disk(u64),
    /// A processor that sleeps this long before `cat`, and the rotation size.
    Processor(Duration, u64),
}

fn run(imp: Impl, slow: Slow, drop_mode: bool, n: u64) -> Figures {
    let s = Scratch::new(&format!("rel-slow-{}", imp.name()));
    let overload = if drop_mode { "overload drop\n" } else { "" };
    let (disk, d, config) = match slow {
        Slow::Disk(bps) => {
            let disk = SlowDisk::new(&s, bps);
            let d = disk.mnt().join("d");
            (Some(disk), d, format!("s1000000\nn0\n{overload}"))
        }
        // Under `overload drop` the processor is held until the writer is through (it waits
        // for a file the test makes then): the writer must get through without it.
        Slow::Processor(_, size) if drop_mode => (
            None,
            s.join("d"),
            format!("s{size}\nn0\n{overload}!while [ ! -e release ]; do sleep 0.05; done; cat\n"),
        ),
        Slow::Processor(t, size) => (
            None,
            s.join("d"),
            format!("s{size}\nn0\n{overload}!sleep {}; cat\n", t.as_secs_f64()),
        ),
    };
    fs::create_dir(&d).expect("log dir");
    fs::write(d.join("config"), config).expect("config");
    let (rd, wr) = pipe();
    let cgroup = disk.as_ref().map(|x| x.cgroup.dir.as_path());
    let mut p = svlogd(&s, imp, &rd, &[&d], "err", cgroup);
    drop(rd);
    let start = Instant::now();
    let writer = Writer::spawn(wr, lines(1, n), 4096);
    let bound = Duration::from_secs(60);
    let got_through = comes_true(bound, || writer.finished());
    let taken = got_through.then(|| start.elapsed());
    fs::write(d.join("release"), "").expect("release the processor");
    if !got_through {
        // Counted, not waited for: the logger goes, the writer stops.
        p.signal(nix::sys::signal::Signal::SIGKILL);
    }
    let w = writer.join(Duration::from_secs(10));
    drop(w.wr);
    let exit_ok = p.wait_timeout(Duration::from_secs(120)).success();
    let t = tally_dir(&d);
    let re = regex::Regex::new(r"^svlogd: dropped ([0-9]+) lines between ").unwrap();
    let counts: Vec<u64> = t
        .own
        .iter()
        .filter_map(|l| re.captures(l).map(|c| c[1].parse().unwrap()))
        .collect();
    let f = Figures {
        lines: n,
        longest: w.longest,
        taken,
        bytes: w.bytes,
        in_log: t.distinct(),
        lost: t.missing(1, n),
        dropped: counts.iter().sum(),
        markers: counts.len(),
        torn: t.torn,
        exit_ok,
        throttle: disk.as_ref().map(|x| x.cgroup.version.name()),
    };
    drop(disk);
    f
}

#[test]
fn slow_disk_and_processor() {
    let bps: u64 = 256 * 1024;
    let disk_lines = frame::size(40_000, 200_000);
    let delay = Duration::from_millis(frame::size(500, 2000));
    let size = frame::size(30_000, 100_000);
    let proc_lines = frame::size(40_000, 150_000);
    let mut r = Report::new("05-slow-disk", "Slow disk and slow processor");
    let imps = frame::impls();
    let mut cases: Vec<(&str, Figures, Option<Figures>)> = Vec::new();
    for (name, slow, drop_mode, n) in [
        ("slow disk, block", Slow::Disk(bps), false, disk_lines),
        ("slow disk, drop", Slow::Disk(bps), true, disk_lines),
        (
            "slow processor, block",
            Slow::Processor(delay, size),
            false,
            proc_lines,
        ),
        (
            "slow processor, drop",
            Slow::Processor(delay, size),
            true,
            proc_lines,
        ),
    ] {
        let ours = run(Impl::Ours, slow, drop_mode, n);
        let runit =
            (!drop_mode && imps.contains(&Impl::Runit)).then(|| run(Impl::Runit, slow, false, n));
        cases.push((name, ours, runit));
    }
    r.how(&format!(
        "A writer thread feeds svlogd numbered lines (`N N`) through a pipe in 4 KiB writes, as \
         fast as it can, timing each write(2). Slow disk: the log directory (`s1000000`, `n0`) \
         on an ext4 image on a loop device, mounted `sync`, with svlogd in a cgroup whose \
         block throttle ({}; this kernel has no device mapper, so no `delay` target) limits \
         its writes to that device to {} KiB/s; {} lines ({} KB). Slow processor: `s{}`, `n0`, `!sleep {}; cat`, our default `queue 4` \
         (runit: every rotation waits for the previous processor); {} lines. Each with the \
         default policy (`overload block`) and with `overload drop`; under `overload drop` \
         the processor does not finish before the writer is through (it waits for a file \
         made then). `tests/reliability/log_slow.rs`.",
        cases[0].1.throttle.unwrap_or("none"),
        bps / 1024,
        frame::count(disk_lines),
        frame::count(lines(1, disk_lines).len() as u64 / 1000),
        size,
        delay.as_secs_f64(),
        frame::count(proc_lines),
    ));
    for (name, ours, runit) in &cases {
        r.rows(
            ours,
            runit.as_ref(),
            &[
                (
                    &format!("{name}: longest write(2) of the writer"),
                    &|f: &Figures| secs(f.longest),
                ),
                (
                    &format!("{name}: time to take all input"),
                    &|f| match f.taken {
                        Some(t) => secs(t),
                        None => format!(
                            "not within 60 s ({} KB of {} KB taken)",
                            f.bytes / 1000,
                            lines(1, f.lines).len() / 1000
                        ),
                    },
                ),
                (
                    &format!("{name}: lines in the log / dropped (markers)"),
                    &|f| {
                        format!(
                            "{} / {} ({})",
                            frame::count(f.in_log),
                            frame::count(f.dropped),
                            f.markers
                        )
                    },
                ),
                (&format!("{name}: lines lost / torn"), &|f| {
                    if f.taken.is_none() {
                        "not counted (stopped after 60 s)".to_string()
                    } else {
                        format!("{} / {}", f.lost.saturating_sub(f.dropped), f.torn)
                    }
                }),
            ],
        );
    }
    let get = |i: usize| &cases[i].1;
    let key = |c: &(&str, Figures, Option<Figures>), runit: bool| {
        let f = if runit { c.2.as_ref() } else { Some(&c.1) };
        f.map(|f| format!("{} {}", c.0, secs(f.longest)))
    };
    let summary = |runit: bool| {
        let parts: Vec<String> = cases.iter().filter_map(|c| key(c, runit)).collect();
        if parts.is_empty() {
            String::new()
        } else {
            format!("longest write(2): {}", parts.join(", "))
        }
    };
    r.summary(summary(false), summary(true));
    r.note(
        "Under the default policy the writer waits as long as svlogd does, as with runit's; \
         ours consumes its input a block (up to half the pipe, 128 KiB) at a time, once the \
         block is written, so on a slow processor the writer waits for the rotations of a \
         whole block (runit's reads 1 KiB at a time, but then every rotation waits for the \
         processor: no queue). runit's svlogd writes its 1 KiB buffer with one write(2) at a \
         time, each a synchronous write to the throttled device on this `sync` mount, so on \
         the slow disk it takes a few KB a second and was stopped after 60 s. \
         With `overload drop` it never waits for the processor: a rotation that would wait for \
         a full queue drops and counts lines instead (asserted: the writer gets through while \
         the processor is held). A write that is merely slow cannot be told from one that \
         works, so svlogd waits for it in either mode (svlogd.8, OVERLOAD): on the slow disk \
         the writer is held up about as long under `overload drop` as under the default, and \
         nothing is dropped. Bounding that too would need a reader apart from the writing \
         (a thread and a bounded buffer), which the design (one thread; input consumed only \
         once written, so that a killed logger loses nothing) does not have. Measured while a \
         fuzzing campaign ran at nice 19 on both cores: the times are noisy.",
    );
    for (name, f, _) in &cases {
        r.check(
            f.taken.is_some(),
            &format!("{name}: the writer gets through"),
        );
        r.check(f.exit_ok, &format!("{name}: exit 0 at the end of input"));
        r.check(
            f.in_log + f.dropped == f.lines && f.torn == 0,
            &format!("{name}: every line in the log or counted as dropped"),
        );
    }
    r.check(get(0).lost == 0 && get(2).lost == 0, "block: no line lost");
    r.check(
        get(3).taken.is_some(),
        "slow processor, drop: the writer gets through while the processor is held",
    );
    r.check(
        get(3).markers > 0,
        "slow processor, drop: the marker is written",
    );
    r.finish();
}

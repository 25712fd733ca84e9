//! Standard input in its forms: a pipe (peeked with tee), a regular file, /dev/null, a
//! socket; and lines far longer than any buffer, which must pass through in bounded memory.

use harness::{code, logdir, read_text, svlogd_cmd, Impl, Proc, Scratch};
use std::fs;
use std::io::Write;
use std::os::unix::net::UnixStream;
use std::process::Stdio;
use std::time::Duration;

/// Runs `imp` with stdin from `stdin`; returns its exit code and the highest VmHWM (peak
/// RSS, KiB) seen in /proc while it ran (rusage would include the spawner's pages from before
/// exec).
fn run_from(imp: Impl, cwd: &std::path::Path, args: &[&str], stdin: Stdio) -> (i32, u64) {
    let mut c = svlogd_cmd(imp, cwd);
    c.args(args)
        .stdin(stdin)
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut p = Proc::spawn(&mut c);
    let mut hwm = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        hwm = hwm.max(harness::status_kib(p.pid(), "VmHWM").unwrap_or(0));
        if let Some(st) = p.child.try_wait().expect("try_wait") {
            return (code(st), hwm);
        }
        assert!(
            std::time::Instant::now() < deadline,
            "svlogd did not finish"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_regular_file_dev_null_and_a_socket_work_as_stdin() {
    let s = Scratch::new("stdin-kinds");
    logdir(&s.path, "file", "");
    logdir(&s.path, "null", "");
    logdir(&s.path, "sock", "");
    fs::write(s.join("input"), "from a file\npartial").unwrap();
    let f = fs::File::open(s.join("input")).unwrap();
    let (c, _) = run_from(Impl::Ours, &s.path, &["file"], Stdio::from(f));
    assert_eq!(c, 0);
    assert_eq!(read_text(s.join("file/current")), "from a file\npartial\n");
    let null = fs::File::open("/dev/null").unwrap();
    let (c, _) = run_from(Impl::Ours, &s.path, &["null"], Stdio::from(null));
    assert_eq!(c, 0);
    assert_eq!(read_text(s.join("null/current")), "");
    let (mut a, b) = UnixStream::pair().unwrap();
    a.write_all(b"over a socket\n").unwrap();
    drop(a.shutdown(std::net::Shutdown::Write));
    let (c, _) = run_from(
        Impl::Ours,
        &s.path,
        &["sock"],
        Stdio::from(std::os::fd::OwnedFd::from(b)),
    );
    assert_eq!(c, 0);
    assert_eq!(read_text(s.join("sock/current")), "over a socket\n");
}

#[test]
fn a_huge_line_passes_through_in_bounded_memory() {
    // 32 MiB without a newline, then a newline and a short line. runit stores it whole (the
    // log is never cut by -l); so do we, without holding it in memory.
    const LEN: usize = 32 << 20;
    let mut results = Vec::new();
    for imp in Impl::BOTH {
        let s = Scratch::new(&format!("huge-{}", imp.name()));
        logdir(&s.path, "d", "s0\ne*\n");
        let (rd, wr) = nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).unwrap();
        let writer = std::thread::spawn(move || {
            let mut w = fs::File::from(wr);
            let chunk = vec![b'h'; 1 << 20];
            for _ in 0..LEN >> 20 {
                w.write_all(&chunk).unwrap();
            }
            w.write_all(b"\nshort\n").unwrap();
        });
        let (c, rss) = run_from(imp, &s.path, &["-tt", "d"], Stdio::from(rd));
        writer.join().unwrap();
        assert_eq!(c, 0);
        let data = fs::read(s.join("d/current")).unwrap();
        assert_eq!(data.len(), 26 + LEN + 1 + 26 + 6, "{}", imp.name());
        assert!(data[26..26 + LEN].iter().all(|&b| b == b'h'));
        assert!(data.ends_with(b" short\n"));
        results.push(rss);
    }
    // Ours: far below the line's size (runit, reading byte by byte, is tiny too).
    assert!(
        results[1] < 8 * 1024,
        "peak RSS {} KiB for a 32 MiB line",
        results[1]
    );
}

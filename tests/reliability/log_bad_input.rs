//! Scenario 7: bad input to svlogd. NUL bytes, invalid UTF-8, one huge line with no newline,
//! a flood of empty lines, random bytes and input that closes in the middle of a line, each
//! fed to a fresh svlogd, once with `-tt` (and runit's `-l`/`-b` defaults) and once with
//! `-r _ -l 64` (replacement on, a short line length). svlogd must exit 0 at EOF, never panic,
//! keep every byte (allowing for the documented changes: the stamp, `-r` on the first `len`
//! bytes of a line, a newline after the partial last line; size rotation splits the stream
//! over files, which are read back in order), and its peak memory must not grow with the
//! line (`ru_maxrss` from `wait4`).

use crate::frame::{self, kib, Report};
use crate::log_measured::svlogd_with_input;
use harness::{log_bytes, log_files, Impl, Rng, Scratch};
use std::time::Duration;

/// One kind of bad input.
struct Input {
    name: &'static str,
    data: Vec<u8>,
}

fn inputs(long: usize, scale: usize) -> Vec<Input> {
    let mut nul = Vec::new();
    for i in 0..10_000 * scale {
        nul.extend_from_slice(format!("nul {i}\0in\0the\0middle\0\n").as_bytes());
    }
    nul.extend_from_slice(&[0; 3000]);
    nul.extend_from_slice(b"\n\0leading NUL\n\0\n");

    let bad: [&[u8]; 7] = [
        b"\xff\xfe not UTF-8 at all",
        b"truncated \xe2\x82",
        b"overlong \xc0\xaf slash",
        b"surrogate \xed\xa0\x80 half",
        b"valid caf\xc3\xa9 \xe2\x82\xac sign",
        b"\x80\x80\x80 lone continuation bytes",
        b"five-byte \xf8\x88\x80\x80\x80 form",
    ];
    let mut utf8 = Vec::new();
    for i in 0..2_000 * scale {
        utf8.extend_from_slice(bad[i % bad.len()]);
        utf8.extend_from_slice(format!(" {i}\n").as_bytes());
    }

    let long_line: Vec<u8> = (0..long).map(|i| b'a' + (i % 26) as u8).collect();

    let empty = vec![b'\n'; 200_000 * scale];

    let garbage = Rng::new(0x5eed_1234_abcd).bytes(2_000_000 * scale);

    let mut midline = Vec::new();
    for i in 0..1_000 * scale {
        midline.extend_from_slice(format!("line {i}\n").as_bytes());
    }
    midline.extend_from_slice(b"closed mid-line here");

    vec![
        Input {
            name: "NUL bytes",
            data: nul,
        },
        Input {
            name: "invalid UTF-8",
            data: utf8,
        },
        Input {
            name: "one line, no newline",
            data: long_line,
        },
        Input {
            name: "empty lines",
            data: empty,
        },
        Input {
            name: "random bytes",
            data: garbage,
        },
        Input {
            name: "closed mid-line",
            data: midline,
        },
    ]
}

/// A set of options svlogd runs with.
struct Opts {
    name: &'static str,
    args: &'static [&'static str],
    stamp: bool,
    /// `-r c` with `-l len`.
    replace: Option<(u8, usize)>,
}

const OPTS: [Opts; 2] = [
    Opts {
        name: "-tt",
        args: &["-tt"],
        stamp: true,
        replace: None,
    },
    Opts {
        name: "-r _ -l 64",
        args: &["-r", "_", "-l", "64"],
        stamp: false,
        replace: Some((b'_', 64)),
    },
];

/// What the log should hold (stamps left out): every line, the partial last one with a
/// newline added, `-r` applied to its first `len` bytes.
fn expected(input: &[u8], replace: Option<(u8, usize)>) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() + 1);
    let body = input.strip_suffix(b"\n").unwrap_or(input);
    if input.is_empty() {
        return out;
    }
    for line in body.split(|&b| b == b'\n') {
        let start = out.len();
        out.extend_from_slice(line);
        if let Some((c, len)) = replace {
            for b in &mut out[start..start + line.len().min(len)] {
                if *b < 32 || *b > 126 {
                    *b = c;
                }
            }
        }
        out.push(b'\n');
    }
    out
}

/// Whether `b` starts with a `-tt` stamp (`YYYY-MM-DD_HH:MM:SS.xxxxx `).
fn is_stamp(b: &[u8]) -> bool {
    const FORM: &[u8; 26] = b"dddd-dd-dd_dd:dd:dd.ddddd ";
    b.len() >= 26
        && FORM.iter().zip(b).all(|(&f, &c)| match f {
            b'd' => c.is_ascii_digit(),
            _ => f == c,
        })
}

/// The log's bytes with each line's stamp removed, and how many lines had none.
fn unstamp(log: &[u8]) -> (Vec<u8>, u64) {
    let mut out = Vec::with_capacity(log.len());
    let mut bad = 0;
    let body = log.strip_suffix(b"\n").unwrap_or(log);
    if log.is_empty() {
        return (out, 0);
    }
    for line in body.split(|&b| b == b'\n') {
        if is_stamp(line) {
            out.extend_from_slice(&line[26..]);
        } else {
            bad += 1;
            out.extend_from_slice(line);
        }
        out.push(b'\n');
    }
    if !log.ends_with(b"\n") {
        out.pop();
    }
    (out, bad)
}

/// One run's result.
struct Run {
    code: i32,
    panicked: bool,
    /// Bytes of the expected log that are not there (from the first difference on).
    missing: u64,
    /// Bytes in the log past the first difference.
    extra: u64,
    /// Lines without a stamp (with `-tt`).
    unstamped: u64,
    maxrss_kib: u64,
    files: usize,
    elapsed: Duration,
}

impl Run {
    fn held(&self) -> bool {
        self.code == 0
            && !self.panicked
            && self.missing == 0
            && self.extra == 0
            && self.unstamped == 0
    }

    fn cell(&self) -> String {
        let lost = if self.missing == 0 && self.extra == 0 {
            "every byte kept".to_string()
        } else {
            format!(
                "{} bytes missing, {} extra",
                frame::count(self.missing),
                frame::count(self.extra)
            )
        };
        let unstamped = if self.unstamped > 0 {
            format!(", {} lines unstamped", self.unstamped)
        } else {
            String::new()
        };
        format!(
            "exit {}{}; {lost}{unstamped}; peak {}; {} file{}; {}",
            self.code,
            if self.panicked { " (PANIC)" } else { "" },
            kib(self.maxrss_kib),
            self.files,
            if self.files == 1 { "" } else { "s" },
            frame::secs(self.elapsed)
        )
    }
}

fn run_one(s: &Scratch, imp: Impl, opts: &Opts, input: &Input, n: usize) -> Run {
    let dir = s.mkdir(format!("{}-{n}", imp.name()));
    // Keep every archive: the whole stream is compared.
    s.write(dir.join("config"), "n0\n");
    let dirs = dir.to_string_lossy().into_owned();
    let mut args: Vec<&str> = opts.args.to_vec();
    args.push(&dirs);
    let ended = svlogd_with_input(s, imp, &args, &input.data, Duration::from_secs(300));
    let log = log_bytes(&dir);
    let files = log_files(&dir).len();
    let (got, unstamped) = if opts.stamp { unstamp(&log) } else { (log, 0) };
    drop(std::fs::remove_dir_all(&dir));
    let want = expected(&input.data, opts.replace);
    let same = want.iter().zip(&got).take_while(|(a, b)| a == b).count();
    let (missing, extra) = if same == want.len() && same == got.len() {
        (0, 0)
    } else {
        ((want.len() - same) as u64, (got.len() - same) as u64)
    };
    Run {
        code: ended.code,
        panicked: ended.stderr.contains("panicked") || ended.code == 134,
        missing,
        extra,
        unstamped,
        maxrss_kib: ended.maxrss_kib,
        files,
        elapsed: ended.elapsed,
    }
}

#[test]
fn bad_input_to_svlogd() {
    let long = frame::size(10_000_000, 100_000_000);
    let scale = frame::size(1, 10);
    let inputs = inputs(long, scale);
    let s = Scratch::new("rel-badinput");
    let mut r = Report::new("07-bad-input", "Bad input to svlogd");
    r.how(&format!(
        "Each input is piped into a fresh svlogd (one log directory, `config` `n0` so no \
         archive is deleted), which must exit 0 at EOF: {} lines holding NUL bytes (and a \
         line of 3,000 NULs); {} lines of invalid UTF-8 (bad lead bytes, truncated, overlong, \
         surrogate and five-byte forms); one line of {} bytes with no newline; {} empty \
         lines; {} random bytes; {} lines and then a line the input closes in the middle of. \
         Once with `-tt` (runit's `-l 1000 -b 1024` defaults) and once with `-r _ -l 64`. The \
         log (archives by name, then `current`) is compared byte for byte with the input \
         after the documented changes: the stamp on each line, `-r` on a line's first `len` \
         bytes, a newline after a partial last line. Size rotation (1,000,000 bytes) splits \
         the long line over files; read back in order they must hold it whole. Peak memory \
         is `ru_maxrss` from `wait4`. `tests/reliability/log_bad_input.rs`.",
        frame::count(10_000 * scale as u64),
        frame::count(2_000 * scale as u64),
        frame::count(long as u64),
        frame::count(200_000 * scale as u64),
        frame::count(2_000_000 * scale as u64),
        frame::count(1_000 * scale as u64),
    ));
    let mut n = 0;
    let mut results: Vec<(Impl, &str, &str, Run)> = Vec::new();
    for imp in frame::impls() {
        for opts in &OPTS {
            for input in &inputs {
                n += 1;
                let run = run_one(&s, imp, opts, input, n);
                eprintln!(
                    "{} {} {}: {}",
                    imp.name(),
                    opts.name,
                    input.name,
                    run.cell()
                );
                results.push((imp, opts.name, input.name, run));
            }
        }
    }
    let get = |imp: Impl, o: &str, i: &str| {
        results
            .iter()
            .find(|(a, b, c, _)| *a == imp && *b == o && *c == i)
            .map(|(_, _, _, r)| r)
    };
    for opts in &OPTS {
        for input in &inputs {
            let ours = get(Impl::Ours, opts.name, input.name).expect("ours ran");
            let runit = get(Impl::Runit, opts.name, input.name);
            r.row(
                &format!("{} (`{}`)", input.name, opts.name),
                ours.cell(),
                runit.map(Run::cell).unwrap_or_default(),
            );
            r.check(
                ours.held(),
                &format!(
                    "{} with `{}`: exit 0, no panic, every byte kept",
                    input.name, opts.name
                ),
            );
        }
    }
    let peak = |imp: Impl| {
        results
            .iter()
            .filter(|(a, ..)| *a == imp)
            .map(|(.., r)| r.maxrss_kib)
            .max()
    };
    let long_peak = |imp: Impl| {
        results
            .iter()
            .filter(|(a, _, i, _)| *a == imp && *i == "one line, no newline")
            .map(|(.., r)| r.maxrss_kib)
            .max()
    };
    let lost = |imp: Impl| {
        results
            .iter()
            .filter(|(a, ..)| *a == imp)
            .map(|(.., r)| r.missing)
            .sum::<u64>()
    };
    let key = |imp: Impl| {
        let bad = results
            .iter()
            .filter(|(a, ..)| *a == imp)
            .filter(|(.., r)| r.code != 0 || r.panicked)
            .count();
        format!(
            "{} runs: {} not exiting 0, {} bytes lost; peak {} for the {} MB line",
            results.iter().filter(|(a, ..)| *a == imp).count(),
            bad,
            frame::count(lost(imp)),
            kib(long_peak(imp).unwrap_or(0)),
            long / 1_000_000
        )
    };
    r.summary(
        key(Impl::Ours),
        if frame::with_runit() {
            key(Impl::Runit)
        } else {
            String::new()
        },
    );
    let ours_peak = peak(Impl::Ours).unwrap_or(0);
    r.check(
        ours_peak < 32 * 1024,
        &format!(
            "peak memory bounded whatever the input (under 32 MiB; was {})",
            kib(ours_peak)
        ),
    );
    r.note(
        "runit's svlogd drops a partial last line shorter than `len` at EOF (the `closed \
         mid-line` and `random bytes` inputs end that way), which shows as bytes missing at \
         the end; ours writes it with a newline, as its man page says. Neither changes NUL \
         bytes or invalid UTF-8 without `-r`, and both keep a line longer than `len` whole \
         in the log (only the first `len` bytes are replaced, matched, sent by UDP).",
    );
    r.note(
        "Peak memory is the whole process's resident high-water mark. Ours reads and writes \
         in large blocks and keeps an index of the lines of a block, so a block of empty \
         lines costs the most (about 13 MiB, the same at 200,000 and at 2,000,000 lines); \
         it does not grow with the input or with the length of a line. runit's copies a long \
         line byte by byte through a 1 KiB buffer. Times are wall-clock and were measured \
         while a fuzzing campaign kept both cores busy at nice 19: they are indicative only.",
    );
    r.finish();
}

//! `svlogd -C dir ...`: reads each directory's `config` the way svlogd would, prints the
//! effective value of every setting (the command line's `-t`/`-T`/`-L` included), and names
//! every line svlogd does not act on, with its number: unknown directives (runit ignores
//! them without a word), our lines whose value does not parse, and lines runit's rules skip
//! (`!` or `p` with nothing after it, a final one-byte line without a newline). Nothing is
//! opened for writing and no lock is taken, so it is safe next to a running svlogd.
//!
//! Exit code: 0 when every line is understood, 1 when some line is not, 111 when a directory
//! or its `config` cannot be read (a missing `config` is fine: the defaults apply).

use crate::config::added::{Overload, Stream};
use crate::config::{self, Config, Meaning};
use crate::options::Options;
use formats::stamp::{stamp_name, Timestamp};
use std::io::Write;
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;

/// Exit code when some line is not understood.
pub const EXIT_NOT_UNDERSTOOD: i32 = 1;
/// Exit code when a directory or its config cannot be read.
pub const EXIT_UNREADABLE: i32 = 111;

/// Checks every directory of `opts`, printing to stdout; returns the exit code.
pub fn run(opts: &Options) -> i32 {
    let mut out = std::io::stdout().lock();
    let mut code = 0;
    for dir in &opts.dirs {
        let name = dir.as_bytes();
        let path = std::path::Path::new(dir).join("config");
        if !std::path::Path::new(dir).is_dir() {
            crate::msg::warnx("not a log directory", name);
            code = EXIT_UNREADABLE;
            continue;
        }
        // Non-blocking, as when logging: a FIFO named `config` reads as empty.
        let read = || -> std::io::Result<Vec<u8>> {
            use std::io::Read as _;
            use std::os::unix::fs::OpenOptionsExt as _;
            let mut data = Vec::new();
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(nix::libc::O_NONBLOCK)
                .open(&path)?
                .read_to_end(&mut data)?;
            Ok(data)
        };
        let data = match read() {
            Ok(d) => Some(d),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => {
                crate::msg::warn("unable to read config", name, formats::strerr::errno_of(&e));
                code = EXIT_UNREADABLE;
                continue;
            }
        };
        let file = data.as_deref().unwrap_or_default();
        let (cfg, warnings, lines) = config::parse_lines(file);
        let text = report(name, data.is_some(), file, &lines, &cfg, &warnings, opts);
        let _ = out.write_all(text.as_bytes());
        let fd = std::fs::File::open(dir).ok().map(OwnedFd::from);
        let path = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.into());
        let spool = cfg.nmax.saturating_mul(cfg.sizemax);
        let (text, unusable) =
            crate::forward::show::report(&cfg.forward, fd.as_ref(), &path, spool);
        let _ = out.write_all(text.as_bytes());
        let bad = unusable
            || lines.iter().any(|l| {
                matches!(
                    l.meaning,
                    Meaning::Unknown | Meaning::Invalid | Meaning::Ignored
                )
            });
        if bad && code == 0 {
            code = EXIT_NOT_UNDERSTOOD;
        }
    }
    let _ = out.flush();
    code
}

fn show(b: &[u8]) -> String {
    b.escape_ascii().to_string()
}

/// For a runit number line (`s`, `n`, `N`, `t`) with more than a number and its suffix,
/// what runit makes of it: it reads the leading digits and ignores the rest.
fn loose_number(l: &config::Line, text: &[u8]) -> Option<String> {
    if l.meaning != Meaning::Setting {
        return None;
    }
    let (&first, rest) = text.split_first()?;
    let suffixes: &[u8] = match first {
        b's' => b"km",
        b't' => b"mh",
        b'n' | b'N' => b"",
        _ => return None,
    };
    let (v, used) = formats::scan::scan_ulong(rest);
    let mut tail = &rest[used..];
    if let Some((&c, t)) = tail.split_first() {
        if suffixes.contains(&c) {
            tail = t;
        }
    }
    let tail = tail.strip_suffix(b"\r").unwrap_or(tail);
    (used == 0 || !tail.is_empty())
        .then(|| format!("read as {}{v} (only leading digits count)", first as char))
}

/// The report for one directory: `file` is its `config`, `lines` what each line meant.
pub fn report(
    name: &[u8],
    has_config: bool,
    file: &[u8],
    lines: &[config::Line],
    cfg: &Config,
    warnings: &[config::Warning],
    opts: &Options,
) -> String {
    let mut r = String::new();
    let dir = show(name);
    if has_config {
        r.push_str(&format!("== {dir}/config: {} lines\n", lines.len()));
    } else {
        r.push_str(&format!("== {dir}: no config, the defaults apply\n"));
    }
    let mut w = warnings.iter();
    for l in lines {
        let text = &file[l.text.clone()];
        if let Some(note) = loose_number(l, text) {
            r.push_str(&format!("line {}: {note}: {}\n", l.number, show(text)));
            continue;
        }
        let why = match l.meaning {
            Meaning::Unknown => "unknown directive, ignored".to_string(),
            Meaning::Invalid => match w.next() {
                // Ours say more than which rule: the option and what it takes.
                Some(w) if w.located && w.arg != text => {
                    format!("invalid, ignored ({}: {})", w.what, show(&w.arg))
                }
                Some(w) => format!("invalid, ignored ({})", w.what),
                None => "invalid, ignored".to_string(),
            },
            Meaning::Ignored => "ignored (nothing to act on)".to_string(),
            _ => continue,
        };
        r.push_str(&format!("line {}: {why}: {}\n", l.number, show(text)));
    }
    let opt = |v: &Option<Vec<u8>>| v.as_deref().map_or("none".to_string(), show);
    let x = &cfg.extras;
    let mut set = |key: &str, value: String| r.push_str(&format!("{key:<22} {value}\n"));
    let off_or = |v: u64, unit: &str| {
        if v == 0 {
            "off".to_string()
        } else {
            format!("{v}{unit}")
        }
    };
    set("size (s)", off_or(cfg.sizemax, " bytes"));
    set(
        "count (n)",
        if cfg.nmax == 0 {
            "no limit".into()
        } else {
            cfg.nmax.to_string()
        },
    );
    set("disk full min (N)", cfg.nmin.to_string());
    set("rotate every (t)", off_or(cfg.tmax, " s"));
    set("processor (!)", opt(&cfg.processor));
    set(
        "udp (u/U)",
        match cfg.udp {
            None => "none".into(),
            Some(a) if cfg.udp_only => format!("{a} only"),
            Some(a) => a.to_string(),
        },
    );
    set(
        "prefix (p)",
        if cfg.prefix.is_empty() {
            "none".into()
        } else {
            format!("\"{}\"", show(&cfg.prefix))
        },
    );
    let mut patterns = String::with_capacity(cfg.patterns.len() * 8);
    for (action, pattern) in cfg.patterns.iter() {
        if !patterns.is_empty() {
            patterns.push(' ');
        }
        if let config::Pattern::Regex(_) = pattern {
            patterns.push('~');
        }
        patterns.push(match action {
            config::Action::Select => '+',
            config::Action::Deselect => '-',
            config::Action::Alert => 'e',
            config::Action::NoAlert => 'E',
        });
        match pattern {
            config::Pattern::Glob(glob) => patterns.push_str(&show(glob)),
            config::Pattern::Regex(re) => patterns.push_str(re),
        }
    }
    if patterns.is_empty() {
        patterns.push_str("none (every line to the log)");
    }
    set("patterns", patterns);
    set(
        "total bytes (S)",
        if x.total_max == 0 {
            "no limit".into()
        } else {
            format!("{} bytes", x.total_max)
        },
    );
    set(
        "maxage",
        x.age_max
            .map_or("no limit".into(), |d| format!("{} s", d.as_secs())),
    );
    set(
        "compress",
        x.gzip.map_or("none".into(), |l| format!("gzip level {l}")),
    );
    set(
        "queue",
        if x.queue == 0 {
            "0 (a rotation waits for the processor)".into()
        } else {
            x.queue.to_string()
        },
    );
    let overload = match (x.overload, opts.lossy) {
        (Some(Overload::Drop), _) => "drop",
        (Some(Overload::Block), _) => "block",
        (None, true) => "drop (-L)",
        (None, false) => "block",
    };
    set("overload", overload.into());
    let stamp = match x.stamp {
        Some(t) => stamp_name(t).to_string(),
        None => format!(
            "{} (command line)",
            match opts.timestamp {
                Timestamp::None => "none",
                t => stamp_name(t),
            }
        ),
    };
    set("timestamp (T)", stamp);
    set(
        "copy",
        match &x.copy {
            None => "none".into(),
            Some(c) => {
                let to = match c.to {
                    Stream::Stdout => "stdout",
                    Stream::Stderr => "stderr",
                };
                match &c.prefix {
                    None => format!("{to}, prefix \"SERVICE | \""),
                    Some(p) => format!("{to}, prefix \"{}\"", show(p)),
                }
            }
        },
    );
    let targets: Vec<String> = cfg.forward.targets.iter().map(|t| t.id()).collect();
    set(
        "forward (>)",
        if targets.is_empty() {
            "none".into()
        } else {
            targets.join(" ")
        },
    );
    set(
        "metrics",
        if x.metrics {
            "svlogd.prom".into()
        } else {
            "off".into()
        },
    );
    set(
        "autoreload",
        if x.autoreload {
            "on".into()
        } else {
            "off".into()
        },
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    #[test]
    fn names_every_line_it_does_not_act_on() {
        let file = b"s100\nzzz\nSfoo\n!\nmaxage 1h\nUbad\nn5x\nt2m\n";
        let (cfg, w, lines) = config::parse_lines(file);
        let opts = Options::parse(&[
            OsString::from("svlogd"),
            OsString::from("-tt"),
            OsString::from("d"),
        ])
        .unwrap();
        let r = report(b"d", true, file, &lines, &cfg, &w, &opts);
        assert!(r.starts_with("== d/config: 8 lines\n"), "{r}");
        assert!(
            r.contains("line 7: read as n5 (only leading digits count): n5x\n"),
            "{r}"
        );
        assert!(!r.contains("line 8"), "{r}");
        assert!(r.contains("forward (>)            none\n"), "{r}");
        let ffile = b">udp 127.0.0.1:5514\n";
        let (fcfg, fw, flines) = config::parse_lines(ffile);
        let fr = report(b"d", true, ffile, &flines, &fcfg, &fw, &opts);
        let line = fr.lines().find(|l| l.starts_with("forward (>)")).unwrap();
        assert!(line.contains("udp") && line.contains("5514"), "{fr}");
        assert!(
            r.contains("line 2: unknown directive, ignored: zzz\n"),
            "{r}"
        );
        assert!(
            r.contains("line 3: invalid, ignored (invalid config line): Sfoo\n"),
            "{r}"
        );
        assert!(
            r.contains("line 4: ignored (nothing to act on): !\n"),
            "{r}"
        );
        assert!(
            r.contains("line 6: invalid, ignored (unable to scan ip address): Ubad\n"),
            "{r}"
        );
        assert!(r.contains("size (s)               100 bytes\n"), "{r}");
        assert!(r.contains("maxage                 3600 s\n"), "{r}");
        assert!(
            r.contains("timestamp (T)          utc (command line)\n"),
            "{r}"
        );
    }
}

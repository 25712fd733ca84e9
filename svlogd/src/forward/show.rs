//! What `svlogd -C` says about a directory's forwarding: every setting of every target as
//! svlogd will use it (defaults resolved and marked), where each target will start (its
//! cursor, or the one it continues from), the `>pri` rules and the spool limit; and the
//! `ca=`/`cert=`/`key=` files read and parsed as a connection would read them (relative to
//! the log directory), a bad one an error.

use super::config::{pri_name, Format, ForwardConfig, Framing, Target, Transport};
use super::cursor::{Cursor, FileId, PREFIX};
use std::os::fd::{AsFd, OwnedFd};

/// The report on `fc` for the directory `dir` (open, named `name`; its path gives the
/// service's name). `cfg_spool` is `n` × `s`, the spool limit without `>spool`. Returns the
/// text and whether some target's files are unusable.
pub fn report(
    fc: &ForwardConfig,
    dir: Option<&OwnedFd>,
    path: &std::path::Path,
    cfg_spool: u64,
) -> (String, bool) {
    let mut r = String::new();
    let mut bad = false;
    let set = |r: &mut String, key: &str, value: String| {
        r.push_str(&format!("  {key:<20} {value}\n"));
    };
    let service = String::from_utf8_lossy(&super::service_name(path)).into_owned();
    let host = nix::unistd::gethostname()
        .map(|h| h.to_string_lossy().into_owned())
        .unwrap_or_else(|_| "localhost".into());
    for t in &fc.targets {
        r.push_str(&format!("target {}\n", t.id()));
        let (what, rfc) = match t.transport {
            Transport::Udp => ("udp", "RFC 5426, one message a datagram"),
            Transport::Tcp => ("tcp", "RFC 6587"),
            Transport::Tls => ("tls", "RFC 5425"),
        };
        set(&mut r, "transport", format!("{what} ({rfc})"));
        let addr = if t.host.contains(':') {
            format!("[{}]:{}", t.host, t.port)
        } else {
            format!("{}:{}", t.host, t.port)
        };
        set(&mut r, "address", addr);
        let default = |given: bool| if given { "" } else { " (default)" };
        set(
            &mut r,
            "format",
            match t.format {
                Format::Rfc5424 => "rfc5424 (default)".to_string(),
                Format::Rfc3164 => "rfc3164".to_string(),
            },
        );
        if t.transport != Transport::Udp {
            set(
                &mut r,
                "framing",
                match t.framing {
                    Framing::Octet => "octet (default: octet counting)".to_string(),
                    Framing::Lf => "lf (a newline after each message)".to_string(),
                },
            );
        }
        set(
            &mut r,
            "app",
            match &t.app {
                Some(a) => a.clone(),
                None => format!("{service} (default: the service's name)"),
            },
        );
        set(
            &mut r,
            "host",
            match &t.hostname {
                Some(h) => h.clone(),
                None => format!("{host} (default: this host's name)"),
            },
        );
        set(
            &mut r,
            "max",
            format!(
                "{} bytes a message, longer ones cut{}",
                t.max,
                default(t.max != t.default_max())
            ),
        );
        if t.transport == Transport::Udp {
            set(
                &mut r,
                "rate",
                match t.pace() {
                    None => "unpaced (default): as fast as the spool is read".to_string(),
                    Some((rate, burst)) => format!(
                        "{rate} lines a second, bursts of at most {burst} lines{}",
                        default(t.burst.is_some())
                    ),
                },
            );
        }
        if t.transport == Transport::Tls {
            let name = match &t.server_name {
                Some(n) => n.clone(),
                None => format!("{} (default: the host)", t.host),
            };
            set(&mut r, "name", name);
            match dir {
                Some(d) => match super::tls::check(t, d.as_fd()) {
                    Ok(found) => {
                        for (opt, text) in found {
                            set(&mut r, opt, text);
                        }
                    }
                    Err(e) => {
                        bad = true;
                        r.push_str(&format!("  error: {e}\n"));
                    }
                },
                None => {
                    for (opt, v) in [("ca", &t.ca), ("cert", &t.cert), ("key", &t.key)] {
                        if let Some(v) = v {
                            set(&mut r, opt, format!("{v} (not read: no directory)"));
                        }
                    }
                }
            }
        }
        set(&mut r, "cursor", cursor(t, dir));
    }
    if !fc.targets.is_empty() {
        let mut pri = format!("{} (default)", pri_name(fc.pri_for(b"")));
        for rule in &fc.pri {
            match &rule.glob {
                None => pri = format!("{} (every line)", pri_name(rule.pri)),
                Some(g) => pri.push_str(&format!(
                    ", {} for {}",
                    pri_name(rule.pri),
                    g.escape_ascii()
                )),
            }
        }
        r.push_str(&format!("{:<22} {pri}\n", "forward pri"));
        let spool = match fc.spool {
            Some(0) => "no limit (>spool 0)".to_string(),
            Some(n) => format!("{n} bytes of unsent archives in all"),
            None if cfg_spool == 0 => "no limit (n × s, n or s 0)".to_string(),
            None => format!("{cfg_spool} bytes of unsent archives in all (default: n × s)"),
        };
        r.push_str(&format!("{:<22} {spool}\n", "forward spool"));
    }
    (r, bad)
}

/// Where target `t` starts: its cursor file, the one it continues from, or the end of
/// `current`.
fn cursor(t: &Target, dir: Option<&OwnedFd>) -> String {
    let name = format!("{PREFIX}{}", t.id());
    let load = |n: &str| dir.and_then(|d| Cursor::load(d, n.as_bytes()).ok().flatten());
    let at = |c: Cursor| match c.pos.file {
        FileId::Archive(l) => format!("@{} offset {}", String::from_utf8_lossy(&l), c.pos.offset),
        FileId::Current(_) => format!("current offset {}", c.pos.offset),
    };
    if let Some(c) = load(&name) {
        return format!("{name}: {}", at(c));
    }
    if let Some(from) = &t.from {
        let other = format!("{PREFIX}{from}");
        return match load(&other) {
            Some(c) => format!("none yet: continues from {other} ({}), from=", at(c)),
            None => format!("none yet: from={from} has no cursor either: the end of current"),
        };
    }
    "none yet: starts at the end of current".to_string()
}

//! The `config` lines of syslog forwarding, parsed with no I/O. Every such line starts with
//! `>` (a first byte runit ignores without a word, so a `config` that forwards still works,
//! without forwarding, under runit's svlogd):
//!
//! ```text
//! >udp HOST[:PORT] [OPTION...]     RFC 5426: one message per datagram       (port 514)
//! >tcp HOST[:PORT] [OPTION...]     RFC 6587: octet counting, or framing=lf   (port 514)
//! >tls HOST[:PORT] [OPTION...]     RFC 5425: octet counting over TLS         (port 6514)
//! >pri FACILITY.SEVERITY [GLOB]    the PRI of every line, or of lines matching GLOB
//! >spool SIZE                      cap on the unsent archives, all together (k, m, g; 0 = none)
//! ```
//!
//! HOST is an IPv4 address, an IPv6 address in brackets (`[::1]:514`) or a host name (looked up
//! at each connection). Options, separated by spaces: `format=rfc5424` (default) or
//! `format=rfc3164`; `framing=octet` (default) or `framing=lf` (TCP only); `app=NAME` (default:
//! the service's name, from the log directory's path); `host=NAME` (default: the host's name);
//! `max=BYTES` (longest message; default 1024 for RFC 3164, else 2048 over UDP and 8192 over
//! TCP and TLS, rsyslog's default); `from=TARGET` (continue from another target's cursor);
//! for UDP `rate=N` (lines a second) and `burst=N` (lines back to back; default a tenth of a
//! second's worth, at most [`BURST_DEFAULT_MAX`]);
//! for TLS `ca=FILE` (PEM; required), `cert=FILE` and `key=FILE` (a client certificate, PEM) and
//! `name=NAME` (the server name to verify; default HOST). Relative file names are in the log
//! directory.
//!
//! A refused line gets a warning that says where it is and what is wrong: a value out of range
//! names the option and what it takes (`invalid forward option value: log/config:2: max=10
//! (max= takes 64 to 65000 bytes, suffix k)`), an option of another transport says whose it
//! is (`forward option not for this transport`), an unknown one lists the options.
//!
//! `>pri` lines work like runit's `+`/`-` patterns: they are tried in file order over the line
//! (without stamp and prefix, the first `-l` bytes, as `+`/`-` see it) and the last one that
//! matches wins; a `>pri` without GLOB matches every line, so it sets the default (`user.notice`
//! when there is none). A line that does not parse is refused with a warning and changes
//! nothing.

use crate::config::warning::Warning;
use crate::pmatch::pmatch;
use formats::scan::scan_ulong;

/// Default UDP and TCP port.
pub const PORT_SYSLOG: u16 = 514;
/// Default TLS port (RFC 5425).
pub const PORT_TLS: u16 = 6514;
/// Default longest message over UDP (RFC 5426 asks receivers for at least 2048).
pub const MAX_UDP: usize = 2048;
/// Default longest message over TCP and TLS (rsyslog's default `maxMessageSize`).
pub const MAX_STREAM: usize = 8192;
/// Default longest RFC 3164 message (its section 4.1).
pub const MAX_3164: usize = 1024;
/// The largest `max=` accepted (a UDP datagram cannot be larger).
pub const MAX_LIMIT: usize = 65_000;
/// The PRI of a line no `>pri` line matches: user.notice (13).
pub const DEFAULT_PRI: u8 = 13;

/// How messages travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// RFC 5426.
    Udp,
    /// RFC 6587.
    Tcp,
    /// RFC 5425.
    Tls,
}

impl Transport {
    /// The word used in `config` and in the cursor file's name.
    pub fn word(self) -> &'static str {
        match self {
            Transport::Udp => "udp",
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
        }
    }
}

/// The message format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `<PRI>1 TIMESTAMP HOST APP - - - MSG`.
    Rfc5424,
    /// `<PRI>Mmm dd hh:mm:ss HOST APP: MSG`.
    Rfc3164,
}

/// How messages are delimited on a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `LEN SP MSG` (RFC 6587 §3.4.1, the only framing of RFC 5425).
    Octet,
    /// `MSG LF` (RFC 6587 §3.4.2).
    Lf,
}

/// One `>udp`/`>tcp`/`>tls` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// UDP, TCP or TLS.
    pub transport: Transport,
    /// The host as written (an address, or a name to look up); brackets removed.
    pub host: String,
    /// The port.
    pub port: u16,
    /// RFC 5424 or RFC 3164.
    pub format: Format,
    /// Stream framing (UDP ignores it).
    pub framing: Framing,
    /// APP-NAME, if set (else the service's name).
    pub app: Option<String>,
    /// HOSTNAME, if set (else the host's name).
    pub hostname: Option<String>,
    /// Longest message in bytes (framing not counted); longer ones are cut.
    pub max: usize,
    /// UDP: at most this many lines a second (`rate=`), if set.
    pub rate: Option<u32>,
    /// UDP: at most this many lines back to back (`burst=`, with `rate=`).
    pub burst: Option<u32>,
    /// Continue from the cursor of this target (`from=`, a target's name) when this one has
    /// none yet.
    pub from: Option<String>,
    /// TLS: the CA certificates (PEM file).
    pub ca: Option<String>,
    /// TLS: the client certificate chain (PEM file).
    pub cert: Option<String>,
    /// TLS: the client key (PEM file).
    pub key: Option<String>,
    /// TLS: the name to verify the server's certificate against (else `host`).
    pub server_name: Option<String>,
}

impl Target {
    /// A short stable name: `tcp-127.0.0.1-514`; it names the cursor file, so changing the
    /// transport, host or port starts a new cursor.
    pub fn id(&self) -> String {
        let host: String = self
            .host
            .chars()
            .map(|c| if c == '/' || c.is_control() { '_' } else { c })
            .collect();
        format!("{}-{}-{}", self.transport.word(), host, self.port)
    }

    /// The `max=` a target of this transport and format has when none is given.
    pub fn default_max(&self) -> usize {
        match (self.format, self.transport) {
            (Format::Rfc3164, _) => MAX_3164,
            (_, Transport::Udp) => MAX_UDP,
            _ => MAX_STREAM,
        }
    }

    /// `rate=` and the burst in effect (given, or a tenth of a second's worth, at least 1
    /// and at most [`BURST_DEFAULT_MAX`]); `None` without `rate=`.
    pub fn pace(&self) -> Option<(u32, u32)> {
        let rate = self.rate?;
        let burst = self
            .burst
            .unwrap_or_else(|| (rate / 10).clamp(1, BURST_DEFAULT_MAX));
        Some((rate, burst))
    }
}

/// One `>pri` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriRule {
    /// facility × 8 + severity.
    pub pri: u8,
    /// Lines it applies to; `None` = every line.
    pub glob: Option<Vec<u8>>,
}

/// Everything the `>` lines of one `config` say.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ForwardConfig {
    /// The targets, in file order.
    pub targets: Vec<Target>,
    /// The `>pri` lines, in file order.
    pub pri: Vec<PriRule>,
    /// `>spool`: the most bytes the unsent archives may hold together (beyond it the oldest
    /// go, as `n` would have them go); `None` = `n` × `s`; `Some(0)` = no limit.
    pub spool: Option<u64>,
}

impl ForwardConfig {
    /// The PRI for a line's text (the last matching `>pri` wins).
    pub fn pri_for(&self, text: &[u8]) -> u8 {
        let mut pri = DEFAULT_PRI;
        for r in &self.pri {
            match &r.glob {
                None => pri = r.pri,
                Some(g) if pmatch(g, text) => pri = r.pri,
                Some(_) => {}
            }
        }
        pri
    }

    /// Whether the PRI depends on the line (some `>pri` has a pattern).
    pub fn pri_varies(&self) -> bool {
        self.pri.iter().any(|r| r.glob.is_some())
    }
}

const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];
const SEVERITIES: [&str; 8] = [
    "emerg", "alert", "crit", "err", "warning", "notice", "info", "debug",
];

/// Reads a facility or severity: a name from `names` (plus the usual aliases), or a number below
/// `names.len()`.
fn level(word: &str, names: &[&str]) -> Option<u8> {
    if let Some(i) = names.iter().position(|n| *n == word) {
        return Some(i as u8);
    }
    let alias = match word {
        "panic" => "emerg",
        "error" => "err",
        "warn" => "warning",
        _ => "",
    };
    if let Some(i) = names.iter().position(|n| *n == alias) {
        return Some(i as u8);
    }
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_digit()) {
        let v: usize = word.parse().ok()?;
        return (v < names.len()).then_some(v as u8);
    }
    None
}

/// Parses `FACILITY.SEVERITY` (`daemon.err`, `local3.info`, `3.4`).
pub fn parse_pri(s: &str) -> Option<u8> {
    let (f, sv) = s.split_once('.')?;
    Some(level(f, &FACILITIES)? * 8 + level(sv, &SEVERITIES)?)
}

/// A PRI as `FACILITY.SEVERITY` (`user.notice`), for `svlogd -C`.
pub fn pri_name(pri: u8) -> String {
    let f = FACILITIES.get(usize::from(pri / 8)).copied().unwrap_or("?");
    format!("{f}.{}", SEVERITIES[usize::from(pri % 8)])
}

/// Reads a size with an optional `k`, `m` or `g` suffix.
fn parse_size(s: &[u8]) -> Option<u64> {
    let (v, n) = scan_ulong(s);
    if n == 0 {
        return None;
    }
    let mult: u64 = match &s[n..] {
        b"" => 1,
        b"k" => 1 << 10,
        b"m" => 1 << 20,
        b"g" => 1 << 30,
        _ => return None,
    };
    v.checked_mul(mult)
}

/// Splits `HOST[:PORT]` or `[V6][:PORT]`.
fn parse_address(s: &str, default_port: u16) -> Option<(String, u16)> {
    let (host, port) = if let Some(rest) = s.strip_prefix('[') {
        let (h, after) = rest.split_once(']')?;
        h.parse::<std::net::Ipv6Addr>().ok()?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (h, port)
    } else {
        match s.rsplit_once(':') {
            // A bare IPv6 address without brackets is refused: its port would be ambiguous.
            Some((h, _)) if h.contains(':') => return None,
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    if host.is_empty()
        || host.len() > 253
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b))
    {
        return None;
    }
    let port = match port {
        None => default_port,
        Some(p) => match p.parse::<u16>() {
            Ok(0) | Err(_) => return None,
            Ok(p) => p,
        },
    };
    Some((host.to_string(), port))
}

/// The warning for a `>tls` line in a build without the cargo feature `tls`.
pub const NO_TLS: &str = "forward over tls needs svlogd built with the cargo feature tls";

/// Every option a target line takes, for the warning about an unknown one.
pub const OPTIONS: &str =
    "format= framing= app= host= max= rate= burst= from= ca= cert= key= name=";

/// The highest `rate=` (lines a second) and `burst=` (lines).
pub const RATE_LIMIT: u32 = 1_000_000;
/// `burst=` when not given: a tenth of a second's worth of `rate=`, at most this many lines
/// (a collector's default UDP receive buffer, 208 KiB on Linux, holds about 250 short
/// datagrams).
pub const BURST_DEFAULT_MAX: u32 = 100;

fn refuse(what: &'static str, arg: &[u8]) -> Warning {
    Warning::located(what, arg)
}

/// What each option takes, for the warning about a bad value.
fn takes(key: &str) -> &'static str {
    match key {
        "format" => "rfc5424 or rfc3164",
        "framing" => "octet or lf",
        "app" | "host" => "1 to 255 printable ASCII characters",
        "max" => "64 to 65000 bytes, suffix k",
        "rate" => "1 to 1000000 lines a second",
        "burst" => "1 to 1000000 lines",
        "from" => "the name of a target, as svlogd -C shows it: tcp-HOST-PORT",
        _ => "a file or host name",
    }
}

/// Which transports take an option (`None`: every one).
fn transports_of(key: &str) -> Option<(&'static [Transport], &'static str)> {
    match key {
        "framing" => Some((
            &[Transport::Tcp, Transport::Tls],
            "only >tcp takes framing=: >udp sends one message a datagram",
        )),
        "rate" | "burst" => Some((
            &[Transport::Udp],
            "only >udp takes rate= and burst=: TCP and TLS pace themselves",
        )),
        "ca" | "cert" | "key" | "name" => Some((
            &[Transport::Tls],
            "only >tls takes ca=, cert=, key= and name=",
        )),
        _ => None,
    }
}

/// Reads a target's name (`tcp-10.0.0.1-514`, also with the cursor file's `forward.`
/// prefix), as `from=` takes it.
pub fn parse_id(s: &str) -> Option<String> {
    let s = s.strip_prefix(super::cursor::PREFIX).unwrap_or(s);
    let (word, rest) = s.split_once('-')?;
    let (host, port) = rest.rsplit_once('-')?;
    if !["udp", "tcp", "tls"].contains(&word)
        || host.is_empty()
        || host.len() > 253
        || !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._:".contains(&b))
        || !matches!(port.parse::<u16>(), Ok(p) if p != 0)
        || port.starts_with('0')
    {
        return None;
    }
    Some(s.to_string())
}

/// Reads one `KEY=VALUE` option of a target line into `t`. `max_given` notes an explicit
/// `max=`.
fn option(t: &mut Target, w: &str, max_given: &mut bool) -> Result<(), Warning> {
    let Some((k, v)) = w.split_once('=') else {
        let arg = format!("{w} (options: {OPTIONS})");
        return Err(refuse("unknown forward option", arg.as_bytes()));
    };
    let invalid = || {
        let arg = format!("{w} ({k}= takes {})", takes(k));
        refuse("invalid forward option value", arg.as_bytes())
    };
    if let Some((ok, why)) = transports_of(k) {
        if !ok.contains(&t.transport) {
            let arg = format!("{w} ({why})");
            return Err(refuse(
                "forward option not for this transport",
                arg.as_bytes(),
            ));
        }
    }
    let count = |v: &str| -> Option<u32> {
        if v.is_empty() || v.len() > 7 || !v.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        v.parse().ok().filter(|n| (1..=RATE_LIMIT).contains(n))
    };
    match k {
        "format" => {
            t.format = match v {
                "rfc5424" => Format::Rfc5424,
                "rfc3164" => Format::Rfc3164,
                _ => return Err(invalid()),
            }
        }
        "framing" => {
            t.framing = match v {
                "octet" => Framing::Octet,
                "lf" if t.transport == Transport::Tls => {
                    let arg = format!("{w} (>tls frames by octet counting only, RFC 5425)");
                    return Err(refuse(
                        "forward option not for this transport",
                        arg.as_bytes(),
                    ));
                }
                "lf" => Framing::Lf,
                _ => return Err(invalid()),
            }
        }
        "app" | "host" => {
            // RFC 5424 PRINTUSASCII: no spaces, nothing above `~`.
            if v.is_empty() || v.len() > 255 || !v.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(invalid());
            }
            if k == "app" {
                t.app = Some(v.to_string());
            } else {
                t.hostname = Some(v.to_string());
            }
        }
        "max" => {
            let m = parse_size(v.as_bytes())
                .filter(|m| (64..=MAX_LIMIT as u64).contains(m))
                .ok_or_else(invalid)?;
            t.max = m as usize;
            *max_given = true;
        }
        "rate" => t.rate = Some(count(v).ok_or_else(invalid)?),
        "burst" => t.burst = Some(count(v).ok_or_else(invalid)?),
        "from" => t.from = Some(parse_id(v).ok_or_else(invalid)?),
        "ca" | "cert" | "key" | "name" => {
            if v.is_empty() {
                return Err(invalid());
            }
            let v = Some(v.to_string());
            match k {
                "ca" => t.ca = v,
                "cert" => t.cert = v,
                "key" => t.key = v,
                _ => t.server_name = v,
            }
        }
        _ => {
            let arg = format!("{w} (options: {OPTIONS})");
            return Err(refuse("unknown forward option", arg.as_bytes()));
        }
    }
    Ok(())
}

/// Reads a `>udp`/`>tcp`/`>tls` line (`verb` and the words after it).
fn target<'a>(
    transport: Transport,
    line: &[u8],
    mut words: impl Iterator<Item = &'a str>,
) -> Result<Target, Warning> {
    let whole = [&b">"[..], line].concat();
    let addr = words
        .next()
        .ok_or_else(|| refuse("unable to scan forward address", &whole))?;
    let default_port = if transport == Transport::Tls {
        PORT_TLS
    } else {
        PORT_SYSLOG
    };
    let (host, port) = parse_address(addr, default_port).ok_or_else(|| {
        let arg = format!("{addr} (HOST, HOST:PORT or [IPV6]:PORT, port 1 to 65535)");
        refuse("unable to scan forward address", arg.as_bytes())
    })?;
    let mut t = Target {
        transport,
        host,
        port,
        format: Format::Rfc5424,
        framing: Framing::Octet,
        app: None,
        hostname: None,
        max: if transport == Transport::Udp {
            MAX_UDP
        } else {
            MAX_STREAM
        },
        rate: None,
        burst: None,
        from: None,
        ca: None,
        cert: None,
        key: None,
        server_name: None,
    };
    let mut max_given = false;
    for w in words {
        option(&mut t, w, &mut max_given)?;
    }
    if t.format == Format::Rfc3164 && !max_given {
        t.max = MAX_3164;
    }
    if transport == Transport::Tls && !super::tls::AVAILABLE {
        return Err(refuse(NO_TLS, &whole));
    }
    if transport == Transport::Tls && t.ca.is_none() {
        return Err(refuse("forward over tls needs ca=FILE", &whole));
    }
    if t.cert.is_some() != t.key.is_some() {
        return Err(refuse("forward over tls needs both cert= and key=", &whole));
    }
    if t.burst.is_some() && t.rate.is_none() {
        return Err(refuse("forward option burst= needs rate=", &whole));
    }
    if t.from.as_deref() == Some(t.id().as_str()) {
        let arg = format!("from={} (names this target itself)", t.id());
        return Err(refuse("invalid forward option value", arg.as_bytes()));
    }
    Ok(t)
}

/// Applies one `>` line (without the `>`) to `fc`. `Err` is the warning for a line that is
/// refused (and changes nothing); it names the line's directory and number when printed.
pub fn apply(fc: &mut ForwardConfig, line: &[u8]) -> Result<(), Warning> {
    let line = &line[line.iter().take_while(|&&b| b == b' ').count()..];
    let whole = [&b">"[..], line].concat();
    let text =
        std::str::from_utf8(line).map_err(|_| refuse("unable to parse forward line", &whole))?;
    let mut words = text.split(' ').filter(|w| !w.is_empty());
    let verb = words.next().unwrap_or("");
    match verb {
        "udp" | "tcp" | "tls" => {
            let transport = match verb {
                "udp" => Transport::Udp,
                "tcp" => Transport::Tcp,
                _ => Transport::Tls,
            };
            let t = target(transport, line, words)?;
            if fc.targets.iter().any(|o| o.id() == t.id()) {
                let arg = format!(
                    "{} (an earlier line has the same transport, host and port)",
                    String::from_utf8_lossy(&whole)
                );
                return Err(refuse("duplicate forward target", arg.as_bytes()));
            }
            fc.targets.push(t);
            Ok(())
        }
        "pri" => {
            // `pri SPEC[ GLOB]`: the glob is the rest of the line after one space, taken as
            // written (spaces belong to a pattern, as in `+` lines).
            let rest = &line[3..];
            let rest = &rest[rest.iter().take_while(|&&b| b == b' ').count()..];
            let end = memchr::memchr(b' ', rest).unwrap_or(rest.len());
            let spec = std::str::from_utf8(&rest[..end]).unwrap_or("");
            let pri = parse_pri(spec).ok_or_else(|| {
                let arg = format!(
                    "{} (FACILITY.SEVERITY: kern to local7, emerg to debug, or numbers)",
                    String::from_utf8_lossy(&whole)
                );
                refuse("unable to scan forward priority", arg.as_bytes())
            })?;
            let glob = rest
                .get(end + 1..)
                .filter(|g| !g.is_empty())
                .map(|g| g.to_vec());
            fc.pri.push(PriRule { pri, glob });
            Ok(())
        }
        "spool" => {
            let size = words
                .next()
                .and_then(|w| parse_size(w.as_bytes()))
                .ok_or_else(|| {
                    let arg = format!(
                        "{} (bytes, suffix k, m or g; 0 = no limit)",
                        String::from_utf8_lossy(&whole)
                    );
                    refuse("unable to scan forward spool size", arg.as_bytes())
                })?;
            fc.spool = Some(size);
            Ok(())
        }
        _ => {
            let arg = format!(
                "{} (>udp, >tcp, >tls, >pri or >spool)",
                String::from_utf8_lossy(&whole)
            );
            Err(refuse("unable to parse forward line", arg.as_bytes()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(line: &str) -> Result<ForwardConfig, Warning> {
        let mut fc = ForwardConfig::default();
        apply(&mut fc, line.as_bytes()).map(|_| fc)
    }

    #[test]
    fn targets_with_defaults() {
        let fc = one("tcp 127.0.0.1").unwrap();
        let t = &fc.targets[0];
        assert_eq!(
            (t.transport, t.host.as_str(), t.port),
            (Transport::Tcp, "127.0.0.1", 514)
        );
        assert_eq!(
            (t.format, t.framing, t.max),
            (Format::Rfc5424, Framing::Octet, MAX_STREAM)
        );
        assert_eq!(t.id(), "tcp-127.0.0.1-514");
        let t = &one("udp [::1]:5514 format=rfc3164").unwrap().targets[0];
        assert_eq!((t.host.as_str(), t.port, t.max), ("::1", 5514, MAX_3164));
        assert_eq!(t.format, Format::Rfc3164);
        let tls = "tls logs.example.org ca=/etc/ca.pem cert=c.pem key=k.pem name=x";
        if super::super::tls::AVAILABLE {
            let t = &one(tls).unwrap().targets[0];
            assert_eq!((t.port, t.ca.as_deref()), (6514, Some("/etc/ca.pem")));
            assert_eq!(t.server_name.as_deref(), Some("x"));
        } else {
            let w = one(tls).unwrap_err();
            assert_eq!((w.what, w.arg), (NO_TLS, format!(">{tls}").into_bytes()));
        }
        let t = &one("tcp h:1 framing=lf app=web host=box max=4k")
            .unwrap()
            .targets[0];
        assert_eq!(t.framing, Framing::Lf);
        assert_eq!(
            (t.app.as_deref(), t.hostname.as_deref(), t.max),
            (Some("web"), Some("box"), 4096)
        );
    }

    #[test]
    fn bad_lines_are_refused() {
        for bad in [
            "tcp",
            "tcp 1.2.3.4:0",
            "tcp 1.2.3.4:70000",
            "tcp ::1:514",
            "tcp [::1",
            "tcp [nothex]:5",
            "tcp a/b",
            "udp 1.2.3.4 framing=nul",
            "udp 1.2.3.4 format=json",
            "udp 1.2.3.4 junk",
            "udp 1.2.3.4 ca=x",
            "tls 1.2.3.4",
            "tls 1.2.3.4 ca=x cert=y",
            "tls 1.2.3.4 ca=x framing=lf",
            "tcp 1.2.3.4 app=a b",
            "tcp 1.2.3.4 max=10",
            "pri",
            "pri user",
            "pri user.loud",
            "pri 24.1",
            "spool",
            "spool 5x",
            "ftp 1.2.3.4",
        ] {
            assert!(one(bad).is_err(), "{bad} should be refused");
        }
        let mut fc = ForwardConfig::default();
        apply(&mut fc, b"tcp 1.2.3.4").unwrap();
        assert!(apply(&mut fc, b"tcp 1.2.3.4:514").is_err(), "duplicate");
        assert_eq!(fc.targets.len(), 1);
    }

    /// The warning for a refused line: what, and the argument as text.
    fn refused(line: &str) -> (&'static str, String) {
        let w = one(line).expect_err(line);
        assert!(w.located, "{line}: the message says where");
        (w.what, String::from_utf8(w.arg).unwrap())
    }

    #[test]
    fn messages_say_what_is_wrong() {
        let invalid = "invalid forward option value";
        let elsewhere = "forward option not for this transport";
        for (line, what, arg) in [
            (
                "tcp 1.2.3.4 max=10",
                invalid,
                "max=10 (max= takes 64 to 65000 bytes, suffix k)",
            ),
            (
                "udp 1.2.3.4 format=RFC3164",
                invalid,
                "format=RFC3164 (format= takes rfc5424 or rfc3164)",
            ),
            (
                "udp 1.2.3.4 rate=0",
                invalid,
                "rate=0 (rate= takes 1 to 1000000 lines a second)",
            ),
            (
                "tcp 1.2.3.4 from=nowhere",
                invalid,
                "from=nowhere (from= takes the name of a target, as svlogd -C shows it: tcp-HOST-PORT)",
            ),
            (
                "tcp 1.2.3.4 cert=c.pem",
                elsewhere,
                "cert=c.pem (only >tls takes ca=, cert=, key= and name=)",
            ),
            (
                "tcp 1.2.3.4 rate=10",
                elsewhere,
                "rate=10 (only >udp takes rate= and burst=: TCP and TLS pace themselves)",
            ),
            (
                "udp 1.2.3.4 framing=lf",
                elsewhere,
                "framing=lf (only >tcp takes framing=: >udp sends one message a datagram)",
            ),
            (
                "tcp 1.2.3.4 junk",
                "unknown forward option",
                "junk (options: format= framing= app= host= max= rate= burst= from= ca= cert= key= name=)",
            ),
            (
                "tcp nowhere:0",
                "unable to scan forward address",
                "nowhere:0 (HOST, HOST:PORT or [IPV6]:PORT, port 1 to 65535)",
            ),
            (
                "udp 1.2.3.4 burst=5",
                "forward option burst= needs rate=",
                ">udp 1.2.3.4 burst=5",
            ),
        ] {
            assert_eq!(refused(line), (what, arg.to_string()), "{line}");
        }
        if super::super::tls::AVAILABLE {
            assert_eq!(
                refused("tls h ca=x framing=lf").1,
                "framing=lf (>tls frames by octet counting only, RFC 5425)"
            );
        }
    }

    #[test]
    fn pacing_and_from() {
        let t = &one("udp 1.2.3.4 rate=5000").unwrap().targets[0];
        assert_eq!(t.pace(), Some((5000, 100)));
        let t = &one("udp 1.2.3.4 rate=50").unwrap().targets[0];
        assert_eq!(t.pace(), Some((50, 5)));
        let t = &one("udp 1.2.3.4 rate=3 burst=7").unwrap().targets[0];
        assert_eq!(t.pace(), Some((3, 7)));
        assert_eq!(one("udp h").unwrap().targets[0].pace(), None);
        let t = &one("tcp 10.0.0.2 from=tcp-10.0.0.1-514").unwrap().targets[0];
        assert_eq!(t.from.as_deref(), Some("tcp-10.0.0.1-514"));
        let t = &one("tcp h from=forward.udp-my-host.example-5514")
            .unwrap()
            .targets[0];
        assert_eq!(t.from.as_deref(), Some("udp-my-host.example-5514"));
        for bad in [
            "tcp h from=tcp-h-514",
            "tcp h from=ftp-a-1",
            "tcp h from=tcp-a-0",
            "tcp h from=tcp-a-070",
            "tcp h from=tcp--1",
            "tcp h from=tcp-a/b-1",
        ] {
            assert!(one(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_id("tcp-::1-514").as_deref(), Some("tcp-::1-514"));
    }

    #[test]
    fn priorities_last_match_wins() {
        let mut fc = ForwardConfig::default();
        assert_eq!(fc.pri_for(b"x"), 13);
        apply(&mut fc, b"pri daemon.info").unwrap();
        apply(&mut fc, b"pri daemon.err *ERROR*").unwrap();
        apply(&mut fc, b"pri local7.debug *ERROR*, ignored").unwrap();
        assert_eq!(fc.pri_for(b"all fine"), 3 * 8 + 6);
        assert_eq!(fc.pri_for(b"an ERROR here"), 3 * 8 + 3);
        assert_eq!(fc.pri_for(b"an ERROR here, ignored"), 23 * 8 + 7);
        assert!(fc.pri_varies());
        assert_eq!(parse_pri("kern.emerg"), Some(0));
        assert_eq!(parse_pri("local7.debug"), Some(191));
        assert_eq!(parse_pri("3.warn"), Some(28));
    }

    #[test]
    fn spool_sizes() {
        assert_eq!(one("spool 0").unwrap().spool, Some(0));
        assert_eq!(one("spool 10m").unwrap().spool, Some(10 << 20));
        assert_eq!(one("spool 2g").unwrap().spool, Some(2 << 30));
    }
}

//! Syslog messages as they go on the wire: the RFC 5424 or RFC 3164 header, the message, and
//! the stream framing of RFC 6587 (octet counting or LF), rendered straight into the send
//! buffer with no allocation per line.
//!
//! RFC 5424: `<PRI>1 2026-11-22T18:42:17.036720Z HOST APP - - - MSG` (UTC, microseconds; PROCID,
//! MSGID and STRUCTURED-DATA are the nil value `-`). RFC 3164: `<PRI>Nov 22 18:42:17 HOST APP:
//! MSG`, local time as BSD syslog writes it. The date part is rendered once per second.
//!
//! HOSTNAME and APP-NAME are made safe for the header: every byte that is not printable ASCII
//! (or is `:`, `[` or `]` in an RFC 3164 tag) becomes `_`; APP-NAME is cut to 48 bytes (32 for an
//! RFC 3164 tag), HOSTNAME to 255. A message longer than the target's `max` is cut to fit.

use super::config::{Format, Framing, Transport};
use chrono::{Datelike, Offset, TimeZone, Timelike};
use formats::tai64n::Tai64n;

/// Longest RFC 5424 APP-NAME.
pub const APP_MAX_5424: usize = 48;
/// Longest RFC 3164 TAG.
pub const APP_MAX_3164: usize = 32;
/// Longest HOSTNAME.
pub const HOST_MAX: usize = 255;

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// How a message ends up framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    /// One message per datagram, as is.
    Datagram,
    /// `LEN SP MSG`.
    Octet,
    /// `MSG LF`.
    Lf,
}

impl Wire {
    /// The framing a target's transport and option call for.
    pub fn of(transport: Transport, framing: Framing) -> Wire {
        match (transport, framing) {
            (Transport::Udp, _) => Wire::Datagram,
            (_, Framing::Octet) => Wire::Octet,
            (_, Framing::Lf) => Wire::Lf,
        }
    }
}

/// Replaces what may not appear in a header field and cuts it to `max` bytes; an empty
/// result becomes `-` (5424's nil value) so the header keeps its shape.
pub fn header_field(s: &[u8], max: usize, tag: bool) -> Vec<u8> {
    let mut v: Vec<u8> = s
        .iter()
        .take(max)
        .map(|&b| {
            if !b.is_ascii_graphic() || (tag && matches!(b, b':' | b'[' | b']')) {
                b'_'
            } else {
                b
            }
        })
        .collect();
    if v.is_empty() {
        v.push(b'-');
    }
    v
}

/// Renders messages of one target.
#[derive(Debug)]
pub struct Renderer {
    format: Format,
    wire: Wire,
    /// Longest message (header included, framing not).
    max: usize,
    /// ` HOST APP - - - ` (5424) or ` HOST APP: ` (3164): everything after the date.
    middle: Vec<u8>,
    /// The second `date` holds, as Unix seconds.
    cached: Option<i64>,
    /// `YYYY-MM-DDTHH:MM:SS.` (20 bytes) or `Mmm dd hh:mm:ss` (15 bytes).
    date: Vec<u8>,
}

impl Renderer {
    /// A renderer for messages from `host`/`app` (already chosen, not yet sanitised).
    pub fn new(format: Format, wire: Wire, max: usize, host: &[u8], app: &[u8]) -> Renderer {
        let mut middle = vec![b' '];
        middle.extend(header_field(host, HOST_MAX, false));
        middle.push(b' ');
        match format {
            Format::Rfc5424 => {
                middle.extend(header_field(app, APP_MAX_5424, false));
                middle.extend_from_slice(b" - - - ");
            }
            Format::Rfc3164 => {
                middle.extend(header_field(app, APP_MAX_3164, true));
                middle.extend_from_slice(b": ");
            }
        }
        Renderer {
            format,
            wire,
            max,
            middle,
            cached: None,
            date: Vec::with_capacity(32),
        }
    }

    fn render_date(&mut self, secs: i64) {
        if self.cached == Some(secs) {
            return;
        }
        self.cached = Some(secs);
        self.date.clear();
        match self.format {
            Format::Rfc5424 => {
                let t = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
                push_num(&mut self.date, t.year().clamp(0, 9999) as u64, 4);
                self.date.push(b'-');
                push_num(&mut self.date, t.month() as u64, 2);
                self.date.push(b'-');
                push_num(&mut self.date, t.day() as u64, 2);
                self.date.push(b'T');
                push_time(&mut self.date, t.hour(), t.minute(), t.second());
                self.date.push(b'.');
            }
            Format::Rfc3164 => {
                let utc = chrono::DateTime::from_timestamp(secs, 0).unwrap_or_default();
                let offset = chrono::Local
                    .offset_from_utc_datetime(&utc.naive_utc())
                    .fix();
                let t = utc.with_timezone(&offset);
                self.date
                    .extend_from_slice(MONTHS[t.month0() as usize % 12]);
                self.date.push(b' ');
                let d = t.day();
                self.date
                    .push(if d < 10 { b' ' } else { b'0' + (d / 10) as u8 });
                self.date.push(b'0' + (d % 10) as u8);
                self.date.push(b' ');
                push_time(&mut self.date, t.hour(), t.minute(), t.second());
            }
        }
    }

    /// Appends one framed message to `out`: priority `pri`, time of receipt `t`, text `msg`
    /// (cut so the message fits `max`). Returns how many bytes of `msg` went out.
    pub fn push(&mut self, out: &mut Vec<u8>, pri: u8, t: Tai64n, msg: &[u8]) -> usize {
        self.render_date(t.unix_secs());
        let pri = pri.min(191);
        let head_len = pri_len(pri);
        let version: &[u8] = if self.format == Format::Rfc5424 {
            b"1 "
        } else {
            b""
        };
        let micros = (t.nanos / 1000).min(999_999);
        let frac_len = if self.format == Format::Rfc5424 { 7 } else { 0 };
        let fixed = head_len + version.len() + self.date.len() + frac_len + self.middle.len();
        let take = msg.len().min(self.max.saturating_sub(fixed));
        let total = fixed + take;
        match self.wire {
            Wire::Octet => {
                push_num(out, total as u64, 0);
                out.push(b' ');
            }
            Wire::Datagram | Wire::Lf => {}
        }
        out.push(b'<');
        push_num(out, pri as u64, 0);
        out.push(b'>');
        out.extend_from_slice(version);
        out.extend_from_slice(&self.date);
        if self.format == Format::Rfc5424 {
            push_num(out, micros as u64, 6);
            out.push(b'Z');
        }
        out.extend_from_slice(&self.middle);
        out.extend_from_slice(&msg[..take]);
        if self.wire == Wire::Lf {
            out.push(b'\n');
        }
        take
    }
}

/// Length of `<PRI>`.
fn pri_len(pri: u8) -> usize {
    2 + match pri {
        0..=9 => 1,
        10..=99 => 2,
        _ => 3,
    }
}

fn push_time(out: &mut Vec<u8>, h: u32, m: u32, s: u32) {
    push_num(out, h as u64, 2);
    out.push(b':');
    push_num(out, m as u64, 2);
    out.push(b':');
    push_num(out, s.min(59) as u64, 2);
}

/// Appends `v` in decimal, zero-padded to `width` digits (0 = as many as needed).
pub fn push_num(out: &mut Vec<u8>, v: u64, width: usize) {
    let mut tmp = [0u8; 20];
    let mut i = tmp.len();
    let mut v = v;
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    let digits = tmp.len() - i;
    for _ in digits..width {
        out.push(b'0');
    }
    out.extend_from_slice(&tmp[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t() -> Tai64n {
        // 2026-11-22 18:42:17.036720 UTC
        Tai64n::from_unix(1_795_372_937, 36_720_500)
    }

    fn one(r: &mut Renderer, pri: u8, msg: &[u8]) -> String {
        let mut out = Vec::new();
        r.push(&mut out, pri, t(), msg);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rfc5424_octet_counted() {
        let mut r = Renderer::new(Format::Rfc5424, Wire::Octet, 8192, b"box", b"web");
        let body = "<13>1 2026-11-22T18:42:17.036720Z box web - - - hello world";
        assert_eq!(
            one(&mut r, 13, b"hello world"),
            format!("{} {body}", body.len())
        );
        let mut r = Renderer::new(Format::Rfc5424, Wire::Lf, 8192, b"box", b"");
        assert_eq!(
            one(&mut r, 191, b"x"),
            "<191>1 2026-11-22T18:42:17.036720Z box - - - - x\n"
        );
        let mut r = Renderer::new(Format::Rfc5424, Wire::Datagram, 8192, b"b o\x01x", b"a:b");
        assert_eq!(
            one(&mut r, 0, b""),
            "<0>1 2026-11-22T18:42:17.036720Z b_o_x a:b - - - "
        );
    }

    #[test]
    fn rfc3164_local_time() {
        // The test process runs with TZ unset or UTC in CI; compare with chrono's own view.
        let mut r = Renderer::new(Format::Rfc3164, Wire::Datagram, 1024, b"box", b"my:app");
        let got = one(&mut r, 30, b"started");
        let local = chrono::DateTime::from_timestamp(1_795_372_937, 0)
            .unwrap()
            .with_timezone(&chrono::Local);
        let want = format!("<30>{} box my_app: started", local.format("%b %e %H:%M:%S"));
        assert_eq!(got, want);
        let early = Tai64n::from_unix(1_793_000_000, 500); // a day < 10 in some month
        let mut out = Vec::new();
        r.push(&mut out, 30, early, b"x");
        let local = chrono::DateTime::from_timestamp(1_793_000_000, 0)
            .unwrap()
            .with_timezone(&chrono::Local);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("<30>{} box my_app: x", local.format("%b %e %H:%M:%S"))
        );
    }

    #[test]
    fn long_messages_are_cut_to_max() {
        let mut r = Renderer::new(Format::Rfc5424, Wire::Octet, 100, b"h", b"a");
        let mut out = Vec::new();
        let took = r.push(&mut out, 13, t(), &[b'x'; 500]);
        let (len, rest) = std::str::from_utf8(&out).unwrap().split_once(' ').unwrap();
        assert_eq!(len.parse::<usize>().unwrap(), rest.len());
        assert_eq!(rest.len(), 100);
        // What push says it took is what went out: the x's after the header (which has none).
        let sent = rest.bytes().filter(|&b| b == b'x').count();
        assert!(sent > 0 && rest.ends_with(&"x".repeat(sent)), "{rest}");
        assert_eq!(took, sent);
        // A message that fits goes out whole.
        let mut out = Vec::new();
        assert_eq!(r.push(&mut out, 13, t(), b"short"), 5);
        assert!(out.ends_with(b" short"));
    }

    #[test]
    fn numbers() {
        let mut v = Vec::new();
        push_num(&mut v, 7, 3);
        push_num(&mut v, 0, 0);
        push_num(&mut v, 1234, 2);
        assert_eq!(v, b"00701234");
    }
}

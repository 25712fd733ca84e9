//! UDP forwarding for `u`/`U` (spec/svlogd.md §5).
//!
//! The datagram is runit's: `[stamp][prefix]` + the first `len` bytes of the line + `...` when
//! the line reached `len` + `\n`, one per line, no syslog header. runit opened, used and closed
//! a socket for every line (about six system calls each); here one socket per directory is
//! kept open, connected to the target (so the route is looked up once), and re-created after
//! an error (spec §12 item 13). The datagrams of one input chunk are queued and sent together
//! with `sendmmsg`, before the chunk's lines are written, and a datagram that fails still gets
//! runit's warning in the log just before its line. IPv6 targets work too (`u[::1]:514`).
//!
//! Two differences follow from keeping the socket: a burst can fill its send buffer (a fresh
//! socket per line never did), so a send waits up to [`SEND_WAIT`] for room; and a connected
//! socket learns of an absent receiver (ECONNREFUSED from an earlier ICMP error), which
//! runit's unconnected sockets never did, so that is not reported as a failure.

use crate::batch::Batch;
use nix::libc;
use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

/// How long a send may wait for room in the socket's send buffer.
pub const SEND_WAIT: Duration = Duration::from_millis(50);
/// The text runit writes into the log before a datagram that did not go out.
pub const FAILURE: &[u8] = b"warning: failure sending through udp: ";
/// The text runit writes into the log when it has no socket (followed by the line).
pub const NO_SOCKET: &[u8] = b"warning: no udp socket available: ";
/// At most this many datagrams per `sendmmsg` (Linux's UIO_MAXIOV).
const MMSG_MAX: usize = 1024;

/// A directory's UDP sender and its queue of datagrams not yet sent.
#[derive(Debug, Default)]
pub struct UdpOut {
    /// The socket, connected to `target`.
    sock: Option<UdpSocket>,
    target: Option<SocketAddr>,
    /// Queued datagrams, back to back.
    queue: Vec<u8>,
    /// For each queued datagram: where it ends in `queue`, and where in the directory's batch
    /// (byte offset) a failure warning would go.
    entries: Vec<(usize, usize)>,
}

impl UdpOut {
    /// Queues the datagram made of `parts` for `to`; `mark` is the batch offset its line
    /// starts at. Returns false when no socket can be had (the caller logs runit's warning).
    pub fn queue(&mut self, to: SocketAddr, parts: &[&[u8]], mark: usize) -> bool {
        if self.sock.is_none() || self.target != Some(to) {
            self.sock = open(to).ok();
            self.target = Some(to);
        }
        if self.sock.is_none() {
            return false;
        }
        for p in parts {
            self.queue.extend_from_slice(p);
        }
        self.entries.push((self.queue.len(), mark));
        true
    }

    /// Sends everything queued; every datagram that does not go out gets runit's failure
    /// warning inserted into `batch` before its line.
    pub fn flush(&mut self, batch: &mut Batch) {
        if self.entries.is_empty() {
            return;
        }
        let mut failed: Vec<usize> = Vec::new();
        let mut whole: Vec<bool> = Vec::new();
        let mut next = 0;
        while next < self.entries.len() {
            let Some(sock) = &self.sock else {
                failed.extend(next..self.entries.len());
                break;
            };
            let start = if next == 0 {
                0
            } else {
                self.entries[next - 1].0
            };
            let ends = self.entries[next..].iter().map(|e| e.0);
            match send_datagrams(sock.as_raw_fd(), &self.queue, start, ends, &mut whole) {
                Ok(sent) => {
                    failed.extend((0..sent).filter(|&k| !whole[k]).map(|k| next + k));
                    next += sent;
                    continue;
                }
                // The datagram at `next` failed.
                Err(libc::EINTR) => continue,
                // Nobody listening: an unconnected socket (runit's) would not know.
                Err(libc::ECONNREFUSED) => {}
                // A full send buffer (after the wait) or an oversized datagram says nothing
                // about the socket.
                Err(libc::EAGAIN | libc::EMSGSIZE) => failed.push(next),
                // Anything else might: start afresh next time.
                Err(_) => {
                    failed.push(next);
                    self.sock = None;
                }
            }
            next += 1;
        }
        // Insert from the last, so earlier offsets stay valid.
        for &k in failed.iter().rev() {
            let start = if k == 0 { 0 } else { self.entries[k - 1].0 };
            let (end, mark) = self.entries[k];
            batch.insert_text(mark, &[FAILURE, &self.queue[start..end]]);
        }
        self.queue.clear();
        self.entries.clear();
    }
}

/// One `sendmmsg(2)` on the connected socket `fd` of at most `MMSG_MAX` datagrams lying back
/// to back in `buf`: the first from `start` to the first of `ends`, each next one up to the
/// next end. Returns how many went out, with `whole[k]` telling whether datagram `k` went
/// whole; or the errno of the first datagram, which did not go. Used by `u`/`U` and by the
/// syslog forwarder's UDP targets.
pub fn send_datagrams(
    fd: RawFd,
    buf: &[u8],
    start: usize,
    ends: impl IntoIterator<Item = usize>,
    whole: &mut Vec<bool>,
) -> Result<usize, i32> {
    whole.clear();
    let mut iov: Vec<libc::iovec> = Vec::new();
    let mut from = start;
    for end in ends.into_iter().take(MMSG_MAX) {
        let d = &buf[from..end];
        iov.push(libc::iovec {
            iov_base: d.as_ptr() as *mut libc::c_void,
            iov_len: d.len(),
        });
        from = end;
    }
    if iov.is_empty() {
        return Ok(0);
    }
    // Raw libc: nix's sendmmsg copies into its own header buffer per call; this sends the
    // bytes where they lie.
    let mut msgs: Vec<libc::mmsghdr> = Vec::with_capacity(iov.len());
    // SAFETY: a zeroed mmsghdr is a valid empty message header; each points at one iovec and
    // bytes that outlive the call, and sendmmsg writes only their `msg_len`.
    let r = unsafe {
        for v in iov.iter_mut() {
            let mut m: libc::mmsghdr = std::mem::zeroed();
            m.msg_hdr.msg_iov = v;
            m.msg_hdr.msg_iovlen = 1;
            msgs.push(m);
        }
        libc::sendmmsg(fd, msgs.as_mut_ptr(), msgs.len() as u32, 0)
    };
    if r < 0 {
        return Err(nix::errno::Errno::last_raw());
    }
    let sent = r as usize;
    whole.extend((0..sent).map(|k| msgs[k].msg_len as usize == iov[k].iov_len));
    Ok(sent)
}

fn open(to: SocketAddr) -> io::Result<UdpSocket> {
    let any: SocketAddr = if to.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal")
    } else {
        "[::]:0".parse().expect("literal")
    };
    let s = UdpSocket::bind(any)?;
    s.set_write_timeout(Some(SEND_WAIT))?;
    s.connect(to)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::IoSlice;

    fn text(b: &Batch) -> Vec<u8> {
        let mut iov = [IoSlice::new(&[]); 16];
        let n = b.slices(b"", usize::MAX, &mut iov);
        iov[..n].iter().flat_map(|s| s.iter().copied()).collect()
    }

    #[test]
    fn sends_whole_datagrams_on_one_socket() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let to = rx.local_addr().unwrap();
        let mut out = UdpOut::default();
        let mut batch = Batch::default();
        assert!(out.queue(to, &[b"one", b"\n"], 0));
        assert!(out.queue(to, &[b"two\n"], 0));
        out.flush(&mut batch);
        let mut buf = [0u8; 64];
        let (n, a) = rx.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"one\n");
        let (n, b) = rx.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"two\n");
        assert_eq!(a, b, "one socket");
        assert!(batch.is_done(), "no warning");
    }

    #[test]
    fn a_failed_datagram_is_reported_before_its_line() {
        let mut out = UdpOut::default();
        let mut batch = Batch::default();
        batch.push_text(&[b"before\n"]);
        let big = vec![b'x'; 70_000];
        let to = "127.0.0.1:9".parse().unwrap();
        assert!(out.queue(to, &[&big, b"\n"], 7));
        batch.push_text(&[b"the line\n"]);
        out.flush(&mut batch);
        let got = text(&batch);
        assert!(got.starts_with(b"before\nwarning: failure sending through udp: xxx"));
        assert!(got.ends_with(b"x\nthe line\n"));
    }
}

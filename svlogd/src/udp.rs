//! UDP forwarding for `u`/`U` (spec/svlogd.md §5).
//!
//! The datagram is runit's: `[stamp][prefix]` + the first `len` bytes of the line + `...` when
//! the line reached `len` + `\n`, one per line, no syslog header. runit opened, used and closed
//! a socket for every line (about six system calls each); here one non-blocking socket per
//! directory is kept open and re-created after an error (spec §12 item 13). IPv6 targets work
//! too (`u[::1]:514`).

use std::io;
use std::net::{SocketAddr, UdpSocket};

/// Why a datagram did not go out; svlogd writes a warning into the log for either.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendFailure {
    /// No socket could be created (`warning: no udp socket available: `).
    NoSocket,
    /// `sendto` failed or sent less than the whole datagram
    /// (`warning: failure sending through udp: `).
    Failed,
}

/// A directory's UDP sender.
#[derive(Debug, Default)]
pub struct UdpOut {
    sock: Option<UdpSocket>,
}

impl UdpOut {
    /// Sends one datagram to `to`, creating the socket first if there is none (or it is of
    /// the other address family).
    pub fn send(&mut self, to: SocketAddr, datagram: &[u8]) -> Result<(), SendFailure> {
        let stale = match &self.sock {
            Some(s) => s
                .local_addr()
                .map(|a| a.is_ipv4() != to.is_ipv4())
                .unwrap_or(true),
            None => true,
        };
        if stale {
            self.sock = open(to).ok();
        }
        let Some(sock) = &self.sock else {
            return Err(SendFailure::NoSocket);
        };
        match sock.send_to(datagram, to) {
            Ok(n) if n == datagram.len() => Ok(()),
            Ok(_) => Err(SendFailure::Failed),
            Err(e) => {
                // A full send buffer or an oversized datagram says nothing about the socket;
                // anything else might, so start afresh next time.
                if !matches!(
                    e.raw_os_error(),
                    Some(nix::libc::EAGAIN) | Some(nix::libc::EMSGSIZE)
                ) {
                    self.sock = None;
                }
                Err(SendFailure::Failed)
            }
        }
    }
}

fn open(to: SocketAddr) -> io::Result<UdpSocket> {
    let any: SocketAddr = if to.is_ipv4() {
        "0.0.0.0:0".parse().expect("literal")
    } else {
        "[::]:0".parse().expect("literal")
    };
    let s = UdpSocket::bind(any)?;
    s.set_nonblocking(true)?;
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn sends_whole_datagrams_on_one_socket() {
        let rx = UdpSocket::bind("127.0.0.1:0").unwrap();
        rx.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        let to = rx.local_addr().unwrap();
        let mut out = UdpOut::default();
        out.send(to, b"one\n").unwrap();
        let first = out.sock.as_ref().unwrap().local_addr().unwrap();
        out.send(to, b"two\n").unwrap();
        assert_eq!(out.sock.as_ref().unwrap().local_addr().unwrap(), first);
        let mut buf = [0u8; 64];
        let (n, from) = rx.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"one\n");
        assert_eq!(from.port(), first.port());
        let (n, _) = rx.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"two\n");
    }

    #[test]
    fn oversized_datagrams_fail() {
        let mut out = UdpOut::default();
        let big = vec![b'x'; 70_000];
        assert_eq!(
            out.send("127.0.0.1:9".parse().unwrap(), &big),
            Err(SendFailure::Failed)
        );
    }
}

//! The connection to a collector: one UDP socket (RFC 5426), or a TCP stream (RFC 6587), with
//! TLS on top for RFC 5425. Everything is non-blocking; the sender waits in `poll` on the
//! socket and its wake-up descriptor, so a stop request or new data is never stuck behind the
//! network.
//!
//! Framed bytes go into an output buffer (for TLS: the encrypted records), and are written
//! from there as the socket takes them. Stream offsets count the bytes put into that buffer
//! since the connection opened, so the sender can tell which messages the collector's host
//! acknowledged: [`Link::acked`] is what was written minus what the kernel still holds unsent
//! or unacknowledged (`SIOCOUTQ`). A UDP datagram counts as acknowledged once sent.
//!
//! What the collector sends back is read and thrown away (syslog has no replies), except under
//! TLS, where it is fed to rustls (alerts, key updates, tickets); anything rustls refuses ends
//! the connection. Nothing a collector sends can make the sender keep more than one read
//! buffer of it.

use super::config::{Target, Transport};
use super::tls;
use nix::libc;
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::socket::{
    connect, getsockopt, setsockopt, socket, sockopt, AddressFamily, SockFlag, SockType,
    SockaddrStorage,
};
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd};
use std::time::{Duration, Instant};

/// How long a connection (and a TLS handshake) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// A collector that acknowledges nothing of what was sent for this long is taken as gone (it
/// may be slow, but two minutes without taking a byte is a collector that is stuck).
pub const DEAD_PEER: Duration = Duration::from_secs(120);
/// An idle connection is probed after this long, and given up after three unanswered probes
/// a third of it apart.
pub const KEEPALIVE: Duration = Duration::from_secs(30);

/// Why a link failed.
#[derive(Debug)]
pub enum LinkError {
    /// A system error.
    Io(io::Error),
    /// The collector closed the connection (FIN): whatever it acknowledged, it read.
    Closed,
    /// TLS refused something (certificate, alert, protocol).
    Tls(String),
    /// A stop request came while connecting.
    Stopped,
}

impl LinkError {
    /// The reason in runit's words (`connection refused`) or TLS's.
    pub fn text(&self) -> String {
        match self {
            LinkError::Io(e) => match e.raw_os_error() {
                Some(errno) => formats::strerr::errstr(errno).to_string(),
                None => e.to_string(),
            },
            LinkError::Closed => "connection closed by the collector".to_string(),
            LinkError::Tls(t) => t.clone(),
            LinkError::Stopped => "stopped".to_string(),
        }
    }
}

impl From<io::Error> for LinkError {
    fn from(e: io::Error) -> LinkError {
        LinkError::Io(e)
    }
}

enum Sock {
    Udp(UdpSocket),
    Tcp(TcpStream),
}

/// An open connection to a collector.
pub struct Link {
    sock: Sock,
    tls: Option<Box<tls::Session>>,
    /// Bytes to write (datagrams back to back for UDP; TLS records for TLS).
    out: Vec<u8>,
    /// How much of `out` is written.
    out_pos: usize,
    /// UDP: where each datagram in `out` ends.
    ends: Vec<usize>,
    /// UDP: datagrams of `ends` already sent.
    sent_msgs: usize,
    /// Stream offset of `out[0]`.
    base: u64,
    /// Plaintext waiting for rustls to take it (it takes a bounded amount at a time).
    read_buf: Vec<u8>,
    /// Whether the collector sent anything on this connection.
    heard: bool,
}

/// Waits for `fd` to become ready for `events` (`POLL*` bits), or for `wake` to become
/// readable, at most until `deadline`. Returns the socket's revents (0 on timeout or wake-up).
pub fn wait(
    fd: Option<BorrowedFd<'_>>,
    events: i16,
    wake: BorrowedFd<'_>,
    deadline: Option<Instant>,
) -> i16 {
    let mut fds = vec![PollFd::new(wake, PollFlags::POLLIN)];
    if let Some(fd) = fd {
        fds.push(PollFd::new(fd, PollFlags::from_bits_truncate(events)));
    }
    let timeout = sys::poll::timeout_ms(deadline, Instant::now());
    let timeout = PollTimeout::try_from(timeout).unwrap_or(PollTimeout::NONE);
    match nix::poll::poll(&mut fds, timeout) {
        Ok(n) if n > 0 && fds.len() == 2 => fds[1].revents().map_or(0, |r| r.bits()),
        _ => 0,
    }
}

/// The addresses `target` names (a literal, or a name looked up now).
fn addresses(target: &Target) -> io::Result<Vec<SocketAddr>> {
    let v: Vec<SocketAddr> = (target.host.as_str(), target.port)
        .to_socket_addrs()?
        .collect();
    if v.is_empty() {
        return Err(io::Error::from_raw_os_error(libc::EADDRNOTAVAIL));
    }
    Ok(v)
}

/// A non-blocking TCP connection to `addr`, waiting at most until `deadline`.
fn connect_tcp(
    addr: SocketAddr,
    wake: BorrowedFd,
    stop: &dyn Fn() -> bool,
    deadline: Instant,
) -> Result<TcpStream, LinkError> {
    let family = if addr.is_ipv4() {
        AddressFamily::Inet
    } else {
        AddressFamily::Inet6
    };
    let owned = socket(
        family,
        SockType::Stream,
        SockFlag::SOCK_NONBLOCK | SockFlag::SOCK_CLOEXEC,
        None,
    )
    .map_err(|e| io::Error::from_raw_os_error(e as i32))?;
    let sa = SockaddrStorage::from(addr);
    if let Err(e) = connect(owned.as_raw_fd(), &sa) {
        if e != nix::errno::Errno::EINPROGRESS {
            return Err(io::Error::from_raw_os_error(e as i32).into());
        }
        loop {
            if stop() {
                return Err(LinkError::Stopped);
            }
            if Instant::now() >= deadline {
                return Err(io::Error::from_raw_os_error(libc::ETIMEDOUT).into());
            }
            let rev = wait(Some(owned.as_fd()), libc::POLLOUT, wake, Some(deadline));
            if rev != 0 {
                break;
            }
        }
        let err = getsockopt(&owned, sockopt::SocketError)
            .map_err(|e| io::Error::from_raw_os_error(e as i32))?;
        if err != 0 {
            return Err(io::Error::from_raw_os_error(err).into());
        }
    }
    // A collector that vanished without a word (a host or a link down) is noticed by
    // keepalive when idle, and after [`DEAD_PEER`] of unacknowledged data when not, instead of
    // after TCP's quarter of an hour of retransmissions.
    let secs = KEEPALIVE.as_secs().min(u32::MAX as u64) as u32;
    let _ = setsockopt(&owned, sockopt::KeepAlive, &true);
    let _ = setsockopt(&owned, sockopt::TcpKeepIdle, &secs);
    let _ = setsockopt(&owned, sockopt::TcpKeepInterval, &(secs / 3));
    let _ = setsockopt(&owned, sockopt::TcpKeepCount, &3);
    let _ = setsockopt(
        &owned,
        sockopt::TcpUserTimeout,
        &(DEAD_PEER.as_millis().min(u32::MAX as u128) as u32),
    );
    Ok(TcpStream::from(owned))
}

impl Link {
    /// Connects to `target` (every address it names, in turn) and, for TLS, completes the
    /// handshake, its files read from the log directory `dir`. `stop` is checked while
    /// waiting.
    pub fn connect(
        target: &Target,
        dir: BorrowedFd,
        wake: BorrowedFd,
        stop: &dyn Fn() -> bool,
    ) -> Result<Link, LinkError> {
        Link::connect_by(target, dir, wake, stop, Instant::now() + CONNECT_TIMEOUT)
    }

    /// [`Link::connect`], giving up at `deadline` (a stopping thread's last try has only
    /// its grace period: `stop` alone cannot cut a wait short once the wake-up was taken).
    pub fn connect_by(
        target: &Target,
        dir: BorrowedFd,
        wake: BorrowedFd,
        stop: &dyn Fn() -> bool,
        deadline: Instant,
    ) -> Result<Link, LinkError> {
        let addrs = addresses(target)?;
        let mut last = LinkError::Io(io::Error::from_raw_os_error(libc::EADDRNOTAVAIL));
        for addr in addrs {
            let sock = match target.transport {
                Transport::Udp => {
                    let any: SocketAddr = if addr.is_ipv4() {
                        (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
                    } else {
                        (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
                    };
                    let s = UdpSocket::bind(any).and_then(|s| {
                        s.connect(addr)?;
                        s.set_nonblocking(true)?;
                        Ok(s)
                    });
                    match s {
                        Ok(s) => Sock::Udp(s),
                        Err(e) => {
                            last = e.into();
                            continue;
                        }
                    }
                }
                Transport::Tcp | Transport::Tls => match connect_tcp(addr, wake, stop, deadline) {
                    Ok(s) => Sock::Tcp(s),
                    Err(LinkError::Stopped) => return Err(LinkError::Stopped),
                    Err(e) => {
                        last = e;
                        continue;
                    }
                },
            };
            let mut link = Link {
                sock,
                tls: None,
                out: Vec::new(),
                out_pos: 0,
                ends: Vec::new(),
                sent_msgs: 0,
                base: 0,
                read_buf: vec![0; 16 * 1024],
                heard: false,
            };
            if target.transport == Transport::Tls {
                let session = tls::Session::new(target, dir).map_err(LinkError::Tls)?;
                link.tls = Some(Box::new(session));
                match link.handshake(wake, stop, deadline) {
                    Ok(()) => {}
                    Err(LinkError::Stopped) => return Err(LinkError::Stopped),
                    Err(e) => {
                        last = e;
                        continue;
                    }
                }
            }
            return Ok(link);
        }
        Err(last)
    }

    /// Completes the TLS handshake. A collector that never answers it, or hangs up on it
    /// without a word, is named as what it most likely is: a plain TCP port.
    fn handshake(
        &mut self,
        wake: BorrowedFd,
        stop: &dyn Fn() -> bool,
        deadline: Instant,
    ) -> Result<(), LinkError> {
        let plain = |e: LinkError, heard: bool| match e {
            LinkError::Io(_) | LinkError::Closed if !heard => {
                let secs = CONNECT_TIMEOUT.as_secs();
                let why = match e {
                    LinkError::Closed => "the collector hung up on the TLS handshake".to_string(),
                    LinkError::Io(ref io) if io.raw_os_error() == Some(libc::ETIMEDOUT) => {
                        format!("no TLS answer from the collector in {secs} s")
                    }
                    _ => format!("{} during the TLS handshake", e.text()),
                };
                LinkError::Tls(format!("{why}: is the port plain TCP (that is >tcp)?"))
            }
            e => e,
        };
        self.handshake_steps(wake, stop, deadline)
            .map_err(|e| plain(e, self.heard))
    }

    fn handshake_steps(
        &mut self,
        wake: BorrowedFd,
        stop: &dyn Fn() -> bool,
        deadline: Instant,
    ) -> Result<(), LinkError> {
        loop {
            self.take_tls_output()?;
            self.flush()?;
            let hs = self.tls.as_ref().is_some_and(|c| c.is_handshaking());
            if !hs {
                return Ok(());
            }
            if stop() {
                return Err(LinkError::Stopped);
            }
            if Instant::now() >= deadline {
                return Err(io::Error::from_raw_os_error(libc::ETIMEDOUT).into());
            }
            let events = libc::POLLIN | if self.pending() > 0 { libc::POLLOUT } else { 0 };
            let rev = wait(Some(self.fd()), events, wake, Some(deadline));
            if rev & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0 {
                self.pump_input()?;
            }
        }
    }

    /// The socket, for `poll`.
    pub fn fd(&self) -> BorrowedFd<'_> {
        match &self.sock {
            Sock::Udp(s) => s.as_fd(),
            Sock::Tcp(s) => s.as_fd(),
        }
    }

    /// Whether messages go as datagrams.
    pub fn is_datagram(&self) -> bool {
        matches!(self.sock, Sock::Udp(_))
    }

    /// Bytes queued but not yet written to the socket.
    pub fn pending(&self) -> usize {
        self.out.len() - self.out_pos
    }

    /// The stream offset after everything queued so far.
    pub fn queued(&self) -> u64 {
        self.base + self.out.len() as u64
    }

    /// The stream offset up to which the collector's host has acknowledged the bytes.
    pub fn acked(&self) -> u64 {
        let written = self.base + self.out_pos as u64;
        match &self.sock {
            Sock::Udp(_) => written,
            Sock::Tcp(s) => {
                let mut outq: libc::c_int = 0;
                // SAFETY: SIOCOUTQ writes one int.
                let r = unsafe { libc::ioctl(s.as_raw_fd(), libc::TIOCOUTQ, &mut outq) };
                if r < 0 {
                    return self.base;
                }
                written.saturating_sub(outq.max(0) as u64)
            }
        }
    }

    /// Queues framed messages: a stream's bytes, or (UDP) one datagram.
    pub fn queue(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        match self.tls.as_mut() {
            Some(session) => session.send(bytes, &mut self.out),
            None => {
                self.out.extend_from_slice(bytes);
                if self.is_datagram() {
                    self.ends.push(self.out.len());
                }
                Ok(())
            }
        }
    }

    /// Moves what rustls has to send into the output buffer.
    fn take_tls_output(&mut self) -> Result<(), LinkError> {
        match self.tls.as_mut() {
            Some(session) => session.take_output(&mut self.out),
            None => Ok(()),
        }
    }

    /// Writes queued bytes until the socket takes no more. `Ok(true)` when all are written.
    pub fn flush(&mut self) -> Result<bool, LinkError> {
        if self.is_datagram() {
            return self.flush_datagrams();
        }
        let Sock::Tcp(s) = &mut self.sock else {
            unreachable!("datagrams handled above")
        };
        while self.out_pos < self.out.len() {
            match s.write(&self.out[self.out_pos..]) {
                Ok(0) => return Err(io::Error::from_raw_os_error(libc::EPIPE).into()),
                Ok(n) => self.out_pos += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e.into()),
            }
        }
        self.compact();
        Ok(self.out_pos == self.out.len())
    }

    /// Drops the written part of the output buffer once it is large.
    fn compact(&mut self) {
        if self.out_pos == self.out.len() {
            self.base += self.out.len() as u64;
            self.out.clear();
            self.out_pos = 0;
            self.ends.clear();
            self.sent_msgs = 0;
        } else if self.out_pos > 1 << 20 && !self.is_datagram() {
            self.base += self.out_pos as u64;
            self.out.drain(..self.out_pos);
            self.out_pos = 0;
        }
    }

    fn flush_datagrams(&mut self) -> Result<bool, LinkError> {
        let Sock::Udp(s) = &self.sock else {
            unreachable!("only for UDP")
        };
        let fd = s.as_raw_fd();
        let mut whole = Vec::new();
        while self.sent_msgs < self.ends.len() {
            let start = match self.sent_msgs {
                0 => 0,
                k => self.ends[k - 1],
            };
            let ends = self.ends[self.sent_msgs..].iter().copied();
            match crate::udp::send_datagrams(fd, &self.out, start, ends, &mut whole) {
                Ok(0) => break,
                Ok(n) => {
                    self.sent_msgs += n;
                    self.out_pos = self.ends[self.sent_msgs - 1];
                }
                Err(libc::EINTR) => {}
                Err(libc::EAGAIN) => break,
                // Too large for the path: it cannot ever go; skip it.
                Err(libc::EMSGSIZE) => {
                    self.sent_msgs += 1;
                    self.out_pos = self.ends[self.sent_msgs - 1];
                }
                Err(e) => return Err(io::Error::from_raw_os_error(e).into()),
            }
        }
        let done = self.sent_msgs == self.ends.len();
        self.compact();
        Ok(done)
    }

    /// Reads what the collector sent: thrown away, or (TLS) handed to rustls. Notices a
    /// closed or failed connection.
    pub fn pump_input(&mut self) -> Result<(), LinkError> {
        match &mut self.sock {
            Sock::Udp(s) => {
                // Only errors (ECONNREFUSED from an ICMP reply) are of interest.
                loop {
                    match s.recv(&mut self.read_buf) {
                        Ok(_) => {}
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Sock::Tcp(_) => loop {
                match self.read_once() {
                    Ok(0) => {
                        if let Some(session) = self.tls.as_mut() {
                            session.end_of_input();
                        }
                        return Err(LinkError::Closed);
                    }
                    Ok(_) => {
                        if self.tls.is_some() {
                            self.process_tls()?;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e.into()),
                }
            },
        }
    }

    /// One read from the stream socket: into the scratch buffer, or into rustls.
    fn read_once(&mut self) -> io::Result<usize> {
        let Sock::Tcp(s) = &mut self.sock else {
            return Ok(0);
        };
        let n = match self.tls.as_mut() {
            None => s.read(&mut self.read_buf),
            Some(session) => session.read_from(s),
        }?;
        self.heard |= n > 0;
        Ok(n)
    }

    /// Lets rustls handle what was read; plaintext from the collector is thrown away.
    fn process_tls(&mut self) -> Result<(), LinkError> {
        match self.tls.as_mut() {
            Some(session) => session.absorb(&mut self.read_buf, &mut self.out),
            None => Ok(()),
        }
    }

    /// Ends the connection politely (TLS close_notify, then FIN).
    pub fn close(mut self) {
        if let Some(session) = self.tls.as_mut() {
            session.close();
        }
        let _ = self.take_tls_output();
        let _ = self.flush();
        if let Sock::Tcp(s) = &self.sock {
            let _ = s.shutdown(std::net::Shutdown::Write);
        }
    }
}

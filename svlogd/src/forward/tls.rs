//! TLS for RFC 5425: one client session per connection, behind the cargo feature `tls` (on by
//! default). [`Session`] is all the transport sees of it.
//!
//! With the feature, sessions are rustls with its `ring` provider: the collector's certificate
//! must chain to the `ca=` file and name the host (or `name=`); a client certificate (`cert=`,
//! `key=`) is offered when configured. Files are PEM, named relative to the log directory
//! (where `config` is) unless absolute, and are read at every connection, so a renewed
//! certificate is picked up without a HUP; [`check`] reads them the same way for `svlogd -C`.
//! Failures say what is wrong in the operator's terms: the `ca=` file that does not vouch for
//! the collector, the name the certificate lacks, a client certificate the collector refused,
//! a collector that does not speak TLS. Without the feature (a small build, about 700 KB
//! less), a `>tls` line is refused when the config is read ([`AVAILABLE`]), so no session is
//! ever made: the type has no values.

use std::os::fd::BorrowedFd;

/// Whether this svlogd can forward over TLS (the cargo feature `tls`).
pub const AVAILABLE: bool = cfg!(feature = "tls");

/// What `svlogd -C` says of a `>tls` line's files: the option and what its file holds.
pub type Found = Vec<(&'static str, String)>;

/// The largest PEM file read.
const FILE_MAX: u64 = 1 << 20;

#[cfg(feature = "tls")]
pub use with_rustls::{check, untrusting_session, Session};
#[cfg(not(feature = "tls"))]
pub use without::{check, Session};

/// Reads the file `opt=path` of a target line: `path` relative to the log directory `dir`
/// unless absolute. `Err` is the warning's text, naming the option and the file.
pub fn read_file(dir: BorrowedFd, opt: &str, path: &str) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let fail = |errno: i32| {
        format!(
            "unable to read {opt}={path}: {}",
            formats::strerr::errstr(errno)
        )
    };
    let fd = sys::dirfd::openat_follow(
        &dir,
        path.as_bytes(),
        nix::libc::O_RDONLY | nix::libc::O_NONBLOCK,
    )
    .map_err(fail)?;
    let mut data = Vec::new();
    std::fs::File::from(fd)
        .take(FILE_MAX)
        .read_to_end(&mut data)
        .map_err(|e| fail(formats::strerr::errno_of(&e)))?;
    Ok(data)
}

#[cfg(feature = "tls")]
mod with_rustls {
    use super::super::config::Target;
    use super::super::transport::LinkError;
    use super::read_file;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use rustls::{AlertDescription, CertificateError, ClientConfig, ClientConnection};
    use rustls::{Error, RootCertStore};
    use std::io::{Read, Write};
    use std::os::fd::BorrowedFd;
    use std::sync::Arc;

    /// What failure messages name: the files and the name verified.
    #[derive(Debug, Clone)]
    struct Names {
        ca: String,
        cert: Option<String>,
        server: String,
    }

    /// A TLS client session on one connection.
    pub struct Session {
        conn: ClientConnection,
        names: Names,
    }

    /// The certificates of the PEM file `opt=path`; `Err` if there is none or one is unreadable.
    fn certificates(
        dir: BorrowedFd,
        opt: &str,
        path: &str,
    ) -> Result<Vec<CertificateDer<'static>>, String> {
        let pem = read_file(dir, opt, path)?;
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<_, _>>()
            .map_err(|e| format!("unable to read {opt}={path}: {e}"))?;
        if certs.is_empty() {
            return Err(format!("no certificate (PEM) in {opt}={path}"));
        }
        Ok(certs)
    }

    /// The client configuration for `target`, its files read from the log directory `dir`,
    /// and what each file held (for `svlogd -C`). `Err` names the option and the file.
    fn client_config(
        target: &Target,
        dir: BorrowedFd,
    ) -> Result<(Arc<ClientConfig>, super::Found), String> {
        let ca = target.ca.as_deref().ok_or("no ca= file")?;
        let mut found = Vec::new();
        let mut roots = RootCertStore::empty();
        let certs = certificates(dir, "ca", ca)?;
        let n = certs.len();
        for c in certs {
            roots
                .add(c)
                .map_err(|e| format!("unusable certificate in ca={ca}: {e}"))?;
        }
        found.push(("ca", format!("{ca}: {n} CA certificate{}", plural(n))));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots);
        let config = match (&target.cert, &target.key) {
            (Some(cert), Some(key)) => {
                let chain = certificates(dir, "cert", cert)?;
                let n = chain.len();
                let pem = read_file(dir, "key", key)?;
                let der = PrivateKeyDer::from_pem_slice(&pem)
                    .map_err(|e| format!("no private key (PEM) in key={key}: {e}"))?;
                let kind = match &der {
                    PrivateKeyDer::Pkcs1(_) => "an RSA private key",
                    PrivateKeyDer::Sec1(_) => "an EC private key",
                    _ => "a PKCS#8 private key",
                };
                let config = builder.with_client_auth_cert(chain, der).map_err(|e| {
                    format!("unusable client certificate cert={cert} key={key}: {e}")
                })?;
                found.push(("cert", format!("{cert}: {n} certificate{}", plural(n))));
                found.push(("key", format!("{key}: {kind}, matching cert=")));
                config
            }
            _ => builder.with_no_client_auth(),
        };
        Ok((Arc::new(config), found))
    }

    fn plural(n: usize) -> &'static str {
        if n == 1 {
            ""
        } else {
            "s"
        }
    }

    /// Reads and checks every file of a `>tls` line (from the log directory `dir`) as a
    /// connection would: what each holds, or what is wrong.
    pub fn check(target: &Target, dir: BorrowedFd) -> Result<super::Found, String> {
        let (_, found) = client_config(target, dir)?;
        server_name(target)?;
        Ok(found)
    }

    fn server_name(target: &Target) -> Result<ServerName<'static>, String> {
        let name = target.server_name.as_deref().unwrap_or(&target.host);
        ServerName::try_from(name.to_string())
            .map_err(|_| format!("not a valid server name: {name}"))
    }

    impl Session {
        /// A session for `target`, not yet handshaken, its files read from the log directory
        /// `dir`. `Err` says what is wrong, in words for svlogd's warning.
        pub fn new(target: &Target, dir: BorrowedFd) -> Result<Session, String> {
            let (config, _) = client_config(target, dir)?;
            let server = server_name(target)?;
            let conn = ClientConnection::new(config, server).map_err(|e| e.to_string())?;
            let names = Names {
                ca: target.ca.clone().unwrap_or_default(),
                cert: target.cert.clone(),
                server: target
                    .server_name
                    .clone()
                    .unwrap_or_else(|| target.host.clone()),
            };
            Ok(Session::from(conn, names))
        }

        fn from(mut conn: ClientConnection, names: Names) -> Session {
            // The transport moves records out at once; no limit needed on rustls's side.
            conn.set_buffer_limit(None);
            Session { conn, names }
        }

        /// What a TLS failure means for the operator (rustls's words in parentheses).
        fn explain(&self, e: &Error) -> String {
            let n = &self.names;
            let why = match e {
                Error::InvalidCertificate(c) => match c {
                    CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                        format!("the collector's certificate is not signed by a CA in ca={}", n.ca)
                    }
                    CertificateError::NotValidForName
                    | CertificateError::NotValidForNameContext { .. } => format!(
                        "the collector's certificate is not for {} (name= sets the name it must have)",
                        n.server
                    ),
                    CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                        "the collector's certificate has expired".to_string()
                    }
                    CertificateError::NotValidYet
                    | CertificateError::NotValidYetContext { .. } => {
                        "the collector's certificate is not valid yet (is the clock right?)"
                            .to_string()
                    }
                    _ => "the collector's certificate is refused".to_string(),
                },
                Error::InvalidMessage(_) if self.conn.is_handshaking() => {
                    "the collector does not answer in TLS: is the port plain TCP (that is >tcp)?"
                        .to_string()
                }
                Error::AlertReceived(a) => match a {
                    AlertDescription::BadCertificate
                    | AlertDescription::UnsupportedCertificate
                    | AlertDescription::CertificateRevoked
                    | AlertDescription::CertificateExpired
                    | AlertDescription::CertificateUnknown
                    | AlertDescription::UnknownCA
                    | AlertDescription::AccessDenied
                    | AlertDescription::CertificateRequired => match &n.cert {
                        Some(cert) => {
                            format!("the collector refused the client certificate cert={cert}")
                        }
                        None => {
                            "the collector wants a client certificate (cert= and key=)".to_string()
                        }
                    },
                    AlertDescription::HandshakeFailure | AlertDescription::ProtocolVersion => {
                        "no TLS version or cipher in common with the collector".to_string()
                    }
                    _ => return e.to_string(),
                },
                _ => return e.to_string(),
            };
            format!("{why} ({e})")
        }

        /// The handshake is not finished.
        pub fn is_handshaking(&self) -> bool {
            self.conn.is_handshaking()
        }

        /// Encrypts `plain` and appends the records to `out`.
        pub fn send(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), LinkError> {
            self.conn.writer().write_all(plain)?;
            self.take_output(out)
        }

        /// Appends what the session has to send (handshake, alerts, records) to `out`.
        pub fn take_output(&mut self, out: &mut Vec<u8>) -> Result<(), LinkError> {
            while self.conn.wants_write() {
                self.conn.write_tls(out)?;
            }
            Ok(())
        }

        /// One read of the collector's bytes from `from` into the session.
        pub fn read_from(&mut self, from: &mut dyn Read) -> std::io::Result<usize> {
            self.conn.read_tls(from)
        }

        /// Handles what was read: rustls checks it, plaintext is read into `scratch` and
        /// thrown away, and what rustls has to send back (handshake, alerts, key updates) is
        /// appended to `out`. `Err` ends the connection: a TLS error, or the collector
        /// closed it.
        pub fn absorb(&mut self, scratch: &mut [u8], out: &mut Vec<u8>) -> Result<(), LinkError> {
            let state = self
                .conn
                .process_new_packets()
                .map_err(|e| LinkError::Tls(self.explain(&e)))?;
            let mut plain = state.plaintext_bytes_to_read();
            while plain > 0 {
                let n = self.conn.reader().read(scratch).map_err(LinkError::Io)?;
                if n == 0 {
                    break;
                }
                plain = plain.saturating_sub(n);
            }
            let closed = state.peer_has_closed();
            self.take_output(out)?;
            if closed {
                return Err(LinkError::Closed);
            }
            Ok(())
        }

        /// The collector closed the connection: lets rustls see the end of its stream.
        pub fn end_of_input(&mut self) {
            let _ = self.conn.process_new_packets();
        }

        /// Queues a close_notify alert (taken out with [`Session::take_output`]).
        pub fn close(&mut self) {
            self.conn.send_close_notify();
        }
    }

    /// A session that trusts nothing, for feeding a collector's bytes to in the fuzz target
    /// (the handshake never completes, but everything rustls reads is checked).
    pub fn untrusting_session() -> Session {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default versions")
            .with_root_certificates(RootCertStore::empty())
            .with_no_client_auth();
        let name = ServerName::try_from("localhost").expect("a valid name");
        let names = Names {
            ca: String::new(),
            cert: None,
            server: "localhost".to_string(),
        };
        Session::from(
            ClientConnection::new(Arc::new(config), name).expect("a client connection"),
            names,
        )
    }
}

#[cfg(not(feature = "tls"))]
mod without {
    use super::super::config::Target;
    use super::super::transport::LinkError;
    use std::io::Read;
    use std::os::fd::BorrowedFd;

    /// No TLS in this build: no session can exist.
    pub enum Session {}

    /// See the TLS build: here every `>tls` line is refused before this could be reached.
    pub fn check(_target: &Target, _dir: BorrowedFd) -> Result<super::Found, String> {
        Err(super::super::config::NO_TLS.to_string())
    }

    impl Session {
        /// Never makes one (the config refuses `>tls` lines before this could be reached).
        pub fn new(_target: &Target, _dir: BorrowedFd) -> Result<Session, String> {
            Err(super::super::config::NO_TLS.to_string())
        }

        /// See the TLS build.
        pub fn is_handshaking(&self) -> bool {
            match *self {}
        }

        /// See the TLS build.
        pub fn send(&mut self, _plain: &[u8], _out: &mut Vec<u8>) -> Result<(), LinkError> {
            match *self {}
        }

        /// See the TLS build.
        pub fn take_output(&mut self, _out: &mut Vec<u8>) -> Result<(), LinkError> {
            match *self {}
        }

        /// See the TLS build.
        pub fn read_from(&mut self, _from: &mut dyn Read) -> std::io::Result<usize> {
            match *self {}
        }

        /// See the TLS build.
        pub fn absorb(&mut self, _scratch: &mut [u8], _out: &mut Vec<u8>) -> Result<(), LinkError> {
            match *self {}
        }

        /// See the TLS build.
        pub fn end_of_input(&mut self) {
            match *self {}
        }

        /// See the TLS build.
        pub fn close(&mut self) {
            match *self {}
        }
    }
}

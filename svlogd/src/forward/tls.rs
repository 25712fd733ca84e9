//! TLS for RFC 5425: one client session per connection, behind the cargo feature `tls` (on by
//! default). [`Session`] is all the transport sees of it.
//!
//! With the feature, sessions are rustls with its `ring` provider: the collector's certificate
//! must chain to the `ca=` file and name the host (or `name=`); a client certificate (`cert=`,
//! `key=`) is offered when configured. Files are PEM and are read at every connection, so a
//! renewed certificate is picked up without a HUP. Without the feature (a small build, about
//! 700 KB less), a `>tls` line is refused when the config is read ([`AVAILABLE`]), so no
//! session is ever made: the type has no values.

/// Whether this svlogd can forward over TLS (the cargo feature `tls`).
pub const AVAILABLE: bool = cfg!(feature = "tls");

#[cfg(feature = "tls")]
pub use with_rustls::{untrusting_session, Session};
#[cfg(not(feature = "tls"))]
pub use without::Session;

#[cfg(feature = "tls")]
mod with_rustls {
    use super::super::config::Target;
    use super::super::transport::LinkError;
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
    use rustls::{ClientConfig, ClientConnection, RootCertStore};
    use std::io::{Read, Write};
    use std::sync::Arc;

    /// A TLS client session on one connection.
    pub struct Session(ClientConnection);

    impl Session {
        /// A session for `target`, not yet handshaken. `Err` says what is wrong, in words
        /// for svlogd's warning.
        pub fn new(target: &Target) -> Result<Session, String> {
            let ca = target.ca.as_deref().ok_or("no ca= file")?;
            let mut roots = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(ca)
                .map_err(|e| format!("unable to read {ca}: {e}"))?;
            for c in certs {
                let c = c.map_err(|e| format!("unable to read {ca}: {e}"))?;
                roots
                    .add(c)
                    .map_err(|e| format!("unusable certificate in {ca}: {e}"))?;
            }
            if roots.is_empty() {
                return Err(format!("no certificate in {ca}"));
            }
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let builder = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_root_certificates(roots);
            let config = match (&target.cert, &target.key) {
                (Some(cert), Some(key)) => {
                    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
                        .map_err(|e| format!("unable to read {cert}: {e}"))?
                        .collect::<Result<_, _>>()
                        .map_err(|e| format!("unable to read {cert}: {e}"))?;
                    let key = PrivateKeyDer::from_pem_file(key)
                        .map_err(|e| format!("unable to read {key}: {e}"))?;
                    builder
                        .with_client_auth_cert(chain, key)
                        .map_err(|e| e.to_string())?
                }
                _ => builder.with_no_client_auth(),
            };
            let name = target.server_name.as_deref().unwrap_or(&target.host);
            let server = ServerName::try_from(name.to_string())
                .map_err(|_| format!("not a valid server name: {name}"))?;
            let conn =
                ClientConnection::new(Arc::new(config), server).map_err(|e| e.to_string())?;
            Ok(Session::from(conn))
        }

        fn from(mut conn: ClientConnection) -> Session {
            // The transport moves records out at once; no limit needed on rustls's side.
            conn.set_buffer_limit(None);
            Session(conn)
        }

        /// The handshake is not finished.
        pub fn is_handshaking(&self) -> bool {
            self.0.is_handshaking()
        }

        /// Encrypts `plain` and appends the records to `out`.
        pub fn send(&mut self, plain: &[u8], out: &mut Vec<u8>) -> Result<(), LinkError> {
            self.0.writer().write_all(plain)?;
            self.take_output(out)
        }

        /// Appends what the session has to send (handshake, alerts, records) to `out`.
        pub fn take_output(&mut self, out: &mut Vec<u8>) -> Result<(), LinkError> {
            while self.0.wants_write() {
                self.0.write_tls(out)?;
            }
            Ok(())
        }

        /// One read of the collector's bytes from `from` into the session.
        pub fn read_from(&mut self, from: &mut dyn Read) -> std::io::Result<usize> {
            self.0.read_tls(from)
        }

        /// Handles what was read: rustls checks it, plaintext is read into `scratch` and
        /// thrown away, and what rustls has to send back (handshake, alerts, key updates) is
        /// appended to `out`. `Err` ends the connection: a TLS error, or the collector
        /// closed it.
        pub fn absorb(&mut self, scratch: &mut [u8], out: &mut Vec<u8>) -> Result<(), LinkError> {
            let state = self
                .0
                .process_new_packets()
                .map_err(|e| LinkError::Tls(e.to_string()))?;
            let mut plain = state.plaintext_bytes_to_read();
            while plain > 0 {
                let n = self.0.reader().read(scratch).map_err(LinkError::Io)?;
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
            let _ = self.0.process_new_packets();
        }

        /// Queues a close_notify alert (taken out with [`Session::take_output`]).
        pub fn close(&mut self) {
            self.0.send_close_notify();
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
        Session::from(ClientConnection::new(Arc::new(config), name).expect("a client connection"))
    }
}

#[cfg(not(feature = "tls"))]
mod without {
    use super::super::config::Target;
    use super::super::transport::LinkError;
    use std::io::Read;

    /// No TLS in this build: no session can exist.
    pub enum Session {}

    impl Session {
        /// Never makes one (the config refuses `>tls` lines before this could be reached).
        pub fn new(_target: &Target) -> Result<Session, String> {
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

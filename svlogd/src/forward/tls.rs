//! TLS client settings for RFC 5425, built with rustls and its `ring` provider: the collector's
//! certificate must chain to the `ca=` file and name the host (or `name=`); a client
//! certificate (`cert=`, `key=`) is offered when configured. Files are PEM and are read at
//! every connection, so a renewed certificate is picked up without a HUP.

use super::config::Target;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore};
use std::sync::Arc;

/// A client connection for `target`, not yet handshaken. `Err` says what is wrong, in words
/// for svlogd's warning.
pub fn client(target: &Target) -> Result<ClientConnection, String> {
    let ca = target.ca.as_deref().ok_or("no ca= file")?;
    let mut roots = RootCertStore::empty();
    let certs =
        CertificateDer::pem_file_iter(ca).map_err(|e| format!("unable to read {ca}: {e}"))?;
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
    let mut conn = ClientConnection::new(Arc::new(config), server).map_err(|e| e.to_string())?;
    // The sender moves records out at once; no limit needed on rustls's side.
    conn.set_buffer_limit(None);
    Ok(conn)
}

/// A client connection that trusts nothing, for feeding a collector's bytes to in the fuzz
/// target (the handshake never completes, but everything rustls reads is checked).
pub fn untrusting_client() -> ClientConnection {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the default versions")
        .with_root_certificates(RootCertStore::empty())
        .with_no_client_auth();
    let name = ServerName::try_from("localhost").expect("a valid name");
    ClientConnection::new(Arc::new(config), name).expect("a client connection")
}

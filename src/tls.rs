//! TLS client configuration shared by IMAP (tokio-rustls) and SMTP (lettre's rustls).
//!
//! Trust: the Mozilla root set (webpki-roots) plus, optionally, the admin's `ca_file` (a PEM bundle), for a
//! private CA or a test stack. Certificates are always verified; there is no "accept invalid" switch.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read CA file {path}: {source}")]
    ReadCa { path: String, source: std::io::Error },
    #[error("CA file {path} holds no usable PEM certificate")]
    EmptyCa { path: String },
    #[error("CA file {path}: {message}")]
    BadCa { path: String, message: String },
    #[error("{host:?} is not a valid TLS server name")]
    ServerName { host: String },
}

/// Reads every certificate of a PEM bundle.
pub fn read_ca_file(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let shown = path.display().to_string();
    let pem = std::fs::read(path).map_err(|source| TlsError::ReadCa { path: shown.clone(), source })?;
    let certs = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadCa { path: shown.clone(), message: e.to_string() })?;
    if certs.is_empty() {
        return Err(TlsError::EmptyCa { path: shown });
    }
    Ok(certs)
}

/// A rustls client configuration trusting the public roots and `ca_file`.
pub fn client_config(ca_file: Option<&Path>) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(path) = ca_file {
        for cert in read_ca_file(path)? {
            roots
                .add(cert)
                .map_err(|e| TlsError::BadCa { path: path.display().to_string(), message: e.to_string() })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::BadCa { path: "(built-in)".into(), message: e.to_string() })?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The name the server's certificate must carry: a DNS name, or an IP address.
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']').to_string())
        .map_err(|_| TlsError::ServerName { host: host.to_string() })
}

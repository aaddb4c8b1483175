//! TLS client configuration shared by IMAP, SMTP (both over tokio-rustls) and the OAuth2 token endpoint.
//!
//! Trust, in order:
//! - `tls_fingerprint = "sha256:…"`: the server must present exactly that certificate (its SHA-256 over the
//!   DER), whatever signed it; the host name must still be one the certificate names.
//! - a certificate in `ca_file` that *is* the server's certificate: pinned the same way. A self-signed
//!   certificate made by `openssl req -x509` is marked CA:TRUE, which the web PKI refuses as a server's own
//!   (`CaUsedAsEndEntity`); Thunderbird, mutt and curl accept it when the user pinned it, and so does vdpd.
//! - otherwise the chain must lead to the Mozilla root set (webpki-roots) or to a CA in `ca_file`.
//!
//! Certificates are always verified; there is no "accept invalid" switch. Every refusal says what to change,
//! with the presented certificate's fingerprint, so that an admin can pin it after checking it out of band.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::server::ParsedCertificate;
use rustls::{CertificateError, DigitallySignedStruct, SignatureScheme};

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
    #[error("TLS setup: {0}")]
    Setup(String),
}

pub use vdpd_core::config::Fingerprint;

/// A certificate's fingerprint: SHA-256 over its DER.
pub fn fingerprint_of(der: &[u8]) -> Fingerprint {
    let digest = ring::digest::digest(&ring::digest::SHA256, der);
    let mut out = [0u8; 32];
    out.copy_from_slice(digest.as_ref());
    Fingerprint(out)
}

/// What an IMAP or SMTP section of the policy trusts.
impl<'a> From<&'a crate::config::ImapConfig> for Trust<'a> {
    fn from(c: &'a crate::config::ImapConfig) -> Self {
        Trust { ca_file: c.ca_file.as_deref(), fingerprint: c.tls_fingerprint, section: "imap" }
    }
}

impl<'a> From<&'a crate::config::SmtpConfig> for Trust<'a> {
    fn from(c: &'a crate::config::SmtpConfig) -> Self {
        Trust { ca_file: c.ca_file.as_deref(), fingerprint: c.tls_fingerprint, section: "smtp" }
    }
}

/// What a connection trusts: `ca_file` and `tls_fingerprint` of its section.
#[derive(Debug, Clone, Copy, Default)]
pub struct Trust<'a> {
    pub ca_file: Option<&'a Path>,
    pub fingerprint: Option<Fingerprint>,
    /// The configuration key the advice names (`imap`, `smtp`, `oauth2`).
    pub section: &'a str,
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

/// A rustls client configuration for `trust`.
pub fn client_config(trust: Trust<'_>) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let mut pinned = Vec::new();
    if let Some(path) = trust.ca_file {
        for cert in read_ca_file(path)? {
            // A certificate the web PKI cannot use as an anchor (e.g. one with unusual extensions) can still be
            // the server's own, pinned: keep it for that.
            let _ = roots.add(cert.clone());
            pinned.push(cert);
        }
    }
    let webpki = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| TlsError::Setup(e.to_string()))?;
    let verifier = Verifier {
        webpki,
        pinned,
        fingerprint: trust.fingerprint,
        ca_file: trust.ca_file.map(Path::to_path_buf),
        section: trust.section.to_string(),
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Setup(e.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// The name the server's certificate must carry: a DNS name, or an IP address.
pub fn server_name(host: &str) -> Result<ServerName<'static>, TlsError> {
    ServerName::try_from(host.trim_start_matches('[').trim_end_matches(']').to_string())
        .map_err(|_| TlsError::ServerName { host: host.to_string() })
}

/// Pinning first, then the web PKI; every refusal rewritten as advice.
#[derive(Debug)]
struct Verifier {
    webpki: Arc<WebPkiServerVerifier>,
    /// Every certificate of `ca_file`: one of them may be the server's own.
    pinned: Vec<CertificateDer<'static>>,
    fingerprint: Option<Fingerprint>,
    ca_file: Option<PathBuf>,
    section: String,
}

/// A refusal with its advice, carried through rustls as `CertificateError::Other`.
#[derive(Debug)]
struct Advice(String);

impl fmt::Display for Advice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Advice {}

fn refuse(message: String) -> rustls::Error {
    rustls::Error::InvalidCertificate(CertificateError::Other(rustls::OtherError(Arc::new(Advice(message)))))
}

impl Verifier {
    /// The host name check alone, for a pinned certificate.
    fn check_name(&self, end_entity: &CertificateDer<'_>, name: &ServerName<'_>) -> Result<(), rustls::Error> {
        let parsed = ParsedCertificate::try_from(end_entity)?;
        rustls::client::verify_server_name(&parsed, name).map_err(|e| self.advise(e, end_entity, name))
    }

    fn advise(&self, e: rustls::Error, end_entity: &CertificateDer<'_>, name: &ServerName<'_>) -> rustls::Error {
        let fpr = fingerprint_of(end_entity);
        let s = &self.section;
        let host = name.to_str();
        let ca = self
            .ca_file
            .as_ref()
            .map_or_else(|| "no ca_file is set".to_string(), |p| format!("ca_file {}", p.display()));
        let pin = format!(
            "if you have checked that this certificate ({fpr}) is the server's, pin it: tls_fingerprint = \"{fpr}\" in [{s}], or put the certificate itself in ca_file"
        );
        let message = match &e {
            rustls::Error::InvalidCertificate(c) => match c {
                CertificateError::UnknownIssuer => format!(
                    "the server's certificate is not signed by a public CA nor by a CA in [{s}] {ca}: put the CA that signed it in ca_file, or {pin}"
                ),
                // webpki's CaUsedAsEndEntity reaches us only as an opaque "other" error.
                CertificateError::Other(o) if format!("{o:?}").contains("CaUsedAsEndEntity") => format!(
                    "the server presents a CA certificate (CA:TRUE, as `openssl req -x509` makes them) as its own and {ca} does not hold it: {pin}"
                ),
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => format!(
                    "{c}: set [{s}] host to a name the certificate carries (the host name is checked even for a pinned certificate)"
                ),
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    format!("{c}: the server's certificate must be renewed (or the clock of this machine is wrong)")
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    format!("{c}: check the clock of this machine and of the server")
                }
                CertificateError::Revoked => format!("{c}: the server's certificate was revoked; it must be replaced"),
                other => format!("the server's certificate ({fpr}) was refused: {other}"),
            },
            other => format!("the server's certificate ({fpr}) was refused: {other}"),
        };
        tracing::debug!(host = %host, "TLS refusal: {message}");
        refuse(message)
    }
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(want) = self.fingerprint {
            let got = fingerprint_of(end_entity);
            if got != want {
                return Err(refuse(format!(
                    "the server's certificate is {got}, not the one [{}] tls_fingerprint pins ({want}): if the server's certificate was replaced, check the new one and pin it",
                    self.section
                )));
            }
            self.check_name(end_entity, server_name)?;
            return Ok(ServerCertVerified::assertion());
        }
        if self.pinned.iter().any(|p| p.as_ref() == end_entity.as_ref()) {
            self.check_name(end_entity, server_name)?;
            return Ok(ServerCertVerified::assertion());
        }
        self.webpki
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
            .map_err(|e| self.advise(e, end_entity, server_name))
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.webpki.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.webpki.supported_verify_schemes()
    }
}

/// Whether a handshake failed because vdpd refused the server's certificate (the admin's to fix).
pub fn is_certificate_error(e: &std::io::Error) -> bool {
    matches!(
        e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()),
        Some(rustls::Error::InvalidCertificate(_))
    )
}

/// A TLS handshake error in words, with what to change: the verifier's advice for a refused certificate, and
/// the usual causes of the other failures.
pub fn describe_handshake_error(e: &std::io::Error) -> String {
    match e.get_ref().and_then(|inner| inner.downcast_ref::<rustls::Error>()) {
        Some(rustls::Error::InvalidCertificate(CertificateError::Other(other))) => other.0.to_string(),
        // What a plain-text greeting ("* OK", "220 ") looks like to a TLS client.
        Some(rustls::Error::InvalidMessage(m)) => format!(
            "the server did not answer in TLS ({m:?}): is the port one that speaks TLS from the first byte? \
             993 (IMAP) and 465 (SMTP) do, with tls = \"implicit\"; 143 and 587 speak plain text first, with \
             tls = \"starttls\""
        ),
        Some(rustls::Error::PeerIncompatible(p)) => format!(
            "the server and vdpd have no TLS version or cipher suite in common ({p:?}): vdpd speaks TLS 1.2 and \
             1.3 with current cipher suites; the server's TLS settings must allow them"
        ),
        Some(rustls::Error::AlertReceived(alert)) => format!(
            "the server ended the handshake ({alert:?}): it may refuse TLS 1.2/1.3, the name vdpd asked for (the \
             host setting, sent as SNI), or want a client certificate; its log says which"
        ),
        Some(other) => other.to_string(),
        None => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_as_openssl_prints_them() {
        let f = fingerprint_of(b"certificate");
        let shown = f.to_string();
        assert!(shown.starts_with("sha256:") && shown.len() == 7 + 95, "{shown}");
        assert_eq!(shown.parse::<Fingerprint>(), Ok(f));
        let plain = shown.replace(':', "").replacen("sha256", "sha256:", 1).to_lowercase();
        assert_eq!(plain.parse::<Fingerprint>(), Ok(f));
        let openssl = format!("sha256 Fingerprint={}", &shown[7..]);
        assert_eq!(openssl.parse::<Fingerprint>(), Ok(f));
        for bad in ["", "sha256:", "md5:00", &shown[..shown.len() - 1], "AB:CD"] {
            assert!(bad.parse::<Fingerprint>().is_err(), "{bad:?}");
        }
    }
}

//! The organisation's secret key (generate, import, export, load) and the staff certificates.
//!
//! The secret key lives in one file in the state directory, unencrypted (the daemon must use it unattended)
//! and therefore readable by its owner only: [`OrgKey::load`] refuses a file that group or others can read.

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::crypto::KeyPair;
use openpgp::types::Features;

use super::{CertInfo, cert_info, policy};

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("no organisation key at {}: create one with `vdpd key generate --userid \"Name <{address}>\"` or import one with `vdpd key import FILE`", path.display())]
    Missing { path: PathBuf, address: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{} is readable by others (mode {mode:04o}); the secret key must be mode 0600: chmod 600 {}", path.display(), path.display())]
    Permissions { path: PathBuf, mode: u32 },
    #[error("{}: not an OpenPGP key: {message}", path.display())]
    Parse { path: PathBuf, message: String },
    #[error("{what}: {message}")]
    Unusable { what: String, message: String },
    #[error("{} exists; pass --force to replace it (the old key is kept as {}.old)", path.display(), path.display())]
    Exists { path: PathBuf },
    #[error("OpenPGP: {0}")]
    OpenPgp(String),
}

/// The organisation key: a certificate with its secret key material.
#[derive(Clone)]
pub struct OrgKey {
    cert: Cert,
    /// The public certificate (what we hand out).
    public: Cert,
    /// Its ASCII-armoured and binary forms, made once: every acknowledgement attaches the one and offers
    /// the other in its `Autocrypt:` header.
    public_armored: Vec<u8>,
    public_binary: Vec<u8>,
}

impl std::fmt::Debug for OrgKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrgKey").field("fingerprint", &self.cert.fingerprint().to_hex()).finish()
    }
}

impl OrgKey {
    /// Wraps a certificate with secrets after checking it is usable at `now`.
    pub fn from_cert(cert: Cert, what: &str, now: SystemTime) -> Result<OrgKey, KeyError> {
        let unusable = |message: String| KeyError::Unusable { what: what.to_string(), message };
        if !cert.is_tsk() {
            return Err(unusable(
                "holds no secret key material (export the secret key: gpg --export-secret-keys)".into(),
            ));
        }
        let valid = cert.with_policy(policy(), now).map_err(|e| unusable(format!("{e:#}")))?;
        let has_secret = |ka: &ValidErasedKeyAmalgamation<'_, openpgp::packet::key::PublicParts>| {
            ka.key().clone().parts_into_secret().is_ok_and(|k| !k.secret().is_encrypted())
        };
        if !valid.keys().alive().revoked(false).for_signing().any(|k| has_secret(&k)) {
            return Err(unusable(
                "has no usable, unprotected signing key (a passphrase-protected key cannot be used by a daemon)".into(),
            ));
        }
        if !valid.keys().alive().revoked(false).for_transport_encryption().any(|k| has_secret(&k)) {
            return Err(unusable("has no usable, unprotected encryption key".into()));
        }
        let public = cert.clone().strip_secret_key_material();
        let public_armored = super::armored(&public);
        let public_binary = super::binary(&public);
        Ok(OrgKey { cert, public, public_armored, public_binary })
    }

    /// A new Ed25519/Cv25519 key made at `now`: certification-only primary key, a signing and an encryption
    /// subkey.
    pub fn generate(userid: &str, validity: Option<Duration>, now: SystemTime) -> Result<OrgKey, KeyError> {
        let builder = CertBuilder::new()
            .set_creation_time(now)
            .set_cipher_suite(CipherSuite::Cv25519)
            .set_profile(openpgp::Profile::RFC4880)
            .and_then(|b| b.set_features(Features::empty().set_seipdv1()))
            .map_err(|e| KeyError::OpenPgp(format!("{e:#}")))?
            .add_userid(userid)
            .add_signing_subkey()
            .add_transport_encryption_subkey()
            .set_validity_period(validity);
        let (cert, _revocation) = builder.generate().map_err(|e| KeyError::OpenPgp(format!("{e:#}")))?;
        Self::from_cert(cert, "the new key", now)
    }

    /// The certificate with secrets (for decryption and signing).
    pub fn cert(&self) -> &Cert {
        &self.cert
    }

    /// The public certificate.
    pub fn public(&self) -> &Cert {
        &self.public
    }

    /// The public certificate, ASCII-armoured ([`super::armored`]).
    pub fn public_armored(&self) -> &[u8] {
        &self.public_armored
    }

    /// The public certificate, binary ([`super::binary`]).
    pub fn public_binary(&self) -> &[u8] {
        &self.public_binary
    }

    pub fn fingerprint(&self) -> String {
        self.cert.fingerprint().to_hex()
    }

    pub fn info(&self, now: SystemTime) -> CertInfo {
        cert_info(&self.public, now)
    }

    /// The signing key pair valid at `now`.
    pub fn signer(&self, now: SystemTime) -> Result<KeyPair, KeyError> {
        let valid = self.cert.with_policy(policy(), now).map_err(|e| KeyError::OpenPgp(format!("{e:#}")))?;
        let key = valid
            .keys()
            .alive()
            .revoked(false)
            .for_signing()
            .secret()
            .next()
            .ok_or_else(|| KeyError::OpenPgp("the organisation key has no signing key valid now".into()))?;
        key.key().clone().into_keypair().map_err(|e| KeyError::OpenPgp(format!("{e:#}")))
    }

    /// Every secret key that can decrypt (any time: mail encrypted to a since-expired subkey must still open).
    pub fn decryption_keys(&self) -> Vec<KeyPair> {
        self.cert.keys().secret().filter_map(|k| k.key().clone().into_keypair().ok()).collect()
    }
}

/// Checks that a staff certificate can be used now: it must be able to receive encrypted mail and to sign.
pub fn check_staff_cert(cert: &Cert, address: &str, now: SystemTime) -> Result<CertInfo, String> {
    let info = cert_info(cert, now);
    if let Some(p) = &info.problem {
        return Err(p.clone());
    }
    if info.encryption_keys.is_empty() {
        return Err("no key valid for encryption".into());
    }
    if info.signing_keys.is_empty() {
        return Err("no key valid for signing".into());
    }
    if !super::has_address(cert, address) {
        return Err(format!("no user ID with the address {address}"));
    }
    Ok(info)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::now;

    #[test]
    fn a_public_certificate_is_not_an_organisation_key() {
        let key = OrgKey::generate("x <x@example.test>", None, now()).unwrap();
        let err = OrgKey::from_cert(key.public().clone(), "imported", now()).unwrap_err();
        assert!(err.to_string().contains("no secret key material"), "{err}");
    }

    /// The quick test asked for every recipient says what the full report says, before and after expiry.
    #[test]
    fn can_encrypt_to_agrees_with_the_certificate_report() {
        let key = OrgKey::generate("x <x@example.test>", Some(Duration::from_secs(86400)), now()).unwrap();
        for t in [now(), now() + Duration::from_secs(3600), now() + Duration::from_secs(2 * 86400)] {
            let full = !crate::openpgp::cert_info(key.public(), t).encryption_keys.is_empty();
            assert_eq!(crate::openpgp::can_encrypt_to(key.public(), t), full, "{t:?}");
        }
        assert!(crate::openpgp::can_encrypt_to(key.public(), now()));
        assert!(!crate::openpgp::can_encrypt_to(key.public(), now() + Duration::from_secs(2 * 86400)));
    }

    #[test]
    fn a_generated_key_can_sign_and_decrypt_and_is_v4() {
        let key = OrgKey::generate("x <x@example.test>", Some(Duration::from_secs(86400 * 365)), now()).unwrap();
        let info = key.info(now());
        assert_eq!(info.signing_keys.len(), 1);
        assert_eq!(info.encryption_keys.len(), 1);
        assert!(info.expires_at.is_some());
        assert!(key.signer(now()).is_ok());
        assert!(!key.decryption_keys().is_empty());
        assert_eq!(key.public().primary_key().key().version(), 4, "v4 for GnuPG 2.2");
        assert!(!key.public().is_tsk());
    }
}

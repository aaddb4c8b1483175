//! The organisation's secret key (generate, import, export, load) and the staff certificates.
//!
//! The secret key lives in one file in the state directory, unencrypted (the daemon must use it unattended)
//! and therefore readable by its owner only: [`OrgKey::load`] refuses a file that group or others can read.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sequoia_openpgp as openpgp;

use openpgp::cert::prelude::*;
use openpgp::crypto::KeyPair;
use openpgp::parse::Parse;
use openpgp::serialize::SerializeInto;
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

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io { path: path.to_path_buf(), source }
}

/// The organisation key: a certificate with its secret key material.
#[derive(Clone)]
pub struct OrgKey {
    cert: Cert,
    /// The public certificate (what we hand out).
    public: Cert,
}

impl std::fmt::Debug for OrgKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OrgKey").field("fingerprint", &self.cert.fingerprint().to_hex()).finish()
    }
}

impl OrgKey {
    /// Reads the secret key, refusing a file others can read, a certificate without secrets, or one that
    /// cannot both sign and decrypt now.
    pub fn load(path: &Path, address: &str) -> Result<OrgKey, KeyError> {
        // One open, without following a symbolic link; mode and bytes come from the same file.
        let mut file = match crate::fsx::open_nofollow(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(KeyError::Missing { path: path.to_path_buf(), address: address.to_string() });
            }
            Err(e) => return Err(io(path)(e)),
        };
        let meta = file.metadata().map_err(io(path))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(KeyError::Permissions { path: path.to_path_buf(), mode });
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut file, &mut bytes).map_err(io(path))?;
        let cert = Cert::from_bytes(&bytes)
            .map_err(|e| KeyError::Parse { path: path.to_path_buf(), message: format!("{e:#}") })?;
        Self::from_cert(cert, &path.display().to_string())
    }

    /// Wraps a certificate with secrets after checking it is usable.
    pub fn from_cert(cert: Cert, what: &str) -> Result<OrgKey, KeyError> {
        let unusable = |message: String| KeyError::Unusable { what: what.to_string(), message };
        if !cert.is_tsk() {
            return Err(unusable(
                "holds no secret key material (export the secret key: gpg --export-secret-keys)".into(),
            ));
        }
        let now = SystemTime::now();
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
        Ok(OrgKey { cert, public })
    }

    /// A new Ed25519/Cv25519 key: certification-only primary key, a signing and an encryption subkey.
    pub fn generate(userid: &str, validity: Option<Duration>) -> Result<OrgKey, KeyError> {
        let builder = CertBuilder::new()
            .set_cipher_suite(CipherSuite::Cv25519)
            .set_profile(openpgp::Profile::RFC4880)
            .and_then(|b| b.set_features(Features::empty().set_seipdv1()))
            .map_err(|e| KeyError::OpenPgp(format!("{e:#}")))?
            .add_userid(userid)
            .add_signing_subkey()
            .add_transport_encryption_subkey()
            .set_validity_period(validity);
        let (cert, _revocation) = builder.generate().map_err(|e| KeyError::OpenPgp(format!("{e:#}")))?;
        Self::from_cert(cert, "the new key")
    }

    /// Writes the secret key to `path` with mode 0600 (creating its directory with mode 0700). An existing key
    /// is refused unless `replace`, in which case it is kept as `<path>.old`.
    pub fn save(&self, path: &Path, replace: bool) -> Result<(), KeyError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io(dir))?;
        }
        if path.exists() {
            if !replace {
                return Err(KeyError::Exists { path: path.to_path_buf() });
            }
            let old = PathBuf::from(format!("{}.old", path.display()));
            std::fs::rename(path, &old).map_err(io(path))?;
        }
        let bytes = self.cert.as_tsk().armored().to_vec().map_err(|e| KeyError::OpenPgp(format!("{e:#}")))?;
        let tmp = PathBuf::from(format!("{}.tmp", path.display()));
        let _ = std::fs::remove_file(&tmp);
        let mut f =
            std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp).map_err(io(&tmp))?;
        f.write_all(&bytes).and_then(|()| f.sync_all()).map_err(io(&tmp))?;
        std::fs::rename(&tmp, path).map_err(io(path))
    }

    /// The certificate with secrets (for decryption and signing).
    pub fn cert(&self) -> &Cert {
        &self.cert
    }

    /// The public certificate.
    pub fn public(&self) -> &Cert {
        &self.public
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

/// The keys the desk holds at run time: its own secret key and the staff certificates.
#[derive(Debug, Clone, Default)]
pub struct Keys {
    /// `None` when the policy has no `[openpgp]` section.
    pub org: Option<OrgKey>,
    pub staff: Vec<StaffKey>,
}

/// A staff member and their certificate (`None` if none is configured).
#[derive(Debug, Clone)]
pub struct StaffKey {
    pub address: String,
    pub name: String,
    pub cert: Option<Cert>,
}

impl Keys {
    /// Loads the organisation key (refusing one readable by others) and every staff certificate.
    pub fn load(config: &crate::config::Config) -> Result<Keys, KeyError> {
        let org = match &config.openpgp {
            Some(o) => Some(OrgKey::load(&o.key, &config.organisation.security_address)?),
            None => None,
        };
        let mut staff = Vec::new();
        for m in &config.staff.members {
            let cert = match &m.cert {
                Some(path) => Some(read_cert(path)?),
                None => None,
            };
            staff.push(StaffKey { address: m.address.clone(), name: m.name.clone(), cert });
        }
        Ok(Keys { org, staff })
    }

    /// Certificates that verify signatures: every staff certificate.
    pub fn staff_certs(&self) -> impl Iterator<Item = &Cert> {
        self.staff.iter().filter_map(|s| s.cert.as_ref())
    }
}

/// Reads one public certificate (armoured or binary) from a file.
pub fn read_cert(path: &Path) -> Result<Cert, KeyError> {
    let bytes = std::fs::read(path).map_err(io(path))?;
    let cert = Cert::from_bytes(&bytes)
        .map_err(|e| KeyError::Parse { path: path.to_path_buf(), message: format!("{e:#}") })?;
    Ok(cert.strip_secret_key_material())
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

    #[test]
    fn a_generated_key_signs_decrypts_and_round_trips_through_a_0600_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openpgp/organisation.key");
        let key = OrgKey::generate("Example Security <security@example.test>", Some(Duration::from_secs(86400 * 365)))
            .unwrap();
        key.save(&path, false).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
        let loaded = OrgKey::load(&path, "security@example.test").unwrap();
        assert_eq!(loaded.fingerprint(), key.fingerprint());
        let info = loaded.info(SystemTime::now());
        assert_eq!(info.signing_keys.len(), 1);
        assert_eq!(info.encryption_keys.len(), 1);
        assert!(info.expires_at.is_some());
        assert_eq!(loaded.public().primary_key().key().version(), 4, "v4 for GnuPG 2.2");
        assert!(!loaded.public().is_tsk());
        // Saving again is refused unless replacing, which keeps the old key.
        assert!(matches!(key.save(&path, false), Err(KeyError::Exists { .. })));
        key.save(&path, true).unwrap();
        assert!(dir.path().join("openpgp/organisation.key.old").exists());
    }

    #[test]
    fn a_key_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.asc");
        OrgKey::generate("x <x@example.test>", None).unwrap().save(&path, false).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(OrgKey::load(&path, "x@example.test"), Err(KeyError::Permissions { mode: 0o640, .. })));
        assert!(matches!(OrgKey::load(&dir.path().join("none"), "x@example.test"), Err(KeyError::Missing { .. })));
    }

    #[test]
    fn a_public_certificate_is_not_an_organisation_key() {
        let key = OrgKey::generate("x <x@example.test>", None).unwrap();
        let err = OrgKey::from_cert(key.public().clone(), "imported").unwrap_err();
        assert!(err.to_string().contains("no secret key material"), "{err}");
    }
}

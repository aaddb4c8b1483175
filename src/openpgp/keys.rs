//! The organisation's secret key and the staff certificates on disk: loading and saving them. What a usable key
//! is, generating one and checking a staff certificate are the core's (`vdpd_core::openpgp::keys`, re-exported).
//!
//! The secret key lives in one file in the state directory, unencrypted (the daemon must use it unattended)
//! and therefore readable by its owner only: [`load`] refuses a file that group or others can read.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sequoia_openpgp::parse::Parse;
use sequoia_openpgp::serialize::SerializeInto;

pub use vdpd_core::openpgp::keys::*;

use super::Cert;

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyError + '_ {
    move |source| KeyError::Io { path: path.to_path_buf(), source }
}

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
    OrgKey::from_cert(cert, &path.display().to_string(), SystemTime::now())
}

/// Writes the secret key to `path` with mode 0600 (creating its directory with mode 0700). An existing key
/// is refused unless `replace`, in which case it is kept as `<path>.old`.
pub fn save(key: &OrgKey, path: &Path, replace: bool) -> Result<(), KeyError> {
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
    let bytes = key.cert().as_tsk().armored().to_vec().map_err(|e| KeyError::OpenPgp(format!("{e:#}")))?;
    let tmp = PathBuf::from(format!("{}.tmp", path.display()));
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp).map_err(io(&tmp))?;
    f.write_all(&bytes).and_then(|()| f.sync_all()).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))
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
            Some(o) => Some(load(&o.key, &config.organisation.security_address)?),
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_generated_key_signs_decrypts_and_round_trips_through_a_0600_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("openpgp/organisation.key");
        let key = OrgKey::generate(
            "Example Security <security@example.test>",
            Some(Duration::from_secs(86400 * 365)),
            SystemTime::now(),
        )
        .unwrap();
        save(&key, &path, false).unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
        let loaded = load(&path, "security@example.test").unwrap();
        assert_eq!(loaded.fingerprint(), key.fingerprint());
        let info = loaded.info(SystemTime::now());
        assert_eq!(info.signing_keys.len(), 1);
        assert_eq!(info.encryption_keys.len(), 1);
        assert!(info.expires_at.is_some());
        assert_eq!(loaded.public().primary_key().key().version(), 4, "v4 for GnuPG 2.2");
        assert!(!loaded.public().is_tsk());
        // Saving again is refused unless replacing, which keeps the old key.
        assert!(matches!(save(&key, &path, false), Err(KeyError::Exists { .. })));
        save(&key, &path, true).unwrap();
        assert!(dir.path().join("openpgp/organisation.key.old").exists());
    }

    #[test]
    fn a_key_readable_by_others_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.asc");
        save(&OrgKey::generate("x <x@example.test>", None, SystemTime::now()).unwrap(), &path, false).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        assert!(matches!(load(&path, "x@example.test"), Err(KeyError::Permissions { mode: 0o640, .. })));
        assert!(matches!(load(&dir.path().join("none"), "x@example.test"), Err(KeyError::Missing { .. })));
    }
}

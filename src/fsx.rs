//! Files vdpd owns: opened in the state directory without following symbolic links, and written for the
//! admin (exports, attachments, advisories) readable by their owner only; files for a web server (security.txt,
//! the CSAF provider directory) replaced atomically and readable by all.
//!
//! The state directory belongs to the service user, but a symbolic link planted there (by a compromised
//! helper, or an admin's mistake) must not make vdpd read or overwrite another file with its privileges;
//! and a report's attachment or a ticket export written by `vdpd` carries researchers' words and must not
//! become world-readable because of the admin's umask.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Opens an existing file for reading; a symbolic link at `path` is refused (`ELOOP`).
pub fn open_nofollow(path: &Path) -> std::io::Result<File> {
    OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC).open(path)
}

/// Opens (creating if needed) a file for reading and writing without following a symbolic link, mode
/// 0600 when created: lock files beside the store.
pub fn open_or_create_nofollow(path: &Path) -> std::io::Result<File> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(path)
}

/// Writes `data` to `path` for the admin: mode 0600 whatever the umask, an existing file's mode narrowed
/// to 0600 too.
pub fn write_private(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let mut f = OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    f.write_all(data)?;
    f.sync_all()
}

/// Writes `data` to `path` for a web server to serve (security.txt, the CSAF provider directory):
/// atomically — a temporary file beside it renamed over it, so nothing half-written is ever served — and
/// world-readable (0644) whatever the umask.
pub fn write_public(path: &Path, data: &[u8]) -> std::io::Result<()> {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let tmp = path.with_file_name(format!(".{name}.vdpd-tmp"));
    let mut f = OpenOptions::new().write(true).create(true).truncate(true).open(&tmp)?;
    f.set_permissions(std::fs::Permissions::from_mode(0o644))?;
    f.write_all(data)?;
    f.sync_all()?;
    drop(f);
    std::fs::rename(&tmp, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_refused_and_private_files_stay_private() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, b"not ours").unwrap();
        let link = dir.path().join("vdpd.sqlite.lock");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(open_nofollow(&link).is_err());
        assert!(open_or_create_nofollow(&link).is_err());
        assert!(open_nofollow(&target).is_ok());
        let out = dir.path().join("export.json");
        std::fs::write(&out, b"old").unwrap();
        std::fs::set_permissions(&out, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&out, b"new").unwrap();
        assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::read(&out).unwrap(), b"new");
    }
}

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

/// The bytes an unprivileged writer can still add to the file system holding `path` (`statvfs`'s available
/// blocks): what `vdpd status` compares with what the store needs to grow, since SQLite says only "database
/// or disk is full" — and a full disk cannot even record that.
pub fn free_space(path: &Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut st = std::mem::MaybeUninit::<libc::statvfs>::uninit();
    // SAFETY: `c` is a valid NUL-terminated path and `st` points to writable memory of the right type; the
    // struct is read only after statvfs reported success, which means it filled it.
    if unsafe { libc::statvfs(c.as_ptr(), st.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    let st = unsafe { st.assume_init() };
    #[allow(clippy::unnecessary_cast)] // the fields' types differ between platforms
    Ok((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

/// A size as people read it: "512 B", "40.0 KiB", "1.5 MiB", "2.0 GiB".
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut value = n as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
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

    #[test]
    fn free_space_is_read_and_sizes_are_written_for_people() {
        let dir = tempfile::tempdir().unwrap();
        assert!(free_space(dir.path()).unwrap() > 0);
        assert!(free_space(&dir.path().join("missing/deeper")).is_err());
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(40 * 1024), "40.0 KiB");
        assert_eq!(human_bytes(3 << 29), "1.5 GiB");
    }
}

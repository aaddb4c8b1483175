//! Advisory file locks beside the store, so that processes sharing one store do not step on each other.
//!
//! - `<store>.lock` — held by `vdpd run` and `vdpd once` for their whole life: one mailbox fetcher per store.
//! - `<store>.outbox.lock` — held by whoever is delivering the outbox right now (the daemon, `once`, or an
//!   `ingest` from the MTA). Because the kernel drops a lock when its process dies, a row found `sending` by
//!   the holder of this lock is known to be an orphan of a dead process and can be retried at once.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A held lock; released on drop (or when the process dies).
#[derive(Debug)]
pub struct FileLock {
    file: File,
    path: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{} is held by another vdpd process{}", path.display(), holder.as_deref().map(|h| format!(" (pid {h})")).unwrap_or_default())]
    Busy { path: PathBuf, holder: Option<String> },
}

/// `<store path><suffix>`, e.g. `/var/lib/vdpd/vdpd.sqlite.lock`.
pub fn path_beside(store: &Path, suffix: &str) -> PathBuf {
    let mut s = store.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

impl FileLock {
    /// Takes the lock now or fails with [`LockError::Busy`].
    pub fn try_acquire(path: &Path) -> Result<FileLock, LockError> {
        let mut file = open(path)?;
        match file.try_lock() {
            Ok(()) => {
                let _ = file.set_len(0);
                let _ = write!(file, "{}", std::process::id());
                Ok(FileLock { file, path: path.to_path_buf() })
            }
            Err(std::fs::TryLockError::WouldBlock) => Err(LockError::Busy {
                path: path.to_path_buf(),
                holder: std::fs::read_to_string(path).ok().filter(|s| !s.is_empty()),
            }),
            Err(std::fs::TryLockError::Error(source)) => Err(LockError::Io { path: path.to_path_buf(), source }),
        }
    }

    /// Waits up to `wait` for the lock (blocking: call from a blocking thread).
    pub fn acquire_within(path: &Path, wait: Duration) -> Result<FileLock, LockError> {
        let start = Instant::now();
        loop {
            match Self::try_acquire(path) {
                Err(LockError::Busy { .. }) if start.elapsed() < wait => std::thread::sleep(Duration::from_millis(20)),
                other => return other,
            }
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for FileLock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

/// Who holds the lock at `path` now, without creating the file or taking the lock for longer than the probe:
/// `None` if nobody does (or the file does not exist), else the holder's pid as it wrote it.
pub fn holder(path: &Path) -> Result<Option<String>, LockError> {
    let file = match crate::fsx::open_nofollow(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => return Err(LockError::Io { path: path.to_path_buf(), source }),
    };
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            Ok(None)
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            Ok(Some(std::fs::read_to_string(path).unwrap_or_default().trim().to_string()))
        }
        Err(std::fs::TryLockError::Error(source)) => Err(LockError::Io { path: path.to_path_buf(), source }),
    }
}

fn open(path: &Path) -> Result<File, LockError> {
    // A symbolic link in its place is refused: the lock's holder writes its pid into the file.
    crate::fsx::open_or_create_nofollow(path).map_err(|source| LockError::Io { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.lock");
        let first = FileLock::try_acquire(&path).unwrap();
        match FileLock::try_acquire(&path) {
            Err(LockError::Busy { holder, .. }) => assert_eq!(holder, Some(std::process::id().to_string())),
            other => panic!("{other:?}"),
        }
        assert_eq!(holder(&path).unwrap(), Some(std::process::id().to_string()));
        drop(first);
        assert_eq!(holder(&path).unwrap(), None);
        assert_eq!(holder(&dir.path().join("absent.lock")).unwrap(), None);
        assert!(!dir.path().join("absent.lock").exists(), "a probe creates nothing");
        FileLock::acquire_within(&path, Duration::from_secs(1)).unwrap();
    }

    #[test]
    fn lock_paths_sit_beside_the_store() {
        assert_eq!(
            path_beside(Path::new("/var/lib/vdpd/vdpd.sqlite"), ".lock"),
            Path::new("/var/lib/vdpd/vdpd.sqlite.lock")
        );
    }
}

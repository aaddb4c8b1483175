//! The configuration's IO: reading `policy.toml` and the secrets it names. What a valid configuration is, and
//! checking one line by line, is the core's (`vdpd_core::config`), re-exported here.
//!
//! Secrets are not read when the policy is loaded: [`read_password`] resolves a [`PasswordSource`] only in the
//! code that connects, so that `vdpd tickets list` run by an admin works without access to the credentials.

use std::path::{Path, PathBuf};

pub use vdpd_core::config::*;

/// Why a policy file could not be used. Lists every problem found.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid { problems: Vec<Problem> },
}

/// Reads and validates a policy file.
pub fn load(path: &Path) -> Result<Config, ConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.to_path_buf(), source })?;
    parse(&text, path)
}

/// Validates policy text as if it had been read from `path` (which is used for messages and to resolve
/// relative paths), looking on this machine for the files it names.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigError> {
    vdpd_core::config::parse(text, path, &ThisMachine).map_err(|problems| ConfigError::Invalid { problems })
}

/// Validation's questions, answered from this machine's filesystem and zone database.
struct ThisMachine;

impl Machine for ThisMachine {
    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn time_zone(&self, name: &str) -> Option<jiff::tz::TimeZone> {
        jiff::tz::TimeZone::get(name).ok()
    }
}

/// Reads the secret a [`PasswordSource`] names: at connect time, never when the policy is loaded.
/// (`vdpd tickets list` run by an admin works without access to the credentials.)
/// A single trailing newline (as `echo` writes) is not part of it.
pub fn read_password(source: &PasswordSource) -> Result<String, std::io::Error> {
    match source {
        PasswordSource::Env(var) => std::env::var(var).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                format!("environment variable {var} is not set (or not UTF-8)"),
            )
        }),
        PasswordSource::File { name, config_dir } => {
            let path = locate(name, config_dir);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| std::io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            let text = text.strip_suffix('\n').unwrap_or(&text);
            let text = text.strip_suffix('\r').unwrap_or(text);
            Ok(text.to_string())
        }
    }
}

fn locate(name: &Path, config_dir: &Path) -> PathBuf {
    let creds = std::env::var_os("CREDENTIALS_DIRECTORY").map(PathBuf::from);
    locate_in(name, creds.as_deref(), config_dir)
}

fn locate_in(name: &Path, credentials_dir: Option<&Path>, config_dir: &Path) -> PathBuf {
    if name.is_absolute() {
        return name.to_path_buf();
    }
    if let Some(dir) = credentials_dir {
        let candidate = dir.join(name);
        if candidate.exists() {
            return candidate;
        }
    }
    config_dir.join(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_file_prefers_credentials_directory() {
        let dir = tempfile::tempdir().unwrap();
        let creds = dir.path().join("creds");
        std::fs::create_dir(&creds).unwrap();
        std::fs::write(dir.path().join("imap.pass"), "from-config-dir\n").unwrap();
        let src = PasswordSource::File { name: "imap.pass".into(), config_dir: dir.path().to_path_buf() };
        // Without a credential of that name the file next to the policy is used.
        assert_eq!(read_password(&src).unwrap(), "from-config-dir");
        let name = Path::new("imap.pass");
        // A credentials directory without that credential falls back to the policy's directory...
        assert_eq!(locate_in(name, Some(&creds), dir.path()), dir.path().join(name));
        // ...and one with it wins.
        std::fs::write(creds.join("imap.pass"), "from-credentials\n").unwrap();
        assert_eq!(locate_in(name, Some(&creds), dir.path()), creds.join(name));
    }
}

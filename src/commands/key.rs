//! `vdpd key generate|import|export`: the organisation's OpenPGP key.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use super::{Exit, load_config};
use crate::config::Config;
use crate::openpgp::keys::OrgKey;
use crate::openpgp::{self, Cert};

fn key_path(config: &Config) -> anyhow::Result<std::path::PathBuf> {
    match &config.openpgp {
        Some(o) => Ok(o.key.clone()),
        None => Err(Exit {
            code: super::exit::CONFIG,
            message: format!(
                "{} has no [openpgp] section: add one (an empty `[openpgp]` is enough) to give vdpd a key",
                config.path.display()
            ),
        }
        .into()),
    }
}

/// "2y", "18 months", "90d", "never" → a validity period.
pub fn parse_validity(s: &str) -> Result<Option<Duration>, String> {
    let t = s.trim().to_lowercase();
    if t == "never" {
        return Ok(None);
    }
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    let n: u64 = digits.parse().map_err(|_| format!("{s:?}: write e.g. 2y, 18 months, 365d or never"))?;
    let unit = t[digits.len()..].trim();
    let days = match unit {
        "y" | "year" | "years" => n * 365,
        "m" | "month" | "months" => n * 30,
        "d" | "day" | "days" => n,
        _ => return Err(format!("{s:?}: write e.g. 2y, 18 months, 365d or never")),
    };
    if days == 0 {
        return Err("the validity must be more than zero".into());
    }
    Ok(Some(Duration::from_secs(days * 86_400)))
}

fn describe(key: &OrgKey, path: &Path) {
    let info = key.info(SystemTime::now());
    println!("organisation key {}", info.fingerprint);
    for uid in &info.user_ids {
        println!("  user ID:    {uid}");
    }
    println!("  expires:    {}", info.expires_at.map_or("never".to_string(), crate::clock::format_ms));
    println!("  stored in:  {} (mode 0600)", path.display());
    println!("Publish the fingerprint with your disclosure policy; `vdpd key export` prints the public key.");
}

pub fn generate(config_path: &Path, userid: Option<String>, validity: &str, force: bool) -> anyhow::Result<ExitCode> {
    let config = load_config(config_path)?;
    let path = key_path(&config)?;
    let validity = parse_validity(validity).map_err(|m| Exit { code: 2, message: m })?;
    let userid =
        userid.unwrap_or_else(|| format!("{} <{}>", config.organisation.name, config.organisation.security_address));
    let key = OrgKey::generate(&userid, validity)?;
    if !openpgp::has_address(key.public(), &config.organisation.security_address) {
        eprintln!(
            "warning: the user ID {userid:?} does not carry {}; mail clients match keys by address",
            config.organisation.security_address
        );
    }
    key.save(&path, force)?;
    describe(&key, &path);
    Ok(ExitCode::SUCCESS)
}

pub fn import(config_path: &Path, file: &Path, force: bool) -> anyhow::Result<ExitCode> {
    use sequoia_openpgp::parse::Parse;
    let config = load_config(config_path)?;
    let path = key_path(&config)?;
    let bytes = std::fs::read(file).map_err(|e| Exit { code: 1, message: format!("{}: {e}", file.display()) })?;
    let cert = Cert::from_bytes(&bytes)
        .map_err(|e| Exit { code: 1, message: format!("{}: not an OpenPGP key: {e:#}", file.display()) })?;
    let key = OrgKey::from_cert(cert, &file.display().to_string())?;
    key.save(&path, force)?;
    describe(&key, &path);
    Ok(ExitCode::SUCCESS)
}

pub fn export(config_path: &Path) -> anyhow::Result<ExitCode> {
    let config = load_config(config_path)?;
    let key = OrgKey::load(&key_path(&config)?, &config.organisation.security_address)?;
    use std::io::Write;
    std::io::stdout().write_all(&openpgp::armored(key.public()))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validities() {
        assert_eq!(parse_validity("never"), Ok(None));
        assert_eq!(parse_validity("2y"), Ok(Some(Duration::from_secs(730 * 86_400))));
        assert_eq!(parse_validity("18 months"), Ok(Some(Duration::from_secs(540 * 86_400))));
        assert!(parse_validity("0d").is_err());
        assert!(parse_validity("soon").is_err());
    }
}

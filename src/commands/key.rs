//! `vdpd key generate|import|export`: the organisation's OpenPGP key.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use super::{Exit, load_config, refuse_root_on_service_state, shown_args};
use crate::config::Config;
use crate::openpgp::keys::{self, OrgKey};
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

/// "2 years", "3y", "18 months", "90 days", "never" → a validity period, in the one duration syntax of
/// policy.toml (months and years on the calendar, counted from `now`).
pub fn parse_validity(s: &str, now: jiff::Timestamp) -> Result<Option<Duration>, String> {
    use crate::config::{PolicyDuration, Unit};
    if s.trim().eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    let d: PolicyDuration = s.parse().map_err(|e| format!("{e}; or \"never\""))?;
    if d.amount == 0 {
        return Err("the validity must be more than zero".into());
    }
    let span = match d.unit {
        Unit::Months => jiff::Span::new().try_months(i64::from(d.amount)),
        Unit::Years => jiff::Span::new().try_years(i64::from(d.amount)),
        Unit::BusinessDays => {
            return Err(format!("{s:?}: a key's validity is in calendar units (days, months, years)"));
        }
        _ => return d.exact().map(Some).ok_or_else(|| format!("{s:?} is too long")),
    };
    let from = now.to_zoned_datetime(jiff::tz::TimeZone::UTC);
    let until = span.and_then(|span| from.checked_add(span)).map_err(|_| format!("{s:?} is too long"))?;
    let secs = until.timestamp().as_second() - now.as_second();
    Ok(Some(Duration::from_secs(u64::try_from(secs).unwrap_or(0))))
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
    refuse_root_on_service_state(&config, &shown_args())?;
    let path = key_path(&config)?;
    let validity = parse_validity(validity, jiff::Timestamp::now()).map_err(|m| Exit { code: 2, message: m })?;
    let userid =
        userid.unwrap_or_else(|| format!("{} <{}>", config.organisation.name, config.organisation.security_address));
    let key = OrgKey::generate(&userid, validity, std::time::SystemTime::now())?;
    if !openpgp::has_address(key.public(), &config.organisation.security_address) {
        eprintln!(
            "warning: the user ID {userid:?} does not carry {}; mail clients match keys by address",
            config.organisation.security_address
        );
    }
    keys::save(&key, &path, force)?;
    describe(&key, &path);
    Ok(ExitCode::SUCCESS)
}

pub fn import(config_path: &Path, file: &Path, force: bool) -> anyhow::Result<ExitCode> {
    use sequoia_openpgp::parse::Parse;
    let config = load_config(config_path)?;
    refuse_root_on_service_state(&config, &shown_args())?;
    let path = key_path(&config)?;
    let bytes = std::fs::read(file).map_err(|e| Exit { code: 1, message: format!("{}: {e}", file.display()) })?;
    let cert = Cert::from_bytes(&bytes)
        .map_err(|e| Exit { code: 1, message: format!("{}: not an OpenPGP key: {e:#}", file.display()) })?;
    let key = OrgKey::from_cert(cert, &file.display().to_string(), std::time::SystemTime::now())?;
    keys::save(&key, &path, force)?;
    describe(&key, &path);
    Ok(ExitCode::SUCCESS)
}

pub fn export(config_path: &Path) -> anyhow::Result<ExitCode> {
    let config = load_config(config_path)?;
    let key = keys::load(&key_path(&config)?, &config.organisation.security_address)?;
    use std::io::Write;
    std::io::stdout().write_all(&openpgp::armored(key.public()))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validities() {
        let now: jiff::Timestamp = "2026-12-01T12:00:00Z".parse().unwrap();
        let days = |n: u64| Ok(Some(Duration::from_secs(n * 86_400)));
        assert_eq!(parse_validity("never", now), Ok(None));
        // 2027 and 2028: one leap day.
        assert_eq!(parse_validity("2y", now), days(731));
        assert_eq!(parse_validity("1 year", now), days(365));
        assert_eq!(parse_validity("18 months", now), days(548));
        assert_eq!(parse_validity("90 days", now), days(90));
        for bad in ["0d", "soon", "5 business days", "2"] {
            assert!(parse_validity(bad, now).is_err(), "{bad}");
        }
    }
}

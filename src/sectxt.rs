//! Keeping the published `security.txt` valid: the daemon (and every `vdpd once`) writes `[security_txt]
//! path` again — re-signed with the organisation key — before its `Expires` comes within `renew_before`, when
//! it has expired or cannot be read, and when the policy now says something else. RFC 9116 makes an expired
//! file worthless to researchers, and nobody remembers a date six months away.
//!
//! The decision is `publish::renewal_needed` (pure); this module reads and writes the file: atomically (a
//! temporary file in the same directory renamed over it, so a web server never serves half a file) and
//! world-readable (0644), whatever the service's umask, since a web server is to read it.

use crate::config::Config;
use crate::openpgp::keys::OrgKey;
use crate::publish::{self, Renewal};
use vdpd_core::lang::Lang;

/// What a pass did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kept {
    /// Why the file was written again; `None` when it was current.
    pub renewed: Option<Renewal>,
    /// The file's `Expires` now (ms).
    pub expires: Option<i64>,
}

/// Checks the file at `[security_txt] path` and writes it again if it must be; `Ok(None)` when the policy
/// names no path.
pub fn keep_valid(config: &Config, languages: &[Lang], key: Option<&OrgKey>, now: i64) -> Result<Option<Kept>, String> {
    let st = &config.security_txt;
    let Some(path) = &st.path else { return Ok(None) };
    let fresh = publish::security_txt(config, languages, key.map(|k| k.fingerprint()).as_deref(), now);
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let signed = st.sign && key.is_some();
    let cal = &config.calendar;
    let Some(why) =
        publish::renewal_needed(existing.as_deref(), &fresh, signed, now, |expires| cal.sub(expires, st.renew_before))
    else {
        return Ok(Some(Kept { renewed: None, expires: existing.as_deref().and_then(publish::expires_of) }));
    };
    let data = match key.filter(|_| signed) {
        Some(k) => crate::openpgp::write::clearsign(fresh.as_bytes(), k, crate::intake::system_time(now))
            .map_err(|e| format!("signing {}: {e}", path.display()))?,
        None => fresh.into_bytes(),
    };
    crate::fsx::write_public(path, &data).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(Kept { renewed: Some(why), expires: publish::expires_of(&String::from_utf8_lossy(&data)) }))
}

/// What `vdpd check` says of the file: (`true` for a warning, the words).
pub fn check(config: &Config, now: i64) -> Option<(bool, String)> {
    let st = &config.security_txt;
    let path = st.path.as_ref()?;
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => return Some((true, format!("{}: {e} (the daemon writes it)", path.display()))),
    };
    let show = |t: i64| config.calendar.show(t);
    Some(match publish::expires_of(&text) {
        None => (true, format!("{}: no Expires that can be read (the daemon writes it again)", path.display())),
        Some(at) if at <= now => (
            true,
            format!("{} EXPIRED at {}: researchers may ignore it (the daemon renews it)", path.display(), show(at)),
        ),
        Some(at) if now >= config.calendar.sub(at, st.renew_before) => (
            true,
            format!(
                "{} expires at {}, within {} (the daemon renews it; is it running?)",
                path.display(),
                show(at),
                st.renew_before
            ),
        ),
        Some(at) => (false, format!("{} valid until {}; renewed {} before", path.display(), show(at), st.renew_before)),
    })
}

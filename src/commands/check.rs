//! `vdpd check [--connect]`: everything that can be verified before the first mail arrives.

use std::path::Path;
use std::process::ExitCode;

use super::{Exit, exit, load_config};
use crate::config::{Config, PasswordSource};
use std::time::{Duration, SystemTime};

use crate::imap;
use crate::openpgp::keys;
use crate::outbox::Mailer;
use crate::render::{Origin, Templates};

struct Report {
    failures: usize,
}

impl Report {
    fn ok(&self, what: &str, detail: impl std::fmt::Display) {
        println!("ok    {what}: {detail}");
    }
    fn warn(&self, what: &str, detail: impl std::fmt::Display) {
        println!("WARN  {what}: {detail}");
    }
    fn fail(&mut self, what: &str, detail: impl std::fmt::Display) {
        self.failures += 1;
        println!("FAIL  {what}: {detail}");
    }
    fn check<T, E: std::fmt::Display>(
        &mut self,
        what: &str,
        r: Result<T, E>,
        detail: impl FnOnce(&T) -> String,
    ) -> Option<T> {
        match r {
            Ok(v) => {
                self.ok(what, detail(&v));
                Some(v)
            }
            Err(e) => {
                self.fail(what, e);
                None
            }
        }
    }
}

pub fn run(rt: &tokio::runtime::Runtime, config_path: &Path, connect: bool) -> anyhow::Result<ExitCode> {
    let config = load_config(config_path)?;
    let mut r = Report { failures: 0 };
    r.ok(
        "policy",
        format!(
            "{} ({}, references {}-YYYY-NNNN)",
            config.path.display(),
            config.organisation.security_address,
            config.organisation.ticket_prefix
        ),
    );
    if let Some(templates) =
        r.check("templates", Templates::load_for(&config.templates), |t| describe_templates(t, &config))
    {
        r.check("templates render", templates.self_test(&config), |_| {
            "every template renders with a sample ticket".into()
        });
        // security.txt promising a language nobody is answered in.
        for tag in &config.security_txt.preferred_languages {
            let answered = tag.parse::<vdpd_core::lang::Lang>().is_ok_and(|l| templates.languages().contains(&l));
            if !answered {
                r.warn(
                    "security.txt",
                    format!(
                        "preferred_languages names {tag:?}, but researchers are answered only in {}: add templates/{tag}/ or leave preferred_languages out",
                        templates.languages().iter().map(|l| l.as_str()).collect::<Vec<_>>().join(", ")
                    ),
                );
            }
        }
    }
    check_store(&mut r, &config);
    check_policy(&mut r, &config);
    check_openpgp(&mut r, &config);
    match crate::sectxt::check(&config, jiff::Timestamp::now().as_millisecond()) {
        Some((true, why)) => r.warn("security.txt", why),
        Some((false, what)) => r.ok("security.txt", what),
        None => {}
    }
    if let Some(i) = &config.imap {
        match &i.auth {
            crate::config::ImapAuth::Password(p) => {
                r.check("imap password", crate::config::read_password(p), |_| source_name(p));
            }
            crate::config::ImapAuth::XOAuth2 => r.ok("imap login", format!("XOAUTH2 as {}", i.username)),
        }
        if let Some(ca) = &i.ca_file {
            r.check("imap ca_file", crate::tls::read_ca_file(ca), |c| format!("{} certificate(s)", c.len()));
        }
    } else {
        r.ok("imap", "not configured: mail arrives only through `vdpd ingest`");
    }
    match &config.smtp.auth {
        Some(crate::config::SmtpAuth::Password { password, .. }) => {
            r.check("smtp password", crate::config::read_password(password), |_| source_name(password));
        }
        Some(crate::config::SmtpAuth::XOAuth2 { username }) => r.ok("smtp login", format!("XOAUTH2 as {username}")),
        None => {}
    }
    if let Some(o) = &config.oauth2 {
        r.check("oauth2 refresh token", crate::config::read_password(&o.refresh_token), |_| {
            source_name(&o.refresh_token)
        });
        if let Some(s) = &o.client_secret {
            r.check("oauth2 client secret", crate::config::read_password(s), |_| source_name(s));
        }
    }
    // Logging in with OAuth2 refreshes a token, which the store keeps (a rotated refresh token must not be lost).
    let tokens = match (&config.oauth2, connect) {
        (Some(o), true) => r
            .check("store for OAuth2 tokens", crate::store::Store::open(&config.store.path), |_| "open".into())
            .map(|s| {
                std::sync::Arc::new(crate::oauth2::TokenSource::new(
                    o.clone(),
                    crate::store::Db::new(s),
                    &config.store.path,
                ))
            }),
        _ => None,
    };
    let mailer = r.check("smtp setup", Mailer::new(&config.smtp, tokens.clone()), |_| {
        format!("{}:{} ({} TLS)", config.smtp.host, config.smtp.port, config.smtp.tls)
    });

    if connect {
        if let Some(i) = &config.imap {
            let outcome = rt.block_on(async {
                let mut opened = imap::open(i, tokens.as_deref()).await?;
                let limitations = opened.limitations(i);
                let _ = tokio::time::timeout(std::time::Duration::from_secs(5), opened.session.logout()).await;
                Ok::<_, imap::ImapError>((opened.caps, opened.summary, limitations))
            });
            if let Some((_, _, limitations)) = r.check("imap", outcome, |(caps, summary, _)| {
                format!(
                    "{}@{}:{}: {summary}; IDLE {}, MOVE {}, UIDPLUS {}",
                    i.username,
                    i.host,
                    i.port,
                    yes(caps.idle),
                    yes(caps.r#move),
                    yes(caps.uidplus)
                )
            }) {
                for limitation in limitations {
                    r.warn("imap", limitation);
                }
            }
        }
        if let Some(m) = &mailer {
            let outcome = rt.block_on(m.test_connection());
            r.check("smtp connection", outcome, |pipelining| {
                let how = if *pipelining { "pipelining" } else { "no PIPELINING: one command at a time" };
                format!("{}:{} accepted us ({how})", config.smtp.host, config.smtp.port)
            });
        }
    }
    if r.failures > 0 {
        return Err(Exit { code: exit::CONFIG, message: format!("{} check(s) failed", r.failures) }.into());
    }
    println!("all checks passed");
    Ok(ExitCode::SUCCESS)
}

fn describe_templates(t: &Templates, config: &Config) -> String {
    let files: Vec<String> = t
        .origins()
        .iter()
        .map(|(name, origin)| match origin {
            Origin::BuiltIn => format!("{name} (built-in)"),
            Origin::File(_) => name.to_string(),
        })
        .collect();
    let languages: Vec<String> = t.languages().iter().map(|l| format!("{l} ({})", l.native_name())).collect();
    format!(
        "{}: {}; researchers are answered in {}",
        config.templates.dir.display(),
        files.join(", "),
        languages.join(", ")
    )
}

fn check_store(r: &mut Report, config: &Config) {
    let path = &config.store.path;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if path.exists() {
        r.check("store", crate::store::Store::open(path).and_then(|s| s.schema_version()), |v| {
            format!("{} (schema version {v})", path.display())
        });
    } else if dir.is_dir() {
        let probe = dir.join(".vdpd-check");
        let writable = std::fs::write(&probe, b"").and_then(|()| std::fs::remove_file(&probe));
        r.check("store", writable, |()| format!("{} will be created", path.display()));
    } else {
        r.fail("store", format!("directory {} does not exist", dir.display()));
    }
}

/// The promises, the calendar they are kept in, and who hears when one breaks.
fn check_policy(r: &mut Report, config: &Config) {
    let sla = &config.sla;
    let mut promises = vec![format!("acknowledge within {}", sla.acknowledge)];
    if let Some(d) = sla.first_diagnosis {
        let pause = match (sla.pause_diagnosis_while_waiting, sla.diagnosis_waits_for.is_empty()) {
            (false, _) => " from receipt".to_string(),
            (true, true) => " from receipt, paused while staff wait on an answer (#waiting)".to_string(),
            (true, false) => format!(
                " from receipt, paused until the report has {} and while staff wait on an answer (#waiting)",
                sla.diagnosis_waits_for.join(", ")
            ),
        };
        promises.push(format!("first diagnosis within {d}{pause}"));
    }
    if !sla.fix.is_empty() {
        let fix: Vec<String> = sla.fix.iter().map(|(s, d)| format!("{} {d}", s.as_str())).collect();
        promises.push(format!("fix within {}", fix.join(", ")));
    }
    if let Some(d) = sla.disclosure {
        promises.push(format!("disclosure {d} after the report"));
    }
    if let Some(d) = sla.status_updates {
        promises.push(format!("a status mail at least every {d} until the fix"));
    }
    if let Some(d) = sla.status_enquiry_interval {
        promises.push(format!("status enquiries answered at most every {d}"));
    }
    r.ok("promises", promises.join("; "));
    if config.cra.enabled {
        let states: Vec<String> = config
            .products
            .iter()
            .filter(|p| !p.member_states.is_empty())
            .map(|p| format!("{} in {}", p.id, p.member_states.join(" ")))
            .collect();
        let reminders: Vec<String> = config.cra.reminders.iter().map(ToString::to_string).collect();
        r.ok(
            "cra",
            format!(
                "Article 14(2) filings for exploited vulnerabilities (24 h, 72 h, 14 days), coordinator {}; reminders \
                 {} before, at any hour; products: {}",
                config.cra.csirt,
                if reminders.is_empty() { "none".to_string() } else { reminders.join(", ") },
                states.join("; ")
            ),
        );
    }

    let cal = &config.calendar;
    const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
    let days: Vec<&str> = DAYS.iter().zip(cal.working_days).filter(|(_, w)| *w).map(|(d, _)| *d).collect();
    let hours = cal.working_hours.map_or("staff mail at any hour".to_string(), |(a, b)| {
        format!("staff mail {}-{}", a.strftime("%H:%M"), b.strftime("%H:%M"))
    });
    let today = cal.date_of(jiff::Timestamp::now().as_millisecond());
    let one_off: Vec<jiff::civil::Date> = cal
        .holidays
        .iter()
        .filter_map(|h| match h {
            crate::config::Holiday::Date(d) => Some(*d),
            crate::config::Holiday::Yearly { .. } => None,
        })
        .collect();
    r.ok(
        "calendar",
        format!(
            "{}; working days {}; {hours}; {} public holiday(s)",
            cal.zone_name,
            days.join(" "),
            cal.holidays.len()
        ),
    );
    if !one_off.is_empty() && one_off.iter().all(|d| *d < today) {
        r.warn("calendar", "every dated public holiday is in the past: add the coming year's (calendar.holidays)");
    }
    if !config.sla.reminders.is_empty() || !config.sla.disclosure_reminders.is_empty() {
        let mut all: Vec<String> = config.sla.reminders.iter().map(|d| format!("{d} before each deadline")).collect();
        all.extend(config.sla.disclosure_reminders.iter().map(|d| format!("{d} before disclosure")));
        r.ok("reminders", all.join(", "));
    }
    if config.staff.members.is_empty() {
        r.warn("staff", "no [[staff.members]]: nobody is told of new reports (they are only in `vdpd tickets`)");
    }
    // How staff prove themselves, in words an admin can check against the README's trust model.
    let age = crate::engine::staff::span(config.staff.max_signature_age_ms);
    match &config.staff.authentication {
        crate::config::StaffAuth::OpenPgp => r.ok(
            "staff proof",
            format!("the member's OpenPGP signature over the signed content, made within {age} and used once"),
        ),
        crate::config::StaffAuth::Dkim { authserv_id } => {
            let weak: Vec<&str> = config
                .staff
                .members
                .iter()
                .filter(|m| m.dkim_proof == crate::config::DkimProof::Domain)
                .map(|m| m.address.as_str())
                .collect();
            r.ok("staff proof", format!("DKIM, as the one Authentication-Results header of {authserv_id} records it"));
            if !weak.is_empty() {
                r.warn(
                    "staff proof",
                    format!(
                        "{}: a DKIM pass for the domain is all it takes (anyone who can send as the domain can act as \
                         them); set dkim_proof = \"smtp.auth\" or \"header.i\"",
                        weak.join(", ")
                    ),
                );
            }
        }
    }
    let escalation = if config.staff.escalation.is_empty() {
        "every staff member".to_string()
    } else {
        config.staff.escalation.join(", ")
    };
    if config.staff.escalation.is_empty() && config.staff.members.is_empty() {
        r.warn("escalation", "no staff and no [staff] escalation: a broken promise is only logged");
    } else {
        r.ok("escalation", format!("broken promises go to {escalation}"));
    }
    match config.retention.after_resolution {
        Some(d) => r.ok(
            "retention",
            format!(
                "report content purged {d} after resolution{}",
                if config.retention.receipt { ", the researcher gets a receipt" } else { "" }
            ),
        ),
        None => r.ok("retention", "report content kept until an admin deletes it ([retention] after_resolution)"),
    }
    let hof = match (&config.recognition.hall_of_fame, &config.recognition.page) {
        (true, Some(page)) => format!("hall of fame at {page}, with the researcher's consent"),
        (true, None) => "hall of fame, with the researcher's consent".into(),
        (false, _) => "no public credit".into(),
    };
    r.ok("recognition", hof);
}

/// Keys warn this long before they expire.
const EXPIRY_WARNING: Duration = Duration::from_secs(30 * 86_400);

fn check_openpgp(r: &mut Report, config: &Config) {
    let now = SystemTime::now();
    let Some(o) = &config.openpgp else {
        r.ok("openpgp", "not configured: mail is neither decrypted nor encrypted, and no key is offered");
        for m in &config.staff.members {
            r.warn(&format!("staff {}", m.address), "no [openpgp] section: report content reaches staff unencrypted");
        }
        return;
    };
    match keys::load(&o.key, &config.organisation.security_address) {
        Ok(key) => {
            let info = key.info(now);
            let expires = info
                .expires_at
                .map_or("never expires".to_string(), |t| format!("expires {}", crate::clock::format_ms(t)));
            r.ok(
                "openpgp key",
                format!(
                    "{} ({expires}); signing subkeys: {}; encryption subkeys: {}",
                    info.fingerprint,
                    info.signing_keys.join(", "),
                    info.encryption_keys.join(", ")
                ),
            );
            let soon = jiff::Timestamp::try_from(now + EXPIRY_WARNING).map(|t| t.as_millisecond()).unwrap_or(i64::MAX);
            if let Some(t) = info.expires_at
                && t < soon
            {
                r.warn(
                    "openpgp key expiry",
                    format!(
                        "the key expires {}: extend it (gpg --quick-set-expire, then `vdpd key import --force`) or replace it (`vdpd key generate --force`) and publish the new one",
                        crate::clock::format_ms(t)
                    ),
                );
            }
            if !crate::openpgp::has_address(key.public(), &config.organisation.security_address) {
                r.warn(
                    "openpgp key",
                    format!(
                        "no user ID carries {}; mail clients find keys by address",
                        config.organisation.security_address
                    ),
                );
            }
        }
        Err(e) => r.fail("openpgp key", e),
    }
    r.ok(
        "researcher keys",
        match &o.learn_keys {
            crate::config::LearnKeys::FirstUse => {
                "the first key offered is learned (staff are told); a new one only from inside content signed by the old"
                    .to_string()
            }
            crate::config::LearnKeys::DmarcAligned { authserv_id } => format!(
                "a first key only from mail that passed DMARC at {authserv_id}; a new one only from inside content signed \
                 by the old"
            ),
        },
    );
    let required = o.staff_encryption == crate::config::StaffEncryption::Required;
    for m in &config.staff.members {
        let what = format!("staff {}", m.address);
        match &m.cert {
            Some(path) => match keys::read_cert(path) {
                Ok(cert) => match keys::check_staff_cert(&cert, &m.address, now) {
                    Ok(info) => r.ok(&what, format!("certificate {} can encrypt and sign", info.fingerprint)),
                    Err(why) => r.fail(&what, format!("{}: {why}", path.display())),
                },
                Err(e) => r.fail(&what, e),
            },
            None if required => r.fail(&what, "no certificate, but openpgp.staff_encryption = \"required\""),
            None => r.warn(&what, "no certificate: report content reaches this member unencrypted"),
        }
    }
}

fn source_name(p: &PasswordSource) -> String {
    match p {
        PasswordSource::Env(v) => format!("read from ${v}"),
        PasswordSource::File { name, .. } => format!("read from {}", name.display()),
    }
}

fn yes(b: bool) -> &'static str {
    if b { "yes" } else { "no" }
}

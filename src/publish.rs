//! The public artefacts of a disclosure programme, from the same policy: `security.txt` (RFC 9116) and the
//! hall of fame. Pure: the commands read the store and the key and write the files.

use serde::Serialize;

use crate::config::{Config, Unit};
use crate::store::tickets::TicketRow;
use vdpd_core::lang::Lang;

/// The text of a security.txt (unsigned). `languages`: those the desk has templates in (its own first), the
/// `Preferred-Languages` unless the policy names them. `fingerprint`: the organisation key's, for the default
/// `Encryption` field. `now`: when it is written (its `Expires` counts from here).
pub fn security_txt(config: &Config, languages: &[Lang], fingerprint: Option<&str>, now: i64) -> String {
    let st = &config.security_txt;
    let org = &config.organisation;
    // Expires: the policy's period, on the calendar; RFC 9116 wants an RFC 3339 instant.
    let expires = match st.expires.unit {
        Unit::BusinessDays | Unit::Days | Unit::Weeks | Unit::Months | Unit::Years => {
            config.calendar.add(now, st.expires)
        }
        _ => now.saturating_add(st.expires.exact().map_or(0, |d| d.as_millis() as i64)),
    };
    let expires = jiff::Timestamp::from_millisecond(expires).map(|t| t.round(jiff::Unit::Second).unwrap_or(t));
    let mut lines = vec![
        format!("# security.txt of {} (RFC 9116), written by vdpd.", org.name),
        format!("# Reports go to {}; they are acknowledged within {}.", org.security_address, config.sla.acknowledge),
        format!("Contact: mailto:{}", org.security_address),
    ];
    lines.extend(st.contacts.iter().map(|c| format!("Contact: {c}")));
    if let Ok(t) = expires {
        lines.push(format!("Expires: {}", t.strftime("%Y-%m-%dT%H:%M:%SZ")));
    }
    match (&st.encryption, fingerprint) {
        (Some(e), _) => lines.push(format!("Encryption: {e}")),
        (None, Some(fpr)) => lines.push(format!("Encryption: openpgp4fpr:{}", fpr.to_ascii_lowercase())),
        (None, None) => {}
    }
    if config.recognition.hall_of_fame
        && let Some(page) = &config.recognition.page
    {
        lines.push(format!("Acknowledgments: {page}"));
    }
    if let Some(p) = &org.policy_url {
        lines.push(format!("Policy: {p}"));
    }
    // The languages researchers are answered in: those there are templates for, unless the policy says.
    let languages = if !st.preferred_languages.is_empty() {
        st.preferred_languages.join(", ")
    } else if languages.is_empty() {
        "en".to_string()
    } else {
        languages.iter().map(Lang::as_str).collect::<Vec<_>>().join(", ")
    };
    lines.push(format!("Preferred-Languages: {languages}"));
    // Where RFC 9116 puts the file, unless the policy says where it is published.
    if st.canonical.is_empty() {
        lines.push(format!("Canonical: https://{}/.well-known/security.txt", org.domain));
    }
    lines.extend(st.canonical.iter().map(|c| format!("Canonical: {c}")));
    lines.extend(st.csaf.iter().map(|c| format!("CSAF: {c}")));
    if let Some(h) = &st.hiring {
        lines.push(format!("Hiring: {h}"));
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// Why the file the daemon keeps must be written again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Renewal {
    /// There is none yet.
    Missing,
    /// It has no `Expires` we can read.
    Unreadable,
    /// Its `Expires` has passed.
    Expired { at: i64 },
    /// Its `Expires` is within `renew_before`.
    ExpiresSoon { at: i64 },
    /// The policy now says something else (a contact, a language, the key), or it is to be signed and is not.
    Changed,
}

impl std::fmt::Display for Renewal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let when = |t: i64| crate::clock::format_ms(t);
        match self {
            Renewal::Missing => f.write_str("there was none"),
            Renewal::Unreadable => f.write_str("it had no Expires field that could be read"),
            Renewal::Expired { at } => write!(f, "it expired at {}", when(*at)),
            Renewal::ExpiresSoon { at } => write!(f, "it expires at {}", when(*at)),
            Renewal::Changed => f.write_str("the policy says something else now"),
        }
    }
}

/// The body of a security.txt, signed (the clear-signed text, dash-escaping undone) or not.
fn body_of(text: &str) -> String {
    if !text.starts_with("-----BEGIN PGP SIGNED MESSAGE-----") {
        return text.to_string();
    }
    text.lines()
        .skip_while(|l| !l.is_empty())
        .skip(1)
        .take_while(|l| !l.starts_with("-----BEGIN PGP SIGNATURE-----"))
        .map(|l| l.strip_prefix("- ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `Expires` of a security.txt (signed or not), in milliseconds.
pub fn expires_of(text: &str) -> Option<i64> {
    let body = body_of(text);
    let value = body.lines().find_map(|l| l.strip_prefix("Expires:"))?;
    value.trim().parse::<jiff::Timestamp>().ok().map(|t| t.as_millisecond())
}

/// Its fields but `Expires`, in order: what the policy decides.
fn fields_but_expires(text: &str) -> Vec<String> {
    body_of(text)
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty() && !l.starts_with("Expires:"))
        .map(|l| l.trim_end().to_string())
        .collect()
}

/// Whether the file `existing` (`None`: there is none) must be written again, given what the policy would
/// write now (`fresh`, unsigned), whether it is to be signed, and when renewal is due before `Expires`
/// (`renew_at(expires)`).
pub fn renewal_needed(
    existing: Option<&str>,
    fresh: &str,
    signed: bool,
    now: i64,
    renew_at: impl Fn(i64) -> i64,
) -> Option<Renewal> {
    let Some(existing) = existing else { return Some(Renewal::Missing) };
    let Some(expires) = expires_of(existing) else { return Some(Renewal::Unreadable) };
    if now >= expires {
        return Some(Renewal::Expired { at: expires });
    }
    if now >= renew_at(expires) {
        return Some(Renewal::ExpiresSoon { at: expires });
    }
    let is_signed = existing.starts_with("-----BEGIN PGP SIGNED MESSAGE-----");
    if is_signed != signed || fields_but_expires(existing) != fields_but_expires(fresh) {
        return Some(Renewal::Changed);
    }
    None
}

/// One researcher on the hall of fame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Credit {
    /// How they asked to be credited, without the link.
    pub name: String,
    /// Their link, if the credit carried one (http or https only).
    pub link: Option<String>,
    /// When the flaw they reported was fixed: "2026-12".
    pub month: String,
}

/// What the hall-of-fame templates get.
#[derive(Debug, Clone, Serialize)]
pub struct HallOfFame {
    pub organisation: String,
    pub policy_url: Option<String>,
    pub credits: Vec<Credit>,
}

/// Splits "Ada Lovelace (https://ada.example)" into the name and the link.
pub fn parse_credit(credit: &str) -> (String, Option<String>) {
    let words: Vec<&str> = credit.split_whitespace().collect();
    let is_link = |w: &str| {
        let w = w.trim_matches(|c| matches!(c, '(' | ')' | '<' | '>' | ','));
        (w.starts_with("https://") || w.starts_with("http://")) && w.len() > 8
    };
    let link = words
        .iter()
        .find(|w| is_link(w))
        .map(|w| w.trim_matches(|c| matches!(c, '(' | ')' | '<' | '>' | ',')).to_string());
    let name: Vec<&str> = words.iter().copied().filter(|w| !is_link(w)).collect();
    let name = name.join(" ").trim_matches(|c: char| c == '-' || c == ',' || c.is_whitespace()).to_string();
    match (name.is_empty(), link) {
        (true, Some(l)) => (l.clone(), Some(l)),
        (_, link) => (name, link),
    }
}

/// The researchers to credit, oldest fix first: tickets resolved, with a credit staff confirmed (which needs
/// the researcher's consent), and not erased.
pub fn hall_of_fame(config: &Config, tickets: &[TicketRow]) -> HallOfFame {
    let mut fixed: Vec<&TicketRow> = tickets
        .iter()
        .filter(|t| t.resolved_at.is_some() && t.erased_at.is_none())
        .filter(|t| t.credit.as_deref().is_some_and(|c| !c.trim().is_empty()))
        .collect();
    fixed.sort_by_key(|t| (t.resolved_at, t.id));
    let credits = fixed
        .into_iter()
        .map(|t| {
            let (name, link) = parse_credit(t.credit.as_deref().unwrap_or(""));
            let month = t.resolved_at.map(|at| config.calendar.show_date(at)).unwrap_or_default();
            Credit { name, link, month: month.get(..7).unwrap_or(&month).to_string() }
        })
        .collect();
    HallOfFame {
        organisation: config.organisation.name.clone(),
        policy_url: config.organisation.policy_url.clone(),
        credits,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// When the kept file must be written again: missing, unreadable, expired, within its renewal window,
    /// changed by the policy, or signed where it should not be (and the other way round) — and not otherwise.
    #[test]
    fn a_kept_security_txt_is_renewed_only_when_it_must_be() {
        let fresh = "# comment\nContact: mailto:s@x\nExpires: 2027-07-10T10:00:00Z\nPreferred-Languages: en\n";
        let day = 86_400_000;
        let expires = "2027-07-10T10:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond();
        let renew_at = |e: i64| e - 30 * day;
        let before = expires - 40 * day;
        let old = "Contact: mailto:s@x\nExpires: 2027-07-10T10:00:00Z\nPreferred-Languages: en\n";
        let signed = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nContact: mailto:s@x\n\
                      Expires: 2027-07-10T10:00:00Z\nPreferred-Languages: en\n-----BEGIN PGP SIGNATURE-----\nxx\n\
                      -----END PGP SIGNATURE-----\n";
        assert_eq!(expires_of(signed), Some(expires));
        assert_eq!(expires_of(old), Some(expires));
        let need =
            |existing: Option<&str>, signed: bool, now: i64| renewal_needed(existing, fresh, signed, now, renew_at);
        assert_eq!(need(None, false, before), Some(Renewal::Missing));
        assert_eq!(need(Some("Contact: mailto:s@x\n"), false, before), Some(Renewal::Unreadable));
        assert_eq!(need(Some(old), false, before), None, "a comment or another Expires is no change");
        assert_eq!(need(Some(signed), true, before), None);
        assert_eq!(need(Some(old), true, before), Some(Renewal::Changed), "to be signed");
        assert_eq!(need(Some(signed), false, before), Some(Renewal::Changed), "no longer signed");
        let other = old.replace("Preferred-Languages: en", "Preferred-Languages: en, nl");
        assert_eq!(need(Some(&other), false, before), Some(Renewal::Changed));
        assert_eq!(need(Some(old), false, expires - 29 * day), Some(Renewal::ExpiresSoon { at: expires }));
        assert_eq!(need(Some(old), false, expires), Some(Renewal::Expired { at: expires }));
    }

    fn config(extra: &str) -> Config {
        let text = format!(
            "[organisation]\nname = \"Example\"\nsecurity_address = \"security@example.test\"\nticket_prefix = \"EX\"\n\
             policy_url = \"https://example.test/policy\"\n\
             [smtp]\nhost = \"127.0.0.1\"\ntls = \"none\"\n[store]\npath = \"/tmp/x.sqlite\"\n[sla]\nacknowledge = \"24h\"\n{extra}"
        );
        crate::config::parse(&text, std::path::Path::new("/etc/vdpd/policy.toml")).unwrap()
    }

    #[test]
    fn security_txt_has_every_field_rfc_9116_knows() {
        let c = config(
            "[recognition]\nhall_of_fame = true\npage = \"https://example.test/thanks\"\n\
             [security_txt]\ncanonical = [\"https://example.test/.well-known/security.txt\"]\nexpires = \"6 months\"\n\
             preferred_languages = [\"en\", \"fr\"]\ncontacts = [\"https://example.test/report\"]\n",
        );
        let now = "2026-11-23T10:00:00Z".parse::<jiff::Timestamp>().unwrap().as_millisecond();
        let text = security_txt(&c, &[Lang::english()], Some("ABCDEF0123"), now);
        let fields: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
        assert_eq!(
            fields,
            [
                "Contact: mailto:security@example.test",
                "Contact: https://example.test/report",
                "Expires: 2027-05-23T10:00:00Z",
                "Encryption: openpgp4fpr:abcdef0123",
                "Acknowledgments: https://example.test/thanks",
                "Policy: https://example.test/policy",
                "Preferred-Languages: en, fr",
                "Canonical: https://example.test/.well-known/security.txt",
            ]
        );
    }

    /// Preferred-Languages follow from the templates present: the shipped ones are English and French.
    #[test]
    fn preferred_languages_are_the_templates_languages_unless_the_policy_names_them() {
        let c = config("");
        let templates = crate::render::Templates::load(std::path::Path::new("templates")).unwrap();
        let text = security_txt(&c, templates.languages(), None, 0);
        assert!(text.lines().any(|l| l == "Preferred-Languages: en, fr"), "{text}");
        let named = config("[security_txt]\npreferred_languages = [\"en\"]\n");
        let text = security_txt(&named, templates.languages(), None, 0);
        assert!(text.lines().any(|l| l == "Preferred-Languages: en"), "{text}");
    }

    #[test]
    fn security_txt_settings_are_checked() {
        let bad = "[organisation]\nname = \"E\"\nsecurity_address = \"s@e.test\"\nticket_prefix = \"EX\"\n[smtp]\nhost = \"127.0.0.1\"\ntls = \"none\"\n\
                   [store]\npath = \"/tmp/x\"\n[sla]\nacknowledge = \"24h\"\n\
                   [security_txt]\ncanonical = [\"http://e.test/security.txt\"]\nexpires = \"13 months\"\ncontacts = [\"call me\"]\n";
        let Err(crate::config::ConfigError::Invalid { problems }) =
            crate::config::parse(bad, std::path::Path::new("/etc/vdpd/policy.toml"))
        else {
            panic!("accepted")
        };
        let keys: Vec<&str> = problems.iter().map(|p| p.key.as_str()).collect();
        assert!(keys.contains(&"security_txt.canonical.0") && keys.contains(&"security_txt.contacts.0"), "{keys:?}");
        assert!(keys.iter().any(|k| k.starts_with("security_txt.expires")), "{keys:?}");
    }

    #[test]
    fn the_hall_of_fame_escapes_what_researchers_chose() {
        let templates = crate::render::Templates::load(std::path::Path::new("/nonexistent")).unwrap();
        let hof = HallOfFame {
            organisation: "Example".into(),
            policy_url: None,
            credits: vec![
                Credit {
                    name: "<script>x</script>".into(),
                    link: Some("https://a.example/?q=\"><b>".into()),
                    month: "2026-12".into(),
                },
                Credit { name: "[click](javascript:alert(1))".into(), link: None, month: "2027-01".into() },
            ],
        };
        let html = templates.render("hall_of_fame.html", &hof).unwrap();
        assert!(html.contains("&lt;script&gt;x&lt;&#x2f;script&gt;") && !html.contains("<script>"), "{html}");
        assert!(!html.contains("\"><b>"), "{html}");
        let md = templates.render("hall_of_fame.md", &hof).unwrap();
        assert!(md.contains("\\[click\\]\\(javascript:alert\\(1\\)\\)"), "{md}");
    }

    #[test]
    fn credits_split_name_and_link() {
        assert_eq!(
            parse_credit("Ada Lovelace (https://ada.example)"),
            ("Ada Lovelace".into(), Some("https://ada.example".into()))
        );
        assert_eq!(parse_credit("@ada"), ("@ada".into(), None));
        assert_eq!(
            parse_credit("https://ada.example/"),
            ("https://ada.example/".into(), Some("https://ada.example/".into()))
        );
        assert_eq!(parse_credit("Ada - javascript:alert(1)"), ("Ada - javascript:alert(1)".into(), None));
    }
}

//! Templates and outgoing messages.
//!
//! Mail bodies come from minijinja templates in the admin's `templates/` folder; a template absent there falls
//! back to the built-in copy of the one shipped in this repository, so an upgrade that adds a template never
//! leaves a deployment without it. Undefined variables are errors (strict mode), and `vdpd check` renders every
//! template with a sample context, so a typo is caught before it reaches a researcher.
//!
//! [`compose`] turns a planned mail's [`Headers`] and rendered body into the exact bytes that are stored in the
//! outbox and later sent: what is stored is what goes out. It runs after the transaction that queued the mail
//! has committed ([`crate::seal`]), because signing and encrypting are the dearest part of a mail.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use lettre::message::header::{ContentDisposition, ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, Message, MultiPart, SinglePart};
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::config::{Config, Organisation};
use crate::engine::Headers;
use crate::mailtext;
use crate::openpgp::Cert;
use crate::openpgp::keys::OrgKey;
pub use vdpd_core::mail::context::*;
use vdpd_core::mail::{Mail, Notice};

/// Every template vdpd uses, with its built-in text.
/// Every template vdpd uses, with its built-in text. Names starting with `_` are pieces that others include.
pub const BUILTIN: &[(&str, &str)] = &[
    ("acknowledgement.txt", include_str!("../templates/acknowledgement.txt")),
    ("report_form.txt", include_str!("../templates/report_form.txt")),
    ("form_missing.txt", include_str!("../templates/form_missing.txt")),
    ("undecryptable.txt", include_str!("../templates/undecryptable.txt")),
    ("public_key.txt", include_str!("../templates/public_key.txt")),
    ("staff_new_report.txt", include_str!("../templates/staff_new_report.txt")),
    ("staff_correspondence.txt", include_str!("../templates/staff_correspondence.txt")),
    ("staff_report_complete.txt", include_str!("../templates/staff_report_complete.txt")),
    ("staff_activity.txt", include_str!("../templates/staff_activity.txt")),
    ("staff_confirmation.txt", include_str!("../templates/staff_confirmation.txt")),
    ("staff_error.txt", include_str!("../templates/staff_error.txt")),
    ("staff_warning.txt", include_str!("../templates/staff_warning.txt")),
    ("staff_digest.txt", include_str!("../templates/staff_digest.txt")),
    ("admin_alert.txt", include_str!("../templates/admin_alert.txt")),
    ("to_researcher.txt", include_str!("../templates/to_researcher.txt")),
    ("outcome_duplicate.txt", include_str!("../templates/outcome_duplicate.txt")),
    ("outcome_not_applicable.txt", include_str!("../templates/outcome_not_applicable.txt")),
    ("outcome_informative.txt", include_str!("../templates/outcome_informative.txt")),
    ("outcome_bounty.txt", include_str!("../templates/outcome_bounty.txt")),
    ("outcome_paid.txt", include_str!("../templates/outcome_paid.txt")),
    ("outcome_resolved.txt", include_str!("../templates/outcome_resolved.txt")),
    ("outcome_disclose.txt", include_str!("../templates/outcome_disclose.txt")),
    ("outcome_credit.txt", include_str!("../templates/outcome_credit.txt")),
    ("status.txt", include_str!("../templates/status.txt")),
    ("status_throttled.txt", include_str!("../templates/status_throttled.txt")),
    ("staff_reminder.txt", include_str!("../templates/staff_reminder.txt")),
    ("escalation.txt", include_str!("../templates/escalation.txt")),
    ("disclosure_reminder.txt", include_str!("../templates/disclosure_reminder.txt")),
    ("retention_receipt.txt", include_str!("../templates/retention_receipt.txt")),
    ("erasure_receipt.txt", include_str!("../templates/erasure_receipt.txt")),
    ("_staff_ticket.txt", include_str!("../templates/_staff_ticket.txt")),
    ("_policy_terms.txt", include_str!("../templates/_policy_terms.txt")),
    ("_form_reading.txt", include_str!("../templates/_form_reading.txt")),
    ("hall_of_fame.html", include_str!("../templates/hall_of_fame.html")),
    ("hall_of_fame.md", include_str!("../templates/hall_of_fame.md")),
    ("_staff_help.txt", include_str!("../templates/_staff_help.txt")),
    ("_researcher_mail.txt", include_str!("../templates/_researcher_mail.txt")),
];

#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("template {name}: {source:#}")]
    Template { name: String, source: minijinja::Error },
    #[error("cannot read template {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot build message: {0}")]
    Message(String),
    #[error("cannot encrypt: {0}")]
    Encrypt(#[from] crate::openpgp::write::WriteError),
}

/// Where a template came from, for `vdpd check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    BuiltIn,
    File(PathBuf),
}

/// The compiled templates.
pub struct Templates {
    env: Environment<'static>,
    origins: Vec<(&'static str, Origin)>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").field("origins", &self.origins).finish()
    }
}

impl Templates {
    /// Loads and compiles every template, preferring `dir/<name>` over the built-in text.
    pub fn load(dir: &Path) -> Result<Templates, RenderError> {
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        // Markdown is not escaped by minijinja (HTML is, by the .html name): names researchers chose must not
        // turn into links or formatting.
        env.add_filter("mdescape", |s: String| -> String {
            s.chars()
                .flat_map(|c| {
                    let special = "\\`*_{}[]()<>#+-.!|~".contains(c);
                    special.then_some('\\').into_iter().chain(std::iter::once(c))
                })
                .filter(|c| *c != '\n' && *c != '\r')
                .collect()
        });
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .build()
                .expect("the default delimiters are valid"),
        );
        let mut origins = Vec::new();
        for &(name, builtin) in BUILTIN {
            let path = dir.join(name);
            let (source, origin) = match std::fs::read_to_string(&path) {
                Ok(text) => (text, Origin::File(path)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (builtin.to_string(), Origin::BuiltIn),
                Err(source) => return Err(RenderError::Read { path, source }),
            };
            env.add_template_owned(name, source)
                .map_err(|source| RenderError::Template { name: name.into(), source })?;
            origins.push((name, origin));
        }
        Ok(Templates { env, origins })
    }

    pub fn origins(&self) -> &[(&'static str, Origin)] {
        &self.origins
    }

    pub fn render<C: Serialize>(&self, name: &str, ctx: &C) -> Result<String, RenderError> {
        let err = |source| RenderError::Template { name: name.into(), source };
        self.env
            .get_template(name)
            .map_err(err)?
            .render(minijinja::Value::from(minijinja::value::Serde(ctx)))
            .map_err(err)
    }

    /// Renders every template with a sample context: what `vdpd check` and daemon start-up use to refuse a
    /// template that would fail on the first real mail.
    pub fn self_test(&self, config: &Config) -> Result<(), RenderError> {
        let bare = TicketContext::new(config, "EX-2026-0001", "Sample subject", "researcher@example.org", "Sam", 0);
        for (name, _) in &self.origins {
            if name.starts_with("hall_of_fame") {
                for credits in [
                    Vec::new(),
                    vec![
                        crate::publish::Credit {
                            name: "Ada <L.>".into(),
                            link: Some("https://ada.example/?a=1&b=2".into()),
                            month: "2026-12".into(),
                        },
                        crate::publish::Credit { name: "@bob_*x*".into(), link: None, month: "2027-01".into() },
                    ],
                ] {
                    let hof = crate::publish::HallOfFame {
                        organisation: config.organisation.name.clone(),
                        policy_url: config.organisation.policy_url.clone(),
                        credits,
                    };
                    self.render(name, &hof)?;
                }
            }
        }
        // Every mail and notice renders with the least its type guarantees (a bare context) and with
        // everything a context can carry.
        for base in [bare, TicketContext::sample(config)] {
            for mail in Mail::samples(&base) {
                let mut ctx = base.clone();
                mail.fill(&mut ctx);
                self.render(mail.template(), &ctx)?;
            }
            for notice in Notice::samples(&base) {
                let mut ctx = base.clone();
                notice.fill(&mut ctx);
                self.render(notice.template(), &ctx)?;
            }
        }
        Ok(())
    }
}

/// A fresh Message-ID in our domain: `<ref.random@domain>`; the reference makes our own mail easy to find in
/// logs, the random part makes it unguessable.
pub fn new_message_id(reference: Option<&str>, domain: &str) -> String {
    let mut bytes = [0u8; 12];
    // SystemRandom only fails if the OS has no randomness at all; then a time-based value still keeps IDs
    // unique within this process.
    if ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).is_err() {
        let nanos = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
        bytes.copy_from_slice(&nanos.to_le_bytes()[..12]);
    }
    let random: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    match reference {
        Some(r) => format!("<{}.{random}@{domain}>", r.to_ascii_lowercase()),
        None => format!("<{random}@{domain}>"),
    }
}

/// Who a composed mail goes to and what OpenPGP does to it.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    /// Who the mail is addressed to, (address, display name): one researcher, or several members of the desk's
    /// own team, who then get one message addressed to them all (composed, signed and encrypted once).
    pub to: &'a [(&'a str, &'a str)],
    /// Attach this public certificate (`application/pgp-keys`).
    pub attach_key: Option<&'a crate::openpgp::keys::OrgKey>,
    /// The `Autocrypt:` header value, if we offer our key.
    pub autocrypt: Option<&'a str>,
    /// Sign with the organisation key and encrypt to these certificates, one per addressee (PGP/MIME,
    /// RFC 3156): one encrypted payload that each of them (and the organisation key) can open.
    pub encrypt: Option<(&'a [&'a Cert], &'a OrgKey)>,
    /// A `Reply-To:` (staff notifications: answers go to the security address, threaded by `[REF]`).
    pub reply_to: Option<&'a str>,
    /// Files to attach (researchers' attachments forwarded to staff).
    pub files: &'a [OutFile],
}

/// A file attached to an outgoing mail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OutFile {
    pub name: String,
    pub content_type: String,
    /// Kept as base64 while the mail waits to be sealed (see [`crate::seal`]).
    #[serde(with = "base64_bytes")]
    pub data: Vec<u8>,
}

mod base64_bytes {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    pub fn serialize<S: serde::Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = <String as serde::Deserialize>::deserialize(d)?;
        STANDARD.decode(text).map_err(serde::de::Error::custom)
    }
}

/// Builds the final RFC 5322 bytes of a planned mail.
pub fn compose(
    plan: &Headers,
    body: &str,
    org: &Organisation,
    message_id: &str,
    date: jiff::Timestamp,
    envelope: &Envelope<'_>,
) -> Result<Vec<u8>, RenderError> {
    let bad = |e: &dyn std::fmt::Display| RenderError::Message(e.to_string());
    let from = Mailbox::new(
        Some(mailtext::clean_header_text(&org.name, mailtext::MAX_NAME_CHARS)),
        org.security_address.parse().map_err(|e| bad(&e))?,
    );
    let system_date = SystemTime::try_from(date).map_err(|e| bad(&e))?;
    let subject = mailtext::clean_header_text(&plan.subject, 2 * mailtext::MAX_SUBJECT_CHARS);
    // Encrypted mail shows only the reference outside (RFC 9788 header protection); the Subject itself is
    // set below, once we know which.
    let mut builder = Message::builder().from(from).message_id(Some(message_id.to_string())).date(system_date);
    for (address, name) in envelope.to {
        let name = mailtext::clean_header_text(name, mailtext::MAX_NAME_CHARS);
        builder = builder.to(Mailbox::new((!name.is_empty()).then_some(name), address.parse().map_err(|e| bad(&e))?));
    }
    if let Some(id) = &plan.in_reply_to {
        builder = builder.in_reply_to(id.clone());
    }
    if !plan.references.is_empty() {
        builder = builder.references(plan.references.join(" "));
    }
    let auto = match plan.auto {
        crate::engine::Auto::Replied => Some("auto-replied"),
        crate::engine::Auto::Generated => Some("auto-generated"),
        crate::engine::Auto::No => None,
    };
    if let Some(auto) = auto {
        builder = builder
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Auto-Submitted"), auto.into()))
            // Asks Exchange and Outlook not to answer our automatic mail with theirs.
            .raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("X-Auto-Response-Suppress"), "All".into()));
    }
    if let Some(value) = envelope.autocrypt {
        builder = builder.raw_header(HeaderValue::new(HeaderName::new_from_ascii_str("Autocrypt"), value.to_string()));
    }

    if let Some(reply_to) = envelope.reply_to {
        builder = builder.reply_to(reply_to.parse().map_err(|e| bad(&e))?);
    }
    let text = SinglePart::plain(body.to_string());
    let mut parts: Vec<SinglePart> = Vec::new();
    for f in envelope.files {
        let ct = ContentType::parse(&f.content_type)
            .or_else(|_| ContentType::parse("application/octet-stream"))
            .map_err(|e| bad(&e))?;
        parts.push(Attachment::new(f.name.clone()).body(f.data.clone(), ct));
    }
    if let Some(key) = envelope.attach_key {
        let name = format!("OpenPGP_0x{}.asc", key.public().keyid().to_hex());
        parts.push(Attachment::new(name).body(
            String::from_utf8_lossy(key.public_armored()).into_owned(),
            ContentType::parse("application/pgp-keys").map_err(|e| bad(&e))?,
        ));
    }
    let content = if parts.is_empty() {
        Content::Single(text)
    } else {
        Content::Multi(parts.into_iter().fold(MultiPart::mixed().singlepart(text), |m, p| m.singlepart(p)))
    };
    let message = match envelope.encrypt {
        Some((recipients, key)) => {
            // The real header fields, encoded exactly as the clear-text mail would carry them, go inside.
            let clear = match &content {
                Content::Single(p) => builder.clone().subject(subject.clone()).singlepart(p.clone()),
                Content::Multi(m) => builder.clone().subject(subject.clone()).multipart(m.clone()),
            }
            .map_err(|e| bad(&e))?
            .formatted();
            let outer_subject = match mailtext::find_reference_tags(&subject, &org.ticket_prefix).first() {
                Some(reference) => format!("[{reference}]"),
                None => "[...]".to_string(),
            };
            let entity = match &content {
                Content::Single(p) => p.formatted(),
                Content::Multi(m) => m.formatted(),
            };
            let entity = protect_headers(&entity, &clear, &outer_subject);
            builder = builder.subject(outer_subject);
            let armoured = crate::openpgp::write::sign_and_encrypt(&entity, recipients, key, system_date)?;
            let version = SinglePart::builder()
                .header(ContentType::parse("application/pgp-encrypted").map_err(|e| bad(&e))?)
                .body(String::from("Version: 1\r\n"));
            let payload = SinglePart::builder()
                .header(ContentType::parse("application/octet-stream; name=\"encrypted.asc\"").map_err(|e| bad(&e))?)
                .header(ContentDisposition::inline_with_name("encrypted.asc"))
                .body(String::from_utf8_lossy(&armoured).into_owned());
            let outer =
                MultiPart::encrypted("application/pgp-encrypted".into()).singlepart(version).singlepart(payload);
            builder.multipart(outer)
        }
        None => match content {
            Content::Single(p) => builder.subject(subject).singlepart(p),
            Content::Multi(m) => builder.subject(subject).multipart(m),
        },
    }
    .map_err(|e| bad(&e))?;
    Ok(message.formatted())
}

/// The header fields that travel inside the encryption (RFC 9788 §2: the Cryptographic Payload carries the
/// message's real header fields; the outer copies are for transport and threading).
const PROTECTED_HEADERS: [&str; 8] =
    ["From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Reply-To"];

/// Puts the protected header fields of `clear` (the mail as it would go in clear text) at the top of the
/// cryptographic payload `entity`, marks it as carrying them (`hp="cipher"`, RFC 9788, and the older
/// `protected-headers="v1"` Thunderbird and Delta Chat read), and records what the outside says
/// (`HP-Outer`): only the Subject differs, obscured to the ticket reference.
fn protect_headers(entity: &[u8], clear: &[u8], outer_subject: &str) -> Vec<u8> {
    let fields = |bytes: &[u8]| -> Vec<String> {
        let text = String::from_utf8_lossy(bytes);
        let head = text.split("\r\n\r\n").next().unwrap_or("").to_string();
        let mut out: Vec<String> = Vec::new();
        for line in head.split("\r\n") {
            match out.last_mut() {
                Some(last) if line.starts_with([' ', '\t']) => {
                    last.push_str("\r\n");
                    last.push_str(line);
                }
                _ => out.push(line.to_string()),
            }
        }
        out
    };
    let name_of = |field: &str| field.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
    let protected: Vec<String> = fields(clear)
        .into_iter()
        .filter(|f| PROTECTED_HEADERS.iter().any(|p| p.eq_ignore_ascii_case(&name_of(f))))
        .collect();
    let mut head = String::new();
    for field in &protected {
        head.push_str(field);
        head.push_str("\r\n");
    }
    for field in &protected {
        let outer = if name_of(field) == "subject" { format!("Subject: {outer_subject}") } else { field.clone() };
        head.push_str("HP-Outer: ");
        head.push_str(&outer);
        head.push_str("\r\n");
    }
    let split = entity.windows(4).position(|w| w == b"\r\n\r\n").unwrap_or(entity.len());
    for field in fields(&entity[..split]) {
        if name_of(&field) == "content-type" {
            head.push_str(&field);
            head.push_str("; hp=\"cipher\"; protected-headers=\"v1\"\r\n");
        } else if !field.is_empty() {
            head.push_str(&field);
            head.push_str("\r\n");
        }
    }
    let mut out = head.into_bytes();
    out.extend_from_slice(&entity[split..]);
    out
}

enum Content {
    Single(SinglePart),
    Multi(MultiPart),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan() -> crate::engine::MailPlan {
        crate::engine::MailPlan {
            mail: Mail::Acknowledgement { form: None },
            subject: "[EX-2026-0001] Re: Ünïcode\r\nBcc: evil@x.test".into(),
            in_reply_to: Some("<r1@research.test>".into()),
            references: vec!["<r0@research.test>".into(), "<r1@research.test>".into()],
            auto: crate::engine::Auto::Replied,
            reply_to_desk: false,
        }
    }

    /// The researcher, with a name that tries header injection.
    const TO: [(&str, &str); 1] = [("alice@research.test", "Alice\r\nBcc: evil@x.test")];

    fn plain<'a>(to: &'a [(&'a str, &'a str)]) -> Envelope<'a> {
        Envelope { to, attach_key: None, autocrypt: None, encrypt: None, reply_to: None, files: &[] }
    }

    fn org() -> Organisation {
        Organisation {
            name: "Example".into(),
            security_address: "security@example.test".into(),
            domain: "example.test".into(),
            ticket_prefix: "EX".into(),
            policy_url: None,
            trusted_authserv_id: None,
        }
    }

    #[test]
    fn composed_mail_has_threading_and_rfc3834_headers_and_no_injection() {
        let plan = plan();
        let raw = compose(
            &plan.headers(),
            "Hello\nthere\n",
            &org(),
            "<ex-1.abc@example.test>",
            "2026-11-23T10:00:00Z".parse().unwrap(),
            &plain(&TO),
        )
        .unwrap();
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.message_id(), Some("ex-1.abc@example.test"));
        assert_eq!(parsed.in_reply_to().as_text(), Some("r1@research.test"));
        assert_eq!(parsed.header_raw("Auto-Submitted").map(str::trim), Some("auto-replied"));
        assert_eq!(parsed.subject(), Some("[EX-2026-0001] Re: Ünïcode Bcc: evil@x.test"));
        assert!(parsed.header_raw("Bcc").is_none());
        let text = String::from_utf8_lossy(&raw);
        let header = &text[..text.find("\r\n\r\n").unwrap()];
        assert!(!header.lines().any(|l| l.starts_with("Bcc")), "{header}");
        assert!(header.lines().all(|l| l.len() <= 998));
        assert_eq!(parsed.body_text(0).unwrap().replace("\r\n", "\n").trim_end(), "Hello\nthere");
    }

    #[test]
    fn long_non_ascii_subjects_and_names_are_encoded_and_folded() {
        let mut plan = plan();
        let subject = format!("[EX-2026-0001] Re: {}", "Ünïcödé wörds ".repeat(14).trim_end());
        plan.subject = subject.clone();
        let name = "Ä".repeat(90);
        let to = [("alice@research.test", name.as_str())];
        let raw =
            compose(&plan.headers(), "x", &org(), "<a@b.c>", "2026-11-23T10:00:00Z".parse().unwrap(), &plain(&to))
                .unwrap();
        let text = String::from_utf8(raw.clone()).unwrap();
        let header = &text[..text.find("\r\n\r\n").unwrap()];
        assert!(header.is_ascii(), "RFC 2047-encoded");
        assert!(header.lines().all(|l| l.len() <= 78), "folded:\n{header}");
        let parsed = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(parsed.subject(), Some(subject.as_str()));
        assert_eq!(parsed.to().unwrap().first().unwrap().name(), Some("Ä".repeat(90).as_str()));
    }

    #[test]
    fn every_shipped_template_renders_in_bare_and_full_contexts() {
        let config =
            crate::config::parse(include_str!("../policy.toml"), std::path::Path::new("/etc/vdpd/policy.toml"))
                .unwrap();
        let templates = Templates::load(std::path::Path::new("templates")).unwrap();
        assert!(
            templates.origins().iter().all(|(_, o)| matches!(o, Origin::File(_))),
            "the shipped files are the built-ins"
        );
        templates.self_test(&config).unwrap();
        Templates::load(std::path::Path::new("/nonexistent")).unwrap().self_test(&config).unwrap();
    }

    /// Every template file is a mail's, a notice's, a piece others include (`_…`) or the hall of fame: the
    /// self-test renders mails and notices, so a template no mail names would go untested (and unused).
    #[test]
    fn every_builtin_template_belongs_to_a_mail_or_a_notice() {
        let mut files: Vec<&str> =
            BUILTIN.iter().map(|(n, _)| *n).filter(|n| !n.starts_with('_') && !n.starts_with("hall_of_fame")).collect();
        files.sort_unstable();
        assert_eq!(files, vdpd_core::mail::templates());
        let shipped: std::collections::BTreeSet<String> =
            std::fs::read_dir("templates").unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()).collect();
        let builtin: std::collections::BTreeSet<String> = BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(shipped, builtin, "templates/ and the built-in copies hold the same files");
    }

    /// A broken template is caught by the self-test whichever mail uses it.
    #[test]
    fn the_self_test_renders_every_mail_template() {
        let config =
            crate::config::parse(include_str!("../policy.toml"), std::path::Path::new("/etc/vdpd/policy.toml"))
                .unwrap();
        let dir = tempfile::tempdir().unwrap();
        for name in vdpd_core::mail::templates() {
            std::fs::write(dir.path().join(name), "{{ no_such_variable }}").unwrap();
            let templates = Templates::load(dir.path()).unwrap();
            let err = templates.self_test(&config).expect_err(name);
            assert!(err.to_string().contains(name), "{name}: {err}");
            std::fs::remove_file(dir.path().join(name)).unwrap();
        }
    }

    #[test]
    fn message_ids_are_unique_and_in_our_domain() {
        let a = new_message_id(Some("EX-2026-0001"), "example.test");
        let b = new_message_id(Some("EX-2026-0001"), "example.test");
        assert_ne!(a, b);
        assert!(a.starts_with("<ex-2026-0001.") && a.ends_with("@example.test>"), "{a}");
        assert!(mailtext::clean_message_id(&a).is_some());
    }

    #[test]
    fn encrypted_mail_shows_only_the_reference_outside_and_carries_its_real_headers_inside() {
        let key = OrgKey::generate("Sec <security@example.test>", None, std::time::SystemTime::now()).unwrap();
        let alice = OrgKey::generate("Alice <alice@research.test>", None, std::time::SystemTime::now()).unwrap();
        let mut plan = plan();
        plan.subject = "[EX-2026-0001] Re: Stored XSS in the admin panel".into();
        let to = TO;
        let certs = [alice.public()];
        let envelope = Envelope { encrypt: Some((&certs, &key)), ..plain(&to) };
        // The keys were made just now.
        let now = jiff::Timestamp::now();
        let raw = compose(&plan.headers(), "The details.\n", &org(), "<a@example.test>", now, &envelope).unwrap();
        let outer = mail_parser::MessageParser::default().parse(&raw).unwrap();
        assert_eq!(outer.subject(), Some("[EX-2026-0001]"), "the report's subject stays inside");
        assert_eq!(outer.in_reply_to().as_text(), Some("r1@research.test"), "threading still works outside");
        let armoured = String::from_utf8_lossy(&raw);
        let start = armoured.find("-----BEGIN PGP MESSAGE-----").unwrap();
        let end = armoured.find("-----END PGP MESSAGE-----").unwrap() + 25;
        let opened = crate::openpgp::read::decrypt(
            armoured[start..end].as_bytes(),
            Some(&alice),
            std::slice::from_ref(key.public()),
            &crate::openpgp::read::Limits { max_plaintext: 1 << 20, max_ratio: 100 },
            SystemTime::try_from(now).unwrap(),
        )
        .unwrap();
        let inner = mail_parser::MessageParser::default().parse(&opened.plaintext).unwrap();
        assert_eq!(inner.subject(), Some("[EX-2026-0001] Re: Stored XSS in the admin panel"));
        assert_eq!(inner.message_id(), Some("a@example.test"));
        let ct = mail_parser::MimeHeaders::content_type(inner.root_part()).unwrap();
        assert_eq!((ct.attribute("hp"), ct.attribute("protected-headers")), (Some("cipher"), Some("v1")));
        let head = String::from_utf8_lossy(&opened.plaintext);
        assert!(head.contains("HP-Outer: Subject: [EX-2026-0001]\r\n"), "{head}");
        assert!(inner.body_text(0).unwrap().contains("The details."));
    }
}

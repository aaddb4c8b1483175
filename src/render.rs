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
use vdpd_core::lang::Lang;
pub use vdpd_core::mail::context::*;
use vdpd_core::mail::{Mail, Notice};

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

/// The templates vdpd ships in other languages than English, as (language, name, text): every mail to a
/// researcher. A template absent from a language (every mail to staff, the policy's own words in
/// `_policy_terms.txt`) is the one at the top of `templates/`; an include from a translated template finds the
/// piece of its own language first.
pub const BUILTIN_TRANSLATIONS: &[(&str, &str, &str)] = &[
    ("fr", "acknowledgement.txt", include_str!("../templates/fr/acknowledgement.txt")),
    ("fr", "report_form.txt", include_str!("../templates/fr/report_form.txt")),
    ("fr", "form_missing.txt", include_str!("../templates/fr/form_missing.txt")),
    ("fr", "undecryptable.txt", include_str!("../templates/fr/undecryptable.txt")),
    ("fr", "public_key.txt", include_str!("../templates/fr/public_key.txt")),
    ("fr", "to_researcher.txt", include_str!("../templates/fr/to_researcher.txt")),
    ("fr", "outcome_duplicate.txt", include_str!("../templates/fr/outcome_duplicate.txt")),
    ("fr", "outcome_not_applicable.txt", include_str!("../templates/fr/outcome_not_applicable.txt")),
    ("fr", "outcome_informative.txt", include_str!("../templates/fr/outcome_informative.txt")),
    ("fr", "outcome_bounty.txt", include_str!("../templates/fr/outcome_bounty.txt")),
    ("fr", "outcome_paid.txt", include_str!("../templates/fr/outcome_paid.txt")),
    ("fr", "outcome_resolved.txt", include_str!("../templates/fr/outcome_resolved.txt")),
    ("fr", "outcome_disclose.txt", include_str!("../templates/fr/outcome_disclose.txt")),
    ("fr", "outcome_credit.txt", include_str!("../templates/fr/outcome_credit.txt")),
    ("fr", "status.txt", include_str!("../templates/fr/status.txt")),
    ("fr", "status_throttled.txt", include_str!("../templates/fr/status_throttled.txt")),
    ("fr", "disclosure_reminder.txt", include_str!("../templates/fr/disclosure_reminder.txt")),
    ("fr", "retention_receipt.txt", include_str!("../templates/fr/retention_receipt.txt")),
    ("fr", "erasure_receipt.txt", include_str!("../templates/fr/erasure_receipt.txt")),
    ("fr", "_form_reading.txt", include_str!("../templates/fr/_form_reading.txt")),
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
    #[error("templates.languages names {lang:?}, but there are no templates in it (neither {} nor built in)", dir.display())]
    NoSuchLanguage { lang: String, dir: PathBuf },
}

/// A mail's text as decided, not yet written: the template and the context it is rendered with, as the
/// template reads it. The transaction that queues a mail stores this ([`crate::seal::Composition`]); the
/// sealing pass renders it after the commit, so that the one writer of the store never waits on a template.
/// The context is kept as the template engine would read it (JSON's data model is serde's, which is what
/// minijinja reads), so rendering a draft gives exactly the text rendering the context would have.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Draft {
    /// The template's name, as [`Mail::template`] gives it.
    pub template: String,
    /// The context's JSON, kept as written (stored inside the composition without a second encoding, read
    /// back straight into the template engine's values).
    pub context: Box<serde_json::value::RawValue>,
    /// The ticket's reference, put in front of a subject the template names.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    /// The researcher notices that go into this mail's text (what staff decided, in the researcher's
    /// language): rendered first, each one's text the context's `notices` in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<Draft>,
}

impl PartialEq for Draft {
    fn eq(&self, other: &Draft) -> bool {
        self.template == other.template
            && self.context.get() == other.context.get()
            && self.reference == other.reference
            && self.notices == other.notices
    }
}

impl Eq for Draft {}

impl Draft {
    pub fn new<C: Serialize>(template: &str, ctx: &C, reference: Option<&str>) -> Result<Draft, RenderError> {
        let context = serde_json::to_string(ctx)
            .and_then(serde_json::value::RawValue::from_string)
            .map_err(|e| RenderError::Message(format!("context: {e}")))?;
        Ok(Draft {
            template: template.to_string(),
            context,
            reference: reference.map(str::to_string),
            notices: Vec::new(),
        })
    }
}

/// Where a template came from, for `vdpd check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    BuiltIn,
    File(PathBuf),
}

/// The compiled templates, in every language the desk answers in.
pub struct Templates {
    env: Environment<'static>,
    /// Every template by its name as rendered: `acknowledgement.txt`, `fr/acknowledgement.txt`.
    origins: Vec<(String, Origin)>,
    /// The language of the templates at the top (`templates.language`), then the others, sorted.
    languages: Vec<Lang>,
}

/// A rendered mail body, with the subject its template named (`{% set subject = "…" %}`), if it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub body: String,
    pub subject: Option<String>,
}

impl std::fmt::Debug for Templates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Templates").field("origins", &self.origins).field("languages", &self.languages).finish()
    }
}

impl Templates {
    /// Loads and compiles every template of `dir` and the built-in ones, English at the top and every other
    /// language there are templates for ([`Templates::load_for`] with the defaults).
    pub fn load(dir: &Path) -> Result<Templates, RenderError> {
        Templates::load_in(dir, &Lang::english(), None)
    }

    /// Loads the templates as the policy's `[templates]` says: its folder, the language at its top, the
    /// other languages it answers in.
    pub fn load_for(config: &crate::config::TemplatesConfig) -> Result<Templates, RenderError> {
        Templates::load_in(&config.dir, &config.language, config.languages.as_deref())
    }

    /// Loads and compiles every template, preferring `dir/<name>` over the built-in text, and for each other
    /// language `dir/<lang>/<name>` over its built-in translation. `wanted`: the other languages to answer in
    /// (each must have templates); `None`: every language with a folder in `dir` or built-in translations.
    fn load_in(dir: &Path, own: &Lang, wanted: Option<&[Lang]>) -> Result<Templates, RenderError> {
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
        let mut origins: Vec<(String, Origin)> = Vec::new();
        let mut add = |env: &mut Environment<'static>, name: String, path: PathBuf, builtin: Option<&str>| {
            let (source, origin) = match std::fs::read_to_string(&path) {
                Ok(text) => (text, Origin::File(path)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => match builtin {
                    Some(text) => (text.to_string(), Origin::BuiltIn),
                    None => return Ok(()),
                },
                Err(source) => return Err(RenderError::Read { path, source }),
            };
            env.add_template_owned(name.clone(), source)
                .map_err(|source| RenderError::Template { name: name.clone(), source })?;
            origins.push((name, origin));
            Ok(())
        };
        for &(name, builtin) in BUILTIN {
            add(&mut env, name.to_string(), dir.join(name), Some(builtin))?;
        }
        // The other languages: built in, and the folders of `dir` named as a language is (`fr`, not `FR`)
        // that hold a template.
        let mut found: Vec<Lang> = BUILTIN_TRANSLATIONS.iter().filter_map(|(l, _, _)| l.parse().ok()).collect();
        if let Ok(entries) = std::fs::read_dir(dir) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if entry.path().is_dir()
                    && let Ok(lang) = name.parse::<Lang>()
                    && lang.as_str() == name
                    && BUILTIN.iter().any(|(t, _)| entry.path().join(t).is_file())
                {
                    found.push(lang);
                }
            }
        }
        found.retain(|l| l != own);
        found.sort();
        found.dedup();
        let others: Vec<Lang> = match wanted {
            None => found,
            Some(list) => {
                if let Some(missing) = list.iter().find(|l| !found.contains(l)) {
                    return Err(RenderError::NoSuchLanguage {
                        lang: missing.to_string(),
                        dir: dir.join(missing.as_str()),
                    });
                }
                let mut list = list.to_vec();
                list.sort();
                list
            }
        };
        for lang in &others {
            for &(name, _) in BUILTIN {
                let builtin = BUILTIN_TRANSLATIONS
                    .iter()
                    .find(|(l, n, _)| *l == lang.as_str() && *n == name)
                    .map(|(_, _, text)| *text);
                add(&mut env, format!("{lang}/{name}"), dir.join(lang.as_str()).join(name), builtin)?;
            }
        }
        // `{% include "_form_reading.txt" %}` in `fr/acknowledgement.txt` is `fr/_form_reading.txt` when
        // there is one, else the piece at the top (the policy's own words stay in the policy's language).
        let names: std::collections::HashSet<String> = origins.iter().map(|(n, _)| n.clone()).collect();
        env.set_path_join_callback(move |name, parent| {
            if let Some((lang, _)) = parent.split_once('/') {
                let own = format!("{lang}/{name}");
                if names.contains(&own) {
                    return own.into();
                }
            }
            name.into()
        });
        let mut languages = vec![own.clone()];
        languages.extend(others);
        Ok(Templates { env, origins, languages })
    }

    pub fn origins(&self) -> &[(String, Origin)] {
        &self.origins
    }

    /// The languages researchers are answered in: the one at the top of `templates/` first. What
    /// security.txt's `Preferred-Languages` names, unless the policy says otherwise.
    pub fn languages(&self) -> &[Lang] {
        &self.languages
    }

    /// The language at the top of `templates/`: of every mail to staff, and to a researcher whose language the
    /// desk has no templates in.
    pub fn own_language(&self) -> &Lang {
        &self.languages[0]
    }

    /// `lang` if the desk answers in it, else its own language.
    pub fn answer_in(&self, lang: Option<&Lang>) -> &Lang {
        lang.and_then(|l| self.languages.iter().find(|x| *x == l)).unwrap_or(self.own_language())
    }

    pub fn render<C: Serialize>(&self, name: &str, ctx: &C) -> Result<String, RenderError> {
        self.render_in(self.own_language(), name, ctx).map(|r| r.body)
    }

    /// Renders template `name` in `lang`: `lang/name` where the desk has it, else the one at the top. The
    /// template may name its mail's subject (`{% set subject = "…" %}`): a translated status mail says
    /// "Statut de votre signalement" instead of the subject vdpd would write.
    pub fn render_in<C: Serialize>(&self, lang: &Lang, name: &str, ctx: &C) -> Result<Rendered, RenderError> {
        self.render_value(lang, name, minijinja::Value::from(minijinja::value::Serde(ctx)))
    }

    /// [`Templates::render_in`] with the context as the template engine holds it.
    fn render_value(&self, lang: &Lang, name: &str, ctx: minijinja::Value) -> Result<Rendered, RenderError> {
        let translated = format!("{lang}/{name}");
        let name = if *lang != *self.own_language() && self.env.get_template(&translated).is_ok() {
            translated.as_str()
        } else {
            name
        };
        let err = |source| RenderError::Template { name: name.into(), source };
        let captured = self.env.get_template(name).map_err(err)?.render_captured(ctx).map_err(err)?;
        let subject = captured
            .state()
            .lookup("subject")
            .and_then(|v| v.as_str().map(|s| mailtext::clean_header_text(s, 200)))
            .filter(|s| !s.is_empty());
        Ok(Rendered { body: captured.output().to_string(), subject })
    }

    /// Renders a [`Draft`] in `lang`, as [`Templates::render_in`] renders the context it was made of; a subject
    /// the template names keeps the draft's ticket reference in front of it.
    pub fn render_draft(&self, lang: &Lang, draft: &Draft) -> Result<Rendered, RenderError> {
        // Read straight into the engine's values: no tree of JSON values in between.
        let context: minijinja::Value = serde_json::from_str(draft.context.get())
            .map_err(|e| RenderError::Message(format!("the stored context of {}: {e}", draft.template)))?;
        let context = if draft.notices.is_empty() {
            context
        } else {
            let mut notices = Vec::with_capacity(draft.notices.len());
            for notice in &draft.notices {
                notices.push(self.render_draft(lang, notice)?.body.trim_end().to_string());
            }
            minijinja::context! { notices => notices, ..context }
        };
        let mut out = self.render_value(lang, &draft.template, context)?;
        if let Some(reference) = &draft.reference {
            out.subject = out.subject.map(|s| format!("[{reference}] {s}"));
        }
        Ok(out)
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
        // Every mail and notice renders, in every language, with the least its type guarantees (a bare
        // context) and with everything a context can carry.
        for lang in &self.languages {
            for base in [bare.clone(), TicketContext::sample(config)] {
                for mail in Mail::samples(&base) {
                    let mut ctx = base.clone();
                    mail.fill(&mut ctx);
                    ctx.in_language(config, lang);
                    self.render_in(lang, mail.template(), &ctx)?;
                }
                for notice in Notice::samples(&base) {
                    let mut ctx = base.clone();
                    notice.fill(&mut ctx);
                    ctx.in_language(config, lang);
                    self.render_in(lang, notice.template(), &ctx)?;
                }
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

/// `Content-Language` (RFC 3282), which lettre has no type for.
#[derive(Debug, Clone)]
struct ContentLanguage(String);

impl lettre::message::header::Header for ContentLanguage {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("Content-Language")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(ContentLanguage(s.trim().to_string()))
    }

    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), self.0.clone())
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
    let text = match &plan.language {
        // On the text itself (inside the encryption when the mail is encrypted): what it is written in.
        Some(lang) => SinglePart::builder()
            .header(ContentType::TEXT_PLAIN)
            .header(ContentLanguage(lang.to_string()))
            .body(crlf(body)),
        None => SinglePart::plain(crlf(body)),
    };
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
            crlf(&String::from_utf8_lossy(key.public_armored())),
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
            // The real header fields, encoded exactly as the clear-text mail would carry them, go inside: only
            // its header is read, so the content is not formatted a second time for it.
            let clear = builder.clone().subject(subject.clone()).body(String::new()).map_err(|e| bad(&e))?.formatted();
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
                .body(crlf(&String::from_utf8_lossy(&armoured)));
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

/// `s` with CRLF line endings: each line feed not already after a carriage return gets one, as lettre's body
/// does it — but in one pass. lettre inserts each carriage return into the string where it belongs, moving the
/// rest of the string every time, so a body's cost grew with the square of its length: the staff notification
/// of a long report of short lines (its kept first MiB, and the form's description read from it: 2.4 MB) took
/// 1.4 s to format and its armoured payload 0.8 s more, while the sealing of every other mail waited. Given
/// text with CRLF already, lettre only scans it.
fn crlf(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + s.len() / 32 + 2);
    let mut rest = s;
    while let Some(i) = rest.find('\n') {
        let line = &rest[..i];
        out.push_str(line);
        out.push_str(if line.ends_with('\r') { "\n" } else { "\r\n" });
        rest = &rest[i + 1..];
    }
    out.push_str(rest);
    out
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

    /// What the sealing pass renders from a stored draft is exactly what rendering the context gives, for
    /// every mail and notice, in every language, with bare and full contexts — subject and all.
    #[test]
    fn a_draft_renders_exactly_as_its_context_does() {
        let config = shipped_config();
        let templates = Templates::load(std::path::Path::new("templates")).unwrap();
        let bare = TicketContext::new(&config, "EX-2026-0001", "Sample subject", "researcher@example.org", "Sam", 0);
        let (mut compared, mut named) = (0, 0);
        for lang in templates.languages() {
            for base in [bare.clone(), TicketContext::sample(&config)] {
                let mails = Mail::samples(&base).into_iter().map(|m| {
                    let mut ctx = base.clone();
                    m.fill(&mut ctx);
                    (m.template(), ctx)
                });
                let notices = Notice::samples(&base).into_iter().map(|n| {
                    let mut ctx = base.clone();
                    n.fill(&mut ctx);
                    (n.template(), ctx)
                });
                for (template, mut ctx) in mails.chain(notices).collect::<Vec<_>>() {
                    ctx.in_language(&config, lang);
                    let mut direct = templates.render_in(lang, template, &ctx).unwrap();
                    let stored = serde_json::to_string(&Draft::new(template, &ctx, None).unwrap()).unwrap();
                    let draft: Draft = serde_json::from_str(&stored).unwrap();
                    assert_eq!(templates.render_draft(lang, &draft).unwrap(), direct, "{lang}/{template}");
                    compared += 1;
                    // A subject the template names keeps the reference in front of it.
                    let referenced = Draft::new(template, &ctx, Some("EX-2026-0001")).unwrap();
                    named += usize::from(direct.subject.is_some());
                    direct.subject = direct.subject.map(|s| format!("[EX-2026-0001] {s}"));
                    assert_eq!(templates.render_draft(lang, &referenced).unwrap(), direct, "{lang}/{template}");
                }
            }
        }
        assert!(compared > 60 && named > 0, "{compared} compared, {named} naming a subject");
    }

    /// A staff answer's notices drafted beside it render into its text as notices rendered first would.
    #[test]
    fn notices_drafted_with_a_mail_render_into_it_as_rendered_notices_do() {
        let config = shipped_config();
        let templates = Templates::load(std::path::Path::new("templates")).unwrap();
        let base = TicketContext::sample(&config);
        for lang in templates.languages() {
            let mut texts = Vec::new();
            let mut drafts = Vec::new();
            for notice in Notice::samples(&base) {
                let mut ctx = base.clone();
                notice.fill(&mut ctx);
                ctx.in_language(&config, lang);
                texts.push(templates.render_in(lang, notice.template(), &ctx).unwrap().body.trim_end().to_string());
                drafts.push(Draft::new(notice.template(), &ctx, None).unwrap());
            }
            assert!(texts.len() > 3 && texts.iter().all(|t| !t.is_empty()));
            let text = Some("We fixed it.".to_string());
            let mut before = base.clone();
            Mail::ToResearcher { text: text.clone(), notices: texts }.fill(&mut before);
            before.in_language(&config, lang);
            let rendered = templates.render_in(lang, "to_researcher.txt", &before).unwrap();
            let mut ctx = base.clone();
            Mail::ToResearcher { text, notices: Vec::new() }.fill(&mut ctx);
            ctx.in_language(&config, lang);
            let mut draft = Draft::new("to_researcher.txt", &ctx, None).unwrap();
            draft.notices = drafts;
            let stored: Draft = serde_json::from_str(&serde_json::to_string(&draft).unwrap()).unwrap();
            assert_eq!(templates.render_draft(lang, &stored).unwrap(), rendered, "{lang}");
        }
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
        let files_in = |dir: &str| -> std::collections::BTreeSet<String> {
            std::fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap())
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().into_string().unwrap())
                .collect()
        };
        let builtin: std::collections::BTreeSet<String> = BUILTIN.iter().map(|(n, _)| n.to_string()).collect();
        assert_eq!(files_in("templates"), builtin, "templates/ and the built-in copies hold the same files");
        let french: std::collections::BTreeSet<String> =
            BUILTIN_TRANSLATIONS.iter().filter(|(l, _, _)| *l == "fr").map(|(_, n, _)| n.to_string()).collect();
        assert_eq!(files_in("templates/fr"), french, "templates/fr/ and the built-in translations hold the same files");
        assert!(french.iter().all(|n| builtin.contains(n)), "a translation is of a template vdpd has");
    }

    /// Every mail vdpd writes to a researcher on its own has a French template; every mail to staff stays in
    /// the desk's own language (the team reads one language).
    #[test]
    fn every_mail_to_a_researcher_is_translated_and_no_mail_to_staff_is() {
        let bare = TicketContext::default();
        for mail in Mail::samples(&bare) {
            let to_staff = mail.template().starts_with("staff_")
                || mail.template() == "admin_alert.txt"
                || mail.template() == "escalation.txt";
            let translated = BUILTIN_TRANSLATIONS.iter().any(|(l, n, _)| *l == "fr" && *n == mail.template());
            assert_eq!(translated, !to_staff, "{}", mail.template());
        }
        for notice in Notice::samples(&bare) {
            assert!(BUILTIN_TRANSLATIONS.iter().any(|(_, n, _)| *n == notice.template()), "{}", notice.template());
        }
    }

    fn shipped_config() -> Config {
        crate::config::parse(include_str!("../policy.toml"), std::path::Path::new("/etc/vdpd/policy.toml")).unwrap()
    }

    fn french() -> Lang {
        "fr".parse().unwrap()
    }

    #[test]
    fn a_french_researcher_reads_french_with_the_policys_own_words_and_durations() {
        let config = shipped_config();
        let dir = tempfile::tempdir().unwrap();
        // The policy's terms, in the policy's language, are quoted in every language.
        std::fs::write(dir.path().join("_policy_terms.txt"), "Out of scope: denial of service.\n").unwrap();
        let templates = Templates::load(dir.path()).unwrap();
        assert_eq!(templates.languages(), [Lang::english(), french()]);
        let mut ctx = TicketContext::sample(&config);
        Mail::Acknowledgement { form: ctx.form.clone() }.fill(&mut ctx);
        ctx.in_language(&config, &french());
        let fr = templates.render_in(&french(), "acknowledgement.txt", &ctx).unwrap();
        assert!(fr.body.contains("merci pour votre signalement"), "{}", fr.body);
        assert!(fr.body.contains("De votre signalement, nous avons compris"), "the French _form_reading: {}", fr.body);
        assert!(fr.body.contains("Out of scope: denial of service."), "the top _policy_terms: {}", fr.body);
        let ack = config.sla.acknowledge.words(&french());
        assert!(fr.body.contains(&format!("promis sous {ack}")), "{ack}: {}", fr.body);
        assert!(!fr.body.contains("business day") && !fr.body.contains(" hours"), "{}", fr.body);
        assert_eq!(fr.subject, None, "an answer keeps the researcher's subject");
        // Staff mail has no translation: the desk's own template.
        let staff = templates.render_in(&french(), "staff_new_report.txt", &ctx).unwrap();
        assert_eq!(staff.body, templates.render("staff_new_report.txt", &ctx).unwrap());
    }

    #[test]
    fn a_template_may_name_its_subject() {
        let config = shipped_config();
        let templates = Templates::load(std::path::Path::new("templates")).unwrap();
        let mut ctx = TicketContext::sample(&config);
        let status = ctx.status.clone().unwrap();
        Mail::StatusUpdate { status: StatusContext { periodic: true, ..status.clone() } }.fill(&mut ctx);
        let update = templates.render_in(&french(), "status.txt", &ctx).unwrap();
        assert_eq!(update.subject.as_deref(), Some("Où en est votre signalement"));
        Mail::Status { status }.fill(&mut ctx);
        assert_eq!(templates.render_in(&french(), "status.txt", &ctx).unwrap().subject, None, "an answer: Re:");
        assert_eq!(templates.render_in(&Lang::english(), "status.txt", &ctx).unwrap().subject, None);
    }

    #[test]
    fn a_language_folder_adds_a_language_and_overrides_the_built_in_translation() {
        let config = shipped_config();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("de")).unwrap();
        std::fs::write(dir.path().join("de/acknowledgement.txt"), "Danke, {{ ticket.reference }}.\n").unwrap();
        std::fs::create_dir(dir.path().join("fr")).unwrap();
        std::fs::write(dir.path().join("fr/acknowledgement.txt"), "Merci, {{ ticket.reference }}.\n").unwrap();
        // Not a language, or no template in it: ignored.
        std::fs::create_dir(dir.path().join("old")).unwrap();
        std::fs::write(dir.path().join("old/notes.txt"), "x").unwrap();
        std::fs::create_dir(dir.path().join("FR")).unwrap();
        let templates = Templates::load(dir.path()).unwrap();
        let de: Lang = "de".parse().unwrap();
        assert_eq!(templates.languages(), [Lang::english(), de.clone(), french()]);
        let ctx = TicketContext::sample(&config);
        assert_eq!(templates.render_in(&de, "acknowledgement.txt", &ctx).unwrap().body, "Danke, EX-2026-0001.\n");
        assert_eq!(templates.render_in(&french(), "acknowledgement.txt", &ctx).unwrap().body, "Merci, EX-2026-0001.\n");
        // A German researcher's status mail, untranslated here, is the English one.
        let mut c = ctx.clone();
        Mail::Status { status: ctx.status.clone().unwrap() }.fill(&mut c);
        assert!(templates.render_in(&de, "status.txt", &c).unwrap().body.contains("thank you for asking"));
        templates.self_test(&config).unwrap();
        // A broken translation is caught by the self-test, by its name.
        std::fs::write(dir.path().join("de/status.txt"), "{{ no_such_variable }}").unwrap();
        let err = Templates::load(dir.path()).unwrap().self_test(&config).unwrap_err();
        assert!(err.to_string().contains("de/status.txt"), "{err}");
        // The policy chooses among them, and cannot name one there is nothing for.
        let only = |langs: &[&str]| crate::config::TemplatesConfig {
            dir: dir.path().to_path_buf(),
            language: Lang::english(),
            languages: Some(langs.iter().map(|l| l.parse().unwrap()).collect()),
        };
        assert_eq!(Templates::load_for(&only(&[])).unwrap().languages(), [Lang::english()]);
        assert_eq!(Templates::load_for(&only(&["fr"])).unwrap().languages(), [Lang::english(), french()]);
        let err = Templates::load_for(&only(&["es"])).unwrap_err();
        assert!(err.to_string().contains("\"es\""), "{err}");
        assert_eq!(templates.answer_in(Some(&"es".parse().unwrap())), &Lang::english());
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

    /// Our line endings are lettre's, byte for byte, whatever the text: bare LFs, CRLFs already, lone CRs, an LF
    /// first or last, non-ASCII text (quoted-printable), long lines (base64).
    #[test]
    fn line_endings_are_made_as_lettre_makes_them() {
        let long = "x".repeat(1200);
        for text in [
            "",
            "\n",
            "\r\n",
            "\n\n",
            "\r\n\n\r\r\n",
            "a\nb\r\nc\rd\n",
            "\nfirst line feed",
            "last\n",
            "Ünïcode\nlines\r\n",
            &long,
            "\r",
        ] {
            let ours = lettre::message::Body::new(crlf(text));
            let theirs = lettre::message::Body::new(text.to_string());
            assert_eq!(ours.as_ref(), theirs.as_ref(), "{text:?}");
            assert_eq!(ours.encoding(), theirs.encoding(), "{text:?}");
        }
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
        // Every protected field the outside carries, the inside carries as it is (the Subject apart).
        assert_eq!(inner.from(), outer.from());
        assert_eq!(inner.to(), outer.to());
        assert_eq!(inner.date(), outer.date());
        assert_eq!(inner.in_reply_to(), outer.in_reply_to());
        assert_eq!(inner.references(), outer.references());
        let ct = mail_parser::MimeHeaders::content_type(inner.root_part()).unwrap();
        assert_eq!((ct.attribute("hp"), ct.attribute("protected-headers")), (Some("cipher"), Some("v1")));
        let head = String::from_utf8_lossy(&opened.plaintext);
        assert!(head.contains("HP-Outer: Subject: [EX-2026-0001]\r\n"), "{head}");
        assert!(inner.body_text(0).unwrap().contains("The details."));
    }
}

//! Templates and outgoing messages.
//!
//! Mail bodies come from minijinja templates in the admin's `templates/` folder; a template absent there falls
//! back to the built-in copy of the one shipped in this repository, so an upgrade that adds a template never
//! leaves a deployment without it. Undefined variables are errors (strict mode), and `vdpd check` renders every
//! template with a sample context, so a typo is caught before it reaches a researcher.
//!
//! [`compose`] turns a [`MailPlan`] and a rendered body into the exact bytes that are stored in the outbox and
//! later sent: what is stored is what goes out.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use lettre::message::header::{ContentDisposition, ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, Message, MultiPart, SinglePart};
use minijinja::{Environment, UndefinedBehavior};
use serde::Serialize;

use crate::config::{Config, Organisation};
use crate::engine::MailPlan;
use crate::mailtext;
use crate::openpgp::Cert;
use crate::openpgp::keys::OrgKey;

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
        let mut full = bare.clone();
        let sections = &config.report_form.sections;
        full.form = Some(FormContext {
            request: true,
            sections: sections.iter().map(SectionContext::from).collect(),
            missing: sections.iter().filter(|s| s.mandatory).map(|s| s.name.clone()).collect(),
            answered: vec!["Title".into()],
            problems: vec![NamedText { name: "Severity".into(), value: "the CVSS vector does not parse".into() }],
            received: vec![NamedText { name: "Asset".into(), value: "https://app.example.org/\nsecond line".into() }],
            severity: Some("critical (CVSS 9.8)".into()),
        });
        full.key = Some(KeyContext { fingerprint: "0123456789ABCDEF0123456789ABCDEF01234567".into() });
        full.decrypt_error = Some("the message is not encrypted to our key".into());
        full.signature = Some("good (0123456789ABCDEF0123456789ABCDEF01234567)".into());
        full.encrypted = true;
        full.text = Some("Thanks, we can reproduce it.\nA fix is on its way.".into());
        full.attachments = vec![AttachmentContext {
            name: "poc.py".into(),
            content_type: "text/x-python".into(),
            size: 1234,
            sha256: "ab".repeat(32),
            attached: false,
        }];
        full.scope_hint = vec!["in scope: app.example.org is under example.org".into()];
        full.clocks = vec![NamedText { name: "first diagnosis".into(), value: "due 2026-12-02 09:00 UTC".into() }];
        full.commands = vec![NamedText { name: "#state …".into(), value: "move the ticket".into() }];
        full.changes = vec!["state: triage → accepted".into()];
        full.errors = vec!["line 1: \"#state fixed\": unknown state".into()];
        full.warning = Some("a mail from the staff address failed authentication".into());
        full.notices = vec!["The issue is fixed.".into()];
        full.staff_member = Some("alice@example.org".into());
        full.message = Some(MessageContext { id: 7, from: "x@example.net".into(), subject: "s".into() });
        full.outcome = Some(OutcomeContext {
            clause: Some("Denial-of-service attacks.".into()),
            sub_processor: Some(NamedText { name: "Stripe".into(), value: "https://stripe.com/docs/security".into() }),
            bounty: Some(BountyContext {
                tier: "minor".into(),
                amount: 50,
                currency: "GBP".into(),
                meaning: "A minor security problem.".into(),
                payment: "by card via PayPal or Stripe".into(),
                invoice_fields: vec!["legal name".into(), "address".into()],
                approximate: true,
            }),
            disclose_on: Some("2027-02-21".into()),
            credit: Some("Ada L.".into()),
            meaning: Some("Reports about things that we have specifically noted as out of scope.".into()),
        });
        full.duplicate_hint = vec!["EX-2026-0003 (open; same asset and CWE-79)".into()];
        full.enquiry = Some("answered with the status".into());
        full.unsigned = Some(NamedText {
            name: "The part below was NOT signed".into(),
            value: "#state closed\nan unsigned footer".into(),
        });
        full.key_notice = Some("vdpd learned a key for researcher@example.org on first use".into());
        full.researcher_key =
            Some("0123456789ABCDEF0123456789ABCDEF01234567 (learned on first use, 2026-11-23)".into());
        full.clock = Some(ClockContext {
            name: "first diagnosis".into(),
            promise: "7 business days".into(),
            due: "2026-12-02 09:00 GMT".into(),
            due_date: "2026-12-02".into(),
            state: "upcoming".into(),
            before: Some("2 business days".into()),
            severity: Some("high".into()),
            assignee: "alice@example.org".into(),
            ticket_state: "triage".into(),
        });
        full.status = Some(StatusContext {
            state: "fixing".into(),
            outcome: None,
            details_missing: false,
            severity: Some("high".into()),
            fixed_on: Some("2026-12-01".into()),
            disclosure_on: Some("2027-02-21".into()),
            disclosure_agreed: true,
            bounty: Some("50 GBP".into()),
            bounty_paid: true,
            credit: Some("Ada L.".into()),
            periodic: false,
            next_update: Some("2026-12-07".into()),
            enquiry_interval: Some("14 days".into()),
            next_enquiry_from: Some("2026-12-07".into()),
            last_answered: Some("2026-11-23".into()),
        });
        full.retention = Some(RetentionContext {
            after: Some("1 month".into()),
            ended_on: Some("2026-12-01".into()),
            researcher_duty: Some("Delete any data you retrieved within a month of the fix.".into()),
            other_tickets: vec!["EX-2026-0009".into()],
        });
        // Each template also renders with the least it is ever given: what its callers always provide.
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
                continue;
            }
            let mut least = bare.clone();
            let outcome = full.outcome.clone().unwrap_or_default();
            match *name {
                "report_form.txt" | "form_missing.txt" => least.form = Some(FormContext::default()),
                "staff_warning.txt" | "admin_alert.txt" => least.warning = full.warning.clone(),
                "outcome_bounty.txt" => {
                    least.outcome = Some(OutcomeContext { bounty: outcome.bounty, ..OutcomeContext::default() })
                }
                "outcome_disclose.txt" => {
                    least.outcome =
                        Some(OutcomeContext { disclose_on: outcome.disclose_on, ..OutcomeContext::default() })
                }
                "outcome_credit.txt" => {
                    least.outcome = Some(OutcomeContext { credit: outcome.credit, ..OutcomeContext::default() })
                }
                n if n.starts_with("outcome_") => least.outcome = Some(OutcomeContext::default()),
                "status.txt" => least.status = Some(StatusContext::default()),
                "status_throttled.txt" => {
                    least.status = Some(StatusContext {
                        enquiry_interval: Some("14 days".into()),
                        next_enquiry_from: Some("2026-12-07".into()),
                        last_answered: Some("2026-11-23".into()),
                        ..StatusContext::default()
                    })
                }
                "staff_reminder.txt" | "escalation.txt" | "disclosure_reminder.txt" => {
                    least.clock = Some(ClockContext::default())
                }
                "retention_receipt.txt" | "erasure_receipt.txt" => least.retention = Some(RetentionContext::default()),
                _ => {}
            }
            self.render(name, &least)?;
            self.render(name, &full)?;
        }
        Ok(())
    }
}

/// What ticket templates can use. Field names are the template variables: keep them stable, admins' templates
/// depend on them.
#[derive(Debug, Clone, Serialize)]
pub struct TicketContext {
    pub organisation: OrgContext,
    pub ticket: TicketInfo,
    pub researcher: Person,
    /// When the first message of the ticket arrived (RFC 2822-style, UTC).
    pub received_at: String,
    pub sla: SlaContext,
    /// The report form: what to ask for, what is missing, what was received.
    pub form: Option<FormContext>,
    /// The organisation key, when it is attached or named.
    pub key: Option<KeyContext>,
    /// Why the researcher's message could not be decrypted.
    pub decrypt_error: Option<String>,
    /// The signature verdict of the researcher's message, in words (for staff).
    pub signature: Option<String>,
    /// This mail is encrypted.
    pub encrypted: bool,
    /// The researcher's words (staff notifications), or a staff member's words (mail to the researcher).
    pub text: Option<String>,
    /// Files that came with the researcher's mail; `attached` says whether they travel with this mail.
    pub attachments: Vec<AttachmentContext>,
    /// What the policy's scope says about the report.
    pub scope_hint: Vec<String>,
    /// The SLA clocks: (name, state).
    pub clocks: Vec<NamedText>,
    /// The staff commands, for help.
    pub commands: Vec<NamedText>,
    /// What a staff mail changed, or why nothing was.
    pub changes: Vec<String>,
    pub errors: Vec<String>,
    /// A warning to staff (forged staff mail, quarantined mail).
    pub warning: Option<String>,
    /// Outcome notices for the researcher, already rendered.
    pub notices: Vec<String>,
    pub outcome: Option<OutcomeContext>,
    /// The staff member who acted.
    pub staff_member: Option<String>,
    /// The message a notice is about (quarantine): id, from, subject.
    pub message: Option<MessageContext>,
    /// Possible duplicates of this report (for staff): "EX-2026-0003 (open, same asset and CWE-79)".
    pub duplicate_hint: Vec<String>,
    /// A status enquiry and what vdpd did with it (for staff).
    pub enquiry: Option<String>,
    /// The clock a reminder, an escalation or a disclosure notice is about.
    pub clock: Option<ClockContext>,
    /// The ticket's status, as the researcher reads it.
    pub status: Option<StatusContext>,
    /// What retention or erasure deleted, and what stays.
    pub retention: Option<RetentionContext>,
    /// Text the researcher's mail carried outside its signed (or encrypted) content: `name` says so in
    /// words, `value` is the text (for staff).
    pub unsigned: Option<NamedText>,
    /// What the mail taught vdpd about the researcher's key (for staff).
    pub key_notice: Option<String>,
    /// The key vdpd holds for the researcher and how it came to be trusted (for staff), if it holds one.
    pub researcher_key: Option<String>,
}

/// One promise, for reminders, escalations and disclosure notices.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ClockContext {
    /// "first diagnosis", "fix", "disclosure", "acknowledgement".
    pub name: String,
    /// The policy's words: "7 business days", "agreed".
    pub promise: String,
    /// When it is (or was) due: "2026-12-02 09:00 GMT".
    pub due: String,
    /// The date alone: "2026-12-02".
    pub due_date: String,
    /// upcoming | reached | broken.
    pub state: String,
    /// For a reminder: the policy's reminder point ("2 business days").
    pub before: Option<String>,
    /// For a severity-dependent clock.
    pub severity: Option<String>,
    /// Who works the ticket ("" when nobody was assigned).
    pub assignee: String,
    /// The ticket's state.
    pub ticket_state: String,
}

/// Where a ticket stands, in terms a researcher may be told.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StatusContext {
    /// new | triage | accepted | fixing | resolved | closed.
    pub state: String,
    /// duplicate | not-applicable | informative, when closed with one.
    pub outcome: Option<String>,
    /// The report form still lacks mandatory sections.
    pub details_missing: bool,
    pub severity: Option<String>,
    /// When it was fixed (date).
    pub fixed_on: Option<String>,
    /// The coordinated disclosure date (date), with whether it was agreed.
    pub disclosure_on: Option<String>,
    pub disclosure_agreed: bool,
    /// "50 GBP", and whether it was paid.
    pub bounty: Option<String>,
    pub bounty_paid: bool,
    pub credit: Option<String>,
    /// This is the periodic status mail, not an answer to an enquiry.
    pub periodic: bool,
    /// The next periodic status mail (date), if the policy sends them.
    pub next_update: Option<String>,
    /// The policy's interval between answered enquiries ("14 days").
    pub enquiry_interval: Option<String>,
    /// From when the next enquiry is answered (date).
    pub next_enquiry_from: Option<String>,
    /// When the last enquiry was answered (date).
    pub last_answered: Option<String>,
}

/// What a purge deleted.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RetentionContext {
    /// The policy's retention period ("1 month"), for the purge; `None` for an erasure on request.
    pub after: Option<String>,
    /// When the ticket was resolved or closed (date).
    pub ended_on: Option<String>,
    /// The researcher's own deletion duty, in the policy's words.
    pub researcher_duty: Option<String>,
    /// Other tickets the erasure covered.
    pub other_tickets: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttachmentContext {
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub attached: bool,
}

/// What an outcome template needs.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OutcomeContext {
    /// The policy clause quoted for "not applicable".
    pub clause: Option<String>,
    pub sub_processor: Option<NamedText>,
    pub bounty: Option<BountyContext>,
    /// The negotiated disclosure date.
    pub disclose_on: Option<String>,
    /// How the researcher will be credited (`none` for no credit).
    pub credit: Option<String>,
    /// What the outcome means under the bounty programme (its tier of the same name), in the policy's words.
    pub meaning: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BountyContext {
    pub tier: String,
    pub amount: u32,
    pub currency: String,
    pub meaning: String,
    pub payment: String,
    pub invoice_fields: Vec<String>,
    /// The policy gives amounts as approximations ("~50 GBP").
    pub approximate: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageContext {
    pub id: i64,
    pub from: String,
    pub subject: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FormContext {
    /// Show the whole form (a request), not only what is missing.
    pub request: bool,
    pub sections: Vec<SectionContext>,
    pub missing: Vec<String>,
    /// The names of the sections answered so far.
    pub answered: Vec<String>,
    pub problems: Vec<NamedText>,
    /// Answers received; empty when the mail may not carry report detail.
    pub received: Vec<NamedText>,
    /// "critical (CVSS 9.8)".
    pub severity: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct SectionContext {
    pub name: String,
    pub mandatory: bool,
    pub hint: String,
}

impl From<&crate::config::FormSection> for SectionContext {
    fn from(s: &crate::config::FormSection) -> Self {
        SectionContext { name: s.name.clone(), mandatory: s.mandatory, hint: s.hint.clone() }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct NamedText {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeyContext {
    /// Upper-case hex, as GnuPG shows it.
    pub fingerprint: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct OrgContext {
    pub name: String,
    pub security_address: String,
    pub policy_url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TicketInfo {
    pub reference: String,
    pub subject: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Person {
    pub address: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SlaContext {
    pub acknowledge: String,
    pub first_diagnosis: Option<String>,
    pub fix: Vec<FixContext>,
    pub disclosure: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FixContext {
    pub severity: &'static str,
    pub within: String,
}

impl TicketContext {
    pub fn new(
        config: &Config,
        reference: &str,
        subject: &str,
        researcher: &str,
        researcher_name: &str,
        received_at_ms: i64,
    ) -> TicketContext {
        let org = &config.organisation;
        let sla = &config.sla;
        TicketContext {
            organisation: OrgContext {
                name: org.name.clone(),
                security_address: org.security_address.clone(),
                policy_url: org.policy_url.clone(),
            },
            ticket: TicketInfo { reference: reference.into(), subject: subject.into() },
            researcher: Person { address: researcher.into(), name: researcher_name.into() },
            // In the policy's own time zone: the researcher reads the promises in it.
            received_at: jiff::Timestamp::from_millisecond(received_at_ms)
                .map(|t| {
                    t.to_zoned_datetime(config.calendar.time_zone.clone()).strftime("%a, %d %b %Y %H:%M %Z").to_string()
                })
                .unwrap_or_default(),
            sla: SlaContext {
                acknowledge: sla.acknowledge.to_string(),
                first_diagnosis: sla.first_diagnosis.map(|d| d.to_string()),
                fix: sla.fix.iter().map(|(s, d)| FixContext { severity: s.as_str(), within: d.to_string() }).collect(),
                disclosure: sla.disclosure.map(|d| d.to_string()),
            },
            form: None,
            key: None,
            decrypt_error: None,
            signature: None,
            encrypted: false,
            text: None,
            attachments: Vec::new(),
            scope_hint: Vec::new(),
            clocks: Vec::new(),
            commands: Vec::new(),
            changes: Vec::new(),
            errors: Vec::new(),
            warning: None,
            notices: Vec::new(),
            outcome: None,
            staff_member: None,
            message: None,
            duplicate_hint: Vec::new(),
            enquiry: None,
            clock: None,
            status: None,
            retention: None,
            unsigned: None,
            key_notice: None,
            researcher_key: None,
        }
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
    pub attach_key: Option<&'a Cert>,
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutFile {
    pub name: String,
    pub content_type: String,
    pub data: Vec<u8>,
}

/// Builds the final RFC 5322 bytes of a planned mail.
pub fn compose(
    plan: &MailPlan,
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
    if let Some(cert) = envelope.attach_key {
        let name = format!("OpenPGP_0x{}.asc", cert.keyid().to_hex());
        parts.push(Attachment::new(name).body(
            String::from_utf8_lossy(&crate::openpgp::armored(cert)).into_owned(),
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

    fn plan() -> MailPlan {
        MailPlan {
            kind: "acknowledgement",
            template: "acknowledgement.txt",
            to: "alice@research.test".into(),
            to_name: "Alice\r\nBcc: evil@x.test".into(),
            subject: "[EX-2026-0001] Re: Ünïcode\r\nBcc: evil@x.test".into(),
            in_reply_to: Some("<r1@research.test>".into()),
            references: vec!["<r0@research.test>".into(), "<r1@research.test>".into()],
            auto: crate::engine::Auto::Replied,
            attach_key: false,
            reply_to_desk: false,
        }
    }

    fn to(plan: &MailPlan) -> [(&str, &str); 1] {
        [(plan.to.as_str(), plan.to_name.as_str())]
    }

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
            &plan,
            "Hello\nthere\n",
            &org(),
            "<ex-1.abc@example.test>",
            "2026-11-23T10:00:00Z".parse().unwrap(),
            &plain(&to(&plan)),
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
        plan.to_name = "Ä".repeat(90);
        let raw = compose(&plan, "x", &org(), "<a@b.c>", "2026-11-23T10:00:00Z".parse().unwrap(), &plain(&to(&plan)))
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
        let to = to(&plan);
        let certs = [alice.public()];
        let envelope = Envelope { encrypt: Some((&certs, &key)), ..plain(&to) };
        // The keys were made just now.
        let now = jiff::Timestamp::now();
        let raw = compose(&plan, "The details.\n", &org(), "<a@example.test>", now, &envelope).unwrap();
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

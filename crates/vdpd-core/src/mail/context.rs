//! What templates see: the variables of every mail vdpd writes.
//!
//! Field names are the template variables: keep them stable, admins' templates depend on them. The fields
//! every mail of a ticket shares live on [`TicketContext`]; what only one kind of mail needs comes with its
//! [`super::Mail`] variant and is put in place by [`super::Mail::fill`].

use serde::Serialize;

use crate::config::{Config, FormSection};
use crate::lang::Lang;

/// When a ticket's first message arrived, in the policy's own time zone (the researcher reads the promises in
/// it): "Wed, 02 Dec 2026 10:15 CET" in English; in every other language the names of days and months would be
/// English, so the date is written as ISO 8601 does, which every language reads.
fn received_text(config: &Config, at_ms: i64, lang: &Lang) -> String {
    let format = if *lang == Lang::english() { "%a, %d %b %Y %H:%M %Z" } else { "%Y-%m-%d %H:%M %Z" };
    jiff::Timestamp::from_millisecond(at_ms)
        .map(|t| t.to_zoned_datetime(config.calendar.time_zone.clone()).strftime(format).to_string())
        .unwrap_or_default()
}

/// What ticket templates can use. Field names are the template variables: keep them stable, admins' templates
/// depend on them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
    /// The tickets whose words are closest to this one's (for staff), best first: the full-text index's
    /// candidates for a duplicate, among open, fixed and closed tickets alike.
    pub similar: Vec<SimilarContext>,
    /// The slow lane's new reports a digest lists (for staff).
    pub digest: Vec<DigestEntry>,
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
    /// The ticket's co-reporters and the ones the reporter proposed (for staff): `name` the address (and
    /// display name), `value` what they are.
    pub co_reporters: Vec<NamedText>,
    /// The language this mail is written in (`en`, `fr`): the template's folder, or the organisation's.
    pub lang: String,
    /// The language the researcher is answered in and how vdpd learned it (for staff): "fr (français,
    /// from Content-Language)".
    pub researcher_language: Option<String>,
    /// When the ticket's first message arrived, for [`TicketContext::in_language`] to write it anew.
    #[serde(skip)]
    pub received_at_ms: i64,
}

/// One promise, for reminders, escalations and disclosure notices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
    /// For a deadline of the Cyber Resilience Act: the stage's word (`early-warning`, `notification`,
    /// `final`), as `vdpd cra draft --stage` and `#cra-filed` take it.
    pub cra_stage: Option<String>,
}

/// Where a ticket stands, in terms a researcher may be told.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
    /// The diagnosis clock stands still: what it waits for ("Steps to reproduce"), or `""` for the answer
    /// to a question staff asked.
    pub diagnosis_paused_until: Option<String>,
}

/// What a purge deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AttachmentContext {
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    pub attached: bool,
}

/// What an outcome template needs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
    /// A duplicate of a fixed flaw: the URL of its published advisory.
    pub advisory: Option<String>,
}

/// A new report of the slow lane, as the digest lists it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DigestEntry {
    pub reference: String,
    pub subject: String,
    pub reporter: String,
    pub received: String,
    pub asset: String,
    /// How many reports the sender sent in the 30 days before it.
    pub sender_reports: u32,
}

/// A ticket like this one, as staff see it beside a new report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SimilarContext {
    pub reference: String,
    /// "triage", "resolved as fixed", "closed as duplicate".
    pub state: String,
    /// 0–100: how close, beside the report's own words (100).
    pub percent: u8,
    pub title: String,
    /// Its published advisory: `#duplicate` of a fixed flaw links the researcher to it.
    pub advisory: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MessageContext {
    pub id: i64,
    pub from: String,
    pub subject: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
    /// The sections read from the report's prose rather than labelled, so that the researcher can correct them.
    pub understood: Vec<UnderstoodContext>,
    /// The sections the diagnosis clock waits for that are still missing: it is paused until they arrive.
    pub paused_until: Vec<String>,
}

/// A section read from the prose: its name, what it was read from, and (where the mail may carry report
/// detail) the value understood, shortened to a line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UnderstoodContext {
    pub name: String,
    pub from: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SectionContext {
    pub name: String,
    pub mandatory: bool,
    pub hint: String,
}

impl From<&FormSection> for SectionContext {
    fn from(s: &FormSection) -> Self {
        SectionContext { name: s.name.clone(), mandatory: s.mandatory, hint: s.hint.clone() }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct NamedText {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KeyContext {
    /// Upper-case hex, as GnuPG shows it.
    pub fingerprint: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct OrgContext {
    pub name: String,
    pub security_address: String,
    pub policy_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TicketInfo {
    pub reference: String,
    pub subject: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Person {
    pub address: String,
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SlaContext {
    pub acknowledge: String,
    pub first_diagnosis: Option<String>,
    pub fix: Vec<FixContext>,
    pub disclosure: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
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
            received_at: received_text(config, received_at_ms, &Lang::english()),
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
            similar: Vec::new(),
            digest: Vec::new(),
            enquiry: None,
            clock: None,
            status: None,
            retention: None,
            unsigned: None,
            key_notice: None,
            researcher_key: None,
            co_reporters: Vec::new(),
            lang: config.templates.language.to_string(),
            researcher_language: None,
            received_at_ms,
        }
    }

    /// Writes what vdpd itself puts into the text (the policy's durations, the date of receipt) in `lang`,
    /// for a template in that language: "7 jours ouvrés", "2026-12-02 10:15 CET". Called once the mail has
    /// [filled](super::Mail::fill) the context, just before rendering; in a language vdpd has no words for
    /// ([`Lang::has_own_words`]) the durations stay English and the date is written as ISO 8601 does.
    pub fn in_language(&mut self, config: &Config, lang: &Lang) {
        self.lang = lang.to_string();
        self.received_at = received_text(config, self.received_at_ms, lang);
        let sla = &config.sla;
        self.sla = SlaContext {
            acknowledge: sla.acknowledge.words(lang),
            first_diagnosis: sla.first_diagnosis.map(|d| d.words(lang)),
            fix: sla.fix.iter().map(|(s, d)| FixContext { severity: s.as_str(), within: d.words(lang) }).collect(),
            disclosure: sla.disclosure.map(|d| d.words(lang)),
        };
        if let Some(status) = &mut self.status
            && status.enquiry_interval.is_some()
        {
            status.enquiry_interval = sla.status_enquiry_interval.map(|d| d.words(lang));
        }
        if let Some(retention) = &mut self.retention
            && retention.after.is_some()
        {
            retention.after = config.retention.after_resolution.map(|d| d.words(lang));
        }
    }

    /// A context with every field set, as the template self-test renders each mail with (besides the bare
    /// one): whatever a template can show, it shows here.
    pub fn sample(config: &Config) -> TicketContext {
        let mut full = TicketContext::new(config, "EX-2026-0001", "Sample subject", "researcher@example.org", "Sam", 0);
        let sections = &config.report_form.sections;
        full.form = Some(FormContext {
            request: true,
            sections: sections.iter().map(SectionContext::from).collect(),
            missing: sections.iter().filter(|s| s.mandatory).map(|s| s.name.clone()).collect(),
            answered: vec!["Title".into()],
            problems: vec![NamedText { name: "Severity".into(), value: "the CVSS vector does not parse".into() }],
            received: vec![NamedText { name: "Asset".into(), value: "https://app.example.org/\nsecond line".into() }],
            severity: Some("critical (CVSS 9.8)".into()),
            understood: vec![UnderstoodContext {
                name: "Weakness".into(),
                from: "\"stored XSS\" in the text".into(),
                value: Some("CWE-79".into()),
            }],
            paused_until: vec!["Steps to reproduce".into()],
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
            advisory: Some("https://example.com/.well-known/csaf/white/2026/ex-2026-0002.json".into()),
        });
        full.duplicate_hint = vec!["EX-2026-0003 (open; same asset and CWE-79)".into()];
        full.digest = vec![DigestEntry {
            reference: "EX-2026-0009".into(),
            subject: "XSS in search".into(),
            reporter: "bulk@research.example".into(),
            received: "Mon, 23 Nov 2026 10:00 UTC".into(),
            asset: "https://app.example.com/search".into(),
            sender_reports: 7,
        }];
        full.similar = vec![SimilarContext {
            reference: "EX-2026-0002".into(),
            state: "resolved as fixed".into(),
            percent: 82,
            title: "Stored XSS in comments".into(),
            advisory: Some("https://example.com/.well-known/csaf/white/2026/ex-2026-0002.json".into()),
        }];
        full.enquiry = Some("answered with the status".into());
        full.unsigned = Some(NamedText {
            name: "The part below was NOT signed".into(),
            value: "#state closed\nan unsigned footer".into(),
        });
        full.key_notice = Some("vdpd learned a key for researcher@example.org on first use".into());
        full.researcher_key =
            Some("0123456789ABCDEF0123456789ABCDEF01234567 (learned on first use, 2026-11-23)".into());
        full.researcher_language = Some("fr (français, from Content-Language)".into());
        full.co_reporters = vec![NamedText {
            name: "Claire <claire@research.example>".into(),
            value: "proposed by the reporter (signed mail): #participant add claire@research.example lets them see the ticket".into(),
        }];
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
            cra_stage: None,
        });
        full.status = Some(StatusContext {
            state: "fixing".into(),
            outcome: None,
            details_missing: false,
            diagnosis_paused_until: Some("Steps to reproduce".into()),
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
        full
    }
}

//! The ticket engine: pure policy.
//!
//! Given a classified mail, the facts the store found about it, the policy and "now", the engine says what
//! happens: a new ticket, correspondence on an existing one, a drop with its reason, a duplicate. It also plans
//! the mails that follow ([`MailPlan`]) and the clocks to set. It does no IO at all — no database, no
//! network, no clock of its own — which is why most of vdpd's rules are tested here, table-driven.

pub mod aside;
pub mod enquiry;
pub mod keys;
pub use crate::hints;
pub mod plan;
pub mod researcher;
pub mod staff;
pub mod timer;

use crate::classify::Inbound;
use crate::config::{Config, FormSection, Limits, Organisation};
use crate::form;
use crate::mail::Mail;
use crate::mailtext;
use crate::ticket::ThreadCandidate;
use serde::Serialize;

pub use crate::calendar::Measure;
pub use crate::clocks;
pub use crate::ticket::TicketState;
pub use plan::{By, Effect, News, Plan};

/// Milliseconds in the "per day" of the daily limits: a rolling 24 hours.
pub const DAY_MS: i64 = 24 * 3600 * 1000;
/// Milliseconds in the "per hour" of `limits.new_tickets_per_hour` (and of the flood warning's pace).
pub const HOUR_MS: i64 = 3600 * 1000;

/// What the store knows that bears on an incoming mail.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// An earlier delivery of the same message: (its intake id, its ticket).
    pub duplicate_of: Option<(i64, Option<i64>)>,
    /// Tickets the mail names (by header first, then by subject tag), with whether the sender takes part.
    pub candidates: Vec<ThreadCandidate>,
    /// Tickets the sender opened in the last 24 hours.
    pub sender_tickets_last_day: u32,
    /// `limits.new_tickets_per_hour` tickets were opened in the last hour already.
    pub hour_cap_reached: bool,
    /// An admin asked for this mail to be processed again: the caps on new tickets do not hold it back.
    pub admitted: bool,
    /// Whether the sender is staff, and proved it.
    pub staff: staff::StaffCheck,
}

crate::ticket::stored_words! {
    /// What became of a message, as the intake journal records it. Exactly one of these, for every message
    /// fetched.
    pub enum IntakeStatus ("intake status") {
        /// Written before processing; a row left pending means the process died while handling it.
        Pending = "pending",
        /// Opened a new ticket.
        Ticket = "ticket",
        /// Joined an existing ticket.
        Correspondence = "correspondence",
        /// Deliberately not acted on (loop, bounce, list, rate limit), with the reason.
        Dropped = "dropped",
        /// Answered without a ticket (a request for our OpenPGP key, staff mail naming no ticket).
        Answered = "answered",
        /// A second delivery of a message already processed.
        Duplicate = "duplicate",
        /// Could not be processed; kept with its error for an admin.
        Quarantined = "quarantined",
        /// A new report over the hourly cap on new tickets: kept with its bytes and made a ticket, in the
        /// order of arrival, as soon as the hour's count allows (every pass of the timers tries).
        Held = "held",
    }
}

/// The intake journal's record of a decided mail: its status, the reason on record (empty when the status
/// says it all), and whether the mail now stands for its dedup key — every outcome but a second delivery,
/// which is recognised by the first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub status: IntakeStatus,
    pub reason: String,
    pub dedup: bool,
}

impl Decision {
    /// What the intake journal records for this decision. A key request's depends on whether it was answered
    /// ([`key_request_entry`]).
    pub fn journal_entry(&self) -> JournalEntry {
        let entry = |status, reason: String| JournalEntry { status, reason, dedup: true };
        match self {
            Decision::Duplicate { of_intake, .. } => JournalEntry {
                status: IntakeStatus::Duplicate,
                reason: format!("second delivery of message #{of_intake}"),
                dedup: false,
            },
            Decision::Drop { reason, .. } => entry(IntakeStatus::Dropped, reason.clone()),
            // It stands for its dedup key while held: a second delivery is no second report in the queue.
            Decision::Flood { reason } => entry(IntakeStatus::Held, reason.clone()),
            Decision::NewTicket => entry(IntakeStatus::Ticket, String::new()),
            Decision::Correspondence { .. } => entry(IntakeStatus::Correspondence, String::new()),
            Decision::KeyRequest => key_request_entry(None),
            Decision::Staff { member, .. } => staff_mail_entry(member),
            Decision::StaffNoTicket { member, .. } => {
                entry(IntakeStatus::Answered, format!("staff mail from {member} naming no ticket: told the sender"))
            }
            Decision::StaffRejected { member, reason, .. } => entry(
                IntakeStatus::Dropped,
                format!("mail from the staff address {member} failed authentication: {reason}"),
            ),
        }
    }
}

/// The journal's record of an authenticated staff mail about a ticket.
pub fn staff_mail_entry(member: &str) -> JournalEntry {
    JournalEntry { status: IntakeStatus::Correspondence, reason: format!("staff mail from {member}"), dedup: true }
}

/// The journal's record of a key request: answered with the key (`None`), or not because `Some(n)` automatic
/// replies went to the address in the last 24 hours.
pub fn key_request_entry(held_back_after: Option<u32>) -> JournalEntry {
    let reason = match held_back_after {
        None => "request for our OpenPGP key: answered with the key".to_string(),
        Some(sent) => {
            format!("request for our OpenPGP key: not answered, {sent} automatic replies to this address in 24 hours")
        }
    };
    JournalEntry { status: IntakeStatus::Answered, reason, dedup: true }
}

/// What becomes of an incoming mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// A second delivery of a message already handled.
    Duplicate { of_intake: i64, ticket_id: Option<i64> },
    /// Recorded, not acted on. `ticket_id` is the ticket it belongs to, if any (for the record only).
    Drop { reason: String, ticket_id: Option<i64> },
    /// A new report.
    NewTicket,
    /// A message in an existing ticket's thread from one of its participants.
    Correspondence { ticket_id: i64, reference: String },
    /// A short mail outside any ticket asking for our OpenPGP key: answered with the key, no ticket.
    KeyRequest,
    /// An authenticated staff mail about a ticket: commands run, text is relayed.
    Staff { ticket_id: i64, reference: String, member: String, proof: staff::Proof },
    /// An authenticated staff mail that names no ticket.
    StaffNoTicket { member: String, proof: staff::Proof },
    /// Mail from a staff address that failed authentication: runs nothing, relays nothing; staff are warned.
    StaffRejected { member: String, reason: String, ticket_id: Option<i64> },
    /// A new report beyond `limits.new_tickets_per_hour`: held, not refused — it becomes a ticket (and is
    /// acknowledged) in its turn once the hour's count of new tickets allows, so a flood is slowed to the cap
    /// without a report lost, and the desk answers a burst of forged senders at the cap's pace at most.
    Flood { reason: String },
}

impl Decision {
    /// The ticket the mail belongs to or names, when it exists already (a new report's is opened by its plan).
    pub fn ticket_id(&self) -> Option<i64> {
        match self {
            Decision::Duplicate { ticket_id, .. }
            | Decision::Drop { ticket_id, .. }
            | Decision::StaffRejected { ticket_id, .. } => *ticket_id,
            Decision::Correspondence { ticket_id, .. } | Decision::Staff { ticket_id, .. } => Some(*ticket_id),
            Decision::NewTicket | Decision::KeyRequest | Decision::StaffNoTicket { .. } | Decision::Flood { .. } => {
                None
            }
        }
    }
}

/// Decides what an incoming mail is. Order matters: a duplicate is a duplicate even if it is also an
/// auto-reply; machine mail never opens or touches a ticket; threading needs the sender to be a participant
/// (a stranger quoting a reference gets a ticket of their own and learns nothing); a key request is answered
/// only outside any ticket; the rate limit applies only to new tickets.
pub fn decide(inbound: &Inbound, facts: &Facts, config: &Config) -> Decision {
    let limits = &config.limits;
    if let Some((of_intake, ticket_id)) = facts.duplicate_of {
        return Decision::Duplicate { of_intake, ticket_id };
    }
    let thread = facts.candidates.iter().find(|c| c.sender_is_participant);
    if let Some(reason) = &inbound.automatic {
        return Decision::Drop { reason: reason.clone(), ticket_id: thread.map(|c| c.ticket_id) };
    }
    // Staff need not be participants: any ticket the mail names is theirs to work.
    match &facts.staff {
        staff::StaffCheck::NotStaff => {}
        staff::StaffCheck::Authenticated { member, proof } => {
            return match facts.candidates.first() {
                Some(c) => match unbound(inbound, proof, &c.reference, config.staff.signature_must_name_ticket) {
                    Some(reason) => {
                        Decision::StaffRejected { member: member.clone(), reason, ticket_id: Some(c.ticket_id) }
                    }
                    None => Decision::Staff {
                        ticket_id: c.ticket_id,
                        reference: c.reference.clone(),
                        member: member.clone(),
                        proof: proof.clone(),
                    },
                },
                None => Decision::StaffNoTicket { member: member.clone(), proof: proof.clone() },
            };
        }
        staff::StaffCheck::Failed { member, reason } => {
            return Decision::StaffRejected {
                member: member.clone(),
                reason: reason.clone(),
                ticket_id: facts.candidates.first().map(|c| c.ticket_id),
            };
        }
    }
    if let Some(c) = thread {
        return Decision::Correspondence { ticket_id: c.ticket_id, reference: c.reference.clone() };
    }
    if let Some(pgp) = &config.openpgp
        && facts.candidates.is_empty()
        && inbound.subject_refs.is_empty()
        && looks_like_key_request(inbound, &pgp.key_request_patterns, &config.report_form.sections)
    {
        return Decision::KeyRequest;
    }
    if facts.hour_cap_reached && !facts.admitted {
        return Decision::Flood {
            reason: format!(
                "flood: {0} new tickets in the last hour already (limits.new_tickets_per_hour = {0}): held, and made \
                 a ticket in its turn once the hour allows",
                limits.new_tickets_per_hour
            ),
        };
    }
    if facts.sender_tickets_last_day >= limits.new_tickets_per_sender_per_day && !facts.admitted {
        return Decision::Drop {
            reason: format!(
                "rate limit: {} new tickets from this sender in the last 24 hours (limits.new_tickets_per_sender_per_day = {})",
                facts.sender_tickets_last_day, limits.new_tickets_per_sender_per_day
            ),
            ticket_id: None,
        };
    }
    Decision::NewTicket
}

/// Why a signed staff mail may not act on `reference`: its signed content names other tickets (in its
/// protected Subject or as `[REF]` in its text), so its headers were changed or it is being replayed onto
/// another ticket; or it names none where the policy asks every signed staff mail to name its ticket.
fn unbound(inbound: &Inbound, proof: &staff::Proof, reference: &str, must_name: bool) -> Option<String> {
    let names = &inbound.body_names;
    if !matches!(proof, staff::Proof::Signature { .. }) {
        return None;
    }
    if names.is_empty() {
        return must_name.then(|| {
            format!(
                "the signed content names no ticket, and staff.signature_must_name_ticket asks it to name {reference}: \
                 quote the notification you answer, or keep the Subject inside the signature (PGP/MIME)"
            )
        });
    }
    if names.iter().any(|n| n.eq_ignore_ascii_case(reference)) {
        return None;
    }
    Some(format!(
        "the signed content names {}, but the mail was addressed to {reference}: a signed staff mail acts only on the \
         ticket it names (write other tickets' references without brackets)",
        names.join(", ")
    ))
}

/// The longest text (quotes and signature excluded) a key request may have: a report that happens to
/// mention "public key" must become a ticket, not a key in return.
pub const KEY_REQUEST_MAX_CHARS: usize = 1000;

/// Whether a mail asks for our key: a pattern in its subject or in a short text that fills no form section.
pub fn looks_like_key_request(inbound: &Inbound, patterns: &[String], sections: &[FormSection]) -> bool {
    // The sender's own words: not what they quote, not their signature, not a key block they paste (whose
    // armour line says "PGP PUBLIC KEY").
    let mut in_armour = false;
    let own: String = inbound
        .body
        .text
        .lines()
        .take_while(|l| l.trim_end() != "-- ")
        .filter(|l| !l.trim_start().starts_with('>'))
        .filter(|l| {
            let t = l.trim();
            if t.starts_with("-----BEGIN PGP") {
                in_armour = true;
            }
            let keep = !in_armour;
            if t.starts_with("-----END PGP") {
                in_armour = false;
            }
            keep
        })
        .collect::<Vec<_>>()
        .join("\n");
    if own.chars().count() > KEY_REQUEST_MAX_CHARS {
        return false;
    }
    let hay = format!("{}\n{}", inbound.subject, own).to_lowercase();
    // The patterns first: reading the form is the dearer test (every report takes it, and nearly every report
    // names no key request), and a mail must pass both.
    patterns.iter().any(|p| hay.contains(p.as_str())) && !form::parse(&own, sections).attempted()
}

/// Where a ticket's report form stands after a message.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FormProgress {
    /// Mandatory sections still unanswered, in the order of the form.
    pub missing: Vec<String>,
    /// The message tried to fill in the form (so a reminder of what is missing is a fitting answer).
    pub attempted: bool,
    /// This message completed the form.
    pub newly_complete: bool,
}

/// The form's state given what was answered before and what this message answered.
pub fn form_progress(
    answered_before: &[(String, String)],
    parsed: &form::Parsed,
    sections: &[FormSection],
    was_complete: bool,
) -> FormProgress {
    let answered =
        |name: &str| answered_before.iter().any(|(n, _)| n == name) || parsed.values.iter().any(|(n, _)| n == name);
    let missing: Vec<String> =
        sections.iter().filter(|s| s.mandatory && !answered(&s.name)).map(|s| s.name.clone()).collect();
    FormProgress { newly_complete: !was_complete && missing.is_empty(), missing, attempted: parsed.attempted() }
}

/// What a mail's form answers establish: the answers, what they say about the flaw, the researcher's word on
/// public credit, and where the form stands. Read from the text the mail vouches for (a signed block's, not
/// what stands beside it).
#[derive(Debug, Clone, PartialEq)]
pub struct FormAnswers {
    pub parsed: form::Parsed,
    /// Asset, weakness and severity, where the answers give them (a field left `None` keeps the ticket's).
    pub classification: crate::ticket::Classification,
    /// The answer to a credit section is the researcher's consent (or refusal): staff can credit only with it.
    pub credit: Option<crate::ticket::CreditConsent>,
    /// The answer to an `exploited` section: whether the researcher knows of attacks using the flaw.
    pub exploited: Option<bool>,
    pub progress: FormProgress,
}

impl FormAnswers {
    /// The sections answered, for the timeline (`None` when the mail answered none): those read from the
    /// prose say so, and from what.
    pub fn answered(&self) -> Option<String> {
        let p = &self.parsed;
        let labelled: Vec<&str> = p.values.iter().map(|(n, _)| n.as_str()).filter(|n| !p.is_understood(n)).collect();
        let understood: Vec<String> = p.understood.iter().map(|(n, from)| format!("{n} (from {from})")).collect();
        let mut parts = Vec::new();
        if !labelled.is_empty() {
            parts.push(labelled.join(", "));
        }
        if !understood.is_empty() {
            parts.push(format!("read from the prose: {}", understood.join(", ")));
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }
}

/// Reads the form out of `text`, given what was answered before and whether the form was complete: its
/// labelled sections, then — with `letter`, the mail around it — what its prose tells of the sections still
/// unanswered (see [`form::read_prose`]).
pub fn form_answers(
    text: &str,
    letter: Option<&form::Letter<'_>>,
    sections: &[FormSection],
    answered_before: &[(String, String)],
    was_complete: bool,
) -> FormAnswers {
    use crate::config::SectionKind;
    let mut parsed = form::parse(text, sections);
    if let Some(letter) = letter {
        let mut known = parsed.clone();
        known.values.extend(answered_before.iter().cloned());
        let understood = form::read_prose(text, letter, sections, &known);
        parsed.add_understood(understood, sections);
    }
    let mut classification = crate::ticket::Classification::default();
    let mut credit = None;
    let mut exploited = None;
    for s in sections {
        let Some(value) = parsed.get(&s.name) else { continue };
        match s.kind {
            SectionKind::Asset => classification.asset = value.lines().next().map(|l| l.trim().to_string()),
            SectionKind::Weakness => classification.weakness = form::cwe(value).and_then(Result::ok),
            SectionKind::Severity => {
                if let Ok(scored) = form::severity(value) {
                    classification.severity = Some(scored.band.as_str().to_string());
                    classification.cvss_vector = scored.vector;
                    classification.cvss_score = scored.score;
                }
            }
            SectionKind::Credit => credit = Some(crate::ticket::CreditConsent::from_answer(value)),
            SectionKind::Exploited => exploited = form::exploited(value).ok(),
            _ => {}
        }
    }
    let progress = form_progress(answered_before, &parsed, sections, was_complete);
    FormAnswers { parsed, classification, credit, exploited, progress }
}

/// May report detail (staff's words, the answers a researcher sent) go to the researcher in this mail? Always
/// when it is encrypted to them; in clear text only when the policy allows it (`report_detail =
/// "plaintext-allowed"`, or no OpenPGP at all). Staff can override it for one mail (`#cleartext`).
pub fn may_send_detail(openpgp: Option<&crate::config::OpenPgpConfig>, encrypted: bool) -> bool {
    encrypted || openpgp.is_none_or(|o| o.report_detail == crate::config::ReportDetail::PlaintextAllowed)
}

/// May another automatic reply go to this ticket today? The RFC 3834 guard against two machines talking.
pub fn may_auto_reply(auto_replies_last_day: u32, limits: &Limits) -> bool {
    auto_replies_last_day < limits.auto_replies_per_ticket_per_day
}

/// A mail to send, before rendering: what it is, how it is addressed and how it threads. Who receives it is
/// the caller's (the researcher, the staff under the encryption policy).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailPlan {
    /// What it is: its template, its kind, what its template needs.
    pub mail: Mail,
    pub subject: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// Whether a machine wrote it (RFC 3834), which decides its `Auto-Submitted` header and whether it counts
    /// towards the per-ticket limit of automatic replies.
    pub auto: Auto,
    /// Set `Reply-To:` to the security address (mail to staff: their answers thread back by `[REF]`).
    pub reply_to_desk: bool,
}

impl MailPlan {
    /// The header fields the plan decides, as the mail's final bytes carry them.
    pub fn headers(&self) -> Headers {
        Headers {
            subject: self.subject.clone(),
            in_reply_to: self.in_reply_to.clone(),
            references: self.references.clone(),
            auto: self.auto,
            language: None,
        }
    }
}

/// The header fields of a planned mail that are not about who receives it: what the shell composes the final
/// bytes with, after the transaction that queued the mail has committed (so they are kept, serialised, until
/// then).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Headers {
    pub subject: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    pub auto: Auto,
    /// The language the text is written in (`Content-Language` of the text part), once it is rendered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<crate::lang::Lang>,
}

/// RFC 3834: who wrote a mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Auto {
    /// Written by a person (a staff member's words relayed, an outcome they decided): no `Auto-Submitted`.
    No,
    /// An automatic answer to a mail (`Auto-Submitted: auto-replied`); counted against loops.
    Replied,
    /// Generated by vdpd on its own, e.g. a notification to staff (`Auto-Submitted: auto-generated`).
    Generated,
}

/// The most Message-IDs we repeat in References (RFC 5322 allows trimming; the first and the latest matter).
const MAX_REFERENCES: usize = 10;

/// The reply to a researcher's mail in ticket `reference`: `[REF] Re: <their subject>`, threaded under it.
pub fn reply_plan(mail: Mail, reference: &str, inbound: &Inbound, org: &Organisation) -> MailPlan {
    let base = mailtext::base_subject(&inbound.subject, &org.ticket_prefix);
    let subject =
        if base.is_empty() { format!("[{reference}] Re: your report") } else { format!("[{reference}] Re: {base}") };
    // References: their thread (oldest first) then their message; trimmed to the first and the latest.
    let mut references: Vec<String> = inbound.references.clone();
    if let Some(id) = &inbound.message_id {
        references.retain(|r| r != id);
        references.push(id.clone());
    }
    if references.len() > MAX_REFERENCES {
        let tail = references.split_off(references.len() - (MAX_REFERENCES - 1));
        references.truncate(1);
        references.extend(tail);
    }
    MailPlan {
        mail,
        subject,
        in_reply_to: inbound.message_id.clone(),
        references,
        auto: Auto::Replied,
        reply_to_desk: false,
    }
}

/// The answer to a key request (no ticket, so no reference in the subject).
pub fn key_reply_plan(inbound: &Inbound, org: &Organisation) -> MailPlan {
    let base = mailtext::base_subject(&inbound.subject, &org.ticket_prefix);
    MailPlan {
        mail: Mail::PublicKey,
        subject: if base.is_empty() { "Our OpenPGP key".into() } else { format!("Re: {base}") },
        in_reply_to: inbound.message_id.clone(),
        references: inbound.message_id.iter().cloned().collect(),
        auto: Auto::Replied,
        reply_to_desk: false,
    }
}

/// Decides a request for our OpenPGP key (it opens no ticket), given what the store holds of the sender's key
/// and how many automatic replies went to the address in the last 24 hours: what it teaches about the
/// sender's own key, the answer with ours unless the daily cap on automatic replies to the address is
/// reached, and the journal's record.
pub fn key_request(inbound: &Inbound, key: &keys::KeyFacts<'_>, sent_last_day: u32, config: &Config) -> Plan {
    let answer = may_auto_reply(sent_last_day, &config.limits);
    let mut plan = Plan::new(key_request_entry((!answer).then_some(sent_last_day)));
    plan.effects.extend(keys::learn_offered(inbound, key).map(Effect::Key));
    if answer {
        plan.effects.push(Effect::SendKey(Box::new(key_reply_plan(inbound, &config.organisation))));
    }
    plan
}

/// A notification to staff about a ticket.
pub fn staff_plan(mail: Mail, reference: &str, what: &str, subject: &str) -> MailPlan {
    MailPlan {
        mail,
        subject: format!("[{reference}] {what}: {subject}"),
        in_reply_to: None,
        references: Vec::new(),
        auto: Auto::Generated,
        reply_to_desk: true,
    }
}

/// A mail to the researcher decided by staff (their words, an outcome): threaded under the researcher's latest
/// message, written by a person.
pub fn to_researcher_plan(
    mail: Mail,
    reference: &str,
    subject: &str,
    in_reply_to: Option<String>,
    references: Vec<String>,
    prefix: &str,
) -> MailPlan {
    let base = mailtext::base_subject(subject, prefix);
    MailPlan {
        mail,
        subject: if base.is_empty() {
            format!("[{reference}] Your report")
        } else {
            format!("[{reference}] Re: {base}")
        },
        in_reply_to,
        references,
        auto: Auto::No,
        reply_to_desk: false,
    }
}

/// The most co-reporters one mail can propose.
const MAX_NAMED_CO_REPORTERS: usize = 5;

/// The co-reporters a researcher's own words name, as (display name, address): a line (not quoted) labelled
/// "Co-reporters:", "Co-researcher:", "Reported with:" (or in French, German, Spanish) listing addresses,
/// each `addr` or `Name <addr>`, separated by commas, semicolons or "and". They are only proposals: staff
/// confirm each with `#participant add` before the address receives anything.
pub fn co_reporters_named(text: &str) -> Vec<(String, String)> {
    const LABELS: &[&str] = &[
        "co-reporter",
        "co-reporters",
        "coreporter",
        "coreporters",
        "co-researcher",
        "co-researchers",
        "reported with",
        "found with",
        "co-rapporteur",
        "co-rapporteurs",
        "co-auteur",
        "co-auteurs",
        "mitentdecker",
        "co-descubridor",
        "co-descubridores",
    ];
    let mut out: Vec<(String, String)> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.starts_with('>')) {
        let Some((label, rest)) = line.split_once(':') else { continue };
        let label = label.trim().trim_start_matches(['*', '-', ' ']).trim_end_matches('*').trim().to_lowercase();
        if !LABELS.contains(&label.as_str()) {
            continue;
        }
        for entry in
            rest.replace(" and ", ",").replace(" et ", ",").replace(" und ", ",").replace(" y ", ",").split([',', ';'])
        {
            let entry = entry.trim();
            let (name, address) = match (entry.find('<'), entry.rfind('>')) {
                (Some(open), Some(close)) if open < close => {
                    (entry[..open].trim().trim_matches('"').trim(), &entry[open + 1..close])
                }
                _ => ("", entry),
            };
            if let Some(address) = mailtext::normalize_address(address.trim())
                && !out.iter().any(|(_, a)| *a == address)
                && out.len() < MAX_NAMED_CO_REPORTERS
            {
                out.push((mailtext::clean_header_text(name, mailtext::MAX_NAME_CHARS), address));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests;

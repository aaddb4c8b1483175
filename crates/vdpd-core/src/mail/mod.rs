//! Every mail vdpd writes, one type each: which template renders it, the kind recorded on its message and
//! outbox rows, and what its template needs beyond what every mail of a ticket has.
//!
//! A [`Mail`] is decided (by the core or the shell's intake) before anything is rendered; the shell renders
//! `mail.template()` with a [`TicketContext`] the mail has [filled](Mail::fill). Because what a template needs
//! travels in its variant — a reminder cannot be built without its clock, a report form without its form —
//! the template self-test no longer keeps its own list of which template gets which field: it renders
//! [`Mail::samples`] of a bare and of a full context, and a new mail is one variant here plus its template.
//!
//! [`Notice`]s are the same for the short texts (an outcome, a bounty, a disclosure date) that go to the
//! researcher inside the staff's answer ([`Mail::ToResearcher`]).

pub mod context;

pub use context::*;

use serde::Serialize;

use crate::ticket::Outcome;

crate::ticket::stored_words! {
    /// What a message of a ticket is, as its message (and outbox) row records it and `vdpd tickets show`
    /// names it: the kinds of mail received, then one per [`Mail`].
    pub enum MessageKind ("message kind") {
        /// The mail that opened the ticket.
        Report = "report",
        /// A later mail of the researcher's.
        Reply = "reply",
        /// A staff member's mail about the ticket.
        Staff = "staff",
        /// A staff member's mail marked `#internal`: nothing of it went to the researcher.
        StaffNote = "staff-note",
        Acknowledgement = "acknowledgement",
        ReportForm = "report-form",
        FormMissing = "form-missing",
        Undecryptable = "undecryptable",
        PublicKey = "public-key",
        StaffReportComplete = "staff-report-complete",
        StaffNewReport = "staff-new-report",
        StaffCorrespondence = "staff-correspondence",
        StaffWarning = "staff-warning",
        /// The daily digest of the slow lane's new reports.
        StaffDigest = "staff-digest",
        StaffConfirmation = "staff-confirmation",
        StaffError = "staff-error",
        /// Staff's words (and the notices of what they decided) to the researcher.
        ToResearcher = "staff-reply",
        /// The status, in answer to a researcher's enquiry.
        Status = "status",
        /// A polite "not again so soon" to an enquiry within the policy's interval.
        StatusThrottled = "status-throttled",
        /// The periodic status mail ("keep the researcher informed").
        StatusUpdate = "status-update",
        StaffReminder = "staff-reminder",
        Escalation = "escalation",
        /// vdpd itself needs attention (its mailbox login failing).
        AdminAlert = "admin-alert",
        DisclosureReminder = "disclosure-reminder",
        DisclosureDue = "disclosure-due",
        RetentionReceipt = "retention-receipt",
        ErasureReceipt = "erasure-receipt",
    }
}

impl MessageKind {
    /// Whether this is mail we received (the rest is mail we wrote).
    pub fn is_incoming(self) -> bool {
        matches!(self, MessageKind::Report | MessageKind::Reply | MessageKind::Staff | MessageKind::StaffNote)
    }
}

/// A mail vdpd writes, with what its template needs that not every mail has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mail {
    /// The answer to a new report; carries the report form when the policy sends it with the acknowledgement
    /// and the report lacks mandatory sections.
    Acknowledgement { form: Option<FormContext> },
    /// The report form on its own (the policy's `delivery = "separate"`).
    ReportForm { form: FormContext },
    /// What a researcher's answer to the form still lacks or got wrong.
    FormMissing { form: FormContext },
    /// Their mail could not be decrypted: why, and our key again.
    Undecryptable { error: String },
    /// The answer to a request for our OpenPGP key.
    PublicKey,
    /// Staff: a new report.
    StaffNewReport,
    /// Staff: the researcher wrote (or asked for the status).
    StaffCorrespondence,
    /// Staff: the researcher's answer completed the report form.
    StaffReportComplete,
    /// Staff: what another member did with the ticket (their note, their commands).
    StaffActivity { member: String, changes: Vec<String>, text: String },
    /// Staff: to the member who wrote, what their mail did.
    StaffConfirmation { member: String, changes: Vec<String> },
    /// Staff: to the member who wrote, why nothing was done.
    StaffError { member: Option<String>, errors: Vec<String> },
    /// Staff: something needs their attention (forged staff mail, a quarantined message, a flood).
    StaffWarning { warning: String, message: Option<MessageContext> },
    /// Staff: the slow lane's new reports since the last digest (`[limits] trial_reports_per_month`).
    StaffDigest { reports: Vec<DigestEntry> },
    /// The escalation contacts: vdpd itself needs attention.
    AdminAlert { warning: String },
    /// Staff's words and the notices of their decisions, to the researcher.
    ToResearcher { text: Option<String>, notices: Vec<String> },
    /// The status, in answer to an enquiry.
    Status { status: StatusContext },
    /// The enquiry came sooner than the policy answers them.
    StatusThrottled { status: StatusContext },
    /// The periodic status mail.
    StatusUpdate { status: StatusContext },
    /// Staff: a clock comes due, or a date has come.
    StaffReminder { clock: ClockContext, status: StatusContext },
    /// The escalation contacts: a promise was broken (no report content: they may have no certificate).
    Escalation { clock: ClockContext },
    /// The researcher: the disclosure date comes near.
    DisclosureReminder { clock: ClockContext, status: StatusContext },
    /// The researcher: the disclosure date has come.
    DisclosureDue { clock: ClockContext, status: StatusContext },
    /// The researcher: their report's content was purged under the retention policy.
    RetentionReceipt { retention: RetentionContext },
    /// The researcher: their personal data was erased on their request.
    ErasureReceipt { retention: RetentionContext },
}

impl Mail {
    /// What its message and outbox rows record.
    pub fn kind(&self) -> MessageKind {
        match self {
            Mail::Acknowledgement { .. } => MessageKind::Acknowledgement,
            Mail::ReportForm { .. } => MessageKind::ReportForm,
            Mail::FormMissing { .. } => MessageKind::FormMissing,
            Mail::Undecryptable { .. } => MessageKind::Undecryptable,
            Mail::PublicKey => MessageKind::PublicKey,
            Mail::StaffNewReport => MessageKind::StaffNewReport,
            Mail::StaffCorrespondence | Mail::StaffActivity { .. } => MessageKind::StaffCorrespondence,
            Mail::StaffReportComplete => MessageKind::StaffReportComplete,
            Mail::StaffConfirmation { .. } => MessageKind::StaffConfirmation,
            Mail::StaffError { .. } => MessageKind::StaffError,
            Mail::StaffWarning { .. } => MessageKind::StaffWarning,
            Mail::StaffDigest { .. } => MessageKind::StaffDigest,
            Mail::AdminAlert { .. } => MessageKind::AdminAlert,
            Mail::ToResearcher { .. } => MessageKind::ToResearcher,
            Mail::Status { .. } => MessageKind::Status,
            Mail::StatusThrottled { .. } => MessageKind::StatusThrottled,
            Mail::StatusUpdate { .. } => MessageKind::StatusUpdate,
            Mail::StaffReminder { .. } => MessageKind::StaffReminder,
            Mail::Escalation { .. } => MessageKind::Escalation,
            Mail::DisclosureReminder { .. } => MessageKind::DisclosureReminder,
            Mail::DisclosureDue { .. } => MessageKind::DisclosureDue,
            Mail::RetentionReceipt { .. } => MessageKind::RetentionReceipt,
            Mail::ErasureReceipt { .. } => MessageKind::ErasureReceipt,
        }
    }

    /// The template file (under `templates/`) that renders it.
    pub fn template(&self) -> &'static str {
        match self {
            Mail::Acknowledgement { .. } => "acknowledgement.txt",
            Mail::ReportForm { .. } => "report_form.txt",
            Mail::FormMissing { .. } => "form_missing.txt",
            Mail::Undecryptable { .. } => "undecryptable.txt",
            Mail::PublicKey => "public_key.txt",
            Mail::StaffNewReport => "staff_new_report.txt",
            Mail::StaffCorrespondence => "staff_correspondence.txt",
            Mail::StaffReportComplete => "staff_report_complete.txt",
            Mail::StaffActivity { .. } => "staff_activity.txt",
            Mail::StaffConfirmation { .. } => "staff_confirmation.txt",
            Mail::StaffError { .. } => "staff_error.txt",
            Mail::StaffWarning { .. } => "staff_warning.txt",
            Mail::StaffDigest { .. } => "staff_digest.txt",
            Mail::AdminAlert { .. } => "admin_alert.txt",
            Mail::ToResearcher { .. } => "to_researcher.txt",
            Mail::Status { .. } | Mail::StatusUpdate { .. } => "status.txt",
            Mail::StatusThrottled { .. } => "status_throttled.txt",
            Mail::StaffReminder { .. } => "staff_reminder.txt",
            Mail::Escalation { .. } => "escalation.txt",
            Mail::DisclosureReminder { .. } | Mail::DisclosureDue { .. } => "disclosure_reminder.txt",
            Mail::RetentionReceipt { .. } => "retention_receipt.txt",
            Mail::ErasureReceipt { .. } => "erasure_receipt.txt",
        }
    }

    /// Whether our public key goes with it (`application/pgp-keys`): with every mail that asks the researcher
    /// for the report's detail, and with the answer to a key request.
    pub fn attaches_key(&self) -> bool {
        matches!(
            self,
            Mail::Acknowledgement { form: Some(_) }
                | Mail::ReportForm { .. }
                | Mail::Undecryptable { .. }
                | Mail::PublicKey
        )
    }

    /// Puts what this mail carries into the context its template is rendered with.
    pub fn fill(&self, ctx: &mut TicketContext) {
        match self {
            Mail::Acknowledgement { form } => ctx.form.clone_from(form),
            Mail::ReportForm { form } | Mail::FormMissing { form } => ctx.form = Some(form.clone()),
            Mail::Undecryptable { error } => ctx.decrypt_error = Some(error.clone()),
            Mail::PublicKey | Mail::StaffNewReport | Mail::StaffCorrespondence | Mail::StaffReportComplete => {}
            Mail::StaffActivity { member, changes, text } => {
                ctx.staff_member = Some(member.clone());
                ctx.changes.clone_from(changes);
                ctx.text = Some(text.clone());
            }
            Mail::StaffConfirmation { member, changes } => {
                ctx.staff_member = Some(member.clone());
                ctx.changes.clone_from(changes);
            }
            Mail::StaffError { member, errors } => {
                ctx.staff_member.clone_from(member);
                ctx.errors.clone_from(errors);
            }
            Mail::StaffWarning { warning, message } => {
                ctx.warning = Some(warning.clone());
                ctx.message.clone_from(message);
            }
            Mail::StaffDigest { reports } => ctx.digest.clone_from(reports),
            Mail::AdminAlert { warning } => ctx.warning = Some(warning.clone()),
            Mail::ToResearcher { text, notices } => {
                ctx.text.clone_from(text);
                ctx.notices.clone_from(notices);
            }
            Mail::Status { status } | Mail::StatusThrottled { status } | Mail::StatusUpdate { status } => {
                ctx.status = Some(status.clone())
            }
            Mail::StaffReminder { clock, status }
            | Mail::DisclosureReminder { clock, status }
            | Mail::DisclosureDue { clock, status } => {
                ctx.clock = Some(clock.clone());
                ctx.status = Some(status.clone());
            }
            Mail::Escalation { clock } => ctx.clock = Some(clock.clone()),
            Mail::RetentionReceipt { retention } | Mail::ErasureReceipt { retention } => {
                ctx.retention = Some(retention.clone())
            }
        }
    }

    /// One mail of every kind, its payload taken from `of` (defaults where `of` has nothing): of a bare
    /// context, the least each template is ever given; of [`TicketContext::sample`], everything it can show.
    /// The template self-test renders all of them; a test checks that they cover every template.
    pub fn samples(of: &TicketContext) -> Vec<Mail> {
        let form = || of.form.clone().unwrap_or_default();
        let status = || of.status.clone().unwrap_or_default();
        let clock = || of.clock.clone().unwrap_or_default();
        let cra_clock = || ClockContext {
            name: "CRA early warning".into(),
            promise: "24 hours of becoming aware".into(),
            cra_stage: Some("early-warning".into()),
            severity: None,
            ..clock()
        };
        let retention = || of.retention.clone().unwrap_or_default();
        let member = of.staff_member.clone().unwrap_or_else(|| "alice@example.org".into());
        let warning =
            of.warning.clone().unwrap_or_else(|| "a mail from the staff address failed authentication".into());
        vec![
            Mail::Acknowledgement { form: None },
            Mail::Acknowledgement { form: Some(form()) },
            Mail::ReportForm { form: form() },
            Mail::FormMissing { form: form() },
            Mail::Undecryptable { error: of.decrypt_error.clone().unwrap_or_default() },
            Mail::PublicKey,
            Mail::StaffNewReport,
            Mail::StaffCorrespondence,
            Mail::StaffReportComplete,
            Mail::StaffActivity {
                member: member.clone(),
                changes: of.changes.clone(),
                text: of.text.clone().unwrap_or_default(),
            },
            Mail::StaffConfirmation { member: member.clone(), changes: of.changes.clone() },
            Mail::StaffError { member: None, errors: of.errors.clone() },
            Mail::StaffError { member: Some(member), errors: of.errors.clone() },
            Mail::StaffWarning { warning: warning.clone(), message: of.message.clone() },
            Mail::StaffDigest { reports: of.digest.clone() },
            Mail::AdminAlert { warning },
            Mail::ToResearcher { text: of.text.clone(), notices: of.notices.clone() },
            Mail::Status { status: status() },
            // Its template always quotes the interval and the dates: the throttle knows them.
            Mail::StatusThrottled {
                status: of.status.clone().unwrap_or_else(|| StatusContext {
                    enquiry_interval: Some("14 days".into()),
                    next_enquiry_from: Some("2026-12-07".into()),
                    last_answered: Some("2026-11-23".into()),
                    ..StatusContext::default()
                }),
            },
            Mail::StatusUpdate { status: StatusContext { periodic: true, ..status() } },
            Mail::StaffReminder { clock: clock(), status: status() },
            Mail::StaffReminder { clock: cra_clock(), status: status() },
            Mail::Escalation { clock: clock() },
            Mail::Escalation { clock: cra_clock() },
            Mail::DisclosureReminder { clock: clock(), status: status() },
            Mail::DisclosureDue { clock: ClockContext { state: "reached".into(), ..clock() }, status: status() },
            Mail::RetentionReceipt { retention: retention() },
            Mail::ErasureReceipt { retention: retention() },
        ]
    }
}

/// A short text to the researcher about a decision, rendered by its own template into the staff's answer
/// ([`Mail::ToResearcher`]'s notices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The ticket was closed without a fix: duplicate, not applicable (under a clause), informative.
    Closed { outcome: Outcome, context: OutcomeContext },
    /// A bounty was awarded.
    Bounty { bounty: BountyContext },
    /// The bounty was paid.
    Paid,
    /// The flaw is fixed: the researcher is asked to confirm, and reminded of their own deletion duty.
    Resolved,
    /// A coordinated disclosure date was set.
    Disclose { on: String },
    /// The credit the researcher will get (or "none").
    Credit { credit: String },
}

impl Notice {
    /// The template file that renders it.
    pub fn template(&self) -> &'static str {
        match self {
            Notice::Closed { outcome: Outcome::Duplicate, .. } => "outcome_duplicate.txt",
            Notice::Closed { outcome: Outcome::NotApplicable, .. } => "outcome_not_applicable.txt",
            Notice::Closed { outcome: Outcome::Informative, .. } => "outcome_informative.txt",
            Notice::Bounty { .. } => "outcome_bounty.txt",
            Notice::Paid => "outcome_paid.txt",
            Notice::Resolved => "outcome_resolved.txt",
            Notice::Disclose { .. } => "outcome_disclose.txt",
            Notice::Credit { .. } => "outcome_credit.txt",
        }
    }

    /// Puts what the notice carries into the context (as `outcome`).
    pub fn fill(&self, ctx: &mut TicketContext) {
        ctx.outcome = Some(match self {
            Notice::Closed { context, .. } => context.clone(),
            Notice::Bounty { bounty } => OutcomeContext { bounty: Some(bounty.clone()), ..OutcomeContext::default() },
            Notice::Paid | Notice::Resolved => OutcomeContext::default(),
            Notice::Disclose { on } => OutcomeContext { disclose_on: Some(on.clone()), ..OutcomeContext::default() },
            Notice::Credit { credit } => OutcomeContext { credit: Some(credit.clone()), ..OutcomeContext::default() },
        });
    }

    /// One notice of every kind, from `of` as for [`Mail::samples`].
    pub fn samples(of: &TicketContext) -> Vec<Notice> {
        let outcome = of.outcome.clone().unwrap_or_default();
        let mut out: Vec<Notice> =
            Outcome::ALL.iter().map(|&o| Notice::Closed { outcome: o, context: outcome.clone() }).collect();
        out.extend([
            Notice::Bounty { bounty: outcome.bounty.clone().unwrap_or_default() },
            Notice::Paid,
            Notice::Resolved,
            Notice::Disclose { on: outcome.disclose_on.clone().unwrap_or_else(|| "2027-02-21".into()) },
            Notice::Credit { credit: outcome.credit.clone().unwrap_or_else(|| "none".into()) },
        ]);
        out
    }
}

/// Every template a [`Mail`] or a [`Notice`] renders (partials and the hall of fame are not mails).
pub fn templates() -> Vec<&'static str> {
    let bare = TicketContext::default();
    let mut names: Vec<&'static str> = Mail::samples(&bare).iter().map(Mail::template).collect();
    names.extend(Notice::samples(&bare).iter().map(Notice::template));
    names.sort_unstable();
    names.dedup();
    names
}

#[cfg(test)]
mod tests;

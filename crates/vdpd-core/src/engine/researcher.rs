//! What a researcher's mail causes, once the engine has said it opens a ticket or joins one: which answers go
//! back (the acknowledgement, the form with it or after it, what the form still lacks, the help for a mail we
//! could not decrypt, the status), what staff hear, when the ticket starts or stops waiting on the
//! researcher, and when a completed form moves it to triage.
//!
//! The shell reads a [`Snapshot`] of what the store holds, asks [`plan`] for everything the mail causes —
//! the ticket opened, the message and timeline entries recorded, the key learned, the form's answers, then
//! what follows from them — and carries the [`Plan`] out in order in the mail's transaction.

use crate::classify::Inbound;
use crate::config::{Config, FormDelivery};
use crate::engine::keys::KeyFacts;
use crate::engine::plan::{Effect, News, Plan};
use crate::engine::{FormProgress, IntakeStatus, JournalEntry};
use crate::mail::MessageKind;
use crate::openpgp::read::Signature;
use crate::ticket::WaitReason;
use crate::timeline::Event;

/// What the store holds that a researcher's mail is decided on, read before anything of the mail is written.
#[derive(Debug, Clone, Copy)]
pub struct Snapshot<'a> {
    /// The ticket the mail joins; `None`: the mail is a new report.
    pub ticket: Option<TicketSnapshot>,
    /// The form's answers so far (none for a new report).
    pub answered: &'a [(String, String)],
    /// What decides the sender's key, if the mail offers one.
    pub key: KeyFacts<'a>,
    /// The sender's earlier reports (a new report: whether it goes to the slow lane).
    pub sender: SenderHistory,
}

/// What the store knows of a sender's earlier reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SenderHistory {
    /// Their tickets opened in the last 30 days, before this mail.
    pub reports_last_30_days: u32,
    /// One of their reports was ever found valid (accepted, fixing or resolved): they are not on trial.
    pub validated: bool,
}

impl SenderHistory {
    /// Whether a new report of theirs goes to the slow lane (`[limits] trial_reports_per_month`): a sender
    /// on trial who already sent the month's quota. Never a refusal: see [`crate::ticket::Lane`].
    pub fn slow_lane(&self, config: &Config) -> bool {
        config.limits.trial_reports_per_month.is_some_and(|quota| !self.validated && self.reports_last_30_days >= quota)
    }
}

/// The joined ticket as the decision needs it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TicketSnapshot {
    /// Its report form was complete before this mail.
    pub form_complete: bool,
    /// It is marked actively exploited already.
    pub exploited: bool,
}

/// Decides everything a researcher's mail causes: a new report when `snapshot.ticket` is `None`, else a
/// reply on that ticket.
pub fn plan(inbound: &Inbound, snapshot: &Snapshot<'_>, config: &Config) -> Plan {
    let form_cfg = &config.report_form;
    let undecryptable = inbound.crypto.error.is_some();
    let (status, kind, opened) = match snapshot.ticket {
        None => (IntakeStatus::Ticket, MessageKind::Report, Event::TicketOpened),
        Some(_) => (IntakeStatus::Correspondence, MessageKind::Reply, Event::ResearcherWrote),
    };
    let mut plan = Plan::new(JournalEntry { status, reason: String::new(), dedup: true });
    if snapshot.ticket.is_none() {
        plan.effects.push(Effect::OpenTicket);
    }
    plan.effects.push(Effect::Record(kind));
    plan.effects.push(Effect::timeline(opened, inbound.subject.clone()));
    plan.effects.extend(crypto_note(inbound).map(|note| Effect::timeline(Event::OpenPgp, note)));
    plan.effects.extend(super::keys::learn_offered(inbound, &snapshot.key).map(Effect::Key));
    let enquiry = snapshot.ticket.is_some()
        && super::enquiry::is_status_enquiry(inbound, &form_cfg.sections, &config.organisation.ticket_prefix);
    let form_complete_before = snapshot.ticket.is_some_and(|t| t.form_complete);
    let reads = match snapshot.ticket {
        None => !undecryptable,
        Some(t) => reads_form(enquiry, undecryptable, t.form_complete),
    };
    // Form answers come from what the mail vouches for: a signed block's text, not what stands beside it.
    let policy_url: Vec<&str> = config.organisation.policy_url.iter().map(String::as_str).collect();
    // The title read from the subject never repeats a reference tag (a stranger's "Re: [EX-2026-0001]" names
    // another ticket) nor reply markers.
    let subject = crate::mailtext::base_subject(&inbound.subject, &config.organisation.ticket_prefix);
    let letter = crate::form::Letter {
        opening: snapshot.ticket.is_none(),
        subject: &subject,
        sender: &inbound.sender,
        sender_name: &inbound.sender_name,
        scope: &config.scope,
        ignore_urls: &policy_url,
    };
    let letter = form_cfg.read_prose.then_some(&letter);
    let form = (form_cfg.enabled && reads).then(|| {
        super::form_answers(&inbound.body.text, letter, &form_cfg.sections, snapshot.answered, form_complete_before)
    });
    let awaits_precondition = !awaiting(config, form.as_ref().map(|a| &a.parsed), snapshot.answered).is_empty();
    let facts = Facts {
        form: form.as_ref().map(|a| a.progress.clone()),
        undecryptable,
        enquiry,
        form_complete_before,
        awaits_precondition,
        slow_lane: snapshot.ticket.is_none() && snapshot.sender.slow_lane(config),
    };
    let exploited = config.cra.enabled
        && !snapshot.ticket.is_some_and(|t| t.exploited)
        && form.as_ref().is_some_and(|a| a.exploited == Some(true));
    plan.effects.extend(form.map(|a| Effect::Form(Box::new(a))));
    if exploited {
        plan.effects.push(Effect::Exploited);
    }
    plan.effects.push(Effect::Reindex);
    plan.effects.extend(match snapshot.ticket {
        None => new_report(&facts, form_cfg.delivery),
        Some(_) => correspondence(&facts),
    });
    plan
}

/// The sections the diagnosis clock waits for (`sla.diagnosis_waits_for`) that the report still lacks, given
/// the answers so far and those of this mail (`None`: it was not read). Empty when the policy's clock waits
/// for nothing, or nothing pauses it.
pub fn awaiting(
    config: &Config,
    this_mail: Option<&crate::form::Parsed>,
    answered: &[(String, String)],
) -> Vec<String> {
    let sla = &config.sla;
    if !config.report_form.enabled || !sla.pause_diagnosis_while_waiting || sla.first_diagnosis.is_none() {
        return Vec::new();
    }
    let has = |name: &str| answered.iter().any(|(n, _)| n == name) || this_mail.is_some_and(|p| p.get(name).is_some());
    sla.diagnosis_waits_for.iter().filter(|n| !has(n)).cloned().collect()
}

/// What OpenPGP said about a mail, for the ticket's timeline: decrypted or not, the signature's verdict, and
/// text beside a signed part (which nothing vouches for). `None` for a plain mail.
pub fn crypto_note(inbound: &Inbound) -> Option<String> {
    let c = &inbound.crypto;
    let mut notes = Vec::new();
    if c.decrypted {
        notes.push("decrypted".to_string());
    }
    if let Some(e) = &c.error {
        notes.push(format!("could not be decrypted: {e}"));
    }
    if let Some(n) = &c.note {
        notes.push(n.clone());
    }
    match &inbound.body.signature {
        Signature::None => {}
        Signature::Good { cert, .. } => notes.push(format!("good signature by {cert}")),
        Signature::Unknown { issuer } => notes.push(format!("signed by an unknown key {issuer}")),
        Signature::Bad { reason } => notes.push(format!("BAD signature: {reason}")),
    }
    if inbound.body.signature != Signature::None && !inbound.outside.text.trim().is_empty() {
        notes.push("partly signed: text beside the signed part was not signed".into());
    }
    (!notes.is_empty()).then(|| notes.join("; "))
}

/// What the shell found out about the mail before deciding.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    /// What the mail did to the report form; `None` when the form was not read (the policy has none, the mail
    /// could not be decrypted, or the form was complete already).
    pub form: Option<FormProgress>,
    /// The mail was encrypted and we could not decrypt it.
    pub undecryptable: bool,
    /// A status enquiry (correspondence only): news asked for, nothing else.
    pub enquiry: bool,
    /// The ticket's form was complete before this mail (correspondence only).
    pub form_complete_before: bool,
    /// A section the policy's diagnosis clock waits for is still missing after this mail.
    pub awaits_precondition: bool,
    /// A new report in the slow lane: staff read of it in the daily digest.
    pub slow_lane: bool,
}

/// Whether a reply's form is read at all: not for an enquiry (a question is no answer), not for a mail we
/// could not decrypt, and not once the form is complete.
pub fn reads_form(enquiry: bool, undecryptable: bool, form_complete: bool) -> bool {
    !enquiry && !undecryptable && !form_complete
}

/// What follows from a new report.
pub fn new_report(facts: &Facts, delivery: FormDelivery) -> Vec<Effect> {
    let incomplete = facts.form.as_ref().is_some_and(|p| !p.missing.is_empty());
    let with_ack = delivery == FormDelivery::WithAcknowledgement;
    let mut steps = vec![Effect::Acknowledge { with_form: incomplete && with_ack }];
    if incomplete && !with_ack {
        steps.push(Effect::SendForm);
    }
    if facts.undecryptable {
        steps.push(Effect::SendUndecryptable);
    }
    if facts.form.as_ref().is_some_and(|p| p.newly_complete) {
        steps.push(Effect::FormComplete);
    }
    // Staff hear of every new report (a complete form shows as such in the same mail) — at once, or in the
    // slow lane's digest.
    steps.push(if facts.slow_lane { Effect::SlowLane } else { Effect::Notify(News::NewReport) });
    // The acknowledgement is the researcher's first news; a report that lacks what the policy's diagnosis
    // waits for waits on them (a report that only lacks other sections does not: its clock runs).
    steps.push(Effect::Informed);
    if facts.awaits_precondition {
        steps.push(Effect::Wait(WaitReason::Form));
    }
    steps
}

/// What follows from a later mail of the researcher's on their ticket.
pub fn correspondence(facts: &Facts) -> Vec<Effect> {
    if facts.enquiry {
        // Only news asked for: the status; staff see it too. A question is no answer: a ticket waiting on the
        // researcher goes on waiting.
        return vec![Effect::AnswerEnquiry, Effect::Notify(News::StatusEnquiry)];
    }
    let mut steps = vec![Effect::EndWait];
    let form = facts.form.as_ref();
    // Still short of what the diagnosis waits for: the ticket goes on waiting (or, after answering a staff
    // question, starts waiting for that).
    if facts.awaits_precondition {
        steps.push(Effect::Wait(WaitReason::Form));
    }
    if form.is_some_and(|p| p.newly_complete) {
        steps.extend([Effect::FormComplete, Effect::Notify(News::ReportComplete)]);
        return steps;
    }
    steps.push(Effect::Notify(News::ResearcherWrote));
    if facts.undecryptable {
        steps.push(Effect::SendUndecryptable);
    } else if form.is_some_and(|p| p.attempted) {
        steps.push(Effect::SendFormMissing);
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    fn progress(missing: &[&str], attempted: bool, newly_complete: bool) -> Option<FormProgress> {
        Some(FormProgress { missing: missing.iter().map(|s| s.to_string()).collect(), attempted, newly_complete })
    }

    #[test]
    fn a_new_report_is_acknowledged_and_asked_for_what_it_lacks() {
        use Effect::*;
        use FormDelivery::{Separate, WithAcknowledgement};
        let complete = progress(&[], true, true);
        let lacking = progress(&["Asset"], false, false);
        // (the form's progress, undecryptable, awaits a precondition, delivery, the steps planned)
        type Row = (Option<FormProgress>, bool, bool, FormDelivery, Vec<Effect>);
        let rows: Vec<Row> = vec![
            // No form in the policy.
            (None, false, false, Separate, vec![Acknowledge { with_form: false }, Notify(News::NewReport), Informed]),
            (
                complete.clone(),
                false,
                false,
                WithAcknowledgement,
                vec![Acknowledge { with_form: false }, FormComplete, Notify(News::NewReport), Informed],
            ),
            // Lacking what the diagnosis waits for: asked for, and waited for.
            (
                lacking.clone(),
                false,
                true,
                WithAcknowledgement,
                vec![Acknowledge { with_form: true }, Notify(News::NewReport), Informed, Wait(WaitReason::Form)],
            ),
            // Lacking sections the diagnosis does not wait for: asked for; the clock runs.
            (
                lacking.clone(),
                false,
                false,
                WithAcknowledgement,
                vec![Acknowledge { with_form: true }, Notify(News::NewReport), Informed],
            ),
            (
                lacking.clone(),
                false,
                true,
                Separate,
                vec![
                    Acknowledge { with_form: false },
                    SendForm,
                    Notify(News::NewReport),
                    Informed,
                    Wait(WaitReason::Form),
                ],
            ),
            // Encrypted to a key we do not have: the form was not read; the researcher hears why.
            (
                None,
                true,
                false,
                Separate,
                vec![Acknowledge { with_form: false }, SendUndecryptable, Notify(News::NewReport), Informed],
            ),
        ];
        for (i, (form, undecryptable, awaits_precondition, delivery, want)) in rows.into_iter().enumerate() {
            let facts = Facts { form, undecryptable, awaits_precondition, ..Facts::default() };
            assert_eq!(new_report(&facts, delivery), want, "row {i}");
        }
    }

    #[test]
    fn a_sender_on_trial_beyond_the_quota_goes_to_the_slow_lane_and_is_acknowledged_all_the_same() {
        use Effect::*;
        let facts = Facts { slow_lane: true, ..Facts::default() };
        assert_eq!(
            new_report(&facts, FormDelivery::WithAcknowledgement),
            [Acknowledge { with_form: false }, SlowLane, Informed]
        );
        let mut config = crate::config::parse(
            "[organisation]\nname = \"E\"\nsecurity_address = \"security@example.com\"\nticket_prefix = \"EX\"\n\
             [smtp]\nhost = \"127.0.0.1\"\ntls = \"none\"\n[store]\npath = \"s.sqlite\"\n[sla]\nacknowledge = \"24h\"\n",
            std::path::Path::new("/etc/vdpd/policy.toml"),
            &crate::config::TestMachine,
        )
        .unwrap();
        let history = |n, validated| SenderHistory { reports_last_30_days: n, validated };
        assert!(!history(50, false).slow_lane(&config), "no trial in the policy");
        config.limits.trial_reports_per_month = Some(3);
        assert!(!history(2, false).slow_lane(&config), "within the quota");
        assert!(history(3, false).slow_lane(&config), "the fourth report of the month");
        assert!(!history(30, true).slow_lane(&config), "a sender with a valid report is on trial no more");
    }

    #[test]
    fn a_reply_ends_the_wait_and_completes_or_asks_again() {
        use Effect::*;
        let rows: Vec<(Facts, Vec<Effect>)> = vec![
            // An enquiry is answered and waits on: it is no answer.
            (Facts { enquiry: true, ..Facts::default() }, vec![AnswerEnquiry, Notify(News::StatusEnquiry)]),
            // The answer completes the form: staff get the whole report.
            (
                Facts { form: progress(&[], true, true), ..Facts::default() },
                vec![EndWait, FormComplete, Notify(News::ReportComplete)],
            ),
            // Part of the form, without what the diagnosis waits for: still waiting, and told what is missing.
            (
                Facts { form: progress(&["Impact"], true, false), awaits_precondition: true, ..Facts::default() },
                vec![EndWait, Wait(WaitReason::Form), Notify(News::ResearcherWrote), SendFormMissing],
            ),
            // The same, under a policy whose diagnosis waits for none of it: no wait.
            (
                Facts { form: progress(&["Impact"], true, false), ..Facts::default() },
                vec![EndWait, Notify(News::ResearcherWrote), SendFormMissing],
            ),
            // Prose that answers nothing: waiting goes on, no nagging.
            (
                Facts { form: progress(&["Impact"], false, false), awaits_precondition: true, ..Facts::default() },
                vec![EndWait, Wait(WaitReason::Form), Notify(News::ResearcherWrote)],
            ),
            // After the form is complete, a reply is just a reply.
            (Facts { form_complete_before: true, ..Facts::default() }, vec![EndWait, Notify(News::ResearcherWrote)]),
            (
                Facts { undecryptable: true, ..Facts::default() },
                vec![EndWait, Notify(News::ResearcherWrote), SendUndecryptable],
            ),
        ];
        for (i, (facts, want)) in rows.into_iter().enumerate() {
            assert_eq!(correspondence(&facts), want, "row {i}");
        }
        assert!(reads_form(false, false, false));
        assert!(!reads_form(true, false, false) && !reads_form(false, true, false) && !reads_form(false, false, true));
    }
}

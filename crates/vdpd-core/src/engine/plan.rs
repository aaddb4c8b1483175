//! What a mail causes, as data: one [`Plan`] — the intake journal's record and a list of typed [`Effect`]s in
//! the order the shell carries them out — whatever the mail turned out to be.
//!
//! Every planner of a mail returns this one type: a researcher's report or reply
//! ([`super::researcher::plan`]), a request for our key ([`super::key_request`]), a mail set aside
//! ([`super::aside::plan`]), a staff mail ([`super::staff::mail_plan`], its commands by [`super::staff::plan`]), and
//! so does a fired timer ([`super::timer::decide`], which has no journal entry). So the shell has one
//! vocabulary to carry out — it knows how to do each kind of effect, never when — the debug log shows every
//! plan the same way, and a test of a whole mail compares one list.

use super::keys::KeyPlan;
use super::{FormAnswers, JournalEntry, MailPlan, aside::Log, aside::Warning};
use crate::clocks::Clock;
use crate::mail::{MessageKind, Notice};
use crate::ticket::{TicketUpdate, WaitReason};
use crate::timeline::Event;

/// Everything one mail causes, decided at once.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// What the intake journal records of the mail.
    pub journal: JournalEntry,
    /// What the mail causes, in order.
    pub effects: Vec<Effect>,
}

impl Plan {
    pub fn new(journal: JournalEntry) -> Plan {
        Plan { journal, effects: Vec::new() }
    }

    #[cfg(test)]
    pub fn has(&self, effect: &Effect) -> bool {
        self.effects.contains(effect)
    }

    /// The effects that follow the mail's recording (answers, news for staff, waits, the move to triage):
    /// what a test of a policy's flow compares, the recording itself being the same for every mail.
    #[cfg(test)]
    pub fn steps(&self) -> Vec<Effect> {
        self.effects.iter().filter(|e| !e.records_the_mail()).cloned().collect()
    }

    /// The report form's answers the mail gives, if it was read.
    #[cfg(test)]
    pub fn form(&self) -> Option<&FormAnswers> {
        self.effects.iter().find_map(|e| match e {
            Effect::Form(answers) => Some(&**answers),
            _ => None,
        })
    }

    /// The timeline entries the plan records, in order.
    #[cfg(test)]
    pub fn timeline(&self) -> Vec<(&By, Event, &str)> {
        self.effects
            .iter()
            .filter_map(|e| match e {
                Effect::Timeline { by, event, detail } => Some((by, *event, detail.as_str())),
                _ => None,
            })
            .collect()
    }
}

/// A ticket update as the debug log names it: which field, and for the state and severity their new value.
fn update_label(update: &TicketUpdate) -> String {
    match update {
        TicketUpdate::State(state) => format!("state {state}"),
        TicketUpdate::Severity { band, .. } => format!("severity {}", band.as_str()),
        TicketUpdate::Assignee(_) => "assignee".into(),
        TicketUpdate::Outcome { outcome, .. } => match outcome {
            Some(o) => format!("outcome {o}"),
            None => "outcome cleared".into(),
        },
        TicketUpdate::Bounty { tier, .. } => format!("bounty {tier}"),
        TicketUpdate::Paid => "bounty paid".into(),
        TicketUpdate::DiscloseOn(date) => format!("disclosure on {date}"),
        TicketUpdate::Credit(_) => "credit".into(),
        TicketUpdate::Exploited { since, .. } => if since.is_some() { "exploited" } else { "not exploited" }.into(),
        TicketUpdate::Mitigated => "mitigated".into(),
        TicketUpdate::Product(id) => format!("product {id}"),
        TicketUpdate::Cve(id) => format!("CVE {id}"),
        TicketUpdate::Incident { since, .. } => if since.is_some() { "incident" } else { "no incident" }.into(),
        TicketUpdate::CraFiled { stage, .. } => format!("CRA {stage} filed"),
    }
}

/// Who a timeline entry is by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum By {
    /// Whoever wrote the mail: the researcher, or the staff member whose commands these are.
    Author,
    /// vdpd itself.
    Vdpd,
    /// The address a mail claimed to be from (mail from a staff address that failed authentication).
    Address(String),
}

/// What staff are told of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum News {
    NewReport,
    /// The researcher's mail completed the report form: the whole report, in one mail.
    ReportComplete,
    ResearcherWrote,
    StatusEnquiry,
}

/// One thing a mail causes. The shell carries each out in the mail's transaction; the mails among them are
/// drafted there and rendered after the commit.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    // The mail itself, on its ticket.
    /// Open the ticket the report is: its reference, the reporter, the co-reporters it names (proposals).
    OpenTicket,
    /// Record the mail on the ticket as a message of this kind, with its files.
    Record(MessageKind),
    /// A line on the ticket's timeline.
    Timeline { by: By, event: Event, detail: String },
    /// What the mail teaches about its sender's key.
    Key(KeyPlan),
    /// The report form's answers the mail gives (boxed: the answers are large beside the other effects).
    Form(Box<FormAnswers>),
    /// The researcher reports the flaw actively exploited (a policy with the Cyber Resilience Act's duties):
    /// the CRA clocks run from receipt.
    Exploited,

    // What goes back to the researcher.
    /// The acknowledgement, with the report form when the policy sends it along and the report lacks sections.
    Acknowledge { with_form: bool },
    /// The report form as a mail of its own (`delivery = "separate"`).
    SendForm,
    /// What the answered form still lacks or got wrong.
    SendFormMissing,
    /// Why we could not read their mail, and our key again.
    SendUndecryptable,
    /// The status (or the policy's "not again so soon").
    AnswerEnquiry,
    /// Our OpenPGP key, to a mail asking for it (no ticket). Boxed: a mail's plan is large beside the other
    /// effects.
    SendKey(Box<MailPlan>),

    // Staff.
    /// Staff hear of the mail.
    Notify(News),
    /// Every staff member is warned (within `staff.warnings_per_day`, and its own `at_most_every`).
    Warn(Warning),
    /// The log's line about a mail set aside, at this level (never the mail's content).
    Log(Log),

    // The ticket's state and clocks.
    /// The form is complete: recorded, and a `new` ticket moves to triage.
    FormComplete,
    /// The ticket waits on the researcher's answer (to the form, or to a staff question).
    Wait(WaitReason),
    /// The researcher answered: whatever the ticket waited for, it no longer waits.
    EndWait,
    /// The researcher has had news from us (the periodic status mail counts from here).
    Informed,
    /// The new report goes to the slow lane: recorded, and staff are told in the next digest, not now.
    SlowLane,

    // What a staff mail's commands do.
    /// Change the ticket's own fields.
    Update(TicketUpdate),
    /// Tell the member, in their confirmation.
    Done(String),
    /// Tell the researcher, in the mail that carries the member's words (boxed: a bounty's notice is large).
    Notice(Box<Notice>),
    /// A decision about the report: the first-diagnosis clock is met.
    Diagnosed,
    /// List the key held for the researcher and the ones they offered (the shell reads them).
    KeyShow,
    /// Forget the researcher's key.
    KeyReset,
    /// Hold this key the researcher offered.
    KeyAccept(String),
    /// Erase the researcher's personal data, after everything else the mail causes (what goes to the
    /// researcher is composed while we still know them).
    Erase,
    /// Make this address a co-reporter: from now on it receives what the reporter receives.
    AddParticipant { address: String, name: String },
    /// This co-reporter receives nothing more about the ticket.
    RemoveParticipant(String),
    /// The staff mail's commands were refused, all of them: the member is told why, line by line.
    Refuse(Vec<String>),
    /// The member's words (where they may go: [`super::staff::relay`], decided for the researchers as the
    /// commands leave them) and the notices of what was decided go to each researcher.
    Relay,
    /// The member gets a confirmation of what was done (the `Done` lines so far).
    Confirm,
    /// The other staff members see what the member did.
    TellStaff,

    // After the mail's recording or a staff mail's commands.
    /// What the ticket says may have changed: the duplicate index rewrites its row (duplicate search sees it
    /// before staff are told).
    Reindex,

    // What a fired timer does ([`super::timer::decide`]).
    /// A promise broke: on the timeline, in the log, and to the escalation contacts.
    Breach(Clock),
    /// Remind staff of a clock: `before` it is due (the policy's reminder point), or that its date has come;
    /// the escalation contacts too when `escalate` (a deadline of the law: a CRA filing).
    RemindStaff { clock: Clock, before: Option<String>, escalate: bool },
    /// Tell the researcher of the disclosure date: that it comes near, or that it has come.
    RemindResearcher { clock: Clock, reached: bool },
    /// The periodic status mail.
    StatusUpdate,
    /// Purge the report content under the retention policy.
    Purge,
}

impl Plan {
    /// The plan as the debug log shows it: each effect's [`Effect::label`], in order — nothing a mail brought
    /// (the log goes to the journal, which report content must not reach).
    pub fn summary(&self) -> String {
        summary(&self.effects)
    }
}

/// Effects as the debug log shows them ([`Effect::label`]).
pub fn summary(effects: &[Effect]) -> String {
    effects.iter().map(Effect::label).collect::<Vec<_>>().join("; ")
}

impl Effect {
    /// What the effect is, without what it carries from a mail or a member (a subject, the form's answers,
    /// a member's words, a researcher's name): the kinds, events, sections and states that say what the plan
    /// does.
    pub fn label(&self) -> String {
        use crate::engine::keys::KeyChange;
        match self {
            Effect::OpenTicket => "open ticket".into(),
            Effect::Record(kind) => format!("record as {kind}"),
            Effect::Timeline { event, .. } => format!("timeline: {event}"),
            Effect::Key(key) => match key.change {
                KeyChange::Nothing => "key: nothing new".into(),
                KeyChange::Learned { .. } => "key: learned".into(),
                KeyChange::Replaced { .. } => "key: replaced".into(),
                KeyChange::Offered { .. } => "key: kept as an offer".into(),
            },
            Effect::Form(answers) => {
                let names: Vec<&str> = answers.parsed.values.iter().map(|(name, _)| name.as_str()).collect();
                if names.is_empty() { "form: nothing answered".into() } else { format!("form: {}", names.join(", ")) }
            }
            Effect::Exploited => "exploited (the researcher's answer)".into(),
            Effect::Acknowledge { with_form: true } => "acknowledge, with the form".into(),
            Effect::Acknowledge { with_form: false } => "acknowledge".into(),
            Effect::SendForm => "send the form".into(),
            Effect::SendFormMissing => "send what the form lacks".into(),
            Effect::SendUndecryptable => "send why we could not decrypt".into(),
            Effect::AnswerEnquiry => "answer the status enquiry".into(),
            Effect::SendKey(_) => "send our key".into(),
            Effect::Notify(news) => format!("notify staff: {news:?}"),
            Effect::Warn(w) => format!("warn staff: {}", w.kind),
            Effect::Log(level) => format!("log at {level:?}"),
            Effect::FormComplete => "form complete".into(),
            Effect::Wait(reason) => format!("wait for the researcher ({reason})"),
            Effect::EndWait => "end the wait".into(),
            Effect::Informed => "researcher informed".into(),
            Effect::SlowLane => "slow lane".into(),
            Effect::Update(update) => format!("update: {}", update_label(update)),
            Effect::Done(_) => "a line for the member".into(),
            Effect::Notice(notice) => format!("notice: {}", notice.template()),
            Effect::Diagnosed => "diagnosed".into(),
            Effect::KeyShow => "show the keys".into(),
            Effect::KeyReset => "forget the key".into(),
            Effect::KeyAccept(fingerprint) => format!("accept key {fingerprint}"),
            Effect::Erase => "erase the researcher's data".into(),
            Effect::AddParticipant { .. } => "add a co-reporter".into(),
            Effect::RemoveParticipant(_) => "remove a co-reporter".into(),
            Effect::Refuse(lines) => format!("refuse the commands ({} lines)", lines.len()),
            Effect::Relay => "relay to the researchers".into(),
            Effect::Confirm => "confirm to the member".into(),
            Effect::TellStaff => "tell the other staff".into(),
            Effect::Reindex => "reindex".into(),
            Effect::Breach(clock) => format!("breach: {}", clock.kind.label()),
            Effect::RemindStaff { clock, .. } => format!("remind staff: {}", clock.kind.label()),
            Effect::RemindResearcher { clock, reached } => {
                format!("remind the researcher: {}{}", clock.kind.label(), if *reached { " (reached)" } else { "" })
            }
            Effect::StatusUpdate => "status update".into(),
            Effect::Purge => "purge".into(),
        }
    }

    /// A line on the timeline by the mail's author.
    pub fn timeline(event: Event, detail: impl Into<String>) -> Effect {
        Effect::Timeline { by: By::Author, event, detail: detail.into() }
    }

    /// Whether this records what the mail is (the ticket, the message, its timeline, key and form), as opposed
    /// to what follows from it.
    pub fn records_the_mail(&self) -> bool {
        matches!(
            self,
            Effect::OpenTicket
                | Effect::Record(_)
                | Effect::Timeline { .. }
                | Effect::Key(_)
                | Effect::Form(_)
                | Effect::Exploited
                | Effect::Log(_)
                | Effect::Reindex
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::Inbound;

    /// The debug log's line of a plan names what it does, never what the mail said: a report's subject and
    /// answers, a member's words, a researcher's name for credit.
    #[test]
    fn a_plans_summary_carries_no_content_of_the_mail() {
        let config = crate::engine::tests::config(
            "[report_form]\nenabled = true\n[[report_form.sections]]\nname = \"Asset\"\nmandatory = true\nkind = \"asset\"\n",
        );
        let mail =
            Inbound::for_tests("ada@research.test", "Secret-subject XSS", "Asset: https://secret-host.example.test/\n");
        let key = crate::engine::keys::KeyFacts {
            held: None,
            signature_used_at: None,
            learn: None,
            max_signature_age_ms: 0,
            now: 0,
        };
        let snapshot =
            crate::engine::researcher::Snapshot { ticket: None, answered: &[], key, sender: Default::default() };
        let plan = crate::engine::researcher::plan(&mail, &snapshot, &config);
        let line = plan.summary();
        assert!(line.starts_with("open ticket; record as report; timeline: ticket opened; form: Asset"), "{line}");
        assert!(line.contains("acknowledge") && line.contains("notify staff: NewReport"), "{line}");
        assert!(!line.contains("secret"), "{line}");
        let staff = summary(&[
            Effect::Done("told Ada the secret".into()),
            Effect::Update(TicketUpdate::Credit(Some("Ada Secret".into()))),
            Effect::Update(TicketUpdate::Assignee("secret@example.test".into())),
            Effect::Refuse(vec!["#secret line".into()]),
        ]);
        assert_eq!(staff, "a line for the member; update: credit; update: assignee; refuse the commands (1 lines)");
    }
}

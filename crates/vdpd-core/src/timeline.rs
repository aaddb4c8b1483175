//! What a ticket's timeline records: one [`Event`] per thing that happened, with the words the store keeps.
//!
//! The timeline is the ticket's history as staff read it (`vdpd tickets show`) and as `vdpd status` counts it
//! (broken promises); its words are stable — a store written by an earlier version reads the same. The detail
//! beside each event is free text (a subject, a reason, a fingerprint) and stays so.

use crate::mail::MessageKind;

/// Who did it, when it was vdpd itself (a timer, the outbox, the intake's own decisions).
pub const BY_VDPD: &str = "vdpd";

macro_rules! events {
    ($($(#[$vmeta:meta])* $variant:ident = $word:literal,)+) => {
        /// Something that happened to a ticket.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Event {
            $($(#[$vmeta])* $variant,)+
            /// A mail of ours was queued (and whether it was encrypted to every recipient).
            Queued { kind: MessageKind, encrypted: bool },
            /// The SMTP server accepted one of ours.
            Delivered(MessageKind),
            /// The SMTP server refused one of ours for good.
            Failed(MessageKind),
        }

        /// The events without a mail kind, with their words.
        const FIXED: &[(Event, &str)] = &[$((Event::$variant, $word)),+];
    };
}

events! {
    TicketOpened = "ticket opened",
    /// A report of a sender on trial beyond `limits.trial_reports_per_month`: staff hear of it in the digest.
    SlowLane = "slow lane",
    /// The daily digest of the slow lane listed the ticket.
    Digested = "listed in the digest",
    ResearcherWrote = "researcher wrote",
    /// A mail joined to the ticket was dropped (an auto-reply, a loop).
    MailDropped = "mail dropped",
    StatusEnquiry = "status enquiry",
    /// What OpenPGP said about a researcher's mail (not decrypted, a bad signature).
    OpenPgp = "openpgp",
    FormAnswered = "report form answered",
    FormComplete = "report form complete",
    WaitingOnResearcher = "waiting on the researcher",
    NoLongerWaiting = "no longer waiting on the researcher",
    /// An automatic reply held back by `limits.auto_replies_per_ticket_per_day`.
    AutoReplySuppressed = "auto-reply suppressed",
    StatusUpdate = "status update",
    PromiseBroken = "promise broken",
    Reminder = "reminder",
    DateReached = "date reached",
    /// A timer's effects failed (a template error): it is marked fired, with the error here.
    TimerFailed = "timer failed",
    ContentPurged = "report content purged",
    PersonalDataErased = "personal data erased",
    KeyNotLearned = "researcher key not learned",
    /// A key that names another address than its sender's: not learned, not offered.
    KeyIgnored = "researcher key ignored",
    KeyStored = "researcher key stored",
    KeyChangeRefused = "researcher key change refused",
    KeyReplaced = "researcher key replaced",
    KeyReset = "researcher key reset",
    KeyAccepted = "researcher key accepted",
    /// A member left out of a notification by the encryption policy.
    StaffNotNotified = "staff member not notified",
    UnauthenticatedStaffMail = "unauthenticated staff mail ignored",
    UnsignedCommandsIgnored = "unsigned commands ignored",
    StaffCommandsRefused = "staff commands refused",
    StaffWroteToResearcher = "staff wrote to the researcher",
    StateChanged = "state changed",
    SeveritySet = "severity set",
    Assigned = "assigned",
    ParticipantProposed = "co-reporter proposed",
    ParticipantAdded = "participant added",
    ParticipantRemoved = "participant removed",
    Closed = "closed",
    BountyAwarded = "bounty awarded",
    BountyPaid = "bounty paid",
    Resolved = "resolved",
    DisclosureDateSet = "disclosure date set",
    CreditConfirmed = "credit confirmed",
    Reopened = "reopened",
    Exploited = "actively exploited",
    NotExploited = "not actively exploited",
    Mitigated = "mitigation available",
    CraFiled = "CRA filing recorded",
    ProductSet = "product set",
    CveRecorded = "CVE ID recorded",
    SevereIncident = "severe incident",
    NotSevereIncident = "not a severe incident",
}

impl Event {
    /// Events whose detail quotes the researcher (the subject of their mail): purged with the content.
    pub const QUOTING: [Event; 2] = [Event::TicketOpened, Event::ResearcherWrote];
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::Queued { kind, encrypted: false } => write!(f, "{kind} queued"),
            Event::Queued { kind, encrypted: true } => write!(f, "{kind} queued (encrypted)"),
            Event::Delivered(kind) => write!(f, "{kind} delivered"),
            Event::Failed(kind) => write!(f, "{kind} failed"),
            fixed => {
                let word = FIXED.iter().find(|(e, _)| e == fixed).map_or("", |(_, w)| *w);
                f.write_str(word)
            }
        }
    }
}

impl std::str::FromStr for Event {
    type Err = String;

    fn from_str(s: &str) -> Result<Event, String> {
        if let Some((_, e)) = FIXED.iter().map(|(e, w)| (w, e)).find(|(w, _)| **w == s) {
            return Ok(*e);
        }
        let mail = |suffix: &str| s.strip_suffix(suffix).and_then(|k| k.parse::<MessageKind>().ok());
        if let Some(kind) = mail(" queued (encrypted)") {
            Ok(Event::Queued { kind, encrypted: true })
        } else if let Some(kind) = mail(" queued") {
            Ok(Event::Queued { kind, encrypted: false })
        } else if let Some(kind) = mail(" delivered") {
            Ok(Event::Delivered(kind))
        } else if let Some(kind) = mail(" failed") {
            Ok(Event::Failed(kind))
        } else {
            Err(format!("unknown timeline event {s:?}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_event_reads_back_from_its_words() {
        let mut all: Vec<Event> = FIXED.iter().map(|(e, _)| *e).collect();
        for &kind in MessageKind::ALL.iter().filter(|k| !k.is_incoming()) {
            all.extend([
                Event::Queued { kind, encrypted: false },
                Event::Queued { kind, encrypted: true },
                Event::Delivered(kind),
                Event::Failed(kind),
            ]);
        }
        let mut words: Vec<String> = all.iter().map(ToString::to_string).collect();
        for (e, w) in all.iter().zip(&words) {
            assert!(!w.is_empty(), "{e:?}");
            assert_eq!(w.parse::<Event>().as_ref(), Ok(e), "{w}");
        }
        words.sort();
        let n = words.len();
        words.dedup();
        assert_eq!(words.len(), n, "no two events share words");
    }

    #[test]
    fn the_words_in_stores_stay() {
        assert_eq!(Event::PromiseBroken.to_string(), "promise broken");
        assert_eq!(
            Event::Queued { kind: MessageKind::Acknowledgement, encrypted: true }.to_string(),
            "acknowledgement queued (encrypted)"
        );
        assert_eq!(Event::Delivered(MessageKind::ToResearcher).to_string(), "staff-reply delivered");
        assert!("promise  broken".parse::<Event>().is_err());
    }
}

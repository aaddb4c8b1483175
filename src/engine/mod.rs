//! The ticket engine: pure policy.
//!
//! Given a classified mail, the facts the store found about it, the policy and "now", the engine says what
//! happens: a new ticket, correspondence on an existing one, a drop with its reason, a duplicate. It also plans
//! the mails that follow ([`MailPlan`]) and the clocks to set. It does no IO at all — no database, no
//! network, no clock of its own — which is why most of vdpd's rules are tested here, table-driven.

mod calendar;

use serde::Serialize;

use crate::classify::Inbound;
use crate::config::{Limits, Organisation};
use crate::mailtext;
use crate::store::tickets::ThreadCandidate;

pub use calendar::deadline;

/// Milliseconds in the "per day" of the daily limits: a rolling 24 hours.
pub const DAY_MS: i64 = 24 * 3600 * 1000;

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketState {
    /// Received and acknowledged; nobody has looked yet.
    New,
    /// Being assessed.
    Triage,
    /// Confirmed as a valid vulnerability.
    Accepted,
    /// A fix is being made.
    Fixing,
    /// Fixed; waiting for the researcher's confirmation and the disclosure date.
    Resolved,
    /// Done.
    Closed,
}

impl TicketState {
    pub const ALL: [TicketState; 6] = [
        TicketState::New,
        TicketState::Triage,
        TicketState::Accepted,
        TicketState::Fixing,
        TicketState::Resolved,
        TicketState::Closed,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TicketState::New => "new",
            TicketState::Triage => "triage",
            TicketState::Accepted => "accepted",
            TicketState::Fixing => "fixing",
            TicketState::Resolved => "resolved",
            TicketState::Closed => "closed",
        }
    }
}

impl std::str::FromStr for TicketState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        TicketState::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!(
                    "unknown state {s:?} (one of: {})",
                    TicketState::ALL.map(|t| t.as_str()).join(", ")
                )
            })
    }
}

impl std::fmt::Display for TicketState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the store knows that bears on an incoming mail.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// An earlier delivery of the same message: (its intake id, its ticket).
    pub duplicate_of: Option<(i64, Option<i64>)>,
    /// Tickets the mail names (by header first, then by subject tag), with whether the sender takes part.
    pub candidates: Vec<ThreadCandidate>,
    /// Tickets the sender opened in the last 24 hours.
    pub sender_tickets_last_day: u32,
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
}

/// Decides what an incoming mail is. Order matters: a duplicate is a duplicate even if it is also an
/// auto-reply; machine mail never opens or touches a ticket; threading needs the sender to be a participant
/// (a stranger quoting a reference gets a ticket of their own and learns nothing); the rate limit applies only
/// to new tickets.
pub fn decide(inbound: &Inbound, facts: &Facts, limits: &Limits) -> Decision {
    if let Some((of_intake, ticket_id)) = facts.duplicate_of {
        return Decision::Duplicate { of_intake, ticket_id };
    }
    let thread = facts.candidates.iter().find(|c| c.sender_is_participant);
    if let Some(reason) = &inbound.automatic {
        return Decision::Drop {
            reason: reason.clone(),
            ticket_id: thread.map(|c| c.ticket_id),
        };
    }
    if let Some(c) = thread {
        return Decision::Correspondence {
            ticket_id: c.ticket_id,
            reference: c.reference.clone(),
        };
    }
    if facts.sender_tickets_last_day >= limits.new_tickets_per_sender_per_day {
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

/// May another automatic reply go to this ticket today? The RFC 3834 guard against two machines talking.
pub fn may_auto_reply(auto_replies_last_day: u32, limits: &Limits) -> bool {
    auto_replies_last_day < limits.auto_replies_per_ticket_per_day
}

/// A mail to send, before rendering: who, which template, and how it threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailPlan {
    /// Kind recorded on the message and outbox rows (e.g. `acknowledgement`).
    pub kind: &'static str,
    /// Template file name under `templates/`.
    pub template: &'static str,
    pub to: String,
    pub to_name: String,
    pub subject: String,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
    /// Sent automatically in answer to a mail (RFC 3834 `Auto-Submitted: auto-replied`).
    pub auto_reply: bool,
}

/// The most Message-IDs we repeat in References (RFC 5322 allows trimming; the first and the latest matter).
const MAX_REFERENCES: usize = 10;

/// The reply to a researcher's mail in ticket `reference`: `[REF] Re: <their subject>`, threaded under it.
pub fn reply_plan(
    kind: &'static str,
    template: &'static str,
    reference: &str,
    inbound: &Inbound,
    org: &Organisation,
) -> MailPlan {
    let base = mailtext::base_subject(&inbound.subject, &org.ticket_prefix);
    let subject = if base.is_empty() {
        format!("[{reference}] Re: your report")
    } else {
        format!("[{reference}] Re: {base}")
    };
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
        kind,
        template,
        to: inbound.sender.clone(),
        to_name: inbound.sender_name.clone(),
        subject,
        in_reply_to: inbound.message_id.clone(),
        references,
        auto_reply: true,
    }
}

/// Timer kinds.
pub mod timer {
    /// The acknowledgement promise: fires if SMTP has not accepted the acknowledgement by the promised time.
    pub const ACKNOWLEDGE: &str = "acknowledge";
}

#[cfg(test)]
mod tests;

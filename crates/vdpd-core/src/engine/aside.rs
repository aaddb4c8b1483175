//! What a mail that becomes no ticket's work causes: a second delivery, a drop (machine mail, a sender's
//! daily cap), a new report held by the hourly cap, mail from a staff address that failed authentication.
//! Each is one [`Plan`] — the journal's record, the log's line, the line on the ticket it names, the warning to
//! staff —
//! decided here from the [`Decision`], so the shell only carries it out, as it does a report's plan.

use super::plan::{By, Effect, Plan};
use super::{Decision, HOUR_MS};
use crate::classify::Inbound;
use crate::config::Config;
use crate::ticket::WarningKind;
use crate::timeline::Event;

/// How loud the log is about a mail set aside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Log {
    Info,
    Warn,
}

/// A warning to every staff member, within `staff.warnings_per_day`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub kind: WarningKind,
    pub detail: String,
    /// The warning names the message (its journal number, sender and subject) and the ticket, if any.
    pub names_message: bool,
    /// No second warning of this kind within this many milliseconds of the last (a flood warns once an
    /// hour, not once a message).
    pub at_most_every: Option<i64>,
}

/// The plan of a mail set aside, or `None` when the decision makes or joins a ticket's work (a report, a
/// reply, a staff mail, a key request: their own plans).
pub fn plan(decision: &Decision, inbound: &Inbound, config: &Config) -> Option<Plan> {
    let plan = |log, timeline: Option<Effect>, warning: Option<Warning>| {
        let mut plan = Plan::new(decision.journal_entry());
        plan.effects.push(Effect::Log(log));
        plan.effects.extend(timeline);
        plan.effects.extend(warning.map(Effect::Warn));
        Some(plan)
    };
    match decision {
        Decision::Duplicate { .. } => plan(Log::Info, None, None),
        Decision::Drop { reason, ticket_id } => {
            let timeline = ticket_id.map(|_| Effect::timeline(Event::MailDropped, reason.clone()));
            plan(Log::Info, timeline, None)
        }
        Decision::Flood { .. } => {
            let detail = format!(
                "more than {} new reports arrived within an hour (limits.new_tickets_per_hour): the ones beyond that are held, \
                 and each becomes a ticket (acknowledged, and you are told) in its turn as the hour allows, so that a flood of \
                 forged senders gets answers at that pace at most. `vdpd mail list --status held` lists them; `vdpd mail \
                 retry ID` makes one a ticket at once.",
                config.limits.new_tickets_per_hour
            );
            let warning =
                Warning { kind: WarningKind::Flood, detail, names_message: false, at_most_every: Some(HOUR_MS) };
            plan(Log::Warn, None, Some(warning))
        }
        Decision::StaffRejected { member, reason, ticket_id } => {
            let detail = format!(
                "a mail from the staff address {member} (subject {:?}) failed authentication: {reason}. It ran no command and reached nobody.",
                inbound.subject
            );
            let warning =
                Warning { kind: WarningKind::UnauthenticatedStaff, detail, names_message: true, at_most_every: None };
            // On the ticket by the staff address it claimed to be.
            let timeline = ticket_id.map(|_| Effect::Timeline {
                by: By::Address(member.clone()),
                event: Event::UnauthenticatedStaffMail,
                detail: reason.clone(),
            });
            plan(Log::Warn, timeline, Some(warning))
        }
        Decision::NewTicket
        | Decision::Correspondence { .. }
        | Decision::KeyRequest
        | Decision::Staff { .. }
        | Decision::StaffNoTicket { .. } => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::IntakeStatus;

    fn config() -> Config {
        let text = "[organisation]\nname = \"Example\"\nsecurity_address = \"security@example.test\"\nticket_prefix = \"EX\"\n\
                    [smtp]\nhost = \"127.0.0.1\"\ntls = \"none\"\n[store]\npath = \"/tmp/x.sqlite\"\n[sla]\nacknowledge = \"24h\"\n\
                    [limits]\nnew_tickets_per_hour = 30\n";
        crate::config::parse(text, std::path::Path::new("/etc/vdpd/policy.toml"), &crate::config::TestMachine).unwrap()
    }

    /// Each mail set aside, as (decision, journal status, ticket, timeline event, warning kind, once per).
    #[test]
    fn a_mail_set_aside_is_recorded_noted_and_warned_of_as_its_decision_says() {
        let c = config();
        let mail = Inbound::for_tests("cto@example.test", "Re: [EX-2026-0004] ok", "#resolved");
        let rejected = |ticket_id| Decision::StaffRejected {
            member: "cto@example.test".into(),
            reason: "no signature".into(),
            ticket_id,
        };
        type Row = (Decision, IntakeStatus, Option<i64>, Option<Event>, Option<WarningKind>, Option<i64>);
        let table: Vec<Row> = vec![
            (
                Decision::Duplicate { of_intake: 3, ticket_id: Some(7) },
                IntakeStatus::Duplicate,
                Some(7),
                None,
                None,
                None,
            ),
            (
                Decision::Drop { reason: "auto-reply".into(), ticket_id: None },
                IntakeStatus::Dropped,
                None,
                None,
                None,
                None,
            ),
            (
                Decision::Drop { reason: "auto-reply".into(), ticket_id: Some(2) },
                IntakeStatus::Dropped,
                Some(2),
                Some(Event::MailDropped),
                None,
                None,
            ),
            (
                Decision::Flood { reason: "over the hour's cap".into() },
                IntakeStatus::Held,
                None,
                None,
                Some(WarningKind::Flood),
                Some(HOUR_MS),
            ),
            (rejected(None), IntakeStatus::Dropped, None, None, Some(WarningKind::UnauthenticatedStaff), None),
            (
                rejected(Some(4)),
                IntakeStatus::Dropped,
                Some(4),
                Some(Event::UnauthenticatedStaffMail),
                Some(WarningKind::UnauthenticatedStaff),
                None,
            ),
        ];
        let timeline = |p: &Plan| {
            p.effects.iter().find_map(|e| match e {
                Effect::Timeline { by, event, detail } => Some((by.clone(), *event, detail.clone())),
                _ => None,
            })
        };
        let warning = |p: &Plan| {
            p.effects.iter().find_map(|e| match e {
                Effect::Warn(w) => Some(w.clone()),
                _ => None,
            })
        };
        for (decision, status, ticket, event, warned, every) in table {
            let p = plan(&decision, &mail, &c).unwrap_or_else(|| panic!("{decision:?}"));
            assert_eq!(p.journal, decision.journal_entry(), "{decision:?}");
            assert_eq!(p.journal.status, status, "{decision:?}");
            assert_eq!(decision.ticket_id(), ticket, "{decision:?}");
            assert_eq!(timeline(&p).map(|(_, e, _)| e), event, "{decision:?}");
            assert_eq!(warning(&p).map(|w| w.kind), warned, "{decision:?}");
            assert_eq!(warning(&p).and_then(|w| w.at_most_every), every, "{decision:?}");
            // The log's line first; nothing but the record, the line on the ticket and the warning.
            assert!(matches!(p.effects[0], Effect::Log(_)), "{decision:?}");
            assert_eq!(p.effects.len(), 1 + usize::from(event.is_some()) + usize::from(warned.is_some()), "{p:?}");
        }
        let flood = warning(&plan(&Decision::Flood { reason: String::new() }, &mail, &c).unwrap()).unwrap();
        assert!(flood.detail.contains("more than 30 new reports") && !flood.names_message, "{flood:?}");
        let staff = plan(&rejected(Some(4)), &mail, &c).unwrap();
        let w = warning(&staff).unwrap();
        assert!(w.names_message && w.detail.contains("cto@example.test") && w.detail.contains("no signature"), "{w:?}");
        assert!(w.detail.contains("subject \"Re: [EX-2026-0004] ok\""), "{w:?}");
        let by_member =
            (By::Address("cto@example.test".into()), Event::UnauthenticatedStaffMail, "no signature".to_string());
        assert_eq!(timeline(&staff), Some(by_member));
        let dropped = Inbound::for_tests("ooo@research.test", "Out of office", "away");
        let drop = plan(&Decision::Drop { reason: "auto-reply".into(), ticket_id: Some(2) }, &dropped, &c).unwrap();
        assert_eq!(timeline(&drop), Some((By::Author, Event::MailDropped, "auto-reply".into())));
        assert_eq!(staff.effects[0], Effect::Log(Log::Warn));
    }

    #[test]
    fn a_mail_that_makes_or_joins_work_has_a_plan_of_its_own() {
        let c = config();
        for decision in [
            Decision::NewTicket,
            Decision::KeyRequest,
            Decision::Correspondence { ticket_id: 1, reference: "EX-2026-0001".into() },
        ] {
            assert_eq!(plan(&decision, &Inbound::for_tests("a@b.test", "", ""), &c), None, "{decision:?}");
        }
    }
}

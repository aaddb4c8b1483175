//! What a fired timer does, decided from the ticket as it is when the timer fires.
//!
//! A timer was planned from the ticket's clocks at some earlier moment; by the time it fires, the clock may
//! have been met, paused or moved (a staff answer, a wait on the researcher, a new severity). So the timer's
//! kind only says *which* question to ask; [`decide`] answers it from the clocks computed now, and the shell
//! carries out the [`Effect`]s (mails, timeline, purge) in the transaction that marks the timer fired.

use crate::clocks::{Clock, ClockKind, ClockStatus, TimerKind};
use crate::config::Calendar;
use crate::engine::plan::Effect;

/// What the ticket is when its timer fires, beyond its clocks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TicketFacts {
    /// Neither resolved nor closed.
    pub open: bool,
    /// Resolved (fixed) at some point.
    pub resolved: bool,
    /// Its report content was purged already.
    pub purged: bool,
}

/// What the timer `what` does now, given the ticket's clocks computed now. Empty when the question no longer
/// arises (the clock was met, paused or moved since the timer was planned).
pub fn decide(what: &TimerKind, clocks: &[Clock], ticket: TicketFacts, now: i64) -> Vec<Effect> {
    let clock = |k: ClockKind| clocks.iter().find(|c| c.kind == k);
    let mut actions = Vec::new();
    match what {
        TimerKind::Breach(k) => {
            if let Some(c) = clock(*k).filter(|c| c.overdue(now)) {
                actions.push(Effect::Breach(c.clone()));
            }
        }
        TimerKind::Reminder(k, before) => {
            if let Some(c) = clock(*k).filter(|c| c.status == ClockStatus::Running && c.due_at.is_some_and(|d| now < d))
            {
                actions.push(Effect::RemindStaff {
                    clock: c.clone(),
                    before: Some(before.to_string()),
                    escalate: k.cra_stage().is_some(),
                });
                // Both sides are reminded of a disclosure date (the researcher agreed to it too).
                if *k == ClockKind::Disclosure {
                    actions.push(Effect::RemindResearcher { clock: c.clone(), reached: false });
                }
            }
        }
        TimerKind::DisclosureDue => {
            if let Some(c) = clock(ClockKind::Disclosure).filter(|c| c.status == ClockStatus::Running) {
                actions.push(Effect::RemindResearcher { clock: c.clone(), reached: true });
                // The date came before the fix: that breaks the promise of a fix by then.
                if !ticket.resolved {
                    actions.push(Effect::Breach(c.clone()));
                }
                actions.push(Effect::RemindStaff { clock: c.clone(), before: None, escalate: false });
            }
        }
        TimerKind::StatusUpdate { .. } => {
            if ticket.open {
                actions.push(Effect::StatusUpdate);
            }
        }
        TimerKind::Retention => {
            if !ticket.open && !ticket.purged {
                actions.push(Effect::Purge);
            }
        }
    }
    actions
}

/// What the timeline and the log say of a broken promise.
pub fn breach_detail(c: &Clock, calendar: &Calendar) -> String {
    let due = calendar.show(c.due_at.unwrap_or(c.started_at));
    match c.kind {
        ClockKind::Acknowledge => {
            format!("no acknowledgement accepted by SMTP within the promised {}; check `vdpd status`", c.promise)
        }
        ClockKind::Disclosure => format!("the disclosure date {due} came before the fix"),
        _ => format!("the {} was due {due} ({})", c.kind.label(), c.promise),
    }
}

/// The broken promise in a few words, for the escalation's subject ("diagnosis was due …").
pub fn breach_summary(c: &Clock, calendar: &Calendar, now: i64) -> String {
    match c.kind {
        ClockKind::Disclosure => {
            format!("disclosure date {} reached before the fix", calendar.show_date(c.due_at.unwrap_or(now)))
        }
        _ => format!("{} was due {}", c.kind.label(), calendar.show(c.due_at.unwrap_or(c.started_at))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::PolicyDuration;

    const NOW: i64 = 1_800_000_000_000;

    fn clock(kind: ClockKind, status: ClockStatus, due_at: Option<i64>) -> Clock {
        Clock {
            kind,
            promise: "7 business days".into(),
            started_at: NOW - 10_000,
            due_at,
            status,
            left_ms: None,
            severity: None,
        }
    }

    const OPEN: TicketFacts = TicketFacts { open: true, resolved: false, purged: false };

    fn names(actions: &[Effect]) -> Vec<&'static str> {
        actions
            .iter()
            .map(|a| match a {
                Effect::Breach(_) => "breach",
                Effect::RemindStaff { before: Some(_), .. } => "remind staff",
                Effect::RemindStaff { before: None, .. } => "tell staff the date came",
                Effect::RemindResearcher { reached: false, .. } => "remind researcher",
                Effect::RemindResearcher { reached: true, .. } => "tell researcher the date came",
                Effect::StatusUpdate => "status update",
                Effect::Purge => "purge",
                other => panic!("a timer never plans {other:?}"),
            })
            .collect()
    }

    /// What the timeline and the escalation's subject say of a broken promise.
    #[test]
    fn a_broken_promise_is_worded_for_the_timeline_and_the_subject() {
        let calendar = Calendar::default();
        let due = Some(NOW - 3_600_000);
        let diagnosis = clock(ClockKind::Diagnosis, ClockStatus::Running, due);
        let shown = calendar.show(NOW - 3_600_000);
        assert_eq!(
            breach_detail(&diagnosis, &calendar),
            format!("the first diagnosis was due {shown} (7 business days)")
        );
        assert_eq!(breach_summary(&diagnosis, &calendar, NOW), format!("first diagnosis was due {shown}"));
        let disclosure = clock(ClockKind::Disclosure, ClockStatus::Running, due);
        assert!(breach_summary(&disclosure, &calendar, NOW).starts_with("disclosure date "));
        assert!(breach_detail(&disclosure, &calendar).ends_with("came before the fix"));
    }

    #[test]
    fn a_timer_acts_only_on_the_clock_as_it_is_now() {
        let before: PolicyDuration = "2 business days".parse().unwrap();
        let running_past = clock(ClockKind::Diagnosis, ClockStatus::Running, Some(NOW - 1));
        let running_ahead = clock(ClockKind::Diagnosis, ClockStatus::Running, Some(NOW + 1));
        let met = clock(ClockKind::Diagnosis, ClockStatus::Met { at: NOW - 5 }, Some(NOW - 1));
        let paused = clock(ClockKind::Diagnosis, ClockStatus::Paused { since: NOW - 5 }, None);
        let disclosure = clock(ClockKind::Disclosure, ClockStatus::Running, Some(NOW));
        let resolved = TicketFacts { open: false, resolved: true, purged: false };
        let closed = TicketFacts { open: false, resolved: false, purged: false };
        let purged = TicketFacts { purged: true, ..resolved };
        let breach = TimerKind::Breach(ClockKind::Diagnosis);
        let remind = TimerKind::Reminder(ClockKind::Diagnosis, before);
        let remind_disclosure = TimerKind::Reminder(ClockKind::Disclosure, before);
        let disclosure_ahead = clock(ClockKind::Disclosure, ClockStatus::Running, Some(NOW + 1));
        let rows: &[(&TimerKind, &[Clock], TicketFacts, &[&str])] = &[
            (&breach, std::slice::from_ref(&running_past), OPEN, &["breach"]),
            // Met since it was planned (staff answered), or paused (waiting on the researcher): nothing.
            (&breach, std::slice::from_ref(&met), OPEN, &[]),
            (&breach, std::slice::from_ref(&paused), OPEN, &[]),
            // Moved later since (a new severity): not yet.
            (&breach, std::slice::from_ref(&running_ahead), OPEN, &[]),
            (&breach, &[], OPEN, &[]),
            (&remind, std::slice::from_ref(&running_ahead), OPEN, &["remind staff"]),
            (&remind, std::slice::from_ref(&running_past), OPEN, &[]),
            (&remind, std::slice::from_ref(&met), OPEN, &[]),
            (&remind_disclosure, std::slice::from_ref(&disclosure_ahead), OPEN, &["remind staff", "remind researcher"]),
            (
                &TimerKind::DisclosureDue,
                std::slice::from_ref(&disclosure),
                OPEN,
                &["tell researcher the date came", "breach", "tell staff the date came"],
            ),
            // Fixed before the date: no broken promise.
            (
                &TimerKind::DisclosureDue,
                std::slice::from_ref(&disclosure),
                resolved,
                &["tell researcher the date came", "tell staff the date came"],
            ),
            (&TimerKind::StatusUpdate { since: NOW - 1 }, &[], OPEN, &["status update"]),
            (&TimerKind::StatusUpdate { since: NOW - 1 }, &[], resolved, &[]),
            (&TimerKind::Retention, &[], resolved, &["purge"]),
            (&TimerKind::Retention, &[], closed, &["purge"]),
            (&TimerKind::Retention, &[], OPEN, &[]),
            (&TimerKind::Retention, &[], purged, &[]),
        ];
        for (i, (what, clocks, facts, want)) in rows.iter().enumerate() {
            assert_eq!(names(&decide(what, clocks, *facts, NOW)), *want, "row {i}: {what}");
        }
    }
}

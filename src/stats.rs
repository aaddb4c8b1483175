//! Response statistics: the figures researchers judge a programme by — how many reports and what became of
//! them, how fast they were acknowledged, diagnosed and fixed (median and 90th percentile), how often each
//! promise was kept (the Cyber Resilience Act's filing deadlines among them, where tickets have them), and which
//! promises are broken right now. Pure: the command hands in the tickets with
//! their clocks.

use serde::Serialize;

use crate::engine::TicketState;
use crate::engine::clocks::{Clock, ClockKind, ClockStatus};
use crate::store::tickets::TicketRow;
use crate::ticket::CraStage;

/// Median and 90th percentile of a set of durations (milliseconds).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spread {
    pub n: usize,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

impl Spread {
    pub(crate) fn of(mut values: Vec<i64>) -> Spread {
        values.sort_unstable();
        // Nearest-rank percentiles: always a value that occurred.
        let rank = |p: f64| -> Option<i64> {
            if values.is_empty() {
                return None;
            }
            let i = ((p * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1;
            Some(values[i])
        };
        Spread { n: values.len(), median_ms: rank(0.5), p90_ms: rank(0.9) }
    }
}

/// How one kind of promise fared.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Promise {
    pub clock: &'static str,
    /// Met no later than due.
    pub kept: usize,
    /// Met late, or running past due.
    pub broken: usize,
    /// `kept / (kept + broken)`, if any was decided.
    pub share_kept: Option<f64>,
}

impl Promise {
    /// A promise's tally, with the share kept of those decided.
    pub fn tally(clock: &'static str, kept: usize, broken: usize) -> Promise {
        let decided = kept + broken;
        Promise { clock, kept, broken, share_kept: (decided > 0).then(|| kept as f64 / decided as f64) }
    }
}

/// A promise running past its due time now.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breach {
    pub reference: String,
    pub clock: &'static str,
    pub due_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stats {
    pub reports: usize,
    pub by_state: Vec<(String, usize)>,
    /// fixed (resolved, or closed after resolution) | duplicate | not-applicable | informative | open.
    pub by_outcome: Vec<(String, usize)>,
    pub time_to_acknowledge: Spread,
    pub time_to_diagnosis: Spread,
    pub time_to_fix: Spread,
    pub promises: Vec<Promise>,
    pub open_breaches: Vec<Breach>,
}

fn count<'a>(items: impl Iterator<Item = &'a str>, order: &[&str]) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = order.iter().map(|k| (k.to_string(), 0)).collect();
    for item in items {
        match counts.iter_mut().find(|(k, _)| k == item) {
            Some((_, n)) => *n += 1,
            None => counts.push((item.to_string(), 1)),
        }
    }
    counts
}

/// What the statistics read of one ticket: a few numbers and its promise clocks, not the whole row (holding
/// 100,000 whole rows was most of `vdpd stats`'s time and memory).
#[derive(Debug, Clone)]
pub struct Entry {
    pub reference: String,
    pub state: TicketState,
    pub outcome: &'static str,
    pub received_at: i64,
    pub ack_latency_ms: Option<i64>,
    pub diagnosed_at: Option<i64>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub mitigated_at: Option<i64>,
    /// When staff first took the report as valid.
    pub validated_at: Option<i64>,
    /// When a person first answered the researcher.
    pub first_response_at: Option<i64>,
    /// The acknowledge, diagnosis and fix clocks, and the CRA filings' of an exploited vulnerability.
    pub clocks: Vec<Clock>,
}

impl Entry {
    pub fn new(t: &TicketRow, mut clocks: Vec<Clock>) -> Entry {
        clocks.retain(|c| {
            matches!(c.kind, ClockKind::Acknowledge | ClockKind::Diagnosis | ClockKind::Fix | ClockKind::Cra(_))
        });
        let outcome = match t.outcome {
            Some(o) => o.as_str(),
            None if t.resolved_at.is_some() => "fixed",
            None => "open",
        };
        Entry {
            reference: t.reference.clone(),
            state: t.state,
            outcome,
            received_at: t.received_at,
            ack_latency_ms: t.ack_latency_ms,
            diagnosed_at: t.diagnosed_at,
            resolved_at: t.resolved_at,
            closed_at: t.closed_at,
            mitigated_at: t.mitigated_at,
            validated_at: t.validated_at,
            first_response_at: t.first_response_at,
            clocks,
        }
    }

    /// A flaw (fixed or still open), not closed as a duplicate, not applicable or informative.
    pub fn outcome_is_flaw(&self) -> bool {
        matches!(self.outcome, "fixed" | "open")
    }
}

/// The statistics of `tickets` as they stand at `now`.
pub fn compute(tickets: &[Entry], now: i64) -> Stats {
    let by_state =
        count(tickets.iter().map(|t| t.state.as_str()), &["new", "triage", "accepted", "fixing", "resolved", "closed"]);
    let by_outcome =
        count(tickets.iter().map(|t| t.outcome), &["fixed", "duplicate", "not-applicable", "informative", "open"]);
    let spread =
        |f: &dyn Fn(&Entry) -> Option<i64>| Spread::of(tickets.iter().filter_map(f).filter(|d| *d >= 0).collect());
    let mut promises = Vec::new();
    let mut open_breaches = Vec::new();
    // The CRA's deadlines count where a ticket has them (a desk without the duty is not shown three empty rows).
    let cra = CraStage::ALL.iter().map(|s| ClockKind::Cra(*s));
    let kinds = [ClockKind::Acknowledge, ClockKind::Diagnosis, ClockKind::Fix]
        .into_iter()
        .chain(cra.filter(|k| tickets.iter().any(|t| t.clocks.iter().any(|c| c.kind == *k))));
    for kind in kinds {
        let (mut kept, mut broken) = (0, 0);
        for t in tickets {
            let Some(c) = t.clocks.iter().find(|c| c.kind == kind) else { continue };
            match (c.kept(), &c.status) {
                (Some(true), _) => kept += 1,
                (Some(false), _) => broken += 1,
                (None, ClockStatus::Running) if c.overdue(now) => {
                    broken += 1;
                    open_breaches.push(Breach {
                        reference: t.reference.clone(),
                        clock: kind.as_str(),
                        due_at: c.due_at.unwrap_or(now),
                    });
                }
                _ => {}
            }
        }
        promises.push(Promise::tally(kind.as_str(), kept, broken));
    }
    open_breaches.sort_by_key(|b| b.due_at);
    Stats {
        reports: tickets.len(),
        by_state,
        by_outcome,
        time_to_acknowledge: spread(&|t| t.ack_latency_ms),
        time_to_diagnosis: spread(&|t| t.diagnosed_at.map(|d| d - t.received_at)),
        time_to_fix: spread(&|t| t.resolved_at.map(|d| d - t.received_at)),
        promises,
        open_breaches,
    }
}

/// A duration as people read it: "0.4 s", "12 min", "3.5 h", "4.2 days".
pub fn human(ms: i64) -> String {
    let s = ms as f64 / 1000.0;
    match s {
        s if s < 60.0 => format!("{s:.1} s"),
        s if s < 3600.0 => format!("{:.0} min", s / 60.0),
        s if s < 86_400.0 => format!("{:.1} h", s / 3600.0),
        s => format!("{:.1} days", s / 86_400.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Spread::of(vec![5, 1, 4, 2, 3, 6, 7, 8, 9, 10]);
        assert_eq!((s.n, s.median_ms, s.p90_ms), (10, Some(5), Some(9)));
        assert_eq!(Spread::of(vec![]).median_ms, None);
        assert_eq!(Spread::of(vec![42]).p90_ms, Some(42));
    }

    /// The CRA's deadlines are counted where tickets have them: kept, late, and one running past due.
    #[test]
    fn cra_deadlines_are_counted_where_tickets_have_them() {
        let clock = |stage, status, due_at| Clock {
            kind: ClockKind::Cra(stage),
            promise: "24 hours of becoming aware".into(),
            started_at: 0,
            due_at: Some(due_at),
            status,
            left_ms: None,
            severity: None,
        };
        let entry = |reference: &str, clocks| Entry {
            reference: reference.into(),
            state: TicketState::Triage,
            outcome: "open",
            received_at: 0,
            ack_latency_ms: None,
            diagnosed_at: None,
            resolved_at: None,
            closed_at: None,
            mitigated_at: None,
            validated_at: None,
            first_response_at: None,
            clocks,
        };
        let plain = entry("EX-1", vec![]);
        assert!(compute(std::slice::from_ref(&plain), 100).promises.iter().all(|p| !p.clock.starts_with("cra")));
        let tickets = [
            plain,
            entry(
                "EX-2",
                vec![
                    clock(CraStage::EarlyWarning, ClockStatus::Met { at: 10 }, 20),
                    clock(CraStage::Notification, ClockStatus::Met { at: 30 }, 20),
                ],
            ),
            entry("EX-3", vec![clock(CraStage::EarlyWarning, ClockStatus::Running, 50)]),
        ];
        let s = compute(&tickets, 100);
        let cra: Vec<(&str, usize, usize)> =
            s.promises.iter().filter(|p| p.clock.starts_with("cra")).map(|p| (p.clock, p.kept, p.broken)).collect();
        assert_eq!(cra, [("cra-early-warning", 1, 1), ("cra-notification", 0, 1)]);
        assert_eq!(s.open_breaches.len(), 1);
        assert_eq!((s.open_breaches[0].reference.as_str(), s.open_breaches[0].clock), ("EX-3", "cra-early-warning"));
    }

    #[test]
    fn durations_read_like_people_say_them() {
        assert_eq!(human(400), "0.4 s");
        assert_eq!(human(12 * 60_000), "12 min");
        assert_eq!(human(3 * 3_600_000 + 1_800_000), "3.5 h");
        assert_eq!(human(4 * 86_400_000 + 17_280_000), "4.2 days");
    }
}

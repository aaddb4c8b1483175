//! The standard response metrics of a vulnerability disclosure programme, as CISA's Binding Operational
//! Directive 20-01 has agencies report them each quarter: reports received, valid, open, open for more than
//! 90 days, and the median times to first respond, to validate and to remediate — with the first *human*
//! response measured apart from the automatic acknowledgement, and beside them the share of each promise met
//! over the last 90 days (the way bug-bounty platforms show response targets).
//!
//! The definitions, as vdpd applies them to its tickets:
//! - *received*: tickets received in the quarter;
//! - *valid*: of those, the ones staff took as valid (moved to accepted, fixing or resolved) by the end of the
//!   quarter and did not close as a duplicate, not applicable or informative;
//! - *open*: valid tickets, received at any time, neither remediated nor closed at the end of the quarter (or
//!   now, for the quarter under way); *older than 90 days*: of those, the ones received more than 90 days
//!   before it;
//! - *time to first human response*: receipt to the first staff mail relayed to the researcher; *to
//!   validate*: receipt to the first move to accepted, fixing or resolved; *to remediate*: receipt to the first
//!   fix or mitigation (`#resolved`, `#mitigated`), for valid tickets remediated in the quarter.
//!
//! Pure: the command hands in the tickets with their clocks.

use serde::Serialize;

use crate::engine::clocks::ClockKind;
use crate::stats::{Entry, Promise, Spread};

const DAY_MS: i64 = 86_400_000;

/// A calendar quarter: `2026-Q4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quarter {
    pub year: i16,
    /// 1 to 4.
    pub q: i8,
}

impl Quarter {
    /// The quarter `date` falls in.
    pub fn of(date: jiff::civil::Date) -> Quarter {
        Quarter { year: date.year(), q: (date.month() - 1) / 3 + 1 }
    }

    /// Its first day.
    pub fn first_day(&self) -> jiff::civil::Date {
        jiff::civil::date(self.year, (self.q - 1) * 3 + 1, 1)
    }

    /// The first day of the next quarter.
    pub fn next_first_day(&self) -> jiff::civil::Date {
        match self.q {
            4 => jiff::civil::date(self.year + 1, 1, 1),
            q => jiff::civil::date(self.year, q * 3 + 1, 1),
        }
    }
}

impl std::fmt::Display for Quarter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-Q{}", self.year, self.q)
    }
}

impl std::str::FromStr for Quarter {
    type Err = String;
    fn from_str(s: &str) -> Result<Quarter, String> {
        let err = || format!("{s:?} is not a quarter: write 2026-Q4");
        let (year, q) = s
            .trim()
            .split_once(['-', ' '])
            .map_or_else(
                || s.trim().to_ascii_uppercase().split_once('Q').map(|(y, q)| (y.to_string(), q.to_string())),
                |(y, q)| Some((y.to_string(), q.trim_start_matches(['Q', 'q']).to_string())),
            )
            .ok_or_else(err)?;
        let year: i16 = year.parse().map_err(|_| err())?;
        let q: i8 = q.parse().map_err(|_| err())?;
        if !(1..=4).contains(&q) || !(1970..=9999).contains(&year) {
            return Err(err());
        }
        Ok(Quarter { year, q })
    }
}

/// The metrics of one quarter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bod {
    pub quarter: String,
    /// The quarter's bounds (ms; `to` exclusive) in the policy's time zone, and the instant the open figures
    /// are taken at: the quarter's end, or now for the quarter under way.
    pub from: i64,
    pub to: i64,
    pub as_of: i64,
    pub reports_received: usize,
    pub reports_valid: usize,
    pub open_valid: usize,
    pub open_valid_over_90_days: usize,
    pub time_to_first_human_response: Spread,
    /// The automatic acknowledgement, for comparison (receipt to the server's acceptance).
    pub time_to_acknowledge: Spread,
    pub time_to_validate: Spread,
    pub time_to_remediate: Spread,
    /// Each promise whose deadline fell in the 90 days before `as_of`: kept, broken, and the share kept.
    pub promises_last_90_days: Vec<Promise>,
}

/// The metrics of the quarter `[from, to)`, with the open figures as of `min(to, now)`.
pub fn compute(tickets: &[Entry], quarter: Quarter, from: i64, to: i64, now: i64) -> Bod {
    let as_of = to.min(now);
    let in_quarter = |t: i64| (from..to).contains(&t);
    let received: Vec<&Entry> = tickets.iter().filter(|t| in_quarter(t.received_at)).collect();
    let is_valid = |t: &Entry| t.outcome_is_flaw() && t.validated_at.is_some_and(|v| v <= as_of);
    let remediated_at = |t: &Entry| match (t.mitigated_at, t.resolved_at) {
        (Some(m), Some(r)) => Some(m.min(r)),
        (m, r) => m.or(r),
    };
    let open_at = |t: &Entry| {
        is_valid(t)
            && t.received_at <= as_of
            && remediated_at(t).is_none_or(|r| r > as_of)
            && t.closed_at.is_none_or(|c| c > as_of)
    };
    let open: Vec<&Entry> = tickets.iter().filter(|t| open_at(t)).collect();
    let spread = |values: Vec<i64>| Spread::of(values.into_iter().filter(|d| *d >= 0).collect());
    Bod {
        quarter: quarter.to_string(),
        from,
        to,
        as_of,
        reports_received: received.len(),
        reports_valid: received.iter().filter(|t| is_valid(t)).count(),
        open_valid: open.len(),
        open_valid_over_90_days: open.iter().filter(|t| t.received_at < as_of - 90 * DAY_MS).count(),
        time_to_first_human_response: spread(
            received
                .iter()
                .filter_map(|t| t.first_response_at.filter(|r| *r <= as_of).map(|r| r - t.received_at))
                .collect(),
        ),
        time_to_acknowledge: spread(received.iter().filter_map(|t| t.ack_latency_ms).collect()),
        time_to_validate: spread(
            received.iter().filter(|t| is_valid(t)).filter_map(|t| t.validated_at.map(|v| v - t.received_at)).collect(),
        ),
        time_to_remediate: spread(
            tickets
                .iter()
                .filter(|t| is_valid(t))
                .filter_map(|t| remediated_at(t).filter(|r| in_quarter(*r)).map(|r| r - t.received_at))
                .collect(),
        ),
        promises_last_90_days: promises_due(tickets, as_of - 90 * DAY_MS, as_of),
    }
}

/// The metrics as Prometheus gauges (text format 0.0.4), labelled with the quarter: for the node exporter's
/// textfile collector, or any scraper of files.
pub fn prometheus(b: &Bod) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let q = &b.quarter;
    let mut gauge = |name: &str, help: &str, samples: Vec<(String, f64)>| {
        let _ = writeln!(out, "# HELP vdpd_bod_{name} {help}");
        let _ = writeln!(out, "# TYPE vdpd_bod_{name} gauge");
        for (labels, value) in samples {
            let _ = writeln!(out, "vdpd_bod_{name}{{quarter=\"{q}\"{labels}}} {value}");
        }
    };
    let one = |v: usize| vec![(String::new(), v as f64)];
    gauge("reports_received", "Reports received in the quarter.", one(b.reports_received));
    gauge("reports_valid", "Reports received in the quarter that staff took as valid.", one(b.reports_valid));
    gauge(
        "open_valid",
        "Valid reports neither remediated nor closed at the quarter's end (or now).",
        one(b.open_valid),
    );
    gauge(
        "open_valid_over_90_days",
        "Open valid reports received more than 90 days before.",
        one(b.open_valid_over_90_days),
    );
    for (name, help, spread) in [
        (
            "first_human_response",
            "Median seconds from receipt to a person's first answer.",
            &b.time_to_first_human_response,
        ),
        ("validate", "Median seconds from receipt to validation.", &b.time_to_validate),
        ("remediate", "Median seconds from receipt to the fix or mitigation.", &b.time_to_remediate),
        ("acknowledge", "Median seconds from receipt to the automatic acknowledgement.", &b.time_to_acknowledge),
    ] {
        if let Some(ms) = spread.median_ms {
            gauge(&format!("{name}_median_seconds"), help, vec![(String::new(), ms as f64 / 1000.0)]);
        }
    }
    let shares: Vec<(String, f64)> = b
        .promises_last_90_days
        .iter()
        .filter_map(|p| p.share_kept.map(|s| (format!(",clock=\"{}\"", p.clock), s)))
        .collect();
    if !shares.is_empty() {
        gauge("promise_kept_ratio_90d", "Share of each promise met over the last 90 days.", shares);
    }
    out
}

/// How each promise due in `(from, to]` fared: kept (met by its deadline), or broken (met late, or still
/// running past it at `to`).
fn promises_due(tickets: &[Entry], from: i64, to: i64) -> Vec<Promise> {
    let mut kinds: Vec<ClockKind> = Vec::new();
    for c in tickets.iter().flat_map(|t| &t.clocks) {
        if !kinds.contains(&c.kind) {
            kinds.push(c.kind);
        }
    }
    kinds.sort_by_key(|k| ClockKind::ALL.iter().position(|a| a == k));
    kinds
        .into_iter()
        .map(|kind| {
            let (mut kept, mut broken) = (0, 0);
            for c in tickets.iter().flat_map(|t| &t.clocks).filter(|c| c.kind == kind) {
                let Some(due) = c.due_at.filter(|d| *d > from && *d <= to) else { continue };
                match c.kept() {
                    Some(true) => kept += 1,
                    Some(false) => broken += 1,
                    None if c.overdue(to) && due <= to => broken += 1,
                    None => {}
                }
            }
            Promise::tally(kind.as_str(), kept, broken)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::TicketState;
    use crate::engine::clocks::{Clock, ClockStatus};

    const D: i64 = DAY_MS;

    #[test]
    fn quarters_read_and_bound() {
        for text in ["2026-Q4", "2026Q4", "2026-q4", "2026 Q4", "2026-4"] {
            assert_eq!(text.parse::<Quarter>(), Ok(Quarter { year: 2026, q: 4 }), "{text}");
        }
        assert!("2026-Q5".parse::<Quarter>().is_err());
        assert!("Q4".parse::<Quarter>().is_err());
        let q4 = Quarter { year: 2026, q: 4 };
        assert_eq!(
            (q4.first_day(), q4.next_first_day()),
            (jiff::civil::date(2026, 10, 1), jiff::civil::date(2027, 1, 1))
        );
        assert_eq!(Quarter::of(jiff::civil::date(2026, 3, 31)), Quarter { year: 2026, q: 1 });
        assert_eq!(Quarter { year: 2026, q: 2 }.next_first_day(), jiff::civil::date(2026, 7, 1));
    }

    fn entry(received_at: i64) -> Entry {
        Entry {
            reference: format!("EX-{received_at}"),
            state: TicketState::Triage,
            outcome: "open",
            received_at,
            ack_latency_ms: Some(500),
            diagnosed_at: None,
            resolved_at: None,
            closed_at: None,
            mitigated_at: None,
            validated_at: None,
            first_response_at: None,
            clocks: Vec::new(),
        }
    }

    /// A quarter of 100 days from 0, looked at on day 120 (after its end): what counts where.
    #[test]
    fn each_figure_counts_what_the_directive_names() {
        let (from, to, now) = (0, 100 * D, 120 * D);
        let q = Quarter { year: 2026, q: 4 };
        // Received before the quarter, valid, still open at its end, and older than 90 days by then.
        let old = Entry { validated_at: Some(-40 * D), ..entry(-50 * D) };
        // Received in it, answered by a person after 2 days, validated after 3, fixed after 10.
        let fixed = Entry {
            first_response_at: Some(12 * D),
            validated_at: Some(13 * D),
            resolved_at: Some(20 * D),
            ..entry(10 * D)
        };
        // Valid, mitigated after 5 days and later fixed: remediated at the mitigation.
        let mitigated = Entry {
            validated_at: Some(31 * D),
            mitigated_at: Some(35 * D),
            resolved_at: Some(60 * D),
            ..entry(30 * D)
        };
        // Valid and open at the quarter's end, fixed only after it.
        let late = Entry { validated_at: Some(41 * D), resolved_at: Some(110 * D), ..entry(40 * D) };
        // Closed as a duplicate after being taken: not valid.
        let duplicate =
            Entry { validated_at: Some(51 * D), closed_at: Some(52 * D), outcome: "duplicate", ..entry(50 * D) };
        // Never validated; and one received after the quarter.
        let untouched = entry(70 * D);
        let after = Entry { validated_at: Some(106 * D), ..entry(105 * D) };
        let b = compute(&[old, fixed, mitigated, late, duplicate, untouched, after], q, from, to, now);
        assert_eq!((b.reports_received, b.reports_valid), (5, 3));
        assert_eq!((b.open_valid, b.open_valid_over_90_days), (2, 1), "the old one and the late one");
        assert_eq!(b.as_of, to);
        assert_eq!(b.time_to_first_human_response.median_ms, Some(2 * D));
        assert_eq!(b.time_to_first_human_response.n, 1);
        assert_eq!(b.time_to_acknowledge.n, 5);
        assert_eq!((b.time_to_validate.n, b.time_to_validate.median_ms), (3, Some(D)));
        // Remediated in the quarter: the fix after 10 days and the mitigation after 5 (not the fix after 30).
        assert_eq!(b.time_to_remediate.n, 2);
        assert_eq!(b.time_to_remediate.p90_ms, Some(10 * D));
        // The quarter under way: open figures as of now.
        let b = compute(&[entry(10 * D)], q, from, to, 50 * D);
        assert_eq!(b.as_of, 50 * D);
    }

    #[test]
    fn the_metrics_as_prometheus_gauges() {
        let fixed = Entry {
            first_response_at: Some(12 * D),
            validated_at: Some(13 * D),
            resolved_at: Some(20 * D),
            ..entry(10 * D)
        };
        let b = compute(&[fixed], Quarter { year: 2026, q: 4 }, 0, 100 * D, 120 * D);
        let text = prometheus(&b);
        for line in [
            "# TYPE vdpd_bod_reports_received gauge",
            "vdpd_bod_reports_received{quarter=\"2026-Q4\"} 1",
            "vdpd_bod_open_valid{quarter=\"2026-Q4\"} 0",
            "vdpd_bod_first_human_response_median_seconds{quarter=\"2026-Q4\"} 172800",
            "vdpd_bod_remediate_median_seconds{quarter=\"2026-Q4\"} 864000",
        ] {
            assert!(text.lines().any(|l| l == line), "{line:?} in\n{text}");
        }
    }

    #[test]
    fn promises_met_over_the_last_90_days() {
        let clock = |kind, status, due_at| Clock {
            kind,
            promise: String::new(),
            started_at: 0,
            due_at: Some(due_at),
            status,
            left_ms: None,
            severity: None,
        };
        let now = 200 * D;
        let t = Entry {
            clocks: vec![
                clock(ClockKind::Acknowledge, ClockStatus::Met { at: 150 * D }, 151 * D),
                clock(ClockKind::Diagnosis, ClockStatus::Met { at: 160 * D }, 155 * D),
                // Due before the window: not counted.
                clock(ClockKind::Fix, ClockStatus::Met { at: 100 * D }, 100 * D),
            ],
            ..entry(0)
        };
        let running = Entry {
            clocks: vec![
                clock(ClockKind::Diagnosis, ClockStatus::Running, 190 * D),
                // Due after now: undecided.
                clock(ClockKind::Acknowledge, ClockStatus::Running, 201 * D),
            ],
            ..entry(0)
        };
        let p = promises_due(&[t, running], now - 90 * D, now);
        let got: Vec<(&str, usize, usize)> = p.iter().map(|p| (p.clock, p.kept, p.broken)).collect();
        assert_eq!(got, [("acknowledge", 1, 0), ("diagnosis", 0, 2), ("fix", 0, 0)]);
    }
}

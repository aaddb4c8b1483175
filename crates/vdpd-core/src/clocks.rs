//! SLA clocks: the policy's promises as they stand for one ticket, and the timers that keep them.
//!
//! A clock is derived, never stored: from the ticket's facts (when it arrived, when it was acknowledged,
//! diagnosed, resolved, how severe it is, when it waited on the researcher) and the policy, [`compute`] says
//! when each promise is due and whether it was kept. [`timers`] turns that into the exact set of timers the
//! ticket should have (reminders, breaches, disclosure reminders, the periodic status mail, the retention
//! purge); the store makes the pending timers equal to that set whenever a fact changes. So a clock "stops,
//! pauses or restarts as the state changes" without any code that stops, pauses or restarts it, and a timer
//! that fired stays fired: a promise is never escalated twice.

use std::fmt;

use jiff::civil::Date;
use serde::Serialize;

use crate::config::{
    CRA_EARLY_WARNING, CRA_FINAL_REPORT, CRA_INCIDENT_FINAL_REPORT, CRA_NOTIFICATION, Calendar, Config, Cra,
    PolicyDuration, Severity, Sla,
};
use crate::ticket::{CraStage, Outcome, TicketState};

/// A ticket's facts that the clocks depend on (times in milliseconds since the epoch).
#[derive(Debug, Clone)]
pub struct Facts {
    pub state: TicketState,
    pub received_at: i64,
    pub acknowledged_at: Option<i64>,
    pub diagnosed_at: Option<i64>,
    pub severity: Option<Severity>,
    /// A negotiated disclosure date.
    pub disclose_on: Option<Date>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// How a closed ticket ended (duplicate, not applicable, informative), if it has.
    pub outcome: Option<Outcome>,
    /// Times the ticket waited on the researcher: (from, until); `None` while still waiting.
    pub waits: Vec<(i64, Option<i64>)>,
    /// When the researcher last heard from us with news.
    pub last_update_at: Option<i64>,
    pub purged: bool,
    pub erased: bool,
    /// Since when the vulnerability is known to be actively exploited (CRA Art. 14(2)).
    pub exploited_at: Option<i64>,
    /// When a corrective or mitigating measure became available (`#mitigated`).
    pub mitigated_at: Option<i64>,
    /// The CRA stages filed, and when.
    pub cra_filed: Vec<(CraStage, i64)>,
    /// Since when a severe incident having an impact on the product's security is known (CRA Art. 14(3)).
    pub incident_at: Option<i64>,
}

impl Facts {
    pub fn new(state: TicketState, received_at: i64) -> Facts {
        Facts {
            state,
            received_at,
            acknowledged_at: None,
            diagnosed_at: None,
            severity: None,
            disclose_on: None,
            resolved_at: None,
            closed_at: None,
            outcome: None,
            waits: Vec::new(),
            last_update_at: None,
            purged: false,
            erased: false,
            exploited_at: None,
            mitigated_at: None,
            cra_filed: Vec::new(),
            incident_at: None,
        }
    }

    fn critical(&self) -> bool {
        self.severity == Some(Severity::Critical)
    }
}

/// The promises a policy can make, and the deadlines the law sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClockKind {
    Acknowledge,
    Diagnosis,
    Fix,
    Disclosure,
    /// A filing the Cyber Resilience Act requires of an actively exploited vulnerability (Art. 14(2)): a
    /// deadline of the law, not of the policy, on calendar hours.
    Cra(CraStage),
}

/// In JSON as in timer kinds: `"diagnosis"`, `"cra-early-warning"`.
impl Serialize for ClockKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl ClockKind {
    /// Every kind, in the order statistics list them.
    pub const ALL: [ClockKind; 10] = [
        ClockKind::Acknowledge,
        ClockKind::Diagnosis,
        ClockKind::Fix,
        ClockKind::Disclosure,
        ClockKind::Cra(CraStage::EarlyWarning),
        ClockKind::Cra(CraStage::Notification),
        ClockKind::Cra(CraStage::Final),
        ClockKind::Cra(CraStage::IncidentEarlyWarning),
        ClockKind::Cra(CraStage::IncidentNotification),
        ClockKind::Cra(CraStage::IncidentFinal),
    ];

    /// The name in timer kinds and JSON.
    pub fn as_str(&self) -> &'static str {
        match self {
            ClockKind::Acknowledge => "acknowledge",
            ClockKind::Diagnosis => "diagnosis",
            ClockKind::Fix => "fix",
            ClockKind::Disclosure => "disclosure",
            ClockKind::Cra(CraStage::EarlyWarning) => "cra-early-warning",
            ClockKind::Cra(CraStage::Notification) => "cra-notification",
            ClockKind::Cra(CraStage::Final) => "cra-final",
            ClockKind::Cra(CraStage::IncidentEarlyWarning) => "cra-incident-early-warning",
            ClockKind::Cra(CraStage::IncidentNotification) => "cra-incident-notification",
            ClockKind::Cra(CraStage::IncidentFinal) => "cra-incident-final",
        }
    }

    /// The name people read.
    pub fn label(&self) -> &'static str {
        match self {
            ClockKind::Acknowledge => "acknowledgement",
            ClockKind::Diagnosis => "first diagnosis",
            ClockKind::Fix => "fix",
            ClockKind::Disclosure => "disclosure",
            ClockKind::Cra(stage) => stage.label(),
        }
    }

    pub fn parse(s: &str) -> Option<ClockKind> {
        ClockKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The CRA stage, for a clock of the Cyber Resilience Act.
    pub fn cra_stage(&self) -> Option<CraStage> {
        match self {
            ClockKind::Cra(stage) => Some(*stage),
            _ => None,
        }
    }
}

/// Where a clock stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "lowercase")]
pub enum ClockStatus {
    /// Counting towards `due_at`.
    Running,
    /// Standing still while the ticket waits on the researcher.
    Paused { since: i64 },
    /// The promise was kept (or broken, if `at` is after the due time) at `at`.
    Met { at: i64 },
    /// No longer applies (e.g. no fix is due for a report closed as not applicable).
    Stopped { at: i64, why: String },
}

/// One promise for one ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Clock {
    pub kind: ClockKind,
    /// The promise in the policy's words: "7 business days", or "agreed" for a negotiated date.
    pub promise: String,
    pub started_at: i64,
    /// `None` while paused.
    pub due_at: Option<i64>,
    #[serde(flatten)]
    pub status: ClockStatus,
    /// For a paused clock: how much of it is left (in its own measure, milliseconds).
    pub left_ms: Option<i64>,
    /// For a severity-dependent clock: the band it was set for.
    pub severity: Option<Severity>,
}

impl Clock {
    /// Running and past its due time.
    pub fn overdue(&self, now: i64) -> bool {
        self.status == ClockStatus::Running && self.due_at.is_some_and(|d| now >= d)
    }

    /// Kept: met no later than due. `None` while undecided.
    pub fn kept(&self) -> Option<bool> {
        match (&self.status, self.due_at) {
            (ClockStatus::Met { at }, Some(due)) => Some(*at <= due),
            _ => None,
        }
    }
}

/// What the timer plan reads from the policy, and nothing else: [`compute`] and [`timers`] take this rather than
/// the whole [`Config`], so the fingerprint that tells a running desk to re-plan every open ticket (a hash of
/// all of it, [`TimerPolicy::fingerprint`]) cannot miss a setting the plan depends on — a new field of `Sla` or
/// `Calendar` is in the hash without anyone remembering to add it.
#[derive(Debug, Clone, Copy)]
pub struct TimerPolicy<'a> {
    pub sla: &'a Sla,
    pub calendar: &'a Calendar,
    /// `retention.after_resolution`: when a resolved ticket's content is purged.
    pub purge_after: Option<PolicyDuration>,
    /// `[cra]`: whether an exploited vulnerability's filings have clocks, and their reminders.
    pub cra: &'a Cra,
}

impl<'a> TimerPolicy<'a> {
    pub fn of(config: &'a Config) -> TimerPolicy<'a> {
        TimerPolicy {
            sla: &config.sla,
            calendar: &config.calendar,
            purge_after: config.retention.after_resolution,
            cra: &config.cra,
        }
    }

    /// A digest of everything the plan reads (its `Debug` form, which the compiler derives field by field).
    /// A change of it re-plans every live ticket; a change that does not matter only costs one re-plan.
    pub fn fingerprint(&self) -> String {
        crate::classify::sha256_hex(format!("{self:?}").as_bytes())
    }
}

/// The ticket's clocks under the policy, in the order they come due.
pub fn compute(f: &Facts, policy: &TimerPolicy<'_>) -> Vec<Clock> {
    let (sla, cal) = (policy.sla, policy.calendar);
    let mut out = Vec::new();
    let start = f.received_at;
    let clock = |kind, promise: String, due_at| Clock {
        kind,
        promise,
        started_at: start,
        due_at,
        status: ClockStatus::Running,
        left_ms: None,
        severity: None,
    };

    let mut ack = clock(ClockKind::Acknowledge, sla.acknowledge.to_string(), Some(cal.add(start, sla.acknowledge)));
    if let Some(at) = f.acknowledged_at {
        ack.status = ClockStatus::Met { at };
    }
    out.push(ack);

    if let Some(d) = sla.first_diagnosis {
        // A decision is a diagnosis too: a ticket closed without a word still stops the clock.
        let met = f.diagnosed_at.or(f.closed_at);
        let waits: Vec<(i64, Option<i64>)> = if sla.pause_diagnosis_while_waiting {
            f.waits.iter().copied().filter(|(from, _)| met.is_none_or(|m| *from < m)).collect()
        } else {
            Vec::new()
        };
        let mut c = clock(ClockKind::Diagnosis, d.to_string(), None);
        match paused_deadline(cal, start, d, &waits) {
            Deadline::Due(due) => c.due_at = Some(due),
            Deadline::Paused { since, left } => {
                c.status = ClockStatus::Paused { since };
                c.left_ms = Some(left);
            }
        }
        if let Some(at) = met {
            c.status = ClockStatus::Met { at };
            c.left_ms = None;
        }
        out.push(c);
    }

    if let Some(sev) = f.severity
        && let Some((_, d)) = sla.fix.iter().find(|(s, _)| *s == sev)
    {
        let mut c = clock(ClockKind::Fix, d.to_string(), Some(cal.add(start, *d)));
        c.severity = Some(sev);
        if let Some(at) = f.resolved_at {
            c.status = ClockStatus::Met { at };
        } else if let Some(outcome) = f.outcome {
            c.status = ClockStatus::Stopped { at: f.closed_at.unwrap_or(start), why: format!("closed as {outcome}") };
        } else if let Some(at) = f.closed_at {
            c.status = ClockStatus::Stopped { at, why: "closed".into() };
        }
        out.push(c);
    }

    let disclosure = match (f.disclose_on, sla.disclosure) {
        (Some(date), _) => Some(("agreed".to_string(), cal.start_of(date))),
        (None, Some(d)) => Some((format!("{d} after the report"), cal.add(start, d))),
        (None, None) => None,
    };
    if let Some((promise, due)) = disclosure {
        let mut c = clock(ClockKind::Disclosure, promise, Some(due));
        if let Some(outcome) = f.outcome {
            c.status = ClockStatus::Stopped { at: f.closed_at.unwrap_or(start), why: format!("closed as {outcome}") };
        }
        out.push(c);
    }
    if policy.cra.enabled
        && let Some(aware) = f.exploited_at
    {
        out.extend(cra_clocks(f, aware, cal));
    }
    if policy.cra.enabled
        && policy.cra.incidents
        && let Some(aware) = f.incident_at
    {
        out.extend(incident_clocks(f, aware, cal));
    }
    out
}

/// The three filings of a severe incident having an impact on the product's security (Art. 14(3), (4)): the
/// early warning and the incident notification from the moment the desk became aware, the final report one
/// month after the incident notification was filed.
fn incident_clocks(f: &Facts, aware: i64, cal: &Calendar) -> Vec<Clock> {
    let notified = filed(f, CraStage::IncidentNotification);
    let stages = [
        (
            CraStage::IncidentEarlyWarning,
            format!("{CRA_EARLY_WARNING} of becoming aware"),
            Some(aware),
            CRA_EARLY_WARNING,
        ),
        (
            CraStage::IncidentNotification,
            format!("{CRA_NOTIFICATION} of becoming aware"),
            Some(aware),
            CRA_NOTIFICATION,
        ),
        (
            CraStage::IncidentFinal,
            format!("{CRA_INCIDENT_FINAL_REPORT} after the incident notification"),
            notified,
            CRA_INCIDENT_FINAL_REPORT,
        ),
    ];
    filing_clocks(f, aware, stages, cal)
}

/// The three filings of an actively exploited vulnerability (Art. 14(2)): the early warning and the
/// notification from the moment the desk became aware, the final report from the first corrective or
/// mitigating measure (which a fix is). A duplicate's clocks stop, as the original ticket's filings cover the
/// vulnerability.
fn cra_clocks(f: &Facts, aware: i64, cal: &Calendar) -> Vec<Clock> {
    let measure = match (f.mitigated_at, f.resolved_at) {
        (Some(m), Some(r)) => Some(m.min(r)),
        (m, r) => m.or(r),
    };
    let stages = [
        (CraStage::EarlyWarning, format!("{CRA_EARLY_WARNING} of becoming aware"), Some(aware), CRA_EARLY_WARNING),
        (CraStage::Notification, format!("{CRA_NOTIFICATION} of becoming aware"), Some(aware), CRA_NOTIFICATION),
        (
            CraStage::Final,
            format!("{CRA_FINAL_REPORT} after a fix or mitigation is available"),
            measure,
            CRA_FINAL_REPORT,
        ),
    ];
    let mut clocks = filing_clocks(f, aware, stages, cal);
    if f.outcome == Some(Outcome::Duplicate) {
        for c in clocks.iter_mut().filter(|c| c.status == ClockStatus::Running) {
            c.status = ClockStatus::Stopped {
                at: f.closed_at.unwrap_or(aware),
                why: "closed as a duplicate: the original ticket's filings cover it".into(),
            };
        }
    }
    clocks
}

/// When `stage` was filed, if it was.
fn filed(f: &Facts, stage: CraStage) -> Option<i64> {
    f.cra_filed.iter().find(|(s, _)| *s == stage).map(|(_, at)| *at)
}

/// One clock per filing: (stage, the deadline in words, when it starts — `None`: not yet, the clock has no
/// due time —, its length); a filing made meets it.
fn filing_clocks(
    f: &Facts,
    aware: i64,
    stages: [(CraStage, String, Option<i64>, PolicyDuration); 3],
    cal: &Calendar,
) -> Vec<Clock> {
    stages
        .into_iter()
        .map(|(stage, promise, start, duration)| Clock {
            kind: ClockKind::Cra(stage),
            promise,
            started_at: start.unwrap_or(aware),
            due_at: start.map(|s| cal.add(s, duration)),
            status: filed(f, stage).map_or(ClockStatus::Running, |at| ClockStatus::Met { at }),
            left_ms: None,
            severity: None,
        })
        .collect()
}

enum Deadline {
    Due(i64),
    Paused { since: i64, left: i64 },
}

/// The due time of a clock of `duration` from `start` that stands still during `waits`.
fn paused_deadline(cal: &Calendar, start: i64, duration: PolicyDuration, waits: &[(i64, Option<i64>)]) -> Deadline {
    let (measure, budget) = cal.budget(start, duration);
    let mut t = start;
    let mut left = budget;
    let mut waits = waits.to_vec();
    waits.sort();
    for (from, until) in waits {
        let from = from.max(t);
        let used = cal.elapsed(measure, t, from);
        if used >= left {
            break;
        }
        left -= used;
        match until {
            None => return Deadline::Paused { since: from, left },
            Some(until) => t = until.max(from),
        }
    }
    Deadline::Due(cal.advance(measure, t, left))
}

/// The words of stored timer kinds; only [`TimerKind`]'s `Display` and `parse` use them. A timer is (ticket,
/// kind); kinds that depend on a policy value carry it, so a changed policy plans a new timer instead of
/// reusing a fired one.
mod kind {
    /// The acknowledgement promise broke (SMTP has not accepted the acknowledgement in time).
    pub const ACKNOWLEDGE: &str = "acknowledge";
    pub const RETENTION: &str = "retention";
    pub const STATUS_UPDATE_PREFIX: &str = "status-update:";
    pub const BREACH: &str = "breach";
    pub const REMINDER: &str = "reminder";
    /// The disclosure date itself.
    pub const DISCLOSURE_DUE: &str = "disclosure:due";
}

/// What a timer is for: the one representation of a timer kind. The store keeps its `Display` form (e.g.
/// `diagnosis:reminder:2 business days`), and [`TimerKind::parse`] reads it back; a ticket's planned timers
/// are compared by that form, so a changed reminder point is a different timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerKind {
    /// The clock ran out.
    Breach(ClockKind),
    /// Some time before the clock runs out (the policy's reminder point).
    Reminder(ClockKind, PolicyDuration),
    DisclosureDue,
    /// The periodic status mail, counted from the last update (ms) — a new update is a new timer.
    StatusUpdate {
        since: i64,
    },
    Retention,
}

impl fmt::Display for TimerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimerKind::Breach(ClockKind::Acknowledge) => f.write_str(kind::ACKNOWLEDGE),
            TimerKind::Breach(k) => write!(f, "{}:{}", k.as_str(), kind::BREACH),
            TimerKind::Reminder(k, before) => write!(f, "{}:{}:{before}", k.as_str(), kind::REMINDER),
            TimerKind::DisclosureDue => f.write_str(kind::DISCLOSURE_DUE),
            TimerKind::StatusUpdate { since } => write!(f, "{}{since}", kind::STATUS_UPDATE_PREFIX),
            TimerKind::Retention => f.write_str(kind::RETENTION),
        }
    }
}

impl TimerKind {
    /// A stored timer kind read back; `None` for one this version does not know.
    pub fn parse(kind: &str) -> Option<TimerKind> {
        if kind == kind::ACKNOWLEDGE {
            return Some(TimerKind::Breach(ClockKind::Acknowledge));
        }
        if kind == kind::RETENTION {
            return Some(TimerKind::Retention);
        }
        if kind == kind::DISCLOSURE_DUE {
            return Some(TimerKind::DisclosureDue);
        }
        if let Some(since) = kind.strip_prefix(kind::STATUS_UPDATE_PREFIX) {
            return since.parse().ok().map(|since| TimerKind::StatusUpdate { since });
        }
        let mut parts = kind.splitn(3, ':');
        let clock = ClockKind::parse(parts.next()?)?;
        match (parts.next()?, parts.next()) {
            (kind::BREACH, None) => Some(TimerKind::Breach(clock)),
            (kind::REMINDER, Some(before)) => before.parse().ok().map(|b| TimerKind::Reminder(clock, b)),
            _ => None,
        }
    }
}

/// The timers the ticket should have now: (kind, due). Mail to staff waits for working hours unless the
/// ticket is critical; so does the periodic status mail (a person's working day is when news comes).
pub fn timers(f: &Facts, clocks: &[Clock], policy: &TimerPolicy<'_>) -> Vec<(TimerKind, i64)> {
    let (sla, cal) = (policy.sla, policy.calendar);
    let staff_time = |t: i64| if f.critical() { t } else { cal.next_working_time(t) };
    let mut out = Vec::new();
    for c in clocks {
        let (ClockStatus::Running, Some(due)) = (&c.status, c.due_at) else { continue };
        let reminders: &[PolicyDuration] = match c.kind {
            ClockKind::Acknowledge => &[],
            ClockKind::Diagnosis | ClockKind::Fix => &sla.reminders,
            ClockKind::Disclosure => &sla.disclosure_reminders,
            ClockKind::Cra(_) => &policy.cra.reminders,
        };
        // The law's deadlines run through nights and weekends: their reminders and breaches come at any hour.
        let when = |t: i64| if c.kind.cra_stage().is_some() { t } else { staff_time(t) };
        for r in reminders {
            let at = cal.sub(due, *r);
            if at > c.started_at {
                out.push((TimerKind::Reminder(c.kind, *r), when(at)));
            }
        }
        match c.kind {
            ClockKind::Acknowledge => out.push((TimerKind::Breach(ClockKind::Acknowledge), due)),
            ClockKind::Disclosure => out.push((TimerKind::DisclosureDue, staff_time(due))),
            k => out.push((TimerKind::Breach(k), when(due))),
        }
    }
    let open = !matches!(f.state, TicketState::Resolved | TicketState::Closed);
    if let Some(every) = sla.status_updates
        && open
        && !f.erased
    {
        let base = f.last_update_at.unwrap_or(f.received_at);
        out.push((TimerKind::StatusUpdate { since: base }, staff_time(cal.add(base, every))));
    }
    if let Some(after) = policy.purge_after
        && !open
        && !f.purged
        && let Some(end) = f.resolved_at.or(f.closed_at)
    {
        out.push((TimerKind::Retention, cal.add(end, after)));
    }
    out
}

/// The clocks in words, for staff: (clock, state).
pub fn describe(clocks: &[Clock], cal: &Calendar, now: i64) -> Vec<(String, String)> {
    clocks
        .iter()
        .map(|c| {
            let name = match c.severity {
                Some(s) => format!("{} ({})", c.kind.label(), s.as_str()),
                None => c.kind.label().to_string(),
            };
            let due = |due: i64| {
                let when = cal.show(due);
                if c.kind == ClockKind::Disclosure {
                    let verb = if now >= due { "reached" } else { "on" };
                    format!("{verb} {when} ({})", c.promise)
                } else if now >= due {
                    format!("OVERDUE since {when} ({})", c.promise)
                } else {
                    format!("due {when} ({})", c.promise)
                }
            };
            let value = match (&c.status, c.due_at) {
                (ClockStatus::Running, Some(d)) => due(d),
                (ClockStatus::Running, None) if c.kind == ClockKind::Cra(CraStage::Final) => {
                    "starts when a fix or mitigation is available (#mitigated or #resolved)".into()
                }
                (ClockStatus::Running, None) if c.kind == ClockKind::Cra(CraStage::IncidentFinal) => {
                    "starts when the incident notification is filed (#cra-filed incident-notification)".into()
                }
                (ClockStatus::Running, None) => "running".into(),
                (ClockStatus::Paused { since }, _) => format!(
                    "paused since {} while waiting on the researcher ({} of {} left)",
                    cal.show(*since),
                    show_left(c.left_ms.unwrap_or(0)),
                    c.promise
                ),
                (ClockStatus::Met { at }, due) => {
                    let verb = match c.kind {
                        ClockKind::Acknowledge => "sent",
                        ClockKind::Diagnosis => "given",
                        ClockKind::Fix => "resolved",
                        ClockKind::Disclosure => "reached",
                        ClockKind::Cra(_) => "filed",
                    };
                    let late = if due.is_some_and(|d| *at > d) { ", LATE" } else { "" };
                    format!("{verb} {}{late}", cal.show(*at))
                }
                (ClockStatus::Stopped { why, .. }, _) => format!("stopped: {why}"),
            };
            (name, value)
        })
        .collect()
}

/// "3 days 4 hours" for a remaining budget.
fn show_left(ms: i64) -> String {
    let hours = ms / 3_600_000;
    match (hours / 24, hours % 24) {
        (0, h) => format!("{h} h"),
        (d, 0) => format!("{d} d"),
        (d, h) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests;

//! What the desk does when one of a ticket's timers comes due: remind staff, escalate a broken promise,
//! remind both sides of the disclosure date, send the periodic status mail, purge expired content.
//!
//! Each runs in the transaction that marks the timer fired, and checks the ticket as it is now (a clock met
//! since the timer was planned does nothing), so a timer acts at most once and never on stale facts.

use super::apply::Tx;
use super::outgoing::{self, Recipient};
use super::status::{self, to_reporter_plan};
use super::{Env, HandleError, retention, staff};
use crate::engine::clocks::{Clock, TimerKind};
use crate::engine::timer::{self, TicketFacts};
use crate::engine::{self, Effect, TicketState};
use crate::mail::Mail;
use crate::render::{ClockContext, TicketContext};
use crate::store::health::Key as HealthKey;
use crate::store::{self, tickets::TicketRow};
use crate::timeline::{BY_VDPD, Event};

/// Acts on the timer `timer_kind` of a ticket at `now`, then re-plans the ticket's timers.
pub(crate) fn fire(tx: &Tx<'_>, env: &Env, ticket_id: i64, timer_kind: &str, now: i64) -> Result<(), HandleError> {
    let config = &env.config;
    let Some(t) = store::tickets::ticket_by_id(tx, ticket_id)? else { return Ok(()) };
    let Some(what) = TimerKind::parse(timer_kind) else {
        tracing::warn!(ticket = %t.reference, kind = timer_kind, "{}: unknown timer kind {timer_kind:?} ignored", t.reference);
        return Ok(());
    };
    let (_, clocks) = super::clocks::compute(tx, config, &t)?;
    let facts = TicketFacts {
        open: !matches!(t.state, TicketState::Resolved | TicketState::Closed),
        resolved: t.resolved_at.is_some(),
        purged: t.purged_at.is_some(),
    };
    let actions = timer::decide(&what, &clocks, facts, now);
    tracing::debug!(ticket = %t.reference, "{}: timer {what} fired: {}", t.reference, engine::plan::summary(&actions));
    for action in actions {
        match action {
            Effect::Breach(c) => breach(tx, env, &t, &c, now)?,
            Effect::RemindStaff { clock, before, escalate } => {
                remind_staff(tx, env, &t, &clock, before, escalate, now)?
            }
            Effect::RemindResearcher { clock, reached } => {
                remind_researcher(tx, env, &t, &clock, if reached { "reached" } else { "upcoming" }, now)?
            }
            Effect::StatusUpdate => {
                if status::periodic(tx, env, &t, now)? {
                    store::tickets::add_timeline(
                        tx,
                        t.id,
                        now,
                        BY_VDPD,
                        Event::StatusUpdate,
                        "the periodic status mail",
                    )?;
                }
            }
            Effect::Purge => {
                retention::purge(tx, env, &t, now)?;
            }
            other => return Err(HandleError::misplanned("a fired timer", &other)),
        }
    }
    super::clocks::sync(tx, config, t.id, now)?;
    Ok(())
}

fn clock_context(env: &Env, t: &TicketRow, c: &Clock, before: Option<String>, state: &str) -> ClockContext {
    let cal = &env.config.calendar;
    let due = c.due_at.unwrap_or(c.started_at);
    ClockContext {
        name: c.kind.label().into(),
        promise: c.promise.clone(),
        due: cal.show(due),
        due_date: cal.show_date(due),
        state: state.into(),
        before,
        severity: c.severity.map(|s| s.as_str().to_string()),
        assignee: t.assignee.clone(),
        ticket_state: t.state.as_str().into(),
        cra_stage: c.kind.cra_stage().map(|s| s.as_str().to_string()),
    }
}

/// A promise broke: on the timeline, in the log, and by mail to the escalation contacts (once: the timer
/// that calls this fires once).
fn breach(tx: &Tx<'_>, env: &Env, t: &TicketRow, c: &Clock, now: i64) -> Result<(), HandleError> {
    let config = &env.config;
    let detail = timer::breach_detail(c, &config.calendar);
    store::tickets::add_timeline(tx, t.id, now, BY_VDPD, Event::PromiseBroken, &detail)?;
    tracing::error!(ticket = %t.reference, kind = c.kind.as_str(), "{}: promise broken: {detail}", t.reference);
    let recipients = escalation_contacts(env, now);
    if recipients.is_empty() {
        return Ok(());
    }
    // The escalation carries no report content: it may reach contacts without a certificate.
    let mut ctx = TicketContext::new(config, &t.reference, "", "", "", t.received_at);
    let clock = clock_context(env, t, c, None, "broken");
    ctx.encrypted = recipients.iter().all(|r| outgoing::will_encrypt(env, r));
    let what = timer::breach_summary(c, &config.calendar, now);
    let plan = engine::MailPlan {
        subject: format!("[{}] Promise broken: {what}", t.reference),
        ..engine::staff_plan(Mail::Escalation { clock }, &t.reference, "", "")
    };
    outgoing::enqueue(tx, env, Some((t.id, &t.reference)), &plan, &recipients, ctx, &[], now)?;
    Ok(())
}

/// Tells the escalation contacts that vdpd itself needs attention (e.g. its mailbox login failing), at most
/// once a day while the problem lasts. Returns whether a mail was queued.
pub(crate) fn admin_alert(tx: &Tx<'_>, env: &Env, what: &str, detail: &str, now: i64) -> Result<bool, HandleError> {
    let last = store::health::value(tx, HealthKey::AlertMailedAt)?.and_then(|v| v.parse::<i64>().ok());
    if last.is_some_and(|t| now - t < engine::DAY_MS) {
        return Ok(false);
    }
    let recipients = escalation_contacts(env, now);
    if recipients.is_empty() {
        return Ok(false);
    }
    let mut ctx = TicketContext::new(&env.config, "", "", "", "", now);
    ctx.encrypted = recipients.iter().all(|r| outgoing::will_encrypt(env, r));
    let plan = engine::MailPlan {
        subject: format!("[vdpd] Attention: {what}"),
        ..engine::staff_plan(Mail::AdminAlert { warning: detail.to_string() }, "", "", "")
    };
    outgoing::enqueue(tx, env, None, &plan, &recipients, ctx, &[], now)?;
    store::health::set(tx, HealthKey::AlertMailedAt, &now.to_string(), now)?;
    Ok(true)
}

/// Who hears of a broken promise: `[staff] escalation`, or every staff member when it names nobody.
fn escalation_contacts(env: &Env, now: i64) -> Vec<Recipient> {
    let contacts = &env.config.staff.escalation;
    if contacts.is_empty() {
        return outgoing::staff(env, now).0;
    }
    contacts
        .iter()
        .map(|a| {
            outgoing::staff_member(env, a, now).unwrap_or_else(|| Recipient {
                address: a.clone(),
                name: String::new(),
                cert: None,
                team: true,
                lang: None,
            })
        })
        .collect()
}

/// Reminds the assignee (or every staff member) of a clock: before it is due, or that a date has come; the
/// escalation contacts too when `escalate` (each address once).
#[allow(clippy::too_many_arguments)]
fn remind_staff(
    tx: &Tx<'_>,
    env: &Env,
    t: &TicketRow,
    c: &Clock,
    before: Option<String>,
    escalate: bool,
    now: i64,
) -> Result<(), HandleError> {
    let cal = &env.config.calendar;
    let state = if before.is_some() { "upcoming" } else { "reached" };
    let (recipients, _) = outgoing::staff_for(env, &t.assignee, None, now);
    // The escalation contacts the reminder does not reach already; they get it without the report's
    // content, as an escalation (they may have no certificate).
    let extra: Vec<Recipient> = match escalate {
        true => escalation_contacts(env, now)
            .into_iter()
            .filter(|r| !recipients.iter().any(|have| have.address.eq_ignore_ascii_case(&r.address)))
            .collect(),
        false => Vec::new(),
    };
    let due = cal.show(c.due_at.unwrap_or(now));
    let event = if before.is_some() { Event::Reminder } else { Event::DateReached };
    store::tickets::add_timeline(tx, t.id, now, BY_VDPD, event, &format!("{} {due}", c.kind.label()))?;
    if recipients.is_empty() && extra.is_empty() {
        return Ok(());
    }
    let clock = clock_context(env, t, c, before.clone(), state);
    let status = status::current(tx, env, t)?;
    let name = match c.severity {
        Some(sev) => format!("{} ({})", c.kind.label(), sev.as_str()),
        None => c.kind.label().to_string(),
    };
    let what = match &before {
        Some(_) => format!("{name} due {due}"),
        None => format!("{} date {}", c.kind.label(), cal.show_date(c.due_at.unwrap_or(now))),
    };
    let label = if before.is_some() { "Reminder" } else { "Today" };
    let plan = engine::staff_plan(Mail::StaffReminder { clock, status }, &t.reference, label, &what);
    if !recipients.is_empty() {
        let mut ctx = staff::ticket_context(tx, env, t, now)?;
        ctx.encrypted = recipients.iter().all(|r| outgoing::will_encrypt(env, r));
        outgoing::enqueue(tx, env, Some((t.id, &t.reference)), &plan, &recipients, ctx, &[], now)?;
    }
    if !extra.is_empty() {
        let mut ctx = TicketContext::new(&env.config, &t.reference, "", "", "", t.received_at);
        ctx.encrypted = extra.iter().all(|r| outgoing::will_encrypt(env, r));
        outgoing::enqueue(tx, env, Some((t.id, &t.reference)), &plan, &extra, ctx, &[], now)?;
    }
    Ok(())
}

/// Tells the researcher of the disclosure date: that it is coming, or that it has come.
fn remind_researcher(
    tx: &Tx<'_>,
    env: &Env,
    t: &TicketRow,
    c: &Clock,
    state: &str,
    now: i64,
) -> Result<(), HandleError> {
    let to = status::researchers(tx, t, now)?;
    if to.is_empty() {
        return Ok(());
    }
    let ctx = TicketContext::new(&env.config, &t.reference, &t.subject, "", "", t.received_at);
    let clock = clock_context(env, t, c, None, state);
    let status = status::current(tx, env, t)?;
    let (mail, subject) = if state == "reached" {
        (Mail::DisclosureDue { clock, status }, "Coordinated disclosure date")
    } else {
        (Mail::DisclosureReminder { clock, status }, "Coordinated disclosure date coming up")
    };
    let plan = to_reporter_plan(tx, t, mail, subject)?;
    outgoing::enqueue_each(tx, env, (t.id, &t.reference), &plan, &to, &ctx, now)?;
    Ok(())
}

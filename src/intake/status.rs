//! The status of a ticket as its researcher may read it: the answer to a status enquiry (throttled as the
//! policy says), and the periodic status mail that keeps a researcher informed until the fix.

use super::apply::Tx;
use super::outgoing::{self, Recipient};
use super::{Env, HandleError};
use crate::classify::Inbound;
use crate::engine::clocks::{ClockKind, ClockStatus};
use crate::engine::{self, Auto, TicketState};
use crate::mail::Mail;
use crate::render::{StatusContext, TicketContext};
use crate::store::{self, tickets::TicketRow};
use crate::timeline::Event;

/// Where a ticket stands, for the researcher. `update_base`: when the researcher will have last heard from us
/// once this mail is out (the next periodic status mail counts from it). `enquiry_base`: when an enquiry was
/// last answered, counting this one.
fn context(
    tx: &Tx<'_>,
    env: &Env,
    t: &TicketRow,
    update_base: i64,
    enquiry_base: Option<i64>,
) -> Result<StatusContext, HandleError> {
    let config = &env.config;
    let cal = &config.calendar;
    let (_, clocks) = super::clocks::compute(tx, config, t)?;
    let disclosure =
        clocks.iter().find(|c| c.kind == ClockKind::Disclosure && !matches!(c.status, ClockStatus::Stopped { .. }));
    let open = !matches!(t.state, TicketState::Resolved | TicketState::Closed);
    let details_missing = config.report_form.enabled
        && t.form_complete_at.is_none()
        && config.report_form.sections.iter().any(|s| s.mandatory);
    let interval = config.sla.status_enquiry_interval;
    let paused =
        clocks.iter().any(|c| c.kind == ClockKind::Diagnosis && matches!(c.status, ClockStatus::Paused { .. }));
    let diagnosis_paused_until = paused.then(|| -> Result<String, HandleError> {
        let answered = store::form::sections(tx, t.id)?;
        Ok(engine::researcher::awaiting(config, None, &answered).join(", "))
    });
    Ok(StatusContext {
        diagnosis_paused_until: diagnosis_paused_until.transpose()?,
        state: t.state.as_str().into(),
        outcome: t.outcome.map(|o| o.to_string()),
        details_missing,
        severity: (!t.severity.is_empty()).then(|| t.severity.clone()),
        fixed_on: t.resolved_at.map(|at| cal.show_date(at)),
        disclosure_on: disclosure.and_then(|c| c.due_at).map(|at| cal.show_date(at)),
        disclosure_agreed: disclosure.is_some_and(|c| c.promise == "agreed"),
        bounty: (!t.bounty_tier.is_empty())
            .then(|| format!("{} {}", t.bounty_amount.unwrap_or(0), config.bounty.currency).trim().to_string()),
        bounty_paid: t.bounty_paid_at.is_some(),
        credit: t.credit.clone().filter(|c| !c.is_empty()),
        periodic: false,
        next_update: config
            .sla
            .status_updates
            .filter(|_| open)
            .map(|every| cal.show_date(cal.next_working_time(cal.add(update_base, every)))),
        enquiry_interval: interval.map(|i| i.to_string()),
        next_enquiry_from: interval.zip(enquiry_base).map(|(i, base)| cal.show_date(cal.add(base, i))),
        last_answered: enquiry_base.map(|at| cal.show_date(at)),
    })
}

/// What became of a status enquiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Enquiry {
    /// Answered with the status.
    Answered,
    /// Within the policy's interval of the last one answered: a polite notice instead.
    Throttled { next_from: String },
    /// Neither: the ticket had its share of automatic replies today.
    Suppressed,
}

impl Enquiry {
    /// For staff: what vdpd did with it.
    pub(super) fn describe(&self) -> String {
        match self {
            Enquiry::Answered => "a status enquiry: answered with the status automatically".into(),
            Enquiry::Throttled { next_from } => format!(
                "a status enquiry within the policy's interval: the researcher was told that the next one is answered from {next_from}"
            ),
            Enquiry::Suppressed => "a status enquiry: not answered (automatic replies for today used up)".into(),
        }
    }
}

/// Answers a researcher's status enquiry, or throttles it.
pub(super) fn answer_enquiry(
    tx: &Tx<'_>,
    env: &Env,
    inbound: &Inbound,
    t: &TicketRow,
    researcher: &Recipient,
    now: i64,
) -> Result<Enquiry, HandleError> {
    let config = &env.config;
    let cal = &config.calendar;
    let throttled_until = match (config.sla.status_enquiry_interval, t.last_enquiry_at) {
        (Some(interval), Some(last)) if now < cal.add(last, interval) => Some(cal.add(last, interval)),
        _ => None,
    };
    let mut ctx = TicketContext::new(
        config,
        &t.reference,
        &inbound.subject,
        &inbound.sender,
        &inbound.sender_name,
        t.received_at,
    );
    ctx.key = outgoing::key_context(env);
    ctx.encrypted = outgoing::will_encrypt(env, researcher);
    let ticket = (t.id, t.reference.as_str());
    let outcome = match throttled_until {
        None => {
            let status = context(tx, env, t, now, Some(now))?;
            let plan = engine::reply_plan(Mail::Status { status }, &t.reference, inbound, &config.organisation);
            if outgoing::auto_reply(tx, env, ticket, &plan, researcher, ctx, now)? {
                store::tickets::set_last_enquiry(tx, t.id, now)?;
                store::tickets::set_last_update(tx, t.id, now)?;
                Enquiry::Answered
            } else {
                Enquiry::Suppressed
            }
        }
        Some(until) => {
            let base = t.last_update_at.unwrap_or(t.received_at);
            let status = context(tx, env, t, base, t.last_enquiry_at)?;
            let plan =
                engine::reply_plan(Mail::StatusThrottled { status }, &t.reference, inbound, &config.organisation);
            if outgoing::auto_reply(tx, env, ticket, &plan, researcher, ctx, now)? {
                Enquiry::Throttled { next_from: cal.show_date(until) }
            } else {
                Enquiry::Suppressed
            }
        }
    };
    store::tickets::add_timeline(tx, t.id, now, &inbound.sender, Event::StatusEnquiry, &outcome.describe())?;
    Ok(outcome)
}

/// Everyone on the researchers' side of a ticket, as recipients: the reporter (unless erased), then the
/// co-reporters staff added. What staff decide and what vdpd sends on its own goes to each of them.
pub(super) fn researchers(tx: &Tx<'_>, t: &TicketRow, now: i64) -> Result<Vec<Recipient>, HandleError> {
    let mut out: Vec<Recipient> = reporter(tx, t, now)?.into_iter().collect();
    out.extend(co_reporters(tx, t, now)?);
    Ok(out)
}

/// The co-reporters staff added to a ticket, as recipients.
pub(super) fn co_reporters(tx: &Tx<'_>, t: &TicketRow, now: i64) -> Result<Vec<Recipient>, HandleError> {
    let mut out = Vec::new();
    for p in store::tickets::participants(tx, t.id)? {
        if p.role == store::tickets::Role::CoReporter {
            out.push(outgoing::researcher(tx, &p.address, &p.name, now)?);
        }
    }
    Ok(out)
}

/// The researcher of a ticket as a recipient (`None` once their data was erased).
pub(super) fn reporter(tx: &Tx<'_>, t: &TicketRow, now: i64) -> Result<Option<Recipient>, HandleError> {
    if t.reporter.is_empty() || t.erased_at.is_some() {
        return Ok(None);
    }
    let name = store::tickets::participants(tx, t.id)?
        .into_iter()
        .find(|p| p.role == store::tickets::Role::Reporter)
        .map(|p| p.name)
        .unwrap_or_default();
    Ok(Some(outgoing::researcher(tx, &t.reporter, &name, now)?))
}

/// A mail vdpd writes to a ticket's researcher on its own (status, disclosure reminder, receipts): threaded
/// under their latest message, `Auto-Submitted: auto-generated`.
pub(super) fn to_reporter_plan(
    tx: &Tx<'_>,
    t: &TicketRow,
    mail: Mail,
    subject: &str,
) -> Result<engine::MailPlan, HandleError> {
    let (last_in, first) = store::tickets::thread_anchor(tx, t.id)?;
    let mut references: Vec<String> = first.into_iter().collect();
    if let Some(id) = &last_in
        && !references.contains(id)
    {
        references.push(id.clone());
    }
    Ok(engine::MailPlan {
        mail,
        subject: format!("[{}] {subject}", t.reference),
        in_reply_to: last_in,
        references,
        auto: Auto::Generated,
        reply_to_desk: false,
    })
}

/// The periodic status mail: the researcher has not heard from us for the policy's interval.
pub(crate) fn periodic(tx: &Tx<'_>, env: &Env, t: &TicketRow, now: i64) -> Result<bool, HandleError> {
    // The clock moves on whatever happens, so a mail that cannot go does not come due again at once.
    store::tickets::set_last_update(tx, t.id, now)?;
    let to = researchers(tx, t, now)?;
    if to.is_empty() {
        return Ok(false);
    }
    let ctx = TicketContext::new(&env.config, &t.reference, &t.subject, "", "", t.received_at);
    let mut status = context(tx, env, t, now, t.last_enquiry_at)?;
    status.periodic = true;
    let plan = to_reporter_plan(tx, t, Mail::StatusUpdate { status }, "Status of your report")?;
    outgoing::enqueue_each(tx, env, (t.id, &t.reference), &plan, &to, &ctx, now)?;
    Ok(true)
}

/// The status context for other mail to the researcher (disclosure notices).
pub(super) fn current(tx: &Tx<'_>, env: &Env, t: &TicketRow) -> Result<StatusContext, HandleError> {
    context(tx, env, t, t.last_update_at.unwrap_or(t.received_at), t.last_enquiry_at)
}

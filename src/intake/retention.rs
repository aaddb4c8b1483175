//! Retention and erasure: report content deleted when the policy says, a researcher's personal data deleted
//! when they ask — each with a receipt to the researcher, composed (and encrypted) before the data it needs
//! is gone.

use super::apply::Tx;
use super::status::{reporter, to_reporter_plan};
use super::{Env, HandleError, outgoing};
use crate::engine::hints;
use crate::mail::Mail;
use crate::render::{RetentionContext, TicketContext};
use crate::store::{self, retention::Purge, tickets::TicketRow};
use crate::timeline::{BY_VDPD, Event};

fn describe(p: &Purge) -> String {
    format!(
        "{} message text(s), {} file(s) ({} bytes), {} form answer(s), {} raw mail(s) deleted; reference, dates, \
         severity, outcome, bounty and credit kept",
        p.messages, p.attachments, p.attachment_bytes, p.form_sections, p.raw_mails
    )
}

/// Purges a ticket's report content as `[retention]` says, telling the researcher (if the policy sends
/// receipts and we can still reach them).
pub(crate) fn purge(tx: &Tx<'_>, env: &Env, t: &TicketRow, now: i64) -> Result<Purge, HandleError> {
    let config = &env.config;
    let to = if config.retention.receipt { super::status::researchers(tx, t, now)? } else { Vec::new() };
    if !to.is_empty() {
        let ctx = TicketContext::new(config, &t.reference, &t.subject, "", "", t.received_at);
        let retention = RetentionContext {
            after: config.retention.after_resolution.map(|d| d.to_string()),
            ended_on: t.resolved_at.or(t.closed_at).map(|at| config.calendar.show_date(at)),
            researcher_duty: config.retention.researcher_deletion_duty.clone(),
            other_tickets: Vec::new(),
        };
        let plan = to_reporter_plan(tx, t, Mail::RetentionReceipt { retention }, "Your report data was deleted")?;
        outgoing::enqueue_each(tx, env, (t.id, &t.reference), &plan, &to, &ctx, now)?;
    }
    let host = hints::asset_host(&t.asset).unwrap_or_default();
    let done = store::retention::purge_ticket(tx, t.id, &host, now)?;
    // Its words leave the index with it: only the asset's host and the weakness stay findable.
    super::search::reindex(tx, config, t.id)?;
    store::tickets::add_timeline(tx, t.id, now, BY_VDPD, Event::ContentPurged, &describe(&done))?;
    tracing::info!(ticket = %t.reference, "{}: report content purged under the retention policy", t.reference);
    super::clocks::sync(tx, config, t.id, now)?;
    Ok(done)
}

/// Erases the personal data of a ticket's researcher, on their request (a staff command): every ticket they
/// reported or took part in loses its content and their address, name, key and credit. Returns the
/// references of the tickets it covered; empty if the data was already erased.
pub(super) fn erase(tx: &Tx<'_>, env: &Env, t: &TicketRow, member: &str, now: i64) -> Result<Vec<String>, HandleError> {
    let config = &env.config;
    let Some(to) = reporter(tx, t, now)? else { return Ok(Vec::new()) };
    let ids = store::retention::tickets_of(tx, &to.address)?;
    let mut references = Vec::new();
    for id in &ids {
        if let Some(other) = store::tickets::ticket_by_id(tx, *id)? {
            references.push(other.reference);
        }
    }
    let mut ctx = TicketContext::new(config, &t.reference, &t.subject, &to.address, &to.name, t.received_at);
    ctx.encrypted = outgoing::will_encrypt(env, &to);
    let retention = RetentionContext {
        after: None,
        ended_on: None,
        researcher_duty: config.retention.researcher_deletion_duty.clone(),
        other_tickets: references.iter().filter(|r| **r != t.reference).cloned().collect(),
    };
    let plan = to_reporter_plan(tx, t, Mail::ErasureReceipt { retention }, "Your personal data was erased")?;
    outgoing::enqueue(tx, env, Some((t.id, &t.reference)), &plan, std::slice::from_ref(&to), ctx, &[], now)?;
    for id in &ids {
        let Some(other) = store::tickets::ticket_by_id(tx, *id)? else { continue };
        if other.purged_at.is_none() {
            let host = hints::asset_host(&other.asset).unwrap_or_default();
            store::retention::purge_ticket(tx, *id, &host, now)?;
            super::search::reindex(tx, config, *id)?;
        }
        store::tickets::add_timeline(
            tx,
            *id,
            now,
            member,
            Event::PersonalDataErased,
            "on the researcher's request: address, name, key, credit and report content deleted",
        )?;
    }
    store::retention::erase_address(tx, &to.address, &ids, now)?;
    for id in &ids {
        super::clocks::sync(tx, config, *id, now)?;
    }
    tracing::info!(ticket = %t.reference, tickets = ids.len(), "{}: the researcher's personal data erased on request ({} tickets)", t.reference, ids.len());
    Ok(references)
}

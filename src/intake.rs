//! Raw message → outcome, with everything it causes, committed at once.
//!
//! The same path serves IMAP and `vdpd ingest`. For each message:
//!
//! 1. [`store::intake::begin`] writes the raw bytes as a `pending` intake row (or counts another attempt on
//!    one a dead process left pending). A message that kills the process three times is quarantined instead of
//!    being parsed again: poison mail must not turn into a crash loop.
//! 2. Classify it (pure; outside any transaction, so that reading a huge message never holds the write lock).
//! 3. In ONE transaction: look up duplicates and threads, let the engine decide, create the ticket or append to
//!    its thread, render and enqueue the replies, set the clocks, record the outcome and advance the IMAP
//!    cursor. Only after this commit may the message be flagged or moved on the server.
//! 4. A failure of the message itself (unparseable, over a limit, a panic in a parser) quarantines it with the
//!    error. A failure of the store that will pass (disk full, database locked) is returned, nothing is
//!    recorded against the message, and the caller stops and retries later.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use crate::classify::{self, Inbound};
use crate::config::Config;
use crate::engine::{self, DAY_MS, Decision, Facts, MailPlan};
use crate::render::{self, RenderError, Templates, TicketContext};
use crate::store::{self, IntakeStatus, Store, StoreError};

/// A message this many processing attempts old (each one ended by the process dying) is quarantined.
pub const MAX_ATTEMPTS: i64 = 3;

/// What processing needs besides the message: the policy and the compiled templates.
#[derive(Debug, Clone)]
pub struct Env {
    pub config: Arc<Config>,
    pub templates: Arc<Templates>,
}

/// Where a message came from.
#[derive(Debug, Clone)]
pub enum Source {
    Imap {
        mailbox: String,
        uidvalidity: u32,
        uid: u32,
    },
    Ingest,
}

/// A message as taken in.
#[derive(Debug, Clone)]
pub struct IncomingMail {
    pub source: Source,
    /// The whole message, or only its header when `truncated`.
    pub raw: Vec<u8>,
    /// The size of the whole message (as the server announced it, for IMAP).
    pub size: usize,
    pub truncated: bool,
}

impl IncomingMail {
    /// The identity of this copy of the message: its IMAP coordinates, or the hash of its bytes.
    pub fn intake_key(&self) -> String {
        match &self.source {
            Source::Imap {
                mailbox,
                uidvalidity,
                uid,
            } => format!("imap:{mailbox}:{uidvalidity}:{uid}"),
            Source::Ingest => format!("sha256:{}", classify::sha256_hex(&self.raw)),
        }
    }
}

/// What became of a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Processed {
    pub intake_id: i64,
    pub status: IntakeStatus,
    /// The ticket it opened or joined, if any.
    pub reference: Option<String>,
    /// Why it was dropped or quarantined, or what it duplicates.
    pub reason: String,
    /// True when this copy had been processed before (a re-fetch after a crash): nothing was done now.
    pub already: bool,
    /// Mail was enqueued: the outbox has work.
    pub enqueued: bool,
}

/// Errors that stop processing without recording anything against the message.
#[derive(Debug, thiserror::Error)]
pub enum IntakeError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Errors inside the processing transaction.
#[derive(Debug, thiserror::Error)]
enum HandleError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Render(#[from] RenderError),
}

/// Processes one message; see the module documentation.
pub fn process(store: &mut Store, env: &Env, mail: &IncomingMail, now: i64) -> Result<Processed, IntakeError> {
    let key = mail.intake_key();
    let (mailbox, uidvalidity, uid, source) = match &mail.source {
        Source::Imap {
            mailbox,
            uidvalidity,
            uid,
        } => (Some(mailbox.as_str()), Some(*uidvalidity), Some(*uid), "imap"),
        Source::Ingest => (None, None, None, "ingest"),
    };
    let record = store::intake::IntakeRecord {
        key: &key,
        source,
        mailbox,
        uidvalidity,
        uid,
        size: mail.size,
        raw: &mail.raw,
        truncated: mail.truncated,
        fetched_at: now,
    };
    let (id, attempts) = match store.write(|tx| store::intake::begin(tx, &record))? {
        store::intake::Begin::Done { id, status } => {
            return Ok(Processed {
                intake_id: id,
                status,
                reference: None,
                reason: "already processed".into(),
                already: true,
                enqueued: false,
            });
        }
        store::intake::Begin::Process { id, attempts } => (id, attempts),
    };
    if attempts > MAX_ATTEMPTS {
        let reason = format!(
            "processing did not finish in {} attempts: the process died while handling this message",
            attempts - 1
        );
        return quarantine(store, id, mail, &reason, now);
    }

    // Parse outside the transaction: a 20 MB message must not hold the write lock while it is read.
    let config = &env.config;
    let read = std::panic::catch_unwind(|| {
        classify::read(
            &mail.raw,
            mail.size,
            mail.truncated,
            &config.limits,
            &config.organisation,
        )
    });
    let outcome = match read {
        Ok(read) => std::panic::catch_unwind(AssertUnwindSafe(|| store.write(|tx| handle(tx, env, id, read, now)))),
        Err(panic) => Err(panic),
    };
    match outcome {
        Ok(Ok(processed)) => Ok(processed),
        Ok(Err(HandleError::Store(e))) if e.is_transient() => {
            // Not the message's fault: give the attempt back (best effort: with a full disk this may fail
            // too) and let the caller retry later.
            let _ = store.write(|tx| store::intake::undo_attempt(tx, id));
            Err(e.into())
        }
        Ok(Err(e)) => quarantine(store, id, mail, &format!("{e}"), now),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(intake_id = id, panic = %what, "internal error while processing a message; quarantined");
            quarantine(
                store,
                id,
                mail,
                &format!("internal error while processing: {what}"),
                now,
            )
        }
    }
}

/// Records a message as quarantined with `reason`, keeping whatever of its header can be read.
fn quarantine(
    store: &mut Store,
    id: i64,
    mail: &IncomingMail,
    reason: &str,
    now: i64,
) -> Result<Processed, IntakeError> {
    // Reading the summary may be what failed; never let it fail twice.
    let summary = std::panic::catch_unwind(|| {
        let parsed = mail_parser::MessageParser::default().parse_headers(&mail.raw);
        parsed.map(|m| {
            (
                crate::mailtext::clean_header_text(
                    m.from().and_then(|a| a.first()).and_then(|a| a.address()).unwrap_or(""),
                    254,
                ),
                crate::mailtext::clean_header_text(m.subject().unwrap_or(""), crate::mailtext::MAX_SUBJECT_CHARS),
            )
        })
    })
    .ok()
    .flatten()
    .unwrap_or_default();
    tracing::warn!(intake_id = id, reason, "message quarantined");
    store.write(|tx| {
        store::intake::finish(
            tx,
            id,
            &store::intake::IntakeFinal {
                status: IntakeStatus::Quarantined,
                reason,
                message_id: None,
                dedup_key: None,
                from_addr: &summary.0,
                subject: &summary.1,
                ticket_id: None,
                processed_at: now,
            },
        )
    })?;
    Ok(Processed {
        intake_id: id,
        status: IntakeStatus::Quarantined,
        reference: None,
        reason: reason.into(),
        already: false,
        enqueued: false,
    })
}

/// The processing transaction.
fn handle(
    tx: &rusqlite::Transaction<'_>,
    env: &Env,
    id: i64,
    read: classify::Read,
    now: i64,
) -> Result<Processed, HandleError> {
    let config = &env.config;
    let inbound = match read.verdict {
        Ok(inbound) => inbound,
        Err(reason) => {
            tracing::warn!(intake_id = id, reason = %reason, "message quarantined");
            store::intake::finish(
                tx,
                id,
                &store::intake::IntakeFinal {
                    status: IntakeStatus::Quarantined,
                    reason: &reason,
                    message_id: read.summary.message_id.as_deref(),
                    dedup_key: None,
                    from_addr: &read.summary.from,
                    subject: &read.summary.subject,
                    ticket_id: None,
                    processed_at: now,
                },
            )?;
            return Ok(Processed {
                intake_id: id,
                status: IntakeStatus::Quarantined,
                reference: None,
                reason,
                already: false,
                enqueued: false,
            });
        }
    };

    let facts = Facts {
        duplicate_of: store::intake::find_dedup(tx, &inbound.dedup_key)?,
        candidates: store::tickets::thread_candidates(tx, &inbound.thread_ids, &inbound.subject_refs, &inbound.sender)?,
        sender_tickets_last_day: store::tickets::count_tickets_by_reporter_since(tx, &inbound.sender, now - DAY_MS)?,
    };
    let decision = engine::decide(&inbound, &facts, &config.limits);
    let finish = |status: IntakeStatus, reason: &str, ticket_id: Option<i64>, dedup: bool| {
        store::intake::finish(
            tx,
            id,
            &store::intake::IntakeFinal {
                status,
                reason,
                message_id: inbound.message_id.as_deref(),
                dedup_key: dedup.then_some(inbound.dedup_key.as_str()),
                from_addr: &inbound.sender,
                subject: &inbound.subject,
                ticket_id,
                processed_at: now,
            },
        )
    };
    let mut processed = Processed {
        intake_id: id,
        status: IntakeStatus::Pending,
        reference: None,
        reason: String::new(),
        already: false,
        enqueued: false,
    };
    match decision {
        Decision::Duplicate { of_intake, ticket_id } => {
            let reason = format!("second delivery of message #{of_intake}");
            tracing::info!(intake_id = id, duplicate_of = of_intake, "duplicate delivery ignored");
            finish(IntakeStatus::Duplicate, &reason, ticket_id, false)?;
            processed.status = IntakeStatus::Duplicate;
            processed.reason = reason;
        }
        Decision::Drop { reason, ticket_id } => {
            tracing::info!(intake_id = id, reason = %reason, "message dropped");
            finish(IntakeStatus::Dropped, &reason, ticket_id, true)?;
            if let Some(t) = ticket_id {
                store::tickets::add_timeline(tx, t, now, &inbound.sender, "mail dropped", &reason)?;
            }
            processed.status = IntakeStatus::Dropped;
            processed.reason = reason;
        }
        Decision::Correspondence { ticket_id, reference } => {
            store::tickets::insert_message(tx, &incoming_row(ticket_id, "reply", id, &inbound, config, now))?;
            store::tickets::touch_ticket(tx, ticket_id, now)?;
            store::tickets::add_timeline(
                tx,
                ticket_id,
                now,
                &inbound.sender,
                "researcher wrote",
                &inbound.subject,
            )?;
            finish(IntakeStatus::Correspondence, "", Some(ticket_id), true)?;
            tracing::info!(ticket = %reference, intake_id = id, "correspondence added to ticket");
            processed.status = IntakeStatus::Correspondence;
            processed.reference = Some(reference);
        }
        Decision::NewTicket => {
            let year = jiff::Timestamp::from_millisecond(now)
                .map(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).year())
                .unwrap_or(1970);
            let reference = store::tickets::next_reference(tx, &config.organisation.ticket_prefix, year)?;
            let ticket_id = store::tickets::insert_ticket(
                tx,
                &store::tickets::NewTicket {
                    reference: &reference,
                    subject: &inbound.subject,
                    reporter: &inbound.sender,
                    created_at: now,
                    received_at: now,
                },
            )?;
            store::tickets::add_participant(tx, ticket_id, &inbound.sender, &inbound.sender_name, "reporter", now)?;
            store::tickets::insert_message(tx, &incoming_row(ticket_id, "report", id, &inbound, config, now))?;
            store::tickets::add_timeline(tx, ticket_id, now, &inbound.sender, "ticket opened", &inbound.subject)?;
            let plan = engine::reply_plan(
                "acknowledgement",
                "acknowledgement.txt",
                &reference,
                &inbound,
                &config.organisation,
            );
            let ctx = TicketContext::new(
                config,
                &reference,
                &inbound.subject,
                &inbound.sender,
                &inbound.sender_name,
                now,
            );
            processed.enqueued = send_auto_reply(tx, env, ticket_id, &reference, &plan, &ctx, now)?;
            store::timers::set(
                tx,
                ticket_id,
                engine::timer::ACKNOWLEDGE,
                engine::deadline(now, config.sla.acknowledge),
            )?;
            finish(IntakeStatus::Ticket, "", Some(ticket_id), true)?;
            tracing::info!(ticket = %reference, intake_id = id, "ticket opened");
            processed.status = IntakeStatus::Ticket;
            processed.reference = Some(reference);
        }
    }
    Ok(processed)
}

fn incoming_row<'a>(
    ticket_id: i64,
    kind: &'a str,
    intake_id: i64,
    inbound: &'a Inbound,
    config: &'a Config,
    now: i64,
) -> store::tickets::MessageInsert<'a> {
    store::tickets::MessageInsert {
        ticket_id,
        direction: "in",
        kind,
        message_id: inbound.message_id.as_deref().unwrap_or(""),
        intake_id: Some(intake_id),
        from_addr: &inbound.sender,
        to_addr: &config.organisation.security_address,
        subject: &inbound.subject,
        body_text: &inbound.text,
        created_at: now,
    }
}

/// Renders and enqueues an automatic reply unless the ticket has had its daily share; returns whether it was
/// enqueued.
fn send_auto_reply(
    tx: &rusqlite::Transaction<'_>,
    env: &Env,
    ticket_id: i64,
    reference: &str,
    plan: &MailPlan,
    ctx: &TicketContext,
    now: i64,
) -> Result<bool, HandleError> {
    let limits = &env.config.limits;
    let sent_today = store::outbox::auto_replies_since(tx, ticket_id, now - DAY_MS)?;
    if !engine::may_auto_reply(sent_today, limits) {
        let why = format!(
            "{} not sent: {sent_today} automatic replies in the last 24 hours (limits.auto_replies_per_ticket_per_day)",
            plan.kind
        );
        store::tickets::add_timeline(tx, ticket_id, now, "vdpd", "auto-reply suppressed", &why)?;
        tracing::warn!(ticket = %reference, "{why}");
        return Ok(false);
    }
    enqueue(tx, env, Some((ticket_id, reference)), plan, ctx, now)?;
    Ok(true)
}

/// Renders a planned mail and writes it to the ticket's messages and the outbox.
fn enqueue<C: serde::Serialize>(
    tx: &rusqlite::Transaction<'_>,
    env: &Env,
    ticket: Option<(i64, &str)>,
    plan: &MailPlan,
    ctx: &C,
    now: i64,
) -> Result<(), HandleError> {
    let org = &env.config.organisation;
    let body = env.templates.render(plan.template, ctx)?;
    let message_id = render::new_message_id(ticket.map(|(_, r)| r), &org.domain);
    let date = jiff::Timestamp::from_millisecond(now).map_err(|e| RenderError::Message(e.to_string()))?;
    let raw = render::compose(plan, &body, org, &message_id, date)?;
    let message_row = match ticket {
        Some((ticket_id, _)) => Some(store::tickets::insert_message(
            tx,
            &store::tickets::MessageInsert {
                ticket_id,
                direction: "out",
                kind: plan.kind,
                message_id: &message_id,
                intake_id: None,
                from_addr: &org.security_address,
                to_addr: &plan.to,
                subject: &plan.subject,
                body_text: &body,
                created_at: now,
            },
        )?),
        None => None,
    };
    store::outbox::enqueue(
        tx,
        &store::outbox::NewOutgoing {
            message_row,
            ticket_id: ticket.map(|(id, _)| id),
            kind: plan.kind,
            auto_reply: plan.auto_reply,
            envelope_from: &org.security_address,
            recipient: &plan.to,
            raw: &raw,
            created_at: now,
        },
    )?;
    if let Some((ticket_id, _)) = ticket {
        store::tickets::add_timeline(tx, ticket_id, now, "vdpd", &format!("{} queued", plan.kind), &plan.to)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests;

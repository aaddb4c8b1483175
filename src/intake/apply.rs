//! The processing transaction: what a classified message does to the store.
//!
//! The engine decides (new ticket, correspondence, drop, duplicate, key request); this module carries the
//! decision out: ticket and message rows, the researcher's key, the report form, the replies and
//! notifications, the clocks, and the intake outcome — all in the caller's one transaction.

use super::outgoing::{self, Recipient};
use super::{Env, HandleError, Processed, staff, status};
use crate::classify::{self, Inbound};
use crate::config::Config;
use crate::engine::{
    self, By, DAY_MS, Decision, Effect, Facts, FormAnswers, HOUR_MS, News, Plan, TicketState, researcher,
};
use crate::mail::{Mail, MessageKind};
use crate::openpgp::read::Signature;
use crate::render::{FormContext, MessageContext, NamedText, SectionContext, TicketContext, UnderstoodContext};
use crate::store::{self, IntakeStatus};
use crate::timeline::{BY_VDPD, Event};

pub(super) type Tx<'a> = rusqlite::Transaction<'a>;

pub(super) fn handle(
    tx: &Tx<'_>,
    env: &Env,
    id: i64,
    read: classify::Read,
    admitted: bool,
    now: i64,
) -> Result<Processed, HandleError> {
    let config = &env.config;
    let mut processed = Processed {
        intake_id: id,
        status: IntakeStatus::Pending,
        reference: None,
        reason: String::new(),
        already: false,
        enqueued: false,
    };
    let inbound = match read.verdict {
        Ok(inbound) => inbound,
        Err(reason) => {
            tracing::warn!(intake_id = id, "message {id} quarantined: {reason}");
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
            staff::quarantine_notice(tx, env, id, &read.summary.from, &read.summary.subject, &reason, now)?;
            processed.status = IntakeStatus::Quarantined;
            processed.reason = reason;
            return Ok(processed);
        }
    };

    let accepted_before = match &inbound.body.signature {
        Signature::Good { digest, .. } => store::openpgp::accepted_at(tx, digest)?,
        _ => None,
    };
    let fingerprints = staff::fingerprints(env);
    let evidence = engine::staff::Evidence { fingerprints: &fingerprints, now, accepted_before };
    let facts = Facts {
        duplicate_of: store::intake::find_dedup(tx, &inbound.dedup_key)?,
        candidates: store::tickets::thread_candidates(tx, &inbound.thread_ids, &inbound.subject_refs, &inbound.sender)?,
        sender_tickets_last_day: store::tickets::count_tickets_by_reporter_since(tx, &inbound.sender, now - DAY_MS)?,
        hour_cap_reached: store::tickets::opened_at_least_since(tx, config.limits.new_tickets_per_hour, now - HOUR_MS)?,
        admitted,
        staff: engine::staff::authenticate(&inbound, &config.staff, &evidence),
    };
    let decision = engine::decide(&inbound, &facts, config);
    tracing::debug!(intake_id = id, "message {id}: {decision:?}");
    let entry = decision.journal_entry();
    let finish = |entry: &engine::JournalEntry, ticket_id: Option<i64>| {
        store::intake::finish(
            tx,
            id,
            &store::intake::IntakeFinal {
                status: entry.status,
                reason: &entry.reason,
                message_id: inbound.message_id.as_deref(),
                dedup_key: entry.dedup.then_some(inbound.dedup_key.as_str()),
                from_addr: &inbound.sender,
                subject: &inbound.subject,
                ticket_id,
                processed_at: now,
            },
        )
    };
    // What `vdpd ingest` and the log say of a mail that became no ticket's work.
    let outside = |processed: &mut Processed, entry: &engine::JournalEntry| {
        processed.status = entry.status;
        processed.reason = entry.reason.clone();
    };
    match decision {
        Decision::Duplicate { .. }
        | Decision::Drop { .. }
        | Decision::Flood { .. }
        | Decision::StaffRejected { .. } => {
            if let Some(plan) = engine::aside::plan(&decision, &inbound, config) {
                tracing::debug!(intake_id = id, "message {id}: the mail set aside causes {}", plan.summary());
                set_aside(tx, env, id, &inbound, &plan, decision.ticket_id(), now, &mut processed)?;
                finish(&plan.journal, decision.ticket_id())?;
                outside(&mut processed, &plan.journal);
            }
        }
        Decision::KeyRequest => {
            outgoing::learn_language(tx, env, &inbound, now)?;
            let held = super::keys::Held::read(tx, &inbound)?;
            let sent = store::outbox::auto_replies_to_since(tx, &inbound.sender, now - DAY_MS)?;
            let plan = engine::key_request(&inbound, &held.facts(env, now), sent, config);
            tracing::debug!(intake_id = id, "message {id}: the key request causes {}", plan.summary());
            for effect in &plan.effects {
                match effect {
                    Effect::Key(key) => {
                        super::keys::apply(tx, &inbound, id, None, &held, key, now)?;
                    }
                    Effect::SendKey(reply) => {
                        let mut ctx = TicketContext::new(
                            config,
                            "",
                            &inbound.subject,
                            &inbound.sender,
                            &inbound.sender_name,
                            now,
                        );
                        ctx.key = outgoing::key_context(env);
                        let to = outgoing::researcher(tx, &inbound.sender, &inbound.sender_name, now)?;
                        outgoing::enqueue(tx, env, None, reply, &[to], ctx, &[], now)?;
                        processed.enqueued = true;
                    }
                    other => return Err(HandleError::misplanned("a key request", other)),
                }
            }
            tracing::info!(intake_id = id, "message {id}: {}", plan.journal.reason);
            finish(&plan.journal, None)?;
            outside(&mut processed, &plan.journal);
        }
        Decision::Correspondence { ticket_id, reference } => {
            outgoing::learn_language(tx, env, &inbound, now)?;
            let entry = correspondence(tx, env, id, &inbound, ticket_id, &reference, now, &mut processed)?;
            super::clocks::sync(tx, config, ticket_id, now)?;
            finish(&entry, Some(ticket_id))?;
            tracing::info!(ticket = %reference, intake_id = id, "{reference}: message {id} added as correspondence");
            processed.status = entry.status;
            processed.reference = Some(reference);
        }
        Decision::Staff { ticket_id, reference, member, proof } => {
            accept_proof(tx, id, &proof, now)?;
            let entry = staff::handle(tx, env, id, &inbound, ticket_id, &reference, &member, now, &mut processed)?;
            super::clocks::sync(tx, config, ticket_id, now)?;
            finish(&entry, Some(ticket_id))?;
            processed.status = entry.status;
            processed.reference = Some(reference);
        }
        Decision::StaffNoTicket { member, proof } => {
            accept_proof(tx, id, &proof, now)?;
            processed.enqueued |= staff::no_ticket(tx, env, &inbound, &member, now)?;
            finish(&entry, None)?;
            outside(&mut processed, &entry);
        }
        Decision::NewTicket => {
            outgoing::learn_language(tx, env, &inbound, now)?;
            let (ticket_id, reference, entry) = new_ticket(tx, env, id, &inbound, now, &mut processed)?;
            super::clocks::sync(tx, config, ticket_id, now)?;
            finish(&entry, Some(ticket_id))?;
            tracing::info!(ticket = %reference, intake_id = id, "{reference}: ticket opened from message {id}");
            processed.status = entry.status;
            processed.reference = Some(reference);
        }
    }
    Ok(processed)
}

/// Carries out the plan of a mail set aside ([`engine::aside`]) but its journal entry: the log's line, the line
/// on the ticket it belongs to or names, the warning to staff.
#[allow(clippy::too_many_arguments)]
fn set_aside(
    tx: &Tx<'_>,
    env: &Env,
    id: i64,
    inbound: &Inbound,
    plan: &Plan,
    ticket_id: Option<i64>,
    now: i64,
    processed: &mut Processed,
) -> Result<(), HandleError> {
    let entry = &plan.journal;
    for effect in &plan.effects {
        match effect {
            Effect::Log(engine::aside::Log::Info) => {
                tracing::info!(intake_id = id, "message {id} {}: {}", entry.status, entry.reason)
            }
            Effect::Log(engine::aside::Log::Warn) => {
                tracing::warn!(intake_id = id, "message {id} {}: {}", entry.status, entry.reason)
            }
            Effect::Timeline { by, event, detail } => {
                if let Some(t) = ticket_id {
                    store::tickets::add_timeline(tx, t, now, by_whom(by, &inbound.sender), *event, detail)?;
                }
            }
            Effect::Warn(warning) => {
                // The warning names the ticket by its reference: read only for a warning.
                let ticket = match ticket_id {
                    Some(t) => store::tickets::ticket_by_id(tx, t)?.map(|row| (t, row.reference)),
                    None => None,
                };
                let message = MessageContext { id, from: inbound.sender.clone(), subject: inbound.subject.clone() };
                let about = ticket.as_ref().map(|(t, r)| (*t, r.as_str()));
                processed.enqueued |= staff::warn_of(tx, env, warning, about, message, now)?;
            }
            other => return Err(HandleError::misplanned("a mail set aside", other)),
        }
    }
    Ok(())
}

/// Who a planned timeline entry is by, given the mail's author.
pub(super) fn by_whom<'a>(by: &'a By, author: &'a str) -> &'a str {
    match by {
        By::Author => author,
        By::Vdpd => BY_VDPD,
        By::Address(address) => address,
    }
}

/// Records the signature that proved a staff mail: it counts once.
fn accept_proof(tx: &Tx<'_>, intake_id: i64, proof: &engine::staff::Proof, now: i64) -> Result<(), HandleError> {
    if let engine::staff::Proof::Signature { signer, signed_at, digest } = proof {
        store::openpgp::accept(tx, digest, signer, store::openpgp::Purpose::Staff, Some(intake_id), *signed_at, now)?;
    }
    Ok(())
}

fn new_ticket(
    tx: &Tx<'_>,
    env: &Env,
    intake_id: i64,
    inbound: &Inbound,
    now: i64,
    processed: &mut Processed,
) -> Result<(i64, String, engine::JournalEntry), HandleError> {
    let config = &env.config;
    let held = super::keys::Held::read(tx, inbound)?;
    // The sender's history decides the lane; it is read only when the policy puts senders on trial.
    let sender = match config.limits.trial_reports_per_month {
        Some(_) => researcher::SenderHistory {
            reports_last_30_days: store::tickets::count_tickets_by_reporter_since(
                tx,
                &inbound.sender,
                now - 30 * DAY_MS,
            )?,
            validated: store::tickets::reporter_validated(tx, &inbound.sender)?,
        },
        None => researcher::SenderHistory::default(),
    };
    let snapshot = researcher::Snapshot { ticket: None, answered: &[], key: held.facts(env, now), sender };
    let plan = researcher::plan(inbound, &snapshot, config);
    // Received when vdpd took the mail in: the same instant for mail processed as it arrives, and the
    // arrival for a report the hourly cap held or an admin retried, whose promises run from then.
    let received_at = store::intake::fetched_at(tx, intake_id)?.unwrap_or(now);
    let mut mail = ResearcherMail::new(intake_id, None, inbound, &held, None, received_at, now);
    mail.carry_out(tx, env, &plan, processed)?;
    let (ticket_id, reference) = mail.ticket()?;
    Ok((ticket_id, reference.to_string(), plan.journal))
}

#[allow(clippy::too_many_arguments)]
fn correspondence(
    tx: &Tx<'_>,
    env: &Env,
    intake_id: i64,
    inbound: &Inbound,
    ticket_id: i64,
    reference: &str,
    now: i64,
    processed: &mut Processed,
) -> Result<engine::JournalEntry, HandleError> {
    let Some(row) = store::tickets::ticket_by_id(tx, ticket_id)? else {
        return Ok(Decision::Correspondence { ticket_id, reference: reference.to_string() }.journal_entry());
    };
    let held = super::keys::Held::read(tx, inbound)?;
    let answered = store::form::sections(tx, ticket_id)?;
    let snapshot = researcher::Snapshot {
        ticket: Some(researcher::TicketSnapshot {
            form_complete: row.form_complete_at.is_some(),
            exploited: row.exploited_at.is_some(),
        }),
        answered: &answered,
        key: held.facts(env, now),
        sender: researcher::SenderHistory::default(),
    };
    let plan = researcher::plan(inbound, &snapshot, &env.config);
    let received_at = store::intake::fetched_at(tx, intake_id)?.unwrap_or(now);
    if row.reporter == inbound.sender {
        propose_co_reporters(tx, env, ticket_id, inbound, now)?;
    }
    let ticket = Some((ticket_id, reference.to_string()));
    let mut mail = ResearcherMail::new(intake_id, ticket, inbound, &held, Some(row), received_at, now);
    mail.carry_out(tx, env, &plan, processed)?;
    Ok(plan.journal)
}

/// The co-reporters the reporter's mail names, recorded as proposals for staff to confirm (`#participant
/// add`): nobody new hears of the ticket on the reporter's word alone, which a forged From could give.
fn propose_co_reporters(
    tx: &Tx<'_>,
    env: &Env,
    ticket_id: i64,
    inbound: &Inbound,
    now: i64,
) -> Result<(), HandleError> {
    let config = &env.config;
    let signed = matches!(inbound.body.signature, Signature::Good { .. });
    let known: Vec<String> = store::tickets::participants(tx, ticket_id)?.into_iter().map(|p| p.address).collect();
    for (name, address) in engine::co_reporters_named(&inbound.body.text) {
        if known.contains(&address) || address == inbound.sender || engine::staff::is_the_desks_own(&address, config) {
            continue;
        }
        store::tickets::add_participant(tx, ticket_id, &address, &name, store::tickets::Role::Proposed, now)?;
        let how =
            if signed { "named in the reporter's signed mail" } else { "named in the reporter's mail (unsigned)" };
        store::tickets::add_timeline(
            tx,
            ticket_id,
            now,
            &inbound.sender,
            Event::ParticipantProposed,
            &format!("{address}: {how}"),
        )?;
    }
    Ok(())
}

/// A researcher's mail being carried out: the core's [`Plan`] walked in order, with what its effects leave for
/// the ones after them (the ticket opened, the message recorded, the form's answers, what staff should hear
/// of the key).
struct ResearcherMail<'a> {
    intake_id: i64,
    /// The ticket: the one the mail joins, or the one its `OpenTicket` opened.
    ticket: Option<(i64, String)>,
    inbound: &'a Inbound,
    held: &'a super::keys::Held,
    /// The ticket as it was before the mail (correspondence).
    row: Option<store::tickets::TicketRow>,
    /// When the mail was taken in (what the answers say it was received on).
    received_at: i64,
    now: i64,
    /// The message the mail was recorded as.
    message_row: Option<i64>,
    /// What the mail did to the form, when it was read.
    progress: Option<&'a FormAnswers>,
    /// What the mail taught us about the researcher's key, for staff.
    key_news: Option<String>,
    /// What became of a status enquiry, for staff.
    enquiry: Option<String>,
    /// The researcher as the answers address them: looked up once the mail is recorded (after the key: a
    /// report that brings one gets its acknowledgement encrypted).
    researcher: Option<Recipient>,
}

impl<'a> ResearcherMail<'a> {
    fn new(
        intake_id: i64,
        ticket: Option<(i64, String)>,
        inbound: &'a Inbound,
        held: &'a super::keys::Held,
        row: Option<store::tickets::TicketRow>,
        received_at: i64,
        now: i64,
    ) -> ResearcherMail<'a> {
        ResearcherMail {
            intake_id,
            ticket,
            inbound,
            held,
            row,
            received_at,
            now,
            message_row: None,
            progress: None,
            key_news: None,
            enquiry: None,
            researcher: None,
        }
    }

    fn ticket(&self) -> Result<(i64, &str), HandleError> {
        match &self.ticket {
            Some((id, reference)) => Ok((*id, reference.as_str())),
            None => Err(HandleError::Misplanned {
                context: "a new report",
                effect: "an effect on its ticket before the ticket is opened (no OpenTicket first)".into(),
            }),
        }
    }

    /// Carries the plan out, effect by effect. The mail is recorded first (ticket, message, timeline, key,
    /// form, the duplicate index); before what follows from it, the researcher is looked up.
    fn carry_out(
        &mut self,
        tx: &Tx<'_>,
        env: &Env,
        plan: &'a Plan,
        processed: &mut Processed,
    ) -> Result<(), HandleError> {
        let id = self.intake_id;
        tracing::debug!(intake_id = id, "message {id}: the researcher's mail causes {}", plan.summary());
        for effect in &plan.effects {
            if self.researcher.is_none() && !effect.records_the_mail() {
                self.recorded(tx)?;
            }
            self.apply(tx, env, effect, processed)?;
        }
        if self.researcher.is_none() {
            self.recorded(tx)?;
        }
        Ok(())
    }

    /// The mail is on the record: the ticket was touched, and the researcher the answers go to is looked up.
    fn recorded(&mut self, tx: &Tx<'_>) -> Result<(), HandleError> {
        let (inbound, now) = (self.inbound, self.now);
        let (ticket_id, _) = self.ticket()?;
        if self.row.is_some() {
            store::tickets::touch_ticket(tx, ticket_id, now)?;
        }
        self.researcher = Some(outgoing::researcher(tx, &inbound.sender, &inbound.sender_name, now)?);
        Ok(())
    }

    fn apply(
        &mut self,
        tx: &Tx<'_>,
        env: &Env,
        effect: &'a Effect,
        processed: &mut Processed,
    ) -> Result<(), HandleError> {
        let config = &env.config;
        let (inbound, now) = (self.inbound, self.now);
        let org = &config.organisation;
        match effect {
            Effect::OpenTicket => {
                let year = jiff::Timestamp::from_millisecond(now)
                    .map(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).year())
                    .unwrap_or(1970);
                let reference = store::tickets::next_reference(tx, &org.ticket_prefix, year)?;
                let ticket_id = store::tickets::insert_ticket(
                    tx,
                    &store::tickets::NewTicket {
                        reference: &reference,
                        subject: &inbound.subject,
                        reporter: &inbound.sender,
                        created_at: now,
                        received_at: self.received_at,
                    },
                )?;
                store::tickets::add_participant(
                    tx,
                    ticket_id,
                    &inbound.sender,
                    &inbound.sender_name,
                    store::tickets::Role::Reporter,
                    now,
                )?;
                propose_co_reporters(tx, env, ticket_id, inbound, now)?;
                self.ticket = Some((ticket_id, reference));
            }
            Effect::Record(kind) => {
                let (ticket_id, _) = self.ticket()?;
                self.message_row = Some(record_incoming(tx, ticket_id, *kind, self.intake_id, inbound, config, now)?);
            }
            Effect::Timeline { by, event, detail } => {
                let (ticket_id, _) = self.ticket()?;
                store::tickets::add_timeline(tx, ticket_id, now, by_whom(by, &inbound.sender), *event, detail)?;
            }
            Effect::Key(key) => {
                let (ticket_id, _) = self.ticket()?;
                self.key_news = super::keys::apply(tx, inbound, self.intake_id, Some(ticket_id), self.held, key, now)?;
            }
            Effect::Form(answers) => {
                let (ticket_id, _) = self.ticket()?;
                let Some(message_row) = self.message_row else {
                    return Err(HandleError::misplanned("a form before its message", effect));
                };
                record_form(tx, ticket_id, message_row, inbound, answers, now)?;
                self.progress = Some(answers);
            }
            Effect::Exploited => {
                let (ticket_id, _) = self.ticket()?;
                let by = crate::ticket::EXPLOITED_BY_RESEARCHER.to_string();
                store::tickets::update(
                    tx,
                    ticket_id,
                    &store::tickets::TicketUpdate::Exploited { since: Some(now), by },
                    now,
                )?;
                let detail = "the researcher reports it actively exploited: the CRA clocks run from receipt (#exploited \
                              no withdraws it)";
                store::tickets::add_timeline(tx, ticket_id, now, &inbound.sender, Event::Exploited, detail)?;
            }
            Effect::Reindex => super::search::reindex(tx, config, self.ticket()?.0)?,
            _ => return self.follow(tx, env, effect, processed),
        }
        Ok(())
    }

    /// What follows from the recorded mail: answers, news for staff, waits, the move to triage.
    fn follow(
        &mut self,
        tx: &Tx<'_>,
        env: &Env,
        effect: &Effect,
        processed: &mut Processed,
    ) -> Result<(), HandleError> {
        let config = &env.config;
        let (inbound, now) = (self.inbound, self.now);
        let org = &config.organisation;
        let (ticket_id, reference) = self.ticket()?;
        let ticket = (ticket_id, reference);
        let Some(researcher) = &self.researcher else {
            return Err(HandleError::misplanned("a reply before its mail is recorded", effect));
        };
        // Each answer starts from this (small) context; what a mail needs beyond it comes with the mail.
        let ctx = || base_context(env, ticket, inbound, researcher, self.received_at);
        // What they sent (or what we understood of it) is quoted back only where it is safe to: encrypted, or
        // when the policy allows report detail in clear text.
        let show_detail = engine::may_send_detail(config.openpgp.as_ref(), outgoing::will_encrypt(env, researcher));
        match effect {
            Effect::Acknowledge { with_form } => {
                let form = match with_form {
                    true => Some(form_context(env, tx, ticket_id, self.progress, true, show_detail)?),
                    false => None,
                };
                let plan = engine::reply_plan(Mail::Acknowledgement { form }, reference, inbound, org);
                processed.enqueued |= outgoing::auto_reply(tx, env, ticket, &plan, researcher, ctx(), now)?;
            }
            Effect::SendForm => {
                let form = form_context(env, tx, ticket_id, self.progress, true, show_detail)?;
                let plan = engine::reply_plan(Mail::ReportForm { form }, reference, inbound, org);
                processed.enqueued |= outgoing::auto_reply(tx, env, ticket, &plan, researcher, ctx(), now)?;
            }
            Effect::SendFormMissing => {
                let mut form = form_context(env, tx, ticket_id, self.progress, false, show_detail)?;
                form.sections.clear();
                let plan = engine::reply_plan(Mail::FormMissing { form }, reference, inbound, org);
                processed.enqueued |= outgoing::auto_reply(tx, env, ticket, &plan, researcher, ctx(), now)?;
            }
            Effect::SendUndecryptable => {
                processed.enqueued |= undecryptable_reply(tx, env, ticket, inbound, researcher, now)?;
            }
            Effect::AnswerEnquiry => {
                if let Some(row) = &self.row {
                    let outcome = status::answer_enquiry(tx, env, inbound, row, researcher, now)?;
                    processed.enqueued |= outcome != status::Enquiry::Suppressed;
                    self.enquiry = Some(outcome.describe());
                }
            }
            Effect::Notify(news) => {
                let (mail, what) = match news {
                    News::NewReport => (Mail::StaffNewReport, "New report"),
                    News::ReportComplete => (Mail::StaffReportComplete, "Report complete"),
                    News::ResearcherWrote => (Mail::StaffCorrespondence, "Researcher wrote"),
                    News::StatusEnquiry => (Mail::StaffCorrespondence, "Status enquiry"),
                };
                let extra = staff::Extra { enquiry: self.enquiry.take(), key_notice: self.key_news.clone() };
                processed.enqueued |= staff::notify(tx, env, ticket_id, mail, what, Some(inbound), extra, now)?;
            }
            Effect::FormComplete => mark_form_complete(tx, ticket_id, now)?,
            Effect::Wait(reason) => {
                store::tickets::start_wait(tx, ticket_id, now, *reason)?;
            }
            Effect::EndWait => {
                if let Some(reason) = store::tickets::end_wait(tx, ticket_id, now)? {
                    store::tickets::add_timeline(
                        tx,
                        ticket_id,
                        now,
                        &inbound.sender,
                        Event::NoLongerWaiting,
                        reason.as_str(),
                    )?;
                }
            }
            Effect::Informed => store::tickets::set_last_update(tx, ticket_id, now)?,
            Effect::SlowLane => {
                store::tickets::set_lane(tx, ticket_id, store::tickets::Lane::Slow)?;
                let quota = config.limits.trial_reports_per_month.unwrap_or_default();
                let detail = format!(
                    "a sender on trial with {quota} reports or more in 30 days (limits.trial_reports_per_month): \
                     acknowledged as usual; staff hear of it in the daily digest"
                );
                store::tickets::add_timeline(tx, ticket_id, now, BY_VDPD, Event::SlowLane, &detail)?;
            }
            other => return Err(HandleError::misplanned("a researcher's mail", other)),
        }
        Ok(())
    }
}

/// The context every ticket template starts from.
fn base_context(env: &Env, ticket: (i64, &str), inbound: &Inbound, to: &Recipient, received_at: i64) -> TicketContext {
    let mut ctx =
        TicketContext::new(&env.config, ticket.1, &inbound.subject, &inbound.sender, &inbound.sender_name, received_at);
    ctx.key = outgoing::key_context(env);
    ctx.encrypted = outgoing::will_encrypt(env, to);
    ctx
}

fn undecryptable_reply(
    tx: &Tx<'_>,
    env: &Env,
    ticket: (i64, &str),
    inbound: &Inbound,
    to: &Recipient,
    now: i64,
) -> Result<bool, HandleError> {
    let ctx = base_context(env, ticket, inbound, to, now);
    let error = inbound.crypto.error.clone().unwrap_or_default();
    let plan = engine::reply_plan(Mail::Undecryptable { error }, ticket.1, inbound, &env.config.organisation);
    outgoing::auto_reply(tx, env, ticket, &plan, to, ctx, now)
}

pub(super) fn record_incoming(
    tx: &Tx<'_>,
    ticket_id: i64,
    kind: MessageKind,
    intake_id: i64,
    inbound: &Inbound,
    config: &Config,
    now: i64,
) -> Result<i64, HandleError> {
    let c = &inbound.crypto;
    let row = store::tickets::insert_message(
        tx,
        &store::tickets::MessageInsert {
            ticket_id,
            direction: vdpd_core::ticket::Direction::In,
            kind,
            message_id: inbound.message_id.as_deref().unwrap_or(""),
            intake_id: Some(intake_id),
            from_addr: &inbound.sender,
            to_addr: &config.organisation.security_address,
            subject: &inbound.subject,
            body_text: &inbound.body.text,
            unsigned_text: &inbound.outside.text,
            created_at: now,
            encrypted: c.encrypted,
            signature: inbound.body.signature.kind(),
            signer: inbound.body.signature.detail(),
            crypto_error: c.error.as_deref().unwrap_or(""),
        },
    )?;
    for a in inbound.all_attachments() {
        store::tickets::insert_attachment(tx, ticket_id, row, &a.name, &a.content_type, &a.data, now)?;
    }
    Ok(row)
}

/// Records the form's answers the core read out of a mail.
fn record_form(
    tx: &Tx<'_>,
    ticket_id: i64,
    message_row: i64,
    inbound: &Inbound,
    answers: &FormAnswers,
    now: i64,
) -> Result<(), HandleError> {
    let from = |name: &str| answers.parsed.understood.iter().find(|(n, _)| n == name).map_or("", |(_, f)| f.as_str());
    for (name, value) in &answers.parsed.values {
        store::form::set_section(tx, ticket_id, name, value, from(name), Some(message_row), now)?;
    }
    store::form::set_classification(tx, ticket_id, &answers.classification)?;
    if let Some(consent) = &answers.credit {
        store::tickets::set_credit_consent(tx, ticket_id, consent)?;
    }
    if let Some(names) = answers.answered() {
        store::tickets::add_timeline(tx, ticket_id, now, &inbound.sender, Event::FormAnswered, &names)?;
    }
    Ok(())
}

/// The form as templates see it. `request`: the whole form; `show_detail`: repeat the answers received.
pub(super) fn form_context(
    env: &Env,
    tx: &Tx<'_>,
    ticket_id: i64,
    progress: Option<&FormAnswers>,
    request: bool,
    show_detail: bool,
) -> Result<FormContext, HandleError> {
    let sections = &env.config.report_form.sections;
    let answered = store::form::sections(tx, ticket_id)?;
    let missing = match progress {
        Some(a) => a.progress.missing.clone(),
        None => sections
            .iter()
            .filter(|s| s.mandatory && !answered.iter().any(|(n, _)| *n == s.name))
            .map(|s| s.name.clone())
            .collect(),
    };
    let problems = progress
        .map(|a| {
            a.parsed
                .problems
                .iter()
                .map(|(name, problem)| NamedText { name: name.clone(), value: problem.clone() })
                .collect()
        })
        .unwrap_or_default();
    let received = if show_detail { named(&answered) } else { Vec::new() };
    let is_answered = |name: &str| answered.iter().any(|(n, _)| n == name);
    // What was read from the prose, as it stands now (a later labelled answer replaces a reading).
    let understood = store::form::understood(tx, ticket_id)?
        .into_iter()
        .map(|(name, from)| {
            let value = answered.iter().find(|(n, _)| *n == name).map(|(_, v)| one_line(v));
            UnderstoodContext { name, from, value: value.filter(|_| show_detail) }
        })
        .collect();
    Ok(FormContext {
        request,
        // A request asks only for what is still unanswered, and names what arrived.
        sections: sections.iter().filter(|s| !request || !is_answered(&s.name)).map(SectionContext::from).collect(),
        answered: sections.iter().filter(|s| is_answered(&s.name)).map(|s| s.name.clone()).collect(),
        missing,
        problems,
        received,
        severity: severity_text(tx, ticket_id)?,
        understood,
        paused_until: engine::researcher::awaiting(&env.config, None, &answered),
    })
}

/// A value as one short line: its first line, cut at 100 characters.
fn one_line(v: &str) -> String {
    let first = v.lines().find(|l| !l.trim().is_empty()).unwrap_or("").trim();
    let cut: String = first.chars().take(100).collect();
    if cut.len() < first.len() || v.trim().lines().count() > 1 { format!("{cut} …") } else { cut }
}

fn named(values: &[(String, String)]) -> Vec<NamedText> {
    values.iter().map(|(name, value)| NamedText { name: name.clone(), value: value.clone() }).collect()
}

fn severity_text(tx: &Tx<'_>, ticket_id: i64) -> Result<Option<String>, HandleError> {
    let t = store::tickets::ticket_by_id(tx, ticket_id)?;
    Ok(t.filter(|t| !t.severity.is_empty()).map(|t| match t.cvss_score {
        Some(score) => format!("{} (CVSS {score:.1}, {})", t.severity, t.cvss_vector),
        None => t.severity,
    }))
}

/// The form is complete: the ticket moves to triage (from `new`). Staff are told by the caller's
/// notification.
fn mark_form_complete(tx: &Tx<'_>, ticket_id: i64, now: i64) -> Result<(), HandleError> {
    if !store::form::mark_complete(tx, ticket_id, now)? {
        return Ok(());
    }
    let t = store::tickets::ticket_by_id(tx, ticket_id)?;
    if t.as_ref().is_some_and(|t| t.state == TicketState::New) {
        store::tickets::update(tx, ticket_id, &store::tickets::TicketUpdate::State(TicketState::Triage), now)?;
    }
    store::tickets::add_timeline(tx, ticket_id, now, BY_VDPD, Event::FormComplete, "ticket moved to triage")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An effect the core never plans for a kind of mail is refused, not half carried out: the error says which
    /// plan and which effect (the mail is then quarantined, with nothing of the plan kept).
    #[test]
    fn an_effect_a_kind_of_mail_cannot_carry_is_refused() {
        let config = crate::config::parse(
            "[organisation]\nname = \"E\"\nsecurity_address = \"security@example.test\"\nticket_prefix = \"EX\"\n\
             [smtp]\nhost = \"127.0.0.1\"\ntls = \"none\"\n[store]\npath = \"s.sqlite\"\n[sla]\nacknowledge = \"24h\"\n",
            std::path::Path::new("/nonexistent/policy.toml"),
        )
        .unwrap();
        let env = Env {
            config: std::sync::Arc::new(config),
            templates: std::sync::Arc::new(
                crate::render::Templates::load(std::path::Path::new("/nonexistent/templates")).unwrap(),
            ),
            keys: std::sync::Arc::new(crate::openpgp::keys::Keys::default()),
        };
        let mut store = store::Store::open_in_memory().unwrap();
        let raw = b"From: r@research.test\r\nTo: security@example.test\r\nSubject: Out of office\r\n\r\naway\r\n";
        let keyring = classify::Keyring {
            org: None,
            certs: &[],
            held_addresses: &[],
            limits: env.decrypt_limits(),
            now: std::time::SystemTime::UNIX_EPOCH,
        };
        let c = &env.config;
        let inbound = classify::read(raw, raw.len(), false, &c.limits, &c.organisation, &keyring).verdict.unwrap();
        let mut plan = Plan::new(Decision::Drop { reason: "auto-reply".into(), ticket_id: None }.journal_entry());
        plan.effects = vec![Effect::Log(engine::aside::Log::Info), Effect::Acknowledge { with_form: false }];
        let mut processed = Processed {
            intake_id: 1,
            status: IntakeStatus::Pending,
            reference: None,
            reason: String::new(),
            already: false,
            enqueued: false,
        };
        let err = store.write(|tx| set_aside(tx, &env, 1, &inbound, &plan, None, 0, &mut processed)).unwrap_err();
        assert!(matches!(err, HandleError::Misplanned { context: "a mail set aside", .. }), "{err}");
        assert!(err.to_string().contains("Acknowledge"), "{err}");
        assert!(!processed.enqueued);
    }
}

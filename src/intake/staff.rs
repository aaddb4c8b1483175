//! Staff by mail: notifications about tickets, authenticated staff mail (commands and relay), warnings.
//!
//! Everything here runs inside the message's transaction, like the rest of the intake: a staff mail's commands,
//! the answers they cause, the confirmation and the timeline entries commit together or not at all.

use super::apply::{self, Tx};
use super::outgoing::{self, Recipient};
use super::{Env, HandleError, Processed};
use crate::classify::Inbound;
use crate::engine::hints;
use crate::engine::staff::{self as cmd, Command, Effect};
use crate::engine::{self, DAY_MS};
use crate::mail::{Mail, MessageKind, Notice};
use crate::render::{AttachmentContext, Draft, MessageContext, NamedText, OutFile, RetentionContext, TicketContext};
use crate::store::{self, tickets::TicketRow};
use crate::timeline::{BY_VDPD, Event};
use vdpd_core::lang::Lang;
use vdpd_core::ticket::WarningKind;

/// (address, certificate fingerprint) of every member with a certificate.
pub(super) fn fingerprints(env: &Env) -> Vec<(String, String)> {
    env.keys
        .staff
        .iter()
        .filter_map(|s| s.cert.as_ref().map(|c| (s.address.clone(), c.fingerprint().to_hex())))
        .collect()
}

/// The context staff templates start from: the ticket as it stands (form, scope, clocks, how to reply).
pub(super) fn ticket_context(tx: &Tx<'_>, env: &Env, t: &TicketRow, now: i64) -> Result<TicketContext, HandleError> {
    let config = &env.config;
    let participants = store::tickets::participants(tx, t.id)?;
    let name = participants
        .iter()
        .find(|p| p.role == store::tickets::Role::Reporter)
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let mut ctx = TicketContext::new(config, &t.reference, &t.subject, &t.reporter, &name, t.received_at);
    ctx.key = outgoing::key_context(env);
    let mut form = apply::form_context(env, tx, t.id, None, false, true)?;
    if t.form_complete_at.is_some() {
        form.missing.clear();
    }
    ctx.form = Some(form);
    let report_text = store::tickets::researcher_text(tx, t.id)?;
    ctx.scope_hint = hints::scope_hint(&t.asset, &format!("{}\n{report_text}", t.subject), &config.scope);
    ctx.researcher_key = super::keys::summary(tx, &t.reporter)?;
    ctx.researcher_language = outgoing::language_note(tx, &t.reporter)?;
    ctx.co_reporters = participants
        .into_iter()
        .filter_map(|p| {
            let who = if p.name.is_empty() { p.address.clone() } else { format!("{} <{}>", p.name, p.address) };
            let what = match p.role {
                store::tickets::Role::CoReporter => "co-reporter: gets what the reporter gets".to_string(),
                store::tickets::Role::Proposed => format!(
                    "proposed by the reporter, not confirmed: #participant add {} lets them see the ticket",
                    p.address
                ),
                store::tickets::Role::Reporter => return None,
            };
            Some(NamedText { name: who, value: what })
        })
        .collect();
    ctx.duplicate_hint = duplicate_hint(tx, env, t, now)?;
    ctx.similar = super::search::similar(tx, &env.config, t.id)?
        .into_iter()
        .map(|s| vdpd_core::mail::context::SimilarContext {
            state: match s.outcome {
                Some(o) => format!("{} as {o}", s.state),
                None => s.state.to_string(),
            },
            reference: s.reference,
            percent: s.percent,
            title: s.title,
            advisory: s.advisory,
        })
        .collect();
    let (_, clocks) = super::clocks::compute(tx, config, t)?;
    ctx.clocks = engine::clocks::describe(&clocks, &config.calendar, now)
        .into_iter()
        .map(|(name, value)| NamedText { name, value })
        .collect();
    ctx.commands = command_help();
    Ok(ctx)
}

/// The staff commands as the help in staff mail lists them.
fn command_help() -> Vec<NamedText> {
    cmd::help().into_iter().map(|(c, what)| NamedText { name: c, value: what.to_string() }).collect()
}

/// Open or recent tickets that name the same weakness on the same asset: only unreported flaws may be in
/// scope (the bounty policy), and staff should see the earlier report before they answer.
fn duplicate_hint(tx: &Tx<'_>, env: &Env, t: &TicketRow, now: i64) -> Result<Vec<String>, HandleError> {
    if t.weakness.is_empty() || t.asset.is_empty() {
        return Ok(Vec::new());
    }
    let since = env.config.calendar.sub(now, env.config.scope.duplicate_window);
    let groups = store::tickets::same_weakness_assets(tx, &t.weakness, t.id, since)?;
    let flaw = hints::Flaw::of(&t.asset, &t.weakness);
    // At the cap, there may be more matches than were looked at: the count is a lower bound then.
    let looked_at: i64 = groups.iter().map(|(_, n)| n).sum();
    let at_least = if looked_at as usize >= store::tickets::SAME_WEAKNESS_MAX { "at least " } else { "" };
    let same: Vec<(&str, i64)> =
        groups.iter().filter(|(asset, _)| flaw.is(asset, &t.weakness)).map(|(a, n)| (a.as_str(), *n)).collect();
    let assets: Vec<&str> = same.iter().map(|(a, _)| *a).collect();
    let shown = store::tickets::same_weakness_on(tx, &t.weakness, t.id, since, &assets, MAX_DUPLICATE_HINTS)?;
    let mut out: Vec<String> = shown
        .iter()
        .map(|(reference, state, outcome)| {
            let how = if outcome.is_empty() { state.clone() } else { format!("{state} as {outcome}") };
            format!("{reference} ({how}; same asset and {})", t.weakness)
        })
        .collect();
    let more = same.iter().map(|(_, n)| n).sum::<i64>() - out.len() as i64;
    if more > 0 {
        out.push(format!("and {at_least}{more} more with the same asset and {}", t.weakness));
    }
    Ok(out)
}

/// The earliest possible duplicates a staff notification names one by one (the first is usually the original);
/// a flood of the same report would otherwise list hundreds in every notification.
const MAX_DUPLICATE_HINTS: usize = 10;

/// The out-of-scope clause a report's words point to (the first, in the policy's order), with the
/// sub-processor it names.
fn suggested_clause(tx: &Tx<'_>, env: &Env, t: &TicketRow) -> Result<Option<(String, Option<String>)>, HandleError> {
    let text = store::tickets::researcher_text(tx, t.id)?;
    let text = format!("{}\n{}\n{text}", t.subject, t.asset);
    Ok(hints::out_of_scope(&text, &env.config.scope)
        .first()
        .map(|m| (m.clause.id.clone(), m.sub_processor.map(|s| s.name.clone()))))
}

/// Researcher files for a staff mail: those that fit within the size limit travel along, the rest are only
/// listed (they stay in `vdpd tickets show`).
fn files_for_staff(env: &Env, inbound: &Inbound) -> (Vec<OutFile>, Vec<AttachmentContext>) {
    let mut budget = env.config.staff.max_attachment_bytes;
    let mut files = Vec::new();
    let mut listed = Vec::new();
    for a in inbound.all_attachments() {
        let attached = a.data.len() <= budget;
        if attached {
            budget -= a.data.len();
            files.push(OutFile { name: a.name.clone(), content_type: a.content_type.clone(), data: a.data.clone() });
        }
        listed.push(AttachmentContext {
            name: a.name.clone(),
            content_type: a.content_type.clone(),
            size: a.data.len() as i64,
            sha256: crate::classify::sha256_hex(&a.data),
            attached,
        });
    }
    (files, listed)
}

/// What a notification says besides the researcher's mail.
#[derive(Debug, Clone, Default)]
pub(super) struct Extra {
    /// A status enquiry and what vdpd did with it.
    pub enquiry: Option<String>,
    /// What the mail taught vdpd about the researcher's key (learned on first use, changed, refused).
    pub key_notice: Option<String>,
}

/// Tells staff (the assignee, or everyone) about a ticket event, with the researcher's words and files.
#[allow(clippy::too_many_arguments)]
pub(super) fn notify(
    tx: &Tx<'_>,
    env: &Env,
    ticket_id: i64,
    mail: Mail,
    what: &str,
    inbound: Option<&Inbound>,
    extra: Extra,
    now: i64,
) -> Result<bool, HandleError> {
    let Some(t) = store::tickets::ticket_by_id(tx, ticket_id)? else { return Ok(false) };
    let (recipients, skipped) = outgoing::staff_for(env, &t.assignee, None, now);
    for (address, why) in &skipped {
        store::tickets::add_timeline(
            tx,
            ticket_id,
            now,
            BY_VDPD,
            Event::StaffNotNotified,
            &format!("{address}: {why}"),
        )?;
        tracing::error!(ticket = %t.reference, "{}: staff member {address} not notified: {why}", t.reference);
    }
    if recipients.is_empty() {
        return Ok(false);
    }
    let mut ctx = ticket_context(tx, env, &t, now)?;
    ctx.enquiry = extra.enquiry;
    ctx.key_notice = extra.key_notice;
    let mut files = Vec::new();
    if let Some(inbound) = inbound {
        ctx.text = Some(inbound.body.text.clone());
        ctx.unsigned = unsigned_part(inbound);
        ctx.signature = Some(signature_words(inbound));
        ctx.decrypt_error = inbound.crypto.error.clone();
        let (f, listed) = files_for_staff(env, inbound);
        files = f;
        ctx.attachments = listed;
    }
    ctx.encrypted = recipients.iter().all(|r| outgoing::will_encrypt(env, r));
    let plan = engine::staff_plan(mail, &t.reference, what, &t.subject);
    outgoing::enqueue(tx, env, Some((ticket_id, &t.reference)), &plan, &recipients, ctx, &files, now)?;
    Ok(true)
}

/// The signature verdict in words, for staff: it belongs to the text shown as the researcher's words, and
/// says so when text beside it was not signed.
fn signature_words(inbound: &Inbound) -> String {
    use crate::openpgp::read::Signature;
    let mut s = match &inbound.body.signature {
        Signature::None => "not signed".to_string(),
        Signature::Good { cert, .. } => format!("good signature by {cert}"),
        Signature::Unknown { issuer } => format!("signed by an unknown key ({issuer})"),
        Signature::Bad { reason } => format!("BAD signature ({reason})"),
    };
    if let Some(note) = &inbound.crypto.note {
        s = format!("not signed: {note}");
    }
    if inbound.body.signature != Signature::None && unsigned_part(inbound).is_some() {
        s.push_str(" — over the text above only: the part below was NOT signed");
    }
    if inbound.crypto.decrypted {
        s.push_str("; was encrypted");
    }
    s
}

/// Text the mail carried outside its signed (or encrypted) content, with words that say so.
fn unsigned_part(inbound: &Inbound) -> Option<NamedText> {
    use crate::openpgp::read::Signature;
    let text = inbound.outside.text.trim();
    if text.is_empty() {
        return None;
    }
    let label = if inbound.body.signature != Signature::None {
        "The part below was NOT signed (it came beside the signed text): it counts for nothing"
    } else {
        "The part below came outside the encrypted part: anyone on the way could have read or changed it"
    };
    Some(NamedText { name: label.to_string(), value: text.to_string() })
}

/// Warns every staff member (forged staff mail, quarantined mail), at most `staff.warnings_per_day` times a
/// day; the event is recorded either way.
pub(super) fn warn(
    tx: &Tx<'_>,
    env: &Env,
    warning_kind: WarningKind,
    detail: &str,
    ticket: Option<(i64, &str)>,
    message: Option<MessageContext>,
    now: i64,
) -> Result<bool, HandleError> {
    let sent_today = store::staff::warnings_mailed_since(tx, now - DAY_MS)?;
    let (recipients, _) = outgoing::staff(env, now);
    let mail = sent_today < env.config.staff.warnings_per_day && !recipients.is_empty();
    store::staff::record_warning(
        tx,
        warning_kind,
        detail,
        ticket.map(|t| t.0),
        message.as_ref().map(|m| m.id),
        mail,
        now,
    )?;
    // The detail can quote a subject (report content): the log names only what happened and where.
    let about = ticket.map_or(String::new(), |t| format!("{}: ", t.1));
    tracing::warn!(
        kind = warning_kind.as_str(),
        ticket = ticket.map_or("", |t| t.1),
        message_id = message.as_ref().map(|m| m.id),
        "{about}staff warning {warning_kind} recorded (`vdpd status`; the staff mail and staff_warnings have the detail)"
    );
    if !mail {
        return Ok(false);
    }
    let mut ctx = TicketContext::new(&env.config, ticket.map_or("", |t| t.1), "", "", "", now);
    ctx.encrypted = recipients.iter().all(|r| outgoing::will_encrypt(env, r));
    let subject = match ticket {
        Some((_, r)) => format!("[{r}] Warning: {warning_kind}"),
        None => format!("[vdpd] Warning: {warning_kind}"),
    };
    let mail = Mail::StaffWarning { warning: detail.to_string(), message };
    let plan = engine::MailPlan { subject, ..engine::staff_plan(mail, "", "", "") };
    outgoing::enqueue(tx, env, ticket, &plan, &recipients, ctx, &[], now)?;
    Ok(true)
}

/// The slow lane's digest (`[limits] trial_reports_per_month`): one mail to staff listing the slow-lane
/// reports no digest listed yet, once the oldest of them is a day old — so at most one a day, and no report
/// waits longer than a day for staff to hear of it. Returns whether one was queued.
pub(crate) fn digest_if_due(tx: &Tx<'_>, env: &Env, now: i64) -> Result<bool, HandleError> {
    let Some(oldest) = store::tickets::oldest_undigested(tx)? else { return Ok(false) };
    if now - oldest < DAY_MS {
        return Ok(false);
    }
    let (recipients, _) = outgoing::staff(env, now);
    let tickets = store::tickets::undigested(tx)?;
    let mut reports = Vec::new();
    for t in &tickets {
        let before = store::tickets::count_tickets_by_reporter_since(tx, &t.reporter, t.received_at - 30 * DAY_MS)?;
        reports.push(vdpd_core::mail::DigestEntry {
            reference: t.reference.clone(),
            subject: t.subject.clone(),
            reporter: t.reporter.clone(),
            received: env.config.calendar.show(t.received_at),
            asset: t.asset.clone(),
            sender_reports: before,
        });
        store::tickets::set_digested(tx, t.id, now)?;
        store::tickets::add_timeline(tx, t.id, now, crate::timeline::BY_VDPD, Event::Digested, "")?;
    }
    tracing::info!(reports = reports.len(), "the slow lane's digest lists {} reports", reports.len());
    if recipients.is_empty() {
        return Ok(false);
    }
    let mut ctx = TicketContext::new(&env.config, "", "", "", "", now);
    ctx.encrypted = recipients.iter().all(|r| outgoing::will_encrypt(env, r));
    let subject = format!("[vdpd] Digest: {} new report(s) in the slow lane", reports.len());
    let plan = engine::MailPlan { subject, ..engine::staff_plan(Mail::StaffDigest { reports }, "", "", "") };
    outgoing::enqueue(tx, env, None, &plan, &recipients, ctx, &[], now)?;
    Ok(true)
}

/// A warning the core planned ([`engine::aside::Warning`]): not again within its `at_most_every` of the last
/// one of its kind (a flood is told once an hour, not once a message), else as [`warn`] does it. Returns
/// whether mail was queued.
pub(super) fn warn_of(
    tx: &Tx<'_>,
    env: &Env,
    warning: &engine::aside::Warning,
    ticket: Option<(i64, &str)>,
    message: MessageContext,
    now: i64,
) -> Result<bool, HandleError> {
    if let Some(every) = warning.at_most_every
        && store::staff::last_warning_at(tx, warning.kind)?.is_some_and(|at| now - at < every)
    {
        return Ok(false);
    }
    let message = warning.names_message.then_some(message);
    warn(tx, env, warning.kind, &warning.detail, ticket, message, now)
}

/// A mail that was decided but could not be made after the commit (sealing): staff hear of it, within the daily
/// cap, since whoever it was for never gets it — unless it was itself a warning to staff, which would only
/// fail again (the log and the ticket's timeline have it).
pub(crate) fn unsendable_notice(
    tx: &Tx<'_>,
    env: &Env,
    rows: &[store::outbox::OutboxRow],
    error: &str,
    now: i64,
) -> Result<(), HandleError> {
    let Some(first) = rows.first() else { return Ok(()) };
    if first.kind == MessageKind::StaffWarning {
        return Ok(());
    }
    let ticket = match first.ticket_id {
        Some(id) => store::tickets::ticket_by_id(tx, id)?,
        None => None,
    };
    // Who it was for, unless the researcher's data was erased since.
    let to = if ticket.as_ref().is_some_and(|t| t.erased_at.is_some()) {
        "(erased)".to_string()
    } else {
        rows.iter().map(|r| r.recipient.as_str()).collect::<Vec<_>>().join(", ")
    };
    let on = ticket.as_ref().map_or(String::new(), |t| format!(" of {}", t.reference));
    let detail = format!(
        "the {} mail{on} to {to} was not sent: {error}. Whoever it was for has not had it; `vdpd status` lists failed \
         mail, and the ticket's timeline has it.",
        first.kind
    );
    let about = ticket.as_ref().map(|t| (t.id, t.reference.as_str()));
    warn(tx, env, WarningKind::Unsendable, &detail, about, None, now)?;
    Ok(())
}

/// A quarantined message: staff hear of it (within the daily cap).
pub(super) fn quarantine_notice(
    tx: &Tx<'_>,
    env: &Env,
    intake_id: i64,
    from: &str,
    subject: &str,
    reason: &str,
    now: i64,
) -> Result<(), HandleError> {
    let detail = format!("message #{intake_id} from {from:?} was quarantined: {reason}");
    let message = MessageContext { id: intake_id, from: from.to_string(), subject: subject.to_string() };
    warn(tx, env, WarningKind::Quarantined, &detail, None, Some(message), now)?;
    Ok(())
}

/// An authenticated staff mail that names no ticket: the member is told how to reach one.
pub(super) fn no_ticket(
    tx: &Tx<'_>,
    env: &Env,
    inbound: &Inbound,
    member: &str,
    now: i64,
) -> Result<bool, HandleError> {
    let Some(to) = outgoing::staff_member(env, member, now) else { return Ok(false) };
    let mut ctx = TicketContext::new(&env.config, "", &inbound.subject, "", "", now);
    let errors = vec![format!(
        "your mail names no ticket: keep the reference (e.g. [{}-2026-0001]) in the subject, or answer one of vdpd's mails",
        env.config.organisation.ticket_prefix
    )];
    ctx.commands = command_help();
    ctx.encrypted = outgoing::will_encrypt(env, &to);
    let plan = engine::MailPlan {
        subject: format!("Not done: {}", inbound.subject),
        in_reply_to: inbound.message_id.clone(),
        ..engine::staff_plan(Mail::StaffError { member: None, errors }, "", "", "")
    };
    outgoing::enqueue(tx, env, None, &plan, &[to], ctx, &[], now)?;
    Ok(true)
}

/// An authenticated staff mail about a ticket: the core's plan of it ([`cmd::mail_plan`]: its commands all or
/// nothing, the researcher's answer, the confirmation to the member and the note to the other staff) carried
/// out effect by effect. Returns what the intake journal records of it.
#[allow(clippy::too_many_arguments)]
pub(super) fn handle(
    tx: &Tx<'_>,
    env: &Env,
    intake_id: i64,
    inbound: &Inbound,
    ticket_id: i64,
    reference: &str,
    member: &str,
    now: i64,
    processed: &mut Processed,
) -> Result<engine::JournalEntry, HandleError> {
    let config = &env.config;
    // Commands and the words to relay come from the signed content only: text beside it is ignored.
    let parsed = cmd::parse(&inbound.body.text, config);
    let Some(ticket) = store::tickets::ticket_by_id(tx, ticket_id)? else {
        let kind = if parsed.has(&Command::Internal) { MessageKind::StaffNote } else { MessageKind::Staff };
        apply::record_incoming(tx, ticket_id, kind, intake_id, inbound, config, now)?;
        return Ok(engine::staff_mail_entry(member));
    };
    let mut existing: Vec<cmd::Existing> = Vec::new();
    for l in &parsed.commands {
        if let Command::Duplicate(r) = &l.command
            && let Some(original) = store::tickets::ticket_by_reference(tx, r)?
        {
            // Only a fixed flaw's advisory is offered to the researcher.
            let fixed = original.resolved_at.is_some();
            let advisory = store::search::advisory_of(tx, original.id)?.filter(|_| fixed).map(|(url, _)| url);
            existing.push(cmd::Existing { reference: original.reference, advisory });
        }
    }
    let view = cmd::TicketView {
        reference: ticket.reference.clone(),
        state: ticket.state,
        outcome: ticket.outcome,
        bounty_tier: non_empty(&ticket.bounty_tier),
        bounty_paid: ticket.bounty_paid_at.is_some(),
        credit_consent: ticket.credit_consent.clone(),
        suggested_clause: suggested_clause(tx, env, &ticket)?,
        erased: ticket.erased_at.is_some(),
        researcher_key: store::openpgp::cert_of(tx, &ticket.reporter)?.map(|(fpr, _)| fpr),
        offered_keys: store::openpgp::offers(tx, &ticket.reporter)?.into_iter().map(|o| o.fingerprint).collect(),
        exploited_at: ticket.exploited_at,
        mitigated: ticket.mitigated_at.is_some() || ticket.resolved_at.is_some(),
        cra_filed: store::tickets::cra_filings(tx, ticket.id)?.into_iter().map(|f| f.stage).collect(),
        product: non_empty(&ticket.product),
        cve_id: non_empty(&ticket.cve_id),
        incident_at: ticket.incident_at,
        reporter: non_empty(&ticket.reporter),
        co_reporters: store::tickets::participants(tx, ticket_id)?
            .into_iter()
            .filter(|p| p.role == store::tickets::Role::CoReporter)
            .map(|p| p.address)
            .collect(),
    };
    let plan = cmd::mail_plan(inbound, &parsed, &view, &existing, cmd::At { now, member }, config);
    tracing::debug!(ticket = %reference, staff = %member, "{reference}: the mail of {member} causes {}", plan.summary());
    let mut mail = StaffMail {
        intake_id,
        inbound,
        parsed: &parsed,
        ticket,
        member,
        me: outgoing::staff_member(env, member, now),
        done: Vec::new(),
        notices: Vec::new(),
        now,
    };
    for effect in &plan.effects {
        mail.apply(tx, env, effect, processed)?;
    }
    Ok(plan.journal)
}

/// A column the store keeps as '' when it holds nothing, as the core takes it.
fn non_empty(column: &str) -> Option<String> {
    (!column.is_empty()).then(|| column.to_string())
}

/// A staff mail being carried out: what its effects leave for the ones after them.
struct StaffMail<'a> {
    intake_id: i64,
    inbound: &'a Inbound,
    parsed: &'a cmd::Parsed,
    /// The ticket as the mail found it (reread for the confirmation, after the commands).
    ticket: TicketRow,
    member: &'a str,
    /// The member as a recipient (their confirmation), if they may receive mail.
    me: Option<Recipient>,
    /// The member's confirmation lines so far.
    done: Vec<String>,
    /// What the researcher is told of the commands' decisions.
    notices: Vec<Notice>,
    now: i64,
}

impl StaffMail<'_> {
    fn apply(&mut self, tx: &Tx<'_>, env: &Env, effect: &Effect, processed: &mut Processed) -> Result<(), HandleError> {
        let config = &env.config;
        let (inbound, member, now) = (self.inbound, self.member, self.now);
        let (ticket_id, reference) = (self.ticket.id, self.ticket.reference.clone());
        let reference = reference.as_str();
        match effect {
            Effect::Record(kind) => {
                apply::record_incoming(tx, ticket_id, *kind, self.intake_id, inbound, config, now)?;
            }
            Effect::Warn(warning) => {
                let message = MessageContext {
                    id: self.intake_id,
                    from: inbound.sender.clone(),
                    subject: inbound.subject.clone(),
                };
                processed.enqueued |= warn_of(tx, env, warning, Some((ticket_id, reference)), message, now)?;
            }
            Effect::Refuse(lines) => {
                tracing::info!(ticket = %reference, staff = %member, "{reference}: commands of {member} refused: {}", lines.join("; "));
                let mail = Mail::StaffError { member: Some(member.to_string()), errors: lines.clone() };
                processed.enqueued |= self.answer_member(tx, env, mail, "Not done")?;
            }
            Effect::Reindex => super::search::reindex(tx, config, ticket_id)?,
            Effect::Relay => self.relay(tx, env, processed)?,
            // Erasure comes after everything that goes to the researcher: that was composed while we still
            // knew them.
            Effect::Erase => {
                let covered = super::retention::erase(tx, env, &self.ticket, member, now)?;
                self.done.push(format!(
                    "the researcher's personal data was erased ({}); they get a receipt",
                    if covered.is_empty() { "nothing left to erase".to_string() } else { covered.join(", ") }
                ));
            }
            Effect::Confirm => {
                if self.done.is_empty() {
                    self.done.push("nothing to do: no commands and no text".into());
                }
                tracing::info!(ticket = %reference, staff = %member, "{reference}: mail of {member}: {}", self.done.join("; "));
                // The confirmation and the note to the others show the ticket as the commands left it.
                if let Some(t) = store::tickets::ticket_by_id(tx, ticket_id)? {
                    self.ticket = t;
                }
                let mail = Mail::StaffConfirmation { member: member.to_string(), changes: self.done.clone() };
                processed.enqueued |= self.answer_member(tx, env, mail, "Done")?;
            }
            Effect::TellStaff => {
                let (others, _) = outgoing::staff_for(env, &self.ticket.assignee, Some(member), now);
                if !others.is_empty() {
                    let mut ctx = ticket_context(tx, env, &self.ticket, now)?;
                    ctx.encrypted = others.iter().all(|r| outgoing::will_encrypt(env, r));
                    let internal = self.parsed.has(&Command::Internal);
                    let what =
                        if internal { format!("Note from {member}") } else { format!("{member} worked the ticket") };
                    let mail = Mail::StaffActivity {
                        member: member.to_string(),
                        changes: self.done.clone(),
                        text: self.parsed.text.clone(),
                    };
                    let plan = engine::staff_plan(mail, reference, &what, &self.ticket.subject);
                    outgoing::enqueue(tx, env, Some((ticket_id, reference)), &plan, &others, ctx, &[], now)?;
                }
            }
            other => apply_effect(tx, &self.ticket, other, member, now, &mut self.done, &mut self.notices)?,
        }
        Ok(())
    }

    /// Answers the member's mail (`what`: "Done", "Not done"), threaded under it, if they may receive mail.
    /// Returns whether it was queued.
    fn answer_member(&self, tx: &Tx<'_>, env: &Env, mail: Mail, what: &str) -> Result<bool, HandleError> {
        let Some(me) = &self.me else { return Ok(false) };
        let (ticket_id, reference) = (self.ticket.id, self.ticket.reference.as_str());
        let mut ctx = ticket_context(tx, env, &self.ticket, self.now)?;
        ctx.encrypted = outgoing::will_encrypt(env, me);
        let plan = engine::MailPlan {
            in_reply_to: self.inbound.message_id.clone(),
            ..engine::staff_plan(mail, reference, what, &self.inbound.subject)
        };
        let to = std::slice::from_ref(me);
        outgoing::enqueue(tx, env, Some((ticket_id, reference)), &plan, to, ctx, &[], self.now)?;
        Ok(true)
    }

    /// The researcher's answer: the member's words and the notices of what was decided, to each researcher as
    /// the commands leave them, where [`cmd::relay`] says they may go.
    fn relay(&mut self, tx: &Tx<'_>, env: &Env, processed: &mut Processed) -> Result<(), HandleError> {
        let config = &env.config;
        let (member, now) = (self.member, self.now);
        let (ticket_id, reference) = (self.ticket.id, self.ticket.reference.as_str());
        let researchers = super::status::researchers(tx, &self.ticket, now)?;
        // Staff's words go in clear text to nobody the policy withholds them from: encrypted to all, or to none.
        let encrypted = researchers.iter().all(|r| outgoing::will_encrypt(env, r));
        let relay = cmd::relay(self.parsed, !self.notices.is_empty(), encrypted, config.openpgp.as_ref());
        self.done.extend(relay.done);
        // (Nobody to write to once the reporter was erased and no co-reporter is left.)
        let Some(text) = relay.send else { return Ok(()) };
        if researchers.is_empty() {
            return Ok(());
        }
        let mut ctx = ticket_context(tx, env, &self.ticket, now)?;
        ctx.encrypted = encrypted;
        let (last_in, first) = store::tickets::thread_anchor(tx, ticket_id)?;
        let references = first.into_iter().chain(last_in.clone()).fold(Vec::new(), |mut v, id| {
            if !v.contains(&id) {
                v.push(id);
            }
            v
        });
        // Each researcher alone, the notices in their language.
        for r in &researchers {
            let lang = env.templates.answer_in(r.lang.as_ref()).clone();
            // The notices are rendered with the mail, after the commit: here they are drafted.
            let drafts = notice_drafts(env, &self.ticket, &self.notices, &lang)?;
            let plan = engine::to_researcher_plan(
                Mail::ToResearcher { text: text.clone(), notices: Vec::new() },
                reference,
                &self.ticket.subject,
                last_in.clone(),
                references.clone(),
                &config.organisation.ticket_prefix,
            );
            let (c, to) = (outgoing::addressed_to(&ctx, env, r), std::slice::from_ref(r));
            outgoing::enqueue_with(tx, env, Some((ticket_id, reference)), &plan, to, c, &[], drafts, now)?;
        }
        processed.enqueued = true;
        let how = crate::engine::staff::sent_how(encrypted);
        store::tickets::add_timeline(tx, ticket_id, now, member, Event::StaffWroteToResearcher, how)?;
        // Staff answered the researcher: that is the first diagnosis, and news for the status clock.
        store::tickets::set_diagnosed(tx, ticket_id, now)?;
        store::tickets::set_last_update(tx, ticket_id, now)?;
        Ok(())
    }
}

/// The notices of what staff decided, drafted as the researcher reads them in `lang` (they go into the
/// answer's text when it is rendered).
fn notice_drafts(env: &Env, ticket: &TicketRow, notices: &[Notice], lang: &Lang) -> Result<Vec<Draft>, HandleError> {
    let config = &env.config;
    let mut out = Vec::with_capacity(notices.len());
    for notice in notices {
        let mut ctx =
            TicketContext::new(config, &ticket.reference, &ticket.subject, &ticket.reporter, "", ticket.received_at);
        notice.fill(&mut ctx);
        // The researcher's own deletion duty (quoted when the flaw is resolved).
        ctx.retention = config
            .retention
            .researcher_deletion_duty
            .clone()
            .map(|duty| RetentionContext { researcher_duty: Some(duty), ..RetentionContext::default() });
        ctx.in_language(config, lang);
        out.push(Draft::new(notice.template(), &ctx, None)?);
    }
    Ok(out)
}

/// Carries out one effect a staff command planned: the store, the timeline, what the member is told, and the
/// notice for the researcher. What each command does is decided in the core ([`cmd::REGISTRY`]); this only
/// knows how to do each kind of effect.
#[allow(clippy::too_many_arguments)]
fn apply_effect(
    tx: &Tx<'_>,
    ticket: &TicketRow,
    effect: &Effect,
    member: &str,
    now: i64,
    done: &mut Vec<String>,
    notices: &mut Vec<Notice>,
) -> Result<(), HandleError> {
    let id = ticket.id;
    let timeline = |event: Event, detail: &str| store::tickets::add_timeline(tx, id, now, member, event, detail);
    match effect {
        Effect::Update(update) => store::tickets::update(tx, id, update, now)?,
        Effect::AddParticipant { address, name } => {
            store::tickets::add_participant(tx, id, address, name, store::tickets::Role::CoReporter, now)?
        }
        Effect::RemoveParticipant(address) => store::tickets::remove_co_reporter(tx, id, address)?,
        Effect::Timeline { by, event, detail } => {
            store::tickets::add_timeline(tx, id, now, apply::by_whom(by, member), *event, detail)?
        }
        Effect::Done(line) => done.push(line.clone()),
        Effect::Notice(notice) => notices.push((**notice).clone()),
        Effect::Diagnosed => {
            store::tickets::set_diagnosed(tx, id, now)?;
        }
        Effect::Wait(reason) => {
            if store::tickets::start_wait(tx, id, now, *reason)? && *reason == store::tickets::WaitReason::Staff {
                timeline(Event::WaitingOnResearcher, "staff asked a question")?;
            }
        }
        // Erasure is carried out last, by the caller.
        Effect::Erase => {}
        Effect::KeyShow => done.extend(super::keys::describe(tx, &ticket.reporter, now)?),
        Effect::KeyReset => {
            store::openpgp::forget(tx, &ticket.reporter)?;
        }
        Effect::KeyAccept(fpr) => match super::keys::accept_offer(tx, &ticket.reporter, fpr, now)? {
            Ok(fpr) => {
                timeline(Event::KeyAccepted, &fpr)?;
                done.push(format!(
                    "the researcher's key is now {fpr} (accepted by {member}): mail to them is encrypted to it"
                ));
            }
            Err(why) => done.push(format!("key not accepted: {why}")),
        },
        other => return Err(HandleError::misplanned("a staff mail's commands", other)),
    }
    Ok(())
}

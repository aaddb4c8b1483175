//! Mail that follows from a message: decided in the caller's transaction — its context drafted once per
//! language, one composition per researcher and one for the team members it goes to, written to the ticket
//! and the outbox as what its text and bytes are to be made of —, rendered, composed, signed and encrypted by
//! [`crate::seal`] after the commit.

use super::{Env, HandleError, system_time};
use crate::config::StaffEncryption;
use crate::engine::{self, Auto, DAY_MS, MailPlan};
use crate::openpgp::{self, Cert};
use crate::render::{self, Draft, KeyContext, OutFile, RenderError, TicketContext};
use crate::seal::Composition;
use crate::store::{self, StoreError};
use crate::timeline::{BY_VDPD, Event};
use vdpd_core::lang::{self, Lang};

/// Someone a mail goes to.
#[derive(Debug, Clone)]
pub(super) struct Recipient {
    pub address: String,
    pub name: String,
    /// Their certificate, if we have one that can receive encrypted mail now.
    pub cert: Option<Cert>,
    /// On the organisation's side (a staff member or an escalation contact): a mail to several of them is one
    /// message addressed to them all, composed, signed and encrypted once. A researcher always gets a message
    /// of their own and never sees who else received it.
    pub team: bool,
    /// The language they are written to in, if vdpd learned one (researchers); else the desk's own.
    pub lang: Option<Lang>,
}

fn usable_for_encryption(cert: &Cert, now: i64) -> bool {
    openpgp::can_encrypt_to(cert, system_time(now))
}

/// A researcher as a recipient, with the certificate we hold for them.
pub(super) fn researcher(
    tx: &rusqlite::Transaction<'_>,
    address: &str,
    name: &str,
    now: i64,
) -> Result<Recipient, StoreError> {
    let cert = store::openpgp::cert_of(tx, address)?
        .and_then(|(_, bytes)| crate::classify::pgp::cert_from_bytes(&bytes))
        .filter(|c| usable_for_encryption(c, now));
    let lang = store::languages::of(tx, address)?.map(|(l, _)| l);
    Ok(Recipient { address: address.to_string(), name: name.to_string(), cert, team: false, lang })
}

/// Learns the language of a researcher's mail (what it declares, else what its text reads as, among the
/// languages the desk answers in) and remembers it for its sender, so that this mail's answer and every later
/// mail to them is in it. A mail that says nothing clear changes nothing: "merci" keeps French.
pub(super) fn learn_language(
    tx: &rusqlite::Transaction<'_>,
    env: &Env,
    inbound: &vdpd_core::classify::Inbound,
    now: i64,
) -> Result<(), StoreError> {
    let text = format!("{}\n{}", inbound.subject, inbound.body.text);
    let found = lang::of_mail(inbound.content_language.as_deref(), &text, env.templates.languages());
    if let Some((l, how)) = found {
        tracing::debug!(researcher = %inbound.sender, "{}: wrote in {l} ({})", inbound.sender, how.as_str());
        store::languages::remember(tx, &inbound.sender, &l, how, now)?;
    }
    Ok(())
}

/// What staff read of a researcher's language: "fr (français, from Content-Language)".
pub(super) fn language_note(tx: &rusqlite::Transaction<'_>, address: &str) -> Result<Option<String>, StoreError> {
    Ok(store::languages::of(tx, address)?.map(|(l, how)| {
        let how = match how {
            lang::Found::Declared => "from Content-Language",
            lang::Found::Detected => "detected from the text",
        };
        format!("{l} ({}, {how})", l.native_name())
    }))
}

/// Whether mail to `r` will be encrypted.
pub(super) fn will_encrypt(env: &Env, r: &Recipient) -> bool {
    env.keys.org.is_some() && r.cert.is_some()
}

/// Who hears about a ticket: its assignee once assigned, else every member; never `except` (the member who
/// wrote). The second list names members left out by the encryption policy, and why.
pub(super) fn staff_for(
    env: &Env,
    assignee: &str,
    except: Option<&str>,
    now: i64,
) -> (Vec<Recipient>, Vec<(String, String)>) {
    let (all, skipped) = staff(env, now);
    let assigned = !assignee.is_empty() && all.iter().any(|r| r.address == assignee);
    let chosen = all
        .into_iter()
        .filter(|r| !assigned || r.address == assignee)
        .filter(|r| except.is_none_or(|e| !r.address.eq_ignore_ascii_case(e)))
        .collect();
    (chosen, skipped)
}

/// One staff member as a recipient (for answers to their own mail).
pub(super) fn staff_member(env: &Env, address: &str, now: i64) -> Option<Recipient> {
    let (all, _) = staff(env, now);
    all.into_iter().find(|r| r.address.eq_ignore_ascii_case(address))
}

/// Staff recipients under the policy; the second list names members left out, and why.
pub(super) fn staff(env: &Env, now: i64) -> (Vec<Recipient>, Vec<(String, String)>) {
    let required = env.config.openpgp.as_ref().is_some_and(|o| o.staff_encryption == StaffEncryption::Required);
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    for s in &env.keys.staff {
        let cert = s.cert.clone().filter(|c| usable_for_encryption(c, now));
        if required && (cert.is_none() || env.keys.org.is_none()) {
            skipped.push((s.address.clone(), "no usable certificate, and staff mail must be encrypted".to_string()));
            continue;
        }
        out.push(Recipient { address: s.address.clone(), name: s.name.clone(), cert, team: true, lang: None });
    }
    (out, skipped)
}

/// The organisation key as templates name it.
pub(super) fn key_context(env: &Env) -> Option<KeyContext> {
    env.keys.org.as_ref().map(|k| KeyContext { fingerprint: k.fingerprint() })
}

/// Enqueues an automatic reply unless the ticket has had its daily share; returns whether it was enqueued.
pub(super) fn auto_reply(
    tx: &rusqlite::Transaction<'_>,
    env: &Env,
    ticket: (i64, &str),
    plan: &MailPlan,
    to: &Recipient,
    ctx: TicketContext,
    now: i64,
) -> Result<bool, HandleError> {
    let sent_today = store::outbox::auto_replies_since(tx, ticket.0, now - DAY_MS)?;
    if !engine::may_auto_reply(sent_today, &env.config.limits) {
        let why = format!(
            "{} not sent: {sent_today} automatic replies in the last 24 hours (limits.auto_replies_per_ticket_per_day)",
            plan.mail.kind()
        );
        store::tickets::add_timeline(tx, ticket.0, now, BY_VDPD, Event::AutoReplySuppressed, &why)?;
        tracing::warn!(ticket = %ticket.1, "{}: {why}", ticket.1);
        return Ok(false);
    }
    enqueue(tx, env, Some(ticket), plan, std::slice::from_ref(to), ctx, &[], now)?;
    Ok(true)
}

/// Enqueues `plan` to each researcher on their own (the reporter and the co-reporters): each greeted by
/// name, in their language, encrypted to their key where we hold one, and none seeing who else received it.
pub(super) fn enqueue_each(
    tx: &rusqlite::Transaction<'_>,
    env: &Env,
    ticket: (i64, &str),
    plan: &MailPlan,
    recipients: &[Recipient],
    ctx: &TicketContext,
    now: i64,
) -> Result<(), HandleError> {
    for r in recipients {
        enqueue(tx, env, Some(ticket), plan, std::slice::from_ref(r), addressed_to(ctx, env, r), &[], now)?;
    }
    Ok(())
}

/// `ctx` as one researcher reads it: greeted by name, and whether their copy is encrypted.
pub(super) fn addressed_to(ctx: &TicketContext, env: &Env, r: &Recipient) -> TicketContext {
    let mut c = ctx.clone();
    c.researcher = vdpd_core::mail::context::Person { address: r.address.clone(), name: r.name.clone() };
    c.encrypted = will_encrypt(env, r);
    c
}

/// Queues a planned mail (its template with `ctx` and what the mail itself carries): the ticket's record of
/// it (one row in its messages, whose text the sealing pass writes once it is rendered) and one outbox row
/// per recipient, in the order given, waiting on what their final bytes are to be made of — each
/// researcher's copy for them alone, the team members' as one message to all of them we encrypt to (sealed
/// once for all their certificates) and one to the rest. Nothing is rendered here: the context is recorded
/// per language the mail goes out in (a [`Draft`]), and [`crate::seal`] renders, composes, signs and
/// encrypts after the commit, outside the transaction and the writer lock.
#[allow(clippy::too_many_arguments)]
pub(super) fn enqueue(
    tx: &rusqlite::Transaction<'_>,
    env: &Env,
    ticket: Option<(i64, &str)>,
    plan: &MailPlan,
    recipients: &[Recipient],
    ctx: TicketContext,
    files: &[OutFile],
    now: i64,
) -> Result<(), HandleError> {
    enqueue_with(tx, env, ticket, plan, recipients, ctx, files, Vec::new(), now)
}

/// [`enqueue`], with the researcher notices drafted for the mail's text (one researcher's language: the
/// caller queues such a mail to each researcher on their own).
#[allow(clippy::too_many_arguments)]
pub(super) fn enqueue_with(
    tx: &rusqlite::Transaction<'_>,
    env: &Env,
    ticket: Option<(i64, &str)>,
    plan: &MailPlan,
    recipients: &[Recipient],
    mut ctx: TicketContext,
    files: &[OutFile],
    notices: Vec<Draft>,
    now: i64,
) -> Result<(), HandleError> {
    if recipients.is_empty() {
        return Ok(());
    }
    let org = &env.config.organisation;
    // The context is the caller's to give away: a staff notification's carries the researcher's whole text.
    plan.mail.fill(&mut ctx);
    // Each group's text is drafted in its language: the team's (the desk's own) or its researcher's.
    let language = |r: &Recipient| env.templates.answer_in(if r.team { None } else { r.lang.as_ref() }).clone();
    let kind = plan.mail.kind();
    let message_id = render::new_message_id(ticket.map(|(_, r)| r), &org.domain);
    let org_key = env.keys.org.as_ref();
    let encrypts = |r: &Recipient| will_encrypt(env, r);
    let all_encrypted = recipients.iter().all(encrypts);
    // The ticket's record of the mail, as its first recipient reads it: the subject planned (a template that
    // names its own replaces it) and the text, both written when the first recipient's copy is rendered.
    let to_list = recipients.iter().map(|r| r.address.as_str()).collect::<Vec<_>>().join(", ");
    let signer = match org_key {
        Some(k) if all_encrypted => k.fingerprint(),
        _ => String::new(),
    };
    let message_row = match ticket {
        Some((ticket_id, _)) => Some(store::tickets::insert_message(
            tx,
            &store::tickets::MessageInsert {
                ticket_id,
                direction: vdpd_core::ticket::Direction::Out,
                kind,
                message_id: &message_id,
                intake_id: None,
                from_addr: &org.security_address,
                to_addr: &to_list,
                subject: &plan.subject,
                body_text: "",
                unsigned_text: "",
                created_at: now,
                encrypted: all_encrypted,
                signature: if all_encrypted { "good" } else { "none" },
                signer: &signer,
                crypto_error: "",
            },
        )?),
        None => None,
    };
    // One message per group: the team members we encrypt to, the team members we cannot, and each researcher
    // alone. Signing and encrypting cost more than everything else a mail needs (an X25519 key agreement per
    // certificate, a signature, the system's randomness each time), so a notification to three staff members is
    // sealed once with three recipients, not three times. Groups hold indices into `recipients`.
    let mut groups: Vec<Vec<usize>> = [true, false]
        .into_iter()
        .map(|want| (0..recipients.len()).filter(|&i| recipients[i].team && encrypts(&recipients[i]) == want).collect())
        .filter(|g: &Vec<usize>| !g.is_empty())
        .collect();
    groups.extend((0..recipients.len()).filter(|&i| !recipients[i].team).map(|i| vec![i]));
    // Each group's composition, stored once for the group's rows.
    let mut seal_of = vec![0; recipients.len()];
    for group in &groups {
        let members: Vec<&Recipient> = group.iter().map(|&i| &recipients[i]).collect();
        // A group is the team (one language) or one researcher.
        let l = language(members[0]);
        let mut c = ctx.clone();
        c.in_language(&env.config, &l);
        let mut draft = Draft::new(plan.mail.template(), &c, ticket.map(|(_, reference)| reference))?;
        draft.notices.clone_from(&notices);
        let mut headers = plan.headers();
        headers.language = Some(l);
        let composition = Composition {
            headers,
            body: String::new(),
            draft: Some(draft),
            message_id: message_id.clone(),
            date: now,
            to: members.iter().map(|r| (r.address.clone(), r.name.clone())).collect(),
            attach_key: org_key.is_some() && plan.mail.attaches_key(),
            autocrypt: env.config.openpgp.as_ref().is_some_and(|o| o.autocrypt),
            reply_to: plan.reply_to_desk.then(|| org.security_address.clone()),
            encrypt_to: encrypts(members[0])
                .then(|| members.iter().filter_map(|r| r.cert.as_ref()).map(|c| c.fingerprint().to_hex()).collect()),
            certs: members
                .iter()
                .filter(|r| !r.team && encrypts(r))
                .filter_map(|r| r.cert.as_ref())
                .map(crate::seal::carried)
                .collect(),
            files: files.to_vec(),
        };
        let text = serde_json::to_string(&composition).map_err(|e| RenderError::Message(e.to_string()))?;
        // The group of the first recipient writes the record's text.
        let records = if group.contains(&0) { message_row } else { None };
        let seal = store::outbox::new_seal(tx, &text, records, now)?;
        for &i in group {
            seal_of[i] = seal;
        }
    }
    for (r, &seal) in recipients.iter().zip(&seal_of) {
        store::outbox::enqueue(
            tx,
            &store::outbox::NewOutgoing {
                seal,
                message_row,
                ticket_id: ticket.map(|(id, _)| id),
                kind,
                auto_reply: plan.auto == Auto::Replied,
                envelope_from: &org.security_address,
                recipient: &r.address,
                created_at: now,
            },
        )?;
    }
    if let Some((ticket_id, _)) = ticket {
        store::tickets::add_timeline(
            tx,
            ticket_id,
            now,
            BY_VDPD,
            Event::Queued { kind, encrypted: all_encrypted },
            &to_list,
        )?;
    }
    Ok(())
}

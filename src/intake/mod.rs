//! Raw message → outcome, with everything it causes, committed at once.
//!
//! The same path serves IMAP and `vdpd ingest`. For each message:
//!
//! 1. [`store::intake::begin`] writes the raw bytes as a `pending` intake row (or counts another attempt on
//!    one a dead process left pending). A message that kills the process three times is quarantined instead of
//!    being parsed again: poison mail must not turn into a crash loop.
//! 2. Classify it (pure; outside any transaction, so that reading a huge message never holds the write lock):
//!    parse, decrypt and verify with the organisation key and the sender's known certificate.
//! 3. In ONE transaction: look up duplicates and threads, let the engine decide, create the ticket or append to
//!    its thread, render and enqueue the replies, set the clocks, record the outcome and advance the IMAP
//!    cursor. Only after this commit may the message be flagged or moved on the server.
//! 4. A failure of the message itself (unparseable, over a limit, a panic in a parser) quarantines it with the
//!    error. A failure of the store that will pass (disk full, database locked) is returned, nothing is
//!    recorded against the message, and the caller stops and retries later.
//!
//! A fetched batch goes through [`process_batch`]: consecutive messages new to the store share the
//! transactions of steps 1 and 3 (group commit), each in a savepoint of its own, with the same outcome as
//! one after the other; see there for why a crash or a poison message inside a group changes nothing.

mod apply;
pub mod clocks;
pub mod dry_run;
mod keys;
mod outgoing;
mod retention;
pub mod search;
mod staff;
mod status;
pub(crate) mod timed;

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use crate::classify;
use crate::config::Config;
use crate::openpgp::keys::Keys;
use crate::render::{RenderError, Templates};
use crate::store::{self, IntakeStatus, Store, StoreError};

/// A message this many processing attempts old (each one ended by the process dying) is quarantined.
pub const MAX_ATTEMPTS: i64 = 3;

/// What processing needs besides the message: the policy, the compiled templates, the keys.
#[derive(Debug, Clone)]
pub struct Env {
    pub config: Arc<Config>,
    pub templates: Arc<Templates>,
    pub keys: Arc<Keys>,
}

impl Env {
    /// Limits for decryption, from the policy.
    pub fn decrypt_limits(&self) -> crate::openpgp::read::Limits {
        let (max_plaintext, max_ratio) =
            self.config.openpgp.as_ref().map_or((50 << 20, 100), |o| (o.max_decrypted_bytes, o.max_compression_ratio));
        crate::openpgp::read::Limits { max_plaintext, max_ratio }
    }
}

/// The `Env` of a running daemon: replaced as a whole when the policy is reloaded (SIGHUP), read afresh for
/// each message and each round of timers, so a reload never changes the rules in the middle of one.
#[derive(Debug, Clone)]
pub struct SharedEnv(Arc<std::sync::RwLock<Env>>);

impl SharedEnv {
    pub fn new(env: Env) -> SharedEnv {
        SharedEnv(Arc::new(std::sync::RwLock::new(env)))
    }

    /// The environment now (cheap: a few `Arc`s).
    pub fn current(&self) -> Env {
        self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    pub fn replace(&self, env: Env) {
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = env;
    }
}

/// Where a message came from.
#[derive(Debug, Clone)]
pub enum Source {
    Imap { mailbox: String, uidvalidity: u32, uid: u32 },
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
    /// An admin asked for this message to be processed again (`vdpd mail retry`): the caps on new tickets
    /// (per sender, per hour) that held it back do not apply.
    pub admitted: bool,
}

impl IncomingMail {
    /// The identity of this copy of the message: its IMAP coordinates, or the hash of its bytes.
    pub fn intake_key(&self) -> String {
        match &self.source {
            Source::Imap { mailbox, uidvalidity, uid } => store::intake::imap_key(mailbox, *uidvalidity, *uid),
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
pub(crate) enum HandleError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Render(#[from] RenderError),
    /// The core planned an effect the mail's kind cannot carry out: a defect of vdpd's, not of the mail's, so
    /// nothing of the plan is kept and the mail is quarantined with this for an admin.
    #[error("internal error: the plan of {context} has an effect it cannot carry out: {effect}")]
    Misplanned { context: &'static str, effect: String },
}

impl HandleError {
    pub(crate) fn misplanned(context: &'static str, effect: &crate::engine::Effect) -> HandleError {
        HandleError::Misplanned { context, effect: format!("{effect:?}") }
    }
}

/// Processes one message; see the module documentation.
pub fn process(store: &mut Store, env: &Env, mail: &IncomingMail, now: i64) -> Result<Processed, IntakeError> {
    let key = mail.intake_key();
    let (id, attempts) = match store.write(|tx| store::intake::begin(tx, &record_of(mail, &key, now)))? {
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
        return quarantine(store, env, id, mail, &reason, now);
    }
    let read = match read_message(store, env, mail, now) {
        Ok(Reading::Read(read)) => *read,
        Ok(Reading::Bad(reason)) => return quarantine(store, env, id, mail, &reason, now),
        Err(e) => return Err(undo_attempts(store, &[id], e)),
    };
    match store.write(|tx| handle_in(tx, env, id, mail, read, now)) {
        Ok(processed) => Ok(processed),
        // The commit itself failed for a reason that is the message's (none is known; kept for safety).
        Err(e) if !e.is_transient() => quarantine(store, env, id, mail, &e.to_string(), now),
        Err(e) => Err(undo_attempts(store, &[id], e)),
    }
}

pub(crate) use staff::{digest_if_due, unsendable_notice};

/// Makes tickets of the reports the hourly cap held ([`IntakeStatus::Held`]), oldest first, as long as the
/// cap allows: each is decided again as if it had just arrived (so it may now join a ticket, or be a
/// duplicate), at `now`. Returns how many were released. Called on every pass of the timers, by the daemon
/// and by `vdpd once`.
pub fn release_held(store: &mut Store, env: &Env, now: i64) -> Result<usize, IntakeError> {
    let mut released = 0;
    let cap = env.config.limits.new_tickets_per_hour;
    while !store::tickets::opened_at_least_since(store.conn(), cap, now - 3_600_000)? {
        let Some(id) = store::intake::oldest_held(store.conn())? else { break };
        let Some((row, Some(raw))) = store::intake::get(store.conn(), id)? else { break };
        if !store.write(|tx| store::intake::requeue(tx, id))? {
            break;
        }
        let source = match (row.mailbox.clone(), row.uidvalidity, row.uid) {
            (Some(mailbox), Some(v), Some(uid)) => Source::Imap {
                mailbox,
                uidvalidity: u32::try_from(v).unwrap_or_default(),
                uid: u32::try_from(uid).unwrap_or_default(),
            },
            _ => Source::Ingest,
        };
        let size = usize::try_from(row.size).unwrap_or(raw.len());
        let mail = IncomingMail { source, raw, size, truncated: row.truncated, admitted: false };
        // Its ticket is received when the report arrived (the intake row's time), not when its turn came: its
        // promises run from then, and a flood that delays acknowledgements past the policy's promise shows as
        // the broken promise it is.
        let processed = process(store, env, &mail, now)?;
        tracing::info!(
            intake_id = id,
            "message {id}, held by the hourly cap, released: {}{}",
            processed.status,
            processed.reference.as_deref().map(|r| format!(" {r}")).unwrap_or_default()
        );
        if processed.status == IntakeStatus::Held {
            break;
        }
        released += 1;
    }
    Ok(released)
}

/// At most this many messages are processed in one transaction by [`process_batch`].
///
/// A commit writes every page the transaction changed to the write-ahead log, and consecutive reports change
/// mostly the same pages (the newest leaf of each table and index): one commit for a group of messages writes
/// far fewer pages than one each, and checkpoints copy fewer back. Sixteen keeps the write lock for tens of
/// milliseconds at most, and the acknowledgement of the first report in a group waits for the last.
const GROUP_MESSAGES: usize = 16;
/// A message larger than this is processed in a transaction of its own: reading it is done before the
/// group's transaction opens, but its writes (the raw copy, its files) would lengthen the group's commit.
const GROUP_MESSAGE_BYTES: usize = 256 << 10;
/// What the messages of one group may hold in memory once read (their text and files, decrypted): a group's
/// messages are all read before its transaction opens, and a small encrypted message may decompress to many
/// times its size. Reaching it ends the group; the messages begun for it but not read are taken later.
const GROUP_READ_BYTES: usize = if cfg!(test) { 64 << 10 } else { 16 << 20 };

/// Processes fetched messages in order, consecutive ones that are new to the store in groups sharing one
/// transaction (group commit; see [`GROUP_MESSAGES`]); `done(i, processed)` is called for `mails[i]` once its
/// outcome is committed. Stops before the next group when `stop()` says so, or at the first failure of the
/// store that will pass, which is returned (what was committed before it stays committed).
///
/// Each message still does exactly what [`process`] does, in the same order, and sees what the messages
/// before it wrote:
/// - its writes are in a savepoint of their own, so one message's failure undoes only its writes (and it is
///   quarantined, in the same transaction);
/// - every message of a group was new to the store, its first attempt committed before the group's
///   transaction opens. A process that dies inside a group leaves all of them `pending` with one attempt;
///   the next process finds them known and takes each alone ([`process`]), so a poison message's attempts
///   never count against the messages it was grouped with;
/// - a group never holds two messages from one sender: a signature is verified with the sender's
///   certificate as the store holds it when the message is read — before the group's transaction — and an
///   earlier message of the same group may be what teaches the store that certificate.
pub fn process_batch(
    store: &mut Store,
    env: &Env,
    mails: &[IncomingMail],
    now: &dyn Fn() -> i64,
    stop: &dyn Fn() -> bool,
    done: &mut dyn FnMut(usize, &Processed),
) -> Result<(), IntakeError> {
    let mut i = 0;
    while i < mails.len() && !stop() {
        let group = group_at(&mails[i..]);
        let t = now();
        let ids = if group > 1 {
            let keys: Vec<String> = mails[i..i + group].iter().map(IncomingMail::intake_key).collect();
            store.write(|tx| {
                let mut ids = Vec::with_capacity(group);
                for (mail, key) in mails[i..i + group].iter().zip(&keys) {
                    match store::intake::begin_new(tx, &record_of(mail, key, t))? {
                        Some(id) => ids.push(id),
                        None => break,
                    }
                }
                Ok::<_, StoreError>(ids)
            })?
        } else {
            Vec::new()
        };
        if ids.len() < 2 {
            // One message, or one the store knows already: alone, as `process` does it (a single fresh one
            // just begun gives its attempt back, for `process` to count).
            if let [id] = ids[..] {
                store.write(|tx| store::intake::undo_attempt(tx, id))?;
            }
            let processed = process(store, env, &mails[i], t)?;
            done(i, &processed);
            i += 1;
            continue;
        }
        let mut readings = Vec::with_capacity(ids.len());
        let mut failure = None;
        let mut held = 0;
        for mail in &mails[i..i + ids.len()] {
            if held >= GROUP_READ_BYTES {
                break;
            }
            match read_message(store, env, mail, t) {
                Ok(reading) => {
                    held += reading.size();
                    readings.push(reading);
                }
                Err(e) => {
                    failure = Some(e);
                    break;
                }
            }
        }
        // Over the memory budget: the rest of the group gives its attempts back and is taken next.
        let over_budget = failure.is_none() && readings.len() < ids.len();
        if over_budget {
            store.write(|tx| ids[readings.len()..].iter().try_for_each(|&id| store::intake::undo_attempt(tx, id)))?;
        }
        let group_ids = &ids[..readings.len()];
        // What a failure below leaves begun and unfinished.
        let begun = if over_budget { group_ids.len() } else { ids.len() };
        let result = store.write(|tx| {
            let mut out = Vec::with_capacity(readings.len());
            for ((reading, mail), &id) in readings.into_iter().zip(&mails[i..]).zip(group_ids) {
                let processed = match reading {
                    Reading::Read(read) => match handle_in(tx, env, id, mail, *read, t) {
                        Ok(p) => p,
                        Err(e) => return Ok((out, Some(e))),
                    },
                    Reading::Bad(reason) => quarantine_in(tx, env, id, mail, &reason, t)?,
                };
                out.push(processed);
            }
            Ok::<_, StoreError>((out, None))
        });
        let (out, error) = match result {
            Ok(r) => r,
            Err(e) => return Err(undo_attempts(store, &ids[..begun], e)),
        };
        for (k, processed) in out.iter().enumerate() {
            done(i + k, processed);
        }
        if let Some(e) = error.or(failure) {
            return Err(undo_attempts(store, &ids[out.len()..begun], e));
        }
        i += out.len();
    }
    Ok(())
}

/// How many of `mails` (at least one) form the next group: fresh messages are checked by the caller.
fn group_at(mails: &[IncomingMail]) -> usize {
    let mut senders: Vec<Option<String>> = Vec::new();
    let mut n = 0;
    for mail in mails.iter().take(GROUP_MESSAGES) {
        if mail.raw.len() > GROUP_MESSAGE_BYTES {
            break;
        }
        let sender = sender_of(&mail.raw);
        if sender.is_some() && senders.contains(&sender) {
            break;
        }
        senders.push(sender);
        n += 1;
    }
    n.max(1)
}

/// Gives back the attempts of messages whose processing a failure of the store interrupted (best effort:
/// with a full disk this may fail too), so that only crashes count towards quarantine; returns the failure.
fn undo_attempts(store: &mut Store, ids: &[i64], e: StoreError) -> IntakeError {
    let _ = store.write(|tx| ids.iter().try_for_each(|&id| store::intake::undo_attempt(tx, id)));
    e.into()
}

fn record_of<'a>(mail: &'a IncomingMail, key: &'a str, now: i64) -> store::intake::IntakeRecord<'a> {
    let (mailbox, uidvalidity, uid, source) = match &mail.source {
        Source::Imap { mailbox, uidvalidity, uid } => (Some(mailbox.as_str()), Some(*uidvalidity), Some(*uid), "imap"),
        Source::Ingest => (None, None, None, "ingest"),
    };
    store::intake::IntakeRecord {
        key,
        source,
        mailbox,
        uidvalidity,
        uid,
        size: mail.size,
        raw: &mail.raw,
        truncated: mail.truncated,
        fetched_at: now,
    }
}

/// A message read outside any transaction.
enum Reading {
    Read(Box<classify::Read>),
    /// The message itself is at fault (its sender's stored certificate unreadable, a parser's panic):
    /// quarantined with this reason.
    Bad(String),
}

impl Reading {
    /// The bytes it holds: the text and files of the message as read (decrypted).
    fn size(&self) -> usize {
        match self {
            Reading::Read(read) => read.verdict.as_ref().map_or(0, |m| {
                m.body.text.len() + m.outside.text.len() + m.all_attachments().map(|a| a.data.len()).sum::<usize>()
            }),
            Reading::Bad(reason) => reason.len(),
        }
    }
}

/// Classifies a message (parse, decrypt, verify) outside any transaction, so that reading a huge message
/// never holds the write lock. A store error is returned only when it will pass.
fn read_message(store: &Store, env: &Env, mail: &IncomingMail, now: i64) -> Result<Reading, StoreError> {
    let config = &env.config;
    let (certs, held_addresses) = match verification_certs(store, env, &mail.raw) {
        Ok(c) => c,
        Err(e) if e.is_transient() => return Err(e),
        Err(e) => return Ok(Reading::Bad(e.to_string())),
    };
    let keyring = classify::Keyring {
        org: env.keys.org.as_ref(),
        certs: &certs,
        held_addresses: &held_addresses,
        limits: env.decrypt_limits(),
        now: system_time(now),
    };
    let read = std::panic::catch_unwind(AssertUnwindSafe(|| {
        classify::read(&mail.raw, mail.size, mail.truncated, &config.limits, &config.organisation, &keyring)
    }));
    Ok(match read {
        Ok(read) => Reading::Read(Box::new(read)),
        Err(panic) => Reading::Bad(internal_error(&panic)),
    })
}

/// Carries a read message out inside `tx`, in a savepoint: when it fails (a render error, a panic, a store
/// error that is the message's) its writes are undone and it is quarantined instead, in the same
/// transaction. A store error that will pass is returned, with the message's writes undone.
fn handle_in(
    tx: &apply::Tx<'_>,
    env: &Env,
    id: i64,
    mail: &IncomingMail,
    read: classify::Read,
    now: i64,
) -> Result<Processed, StoreError> {
    tx.execute_batch("SAVEPOINT intake_message")?;
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| apply::handle(tx, env, id, read, mail.admitted, now)));
    let reason = match outcome {
        Ok(Ok(processed)) => {
            tx.execute_batch("RELEASE intake_message")?;
            return Ok(processed);
        }
        Ok(Err(HandleError::Store(e))) if e.is_transient() => {
            // SQLite may have rolled the whole transaction back itself (a full disk): then there is no
            // savepoint left to return to, and the caller's commit fails too.
            let _ = tx.execute_batch("ROLLBACK TO intake_message; RELEASE intake_message");
            return Err(e);
        }
        Ok(Err(e)) => e.to_string(),
        Err(panic) => {
            let what = internal_error(&panic);
            tracing::error!(intake_id = id, "{what} (message {id})");
            what
        }
    };
    tx.execute_batch("ROLLBACK TO intake_message; RELEASE intake_message")?;
    quarantine_in(tx, env, id, mail, &reason, now)
}

fn internal_error(panic: &Box<dyn std::any::Any + Send>) -> String {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    format!("internal error while processing: {what}")
}

/// Records a message as quarantined with `reason`, keeping whatever of its header can be read.
fn quarantine(
    store: &mut Store,
    env: &Env,
    id: i64,
    mail: &IncomingMail,
    reason: &str,
    now: i64,
) -> Result<Processed, IntakeError> {
    Ok(store.write(|tx| quarantine_in(tx, env, id, mail, reason, now))?)
}

/// [`quarantine`] inside `tx`. Staff hear of it; a failure to tell them (in a savepoint of its own) never
/// undoes the record of the quarantine.
fn quarantine_in(
    tx: &apply::Tx<'_>,
    env: &Env,
    id: i64,
    mail: &IncomingMail,
    reason: &str,
    now: i64,
) -> Result<Processed, StoreError> {
    // Reading the summary may be what failed; never let it fail twice.
    let limits = &env.config.limits;
    let summary = std::panic::catch_unwind(|| classify::summary_of_headers(&mail.raw, limits)).unwrap_or_default();
    tracing::warn!(intake_id = id, "message {id} quarantined: {reason}");
    store::intake::finish(
        tx,
        id,
        &store::intake::IntakeFinal {
            status: IntakeStatus::Quarantined,
            reason,
            message_id: None,
            dedup_key: None,
            from_addr: &summary.from,
            subject: &summary.subject,
            ticket_id: None,
            processed_at: now,
        },
    )?;
    tx.execute_batch("SAVEPOINT quarantine_notice")?;
    let notice = staff::quarantine_notice(tx, env, id, &summary.from, &summary.subject, reason, now);
    match &notice {
        Ok(_) => tx.execute_batch("RELEASE quarantine_notice")?,
        Err(e) => {
            tracing::error!(intake_id = id, "could not tell staff about quarantined message {id}: {e}");
            tx.execute_batch("ROLLBACK TO quarantine_notice; RELEASE quarantine_notice")?;
        }
    }
    Ok(Processed {
        intake_id: id,
        status: IntakeStatus::Quarantined,
        reference: None,
        reason: reason.into(),
        already: false,
        enqueued: notice.is_ok(),
    })
}

/// The sender's address as the header names it (normalised), if it can be read: whose stored certificate
/// may verify the message.
fn sender_of(raw: &[u8]) -> Option<String> {
    std::panic::catch_unwind(|| {
        mail_parser::MessageParser::default()
            .parse_headers(raw)
            .and_then(|m| m.from().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_string))
    })
    .ok()
    .flatten()
    .and_then(|a| crate::mailtext::normalize_address(&a))
}

/// The certificates that may verify this message's signature (the sender's known one and the staff's), and
/// the addresses they stand for: a certificate the mail itself offers for one of those never verifies it.
fn verification_certs(
    store: &Store,
    env: &Env,
    raw: &[u8],
) -> Result<(Vec<crate::openpgp::Cert>, Vec<String>), StoreError> {
    let mut certs: Vec<crate::openpgp::Cert> = env.keys.staff_certs().cloned().collect();
    let mut held: Vec<String> = env.keys.staff.iter().filter(|s| s.cert.is_some()).map(|s| s.address.clone()).collect();
    if let Some(sender) = sender_of(raw)
        && let Some((_, bytes)) = store::openpgp::cert_of(store.conn(), &sender)?
        && let Some(cert) = classify::pgp::cert_from_bytes(&bytes)
    {
        certs.push(cert);
        held.push(sender);
    }
    // Every address a held certificate names, and our own, count as held identities too.
    held.extend(certs.iter().flat_map(crate::openpgp::addresses));
    held.push(env.config.organisation.security_address.clone());
    held.sort();
    held.dedup();
    Ok((certs, held))
}

/// A store timestamp as the `SystemTime` OpenPGP wants (so that `--now` governs signature checks too).
pub(crate) fn system_time(ms: i64) -> std::time::SystemTime {
    std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}

#[cfg(test)]
mod tests;

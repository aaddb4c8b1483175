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

mod apply;
pub mod clocks;
pub mod dry_run;
mod keys;
mod outgoing;
mod retention;
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
}

/// Processes one message; see the module documentation.
pub fn process(store: &mut Store, env: &Env, mail: &IncomingMail, now: i64) -> Result<Processed, IntakeError> {
    let key = mail.intake_key();
    let (mailbox, uidvalidity, uid, source) = match &mail.source {
        Source::Imap { mailbox, uidvalidity, uid } => (Some(mailbox.as_str()), Some(*uidvalidity), Some(*uid), "imap"),
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
        return quarantine(store, env, id, mail, &reason, now);
    }

    // Parse outside the transaction: a 20 MB message must not hold the write lock while it is read.
    let config = &env.config;
    let (certs, held_addresses) = match verification_certs(store, env, &mail.raw) {
        Ok(c) => c,
        Err(e) if e.is_transient() => {
            let _ = store.write(|tx| store::intake::undo_attempt(tx, id));
            return Err(e.into());
        }
        Err(e) => return quarantine(store, env, id, mail, &e.to_string(), now),
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
    let outcome = match read {
        Ok(read) => std::panic::catch_unwind(AssertUnwindSafe(|| {
            store.write(|tx| apply::handle(tx, env, id, read, mail.admitted, now))
        })),
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
        Ok(Err(e)) => quarantine(store, env, id, mail, &format!("{e}"), now),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            tracing::error!(intake_id = id, "internal error while processing message {id}, quarantined: {what}");
            quarantine(store, env, id, mail, &format!("internal error while processing: {what}"), now)
        }
    }
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
    // Reading the summary may be what failed; never let it fail twice.
    let limits = &env.config.limits;
    let summary = std::panic::catch_unwind(|| classify::summary_of_headers(&mail.raw, limits)).unwrap_or_default();
    tracing::warn!(intake_id = id, "message {id} quarantined: {reason}");
    store.write(|tx| {
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
        )
    })?;
    // Staff hear of it; a failure to tell them must not undo the record of the quarantine.
    let notice = store.write(|tx| staff::quarantine_notice(tx, env, id, &summary.from, &summary.subject, reason, now));
    if let Err(e) = &notice {
        tracing::error!(intake_id = id, "could not tell staff about quarantined message {id}: {e}");
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

/// The certificates that may verify this message's signature (the sender's known one and the staff's), and
/// the addresses they stand for: a certificate the mail itself offers for one of those never verifies it.
fn verification_certs(
    store: &Store,
    env: &Env,
    raw: &[u8],
) -> Result<(Vec<crate::openpgp::Cert>, Vec<String>), StoreError> {
    let mut certs: Vec<crate::openpgp::Cert> = env.keys.staff_certs().cloned().collect();
    let mut held: Vec<String> = env.keys.staff.iter().filter(|s| s.cert.is_some()).map(|s| s.address.clone()).collect();
    let sender = std::panic::catch_unwind(|| {
        mail_parser::MessageParser::default()
            .parse_headers(raw)
            .and_then(|m| m.from().and_then(|a| a.first()).and_then(|a| a.address()).map(str::to_string))
    })
    .ok()
    .flatten()
    .and_then(|a| crate::mailtext::normalize_address(&a));
    if let Some(sender) = sender
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

//! One fetch pass over the security mailbox.
//!
//! The cursor is `(mailbox, UIDVALIDITY, last UID)` in the store, advanced in the same transaction that
//! records each message's outcome. A pass: SELECT; if UIDVALIDITY changed, start over from UID 1 (dedup by
//! Message-ID keeps that from making tickets twice); finish any server work a crash left undone; then fetch
//! what is new in batches, process each message, make the batch durable, and only then flag or move it on the
//! server.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::TryStreamExt;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{Caps, ImapError, Mailboxes, Session, quote, refused, timed, uid_sets};
use crate::clock::Clock;
use crate::config::ImapConfig;
use crate::heartbeat::Heartbeat;
use crate::intake::{self, IncomingMail, SharedEnv, Source};
use crate::store::{Db, IntakeStatus, intake as intake_sql};

/// Messages fetched per `UID FETCH BODY.PEEK[]` command.
const BATCH_MESSAGES: usize = 64;
/// Bytes fetched per command (a single larger message is fetched alone). Two batches are in memory at once
/// (one processed, the next downloaded).
const BATCH_BYTES: u64 = 16 * 1024 * 1024;
/// UIDs per STORE/MOVE command.
const UIDS_PER_COMMAND: usize = 500;

/// What a pass needs from the daemon.
#[derive(Debug, Clone)]
pub struct SyncContext {
    pub db: Db,
    /// The policy, templates and keys, read afresh per message (a SIGHUP may replace them).
    pub env: SharedEnv,
    pub clock: Clock,
    pub cancel: CancellationToken,
    pub heartbeat: Heartbeat,
    /// Woken when processing enqueued mail.
    pub outbox_wake: Arc<Notify>,
    /// Woken after each message: it may have planned timers sooner than the one the timer loop sleeps for.
    pub timer_wake: Arc<Notify>,
}

/// What a pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SyncReport {
    pub fetched: usize,
    pub tickets: usize,
    pub correspondence: usize,
    pub dropped: usize,
    /// Answered without a ticket (key requests).
    pub answered: usize,
    pub duplicates: usize,
    pub quarantined: usize,
    /// New reports the hourly cap held (they become tickets in their turn).
    pub held: usize,
    /// UIDVALIDITY changed since the last pass: the mailbox was rescanned.
    pub rescanned: bool,
}

impl SyncReport {
    fn count(&mut self, status: IntakeStatus) {
        match status {
            IntakeStatus::Ticket => self.tickets += 1,
            IntakeStatus::Correspondence => self.correspondence += 1,
            IntakeStatus::Dropped => self.dropped += 1,
            IntakeStatus::Answered => self.answered += 1,
            IntakeStatus::Duplicate => self.duplicates += 1,
            IntakeStatus::Quarantined => self.quarantined += 1,
            IntakeStatus::Held => self.held += 1,
            IntakeStatus::Pending => {}
        }
    }
}

/// Checks that the mailbox can be selected and that the processed mailbox exists (creating it if it does
/// not): a server that refuses either is a configuration error in its own words, found at connection time
/// rather than after the first message is processed. Returns what `vdpd check --connect` shows.
pub async fn prepare(session: &mut Session, cfg: &ImapConfig, names: &Mailboxes) -> Result<String, ImapError> {
    let t = cfg.timeout;
    let selected = timed(t, "SELECT", session.select(&names.inbox)).await.map_err(|e| {
        refused(e, || {
            format!("[imap] mailbox = {:?} (on the server {:?}) cannot be selected", cfg.mailbox, names.inbox)
        })
    })?;
    let mut shown = format!("mailbox {:?} holds {} message(s)", names.inbox, selected.exists);
    if let (Some(configured), Some(dest)) = (&cfg.processed_mailbox, &names.processed) {
        let existing = {
            let found = timed(t, "LIST", session.list(Some(""), Some(&quote(dest)))).await?;
            timed(t, "LIST", found.try_collect::<Vec<_>>()).await?
        };
        if existing.iter().all(|n| n.name() != dest) {
            timed(t, "CREATE", session.create(dest)).await.map_err(|e| {
                refused(e, || {
                    format!("[imap] processed_mailbox = {configured:?} (on the server {dest:?}) cannot be created")
                })
            })?;
            tracing::info!(mailbox = %dest, "created the processed mailbox {dest}");
            shown.push_str(&format!("; created {dest:?}"));
        } else {
            shown.push_str(&format!("; handled mail moves to {dest:?}"));
        }
    }
    Ok(shown)
}

/// Fetches and processes everything new; returns when the mailbox has nothing more (or on shutdown).
pub async fn sync(
    session: &mut Session,
    caps: Caps,
    cfg: &ImapConfig,
    names: &Mailboxes,
    ctx: &SyncContext,
) -> Result<SyncReport, ImapError> {
    let t = cfg.timeout;
    let mut report = SyncReport::default();
    let selected = timed(t, "SELECT", session.select(&names.inbox))
        .await
        .map_err(|e| refused(e, || format!("[imap] mailbox = {:?} cannot be selected", cfg.mailbox)))?;
    tracing::debug!(mailbox = %cfg.mailbox, "selected");
    let uidvalidity = selected
        .uid_validity
        .ok_or_else(|| ImapError::Server(format!("SELECT {} returned no UIDVALIDITY", cfg.mailbox)))?;

    let mailbox = cfg.mailbox.clone();
    let now = ctx.clock.now_ms();
    let (mut last_uid, rescanned, pending) = ctx
        .db
        .call(move |s| {
            let cursor = intake_sql::cursor(s.conn(), &mailbox)?;
            let (last_uid, rescanned) = match cursor {
                Some(c) if c.uidvalidity == uidvalidity => (c.last_uid, false),
                other => {
                    if let Some(old) = other {
                        tracing::warn!(mailbox = %mailbox,
                            "UIDVALIDITY of {mailbox} changed from {} to {uidvalidity}: rescanning the whole mailbox (duplicates are recognised)",
                            old.uidvalidity);
                    }
                    s.write(|tx| {
                        intake_sql::reset_cursor(tx, &mailbox, uidvalidity, now)?;
                        intake_sql::abandon_server_pending(tx, &mailbox, uidvalidity)
                    })?;
                    (0, other.is_some())
                }
            };
            let pending = intake_sql::server_pending(s.conn(), &mailbox, uidvalidity)?;
            Ok::<_, crate::store::StoreError>((last_uid, rescanned, pending))
        })
        .await?;
    report.rescanned = rescanned;
    if !pending.is_empty() {
        // A previous run committed these but died before flagging or moving them.
        finish_on_server(session, caps, cfg, names, ctx, uidvalidity, pending).await?;
    }

    // How far the listing has looked; a message that vanished before its body could be fetched is not listed
    // again in this pass (the cursor stays below it, so a later pass tries once more if it still exists).
    let mut listed_up_to = last_uid;
    while !ctx.cancel.is_cancelled() {
        let new = list_new(session, t, listed_up_to.max(last_uid)).await?;
        if new.is_empty() {
            break;
        }
        listed_up_to = new.last().map_or(listed_up_to, |&(uid, _)| uid);
        let batches = batches(&new, cfg_max(ctx));
        // A pipeline: while batch k is processed (the store's thread), the session moves batch k-1 (already
        // durable) and downloads batch k+1. The server round trips then cost no time of their own; at most two
        // batches' bodies are in memory.
        let mut bodies = Some(fetch_bodies(session, t, &batches[0], cfg_max(ctx)).await?);
        let mut finish: Option<Vec<u32>> = None;
        for (k, batch) in batches.iter().enumerate() {
            let current = bodies.take().unwrap_or_default();
            let work = process_batch(ctx, cfg, uidvalidity, batch, current, &mut report, &mut last_uid);
            let io = async {
                if let Some(done) = finish.take() {
                    finish_on_server(session, caps, cfg, names, ctx, uidvalidity, done).await?;
                }
                match batches.get(k + 1) {
                    Some(next) if !ctx.cancel.is_cancelled() => {
                        fetch_bodies(session, t, next, cfg_max(ctx)).await.map(Some)
                    }
                    _ => Ok(None),
                }
            };
            let (done, next) = tokio::join!(work, io);
            let done = done?;
            bodies = next?;
            if !done.is_empty() {
                let now = ctx.clock.now_ms();
                ctx.db.call(move |s| s.durable_barrier(now)).await?;
                finish = Some(done);
            }
            if ctx.cancel.is_cancelled() {
                break;
            }
        }
        if let Some(done) = finish.take() {
            finish_on_server(session, caps, cfg, names, ctx, uidvalidity, done).await?;
        }
        // Mail that arrived while this batch was processed is announced in responses async-imap keeps to
        // itself; so look again until nothing is new.
    }
    Ok(report)
}

/// Processes one downloaded batch in UID order; returns the UIDs whose outcome is committed.
///
/// The whole batch runs in one visit to the store's thread (a hand-over per message cost more than some
/// messages take). Shutdown is checked between messages; an error stops the batch after what is committed.
async fn process_batch(
    ctx: &SyncContext,
    cfg: &ImapConfig,
    uidvalidity: u32,
    batch: &[(u32, u32)],
    mut bodies: HashMap<u32, (Vec<u8>, bool)>,
    report: &mut SyncReport,
    last_uid: &mut u32,
) -> Result<Vec<u32>, ImapError> {
    tracing::debug!(messages = bodies.len(), "fetched");
    let mails: Vec<(u32, IncomingMail)> = batch
        .iter()
        .filter_map(|&(uid, size)| {
            // Expunged between the two FETCH commands: nothing to do.
            let (raw, truncated) = bodies.remove(&uid)?;
            let source = Source::Imap { mailbox: cfg.mailbox.clone(), uidvalidity, uid };
            Some((uid, IncomingMail { source, size: (size as usize).max(raw.len()), raw, truncated, admitted: false }))
        })
        .collect();
    let env = ctx.env.current();
    let (cancel, clock, heartbeat) = (ctx.cancel.clone(), ctx.clock, ctx.heartbeat.clone());
    let (outbox_wake, timer_wake) = (ctx.outbox_wake.clone(), ctx.timer_wake.clone());
    let (outcomes, error) = ctx
        .db
        .call(move |s| {
            let (uids, mails): (Vec<u32>, Vec<IncomingMail>) = mails.into_iter().unzip();
            let mut outcomes = Vec::with_capacity(mails.len());
            let result = intake::process_batch(
                s,
                &env,
                &mails,
                &|| clock.now_ms(),
                &|| cancel.is_cancelled(),
                &mut |i, processed| {
                    if processed.enqueued {
                        outbox_wake.notify_one();
                    }
                    if processed.reference.is_some() {
                        timer_wake.notify_one();
                    }
                    heartbeat.beat();
                    outcomes.push((uids[i], processed.status));
                },
            );
            (outcomes, result.err())
        })
        .await;
    let mut done = Vec::with_capacity(outcomes.len());
    for (uid, status) in outcomes {
        report.fetched += 1;
        report.count(status);
        done.push(uid);
        *last_uid = (*last_uid).max(uid);
    }
    match error {
        // What was committed before the error is finished on the server by the next pass (it is pending).
        Some(e) => Err(e.into()),
        None => Ok(done),
    }
}

fn cfg_max(ctx: &SyncContext) -> u64 {
    ctx.env.current().config.limits.max_message_bytes as u64
}

/// UIDs above `last_uid` with their sizes, ascending.
async fn list_new(session: &mut Session, t: Duration, last_uid: u32) -> Result<Vec<(u32, u32)>, ImapError> {
    let set = format!("{}:*", last_uid.saturating_add(1));
    // Each response async-imap hands out owns a whole read buffer (4 KiB at least): keep the two numbers and
    // drop the response at once, or a 10,000-message backlog holds tens of megabytes of buffers here.
    let collect = async {
        let mut stream = session.uid_fetch(&set, "(UID RFC822.SIZE)").await?;
        let mut new = Vec::new();
        while let Some(f) = stream.try_next().await? {
            // `n:*` always returns the highest message, even when its UID is below n: filter.
            if let Some(uid) = f.uid.filter(|&uid| uid > last_uid) {
                new.push((uid, f.size.unwrap_or(0)));
            }
        }
        Ok::<_, async_imap::error::Error>(new)
    };
    let mut new = timed(t, "UID FETCH", collect).await?;
    new.sort_unstable();
    new.dedup_by_key(|(uid, _)| *uid);
    Ok(new)
}

/// Groups messages into fetch batches bounded in count and bytes.
fn batches(new: &[(u32, u32)], max_message: u64) -> Vec<Vec<(u32, u32)>> {
    let mut out: Vec<Vec<(u32, u32)>> = Vec::new();
    let mut bytes = 0u64;
    for &(uid, size) in new {
        let cost = u64::from(size).min(max_message);
        let full =
            out.last().is_none_or(|b| b.len() >= BATCH_MESSAGES || (bytes + cost > BATCH_BYTES && !b.is_empty()));
        if full {
            out.push(Vec::new());
            bytes = 0;
        }
        out.last_mut().expect("pushed above").push((uid, size));
        bytes += cost;
    }
    out
}

/// Downloads a batch: whole messages within the size limit, only the header of larger ones.
async fn fetch_bodies(
    session: &mut Session,
    t: Duration,
    batch: &[(u32, u32)],
    max_message: u64,
) -> Result<HashMap<u32, (Vec<u8>, bool)>, ImapError> {
    let (small, big): (Vec<_>, Vec<_>) = batch.iter().partition(|&&(_, size)| u64::from(size) <= max_message);
    let mut out = HashMap::with_capacity(batch.len());
    for (uids, query, truncated) in [(small, "(UID BODY.PEEK[])", false), (big, "(UID BODY.PEEK[HEADER])", true)] {
        let uids: Vec<u32> = uids.iter().map(|&&(uid, _)| uid).collect();
        for set in uid_sets(&uids, UIDS_PER_COMMAND) {
            // Copy each body out and drop its response (and the read buffer it owns) before the next arrives.
            let collect = async {
                let mut stream = session.uid_fetch(&set, query).await?;
                while let Some(f) = stream.try_next().await? {
                    let Some(uid) = f.uid else { continue };
                    if !uids.contains(&uid) {
                        continue;
                    }
                    let bytes = if truncated { f.header() } else { f.body() };
                    if let Some(bytes) = bytes {
                        out.insert(uid, (bytes.to_vec(), truncated));
                    }
                }
                Ok::<_, async_imap::error::Error>(())
            };
            // Large transfers get more time than the base timeout.
            timed(t * 4, "UID FETCH (bodies)", collect).await?;
        }
    }
    Ok(out)
}

/// Flags or moves committed messages on the server, then records that it is done.
async fn finish_on_server(
    session: &mut Session,
    caps: Caps,
    cfg: &ImapConfig,
    names: &Mailboxes,
    ctx: &SyncContext,
    uidvalidity: u32,
    uids: Vec<u32>,
) -> Result<(), ImapError> {
    let t = cfg.timeout;
    for set in uid_sets(&uids, UIDS_PER_COMMAND) {
        fn into(dest: &str) -> impl FnOnce(ImapError) -> ImapError + '_ {
            move |e| refused(e, || format!("moving handled mail into {dest:?}"))
        }
        match &names.processed {
            Some(dest) if caps.r#move => timed(t, "UID MOVE", session.uid_mv(&set, dest)).await.map_err(into(dest))?,
            // Without MOVE: COPY, then \Deleted and UID EXPUNGE of exactly these messages (UIDPLUS).
            Some(dest) if caps.uidplus => {
                timed(t, "UID COPY", session.uid_copy(&set, dest)).await.map_err(into(dest))?;
                let s = timed(t, "UID STORE", session.uid_store(&set, "+FLAGS.SILENT (\\Seen \\Deleted)")).await?;
                timed(t, "UID STORE", s.try_collect::<Vec<_>>()).await?;
                let s = timed(t, "UID EXPUNGE", session.uid_expunge(&set)).await?;
                timed(t, "UID EXPUNGE", s.try_collect::<Vec<_>>()).await?;
            }
            // Neither: a plain EXPUNGE would also remove whatever else someone marked \Deleted in the mailbox,
            // so handled mail is copied and flagged, and stays (see the warning at connection time).
            Some(dest) => {
                timed(t, "UID COPY", session.uid_copy(&set, dest)).await.map_err(into(dest))?;
                let s = timed(t, "UID STORE", session.uid_store(&set, "+FLAGS.SILENT (\\Seen)")).await?;
                timed(t, "UID STORE", s.try_collect::<Vec<_>>()).await?;
            }
            None => {
                let s = timed(t, "UID STORE", session.uid_store(&set, "+FLAGS.SILENT (\\Seen)")).await?;
                timed(t, "UID STORE", s.try_collect::<Vec<_>>()).await?;
            }
        }
    }
    let mailbox = cfg.mailbox.clone();
    ctx.db.call(move |s| s.write(|tx| intake_sql::mark_server_done(tx, &mailbox, uidvalidity, &uids))).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_count_and_bytes() {
        let many: Vec<(u32, u32)> = (1..=130).map(|u| (u, 1000)).collect();
        let b = batches(&many, 25 << 20);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![64, 64, 2]);
        let big: Vec<(u32, u32)> = vec![(1, 10 << 20), (2, 10 << 20), (3, 1000)];
        let b = batches(&big, 25 << 20);
        assert_eq!(b.iter().map(Vec::len).collect::<Vec<_>>(), vec![1, 2]);
        // An oversized message costs only its header: it does not get a batch of its own.
        let huge: Vec<(u32, u32)> = vec![(1, 900 << 20), (2, 1000)];
        assert_eq!(batches(&huge, 1 << 20).len(), 1);
    }
}

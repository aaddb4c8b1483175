//! Delivering the outbox by SMTP.
//!
//! Mail reaches the outbox only through the store, in the transaction of the change that causes it; this
//! module only moves committed rows to the SMTP server. Each attempt is counted before it is made (so a crash
//! mid-send is visible), results are classed as sent / transient / permanent, and transient failures are
//! retried with exponential backoff and jitter until `smtp.give_up_after`. An SMTP outage delays mail; it
//! never loses it.
//!
//! At most `smtp.concurrency` rows are `sending` at any time, which bounds how many mails a crash can cause
//! to go twice (see [`crate::store::outbox`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::clock::Clock;
use crate::config::{SmtpAuth, SmtpConfig};
use crate::lock::{self, FileLock};
use crate::store::outbox::{OutboxRow, SendResult};
use crate::store::{Db, StoreError};
use crate::timeline::{BY_VDPD, Event};

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("SMTP password: {0}")]
    Password(std::io::Error),
    #[error("SMTP TLS setup: {0}")]
    Tls(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("outbox lock: {0}")]
    Lock(#[from] lock::LockError),
}

/// How one attempt ended, before it is written down.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Attempt {
    Sent(String),
    /// The server answered 4xx.
    Transient(String),
    /// The server answered 5xx: retrying cannot help.
    Permanent(String),
    /// No answer at all (refused, TLS, timeout): the server is unreachable; stop trying others this pass.
    Connection(String),
}

/// The SMTP side: pooled connections (see [`crate::smtp`]) and how to log in.
#[derive(Clone)]
pub struct Mailer {
    config: SmtpConfig,
    client: Arc<crate::smtp::Client>,
    /// With `auth = "xoauth2"`: where access tokens come from.
    tokens: Option<Arc<crate::oauth2::TokenSource>>,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("host", &self.config.host).field("port", &self.config.port).finish()
    }
}

impl Mailer {
    /// Prepares the client. Does not connect, and reads no password: that happens per new connection, so
    /// that a command that delivers nothing (`ingest --no-deliver`) needs none, and a replaced password file
    /// is used without a restart. `tokens` is needed for `auth = "xoauth2"`.
    pub fn new(config: &SmtpConfig, tokens: Option<Arc<crate::oauth2::TokenSource>>) -> Result<Mailer, OutboxError> {
        let client = crate::smtp::Client::new(config).map_err(OutboxError::Tls)?;
        Ok(Mailer { config: config.clone(), client: Arc::new(client), tokens })
    }

    /// The login for a new connection: the password, or a fresh XOAUTH2 access token.
    async fn login(&self) -> Result<Option<crate::smtp::Login>, String> {
        match &self.config.auth {
            Some(SmtpAuth::XOAuth2 { username }) => {
                let tokens = self.tokens.as_ref().ok_or("auth = \"xoauth2\" but no [oauth2] token source")?;
                let token = tokens.token().await.map_err(|e| e.to_string())?;
                Ok(Some(crate::smtp::Login {
                    credentials: Credentials::new(username.clone(), token),
                    mechanisms: vec![Mechanism::Xoauth2],
                }))
            }
            Some(SmtpAuth::Password { username, password }) => {
                let source = password.clone();
                let secret = tokio::task::spawn_blocking(move || crate::config::read_password(&source))
                    .await
                    .map_err(|e| e.to_string())?
                    .map_err(|e| OutboxError::Password(e).to_string())?;
                Ok(Some(crate::smtp::Login {
                    credentials: Credentials::new(username.clone(), secret),
                    mechanisms: vec![Mechanism::Plain, Mechanism::Login],
                }))
            }
            None => Ok(None),
        }
    }

    /// Connects, greets and (if configured) logs in: what `vdpd check --connect` uses. Returns whether the
    /// server offers PIPELINING.
    pub async fn test_connection(&self) -> Result<bool, String> {
        let login = self.login().await?;
        self.client.test(login.as_ref()).await.map_err(|f| match f {
            crate::smtp::Failure::Connection(m)
            | crate::smtp::Failure::Transient(m)
            | crate::smtp::Failure::Permanent(m) => m,
        })
    }

    /// One SMTP transaction for rows holding the same message (a notification to several team members): one
    /// `MAIL FROM`, a `RCPT TO` per row, the bytes once — the server then queues one message instead of one
    /// per recipient. Each row gets its own recipient's result: a refused address fails only its row.
    pub async fn send_rows(&self, rows: &[OutboxRow]) -> Vec<Attempt> {
        let [first, ..] = rows else { return Vec::new() };
        let mut attempts: Vec<Option<Attempt>> = vec![None; rows.len()];
        let mut to = Vec::with_capacity(rows.len());
        let mut sent = Vec::with_capacity(rows.len());
        for (i, row) in rows.iter().enumerate() {
            match row.recipient.parse::<lettre::Address>() {
                Ok(a) => {
                    to.push(a);
                    sent.push(i);
                }
                Err(e) => {
                    attempts[i] = Some(Attempt::Permanent(format!("bad recipient address {}: {e}", row.recipient)))
                }
            }
        }
        if !to.is_empty() {
            let results = match first.envelope_from.parse::<lettre::Address>().map(|from| Envelope::new(Some(from), to))
            {
                Ok(Ok(envelope)) => self.send_to(&envelope, &first.raw).await,
                Ok(Err(e)) => vec![Attempt::Permanent(format!("bad envelope: {e}")); sent.len()],
                Err(e) => {
                    vec![Attempt::Permanent(format!("bad sender address {}: {e}", first.envelope_from)); sent.len()]
                }
            };
            for (i, attempt) in sent.into_iter().zip(results) {
                attempts[i] = Some(attempt);
            }
        }
        // The client answers for every recipient it was given; should it not, the row waits and is tried again.
        let unanswered = || Attempt::Connection("the SMTP client gave no result for this recipient".into());
        attempts.into_iter().map(|a| a.unwrap_or_else(unanswered)).collect()
    }

    async fn send_to(&self, envelope: &Envelope, raw: &[u8]) -> Vec<Attempt> {
        let n = envelope.to().len();
        let login = match self.login().await {
            Ok(l) => l,
            // No token: like an unreachable server, the mail waits and is retried.
            Err(e) => return vec![Attempt::Connection(e); n],
        };
        self.client
            .send(envelope, raw, login.as_ref())
            .await
            .into_iter()
            .map(|r| match r {
                Ok(response) => Attempt::Sent(response),
                Err(crate::smtp::Failure::Permanent(e)) => Attempt::Permanent(e),
                Err(crate::smtp::Failure::Transient(e)) => Attempt::Transient(e),
                Err(crate::smtp::Failure::Connection(e)) => Attempt::Connection(e),
            })
            .collect()
    }
}

/// Claimed rows in SMTP transactions: rows with the same sender and the same stored bytes (one message to
/// several team members) travel together, in the order claimed.
fn transactions(rows: Vec<OutboxRow>) -> Vec<Vec<OutboxRow>> {
    let mut out: Vec<Vec<OutboxRow>> = Vec::new();
    for row in rows {
        let together = |g: &&mut Vec<OutboxRow>| {
            g[0].envelope_from == row.envelope_from && row.body.is_some() && g[0].body == row.body
        };
        match out.iter_mut().find(together) {
            Some(group) => group.push(row),
            None => out.push(vec![row]),
        }
    }
    out
}

/// What one delivery pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct DeliveryReport {
    pub sent: usize,
    pub deferred: usize,
    pub failed: usize,
    /// The server could not be reached at least once.
    pub connection_failed: bool,
    /// Another process was delivering: this pass did nothing.
    pub skipped_busy: bool,
}

/// The delay before retry number `attempts` (1-based): `initial · 2^(attempts-1)`, capped, with ±20 % jitter
/// so that many deferred mails do not all hit a recovering server in the same second.
pub fn backoff(attempts: i64, initial: Duration, max: Duration, jitter_unit: f64) -> Duration {
    let exp = attempts.clamp(1, 32) - 1;
    let base = initial.saturating_mul(1u32 << exp.min(20)).min(max);
    base.mul_f64(0.8 + 0.4 * jitter_unit.clamp(0.0, 1.0))
}

fn jitter() -> f64 {
    let mut b = [0u8; 2];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut b);
    f64::from(u16::from_le_bytes(b)) / f64::from(u16::MAX)
}

/// Decides what an attempt means for its row.
pub fn settle(row: &OutboxRow, attempt: &Attempt, config: &SmtpConfig, now: i64) -> SendResult {
    let retry = |error: &str| {
        let age = Duration::from_millis(u64::try_from(now - row.created_at).unwrap_or(0));
        if age >= config.give_up_after {
            SendResult::Failed {
                error: format!("gave up after {} attempts over {}s: {error}", row.attempts, age.as_secs()),
            }
        } else {
            let delay = backoff(row.attempts, config.retry_initial, config.retry_max, jitter());
            SendResult::Deferred {
                error: error.to_string(),
                retry_at: now + i64::try_from(delay.as_millis()).unwrap_or(i64::MAX / 2),
            }
        }
    };
    match attempt {
        Attempt::Sent(response) => SendResult::Sent { response: response.clone() },
        Attempt::Permanent(e) => SendResult::Failed { error: e.clone() },
        Attempt::Transient(e) | Attempt::Connection(e) => retry(e),
    }
}

/// The longest a delivered mail waits for the others in flight before its result is recorded and its slot
/// refilled: a server slow to answer one transaction never holds the rest of the queue for long.
const RECORD_WITHIN: Duration = Duration::from_millis(25);

/// Whether the delivery loop takes a turn of the writer now, to record the `finished` rows and refill their
/// slots: when half the slots wait on it, when no other transaction is in flight (`sending` of them), or
/// when the first of them has waited [`RECORD_WITHIN`] (`timed_out`).
fn time_to_record(finished: usize, sending: usize, concurrency: usize, timed_out: bool) -> bool {
    finished > 0 && (timed_out || sending == 0 || finished * 2 >= concurrency)
}

/// Delivers every due row of the outbox, then returns. `lock_wait` is how long to wait for another process
/// that is delivering right now (then this pass is skipped). On `cancel`, no new row is started; the ones in
/// flight finish (each bounded by `smtp.timeout`).
pub async fn deliver_due(
    db: &Db,
    mailer: &Mailer,
    clock: &Clock,
    store_path: PathBuf,
    lock_wait: Duration,
    cancel: Option<&CancellationToken>,
) -> Result<DeliveryReport, OutboxError> {
    let lock_path = lock::path_beside(&store_path, ".outbox.lock");
    let lock = tokio::task::spawn_blocking(move || FileLock::acquire_within(&lock_path, lock_wait))
        .await
        .expect("lock task does not panic");
    let _lock = match lock {
        Ok(l) => l,
        Err(lock::LockError::Busy { .. }) => {
            return Ok(DeliveryReport { skipped_busy: true, ..DeliveryReport::default() });
        }
        Err(e) => return Err(e.into()),
    };
    let now = clock.now_ms();
    let orphans = db.call(move |s| s.write(|tx| crate::store::outbox::reset_orphans(tx, now))).await?;
    if orphans > 0 {
        tracing::warn!("{orphans} mails left mid-send by a previous process are queued again (they may arrive twice)");
    }

    let concurrency = mailer.config.concurrency;
    let mut report = DeliveryReport::default();
    let mut inflight: JoinSet<Vec<(OutboxRow, Attempt)>> = JoinSet::new();
    // Rows being sent (a transaction may carry several): never more than `concurrency`.
    let mut rows_in_flight = 0usize;
    let now = clock.now_ms();
    let mut claimed =
        db.call(move |s| s.write(|tx| crate::store::outbox::claim_due(tx, now, concurrency, concurrency))).await?;
    // Sent (or refused) and not yet recorded: these rows still hold their slots. Recorded by `deadline`.
    let mut finished: Vec<(OutboxRow, Attempt)> = Vec::new();
    let mut deadline = tokio::time::Instant::now();
    loop {
        for rows in transactions(std::mem::take(&mut claimed)) {
            rows_in_flight += rows.len();
            let mailer = mailer.clone();
            inflight.spawn(async move {
                let attempts = mailer.send_rows(&rows).await;
                rows.into_iter().zip(attempts).collect()
            });
        }
        // Whatever finished is recorded in one transaction, which also claims the mail that fills the free
        // slots (mail enqueued while we were sending is due too). That turn of the store's writer is taken
        // once half the slots wait on it, when nothing else is being sent, or [`RECORD_WITHIN`] after a
        // mail finished — not for each mail while the others are still on their way (in a backlog, a
        // transaction for every delivered mail was the outbox's largest cost). Mail sent but not yet recorded
        // still holds its slot, so the bound on mail sent twice after a crash stays `concurrency`, as the
        // README says.
        let waited = if finished.is_empty() {
            inflight.join_next().await
        } else {
            tokio::time::timeout_at(deadline, inflight.join_next()).await.unwrap_or(None)
        };
        let timed_out = waited.is_none();
        match waited {
            Some(joined) => {
                if finished.is_empty() {
                    deadline = tokio::time::Instant::now() + RECORD_WITHIN;
                }
                finished.extend(joined.expect("send tasks do not panic"));
            }
            None if finished.is_empty() => break,
            None => {}
        }
        while let Some(joined) = inflight.try_join_next() {
            finished.extend(joined.expect("send tasks do not panic"));
        }
        if !time_to_record(finished.len(), inflight.len(), concurrency, timed_out) {
            continue;
        }
        let finished = std::mem::take(&mut finished);
        rows_in_flight -= finished.len();
        let now = clock.now_ms();
        let mut results = Vec::with_capacity(finished.len());
        for (row, attempt) in finished {
            let result = settle(&row, &attempt, &mailer.config, now);
            match (&attempt, &result) {
                (Attempt::Connection(e), _) => {
                    report.connection_failed = true;
                    tracing::warn!(outbox_id = row.id, "SMTP server unreachable, mail {} stays queued: {e}", row.id);
                }
                (_, SendResult::Deferred { error, .. }) => {
                    tracing::warn!(outbox_id = row.id, kind = %row.kind, "delivery of mail {} ({}) deferred: {error}", row.id, row.kind)
                }
                (_, SendResult::Failed { error }) => {
                    tracing::error!(outbox_id = row.id, kind = %row.kind, "delivery of mail {} ({}) failed permanently: {error}", row.id, row.kind)
                }
                (_, SendResult::Sent { .. }) => tracing::debug!(outbox_id = row.id, kind = %row.kind, "delivered"),
            }
            match &result {
                SendResult::Sent { .. } => report.sent += 1,
                SendResult::Deferred { .. } => report.deferred += 1,
                SendResult::Failed { .. } => report.failed += 1,
            }
            results.push((row, result));
        }
        let cancelled = cancel.is_some_and(|c| c.is_cancelled());
        let want = if cancelled || report.connection_failed { 0 } else { concurrency - rows_in_flight };
        claimed = db
            .call(move |s| {
                s.write(|tx| {
                    for (row, result) in &results {
                        record(tx, row, result, now)?;
                    }
                    if want == 0 { Ok(Vec::new()) } else { crate::store::outbox::claim_due(tx, now, want, concurrency) }
                })
            })
            .await?;
    }
    if report.connection_failed {
        // Rows this pass did not try keep their schedule; the daemon tries again at the next due time.
        tracing::warn!("SMTP delivery paused: server unreachable");
    }
    // A delivered erasure or retention receipt was blanked: truncate the WAL that still holds its bytes.
    db.call(|s| s.scrub_if_pending()).await?;
    Ok(report)
}

/// Writes a result, and what it means for the ticket (an acknowledgement accepted stops its clock). Public
/// for the tests that deliver without a server (`tests/lives.rs`): what they record is what a delivery does.
pub fn record(
    tx: &rusqlite::Transaction<'_>,
    row: &OutboxRow,
    result: &SendResult,
    now: i64,
) -> Result<(), StoreError> {
    use crate::store::{outbox, retention, tickets, timers};
    outbox::record_result(tx, row.id, result, now)?;
    let Some(ticket_id) = row.ticket_id else { return Ok(()) };
    retention::after_delivery(tx, row.id, now)?;
    // Once a researcher's data is erased, not even the timeline names where the last mail went.
    let to = if tickets::is_erased(tx, ticket_id)? { "(erased)" } else { row.recipient.as_str() };
    match result {
        SendResult::Sent { response } => {
            let mut detail = format!("to {to}: {response}");
            if row.kind == vdpd_core::mail::MessageKind::Acknowledgement
                && let Some(latency) = tickets::record_acknowledged(tx, ticket_id, now)?
            {
                let acknowledge =
                    crate::engine::clocks::TimerKind::Breach(crate::engine::clocks::ClockKind::Acknowledge);
                timers::cancel(tx, ticket_id, &acknowledge.to_string(), now)?;
                detail = format!("{detail} ({latency} ms after receipt)");
            }
            tickets::add_timeline(tx, ticket_id, now, BY_VDPD, Event::Delivered(row.kind), &detail)?;
        }
        SendResult::Failed { error } => {
            tickets::add_timeline(tx, ticket_id, now, BY_VDPD, Event::Failed(row.kind), &format!("to {to}: {error}"))?;
        }
        SendResult::Deferred { .. } => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The core checks address syntax without lettre; what it accepts, lettre must accept for the envelope,
    /// and what lettre refuses the core must refuse (or a stored address could never be mailed).
    #[test]
    fn the_cores_address_check_agrees_with_lettre() {
        let cases = [
            "a@example.test",
            "first.last+tag@sub.example.test",
            "o'brien@example.test",
            "\"quoted local\"@example.test",
            "user@[192.0.2.1]",
            "user@[IPv6:2001:db8::1]",
            "user@2001:db8::1",
            "user@xn--bcher-kva.example",
            "user@bücher.example",
            "üser@example.test",
            "a@localhost",
            "a@b@example.test",
            "@example.test",
            "a@",
            "a",
            "a..b@example.test",
            ".a@example.test",
            "a.@example.test",
            "a@-example.test",
            "a@example-.test",
            "a@exa_mple.test",
            "a@example..test",
            "a b@example.test",
            "a@example.test\r\nBcc: x@y.z",
            "a\u{0}@example.test",
            &format!("{}@example.test", "l".repeat(65)),
            &format!("a@{}.test", "d".repeat(64)),
        ];
        for a in cases {
            assert_eq!(
                crate::mailtext::is_valid_address(a),
                a.parse::<lettre::Address>().is_ok(),
                "{a:?}: core and lettre disagree"
            );
        }
    }

    fn row(attempts: i64, created_at: i64) -> OutboxRow {
        OutboxRow {
            id: 1,
            ticket_id: None,
            kind: vdpd_core::mail::MessageKind::Acknowledgement,
            envelope_from: "security@example.test".into(),
            recipient: "a@research.test".into(),
            body: Some(1),
            raw: std::sync::Arc::from(&[][..]),
            attempts,
            created_at,
        }
    }

    /// Rows holding one stored message to several team members go in one SMTP transaction; other bytes, a
    /// different sender or no stored bytes never share one, and the claimed order is kept.
    #[test]
    fn rows_of_one_message_share_a_transaction() {
        let mk = |id: i64, to: &str, body: Option<i64>| OutboxRow { id, recipient: to.into(), body, ..row(1, 0) };
        let mut other_sender = mk(5, "d@example.test", Some(10));
        other_sender.envelope_from = "psirt@example.test".into();
        let rows = vec![
            mk(1, "a@example.test", Some(10)),
            mk(2, "r@research.test", Some(11)),
            mk(3, "b@example.test", Some(10)),
            mk(4, "c@example.test", Some(12)),
            other_sender,
            mk(6, "e@example.test", None),
            mk(7, "f@example.test", None),
        ];
        let ids: Vec<Vec<i64>> = transactions(rows).iter().map(|g| g.iter().map(|r| r.id).collect()).collect();
        assert_eq!(ids, vec![vec![1, 3], vec![2], vec![4], vec![5], vec![6], vec![7]]);
    }

    fn smtp() -> SmtpConfig {
        SmtpConfig {
            host: "127.0.0.1".into(),
            port: 25,
            tls: crate::config::TlsMode::None,
            ca_file: None,
            tls_fingerprint: None,
            auth: None,
            concurrency: 4,
            timeout: Duration::from_secs(30),
            retry_initial: Duration::from_secs(30),
            retry_max: Duration::from_secs(3600),
            give_up_after: Duration::from_secs(5 * 86400),
        }
    }

    /// One turn of the writer for several delivered mails while others are on their way; never a mail left
    /// unrecorded when nothing else will finish, or for longer than [`RECORD_WITHIN`].
    #[test]
    fn results_wait_for_half_the_slots_or_the_last_mail_or_the_deadline() {
        // (finished rows, transactions still sending, concurrency, timed out) → record now?
        let cases = [
            ((0, 3, 4, false), false),
            ((0, 0, 4, true), false),
            ((1, 3, 4, false), false),
            ((1, 1, 4, false), false),
            ((2, 1, 4, false), true),
            ((3, 1, 4, false), true),
            ((1, 0, 4, false), true),
            ((1, 3, 4, true), true),
            ((1, 0, 1, false), true),
            ((1, 2, 3, false), false),
            ((2, 1, 3, false), true),
            ((4, 4, 8, false), true),
            ((3, 5, 8, false), false),
        ];
        for ((finished, sending, concurrency, timed_out), want) in cases {
            assert_eq!(
                time_to_record(finished, sending, concurrency, timed_out),
                want,
                "{finished} finished, {sending} sending, concurrency {concurrency}, timed out {timed_out}"
            );
        }
    }

    #[test]
    fn backoff_doubles_up_to_the_cap_with_bounded_jitter() {
        let (i, m) = (Duration::from_secs(30), Duration::from_secs(3600));
        assert_eq!(backoff(1, i, m, 0.5), Duration::from_secs(30));
        assert_eq!(backoff(2, i, m, 0.5), Duration::from_secs(60));
        assert_eq!(backoff(4, i, m, 0.5), Duration::from_secs(240));
        assert_eq!(backoff(50, i, m, 0.5), Duration::from_secs(3600));
        assert_eq!(backoff(1, i, m, 0.0), Duration::from_secs(24));
        assert_eq!(backoff(1, i, m, 1.0), Duration::from_secs(36));
    }

    #[test]
    fn results_are_classed() {
        let now = 1_000_000_000;
        assert!(matches!(settle(&row(1, now), &Attempt::Sent("250 ok".into()), &smtp(), now), SendResult::Sent { .. }));
        assert!(matches!(
            settle(&row(1, now), &Attempt::Permanent("550 no such user".into()), &smtp(), now),
            SendResult::Failed { .. }
        ));
        match settle(&row(1, now), &Attempt::Connection("refused".into()), &smtp(), now) {
            SendResult::Deferred { retry_at, .. } => assert!((now + 24_000..=now + 36_000).contains(&retry_at)),
            other => panic!("{other:?}"),
        }
        // Too old: give up even on a transient error.
        let old = now - 6 * 86_400_000;
        match settle(&row(40, old), &Attempt::Transient("451 try later".into()), &smtp(), now) {
            SendResult::Failed { error } => assert!(error.starts_with("gave up after 40 attempts")),
            other => panic!("{other:?}"),
        }
    }
}

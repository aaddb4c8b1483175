//! SQL for the outbox: mail committed for delivery, one row per recipient.
//!
//! A mail's bytes are stored once, in `outbox_body` ([`new_body`]); the rows of one message (a notification
//! to every team member) share it, and a row's status changes never rewrite them.
//!
//! Row life: `sealing` (its bytes not made yet: see [`crate::seal`]) → `queued` → (claimed: attempts + 1, committed *before* the SMTP transaction) `sending` →
//! `sent` | `queued` again with a later `next_attempt_at` (transient failure) | `failed` (permanent, or too
//! old). A row found `sending` by the next process to take the outbox lock was interrupted mid-send: it goes
//! back to `queued`, which is the one window where a mail can be delivered twice (at-least-once, bounded by
//! the number of rows in flight at the moment of the crash).

use std::sync::Arc;

use rusqlite::{Connection, OptionalExtension, params};

use vdpd_core::mail::MessageKind;

use super::StoreError;

/// A mail to enqueue for one recipient: `sealing` until [`sealed`] gives it the bytes made from its
/// composition ([`new_seal`]).
#[derive(Debug, Clone)]
pub struct NewOutgoing<'a> {
    /// The composition its bytes are made from.
    pub seal: i64,
    pub message_row: Option<i64>,
    pub ticket_id: Option<i64>,
    pub kind: MessageKind,
    /// RFC 3834 auto-reply (counts towards the per-ticket daily limit).
    pub auto_reply: bool,
    pub envelope_from: &'a str,
    pub recipient: &'a str,
    pub created_at: i64,
}

/// Stores a mail's final bytes, for the rows that will send them.
fn new_body(conn: &Connection, raw: &[u8]) -> Result<i64, StoreError> {
    conn.prepare_cached("INSERT INTO outbox_body (raw) VALUES (?1)")?.execute([raw])?;
    Ok(conn.last_insert_rowid())
}

pub fn enqueue(conn: &Connection, m: &NewOutgoing<'_>) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO outbox (message_row, ticket_id, kind, auto_reply, envelope_from, recipient, status, attempts, created_at, next_attempt_at, seal_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'sealing', 0, ?7, ?7, ?8)",
    )?
    .execute(params![
        m.message_row,
        m.ticket_id,
        m.kind.as_str(),
        m.auto_reply,
        m.envelope_from,
        m.recipient,
        m.created_at,
        m.seal
    ])?;
    Ok(conn.last_insert_rowid())
}

/// Records a mail's composition (serialised by [`crate::seal`]) for the rows that will wait on it;
/// `message_row` is the ticket's record of the mail, whose text is written once it is rendered
/// ([`record_text`]).
pub fn new_seal(
    conn: &Connection,
    composition: &str,
    message_row: Option<i64>,
    created_at: i64,
) -> Result<i64, StoreError> {
    conn.prepare_cached("INSERT INTO outbox_seal (composition, message_row, created_at) VALUES (?1, ?2, ?3)")?
        .execute(params![composition, message_row, created_at])?;
    Ok(conn.last_insert_rowid())
}

/// Writes the rendered text of composition `seal` into the ticket's record of the mail, if it names one
/// still (a purge unlinks it: [`unlink_records`]); `subject` replaces the recorded one when the template
/// named it. Called before [`sealed`] deletes the composition.
pub fn record_text(conn: &Connection, seal: i64, body: &str, subject: Option<&str>) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE messages SET body_text = ?2, subject = coalesce(?3, subject)
         WHERE id = (SELECT message_row FROM outbox_seal WHERE id = ?1)",
    )?
    .execute(params![seal, body, subject])?;
    Ok(())
}

/// Unlinks the compositions still waiting for ticket `ticket_id` from its records of them: a purged ticket
/// keeps no text of mail rendered after the purge (the mail itself still goes out).
pub fn unlink_records(conn: &Connection, ticket_id: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE outbox_seal SET message_row = NULL
         WHERE message_row IN (SELECT id FROM messages WHERE ticket_id = ?1)",
    )?
    .execute([ticket_id])?;
    Ok(())
}

/// Up to `limit` compositions waiting to be sealed, oldest first: (id, composition).
pub fn pending_seals(conn: &Connection, limit: usize) -> Result<Vec<(i64, String)>, StoreError> {
    let mut stmt = conn.prepare_cached("SELECT id, composition FROM outbox_seal ORDER BY id LIMIT ?1")?;
    let seals = stmt
        .query_map([limit as i64], |r| Ok((r.get("id")?, r.get("composition")?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(seals)
}

/// The sealed bytes of composition `seal`: its rows become `queued` (due when they were created, so sealing
/// never reorders the queue) and the composition is deleted. Returns the rows released.
pub fn sealed(conn: &Connection, seal: i64, raw: &[u8]) -> Result<usize, StoreError> {
    let body = new_body(conn, raw)?;
    let n = conn
        .prepare_cached(
            "UPDATE outbox SET body_id = ?2, status = 'queued', seal_id = NULL WHERE seal_id = ?1 AND status = 'sealing'",
        )?
        .execute(params![seal, body])?;
    if n == 0 {
        conn.prepare_cached("DELETE FROM outbox_body WHERE id = ?1")?.execute([body])?;
    }
    conn.prepare_cached("DELETE FROM outbox_seal WHERE id = ?1")?.execute([seal])?;
    Ok(n)
}

/// The rows waiting on composition `seal` that cannot be sealed; the caller records them as failed
/// ([`crate::outbox::record`]) and then [`discard_seal`]s the composition.
pub fn sealing_rows(conn: &Connection, seal: i64) -> Result<Vec<OutboxRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, ticket_id, kind, envelope_from, recipient, body_id, attempts, created_at FROM outbox
         WHERE seal_id = ?1 AND status = 'sealing' ORDER BY id",
    )?;
    let rows = stmt.query_map([seal], |r| outbox_row(r, Arc::from(&[][..])))?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Deletes a composition and unlinks its rows (after they were recorded as failed).
pub fn discard_seal(conn: &Connection, seal: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE outbox SET seal_id = NULL WHERE seal_id = ?1")?.execute([seal])?;
    conn.prepare_cached("DELETE FROM outbox_seal WHERE id = ?1")?.execute([seal])?;
    Ok(())
}

fn outbox_row(r: &rusqlite::Row<'_>, raw: Arc<[u8]>) -> rusqlite::Result<OutboxRow> {
    Ok(OutboxRow {
        id: r.get("id")?,
        ticket_id: r.get("ticket_id")?,
        kind: super::column(r, "outbox.kind")?,
        envelope_from: r.get("envelope_from")?,
        recipient: r.get("recipient")?,
        body: r.get("body_id")?,
        raw,
        attempts: r.get("attempts")?,
        created_at: r.get("created_at")?,
    })
}

/// A row claimed for sending.
#[derive(Debug, Clone)]
pub struct OutboxRow {
    pub id: i64,
    pub ticket_id: Option<i64>,
    pub kind: MessageKind,
    pub envelope_from: String,
    pub recipient: String,
    /// The stored bytes' id (`None` only for a row that was never sealed): rows with the same body are one
    /// message, sent in one SMTP transaction.
    pub body: Option<i64>,
    /// The bytes, shared by the rows of one message.
    pub raw: Arc<[u8]>,
    pub attempts: i64,
    pub created_at: i64,
}

/// Claims up to `limit` due rows (the free sending slots, of `capacity` in all): marks them `sending` and
/// counts the attempt. Call inside a transaction and commit before sending.
///
/// Whole messages are claimed: the rows of one message to several team members (one `message_row`) go in one
/// SMTP transaction, so a message whose rows do not all fit in `limit` waits for more free slots (it is not
/// split, and nothing behind it overtakes it) — unless it is larger than `capacity`, when it goes `limit` rows
/// at a time. `limit` still bounds the rows being sent, and with them the mail a crash can send twice.
pub fn claim_due(conn: &Connection, now: i64, limit: usize, capacity: usize) -> Result<Vec<OutboxRow>, StoreError> {
    let mut due = conn.prepare_cached(
        "SELECT id, message_row FROM outbox WHERE status = 'queued' AND next_attempt_at <= ?1
         ORDER BY next_attempt_at, id LIMIT ?2",
    )?;
    // A look beyond `limit`: enough to see whether the message at the edge fits whole — `capacity` rows, as a
    // message of more goes `limit` rows at a time anyway. (It was 64: read again for every mail delivered, 4 %
    // of the daemon in the shipped backlog.)
    let candidates = due
        .query_map(params![now, (limit + capacity) as i64], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    let ids = whole_messages(&candidates, limit, capacity);
    let mut claim = conn.prepare_cached(
        "UPDATE outbox SET status = 'sending', attempts = attempts + 1, last_attempt_at = ?1
         WHERE id = ?2 AND status = 'queued'
         RETURNING id, ticket_id, kind, envelope_from, recipient, body_id, attempts, created_at",
    )?;
    let mut read_body = conn.prepare_cached("SELECT raw FROM outbox_body WHERE id = ?1")?;
    // Each body read once, however many rows share it.
    let mut bodies: Vec<(i64, Arc<[u8]>)> = Vec::new();
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(mut row) = claim.query_row(params![now, id], |r| outbox_row(r, Arc::from(&[][..]))).optional()? else {
            continue;
        };
        if let Some(body) = row.body {
            row.raw = match bodies.iter().find(|(id, _)| *id == body) {
                Some((_, raw)) => raw.clone(),
                None => {
                    let raw: Arc<[u8]> =
                        read_body.query_row([body], |r| r.get::<_, Vec<u8>>(0)).optional()?.unwrap_or_default().into();
                    bodies.push((body, raw.clone()));
                    raw
                }
            };
        }
        rows.push(row);
    }
    Ok(rows)
}

/// Which of the due rows (id, message) to claim, in order: whole messages while they fit in `limit`; of a
/// message larger than `capacity`, the first `limit` rows.
fn whole_messages(candidates: &[(i64, Option<i64>)], limit: usize, capacity: usize) -> Vec<i64> {
    let mut groups: Vec<(Option<i64>, Vec<i64>)> = Vec::new();
    for &(id, message) in candidates {
        match groups.iter_mut().find(|(m, _)| message.is_some() && *m == message) {
            Some((_, ids)) => ids.push(id),
            None => groups.push((message, vec![id])),
        }
    }
    let mut out = Vec::new();
    for (_, ids) in groups {
        if out.len() + ids.len() <= limit {
            out.extend(ids);
        } else {
            if out.is_empty() && ids.len() > capacity {
                out.extend(ids.into_iter().take(limit));
            }
            break;
        }
    }
    out
}

/// Rows left `sending` by a process that died: back to the queue, due now.
pub fn reset_orphans(conn: &Connection, now: i64) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached("UPDATE outbox SET status = 'queued', next_attempt_at = ?1 WHERE status = 'sending'")?
        .execute([now])?)
}

/// How one SMTP attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendResult {
    /// Accepted; the server's reply (usually carries its queue id).
    Sent { response: String },
    /// Try again at `retry_at`.
    Deferred { error: String, retry_at: i64 },
    /// Will never succeed (5xx, or too old to keep trying).
    Failed { error: String },
}

pub fn record_result(conn: &Connection, id: i64, result: &SendResult, now: i64) -> Result<(), StoreError> {
    match result {
        SendResult::Sent { response } => conn
            .prepare_cached(
                "UPDATE outbox SET status = 'sent', sent_at = ?2, smtp_response = ?3, last_error = '' WHERE id = ?1",
            )?
            .execute(params![id, now, response])?,
        SendResult::Deferred { error, retry_at } => conn
            .prepare_cached("UPDATE outbox SET status = 'queued', next_attempt_at = ?2, last_error = ?3 WHERE id = ?1")?
            .execute(params![id, retry_at, error])?,
        SendResult::Failed { error } => conn
            .prepare_cached("UPDATE outbox SET status = 'failed', last_error = ?2 WHERE id = ?1")?
            .execute(params![id, error])?,
    };
    Ok(())
}

/// When the next queued row becomes due, if any.
pub fn next_due(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT min(next_attempt_at) FROM outbox WHERE status = 'queued'")?
        .query_row([], |r| r.get(0))?)
}

/// Auto-replies enqueued for a ticket since `since` (the RFC 3834 loop guard).
pub fn auto_replies_since(conn: &Connection, ticket_id: i64, since: i64) -> Result<u32, StoreError> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM outbox WHERE ticket_id = ?1 AND auto_reply = 1 AND created_at >= ?2")?
        .query_row(params![ticket_id, since], |r| r.get(0))?)
}

/// Auto-replies enqueued to an address since `since` (the guard for mail outside tickets, like key requests).
pub fn auto_replies_to_since(conn: &Connection, recipient: &str, since: i64) -> Result<u32, StoreError> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM outbox WHERE recipient = ?1 AND auto_reply = 1 AND created_at >= ?2")?
        .query_row(params![recipient, since], |r| r.get(0))?)
}

/// The outbox at a glance.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutboxCounts {
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
    /// Creation time of the oldest mail not yet delivered (sealing, queued or sending).
    pub oldest_undelivered_at: Option<i64>,
}

pub fn counts(conn: &Connection) -> Result<OutboxCounts, StoreError> {
    let mut c = OutboxCounts::default();
    let mut stmt = conn.prepare("SELECT status, count(*) FROM outbox GROUP BY status")?;
    for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))? {
        let (status, n) = row?;
        match status.as_str() {
            // Waiting to be sealed is waiting to go.
            "queued" | "sealing" => c.queued += n,
            "sending" => c.sending = n,
            "sent" => c.sent = n,
            "failed" => c.failed = n,
            _ => {}
        }
    }
    c.oldest_undelivered_at = conn
        .prepare_cached("SELECT min(created_at) FROM outbox WHERE status IN ('sealing', 'queued', 'sending')")?
        .query_row([], |r| r.get(0))?;
    Ok(c)
}

/// Failed deliveries, newest first, for `vdpd status`.
pub fn recent_failures(conn: &Connection, limit: usize) -> Result<Vec<(i64, String, String, String)>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT o.id, coalesce(t.reference, ''), o.recipient, o.last_error FROM outbox o
         LEFT JOIN tickets t ON t.id = o.ticket_id WHERE o.status = 'failed' ORDER BY o.id DESC LIMIT ?1",
    )?;
    let rows = stmt
        .query_map([limit as i64], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::whole_messages;

    #[test]
    fn messages_are_claimed_whole_in_order_within_the_limit() {
        // An acknowledgement (message 1), a notification to three members (message 2), a mail with no
        // message row, another notification to two (message 4).
        let due = [(1, Some(1)), (2, Some(2)), (3, Some(2)), (4, Some(2)), (5, None), (6, Some(4)), (7, Some(4))];
        assert_eq!(whole_messages(&due, 4, 4), vec![1, 2, 3, 4]);
        assert_eq!(whole_messages(&due, 6, 6), vec![1, 2, 3, 4, 5]);
        // A message that does not fit in the free slots waits for more, and nothing behind it overtakes it...
        assert_eq!(whole_messages(&due, 3, 4), vec![1]);
        assert_eq!(whole_messages(&due[1..], 2, 4), Vec::<i64>::new());
        // ...unless it is larger than all the slots: then it goes as many rows at a time as are free.
        assert_eq!(whole_messages(&due[1..], 2, 2), vec![2, 3]);
        assert_eq!(whole_messages(&due[1..], 1, 2), vec![2]);
        // Rows without a message row are separate mails.
        assert_eq!(whole_messages(&[(5, None), (8, None)], 1, 4), vec![5]);
        // `claim_due` reads `limit + capacity` candidates: as good as reading them all, a message's rows
        // being queued together.
        for start in 0..due.len() {
            for capacity in 1..=6 {
                for limit in 1..=capacity {
                    let seen = &due[start..due.len().min(start + limit + capacity)];
                    assert_eq!(whole_messages(seen, limit, capacity), whole_messages(&due[start..], limit, capacity));
                }
            }
        }
    }
}

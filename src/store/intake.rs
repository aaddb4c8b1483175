//! SQL for the intake journal (every message taken in and what became of it) and the IMAP cursor.

use rusqlite::{Connection, OptionalExtension, params};

use super::{StoreError, parse_column};

pub use vdpd_core::engine::IntakeStatus;

/// A message as it arrives, before anything is known about it.
#[derive(Debug, Clone)]
pub struct IntakeRecord<'a> {
    pub key: &'a str,
    pub source: &'a str,
    pub mailbox: Option<&'a str>,
    pub uidvalidity: Option<u32>,
    pub uid: Option<u32>,
    pub size: usize,
    pub raw: &'a [u8],
    pub truncated: bool,
    pub fetched_at: i64,
}

/// Outcome of [`begin`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Begin {
    /// Already processed (a re-fetch after a crash, or the same bytes ingested twice): nothing to do.
    Done { id: i64, status: IntakeStatus },
    /// To be processed; `attempts` counts this one.
    Process { id: i64, attempts: i64 },
}

/// Records that processing of a message starts: inserts its row, or counts one more attempt on a row left
/// pending by a process that died.
pub fn begin(conn: &Connection, rec: &IntakeRecord<'_>) -> Result<Begin, StoreError> {
    let existing: Option<(i64, String, i64)> = conn
        .prepare_cached("SELECT id, status, attempts FROM intake WHERE intake_key = ?1")?
        .query_row([rec.key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    let Some((id, status, attempts)) = existing else {
        return Ok(Begin::Process { id: insert_pending(conn, rec)?, attempts: 1 });
    };
    let status: IntakeStatus = parse_column("intake.status", status)?;
    if status != IntakeStatus::Pending {
        return Ok(Begin::Done { id, status });
    }
    conn.prepare_cached("UPDATE intake SET attempts = attempts + 1 WHERE id = ?1")?.execute([id])?;
    Ok(Begin::Process { id, attempts: attempts + 1 })
}

/// [`begin`] for a message seen for the first time only: its `pending` row (attempt 1) and `Some(id)`, or
/// `None` — and nothing written — when the store knows it already (a row left pending by a process that
/// died, or a message already processed), which [`begin`] must then take on its own.
pub fn begin_new(conn: &Connection, rec: &IntakeRecord<'_>) -> Result<Option<i64>, StoreError> {
    let known = conn
        .prepare_cached("SELECT 1 FROM intake WHERE intake_key = ?1")?
        .query_row([rec.key], |_| Ok(()))
        .optional()?
        .is_some();
    if known {
        return Ok(None);
    }
    Ok(Some(insert_pending(conn, rec)?))
}

fn insert_pending(conn: &Connection, rec: &IntakeRecord<'_>) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO intake (intake_key, source, mailbox, uidvalidity, uid, size, truncated, fetched_at, attempts, status, server_done)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 1, 'pending', ?9)",
    )?
    .execute(params![
        rec.key,
        rec.source,
        rec.mailbox,
        rec.uidvalidity,
        rec.uid,
        rec.size as i64,
        rec.truncated,
        rec.fetched_at,
        // Ingested mail has no server copy to flag.
        rec.mailbox.is_none(),
    ])?;
    let id = conn.last_insert_rowid();
    // The bytes apart from the row, which changes after this (see schema 10).
    conn.prepare_cached("INSERT INTO intake_raw (intake_id, raw) VALUES (?1, ?2)")?.execute(params![id, rec.raw])?;
    Ok(id)
}

/// Gives back an attempt that ended in a transient failure (disk full, locked database), so that only
/// crashes count towards quarantine.
pub fn undo_attempt(conn: &Connection, id: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE intake SET attempts = max(attempts - 1, 0) WHERE id = ?1 AND status = 'pending'")?
        .execute([id])?;
    Ok(())
}

/// The outcome of processing, written in the same transaction as its effects.
#[derive(Debug, Clone)]
pub struct IntakeFinal<'a> {
    pub status: IntakeStatus,
    pub reason: &'a str,
    pub message_id: Option<&'a str>,
    pub dedup_key: Option<&'a str>,
    pub from_addr: &'a str,
    pub subject: &'a str,
    pub ticket_id: Option<i64>,
    pub processed_at: i64,
}

/// Records the outcome and, for fetched mail, advances the mailbox cursor past it.
pub fn finish(conn: &Connection, id: i64, f: &IntakeFinal<'_>) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE intake SET status = ?2, reason = ?3, message_id = ?4, dedup_key = ?5, from_addr = ?6, subject = ?7,
                ticket_id = ?8, processed_at = ?9
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        f.status.as_str(),
        f.reason,
        f.message_id,
        f.dedup_key,
        f.from_addr,
        f.subject,
        f.ticket_id,
        f.processed_at
    ])?;
    conn.prepare_cached(
        "UPDATE mailbox_state SET last_uid = max(last_uid, i.uid), updated_at = i.processed_at
         FROM (SELECT mailbox, uidvalidity, uid, processed_at FROM intake WHERE id = ?1) AS i
         WHERE mailbox_state.mailbox = i.mailbox AND mailbox_state.uidvalidity = i.uidvalidity",
    )?
    .execute([id])?;
    Ok(())
}

/// The message an earlier delivery with this identity became, if any: (intake id, ticket).
pub fn find_dedup(conn: &Connection, dedup_key: &str) -> Result<Option<(i64, Option<i64>)>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id, ticket_id FROM intake WHERE dedup_key = ?1 AND status IN ('ticket', 'correspondence', 'dropped', 'answered', 'held')")?
        .query_row(
            [dedup_key],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Puts a quarantined message back to pending so that it is processed again (after an upgrade or a fix).
pub fn requeue(conn: &Connection, id: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE intake SET status = 'pending', attempts = 0, reason = '', dedup_key = NULL
             WHERE id = ?1 AND (status IN ('quarantined', 'held') OR (status = 'dropped' AND ticket_id IS NULL
                 AND (reason LIKE 'rate limit:%' OR reason LIKE 'flood:%')))",
        )?
        .execute([id])?
        == 1)
}

/// The report held longest by the hourly cap on new tickets (see [`IntakeStatus::Held`]).
pub fn oldest_held(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT id FROM intake WHERE status = 'held' ORDER BY fetched_at, id LIMIT 1")?
        .query_row([], |r| r.get(0))
        .optional()?)
}

/// When a message was taken in.
pub fn fetched_at(conn: &Connection, id: i64) -> Result<Option<i64>, StoreError> {
    Ok(conn.prepare_cached("SELECT fetched_at FROM intake WHERE id = ?1")?.query_row([id], |r| r.get(0)).optional()?)
}

/// How many reports the hourly cap holds.
pub fn count_held(conn: &Connection) -> Result<i64, StoreError> {
    Ok(conn.prepare_cached("SELECT count(*) FROM intake WHERE status = 'held'")?.query_row([], |r| r.get(0))?)
}

/// A row of the intake journal, for the CLI.
#[derive(Debug, Clone, serde::Serialize)]
pub struct IntakeRow {
    pub id: i64,
    pub source: String,
    pub mailbox: Option<String>,
    pub uidvalidity: Option<i64>,
    pub uid: Option<i64>,
    pub size: i64,
    pub truncated: bool,
    pub fetched_at: i64,
    pub attempts: i64,
    pub status: String,
    pub reason: String,
    pub message_id: Option<String>,
    pub from_addr: String,
    pub subject: String,
    pub ticket_id: Option<i64>,
    pub intake_key: String,
}

const INTAKE_COLUMNS: &str =
    "id, source, mailbox, uidvalidity, uid, size, truncated, fetched_at, attempts, status, reason,
     message_id, from_addr, subject, ticket_id, intake_key";

fn intake_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<IntakeRow> {
    Ok(IntakeRow {
        id: r.get("id")?,
        source: r.get("source")?,
        mailbox: r.get("mailbox")?,
        uidvalidity: r.get("uidvalidity")?,
        uid: r.get("uid")?,
        size: r.get("size")?,
        truncated: r.get("truncated")?,
        fetched_at: r.get("fetched_at")?,
        attempts: r.get("attempts")?,
        status: r.get("status")?,
        reason: r.get("reason")?,
        message_id: r.get("message_id")?,
        from_addr: r.get("from_addr")?,
        subject: r.get("subject")?,
        ticket_id: r.get("ticket_id")?,
        intake_key: r.get("intake_key")?,
    })
}

/// The newest intake rows, optionally of one status.
pub fn list(conn: &Connection, status: Option<IntakeStatus>, limit: usize) -> Result<Vec<IntakeRow>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {INTAKE_COLUMNS} FROM intake WHERE ?1 IS NULL OR status = ?1 ORDER BY id DESC LIMIT ?2"
    ))?;
    let rows = stmt
        .query_map(params![status.map(|s| s.as_str()), limit as i64], intake_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// An intake row with the raw bytes, if they are still kept.
pub type IntakeWithRaw = (IntakeRow, Option<Vec<u8>>);

/// One intake row and its raw bytes (if still kept).
pub fn get(conn: &Connection, id: i64) -> Result<Option<IntakeWithRaw>, StoreError> {
    Ok(conn
        .query_row(
            &format!(
                "SELECT {INTAKE_COLUMNS}, (SELECT raw FROM intake_raw WHERE intake_id = intake.id) AS raw
                 FROM intake WHERE id = ?1"
            ),
            [id],
            |r| Ok((intake_row(r)?, r.get("raw")?)),
        )
        .optional()?)
}

/// Number of intake rows per status.
pub fn counts(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt = conn.prepare("SELECT status, count(*) FROM intake GROUP BY status ORDER BY status")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Where fetching resumes in a mailbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MailboxCursor {
    pub uidvalidity: u32,
    /// The highest UID whose outcome is committed.
    pub last_uid: u32,
}

pub fn cursor(conn: &Connection, mailbox: &str) -> Result<Option<MailboxCursor>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT uidvalidity, last_uid FROM mailbox_state WHERE mailbox = ?1")?
        .query_row([mailbox], |r| {
            Ok(MailboxCursor { uidvalidity: r.get("uidvalidity")?, last_uid: r.get("last_uid")? })
        })
        .optional()?)
}

/// Starts a mailbox over at a new UIDVALIDITY (first sight, or the server renumbered it). Everything is
/// fetched again; deduplication by Message-ID keeps that from creating tickets twice.
pub fn reset_cursor(conn: &Connection, mailbox: &str, uidvalidity: u32, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO mailbox_state (mailbox, uidvalidity, last_uid, updated_at) VALUES (?1, ?2, 0, ?3)
         ON CONFLICT (mailbox) DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = 0, updated_at = excluded.updated_at")?.execute(
        params![mailbox, uidvalidity, now],
    )?;
    Ok(())
}

/// UIDs whose outcome is committed but which are not yet flagged or moved on the server.
pub fn server_pending(conn: &Connection, mailbox: &str, uidvalidity: u32) -> Result<Vec<u32>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT uid FROM intake WHERE mailbox = ?1 AND uidvalidity = ?2 AND server_done = 0 AND status != 'pending'
         ORDER BY uid",
    )?;
    let rows = stmt.query_map(params![mailbox, uidvalidity], |r| r.get(0))?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The intake key of a message fetched over IMAP: its coordinates.
pub fn imap_key(mailbox: &str, uidvalidity: u32, uid: u32) -> String {
    format!("imap:{mailbox}:{uidvalidity}:{uid}")
}

pub fn mark_server_done(conn: &Connection, mailbox: &str, uidvalidity: u32, uids: &[u32]) -> Result<(), StoreError> {
    // By the intake key (its unique index): the coordinates alone would scan the table.
    let mut stmt = conn.prepare_cached("UPDATE intake SET server_done = 1 WHERE intake_key = ?1")?;
    for uid in uids {
        stmt.execute([imap_key(mailbox, uidvalidity, *uid)])?;
    }
    Ok(())
}

/// Forgets server work for a UIDVALIDITY that no longer exists (those UIDs mean nothing now).
pub fn abandon_server_pending(conn: &Connection, mailbox: &str, current_uidvalidity: u32) -> Result<usize, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE intake SET server_done = 1 WHERE mailbox = ?1 AND uidvalidity != ?2 AND server_done = 0",
        )?
        .execute(params![mailbox, current_uidvalidity])?)
}

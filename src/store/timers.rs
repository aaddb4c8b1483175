//! SQL for timers: one row per (ticket, kind), fired at most once.

use rusqlite::{Connection, params};

use super::StoreError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerRow {
    pub id: i64,
    pub ticket_id: i64,
    pub kind: String,
    pub due_at: i64,
}

/// Sets (or moves) a ticket's timer of `kind`. A timer that already fired stays fired.
pub fn set(conn: &Connection, ticket_id: i64, kind: &str, due_at: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO timers (ticket_id, kind, due_at) VALUES (?1, ?2, ?3)
         ON CONFLICT (ticket_id, kind) DO UPDATE SET due_at = excluded.due_at, cancelled_at = NULL
         WHERE timers.fired_at IS NULL",
    )?
    .execute(params![ticket_id, kind, due_at])?;
    Ok(())
}

/// Stops a timer that has not fired yet.
pub fn cancel(conn: &Connection, ticket_id: i64, kind: &str, now: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE timers SET cancelled_at = ?3 WHERE ticket_id = ?1 AND kind = ?2 AND fired_at IS NULL AND cancelled_at IS NULL",
        )?
        .execute(params![ticket_id, kind, now])?
        == 1)
}

/// Timers due at `now`, oldest first.
pub fn due(conn: &Connection, now: i64, limit: usize) -> Result<Vec<TimerRow>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, ticket_id, kind, due_at FROM timers
         WHERE fired_at IS NULL AND cancelled_at IS NULL AND due_at <= ?1 ORDER BY due_at, id LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![now, limit as i64], |r| {
            Ok(TimerRow {
                id: r.get("id")?,
                ticket_id: r.get("ticket_id")?,
                kind: r.get("kind")?,
                due_at: r.get("due_at")?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Marks a timer fired; false if something else fired or cancelled it first.
pub fn mark_fired(conn: &Connection, id: i64, now: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("UPDATE timers SET fired_at = ?2 WHERE id = ?1 AND fired_at IS NULL AND cancelled_at IS NULL")?
        .execute(params![id, now])?
        == 1)
}

/// When the next timer is due, if any.
pub fn next_due(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT min(due_at) FROM timers WHERE fired_at IS NULL AND cancelled_at IS NULL")?
        .query_row([], |r| r.get(0))?)
}

/// Timers that fired, per kind (e.g. broken acknowledgement promises), for `vdpd status`.
pub fn fired_counts(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT kind, count(*) FROM timers WHERE fired_at IS NOT NULL GROUP BY kind ORDER BY kind")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Makes a ticket's pending timers exactly `desired` (kind, due): new kinds are added, moved ones move, a
/// cancelled one that is wanted again comes back, and pending ones no longer wanted are cancelled. Fired
/// timers are never touched: what fired stays fired.
pub fn sync(conn: &Connection, ticket_id: i64, desired: &[(String, i64)], now: i64) -> Result<(), StoreError> {
    for (kind, due) in desired {
        set(conn, ticket_id, kind, *due)?;
    }
    let pending: Vec<(i64, String)> = conn
        .prepare_cached(
            "SELECT id, kind FROM timers WHERE ticket_id = ?1 AND fired_at IS NULL AND cancelled_at IS NULL",
        )?
        .query_map([ticket_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    let mut cancel = conn.prepare_cached("UPDATE timers SET cancelled_at = ?2 WHERE id = ?1")?;
    for (id, kind) in pending {
        if !desired.iter().any(|(k, _)| *k == kind) {
            cancel.execute(params![id, now])?;
        }
    }
    Ok(())
}

/// A timer as `vdpd tickets show` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TimerView {
    pub kind: String,
    pub due_at: i64,
    pub fired_at: Option<i64>,
    pub cancelled_at: Option<i64>,
}

/// A ticket's timers, by due time.
pub fn for_ticket(conn: &Connection, ticket_id: i64) -> Result<Vec<TimerView>, StoreError> {
    let rows = conn
        .prepare_cached(
            "SELECT kind, due_at, fired_at, cancelled_at FROM timers WHERE ticket_id = ?1 ORDER BY due_at, id",
        )?
        .query_map([ticket_id], |r| {
            Ok(TimerView {
                kind: r.get("kind")?,
                due_at: r.get("due_at")?,
                fired_at: r.get("fired_at")?,
                cancelled_at: r.get("cancelled_at")?,
            })
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Whether a timer of `kind` fired for the ticket.
pub fn has_fired(conn: &Connection, ticket_id: i64, kind: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM timers WHERE ticket_id = ?1 AND kind = ?2 AND fired_at IS NOT NULL)",
        )?
        .query_row(params![ticket_id, kind], |r| r.get(0))?)
}

/// Pending timers of `kind` due at `now`, with their ticket's reference, oldest first.
pub fn due_of_kind(conn: &Connection, kind: &str, now: i64) -> Result<Vec<(TimerRow, String)>, StoreError> {
    let rows = conn
        .prepare_cached(
            "SELECT t.id, t.ticket_id, t.kind, t.due_at, k.reference FROM timers t JOIN tickets k ON k.id = t.ticket_id
             WHERE t.kind = ?1 AND t.fired_at IS NULL AND t.cancelled_at IS NULL AND t.due_at <= ?2
             ORDER BY t.due_at, t.id",
        )?
        .query_map(params![kind, now], |r| {
            let timer = TimerRow {
                id: r.get("id")?,
                ticket_id: r.get("ticket_id")?,
                kind: r.get("kind")?,
                due_at: r.get("due_at")?,
            };
            Ok((timer, r.get("reference")?))
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The next pending timer: (due, kind, ticket reference).
pub fn next_pending(conn: &Connection) -> Result<Option<(i64, String, String)>, StoreError> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .prepare_cached(
            "SELECT t.due_at, t.kind, k.reference FROM timers t JOIN tickets k ON k.id = t.ticket_id
             WHERE t.fired_at IS NULL AND t.cancelled_at IS NULL ORDER BY t.due_at, t.id LIMIT 1",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?)
}

//! SQL for the report form of tickets and what it establishes.

use rusqlite::{Connection, params};

use super::StoreError;
use crate::engine::TicketState;

/// Records an answer. `understood_from`: '' for an answer the researcher labelled, else what vdpd read it
/// from in their prose.
pub fn set_section(
    conn: &Connection,
    ticket_id: i64,
    section: &str,
    value: &str,
    understood_from: &str,
    message_row: Option<i64>,
    now: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO form_sections (ticket_id, section, value, understood_from, message_row, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (ticket_id, section) DO UPDATE SET value = excluded.value,
             understood_from = excluded.understood_from, message_row = excluded.message_row,
             updated_at = excluded.updated_at",
    )?
    .execute(params![ticket_id, section, value, understood_from, message_row, now])?;
    Ok(())
}

/// The sections read from the prose so far: (section, what it was read from).
pub fn understood(conn: &Connection, ticket_id: i64) -> Result<Vec<(String, String)>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT section, understood_from FROM form_sections WHERE ticket_id = ?1 AND understood_from != '' ORDER BY rowid",
    )?;
    let rows = stmt.query_map([ticket_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The sections answered so far: (section, value).
pub fn sections(conn: &Connection, ticket_id: i64) -> Result<Vec<(String, String)>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT section, value FROM form_sections WHERE ticket_id = ?1 ORDER BY rowid")?;
    let rows = stmt.query_map([ticket_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub use vdpd_core::ticket::Classification;

/// Updates the fields that are `Some`.
pub fn set_classification(conn: &Connection, ticket_id: i64, c: &Classification) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE tickets SET asset = coalesce(?2, asset), weakness = coalesce(?3, weakness), severity = coalesce(?4, severity),
             cvss_vector = coalesce(?5, cvss_vector), cvss_score = coalesce(?6, cvss_score)
         WHERE id = ?1")?.execute(
        params![ticket_id, c.asset, c.weakness, c.severity, c.cvss_vector, c.cvss_score],
    )?;
    Ok(())
}

/// Records that the form is complete; false if it already was.
pub fn mark_complete(conn: &Connection, ticket_id: i64, now: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("UPDATE tickets SET form_complete_at = ?2 WHERE id = ?1 AND form_complete_at IS NULL")?
        .execute(params![ticket_id, now])?
        == 1)
}

pub fn is_complete(conn: &Connection, ticket_id: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT form_complete_at IS NOT NULL FROM tickets WHERE id = ?1")?
        .query_row([ticket_id], |r| r.get(0))?)
}

/// Moves a ticket to `state`.
pub fn set_state(conn: &Connection, ticket_id: i64, state: TicketState, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE tickets SET state = ?2, updated_at = max(updated_at, ?3) WHERE id = ?1")?
        .execute(params![ticket_id, state.as_str(), now])?;
    Ok(())
}

//! SQL for warnings to staff: forged staff mail and quarantined mail, recorded whether or not a mail went out.

use rusqlite::{Connection, params};

use super::StoreError;
use vdpd_core::ticket::WarningKind;

/// Records a warning; `mailed` says whether a mail was queued for it.
pub fn record_warning(
    conn: &Connection,
    kind: WarningKind,
    detail: &str,
    ticket_id: Option<i64>,
    intake_id: Option<i64>,
    mailed: bool,
    now: i64,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO staff_warnings (at, kind, detail, ticket_id, intake_id, mailed) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![now, kind.as_str(), detail, ticket_id, intake_id, mailed])?;
    Ok(())
}

/// Warning mails queued since `since` (the daily cap).
pub fn warnings_mailed_since(conn: &Connection, since: i64) -> Result<u32, StoreError> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM staff_warnings WHERE mailed = 1 AND at >= ?1")?
        .query_row([since], |r| r.get(0))?)
}

/// Warnings per kind, for `vdpd status`.
pub fn warning_counts(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt = conn.prepare("SELECT kind, count(*) FROM staff_warnings GROUP BY kind ORDER BY kind")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// When a warning of this kind was last recorded, if ever (a flood is announced once an hour, not once a
/// message).
pub fn last_warning_at(conn: &Connection, kind: WarningKind) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT max(at) FROM staff_warnings WHERE kind = ?1")?
        .query_row([kind.as_str()], |r| r.get(0))?)
}

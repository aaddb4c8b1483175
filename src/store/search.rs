//! Duplicates by content: the full-text index (`ticket_search`, FTS5) over every ticket's words and its
//! published advisory, and the advisories `vdpd advisory publish` recorded. Which words to ask for is the
//! core's ([`vdpd_core::search`]); the ranking is SQLite's BM25.

use rusqlite::{Connection, OptionalExtension, params};
use vdpd_core::search::{Document, WEIGHTS};

use super::StoreError;
use super::tickets::{Outcome, outcome_at};
use crate::engine::TicketState;

/// Replaces a ticket's row of the index with `doc` (the shell builds it from the ticket as it now is).
pub fn put(conn: &Connection, ticket_id: i64, doc: &Document) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM ticket_search WHERE rowid = ?1")?.execute([ticket_id])?;
    conn.prepare_cached(
        "INSERT INTO ticket_search(rowid, title, asset, weakness, description, advisory) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![ticket_id, doc.title, doc.asset, doc.weakness, doc.description, doc.advisory])?;
    Ok(())
}

/// A ticket the index finds close to another.
#[derive(Debug, Clone, PartialEq)]
pub struct Similar {
    pub ticket_id: i64,
    pub reference: String,
    pub state: TicketState,
    pub outcome: Option<Outcome>,
    /// Its title (empty once purged).
    pub title: String,
    /// 0–100: its rank beside the report's own (100: as close as the report is to itself).
    pub percent: u8,
    /// The published advisory's URL, when there is one.
    pub advisory: Option<String>,
}

/// The index's background rows (migration 17): counted among the rows BM25 weighs words by.
const BACKGROUND_ROWS: i64 = 200;

/// How many candidates the index ranks before the report's own row is set aside.
const CANDIDATES_MAX: usize = 16;

/// The tickets closest to `doc`, best first, at most `limit`, without `ticket_id` itself (whose own rank is
/// the 100 % the others are measured against) and without erased tickets.
pub fn similar(conn: &Connection, ticket_id: i64, doc: &Document, limit: usize) -> Result<Vec<Similar>, StoreError> {
    // Only the words that can rank: a word half the tickets use weighs nothing, and asking for it would rank
    // every one of them (on a desk of near-identical reports, most of the cost of a query).
    let tickets: i64 = conn.prepare_cached("SELECT coalesce(max(id), 0) FROM tickets")?.query_row([], |r| r.get(0))?;
    let rows = tickets + BACKGROUND_ROWS;
    let mut count = conn.prepare_cached("SELECT doc FROM ticket_search_words WHERE term = ?1")?;
    let mut terms = Vec::new();
    for t in doc.terms() {
        let df: i64 = count.query_row([&t], |r| r.get(0)).optional()?.unwrap_or(0);
        if vdpd_core::search::ranks(df, rows) {
            terms.push(t);
        }
    }
    let Some(query) = vdpd_core::search::query_of(&terms) else { return Ok(Vec::new()) };
    let [w1, w2, w3, w4, w5] = WEIGHTS;
    let mut stmt = conn.prepare_cached(
        "SELECT s.rowid AS id, bm25(ticket_search, ?2, ?3, ?4, ?5, ?6) AS score
         FROM ticket_search s WHERE ticket_search MATCH ?1 ORDER BY score LIMIT ?7",
    )?;
    let ranked: Vec<(i64, f64)> = stmt
        .query_map(params![query, w1, w2, w3, w4, w5, CANDIDATES_MAX as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    // Its own rank: when the report is not among the best (a flood of longer copies), asked for alone.
    let itself = match ranked.iter().find(|(id, _)| *id == ticket_id) {
        Some((_, s)) => Some(*s),
        None => conn
            .prepare_cached(
                "SELECT bm25(ticket_search, ?3, ?4, ?5, ?6, ?7) FROM ticket_search
                 WHERE ticket_search MATCH ?1 AND rowid = ?2",
            )?
            .query_row(params![query, ticket_id, w1, w2, w3, w4, w5], |r| r.get(0))
            .optional()?,
    };
    let Some(itself) = itself else { return Ok(Vec::new()) };
    let mut row = conn.prepare_cached(
        "SELECT t.reference, t.state, t.outcome, t.subject, a.url FROM tickets t
         LEFT JOIN advisories a ON a.ticket_id = t.id WHERE t.id = ?1 AND t.erased_at IS NULL",
    )?;
    let mut out = Vec::new();
    for (id, score) in ranked {
        if id == ticket_id || out.len() >= limit {
            continue;
        }
        let found = row
            .query_row([id], |r| {
                Ok(Similar {
                    ticket_id: id,
                    reference: r.get("reference")?,
                    state: super::column(r, "tickets.state")?,
                    outcome: outcome_at(r)?,
                    title: r.get("subject")?,
                    percent: vdpd_core::search::percent(score, itself),
                    advisory: r.get("url")?,
                })
            })
            .optional()?;
        out.extend(found);
    }
    Ok(out)
}

/// An advisory as published: recorded per ticket, the last version.
pub struct Advisory<'a> {
    pub url: &'a str,
    pub title: &'a str,
    pub summary: &'a str,
    pub version: &'a str,
}

/// Records (or updates) the advisory published for a ticket.
pub fn record_advisory(conn: &Connection, ticket_id: i64, a: &Advisory<'_>, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO advisories(ticket_id, url, title, summary, version, published_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT(ticket_id) DO UPDATE SET url = excluded.url, title = excluded.title, summary = excluded.summary,
             version = excluded.version, published_at = excluded.published_at",
    )?
    .execute(params![ticket_id, a.url, a.title, a.summary, a.version, now])?;
    Ok(())
}

/// The published advisory of a ticket: (URL, title and summary).
pub fn advisory_of(conn: &Connection, ticket_id: i64) -> Result<Option<(String, String)>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT url, title || char(10) || summary FROM advisories WHERE ticket_id = ?1")?
        .query_row([ticket_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The text of the mail that opened a ticket (empty once purged).
pub fn report_text(conn: &Connection, ticket_id: i64) -> Result<String, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT body_text FROM messages WHERE ticket_id = ?1 AND direction = 'in' AND kind = 'report'
             ORDER BY created_at, id LIMIT 1",
        )?
        .query_row([ticket_id], |r| r.get(0))
        .optional()?
        .unwrap_or_default())
}

//! Duplicates by content: the full-text index (`ticket_search`, FTS5) over every ticket's words and its
//! published advisory, and the advisories `vdpd advisory publish` recorded. Which words to ask for is the
//! core's ([`vdpd_core::search`]); the ranking is SQLite's BM25.

use rusqlite::{Connection, OptionalExtension, params};
use vdpd_core::search::{Document, WEIGHTS};

use super::StoreError;
use super::tickets::{Outcome, outcome_at};
use crate::engine::TicketState;

/// Replaces a ticket's row of the index with `doc` (the shell builds it from the ticket as it now is).
///
/// The index's only writer: each call counts one change (`search_changes`, schema 21), which the word
/// counts remembered by [`similar`] rely on — one write moves a word's count by one at most.
pub fn put(conn: &Connection, ticket_id: i64, doc: &Document) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM ticket_search WHERE rowid = ?1")?.execute([ticket_id])?;
    conn.prepare_cached(
        "INSERT INTO ticket_search(rowid, title, asset, weakness, description, advisory) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![ticket_id, doc.title, doc.asset, doc.weakness, doc.description, doc.advisory])?;
    conn.prepare_cached("UPDATE search_changes SET changes = changes + 1 WHERE id = 1")?.execute([])?;
    Ok(())
}

/// Merges the index into one segment, which drops the words of deleted and replaced rows from its pages
/// (FTS5 otherwise keeps them, behind tombstones, until a merge reaches them): after a purge or an erasure,
/// before the write-ahead log is scrubbed ([`super::Store::scrub_if_pending`]).
/// The remembered counts of words no row has any more go too (a purged report's own words). Only when a
/// purge asked for it ([`compact_later`]): it rewrites the whole index, and the scrub it belongs to also
/// follows delivered receipts and purged unticketed mail, which leave the index as it was. Returns whether
/// it ran.
pub fn compact(conn: &Connection) -> Result<bool, StoreError> {
    let pending: bool =
        conn.prepare_cached("SELECT compact_pending FROM search_changes WHERE id = 1")?.query_row([], |r| r.get(0))?;
    if !pending {
        return Ok(false);
    }
    conn.execute("INSERT INTO ticket_search(ticket_search) VALUES ('optimize')", [])?;
    conn.execute("DELETE FROM search_words WHERE term NOT IN (SELECT term FROM ticket_search_words)", [])?;
    conn.execute("UPDATE search_changes SET compact_pending = 0 WHERE id = 1", [])?;
    Ok(true)
}

/// Asks for the next [`compact`]: a purge has emptied a row, whose words must leave the index's pages.
pub fn compact_later(conn: &Connection) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE search_changes SET compact_pending = 1 WHERE id = 1")?.execute([])?;
    Ok(())
}

/// Whether `term` can still rank in an index of `rows` rows ([`vdpd_core::search::ranks`]), from its
/// remembered count when that decides (see schema 21), else counted in the index — and remembered, when
/// `remember` (inside a write transaction).
fn term_ranks(conn: &Connection, term: &str, rows: i64, changes: i64, remember: bool) -> Result<bool, StoreError> {
    let known: Option<(i64, i64)> = conn
        .prepare_cached("SELECT docs, at_change FROM search_words WHERE term = ?1")?
        .query_row([term], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    if let Some(surely) = known.and_then(|(df, at)| vdpd_core::search::ranks_surely(df, changes - at, rows)) {
        return Ok(surely);
    }
    let df = rows_with(conn, term)?;
    if remember {
        conn.prepare_cached(
            "INSERT INTO search_words(term, docs, at_change) VALUES (?1, ?2, ?3)
             ON CONFLICT(term) DO UPDATE SET docs = excluded.docs, at_change = excluded.at_change",
        )?
        .execute(params![term, df, changes])?;
    }
    Ok(vdpd_core::search::ranks(df, rows))
}

/// How many of the index's rows use `term` (letters and digits only: the core's [`Document::terms`]), counted
/// by a full-text query, as BM25 itself counts them.
///
/// Not from the vocabulary table (`ticket_search_words`, fts5vocab): each cursor it opens prepares a
/// statement of its own and first writes the index's pending changes to disk as a new segment — for every
/// word counted, so a transaction of many reports left many small segments for FTS5 to merge (a twentieth of
/// the daemon's CPU in the shipped backlog). A query reads the pending changes where they are.
fn rows_with(conn: &Connection, term: &str) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM ticket_search WHERE ticket_search MATCH ?1")?
        .query_row([format!("\"{term}\"")], |r| r.get(0))?)
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
    let changes: i64 =
        conn.prepare_cached("SELECT changes FROM search_changes WHERE id = 1")?.query_row([], |r| r.get(0))?;
    // Counts are remembered only by a writer that is inside its transaction (intake, staff): `tickets show`
    // and other readers leave the store as they found it.
    let remember = !conn.is_autocommit() && !conn.is_readonly(rusqlite::MAIN_DB)?;
    let mut terms = Vec::new();
    for t in doc.terms() {
        if term_ranks(conn, &t, rows, changes, remember)? {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;
    use crate::store::tickets::insert_example;

    fn doc(i: i64) -> Document {
        // "every" is in every report; "early" only in the first 150 (and taken out of them again below);
        // "flaw{i}" is each one's own.
        let early = if i <= 150 { " early" } else { "" };
        Document {
            title: format!("Reflected XSS number {i}"),
            asset: "https://app.example.test/search".into(),
            weakness: "CWE-79".into(),
            description: format!("every report says this flaw{i}{early} and the q parameter is reflected"),
            advisory: String::new(),
        }
    }

    /// A word's rows counted by a full-text query are the vocabulary's count, also after rows were rewritten
    /// and emptied (secure-delete takes a replaced row's words out of the pages), and with the index's
    /// changes still pending in the transaction.
    #[test]
    fn a_words_rows_counted_by_a_query_are_the_vocabularys_count() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .write(|tx| {
                for i in 1..=60_i64 {
                    let id = insert_example(tx, i, i)?;
                    put(tx, id, &doc(i))?;
                    if i % 3 == 0 {
                        let mut d = doc(i - 1);
                        d.description = d.description.replace(" early", " later");
                        put(tx, i - 1, &d)?;
                    }
                    if i % 7 == 0 {
                        put(tx, i - 2, &Document::default())?;
                    }
                    for term in ["every", "early", "later", "flaw1", &format!("flaw{i}"), "absent", "cwe", "79"] {
                        let vocab: i64 = tx
                            .query_row("SELECT doc FROM ticket_search_words WHERE term = ?1", [term], |r| r.get(0))
                            .optional()?
                            .unwrap_or(0);
                        assert_eq!(rows_with(tx, term)?, vocab, "{term} after report {i}");
                    }
                }
                Ok::<_, StoreError>(())
            })
            .unwrap();
        let conn = store.conn();
        assert_eq!(rows_with(conn, "absent").unwrap(), 0);
        assert!(rows_with(conn, "every").unwrap() >= 50);
    }

    /// What `similar` finds counting every word in the index afresh, as before schema 21.
    fn counted_afresh(conn: &Connection, id: i64, d: &Document) -> Vec<(i64, u8)> {
        conn.execute_batch("SAVEPOINT afresh; DELETE FROM search_words").unwrap();
        let found = similar(conn, id, d, 5).unwrap();
        conn.execute_batch("ROLLBACK TO afresh; RELEASE afresh").unwrap();
        found.into_iter().map(|s| (s.ticket_id, s.percent)).collect()
    }

    /// Remembered counts give exactly what counting afresh gives, while words cross the half both ways (a
    /// word every report has, one that rows stop having and that earlier rows lose again), and they are
    /// counted again only now and then; a purged report's words are forgotten.
    #[test]
    fn remembered_word_counts_decide_as_counting_afresh_does() {
        let mut store = Store::open_in_memory().unwrap();
        let mut recounts_of_every = 0;
        let mut last_at = None;
        for i in 1..=420_i64 {
            store
                .write(|tx| {
                    let id = insert_example(tx, i, i)?;
                    put(tx, id, &doc(i))?;
                    // From the 300th on, earlier reports lose "early" again (a rewrite of their row).
                    if i > 300 && i - 300 <= 150 {
                        let mut d = doc(i - 300);
                        d.description = d.description.replace(" early", "");
                        put(tx, i - 300, &d)?;
                    }
                    let found: Vec<(i64, u8)> =
                        similar(tx, id, &doc(i), 5)?.into_iter().map(|s| (s.ticket_id, s.percent)).collect();
                    assert_eq!(found, counted_afresh(tx, id, &doc(i)), "report {i}");
                    let at: Option<i64> = tx
                        .query_row("SELECT at_change FROM search_words WHERE term = 'every'", [], |r| r.get(0))
                        .optional()?;
                    if at != last_at {
                        recounts_of_every += 1;
                        last_at = at;
                    }
                    Ok::<_, StoreError>(())
                })
                .unwrap();
        }
        // Counting every time would be 420 counts of "every"; the bound saves nearly all of them.
        assert!(recounts_of_every < 40, "{recounts_of_every} counts of a word every report has");

        let conn = store.conn();
        let remembered = |w: &str| -> bool {
            conn.query_row("SELECT count(*) FROM search_words WHERE term = ?1", [w], |r| r.get::<_, i64>(0)).unwrap()
                == 1
        };
        assert!(remembered("flaw420") && remembered("every"));
        // Report 420 purged: its row emptied; compacting drops its own words, and only those — when a purge
        // asked for it, and once.
        put(conn, 420, &Document::default()).unwrap();
        assert!(!compact(conn).unwrap(), "nothing asked for it");
        assert!(remembered("flaw420"));
        compact_later(conn).unwrap();
        assert!(compact(conn).unwrap());
        assert!(!remembered("flaw420"), "a purged report's own words leave the store");
        assert!(remembered("flaw419") && remembered("every"));
        assert!(!compact(conn).unwrap(), "once");
        // (That its words leave the index's pages too is checked on the files of a real desk: the bounty
        // policy's life in tests/policy.rs, where a purged report's own word is found nowhere.)
        // A reader (no transaction) remembers nothing.
        let before: i64 = conn.query_row("SELECT count(*) FROM search_words", [], |r| r.get(0)).unwrap();
        similar(conn, 419, &doc(419), 5).unwrap();
        let after: i64 = conn.query_row("SELECT count(*) FROM search_words", [], |r| r.get(0)).unwrap();
        assert_eq!(before, after);
    }
}

//! Duplicate search from the shell's side: a ticket's words gathered from the store into the index's
//! [`Document`], rewritten whenever a mail, staff, a purge or a published advisory changes them, and the
//! tickets closest to a report for staff.

use vdpd_core::search::{DESCRIPTION_MAX_BYTES, Document};

use crate::config::Config;
use crate::store::{self, StoreError};
use rusqlite::Connection;

/// How many similar tickets staff are shown.
pub const SHOWN: usize = 5;

/// Below this, a "similar" ticket shares little more than a word or two of a long report. (Reports of one
/// flaw in other words score 10–30 % beside a long report's own text; see the corpus test in the lives tier.)
pub const MIN_PERCENT: u8 = 5;

/// The ticket's words as the index holds them: its title, asset, weakness, the first report's text and the
/// form's descriptive sections (not who reported it), and its published advisory.
pub fn document(conn: &Connection, config: &Config, ticket_id: i64) -> Result<Option<Document>, StoreError> {
    let Some(t) = store::tickets::ticket_by_id(conn, ticket_id)? else { return Ok(None) };
    let mut description = store::search::report_text(conn, ticket_id)?;
    let describing = |name: &str| {
        config.report_form.sections.iter().any(|s| s.name == name && vdpd_core::form::describes_the_flaw(s))
    };
    for (section, value) in store::form::sections(conn, ticket_id)? {
        // A section read from the report's own prose is already in its text.
        if describing(&section) && !description.contains(value.trim()) {
            description.push('\n');
            description.push_str(&value);
        }
    }
    truncate(&mut description, DESCRIPTION_MAX_BYTES);
    let advisory = store::search::advisory_of(conn, ticket_id)?.map(|(_, text)| text).unwrap_or_default();
    Ok(Some(Document { title: t.subject, asset: t.asset, weakness: t.weakness, description, advisory }))
}

/// Rewrites the ticket's row of the index from what the store now holds.
pub fn reindex(conn: &Connection, config: &Config, ticket_id: i64) -> Result<(), StoreError> {
    if let Some(doc) = document(conn, config, ticket_id)? {
        store::search::put(conn, ticket_id, &doc)?;
    }
    Ok(())
}

/// The tickets most like this one that staff should see, best first.
pub fn similar(conn: &Connection, config: &Config, ticket_id: i64) -> Result<Vec<store::search::Similar>, StoreError> {
    let Some(doc) = document(conn, config, ticket_id)? else { return Ok(Vec::new()) };
    let mut found = store::search::similar(conn, ticket_id, &doc, SHOWN)?;
    found.retain(|s| s.percent >= MIN_PERCENT);
    Ok(found)
}

fn truncate(s: &mut String, max: usize) {
    if s.len() > max {
        let mut end = max;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
    }
}

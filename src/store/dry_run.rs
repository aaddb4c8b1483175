//! What processing one message added to a store: the rows a dry run (`vdpd ingest --dry-run`) shows. The
//! message is processed for real, by the same code, in a copy of the store ([`super::Store::copy_in_memory`]);
//! these queries read what that left behind, so what is shown is exactly what a delivery would do.

use mail_parser::MimeHeaders;
use rusqlite::Connection;

use super::StoreError;

/// The last row of each table processing adds to, before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Marks {
    timeline: i64,
    outbox: i64,
    warnings: i64,
}

/// Where the tables end now.
pub fn marks(conn: &Connection) -> Result<Marks, StoreError> {
    let last = |table: &str| -> Result<i64, StoreError> {
        Ok(conn.query_row(&format!("SELECT coalesce(max(id), 0) FROM {table}"), [], |r| r.get(0))?)
    };
    Ok(Marks { timeline: last("timeline")?, outbox: last("outbox")?, warnings: last("staff_warnings")? })
}

/// A timeline entry added.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AddedEvent {
    pub reference: String,
    pub actor: String,
    pub event: String,
    pub detail: String,
}

/// A mail queued: one per recipient.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AddedMail {
    pub kind: String,
    pub recipient: String,
    /// The subject as the ticket records it ('' for mail outside a ticket).
    pub subject: String,
    pub encrypted: bool,
}

/// A staff warning recorded, and whether it would be mailed (the daily cap).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AddedWarning {
    pub kind: String,
    pub detail: String,
    pub mailed: bool,
}

/// Everything added after `marks`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Added {
    pub timeline: Vec<AddedEvent>,
    pub mails: Vec<AddedMail>,
    pub warnings: Vec<AddedWarning>,
    /// The tickets whose timeline grew (their ids), to compare before and after.
    #[serde(skip)]
    pub ticket_ids: Vec<i64>,
}

pub fn added_since(conn: &Connection, marks: &Marks) -> Result<Added, StoreError> {
    let timeline = conn
        .prepare(
            "SELECT t.reference, e.actor, e.event, e.detail FROM timeline e JOIN tickets t ON t.id = e.ticket_id
             WHERE e.id > ?1 ORDER BY e.id",
        )?
        .query_map([marks.timeline], |r| {
            Ok(AddedEvent {
                reference: r.get("reference")?,
                actor: r.get("actor")?,
                event: r.get("event")?,
                detail: r.get("detail")?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let mails = conn
        .prepare(
            "SELECT o.kind, o.recipient, m.subject, coalesce(substr(b.raw, 1, 16384), x'') AS head FROM outbox o
             LEFT JOIN outbox_body b ON b.id = o.body_id
             LEFT JOIN messages m ON m.id = o.message_row WHERE o.id > ?1 ORDER BY o.id",
        )?
        .query_map([marks.outbox], |r| {
            let head: Vec<u8> = r.get("head")?;
            let parsed = mail_parser::MessageParser::default().parse_headers(&head[..]);
            let encrypted = parsed
                .as_ref()
                .and_then(|m| m.content_type())
                .is_some_and(|ct| ct.ctype() == "multipart" && ct.subtype() == Some("encrypted"));
            // Mail outside a ticket records no subject: its own header says it.
            let subject: Option<String> = r.get("subject")?;
            let subject =
                subject.unwrap_or_else(|| parsed.and_then(|m| m.subject().map(str::to_string)).unwrap_or_default());
            Ok(AddedMail { kind: r.get("kind")?, recipient: r.get("recipient")?, subject, encrypted })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let warnings = conn
        .prepare("SELECT kind, detail, mailed FROM staff_warnings WHERE id > ?1 ORDER BY id")?
        .query_map([marks.warnings], |r| {
            Ok(AddedWarning { kind: r.get("kind")?, detail: r.get("detail")?, mailed: r.get("mailed")? })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    let ticket_ids = conn
        .prepare("SELECT DISTINCT ticket_id FROM timeline WHERE id > ?1 ORDER BY ticket_id")?
        .query_map([marks.timeline], |r| r.get(0))?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Added { timeline, mails, warnings, ticket_ids })
}

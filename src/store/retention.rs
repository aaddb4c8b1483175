//! SQL for retention: purging a ticket's report content, and erasing a researcher's personal data.
//!
//! What stays after a purge is what statistics and the hall of fame need: the reference, the dates, the
//! state and outcome, severity and CVSS, the weakness, the asset's host, bounty and credit. Message-IDs stay
//! too, so a late reply still finds its ticket. Everything the researcher wrote — bodies, subjects, files,
//! form answers, the raw messages in and out — goes.

use rusqlite::{Connection, params};

use super::StoreError;

/// What a purge deletes (or would delete).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Purge {
    /// Messages in and out whose text goes.
    pub messages: i64,
    /// Files, and their bytes.
    pub attachments: i64,
    pub attachment_bytes: i64,
    pub form_sections: i64,
    /// Raw copies of mail (as received, as sent).
    pub raw_mails: i64,
}

/// What purging `ticket_id` would delete.
pub fn preview(conn: &Connection, ticket_id: i64) -> Result<Purge, StoreError> {
    let count = |sql: &str| -> Result<i64, StoreError> { Ok(conn.query_row(sql, [ticket_id], |r| r.get(0))?) };
    Ok(Purge {
        messages: count(
            "SELECT count(*) FROM messages WHERE ticket_id = ?1 AND (body_text != '' OR subject != '' OR unsigned_text != '')",
        )?,
        attachments: count("SELECT count(*) FROM attachments WHERE ticket_id = ?1 AND data IS NOT NULL")?,
        attachment_bytes: count(
            "SELECT coalesce(sum(length(data)), 0) FROM attachments WHERE ticket_id = ?1 AND data IS NOT NULL",
        )?,
        form_sections: count("SELECT count(*) FROM form_sections WHERE ticket_id = ?1")?,
        raw_mails: count(
            "SELECT (SELECT count(*) FROM intake_raw WHERE intake_id IN (SELECT id FROM intake WHERE ticket_id = ?1))
                  + (SELECT count(*) FROM outbox_body b WHERE length(b.raw) > 0 AND b.id IN
                        (SELECT body_id FROM outbox WHERE ticket_id = ?1 AND status IN ('sent', 'failed'))
                     AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.body_id = b.id
                                     AND o.status NOT IN ('sent', 'failed')))",
        )?,
    })
}

/// Deletes a ticket's report content; `asset_host` replaces the asset (the host is kept for statistics and
/// duplicate hints, the path and query may carry detail). Mail still queued keeps its bytes until it is sent.
pub fn purge_ticket(conn: &Connection, ticket_id: i64, asset_host: &str, now: i64) -> Result<Purge, StoreError> {
    let done = preview(conn, ticket_id)?;
    conn.prepare_cached("UPDATE messages SET body_text = '', unsigned_text = '', subject = '' WHERE ticket_id = ?1")?
        .execute([ticket_id])?;
    super::outbox::unlink_records(conn, ticket_id)?;
    conn.prepare_cached("UPDATE attachments SET data = NULL, name = '' WHERE ticket_id = ?1")?.execute([ticket_id])?;
    conn.prepare_cached("DELETE FROM form_sections WHERE ticket_id = ?1")?.execute([ticket_id])?;
    // The published advisory stays public where it was published; its link stays (for #duplicate), the
    // words it took from the report go with the rest.
    conn.prepare_cached("UPDATE advisories SET title = '', summary = '' WHERE ticket_id = ?1")?.execute([ticket_id])?;
    conn.prepare_cached("DELETE FROM intake_raw WHERE intake_id IN (SELECT id FROM intake WHERE ticket_id = ?1)")?
        .execute([ticket_id])?;
    conn.prepare_cached("UPDATE intake SET subject = '' WHERE ticket_id = ?1")?.execute([ticket_id])?;
    conn.prepare_cached(&blank_bodies(
        "SELECT body_id FROM outbox WHERE ticket_id = ?1 AND status IN ('sent', 'failed')",
    ))?
    .execute([ticket_id])?;
    // The events whose detail quotes the researcher (their subject).
    let mut quoting = conn.prepare_cached("UPDATE timeline SET detail = '' WHERE ticket_id = ?1 AND event = ?2")?;
    for event in vdpd_core::timeline::Event::QUOTING {
        quoting.execute(params![ticket_id, event.to_string()])?;
    }
    conn.prepare_cached("UPDATE tickets SET subject = '', asset = ?2, purged_at = ?3 WHERE id = ?1")?
        .execute(params![ticket_id, asset_host, now])?;
    // Its words leave the full-text index's pages at the scrub (the caller rewrites its row there).
    super::search::compact_later(conn)?;
    super::health::set(conn, super::health::Key::StoreScrubPending, "purge", now)?;
    Ok(done)
}

/// The tickets an address reported or took part in.
pub fn tickets_of(conn: &Connection, address: &str) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id FROM tickets WHERE reporter = ?1
         UNION SELECT ticket_id FROM participants WHERE address = ?1 ORDER BY 1",
    )?;
    let rows = stmt.query_map([address], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(rows)
}

/// Erases an address from the store: as reporter and participant, in messages, raw mail in and out (except
/// mail still queued: the receipt of this very erasure, whose row is blanked once sent), its OpenPGP
/// certificate, the timeline, and credit. The tickets' content must have been purged by the caller.
pub fn erase_address(conn: &Connection, address: &str, tickets: &[i64], now: i64) -> Result<(), StoreError> {
    // On a ticket they took part in as a co-reporter, the reporter (someone else) and their credit stay.
    let mut erase_ticket = conn.prepare(
        "UPDATE tickets SET reporter = '', credit = NULL, credit_consent = '', erased_at = ?2
         WHERE id = ?1 AND reporter = ?3",
    )?;
    let mut scrub_timeline = conn.prepare(
        "UPDATE timeline SET detail = replace(detail, ?2, '(erased)') WHERE ticket_id = ?1 AND instr(detail, ?2) > 0",
    )?;
    for id in tickets {
        erase_ticket.execute(params![id, now, address])?;
        scrub_timeline.execute(params![id, address])?;
    }
    conn.prepare_cached("DELETE FROM participants WHERE address = ?1")?.execute([address])?;
    conn.prepare_cached("UPDATE messages SET from_addr = '' WHERE from_addr = ?1")?.execute([address])?;
    conn.prepare_cached("UPDATE messages SET to_addr = '' WHERE to_addr = ?1")?.execute([address])?;
    // The dedup key names the sender too; a unique placeholder keeps its index happy.
    conn.prepare_cached("DELETE FROM intake_raw WHERE intake_id IN (SELECT id FROM intake WHERE from_addr = ?1)")?
        .execute([address])?;
    conn.prepare_cached(
        "UPDATE intake SET from_addr = '', subject = '', dedup_key = 'erased:' || id WHERE from_addr = ?1",
    )?
    .execute([address])?;
    conn.prepare_cached(&blank_bodies(
        "SELECT body_id FROM outbox WHERE recipient = ?1 AND status IN ('sent', 'failed')",
    ))?
    .execute([address])?;
    conn.prepare_cached("UPDATE outbox SET recipient = '' WHERE recipient = ?1 AND status IN ('sent', 'failed')")?
        .execute([address])?;
    // Their keys: held, offered, and the record of signatures they made.
    conn.prepare_cached(
        "DELETE FROM accepted_signatures WHERE signer IN
             (SELECT fingerprint FROM openpgp_certs WHERE address = ?1
              UNION SELECT fingerprint FROM openpgp_offers WHERE address = ?1)",
    )?
    .execute([address])?;
    conn.prepare_cached("DELETE FROM openpgp_certs WHERE address = ?1")?.execute([address])?;
    conn.prepare_cached("DELETE FROM openpgp_offers WHERE address = ?1")?.execute([address])?;
    super::languages::forget(conn, address)?;
    conn.prepare_cached("UPDATE timeline SET actor = '(erased)' WHERE actor = ?1")?.execute([address])?;
    super::health::set(conn, super::health::Key::StoreScrubPending, "erasure", now)?;
    Ok(())
}

/// Blanks an outbox row that was sent or failed for a ticket whose content is gone: its bytes (purged or
/// erased) and its recipient (erased).
pub fn after_delivery(conn: &Connection, outbox_id: i64, now: i64) -> Result<(), StoreError> {
    // One indexed look first: nearly every delivered row belongs to a ticket whose content is still there.
    let gone: bool = conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM outbox o JOIN tickets t ON t.id = o.ticket_id
                            WHERE o.id = ?1 AND o.status IN ('sent', 'failed')
                              AND (t.purged_at IS NOT NULL OR t.erased_at IS NOT NULL))",
        )?
        .query_row([outbox_id], |r| r.get(0))?;
    if !gone {
        return Ok(());
    }
    conn.prepare_cached(&blank_bodies("SELECT body_id FROM outbox WHERE id = ?1"))?.execute([outbox_id])?;
    conn.prepare_cached(
        "UPDATE outbox SET recipient = '' WHERE id = ?1
           AND (SELECT erased_at FROM tickets WHERE id = outbox.ticket_id) IS NOT NULL",
    )?
    .execute([outbox_id])?;
    // The receipt of an erasure names the researcher: its old bytes must not linger in the WAL.
    super::health::set(conn, super::health::Key::StoreScrubPending, "delivered receipt", now)?;
    Ok(())
}

/// SQL blanking the stored bytes of the outbox rows `rows` selects (a query of `body_id`s) — each body once
/// none of the rows sharing it (a team notification's other members) is still to be delivered: a body still
/// waiting keeps its bytes until [`after_delivery`] of its last row.
fn blank_bodies(rows: &str) -> String {
    format!(
        "UPDATE outbox_body SET raw = x'' WHERE id IN ({rows}) AND length(raw) > 0
         AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.body_id = outbox_body.id AND o.status NOT IN ('sent', 'failed'))"
    )
}

/// Purges the raw bytes of mail that became no ticket (quarantined, dropped, a second delivery, answered
/// without a ticket) and arrived before `before`: what happened to it — status, reason, sender, size —
/// stays on record. At most `limit` rows at a time; returns how many were purged.
pub fn purge_unticketed_raw(conn: &Connection, before: i64, limit: usize, now: i64) -> Result<usize, StoreError> {
    let n = conn
        .prepare_cached(
            "DELETE FROM intake_raw WHERE intake_id IN (
                 SELECT i.id FROM intake i JOIN intake_raw r ON r.intake_id = i.id
                 WHERE i.status IN ('quarantined', 'dropped', 'duplicate', 'answered') AND i.fetched_at < ?1
                 LIMIT ?2)",
        )?
        .execute(params![before, limit as i64])?;
    if n > 0 {
        super::health::set(conn, super::health::Key::StoreScrubPending, "unticketed mail", now)?;
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use vdpd_core::mail::MessageKind;

    use super::*;
    use crate::store::Store;
    use crate::store::outbox::{self, NewOutgoing, SendResult};

    fn body_of(conn: &Connection, row: i64) -> Vec<u8> {
        conn.query_row(
            "SELECT b.raw FROM outbox o JOIN outbox_body b ON b.id = o.body_id WHERE o.id = ?1",
            [row],
            |r| r.get(0),
        )
        .unwrap()
    }

    /// A team notification's rows share their bytes: purging the ticket while one member's copy is still
    /// queued keeps the bytes for that delivery, and they go once it is done — never sooner, never left.
    #[test]
    fn shared_bytes_are_purged_once_every_row_of_the_message_is_delivered() {
        let store = Store::open_in_memory().unwrap();
        let conn = store.conn();
        conn.execute(
            "INSERT INTO tickets (reference, reporter, created_at, updated_at, received_at)
             VALUES ('EX-2026-0001', 'r@research.test', 1, 1, 1)",
            [],
        )
        .unwrap();
        let ticket = conn.last_insert_rowid();
        let seal = outbox::new_seal(conn, "{}", None, 1).unwrap();
        let row = |to: &'static str| NewOutgoing {
            seal,
            message_row: None,
            ticket_id: Some(ticket),
            kind: MessageKind::StaffNewReport,
            auto_reply: false,
            envelope_from: "security@example.test",
            recipient: to,
            created_at: 1,
        };
        let alice = outbox::enqueue(conn, &row("alice@example.test")).unwrap();
        let bob = outbox::enqueue(conn, &row("bob@example.test")).unwrap();
        assert_eq!(outbox::sealed(conn, seal, b"the team's sealed notification").unwrap(), 2, "one body, both rows");
        let claimed = outbox::claim_due(conn, 2, 8, 8).unwrap();
        assert_eq!(claimed.len(), 2);
        assert!(std::sync::Arc::ptr_eq(&claimed[0].raw, &claimed[1].raw), "one body read once for both rows");
        outbox::record_result(conn, alice, &SendResult::Sent { response: "250".into() }, 3).unwrap();
        outbox::record_result(conn, bob, &SendResult::Deferred { error: "451".into(), retry_at: 9 }, 3).unwrap();

        assert_eq!(preview(conn, ticket).unwrap().raw_mails, 0, "Bob's copy still waits for these bytes");
        purge_ticket(conn, ticket, "example.test", 4).unwrap();
        assert_eq!(body_of(conn, bob), b"the team's sealed notification");

        outbox::record_result(conn, bob, &SendResult::Sent { response: "250".into() }, 10).unwrap();
        after_delivery(conn, bob, 10).unwrap();
        assert_eq!(body_of(conn, alice), b"");
        assert_eq!(body_of(conn, bob), b"");
    }
}

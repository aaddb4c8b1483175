//! Numbered schema migrations.
//!
//! `PRAGMA user_version` is the schema version. Each migration runs in its own transaction together with the
//! bump of that number, so a crash mid-upgrade leaves the database at the previous version, never in between.
//! Migrations are append-only: a released one is never edited, a change is a new number.

use rusqlite::Connection;

use super::StoreError;

/// (version, SQL). Versions are consecutive from 1.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("sql/001_initial.sql")),
    (2, include_str!("sql/002_openpgp_form.sql")),
    (3, include_str!("sql/003_staff.sql")),
    (4, include_str!("sql/004_policy.sql")),
    (5, include_str!("sql/005_oauth2.sql")),
    (6, include_str!("sql/006_queue_index.sql")),
    (7, include_str!("sql/007_trust.sql")),
    (8, include_str!("sql/008_sealing.sql")),
    (9, include_str!("sql/009_outbox_bodies.sql")),
    (10, include_str!("sql/010_intake_raw.sql")),
    (11, include_str!("sql/011_lookups.sql")),
    (12, include_str!("sql/012_cra.sql")),
    (13, include_str!("sql/013_response_metrics.sql")),
    (14, include_str!("sql/014_cve.sql")),
    (15, include_str!("sql/015_incidents.sql")),
    (16, include_str!("sql/016_prose.sql")),
    (17, include_str!("sql/017_duplicates.sql")),
    (18, include_str!("sql/018_lanes.sql")),
    (19, include_str!("sql/019_languages.sql")),
    (20, include_str!("sql/020_dedup_lookup.sql")),
    (21, include_str!("sql/021_search_words.sql")),
    (22, include_str!("sql/022_duplicate_hint.sql")),
    (23, include_str!("sql/023_rendered_after_commit.sql")),
    (24, include_str!("sql/024_queue_order.sql")),
];

/// The newest schema version this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map(|(v, _)| *v).unwrap_or(0)
}

/// Brings the database up to [`latest`], refusing one that is newer than this build.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if current > latest() {
        return Err(StoreError::TooNew { found: current, supported: latest() });
    }
    for &(version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        let tx = conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Exclusive)
            .map_err(|source| StoreError::Migration { version, source })?;
        // Another process may have migrated while we waited for the lock.
        let now: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if now >= version {
            continue;
        }
        tx.execute_batch(sql)
            .and_then(|()| tx.pragma_update(None, "user_version", version))
            .and_then(|()| tx.commit())
            .map_err(|source| StoreError::Migration { version, source })?;
        tracing::info!(version, "database schema migrated to version {version}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive() {
        for (i, (v, _)) in MIGRATIONS.iter().enumerate() {
            assert_eq!(*v, i as i64 + 1);
        }
    }

    #[test]
    fn migrates_an_empty_database_and_is_idempotent() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0)).unwrap();
        assert_eq!(v, latest());
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'outbox'", [], |r| r.get(0))
            .unwrap();
        assert_eq!(tables, 1);
    }

    #[test]
    fn each_migration_applies_to_the_schema_before_it_with_data_in_place() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(MIGRATIONS[0].1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute(
            "INSERT INTO tickets (reference, reporter, created_at, updated_at, received_at) VALUES ('EX-2026-0001', 'a@b.c', 1, 1, 1)",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let (severity, complete): (String, Option<i64>) = conn
            .query_row("SELECT severity, form_complete_at FROM tickets", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!((severity.as_str(), complete), ("", None));
    }

    /// A database migrated up to `version` only, as a store of that version left it.
    fn at_version(version: i64) -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        for (v, sql) in MIGRATIONS.iter().take_while(|(v, _)| *v <= version) {
            conn.execute_batch(sql).unwrap();
            conn.pragma_update(None, "user_version", v).unwrap();
        }
        conn
    }

    /// (text, text, bytes or NULL) rows of `sql`.
    fn rows(conn: &Connection, sql: &str) -> Vec<(String, String, Option<Vec<u8>>)> {
        conn.prepare(sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn has_column(conn: &Connection, table: &str, column: &str) -> bool {
        conn.query_row("SELECT count(*) FROM pragma_table_info(?1) WHERE name = ?2", [table, column], |r| {
            r.get::<_, i64>(0)
        })
        .unwrap()
            > 0
    }

    /// Version 9 moves the bytes of mail already in the outbox into `outbox_body`: a row queued, sent or
    /// blanked keeps exactly its bytes, one still to be sealed gets none, and nothing is lost on the way.
    #[test]
    fn outbox_bytes_move_to_bodies_with_every_row_keeping_its_own() {
        let mut conn = at_version(8);
        conn.execute_batch(
            "INSERT INTO outbox (kind, envelope_from, recipient, raw, status, created_at, next_attempt_at)
             VALUES ('acknowledgement', 's@x', 'a@r', x'6163', 'queued', 1, 1),
                    ('acknowledgement', 's@x', 'b@r', x'', 'sent', 1, 1);
             INSERT INTO outbox_seal (composition, created_at) VALUES ('{}', 1);
             INSERT INTO outbox (kind, envelope_from, recipient, raw, status, created_at, next_attempt_at, seal_id)
             VALUES ('notification', 's@x', 'alice@x', x'', 'sealing', 1, 1, 1);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let rows = rows(
            &conn,
            "SELECT o.recipient, o.status, b.raw FROM outbox o LEFT JOIN outbox_body b ON b.id = o.body_id ORDER BY o.id",
        );
        assert_eq!(
            rows,
            vec![
                ("a@r".into(), "queued".into(), Some(b"ac".to_vec())),
                ("b@r".into(), "sent".into(), Some(vec![])),
                ("alice@x".into(), "sealing".into(), None),
            ]
        );
        assert!(!has_column(&conn, "outbox", "raw"), "the bytes live in outbox_body only");
    }

    /// Version 10 moves each message's raw bytes into `intake_raw`: kept bytes move with their row's id, purged
    /// ones (NULL) leave no row, and the intake rows themselves are untouched.
    #[test]
    fn intake_bytes_move_apart_from_their_rows() {
        let mut conn = at_version(9);
        conn.execute_batch(
            "INSERT INTO intake (intake_key, source, size, raw, fetched_at, status)
             VALUES ('k1', 'ingest', 2, x'6869', 1, 'ticket'), ('k2', 'ingest', 2, NULL, 1, 'dropped');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let rows = rows(
            &conn,
            "SELECT i.intake_key, i.status, r.raw FROM intake i LEFT JOIN intake_raw r ON r.intake_id = i.id ORDER BY i.id",
        );
        assert_eq!(
            rows,
            vec![("k1".into(), "ticket".into(), Some(b"hi".to_vec())), ("k2".into(), "dropped".into(), None)]
        );
        assert!(!has_column(&conn, "intake", "raw"), "the bytes live in intake_raw only");
    }

    /// Version 12 adds the CRA facts: a ticket of before is not exploited, names no product, has no filing,
    /// and a stage is filed once per ticket.
    #[test]
    fn tickets_of_before_have_no_cra_facts_and_a_stage_is_filed_once() {
        let mut conn = at_version(11);
        conn.execute(
            "INSERT INTO tickets (reference, reporter, created_at, updated_at, received_at) VALUES ('EX-2026-0001', 'a@b.c', 1, 1, 1)",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let (exploited, by, mitigated, product): (Option<i64>, String, Option<i64>, String) = conn
            .query_row("SELECT exploited_at, exploited_by, mitigated_at, product FROM tickets", [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
            })
            .unwrap();
        assert_eq!((exploited, by.as_str(), mitigated, product.as_str()), (None, "", None, ""));
        let file =
            "INSERT INTO cra_filings (ticket_id, stage, filed_at, filed_by) VALUES (1, 'early-warning', 2, 'a@x')";
        conn.execute(file, []).unwrap();
        assert!(conn.execute(file, []).is_err(), "a stage is filed once");
    }

    /// Version 13 reads the moments of the response metrics off what tickets of before recorded: the first
    /// move to accepted, fixing or resolved on the timeline, and the first staff mail relayed to the researcher.
    #[test]
    fn response_moments_are_read_off_the_timeline_and_messages_of_before() {
        let mut conn = at_version(12);
        conn.execute_batch(
            "INSERT INTO tickets (reference, reporter, created_at, updated_at, received_at)
             VALUES ('EX-2026-0001', 'a@b.c', 1, 1, 1), ('EX-2026-0002', 'a@b.c', 1, 1, 1);
             INSERT INTO timeline (ticket_id, at, actor, event, detail) VALUES
               (1, 5, 'alice@x', 'state changed', 'new → triage'),
               (1, 7, 'alice@x', 'state changed', 'triage → accepted'),
               (1, 9, 'alice@x', 'resolved', 'the researcher is asked to confirm the fix'),
               (2, 6, 'alice@x', 'closed', 'duplicate (EX-2026-0001)');
             INSERT INTO messages (ticket_id, direction, kind, message_id, from_addr, to_addr, subject, created_at)
             VALUES (1, 'out', 'acknowledgement', '<a>', 's@x', 'a@b.c', 's', 2),
                    (1, 'out', 'staff-reply', '<b>', 's@x', 'a@b.c', 's', 8),
                    (1, 'out', 'staff-reply', '<c>', 's@x', 'a@b.c', 's', 10);",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let got: Vec<(Option<i64>, Option<i64>)> = conn
            .prepare("SELECT validated_at, first_response_at FROM tickets ORDER BY id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(got, [(Some(7), Some(8)), (None, None)]);
    }

    /// Version 22 rebuilds the weakness index over the tickets already there: the duplicate hint finds the
    /// same candidates through it, and a ticket without a weakness stays out of it.
    #[test]
    fn the_weakness_index_is_rebuilt_over_the_tickets_of_before() {
        let mut conn = at_version(21);
        conn.execute_batch(
            "INSERT INTO tickets (reference, reporter, created_at, updated_at, received_at, weakness, asset, state)
             VALUES ('EX-2026-0001', 'a@b.c', 1, 1, 1, 'CWE-79', 'https://app.example.test/a', 'triage'),
                    ('EX-2026-0002', 'a@b.c', 1, 1, 1, 'CWE-79', 'https://app.example.test/b', 'new'),
                    ('EX-2026-0003', 'a@b.c', 1, 1, 1, '', 'https://app.example.test/a', 'new'),
                    ('EX-2026-0004', 'a@b.c', 1, 1, 1, 'CWE-89', 'https://app.example.test/a', 'new');",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let index: String = conn
            .query_row("SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'tickets_weakness'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(
            index.contains("asset, state, outcome, erased_at, reference") && index.contains("WHERE weakness != ''")
        );
        let entries: i64 = conn
            .query_row("SELECT count(*) FROM tickets INDEXED BY tickets_weakness WHERE weakness != ''", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(entries, 3);
        let found = crate::store::tickets::same_weakness_assets(&conn, "CWE-79", 0, 0).unwrap();
        assert_eq!(
            found,
            [("https://app.example.test/a".to_string(), 1), ("https://app.example.test/b".to_string(), 1)]
        );
    }

    #[test]
    fn refuses_a_newer_database() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", latest() + 1).unwrap();
        assert!(matches!(migrate(&mut conn), Err(StoreError::TooNew { .. })));
    }
}

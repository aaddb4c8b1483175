use super::*;
use std::path::Path;

const POLICY: &str = r#"
[organisation]
name = "Example"
security_address = "security@example.test"
ticket_prefix = "EX"

[smtp]
host = "127.0.0.1"
tls = "none"

[store]
path = "vdpd.sqlite"

[limits]
new_tickets_per_sender_per_day = 3

[sla]
acknowledge = "24h"
first_diagnosis = "7 business days"
"#;

fn env() -> Env {
    let config = crate::config::parse(POLICY, Path::new("/nonexistent/policy.toml")).unwrap();
    let templates = Templates::load(Path::new("/nonexistent/templates")).unwrap();
    Env {
        config: Arc::new(config),
        templates: Arc::new(templates),
        keys: Arc::new(crate::openpgp::keys::Keys::default()),
    }
}

const NOW: i64 = 1_795_000_000_000; // 2026-11-18

fn report(from: &str, mid: &str, subject: &str) -> String {
    format!("From: {from}\r\nTo: security@example.test\r\nSubject: {subject}\r\nMessage-ID: {mid}\r\n\r\nDetails.\r\n")
}

/// `raw` as `vdpd ingest` takes it in.
fn ingested(raw: &str) -> IncomingMail {
    IncomingMail {
        source: Source::Ingest,
        raw: raw.as_bytes().to_vec(),
        size: raw.len(),
        truncated: false,
        admitted: false,
    }
}

fn ingest(store: &mut Store, raw: &str) -> Processed {
    let processed = process(store, &env(), &ingested(raw), NOW).unwrap();
    sealed(store, processed)
}

fn imap(store: &mut Store, uid: u32, raw: &str) -> Processed {
    let mail = IncomingMail {
        source: Source::Imap { mailbox: "INBOX".into(), uidvalidity: 7, uid },
        raw: raw.as_bytes().to_vec(),
        size: raw.len(),
        truncated: false,
        admitted: false,
    };
    let processed = process(store, &env(), &mail, NOW).unwrap();
    sealed(store, processed)
}

/// What the daemon's sealing task does after each commit: the queued rows get their final bytes.
fn sealed(store: &mut Store, processed: Processed) -> Processed {
    crate::seal::seal_all(store, &env(), NOW).unwrap();
    processed
}

fn count(store: &Store, sql: &str) -> i64 {
    store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
}

fn outbox_raw(store: &Store) -> Vec<String> {
    let mut stmt = store
        .conn()
        .prepare("SELECT coalesce(b.raw, x'') FROM outbox o LEFT JOIN outbox_body b ON b.id = o.body_id ORDER BY o.id")
        .unwrap();
    stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)).unwrap().map(|r| String::from_utf8(r.unwrap()).unwrap()).collect()
}

#[test]
fn a_report_opens_a_ticket_and_queues_its_acknowledgement_in_one_go() {
    let mut store = Store::open_in_memory().unwrap();
    let p = ingest(&mut store, &report("Alice <alice@research.test>", "<r1@research.test>", "XSS in login"));
    assert_eq!(p.status, IntakeStatus::Ticket);
    assert_eq!(p.reference.as_deref(), Some("EX-2026-0001"));
    assert!(p.enqueued);
    let acks = outbox_raw(&store);
    assert_eq!(acks.len(), 1);
    let ack = &acks[0];
    assert!(ack.contains("Subject: [EX-2026-0001] Re: XSS in login\r\n"), "{ack}");
    assert!(ack.contains("In-Reply-To: <r1@research.test>\r\n"), "{ack}");
    assert!(ack.contains("References: <r1@research.test>\r\n"), "{ack}");
    assert!(ack.contains("Auto-Submitted: auto-replied\r\n"), "{ack}");
    assert!(ack.contains("within 24 hours"), "{ack}");
    assert!(ack.contains("7 business days"), "{ack}");
    assert_eq!(count(&store, "SELECT count(*) FROM timers WHERE kind = 'acknowledge'"), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM messages"), 2);
    // The acknowledgement itself is a message of the ticket, so a reply to it threads.
    let ack_id: String =
        store.conn().query_row("SELECT message_id FROM messages WHERE direction = 'out'", [], |r| r.get(0)).unwrap();
    assert!(ack.contains(&format!("Message-ID: {ack_id}\r\n")));
}

#[test]
fn references_count_up_per_year() {
    let mut store = Store::open_in_memory().unwrap();
    for i in 1..=3 {
        let p = ingest(&mut store, &report(&format!("r{i}@research.test"), &format!("<m{i}@x.test>"), "s"));
        assert_eq!(p.reference.unwrap(), format!("EX-2026-{i:04}"));
    }
}

#[test]
fn the_same_bytes_twice_are_processed_once() {
    let mut store = Store::open_in_memory().unwrap();
    let raw = report("alice@research.test", "<r1@research.test>", "XSS");
    assert_eq!(ingest(&mut store, &raw).status, IntakeStatus::Ticket);
    let again = ingest(&mut store, &raw);
    assert!(again.already);
    assert_eq!(count(&store, "SELECT count(*) FROM tickets"), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM outbox"), 1);
}

#[test]
fn a_second_delivery_is_a_duplicate_not_a_ticket() {
    let mut store = Store::open_in_memory().unwrap();
    let raw = report("alice@research.test", "<r1@research.test>", "XSS");
    imap(&mut store, 1, &raw);
    let second = format!("Received: from mx2 by mx; Mon, 23 Nov 2026 10:00:00 +0000\r\n{raw}");
    let p = imap(&mut store, 2, &second);
    assert_eq!(p.status, IntakeStatus::Duplicate);
    assert_eq!(count(&store, "SELECT count(*) FROM tickets"), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM outbox"), 1);
    // The cursor moved past both.
    assert_eq!(count(&store, "SELECT count(*) FROM intake WHERE status != 'pending'"), 2);
}

#[test]
fn a_participants_reply_joins_the_ticket_and_a_strangers_does_not() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, &report("alice@research.test", "<r1@research.test>", "XSS"));
    let reply = report("Alice@Research.test", "<r2@research.test>", "Re: [EX-2026-0001] XSS");
    let p = ingest(&mut store, &reply);
    assert_eq!(p.status, IntakeStatus::Correspondence);
    assert_eq!(p.reference.as_deref(), Some("EX-2026-0001"));
    assert!(!p.enqueued, "no auto-reply to correspondence");

    let stranger = report("mallory@evil.test", "<m1@evil.test>", "Re: [EX-2026-0001] XSS");
    let p = ingest(&mut store, &stranger);
    assert_eq!(p.status, IntakeStatus::Ticket);
    assert_eq!(p.reference.as_deref(), Some("EX-2026-0002"));
    let acks = outbox_raw(&store);
    let to_mallory = acks.iter().find(|a| a.contains("To: mallory@evil.test")).unwrap();
    assert!(!to_mallory.contains("EX-2026-0001"), "a stranger learns nothing of another ticket");
    assert!(to_mallory.contains("Subject: [EX-2026-0002] Re: XSS\r\n"));
}

#[test]
fn a_reply_threads_by_in_reply_to_without_a_subject_tag() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, &report("alice@research.test", "<r1@research.test>", "XSS"));
    let ack_id: String =
        store.conn().query_row("SELECT message_id FROM messages WHERE direction = 'out'", [], |r| r.get(0)).unwrap();
    let reply = format!(
        "From: alice@research.test\r\nSubject: more\r\nMessage-ID: <r3@research.test>\r\nIn-Reply-To: {ack_id}\r\n\r\nmore\r\n"
    );
    assert_eq!(ingest(&mut store, &reply).status, IntakeStatus::Correspondence);
}

#[test]
fn machine_mail_is_dropped_and_touches_nothing() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, &report("alice@research.test", "<r1@research.test>", "XSS"));
    let before: i64 = count(&store, "SELECT updated_at FROM tickets");
    let ooo = format!(
        "Auto-Submitted: auto-replied\r\n{}",
        report("alice@research.test", "<ooo@research.test>", "Re: [EX-2026-0001] XSS")
    );
    let p = ingest(&mut store, &ooo);
    assert_eq!(p.status, IntakeStatus::Dropped);
    assert!(p.reason.contains("auto-submitted"));
    assert_eq!(count(&store, "SELECT count(*) FROM outbox"), 1);
    assert_eq!(count(&store, "SELECT count(*) FROM messages"), 2);
    assert_eq!(count(&store, "SELECT updated_at FROM tickets"), before);
    assert_eq!(count(&store, "SELECT count(*) FROM dropped WHERE ticket_id IS NOT NULL"), 1);
}

#[test]
fn the_daily_limit_drops_further_reports_without_reply() {
    let mut store = Store::open_in_memory().unwrap();
    for i in 0..3 {
        let p = ingest(&mut store, &report("spam@research.test", &format!("<s{i}@x.test>"), "report"));
        assert_eq!(p.status, IntakeStatus::Ticket);
    }
    let p = ingest(&mut store, &report("spam@research.test", "<s9@x.test>", "report"));
    assert_eq!(p.status, IntakeStatus::Dropped);
    assert!(p.reason.starts_with("rate limit"));
    assert_eq!(count(&store, "SELECT count(*) FROM outbox"), 3);
}

#[test]
fn a_message_that_killed_the_process_three_times_is_quarantined() {
    let mut store = Store::open_in_memory().unwrap();
    let raw = report("alice@research.test", "<r1@research.test>", "XSS");
    let mail = ingested(&raw);
    let key = mail.intake_key();
    // Three attempts that "died": begin() was committed, processing never finished.
    for _ in 0..MAX_ATTEMPTS {
        let rec = store::intake::IntakeRecord {
            key: &key,
            source: "ingest",
            mailbox: None,
            uidvalidity: None,
            uid: None,
            size: raw.len(),
            raw: raw.as_bytes(),
            truncated: false,
            fetched_at: NOW,
        };
        store.write(|tx| store::intake::begin(tx, &rec)).unwrap();
    }
    let p = process(&mut store, &env(), &mail, NOW).unwrap();
    assert_eq!(p.status, IntakeStatus::Quarantined);
    assert!(p.reason.contains("process died"), "{}", p.reason);
    assert_eq!(count(&store, "SELECT count(*) FROM quarantine WHERE subject = 'XSS'"), 1);
    // An admin can put it back once the cause is fixed.
    assert!(store.write(|tx| store::intake::requeue(tx, p.intake_id)).unwrap());
    assert_eq!(process(&mut store, &env(), &mail, NOW).unwrap().status, IntakeStatus::Ticket);
}

#[test]
fn oversized_and_unparseable_mail_is_quarantined_and_the_cursor_moves_on() {
    let mut store = Store::open_in_memory().unwrap();
    store.write(|tx| store::intake::reset_cursor(tx, "INBOX", 7, NOW)).unwrap();
    let mail = IncomingMail {
        source: Source::Imap { mailbox: "INBOX".into(), uidvalidity: 7, uid: 1 },
        raw: b"From: a@research.test\r\nSubject: big\r\n\r\n".to_vec(),
        size: 100 * 1024 * 1024,
        truncated: true,
        admitted: false,
    };
    let p = process(&mut store, &env(), &mail, NOW).unwrap();
    assert_eq!(p.status, IntakeStatus::Quarantined);
    let p = imap(&mut store, 2, "\0\0\0 not mail");
    assert_eq!(p.status, IntakeStatus::Quarantined);
    let cursor = store::intake::cursor(store.conn(), "INBOX").unwrap().unwrap();
    assert_eq!(cursor.last_uid, 2);
    assert_eq!(store::intake::server_pending(store.conn(), "INBOX", 7).unwrap(), vec![1, 2]);
}

/// A flood of the same report: each staff notification names the first ten earlier tickets with the same
/// asset and weakness and counts the rest, instead of listing every one.
#[test]
fn a_flood_of_one_report_names_ten_possible_duplicates_and_counts_the_rest() {
    let policy = format!(
        "{POLICY}\n[staff]\nauthentication = \"dkim\"\ntrusted_authserv_id = \"mx.example.test\"\n\n\
         [[staff.members]]\naddress = \"alice@example.test\"\nname = \"Alice\"\n"
    )
    .replace("new_tickets_per_sender_per_day = 3", "new_tickets_per_sender_per_day = 100\nnew_tickets_per_hour = 1000");
    let mut env = env();
    env.config = Arc::new(crate::config::parse(&policy, Path::new("/nonexistent/policy.toml")).unwrap());
    let alice =
        crate::openpgp::keys::StaffKey { address: "alice@example.test".into(), name: "Alice".into(), cert: None };
    env.keys = Arc::new(crate::openpgp::keys::Keys { org: None, staff: vec![alice] });
    let mut store = Store::open_in_memory().unwrap();
    for i in 1..=13 {
        let raw = format!(
            "From: r{i}@research.test\r\nTo: security@example.test\r\nSubject: XSS {i}\r\nMessage-ID: <f{i}@research.test>\r\n\r\n\
             Asset: https://app.example.test/search\r\nWeakness: CWE-79\r\nSeverity: medium\r\n"
        );
        let p = process(&mut store, &env, &ingested(&raw), NOW + i).unwrap();
        assert_eq!(p.status, IntakeStatus::Ticket, "{p:?}");
    }
    crate::seal::seal_all(&mut store, &env, NOW).unwrap();
    let mut stmt = store
        .conn()
        .prepare(
            "SELECT b.raw FROM outbox o JOIN outbox_body b ON b.id = o.body_id
             WHERE o.recipient = 'alice@example.test' ORDER BY o.id",
        )
        .unwrap();
    let to_staff: Vec<String> = stmt
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(|r| String::from_utf8(r.unwrap()).unwrap())
        .collect();
    let last = to_staff.last().expect("staff were told of the last report");
    let named = last.matches("; same asset and CWE-79)").count();
    assert_eq!(named, 10, "{last}");
    assert!(last.contains("EX-2026-0001 (new; same asset and CWE-79)"), "the original comes first: {last}");
    assert!(last.contains("and 2 more with the same asset and CWE-79"), "{last}");
}

/// The store's words for the core's types are read back by column name and checked: a value that is no outcome
/// (or role) makes the row an error naming its column, never an open ticket or a stranger.
#[test]
fn a_stored_value_that_is_no_outcome_role_or_wait_reason_is_a_corrupt_row() {
    let mut store = Store::open_in_memory().unwrap();
    ingest(&mut store, &report("Alice <alice@research.test>", "<c1@research.test>", "XSS"));
    let t = store::tickets::ticket_by_id(store.conn(), 1).unwrap().unwrap();
    assert_eq!(t.outcome, None);
    let p = store::tickets::participants(store.conn(), 1).unwrap();
    assert_eq!(p[0].role, store::tickets::Role::Reporter);
    store.conn().execute("UPDATE tickets SET outcome = 'not-applicable' WHERE id = 1", []).unwrap();
    let t = store::tickets::ticket_by_id(store.conn(), 1).unwrap().unwrap();
    assert_eq!(t.outcome, Some(store::tickets::Outcome::NotApplicable));
    store.conn().execute("UPDATE tickets SET outcome = 'bogus' WHERE id = 1", []).unwrap();
    let err = store::tickets::ticket_by_id(store.conn(), 1).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { column: "tickets.outcome", .. }), "{err}");
    store.conn().execute("UPDATE tickets SET outcome = '', state = 'lost' WHERE id = 1", []).unwrap();
    let err = store::tickets::ticket_by_id(store.conn(), 1).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { column: "tickets.state", .. }), "{err}");
    store.conn().execute("UPDATE participants SET role = 'owner'", []).unwrap();
    let err = store::tickets::participants(store.conn(), 1).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { column: "participants.role", .. }), "{err}");
    // A wait reads back as what it waited for, and a word that is none is a corrupt row too. (The report
    // started no wait: this policy makes no section a precondition of the diagnosis.)
    assert_eq!(store::tickets::end_wait(store.conn(), 1, NOW).unwrap(), None);
    assert!(store::tickets::start_wait(store.conn(), 1, NOW, store::tickets::WaitReason::Form).unwrap());
    assert_eq!(store::tickets::end_wait(store.conn(), 1, NOW).unwrap(), Some(store::tickets::WaitReason::Form));
    assert!(store::tickets::start_wait(store.conn(), 1, NOW, store::tickets::WaitReason::Staff).unwrap());
    assert_eq!(store::tickets::end_wait(store.conn(), 1, NOW + 1).unwrap(), Some(store::tickets::WaitReason::Staff));
    assert!(store::tickets::start_wait(store.conn(), 1, NOW + 2, store::tickets::WaitReason::Form).unwrap());
    store.conn().execute("UPDATE ticket_waits SET reason = 'coffee' WHERE ended_at IS NULL", []).unwrap();
    let err = store::tickets::end_wait(store.conn(), 1, NOW + 3).unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { column: "ticket_waits.reason", .. }), "{err}");
}

fn fetched(uid: u32, raw: &str) -> IncomingMail {
    IncomingMail {
        source: Source::Imap { mailbox: "INBOX".into(), uidvalidity: 7, uid },
        raw: raw.as_bytes().to_vec(),
        size: raw.len(),
        truncated: false,
        admitted: false,
    }
}

/// `process_batch` over `mails`: what `done` was told, in order.
fn batch(store: &mut Store, mails: &[IncomingMail]) -> Vec<(usize, Processed)> {
    let mut told = Vec::new();
    process_batch(store, &env(), mails, &|| NOW, &|| false, &mut |i, p| told.push((i, p.clone()))).unwrap();
    told
}

fn attempts(store: &Store) -> Vec<i64> {
    let mut stmt = store.conn().prepare("SELECT attempts FROM intake ORDER BY id").unwrap();
    stmt.query_map([], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
}

#[test]
fn groups_hold_fresh_small_messages_from_distinct_senders() {
    let from = |who: &str, i: u32| fetched(i, &report(who, &format!("<g{i}@x.test>"), "XSS"));
    let distinct: Vec<IncomingMail> = (0..40).map(|i| from(&format!("r{i}@research.test"), i)).collect();
    assert_eq!(group_at(&distinct), GROUP_MESSAGES);
    assert_eq!(group_at(&distinct[..3]), 3);
    // The second mail of one sender starts the next group (whatever case the address is written in)...
    let twice = [from("a@research.test", 1), from("b@research.test", 2), from("A@Research.test", 3)];
    assert_eq!(group_at(&twice), 2);
    // ...a big message goes alone, and ends the group before it.
    let big = fetched(9, &report("big@research.test", "<big@x.test>", &"x".repeat(GROUP_MESSAGE_BYTES)));
    assert_eq!(group_at(&[from("a@research.test", 1), big.clone()]), 1);
    assert_eq!(group_at(std::slice::from_ref(&big)), 1);
    // Mail whose sender cannot be read depends on no stored certificate.
    let anonymous = fetched(5, "Subject: no sender\r\n\r\nhello\r\n");
    assert_eq!(group_at(&[anonymous.clone(), anonymous]), 2);
}

/// A batch does exactly what one message after the other does: the same tickets in the same order, the
/// same mail, the same outcome for each (a second report of one sender still meets the per-sender limit, and
/// a second delivery is still a duplicate, also within one group), each told once, in order.
#[test]
fn a_batch_does_what_the_same_messages_one_by_one_do() {
    let mails: Vec<IncomingMail> = (0..20)
        .map(|i| {
            let who = if i % 5 == 4 { "flood@research.test".to_string() } else { format!("r{i}@research.test") };
            fetched(i + 1, &report(&who, &format!("<b{i}@x.test>"), &format!("report {i}")))
        })
        .chain([fetched(
            21,
            &format!("Received: from mx2\r\n{}", report("r0@research.test", "<b0@x.test>", "report 0")),
        )])
        .collect();
    let mut one_by_one = Store::open_in_memory().unwrap();
    let expected: Vec<(IntakeStatus, Option<String>)> = mails
        .iter()
        .map(|m| {
            let p = process(&mut one_by_one, &env(), m, NOW).unwrap();
            (p.status, p.reference)
        })
        .collect();
    let mut grouped = Store::open_in_memory().unwrap();
    let told = batch(&mut grouped, &mails);
    assert_eq!(told.iter().map(|(i, _)| *i).collect::<Vec<_>>(), (0..mails.len()).collect::<Vec<_>>());
    let got: Vec<(IntakeStatus, Option<String>)> = told.into_iter().map(|(_, p)| (p.status, p.reference)).collect();
    assert_eq!(got, expected);
    assert!(got.iter().any(|(s, _)| *s == IntakeStatus::Dropped), "the flood sender's fourth report is held back");
    assert_eq!(got.last().unwrap().0, IntakeStatus::Duplicate);
    for sql in [
        "SELECT group_concat(reference || ':' || reporter, ',') FROM (SELECT * FROM tickets ORDER BY id)",
        "SELECT group_concat(kind || ':' || recipient, ',') FROM (SELECT * FROM outbox ORDER BY id)",
        "SELECT group_concat(status || ':' || coalesce(ticket_id, ''), ',') FROM (SELECT * FROM intake ORDER BY id)",
        "SELECT group_concat(direction || ':' || kind || ':' || ticket_id, ',') FROM (SELECT * FROM messages ORDER BY id)",
        "SELECT group_concat(kind, ',') FROM (SELECT * FROM timers ORDER BY id)",
    ] {
        let text = |s: &Store| s.conn().query_row(sql, [], |r| r.get::<_, Option<String>>(0)).unwrap();
        assert_eq!(text(&grouped), text(&one_by_one), "{sql}");
    }
    assert!(attempts(&grouped).iter().all(|&a| a == 1));
}

/// A process that died inside a group left every message of it pending with one attempt. The next one
/// takes each alone, so a message that kills it again and again is quarantined after its own attempts while
/// the messages it was grouped with become tickets as usual.
#[test]
fn after_a_crash_inside_a_group_each_message_is_taken_alone() {
    let mails: Vec<IncomingMail> = (0..4)
        .map(|i| fetched(i + 1, &report(&format!("r{i}@research.test"), &format!("<c{i}@x.test>"), "s")))
        .collect();
    let mut store = Store::open_in_memory().unwrap();
    // The group's first attempt was committed, then the process died.
    let keys: Vec<String> = mails.iter().map(IncomingMail::intake_key).collect();
    store
        .write(|tx| {
            for (m, k) in mails.iter().zip(&keys) {
                assert!(store::intake::begin_new(tx, &record_of(m, k, NOW))?.is_some());
            }
            Ok::<_, StoreError>(())
        })
        .unwrap();
    // The third message is the poison: it has killed the process every time since.
    store.conn().execute("UPDATE intake SET attempts = ?1 WHERE id = 3", [MAX_ATTEMPTS]).unwrap();
    let told = batch(&mut store, &mails);
    let statuses: Vec<IntakeStatus> = told.iter().map(|(_, p)| p.status).collect();
    use IntakeStatus::{Quarantined, Ticket};
    assert_eq!(statuses, vec![Ticket, Ticket, Quarantined, Ticket]);
    assert!(told[2].1.reason.contains("process died"), "{}", told[2].1.reason);
    assert_eq!(attempts(&store), vec![2, 2, MAX_ATTEMPTS + 1, 2]);
}

/// A group whose messages, once read, would hold more than the budget ends there (the budget is 64 KiB under
/// test): the messages begun for it but not read give their attempt back and are taken next, each with its
/// one attempt and the outcome it would have had anyway.
#[test]
fn a_group_over_its_memory_budget_ends_and_loses_nothing() {
    let text = "A long report. ".repeat(1000); // 15 KB each: the budget holds five
    let mails: Vec<IncomingMail> = (0..12)
        .map(|i| {
            let raw = report(&format!("r{i}@research.test"), &format!("<m{i}@x.test>"), "s").replace("Details.", &text);
            fetched(i + 1, &raw)
        })
        .collect();
    let mut store = Store::open_in_memory().unwrap();
    let told = batch(&mut store, &mails);
    assert_eq!(told.iter().map(|(i, _)| *i).collect::<Vec<_>>(), (0..12).collect::<Vec<_>>());
    assert!(told.iter().all(|(_, p)| p.status == IntakeStatus::Ticket), "{told:?}");
    assert_eq!(attempts(&store), vec![1; 12]);
    assert_eq!(count(&store, "SELECT count(*) FROM tickets"), 12);
}

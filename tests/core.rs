//! The core story against the real mail stack: a researcher's mail to security@ becomes a ticket and an
//! acknowledgement in their inbox; replies thread; machines get no answer; nothing is lost or doubled.

mod common;

use std::time::Duration;
use vdpd::timeline::Event;

use common::{Desk, Options, ex, header, parse, report, smtp};

const T: Duration = Duration::from_secs(30);

#[test]
fn a_report_gets_an_acknowledgement_with_reference_and_threading_headers() {
    let ex1 = ex(1);
    let desk = Desk::new("ack");
    let alice = desk.researcher(1);
    let mid = format!("<report-{}@research.test>", desk.id);
    desk.send(&alice, &report(&alice, &desk.security, "Stored XSS in the dashboard", &mid, "Details follow."));
    let out = desk.once_ok();
    assert!(out.contains("1 new tickets"), "{out}");

    let inbox = desk.wait_inbox(&alice, 1, T);
    assert_eq!(inbox.len(), 1);
    let ack = &inbox[0];
    assert_eq!(header(ack, "Subject").unwrap(), format!("[{ex1}] Re: Stored XSS in the dashboard").as_str());
    assert_eq!(header(ack, "In-Reply-To").unwrap(), mid);
    assert_eq!(header(ack, "References").unwrap(), mid);
    assert_eq!(header(ack, "Auto-Submitted").unwrap(), "auto-replied");
    let msg = parse(ack);
    assert_eq!(msg.from().unwrap().first().unwrap().address().unwrap(), desk.security);
    let ack_id = msg.message_id().expect("our own Message-ID");
    assert!(ack_id.ends_with("@example.test"), "{ack_id}");
    let body = msg.body_text(0).unwrap();
    assert!(body.contains(ex1.as_str()), "{body}");
    assert!(body.contains("24 hours") && body.contains("7 business days") && body.contains("90 days"), "{body}");

    // The ticket records the message in, the acknowledgement out (sent) and the time to SMTP acceptance.
    let tickets = desk.tickets();
    assert_eq!(tickets.len(), 1);
    assert_eq!(tickets[0]["reference"], ex1.as_str());
    assert_eq!(tickets[0]["state"], "new");
    assert!(tickets[0]["ack_latency_ms"].as_i64().unwrap() >= 0);
    let show = desk.show(ex1.as_str());
    let messages = show["messages"].as_array().unwrap();
    assert_eq!(messages.len(), 2);
    assert_eq!(messages[0]["direction"], "in");
    assert_eq!(messages[0]["message_id"], mid);
    assert_eq!(messages[1]["direction"], "out");
    assert_eq!(messages[1]["status"], "sent");
    assert_eq!(messages[1]["message_id"], format!("<{ack_id}>"));

    // The report left the inbox for the processed mailbox only after it was committed.
    let mut imap = common::imap::Imap::login(desk.stack.imap, &desk.security, "pass");
    assert_eq!(imap.count("INBOX"), 0);
    assert_eq!(imap.count(common::PROCESSED), 1);
    imap.logout();
}

#[test]
fn a_reply_joins_its_ticket_and_a_stranger_quoting_the_reference_gets_a_ticket_of_their_own() {
    let ex1 = ex(1);
    let ex2 = ex(2);
    let desk = Desk::new("thread");
    let alice = desk.researcher(1);
    let mallory = desk.researcher(2);
    let mid = format!("<r1-{}@research.test>", desk.id);
    desk.send(&alice, &report(&alice, &desk.security, "IDOR on invoices", &mid, "first"));
    desk.once_ok();
    let ack = desk.wait_inbox(&alice, 1, T).remove(0);
    let ack_id = format!("<{}>", parse(&ack).message_id().unwrap());

    // Alice answers the acknowledgement from her mail client: same thread.
    let reply = format!(
        "From: {alice}\r\nTo: {sec}\r\nSubject: Re: [{ex1}] Re: IDOR on invoices\r\nMessage-ID: <r2-{id}@research.test>\r\n\
         In-Reply-To: {ack_id}\r\nReferences: {mid} {ack_id}\r\n\r\nHere is the proof of concept.\r\n",
        sec = desk.security,
        id = desk.id
    );
    desk.send(&alice, reply.as_bytes());
    // Mallory quotes the reference in the subject.
    let snoop = report(
        &mallory,
        &desk.security,
        format!("Re: [{ex1}] status?").as_str(),
        &format!("<m-{}@evil.test>", desk.id),
        "tell me",
    );
    desk.send(&mallory, &snoop);
    let out = desk.once_ok();
    assert!(out.contains("1 new tickets, 1 correspondence"), "{out}");

    let tickets = desk.tickets();
    assert_eq!(tickets.len(), 2);
    let first = desk.show(ex1.as_str());
    let kinds: Vec<_> =
        first["messages"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap().to_string()).collect();
    assert_eq!(kinds, ["report", "acknowledgement", "reply"]);
    // Correspondence gets no automatic answer.
    assert_eq!(desk.queued_to(&alice), 1);

    let second = desk.show(ex2.as_str());
    assert_eq!(second["reporter"], mallory);
    let to_mallory = desk.wait_inbox(&mallory, 1, T).remove(0);
    let text = String::from_utf8_lossy(&to_mallory);
    assert!(!text.contains(ex1.as_str()), "a stranger must learn nothing of another ticket:\n{text}");
    assert_eq!(header(&to_mallory, "Subject").unwrap(), format!("[{ex2}] Re: status?").as_str());
}

#[test]
fn auto_replies_bounces_and_list_mail_get_no_reply_and_change_nothing() {
    let desk = Desk::new("machines");
    let bob = desk.researcher(1);
    let sec = desk.security.clone();
    let id = desk.id.clone();
    let mail = |extra: &str, subject: &str, n: u32| {
        format!(
            "{extra}From: {bob}\r\nTo: {sec}\r\nSubject: {subject}\r\nMessage-ID: <m{n}-{id}@x.test>\r\n\r\nbody\r\n"
        )
        .into_bytes()
    };
    desk.send(&bob, &mail("Auto-Submitted: auto-replied\r\n", "Out of office", 1));
    desk.send(&bob, &mail("Precedence: bulk\r\n", "Newsletter", 2));
    desk.send(&bob, &mail("List-Id: <security-announce.lists.example.test>\r\n", "[announce] release", 3));
    // A bounce: null envelope sender (Dovecot records it as Return-Path: <>) from MAILER-DAEMON.
    let dsn = format!(
        "From: MAILER-DAEMON@mx.example.test\r\nTo: {sec}\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <dsn-{id}@mx.example.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nYour mail could not be delivered.\r\n\
         --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.test\r\n\r\nFinal-Recipient: rfc822; x@example.test\r\nAction: failed\r\nStatus: 5.1.1\r\n--b--\r\n"
    );
    smtp::send(desk.stack.smtp, "", &sec, dsn.as_bytes());
    // A read receipt from a person's client.
    let mdn = format!(
        "From: {bob}\r\nTo: {sec}\r\nSubject: Read: report\r\nMessage-ID: <mdn-{id}@x.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/report; report-type=disposition-notification; boundary=\"c\"\r\n\r\n\
         --c\r\nContent-Type: text/plain\r\n\r\nread\r\n--c\r\nContent-Type: message/disposition-notification\r\n\r\nDisposition: manual-action/MDN-sent-manually; displayed\r\n--c--\r\n"
    );
    desk.send(&bob, mdn.as_bytes());
    let out = desk.once_ok();
    assert!(out.contains("fetched 5: 0 new tickets, 0 correspondence, 5 dropped"), "{out}");
    assert!(desk.tickets().is_empty());
    let dropped = desk.mail("dropped");
    assert_eq!(dropped.len(), 5);
    let reasons: Vec<String> = dropped.iter().map(|d| d["reason"].as_str().unwrap().to_string()).collect();
    for want in ["auto-submitted", "precedence: bulk", "mailing list", "bounce", "disposition-notification"] {
        assert!(reasons.iter().any(|r| r.contains(want)), "no drop for {want}: {reasons:?}");
    }
    assert_eq!(desk.status()["outbox"]["queued"], 0);
    assert_eq!(desk.status()["outbox"]["sent"], 0);
    assert!(desk.inbox(&bob).is_empty());
}

#[test]
fn an_out_of_office_reply_in_a_thread_neither_answers_nor_touches_the_ticket() {
    let ex1 = ex(1);
    let desk = Desk::new("ooo");
    let alice = desk.researcher(1);
    desk.send(&alice, &report(&alice, &desk.security, "CSRF", &format!("<c-{}@r.test>", desk.id), "x"));
    desk.once_ok();
    let before = desk.show(ex1.as_str());
    let ooo = format!(
        "From: {alice}\r\nTo: {}\r\nSubject: Automatic reply: [{ex1}] Re: CSRF\r\nAuto-Submitted: auto-replied\r\n\
         Message-ID: <ooo-{}@r.test>\r\n\r\nI am away until Monday.\r\n",
        desk.security, desk.id
    );
    desk.send(&alice, ooo.as_bytes());
    desk.once_ok();
    let after = desk.show(ex1.as_str());
    assert_eq!(after["state"], before["state"]);
    assert_eq!(after["updated_at"], before["updated_at"]);
    assert_eq!(after["messages"].as_array().unwrap().len(), 2, "the auto-reply is not correspondence");
    assert_eq!(desk.queued_to(&alice), 1, "only the acknowledgement");
    let dropped = desk.mail("dropped");
    assert_eq!(dropped.len(), 1);
    assert!(dropped[0]["ticket_id"].is_number(), "the drop is recorded against the ticket: {dropped:?}");
}

#[test]
fn the_same_message_delivered_twice_makes_one_ticket_and_one_acknowledgement() {
    let desk = Desk::new("dup");
    let alice = desk.researcher(1);
    let msg = report(&alice, &desk.security, "SSRF", &format!("<dup-{}@r.test>", desk.id), "same");
    desk.send(&alice, &msg);
    desk.send(&alice, &msg);
    let out = desk.once_ok();
    assert!(out.contains("fetched 2: 1 new tickets, 0 correspondence, 0 dropped, 1 duplicates"), "{out}");
    // A third copy arriving later is recognised too.
    desk.send(&alice, &msg);
    desk.once_ok();
    assert_eq!(desk.tickets().len(), 1);
    assert_eq!(desk.mail("duplicate").len(), 2);
    assert_eq!(desk.queued_to(&alice), 1, "one acknowledgement for three deliveries");
}

#[test]
fn a_permanent_smtp_refusal_is_recorded_and_shown() {
    let ex1 = ex(1);
    let desk = Desk::new("perm");
    // Postfix refuses reject-* recipients with 554 5.1.1.
    let nobody = format!("reject-{}@example.test", desk.id);
    desk.send(&nobody, &report(&nobody, &desk.security, "report", &format!("<p-{}@r.test>", desk.id), "x"));
    let out = desk.once_ok();
    assert!(out.contains("failed: 1"), "{out}");
    let show = desk.show(ex1.as_str());
    let ack = &show["messages"][1];
    assert_eq!(ack["status"], "failed");
    assert!(ack["last_error"].as_str().unwrap().contains("5.1.1"), "{ack}");
    let status = desk.status();
    assert_eq!(status["outbox"]["failed"], 1);
    assert!(status["outbox"]["recent_failures"][0]["error"].as_str().unwrap().contains("refuses"));
    let human = desk.vdpd_ok(&["status"]);
    assert!(human.contains("1 failed"), "{human}");
}

/// A team notification is one SMTP transaction with a `RCPT TO` per member, and each member's own answer
/// counts: Postfix refuses one address, the two others receive the notification, the refused copy is
/// recorded as failed with the server's reason. The same against a server that offers PIPELINING and one
/// that does not; through a relay that counts the server's bursts of replies, the first takes six round
/// trips fewer for the acknowledgement and the notification (RFC 2920: MAIL, the RCPTs and DATA written at
/// once, their replies read together) — and the second is never sent a pipelined group.
#[test]
fn a_refused_team_member_fails_only_their_copy_and_the_others_share_one_transaction() {
    let stack = Stack::get();
    let mut bursts = Vec::new();
    for (label, port) in [("pipelining", stack.smtp), ("no-pipelining", stack.smtp_no_pipelining)] {
        let relay = common::proxy::Proxy::start(port);
        let log_from = std::fs::metadata(&stack.log).map_or(0, |m| m.len());
        let id = common::unique(label);
        let (alice, bob) = (format!("alice-{id}@example.test"), format!("bob-{id}@example.test"));
        let refused = format!("reject-{id}@example.test");
        // Members without certificates (their notifications in clear), who authenticate by DKIM.
        let members: String = [&alice, &refused, &bob].iter().fold(
            "[staff]\nauthentication = \"dkim\"\ntrusted_authserv_id = \"mx.example.test\"\n".to_string(),
            |toml, a| format!("{toml}[[staff.members]]\naddress = \"{a}\"\n"),
        );
        let desk = Desk::with(label, Options { smtp_port: Some(relay.port), extra: members, ..Options::default() });
        // Three sending slots: the notification's three rows fit, the acknowledgement's one does not fit beside
        // them, so one connection carries one transaction at a time and the round trips can be counted.
        let mut policy: toml::Table = std::fs::read_to_string(&desk.config).unwrap().parse().unwrap();
        common::table(&mut policy, "smtp").insert("concurrency".into(), 3.into());
        std::fs::write(&desk.config, toml::to_string(&policy).unwrap()).unwrap();
        let researcher = desk.researcher(1);
        let subject = format!("XSS seen by {label}");
        desk.send(&researcher, &report(&researcher, &desk.security, &subject, &format!("<t-{id}@r.test>"), "x"));
        let out = desk.once_ok();
        bursts.push(relay.bursts());
        assert!(out.contains("failed: 1"), "{label}: the refused copy only: {out}");
        for member in [&alice, &bob] {
            let got = desk.wait_inbox(member, 1, T);
            assert!(
                String::from_utf8_lossy(&got[0]).contains(&subject),
                "{label}: {member} has the notification: {}",
                String::from_utf8_lossy(&got[0])
            );
        }
        let conn = rusqlite::Connection::open(desk.store_path()).unwrap();
        let rows: Vec<(String, String, String, String)> = conn
            .prepare(
                "SELECT recipient, status, smtp_response, last_error FROM outbox
                 WHERE kind = 'staff-new-report' ORDER BY recipient",
            )
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get::<_, Option<String>>(2)?.unwrap_or_default(), r.get(3)?))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let by =
            |a: &str| rows.iter().find(|r| r.0 == a).unwrap_or_else(|| panic!("{label}: no row for {a}: {rows:?}"));
        let (a, b, r) = (by(&alice), by(&bob), by(&refused));
        assert_eq!((a.1.as_str(), b.1.as_str(), r.1.as_str()), ("sent", "sent", "failed"), "{label}: {rows:?}");
        assert!(r.3.contains("5.1.1") && r.3.contains("refuses all mail"), "{label}: the server's reason: {r:?}");
        assert!(a.2.contains("queued as"), "{label}: {a:?}");
        assert_eq!(a.2, b.2, "{label}: one transaction, one queue id for both copies: {rows:?}");
        let log = std::fs::read(&stack.log).unwrap();
        let log = String::from_utf8_lossy(&log[log_from as usize..]);
        let queue_id = a.2.rsplit(' ').next().unwrap();
        assert!(
            log.lines().any(|l| l.contains(&format!("{queue_id}: from=<{}>", desk.security)) && l.contains("nrcpt=2")),
            "{label}: Postfix queued one message for the two members ({queue_id}):\n{log}"
        );
    }
    // Without pipelining: the acknowledgement's MAIL, RCPT, DATA and end (4) and the notification's MAIL, three
    // RCPTs, DATA and end (6); with it, two each: six fewer. The connection's greeting, EHLOs and TLS are the
    // same (a server's reply split over two reads now and then makes it one more or less).
    assert!(
        bursts[1] >= bursts[0] + 5,
        "the server's bursts of replies, with and without pipelining: {bursts:?} (six fewer expected)"
    );
}

#[test]
fn an_smtp_outage_delays_the_acknowledgement_and_loses_nothing() {
    let ex1 = ex(1);
    let gate = common::proxy::Proxy::start(Stack::get().smtp);
    let desk = Desk::with("outage", Options { smtp_port: Some(gate.port), ..Options::default() });
    let alice = desk.researcher(1);
    gate.set(common::proxy::Mode::Down);
    desk.send(&alice, &report(&alice, &desk.security, "RCE", &format!("<o-{}@r.test>", desk.id), "x"));
    let out = desk.once();
    assert_eq!(out.status.code(), Some(69), "an unreachable SMTP server is a failed cycle: {}", common::show(&out));
    assert_eq!(desk.tickets().len(), 1, "the ticket exists while SMTP is down");
    assert_eq!(desk.status()["outbox"]["queued"], 1);

    // While SMTP stays down, the daemon keeps the mail queued; once it is back, the mail goes out by itself.
    let mut daemon = desk.spawn_run();
    std::thread::sleep(Duration::from_secs(3));
    // Still undelivered and not given up: queued, or in the middle of another attempt.
    let outbox = desk.status()["outbox"].clone();
    assert_eq!((outbox["sent"].as_i64(), outbox["failed"].as_i64()), (Some(0), Some(0)), "{outbox}");
    assert_eq!(outbox["queued"].as_i64().unwrap() + outbox["sending"].as_i64().unwrap(), 1, "{outbox}");
    gate.set(common::proxy::Mode::Forward);
    let inbox = desk.wait_inbox(&alice, 1, T);
    assert_eq!(header(&inbox[0], "Subject").unwrap(), format!("[{ex1}] Re: RCE").as_str());
    common::wait_until(T, "the outbox to record the delivery", || desk.status()["outbox"]["sent"] == 1);
    assert!(daemon.terminate(T).success());
    assert_eq!(desk.queued_to(&alice), 1, "queued once, however long SMTP was down");
    assert_eq!(desk.inbox(&alice).len(), 1);
}

use common::Stack;

#[test]
fn ingest_from_a_pipe_makes_the_same_ticket_as_fetching() {
    let ex1 = ex(1);
    let desk = Desk::new("ingest");
    let alice = desk.researcher(1);
    let msg = report(&alice, &desk.security, "Open redirect", &format!("<i-{}@r.test>", desk.id), "via pipe");
    let mut child = desk
        .command()
        .args(["ingest"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(&msg).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", common::show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(format!("-: ticket {ex1}").as_str()), "{stdout}");
    let inbox = desk.wait_inbox(&alice, 1, T);
    assert_eq!(header(&inbox[0], "Subject").unwrap(), format!("[{ex1}] Re: Open redirect").as_str());
    // The MTA delivering the same message again changes nothing.
    let file = desk.dir.path().join("again.eml");
    std::fs::write(&file, &msg).unwrap();
    let again = desk.vdpd_ok(&["ingest", file.to_str().unwrap()]);
    assert!(again.contains("already processed"), "{again}");
    assert_eq!(desk.tickets().len(), 1);
}

#[test]
fn imap_over_starttls_works_and_without_a_processed_mailbox_mail_is_flagged_seen() {
    let desk = Desk::with("starttls", Options { imap_tls: "starttls", processed_mailbox: false, ..Options::default() });
    let alice = desk.researcher(1);
    desk.send(&alice, &report(&alice, &desk.security, "Info leak", &format!("<s-{}@r.test>", desk.id), "x"));
    desk.once_ok();
    assert_eq!(desk.wait_inbox(&alice, 1, T).len(), 1);
    let mut imap = common::imap::Imap::login(desk.stack.imap, &desk.security, "pass");
    assert_eq!(imap.count("INBOX"), 1, "left in place");
    assert_eq!(imap.seen_uids("INBOX").len(), 1, "and flagged \\Seen");
    imap.logout();
    // A second cycle fetches nothing new.
    assert!(desk.once_ok().contains("fetched 0"));
}

#[test]
fn a_changed_uidvalidity_rescans_without_duplicating_tickets() {
    let desk =
        Desk::with("uidvalidity", Options { mailbox: "Reports", processed_mailbox: false, ..Options::default() });
    let alice = desk.researcher(1);
    let msgs: Vec<Vec<u8>> = (0..3)
        .map(|i| report(&alice, &desk.security, &format!("issue {i}"), &format!("<u{i}-{}@r.test>", desk.id), "x"))
        .collect();
    for m in &msgs {
        desk.append_to("Reports", m);
    }
    desk.once_ok();
    assert_eq!(desk.tickets().len(), 3);
    // The admin restores the mailbox from a backup: it is recreated, with a new UIDVALIDITY, holding the same
    // mail plus one new report.
    let mut imap = common::imap::Imap::login(desk.stack.imap, &desk.security, "pass");
    let before = imap.uidvalidity("Reports");
    imap.ok("UNSELECT");
    imap.ok("DELETE \"Reports\"");
    imap.ok("CREATE \"Reports\"");
    for m in &msgs {
        imap.append("Reports", m);
    }
    imap.append("Reports", &report(&alice, &desk.security, "issue 3", &format!("<u3-{}@r.test>", desk.id), "x"));
    let after = imap.uidvalidity("Reports");
    imap.logout();
    assert_ne!(before, after, "the test needs a new UIDVALIDITY");
    let out = desk.once_ok();
    assert!(out.contains("fetched 4: 1 new tickets, 0 correspondence, 0 dropped, 3 duplicates"), "{out}");
    assert_eq!(desk.tickets().len(), 4);
    assert_eq!(desk.wait_inbox(&alice, 4, T).len(), 4);
}

#[test]
fn too_many_new_reports_from_one_sender_are_recorded_without_reply() {
    let desk =
        Desk::with("ratelimit", Options { limits: "new_tickets_per_sender_per_day = 2".into(), ..Options::default() });
    let spammer = desk.researcher(1);
    for i in 0..4 {
        desk.send(
            &spammer,
            &report(&spammer, &desk.security, &format!("report {i}"), &format!("<s{i}-{}@r.test>", desk.id), "x"),
        );
    }
    desk.once_ok();
    assert_eq!(desk.tickets().len(), 2);
    let dropped = desk.mail("dropped");
    assert_eq!(dropped.len(), 2);
    assert!(dropped.iter().all(|d| d["reason"].as_str().unwrap().starts_with("rate limit")));
    assert_eq!(desk.queued_to(&spammer), 2, "the dropped reports got no reply");
}

#[test]
fn check_names_file_line_and_key_and_status_reads_health() {
    let desk = Desk::new("check");
    let ok = desk.vdpd(&["check", "--connect"]);
    assert!(ok.status.success(), "{}", common::show(&ok));
    let text = String::from_utf8_lossy(&ok.stdout);
    // The shipped processed_mailbox ("vdpd/processed") in the server's own naming, created by the check.
    assert!(text.contains("ok    imap: ") && text.contains("IDLE yes"), "{text}");
    assert!(text.contains("created \"vdpd.processed\""), "{text}");
    assert!(text.contains("ok    smtp connection") && text.contains("accepted us (pipelining)"), "{text}");

    let policy = std::fs::read_to_string(&desk.config).unwrap();
    std::fs::write(&desk.config, policy.replace("poll_interval = \"2s\"", "poll_interval = \"2s\"\npol_interval = 3"))
        .unwrap();
    let bad = desk.vdpd(&["check"]);
    assert_eq!(bad.status.code(), Some(78), "{}", common::show(&bad));
    let err = String::from_utf8_lossy(&bad.stderr);
    let line = policy.lines().position(|l| l.starts_with("poll_interval")).unwrap() + 2;
    assert!(err.contains(&format!("policy.toml:{line}: imap.pol_interval: unknown key")), "{err}");
    std::fs::write(&desk.config, policy).unwrap();

    desk.once_ok();
    let status = desk.status();
    assert_eq!(status["daemon"]["running"], false);
    assert!(status["imap"]["last_fetch_ok"].is_string(), "{status}");
}

#[test]
fn a_missed_acknowledgement_promise_is_recorded_when_its_clock_runs_out() {
    // SMTP unreachable for the whole promised day: a closed port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let desk = Desk::with("promise", Options { smtp_port: Some(closed), ..Options::default() });
    let alice = desk.researcher(1);
    desk.send(&alice, &report(&alice, &desk.security, "SQLi", &format!("<q-{}@r.test>", desk.id), "x"));
    let first = desk.vdpd(&["once", "--now", "2026-11-23T10:00:00Z"]);
    assert_eq!(first.status.code(), Some(69), "{}", common::show(&first));
    // 23 hours later the promise still holds; 25 hours later it is broken, once.
    for (now, broken) in
        [("2026-11-24T09:00:00Z", false), ("2026-11-24T11:00:00Z", true), ("2026-11-24T12:00:00Z", true)]
    {
        let out = desk.vdpd(&["once", "--now", now]);
        assert_eq!(out.status.code(), Some(69));
        let events = common::gpg::timeline_events(&desk.show("EX-2026-0001"));
        let missed = events.iter().filter(|e| **e == Event::PromiseBroken).count();
        assert_eq!(missed, usize::from(broken), "at {now}: {events:?}");
    }
    assert_eq!(desk.status()["timers_fired"]["acknowledge"], 1);
    assert!(desk.vdpd_ok(&["status"]).contains("1 acknowledgement deadline(s) passed"));
    assert_eq!(desk.status()["outbox"]["queued"], 1, "still queued, never lost");
}

#[test]
fn quarantined_mail_can_be_inspected_and_retried_after_the_cause_is_fixed() {
    let ex1 = ex(1);
    let desk = Desk::with("retry", Options { limits: "max_mime_depth = 8".into(), ..Options::default() });
    let alice = desk.researcher(1);
    let mut deep = format!(
        "From: {alice}\r\nTo: {}\r\nSubject: nested\r\nMessage-ID: <n-{}@r.test>\r\nMIME-Version: 1.0\r\n",
        desk.security, desk.id
    );
    for i in 0..12 {
        deep.push_str(&format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"));
    }
    deep.push_str("Content-Type: text/plain\r\n\r\nthe report\r\n");
    for i in (0..12).rev() {
        deep.push_str(&format!("--b{i}--\r\n"));
    }
    desk.append(deep.as_bytes());
    assert!(desk.once_ok().contains("1 quarantined"));
    let q = desk.mail("quarantined");
    let id = q[0]["id"].as_i64().unwrap().to_string();
    assert!(q[0]["reason"].as_str().unwrap().contains("max_mime_depth"));
    // The bytes are kept exactly as received.
    let raw = desk.command().args(["mail", "show", &id, "--raw"]).output().unwrap();
    assert_eq!(raw.stdout, deep.as_bytes());
    // A message that is not quarantined cannot be retried.
    assert!(!desk.vdpd(&["mail", "retry", "999999"]).status.success());

    // The admin raises the limit and retries: the report becomes a ticket and is acknowledged.
    let policy = std::fs::read_to_string(&desk.config).unwrap();
    std::fs::write(&desk.config, policy.replace("max_mime_depth = 8", "max_mime_depth = 16")).unwrap();
    let out = desk.vdpd_ok(&["mail", "retry", &id]);
    assert!(out.contains(format!("ticket {ex1}").as_str()), "{out}");
    desk.once_ok();
    assert_eq!(desk.wait_inbox(&alice, 1, T).len(), 1);
    assert!(desk.mail("quarantined").is_empty());
}

#[test]
fn mail_that_became_no_ticket_keeps_its_bytes_only_for_the_retention_period() {
    let desk = Desk::new("unticketed");
    let path = desk.dir.path().join("garbage.eml");
    // A message that cannot be read at all (no usable header): quarantined, its bytes kept for staff.
    std::fs::write(&path, b"\x00\x01 not mail at all").unwrap();
    desk.vdpd_ok(&["ingest", "--no-deliver", "--now", "2026-11-01T10:00:00Z", path.to_str().unwrap()]);
    let id = desk.mail("quarantined")[0]["id"].as_i64().unwrap().to_string();
    assert!(desk.vdpd(&["mail", "show", &id, "--raw"]).status.success());
    // Within retention.unticketed_mail (30 days by default) they stay; after it, only the record does.
    desk.once_at("2026-11-30T10:00:00Z");
    assert_eq!(desk.vdpd(&["mail", "show", &id, "--raw"]).stdout, b"\x00\x01 not mail at all");
    desk.once_at("2026-12-01T10:00:01Z");
    let out = desk.vdpd(&["mail", "show", &id, "--raw"]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no longer kept"),
        "{}",
        common::show(&out)
    );
    assert_eq!(desk.mail("quarantined").len(), 1, "what happened to it stays on record");
}

#[test]
fn a_senders_control_characters_are_shown_not_obeyed_and_admin_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let desk = Desk::new("terminal");
    let alice = desk.researcher(1);
    // A body that would clear the terminal, retitle it and ring its bell, and a file with it.
    let report = format!(
        "From: {alice}\r\nTo: {s}\r\nSubject: XSS\r\nMessage-ID: <esc-{id}@r.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nSee \x1b[2J\x1b]0;pwned\x07 here.\r\n\
         --b\r\nContent-Type: text/plain; name=\"poc.txt\"\r\nContent-Disposition: attachment; filename=\"poc.txt\"\r\n\r\nproof\r\n--b--\r\n",
        s = desk.security,
        id = desk.id
    );
    desk.send(&alice, report.as_bytes());
    desk.once_ok();
    let ex1 = ex(1);
    // At the console, what the researcher wrote is shown only when asked for, and then escaped.
    let out = desk.vdpd(&["tickets", "show", &ex1]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("here.") && text.contains("--content` prints"), "{text}");
    assert!(text.contains("poc.txt"), "the files are listed: {text}");
    let out = desk.vdpd(&["tickets", "show", &ex1, "--content"]);
    assert!(out.status.success());
    assert!(!out.stdout.iter().any(|&b| b == 0x1b || b == 0x07), "raw control bytes on the terminal");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("See \\u{1b}[2J\\u{1b}]0;pwned\\u{7} here."), "{text}");
    assert!(text.contains("poc.txt"), "{text}");
    // What vdpd writes for the admin is theirs alone, whatever the umask.
    let export = desk.dir.path().join("export.json");
    desk.vdpd_ok(&["export", "--with-content", "--output", export.to_str().unwrap()]);
    let file = desk.dir.path().join("poc.txt");
    let id = desk.show(&ex1)["attachments"][0]["id"].as_i64().unwrap().to_string();
    desk.vdpd_ok(&["tickets", "attachment", &ex1, &id, "--output", file.to_str().unwrap()]);
    for path in [&export, &file] {
        assert_eq!(std::fs::metadata(path).unwrap().permissions().mode() & 0o777, 0o600, "{}", path.display());
    }
    // A symbolic link planted in the state directory is not followed.
    let lock = std::path::PathBuf::from(format!("{}.lock", desk.store_path().display()));
    let _ = std::fs::remove_file(&lock);
    std::os::unix::fs::symlink(desk.dir.path().join("elsewhere"), &lock).unwrap();
    let out = desk.vdpd(&["once"]);
    assert!(!out.status.success(), "{}", common::show(&out));
    assert!(!desk.dir.path().join("elsewhere").exists(), "nothing was created through the link");
}

//! The core story against a second real IMAP server: Cyrus IMAP 3.6 from Debian's packages
//! (scripts/cyrus.sh), with Debian's namespace settings — personal mailboxes under `INBOX.`, levels separated
//! by `.` — so that an assumption that only holds on Dovecot fails here. Reports arrive by IMAP APPEND (the
//! test plays the MTA); acknowledgements go out through the stack's Postfix to the researcher's Dovecot
//! mailbox, as in the other tests.

mod common;

use std::collections::HashSet;
use std::time::Duration;

use common::{Desk, Options, count, header, report, wait_until};

const T: Duration = Duration::from_secs(60);
/// The shipped `processed_mailbox = "vdpd/processed"` on Cyrus.
const PROCESSED: &str = "INBOX.vdpd.processed";

fn port(var: &str, default: u16) -> u16 {
    std::env::var(var).ok().and_then(|p| p.parse().ok()).unwrap_or(default)
}

/// A desk whose mailbox is on Cyrus (IMAPS, verified with the stack's CA), its user created there.
fn cyrus_desk(name: &str, o: Options) -> Desk {
    let imaps = port("CYRUS_IMAPS_PORT", 2993);
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", imaps)).is_ok(),
        "Cyrus is not listening on 127.0.0.1:{imaps}: start it with `scripts/cyrus.sh start` (scripts/test.sh does)"
    );
    let desk = Desk::with(name, Options { imap_port: Some(imaps), imap_tls: "implicit", ..o });
    let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/cyrus.sh");
    let out = std::process::Command::new("bash").arg(script).args(["adduser", &desk.security]).output().unwrap();
    assert!(out.status.success(), "cyrus.sh adduser: {}", common::show(&out));
    desk
}

/// The test's own IMAP session with the desk's Cyrus mailbox (plain IMAP on loopback).
fn cyrus(desk: &Desk) -> common::imap::Imap {
    common::imap::Imap::login(port("CYRUS_IMAP_PORT", 2143), &desk.security, "pass")
}

#[test]
fn a_report_on_cyrus_is_ticketed_acknowledged_and_moved_into_the_shipped_processed_mailbox() {
    let desk = cyrus_desk("cyrus", Options::default());
    let check = desk.vdpd(&["check", "--connect"]);
    let text = common::show(&check);
    assert!(check.status.success(), "{text}");
    assert!(text.contains(&format!("created \"{PROCESSED}\"")), "the INBOX. namespace was not used: {text}");

    let alice = desk.researcher(1);
    let mut imap = cyrus(&desk);
    imap.append("INBOX", &report(&alice, &desk.security, "SQLi in search", &format!("<c1-{}@r.test>", desk.id), "x"));
    desk.once_ok();
    let ack = desk.wait_inbox(&alice, 1, T).remove(0);
    assert!(header(&ack, "Subject").is_some_and(|s| s.contains("[EX-")), "{}", String::from_utf8_lossy(&ack));
    assert_eq!(desk.tickets().len(), 1);
    assert_eq!(imap.count("INBOX"), 0);
    assert_eq!(imap.count(PROCESSED), 1);

    // The daemon idles on Cyrus (idled) and answers the next report within seconds.
    let mut daemon = desk.spawn_run();
    wait_until(T, "IDLE", || desk.status()["imap"]["state"] == "idle");
    imap.append("INBOX", &report(&alice, &desk.security, "XSS in profile", &format!("<c2-{}@r.test>", desk.id), "x"));
    desk.wait_inbox(&alice, 2, Duration::from_secs(20));
    assert_eq!(imap.count(PROCESSED), 2);
    assert!(daemon.terminate(T).success());
}

#[test]
fn kill_9_during_a_backlog_on_cyrus_loses_nothing_and_doubles_nothing() {
    const N: usize = 150;
    let desk = cyrus_desk("cyrusbacklog", Options { limits: common::BACKLOG_LIMITS.into(), ..Options::default() });
    let alice = desk.researcher(1);
    let mut imap = cyrus(&desk);
    let mut ids = HashSet::new();
    for i in 0..N {
        let mid = format!("<cb{i}-{}@r.test>", desk.id);
        imap.append("INBOX", &report(&alice, &desk.security, &format!("finding {i}"), &mid, "x"));
        ids.insert(mid);
    }
    let mut kills = 0;
    for threshold in [30, 90] {
        let mut daemon = desk.spawn_run();
        wait_until(T, "progress through the backlog", || {
            count(&desk.store_path(), "SELECT count(*) FROM tickets") >= threshold
        });
        daemon.kill9();
        kills += 1;
    }
    let mut daemon = desk.spawn_run();
    wait_until(Duration::from_secs(120), "every report acknowledged", || {
        count(&desk.store_path(), "SELECT count(*) FROM outbox WHERE status = 'sent'") == N as i64
    });
    let mut answered = HashSet::new();
    wait_until(T, "every acknowledgement in the researcher's inbox", || {
        answered = desk.inbox(&alice).iter().filter_map(|m| header(m, "In-Reply-To")).collect::<HashSet<_>>();
        answered.len() >= N
    });
    assert!(daemon.terminate(T).success());
    assert_eq!(desk.tickets().len(), N, "exactly one ticket per report");
    assert_eq!(answered, ids);
    assert_eq!(
        count(&desk.store_path(), "SELECT count(*) FROM outbox"),
        N as i64,
        "one acknowledgement queued per ticket"
    );
    let extra = desk.inbox(&alice).len() - N;
    assert!(extra <= kills * 4, "{extra} duplicate acknowledgements after {kills} kills");
    assert_eq!(imap.count("INBOX"), 0);
    assert_eq!(imap.count(PROCESSED), N);
}

#[test]
fn a_mailbox_recreated_on_cyrus_with_a_new_uidvalidity_makes_no_duplicates() {
    // vdpd reads "reports" (INBOX.reports on Cyrus), which the admin restores from a backup.
    let desk = cyrus_desk("cyrusuidv", Options { mailbox: "reports", ..Options::default() });
    let alice = desk.researcher(1);
    let mut imap = cyrus(&desk);
    imap.create("INBOX.reports");
    let mails: Vec<Vec<u8>> = (0..3)
        .map(|i| report(&alice, &desk.security, &format!("bug {i}"), &format!("<cu{i}-{}@r.test>", desk.id), "x"))
        .collect();
    for m in &mails {
        imap.append("INBOX.reports", m);
    }
    desk.once_ok();
    assert_eq!(desk.tickets().len(), 3);
    let before = imap.uidvalidity("INBOX.reports");

    // Deleted and created again with the old mail put back and one new report.
    imap.delete("INBOX.reports");
    imap.create("INBOX.reports");
    for m in &mails {
        imap.append("INBOX.reports", m);
    }
    imap.append(
        "INBOX.reports",
        &report(&alice, &desk.security, "bug new", &format!("<cunew-{}@r.test>", desk.id), "x"),
    );
    assert_ne!(imap.uidvalidity("INBOX.reports"), before, "Cyrus gave the new mailbox a new UIDVALIDITY");
    let out = desk.once();
    assert!(out.status.success(), "{}", common::show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("UIDVALIDITY of"), "{}", common::show(&out));
    assert_eq!(desk.tickets().len(), 4, "the old mail was recognised, the new report ticketed");
    desk.wait_inbox(&alice, 4, T);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(desk.inbox(&alice).len(), 4, "no second acknowledgement for restored mail");
}

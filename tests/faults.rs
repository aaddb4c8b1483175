//! Fault injection against the real mail stack: what the README promises under kill -9, an SMTP outage, an
//! IMAP server restart, a recreated mailbox, a full disk and SIGTERM — checked by exact counts afterwards.
//!
//! These tests stop and start the stack's own Postfix and Dovecot (scripts/mailstack.sh) and mount a tmpfs,
//! so they need root, and they run one at a time (a mutex), never beside each other.

mod common;

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use common::{Desk, Options, count, report, wait_until};

const T: Duration = Duration::from_secs(60);

/// One fault at a time: each one takes the shared stack down or loads it.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    static ONE: Mutex<()> = Mutex::new(());
    ONE.lock().unwrap_or_else(|e| e.into_inner())
}

fn stack(action: &str) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/mailstack.sh");
    let out = Command::new("bash").arg(script).arg(action).output().unwrap();
    assert!(out.status.success(), "mailstack.sh {action}: {}", common::show(&out));
}

fn assert_root() {
    // SAFETY: geteuid has no preconditions.
    let uid = unsafe { libc_geteuid() };
    assert_eq!(uid, 0, "the fault-injection tests stop the mail stack and mount a tmpfs: run them as root");
}

unsafe extern "C" {
    #[link_name = "geteuid"]
    fn libc_geteuid() -> u32;
}

/// A small deterministic generator: the seed is printed, and `VDPD_FAULT_SEED` replays a run.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = std::env::var("VDPD_FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
        });
        eprintln!("fault schedule seed {seed} (VDPD_FAULT_SEED={seed} replays it)");
        Rng(seed)
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// The researchers of a backlog live in the stack's sink domain: Postfix accepts their acknowledgements and
/// logs each delivery, then discards the mail (2,000 mailboxes would only slow the test down).
fn sink_researcher(desk: &Desk, i: usize) -> String {
    format!("f{i}-{}@sink.example.test", desk.id)
}

fn backlog_report(desk: &Desk, i: usize) -> Vec<u8> {
    report(
        &sink_researcher(desk, i),
        &desk.security,
        &format!("Finding {i}: reflected XSS on the search page"),
        &format!("<fault-{i}-{}@research.test>", desk.id),
        "The q parameter of https://app.example.test/search is reflected without encoding.\nWeakness: CWE-79",
    )
}

/// `n` reports waiting in the security INBOX.
fn fill_inbox(desk: &Desk, n: usize) {
    desk.fill_inbox((0..n).map(|i| backlog_report(desk, i)));
}

/// Deliveries Postfix logged, per recipient, for the recipients of this desk's backlog.
fn deliveries(desk: &Desk) -> HashMap<String, usize> {
    let log = std::fs::read_to_string(&desk.stack.log).unwrap_or_default();
    let needle = format!("-{}@sink.example.test>", desk.id);
    let mut out: HashMap<String, usize> = HashMap::new();
    for line in log.lines().filter(|l| l.contains(&needle) && l.contains("status=sent")) {
        if let Some(to) = line.split("to=<").nth(1).and_then(|r| r.split('>').next()) {
            *out.entry(to.to_string()).or_default() += 1;
        }
    }
    out
}

/// Waits until Postfix has delivered an acknowledgement to each of the `n` backlog researchers; returns how
/// many deliveries there were in all (more than `n` when some went twice).
fn wait_all_delivered(desk: &Desk, n: usize) -> usize {
    let mut seen = HashMap::new();
    wait_until(Duration::from_secs(120), "Postfix to deliver every acknowledgement", || {
        seen = deliveries(desk);
        seen.len() >= n
    });
    // A late duplicate gets the chance to show up before counting.
    std::thread::sleep(Duration::from_secs(2));
    let seen = deliveries(desk);
    let expected: HashSet<String> = (0..n).map(|i| sink_researcher(desk, i)).collect();
    let got: HashSet<String> = seen.keys().cloned().collect();
    assert_eq!(got, expected, "acknowledgements went to exactly the backlog's researchers");
    seen.values().sum()
}

/// The exact outcome of a backlog of `n` reports: one ticket each, one acknowledgement queued and sent each,
/// nothing pending or quarantined, every message moved to Processed.
fn assert_backlog_exact(desk: &Desk, n: usize) {
    let db = desk.store_path();
    assert_eq!(count(&db, "SELECT count(*) FROM tickets"), n as i64, "exactly one ticket per report");
    assert_eq!(count(&db, "SELECT count(DISTINCT reporter) FROM tickets"), n as i64);
    assert_eq!(
        count(&db, "SELECT count(*) FROM outbox WHERE kind = 'acknowledgement'"),
        n as i64,
        "one acknowledgement queued per ticket"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM outbox WHERE status <> 'sent'"), 0, "every mail sent");
    assert_eq!(count(&db, "SELECT count(*) FROM intake WHERE status = 'pending'"), 0, "nothing half-done");
    assert_eq!(count(&db, "SELECT count(*) FROM intake WHERE status = 'quarantined'"), 0);
    assert_eq!(count(&db, "SELECT count(*) FROM intake WHERE status = 'ticket'"), n as i64);
    let mut imap = common::imap::Imap::login(desk.stack.imap, &desk.security, "pass");
    assert_eq!(imap.count("INBOX"), 0, "everything moved to Processed");
    assert_eq!(imap.count(common::PROCESSED), n);
    imap.logout();
}

fn backlog_desk(name: &str) -> Desk {
    Desk::with(name, Options { limits: common::BACKLOG_LIMITS.into(), ..Options::default() })
}

fn tickets(desk: &Desk) -> i64 {
    count(&desk.store_path(), "SELECT count(*) FROM tickets")
}

/// Every one of `n` reports has its ticket and its acknowledgement accepted by SMTP (store at `db`).
fn backlog_done(db: &Path, n: usize) -> bool {
    count(db, "SELECT count(*) FROM tickets") >= n as i64
        && count(db, "SELECT count(*) FROM outbox WHERE kind = 'acknowledgement' AND status = 'sent'") >= n as i64
}

fn acks_sent(desk: &Desk) -> i64 {
    count(&desk.store_path(), "SELECT count(*) FROM outbox WHERE kind = 'acknowledgement' AND status = 'sent'")
}

/// 20 kill -9s at random depths of a 2,000-message backlog; then every count is exact, and no more
/// acknowledgements went out twice than the README's bound (smtp.concurrency per kill).
#[test]
fn twenty_kill_9s_during_a_2000_message_backlog_lose_nothing_and_double_nothing() {
    const N: usize = 2000;
    const KILLS: usize = 20;
    let _one = serial();
    let desk = backlog_desk("kill9");
    fill_inbox(&desk, N);
    let mut rng = Rng::new();
    // Kill points spread over the backlog (by tickets made), each with a random extra delay so that the kill
    // lands anywhere in the processing of a message, a commit, a MOVE or an SMTP transaction.
    let mut points: Vec<i64> = (0..KILLS).map(|_| 20 + rng.below(N as u64 - 200) as i64).collect();
    points.sort_unstable();
    for (k, &point) in points.iter().enumerate() {
        let mut daemon = desk.spawn_run();
        wait_until(Duration::from_secs(120), "progress through the backlog", || tickets(&desk) >= point);
        std::thread::sleep(Duration::from_millis(rng.below(40)));
        daemon.kill9();
        eprintln!("kill {} of {KILLS} at {} tickets", k + 1, tickets(&desk));
    }
    let mut daemon = desk.spawn_run();
    wait_until(Duration::from_secs(300), "every report ticketed and acknowledged", || {
        backlog_done(&desk.store_path(), N)
    });
    let delivered = wait_all_delivered(&desk, N);
    assert!(daemon.terminate(T).success());
    assert_backlog_exact(&desk, N);
    let twice = delivered - N;
    eprintln!("backlog of {N}: {KILLS} kills, {twice} acknowledgement(s) delivered twice");
    assert!(twice <= KILLS * 4, "{twice} acknowledgements delivered twice after {KILLS} kills (bound {})", KILLS * 4);
}

/// kill -9s while the shipped policy seals the team's encrypted notifications after each commit: every
/// notification that was decided is sealed once (the next process seals what a killed one left), encrypted
/// to the three members, and delivered; nothing fails and nothing goes in clear.
#[test]
fn kill_9s_while_notifications_are_sealed_lose_none_and_send_none_in_clear() {
    const N: usize = 300;
    const KILLS: usize = 5;
    let _one = serial();
    let desk = backlog_desk("kill9seal");
    let staff = desk.use_shipped_with_staff(3, |_, _| {});
    fill_inbox(&desk, N);
    let db = desk.store_path();
    let mut rng = Rng::new();
    let mut points: Vec<i64> = (0..KILLS).map(|_| 10 + rng.below(N as u64 - 60) as i64).collect();
    points.sort_unstable();
    let mut left_unsealed = 0;
    for (k, &point) in points.iter().enumerate() {
        let mut daemon = desk.spawn_run();
        wait_until(Duration::from_secs(120), "progress through the backlog", || tickets(&desk) >= point);
        std::thread::sleep(Duration::from_millis(rng.below(40)));
        daemon.kill9();
        let waiting = count(&db, "SELECT count(*) FROM outbox_seal");
        left_unsealed += waiting;
        eprintln!("kill {} of {KILLS} at {} tickets, {waiting} notification(s) left unsealed", k + 1, tickets(&desk));
    }
    let mut daemon = desk.spawn_run();
    wait_until(Duration::from_secs(300), "every report ticketed and every mail sent", || {
        backlog_done(&db, N)
            && count(&db, "SELECT count(*) FROM outbox WHERE status <> 'sent'") == 0
            && count(&db, "SELECT count(*) FROM outbox WHERE kind = 'staff-new-report'") >= 3 * N as i64
    });
    assert!(daemon.terminate(T).success());
    eprintln!("{left_unsealed} notification(s) in all were left unsealed by a kill and sealed by the next process");
    assert_backlog_exact(&desk, N);
    assert_eq!(count(&db, "SELECT count(*) FROM outbox_seal"), 0, "every composition sealed and gone");
    assert_eq!(
        count(&db, "SELECT count(*) FROM messages WHERE kind = 'staff-new-report'"),
        N as i64,
        "one notification decided per report"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM outbox WHERE kind = 'staff-new-report'"), 3 * N as i64);
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM outbox o LEFT JOIN outbox_body b ON b.id = o.body_id WHERE o.kind = 'staff-new-report'
             AND (b.raw IS NULL OR instr(b.raw, CAST('multipart/encrypted' AS BLOB)) = 0
                  OR instr(b.raw, CAST('BEGIN PGP MESSAGE' AS BLOB)) = 0)"
        ),
        0,
        "every notification went encrypted"
    );
    // Each member received each notification, once but for the few a kill caught mid-send.
    let delivered = deliveries(&desk);
    for g in &staff {
        let got = delivered.get(&g.address).copied().unwrap_or(0);
        assert!((N..=N + KILLS * 4).contains(&got), "{} received {got} notifications for {N} reports", g.address);
    }
}

/// Postfix is down for a minute while the daemon works through a backlog: tickets are still made, the
/// acknowledgements wait in the outbox (and `status` says why), and all go out once Postfix is back.
#[test]
fn postfix_stopped_for_a_minute_mid_run_delays_acknowledgements_and_loses_none() {
    const N: usize = 300;
    let _one = serial();
    assert_root();
    let desk = backlog_desk("smtpdown");
    fill_inbox(&desk, N);
    let mut daemon = desk.spawn_run();
    wait_until(T, "the first acknowledgements", || acks_sent(&desk) >= 20);
    stack("stop-postfix");
    let outage = Instant::now();
    // Restart Postfix whatever happens below, or every later test fails for the wrong reason.
    struct Restart;
    impl Drop for Restart {
        fn drop(&mut self) {
            stack("start-postfix");
        }
    }
    let restart = Restart;
    wait_until(T, "every report ticketed during the outage", || tickets(&desk) >= N as i64);
    wait_until(T, "status to report the outage", || {
        let s = desk.status();
        s["smtp"]["state"].as_str().unwrap_or("").starts_with("unreachable") && s["outbox"]["queued"].as_i64() > Some(0)
    });
    let sent_during = acks_sent(&desk);
    assert!(sent_during < N as i64, "nothing can be sent while Postfix is down");
    std::thread::sleep(Duration::from_secs(60).saturating_sub(outage.elapsed()));
    assert_eq!(acks_sent(&desk), sent_during, "no mail reported sent while Postfix was down");
    drop(restart);
    wait_until(Duration::from_secs(120), "the queue to drain after the outage", || acks_sent(&desk) >= N as i64);
    let delivered = wait_all_delivered(&desk, N);
    assert!(daemon.terminate(T).success());
    assert_backlog_exact(&desk, N);
    // The outage broke connections mid-transaction at most once per SMTP slot.
    assert!(delivered - N <= 4, "{} acknowledgements delivered twice", delivered - N);
    assert_eq!(desk.status()["smtp"]["state"], "ok");
}

/// Dovecot restarts while `vdpd run` sits in IDLE: the daemon reconnects by itself, and mail that arrived
/// around the restart is answered.
#[test]
fn dovecot_restarted_while_the_daemon_idles_reconnects_and_misses_nothing() {
    let _one = serial();
    assert_root();
    let desk = Desk::new("dovecot-restart");
    let alice = desk.researcher(1);
    let mut daemon = desk.spawn_run();
    let idle = || wait_until(T, "the daemon to reach IDLE", || desk.status()["imap"]["state"] == "idle");
    idle();
    desk.send(&alice, &report(&alice, &desk.security, "before", &format!("<r1-{}@r.test>", desk.id), "x"));
    desk.wait_inbox(&alice, 1, T);
    idle();
    stack("restart-dovecot");
    // Delivered while the daemon has not noticed yet (Postfix delivers through the new Dovecot).
    desk.send(&alice, &report(&alice, &desk.security, "during", &format!("<r2-{}@r.test>", desk.id), "x"));
    desk.wait_inbox(&alice, 2, T);
    idle();
    desk.send(&alice, &report(&alice, &desk.security, "after", &format!("<r3-{}@r.test>", desk.id), "x"));
    desk.wait_inbox(&alice, 3, T);
    assert_eq!(desk.tickets().len(), 3);
    let log = daemon.log_text();
    assert!(log.contains("IMAP connection lost or failed"), "the restart was noticed:\n{log}");
    assert!(daemon.terminate(T).success());
}

/// The mailbox vdpd reads is deleted and created again (a new UIDVALIDITY) with the old mail put back and
/// two new reports, while `vdpd run` is running: the old mail is recognised, the new gets tickets.
#[test]
fn a_mailbox_recreated_under_the_running_daemon_makes_no_duplicates() {
    let _one = serial();
    let desk = Desk::with(
        "uidvalidity-run",
        Options {
            mailbox: "Reports",
            processed_mailbox: false,
            limits: "new_tickets_per_sender_per_day = 100".into(),
            ..Options::default()
        },
    );
    let alice = desk.researcher(1);
    let mut imap = common::imap::Imap::login(desk.stack.imap, &desk.security, "pass");
    imap.create("Reports");
    for i in 0..5 {
        imap.append(
            "Reports",
            &report(&alice, &desk.security, &format!("old {i}"), &format!("<o{i}-{}@r.test>", desk.id), "x"),
        );
    }
    let mut daemon = desk.spawn_run();
    desk.wait_inbox(&alice, 5, T);
    wait_until(T, "the daemon to reach IDLE", || desk.status()["imap"]["state"] == "idle");
    let before = imap.uidvalidity("Reports");
    let old: Vec<Vec<u8>> = imap.fetch_all("Reports").into_iter().map(|(_, raw)| raw).collect();
    assert_eq!(old.len(), 5);
    // Not the selected mailbox: Dovecot disconnects a session whose selected mailbox is deleted.
    imap.select("INBOX");
    imap.delete("Reports");
    imap.create("Reports");
    for raw in &old {
        imap.append("Reports", raw);
    }
    for i in 0..2 {
        imap.append(
            "Reports",
            &report(&alice, &desk.security, &format!("new {i}"), &format!("<n{i}-{}@r.test>", desk.id), "x"),
        );
    }
    assert_ne!(imap.uidvalidity("Reports"), before, "the server gave the new mailbox a new UIDVALIDITY");
    imap.logout();
    desk.wait_inbox(&alice, 7, T);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(desk.queued_to(&alice), 7, "no acknowledgement queued twice");
    assert_eq!(desk.inbox(&alice).len(), 7, "none delivered twice");
    assert_eq!(desk.tickets().len(), 7);
    let db = desk.store_path();
    assert_eq!(count(&db, "SELECT count(*) FROM intake WHERE status = 'duplicate'"), 5, "the old mail recognised");
    assert!(daemon.log_text().contains("UIDVALIDITY of"));
    assert!(daemon.terminate(T).success());
}

/// The store's file system fills up under `vdpd run`: the daemon says so clearly and keeps running; no
/// message is lost, and once there is room again everything is processed exactly once.
#[test]
fn a_full_disk_under_the_store_is_a_clear_error_and_loses_nothing_once_space_returns() {
    const N: usize = 400;
    let _one = serial();
    assert_root();
    let desk = backlog_desk("diskfull");
    let mount = desk.dir.path().join("store");
    std::fs::create_dir_all(&mount).unwrap();
    let mounted =
        Command::new("mount").args(["-t", "tmpfs", "-o", "size=768k,mode=0700", "tmpfs"]).arg(&mount).status();
    assert!(mounted.unwrap().success(), "mount a tmpfs at {}", mount.display());
    struct Unmount(PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = Command::new("umount").arg("-l").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mount.clone());
    let text = std::fs::read_to_string(&desk.config)
        .unwrap()
        .replace("path = \"vdpd.sqlite\"", "path = \"store/vdpd.sqlite\"");
    std::fs::write(&desk.config, text).unwrap();
    let db = mount.join("vdpd.sqlite");
    fill_inbox(&desk, N);
    let mut daemon = desk.spawn_run();
    wait_until(T, "the disk to fill up", || daemon.log_text().contains("disk is full"));
    let made = count(&db, "SELECT count(*) FROM tickets");
    assert!(made < N as i64, "the store filled up before the backlog was done ({made} tickets)");
    std::thread::sleep(Duration::from_secs(3));
    assert!(daemon.is_running(), "the daemon survives a full disk:\n{}", daemon.log_text());
    let status = desk.vdpd(&["status"]);
    let status = String::from_utf8_lossy(&status.stdout).to_string() + &String::from_utf8_lossy(&status.stderr);
    eprintln!("status with the disk full:\n{status}");
    assert!(status.contains("disk is full"), "status names the cause: {status}");
    // Room again: the daemon goes on by itself.
    let grown = Command::new("mount").args(["-o", "remount,size=64m"]).arg(&mount).status();
    assert!(grown.unwrap().success());
    wait_until(Duration::from_secs(180), "every report ticketed and acknowledged", || backlog_done(&db, N));
    let delivered = wait_all_delivered(&desk, N);
    assert!(daemon.terminate(T).success());
    assert_eq!(count(&db, "SELECT count(*) FROM tickets"), N as i64);
    assert_eq!(count(&db, "SELECT count(*) FROM outbox WHERE kind = 'acknowledgement'"), N as i64);
    assert_eq!(count(&db, "SELECT count(*) FROM intake WHERE status IN ('pending', 'quarantined')"), 0);
    assert!(delivered - N <= 4, "{} acknowledgements delivered twice", delivered - N);
    let mut imap = common::imap::Imap::login(desk.stack.imap, &desk.security, "pass");
    assert_eq!(imap.count("INBOX"), 0);
    assert_eq!(imap.count(common::PROCESSED), N);
    imap.logout();
}

/// SIGTERM while a backlog is being processed: the daemon finishes the message in hand and the server side
/// of what it committed, then exits 0 — nothing half-done; a restart finishes the rest exactly.
#[test]
fn sigterm_during_a_batch_is_graceful_and_leaves_nothing_half_done() {
    const N: usize = 1000;
    let _one = serial();
    let desk = backlog_desk("sigterm-batch");
    fill_inbox(&desk, N);
    let db = desk.store_path();
    let mut daemon = desk.spawn_run();
    wait_until(T, "the daemon in the middle of the backlog", || tickets(&desk) >= 100);
    let start = Instant::now();
    assert!(daemon.terminate(T).success(), "{}", daemon.log_text());
    assert!(start.elapsed() < Duration::from_secs(15), "shutdown took {:?}", start.elapsed());
    let made = tickets(&desk);
    assert!(made < N as i64, "stopped mid-backlog ({made} tickets)");
    assert_eq!(count(&db, "SELECT count(*) FROM intake WHERE status = 'pending'"), 0, "no message begun and left");
    assert_eq!(
        count(&db, "SELECT count(*) FROM outbox WHERE kind = 'acknowledgement'"),
        made,
        "every ticket made has its acknowledgement queued"
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM intake WHERE status <> 'pending' AND server_done = 0"),
        0,
        "every message processed was also moved on the server"
    );
    let mut imap = common::imap::Imap::login(desk.stack.imap, &desk.security, "pass");
    assert_eq!(imap.count(common::PROCESSED) as i64, made);
    assert_eq!(imap.count("INBOX") as i64, N as i64 - made);
    imap.logout();
    let mut daemon = desk.spawn_run();
    wait_until(Duration::from_secs(180), "the rest of the backlog", || backlog_done(&db, N));
    wait_all_delivered(&desk, N);
    assert!(daemon.terminate(T).success());
    assert_backlog_exact(&desk, N);
}

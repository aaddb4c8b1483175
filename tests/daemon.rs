//! `vdpd run` against the real mail stack: IDLE latency, kill -9 in a backlog, hostile mail, reconnects,
//! graceful shutdown and the systemd notification protocol (READY, WATCHDOG, STOPPING).

mod common;

use std::collections::HashSet;
use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use common::proxy::{Mode, Proxy};
use common::{Desk, Options, Stack, ex, header, parse, report, wait_until};

const T: Duration = Duration::from_secs(60);

fn wait_idle(desk: &Desk) {
    wait_until(T, "the daemon to reach IDLE", || desk.status()["imap"]["state"] == "idle");
}

fn count(desk: &Desk, sql: &str) -> i64 {
    common::count(&desk.store_path(), sql)
}

#[test]
fn with_run_idling_an_acknowledgement_arrives_within_two_seconds() {
    let desk = Desk::new("latency");
    let mut daemon = desk.spawn_run();
    wait_idle(&desk);
    let alice = desk.researcher(1);
    let mut worst = Duration::ZERO;
    for i in 0..3 {
        let start = Instant::now();
        desk.send(
            &alice,
            &report(&alice, &desk.security, &format!("report {i}"), &format!("<l{i}-{}@r.test>", desk.id), "x"),
        );
        desk.wait_inbox(&alice, i + 1, Duration::from_secs(10));
        worst = worst.max(start.elapsed());
        wait_idle(&desk);
    }
    assert!(worst < Duration::from_secs(2), "acknowledgement took {worst:?}\n{}", daemon.log_text());
    assert!(daemon.terminate(T).success());
}

#[test]
fn kill_9_in_the_middle_of_a_500_message_backlog_loses_nothing_and_doubles_nothing() {
    const N: usize = 500;
    let desk = Desk::with("backlog", Options { limits: common::BACKLOG_LIMITS.into(), ..Options::default() });
    let alice = desk.researcher(1);
    let mut imap = common::imap::Imap::login(desk.stack.imap, &desk.security, "pass");
    let mut ids = HashSet::new();
    for i in 0..N {
        let mid = format!("<b{i}-{}@r.test>", desk.id);
        imap.append("INBOX", &report(&alice, &desk.security, &format!("finding {i}"), &mid, "x"));
        ids.insert(mid);
    }
    imap.logout();

    // Kill the daemon three times while it works through the backlog, at different depths.
    let mut kills = 0;
    for threshold in [60, 200, 350] {
        let mut daemon = desk.spawn_run();
        wait_until(T, "progress through the backlog", || count(&desk, "SELECT count(*) FROM tickets") >= threshold);
        daemon.kill9();
        kills += 1;
    }
    let mut daemon = desk.spawn_run();
    wait_until(Duration::from_secs(180), "every report ticketed and acknowledged", || {
        count(&desk, "SELECT count(*) FROM outbox WHERE status = 'sent'") == N as i64
    });
    let mut answered: HashSet<String> = HashSet::new();
    let mut inbox = Vec::new();
    wait_until(Duration::from_secs(60), "every acknowledgement in the researcher's inbox", || {
        inbox = desk.inbox(&alice);
        answered = inbox.iter().filter_map(|m| header(m, "In-Reply-To")).collect();
        answered.len() >= N
    });
    // Give a late duplicate the chance to show up before counting.
    std::thread::sleep(Duration::from_secs(2));
    let inbox = desk.inbox(&alice);
    assert!(daemon.terminate(T).success());

    assert_eq!(desk.tickets().len(), N, "exactly one ticket per report");
    assert_eq!(count(&desk, "SELECT count(*) FROM intake WHERE status = 'pending'"), 0);
    assert_eq!(count(&desk, "SELECT count(*) FROM outbox"), N as i64, "one acknowledgement queued per ticket");
    let missing: Vec<_> = ids.difference(&answered).take(5).collect();
    let strays: Vec<_> = answered.difference(&ids).take(5).collect();
    assert!(missing.is_empty() && strays.is_empty(), "missing acknowledgements {missing:?}, strays {strays:?}");
    // The documented bound: a kill can make at most smtp.concurrency (4) mails in flight go twice.
    let extra = inbox.len() - N;
    eprintln!("backlog of {N}: {kills} kills, {extra} acknowledgement(s) delivered twice");
    assert!(extra <= kills * 4, "{extra} duplicate acknowledgements after {kills} kills");
    let mut imap = common::imap::Imap::login(desk.stack.imap, &desk.security, "pass");
    assert_eq!(imap.count("INBOX"), 0, "everything moved to Processed");
    assert_eq!(imap.count(common::PROCESSED), N);
    imap.logout();
}

/// The hostile corpus of the issue: every one is processed or quarantined, none blocks the mailbox, the
/// daemon lives, and the ordinary report behind them is acknowledged.
#[test]
fn hostile_mail_is_processed_or_quarantined_and_never_blocks_the_mailbox() {
    let ex5 = ex(5);
    let desk = Desk::new("hostile");
    let x = desk.researcher(1);
    let sec = desk.security.clone();
    let id = desk.id.clone();
    let mut corpus: Vec<(&str, Vec<u8>)> = Vec::new();
    corpus.push((
        "truncated MIME",
        format!(
            "From: {x}\r\nTo: {sec}\r\nSubject: truncated\r\nMessage-ID: <h1-{id}@r.test>\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"zz\"\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nhalf a part\r\n\
             --zz\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nQUJDRE"
        )
        .into_bytes(),
    ));
    let mut deep =
        format!("From: {x}\r\nTo: {sec}\r\nSubject: deep\r\nMessage-ID: <h2-{id}@r.test>\r\nMIME-Version: 1.0\r\n");
    for i in 0..1000 {
        deep.push_str(&format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"));
    }
    deep.push_str("Content-Type: text/plain\r\n\r\ncore\r\n");
    for i in (0..1000).rev() {
        deep.push_str(&format!("--b{i}--\r\n"));
    }
    corpus.push(("1000-deep multipart", deep.into_bytes()));
    let mut long =
        format!("From: {x}\r\nTo: {sec}\r\nSubject: long line\r\nMessage-ID: <h3-{id}@r.test>\r\n\r\n").into_bytes();
    long.extend(std::iter::repeat_n(b'A', 20 * 1024 * 1024));
    long.extend_from_slice(b"\r\n");
    corpus.push(("a 20 MB line", long));
    corpus.push((
        "bad charsets",
        [
            format!("From: {x}\r\nTo: {sec}\r\nMessage-ID: <h4-{id}@r.test>\r\n").as_bytes(),
            b"Subject: =?x-no-such-charset?B?//79?= raw \xff\xfe 8bit\r\n",
            b"Content-Type: text/plain; charset=\"utf-7-bogus\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n=FF=FE=00 broken =ZZ\r\n",
        ]
        .concat(),
    ));
    corpus.push((
        "NUL bytes",
        [
            format!("From: {x}\r\nTo: {sec}\r\nSubject: nul\r\nMessage-ID: <h5-{id}@r.test>\r\n\r\n").as_bytes(),
            b"before\x00after\x00\x00\r\n",
        ]
        .concat(),
    ));
    corpus.push((
        "CR/LF in the subject",
        format!(
            "From: {x}\r\nTo: {sec}\r\nSubject: =?utf-8?q?pwn=0D=0ABcc=3A_victim=40example=2Etest=0D=0A=0D=0Abody?=\r\n\
             Message-ID: <h6-{id}@r.test>\r\n\r\nhello\r\n"
        )
        .into_bytes(),
    ));
    corpus.push((
        "no From at all",
        format!("To: {sec}\r\nSubject: anonymous\r\nMessage-ID: <h7-{id}@r.test>\r\n\r\nwho?\r\n").into_bytes(),
    ));
    corpus.push(("not mail at all", b"\x00\x01\x02\x03 garbage \xff\xfe\xfd".to_vec()));
    let mut imap = common::imap::Imap::login(desk.stack.imap, &desk.security, "pass");
    for (_, m) in &corpus {
        imap.append("INBOX", m);
    }
    let normal_id = format!("<normal-{id}@r.test>");
    let normal_sender = desk.researcher(2);
    imap.append("INBOX", &report(&normal_sender, &sec, "An ordinary report", &normal_id, "after the storm"));
    imap.logout();

    let mut daemon = desk.spawn_run();
    let ack = desk.wait_inbox(&normal_sender, 1, T).remove(0);
    assert_eq!(header(&ack, "In-Reply-To").unwrap(), normal_id);
    assert!(daemon.is_running(), "the daemon survived:\n{}", daemon.log_text());
    wait_until(T, "every hostile message settled", || {
        count(&desk, "SELECT count(*) FROM intake WHERE status != 'pending'") == corpus.len() as i64 + 1
    });
    let by_outcome = |s: &str| count(&desk, &format!("SELECT count(*) FROM intake WHERE status = '{s}'"));
    assert_eq!(by_outcome("ticket") + by_outcome("quarantined"), corpus.len() as i64 + 1);
    let quarantined = desk.mail("quarantined");
    let errors: Vec<String> = quarantined.iter().map(|q| q["reason"].as_str().unwrap().to_string()).collect();
    assert!(errors.iter().any(|e| e.contains("max_mime_depth")), "{errors:?}");
    // The mail without From and the garbage: nobody to answer.
    assert_eq!(errors.iter().filter(|e| e.contains("no usable From")).count(), 2, "{errors:?}");

    // The researcher behind the CR/LF subject got an acknowledgement whose header carries no injected Bcc.
    let acks = desk.wait_inbox(&x, 5, T);
    for a in &acks {
        let text = String::from_utf8_lossy(a);
        let head = &text[..text.find("\r\n\r\n").unwrap()];
        assert!(!head.lines().any(|l| l.to_ascii_lowercase().starts_with("bcc:")), "{head}");
    }
    let pwn =
        acks.iter().find(|a| parse(a).subject().unwrap_or("").contains("pwn")).expect("ack for the CR/LF subject");
    assert_eq!(parse(pwn).subject().unwrap(), format!("[{ex5}] Re: pwn Bcc: victim@example.test body").as_str());
    assert!(daemon.terminate(T).success());
}

#[test]
fn the_daemon_reconnects_after_the_imap_connection_drops_and_misses_nothing() {
    let gate = Proxy::start(Stack::get().imaps);
    let desk = Desk::with("reconnect", Options { imap_port: Some(gate.port), ..Options::default() });
    let mut daemon = desk.spawn_run();
    wait_idle(&desk);
    gate.set(Mode::Down);
    let alice = desk.researcher(1);
    // Mail arrives while vdpd cannot reach the server.
    desk.send(&alice, &report(&alice, &desk.security, "while down", &format!("<d1-{}@r.test>", desk.id), "x"));
    wait_until(T, "the daemon to notice", || {
        desk.status()["imap"]["state"].as_str().unwrap_or("").starts_with("disconnected")
    });
    gate.set(Mode::Forward);
    desk.wait_inbox(&alice, 1, T);
    wait_idle(&desk);
    desk.send(&alice, &report(&alice, &desk.security, "after", &format!("<d2-{}@r.test>", desk.id), "x"));
    desk.wait_inbox(&alice, 2, T);
    assert_eq!(desk.tickets().len(), 2);
    assert!(daemon.terminate(T).success());
}

#[test]
fn sigterm_stops_gracefully_and_status_says_so() {
    let desk = Desk::new("sigterm");
    let mut daemon = desk.spawn_run();
    wait_idle(&desk);
    let running = desk.status();
    assert_eq!(running["daemon"]["running"], true);
    assert_eq!(running["daemon"]["pid"], daemon.pid().to_string());
    // A second fetcher on the same store is refused.
    let second = desk.vdpd(&["once"]);
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("held by another vdpd process"),
        "{}",
        common::show(&second)
    );
    let start = Instant::now();
    assert!(daemon.terminate(T).success());
    assert!(start.elapsed() < Duration::from_secs(10), "shutdown took {:?}", start.elapsed());
    let stopped = desk.status();
    assert_eq!(stopped["daemon"]["running"], false);
    assert!(stopped["daemon"]["stopped_at"].is_string());
    assert_eq!(stopped["imap"]["state"], "stopped");
}

/// Reads sd_notify datagrams until `pred` matches one or `timeout` passes.
fn notified(sock: &UnixDatagram, timeout: Duration, mut pred: impl FnMut(&str) -> bool) -> bool {
    let end = Instant::now() + timeout;
    let mut buf = [0u8; 4096];
    while Instant::now() < end {
        sock.set_read_timeout(Some((end - Instant::now()).max(Duration::from_millis(1)))).unwrap();
        if let Ok(n) = sock.recv(&mut buf)
            && pred(&String::from_utf8_lossy(&buf[..n]))
        {
            return true;
        }
    }
    false
}

#[test]
fn systemd_gets_ready_watchdog_and_stopping_and_the_watchdog_starves_when_the_fetcher_hangs() {
    let gate = Proxy::start(Stack::get().imaps);
    let desk = Desk::with(
        "watchdog",
        Options {
            imap_port: Some(gate.port),
            // Our own timeouts would turn the hang into a reconnect; make them too long to help, so that only the
            // watchdog is left to notice.
            imap_timeout: "1h",
            ..Options::default()
        },
    );
    let sock_path = desk.dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&sock_path).unwrap();
    let mut daemon = desk.spawn_run_with(|c| {
        c.env("NOTIFY_SOCKET", &sock_path).env("WATCHDOG_USEC", "2000000");
    });
    assert!(notified(&sock, T, |m| m.contains("READY=1")), "no READY=1:\n{}", daemon.log_text());
    wait_idle(&desk);
    assert!(notified(&sock, Duration::from_secs(5), |m| m.contains("WATCHDOG=1")), "no WATCHDOG=1 while healthy");

    // The server stops answering; the fetcher hangs inside an IMAP command.
    gate.set(Mode::Freeze);
    std::thread::sleep(Duration::from_secs(3));
    // Drain what was sent before the hang was noticed, then expect silence.
    while notified(&sock, Duration::from_millis(10), |_| true) {}
    assert!(
        !notified(&sock, Duration::from_secs(4), |m| m.contains("WATCHDOG=1")),
        "the watchdog was fed while the fetcher hung:\n{}",
        daemon.log_text()
    );
    assert!(daemon.log_text().contains("has made no progress"), "{}", daemon.log_text());

    // Cutting the connection unblocks the fetcher; SIGTERM then stops the daemon with STOPPING=1.
    gate.set(Mode::Down);
    assert!(daemon.terminate(T).success());
    assert!(notified(&sock, Duration::from_secs(1), |m| m.contains("STOPPING=1")), "no STOPPING=1");
}

#[test]
fn reload_rereads_policy_and_templates_and_refuses_a_broken_one() {
    let desk = Desk::new("reload");
    // No daemon yet: `vdpd reload` says so (69) and creates nothing.
    let none = desk.vdpd(&["reload"]);
    assert_eq!(none.status.code(), Some(69), "{}", String::from_utf8_lossy(&none.stderr));
    assert!(String::from_utf8_lossy(&none.stderr).contains("no vdpd daemon is running"));
    let mut daemon = desk.spawn_run();
    wait_idle(&desk);
    let alice = desk.researcher(1);
    let send = |n: u32| {
        desk.send(
            &alice,
            &report(&alice, &desk.security, &format!("report {n}"), &format!("<h{n}-{}@r.test>", desk.id), "x"),
        )
    };
    send(1);
    let first = desk.wait_inbox(&alice, 1, T).remove(0);
    assert!(!String::from_utf8_lossy(&first).contains("RELOADED"));

    // A new acknowledgement template, then SIGHUP: the next report is answered with it.
    let templates = desk.dir.path().join("templates");
    std::fs::create_dir_all(&templates).unwrap();
    std::fs::write(templates.join("acknowledgement.txt"), "RELOADED acknowledgement of {{ ticket.reference }}\n")
        .unwrap();
    // `vdpd reload` (what ExecReload runs) signals the daemon and returns when it has reloaded.
    let reloaded = desk.vdpd(&["reload"]);
    assert!(reloaded.status.success(), "{}", String::from_utf8_lossy(&reloaded.stderr));
    assert!(daemon.log_text().contains("configuration reloaded"), "{}", daemon.log_text());
    send(2);
    let second = desk.wait_inbox(&alice, 2, T).remove(1);
    assert!(String::from_utf8_lossy(&second).contains("RELOADED acknowledgement of EX-"), "{}", daemon.log_text());

    // A broken policy is refused with its problem named, and the running configuration stays in use:
    // `vdpd reload` reads it first and does not disturb the daemon with it.
    let good = std::fs::read_to_string(&desk.config).unwrap();
    std::fs::write(&desk.config, good.replace("acknowledge = \"24h\"", "acknowledge = \"soon\"")).unwrap();
    let refused = desk.vdpd(&["reload"]);
    let why = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(78), "{why}");
    assert!(why.contains("not reloaded") && why.contains("sla.acknowledge"), "{why}");
    // What only the daemon can check (a template that does not render) is refused by the daemon, and
    // `vdpd reload` reports its answer.
    std::fs::write(&desk.config, &good).unwrap();
    std::fs::write(templates.join("acknowledgement.txt"), "{% if %}broken\n").unwrap();
    let refused = desk.vdpd(&["reload"]);
    let why = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(refused.status.code(), Some(78), "{why}");
    assert!(why.contains("refused the new configuration") && why.contains("acknowledgement.txt"), "{why}");
    assert!(daemon.log_text().contains("reload refused"), "{}", daemon.log_text());
    // A plain SIGHUP (what an admin's `kill -HUP` sends) is a reload too.
    std::fs::write(templates.join("acknowledgement.txt"), "RELOADED acknowledgement of {{ ticket.reference }}\n")
        .unwrap();
    common::signal(daemon.pid(), "HUP");
    wait_until(T, "the reload", || daemon.log_text().matches("configuration reloaded").count() == 2);
    std::fs::write(&desk.config, good.replace("acknowledge = \"24h\"", "acknowledge = \"soon\"")).unwrap();
    common::signal(daemon.pid(), "HUP");
    wait_until(T, "the refusal", || daemon.log_text().matches("reload refused").count() == 2);
    assert!(daemon.log_text().contains("sla.acknowledge"), "{}", daemon.log_text());
    send(3);
    let third = desk.wait_inbox(&alice, 3, T).remove(2);
    assert!(String::from_utf8_lossy(&third).contains("RELOADED acknowledgement of EX-"));
    assert!(daemon.is_running());
    std::fs::write(&desk.config, good).unwrap();
    assert!(daemon.terminate(T).success());
}

#[test]
fn logs_are_json_on_request_and_carry_no_report_content() {
    let ex1 = ex(1);
    let desk = Desk::new("logs");
    let alice = desk.researcher(1);
    desk.send(
        &alice,
        &report(
            &alice,
            &desk.security,
            "Subject-Marker-7Q2 in the login",
            &format!("<g1-{}@r.test>", desk.id),
            "Body-Marker-9K4\nAsset: https://asset-marker-3x.example.test/login\nSteps to reproduce: Step-Marker-5J8",
        ),
    );
    let out = desk.command().args(["--log-format", "json", "once"]).env("VDPD_LOG", "info").output().unwrap();
    assert!(out.status.success(), "{}", common::show(&out));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<serde_json::Value> =
        stderr.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}"))).collect();
    assert!(lines.iter().any(|l| l["fields"]["ticket"] == ex1.as_str()), "{stderr}");
    for marker in ["Subject-Marker-7Q2", "Body-Marker-9K4", "asset-marker-3x", "Step-Marker-5J8", "imap.pass"] {
        assert!(!stderr.contains(marker), "{marker} in the log:\n{stderr}");
    }
    let password = std::fs::read_to_string(desk.dir.path().join("imap.pass")).unwrap();
    assert!(!stderr.contains(&format!("\"{}\"", password.trim())), "{stderr}");
}

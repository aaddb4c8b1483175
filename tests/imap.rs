//! The IMAP side as stock and small servers run it, against the stack's real Dovecot: mailbox names in the
//! server's own naming (the shipped `vdpd/processed`, modified UTF-7), refusals that are configuration errors
//! (status, metrics, one alert, a reload that fixes it), a server without MOVE, UIDPLUS and IDLE, and TLS
//! with a pinned self-signed certificate.
//!
//! The stack's Dovecot presents its CA-signed certificate on 127.0.0.1, a self-signed CA:TRUE one (made by
//! `openssl req -x509`, SAN 127.0.0.2) on 127.0.0.2 and 127.0.0.3, and advertises neither MOVE, UIDPLUS nor
//! IDLE on 127.0.0.4 (scripts/mailstack.sh).

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::{Desk, Options, PROCESSED, report, table, wait_until};

const T: Duration = Duration::from_secs(60);

fn edit(desk: &Desk, f: impl FnOnce(&mut toml::Table)) {
    let mut policy: toml::Table = std::fs::read_to_string(&desk.config).unwrap().parse().unwrap();
    f(&mut policy);
    std::fs::write(&desk.config, toml::to_string(&policy).unwrap()).unwrap();
}

/// `vdpd check --connect`: whether it passed, and everything it said.
fn check(desk: &Desk) -> (bool, String) {
    let out = desk.vdpd(&["check", "--connect"]);
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// Sets `[section]`'s `ca_file` and `tls_fingerprint` (absent where `None`), then runs `check --connect`.
fn trust(desk: &Desk, section: &str, ca: Option<&std::path::Path>, fpr: Option<&str>) -> (bool, String) {
    edit(desk, |p| {
        let t = table(p, section);
        t.remove("ca_file");
        t.remove("tls_fingerprint");
        if let Some(ca) = ca {
            t.insert("ca_file".into(), ca.display().to_string().into());
        }
        if let Some(f) = fpr {
            t.insert("tls_fingerprint".into(), f.into());
        }
    });
    check(desk)
}

fn tls_file(name: &str) -> PathBuf {
    PathBuf::from(std::env::var("MAILSTACK_ROOT").unwrap_or_else(|_| "/tmp/vdpd-mailstack".into()))
        .join("tls")
        .join(name)
}

/// The certificate's SHA-256 as `openssl x509 -fingerprint -sha256` prints it (`sha256 Fingerprint=AB:…`),
/// which is what an admin pastes.
fn openssl_fingerprint(cert: &std::path::Path) -> String {
    let out = std::process::Command::new("openssl")
        .args(["x509", "-noout", "-fingerprint", "-sha256", "-in"])
        .arg(cert)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn a_mailbox_the_server_refuses_is_a_configuration_error_until_a_reload_fixes_it() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let desk = Desk::new("nobox");
    let cto = format!("cto-{}@example.test", desk.id);
    desk.write_policy(&Options {
        extra: format!("\n[staff]\nescalation = [\"{cto}\"]\n\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n"),
        ..Options::default()
    });
    edit(&desk, |p| {
        table(p, "imap").insert("mailbox".into(), "Missing/Box".into());
    });

    // The check selects the mailbox and fails with the server's words.
    let (ok, text) = check(&desk);
    assert!(!ok, "{text}");
    assert!(text.contains("FAIL  imap") && text.contains("\"Missing/Box\"") && text.contains("Missing.Box"), "{text}");
    assert!(text.contains("the server says \"Mailbox doesn't exist"), "{text}");
    // `once` exits 78 (configuration), not 69 (unreachable).
    let once = desk.once();
    assert_eq!(once.status.code(), Some(78), "{}", common::show(&once));
    assert!(String::from_utf8_lossy(&once.stderr).contains("IMAP configuration error"), "{}", common::show(&once));

    // The daemon says so at error priority, in status and metrics, and mails the escalation contact once —
    // no reconnect loop logged as a network fault.
    let mut daemon = desk.spawn_run();
    wait_until(T, "the configuration error in status", || {
        desk.status()["imap"]["state"].as_str().is_some_and(|s| s.starts_with("configuration error: "))
    });
    let log = daemon.log_text();
    assert!(log.contains("ERROR") && log.contains("IMAP configuration error"), "{log}");
    assert!(!log.contains("IMAP connection lost or failed"), "{log}");
    assert!(desk.status()["imap"]["config_error"].as_str().is_some_and(|e| e.contains("Missing.Box")));
    assert!(desk.vdpd_ok(&["status"]).contains("CONFIGURATION ERROR"));
    wait_until(T, "the metric", || common::http_get(port, "/metrics").lines().any(|l| l == "vdpd_imap_config_error 1"));
    let alert = desk.wait_inbox(&cto, 1, T).remove(0);
    let alert = String::from_utf8_lossy(&alert).replace("=\r\n", "");
    assert!(alert.contains("the security mailbox cannot be read") && alert.contains("Missing.Box"), "{alert}");

    // Fixed in the policy and reloaded: the mailbox loop connects at once and the report waiting is answered.
    edit(&desk, |p| {
        table(p, "imap").insert("mailbox".into(), "INBOX".into());
    });
    let alice = desk.researcher(1);
    desk.send(&alice, &report(&alice, &desk.security, "XSS", &format!("<nobox-{}@r.test>", desk.id), "x"));
    let reloaded = desk.vdpd(&["reload"]);
    assert!(reloaded.status.success(), "{}", common::show(&reloaded));
    desk.wait_inbox(&alice, 1, T);
    wait_until(T, "the error to clear", || desk.status()["imap"]["config_error"].is_null());
    assert!(common::http_get(port, "/metrics").lines().any(|l| l == "vdpd_imap_config_error 0"));
    assert_eq!(desk.queued_to(&cto), 1, "one alert");
    assert!(daemon.terminate(T).success());
}

#[test]
fn a_refused_login_is_a_configuration_error() {
    let desk = Desk::new("badpass");
    std::fs::write(desk.dir.path().join("imap.pass"), "not-the-password\n").unwrap();
    let once = desk.once();
    let text = common::show(&once);
    assert_eq!(once.status.code(), Some(78), "{text}");
    assert!(text.contains("IMAP configuration error") && text.contains("login refused"), "{text}");
    assert!(desk.status()["imap"]["config_error"].as_str().is_some_and(|e| e.contains("login refused")));
}

#[test]
fn mailbox_names_are_written_with_slashes_and_travel_in_the_servers_naming() {
    let desk = Desk::new("names");
    // The server's own delimiter inside a level is refused with the fix.
    edit(&desk, |p| {
        table(p, "imap").insert("processed_mailbox".into(), "vdpd.processed".into());
    });
    let (ok, text) = check(&desk);
    assert!(!ok && text.contains("write levels with \"/\""), "{text}");

    // Levels and non-ASCII names: modified UTF-7 on the server, one level per "/".
    edit(&desk, |p| {
        table(p, "imap").insert("processed_mailbox".into(), "vdpd/Erledigt ✓".into());
    });
    let alice = desk.researcher(1);
    desk.send(&alice, &report(&alice, &desk.security, "SSRF", &format!("<names-{}@r.test>", desk.id), "x"));
    desk.once_ok();
    let mut imap = common::imap::Imap::login(desk.stack.imap, &desk.security, "pass");
    assert_eq!(imap.count("vdpd.Erledigt &JxM-"), 1);
    assert_eq!(imap.count("INBOX"), 0);
}

#[test]
fn a_server_without_move_uidplus_or_idle_is_polled_and_handled_mail_is_copied_and_flagged() {
    let desk = Desk::with("nomove", Options { imap_tls: "none", ..Options::default() });
    edit(&desk, |p| {
        table(p, "imap").insert("host".into(), "127.0.0.4".into());
    });
    let (ok, text) = check(&desk);
    assert!(ok, "{text}");
    assert!(text.contains("IDLE no, MOVE no, UIDPLUS no") && text.contains("neither MOVE nor UIDPLUS"), "{text}");
    assert!(text.contains("vdpd polls every 2s"), "{text}");

    let mut daemon = desk.spawn_run();
    wait_until(T, "polling", || desk.status()["imap"]["state"] == "polling");
    let alice = desk.researcher(1);
    for n in 1..=2 {
        desk.send(
            &alice,
            &report(&alice, &desk.security, &format!("bug {n}"), &format!("<nm{n}-{}@r.test>", desk.id), "x"),
        );
        desk.wait_inbox(&alice, n, T);
    }
    // Copied and flagged, left in place (a plain EXPUNGE could take others' deleted mail), and each
    // handled exactly once.
    let mut imap = common::imap::Imap::login(desk.stack.imap, &desk.security, "pass");
    assert_eq!(imap.count(PROCESSED), 2);
    assert_eq!(imap.count("INBOX"), 2);
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(desk.tickets().len(), 2);
    assert_eq!(desk.inbox(&alice).len(), 2, "no second acknowledgement");
    let log = daemon.log_text();
    assert!(log.contains("does not offer IDLE") && log.contains("neither MOVE nor UIDPLUS"), "{log}");
    assert!(daemon.terminate(T).success());
}

#[test]
fn a_pinned_self_signed_certificate_is_trusted_as_exactly_that_certificate() {
    let desk = Desk::new("pin");
    let selfsigned = tls_file("selfsigned.pem");
    let imap = |host: &str, ca: Option<&std::path::Path>, fpr: Option<&str>| {
        edit(&desk, |p| {
            table(p, "imap").insert("host".into(), host.into());
        });
        trust(&desk, "imap", ca, fpr)
    };

    // The server's own CA:TRUE certificate in ca_file: pinned, accepted.
    let (ok, text) = imap("127.0.0.2", Some(&selfsigned), None);
    assert!(ok, "{text}");
    // The stack's CA does not vouch for it: refused, with the fix and the fingerprint to pin.
    let (ok, text) = imap("127.0.0.2", Some(&desk.stack.ca), None);
    assert!(!ok && text.contains("CA:TRUE") && text.contains("tls_fingerprint = \"sha256:"), "{text}");
    let suggested = text.split("tls_fingerprint = \"").nth(1).unwrap().split('"').next().unwrap().to_string();
    // Pinned by the suggested fingerprint, or by what openssl prints, without any file.
    let (ok, text) = imap("127.0.0.2", None, Some(&suggested));
    assert!(ok, "{text}");
    let printed = openssl_fingerprint(&selfsigned);
    let (ok, text) = imap("127.0.0.2", None, Some(&printed));
    assert!(ok, "{text}");
    // The host name is still checked: the same certificate on an address it does not name is refused.
    let (ok, text) = imap("127.0.0.3", Some(&selfsigned), None);
    assert!(!ok && text.contains("not valid for name") && text.contains("set [imap] host"), "{text}");
    let (ok, text) = imap("127.0.0.3", None, Some(&printed));
    assert!(!ok && text.contains("not valid for name"), "{text}");
    // The usual mistake: implicit TLS to a port that speaks plain text first.
    edit(&desk, |p| {
        table(p, "imap").insert("port".into(), i64::from(desk.stack.imap).into());
    });
    let (ok, text) = imap("127.0.0.1", Some(&desk.stack.ca), None);
    assert!(!ok && text.contains("did not answer in TLS") && text.contains("tls = \"starttls\""), "{text}");
    edit(&desk, |p| {
        table(p, "imap").insert("port".into(), i64::from(desk.stack.imaps).into());
    });
    // A pin is exact: the server on 127.0.0.1 presents another certificate.
    let (ok, text) = imap("127.0.0.1", None, Some(&printed));
    assert!(!ok && text.contains("not the one [imap] tls_fingerprint pins"), "{text}");

    // SMTP (STARTTLS through Postfix) takes the same pins and gives the same advice.
    let leaf = tls_file("cert.pem");
    imap("127.0.0.1", Some(&desk.stack.ca), None);
    let smtp = |ca: Option<&std::path::Path>, fpr: Option<&str>| trust(&desk, "smtp", ca, fpr);
    let (ok, text) = smtp(None, None);
    assert!(!ok && text.contains("not signed by a public CA") && text.contains("tls_fingerprint"), "{text}");
    let (ok, text) = smtp(None, Some(&openssl_fingerprint(&leaf)));
    assert!(ok && text.contains("ok    smtp connection"), "{text}");
    let (ok, text) = smtp(Some(&leaf), None);
    assert!(ok, "{text}");
    let (ok, text) = smtp(None, Some(&printed));
    assert!(!ok && text.contains("not the one [smtp] tls_fingerprint pins"), "{text}");
}

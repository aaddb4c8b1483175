//! Microsoft 365 and Google style mailboxes: IMAP and SMTP log in with SASL XOAUTH2, with access tokens vdpd
//! refreshes itself at a token endpoint — here the stack's own OAuth2 provider, which Dovecot's oauth2
//! passdb checks every login against (and Postfix through Dovecot SASL).

mod common;

use std::time::Duration;

use common::{Desk, Options, report, wait_until};

const T: Duration = Duration::from_secs(30);

/// How often the provider refreshed `user`'s tokens.
fn refreshes(desk: &Desk, user: &str) -> u64 {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", desk.stack.oauth)).unwrap();
    write!(s, "GET /refreshes?user={user} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n").unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or("");
    serde_json::from_str::<serde_json::Value>(body).unwrap()["refreshes"].as_u64().unwrap()
}

fn oauth_desk(name: &str, refresh: impl Fn(&str) -> String, smtp: bool, before: &'static str) -> Desk {
    let desk = Desk::with(name, Options::default());
    desk.write_policy(&Options {
        oauth2_refresh: Some(refresh(&desk.security)),
        oauth2_smtp: smtp,
        oauth2_refresh_before: before,
        ..Options::default()
    });
    desk
}

#[test]
fn imap_and_smtp_log_in_with_oauth2_tokens_that_vdpd_refreshes_itself() {
    let desk = oauth_desk("xoauth2", |sec| format!("rt:{sec}:3600"), true, "5m");
    let check = desk.vdpd_ok(&["check", "--connect"]);
    assert!(check.contains("imap login: XOAUTH2") && check.contains("smtp connection"), "{check}");
    assert_eq!(refreshes(&desk, &desk.security), 1);

    let alice = desk.researcher(1);
    desk.send(&alice, &report(&alice, &desk.security, "XSS", &format!("<o1-{}@r.test>", desk.id), "x"));
    desk.once_ok();
    assert_eq!(desk.tickets().len(), 1, "fetched over IMAP with XOAUTH2");
    desk.wait_inbox(&alice, 1, T);
    // The token is kept in the store: the next process uses it instead of refreshing again.
    assert_eq!(refreshes(&desk, &desk.security), 1);
    let status = desk.status();
    assert!(status["oauth2"]["state"].as_str().unwrap().starts_with("ok: access token valid until"), "{status}");
}

#[test]
fn a_rotated_refresh_token_is_kept_and_a_new_one_from_the_admin_wins() {
    // Single-use refresh tokens, access tokens of 3 s refreshed when 2 s are left: every run refreshes.
    let desk = oauth_desk("rotate", |sec| format!("rt:{sec}:3:rotate"), false, "2s");
    desk.once_ok();
    let first = refreshes(&desk, &desk.security);
    assert!(first >= 1);
    std::thread::sleep(Duration::from_millis(1500));
    // The configured token was used up; the rotated one from the store works.
    desk.once_ok();
    assert!(refreshes(&desk, &desk.security) > first);
    // The admin puts a fresh refresh token in place: it is taken although the stored one still works.
    std::fs::write(desk.dir.path().join("oauth2-refresh-token"), format!("rt:{}:3:rotate:fresh\n", desk.security))
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    desk.once_ok();
}

#[test]
fn the_daemon_refreshes_before_expiry_while_idle_and_keeps_working() {
    let desk = oauth_desk("proactive", |sec| format!("rt:{sec}:4"), true, "2s");
    let mut daemon = desk.spawn_run();
    wait_until(T, "three refreshes while idle", || refreshes(&desk, &desk.security) >= 3);
    // Much later than the first token's life: reports still come in and acknowledgements still go out.
    let alice = desk.researcher(1);
    desk.send(&alice, &report(&alice, &desk.security, "later", &format!("<o2-{}@r.test>", desk.id), "x"));
    desk.wait_inbox(&alice, 1, T);
    assert!(daemon.terminate(T).success(), "{}", daemon.log_text());
}

#[test]
fn a_failing_refresh_is_loud_in_the_log_the_status_and_a_mail_to_the_escalation_contacts() {
    let desk = Desk::with("oauthfail", Options::default());
    let cto = format!("cto-{}@example.test", desk.id);
    desk.write_policy(&Options {
        oauth2_refresh: Some("rt-revoked".into()),
        extra: format!("\n[staff]\nescalation = [\"{cto}\"]\n"),
        ..Options::default()
    });
    let out = desk.once();
    assert_eq!(out.status.code(), Some(69), "{}", common::show(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("invalid_grant") && stderr.contains("ERROR"), "{stderr}");
    let status = desk.status();
    assert!(
        status["oauth2"]["state"].as_str().unwrap().starts_with("failing: OAuth2 token endpoint refused"),
        "{status}"
    );
    assert!(status["oauth2"]["failing_since"].is_string());
    assert!(desk.vdpd_ok(&["status"]).contains("oauth2:   failing"));
    // SMTP still works (password-less relay here): the escalation contact hears of it, once a day.
    let alert = desk.wait_inbox(&cto, 1, T).remove(0);
    let text = String::from_utf8_lossy(&alert).replace("=\r\n", "");
    assert!(text.contains("Attention: OAuth2 token refresh failing") && text.contains("invalid_grant"), "{text}");
    assert_eq!(desk.once().status.code(), Some(69));
    assert_eq!(desk.queued_to(&cto), 1, "at most one alert a day");
}

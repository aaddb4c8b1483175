//! The policy engine against the two yardstick policies, as shipped in `examples/`: clocks in business days
//! with weekends and public holidays, reminders and escalation, status enquiries and their throttle,
//! disclosure dates, bounty and credit, retention and erasure — with time driven by `--now`, mail through
//! the real Postfix and Dovecot, and GnuPG as the researchers' and staff's mail client.

mod common;

use std::time::Duration;

use common::gpg::{Gpg, autocrypt, clearsigned, open, timeline_events};
use common::{Desk, Options, parse, report, table};

const T: Duration = Duration::from_secs(30);

/// A desk running `examples/<example>` with one staff member (GnuPG) and an escalation contact.
fn example_desk(name: &str, example: &str) -> (Desk, Gpg, String) {
    let desk = Desk::with(name, Options::default());
    let alice = Gpg::dated(&format!("alice-{}@example.test", desk.id));
    let cto = format!("cto-{}@example.test", desk.id);
    let cert = alice.export_to(desk.dir.path());
    desk.use_example(example, |policy| {
        let staff = table(policy, "staff");
        let mut member = toml::Table::new();
        member.insert("address".into(), alice.address.clone().into());
        member.insert("name".into(), "Alice".into());
        member.insert("cert".into(), cert.display().to_string().into());
        staff.insert("members".into(), toml::Value::Array(vec![toml::Value::Table(member)]));
        staff.insert("escalation".into(), toml::Value::Array(vec![cto.clone().into()]));
    });
    // The organisation key, made (like every key here) long before the dates the tests pass to --now.
    let org = Gpg::dated(&desk.security);
    let key = desk.dir.path().join("org-secret.asc");
    std::fs::write(&key, org.export_secret()).unwrap();
    desk.vdpd_ok(&["key", "import", key.to_str().unwrap()]);
    alice.import(&desk.vdpd(&["key", "export"]).stdout);
    (desk, alice, cto)
}

fn count(subjects: &[String], pattern: &str) -> usize {
    subjects.iter().filter(|s| s.contains(pattern)).count()
}

/// The text of a clear-text mail.
fn body(raw: &[u8]) -> String {
    parse(raw).body_text(0).unwrap_or_default().to_string()
}

/// The newest mail in `address`'s INBOX whose subject contains `pattern`.
fn newest(desk: &Desk, address: &str, pattern: &str) -> Vec<u8> {
    desk.inbox(address)
        .into_iter()
        .rev()
        .find(|m| parse(m).subject().unwrap_or_default().contains(pattern))
        .unwrap_or_else(|| panic!("no mail {pattern:?} for {address}: {:?}", desk.subjects(address)))
}

fn clock<'a>(show: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    show["clocks"].as_array().unwrap().iter().find(|c| c["clock"] == name).unwrap()
}

#[test]
fn both_example_policies_pass_check_as_shipped() {
    for example in ["bounty", "recognition"] {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(example);
        let dir = tempfile::tempdir().unwrap();
        // Only what a deployment supplies itself: where the store lives, the passwords, the key.
        let text = std::fs::read_to_string(src.join("policy.toml"))
            .unwrap()
            .replace("/var/lib/vdpd/vdpd.sqlite", &dir.path().join("vdpd.sqlite").display().to_string());
        std::fs::write(dir.path().join("policy.toml"), text).unwrap();
        std::fs::create_dir(dir.path().join("templates")).unwrap();
        std::fs::copy(src.join("templates/_policy_terms.txt"), dir.path().join("templates/_policy_terms.txt")).unwrap();
        std::fs::write(dir.path().join("imap-password"), "secret\n").unwrap();
        std::fs::write(dir.path().join("smtp-password"), "secret\n").unwrap();
        let vdpd = |args: &[&str]| {
            std::process::Command::new(env!("CARGO_BIN_EXE_vdpd"))
                .arg("--config")
                .arg(dir.path().join("policy.toml"))
                .args(args)
                .output()
                .unwrap()
        };
        assert!(vdpd(&["key", "generate"]).status.success());
        let out = vdpd(&["check"]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{example}: {}", common::show(&out));
        assert!(text.contains("all checks passed") && text.contains("ok    promises:"), "{text}");
    }
}

#[test]
fn the_recognition_policy_keeps_its_clocks_and_escalates_each_broken_promise_once() {
    let (desk, alice, cto) = example_desk("clocks", "recognition");
    let r1 = desk.researcher(1);
    let r2 = desk.researcher(2);

    // Thursday 5 November 2026, 10:00 in Paris: a complete report.
    desk.send(
        &r1,
        &report(
            &r1,
            &desk.security,
            "IDOR in the export API",
            &format!("<c1-{}@research.test>", desk.id),
            "Description: The export endpoint returns other users' invoices.\n\
             URLs: https://app.mykonci.com/api/export\n\
             Steps to reproduce: log in, then GET /api/export?user=2\n",
        ),
    );
    desk.once_at("2026-11-05T09:00:00Z");
    assert_eq!(count(&desk.subjects(&r1), "[MK-2026-0001]"), 1, "acknowledged");
    assert_eq!(desk.wait_inbox(&alice.address, 1, T).len(), 1, "staff told");
    // Seven business days: Fri 6, Mon 9, Tue 10, (Wed 11 is Armistice Day), Thu 12, Fri 13, Mon 16, Tue 17.
    let show = desk.show("MK-2026-0001");
    assert_eq!(clock(&show, "diagnosis")["due_at"], "2026-11-17T09:00:00Z");
    assert_eq!(clock(&show, "acknowledge")["status"], "met");
    assert_eq!(clock(&show, "disclosure")["due_at"], "2027-02-03T09:00:00Z");

    // Two business days before: the reminder, not a minute early.
    desk.once_at("2026-11-13T08:59:00Z");
    assert_eq!(desk.inbox(&alice.address).len(), 1);
    desk.once_at("2026-11-13T09:01:00Z");
    let subjects = desk.subjects(&alice.address);
    assert_eq!(
        count(&subjects, "[MK-2026-0001] Reminder: first diagnosis due 2026-11-17 10:00 CET"),
        1,
        "{subjects:?}"
    );
    // Monday the 16th would be the deadline without the holiday: nothing yet.
    desk.once_at("2026-11-16T12:00:00Z");
    assert!(desk.inbox(&cto).is_empty());
    // The deadline passes: one escalation, and only one however often the clock is looked at.
    desk.once_at("2026-11-17T09:00:30Z");
    desk.once_at("2026-11-17T15:00:00Z");
    desk.once_at("2026-11-18T10:00:00Z");
    let escalations = desk.subjects(&cto);
    assert_eq!(escalations, ["[MK-2026-0001] Promise broken: first diagnosis was due 2026-11-17 10:00 CET"]);
    let text = body(&desk.inbox(&cto)[0]);
    assert!(text.contains("7 business days") && text.contains("nobody"), "{text}");
    assert!(!text.contains("IDOR") && !text.contains("export"), "no report content in clear text:\n{text}");
    assert_eq!(desk.status()["promises_broken"], 1);
    assert_eq!(clock(&desk.show("MK-2026-0001"), "diagnosis")["overdue"], true);

    // A critical report late on Friday 20 November: its 5-day fix clock does not wait for working hours.
    desk.send(
        &r2,
        &report(
            &r2,
            &desk.security,
            "RCE in the dashboard",
            &format!("<c2-{}@research.test>", desk.id),
            "Description: Template injection runs code.\nURLs: https://dashboard.mykonci.com/\n\
             Steps to reproduce: put {{7*7}} in the name\nSeverity: critical\n",
        ),
    );
    desk.once_at("2026-11-20T16:00:00Z");
    assert_eq!(clock(&desk.show("MK-2026-0002"), "fix")["due_at"], "2026-11-25T16:00:00Z");
    desk.once_at("2026-11-25T15:59:00Z");
    assert_eq!(count(&desk.subjects(&cto), "MK-2026-0002"), 0);
    assert_eq!(count(&desk.subjects(&alice.address), "[MK-2026-0002] Reminder: fix (critical) due"), 1);
    desk.once_at("2026-11-25T16:00:30Z");
    desk.once_at("2026-11-26T16:00:30Z");
    assert_eq!(count(&desk.subjects(&cto), "[MK-2026-0002] Promise broken: fix was due 2026-11-25 17:00 CET"), 1);

    // The periodic status mail kept the first researcher informed meanwhile.
    assert!(count(&desk.subjects(&r1), "[MK-2026-0001] Status of your report") >= 1, "{:?}", desk.subjects(&r1));

    // 90 days after the report: both sides are reminded before the date, and on it the broken promise (no fix)
    // is escalated and the researcher asked to coordinate.
    desk.once_at("2027-01-20T09:00:30Z");
    assert_eq!(count(&desk.subjects(&r1), "[MK-2026-0001] Coordinated disclosure date coming up"), 1);
    let reminder = body(&newest(&desk, &r1, "Coordinated disclosure date coming up"));
    assert!(reminder.contains("2027-02-03"), "{reminder}");
    assert_eq!(
        count(&desk.subjects(&alice.address), "[MK-2026-0001] Reminder: disclosure due 2027-02-03 10:00 CET"),
        1
    );
    desk.once_at("2027-02-03T09:00:30Z");
    let on_the_day = body(&newest(&desk, &r1, "[MK-2026-0001] Coordinated disclosure date"));
    assert!(
        on_the_day.contains("today, 2027-02-03") && on_the_day.contains("contact us before you publish"),
        "{on_the_day}"
    );
    assert_eq!(
        count(&desk.subjects(&cto), "[MK-2026-0001] Promise broken: disclosure date 2027-02-03 reached before the fix"),
        1
    );
    desk.once_at("2027-02-04T09:00:30Z");
    assert_eq!(
        count(&desk.subjects(&cto), "MK-2026-0001"),
        2,
        "each promise escalated once: {:?}",
        desk.subjects(&cto)
    );
}

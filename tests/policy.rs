//! The policy engine against the two yardstick policies, as shipped in `examples/`: clocks in business days
//! with weekends and public holidays, reminders and escalation, status enquiries and their throttle,
//! disclosure dates, bounty and credit, retention and erasure — with time driven by `--now`, mail through
//! the real Postfix and Dovecot, and GnuPG as the researchers' and staff's mail client.

mod common;

use std::time::Duration;
use vdpd::timeline::Event;

use common::gpg::{Gpg, autocrypt, clearsigned, open, timeline_events};
use common::{Desk, Options, parse, report, table};

const T: Duration = Duration::from_secs(30);

/// A desk running `examples/<example>` with one staff member (GnuPG) and an escalation contact.
fn example_desk(name: &str, example: &str) -> (Desk, Gpg, String) {
    example_desk_with(name, example, |_| {})
}

/// [`example_desk`], with the policy changed further by `adjust`.
fn example_desk_with(name: &str, example: &str, adjust: impl FnOnce(&mut toml::Table)) -> (Desk, Gpg, String) {
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
        adjust(policy);
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

/// The text of a clear-text mail, its line breaks and indentation made single spaces (templates wrap lines).
fn body(raw: &[u8]) -> String {
    flat(&parse(raw).body_text(0).unwrap_or_default())
}

fn flat(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The text of an encrypted mail, opened by `g`, flattened like [`body`].
fn read(g: &Gpg, raw: &[u8]) -> String {
    flat(&open(g, raw))
}

/// Waits until `address` has at least `n` mails whose subject contains `pattern` (vdpd hands mail to
/// Postfix; it lands in the mailbox a moment later), and returns the newest of them.
fn expect(desk: &Desk, address: &str, pattern: &str, n: usize) -> Vec<u8> {
    let start = std::time::Instant::now();
    loop {
        let found: Vec<Vec<u8>> =
            desk.inbox(address).into_iter().filter(|m| desk.subject_of(m).contains(pattern)).collect();
        if found.len() >= n && n > 0 {
            return found.last().unwrap().clone();
        }
        assert!(
            start.elapsed() < T,
            "{address}: {} mail(s) {pattern:?}, expected {n}: {:?}",
            found.len(),
            desk.queued_subjects(address)
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Neither the database file nor its WAL holds any of `needles`, in a live row, a free page or an old page
/// version: what retention and erasure delete is gone from the disk too (secure_delete, the WAL truncated).
fn files_hold_none(desk: &Desk, needles: &[&[u8]]) {
    for suffix in ["", "-wal"] {
        let path = std::path::PathBuf::from(format!("{}{suffix}", desk.store_path().display()));
        let Ok(bytes) = std::fs::read(&path) else { continue };
        for needle in needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == *needle),
                "{} still holds {:?} ({} bytes)",
                path.display(),
                String::from_utf8_lossy(needle),
                bytes.len()
            );
        }
    }
}

/// [`expect`] for mail to `g`, matched by the Subject `g` reads inside the encryption: what vdpd erased or
/// purged from its own record it can no longer name.
fn expect_for(desk: &Desk, g: &Gpg, pattern: &str, n: usize) -> Vec<u8> {
    let start = std::time::Instant::now();
    loop {
        let found: Vec<Vec<u8>> =
            desk.inbox(&g.address).into_iter().filter(|m| common::gpg::subject(g, m).contains(pattern)).collect();
        if found.len() >= n && n > 0 {
            return found.last().unwrap().clone();
        }
        assert!(start.elapsed() < T, "{}: {} mail(s) {pattern:?}, expected {n}", g.address, found.len());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Asserts that vdpd queued exactly `n` mails to `address` whose subject contains `pattern` (final once
/// `vdpd once` has returned), and that those it queued arrived.
fn exactly(desk: &Desk, address: &str, pattern: &str, n: usize) {
    let subjects = desk.queued_subjects(address);
    assert_eq!(count(&subjects, pattern), n, "{address}: {pattern:?} in {subjects:?}");
    if n > 0 {
        expect(desk, address, pattern, n);
    }
}

/// The `n`th mail (from 1) that reached `address`, waiting for it.
fn nth(desk: &Desk, address: &str, n: usize) -> Vec<u8> {
    desk.wait_inbox(address, n, T)[n - 1].clone()
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
    expect(&desk, &r1, "[MK-2026-0001]", 1);
    assert_eq!(desk.wait_inbox(&alice.address, 1, T).len(), 1, "staff told");
    // Seven business days: Fri 6, Mon 9, Tue 10, (Wed 11 is Armistice Day), Thu 12, Fri 13, Mon 16, Tue 17.
    let show = desk.show("MK-2026-0001");
    assert_eq!(clock(&show, "diagnosis")["due_at"], "2026-11-17T09:00:00Z");
    assert_eq!(clock(&show, "acknowledge")["status"], "met");
    assert_eq!(clock(&show, "disclosure")["due_at"], "2027-02-03T09:00:00Z");

    // Two business days before: the reminder, not a minute early.
    desk.once_at("2026-11-13T08:59:00Z");
    exactly(&desk, &alice.address, "", 1);
    desk.once_at("2026-11-13T09:01:00Z");
    expect(&desk, &alice.address, "[MK-2026-0001] Reminder: first diagnosis due 2026-11-17 10:00 CET", 1);
    // Monday the 16th would be the deadline without the holiday: nothing yet.
    desk.once_at("2026-11-16T12:00:00Z");
    exactly(&desk, &cto, "", 0);
    // The deadline passes: one escalation, and only one however often the clock is looked at.
    desk.once_at("2026-11-17T09:00:30Z");
    desk.once_at("2026-11-17T15:00:00Z");
    desk.once_at("2026-11-18T10:00:00Z");
    let escalation =
        expect(&desk, &cto, "[MK-2026-0001] Promise broken: first diagnosis was due 2026-11-17 10:00 CET", 1);
    exactly(&desk, &cto, "", 1);
    let text = body(&escalation);
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
    expect(&desk, &alice.address, "[MK-2026-0002] Reminder: fix (critical) due", 1);
    exactly(&desk, &cto, "MK-2026-0002", 0);
    desk.once_at("2026-11-25T16:00:30Z");
    desk.once_at("2026-11-26T16:00:30Z");
    exactly(&desk, &cto, "[MK-2026-0002] Promise broken: fix was due 2026-11-25 17:00 CET", 1);

    // The periodic status mail kept the first researcher informed meanwhile.
    expect(&desk, &r1, "[MK-2026-0001] Status of your report", 1);

    // 90 days after the report: both sides are reminded before the date, and on it the broken promise (no fix)
    // is escalated and the researcher asked to coordinate.
    desk.once_at("2027-01-20T09:00:30Z");
    let reminder = body(&expect(&desk, &r1, "[MK-2026-0001] Coordinated disclosure date coming up", 1));
    assert!(reminder.contains("2027-02-03"), "{reminder}");
    expect(&desk, &alice.address, "[MK-2026-0001] Reminder: disclosure due 2027-02-03 10:00 CET", 1);
    desk.once_at("2027-02-03T09:00:30Z");
    // The reminder, then the day itself.
    let on_the_day = body(&expect(&desk, &r1, "[MK-2026-0001] Coordinated disclosure date", 2));
    assert!(
        on_the_day.contains("today, 2027-02-03") && on_the_day.contains("contact us before you publish"),
        "{on_the_day}"
    );
    expect(&desk, &cto, "[MK-2026-0001] Promise broken: disclosure date 2027-02-03 reached before the fix", 1);
    desk.once_at("2027-02-04T09:00:30Z");
    exactly(&desk, &cto, "MK-2026-0001", 2);

    // The statistics tell the same story: acknowledgements kept, every diagnosis and the fix broken.
    let stats = desk.json(&["stats", "--json", "--now", "2027-02-05T00:00:00Z"]);
    assert_eq!(stats["reports"], 2);
    let promise =
        |clock: &str| stats["promises"].as_array().unwrap().iter().find(|p| p["clock"] == clock).unwrap().clone();
    assert_eq!(
        (promise("acknowledge")["kept"].as_u64(), promise("acknowledge")["broken"].as_u64()),
        (Some(2), Some(0))
    );
    assert_eq!((promise("diagnosis")["kept"].as_u64(), promise("diagnosis")["broken"].as_u64()), (Some(0), Some(2)));
    assert_eq!((promise("fix")["kept"].as_u64(), promise("fix")["broken"].as_u64()), (Some(0), Some(1)));
    assert_eq!(stats["open_breaches"].as_array().unwrap().len(), 3);
    assert_eq!(stats["time_to_acknowledge"]["n"], 2);
    let text = desk.vdpd_ok(&["stats", "--now", "2027-02-05T00:00:00Z"]);
    assert!(text.contains("open breaches: 3") && text.contains("acknowledge          2/2 (100 %)"), "{text}");
}

/// A researcher's mail, signed by nobody, with their key in an Autocrypt header (as Thunderbird sends it).
fn from_researcher(g: &Gpg, desk: &Desk, subject: &str, n: u32, body: &str) -> Vec<u8> {
    format!(
        "From: Ada <{r}>\r\nTo: {sec}\r\nSubject: {subject}\r\nMessage-ID: <m{n}-{id}@research.test>\r\n{ac}\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        r = g.address,
        sec = desk.security,
        id = desk.id,
        ac = autocrypt(g),
        body = body.replace('\n', "\r\n"),
    )
    .into_bytes()
}

/// Alice's signed mail about a ticket, written at `now`.
fn staff_mail(desk: &Desk, alice: &Gpg, reference: &str, now: &str, body: &str) {
    alice.set_time(now);
    let subject = format!("Re: [{reference}] Your report");
    desk.send(&alice.address, &clearsigned(alice, &alice.address, &desk.security, &subject, body));
    desk.once_at(now);
}

#[test]
fn the_recognition_policy_through_a_whole_ticket_life() {
    let (desk, alice, cto) = example_desk("life", "recognition");
    let ada = Gpg::dated(&desk.researcher(1));
    ada.import(&desk.vdpd(&["key", "export"]).stdout);
    let r = ada.address.clone();
    let subject = "Stored XSS in the dashboard";

    // Monday 23 November: a report without reproduction steps, with a credit preference.
    desk.send(
        &r,
        &from_researcher(
            &ada,
            &desk,
            subject,
            1,
            "Description: Comments run scripts for every viewer.\nURLs: https://dashboard.mykonci.com/comments\n\
             Weakness: CWE-79\nCredit: Ada Lovelace (https://ada.example)\n",
        ),
    );
    desk.once_at("2026-11-23T10:00:00Z");
    let ack = read(&ada, &desk.wait_inbox(&r, 1, T)[0]);
    assert!(
        ack.contains("MK-2026-0001") && ack.contains("within 48 hours") && ack.contains("Steps to reproduce*"),
        "{ack}"
    );
    assert!(ack.contains("safe harbor"), "the policy's legal text: {ack}");
    let show = desk.show("MK-2026-0001");
    assert_eq!(show["credit_consent"], "Ada Lovelace (https://ada.example)");
    // 05 promises the diagnosis within 7 business days of the report, and 04 makes no detail a condition of
    // it: the clock runs from receipt although the form lacks the steps — due Wednesday 2 December.
    assert_eq!(clock(&show, "diagnosis")["status"], "running", "nothing the policy waits for");
    assert_eq!(clock(&show, "diagnosis")["due_at"], "2026-12-02T10:00:00Z");
    assert!(!ack.contains("paused"), "{ack}");

    // Thursday: the steps. The form is complete; the clock keeps its date.
    desk.send(
        &r,
        &from_researcher(
            &ada,
            &desk,
            &format!("Re: [MK-2026-0001] {subject}"),
            2,
            "Steps to reproduce: post <script>alert(1)</script> as a comment.\n",
        ),
    );
    desk.once_at("2026-11-26T10:00:00Z");
    let show = desk.show("MK-2026-0001");
    assert_eq!(show["state"], "triage");
    assert_eq!(clock(&show, "diagnosis")["due_at"], "2026-12-02T10:00:00Z");
    expect(&desk, &alice.address, "[MK-2026-0001] Report complete", 1);

    // "Any update?" gets the status; staff see it.
    desk.send(
        &r,
        &from_researcher(&ada, &desk, &format!("Re: [MK-2026-0001] {subject}"), 3, "Hi, any update on this?\nAda"),
    );
    desk.once_at("2026-12-01T10:00:00Z");
    let status = read(&ada, &nth(&desk, &r, 2));
    assert!(status.contains("we are assessing your report"), "{status}");
    expect(&desk, &alice.address, "[MK-2026-0001] Status enquiry", 1);

    // Alice answers with a question: that is the first diagnosis, in time; the ticket waits on Ada.
    staff_mail(
        &desk,
        &alice,
        "MK-2026-0001",
        "2026-12-01T15:00:00Z",
        "#state accepted\n#severity high\n#waiting\nThanks! Which browser did you use?\n",
    );
    let question = read(&ada, &nth(&desk, &r, 3));
    assert!(question.contains("Which browser did you use?"), "{question}");
    let show = desk.show("MK-2026-0001");
    assert_eq!(show["diagnosed_at"], "2026-12-01T15:00:00Z");
    assert_eq!(clock(&show, "diagnosis")["kept"], true);
    assert_eq!(clock(&show, "fix")["due_at"], "2026-12-23T10:00:00Z", "high: 30 days from the report");
    desk.send(&r, &from_researcher(&ada, &desk, &format!("Re: [MK-2026-0001] {subject}"), 4, "Firefox 133 on Linux."));
    desk.once_at("2026-12-03T10:00:00Z");
    assert!(timeline_events(&desk.show("MK-2026-0001")).contains(&Event::NoLongerWaiting));

    // A negotiated date, the fix, the credit Ada agreed to.
    staff_mail(&desk, &alice, "MK-2026-0001", "2026-12-10T10:00:00Z", "#disclose 2027-01-15\n");
    assert!(read(&ada, &nth(&desk, &r, 4)).contains("2027-01-15"));
    staff_mail(&desk, &alice, "MK-2026-0001", "2026-12-14T10:00:00Z", "#resolved\nFixed in release 4.2.\n");
    let fixed = read(&ada, &nth(&desk, &r, 5));
    assert!(fixed.contains("Fixed in release 4.2.") && fixed.contains("confirm that the fix"), "{fixed}");
    staff_mail(&desk, &alice, "MK-2026-0001", "2026-12-15T10:00:00Z", "#credit Ada Lovelace\n");
    assert!(read(&ada, &nth(&desk, &r, 6)).contains("credit you as \"Ada Lovelace\""));
    let show = desk.show("MK-2026-0001");
    assert_eq!((show["state"].as_str(), show["credit"].as_str()), (Some("resolved"), Some("Ada Lovelace")));
    let disclosure = clock(&show, "disclosure");
    assert_eq!(
        (disclosure["promise"].as_str(), disclosure["due_at"].as_str()),
        (Some("agreed"), Some("2027-01-14T23:00:00Z"))
    );

    // 14 days before the agreed date is New Year's Day: both sides hear of it on the next working day.
    desk.once_at("2027-01-04T08:00:30Z");
    let coming = read(&ada, &nth(&desk, &r, 7));
    assert!(coming.contains("2027-01-15, the date we agreed"), "{coming}");
    expect(&desk, &alice.address, "[MK-2026-0001] Reminder: disclosure due 2027-01-15 00:00 CET", 1);
    // On the day (the 1-day reminder, overtaken, is not sent): the fix is in, so no escalation.
    desk.once_at("2027-01-15T08:00:30Z");
    let day = read(&ada, &nth(&desk, &r, 8));
    assert!(day.contains("today, 2027-01-15") && day.contains("The vulnerability is fixed"), "{day}");
    exactly(&desk, &r, "Coordinated disclosure date", 2);
    expect(&desk, &alice.address, "[MK-2026-0001] Today: disclosure date 2027-01-15", 1);

    // Every promise kept, and how fast.
    let stats = desk.json(&["stats", "--json", "--since", "2026-11-01", "--now", "2026-12-16T00:00:00Z"]);
    for p in stats["promises"].as_array().unwrap() {
        assert_eq!((p["kept"].as_u64(), p["broken"].as_u64()), (Some(1), Some(0)), "{stats}");
    }
    assert_eq!(stats["time_to_fix"]["median_ms"], 21 * 86_400_000_i64);
    assert_eq!(stats["by_outcome"].as_array().unwrap()[0], serde_json::json!(["fixed", 1]));
    assert_eq!(desk.json(&["stats", "--json", "--since", "2026-12-01"])["reports"], 0);

    // The advisory draft credits her too.
    let csaf = common::valid_csaf(&desk, "MK-2026-0001");
    assert_eq!(csaf["document"]["acknowledgments"][0]["names"][0], "Ada Lovelace");
    assert_eq!(csaf["vulnerabilities"][0]["cwe"]["id"], "CWE-79");

    // The hall of fame credits Ada, now that the flaw is fixed and she agreed.
    let html = desk.vdpd_ok(&["hall-of-fame", "--format", "html"]);
    assert!(html.contains("<li>Ada Lovelace (2026-12)</li>") && html.contains("MyKonci Security"), "{html}");
    let md = desk.vdpd_ok(&["hall-of-fame", "--format", "md"]);
    assert!(md.contains("- Ada Lovelace (2026-12)"), "{md}");

    // Twelve months after the fix, the report's content goes; the metadata and the credit stay.
    let dry = desk.json(&["purge", "--dry-run", "--json", "--now", "2027-12-14T09:59:00Z"]);
    assert_eq!(dry.as_array().unwrap().len(), 0);
    let dry = desk.json(&["purge", "--dry-run", "--json", "--now", "2027-12-14T10:00:01Z"]);
    assert_eq!(dry[0]["reference"], "MK-2026-0001");
    assert_eq!(dry[0]["purged"], false);
    assert!(dry[0]["content"]["form_sections"].as_i64().unwrap() >= 4, "{dry}");
    desk.once_at("2027-12-14T10:00:01Z");
    let receipt = read(&ada, &nth(&desk, &r, 9));
    assert!(receipt.contains("has been deleted") && receipt.contains("12 months"), "{receipt}");
    let show = desk.show("MK-2026-0001");
    assert!(show["purged_at"].is_string());
    assert_eq!(show["subject"], "");
    assert_eq!(show["form"].as_array().unwrap().len(), 0);
    assert_eq!(show["asset"], "dashboard.mykonci.com");
    assert_eq!(
        (show["severity"].as_str(), show["weakness"].as_str(), show["credit"].as_str()),
        (Some("high"), Some("CWE-79"), Some("Ada Lovelace"))
    );
    assert!(desk.vdpd_ok(&["purge", "--now", "2027-12-20T00:00:00Z"]).contains("nothing is due"));
    assert!(
        desk.vdpd_ok(&["hall-of-fame", "--format", "md"]).contains("- Ada Lovelace (2026-12)"),
        "credit outlives the purge"
    );

    // Every promise was kept: nothing was escalated; the researcher got exactly the mails above.
    exactly(&desk, &cto, "", 0);
    exactly(&desk, &r, "", 9);
}

#[test]
fn the_bounty_policy_through_a_whole_ticket_life() {
    let (desk, alice, cto) = example_desk("bounty", "bounty");
    let sam = Gpg::dated(&desk.researcher(1));
    let r = sam.address.clone();
    let subject = "XSS on app.dronedesk.io";

    // 3.1: first only the page and the class, in clear text.
    desk.send(
        &r,
        &report(
            &r,
            &desk.security,
            subject,
            &format!("<b1-{}@research.test>", desk.id),
            "Reflected XSS on https://app.dronedesk.io/search\nSam",
        ),
    );
    desk.once_at("2026-11-23T10:00:00Z");
    // 4.1 an acknowledgement with the reference, 4.2 then the table, asked for over encrypted mail.
    let mut mails = desk.wait_inbox(&r, 2, T);
    // Both answer the report; they may arrive in either order.
    mails.sort_by_key(|m| body(m).contains("we need the details below"));
    let ack = body(&mails[0]);
    assert!(ack.contains("DD-2026-0001") && ack.contains("within 24 hours"), "{ack}");
    assert!(ack.contains("Computer Misuse Act") && ack.contains("benign"), "the policy's legal text:\n{ack}");
    // The form asks only for what the first mail lacks, and quotes what was read from it.
    let form = body(&mails[1]);
    for section in ["Severity*:", "Description*:", "Steps to reproduce*:", "Impact:"] {
        assert!(form.contains(section), "{section} in\n{form}");
    }
    for understood in ["Title (from the subject)", "Asset (from the addresses in the text)", "Weakness (from"] {
        assert!(form.contains(understood), "{understood} in\n{form}");
    }
    for section in ["Asset*:", "Weakness:", "Title:"] {
        assert!(!form.contains(section), "{section} not asked again in\n{form}");
    }
    assert!(!form.contains("Credit:"), "no hall of fame, no credit preference:\n{form}");
    sam.import(&common::gpg::attached_key(&mails[1]));

    // The details, encrypted and signed, with Sam's key.
    sam.set_time("2026-11-23T14:00:00Z");
    let entity = common::gpg::crlf(
        b"Content-Type: text/plain; charset=utf-8\n\n\
Title: Reflected XSS in search\n\
Asset: https://app.dronedesk.io/search\n\
Weakness: CWE-79\n\
Severity: medium CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N\n\
Description: The q parameter is reflected unencoded.\n\
Steps to reproduce: open /search?q=<svg/onload=alert(1)>\n\
Contact name: Sam Researcher\n\
Contact email: sam@research.test\n",
    );
    let headers = format!(
        "From: Sam <{r}>\r\nTo: {sec}\r\nSubject: Re: [DD-2026-0001] {subject}\r\nMessage-ID: <b2-{id}@research.test>\r\n{ac}",
        sec = desk.security,
        id = desk.id,
        ac = autocrypt(&sam)
    );
    desk.send(&r, &common::gpg::pgp_mime_encrypted(&headers, &sam.encrypt_sign(&desk.security, &entity)));
    desk.once_at("2026-11-23T14:00:00Z");
    let show = desk.show("DD-2026-0001");
    assert_eq!((show["state"].as_str(), show["severity"].as_str()), (Some("triage"), Some("medium")));
    let complete = read(&alice, &expect(&desk, &alice.address, "[DD-2026-0001] Report complete", 1));
    assert!(complete.contains("in scope: app.dronedesk.io is under dronedesk.io"), "{complete}");

    // 4.3: status enquiries at most once every 14 days.
    let ask = |n: u32, now: &str| {
        desk.send(
            &r,
            &from_researcher(&sam, &desk, &format!("Re: [DD-2026-0001] {subject}"), n, "Hello, any news on my report?"),
        );
        desk.once_at(now);
        // The answers are the third, fourth and fifth mail Sam gets.
        read(&sam, &nth(&desk, &r, n as usize))
    };
    let answer = ask(3, "2026-11-25T10:00:00Z");
    assert!(answer.contains("we are assessing your report") && answer.contains("answered from 2026-12-09"), "{answer}");
    let throttled = ask(4, "2026-11-28T10:00:00Z");
    assert!(
        throttled.contains("at most once every 14 days")
            && throttled.contains("answered from 2026-12-09")
            && throttled.contains("2026-11-25"),
        "{throttled}"
    );
    let note = read(&alice, &expect(&desk, &alice.address, "[DD-2026-0001] Status enquiry", 2));
    assert!(note.contains("within the policy's interval"), "staff see the throttled enquiry too:\n{note}");
    let answer = ask(5, "2026-12-09T10:00:00Z");
    assert!(answer.contains("we are assessing your report"), "answered again after 14 days:\n{answer}");

    // 1.1.1: a second report of the same flaw is flagged to staff as a possible duplicate.
    let other = desk.researcher(2);
    desk.send(
        &other,
        &report(
            &other,
            &desk.security,
            "XSS",
            &format!("<b6-{}@research.test>", desk.id),
            "Asset: https://app.dronedesk.io/search?x=1\nWeakness: CWE-79\nDescription: reflected XSS",
        ),
    );
    desk.once_at("2026-12-10T10:00:00Z");
    let dup = read(&alice, &expect(&desk, &alice.address, "[DD-2026-0002] New report", 1));
    assert!(dup.contains("Duplicate?: DD-2026-0001 (triage; same asset and CWE-79)"), "{dup}");
    staff_mail(&desk, &alice, "DD-2026-0002", "2026-12-10T11:00:00Z", "#duplicate DD-2026-0001\n");

    // 1.2: out of scope, the clause found from the report's words; 2.1: the bounty table's meaning quoted.
    let third = desk.researcher(3);
    desk.send(
        &third,
        &report(
            &third,
            &desk.security,
            "Weak TLS",
            &format!("<b7-{}@research.test>", desk.id),
            "Your server still supports TLS 1.0 and the SWEET32 ciphers.",
        ),
    );
    desk.once_at("2026-12-10T12:00:00Z");
    let hint = read(&alice, &expect(&desk, &alice.address, "[DD-2026-0003] New report", 1));
    assert!(hint.contains("may be out of scope, clause tls"), "{hint}");
    staff_mail(&desk, &alice, "DD-2026-0003", "2026-12-10T13:00:00Z", "#not-applicable\n");
    // The acknowledgement, the form request, and the answer.
    let na = desk.wait_inbox(&third, 3, T).iter().map(|m| body(m)).find(|b| b.contains("not applicable")).unwrap();
    assert!(na.contains("TLS configuration weaknesses") && na.contains("specifically noted as out of scope"), "{na}");

    // 2.1/2.2: accepted, a bounty of about 50 GBP against a headed invoice.
    staff_mail(
        &desk,
        &alice,
        "DD-2026-0001",
        "2026-12-11T10:00:00Z",
        "#state accepted\n#bounty minor\nConfirmed, thank you.\n",
    );
    let bounty = read(&sam, &nth(&desk, &r, 6));
    assert!(
        bounty.contains("about 50 GBP")
            && bounty.contains("legally registered name")
            && bounty.contains("PayPal or Stripe"),
        "{bounty}"
    );
    // 4.4: resolved on 31 January; the researcher is asked to confirm, and reminded of 5.2.
    staff_mail(&desk, &alice, "DD-2026-0001", "2027-01-31T12:00:00Z", "#resolved\n");
    let resolved = read(&sam, &nth(&desk, &r, 7));
    assert!(
        resolved.contains("confirm that the fix")
            && resolved.contains("at most, 1 month after the vulnerability is resolved"),
        "{resolved}"
    );
    staff_mail(&desk, &alice, "DD-2026-0001", "2027-02-01T10:00:00Z", "#paid\n");

    // The advisory draft (CSAF 2.0): the CWE with its name, the CVSS v3.1 score, the fix.
    let csaf = common::valid_csaf(&desk, "DD-2026-0001");
    let v = &csaf["vulnerabilities"][0];
    assert_eq!(v["cwe"]["id"], "CWE-79");
    assert_eq!(
        v["cwe"]["name"],
        "Improper Neutralization of Input During Web Page Generation ('Cross-site Scripting')"
    );
    // The flaw's base vector and score; the fixed product's environmental metrics leave it no impact.
    let score = &v["scores"][0]["cvss_v3"];
    assert_eq!(score["vectorString"], "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:L/I:L/A:N/MC:N/MI:N/MA:N");
    assert_eq!((score["baseScore"].as_f64(), score["environmentalScore"].as_f64()), (Some(5.4), Some(0.0)));
    assert_eq!(v["remediations"][0]["date"], "2027-01-31T12:00:00.000Z");
    assert_eq!(csaf["document"]["title"], "Reflected XSS in search");
    assert_eq!(csaf["product_tree"]["branches"][0]["branches"][0]["name"], "app.dronedesk.io");
    // Not for a ticket that is not fixed, nor one that was not a flaw.
    assert!(!desk.vdpd(&["advisory", "DD-2026-0003"]).status.success());

    // Published into a CSAF provider directory: final, TLP:WHITE, with its canonical URL, hashes and a
    // detached signature that GnuPG verifies with our published key; the lists name it. Publishing again
    // changes nothing; a ticket that is no flaw is refused and nothing is published with it.
    let csaf_dir = desk.dir.path().join("csaf");
    let publish = |now: &str, refs: &[&str]| {
        let mut args = vec!["advisory", "publish", csaf_dir.to_str().unwrap()];
        args.extend(refs);
        args.extend(["--now", now]);
        desk.vdpd(&args)
    };
    assert!(!publish("2027-02-02T10:00:00Z", &["DD-2026-0001", "DD-2026-0003"]).status.success());
    assert!(!csaf_dir.join("white/2027/dd-2026-0001.json").exists(), "nothing published with a refusal");
    let out = publish("2027-02-02T10:00:00Z", &["DD-2026-0001"]);
    assert!(out.status.success(), "{}", common::show(&out));
    let file = csaf_dir.join("white/2027/dd-2026-0001.json");
    let bytes = std::fs::read(&file).unwrap();
    let published: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let tracking = &published["document"]["tracking"];
    assert_eq!((tracking["status"].as_str(), tracking["version"].as_str()), (Some("final"), Some("1")));
    assert_eq!(published["document"]["distribution"]["tlp"]["label"], "WHITE");
    assert_eq!(
        published["document"]["references"][0]["url"],
        "https://dronedesk.io/.well-known/csaf/white/2027/dd-2026-0001.json"
    );
    let validator = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/csaf/validate.py");
    let out = std::process::Command::new("/usr/bin/python3").arg(&validator).arg(&file).output().unwrap();
    assert!(out.status.success(), "the published advisory validates: {}", common::show(&out));
    let sha256 = std::fs::read_to_string(csaf_dir.join("white/2027/dd-2026-0001.json.sha256")).unwrap();
    let sum = std::process::Command::new("sha256sum").arg(&file).output().unwrap();
    assert_eq!(sha256.split_whitespace().next(), String::from_utf8_lossy(&sum.stdout).split_whitespace().next());
    assert!(std::fs::read_to_string(csaf_dir.join("white/2027/dd-2026-0001.json.sha512")).unwrap().len() > 128);
    let metadata: serde_json::Value =
        serde_json::from_slice(&std::fs::read(csaf_dir.join("provider-metadata.json")).unwrap()).unwrap();
    let fpr = metadata["public_openpgp_keys"][0]["fingerprint"].as_str().unwrap().to_string();
    assert_eq!(metadata["distributions"][0]["directory_url"], "https://dronedesk.io/.well-known/csaf/white/");
    // A reader with nothing but the published key verifies the signature.
    let reader = Gpg::new(&desk.researcher(9));
    reader.import(&std::fs::read(csaf_dir.join(format!("openpgp/{fpr}.asc"))).unwrap());
    let asc = csaf_dir.join("white/2027/dd-2026-0001.json.asc");
    let out = reader.run(&["--status-fd", "1", "--verify", asc.to_str().unwrap(), file.to_str().unwrap()], None);
    let status = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && status.contains(&format!("VALIDSIG {fpr}")), "{status}");
    assert_eq!(std::fs::read_to_string(csaf_dir.join("white/index.txt")).unwrap(), "2027/dd-2026-0001.json\n");
    let changes = std::fs::read_to_string(csaf_dir.join("white/changes.csv")).unwrap();
    assert_eq!(changes, "\"2027/dd-2026-0001.json\",\"2027-02-02T10:00:00.000Z\"\n");
    let out = publish("2027-02-03T10:00:00Z", &["DD-2026-0001"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("DD-2026-0001: unchanged"), "{}", common::show(&out));
    assert_eq!(std::fs::read(&file).unwrap(), bytes, "republished unchanged: the same bytes");

    // The same flaw reported again, in other words, after the fix: staff see the fixed ticket first among
    // the similar ones, with its advisory; #duplicate gives the researcher the advisory's link.
    let fourth = desk.researcher(4);
    desk.send(
        &fourth,
        &report(
            &fourth,
            &desk.security,
            "search box on the app reflects markup",
            &format!("<b8-{}@research.test>", desk.id),
            "Whatever is typed in the query of the app's search page is written back into the results page \
             without encoding: app.dronedesk.io/search?q=<img src=x onerror=alert(1)> runs a script.",
        ),
    );
    desk.once_at("2027-02-10T10:00:00Z");
    let url = "https://dronedesk.io/.well-known/csaf/white/2027/dd-2026-0001.json";
    let new = read(&alice, &expect(&desk, &alice.address, "[DD-2027-0001] New report", 1));
    let similar = &new[new.find("Similar reports").unwrap_or_else(|| panic!("similar reports listed:\n{new}"))..];
    assert!(similar.contains("100 % = this report): DD-2026-0001 "), "the fixed one first:\n{new}");
    assert!(similar.contains(&format!("advisory: {url}")), "{new}");
    assert_eq!(desk.show("DD-2027-0001")["similar"][0]["reference"], "DD-2026-0001");
    staff_mail(&desk, &alice, "DD-2027-0001", "2027-02-10T11:00:00Z", "#duplicate DD-2026-0001\n");
    let closed = desk.wait_inbox(&fourth, 3, T).iter().map(|m| body(m)).find(|b| b.contains("duplicate")).unwrap();
    assert!(closed.contains(url) && !closed.contains("DD-2026-0001"), "the link, not the other ticket:\n{closed}");

    // A month after 31 January is 28 February: the report's content goes then, not a moment before.
    assert!(desk.vdpd_ok(&["purge", "--dry-run", "--now", "2027-02-28T11:59:00Z"]).contains("nothing is due"));
    let dry = desk.vdpd_ok(&["purge", "--dry-run", "--now", "2027-02-28T12:00:01Z"]);
    assert!(dry.contains("DD-2026-0001") && dry.contains("would delete"), "{dry}");
    assert!(desk.show("DD-2026-0001")["purged_at"].is_null(), "a dry run deletes nothing");
    let out = desk.vdpd_ok(&["purge", "--now", "2027-02-28T12:00:01Z"]);
    assert!(out.contains("DD-2026-0001") && out.contains("deleted"), "{out}");
    let receipt = read(&sam, &expect_for(&desk, &sam, "Your report data was deleted", 1));
    assert!(receipt.contains("1 month after it was") && receipt.contains("securely deleted"), "{receipt}");
    // Nor a word only it used ("unencoded"): not in the full-text index, nor among the word counts a query
    // remembered (schema 21).
    files_hold_none(
        &desk,
        &[b"The q parameter is reflected unencoded.", b"open /search?q=<svg/onload=alert(1)>", b"unencoded"],
    );
    let show = desk.show("DD-2026-0001");
    assert_eq!(show["subject"], "");
    assert_eq!(show["form"].as_array().unwrap().len(), 0);
    assert!(show["messages"].as_array().unwrap().iter().all(|m| m["subject"] == ""));
    assert_eq!(
        (show["severity"].as_str(), show["bounty_tier"].as_str(), show["weakness"].as_str()),
        (Some("medium"), Some("minor"), Some("CWE-79"))
    );
    assert!(show["bounty_paid_at"].is_string() && show["resolved_at"].is_string());
    // The advisory can still be written from what the purge kept.
    let csaf = common::valid_csaf(&desk, "DD-2026-0001");
    assert!(
        csaf["document"]["title"].as_str().unwrap().contains("Cross-site Scripting') in app.dronedesk.io"),
        "{csaf}"
    );
    let intake_id = show["messages"][0]["intake_id"].as_i64().unwrap().to_string();
    let raw = desk.vdpd(&["mail", "show", &intake_id, "--raw"]);
    assert!(raw.stdout.is_empty(), "the raw report is gone too");
    // The acknowledgement promise was kept every time: nothing escalated.
    exactly(&desk, &cto, "", 0);

    // The standard response metrics (BOD 20-01) outlive the purge. In 2026-Q4 three reports came, one valid
    // (the duplicate and the out-of-scope one are not), still open at the quarter's end; each had a person's
    // answer (the decisions on the other two came within the hour, the bounty mail after 18 days).
    let bod = |q: &str| desk.json(&["stats", "--bod", "--quarter", q, "--json", "--now", "2027-03-01T00:00:00Z"]);
    let q4 = bod("2026-Q4");
    assert_eq!(
        [&q4["reports_received"], &q4["reports_valid"], &q4["open_valid"], &q4["open_valid_over_90_days"]],
        [3, 1, 1, 0],
        "{q4:#}"
    );
    assert_eq!(q4["time_to_first_human_response"]["n"], 3);
    assert_eq!(q4["time_to_first_human_response"]["median_ms"], 3_600_000);
    assert_eq!(q4["time_to_validate"]["median_ms"], 18 * 86_400_000_i64);
    assert_eq!(q4["time_to_acknowledge"]["n"], 3);
    // Fixed in 2027-Q1: remediated then, 69 days and 2 hours after the report. The one report of the quarter
    // was a duplicate: no valid one open.
    let q1 = bod("2027-Q1");
    assert_eq!([&q1["reports_received"], &q1["open_valid"]], [1, 0]);
    assert_eq!(q1["time_to_remediate"]["median_ms"], (69 * 24 + 2) * 3_600_000_i64);
    let text = desk.vdpd_ok(&["stats", "--bod", "--quarter", "2026-Q4", "--now", "2027-03-01T00:00:00Z"]);
    assert!(text.contains("BOD 20-01 metrics, 2026-Q4") && text.contains("valid reports:                         1"));
}

#[test]
fn a_researchers_request_to_erase_their_data_is_honoured_by_a_staff_command() {
    let (desk, alice, _) = example_desk("erase", "bounty");
    let sam = Gpg::dated(&desk.researcher(1));
    sam.import(&desk.vdpd(&["key", "export"]).stdout);
    let r = sam.address.clone();
    desk.send(
        &r,
        &from_researcher(
            &sam,
            &desk,
            "XSS in search",
            1,
            "Asset: https://app.dronedesk.io/search\nContact email: sam@research.test",
        ),
    );
    desk.send(&r, &from_researcher(&sam, &desk, "CSRF on settings", 2, "The settings form has no token."));
    desk.once_at("2026-11-23T10:00:00Z");
    assert_eq!(desk.tickets().len(), 2);

    // Sam asks; Alice does it.
    staff_mail(&desk, &alice, "DD-2026-0001", "2026-11-24T10:00:00Z", "#erase\n");
    let receipt = read(&sam, &expect_for(&desk, &sam, "Your personal data was erased", 1));
    assert!(receipt.contains("DD-2026-0001") && receipt.contains("DD-2026-0002"), "{receipt}");
    let confirmation = read(&alice, &expect(&desk, &alice.address, "[DD-2026-0001] Done", 1));
    assert!(confirmation.contains("personal data was erased (DD-2026-0001, DD-2026-0002)"), "{confirmation}");
    for reference in ["DD-2026-0001", "DD-2026-0002"] {
        let show = desk.show(reference);
        assert!(show["erased_at"].is_string() && show["purged_at"].is_string(), "{show}");
        assert_eq!(show["reporter"], "");
        assert!(show["participants"].as_array().unwrap().is_empty());
        assert!(!show.to_string().contains(&r), "{reference} still names the researcher: {show}");
    }
    // Nothing in the store names Sam any more: not a message, a raw mail, a key, a timeline entry or a queued
    // mail (the receipt's own copy went once it was delivered).
    let db = rusqlite::Connection::open(desk.store_path()).unwrap();
    let tables: Vec<String> = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table'")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let needle = r.as_bytes();
    for table in tables {
        let mut stmt = db.prepare(&format!("SELECT * FROM {table}")).unwrap();
        let columns = stmt.column_count();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            for i in 0..columns {
                let bytes: Vec<u8> = match row.get_ref(i).unwrap() {
                    rusqlite::types::ValueRef::Text(t) | rusqlite::types::ValueRef::Blob(t) => t.to_vec(),
                    _ => continue,
                };
                assert!(!bytes.windows(needle.len()).any(|w| w == needle), "{table} column {i} still holds {r}");
            }
        }
    }
    // Nor do the files themselves: no free page, no old page version in the WAL (secure_delete, and the WAL
    // truncated after the erasure and after the receipt's delivery), however the bytes are read.
    drop(db);
    files_hold_none(&desk, &[r.as_bytes(), b"The settings form has no token.", b"CSRF on settings"]);
    // A second #erase has nothing left to do.
    staff_mail(&desk, &alice, "DD-2026-0001", "2026-11-24T11:00:00Z", "#erase\n");
    assert!(read(&alice, &expect(&desk, &alice.address, "Not done", 1)).contains("already erased"));
}

/// A researcher who writes in French, through Postfix and Dovecot with GnuPG as their mail client, decrypts a
/// French acknowledgement whose text part says so (`Content-Language: fr`, inside the encryption), with the
/// policy's own words quoted as the policy writes them; staff read English and are told the language; the
/// shipped templates make `security.txt` name both languages.
#[test]
fn a_french_report_through_the_mail_stack_is_answered_in_french() {
    let (desk, alice, _) = example_desk("french", "recognition");
    let jeanne = Gpg::dated(&desk.researcher(1));
    jeanne.import(&desk.vdpd(&["key", "export"]).stdout);
    let r = jeanne.address.clone();
    let report = "Bonjour,\n\nle nom d'un projet n'est pas échappé dans le tableau de bord \
                  https://dashboard.mykonci.com/projects : un script placé dans ce nom s'exécute chez tous les \
                  membres de l'équipe qui ouvrent la page.\n\nCordialement,\nJeanne";
    desk.send(&r, &from_researcher(&jeanne, &desk, "Faille XSS dans le tableau de bord", 1, report));
    desk.once_at("2026-11-23T10:00:00Z");
    let raw = desk.wait_inbox(&r, 1, T)[0].clone();
    let ack = read(&jeanne, &raw);
    assert!(ack.contains("merci pour votre signalement") && ack.contains("MK-2026-0001"), "{ack}");
    assert!(ack.contains("promis sous 48 heures"), "the policy's durations in French: {ack}");
    assert!(ack.contains("safe harbor"), "the policy's legal text, in the policy's language: {ack}");
    let (inside, _) = jeanne.decrypt(&common::gpg::encrypted_payload(&raw));
    assert!(String::from_utf8_lossy(&inside).contains("Content-Language: fr\r\n"), "inside the encryption");
    assert!(common::header(&raw, "Content-Language").is_none(), "the language is not shown outside");
    let staff = read(&alice, &expect(&desk, &alice.address, "[MK-2026-0001] New report", 1));
    assert!(staff.contains("Language: fr (français, detected from the text)"), "{staff}");
    assert!(staff.contains("The researcher wrote"), "staff read English: {staff}");
    let show = desk.show("MK-2026-0001");
    assert_eq!(show["participants"][0]["language"], "fr", "{show}");
    assert_eq!(show["participants"][0]["language_found"], "detected");
    let sectxt = String::from_utf8(desk.vdpd(&["security-txt"]).stdout).unwrap();
    assert!(sectxt.lines().any(|l| l == "Preferred-Languages: en, fr"), "{sectxt}");
}

/// Research done in pairs, through Postfix and Dovecot: the reporter (GnuPG, with a key) names a co-reporter
/// who has none; the co-reporter hears nothing until staff confirm with a signed `#participant add`, then
/// gets the decision's notice on their own, in clear text (no key), while the reporter's copy stays encrypted
/// to the reporter's key, and neither mail names the other researcher.
#[test]
fn a_co_reporter_confirmed_by_staff_gets_the_decisions_through_the_mail_stack() {
    let (desk, alice, _) = example_desk("pair", "recognition");
    let ada = Gpg::dated(&desk.researcher(1));
    ada.import(&desk.vdpd(&["key", "export"]).stdout);
    let (r, bob) = (ada.address.clone(), desk.researcher(2));
    let report = format!(
        "Description: Comments run scripts for every viewer.\nURLs: https://dashboard.mykonci.com/comments\n\
         Steps to reproduce: post <script>alert(1)</script> as a comment.\nCo-reporters: Bob <{bob}>\n"
    );
    desk.send(&r, &from_researcher(&ada, &desk, "Stored XSS in comments", 1, &report));
    desk.once_at("2026-11-23T10:00:00Z");
    desk.wait_inbox(&r, 1, T);
    let staff = read(&alice, &expect(&desk, &alice.address, "[MK-2026-0001] New report", 1));
    assert!(staff.contains(&format!("#participant add {bob} lets them see the ticket")), "{staff}");
    assert!(desk.queued_subjects(&bob).is_empty(), "a proposal receives nothing");

    staff_mail(&desk, &alice, "MK-2026-0001", "2026-11-24T10:00:00Z", &format!("#participant add {bob}\n#resolved\n"));
    let to_bob = body(&expect(&desk, &bob, "[MK-2026-0001]", 1));
    assert!(to_bob.contains("is fixed"), "the notice: {to_bob}");
    assert!(!to_bob.contains(&r), "Bob's mail does not name Ada's address: {to_bob}");
    let to_ada = desk.wait_inbox(&r, 2, T)[1].clone();
    assert!(read(&ada, &to_ada).contains("is fixed"), "encrypted to Ada's key");
    let show = desk.show("MK-2026-0001");
    let roles: Vec<(&str, &str)> = show["participants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["address"].as_str().unwrap(), p["role"].as_str().unwrap()))
        .collect();
    assert_eq!(roles, [(r.as_str(), "reporter"), (bob.as_str(), "co-reporter")]);
}

#[test]
fn the_daemon_escalates_a_broken_promise_by_itself() {
    // The recognition policy with a first diagnosis promised within 3 seconds, and no working hours to wait
    // for: `vdpd run` alone must notice the breach and escalate it, once.
    let desk = Desk::with("watch", Options::default());
    let cto = format!("cto-{}@example.test", desk.id);
    desk.use_example("recognition", |policy| {
        table(policy, "sla").insert("first_diagnosis".into(), "3s".into());
        table(policy, "calendar").remove("working_hours");
        table(policy, "staff").insert("escalation".into(), toml::Value::Array(vec![cto.clone().into()]));
    });
    desk.vdpd_ok(&["key", "generate"]);
    let mut daemon = desk.spawn_run();
    let r = desk.researcher(1);
    desk.send(
        &r,
        &report(
            &r,
            &desk.security,
            "IDOR",
            &format!("<w1-{}@research.test>", desk.id),
            "Description: other users' invoices\nURLs: https://app.mykonci.com/api/export\nSteps to reproduce: GET /api/export?user=2\n",
        ),
    );
    let escalation = expect(&desk, &cto, "[MK-2026-0001] Promise broken: first diagnosis was due", 1);
    assert!(body(&escalation).contains("3 seconds"), "{}", body(&escalation));
    exactly(&desk, &cto, "", 1);
    std::thread::sleep(Duration::from_secs(2));
    exactly(&desk, &cto, "", 1);
    assert!(daemon.terminate(T).success(), "{}", daemon.log_text());
}

#[test]
fn a_changed_policy_applies_to_tickets_already_open() {
    let desk = Desk::new("replan");
    let r = desk.researcher(1);
    desk.send(&r, &report(&r, &desk.security, "SQLi", &format!("<p1-{}@research.test>", desk.id), "x"));
    desk.once_at("2026-11-23T10:00:00Z");
    let kinds = |desk: &Desk| -> Vec<String> {
        desk.show("EX-2026-0001")["timers"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|t| t["fired_at"].is_null() && t["cancelled_at"].is_null())
            .map(|t| format!("{} {}", t["kind"].as_str().unwrap(), t["due_at"].as_str().unwrap()))
            .collect()
    };
    assert!(kinds(&desk).contains(&"diagnosis:breach 2026-12-02T10:00:00Z".to_string()), "{:?}", kinds(&desk));
    assert!(!kinds(&desk).iter().any(|k| k.contains("reminder")));
    // The admin adds a reminder point and a shorter diagnosis promise; the next cycle re-plans the open ticket.
    let mut policy: toml::Table = std::fs::read_to_string(&desk.config).unwrap().parse().unwrap();
    let sla = table(&mut policy, "sla");
    sla.insert("reminders".into(), toml::Value::Array(vec!["1 business day".into()]));
    sla.insert("first_diagnosis".into(), "5 business days".into());
    std::fs::write(&desk.config, toml::to_string(&policy).unwrap()).unwrap();
    desk.once_at("2026-11-23T11:00:00Z");
    let now = kinds(&desk);
    assert!(now.contains(&"diagnosis:breach 2026-11-30T10:00:00Z".to_string()), "{now:?}");
    assert!(now.contains(&"diagnosis:reminder:1 business day 2026-11-27T10:00:00Z".to_string()), "{now:?}");
}

/// The bounty policy's desk under the Cyber Resilience Act: an actively exploited vulnerability carried
/// through the early warning, the notification and the final report by Alice's signed commands (GnuPG), with
/// time driven by `--now`: each reminder at its hour (04:00 on a Saturday first) to Alice, encrypted, and to
/// the CTO without report content; a missed deadline escalated once; each draft filled from the ticket; and
/// the statistics counting each deadline kept or broken.
#[test]
fn the_bounty_policy_under_the_cra_through_the_three_filings() {
    let (desk, alice, cto) = example_desk_with("cra", "bounty", |policy| {
        let cra = table(policy, "cra");
        cra.insert("enabled".into(), true.into());
        cra.insert("csirt".into(), "CERT-FR".into());
        let mut app = toml::Table::new();
        app.insert("id".into(), "app".into());
        app.insert("name".into(), "Dronedesk app".into());
        app.insert("purl".into(), "pkg:generic/dronedesk-app".into());
        app.insert("assets".into(), toml::Value::Array(vec!["app.dronedesk.io".into()]));
        app.insert("member_states".into(), toml::Value::Array(vec!["FR".into(), "DE".into()]));
        policy.insert("products".into(), toml::Value::Array(vec![toml::Value::Table(app)]));
    });
    let r = desk.researcher(1);
    let ex1 = "DD-2026-0001";
    // Friday 18 December 2026, 15:00 GMT.
    desk.send(
        &r,
        &report(
            &r,
            &desk.security,
            "RCE in the flight planner",
            &format!("<cra1-{}@research.test>", desk.id),
            "The route importer on https://app.dronedesk.io/plan evaluates uploaded expressions; \
             attackers are using it.\nSam",
        ),
    );
    desk.once_at("2026-12-18T15:00:00Z");
    expect(&desk, &r, "[DD-2026-0001]", 1);

    // At 16:00 Alice confirms the exploitation.
    staff_mail(&desk, &alice, ex1, "2026-12-18T16:00:00Z", "#exploited\n");
    let confirmation = read(&alice, &expect(&desk, &alice.address, "[DD-2026-0001] Done", 1));
    assert!(confirmation.contains("CRA early warning is due in 24 hours"), "{confirmation}");
    let show = desk.show(ex1);
    assert_eq!(show["exploited_at"], "2026-12-18T16:00:00Z");
    assert_eq!(clock(&show, "cra-early-warning")["due_at"], "2026-12-19T16:00:00Z");
    assert_eq!(clock(&show, "cra-notification")["due_at"], "2026-12-21T16:00:00Z");

    // Twelve hours before the deadline, at 04:00 on Saturday, not a minute early.
    desk.once_at("2026-12-19T03:59:00Z");
    exactly(&desk, &cto, "", 0);
    desk.once_at("2026-12-19T04:00:30Z");
    let subject = "[DD-2026-0001] Reminder: CRA early warning due 2026-12-19 16:00 GMT";
    let to_alice = read(&alice, &expect(&desk, &alice.address, subject, 1));
    assert!(to_alice.contains("12 hours from now") && to_alice.contains("RCE in the flight planner"), "{to_alice}");
    assert!(to_alice.contains("vdpd cra draft DD-2026-0001 --stage early-warning"), "{to_alice}");
    let to_cto = body(&expect(&desk, &cto, subject, 1));
    assert!(to_cto.contains("carries no report content") && !to_cto.contains("flight planner"), "{to_cto}");

    // The draft of the early warning, as the platform asks for it.
    let draft =
        desk.json(&["cra", "draft", ex1, "--stage", "early-warning", "--json", "--now", "2026-12-19T05:00:00Z"]);
    let field = |d: &serde_json::Value, name: &str| {
        d["fields"].as_array().unwrap().iter().find(|f| f["name"] == name).unwrap()["value"].clone()
    };
    assert_eq!(field(&draft, "Member States where the product is made available"), "DE, FR");
    assert_eq!(field(&draft, "Product"), "Dronedesk app (pkg:generic/dronedesk-app)");
    assert_eq!((draft["csirt"].as_str(), draft["overdue"].as_bool()), (Some("CERT-FR"), Some(false)));

    // Filed at 10:00: no more reminders and no breach for it.
    staff_mail(&desk, &alice, ex1, "2026-12-19T10:00:00Z", "#cra-filed early-warning ENISA-EW-0042\n");
    desk.once_at("2026-12-19T12:00:30Z");
    desk.once_at("2026-12-19T16:00:30Z");
    exactly(&desk, &cto, "CRA early warning", 1);
    exactly(&desk, &cto, "Promise broken", 0);

    // The notification is missed: three reminders, then one escalation.
    for now in ["2026-12-21T04:00:30Z", "2026-12-21T12:00:30Z", "2026-12-21T15:00:30Z"] {
        desk.once_at(now);
    }
    exactly(&desk, &cto, "Reminder: CRA vulnerability notification due 2026-12-21 16:00 GMT", 3);
    desk.once_at("2026-12-21T16:00:30Z");
    desk.once_at("2026-12-21T17:00:00Z");
    let broken = "[DD-2026-0001] Promise broken: CRA vulnerability notification was due 2026-12-21 16:00 GMT";
    let escalation = body(&expect(&desk, &cto, broken, 1));
    exactly(&desk, &cto, "Promise broken", 1);
    assert!(escalation.contains("Cyber Resilience Act") && !escalation.contains("flight planner"), "{escalation}");
    let draft = desk.json(&["cra", "draft", ex1, "--stage", "notification", "--json", "--now", "2026-12-21T17:30:00Z"]);
    assert_eq!(draft["overdue"], true);

    // Filed late, with a mitigation: the final report is due 14 days after it, reminded 12 hours before.
    staff_mail(&desk, &alice, ex1, "2026-12-21T18:00:00Z", "#cra-filed notification ENISA-N-0042\n#mitigated\n");
    assert_eq!(clock(&desk.show(ex1), "cra-final")["due_at"], "2027-01-04T18:00:00Z");
    desk.once_at("2027-01-04T06:00:30Z");
    exactly(&desk, &cto, "Reminder: CRA final report due 2027-01-04 18:00 GMT", 1);
    let draft = desk.vdpd_ok(&["cra", "draft", ex1, "--stage", "final", "--now", "2027-01-04T07:00:00Z"]);
    assert!(draft.contains("a corrective or mitigating measure is available since 2026-12-21 18:00"), "{draft}");
    assert!(draft.contains("TO FILL IN: where available: who has exploited"), "{draft}");

    // Fixed and the final report filed: nothing further, and the statistics tell it.
    staff_mail(&desk, &alice, ex1, "2027-01-04T09:00:00Z", "#resolved\n#cra-filed final ENISA-F-0042\n");
    desk.once_at("2027-01-04T18:00:30Z");
    exactly(&desk, &cto, "Promise broken", 1);
    let show = desk.show(ex1);
    let filings: Vec<&str> =
        show["cra_filings"].as_array().unwrap().iter().map(|f| f["platform_id"].as_str().unwrap()).collect();
    assert_eq!(filings, ["ENISA-EW-0042", "ENISA-N-0042", "ENISA-F-0042"]);
    let stats = desk.json(&["stats", "--json", "--now", "2027-01-05T00:00:00Z"]);
    let kept = |clock: &str| {
        let p = stats["promises"].as_array().unwrap().iter().find(|p| p["clock"] == clock).unwrap();
        (p["kept"].as_u64().unwrap(), p["broken"].as_u64().unwrap())
    };
    assert_eq!([kept("cra-early-warning"), kept("cra-notification"), kept("cra-final")], [(1, 0), (0, 1), (1, 0)]);
}

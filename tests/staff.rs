//! Staff working tickets by mail, with GnuPG as their mail client: notifications, signed commands, relays —
//! and forged staff mail that changes nothing.

mod common;

use std::time::Duration;
use vdpd::timeline::Event;

use common::gpg::{self, Gpg, autocrypt, clearsigned, mime_signed, open, timeline};
use common::team::{Team, team};
use common::{Desk, Options, ex, header, parse};

const T: Duration = Duration::from_secs(30);

#[test]
fn a_staff_member_takes_a_report_from_arrival_to_resolution_by_mail() {
    let ex1 = ex(1);
    let Team { desk, alice, bob, researcher } = team("lifecycle", "");
    let sec = desk.security.clone();
    let r = researcher.address.clone();

    // The report, with the researcher's key and a proof of concept attached.
    let report = format!(
        "From: Ada <{r}>\r\nTo: {sec}\r\nSubject: Stored XSS in comments\r\nMessage-ID: <rep-{id}@research.test>\r\n{ac}MIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nAsset: https://app.example.test/comments\r\nCredit: Ada L.\r\n\r\nA comment with <script> runs for every visitor.\r\n\
         --b\r\nContent-Type: text/x-python; name=\"poc.py\"\r\nContent-Disposition: attachment; filename=\"poc.py\"\r\n\r\nprint('proof of concept')\r\n--b--\r\n",
        id = desk.id,
        ac = autocrypt(&researcher)
    );
    desk.send(&r, report.as_bytes());
    desk.once_ok();
    assert_eq!(desk.wait_inbox(&r, 1, T).len(), 1, "the acknowledgement");

    // Both staff members hear of it, encrypted, with the researcher's words, the form, scope, clocks and the file:
    // one message addressed to both, sealed once, which each opens with their own key.
    let mut notes = Vec::new();
    for member in [&alice, &bob] {
        let note = desk.wait_inbox(&member.address, 1, T).remove(0);
        notes.push(note.clone());
        assert!(
            gpg::subject(member, &note).starts_with(format!("[{ex1}] New report: Stored XSS in comments").as_str())
        );
        assert_eq!(header(&note, "Reply-To").unwrap(), sec);
        let (plain, status) = member.decrypt(&gpg::encrypted_payload(&note));
        assert!(gpg::signed_by(&status, &member.fingerprint_of(&sec)), "{status}");
        let plain = String::from_utf8_lossy(&plain);
        for want in [
            "runs for every visitor",
            "in scope: app.example.test is under app.example.test",
            "first diagnosis: due",
            "#bounty TIER",
            "poc.py",
        ] {
            assert!(plain.contains(want), "{want:?} missing:\n{plain}");
        }
        assert!(plain.contains("print('proof of concept')"), "the file travels with it:\n{plain}");
    }
    assert_eq!(header(&notes[0], "Message-ID"), header(&notes[1], "Message-ID"), "one message to the team");
    assert_eq!(gpg::encrypted_payload(&notes[0]), gpg::encrypted_payload(&notes[1]), "sealed once");
    let to = header(&notes[0], "To").unwrap();
    assert!(to.contains(&alice.address) && to.contains(&bob.address), "addressed to both: {to}");
    let show = desk.show(ex1.as_str());
    assert_eq!(show["attachments"][0]["name"], "poc.py");
    let id = show["attachments"][0]["id"].as_i64().unwrap().to_string();
    assert_eq!(
        desk.command().args(["tickets", "attachment", ex1.as_str(), &id]).output().unwrap().stdout,
        b"print('proof of concept')"
    );

    // Alice takes it: signed commands, then her words, then what her mail client adds.
    let subject = &format!("Re: [{ex1}] New report: Stored XSS in comments");
    let body = "#assign ALICE\n#state accepted\n#severity high\n\nThanks, we can reproduce it and are working on a fix.\n\nOn Mon, 23 Nov 2026, vdpd wrote:\n> The researcher wrote: secret quoted stuff\n\n-- \nAlice, security team\n";
    desk.send(
        &alice.address,
        &clearsigned(&alice, &alice.address, &sec, subject, &body.replace("ALICE", &alice.address)),
    );
    desk.once_ok();
    let show = desk.show(ex1.as_str());
    assert_eq!(
        (show["state"].as_str(), show["severity"].as_str(), show["assignee"].as_str()),
        (Some("accepted"), Some("high"), Some(alice.address.as_str()))
    );
    let to_researcher = desk.wait_inbox(&r, 2, T).pop().unwrap();
    assert_eq!(gpg::subject(&researcher, &to_researcher), format!("[{ex1}] Re: Stored XSS in comments"));
    assert_eq!(header(&to_researcher, "Subject").unwrap(), format!("[{ex1}]"), "outside, only the reference");
    assert_eq!(header(&to_researcher, "In-Reply-To").unwrap(), format!("<rep-{}@research.test>", desk.id));
    assert!(header(&to_researcher, "Auto-Submitted").is_none(), "a person's words");
    let text = open(&researcher, &to_researcher);
    assert!(text.contains("Thanks, we can reproduce it and are working on a fix."), "{text}");
    assert!(
        !text.contains("secret quoted stuff") && !text.contains("Alice, security team") && !text.contains("#state"),
        "{text}"
    );
    // Alice gets a confirmation. She assigned the ticket to herself, so from now on only she hears of it.
    let confirmation = desk.wait_inbox(&alice.address, 2, T).pop().unwrap();
    let c = open(&alice, &confirmation);
    assert!(c.contains("state: new → accepted"), "{c}");
    assert!(c.contains("severity: high") && c.contains("sent to the researcher (encrypted)"), "{c}");
    assert!(c.contains(&format!("assigned to {}", alice.address)), "{c}");
    desk.send(
        &r,
        format!(
            "From: {r}\r\nTo: {sec}\r\nSubject: Re: [{ex1}] ok\r\nMessage-ID: <r2-{}@r.test>\r\n\r\nGreat, thanks!\r\n",
            desk.id
        )
        .as_bytes(),
    );
    desk.once_ok();
    let heard = desk.wait_inbox(&alice.address, 3, T).pop().unwrap();
    assert!(gpg::subject(&alice, &heard).starts_with(format!("[{ex1}] Researcher wrote").as_str()));
    assert!(open(&alice, &heard).contains("Great, thanks!"));
    assert_eq!(desk.queued_to(&bob.address), 1, "Bob heard of the new report only: Alice is the assignee");

    // A bounty, as a PGP/MIME signed mail.
    desk.send(&alice.address, &mime_signed(&alice, &sec, subject, "#bounty minor\n"));
    desk.once_ok();
    let bounty = open(&researcher, &desk.wait_inbox(&r, 3, T).pop().unwrap());
    assert!(
        bounty.contains("50 GBP") && bounty.contains("legally registered name") && bounty.contains("PayPal"),
        "{bounty}"
    );

    // Fixed: the researcher is asked to confirm.
    desk.send(
        &alice.address,
        &clearsigned(&alice, &alice.address, &sec, subject, "#resolved\nFixed in release 2.3.\n"),
    );
    desk.once_ok();
    let fixed = open(&researcher, &desk.wait_inbox(&r, 4, T).pop().unwrap());
    assert!(fixed.contains("Fixed in release 2.3.") && fixed.contains("confirm that the fix"), "{fixed}");
    assert_eq!(desk.show(ex1.as_str())["state"], "resolved");

    // Paid, credited, closed — in one mail.
    desk.send(
        &alice.address,
        &clearsigned(
            &alice,
            &alice.address,
            &sec,
            subject,
            "#paid\n#credit Ada L.\n#disclose 2027-03-01\n#state closed\n",
        ),
    );
    desk.once_ok();
    let last = open(&researcher, &desk.wait_inbox(&r, 5, T).pop().unwrap());
    assert!(
        last.contains("has been paid") && last.contains("credit you as \"Ada L.\"") && last.contains("2027-03-01"),
        "{last}"
    );
    let show = desk.show(ex1.as_str());
    assert_eq!(show["state"], "closed");
    assert_eq!(show["credit"], "Ada L.");
    assert!(show["bounty_paid_at"].is_string() && show["closed_at"].is_string());
    // Every change is on the timeline with who made it.
    let events = timeline(&desk, ex1.as_str());
    for event in [
        Event::Assigned,
        Event::StateChanged,
        Event::SeveritySet,
        Event::BountyAwarded,
        Event::Resolved,
        Event::BountyPaid,
        Event::CreditConfirmed,
        Event::DisclosureDateSet,
    ] {
        assert!(
            events.iter().any(|(actor, e, _)| *e == event && actor == &alice.address),
            "{event} by Alice: {events:?}"
        );
    }
}

#[test]
fn unsigned_misattributed_and_forged_staff_mail_runs_nothing_and_warns_staff() {
    let ex1 = ex(1);
    let Team { desk, alice, bob, researcher } = team("forged", "");
    let sec = desk.security.clone();
    let r = researcher.address.clone();
    desk.send(
        &r,
        common::report(&r, &sec, "IDOR", &format!("<i-{}@r.test>", desk.id), "Asset: https://app.example.test/api")
            .as_slice(),
    );
    desk.once_ok();
    let before = desk.show(ex1.as_str());
    let subject = &format!("Re: [{ex1}] New report: IDOR");
    let mallory = Gpg::new(&alice.address);
    // Unsigned; signed by Bob but From Alice; signed by a key that merely carries Alice's address.
    let unsigned = format!(
        "From: {a}\r\nTo: {sec}\r\nSubject: {subject}\r\nMessage-ID: <u-{id}@x.test>\r\n\r\n#state closed\nIgnore this report.\r\n",
        a = alice.address,
        id = desk.id
    );
    desk.send(&alice.address, unsigned.as_bytes());
    desk.send(
        &alice.address,
        &clearsigned(&bob, &alice.address, &sec, subject, "#state closed\nIgnore this report.\n"),
    );
    desk.send(
        &alice.address,
        &clearsigned(&mallory, &alice.address, &sec, subject, "#state closed\nIgnore this report.\n"),
    );
    let out = desk.once_ok();
    assert!(out.contains("3 dropped"), "{out}");
    let after = desk.show(ex1.as_str());
    assert_eq!(after["state"], before["state"]);
    let incoming = |show: &serde_json::Value| {
        show["messages"].as_array().unwrap().iter().filter(|m| m["direction"] == "in").count()
    };
    assert_eq!(incoming(&after), incoming(&before), "nothing recorded as correspondence");
    assert_eq!(desk.queued_to(&r), 1, "nothing relayed to the researcher");
    let reasons: Vec<String> = desk.mail("dropped").iter().map(|d| d["reason"].as_str().unwrap().to_string()).collect();
    assert!(reasons.iter().any(|x| x.contains("not signed")), "{reasons:?}");
    assert!(reasons.iter().any(|x| x.contains(&format!("signed by the key of {}", bob.address))), "{reasons:?}");
    assert!(reasons.iter().any(|x| x.contains("unknown key")), "{reasons:?}");
    // Staff are warned, and the events are on the ticket and in status.
    let warnings: Vec<Vec<u8>> = desk
        .wait_inbox(&bob.address, 4, T)
        .into_iter()
        .filter(|m| gpg::subject(&bob, m).contains("Warning: unauthenticated staff mail"))
        .collect();
    assert_eq!(warnings.len(), 3);
    assert!(open(&bob, &warnings[0]).contains("failed authentication"));
    let events = timeline(&desk, ex1.as_str());
    assert_eq!(events.iter().filter(|(_, e, _)| *e == Event::UnauthenticatedStaffMail).count(), 3);
    assert_eq!(desk.status()["staff_warnings"]["unauthenticated staff mail"], 3);
}

#[test]
fn a_bad_command_names_its_line_and_changes_nothing() {
    let ex1 = ex(1);
    let Team { desk, alice, researcher, .. } = team("badcmd", "");
    let sec = desk.security.clone();
    let r = researcher.address.clone();
    desk.send(
        &r,
        common::report(&r, &sec, "CSRF", &format!("<c-{}@r.test>", desk.id), "Asset: https://app.example.test/")
            .as_slice(),
    );
    desk.once_ok();
    let subject = &format!("Re: [{ex1}] New report: CSRF");
    desk.send(
        &alice.address,
        &clearsigned(
            &alice,
            &alice.address,
            &sec,
            subject,
            "#state accepted\n#bounty huge\n#state sideways\nWe will pay you a lot.\n",
        ),
    );
    desk.once_ok();
    assert_eq!(desk.show(ex1.as_str())["state"], "new");
    let error = desk.wait_inbox(&alice.address, 2, T).pop().unwrap();
    assert!(gpg::subject(&alice, &error).starts_with(format!("[{ex1}] Not done").as_str()));
    let text = open(&alice, &error);
    assert!(text.contains("line 2: \"#bounty huge\": no bounty tier \"huge\" (known: minor)"), "{text}");
    assert!(text.contains("line 3: \"#state sideways\": unknown state"), "{text}");
    assert!(!text.contains("line 1"), "the good line is not an error:\n{text}");
    assert_eq!(desk.queued_to(&r), 1, "nothing relayed when the commands fail");
    assert!(timeline(&desk, ex1.as_str()).iter().any(|(_, e, _)| *e == Event::StaffCommandsRefused));
}

#[test]
fn internal_notes_stay_with_staff() {
    let ex1 = ex(1);
    let Team { desk, alice, bob, researcher } = team("internal", "");
    let sec = desk.security.clone();
    let r = researcher.address.clone();
    desk.send(
        &r,
        common::report(&r, &sec, "SSRF", &format!("<s-{}@r.test>", desk.id), "Asset: https://app.example.test/fetch")
            .as_slice(),
    );
    desk.once_ok();
    desk.send(
        &alice.address,
        &clearsigned(
            &alice,
            &alice.address,
            &sec,
            format!("Re: [{ex1}] New report: SSRF").as_str(),
            "#internal\n#state triage\nLooks like a duplicate of last month's; checking.\n",
        ),
    );
    desk.once_ok();
    assert_eq!(desk.queued_to(&r), 1, "the researcher hears nothing of an internal note");
    assert_eq!(desk.show(ex1.as_str())["state"], "triage");
    let note = desk.wait_inbox(&bob.address, 2, T).pop().unwrap();
    assert!(gpg::subject(&bob, &note).contains(&format!("Note from {}", alice.address)));
    assert!(open(&bob, &note).contains("checking."));
    let kinds: Vec<String> = desk.show(ex1.as_str())["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["kind"].as_str().unwrap().into())
        .collect();
    assert!(kinds.contains(&"staff-note".to_string()), "{kinds:?}");
}

#[test]
fn outcomes_quote_the_policy_and_never_leak_the_other_ticket() {
    let ex1 = ex(1);
    let ex2 = ex(2);
    let ex3 = ex(3);
    let Team { desk, alice, researcher, .. } = team("outcomes", "");
    let sec = desk.security.clone();
    let r = researcher.address.clone();
    let other = desk.researcher(2);
    desk.send(
        &other,
        common::report(&other, &sec, "Old report", &format!("<o-{}@r.test>", desk.id), "first").as_slice(),
    );
    let with_key = |subject: &str, id: &str, body: &str| {
        format!(
            "From: {r}\r\nTo: {sec}\r\nSubject: {subject}\r\nMessage-ID: <{id}-{}@r.test>\r\n{}\r\n{body}\r\n",
            desk.id,
            autocrypt(&researcher)
        )
    };
    desk.send(&r, with_key("Stripe checkout XSS", "x", "Asset: checkout.stripe.com").as_bytes());
    desk.send(&r, with_key("Same again", "y", "Asset: https://app.example.test/").as_bytes());
    desk.once_ok();
    desk.send(
        &alice.address,
        &clearsigned(
            &alice,
            &alice.address,
            &sec,
            format!("Re: [{ex2}] New report").as_str(),
            "#not-applicable sub-processor Stripe\n",
        ),
    );
    desk.send(
        &alice.address,
        &clearsigned(
            &alice,
            &alice.address,
            &sec,
            format!("Re: [{ex3}] New report").as_str(),
            format!("#duplicate {ex1}\n").as_str(),
        ),
    );
    desk.once_ok();
    let inbox = desk.wait_inbox(&r, 4, T);
    let texts: Vec<String> = inbox.iter().map(|m| open(&researcher, m)).collect();
    let na = texts.iter().find(|t| t.contains("not applicable")).expect("the not-applicable notice");
    assert!(na.contains("\"Our sub-processors' sites and services (Hetzner, OpenAI, Stripe, Twilio, etc.)"), "{na}");
    assert!(
        na.contains("Stripe, one of our sub-processors") && na.contains("https://stripe.com/docs/security"),
        "{na}"
    );
    let dup = texts.iter().find(|t| t.contains("duplicate")).expect("the duplicate notice");
    assert!(!dup.contains(ex1.as_str()) && !dup.contains("Old report"), "the other ticket stays secret:\n{dup}");
    assert_eq!(desk.show(ex3.as_str())["outcome"], "duplicate");
    assert_eq!(desk.show(ex2.as_str())["state"], "closed");
}

#[test]
fn report_detail_waits_for_a_key_unless_cleartext_is_asked_for() {
    let ex1 = ex(1);
    let Team { desk, alice, .. } = team("cleartext", "");
    let sec = desk.security.clone();
    let nokey = desk.researcher(7);
    desk.send(
        &nokey,
        common::report(
            &nokey,
            &sec,
            "Open redirect",
            &format!("<n-{}@r.test>", desk.id),
            "Asset: https://app.example.test/r",
        )
        .as_slice(),
    );
    desk.once_ok();
    let subject = &format!("Re: [{ex1}] New report: Open redirect");
    desk.send(
        &alice.address,
        &clearsigned(&alice, &alice.address, &sec, subject, "The redirect parameter is now validated.\n"),
    );
    desk.once_ok();
    let confirmation = open(&alice, &desk.wait_inbox(&alice.address, 2, T).pop().unwrap());
    assert!(confirmation.contains("your text was NOT sent"), "{confirmation}");
    assert_eq!(desk.queued_to(&nokey), 1);
    desk.send(
        &alice.address,
        &clearsigned(&alice, &alice.address, &sec, subject, "#cleartext\nThe redirect parameter is now validated.\n"),
    );
    desk.once_ok();
    let relayed = desk.wait_inbox(&nokey, 2, T).pop().unwrap();
    assert!(parse(&relayed).body_text(0).unwrap().contains("now validated"));
}

#[test]
fn staff_mail_without_a_ticket_and_quarantined_mail_are_answered_and_reported() {
    let Team { desk, alice, bob, .. } = team("noticket", "");
    let sec = desk.security.clone();
    desk.send(&alice.address, &clearsigned(&alice, &alice.address, &sec, "status?", "#state closed\n"));
    desk.append(b"\x00\x01 not mail");
    desk.once_ok();
    let answer = desk
        .wait_inbox(&alice.address, 2, T)
        .into_iter()
        .find(|m| gpg::subject(&alice, m).starts_with("Not done"))
        .expect("told");
    assert!(open(&alice, &answer).contains("names no ticket"));
    let warning = desk.wait_inbox(&bob.address, 1, T).pop().unwrap();
    assert!(gpg::subject(&bob, &warning).contains("Warning: quarantined mail"));
    assert!(open(&bob, &warning).contains("vdpd mail show"));
}

#[test]
fn dkim_staff_authentication_trusts_only_the_named_authserv_id() {
    let ex1 = ex(1);
    let desk = Desk::with("dkim", Options::default());
    let alice = format!("alice-{}@example.test", desk.id);
    let r = desk.researcher(1);
    desk.write_policy(&Options {
        extra: format!(
            "\n[staff]\nauthentication = \"dkim\"\ntrusted_authserv_id = \"mx.example.test\"\n[[staff.members]]\naddress = \"{alice}\"\n"
        ),
        ..Options::default()
    });
    desk.send(&r, common::report(&r, &desk.security, "XXE", &format!("<d-{}@r.test>", desk.id), "Asset: x").as_slice());
    desk.once_ok();
    let mail = |results: &str, n: u32| {
        format!(
            "{results}From: {alice}\r\nTo: {}\r\nSubject: Re: [{ex1}] XXE\r\nMessage-ID: <k{n}-{}@example.test>\r\n\r\n#state accepted\r\n",
            desk.security, desk.id
        )
    };
    // A header claiming a pass from some other authserv-id is ignored.
    desk.append(mail("Authentication-Results: evil.test; dkim=pass header.d=example.test\r\n", 1).as_bytes());
    desk.once_ok();
    assert_eq!(desk.show(ex1.as_str())["state"], "new");
    assert!(
        desk.mail("dropped")[0]["reason"]
            .as_str()
            .unwrap()
            .contains("no Authentication-Results from the trusted mx.example.test")
    );
    // Our MX's verdict is trusted.
    desk.append(
        mail("Authentication-Results: mx.example.test; dkim=pass header.d=example.test header.s=s1; spf=pass\r\n", 2)
            .as_bytes(),
    );
    desk.once_ok();
    assert_eq!(desk.show(ex1.as_str())["state"], "accepted");
}

#[test]
fn files_over_the_size_limit_are_listed_not_attached_and_kept() {
    let ex1 = ex(1);
    let Team { desk, alice, researcher, .. } = team("bigfile", "\n[staff]\nmax_attachment_bytes = 64\n");
    let sec = desk.security.clone();
    let r = researcher.address.clone();
    let big = "A".repeat(500);
    let report = format!(
        "From: {r}\r\nTo: {sec}\r\nSubject: Big PoC\r\nMessage-ID: <big-{}@r.test>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
         --b\r\nContent-Type: text/plain\r\n\r\nSee the attached capture.\r\n\
         --b\r\nContent-Type: application/octet-stream; name=\"capture.bin\"\r\nContent-Disposition: attachment; filename=\"capture.bin\"\r\n\r\n{big}\r\n\
         --b\r\nContent-Type: text/plain; name=\"small.txt\"\r\nContent-Disposition: attachment; filename=\"small.txt\"\r\n\r\ntiny\r\n--b--\r\n",
        desk.id
    );
    desk.send(&r, report.as_bytes());
    desk.once_ok();
    let note = desk.wait_inbox(&alice.address, 1, T).remove(0);
    let text = open(&alice, &note);
    assert!(text.contains("capture.bin (application/octet-stream, 500 bytes, sha256 "), "{text}");
    assert!(text.contains(format!("too large to attach: vdpd tickets show {ex1}").as_str()), "{text}");
    let (entity, _) = alice.decrypt(&gpg::encrypted_payload(&note));
    let entity = String::from_utf8_lossy(&entity);
    assert!(!entity.contains(&big), "the big file does not travel");
    assert!(entity.contains("filename=\"small.txt\""), "the small one does:\n{entity}");
    let show = desk.show(ex1.as_str());
    let files: Vec<&str> =
        show["attachments"].as_array().unwrap().iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(files, ["capture.bin", "small.txt"]);
    let id = show["attachments"][0]["id"].as_i64().unwrap().to_string();
    let out = desk.dir.path().join("capture.bin");
    desk.vdpd_ok(&["tickets", "attachment", ex1.as_str(), &id, "--output", out.to_str().unwrap()]);
    assert_eq!(std::fs::read(out).unwrap().len(), 500);
}

/// `vdpd ingest --dry-run` on a GnuPG-signed staff mail shows what its commands would change and send,
/// changes nothing, and leaves the signature unspent: the same mail then works when it really arrives.
#[test]
fn a_dry_run_of_a_signed_staff_mail_shows_its_effects_and_spends_nothing() {
    let ex1 = ex(1);
    let Team { desk, alice, bob: _, researcher } = team("dryrun", "");
    let (sec, r) = (desk.security.clone(), researcher.address.clone());
    desk.send(
        &r,
        format!(
            "From: {r}\r\nTo: {sec}\r\nSubject: XSS\r\nMessage-ID: <dr-{}@research.test>\r\n\r\nAsset: https://app.example.test/\r\n",
            desk.id
        )
        .as_bytes(),
    );
    desk.once_ok();
    let body = format!("#assign {}\n#severity critical\n", alice.address);
    let mail = clearsigned(&alice, &alice.address, &sec, &format!("Re: [{ex1}] New report: XSS"), &body);
    let file = desk.dir.path().join("staff.eml");
    std::fs::write(&file, &mail).unwrap();
    let out = desk.vdpd_ok(&["ingest", "--dry-run", "--json", file.to_str().unwrap()]);
    let run: serde_json::Value = serde_json::from_str(&out).unwrap();
    let run = &run[0];
    assert_eq!(
        (run["status"].as_str(), run["reference"].as_str()),
        (Some("correspondence"), Some(ex1.as_str())),
        "{run}"
    );
    let fields: Vec<(&str, &str)> = run["tickets"][0]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| Some((f["field"].as_str()?, f["after"].as_str()?)))
        .collect();
    assert!(
        fields.contains(&("assignee", alice.address.as_str())) && fields.contains(&("severity", "critical")),
        "{fields:?}"
    );
    let mails: Vec<&str> = run["mails"].as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert!(mails.contains(&"staff-confirmation"), "{run}");
    // The text form says the same, and that nothing was done.
    let text = desk.vdpd_ok(&["ingest", "--dry-run", file.to_str().unwrap()]);
    assert!(text.contains(&format!("would be correspondence {ex1}")), "{text}");
    assert!(text.contains("severity: \"\" → \"critical\""), "{text}");
    assert!(text.contains("nothing was stored or sent"), "{text}");
    // Nothing changed; nothing was mailed.
    let show = desk.show(ex1.as_str());
    assert_eq!((show["severity"].as_str(), show["assignee"].as_str()), (Some(""), Some("")));
    assert!(!timeline(&desk, ex1.as_str()).iter().any(|(_, e, _)| *e == Event::SeveritySet));
    // The same mail, delivered: its signature counts now (it was not spent by the dry run).
    desk.send(&alice.address, &mail);
    desk.once_ok();
    let show = desk.show(ex1.as_str());
    assert_eq!(
        (show["severity"].as_str(), show["assignee"].as_str()),
        (Some("critical"), Some(alice.address.as_str()))
    );
}

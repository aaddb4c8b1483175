//! The trust model, tried as an attacker would, with GnuPG against the real Postfix and Dovecot: authority
//! and keys come only from what a signature covers. Unsigned text beside a signed block, a replayed or old
//! signature, a revoked key with its old certificate attached, several signed blocks, a signed attachment:
//! none of them may act as staff. Each refusal is checked on the ticket (nothing changed), in the outbox
//! (nothing sent that should not be) and in what staff are told.

mod common;

use std::time::Duration;
use vdpd::timeline::Event;

use common::ex;
use common::gpg::{self, Gpg, clearsigned, open, timeline};
use common::team::{Team, team, team_with};

const T: Duration = Duration::from_secs(30);

/// A report from the team's researcher (ticket `ex(n)`), with their key in an Autocrypt header (so that
/// staff's words reach them, encrypted), processed.
fn report(t: &Team, n: u32, subject: &str) {
    let r = &t.researcher.address;
    let raw = String::from_utf8(common::report(
        r,
        &t.desk.security,
        subject,
        &format!("<rep{n}-{}@r.test>", t.desk.id),
        "Asset: https://app.example.test/\nThe search box reflects script.",
    ))
    .unwrap();
    t.desk.send(r, format!("{}{raw}", gpg::autocrypt(&t.researcher)).as_bytes());
    t.desk.once_ok();
    assert_eq!(t.desk.show(&ex(n))["state"], "new");
}

/// Outbox rows queued to `address` (final once `once` has returned).
fn queued_to(t: &Team, address: &str) -> i64 {
    common::count(&t.desk.store_path(), &format!("SELECT count(*) FROM outbox WHERE recipient = '{address}'"))
}

fn dropped_reasons(t: &Team) -> Vec<String> {
    t.desk.mail("dropped").iter().map(|d| d["reason"].as_str().unwrap().to_string()).collect()
}

fn warnings(t: &Team, kind: &str) -> i64 {
    common::count(&t.desk.store_path(), &format!("SELECT count(*) FROM staff_warnings WHERE kind = '{kind}'"))
}

/// A mail from `from` whose body is `body` as given (no signing: the caller builds what it wants).
fn raw_mail(t: &Team, from: &str, subject: &str, tag: &str, body: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: {}\r\nSubject: {subject}\r\nMessage-ID: <{tag}-{}@staff.test>\r\n\r\n{}",
        t.desk.security,
        t.desk.id,
        body.replace("\r\n", "\n").replace('\n', "\r\n")
    )
    .into_bytes()
}

#[test]
fn unsigned_commands_beside_a_signed_block_change_nothing_and_staff_are_told() {
    let t = team("beside", "");
    report(&t, 1, "Reflected XSS");
    let subject = format!("Re: [{}] New report: Reflected XSS", ex(1));
    let researcher_before = queued_to(&t, &t.researcher.address);
    // Something Alice signed for somebody else (a mailing-list post), with commands put above and below it.
    let post = String::from_utf8(t.alice.clearsign(b"Our advisory for libfoo is out.\n")).unwrap();
    let body = format!(
        "#state closed\n#participant add mallory@evil.example\nClose it, it is nothing.\n\n{post}\n#informative\n"
    );
    t.desk.send(&t.alice.address, &raw_mail(&t, &t.alice.address, &subject, "beside1", &body));
    // The same with a signed (not clear-signed) message, as `gpg --sign --armor` makes it.
    let signed = String::from_utf8(t.alice.sign_armor(b"Another post.\n")).unwrap();
    let body = format!("#state closed\n\n{signed}\n");
    t.desk.send(&t.alice.address, &raw_mail(&t, &t.alice.address, &subject, "beside2", &body));
    t.desk.once_ok();
    let show = t.desk.show(&ex(1));
    assert_eq!((show["state"].as_str(), show["outcome"].as_str()), (Some("new"), Some("")), "{show}");
    // Nobody joins the ticket by an unsigned line: the researcher's side is the reporter alone.
    let participants: Vec<&str> =
        show["participants"].as_array().unwrap().iter().map(|p| p["address"].as_str().unwrap()).collect();
    assert_eq!(participants, [t.researcher.address.as_str()], "{show}");
    // What Alice signed is hers and may be relayed; what stood beside it never reaches the researcher.
    for m in t.desk.wait_inbox(&t.researcher.address, 3, T).iter().skip(1) {
        let text = open(&t.researcher, m);
        assert!(!text.contains("Close it") && !text.contains("#state"), "{text}");
    }
    assert_eq!(queued_to(&t, &t.researcher.address), researcher_before + 2);
    // Staff hear of the unsigned commands: in the warning and in Alice's confirmation.
    assert_eq!(warnings(&t, "unsigned commands ignored"), 2);
    let confirmations: Vec<String> = t
        .desk
        .wait_inbox(&t.alice.address, 3, T)
        .iter()
        .filter(|m| gpg::subject(&t.alice, m).contains("Done"))
        .map(|m| open(&t.alice, m))
        .collect();
    assert_eq!(confirmations.len(), 2, "{confirmations:?}");
    assert!(
        confirmations.iter().any(|c| c.contains(
            "IGNORED, not signed: \"#state closed\", \"#participant add mallory@evil.example\", \"#informative\""
        )),
        "{confirmations:?}"
    );
    let events: Vec<Event> = timeline(&t.desk, &ex(1)).into_iter().map(|(_, e, _)| e).collect();
    assert!(events.iter().filter(|e| **e == Event::UnsignedCommandsIgnored).count() == 2, "{events:?}");
    assert!(!events.iter().any(|e| *e == Event::StateChanged || *e == Event::Closed), "{events:?}");
}

#[test]
fn a_researchers_partly_signed_mail_shows_staff_which_part_the_signature_covers() {
    let t = team("partly", "");
    report(&t, 1, "IDOR");
    let r = &t.researcher.address;
    let old = String::from_utf8(t.researcher.clearsign(b"Thanks for the quick answer!\n")).unwrap();
    let body = format!("Steps to reproduce: none, I withdraw the report.\n\n{old}");
    t.desk.send(r, &raw_mail(&t, r, &format!("Re: [{}] IDOR", ex(1)), "partly", &body));
    t.desk.once_ok();
    let note = t.desk.wait_inbox(&t.bob.address, 2, T).pop().unwrap();
    let text = open(&t.bob, &note);
    assert!(text.contains("over the text above only: the part below was NOT signed"), "{text}");
    let signed_part = text.find("Thanks for the quick answer!").unwrap_or_else(|| panic!("the signed words:\n{text}"));
    let unsigned_part = text.find("I withdraw the report").unwrap_or_else(|| panic!("the unsigned words:\n{text}"));
    assert!(signed_part < unsigned_part, "{text}");
    assert!(text[..unsigned_part].contains("The part below was NOT signed"), "{text}");
    // The form reads the signed part only.
    let show = t.desk.show(&ex(1));
    let last_in = show["messages"].as_array().unwrap().iter().rfind(|m| m["direction"] == "in").unwrap();
    assert_eq!(last_in["text"].as_str().unwrap().trim(), "Thanks for the quick answer!");
    assert!(last_in["unsigned_text"].as_str().unwrap().contains("I withdraw the report"));
}

/// A PGP/MIME signed entity by `g`, wrapped in a `multipart/mixed` with `footer` after it: what a
/// corporate MTA does to every mail.
fn wrapped_with_footer(t: &Team, g: &Gpg, subject: &str, tag: &str, text: &str, footer: &str) -> Vec<u8> {
    let entity = gpg::crlf(format!("Content-Type: text/plain; charset=utf-8\n\n{text}").as_bytes());
    let sig = g.detach_sign(&entity);
    let mut m = format!(
        "From: {}\r\nTo: {}\r\nSubject: {subject}\r\nMessage-ID: <{tag}-{}@staff.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"corp\"\r\n\r\n--corp\r\n\
         Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"sig\"\r\n\r\n--sig\r\n",
        g.address, t.desk.security, t.desk.id
    )
    .into_bytes();
    m.extend_from_slice(&entity);
    m.extend_from_slice(b"\r\n--sig\r\nContent-Type: application/pgp-signature\r\n\r\n");
    m.extend_from_slice(&gpg::crlf(&sig));
    m.extend_from_slice(
        format!("\r\n--sig--\r\n--corp\r\nContent-Type: text/plain\r\n\r\n{}\r\n--corp--\r\n", gpg::crlf_str(footer))
            .as_bytes(),
    );
    m
}

#[test]
fn a_signed_staff_mail_wrapped_with_a_footer_acts_on_its_signed_commands_only() {
    let t = team("footer", "");
    report(&t, 1, "SSRF");
    let subject = format!("Re: [{}] New report: SSRF", ex(1));
    let mail = wrapped_with_footer(
        &t,
        &t.alice,
        &subject,
        "footer",
        "#state accepted\n\nWe can reproduce it.\n",
        "#state closed\n#bounty minor\nThis e-mail is confidential. If you are not the intended recipient ...",
    );
    t.desk.send(&t.alice.address, &mail);
    t.desk.once_ok();
    let show = t.desk.show(&ex(1));
    assert_eq!(
        (show["state"].as_str(), show["bounty_tier"].as_str()),
        (Some("accepted"), Some("")),
        "{:?} {show}",
        dropped_reasons(&t)
    );
    let relayed = open(&t.researcher, &t.desk.wait_inbox(&t.researcher.address, 2, T).pop().unwrap());
    assert!(relayed.contains("We can reproduce it.") && !relayed.contains("confidential"), "{relayed}");
    assert_eq!(warnings(&t, "unsigned commands ignored"), 1);
}

#[test]
fn a_signature_counts_once_and_only_for_the_ticket_it_names() {
    let t = team("replay", "");
    report(&t, 1, "CSRF");
    report(&t, 2, "Open redirect");
    let signed = clearsigned(
        &t.alice,
        &t.alice.address,
        &t.desk.security,
        &format!("Re: [{}] New report: CSRF", ex(1)),
        "#state accepted\n",
    );
    t.desk.send(&t.alice.address, &signed);
    t.desk.once_ok();
    assert_eq!(t.desk.show(&ex(1))["state"], "accepted");
    // The very same signed text again, in a new mail (new Message-ID): on the same ticket, then on another.
    let text = String::from_utf8_lossy(&signed).to_string();
    let body = &text[text.find("\r\n\r\n").unwrap() + 4..];
    for (n, tag) in [(1, "again"), (2, "other")] {
        t.desk.send(&t.alice.address, &raw_mail(&t, &t.alice.address, &format!("Re: [{}] x", ex(n)), tag, body));
    }
    t.desk.once_ok();
    assert_eq!(t.desk.show(&ex(2))["state"], "new", "a signature does not travel to another ticket");
    let reasons = dropped_reasons(&t);
    assert_eq!(
        reasons.iter().filter(|r| r.contains("replay: this very signature was already accepted")).count(),
        2,
        "{reasons:?}"
    );
    // A fresh signature whose signed content names ticket 1 (protected headers, as Thunderbird writes
    // them), with the outer Subject changed to ticket 2 on the way: not applied to 2.
    let entity = gpg::crlf(
        format!(
            "Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\nSubject: Re: [{}] New report: CSRF\n\n#state fixing\n",
            ex(1)
        )
        .as_bytes(),
    );
    let moved = gpg::pgp_mime_signed(
        &format!(
            "From: {}\r\nTo: {}\r\nSubject: Re: [{}] Open redirect\r\nMessage-ID: <moved-{}@staff.test>\r\n",
            t.alice.address,
            t.desk.security,
            ex(2),
            t.desk.id
        ),
        &entity,
        &t.alice.detach_sign(&entity),
    );
    t.desk.send(&t.alice.address, &moved);
    // And a clear-signed reply that quotes ticket 1's notification, sent with ticket 2's subject.
    let quoting = clearsigned(
        &t.alice,
        &t.alice.address,
        &t.desk.security,
        &format!("Re: [{}] Open redirect", ex(2)),
        &format!("#state fixing\n\n> [{}] New report: CSRF\n", ex(1)),
    );
    t.desk.send(&t.alice.address, &quoting);
    t.desk.once_ok();
    assert_eq!(t.desk.show(&ex(2))["state"], "new");
    assert_eq!(t.desk.show(&ex(1))["state"], "accepted");
    let reasons = dropped_reasons(&t);
    let unbound = format!("the signed content names {}, but the mail was addressed to {}", ex(1), ex(2));
    assert_eq!(reasons.iter().filter(|r| r.contains(&unbound)).count(), 2, "{reasons:?}");
    // Staff were warned each time; the researcher heard nothing of any of it.
    assert_eq!(warnings(&t, "unauthenticated staff mail"), 4);
    assert_eq!(queued_to(&t, &t.researcher.address), 2, "the two acknowledgements only");
}

#[test]
fn an_old_signature_is_refused_however_good() {
    // Keys made on 1 January 2025, so that GnuPG may sign "four days ago" whatever today is.
    let t = team_with("old", "", Gpg::dated);
    report(&t, 1, "XXE");
    let four_days_ago = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(4 * 24);
    t.alice.set_time(&four_days_ago.strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    let subject = format!("Re: [{}] New report: XXE", ex(1));
    t.desk.send(
        &t.alice.address,
        &clearsigned(&t.alice, &t.alice.address, &t.desk.security, &subject, "#state accepted\n"),
    );
    t.desk.once_ok();
    assert_eq!(t.desk.show(&ex(1))["state"], "new");
    let reasons = dropped_reasons(&t);
    assert!(
        reasons
            .iter()
            .any(|r| r.contains("made 4 days before the mail arrived, longer than staff.max_signature_age (3 days)")),
        "{reasons:?}"
    );
    // Signed now, the same command is taken.
    t.alice.set_time(&jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ").to_string());
    t.desk.send(
        &t.alice.address,
        &clearsigned(&t.alice, &t.alice.address, &t.desk.security, &subject, "#state accepted\n"),
    );
    t.desk.once_ok();
    assert_eq!(t.desk.show(&ex(1))["state"], "accepted");
}

#[test]
fn a_revoked_staff_key_commands_nothing_even_with_its_old_certificate_attached() {
    let t = team("revoked", "");
    report(&t, 1, "RCE");
    // The attacker has Alice's secret key and an old, unrevoked copy of her certificate.
    let old_cert = String::from_utf8(t.alice.export()).unwrap();
    let entity = gpg::crlf(
        format!(
            "Content-Type: multipart/mixed; boundary=\"in\"\n\n--in\nContent-Type: text/plain\n\n#state accepted\nAll good.\n\
             --in\nContent-Type: application/pgp-keys; name=\"alice.asc\"\nContent-Disposition: attachment; filename=\"alice.asc\"\n\n{old_cert}\n--in--\n"
        )
        .as_bytes(),
    );
    let sig = t.alice.detach_sign(&entity);
    // Alice revokes her key; the policy's certificate file now carries the revocation.
    t.alice.revoke();
    t.alice.export_to(t.desk.dir.path());
    let mail = gpg::pgp_mime_signed(
        &format!(
            "From: {}\r\nTo: {}\r\nSubject: Re: [{}] New report: RCE\r\nMessage-ID: <rev-{}@staff.test>\r\n",
            t.alice.address,
            t.desk.security,
            ex(1),
            t.desk.id
        ),
        &entity,
        &sig,
    );
    t.desk.send(&t.alice.address, &mail);
    t.desk.once_ok();
    assert_eq!(t.desk.show(&ex(1))["state"], "new");
    let reasons = dropped_reasons(&t);
    assert!(reasons.iter().any(|r| r.contains("failed authentication: bad signature")), "{reasons:?}");
    assert_eq!(warnings(&t, "unauthenticated staff mail"), 1);
    assert_eq!(queued_to(&t, &t.researcher.address), 1, "the acknowledgement only");
}

#[test]
fn two_signed_blocks_or_a_signed_attachment_give_no_authority() {
    let t = team("several", "");
    report(&t, 1, "Path traversal");
    let subject = format!("Re: [{}] New report: Path traversal", ex(1));
    let one = String::from_utf8(t.alice.clearsign(b"#state accepted\n")).unwrap();
    let two = String::from_utf8(t.alice.clearsign(b"#severity high\n")).unwrap();
    t.desk.send(&t.alice.address, &raw_mail(&t, &t.alice.address, &subject, "two", &format!("{one}\n{two}")));
    // An unsigned command beside a signed file: the file's signature signs the file, not the mail.
    let file = b"GET /../../etc/passwd\n";
    let attachment = format!(
        "From: {a}\r\nTo: {s}\r\nSubject: {subject}\r\nMessage-ID: <att-{id}@staff.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\n#state accepted\r\n\
         --m\r\nContent-Type: text/plain; name=\"poc.txt\"\r\nContent-Disposition: attachment; filename=\"poc.txt\"\r\n\r\n{f}\r\n\
         --m\r\nContent-Type: application/pgp-signature; name=\"poc.txt.asc\"\r\nContent-Disposition: attachment; filename=\"poc.txt.asc\"\r\n\r\n{sig}\r\n--m--\r\n",
        a = t.alice.address,
        s = t.desk.security,
        id = t.desk.id,
        f = String::from_utf8_lossy(file),
        sig = String::from_utf8(t.alice.detach_sign(file)).unwrap()
    );
    t.desk.send(&t.alice.address, attachment.as_bytes());
    t.desk.once_ok();
    let show = t.desk.show(&ex(1));
    assert_eq!((show["state"].as_str(), show["severity"].as_str()), (Some("new"), Some("")), "{show}");
    let reasons = dropped_reasons(&t);
    assert!(reasons.iter().any(|r| r.contains("2 signed or encrypted parts")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("only an attachment is signed")), "{reasons:?}");
    assert_eq!(warnings(&t, "unauthenticated staff mail"), 2);
}

fn held_key(t: &Team) -> Option<String> {
    let conn = rusqlite::Connection::open(t.desk.store_path()).unwrap();
    conn.query_row("SELECT fingerprint FROM openpgp_certs WHERE address = ?1", [&t.researcher.address], |r| r.get(0))
        .ok()
}

#[test]
fn a_key_planted_on_first_use_is_announced_and_staff_reset_or_accept_keys_by_mail() {
    let t = team("keys", "");
    let ada = &t.researcher;
    let mallory = Gpg::new(&ada.address);
    // Mallory writes first, as Ada, with his key: trust on first use takes it, and staff are told.
    let first = format!(
        "From: {a}\r\nTo: {s}\r\nSubject: Login bypass\r\nMessage-ID: <planted-{id}@evil.test>\r\n{ac}\r\nAsset: https://app.example.test/\r\n",
        a = ada.address,
        s = t.desk.security,
        id = t.desk.id,
        ac = gpg::autocrypt(&mallory)
    );
    t.desk.send(&ada.address, first.as_bytes());
    t.desk.once_ok();
    assert_eq!(held_key(&t).as_deref(), Some(mallory.fingerprint.as_str()));
    let note = open(&t.bob, &t.desk.wait_inbox(&t.bob.address, 1, T).remove(0));
    assert!(
        note.contains(&format!("learned a key for {} on first use: {}", ada.address, mallory.fingerprint)),
        "{note}"
    );
    let subject = format!("Re: [{}] New report: Login bypass", ex(1));
    let command = |body: &str| clearsigned(&t.alice, &t.alice.address, &t.desk.security, &subject, body);
    // Alice looks, and forgets it.
    t.desk.send(&t.alice.address, &command("#key show\n#internal\n"));
    t.desk.once_ok();
    let shown = open(&t.alice, &t.desk.wait_inbox(&t.alice.address, 2, T).pop().unwrap());
    assert!(
        shown.contains(&format!("key held for {}: {} (learned on first use", ada.address, mallory.fingerprint)),
        "{shown}"
    );
    t.desk.send(&t.alice.address, &command("#key reset\n#internal\n"));
    t.desk.once_ok();
    let reset = open(&t.alice, &t.desk.wait_inbox(&t.alice.address, 3, T).pop().unwrap());
    assert!(reset.contains(&format!("the researcher's key {} was forgotten", mallory.fingerprint)), "{reset}");
    assert_eq!(held_key(&t), None);
    // The next mail to the address goes in clear; Ada's own key, when she offers it, is learned.
    let reply = format!(
        "From: {a}\r\nTo: {s}\r\nSubject: Re: [{r}] Login bypass\r\nMessage-ID: <ada-{id}@r.test>\r\n{ac}\r\nAny news?\r\n",
        a = ada.address,
        s = t.desk.security,
        r = ex(1),
        id = t.desk.id,
        ac = gpg::autocrypt(ada)
    );
    t.desk.send(&ada.address, reply.as_bytes());
    t.desk.once_ok();
    assert_eq!(held_key(&t).as_deref(), Some(ada.fingerprint.as_str()));
    let answer = t.desk.wait_inbox(&ada.address, 2, T).pop().unwrap();
    let (_, status) = ada.decrypt(&gpg::encrypted_payload(&answer));
    assert!(status.contains("DECRYPTION_OKAY"));
    // Mallory offers his key again: refused now (not signed by the key held), kept as an offer; staff could
    // take it with #key accept — here they would only if they knew it was Ada's.
    let again = first.replace("planted-", "again-").replace("Login bypass", &format!("Re: [{}] Login bypass", ex(1)));
    t.desk.send(&ada.address, again.as_bytes());
    t.desk.once_ok();
    assert_eq!(held_key(&t).as_deref(), Some(ada.fingerprint.as_str()));
    t.desk.send(&t.alice.address, &command(&format!("#key accept {}\n#internal\n", mallory.fingerprint)));
    t.desk.once_ok();
    assert_eq!(held_key(&t).as_deref(), Some(mallory.fingerprint.as_str()), "staff decide");
    // A fingerprint nobody offered is refused with the list of offers.
    let unknown = "0123456789ABCDEF0123456789ABCDEF01234567";
    t.desk.send(&t.alice.address, &command(&format!("#key accept {unknown}\n#internal\n")));
    t.desk.once_ok();
    let error = t
        .desk
        .wait_inbox(&t.alice.address, 6, T)
        .into_iter()
        .find(|m| gpg::subject(&t.alice, m).contains("Not done"))
        .expect("an error");
    assert!(open(&t.alice, &error).contains(&format!("never offered the key {unknown}")));
}

#[test]
fn where_the_policy_asks_a_signed_staff_mail_must_name_its_ticket() {
    let t = team("named", "\n[staff]\nsignature_must_name_ticket = true\n");
    report(&t, 1, "Open redirect");
    let subject = format!("Re: [{}] New report: Open redirect", ex(1));
    // Text Alice signed for somebody else names no ticket: it acts nowhere.
    t.desk.send(
        &t.alice.address,
        &clearsigned(&t.alice, &t.alice.address, &t.desk.security, &subject, "#state accepted\n"),
    );
    t.desk.once_ok();
    assert_eq!(t.desk.show(&ex(1))["state"], "new");
    assert!(dropped_reasons(&t).iter().any(|r| r.contains("names no ticket")), "{:?}", dropped_reasons(&t));
    // Quoting the notification names it.
    let quoting = format!("#state accepted\n\n> [{}] New report: Open redirect\n", ex(1));
    t.desk.send(&t.alice.address, &clearsigned(&t.alice, &t.alice.address, &t.desk.security, &subject, &quoting));
    t.desk.once_ok();
    assert_eq!(t.desk.show(&ex(1))["state"], "accepted");
}

//! The encrypted exchange with real GnuPG as the researcher's and staff's client, against the real mail stack.

mod common;

use std::time::Duration;
use vdpd::timeline::Event;

use common::gpg::{self, Gpg, attached_key, autocrypt, timeline_events};
use common::{Desk, Options, ex, header, parse, report};

const T: Duration = Duration::from_secs(30);

/// A desk with an organisation key, and optionally one staff member whose certificate is `staff`'s.
fn desk(name: &str, staff: Option<&Gpg>, extra: &str) -> Desk {
    // A hall of fame: the form asks for a credit preference.
    let mut toml = String::from("\n[recognition]\nhall_of_fame = true\n\n[openpgp]\n");
    toml.push_str(extra);
    let desk = Desk::with(name, Options::default());
    if let Some(s) = staff {
        toml.push_str(&s.staff_member("Sam Staff", desk.dir.path()));
    }
    desk.write_policy(&Options { extra: toml, ..Options::default() });
    let out = desk.vdpd_ok(&["key", "generate", "--userid", &format!("Example Security <{}>", desk.security)]);
    assert!(out.contains("organisation key"), "{out}");
    desk
}

fn org_fingerprint(desk: &Desk) -> String {
    let out = desk.vdpd_ok(&["check"]);
    let line = out.lines().find(|l| l.starts_with("ok    openpgp key: ")).expect("check reports the key");
    line["ok    openpgp key: ".len()..].split_whitespace().next().unwrap().to_string()
}

#[test]
fn a_researcher_with_only_gnupg_completes_the_encrypted_exchange_and_staff_read_it_encrypted() {
    let ex1 = ex(1);
    let staff_addr = format!("staff-{}@example.test", common::unique("s"));
    let staff = Gpg::new(&staff_addr);
    let desk = desk("exchange", Some(&staff), "");
    let alice = Gpg::new(&desk.researcher(1));
    let sec = desk.security.clone();
    let fpr = org_fingerprint(&desk);

    // 1. A first, short report in clear text, as the bounty policy asks (from a bare address: her name is
    // what the form asks for last).
    let mid = format!("<x1-{}@research.test>", desk.id);
    let first = report(
        &alice.address,
        &sec,
        "Reflected XSS on the search page",
        &mid,
        "The q parameter of https://app.example.test/search is reflected. Details over encrypted mail.",
    );
    desk.send(
        &alice.address,
        String::from_utf8(first).unwrap().replacen("From: Researcher <", "From: <", 1).as_bytes(),
    );
    desk.once_ok();
    let ack = desk.wait_inbox(&alice.address, 1, T).remove(0);
    let text = String::from_utf8_lossy(&ack).to_string();
    assert!(header(&ack, "Autocrypt").unwrap().starts_with(&format!("addr={sec};")), "Autocrypt header offers our key");
    let body = parse(&ack).body_text(0).unwrap().to_string();
    // What the mail said is quoted back, not asked again (the page, the title, her address).
    for wanted in [
        "Asset (from the addresses in the text)",
        "Title (from the subject)",
        "Contact email (from the sender's address)",
        "Severity*:",
        "Description*:",
        "Steps to reproduce*:",
        "Contact name*:",
        "Credit:",
        &fpr,
    ] {
        assert!(body.contains(wanted), "the form asks for {wanted:?}:\n{body}");
    }
    assert!(!text.contains("BEGIN PGP MESSAGE"), "no key of the researcher yet: clear text");
    // The researcher imports the attached key and checks its fingerprint.
    alice.import(&attached_key(&ack));
    assert_eq!(alice.fingerprint_of(&sec), fpr);
    let ack_id = format!("<{}>", parse(&ack).message_id().unwrap());

    // 2. The details, PGP/MIME encrypted and signed, with her key in an Autocrypt header; one mandatory section left out.
    let entity = gpg::crlf(
        b"Content-Type: text/plain; charset=utf-8\n\n\
Title: Reflected XSS on the search page\n\
Asset: https://app.example.test/search\n\
Weakness: CWE-79\n\
Severity: critical CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H\n\
Description: The q parameter is reflected without encoding.\n\
Steps to reproduce:\n\
1. Open https://app.example.test/search?q=<script>alert(1)</script>\n\
2. See the alert.\n\
Contact email: alice@research.test\n",
    );
    let headers = format!(
        "From: Alice <{a}>\r\nTo: {sec}\r\nSubject: Re: [{ex1}] Re: Reflected XSS on the search page\r\n\
         Message-ID: <x2-{id}@research.test>\r\nIn-Reply-To: {ack_id}\r\nReferences: {mid} {ack_id}\r\n{ac}",
        a = alice.address,
        id = desk.id,
        ac = autocrypt(&alice)
    );
    desk.send(&alice.address, &gpg::pgp_mime_encrypted(&headers, &alice.encrypt_sign(&sec, &entity)));
    desk.once_ok();

    let show = desk.show(ex1.as_str());
    let reply = &show["messages"].as_array().unwrap().iter().find(|m| m["kind"] == "reply").unwrap().clone();
    assert_eq!(reply["encrypted"], true);
    assert_eq!(reply["signature"], "good", "{reply}");
    assert_eq!(reply["signer"], alice.fingerprint);
    assert_eq!(show["asset"], "https://app.example.test/search");
    assert_eq!(show["weakness"], "CWE-79");
    assert_eq!(show["severity"], "critical");
    assert_eq!(show["cvss_score"], 9.8);
    assert_eq!(show["state"], "new");
    let sections: Vec<&str> = show["form"].as_array().unwrap().iter().map(|s| s["section"].as_str().unwrap()).collect();
    assert!(sections.contains(&"Steps to reproduce") && sections.contains(&"Severity"), "{sections:?}");
    assert!(timeline_events(&show).contains(&Event::KeyStored));

    // vdpd's answer names exactly the missing section, and is encrypted to her and signed by us.
    let inbox = desk.wait_inbox(&alice.address, 2, T);
    let missing = &inbox[1];
    assert_eq!(gpg::subject(&alice, missing), format!("[{ex1}] Re: Reflected XSS on the search page"));
    assert_eq!(header(missing, "Subject").unwrap(), format!("[{ex1}]"), "outside, only the reference");
    assert!(header(missing, "Content-Type").unwrap().starts_with("multipart/encrypted"));
    let (plain, status) = alice.decrypt(&gpg::encrypted_payload(missing));
    assert!(gpg::signed_by(&status, &fpr), "signed by the organisation key {fpr}:\n{status}");
    let plain = String::from_utf8_lossy(&plain);
    let still = &plain[plain.find("We still need:").expect("names what is missing")..];
    assert!(still.contains("Contact name"), "{plain}");
    assert!(!still.contains("Asset") && !still.contains("Severity"), "only what is missing:\n{plain}");
    assert!(
        plain.contains("Asset: https://app.example.test/search"),
        "encrypted, so it may repeat what we have:\n{plain}"
    );

    // 3. The last section, as inline PGP in a plain text mail.
    let inline = alice.encrypt_sign(&sec, b"Contact name: Alice Example\n");
    let m = format!(
        "From: {a}\r\nTo: {sec}\r\nSubject: Re: [{ex1}] name\r\nMessage-ID: <x3-{id}@research.test>\r\n\r\n{body}\r\n",
        a = alice.address,
        id = desk.id,
        body = String::from_utf8_lossy(&inline).replace('\n', "\r\n")
    );
    desk.send(&alice.address, m.as_bytes());
    desk.once_ok();
    let show = desk.show(ex1.as_str());
    assert_eq!(show["state"], "triage");
    assert!(show["form_complete_at"].is_string());
    assert!(timeline_events(&show).contains(&Event::FormComplete));
    let last = show["messages"].as_array().unwrap().iter().rfind(|m| m["kind"] == "reply").unwrap().clone();
    assert_eq!((last["encrypted"].as_bool(), last["signature"].as_str()), (Some(true), Some("good")));

    // Staff are told, encrypted to their certificate and signed by ours.
    // Staff heard of the new report, of the first reply, and now of the completed form.
    let staff_inbox = desk.wait_inbox(&staff.address, 3, T);
    staff.import(&desk.vdpd(&["key", "export"]).stdout);
    let subjects: Vec<String> = staff_inbox.iter().map(|m| gpg::subject(&staff, m)).collect();
    assert!(subjects[0].starts_with(format!("[{ex1}] New report").as_str()), "{subjects:?}");
    assert!(subjects[1].starts_with(format!("[{ex1}] Researcher wrote").as_str()), "{subjects:?}");
    let note = staff_inbox
        .into_iter()
        .find(|m| gpg::subject(&staff, m).starts_with(format!("[{ex1}] Report complete").as_str()))
        .expect("the completed form");
    assert!(
        !String::from_utf8_lossy(&note).contains("app.example.test/search"),
        "nothing readable outside the encryption"
    );
    let (plain, status) = staff.decrypt(&gpg::encrypted_payload(&note));
    assert!(gpg::signed_by(&status, &fpr), "{status}");
    let plain = String::from_utf8_lossy(&plain);
    assert!(plain.contains("Asset:") && plain.contains("https://app.example.test/search"), "{plain}");
    assert!(plain.contains("critical (CVSS 9.8"), "{plain}");
    assert!(plain.contains(&format!("good signature by {}", alice.fingerprint)), "{plain}");
    // Nothing more to the researcher once the form is complete.
    assert_eq!(desk.queued_to(&alice.address), 2);
}

#[test]
fn a_mail_encrypted_to_the_wrong_key_gets_an_answer_that_says_so_with_the_right_key() {
    let ex1 = ex(1);
    let desk = desk("wrongkey", None, "");
    let alice = Gpg::new(&desk.researcher(1));
    let other = Gpg::new(&format!("other-{}@example.test", desk.id));
    alice.import(&other.export());
    let body = alice.encrypt_sign(&other.address, b"Asset: x\n");
    let headers = format!(
        "From: {a}\r\nTo: {s}\r\nSubject: Encrypted report\r\nMessage-ID: <w-{id}@r.test>\r\n",
        a = alice.address,
        s = desk.security,
        id = desk.id
    );
    desk.send(&alice.address, &gpg::pgp_mime_encrypted(&headers, &body));
    desk.once_ok();
    let inbox = desk.wait_inbox(&alice.address, 2, T);
    let answer = inbox
        .iter()
        .find(|m| String::from_utf8_lossy(m).contains("could not decrypt"))
        .expect("an answer that says so");
    let text = parse(answer).body_text(0).unwrap().to_string();
    assert!(text.contains("not encrypted to our key"), "{text}");
    let fpr = org_fingerprint(&desk);
    assert!(text.contains(&fpr), "{text}");
    alice.import(&attached_key(answer));
    assert_eq!(alice.fingerprint_of(&desk.security), fpr);
    let show = desk.show(ex1.as_str());
    assert!(show["messages"][0]["crypto_error"].as_str().unwrap().contains("not encrypted to our key"));
}

#[test]
fn a_compression_bomb_and_a_100_deep_packet_nesting_are_refused_cleanly() {
    let desk = desk("bombs", None, "");
    let alice = Gpg::new(&desk.researcher(1));
    alice.import(&desk.vdpd(&["key", "export"]).stdout);
    // 200 MB of zeros, compressed: a few hundred kilobytes.
    let bomb = {
        let script = format!(
            "head -c 209715200 /dev/zero | gpg --batch --quiet --trust-model always --compress-algo zlib -z 9 --armor --encrypt -r {}",
            desk.security
        );
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .env("GNUPGHOME", alice.home.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        out.stdout
    };
    assert!(bomb.len() < 2 << 20, "{} bytes", bomb.len());
    let h = |n: u32| {
        format!(
            "From: {}\r\nTo: {}\r\nSubject: bomb {n}\r\nMessage-ID: <b{n}-{}@r.test>\r\n",
            alice.address, desk.security, desk.id
        )
    };
    desk.append(&gpg::pgp_mime_encrypted(&h(1), &bomb));

    // 100 nested compressed-data packets inside the encryption, built with sequoia (no client makes these).
    let nested = {
        use openpgp::parse::Parse;
        use openpgp::serialize::stream::{Armorer, Compressor, Encryptor, LiteralWriter, Message, Recipient};
        use sequoia_openpgp as openpgp;
        use std::io::Write;
        let cert = openpgp::Cert::from_bytes(&desk.vdpd(&["key", "export"]).stdout).unwrap();
        let policy = openpgp::policy::StandardPolicy::new();
        let valid = cert.with_policy(&policy, None).unwrap();
        let recipients: Vec<Recipient<'_>> = valid.keys().for_transport_encryption().map(Recipient::from).collect();
        let mut sink = Vec::new();
        let m = Armorer::new(Message::new(&mut sink)).build().unwrap();
        let mut m = Encryptor::for_recipients(m, recipients).build().unwrap();
        for _ in 0..100 {
            m = Compressor::new(m).algo(openpgp::types::CompressionAlgorithm::Uncompressed).build().unwrap();
        }
        let mut w = LiteralWriter::new(m).build().unwrap();
        w.write_all(b"Asset: deep\n").unwrap();
        w.finalize().unwrap();
        sink
    };
    desk.append(&gpg::pgp_mime_encrypted(&h(2), &nested));
    // And an ordinary report behind them.
    desk.append(&report(&desk.researcher(2), &desk.security, "ordinary", &format!("<o-{}@r.test>", desk.id), "hello"));

    let started = std::time::Instant::now();
    let out = desk.once_ok();
    assert!(out.contains("fetched 3: 3 new tickets"), "{out}");
    assert!(started.elapsed() < Duration::from_secs(60), "bounded work: {:?}", started.elapsed());
    let errors: Vec<String> =
        (1..=2).map(|i| desk.show(&ex(i))["messages"][0]["crypto_error"].as_str().unwrap().to_string()).collect();
    assert!(errors[0].contains("compression bomb"), "{errors:?}");
    assert!(errors[1].contains("nested more than"), "{errors:?}");
    // Each researcher is told why.
    let answers = desk.wait_inbox(&alice.address, 4, T);
    assert_eq!(answers.iter().filter(|m| String::from_utf8_lossy(m).contains("could not decrypt")).count(), 2);
    assert_eq!(desk.wait_inbox(&desk.researcher(2), 1, T).len(), 1);
}

#[test]
fn signatures_are_recorded_good_unknown_or_bad() {
    let ex1 = ex(1);
    let desk = desk("sigs", None, "");
    let alice = Gpg::new(&desk.researcher(1));
    let bob = Gpg::new(&format!("bob-{}@example.test", desk.id));
    let sec = desk.security.clone();
    let h = |n: u32, extra: &str| {
        format!(
            "From: {a}\r\nTo: {sec}\r\nSubject: Re: [{ex1}] note {n}\r\nMessage-ID: <s{n}-{id}@r.test>\r\n{extra}",
            a = alice.address,
            id = desk.id
        )
    };
    // First contact: a PGP/MIME signed (not encrypted) report, her key in an Autocrypt header.
    let entity = gpg::crlf(b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\nAsset: https://app.example.test/\r\nSeverity: low\r\n");
    let signed = gpg::pgp_mime_signed(
        &format!(
            "From: {a}\r\nTo: {sec}\r\nSubject: signed report\r\nMessage-ID: <s0-{id}@r.test>\r\n{ac}",
            a = alice.address,
            id = desk.id,
            ac = autocrypt(&alice)
        ),
        &entity,
        &alice.detach_sign(&entity),
    );
    desk.send(&alice.address, &signed);
    // A clear-signed note whose text was changed after signing.
    let tampered =
        String::from_utf8(alice.clearsign(b"Impact: small\n")).unwrap().replace("Impact: small", "Impact: total");
    desk.send(&alice.address, format!("{}\r\n{}", h(1, ""), tampered).as_bytes());
    // A note signed by a key we have never seen, claiming to be from her.
    let by_bob = String::from_utf8(bob.clearsign(b"Impact: none\n")).unwrap();
    desk.send(&alice.address, format!("{}\r\n{}", h(2, ""), by_bob).as_bytes());
    desk.once_ok();
    let show = desk.show(ex1.as_str());
    let sigs: Vec<(String, String)> = show["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["direction"] == "in")
        .map(|m| (m["signature"].as_str().unwrap().to_string(), m["signer"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(sigs.len(), 3, "{show}");
    assert_eq!(
        sigs[0],
        ("good".to_string(), alice.fingerprint.clone()),
        "the PGP/MIME signature verifies over the canonical entity"
    );
    assert_eq!(sigs[1].0, "bad", "{sigs:?}");
    assert_eq!(sigs[2].0, "unknown", "{sigs:?}");
    assert!(bob.fingerprint.ends_with(&sigs[2].1[sigs[2].1.len() - 16..]), "the issuer is named: {sigs:?}");
    assert!(timeline_events(&show).contains(&Event::OpenPgp));
}

#[test]
fn keys_come_from_attachments_and_pasted_blocks_and_then_everything_is_encrypted() {
    let desk = desk("keys", None, "");
    let alice = Gpg::new(&desk.researcher(1));
    let bob = Gpg::new(&desk.researcher(2));
    // Alice attaches her key.
    let key = String::from_utf8(alice.export()).unwrap().replace('\n', "\r\n");
    let with_attachment = format!(
        "From: {a}\r\nTo: {s}\r\nSubject: report with key\r\nMessage-ID: <k1-{id}@r.test>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"mix\"\r\n\r\n--mix\r\nContent-Type: text/plain\r\n\r\nHello, my key is attached.\r\n\
         --mix\r\nContent-Type: application/pgp-keys; name=\"alice.asc\"\r\nContent-Disposition: attachment; filename=\"alice.asc\"\r\n\r\n{key}\r\n--mix--\r\n",
        a = alice.address,
        s = desk.security,
        id = desk.id
    );
    desk.send(&alice.address, with_attachment.as_bytes());
    // Bob pastes his into the text.
    let pasted = format!(
        "From: {b}\r\nTo: {s}\r\nSubject: report with pasted key\r\nMessage-ID: <k2-{id}@r.test>\r\n\r\nHello, my key:\r\n\r\n{key}\r\n",
        b = bob.address,
        s = desk.security,
        id = desk.id,
        key = String::from_utf8(bob.export()).unwrap().replace('\n', "\r\n")
    );
    desk.send(&bob.address, pasted.as_bytes());
    desk.once_ok();
    for person in [&alice, &bob] {
        let ack = desk.wait_inbox(&person.address, 1, T).remove(0);
        assert!(
            header(&ack, "Content-Type").unwrap().starts_with("multipart/encrypted"),
            "encrypted from the first answer on"
        );
        let (plain, status) = person.decrypt(&gpg::encrypted_payload(&ack));
        assert!(status.contains("DECRYPTION_OKAY"), "{status}");
        let plain = String::from_utf8_lossy(&plain);
        assert!(plain.contains(&ex(1)[..11]) && plain.contains("Asset*:"), "{plain}");
        assert!(plain.contains("application/pgp-keys"), "our key travels inside the encryption");
    }
}

#[test]
fn a_key_request_gets_the_key_and_no_ticket() {
    let desk = desk("keyreq", None, "");
    let carol = Gpg::new(&desk.researcher(3));
    let ask = format!(
        "From: {c}\r\nTo: {s}\r\nSubject: PGP key?\r\nMessage-ID: <kr-{id}@r.test>\r\n\r\nHello, could you send me your PGP key before I report an issue?\r\n",
        c = carol.address,
        s = desk.security,
        id = desk.id
    );
    desk.send(&carol.address, ask.as_bytes());
    let out = desk.once_ok();
    assert!(out.contains("0 new tickets") && out.contains("1 answered"), "{out}");
    assert!(desk.tickets().is_empty());
    let answered = desk.mail("answered");
    assert_eq!(answered.len(), 1);
    let reply = desk.wait_inbox(&carol.address, 1, T).remove(0);
    assert_eq!(header(&reply, "Subject").unwrap(), "Re: PGP key?");
    carol.import(&attached_key(&reply));
    assert_eq!(carol.fingerprint_of(&desk.security), org_fingerprint(&desk));
}

#[test]
fn check_reports_the_key_and_staff_certificates_and_the_daemon_refuses_an_exposed_key() {
    let staff_ok = Gpg::new(&format!("staff-a-{}@example.test", common::unique("c")));
    let desk = desk("keycheck", Some(&staff_ok), "");
    // A second member whose key can sign but not receive encrypted mail.
    let sign_only = Gpg::with_usage(&format!("staff-b-{}@example.test", desk.id), "sign");
    let cert = sign_only.export_to(desk.dir.path());
    let policy = std::fs::read_to_string(&desk.config).unwrap();
    std::fs::write(
        &desk.config,
        format!("{policy}\n[[staff.members]]\naddress = \"{}\"\ncert = \"{}\"\n", sign_only.address, cert.display()),
    )
    .unwrap();
    let out = desk.vdpd(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success());
    assert!(
        text.contains(&format!("ok    staff {}: certificate {}", staff_ok.address, staff_ok.fingerprint)),
        "{text}"
    );
    assert!(
        text.contains(&format!("FAIL  staff {}", sign_only.address)) && text.contains("no key valid for encryption"),
        "{text}"
    );
    assert!(text.contains("ok    openpgp key: ") && text.contains("expires 20"), "{text}");
    std::fs::write(&desk.config, policy).unwrap();

    // A key close to its expiry is a warning.
    desk.vdpd_ok(&["key", "generate", "--validity", "10d", "--force"]);
    let text = desk.vdpd_ok(&["check"]);
    assert!(text.contains("WARN  openpgp key expiry"), "{text}");

    // A secret key readable by others is refused, by the daemon and by check.
    let key = desk.dir.path().join("openpgp/organisation.key");
    std::fs::set_permissions(&key, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
    let once = desk.vdpd(&["once"]);
    assert!(!once.status.success());
    assert!(String::from_utf8_lossy(&once.stderr).contains("readable by others"), "{}", common::show(&once));
    assert!(String::from_utf8_lossy(&desk.vdpd(&["check"]).stdout).contains("FAIL  openpgp key"));
}

#[test]
fn a_researchers_key_is_only_replaced_by_a_key_inside_content_signed_with_the_key_we_hold() {
    let desk = desk("tofu", None, "");
    let address = desk.researcher(1);
    let first = Gpg::new(&address);
    let second = Gpg::new(&address);
    let sec = desk.security.clone();
    let mail = |n: u32, extra: &str, body: &str| {
        format!(
            "From: {address}\r\nTo: {sec}\r\nSubject: Re: [{r}] n{n}\r\nMessage-ID: <t{n}-{id}@r.test>\r\n{extra}\r\n{body}\r\n",
            r = ex(1),
            id = desk.id
        )
    };
    // Trust on first use.
    desk.send(
        &address,
        mail(0, &autocrypt(&first), "first report").replace(&format!("Re: [{}] n0", ex(1)), "report").as_bytes(),
    );
    desk.once_ok();
    // Someone forging her address offers another key, unsigned: refused.
    desk.send(&address, mail(1, &autocrypt(&second), "use this key").as_bytes());
    desk.once_ok();
    let events = timeline_events(&desk.show(&ex(1)));
    assert!(events.contains(&Event::KeyChangeRefused), "{events:?}");
    // vdpd keeps encrypting to the first key: the next answer opens with it.
    desk.send(&address, mail(2, "", "Asset: x.example").as_bytes());
    desk.once_ok();
    let latest = desk.wait_inbox(&address, 2, T).pop().unwrap();
    let (_, status) = first.decrypt(&gpg::encrypted_payload(&latest));
    assert!(status.contains("DECRYPTION_OKAY"));
    // A mail signed with the old key, with the new key in an Autocrypt header: the header is outside what
    // the signature covers, so it does not count either.
    let signed = String::from_utf8(first.clearsign(b"my new key is in the Autocrypt header\n")).unwrap();
    desk.send(&address, mail(3, &autocrypt(&second), &signed.replace('\n', "\r\n")).as_bytes());
    desk.once_ok();
    let show = desk.show(&ex(1));
    let mut refused =
        show["timeline"].as_array().unwrap().iter().filter(|e| e["event"] == "researcher key change refused");
    assert!(refused.next_back().unwrap()["detail"].as_str().unwrap().contains("outside any signed content"), "{show}");
    // She rotates her key herself: the new key inside a mail signed with the old one is taken.
    let rotation = format!("My new key:\n\n{}", String::from_utf8(second.export()).unwrap());
    let signed = String::from_utf8(first.clearsign(rotation.as_bytes())).unwrap();
    desk.send(&address, mail(4, "", &signed.replace('\n', "\r\n")).as_bytes());
    desk.once_ok();
    let events = timeline_events(&desk.show(&ex(1)));
    assert!(events.contains(&Event::KeyReplaced), "{events:?}");
    desk.send(&address, mail(5, "", "Severity: low").as_bytes());
    desk.once_ok();
    let latest = desk.wait_inbox(&address, 3, T).pop().unwrap();
    let (_, status) = second.decrypt(&gpg::encrypted_payload(&latest));
    assert!(status.contains("DECRYPTION_OKAY"));
}

#[test]
fn a_researchers_signed_mail_resent_with_an_attackers_autocrypt_header_keeps_her_key() {
    let staff = Gpg::new(&format!("staff-{}@example.test", common::unique("h")));
    let desk = desk("hijack", Some(&staff), "");
    staff.import(&desk.vdpd(&["key", "export"]).stdout);
    let address = desk.researcher(1);
    let ada = Gpg::new(&address);
    // The attacker's key carries Ada's user ID.
    let mallory = Gpg::new(&address);
    let sec = desk.security.clone();
    let report = format!(
        "From: {address}\r\nTo: {sec}\r\nSubject: Stored XSS\r\nMessage-ID: <h0-{id}@r.test>\r\n{ac}\r\nAsset: https://app.example.test/\r\n",
        id = desk.id,
        ac = autocrypt(&ada)
    );
    desk.send(&address, report.as_bytes());
    desk.once_ok();
    // Ada's genuine signed follow-up, captured and re-sent by Mallory with his key in the header.
    let signed = String::from_utf8(ada.clearsign(b"Steps to reproduce: post a comment with <script>.\n")).unwrap();
    let replayed = format!(
        "From: {address}\r\nTo: {sec}\r\nSubject: Re: [{r}] Stored XSS\r\nMessage-ID: <h1-{id}@evil.test>\r\n{ac}\r\n{body}",
        r = ex(1),
        id = desk.id,
        ac = autocrypt(&mallory),
        body = signed.replace('\n', "\r\n")
    );
    desk.send(&address, replayed.as_bytes());
    desk.once_ok();
    // The next mail to Ada opens with her key, not Mallory's.
    let inbox = desk.wait_inbox(&address, 2, T);
    let latest = inbox.last().unwrap();
    assert!(mallory.run(&["--decrypt"], Some(&gpg::encrypted_payload(latest))).stdout.is_empty());
    let (_, status) = ada.decrypt(&gpg::encrypted_payload(latest));
    assert!(status.contains("DECRYPTION_OKAY"));
    // Staff are told in the notification: a new key was offered and not taken.
    let note = desk.wait_inbox(&staff.address, 2, T).pop().unwrap();
    let plain = gpg::open(&staff, &note);
    assert!(
        plain.contains(&format!("was offered a new key {}", mallory.fingerprint)) && plain.contains("NOT taken"),
        "{plain}"
    );
    assert!(plain.contains(&format!("#key accept {}", mallory.fingerprint)), "{plain}");
    // Every notification names the key held and how it came to be trusted.
    assert!(plain.contains(&format!("Their key:  {} (learned on first use", ada.fingerprint)), "{plain}");
    let held = common::count(
        &desk.store_path(),
        &format!(
            "SELECT count(*) FROM openpgp_certs WHERE address = '{address}' AND fingerprint = '{}'",
            ada.fingerprint
        ),
    );
    assert_eq!(held, 1);
}

#[test]
fn learning_keys_only_from_dmarc_passing_mail_refuses_a_forged_first_key() {
    let desk = desk("dmarc", None, "");
    // The authserv-id of our MX, named once for the whole policy, and keys learned only behind DMARC.
    let text = std::fs::read_to_string(&desk.config)
        .unwrap()
        .replace("ticket_prefix = \"EX\"\n", "ticket_prefix = \"EX\"\ntrusted_authserv_id = \"mx.example.test\"\n")
        .replace("[openpgp]\n", "[openpgp]\nlearn_keys = \"dmarc\"\n");
    std::fs::write(&desk.config, text).unwrap();
    let forged = desk.researcher(1);
    let genuine = desk.researcher(2);
    let mallory = Gpg::new(&forged);
    let ada = Gpg::new(&genuine);
    let mail = |from: &str, g: &Gpg, results: &str, n: u32| {
        format!(
            "{results}From: {from}\r\nTo: {}\r\nSubject: report {n}\r\nMessage-ID: <d{n}-{}@r.test>\r\n{}\r\nAsset: x\r\n",
            desk.security,
            desk.id,
            autocrypt(g)
        )
    };
    let domain = "example.test";
    // No DMARC pass from our MX (a pass claimed by someone else's server counts for nothing).
    desk.send(
        &forged,
        mail(&forged, &mallory, &format!("Authentication-Results: evil.test; dmarc=pass header.from={domain}\r\n"), 1)
            .as_bytes(),
    );
    desk.append(mail(&genuine, &ada, &format!("Authentication-Results: mx.example.test; dmarc=pass header.from={domain}; dkim=pass header.d={domain}\r\n"), 2).as_bytes());
    desk.once_ok();
    let held = |a: &str| {
        common::count(&desk.store_path(), &format!("SELECT count(*) FROM openpgp_certs WHERE address = '{a}'"))
    };
    let offered = |a: &str| {
        common::count(&desk.store_path(), &format!("SELECT count(*) FROM openpgp_offers WHERE address = '{a}'"))
    };
    assert_eq!((held(&forged), offered(&forged)), (0, 1), "not learned, kept as an offer staff may accept");
    assert_eq!((held(&genuine), offered(&genuine)), (1, 0));
    let ack = desk.wait_inbox(&forged, 1, T).remove(0);
    assert!(
        !header(&ack, "Content-Type").unwrap().starts_with("multipart/encrypted"),
        "nothing encrypted to a planted key"
    );
}

#[test]
fn report_detail_is_not_repeated_in_clear_text_to_a_researcher_without_a_key() {
    let ex1 = ex(1);
    let desk = desk("detail", None, "");
    let dave = desk.researcher(4);
    desk.send(&dave, &report(&dave, &desk.security, "SSRF", &format!("<d0-{}@r.test>", desk.id), "first"));
    desk.once_ok();
    let partial = format!(
        "From: {dave}\r\nTo: {}\r\nSubject: Re: [{ex1}] SSRF\r\nMessage-ID: <d1-{}@r.test>\r\n\r\nAsset: https://internal.example.test/secret-path\r\nSeverity: high\r\n",
        desk.security, desk.id
    );
    desk.send(&dave, partial.as_bytes());
    desk.once_ok();
    let reply = desk.wait_inbox(&dave, 2, T).pop().unwrap();
    let text = parse(&reply).body_text(0).unwrap().to_string();
    assert!(text.contains("We still need:") && text.contains("Description"), "{text}");
    assert!(!text.contains("secret-path") && !text.contains("What we have so far"), "no detail in clear text:\n{text}");
}

#[test]
fn the_form_can_follow_the_acknowledgement_as_a_second_mail() {
    let ex1 = ex(1);
    let desk = Desk::with("separate", Options::default());
    desk.write_policy(&Options {
        extra: "\n[openpgp]\n\n[report_form]\ndelivery = \"separate\"\n".into(),
        ..Options::default()
    });
    desk.vdpd_ok(&["key", "generate"]);
    let erin = desk.researcher(5);
    desk.send(&erin, &report(&erin, &desk.security, "CSRF", &format!("<e0-{}@r.test>", desk.id), "details later"));
    desk.once_ok();
    let inbox = desk.wait_inbox(&erin, 2, T);
    let bodies: Vec<String> = inbox.iter().map(|m| parse(m).body_text(0).unwrap().to_string()).collect();
    let ack = bodies.iter().find(|b| b.contains(format!("opened ticket {ex1}").as_str())).expect("the acknowledgement");
    assert!(!ack.contains("Asset*:"), "the acknowledgement alone:\n{ack}");
    let form = bodies.iter().find(|b| b.contains("Asset*:")).expect("the form, separately");
    assert!(form.contains("Steps to reproduce*:"));
    assert!(inbox.iter().any(|m| String::from_utf8_lossy(m).contains("application/pgp-keys")));
}

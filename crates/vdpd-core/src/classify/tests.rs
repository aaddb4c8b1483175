use super::*;

fn org() -> Organisation {
    Organisation {
        name: "Example".into(),
        security_address: "security@example.test".into(),
        domain: "example.test".into(),
        ticket_prefix: "EX".into(),
        policy_url: None,
        trusted_authserv_id: None,
    }
}

fn keyring() -> Keyring<'static> {
    Keyring {
        org: None,
        certs: &[],
        held_addresses: &[],
        limits: crate::openpgp::read::Limits { max_plaintext: 10 << 20, max_ratio: 100 },
        now: crate::testing::now(),
    }
}

fn read_str(raw: &str) -> Read {
    read(raw.as_bytes(), raw.len(), false, &Limits::default(), &org(), &keyring())
}

fn inbound(raw: &str) -> Inbound {
    match read_str(raw).verdict {
        Ok(i) => i,
        Err(e) => panic!("quarantined: {e}"),
    }
}

const REPORT: &str = "From: Alice Researcher <Alice@Research.test>\r\n\
To: security@example.test\r\n\
Subject: XSS in login form\r\n\
Message-ID: <r1@research.test>\r\n\
Date: Mon, 23 Nov 2026 10:00:00 +0000\r\n\
\r\n\
Hello, I found a reflected XSS.\r\n";

#[test]
fn a_plain_report() {
    let i = inbound(REPORT);
    assert_eq!(i.sender, "alice@research.test");
    assert_eq!(i.sender_name, "Alice Researcher");
    assert_eq!(i.subject, "XSS in login form");
    assert_eq!(i.message_id.as_deref(), Some("<r1@research.test>"));
    assert_eq!(i.automatic, None);
    assert!(i.body.text.contains("reflected XSS"), "{}", i.body.text);
    assert_eq!(i.dedup_key, "mid:<r1@research.test>:alice@research.test");
}

#[test]
fn lf_only_line_endings_read_the_same() {
    let lf = REPORT.replace("\r\n", "\n");
    let a = inbound(REPORT);
    let b = inbound(&lf);
    assert_eq!((a.sender, a.subject, a.message_id), (b.sender, b.subject, b.message_id));
}

#[test]
fn threading_headers_and_subject_tags() {
    let raw = "From: a@research.test\n\
Subject: Re: [EX-2026-0007] XSS [ex-2026-0009]\n\
In-Reply-To: <ack1@example.test>\n\
References: <r1@research.test> <ack1@example.test> <bad id>\n\
\n\
more\n";
    let i = inbound(raw);
    assert_eq!(i.thread_ids, vec!["<ack1@example.test>", "<r1@research.test>"]);
    assert_eq!(i.subject_refs, vec!["EX-2026-0007", "EX-2026-0009"]);
}

#[test]
fn encoded_crlf_in_subject_is_neutralised() {
    let raw = "From: a@research.test\nSubject: =?utf-8?q?hello=0D=0ABcc=3A_victim=40example=2Ecom?=\n\nx\n";
    let i = inbound(raw);
    assert!(!i.subject.contains(['\r', '\n']), "{:?}", i.subject);
    assert_eq!(i.subject, "hello Bcc: victim@example.com");
}

#[test]
fn html_only_mail_gives_text() {
    let raw =
        "From: a@research.test\nSubject: html\nContent-Type: text/html; charset=utf-8\n\n<p>Steps: <b>click</b></p>\n";
    assert!(inbound(raw).body.text.contains("Steps: click"));
}

#[test]
fn machine_mail_is_recognised() {
    let cases = [
        ("Auto-Submitted: auto-replied\n", "auto-submitted: auto-replied"),
        ("Auto-Submitted: auto-generated (vacation)\n", "auto-submitted: auto-generated"),
        ("Precedence: bulk\n", "precedence: bulk"),
        ("Precedence: junk\n", "precedence: junk"),
        ("Precedence: list\n", "precedence: list"),
        ("List-Id: <announce.lists.example.org>\n", "mailing list"),
        ("Return-Path: <>\n", "bounce: null return path"),
        ("Return-Path: <MAILER-DAEMON@mx.example.org>\n", "bounce: return path is MAILER-DAEMON"),
        ("X-Autoreply: yes\n", "auto-reply (X-Autoreply header)"),
    ];
    for (header, want) in cases {
        let raw = format!("{header}From: a@research.test\nSubject: Out of office\n\nI am away.\n");
        let got = inbound(&raw).automatic.unwrap_or_default();
        assert!(got.starts_with(want), "{header:?}: got {got:?}");
    }
    let human = "Auto-Submitted: no\nFrom: a@research.test\nSubject: hi\n\nx\n";
    assert_eq!(inbound(human).automatic, None);
}

#[test]
fn delivery_reports_and_our_own_mail_are_machine_mail() {
    let dsn = "From: MAILER-DAEMON@mx.example.org\n\
Subject: Undelivered Mail Returned to Sender\n\
Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\n\
\n\
--b\nContent-Type: text/plain\n\nfailed\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; mx\n--b--\n";
    let why = inbound(dsn).automatic.unwrap();
    assert!(why.starts_with("bounce: sent by MAILER-DAEMON"), "{why}");
    let mdn = dsn
        .replace("MAILER-DAEMON@mx.example.org", "bob@research.test")
        .replace("delivery-status", "disposition-notification");
    let why = inbound(&mdn).automatic.unwrap();
    assert!(why.contains("multipart/report; report-type=disposition-notification"), "{why}");
    let own = "From: Security <SECURITY@example.test>\nSubject: [EX-2026-0001] Re: x\n\nloop\n";
    assert_eq!(inbound(own).automatic.as_deref(), Some("loop: mail from our own address"));
}

#[test]
fn unusable_mail_is_quarantined_with_a_reason() {
    let no_from = read_str("Subject: who am I\n\nbody\n");
    assert!(no_from.verdict.unwrap_err().contains("no usable From"));
    let bad_from = read_str("From: \"x\" <not an address>\nSubject: s\n\nbody\n");
    assert!(bad_from.verdict.is_err());
    let garbage = read(b"\x00\x01\x02", 3, false, &Limits::default(), &org(), &keyring());
    assert!(garbage.verdict.is_err());
}

#[test]
fn oversized_mail_is_quarantined_keeping_its_header() {
    let r = read(REPORT.as_bytes(), 50 * 1024 * 1024, true, &Limits::default(), &org(), &keyring());
    assert!(r.verdict.unwrap_err().contains("over limits.max_message_bytes"));
    assert_eq!(r.summary.subject, "XSS in login form");
    assert_eq!(r.summary.from, "Alice@Research.test");
}

fn nested_multipart(depth: usize) -> String {
    let mut s = String::from("From: a@research.test\nSubject: deep\nMIME-Version: 1.0\n");
    for i in 0..depth {
        s.push_str(&format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\n\n--b{i}\n"));
    }
    s.push_str("Content-Type: text/plain\n\ncore\n");
    for i in (0..depth).rev() {
        s.push_str(&format!("--b{i}--\n"));
    }
    s
}

#[test]
fn deep_nesting_is_refused_not_crashed() {
    let r = read_str(&nested_multipart(1000));
    let why = r.verdict.unwrap_err();
    assert!(why.contains("over limits.max_mime_depth"), "{why}");
    // A reasonable depth is fine.
    assert!(read_str(&nested_multipart(5)).verdict.is_ok());
}

#[test]
fn too_many_parts_is_refused() {
    let mut s = String::from("From: a@research.test\nSubject: many\nContent-Type: multipart/mixed; boundary=\"b\"\n\n");
    for i in 0..600 {
        s.push_str(&format!("--b\nContent-Type: text/plain\n\npart {i}\n"));
    }
    s.push_str("--b--\n");
    let why = read_str(&s).verdict.unwrap_err();
    assert!(why.contains("over limits.max_mime_parts"), "{why}");
}

#[test]
fn nul_bytes_and_bad_charsets_do_not_break_reading() {
    let raw = b"From: a@research.test\nSubject: =?x-unknown-charset?b?AAAA?=\nContent-Type: text/plain; charset=\"bogus-8\"\n\nnul\x00byte \xff\xfe invalid utf8\n";
    let r = read(raw, raw.len(), false, &Limits::default(), &org(), &keyring());
    let i = r.verdict.unwrap();
    assert!(!i.body.text.contains('\0'));
    assert!(i.body.text.contains("byte"));
}

#[test]
fn missing_message_id_dedups_by_content_not_by_trace_headers() {
    let a = "Received: from a by b; Mon, 23 Nov 2026 10:00:00 +0000\nFrom: a@research.test\nSubject: s\n\nbody\n";
    let b = "Received: from c by d; Mon, 23 Nov 2026 10:05:00 +0000\nReturn-Path: <a@research.test>\nFrom: a@research.test\nSubject: s\n\nbody\n";
    let c = "From: a@research.test\nSubject: s\n\nother body\n";
    assert_eq!(inbound(a).dedup_key, inbound(b).dedup_key);
    assert_ne!(inbound(a).dedup_key, inbound(c).dedup_key);
    assert!(inbound(a).dedup_key.starts_with("sha256:"));
}

#[test]
fn same_message_id_from_another_sender_is_not_a_duplicate() {
    let forged = REPORT.replace("Alice@Research.test", "mallory@evil.test");
    assert_ne!(inbound(REPORT).dedup_key, inbound(&forged).dedup_key);
}

#[test]
fn huge_references_are_bounded() {
    let refs: Vec<String> = (0..5000).map(|i| format!("<id{i}@x.test>")).collect();
    let raw = format!("From: a@research.test\nSubject: s\nReferences: {}\n\nx\n", refs.join(" "));
    assert_eq!(inbound(&raw).thread_ids.len(), MAX_THREAD_IDS);
}

// What a mail proves: exactly what its signature covers.

mod signed_content {
    use std::io::Write;
    use std::time::SystemTime;

    use sequoia_openpgp as openpgp;

    use openpgp::serialize::stream::{Armorer, Message, Signer};

    use super::*;
    use crate::openpgp::keys::OrgKey;
    use crate::openpgp::read::Signature;

    fn now() -> SystemTime {
        crate::testing::now()
    }

    fn person(address: &str) -> OrgKey {
        OrgKey::generate(&format!("Person <{address}>"), None, now()).unwrap()
    }

    fn clearsign(key: &OrgKey, text: &str) -> String {
        String::from_utf8(crate::openpgp::write::clearsign(text.as_bytes(), key, now()).unwrap()).unwrap()
    }

    fn detached(key: &OrgKey, data: &[u8]) -> String {
        let mut sig = Vec::new();
        {
            let m = Message::new(&mut sig);
            let m = Armorer::new(m).kind(openpgp::armor::Kind::Signature).build().unwrap();
            let mut s =
                Signer::new(m, key.signer(now()).unwrap()).unwrap().detached().creation_time(now()).build().unwrap();
            s.write_all(data).unwrap();
            s.finalize().unwrap();
        }
        String::from_utf8(sig).unwrap()
    }

    fn read_with(raw: &str, certs: &[crate::openpgp::Cert], held: &[String]) -> Inbound {
        let keyring = Keyring {
            org: None,
            certs,
            held_addresses: held,
            limits: crate::openpgp::read::Limits { max_plaintext: 10 << 20, max_ratio: 100 },
            now: now(),
        };
        match read(raw.as_bytes(), raw.len(), false, &Limits::default(), &org(), &keyring).verdict {
            Ok(i) => i,
            Err(e) => panic!("quarantined: {e}"),
        }
    }

    fn good_by(i: &Inbound, key: &OrgKey) -> bool {
        matches!(&i.body.signature, Signature::Good { cert, .. } if *cert == key.fingerprint())
    }

    const HEAD: &str = "From: alice@example.test\r\nTo: security@example.test\r\nSubject: Re: [EX-2026-0001] x\r\n";

    #[test]
    fn text_beside_a_clear_signed_block_is_outside_the_body() {
        let alice = person("alice@example.test");
        let block = clearsign(&alice, "A mailing-list post from last year.\n");
        let raw = format!("{HEAD}\r\n#state closed\r\nClose it.\r\n\r\n{block}\r\nAnd a footer.\r\n");
        let i = read_with(&raw, std::slice::from_ref(alice.public()), &["alice@example.test".into()]);
        assert!(good_by(&i, &alice), "{:?}", i.body.signature);
        assert_eq!(i.body.text.trim(), "A mailing-list post from last year.");
        assert_eq!(i.body.protection, Protection::SignedInline);
        assert!(
            i.outside.text.contains("#state closed") && i.outside.text.contains("And a footer."),
            "{:?}",
            i.outside.text
        );
        assert!(!i.body.text.contains("#state"));
    }

    #[test]
    fn two_signed_blocks_give_no_authority() {
        let alice = person("alice@example.test");
        let raw = format!(
            "{HEAD}\r\n{}\r\n{}\r\n",
            clearsign(&alice, "#state accepted\n"),
            clearsign(&alice, "#state closed\n")
        );
        let i = read_with(&raw, std::slice::from_ref(alice.public()), &["alice@example.test".into()]);
        assert_eq!(i.body.signature, Signature::None);
        assert!(i.crypto.note.as_deref().unwrap().contains("2 signed or encrypted parts"));
        // Still readable for staff.
        assert!(i.body.text.contains("#state accepted") && i.body.text.contains("#state closed"));
    }

    fn signed_entity(alice: &OrgKey, text: &str) -> (String, String) {
        let entity = format!("Content-Type: text/plain; charset=utf-8\r\n\r\n{text}");
        let sig = detached(alice, entity.as_bytes());
        (entity, sig)
    }

    #[test]
    fn a_footer_an_mta_wraps_around_a_pgp_mime_signed_mail_is_outside_the_body() {
        let alice = person("alice@example.test");
        let (entity, sig) = signed_entity(&alice, "#state accepted\r\nThanks.\r\n");
        let raw = format!(
            "{HEAD}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n\
             Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"sig\"\r\n\r\n\
             --sig\r\n{entity}\r\n--sig\r\nContent-Type: application/pgp-signature\r\n\r\n{sig}\r\n--sig--\r\n\
             --outer\r\nContent-Type: text/plain\r\n\r\n#state closed\r\nThis mail is confidential.\r\n--outer--\r\n"
        );
        let i = read_with(&raw, std::slice::from_ref(alice.public()), &["alice@example.test".into()]);
        assert!(good_by(&i, &alice), "{:?}", i.body.signature);
        assert_eq!(i.body.protection, Protection::SignedMime);
        assert!(i.body.text.contains("#state accepted") && !i.body.text.contains("#state closed"), "{}", i.body.text);
        assert!(i.outside.text.contains("#state closed") && i.outside.text.contains("confidential"));
    }

    #[test]
    fn a_signed_attachment_does_not_sign_the_mail() {
        let alice = person("alice@example.test");
        let (entity, sig) = signed_entity(&alice, "#state accepted\r\n");
        let forwarded = format!(
            "From: alice@example.test\r\nSubject: old\r\nMIME-Version: 1.0\r\nContent-Type: multipart/signed; \
             protocol=\"application/pgp-signature\"; boundary=\"sig\"\r\n\r\n--sig\r\n{entity}\r\n--sig\r\n\
             Content-Type: application/pgp-signature\r\n\r\n{sig}\r\n--sig--\r\n"
        );
        let raw = format!(
            "{HEAD}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n\
             Content-Type: text/plain\r\n\r\n#state closed\r\n--outer\r\nContent-Type: message/rfc822\r\n\
             Content-Disposition: attachment; filename=\"signed.eml\"\r\n\r\n{forwarded}\r\n--outer--\r\n"
        );
        let i = read_with(&raw, std::slice::from_ref(alice.public()), &["alice@example.test".into()]);
        assert_eq!(i.body.signature, Signature::None);
        assert_eq!(i.body.protection, Protection::None);
        // A detached signature for an attached file is no signature of the mail either.
        let file = "print('poc')\n";
        let raw = format!(
            "{HEAD}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n\
             Content-Type: text/plain\r\n\r\n#state closed\r\n--outer\r\nContent-Type: text/x-python\r\n\
             Content-Disposition: attachment; filename=\"poc.py\"\r\n\r\n{file}--outer\r\n\
             Content-Type: application/pgp-signature\r\nContent-Disposition: attachment; filename=\"poc.py.sig\"\r\n\r\n{}\r\n--outer--\r\n",
            detached(&alice, file.as_bytes())
        );
        assert_eq!(read_with(&raw, std::slice::from_ref(alice.public()), &[]).body.signature, Signature::None);
    }

    #[test]
    fn protected_headers_name_the_ticket_and_give_the_subject() {
        let alice = person("alice@example.test");
        let entity = "Content-Type: text/plain; charset=utf-8; protected-headers=\"v1\"\r\nSubject: Re: [EX-2026-0003] the real one\r\n\r\n#state accepted\r\nSee also [EX-2026-0009].\r\n#duplicate [EX-2026-0004]\r\n";
        let sig = detached(&alice, entity.as_bytes());
        let raw = format!(
            "From: alice@example.test\r\nSubject: Re: [EX-2026-0001] ...\r\nMIME-Version: 1.0\r\nContent-Type: multipart/signed; \
             protocol=\"application/pgp-signature\"; boundary=\"sig\"\r\n\r\n--sig\r\n{entity}\r\n--sig\r\n\
             Content-Type: application/pgp-signature\r\n\r\n{sig}\r\n--sig--\r\n"
        );
        let i = read_with(&raw, std::slice::from_ref(alice.public()), &[]);
        assert!(good_by(&i, &alice));
        assert_eq!(i.subject, "Re: [EX-2026-0003] the real one");
        assert_eq!(i.body_names, ["EX-2026-0003", "EX-2026-0009"], "command lines name other tickets on purpose");
        // Routing still sees both tags.
        assert_eq!(i.subject_refs, ["EX-2026-0001", "EX-2026-0003"]);
    }

    fn revoked(key: &OrgKey) -> crate::openpgp::Cert {
        let mut primary = key.cert().primary_key().key().clone().parts_into_secret().unwrap().into_keypair().unwrap();
        let rev = openpgp::cert::CertRevocationBuilder::new()
            .set_reason_for_revocation(openpgp::types::ReasonForRevocation::KeyCompromised, b"stolen")
            .unwrap()
            .build(&mut primary, key.public(), None)
            .unwrap();
        key.public().clone().insert_packets(rev).unwrap().0
    }

    #[test]
    fn a_key_sent_along_never_verifies_against_an_identity_vdpd_holds() {
        let alice = person("alice@example.test");
        let held = revoked(&alice);
        let armoured = String::from_utf8(crate::openpgp::armored(alice.public())).unwrap();
        let block = clearsign(&alice, "#state accepted\n");
        let raw = format!(
            "{HEAD}MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n\
             Content-Type: text/plain\r\n\r\n{block}\r\n--outer\r\nContent-Type: application/pgp-keys\r\n\
             Content-Disposition: attachment; filename=\"alice.asc\"\r\n\r\n{armoured}\r\n--outer--\r\n"
        );
        // Held: the revoked certificate. The unrevoked copy attached to the mail must not outvote it.
        let i = read_with(&raw, std::slice::from_ref(&held), &["alice@example.test".into()]);
        assert!(!matches!(i.body.signature, Signature::Good { .. }), "{:?}", i.body.signature);
        // With nothing held for the address, a key sent along may verify (and is offered on first use).
        let stranger = read_with(&raw, &[], &[]);
        assert!(good_by(&stranger, &alice));
    }

    #[test]
    fn the_outer_autocrypt_header_is_outside_the_body_and_only_for_its_own_address() {
        let alice = person("alice@example.test");
        let mallory = person("mallory@evil.test");
        let header = |addr: &str, key: &OrgKey| {
            format!("Autocrypt: {}\r\n", crate::openpgp::autocrypt::header(addr, key.public()))
        };
        let raw = format!(
            "{HEAD}{}{}\r\n{}\r\n",
            header("alice@example.test", &alice),
            header("mallory@evil.test", &mallory),
            clearsign(&alice, "hello\n")
        );
        let i = read_with(&raw, &[], &[]);
        let fprs: Vec<String> = i.outside.keys.iter().map(|k| k.cert.fingerprint().to_hex()).collect();
        assert_eq!(fprs, [alice.fingerprint()], "an Autocrypt header for another address is ignored");
        assert!(i.body.keys.is_empty());
    }

    #[test]
    fn offered_certificates_lose_third_party_certifications_and_secrets() {
        let alice = person("alice@example.test");
        let notary = person("notary@example.test");
        let mut signer = notary.cert().primary_key().key().clone().parts_into_secret().unwrap().into_keypair().unwrap();
        let uid = alice.public().userids().next().unwrap();
        let certification = uid
            .userid()
            .certify(&mut signer, alice.public(), openpgp::types::SignatureType::GenericCertification, None, None)
            .unwrap();
        let certified = alice.cert().clone().insert_packets(certification).unwrap().0;
        assert_eq!(certified.userids().next().unwrap().certifications().count(), 1);
        let clean = crate::openpgp::sanitise_offered(certified).unwrap();
        assert_eq!(clean.userids().next().unwrap().certifications().count(), 0);
        assert!(!clean.is_tsk(), "no secret key material is kept");
        assert_eq!(clean.fingerprint(), alice.public().fingerprint());
        assert!(crate::openpgp::cert_info(&clean, now()).problem.is_none());
    }

    #[test]
    fn boundaries_longer_than_rfc_2046_allows_and_huge_headers_are_refused_before_parsing() {
        let long = "b".repeat(71);
        let raw = format!(
            "{HEAD}MIME-Version: 1.0\r\nContent-Type: multipart/mixed;\r\n boundary=\"{long}\"\r\n\r\n--{long}\r\n\r\nx\r\n--{long}--\r\n"
        );
        let r = read_str(&raw);
        assert!(r.verdict.unwrap_err().contains("MIME boundary of 71 characters"));
        assert_eq!(r.summary.from, "alice@example.test", "the quarantine stays searchable");
        // RFC 2231 sections count together; 70 is fine.
        let split = format!(
            "{HEAD}Content-Type: multipart/mixed; boundary*0=\"{}\"; boundary*1=\"{}\"\r\n\r\nx\r\n",
            "a".repeat(40),
            "b".repeat(40)
        );
        assert!(read_str(&split).verdict.unwrap_err().contains("80 characters"));
        let ok = "c".repeat(70);
        let fine = format!("{HEAD}Content-Type: multipart/mixed; boundary={ok}\r\n\r\n--{ok}\r\n\r\nx\r\n--{ok}--\r\n");
        assert!(read_str(&fine).verdict.is_ok());
        // A nested part's header counts too.
        let nested = format!(
            "{HEAD}Content-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\nContent-Type: multipart/alternative; boundary=\"{long}\"\r\n\r\n--{long}--\r\n--o--\r\n"
        );
        assert!(read_str(&nested).verdict.is_err());
        // A header block over limits.max_header_bytes.
        let huge = format!("{HEAD}X-Junk: {}\r\n\r\nbody\r\n", "j".repeat(300 * 1024));
        assert!(read_str(&huge).verdict.unwrap_err().contains("limits.max_header_bytes"));
    }

    #[test]
    fn an_undecryptable_mail_keeps_its_error_and_no_ciphertext_as_a_file() {
        let raw = format!(
            "{HEAD}MIME-Version: 1.0\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"e\"\r\n\r\n\
             --e\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--e\r\n\
             Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\nContent-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n\
             -----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA1234\r\n-----END PGP MESSAGE-----\r\n--e--\r\n"
        );
        let i = read_with(&raw, &[], &[]);
        assert!(i.crypto.encrypted && !i.crypto.decrypted);
        assert!(i.crypto.error.is_some());
        assert_eq!(i.all_attachments().count(), 0, "the ciphertext is not a researcher's file");
    }
}

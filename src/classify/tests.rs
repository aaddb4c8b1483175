use super::*;

fn org() -> Organisation {
    Organisation {
        name: "Example".into(),
        security_address: "security@example.test".into(),
        domain: "example.test".into(),
        ticket_prefix: "EX".into(),
        policy_url: None,
    }
}

fn keyring() -> Keyring<'static> {
    Keyring {
        org: None,
        certs: &[],
        limits: crate::openpgp::read::Limits { max_plaintext: 10 << 20, max_ratio: 100 },
        now: std::time::SystemTime::now(),
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
    assert!(i.text.contains("reflected XSS"), "{}", i.text);
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
    assert!(inbound(raw).text.contains("Steps: click"));
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
    assert!(!i.text.contains('\0'));
    assert!(i.text.contains("byte"));
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

//! The hostile-mail corpus: every file under tests/hostile/ with its expected outcome in
//! tests/hostile/expected.toml (MIME bombs, encoding tricks, header injection, forged staff mail, two
//! auto-responders answering each other, a mail storm from one sender).
//!
//! Each file is fed to `vdpd ingest` exactly as it would be fetched (placeholders `{{SECURITY}}`,
//! `{{RESEARCHER}}`, `{{STAFF}}`, `{{ID}}` and `{{N}}` are filled in first). The outcome is what vdpd
//! recorded for it: ticket, correspondence, dropped, quarantined … and the reason, which must name the cause.
//! Whatever happens, no mail vdpd writes may carry a header smuggled in by the input.

mod common;

use std::path::{Path, PathBuf};

use common::{Desk, Options};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Expected {
    mail: Vec<Single>,
    sequence: Vec<Sequence>,
}

/// One message, one outcome.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Single {
    file: String,
    what: String,
    /// The status vdpd records: ticket, correspondence, dropped, duplicate, answered, quarantined.
    outcome: String,
    /// A part of the recorded reason (for dropped and quarantined mail).
    #[serde(default)]
    reason: Option<String>,
    /// Every mail queued because of it, to anyone but staff (the acknowledgement, a form request, an
    /// answer to a forged sender …); default: any.
    #[serde(default)]
    replies: Option<i64>,
    /// Warnings to staff it caused (forged staff mail).
    #[serde(default)]
    staff_warnings: Option<i64>,
    /// `(Message-ID prefix, part of the OpenPGP error recorded on that message)`.
    #[serde(default)]
    crypto_error: Option<(String, String)>,
    /// `(Message-ID prefix, the signature verdict recorded: none, good, unknown or bad)`.
    #[serde(default)]
    signature: Option<(String, String)>,
    /// `(Message-ID prefix, text)`: what must be in the recorded signed content (what the mail vouches for)…
    #[serde(default)]
    signed_text: Option<(String, String)>,
    /// …what must not be in it…
    #[serde(default)]
    signed_text_lacks: Option<(String, String)>,
    /// …and what must be in the text recorded as outside the signature.
    #[serde(default)]
    unsigned_text: Option<(String, String)>,
}

/// The same file several times from one sender (`{{N}}` counts), after an optional first message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Sequence {
    what: String,
    #[serde(default)]
    first: Option<String>,
    file: String,
    times: usize,
    /// How many of the repeated messages end in each status.
    outcomes: std::collections::BTreeMap<String, usize>,
    #[serde(default)]
    reason: Option<String>,
    /// At most this many mails queued because of the sequence, to anyone but staff.
    max_replies: i64,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hostile")
}

struct Bench {
    desk: Desk,
    staff: String,
}

impl Bench {
    fn new(name: &str) -> Bench {
        let desk = Desk::new(name);
        let staff = format!("staff-{}@example.test", desk.id);
        // Staff authenticated by DKIM results from our own MX: a forged From, or results from anyone
        // else, must run nothing.
        desk.write_policy(&Options {
            extra: format!(
                "\n[openpgp]\n\n[staff]\nauthentication = \"dkim\"\ntrusted_authserv_id = \"mx.example.test\"\n\
                 [[staff.members]]\naddress = \"{staff}\"\n"
            ),
            ..Options::default()
        });
        desk.vdpd_ok(&["key", "generate"]);
        Bench { desk, staff }
    }

    /// The file with its placeholders filled in.
    fn render(&self, file: &str, researcher: &str, n: usize) -> Vec<u8> {
        let raw = std::fs::read(corpus().join(file)).unwrap_or_else(|e| panic!("{file}: {e}"));
        let mut out = raw;
        for (key, value) in [
            ("{{SECURITY}}", self.desk.security.as_str()),
            ("{{RESEARCHER}}", researcher),
            ("{{STAFF}}", self.staff.as_str()),
            ("{{ID}}", self.desk.id.as_str()),
            ("{{N}}", &n.to_string()),
        ] {
            out = replace(&out, key.as_bytes(), value.as_bytes());
        }
        out
    }

    /// Feeds one message to `vdpd ingest`; returns what it recorded ("status" or "status: reason" or
    /// "status REF").
    fn ingest(&self, raw: &[u8]) -> String {
        let path = self.desk.dir.path().join(format!("in-{}.eml", common::unique("m")));
        std::fs::write(&path, raw).unwrap();
        let out = self.desk.vdpd(&["ingest", "--no-deliver", "--now", "2026-11-23T10:00:00Z", path.to_str().unwrap()]);
        assert!(out.status.success(), "vdpd ingest failed (a crash on hostile input?): {}", common::show(&out));
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let prefix = format!("{}: ", path.display());
        stdout
            .lines()
            .find_map(|l| l.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no outcome in {stdout}"))
            .to_string()
    }

    /// A number from the store; 0 before the first message has created it. A query that fails panics:
    /// a broken count must never pass for "nothing happened".
    fn count(&self, sql: &str, param: &str) -> i64 {
        if !self.desk.store_path().exists() {
            return 0;
        }
        let conn =
            rusqlite::Connection::open_with_flags(self.desk.store_path(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap_or_else(|e| panic!("the store cannot be opened: {e}"));
        conn.query_row(sql, [param], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
    }

    /// The newest outbox row so far (what a message causes is every row after it).
    fn last_outbox_row(&self) -> i64 {
        self.count("SELECT coalesce(max(id), 0) FROM outbox WHERE ?1 = ?1", "")
    }

    fn kinds_to(&self, address: &str) -> Vec<String> {
        let conn = rusqlite::Connection::open(self.desk.store_path()).unwrap();
        let mut stmt = conn.prepare("SELECT kind FROM outbox WHERE recipient = ?1 ORDER BY id").unwrap();
        stmt.query_map([address], |r| r.get(0)).unwrap().map(Result::unwrap).collect()
    }

    /// Mail queued after outbox row `after`, to anyone but staff: whatever a message (forged staff mail, a
    /// bounce, mail from our own address, a flood of strangers) made vdpd send.
    fn replies_since(&self, after: i64) -> i64 {
        if !self.desk.store_path().exists() {
            return 0;
        }
        let conn = rusqlite::Connection::open(self.desk.store_path()).unwrap();
        conn.query_row(
            "SELECT count(*) FROM outbox WHERE id > ?1 AND recipient <> ?2",
            rusqlite::params![after, self.staff],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("counting the outbox: {e}"))
    }

    /// Warnings recorded for staff (each also mailed to them, within the policy's daily cap).
    fn staff_warnings(&self) -> i64 {
        self.count("SELECT count(*) FROM staff_warnings WHERE kind <> ?1", "")
    }

    /// The OpenPGP error recorded on the message with this Message-ID prefix.
    fn crypto_error(&self, message_id: &str) -> String {
        self.message_column(message_id, "crypto_error")
    }

    /// A column of the incoming message recorded with this Message-ID prefix (panics if there is none).
    fn message_column(&self, message_id: &str, column: &str) -> String {
        let conn = rusqlite::Connection::open(self.desk.store_path()).unwrap();
        conn.query_row(
            &format!("SELECT {column} FROM messages WHERE direction = 'in' AND message_id LIKE ?1"),
            [format!("<{message_id}%")],
            |r| r.get(0),
        )
        .unwrap_or_else(|e| panic!("no message <{message_id}…>: {e}"))
    }

    /// No mail vdpd queued carries a header that the corpus tried to smuggle in.
    fn assert_no_injected_headers(&self) {
        let conn = rusqlite::Connection::open(self.desk.store_path()).unwrap();
        let mut stmt = conn
            .prepare(
                "SELECT o.id, o.kind, coalesce(b.raw, x'') FROM outbox o LEFT JOIN outbox_body b ON b.id = o.body_id",
            )
            .unwrap();
        let rows: Vec<(i64, String, Vec<u8>)> =
            stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect();
        assert!(!rows.is_empty());
        for (id, kind, raw) in rows {
            let text = String::from_utf8_lossy(&raw);
            let head = text.split("\r\n\r\n").next().unwrap_or("");
            for line in head.split("\r\n") {
                let l = line.to_ascii_lowercase();
                assert!(!l.starts_with("bcc:"), "outbox {id} ({kind}) carries an injected Bcc: {head}");
                assert!(
                    !l.contains("victim@example.test") || l.starts_with("subject:") || l.starts_with(' '),
                    "outbox {id} ({kind}) names the injected address in a header: {line}"
                );
            }
        }
    }
}

fn replace(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(haystack.len());
    let mut i = 0;
    while i < haystack.len() {
        if haystack[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(haystack[i]);
            i += 1;
        }
    }
    out
}

fn expected() -> Expected {
    let text = std::fs::read_to_string(corpus().join("expected.toml")).unwrap();
    toml::from_str(&text).unwrap()
}

#[test]
fn every_file_of_the_corpus_has_an_expectation() {
    let e = expected();
    let mut named: Vec<String> = e.mail.iter().map(|m| m.file.clone()).collect();
    for s in &e.sequence {
        named.push(s.file.clone());
        named.extend(s.first.clone());
    }
    for entry in std::fs::read_dir(corpus()).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().to_string();
        if name.ends_with(".eml") {
            assert!(named.contains(&name), "{name} has no expected outcome in expected.toml");
        }
    }
}

#[test]
fn each_hostile_message_gets_its_expected_outcome() {
    let bench = Bench::new("hostile-corpus");
    let mut failures = Vec::new();
    for (k, m) in expected().mail.iter().enumerate() {
        let researcher = format!("h{k}-{}@example.test", bench.desk.id);
        let warnings_before = bench.staff_warnings();
        let outbox_before = bench.last_outbox_row();
        let got = bench.ingest(&bench.render(&m.file, &researcher, 0));
        let status = got.split([':', ' ']).next().unwrap_or("").to_string();
        let mut problems = Vec::new();
        if status != m.outcome {
            problems.push(format!("outcome {status:?}, expected {:?}", m.outcome));
        }
        if let Some(reason) = &m.reason
            && !got.contains(reason.as_str())
        {
            problems.push(format!("reason lacks {reason:?}"));
        }
        if let Some(n) = m.replies {
            let replies = bench.replies_since(outbox_before);
            if replies != n {
                problems.push(format!("{replies} replies, expected {n}"));
            }
        }
        if let Some(n) = m.staff_warnings {
            let warnings = bench.staff_warnings() - warnings_before;
            if warnings != n {
                problems.push(format!("{warnings} staff warnings, expected {n}"));
            }
        }
        if let Some((mid, error)) = &m.crypto_error {
            let recorded = bench.crypto_error(mid);
            if !recorded.contains(error.as_str()) {
                problems.push(format!("OpenPGP error {recorded:?} lacks {error:?}"));
            }
        }
        if let Some((mid, verdict)) = &m.signature {
            let recorded = bench.message_column(mid, "signature");
            if &recorded != verdict {
                problems.push(format!("signature {recorded:?}, expected {verdict:?}"));
            }
        }
        for (field, column, present) in [
            (&m.signed_text, "body_text", true),
            (&m.signed_text_lacks, "body_text", false),
            (&m.unsigned_text, "unsigned_text", true),
        ] {
            if let Some((mid, text)) = field {
                let recorded = bench.message_column(mid, column);
                if recorded.contains(text.as_str()) != present {
                    let how = if present { "lacks" } else { "holds" };
                    problems.push(format!("{column} {recorded:?} {how} {text:?}"));
                }
            }
        }
        eprintln!("{:<36} {got}", m.file);
        if !problems.is_empty() {
            failures.push(format!("{} ({}): {} — got {got:?}", m.file, m.what, problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "the corpus:\n{}", failures.join("\n"));
    bench.assert_no_injected_headers();
    // Nothing is left half-done, and `vdpd status` still answers.
    assert_eq!(bench.count("SELECT count(*) FROM intake WHERE status = ?1", "pending"), 0);
    bench.desk.vdpd_ok(&["status"]);
}

#[test]
fn storms_and_auto_responder_loops_are_bounded() {
    for (k, s) in expected().sequence.iter().enumerate() {
        // A desk of its own per sequence: references start at EX-2026-0001.
        let bench = Bench::new(&format!("hostile-seq{k}"));
        let researcher = format!("s{k}-{}@example.test", bench.desk.id);
        if let Some(first) = &s.first {
            let got = bench.ingest(&bench.render(first, &researcher, 0));
            assert!(got.starts_with("ticket EX-2026-0001"), "{}: the first message: {got}", s.what);
        }
        let outbox_before = bench.last_outbox_row();
        let mut outcomes: std::collections::BTreeMap<String, usize> = Default::default();
        let mut reasons = Vec::new();
        for n in 1..=s.times {
            let got = bench.ingest(&bench.render(&s.file, &researcher, n));
            let status = got.split([':', ' ']).next().unwrap_or("").to_string();
            *outcomes.entry(status).or_default() += 1;
            reasons.push(got);
        }
        eprintln!("{}: {outcomes:?}\n  {}", s.what, reasons.join("\n  "));
        assert_eq!(outcomes, s.outcomes, "{}: {reasons:#?}", s.what);
        if let Some(reason) = &s.reason {
            assert!(reasons.iter().any(|r| r.contains(reason.as_str())), "{}: no {reason:?} in {reasons:#?}", s.what);
        }
        let replies = bench.replies_since(outbox_before);
        eprintln!("  mail to the sender: {:?}", bench.kinds_to(&researcher));
        assert!(replies <= s.max_replies, "{}: {replies} mails queued, at most {} expected", s.what, s.max_replies);
    }
}

/// A long report of short lines (8 MB in 400,000 lines, within `limits.max_message_bytes`) under the shipped
/// policy is a ticket like any other: acknowledged, its text kept to its first MiB with a mark saying so (the
/// raw mail is kept whole), and the staff notification — encrypted to the member's GnuPG key, 2.4 MB with the
/// form's description read from that text — sealed, handed to Postfix and opened by GnuPG. (The line endings
/// of such a body once cost the square of its length to make, seconds for this one, while every other mail
/// waited behind it; BENCHMARKS has the measure.)
#[test]
fn a_long_report_of_short_lines_reaches_staff_encrypted_and_holds_nothing_up() {
    let desk = Desk::new("hostile-long");
    let staff = desk.use_shipped_with_staff(1, |_, _| {});
    staff[0].import(&desk.vdpd(&["key", "export"]).stdout);
    let researcher = format!("long-{}@example.test", desk.id);
    let mut raw = format!(
        "From: {researcher}\r\nTo: {}\r\nSubject: A long log\r\nMessage-ID: <long-{}@example.test>\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\n",
        desk.security, desk.id
    );
    for i in 0..400_000 {
        raw.push_str(&format!("log line {i:>9}\n"));
    }
    raw.push_str("the last line of the log\n");
    let path = desk.dir.path().join("long.eml");
    std::fs::write(&path, &raw).unwrap();
    let out = desk.vdpd(&["ingest", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", common::show(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("ticket EX-2026-0001"), "{stdout}");
    let conn = rusqlite::Connection::open(desk.store_path()).unwrap();
    let rows: Vec<(String, String, Vec<u8>)> = conn
        .prepare(
            "SELECT o.kind, o.status, coalesce(b.raw, x'') FROM outbox o LEFT JOIN outbox_body b ON b.id = o.body_id \
             ORDER BY o.id",
        )
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let kinds: Vec<(&str, &str)> = rows.iter().map(|(k, s, _)| (k.as_str(), s.as_str())).collect();
    assert_eq!(kinds, [("acknowledgement", "sent"), ("staff-new-report", "sent")], "both handed to Postfix");
    let notification = &rows[1].2;
    assert!(!String::from_utf8_lossy(notification).replace("\r\n", "").contains('\n'), "a bare line feed");
    let text = common::gpg::open(&staff[0], notification).replace("\r\n", "\n");
    assert!(text.len() > 2_000_000, "the kept text goes to staff: {} bytes", text.len());
    assert!(text.contains("log line     50000\nlog line     50001\n"), "the text, line by line");
    assert!(text.contains("[… truncated]") && !text.contains("the last line of the log"), "kept to its first MiB");
}

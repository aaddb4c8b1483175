//! Sealing: a queued mail's text and final bytes, made after the transaction that queued it has committed.
//!
//! The change that causes a mail (a report opening a ticket, a staff command, a fired timer) decides
//! everything about it in its own transaction: which mail it is and the context its template is rendered
//! with (a [`Draft`]), who receives it, which certificates it is encrypted to, its Message-ID and date. What
//! is left — rendering the template, building the MIME message, attaching our key, signing and encrypting —
//! needs nothing from the store, and signing and encrypting are the dearest part of a mail (an X25519 key
//! agreement per certificate, a signature, the system's randomness each time). So the transaction records a
//! [`Composition`] and leaves the mail's outbox rows `sealing`; [`seal_pending`] (the daemon's sealing task,
//! and every command that delivers) renders and seals it outside any transaction and the store's writer
//! lock, on a blocking thread, and a short transaction puts the bytes in the rows, which become `queued`, and
//! the text in the ticket's record of the mail (what is rendered is exactly what is recorded and sent). Mail in
//! clear goes the same way: one path for every mail, and no template rendered while the writer waits.
//!
//! Nothing is lost and nothing is weakened in between: a crash leaves the composition, which the next process
//! seals; a mail decided encrypted is sealed for exactly the certificates decided (by fingerprint), and when
//! one of them is no longer held the mail fails with that reason — it is never sent in clear instead. A
//! template that fails (the self-test at start-up makes it rare) fails its mail's rows the same way, with the
//! error on the ticket's timeline; either way staff are warned that the mail did not go
//! ([`crate::intake::unsendable_notice`]). A ticket purged before its mail is sealed keeps no text of it: the purge
//! unlinks the composition from the record ([`store::outbox::record_text`] then writes nothing), and the mail
//! goes out as decided, as mail already queued does.

use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::clock::Clock;
use crate::engine::Headers;
use crate::intake::Env;
use crate::openpgp::{Cert, autocrypt};
use crate::render::{self, Draft, Envelope, OutFile, Rendered};
use crate::store::outbox::SendResult;
use crate::store::{self, Db, Store, StoreError};

/// How many compositions one pass reads, seals and settles at a time: few enough that the rows they release
/// reach the outbox soon, enough that a backlog is not one transaction per mail.
const BATCH: usize = 32;

/// Everything a mail's final bytes are made of, but the keys: decided, and stored, in the transaction that
/// queues the mail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Composition {
    pub headers: Headers,
    /// The rendered template, when it was rendered in the transaction (a composition stored by an earlier
    /// version); '' when `draft` says what to render.
    #[serde(default)]
    pub body: String,
    /// What the text is rendered from, after the commit, in `headers.language`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub draft: Option<Draft>,
    pub message_id: String,
    /// When the mail was decided (milliseconds since the epoch): its `Date:`.
    pub date: i64,
    /// (address, display name) of each addressee: one researcher, or members of the desk's team.
    pub to: Vec<(String, String)>,
    /// Our public certificate goes with it (if the organisation key is still there when it is sealed).
    pub attach_key: bool,
    /// An `Autocrypt:` header offers our key.
    pub autocrypt: bool,
    pub reply_to: Option<String>,
    /// Signed by the organisation key and encrypted to these certificates (fingerprints, one per addressee)
    /// and ours; `None`: sent in clear.
    pub encrypt_to: Option<Vec<String>>,
    /// The certificates among those that the policy does not hold (a researcher's: the store's copy may be
    /// gone by the time the mail is sealed — an erasure deletes it in the very transaction that queues its
    /// receipt), as base64 of their binary form. Staff certificates are found by fingerprint in the policy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub certs: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<OutFile>,
}

/// A composition made: its final bytes, and its text when it was rendered from a draft (what the ticket's
/// record of the mail holds).
#[derive(Debug)]
struct Made {
    raw: Vec<u8>,
    text: Option<Rendered>,
}

/// What a sealing pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SealReport {
    /// Compositions sealed (each releases one row per addressee).
    pub sealed: usize,
    /// Compositions that could not be sealed: their rows failed, with the reason.
    pub failed: usize,
}

/// A composition read from the store (or why it could not be read).
struct Job {
    id: i64,
    composition: Result<Composition, String>,
}

fn read_jobs(store: &Store, limit: usize) -> Result<Vec<Job>, StoreError> {
    Ok(store::outbox::pending_seals(store.conn(), limit)?
        .into_iter()
        .map(|(id, text)| Job {
            id,
            composition: serde_json::from_str(&text).map_err(|e| format!("unreadable composition: {e}")),
        })
        .collect())
}

/// The final bytes of one stored composition — its text rendered with the templates of `env` when it is a
/// draft —, with the keys of `env` and the certificates it carries.
fn seal(job: &Job, env: &Env) -> Result<Made, String> {
    let c = job.composition.as_ref().map_err(Clone::clone)?;
    let mut held = Vec::with_capacity(c.certs.len());
    for text in &c.certs {
        let bytes = base64::engine::general_purpose::STANDARD.decode(text).map_err(|e| format!("certificate: {e}"))?;
        held.push(crate::classify::pgp::cert_from_bytes(&bytes).ok_or("a certificate it carries does not parse")?);
    }
    let Some(draft) = &c.draft else {
        return Ok(Made { raw: compose(c, &c.headers, &c.body, env, &held)?, text: None });
    };
    let lang = env.templates.answer_in(c.headers.language.as_ref()).clone();
    let text = env.templates.render_draft(&lang, draft).map_err(|e| e.to_string())?;
    let mut headers = c.headers.clone();
    if let Some(subject) = &text.subject {
        headers.subject.clone_from(subject);
    }
    let raw = compose(c, &headers, &text.body, env, &held)?;
    Ok(Made { raw, text: Some(text) })
}

/// A certificate as a [`Composition`] carries it.
pub fn carried(cert: &Cert) -> String {
    base64::engine::general_purpose::STANDARD.encode(crate::openpgp::binary(cert))
}

/// The final bytes of a composition with the headers and text given (its own, or those rendered from its
/// draft), with the keys of `env` and the researchers' certificates `held`.
fn compose(c: &Composition, headers: &Headers, body: &str, env: &Env, held: &[Cert]) -> Result<Vec<u8>, String> {
    let org = &env.config.organisation;
    let org_key = env.keys.org.as_ref();
    let encrypt = match &c.encrypt_to {
        None => None,
        Some(fingerprints) => {
            let key =
                org_key.ok_or("the mail was to be encrypted, but the organisation key is gone (not sent in clear)")?;
            let mut certs = Vec::with_capacity(fingerprints.len());
            for fp in fingerprints {
                let found = env
                    .keys
                    .staff
                    .iter()
                    .filter_map(|s| s.cert.as_ref())
                    .chain(held)
                    .find(|cert| cert.fingerprint().to_hex().eq_ignore_ascii_case(fp));
                certs.push(found.ok_or_else(|| {
                    format!(
                        "certificate {fp} is no longer held: the mail was to be encrypted to it (not sent in clear)"
                    )
                })?);
            }
            Some((certs, key))
        }
    };
    let autocrypt = match (org_key, &env.config.openpgp) {
        (Some(k), Some(o)) if c.autocrypt && o.autocrypt => {
            Some(autocrypt::header_for(&org.security_address, k.public_binary()))
        }
        _ => None,
    };
    let to: Vec<(&str, &str)> = c.to.iter().map(|(a, n)| (a.as_str(), n.as_str())).collect();
    let envelope = Envelope {
        to: &to,
        attach_key: org_key.filter(|_| c.attach_key),
        autocrypt: autocrypt.as_deref(),
        encrypt: encrypt.as_ref().map(|(certs, key)| (certs.as_slice(), *key)),
        reply_to: c.reply_to.as_deref(),
        files: &c.files,
    };
    let date = jiff::Timestamp::from_millisecond(c.date).map_err(|e| e.to_string())?;
    render::compose(headers, body, org, &c.message_id, date, &envelope).map_err(|e| e.to_string())
}

/// Seals each job (the CPU-heavy part: call it off the async executor and outside any transaction).
fn seal_jobs(jobs: &[Job], env: &Env) -> Vec<(i64, Result<Made, String>)> {
    jobs.iter()
        .map(|job| {
            let sealed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| seal(job, env)))
                .unwrap_or_else(|_| Err("sealing panicked".to_string()));
            (job.id, sealed)
        })
        .collect()
}

/// Puts sealed bytes in their rows; records the rows of a composition that could not be sealed as failed
/// deliveries (timeline and all), with the reason.
fn settle(
    store: &mut Store,
    env: &Env,
    results: Vec<(i64, Result<Made, String>)>,
    now: i64,
) -> Result<SealReport, StoreError> {
    store.write(|tx| {
        let mut report = SealReport::default();
        for (id, result) in &results {
            match result {
                Ok(made) => {
                    if let Some(text) = &made.text {
                        store::outbox::record_text(tx, *id, &text.body, text.subject.as_deref())?;
                    }
                    store::outbox::sealed(tx, *id, &made.raw)?;
                    report.sealed += 1;
                }
                Err(error) => {
                    let error = format!("could not be sealed: {error}");
                    let rows = store::outbox::sealing_rows(tx, *id)?;
                    for row in &rows {
                        tracing::error!(outbox_id = row.id, kind = %row.kind, "mail {} ({}) {error}", row.id, row.kind);
                        crate::outbox::record(tx, row, &SendResult::Failed { error: error.clone() }, now)?;
                    }
                    store::outbox::discard_seal(tx, *id)?;
                    // Its warning can fail only by the store; a template failing is the warning's own mail's
                    // failure, settled in its turn.
                    match crate::intake::unsendable_notice(tx, env, &rows, &error, now) {
                        Ok(()) => {}
                        Err(crate::intake::HandleError::Store(e)) => return Err(e),
                        Err(e) => tracing::error!("staff could not be warned of the mail not sent: {e}"),
                    }
                    report.failed += 1;
                }
            }
        }
        Ok(report)
    })
}

/// Seals every waiting composition, in this thread: for the tests and the dry run, which hold the store
/// themselves.
pub fn seal_all(store: &mut Store, env: &Env, now: i64) -> Result<SealReport, StoreError> {
    let mut total = SealReport::default();
    loop {
        let jobs = read_jobs(store, BATCH)?;
        if jobs.is_empty() {
            return Ok(total);
        }
        let report = settle(store, env, seal_jobs(&jobs, env), now)?;
        total.sealed += report.sealed;
        total.failed += report.failed;
    }
}

/// Seals every waiting composition: read in one short visit to the store, sealed on a blocking thread of
/// their own (the store stays free for intake and delivery meanwhile), settled in one short transaction;
/// [`BATCH`] at a time until none is left. `sealed` is woken after each batch that released mail (the
/// daemon's outbox: in a backlog, sealing never runs dry while intake goes on, and mail must not wait for it
/// to).
pub async fn seal_pending(
    db: &Db,
    env: &Env,
    clock: &Clock,
    sealed: Option<&tokio::sync::Notify>,
) -> Result<SealReport, StoreError> {
    let mut total = SealReport::default();
    loop {
        let jobs = db.call(|s| read_jobs(s, BATCH)).await?;
        if jobs.is_empty() {
            return Ok(total);
        }
        let sealing = env.clone();
        let results = tokio::task::spawn_blocking(move || seal_jobs(&jobs, &sealing))
            .await
            .expect("sealing does not panic: each job's panic is caught");
        let now = clock.now_ms();
        let env = env.clone();
        let report = db.call(move |s| settle(s, &env, results, now)).await?;
        if report.sealed + report.failed > 0 {
            tracing::debug!(sealed = report.sealed, failed = report.failed, "sealed {} mails", report.sealed);
            if let Some(n) = sealed {
                n.notify_one();
            }
        }
        total.sealed += report.sealed;
        total.failed += report.failed;
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;
    use std::time::{Duration, SystemTime};

    use super::*;
    use crate::intake::{IncomingMail, Source};
    use crate::openpgp::keys::{Keys, OrgKey, StaffKey};
    use crate::render::Templates;
    use vdpd_core::ticket::WarningKind;

    const NOW: i64 = 1_795_000_000_000; // 2026-11-18

    const POLICY: &str = r#"
[organisation]
name = "Example"
security_address = "security@example.test"
ticket_prefix = "EX"

[smtp]
host = "127.0.0.1"
tls = "none"

[store]
path = "vdpd.sqlite"

[sla]
acknowledge = "24h"

[staff]
authentication = "dkim"
trusted_authserv_id = "mx.example.test"

[[staff.members]]
address = "alice@example.test"
name = "Alice"

[[staff.members]]
address = "bob@example.test"
name = "Bob"
"#;

    fn key(userid: &str) -> OrgKey {
        let made = SystemTime::UNIX_EPOCH + Duration::from_millis(NOW as u64) - Duration::from_secs(86_400);
        OrgKey::generate(userid, None, made).unwrap()
    }

    /// The desk's key, and Alice and Bob as staff with certificates of their own: every notification is
    /// encrypted to both.
    fn env(org: &OrgKey, alice: &OrgKey, bob: &OrgKey) -> Env {
        let config = crate::config::parse(POLICY, Path::new("/nonexistent/policy.toml")).unwrap();
        let staff = [("alice@example.test", "Alice", alice), ("bob@example.test", "Bob", bob)]
            .map(|(a, n, k)| StaffKey { address: a.into(), name: n.into(), cert: Some(k.public().clone()) });
        Env {
            config: Arc::new(config),
            templates: Arc::new(Templates::load(Path::new("/nonexistent/templates")).unwrap()),
            keys: Arc::new(Keys { org: Some(org.clone()), staff: staff.to_vec() }),
        }
    }

    fn report(store: &mut Store, env: &Env) {
        let raw = "From: r@research.test\r\nTo: security@example.test\r\nSubject: Stored XSS in the admin panel\r\n\
                   Message-ID: <r1@research.test>\r\n\r\nAsset: https://app.example.test/admin\r\nWeakness: CWE-79\r\n";
        let mail = IncomingMail {
            source: Source::Ingest,
            raw: raw.as_bytes().to_vec(),
            size: raw.len(),
            truncated: false,
            admitted: false,
        };
        crate::intake::process(store, env, &mail, NOW).unwrap();
    }

    /// (recipient, status, raw, last error) of every outbox row.
    fn rows(store: &Store) -> Vec<(String, String, Vec<u8>, String)> {
        let mut stmt = store
            .conn()
            .prepare(
                "SELECT o.recipient, o.status, coalesce(b.raw, x''), o.last_error FROM outbox o
                 LEFT JOIN outbox_body b ON b.id = o.body_id ORDER BY o.id",
            )
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect()
    }

    fn count(store: &Store, sql: &str) -> i64 {
        store.conn().query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// The ticket's record of each mail it sent: (kind, subject, text).
    fn records(store: &Store) -> Vec<(String, String, String)> {
        let mut stmt = store
            .conn()
            .prepare("SELECT kind, subject, body_text FROM messages WHERE direction = 'out' ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).unwrap().map(Result::unwrap).collect()
    }

    /// What the transaction of a report leaves: the acknowledgement (in clear: the researcher has no key) and
    /// the team's notification decided — their drafts, addressees and certificates — but neither rendered nor
    /// sealed, and nothing due. A process that dies then leaves them for the next one, which renders and seals
    /// each once (the team's as one message encrypted to both members) and writes their text into the
    /// ticket's record of them.
    #[test]
    fn mail_is_rendered_and_sealed_after_the_commit_and_survives_a_crash_before_it() {
        let (org, alice, bob) =
            (key("Sec <security@example.test>"), key("Alice <alice@example.test>"), key("Bob <bob@example.test>"));
        let env = env(&org, &alice, &bob);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("vdpd.sqlite");
        let mut store = Store::open(&path).unwrap();
        report(&mut store, &env);
        let waiting = rows(&store);
        assert_eq!(waiting.len(), 3, "{waiting:?}");
        assert!(waiting.iter().all(|(_, status, raw, _)| status == "sealing" && raw.is_empty()), "{waiting:?}");
        assert_eq!(count(&store, "SELECT count(*) FROM outbox_seal"), 2, "the acknowledgement's and the team's");
        let unwritten = records(&store);
        assert_eq!(unwritten.len(), 2, "{unwritten:?}");
        assert!(unwritten.iter().all(|(_, _, text)| text.is_empty()), "nothing rendered yet: {unwritten:?}");
        assert!(crate::store::outbox::claim_due(store.conn(), NOW, 10, 10).unwrap().is_empty(), "nothing due yet");
        drop(store);

        let mut store = Store::open(&path).unwrap();
        assert_eq!(seal_all(&mut store, &env, NOW).unwrap(), SealReport { sealed: 2, failed: 0 });
        assert_eq!(count(&store, "SELECT count(*) FROM outbox_seal"), 0);
        assert_eq!(seal_all(&mut store, &env, NOW).unwrap(), SealReport::default(), "each sealed once");
        let written = records(&store);
        assert_eq!(written[0].0, "acknowledgement");
        assert_eq!(written[0].1, "[EX-2026-0001] Re: Stored XSS in the admin panel");
        assert!(
            written[0].2.contains("EX-2026-0001") && written[0].2.contains("thank you for your report"),
            "{written:?}"
        );
        assert!(written[1].2.contains("Stored XSS in the admin panel"), "the team's notification: {written:?}");
        let sealed = rows(&store);
        assert!(sealed.iter().all(|(_, status, raw, _)| status == "queued" && !raw.is_empty()), "{sealed:?}");
        let ack = String::from_utf8_lossy(&sealed[0].2);
        assert_eq!(sealed[0].0, "r@research.test");
        assert!(ack.contains("Subject: [EX-2026-0001] Re: Stored XSS in the admin panel\r\n"), "{ack}");
        let team: Vec<_> = sealed[1..].iter().collect();
        assert_eq!(team[0].2, team[1].2, "one message for the team");
        let outer = mail_parser::MessageParser::default().parse(&team[0].2).unwrap();
        let content_type = mail_parser::MimeHeaders::content_type(&outer).unwrap();
        assert_eq!((content_type.ctype(), content_type.subtype()), ("multipart", Some("encrypted")));
        assert_eq!(outer.subject(), Some("[EX-2026-0001]"), "the report's subject travels inside");
        let text = String::from_utf8_lossy(&team[0].2);
        let armoured = &text[text.find("-----BEGIN PGP MESSAGE-----").unwrap()..];
        for reader in [&alice, &bob] {
            let opened = crate::openpgp::read::decrypt(
                armoured.as_bytes(),
                Some(reader),
                std::slice::from_ref(org.public()),
                &crate::openpgp::read::Limits { max_plaintext: 1 << 20, max_ratio: 100 },
                SystemTime::UNIX_EPOCH + Duration::from_millis(NOW as u64),
            )
            .unwrap();
            let inner = String::from_utf8_lossy(&opened.plaintext);
            assert!(inner.contains("Stored XSS in the admin panel"), "{inner}");
        }
        let due = crate::store::outbox::claim_due(store.conn(), NOW, 10, 10).unwrap();
        assert_eq!(due.len(), 3, "all due, in the order they were queued");
    }

    /// A member's certificate replaced between the commit and the sealing (a reload): the notification that
    /// was decided encrypted to the old one fails with the reason, and nothing goes in clear instead; the
    /// researcher's acknowledgement is not held up by it.
    #[test]
    fn a_certificate_gone_before_sealing_fails_the_mail_and_never_sends_it_in_clear() {
        let (org, alice, bob) =
            (key("Sec <security@example.test>"), key("Alice <alice@example.test>"), key("Bob <bob@example.test>"));
        let mut store = Store::open_in_memory().unwrap();
        report(&mut store, &env(&org, &alice, &bob));
        let reloaded = env(&org, &key("Alice <alice@example.test>"), &bob);
        // One pass: the acknowledgement and the notification (the warning it causes waits for the next).
        let jobs = read_jobs(&store, BATCH).unwrap();
        let report = settle(&mut store, &reloaded, seal_jobs(&jobs, &reloaded), NOW).unwrap();
        assert_eq!(report, SealReport { sealed: 1, failed: 1 });
        let after = rows(&store);
        assert_eq!(after[0].1, "queued", "the acknowledgement goes");
        for (to, status, raw, error) in &after[1..3] {
            assert_eq!(status, "failed", "{to}");
            assert!(raw.is_empty(), "no bytes were made for {to}");
            assert!(error.contains("no longer held") && error.contains("not sent in clear"), "{error}");
        }
        let failed = count(
            &store,
            &format!(
                "SELECT count(*) FROM timeline WHERE event = '{}'",
                crate::timeline::Event::Failed(crate::mail::MessageKind::StaffNewReport)
            ),
        );
        assert_eq!(failed, 2, "the ticket's timeline says so, once per member");
        // Staff are warned that the notification did not go (encrypted to the certificates held now).
        let (kind, detail): (String, String) = store
            .conn()
            .query_row("SELECT kind, detail FROM staff_warnings", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap();
        assert_eq!(kind, WarningKind::Unsendable.as_str());
        assert!(detail.starts_with("the staff-new-report mail of EX-2026-0001 to alice@example.test, bob@example.test was not sent: could not be sealed: "), "{detail}");
        assert!(detail.contains("no longer held"), "{detail}");
        assert_eq!(count(&store, "SELECT count(*) FROM outbox WHERE kind = 'staff-warning' AND status = 'sealing'"), 2);
        // A warning that cannot be made either (the certificate replaced again) is not warned of in turn: that
        // would only fail again, once per pass.
        let again = env(&org, &key("Alice <alice@example.test>"), &bob);
        assert_eq!(seal_all(&mut store, &again, NOW).unwrap(), SealReport { sealed: 0, failed: 1 });
        assert_eq!(count(&store, "SELECT count(*) FROM staff_warnings"), 1, "no warning of the warning");
        assert_eq!(count(&store, "SELECT count(*) FROM outbox_seal"), 0);
    }

    /// A template that fails when the mail is rendered (after the commit: the ticket and the rest of the mail
    /// stand) fails only its mail, and staff are warned that it did not go.
    #[test]
    fn a_template_that_fails_at_rendering_fails_its_mail_and_staff_are_warned() {
        let (org, alice, bob) =
            (key("Sec <security@example.test>"), key("Alice <alice@example.test>"), key("Bob <bob@example.test>"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("staff_new_report.txt"), "A new report: {{ no_such_field }}\n").unwrap();
        let env = Env { templates: Arc::new(Templates::load(dir.path()).unwrap()), ..env(&org, &alice, &bob) };
        let mut store = Store::open_in_memory().unwrap();
        report(&mut store, &env);
        // The acknowledgement and the warning go; the notification fails.
        assert_eq!(seal_all(&mut store, &env, NOW).unwrap(), SealReport { sealed: 2, failed: 1 });
        let after = rows(&store);
        assert_eq!(after[0].1, "queued", "the acknowledgement goes");
        assert!(after[1..3].iter().all(|(_, status, _, error)| status == "failed" && error.contains("no_such_field")));
        let detail: String = store
            .conn()
            .query_row("SELECT detail FROM staff_warnings WHERE kind = ?1", [WarningKind::Unsendable.as_str()], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(
            detail.contains("staff-new-report mail of EX-2026-0001") && detail.contains("no_such_field"),
            "{detail}"
        );
        let warned = count(&store, "SELECT count(*) FROM outbox WHERE kind = 'staff-warning' AND status = 'queued'");
        assert_eq!(warned, 2, "both members are told");
    }

    /// A researcher's certificate deleted between the commit and the sealing — an erasure deletes it in the
    /// transaction that queues the receipt — does not stop mail decided encrypted to it: the composition
    /// carries the certificate.
    #[test]
    fn a_researchers_certificate_deleted_after_the_decision_still_seals_their_mail() {
        let (org, alice, bob) =
            (key("Sec <security@example.test>"), key("Alice <alice@example.test>"), key("Bob <bob@example.test>"));
        let sam = key("Sam <r@research.test>");
        let env = env(&org, &alice, &bob);
        let mut store = Store::open_in_memory().unwrap();
        let fingerprint = sam.public().fingerprint().to_hex();
        let bytes = crate::openpgp::binary(sam.public());
        store
            .write(|tx| {
                store::openpgp::set_cert(
                    tx,
                    "r@research.test",
                    &fingerprint,
                    &bytes,
                    "test",
                    store::openpgp::Trust::FirstUse,
                    NOW,
                )
            })
            .unwrap();
        report(&mut store, &env);
        assert_eq!(rows(&store)[0].1, "sealing", "the acknowledgement is encrypted to Sam, so it waits too");
        store.write(|tx| store::openpgp::forget(tx, "r@research.test")).unwrap();
        assert_eq!(seal_all(&mut store, &env, NOW).unwrap(), SealReport { sealed: 2, failed: 0 });
        let ack = &rows(&store)[0];
        let text = String::from_utf8_lossy(&ack.2);
        let armoured = &text[text.find("-----BEGIN PGP MESSAGE-----").unwrap()..];
        let opened = crate::openpgp::read::decrypt(
            armoured.as_bytes(),
            Some(&sam),
            std::slice::from_ref(org.public()),
            &crate::openpgp::read::Limits { max_plaintext: 1 << 20, max_ratio: 100 },
            SystemTime::UNIX_EPOCH + Duration::from_millis(NOW as u64),
        )
        .unwrap();
        assert!(String::from_utf8_lossy(&opened.plaintext).contains("EX-2026-0001"));
    }

    /// A ticket purged between the commit and the sealing keeps no text of the mail sealed after it: the
    /// purge unlinks the record, the mail still goes out as decided.
    #[test]
    fn a_ticket_purged_before_its_mail_is_rendered_keeps_no_text_of_it() {
        let (org, alice, bob) =
            (key("Sec <security@example.test>"), key("Alice <alice@example.test>"), key("Bob <bob@example.test>"));
        let env = env(&org, &alice, &bob);
        let mut store = Store::open_in_memory().unwrap();
        report(&mut store, &env);
        store.write(|tx| store::retention::purge_ticket(tx, 1, "app.example.test", NOW)).unwrap();
        assert_eq!(seal_all(&mut store, &env, NOW).unwrap(), SealReport { sealed: 2, failed: 0 });
        assert!(records(&store).iter().all(|(_, subject, text)| subject.is_empty() && text.is_empty()));
        let sent = rows(&store);
        assert!(sent.iter().all(|(_, status, raw, _)| status == "queued" && !raw.is_empty()), "{sent:?}");
    }

    /// A composition an earlier version stored — its text rendered in the transaction, no draft — is sealed
    /// with that text after an upgrade.
    #[test]
    fn a_composition_stored_rendered_by_an_earlier_version_is_sealed_with_its_text() {
        let (org, alice, bob) =
            (key("Sec <security@example.test>"), key("Alice <alice@example.test>"), key("Bob <bob@example.test>"));
        let env = env(&org, &alice, &bob);
        let mut store = Store::open_in_memory().unwrap();
        let stored = r#"{"headers":{"subject":"[EX-1] Re: x","in_reply_to":null,"references":[],"auto":"replied"},
            "body":"Rendered before the upgrade.\n","message_id":"<ex-1.abc@example.test>","date":1795000000000,
            "to":[["r@research.test","R"]],"attach_key":false,"autocrypt":false,"reply_to":null,"encrypt_to":null}"#;
        let seal = store.write(|tx| store::outbox::new_seal(tx, stored, None, NOW)).unwrap();
        store
            .write(|tx| {
                store::outbox::enqueue(
                    tx,
                    &store::outbox::NewOutgoing {
                        seal,
                        message_row: None,
                        ticket_id: None,
                        kind: crate::mail::MessageKind::Acknowledgement,
                        auto_reply: true,
                        envelope_from: "security@example.test",
                        recipient: "r@research.test",
                        created_at: NOW,
                    },
                )
            })
            .unwrap();
        assert_eq!(seal_all(&mut store, &env, NOW).unwrap(), SealReport { sealed: 1, failed: 0 });
        let raw = String::from_utf8(rows(&store)[0].2.clone()).unwrap();
        assert!(raw.contains("Rendered before the upgrade.") && raw.contains("Subject: [EX-1] Re: x\r\n"), "{raw}");
    }

    /// A composition keeps everything through its stored form, attachments too.
    #[test]
    fn a_composition_survives_its_stored_form() {
        let c = Composition {
            headers: Headers {
                subject: "[EX-1] Re: x".into(),
                in_reply_to: Some("<a@b>".into()),
                references: vec!["<a@b>".into()],
                auto: crate::engine::Auto::Generated,
                language: Some("fr".parse().unwrap()),
            },
            body: String::new(),
            draft: Some(Draft {
                template: "acknowledgement.txt".into(),
                context: serde_json::value::RawValue::from_string(
                    r#"{"ticket":{"reference":"EX-1"},"n":3,"none":null,"list":["é"]}"#.into(),
                )
                .unwrap(),
                reference: Some("EX-1".into()),
                notices: vec![Draft {
                    template: "outcome_resolved.txt".into(),
                    context: serde_json::value::RawValue::from_string(r#"{"lang":"fr"}"#.into()).unwrap(),
                    reference: None,
                    notices: Vec::new(),
                }],
            }),
            message_id: "<ex-1.abc@example.test>".into(),
            date: NOW,
            to: vec![("a@example.test".into(), "A".into())],
            attach_key: true,
            autocrypt: false,
            reply_to: Some("security@example.test".into()),
            encrypt_to: Some(vec!["ABCD".into()]),
            certs: vec!["AAEC".into()],
            files: vec![OutFile {
                name: "poc.bin".into(),
                content_type: "application/octet-stream".into(),
                data: vec![0, 255, 10],
            }],
        };
        let text = serde_json::to_string(&c).unwrap();
        assert!(text.contains("\"data\":\"AP8K\""), "bytes as base64: {text}");
        assert_eq!(serde_json::from_str::<Composition>(&text).unwrap(), c);
    }
}

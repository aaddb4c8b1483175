//! What admins get from the policy and the store: security.txt, exports, advisories, statistics, metrics.

mod common;

use common::gpg::{self, Gpg};
use common::{Desk, Options};

#[test]
fn security_txt_is_written_from_the_policy_and_clear_signed_by_the_organisation_key() {
    let desk = Desk::with(
        "sectxt",
        Options {
            extra:
                "\n[openpgp]\n\n[recognition]\nhall_of_fame = true\npage = \"https://example.test/hall-of-fame\"\n\n\
                    [security_txt]\ncanonical = [\"https://example.test/.well-known/security.txt\"]\n\
                    preferred_languages = [\"en\", \"de\"]\nexpires = \"6 months\"\n"
                    .into(),
            ..Options::default()
        },
    );
    desk.vdpd_ok(&["key", "generate"]);
    let file = desk.dir.path().join("security.txt");
    desk.vdpd_ok(&["security-txt", "--sign", "--now", "2026-11-23T10:00:00Z", "--output", file.to_str().unwrap()]);
    let signed = std::fs::read_to_string(&file).unwrap();
    assert!(signed.starts_with("-----BEGIN PGP SIGNED MESSAGE-----\n"), "{signed}");

    // Any researcher can check it with GnuPG and our published key.
    let researcher = Gpg::new(&desk.researcher(1));
    researcher.import(&desk.vdpd(&["key", "export"]).stdout);
    let out = researcher.run(&["--status-fd", "1", "--verify"], Some(signed.as_bytes()));
    let status = String::from_utf8_lossy(&out.stdout);
    let org = researcher.fingerprint_of(&desk.security);
    assert!(
        out.status.success() && gpg::signed_by(&status, &org),
        "signed by the organisation key {org}: {status}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // The fields, as RFC 9116 defines them: Contact and Expires present, Expires once and in the future.
    let body: Vec<&str> = signed
        .lines()
        .skip_while(|l| !l.is_empty())
        .skip(1)
        .take_while(|l| !l.starts_with("-----BEGIN PGP SIGNATURE"))
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .collect();
    let field = |name: &str| body.iter().filter(|l| l.starts_with(&format!("{name}: "))).count();
    for line in &body {
        let (name, value) = line.split_once(": ").unwrap_or_else(|| panic!("not a field: {line:?}"));
        assert!(!value.trim().is_empty() && name.bytes().all(|b| b.is_ascii_alphabetic() || b == b'-'), "{line}");
    }
    assert_eq!((field("Contact"), field("Expires")), (1, 1), "{body:?}");
    assert!(body.contains(&format!("Contact: mailto:{}", desk.security).as_str()), "{body:?}");
    assert!(body.contains(&"Expires: 2027-05-23T10:00:00Z"), "{body:?}");
    assert!(body.iter().any(|l| l.starts_with("Encryption: openpgp4fpr:")), "{body:?}");
    assert!(body.contains(&"Acknowledgments: https://example.test/hall-of-fame"), "{body:?}");
    assert!(body.contains(&"Policy: https://example.test/security/policy"), "{body:?}");
    assert!(body.contains(&"Preferred-Languages: en, de"), "{body:?}");
    // The policy names a language nobody is answered in: check says so.
    let check = desk.vdpd(&["check"]);
    let said = String::from_utf8_lossy(&check.stdout);
    assert!(said.contains("preferred_languages names \"de\", but researchers are answered only in en, fr"), "{said}");
    assert!(body.contains(&"Canonical: https://example.test/.well-known/security.txt"), "{body:?}");

    // Unsigned to standard output as well; without a key, --sign is refused with the reason.
    assert!(desk.vdpd_ok(&["security-txt"]).starts_with("# security.txt of Example Security"));
}

#[test]
fn exports_carry_metadata_and_clocks_and_content_only_when_asked() {
    let desk = Desk::new("export");
    let alice = desk.researcher(1);
    let file = desk.dir.path().join("report.eml");
    std::fs::write(
        &file,
        common::report(
            &alice,
            &desk.security,
            "=HYPERLINK(\"https://evil.example\",\"click\")",
            "<x1@research.test>",
            "Asset: https://app.example.test/login\nWeakness: CWE-89\nSeverity: high\nDescription: secret-detail-4711",
        ),
    )
    .unwrap();
    desk.vdpd_ok(&["ingest", "--no-deliver", "--now", "2026-11-23T10:00:00Z", file.to_str().unwrap()]);

    let plain = desk.vdpd_ok(&["export", "--format", "json"]);
    assert!(
        !plain.contains("secret-detail-4711") && !plain.contains("HYPERLINK") && !plain.contains(&alice),
        "{plain}"
    );
    let rows: serde_json::Value = serde_json::from_str(&plain).unwrap();
    let t = &rows[0];
    assert_eq!((t["reference"].as_str(), t["severity"].as_str()), (Some("EX-2026-0001"), Some("high")));
    assert_eq!(
        t["weakness_name"],
        "Improper Neutralization of Special Elements used in an SQL Command ('SQL Injection')"
    );
    assert_eq!(t["asset_host"], "app.example.test");
    let clocks: Vec<&str> = t["clocks"].as_array().unwrap().iter().map(|c| c["clock"].as_str().unwrap()).collect();
    assert_eq!(clocks, ["acknowledge", "diagnosis", "fix", "disclosure"]);
    assert_eq!(t["clocks"][2]["due_at"], "2026-12-23T10:00:00Z", "high: 30 days");

    let full: serde_json::Value = serde_json::from_str(&desk.vdpd_ok(&["export", "--with-content"])).unwrap();
    assert_eq!(full[0]["content"]["reporter"], alice.as_str());
    assert!(full[0]["content"]["form"]["Description"].as_str().unwrap().contains("secret-detail-4711"));

    let csv = desk.vdpd_ok(&["export", "--format", "csv", "--with-content"]);
    let mut lines = csv.split("\r\n");
    let header = lines.next().unwrap();
    assert!(header.starts_with("reference,state,outcome,severity,") && header.ends_with(",reporter,subject,asset"));
    let row = lines.next().unwrap();
    assert!(row.starts_with("EX-2026-0001,new,,high,"), "{row}");
    // A formula in a researcher's subject is defused for spreadsheets.
    assert!(row.contains(",\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"click\"\")\","), "{row}");
}

/// One HTTP GET on loopback, the answer as text.
#[test]
fn prometheus_metrics_show_what_status_shows() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let desk = Desk::with(
        "metrics",
        Options { extra: format!("\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n"), ..Options::default() },
    );
    let mut daemon = desk.spawn_run();
    common::wait_until(std::time::Duration::from_secs(30), "the daemon to idle", || {
        desk.status()["imap"]["state"] == "idle"
    });
    let alice = desk.researcher(1);
    desk.send(&alice, &common::report(&alice, &desk.security, "XSS", &format!("<m1-{}@r.test>", desk.id), "x"));
    desk.wait_inbox(&alice, 1, std::time::Duration::from_secs(30));
    common::wait_until(std::time::Duration::from_secs(30), "the ticket in the metrics", || {
        common::http_get(port, "/metrics").lines().any(|l| l == "vdpd_tickets_created_total 1")
    });
    let answer = common::http_get(port, "/metrics");
    assert!(answer.starts_with("HTTP/1.1 200 OK\r\n") && answer.contains("text/plain; version=0.0.4"), "{answer}");
    for line in ["vdpd_mail_fetched_total{outcome=\"ticket\"} 1", "vdpd_outbox_depth 0", "vdpd_sla_breaches_total 0"] {
        assert!(answer.lines().any(|l| l == line), "{line:?} missing:\n{answer}");
    }
    common::wait_until(std::time::Duration::from_secs(30), "IMAP idle in the metrics", || {
        common::http_get(port, "/metrics").lines().any(|l| l == "vdpd_imap_connected 1")
    });
    assert!(common::http_get(port, "/").starts_with("HTTP/1.1 404"));
    // The port is taken now: a second daemon on another store refuses to start, and says why.
    let other = Desk::with(
        "metrics2",
        Options { extra: format!("\n[metrics]\nlisten = \"127.0.0.1:{port}\"\n"), ..Options::default() },
    );
    let out = other.vdpd(&["run"]);
    assert!(
        !out.status.success() && String::from_utf8_lossy(&out.stderr).contains("[metrics] listen"),
        "{}",
        common::show(&out)
    );
    assert!(daemon.terminate(std::time::Duration::from_secs(30)).success());
}

/// The README's trial run, as written there: the shipped policy.toml copied with only the store (and the
/// templates directory) pointed elsewhere, a key, the shipped sample report ingested without a mail server,
/// and what vdpd understood shown by `tickets`. No server is contacted, no password is read.
#[test]
fn the_readme_trial_run_works_on_the_shipped_policy_without_a_mail_server() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(root.join("policy.toml")).unwrap();
    let trial = shipped
        .replace("path = \"/var/lib/vdpd/vdpd.sqlite\"", "path = \"vdpd.sqlite\"")
        .replace("dir = \"templates\"", &format!("dir = \"{}\"", root.join("templates").display()));
    assert_ne!(trial, shipped);
    let config = dir.path().join("policy.toml");
    std::fs::write(&config, trial).unwrap();
    let vdpd = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_vdpd"))
            .arg("--config")
            .arg(&config)
            .args(args)
            .env_remove("VDPD_CONFIG")
            .output()
            .unwrap();
        assert!(out.status.success(), "vdpd {args:?}: {}", common::show(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    vdpd(&["key", "generate"]);
    let sample = root.join("examples/sample-report.eml");
    vdpd(&["ingest", "--no-deliver", "--now", "2026-12-01T10:00:00Z", sample.to_str().unwrap()]);
    let list = vdpd(&["tickets", "list"]);
    assert!(list.contains("EX-2026-0001") && list.contains("Stored XSS"), "{list}");
    let show: serde_json::Value = serde_json::from_str(&vdpd(&["tickets", "show", "EX-2026-0001", "--json"])).unwrap();
    let messages = show["messages"].as_array().unwrap();
    assert!(messages.iter().any(|m| m["direction"] == "in"), "{show}");
    assert!(
        messages.iter().any(|m| m["direction"] == "out" && m["status"] == "queued"),
        "the acknowledgement waits, queued, for the daemon: {show}"
    );
    assert!(!dir.path().join("smtp-password").exists());
}

/// The sectxt validator's verdict on a file: (errors, recommendations) codes; it must be installed
/// (`scripts/test.sh` puts it in a virtual environment and names its interpreter in VDPD_VALIDATORS_PYTHON).
fn sectxt(file: &std::path::Path) -> (Vec<String>, Vec<String>) {
    let python = common::validators_python();
    let validator = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sectxt/validate.py");
    let out = std::process::Command::new(python).arg(validator).arg(file).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|_| panic!("{}", common::show(&out)));
    let codes = |k: &str| v[k].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap().to_string()).collect();
    (codes("errors"), codes("recommendations"))
}

/// The daemon's pass (here `vdpd once`) keeps `[security_txt] path` valid: written signed at once, with
/// Canonical, Encryption, CSAF and Preferred-Languages, passing the sectxt validator without an error or a
/// recommendation; left alone while current; written again before it expires, when the policy changes, and
/// when someone leaves an expired or unsigned file there — which `vdpd check` warns about meanwhile.
#[test]
fn the_daemon_keeps_security_txt_valid_and_renews_it_before_it_expires() {
    let policy = |languages: &str| {
        format!(
            "\n[openpgp]\n\n[security_txt]\npath = \"www/security.txt\"\nexpires = \"6 months\"\nrenew_before = \"30 days\"\n\
             preferred_languages = [{languages}]\ncsaf = [\"https://example.test/.well-known/csaf/provider-metadata.json\"]\n"
        )
    };
    let desk = Desk::with("sectxt-renew", Options { extra: policy("\"en\""), ..Options::default() });
    desk.vdpd_ok(&["key", "generate"]);
    let www = desk.dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    let file = www.join("security.txt");
    use std::os::unix::fs::PermissionsExt;

    // Written at the first pass (now: the validator judges Expires against the real clock).
    desk.once_ok();
    let now = std::fs::read_to_string(&file).unwrap();
    assert!(now.starts_with("-----BEGIN PGP SIGNED MESSAGE-----\n"), "{now}");
    assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o644, "a web server reads it");
    assert_eq!(sectxt(&file), (vec![], vec![]), "no error, no recommendation:\n{now}");
    std::fs::remove_file(&file).unwrap();

    // From here on, time as the tests drive it (after the key was made: it signs).
    desk.once_at("2027-01-10T10:00:00Z");
    let first = std::fs::read_to_string(&file).unwrap();
    for field in [
        "Expires: 2027-07-10T10:00:00Z",
        "Canonical: https://example.test/.well-known/security.txt",
        "CSAF: https://example.test/.well-known/csaf/provider-metadata.json",
        "Preferred-Languages: en",
        "Encryption: openpgp4fpr:",
    ] {
        assert!(first.contains(field), "{field:?} in\n{first}");
    }

    let status = desk.json(&["status", "--json"]);
    assert!(status["security_txt"].as_str().unwrap().starts_with("ok, valid until 2027-07-10"), "{status:#}");

    // Current: left as it is.
    desk.once_at("2027-06-05T10:00:00Z");
    assert_eq!(std::fs::read_to_string(&file).unwrap(), first);
    // Within 30 days of its Expires: written again, six months on from then.
    desk.once_at("2027-06-12T10:00:00Z");
    let renewed = std::fs::read_to_string(&file).unwrap();
    assert!(renewed.contains("Expires: 2027-12-12T10:00:00Z"), "{renewed}");

    // The policy changes what it says: the file follows at the next pass.
    desk.write_policy(&Options { extra: policy("\"en\", \"nl\""), ..Options::default() });
    desk.once_at("2027-06-13T10:00:00Z");
    assert!(std::fs::read_to_string(&file).unwrap().contains("Preferred-Languages: en, nl"));

    // An expired file left there: `vdpd check` warns (without failing the start), the next pass replaces it.
    std::fs::write(&file, "Contact: mailto:security@example.test\nExpires: 2026-01-01T00:00:00Z\n").unwrap();
    let out = desk.vdpd(&["check"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("WARN  security.txt:") && text.contains("EXPIRED"), "{text}");
    desk.once_at("2027-06-14T10:00:00Z");
    let replaced = std::fs::read_to_string(&file).unwrap();
    assert!(replaced.starts_with("-----BEGIN PGP SIGNED MESSAGE-----") && replaced.contains("Expires: 2027-12-14"));
    let out = desk.vdpd(&["check"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok    security.txt:"), "{}", common::show(&out));

    // A file that cannot be written is a failure `vdpd status` names and the escalation contact is told of,
    // not a stopped desk.
    let cto = format!("cto-{}@example.test", desk.id);
    let broken = policy("\"en\"").replace("path = \"www/security.txt\"", "path = \"gone/security.txt\"")
        + &format!("\n[staff]\nescalation = [\"{cto}\"]\n");
    desk.write_policy(&Options { extra: broken, ..Options::default() });
    desk.once_at("2027-06-15T10:00:00Z");
    let status = desk.json(&["status", "--json"]);
    assert!(status["security_txt"].as_str().unwrap().starts_with("failing: "), "{status:#}");
    let alerts = desk.queued_subjects(&cto);
    assert_eq!(alerts, ["[vdpd] Attention: security.txt is not renewed"], "{alerts:?}");
}

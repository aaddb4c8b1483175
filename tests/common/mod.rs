//! The test harness: a real mail stack (Postfix + Dovecot, started by `scripts/mailstack.sh`), one scratch
//! "desk" (policy, store, security mailbox) per test, and the real `vdpd` binary.
//!
//! Every test invents its own addresses (`sec-<id>@example.test`, `r1-<id>@example.test` …): the stack
//! accepts any address in example.test, so tests run in parallel without seeing each other's mail.

#![allow(dead_code)]

pub mod gpg;
pub mod imap;
pub mod proxy;
pub mod smtp;
pub mod team;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use imap::Imap;

/// Where the mail stack listens (the defaults of scripts/mailstack.sh, or its MAILSTACK_* variables).
#[derive(Debug, Clone)]
pub struct Stack {
    pub smtp: u16,
    pub submission: u16,
    /// As `smtp`, but its EHLO does not offer PIPELINING (RFC 2920).
    pub smtp_no_pipelining: u16,
    pub imap: u16,
    pub imaps: u16,
    /// The OAuth2 provider (scripts/oauth2-server.py).
    pub oauth: u16,
    pub ca: PathBuf,
    /// Postfix's log (deliveries are waited for in it).
    pub log: PathBuf,
}

fn env_port(name: &str, default: u16) -> u16 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

impl Stack {
    pub fn get() -> Stack {
        let root = std::env::var("MAILSTACK_ROOT").unwrap_or_else(|_| "/tmp/vdpd-mailstack".into());
        let stack = Stack {
            smtp: env_port("MAILSTACK_SMTP_PORT", 2525),
            submission: env_port("MAILSTACK_SUBMISSION_PORT", 1587),
            smtp_no_pipelining: env_port("MAILSTACK_NOPIPELINING_PORT", 2526),
            imap: env_port("MAILSTACK_IMAP_PORT", 1143),
            imaps: env_port("MAILSTACK_IMAPS_PORT", 1993),
            oauth: env_port("MAILSTACK_OAUTH_PORT", 1890),
            log: Path::new(&root).join("log/postfix.log"),
            ca: std::env::var("MAILSTACK_CA")
                .map(PathBuf::from)
                .unwrap_or_else(|_| Path::new(&root).join("tls/ca.pem")),
        };
        for port in [stack.smtp, stack.submission, stack.smtp_no_pipelining, stack.imap, stack.imaps, stack.oauth] {
            assert!(
                std::net::TcpStream::connect(("127.0.0.1", port)).is_ok(),
                "nothing listens on 127.0.0.1:{port}: start the mail stack with `sudo scripts/mailstack.sh start` \
                 (or run the whole suite with `sudo scripts/test.sh`)"
            );
        }
        assert!(stack.ca.exists(), "{} missing: is the mail stack set up?", stack.ca.display());
        stack
    }
}

/// The reference vdpd gives the `n`-th ticket it opens this year (`EX-2026-0001`). Tests that run on the
/// system clock must not write the year out: the suite has to pass in any year. (The year is read once per
/// test process; a run that spans midnight on 31 December is the one case this gets wrong.)
pub fn ex(n: u32) -> String {
    static YEAR: std::sync::OnceLock<i16> = std::sync::OnceLock::new();
    let year = *YEAR.get_or_init(|| jiff::Timestamp::now().to_zoned_datetime(jiff::tz::TimeZone::UTC).year());
    format!("EX-{year}-{n:04}")
}

/// A unique, short id for one test's addresses.
pub fn unique(name: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("{name}-{}-{}-{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst), nanos % 100_000)
}

/// `[limits]` for a backlog of thousands of distinct reports arriving at once: the per-sender and hourly
/// caps on new tickets (5 a day, 60 an hour as shipped) would hold most of them back, as designed against
/// floods; backlog tests measure throughput and crash safety instead.
pub const BACKLOG_LIMITS: &str = "new_tickets_per_sender_per_day = 100000\nnew_tickets_per_hour = 1000000";

/// Where `processed_mailbox = "vdpd/processed"` (the shipped value) lives on the stack's Dovecot (Maildir++
/// levels are separated by dots).
pub const PROCESSED: &str = "vdpd.processed";

/// How a desk's policy differs from the default.
#[derive(Debug, Clone)]
pub struct Options {
    /// `implicit` (IMAPS), `starttls` or `none`.
    pub imap_tls: &'static str,
    /// Overrides the IMAP port (e.g. a proxy).
    pub imap_port: Option<u16>,
    pub imap_timeout: &'static str,
    /// Overrides the SMTP port (e.g. a proxy or a closed port).
    pub smtp_port: Option<u16>,
    pub processed_mailbox: bool,
    /// The mailbox vdpd reads.
    pub mailbox: &'static str,
    pub idle: bool,
    /// Extra TOML appended to the policy.
    pub extra: String,
    pub limits: String,
    /// Log in to IMAP with XOAUTH2, with this refresh token from the stack's OAuth2 provider.
    pub oauth2_refresh: Option<String>,
    /// Send through the submission port with XOAUTH2 too (else plain SMTP without AUTH).
    pub oauth2_smtp: bool,
    pub oauth2_refresh_before: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            imap_tls: "implicit",
            imap_port: None,
            imap_timeout: "20s",
            smtp_port: None,
            processed_mailbox: true,
            mailbox: "INBOX",
            idle: true,
            extra: String::new(),
            limits: String::new(),
            oauth2_refresh: None,
            oauth2_smtp: false,
            oauth2_refresh_before: "5m",
        }
    }
}

/// One test's vdpd: a scratch directory with policy.toml and the store, and its own security address.
pub struct Desk {
    pub dir: tempfile::TempDir,
    pub id: String,
    pub security: String,
    pub stack: Stack,
    pub config: PathBuf,
}

impl Desk {
    pub fn new(name: &str) -> Desk {
        Self::with(name, Options::default())
    }

    pub fn with(name: &str, o: Options) -> Desk {
        let stack = Stack::get();
        let id = unique(name);
        let security = format!("sec-{id}@example.test");
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("policy.toml");
        let desk = Desk { dir, id, security, stack, config };
        desk.write_policy(&o);
        desk
    }

    pub fn write_policy(&self, o: &Options) {
        let imap_port = o.imap_port.unwrap_or(match o.imap_tls {
            "implicit" => self.stack.imaps,
            _ => self.stack.imap,
        });
        // The shipped value: vdpd translates it into the server's naming (PROCESSED on the stack's Dovecot).
        let processed = if o.processed_mailbox { "processed_mailbox = \"vdpd/processed\"\n" } else { "" };
        let imap_login = match &o.oauth2_refresh {
            Some(_) => "auth = \"xoauth2\"".to_string(),
            None => "password_file = \"imap.pass\"".to_string(),
        };
        let (smtp_port, smtp_login) = match (o.oauth2_smtp, o.smtp_port) {
            (true, _) => (self.stack.submission, format!("username = \"{}\"\nauth = \"xoauth2\"\n", self.security)),
            (false, Some(p)) => (p, String::new()),
            (false, None) => (self.stack.smtp, String::new()),
        };
        let oauth2 = match &o.oauth2_refresh {
            Some(token) => {
                std::fs::write(self.dir.path().join("oauth2-refresh-token"), format!("{token}\n")).unwrap();
                format!(
                    "\n[oauth2]\ntoken_url = \"http://127.0.0.1:{}/token\"\nclient_id = \"vdpd-test\"\n\
                     refresh_token_file = \"oauth2-refresh-token\"\nscopes = [\"imap\", \"smtp\"]\nrefresh_before = \"{}\"\n",
                    self.stack.oauth, o.oauth2_refresh_before
                )
            }
            None => String::new(),
        };
        let text = format!(
            r#"[organisation]
name = "Example Security"
security_address = "{security}"
ticket_prefix = "EX"
policy_url = "https://example.test/security/policy"

[imap]
host = "127.0.0.1"
port = {imap_port}
tls = "{imap_tls}"
ca_file = "{ca}"
username = "{security}"
{imap_login}
mailbox = "{mailbox}"
{processed}idle = {idle}
poll_interval = "2s"
timeout = "{timeout}"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
tls = "starttls"
ca_file = "{ca}"
{smtp_login}retry_initial = "1s"
retry_max = "2s"
timeout = "10s"

[store]
path = "vdpd.sqlite"

[limits]
{limits}

[sla]
acknowledge = "24h"
first_diagnosis = "7 business days"
disclosure = "90 days"

[sla.fix]
critical = "7 days"
high = "30 days"
medium = "60 days"
low = "90 days"
{oauth2}
{extra}
"#,
            security = self.security,
            imap_tls = o.imap_tls,
            ca = self.stack.ca.display(),
            idle = o.idle,
            mailbox = o.mailbox,
            timeout = o.imap_timeout,
            smtp_port = smtp_port,
            limits = o.limits,
            extra = o.extra,
        );
        std::fs::write(&self.config, text).unwrap();
        std::fs::write(self.dir.path().join("imap.pass"), "pass\n").unwrap();
    }

    /// Replaces this desk's policy by the example policy `examples/<example>` (and its templates), keeping
    /// this test's mail servers, store and security address; `adjust` changes what else the test needs
    /// (staff, escalation contacts).
    pub fn use_example(&self, example: &str, adjust: impl FnOnce(&mut toml::Table)) {
        self.use_policy_of(&Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(example), adjust);
    }

    /// Replaces this desk's policy by the shipped `policy.toml` (and `templates/`) as the package installs them,
    /// keeping this test's mail servers, store and security address, as [`Desk::use_example`] does.
    pub fn use_shipped(&self, adjust: impl FnOnce(&mut toml::Table)) {
        self.use_policy_of(Path::new(env!("CARGO_MANIFEST_DIR")), adjust);
    }

    /// The shipped policy with `n` staff members who each have a GnuPG key (in the sink domain, so their
    /// mail is accepted and discarded), the flood caps lifted as for a backlog (`BACKLOG_LIMITS`), and an
    /// organisation key: every report then sends the acknowledgement and one notification encrypted to all
    /// of them. `adjust` changes the policy further, knowing the members; returns them.
    pub fn use_shipped_with_staff(
        &self,
        n: usize,
        adjust: impl FnOnce(&mut toml::Table, &[gpg::Gpg]),
    ) -> Vec<gpg::Gpg> {
        let staff: Vec<gpg::Gpg> =
            (1..=n).map(|i| gpg::Gpg::new(&format!("staff{i}-{}@sink.example.test", self.id))).collect();
        let members: Vec<toml::Value> = staff
            .iter()
            .enumerate()
            .map(|(i, g)| {
                let mut m = toml::Table::new();
                m.insert("address".into(), g.address.clone().into());
                m.insert("name".into(), format!("Staff {}", i + 1).into());
                m.insert("cert".into(), g.export_to(self.dir.path()).display().to_string().into());
                toml::Value::Table(m)
            })
            .collect();
        self.use_shipped(|p| {
            let lifted: toml::Table = BACKLOG_LIMITS.parse().expect("BACKLOG_LIMITS is TOML");
            table(p, "limits").extend(lifted);
            table(p, "staff").insert("members".into(), toml::Value::Array(members));
            adjust(p, &staff);
        });
        self.vdpd_ok(&["key", "generate"]);
        staff
    }

    fn use_policy_of(&self, dir: &Path, adjust: impl FnOnce(&mut toml::Table)) {
        let mut policy: toml::Table = std::fs::read_to_string(dir.join("policy.toml")).unwrap().parse().unwrap();
        let ours: toml::Table = std::fs::read_to_string(&self.config).unwrap().parse().unwrap();
        for key in ["imap", "smtp", "store"] {
            policy.insert(key.into(), ours[key].clone());
        }
        table(&mut policy, "organisation").insert("security_address".into(), self.security.clone().into());
        adjust(&mut policy);
        std::fs::write(&self.config, toml::to_string(&policy).unwrap()).unwrap();
        let templates = self.dir.path().join("templates");
        std::fs::create_dir_all(&templates).unwrap();
        // The templates and their language folders (`fr/`), as an admin copies the folder.
        for entry in std::fs::read_dir(dir.join("templates")).unwrap() {
            let entry = entry.unwrap();
            if entry.path().is_dir() {
                let lang = templates.join(entry.file_name());
                std::fs::create_dir_all(&lang).unwrap();
                for file in std::fs::read_dir(entry.path()).unwrap() {
                    let file = file.unwrap();
                    std::fs::copy(file.path(), lang.join(file.file_name())).unwrap();
                }
            } else {
                std::fs::copy(entry.path(), templates.join(entry.file_name())).unwrap();
            }
        }
    }

    /// The subjects of every mail vdpd queued to `address`, in order: final once `vdpd once` (or `ingest`)
    /// has returned, unlike an inbox that mail may still be on its way to. The real subject, also of
    /// encrypted mail (whose outer Subject shows only the reference).
    pub fn queued_subjects(&self, address: &str) -> Vec<String> {
        let conn = rusqlite::Connection::open_with_flags(self.store_path(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap_or_else(|e| panic!("the store cannot be read: {e}"));
        let mut stmt = conn
            .prepare(
                "SELECT m.subject, coalesce(b.raw, x'') FROM outbox o LEFT JOIN messages m ON m.id = o.message_row
                 LEFT JOIN outbox_body b ON b.id = o.body_id WHERE o.recipient = ?1 ORDER BY o.id",
            )
            .unwrap();
        stmt.query_map([address], |r| Ok((r.get::<_, Option<String>>(0)?, r.get::<_, Vec<u8>>(1)?)))
            .unwrap()
            .map(|row| {
                let (subject, raw) = row.unwrap();
                subject.unwrap_or_else(|| header(&raw, "Subject").unwrap_or_default())
            })
            .collect()
    }

    /// The real Subject of a mail vdpd sent: for encrypted mail (whose outer Subject shows only the ticket
    /// reference) the one vdpd recorded for its Message-ID; else its header.
    pub fn subject_of(&self, raw: &[u8]) -> String {
        let outer = header(raw, "Subject").unwrap_or_default();
        let Some(id) = header(raw, "Message-ID") else { return outer };
        let conn = rusqlite::Connection::open_with_flags(self.store_path(), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .unwrap_or_else(|e| panic!("the store cannot be read: {e}"));
        conn.query_row("SELECT subject FROM messages WHERE message_id = ?1 AND direction = 'out'", [&id], |r| r.get(0))
            .unwrap_or(outer)
    }

    /// How many mails vdpd queued to `address` (see [`Desk::queued_subjects`]).
    pub fn queued_to(&self, address: &str) -> usize {
        self.queued_subjects(address).len()
    }

    /// Runs `vdpd once --now T`, panicking on failure; returns stdout.
    pub fn once_at(&self, now: &str) -> String {
        self.vdpd_ok(&["once", "--now", now])
    }

    /// A researcher address of this test.
    pub fn researcher(&self, n: u32) -> String {
        format!("r{n}-{}@example.test", self.id)
    }

    pub fn store_path(&self) -> PathBuf {
        self.dir.path().join("vdpd.sqlite")
    }

    /// The Maildir of an address of the stack (created by logging in once).
    pub fn maildir(&self, address: &str) -> PathBuf {
        let mut imap = Imap::login(self.stack.imap, address, "pass");
        imap.select("INBOX");
        imap.logout();
        let root = std::env::var("MAILSTACK_ROOT").unwrap_or_else(|_| "/tmp/vdpd-mailstack".into());
        let (local, domain) = address.split_once('@').unwrap();
        Path::new(&root).join("mail").join(domain).join(local).join("Maildir")
    }

    /// Puts messages straight into the security INBOX's Maildir, as if they had arrived while vdpd was away
    /// (thousands of APPENDs would take longer than the test). Needs the rights of the mail user (root).
    pub fn fill_inbox(&self, messages: impl IntoIterator<Item = Vec<u8>>) {
        let maildir = self.maildir(&self.security);
        let new = maildir.join("new");
        for (i, raw) in messages.into_iter().enumerate() {
            std::fs::write(new.join(format!("1700000000.fill{i}.host")), raw).unwrap();
        }
        // The files belong to the mail user, like the ones Dovecot writes.
        let owner = std::fs::metadata(&maildir).map(|m| std::os::unix::fs::MetadataExt::uid(&m)).unwrap();
        let status = Command::new("chown").arg("-R").arg(format!("{owner}:{owner}")).arg(&new).status().unwrap();
        assert!(status.success(), "chown the messages to the mail user");
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_vdpd"));
        c.arg("--config").arg(&self.config).env_remove("VDPD_LOG").env_remove("NOTIFY_SOCKET");
        c
    }

    pub fn vdpd(&self, args: &[&str]) -> Output {
        self.command().args(args).output().unwrap()
    }

    /// Runs vdpd and returns stdout, panicking with the whole output on failure.
    pub fn vdpd_ok(&self, args: &[&str]) -> String {
        let out = self.vdpd(args);
        assert!(out.status.success(), "vdpd {args:?} failed: {}", show(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn once(&self) -> Output {
        self.vdpd(&["once"])
    }

    pub fn once_ok(&self) -> String {
        self.vdpd_ok(&["once"])
    }

    pub fn json(&self, args: &[&str]) -> serde_json::Value {
        serde_json::from_str(&self.vdpd_ok(args)).unwrap()
    }

    pub fn tickets(&self) -> Vec<serde_json::Value> {
        self.json(&["tickets", "list", "--json"]).as_array().unwrap().clone()
    }

    pub fn show(&self, reference: &str) -> serde_json::Value {
        self.json(&["tickets", "show", reference, "--json"])
    }

    /// `vdpd status --json`. A daemon spawned a moment ago may not have created its store yet (and status
    /// never creates one): wait for it briefly.
    pub fn status(&self) -> serde_json::Value {
        wait_until(Duration::from_secs(10), "the store to exist", || self.store_path().exists());
        self.json(&["status", "--json"])
    }

    pub fn mail(&self, status: &str) -> Vec<serde_json::Value> {
        self.json(&["mail", "list", "--status", status, "--limit", "10000", "--json"]).as_array().unwrap().clone()
    }

    /// Starts `vdpd run`; killed when the handle drops.
    pub fn spawn_run(&self) -> Daemon {
        self.spawn_run_with(|_| {})
    }

    pub fn spawn_run_with(&self, f: impl FnOnce(&mut Command)) -> Daemon {
        let log = self.dir.path().join(format!("run-{}.log", unique("log")));
        let mut cmd = self.command();
        cmd.arg("run")
            .env("VDPD_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::from(std::fs::File::options().append(true).open(&log).unwrap()));
        f(&mut cmd);
        Daemon { child: Some(cmd.spawn().unwrap()), log }
    }

    /// Sends a message to the security address through Postfix.
    /// Waits until Postfix has delivered it, so that the next `vdpd once` finds it.
    pub fn send(&self, from: &str, message: &[u8]) {
        let offset = std::fs::metadata(&self.stack.log).map_or(0, |m| m.len());
        let qid = smtp::send(self.stack.smtp, from, &self.security, message);
        smtp::wait_delivered(&self.stack.log, offset, &qid);
    }

    /// Puts a message straight into the security INBOX (exact bytes, no MTA in between).
    pub fn append(&self, message: &[u8]) {
        self.append_to("INBOX", message);
    }

    pub fn append_to(&self, mailbox: &str, message: &[u8]) {
        let mut imap = Imap::login(self.stack.imap, &self.security, "pass");
        imap.create(mailbox);
        imap.append(mailbox, message);
        imap.logout();
    }

    /// Every message in `address`'s INBOX.
    pub fn inbox(&self, address: &str) -> Vec<Vec<u8>> {
        let mut imap = Imap::login(self.stack.imap, address, "pass");
        let all = imap.fetch_all("INBOX").into_iter().map(|(_, m)| m).collect();
        imap.logout();
        all
    }

    /// Waits until `address`'s INBOX holds at least `n` messages; returns them.
    pub fn wait_inbox(&self, address: &str, n: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let start = Instant::now();
        loop {
            let all = self.inbox(address);
            if all.len() >= n {
                return all;
            }
            assert!(
                start.elapsed() < timeout,
                "{address} has {} message(s), expected {n} within {timeout:?}\n{}",
                all.len(),
                self.diagnosis()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// What the store says about mail and events, for a failure message: every outbox row and the last
    /// timeline entries and staff warnings (a mail that never arrived was never queued, or is waiting, or
    /// failed — these tell which).
    pub fn diagnosis(&self) -> String {
        let path = self.store_path();
        let Ok(conn) = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
            return format!("(no store at {})", path.display());
        };
        let rows = |sql: &str| -> Vec<String> {
            let Ok(mut stmt) = conn.prepare(sql) else { return vec![format!("({sql}: cannot prepare)")] };
            let n = stmt.column_count();
            stmt.query_map([], |r| {
                Ok((0..n)
                    .map(|i| match r.get_ref(i) {
                        Ok(rusqlite::types::ValueRef::Text(t)) => String::from_utf8_lossy(t).into_owned(),
                        Ok(rusqlite::types::ValueRef::Integer(v)) => v.to_string(),
                        Ok(rusqlite::types::ValueRef::Null) => "-".into(),
                        _ => "?".into(),
                    })
                    .collect::<Vec<_>>()
                    .join(" | "))
            })
            .map(|it| it.filter_map(Result::ok).collect())
            .unwrap_or_default()
        };
        let mut out = String::from("outbox (id | kind | recipient | status | attempts | last_error):\n");
        for r in rows("SELECT id, kind, recipient, status, attempts, last_error FROM outbox ORDER BY id") {
            out.push_str(&format!("  {r}\n"));
        }
        out.push_str("timeline, last 30 (ticket | actor | event | detail):\n");
        for r in rows("SELECT ticket_id, actor, event, substr(detail, 1, 160) FROM timeline ORDER BY id DESC LIMIT 30")
        {
            out.push_str(&format!("  {r}\n"));
        }
        out.push_str("staff warnings (kind | detail):\n");
        for r in rows("SELECT kind, substr(detail, 1, 200) FROM staff_warnings ORDER BY id") {
            out.push_str(&format!("  {r}\n"));
        }
        out.push_str("intake (id | status | reason):\n");
        for r in rows("SELECT id, status, substr(coalesce(reason, ''), 1, 160) FROM intake ORDER BY id DESC LIMIT 20") {
            out.push_str(&format!("  {r}\n"));
        }
        out
    }
}

/// Writes the CSAF advisory of `reference` and validates it against the OASIS CSAF 2.0 JSON schema (with
/// Debian's python3-jsonschema and the schemas in tests/csaf/); returns the document.
pub fn valid_csaf(desk: &Desk, reference: &str) -> serde_json::Value {
    let file = desk.dir.path().join(format!("{reference}.csaf.json"));
    desk.vdpd_ok(&["advisory", reference, "--format", "csaf", "--output", file.to_str().unwrap()]);
    let validator = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/csaf/validate.py");
    let out = Command::new("/usr/bin/python3").arg(&validator).arg(&file).output().expect("python3 runs");
    assert!(
        out.status.success(),
        "the advisory does not validate against the CSAF 2.0 schema:\n{}\n{}",
        show(&out),
        std::fs::read_to_string(&file).unwrap()
    );
    serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap()
}

/// The Python with the validators from PyPI (sectxt, cvelib), which `scripts/test.sh` installs in a virtual
/// environment and names in VDPD_VALIDATORS_PYTHON.
pub fn validators_python() -> String {
    std::env::var("VDPD_VALIDATORS_PYTHON").expect(
        "VDPD_VALIDATORS_PYTHON names the Python with the sectxt and cvelib validators: run the tests through \
         scripts/test.sh (or source scripts/lib.sh and call use_validators)",
    )
}

/// A sub-table of a TOML document, created if absent.
pub fn table<'a>(t: &'a mut toml::Table, key: &str) -> &'a mut toml::Table {
    t.entry(key).or_insert_with(|| toml::Value::Table(toml::Table::new())).as_table_mut().unwrap()
}

/// A running `vdpd run`.
pub struct Daemon {
    child: Option<Child>,
    pub log: PathBuf,
}

impl Daemon {
    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Sends SIGTERM and waits (at most `timeout`) for the exit status.
    pub fn terminate(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let mut c = self.child.take().unwrap();
        signal(c.id(), "TERM");
        let start = Instant::now();
        loop {
            if let Some(status) = c.try_wait().unwrap() {
                return status;
            }
            assert!(start.elapsed() < timeout, "vdpd did not stop within {timeout:?} after SIGTERM");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| c.try_wait().unwrap().is_none())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub fn signal(pid: u32, name: &str) {
    let ok = Command::new("kill").arg(format!("-{name}")).arg(pid.to_string()).status().unwrap().success();
    assert!(ok, "kill -{name} {pid}");
}

/// The single number `sql` selects from the store at `db`; -1 while the store does not exist yet (or has no
/// schema yet), so that
/// an assertion of 0 never passes on a store that is not there. A store that exists but cannot be read, or
/// a query that fails, panics: a broken count must never look like "nothing happened".
pub fn count(db: &Path, sql: &str) -> i64 {
    if !db.exists() {
        return -1;
    }
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap_or_else(|e| panic!("{}: {e}", db.display()));
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    match conn.query_row(sql, [], |r| r.get(0)) {
        Ok(n) => n,
        // Created a moment ago, its schema not committed yet: as good as not there.
        Err(e) if e.to_string().contains("no such table") => -1,
        Err(e) => panic!("{sql}: {e}"),
    }
}

/// A plain HTTP GET on loopback (the metrics endpoint), the whole answer as text.
pub fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(s, "GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

pub fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Polls `f` every 50 ms until it returns true; panics after `timeout` with `what`.
pub fn wait_until(timeout: Duration, what: &str, mut f: impl FnMut() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < timeout, "timed out after {timeout:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A plain report as a researcher's mail client would write it.
pub fn report(from: &str, to: &str, subject: &str, message_id: &str, body: &str) -> Vec<u8> {
    format!(
        "From: Researcher <{from}>\r\nTo: {to}\r\nSubject: {subject}\r\nMessage-ID: {message_id}\r\n\
         Date: Mon, 23 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// Parses a raw message for assertions.
pub fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default().parse(raw).expect("a parseable message")
}

/// A header's raw value, trimmed.
pub fn header(raw: &[u8], name: &str) -> Option<String> {
    parse(raw).header_raw(name).map(|v| v.trim().to_string())
}

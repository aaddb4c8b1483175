//! The validated configuration: the policy a desk enacts and how it reaches its mail servers, as values.
//!
//! These are the types the rest of vdpd reads, and [`parse`] makes them from the text of `policy.toml`,
//! naming the line of every problem. Reading the file is the shell's (`vdpd::config::load`), and so is reading
//! secrets: a [`PasswordSource`] only says where a password lives.

mod cra;
mod policy;
mod raw;
mod read;

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

pub use crate::duration::{ParseDurationError, PolicyDuration, Unit};
pub use cra::*;
pub use policy::*;
#[cfg(test)]
pub(crate) use read::TestMachine;
pub use read::{Machine, parse};

/// A fully validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was read from (for messages and for resolving relative paths).
    pub path: PathBuf,
    pub organisation: Organisation,
    /// `None` when the deployment takes mail only through `vdpd ingest` (an MTA pipe).
    pub imap: Option<ImapConfig>,
    pub smtp: SmtpConfig,
    pub store: StoreConfig,
    pub limits: Limits,
    pub templates: TemplatesConfig,
    pub sla: Sla,
    /// `None`: no organisation key; mail is neither decrypted nor encrypted.
    pub openpgp: Option<OpenPgpConfig>,
    pub report_form: ReportForm,
    pub staff: Staff,
    pub scope: Scope,
    pub bounty: Bounty,
    pub calendar: Calendar,
    pub retention: Retention,
    pub recognition: Recognition,
    pub security_txt: SecurityTxt,
    /// Where `vdpd run` serves Prometheus metrics, if anywhere.
    pub metrics: Option<std::net::SocketAddr>,
    /// Needed when IMAP or SMTP logs in with XOAUTH2.
    pub oauth2: Option<OAuth2Config>,
    /// `[[products]]`: what the organisation makes available, for advisories and CRA filings.
    pub products: Vec<Product>,
    pub cra: Cra,
    pub cve: CveConfig,
    pub csaf: CsafConfig,
}

#[derive(Debug, Clone)]
pub struct Organisation {
    pub name: String,
    /// Lower-cased; the From of everything vdpd sends and the address whose own mail is a loop.
    pub security_address: String,
    /// The part after `@`, used for our Message-IDs.
    pub domain: String,
    /// References look like `{prefix}-{year}-{seq:04}`.
    pub ticket_prefix: String,
    pub policy_url: Option<String>,
    /// The authserv-id of the organisation's own MX (lower-cased): the one `Authentication-Results` header
    /// vdpd believes, and only where the policy asks it to (DKIM staff mode, `openpgp.learn_keys = "dmarc"`).
    pub trusted_authserv_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    /// TLS from the first byte (IMAPS 993, SMTPS 465).
    Implicit,
    /// Plain connection upgraded with STARTTLS; refusing to continue if the server does not offer it.
    Starttls,
    /// No TLS at all: allowed only to a loopback address.
    None,
}

impl fmt::Display for TlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TlsMode::Implicit => "implicit",
            TlsMode::Starttls => "starttls",
            TlsMode::None => "none",
        })
    }
}

/// Where a password comes from. Resolved at connect time by [`PasswordSource::resolve`].
#[derive(Debug, Clone)]
pub enum PasswordSource {
    /// A file; a relative name is looked up in `$CREDENTIALS_DIRECTORY` (systemd `LoadCredential=`) first,
    /// then next to the policy file.
    File { name: PathBuf, config_dir: PathBuf },
    /// An environment variable.
    Env(String),
}

#[derive(Debug, Clone)]
pub struct ImapConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub ca_file: Option<PathBuf>,
    /// Pins the server's certificate by its SHA-256 (`tls_fingerprint`; checked by the shell's TLS verifier).
    pub tls_fingerprint: Option<Fingerprint>,
    pub username: String,
    /// How vdpd logs in: a password, or an OAuth2 access token (XOAUTH2, for Microsoft 365 and Google).
    pub auth: ImapAuth,
    pub mailbox: String,
    /// Move handled mail here; when `None` it is flagged `\Seen` and left in place.
    pub processed_mailbox: Option<String>,
    pub idle: bool,
    /// How often to look for mail when IDLE is off or not offered; also the longest one IDLE lasts before it is
    /// renewed (never more than 29 minutes, RFC 2177).
    pub poll_interval: std::time::Duration,
    /// The longest any single IMAP command may take before the connection is declared dead.
    pub timeout: std::time::Duration,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: TlsMode,
    pub ca_file: Option<PathBuf>,
    /// Pins the server's certificate by its SHA-256 (`tls_fingerprint`; checked by the shell's TLS verifier).
    pub tls_fingerprint: Option<Fingerprint>,
    /// `None`: no AUTH (a local relay that trusts the host).
    pub auth: Option<SmtpAuth>,
    /// Parallel SMTP transactions; also the bound on acknowledgements that can go twice after a crash.
    pub concurrency: usize,
    pub timeout: std::time::Duration,
    /// First retry delay after a transient failure; doubles per attempt up to `retry_max`.
    pub retry_initial: std::time::Duration,
    pub retry_max: std::time::Duration,
    /// A message still undelivered this long after it was queued is marked failed.
    pub give_up_after: std::time::Duration,
}

/// How vdpd logs in to IMAP.
#[derive(Debug, Clone)]
pub enum ImapAuth {
    Password(PasswordSource),
    /// SASL XOAUTH2 with an access token from `[oauth2]`.
    XOAuth2,
}

/// How vdpd logs in to SMTP.
#[derive(Debug, Clone)]
pub enum SmtpAuth {
    Password {
        username: String,
        password: PasswordSource,
    },
    /// SASL XOAUTH2 with an access token from `[oauth2]`.
    XOAuth2 {
        username: String,
    },
}

/// The OAuth2 client vdpd is, for mailboxes that want tokens instead of passwords (Microsoft 365, Google):
/// it trades its refresh token for access tokens at `token_url`, before they expire.
#[derive(Debug, Clone)]
pub struct OAuth2Config {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: Option<PasswordSource>,
    pub refresh_token: PasswordSource,
    pub scopes: Vec<String>,
    /// Refresh this long before the access token expires.
    pub refresh_before: std::time::Duration,
    pub ca_file: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct StoreConfig {
    pub path: PathBuf,
}

/// Every limit explicit, so that hostile mail meets a number, not an assumption.
#[derive(Debug, Clone)]
pub struct Limits {
    pub max_message_bytes: usize,
    /// The largest header block (of the message, or of any MIME part) read at all.
    pub max_header_bytes: usize,
    pub new_tickets_per_sender_per_day: u32,
    /// New tickets from all senders together within an hour: beyond it, reports are held (kept, not yet
    /// answered) and made tickets in their turn, so a flood of forged senders cannot turn the desk into a
    /// backscatter source.
    pub new_tickets_per_hour: u32,
    /// A sender none of whose reports was ever found valid (accepted, fixing or resolved) is on trial: their
    /// reports beyond this many in 30 days go to the slow lane — acknowledged and ticketed as usual, their
    /// clocks as the policy says, but staff hear of them in one daily digest instead of a mail each.
    /// `None`: no trial.
    pub trial_reports_per_month: Option<u32>,
    pub auto_replies_per_ticket_per_day: u32,
    pub max_mime_depth: usize,
    pub max_mime_parts: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 25 * 1024 * 1024,
            max_header_bytes: 256 * 1024,
            new_tickets_per_sender_per_day: 5,
            new_tickets_per_hour: 60,
            trial_reports_per_month: None,
            auto_replies_per_ticket_per_day: 5,
            max_mime_depth: 32,
            max_mime_parts: 500,
        }
    }
}

#[derive(Debug, Clone)]
pub struct TemplatesConfig {
    /// Templates found here override the built-in ones of the same name.
    pub dir: PathBuf,
    /// The language of the templates at the top of `dir` (and of every mail to staff).
    pub language: crate::lang::Lang,
    /// The other languages researchers are answered in, each a folder of `dir` or built in; `None`: every
    /// language there are templates for.
    pub languages: Option<Vec<crate::lang::Lang>>,
}

/// The promises with dates in them, as the published policy states them.
#[derive(Debug, Clone)]
pub struct Sla {
    pub acknowledge: PolicyDuration,
    pub first_diagnosis: Option<PolicyDuration>,
    /// Fix deadlines by severity band, most severe first.
    pub fix: Vec<(Severity, PolicyDuration)>,
    pub disclosure: Option<PolicyDuration>,
    /// While the ticket waits on the researcher — a question staff asked (`#waiting`), or a section of
    /// `diagnosis_waits_for` still missing — the diagnosis clock stands still.
    pub pause_diagnosis_while_waiting: bool,
    /// The form sections the published policy makes a precondition of the diagnosis: while one is missing the
    /// ticket waits on the researcher. Empty: the clock runs from receipt, whatever the form lacks.
    pub diagnosis_waits_for: Vec<String>,
    /// Until the fix, the researcher hears from us at least this often (a status mail when nobody wrote).
    pub status_updates: Option<PolicyDuration>,
    /// A status enquiry within this long of the last one answered gets a polite notice instead of the status.
    pub status_enquiry_interval: Option<PolicyDuration>,
    /// Staff are reminded this long before the diagnosis and fix deadlines.
    pub reminders: Vec<PolicyDuration>,
    /// Staff and researcher are reminded this long before the disclosure date.
    pub disclosure_reminders: Vec<PolicyDuration>,
}

impl Sla {
    /// Only the acknowledgement promise: what a policy without dates still promises.
    pub fn acknowledge_only(acknowledge: PolicyDuration) -> Sla {
        Sla {
            acknowledge,
            first_diagnosis: None,
            fix: Vec::new(),
            disclosure: None,
            pause_diagnosis_while_waiting: false,
            diagnosis_waits_for: Vec::new(),
            status_updates: None,
            status_enquiry_interval: None,
            reminders: Vec::new(),
            disclosure_reminders: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::Critical, Severity::High, Severity::Medium, Severity::Low];

    /// The band named `s` (as stored: lower-case).
    pub fn parse(s: &str) -> Option<Severity> {
        Severity::ALL.into_iter().find(|x| x.as_str() == s)
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }
}

/// One thing wrong with a policy file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based; `None` when the key is absent from the file (a missing required key names its section's line).
    pub line: Option<usize>,
    /// Dotted key path, e.g. `imap.tls`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{}: {}: {}", self.file.display(), line, self.key, self.message),
            None => write!(f, "{}: {}: {}", self.file.display(), self.key, self.message),
        }
    }
}

/// True for `localhost` and for IPv4/IPv6 loopback addresses.
pub fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost") || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A certificate's SHA-256 fingerprint, as `tls_fingerprint` takes it and `openssl x509 -fingerprint -sha256`
/// prints it.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Fingerprint(pub [u8; 32]);

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("sha256:")?;
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Fingerprint {
    type Err = String;

    /// `sha256:` followed by 64 hex digits, with or without colons, in either case (also openssl's
    /// `sha256 Fingerprint=AB:CD:…` pasted whole).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let lower = t.to_ascii_lowercase();
        let hex = lower
            .strip_prefix("sha256:")
            .or_else(|| lower.strip_prefix("sha256 fingerprint="))
            .or_else(|| lower.strip_prefix("sha256="))
            .ok_or_else(|| format!("{t:?}: write \"sha256:\" and the certificate's SHA-256 in hex"))?;
        let digits: Vec<u8> = hex.bytes().filter(|&b| b != b':').collect();
        if digits.len() != 64 || !digits.iter().all(u8::is_ascii_hexdigit) {
            return Err(format!("{t:?}: a SHA-256 fingerprint has 64 hex digits"));
        }
        let mut out = [0u8; 32];
        for (i, pair) in digits.chunks(2).enumerate() {
            let pair = std::str::from_utf8(pair).map_err(|e| e.to_string())?;
            out[i] = u8::from_str_radix(pair, 16).map_err(|e| e.to_string())?;
        }
        Ok(Fingerprint(out))
    }
}

impl Config {
    /// The directory the policy file is in: relative paths in it are relative to here.
    pub fn dir(&self) -> PathBuf {
        config_dir(&self.path)
    }
}

/// The directory of a policy file (`.` for a bare file name).
pub fn config_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

//! The policy sections of `policy.toml` (OpenPGP, the report form, staff, scope, bounty, calendar, retention,
//! recognition, security.txt): what a published disclosure policy promises and asks for, as opposed to how
//! vdpd reaches its mail servers.

use std::path::PathBuf;

use super::{PolicyDuration, Unit};

/// OpenPGP settings.
#[derive(Debug, Clone)]
pub struct OpenPgpConfig {
    /// The secret key file (absolute; a relative setting is relative to the store's directory).
    pub key: PathBuf,
    /// Whether mail that carries report detail may go to a researcher unencrypted.
    pub report_detail: ReportDetail,
    /// Whether mail with report content may go to a staff member unencrypted.
    pub staff_encryption: StaffEncryption,
    /// Lower-cased phrases that make a short mail outside any ticket a request for our key.
    pub key_request_patterns: Vec<String>,
    pub max_decrypted_bytes: usize,
    pub max_compression_ratio: usize,
    /// Offer our key in an Autocrypt header on every mail.
    pub autocrypt: bool,
    /// When a researcher's first key is taken.
    pub learn_keys: LearnKeys,
}

/// When vdpd takes a researcher's first key (trust on first use). Replacing a held key always needs a
/// signature by it, whatever this says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LearnKeys {
    /// From the first mail that offers one for the sender's address.
    FirstUse,
    /// Only from mail whose From passed DMARC (or DKIM aligned with the From domain) in the one
    /// `Authentication-Results` header of the trusted authserv-id: a forged From cannot plant a key.
    DmarcAligned { authserv_id: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportDetail {
    /// Mail that repeats report detail goes to a researcher only encrypted; without their key, the detail is
    /// left out.
    EncryptedOnly,
    /// Report detail may go in clear text when the researcher has no key.
    PlaintextAllowed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StaffEncryption {
    /// Report content reaches staff only encrypted to their certificate.
    Required,
    /// Encrypted where a certificate is configured, clear text otherwise.
    WhenPossible,
}

/// The report form of the policy.
#[derive(Debug, Clone)]
pub struct ReportForm {
    pub enabled: bool,
    pub delivery: FormDelivery,
    /// Read the sections a report does not label from its prose (see [`crate::form::read_prose`]).
    pub read_prose: bool,
    pub sections: Vec<FormSection>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormDelivery {
    /// The form is part of the acknowledgement.
    WithAcknowledgement,
    /// The form follows the acknowledgement as a second mail.
    Separate,
}

/// One section of the report form.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct FormSection {
    pub name: String,
    pub mandatory: bool,
    pub hint: String,
    pub kind: SectionKind,
    /// Other labels researchers use for it ("CWE" for "Weakness").
    pub aliases: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SectionKind {
    Text,
    /// What is affected: kept for scope checks.
    Asset,
    /// A CWE identifier.
    Weakness,
    /// A band and/or a CVSS vector, scored.
    Severity,
    /// An e-mail address.
    Email,
    /// How the researcher wants to be credited (or "none").
    Credit,
    /// Whether the researcher knows the flaw to be exploited in the wild (yes or no): under `[cra]`, a yes
    /// starts the Cyber Resilience Act's clocks.
    Exploited,
}

impl ReportForm {
    /// The sections a policy may require by name (`[report_form] require`), for a desk flooded with reports
    /// nobody checked: a reproducer that runs on its own, whether AI tools were used, how the finding was
    /// verified. Each is mandatory once required; none is read from prose but the reproducer (a code block):
    /// whether a report was machine-written is the researcher's to say.
    pub const OPTIONAL: &'static [(&'static str, &'static str)] =
        &[("reproducer", "Reproducer"), ("ai-use", "AI tools used"), ("verification", "How it was verified")];

    /// The section `[report_form] require` names as `word` ("reproducer", "ai-use", "verification").
    pub fn optional_section(word: &str) -> Option<FormSection> {
        let (hint, aliases): (&str, &[&str]) = match word {
            "reproducer" => (
                "A script, request or file that reproduces the flaw by itself (a curl command, an HTTP request, proof-of-concept code): not a description of one",
                &["Reproduction script", "Reproducer script", "Repro"],
            ),
            "ai-use" => (
                "Whether AI tools (chat assistants, AI-driven scanners) helped find the flaw or write this report, and which; \"none\" if not",
                &["AI use", "AI disclosure", "Use of AI"],
            ),
            "verification" => (
                "How you confirmed the flaw on our systems yourself: what you ran, against what, and what you saw",
                &["Verification", "Verified how", "How verified"],
            ),
            _ => return None,
        };
        let name = Self::OPTIONAL.iter().find(|(w, _)| *w == word)?.1;
        Some(FormSection {
            name: name.into(),
            mandatory: true,
            hint: hint.into(),
            kind: SectionKind::Text,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
        })
    }

    /// The bounty policy's table (mandatory ones marked *), plus the credit preference of the recognition
    /// policy: the default when a policy declares no sections.
    pub fn default_sections() -> Vec<FormSection> {
        let s = |name: &str, mandatory: bool, kind: SectionKind, hint: &str, aliases: &[&str]| FormSection {
            name: name.into(),
            mandatory,
            hint: hint.into(),
            kind,
            aliases: aliases.iter().map(|a| a.to_string()).collect(),
        };
        vec![
            s(
                "Title",
                false,
                SectionKind::Text,
                "Concise summary categorising the vulnerability, and the site or application where it can be found, e.g. Reflected XSS on the XYZ website",
                &["Summary", "Subject"],
            ),
            s(
                "Asset",
                true,
                SectionKind::Asset,
                "Web address, IP address, product, service name, etc.",
                &["URL", "URLs", "Target", "Component", "Affected asset"],
            ),
            s(
                "Weakness",
                false,
                SectionKind::Weakness,
                "Such as a CWE, e.g. CWE-79",
                &["CWE", "Class", "Vulnerability class", "Type"],
            ),
            s(
                "Severity",
                true,
                SectionKind::Severity,
                "low, medium, high or critical, and the CVSS vector, e.g. CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
                &["CVSS", "CVSS vector", "Severity (CVSS)"],
            ),
            s(
                "Description",
                true,
                SectionKind::Text,
                "A summary of the vulnerability; supporting files (screenshots, video) as attachments; any mitigations or recommendations",
                &["Description of the vulnerability", "Details", "Vulnerability description"],
            ),
            s(
                "Steps to reproduce",
                true,
                SectionKind::Text,
                "Clear and descriptive steps to reproduce the vulnerability; proof of concept code if available",
                &["Steps", "Reproduction", "Reproduction steps", "Proof of concept", "PoC"],
            ),
            s(
                "Impact",
                false,
                SectionKind::Text,
                "A clear description of the effects of successfully exploiting the vulnerability",
                &["Potential impact", "Estimated impact"],
            ),
            s(
                "Contact company",
                false,
                SectionKind::Text,
                "Company name",
                &["Company", "Company name", "Organisation", "Organization"],
            ),
            s("Contact name", true, SectionKind::Text, "Your name", &["Name", "Your name", "Researcher"]),
            s(
                "Contact email",
                true,
                SectionKind::Email,
                "Your e-mail address",
                &["Email", "E-mail", "Email address", "E-mail address"],
            ),
            s(
                "Credit",
                false,
                SectionKind::Credit,
                "How we may credit you publicly (name, handle or link), or none",
                &["Public credit", "Hall of fame", "Credit preference"],
            ),
        ]
    }
}

/// Staff members: who may work tickets by mail, and how a staff mail proves it is one.
#[derive(Debug, Clone)]
pub struct Staff {
    pub members: Vec<StaffMember>,
    pub authentication: StaffAuth,
    /// A staff signature counts only if it was made at most this long before vdpd received the mail (and
    /// at most [`MAX_SIGNATURE_SKEW_MS`] after): a signature is evidence of when as well as who.
    pub max_signature_age_ms: i64,
    /// Every signed staff mail must name its ticket inside what it signs (protected Subject, or `[REF]` in
    /// the text): a member's fresh signed text taken from elsewhere then acts nowhere.
    pub signature_must_name_ticket: bool,
    /// Researchers' attachments travel with staff notifications up to this many bytes in total; beyond, they are
    /// listed (name, type, size, hash) and kept for `vdpd tickets show`.
    pub max_attachment_bytes: usize,
    /// The most warnings (forged staff mail, quarantined mail) sent to staff per 24 hours: a flood of forgeries
    /// must not become a flood of warnings.
    pub warnings_per_day: u32,
    /// Who hears of a broken promise (an SLA clock that ran out). Empty: every staff member.
    pub escalation: Vec<String>,
}

impl Default for Staff {
    fn default() -> Self {
        Staff {
            members: Vec::new(),
            authentication: StaffAuth::OpenPgp,
            max_signature_age_ms: 3 * 24 * 3600 * 1000,
            signature_must_name_ticket: false,
            max_attachment_bytes: 10 * 1024 * 1024,
            warnings_per_day: 20,
            escalation: Vec::new(),
        }
    }
}

impl Staff {
    pub fn member(&self, address: &str) -> Option<&StaffMember> {
        self.members.iter().find(|m| m.address.eq_ignore_ascii_case(address))
    }
}

/// How a mail from a staff address proves it was written by that member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaffAuth {
    /// A good OpenPGP signature by the member's own certificate.
    OpenPgp,
    /// A DKIM pass for the From domain, as recorded in an `Authentication-Results` header by this authserv-id
    /// (the organisation's own MX, which must remove such headers from incoming mail).
    Dkim { authserv_id: String },
}

/// What is in scope and what is not, with the policy's own wording.
#[derive(Debug, Clone)]
pub struct Scope {
    /// In-scope domains; their subdomains are in scope too. Lower-cased.
    pub domains: Vec<String>,
    /// Named assets ("The MyKonci API").
    pub assets: Vec<String>,
    pub out_of_scope: Vec<Clause>,
    /// A new report naming the same asset and weakness as a ticket open or closed within this long is
    /// flagged to staff as a possible duplicate.
    pub duplicate_window: PolicyDuration,
}

impl Default for Scope {
    fn default() -> Self {
        Scope {
            domains: Vec::new(),
            assets: Vec::new(),
            out_of_scope: Vec::new(),
            duplicate_window: PolicyDuration::new(6, Unit::Months),
        }
    }
}

/// An out-of-scope class of the policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// What staff type after `#not-applicable`.
    pub id: String,
    /// One of [`SCOPE_CLASSES`], whose hints this clause gets.
    pub class: Option<String>,
    /// The policy's words, quoted to the researcher.
    pub wording: String,
    /// Words that suggest a report falls under this clause (lower-cased).
    pub hints: Vec<String>,
    /// Third parties whose flaws are theirs to fix (the researcher is pointed to them).
    pub sub_processors: Vec<SubProcessor>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubProcessor {
    pub name: String,
    /// Where to report to them (a URL or an address).
    pub contact: String,
}

impl Scope {
    pub fn clause(&self, id: &str) -> Option<&Clause> {
        self.out_of_scope.iter().find(|c| c.id.eq_ignore_ascii_case(id))
    }
}

/// The bounty programme.
#[derive(Debug, Clone, Default)]
pub struct Bounty {
    pub enabled: bool,
    pub currency: String,
    /// How payment is made ("by card via PayPal or Stripe").
    pub payment: String,
    /// What the invoice must contain (legal name, address, contact).
    pub invoice_fields: Vec<String>,
    pub tiers: Vec<Tier>,
    /// The amounts are approximations ("~50 GBP"), as some policies say.
    pub approximate: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tier {
    pub id: String,
    /// Whole currency units.
    pub amount: u32,
    pub meaning: String,
}

/// Tiers named like these are outcomes ("not applicable", "informative" in the bounty policy's table): their
/// meaning is quoted when staff close a report so; they are never awarded with `#bounty`.
pub const OUTCOME_TIERS: [&str; 2] = ["not-applicable", "informative"];

impl Bounty {
    pub fn tier(&self, id: &str) -> Option<&Tier> {
        self.tiers.iter().find(|t| t.id.eq_ignore_ascii_case(id))
    }
}

#[derive(Debug, Clone)]
pub struct StaffMember {
    /// Lower-cased.
    pub address: String,
    pub name: String,
    /// The member's OpenPGP certificate file (absolute).
    pub cert: Option<PathBuf>,
    /// In DKIM mode: what besides a pass for the member's domain their mail must show.
    pub dkim_proof: DkimProof,
}

/// How long a staff signature may be in the future of the receiving clock (clock skew).
pub const MAX_SIGNATURE_SKEW_MS: i64 = 10 * 60 * 1000;

/// What a member's mail must show in DKIM mode, in the trusted `Authentication-Results` header.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum DkimProof {
    /// `dkim=pass header.d=<the member's domain>`: the domain signed it — anyone who can send as that
    /// domain could have.
    #[default]
    Domain,
    /// …and `auth=pass smtp.auth=<login>`: the member logged in to the organisation's submission server.
    SmtpAuth { login: String },
    /// …and the DKIM identity `header.i` is the member's own address.
    Identity,
}

/// The default phrases of a key request.
/// Ways of asking for the organisation's key: English, French, German, Spanish (lower-case, matched anywhere).
pub const DEFAULT_KEY_REQUEST_PATTERNS: [&str; 15] = [
    "pgp key",
    "gpg key",
    "public key",
    "encryption key",
    "openpgp key",
    "pgp public key",
    "your key",
    "pgp-key",
    "clé pgp",
    "clé publique",
    "pgp-schlüssel",
    "öffentlichen schlüssel",
    "öffentlicher schlüssel",
    "clave pgp",
    "clave pública",
];

/// The working calendar the promises are kept in: business days, the hours staff are disturbed in, and how
/// dates are shown. Arithmetic on it lives in `engine::calendar`.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub time_zone: jiff::tz::TimeZone,
    /// The IANA name, as written ("Europe/London"), for messages.
    pub zone_name: String,
    /// Monday first.
    pub working_days: [bool; 7],
    /// Staff reminders and escalations of non-critical tickets wait for these hours on a working day. `None`:
    /// any time.
    pub working_hours: Option<(jiff::civil::Time, jiff::civil::Time)>,
    pub holidays: Vec<Holiday>,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar {
            time_zone: jiff::tz::TimeZone::UTC,
            zone_name: "UTC".into(),
            working_days: [true, true, true, true, true, false, false],
            working_hours: None,
            holidays: Vec::new(),
        }
    }
}

/// A public holiday: one date, or the same day every year.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Holiday {
    Date(jiff::civil::Date),
    Yearly { month: i8, day: i8 },
}

/// What happens to report data after a ticket ends.
#[derive(Debug, Clone)]
pub struct Retention {
    /// Report content is purged this long after resolution (or closing). `None`: kept.
    pub after_resolution: Option<PolicyDuration>,
    /// The raw bytes of mail that became no ticket (quarantined, dropped, a second delivery, a key request)
    /// are purged this long after it arrived; what happened to it stays on record.
    pub unticketed_mail: PolicyDuration,
    /// Tell the researcher when their report data was deleted.
    pub receipt: bool,
    /// The policy's request that researchers delete what they retrieved (quoted in the receipt).
    pub researcher_deletion_duty: Option<String>,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            after_resolution: None,
            unticketed_mail: PolicyDuration::new(30, Unit::Days),
            receipt: true,
            researcher_deletion_duty: None,
        }
    }
}

/// Public credit for researchers.
#[derive(Debug, Clone, Default)]
pub struct Recognition {
    /// A public hall of fame: researchers who agreed are credited there once the flaw is fixed.
    pub hall_of_fame: bool,
    /// Where it is published.
    pub page: Option<String>,
}

/// The out-of-scope classes vdpd knows words for: (class, what it covers, hints). A clause with a `class`
/// gets these hints on top of its own.
pub const SCOPE_CLASSES: &[(&str, &str, &[&str])] = &[
    (
        "volumetric",
        "volumetric and denial-of-service attacks",
        &[
            "ddos",
            "denial of service",
            "denial-of-service",
            "dos attack",
            "flood",
            "flooding",
            "volumetric",
            "high volume of requests",
            "resource exhaustion",
        ],
    ),
    (
        "tls",
        "TLS configuration weaknesses",
        &[
            "tls 1.0",
            "tls1.0",
            "tlsv1.0",
            "tls 1.1",
            "tls1.1",
            "sslv3",
            "ssl 3.0",
            "weak cipher",
            "ciphersuite",
            "cipher suite",
            "sweet32",
            "poodle",
            "beast attack",
            "lucky13",
            "rc4",
        ],
    ),
    (
        "best-practice",
        "missing security headers and suboptimal mail configuration",
        &[
            "security header",
            "security headers",
            "missing header",
            "content-security-policy",
            "csp",
            "x-frame-options",
            "x-xss-protection",
            "x-content-type-options",
            "strict-transport-security",
            "hsts",
            "clickjacking",
            "spf",
            "dmarc",
            "dkim",
            "best practice",
        ],
    ),
    (
        "session",
        "session management and session fixation",
        &[
            "session fixation",
            "session management",
            "session timeout",
            "session expiration",
            "session expiry",
            "session invalidation",
            "concurrent sessions",
            "logout does not",
        ],
    ),
    (
        "social-engineering",
        "social engineering against employees or customers",
        &["social engineering", "phishing", "pretexting", "vishing", "impersonat*"],
    ),
    (
        "physical",
        "attacks that need physical access",
        &[
            "physical access",
            "physical security",
            "data centre",
            "data center",
            "datacenter",
            "usb stick",
            "tailgating",
        ],
    ),
    (
        "theoretical",
        "theoretical or non-exploitable reports",
        &[
            "theoretical",
            "non-exploitable",
            "not exploitable",
            "hypothetical",
            "could potentially",
            "self-xss",
            "self xss",
            "version disclosure",
            "banner grabbing",
        ],
    ),
    ("sub-processor", "sub-processors' sites and services (reports go to them)", &[]),
];

/// What `vdpd security-txt` writes besides what the rest of the policy says (RFC 9116).
#[derive(Debug, Clone)]
pub struct SecurityTxt {
    /// Where the file will be published (https URLs): its `Canonical` fields.
    pub canonical: Vec<String>,
    /// `Expires` is this long after the file is written (RFC 9116 recommends less than a year).
    pub expires: PolicyDuration,
    /// More `Contact` URIs after the security address (`https:`, `tel:`, `mailto:`).
    pub contacts: Vec<String>,
    /// The `Encryption` URI; default: `openpgp4fpr:` and the organisation key's fingerprint.
    pub encryption: Option<String>,
    pub preferred_languages: Vec<String>,
    pub hiring: Option<String>,
    /// `CSAF` fields: where the organisation's CSAF provider metadata is published.
    pub csaf: Vec<String>,
    /// The file the daemon keeps valid (rewritten, and re-signed, before its `Expires` comes near or when
    /// the policy changes what it says); `None`: the admin writes it with `vdpd security-txt`.
    pub path: Option<std::path::PathBuf>,
    /// How long before `Expires` the daemon writes a new file.
    pub renew_before: PolicyDuration,
    /// The daemon's file is clear-signed with the organisation key (when there is one).
    pub sign: bool,
}

impl Default for SecurityTxt {
    fn default() -> Self {
        SecurityTxt {
            canonical: Vec::new(),
            expires: PolicyDuration::new(6, Unit::Months),
            contacts: Vec::new(),
            encryption: None,
            preferred_languages: Vec::new(),
            hiring: None,
            csaf: Vec::new(),
            path: None,
            renew_before: PolicyDuration::new(30, Unit::Days),
            sign: true,
        }
    }
}

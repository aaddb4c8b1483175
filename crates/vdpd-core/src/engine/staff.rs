//! Staff by mail: who is staff, and what their commands do.
//!
//! A mail is a staff mail only when its From is a `[staff]` member *and* it proves it: by a good OpenPGP
//! signature by that member's own certificate over the mail's signed content (default), made within
//! `staff.max_signature_age` before it arrived and never seen before; or — if the policy says so instead —
//! by the DKIM verdict of the one trusted authserv-id in the one `Authentication-Results` header it wrote.
//! Anything else from a staff address runs nothing and relays nothing.
//!
//! Commands are `#word argument` lines at the top of the signed content. A mail's commands are checked
//! together against the ticket as it would be after each one ([`plan`]) and apply all together or not at
//! all; every error names its line. Pure code: the store facts it needs (does `#duplicate REF` exist? was
//! this signature used before?) come in as values.

use crate::classify::Inbound;
use crate::config::{Config, DkimProof, MAX_SIGNATURE_SKEW_MS, Staff, StaffAuth, StaffMember};
use crate::engine::TicketState;
pub use crate::engine::plan::Effect;
use crate::form;
use crate::mail::{BountyContext, MessageKind, NamedText, Notice, OutcomeContext};
use crate::openpgp::read::Signature;
use crate::ticket::{CraStage, CreditConsent, Outcome, TicketUpdate};
use crate::timeline::Event;

/// Whether a mail comes from staff.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StaffCheck {
    /// From is not a staff address.
    #[default]
    NotStaff,
    /// From a staff member, proven.
    Authenticated { member: String, proof: Proof },
    /// From a staff address, not proven: runs nothing.
    Failed { member: String, reason: String },
}

/// What proved a staff mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Proof {
    /// The member's OpenPGP signature: recorded when the mail is applied, so that it counts once.
    Signature { signer: String, signed_at: i64, digest: String },
    /// The trusted MX's DKIM verdict.
    Dkim,
}

/// What authentication knows besides the mail: the members' certificate fingerprints (address,
/// fingerprint), the time of receipt, and when the mail's signature was accepted before, if it was.
#[derive(Debug, Clone, Copy)]
pub struct Evidence<'a> {
    pub fingerprints: &'a [(String, String)],
    pub now: i64,
    pub accepted_before: Option<i64>,
}

/// Decides whether `inbound` is an authenticated staff mail.
pub fn authenticate(inbound: &Inbound, staff: &Staff, evidence: &Evidence<'_>) -> StaffCheck {
    let Some(member) = staff.member(&inbound.sender) else {
        return StaffCheck::NotStaff;
    };
    let address = member.address.clone();
    let fail = |reason: String| StaffCheck::Failed { member: address.clone(), reason };
    match &staff.authentication {
        StaffAuth::OpenPgp => match openpgp_proof(inbound, &address, staff, evidence) {
            Ok(proof) => StaffCheck::Authenticated { member: address.clone(), proof },
            Err(why) => fail(why),
        },
        StaffAuth::Dkim { authserv_id } => match dkim_check(&inbound.auth_results, authserv_id, member) {
            Ok(()) => StaffCheck::Authenticated { member: address.clone(), proof: Proof::Dkim },
            Err(why) => fail(why),
        },
    }
}

fn openpgp_proof(inbound: &Inbound, member: &str, staff: &Staff, evidence: &Evidence<'_>) -> Result<Proof, String> {
    if let Some(note) = &inbound.crypto.note {
        return Err(note.clone());
    }
    let own = evidence.fingerprints.iter().find(|(a, _)| a.eq_ignore_ascii_case(member)).map(|(_, f)| f.as_str());
    let (cert, signed_at, digest) = match &inbound.body.signature {
        Signature::Good { cert, signed_at, digest } if Some(cert.as_str()) == own => (cert, *signed_at, digest),
        Signature::Good { cert, .. } => {
            return Err(match evidence.fingerprints.iter().find(|(_, f)| f == cert) {
                Some((other, _)) => format!("signed by the key of {other}, not by the key of {member}"),
                None => format!("signed by {cert}, which is not {member}'s certificate"),
            });
        }
        Signature::Unknown { issuer } => return Err(format!("signed by an unknown key ({issuer})")),
        Signature::Bad { reason } => return Err(format!("bad signature: {reason}")),
        Signature::None if inbound.crypto.error.is_some() => {
            return Err(format!("could not be decrypted: {}", inbound.crypto.error.as_deref().unwrap_or("")));
        }
        Signature::None => {
            return Err(if inbound.all_attachments().any(|a| a.content_type.contains("pgp")) {
                "only an attachment is signed, not the mail (staff mail must carry the member's OpenPGP signature)"
                    .into()
            } else {
                "not signed (staff mail must carry the member's OpenPGP signature)".into()
            });
        }
    };
    fresh_and_unused(signed_at, evidence.now, staff.max_signature_age_ms, evidence.accepted_before)?;
    Ok(Proof::Signature { signer: cert.clone(), signed_at, digest: digest.clone() })
}

/// A signature is evidence of *when* as well as *who*: it counts only if it was made at most `max_age_ms`
/// before the mail arrived at `now` (and at most [`MAX_SIGNATURE_SKEW_MS`] after), and only if it was never
/// accepted before (`accepted_before`: when it was). The one rule for staff mail and key changes alike.
pub fn fresh_and_unused(signed_at: i64, now: i64, max_age_ms: i64, accepted_before: Option<i64>) -> Result<(), String> {
    let age = now - signed_at;
    if age > max_age_ms {
        return Err(format!(
            "the signature was made {} before the mail arrived, longer than staff.max_signature_age ({}): an old \
             signature may be a replay — sign the mail again",
            span(age),
            span(max_age_ms)
        ));
    }
    if -age > MAX_SIGNATURE_SKEW_MS {
        return Err(format!(
            "the signature is dated {} after the mail arrived: check the clock of the signing computer",
            span(-age)
        ));
    }
    if let Some(at) = accepted_before {
        return Err(format!(
            "replay: this very signature was already accepted {} earlier; a signature counts once — sign a new mail",
            span(now - at)
        ));
    }
    Ok(())
}

/// A duration for people: "3 days 2 hours", "12 minutes", "40 seconds".
pub fn span(ms: i64) -> String {
    let s = ms.max(0) / 1000;
    let (d, h, m) = (s / 86_400, s % 86_400 / 3600, s % 3600 / 60);
    let unit = |n: i64, one: &str| if n == 1 { format!("1 {one}") } else { format!("{n} {one}s") };
    match (d, h, m) {
        (0, 0, 0) => unit(s, "second"),
        (0, 0, m) => unit(m, "minute"),
        (0, h, 0) => unit(h, "hour"),
        (0, h, m) => format!("{} {}", unit(h, "hour"), unit(m, "minute")),
        (d, 0, _) => unit(d, "day"),
        (d, h, _) => format!("{} {}", unit(d, "day"), unit(h, "hour")),
    }
}

/// One `Authentication-Results` header, read (RFC 8601): its authserv-id and its results, each a method,
/// a result and properties (`header.d`, `smtp.auth`, …), with comments removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResults {
    pub authserv_id: String,
    pub results: Vec<AuthResult>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResult {
    pub method: String,
    pub result: String,
    pub props: Vec<(String, String)>,
}

impl AuthResult {
    pub fn prop(&self, name: &str) -> Option<&str> {
        self.props.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// Parses one header value; `None` when it has no authserv-id.
pub fn parse_auth_results(value: &str) -> Option<AuthResults> {
    // Comments first: "(1024-bit key; unprotected)" may hold semicolons.
    let mut clean = String::with_capacity(value.len());
    let mut depth = 0usize;
    let mut quoted = false;
    for c in value.chars() {
        match c {
            '"' if depth == 0 => {
                quoted = !quoted;
                clean.push(c);
            }
            '(' if !quoted => depth += 1,
            ')' if !quoted && depth > 0 => depth -= 1,
            _ if depth == 0 => clean.push(c),
            _ => {}
        }
    }
    let mut sections = clean.split(';');
    let authserv_id = sections.next()?.split_whitespace().next()?.to_ascii_lowercase();
    let results = sections
        .filter_map(|section| {
            let mut words = section.split_whitespace();
            let (method, result) = words.next()?.split_once('=')?;
            let props = words
                .filter_map(|w| w.split_once('='))
                .map(|(k, v)| (k.to_ascii_lowercase(), v.trim_matches('"').to_ascii_lowercase()))
                .collect();
            Some(AuthResult { method: method.to_ascii_lowercase(), result: result.to_ascii_lowercase(), props })
        })
        .collect();
    Some(AuthResults { authserv_id, results })
}

/// The one `Authentication-Results` header of `authserv_id`. Several of them make the mail unauthenticated:
/// the MX must remove such headers from incoming mail, so a second one is a forgery that got through (and
/// which one is genuine cannot be told).
pub fn trusted_results(results: &[String], authserv_id: &str) -> Result<AuthResults, String> {
    let ours: Vec<AuthResults> =
        results.iter().filter_map(|r| parse_auth_results(r)).filter(|r| r.authserv_id == authserv_id).collect();
    match ours.len() {
        0 => Err(format!("no Authentication-Results from the trusted {authserv_id}")),
        1 => Ok(ours.into_iter().next().expect("one")),
        n => Err(format!(
            "{n} Authentication-Results headers claim to come from the trusted {authserv_id}: the MX must remove such \
             headers from incoming mail, so which one it wrote cannot be told"
        )),
    }
}

/// DKIM staff authentication: a `dkim=pass` for the member's domain in the trusted header, and the
/// per-member proof their entry asks for.
pub fn dkim_check(results: &[String], authserv_id: &str, member: &StaffMember) -> Result<(), String> {
    let header = trusted_results(results, authserv_id)?;
    let domain = member.address.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    let passes: Vec<&AuthResult> = header
        .results
        .iter()
        .filter(|r| r.method == "dkim" && r.result == "pass" && r.prop("header.d") == Some(domain))
        .collect();
    if passes.is_empty() {
        return Err(format!("no dkim=pass for {domain} from {authserv_id}"));
    }
    match &member.dkim_proof {
        DkimProof::Domain => Ok(()),
        DkimProof::Identity => {
            if passes.iter().any(|r| r.prop("header.i") == Some(member.address.as_str())) {
                Ok(())
            } else {
                Err(format!(
                    "no DKIM signature with the identity header.i={} (staff.members dkim_proof)",
                    member.address
                ))
            }
        }
        DkimProof::SmtpAuth { login } => {
            let authed = header
                .results
                .iter()
                .any(|r| r.method == "auth" && r.result == "pass" && r.prop("smtp.auth") == Some(login.as_str()));
            if authed {
                Ok(())
            } else {
                Err(format!(
                    "{authserv_id} recorded no auth=pass smtp.auth={login}: the mail was not submitted by the member's \
                     login (staff.members dkim_proof)"
                ))
            }
        }
    }
}

/// Whether the From domain passed DMARC (or DKIM strictly aligned with it) in the trusted header: what
/// `openpgp.learn_keys = "dmarc"` asks before a first key is taken.
pub fn dmarc_aligned(results: &[String], authserv_id: &str, sender: &str) -> Result<(), String> {
    let header = trusted_results(results, authserv_id)?;
    let domain = sender.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
    let dmarc = header
        .results
        .iter()
        .any(|r| r.method == "dmarc" && r.result == "pass" && r.prop("header.from").is_none_or(|d| d == domain));
    let dkim =
        header.results.iter().any(|r| r.method == "dkim" && r.result == "pass" && r.prop("header.d") == Some(domain));
    if dmarc || dkim {
        Ok(())
    } else {
        Err(format!("no dmarc=pass (or aligned dkim=pass) for {domain} from {authserv_id}"))
    }
}

/// One command.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    State(TicketState),
    Severity {
        band: crate::config::Severity,
        vector: Option<String>,
        score: Option<f64>,
    },
    Assign(String),
    Duplicate(String),
    NotApplicable {
        clause: Option<String>,
        sub_processor: Option<String>,
    },
    Informative,
    Bounty(String),
    Paid,
    Resolved,
    Disclose(jiff::civil::Date),
    Credit(Option<String>),
    Reopen,
    Internal,
    /// Relay report detail in clear text although the researcher has no key (overrides
    /// `openpgp.report_detail = "encrypted-only"` for this mail).
    Cleartext,
    /// The mail asks the researcher something: the ticket waits on their answer.
    Waiting,
    /// The researcher asked us to erase their personal data.
    Erase,
    /// Add a co-reporter to the ticket (with the name they are greeted by, if given), or (`add: false`)
    /// remove one.
    Participant {
        add: bool,
        address: String,
        name: String,
    },
    /// The researcher's OpenPGP key: show it, forget it, or take one they offered.
    Key(KeyCommand),
    /// The vulnerability is actively exploited, known since the instant given (`None`: since the mail), or
    /// (`Exploited(Withdraw)`) it is not after all.
    Exploited(Exploitation),
    /// A corrective or mitigating measure is available.
    Mitigated,
    /// A CRA stage was filed on ENISA's platform, with the platform's identifier if given.
    CraFiled {
        stage: CraStage,
        platform_id: Option<String>,
    },
    /// The `[[products]]` entry the ticket concerns.
    Product(String),
    /// The CVE ID reserved for the vulnerability.
    Cve(String),
    /// A severe incident having an impact on the product's security, known since the instant given (`None`:
    /// since the mail), or (`Withdraw`) it is not one after all.
    Incident(Exploitation),
}

/// What `#exploited` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exploitation {
    /// Known since this instant (milliseconds), or since the mail when `None`.
    Since(Option<i64>),
    /// `#exploited no`: staff found it is not actively exploited; the CRA clocks stop.
    Withdraw,
}

/// What `#key` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCommand {
    /// List the key held for the researcher and the keys they offered that were not taken.
    Show,
    /// Forget the held key: mail goes in clear until a new one is offered (and learned on first use).
    Reset,
    /// Hold this offered key (a fingerprint `#key show` lists).
    Accept(String),
}

/// A command with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// 1-based line in the mail's text.
    pub number: usize,
    pub text: String,
    pub command: Command,
    /// The [`Spec`] that read it, and will plan it.
    pub spec: &'static Spec,
}

/// A problem with one command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub number: usize,
    pub text: String,
    pub why: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {:?}: {}", self.number, self.text, self.why)
    }
}

/// What a staff mail says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub commands: Vec<Line>,
    pub errors: Vec<LineError>,
    /// The words to relay: what follows the commands, without quoted text or signature.
    pub text: String,
}

impl Parsed {
    pub fn has(&self, c: &Command) -> bool {
        self.commands.iter().any(|l| &l.command == c)
    }
}

/// One staff command, in one place: the word staff type and its other spellings, the usage and help the
/// staff help text shows, how its arguments are read and what it does to a ticket. Help, parser and planner
/// all come from [`REGISTRY`], so they cannot drift apart, and a new command is one entry here (with its
/// `Command` variant): the shell carries out [`Effect`]s, whichever command planned them.
pub struct Spec {
    /// The command word, with its `#`.
    pub name: &'static str,
    /// Other spellings staff type (`#fixed` for `#resolved`).
    pub aliases: &'static [&'static str],
    /// The arguments, as the help shows them (empty: none).
    pub usage: &'static str,
    pub help: &'static str,
    parse: fn(&Args<'_>, &Config) -> Result<Command, String>,
    /// What the command does to the ticket as the mail's earlier commands leave it (given the command its
    /// own `parse` made): effects added to the plan, or why it cannot.
    plan: fn(&Command, &mut Planning<'_>) -> Result<(), String>,
}

/// A spec is known by its command word (its functions are not compared).
impl PartialEq for Spec {
    fn eq(&self, other: &Spec) -> bool {
        self.name == other.name
    }
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

impl Spec {
    /// `#name usage`, as the help text lists it.
    pub fn synopsis(&self) -> String {
        if self.usage.is_empty() { self.name.to_string() } else { format!("{} {}", self.name, self.usage) }
    }

    fn answers_to(&self, word: &str) -> bool {
        self.name == word || self.aliases.contains(&word)
    }
}

/// A command line's arguments.
struct Args<'a> {
    /// The command word as typed, lower-cased.
    name: &'a str,
    words: Vec<&'a str>,
    /// The arguments joined by single spaces.
    rest: String,
}

impl Args<'_> {
    fn none(&self, c: Command) -> Result<Command, String> {
        if self.words.is_empty() { Ok(c) } else { Err(format!("{} takes no argument", self.name)) }
    }
}

/// The command a spec's `plan` is handed, as the same spec's `parse` made it.
macro_rules! given {
    ($c:expr, $pat:pat) => {
        let $pat = $c else {
            return Err(format!("internal error: {:?} planned by the wrong command", $c));
        };
    };
}

/// Whether `address` is the desk's own (a staff member or the security address): never a participant, since
/// staff hear of a ticket as staff.
pub fn is_the_desks_own(address: &str, config: &Config) -> bool {
    config.staff.member(address).is_some() || address == config.organisation.security_address
}

/// Every staff command, in the order the help lists them.
pub const REGISTRY: &[Spec] = &[
    Spec {
        name: "#state",
        aliases: &[],
        usage: "triage|accepted|fixing|resolved|closed",
        help: "move the ticket (silently)",
        parse: |a, _| {
            let state: TicketState = a.rest.parse()?;
            if state == TicketState::New {
                return Err("a ticket cannot go back to new (use #state triage)".into());
            }
            Ok(Command::State(state))
        },
        plan: |c, p| {
            given!(c, Command::State(to));
            let (from, to) = (p.ticket.state, *to);
            if to == from {
                return Err(format!("the ticket is already {to}"));
            }
            if from == TicketState::Closed {
                return Err("the ticket is closed: #reopen it first".into());
            }
            p.set(TicketUpdate::State(to));
            p.record(Event::StateChanged, format!("{from} → {to}"), format!("state: {from} → {to}"));
            if !matches!(to, TicketState::New | TicketState::Triage) {
                p.effects.push(Effect::Diagnosed);
            }
            p.ticket.state = to;
            Ok(())
        },
    },
    Spec {
        name: "#severity",
        aliases: &[],
        usage: "critical|high|medium|low|CVSS:3.1/…",
        help: "set the severity",
        parse: |a, _| {
            if a.rest.is_empty() {
                return Err("give a severity: critical, high, medium, low, or a CVSS vector".into());
            }
            let scored = form::severity(&a.rest)?;
            Ok(Command::Severity { band: scored.band, vector: scored.vector, score: scored.score })
        },
        plan: |c, p| {
            given!(c, Command::Severity { band, vector, score });
            let what = match score {
                Some(s) => format!("{} (CVSS {s:.1})", band.as_str()),
                None => band.as_str().to_string(),
            };
            p.set(TicketUpdate::Severity { band: *band, vector: vector.clone(), score: *score });
            p.record(Event::SeveritySet, what.clone(), format!("severity: {what}"));
            Ok(())
        },
    },
    Spec {
        name: "#assign",
        aliases: &[],
        usage: "ADDRESS",
        help: "give the ticket to a staff member (notifications go to them)",
        parse: |a, config| {
            let who = crate::mailtext::normalize_address(&a.rest).ok_or("give the address of a staff member")?;
            if config.staff.member(&who).is_none() {
                return Err(format!("{who} is not a staff member"));
            }
            Ok(Command::Assign(who))
        },
        plan: |c, p| {
            given!(c, Command::Assign(who));
            p.set(TicketUpdate::Assignee(who.clone()));
            p.record(Event::Assigned, who.clone(), format!("assigned to {who}"));
            Ok(())
        },
    },
    Spec {
        name: "#participant",
        aliases: &["#participants", "#co-reporter"],
        usage: "add|remove ADDRESS",
        help: "add a co-reporter (they get what the reporter gets: staff answers, status, reminders), or remove one",
        parse: |a, config| {
            let add = match a.words.first().map(|w| w.to_ascii_lowercase()).as_deref() {
                Some("add") => true,
                Some("remove") => false,
                _ => return Err("write #participant add ADDRESS or #participant remove ADDRESS".into()),
            };
            // `ADDRESS`, or `Name <ADDRESS>` as a mail client writes it.
            let given = a.words[1..].join(" ");
            let (name, address) = match (given.find('<'), given.rfind('>')) {
                (Some(open), Some(close)) if open < close => {
                    (given[..open].trim().trim_matches('"').trim().to_string(), given[open + 1..close].trim())
                }
                _ if a.words.len() == 2 => (String::new(), a.words[1]),
                _ => return Err("give one address: #participant add ADDRESS".into()),
            };
            let address = crate::mailtext::normalize_address(address)
                .ok_or_else(|| format!("{address:?} is not an e-mail address"))?;
            let name = crate::mailtext::clean_header_text(&name, crate::mailtext::MAX_NAME_CHARS);
            if is_the_desks_own(&address, config) {
                return Err(format!("{address} is the desk's own: staff hear of the ticket as staff"));
            }
            Ok(Command::Participant { add, address, name })
        },
        plan: |c, p| {
            given!(c, Command::Participant { add, address, name });
            let known = p.ticket.co_reporters.contains(address);
            if p.ticket.erased {
                return Err("the researcher's personal data was erased: the ticket has no participants".into());
            }
            if p.ticket.reporter.as_deref().is_some_and(|r| address.eq_ignore_ascii_case(r)) {
                return Err(format!("{address} is the reporter"));
            }
            match (*add, known) {
                (true, true) => Err(format!("{address} is a co-reporter already")),
                (false, false) => Err(format!("{address} is not a co-reporter of this ticket")),
                (true, false) => {
                    p.effects.push(Effect::AddParticipant { address: address.clone(), name: name.clone() });
                    p.ticket.co_reporters.push(address.clone());
                    p.record(
                        Event::ParticipantAdded,
                        address.clone(),
                        format!("{address} added as a co-reporter: they get what the reporter gets from now on"),
                    );
                    Ok(())
                }
                (false, true) => {
                    p.effects.push(Effect::RemoveParticipant(address.clone()));
                    p.ticket.co_reporters.retain(|a| a != address);
                    p.record(
                        Event::ParticipantRemoved,
                        address.clone(),
                        format!("{address} removed: they get nothing more about the ticket"),
                    );
                    Ok(())
                }
            }
        },
    },
    Spec {
        name: "#duplicate",
        aliases: &[],
        usage: "REF",
        help: "close as a duplicate of another ticket (the researcher is not told which, unless it is fixed and its advisory published: then they get its link)",
        parse: |a, config| {
            let r = a.rest.trim_matches(['[', ']']).to_ascii_uppercase();
            if crate::mailtext::find_reference_tags(&format!("[{r}]"), &config.organisation.ticket_prefix).is_empty() {
                return Err(format!(
                    "give the reference of the original ticket, e.g. {}-2026-0001",
                    config.organisation.ticket_prefix
                ));
            }
            Ok(Command::Duplicate(r))
        },
        plan: |c, p| {
            given!(c, Command::Duplicate(r));
            if r.eq_ignore_ascii_case(&p.ticket.reference) {
                return Err("a ticket cannot duplicate itself".into());
            }
            let Some(original) = p.existing.iter().find(|e| e.reference.eq_ignore_ascii_case(r)) else {
                return Err(format!("there is no ticket {r}"));
            };
            // The advisory is public: the researcher may learn that their report is the flaw it describes.
            let advisory = original.advisory.clone();
            p.close(Outcome::Duplicate, r.clone(), None, None, advisory)
        },
    },
    Spec {
        name: "#not-applicable",
        aliases: &["#not_applicable", "#n/a"],
        usage: "[CLAUSE [SUB-PROCESSOR]]",
        help: "close as out of scope, quoting the policy clause",
        parse: |a, config| {
            let clause = a.words.first().map(|c| c.to_string());
            let sub = (a.words.len() > 1).then(|| a.words[1..].join(" "));
            if let Some(id) = &clause {
                let Some(c) = config.scope.clause(id) else {
                    let known: Vec<&str> = config.scope.out_of_scope.iter().map(|c| c.id.as_str()).collect();
                    return Err(format!("no out-of-scope clause {id:?} in the policy (known: {})", list(&known)));
                };
                if let Some(name) = &sub
                    && !c.sub_processors.iter().any(|s| s.name.eq_ignore_ascii_case(name))
                {
                    let known: Vec<&str> = c.sub_processors.iter().map(|s| s.name.as_str()).collect();
                    return Err(format!("clause {id} names no sub-processor {name:?} (known: {})", list(&known)));
                }
            }
            Ok(Command::NotApplicable { clause, sub_processor: sub })
        },
        plan: |c, p| {
            given!(c, Command::NotApplicable { clause, sub_processor });
            // Bare: the clause the report's words point to.
            let (clause, sub_processor) = match (clause, &p.ticket.suggested_clause) {
                (None, Some((c, sp))) => (Some(c.clone()), sp.clone()),
                _ => (clause.clone(), sub_processor.clone()),
            };
            let detail = clause.clone().unwrap_or_default();
            p.close(Outcome::NotApplicable, detail, clause.as_deref(), sub_processor.as_deref(), None)
        },
    },
    Spec {
        name: "#informative",
        aliases: &[],
        usage: "",
        help: "close as informative",
        parse: |a, _| a.none(Command::Informative),
        plan: |c, p| {
            given!(c, Command::Informative);
            p.close(Outcome::Informative, String::new(), None, None, None)
        },
    },
    Spec {
        name: "#bounty",
        aliases: &[],
        usage: "TIER",
        help: "award a bounty tier (and ask for the invoice details)",
        parse: |a, config| {
            let rest = &a.rest;
            if !config.bounty.enabled {
                return Err("the policy has no bounty ([bounty] enabled = false)".into());
            }
            if crate::config::OUTCOME_TIERS.iter().any(|o| o.eq_ignore_ascii_case(rest)) {
                return Err(format!("{rest:?} is an outcome, not a bounty: use #{}", rest.to_ascii_lowercase()));
            }
            if config.bounty.tier(rest).is_none() {
                let known: Vec<&str> = config.bounty.tiers.iter().map(|t| t.id.as_str()).collect();
                return Err(format!("no bounty tier {rest:?} (known: {})", list(&known)));
            }
            Ok(Command::Bounty(rest.to_ascii_lowercase()))
        },
        plan: |c, p| {
            given!(c, Command::Bounty(tier));
            if let Some(outcome) = p.ticket.outcome {
                return Err(format!("the ticket was closed as {outcome}: no bounty"));
            }
            if matches!(p.ticket.state, TicketState::New | TicketState::Triage) {
                return Err(format!("the ticket is still {}: accept it first (#state accepted)", p.ticket.state));
            }
            let b = &p.config.bounty;
            let t = b.tier(tier).ok_or_else(|| format!("no bounty tier {tier:?}"))?;
            let bounty = BountyContext {
                tier: t.id.clone(),
                amount: t.amount,
                currency: b.currency.clone(),
                meaning: t.meaning.clone(),
                payment: b.payment.clone(),
                invoice_fields: b.invoice_fields.clone(),
                approximate: b.approximate,
            };
            let what = format!("{} ({} {})", t.id, t.amount, b.currency);
            p.set(TicketUpdate::Bounty { tier: t.id.clone(), amount: t.amount });
            p.record(Event::BountyAwarded, what.clone(), format!("bounty: {what}"));
            p.notice(Notice::Bounty { bounty });
            p.ticket.bounty_tier = Some(tier.clone());
            p.ticket.bounty_paid = false;
            Ok(())
        },
    },
    Spec {
        name: "#paid",
        aliases: &[],
        usage: "",
        help: "record that the bounty was paid",
        parse: |a, _| a.none(Command::Paid),
        plan: |c, p| {
            given!(c, Command::Paid);
            let Some(tier) = p.ticket.bounty_tier.clone() else {
                return Err("no bounty was awarded (#bounty TIER first)".into());
            };
            if p.ticket.bounty_paid {
                return Err("the bounty is already recorded as paid".into());
            }
            p.set(TicketUpdate::Paid);
            p.record(Event::BountyPaid, tier, "bounty paid");
            p.notice(Notice::Paid);
            p.ticket.bounty_paid = true;
            Ok(())
        },
    },
    Spec {
        name: "#resolved",
        aliases: &["#fixed"],
        usage: "",
        help: "mark fixed and ask the researcher to confirm the fix",
        parse: |a, _| a.none(Command::Resolved),
        plan: |c, p| {
            given!(c, Command::Resolved);
            let from = p.ticket.state;
            if matches!(from, TicketState::Resolved | TicketState::Closed) {
                return Err(format!("the ticket is already {from}"));
            }
            if let Some(outcome) = p.ticket.outcome {
                return Err(format!("the ticket was closed as {outcome}"));
            }
            p.set(TicketUpdate::State(TicketState::Resolved));
            p.record(
                Event::Resolved,
                "the researcher is asked to confirm the fix",
                format!("state: {from} → resolved; the researcher is asked to confirm the fix"),
            );
            p.notice(Notice::Resolved);
            p.effects.push(Effect::Diagnosed);
            p.ticket.state = TicketState::Resolved;
            p.ticket.mitigated = true;
            Ok(())
        },
    },
    Spec {
        name: "#disclose",
        aliases: &[],
        usage: "YYYY-MM-DD",
        help: "set the negotiated disclosure date",
        parse: |a, _| {
            let rest = &a.rest;
            let date: jiff::civil::Date =
                rest.parse().map_err(|_| format!("{rest:?} is not a date: write YYYY-MM-DD"))?;
            Ok(Command::Disclose(date))
        },
        plan: |c, p| {
            given!(c, Command::Disclose(date));
            if *date < p.today {
                return Err(format!("{date} is in the past"));
            }
            p.set(TicketUpdate::DiscloseOn(*date));
            p.record(Event::DisclosureDateSet, date.to_string(), format!("disclosure date: {date}"));
            p.notice(Notice::Disclose { on: date.to_string() });
            Ok(())
        },
    },
    Spec {
        name: "#credit",
        aliases: &[],
        usage: "NAME|none",
        help: "confirm how the researcher is credited",
        parse: |a, config| {
            if a.rest.is_empty() {
                return Err("give the name to credit, or none".into());
            }
            let clean = crate::mailtext::clean_header_text(&a.rest, 200);
            let credit = (!clean.eq_ignore_ascii_case("none")).then_some(clean);
            if credit.is_some() && !config.recognition.hall_of_fame {
                return Err(
                    "the policy credits nobody publicly ([recognition] hall_of_fame = false): only #credit none".into(),
                );
            }
            Ok(Command::Credit(credit))
        },
        plan: |c, p| {
            given!(c, Command::Credit(credit));
            let consent = &p.ticket.credit_consent;
            if credit.is_some() && *consent == CreditConsent::NotAnswered {
                return Err(
                    "the researcher has not agreed to public credit: ask them to answer \"Credit: name, handle or \
                            link\" (or none)"
                        .into(),
                );
            }
            if credit.is_some() && *consent == CreditConsent::Declined {
                return Err("the researcher declined public credit (their Credit answer was none)".into());
            }
            let shown = credit.clone().unwrap_or_else(|| "none".into());
            p.set(TicketUpdate::Credit(credit.clone()));
            p.record(Event::CreditConfirmed, shown.clone(), format!("credit: {shown}"));
            p.notice(Notice::Credit { credit: shown });
            Ok(())
        },
    },
    Spec {
        name: "#reopen",
        aliases: &[],
        usage: "",
        help: "reopen a resolved or closed ticket",
        parse: |a, _| a.none(Command::Reopen),
        plan: |c, p| {
            given!(c, Command::Reopen);
            let from = p.ticket.state;
            if !matches!(from, TicketState::Resolved | TicketState::Closed) {
                return Err(format!("the ticket is {from}, not resolved or closed"));
            }
            p.set(TicketUpdate::Outcome { outcome: None, detail: String::new() });
            p.set(TicketUpdate::State(TicketState::Triage));
            p.record(Event::Reopened, format!("{from} → triage"), format!("reopened: {from} → triage"));
            p.ticket.state = TicketState::Triage;
            p.ticket.outcome = None;
            Ok(())
        },
    },
    Spec {
        name: "#internal",
        aliases: &[],
        usage: "",
        help: "keep this mail's text with staff",
        parse: |a, _| a.none(Command::Internal),
        plan: |c, _| {
            // What it does is the shell's when it relays: nothing goes to the researcher.
            given!(c, Command::Internal);
            Ok(())
        },
    },
    Spec {
        name: "#cleartext",
        aliases: &[],
        usage: "",
        help: "send this mail's text to a researcher without a key although the policy asks for encryption",
        parse: |a, _| a.none(Command::Cleartext),
        plan: |c, _| {
            // Read by the shell when it decides whether to withhold the text.
            given!(c, Command::Cleartext);
            Ok(())
        },
    },
    Spec {
        name: "#waiting",
        aliases: &["#wait"],
        usage: "",
        help: "this mail asks the researcher something: the ticket waits on their answer",
        parse: |a, _| a.none(Command::Waiting),
        plan: |c, p| {
            given!(c, Command::Waiting);
            if p.internal {
                return Err("#waiting means the mail asks the researcher something: it cannot go with #internal".into());
            }
            if matches!(p.ticket.state, TicketState::Resolved | TicketState::Closed) {
                return Err(format!("the ticket is {}: nothing to wait for", p.ticket.state));
            }
            p.effects.push(Effect::Wait(crate::ticket::WaitReason::Staff));
            p.effects.push(Effect::Done("the ticket waits on the researcher's answer".into()));
            Ok(())
        },
    },
    Spec {
        name: "#erase",
        aliases: &[],
        usage: "",
        help: "erase the researcher's personal data, as they asked (all their tickets; they get a receipt)",
        parse: |a, _| a.none(Command::Erase),
        plan: |c, p| {
            given!(c, Command::Erase);
            if p.ticket.erased {
                return Err("the researcher's personal data was already erased".into());
            }
            p.effects.push(Effect::Erase);
            Ok(())
        },
    },
    Spec {
        name: "#key",
        aliases: &[],
        usage: "show|reset|accept FINGERPRINT",
        help: "the researcher's OpenPGP key: list it and the keys offered, forget it, or take an offered one",
        parse: |a, _| match a.words.first().map(|w| w.to_ascii_lowercase()).as_deref() {
            Some("show") if a.words.len() == 1 => Ok(Command::Key(KeyCommand::Show)),
            Some("reset") if a.words.len() == 1 => Ok(Command::Key(KeyCommand::Reset)),
            Some("accept") => {
                let fpr: String = a.words[1..].concat().to_ascii_uppercase();
                if fpr.len() == 40 && fpr.bytes().all(|b| b.is_ascii_hexdigit()) {
                    Ok(Command::Key(KeyCommand::Accept(fpr)))
                } else {
                    Err("give the key's 40-digit fingerprint (#key show lists the keys offered)".into())
                }
            }
            _ => Err("#key show, #key reset, or #key accept FINGERPRINT".into()),
        },
        plan: |c, p| {
            given!(c, Command::Key(what));
            if *what != KeyCommand::Show && p.ticket.erased {
                return Err("the researcher's personal data was erased: there is no key".into());
            }
            match what {
                KeyCommand::Show => p.effects.push(Effect::KeyShow),
                KeyCommand::Reset => {
                    let old = p.ticket.researcher_key.take().ok_or("no key is held for the researcher")?;
                    p.effects.push(Effect::KeyReset);
                    p.record(
                        Event::KeyReset,
                        old.clone(),
                        format!(
                            "the researcher's key {old} was forgotten: mail to them goes unencrypted until they offer a key \
                             again (which is then learned on first use)"
                        ),
                    );
                }
                KeyCommand::Accept(fpr) => {
                    if p.ticket.researcher_key.as_deref() == Some(fpr.as_str()) {
                        return Err(format!("{fpr} is already the researcher's key"));
                    }
                    if !p.ticket.offered_keys.iter().any(|o| o.eq_ignore_ascii_case(fpr)) {
                        let offered = &p.ticket.offered_keys;
                        return Err(format!(
                            "the researcher never offered the key {fpr} (#key show lists the keys they offered: {})",
                            if offered.is_empty() { "none".to_string() } else { offered.join(", ") }
                        ));
                    }
                    p.effects.push(Effect::KeyAccept(fpr.clone()));
                    p.ticket.researcher_key = Some(fpr.clone());
                }
            }
            Ok(())
        },
    },
    Spec {
        name: "#exploited",
        aliases: &[],
        usage: "[SINCE|no]",
        help: "the vulnerability is actively exploited, known since SINCE (2026-12-01T09:30Z; default: now): starts \
               the Cyber Resilience Act's clocks; `no` withdraws it",
        parse: |a, config| {
            if !config.cra.enabled {
                return Err("the policy has no Cyber Resilience Act duties ([cra] enabled = false)".into());
            }
            Ok(Command::Exploited(exploitation(a, config)?))
        },
        plan: |c, p| {
            given!(c, Command::Exploited(what));
            mark_aware(Aware::Exploited, *what, p)
        },
    },
    Spec {
        name: "#mitigated",
        aliases: &[],
        usage: "",
        help: "a corrective or mitigating measure is available (the CRA final report is due 14 days later)",
        parse: |a, _| a.none(Command::Mitigated),
        plan: |c, p| {
            given!(c, Command::Mitigated);
            if p.ticket.mitigated {
                return Err("a measure is already recorded (or the ticket was resolved)".into());
            }
            p.set(TicketUpdate::Mitigated);
            let then = if p.ticket.exploited_at.is_some() && p.config.cra.enabled {
                ": the CRA final report is due in 14 days"
            } else {
                ""
            };
            p.record(
                Event::Mitigated,
                "a corrective or mitigating measure is available",
                format!("a corrective or mitigating measure is available{then}"),
            );
            p.ticket.mitigated = true;
            Ok(())
        },
    },
    Spec {
        name: "#cra-filed",
        aliases: &["#cra_filed"],
        usage: "early-warning|notification|final|incident-early-warning|… [PLATFORM-ID]",
        help: "record a filing on ENISA's single reporting platform: its clock stops",
        parse: |a, config| {
            if !config.cra.enabled {
                return Err("the policy has no Cyber Resilience Act duties ([cra] enabled = false)".into());
            }
            let Some(stage) = a.words.first() else {
                return Err("#cra-filed early-warning|notification|final [PLATFORM-ID]".into());
            };
            let stage: CraStage = stage.to_ascii_lowercase().parse()?;
            let platform_id = match a.words.get(1..).unwrap_or_default() {
                [] => None,
                [id] if id.len() <= 100 && id.bytes().all(|b| b.is_ascii_graphic()) => Some(id.to_string()),
                _ => return Err("the platform's identifier is one word of printable characters".into()),
            };
            Ok(Command::CraFiled { stage, platform_id })
        },
        plan: |c, p| {
            given!(c, Command::CraFiled { stage, platform_id });
            if stage.is_incident() && p.ticket.incident_at.is_none() {
                return Err("the ticket is not marked a severe incident (#incident first)".into());
            }
            if !stage.is_incident() && p.ticket.exploited_at.is_none() {
                return Err("the ticket is not marked exploited (#exploited first)".into());
            }
            if *stage == CraStage::IncidentFinal && !p.ticket.cra_filed.contains(&CraStage::IncidentNotification) {
                return Err(
                    "the incident's final report follows its notification: #cra-filed incident-notification first"
                        .into(),
                );
            }
            if p.ticket.cra_filed.contains(stage) {
                return Err(format!("the {} is recorded as filed already", stage.label()));
            }
            if *stage == CraStage::Final && !p.ticket.mitigated {
                return Err(
                    "the final report follows a corrective or mitigating measure: #mitigated or #resolved first".into(),
                );
            }
            let id = platform_id.as_ref().map_or(String::new(), |id| format!(" as {id}"));
            p.set(TicketUpdate::CraFiled {
                stage: *stage,
                platform_id: platform_id.clone(),
                by: p.at.member.to_string(),
            });
            p.record(
                Event::CraFiled,
                format!("{stage}{id}"),
                format!("{} filed{id}: its clock stopped", stage.label()),
            );
            p.ticket.cra_filed.push(*stage);
            Ok(())
        },
    },
    Spec {
        name: "#product",
        aliases: &[],
        usage: "ID",
        help: "the product the report concerns (one of the policy's [[products]])",
        parse: |a, config| {
            let id = a.rest.to_ascii_lowercase();
            if config.products.iter().any(|p| p.id == id) {
                return Ok(Command::Product(id));
            }
            let known: Vec<&str> = config.products.iter().map(|p| p.id.as_str()).collect();
            Err(format!("no product {id:?} in the policy (known: {})", list(&known)))
        },
        plan: |c, p| {
            given!(c, Command::Product(id));
            if p.ticket.product.as_ref() == Some(id) {
                return Err(format!("the ticket is already about {id}"));
            }
            p.set(TicketUpdate::Product(id.clone()));
            p.record(Event::ProductSet, id.clone(), format!("product: {id}"));
            p.ticket.product = Some(id.clone());
            Ok(())
        },
    },
    Spec {
        name: "#cve",
        aliases: &[],
        usage: "CVE-YYYY-NNNN",
        help: "record the CVE ID reserved for the vulnerability (the CVE and OSV records name it)",
        parse: |a, _| {
            let id = a.rest.to_ascii_uppercase();
            let ok = id.strip_prefix("CVE-").and_then(|r| r.split_once('-')).is_some_and(|(year, n)| {
                year.len() == 4
                    && year.bytes().all(|b| b.is_ascii_digit())
                    && (4..=19).contains(&n.len())
                    && n.bytes().all(|b| b.is_ascii_digit())
            });
            if !ok {
                return Err(format!("{:?} is not a CVE ID: write CVE-2026-12345", a.rest));
            }
            Ok(Command::Cve(id))
        },
        plan: |c, p| {
            given!(c, Command::Cve(id));
            if p.ticket.cve_id.as_ref() == Some(id) {
                return Err(format!("the ticket is already {id}"));
            }
            let was = p.ticket.cve_id.as_ref().map_or(String::new(), |was| format!(" (was {was})"));
            p.set(TicketUpdate::Cve(id.clone()));
            p.record(Event::CveRecorded, format!("{id}{was}"), format!("CVE ID: {id}{was}"));
            p.ticket.cve_id = Some(id.clone());
            Ok(())
        },
    },
    Spec {
        name: "#incident",
        aliases: &[],
        usage: "[SINCE|no]",
        help: "a severe incident affects the product's security, known since SINCE (default: now): starts the CRA's \
               incident clocks (24 h, 72 h, one month after the notification); `no` withdraws it",
        parse: |a, config| {
            if !(config.cra.enabled && config.cra.incidents) {
                return Err("the policy tracks no severe incidents ([cra] incidents = false)".into());
            }
            Ok(Command::Incident(exploitation(a, config)?))
        },
        plan: |c, p| {
            given!(c, Command::Incident(what));
            mark_aware(Aware::Incident, *what, p)
        },
    },
];

/// The staff help's list: (synopsis, what it does), in [`REGISTRY`] order.
pub fn help() -> Vec<(String, &'static str)> {
    REGISTRY.iter().map(|s| (s.synopsis(), s.help)).collect()
}

/// Reads the commands at the top of a staff mail's text, and the text to relay after them.
pub fn parse(text: &str, config: &Config) -> Parsed {
    let mut parsed = Parsed::default();
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    // Leading blank lines, then a block of command lines.
    while i < lines.len() && lines[i].trim().is_empty() {
        i += 1;
    }
    while i < lines.len() {
        let line = lines[i].trim();
        if line.is_empty() {
            i += 1;
            // A blank line inside the block is fine; the block ends at the first line that is not a command.
            continue;
        }
        if !line.starts_with('#') {
            break;
        }
        match command(line, config) {
            Ok((spec, c)) => parsed.commands.push(Line { number: i + 1, text: line.to_string(), command: c, spec }),
            Err(why) => parsed.errors.push(LineError { number: i + 1, text: line.to_string(), why }),
        }
        i += 1;
    }
    parsed.text = strip_quotes_and_signature(&lines[i.min(lines.len())..].join("\n"));
    parsed
}

fn command(line: &str, config: &Config) -> Result<(&'static Spec, Command), String> {
    let mut words = line.split_whitespace();
    let name = words.next().unwrap_or("").to_ascii_lowercase();
    let words: Vec<&str> = words.collect();
    let args = Args { name: &name, rest: words.join(" "), words };
    match REGISTRY.iter().find(|s| s.answers_to(&name)) {
        Some(spec) => Ok((spec, (spec.parse)(&args, config)?)),
        None => {
            Err(format!("unknown command (one of: {})", REGISTRY.iter().map(|s| s.name).collect::<Vec<_>>().join(" ")))
        }
    }
}

/// When the desk became aware: an instant with its offset (`2026-12-01T09:30Z`, `2026-12-01T10:30+01:00`), or
/// a date and time in the policy's time zone (`2026-12-01T09:30`), or a date alone (its
/// start there: the earliest reading, so no deadline is computed later than it is).
fn awareness(word: &str, config: &Config) -> Result<i64, String> {
    if let Ok(t) = word.parse::<jiff::Timestamp>() {
        return Ok(t.as_millisecond());
    }
    let civil = word
        .parse::<jiff::civil::DateTime>()
        .or_else(|_| word.parse::<jiff::civil::Date>().map(|d| d.to_datetime(jiff::civil::Time::midnight())))
        .map_err(|_| format!("{word:?} is not a time: write 2026-12-01T09:30Z (or a date, 2026-12-01)"))?;
    let tz = &config.calendar.time_zone;
    tz.to_timestamp(civil).map(|t| t.as_millisecond()).map_err(|e| format!("{word:?}: {e}"))
}

/// What `#exploited` and `#incident` read: nothing (since the mail), a time, or `no`.
fn exploitation(a: &Args<'_>, config: &Config) -> Result<Exploitation, String> {
    match a.words.as_slice() {
        [] => Ok(Exploitation::Since(None)),
        [w] if w.eq_ignore_ascii_case("no") => Ok(Exploitation::Withdraw),
        [w] => Ok(Exploitation::Since(Some(awareness(w, config)?))),
        _ => Err(format!("{0}, {0} SINCE (e.g. 2026-12-01T09:30Z), or {0} no", a.name)),
    }
}

/// What a ticket can be known as since a moment, which starts CRA clocks: an actively exploited vulnerability
/// (`#exploited`, Art. 14(2)) or a severe incident (`#incident`, Art. 14(3)). One planner serves both.
#[derive(Debug, Clone, Copy)]
enum Aware {
    Exploited,
    Incident,
}

impl Aware {
    /// What the ticket is said to be ("marked …").
    fn what(self) -> &'static str {
        match self {
            Aware::Exploited => "exploited",
            Aware::Incident => "a severe incident",
        }
    }

    fn since(self, t: &mut TicketView) -> &mut Option<i64> {
        match self {
            Aware::Exploited => &mut t.exploited_at,
            Aware::Incident => &mut t.incident_at,
        }
    }

    fn update(self, since: Option<i64>, by: String) -> TicketUpdate {
        match self {
            Aware::Exploited => TicketUpdate::Exploited { since, by },
            Aware::Incident => TicketUpdate::Incident { since, by },
        }
    }
}

/// Marks the ticket (known since `what`'s time, by default the mail's) or withdraws the mark.
fn mark_aware(aware: Aware, what: Exploitation, p: &mut Planning<'_>) -> Result<(), String> {
    let now = p.at.now;
    let by = p.at.member.to_string();
    let what_it_is = aware.what();
    match what {
        Exploitation::Since(since) => {
            let since = since.unwrap_or(now);
            if since > now {
                return Err("the time of becoming aware cannot be in the future".into());
            }
            if aware.since(&mut p.ticket).is_some_and(|t| t <= since) {
                return Err(format!("the ticket is already marked {what_it_is} (since an earlier time)"));
            }
            let shown = p.config.calendar.show(since);
            let reference = &p.ticket.reference;
            let (event, detail, done) = match aware {
                Aware::Exploited => (
                    Event::Exploited,
                    format!("actively exploited, known since {shown}"),
                    format!(
                        "actively exploited, known since {shown}: the CRA early warning is due in 24 hours, the \
                         notification in 72 (vdpd cra draft {reference} --stage early-warning)"
                    ),
                ),
                Aware::Incident => (
                    Event::SevereIncident,
                    format!("severe incident, known since {shown}"),
                    format!(
                        "severe incident, known since {shown}: the CRA incident early warning is due in 24 hours, \
                         the incident notification in 72 (vdpd cra draft {reference} --stage incident-early-warning)"
                    ),
                ),
            };
            p.set(aware.update(Some(since), by));
            p.record(event, detail, done);
            *aware.since(&mut p.ticket) = Some(since);
        }
        Exploitation::Withdraw => {
            if aware.since(&mut p.ticket).is_none() {
                return Err(format!("the ticket is not marked {what_it_is}"));
            }
            let (event, detail, done) = match aware {
                Aware::Exploited => (
                    Event::NotExploited,
                    "not actively exploited after all",
                    "no longer marked exploited: the CRA clocks stopped",
                ),
                Aware::Incident => (
                    Event::NotSevereIncident,
                    "not a severe incident after all",
                    "no longer marked a severe incident: its CRA clocks stopped",
                ),
            };
            p.set(aware.update(None, by));
            p.record(event, detail, done);
            *aware.since(&mut p.ticket) = None;
        }
    }
    Ok(())
}

fn list(items: &[&str]) -> String {
    if items.is_empty() { "none".into() } else { items.join(", ") }
}

/// Removes what a mail client adds below or around a reply: quoted lines and their attribution ("On … wrote:"),
/// a forwarded or "Original Message" block, and the signature ("-- ").
pub fn strip_quotes_and_signature(text: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for line in text.lines() {
        let t = line.trim_end();
        if t == "-- "
            || t == "--"
            || t.starts_with("-----Original Message")
            || t.starts_with("-------- Original Message")
        {
            break;
        }
        if t.trim_start().starts_with('>') {
            continue;
        }
        out.push(t);
    }
    // An attribution line right before the (removed) quote: "On Mon, 23 Nov 2026, Alice wrote:".
    while let Some(last) = out.iter().rposition(|l| !l.trim().is_empty()) {
        let l = out[last].trim();
        let attribution = l.ends_with("wrote:")
            || l.ends_with("schrieb:")
            || l.ends_with("a écrit :")
            || l.ends_with("a écrit:")
            || l.ends_with("escribió:");
        if attribution {
            out.truncate(last);
        } else {
            break;
        }
    }
    let text = out.join("\n");
    text.trim_matches('\n').trim_end().to_string()
}

/// What the ticket looks like to the commands.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketView {
    pub reference: String,
    pub state: TicketState,
    pub outcome: Option<Outcome>,
    /// The bounty tier awarded, if one was.
    pub bounty_tier: Option<String>,
    pub bounty_paid: bool,
    /// The researcher's own answer about public credit.
    pub credit_consent: CreditConsent,
    /// The out-of-scope clause (and sub-processor) the report's words point to: what a bare
    /// `#not-applicable` uses.
    pub suggested_clause: Option<(String, Option<String>)>,
    /// The researcher's personal data was erased.
    pub erased: bool,
    /// The fingerprint of the key held for the researcher, if one is.
    pub researcher_key: Option<String>,
    /// Fingerprints of keys the researcher offered that were not taken.
    pub offered_keys: Vec<String>,
    /// Since when the vulnerability is known to be actively exploited.
    pub exploited_at: Option<i64>,
    /// A corrective or mitigating measure is available (or the ticket was resolved).
    pub mitigated: bool,
    /// The CRA stages filed already.
    pub cra_filed: Vec<CraStage>,
    /// The `[[products]]` id the ticket concerns, once given.
    pub product: Option<String>,
    /// The reporter's address (`None` once erased) and the co-reporters staff added.
    pub reporter: Option<String>,
    pub co_reporters: Vec<String>,
    /// The CVE ID recorded, if one is.
    pub cve_id: Option<String>,
    /// Since when a severe incident is known (CRA Art. 14(3)).
    pub incident_at: Option<i64>,
}

/// When a staff mail is planned, and whose it is.
#[derive(Debug, Clone, Copy)]
pub struct At<'a> {
    /// Milliseconds since the epoch.
    pub now: i64,
    /// The member who wrote (what `#exploited` and `#cra-filed` record as who said so).
    pub member: &'a str,
}

/// A staff mail's commands being planned: the ticket as the earlier commands of the same mail leave it, and
/// the effects so far.
pub struct Planning<'a> {
    pub ticket: TicketView,
    pub effects: Vec<Effect>,
    config: &'a Config,
    /// The tickets a command names that exist (for `#duplicate`).
    existing: &'a [Existing],
    /// The date in UTC.
    today: jiff::civil::Date,
    at: At<'a>,
    /// The mail carries `#internal`.
    internal: bool,
}

impl Planning<'_> {
    fn set(&mut self, update: TicketUpdate) {
        self.effects.push(Effect::Update(update));
    }

    /// Something the researcher is told.
    fn notice(&mut self, notice: Notice) {
        self.effects.push(Effect::Notice(Box::new(notice)));
    }

    /// A timeline entry and the member's line about it.
    fn record(&mut self, event: Event, detail: impl Into<String>, done: impl Into<String>) {
        self.effects.push(Effect::timeline(event, detail));
        self.effects.push(Effect::Done(done.into()));
    }

    /// Closes the ticket with an outcome, and tells the researcher what it means (the policy's clause).
    fn close(
        &mut self,
        outcome: Outcome,
        detail: String,
        clause: Option<&str>,
        sub_processor: Option<&str>,
        advisory: Option<String>,
    ) -> Result<(), String> {
        if self.ticket.state == TicketState::Closed {
            return Err("the ticket is closed: #reopen it first".into());
        }
        let config = self.config;
        let clause = clause.and_then(|c| config.scope.clause(c));
        let context = OutcomeContext {
            clause: clause.map(|c| c.wording.clone()),
            sub_processor: clause.and_then(|c| {
                let name = sub_processor?;
                let s = c.sub_processors.iter().find(|s| s.name.eq_ignore_ascii_case(name))?;
                Some(NamedText { name: s.name.clone(), value: s.contact.clone() })
            }),
            meaning: config.bounty.tier(outcome.as_str()).map(|t| t.meaning.clone()).filter(|m| !m.is_empty()),
            advisory,
            ..OutcomeContext::default()
        };
        let shown = if detail.is_empty() { String::new() } else { format!(" ({detail})") };
        self.set(TicketUpdate::Outcome { outcome: Some(outcome), detail });
        self.set(TicketUpdate::State(TicketState::Closed));
        self.record(Event::Closed, format!("{outcome}{shown}"), format!("closed as {outcome}{shown}"));
        self.notice(Notice::Closed { outcome, context });
        self.effects.push(Effect::Diagnosed);
        self.ticket.state = TicketState::Closed;
        self.ticket.outcome = Some(outcome);
        Ok(())
    }
}

/// What of a staff mail goes to the researcher, and what the member is told about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Relay {
    /// `Some`: a mail goes to the researcher, with the member's words when they may go (`Some(text)`) and the
    /// notices of what the commands decided. `None`: nothing goes.
    pub send: Option<Option<String>>,
    /// The member's confirmation lines about it.
    pub done: Vec<String>,
}

/// Decides the relay: nothing of an `#internal` mail; the words only where report detail may go (encrypted to
/// the researcher, or the policy allows clear text, or the member said `#cleartext`); a mail whenever there are
/// words or notices to send.
pub fn relay(
    parsed: &Parsed,
    has_notices: bool,
    encrypted: bool,
    openpgp: Option<&crate::config::OpenPgpConfig>,
) -> Relay {
    if parsed.has(&Command::Internal) {
        return Relay { send: None, done: vec!["nothing went to the researcher (#internal)".into()] };
    }
    let mut done = Vec::new();
    let mut text = (!parsed.text.is_empty()).then(|| parsed.text.clone());
    if text.is_some() && !super::may_send_detail(openpgp, encrypted) && !parsed.has(&Command::Cleartext) {
        text = None;
        done.push(
            "your text was NOT sent: the researcher has no OpenPGP key and the policy sends report detail only encrypted \
             (ask for their key, or add #cleartext to send it anyway)"
                .into(),
        );
    }
    if text.is_none() && !has_notices {
        return Relay { send: None, done };
    }
    done.push(format!("sent to the researcher ({})", sent_how(encrypted)));
    Relay { send: Some(text), done }
}

/// How a mail went to the researcher, in the words of the member's confirmation and the ticket's timeline.
pub fn sent_how(encrypted: bool) -> &'static str {
    if encrypted { "encrypted" } else { "in clear text" }
}

/// A ticket a staff command names (`#duplicate REF`), as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Existing {
    pub reference: String,
    /// The URL of its published advisory: a fixed flaw the researcher may be pointed to, because the world
    /// may read of it already.
    pub advisory: Option<String>,
}

/// Checks every command against the ticket as the earlier commands of the same mail leave it, each by its own
/// [`Spec::plan`]: all of them plan, or the mail does nothing and the errors say why. `existing` lists the
/// references that exist (for `#duplicate`); `at` says when, and who wrote.
pub fn plan(
    ticket: &TicketView,
    parsed: &Parsed,
    existing: &[Existing],
    at: At<'_>,
    config: &Config,
) -> Result<Vec<Effect>, Vec<LineError>> {
    let mut errors = parsed.errors.clone();
    let today = jiff::Timestamp::from_millisecond(at.now)
        .map(|t| t.to_zoned_datetime(jiff::tz::TimeZone::UTC).date())
        .unwrap_or_default();
    let mut p = Planning {
        ticket: ticket.clone(),
        effects: Vec::new(),
        config,
        existing,
        today,
        at,
        internal: parsed.has(&Command::Internal),
    };
    for l in &parsed.commands {
        if let Err(why) = (l.spec.plan)(&l.command, &mut p) {
            errors.push(LineError { number: l.number, text: l.text.clone(), why });
        }
    }
    if errors.is_empty() {
        Ok(p.effects)
    } else {
        errors.sort_by_key(|e| e.number);
        Err(errors)
    }
}

/// Everything an authenticated staff mail about a ticket causes, decided at once: the message recorded (a note
/// when `#internal`); commands found beside the signed content ignored, on the timeline, in a warning to all
/// staff and in the member's confirmation; then either every command refused (the member is told why) or
/// every command's effects, the duplicate index rewritten, the relay to the researchers, the erasure last (what
/// goes to the researcher is composed while we still know them), the member's confirmation and the other
/// staff's note. `parsed` is [`parse`] of the mail's signed text; `ticket`, `existing` and `at` as [`plan`]
/// takes them.
pub fn mail_plan(
    inbound: &Inbound,
    parsed: &Parsed,
    ticket: &TicketView,
    existing: &[Existing],
    at: At<'_>,
    config: &Config,
) -> super::Plan {
    let member = at.member;
    let mut out = super::Plan::new(super::staff_mail_entry(member));
    let internal = parsed.has(&Command::Internal);
    out.effects.push(Effect::Record(if internal { MessageKind::StaffNote } else { MessageKind::Staff }));
    // Commands beside the signed content did nothing; whoever put them there wanted them to. Staff hear of
    // it (the member in their confirmation, everyone in a warning).
    let unsigned: Vec<&str> = inbound
        .outside
        .text
        .lines()
        .map(str::trim)
        .filter(|l| l.strip_prefix('#').is_some_and(|c| c.starts_with(|ch: char| ch.is_ascii_alphabetic())))
        .collect();
    let ignored = (!unsigned.is_empty()).then(|| {
        let listed = unsigned.iter().map(|c| format!("{c:?}")).collect::<Vec<_>>().join(", ");
        let detail = format!(
            "a mail signed by {member} (subject {:?}) carried commands outside its signed content: {listed}. They were \
             ignored; only the signed part was acted on. If {member} did not add them, someone tampered with the \
             mail or reused their signed text.",
            inbound.subject
        );
        out.effects.push(Effect::timeline(Event::UnsignedCommandsIgnored, listed.clone()));
        out.effects.push(Effect::Warn(super::aside::Warning {
            kind: crate::ticket::WarningKind::UnsignedCommands,
            detail,
            names_message: true,
            at_most_every: None,
        }));
        format!("IGNORED, not signed: {listed} — only what your signature covers counts")
    });
    let effects = match plan(ticket, parsed, existing, at, config) {
        Ok(effects) => effects,
        Err(errors) => {
            let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
            out.effects.push(Effect::timeline(Event::StaffCommandsRefused, lines.join("; ")));
            out.effects.push(Effect::Refuse(lines.into_iter().chain(ignored).collect()));
            return out;
        }
    };
    out.effects.extend(ignored.map(Effect::Done));
    let erase = effects.contains(&Effect::Erase);
    out.effects.extend(effects.into_iter().filter(|e| *e != Effect::Erase));
    // The commands may have changed what the ticket says (its asset, its weakness, a purge).
    out.effects.push(Effect::Reindex);
    out.effects.push(Effect::Relay);
    if erase {
        out.effects.push(Effect::Erase);
    }
    out.effects.extend([Effect::Confirm, Effect::TellStaff]);
    out
}

#[cfg(test)]
mod tests;

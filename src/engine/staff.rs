//! Staff by mail: who is staff, and what their commands do.
//!
//! A mail is a staff mail only when its From is a `[staff]` member *and* it proves it: by a good OpenPGP
//! signature by that member's own certificate (default), or — if the policy says so instead — by a DKIM pass
//! for the From domain in an `Authentication-Results` header of the one trusted authserv-id. Anything else from
//! a staff address runs nothing and relays nothing.
//!
//! Commands are `#word argument` lines at the top of the body. A mail's commands are checked together against
//! the ticket as it would be after each one ([`plan`]) and apply all together or not at all; every error names
//! its line. Pure code: the store facts it needs (does `#duplicate REF` exist?) come in as values.

use crate::classify::Inbound;
use crate::config::{Config, Staff, StaffAuth};
use crate::engine::TicketState;
use crate::form;
use crate::openpgp::read::Signature;

/// Whether a mail comes from staff.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StaffCheck {
    /// From is not a staff address.
    #[default]
    NotStaff,
    /// From a staff member, proven.
    Authenticated { member: String },
    /// From a staff address, not proven: runs nothing.
    Failed { member: String, reason: String },
}

/// Decides whether `inbound` is an authenticated staff mail. `fingerprints` are the members' certificate
/// fingerprints (address, fingerprint).
pub fn authenticate(inbound: &Inbound, staff: &Staff, fingerprints: &[(String, String)]) -> StaffCheck {
    let Some(member) = staff.member(&inbound.sender) else {
        return StaffCheck::NotStaff;
    };
    let member = member.address.clone();
    let fail = |reason: String| StaffCheck::Failed { member: member.clone(), reason };
    match &staff.authentication {
        StaffAuth::OpenPgp => {
            let own = fingerprints.iter().find(|(a, _)| a.eq_ignore_ascii_case(&member)).map(|(_, f)| f.as_str());
            match &inbound.crypto.signature {
                Signature::Good { cert } if Some(cert.as_str()) == own => StaffCheck::Authenticated { member },
                Signature::Good { cert } => match fingerprints.iter().find(|(_, f)| f == cert) {
                    Some((other, _)) => fail(format!("signed by the key of {other}, not by the key of {member}")),
                    None => fail(format!("signed by {cert}, which is not {member}'s certificate")),
                },
                Signature::Unknown { issuer } => fail(format!("signed by an unknown key ({issuer})")),
                Signature::Bad { reason } => fail(format!("bad signature: {reason}")),
                Signature::None if inbound.crypto.error.is_some() => {
                    fail(format!("could not be decrypted: {}", inbound.crypto.error.as_deref().unwrap_or("")))
                }
                Signature::None => fail("not signed (staff mail must carry the member's OpenPGP signature)".into()),
            }
        }
        StaffAuth::Dkim { authserv_id } => {
            let domain = member.rsplit_once('@').map(|(_, d)| d).unwrap_or("");
            match dkim_pass(&inbound.auth_results, authserv_id, domain) {
                Ok(()) => StaffCheck::Authenticated { member },
                Err(why) => fail(why),
            }
        }
    }
}

/// Checks the topmost `Authentication-Results` of `authserv_id` for `dkim=pass` with `header.d=domain`.
/// Headers of any other authserv-id are ignored: anyone can write them.
pub fn dkim_pass(results: &[String], authserv_id: &str, domain: &str) -> Result<(), String> {
    let ours = results.iter().find(|r| {
        r.split(';')
            .next()
            .and_then(|id| id.split_whitespace().next())
            .is_some_and(|id| id.eq_ignore_ascii_case(authserv_id))
    });
    let Some(header) = ours else {
        return Err(format!("no Authentication-Results from the trusted {authserv_id}"));
    };
    let passed = header.split(';').skip(1).any(|result| {
        let r = result.trim().to_ascii_lowercase();
        r.starts_with("dkim=pass")
            && r.split_whitespace().any(|kv| {
                kv.strip_prefix("header.d=").is_some_and(|d| d.trim_matches(['"', ';']) == domain.to_ascii_lowercase())
            })
    });
    if passed { Ok(()) } else { Err(format!("no dkim=pass for {domain} from {authserv_id}")) }
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
}

/// A command with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// 1-based line in the mail's text.
    pub number: usize,
    pub text: String,
    pub command: Command,
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

/// The command names, for help texts.
pub const COMMANDS: &[(&str, &str)] = &[
    ("#state triage|accepted|fixing|resolved|closed", "move the ticket (silently)"),
    ("#severity critical|high|medium|low|CVSS:3.1/…", "set the severity"),
    ("#assign ADDRESS", "give the ticket to a staff member (notifications go to them)"),
    ("#duplicate REF", "close as a duplicate of another ticket (the researcher is not told which)"),
    ("#not-applicable [CLAUSE [SUB-PROCESSOR]]", "close as out of scope, quoting the policy clause"),
    ("#informative", "close as informative"),
    ("#bounty TIER", "award a bounty tier (and ask for the invoice details)"),
    ("#paid", "record that the bounty was paid"),
    ("#resolved", "mark fixed and ask the researcher to confirm the fix"),
    ("#disclose YYYY-MM-DD", "set the negotiated disclosure date"),
    ("#credit NAME|none", "confirm how the researcher is credited"),
    ("#reopen", "reopen a resolved or closed ticket"),
    ("#internal", "keep this mail's text with staff"),
    ("#cleartext", "send this mail's text to a researcher without a key although the policy asks for encryption"),
    ("#waiting", "this mail asks the researcher something: the ticket waits on their answer"),
    ("#erase", "erase the researcher's personal data, as they asked (all their tickets; they get a receipt)"),
];

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
            Ok(c) => parsed.commands.push(Line { number: i + 1, text: line.to_string(), command: c }),
            Err(why) => parsed.errors.push(LineError { number: i + 1, text: line.to_string(), why }),
        }
        i += 1;
    }
    parsed.text = strip_quotes_and_signature(&lines[i.min(lines.len())..].join("\n"));
    parsed
}

fn command(line: &str, config: &Config) -> Result<Command, String> {
    let mut words = line.split_whitespace();
    let name = words.next().unwrap_or("").to_ascii_lowercase();
    let args: Vec<&str> = words.collect();
    let rest = args.join(" ");
    let no_args = |c: Command| if args.is_empty() { Ok(c) } else { Err(format!("{name} takes no argument")) };
    match name.as_str() {
        "#state" => {
            let state: TicketState = rest.parse()?;
            if state == TicketState::New {
                return Err("a ticket cannot go back to new (use #state triage)".into());
            }
            Ok(Command::State(state))
        }
        "#severity" => {
            if rest.is_empty() {
                return Err("give a severity: critical, high, medium, low, or a CVSS vector".into());
            }
            let scored = form::severity(&rest)?;
            Ok(Command::Severity { band: scored.band, vector: scored.vector, score: scored.score })
        }
        "#assign" => {
            let who = crate::mailtext::normalize_address(&rest).ok_or("give the address of a staff member")?;
            if config.staff.member(&who).is_none() {
                return Err(format!("{who} is not a staff member"));
            }
            Ok(Command::Assign(who))
        }
        "#duplicate" => {
            let r = rest.trim_matches(['[', ']']).to_ascii_uppercase();
            if crate::mailtext::find_reference_tags(&format!("[{r}]"), &config.organisation.ticket_prefix).is_empty() {
                return Err(format!(
                    "give the reference of the original ticket, e.g. {}-2026-0001",
                    config.organisation.ticket_prefix
                ));
            }
            Ok(Command::Duplicate(r))
        }
        "#not-applicable" | "#not_applicable" | "#n/a" => {
            let clause = args.first().map(|c| c.to_string());
            let sub = (args.len() > 1).then(|| args[1..].join(" "));
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
        }
        "#informative" => no_args(Command::Informative),
        "#bounty" => {
            if !config.bounty.enabled {
                return Err("the policy has no bounty ([bounty] enabled = false)".into());
            }
            if crate::config::OUTCOME_TIERS.iter().any(|o| o.eq_ignore_ascii_case(&rest)) {
                return Err(format!("{rest:?} is an outcome, not a bounty: use #{}", rest.to_ascii_lowercase()));
            }
            if config.bounty.tier(&rest).is_none() {
                let known: Vec<&str> = config.bounty.tiers.iter().map(|t| t.id.as_str()).collect();
                return Err(format!("no bounty tier {rest:?} (known: {})", list(&known)));
            }
            Ok(Command::Bounty(rest.to_ascii_lowercase()))
        }
        "#paid" => no_args(Command::Paid),
        "#resolved" | "#fixed" => no_args(Command::Resolved),
        "#disclose" => {
            let date: jiff::civil::Date =
                rest.parse().map_err(|_| format!("{rest:?} is not a date: write YYYY-MM-DD"))?;
            Ok(Command::Disclose(date))
        }
        "#credit" => {
            if rest.is_empty() {
                return Err("give the name to credit, or none".into());
            }
            let clean = crate::mailtext::clean_header_text(&rest, 200);
            let credit = (!clean.eq_ignore_ascii_case("none")).then_some(clean);
            if credit.is_some() && !config.recognition.hall_of_fame {
                return Err(
                    "the policy credits nobody publicly ([recognition] hall_of_fame = false): only #credit none".into(),
                );
            }
            Ok(Command::Credit(credit))
        }
        "#reopen" => no_args(Command::Reopen),
        "#internal" => no_args(Command::Internal),
        "#cleartext" => no_args(Command::Cleartext),
        "#waiting" | "#wait" => no_args(Command::Waiting),
        "#erase" => no_args(Command::Erase),
        _ => Err(format!(
            "unknown command (one of: {})",
            COMMANDS.iter().map(|(c, _)| c.split_whitespace().next().unwrap_or(c)).collect::<Vec<_>>().join(" ")
        )),
    }
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
        let attribution = l.ends_with("wrote:") || l.ends_with("schrieb:") || l.ends_with("a écrit :");
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
    pub outcome: String,
    pub bounty_tier: String,
    pub bounty_paid: bool,
    /// The researcher's own answer about public credit: '' (none yet), 'none', or how to credit them.
    pub credit_consent: String,
    /// The out-of-scope clause (and sub-processor) the report's words point to: what a bare
    /// `#not-applicable` uses.
    pub suggested_clause: Option<(String, Option<String>)>,
    /// The researcher's personal data was erased.
    pub erased: bool,
}

/// A change to make, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    State {
        from: TicketState,
        to: TicketState,
    },
    Severity {
        band: crate::config::Severity,
        vector: Option<String>,
        score: Option<f64>,
    },
    Assign(String),
    /// `outcome`: duplicate | not-applicable | informative; closes the ticket.
    Outcome {
        outcome: &'static str,
        detail: String,
        clause: Option<String>,
        sub_processor: Option<String>,
    },
    Bounty {
        tier: String,
    },
    Paid,
    Resolved,
    Disclose(jiff::civil::Date),
    Credit(Option<String>),
    Reopen,
    Waiting,
    Erase,
}

/// Checks every command against the ticket as the earlier commands of the same mail leave it. `existing` lists
/// the references that exist (for `#duplicate`); `today` is the date in UTC.
pub fn plan(
    ticket: &TicketView,
    parsed: &Parsed,
    existing: &[String],
    today: jiff::civil::Date,
) -> Result<Vec<Change>, Vec<LineError>> {
    let mut errors = parsed.errors.clone();
    let mut t = ticket.clone();
    let mut changes = Vec::new();
    let closed_with_outcome = |t: &TicketView| t.state == TicketState::Closed;
    for l in &parsed.commands {
        let mut err = |why: String| errors.push(LineError { number: l.number, text: l.text.clone(), why });
        match &l.command {
            Command::State(to) => {
                if *to == t.state {
                    err(format!("the ticket is already {to}"));
                } else if t.state == TicketState::Closed {
                    err("the ticket is closed: #reopen it first".into());
                } else {
                    changes.push(Change::State { from: t.state, to: *to });
                    t.state = *to;
                }
            }
            Command::Severity { band, vector, score } => {
                changes.push(Change::Severity { band: *band, vector: vector.clone(), score: *score })
            }
            Command::Assign(who) => changes.push(Change::Assign(who.clone())),
            Command::Duplicate(r) => {
                if r.eq_ignore_ascii_case(&t.reference) {
                    err("a ticket cannot duplicate itself".into());
                } else if !existing.iter().any(|e| e.eq_ignore_ascii_case(r)) {
                    err(format!("there is no ticket {r}"));
                } else if closed_with_outcome(&t) {
                    err("the ticket is closed: #reopen it first".into());
                } else {
                    changes.push(Change::Outcome {
                        outcome: "duplicate",
                        detail: r.clone(),
                        clause: None,
                        sub_processor: None,
                    });
                    t.state = TicketState::Closed;
                    t.outcome = "duplicate".into();
                }
            }
            Command::NotApplicable { clause, sub_processor } => {
                let (clause, sub_processor) = match (clause, &t.suggested_clause) {
                    (None, Some((c, sp))) => (&Some(c.clone()), &sp.clone()),
                    _ => (clause, sub_processor),
                };
                if closed_with_outcome(&t) {
                    err("the ticket is closed: #reopen it first".into());
                } else {
                    changes.push(Change::Outcome {
                        outcome: "not-applicable",
                        detail: clause.clone().unwrap_or_default(),
                        clause: clause.clone(),
                        sub_processor: sub_processor.clone(),
                    });
                    t.state = TicketState::Closed;
                    t.outcome = "not-applicable".into();
                }
            }
            Command::Informative => {
                if closed_with_outcome(&t) {
                    err("the ticket is closed: #reopen it first".into());
                } else {
                    changes.push(Change::Outcome {
                        outcome: "informative",
                        detail: String::new(),
                        clause: None,
                        sub_processor: None,
                    });
                    t.state = TicketState::Closed;
                    t.outcome = "informative".into();
                }
            }
            Command::Bounty(tier) => {
                if !t.outcome.is_empty() {
                    err(format!("the ticket was closed as {}: no bounty", t.outcome));
                } else if t.state == TicketState::New || t.state == TicketState::Triage {
                    err(format!("the ticket is still {}: accept it first (#state accepted)", t.state));
                } else {
                    changes.push(Change::Bounty { tier: tier.clone() });
                    t.bounty_tier = tier.clone();
                    t.bounty_paid = false;
                }
            }
            Command::Paid => {
                if t.bounty_tier.is_empty() {
                    err("no bounty was awarded (#bounty TIER first)".into());
                } else if t.bounty_paid {
                    err("the bounty is already recorded as paid".into());
                } else {
                    changes.push(Change::Paid);
                    t.bounty_paid = true;
                }
            }
            Command::Resolved => {
                if matches!(t.state, TicketState::Resolved | TicketState::Closed) {
                    err(format!("the ticket is already {}", t.state));
                } else if !t.outcome.is_empty() {
                    err(format!("the ticket was closed as {}", t.outcome));
                } else {
                    changes.push(Change::Resolved);
                    t.state = TicketState::Resolved;
                }
            }
            Command::Disclose(date) => {
                if *date < today {
                    err(format!("{date} is in the past"));
                } else {
                    changes.push(Change::Disclose(*date));
                }
            }
            Command::Credit(Some(_)) if t.credit_consent.is_empty() => err(
                "the researcher has not agreed to public credit: ask them to answer \"Credit: name, handle or link\" (or none)"
                    .into(),
            ),
            Command::Credit(Some(_)) if t.credit_consent.eq_ignore_ascii_case("none") => {
                err("the researcher declined public credit (their Credit answer was none)".into())
            }
            Command::Credit(c) => changes.push(Change::Credit(c.clone())),
            Command::Waiting => {
                if parsed.has(&Command::Internal) {
                    err("#waiting means the mail asks the researcher something: it cannot go with #internal".into());
                } else if matches!(t.state, TicketState::Resolved | TicketState::Closed) {
                    err(format!("the ticket is {}: nothing to wait for", t.state));
                } else {
                    changes.push(Change::Waiting);
                }
            }
            Command::Erase => {
                if t.erased {
                    err("the researcher's personal data was already erased".into());
                } else {
                    changes.push(Change::Erase);
                }
            }
            Command::Reopen => {
                if !matches!(t.state, TicketState::Resolved | TicketState::Closed) {
                    err(format!("the ticket is {}, not resolved or closed", t.state));
                } else {
                    changes.push(Change::Reopen);
                    t.state = TicketState::Triage;
                    t.outcome.clear();
                }
            }
            Command::Internal | Command::Cleartext => {}
        }
    }
    if errors.is_empty() {
        Ok(changes)
    } else {
        errors.sort_by_key(|e| e.number);
        Err(errors)
    }
}

#[cfg(test)]
mod tests;

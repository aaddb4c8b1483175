//! A ticket as the policy sees it: where it stands, and how an incoming mail may belong to one.

use serde::Serialize;

/// Where a ticket stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TicketState {
    /// Received and acknowledged; nobody has looked yet.
    New,
    /// Being assessed.
    Triage,
    /// Confirmed as a valid vulnerability.
    Accepted,
    /// A fix is being made.
    Fixing,
    /// Fixed; waiting for the researcher's confirmation and the disclosure date.
    Resolved,
    /// Done.
    Closed,
}

impl TicketState {
    pub const ALL: [TicketState; 6] = [
        TicketState::New,
        TicketState::Triage,
        TicketState::Accepted,
        TicketState::Fixing,
        TicketState::Resolved,
        TicketState::Closed,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            TicketState::New => "new",
            TicketState::Triage => "triage",
            TicketState::Accepted => "accepted",
            TicketState::Fixing => "fixing",
            TicketState::Resolved => "resolved",
            TicketState::Closed => "closed",
        }
    }
}

impl std::str::FromStr for TicketState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        TicketState::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| format!("unknown state {s:?} (one of: {})", TicketState::ALL.map(|t| t.as_str()).join(", ")))
    }
}

impl std::fmt::Display for TicketState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.pad(self.as_str())
    }
}

/// An enum of the words the store keeps: each variant with its one word, `ALL`, `as_str`, an exact `FromStr`
/// (the error names what was expected) and a width-aware `Display`. One definition for every such type, so they
/// read and write their words the same way.
macro_rules! stored_words {
    ($(#[$meta:meta])* pub enum $name:ident ($what:literal) { $($(#[$vmeta:meta])* $variant:ident = $word:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $word)] $variant,)+
        }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];

            /// What the store keeps.
            pub fn as_str(&self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let words: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    format!("unknown {} {s:?} (one of: {})", $what, words.join(", "))
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.pad(self.as_str())
            }
        }
    };
}
pub(crate) use stored_words;

stored_words! {
    /// How staff closed a ticket other than by a fix.
    pub enum Outcome ("outcome") {
        /// A duplicate of another ticket (`#duplicate REF`).
        Duplicate = "duplicate",
        /// Out of scope under a clause of the policy (`#not-applicable`).
        NotApplicable = "not-applicable",
        /// Informative, not a vulnerability to fix (`#informative`).
        Informative = "informative",
    }
}

stored_words! {
    /// How staff hear of a new report (`[limits] trial_reports_per_month`): the lane is never a refusal —
    /// the researcher is acknowledged and the clocks run alike in both.
    pub enum Lane ("lane") {
        /// Staff are told of the report at once.
        Normal = "normal",
        /// A sender on trial beyond their month's quota: staff read of it in the daily digest.
        Slow = "slow",
    }
}

stored_words! {
    /// What a participant is to a ticket: who may write to it and hear from it as a researcher.
    pub enum Role ("participant role") {
        /// The researcher who sent the report.
        Reporter = "reporter",
        /// Someone staff added to the ticket (`#participant add`): they receive what the reporter receives
        /// from staff and from vdpd on its own, and their mail about it is the ticket's correspondence.
        CoReporter = "co-reporter",
        /// Someone the reporter named as a co-reporter, not yet confirmed by staff: receives nothing, and
        /// their mail is not the ticket's correspondence.
        Proposed = "proposed",
    }
}

stored_words! {
    /// What a ticket waits on the researcher for (a clock that the policy pauses meanwhile stands still).
    pub enum WaitReason ("wait reason") {
        /// The report form's mandatory sections.
        Form = "form",
        /// The answer to a staff member's question (`#waiting`).
        Staff = "staff",
    }
}

stored_words! {
    /// What staff are warned of (`staff_warnings.kind`, counted by `vdpd status`): each within the daily cap
    /// of warning mails, recorded whether mailed or not.
    pub enum WarningKind ("staff warning") {
        /// New reports beyond `limits.new_tickets_per_hour` (once an hour at most).
        Flood = "flood of new reports",
        /// A message that could not be processed, kept with its error.
        Quarantined = "quarantined mail",
        /// Mail from a staff address that did not prove it came from the member.
        UnauthenticatedStaff = "unauthenticated staff mail",
        /// Commands beside a staff member's signed text, which the signature does not cover.
        UnsignedCommands = "unsigned commands ignored",
        /// A mail decided but not sent: its text or its final bytes could not be made after the commit (its
        /// template failed, or a certificate it was to be encrypted to is no longer held).
        Unsendable = "mail that could not be made",
    }
}

stored_words! {
    /// Which way a message of a ticket went.
    pub enum Direction ("direction") {
        /// Mail we received (a report, a reply, a staff mail).
        In = "in",
        /// Mail we sent.
        Out = "out",
    }
}

stored_words! {
    /// A stage of an actively exploited vulnerability's notification under the Cyber Resilience Act
    /// (Art. 14(2)): each is filed on ENISA's single reporting platform and has its own deadline.
    pub enum CraStage ("CRA stage") {
        /// Within 24 hours of becoming aware (Art. 14(2)(a)).
        EarlyWarning = "early-warning",
        /// Within 72 hours of becoming aware (Art. 14(2)(b)).
        Notification = "notification",
        /// Within 14 days after a corrective or mitigating measure is available (Art. 14(2)(c)).
        Final = "final",
        /// A severe incident's early warning, within 24 hours of becoming aware (Art. 14(4)(a)).
        IncidentEarlyWarning = "incident-early-warning",
        /// A severe incident's notification, within 72 hours of becoming aware (Art. 14(4)(b)).
        IncidentNotification = "incident-notification",
        /// A severe incident's final report, within one month after the incident notification (Art. 14(4)(c)).
        IncidentFinal = "incident-final",
    }
}

impl CraStage {
    /// The stage as people read it.
    pub fn label(&self) -> &'static str {
        match self {
            CraStage::EarlyWarning => "CRA early warning",
            CraStage::Notification => "CRA vulnerability notification",
            CraStage::Final => "CRA final report",
            CraStage::IncidentEarlyWarning => "CRA incident early warning",
            CraStage::IncidentNotification => "CRA incident notification",
            CraStage::IncidentFinal => "CRA incident final report",
        }
    }

    /// A stage of a severe incident's notification (Art. 14(3)) rather than of an exploited vulnerability's.
    pub fn is_incident(&self) -> bool {
        matches!(self, CraStage::IncidentEarlyWarning | CraStage::IncidentNotification | CraStage::IncidentFinal)
    }
}

/// The researcher's own answer about public credit: their consent (and how to credit them) or their refusal.
/// Staff can credit a researcher by name only with it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum CreditConsent {
    /// Not asked, or not answered yet.
    #[default]
    NotAnswered,
    /// They declined ("none", "no", "anonymous", …).
    Declined,
    /// How they want to be credited: a name, a handle, a link.
    Given(String),
}

impl CreditConsent {
    /// Reads a researcher's answer to the form's credit section (its first line).
    pub fn from_answer(answer: &str) -> CreditConsent {
        let answer = crate::mailtext::clean_header_text(answer.lines().next().unwrap_or(""), 200);
        let declined = ["none", "no", "n/a", "no thanks", "no, thanks", "anonymous", "-"]
            .iter()
            .any(|n| answer.trim_end_matches('.').eq_ignore_ascii_case(n));
        if declined || answer.is_empty() { CreditConsent::Declined } else { CreditConsent::Given(answer) }
    }

    /// What the store keeps: '' not answered, 'none' declined, else how to credit them.
    pub fn stored(&self) -> &str {
        match self {
            CreditConsent::NotAnswered => "",
            CreditConsent::Declined => "none",
            CreditConsent::Given(how) => how,
        }
    }

    /// The stored word read back.
    pub fn from_stored(s: &str) -> CreditConsent {
        match s {
            "" => CreditConsent::NotAnswered,
            "none" => CreditConsent::Declined,
            how => CreditConsent::Given(how.to_string()),
        }
    }
}

/// As the store keeps it (what `tickets show --json` has always printed).
impl Serialize for CreditConsent {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.stored())
    }
}

/// Who said a vulnerability is exploited when the researcher's form did (else a staff member's address).
pub const EXPLOITED_BY_RESEARCHER: &str = "researcher";

/// A change to a ticket's own fields (what staff commands decide), as the store records it.
#[derive(Debug, Clone, PartialEq)]
pub enum TicketUpdate {
    /// The store keeps `resolved_at`/`closed_at` in step.
    State(TicketState),
    Severity {
        band: crate::config::Severity,
        vector: Option<String>,
        score: Option<f64>,
    },
    Assignee(String),
    /// `None` clears it (a reopened ticket).
    Outcome {
        outcome: Option<Outcome>,
        detail: String,
    },
    /// A bounty awarded (an earlier payment no longer counts).
    Bounty {
        tier: String,
        amount: u32,
    },
    Paid,
    DiscloseOn(jiff::civil::Date),
    /// How the researcher is credited; `None`: not at all.
    Credit(Option<String>),
    /// The vulnerability is actively exploited, known since `since` (by `by`: a member's address, or
    /// `researcher`); `None` withdraws it (staff found it is not).
    Exploited {
        since: Option<i64>,
        by: String,
    },
    /// A corrective or mitigating measure is available (the final report's 14 days run from it).
    Mitigated,
    /// The [[products]] id the ticket concerns.
    Product(String),
    /// The CVE ID reserved for it.
    Cve(String),
    /// A severe incident having an impact on the product's security, known since `since` (by a member);
    /// `None` withdraws it.
    Incident {
        since: Option<i64>,
        by: String,
    },
    /// A CRA stage was filed on the platform (with its identifier there, if given), by `by`.
    CraFiled {
        stage: CraStage,
        platform_id: Option<String>,
        by: String,
    },
}

/// A ticket an incoming message may belong to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadCandidate {
    pub ticket_id: i64,
    pub reference: String,
    /// Whether the sender of the incoming message is a participant of this ticket.
    pub sender_is_participant: bool,
    /// True when found through In-Reply-To/References (stronger evidence than a subject tag).
    pub by_header: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_credit_answer_is_consent_or_refusal_and_reads_back_from_the_store() {
        for (answer, want) in [
            ("Ada L. (https://ada.example)\nmore", CreditConsent::Given("Ada L. (https://ada.example)".into())),
            ("None.", CreditConsent::Declined),
            ("no, thanks", CreditConsent::Declined),
            ("Anonymous", CreditConsent::Declined),
            ("   ", CreditConsent::Declined),
            ("Bob\r\nBcc: x@evil.test", CreditConsent::Given("Bob".into())),
        ] {
            let got = CreditConsent::from_answer(answer);
            assert_eq!(got, want, "{answer:?}");
            assert_eq!(CreditConsent::from_stored(got.stored()), got);
        }
        assert_eq!(CreditConsent::from_stored(""), CreditConsent::NotAnswered);
        assert_eq!(CreditConsent::NotAnswered.stored(), "");
    }

    /// What the store keeps reads back as the same outcome; nothing else is one.
    #[test]
    fn outcomes_round_trip_through_their_words() {
        for &o in Outcome::ALL {
            assert_eq!(o.as_str().parse::<Outcome>(), Ok(o));
            assert_eq!(o.to_string(), o.as_str());
        }
        for bad in ["", "Duplicate", "fixed", "not_applicable"] {
            assert!(bad.parse::<Outcome>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn directions_round_trip_through_their_words() {
        for d in [Direction::In, Direction::Out] {
            assert_eq!(d.as_str().parse::<Direction>(), Ok(d));
        }
        assert!("IN".parse::<Direction>().is_err());
        assert_eq!(Role::Reporter.as_str().parse::<Role>(), Ok(Role::Reporter));
        assert!("staff".parse::<Role>().is_err());
    }
}

/// What the report form says about the flaw, kept on the ticket for lists, scope checks and statistics.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Classification {
    pub asset: Option<String>,
    pub weakness: Option<String>,
    pub severity: Option<String>,
    pub cvss_vector: Option<String>,
    pub cvss_score: Option<f64>,
}

//! The products a desk answers for, and the EU Cyber Resilience Act's reporting duties as a policy states
//! them (Regulation (EU) 2024/2847, Article 14).
//!
//! Article 14(2) makes a manufacturer notify an *actively exploited* vulnerability in its product through
//! ENISA's single reporting platform: an early warning within 24 hours of becoming aware of it (naming the
//! Member States where the product is made available), a vulnerability notification within 72 hours, and a
//! final report within 14 days after a corrective or mitigating measure is available. The deadlines are the
//! law's, not the policy's: the policy only says whether the duty applies, to which products, and when staff
//! are reminded.

use crate::duration::{PolicyDuration, Unit};

/// How long after becoming aware the early warning is due (Art. 14(2)(a)).
pub const CRA_EARLY_WARNING: PolicyDuration = PolicyDuration::new(24, Unit::Hours);
/// How long after becoming aware the vulnerability notification is due (Art. 14(2)(b)).
pub const CRA_NOTIFICATION: PolicyDuration = PolicyDuration::new(72, Unit::Hours);
/// How long after a corrective or mitigating measure is available the final report is due (Art. 14(2)(c)).
pub const CRA_FINAL_REPORT: PolicyDuration = PolicyDuration::new(14, Unit::Days);

/// How long after the incident notification a severe incident's final report is due (Art. 14(4)(c)).
pub const CRA_INCIDENT_FINAL_REPORT: PolicyDuration = PolicyDuration::new(1, Unit::Months);

/// The EU Member States, by the code ISO 3166-1 gives them (Greece also as `EL`, the EU's own code).
pub const EU_MEMBER_STATES: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LU", "LV",
    "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

/// A product the organisation makes available: what advisories and CRA filings name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Product {
    /// The short name staff type (`#product webshop`).
    pub id: String,
    pub name: String,
    /// Its package URL (purl), where it has one.
    pub purl: Option<String>,
    /// Its CPE 2.3 name, where it has one.
    pub cpe: Option<String>,
    /// Host names whose reports concern it (`shop.example.com`, or `*.example.com` for a domain and all
    /// below it): a ticket whose asset is one of them is this product's unless staff say otherwise.
    pub assets: Vec<String>,
    /// The Member States where it is made available (ISO 3166-1 alpha-2), which an early warning names.
    pub member_states: Vec<String>,
}

impl Product {
    /// Whether a report about `host` concerns this product.
    pub fn covers(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        self.assets.iter().any(|a| match a.strip_prefix("*.") {
            Some(domain) => host == domain || host.ends_with(&format!(".{domain}")),
            None => host == *a,
        })
    }
}

/// `[cra]`: whether the Article 14 duties apply, and how staff are kept to them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cra {
    /// Off: `#exploited` is refused and no CRA clock runs.
    pub enabled: bool,
    /// The CSIRT designated as coordinator where the organisation has its main establishment (Art. 14(7)):
    /// the platform routes the filings to it; drafts name it.
    pub csirt: String,
    /// How long before each deadline the assignee (or every staff member) and the escalation contacts are
    /// reminded: exact durations, at any hour — the deadlines run on calendar hours, weekends and nights
    /// included.
    pub reminders: Vec<PolicyDuration>,
    /// Severe incidents having an impact on the products' security are tracked too (Art. 14(3)):
    /// `#incident` starts their three clocks.
    pub incidents: bool,
}

impl Default for Cra {
    fn default() -> Cra {
        Cra { enabled: false, csirt: String::new(), reminders: default_cra_reminders(), incidents: false }
    }
}

/// Reminders when the policy names none: half a day, four hours and one hour before each deadline.
pub fn default_cra_reminders() -> Vec<PolicyDuration> {
    vec![PolicyDuration::new(12, Unit::Hours), PolicyDuration::new(4, Unit::Hours), PolicyDuration::new(1, Unit::Hours)]
}

/// `[cve]`: what a CVE record names of the CNA that submits it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CveConfig {
    /// The organisation's UUID in CVE Services (`providerMetadata.orgId`).
    pub org_id: Option<String>,
    /// Its CNA short name.
    pub short_name: Option<String>,
    /// Where the organisation publishes the advisory of a CVE: an https URL with `{id}` for the CVE ID.
    pub advisory_url: Option<String>,
}

/// `[csaf]`: where `vdpd advisory publish`'s provider directory is served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsafConfig {
    /// The https URL the directory is served at (`https://example.com/.well-known/csaf`); default: the
    /// publisher's namespace and `/.well-known/csaf`.
    pub base_url: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_product_covers_its_hosts_and_the_domains_below_a_wildcard() {
        let p = Product {
            id: "shop".into(),
            name: "Shop".into(),
            purl: None,
            cpe: None,
            assets: vec!["shop.example.com".into(), "*.api.example.com".into()],
            member_states: vec![],
        };
        for (host, want) in [
            ("shop.example.com", true),
            ("SHOP.example.com.", true),
            ("www.shop.example.com", false),
            ("api.example.com", true),
            ("v2.api.example.com", true),
            ("evilapi.example.com", false),
            ("example.com", false),
        ] {
            assert_eq!(p.covers(host), want, "{host}");
        }
    }
}

//! Drafts of the Cyber Resilience Act's filings (Article 14(2)) for an actively exploited vulnerability,
//! filled from the ticket: what ENISA's single reporting platform asks for at each stage, ready to paste.
//!
//! The platform has no API, and what is filed is a legal statement a person makes: vdpd drafts, people file
//! (and record it with `#cra-filed`). Every field says which clause asks for it; a field the ticket cannot
//! fill is left for a person with a note of what belongs there, never guessed.
//!
//! Pure: the command reads the ticket, its form answers and filings and prints the draft.

use serde::Serialize;

use crate::config::{
    CRA_EARLY_WARNING, CRA_FINAL_REPORT, CRA_INCIDENT_FINAL_REPORT, CRA_NOTIFICATION, Config, Product,
};
use crate::engine::clocks::{self, ClockKind, ClockStatus};
use crate::engine::hints::asset_host;
use crate::store::tickets::{CraFiling, TicketRow};
use crate::ticket::CraStage;

/// One field of a filing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: &'static str,
    /// The clause that asks for it.
    pub article: &'static str,
    /// What the ticket says; `None`: a person fills it in.
    pub value: Option<String>,
    /// What belongs there, for a person (always present: the JSON reader may want it too).
    pub hint: &'static str,
}

/// A stage's draft.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Draft {
    pub reference: String,
    pub stage: CraStage,
    pub title: &'static str,
    /// The deadline in the law's words.
    pub deadline: String,
    /// When it is due (`None`: the final report's clock has not started, no measure is available yet).
    pub due_at: Option<i64>,
    pub due: Option<String>,
    pub overdue: bool,
    /// The CSIRT designated as coordinator, to which the platform routes the filing.
    pub csirt: String,
    /// The filing recorded already, if it was.
    pub filed: Option<CraFiling>,
    pub fields: Vec<Field>,
}

/// Why there is no draft.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DraftError {
    #[error("the policy has no Cyber Resilience Act duties ([cra] enabled = false)")]
    Disabled,
    #[error("{0} is not marked actively exploited (a staff member answers it with #exploited)")]
    NotExploited(String),
    #[error("{0} is not marked a severe incident (a staff member answers it with #incident; [cra] incidents = true)")]
    NoIncident(String),
}

/// How a ticket's product was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProductBy {
    /// Staff named it (`#product`).
    Staff,
    /// Its assets cover the ticket's asset.
    Asset,
    /// The policy has no other.
    Only,
}

/// The product a ticket concerns: the one staff named (`#product`), else the one whose assets cover the
/// ticket's asset, else the policy's only product.
pub fn product_of<'a>(config: &'a Config, t: &TicketRow) -> Option<(&'a Product, ProductBy)> {
    if !t.product.is_empty() {
        return config.products.iter().find(|p| p.id == t.product).map(|p| (p, ProductBy::Staff));
    }
    if let Some(host) = asset_host(&t.asset)
        && let Some(p) = config.products.iter().find(|p| p.covers(&host))
    {
        return Some((p, ProductBy::Asset));
    }
    match config.products.as_slice() {
        [only] => Some((only, ProductBy::Only)),
        _ => None,
    }
}

/// The first of `names` (in that order of preference) the form answers.
fn section<'a>(form: &'a [(String, String)], names: &[&str]) -> Option<&'a str> {
    names.iter().find_map(|x| {
        form.iter().find(|(n, v)| n.eq_ignore_ascii_case(x) && !v.trim().is_empty()).map(|(_, v)| v.trim())
    })
}

/// The draft of `stage` for `t`, as of `now`.
pub fn draft(
    config: &Config,
    t: &TicketRow,
    form: &[(String, String)],
    filings: &[CraFiling],
    waits: Vec<(i64, Option<i64>)>,
    stage: CraStage,
    now: i64,
) -> Result<Draft, DraftError> {
    if !config.cra.enabled {
        return Err(DraftError::Disabled);
    }
    let aware = match (stage.is_incident(), t.exploited_at, t.incident_at) {
        (false, Some(at), _) => at,
        (false, None, _) => return Err(DraftError::NotExploited(t.reference.clone())),
        (true, _, Some(at)) if config.cra.incidents => at,
        (true, _, _) => return Err(DraftError::NoIncident(t.reference.clone())),
    };
    let cal = &config.calendar;
    let facts = crate::intake::clocks::facts_with(t, waits, filings);
    let clock =
        clocks::compute(&facts, &clocks::TimerPolicy::of(config)).into_iter().find(|c| c.kind == ClockKind::Cra(stage));
    let due_at = clock.as_ref().and_then(|c| c.due_at);
    let overdue = clock.as_ref().is_some_and(|c| c.status == ClockStatus::Running && c.overdue(now));
    let org = &config.organisation;
    let product = product_of(config, t).map(|(p, _)| p);
    let f = |name, article, value: Option<String>, hint| Field { name, article, value, hint };
    let cwe = (!t.weakness.is_empty()).then(|| match crate::cwe::name(&t.weakness) {
        Some(name) => format!("{} ({name})", t.weakness),
        None => t.weakness.clone(),
    });
    let severity = (!t.severity.is_empty()).then(|| match (&t.cvss_score, t.cvss_vector.is_empty()) {
        (Some(score), false) => format!("{} (CVSS {score:.1}, {})", t.severity, t.cvss_vector),
        _ => t.severity.clone(),
    });
    let description = section(form, &["Description", "Description of the vulnerability", "Title", "Summary"])
        .map(str::to_string)
        .or_else(|| (!t.subject.trim().is_empty()).then(|| t.subject.trim().to_string()));
    let impact = section(form, &["Impact"]).map(str::to_string);
    let measure = match (t.mitigated_at, t.resolved_at) {
        (_, Some(r)) => Some(format!("fixed: the ticket was resolved on {}", cal.show(r))),
        (Some(m), None) => Some(format!("a corrective or mitigating measure is available since {}", cal.show(m))),
        (None, None) => None,
    };
    let mut fields = vec![
        f(
            "Manufacturer",
            "Art. 14(2)",
            Some(format!("{} <{}>", org.name, org.security_address)),
            "who reports, and how to reach them",
        ),
        f(
            "Product",
            "Art. 14(2)(a), (b)",
            product.map(|p| {
                let ids: Vec<&str> = [p.purl.as_deref(), p.cpe.as_deref()].into_iter().flatten().collect();
                if ids.is_empty() { p.name.clone() } else { format!("{} ({})", p.name, ids.join(", ")) }
            }),
            "the product with digital elements concerned: answer the ticket with #product ID",
        ),
    ];
    match stage {
        CraStage::EarlyWarning => {
            fields.push(f(
                "Member States where the product is made available",
                "Art. 14(2)(a)",
                product.filter(|p| !p.member_states.is_empty()).map(|p| p.member_states.join(", ")),
                "the Member States on whose territory the manufacturer is aware the product has been made available",
            ));
            fields.push(f(
                "Actively exploited vulnerability, aware since",
                "Art. 14(2)(a)",
                Some(awareness(config, t, aware, &t.exploited_by)),
                "when the manufacturer became aware of the active exploitation",
            ));
        }
        CraStage::Notification => {
            fields.push(f(
                "General nature of the vulnerability",
                "Art. 14(2)(b)",
                [cwe.clone(), severity.clone()].into_iter().flatten().reduce(|a, b| format!("{a}; severity {b}")),
                "the kind of flaw (CWE) and how severe it is",
            ));
            fields.push(f(
                "General nature of the exploit",
                "Art. 14(2)(b)",
                impact.clone(),
                "how the vulnerability is being exploited, as far as known",
            ));
            fields.push(f(
                "Corrective or mitigating measures taken",
                "Art. 14(2)(b)",
                measure.clone(),
                "what the manufacturer has done so far",
            ));
            fields.push(f(
                "Corrective or mitigating measures users can take",
                "Art. 14(2)(b)",
                None,
                "what users can do until the fix reaches them (workarounds, configuration)",
            ));
            fields.push(f(
                "Sensitivity of the notified information",
                "Art. 14(2)(b)",
                None,
                "how sensitive the manufacturer considers the information (e.g. TLP:AMBER until the fix is out)",
            ));
        }
        CraStage::IncidentEarlyWarning => {
            fields.push(f(
                "Member States where the product is made available",
                "Art. 14(4)(a)",
                product.filter(|p| !p.member_states.is_empty()).map(|p| p.member_states.join(", ")),
                "the Member States on whose territory the manufacturer is aware the product has been made available",
            ));
            fields.push(f(
                "Severe incident, aware since",
                "Art. 14(4)(a)",
                Some(awareness(config, t, aware, &t.incident_by)),
                "when the manufacturer became aware of the severe incident",
            ));
            fields.push(f(
                "Suspected to be caused by unlawful or malicious acts",
                "Art. 14(4)(a)",
                None,
                "yes or no, and why, as far as known",
            ));
        }
        CraStage::IncidentNotification => {
            fields.push(f(
                "General nature of the incident",
                "Art. 14(4)(b)",
                description.clone(),
                "what happened, as far as known",
            ));
            fields.push(f(
                "Initial assessment",
                "Art. 14(4)(b)",
                impact.clone(),
                "the incident's effects, as assessed so far",
            ));
            fields.push(f(
                "Corrective or mitigating measures taken",
                "Art. 14(4)(b)",
                measure.clone(),
                "what the manufacturer has done so far",
            ));
            fields.push(f(
                "Corrective or mitigating measures users can take",
                "Art. 14(4)(b)",
                None,
                "what users can do",
            ));
            fields.push(f(
                "Sensitivity of the notified information",
                "Art. 14(4)(b)",
                None,
                "how sensitive the manufacturer considers the information",
            ));
        }
        CraStage::IncidentFinal => {
            fields.push(f(
                "Description of the incident, its severity and impact",
                "Art. 14(4)(c)(i)",
                [description.clone(), impact.clone()].into_iter().flatten().reduce(|a, b| format!("{a}\nImpact: {b}")),
                "what happened, how severe it was, what it affected",
            ));
            fields.push(f(
                "Type of threat or root cause",
                "Art. 14(4)(c)(ii)",
                None,
                "the type of threat or root cause that is likely to have triggered the incident",
            ));
            fields.push(f(
                "Applied and ongoing mitigation measures",
                "Art. 14(4)(c)(iii)",
                measure.clone(),
                "what was done, and what is still being done",
            ));
        }
        CraStage::Final => {
            let mut text = description.clone().unwrap_or_default();
            if let Some(c) = &cwe {
                text = if text.is_empty() { c.clone() } else { format!("{text}\n\nWeakness: {c}") };
            }
            if let Some(s) = &severity {
                text = format!("{text}\nSeverity: {s}");
            }
            if let Some(i) = &impact {
                text = format!("{text}\nImpact: {i}");
            }
            fields.push(f(
                "Description of the vulnerability, its severity and impact",
                "Art. 14(2)(c)(i)",
                (!text.trim().is_empty()).then(|| text.trim().to_string()),
                "what the flaw is, how severe, what it allows",
            ));
            fields.push(f(
                "Malicious actor",
                "Art. 14(2)(c)(ii)",
                None,
                "where available: who has exploited or is exploiting the vulnerability",
            ));
            fields.push(f(
                "Security update or other corrective measures",
                "Art. 14(2)(c)(iii)",
                measure,
                "the update or other measures made available to remedy the vulnerability (version, advisory link)",
            ));
        }
    }
    let filed = filings.iter().find(|x| x.stage == stage).cloned();
    let (title, deadline) = match stage {
        CraStage::EarlyWarning => ("Early warning", format!("{CRA_EARLY_WARNING} of becoming aware (Art. 14(2)(a))")),
        CraStage::Notification => {
            ("Vulnerability notification", format!("{CRA_NOTIFICATION} of becoming aware (Art. 14(2)(b))"))
        }
        CraStage::Final => (
            "Final report",
            format!("{CRA_FINAL_REPORT} after a corrective or mitigating measure is available (Art. 14(2)(c))"),
        ),
        CraStage::IncidentEarlyWarning => {
            ("Incident early warning", format!("{CRA_EARLY_WARNING} of becoming aware (Art. 14(4)(a))"))
        }
        CraStage::IncidentNotification => {
            ("Incident notification", format!("{CRA_NOTIFICATION} of becoming aware (Art. 14(4)(b))"))
        }
        CraStage::IncidentFinal => (
            "Incident final report",
            format!("{CRA_INCIDENT_FINAL_REPORT} after the incident notification (Art. 14(4)(c))"),
        ),
    };
    Ok(Draft {
        reference: t.reference.clone(),
        stage,
        title,
        deadline,
        due_at,
        due: due_at.map(|d| cal.show(d)),
        overdue,
        csirt: config.cra.csirt.clone(),
        filed,
        fields,
    })
}

/// When the desk became aware, and who said so (`by`: a member's address, `researcher`, or '').
fn awareness(config: &Config, t: &TicketRow, aware: i64, by: &str) -> String {
    let by = match by {
        "" => String::new(),
        crate::ticket::EXPLOITED_BY_RESEARCHER => " (the researcher reported it)".into(),
        member => format!(" (recorded by {member})"),
    };
    format!("{}{by}; our reference {}", config.calendar.show(aware), t.reference)
}

impl Draft {
    /// The draft as text, for a person to read and paste.
    pub fn text(&self) -> String {
        let article = if self.stage.is_incident() { "14(4)" } else { "14(2)" };
        let mut out = format!("{} for {} — Cyber Resilience Act, Article {article}\n", self.title, self.reference);
        out += &match (&self.due, self.overdue) {
            (Some(due), true) => format!("Due:   {due}, OVERDUE ({})\n", self.deadline),
            (Some(due), false) => format!("Due:   {due} ({})\n", self.deadline),
            (None, _) if self.stage == CraStage::IncidentFinal => {
                format!("Due:   {}; the incident notification is not filed yet\n", self.deadline)
            }
            (None, _) => format!("Due:   {}; no measure is available yet (#mitigated or #resolved)\n", self.deadline),
        };
        if let Some(f) = &self.filed {
            let id = if f.platform_id.is_empty() { String::new() } else { format!(" as {}", f.platform_id) };
            out += &format!("Filed: {}{id} by {}\n", fmt_ms(f.filed_at), f.filed_by);
        }
        out += &format!(
            "File on ENISA's single reporting platform; it reaches the CSIRT designated as coordinator, {}.\n\n",
            self.csirt
        );
        for field in &self.fields {
            out += &format!("{} [{}]:\n", field.name, field.article);
            match &field.value {
                Some(v) => {
                    for line in v.lines() {
                        out += &format!("    {line}\n");
                    }
                }
                None => out += &format!("    TO FILL IN: {}\n", field.hint),
            }
        }
        if self.filed.is_none() {
            out += &format!("\nOnce filed, answer the ticket with: #cra-filed {} PLATFORM-ID\n", self.stage.as_str());
        }
        out
    }
}

fn fmt_ms(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms).map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
}

//! A CSAF 2.0 security advisory draft for a resolved ticket: what the organisation publishes once a flaw is
//! fixed, from what the ticket holds — the weakness (CWE with its name), the CVSS v3 score, the asset, the
//! dates, the fix, and the researcher's credit if they agreed to one. It is a draft (`status: draft`,
//! version 0): a person reviews and publishes it.
//!
//! Pure: the command reads the ticket and its form and writes the JSON.

use serde_json::{Value, json};

use crate::config::Config;
use crate::engine::hints::asset_host;
use crate::publish::parse_credit;
use crate::store::tickets::TicketRow;

/// Why no advisory can be written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AdvisoryError {
    #[error("{reference} is not resolved: an advisory describes a fixed flaw (#resolved first)")]
    NotResolved { reference: String },
    #[error("{reference} was closed as {outcome}: there is no flaw to advise about")]
    NoFlaw { reference: String, outcome: String },
}

fn instant(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".into())
}

/// The publisher's namespace: the origin of the policy's URL, else the security address's domain.
fn namespace(config: &Config) -> String {
    config
        .organisation
        .policy_url
        .as_deref()
        .and_then(|u| {
            let (scheme, rest) = u.split_once("://")?;
            let host = rest.split('/').next()?;
            Some(format!("{scheme}://{host}"))
        })
        .unwrap_or_else(|| format!("https://{}", config.organisation.domain))
}

fn section<'a>(form: &'a [(String, String)], names: &[&str]) -> Option<&'a str> {
    form.iter()
        .find(|(n, v)| names.iter().any(|x| n.eq_ignore_ascii_case(x)) && !v.trim().is_empty())
        .map(|(_, v)| v.trim())
}

/// CVSS v3 as CSAF 2.0 carries it (it knows v2 and v3 only).
fn cvss_v3(t: &TicketRow) -> Option<Value> {
    let version = match t.cvss_vector.split('/').next()? {
        "CVSS:3.1" => "3.1",
        "CVSS:3.0" => "3.0",
        _ => return None,
    };
    let score = t.cvss_score?;
    let severity = match score {
        s if s <= 0.0 => "NONE",
        s if s < 4.0 => "LOW",
        s if s < 7.0 => "MEDIUM",
        s if s < 9.0 => "HIGH",
        _ => "CRITICAL",
    };
    Some(json!({ "version": version, "vectorString": t.cvss_vector, "baseScore": score, "baseSeverity": severity }))
}

/// The advisory for `t`, whose report form answers are `form` (empty once purged).
pub fn csaf(config: &Config, t: &TicketRow, form: &[(String, String)], now: i64) -> Result<Value, AdvisoryError> {
    if let Some(outcome) = t.outcome {
        return Err(AdvisoryError::NoFlaw { reference: t.reference.clone(), outcome: outcome.to_string() });
    }
    let Some(resolved_at) = t.resolved_at else {
        return Err(AdvisoryError::NotResolved { reference: t.reference.clone() });
    };
    let org = &config.organisation;
    let product = asset_host(&t.asset).unwrap_or_else(|| {
        let a = t.asset.lines().next().unwrap_or("").trim();
        if a.is_empty() { "the affected service".to_string() } else { a.chars().take(120).collect() }
    });
    let cwe = crate::cwe::name(&t.weakness).map(|name| json!({ "id": t.weakness, "name": name }));
    let title = section(form, &["Title"])
        .map(|s| s.lines().next().unwrap_or(s).to_string())
        .or_else(|| (!t.subject.trim().is_empty()).then(|| t.subject.trim().to_string()))
        .unwrap_or_else(|| match crate::cwe::name(&t.weakness) {
            Some(name) => format!("{name} in {product}"),
            None => format!("Vulnerability in {product}"),
        });
    let description = section(form, &["Description", "Description of the vulnerability"]).unwrap_or(&title);
    let acknowledgments: Option<Value> = t.credit.as_deref().filter(|c| !c.trim().is_empty()).map(|c| {
        let (name, link) = parse_credit(c);
        let mut a = json!({ "names": [name], "summary": "reported the vulnerability" });
        if let Some(l) = link {
            a["urls"] = json!([l]);
        }
        json!([a])
    });
    let product_id = "CSAFPID-0001";
    let now_s = instant(now);

    let mut document = json!({
        "category": "csaf_security_advisory",
        "csaf_version": "2.0",
        "lang": "en",
        "title": title,
        "publisher": {
            "category": "vendor",
            "name": org.name,
            "namespace": namespace(config),
            "contact_details": format!("mailto:{}", org.security_address),
        },
        "notes": [
            { "category": "summary", "title": "Summary", "text": title },
        ],
        "tracking": {
            "id": t.reference,
            "status": "draft",
            "version": "0",
            "initial_release_date": now_s,
            "current_release_date": now_s,
            "revision_history": [
                { "date": now_s, "number": "0", "summary": "Draft written by vdpd from the ticket; review before publishing." }
            ],
            "generator": { "date": now_s, "engine": { "name": "vdpd", "version": env!("CARGO_PKG_VERSION") } },
        },
    });
    if let Some(url) = &org.policy_url {
        document["references"] =
            json!([{ "category": "external", "summary": "Our vulnerability disclosure policy", "url": url }]);
    }
    if let Some(a) = &acknowledgments {
        document["acknowledgments"] = a.clone();
    }

    let mut vulnerability = json!({
        "title": title,
        "discovery_date": instant(t.received_at),
        "notes": [ { "category": "description", "title": "Description", "text": description } ],
        "product_status": { "fixed": [product_id] },
        "remediations": [{
            "category": "vendor_fix",
            "details": format!("Fixed by {} on {}.", org.name, config.calendar.show_date(resolved_at)),
            "date": instant(resolved_at),
            "product_ids": [product_id],
        }],
    });
    if let Some(c) = cwe {
        vulnerability["cwe"] = c;
    }
    if let Some(score) = cvss_v3(t) {
        vulnerability["scores"] = json!([{ "products": [product_id], "cvss_v3": score }]);
    }
    if let Some(impact) = section(form, &["Impact", "Potential impact"]) {
        vulnerability["threats"] = json!([{ "category": "impact", "details": impact, "product_ids": [product_id] }]);
    }
    if let Some(a) = acknowledgments {
        vulnerability["acknowledgments"] = a;
    }

    Ok(json!({
        "document": document,
        "product_tree": {
            "branches": [{
                "category": "vendor",
                "name": org.name,
                "branches": [{
                    "category": "product_name",
                    "name": product,
                    "product": { "name": format!("{} {product}", org.name), "product_id": product_id },
                }],
            }],
        },
        "vulnerabilities": [vulnerability],
    }))
}

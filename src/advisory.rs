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

/// One advisory format's writer: the ticket and its form's answers, as of `now`.
pub type Writer = fn(&Config, &TicketRow, &[(String, String)], i64) -> Result<Value, AdvisoryError>;

/// Why no advisory can be written.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AdvisoryError {
    #[error("{reference} is not resolved: an advisory describes a fixed flaw (#resolved first)")]
    NotResolved { reference: String },
    #[error("{reference} was closed as {outcome}: there is no flaw to advise about")]
    NoFlaw { reference: String, outcome: String },
    #[error(
        "{reference} has no CVE ID: a staff member answers the ticket with #cve CVE-YYYY-NNNN once one is reserved"
    )]
    NoCve { reference: String },
    #[error("a CVE record names the CNA that submits it: set [cve] org_id (your organisation's UUID in CVE Services)")]
    NoCnaOrg,
    #[error("a CVE record needs a reference: set [cve] advisory_url or [organisation] policy_url")]
    NoReference,
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

/// Where the CSAF provider directory is served: `[csaf] base_url`, else the publisher's namespace and
/// `/.well-known/csaf` (CSAF 2.0 §7.1.9).
pub fn csaf_base_url(config: &Config) -> String {
    config.csaf.base_url.clone().unwrap_or_else(|| format!("{}/.well-known/csaf", namespace(config)))
}

/// The file name CSAF gives a document (§5.1): its tracking id lower-cased, each run of other characters than
/// `+`, `-`, letters and digits made `_`, and `.json`.
pub fn csaf_file_name(tracking_id: &str) -> String {
    let mut out = String::new();
    for c in tracking_id.to_lowercase().chars() {
        if c.is_ascii_alphanumeric() || c == '+' || c == '-' {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out + ".json"
}

/// The advisory of `t` as published in the provider directory: TLP:WHITE, final, with its canonical URL
/// (`{base}/white/{year}/{file}`) — `(path under the directory, document)`. `before` is the copy published
/// earlier, if any: its initial release and revisions are kept and the version goes up, or, when nothing
/// but the dates would change, `None` is returned (nothing to publish).
pub fn csaf_published(
    config: &Config,
    t: &TicketRow,
    form: &[(String, String)],
    now: i64,
    before: Option<&Value>,
) -> Result<Option<(String, Value)>, AdvisoryError> {
    let mut doc = csaf(config, t, form, now)?;
    let now_s = instant(now);
    let initial = before
        .and_then(|b| b["document"]["tracking"]["initial_release_date"].as_str().map(str::to_string))
        .unwrap_or_else(|| now_s.clone());
    let year = &initial[..4];
    let path = format!("white/{year}/{}", csaf_file_name(&t.reference));
    let canonical = format!("{}/{path}", csaf_base_url(config));
    let d = &mut doc["document"];
    // The draft's canonical URL counts from now; the published one from its first release.
    d["references"][0]["url"] = json!(canonical);
    let tracking = &mut d["tracking"];
    tracking["status"] = json!("final");
    tracking["initial_release_date"] = json!(initial);
    let (version, mut history) = match before {
        None => (1, Vec::new()),
        Some(b) => {
            // Unchanged but for the dates: nothing new to publish.
            let strip = |v: &Value| {
                let mut v = v.clone();
                for k in ["current_release_date", "generator", "revision_history", "version", "initial_release_date"] {
                    v["document"]["tracking"].as_object_mut().map(|o| o.remove(k));
                }
                v
            };
            if strip(b) == strip(&doc) {
                return Ok(None);
            }
            let v: u32 = b["document"]["tracking"]["version"].as_str().and_then(|v| v.parse().ok()).unwrap_or(0);
            (v + 1, b["document"]["tracking"]["revision_history"].as_array().cloned().unwrap_or_default())
        }
    };
    let summary = if version == 1 { "Initial release." } else { "Updated from the ticket." };
    history.push(json!({ "date": now_s, "number": version.to_string(), "summary": summary }));
    let tracking = &mut doc["document"]["tracking"];
    tracking["version"] = json!(version.to_string());
    tracking["revision_history"] = json!(history);
    Ok(Some((path, doc)))
}

/// The provider's `provider-metadata.json` (CSAF 2.0 §7.1.1): the publisher, the one TLP:WHITE
/// distribution, and our OpenPGP key (published beside it under `openpgp/`).
pub fn provider_metadata(config: &Config, fingerprint: &str, now: i64) -> Value {
    let base = csaf_base_url(config);
    let org = &config.organisation;
    json!({
        "canonical_url": format!("{base}/provider-metadata.json"),
        "distributions": [{ "directory_url": format!("{base}/white/") }],
        "last_updated": instant(now),
        "list_on_CSAF_aggregators": true,
        "metadata_version": "2.0",
        "mirror_on_CSAF_aggregators": true,
        "public_openpgp_keys": [{
            "fingerprint": fingerprint.to_ascii_uppercase(),
            "url": format!("{base}/openpgp/{}.asc", fingerprint.to_ascii_uppercase()),
        }],
        "publisher": {
            "category": "vendor",
            "name": org.name,
            "namespace": namespace(config),
            "contact_details": format!("mailto:{}", org.security_address),
        },
        "role": "csaf_provider",
    })
}

/// What an advisory says of the flaw, from the ticket: the product (the asset's host), a title and a
/// description (the form's, else the subject, else the weakness's name).
struct Described {
    product: String,
    title: String,
    description: String,
}

fn described(t: &TicketRow, form: &[(String, String)]) -> Described {
    let product = asset_host(&t.asset).unwrap_or_else(|| {
        let a = t.asset.lines().next().unwrap_or("").trim();
        if a.is_empty() { "the affected service".to_string() } else { a.chars().take(120).collect() }
    });
    let title = section(form, &["Title"])
        .map(|s| s.lines().next().unwrap_or(s).to_string())
        .or_else(|| (!t.subject.trim().is_empty()).then(|| t.subject.trim().to_string()))
        .unwrap_or_else(|| match crate::cwe::name(&t.weakness) {
            Some(name) => format!("{name} in {product}"),
            None => format!("Vulnerability in {product}"),
        });
    let description = section(form, &["Description", "Description of the vulnerability"])
        .map(str::to_string)
        .unwrap_or(title.clone());
    Described { product, title, description }
}

/// The ticket as an advisory can describe it: resolved, and a flaw.
fn fixed(t: &TicketRow) -> Result<i64, AdvisoryError> {
    if let Some(outcome) = t.outcome {
        return Err(AdvisoryError::NoFlaw { reference: t.reference.clone(), outcome: outcome.to_string() });
    }
    t.resolved_at.ok_or_else(|| AdvisoryError::NotResolved { reference: t.reference.clone() })
}

/// A CVE record's CNA container (CVE JSON 5.1, `cnaPublishedContainer`) for a resolved ticket with a CVE ID
/// (`#cve`): what a CNA submits to CVE Services for that ID. The product is the ticket's `[[products]]` entry
/// (its name, CPE and package URL's package) or the asset's host; every version is affected unless the fix
/// says otherwise, which a person states before publishing.
pub fn cve(config: &Config, t: &TicketRow, form: &[(String, String)], now: i64) -> Result<Value, AdvisoryError> {
    let resolved_at = fixed(t)?;
    if t.cve_id.is_empty() {
        return Err(AdvisoryError::NoCve { reference: t.reference.clone() });
    }
    let Some(org_id) = config.cve.org_id.as_deref() else { return Err(AdvisoryError::NoCnaOrg) };
    let org = &config.organisation;
    let d = described(t, form);
    let product = crate::cra::product_of(config, t).map(|(p, _)| p);
    let mut affected = json!({
        "vendor": org.name,
        "product": product.map_or(d.product.clone(), |p| p.name.clone()),
        "defaultStatus": "affected",
    });
    if let Some(cpe) = product.and_then(|p| p.cpe.as_deref()) {
        affected["cpes"] = json!([cpe]);
    }
    let mut provider = json!({ "orgId": org_id, "dateUpdated": instant_s(now) });
    if let Some(short) = &config.cve.short_name {
        provider["shortName"] = json!(short);
    }
    let mut references = Vec::new();
    if let Some(url) = &config.cve.advisory_url {
        references.push(json!({ "url": url.replace("{id}", &t.cve_id), "tags": ["vendor-advisory"] }));
    }
    if let Some(url) = &org.policy_url {
        references.push(json!({ "url": url, "name": "Vulnerability disclosure policy" }));
    }
    if references.is_empty() {
        return Err(AdvisoryError::NoReference);
    }
    let mut c = json!({
        "providerMetadata": provider,
        "title": d.title,
        "descriptions": [{ "lang": "en", "value": d.description }],
        "affected": [affected],
        "references": references,
        "datePublic": instant_s(resolved_at),
        "solutions": [{
            "lang": "en",
            "value": format!("Fixed by {} on {}.", org.name, config.calendar.show_date(resolved_at)),
        }],
        "source": { "discovery": "EXTERNAL" },
    });
    if !t.weakness.is_empty() {
        let name = crate::cwe::name(&t.weakness).unwrap_or("");
        let text = if name.is_empty() { t.weakness.clone() } else { format!("{}: {name}", t.weakness) };
        c["problemTypes"] =
            json!([{ "descriptions": [{ "lang": "en", "type": "CWE", "cweId": t.weakness, "description": text }] }]);
    }
    if let Some(score) = cvss_v3(t) {
        let key = if score["version"] == "3.0" { "cvssV3_0" } else { "cvssV3_1" };
        c["metrics"] = json!([{ key: score }]);
    }
    if let Some(credit) = t.credit.as_deref().filter(|c| !c.trim().is_empty()) {
        let (name, _) = parse_credit(credit);
        c["credits"] = json!([{ "lang": "en", "value": name, "type": "finder" }]);
    }
    Ok(c)
}

/// An OSV 1.7 entry for a resolved ticket: `x_` and the ticket's reference as its id (the organisation's
/// advisories are no registered OSV database), the CVE ID as an alias, the CVSS vector, the CWE, the product's
/// package where its purl names an ecosystem OSV knows, the credit where the researcher agreed to one.
pub fn osv(config: &Config, t: &TicketRow, form: &[(String, String)], now: i64) -> Result<Value, AdvisoryError> {
    let resolved_at = fixed(t)?;
    let d = described(t, form);
    let mut e = json!({
        "schema_version": "1.7.0",
        "id": format!("x_{}", t.reference),
        "modified": instant_s(now),
        "published": instant_s(resolved_at),
        "summary": d.title.chars().take(120).collect::<String>(),
        "details": d.description,
    });
    if !t.cve_id.is_empty() {
        e["aliases"] = json!([t.cve_id]);
    }
    if !t.cvss_vector.is_empty() && cvss_v3(t).is_some() {
        e["severity"] = json!([{ "type": "CVSS_V3", "score": t.cvss_vector }]);
    }
    if let Some(package) = crate::cra::product_of(config, t).and_then(|(p, _)| p.purl.as_deref()).and_then(osv_package)
    {
        e["affected"] = json!([{ "package": package }]);
    }
    let mut references = Vec::new();
    if let Some(url) = &config.cve.advisory_url
        && !t.cve_id.is_empty()
    {
        references.push(json!({ "type": "ADVISORY", "url": url.replace("{id}", &t.cve_id) }));
    }
    if let Some(url) = &config.organisation.policy_url {
        references.push(json!({ "type": "WEB", "url": url }));
    }
    if !references.is_empty() {
        e["references"] = json!(references);
    }
    if let Some(credit) = t.credit.as_deref().filter(|c| !c.trim().is_empty()) {
        let (name, link) = parse_credit(credit);
        let mut c = json!({ "name": name, "type": "FINDER" });
        if let Some(l) = link {
            c["contact"] = json!([l]);
        }
        e["credits"] = json!([c]);
    }
    if !t.weakness.is_empty() {
        e["database_specific"] = json!({ "cwe_ids": [t.weakness] });
    }
    Ok(e)
}

/// The OSV package a package URL names, where its type is an ecosystem OSV knows.
fn osv_package(purl: &str) -> Option<Value> {
    let rest = purl.strip_prefix("pkg:")?;
    let (kind, path) = rest.split_once('/')?;
    let path = path.split(['@', '?', '#']).next()?;
    let ecosystem = match kind {
        "npm" => "npm",
        "pypi" => "PyPI",
        "cargo" => "crates.io",
        "maven" => "Maven",
        "golang" => "Go",
        "gem" => "RubyGems",
        "nuget" => "NuGet",
        "composer" => "Packagist",
        "hex" => "Hex",
        "pub" => "Pub",
        _ => return None,
    };
    let name = match kind {
        // Maven names are group:artifact; Go and npm keep their slashes.
        "maven" => path.replacen('/', ":", 1),
        _ => path.to_string(),
    };
    Some(json!({ "ecosystem": ecosystem, "name": name, "purl": purl }))
}

/// An instant as CVE and OSV write it: RFC 3339 in UTC, to the second.
fn instant_s(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.strftime("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
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
    let resolved_at = fixed(t)?;
    let org = &config.organisation;
    let Described { product, title, description } = described(t, form);
    let description = description.as_str();
    let cwe = crate::cwe::name(&t.weakness).map(|name| json!({ "id": t.weakness, "name": name }));
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
    // Where it will be published (`vdpd advisory publish`), and for whom: everyone (TLP:WHITE).
    let canonical = format!("{}/white/{}/{}", csaf_base_url(config), &now_s[..4], csaf_file_name(&t.reference));
    let mut references = vec![json!({ "category": "self", "summary": "Canonical URL", "url": canonical })];
    if let Some(url) = &org.policy_url {
        references
            .push(json!({ "category": "external", "summary": "Our vulnerability disclosure policy", "url": url }));
    }
    document["references"] = json!(references);
    document["distribution"] = json!({ "tlp": { "label": "WHITE", "url": "https://www.first.org/tlp/" } });
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
    if let Some(mut score) = cvss_v3(t) {
        // The product is fixed: its environmental metrics say that in it the flaw has no impact left (as
        // the reference validator's optional test 6.2.19 asks); the base score stays the flaw's.
        score["vectorString"] = json!(format!("{}/MC:N/MI:N/MA:N", t.cvss_vector));
        score["environmentalScore"] = json!(0.0);
        score["environmentalSeverity"] = json!("NONE");
        vulnerability["scores"] = json!([{ "products": [product_id], "cvss_v3": score }]);
    }
    if let Some(impact) = section(form, &["Impact", "Potential impact"]) {
        vulnerability["threats"] = json!([{ "category": "impact", "details": impact, "product_ids": [product_id] }]);
    }
    if let Some(a) = acknowledgments {
        vulnerability["acknowledgments"] = a;
    }

    // The policy's product, with what identifies it to tools (purl, CPE), where the ticket names one.
    let named = crate::cra::product_of(config, t).map(|(p, _)| p);
    let product_name = named.map_or(product.clone(), |p| p.name.clone());
    let mut full_product = json!({ "name": format!("{} {product_name}", org.name), "product_id": product_id });
    if let Some(p) = named {
        let mut helper = serde_json::Map::new();
        if let Some(purl) = &p.purl {
            helper.insert("purl".into(), json!(purl));
        }
        if let Some(cpe) = &p.cpe {
            helper.insert("cpe".into(), json!(cpe));
        }
        if !helper.is_empty() {
            full_product["product_identification_helper"] = Value::Object(helper);
        }
    }
    Ok(json!({
        "document": document,
        "product_tree": {
            "branches": [{
                "category": "vendor",
                "name": org.name,
                "branches": [{
                    "category": "product_name",
                    "name": product_name,
                    "product": full_product,
                }],
            }],
        },
        "vulnerabilities": [vulnerability],
    }))
}

//! `vdpd export` and `vdpd advisory`: tickets out of the store, for spreadsheets, other tools and the
//! advisory a fixed flaw deserves. Report content (subjects, the form, message texts, the reporter's address)
//! is left out unless asked for with `--with-content`.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use serde::Serialize;

use super::Exit;
use crate::cli::ExportFormat;
use crate::clock::format_ms;
use crate::config::Config;
use crate::engine::clocks::{Clock, ClockKind, ClockStatus};
use crate::engine::hints::asset_host;
use crate::store::{Store, tickets};

#[derive(Debug, Serialize)]
struct ClockOut {
    clock: &'static str,
    due_at: Option<String>,
    met_at: Option<String>,
    /// running | paused | met | stopped
    status: &'static str,
    kept: Option<bool>,
}

#[derive(Debug, Serialize)]
struct MessageOut {
    direction: vdpd_core::ticket::Direction,
    kind: vdpd_core::mail::MessageKind,
    created_at: String,
    from: String,
    to: String,
    subject: String,
    text: String,
}

#[derive(Debug, Serialize)]
struct Content {
    reporter: String,
    subject: String,
    asset: String,
    form: std::collections::BTreeMap<String, String>,
    messages: Vec<MessageOut>,
}

#[derive(Debug, Serialize)]
struct TicketOut {
    reference: String,
    state: String,
    outcome: String,
    severity: String,
    cvss_vector: String,
    cvss_score: Option<f64>,
    weakness: String,
    weakness_name: Option<&'static str>,
    asset_host: String,
    received_at: String,
    acknowledged_at: Option<String>,
    ack_latency_ms: Option<i64>,
    diagnosed_at: Option<String>,
    resolved_at: Option<String>,
    closed_at: Option<String>,
    disclose_on: String,
    assignee: String,
    bounty_tier: String,
    bounty_amount: Option<i64>,
    bounty_paid_at: Option<String>,
    credit: Option<String>,
    purged_at: Option<String>,
    erased_at: Option<String>,
    clocks: Vec<ClockOut>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content: Option<Content>,
}

fn clock_out(c: &Clock) -> ClockOut {
    let (status, met_at) = match &c.status {
        ClockStatus::Running => ("running", None),
        ClockStatus::Paused { .. } => ("paused", None),
        ClockStatus::Met { at } => ("met", Some(format_ms(*at))),
        ClockStatus::Stopped { .. } => ("stopped", None),
    };
    ClockOut { clock: c.kind.as_str(), due_at: c.due_at.map(format_ms), met_at, status, kept: c.kept() }
}

fn collect(store: &Store, config: &Config, with_content: bool) -> anyhow::Result<Vec<TicketOut>> {
    let conn = store.conn();
    let mut out = Vec::new();
    for t in tickets::list_tickets(conn, None)? {
        let (_, clocks) = crate::intake::clocks::compute(conn, config, &t)?;
        let content = if with_content {
            let form = crate::store::form::sections(conn, t.id)?.into_iter().collect();
            let messages = tickets::messages(conn, t.id)?
                .into_iter()
                .map(|m| MessageOut {
                    direction: m.direction,
                    kind: m.kind,
                    created_at: format_ms(m.created_at),
                    from: m.from,
                    to: m.to,
                    subject: m.subject,
                    text: m.body_text,
                })
                .collect();
            Some(Content {
                reporter: t.reporter.clone(),
                subject: t.subject.clone(),
                asset: t.asset.clone(),
                form,
                messages,
            })
        } else {
            None
        };
        out.push(TicketOut {
            reference: t.reference.clone(),
            state: t.state.as_str().into(),
            outcome: t.outcome.map(|o| o.to_string()).unwrap_or_default(),
            severity: t.severity.clone(),
            cvss_vector: t.cvss_vector.clone(),
            cvss_score: t.cvss_score,
            weakness: t.weakness.clone(),
            weakness_name: crate::cwe::name(&t.weakness),
            asset_host: asset_host(&t.asset).unwrap_or_default(),
            received_at: format_ms(t.received_at),
            acknowledged_at: t.acknowledged_at.map(format_ms),
            ack_latency_ms: t.ack_latency_ms,
            diagnosed_at: t.diagnosed_at.map(format_ms),
            resolved_at: t.resolved_at.map(format_ms),
            closed_at: t.closed_at.map(format_ms),
            disclose_on: t.disclose_on.clone(),
            assignee: t.assignee.clone(),
            bounty_tier: t.bounty_tier.clone(),
            bounty_amount: t.bounty_amount,
            bounty_paid_at: t.bounty_paid_at.map(format_ms),
            credit: t.credit.clone(),
            purged_at: t.purged_at.map(format_ms),
            erased_at: t.erased_at.map(format_ms),
            clocks: clocks.iter().map(clock_out).collect(),
            content,
        });
    }
    Ok(out)
}

/// One CSV field (RFC 4180), defused for spreadsheets: a value a researcher chose that starts like a formula
/// (`=`, `+`, `-`, `@`, tab, CR) is prefixed with `'` so that opening the file never runs it.
fn csv_field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_string() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

fn csv(rows: &[TicketOut], with_content: bool) -> String {
    let mut header = vec![
        "reference",
        "state",
        "outcome",
        "severity",
        "cvss_score",
        "cvss_vector",
        "weakness",
        "weakness_name",
        "asset_host",
        "received_at",
        "acknowledged_at",
        "diagnosed_at",
        "resolved_at",
        "closed_at",
        "acknowledge_due",
        "acknowledge_kept",
        "diagnosis_due",
        "diagnosis_kept",
        "fix_due",
        "fix_kept",
        "disclosure_due",
        "bounty_tier",
        "bounty_amount",
        "bounty_paid_at",
        "credit",
        "purged_at",
    ];
    if with_content {
        header.extend(["reporter", "subject", "asset"]);
    }
    let mut out = header.join(",") + "\r\n";
    let opt = |v: &Option<String>| v.clone().unwrap_or_default();
    for r in rows {
        let clock = |k: ClockKind| r.clocks.iter().find(|c| c.clock == k.as_str());
        let due = |k| clock(k).and_then(|c| c.due_at.clone()).unwrap_or_default();
        let kept = |k| clock(k).and_then(|c| c.kept).map(|b| b.to_string()).unwrap_or_default();
        let mut fields = vec![
            r.reference.clone(),
            r.state.clone(),
            r.outcome.clone(),
            r.severity.clone(),
            r.cvss_score.map(|s| format!("{s:.1}")).unwrap_or_default(),
            r.cvss_vector.clone(),
            r.weakness.clone(),
            r.weakness_name.unwrap_or_default().to_string(),
            r.asset_host.clone(),
            r.received_at.clone(),
            opt(&r.acknowledged_at),
            opt(&r.diagnosed_at),
            opt(&r.resolved_at),
            opt(&r.closed_at),
            due(ClockKind::Acknowledge),
            kept(ClockKind::Acknowledge),
            due(ClockKind::Diagnosis),
            kept(ClockKind::Diagnosis),
            due(ClockKind::Fix),
            kept(ClockKind::Fix),
            due(ClockKind::Disclosure),
            r.bounty_tier.clone(),
            r.bounty_amount.map(|a| a.to_string()).unwrap_or_default(),
            opt(&r.bounty_paid_at),
            opt(&r.credit),
            opt(&r.purged_at),
        ];
        if let Some(c) = &r.content {
            fields.extend([c.reporter.clone(), c.subject.clone(), c.asset.clone()]);
        } else if with_content {
            fields.extend([String::new(), String::new(), String::new()]);
        }
        out.push_str(&fields.iter().map(|f| csv_field(f)).collect::<Vec<_>>().join(","));
        out.push_str("\r\n");
    }
    out
}

fn write_out(data: &[u8], output: Option<PathBuf>) -> anyhow::Result<()> {
    match output {
        // Report content for the admin: mode 0600 whatever the umask.
        Some(path) => crate::fsx::write_private(&path, data)?,
        None => std::io::stdout().write_all(data)?,
    }
    Ok(())
}

pub fn export(
    store: &Store,
    config: &Config,
    format: ExportFormat,
    with_content: bool,
    output: Option<PathBuf>,
) -> anyhow::Result<ExitCode> {
    let rows = collect(store, config, with_content)?;
    let data = match format {
        ExportFormat::Json => serde_json::to_string_pretty(&rows)? + "\n",
        ExportFormat::Csv => csv(&rows, with_content),
    };
    write_out(data.as_bytes(), output)?;
    Ok(ExitCode::SUCCESS)
}

pub fn advisory(
    store: &Store,
    config: &Config,
    reference: &str,
    format: crate::cli::AdvisoryFormat,
    output: Option<PathBuf>,
    now: Option<jiff::Timestamp>,
) -> anyhow::Result<ExitCode> {
    let conn = store.conn();
    let Some(t) = tickets::ticket_by_reference(conn, reference.trim())? else {
        return Err(Exit { code: 1, message: format!("no ticket {reference}") }.into());
    };
    let form = crate::store::form::sections(conn, t.id)?;
    let now = now.unwrap_or_else(jiff::Timestamp::now).as_millisecond();
    let write: crate::advisory::Writer = match format {
        crate::cli::AdvisoryFormat::Csaf => crate::advisory::csaf,
        crate::cli::AdvisoryFormat::Cve => crate::advisory::cve,
        crate::cli::AdvisoryFormat::Osv => crate::advisory::osv,
    };
    let doc = write(config, &t, &form, now).map_err(|e| Exit { code: 1, message: e.to_string() })?;
    write_out((serde_json::to_string_pretty(&doc)? + "\n").as_bytes(), output)?;
    Ok(ExitCode::SUCCESS)
}

/// `vdpd advisory publish DIR REF…`: the CSAF provider directory (see [`crate::cli::AdvisoryCommand`]).
pub fn publish_csaf(
    store: &Store,
    config: &Config,
    dir: &std::path::Path,
    references: &[String],
    now: Option<jiff::Timestamp>,
) -> anyhow::Result<ExitCode> {
    let key = match &config.openpgp {
        Some(o) => crate::openpgp::keys::load(&o.key, &config.organisation.security_address)?,
        None => {
            return Err(Exit {
                code: super::exit::CONFIG,
                message: "publishing signs each advisory with the organisation key: add [openpgp] and run `vdpd key generate`"
                    .into(),
            }
            .into());
        }
    };
    let now = now.unwrap_or_else(jiff::Timestamp::now).as_millisecond();
    let signed_at = crate::intake::system_time(now);
    let conn = store.conn();
    // Every document first, so that one refusal publishes nothing.
    let mut documents = Vec::new();
    for reference in references {
        let Some(t) = tickets::ticket_by_reference(conn, reference.trim())? else {
            return Err(Exit { code: 1, message: format!("no ticket {reference}") }.into());
        };
        let form = crate::store::form::sections(conn, t.id)?;
        let name = crate::advisory::csaf_file_name(&t.reference);
        let before = find_published(dir, &name)?;
        match crate::advisory::csaf_published(config, &t, &form, now, before.as_ref())
            .map_err(|e| Exit { code: 1, message: e.to_string() })?
        {
            Some(doc) => documents.push((t.id, doc)),
            None => {
                println!("{}: unchanged", t.reference);
                if let Some(doc) = &before {
                    record_advisory(conn, config, t.id, doc, now)?;
                }
            }
        }
    }
    for (ticket_id, (path, doc)) in &documents {
        let file = dir.join(path);
        std::fs::create_dir_all(file.parent().unwrap_or(dir))?;
        let bytes = (serde_json::to_string_pretty(doc)? + "\n").into_bytes();
        crate::fsx::write_public(&file, &bytes)?;
        let name = file.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let sha256 = crate::classify::sha256_hex(&bytes);
        let sha512 = crate::classify::sha512_hex(&bytes);
        crate::fsx::write_public(&file.with_extension("json.sha256"), format!("{sha256}  {name}\n").as_bytes())?;
        crate::fsx::write_public(&file.with_extension("json.sha512"), format!("{sha512}  {name}\n").as_bytes())?;
        crate::fsx::write_public(
            &file.with_extension("json.asc"),
            &crate::openpgp::write::sign_detached(&bytes, &key, signed_at)?,
        )?;
        println!("published {path} (version {})", doc["document"]["tracking"]["version"].as_str().unwrap_or("?"));
        record_advisory(conn, config, *ticket_id, doc, now)?;
    }
    // The directory's lists, from what it holds: every advisory ever published there.
    let white = dir.join("white");
    let mut entries: Vec<(String, String)> = Vec::new();
    if white.is_dir() {
        for year in std::fs::read_dir(&white)? {
            let year = year?.path();
            if !year.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(&year)? {
                let f = f?.path();
                if f.extension().and_then(|e| e.to_str()) != Some("json") {
                    continue;
                }
                let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&f)?)?;
                let released = doc["document"]["tracking"]["current_release_date"].as_str().unwrap_or("").to_string();
                let rel = f.strip_prefix(&white).unwrap_or(&f).to_string_lossy().to_string();
                entries.push((rel, released));
            }
        }
    }
    entries.sort();
    let index: String = entries.iter().map(|(p, _)| format!("{p}\n")).collect();
    crate::fsx::write_public(&white.join("index.txt"), index.as_bytes())?;
    let mut by_date = entries.clone();
    by_date.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let changes: String = by_date.iter().map(|(p, d)| format!("\"{p}\",\"{d}\"\n")).collect();
    crate::fsx::write_public(&white.join("changes.csv"), changes.as_bytes())?;
    let fingerprint = key.fingerprint();
    let metadata = crate::advisory::provider_metadata(config, &fingerprint, now);
    crate::fsx::write_public(
        &dir.join("provider-metadata.json"),
        (serde_json::to_string_pretty(&metadata)? + "\n").as_bytes(),
    )?;
    std::fs::create_dir_all(dir.join("openpgp"))?;
    crate::fsx::write_public(
        &dir.join("openpgp").join(format!("{}.asc", fingerprint.to_ascii_uppercase())),
        &crate::openpgp::armored(key.public()),
    )?;
    println!("{} advisories in {}", entries.len(), dir.display());
    Ok(ExitCode::SUCCESS)
}

/// Records a published advisory in the store: its link for `#duplicate`, its words for duplicate search.
fn record_advisory(
    conn: &rusqlite::Connection,
    config: &Config,
    ticket_id: i64,
    doc: &serde_json::Value,
    now: i64,
) -> anyhow::Result<()> {
    let text = |v: &serde_json::Value| v.as_str().unwrap_or_default().to_string();
    let (url, title) = (text(&doc["document"]["references"][0]["url"]), text(&doc["document"]["title"]));
    let summary = text(&doc["vulnerabilities"][0]["notes"][0]["text"]);
    let version = text(&doc["document"]["tracking"]["version"]);
    let advisory = crate::store::search::Advisory { url: &url, title: &title, summary: &summary, version: &version };
    crate::store::search::record_advisory(conn, ticket_id, &advisory, now)?;
    crate::intake::search::reindex(conn, config, ticket_id)?;
    Ok(())
}

/// The advisory published earlier under `name`, in whichever year's folder.
fn find_published(dir: &std::path::Path, name: &str) -> anyhow::Result<Option<serde_json::Value>> {
    let white = dir.join("white");
    if !white.is_dir() {
        return Ok(None);
    }
    for year in std::fs::read_dir(&white)? {
        let f = year?.path().join(name);
        if f.is_file() {
            return Ok(Some(serde_json::from_slice(&std::fs::read(&f)?)?));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::csv_field;

    #[test]
    fn csv_fields_are_quoted_and_defused() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\"\nthere"), "\"say \"\"hi\"\"\nthere\"");
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_field("-1"), "'-1");
    }
}

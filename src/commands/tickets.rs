//! `vdpd tickets list|show`. The JSON is a stable interface for scripts: fields are added, never renamed or
//! removed; times are RFC 3339 strings in UTC.

use std::io::Write;
use std::process::ExitCode;

use serde::Serialize;

use super::{Exit, line, when};
use crate::clock::format_ms;
use crate::config::Config;
use crate::engine::TicketState;
use crate::store::{Store, tickets};

#[derive(Debug, Serialize)]
struct TicketJson {
    reference: String,
    state: TicketState,
    /// `normal`, or `slow`: staff heard of it in the slow lane's digest.
    lane: tickets::Lane,
    subject: String,
    reporter: String,
    created_at: String,
    updated_at: String,
    received_at: String,
    acknowledged_at: Option<String>,
    ack_latency_ms: Option<i64>,
    asset: String,
    weakness: String,
    severity: String,
    cvss_vector: String,
    cvss_score: Option<f64>,
    form_complete_at: Option<String>,
    assignee: String,
    /// '' while open; duplicate | not-applicable | informative once closed with an outcome.
    outcome: String,
    bounty_tier: String,
    bounty_amount: Option<i64>,
    bounty_awarded_at: Option<String>,
    bounty_paid_at: Option<String>,
    disclose_on: String,
    /// `null` until confirmed; "" for no public credit.
    credit: Option<String>,
    resolved_at: Option<String>,
    closed_at: Option<String>,
    /// When staff first answered the researcher or decided the report (the first diagnosis).
    diagnosed_at: Option<String>,
    /// When the researcher last heard from us with news.
    last_update_at: Option<String>,
    /// When report content was deleted under the retention policy.
    purged_at: Option<String>,
    /// When the researcher's personal data was erased on request.
    erased_at: Option<String>,
    /// The researcher's own answer about public credit: "" (none yet), "none", or how to credit them.
    credit_consent: String,
    /// Since when the vulnerability is known to be actively exploited (the CRA clocks run from it).
    exploited_at: Option<String>,
    /// Who said so: a staff member's address, or "researcher".
    exploited_by: String,
    /// When a corrective or mitigating measure became available.
    mitigated_at: Option<String>,
    /// The [[products]] id staff gave the ticket.
    product: String,
    /// When staff first took the report as valid (accepted, fixing or resolved).
    validated_at: Option<String>,
    /// When a person first answered the researcher (not the automatic acknowledgement).
    first_response_at: Option<String>,
    /// The CVE ID staff recorded (`#cve`).
    cve_id: String,
    /// Since when a severe incident is known (CRA Art. 14(3)), and who said so.
    incident_at: Option<String>,
    incident_by: String,
}

impl From<&tickets::TicketRow> for TicketJson {
    fn from(t: &tickets::TicketRow) -> Self {
        TicketJson {
            reference: t.reference.clone(),
            state: t.state,
            lane: t.lane,
            subject: t.subject.clone(),
            reporter: t.reporter.clone(),
            created_at: format_ms(t.created_at),
            updated_at: format_ms(t.updated_at),
            received_at: format_ms(t.received_at),
            acknowledged_at: t.acknowledged_at.map(format_ms),
            ack_latency_ms: t.ack_latency_ms,
            asset: t.asset.clone(),
            weakness: t.weakness.clone(),
            severity: t.severity.clone(),
            cvss_vector: t.cvss_vector.clone(),
            cvss_score: t.cvss_score,
            form_complete_at: t.form_complete_at.map(format_ms),
            assignee: t.assignee.clone(),
            outcome: t.outcome.map(|o| o.to_string()).unwrap_or_default(),
            bounty_tier: t.bounty_tier.clone(),
            bounty_amount: t.bounty_amount,
            bounty_awarded_at: t.bounty_awarded_at.map(format_ms),
            bounty_paid_at: t.bounty_paid_at.map(format_ms),
            disclose_on: t.disclose_on.clone(),
            credit: t.credit.clone(),
            resolved_at: t.resolved_at.map(format_ms),
            closed_at: t.closed_at.map(format_ms),
            diagnosed_at: t.diagnosed_at.map(format_ms),
            last_update_at: t.last_update_at.map(format_ms),
            purged_at: t.purged_at.map(format_ms),
            erased_at: t.erased_at.map(format_ms),
            credit_consent: t.credit_consent.stored().to_string(),
            exploited_at: t.exploited_at.map(format_ms),
            exploited_by: t.exploited_by.clone(),
            mitigated_at: t.mitigated_at.map(format_ms),
            product: t.product.clone(),
            validated_at: t.validated_at.map(format_ms),
            first_response_at: t.first_response_at.map(format_ms),
            cve_id: t.cve_id.clone(),
            incident_at: t.incident_at.map(format_ms),
            incident_by: t.incident_by.clone(),
        }
    }
}

#[derive(Debug, Serialize)]
struct MessageJson {
    message_id: String,
    direction: vdpd_core::ticket::Direction,
    kind: vdpd_core::mail::MessageKind,
    status: String,
    from: String,
    to: String,
    subject: String,
    created_at: String,
    sent_at: Option<String>,
    attempts: i64,
    last_error: String,
    intake_id: Option<i64>,
    encrypted: bool,
    /// none | good | unknown | bad
    signature: String,
    /// The signer's fingerprint (good), the issuer (unknown) or the reason (bad).
    signer: String,
    crypto_error: String,
    /// The text (decrypted; for incoming mail, what its signature covers when it was signed).
    text: String,
    /// Text an incoming mail carried beside its signed part: unsigned, shown for what it is.
    unsigned_text: String,
}

#[derive(Debug, Serialize)]
struct TimelineJson {
    at: String,
    actor: String,
    event: String,
    detail: String,
}

#[derive(Debug, Serialize)]
struct ParticipantJson {
    address: String,
    name: String,
    role: crate::store::tickets::Role,
    added_at: String,
    /// The language mail to them is written in, if vdpd learned one (`fr`), and how (`content-language`,
    /// `detected`).
    language: Option<String>,
    language_found: Option<&'static str>,
}

#[derive(Debug, Serialize)]
struct ShowJson {
    #[serde(flatten)]
    ticket: TicketJson,
    participants: Vec<ParticipantJson>,
    /// Files researchers sent: `vdpd tickets attachment REF ID` writes one out.
    attachments: Vec<crate::store::tickets::AttachmentRow>,
    /// The report form's answers, by section.
    form: Vec<SectionJson>,
    messages: Vec<MessageJson>,
    timeline: Vec<TimelineJson>,
    /// The policy's promises for this ticket, now.
    clocks: Vec<ClockJson>,
    /// Planned, fired and cancelled timers.
    timers: Vec<TimerJson>,
    /// The stages filed on ENISA's single reporting platform (Cyber Resilience Act).
    cra_filings: Vec<crate::store::tickets::CraFiling>,
    /// The tickets closest to this one by their words, best first: duplicate candidates.
    similar: Vec<SimilarJson>,
}

#[derive(Debug, Serialize)]
struct SimilarJson {
    reference: String,
    state: TicketState,
    outcome: Option<crate::store::tickets::Outcome>,
    /// 0–100, beside this ticket's own words (100).
    percent: u8,
    title: String,
    advisory: Option<String>,
}

#[derive(Debug, Serialize)]
struct ClockJson {
    /// acknowledge | diagnosis | fix | disclosure
    clock: &'static str,
    /// The promise in the policy's words ("7 business days"), or "agreed" for a negotiated date.
    promise: String,
    severity: Option<&'static str>,
    started_at: String,
    /// null while paused.
    due_at: Option<String>,
    /// running | paused | met | stopped
    status: &'static str,
    met_at: Option<String>,
    paused_since: Option<String>,
    stopped_because: Option<String>,
    /// Running past its due time.
    overdue: bool,
    /// Met no later than due; null while undecided.
    kept: Option<bool>,
}

#[derive(Debug, Serialize)]
struct TimerJson {
    kind: String,
    due_at: String,
    fired_at: Option<String>,
    cancelled_at: Option<String>,
}

fn clock_json(c: &crate::engine::clocks::Clock, now: i64) -> ClockJson {
    use crate::engine::clocks::ClockStatus;
    let (status, met_at, paused_since, stopped_because) = match &c.status {
        ClockStatus::Running => ("running", None, None, None),
        ClockStatus::Paused { since } => ("paused", None, Some(format_ms(*since)), None),
        ClockStatus::Met { at } => ("met", Some(format_ms(*at)), None, None),
        ClockStatus::Stopped { why, .. } => ("stopped", None, None, Some(why.clone())),
    };
    ClockJson {
        clock: c.kind.as_str(),
        promise: c.promise.clone(),
        severity: c.severity.map(|s| s.as_str()),
        started_at: format_ms(c.started_at),
        due_at: c.due_at.map(format_ms),
        status,
        met_at,
        paused_since,
        stopped_because,
        overdue: c.overdue(now),
        kept: c.kept(),
    }
}

#[derive(Debug, Serialize)]
struct SectionJson {
    section: String,
    value: String,
    /// Where vdpd read the value from when the researcher did not label it ("the signature"); absent when
    /// they wrote `Section: value`.
    #[serde(skip_serializing_if = "Option::is_none")]
    read_from: Option<String>,
}

pub fn list(store: &Store, state: Option<TicketState>, json: bool) -> anyhow::Result<ExitCode> {
    // One buffered, locked writer: with 100,000 tickets, a write(2) per line was most of the time taken.
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    let written = if json {
        let rows = tickets::list_tickets(store.conn(), state)?;
        let list: Vec<TicketJson> = rows.iter().map(TicketJson::from).collect();
        serde_json::to_writer_pretty(&mut out, &list).map_err(std::io::Error::from).and_then(|()| writeln!(out))
    } else {
        let held = crate::store::intake::count_held(store.conn())?;
        write_list(&mut out, &tickets::list_summaries(store.conn(), state)?).and_then(|()| {
            // Reports not yet tickets are reports too: never out of sight.
            if held == 0 {
                return Ok(());
            }
            writeln!(
                out,
                "\n{held} more report(s) held by the hourly cap on new tickets (limits.new_tickets_per_hour): each \
                 becomes a ticket in its turn; `vdpd mail list --status held` lists them"
            )
        })
    };
    match written.and_then(|()| out.flush()) {
        Ok(()) => Ok(ExitCode::SUCCESS),
        // `vdpd tickets list | head`: the reader has what it wanted.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(ExitCode::SUCCESS),
        Err(e) => Err(e.into()),
    }
}

fn write_list(out: &mut impl Write, rows: &[tickets::TicketSummary]) -> std::io::Result<()> {
    if rows.is_empty() {
        return writeln!(out, "no tickets");
    }
    writeln!(
        out,
        "{:<16} {:<9} {:<6} {:<19} {:>9}  {:<32} SUBJECT",
        "REFERENCE", "STATE", "LANE", "CREATED", "ACK", "REPORTER"
    )?;
    for t in rows {
        let ack = match t.ack_latency_ms {
            // Tenths of a second, rounded, in integers: float formatting was a tenth of the listing's time.
            Some(ms) if (0..10_000).contains(&ms) => {
                let tenths = (ms + 50) / 100;
                format!("{}.{}s", tenths / 10, tenths % 10)
            }
            Some(ms) => format!("{}s", ms / 1000),
            None => "-".into(),
        };
        writeln!(
            out,
            "{:<16} {:<9} {:<6} {:<19} {:>9}  {:<32} {}",
            t.reference,
            t.state,
            t.lane,
            when(t.created_at),
            ack,
            truncate(&line(&t.reporter), 32),
            truncate(&line(&t.subject), 60)
        )?;
    }
    Ok(())
}

/// One ticket. The text output shows what the researcher wrote — the messages' decrypted text, the form's
/// answers — only with `content`: a console may be read over a shoulder, and most questions about a ticket
/// (its clocks, its mail's delivery, who did what) need none of it. The JSON has it all (a script asked).
pub fn show(store: &Store, config: &Config, reference: &str, json: bool, content: bool) -> anyhow::Result<ExitCode> {
    let conn = store.conn();
    let Some(t) = tickets::ticket_by_reference(conn, reference.trim())? else {
        return Err(Exit { code: 1, message: format!("no ticket {reference}") }.into());
    };
    let now = jiff::Timestamp::now().as_millisecond();
    let (_, clocks) = crate::intake::clocks::compute(conn, config, &t)?;
    let planned = crate::store::timers::for_ticket(conn, t.id)?;
    let participants = tickets::participants(conn, t.id)?;
    let mut languages = Vec::with_capacity(participants.len());
    for p in &participants {
        languages.push(crate::store::languages::of(conn, &p.address)?);
    }
    let messages = tickets::messages(conn, t.id)?;
    let timeline = tickets::timeline(conn, t.id)?;
    let form = crate::store::form::sections(conn, t.id)?;
    let understood = crate::store::form::understood(conn, t.id)?;
    let read_from = |section: &str| understood.iter().find(|(s, _)| s == section).map(|(_, from)| from.clone());
    let attachments = tickets::attachments(conn, t.id)?;
    let filings = tickets::cra_filings(conn, t.id)?;
    let similar = crate::intake::search::similar(conn, config, t.id)?;
    if json {
        let out = ShowJson {
            ticket: TicketJson::from(&t),
            participants: participants
                .iter()
                .zip(&languages)
                .map(|(p, lang)| ParticipantJson {
                    address: p.address.clone(),
                    name: p.name.clone(),
                    role: p.role,
                    added_at: format_ms(p.added_at),
                    language: lang.as_ref().map(|(l, _)| l.to_string()),
                    language_found: lang.as_ref().map(|(_, f)| f.as_str()),
                })
                .collect(),
            messages: messages
                .iter()
                .map(|m| MessageJson {
                    message_id: m.message_id.clone(),
                    direction: m.direction,
                    kind: m.kind,
                    status: m.status.clone(),
                    from: m.from.clone(),
                    to: m.to.clone(),
                    subject: m.subject.clone(),
                    created_at: format_ms(m.created_at),
                    sent_at: m.sent_at.map(format_ms),
                    attempts: m.attempts,
                    last_error: m.last_error.clone(),
                    intake_id: m.intake_id,
                    encrypted: m.encrypted,
                    signature: m.signature.clone(),
                    signer: m.signer.clone(),
                    crypto_error: m.crypto_error.clone(),
                    text: m.body_text.clone(),
                    unsigned_text: m.unsigned_text.clone(),
                })
                .collect(),
            attachments: attachments.clone(),
            form: form
                .iter()
                .map(|(section, value)| SectionJson {
                    section: section.clone(),
                    value: value.clone(),
                    read_from: read_from(section),
                })
                .collect(),
            timeline: timeline
                .iter()
                .map(|e| TimelineJson {
                    at: format_ms(e.at),
                    actor: e.actor.clone(),
                    event: e.event.clone(),
                    detail: e.detail.clone(),
                })
                .collect(),
            clocks: clocks.iter().map(|c| clock_json(c, now)).collect(),
            timers: planned
                .iter()
                .map(|p| TimerJson {
                    kind: p.kind.clone(),
                    due_at: format_ms(p.due_at),
                    fired_at: p.fired_at.map(format_ms),
                    cancelled_at: p.cancelled_at.map(format_ms),
                })
                .collect(),
            cra_filings: filings.clone(),
            similar: similar
                .iter()
                .map(|s| SimilarJson {
                    reference: s.reference.clone(),
                    state: s.state,
                    outcome: s.outcome,
                    percent: s.percent,
                    title: s.title.clone(),
                    advisory: s.advisory.clone(),
                })
                .collect(),
        };
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}  {}", t.reference, line(&t.subject));
    println!("  state:         {}", t.state);
    if t.lane == tickets::Lane::Slow {
        println!("  lane:          slow (a sender on trial: staff heard of it in the daily digest)");
    }
    println!("  reporter:      {}", line(&t.reporter));
    println!("  received:      {}", when(t.received_at));
    match (t.acknowledged_at, t.ack_latency_ms) {
        (Some(at), Some(ms)) => println!("  acknowledged:  {} ({} ms after receipt)", when(at), ms),
        _ => println!("  acknowledged:  not yet"),
    }
    if !t.asset.is_empty() {
        println!("  asset:         {}", line(&t.asset));
    }
    if !t.severity.is_empty() {
        let cvss = t.cvss_score.map(|s| format!(" (CVSS {s:.1} {})", t.cvss_vector)).unwrap_or_default();
        println!("  severity:      {}{cvss}", t.severity);
    }
    if !t.weakness.is_empty() {
        println!("  weakness:      {}", line(&t.weakness));
    }
    if let Some((p, by)) = crate::cra::product_of(config, &t) {
        let how = match by {
            crate::cra::ProductBy::Staff => "",
            crate::cra::ProductBy::Asset => " (from the asset)",
            crate::cra::ProductBy::Only => " (the policy's only product)",
        };
        println!("  product:       {} ({}){how}", line(&p.name), p.id);
    }
    if let Some(at) = t.exploited_at {
        println!("  exploited:     actively, known since {} ({})", when(at), line(&t.exploited_by));
    }
    if let Some(at) = t.incident_at {
        println!("  incident:      severe, known since {} ({})", when(at), line(&t.incident_by));
    }
    if let Some(at) = t.mitigated_at {
        println!("  mitigated:     a measure is available since {}", when(at));
    }
    for f in &filings {
        let id = if f.platform_id.is_empty() { String::new() } else { format!(" as {}", line(&f.platform_id)) };
        println!("  CRA filed:     {}{id}, {} by {}", f.stage, when(f.filed_at), line(&f.filed_by));
    }
    println!(
        "  report form:   {}",
        t.form_complete_at.map_or("incomplete".to_string(), |at| format!("complete since {}", when(at)))
    );
    if !similar.is_empty() {
        println!("\nSimilar reports (by their words; 100 % = this one):");
        for s in &similar {
            let how = s.outcome.map(|o| format!(" as {o}")).unwrap_or_default();
            println!("  {}  {:>3} %  {}{how}  {}", s.reference, s.percent, s.state, line(&s.title));
            if let Some(url) = &s.advisory {
                println!("      advisory: {}", line(url));
            }
        }
    }
    println!("\nParticipants:");
    for (p, lang) in participants.iter().zip(&languages) {
        let name = if p.name.is_empty() { String::new() } else { format!(" ({})", p.name) };
        let lang = lang.as_ref().map(|(l, f)| format!("  [{l}, {}]", f.as_str())).unwrap_or_default();
        println!("  {:<11} {}{}{lang}", p.role, line(&p.address), line(&name));
    }
    println!("\nMessages:");
    for m in &messages {
        let arrow = if m.direction == vdpd_core::ticket::Direction::In { "←" } else { "→" };
        let peer = if m.direction == vdpd_core::ticket::Direction::In { &m.from } else { &m.to };
        println!(
            "  {} {} {:<16} {:<10} {} {}",
            when(m.created_at),
            arrow,
            m.kind,
            m.status,
            line(peer),
            line(&m.message_id)
        );
        if !m.last_error.is_empty() {
            println!("      error: {}", line(&m.last_error));
        }
        if m.direction == vdpd_core::ticket::Direction::In {
            let verdict = match m.signature.as_str() {
                "none" => String::new(),
                other => format!(
                    " (signature: {other}{})",
                    if m.signer.is_empty() { String::new() } else { format!(" {}", line(&m.signer)) }
                ),
            };
            println!("      subject: {}{verdict}", line(&m.subject));
            if !content {
                let lines = m.body_text.lines().count();
                let beside = if m.unsigned_text.is_empty() { "" } else { ", and text NOT SIGNED beside it" };
                println!("      text: {lines} line(s){beside}");
                continue;
            }
            for l in crate::mailtext::for_terminal(&m.body_text).lines() {
                println!("      | {l}");
            }
            if !m.unsigned_text.is_empty() {
                println!("      NOT SIGNED (beside the signed part; it counts for nothing):");
                for l in crate::mailtext::for_terminal(&m.unsigned_text).lines() {
                    println!("      ! {l}");
                }
            }
        }
    }
    if !t.assignee.is_empty() {
        println!("  assignee:      {}", line(&t.assignee));
    }
    if let Some(outcome) = t.outcome {
        println!("  outcome:       {outcome}");
    }
    if !t.bounty_tier.is_empty() {
        let paid = t.bounty_paid_at.map_or("not paid yet".to_string(), |at| format!("paid {}", when(at)));
        println!("  bounty:        {} ({} ; {paid})", t.bounty_tier, t.bounty_amount.unwrap_or(0));
    }
    if !t.disclose_on.is_empty() {
        println!("  disclosure:    {} (negotiated)", t.disclose_on);
    }
    if let Some(c) = &t.credit {
        println!("  credit:        {}", if c.is_empty() { "none (no public credit)".into() } else { line(c) });
    }
    if !attachments.is_empty() {
        println!("\nAttachments:");
        for a in &attachments {
            let kept = if a.kept { "" } else { " (purged)" };
            println!(
                "  #{:<4} {} ({}, {} bytes, sha256 {}){kept}",
                a.id,
                line(&a.name),
                line(&a.content_type),
                a.size,
                a.sha256
            );
        }
    }
    if !form.is_empty() {
        println!("\nReport form:");
        // Each section, its continuation lines indented; a value vdpd inferred says from what.
        for (section, value) in &form {
            let from = read_from(section).map(|f| format!(" (read from the prose: {})", line(&f))).unwrap_or_default();
            if !content {
                println!("  {}{from}", line(section));
                continue;
            }
            let value = crate::mailtext::for_terminal(value);
            let mut lines = value.lines();
            println!("  {}{from}: {}", line(section), lines.next().unwrap_or(""));
            for l in lines {
                println!("      {l}");
            }
        }
    }
    println!("\nClocks:");
    for (name, value) in crate::engine::clocks::describe(&clocks, &config.calendar, now) {
        println!("  {name:<20} {value}");
    }
    let pending: Vec<_> = planned.iter().filter(|p| p.fired_at.is_none() && p.cancelled_at.is_none()).collect();
    if !pending.is_empty() {
        println!("\nTimers:");
        for p in pending {
            println!("  {}  {}", config.calendar.show(p.due_at), p.kind);
        }
    }
    if let Some(at) = t.purged_at {
        println!("\nReport content purged {} (retention).", when(at));
    }
    if let Some(at) = t.erased_at {
        println!("The researcher's personal data was erased {} on request.", when(at));
    }
    println!("\nTimeline:");
    for e in &timeline {
        let detail = if e.detail.is_empty() { String::new() } else { format!(": {}", line(&e.detail)) };
        println!("  {}  {:<24} {}{}", when(e.at), line(&e.actor), e.event, detail);
    }
    if !content && (!form.is_empty() || messages.iter().any(|m| !m.body_text.is_empty())) {
        println!("\n(`vdpd tickets show {} --content` prints the messages' text and the form's answers.)", t.reference);
    }
    Ok(ExitCode::SUCCESS)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(n.saturating_sub(1)).collect();
        t.push('…');
        t
    }
}

/// `vdpd tickets attachment REF ID [--output FILE]`: one file a researcher sent, as received (decrypted).
pub fn attachment(
    store: &Store,
    reference: &str,
    id: i64,
    output: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let conn = store.conn();
    let Some(t) = tickets::ticket_by_reference(conn, reference.trim())? else {
        return Err(Exit { code: 1, message: format!("no ticket {reference}") }.into());
    };
    let Some((name, data)) = tickets::attachment_data(conn, t.id, id)? else {
        return Err(
            Exit { code: 1, message: format!("{reference} has no attachment #{id} (or its data was purged)") }.into()
        );
    };
    match output {
        Some(path) => {
            crate::fsx::write_private(path, &data)?;
            eprintln!("{name}: {} bytes written to {}", data.len(), path.display());
        }
        None => {
            use std::io::Write;
            std::io::stdout().write_all(&data)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

//! SQL for tickets, their participants, their messages and their timeline.

use rusqlite::{Connection, OptionalExtension, params};

use super::{ColumnList, StoreError, column, column_at, parse_column};
use crate::engine::TicketState;
use vdpd_core::mail::MessageKind;
pub use vdpd_core::timeline::{BY_VDPD, Event};

/// Allocates the next reference of `year`: `{prefix}-{year}-{seq:04}`. The sequence row only ever grows, so
/// a reference is never handed out twice, even if its ticket is later deleted.
pub fn next_reference(conn: &Connection, prefix: &str, year: i16) -> Result<String, StoreError> {
    let seq: i64 = conn
        .prepare_cached(
            "INSERT INTO ticket_sequence (year, last) VALUES (?1, 1)
         ON CONFLICT (year) DO UPDATE SET last = last + 1
         RETURNING last",
        )?
        .query_row([year], |r| r.get(0))?;
    Ok(format!("{prefix}-{year}-{seq:04}"))
}

/// What a new ticket starts with.
#[derive(Debug, Clone)]
pub struct NewTicket<'a> {
    pub reference: &'a str,
    pub subject: &'a str,
    pub reporter: &'a str,
    pub created_at: i64,
    pub received_at: i64,
}

pub fn insert_ticket(conn: &Connection, t: &NewTicket<'_>) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO tickets (reference, state, subject, reporter, created_at, updated_at, received_at)
         VALUES (?1, 'new', ?2, ?3, ?4, ?4, ?5)",
    )?
    .execute(params![t.reference, t.subject, t.reporter, t.created_at, t.received_at])?;
    Ok(conn.last_insert_rowid())
}

pub fn touch_ticket(conn: &Connection, ticket_id: i64, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE tickets SET updated_at = max(updated_at, ?2) WHERE id = ?1")?
        .execute(params![ticket_id, now])?;
    Ok(())
}

pub fn add_participant(
    conn: &Connection,
    ticket_id: i64,
    address: &str,
    name: &str,
    role: Role,
    now: i64,
) -> Result<(), StoreError> {
    // A proposed co-reporter that staff confirm becomes one (keeping the name the reporter gave, unless staff
    // give another); every other participant stays what they are.
    conn.prepare_cached(
        "INSERT INTO participants (ticket_id, address, name, role, added_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (ticket_id, address) DO UPDATE SET role = excluded.role, added_at = excluded.added_at,
             name = CASE WHEN excluded.name != '' THEN excluded.name ELSE participants.name END
         WHERE participants.role = 'proposed' AND excluded.role != 'proposed'",
    )?
    .execute(params![ticket_id, address, name, role.as_str(), now])?;
    Ok(())
}

/// Removes a co-reporter from a ticket (the reporter stays: erasure removes them).
pub fn remove_co_reporter(conn: &Connection, ticket_id: i64, address: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM participants WHERE ticket_id = ?1 AND address = ?2 AND role = ?3")?
        .execute(params![ticket_id, address, Role::CoReporter.as_str()])?;
    Ok(())
}

/// A message of a ticket, in or out.
#[derive(Debug, Clone)]
pub struct MessageInsert<'a> {
    pub ticket_id: i64,
    pub direction: Direction,
    pub kind: MessageKind,
    pub message_id: &'a str,
    pub intake_id: Option<i64>,
    pub from_addr: &'a str,
    pub to_addr: &'a str,
    pub subject: &'a str,
    pub body_text: &'a str,
    /// Text outside the signed content (see `classify::Outside`).
    pub unsigned_text: &'a str,
    pub created_at: i64,
    pub encrypted: bool,
    /// `none`, `good`, `unknown` or `bad`.
    pub signature: &'a str,
    pub signer: &'a str,
    pub crypto_error: &'a str,
}

pub fn insert_message(conn: &Connection, m: &MessageInsert<'_>) -> Result<i64, StoreError> {
    conn.prepare_cached(
        "INSERT INTO messages (ticket_id, direction, kind, message_id, intake_id, from_addr, to_addr, subject, body_text,
                               created_at, encrypted, signature, signer, crypto_error, unsigned_text)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )?
    .execute(params![
        m.ticket_id,
        m.direction.as_str(),
        m.kind.as_str(),
        m.message_id,
        m.intake_id,
        m.from_addr,
        m.to_addr,
        m.subject,
        m.body_text,
        m.created_at,
        m.encrypted,
        m.signature,
        m.signer,
        m.crypto_error,
        m.unsigned_text
    ])?;
    let id = conn.last_insert_rowid();
    // A person's first answer to the researcher: what the "time to first human response" is measured to.
    if m.direction == Direction::Out && m.kind == vdpd_core::mail::MessageKind::ToResearcher {
        conn.prepare_cached("UPDATE tickets SET first_response_at = coalesce(first_response_at, ?2) WHERE id = ?1")?
            .execute(params![m.ticket_id, m.created_at])?;
    }
    Ok(id)
}

pub fn add_timeline(
    conn: &Connection,
    ticket_id: i64,
    at: i64,
    actor: &str,
    event: Event,
    detail: &str,
) -> Result<(), StoreError> {
    conn.prepare_cached("INSERT INTO timeline (ticket_id, at, actor, event, detail) VALUES (?1, ?2, ?3, ?4, ?5)")?
        .execute(params![ticket_id, at, actor, event.to_string(), detail])?;
    Ok(())
}

pub use vdpd_core::ticket::ThreadCandidate;
pub use vdpd_core::ticket::{CreditConsent, Direction, Lane, Outcome, Role, WaitReason};

/// `tickets.outcome`: '' while no outcome was chosen.
pub(super) fn outcome_at(r: &rusqlite::Row<'_>) -> rusqlite::Result<Option<Outcome>> {
    outcome_in(r, r.as_ref().column_index("outcome")?)
}

/// [`outcome_at`] at a known place.
fn outcome_in(r: &rusqlite::Row<'_>, i: usize) -> rusqlite::Result<Option<Outcome>> {
    let value: String = r.get(i)?;
    if value.is_empty() { Ok(None) } else { column_at(r, "tickets.outcome", i).map(Some) }
}

/// Tickets named by Message-IDs (In-Reply-To/References) or by references (subject tags), with whether
/// `sender` takes part in each. Header matches come first.
pub fn thread_candidates(
    conn: &Connection,
    message_ids: &[String],
    references: &[String],
    sender: &str,
) -> Result<Vec<ThreadCandidate>, StoreError> {
    let mut out: Vec<ThreadCandidate> = Vec::new();
    let mut by_mid = conn.prepare_cached(
        "SELECT DISTINCT t.id, t.reference FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.message_id = ?1",
    )?;
    let mut by_ref = conn.prepare_cached("SELECT id, reference FROM tickets WHERE reference = ?1")?;
    let mut push = |id: i64, reference: String, by_header: bool| {
        if !out.iter().any(|c| c.ticket_id == id) {
            out.push(ThreadCandidate { ticket_id: id, reference, sender_is_participant: false, by_header });
        }
    };
    for mid in message_ids {
        let rows = by_mid.query_map([mid], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))?;
        for row in rows {
            let (id, reference) = row?;
            push(id, reference, true);
        }
    }
    for reference in references {
        if let Some((id, reference)) =
            by_ref.query_row([reference], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?))).optional()?
        {
            push(id, reference, false);
        }
    }
    let mut is_participant = conn.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM participants WHERE ticket_id = ?1 AND address = ?2 AND role != 'proposed')",
    )?;
    for c in &mut out {
        c.sender_is_participant = is_participant.query_row(params![c.ticket_id, sender], |r| r.get(0))?;
    }
    Ok(out)
}

/// Tickets opened by `reporter` at or after `since` (for the per-sender daily limit).
pub fn count_tickets_by_reporter_since(conn: &Connection, reporter: &str, since: i64) -> Result<u32, StoreError> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM tickets WHERE reporter = ?1 AND created_at >= ?2")?
        .query_row(params![reporter, since], |r| r.get(0))?)
}

/// Whether at least `n` tickets were opened since `since` (the hourly cap on new tickets): the `n`-th newest
/// ticket, found by its id (tickets are numbered as they are opened and never deleted), was opened since
/// then. One index lookup whatever the cap and the backlog: counting the hour's tickets for every message
/// made a backlog of 10,000 reports quadratic.
pub fn opened_at_least_since(conn: &Connection, n: u32, since: i64) -> Result<bool, StoreError> {
    if n == 0 {
        return Ok(true);
    }
    let nth: Option<i64> = conn
        .prepare_cached(
            "SELECT created_at FROM tickets WHERE id <= (SELECT max(id) FROM tickets) - ?1 + 1 ORDER BY id DESC LIMIT 1",
        )?
        .query_row([i64::from(n)], |r| r.get(0))
        .optional()?;
    Ok(nth.is_some_and(|at| at >= since))
}

/// Records SMTP acceptance of a ticket's first acknowledgement and the latency from receipt.
/// Returns the latency when this was the first acknowledgement.
pub fn record_acknowledged(conn: &Connection, ticket_id: i64, sent_at: i64) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached(
            "UPDATE tickets SET acknowledged_at = ?2, ack_latency_ms = ?2 - received_at
             WHERE id = ?1 AND acknowledged_at IS NULL
             RETURNING ack_latency_ms",
        )?
        .query_row(params![ticket_id, sent_at], |r| r.get(0))
        .optional()?)
}

/// A ticket as listed and shown.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TicketRow {
    pub id: i64,
    pub reference: String,
    pub state: TicketState,
    pub subject: String,
    pub reporter: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub received_at: i64,
    pub acknowledged_at: Option<i64>,
    pub ack_latency_ms: Option<i64>,
    pub asset: String,
    pub weakness: String,
    pub severity: String,
    pub cvss_vector: String,
    pub cvss_score: Option<f64>,
    pub form_complete_at: Option<i64>,
    pub assignee: String,
    pub outcome: Option<Outcome>,
    pub outcome_detail: String,
    pub bounty_tier: String,
    pub bounty_amount: Option<i64>,
    pub bounty_awarded_at: Option<i64>,
    pub bounty_paid_at: Option<i64>,
    pub disclose_on: String,
    pub credit: Option<String>,
    pub resolved_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub diagnosed_at: Option<i64>,
    pub last_update_at: Option<i64>,
    pub last_enquiry_at: Option<i64>,
    pub purged_at: Option<i64>,
    pub erased_at: Option<i64>,
    /// The researcher's own answer about public credit.
    pub credit_consent: CreditConsent,
    /// Since when the vulnerability is known to be actively exploited (the CRA clocks start there).
    pub exploited_at: Option<i64>,
    /// Who said so: a staff member's address, or `researcher`.
    pub exploited_by: String,
    /// When a corrective or mitigating measure became available.
    pub mitigated_at: Option<i64>,
    /// The `[[products]]` id staff gave the ticket ('' for none).
    pub product: String,
    /// When staff first took the report as valid (accepted, fixing or resolved).
    pub validated_at: Option<i64>,
    /// When a person first answered the researcher (not the automatic acknowledgement).
    pub first_response_at: Option<i64>,
    /// The CVE ID staff recorded (`#cve`), '' for none.
    pub cve_id: String,
    /// Since when a severe incident is known (CRA Art. 14(3)), and who said so.
    pub incident_at: Option<i64>,
    pub incident_by: String,
    /// How staff hear of the report: at once, or in the slow lane's digest.
    pub lane: Lane,
}

const TICKET_COLUMNS: &str =
    "id, reference, state, subject, reporter, created_at, updated_at, received_at, acknowledged_at,
     ack_latency_ms, asset, weakness, severity, cvss_vector, cvss_score, form_complete_at, assignee, outcome,
     outcome_detail, bounty_tier, bounty_amount, bounty_awarded_at, bounty_paid_at, disclose_on, credit, resolved_at,
     closed_at, diagnosed_at, last_update_at, last_enquiry_at, purged_at, erased_at, credit_consent, exploited_at,
     exploited_by, mitigated_at, product, validated_at, first_response_at, cve_id, incident_at, incident_by, lane";

/// [`TICKET_COLUMNS`] by name ([`ColumnList`]).
static TICKETS: ColumnList = ColumnList::new(TICKET_COLUMNS);

fn ticket_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<TicketRow> {
    TICKETS.check(r)?;
    let at = |name: &str| TICKETS.at(name);
    Ok(TicketRow {
        id: r.get(at("id"))?,
        reference: r.get(at("reference"))?,
        state: column_at(r, "tickets.state", at("state"))?,
        subject: r.get(at("subject"))?,
        reporter: r.get(at("reporter"))?,
        created_at: r.get(at("created_at"))?,
        updated_at: r.get(at("updated_at"))?,
        received_at: r.get(at("received_at"))?,
        acknowledged_at: r.get(at("acknowledged_at"))?,
        ack_latency_ms: r.get(at("ack_latency_ms"))?,
        asset: r.get(at("asset"))?,
        weakness: r.get(at("weakness"))?,
        severity: r.get(at("severity"))?,
        cvss_vector: r.get(at("cvss_vector"))?,
        cvss_score: r.get(at("cvss_score"))?,
        form_complete_at: r.get(at("form_complete_at"))?,
        assignee: r.get(at("assignee"))?,
        outcome: outcome_in(r, at("outcome"))?,
        outcome_detail: r.get(at("outcome_detail"))?,
        bounty_tier: r.get(at("bounty_tier"))?,
        bounty_amount: r.get(at("bounty_amount"))?,
        bounty_awarded_at: r.get(at("bounty_awarded_at"))?,
        bounty_paid_at: r.get(at("bounty_paid_at"))?,
        disclose_on: r.get(at("disclose_on"))?,
        credit: r.get(at("credit"))?,
        resolved_at: r.get(at("resolved_at"))?,
        closed_at: r.get(at("closed_at"))?,
        diagnosed_at: r.get(at("diagnosed_at"))?,
        last_update_at: r.get(at("last_update_at"))?,
        last_enquiry_at: r.get(at("last_enquiry_at"))?,
        purged_at: r.get(at("purged_at"))?,
        erased_at: r.get(at("erased_at"))?,
        credit_consent: CreditConsent::from_stored(&r.get::<_, String>(at("credit_consent"))?),
        exploited_at: r.get(at("exploited_at"))?,
        exploited_by: r.get(at("exploited_by"))?,
        mitigated_at: r.get(at("mitigated_at"))?,
        product: r.get(at("product"))?,
        validated_at: r.get(at("validated_at"))?,
        first_response_at: r.get(at("first_response_at"))?,
        cve_id: r.get(at("cve_id"))?,
        incident_at: r.get(at("incident_at"))?,
        incident_by: r.get(at("incident_by"))?,
        lane: column_at(r, "tickets.lane", at("lane"))?,
    })
}

/// Calls `f` with each ticket received at or after `since`, oldest first, one row at a time, for statistics:
/// 100,000 tickets need not be held at once (most of `vdpd stats`'s time went to building and moving that),
/// and only the columns the clocks and the figures read are filled; the other text columns are empty.
///
/// `(part, parts)` picks every `parts`-th ticket (by id), so that several threads can share the work.
pub fn each_received_since(
    conn: &Connection,
    since: i64,
    (part, parts): (i64, i64),
    mut f: impl FnMut(TicketRow),
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare(
        "SELECT id, reference, state, created_at, updated_at, received_at, acknowledged_at, ack_latency_ms,
         severity, outcome, disclose_on, resolved_at, closed_at, diagnosed_at, last_update_at, purged_at, erased_at,
         exploited_at, mitigated_at, validated_at, first_response_at, incident_at
         FROM tickets WHERE received_at >= ?1 AND id % ?2 = ?3 ORDER BY id",
    )?;
    // By position: `vdpd stats` reads every ticket through here, and a lookup by name per column per row
    // would cost a measurable share of it.
    let mut rows = stmt.query([since, parts.max(1), part])?;
    while let Some(r) = rows.next()? {
        let state: String = r.get(2)?;
        f(TicketRow {
            id: r.get(0)?,
            reference: r.get(1)?,
            state: parse_column("tickets.state", state)?,
            subject: String::new(),
            reporter: String::new(),
            created_at: r.get(3)?,
            updated_at: r.get(4)?,
            received_at: r.get(5)?,
            acknowledged_at: r.get(6)?,
            ack_latency_ms: r.get(7)?,
            asset: String::new(),
            weakness: String::new(),
            severity: r.get(8)?,
            cvss_vector: String::new(),
            cvss_score: None,
            form_complete_at: None,
            assignee: String::new(),
            outcome: outcome_at(r)?,
            outcome_detail: String::new(),
            bounty_tier: String::new(),
            bounty_amount: None,
            bounty_awarded_at: None,
            bounty_paid_at: None,
            disclose_on: r.get(10)?,
            credit: None,
            resolved_at: r.get(11)?,
            closed_at: r.get(12)?,
            diagnosed_at: r.get(13)?,
            last_update_at: r.get(14)?,
            last_enquiry_at: None,
            purged_at: r.get(15)?,
            erased_at: r.get(16)?,
            credit_consent: CreditConsent::NotAnswered,
            exploited_at: r.get(17)?,
            exploited_by: String::new(),
            mitigated_at: r.get(18)?,
            product: String::new(),
            validated_at: r.get(19)?,
            first_response_at: r.get(20)?,
            cve_id: String::new(),
            incident_at: r.get(21)?,
            incident_by: String::new(),
            lane: Lane::Normal,
        });
    }
    Ok(())
}

/// One stage of a ticket filed on the CRA platform.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CraFiling {
    pub stage: vdpd_core::ticket::CraStage,
    pub filed_at: i64,
    /// The platform's identifier, '' when staff gave none.
    pub platform_id: String,
    pub filed_by: String,
}

fn cra_filing(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, CraFiling)> {
    Ok((
        r.get("ticket_id")?,
        CraFiling {
            stage: column(r, "cra_filings.stage")?,
            filed_at: r.get("filed_at")?,
            platform_id: r.get("platform_id")?,
            filed_by: r.get("filed_by")?,
        },
    ))
}

/// A ticket's CRA filings, in the order they were made.
pub fn cra_filings(conn: &Connection, ticket_id: i64) -> Result<Vec<CraFiling>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT ticket_id, stage, filed_at, platform_id, filed_by FROM cra_filings WHERE ticket_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([ticket_id], cra_filing)?.map(|r| r.map(|(_, f)| f)).collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Every ticket's CRA filings, by ticket id (one query, for statistics).
pub fn all_cra_filings(conn: &Connection) -> Result<std::collections::HashMap<i64, Vec<CraFiling>>, StoreError> {
    let mut stmt = conn
        .prepare("SELECT ticket_id, stage, filed_at, platform_id, filed_by FROM cra_filings ORDER BY ticket_id, id")?;
    let mut out: std::collections::HashMap<i64, Vec<CraFiling>> = std::collections::HashMap::new();
    for row in stmt.query_map([], cra_filing)? {
        let (ticket_id, filing) = row?;
        out.entry(ticket_id).or_default().push(filing);
    }
    Ok(out)
}

/// A ticket's waits on the researcher: (from, until), `None` while still waiting.
pub type Waits = Vec<(i64, Option<i64>)>;

/// Every ticket's waits on the researcher, by ticket id (one query, for statistics).
pub fn all_waits(conn: &Connection) -> Result<std::collections::HashMap<i64, Waits>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT ticket_id, started_at, ended_at FROM ticket_waits ORDER BY ticket_id, started_at, id")?;
    let mut out: std::collections::HashMap<i64, Waits> = std::collections::HashMap::new();
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, Option<i64>>(2)?)))?;
    for row in rows {
        let (id, from, until) = row?;
        out.entry(id).or_default().push((from, until));
    }
    Ok(out)
}

pub fn list_tickets(conn: &Connection, state: Option<TicketState>) -> Result<Vec<TicketRow>, StoreError> {
    let mut stmt =
        conn.prepare(&format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE ?1 IS NULL OR state = ?1 ORDER BY id"))?;
    let rows = stmt.query_map([state.map(|s| s.as_str())], ticket_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// The columns `vdpd tickets list` prints, for every ticket (or those in `state`), in order.
#[derive(Debug, Clone)]
pub struct TicketSummary {
    pub reference: String,
    pub state: String,
    pub lane: String,
    pub created_at: i64,
    pub ack_latency_ms: Option<i64>,
    pub reporter: String,
    pub subject: String,
}

/// Like [`list_tickets`] with only what the text listing shows: a third of the time on 100,000 tickets.
pub fn list_summaries(conn: &Connection, state: Option<TicketState>) -> Result<Vec<TicketSummary>, StoreError> {
    let mut stmt = conn.prepare(
        "SELECT reference, state, created_at, ack_latency_ms, reporter, subject, lane FROM tickets
         WHERE ?1 IS NULL OR state = ?1 ORDER BY id",
    )?;
    // By position, like `each_received_since`: this lists every ticket.
    let rows = stmt.query_map([state.map(|s| s.as_str())], |r| {
        Ok(TicketSummary {
            reference: r.get(0)?,
            state: r.get(1)?,
            created_at: r.get(2)?,
            ack_latency_ms: r.get(3)?,
            reporter: r.get(4)?,
            subject: r.get(5)?,
            lane: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

pub fn ticket_by_reference(conn: &Connection, reference: &str) -> Result<Option<TicketRow>, StoreError> {
    conn.query_row(
        &format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE reference = ?1 COLLATE NOCASE"),
        [reference],
        ticket_row,
    )
    .optional()
    .map_err(StoreError::from)
}

pub fn ticket_by_id(conn: &Connection, id: i64) -> Result<Option<TicketRow>, StoreError> {
    conn.prepare_cached(&format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = ?1"))?
        .query_row([id], ticket_row)
        .optional()
        .map_err(StoreError::from)
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct ParticipantRow {
    pub address: String,
    pub name: String,
    pub role: Role,
    pub added_at: i64,
}

pub fn participants(conn: &Connection, ticket_id: i64) -> Result<Vec<ParticipantRow>, StoreError> {
    let mut stmt =
        conn.prepare_cached("SELECT address, name, role, added_at FROM participants WHERE ticket_id = ?1 ORDER BY id")?;
    let rows = stmt
        .query_map([ticket_id], |r| {
            Ok(ParticipantRow {
                address: r.get("address")?,
                name: r.get("name")?,
                role: column(r, "participants.role")?,
                added_at: r.get("added_at")?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// A message of a ticket with its delivery status: `received` for incoming mail, the outbox status
/// (`queued`, `sending`, `sent`, `failed`) for outgoing mail.
#[derive(Debug, Clone, serde::Serialize)]
pub struct MessageRow {
    pub id: i64,
    pub message_id: String,
    pub direction: Direction,
    pub kind: MessageKind,
    pub from: String,
    pub to: String,
    pub subject: String,
    pub created_at: i64,
    pub status: String,
    pub attempts: i64,
    pub sent_at: Option<i64>,
    pub last_error: String,
    pub intake_id: Option<i64>,
    pub body_text: String,
    /// Text the mail carried outside its signed content.
    pub unsigned_text: String,
    pub encrypted: bool,
    pub signature: String,
    pub signer: String,
    pub crypto_error: String,
}

/// The researchers' own words on a ticket: the text of its report and of every reply, in order, one per line.
/// (What [`messages`] would give, filtered, without reading each message's delivery state: a staff
/// notification reads this for every report.)
pub fn researcher_text(conn: &Connection, ticket_id: i64) -> Result<String, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT body_text FROM messages WHERE ticket_id = ?1 AND direction = 'in' AND kind IN ('report', 'reply')
         ORDER BY created_at, id",
    )?;
    let texts = stmt.query_map([ticket_id], |r| r.get::<_, String>(0))?.collect::<Result<Vec<_>, _>>()?;
    Ok(texts.join("\n"))
}

pub fn messages(conn: &Connection, ticket_id: i64) -> Result<Vec<MessageRow>, StoreError> {
    // An outgoing message has one outbox row per recipient; show the least advanced one (a message is only
    // "sent" once every recipient has it). A row waiting to be sealed is queued, as far as anyone reading
    // the ticket is concerned (the word list of the JSON interface stays as documented).
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.message_id, m.direction, m.kind, m.from_addr, m.to_addr, m.subject, m.created_at,
                CASE WHEN m.direction = 'in' THEN 'received' ELSE coalesce(
                    (SELECT CASE o.status WHEN 'sealing' THEN 'queued' ELSE o.status END FROM outbox o
                     WHERE o.message_row = m.id
                     ORDER BY CASE o.status WHEN 'failed' THEN 0 WHEN 'sealing' THEN 1 WHEN 'queued' THEN 1
                                            WHEN 'sending' THEN 2 ELSE 3 END
                     LIMIT 1), 'unknown') END AS status,
                coalesce((SELECT max(o.attempts) FROM outbox o WHERE o.message_row = m.id), 0) AS attempts,
                (SELECT max(o.sent_at) FROM outbox o WHERE o.message_row = m.id) AS sent_at,
                coalesce((SELECT group_concat(o.last_error, '; ') FROM outbox o WHERE o.message_row = m.id AND o.last_error != ''), '') AS last_error,
                m.intake_id, m.body_text, m.encrypted, m.signature, m.signer, m.crypto_error, m.unsigned_text
         FROM messages m WHERE m.ticket_id = ?1 ORDER BY m.created_at, m.id",
    )?;
    let rows = stmt
        .query_map([ticket_id], |r| {
            Ok(MessageRow {
                id: r.get("id")?,
                message_id: r.get("message_id")?,
                direction: column(r, "messages.direction")?,
                kind: column(r, "messages.kind")?,
                from: r.get("from_addr")?,
                to: r.get("to_addr")?,
                subject: r.get("subject")?,
                created_at: r.get("created_at")?,
                status: r.get("status")?,
                attempts: r.get("attempts")?,
                sent_at: r.get("sent_at")?,
                last_error: r.get("last_error")?,
                intake_id: r.get("intake_id")?,
                body_text: r.get("body_text")?,
                encrypted: r.get("encrypted")?,
                signature: r.get("signature")?,
                signer: r.get("signer")?,
                crypto_error: r.get("crypto_error")?,
                unsigned_text: r.get("unsigned_text")?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct TimelineRow {
    pub at: i64,
    pub actor: String,
    pub event: String,
    pub detail: String,
}

pub fn timeline(conn: &Connection, ticket_id: i64) -> Result<Vec<TimelineRow>, StoreError> {
    let mut stmt =
        conn.prepare("SELECT at, actor, event, detail FROM timeline WHERE ticket_id = ?1 ORDER BY at, id")?;
    let rows = stmt
        .query_map([ticket_id], |r| {
            Ok(TimelineRow {
                at: r.get("at")?,
                actor: r.get("actor")?,
                event: r.get("event")?,
                detail: r.get("detail")?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Number of tickets per state.
pub fn ticket_counts(conn: &Connection) -> Result<Vec<(String, i64)>, StoreError> {
    let mut stmt = conn.prepare("SELECT state, count(*) FROM tickets GROUP BY state ORDER BY state")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub use vdpd_core::ticket::TicketUpdate;

/// Applies one staff change. State changes keep `resolved_at`/`closed_at` in step.
pub fn update(conn: &Connection, ticket_id: i64, u: &TicketUpdate, now: i64) -> Result<(), StoreError> {
    match u {
        TicketUpdate::State(state) => {
            conn.prepare_cached(
                "UPDATE tickets SET state = ?2,
                     validated_at = CASE WHEN ?2 IN ('accepted', 'fixing', 'resolved') THEN coalesce(validated_at, ?3)
                                         ELSE validated_at END,
                     resolved_at = CASE WHEN ?2 = 'resolved' THEN ?3 WHEN ?2 = 'closed' THEN resolved_at ELSE NULL END,
                     closed_at = CASE WHEN ?2 = 'closed' THEN ?3 ELSE NULL END
                 WHERE id = ?1",
            )?
            .execute(params![ticket_id, state.as_str(), now])?;
        }
        TicketUpdate::Severity { band, vector, score } => {
            conn.prepare_cached(
                "UPDATE tickets SET severity = ?2, cvss_vector = coalesce(?3, ''), cvss_score = ?4 WHERE id = ?1",
            )?
            .execute(params![ticket_id, band.as_str(), vector, score])?;
        }
        TicketUpdate::Assignee(a) => {
            conn.prepare_cached("UPDATE tickets SET assignee = ?2 WHERE id = ?1")?.execute(params![ticket_id, a])?;
        }
        TicketUpdate::Outcome { outcome, detail } => {
            conn.prepare_cached("UPDATE tickets SET outcome = ?2, outcome_detail = ?3 WHERE id = ?1")?
                .execute(params![ticket_id, outcome.map_or("", |o| o.as_str()), detail])?;
        }
        TicketUpdate::Bounty { tier, amount } => {
            conn.prepare_cached("UPDATE tickets SET bounty_tier = ?2, bounty_amount = ?3, bounty_awarded_at = ?4, bounty_paid_at = NULL WHERE id = ?1")?.execute(
                params![ticket_id, tier, amount, now],
            )?;
        }
        TicketUpdate::Paid => {
            conn.prepare_cached("UPDATE tickets SET bounty_paid_at = ?2 WHERE id = ?1")?
                .execute(params![ticket_id, now])?;
        }
        TicketUpdate::DiscloseOn(date) => {
            conn.prepare_cached("UPDATE tickets SET disclose_on = ?2 WHERE id = ?1")?
                .execute(params![ticket_id, date.to_string()])?;
        }
        TicketUpdate::Credit(c) => {
            // The column holds '' for no credit.
            let c = c.as_deref().unwrap_or("");
            conn.prepare_cached("UPDATE tickets SET credit = ?2 WHERE id = ?1")?.execute(params![ticket_id, c])?;
        }
        TicketUpdate::Exploited { since, by } => {
            conn.prepare_cached("UPDATE tickets SET exploited_at = ?2, exploited_by = ?3 WHERE id = ?1")?
                .execute(params![ticket_id, since, if since.is_some() { by.as_str() } else { "" }])?;
        }
        TicketUpdate::Mitigated => {
            // The first measure counts: the final report's deadline does not move with a later one.
            conn.prepare_cached("UPDATE tickets SET mitigated_at = coalesce(mitigated_at, ?2) WHERE id = ?1")?
                .execute(params![ticket_id, now])?;
        }
        TicketUpdate::Incident { since, by } => {
            conn.prepare_cached("UPDATE tickets SET incident_at = ?2, incident_by = ?3 WHERE id = ?1")?
                .execute(params![ticket_id, since, if since.is_some() { by.as_str() } else { "" }])?;
        }
        TicketUpdate::Cve(id) => {
            conn.prepare_cached("UPDATE tickets SET cve_id = ?2 WHERE id = ?1")?.execute(params![ticket_id, id])?;
        }
        TicketUpdate::Product(id) => {
            conn.prepare_cached("UPDATE tickets SET product = ?2 WHERE id = ?1")?.execute(params![ticket_id, id])?;
        }
        TicketUpdate::CraFiled { stage, platform_id, by } => {
            conn.prepare_cached(
                "INSERT INTO cra_filings (ticket_id, stage, filed_at, platform_id, filed_by) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![ticket_id, stage.as_str(), now, platform_id.as_deref().unwrap_or(""), by])?;
        }
    }
    touch_ticket(conn, ticket_id, now)
}

/// The most candidates the duplicate hint looks at ([`same_weakness_assets`]): a flood of one report must not
/// make every notification read the whole table.
pub const SAME_WEAKNESS_MAX: usize = 200;

/// The candidates: tickets other than `?2` that name the weakness `?1` and are open, or ended at or after
/// `?3`, oldest first, at most `?4`. `weakness != ''` repeats the partial index's condition: SQLite uses a
/// partial index only for a query whose WHERE implies the index's, and `weakness = ?1` does not imply it while
/// `?1` is unknown (the planner does not look at bound values under the stability guarantee). Without it every
/// new report's notification read the whole tickets table.
macro_rules! same_weakness_candidates {
    () => {
        "SELECT id, reference, asset, state, outcome FROM tickets
         WHERE weakness = ?1 AND weakness != '' AND id != ?2 AND erased_at IS NULL
           AND (state NOT IN ('resolved', 'closed') OR coalesce(closed_at, resolved_at, updated_at) >= ?3)
         ORDER BY id LIMIT ?4"
    };
}
#[cfg(test)]
const SAME_WEAKNESS_SQL: &str = same_weakness_candidates!();

/// The candidates' assets, each with how many of them name it: the hint compares each asset once, and a
/// flood of one report on one page is one row here, not two hundred.
/// (The no-scan test reads the candidates' statement on its own; `the_duplicate_hint_reads_the_weakness_index`
/// reads these two.)
const SAME_WEAKNESS_ASSETS_SQL: &str = concat!(
    "WITH candidates AS (",
    same_weakness_candidates!(),
    ") SELECT asset, count(*) FROM candidates GROUP BY asset ORDER BY min(id)"
);

/// The first `?6` candidates whose asset is one of the JSON array `?5`.
const SAME_WEAKNESS_ON_SQL: &str = concat!(
    "WITH candidates AS (",
    same_weakness_candidates!(),
    ") SELECT reference, state, outcome FROM candidates WHERE asset IN (SELECT value FROM json_each(?5))
       ORDER BY id LIMIT ?6"
);

/// The duplicate hint's candidates for `weakness` (open, or ended at or after `since`, not `except`), at most
/// [`SAME_WEAKNESS_MAX`], grouped by asset: (asset, how many), in the order of their first ticket.
pub fn same_weakness_assets(
    conn: &Connection,
    weakness: &str,
    except: i64,
    since: i64,
) -> Result<Vec<(String, i64)>, StoreError> {
    if weakness.is_empty() {
        return Ok(Vec::new());
    }
    let mut stmt = conn.prepare_cached(SAME_WEAKNESS_ASSETS_SQL)?;
    let rows = stmt
        .query_map(params![weakness, except, since, SAME_WEAKNESS_MAX as i64], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// The first `limit` of the same candidates whose asset is one of `assets`, oldest first: (reference, state,
/// outcome).
pub fn same_weakness_on(
    conn: &Connection,
    weakness: &str,
    except: i64,
    since: i64,
    assets: &[&str],
    limit: usize,
) -> Result<Vec<(String, String, String)>, StoreError> {
    if weakness.is_empty() || assets.is_empty() {
        return Ok(Vec::new());
    }
    let assets = serde_json::to_string(assets).expect("a list of strings is JSON");
    let mut stmt = conn.prepare_cached(SAME_WEAKNESS_ON_SQL)?;
    let rows = stmt
        .query_map(params![weakness, except, since, SAME_WEAKNESS_MAX as i64, assets, limit as i64], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<Result<_, _>>()?;
    Ok(rows)
}

/// How many times `event` was recorded on any ticket's timeline (e.g. a broken promise).
pub fn count_events(conn: &Connection, event: Event) -> Result<i64, StoreError> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM timeline WHERE event = ?1")?
        .query_row([event.to_string()], |r| r.get(0))?)
}

/// Tickets with a confirmed public credit (for the hall of fame).
pub fn credited(conn: &Connection) -> Result<Vec<TicketRow>, StoreError> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {TICKET_COLUMNS} FROM tickets WHERE credit IS NOT NULL AND credit != '' ORDER BY resolved_at, id"
    ))?;
    let rows = stmt.query_map([], ticket_row)?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// Tickets whose clocks can still plan timers (content not purged, researcher not erased), by id.
pub fn live_ids(conn: &Connection) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare("SELECT id FROM tickets WHERE purged_at IS NULL AND erased_at IS NULL ORDER BY id")?;
    let ids = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
    Ok(ids)
}

/// Whether the reporter's personal data was erased from this ticket.
pub fn is_erased(conn: &Connection, ticket_id: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT erased_at IS NOT NULL FROM tickets WHERE id = ?1")?
        .query_row([ticket_id], |r| r.get(0))
        .optional()?
        .unwrap_or(false))
}

/// Puts a ticket in a lane.
pub fn set_lane(conn: &Connection, ticket_id: i64, lane: Lane) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE tickets SET lane = ?2 WHERE id = ?1")?.execute(params![ticket_id, lane.as_str()])?;
    Ok(())
}

/// Whether one of the sender's reports was ever found valid: they are on trial no more.
pub fn reporter_validated(conn: &Connection, reporter: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM tickets WHERE reporter = ?1 AND validated_at IS NOT NULL)")?
        .query_row([reporter], |r| r.get(0))?)
}

/// A slow-lane ticket the digest has yet to list.
#[derive(Debug, Clone)]
pub struct Undigested {
    pub id: i64,
    pub reference: String,
    pub subject: String,
    pub reporter: String,
    pub received_at: i64,
    pub asset: String,
}

/// The slow lane's tickets no digest listed yet, oldest first.
pub fn undigested(conn: &Connection) -> Result<Vec<Undigested>, StoreError> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, reference, subject, reporter, received_at, asset FROM tickets
         WHERE lane = 'slow' AND digested_at IS NULL ORDER BY created_at, id",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok(Undigested {
            id: r.get("id")?,
            reference: r.get("reference")?,
            subject: r.get("subject")?,
            reporter: r.get("reporter")?,
            received_at: r.get("received_at")?,
            asset: r.get("asset")?,
        })
    })?;
    Ok(rows.collect::<Result<_, _>>()?)
}

/// When the oldest slow-lane ticket no digest listed yet was opened.
pub fn oldest_undigested(conn: &Connection) -> Result<Option<i64>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT min(created_at) FROM tickets WHERE lane = 'slow' AND digested_at IS NULL")?
        .query_row([], |r| r.get(0))?)
}

pub fn set_digested(conn: &Connection, ticket_id: i64, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE tickets SET digested_at = ?2 WHERE id = ?1")?.execute(params![ticket_id, now])?;
    Ok(())
}

/// Records the first diagnosis (staff answered the researcher or decided the report); later ones change nothing.
pub fn set_diagnosed(conn: &Connection, ticket_id: i64, now: i64) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached("UPDATE tickets SET diagnosed_at = ?2 WHERE id = ?1 AND diagnosed_at IS NULL")?
        .execute(params![ticket_id, now])?
        == 1)
}

/// The researcher heard from us with news (the periodic status mail counts from here).
pub fn set_last_update(conn: &Connection, ticket_id: i64, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE tickets SET last_update_at = max(coalesce(last_update_at, 0), ?2) WHERE id = ?1")?
        .execute(params![ticket_id, now])?;
    Ok(())
}

/// A status enquiry was answered with the status (the throttle counts from here).
pub fn set_last_enquiry(conn: &Connection, ticket_id: i64, now: i64) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE tickets SET last_enquiry_at = ?2 WHERE id = ?1")?.execute(params![ticket_id, now])?;
    Ok(())
}

/// The researcher's own answer about public credit.
pub fn set_credit_consent(conn: &Connection, ticket_id: i64, consent: &CreditConsent) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE tickets SET credit_consent = ?2 WHERE id = ?1")?
        .execute(params![ticket_id, consent.stored()])?;
    Ok(())
}

/// Starts waiting on the researcher, unless already waiting. Returns whether a wait began.
pub fn start_wait(conn: &Connection, ticket_id: i64, now: i64, reason: WaitReason) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "INSERT INTO ticket_waits (ticket_id, started_at, reason)
         SELECT ?1, ?2, ?3 WHERE NOT EXISTS (SELECT 1 FROM ticket_waits WHERE ticket_id = ?1 AND ended_at IS NULL)",
        )?
        .execute(params![ticket_id, now, reason.as_str()])?
        == 1)
}

/// Ends the open wait, if any. Returns its reason.
pub fn end_wait(conn: &Connection, ticket_id: i64, now: i64) -> Result<Option<WaitReason>, StoreError> {
    Ok(conn
        .prepare_cached("UPDATE ticket_waits SET ended_at = max(started_at, ?2) WHERE ticket_id = ?1 AND ended_at IS NULL RETURNING reason")?
        .query_row(params![ticket_id, now], |r| column(r, "ticket_waits.reason"))
        .optional()?)
}

/// The times a ticket waited on the researcher: (from, until), oldest first; `None` while still waiting.
pub fn waits(conn: &Connection, ticket_id: i64) -> Result<Vec<(i64, Option<i64>)>, StoreError> {
    let mut stmt = conn
        .prepare_cached("SELECT started_at, ended_at FROM ticket_waits WHERE ticket_id = ?1 ORDER BY started_at, id")?;
    let rows = stmt.query_map([ticket_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The Message-IDs to thread an answer to the researcher under: their latest message, and the first message
/// of the ticket.
pub fn thread_anchor(conn: &Connection, ticket_id: i64) -> Result<(Option<String>, Option<String>), StoreError> {
    let first: Option<String> = conn
        .prepare_cached(
            "SELECT message_id FROM messages WHERE ticket_id = ?1 AND message_id != '' ORDER BY id LIMIT 1",
        )?
        .query_row([ticket_id], |r| r.get(0))
        .optional()?;
    let last_in: Option<String> = conn
        .prepare_cached(
            "SELECT message_id FROM messages WHERE ticket_id = ?1 AND direction = 'in' AND kind IN ('report', 'reply')
             AND message_id != '' ORDER BY id DESC LIMIT 1",
        )?
        .query_row([ticket_id], |r| r.get(0))
        .optional()?;
    Ok((last_in, first))
}

/// An attachment of a ticket.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AttachmentRow {
    pub id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sha256: String,
    /// False once retention purged the bytes.
    pub kept: bool,
    pub created_at: i64,
}

pub fn insert_attachment(
    conn: &Connection,
    ticket_id: i64,
    message_row: i64,
    name: &str,
    content_type: &str,
    data: &[u8],
    now: i64,
) -> Result<i64, StoreError> {
    // The bytes are streamed into a zero-filled blob of their size: binding them would make SQLite copy
    // them twice (its own copy of the value, then the record it builds), and one hostile mail's files at
    // the decryption cap must not cost three times the cap.
    conn.prepare_cached(
        "INSERT INTO attachments (ticket_id, message_row, name, content_type, size, sha256, created_at, data)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, zeroblob(?8))",
    )?
    .execute(params![
        ticket_id,
        message_row,
        name,
        content_type,
        data.len() as i64,
        crate::classify::sha256_hex(data),
        now,
        data.len() as i64
    ])?;
    let id = conn.last_insert_rowid();
    if !data.is_empty() {
        let mut blob = conn.blob_open(rusqlite::MAIN_DB, "attachments", "data", id, false)?;
        for (i, chunk) in data.chunks(1 << 20).enumerate() {
            blob.write_at(chunk, i << 20)?;
        }
    }
    Ok(id)
}

const ATTACHMENT_COLUMNS: &str = "id, name, content_type, size, sha256, data IS NOT NULL AS kept, created_at";

fn attachment_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<AttachmentRow> {
    Ok(AttachmentRow {
        id: r.get("id")?,
        name: r.get("name")?,
        content_type: r.get("content_type")?,
        size: r.get("size")?,
        sha256: r.get("sha256")?,
        kept: r.get("kept")?,
        created_at: r.get("created_at")?,
    })
}

pub fn attachments(conn: &Connection, ticket_id: i64) -> Result<Vec<AttachmentRow>, StoreError> {
    let mut stmt =
        conn.prepare(&format!("SELECT {ATTACHMENT_COLUMNS} FROM attachments WHERE ticket_id = ?1 ORDER BY id"))?;
    let rows = stmt.query_map([ticket_id], attachment_row)?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// The bytes of one attachment of a ticket (`None` if there is no such attachment or it was purged).
pub fn attachment_data(conn: &Connection, ticket_id: i64, id: i64) -> Result<Option<(String, Vec<u8>)>, StoreError> {
    Ok(conn
        .prepare_cached("SELECT name, data FROM attachments WHERE ticket_id = ?1 AND id = ?2 AND data IS NOT NULL")?
        .query_row(params![ticket_id, id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The attachments of one message, with their bytes when kept (for staff notifications).
pub type AttachmentWithData = (AttachmentRow, Option<Vec<u8>>);

pub fn message_attachments(conn: &Connection, message_row: i64) -> Result<Vec<AttachmentWithData>, StoreError> {
    let mut stmt = conn
        .prepare(&format!("SELECT {ATTACHMENT_COLUMNS}, data FROM attachments WHERE message_row = ?1 ORDER BY id"))?;
    let rows =
        stmt.query_map([message_row], |r| Ok((attachment_row(r)?, r.get(7)?)))?.collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// A ticket `EX-2026-<i>` received at `at` (the store's tests).
#[cfg(test)]
pub(crate) fn insert_example(conn: &Connection, i: i64, at: i64) -> Result<i64, StoreError> {
    let reference = format!("EX-2026-{i:04}");
    insert_ticket(
        conn,
        &NewTicket { reference: &reference, subject: "", reporter: "r@research.test", created_at: at, received_at: at },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    /// The duplicate hint's two statements read their candidates from the weakness index (schema 22), in id
    /// order, without a seek into the tickets table for an open ticket; and they find what they should.
    #[test]
    fn the_duplicate_hint_reads_the_weakness_index() {
        let store = Store::open_in_memory().unwrap();
        let conn = store.conn();
        let root: i64 =
            conn.query_row("SELECT rootpage FROM sqlite_schema WHERE name = 'tickets'", [], |r| r.get(0)).unwrap();
        for sql in [SAME_WEAKNESS_SQL, SAME_WEAKNESS_ASSETS_SQL, SAME_WEAKNESS_ON_SQL] {
            let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
            let nulls = rusqlite::params_from_iter(std::iter::repeat_n(rusqlite::types::Null, stmt.parameter_count()));
            let plan: Vec<String> =
                stmt.query_map(nulls, |r| r.get::<_, String>(3)).unwrap().map(Result::unwrap).collect();
            assert!(plan.iter().any(|d| d == "SEARCH tickets USING INDEX tickets_weakness (weakness=?)"), "{plan:?}");
            assert!(!plan.iter().any(|d| d.starts_with("SCAN tickets")), "{plan:?}");
            // The program reads from the table's own cursor only the three end times of a closed ticket.
            let mut stmt = conn.prepare(&format!("EXPLAIN {sql}")).unwrap();
            let nulls = rusqlite::params_from_iter(std::iter::repeat_n(rusqlite::types::Null, stmt.parameter_count()));
            let program: Vec<(String, i64, i64)> =
                stmt.query_map(nulls, |r| Ok((r.get(1)?, r.get(2)?, r.get(3)?))).unwrap().map(Result::unwrap).collect();
            let table =
                program.iter().find(|(op, _, p2)| op == "OpenRead" && *p2 == root).map(|(_, cursor, _)| *cursor);
            let from_table = program.iter().filter(|(op, cursor, _)| op == "Column" && Some(*cursor) == table).count();
            assert_eq!(from_table, 3, "{sql}: {program:?}");
        }

        let tickets = [("a", "new"), ("b", "triage"), ("a", "closed"), ("a", "resolved"), ("b", "new"), ("a", "new")];
        for (i, (asset, state)) in tickets.iter().enumerate() {
            let id = insert_example(conn, i as i64, 10).unwrap();
            conn.execute(
                "UPDATE tickets SET weakness = 'CWE-79', asset = ?2, state = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, asset, state, 10 + i as i64],
            )
            .unwrap();
        }
        // Not the ticket itself, nor the one closed before `since`; by asset, in the order of the first.
        let assets = same_weakness_assets(conn, "CWE-79", 1, 13).unwrap();
        assert_eq!(assets, [("b".to_string(), 2), ("a".to_string(), 2)]);
        let shown = |assets: &[&str], limit| -> Vec<String> {
            same_weakness_on(conn, "CWE-79", 1, 13, assets, limit)
                .unwrap()
                .into_iter()
                .map(|(r, s, _)| format!("{r} {s}"))
                .collect()
        };
        assert_eq!(shown(&["a"], 10), ["EX-2026-0003 resolved", "EX-2026-0005 new"]);
        assert_eq!(shown(&["a", "b"], 3), ["EX-2026-0001 triage", "EX-2026-0003 resolved", "EX-2026-0004 new"]);
        assert!(shown(&["c"], 10).is_empty() && shown(&[], 10).is_empty());
        assert!(same_weakness_assets(conn, "CWE-89", 1, 0).unwrap().is_empty());
    }
}

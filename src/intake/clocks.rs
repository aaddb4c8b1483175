//! A ticket's clocks against the store: its facts in, its timers out.
//!
//! Called after every change to a ticket (a new report, a researcher's mail, staff commands, a timer that
//! fired): the engine derives the clocks and the timers they need, and the store makes the ticket's pending
//! timers exactly those, in the caller's transaction.

use rusqlite::Connection;

use crate::config::{Config, Severity};
use crate::engine::clocks::{self, Clock, Facts};
use crate::store::{self, StoreError, tickets::TicketRow};

/// The facts of a stored ticket that its clocks depend on.
pub fn facts(conn: &Connection, t: &TicketRow) -> Result<Facts, StoreError> {
    // Only a ticket known to be exploited has filings that matter (one lookup less for every other).
    let filings = match t.exploited_at.or(t.incident_at) {
        Some(_) => store::tickets::cra_filings(conn, t.id)?,
        None => Vec::new(),
    };
    Ok(facts_with(t, store::tickets::waits(conn, t.id)?, &filings))
}

/// The facts of a ticket whose waits and CRA filings were read already (statistics read them all at once).
pub fn facts_with(t: &TicketRow, waits: Vec<(i64, Option<i64>)>, filings: &[store::tickets::CraFiling]) -> Facts {
    Facts {
        state: t.state,
        received_at: t.received_at,
        acknowledged_at: t.acknowledged_at,
        diagnosed_at: t.diagnosed_at,
        severity: Severity::parse(&t.severity),
        disclose_on: t.disclose_on.parse().ok(),
        resolved_at: t.resolved_at,
        closed_at: t.closed_at,
        outcome: t.outcome,
        waits,
        last_update_at: t.last_update_at,
        purged: t.purged_at.is_some(),
        erased: t.erased_at.is_some(),
        exploited_at: t.exploited_at,
        mitigated_at: t.mitigated_at,
        cra_filed: filings.iter().map(|f| (f.stage, f.filed_at)).collect(),
        incident_at: t.incident_at,
    }
}

/// The ticket's clocks now.
pub fn compute(conn: &Connection, config: &Config, t: &TicketRow) -> Result<(Facts, Vec<Clock>), StoreError> {
    let f = facts(conn, t)?;
    let c = clocks::compute(&f, &clocks::TimerPolicy::of(config));
    Ok((f, c))
}

/// Plans the ticket's timers from its current facts.
pub fn sync(conn: &Connection, config: &Config, ticket_id: i64, now: i64) -> Result<(), StoreError> {
    let Some(t) = store::tickets::ticket_by_id(conn, ticket_id)? else { return Ok(()) };
    let (f, c) = compute(conn, config, &t)?;
    let desired: Vec<(String, i64)> = clocks::timers(&f, &c, &clocks::TimerPolicy::of(config))
        .into_iter()
        .map(|(k, due)| (k.to_string(), due))
        .collect();
    store::timers::sync(conn, ticket_id, &desired, now)
}

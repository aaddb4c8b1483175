//! Firing due clocks.
//!
//! Timers are rows in the store (one per ticket and kind). Firing one marks it fired in the same transaction
//! as its effects, so a timer fires once however often the process restarts. `vdpd run` sleeps until the
//! next due time; `vdpd once --now T` fires whatever is due at T.

use crate::engine::timer;
use crate::intake::Env;
use crate::store::{Store, StoreError, tickets, timers};

/// What firing did, for logs and `once`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FireReport {
    pub fired: usize,
}

/// Fires every timer due at `now`.
pub fn fire_due(store: &mut Store, env: &Env, now: i64) -> Result<FireReport, StoreError> {
    let mut report = FireReport::default();
    loop {
        let due = timers::due(store.conn(), now, 100)?;
        if due.is_empty() {
            return Ok(report);
        }
        for t in due {
            let fired = store.write(|tx| {
                if !timers::mark_fired(tx, t.id, now)? {
                    return Ok::<_, StoreError>(false);
                }
                fire(tx, env, &t, now)?;
                Ok(true)
            })?;
            if fired {
                report.fired += 1;
            }
        }
    }
}

fn fire(tx: &rusqlite::Transaction<'_>, env: &Env, t: &timers::TimerRow, now: i64) -> Result<(), StoreError> {
    let Some(ticket) = tickets::ticket_by_id(tx, t.ticket_id)? else {
        return Ok(());
    };
    match t.kind.as_str() {
        timer::ACKNOWLEDGE => {
            if ticket.acknowledged_at.is_none() {
                let promise = env.config.sla.acknowledge;
                let detail = format!("no acknowledgement accepted by SMTP within the promised {promise}");
                tickets::add_timeline(tx, ticket.id, now, "vdpd", "acknowledgement promise missed", &detail)?;
                tracing::error!(ticket = %ticket.reference, "{detail}; check `vdpd status` and the SMTP server");
            }
        }
        other => tracing::warn!(ticket = %ticket.reference, kind = other, "unknown timer kind ignored"),
    }
    Ok(())
}

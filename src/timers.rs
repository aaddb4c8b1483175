//! Firing due clocks.
//!
//! Timers are rows in the store, planned from each ticket's clocks (see `engine::clocks`). Firing one marks
//! it fired in the same transaction as its effects (the reminder, the escalation, the status mail, the
//! purge), so a timer fires once however often the process restarts. `vdpd run` sleeps until the next due
//! time; `vdpd once --now T` fires whatever is due at T.

use crate::intake::{Env, HandleError, timed};
use crate::store::{Store, StoreError, tickets, timers};

/// What firing did, for logs and `once`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FireReport {
    pub fired: usize,
    /// Timers whose effects failed (a template error): marked fired with the error on the ticket's timeline,
    /// so one bad template does not block every later timer.
    pub failed: usize,
}

/// Fires every timer due at `now`, oldest first.
pub fn fire_due(store: &mut Store, env: &Env, now: i64) -> Result<FireReport, StoreError> {
    let mut report = FireReport::default();
    loop {
        let due = timers::due(store.conn(), now, 100)?;
        if due.is_empty() {
            return Ok(report);
        }
        for t in due {
            let result = store.write(|tx| {
                if !timers::mark_fired(tx, t.id, now)? {
                    return Ok::<_, HandleError>(false);
                }
                timed::fire(tx, env, t.ticket_id, &t.kind, now)?;
                Ok(true)
            });
            match result {
                Ok(true) => report.fired += 1,
                Ok(false) => {}
                Err(HandleError::Store(e)) => return Err(e),
                Err(HandleError::Render(e)) => {
                    tracing::error!(timer = %t.kind, ticket_id = t.ticket_id, "timer failed: {e}");
                    let detail = format!("{}: {e}", t.kind);
                    store.write(|tx| {
                        if timers::mark_fired(tx, t.id, now)? {
                            tickets::add_timeline(tx, t.ticket_id, now, "vdpd", "timer failed", &detail)?;
                        }
                        Ok::<_, StoreError>(())
                    })?;
                    report.failed += 1;
                }
            }
        }
    }
}

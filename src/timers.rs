//! Firing due clocks.
//!
//! Timers are rows in the store, planned from each ticket's clocks (see `engine::clocks`). Firing one marks
//! it fired in the same transaction as its effects (the reminder, the escalation, the status mail, the
//! purge), so a timer fires once however often the process restarts. `vdpd run` sleeps until the next due
//! time; `vdpd once --now T` fires whatever is due at T.

use crate::intake::{Env, HandleError, timed};
use crate::store::{Store, StoreError, health, tickets, timers};
use crate::timeline::{BY_VDPD, Event};

/// What firing did, for logs and `once`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FireReport {
    pub fired: usize,
    /// Timers whose effects failed (an error that is not the store's: a mail that could not be drafted):
    /// marked fired with the error on the ticket's timeline, so one bad timer does not block every later one.
    /// (A template that fails does so when its mail is rendered after the commit, and fails that mail.)
    pub failed: usize,
    /// Digests of the slow lane queued (one at most).
    pub digests: usize,
}

/// Fires every timer due at `now`, oldest first.
pub fn fire_due(store: &mut Store, env: &Env, now: i64) -> Result<FireReport, StoreError> {
    let mut report = FireReport::default();
    // Mail that became no ticket keeps its raw bytes only for `retention.unticketed_mail`.
    let before = env.config.calendar.sub(now, env.config.retention.unticketed_mail);
    let purged = store.write(|tx| crate::store::retention::purge_unticketed_raw(tx, before, 1000, now))?;
    if purged > 0 {
        tracing::info!(
            messages = purged,
            "raw bytes of {purged} mails that became no ticket purged (retention.unticketed_mail)"
        );
    }
    // The slow lane's digest, once a day at most (its failure is the digest's, not the timers').
    match store.write(|tx| crate::intake::digest_if_due(tx, env, now)) {
        Ok(true) => report.digests += 1,
        Ok(false) => {}
        Err(HandleError::Store(e)) => return Err(e),
        Err(e) => tracing::error!("the slow lane's digest failed: {e}"),
    }
    loop {
        let due = timers::due(store.conn(), now, 100)?;
        if due.is_empty() {
            // A purge among them left the deleted content in the WAL: truncate it now.
            store.scrub_if_pending()?;
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
                Err(e @ (HandleError::Render(_) | HandleError::Misplanned { .. })) => {
                    tracing::error!(kind = %t.kind, ticket_id = t.ticket_id, "timer {} of ticket {} failed: {e}", t.kind, t.ticket_id);
                    let detail = format!("{}: {e}", t.kind);
                    store.write(|tx| {
                        if timers::mark_fired(tx, t.id, now)? {
                            tickets::add_timeline(tx, t.ticket_id, now, BY_VDPD, Event::TimerFailed, &detail)?;
                        }
                        Ok::<_, StoreError>(())
                    })?;
                    report.failed += 1;
                }
            }
        }
    }
}

/// Re-plans the timers of every live ticket if the policy's promises changed since they were planned (or the
/// store comes from a version that planned fewer of them). Returns how many tickets were re-planned.
pub fn replan_if_policy_changed(store: &mut Store, env: &Env, now: i64) -> Result<usize, StoreError> {
    let fingerprint = crate::engine::clocks::TimerPolicy::of(&env.config).fingerprint();
    if health::value(store.conn(), health::Key::TimersPlannedWith)?.as_deref() == Some(fingerprint.as_str()) {
        return Ok(0);
    }
    let ids = tickets::live_ids(store.conn())?;
    for chunk in ids.chunks(500) {
        store.write(|tx| {
            for id in chunk {
                crate::intake::clocks::sync(tx, &env.config, *id, now)?;
            }
            Ok::<_, StoreError>(())
        })?;
    }
    store.write(|tx| health::set(tx, health::Key::TimersPlannedWith, &fingerprint, now))?;
    if !ids.is_empty() {
        tracing::info!(
            tickets = ids.len(),
            "the policy's promises changed: timers of {} tickets re-planned",
            ids.len()
        );
    }
    Ok(ids.len())
}

//! `vdpd purge`: retention, on demand. The daemon purges by itself when a ticket's retention timer comes due;
//! this shows what is due (`--dry-run`) or does it now, for cron-driven deployments and for admins who want
//! to see before it happens.

use std::process::ExitCode;
use std::time::Duration;

use serde::Serialize;

use crate::clock::format_ms;
use crate::daemon::Runtime;
use crate::engine::clocks::TimerKind;
use crate::intake::{HandleError, timed};
use crate::outbox;
use crate::store::{StoreError, retention, tickets, timers};

#[derive(Serialize)]
struct PurgeJson {
    reference: String,
    ended_at: Option<String>,
    due_at: String,
    /// What goes (or went).
    content: retention::Purge,
    purged: bool,
    #[serde(skip)]
    ended_ms: Option<i64>,
    #[serde(skip)]
    due_ms: i64,
}

pub fn run(
    tokio: &tokio::runtime::Runtime,
    rt: Runtime,
    dry_run: bool,
    deliver: bool,
    json: bool,
) -> anyhow::Result<ExitCode> {
    let env = rt.env.clone();
    let now = rt.clock.now_ms();
    let rows = tokio.block_on(rt.db.call(move |s| -> Result<Vec<PurgeJson>, StoreError> {
        let mut out = Vec::new();
        for (timer, reference) in timers::due_of_kind(s.conn(), &TimerKind::Retention.to_string(), now)? {
            let Some(t) = tickets::ticket_by_id(s.conn(), timer.ticket_id)? else { continue };
            let content = retention::preview(s.conn(), t.id)?;
            let mut purged = false;
            if !dry_run {
                let result = s.write(|tx| {
                    if timers::mark_fired(tx, timer.id, now)? {
                        timed::fire(tx, &env, t.id, &TimerKind::Retention.to_string(), now)?;
                        return Ok(true);
                    }
                    Ok::<_, HandleError>(false)
                });
                purged = match result {
                    Ok(done) => done,
                    Err(HandleError::Store(e)) => return Err(e),
                    Err(e @ (HandleError::Render(_) | HandleError::Misplanned { .. })) => {
                        tracing::error!(ticket = %reference, "{reference}: purge not done: {e}");
                        false
                    }
                };
            }
            out.push(PurgeJson {
                reference,
                ended_at: t.resolved_at.or(t.closed_at).map(format_ms),
                due_at: format_ms(timer.due_at),
                content,
                purged,
                ended_ms: t.resolved_at.or(t.closed_at),
                due_ms: timer.due_at,
            });
        }
        if !dry_run {
            s.durable_barrier(now)?;
        }
        Ok(out)
    }))?;
    if deliver && rows.iter().any(|r| r.purged) {
        if let Err(e) = tokio.block_on(crate::seal::seal_pending(&rt.db, &rt.env, &rt.clock, None)) {
            tracing::warn!("the receipts stay queued for the daemon: {e}");
        }
        let d = tokio.block_on(outbox::deliver_due(
            &rt.db,
            &rt.mailer,
            &rt.clock,
            rt.env.config.store.path.clone(),
            Duration::from_secs(10),
            None,
        ));
        if let Err(e) = d {
            tracing::warn!("the receipts stay queued for the daemon: {e}");
        }
    }
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("nothing is due for purging");
        return Ok(ExitCode::SUCCESS);
    }
    let verb = if dry_run { "would delete" } else { "deleted" };
    let cal = &rt.env.config.calendar;
    for r in &rows {
        let c = &r.content;
        println!(
            "{}  ended {}, due {}: {verb} {} message text(s), {} file(s) ({} bytes), {} form answer(s), {} raw mail(s){}",
            r.reference,
            r.ended_ms.map_or("?".to_string(), |t| cal.show_date(t)),
            cal.show(r.due_ms),
            c.messages,
            c.attachments,
            c.attachment_bytes,
            c.form_sections,
            c.raw_mails,
            if !dry_run && !r.purged { " (NOT done: see the log)" } else { "" },
        );
    }
    if dry_run {
        println!("(dry run: nothing was deleted; run `vdpd purge` to delete, each researcher gets a receipt)");
    }
    Ok(ExitCode::SUCCESS)
}

//! `vdpd mail list|show|retry`: the intake journal — every message taken in and what became of it.

use std::io::Write;
use std::process::ExitCode;

use super::{Exit, when};
use crate::clock::format_ms;
use crate::daemon::Runtime;
use crate::intake::{self, IncomingMail, Source};
use crate::store::{IntakeStatus, Store, intake as intake_sql};

pub fn list(store: &Store, status: Option<&str>, limit: usize, json: bool) -> anyhow::Result<ExitCode> {
    let status = match status {
        Some(s) => Some(s.parse::<IntakeStatus>().map_err(|message| Exit { code: 2, message })?),
        None => None,
    };
    let rows = intake_sql::list(store.conn(), status, limit)?;
    if json {
        let out: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                v["fetched_at"] = serde_json::Value::String(format_ms(r.fetched_at));
                v
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no messages");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{:>7} {:<19} {:<14} {:<32} {:<40} REASON", "ID", "TAKEN IN", "OUTCOME", "FROM", "SUBJECT");
    for r in &rows {
        println!(
            "{:>7} {:<19} {:<14} {:<32} {:<40} {}",
            r.id,
            when(r.fetched_at),
            r.status,
            clip(&crate::mailtext::for_terminal_line(&r.from_addr), 32),
            clip(&crate::mailtext::for_terminal_line(&r.subject), 40),
            crate::mailtext::for_terminal_line(&r.reason)
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub fn show(store: &Store, id: i64, raw: bool) -> anyhow::Result<ExitCode> {
    let Some((row, bytes)) = intake_sql::get(store.conn(), id)? else {
        return Err(Exit { code: 1, message: format!("no message #{id}") }.into());
    };
    if raw {
        match bytes {
            Some(b) => std::io::stdout().write_all(&b)?,
            None => {
                return Err(Exit { code: 1, message: format!("the bytes of message #{id} are no longer kept") }.into());
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    println!("message #{}", row.id);
    println!("  taken in:    {} from {}", when(row.fetched_at), row.intake_key);
    println!("  size:        {} bytes{}", row.size, if row.truncated { " (only the header kept)" } else { "" });
    println!("  outcome:     {}", row.status);
    if !row.reason.is_empty() {
        println!("  reason:      {}", crate::mailtext::for_terminal_line(&row.reason));
    }
    println!("  attempts:    {}", row.attempts);
    println!("  from:        {}", crate::mailtext::for_terminal_line(&row.from_addr));
    println!("  subject:     {}", crate::mailtext::for_terminal_line(&row.subject));
    println!("  message-id:  {}", crate::mailtext::for_terminal_line(row.message_id.as_deref().unwrap_or("-")));
    if let Some(t) = row.ticket_id
        && let Some(ticket) = crate::store::tickets::ticket_by_id(store.conn(), t)?
    {
        println!("  ticket:      {}", ticket.reference);
    }
    Ok(ExitCode::SUCCESS)
}

pub fn retry(tokio: &tokio::runtime::Runtime, rt: Runtime, id: i64) -> anyhow::Result<ExitCode> {
    let env = rt.env.clone();
    let now = rt.clock.now_ms();
    let outcome = tokio.block_on(rt.db.call(move |s| -> anyhow::Result<Option<intake::Processed>> {
        let Some((row, Some(raw))) = intake_sql::get(s.conn(), id)? else {
            return Ok(None);
        };
        // Quarantined mail, or a new report the caps on new tickets held back (an admin's retry admits it).
        if !s.write(|tx| intake_sql::requeue(tx, id))? {
            let what = if row.status == "dropped" { format!("dropped ({})", row.reason) } else { row.status.clone() };
            return Err(Exit {
                code: 1,
                message: format!(
                    "message #{id} is {what}: only quarantined mail and reports held back by the caps on new tickets \
                     (rate limit, flood) can be retried"
                ),
            }
            .into());
        }
        let source = match (row.mailbox, row.uidvalidity, row.uid) {
            (Some(mailbox), Some(v), Some(uid)) => {
                Source::Imap { mailbox, uidvalidity: u32::try_from(v)?, uid: u32::try_from(uid)? }
            }
            _ => Source::Ingest,
        };
        let mail =
            IncomingMail { source, raw, size: usize::try_from(row.size)?, truncated: row.truncated, admitted: true };
        let processed = intake::process(s, &env, &mail, now)?;
        s.durable_barrier(now)?;
        Ok(Some(processed))
    }))?;
    match outcome {
        Some(p) => {
            let what = p.reference.map(|r| format!(" {r}")).unwrap_or_default();
            let why = if p.reason.is_empty() { String::new() } else { format!(": {}", p.reason) };
            println!("message #{id}: {}{what}{why}", p.status);
            println!("(run `vdpd once` or let the daemon deliver any mail this queued)");
            Ok(ExitCode::SUCCESS)
        }
        None => Err(Exit { code: 1, message: format!("no message #{id} with its bytes kept") }.into()),
    }
}

fn clip(s: &str, n: usize) -> String {
    if s.chars().count() <= n { s.to_string() } else { s.chars().take(n - 1).chain(['…']).collect() }
}

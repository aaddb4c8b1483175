//! `vdpd status`: is the daemon running, is mail coming in and going out, is anything stuck.

use crate::store::health::Key as HealthKey;
use std::path::Path;
use std::process::ExitCode;

use serde::Serialize;

use super::{ago, load_config, when};
use crate::clock::format_ms;
use crate::lock;
use crate::store::{health, intake, outbox, tickets, timers};

#[derive(Debug, Serialize)]
struct OAuth2Json {
    state: Option<String>,
    failing_since: Option<String>,
}

#[derive(Debug, Serialize)]
struct NextTimerJson {
    kind: String,
    reference: String,
    due_at: String,
}

#[derive(Debug, Serialize)]
struct StatusJson {
    daemon: DaemonJson,
    store: StoreJson,
    imap: ImapJson,
    smtp: SmtpJson,
    outbox: OutboxJson,
    intake: std::collections::BTreeMap<String, i64>,
    tickets: std::collections::BTreeMap<String, i64>,
    timers_fired: std::collections::BTreeMap<String, i64>,
    /// Promises of the policy broken so far (each one escalated once).
    promises_broken: i64,
    /// The next timer to fire.
    next_timer: Option<NextTimerJson>,
    /// With `auth = "xoauth2"`: the token's state ("ok: …" or "failing: …") and since when it fails.
    #[serde(skip_serializing_if = "Option::is_none")]
    oauth2: Option<OAuth2Json>,
    /// Warnings staff got (or, past the daily cap, did not get): forged staff mail, quarantined mail.
    staff_warnings: std::collections::BTreeMap<String, i64>,
    /// With `[security_txt] path`: the kept file's state ("ok, valid until …" or "failing: …").
    #[serde(skip_serializing_if = "Option::is_none")]
    security_txt: Option<String>,
}

/// The store's file and the room left for it: a full disk stops every write, including the daemon's record
/// of why, so `vdpd status` looks at the file system itself.
#[derive(Debug, Serialize)]
struct StoreJson {
    path: String,
    /// The database file and its write-ahead log.
    bytes: u64,
    /// What can still be written on its file system (None: it could not be read).
    free_bytes: Option<u64>,
    /// Less than [`FULL_BELOW`] free: SQLite cannot grow the log by a transaction's pages.
    full: bool,
}

/// Below this much free space the store is as good as full: one group of reports commits a few hundred KiB
/// to the write-ahead log.
const FULL_BELOW: u64 = 1 << 20;

#[derive(Debug, Serialize)]
struct DaemonJson {
    running: bool,
    pid: Option<String>,
    started_at: Option<String>,
    stopped_at: Option<String>,
}

#[derive(Debug, Serialize)]
struct ImapJson {
    configured: bool,
    state: Option<String>,
    state_since: Option<String>,
    last_fetch_ok: Option<String>,
    last_error: Option<String>,
    /// A standing refusal only the admin can fix.
    config_error: Option<String>,
}

#[derive(Debug, Serialize)]
struct SmtpJson {
    state: Option<String>,
    last_ok: Option<String>,
}

#[derive(Debug, Serialize)]
struct OutboxJson {
    queued: i64,
    sending: i64,
    sent: i64,
    failed: i64,
    oldest_undelivered_at: Option<String>,
    recent_failures: Vec<FailureJson>,
}

#[derive(Debug, Serialize)]
struct FailureJson {
    outbox_id: i64,
    reference: String,
    recipient: String,
    error: String,
}

pub fn run(config_path: &Path, json: bool) -> anyhow::Result<ExitCode> {
    let config = load_config(config_path)?;
    let store = super::open_existing_store(&config)?;
    let conn = store.conn();
    let h = health::read(conn)?;
    let now = jiff::Timestamp::now().as_millisecond();
    let ms = |key: HealthKey| h.get(key).and_then(|(v, _)| v.parse::<i64>().ok());

    let holder = lock::holder(&lock::path_beside(&config.store.path, ".lock"))?;
    let (running, pid) = (holder.is_some(), holder);
    let ob = outbox::counts(conn)?;
    let failures = outbox::recent_failures(conn, 5)?;
    let intake_counts: std::collections::BTreeMap<String, i64> = intake::counts(conn)?.into_iter().collect();
    let ticket_counts: std::collections::BTreeMap<String, i64> = tickets::ticket_counts(conn)?.into_iter().collect();
    let fired: std::collections::BTreeMap<String, i64> = timers::fired_counts(conn)?.into_iter().collect();
    let warnings: std::collections::BTreeMap<String, i64> =
        crate::store::staff::warning_counts(conn)?.into_iter().collect();

    let path = &config.store.path;
    let size = |p: &Path| std::fs::metadata(p).map_or(0, |m| m.len());
    let free_bytes = crate::fsx::free_space(path).ok();
    let out = StatusJson {
        daemon: DaemonJson {
            running,
            pid,
            started_at: ms(HealthKey::DaemonStartedAt).map(format_ms),
            stopped_at: ms(HealthKey::DaemonStoppedAt).map(format_ms),
        },
        store: StoreJson {
            path: path.display().to_string(),
            bytes: size(path) + size(&crate::lock::path_beside(path, "-wal")),
            free_bytes,
            full: free_bytes.is_some_and(|f| f < FULL_BELOW),
        },
        imap: ImapJson {
            configured: config.imap.is_some(),
            state: h.get(HealthKey::ImapState).map(|(v, _)| v.to_string()),
            state_since: h.get(HealthKey::ImapState).map(|(_, at)| format_ms(at)),
            last_fetch_ok: ms(HealthKey::ImapLastFetchOk).map(format_ms),
            last_error: h.get(HealthKey::ImapLastError).map(|(v, at)| format!("{v} (at {})", format_ms(at))),
            config_error: h.get(HealthKey::ImapConfigError).filter(|(v, _)| !v.is_empty()).map(|(v, _)| v.to_string()),
        },
        smtp: SmtpJson {
            state: h.get(HealthKey::SmtpState).map(|(v, _)| v.to_string()),
            last_ok: ms(HealthKey::SmtpLastOk).map(format_ms),
        },
        outbox: OutboxJson {
            queued: ob.queued,
            sending: ob.sending,
            sent: ob.sent,
            failed: ob.failed,
            oldest_undelivered_at: ob.oldest_undelivered_at.map(format_ms),
            recent_failures: failures
                .into_iter()
                .map(|(outbox_id, reference, recipient, error)| FailureJson { outbox_id, reference, recipient, error })
                .collect(),
        },
        intake: intake_counts,
        tickets: ticket_counts,
        timers_fired: fired,
        promises_broken: tickets::count_events(conn, tickets::Event::PromiseBroken)?,
        oauth2: config.oauth2.as_ref().map(|_| OAuth2Json {
            state: h.get(HealthKey::OAuth2State).map(|(v, _)| v.to_string()),
            failing_since: ms(HealthKey::OAuth2FailingSince).map(format_ms),
        }),
        next_timer: timers::next_pending(conn)?.map(|(due, kind, reference)| NextTimerJson {
            kind,
            reference,
            due_at: format_ms(due),
        }),
        staff_warnings: warnings,
        security_txt: config.security_txt.path.as_ref().map(|_| {
            h.get(HealthKey::SecurityTxtState)
                .map_or("not checked yet".to_string(), |(v, at)| format!("{v} (checked {})", format_ms(at)))
        }),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }

    let daemon = if running {
        let since = ms(HealthKey::DaemonStartedAt)
            .map(|t| format!(", since {} ({})", when(t), ago(t, now)))
            .unwrap_or_default();
        format!("running (pid {}{since})", out.daemon.pid.as_deref().unwrap_or("?"))
    } else {
        match ms(HealthKey::DaemonStoppedAt) {
            Some(t) => format!("not running (stopped {} ({}))", when(t), ago(t, now)),
            None if ms(HealthKey::DaemonStartedAt).is_some() => "not running (it did not stop cleanly)".into(),
            None => "not running (never started on this store)".into(),
        }
    };
    println!("daemon:   {daemon}");
    if config.imap.is_some() {
        let state = h
            .get(HealthKey::ImapState)
            .map(|(v, at)| format!("{v} (since {})", ago(at, now)))
            .unwrap_or("unknown".into());
        let fetch =
            ms(HealthKey::ImapLastFetchOk).map(|t| format!("{} ({})", when(t), ago(t, now))).unwrap_or("never".into());
        println!("imap:     {state}; last successful fetch: {fetch}");
        match h.get(HealthKey::ImapConfigError).filter(|(v, _)| !v.is_empty()) {
            Some((e, at)) => println!(
                "          CONFIGURATION ERROR since {}: {e}\n          fix the policy or the mail account, then `systemctl reload vdpd`",
                ago(at, now)
            ),
            None => {
                if let Some((e, at)) = h.get(HealthKey::ImapLastError) {
                    println!("          last error {}: {e}", ago(at, now));
                }
            }
        }
    } else {
        println!("imap:     not configured (mail arrives through `vdpd ingest`)");
    }
    if let Some(s) = &out.security_txt {
        println!("security.txt: {s}");
    }
    if let Some(o) = &out.oauth2 {
        let since = o.failing_since.as_deref().map(|t| format!(" (since {t})")).unwrap_or_default();
        println!("oauth2:   {}{since}", o.state.as_deref().unwrap_or("no token yet"));
    }
    let smtp_last =
        ms(HealthKey::SmtpLastOk).map(|t| format!("{} ({})", when(t), ago(t, now))).unwrap_or("never".into());
    println!(
        "smtp:     {}; last delivery: {smtp_last}",
        h.get(HealthKey::SmtpState).map(|(v, _)| v).unwrap_or("unknown")
    );
    let oldest = ob
        .oldest_undelivered_at
        .map(|t| format!("; oldest undelivered: {} ({})", when(t), ago(t, now)))
        .unwrap_or_default();
    println!("outbox:   {} queued, {} sending, {} sent, {} failed{oldest}", ob.queued, ob.sending, ob.sent, ob.failed);
    for f in &out.outbox.recent_failures {
        println!(
            "          failed #{} {} to {}: {}",
            f.outbox_id,
            f.reference,
            crate::mailtext::for_terminal_line(&f.recipient),
            crate::mailtext::for_terminal_line(&f.error)
        );
    }
    let join = |m: &std::collections::BTreeMap<String, i64>| {
        if m.is_empty() {
            "none".to_string()
        } else {
            m.iter().map(|(k, v)| format!("{v} {k}")).collect::<Vec<_>>().join(", ")
        }
    };
    let st = &out.store;
    let room = match st.free_bytes {
        Some(free) if st.full => format!(
            "; the disk is full ({} free): nothing can be recorded, not even why, until there is room",
            crate::fsx::human_bytes(free)
        ),
        Some(free) => format!(", {} free", crate::fsx::human_bytes(free)),
        None => String::new(),
    };
    println!("store:    {} ({}{room})", st.path, crate::fsx::human_bytes(st.bytes));
    println!("mail in:  {}", join(&out.intake));
    let q = out.intake.get("quarantined").copied().unwrap_or(0);
    if q > 0 {
        println!("          {q} quarantined: see `vdpd mail list --status quarantined`");
    }
    println!("tickets:  {}", join(&out.tickets));
    if !out.staff_warnings.is_empty() {
        println!("warnings: {}", join(&out.staff_warnings));
    }
    if out.promises_broken > 0 {
        let acknowledge = crate::engine::clocks::TimerKind::Breach(crate::engine::clocks::ClockKind::Acknowledge);
        let ack = out.timers_fired.get(&acknowledge.to_string()).copied().unwrap_or(0);
        let of_which = if ack > 0 {
            format!(" ({ack} acknowledgement deadline(s) passed while the acknowledgement was undelivered)")
        } else {
            String::new()
        };
        println!("promises: {} broken{of_which}; see the tickets' timelines", out.promises_broken);
    }
    if let Some(next) = &out.next_timer {
        println!("timers:   next {} of {} at {}", next.kind, next.reference, next.due_at);
    }
    Ok(ExitCode::SUCCESS)
}

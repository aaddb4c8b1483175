//! `vdpd stats [--since DATE] [--json]`: the figures researchers judge a programme by.

use std::process::ExitCode;

use crate::clock::format_ms;
use crate::config::Config;
use crate::engine::clocks;
use crate::stats::{self, Spread, human};
use crate::store::{Store, tickets};

/// Open breaches listed by the text output (JSON has them all).
const BREACHES_SHOWN: usize = 25;

pub fn run(
    store: &Store,
    config: &Config,
    since: Option<jiff::civil::Date>,
    json: bool,
    now: Option<jiff::Timestamp>,
) -> anyhow::Result<ExitCode> {
    let since_ms = since.map_or(i64::MIN, |d| config.calendar.start_of(d));
    let rows = entries(store, config, since_ms)?;
    let now = now.unwrap_or_else(jiff::Timestamp::now).as_millisecond();
    let s = stats::compute(&rows, now);
    if json {
        println!("{}", serde_json::to_string_pretty(&s)?);
        return Ok(ExitCode::SUCCESS);
    }
    let list = |v: &[(String, usize)]| {
        v.iter().filter(|(_, n)| *n > 0).map(|(k, n)| format!("{n} {k}")).collect::<Vec<_>>().join(", ")
    };
    let period = since.map_or("in all".to_string(), |d| format!("since {d}"));
    println!("reports {period}: {}", s.reports);
    if s.reports == 0 {
        return Ok(ExitCode::SUCCESS);
    }
    println!("  by state:   {}", list(&s.by_state));
    println!("  by outcome: {}", list(&s.by_outcome));
    println!();
    println!("{:<22} {:>12} {:>12} {:>6}", "", "median", "90th pct", "n");
    let line = |name: &str, sp: &Spread| {
        let show = |v: Option<i64>| v.map_or("-".to_string(), human);
        println!("{name:<22} {:>12} {:>12} {:>6}", show(sp.median_ms), show(sp.p90_ms), sp.n);
    };
    line("time to acknowledge", &s.time_to_acknowledge);
    line("time to diagnosis", &s.time_to_diagnosis);
    line("time to fix", &s.time_to_fix);
    println!();
    println!("promises kept:");
    for p in &s.promises {
        let share = p.share_kept.map_or("-".to_string(), |x| format!("{:.0} %", x * 100.0));
        println!("  {:<20} {}/{} ({share})", p.clock, p.kept, p.kept + p.broken);
    }
    if s.open_breaches.is_empty() {
        println!("open breaches: none");
    } else {
        println!("open breaches: {}", s.open_breaches.len());
        // The oldest first; a programme with thousands open wants the count and the worst, not a scroll.
        for b in s.open_breaches.iter().take(BREACHES_SHOWN) {
            println!("  {} {} overdue since {}", b.reference, b.clock, format_ms(b.due_at));
        }
        if s.open_breaches.len() > BREACHES_SHOWN {
            println!("  … and {} more (all of them: vdpd stats --json)", s.open_breaches.len() - BREACHES_SHOWN);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Every ticket's figures and clocks. Reading 100,000 rows and doing their calendar arithmetic is the
/// command's time: the tickets are shared out (by id) among threads, one read-only connection each.
fn entries(store: &Store, config: &Config, since: i64) -> anyhow::Result<Vec<stats::Entry>> {
    let one = |conn: &rusqlite::Connection, part: (i64, i64)| -> anyhow::Result<Vec<stats::Entry>> {
        let mut waits = tickets::all_waits(conn)?;
        let filings = tickets::all_cra_filings(conn)?;
        let mut out = Vec::new();
        tickets::each_received_since(conn, since, part, |t| {
            let filed = filings.get(&t.id).map(Vec::as_slice).unwrap_or_default();
            let f = crate::intake::clocks::facts_with(&t, waits.remove(&t.id).unwrap_or_default(), filed);
            out.push(stats::Entry::new(&t, clocks::compute(&f, &clocks::TimerPolicy::of(config))));
        })?;
        Ok(out)
    };
    let parts = std::thread::available_parallelism().map_or(1, |n| n.get()).min(4) as i64;
    if parts < 2 || store.path() == std::path::Path::new(":memory:") {
        return one(store.conn(), (0, 1));
    }
    let path = store.path();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..parts)
            .map(|part| {
                scope.spawn(move || {
                    let conn = rusqlite::Connection::open_with_flags(
                        path,
                        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX
                            | rusqlite::OpenFlags::SQLITE_OPEN_NOFOLLOW,
                    )?;
                    conn.busy_timeout(std::time::Duration::from_secs(10))?;
                    one(&conn, (part, parts))
                })
            })
            .collect();
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.join().expect("statistics threads do not panic")?);
        }
        Ok(all)
    })
}

/// `vdpd stats --bod`: one quarter's standard response metrics, as text, JSON or Prometheus gauges.
pub fn bod(
    store: &Store,
    config: &Config,
    quarter: Option<crate::bod::Quarter>,
    json: bool,
    prometheus: bool,
    now: Option<jiff::Timestamp>,
) -> anyhow::Result<ExitCode> {
    let now = now.unwrap_or_else(jiff::Timestamp::now).as_millisecond();
    let cal = &config.calendar;
    let quarter = quarter.unwrap_or_else(|| crate::bod::Quarter::of(cal.date_of(now)));
    let (from, to) = (cal.start_of(quarter.first_day()), cal.start_of(quarter.next_first_day()));
    // Open figures look at tickets of every earlier quarter too.
    let rows = entries(store, config, i64::MIN)?;
    let b = crate::bod::compute(&rows, quarter, from, to, now);
    if json {
        println!("{}", serde_json::to_string_pretty(&b)?);
        return Ok(ExitCode::SUCCESS);
    }
    if prometheus {
        print!("{}", crate::bod::prometheus(&b));
        return Ok(ExitCode::SUCCESS);
    }
    let end = to - 1;
    println!(
        "BOD 20-01 metrics, {} ({} to {}; open figures as of {})",
        b.quarter,
        cal.show_date(from),
        cal.show_date(end),
        cal.show(b.as_of)
    );
    println!("  reports received:                      {}", b.reports_received);
    println!("  valid reports:                         {}", b.reports_valid);
    println!("  open valid reports:                    {}", b.open_valid);
    println!("  open valid reports older than 90 days: {}", b.open_valid_over_90_days);
    let median = |name: &str, s: &Spread| {
        let v = s.median_ms.map_or("-".to_string(), human);
        println!("  median time to {name:<25} {v:>10} (n = {})", s.n);
    };
    median("first human response:", &b.time_to_first_human_response);
    median("validate:", &b.time_to_validate);
    median("remediate:", &b.time_to_remediate);
    median("acknowledge (automatic):", &b.time_to_acknowledge);
    println!("promises met over the last 90 days:");
    if b.promises_last_90_days.iter().all(|p| p.kept + p.broken == 0) {
        println!("  none came due");
    }
    for p in b.promises_last_90_days.iter().filter(|p| p.kept + p.broken > 0) {
        let share = p.share_kept.map_or("-".to_string(), |x| format!("{:.0} %", x * 100.0));
        println!("  {:<20} {}/{} ({share})", p.clock, p.kept, p.kept + p.broken);
    }
    Ok(ExitCode::SUCCESS)
}

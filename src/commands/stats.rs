//! `vdpd stats [--since DATE] [--json]`: the figures researchers judge a programme by.

use std::process::ExitCode;

use crate::clock::format_ms;
use crate::config::Config;
use crate::engine::clocks;
use crate::stats::{self, Spread, human};
use crate::store::{Store, tickets};

pub fn run(
    store: &Store,
    config: &Config,
    since: Option<jiff::civil::Date>,
    json: bool,
    now: Option<jiff::Timestamp>,
) -> anyhow::Result<ExitCode> {
    let conn = store.conn();
    let since_ms = since.map_or(i64::MIN, |d| config.calendar.start_of(d));
    let mut waits = tickets::all_waits(conn)?;
    let rows: Vec<_> = tickets::received_since(conn, since_ms)?
        .into_iter()
        .map(|t| {
            let f = crate::intake::clocks::facts_with(&t, waits.remove(&t.id).unwrap_or_default());
            let c = clocks::compute(&f, &config.sla, &config.calendar);
            (t, c)
        })
        .collect();
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
        for b in &s.open_breaches {
            println!("  {} {} overdue since {}", b.reference, b.clock, format_ms(b.due_at));
        }
    }
    Ok(ExitCode::SUCCESS)
}

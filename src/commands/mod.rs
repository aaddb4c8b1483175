//! What each command does: the top layer, where errors become messages and exit codes.

mod check;
mod cra;
mod export;
mod key;
mod mail;
mod publish;
mod purge;
mod reload;

mod stats;
mod status;
mod tickets;

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use crate::cli::{AdvisoryCommand, Cli, Command, CraCommand, KeyCommand, MailCommand, TicketsCommand};
use crate::clock::Clock;
use crate::config::Config;
use crate::daemon::{self, Input, Runtime};
use crate::store::Store;

/// sysexits(3) codes that callers (cron, an MTA, systemd) understand.
pub mod exit {
    /// A server could not be reached.
    pub const UNAVAILABLE: u8 = 69;
    /// Try again later (the MTA keeps the message).
    pub const TEMPFAIL: u8 = 75;
    /// The configuration is invalid.
    pub const CONFIG: u8 = 78;
}

/// An error that carries its own exit code.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

/// The default log filter for a command: chatty daemons, quiet queries.
pub fn default_log_filter(command: &Command) -> &'static str {
    match command {
        // A dry run's processing would log "ticket opened" and the like, of things that do not happen.
        Command::Ingest { dry_run: true, .. } => "warn",
        Command::Run | Command::Once { .. } | Command::Ingest { .. } | Command::Check { .. } => "info",
        _ => "warn",
    }
}

/// Runs the parsed command.
pub fn execute(cli: Cli) -> anyhow::Result<ExitCode> {
    // One async runtime for the whole invocation, entered before anything is built: lettre's connection pool
    // spawns its reaper task as soon as the transport exists.
    let tokio =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let _entered = tokio.enter();
    match cli.command {
        Command::Check { connect } => check::run(&tokio, &cli.config, connect),
        Command::Run => {
            let rt = runtime(&cli.config, None)?;
            tokio.block_on(daemon::run(rt))?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Once { now } => {
            let rt = runtime(&cli.config, now)?;
            let report = tokio.block_on(daemon::once(rt))?;
            if let Some(f) = &report.fetch {
                println!(
                    "fetched {}: {} new tickets, {} correspondence, {} dropped, {} duplicates, {} quarantined, {} answered, {} held",
                    f.fetched, f.tickets, f.correspondence, f.dropped, f.duplicates, f.quarantined, f.answered, f.held
                );
            }
            let d = &report.delivery;
            println!(
                "timers fired: {}; mail sent: {}, deferred: {}, failed: {}",
                report.timers_fired, d.sent, d.deferred, d.failed
            );
            if !report.config_errors.is_empty() {
                let all: Vec<String> = report.config_errors.iter().chain(&report.failures).cloned().collect();
                Err(Exit { code: exit::CONFIG, message: all.join("; ") }.into())
            } else if report.failures.is_empty() {
                Ok(ExitCode::SUCCESS)
            } else {
                Err(Exit { code: exit::UNAVAILABLE, message: report.failures.join("; ") }.into())
            }
        }
        Command::Ingest { now, no_deliver: _, dry_run: true, json, files } => dry_run(&cli.config, now, json, files),
        Command::Ingest { now, no_deliver, dry_run: false, json: _, files } => {
            ingest(&tokio, &cli.config, now, no_deliver, files)
        }
        Command::Status { json } => status::run(&cli.config, json),
        Command::Reload { wait } => reload::run(&cli.config, wait),
        Command::Tickets { command } => match command {
            TicketsCommand::List { state, json } => tickets::list(&open_store(&cli.config)?, state, json),
            TicketsCommand::Show { reference, json, content } => {
                let config = load_config(&cli.config)?;
                tickets::show(&open_store(&cli.config)?, &config, &reference, json, content)
            }
            TicketsCommand::Attachment { reference, id, output } => {
                tickets::attachment(&open_store(&cli.config)?, &reference, id, output.as_deref())
            }
        },
        Command::Mail { command } => match command {
            MailCommand::List { status, limit, json } => {
                mail::list(&open_store(&cli.config)?, status.as_deref(), limit, json)
            }
            MailCommand::Show { id, raw } => mail::show(&open_store(&cli.config)?, id, raw),
            MailCommand::Retry { id, now } => mail::retry(&tokio, runtime(&cli.config, now)?, id),
        },
        Command::Purge { dry_run, now, no_deliver, json } => {
            purge::run(&tokio, runtime(&cli.config, now)?, dry_run, !no_deliver, json)
        }
        Command::SecurityTxt { sign, output, now } => publish::security_txt(&cli.config, sign, output, now),
        Command::HallOfFame { format, output } => publish::hall_of_fame(&cli.config, format, output),
        Command::Export { format, with_content, output } => {
            let config = load_config(&cli.config)?;
            export::export(&open_store(&cli.config)?, &config, format, with_content, output)
        }
        Command::Advisory { command: Some(AdvisoryCommand::Publish { dir, references, now }), .. } => {
            let config = load_config(&cli.config)?;
            export::publish_csaf(&open_store(&cli.config)?, &config, &dir, &references, now)
        }
        Command::Advisory { command: None, reference, format, output, now } => {
            let config = load_config(&cli.config)?;
            let Some(reference) = reference else {
                return Err(Exit { code: 2, message: "give the ticket: vdpd advisory REF [--format …]".into() }.into());
            };
            export::advisory(&open_store(&cli.config)?, &config, &reference, format, output, now)
        }
        Command::Stats { since, json, now, bod: false, .. } => {
            let config = load_config(&cli.config)?;
            stats::run(&open_store(&cli.config)?, &config, since, json, now)
        }
        Command::Stats { json, now, bod: true, quarter, prometheus, .. } => {
            let config = load_config(&cli.config)?;
            stats::bod(&open_store(&cli.config)?, &config, quarter, json, prometheus, now)
        }
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "vdpd", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Manpage => {
            let cmd = <Cli as clap::CommandFactory>::command();
            clap_mangen::Man::new(cmd).render(&mut std::io::stdout())?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Key { command } => match command {
            KeyCommand::Generate { userid, validity, force } => key::generate(&cli.config, userid, &validity, force),
            KeyCommand::Import { file, force } => key::import(&cli.config, &file, force),
            KeyCommand::Export => key::export(&cli.config),
        },
        Command::Cra { command: CraCommand::Draft { reference, stage, json, now } } => {
            let config = load_config(&cli.config)?;
            cra::draft(&open_existing_store(&config)?, &config, &reference, stage, json, now)
        }
    }
}

fn load_config(path: &Path) -> anyhow::Result<Config> {
    crate::config::load(path)
        .map_err(|e| Exit { code: exit::CONFIG, message: format!("invalid configuration:\n{e}") }.into())
}

fn open_store(config_path: &Path) -> anyhow::Result<Store> {
    open_existing_store(&load_config(config_path)?)
}

/// A command that creates files beside the store (the store itself, locks, the organisation key, the
/// outbox's work) must not run as root against a state directory that belongs to the service user: what it
/// created would be root's, and the service could no longer open it. It is refused, naming the invocation
/// that works. (SQLite hands its own -wal and -shm files to the database's owner, so reading as root is safe.)
fn refuse_root_on_service_state(config: &Config, args: &str) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt;
    // SAFETY: geteuid(2) cannot fail and touches no memory.
    if unsafe { libc::geteuid() } != 0 {
        return Ok(());
    }
    let dir = config.store.path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let Ok(meta) = std::fs::metadata(dir) else { return Ok(()) };
    if meta.uid() == 0 {
        return Ok(());
    }
    let user = user_name(meta.uid()).unwrap_or_else(|| format!("#{}", meta.uid()));
    Err(Exit {
        code: exit::CONFIG,
        message: format!(
            "{} belongs to the user {user}, and files this command creates there as root would lock the service out: \
             run it as that user instead:\n  sudo -u {user} vdpd --config {} {args}",
            dir.display(),
            config.path.display()
        ),
    }
    .into())
}

/// This invocation's arguments without `--config`, to show the same command run as another user.
fn shown_args() -> String {
    let mut out = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--config" || a == "-c" {
            args.next();
        } else if !a.starts_with("--config=") {
            out.push(a);
        }
    }
    out.join(" ")
}

/// The login name of `uid`, from /etc/passwd.
fn user_name(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        (fields.nth(1)?.parse::<u32>().ok()? == uid).then(|| name.to_string())
    })
}

/// The store, for a command that reads or changes what is in it: a missing store is an error (a query must
/// not leave an empty store, owned by whoever asked, where the service will later create its own).
fn open_existing_store(config: &Config) -> anyhow::Result<Store> {
    let path = &config.store.path;
    if !path.exists() {
        return Err(Exit {
            code: exit::CONFIG,
            message: format!(
                "there is no store at {}: vdpd creates it when the daemon first runs (`systemctl start vdpd`, `vdpd run` or `vdpd once`)",
                path.display()
            ),
        }
        .into());
    }
    Store::open(path).with_context(|| format!("opening the store {}", path.display()))
}

fn runtime(config_path: &Path, now: Option<jiff::Timestamp>) -> anyhow::Result<Runtime> {
    let config = load_config(config_path)?;
    refuse_root_on_service_state(&config, &shown_args())?;
    let clock = now.map_or(Clock::System, Clock::Fixed);
    Ok(Runtime::open(config, clock)?)
}

/// The messages named (none or `-`: standard input), as `ingest` reads them.
fn read_inputs(files: &[std::path::PathBuf], max: usize) -> anyhow::Result<Vec<Input>> {
    let mut inputs = Vec::new();
    if files.is_empty() || files.iter().any(|f| f.as_os_str() == "-") {
        let mail = daemon::read_message(std::io::stdin().lock(), max).context("reading standard input")?;
        inputs.push(Input { name: "-".into(), mail });
    }
    for f in files.iter().filter(|f| f.as_os_str() != "-") {
        let file = std::fs::File::open(f).with_context(|| format!("opening {}", f.display()))?;
        let mail = daemon::read_message(file, max).with_context(|| format!("reading {}", f.display()))?;
        inputs.push(Input { name: f.display().to_string(), mail });
    }
    Ok(inputs)
}

/// A one-line field a sender may have written, safe for the terminal.
pub(crate) fn line(s: &str) -> std::borrow::Cow<'_, str> {
    crate::mailtext::for_terminal_line(s)
}

/// `vdpd ingest --dry-run`: each message processed in a copy of the store; what it did there is shown.
fn dry_run(
    config_path: &Path,
    now: Option<jiff::Timestamp>,
    json: bool,
    files: Vec<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    // A query: it only reads the store (an existing one; it makes none), so root may run it too.
    let config = load_config(config_path)?;
    let store = open_existing_store(&config)?;
    let env = daemon::load_env(config)?;
    let clock = now.map_or(Clock::System, Clock::Fixed);
    let inputs = read_inputs(&files, env.config.limits.max_message_bytes)?;
    let mut out = Vec::new();
    for input in inputs {
        let run = crate::intake::dry_run::dry_run(&store, &env, &input.mail, clock.now_ms())
            .map_err(|crate::intake::IntakeError::Store(e)| e)?;
        out.push((input.name, run));
    }
    if json {
        /// One input's dry run as JSON: the outcome, then what it would change.
        #[derive(serde::Serialize)]
        struct Json<'a> {
            input: &'a str,
            status: String,
            reference: Option<&'a str>,
            reason: &'a str,
            already: bool,
            #[serde(flatten)]
            run: &'a crate::intake::dry_run::DryRun,
        }
        let list: Vec<Json<'_>> = out
            .iter()
            .map(|(name, run)| Json {
                input: name,
                status: run.processed.status.to_string(),
                reference: run.processed.reference.as_deref(),
                reason: &run.processed.reason,
                already: run.processed.already,
                run,
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    for (name, run) in &out {
        let p = &run.processed;
        let what = match (&p.reference, p.already) {
            (_, true) => "already processed: it would do nothing".to_string(),
            (Some(r), _) if p.reason.is_empty() => format!("would be {} {r}", p.status),
            (Some(r), _) => format!("would be {} {r} ({})", p.status, line(&p.reason)),
            (None, _) if p.reason.is_empty() => format!("would be {}", p.status),
            (None, _) => format!("would be {}: {}", p.status, line(&p.reason)),
        };
        println!("{name}: {what}");
        for t in &run.tickets {
            println!("  ticket {}{}", t.reference, if t.new { " (new)" } else { "" });
            for f in &t.fields {
                let show = |v: &serde_json::Value| match v {
                    serde_json::Value::String(s) => format!("{:?}", line(s)),
                    serde_json::Value::Null => "none".to_string(),
                    n if f.field.ends_with("_at") => n.as_i64().map_or_else(|| n.to_string(), when),
                    other => other.to_string(),
                };
                match &f.before {
                    Some(b) => println!("    {}: {} → {}", f.field, show(b), show(&f.after)),
                    None => println!("    {}: {}", f.field, show(&f.after)),
                }
            }
        }
        if !run.added.timeline.is_empty() {
            println!("  timeline:");
            for e in &run.added.timeline {
                let detail = if e.detail.is_empty() { String::new() } else { format!(": {}", line(&e.detail)) };
                println!("    {} {} — {}{detail}", e.reference, line(&e.actor), e.event);
            }
        }
        if run.added.mails.is_empty() {
            println!("  no mail would be sent");
        } else {
            println!("  mail that would be queued:");
            for m in &run.added.mails {
                let how = if m.encrypted { "encrypted" } else { "clear text" };
                println!("    {} to {} ({how}): {}", m.kind, line(&m.recipient), line(&m.subject));
            }
        }
        for w in &run.added.warnings {
            let mailed = if w.mailed { "mailed to staff" } else { "recorded, over the daily cap of warning mails" };
            println!("  staff warning ({mailed}): {}: {}", w.kind, line(&w.detail));
        }
    }
    println!("(dry run: nothing was stored or sent; a signature it carries is still unused)");
    Ok(ExitCode::SUCCESS)
}

fn ingest(
    tokio: &tokio::runtime::Runtime,
    config_path: &Path,
    now: Option<jiff::Timestamp>,
    no_deliver: bool,
    files: Vec<std::path::PathBuf>,
) -> anyhow::Result<ExitCode> {
    // A failure before the message is stored must make the MTA keep it: exit 75, never 1.
    let tempfail =
        |e: anyhow::Error| -> anyhow::Error { Exit { code: exit::TEMPFAIL, message: format!("{e:#}") }.into() };
    let rt = runtime(config_path, now).map_err(tempfail)?;
    let inputs = read_inputs(&files, rt.env.config.limits.max_message_bytes).map_err(tempfail)?;
    let report = tokio.block_on(daemon::ingest(rt, inputs, !no_deliver)).map_err(|e| tempfail(e.into()))?;
    for (name, p) in &report.processed {
        let what = match (&p.reference, p.already) {
            (_, true) => "already processed".to_string(),
            (Some(r), _) => format!("{} {r}", p.status),
            (None, _) if p.reason.is_empty() => p.status.to_string(),
            (None, _) => format!("{}: {}", p.status, p.reason),
        };
        println!("{name}: {what}");
    }
    if let Some(d) = &report.delivery {
        println!("mail sent: {}, deferred: {}, failed: {}", d.sent, d.deferred, d.failed);
    }
    Ok(ExitCode::SUCCESS)
}

/// Formats a store timestamp for tables.
fn when(ms: i64) -> String {
    // Formatted by hand: strftime was a tenth of `vdpd tickets list`'s time on 100,000 tickets.
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| {
            let d = jiff::tz::TimeZone::UTC.to_datetime(t);
            format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                d.year(),
                d.month(),
                d.day(),
                d.hour(),
                d.minute(),
                d.second()
            )
        })
        .unwrap_or_else(|_| "?".into())
}

/// "3m ago", "2h ago", "5d ago" relative to `now`.
fn ago(ms: i64, now: i64) -> String {
    let s = (now - ms).max(0) / 1000;
    match s {
        0..60 => format!("{s}s ago"),
        60..3600 => format!("{}m ago", s / 60),
        3600..86400 => format!("{}h ago", s / 3600),
        _ => format!("{}d ago", s / 86400),
    }
}

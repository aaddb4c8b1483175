//! The `vdpd` binary: parse the command line, set up logging, run the command, map errors to exit codes.

use std::process::ExitCode;

use std::io::IsTerminal;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use vdpd::cli::{Cli, LogFormat};
use vdpd::commands::{self, Exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli);
    match commands::execute(cli) {
        Ok(code) => code,
        // Output piped into `head` and closed early is not a failure.
        Err(e)
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) =>
        {
            ExitCode::SUCCESS
        }
        Err(e) => {
            let code = e.downcast_ref::<Exit>().map_or(1, |x| x.code);
            eprintln!("vdpd: {e:#}");
            ExitCode::from(code)
        }
    }
}

/// Where log lines go. Under systemd (stderr is the journal, as `JOURNAL_STREAM` says) they go to journald
/// natively: each with its priority (error 3, warning 4, info 6), vdpd's fields (`VDPD_TICKET`,
/// `VDPD_INTAKE_ID`, `VDPD_KIND`, …) and no timestamp or colour of ours, so that `journalctl -p warning` and
/// `journalctl VDPD_TICKET=…` work. Otherwise text (colour only on a terminal) or JSON lines on stderr.
fn init_logging(cli: &Cli) {
    let filter = cli.log.clone().unwrap_or_else(|| commands::default_log_filter(&cli.command).to_string());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info"));
    if cli.log_format == LogFormat::Text && stderr_is_the_journal() {
        let priorities = tracing_journald::PriorityMappings {
            info: tracing_journald::Priority::Informational,
            debug: tracing_journald::Priority::Debug,
            ..tracing_journald::PriorityMappings::new()
        };
        if let Ok(journal) = tracing_journald::layer() {
            let journal = journal
                .with_field_prefix(Some("VDPD".into()))
                .with_syslog_identifier("vdpd".into())
                .with_priority_mappings(priorities);
            tracing_subscriber::registry().with(filter).with(journal).init();
            return;
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_target(false).init(),
    }
}

/// systemd sets `JOURNAL_STREAM=DEVICE:INODE` for a service whose stderr is connected to the journal; a child
/// that redirected stderr elsewhere inherits the variable but not the stream, hence the comparison.
fn stderr_is_the_journal() -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Some(stream) = std::env::var_os("JOURNAL_STREAM") else { return false };
    let Some((dev, ino)) = stream.to_str().and_then(|s| s.split_once(':')) else { return false };
    let Ok(fd) = std::io::stderr().as_fd().try_clone_to_owned() else { return false };
    let Ok(meta) = std::fs::File::from(fd).metadata() else { return false };
    dev.parse() == Ok(meta.dev()) && ino.parse() == Ok(meta.ino())
}

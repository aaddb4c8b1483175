//! The `vdpd` binary: parse the command line, set up logging, run the command, map errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use vdpd::cli::{Cli, LogFormat};
use vdpd::commands::{self, Exit};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = cli.log.clone().unwrap_or_else(|| commands::default_log_filter(&cli.command).to_string());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.with_target(false).init(),
    }
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

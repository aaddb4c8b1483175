//! The command line, as clap definitions only. What each command does lives in [`crate::commands`].

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// vdpd — a vulnerability-disclosure desk that runs as a daemon.
///
/// Researchers mail the security address; vdpd acknowledges at once with a ticket reference, keeps the
/// conversation in a ticket, and keeps the promises of the published policy.
#[derive(Debug, Parser)]
#[command(name = "vdpd", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The policy file.
    #[arg(long, global = true, env = "VDPD_CONFIG", default_value = "/etc/vdpd/policy.toml")]
    pub config: PathBuf,

    /// Log format on standard error.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    /// Log filter (tracing env-filter syntax, e.g. `info`, `vdpd=debug`). Default: info for run/once/ingest,
    /// warn for the query commands.
    #[arg(long, global = true, env = "VDPD_LOG")]
    pub log: Option<String>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Json,
    Csv,
}

/// A filing of the Cyber Resilience Act, Article 14(2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CraStageArg {
    /// Within 24 hours of becoming aware.
    EarlyWarning,
    /// Within 72 hours of becoming aware.
    Notification,
    /// Within 14 days after a corrective or mitigating measure is available.
    Final,
    /// A severe incident's early warning: within 24 hours of becoming aware.
    IncidentEarlyWarning,
    /// A severe incident's notification: within 72 hours of becoming aware.
    IncidentNotification,
    /// A severe incident's final report: within one month after the incident notification.
    IncidentFinal,
}

#[derive(Debug, Subcommand)]
pub enum CraCommand {
    /// The filing of one stage for an actively exploited vulnerability, filled from the ticket: the fields
    /// ENISA's single reporting platform asks for, each with its clause; what the ticket cannot say is marked
    /// TO FILL IN.
    Draft {
        reference: String,
        #[arg(long, value_enum)]
        stage: CraStageArg,
        #[arg(long)]
        json: bool,
        /// Judge the deadline as of this instant.
        #[arg(long, value_name = "T")]
        now: Option<jiff::Timestamp>,
    },
}

#[derive(Debug, Subcommand)]
pub enum AdvisoryCommand {
    /// Publish the advisories of resolved tickets into a CSAF provider directory (served at [csaf]
    /// base_url): each TLP:WHITE, final, with its .sha256, .sha512 and a detached OpenPGP signature (.asc) by
    /// the organisation key; index.txt, changes.csv and provider-metadata.json rebuilt; our public key under
    /// openpgp/. An advisory published before keeps its release date and gets a new version only if it changed.
    Publish {
        /// The provider directory (what the web server serves at [csaf] base_url).
        dir: PathBuf,
        /// The tickets to publish.
        #[arg(required = true)]
        references: Vec<String>,
        /// Date the publication at this instant.
        #[arg(long, value_name = "T")]
        now: Option<jiff::Timestamp>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AdvisoryFormat {
    /// CSAF 2.0 (a security advisory).
    Csaf,
    /// CVE JSON 5.1: the CNA container of the CVE record, for CVE Services.
    Cve,
    /// OSV 1.7.
    Osv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HallOfFameFormat {
    Html,
    Md,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon: fetch mail (IMAP IDLE or polling), deliver the outbox, fire due timers.
    Run,
    /// One whole cycle, then exit: fetch everything new, process it, fire due timers, deliver the outbox.
    /// Exits 69 if the IMAP or SMTP server could not be reached (what was fetched is still processed).
    Once {
        /// Take this instant (RFC 3339) as "now" for every decision and date.
        #[arg(long, value_name = "T")]
        now: Option<jiff::Timestamp>,
    },
    /// Process RFC 5322 messages from files (or standard input) exactly as if fetched, then deliver the
    /// outbox. For an MTA pipe alias and for tests. Exits 75 (temporary failure) if a message could not be
    /// stored, so that the MTA tries again.
    Ingest {
        #[arg(long, value_name = "T")]
        now: Option<jiff::Timestamp>,
        /// Only store and process; leave delivery to the daemon.
        #[arg(long)]
        no_deliver: bool,
        /// Show what each message would do — the ticket's changes, its timeline, the mail that would be
        /// queued, staff warnings — and change nothing: it is processed in a copy of the store, so no ticket,
        /// mail or intake record is made and a staff member's signature is not spent.
        #[arg(long, conflicts_with = "no_deliver")]
        dry_run: bool,
        /// With --dry-run: print it as JSON.
        #[arg(long, requires = "dry_run")]
        json: bool,
        /// Message files; none or `-` reads one message from standard input.
        files: Vec<PathBuf>,
    },
    /// Validate the policy, the templates and the credentials; with --connect, log in to IMAP and SMTP.
    Check {
        #[arg(long)]
        connect: bool,
    },
    /// Make the running daemon of this store read its policy, templates and keys again (SIGHUP), and wait
    /// for its answer: exits 78 if it refused the new configuration (and keeps the running one), 69 if no
    /// daemon runs. `systemctl reload vdpd` runs this.
    Reload {
        /// How long to wait for the daemon's answer.
        #[arg(long, value_name = "DURATION", default_value = "30s")]
        wait: crate::config::PolicyDuration,
    },
    /// Health at a glance: daemon, IMAP, SMTP, outbox, intake, clocks.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Tickets.
    Tickets {
        #[command(subcommand)]
        command: TicketsCommand,
    },
    /// Every message vdpd took in: what became of it (ticket, correspondence, dropped, duplicate, quarantined).
    Mail {
        #[command(subcommand)]
        command: MailCommand,
    },
    /// Delete the report content of tickets whose retention period ([retention] after_resolution) has passed,
    /// sending each researcher a receipt. The daemon does this by itself; --dry-run shows what would go.
    Purge {
        /// Only list what would be deleted.
        #[arg(long)]
        dry_run: bool,
        #[arg(long, value_name = "T")]
        now: Option<jiff::Timestamp>,
        /// Leave delivery of the receipts to the daemon.
        #[arg(long)]
        no_deliver: bool,
        #[arg(long)]
        json: bool,
    },
    /// Write the policy's RFC 9116 security.txt (Contact, Expires, Encryption, Acknowledgments, Policy,
    /// Preferred-Languages, Canonical); with --sign, clear-signed by the organisation key.
    SecurityTxt {
        #[arg(long)]
        sign: bool,
        /// Write here (atomically) instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Count Expires from this instant instead of now.
        #[arg(long, value_name = "T")]
        now: Option<jiff::Timestamp>,
    },
    /// The hall of fame: researchers credited, with their consent, for flaws that were fixed.
    HallOfFame {
        #[arg(long, value_enum, default_value_t = HallOfFameFormat::Html)]
        format: HallOfFameFormat,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Every ticket with its metadata and clocks, as JSON or CSV; report content (subject, form, messages,
    /// reporter) only with --with-content.
    Export {
        #[arg(long, value_enum, default_value_t = ExportFormat::Json)]
        format: ExportFormat,
        #[arg(long)]
        with_content: bool,
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// An advisory for a resolved ticket, as CSAF 2.0 (default), a CVE record's CNA container (CVE JSON 5.1)
    /// or an OSV entry: CWE, CVSS, product, dates, the fix, the credit the researcher agreed to.
    #[command(args_conflicts_with_subcommands = true)]
    Advisory {
        #[command(subcommand)]
        command: Option<AdvisoryCommand>,
        /// The ticket (required unless publishing).
        reference: Option<String>,
        #[arg(long, value_enum, default_value_t = AdvisoryFormat::Csaf)]
        format: AdvisoryFormat,
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// The advisory's dates (generation, revision) as if written at this instant.
        #[arg(long, value_name = "T")]
        now: Option<jiff::Timestamp>,
    },
    /// Response statistics: reports by state and outcome, time to acknowledge / diagnose / fix (median and
    /// 90th percentile), the share of promises kept, open breaches.
    Stats {
        /// Only reports received on or after this date (YYYY-MM-DD, in the policy's time zone).
        #[arg(long, value_name = "DATE")]
        since: Option<jiff::civil::Date>,
        #[arg(long)]
        json: bool,
        /// Judge open promises as of this instant.
        #[arg(long, value_name = "T")]
        now: Option<jiff::Timestamp>,
        /// The standard response metrics of CISA BOD 20-01 for one quarter instead: reports received, valid,
        /// open, open for more than 90 days; median times to first human response, to validate and to
        /// remediate; each promise's share met over the last 90 days.
        #[arg(long, conflicts_with = "since")]
        bod: bool,
        /// With --bod: the quarter, e.g. 2026-Q4 (default: the one under way).
        #[arg(long, value_name = "YYYY-QN", requires = "bod")]
        quarter: Option<crate::bod::Quarter>,
        /// With --bod: also the Prometheus text format's gauges.
        #[arg(long, requires = "bod", conflicts_with = "json")]
        prometheus: bool,
    },
    /// Print shell completions for bash, zsh, fish, elvish or PowerShell.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `vdpd manpage | man -l -`.
    Manpage,
    /// The organisation's OpenPGP key.
    Key {
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// The Cyber Resilience Act's reporting of actively exploited vulnerabilities ([cra] in the policy).
    Cra {
        #[command(subcommand)]
        command: CraCommand,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create a new Ed25519/Cv25519 key (secret part in the state directory, mode 0600).
    Generate {
        /// Default: "<organisation name> <security address>".
        #[arg(long)]
        userid: Option<String>,
        /// How long the key is valid: e.g. 2y, 18 months, 365d, or never. Renew before it expires
        /// (`vdpd check` warns 30 days ahead).
        #[arg(long, default_value = "3y")]
        validity: String,
        /// Replace an existing key (kept as <file>.old).
        #[arg(long)]
        force: bool,
    },
    /// Use an existing secret key (armoured or binary; it must not be passphrase-protected).
    Import {
        file: PathBuf,
        #[arg(long)]
        force: bool,
    },
    /// Print the public key (ASCII-armoured), to publish it or give it to researchers.
    Export,
}

#[derive(Debug, Subcommand)]
pub enum TicketsCommand {
    /// List tickets.
    List {
        /// Only tickets in this state (new, triage, accepted, fixing, resolved, closed).
        #[arg(long)]
        state: Option<crate::engine::TicketState>,
        #[arg(long)]
        json: bool,
    },
    /// Show a ticket: participants, every message in and out with its delivery status, the timeline.
    Show {
        /// The ticket reference, e.g. EX-2026-0007.
        reference: String,
        #[arg(long)]
        json: bool,
        /// Print what the researcher wrote too: each message's decrypted text (control characters escaped)
        /// and the form's answers.
        #[arg(long)]
        content: bool,
    },
    /// Write out a file a researcher sent (decrypted), by the number `tickets show` lists.
    Attachment {
        reference: String,
        id: i64,
        /// Write to this file instead of standard output.
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// List taken-in messages, newest first.
    List {
        /// Only this outcome: ticket, correspondence, dropped, answered, duplicate, quarantined, pending.
        #[arg(long)]
        status: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Show one message's record; with --raw, write its bytes as received to standard output.
    Show {
        id: i64,
        #[arg(long)]
        raw: bool,
    },
    /// Process a quarantined message again (after an upgrade or a fix of the cause).
    Retry {
        id: i64,
        #[arg(long, value_name = "T")]
        now: Option<jiff::Timestamp>,
    },
}

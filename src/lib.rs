//! vdpd — a vulnerability-disclosure desk that runs as a daemon.
//!
//! The modules follow the data flow (see ARCHITECTURE.md):
//!
//! ```text
//! imap ─┐
//!       ├─► intake ─► classify ─► engine ─► store (one transaction) ─► outbox ─► SMTP
//! ingest┘                                     ▲
//!                                   timers ───┘
//! ```
//!
//! - [`config`]: `policy.toml` → validated [`config::Config`].
//! - [`clock`]: the one source of "now".
//! - [`mailtext`]: sanitising hostile text before it reaches our headers or store.
//! - [`classify`]: raw bytes → [`classify::Inbound`] (or a quarantine reason). No IO.
//! - [`engine`]: pure policy decisions and mail plans. No IO.
//! - [`render`]: templates and the final bytes of outgoing mail; [`publish`]: security.txt and the hall of fame.
//! - [`store`]: SQLite; all SQL lives here.
//! - [`intake`]: one message through classify → engine → store, in one transaction.
//! - [`imap`]: fetching from the mailbox; [`outbox`]: delivering by SMTP; [`timers`]: due clocks.
//! - [`daemon`]: wiring of the loops, signals and systemd notification; [`heartbeat`]: proof of life for the
//!   watchdog; [`lock`]: one fetcher and one deliverer per store; [`tls`]: trust anchors; [`fsx`]: files
//!   opened without following links, and written for the admin with mode 0600.
//! - [`cli`]: the command line (clap definitions); [`commands`]: what each command does.

pub mod advisory;
pub mod bod;
pub use vdpd_core::classify;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod cra;
// The pure modules that moved into the core crate, at the paths the rest of the code knows them by.
pub use vdpd_core::cwe;
pub mod daemon;
pub use vdpd_core::engine;
pub use vdpd_core::form;
pub mod fsx;
pub mod heartbeat;
pub mod imap;
pub mod intake;
pub mod lock;
pub use vdpd_core::lang;
pub use vdpd_core::mail;
pub use vdpd_core::mailtext;
pub use vdpd_core::search;
pub use vdpd_core::ticket;
pub use vdpd_core::timeline;
pub mod metrics;
pub mod oauth2;
pub mod openpgp;
pub mod outbox;
pub mod publish;
pub mod render;
pub mod seal;
pub mod sectxt;
pub mod smtp;
pub mod stats;
pub mod store;
pub mod timers;
pub mod tls;

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
//! - [`render`]: templates and the final bytes of outgoing mail.
//! - [`store`]: SQLite; all SQL lives here.
//! - [`intake`]: one message through classify → engine → store, in one transaction.
//! - [`imap`]: fetching from the mailbox; [`outbox`]: delivering by SMTP; [`timers`]: due clocks.
//! - [`daemon`]: wiring of the loops, signals and systemd notification; [`cli`]: the command line.

pub mod classify;
pub mod clock;
pub mod config;
pub mod engine;
pub mod intake;
pub mod mailtext;
pub mod render;
pub mod store;

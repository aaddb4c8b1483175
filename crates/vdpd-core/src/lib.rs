//! vdpd's pure core: what the policy decides, given values — no files, sockets, database, environment or
//! clock. The `vdpd` crate (the shell) does the IO and passes what it read in; the compiler keeps IO out of
//! here through this crate's dependencies, and clippy (`clippy.toml` beside `Cargo.toml`) through std.
//!
//! Here: the validated configuration (`config`: the types and the reading of `policy.toml`'s text), durations
//! and the working calendar, clocks and their timers, the ticket's words, mail text handling, classification
//! of a raw message, the form, OpenPGP reading and writing, every mail vdpd writes (`mail`), staff
//! commands and `decide`. What a decision causes is still carried out by the shell's intake (issue 12 moves
//! it here as plans).

#![forbid(unsafe_code)]

pub mod calendar;
pub mod classify;
pub mod clocks;
pub mod config;
pub mod cwe;
pub mod duration;
pub mod engine;
pub mod form;
pub mod hints;
pub mod lang;
pub mod mail;
pub mod mailtext;
pub mod openpgp;
pub mod search;
pub mod ticket;
pub mod timeline;

/// What the core's tests share.
#[cfg(test)]
pub(crate) mod testing {
    use std::time::{Duration, SystemTime};

    /// The instant the core's tests happen at (2026-09-21): the core reads no clock, and neither do its tests.
    pub fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000)
    }
}

//! vdpd's pure core: what the policy decides, given values — no files, sockets, database, environment or
//! clock. The `vdpd` crate (the shell) does the IO and passes what it read in; the compiler keeps IO out of
//! here through this crate's dependencies, and clippy (`clippy.toml` beside `Cargo.toml`) through std.
//!
//! Moving in, module by module (issue 12): so far durations as policies write them, CWE names, the validated
//! configuration (`config`: the types; reading and checking `policy.toml` is the shell's) and the working
//! calendar. Mail text handling, the form, clocks, staff commands and `decide` follow.

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
pub mod mailtext;
pub mod openpgp;
pub mod ticket;

/// What the core's tests share.
#[cfg(test)]
pub(crate) mod testing {
    use std::time::{Duration, SystemTime};

    /// The instant the core's tests happen at (2026-09-21): the core reads no clock, and neither do its tests.
    pub fn now() -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_790_000_000)
    }
}

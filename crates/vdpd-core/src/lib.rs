//! vdpd's pure core: what the policy decides, given values — no files, sockets, database, environment or
//! clock. The `vdpd` crate (the shell) does the IO and passes what it read in; the compiler keeps IO out of
//! here through this crate's dependencies, and clippy (`clippy.toml` beside `Cargo.toml`) through std.
//!
//! Moving in, module by module (issue 12): so far durations as policies write them and CWE names. The policy
//! model, mail text handling (once addresses are checked without lettre), classification, the form, the
//! calendar and clocks, staff commands and `decide` follow.

#![forbid(unsafe_code)]

pub mod cwe;
pub mod duration;

//! The one clock.
//!
//! Every decision that depends on "now" (references, rate limits, SLA dates, retry backoff, the Date header)
//! reads it from a [`Clock`] passed in, never from `Timestamp::now()` scattered in the code. `--now T` turns
//! the whole invocation into a fixed point in time, which is what makes the engine testable and lets an admin
//! replay "what would vdpd have done on that day".

use jiff::Timestamp;

/// Where "now" comes from.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    /// The system's real-time clock.
    System,
    /// A fixed instant (`--now T`): every call returns the same value.
    Fixed(Timestamp),
}

impl Clock {
    /// The current instant according to this clock.
    pub fn now(&self) -> Timestamp {
        match self {
            Clock::System => Timestamp::now(),
            Clock::Fixed(t) => *t,
        }
    }

    /// Milliseconds since the Unix epoch; the unit every timestamp column in the store uses.
    pub fn now_ms(&self) -> i64 {
        self.now().as_millisecond()
    }
}

/// Formats a store timestamp (milliseconds since the epoch) as RFC 3339 for humans and JSON.
pub fn format_ms(ms: i64) -> String {
    match Timestamp::from_millisecond(ms) {
        Ok(t) => t.to_string(),
        Err(_) => format!("@{ms}ms"),
    }
}

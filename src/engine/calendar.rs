//! Deadlines from policy durations.
//!
//! Hours and days are exact; months follow the calendar (31 January + 1 month is 28/29 February, as jiff
//! does it); business days skip Saturdays and Sundays and keep the time of day. This reckons in UTC: working
//! calendars with a time zone and public holidays belong to the SLA clocks built on top of this.

use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

use crate::config::{PolicyDuration, Unit};

/// The instant `duration` after `start_ms` (both in milliseconds since the epoch).
pub fn deadline(start_ms: i64, duration: PolicyDuration) -> i64 {
    if let Some(exact) = duration.exact() {
        return start_ms.saturating_add(i64::try_from(exact.as_millis()).unwrap_or(i64::MAX));
    }
    let Ok(start) = Timestamp::from_millisecond(start_ms) else {
        return i64::MAX;
    };
    let zoned = start.to_zoned_datetime(TimeZone::UTC);
    let end = match duration.unit {
        Unit::Months => zoned.checked_add(Span::new().months(duration.amount)),
        Unit::BusinessDays => {
            let mut day = zoned.clone();
            let mut left = duration.amount;
            while left > 0 {
                day = match day.checked_add(Span::new().days(1)) {
                    Ok(d) => d,
                    Err(_) => return i64::MAX,
                };
                if !matches!(day.weekday(), jiff::civil::Weekday::Saturday | jiff::civil::Weekday::Sunday) {
                    left -= 1;
                }
            }
            Ok(day)
        }
        _ => unreachable!("units with an exact length returned above"),
    };
    end.map_or(i64::MAX, |z| z.timestamp().as_millisecond())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn exact_units() {
        assert_eq!(deadline(ms("2026-11-23T10:00:00Z"), "24h".parse().unwrap()), ms("2026-11-24T10:00:00Z"));
        assert_eq!(deadline(ms("2026-11-23T10:00:00Z"), "90 days".parse().unwrap()), ms("2027-02-21T10:00:00Z"));
    }

    #[test]
    fn months_follow_the_calendar() {
        assert_eq!(deadline(ms("2026-01-31T12:00:00Z"), "1 month".parse().unwrap()), ms("2026-02-28T12:00:00Z"));
        assert_eq!(deadline(ms("2028-01-31T12:00:00Z"), "1 month".parse().unwrap()), ms("2028-02-29T12:00:00Z"));
    }

    #[test]
    fn business_days_skip_weekends() {
        // Friday + 1 business day = Monday; Monday + 7 business days = Wednesday of the next week.
        assert_eq!(deadline(ms("2026-11-27T09:00:00Z"), "1 business day".parse().unwrap()), ms("2026-11-30T09:00:00Z"));
        assert_eq!(
            deadline(ms("2026-11-23T09:00:00Z"), "7 business days".parse().unwrap()),
            ms("2026-12-02T09:00:00Z")
        );
        // Saturday + 1 business day = Monday.
        assert_eq!(deadline(ms("2026-11-28T09:00:00Z"), "1 business day".parse().unwrap()), ms("2026-11-30T09:00:00Z"));
    }
}

//! Deadlines in the policy's working calendar.
//!
//! A promise is kept or broken in the organisation's own time: "7 business days" skips its weekends and
//! public holidays, "90 days" and "1 month" are calendar days and months in its time zone (so 10:00 stays
//! 10:00 across a DST change, and 31 January + 1 month is 28/29 February, as jiff does it), and "24h" is
//! exactly 24 hours.
//!
//! Business days are measured as working-day time on the wall clock: a working day contributes its 24 hours,
//! other days none. So a report on Friday 10:00 with 1 business day is due Monday 10:00, and one on Saturday
//! is due at the end of Monday. Measuring (rather than counting days) is what lets a clock pause and resume
//! exactly: the time a paused clock had left is a number, not a date.
//!
//! Everything here is pure: times in and out are milliseconds since the epoch.

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp};

use crate::config::{Calendar, Holiday, PolicyDuration, Unit};

/// Milliseconds in a wall-clock day.
const DAY: i64 = 86_400_000;
/// The furthest any walk over days goes (a policy with "500 business days" still ends; a broken calendar does
/// not loop forever).
const MAX_DAYS: usize = 20 * 366;

/// How a duration is measured when a clock pauses: in working-day time (business days) or in real time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    Real,
    Working,
}

impl Calendar {
    /// Whether `date` is a working day (its weekday works and it is no public holiday).
    pub fn is_working_day(&self, date: Date) -> bool {
        let weekday = date.weekday().to_monday_zero_offset() as usize;
        self.working_days[weekday]
            && !self.holidays.iter().any(|h| match *h {
                Holiday::Date(d) => d == date,
                Holiday::Yearly { month, day } => date.month() == month && date.day() == day,
            })
    }

    /// The instant `duration` after `start`.
    pub fn add(&self, start: i64, duration: PolicyDuration) -> i64 {
        match duration.unit {
            Unit::BusinessDays => self.advance_working(start, i64::from(duration.amount) * DAY),
            Unit::Days | Unit::Weeks | Unit::Months | Unit::Years => self.calendar_shift(start, duration, 1),
            _ => start.saturating_add(exact_ms(duration)),
        }
    }

    /// The instant `duration` before `end` (a reminder point before a deadline).
    pub fn sub(&self, end: i64, duration: PolicyDuration) -> i64 {
        match duration.unit {
            Unit::BusinessDays => self.rewind_working(end, i64::from(duration.amount) * DAY),
            Unit::Days | Unit::Weeks | Unit::Months | Unit::Years => self.calendar_shift(end, duration, -1),
            _ => end.saturating_sub(exact_ms(duration)),
        }
    }

    /// How a clock of `duration` is measured, and its budget in that measure when it starts at `start`.
    pub fn budget(&self, start: i64, duration: PolicyDuration) -> (Measure, i64) {
        match duration.unit {
            Unit::BusinessDays => (Measure::Working, i64::from(duration.amount) * DAY),
            _ => (Measure::Real, self.add(start, duration).saturating_sub(start)),
        }
    }

    /// The time between `a` and `b` (a ≤ b) in `measure`.
    pub fn elapsed(&self, measure: Measure, a: i64, b: i64) -> i64 {
        match measure {
            Measure::Real => b.saturating_sub(a).max(0),
            Measure::Working => self.working_ms(a, b),
        }
    }

    /// The instant `amount` (in `measure`) after `t`.
    pub fn advance(&self, measure: Measure, t: i64, amount: i64) -> i64 {
        match measure {
            Measure::Real => t.saturating_add(amount),
            Measure::Working => self.advance_working(t, amount),
        }
    }

    /// Working-day time between two instants.
    pub fn working_ms(&self, a: i64, b: i64) -> i64 {
        let (mut c, end) = (self.wall(a), self.wall(b));
        let mut total = 0;
        for _ in 0..MAX_DAYS {
            if c >= end {
                break;
            }
            let day_start = c - c.rem_euclid(DAY);
            let day_end = day_start + DAY;
            if self.is_working_day(wall_date(day_start)) {
                total += day_end.min(end) - c;
            }
            c = day_end;
        }
        total
    }

    /// The instant after `t` at which `amount` of working-day time has passed.
    pub fn advance_working(&self, t: i64, amount: i64) -> i64 {
        let mut c = self.wall(t);
        let mut left = amount.max(0);
        for _ in 0..MAX_DAYS {
            let day_start = c - c.rem_euclid(DAY);
            let day_end = day_start + DAY;
            if self.is_working_day(wall_date(day_start)) {
                let available = day_end - c;
                if left <= available {
                    return self.instant(c + left);
                }
                left -= available;
            }
            c = day_end;
        }
        i64::MAX
    }

    /// The instant before `t` such that `amount` of working-day time lies between it and `t`.
    pub fn rewind_working(&self, t: i64, amount: i64) -> i64 {
        let mut c = self.wall(t);
        let mut left = amount.max(0);
        for _ in 0..MAX_DAYS {
            let into_day = c.rem_euclid(DAY);
            let day_start = if into_day == 0 { c - DAY } else { c - into_day };
            if self.is_working_day(wall_date(day_start)) {
                let available = c - day_start;
                if left <= available {
                    return self.instant(c - left);
                }
                left -= available;
            }
            c = day_start;
        }
        i64::MIN
    }

    /// Whether `t` is within working hours on a working day (always, when the policy sets no hours).
    pub fn in_working_hours(&self, t: i64) -> bool {
        let Some((open, close)) = self.working_hours else { return true };
        let dt = self.datetime(t);
        self.is_working_day(dt.date()) && dt.time() >= open && dt.time() < close
    }

    /// `t` if it is within working hours, else the next opening time.
    pub fn next_working_time(&self, t: i64) -> i64 {
        let Some((open, _)) = self.working_hours else { return t };
        if self.in_working_hours(t) {
            return t;
        }
        let dt = self.datetime(t);
        let mut date = dt.date();
        if !(self.is_working_day(date) && dt.time() < open) {
            date = date.tomorrow().unwrap_or(date);
        }
        for _ in 0..MAX_DAYS {
            if self.is_working_day(date) {
                return self.at(date, open);
            }
            date = match date.tomorrow() {
                Ok(d) => d,
                Err(_) => break,
            };
        }
        t
    }

    /// The local date of an instant.
    pub fn date_of(&self, t: i64) -> Date {
        self.datetime(t).date()
    }

    /// The instant `date` begins (local midnight, or the first instant after it in a DST gap).
    pub fn start_of(&self, date: Date) -> i64 {
        self.at(date, Time::midnight())
    }

    /// An instant as people read it: "2026-12-02 09:00 GMT".
    pub fn show(&self, t: i64) -> String {
        match Timestamp::from_millisecond(t) {
            Ok(ts) => ts.to_zoned_datetime(self.time_zone.clone()).strftime("%Y-%m-%d %H:%M %Z").to_string(),
            Err(_) => "never".into(),
        }
    }

    /// The local date of an instant, as "2026-12-02".
    pub fn show_date(&self, t: i64) -> String {
        if Timestamp::from_millisecond(t).is_err() {
            return "never".into();
        }
        self.date_of(t).to_string()
    }

    fn at(&self, date: Date, time: Time) -> i64 {
        self.time_zone
            .to_ambiguous_zoned_datetime(date.to_datetime(time))
            .compatible()
            .map_or(i64::MAX, |z| z.timestamp().as_millisecond())
    }

    fn datetime(&self, t: i64) -> DateTime {
        let ts = Timestamp::from_millisecond(t).unwrap_or(if t < 0 { Timestamp::MIN } else { Timestamp::MAX });
        self.time_zone.to_datetime(ts)
    }

    /// The wall-clock reading of an instant, as milliseconds on a timeline where every day has 24 hours.
    fn wall(&self, t: i64) -> i64 {
        self.datetime(t).to_zoned_datetime(TimeZone::UTC).map_or(t, |z| z.timestamp().as_millisecond())
    }

    /// The instant a wall-clock reading stands for. In a DST gap the later reading is taken, in a fold the
    /// earlier (jiff's "compatible" choice, as RFC 5545 does it).
    fn instant(&self, wall: i64) -> i64 {
        let Ok(ts) = Timestamp::from_millisecond(wall) else { return i64::MAX };
        let dt = TimeZone::UTC.to_datetime(ts);
        self.time_zone.to_ambiguous_zoned_datetime(dt).compatible().map_or(i64::MAX, |z| z.timestamp().as_millisecond())
    }

    fn calendar_shift(&self, t: i64, duration: PolicyDuration, sign: i64) -> i64 {
        let amount = i64::from(duration.amount) * sign;
        let span = match duration.unit {
            Unit::Days => Span::new().try_days(amount),
            Unit::Weeks => Span::new().try_weeks(amount),
            Unit::Years => Span::new().try_years(amount),
            _ => Span::new().try_months(amount),
        };
        let Ok(ts) = Timestamp::from_millisecond(t) else { return t };
        span.and_then(|s| ts.to_zoned_datetime(self.time_zone.clone()).checked_add(s))
            .map_or(if sign > 0 { i64::MAX } else { i64::MIN }, |z| z.timestamp().as_millisecond())
    }
}

fn exact_ms(d: PolicyDuration) -> i64 {
    d.exact().map_or(i64::MAX, |e| i64::try_from(e.as_millis()).unwrap_or(i64::MAX))
}

fn wall_date(wall: i64) -> Date {
    Timestamp::from_millisecond(wall).map(|ts| TimeZone::UTC.to_datetime(ts).date()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc() -> Calendar {
        Calendar::default()
    }

    fn london() -> Calendar {
        Calendar {
            time_zone: TimeZone::posix("GMT0BST,M3.5.0/1,M10.5.0").unwrap(),
            zone_name: "Europe/London".into(),
            working_hours: Some(("09:00".parse().unwrap(), "17:30".parse().unwrap())),
            holidays: vec![
                Holiday::Yearly { month: 12, day: 25 },
                Holiday::Date("2026-12-28".parse().unwrap()),
                Holiday::Yearly { month: 1, day: 1 },
            ],
            ..Calendar::default()
        }
    }

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn d(s: &str) -> PolicyDuration {
        s.parse().unwrap()
    }

    #[test]
    fn exact_units() {
        let c = utc();
        assert_eq!(c.add(ms("2026-11-23T10:00:00Z"), d("24h")), ms("2026-11-24T10:00:00Z"));
        assert_eq!(c.add(ms("2026-11-23T10:00:00Z"), d("90 days")), ms("2027-02-21T10:00:00Z"));
        assert_eq!(c.sub(ms("2026-11-24T10:00:00Z"), d("4h")), ms("2026-11-24T06:00:00Z"));
    }

    #[test]
    fn months_follow_the_calendar() {
        let c = utc();
        assert_eq!(c.add(ms("2026-01-31T12:00:00Z"), d("1 month")), ms("2026-02-28T12:00:00Z"));
        assert_eq!(c.add(ms("2028-01-31T12:00:00Z"), d("1 month")), ms("2028-02-29T12:00:00Z"));
        assert_eq!(c.add(ms("2026-03-31T12:00:00Z"), d("1 month")), ms("2026-04-30T12:00:00Z"));
        // In London, 31 January 18:00 GMT + 1 month is 28 February 18:00 GMT.
        assert_eq!(london().add(ms("2026-01-31T18:00:00Z"), d("1 month")), ms("2026-02-28T18:00:00Z"));
    }

    #[test]
    fn business_days_skip_weekends() {
        let c = utc();
        // Friday + 1 business day = Monday; Monday + 7 business days = Wednesday of the next week.
        assert_eq!(c.add(ms("2026-11-27T09:00:00Z"), d("1 business day")), ms("2026-11-30T09:00:00Z"));
        assert_eq!(c.add(ms("2026-11-23T09:00:00Z"), d("7 business days")), ms("2026-12-02T09:00:00Z"));
        // A report on Saturday: one business day is all of Monday.
        assert_eq!(c.add(ms("2026-11-28T09:00:00Z"), d("1 business day")), ms("2026-12-01T00:00:00Z"));
        // And back: 2 business days before Wednesday 09:00 is Monday 09:00; before Monday 09:00, Thursday.
        assert_eq!(c.sub(ms("2026-12-02T09:00:00Z"), d("2 business days")), ms("2026-11-30T09:00:00Z"));
        assert_eq!(c.sub(ms("2026-11-30T09:00:00Z"), d("2 business days")), ms("2026-11-26T09:00:00Z"));
    }

    #[test]
    fn business_days_skip_holidays() {
        let c = london();
        // Monday 21 December 2026, 10:00 GMT: the 25th (Friday), the weekend, the 28th (substitute Boxing Day)
        // and New Year's Day do not count: Tue 22, Wed 23, Thu 24, Tue 29, Wed 30, Thu 31, Mon 4 January.
        assert_eq!(c.add(ms("2026-12-21T10:00:00Z"), d("7 business days")), ms("2027-01-04T10:00:00Z"));
        assert!(!c.is_working_day("2027-12-25".parse().unwrap()));
        assert!(c.is_working_day("2027-12-28".parse().unwrap()), "a one-off holiday is not yearly");
    }

    #[test]
    fn dst_keeps_the_wall_clock() {
        let c = london();
        // Clocks go forward on Sunday 29 March 2026: Friday 27 March 10:00 GMT + 1 business day is Monday 30 March
        // 10:00 BST, which is 09:00 UTC.
        assert_eq!(c.add(ms("2026-03-27T10:00:00Z"), d("1 business day")), ms("2026-03-30T09:00:00Z"));
        // Calendar days too: 7 days after Thursday 26 March 12:00 GMT is Thursday 2 April 12:00 BST.
        assert_eq!(c.add(ms("2026-03-26T12:00:00Z"), d("7 days")), ms("2026-04-02T11:00:00Z"));
        // Hours stay exact: 24h is 24h even across the change.
        assert_eq!(c.add(ms("2026-03-28T12:00:00Z"), d("24h")), ms("2026-03-29T12:00:00Z"));
        // And back in October (25 October 2026): 7 days after 22 October 12:00 BST is 29 October 12:00 GMT.
        assert_eq!(c.add(ms("2026-10-22T11:00:00Z"), d("7 days")), ms("2026-10-29T12:00:00Z"));
        assert_eq!(c.show(ms("2026-10-29T12:00:00Z")), "2026-10-29 12:00 GMT");
        assert_eq!(c.show(ms("2026-10-22T11:00:00Z")), "2026-10-22 12:00 BST");
    }

    #[test]
    fn working_time_and_hours() {
        let c = london();
        let mon = ms("2026-11-23T10:00:00Z");
        assert_eq!(c.working_ms(mon, ms("2026-11-30T10:00:00Z")), 5 * DAY);
        assert_eq!(c.advance_working(mon, c.working_ms(mon, ms("2026-11-27T16:00:00Z"))), ms("2026-11-27T16:00:00Z"));
        assert!(c.in_working_hours(mon));
        assert!(!c.in_working_hours(ms("2026-11-23T08:59:00Z")));
        assert!(!c.in_working_hours(ms("2026-11-28T10:00:00Z")), "Saturday");
        // Friday evening → Monday 09:00; Thursday 24 December evening → Tuesday 29 December 09:00.
        assert_eq!(c.next_working_time(ms("2026-11-27T18:00:00Z")), ms("2026-11-30T09:00:00Z"));
        assert_eq!(c.next_working_time(ms("2026-12-24T18:00:00Z")), ms("2026-12-29T09:00:00Z"));
        assert_eq!(c.next_working_time(ms("2026-11-24T07:00:00Z")), ms("2026-11-24T09:00:00Z"));
        assert_eq!(utc().next_working_time(ms("2026-11-28T03:00:00Z")), ms("2026-11-28T03:00:00Z"));
    }

    #[test]
    fn budgets_resume_where_they_paused() {
        let c = london();
        let start = ms("2026-11-23T10:00:00Z");
        let (m, budget) = c.budget(start, d("7 business days"));
        assert_eq!(m, Measure::Working);
        // Paused on Wednesday 10:00 (2 days used), resumed the next Monday 10:00: 5 business days left.
        let used = c.elapsed(m, start, ms("2026-11-25T10:00:00Z"));
        assert_eq!(c.advance(m, ms("2026-11-30T10:00:00Z"), budget - used), ms("2026-12-07T10:00:00Z"));
        let (m, budget) = c.budget(start, d("1 month"));
        assert_eq!((m, budget), (Measure::Real, 30 * DAY));
    }
}

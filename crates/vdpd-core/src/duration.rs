//! Durations as policies write them: "24h", "48 hours", "7 business days", "1 month", "90 days".
//!
//! A disclosure policy promises things in human units, and the difference between "7 days" and "7 business
//! days" or between "30 days" and "1 month" is the difference between keeping and breaking a promise. So the unit
//! is kept, not collapsed into seconds: calendar arithmetic (issue: SLA clocks) needs to know which one it is.

use std::fmt;

use crate::lang::Lang;

/// The unit a policy duration was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Minutes,
    Hours,
    Days,
    BusinessDays,
    Weeks,
    Months,
    Years,
}

/// A duration with the unit it was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PolicyDuration {
    pub amount: u32,
    pub unit: Unit,
}

impl PolicyDuration {
    pub const fn new(amount: u32, unit: Unit) -> Self {
        PolicyDuration { amount, unit }
    }

    /// The exact length for units that have one (seconds to weeks, a day counted as 24 hours); `None` for
    /// months, years and business days, which only a calendar can resolve.
    pub fn exact(&self) -> Option<std::time::Duration> {
        let secs = match self.unit {
            Unit::Seconds => 1,
            Unit::Minutes => 60,
            Unit::Hours => 3600,
            Unit::Days => 86_400,
            Unit::Weeks => 7 * 86_400,
            Unit::Months | Unit::Years | Unit::BusinessDays => return None,
        };
        Some(std::time::Duration::from_secs(u64::from(self.amount) * secs))
    }
}

impl fmt::Display for PolicyDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (one, many) = match self.unit {
            Unit::Seconds => ("second", "seconds"),
            Unit::Minutes => ("minute", "minutes"),
            Unit::Hours => ("hour", "hours"),
            Unit::Days => ("day", "days"),
            Unit::BusinessDays => ("business day", "business days"),
            Unit::Weeks => ("week", "weeks"),
            Unit::Months => ("month", "months"),
            Unit::Years => ("year", "years"),
        };
        let word = if self.amount == 1 { one } else { many };
        write!(f, "{} {}", self.amount, word)
    }
}

impl PolicyDuration {
    /// The duration in words of `lang`, for a template in that language: "7 jours ouvrés", "24 Stunden". In
    /// a language vdpd has no words for ([`Lang::has_own_words`]), English.
    pub fn words(&self, lang: &Lang) -> String {
        let many = self.amount != 1;
        let pick = |one: &'static str, more: &'static str| if many { more } else { one };
        let word = match (lang.as_str(), self.unit) {
            ("fr", Unit::Seconds) => pick("seconde", "secondes"),
            ("fr", Unit::Minutes) => pick("minute", "minutes"),
            ("fr", Unit::Hours) => pick("heure", "heures"),
            ("fr", Unit::Days) => pick("jour", "jours"),
            ("fr", Unit::BusinessDays) => pick("jour ouvré", "jours ouvrés"),
            ("fr", Unit::Weeks) => pick("semaine", "semaines"),
            ("fr", Unit::Months) => "mois",
            ("fr", Unit::Years) => pick("an", "ans"),
            ("de", Unit::Seconds) => pick("Sekunde", "Sekunden"),
            ("de", Unit::Minutes) => pick("Minute", "Minuten"),
            ("de", Unit::Hours) => pick("Stunde", "Stunden"),
            ("de", Unit::Days) => pick("Tag", "Tage"),
            ("de", Unit::BusinessDays) => pick("Werktag", "Werktage"),
            ("de", Unit::Weeks) => pick("Woche", "Wochen"),
            ("de", Unit::Months) => pick("Monat", "Monate"),
            ("de", Unit::Years) => pick("Jahr", "Jahre"),
            ("es", Unit::Seconds) => pick("segundo", "segundos"),
            ("es", Unit::Minutes) => pick("minuto", "minutos"),
            ("es", Unit::Hours) => pick("hora", "horas"),
            ("es", Unit::Days) => pick("día", "días"),
            ("es", Unit::BusinessDays) => pick("día hábil", "días hábiles"),
            ("es", Unit::Weeks) => pick("semana", "semanas"),
            ("es", Unit::Months) => pick("mes", "meses"),
            ("es", Unit::Years) => pick("año", "años"),
            _ => return self.to_string(),
        };
        format!("{} {word}", self.amount)
    }
}

/// Why a duration string was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a duration: write a whole number and a unit, e.g. \"30s\", \"24h\", \"7 business days\", \"1 month\", \"1 year\""
)]
pub struct ParseDurationError(pub String);

impl std::str::FromStr for PolicyDuration {
    type Err = ParseDurationError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || ParseDurationError(s.to_string());
        let t = s.trim();
        let digits = t.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(err());
        }
        let amount: u32 = t[..digits].parse().map_err(|_| err())?;
        let rest = t[digits..].trim().to_ascii_lowercase();
        let rest = rest.split_whitespace().collect::<Vec<_>>().join(" ");
        let unit = match rest.as_str() {
            "s" | "sec" | "secs" | "second" | "seconds" => Unit::Seconds,
            "m" | "min" | "mins" | "minute" | "minutes" => Unit::Minutes,
            "h" | "hr" | "hrs" | "hour" | "hours" => Unit::Hours,
            "d" | "day" | "days" | "calendar day" | "calendar days" => Unit::Days,
            "business day" | "business days" | "working day" | "working days" | "bd" => Unit::BusinessDays,
            "w" | "week" | "weeks" => Unit::Weeks,
            "month" | "months" | "mo" => Unit::Months,
            "y" | "yr" | "yrs" | "year" | "years" => Unit::Years,
            _ => return Err(err()),
        };
        Ok(PolicyDuration { amount, unit })
    }
}

impl<'de> serde::Deserialize<'de> for PolicyDuration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_policies_write() {
        let cases = [
            ("24h", PolicyDuration::new(24, Unit::Hours)),
            ("48 hours", PolicyDuration::new(48, Unit::Hours)),
            ("7 business days", PolicyDuration::new(7, Unit::BusinessDays)),
            ("7 Working  Days", PolicyDuration::new(7, Unit::BusinessDays)),
            ("1 month", PolicyDuration::new(1, Unit::Months)),
            ("90 days", PolicyDuration::new(90, Unit::Days)),
            ("30s", PolicyDuration::new(30, Unit::Seconds)),
            ("5m", PolicyDuration::new(5, Unit::Minutes)),
            ("2 weeks", PolicyDuration::new(2, Unit::Weeks)),
            ("1 year", PolicyDuration::new(1, Unit::Years)),
            ("3y", PolicyDuration::new(3, Unit::Years)),
        ];
        for (text, want) in cases {
            assert_eq!(text.parse::<PolicyDuration>(), Ok(want), "{text}");
        }
    }

    #[test]
    fn refuses_nonsense() {
        for bad in ["", "h", "24", "24 parsecs", "-1h", "1.5h", "99999999999h"] {
            assert!(bad.parse::<PolicyDuration>().is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn exact_only_where_a_unit_has_a_fixed_length() {
        assert_eq!("24h".parse::<PolicyDuration>().unwrap().exact(), Some(std::time::Duration::from_secs(86_400)));
        assert_eq!("1 month".parse::<PolicyDuration>().unwrap().exact(), None);
        assert_eq!("3 business days".parse::<PolicyDuration>().unwrap().exact(), None);
    }

    #[test]
    fn words_in_the_researchers_language() {
        let d = |s: &str| s.parse::<PolicyDuration>().unwrap();
        let fr: Lang = "fr".parse().unwrap();
        assert_eq!(d("7 business days").words(&fr), "7 jours ouvrés");
        assert_eq!(d("1 business day").words(&fr), "1 jour ouvré");
        assert_eq!(d("1 month").words(&fr), "1 mois");
        assert_eq!(d("24h").words(&"de".parse().unwrap()), "24 Stunden");
        assert_eq!(d("2 business days").words(&"es".parse().unwrap()), "2 días hábiles");
        assert_eq!(d("90 days").words(&Lang::english()), "90 days");
        assert_eq!(d("90 days").words(&"nl".parse().unwrap()), "90 days", "no words of its own: English");
    }

    #[test]
    fn displays_like_a_person_writes() {
        assert_eq!("1 business day".parse::<PolicyDuration>().unwrap().to_string(), "1 business day");
        assert_eq!("48h".parse::<PolicyDuration>().unwrap().to_string(), "48 hours");
    }
}

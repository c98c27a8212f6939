//! The rules of honest daily reports (laporan harian): no report dated after today in the
//! region's time zone, back-dating only within the region's reporting window, and a report
//! counts only once its supervisor approved it. Each region sets its own; the defaults keep
//! what the demo's results were built on (a day counts with one approved minute).

use super::date::Date;
use super::{check, FieldError};
use serde::{Deserialize, Serialize};
use std::time::{SystemTime, UNIX_EPOCH};
use utoipa::ToSchema;

/// Indonesia's three time zones; none keeps daylight saving, so each is a fixed offset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum TimeZone {
    /// WIB, UTC+7.
    #[default]
    #[serde(rename = "Asia/Jakarta")]
    Wib,
    /// WITA, UTC+8.
    #[serde(rename = "Asia/Makassar")]
    Wita,
    /// WIT, UTC+9.
    #[serde(rename = "Asia/Jayapura")]
    Wit,
}

impl TimeZone {
    fn offset_secs(self) -> i64 {
        3600 * match self {
            TimeZone::Wib => 7,
            TimeZone::Wita => 8,
            TimeZone::Wit => 9,
        }
    }

    pub fn abbreviation(self) -> &'static str {
        match self {
            TimeZone::Wib => "WIB",
            TimeZone::Wita => "WITA",
            TimeZone::Wit => "WIT",
        }
    }

    /// The calendar date at `now` in this zone.
    pub fn date_at(self, now: SystemTime) -> Date {
        let secs = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        Date::from_days((secs + self.offset_secs()).div_euclid(86_400))
    }
}

/// A region's rules for daily reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct ReportingRules {
    /// The zone whose date is "today" for the region's reports.
    pub time_zone: TimeZone,
    /// Reports of a month may be written until this day of the month the window closes in
    /// (1–28; default 5).
    #[schema(minimum = 1, maximum = 28)]
    pub close_day: u32,
    /// How many months after a report's month its window closes (1–120; default 1: the
    /// reports of March close on 5 April). A region migrating old paper reports opens it wider
    /// for a while.
    #[schema(minimum = 1, maximum = 120)]
    pub window_months: u32,
    /// Pending reports older than this many days are approved by the server (1–60); null
    /// (the default) leaves every report to its supervisor.
    #[schema(minimum = 1, maximum = 60)]
    pub auto_approve_after_days: Option<u32>,
    /// A day counts as reported when its approved reports sum to at least this many minutes
    /// (1–1440; default 1).
    #[schema(minimum = 1, maximum = 1440)]
    pub min_minutes_per_day: u32,
}

impl Default for ReportingRules {
    fn default() -> Self {
        ReportingRules {
            time_zone: TimeZone::Wib,
            close_day: 5,
            window_months: 1,
            auto_approve_after_days: None,
            min_minutes_per_day: 1,
        }
    }
}

/// A PUT of a region's reporting rules, as `ReportingRules` reads it but for the time zone:
/// fields left out take their defaults, while a time zone left out (or null) keeps the
/// region's own, which is a setting of the region rather than of its reporting.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ReportingRulesPut {
    pub time_zone: Option<TimeZone>,
    pub close_day: u32,
    pub window_months: u32,
    pub auto_approve_after_days: Option<u32>,
    pub min_minutes_per_day: u32,
}

impl Default for ReportingRulesPut {
    fn default() -> Self {
        let ReportingRules {
            time_zone: _,
            close_day,
            window_months,
            auto_approve_after_days,
            min_minutes_per_day,
        } = ReportingRules::default();
        ReportingRulesPut {
            time_zone: None,
            close_day,
            window_months,
            auto_approve_after_days,
            min_minutes_per_day,
        }
    }
}

impl ReportingRulesPut {
    /// The rules to store, and whether the region's time zone stays as it is.
    pub fn rules(self) -> (ReportingRules, bool) {
        let rules = ReportingRules {
            time_zone: self
                .time_zone
                .unwrap_or(ReportingRules::default().time_zone),
            close_day: self.close_day,
            window_months: self.window_months,
            auto_approve_after_days: self.auto_approve_after_days,
            min_minutes_per_day: self.min_minutes_per_day,
        };
        (rules, self.time_zone.is_none())
    }
}

impl ReportingRules {
    pub fn validate(&self) -> Result<(), FieldError> {
        check(
            (1..=28).contains(&self.close_day),
            "close_day",
            "must be 1–28",
        )?;
        check(
            (1..=120).contains(&self.window_months),
            "window_months",
            "must be 1–120",
        )?;
        check(
            self.auto_approve_after_days
                .is_none_or(|d| (1..=60).contains(&d)),
            "auto_approve_after_days",
            "must be 1–60 or null",
        )?;
        check(
            (1..=1440).contains(&self.min_minutes_per_day),
            "min_minutes_per_day",
            "must be 1–1440",
        )
    }

    /// The first date a report may still carry when written on `today`: the first day of the
    /// oldest month whose window has not closed.
    pub fn earliest(&self, today: Date) -> Date {
        let months = today.year * 12 + today.month as i32 - 1;
        // Past the close day the month that closed today is out too.
        let open_back = self.window_months as i32 - i32::from(today.day > self.close_day);
        let first = months - open_back;
        Date {
            year: first.div_euclid(12),
            month: first.rem_euclid(12) as u32 + 1,
            day: 1,
        }
    }

    /// Whether a report dated `date`, written at `now`, is honest: not after today in the
    /// region's zone and not before its window. The error names the field and the rule.
    pub fn check_date(&self, field: &str, date: Date, now: SystemTime) -> Result<(), FieldError> {
        let today = self.time_zone.date_at(now);
        if date > today {
            return Err(FieldError::new(
                field,
                format!(
                    "{date} is after today ({today} {}); report a day once it has begun",
                    self.time_zone.abbreviation()
                ),
            ));
        }
        let earliest = self.earliest(today);
        if date < earliest {
            return Err(FieldError::new(
                field,
                format!(
                    "{date} is outside the reporting window: reports of {} and earlier closed (a month's reports close on day {} of the {} month after it; the earliest date open today is {earliest})",
                    month_before(earliest),
                    self.close_day,
                    ordinal(self.window_months)
                ),
            ));
        }
        Ok(())
    }
}

/// `1st`, `2nd`, `3rd`, `4th`, … (for the window's months in a message).
fn ordinal(n: u32) -> String {
    let suffix = match (n % 10, n % 100) {
        (1, 11) | (2, 12) | (3, 13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

/// `YYYY-MM` of the month before `d`'s.
fn month_before(d: Date) -> String {
    let m = d.year * 12 + d.month as i32 - 2;
    format!("{:04}-{:02}", m.div_euclid(12), m.rem_euclid(12) + 1)
}

/// Where a daily report stands. Only approved reports count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportState {
    /// Written by the employee (or their agency), awaiting the supervisor.
    Pending,
    Approved,
    Rejected,
}

impl ReportState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReportState::Pending => "pending",
            ReportState::Approved => "approved",
            ReportState::Rejected => "rejected",
        }
    }

    /// Reports stored before reports had states were all counted: they stay counted.
    pub fn stored_before_states() -> Self {
        ReportState::Approved
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn d(s: &str) -> Date {
        s.parse().expect("date")
    }

    /// A PUT that leaves the time zone out keeps the region's; every other field left out
    /// takes its default, and a field of the wrong type or an unknown one is still refused.
    #[test]
    fn a_put_without_a_time_zone_keeps_the_regions() {
        let put = |body: &str| serde_json::from_str::<ReportingRulesPut>(body).map(|p| p.rules());
        assert_eq!(put("{}").expect("empty"), (ReportingRules::default(), true));
        let (rules, keep) = put(r#"{"time_zone": "Asia/Makassar", "close_day": 10}"#).expect("set");
        assert_eq!(
            (rules.time_zone, rules.close_day, keep),
            (TimeZone::Wita, 10, false)
        );
        assert_eq!(rules.window_months, ReportingRules::default().window_months);
        assert!(put(r#"{"close_day": null}"#).is_err());
        assert!(put(r#"{"closeday": 3}"#).is_err());
    }

    fn at(rfc: &str) -> SystemTime {
        // `YYYY-MM-DDTHH:MM:SSZ`
        let date: Date = rfc[..10].parse().expect("date");
        let h: u64 = rfc[11..13].parse().expect("hour");
        let m: u64 = rfc[14..16].parse().expect("minute");
        UNIX_EPOCH + Duration::from_secs(date.to_days() as u64 * 86_400 + h * 3600 + m * 60)
    }

    /// The window closes on the 5th of the next month by default, judged in the region's zone.
    #[test]
    fn the_window_is_the_open_months_in_the_regions_zone() {
        let r = ReportingRules::default();
        assert_eq!(r.earliest(d("2026-12-05")), d("2026-11-01"));
        assert_eq!(r.earliest(d("2026-12-06")), d("2026-12-01"));
        assert_eq!(r.earliest(d("2026-01-03")), d("2025-12-01"));
        let wide = ReportingRules {
            window_months: 13,
            ..r
        };
        assert_eq!(wide.earliest(d("2026-12-06")), d("2025-12-01"));

        // 2026-12-05 17:30 UTC is already the 6th in Jakarta: November has closed there.
        let now = at("2026-12-05T17:30Z");
        let err = r.check_date("date", d("2026-11-30"), now).unwrap_err();
        assert!(err.to_string().contains("2026-11"), "{err}");
        assert!(err.to_string().contains("date"), "{err}");
        assert!(r.check_date("date", d("2026-12-06"), now).is_ok());
        let err = r.check_date("date", d("2026-12-07"), now).unwrap_err();
        assert!(
            err.to_string().contains("after today (2026-12-06 WIB)"),
            "{err}"
        );
        // At 16:30 UTC it is still the 5th in Jakarta (23:30): November is open, the 6th not yet.
        let earlier = at("2026-12-05T16:30Z");
        assert!(r.check_date("date", d("2026-11-01"), earlier).is_ok());
        assert!(r.check_date("date", d("2026-12-06"), earlier).is_err());
        let papua = ReportingRules {
            time_zone: TimeZone::Wit,
            ..r
        };
        assert!(papua.check_date("date", d("2026-12-06"), earlier).is_ok());
    }

    #[test]
    fn rules_out_of_range_name_their_field() {
        for (rules, field) in [
            (
                ReportingRules {
                    close_day: 29,
                    ..Default::default()
                },
                "close_day",
            ),
            (
                ReportingRules {
                    window_months: 0,
                    ..Default::default()
                },
                "window_months",
            ),
            (
                ReportingRules {
                    auto_approve_after_days: Some(0),
                    ..Default::default()
                },
                "auto_approve_after_days",
            ),
            (
                ReportingRules {
                    min_minutes_per_day: 0,
                    ..Default::default()
                },
                "min_minutes_per_day",
            ),
        ] {
            let err = rules.validate().unwrap_err().to_string();
            assert!(err.contains(field), "{err}");
        }
        assert!(ReportingRules::default().validate().is_ok());
    }
}

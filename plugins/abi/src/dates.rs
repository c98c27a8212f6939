//! Calendar dates as ABI 1 writes them (`YYYY-MM-DD`), without a date crate: parsing,
//! validation, ordering, weekdays, day arithmetic and tenure in whole months are all either
//! side needs. One definition for the host (which validates what clients send with it) and for
//! plugins (which have no trustworthy clock: every date arrives in the request).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::str::FromStr;

/// The earliest and latest dates the host accepts anywhere; anything outside is a typo.
pub const MIN_YEAR: i32 = 1940;
pub const MAX_YEAR: i32 = 2100;

/// A proleptic Gregorian calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

/// Whether `year` has a 29 February.
pub fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1–12) of `year`; 0 for any other month.
pub fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// A checked constructor: `None` for impossible dates such as 2026-02-30 or years outside
    /// [`MIN_YEAR`, `MAX_YEAR`].
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) || !(1..=12).contains(&month) {
            return None;
        }
        if day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// Days since 1970-01-01 (Howard Hinnant's days_from_civil), for arithmetic and weekdays.
    pub fn to_days(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = if y >= 0 { y } else { y - 399 } / 400;
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The inverse of [`Date::to_days`]; no range check, callers stay within the calendar.
    pub fn from_days(z: i64) -> Date {
        let z = z + 719_468;
        let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let y = yoe + era * 400;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
        Date {
            year: (y + i64::from(m <= 2)) as i32,
            month: m,
            day: d,
        }
    }

    /// ISO weekday, Monday = 1 … Sunday = 7.
    pub fn weekday(self) -> u32 {
        // 1970-01-01 was a Thursday (4).
        ((self.to_days() + 3).rem_euclid(7) + 1) as u32
    }

    pub fn is_weekday(self) -> bool {
        self.weekday() <= 5
    }
}

/// Counts Monday–Friday dates in `[start, end]`, the default number of working days of a period.
pub fn weekdays_between(start: Date, end: Date) -> u32 {
    let (a, b) = (start.to_days(), end.to_days());
    if b < a {
        return 0;
    }
    let total = b - a + 1;
    let full_weeks = total / 7;
    let mut count = full_weeks * 5;
    let rest_start = a + full_weeks * 7;
    for d in rest_start..=b {
        if Date::from_days(d).is_weekday() {
            count += 1;
        }
    }
    count as u32
}

/// A text that is not a date this crate accepts; it keeps (the first 40 characters of) the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateError(pub String);

impl fmt::Display for DateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` is not a real date in the form YYYY-MM-DD between {MIN_YEAR} and {MAX_YEAR}",
            self.0
        )
    }
}

impl std::error::Error for DateError {}

impl Date {
    /// Parses exactly `YYYY-MM-DD`: four-digit year, two-digit month and day, a real date.
    pub fn parse(s: &str) -> Result<Date, DateError> {
        s.parse()
    }
}

/// Whole months from `since` to `as_of`: 12 × (years apart) + (months apart), less one when the
/// day of `as_of` is smaller than the day of `since`; never below 0.
///
/// This is the policy's definition, not "add months and compare": 2021-01-31 → 2021-02-28 is 0
/// months (the 31st is not reached), and 2021-03-15 → 2026-03-14 is 59.
pub fn tenure_months(since: Date, as_of: Date) -> u32 {
    let months = 12 * (i64::from(as_of.year) - i64::from(since.year))
        + (i64::from(as_of.month) - i64::from(since.month))
        - i64::from(as_of.day < since.day);
    u32::try_from(months.max(0)).unwrap_or(u32::MAX)
}

impl FromStr for Date {
    type Err = DateError;
    fn from_str(s: &str) -> Result<Date, DateError> {
        let err = || DateError(s.chars().take(40).collect());
        let b = s.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
            return Err(err());
        }
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            let part = s.get(r)?;
            if part.bytes().all(|c| c.is_ascii_digit()) {
                part.parse().ok()
            } else {
                None
            }
        };
        let (y, m, d) = (num(0..4), num(5..7), num(8..10));
        match (y, m, d) {
            (Some(y), Some(m), Some(d)) => Date::new(y as i32, m, d).ok_or_else(err),
            _ => Err(err()),
        }
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Date, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(feature = "openapi")]
impl utoipa::PartialSchema for Date {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .format(Some(utoipa::openapi::SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Date,
            )))
            .examples(["2026-03-01"])
            .into()
    }
}
#[cfg(feature = "openapi")]
impl utoipa::ToSchema for Date {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_rejects() {
        assert_eq!(
            "2024-02-29".parse::<Date>().unwrap(),
            Date::new(2024, 2, 29).unwrap()
        );
        for bad in [
            "2026-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-1-01",
            "x",
            "1800-01-01",
            "2026-04-31",
            "+026-01-01",
        ] {
            assert!(bad.parse::<Date>().is_err(), "{bad}");
        }
    }

    #[test]
    fn day_round_trip_and_weekday() {
        let d = Date::new(2026, 11, 23).unwrap();
        assert_eq!(d.weekday(), 1, "2026-11-23 is a Monday");
        for z in -30_000..60_000 {
            assert_eq!(Date::from_days(z).to_days(), z);
        }
    }

    #[test]
    fn weekdays_of_2026() {
        let s = Date::new(2026, 1, 1).unwrap();
        let e = Date::new(2026, 12, 31).unwrap();
        assert_eq!(weekdays_between(s, e), 261);
        assert_eq!(weekdays_between(e, s), 0);
        // Saturday and Sunday alone.
        let sat = Date::new(2026, 11, 21).unwrap();
        assert_eq!(weekdays_between(sat, Date::new(2026, 11, 22).unwrap()), 0);
    }

    fn d(s: &str) -> Date {
        Date::parse(s).expect("test date")
    }

    #[test]
    fn tenure_edge_days() {
        assert_eq!(tenure_months(d("2021-03-15"), d("2026-03-14")), 59);
        assert_eq!(tenure_months(d("2021-03-15"), d("2026-03-15")), 60);
        assert_eq!(tenure_months(d("2021-03-15"), d("2026-03-16")), 60);
        assert_eq!(tenure_months(d("2021-01-31"), d("2021-02-28")), 0);
        assert_eq!(tenure_months(d("2021-01-31"), d("2021-03-01")), 1);
        assert_eq!(tenure_months(d("2020-02-29"), d("2021-02-28")), 11);
        assert_eq!(tenure_months(d("2024-12-31"), d("2026-12-31")), 24);
        assert_eq!(tenure_months(d("2025-01-01"), d("2026-12-31")), 23);
        assert_eq!(tenure_months(d("2026-12-31"), d("2026-12-31")), 0);
        // Never below 0, even when the start lies after as_of.
        assert_eq!(tenure_months(d("2027-06-01"), d("2026-12-31")), 0);
    }

    #[test]
    fn parse_accepts_only_real_dates_in_the_contract_format() {
        assert_eq!(
            d("2024-02-29"),
            Date {
                year: 2024,
                month: 2,
                day: 29
            }
        );
        assert_eq!(d("2000-02-29").to_string(), "2000-02-29");
        for bad in [
            "2023-02-29",
            "1900-02-29",
            "2026-13-01",
            "2026-00-10",
            "2026-04-31",
            "2026-4-01",
            "2026/04/01",
            "26-04-01",
            "2026-04-01T00:00:00",
            "",
            "２０２６-04-01",
        ] {
            assert!(Date::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(days_in_month(2026, 2), 28);
        assert_eq!(days_in_month(2028, 2), 29);
    }
}

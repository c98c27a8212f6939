//! Calendar dates as the contract writes them (`YYYY-MM-DD`) and tenure in whole months.
//!
//! A plugin has no trustworthy clock (the sandbox's clock is fixed), so every date arrives in
//! the request and only these two operations are needed; no date library is pulled in.

use std::fmt;
use std::str::FromStr;

/// A proleptic Gregorian calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in `month` (1–12) of `year`.
pub fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

impl Date {
    /// A checked date.
    pub fn new(year: i32, month: u8, day: u8) -> Result<Date, String> {
        if !(1..=12).contains(&month) {
            return Err(format!("month {month} is not within 1–12"));
        }
        if day == 0 || day > days_in_month(year, month) {
            return Err(format!("{year:04}-{month:02} has no day {day}"));
        }
        Ok(Date { year, month, day })
    }

    /// Parses exactly `YYYY-MM-DD` (four-digit year, two-digit month and day, a real date).
    pub fn parse(s: &str) -> Result<Date, String> {
        let b = s.as_bytes();
        let well_formed = b.len() == 10
            && b[4] == b'-'
            && b[7] == b'-'
            && b.iter()
                .enumerate()
                .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
        if !well_formed {
            return Err(format!("{s:?} is not a date of the form YYYY-MM-DD"));
        }
        let num = |r: std::ops::Range<usize>| {
            b[r].iter()
                .fold(0u32, |acc, c| acc * 10 + u32::from(c - b'0'))
        };
        // The digit counts bound these: year < 10000, month and day < 100.
        let (year, month, day) = (num(0..4) as i32, num(5..7) as u8, num(8..10) as u8);
        Date::new(year, month, day).map_err(|e| format!("{s:?} is not a valid date: {e}"))
    }
}

impl FromStr for Date {
    type Err = String;
    fn from_str(s: &str) -> Result<Date, String> {
        Date::parse(s)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
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

#[cfg(test)]
mod tests {
    use super::*;

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

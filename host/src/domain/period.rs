//! Period ids: `YYYY` (annual), `YYYY-Qn` (quarter) and `YYYY-MM` (month), each with its first
//! and last day, which the host needs to count working days and reported days.

use super::date::{days_in_month, Date};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Period {
    Year(i32),
    Quarter(i32, u32),
    Month(i32, u32),
}

impl Period {
    pub fn parse(s: &str) -> Result<Period, String> {
        let shown: String = s.chars().take(20).collect();
        let err =
            || format!("period `{shown}` must be YYYY, YYYY-Qn (n 1–4) or YYYY-MM, year 2000–2100");
        let year = |p: &str| -> Option<i32> {
            (p.len() == 4 && p.bytes().all(|b| b.is_ascii_digit()))
                .then(|| p.parse().ok())
                .flatten()
                .filter(|y| (2000..=2100).contains(y))
        };
        let b = s.as_bytes();
        let p = match b.len() {
            4 => Period::Year(year(s).ok_or_else(err)?),
            7 if b[4] == b'-' && b[5] == b'Q' => {
                let q = (b[6] as char).to_digit(10).filter(|q| (1..=4).contains(q));
                Period::Quarter(year(&s[0..4]).ok_or_else(err)?, q.ok_or_else(err)?)
            }
            7 if b[4] == b'-' => {
                let m = s[5..7].parse::<u32>().ok().filter(|m| {
                    s[5..7].bytes().all(|c| c.is_ascii_digit()) && (1..=12).contains(m)
                });
                Period::Month(year(&s[0..4]).ok_or_else(err)?, m.ok_or_else(err)?)
            }
            _ => return Err(err()),
        };
        Ok(p)
    }

    pub fn start(self) -> Date {
        let (y, m) = match self {
            Period::Year(y) => (y, 1),
            Period::Quarter(y, q) => (y, 3 * q - 2),
            Period::Month(y, m) => (y, m),
        };
        Date {
            year: y,
            month: m,
            day: 1,
        }
    }

    pub fn end(self) -> Date {
        let (y, m) = match self {
            Period::Year(y) => (y, 12),
            Period::Quarter(y, q) => (y, 3 * q),
            Period::Month(y, m) => (y, m),
        };
        Date {
            year: y,
            month: m,
            day: days_in_month(y, m),
        }
    }

    /// The year the period lies in.
    pub fn year(self) -> i32 {
        match self {
            Period::Year(y) | Period::Quarter(y, _) | Period::Month(y, _) => y,
        }
    }

    /// Calendar days in the period; an upper bound for `working_days`.
    pub fn days(self) -> u32 {
        (self.end().to_days() - self.start().to_days() + 1) as u32
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Year(y) => write!(f, "{y:04}"),
            Period::Quarter(y, q) => write!(f, "{y:04}-Q{q}"),
            Period::Month(y, m) => write!(f, "{y:04}-{m:02}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_bounds() {
        let p = Period::parse("2026-Q1").unwrap();
        assert_eq!(
            (p.start().to_string(), p.end().to_string()),
            ("2026-01-01".into(), "2026-03-31".into())
        );
        assert_eq!(
            Period::parse("2024-02").unwrap().end().to_string(),
            "2024-02-29"
        );
        assert_eq!(Period::parse("2026").unwrap().days(), 365);
        for bad in [
            "2026-Q5", "2026-Q0", "2026-13", "2026-00", "26", "1999", "2026-1", "abcd", "2026-Qx",
            "2026/01",
        ] {
            assert!(Period::parse(bad).is_err(), "{bad}");
        }
        for good in ["2026", "2026-Q4", "2026-12"] {
            assert_eq!(Period::parse(good).unwrap().to_string(), good);
        }
    }
}

//! The NIP (Nomor Induk Pegawai): 18 digits that encode birth date, appointment month, sex and a
//! sequence. Validating the parts catches most typos before they become orphan records.

use super::date::Date;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Nip(String);

impl Nip {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Checks all four parts and says which one is wrong, so a clerk can fix the right digits.
    pub fn parse(s: &str) -> Result<Nip, String> {
        let shown: String = s.chars().take(40).collect();
        if s.len() != 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(format!("NIP `{shown}` must be exactly 18 digits"));
        }
        let n = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(0);
        let birth = Date::new(n(0..4) as i32, n(4..6), n(6..8)).ok_or_else(|| {
            format!(
                "NIP `{s}`: digits 1–8 ({}) are not a real birth date YYYYMMDD",
                &s[0..8]
            )
        })?;
        let (ay, am) = (n(8..12) as i32, n(12..14));
        if !(1..=12).contains(&am) || !(1950..=2100).contains(&ay) {
            return Err(format!(
                "NIP `{s}`: digits 9–14 ({}) are not an appointment month YYYYMM",
                &s[8..14]
            ));
        }
        // Appointment must not come before the 18th birthday (compared at month granularity,
        // since the appointment carries no day).
        let adult_year = birth.year + 18;
        if (ay, am) < (adult_year, birth.month) {
            return Err(format!(
                "NIP `{s}`: appointment {}-{:02} is before the 18th birthday ({}-{:02})",
                ay, am, adult_year, birth.month
            ));
        }
        match &s[14..15] {
            "1" | "2" => {}
            other => {
                return Err(format!(
                    "NIP `{s}`: digit 15 (sex) is {other}, must be 1 or 2"
                ))
            }
        }
        Ok(Nip(s.to_string()))
    }

    pub fn birth_date(&self) -> Option<Date> {
        let n = |r: std::ops::Range<usize>| self.0[r].parse::<u32>().ok();
        Date::new(n(0..4)? as i32, n(4..6)?, n(6..8)?)
    }

    /// The first day of the appointment month (digits 9–14, YYYYMM): the NIP carries no day,
    /// so the month's first day is the earliest the employee can have held any position.
    pub fn appointment_start(&self) -> Option<Date> {
        let n = |r: std::ops::Range<usize>| self.0[r].parse::<u32>().ok();
        Date::new(n(8..12)? as i32, n(12..14)?, 1)
    }
}

impl fmt::Display for Nip {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_and_invalid() {
        assert!(Nip::parse("198503122010011001").is_ok());
        assert!(Nip::parse("198503122003031001").is_ok(), "exactly 18 years");
        let cases = [
            ("12345", "18 digits"),
            ("19850312201001100a", "18 digits"),
            ("198502302010011001", "birth date"),
            ("198503122010131001", "appointment month"),
            ("198503122003021001", "18th birthday"),
            ("198503122010013001", "sex"),
        ];
        for (nip, needle) in cases {
            let e = Nip::parse(nip).unwrap_err();
            assert!(e.contains(needle), "{nip}: {e}");
        }
    }

    #[test]
    fn appointment_start_is_the_first_of_the_month() {
        let nip = Nip::parse("198503122010111001").unwrap();
        assert_eq!(nip.appointment_start(), Date::new(2010, 11, 1));
        assert_eq!(nip.birth_date(), Date::new(1985, 3, 12));
    }
}

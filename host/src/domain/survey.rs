//! The public satisfaction survey (SKM) of PermenPANRB 14/2017: nine elements scored 1–4 by
//! each respondent; the unit's IKM is the mean of the element means, its converted index
//! IKM × 25, graded A–D. Respondents answer with a single-use code the agency handed out, so
//! the count of answers is bounded by the codes issued.

use super::period::Period;
use super::records::PublicFeedback;
use super::{check, FieldError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The survey's elements (unsur), in the regulation's order.
pub const ELEMENTS: [&str; 9] = [
    "persyaratan",
    "sistem_mekanisme_prosedur",
    "waktu_penyelesaian",
    "biaya_tarif",
    "produk_spesifikasi",
    "kompetensi_pelaksana",
    "perilaku_pelaksana",
    "penanganan_pengaduan",
    "sarana_prasarana",
];

/// Most codes one request issues: a day's counter of a large unit, and one commit.
pub const MAX_CODES: u32 = 1000;

/// The agency's request for survey codes.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyInput {
    /// A service unit of the agency (see the employee's `service_unit`); absent: the agency.
    #[serde(default)]
    pub unit: Option<String>,
    /// The period the answers count for: `YYYY`, `YYYY-Qn` or `YYYY-MM`.
    pub period: String,
    /// 1–1000.
    pub count: u32,
}

impl SurveyInput {
    pub fn validate(&self) -> Result<Period, FieldError> {
        if let Some(u) = &self.unit {
            super::validate_id("unit", u)?;
        }
        check(
            (1..=MAX_CODES).contains(&self.count),
            "count",
            format!("1–{MAX_CODES} codes per request"),
        )?;
        Period::parse(&self.period).map_err(|m| FieldError::new("period", m))
    }
}

/// One respondent's answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyAnswer {
    /// Nine scores 1–4, in the order of the elements (persyaratan … sarana_prasarana).
    #[schema(min_items = 9, max_items = 9)]
    pub elements: Vec<u8>,
}

impl SurveyAnswer {
    pub fn validate(&self) -> Result<[u8; 9], FieldError> {
        let scores: [u8; 9] = self.elements.as_slice().try_into().map_err(|_| {
            FieldError::new(
                "elements",
                format!("nine scores, one per element, not {}", self.elements.len()),
            )
        })?;
        for (i, v) in scores.iter().enumerate() {
            check(
                (1..=4).contains(v),
                &format!("elements[{i}]"),
                format!("{} must be scored 1–4", ELEMENTS[i]),
            )?;
        }
        Ok(scores)
    }
}

/// The answers of one unit for one period, summed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub sums: [u64; 9],
    pub respondents: u32,
    /// Codes issued for the unit and period: respondents can never exceed it.
    #[serde(default)]
    pub issued: u32,
}

impl Tally {
    pub fn add(&mut self, scores: [u8; 9]) {
        for (s, v) in self.sums.iter_mut().zip(scores) {
            *s += u64::from(v);
        }
        self.respondents += 1;
    }

    /// Each element's mean, 1–4 (none before the first answer).
    pub fn means(&self) -> Option<[f64; 9]> {
        (self.respondents > 0).then(|| self.sums.map(|s| s as f64 / f64::from(self.respondents)))
    }

    /// The IKM: the mean of the element means (each element weighs 1/9).
    pub fn ikm(&self) -> Option<f64> {
        self.means().map(|m| m.iter().sum::<f64>() / 9.0)
    }

    /// The converted index, IKM × 25 (25–100).
    pub fn index(&self) -> Option<f64> {
        self.ikm().map(|i| i * 25.0)
    }

    /// What an appraisal case carries as `public_feedback`.
    pub fn feedback(&self) -> Option<PublicFeedback> {
        Some(PublicFeedback {
            ikm: self.ikm()?,
            respondents: self.respondents,
        })
    }
}

/// The grade of a converted index (IKM × 25), from the regulation's intervals.
pub fn grade(index: f64) -> &'static str {
    let i = (index * 100.0).round() / 100.0;
    if i >= 88.31 {
        "A"
    } else if i >= 76.61 {
        "B"
    } else if i >= 65.0 {
        "C"
    } else {
        "D"
    }
}

/// A unit's survey result as the agency reads it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct IkmReport {
    pub agency: String,
    pub unit: Option<String>,
    pub period: String,
    pub respondents: u32,
    /// 1–4; null before the first answer.
    pub ikm: Option<f64>,
    /// IKM × 25 (25–100).
    pub index: Option<f64>,
    /// `A` (Sangat Baik), `B` (Baik), `C` (Kurang Baik) or `D` (Tidak Baik).
    pub grade: Option<String>,
    /// Each element's mean, in the order of the elements.
    pub elements: Option<Vec<f64>>,
    /// Codes issued for the unit and period, and how many are still unused.
    pub codes_issued: u32,
    pub codes_unused: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ikm_is_the_mean_of_element_means_graded_by_the_regulation() {
        let mut t = Tally::default();
        assert_eq!(t.ikm(), None);
        t.add([4, 4, 4, 4, 4, 4, 4, 4, 4]);
        t.add([3, 3, 3, 3, 3, 3, 3, 3, 2]);
        let ikm = t.ikm().unwrap();
        assert!((ikm - (3.5 * 8.0 + 3.0) / 9.0).abs() < 1e-12, "{ikm}");
        assert_eq!(grade(ikm * 25.0), "B");
        assert_eq!(grade(88.31), "A");
        assert_eq!(grade(88.30), "B");
        assert_eq!(grade(76.6), "C");
        assert_eq!(grade(64.99), "D");
        assert_eq!(t.feedback().unwrap().respondents, 2);
    }

    #[test]
    fn answers_have_nine_scores_of_one_to_four() {
        let a = |v: Vec<u8>| SurveyAnswer { elements: v }.validate();
        assert!(a(vec![4; 9]).is_ok());
        assert!(a(vec![4; 8]).unwrap_err().to_string().contains("not 8"));
        assert!(a(vec![5, 4, 4, 4, 4, 4, 4, 4, 4])
            .unwrap_err()
            .to_string()
            .starts_with("elements[0]"));
        assert!(a(vec![4, 4, 4, 4, 4, 4, 4, 4, 0]).is_err());
    }
}

//! Building the ABI 1 request documents from stored records. Pure functions: the caller reads
//! the records, these shape them exactly as plugin-contract.md says.

use crate::domain::date::{weekdays_between, Date};
use crate::domain::period::Period;
use crate::domain::records::*;
use crate::store::{Recorded, Reported};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct CaseEmployee {
    pub nip: String,
    pub name: String,
    pub agency: String,
    pub position_id: String,
    pub position_since: Date,
}

#[derive(Debug, Clone, Serialize)]
pub struct CasePeriod {
    pub id: String,
    pub start: Date,
    pub end: Date,
    pub working_days: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseBehavior {
    pub supervisor: Ratings,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub peers: Vec<Ratings>,
    #[serde(rename = "self", skip_serializing_if = "Option::is_none")]
    pub self_rating: Option<Ratings>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseActivities {
    pub days_reported: u32,
    pub minutes_reported: u64,
}

/// One employee's appraisal case.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub employee: CaseEmployee,
    pub period: CasePeriod,
    pub indicators: Vec<Indicator>,
    pub behavior: CaseBehavior,
    pub activities: CaseActivities,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub innovations: Vec<Innovation>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub process: BTreeMap<String, f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_feedback: Option<PublicFeedback>,
}

/// Why an employee got no case.
pub const NO_PERIOD_RECORD: &str = "no period record";
pub const NO_SUPERVISOR: &str = "no supervisor ratings";

/// Working days of a period: the record's own figure (holidays taken out) or Monday–Friday.
pub fn working_days(period: Period, record: &PeriodInput) -> u32 {
    record
        .working_days
        .unwrap_or_else(|| weekdays_between(period.start(), period.end()))
        .max(1)
}

/// The case of one employee, or the reason there is none. `reported` counts the period's
/// approved reports; its days are capped at the working days here. The input is
/// taken, not borrowed: a region-wide appraisal builds 100,000 cases and copying each one's
/// indicators and ratings would be a visible share of it.
pub fn case(
    emp: &Employee,
    period: Period,
    record: Recorded,
    reported: Reported,
) -> Result<Case, String> {
    let data = record?.ok_or(NO_PERIOD_RECORD)?;
    let supervisor = data.behavior.supervisor.ok_or(NO_SUPERVISOR)?;
    let wd = working_days(period, &data);
    Ok(Case {
        employee: CaseEmployee {
            nip: emp.nip.clone(),
            name: emp.name.clone(),
            agency: emp.agency.clone(),
            position_id: emp.position_id.clone(),
            position_since: emp.position_since,
        },
        period: CasePeriod {
            id: period.to_string(),
            start: period.start(),
            end: period.end(),
            working_days: wd,
        },
        indicators: data.indicators,
        behavior: CaseBehavior {
            supervisor,
            peers: data.behavior.peers,
            self_rating: data.behavior.self_rating,
        },
        activities: CaseActivities {
            days_reported: reported.days.min(wd),
            minutes_reported: reported.minutes,
        },
        innovations: data.innovations,
        process: data.process,
        budget: data.budget,
        public_feedback: data.public_feedback,
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct AppraiseRequest<'a> {
    pub abi: u32,
    pub hook: &'static str,
    pub region: &'a str,
    pub config: &'a serde_json::Value,
    pub cases: &'a [Box<Case>],
}

#[derive(Debug, Clone, Serialize)]
pub struct RotateEmployee {
    pub nip: String,
    pub agency: String,
    pub position_id: String,
    pub position_since: Date,
    pub competencies: BTreeMap<String, u8>,
    pub latest_predikat: Option<String>,
    pub potential: Option<Potential>,
    pub declined_rotation: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct RotatePosition {
    pub id: String,
    pub title: String,
    pub agency: String,
    pub kind: PositionKind,
    pub level: u8,
    pub required: BTreeMap<String, u8>,
    pub vacancies: u32,
}

#[derive(Debug, Clone, Serialize)]
pub struct RotateRequest<'a> {
    pub abi: u32,
    pub hook: &'static str,
    pub region: &'a str,
    pub config: &'a serde_json::Value,
    pub as_of: Date,
    pub employees: &'a [RotateEmployee],
    pub positions: &'a [RotatePosition],
}

pub fn rotate_employee(e: &Employee, latest_predikat: Option<String>) -> RotateEmployee {
    RotateEmployee {
        nip: e.nip.clone(),
        agency: e.agency.clone(),
        position_id: e.position_id.clone(),
        position_since: e.position_since,
        competencies: e.competencies.clone(),
        latest_predikat,
        potential: e.potential,
        declined_rotation: e.declined_rotation,
    }
}

/// The target positions of a scope plus every employee's current position, so the plugin
/// always knows the level and kind an employee starts from. Each one's `vacancies` is the
/// view's: `max(ceil(needed) − holders, 0)` with a workload analysis, else capacity − holders
/// (`PositionView::new`).
pub fn rotate_positions(
    all: &[PositionView],
    agency: Option<&str>,
    employees: &[RotateEmployee],
) -> Vec<RotatePosition> {
    let current: std::collections::BTreeSet<&str> =
        employees.iter().map(|e| e.position_id.as_str()).collect();
    all.iter()
        .filter(|p| {
            agency.is_none_or(|a| p.position.agency == a)
                || current.contains(p.position.id.as_str())
        })
        .map(|p| RotatePosition {
            id: p.position.id.clone(),
            title: p.position.title.clone(),
            agency: p.position.agency.clone(),
            kind: p.position.kind,
            level: p.position.level,
            required: p.position.required.clone(),
            vacancies: p.vacancies,
        })
        .collect()
}

/// An employee for tests that need one.
#[cfg(test)]
pub(super) fn sample_employee() -> Employee {
    Employee {
        region: "jambi".into(),
        nip: "198503122010011001".into(),
        name: "A".into(),
        agency: "x".into(),
        position_id: "p".into(),
        position_since: Date::new(2021, 3, 1).expect("a date"),
        competencies: BTreeMap::new(),
        potential: None,
        declined_rotation: false,
        history: vec![],
        supervisor_nip: None,
        service_unit: None,
        updated_at: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emp() -> Employee {
        super::sample_employee()
    }

    /// `n` approved days of an hour each.
    fn days(n: u32) -> Reported {
        Reported {
            days: n,
            minutes: u64::from(n) * 60,
        }
    }

    #[test]
    fn skips_and_caps() {
        let p = Period::Year(2026);
        assert_eq!(
            case(&emp(), p, Ok(None), Reported::default()).unwrap_err(),
            NO_PERIOD_RECORD
        );
        assert_eq!(
            case(
                &emp(),
                p,
                Ok(Some(PeriodInput::default())),
                Reported::default()
            )
            .unwrap_err(),
            NO_SUPERVISOR
        );
        let r = Ratings {
            berorientasi_pelayanan: 4,
            akuntabel: 4,
            kompeten: 4,
            harmonis: 4,
            loyal: 4,
            adaptif: 4,
            kolaboratif: 4,
        };
        let mut data = PeriodInput::default();
        data.behavior.supervisor = Some(r);
        let c = case(&emp(), p, Ok(Some(data.clone())), days(300)).unwrap();
        assert_eq!(c.period.working_days, 261, "Monday–Friday of 2026");
        assert_eq!(c.activities.days_reported, 261, "capped at working days");
        assert_eq!(
            c.activities.minutes_reported,
            300 * 60,
            "minutes are not capped"
        );
        data.working_days = Some(246);
        let c = case(&emp(), p, Ok(Some(data)), days(230)).unwrap();
        assert_eq!(
            (c.period.working_days, c.activities.days_reported),
            (246, 230)
        );
        let v = serde_json::to_value(&c).unwrap();
        assert!(
            v.get("process").is_none()
                && v.get("budget").is_none()
                && v["behavior"].get("peers").is_none(),
            "absent blocks are left out"
        );
    }
}

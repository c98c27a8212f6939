//! Building the ABI 1 request documents from stored records. Pure functions: the caller reads
//! the records, these turn them into `kinerja_abi`'s documents, the types plugins read. The
//! conversion is spelled out field by field, so a change to an API record cannot change ABI 1
//! unnoticed.

use crate::domain::date::weekdays_between;
use crate::domain::period::Period;
use crate::domain::records::*;
use crate::store::{Recorded, Reported};
use kinerja_abi as abi;
use std::collections::BTreeMap;

pub use abi::Case;

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
        employee: abi::Employee {
            nip: emp.nip.clone(),
            name: Some(emp.name.clone()),
            agency: Some(emp.agency.clone()),
            position_id: Some(emp.position_id.clone()),
            position_since: Some(emp.position_since.to_string()),
        },
        period: abi::Period {
            id: period.to_string(),
            start: period.start().to_string(),
            end: period.end().to_string(),
            working_days: wd,
        },
        indicators: data.indicators.into_iter().map(indicator).collect(),
        behavior: abi::Behavior {
            supervisor: berakhlak(supervisor),
            peers: non_empty(data.behavior.peers.into_iter().map(berakhlak).collect()),
            self_assessment: data.behavior.self_rating.map(berakhlak),
        },
        activities: Some(abi::Activities {
            days_reported: reported.days.min(wd),
            minutes_reported: Some(reported.minutes),
        }),
        innovations: non_empty(
            data.innovations
                .into_iter()
                .map(|i| abi::Innovation {
                    title: Some(i.title),
                    date: Some(i.date.to_string()),
                })
                .collect(),
        ),
        process: Some(data.process).filter(|p| !p.is_empty()),
        budget: data.budget.map(|b| abi::Budget {
            planned: b.planned,
            realized: b.realized,
        }),
        public_feedback: data.public_feedback.map(|f| abi::PublicFeedback {
            ikm: f.ikm,
            respondents: u64::from(f.respondents),
        }),
    })
}

/// ABI 1 leaves an empty list out.
fn non_empty<T>(v: Vec<T>) -> Option<Vec<T>> {
    Some(v).filter(|v| !v.is_empty())
}

fn indicator(i: Indicator) -> abi::Indicator {
    abi::Indicator {
        id: i.id,
        name: Some(i.name),
        kind: i.kind,
        direction: i.direction,
        unit: Some(i.unit),
        target: i.target,
        realization: i.realization,
        weight: Some(i.weight),
        evidence: i.evidence,
    }
}

fn berakhlak(r: Ratings) -> abi::BerAkhlak {
    abi::BerAkhlak {
        berorientasi_pelayanan: r.berorientasi_pelayanan,
        akuntabel: r.akuntabel,
        kompeten: r.kompeten,
        harmonis: r.harmonis,
        loyal: r.loyal,
        adaptif: r.adaptif,
        kolaboratif: r.kolaboratif,
    }
}

pub fn rotate_employee(
    e: &Employee,
    latest_predikat: Option<abi::Predikat>,
) -> abi::RotateEmployee {
    abi::RotateEmployee {
        nip: e.nip.clone(),
        agency: Some(e.agency.clone()),
        position_id: e.position_id.clone(),
        position_since: e.position_since.to_string(),
        competencies: levels(&e.competencies),
        latest_predikat,
        potential: e.potential,
        declined_rotation: e.declined_rotation,
    }
}

/// Competency levels are whole numbers here and numbers in ABI 1.
fn levels(m: &BTreeMap<String, u8>) -> BTreeMap<String, f64> {
    m.iter().map(|(k, v)| (k.clone(), f64::from(*v))).collect()
}

/// The target positions of a scope plus every employee's current position, so the plugin
/// always knows the level and kind an employee starts from. Each one's `vacancies` is the
/// view's: `max(ceil(needed) − holders, 0)` with a workload analysis, else capacity − holders
/// (`PositionView::new`).
pub fn rotate_positions(
    all: &[PositionView],
    agency: Option<&str>,
    employees: &[abi::RotateEmployee],
) -> Vec<abi::Position> {
    let current: std::collections::BTreeSet<&str> =
        employees.iter().map(|e| e.position_id.as_str()).collect();
    all.iter()
        .filter(|p| {
            agency.is_none_or(|a| p.position.agency == a)
                || current.contains(p.position.id.as_str())
        })
        .map(|p| abi::Position {
            id: p.position.id.clone(),
            title: Some(p.position.title.clone()),
            agency: Some(p.position.agency.clone()),
            kind: p.position.kind.as_str().to_string(),
            level: i64::from(p.position.level),
            required: levels(&p.position.required),
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
        position_since: crate::domain::date::Date::new(2021, 3, 1).expect("a date"),
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
        let activities = c.activities.expect("always sent");
        assert_eq!(activities.days_reported, 261, "capped at working days");
        assert_eq!(
            activities.minutes_reported,
            Some(300 * 60),
            "minutes are not capped"
        );
        data.working_days = Some(246);
        let c = case(&emp(), p, Ok(Some(data)), days(230)).unwrap();
        assert_eq!(
            (c.period.working_days, c.activities.map(|a| a.days_reported)),
            (246, Some(230))
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

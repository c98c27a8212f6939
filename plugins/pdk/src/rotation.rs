//! The scaffolding every `rotate` policy shares: validating the request, the facts each rule
//! needs per employee (tenure, box, current position), choosing the optimal moves among the
//! region's candidates, and the output order.
//!
//! A region only decides which employees may move, whether they may be promoted, what a move
//! is worth and when a chosen move is ready; which positions are a move at all is the same for
//! every region ([`step`]). See the region plugins for the pattern.

use std::collections::{BTreeMap, BTreeSet};

use crate::assignment::{optimal_assignment, value_units, Pair};
use crate::dates::{tenure_months, Date};
use crate::rules::{lt9, round2};
use crate::talent::{job_person_match, nine_box};
use crate::types::{
    Flag, FlagKind, Move, MoveKind, Position, Readiness, RotateEmployee, RotateRequest,
    RotateResponse, Talent,
};

/// What the rules need to know about one employee, computed once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmployeeFacts {
    /// Whole months in the current position up to `as_of`.
    pub tenure_months: u32,
    /// Nine-box number, `None` without a latest predikat.
    pub nine_box: Option<u8>,
    /// Index of the current position in the request's `positions`.
    pub current: usize,
}

/// A validated `rotate` request with per-employee facts.
#[derive(Debug, Clone)]
pub struct Roster<'a> {
    pub request: &'a RotateRequest,
    pub as_of: Date,
    /// In the order of `request.employees`.
    pub facts: Vec<EmployeeFacts>,
}

/// Competency levels are 1–5 in the national standard; anything from 0 up to a million is
/// accepted (a region may use another scale), which keeps every JPM sum finite.
const MAX_LEVEL: f64 = 1e6;

fn check_levels(levels: &BTreeMap<String, f64>, what: &str) -> Result<(), String> {
    for (name, &v) in levels {
        if !(v.is_finite() && (0.0..=MAX_LEVEL).contains(&v)) {
            return Err(format!(
                "{what}.{name} must be a competency level from 0 to {MAX_LEVEL}, got {v}"
            ));
        }
    }
    Ok(())
}

impl<'a> Roster<'a> {
    /// Validates the request (dates, unique NIPs and position ids, every current position
    /// present, competency levels ≥ 0) and computes the facts, naming the first problem.
    pub fn prepare(request: &'a RotateRequest) -> Result<Roster<'a>, String> {
        let as_of = Date::parse(&request.as_of).map_err(|e| format!("as_of: {e}"))?;
        let mut index: BTreeMap<&str, usize> = BTreeMap::new();
        for (i, p) in request.positions.iter().enumerate() {
            if index.insert(p.id.as_str(), i).is_some() {
                return Err(format!("positions: id {:?} appears twice", p.id));
            }
            check_levels(&p.required, &format!("positions[{i}] ({}).required", p.id))?;
        }
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut facts = Vec::with_capacity(request.employees.len());
        for (i, e) in request.employees.iter().enumerate() {
            let at = format!("employees[{i}] ({})", e.nip);
            if !seen.insert(e.nip.as_str()) {
                return Err(format!("employees: nip {:?} appears twice", e.nip));
            }
            let since = Date::parse(&e.position_since)
                .map_err(|err| format!("{at}.position_since: {err}"))?;
            let current = *index.get(e.position_id.as_str()).ok_or_else(|| {
                format!(
                    "{at}: current position {:?} is not among positions",
                    e.position_id
                )
            })?;
            check_levels(&e.competencies, &format!("{at}.competencies"))?;
            facts.push(EmployeeFacts {
                tenure_months: tenure_months(since, as_of),
                nine_box: nine_box(e.latest_predikat, e.potential),
                current,
            });
        }
        Ok(Roster {
            request,
            as_of,
            facts,
        })
    }

    /// Employees with their facts, in request order.
    pub fn employees(
        &self,
    ) -> impl Iterator<Item = (usize, &'a RotateEmployee, EmployeeFacts)> + '_ {
        self.request
            .employees
            .iter()
            .zip(&self.facts)
            .enumerate()
            .map(|(i, (e, f))| (i, e, *f))
    }

    /// The positions, in request order.
    pub fn positions(&self) -> &'a [Position] {
        &self.request.positions
    }

    /// The employee's current position.
    pub fn current_position(&self, employee: usize) -> &'a Position {
        &self.request.positions[self.facts[employee].current]
    }

    /// One talent entry per employee, in request order.
    pub fn talent(&self) -> Vec<Talent> {
        self.employees()
            .map(|(_, e, f)| Talent {
                nip: e.nip.clone(),
                nine_box: f.nine_box,
            })
            .collect()
    }

    /// An `overdue` flag for employee `i` when their tenure is more than `max_tenure` months.
    pub fn overdue(&self, i: usize, max_tenure: u32) -> Option<Flag> {
        let months = self.facts[i].tenure_months;
        (months > max_tenure).then(|| Flag {
            nip: self.request.employees[i].nip.clone(),
            kind: FlagKind::Overdue,
            detail: format!(
                "{months} months in {} (more than {max_tenure})",
                self.current_position(i).id
            ),
        })
    }

    /// The allowed moves of employee `i`: every other position with a vacancy that is a
    /// rotation, or a promotion where `promotion` allows it ([`step`]), and whose JPM reaches
    /// `min_jpm`; each worth its JPM plus `bonus`.
    pub fn candidates(
        &self,
        i: usize,
        promotion: bool,
        min_jpm: f64,
        bonus: f64,
    ) -> impl Iterator<Item = Candidate> + '_ {
        let employee = &self.request.employees[i];
        let current = self.current_position(i);
        self.positions()
            .iter()
            .enumerate()
            .filter_map(move |(pi, target)| {
                if pi == self.facts[i].current || target.vacancies == 0 {
                    return None;
                }
                let kind = step(current, target)?;
                if kind == MoveKind::Promotion && !promotion {
                    return None;
                }
                let jpm = job_person_match(&employee.competencies, &target.required);
                (!lt9(jpm, min_jpm)).then_some(Candidate {
                    employee: i,
                    position: pi,
                    kind,
                    value: jpm + bonus,
                    job_person_match: jpm,
                })
            })
    }

    /// The response: the optimal moves among `candidates` ([`Roster::choose`]), each ready
    /// when `training` answers `None` for it and needing that training otherwise, with the
    /// talent map and `flags`, everything in the contract's order.
    pub fn answer(
        &self,
        candidates: &[Candidate],
        mut flags: Vec<Flag>,
        training: impl Fn(&RotateEmployee, &Position, f64) -> Option<Vec<String>>,
    ) -> RotateResponse {
        let mut moves: Vec<Move> = self
            .choose(candidates)
            .into_iter()
            .map(|c| {
                let employee = &self.request.employees[c.employee];
                let target = &self.request.positions[c.position];
                let training = training(employee, target, c.job_person_match);
                Move {
                    nip: employee.nip.clone(),
                    from: self.current_position(c.employee).id.clone(),
                    to: target.id.clone(),
                    kind: c.kind,
                    job_person_match: round2(c.job_person_match),
                    readiness: if training.is_some() {
                        Readiness::NeedsTraining
                    } else {
                        Readiness::Ready
                    },
                    training: training.unwrap_or_default(),
                }
            })
            .collect();
        sort_moves(&mut moves);
        sort_flags(&mut flags);
        RotateResponse {
            talent: self.talent(),
            moves,
            flags,
        }
    }

    /// The optimal moves among `candidates` (see [`crate::assignment`]): returns the chosen
    /// candidates in the order of `candidates`. Capacities are the request's vacancies; a move
    /// out of a position does not free its seat within the same run.
    pub fn choose<'c>(&self, candidates: &'c [Candidate]) -> Vec<&'c Candidate> {
        let capacities: Vec<u32> = self.positions().iter().map(|p| p.vacancies).collect();
        let pairs: Vec<Pair> = candidates
            .iter()
            .map(|c| Pair {
                employee: c.employee,
                position: c.position,
                value: value_units(c.value),
            })
            .collect();
        optimal_assignment(self.request.employees.len(), &capacities, &pairs)
            .into_iter()
            .map(|i| &candidates[i])
            .collect()
    }
}

/// An allowed move and its worth, as a region's rules decide.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Index into the request's employees.
    pub employee: usize,
    /// Index into the request's positions.
    pub position: usize,
    /// A rotation or a promotion ([`step`]).
    pub kind: MoveKind,
    /// What the assignment maximises (JPM, plus any region bonus).
    pub value: f64,
    /// JPM, unrounded.
    pub job_person_match: f64,
}

/// What moving from `current` to `target` is (region policies, version 2): a rotation keeps
/// the kind and the level, a promotion goes exactly one level up (any kind), and anything else
/// is no move at all: a demotion is a disciplinary measure (PP 94/2021), never a
/// recommendation, and skipping a level is not a promotion.
pub fn step(current: &Position, target: &Position) -> Option<MoveKind> {
    if target.level == current.level && target.kind == current.kind {
        Some(MoveKind::Rotation)
    } else if current.level.checked_add(1) == Some(target.level) {
        Some(MoveKind::Promotion)
    } else {
        None
    }
}

/// Sorts moves by NIP (the contract's order).
fn sort_moves(moves: &mut [Move]) {
    moves.sort_by(|a, b| a.nip.cmp(&b.nip));
}

/// Sorts flags by NIP, then kind in the order overdue, review, coaching_first.
fn sort_flags(flags: &mut [Flag]) {
    flags.sort_by(|a, b| a.nip.cmp(&b.nip).then(a.kind.cmp(&b.kind)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{FlagKind, Hook, Predikat};

    fn request() -> RotateRequest {
        serde_json::from_value(serde_json::json!({
            "abi": 1, "hook": "rotate", "region": "x", "as_of": "2026-12-31",
            "employees": [
                {"nip": "2", "position_id": "a", "position_since": "2021-12-31",
                 "competencies": {"k": 3}, "latest_predikat": "baik", "potential": "tinggi"},
                {"nip": "1", "position_id": "b", "position_since": "2026-01-01",
                 "latest_predikat": null}
            ],
            "positions": [
                {"id": "a", "kind": "fungsional", "level": 3, "required": {"k": 3}, "vacancies": 0},
                {"id": "b", "kind": "fungsional", "level": 3, "required": {}, "vacancies": 1}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn prepare_computes_facts() {
        let req = request();
        let r = Roster::prepare(&req).unwrap();
        assert_eq!(
            r.facts,
            vec![
                EmployeeFacts {
                    tenure_months: 60,
                    nine_box: Some(8),
                    current: 0
                },
                EmployeeFacts {
                    tenure_months: 11,
                    nine_box: None,
                    current: 1
                },
            ]
        );
        assert_eq!(
            r.talent()[1],
            Talent {
                nip: "1".into(),
                nine_box: None
            }
        );
        assert_eq!(r.current_position(1).id, "b");
        assert_eq!(req.hook, Hook::Rotate);
        assert_eq!(req.employees[0].latest_predikat, Some(Predikat::Baik));
    }

    #[test]
    fn prepare_refuses_malformed_requests() {
        let mut req = request();
        req.employees[1].position_id = "zz".into();
        assert!(Roster::prepare(&req).unwrap_err().contains("\"zz\""));
        let mut req = request();
        req.employees[1].nip = "2".into();
        assert!(Roster::prepare(&req).unwrap_err().contains("twice"));
        let mut req = request();
        req.positions[1].id = "a".into();
        assert!(Roster::prepare(&req).unwrap_err().contains("twice"));
        let mut req = request();
        req.as_of = "2026-02-30".into();
        assert!(Roster::prepare(&req).unwrap_err().starts_with("as_of"));
        let mut req = request();
        req.employees[0].position_since = "yesterday".into();
        assert!(Roster::prepare(&req)
            .unwrap_err()
            .contains("position_since"));
        let mut req = request();
        req.employees[0].competencies.insert("k".into(), -1.0);
        assert!(Roster::prepare(&req)
            .unwrap_err()
            .contains("competencies.k"));
        let mut req = request();
        req.positions[0].required.insert("k".into(), f64::NAN);
        assert!(Roster::prepare(&req).unwrap_err().contains("required.k"));
        let mut req = request();
        req.positions[0].required.insert("k".into(), 1e300);
        assert!(Roster::prepare(&req).unwrap_err().contains("required.k"));
    }

    #[test]
    fn choose_respects_vacancies_of_the_request() {
        let req = request();
        let r = Roster::prepare(&req).unwrap();
        let cands = [
            Candidate {
                employee: 0,
                position: 1,
                kind: MoveKind::Rotation,
                value: 90.0,
                job_person_match: 90.0,
            },
            Candidate {
                employee: 1,
                position: 0,
                kind: MoveKind::Rotation,
                value: 100.0,
                job_person_match: 100.0,
            },
        ];
        // Position a has 0 vacancies, and employee 0 moving out of it does not free its seat.
        let chosen = r.choose(&cands);
        assert_eq!(chosen, vec![&cands[0]]);
    }

    #[test]
    fn ordering_helpers() {
        let at = |kind: &str, level| Position {
            id: String::new(),
            title: None,
            agency: None,
            kind: kind.into(),
            level,
            required: BTreeMap::new(),
            vacancies: 1,
        };
        let here = at("fungsional", 3);
        assert_eq!(step(&here, &at("fungsional", 3)), Some(MoveKind::Rotation));
        assert_eq!(step(&here, &at("struktural", 3)), None);
        assert_eq!(step(&here, &at("fungsional", 4)), Some(MoveKind::Promotion));
        assert_eq!(step(&here, &at("struktural", 4)), Some(MoveKind::Promotion));
        assert_eq!(step(&here, &at("fungsional", 5)), None);
        assert_eq!(step(&here, &at("fungsional", 2)), None);
        assert_eq!(step(&here, &at("pelaksana", 1)), None);
        assert_eq!(step(&at("x", i64::MAX), &at("x", i64::MIN)), None);
        let f = |nip: &str, kind| Flag {
            nip: nip.into(),
            kind,
            detail: String::new(),
        };
        let mut flags = vec![
            f("2", FlagKind::Overdue),
            f("1", FlagKind::CoachingFirst),
            f("1", FlagKind::Overdue),
            f("1", FlagKind::Review),
        ];
        sort_flags(&mut flags);
        let got: Vec<_> = flags.iter().map(|f| (f.nip.as_str(), f.kind)).collect();
        assert_eq!(
            got,
            [
                ("1", FlagKind::Overdue),
                ("1", FlagKind::Review),
                ("1", FlagKind::CoachingFirst),
                ("2", FlagKind::Overdue)
            ]
        );
    }
}

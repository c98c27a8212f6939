//! Policy-impact preview: what a candidate module (or config) would change against the active
//! policy, over a whole scope, before anyone activates it. Nothing is stored.
//!
//! The comparison itself is pure ([`compare_appraisals`], [`compare_rotations`]) so it can be
//! tested on hand-written results; [`Policy::impact_appraise`] and [`Policy::impact_rotate`]
//! run both modules on the very same cases and feed it.

use super::{Keep, Policy, PolicyError, Skipped};
use crate::domain::date::Date;
use crate::domain::distribution::Predikat;
use crate::domain::period::Period;
use crate::domain::records::Employee;
use kinerja_abi::Employee as CaseEmployee;
use kinerja_runtime::Hook;
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;
use utoipa::ToSchema;

/// How many of the largest score changes are listed.
const TOP: usize = 10;

/// The row or column of a predikat in the transition table: `Predikat::ALL`'s order, best first.
fn level(p: &Value) -> Option<usize> {
    let p = Predikat::parse(p.as_str()?)?;
    Predikat::ALL.iter().position(|l| *l == p)
}

/// One employee whose score moves.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ScoreChange {
    pub nip: String,
    pub name: String,
    pub agency: String,
    pub score_active: f64,
    pub score_candidate: f64,
    /// Candidate minus active, rounded to 2 decimals.
    pub delta: f64,
    pub predikat_active: String,
    pub predikat_candidate: String,
}

/// One agency's share of the change.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct AgencyImpact {
    pub agency: String,
    pub employees: usize,
    /// Employees whose predikat changes.
    pub changed: usize,
    /// Of them, to a better predikat.
    pub up: usize,
    /// Of them, to a worse predikat.
    pub down: usize,
    pub mean_score_active: f64,
    pub mean_score_candidate: f64,
    /// Employees per predikat under the active policy and under the candidate.
    pub predikat_active: BTreeMap<String, usize>,
    pub predikat_candidate: BTreeMap<String, usize>,
}

/// What a candidate appraise policy changes.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AppraiseImpact {
    /// The order of the transition table's rows and columns.
    pub levels: Vec<String>,
    /// `transitions[i][j]`: employees at `levels[i]` under the active policy and at
    /// `levels[j]` under the candidate. The diagonal is the unchanged.
    pub transitions: Vec<Vec<usize>>,
    pub employees: usize,
    pub changed: usize,
    pub up: usize,
    pub down: usize,
    /// The largest score changes, largest first (ties: by NIP); unchanged scores are left out.
    pub largest_score_changes: Vec<ScoreChange>,
    pub agencies: Vec<AgencyImpact>,
}

/// A move as the comparison keys it: who goes where.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct RotateImpact {
    /// Moves the candidate recommends and the active policy does not.
    #[schema(value_type = Vec<Object>)]
    pub moves_added: Vec<Value>,
    /// Moves the active policy recommends and the candidate does not.
    #[schema(value_type = Vec<Object>)]
    pub moves_removed: Vec<Value>,
    /// Moves both recommend (same employee, same target position).
    pub moves_kept: usize,
    pub moves_active: usize,
    pub moves_candidate: usize,
}

/// The answer of `POST …/plugins/{id}/impact`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Impact {
    pub hook: String,
    pub region: String,
    pub candidate_plugin: String,
    pub active_plugin: String,
    #[schema(value_type = Object)]
    pub candidate_config: Value,
    #[schema(value_type = Object)]
    pub active_config: Value,
    /// Present for appraise.
    pub appraise: Option<AppraiseImpact>,
    /// Present for rotate.
    pub rotate: Option<RotateImpact>,
    /// Employees in scope that could not be appraised, and why.
    pub skipped: Vec<Skipped>,
    pub fuel_active: u64,
    pub fuel_candidate: u64,
    /// Wall time of the whole preview.
    pub duration_ms: f64,
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Compares the two policies' results of the same cases, in the cases' order.
pub fn compare_appraisals(
    employees: &[CaseEmployee],
    active: &[Value],
    candidate: &[Value],
) -> AppraiseImpact {
    let n = Predikat::ALL.len();
    let mut transitions = vec![vec![0usize; n]; n];
    let (mut changed, mut up, mut down) = (0, 0, 0);
    let mut changes = Vec::new();
    let mut agencies: BTreeMap<&str, (AgencyImpact, f64, f64)> = BTreeMap::new();
    for ((e, a), c) in employees.iter().zip(active).zip(candidate) {
        let (la, lc) = (level(&a["predikat"]), level(&c["predikat"]));
        let (pa, pc) = (
            a["predikat"].as_str().unwrap_or_default(),
            c["predikat"].as_str().unwrap_or_default(),
        );
        let (sa, sc) = (
            a["score"].as_f64().unwrap_or(0.0),
            c["score"].as_f64().unwrap_or(0.0),
        );
        // The host always sends the agency and name (`cases::case`).
        let agency = e.agency.as_deref().unwrap_or_default();
        let ag = agencies.entry(agency).or_insert_with(|| {
            let mut z = AgencyImpact {
                agency: agency.to_string(),
                ..AgencyImpact::default()
            };
            for l in Predikat::ALL {
                z.predikat_active.insert(l.as_str().to_string(), 0);
                z.predikat_candidate.insert(l.as_str().to_string(), 0);
            }
            (z, 0.0, 0.0)
        });
        ag.0.employees += 1;
        ag.1 += sa;
        ag.2 += sc;
        *ag.0.predikat_active.entry(pa.to_string()).or_default() += 1;
        *ag.0.predikat_candidate.entry(pc.to_string()).or_default() += 1;
        if let (Some(i), Some(j)) = (la, lc) {
            transitions[i][j] += 1;
            if i != j {
                changed += 1;
                ag.0.changed += 1;
                // A smaller index is a better predikat.
                if j < i {
                    up += 1;
                    ag.0.up += 1;
                } else {
                    down += 1;
                    ag.0.down += 1;
                }
            }
        }
        let delta = round2(sc - sa);
        if delta != 0.0 || pa != pc {
            changes.push(ScoreChange {
                nip: e.nip.clone(),
                name: e.name.clone().unwrap_or_default(),
                agency: agency.to_string(),
                score_active: sa,
                score_candidate: sc,
                delta,
                predikat_active: pa.to_string(),
                predikat_candidate: pc.to_string(),
            });
        }
    }
    changes.sort_by(|x, y| {
        y.delta
            .abs()
            .total_cmp(&x.delta.abs())
            .then_with(|| x.nip.cmp(&y.nip))
    });
    changes.truncate(TOP);
    AppraiseImpact {
        levels: Predikat::ALL
            .iter()
            .map(|l| l.as_str().to_string())
            .collect(),
        transitions,
        employees: employees.len().min(active.len()).min(candidate.len()),
        changed,
        up,
        down,
        largest_score_changes: changes,
        agencies: agencies
            .into_values()
            .map(|(mut a, sa, sc)| {
                let n = a.employees.max(1) as f64;
                a.mean_score_active = round2(sa / n);
                a.mean_score_candidate = round2(sc / n);
                a
            })
            .collect(),
    }
}

/// Compares two rotate responses' moves, keyed by employee and target position.
pub fn compare_rotations(active: &Value, candidate: &Value) -> RotateImpact {
    let moves = |v: &Value| -> Vec<Value> {
        v.get("moves")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default()
    };
    let key = |m: &Value| (m["nip"].to_string(), m["to"].to_string());
    let (a, c) = (moves(active), moves(candidate));
    let ka: BTreeSet<_> = a.iter().map(key).collect();
    let kc: BTreeSet<_> = c.iter().map(key).collect();
    RotateImpact {
        moves_kept: ka.intersection(&kc).count(),
        moves_active: a.len(),
        moves_candidate: c.len(),
        moves_added: c
            .iter()
            .filter(|m| !ka.contains(&key(m)))
            .cloned()
            .collect(),
        moves_removed: a
            .iter()
            .filter(|m| !kc.contains(&key(m)))
            .cloned()
            .collect(),
    }
}

impl Policy {
    /// Appraises `employees` for `period` with the active policy and with `candidate` (and
    /// its config), side by side; stores nothing.
    pub async fn impact_appraise(
        &self,
        region: &str,
        candidate: &str,
        candidate_config: Value,
        period: Period,
        employees: Vec<Employee>,
    ) -> Result<Impact, PolicyError> {
        let t0 = Instant::now();
        let act = self.active(region, Hook::Appraise.as_str()).await?;
        let active = act.plugin.clone().unwrap_or_default();
        let (cases, skipped) = self.appraisal_cases(region, period, employees).await?;
        let cases = std::sync::Arc::new(cases);
        // Both modules at once, half the calls each: together they stay within what one
        // request may run (and so within the runtime's slots).
        let half = (Keep::Nothing, (self.config.parallel_calls / 2).max(1));
        let (a, c) = futures::join!(
            self.run_appraise(region, &active, &act.config, &cases, half),
            self.run_appraise(region, candidate, &candidate_config, &cases, half),
        );
        let (a, c) = (a?, c?);
        let fuel = |calls: &[super::Call]| calls.iter().map(|c| c.out.fuel_used).sum::<u64>();
        let (fuel_active, fuel_candidate) = (fuel(&a), fuel(&c));
        let results = |calls: Vec<super::Call>| -> Vec<Value> {
            calls
                .into_iter()
                .flat_map(|mut c| match c.value.get_mut("results").map(Value::take) {
                    Some(Value::Array(r)) => r,
                    _ => Vec::new(),
                })
                .collect()
        };
        // Both calls are done, so this is the only reference and nothing is copied.
        let emps: Vec<CaseEmployee> = std::sync::Arc::unwrap_or_clone(cases)
            .into_iter()
            .map(|c| c.employee)
            .collect();
        let appraise = compare_appraisals(&emps, &results(a), &results(c));
        Ok(Impact {
            hook: Hook::Appraise.as_str().into(),
            region: region.into(),
            candidate_plugin: candidate.into(),
            active_plugin: active,
            candidate_config,
            active_config: act.config,
            appraise: Some(appraise),
            rotate: None,
            skipped,
            fuel_active,
            fuel_candidate,
            duration_ms: super::ms(t0.elapsed()),
        })
    }

    /// Recommends rotations as of `as_of` with the active policy and with `candidate`;
    /// stores nothing.
    pub async fn impact_rotate(
        &self,
        region: &str,
        candidate: &str,
        candidate_config: Value,
        as_of: Date,
        agency: Option<String>,
    ) -> Result<Impact, PolicyError> {
        let t0 = Instant::now();
        let act = self.active(region, Hook::Rotate.as_str()).await?;
        let active = act.plugin.clone().unwrap_or_default();
        let configs = vec![act.config.clone(), candidate_config.clone()];
        let mut inputs = self
            .rotate_inputs(region, as_of, agency, configs)
            .await?
            .into_iter();
        let (Some(ia), Some(ic)) = (inputs.next(), inputs.next()) else {
            return Err(PolicyError::Internal("no rotate request was built".into()));
        };
        let (a, c) = futures::join!(
            self.call(region, &active, Hook::Rotate, ia, Keep::Nothing),
            self.call(region, candidate, Hook::Rotate, ic, Keep::Nothing),
        );
        let (a, c) = (a?, c?);
        Ok(Impact {
            hook: Hook::Rotate.as_str().into(),
            region: region.into(),
            candidate_plugin: candidate.into(),
            active_plugin: active,
            candidate_config,
            active_config: act.config,
            appraise: None,
            rotate: Some(compare_rotations(&a.value, &c.value)),
            skipped: Vec::new(),
            fuel_active: a.out.fuel_used,
            fuel_candidate: c.out.fuel_used,
            duration_ms: super::ms(t0.elapsed()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn emp(nip: &str, agency: &str) -> CaseEmployee {
        CaseEmployee {
            nip: nip.into(),
            name: Some(format!("Pegawai {nip}")),
            agency: Some(agency.into()),
            position_id: Some("p".into()),
            position_since: Some("2020-01-01".into()),
        }
    }

    fn r(p: &str, s: f64) -> Value {
        json!({"predikat": p, "score": s})
    }

    #[test]
    fn transitions_counts_and_largest_changes() {
        let emps = [emp("1", "a"), emp("2", "a"), emp("3", "b"), emp("4", "b")];
        let active = [
            r("baik", 100.0),
            r("baik", 95.0),
            r("kurang", 60.0),
            r("sangat_baik", 118.0),
        ];
        let cand = [
            r("baik", 100.0),
            r("sangat_baik", 111.0),
            r("butuh_perbaikan", 70.5),
            r("baik", 104.0),
        ];
        let i = compare_appraisals(&emps, &active, &cand);
        let mut want = vec![vec![0; 5]; 5];
        want[1][1] = 1; // 1 stays baik
        want[1][0] = 1; // 2 baik → sangat baik
        want[3][2] = 1; // 3 kurang → butuh perbaikan
        want[0][1] = 1; // 4 sangat baik → baik
        assert_eq!(i.transitions, want);
        assert_eq!((i.employees, i.changed, i.up, i.down), (4, 3, 2, 1));
        let order: Vec<(&str, f64)> = i
            .largest_score_changes
            .iter()
            .map(|c| (c.nip.as_str(), c.delta))
            .collect();
        assert_eq!(order, [("2", 16.0), ("4", -14.0), ("3", 10.5)]);
        assert_eq!(i.agencies.len(), 2);
        let b = &i.agencies[1];
        assert_eq!(
            (b.agency.as_str(), b.employees, b.changed, b.up, b.down),
            ("b", 2, 2, 1, 1)
        );
        assert_eq!((b.mean_score_active, b.mean_score_candidate), (89.0, 87.25));
        assert_eq!(b.predikat_candidate["baik"], 1);
        assert_eq!(b.predikat_active["sangat_kurang"], 0);
    }

    #[test]
    fn moves_added_removed_and_kept() {
        let m = |n: &str, to: &str| json!({"nip": n, "from": "x", "to": to});
        let a = json!({"moves": [m("1", "p"), m("2", "q")]});
        let c = json!({"moves": [m("1", "p"), m("2", "r"), m("3", "s")]});
        let i = compare_rotations(&a, &c);
        assert_eq!(i.moves_kept, 1);
        assert_eq!(i.moves_added, vec![m("2", "r"), m("3", "s")]);
        assert_eq!(i.moves_removed, vec![m("2", "q")]);
        assert_eq!((i.moves_active, i.moves_candidate), (2, 3));
    }
}

//! Checks a plugin's answer against a test vector (`plugins/vectors/*.json`), exactly as each
//! file's `compare` field says. Shared by the region plugins' tests and usable by the host's
//! conformance tests; the answer is compared in its serialized JSON form so enum spellings are
//! checked too.
//!
//! Each check returns the list of mismatches (empty when the answer conforms) so a failing test
//! shows everything wrong at once.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use crate::types::{AppraiseRequest, AppraiseResponse, RotateRequest, RotateResponse};

/// A vector file: the request, the reference answer and what must match.
#[derive(Debug, Clone, Deserialize)]
pub struct Vector<Req> {
    pub request: Req,
    pub expected: Value,
    pub compare: String,
}

/// An `appraise` vector.
pub type AppraiseVector = Vector<AppraiseRequest>;
/// A `rotate` vector.
pub type RotateVector = Vector<RotateRequest>;

/// The fields of an appraise result the formula decides exactly (the score is compared within
/// a tolerance instead): what a second implementation of a policy must reproduce.
pub const DECIDED_FIELDS: [&str; 5] = [
    "nip",
    "hasil_kerja",
    "perilaku_kerja",
    "predikat",
    "recommendations",
];

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
}

/// appraise: hasil_kerja, perilaku_kerja, predikat, recommendations and tpp_percent exactly
/// (tpp_percent as a number, and present exactly when expected); score within 0.01; one result
/// per case in order (checked by NIP).
pub fn check_appraise(expected: &Value, actual: &AppraiseResponse) -> Vec<String> {
    let mut problems = Vec::new();
    let actual = match serde_json::to_value(actual) {
        Ok(v) => v,
        Err(e) => return vec![format!("response does not serialize: {e}")],
    };
    let want = expected["results"].as_array().cloned().unwrap_or_default();
    let got = actual["results"].as_array().cloned().unwrap_or_default();
    if want.len() != got.len() {
        problems.push(format!("{} results, expected {}", got.len(), want.len()));
    }
    for (i, (w, g)) in want.iter().zip(&got).enumerate() {
        let at = format!("results[{i}] ({})", w["nip"].as_str().unwrap_or("?"));
        for key in DECIDED_FIELDS {
            if w[key] != g[key] {
                problems.push(format!("{at}.{key}: got {}, expected {}", g[key], w[key]));
            }
        }
        match (num(&w["tpp_percent"]), num(&g["tpp_percent"])) {
            (None, None) => {}
            (Some(a), Some(b)) if a == b => {}
            _ => problems.push(format!(
                "{at}.tpp_percent: got {}, expected {}",
                g["tpp_percent"], w["tpp_percent"]
            )),
        }
        match (num(&w["score"]), num(&g["score"])) {
            (Some(a), Some(b)) if (a - b).abs() <= 0.01 + 1e-9 => {}
            _ => problems.push(format!(
                "{at}.score: got {}, expected {} ± 0.01",
                g["score"], w["score"]
            )),
        }
        if !g["explanation"].is_string() || !g["components"].is_array() {
            problems.push(format!("{at}: explanation and components must be present"));
        }
    }
    problems
}

/// rotate: talent and flags exactly (flag details free); every move among the allowed pairs,
/// from the employee's current position, within vacancies, each employee at most once, moves
/// sorted by NIP, the moves' values summing to the optimal total, each move's JPM as the
/// vector's, and a ready move without training. Kind, readiness and training are policy rules
/// the region's own tests check.
pub fn check_rotate(
    request: &RotateRequest,
    expected: &Value,
    actual: &RotateResponse,
) -> Vec<String> {
    let mut problems = Vec::new();
    let actual = match serde_json::to_value(actual) {
        Ok(v) => v,
        Err(e) => return vec![format!("response does not serialize: {e}")],
    };
    if actual["talent"] != expected["talent"] {
        problems.push(format!(
            "talent: got {}, expected {}",
            actual["talent"], expected["talent"]
        ));
    }
    let strip = |flags: &Value| -> Vec<(String, String)> {
        flags
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|f| {
                        (
                            f["nip"].as_str().unwrap_or_default().to_string(),
                            f["kind"].as_str().unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (got_flags, want_flags) = (strip(&actual["flags"]), strip(&expected["flags"]));
    if got_flags != want_flags {
        problems.push(format!("flags: got {got_flags:?}, expected {want_flags:?}"));
    }
    if let Some(flags) = actual["flags"].as_array() {
        if flags.iter().any(|f| !f["detail"].is_string()) {
            problems.push("flags: every flag needs a detail string".to_string());
        }
    }

    let mut allowed: BTreeMap<(String, String), (f64, f64)> = BTreeMap::new();
    for p in expected["allowed_pairs"].as_array().into_iter().flatten() {
        let key = (
            p["nip"].as_str().unwrap_or_default().to_string(),
            p["to"].as_str().unwrap_or_default().to_string(),
        );
        let value = num(&p["value"]).unwrap_or(f64::NAN);
        let jpm = num(&p["job_person_match"]).unwrap_or(f64::NAN);
        allowed.insert(key, (value, jpm));
    }
    let current: BTreeMap<&str, &str> = request
        .employees
        .iter()
        .map(|e| (e.nip.as_str(), e.position_id.as_str()))
        .collect();
    let vacancies: BTreeMap<&str, u32> = request
        .positions
        .iter()
        .map(|p| (p.id.as_str(), p.vacancies))
        .collect();
    let mut taken: BTreeMap<String, u32> = BTreeMap::new();
    let mut moved: Vec<String> = Vec::new();
    let mut total = 0.0;
    let moves = actual["moves"].as_array().cloned().unwrap_or_default();
    for m in &moves {
        let nip = m["nip"].as_str().unwrap_or_default().to_string();
        let to = m["to"].as_str().unwrap_or_default().to_string();
        let at = format!("move {nip} → {to}");
        if moved.contains(&nip) {
            problems.push(format!("{at}: employee moves more than once"));
        }
        moved.push(nip.clone());
        if m["from"].as_str() != current.get(nip.as_str()).copied() {
            problems.push(format!(
                "{at}: from {} is not the current position",
                m["from"]
            ));
        }
        *taken.entry(to.clone()).or_default() += 1;
        match allowed.get(&(nip.clone(), to.clone())) {
            None => problems.push(format!("{at}: not an allowed pair")),
            Some(&(value, jpm)) => {
                total += value;
                match num(&m["job_person_match"]) {
                    Some(got) if (got - jpm).abs() <= 0.005 + 1e-9 => {}
                    _ => problems.push(format!(
                        "{at}: job_person_match {}, expected {jpm}",
                        m["job_person_match"]
                    )),
                }
            }
        }
        if m["readiness"] == "ready" && m["training"] != Value::Array(vec![]) {
            problems.push(format!("{at}: a ready move has training []"));
        }
    }
    for (pos, n) in &taken {
        let cap = vacancies.get(pos.as_str()).copied().unwrap_or(0);
        if *n > cap {
            problems.push(format!("position {pos}: {n} moves for {cap} vacancies"));
        }
    }
    if !moved.windows(2).all(|w| w[0] <= w[1]) {
        problems.push(format!("moves are not sorted by nip: {moved:?}"));
    }
    match num(&expected["optimal_total_value"]) {
        // Vector values are rounded to 4 decimals; allow for that across all moves.
        Some(want) if (total - want).abs() <= 1e-4 * (moves.len() as f64 + 1.0) => {}
        want => problems.push(format!("moves' total value {total}, expected {want:?}")),
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assignment::{optimal_assignment, value_units, Pair};
    use crate::types::{Move, MoveKind, Readiness};
    use std::path::Path;

    /// A named way to spoil a conforming answer; the check's report must name it.
    type Mutation<T> = (&'static str, Box<dyn Fn(&mut T)>);

    fn read(name: &str) -> String {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../vectors")
            .join(name);
        std::fs::read_to_string(path).expect("vector file")
    }

    /// A response that conforms: the expected results plus the free fields.
    fn appraise_answer(expected: &Value) -> AppraiseResponse {
        let mut doc = expected.clone();
        for r in doc["results"].as_array_mut().unwrap() {
            r["components"] = serde_json::json!([]);
            r["explanation"] = serde_json::json!("x");
        }
        serde_json::from_value(doc).unwrap()
    }

    #[test]
    fn appraise_check_catches_each_kind_of_difference() {
        let v: AppraiseVector = serde_json::from_str(&read("jakarta-appraise.json")).unwrap();
        let good = appraise_answer(&v.expected);
        assert!(check_appraise(&v.expected, &good).is_empty());
        let mutations: Vec<Mutation<AppraiseResponse>> = vec![
            (
                "predikat",
                Box::new(|a| a.results[0].predikat = crate::Predikat::Kurang),
            ),
            ("score", Box::new(|a| a.results[0].score += 0.02)),
            ("tpp_percent", Box::new(|a| a.results[0].tpp_percent = None)),
            (
                "tpp_percent",
                Box::new(|a| a.results[1].tpp_percent = Some(99.into())),
            ),
            (
                "recommendations",
                Box::new(|a| a.results[0].recommendations.clear()),
            ),
            (
                "results",
                Box::new(|a| {
                    a.results.pop();
                }),
            ),
            ("nip", Box::new(|a| a.results.swap(0, 1))),
        ];
        for (what, mutate) in mutations {
            let mut bad = good.clone();
            mutate(&mut bad);
            let problems = check_appraise(&v.expected, &bad);
            assert!(
                problems.iter().any(|p| p.contains(what)),
                "{what} not caught: {problems:?}"
            );
        }
        // Within 0.01 is fine.
        let mut close = good.clone();
        close.results[0].score += 0.01;
        assert!(check_appraise(&v.expected, &close).is_empty());
    }

    /// An optimal answer built from the vector's allowed pairs.
    fn rotate_answer(v: &RotateVector) -> RotateResponse {
        let nips: Vec<&str> = v.request.employees.iter().map(|e| e.nip.as_str()).collect();
        let ids: Vec<&str> = v.request.positions.iter().map(|p| p.id.as_str()).collect();
        let allowed = v.expected["allowed_pairs"].as_array().unwrap();
        let pairs: Vec<Pair> = allowed
            .iter()
            .map(|p| Pair {
                employee: nips.iter().position(|n| *n == p["nip"]).unwrap(),
                position: ids.iter().position(|i| *i == p["to"]).unwrap(),
                value: value_units(p["value"].as_f64().unwrap()),
            })
            .collect();
        let caps: Vec<u32> = v.request.positions.iter().map(|p| p.vacancies).collect();
        let mut moves: Vec<Move> = optimal_assignment(nips.len(), &caps, &pairs)
            .into_iter()
            .map(|i| Move {
                nip: allowed[i]["nip"].as_str().unwrap().to_string(),
                from: v.request.employees[pairs[i].employee].position_id.clone(),
                to: allowed[i]["to"].as_str().unwrap().to_string(),
                kind: MoveKind::Rotation,
                job_person_match: allowed[i]["job_person_match"].as_f64().unwrap(),
                readiness: Readiness::NeedsTraining,
                training: vec!["x".into()],
            })
            .collect();
        moves.sort_by(|a, b| a.nip.cmp(&b.nip));
        let mut doc = serde_json::json!({"moves": moves});
        doc["talent"] = v.expected["talent"].clone();
        doc["flags"] = v.expected["flags"].clone();
        for f in doc["flags"].as_array_mut().unwrap() {
            f["detail"] = serde_json::json!("free");
        }
        serde_json::from_value(doc).unwrap()
    }

    #[test]
    fn rotate_check_catches_each_kind_of_difference() {
        let v: RotateVector = serde_json::from_str(&read("jambi-rotate.json")).unwrap();
        let good = rotate_answer(&v);
        assert!(good.moves.len() >= 3);
        assert!(check_rotate(&v.request, &v.expected, &good).is_empty());
        let mutations: Vec<Mutation<RotateResponse>> = vec![
            ("talent", Box::new(|a| a.talent[0].nine_box = Some(9))),
            (
                "flags",
                Box::new(|a| {
                    a.flags.pop();
                }),
            ),
            (
                "total value",
                Box::new(|a| {
                    a.moves.pop();
                }),
            ),
            (
                "not an allowed pair",
                Box::new(|a| a.moves[0].to = "jab-2".into()),
            ),
            (
                "more than once",
                Box::new(|a| {
                    let again = a.moves[0].clone();
                    a.moves.insert(1, again);
                }),
            ),
            (
                "vacancies",
                Box::new(|a| {
                    let mut extra = a.moves[0].clone();
                    extra.nip = "x".into();
                    a.moves.push(extra);
                }),
            ),
            ("not sorted", Box::new(|a| a.moves.swap(0, 1))),
            (
                "current position",
                Box::new(|a| a.moves[0].from = "jab-7".into()),
            ),
            (
                "job_person_match",
                Box::new(|a| a.moves[0].job_person_match += 0.01),
            ),
            (
                "training []",
                Box::new(|a| a.moves[0].readiness = Readiness::Ready),
            ),
        ];
        for (what, mutate) in mutations {
            let mut bad = good.clone();
            mutate(&mut bad);
            let problems = check_rotate(&v.request, &v.expected, &bad);
            assert!(
                problems.iter().any(|p| p.contains(what)),
                "{what} not caught: {problems:?}"
            );
        }
    }
}

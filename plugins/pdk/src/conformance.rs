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

use crate::rng::SplitMix64;
use crate::types::{
    AppraiseRequest, AppraiseResponse, Hook, Position, Potential, Predikat, RotateEmployee,
    RotateRequest, RotateResponse,
};

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
/// the moves' values summing to the optimal total, each move's JPM as the vector's, and every
/// rule of [`check_moves`]. Readiness and training are policy rules the region's own tests
/// check.
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
    problems.extend(check_moves(request, actual_moves(&actual)));
    let mut total = 0.0;
    let moves = actual_moves(&actual);
    for m in moves {
        let nip = m["nip"].as_str().unwrap_or_default().to_string();
        let to = m["to"].as_str().unwrap_or_default().to_string();
        let at = format!("move {nip} → {to}");
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
    }
    match num(&expected["optimal_total_value"]) {
        // Vector values are rounded to 4 decimals; allow for that across all moves.
        Some(want) if (total - want).abs() <= 1e-4 * (moves.len() as f64 + 1.0) => {}
        want => problems.push(format!("moves' total value {total}, expected {want:?}")),
    }
    problems
}

fn actual_moves(actual: &Value) -> &[Value] {
    actual["moves"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
}

/// What every region's moves obey, whatever its rules (region policies, version 2): each move
/// starts at the employee's current position, targets another position of the request, is the
/// move it claims to be (a rotation keeps kind and level, a promotion goes exactly one level
/// up, nothing goes down), moves its employee at most once and stays within the target's
/// vacancies; moves are sorted by NIP and a ready move needs no training.
pub fn check_moves(request: &RotateRequest, moves: &[Value]) -> Vec<String> {
    let mut problems = Vec::new();
    let current: BTreeMap<&str, &str> = request
        .employees
        .iter()
        .map(|e| (e.nip.as_str(), e.position_id.as_str()))
        .collect();
    let positions: BTreeMap<&str, &Position> = request
        .positions
        .iter()
        .map(|p| (p.id.as_str(), p))
        .collect();
    let mut taken: BTreeMap<&str, u32> = BTreeMap::new();
    let mut moved: Vec<&str> = Vec::new();
    for m in moves {
        let nip = m["nip"].as_str().unwrap_or_default();
        let (from, to) = (m["from"].as_str(), m["to"].as_str().unwrap_or_default());
        let at = format!("move {nip} → {to}");
        if moved.contains(&nip) {
            problems.push(format!("{at}: employee moves more than once"));
        }
        moved.push(nip);
        if from != current.get(nip).copied() {
            problems.push(format!(
                "{at}: from {} is not the current position",
                m["from"]
            ));
        }
        *taken.entry(to).or_default() += 1;
        match (from.and_then(|f| positions.get(f)), positions.get(to)) {
            (Some(a), Some(b)) if a.id == b.id => {
                problems.push(format!("{at}: targets the employee's own position"))
            }
            // Stated here again rather than through `rotation::step`, so that a mistake
            // there cannot pass its own check.
            (Some(a), Some(b)) => {
                let rotation = a.kind == b.kind && a.level == b.level;
                let promotion = b.level == a.level + 1;
                let claimed = m["kind"].as_str().unwrap_or_default();
                if !(rotation || promotion) {
                    problems.push(format!(
                        "{at}: from {} level {} to {} level {} is neither a rotation (same kind \
                         and level) nor a promotion (one level up)",
                        a.kind, a.level, b.kind, b.level
                    ));
                } else if claimed != if rotation { "rotation" } else { "promotion" } {
                    problems.push(format!("{at}: kind {claimed:?} is wrong"));
                }
            }
            (_, None) => problems.push(format!("{at}: no such position")),
            (None, _) => {}
        }
        if m["readiness"] == "ready" && m["training"] != Value::Array(vec![]) {
            problems.push(format!("{at}: a ready move has training []"));
        }
    }
    for (pos, n) in &taken {
        let cap = positions.get(pos).map_or(0, |p| p.vacancies);
        if *n > cap {
            problems.push(format!("position {pos}: {n} moves for {cap} vacancies"));
        }
    }
    if !moved.windows(2).all(|w| w[0] <= w[1]) {
        problems.push(format!("moves are not sorted by nip: {moved:?}"));
    }
    problems
}

/// A random region for property tests of `rotate`: 1–15 employees over 2–11 positions of the
/// three kinds and levels 1–4, with random competencies, requirements, tenures, predikat,
/// potential and vacancies; the same `seed` gives the same request.
pub fn random_rotate_request(seed: u64) -> RotateRequest {
    const KINDS: [&str; 3] = ["struktural", "fungsional", "pelaksana"];
    const COMPETENCIES: [&str; 4] = ["integritas", "kerja_sama", "komunikasi", "teknis"];
    const PREDIKAT: [Option<Predikat>; 6] = [
        None,
        Some(Predikat::SangatBaik),
        Some(Predikat::Baik),
        Some(Predikat::ButuhPerbaikan),
        Some(Predikat::Kurang),
        Some(Predikat::SangatKurang),
    ];
    let mut rng = SplitMix64::new(seed);
    // Employees mostly meet the requirements (competencies 2–5 against 1–4), so that the
    // regions' JPM floors leave moves to check; positions span levels 1–4 of the three kinds,
    // so that every wrong direction is on offer.
    let levels = |rng: &mut SplitMix64, lo: i64, hi: i64| -> BTreeMap<String, f64> {
        let mut levels = BTreeMap::new();
        for c in COMPETENCIES {
            if rng.chance(0.6) {
                levels.insert(c.to_string(), rng.range(lo, hi) as f64);
            }
        }
        levels
    };
    let positions: Vec<Position> = (0..rng.range(2, 12))
        .map(|i| Position {
            id: format!("p{i}"),
            title: None,
            agency: None,
            kind: KINDS[rng.below(3) as usize].to_string(),
            level: rng.range(1, 4),
            required: levels(&mut rng, 1, 4),
            vacancies: rng.below(3) as u32,
        })
        .collect();
    let employees = (0..rng.range(1, 16))
        .map(|i| RotateEmployee {
            nip: format!("{:018}", 100 + i),
            position_id: positions[rng.below(positions.len() as u64) as usize]
                .id
                .clone(),
            position_since: format!("{}-{:02}-15", rng.range(2012, 2024), rng.range(1, 12)),
            competencies: levels(&mut rng, 2, 5),
            latest_predikat: PREDIKAT[rng.below(6) as usize],
            agency: None,
            potential: [
                None,
                Some(Potential::Rendah),
                Some(Potential::Menengah),
                Some(Potential::Tinggi),
            ][rng.below(4) as usize],
            declined_rotation: rng.chance(0.2),
        })
        .collect();
    RotateRequest {
        abi: 1,
        hook: Hook::Rotate,
        region: "random".into(),
        as_of: "2026-12-31".into(),
        employees,
        positions,
        config: serde_json::Map::new(),
    }
}

/// The vector and property tests every region plugin runs, in one line of its `tests/`:
/// the region's appraise and rotate vectors (`plugins/vectors/<region>-*.json`) compared as
/// their `compare` field says, the appraise answer written by the pdk byte for byte as serde
/// would, the region's readiness rule (`training`, the closure the plugin gives
/// [`crate::rotation::Roster::answer`], recomputed by the test), and [`check_moves`] over
/// 500 random regions.
#[macro_export]
macro_rules! vector_tests {
    (
        region: $region:literal,
        appraise: $appraise:path,
        rotate: $rotate:path,
        training: $training:expr $(,)?
    ) => {
        fn __vector(hook: &str) -> String {
            let path = ::std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../vectors")
                .join(format!("{}-{hook}.json", $region));
            ::std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        }

        #[test]
        fn appraise_vector() {
            let v: $crate::conformance::AppraiseVector =
                ::serde_json::from_str(&__vector("appraise")).unwrap();
            assert!(v.compare.contains("score within 0.01"), "{}", v.compare);
            assert_eq!(v.request.cases.len(), 16);
            let response = $appraise(&v.request).expect("the vector request is valid");
            let problems = $crate::conformance::check_appraise(&v.expected, &response);
            assert!(problems.is_empty(), "{problems:#?}");
        }

        #[test]
        fn appraise_vector_through_json() {
            let doc: ::serde_json::Value = ::serde_json::from_str(&__vector("appraise")).unwrap();
            let text = $crate::handle_json(&doc["request"].to_string(), |r| $appraise(&r));
            // The pdk writes appraise responses itself, for speed: byte for byte serde_json's.
            let request = ::serde_json::from_value(doc["request"].clone()).unwrap();
            let by_serde = ::serde_json::to_string(&$appraise(&request).unwrap()).unwrap();
            assert_eq!(text, by_serde);
            let out: ::serde_json::Value = ::serde_json::from_str(&text).unwrap();
            assert!(out.get("error").is_none(), "{out}");
            assert_eq!(out["results"].as_array().unwrap().len(), 16);
            assert_eq!(
                out["results"][0]["predikat"],
                doc["expected"]["results"][0]["predikat"]
            );
        }

        #[test]
        fn rotate_vector() {
            let v: $crate::conformance::RotateVector =
                ::serde_json::from_str(&__vector("rotate")).unwrap();
            assert!(v.compare.contains("optimal_total_value"), "{}", v.compare);
            let response = $rotate(&v.request).expect("the vector request is valid");
            let problems = $crate::conformance::check_rotate(&v.request, &v.expected, &response);
            assert!(problems.is_empty(), "{problems:#?}");
            assert!(!response.moves.is_empty());
            let training = $training;
            for m in &response.moves {
                let e = v.request.employees.iter().find(|e| e.nip == m.nip).unwrap();
                let to = v.request.positions.iter().find(|p| p.id == m.to).unwrap();
                let jpm = $crate::talent::job_person_match(&e.competencies, &to.required);
                let want: Option<Vec<String>> = training(e, to, jpm);
                let ready = want.is_none();
                assert_eq!(m.readiness == $crate::Readiness::Ready, ready, "{m:?}");
                assert_eq!(m.training, want.unwrap_or_default(), "{m:?}");
            }
        }

        #[test]
        fn rotate_never_moves_down_or_sideways_into_another_kind() {
            let mut moves = 0;
            for seed in 0..500u64 {
                let request = $crate::conformance::random_rotate_request(seed);
                let response = $rotate(&request).expect("a random region is a valid request");
                moves += response.moves.len();
                let doc = ::serde_json::to_value(&response).unwrap();
                let empty = Vec::new();
                let problems = $crate::conformance::check_moves(
                    &request,
                    doc["moves"].as_array().unwrap_or(&empty),
                );
                assert!(problems.is_empty(), "seed {seed}: {problems:#?}");
            }
            // The sweep must exercise the rule: random regions do produce moves.
            assert!(moves > 100, "only {moves} moves in 500 random regions");
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assignment::{optimal_assignment, value_units, Pair};
    use crate::rotation::step;
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
                kind: step(
                    v.request
                        .positions
                        .iter()
                        .find(|p| p.id == v.request.employees[pairs[i].employee].position_id)
                        .unwrap(),
                    &v.request.positions[pairs[i].position],
                )
                .expect("an allowed pair is a rotation or a promotion"),
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
            (
                "kind",
                Box::new(|a| {
                    a.moves[0].kind = match a.moves[0].kind {
                        MoveKind::Rotation => MoveKind::Promotion,
                        MoveKind::Promotion => MoveKind::Rotation,
                    }
                }),
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

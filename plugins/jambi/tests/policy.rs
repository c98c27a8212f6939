//! Hand-computed cases for every branch of the Jambi policy (region-policies.md, "Jambi").
//! Expected values are worked out in the comments from the policy text, not from the code.

use kinerja_pdk::{
    AppraiseRequest, AppraiseResult, FlagKind, MoveKind, Predikat, Rating, Readiness,
    RecommendationKind, RotateRequest, RotateResponse,
};
use kinerja_plugin_jambi::{appraise, rotate};
use serde_json::{json, Value};

// ---------------------------------------------------------------------------------------------
// appraise helpers
// ---------------------------------------------------------------------------------------------

fn sup(r: [u8; 7]) -> Value {
    json!({"berorientasi_pelayanan": r[0], "akuntabel": r[1], "kompeten": r[2], "harmonis": r[3],
           "loyal": r[4], "adaptif": r[5], "kolaboratif": r[6]})
}

fn ind(kind: &str, direction: &str, target: f64, realization: Value, weight: f64) -> Value {
    json!({"id": "iki", "name": "x", "kind": kind, "direction": direction, "unit": "u",
           "target": target, "realization": realization, "weight": weight})
}

/// A plain case: one utama indicator at capaian `c` (target 100), supervisor all 4, full
/// reporting, no process, no innovation.
fn case(c: f64) -> Value {
    json!({
        "employee": {"nip": "199001012015011001", "name": "A", "agency": "x",
                     "position_id": "p", "position_since": "2020-01-01"},
        "period": {"id": "2026", "start": "2026-01-01", "end": "2026-12-31", "working_days": 200},
        "indicators": [ind("utama", "higher_is_better", 100.0, json!(c), 1.0)],
        "behavior": {"supervisor": sup([4; 7])},
        "activities": {"days_reported": 200}
    })
}

fn request(cases: Vec<Value>) -> AppraiseRequest {
    serde_json::from_value(json!({
        "abi": 1, "hook": "appraise", "region": "jambi", "config": {}, "cases": cases
    }))
    .expect("test request parses")
}

fn one(case: Value) -> AppraiseResult {
    let mut r = appraise(&request(vec![case])).expect("accepted");
    assert_eq!(r.results.len(), 1);
    r.results.remove(0)
}

fn refused(case: Value) -> String {
    appraise(&request(vec![case])).expect_err("must be refused")
}

fn kinds(r: &AppraiseResult) -> Vec<(RecommendationKind, Option<&str>)> {
    r.recommendations
        .iter()
        .map(|x| (x.kind, x.subject.as_deref()))
        .collect()
}

fn component(r: &AppraiseResult, name: &str) -> f64 {
    r.components
        .iter()
        .find(|c| c.name == name)
        .unwrap_or_else(|| panic!("component {name} in {:?}", r.components))
        .value
}

use RecommendationKind::*;

// ---------------------------------------------------------------------------------------------
// appraise
// ---------------------------------------------------------------------------------------------

#[test]
fn worked_example() {
    let mut c = case(0.0);
    c["indicators"] = json!([
        ind("utama", "higher_is_better", 12.0, json!(11), 2.0),
        ind("tambahan", "lower_is_better", 5.0, json!(4), 1.0)
    ]);
    c["process"] = json!({"inovasi": 85, "keterlibatan_masyarakat": 70});
    c["activities"] = json!({"days_reported": 230});
    c["period"]["working_days"] = json!(246);
    c["behavior"]["supervisor"] = sup([4, 4, 5, 4, 4, 3, 4]);
    let r = one(c);
    assert_eq!(
        (r.hasil_kerja, r.perilaku_kerja),
        (Rating::Sesuai, Rating::Sesuai)
    );
    assert_eq!(r.predikat, Predikat::Baik);
    assert_eq!(r.score, 89.83);
    assert!(r.recommendations.is_empty());
    assert!((component(&r, "capaian") - 101.111_111_111).abs() < 1e-6);
    assert_eq!(component(&r, "process"), 77.5);
    assert!((component(&r, "hk") - 96.388_888_889).abs() < 1e-6);
    assert!((component(&r, "reporting") - 230.0 / 246.0).abs() < 1e-12);
    assert_eq!(component(&r, "behavior"), 4.0);
    assert!(r.explanation.contains("96.39"), "{}", r.explanation);
    assert!(r.explanation.contains("predikat Baik"), "{}", r.explanation);
    assert_eq!(r.tpp_percent, None);
}

#[test]
fn hk_exactly_110_with_innovation_is_di_atas() {
    // C = 110, no process → P = C, HK = 110; m = 5 → di_atas; score 0.6×110 + 0.4×100 = 106.
    let mut c = case(110.0);
    c["innovations"] = json!([{"title": "x", "date": "2026-05-02"}]);
    c["behavior"]["supervisor"] = sup([5; 7]);
    let r = one(c.clone());
    assert_eq!(
        (r.hasil_kerja, r.perilaku_kerja),
        (Rating::DiAtas, Rating::DiAtas)
    );
    assert_eq!(r.predikat, Predikat::SangatBaik);
    assert_eq!(r.score, 106.0);
    assert_eq!(kinds(&r), vec![(Reward, None)]);

    // Without the innovation (absent, null or empty) it is only sesuai.
    for innovations in [json!(null), json!([])] {
        let mut c = c.clone();
        c["innovations"] = innovations;
        let r = one(c);
        assert_eq!(r.hasil_kerja, Rating::Sesuai);
        assert_eq!(r.predikat, Predikat::Baik);
        assert!(r.recommendations.is_empty());
    }
    // HK just under 110 is sesuai even with the innovation.
    let mut c = c.clone();
    c["indicators"][0]["realization"] = json!(109.99);
    assert_eq!(one(c).hasil_kerja, Rating::Sesuai);
}

#[test]
fn a_weak_utama_indicator_blocks_di_atas() {
    // utama 89 and a heavy tambahan at 120: C = (89 + 10×120)/11 = 117.18 ≥ 110 but utama < 90.
    let mut c = case(0.0);
    c["innovations"] = json!([{"title": "x"}]);
    c["indicators"] = json!([
        ind("utama", "higher_is_better", 100.0, json!(89), 1.0),
        ind("tambahan", "higher_is_better", 100.0, json!(130), 10.0)
    ]);
    let r = one(c.clone());
    assert_eq!(r.hasil_kerja, Rating::Sesuai);
    assert!(r.explanation.contains("di bawah 90"), "{}", r.explanation);
    // utama exactly 90 is enough: C = (90 + 1200)/11 = 117.27 → di_atas.
    c["indicators"][0]["realization"] = json!(90);
    assert_eq!(one(c.clone()).hasil_kerja, Rating::DiAtas);
    // A weak *tambahan* does not block.
    c["indicators"][0]["kind"] = json!("tambahan");
    c["indicators"][0]["realization"] = json!(50);
    c["indicators"][1]["kind"] = json!("utama");
    // C = (50 + 1200)/11 = 113.6 → di_atas.
    assert_eq!(one(c).hasil_kerja, Rating::DiAtas);
}

#[test]
fn hk_90_boundary_and_float_noise() {
    assert_eq!(one(case(90.0)).hasil_kerja, Rating::Sesuai);
    assert_eq!(one(case(89.99)).hasil_kerja, Rating::DiBawah);
    // Lower is better, T 5, R 5.5: 100 × (2 − 1.1) = 89.99999999999999 in f64, which the
    // 9-decimal rule counts as 90.
    let mut c = case(0.0);
    c["indicators"] = json!([ind("utama", "lower_is_better", 5.0, json!(5.5), 1.0)]);
    let r = one(c);
    assert_eq!(r.hasil_kerja, Rating::Sesuai);
    // score = 0.6 × 90 + 0.4 × 80 = 86.
    assert_eq!(r.score, 86.0);
}

#[test]
fn process_ratings_feed_p() {
    // C = 100; process mean 50 → HK = 80 + 10 = 90 → sesuai.
    let mut c = case(100.0);
    c["process"] = json!({"inovasi": 40, "keterlibatan_masyarakat": 60});
    let r = one(c.clone());
    assert_eq!(component(&r, "process"), 50.0);
    assert_eq!(component(&r, "hk"), 90.0);
    assert_eq!(r.hasil_kerja, Rating::Sesuai);
    // score = 0.6 × 90 + 0.4 × 80 = 86.
    assert_eq!(r.score, 86.0);
    // A lower process mean tips it under 90: P = 45 → HK 89 → di_bawah.
    c["process"] = json!({"inovasi": 45});
    assert_eq!(one(c.clone()).hasil_kerja, Rating::DiBawah);
    // Absent, null and {} all mean P = C: HK = 100.
    for process in [json!(null), json!({})] {
        let mut c = c.clone();
        c["process"] = process;
        let r = one(c);
        assert_eq!(component(&r, "process"), 100.0);
        assert_eq!(component(&r, "hk"), 100.0);
        assert!(r.explanation.contains("P = C"), "{}", r.explanation);
    }
}

#[test]
fn no_indicators_and_null_realizations_count_zero() {
    let mut c = case(0.0);
    c["indicators"] = json!([]);
    let r = one(c.clone());
    // C = 0, P = C = 0, HK = 0 → di_bawah; m 4 → sesuai → butuh_perbaikan; score = 0 + 32.
    assert_eq!(component(&r, "capaian"), 0.0);
    assert_eq!(r.predikat, Predikat::ButuhPerbaikan);
    assert_eq!(r.score, 32.0);
    assert_eq!(kinds(&r), vec![(Coaching, None)]);
    // A null realization, even lower-is-better, is capaian 0: (0 + 100)/2 = 50.
    c["indicators"] = json!([
        ind("utama", "lower_is_better", 10.0, json!(null), 1.0),
        ind("utama", "higher_is_better", 10.0, json!(10), 1.0)
    ]);
    assert_eq!(component(&one(c), "capaian"), 50.0);
}

#[test]
fn weights_default_to_one() {
    let mut c = case(0.0);
    c["indicators"] = json!([
        ind("utama", "higher_is_better", 100.0, json!(100), 1.0),
        ind("utama", "higher_is_better", 100.0, json!(40), 1.0)
    ]);
    c["indicators"][0].as_object_mut().unwrap().remove("weight");
    c["indicators"][1]["weight"] = json!(null);
    assert_eq!(component(&one(c), "capaian"), 70.0);
}

#[test]
fn reporting_below_80_percent_lowers_one_level_and_asks_for_dialog() {
    // q exactly 0.80 (160/200): no change.
    let mut c = case(100.0);
    c["activities"]["days_reported"] = json!(160);
    let r = one(c.clone());
    assert_eq!(r.hasil_kerja, Rating::Sesuai);
    assert!(r.recommendations.is_empty());

    // q = 159/200 = 0.795: sesuai → di_bawah; with m 4 → butuh_perbaikan; coaching, dialog.
    c["activities"]["days_reported"] = json!(159);
    let r = one(c.clone());
    assert_eq!(r.hasil_kerja, Rating::DiBawah);
    assert_eq!(r.predikat, Predikat::ButuhPerbaikan);
    assert_eq!(kinds(&r), vec![(Coaching, None), (Dialog, None)]);
    // Lowering does not touch the score: 0.6 × 100 + 32 = 92.
    assert_eq!(r.score, 92.0);

    // di_atas → sesuai.
    let mut top = case(115.0);
    top["innovations"] = json!([{"title": "x"}]);
    top["behavior"]["supervisor"] = sup([5; 7]);
    top["activities"]["days_reported"] = json!(100);
    let r = one(top);
    assert_eq!(r.hasil_kerja, Rating::Sesuai);
    assert_eq!(r.predikat, Predikat::Baik);
    assert_eq!(kinds(&r), vec![(Dialog, None)]);

    // di_bawah stays di_bawah.
    let mut low = case(50.0);
    low["activities"]["days_reported"] = json!(10);
    let r = one(low);
    assert_eq!(r.hasil_kerja, Rating::DiBawah);
    assert_eq!(kinds(&r), vec![(Coaching, None), (Dialog, None)]);
}

#[test]
fn behaviour_thresholds() {
    // m = 3.0 exactly (all 3) → sesuai; 20/7 → di_bawah.
    let mut c = case(100.0);
    c["behavior"]["supervisor"] = sup([3; 7]);
    assert_eq!(one(c.clone()).perilaku_kerja, Rating::Sesuai);
    c["behavior"]["supervisor"] = sup([3, 3, 3, 3, 3, 3, 2]);
    let r = one(c.clone());
    assert_eq!(r.perilaku_kerja, Rating::DiBawah);
    assert_eq!(r.predikat, Predikat::Kurang);
    assert_eq!(
        kinds(&r),
        vec![(Coaching, None), (Training, Some("kolaboratif"))]
    );
    // 31/7 = 4.43 → sesuai; 32/7 = 4.57 → di_atas (4.5 itself is not a mean of seven integers).
    c["behavior"]["supervisor"] = sup([5, 5, 5, 4, 4, 4, 4]);
    assert_eq!(one(c.clone()).perilaku_kerja, Rating::Sesuai);
    c["behavior"]["supervisor"] = sup([5, 5, 5, 5, 4, 4, 4]);
    assert_eq!(one(c.clone()).perilaku_kerja, Rating::DiAtas);
    // One rating of 1 is di_bawah whatever the mean (31/7 here).
    c["behavior"]["supervisor"] = sup([5, 5, 5, 5, 5, 5, 1]);
    let r = one(c);
    assert_eq!(r.perilaku_kerja, Rating::DiBawah);
    assert!(
        r.explanation.contains("ada nilai 1 dari atasan"),
        "{}",
        r.explanation
    );
    assert_eq!(
        kinds(&r),
        vec![(Coaching, None), (Training, Some("kolaboratif"))]
    );
}

#[test]
fn recommendations_in_policy_order() {
    // Low reporting, weak HK, ratings ≤ 2 on several values: coaching, dialog, then training in
    // BerAKHLAK order.
    let mut c = case(50.0);
    c["activities"]["days_reported"] = json!(100);
    c["behavior"]["supervisor"] = sup([2, 4, 1, 4, 4, 2, 4]);
    let r = one(c);
    assert_eq!(r.predikat, Predikat::SangatKurang);
    assert_eq!(
        kinds(&r),
        vec![
            (Coaching, None),
            (Dialog, None),
            (Training, Some("berorientasi_pelayanan")),
            (Training, Some("kompeten")),
            (Training, Some("adaptif")),
        ]
    );
    // The explanation names the cause of each, in Bahasa Indonesia.
    for cause in [
        "pembinaan (predikat Sangat Kurang)",
        "dialog kinerja (laporan harian q = 100/200 hari kerja = 0.50 < 0.80)",
        "pelatihan berorientasi pelayanan (nilai atasan untuk berorientasi pelayanan 2 ≤ 2)",
        "pelatihan kompeten (nilai atasan untuk kompeten 1 ≤ 2)",
        "pelatihan adaptif (nilai atasan untuk adaptif 2 ≤ 2)",
    ] {
        assert!(r.explanation.contains(cause), "{cause}: {}", r.explanation);
    }
}

#[test]
fn every_predikat_is_reachable() {
    let mut got = Vec::new();
    for (c_value, innovation, ratings) in [
        (115.0, true, [5; 7]),
        (100.0, false, [4; 7]),
        (50.0, false, [4; 7]),
        (100.0, false, [2; 7]),
        (50.0, false, [2; 7]),
    ] {
        let mut c = case(c_value);
        if innovation {
            c["innovations"] = json!([{"title": "x"}]);
        }
        c["behavior"]["supervisor"] = sup(ratings);
        got.push(one(c).predikat);
    }
    assert_eq!(got, Predikat::ALL.to_vec());
}

#[test]
fn results_keep_case_order() {
    let mut a = case(100.0);
    a["employee"]["nip"] = json!("3");
    let mut b = case(50.0);
    b["employee"]["nip"] = json!("1");
    let r = appraise(&request(vec![a, b])).unwrap();
    let nips: Vec<_> = r.results.iter().map(|x| x.nip.as_str()).collect();
    assert_eq!(nips, ["3", "1"]);
}

#[test]
fn malformed_cases_are_refused_by_name() {
    let mut c = case(100.0);
    c["period"]["working_days"] = json!(0);
    assert!(refused(c).contains("working_days"));
    let mut c = case(100.0);
    c["indicators"][0]["target"] = json!(0);
    assert!(refused(c).contains("target"));
    let mut c = case(100.0);
    c["indicators"][0]["weight"] = json!(-1);
    assert!(refused(c).contains("weight"));
    let mut c = case(100.0);
    c["indicators"][0]["weight"] = json!(0);
    assert!(refused(c).contains("weights add up to 0"));
    let mut c = case(100.0);
    c["behavior"]["supervisor"]["loyal"] = json!(6);
    let msg = refused(c);
    assert!(msg.contains("loyal") && msg.contains("cases[0]"), "{msg}");
    let mut c = case(100.0);
    c["behavior"]["peers"] = json!([sup([0; 7])]);
    assert!(refused(c).contains("peers[0]"));
    let mut c = case(100.0);
    c.as_object_mut().unwrap().remove("activities");
    assert!(refused(c).contains("activities"));
    let mut c = case(100.0);
    c["process"] = json!({"inovasi": 150});
    assert!(refused(c).contains("process.inovasi"));
    // The second case's problem names the second case.
    let mut bad = case(100.0);
    bad["indicators"][0]["target"] = json!(-3);
    let msg = appraise(&request(vec![case(100.0), bad])).unwrap_err();
    assert!(msg.starts_with("cases[1]"), "{msg}");
}

#[test]
fn json_path_refuses_instead_of_panicking() {
    let run = |doc: Value| -> Value {
        let out = kinerja_pdk::handle_json(&doc.to_string(), |r| appraise(&r));
        serde_json::from_str(&out).unwrap()
    };
    let mut doc = json!({"abi": 1, "hook": "appraise", "region": "jambi", "config": {},
                         "cases": [case(100.0)]});
    assert!(run(doc.clone())["results"].is_array());
    doc["cases"][0]["behavior"]
        .as_object_mut()
        .unwrap()
        .remove("supervisor");
    let out = run(doc);
    let msg = out["error"]["message"].as_str().unwrap();
    assert!(msg.contains("supervisor"), "{msg}");
    let out = run(json!("not an object"));
    assert!(out["error"]["message"].is_string());
}

// ---------------------------------------------------------------------------------------------
// rotate helpers
// ---------------------------------------------------------------------------------------------

const AS_OF: &str = "2026-12-31";

/// `position_since` giving `months` of tenure at 2026-12-31 (end of month, so day never cuts).
fn since(months: u32) -> String {
    let total = 2026 * 12 + 11 - months as i32; // 0-based month index
    let (y, m) = (total / 12, total % 12 + 1);
    let day = match m {
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    format!("{y:04}-{m:02}-{day:02}")
}

fn emp(
    nip: &str,
    pos: &str,
    months: u32,
    predikat: Value,
    potential: Value,
    comps: Value,
) -> Value {
    json!({"nip": nip, "agency": "x", "position_id": pos, "position_since": since(months),
           "competencies": comps, "latest_predikat": predikat, "potential": potential,
           "declined_rotation": false})
}

fn pos(id: &str, level: i64, vacancies: u32, required: Value) -> Value {
    json!({"id": id, "title": id, "agency": "x", "kind": "fungsional", "level": level,
           "required": required, "vacancies": vacancies})
}

fn rot(employees: Vec<Value>, positions: Vec<Value>) -> RotateResponse {
    let req: RotateRequest = serde_json::from_value(json!({
        "abi": 1, "hook": "rotate", "region": "jambi", "config": {}, "as_of": AS_OF,
        "employees": employees, "positions": positions
    }))
    .expect("test request parses");
    rotate(&req).expect("accepted")
}

fn moved(r: &RotateResponse) -> Vec<(&str, &str)> {
    r.moves
        .iter()
        .map(|m| (m.nip.as_str(), m.to.as_str()))
        .collect()
}

/// A "home" position everyone starts in (level 3, no seats) and a few targets.
fn home() -> Value {
    pos("home", 3, 0, json!({}))
}

fn full() -> Value {
    json!({"a": 4, "b": 4})
}

// ---------------------------------------------------------------------------------------------
// rotate
// ---------------------------------------------------------------------------------------------

#[test]
fn tenure_helper_is_right() {
    assert_eq!(since(24), "2024-12-31");
    assert_eq!(since(23), "2025-01-31");
    assert_eq!(since(61), "2021-11-30");
}

#[test]
fn tenure_24_months_is_the_minimum() {
    let r = rot(
        vec![
            emp("1", "home", 23, json!("baik"), json!("menengah"), full()),
            emp("2", "home", 24, json!("baik"), json!("menengah"), full()),
        ],
        vec![home(), pos("t", 3, 5, json!({"a": 4}))],
    );
    assert_eq!(moved(&r), vec![("2", "t")]);
    assert!(r.flags.is_empty());
}

#[test]
fn over_60_months_is_overdue_and_comes_first() {
    // One seat; "1" has 61 months and a weaker match (75), "2" 60 months and 100: the +1000
    // bonus gives the seat to "1". Only "1" is overdue.
    let r = rot(
        vec![
            emp("1", "home", 61, json!("baik"), json!(null), json!({"a": 3})),
            emp("2", "home", 60, json!("baik"), json!(null), full()),
        ],
        vec![home(), pos("t", 3, 1, json!({"a": 4}))],
    );
    assert_eq!(moved(&r), vec![("1", "t")]);
    assert_eq!(r.moves[0].job_person_match, 75.0);
    assert_eq!(r.moves[0].readiness, Readiness::NeedsTraining);
    assert_eq!(r.moves[0].training, vec!["a"]);
    let flags: Vec<_> = r.flags.iter().map(|f| (f.nip.as_str(), f.kind)).collect();
    assert_eq!(flags, vec![("1", FlagKind::Overdue)]);
    assert!(r.flags[0].detail.contains("61"));
}

#[test]
fn promotion_only_for_the_talent_pool() {
    // box 7 (sangat_baik, menengah), 8 (baik, tinggi), 9 may go up; box 5 and 4 may not.
    let employees = vec![
        emp(
            "1",
            "home",
            30,
            json!("sangat_baik"),
            json!("menengah"),
            full(),
        ), // 7
        emp("2", "home", 30, json!("baik"), json!("tinggi"), full()), // 8
        emp(
            "3",
            "home",
            30,
            json!("sangat_baik"),
            json!("tinggi"),
            full(),
        ), // 9
        emp("4", "home", 30, json!("baik"), json!("menengah"), full()), // 5
        emp("5", "home", 30, json!("sangat_baik"), json!(null), full()), // 4
    ];
    let r = rot(
        employees.clone(),
        vec![
            home(),
            pos("up", 4, 10, json!({"a": 4})),
            pos("two-up", 5, 10, json!({"a": 4})),
        ],
    );
    // One level up only: nobody is promoted past the next level.
    assert_eq!(moved(&r), vec![("1", "up"), ("2", "up"), ("3", "up")]);
    assert!(r.moves.iter().all(|m| m.kind == MoveKind::Promotion));
    let boxes: Vec<_> = r.talent.iter().map(|t| t.nine_box).collect();
    assert_eq!(boxes, vec![Some(7), Some(8), Some(9), Some(5), Some(4)]);
    // The same kind and level is open to all, as a rotation; a lower level to nobody.
    let r = rot(
        employees,
        vec![
            home(),
            pos("same", 3, 10, json!({"a": 4})),
            pos("down", 1, 0, json!({})),
        ],
    );
    assert_eq!(r.moves.len(), 5);
    assert!(r
        .moves
        .iter()
        .all(|m| m.kind == MoveKind::Rotation && m.to == "same"));
}

/// Region policies version 2: a demotion is never recommended, whatever the match.
#[test]
fn nothing_moves_down() {
    let r = rot(
        vec![emp(
            "1",
            "home",
            30,
            json!("kurang"),
            json!("rendah"),
            full(),
        )],
        vec![home(), pos("down", 1, 1, json!({"a": 2}))],
    );
    assert!(r.moves.is_empty(), "{:?}", r.moves);
    assert_eq!(r.talent[0].nine_box, Some(1));
}

#[test]
fn no_predikat_no_move_and_no_box() {
    let r = rot(
        vec![emp("1", "home", 30, json!(null), json!("tinggi"), full())],
        vec![home(), pos("t", 3, 1, json!({}))],
    );
    assert!(r.moves.is_empty());
    assert_eq!(r.talent[0].nine_box, None);
}

#[test]
fn vacancies_zero_and_own_position_are_never_targets() {
    let r = rot(
        vec![emp("1", "home", 30, json!("baik"), json!(null), full())],
        vec![pos("home", 3, 4, json!({})), pos("t", 3, 0, json!({}))],
    );
    assert!(r.moves.is_empty());
}

#[test]
fn jpm_68_is_the_floor() {
    // Required 25 levels; holding 17 is 68%, 16 is 64%.
    let req = json!({"a": 5, "b": 5, "c": 5, "d": 5, "e": 5});
    let r = rot(
        vec![
            emp(
                "1",
                "home",
                30,
                json!("baik"),
                json!(null),
                json!({"a": 5, "b": 5, "c": 5, "d": 2}),
            ),
            emp(
                "2",
                "home",
                30,
                json!("baik"),
                json!(null),
                json!({"a": 5, "b": 5, "c": 5, "d": 1}),
            ),
        ],
        vec![home(), pos("t", 3, 2, req)],
    );
    assert_eq!(moved(&r), vec![("1", "t")]);
    assert_eq!(r.moves[0].job_person_match, 68.0);
    assert_eq!(r.moves[0].training, vec!["d", "e"]);
}

#[test]
fn readiness_at_80_and_declined_rotation() {
    // Required 10: holding 8 is exactly 80 → ready, training [].
    let req = json!({"a": 5, "b": 5});
    let mut declined = emp(
        "3",
        "home",
        30,
        json!("baik"),
        json!(null),
        json!({"a": 5, "b": 5}),
    );
    declined["declined_rotation"] = json!(true);
    let mut declined_gap = emp(
        "4",
        "home",
        30,
        json!("baik"),
        json!(null),
        json!({"a": 5, "b": 3}),
    );
    declined_gap["declined_rotation"] = json!(true);
    let r = rot(
        vec![
            emp(
                "1",
                "home",
                30,
                json!("baik"),
                json!(null),
                json!({"a": 5, "b": 3}),
            ),
            emp(
                "2",
                "home",
                30,
                json!("baik"),
                json!(null),
                json!({"a": 4, "b": 3}),
            ),
            declined,
            declined_gap,
        ],
        vec![home(), pos("t", 3, 4, req)],
    );
    let m: Vec<_> = r
        .moves
        .iter()
        .map(|m| {
            (
                m.nip.as_str(),
                m.job_person_match,
                m.readiness,
                m.training.clone(),
            )
        })
        .collect();
    assert_eq!(
        m,
        vec![
            ("1", 80.0, Readiness::Ready, vec![]),
            (
                "2",
                70.0,
                Readiness::NeedsTraining,
                vec!["a".to_string(), "b".to_string()]
            ),
            // Perfect match but declined before: prepare with guidance.
            (
                "3",
                100.0,
                Readiness::NeedsTraining,
                vec!["bimbingan".to_string()]
            ),
            (
                "4",
                80.0,
                Readiness::NeedsTraining,
                vec!["b".to_string(), "bimbingan".to_string()]
            ),
        ]
    );
}

#[test]
fn assignment_is_optimal_not_greedy() {
    // "1" matches x 100 and y 90; "2" matches only x at 80. Greedy gives x to "1" (100);
    // optimal is 1→y, 2→x = 170.
    let r = rot(
        vec![
            emp(
                "1",
                "home",
                30,
                json!("baik"),
                json!(null),
                json!({"a": 5, "b": 5}),
            ),
            emp("2", "home", 30, json!("baik"), json!(null), json!({"a": 4})),
        ],
        vec![
            home(),
            pos("x", 3, 1, json!({"a": 5})),
            pos("y", 3, 1, json!({"a": 5, "b": 5, "c": 1})),
        ],
    );
    // y: (5 + 5 + 0)/11 = 90.91 for "1"; "2" on y: 4/11 = 36 (not allowed).
    assert_eq!(moved(&r), vec![("1", "y"), ("2", "x")]);
    assert_eq!(r.moves[0].job_person_match, 90.91);
}

#[test]
fn outputs_are_in_contract_order() {
    let r = rot(
        vec![
            emp("9", "home", 70, json!("baik"), json!(null), full()),
            emp("1", "home", 70, json!("baik"), json!(null), full()),
            emp("5", "home", 10, json!(null), json!(null), full()),
        ],
        vec![home(), pos("t", 3, 3, json!({"a": 1}))],
    );
    let talent: Vec<_> = r.talent.iter().map(|t| t.nip.as_str()).collect();
    assert_eq!(talent, ["9", "1", "5"]);
    assert_eq!(moved(&r), vec![("1", "t"), ("9", "t")]);
    let flags: Vec<_> = r.flags.iter().map(|f| f.nip.as_str()).collect();
    assert_eq!(flags, ["1", "9"]);
    assert!(r.moves.iter().all(|m| m.from == "home"));
}

#[test]
fn malformed_rotate_requests_are_refused() {
    let req = |employees: Vec<Value>, as_of: &str| -> Result<RotateResponse, String> {
        let req: RotateRequest = serde_json::from_value(json!({
            "abi": 1, "hook": "rotate", "region": "jambi", "config": {}, "as_of": as_of,
            "employees": employees, "positions": [home()]
        }))
        .unwrap();
        rotate(&req)
    };
    assert!(req(vec![], "2026-13-01").unwrap_err().contains("as_of"));
    let e = emp("1", "nowhere", 30, json!("baik"), json!(null), full());
    assert!(req(vec![e], AS_OF).unwrap_err().contains("nowhere"));
    let mut e = emp("1", "home", 30, json!("baik"), json!(null), full());
    e["position_since"] = json!("31-12-2020");
    assert!(req(vec![e], AS_OF).unwrap_err().contains("position_since"));
}

#[test]
fn overflowing_numbers_are_refused_not_rated() {
    // Two weights of 1e308 overflow the weight sum to infinity: C would be NaN, which must not
    // pass every threshold as if it were a number.
    let mut c = case(0.0);
    c["indicators"] = json!([
        ind("utama", "higher_is_better", 1.0, json!(1), 1e308),
        ind("utama", "higher_is_better", 1.0, json!(1), 1e308)
    ]);
    let msg = refused(c);
    assert!(msg.contains("not a finite number"), "{msg}");
}

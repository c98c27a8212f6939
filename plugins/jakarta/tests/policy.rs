//! Hand-computed cases for every branch of the DKI Jakarta policy (region-policies.md,
//! "DKI Jakarta"). Expected values are worked out in the comments from the policy text.

use kinerja_pdk::{
    AppraiseRequest, AppraiseResult, FlagKind, MoveKind, Predikat, Rating, Readiness,
    RecommendationKind, RotateRequest, RotateResponse,
};
use kinerja_plugin_jakarta::{appraise, rotate};
use serde_json::{json, Value};

use RecommendationKind::*;

fn sup(r: [u8; 7]) -> Value {
    json!({"berorientasi_pelayanan": r[0], "akuntabel": r[1], "kompeten": r[2], "harmonis": r[3],
           "loyal": r[4], "adaptif": r[5], "kolaboratif": r[6]})
}

/// One utama indicator at capaian `k` (so K = k), supervisor all 4 (m 4, P 80), no budget.
fn case(k: f64) -> Value {
    json!({
        "employee": {"nip": "199001012015011001"},
        "period": {"id": "2026", "start": "2026-01-01", "end": "2026-12-31", "working_days": 261},
        "indicators": [{"id": "iki-1", "kind": "utama", "direction": "higher_is_better",
                        "target": 100, "realization": k, "weight": 1}],
        "behavior": {"supervisor": sup([4; 7])},
        "activities": {"days_reported": 100}
    })
}

fn request_with(config: Value, cases: Vec<Value>) -> AppraiseRequest {
    serde_json::from_value(json!({
        "abi": 1, "hook": "appraise", "region": "jakarta", "config": config, "cases": cases
    }))
    .expect("test request parses")
}

fn one_with(config: Value, case: Value) -> AppraiseResult {
    appraise(&request_with(config, vec![case]))
        .expect("accepted")
        .results
        .remove(0)
}

fn one(case: Value) -> AppraiseResult {
    one_with(json!({}), case)
}

fn kinds(r: &AppraiseResult) -> Vec<(RecommendationKind, Option<&str>)> {
    r.recommendations
        .iter()
        .map(|x| (x.kind, x.subject.as_deref()))
        .collect()
}

fn components(r: &AppraiseResult) -> Vec<(&str, f64, Option<f64>)> {
    r.components
        .iter()
        .map(|c| (c.name.as_str(), c.value, c.weight))
        .collect()
}

#[test]
fn without_budget_the_score_is_renormalised() {
    // K 100, P 80: (70 + 8) / 0.8 = 97.5.
    let r = one(case(100.0));
    assert_eq!(r.score, 97.5);
    assert_eq!(
        (r.hasil_kerja, r.perilaku_kerja, r.predikat),
        (Rating::Sesuai, Rating::Sesuai, Predikat::Baik)
    );
    assert_eq!(
        components(&r),
        vec![
            ("kinerja", 100.0, Some(0.875)),
            ("perilaku", 80.0, Some(0.125))
        ]
    );
    // A zero plan has no absorption rate: same as no budget.
    let mut c = case(100.0);
    c["budget"] = json!({"planned": 0, "realized": 5});
    assert_eq!(one(c.clone()).score, 97.5);
    c["budget"] = json!(null);
    assert_eq!(one(c).score, 97.5);
}

#[test]
fn budget_absorption_is_capped_at_100() {
    // A = 50: 70 + 8 + 10 = 88.
    let mut c = case(100.0);
    c["budget"] = json!({"planned": 1000, "realized": 500});
    let r = one(c.clone());
    assert_eq!(r.score, 88.0);
    assert_eq!(
        components(&r),
        vec![
            ("kinerja", 100.0, Some(0.7)),
            ("perilaku", 80.0, Some(0.1)),
            ("anggaran", 50.0, Some(0.2))
        ]
    );
    // Over-absorption counts 100: 70 + 8 + 20 = 98.
    c["budget"] = json!({"planned": 1000, "realized": 1500});
    assert_eq!(one(c.clone()).score, 98.0);
    c["budget"] = json!({"planned": 1000, "realized": -1});
    let msg = appraise(&request_with(json!({}), vec![c])).unwrap_err();
    assert!(msg.contains("budget.realized"), "{msg}");
}

#[test]
fn k_thresholds() {
    // K exactly 110 with an innovation: di_atas; m 5 → sangat_baik; (77 + 10)/0.8 = 108.75.
    let mut c = case(110.0);
    c["innovations"] = json!([{"title": "x", "date": "2026-03-01"}]);
    c["behavior"]["supervisor"] = sup([5; 7]);
    let r = one(c.clone());
    assert_eq!(r.hasil_kerja, Rating::DiAtas);
    assert_eq!(r.predikat, Predikat::SangatBaik);
    assert_eq!(r.score, 108.75);
    assert_eq!(kinds(&r), vec![(Reward, None)]);
    // No innovation: sesuai.
    c["innovations"] = json!([]);
    let r = one(c);
    assert_eq!(r.hasil_kerja, Rating::Sesuai);
    assert!(r.explanation.contains("tanpa inovasi"), "{}", r.explanation);
    // K exactly 85 is sesuai: (59.5 + 8)/0.8 = 84.375 → 84.38 (half away from zero).
    let r = one(case(85.0));
    assert_eq!(r.hasil_kerja, Rating::Sesuai);
    assert_eq!(r.score, 84.38);
    assert_eq!(one(case(84.99)).hasil_kerja, Rating::DiBawah);
}

#[test]
fn behaviour_as_in_jambi() {
    let mut c = case(100.0);
    c["behavior"]["supervisor"] = sup([3; 7]);
    assert_eq!(one(c.clone()).perilaku_kerja, Rating::Sesuai);
    c["behavior"]["supervisor"] = sup([3, 3, 3, 3, 3, 2, 3]);
    let r = one(c.clone());
    assert_eq!(
        (r.perilaku_kerja, r.predikat),
        (Rating::DiBawah, Predikat::Kurang)
    );
    assert_eq!(
        kinds(&r),
        vec![(Coaching, None), (Training, Some("adaptif"))]
    );
    c["behavior"]["supervisor"] = sup([5, 5, 5, 5, 4, 4, 4]);
    assert_eq!(one(c.clone()).perilaku_kerja, Rating::DiAtas);
    c["behavior"]["supervisor"] = sup([1, 5, 5, 5, 5, 5, 5]);
    assert_eq!(one(c).perilaku_kerja, Rating::DiBawah);
}

#[test]
fn self_assessment_far_above_the_supervisor_asks_for_dialog() {
    // Supervisor all 3 (m 3.0); self sum 29 (4.14): gap 1.14 > 1 → dialog.
    let mut c = case(100.0);
    c["behavior"]["supervisor"] = sup([3; 7]);
    c["behavior"]["self"] = sup([5, 5, 5, 4, 4, 4, 2]);
    let r = one(c.clone());
    assert_eq!(r.predikat, Predikat::Baik);
    assert_eq!(kinds(&r), vec![(Dialog, None)]);
    // Self-ratings never produce training: only the supervisor's do.
    assert!(
        r.explanation
            .contains("dialog kinerja (penilaian diri 1.14 di atas penilaian atasan, > 1.00)"),
        "{}",
        r.explanation
    );
    // Exactly 1.0 apart: no dialog.
    c["behavior"]["self"] = sup([4; 7]);
    assert!(one(c.clone()).recommendations.is_empty());
    // 29/7 − 22/7 is 1.0000000000000004 in f64; on 9 decimals it is 1.0: no dialog.
    c["behavior"]["supervisor"] = sup([3, 3, 3, 3, 3, 3, 4]);
    c["behavior"]["self"] = sup([4, 4, 4, 4, 4, 4, 5]);
    assert!(one(c.clone()).recommendations.is_empty());
    // Self below the supervisor: nothing.
    c["behavior"]["self"] = sup([1; 7]);
    assert!(one(c).recommendations.is_empty());
}

#[test]
fn recommendations_in_policy_order() {
    let mut c = case(50.0);
    c["behavior"]["supervisor"] = sup([2, 3, 3, 3, 3, 3, 1]);
    c["behavior"]["self"] = sup([5; 7]);
    let r = one(c);
    assert_eq!(r.predikat, Predikat::SangatKurang);
    assert_eq!(
        kinds(&r),
        vec![
            (Coaching, None),
            (Dialog, None),
            (Training, Some("berorientasi_pelayanan")),
            (Training, Some("kolaboratif"))
        ]
    );
}

#[test]
fn tpp_comes_from_the_activation_config() {
    let config = json!({"tpp_percent": {"sangat_baik": 100, "baik": 87.5, "kurang": 60}});
    let baik = one_with(config.clone(), case(100.0));
    assert_eq!(
        baik.tpp_percent.as_ref().and_then(|n| n.as_f64()),
        Some(87.5)
    );
    // Copied as the admin wrote it: 100 stays the integer 100 in the JSON.
    let mut top = case(115.0);
    top["innovations"] = json!([{"title": "x"}]);
    top["behavior"]["supervisor"] = sup([5; 7]);
    let r = one_with(config.clone(), top);
    assert_eq!(serde_json::to_value(&r).unwrap()["tpp_percent"], json!(100));
    assert!(r.explanation.contains("TPP 100%"), "{}", r.explanation);
    // No key for butuh_perbaikan: absent, and absent from the JSON.
    let r = one_with(config, case(50.0));
    assert_eq!(r.predikat, Predikat::ButuhPerbaikan);
    assert_eq!(r.tpp_percent, None);
    assert!(serde_json::to_value(&r)
        .unwrap()
        .get("tpp_percent")
        .is_none());
    // No tpp_percent in the config: absent.
    assert_eq!(one(case(100.0)).tpp_percent, None);
    // Malformed tables are refused, naming the config.
    for bad in [
        json!({"tpp_percent": 5}),
        json!({"tpp_percent": {"baik": "100"}}),
    ] {
        let msg = appraise(&request_with(bad, vec![case(100.0)])).unwrap_err();
        assert!(msg.contains("config.tpp_percent"), "{msg}");
    }
}

// ---------------------------------------------------------------------------------------------
// rotate
// ---------------------------------------------------------------------------------------------

/// `position_since` giving `months` of tenure at 2026-12-31.
fn since(months: u32) -> String {
    let total = 2026 * 12 + 11 - months as i32;
    let (y, m) = (total / 12, total % 12 + 1);
    let day = match m {
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    format!("{y:04}-{m:02}-{day:02}")
}

fn emp(nip: &str, months: u32, predikat: Value, potential: Value, comps: Value) -> Value {
    json!({"nip": nip, "position_id": "home", "position_since": since(months),
           "competencies": comps, "latest_predikat": predikat, "potential": potential})
}

fn pos(id: &str, level: i64, vacancies: u32, required: Value) -> Value {
    json!({"id": id, "kind": "fungsional", "level": level, "required": required,
           "vacancies": vacancies})
}

fn home() -> Value {
    pos("home", 3, 0, json!({}))
}

fn rot(employees: Vec<Value>, positions: Vec<Value>) -> RotateResponse {
    let req: RotateRequest = serde_json::from_value(json!({
        "abi": 1, "hook": "rotate", "region": "jakarta", "as_of": "2026-12-31",
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

fn full() -> Value {
    json!({"a": 5, "b": 5})
}

#[test]
fn only_talent_boxes_rotate() {
    let employees = vec![
        emp("1", 30, json!("sangat_baik"), json!("rendah"), full()), // 4
        emp("2", 30, json!("baik"), json!("menengah"), full()),      // 5
        emp("3", 30, json!("sangat_baik"), json!("menengah"), full()), // 7
        emp("4", 30, json!("baik"), json!("tinggi"), full()),        // 8
        emp("5", 30, json!("sangat_baik"), json!("tinggi"), full()), // 9
        emp("6", 30, json!("baik"), json!(null), full()),            // 2
        emp("7", 30, json!("kurang"), json!("tinggi"), full()),      // 6
    ];
    let r = rot(
        employees.clone(),
        vec![home(), pos("same", 3, 10, json!({"a": 5}))],
    );
    assert_eq!(
        moved(&r),
        vec![("1", "same"), ("3", "same"), ("4", "same"), ("5", "same")]
    );
    assert!(r.moves.iter().all(|m| m.kind == MoveKind::Rotation));
    // Higher level: box 9 only, as a promotion. Lower level: nobody.
    let r = rot(
        employees,
        vec![
            home(),
            pos("up", 4, 10, json!({"a": 5})),
            pos("down", 2, 10, json!({"a": 5})),
        ],
    );
    assert_eq!(moved(&r), vec![("5", "up")]);
    assert_eq!(r.moves[0].kind, MoveKind::Promotion);
}

#[test]
fn tenure_and_vacancies() {
    let r = rot(
        vec![
            emp("1", 23, json!("sangat_baik"), json!("tinggi"), full()),
            emp("2", 24, json!("sangat_baik"), json!("tinggi"), full()),
        ],
        vec![
            home(),
            pos("none", 3, 0, json!({})),
            pos("t", 3, 5, json!({})),
        ],
    );
    assert_eq!(moved(&r), vec![("2", "t")]);
    assert_eq!(r.moves[0].job_person_match, 100.0);
}

#[test]
fn jpm_floor_75_and_ready_from_85() {
    // Required 20 levels. Holding 17 → 85 ready; 16 → 80 needs training; 15 → 75 allowed;
    // 14 → 70 not allowed.
    let req = json!({"a": 5, "b": 5, "c": 5, "d": 5});
    let r = rot(
        vec![
            emp(
                "1",
                30,
                json!("sangat_baik"),
                json!("tinggi"),
                json!({"a": 5, "b": 5, "c": 5, "d": 2}),
            ),
            emp(
                "2",
                30,
                json!("sangat_baik"),
                json!("tinggi"),
                json!({"a": 5, "b": 5, "c": 5, "d": 1}),
            ),
            emp(
                "3",
                30,
                json!("sangat_baik"),
                json!("tinggi"),
                json!({"a": 5, "b": 5, "c": 5}),
            ),
            emp(
                "4",
                30,
                json!("sangat_baik"),
                json!("tinggi"),
                json!({"a": 5, "b": 5, "c": 4}),
            ),
        ],
        vec![home(), pos("t", 3, 5, req)],
    );
    let got: Vec<_> = r
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
        got,
        vec![
            ("1", 85.0, Readiness::Ready, vec![]),
            ("2", 80.0, Readiness::NeedsTraining, vec!["d".to_string()]),
            ("3", 75.0, Readiness::NeedsTraining, vec!["d".to_string()]),
        ]
    );
}

#[test]
fn value_is_jpm_without_an_overdue_bonus() {
    // One seat: the overdue employee with JPM 75 loses to a better match.
    let r = rot(
        vec![
            emp(
                "1",
                61,
                json!("sangat_baik"),
                json!("tinggi"),
                json!({"a": 3, "b": 3}),
            ),
            emp("2", 30, json!("sangat_baik"), json!("tinggi"), full()),
        ],
        vec![home(), pos("t", 3, 1, json!({"a": 4, "b": 4}))],
    );
    assert_eq!(moved(&r), vec![("2", "t")]);
    let flags: Vec<_> = r.flags.iter().map(|f| (f.nip.as_str(), f.kind)).collect();
    assert_eq!(flags, vec![("1", FlagKind::Overdue)]);
}

#[test]
fn review_for_box_1_and_flag_order() {
    let r = rot(
        vec![
            emp("3", 61, json!("kurang"), json!(null), full()), // box 1, overdue
            emp("1", 60, json!("sangat_kurang"), json!("rendah"), full()), // box 1
            emp("2", 61, json!("butuh_perbaikan"), json!("menengah"), full()), // box 3
        ],
        vec![home(), pos("t", 3, 5, json!({}))],
    );
    let flags: Vec<_> = r.flags.iter().map(|f| (f.nip.as_str(), f.kind)).collect();
    assert_eq!(
        flags,
        vec![
            ("1", FlagKind::Review),
            ("2", FlagKind::Overdue),
            ("3", FlagKind::Overdue),
            ("3", FlagKind::Review),
        ]
    );
    assert!(r.moves.is_empty());
    let boxes: Vec<_> = r.talent.iter().map(|t| t.nine_box).collect();
    assert_eq!(boxes, vec![Some(1), Some(1), Some(3)]);
}

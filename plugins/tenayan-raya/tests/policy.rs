//! Hand-computed cases for every branch of the Tenayan Raya policy (region-policies.md,
//! "Tenayan Raya"). Expected values are worked out in the comments from the policy text.

use kinerja_pdk::{
    AppraiseRequest, AppraiseResult, FlagKind, MoveKind, Predikat, Rating, Readiness,
    RecommendationKind, RotateRequest, RotateResponse,
};
use kinerja_plugin_tenayan_raya::{appraise, rotate};
use serde_json::{json, Value};

use RecommendationKind::*;

fn sup(r: [u8; 7]) -> Value {
    json!({"berorientasi_pelayanan": r[0], "akuntabel": r[1], "kompeten": r[2], "harmonis": r[3],
           "loyal": r[4], "adaptif": r[5], "kolaboratif": r[6]})
}

/// One utama indicator at capaian `hk` (so HK = hk), supervisor all 4 (S 4), no peers, no
/// public feedback: B = S = 4.
fn case(hk: f64) -> Value {
    json!({
        "employee": {"nip": "199001012015011001"},
        "period": {"id": "2026", "start": "2026-01-01", "end": "2026-12-31", "working_days": 261},
        "indicators": [{"id": "iki-1", "kind": "utama", "direction": "higher_is_better",
                        "target": 100, "realization": hk}],
        "behavior": {"supervisor": sup([4; 7])},
        "activities": {"days_reported": 100}
    })
}

fn request(cases: Vec<Value>) -> AppraiseRequest {
    serde_json::from_value(json!({
        "abi": 1, "hook": "appraise", "region": "tenayan-raya", "config": {}, "cases": cases
    }))
    .expect("test request parses")
}

fn one(case: Value) -> AppraiseResult {
    appraise(&request(vec![case]))
        .expect("accepted")
        .results
        .remove(0)
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
fn hk_thresholds_need_no_innovation() {
    // HK 110 without any innovation is di_atas here.
    let r = one(case(110.0));
    assert_eq!(r.hasil_kerja, Rating::DiAtas);
    // B = 4 → sesuai; (di_atas, sesuai) → baik; score 66 + 32 = 98.
    assert_eq!(r.predikat, Predikat::Baik);
    assert_eq!(r.score, 98.0);
    assert_eq!(one(case(109.99)).hasil_kerja, Rating::Sesuai);
    assert_eq!(one(case(90.0)).hasil_kerja, Rating::Sesuai);
    let r = one(case(89.99));
    assert_eq!(
        (r.hasil_kerja, r.predikat),
        (Rating::DiBawah, Predikat::ButuhPerbaikan)
    );
    assert_eq!(kinds(&r), vec![(Coaching, None)]);
}

#[test]
fn b_renormalises_over_the_raters_present() {
    // Supervisor only: B = S = 4; score 60 + 32 = 92.
    let r = one(case(100.0));
    assert_eq!(r.score, 92.0);
    assert_eq!(
        components(&r),
        vec![
            ("capaian", 100.0, None),
            ("supervisor", 4.0, Some(1.0)),
            ("behavior", 4.0, None)
        ]
    );

    // S 4, peers R 5: (0.5×4 + 0.3×5)/0.8 = 4.375 → di_atas; score 60 + 35 = 95.
    let mut c = case(100.0);
    c["behavior"]["peers"] = json!([sup([5; 7])]);
    let r = one(c.clone());
    assert_eq!(r.perilaku_kerja, Rating::DiAtas);
    assert_eq!(r.score, 95.0);
    assert_eq!(r.components[2].name, "peers");
    assert_eq!(r.components[2].weight, Some(0.3 / 0.8));

    // S 4, public IKM 4 (U = 1 + 3 × 4/3 = 5): (2 + 1)/0.7 = 4.2857 → di_atas;
    // score 60 + 34.2857 = 94.29.
    let mut c = case(100.0);
    c["public_feedback"] = json!({"ikm": 4.0, "respondents": 10});
    let r = one(c.clone());
    assert_eq!(r.perilaku_kerja, Rating::DiAtas);
    assert_eq!(r.score, 94.29);
    assert_eq!(r.components[2].name, "public");
    assert_eq!(r.components[2].value, 5.0);

    // All three: 2 + 1.5 + 1 = 4.5; score 60 + 36 = 96.
    c["behavior"]["peers"] = json!([sup([5; 7])]);
    let r = one(c.clone());
    assert_eq!(r.score, 96.0);
    let names: Vec<_> = r.components.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["capaian", "supervisor", "peers", "public", "behavior"]
    );

    // Nobody answered the survey: ignored; an empty peer list is no peers. Back to B = 4.
    c["public_feedback"] = json!({"ikm": 4.0, "respondents": 0});
    c["behavior"]["peers"] = json!([]);
    let r = one(c);
    assert_eq!(r.score, 92.0);
    assert_eq!(r.perilaku_kerja, Rating::Sesuai);
}

#[test]
fn peers_are_averaged_per_rater() {
    // Peers 5 and 3 → R = 4; with S 4: B = (2 + 1.2)/0.8 = 4.0.
    let mut c = case(100.0);
    c["behavior"]["peers"] = json!([sup([5; 7]), sup([3; 7])]);
    let r = one(c);
    assert_eq!(r.components[2].value, 4.0);
    assert_eq!(r.score, 92.0);
}

#[test]
fn b_exactly_4_25_is_di_atas_and_3_is_sesuai() {
    // S 4; peers with sums 33, 33, 32 → R = 98/21; B = (2 + 0.3 × 98/21)/0.8 = 3.4/0.8 = 4.25.
    let mut c = case(100.0);
    c["behavior"]["peers"] = json!([
        sup([5, 5, 5, 5, 5, 4, 4]),
        sup([5, 5, 5, 5, 5, 4, 4]),
        sup([5, 5, 5, 5, 4, 4, 4])
    ]);
    let r = one(c.clone());
    assert_eq!(r.perilaku_kerja, Rating::DiAtas);
    // score = 60 + 0.4 × 85 = 94.
    assert_eq!(r.score, 94.0);
    // One peer point less: just under 4.25 → sesuai.
    c["behavior"]["peers"][2] = sup([5, 5, 5, 4, 4, 4, 4]);
    assert_eq!(one(c).perilaku_kerja, Rating::Sesuai);

    let mut c = case(100.0);
    c["behavior"]["supervisor"] = sup([3; 7]);
    assert_eq!(one(c.clone()).perilaku_kerja, Rating::Sesuai);
    // Peers pulling B under 3 make it di_bawah: (1.5 + 0.3 × 2)/0.8 = 2.625.
    c["behavior"]["peers"] = json!([sup([2; 7])]);
    let r = one(c);
    assert_eq!(
        (r.perilaku_kerja, r.predikat),
        (Rating::DiBawah, Predikat::Kurang)
    );
    // Peers' low ratings do not create training; only the supervisor's do.
    assert_eq!(kinds(&r), vec![(Coaching, None)]);
}

#[test]
fn a_supervisor_rating_of_1_is_di_bawah() {
    let mut c = case(100.0);
    c["behavior"]["supervisor"] = sup([5, 5, 1, 5, 5, 5, 5]);
    c["behavior"]["peers"] = json!([sup([5; 7])]);
    let r = one(c);
    assert_eq!(r.perilaku_kerja, Rating::DiBawah);
    assert_eq!(
        kinds(&r),
        vec![(Coaching, None), (Training, Some("kompeten"))]
    );
}

#[test]
fn poor_ikm_grade_sends_to_service_training() {
    // IKM 3.0644 × 25 = 76.61: grade B, no training. 3.0643 × 25 = 76.6075: grade C.
    let mut c = case(100.0);
    c["public_feedback"] = json!({"ikm": 3.0644, "respondents": 50});
    assert!(one(c.clone()).recommendations.is_empty());
    c["public_feedback"]["ikm"] = json!(3.0643);
    let r = one(c.clone());
    assert_eq!(kinds(&r), vec![(Training, Some("pelayanan_prima"))]);
    assert!(
        r.explanation.contains(
            "pelatihan pelayanan prima (IKM 3.0643 × 25 = 76.6075 < 76.61, mutu pelayanan C/D)"
        ),
        "{}",
        r.explanation
    );
    // Order: coaching, the region's training, then BerAKHLAK training.
    c["indicators"][0]["realization"] = json!(50);
    c["behavior"]["supervisor"] = sup([4, 2, 4, 4, 4, 4, 4]);
    let r = one(c.clone());
    assert_eq!(
        kinds(&r),
        vec![
            (Coaching, None),
            (Training, Some("pelayanan_prima")),
            (Training, Some("akuntabel"))
        ]
    );
    // Nobody answered: no U and no training, even at the lowest IKM.
    c["public_feedback"] = json!({"ikm": 1.0, "respondents": 0});
    assert!(!kinds(&one(c)).contains(&(Training, Some("pelayanan_prima"))));
}

#[test]
fn out_of_range_ikm_is_refused_unless_ignored() {
    let mut c = case(100.0);
    c["public_feedback"] = json!({"ikm": 5.0, "respondents": 3});
    let msg = appraise(&request(vec![c.clone()])).unwrap_err();
    assert!(msg.contains("public_feedback.ikm"), "{msg}");
    c["public_feedback"]["respondents"] = json!(0);
    assert!(appraise(&request(vec![c])).is_ok());
}

#[test]
fn reward_for_sangat_baik() {
    let mut c = case(115.0);
    c["behavior"]["supervisor"] = sup([5; 7]);
    let r = one(c);
    assert_eq!(r.predikat, Predikat::SangatBaik);
    assert_eq!(kinds(&r), vec![(Reward, None)]);
    // 0.6 × 115 + 40 = 109.
    assert_eq!(r.score, 109.0);
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

fn emp(nip: &str, months: u32, predikat: Value, comps: Value) -> Value {
    json!({"nip": nip, "position_id": "home", "position_since": since(months),
           "competencies": comps, "latest_predikat": predikat, "potential": "menengah"})
}

fn pos(id: &str, kind: &str, level: i64, vacancies: u32, required: Value) -> Value {
    json!({"id": id, "kind": kind, "level": level, "required": required, "vacancies": vacancies})
}

fn home() -> Value {
    pos("home", "fungsional", 3, 0, json!({}))
}

fn rot(employees: Vec<Value>, positions: Vec<Value>) -> RotateResponse {
    let req: RotateRequest = serde_json::from_value(json!({
        "abi": 1, "hook": "rotate", "region": "tenayan-raya", "as_of": "2026-12-31",
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
fn only_good_performers_move_within_kind_and_level() {
    let employees = vec![
        emp("1", 30, json!("sangat_baik"), full()),
        emp("2", 30, json!("baik"), full()),
        emp("3", 30, json!("butuh_perbaikan"), full()),
        emp("4", 30, json!(null), full()),
        emp("5", 23, json!("baik"), full()),
        emp("6", 24, json!("baik"), full()),
    ];
    let r = rot(
        employees,
        vec![
            home(),
            pos("same", "fungsional", 3, 10, json!({"a": 5})),
            pos("other-kind", "struktural", 3, 10, json!({})),
            pos("up", "fungsional", 4, 10, json!({})),
            pos("down", "fungsional", 2, 10, json!({})),
        ],
    );
    assert_eq!(moved(&r), vec![("1", "same"), ("2", "same"), ("6", "same")]);
    assert!(r.moves.iter().all(|m| m.kind == MoveKind::Rotation));
    let flags: Vec<_> = r.flags.iter().map(|f| (f.nip.as_str(), f.kind)).collect();
    assert_eq!(flags, vec![("3", FlagKind::CoachingFirst)]);
}

#[test]
fn any_gap_means_training_whatever_the_jpm() {
    // Required 20: "1" holds all (ready); "2" holds 19 (JPM 95, gap b); "3" 15 (75, allowed);
    // "4" 14 (70, not allowed).
    let req = json!({"a": 5, "b": 5, "c": 5, "d": 5});
    let r = rot(
        vec![
            emp(
                "1",
                30,
                json!("baik"),
                json!({"a": 5, "b": 5, "c": 5, "d": 5}),
            ),
            emp(
                "2",
                30,
                json!("baik"),
                json!({"a": 5, "b": 4, "c": 5, "d": 5}),
            ),
            emp("3", 30, json!("baik"), json!({"a": 5, "b": 5, "c": 5})),
            emp("4", 30, json!("baik"), json!({"a": 5, "b": 4, "c": 5})),
        ],
        vec![home(), pos("t", "fungsional", 3, 10, req)],
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
            ("1", 100.0, Readiness::Ready, vec![]),
            ("2", 95.0, Readiness::NeedsTraining, vec!["b".to_string()]),
            ("3", 75.0, Readiness::NeedsTraining, vec!["d".to_string()]),
        ]
    );
}

#[test]
fn overdue_employees_get_the_seat_first() {
    // One seat: "1" (61 months, JPM 75) beats "2" (60 months, JPM 100) through the bonus.
    let r = rot(
        vec![
            emp("1", 61, json!("baik"), json!({"a": 3, "b": 3})),
            emp("2", 60, json!("baik"), full()),
        ],
        vec![
            home(),
            pos("t", "fungsional", 3, 1, json!({"a": 4, "b": 4})),
        ],
    );
    assert_eq!(moved(&r), vec![("1", "t")]);
    let flags: Vec<_> = r.flags.iter().map(|f| (f.nip.as_str(), f.kind)).collect();
    assert_eq!(flags, vec![("1", FlagKind::Overdue)]);
}

#[test]
fn flags_sorted_by_nip_then_kind() {
    let r = rot(
        vec![
            emp("9", 70, json!("kurang"), full()),
            emp("5", 10, json!("sangat_kurang"), full()),
            emp("7", 70, json!("baik"), full()),
        ],
        vec![home()],
    );
    let flags: Vec<_> = r.flags.iter().map(|f| (f.nip.as_str(), f.kind)).collect();
    assert_eq!(
        flags,
        vec![
            ("5", FlagKind::CoachingFirst),
            ("7", FlagKind::Overdue),
            ("9", FlagKind::Overdue),
            ("9", FlagKind::CoachingFirst),
        ]
    );
    let boxes: Vec<_> = r
        .talent
        .iter()
        .map(|t| (t.nip.as_str(), t.nine_box))
        .collect();
    assert_eq!(boxes, vec![("9", Some(3)), ("5", Some(3)), ("7", Some(5))]);
}

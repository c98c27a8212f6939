//! The requests the host builds, checked against the plugin contract's own request schemas
//! (`schemas/plugin/*.request.json`, generated from kinerja-abi's types), and a full case
//! pinned value by value: the schema lets optional parts be absent, so a part the conversion
//! in `cases.rs` dropped would pass it unnoticed.

use super::assemble::appraise_request;
use super::cases;
use crate::domain::date::Date;
use crate::domain::period::Period;
use crate::domain::records::{PeriodInput, Position, PositionKind, PositionView};
use serde_json::{json, Value};

const APPRAISE_REQUEST: &str = include_str!("../../../schemas/plugin/appraise.request.json");
const ROTATE_REQUEST: &str = include_str!("../../../schemas/plugin/rotate.request.json");

/// Every way `request` breaks `schema`, one line each.
fn violations(schema: &str, request: &[u8]) -> Vec<String> {
    let schema: Value = serde_json::from_str(schema).expect("a schema");
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let request: Value = serde_json::from_slice(request).expect("the request is JSON");
    validator
        .iter_errors(&request)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect()
}

/// A period record with every block filled, so that every optional part of a case is built.
fn full_record() -> PeriodInput {
    let r = |v: u8| {
        json!({"berorientasi_pelayanan": v, "akuntabel": v, "kompeten": v, "harmonis": v,
               "loyal": v, "adaptif": v, "kolaboratif": v})
    };
    serde_json::from_value(json!({
        "indicators": [
            {"id": "iki-1", "name": "Laporan", "kind": "utama", "direction": "higher_is_better",
             "unit": "dokumen", "target": 12, "realization": 11, "weight": 2},
            {"id": "iki-2", "name": "Waktu layanan", "kind": "tambahan",
             "direction": "lower_is_better", "unit": "hari", "target": 5, "realization": null}
        ],
        "behavior": {"supervisor": r(4), "peers": [r(3), r(5)], "self": r(5)},
        "innovations": [{"title": "Layanan daring", "date": "2026-05-02"}],
        "process": {"inovasi": 85, "keterlibatan_masyarakat": 70},
        "budget": {"planned": 1500000000.0, "realized": 1320000000.0},
        "public_feedback": {"ikm": 3.41, "respondents": 220},
        "working_days": 246
    }))
    .expect("a valid period record")
}

/// Every part of a full case, as ABI 1 has always sent it: numbers the records keep as
/// fractions as such, optional parts present, an unreported realization as `null`.
#[test]
fn a_full_case_is_sent_whole() {
    let reported = crate::store::Reported {
        days: 230,
        minutes: 230 * 420,
    };
    let case = cases::case(
        &cases::sample_employee(),
        Period::Year(2026),
        Ok(Some(full_record())),
        reported,
    )
    .expect("a case");
    let r = |v: u8| {
        json!({"berorientasi_pelayanan": v, "akuntabel": v, "kompeten": v, "harmonis": v,
               "loyal": v, "adaptif": v, "kolaboratif": v})
    };
    let sent: Value =
        serde_json::from_str(&serde_json::to_string(&case).expect("written")).expect("JSON");
    assert_eq!(
        sent,
        json!({
            "employee": {"nip": "198503122010011001", "name": "A", "agency": "x",
                         "position_id": "p", "position_since": "2021-03-01"},
            "period": {"id": "2026", "start": "2026-01-01", "end": "2026-12-31",
                       "working_days": 246},
            "indicators": [
                {"id": "iki-1", "name": "Laporan", "kind": "utama",
                 "direction": "higher_is_better", "unit": "dokumen", "target": 12.0,
                 "realization": 11.0, "weight": 2.0},
                {"id": "iki-2", "name": "Waktu layanan", "kind": "tambahan",
                 "direction": "lower_is_better", "unit": "hari", "target": 5.0,
                 "realization": null, "weight": 1.0}
            ],
            "behavior": {"supervisor": r(4), "peers": [r(3), r(5)], "self": r(5)},
            "activities": {"days_reported": 230, "minutes_reported": 96600},
            "innovations": [{"title": "Layanan daring", "date": "2026-05-02"}],
            "process": {"inovasi": 85.0, "keterlibatan_masyarakat": 70.0},
            "budget": {"planned": 1500000000.0, "realized": 1320000000.0},
            "public_feedback": {"ikm": 3.41, "respondents": 220}
        })
    );
}

#[test]
fn appraise_requests_match_the_contract_schema() {
    let employee = cases::sample_employee();
    let reported = crate::store::Reported {
        days: 230,
        minutes: 230 * 420,
    };
    let mut full = cases::case(
        &employee,
        Period::Year(2026),
        Ok(Some(full_record())),
        reported,
    )
    .expect("a case");
    // What an SKP's evidence adds to an indicator.
    full.indicators[0].evidence = Some(2);
    let mut bare = PeriodInput::default();
    bare.behavior.supervisor = full_record().behavior.supervisor;
    let quarter = Period::parse("2026-Q2").expect("a period");
    let bare = cases::case(&employee, quarter, Ok(Some(bare)), Default::default()).expect("a case");
    let synthetic = super::preflight::synthetic_case().expect("the preflight's case");
    // The schema is not vacuous: a request without cases breaks it.
    assert!(!violations(
        APPRAISE_REQUEST,
        br#"{"abi":1,"hook":"appraise","region":"jambi","config":{}}"#
    )
    .is_empty());
    for (name, case) in [("full", full), ("bare", bare), ("synthetic", synthetic)] {
        let config = json!({"tpp_percent": {"baik": 100}});
        let request = appraise_request("jambi", &config, &[Box::new(case)]).expect("a request");
        let broken = violations(APPRAISE_REQUEST, &request);
        assert!(broken.is_empty(), "{name} case: {broken:#?}");
    }
}

#[test]
fn rotate_requests_match_the_contract_schema() {
    let mut employee = cases::sample_employee();
    employee.potential = Some(crate::domain::records::Potential::Tinggi);
    employee.competencies.insert("integritas".into(), 4);
    let employees = [cases::rotate_employee(
        &employee,
        Some(kinerja_abi::Predikat::Baik),
    )];
    let position = |id: &str, level: u8| Position {
        region: "jambi".into(),
        id: id.into(),
        title: format!("Jabatan {id}"),
        agency: "x".into(),
        kind: PositionKind::Fungsional,
        level,
        required: [("integritas".to_string(), 3)].into(),
        capacity: 2,
        tasks: Vec::new(),
        parent: None,
        updated_at: String::new(),
    };
    let views = [
        PositionView::new(position("p", 1), vec![employee.nip.clone()]),
        PositionView::new(position("q", 2), Vec::new()),
    ];
    let positions = cases::rotate_positions(&views, None, &employees);
    let request = serde_json::to_vec(&kinerja_abi::RotateRequest {
        abi: kinerja_abi::ABI_VERSION,
        hook: kinerja_runtime::Hook::Rotate,
        region: "jambi".into(),
        config: Default::default(),
        as_of: Date::new(2026, 12, 1).expect("a date").to_string(),
        employees: employees.to_vec(),
        positions,
    })
    .expect("a request");
    let broken = violations(ROTATE_REQUEST, &request);
    assert!(broken.is_empty(), "{broken:#?}");
    let sent: Value = serde_json::from_slice(&request).expect("JSON");
    assert_eq!(
        sent["employees"][0]["competencies"]["integritas"],
        json!(4),
        "whole levels are sent as integers"
    );
    assert_eq!(sent["positions"][0]["required"]["integritas"], json!(3));
    assert_eq!(sent["employees"][0]["latest_predikat"], "baik");
}

//! The shared test vectors (plugins/vectors/tenayan-raya-*.json), compared as each file's `compare`
//! field says, plus the rotate rules the vector leaves to the policy (kind, readiness, training).

use std::collections::BTreeMap;
use std::path::Path;

use kinerja_pdk::conformance::{check_appraise, check_rotate, AppraiseVector, RotateVector};
use kinerja_pdk::{handle_json, MoveKind, Readiness};
use kinerja_plugin_tenayan_raya::{appraise, rotate};

fn read(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vectors")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn appraise_vector() {
    let v: AppraiseVector = serde_json::from_str(&read("tenayan-raya-appraise.json")).unwrap();
    assert!(v.compare.contains("score within 0.01"), "{}", v.compare);
    assert_eq!(v.request.cases.len(), 16);
    let response = appraise(&v.request).expect("the vector request is valid");
    let problems = check_appraise(&v.expected, &response);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn appraise_vector_through_json() {
    let raw = read("tenayan-raya-appraise.json");
    let doc: serde_json::Value = serde_json::from_str(&raw).unwrap();
    let text = handle_json(&doc["request"].to_string(), |r| appraise(&r));
    // The pdk writes appraise responses itself, for speed: byte for byte serde_json's.
    let request = serde_json::from_value(doc["request"].clone()).unwrap();
    let by_serde = serde_json::to_string(&appraise(&request).unwrap()).unwrap();
    assert_eq!(text, by_serde);
    let out: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert!(out.get("error").is_none(), "{out}");
    assert_eq!(out["results"].as_array().unwrap().len(), 16);
    assert_eq!(
        out["results"][0]["predikat"],
        doc["expected"]["results"][0]["predikat"]
    );
}

#[test]
fn rotate_vector() {
    let v: RotateVector = serde_json::from_str(&read("tenayan-raya-rotate.json")).unwrap();
    assert!(v.compare.contains("optimal_total_value"), "{}", v.compare);
    let response = rotate(&v.request).expect("the vector request is valid");
    let problems = check_rotate(&v.request, &v.expected, &response);
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(!response.moves.is_empty());

    // Kind, readiness and training per the Tenayan Raya policy, recomputed here independently.
    let positions: BTreeMap<&str, _> = v
        .request
        .positions
        .iter()
        .map(|p| (p.id.as_str(), p))
        .collect();
    let allowed: BTreeMap<(String, String), f64> = v.expected["allowed_pairs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let key = (
                p["nip"].as_str().unwrap().to_string(),
                p["to"].as_str().unwrap().to_string(),
            );
            (key, p["job_person_match"].as_f64().unwrap())
        })
        .collect();
    for m in &response.moves {
        let e = v.request.employees.iter().find(|e| e.nip == m.nip).unwrap();
        let (from, to) = (positions[m.from.as_str()], positions[m.to.as_str()]);
        // Same kind and level only: never a promotion.
        assert_eq!(
            (to.kind.as_str(), to.level),
            (from.kind.as_str(), from.level),
            "{m:?}"
        );
        assert_eq!(m.kind, MoveKind::Rotation, "{m:?}");
        assert!(allowed.contains_key(&(m.nip.clone(), m.to.clone())));
        let gaps: Vec<String> = to
            .required
            .iter()
            .filter(|(c, r)| e.competencies.get(*c).copied().unwrap_or(0.0) < **r)
            .map(|(c, _)| c.clone())
            .collect();
        let want = if gaps.is_empty() {
            Readiness::Ready
        } else {
            Readiness::NeedsTraining
        };
        assert_eq!(m.readiness, want, "{m:?}");
        assert_eq!(m.training, gaps, "{m:?}");
    }
}

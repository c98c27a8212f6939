//! The shared test vectors (plugins/vectors/jambi-*.json), compared as each file's `compare`
//! field says, plus the rotate rules the vector leaves to the policy (kind, readiness, training).

use std::collections::BTreeMap;
use std::path::Path;

use kinerja_pdk::conformance::{check_appraise, check_rotate, AppraiseVector, RotateVector};
use kinerja_pdk::{handle_json, MoveKind, Readiness};
use kinerja_plugin_jambi::{appraise, rotate};

fn read(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../vectors")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn appraise_vector() {
    let v: AppraiseVector = serde_json::from_str(&read("jambi-appraise.json")).unwrap();
    assert!(v.compare.contains("score within 0.01"), "{}", v.compare);
    assert_eq!(v.request.cases.len(), 16);
    let response = appraise(&v.request).expect("the vector request is valid");
    let problems = check_appraise(&v.expected, &response);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn appraise_vector_through_json() {
    let raw = read("jambi-appraise.json");
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
    let v: RotateVector = serde_json::from_str(&read("jambi-rotate.json")).unwrap();
    assert!(v.compare.contains("optimal_total_value"), "{}", v.compare);
    let response = rotate(&v.request).expect("the vector request is valid");
    let problems = check_rotate(&v.request, &v.expected, &response);
    assert!(problems.is_empty(), "{problems:#?}");
    assert!(!response.moves.is_empty());

    // Kind, readiness and training per the Jambi policy, recomputed here independently.
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
        let want_kind = if to.level > from.level {
            MoveKind::Promotion
        } else {
            MoveKind::Rotation
        };
        assert_eq!(m.kind, want_kind, "{m:?}");
        let jpm = allowed[&(m.nip.clone(), m.to.clone())];
        let ready = jpm >= 80.0 && !e.declined_rotation;
        if ready {
            assert_eq!(m.readiness, Readiness::Ready, "{m:?}");
            assert!(m.training.is_empty());
        } else {
            assert_eq!(m.readiness, Readiness::NeedsTraining, "{m:?}");
            let mut want: Vec<String> = to
                .required
                .iter()
                .filter(|(c, r)| e.competencies.get(*c).copied().unwrap_or(0.0) < **r)
                .map(|(c, _)| c.clone())
                .collect();
            if e.declined_rotation {
                want.push("bimbingan".into());
            }
            assert_eq!(m.training, want, "{m:?}");
        }
    }
}

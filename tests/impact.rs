//! Policy-impact preview over HTTP on the demo regions: a candidate that differs from the
//! active policy in a known way gives exactly the expected transition table, moves and
//! summaries, and nothing is stored.

use kinerja_tests::*;
use serde_json::Value;
use std::collections::BTreeMap;

fn active(c: &Client, region: &str, hook: &str) -> String {
    let p = c.get(&format!("/api/v1/regions/{region}/policies"));
    p.body["active"][hook]["plugin"]
        .as_str()
        .expect("active plugin")
        .to_string()
}

fn table(v: &Value) -> Vec<Vec<u64>> {
    serde_json::from_value(v["appraise"]["transitions"].clone()).expect("5×5 table")
}

#[test]
fn impact_of_known_candidates_on_a_whole_region() {
    let s = TestServer::demo();
    let c = s.client();
    let jambi = active(&c, "jambi", "appraise");
    let url = |id: &str| format!("/api/v1/regions/jambi/plugins/{id}/impact");

    // The active module against itself: nothing changes; the diagonal is the distribution.
    let same = c.post(&url(&jambi), &json!({"hook": "appraise", "period": "2025"}));
    assert_eq!(same.status, 200, "{}", same.text);
    let i = &same.body["appraise"];
    assert_eq!(i["levels"], json!(PREDIKAT));
    assert_eq!(
        (i["changed"].as_u64(), i["up"].as_u64(), i["down"].as_u64()),
        (Some(0), Some(0), Some(0))
    );
    assert_eq!(i["largest_score_changes"], json!([]));
    let t = table(&same.body);
    let n = i["employees"].as_u64().expect("employees");
    assert!(n >= 100, "a whole region: {n}");
    assert_eq!(t.iter().flatten().sum::<u64>(), n);
    for (r, row) in t.iter().enumerate() {
        for (col, v) in row.iter().enumerate() {
            assert!(r == col || *v == 0, "off-diagonal {r},{col}: {t:?}");
        }
    }
    eprintln!(
        "impact of a whole region ({n} employees, both modules): {} ms",
        same.body["duration_ms"]
    );

    // Nothing was stored: the preview made no decisions.
    let some_nip = i["agencies"][0]["agency"]
        .as_str()
        .expect("agency")
        .to_string();
    let emps = c.get(&format!(
        "/api/v1/regions/jambi/employees?agency={some_nip}"
    ));
    let nip = emps.body["items"][0]["nip"]
        .as_str()
        .expect("nip")
        .to_string();
    let before = c.get(&format!("/api/v1/regions/jambi/employees/{nip}/appraisals"));
    assert_eq!(before.body["items"], json!([]), "{}", before.text);

    // The real appraisal of the same scope gives the same distribution as the diagonal.
    let ap = c.post(
        "/api/v1/regions/jambi/appraisals",
        &json!({"period": "2025"}),
    );
    assert_eq!(ap.status, 200, "{}", ap.text);
    let mut active_of: BTreeMap<String, (String, f64)> = BTreeMap::new();
    let mut counts = [0u64; 5];
    for r in ap.body["results"].as_array().expect("results") {
        let p = r["predikat"].as_str().expect("predikat");
        counts[PREDIKAT.iter().position(|l| *l == p).expect("level")] += 1;
        active_of.insert(
            r["nip"].as_str().expect("nip").into(),
            (p.into(), r["score"].as_f64().expect("score")),
        );
    }
    for (k, cnt) in counts.iter().enumerate() {
        assert_eq!(t[k][k], *cnt, "level {}", PREDIKAT[k]);
    }

    // A candidate that answers `baik` with score 100 for everyone: every row moves to the
    // `baik` column, with exactly the active counts.
    let simple = c.upload("jambi", wasm("kinerja_test_simple"));
    let diff = c.post(
        &url(&simple),
        &json!({"hook": "appraise", "period": "2025", "config": {"x": 1}}),
    );
    assert_eq!(diff.status, 200, "{}", diff.text);
    let mut want = vec![vec![0u64; 5]; 5];
    for (k, cnt) in counts.iter().enumerate() {
        want[k][1] = *cnt;
    }
    assert_eq!(table(&diff.body), want);
    let i = &diff.body["appraise"];
    assert_eq!(i["changed"].as_u64(), Some(n - counts[1]));
    assert_eq!(i["up"].as_u64(), Some(counts[2] + counts[3] + counts[4]));
    assert_eq!(i["down"].as_u64(), Some(counts[0]));
    assert_eq!(diff.body["candidate_config"], json!({"x": 1}));
    assert_eq!(diff.body["active_plugin"], json!(jambi));
    // The largest changes are the scores furthest from 100, largest first, with names.
    let mut deltas: Vec<f64> = active_of
        .values()
        .map(|(_, s)| ((100.0 - s) * 100.0).round() / 100.0)
        .filter(|d| *d != 0.0)
        .collect();
    deltas.sort_by(|a, b| b.abs().total_cmp(&a.abs()));
    let listed = i["largest_score_changes"].as_array().expect("changes");
    assert_eq!(listed.len(), deltas.len().min(10));
    for (got, want) in listed.iter().zip(&deltas) {
        assert_eq!(got["delta"].as_f64(), Some(*want), "{got}");
        let (p, s) = &active_of[got["nip"].as_str().expect("nip")];
        assert_eq!(
            (
                got["predikat_active"].as_str(),
                got["score_active"].as_f64()
            ),
            (Some(p.as_str()), Some(*s))
        );
        assert_eq!(got["predikat_candidate"], "baik");
        assert!(got["name"].as_str().is_some_and(|n| !n.is_empty()));
    }
    // Per agency: the employees add up, and every candidate distribution is all `baik`.
    let mut total = 0;
    for a in i["agencies"].as_array().expect("agencies") {
        let e = a["employees"].as_u64().expect("employees");
        total += e;
        assert_eq!(a["predikat_candidate"]["baik"].as_u64(), Some(e), "{a}");
        assert_eq!(a["mean_score_candidate"].as_f64(), Some(100.0));
    }
    assert_eq!(total, n);

    // Rotation: the candidate recommends no moves, so every active move is removed. Moves
    // need a latest predikat, so the agency is appraised first.
    // The whole region: with moves limited to the same kind and level or one level up, one
    // agency alone may have none.
    let ap = c.post(
        "/api/v1/regions/jakarta/appraisals",
        &json!({"period": "2025"}),
    );
    assert_eq!(ap.status, 200, "{}", ap.text);
    let jakarta = active(&c, "jakarta", "rotate");
    let simple_jkt = c.upload("jakarta", wasm("kinerja_test_simple"));
    let scope = json!({"hook": "rotate", "as_of": "2026-01-31"});
    let dry = c.post(
        &format!("/api/v1/regions/jakarta/plugins/{jakarta}/dry-run"),
        &scope,
    );
    assert_eq!(dry.status, 200, "{}", dry.text);
    let active_moves = dry.body["moves"].as_array().expect("moves").clone();
    assert!(
        !active_moves.is_empty(),
        "the demo has rotations to recommend"
    );
    let rot = c.post(
        &format!("/api/v1/regions/jakarta/plugins/{simple_jkt}/impact"),
        &scope,
    );
    assert_eq!(rot.status, 200, "{}", rot.text);
    let r = &rot.body["rotate"];
    assert_eq!(r["moves_added"], json!([]));
    assert_eq!(r["moves_removed"], json!(active_moves));
    assert_eq!(
        (r["moves_kept"].as_u64(), r["moves_candidate"].as_u64()),
        (Some(0), Some(0))
    );
    let same = c.post(
        &format!("/api/v1/regions/jakarta/plugins/{jakarta}/impact"),
        &scope,
    );
    assert_eq!(
        same.body["rotate"]["moves_kept"].as_u64(),
        Some(active_moves.len() as u64)
    );
    assert_eq!(same.body["rotate"]["moves_removed"], json!([]));

    // Bad requests name the problem; only the region's admins may preview.
    let bad = c.post(&url(&simple), &json!({"hook": "appraise"}));
    assert_eq!(bad.status, 400);
    assert!(bad.message().contains("period"), "{}", bad.text);
    let bad = c.post(&url(&simple), &json!({"hook": "judge", "period": "2025"}));
    assert_eq!(bad.status, 400);
    let bad = c.post(
        &url(&simple),
        &json!({"hook": "appraise", "period": "2025", "config": [1]}),
    );
    assert_eq!(bad.status, 400);
    assert!(bad.message().contains("config"), "{}", bad.text);
    let unknown = c.post(
        &url(&"0".repeat(64)),
        &json!({"hook": "appraise", "period": "2025"}),
    );
    assert_eq!(unknown.status, 404, "{}", unknown.text);
    let agency =
        c.with_token(&c.issue(json!({"role": "agency", "region": "jambi", "agency": some_nip})));
    let denied = agency.post(
        &url(&simple),
        &json!({"hook": "appraise", "period": "2025"}),
    );
    assert_eq!(denied.status, 403, "{}", denied.text);
}

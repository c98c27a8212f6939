//! End to end over HTTP: the organisational predikat of an agency and the distribution check
//! of SE MenPANRB 3/2023 against the predikat the real region plugins stored.

use kinerja_tests::*;
use serde_json::Value;
use std::collections::BTreeMap;

/// Predikat → how many of `results` got it, all five present.
fn tally<'a>(predikat: impl IntoIterator<Item = &'a str>) -> BTreeMap<String, u64> {
    let mut m: BTreeMap<String, u64> = PREDIKAT.iter().map(|p| (p.to_string(), 0)).collect();
    for p in predikat {
        *m.get_mut(p)
            .unwrap_or_else(|| panic!("unknown predikat {p}")) += 1;
    }
    m
}

fn counts_of(body: &Value) -> BTreeMap<String, u64> {
    PREDIKAT
        .iter()
        .map(|p| (p.to_string(), body["counts"][p].as_u64().unwrap()))
        .collect()
}

/// The quotas of the SE written out once more, independently of the server: (rule, met).
fn expected_quotas(org: &str, c: &BTreeMap<String, u64>) -> Vec<(String, bool)> {
    let total: u64 = c.values().sum();
    let n = |p: &str| c[p];
    let at_most = |x: u64, pct: u64| total > 0 && x * 100 <= pct * total;
    let at_least = |x: u64, pct: u64| total > 0 && x * 100 >= pct * total;
    let r = |s: &str, met: bool| (s.to_string(), met);
    match org {
        "istimewa" => vec![r("at most 70% sangat_baik", at_most(n("sangat_baik"), 70))],
        "baik" => vec![
            r("at most 70% baik", at_most(n("baik"), 70)),
            r(
                "at least one butuh_perbaikan or kurang",
                n("butuh_perbaikan") + n("kurang") >= 1,
            ),
        ],
        "butuh_perbaikan" => vec![
            r(
                "at least 60% butuh_perbaikan",
                at_least(n("butuh_perbaikan"), 60),
            ),
            r("at most 10% sangat_baik", at_most(n("sangat_baik"), 10)),
        ],
        "kurang" => vec![
            r("at least 60% kurang", at_least(n("kurang"), 60)),
            r(
                "at least 10% butuh_perbaikan",
                at_least(n("butuh_perbaikan"), 10),
            ),
            r("at most 10% sangat_baik", at_most(n("sangat_baik"), 10)),
        ],
        "sangat_kurang" => vec![
            r(
                "at least 60% sangat_kurang",
                at_least(n("sangat_kurang"), 60),
            ),
            r(
                "at least 10% kurang or butuh_perbaikan",
                at_least(n("kurang") + n("butuh_perbaikan"), 10),
            ),
            r("no sangat_baik", n("sangat_baik") == 0),
        ],
        other => panic!("unknown org predikat {other}"),
    }
}

/// A period record bad enough to land at the bottom of any region's scale.
fn poor_period() -> Value {
    json!({
        "indicators": [
            {"id": "iki-1", "name": "Laporan", "kind": "utama", "direction": "higher_is_better",
             "unit": "dokumen", "target": 12, "realization": 1, "weight": 1}
        ],
        "behavior": {"supervisor": ratings(1), "peers": [ratings(1)], "self": ratings(1)},
        "process": {"inovasi": 5, "keterlibatan_masyarakat": 5},
        "budget": {"planned": 1000000000.0, "realized": 100000000.0},
        "public_feedback": {"ikm": 1.2, "respondents": 50}
    })
}

#[test]
fn distribution_of_real_appraisals_against_the_quotas() {
    let s = TestServer::demo();
    let c = s.client();
    let base = "/api/v1/regions/jambi/agencies/diskominfo";
    let dist = |c: &Client| {
        let r = c.get(&format!("{base}/distribution?period=2025"));
        assert_eq!(r.status, 200, "{}", r.text);
        r.body
    };
    let employees = c
        .get("/api/v1/regions/jambi/employees?agency=diskominfo&limit=1000")
        .body["items"]
        .as_array()
        .unwrap()
        .len() as u64;
    assert!(employees > 10);

    // Before any appraisal and any org predikat: everyone is listed as not appraised.
    let d = dist(&c);
    assert_eq!(d["org_predikat"], Value::Null);
    assert_eq!(d["employees"], employees);
    assert_eq!(d["appraised"], 0);
    assert_eq!(
        d["not_appraised"].as_array().unwrap().len() as u64,
        employees
    );
    assert_eq!(d["shares"], Value::Null);
    assert_eq!(d["quotas"], json!([]));
    assert_eq!(d["compliant"], Value::Null);
    assert!(
        d["note"]
            .as_str()
            .is_some_and(|n| n.contains("no organisational predikat")),
        "{d}"
    );

    let ap = c.post(
        "/api/v1/regions/jambi/appraisals",
        &json!({"period": "2025", "agency": "diskominfo"}),
    );
    assert_eq!(ap.status, 200, "{}", ap.text);
    let results = ap.body["results"].as_array().unwrap().clone();
    let mut predikat_of: BTreeMap<String, String> = results
        .iter()
        .map(|r| {
            (
                r["nip"].as_str().unwrap().to_string(),
                r["predikat"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut skipped: Vec<String> = ap.body["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["nip"].as_str().unwrap().to_string())
        .collect();
    skipped.sort();

    let d = dist(&c);
    let expected = tally(predikat_of.values().map(String::as_str));
    assert_eq!(counts_of(&d), expected, "{d}");
    assert_eq!(d["appraised"], results.len() as u64);
    assert_eq!(d["employees"], employees);
    assert_eq!(d["not_appraised"], json!(skipped));
    let share_sum: f64 = PREDIKAT
        .iter()
        .map(|p| d["shares"][p].as_f64().unwrap())
        .sum();
    assert!((share_sum - 100.0).abs() < 1e-9, "shares are percents: {d}");

    // Every org predikat: the server's verdicts equal the rules computed here.
    let mut broken_one = None;
    let mut met_one = None;
    for org in [
        "istimewa",
        "baik",
        "butuh_perbaikan",
        "kurang",
        "sangat_kurang",
    ] {
        let r = c.put(
            &format!("{base}/org-predikat/2025"),
            &json!({"predikat": org}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        let d = dist(&c);
        assert_eq!(d["org_predikat"], org);
        let got: Vec<(String, bool)> = d["quotas"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| {
                (
                    q["rule"].as_str().unwrap().to_string(),
                    q["met"].as_bool().unwrap(),
                )
            })
            .collect();
        let want = expected_quotas(org, &expected);
        assert_eq!(got, want, "{org}: {d}");
        let broken: Vec<&str> = want
            .iter()
            .filter(|(_, met)| !met)
            .map(|(r, _)| r.as_str())
            .collect();
        let named: Vec<&str> = d["breaks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|q| q["rule"].as_str().unwrap())
            .collect();
        assert_eq!(named, broken, "{org}: {d}");
        assert_eq!(d["compliant"], broken.is_empty(), "{org}");
        for q in d["breaks"].as_array().unwrap() {
            assert!(q["message"].as_str().unwrap().contains("broken"), "{q}");
        }
        if broken.is_empty() {
            met_one.get_or_insert(org);
        } else {
            broken_one.get_or_insert((org, broken[0].to_string()));
        }
    }
    let (org, rule) = broken_one.expect("a realistic spread breaks some quota");
    let met_org = met_one.expect("a realistic spread meets some org predikat's quotas");
    eprintln!("counts {expected:?}: `{org}` breaks `{rule}`, `{met_org}` is met");

    // A quota that is broken: `breaks` names it.
    c.put(
        &format!("{base}/org-predikat/2025"),
        &json!({"predikat": "sangat_kurang"}),
    );
    let d = dist(&c);
    assert!(
        d["breaks"]
            .as_array()
            .unwrap()
            .iter()
            .any(|q| q["rule"] == "at least 60% sangat_kurang"
                && q["bound"] == "at_least"
                && q["limit_percent"] == 60
                && q["predikat"] == json!(["sangat_kurang"])),
        "the demo's spread is not 60% sangat_kurang: {d}"
    );
    assert_eq!(d["compliant"], false);

    // One that is met: no breaks.
    let r = c.put(
        &format!("{base}/org-predikat/2025"),
        &json!({"predikat": met_org}),
    );
    assert_eq!(r.body["predikat"], met_org);
    let d = dist(&c);
    assert_eq!(d["breaks"], json!([]), "{d}");
    assert_eq!(d["compliant"], true);
    assert_eq!(d["note"], Value::Null);

    // Who may read it: the region's admins and the agency itself, nobody else.
    let ra = c.with_token(&c.issue(json!({"role": "region_admin", "region": "jambi"})));
    let own = c
        .with_token(&c.issue(json!({"role": "agency", "region": "jambi", "agency": "diskominfo"})));
    let other = c.with_token(
        &c.issue(json!({"role": "agency", "region": "jambi", "agency": "dinas-kesehatan"})),
    );
    let elsewhere = c.with_token(&c.issue(json!({"role": "region_admin", "region": "jakarta"})));
    let some_nip = predikat_of.keys().next().unwrap().clone();
    let employee =
        c.with_token(&c.issue(json!({"role": "employee", "region": "jambi", "nip": some_nip})));
    assert_eq!(counts_of(&dist(&ra)), expected);
    assert_eq!(counts_of(&dist(&own)), expected);
    for t in [&other, &elsewhere, &employee] {
        let r = t.get(&format!("{base}/distribution?period=2025"));
        assert_eq!(r.status, 403, "{}", r.text);
        assert_eq!(r.body["error"]["code"], "forbidden");
    }
    // The org predikat is the region's to set, not the agency's.
    let r = own.put(
        &format!("{base}/org-predikat/2025"),
        &json!({"predikat": "istimewa"}),
    );
    assert_eq!(r.status, 403, "{}", r.text);
    let r = ra.put(
        &format!("{base}/org-predikat/2025"),
        &json!({"predikat": met_org}),
    );
    assert_eq!(r.status, 200, "{}", r.text);

    // A newer appraisal of the same period replaces the employee's older predikat.
    let (nip, old) = predikat_of
        .iter()
        .find(|(_, p)| *p == "sangat_baik" || *p == "baik")
        .map(|(n, p)| (n.clone(), p.clone()))
        .expect("someone rated baik or better");
    // The demo's employees have SKPs, which carry the indicators: the record carries the
    // rest (ratings, process, budget, public feedback), poor.
    let mut poor = poor_period();
    poor["indicators"] = json!([]);
    let r = c.put(
        &format!("/api/v1/regions/jambi/employees/{nip}/periods/2025"),
        &poor,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let ap = c.post(
        "/api/v1/regions/jambi/appraisals",
        &json!({"period": "2025", "nips": [nip]}),
    );
    assert_eq!(ap.status, 200, "{}", ap.text);
    let new = ap.body["results"][0]["predikat"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new, old, "the poor record changes the predikat");
    predikat_of.insert(nip.clone(), new.clone());
    let expected = tally(predikat_of.values().map(String::as_str));
    let d = dist(&c);
    assert_eq!(counts_of(&d), expected, "{nip}: {old} → {new}: {d}");
    assert_eq!(d["appraised"], results.len() as u64);

    // The last quarter ends on the same day as the year; its appraisal is not the year's.
    let mut q4_record = period_body();
    q4_record["indicators"] = json!([]);
    q4_record["working_days"] = json!(60);
    // An innovation is dated within its period.
    q4_record["innovations"] = json!([{"title": "Layanan daring", "date": "2025-11-03"}]);
    let r = c.put(
        &format!("/api/v1/regions/jambi/employees/{nip}/periods/2025-Q4"),
        &q4_record,
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let ap = c.post(
        "/api/v1/regions/jambi/appraisals",
        &json!({"period": "2025-Q4", "nips": [nip]}),
    );
    assert_eq!(ap.status, 200, "{}", ap.text);
    let q4_results = ap.body["results"].as_array().unwrap();
    assert_eq!(q4_results.len(), 1, "{}", ap.text);
    assert_ne!(
        q4_results[0]["predikat"],
        new.as_str(),
        "a test that can fail"
    );
    assert_eq!(counts_of(&dist(&c)), expected, "2025-Q4 leaves 2025 alone");
    let q4 = c.get(&format!("{base}/distribution?period=2025-Q4"));
    assert_eq!(q4.status, 200, "{}", q4.text);
    assert_eq!(
        q4.body["appraised"],
        ap.body["results"].as_array().unwrap().len() as u64
    );
    assert_eq!(q4.body["org_predikat"], Value::Null);

    // Each recording is in the audit trail, by who recorded it.
    let audit = c.get("/api/v1/audit?limit=1000");
    let sets: Vec<&Value> = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "org_predikat.set")
        .collect();
    assert_eq!(sets.len(), 8, "{}", audit.text);
    assert_eq!(sets[0]["subject"], "diskominfo/2025");
    assert_eq!(sets[0]["region"], "jambi");
    assert_eq!(sets[1]["detail"]["previous"], "istimewa");
    drop(s);
}

#[test]
fn org_predikat_input_errors_and_scope() {
    let s = TestServer::start();
    let c = s.client();
    seed_agency(&c, "jambi", "disdik");
    seed_agency(&c, "jambi", "dinkes");
    let r = c.put(
        &format!("/api/v1/regions/jambi/employees/{NIP}"),
        &employee_body("disdik", "staf", "2021-03-01"),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let base = "/api/v1/regions/jambi/agencies/disdik";

    // 400: the message names the field, and for a predikat the values allowed.
    let bad = |r: Resp, field: &str| {
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(r.body["error"]["code"], "bad_request");
        assert!(r.message().starts_with(field), "{field}: {}", r.text);
        r
    };
    let r = bad(
        c.put(
            &format!("{base}/org-predikat/2025"),
            &json!({"predikat": "luar_biasa"}),
        ),
        "predikat",
    );
    for v in [
        "istimewa",
        "baik",
        "butuh_perbaikan",
        "kurang",
        "sangat_kurang",
    ] {
        assert!(r.message().contains(v), "{}", r.text);
    }
    bad(
        c.put(
            &format!("{base}/org-predikat/2025"),
            &json!({"predikat": 3}),
        ),
        "predikat",
    );
    let r = c.put(&format!("{base}/org-predikat/2025"), &json!({}));
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.message().contains("predikat"), "{}", r.text);
    let r = c.put(
        &format!("{base}/org-predikat/2025"),
        &json!({"predikat": "baik", "note": "x"}),
    );
    assert_eq!(r.status, 400, "unknown fields are refused: {}", r.text);
    for p in ["2025-13", "25", "2025-Q5", "tahun"] {
        bad(
            c.put(
                &format!("{base}/org-predikat/{p}"),
                &json!({"predikat": "baik"}),
            ),
            "period",
        );
        bad(c.get(&format!("{base}/distribution?period={p}")), "period");
    }
    bad(c.get(&format!("{base}/distribution")), "period");

    // 404: unknown agency or region.
    for r in [
        c.put(
            "/api/v1/regions/jambi/agencies/nope/org-predikat/2025",
            &json!({"predikat": "baik"}),
        ),
        c.get("/api/v1/regions/jambi/agencies/nope/distribution?period=2025"),
        c.get("/api/v1/regions/atlantis/agencies/disdik/distribution?period=2025"),
        c.put(
            "/api/v1/regions/atlantis/agencies/disdik/org-predikat/2025",
            &json!({"predikat": "baik"}),
        ),
    ] {
        assert_eq!(r.status, 404, "{}", r.text);
        assert_eq!(r.body["error"]["code"], "not_found");
    }

    // 200: the stored record; a second PUT replaces it.
    let r = c.put(
        &format!("{base}/org-predikat/2025"),
        &json!({"predikat": "istimewa"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let r = c.put(
        &format!("{base}/org-predikat/2025"),
        &json!({"predikat": "baik"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["region"], "jambi");
    assert_eq!(r.body["agency"], "disdik");
    assert_eq!(r.body["period"], "2025");
    assert_eq!(r.body["predikat"], "baik");
    assert!(r.body["by"].is_string(), "{}", r.text);
    assert!(r.body["at"].as_str().is_some_and(|t| t.ends_with('Z')));

    // Nobody appraised: shares cannot be judged and are reported not met, head counts are
    // judged as they stand.
    let d = c.get(&format!("{base}/distribution?period=2025"));
    assert_eq!(d.status, 200, "{}", d.text);
    let d = d.body;
    assert_eq!(d["org_predikat"], "baik");
    assert_eq!(
        (d["employees"].as_u64(), d["appraised"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(d["not_appraised"], json!([NIP]));
    assert_eq!(d["shares"], Value::Null);
    assert_eq!(d["quotas"][0]["rule"], "at most 70% baik");
    assert_eq!(d["quotas"][0]["met"], false);
    assert_eq!(d["quotas"][0]["actual_percent"], Value::Null);
    assert!(d["quotas"][0]["message"]
        .as_str()
        .unwrap()
        .contains("cannot be evaluated"));
    assert_eq!(
        d["quotas"][1]["rule"],
        "at least one butuh_perbaikan or kurang"
    );
    assert_eq!(d["quotas"][1]["limit_count"], 1);
    assert_eq!(d["quotas"][1]["met"], false);
    assert_eq!(d["breaks"].as_array().unwrap().len(), 2);
    assert_eq!(d["compliant"], false);
    assert!(d["note"].is_string());
    // Another period of the same agency has no org predikat.
    let d = c.get(&format!("{base}/distribution?period=2026-03")).body;
    assert_eq!(d["org_predikat"], Value::Null);
    assert_eq!(d["period"], "2026-03");

    // 403: another agency's token, another region's admin, an employee, an agency setting its own.
    let other =
        c.with_token(&c.issue(json!({"role": "agency", "region": "jambi", "agency": "dinkes"})));
    let own =
        c.with_token(&c.issue(json!({"role": "agency", "region": "jambi", "agency": "disdik"})));
    let elsewhere = c.with_token(&c.issue(json!({"role": "region_admin", "region": "jakarta"})));
    let employee =
        c.with_token(&c.issue(json!({"role": "employee", "region": "jambi", "nip": NIP})));
    for t in [&other, &elsewhere, &employee] {
        let r = t.get(&format!("{base}/distribution?period=2025"));
        assert_eq!(r.status, 403, "{}", r.text);
    }
    for t in [&other, &own, &elsewhere, &employee] {
        let r = t.put(
            &format!("{base}/org-predikat/2025"),
            &json!({"predikat": "istimewa"}),
        );
        assert_eq!(r.status, 403, "{}", r.text);
    }
    assert_eq!(
        own.get(&format!("{base}/distribution?period=2025")).body["org_predikat"],
        "baik"
    );
    // Both routes are in the OpenAPI document, with their records.
    let doc = c.get("/openapi.json").body;
    let paths = &doc["paths"];
    assert!(
        paths["/api/v1/regions/{region}/agencies/{agency}/org-predikat/{period}"]["put"]
            .is_object()
    );
    assert!(paths["/api/v1/regions/{region}/agencies/{agency}/distribution"]["get"].is_object());
    for name in [
        "Distribution",
        "Quota",
        "OrgPredikatRecord",
        "OrgPredikatInput",
    ] {
        assert!(doc["components"]["schemas"][name].is_object(), "{name}");
    }
    // 401 without a token.
    let r = c
        .anonymous()
        .get(&format!("{base}/distribution?period=2025"));
    assert_eq!(r.status, 401);
}

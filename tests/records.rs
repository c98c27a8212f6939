//! End to end over HTTP: every record route, its validation, restarts and concurrent writers.

use kinerja_tests::*;

const R: &str = "/api/v1/regions/jambi";

fn setup() -> (TestServer, Client) {
    let s = TestServer::start();
    let c = s.client();
    seed_agency(&c, "jambi", "disdik");
    (s, c)
}

#[test]
fn every_record_route_round_trips() {
    let (s, c) = setup();
    assert_eq!(c.anonymous().get("/health").body, json!({"status": "ok"}));
    assert_eq!(c.anonymous().get("/ready").status, 200);

    let a = c.get(&format!("{R}/agencies/disdik"));
    assert_eq!(
        (a.status, a.body["name"].as_str()),
        (200, Some("Dinas disdik"))
    );
    assert_eq!(
        c.get(&format!("{R}/agencies")).body["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );

    let e = c.put(
        &format!("{R}/employees/{NIP}"),
        &employee_body("disdik", "staf", "2021-03-01"),
    );
    assert_eq!(e.status, 200, "{}", e.text);
    let got = c.get(&format!("{R}/employees/{NIP}"));
    assert_eq!(got.body["position_id"], "disdik-staf");
    assert_eq!(got.body["competencies"]["teknis.layanan"], 2);
    assert_eq!(got.body["potential"], "tinggi");

    // The position now has a holder and one vacancy less.
    let p = c.get(&format!("{R}/positions/disdik-staf"));
    assert_eq!(p.body["holders"], json!([NIP]));
    assert_eq!(p.body["vacancies"], 4);
    let list = c.get(&format!("{R}/positions?agency=disdik"));
    assert_eq!(list.body["items"].as_array().map(Vec::len), Some(2));

    // A change of position keeps the old one in the history.
    let moved = c.put(
        &format!("{R}/employees/{NIP}"),
        &employee_body("disdik", "analis", "2024-07-01"),
    );
    assert_eq!(moved.status, 200, "{}", moved.text);
    let hist = &c.get(&format!("{R}/employees/{NIP}")).body["history"];
    assert_eq!(
        hist,
        &json!([{"position_id": "disdik-staf", "agency": "disdik", "from": "2021-03-01", "until": "2024-07-01"}])
    );
    // Moving back to the past is refused.
    let back = c.put(
        &format!("{R}/employees/{NIP}"),
        &employee_body("disdik", "staf", "2020-01-01"),
    );
    assert_eq!(back.status, 400);
    assert!(back.message().contains("position_since"), "{}", back.text);

    let per = c.put(&format!("{R}/employees/{NIP}/periods/2026"), &period_body());
    assert_eq!(per.status, 200, "{}", per.text);
    let read = c.get(&format!("{R}/employees/{NIP}/periods/2026"));
    assert_eq!(read.body["start"], "2026-01-01");
    assert_eq!(read.body["end"], "2026-12-31");
    assert_eq!(
        read.body["indicators"][1]["weight"], 1.0,
        "weight defaults to 1"
    );
    assert_eq!(read.body["behavior"]["self"]["kompeten"], 5);
    assert_eq!(read.body["working_days"], 246);
    let q = c.put(&format!("{R}/employees/{NIP}/periods/2026-Q1"), &json!({}));
    assert_eq!(q.status, 200, "{}", q.text);
    let periods = c.get(&format!("{R}/employees/{NIP}/periods"));
    let ids: Vec<_> = periods.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["period"].clone())
        .collect();
    assert_eq!(ids, vec![json!("2026"), json!("2026-Q1")]);

    let one = c.post(
        &format!("{R}/employees/{NIP}/activities"),
        &json!({"date": "2026-03-02", "description": "Rapat", "minutes": 90}),
    );
    assert_eq!(one.status, 201, "{}", one.text);
    let many = c.post(
        &format!("{R}/employees/{NIP}/activities"),
        &json!([{"date": "2026-03-03", "description": "Laporan", "minutes": 120},
                {"date": "2026-04-01", "description": "Layanan", "minutes": 240}]),
    );
    assert_eq!(
        (many.status, many.body["items"].as_array().map(Vec::len)),
        (201, Some(2))
    );
    let march = c.get(&format!(
        "{R}/employees/{NIP}/activities?from=2026-03-01&to=2026-03-31"
    ));
    assert_eq!(
        march.body["items"].as_array().map(Vec::len),
        Some(2),
        "{}",
        march.text
    );
    let all = c.get(&format!("{R}/employees/{NIP}/activities"));
    assert_eq!(all.body["items"].as_array().map(Vec::len), Some(3));
    // Paging walks the list without repeats.
    let p1 = c.get(&format!("{R}/employees/{NIP}/activities?limit=2"));
    let cursor = p1.body["next"].as_str().expect("a next cursor").to_string();
    let p2 = c.get(&format!(
        "{R}/employees/{NIP}/activities?limit=2&cursor={cursor}"
    ));
    assert_eq!(p2.body["items"][0]["date"], "2026-04-01");
    assert_eq!(p2.body["next"], json!(null));
    drop(s);
}

#[test]
fn bad_input_names_the_field() {
    let (_s, c) = setup();
    assert_eq!(
        c.put(
            &format!("{R}/employees/{NIP}"),
            &employee_body("disdik", "staf", "2021-03-01")
        )
        .status,
        200
    );
    let cases: Vec<(String, serde_json::Value, &str)> = vec![
        (
            format!("{R}/employees/12345"),
            employee_body("disdik", "staf", "2021-03-01"),
            "18 digits",
        ),
        (
            format!("{R}/employees/198502302010011001"),
            employee_body("disdik", "staf", "2021-03-01"),
            "birth date",
        ),
        (
            format!("{R}/employees/198503122003021001"),
            employee_body("disdik", "staf", "2021-03-01"),
            "18th birthday",
        ),
        (
            format!("{R}/employees/198503122010013001"),
            employee_body("disdik", "staf", "2021-03-01"),
            "sex",
        ),
        (
            format!("{R}/employees/{NIP2}"),
            employee_body("disdik", "staf", "2021-02-30"),
            "position_since",
        ),
        (
            format!("{R}/employees/{NIP2}"),
            employee_body("nowhere", "staf", "2021-02-01"),
            "agency",
        ),
        (
            format!("{R}/employees/{NIP2}"),
            json!({"name": "x", "agency": "disdik", "position_id": "disdik-staf", "position_since": "2021-01-01", "competencies": {"integritas": 6}}),
            "competencies.integritas",
        ),
        (
            format!("{R}/employees/{NIP2}"),
            json!({"name": "x", "agency": "disdik", "position_id": "disdik-staf", "position_since": "2021-01-01", "salary": 1}),
            "salary",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026-Q5"),
            json!({}),
            "period",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026-13"),
            json!({}),
            "period",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026"),
            json!({"indicators": [{"id": "a", "name": "n", "kind": "utama", "direction": "higher_is_better", "unit": "u", "target": 0}]}),
            "indicators[0].target",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026"),
            json!({"indicators": [{"id": "a", "name": "n", "kind": "utama", "direction": "higher_is_better", "unit": "u", "target": 1, "weight": -1}]}),
            "indicators[0].weight",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026"),
            json!({"indicators": [{"id": "a", "name": "n", "kind": "utama", "direction": "higher_is_better", "unit": "u", "target": 1, "realization": -2}]}),
            "indicators[0].realization",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026"),
            json!({"indicators": [{"id": "a", "name": "n", "kind": "wajib", "direction": "higher_is_better", "unit": "u", "target": 1}]}),
            "indicators[0].kind",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026"),
            json!({"behavior": {"supervisor": ratings(6)}}),
            "behavior.supervisor.berorientasi_pelayanan",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026"),
            json!({"behavior": {"supervisor": {"akuntabel": 3}}}),
            "behavior.supervisor",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026"),
            json!({"behavior": {"peers": [ratings(0)]}}),
            "behavior.peers[0]",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026"),
            json!({"process": {"inovasi": 101}}),
            "process.inovasi",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026"),
            json!({"budget": {"planned": 0, "realized": 1}}),
            "budget.planned",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026"),
            json!({"public_feedback": {"ikm": 4.5, "respondents": 1}}),
            "public_feedback.ikm",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026"),
            json!({"working_days": 400}),
            "working_days",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026"),
            json!({"bonus": true}),
            "bonus",
        ),
        (
            format!("{R}/positions/p1"),
            json!({"title": "t", "agency": "disdik", "kind": "struktural", "level": 2, "required": {"x": 9}, "capacity": 1}),
            "required.x",
        ),
        (
            format!("{R}/positions/p1"),
            json!({"title": "t", "agency": "disdik", "kind": "boss", "level": 2, "capacity": 1}),
            "kind",
        ),
        (
            format!("{R}/positions/Bad..Id"),
            json!({"title": "t", "agency": "disdik", "kind": "struktural", "level": 2, "capacity": 1}),
            "id",
        ),
        (format!("{R}/agencies/disdik"), json!({"name": ""}), "name"),
    ];
    for (path, body, needle) in cases {
        let r = c.put(&path, &body);
        assert_eq!(r.status, 400, "{path} {body}: {}", r.text);
        assert_eq!(r.body["error"]["code"], "bad_request");
        assert!(
            r.message().contains(needle),
            "{path}: `{}` should name `{needle}`",
            r.message()
        );
    }
    let acts = [
        (
            json!({"date": "2026-02-30", "description": "x", "minutes": 10}),
            "date",
        ),
        (
            json!({"date": "1999-12-31", "description": "x", "minutes": 10}),
            "date",
        ),
        (
            json!({"date": "2026-02-03", "description": "x", "minutes": 0}),
            "[0].minutes",
        ),
        (
            json!([{"date": "2026-02-03", "description": "x", "minutes": 10}, {"date": "2026-02-03", "description": "", "minutes": 10}]),
            "[1].description",
        ),
        (
            json!({"date": "2026-02-03", "description": "x", "minutes": 1441}),
            "minutes",
        ),
    ];
    for (body, needle) in acts {
        let r = c.post(&format!("{R}/employees/{NIP}/activities"), &body);
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(
            r.message().contains(needle),
            "`{}` should name `{needle}`",
            r.message()
        );
    }
    // Nothing of the failed batch was stored.
    assert_eq!(
        c.get(&format!("{R}/employees/{NIP}/activities")).body["items"],
        json!([])
    );
    // Malformed JSON, wrong types, unknown regions and ids, bad query parameters.
    let r = c.put_raw(
        &format!("{R}/agencies/x"),
        "application/json",
        b"{\"name\": ".to_vec(),
    );
    assert_eq!(r.status, 400, "{}", r.text);
    let r = c.put(&format!("{R}/agencies/x"), &json!({"name": 5}));
    assert!(
        r.status == 400 && r.message().contains("name"),
        "{}",
        r.text
    );
    assert_eq!(c.get("/api/v1/regions/atlantis/agencies").status, 404);
    assert_eq!(c.get(&format!("{R}/agencies/nope")).status, 404);
    assert_eq!(c.get(&format!("{R}/employees/{NIP2}")).status, 404);
    // A period record that is not there, and one of an employee who is not: each 404 names
    // what is missing.
    let r = c.get(&format!("{R}/employees/{NIP}/periods/2025"));
    assert!(
        r.status == 404 && r.message().contains("2025") && r.message().contains(NIP),
        "{}",
        r.text
    );
    let r = c.get(&format!("{R}/employees/{NIP2}/periods/2026"));
    assert!(r.status == 404 && r.message().contains(NIP2), "{}", r.text);
    assert_eq!(c.get(&format!("{R}/employees?limit=5000")).status, 400);
    assert_eq!(c.get(&format!("{R}/employees?limit=abc")).status, 400);
    assert_eq!(c.get(&format!("{R}/agencies/..%2F..%2Fetc")).status, 400);
    // Deeply nested JSON is refused as bad input, not a crash.
    let deep = format!("{}{}", "[".repeat(5000), "]".repeat(5000));
    let r = c.put_raw(
        &format!("{R}/agencies/x"),
        "application/json",
        deep.into_bytes(),
    );
    assert_eq!(r.status, 400, "{}", r.text);
    // An oversized body is 413 with the error format.
    let huge = format!("{{\"name\": \"{}\"}}", "a".repeat(3 * 1024 * 1024));
    let r = c.put_raw(
        &format!("{R}/agencies/x"),
        "application/json",
        huge.into_bytes(),
    );
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (413, Some("payload_too_large")),
        "{}",
        r.text
    );
    assert_eq!(c.anonymous().get("/health").status, 200);
}

#[test]
fn restart_keeps_everything() {
    let (s, c) = setup();
    assert_eq!(
        c.put(
            &format!("{R}/employees/{NIP}"),
            &employee_body("disdik", "staf", "2021-03-01")
        )
        .status,
        200
    );
    assert_eq!(
        c.put(&format!("{R}/employees/{NIP}/periods/2026"), &period_body())
            .status,
        200
    );
    assert_eq!(
        c.post(
            &format!("{R}/employees/{NIP}/activities"),
            &json!({"date": "2026-03-02", "description": "Rapat", "minutes": 90})
        )
        .status,
        201
    );
    let agency_tok = c.issue(json!({"role": "agency", "region": "jambi", "agency": "disdik"}));
    let before: Vec<_> = [
        format!("{R}/employees/{NIP}"),
        format!("{R}/employees/{NIP}/periods/2026"),
        format!("{R}/employees/{NIP}/activities"),
        format!("{R}/positions"),
        format!("{R}/agencies"),
    ]
    .into_iter()
    .map(|p| (p.clone(), c.get(&p).body))
    .collect();
    let s = s.restart();
    let c = s.client();
    for (p, body) in before {
        assert_eq!(c.get(&p).body, body, "{p} changed across a restart");
    }
    assert_eq!(
        c.with_token(&agency_tok)
            .get(&format!("{R}/employees/{NIP}"))
            .status,
        200,
        "tokens survive"
    );
}

#[test]
fn concurrent_writers_lose_nothing() {
    let (_s, c) = setup();
    let nips: Vec<String> = (0..8).map(|i| format!("19900101201501100{i}")).collect();
    for n in &nips {
        assert_eq!(
            c.put(
                &format!("{R}/employees/{n}"),
                &employee_body("disdik", "staf", "2021-03-01")
            )
            .status,
            200
        );
    }
    // 8 threads × 25 requests: each writes reports to its own employee and to one shared one,
    // and rewrites period records on the shared one.
    let handles: Vec<_> = nips
        .iter()
        .cloned()
        .enumerate()
        .map(|(t, n)| {
            let c = c.clone();
            let shared = nips[0].clone();
            std::thread::spawn(move || {
                for i in 0..25 {
                    let day = format!("2026-03-{:02}", 1 + (i % 28));
                    let mine = c.post(&format!("{R}/employees/{n}/activities"), &json!({"date": day, "description": format!("t{t} i{i}"), "minutes": 30}));
                    assert_eq!(mine.status, 201, "{}", mine.text);
                    let sh = c.post(&format!("{R}/employees/{shared}/activities"), &json!({"date": day, "description": format!("shared t{t} i{i}"), "minutes": 30}));
                    assert_eq!(sh.status, 201, "{}", sh.text);
                    let mut body = period_body();
                    body["working_days"] = json!(100 + t * 25 + i);
                    assert_eq!(c.put(&format!("{R}/employees/{shared}/periods/2026"), &body).status, 200);
                }
            })
        })
        .collect();
    for h in handles {
        h.join().expect("writer thread");
    }
    let count = |n: &str| {
        c.get(&format!("{R}/employees/{n}/activities?limit=1000"))
            .body["items"]
            .as_array()
            .map(Vec::len)
            .unwrap_or(0)
    };
    assert_eq!(count(&nips[0]), 25 + 8 * 25);
    for n in &nips[1..] {
        assert_eq!(count(n), 25);
    }
    let ids: std::collections::BTreeSet<u64> = c
        .get(&format!("{R}/employees/{}/activities?limit=1000", nips[0]))
        .body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids.len(), 225, "activity ids are unique");
    let wd = c
        .get(&format!("{R}/employees/{}/periods/2026", nips[0]))
        .body["working_days"]
        .as_u64()
        .unwrap();
    assert!(
        (100..300).contains(&wd),
        "the period record is one whole write: {wd}"
    );
}

/// What the hostile review sent and should have been refused: control characters and
/// bidirectional overrides in names, titles and descriptions; a `position_since` before birth or
/// in the future; an innovation outside its period; a path-like `?agency=`; the same NIP twice
/// in one appraisal; JSON without its content type; malformed JSON named as field `?`; plain
/// text errors from the HTTP layer. Ordinary Indonesian text, punctuation and emoji pass.
#[test]
fn hostile_inputs_are_refused_naming_the_field() {
    let (_s, c) = setup();
    let emp = |name: &str, since: &str| {
        let mut b = employee_body("disdik", "staf", since);
        b["name"] = json!(name);
        b
    };
    let position = |title: &str| json!({"title": title, "agency": "disdik", "kind": "fungsional", "level": 2, "capacity": 1});
    let innovation = |title: &str, date: &str| {
        let mut b = period_body();
        b["innovations"] = json!([{"title": title, "date": date}]);
        b
    };
    let cases: Vec<(String, serde_json::Value, &str)> = vec![
        (
            format!("{R}/agencies/x"),
            json!({"name": "Dinas\u{0}Rahasia"}),
            "name",
        ),
        (
            format!("{R}/agencies/x"),
            json!({"name": "Dinas\u{7}"}),
            "name",
        ),
        (
            format!("{R}/agencies/x"),
            json!({"name": "Dinas\nBaru"}),
            "name",
        ),
        (
            format!("{R}/agencies/x"),
            json!({"name": "Dinas \u{202E}lihat"}),
            "name",
        ),
        (
            format!("{R}/agencies/x"),
            json!({"name": "Dinas \u{2067}x\u{2069}"}),
            "name",
        ),
        (
            format!("{R}/agencies/x"),
            json!({"name": "Dinas \u{85}x"}),
            "name",
        ),
        (
            format!("{R}/positions/p1"),
            position("Analis\u{1b}[31m"),
            "title",
        ),
        (
            format!("{R}/employees/{NIP}"),
            emp("Siti\u{202D}Rahma", "2021-03-01"),
            "name",
        ),
        // NIP2 says 1990-01-01.
        (
            format!("{R}/employees/{NIP2}"),
            emp("Siti", "1989-12-31"),
            "position_since",
        ),
        (
            format!("{R}/employees/{NIP2}"),
            emp("Siti", "2099-01-01"),
            "position_since",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026"),
            innovation("Layanan\u{0}", "2026-05-02"),
            "innovations[0].title",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026"),
            innovation("Layanan daring", "2025-12-31"),
            "innovations[0].date",
        ),
        (
            format!("{R}/employees/{NIP}/periods/2026-Q1"),
            {
                let mut b = innovation("Layanan daring", "2026-05-02");
                b["working_days"] = json!(60);
                b
            },
            "innovations[0].date",
        ),
    ];
    // The employee must exist for its period record.
    let r = c.put(
        &format!("{R}/employees/{NIP}"),
        &employee_body("disdik", "staf", "2021-03-01"),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    for (path, body, needle) in cases {
        let r = c.put(&path, &body);
        assert_eq!(r.status, 400, "{path} {body}: {}", r.text);
        assert!(
            r.message().starts_with(needle),
            "{path}: `{}` should name `{needle}`",
            r.message()
        );
    }
    let r = c.post(
        &format!("{R}/employees/{NIP}/activities"),
        &json!([{"date": "2026-02-03", "description": "Rapat\u{202E}", "minutes": 10}]),
    );
    assert!(
        r.status == 400 && r.message().starts_with("[0].description"),
        "{}",
        r.text
    );
    // Ordinary text passes: Indonesian, punctuation, emoji; line breaks and tabs in a report.
    let ok = c.put(
        &format!("{R}/agencies/budaya"),
        &json!({"name": "Dinas Pendidikan & Kebudayaan (Disdikbud) — “Maju” 🎓"}),
    );
    assert_eq!(ok.status, 200, "{}", ok.text);
    let ok = c.post(
        &format!("{R}/employees/{NIP}/activities"),
        &json!({"date": "2026-02-03", "description": "Rapat koordinasi:\n\t- anggaran 2026 ✅", "minutes": 10}),
    );
    assert_eq!(ok.status, 201, "{}", ok.text);
    let ok = c.put(
        &format!("{R}/employees/{NIP}/periods/2026"),
        &innovation("Layanan daring 🚀", "2026-12-31"),
    );
    assert_eq!(ok.status, 200, "{}", ok.text);

    // A path-like agency filter is a bad parameter, not an empty page.
    for list in ["employees", "positions"] {
        let r = c.get(&format!("{R}/{list}?agency=../jakarta"));
        assert!(
            r.status == 400 && r.message().starts_with("agency"),
            "{list}: {}",
            r.text
        );
    }

    // The same NIP twice in one appraisal.
    let id = c.upload("jambi", wasm("kinerja_test_simple"));
    c.activate("jambi", "appraise", &id, json!({}));
    let r = c.post(
        &format!("{R}/appraisals"),
        &json!({"period": "2026", "nips": [NIP, NIP]}),
    );
    assert!(
        r.status == 400 && r.message().starts_with("nips[1]") && r.message().contains(NIP),
        "{}",
        r.text
    );

    // A JSON body needs its content type: absent or another is 415 in the error format.
    for ct in [None, Some("text/plain")] {
        let http = reqwest::blocking::Client::new();
        let mut rb = http
            .put(format!("{}{R}/agencies/x", _s.base))
            .bearer_auth(&_s.admin)
            .body(r#"{"name": "Dinas X"}"#);
        if let Some(ct) = ct {
            rb = rb.header("content-type", ct);
        }
        let r = rb.send().unwrap();
        assert_eq!(r.status().as_u16(), 415, "{ct:?}");
        let body: serde_json::Value = r.json().unwrap();
        assert_eq!(body["error"]["code"], "unsupported_media_type", "{body}");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("application/json"));
    }
    assert_eq!(
        c.get(&format!("{R}/agencies/x")).status,
        404,
        "nothing stored"
    );

    // Malformed JSON names the line and column, never a field `?`.
    for bad in [
        &b"{\"name\": }"[..],
        b"{\"name\": \"x\",\n \"id\" 5}",
        b"[1, 2",
    ] {
        let r = c.put_raw(&format!("{R}/agencies/x"), "application/json", bad.to_vec());
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(
            !r.message().contains('?') && r.message().contains("line"),
            "{}",
            r.text
        );
    }

    // Every error the HTTP layer gives is in the JSON error format, e.g. a path that is not
    // UTF-8 once decoded.
    for path in ["/console/%FF", "/console/a%00b"] {
        let r = c.get(path);
        assert!(r.status >= 400 && r.status < 500, "{path}: {}", r.text);
        assert!(
            r.body["error"]["code"].is_string() && r.body["error"]["message"].is_string(),
            "{path}: {}",
            r.text
        );
    }
}

/// The workload analysis of a position (PermenPANRB 1/2020): its tasks are stored and read back,
/// and the view shows the minutes, the needed staff to two decimals and rounded up, the holders
/// and the gap; vacancies follow the workload. The worked example of docs/domain-rules.md.
#[test]
fn position_workload_shows_needed_staff_and_gap() {
    let (_s, c) = setup();
    let tasks = json!([
        {"task": "Melayani permohonan masyarakat", "unit": "permohonan", "volume": 24000.0, "minutes": 30.0},
        {"task": "Memverifikasi berkas administrasi", "unit": "berkas", "volume": 18000.0, "minutes": 20.0},
        {"task": "Menyusun laporan layanan bulanan", "unit": "laporan", "volume": 12.0, "minutes": 480.0}
    ]);
    let body = json!({"title": "Pengelola Layanan", "agency": "disdik", "kind": "pelaksana",
                      "level": 2, "capacity": 1, "tasks": tasks});
    let r = c.put(&format!("{R}/positions/disdik-layanan"), &body);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["tasks"], tasks);
    for n in [NIP, NIP2] {
        let e = c.put(
            &format!("{R}/employees/{n}"),
            &employee_body("disdik", "layanan", "2021-03-01"),
        );
        assert_eq!(e.status, 200, "{}", e.text);
    }
    let p = c.get(&format!("{R}/positions/disdik-layanan"));
    assert_eq!(p.status, 200, "{}", p.text);
    assert_eq!(p.body["tasks"], tasks);
    assert_eq!(
        p.body["workload"],
        json!({"minutes": 1085760.0, "effective_minutes": 75000.0, "needed": 14.48,
               "needed_staff": 15, "held": 2, "gap": 13})
    );
    assert_eq!(
        p.body["vacancies"], 13,
        "the workload, not the capacity of 1, gives the vacancies"
    );
    let list = c.get(&format!("{R}/positions?agency=disdik"));
    let item = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == "disdik-layanan")
        .cloned()
        .unwrap();
    assert_eq!(item["workload"], p.body["workload"]);
    // A position without tasks has no workload, and capacity − holders as before.
    let staf = c.get(&format!("{R}/positions/disdik-staf"));
    assert_eq!(
        (
            &staf.body["workload"],
            &staf.body["vacancies"],
            &staf.body["tasks"]
        ),
        (&json!(null), &json!(5), &json!([]))
    );
    // A smaller workload than the holders: a surplus, no vacancy.
    let mut small = body.clone();
    small["tasks"] = json!([{"task": "Rekap", "unit": "laporan", "volume": 100, "minutes": 375}]);
    assert_eq!(
        c.put(&format!("{R}/positions/disdik-layanan"), &small)
            .status,
        200
    );
    let p = c.get(&format!("{R}/positions/disdik-layanan"));
    assert_eq!(
        (
            &p.body["workload"]["needed"],
            &p.body["workload"]["needed_staff"],
            &p.body["workload"]["gap"],
            &p.body["vacancies"]
        ),
        (&json!(0.5), &json!(1), &json!(-1), &json!(0))
    );

    // Bad tasks are refused naming the field.
    let with = |task: serde_json::Value| {
        let mut b = body.clone();
        b["tasks"] = json!([{"task": "Rekap", "unit": "laporan", "volume": 1, "minutes": 1}, task]);
        b
    };
    let t = |task: &str, unit: &str, volume: serde_json::Value, minutes: serde_json::Value| json!({"task": task, "unit": unit, "volume": volume, "minutes": minutes});
    let many: Vec<_> = (0..201)
        .map(|_| t("Rekap", "laporan", json!(1), json!(1)))
        .collect();
    let mut too_many = body.clone();
    too_many["tasks"] = json!(many);
    let mut too_much = body.clone();
    too_much["tasks"] = json!([t("Rekap", "laporan", json!(10000000), json!(75000))]);
    let cases = [
        (with(t("", "laporan", json!(1), json!(1))), "tasks[1].task"),
        (
            with(t("Rekap\u{1b}[31m", "laporan", json!(1), json!(1))),
            "tasks[1].task",
        ),
        (
            with(t("Rekap", "lap\u{0}", json!(1), json!(1))),
            "tasks[1].unit",
        ),
        (
            with(t("Rekap", "laporan", json!(-1), json!(1))),
            "tasks[1].volume",
        ),
        (
            with(t("Rekap", "laporan", json!(1e300), json!(1))),
            "tasks[1].volume",
        ),
        (
            with(t("Rekap", "laporan", json!(1), json!(0))),
            "tasks[1].minutes",
        ),
        (
            with(t("Rekap", "laporan", json!(1), json!(-3))),
            "tasks[1].minutes",
        ),
        (
            with(t("Rekap", "laporan", json!(1), json!(100000))),
            "tasks[1].minutes",
        ),
        (too_many, "tasks"),
        (too_much, "tasks"),
    ];
    for (b, needle) in cases {
        let r = c.put(&format!("{R}/positions/disdik-layanan"), &b);
        assert_eq!(r.status, 400, "{b}: {}", r.text);
        assert!(
            r.message().starts_with(needle),
            "`{}` should name `{needle}`",
            r.message()
        );
    }
    let mut unknown = body.clone();
    unknown["tasks"] =
        json!([{"task": "Rekap", "unit": "laporan", "volume": 1, "minutes": 1, "jam": 2}]);
    assert_eq!(
        c.put(&format!("{R}/positions/disdik-layanan"), &unknown)
            .status,
        400
    );
    // Nothing refused was stored.
    let p = c.get(&format!("{R}/positions/disdik-layanan"));
    assert_eq!(p.body["workload"]["needed"], 0.5);
}

/// `GET …/agencies/{agency}/formasi`: per position the staff needed (workload, else capacity),
/// held and the gap, with totals; readable by who may read the agency and no one else.
#[test]
fn formasi_summary_and_who_may_read_it() {
    let (_s, c) = setup();
    let r = c.put(
        &format!("{R}/positions/disdik-layanan"),
        &json!({"title": "Pengelola Layanan", "agency": "disdik", "kind": "pelaksana",
                "level": 2, "capacity": 1,
                "tasks": [{"task": "Melayani permohonan", "unit": "permohonan", "volume": 5000, "minutes": 30}]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    for (n, pos) in [(NIP, "layanan"), (NIP2, "staf")] {
        let e = c.put(
            &format!("{R}/employees/{n}"),
            &employee_body("disdik", pos, "2021-03-01"),
        );
        assert_eq!(e.status, 200, "{}", e.text);
    }
    let path = format!("{R}/agencies/disdik/formasi");
    let f = c.get(&path);
    assert_eq!(f.status, 200, "{}", f.text);
    // 5,000 × 30 = 150,000 minutes / 75,000 = 2.00 staff; one holds it: a gap of 1.
    assert_eq!(
        f.body,
        json!({
            "region": "jambi", "agency": "disdik", "effective_minutes": 75000.0,
            "positions": [
                {"position_id": "disdik-analis", "title": "analis", "kind": "fungsional", "level": 3,
                 "basis": "capacity", "workload_minutes": null, "needed_exact": null,
                 "needed": 2, "held": 0, "gap": 2},
                {"position_id": "disdik-layanan", "title": "Pengelola Layanan", "kind": "pelaksana",
                 "level": 2, "basis": "workload", "workload_minutes": 150000.0, "needed_exact": 2.0,
                 "needed": 2, "held": 1, "gap": 1},
                {"position_id": "disdik-staf", "title": "staf", "kind": "fungsional", "level": 1,
                 "basis": "capacity", "workload_minutes": null, "needed_exact": null,
                 "needed": 5, "held": 1, "gap": 4}
            ],
            "totals": {"needed": 9, "held": 2, "gap": 7, "shortage": 7, "surplus": 0,
                       "positions_with_workload": 1, "positions": 3}
        })
    );
    // Another agency's positions are not in it.
    seed_agency(&c, "jambi", "dinkes");
    let other = c.get(&format!("{R}/agencies/dinkes/formasi"));
    assert_eq!(other.body["totals"]["positions"], 2, "{}", other.text);
    assert_eq!(c.get(&path).body, f.body);

    // Who may read: admin (above), the region's admin, the agency itself.
    let ra = c.with_token(&c.issue(json!({"role": "region_admin", "region": "jambi"})));
    assert_eq!(ra.get(&path).body, f.body);
    let own =
        c.with_token(&c.issue(json!({"role": "agency", "region": "jambi", "agency": "disdik"})));
    assert_eq!(own.get(&path).body, f.body);
    // Not another agency, an employee (even of this agency), another region's admin, or no one.
    let other_agency =
        c.with_token(&c.issue(json!({"role": "agency", "region": "jambi", "agency": "dinkes"})));
    let employee =
        c.with_token(&c.issue(json!({"role": "employee", "region": "jambi", "nip": NIP})));
    let jakarta = c.with_token(&c.issue(json!({"role": "region_admin", "region": "jakarta"})));
    for (who, client, status) in [
        ("another agency", &other_agency, 403),
        ("an employee", &employee, 403),
        ("another region's admin", &jakarta, 403),
        ("no token", &c.anonymous(), 401),
    ] {
        let r = client.get(&path);
        assert_eq!(r.status, status, "{who}: {}", r.text);
    }
    assert_eq!(
        other_agency
            .get(&format!("{R}/agencies/dinkes/formasi"))
            .status,
        200
    );
    // An agency that does not exist, an id that cannot be one, a region that is not.
    assert_eq!(c.get(&format!("{R}/agencies/nowhere/formasi")).status, 404);
    assert_eq!(
        c.get(&format!("{R}/agencies/No%20Such/formasi")).status,
        400
    );
    assert_eq!(
        c.get("/api/v1/regions/atlantis/agencies/disdik/formasi")
            .status,
        404
    );
}

/// No position before the appointment: `position_since` before the month in NIP digits 9–14 is
/// refused naming the field; the first day of that month is accepted.
#[test]
fn position_since_may_not_precede_the_appointment_month() {
    let (_s, c) = setup();
    // NIP: born 1985-03-12, appointed 2010-01.
    for (since, status) in [
        ("2009-12-31", 400),
        ("2005-06-01", 400),
        ("2010-01-01", 200),
    ] {
        let r = c.put(
            &format!("{R}/employees/{NIP}"),
            &employee_body("disdik", "staf", since),
        );
        assert_eq!(r.status, status, "{since}: {}", r.text);
        if status == 400 {
            assert!(
                r.message().starts_with("position_since") && r.message().contains("2010-01"),
                "{}",
                r.text
            );
        }
    }
    // A later move is checked the same way; nothing refused was stored.
    let r = c.put(
        &format!("{R}/employees/{NIP2}"),
        &employee_body("disdik", "staf", "2014-12-01"),
    );
    assert_eq!(r.status, 400, "NIP2 was appointed 2015-01: {}", r.text);
    assert_eq!(c.get(&format!("{R}/employees/{NIP2}")).status, 404);
    assert_eq!(
        c.get(&format!("{R}/employees/{NIP}")).body["position_since"],
        "2010-01-01"
    );
}

/// Issue 24 item 1: positions name their parent, an employee's supervisor is the holder of the
/// nearest held position above theirs (or the acting supervisor their record names), and the
/// direct reports are listed; cycles, unknown parents and unknown supervisors are refused
/// naming the field, and nothing changes.
#[test]
fn the_organisation_chart_gives_each_employee_a_supervisor() {
    let s = TestServer::start();
    let c = s.client();
    let base = "/api/v1/regions/jambi";
    seed_agency(&c, "jambi", "dinkes");
    let position = |id: &str, level: u8, parent: Option<&str>| {
        c.put(
            &format!("{base}/positions/{id}"),
            &json!({"title": id, "agency": "dinkes", "kind": "struktural", "level": level,
                    "capacity": 2, "parent": parent}),
        )
    };
    for (id, level, parent) in [
        ("kadis", 5, None),
        ("kabid", 4, Some("kadis")),
        ("kasi", 3, Some("kabid")),
        ("staf", 1, Some("kasi")),
    ] {
        let r = position(id, level, parent);
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["parent"], json!(parent));
    }
    // A parent that would close a loop, an unknown one, and the position itself.
    let r = position("kadis", 5, Some("staf"));
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.message().starts_with("parent:")
            && r.message().contains("kadis → staf → kasi → kabid → kadis"),
        "{}",
        r.message()
    );
    let r = position("staf", 1, Some("nowhere"));
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.message().contains("parent") && r.message().contains("nowhere"),
        "{}",
        r.message()
    );
    let r = position("kasi", 3, Some("kasi"));
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        c.get(&format!("{base}/positions/kadis")).body["parent"],
        serde_json::Value::Null,
        "a refused parent changes nothing"
    );

    let [kadis, kabid, kasi, x, y] = [
        "197001011995031001",
        "197502022000031002",
        "198003032005031003",
        "199001012015012004",
        "199202022018012005",
    ];
    let employee = |nip: &str, pos: &str, sup: Option<&str>| {
        c.put(
            &format!("{base}/employees/{nip}"),
            &json!({"name": format!("Pegawai {pos}"), "agency": "dinkes", "position_id": pos,
                    "position_since": "2021-03-01", "supervisor_nip": sup}),
        )
    };
    // The Kepala Bidang's seat is empty at first: the Kepala Seksi reports to the Kepala Dinas.
    for (nip, pos) in [(kadis, "kadis"), (kasi, "kasi"), (x, "staf"), (y, "staf")] {
        let r = employee(nip, pos, None);
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let supervisor =
        |nip: &str| c.get(&format!("{base}/employees/{nip}")).body["supervisor"].clone();
    assert_eq!(supervisor(x)["nip"], kasi);
    assert_eq!(supervisor(x)["via"], "position");
    assert_eq!(supervisor(kasi)["nip"], kadis, "the empty seat is skipped");
    assert_eq!(
        supervisor(kadis),
        serde_json::Value::Null,
        "the top of the chart"
    );
    assert_eq!(employee(kabid, "kabid", None).status, 200);
    assert_eq!(supervisor(kasi)["nip"], kabid);
    assert_eq!(supervisor(kasi)["position_id"], "kabid");

    // An acting supervisor (Plt) named on the record wins over the chart.
    let r = employee(y, "staf", Some(kabid));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(supervisor(y)["nip"], kabid);
    assert_eq!(supervisor(y)["via"], "override");
    let reports = |nip: &str| -> Vec<String> {
        let r = c.get(&format!("{base}/employees/{nip}/subordinates"));
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["nip"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(reports(kasi), vec![x.to_string()]);
    assert_eq!(reports(kabid), vec![kasi.to_string(), y.to_string()]);
    assert_eq!(reports(kadis), vec![kabid.to_string()]);
    assert!(reports(x).is_empty());

    // A supervisor who does not exist, or oneself, is refused naming the field.
    let r = employee(x, "staf", Some("198501012010011099"));
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.message().starts_with("supervisor_nip:"),
        "{}",
        r.message()
    );
    let r = employee(x, "staf", Some(x));
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.message().starts_with("supervisor_nip:"),
        "{}",
        r.message()
    );
    let r = employee(x, "staf", Some("12345"));
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(supervisor(x)["nip"], kasi, "nothing changed");

    // Who may read: the employee their own record and reports, the Kepala Seksi theirs; not
    // someone else's.
    let as_x = c.with_token(&c.issue(json!({"role": "employee", "region": "jambi", "nip": x})));
    assert_eq!(
        as_x.get(&format!("{base}/employees/{x}")).body["supervisor"]["nip"],
        kasi
    );
    assert_eq!(
        as_x.get(&format!("{base}/employees/{x}/subordinates"))
            .status,
        200
    );
    assert_eq!(
        as_x.get(&format!("{base}/employees/{kasi}/subordinates"))
            .status,
        403
    );
    seed_agency(&c, "jambi", "disdik");
    let other =
        c.with_token(&c.issue(json!({"role": "agency", "region": "jambi", "agency": "disdik"})));
    assert_eq!(
        other
            .get(&format!("{base}/employees/{kasi}/subordinates"))
            .status,
        403
    );

    // A post in another agency under the Kepala Dinas: the admin sees it among the reports,
    // the Kepala Dinas's own agency does not see the other agency's employee.
    let r = c.put(
        &format!("{base}/positions/disdik-staf"),
        &json!({"title": "staf", "agency": "disdik", "kind": "fungsional", "level": 1,
                "capacity": 5, "parent": "kadis"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let z = "199303032019012006";
    let r = c.put(
        &format!("{base}/employees/{z}"),
        &employee_body("disdik", "staf", "2021-03-01"),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(reports(kadis), vec![kabid.to_string(), z.to_string()]);
    let dinkes =
        c.with_token(&c.issue(json!({"role": "agency", "region": "jambi", "agency": "dinkes"})));
    let r = dinkes.get(&format!("{base}/employees/{kadis}/subordinates"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["items"].as_array().unwrap().len(), 1, "{}", r.text);
    // An agency token names only a supervisor it may read, and hears the same about one of
    // another agency as about no one.
    let mut body = employee_body("disdik", "staf", "2021-03-01");
    body["supervisor_nip"] = json!(kadis);
    let r = other.put(&format!("{base}/employees/{z}"), &body);
    assert_eq!(r.status, 400, "{}", r.text);
    let out_of_scope = r.message().to_string();
    body["supervisor_nip"] = json!("198501012010011099");
    let r = other.put(&format!("{base}/employees/{z}"), &body);
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        r.message().replace("198501012010011099", kadis),
        out_of_scope,
        "the same answer"
    );
    assert!(
        out_of_scope.starts_with("supervisor_nip:"),
        "{out_of_scope}"
    );
}

#[test]
fn raters_write_only_their_own_part_and_see_what_their_relationship_allows() {
    let s = TestServer::start();
    let c = s.client();
    let base = "/api/v1/regions/jambi";
    seed_agency(&c, "jambi", "dinkes");
    seed_agency(&c, "jambi", "disdik");
    for (id, parent) in [("kepala", None), ("pelaksana", Some("kepala"))] {
        let r = c.put(
            &format!("{base}/positions/{id}"),
            &json!({"title": id, "agency": "dinkes", "kind": "struktural", "level": 3,
                    "capacity": 5, "parent": parent}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let [boss, x, p1, p2, out] = [
        "197001011995031001",
        "199001012015012004",
        "199202022018012005",
        "199303032019012006",
        "198503122010011001",
    ];
    for (nip, agency, pos) in [
        (boss, "dinkes", "kepala"),
        (x, "dinkes", "pelaksana"),
        (p1, "dinkes", "pelaksana"),
        (p2, "dinkes", "pelaksana"),
        (out, "disdik", "disdik-staf"),
    ] {
        let r = c.put(
            &format!("{base}/employees/{nip}"),
            &json!({"name": format!("Pegawai {nip}"), "agency": agency, "position_id": pos,
                    "position_since": "2021-03-01"}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    assert_eq!(
        c.put(
            &format!("{base}/employees/{x}/periods/2026"),
            &period_body()
        )
        .status,
        200
    );
    let token = |scope: serde_json::Value| c.with_token(&c.issue(scope));
    let emp = |nip: &str| token(json!({"role": "employee", "region": "jambi", "nip": nip}));
    let (boss_c, x_c, p1_c, p2_c, out_c) = (emp(boss), emp(x), emp(p1), emp(p2), emp(out));
    let dinkes = token(json!({"role": "agency", "region": "jambi", "agency": "dinkes"}));
    let disdik = token(json!({"role": "agency", "region": "jambi", "agency": "disdik"}));
    let period = format!("{base}/employees/{x}/periods/2026");
    let part = |p: &str| format!("{period}/ratings/{p}");

    // Self: the employee (and the agency, centrally); nobody else.
    for (who, cl) in [
        ("peer", &p1_c),
        ("supervisor", &boss_c),
        ("other agency", &disdik),
        ("outsider", &out_c),
    ] {
        let r = cl.put(&part("self"), &ratings(3));
        assert_eq!(r.status, 403, "{who}: {}", r.text);
    }
    let r = x_c.put(&part("self"), &ratings(3));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["self"]["ratings"], ratings(3));
    // Writing a rating leaves the indicators the agency entered.
    assert_eq!(
        c.get(&period).body["indicators"].as_array().unwrap().len(),
        2
    );

    // Supervisor: the holder of the parent position.
    for (who, cl) in [("self", &x_c), ("peer", &p1_c), ("other agency", &disdik)] {
        let r = cl.put(&part("supervisor"), &ratings(2));
        assert_eq!(r.status, 403, "{who}: {}", r.text);
    }
    assert_eq!(boss_c.put(&part("supervisor"), &ratings(2)).status, 200);

    // Peers: assigned by the supervisor, 1–5 of the region, not the employee.
    let peers = format!("{period}/peers");
    for (who, cl) in [("self", &x_c), ("peer", &p1_c)] {
        let r = cl.put(&peers, &json!({"raters": [p1, p2]}));
        assert_eq!(r.status, 403, "{who}: {}", r.text);
    }
    for (body, field) in [
        (json!({"raters": [p1, boss]}), "raters[1]"),
        (json!({"raters": []}), "raters"),
        (json!({"raters": [x]}), "raters[0]"),
        (json!({"raters": [p1, p1]}), "raters[1]"),
        (json!({"raters": ["199912312020121999"]}), "raters[0]"),
        (json!({"raters": [p1], "extra": 1}), "extra"),
    ] {
        let r = boss_c.put(&peers, &body);
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.message().contains(field), "{body}: {}", r.text);
    }
    let r = dinkes.put(&peers, &json!({"raters": [boss]}));
    assert_eq!(
        r.status, 400,
        "the supervisor is no peer, whoever assigns: {}",
        r.text
    );
    let r = boss_c.put(&peers, &json!({"raters": [p1, p2]}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["peers_assigned"], json!([p1, p2]));

    // A peer writes only their own rating, and only when assigned.
    let r = p1_c.put(&part(&format!("peers/{p1}")), &ratings(5));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["mine"]["ratings"], ratings(5));
    assert!(
        r.body.get("self").is_none(),
        "a peer does not see the self-assessment"
    );
    for (who, cl, rater) in [
        ("another's", &p1_c, p2),
        ("unassigned", &out_c, out),
        ("supervisor as a peer", &boss_c, p1),
    ] {
        let r = cl.put(&part(&format!("peers/{rater}")), &ratings(1));
        assert_eq!(r.status, 403, "{who}: {}", r.text);
    }
    let r = dinkes.put(&part(&format!("peers/{out}")), &ratings(1));
    assert_eq!(
        r.status, 400,
        "the agency too names only assigned peers: {}",
        r.text
    );
    let r = x_c.put(&part("self"), &json!({"akuntabel": 6}));
    assert_eq!(r.status, 400, "{}", r.text);

    // What each sees. One peer's rating alone would name its giver: no mean yet.
    let own = x_c.get(&format!("{period}/ratings"));
    assert_eq!(own.status, 200, "{}", own.text);
    assert_eq!(own.body["peers_assigned_count"], 2);
    assert!(own.body.get("peer_mean").is_none(), "{}", own.text);
    assert_eq!(
        p2_c.put(&part(&format!("peers/{p2}")), &ratings(3)).status,
        200
    );
    let own = x_c.get(&format!("{period}/ratings"));
    assert_eq!(own.body["peer_mean"]["raters"], 2, "{}", own.text);
    assert_eq!(own.body["peer_mean"]["mean"]["akuntabel"], 4.0);
    assert_eq!(own.body["supervisor"]["ratings"], ratings(2));
    for hidden in ["peers", "peers_assigned", "mine"] {
        assert!(own.body.get(hidden).is_none(), "{hidden}: {}", own.text);
    }
    assert!(
        !own.text.contains(p1) && !own.text.contains(p2),
        "never who gave which"
    );
    let sup = boss_c.get(&format!("{period}/ratings"));
    assert_eq!(sup.body["peers_assigned"], json!([p1, p2]), "{}", sup.text);
    assert!(sup.body.get("peers").is_none(), "{}", sup.text);
    let peer = p1_c.get(&format!("{period}/ratings"));
    assert_eq!(peer.body["mine"]["ratings"], ratings(5), "{}", peer.text);
    assert!(peer.body.get("supervisor").is_none() && peer.body.get("peer_mean").is_none());
    let refused = out_c.get(&format!("{period}/ratings"));
    assert_eq!(refused.status, 403);
    let missing = out_c.get(&format!(
        "{base}/employees/199912312020121999/periods/2026/ratings"
    ));
    assert_eq!(
        (missing.status, missing.text),
        (403, refused.text.clone()),
        "no NIP probing"
    );
    let r = out_c.put(&part("supervisor"), &ratings(1));
    assert_eq!(r.text, refused.text);
    assert_eq!(disdik.get(&format!("{period}/ratings")).status, 403);
    let central = dinkes.get(&format!("{period}/ratings"));
    assert_eq!(
        central.body["peers"][p1]["ratings"],
        ratings(5),
        "{}",
        central.text
    );
    // The same list again keeps the ratings; a changed list would start over (a mean over
    // the old list beside one over the new would give a rating away).
    assert_eq!(boss_c.put(&peers, &json!({"raters": [p1, p2]})).status, 200);
    assert_eq!(
        x_c.get(&format!("{period}/ratings")).body["peer_mean"]["raters"],
        2
    );

    // The agency rewriting the record keeps the raters' parts.
    assert_eq!(dinkes.put(&period, &period_body()).status, 200);
    let after = dinkes.get(&format!("{period}/ratings"));
    assert_eq!(after.body["self"]["ratings"], ratings(3), "{}", after.text);
    assert_eq!(after.body["peers"].as_object().unwrap().len(), 2);
    // Ratings belong to an SKP the agency entered: none is made up for them.
    let r = x_c.put(
        &format!("{base}/employees/{x}/periods/2025/ratings/self"),
        &ratings(4),
    );
    assert_eq!(r.status, 404, "{}", r.text);
    assert!(r.message().contains("2025"), "{}", r.text);
    assert_eq!(
        c.get(&format!("{base}/employees/{x}/periods/2025")).status,
        404
    );

    // Every write is in the audit, with before and after.
    let audit = c.get("/api/v1/audit?limit=1000");
    for action in [
        "ratings.self",
        "ratings.supervisor",
        "ratings.peers.assign",
        "ratings.peers",
    ] {
        assert!(audit.text.contains(&format!("\"{action}\"")), "{action}");
    }
    let ev = audit.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["action"] == "ratings.supervisor")
        .unwrap();
    assert_eq!(ev["subject"], format!("{x}/2026"));
    assert_eq!(
        ev["detail"]["after"]["ratings"],
        ratings(2),
        "only the part written"
    );
    assert!(!ev["detail"].to_string().contains(p1), "{}", ev["detail"]);

    // Feedback notes: the supervisor writes, the employee reads; the agency does neither.
    let notes = format!("{base}/employees/{x}/feedback");
    let note = json!({"text": "Laporan bulanan tepat waktu.\nPertahankan.",
                      "dialog": {"held_on": "2026-03-02", "outcome": "Target triwulan II disepakati"}});
    for (who, cl) in [
        ("self", &x_c),
        ("peer", &p1_c),
        ("agency", &dinkes),
        ("outsider", &out_c),
    ] {
        let r = cl.post(&notes, &note);
        assert_eq!(r.status, 403, "{who}: {}", r.text);
    }
    let r = boss_c.post(&notes, &note);
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["author_nip"], boss);
    assert_eq!(
        c.post(&notes, &json!({"text": "Catatan admin"})).status,
        201
    );
    for (body, field) in [
        (json!({"text": "x".repeat(4001)}), "text"),
        (json!({"text": "  "}), "text"),
        (
            json!({"text": "ok", "dialog": {"held_on": "2999-01-01", "outcome": "x"}}),
            "dialog.held_on",
        ),
        (
            json!({"text": "ok", "dialog": {"held_on": "2026-01-01"}}),
            "outcome",
        ),
    ] {
        let r = boss_c.post(&notes, &body);
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.message().contains(field), "{body}: {}", r.text);
    }
    let read = x_c.get(&notes);
    assert_eq!(read.status, 200, "{}", read.text);
    let items = read.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{}", read.text);
    assert_eq!(
        items[0]["dialog"]["outcome"],
        "Target triwulan II disepakati"
    );
    assert_eq!(boss_c.get(&notes).status, 200);
    for (who, cl) in [("peer", &p1_c), ("agency", &dinkes), ("outsider", &out_c)] {
        assert_eq!(cl.get(&notes).status, 403, "{who}");
    }
    let audit = c.get("/api/v1/audit?limit=1000");
    assert!(audit.text.contains("\"feedback.add\""), "{}", audit.text);

    // The history of X's record: X reads it without who rated as a peer; the agency all of it.
    let history = format!("{base}/employees/{x}/history?limit=1000");
    let mine = x_c.get(&history);
    assert_eq!(mine.status, 200, "{}", mine.text);
    let actions: Vec<&str> = mine.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for action in [
        "employee.put",
        "period.put",
        "ratings.self",
        "ratings.supervisor",
        "ratings.peers.assign",
        "ratings.peers",
        "feedback.add",
    ] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    assert!(
        !mine.text.contains(p1) && !mine.text.contains(p2),
        "{}",
        mine.text
    );
    let period_put = mine.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|e| e["action"] == "period.put")
        .unwrap();
    assert!(
        period_put["detail"]["before"]["indicators"].is_array(),
        "{period_put}"
    );
    assert!(
        period_put["detail"]["after"]["indicators"].is_array(),
        "{period_put}"
    );
    let all = dinkes.get(&history);
    assert_eq!(all.status, 200, "{}", all.text);
    assert!(all.text.contains(p1), "the agency sees who rated");
    let page = dinkes.get(&format!("{base}/employees/{x}/history?limit=2"));
    let next = page.body["next"].as_str().expect("a next page").to_string();
    let rest = dinkes.get(&format!(
        "{base}/employees/{x}/history?limit=1000&cursor={next}"
    ));
    assert_eq!(
        page.body["items"].as_array().unwrap().len() + rest.body["items"].as_array().unwrap().len(),
        all.body["items"].as_array().unwrap().len()
    );
    for (who, cl) in [
        ("peer", &p1_c),
        ("other agency", &disdik),
        ("outsider", &out_c),
    ] {
        assert_eq!(cl.get(&history).status, 403, "{who}");
    }
    // The supervisor reads the employee's page: record, periods and history, without how
    // the employee signs in and without who the peers were. Reading is not writing, and
    // nobody reads upward.
    let password = format!("{base}/employees/{x}/password");
    let r = dinkes.put(&password, &json!({"password": "sandi-awal-pegawai-2026"}));
    assert_eq!(r.status, 204, "{}", r.text);
    let r = c.anonymous().post(
        "/api/v1/sessions",
        &json!({"region": "jambi", "nip": x, "password": "sandi-awal-pegawai-2026"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let all = dinkes.get(&history);
    for action in ["employee.password.set", "session.open"] {
        assert!(all.text.contains(action), "{action}: {}", all.text);
    }
    // Paged one event at a time, the supervisor's pages cover exactly what one page shows.
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = boss_c.get(&format!("{base}/employees/{x}/history?limit=1{cursor}"));
        assert_eq!(r.status, 200, "{}", r.text);
        paged.extend(
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["seq"].clone()),
        );
        match r.body["next"].as_str() {
            Some(next) => cursor = format!("&cursor={next}"),
            None => break,
        }
    }
    let theirs = boss_c.get(&history);
    assert_eq!(theirs.status, 200, "{}", theirs.text);
    assert!(
        theirs.text.contains("ratings.supervisor"),
        "{}",
        theirs.text
    );
    assert!(
        !theirs.text.contains(p1) && !theirs.text.contains(p2),
        "{}",
        theirs.text
    );
    assert!(
        !theirs.text.contains("employee.password") && !theirs.text.contains("session."),
        "{}",
        theirs.text
    );
    let whole: Vec<_> = theirs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["seq"].clone())
        .collect();
    assert_eq!(paged, whole);
    for path in ["", "/periods", "/periods/2026"] {
        let r = boss_c.get(&format!("{base}/employees/{x}{path}"));
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
    assert_eq!(
        boss_c.get(&format!("{base}/employees/{x}")).body["name"],
        format!("Pegawai {x}")
    );
    let refused = [
        (
            "the supervisor files a report",
            boss_c.post(
                &format!("{base}/employees/{x}/activities"),
                &json!([{"date": "2026-01-05", "description": "x", "minutes": 30}]),
            ),
        ),
        ("upward", x_c.get(&format!("{base}/employees/{boss}"))),
        (
            "upward history",
            x_c.get(&format!("{base}/employees/{boss}/history")),
        ),
        ("a peer", p1_c.get(&format!("{base}/employees/{x}"))),
        (
            "a peer's periods",
            p1_c.get(&format!("{base}/employees/{x}/periods")),
        ),
        (
            "outsider",
            out_c.get(&format!("{base}/employees/{x}/appraisals")),
        ),
    ];
    for (who, r) in refused {
        assert_eq!(r.status, 403, "{who}: {}", r.text);
    }

    // A decision traces back to the writes its input was built from, and to no later one.
    let plugin = c.upload("jambi", wasm("kinerja_plugin_jambi"));
    c.activate("jambi", "appraise", &plugin, json!({}));
    let appraise = || {
        let r = dinkes.post(
            &format!("{base}/appraisals"),
            &json!({"period": "2026", "nips": [x]}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["results"][0]["decision_id"]
            .as_str()
            .unwrap_or_else(|| panic!("{}", r.text))
            .to_string()
    };
    let first = appraise();
    let trace = |cl: &Client, id: &str| cl.get(&format!("/api/v1/decisions/{id}/trace?limit=1000"));
    let t = dinkes.get(&format!("/api/v1/decisions/{first}/trace?limit=1000"));
    assert_eq!(t.status, 200, "{}", t.text);
    let seq = t.body["inputs_read"]["audit_seq"].as_u64().unwrap();
    let writes = |t: &serde_json::Value| -> Vec<(String, u64)> {
        t["writes"]["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["action"].as_str().unwrap().to_string(),
                    e["seq"].as_u64().unwrap(),
                )
            })
            .collect()
    };
    let before = writes(&t.body);
    for action in [
        "employee.put",
        "period.put",
        "ratings.self",
        "ratings.supervisor",
        "ratings.peers.assign",
        "ratings.peers",
    ] {
        assert!(
            before.iter().any(|(a, _)| a == action),
            "{action} in {before:?}"
        );
    }
    assert!(
        before.iter().all(|(a, n)| a != "feedback.add" && *n <= seq),
        "only what feeds the case, up to the read: {before:?}"
    );
    assert!(t.text.contains(p1), "the agency sees who rated");
    // The last write before the read is the agency's rewrite of the record: its `after` is
    // what the case was built from.
    let last = t.body["writes"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .rfind(|e| e["action"] == "period.put")
        .unwrap();
    assert_eq!(
        last["detail"]["after"]["indicators"],
        c.get(&period).body["indicators"]
    );
    let own = trace(&x_c, &first);
    assert_eq!(own.status, 200, "{}", own.text);
    assert!(
        !own.text.contains(p1) && !own.text.contains(p2),
        "{}",
        own.text
    );
    for (who, cl) in [
        ("peer", &p1_c),
        ("outsider", &out_c),
        ("other agency", &disdik),
    ] {
        assert_eq!(trace(cl, &first).status, 403, "{who}");
        let d = cl.get(&format!("/api/v1/decisions/{first}"));
        assert_eq!(d.status, 403, "{who}: {}", d.text);
    }
    // The supervisor reads the decisions of their team, and their traces as the employee does.
    let theirs = trace(&boss_c, &first);
    assert_eq!(theirs.status, 200, "{}", theirs.text);
    assert!(
        !theirs.text.contains(p1) && !theirs.text.contains(p2),
        "{}",
        theirs.text
    );
    assert_eq!(
        boss_c.get(&format!("/api/v1/decisions/{first}")).status,
        200
    );
    let listed = boss_c.get(&format!("{base}/employees/{x}/appraisals"));
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.body["items"][0]["id"], first.as_str());
    assert_eq!(
        boss_c
            .post(&format!("/api/v1/decisions/{first}/replay"), &json!({}))
            .status,
        403
    );
    // A rating written after the appraisal is not in its trace; the next appraisal's has it.
    assert_eq!(x_c.put(&part("self"), &ratings(4)).status, 200);
    assert_eq!(writes(&trace(&dinkes, &first).body), before);
    let second = appraise();
    let after = writes(&trace(&dinkes, &second).body);
    assert_eq!(after.len(), before.len() + 1, "{after:?}");
    assert_eq!(after.last().map(|(a, _)| a.as_str()), Some("ratings.self"));
}

#[test]
fn the_public_answers_a_units_survey_once_per_code_and_appraisals_carry_its_ikm() {
    let s = TestServer::start();
    let c = s.client();
    let base = "/api/v1/regions/tenayan-raya";
    let nips = seed_people(&c, "tenayan-raya", "kelurahan");
    seed_agency(&c, "tenayan-raya", "other");
    // The first employee serves at the loket; the second has no unit.
    let mut body = employee_body("kelurahan", "staf", "2021-03-01");
    body["service_unit"] = json!("loket");
    assert_eq!(
        c.put(&format!("{base}/employees/{}", nips[0]), &body)
            .status,
        200
    );
    let plugin = c.upload("tenayan-raya", wasm("kinerja_plugin_tenayan_raya"));
    c.activate("tenayan-raya", "appraise", &plugin, json!({}));

    let agency = c.with_token(
        &c.issue(json!({"role": "agency", "region": "tenayan-raya", "agency": "kelurahan"})),
    );
    let other = c.with_token(
        &c.issue(json!({"role": "agency", "region": "tenayan-raya", "agency": "other"})),
    );
    let surveys = format!("{base}/agencies/kelurahan/surveys");
    let request = json!({"unit": "loket", "period": "2026", "count": 3});
    assert_eq!(other.post(&surveys, &request).status, 403);
    for (body, field) in [
        (
            json!({"unit": "loket", "period": "2026", "count": 0}),
            "count",
        ),
        (
            json!({"unit": "Loket!", "period": "2026", "count": 1}),
            "unit",
        ),
        (json!({"period": "26", "count": 1}), "period"),
    ] {
        let r = agency.post(&surveys, &body);
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.message().starts_with(field), "{body}: {}", r.text);
    }
    let r = agency.post(&surveys, &request);
    assert_eq!(r.status, 201, "{}", r.text);
    let codes: Vec<String> = r.body["codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 3);
    // Each code's console page, under the issuing region.
    let links: Vec<String> = codes
        .iter()
        .map(|c| format!("/#/survey/tenayan-raya/{c}"))
        .collect();
    assert_eq!(r.body["links"], json!(links));

    // Anyone with a code answers once, without a token.
    let public = c.anonymous();
    let answer = |code: &str, elements: serde_json::Value| {
        public.post(
            &format!("/api/v1/surveys/{code}"),
            &json!({"elements": elements}),
        )
    };
    assert_eq!(
        answer(&codes[0], json!([4, 4, 4, 4, 4, 4, 4, 4, 4])).status,
        204
    );
    // Under the issuing region's prefix (the route a cluster's proxy sends to its node); under
    // another region's, the code is unknown.
    let in_region = |region_base: &str, code: &str| {
        public.post(
            &format!("{region_base}/surveys/{code}"),
            &json!({"elements": [3, 3, 3, 3, 3, 3, 3, 3, 2]}),
        )
    };
    let elsewhere = if base.contains("/jambi") {
        "/api/v1/regions/jakarta"
    } else {
        "/api/v1/regions/jambi"
    };
    assert_eq!(in_region(elsewhere, &codes[1]).status, 404);
    assert_eq!(in_region(base, &codes[1]).status, 204);
    let again = answer(&codes[0], json!([1, 1, 1, 1, 1, 1, 1, 1, 1]));
    assert_eq!(again.status, 400, "a used code: {}", again.text);
    assert!(again.message().contains("used"), "{}", again.text);
    assert_eq!(
        answer("0123456789abcdef", json!([4, 4, 4, 4, 4, 4, 4, 4, 4])).status,
        404
    );
    assert_eq!(
        answer("not-a-code", json!([4, 4, 4, 4, 4, 4, 4, 4, 4])).status,
        404
    );
    for elements in [
        json!([4, 4, 4]),
        json!([5, 4, 4, 4, 4, 4, 4, 4, 4]),
        json!("x"),
    ] {
        let r = answer(&codes[2], elements.clone());
        assert_eq!(r.status, 400, "{elements}: {}", r.text);
        assert!(r.message().starts_with("elements"), "{}", r.text);
    }

    // The agency reads the unit's IKM; the refused answers changed nothing.
    let r = agency.get(&format!(
        "{base}/agencies/kelurahan/ikm?period=2026&unit=loket"
    ));
    assert_eq!(r.status, 200, "{}", r.text);
    let ikm = (3.5 * 8.0 + 3.0) / 9.0;
    assert_eq!(r.body["respondents"], 2);
    assert!(
        (r.body["ikm"].as_f64().unwrap() - ikm).abs() < 1e-9,
        "{}",
        r.text
    );
    assert_eq!(r.body["grade"], "B");
    assert_eq!(
        (
            r.body["codes_issued"].clone(),
            r.body["codes_unused"].clone()
        ),
        (json!(3), json!(1))
    );
    assert_eq!(
        other
            .get(&format!("{base}/agencies/kelurahan/ikm?period=2026"))
            .status,
        403
    );
    let none = agency.get(&format!("{base}/agencies/kelurahan/ikm?period=2026"));
    assert_eq!(
        (none.body["respondents"].clone(), none.body["ikm"].clone()),
        (json!(0), serde_json::Value::Null)
    );

    // The unit's employee is appraised on the measured IKM; the other on the typed figure.
    let r = c.post(
        &format!("{base}/appraisals"),
        &json!({"period": "2026", "nips": [nips[0], nips[1]]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let explanation = |nip: &str| {
        r.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["nip"] == nip)
            .and_then(|x| x["explanation"].as_str())
            .unwrap_or_else(|| panic!("{nip}: {}", r.text))
            .to_string()
    };
    assert!(
        explanation(&nips[0]).contains(&format!("IKM {ikm} ×")),
        "{}",
        explanation(&nips[0])
    );
    assert!(
        explanation(&nips[1]).contains("IKM 3.41 ×"),
        "{}",
        explanation(&nips[1])
    );
    let audit = c.get("/api/v1/audit?limit=1000");
    for action in ["survey.issue", "survey.answer"] {
        assert!(audit.text.contains(&format!("\"{action}\"")), "{action}");
    }
}

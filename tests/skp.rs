//! End to end over HTTP: the SKP year. The employee plans and submits, the supervisor sets
//! expectations and approves or returns, realizations are written month by month while the SKP
//! is approved, appraisals of any period read that period's targets and realizations (and run
//! only on approved SKPs), the annual appraisal locks it, and only the supervisor reopens it.

use kinerja_tests::*;
use serde_json::{json, Value};

const BASE: &str = "/api/v1/regions/jambi";
const BOSS: &str = "197001011995031001";
const X: &str = "199001012015012004";
const PEER: &str = "199202022018012005";

fn setup() -> (TestServer, Client) {
    let s = TestServer::start();
    let c = s.client();
    seed_chart(
        &c,
        &[
            (BOSS, "dinkes", "kepala"),
            (X, "dinkes", "pelaksana"),
            (PEER, "dinkes", "pelaksana"),
        ],
    );
    (s, c)
}

fn emp(c: &Client, nip: &str) -> Client {
    c.with_token(&c.issue(json!({"role": "employee", "region": "jambi", "nip": nip})))
}

fn plan(docs_target: u32) -> Value {
    json!({"rhk": [
        {"id": "rhk-1", "text": "Tersusunnya laporan pelayanan kesehatan",
         "indicators": [
            {"id": "docs", "name": "Laporan tersusun", "kind": "utama",
             "direction": "higher_is_better", "unit": "dokumen", "target": docs_target},
            {"id": "rate", "name": "Kepuasan layanan", "kind": "utama",
             "direction": "higher_is_better", "unit": "persen", "target": 90,
             "accumulation": "level"}]}]})
}

/// The Jambi appraisal of X: its result's capaian, or the reason it was skipped.
fn appraise(c: &Client, period: &str) -> Result<f64, String> {
    let r = c.post(
        &format!("{BASE}/appraisals"),
        &json!({"period": period, "nips": [X]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    if let Some(s) = r.body["skipped"].as_array().and_then(|s| s.first()) {
        return Err(s["reason"].as_str().unwrap_or_default().to_string());
    }
    Ok(r.body["results"][0]["components"]
        .as_array()
        .and_then(|cs| cs.iter().find(|x| x["name"] == "capaian"))
        .and_then(|x| x["value"].as_f64())
        .unwrap_or_else(|| panic!("{}", r.text)))
}

#[test]
fn the_skp_moves_through_its_states_and_appraisals_read_its_months() {
    let (_s, c) = setup();
    let (x, boss, peer) = (emp(&c, X), emp(&c, BOSS), emp(&c, PEER));
    let disdik =
        c.with_token(&c.issue(json!({"role": "agency", "region": "jambi", "agency": "disdik"})));
    let dinkes =
        c.with_token(&c.issue(json!({"role": "agency", "region": "jambi", "agency": "dinkes"})));
    let skp = format!("{BASE}/employees/{X}/skp/2026");
    let step = |cl: &Client, what: &str, body: Value| cl.post(&format!("{skp}/{what}"), &body);
    // Every move the state does not allow is a 409 naming the state, and changes nothing.
    let refuses = |state: &str, moves: &[&str]| {
        for what in moves {
            let (cl, body) = match *what {
                "submit" => (&x, json!({})),
                "return" => (&boss, json!({"note": "x"})),
                _ => (&boss, json!({})),
            };
            let before = x.get(&skp).body;
            let r = step(cl, what, body);
            assert_eq!(r.status, 409, "{what} while {state}: {}", r.text);
            assert!(
                r.message().contains(state),
                "{what} while {state}: {}",
                r.text
            );
            assert_eq!(x.get(&skp).body, before, "{what} while {state}");
        }
        assert_eq!(x.get(&skp).body["state"], state);
    };
    let real = |m: &str| format!("{skp}/realizations/{m}");
    let ev = format!("{skp}/indicators/docs/evidence");
    // Realizations and evidence wait for the approval.
    let unapproved = |state: &str| {
        let r = x.put(&real("03"), &json!({"indicators": {"docs": 1}}));
        assert_eq!(r.status, 409, "a realization while {state}: {}", r.text);
        assert!(r.message().contains(state), "{}", r.text);
        let r = x.post(&ev, &json!({"link": "https://x.id/a"}));
        assert_eq!(r.status, 409, "evidence while {state}: {}", r.text);
        assert!(r.message().contains(state), "{}", r.text);
    };
    // The agency's period record carries the ratings; the SKP will carry the indicators.
    let mut ratings_only = period_body();
    ratings_only["indicators"] = json!([]);
    let r = c.put(&format!("{BASE}/employees/{X}/periods/2026"), &ratings_only);
    assert_eq!(r.status, 200, "{}", r.text);

    // Planning: the employee (or the agency), nobody else; a bad plan names its field.
    for (who, cl) in [
        ("supervisor", &boss),
        ("peer", &peer),
        ("other agency", &disdik),
    ] {
        assert_eq!(cl.put(&skp, &plan(24)).status, 403, "{who}");
    }
    let mut bad = plan(24);
    bad["rhk"][0]["indicators"][1]["id"] = json!("docs");
    let r = x.put(&skp, &bad);
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.message().contains("rhk[0].indicators[1].id"),
        "{}",
        r.text
    );
    for y in ["1999", "20x6"] {
        let r = x.put(&format!("{BASE}/employees/{X}/skp/{y}"), &plan(24));
        assert_eq!(r.status, 400, "{y}: {}", r.text);
    }
    let r = x.put(&skp, &plan(12));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "draft");
    assert_eq!(peer.get(&skp).status, 403);
    assert_eq!(boss.get(&skp).status, 200);

    // A draft is not appraised; its illegal moves name its state.
    let reason = appraise(&c, "2026").unwrap_err();
    assert!(reason.contains("SKP 2026 is draft"), "{reason}");
    // Once there is an SKP it is what is appraised, whatever a period record holds.
    let mut central = period_body();
    for f in ["innovations", "working_days"] {
        central.as_object_mut().unwrap().remove(f);
    }
    let q4 = format!("{BASE}/employees/{X}/periods/2026-Q4");
    // Indicators beside the SKP would never be read: refused, naming where they go.
    let r = c.put(&q4, &central);
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.message().contains("has an SKP for 2026:"), "{}", r.text);
    assert!(r.message().contains("/skp/2026/realizations"), "{}", r.text);
    assert_eq!(c.get(&q4).status, 404, "nothing stored");
    central["indicators"] = json!([]);
    let r = c.put(&q4, &central);
    assert_eq!(r.status, 200, "{}", r.text);
    let reason = appraise(&c, "2026-Q4").unwrap_err();
    assert!(reason.contains("SKP 2026 is draft"), "{reason}");
    refuses("draft", &["approve", "return", "reopen"]);
    unapproved("draft");

    // The supervisor's expectations, then submit; the plan is frozen while submitted.
    let exp = format!("{skp}/expectations");
    let r = boss.put(&exp, &json!({"rhk-9": "?"}));
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.message().contains("rhk-9"), "{}", r.text);
    assert_eq!(x.put(&exp, &json!({"rhk-1": "Tepat waktu"})).status, 403);
    let r = boss.put(&exp, &json!({"rhk-1": "Laporan tepat waktu dan lengkap"}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(peer.post(&format!("{skp}/submit"), &json!({})).status, 403);
    let r = step(&x, "submit", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "submitted");
    let r = x.put(&skp, &plan(24));
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.message().contains("submitted"), "{}", r.text);
    refuses("submitted", &["submit", "reopen"]);
    unapproved("submitted");
    let r = boss.put(&exp, &json!({"rhk-1": "Laporan tepat waktu dan lengkap"}));
    assert_eq!(
        r.status, 200,
        "the supervisor's expectations, while submitted: {}",
        r.text
    );

    // Returned with a note (which it needs), corrected, submitted, approved.
    assert_eq!(step(&x, "approve", json!({})).status, 403, "not one's own");
    assert_eq!(step(&boss, "return", json!({})).status, 400);
    let r = step(
        &boss,
        "return",
        json!({"note": "Target laporan terlalu rendah"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "returned");
    assert_eq!(
        r.body["history"]
            .as_array()
            .and_then(|h| h.last())
            .map(|t| &t["note"]),
        Some(&json!("Target laporan terlalu rendah")),
        "{}",
        r.text
    );
    refuses("returned", &["approve", "return", "reopen"]);
    unapproved("returned");
    assert_eq!(x.put(&skp, &plan(24)).status, 200);
    assert_eq!(step(&x, "submit", json!({})).status, 200);
    let r = step(&boss, "approve", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "approved");
    assert_eq!(
        r.body["expectations"]["rhk-1"],
        "Laporan tepat waktu dan lengkap"
    );
    refuses("approved", &["submit", "approve", "return"]);
    let r = x.put(&skp, &plan(36));
    assert_eq!(r.status, 409, "the plan while approved: {}", r.text);
    assert!(r.message().contains("approved"), "{}", r.text);

    // Realizations by month, while the month is open.
    for (m, body, field) in [
        ("13", json!({"indicators": {"docs": 1}}), "month"),
        ("03", json!({"indicators": {"nope": 1}}), "indicators.nope"),
        ("03", json!({"indicators": {"docs": -1}}), "indicators.docs"),
        ("03", json!({"indicators": {}}), "indicators"),
    ] {
        let r = x.put(&real(m), &body);
        assert_eq!(r.status, 400, "{m} {body}: {}", r.text);
        assert!(r.message().contains(field), "{m} {body}: {}", r.text);
    }
    assert_eq!(
        boss.put(&real("03"), &json!({"indicators": {"docs": 3}}))
            .status,
        403
    );
    for (m, docs, rate) in [("01", 2, 80), ("02", 1, 85), ("03", 3, 92)] {
        let r = x.put(
            &real(m),
            &json!({"indicators": {"docs": docs, "rate": rate}}),
        );
        assert_eq!(r.status, 200, "{m}: {}", r.text);
    }
    // Evidence (bukti dukung): links, and PDF, PNG or JPEG files told by their content.
    let r = x.post(
        &ev,
        &json!({"link": "https://drive.example.go.id/laporan-maret.pdf", "month": "03"}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    for (body, field) in [
        (json!({"link": "javascript:alert(1)"}), "link"),
        (json!({"link": "https://x.id/a b"}), "link"),
        (json!({"link": "https://x.id/a", "month": "13"}), "month"),
        (json!({"link": "https://x.id/a", "month": "+3"}), "month"),
    ] {
        let r = x.post(&ev, &body);
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.message().contains(field), "{body}: {}", r.text);
    }
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n".to_vec();
    let r = x.post_raw(
        &format!("{ev}?month=03&name=Laporan%20Maret"),
        "application/pdf",
        pdf.clone(),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let file = r.body["evidence"]["docs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["sha256"].is_string())
        .unwrap()
        .clone();
    assert_eq!(
        (file["content_type"].as_str(), file["name"].as_str()),
        (Some("application/pdf"), Some("Laporan Maret"))
    );
    let r = x.post_raw(&ev, "image/png", pdf.clone());
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.message()
            .contains("declared image/png, but its content is application/pdf"),
        "{}",
        r.text
    );
    let r = x.post_raw(&ev, "text/plain", b"hello".to_vec());
    assert_eq!(r.status, 415, "{}", r.text);
    assert!(r.message().contains("got `text/plain`"), "{}", r.text);
    let mut big = pdf.clone();
    big.resize(2 * 1024 * 1024 + 10, b' ');
    let r = x.post_raw(&ev, "application/pdf", big);
    assert_eq!(r.status, 413, "{}", r.text);
    assert!(r.message().contains("2097152"), "{}", r.text);
    // Pictures too; a file is kept once by its content, whichever indicators name it.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR foto kegiatan".to_vec();
    let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], b"JFIF foto rapat"].concat();
    let mut shas = Vec::new();
    for (iki, kind, bytes) in [
        ("rate", "image/png", &png),
        ("rate", "image/jpeg", &jpeg),
        ("docs", "image/png", &png),
    ] {
        let r = x.post_raw(
            &format!("{skp}/indicators/{iki}/evidence?month=03"),
            kind,
            bytes.clone(),
        );
        assert_eq!(r.status, 201, "{kind}: {}", r.text);
        let sha = r.body["evidence"][iki].as_array().unwrap().last().unwrap()["sha256"]
            .as_str()
            .unwrap()
            .to_string();
        let got = boss.get(&format!("{skp}/evidence/{sha}"));
        assert_eq!((got.status, got.header("content-type")), (200, kind));
        shas.push(sha);
    }
    assert_eq!(shas[0], shas[2], "one file, named twice");
    // A case carries how many pieces back each indicator's realization in its period.
    let cases = c.cases_sent("jambi", "2026-03", &[X]);
    let evidence: Vec<(String, Value)> = cases[0]["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap().to_string(), i["evidence"].clone()))
        .collect();
    assert_eq!(
        evidence,
        [
            ("docs".to_string(), json!(3)),
            ("rate".to_string(), json!(2))
        ],
        "{cases:?}"
    );
    let r = x.post(
        &format!("{skp}/indicators/nope/evidence"),
        &json!({"link": "https://x.id/a"}),
    );
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.message().contains("nope"), "{}", r.text);
    assert_eq!(
        peer.post(&ev, &json!({"link": "https://x.id/a"})).status,
        403
    );
    // The supervisor reads it when rating; nobody outside the relationship does.
    let path = format!("{skp}/evidence/{}", file["sha256"].as_str().unwrap());
    let r = boss.get(&path);
    assert_eq!(r.status, 200);
    assert_eq!(r.text.as_bytes(), pdf.as_slice());
    assert_eq!(r.header("content-type"), "application/pdf");
    assert!(r.header("content-disposition").starts_with("attachment;"));
    assert_eq!(r.header("x-content-type-options"), "nosniff");
    assert_eq!(peer.get(&path).status, 403);
    assert_eq!(
        boss.get(&format!("{skp}/evidence/{}", "0".repeat(64)))
            .status,
        404
    );
    assert_eq!(boss.get(&format!("{skp}/evidence/zz")).status, 400);

    // A year's evidence, not an archive: 64 MiB of files per SKP; the next one is 413.
    let file = |i: usize| {
        let mut f = format!("%PDF-1.4\n% bukti {i}\n").into_bytes();
        f.resize(2 * 1024 * 1024, b' ');
        f
    };
    // Beside the small file, 31 of 2 MiB fit; a 32nd would take the SKP past 64 MiB.
    let mut last = String::new();
    for i in 0..31 {
        let iki = if i < 25 { "rate" } else { "docs" };
        let r = x.post_raw(
            &format!("{skp}/indicators/{iki}/evidence"),
            "application/pdf",
            file(i),
        );
        assert_eq!(r.status, 201, "file {i}: {}", r.text);
        last = r.body["evidence"][iki].as_array().unwrap().last().unwrap()["sha256"]
            .as_str()
            .unwrap()
            .to_string();
    }
    let r = x.post_raw(
        &format!("{skp}/indicators/docs/evidence"),
        "application/pdf",
        file(99),
    );
    assert_eq!(r.status, 413, "{}", r.text);
    assert!(
        r.message().contains("bytes of evidence files"),
        "{}",
        r.text
    );
    // Taking a piece off frees its room: only the employee (or the agency) may, by its file's
    // SHA-256 or its link.
    let rm = format!("{skp}/indicators/docs/evidence?sha256={last}");
    assert_eq!(peer.delete(&rm).status, 403);
    assert_eq!(boss.delete(&rm).status, 403);
    let r = x.delete(&rm);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(x.delete(&rm).status, 404, "removed once");
    assert_eq!(boss.get(&format!("{skp}/evidence/{last}")).status, 404);
    let r = x.post_raw(
        &format!("{skp}/indicators/docs/evidence"),
        "application/pdf",
        file(99),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    for query in ["", "?sha256=zz", "?sha256=00&link=x"] {
        let r = x.delete(&format!("{skp}/indicators/docs/evidence{query}"));
        assert_eq!(r.status, 400, "{query}: {}", r.text);
    }
    let link = "https%3A%2F%2Fdrive.example.go.id%2Flaporan-maret.pdf";
    let r = x.delete(&format!("{skp}/indicators/docs/evidence?link={link}"));
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(!r.text.contains("laporan-maret"), "{}", r.text);

    // A region with the default window: January 2026 is long closed.
    assert_eq!(c.put(&format!("{BASE}/reporting"), &json!({})).status, 200);
    let r = x.put(&real("01"), &json!({"indicators": {"docs": 9}}));
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(r.message().contains("2026-01 is not open"), "{}", r.text);
    assert_eq!(
        c.put(
            &format!("{BASE}/reporting"),
            &json!({"window_months": WIDE_WINDOW_MONTHS})
        )
        .status,
        200
    );

    // March alone (target 24/12 = 2, done 3) is well ahead; the year so far (target 24, done
    // 6) is far behind. The month has no record of its own: the year's ratings stand for it.
    // What each period's case carries (docs/skp.md's worked example, read end to end): a
    // `sum` indicator adds its months against the year's target pro rata; a `level` one
    // takes its latest month against the year's target.
    for (period, docs, rate) in [
        ("2026-03", (2.0, 3.0), (90.0, 92.0)),
        ("2026-Q1", (6.0, 6.0), (90.0, 92.0)),
        ("2026", (24.0, 6.0), (90.0, 92.0)),
    ] {
        let cases = c.cases_sent("jambi", period, &[X]);
        let got: Vec<(f64, f64)> = cases[0]["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                (
                    i["target"].as_f64().unwrap(),
                    i["realization"].as_f64().unwrap(),
                )
            })
            .collect();
        assert_eq!(got, [docs, rate], "{period}: {cases:?}");
    }
    let march = appraise(&c, "2026-03").expect("march appraised");
    let q1 = appraise(&c, "2026-Q1").expect("Q1 appraised");
    let year = appraise(&c, "2026").expect("the year appraised");
    assert!(march > q1 && q1 > year, "{march} {q1} {year}");

    // The annual appraisal locked it: no more realizations; the supervisor alone reopens.
    let r = x.get(&skp);
    assert_eq!(r.body["state"], "locked", "{}", r.text);
    let r = x.put(&real("04"), &json!({"indicators": {"docs": 1}}));
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.message().contains("locked"), "{}", r.text);
    refuses("locked", &["submit", "approve", "return"]);
    let r = x.put(&skp, &plan(36));
    assert_eq!(r.status, 409, "the plan while locked: {}", r.text);
    assert!(r.message().contains("locked"), "{}", r.text);
    for (who, cl) in [("self", &x), ("agency", &dinkes), ("admin", &c)] {
        assert_eq!(step(cl, "reopen", json!({})).status, 403, "{who}");
    }
    let r = step(&boss, "reopen", json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "draft");
    let states: Vec<(String, String)> = r.body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["action"].as_str().unwrap().into(),
                t["to"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        states,
        [
            ("submit", "submitted"),
            ("return", "returned"),
            ("submit", "submitted"),
            ("approve", "approved"),
            ("reopen", "draft")
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // The head of the agency has no supervisor: the agency reopens theirs.
    let top = format!("{BASE}/employees/{BOSS}/skp/2026");
    assert_eq!(boss.put(&top, &plan(12)).status, 200);
    assert_eq!(boss.post(&format!("{top}/submit"), &json!({})).status, 200);
    assert_eq!(
        dinkes.post(&format!("{top}/approve"), &json!({})).status,
        200
    );
    assert_eq!(boss.post(&format!("{top}/reopen"), &json!({})).status, 403);
    let r = dinkes.post(&format!("{top}/reopen"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);

    // Every write is in the employee's history, by whom.
    let history = dinkes.get(&format!("{BASE}/employees/{X}/history?limit=1000"));
    for action in [
        "skp.plan",
        "skp.expectations",
        "skp.submit",
        "skp.return",
        "skp.approve",
        "skp.realization",
        "skp.evidence",
        "skp.evidence.remove",
        "skp.reopen",
    ] {
        assert!(history.text.contains(&format!("\"{action}\"")), "{action}");
    }
}

//! End to end over HTTP: honest daily reports. No report after today or before the region's
//! window; every report pending until its supervisor (or the agency) approves it; only approved
//! reports, and only days reaching the region's minimum minutes, count into an appraisal.

use kinerja::domain::date::Date;
use kinerja::domain::reporting::ReportingRules;
use kinerja_tests::*;
use serde_json::{json, Value};

const BASE: &str = "/api/v1/regions/jambi";
const BOSS: &str = "197001011995031001";
const X: &str = "199001012015012004";
const PEER: &str = "199202022018012005";
const OUT: &str = "198503122010011001";

/// Today in Jakarta, as the server judges it.
fn wib_today() -> Date {
    today().parse().expect("a date")
}

/// A month the default window holds open today, and up to three of its weekdays not after
/// today (newest first): the days an honest report may still be written for.
fn open_days() -> (String, Vec<Date>) {
    let today = wib_today();
    let earliest = ReportingRules::default().earliest(today);
    let mut d = today;
    while !d.is_weekday() {
        d = Date::from_days(d.to_days() - 1);
    }
    let month = (d.year, d.month);
    let mut days = Vec::new();
    while days.len() < 3 && d >= earliest && (d.year, d.month) == month {
        if d.is_weekday() {
            days.push(d);
        }
        d = Date::from_days(d.to_days() - 1);
    }
    (format!("{:04}-{:02}", month.0, month.1), days)
}

/// Dinkes with a Kepala (BOSS) over three staff (X, PEER, and OUT in another agency), and the
/// Jambi plugin active.
fn setup() -> (TestServer, Client) {
    let s = TestServer::start();
    let c = s.client();
    seed_chart(
        &c,
        &[
            (BOSS, "dinkes", "kepala"),
            (X, "dinkes", "pelaksana"),
            (PEER, "dinkes", "pelaksana"),
            (OUT, "disdik", "disdik-staf"),
        ],
    );
    (s, c)
}

fn emp(c: &Client, nip: &str) -> Client {
    c.with_token(&c.issue(json!({"role": "employee", "region": "jambi", "nip": nip})))
}

fn reports_of(nip: &str) -> String {
    format!("{BASE}/employees/{nip}/activities")
}

fn report(date: Date, minutes: u32) -> Value {
    json!({"date": date.to_string(), "description": "Menyusun laporan", "minutes": minutes})
}

fn ids(r: &Resp) -> Vec<u64> {
    r.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.text))
        .iter()
        .map(|a| a["id"].as_u64().unwrap())
        .collect()
}

/// The Jambi appraisal of X for `period`: its predikat and reporting component q.
fn appraise(c: &Client, period: &str) -> (String, f64) {
    let r = c.post(
        &format!("{BASE}/appraisals"),
        &json!({"period": period, "nips": [X]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let res = &r.body["results"][0];
    let q = res["components"]
        .as_array()
        .and_then(|cs| cs.iter().find(|x| x["name"] == "reporting"))
        .and_then(|x| x["value"].as_f64())
        .unwrap_or_else(|| panic!("{}", r.text));
    (res["predikat"].as_str().unwrap().to_string(), q)
}

/// The exploit a review found: with her own token an employee back-dated 64 one-minute
/// reports and her predikat went from butuh perbaikan to baik. Now back-dated reports outside
/// the window are refused and nothing is stored, reports inside it count only once her
/// supervisor approves them, and a day needs the region's minimum minutes.
#[test]
fn back_dated_reports_no_longer_change_the_predikat() {
    let (_s, c) = setup();
    // The server's defaults: until the 5th of the next month, WIB, one minute a day.
    let rules = c.put(&format!("{BASE}/reporting"), &json!({}));
    assert_eq!(rules.status, 200, "{}", rules.text);
    assert_eq!(rules.body["close_day"], 5);
    let (month, days) = open_days();
    // Only the reporting is under test: no innovation of another month.
    let record = |working_days: usize| {
        let mut record = period_body();
        record["working_days"] = json!(working_days);
        record.as_object_mut().unwrap().remove("innovations");
        record
    };
    let r = c.put(
        &format!("{BASE}/employees/{X}/periods/{month}"),
        &record(days.len()),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    let (before, q) = appraise(&c, &month);
    assert_eq!((before.as_str(), q), ("butuh_perbaikan", 0.0));

    // The exploit as it was: a month whose window has closed, appraised with no report, then
    // 64 one-minute reports back-dated over it (its last day and the 63 before).
    let closed_end = Date::from_days(ReportingRules::default().earliest(wib_today()).to_days() - 1);
    let closed = format!("{:04}-{:02}", closed_end.year, closed_end.month);
    let weekdays = (1..=31)
        .filter_map(|d| Date::new(closed_end.year, closed_end.month, d))
        .filter(|d| d.is_weekday())
        .count();
    let r = c.put(
        &format!("{BASE}/employees/{X}/periods/{closed}"),
        &record(weekdays),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(appraise(&c, &closed), ("butuh_perbaikan".to_string(), 0.0));
    let x = emp(&c, X);
    let old: Vec<Value> = (0..64)
        .map(|i| report(Date::from_days(closed_end.to_days() - i), 1))
        .collect();
    let r = x.post(&reports_of(X), &json!(old));
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.message().contains("[0].date") && r.message().contains("reporting window"),
        "{}",
        r.text
    );
    assert_eq!(
        appraise(&c, &closed),
        ("butuh_perbaikan".to_string(), 0.0),
        "the back-dated reports changed nothing"
    );
    let future = Date::from_days(wib_today().to_days() + 2);
    let r = x.post(&reports_of(X), &report(future, 60));
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.message().contains("date") && r.message().contains("after today"),
        "{}",
        r.text
    );
    assert_eq!(
        x.get(&reports_of(X)).body["items"],
        json!([]),
        "nothing stored"
    );

    // Honest reports of the open days: pending, so nothing changes yet.
    let body: Vec<Value> = days.iter().map(|d| report(*d, 1)).collect();
    let r = x.post(&reports_of(X), &json!(body));
    assert_eq!(r.status, 201, "{}", r.text);
    assert!(r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["state"] == "pending"));
    let pending = ids(&r);
    assert_eq!(appraise(&c, &month).0, "butuh_perbaikan");

    // The employee cannot approve her own; her supervisor can, in bulk.
    let approve = |cl: &Client, ids: &[u64]| {
        cl.post(
            &format!("{BASE}/activities/approve"),
            &json!({ "ids": ids }),
        )
    };
    let r = approve(&x, &pending);
    assert_eq!(r.status, 403, "{}", r.text);
    let boss = emp(&c, BOSS);
    let r = approve(&boss, &pending);
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|a| a["state"] == "approved" && a["decided_by"].is_string()));
    let (after, q) = appraise(&c, &month);
    assert_eq!((after.as_str(), q), ("baik", 1.0));

    // A region that asks for an hour a day no longer counts one-minute days.
    let r = c.put(
        &format!("{BASE}/reporting"),
        &json!({"min_minutes_per_day": 60}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(appraise(&c, &month).0, "butuh_perbaikan");
    let activities = |c: &Client| c.cases_sent("jambi", &month, &[X])[0]["activities"].clone();
    assert_eq!(
        activities(&c),
        json!({"days_reported": 0, "minutes_reported": days.len()})
    );

    // A day counts once its approved reports add up to the minimum; a rejected report adds
    // nothing, however long.
    let r = x.post(
        &reports_of(X),
        &json!([
            report(days[0], 30),
            report(days[0], 29),
            report(days[0], 240)
        ]),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let [a, b, long] = ids(&r)[..] else {
        panic!("{}", r.text)
    };
    let r = boss.post(
        &format!("{}/{long}/reject", reports_of(X)),
        &json!({"note": "Empat jam untuk satu laporan terlalu lama"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        activities(&c),
        json!({"days_reported": 0, "minutes_reported": days.len()}),
        "pending and rejected reports count nothing"
    );
    assert_eq!(approve(&boss, &[a, b]).status, 200);
    assert_eq!(
        activities(&c),
        json!({"days_reported": 1, "minutes_reported": days.len() + 59})
    );
    let audit = c.get("/api/v1/audit?limit=1000");
    for action in ["report.approve", "region.reporting"] {
        assert!(audit.text.contains(&format!("\"{action}\"")), "{action}");
    }
}

/// Only the supervisor, the agency and the administrators decide; the employee corrects or
/// withdraws while pending; every decided report stays as decided.
#[test]
fn reports_are_reviewed_by_the_supervisor_and_stay_as_decided() {
    let (_s, c) = setup();
    let (x, boss, peer, out) = (emp(&c, X), emp(&c, BOSS), emp(&c, PEER), emp(&c, OUT));
    let dinkes =
        c.with_token(&c.issue(json!({"role": "agency", "region": "jambi", "agency": "dinkes"})));
    let disdik =
        c.with_token(&c.issue(json!({"role": "agency", "region": "jambi", "agency": "disdik"})));
    let day = |s: &str| s.parse::<Date>().unwrap();
    let r = x.post(
        &reports_of(X),
        &json!([
            report(day("2026-03-02"), 90),
            report(day("2026-03-03"), 30),
            report(day("2026-03-04"), 45)
        ]),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let [a, b, d] = ids(&r)[..] else {
        panic!("{}", r.text)
    };
    let one = |id: u64, what: &str| format!("{}/{id}/{what}", reports_of(X));

    // Who may decide: the supervisor and the agency; not the employee, a peer, another
    // agency, nor an employee of the region outside the chart (told as for a missing NIP).
    for (who, cl) in [
        ("self", &x),
        ("peer", &peer),
        ("other agency", &disdik),
        ("outsider", &out),
    ] {
        let r = cl.post(&one(a, "approve"), &json!({}));
        assert_eq!(r.status, 403, "{who}: {}", r.text);
    }
    let unknown = out.post(
        &format!("{BASE}/employees/199912312020121999/activities/{a}/approve"),
        &json!({}),
    );
    let refused = peer.post(&one(a, "approve"), &json!({}));
    assert_eq!(
        (unknown.status, unknown.text),
        (403, refused.text),
        "no NIP probing"
    );
    // Reading: the employee, the supervisor, the agency; not a peer.
    assert_eq!(boss.get(&reports_of(X)).status, 200);
    assert_eq!(peer.get(&reports_of(X)).status, 403);
    assert_eq!(disdik.get(&reports_of(X)).status, 403);

    let r = boss.post(&one(a, "approve"), &json!({}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["state"], "approved");
    // A rejection needs its note.
    for body in [
        json!({}),
        json!({"note": "  "}),
        json!({"note": "x".repeat(1001)}),
    ] {
        let r = boss.post(&one(b, "reject"), &body);
        assert_eq!(r.status, 400, "{body}: {}", r.text);
    }
    let r = dinkes.post(&one(b, "reject"), &json!({"note": "Uraian kurang rinci"}));
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["state"].clone(), r.body["note"].clone()),
        (json!("rejected"), json!("Uraian kurang rinci"))
    );

    // Decided reports stay as decided: no second verdict, no correction, no withdrawal.
    for (id, state) in [(a, "approved"), (b, "rejected")] {
        let r = boss.post(&one(id, "approve"), &json!({}));
        assert_eq!(r.status, 409, "{}", r.text);
        assert!(r.message().contains(state), "{}", r.text);
        let r = x.put(
            &format!("{}/{id}", reports_of(X)),
            &report(day("2026-03-05"), 60),
        );
        assert_eq!(r.status, 409, "{}", r.text);
        let r = x.delete(&format!("{}/{id}", reports_of(X)));
        assert_eq!(r.status, 409, "{}", r.text);
    }
    // A pending one is corrected (a new date under the same id) or withdrawn.
    let r = x.put(
        &format!("{}/{d}", reports_of(X)),
        &report(day("2026-03-06"), 60),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        (r.body["id"].as_u64(), r.body["date"].as_str()),
        (Some(d), Some("2026-03-06"))
    );
    let r = x.put(
        &format!("{}/{d}", reports_of(X)),
        &report(Date::from_days(wib_today().to_days() + 2), 60),
    );
    assert_eq!(
        r.status, 400,
        "a correction obeys the same rules: {}",
        r.text
    );
    assert_eq!(peer.delete(&format!("{}/{d}", reports_of(X))).status, 403);
    assert_eq!(x.delete(&format!("{}/{d}", reports_of(X))).status, 204);
    assert_eq!(x.delete(&format!("{}/{d}", reports_of(X))).status, 404);

    // A day holds at most 1,440 minutes of pending and approved reports.
    let r = x.post(
        &reports_of(X),
        &json!([
            report(day("2026-03-10"), 1000),
            report(day("2026-03-10"), 500)
        ]),
    );
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.message().contains("[1].minutes") && r.message().contains("1440"),
        "{}",
        r.text
    );

    // Listing by state.
    let listed = |state: &str| {
        let r = boss.get(&format!("{}?state={state}", reports_of(X)));
        assert_eq!(r.status, 200, "{}", r.text);
        ids(&r)
    };
    assert_eq!(
        (listed("approved"), listed("rejected"), listed("pending")),
        (vec![a], vec![b], vec![])
    );

    // Bulk approval is all or none, naming the id that stops it.
    let more = x.post(&reports_of(X), &json!([report(day("2026-03-09"), 60)]));
    let p_more = peer.post(&reports_of(PEER), &json!([report(day("2026-03-09"), 60)]));
    let o_more = out.post(&reports_of(OUT), &json!([report(day("2026-03-09"), 60)]));
    let (m, pm, om) = (ids(&more)[0], ids(&p_more)[0], ids(&o_more)[0]);
    let bulk = |cl: &Client, body: Value| cl.post(&format!("{BASE}/activities/approve"), &body);
    let r = bulk(&boss, json!({"ids": [m, om]}));
    assert_eq!(r.status, 403, "{}", r.text);
    assert!(r.message().contains(&format!("report {om}")), "{}", r.text);
    let r = bulk(&boss, json!({"ids": [m, 999_999]}));
    assert_eq!(r.status, 404, "{}", r.text);
    assert!(r.message().contains("999999"), "{}", r.text);
    let r = bulk(&boss, json!({"ids": [m, a]}));
    assert_eq!(r.status, 409, "{}", r.text);
    assert!(r.message().contains(&a.to_string()), "{}", r.text);
    for (body, field) in [
        (json!({"ids": []}), "ids"),
        (json!({"ids": [m, m]}), "ids[1]"),
    ] {
        let r = bulk(&boss, body.clone());
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.message().contains(field), "{}", r.text);
    }
    assert_eq!(
        listed("pending"),
        vec![m],
        "nothing approved by the refused calls"
    );
    let r = bulk(&boss, json!({"ids": [m, pm]}));
    assert_eq!(r.status, 200, "{}", r.text);

    // The rules: the region's admin sets them, anyone of the region reads them.
    let rules = format!("{BASE}/reporting");
    for (who, cl) in [("employee", &x), ("agency", &dinkes)] {
        assert_eq!(
            cl.put(&rules, &json!({"close_day": 10})).status,
            403,
            "{who}"
        );
    }
    assert_eq!(x.get(&rules).status, 200);
    let region_admin = c.with_token(&c.issue(json!({"role": "region_admin", "region": "jambi"})));
    for (body, field) in [
        (json!({"close_day": 29}), "close_day"),
        (json!({"time_zone": "Europe/Berlin"}), "time_zone"),
        (
            json!({"auto_approve_after_days": 0}),
            "auto_approve_after_days",
        ),
        (json!({"window": 2}), "window"),
    ] {
        let r = region_admin.put(&rules, &body);
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(r.message().contains(field), "{body}: {}", r.text);
    }
    let r = region_admin.put(
        &rules,
        &json!({"time_zone": "Asia/Jayapura", "auto_approve_after_days": 3}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(c.get(&rules).body["time_zone"], "Asia/Jayapura");
    let history = dinkes.get(&format!("{BASE}/employees/{X}/history?limit=100"));
    for action in [
        "report.reject",
        "report.approve",
        "report.correct",
        "report.withdraw",
    ] {
        assert!(
            history.text.contains(&format!("\"{action}\"")),
            "{action}: {}",
            history.text
        );
    }
}

/// The agency's recaps: the appraisals of a period and the reports of a range, as CSV files
/// named for what they hold, for the agency itself and nobody outside it.
#[test]
fn agencies_download_their_recaps_as_csv() {
    let (_s, c) = setup();
    let dinkes =
        c.with_token(&c.issue(json!({"role": "agency", "region": "jambi", "agency": "dinkes"})));
    let disdik =
        c.with_token(&c.issue(json!({"role": "agency", "region": "jambi", "agency": "disdik"})));
    // A name a spreadsheet would run as a formula.
    let r = c.put(
        &format!("{BASE}/employees/{PEER}"),
        &json!({"name": "=HYPERLINK(\"x\")", "agency": "dinkes", "position_id": "pelaksana",
                "position_since": "2021-03-01"}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        c.put(
            &format!("{BASE}/employees/{X}/periods/2026"),
            &period_body()
        )
        .status,
        200
    );
    let day = |s: &str| s.parse::<Date>().unwrap();
    add_approved_reports(
        &c,
        "jambi",
        X,
        &json!([report(day("2026-03-02"), 90), report(day("2026-03-03"), 30)]),
    );
    let ap = dinkes.post(
        &format!("{BASE}/appraisals"),
        &json!({"period": "2026", "nips": [X]}),
    );
    assert_eq!(ap.status, 200, "{}", ap.text);
    let decision = ap.body["results"][0]["decision_id"]
        .as_str()
        .unwrap()
        .to_string();
    let predikat = ap.body["results"][0]["predikat"]
        .as_str()
        .unwrap()
        .to_string();

    let recap = format!("{BASE}/agencies/dinkes/appraisals.csv?period=2026");
    let r = dinkes.get(&recap);
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.header("content-type").starts_with("text/csv"));
    assert_eq!(
        r.header("content-disposition"),
        "attachment; filename=\"penilaian-jambi-dinkes-2026.csv\""
    );
    let lines: Vec<&str> = r.text.lines().collect();
    assert_eq!(
        lines[0],
        "nip,nama,jabatan,hasil_kerja,perilaku_kerja,predikat,skor,tpp_persen,decision_id"
    );
    assert_eq!(lines.len(), 4, "the three employees of dinkes: {}", r.text);
    let x_row = lines.iter().find(|l| l.starts_with(X)).unwrap();
    assert!(
        x_row.contains(&predikat) && x_row.ends_with(&decision),
        "{x_row}"
    );
    let boss_row = lines.iter().find(|l| l.starts_with(BOSS)).unwrap();
    assert!(boss_row.ends_with(",,,,,,"), "not appraised: {boss_row}");
    assert!(r.text.contains("\"'=HYPERLINK(\"\"x\"\")\""), "{}", r.text);
    // Another period has none of them appraised.
    let other = dinkes.get(&format!(
        "{BASE}/agencies/dinkes/appraisals.csv?period=2026-Q1"
    ));
    assert!(!other.text.contains(&decision), "{}", other.text);

    let reports = format!("{BASE}/agencies/dinkes/activities.csv?from=2026-03-01&to=2026-03-31");
    let r = dinkes.get(&reports);
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.header("content-disposition"),
        "attachment; filename=\"laporan-harian-jambi-dinkes-2026-03-01-2026-03-31.csv\""
    );
    let lines: Vec<&str> = r.text.lines().collect();
    assert_eq!(lines[0], "nip,nama,id,tanggal,menit,status,uraian");
    assert_eq!(lines.len(), 3, "{}", r.text);
    assert!(
        lines[1].contains(",2026-03-02,90,approved,"),
        "{}",
        lines[1]
    );

    // Only the agency itself (and the administrators); ranges and periods named when wrong.
    for (who, cl) in [("other agency", &disdik), ("employee", &emp(&c, X))] {
        assert_eq!(cl.get(&recap).status, 403, "{who}");
        assert_eq!(cl.get(&reports).status, 403, "{who}");
    }
    for (path, field) in [
        (
            format!("{BASE}/agencies/dinkes/appraisals.csv?period=2026-13"),
            "period",
        ),
        (
            format!("{BASE}/agencies/dinkes/activities.csv?from=2026-01-01&to=2027-06-01"),
            "to",
        ),
        (
            format!("{BASE}/agencies/dinkes/activities.csv?from=2026-03-01"),
            "to",
        ),
    ] {
        let r = dinkes.get(&path);
        assert_eq!(r.status, 400, "{path}: {}", r.text);
        assert!(r.message().contains(field), "{path}: {}", r.text);
    }
    assert_eq!(
        c.get(&format!("{BASE}/agencies/nope/appraisals.csv?period=2026"))
            .status,
        404
    );
}

/// A region that auto-approves: a report left pending longer than its days is approved by the
/// server's own sweep (which runs at start and every few minutes), counted, and audited as the
/// server's. The days are made to pass by moving the report's entry in the pending index back,
/// as the clock would have, while the server is stopped.
#[test]
fn reports_left_pending_past_the_regions_days_are_approved_by_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (_, days) = open_days();
    let id = {
        let s = TestServer::start_in(dir.path(), |_| {});
        let c = s.client();
        seed_chart(
            &c,
            &[(BOSS, "dinkes", "kepala"), (X, "dinkes", "pelaksana")],
        );
        let r = c.put(
            &format!("{BASE}/reporting"),
            &json!({"auto_approve_after_days": 2}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        let r = emp(&c, X).post(&reports_of(X), &report(days[0], 60));
        assert_eq!(r.status, 201, "{}", r.text);
        ids(&r)[0]
    };
    {
        use kinerja::store::tables::PENDING_REPORTS;
        use redb::ReadableTable;
        let file = kinerja::store::region_file(dir.path(), "jambi");
        let db = redb::Database::open(file).expect("open db");
        let tx = db.begin_write().expect("write");
        {
            let mut t = tx.open_table(PENDING_REPORTS).expect("pending");
            let (key, value) = {
                let (k, v) = t.first().expect("read").expect("one pending report");
                (k.value().to_string(), v.value().to_string())
            };
            assert!(key.ends_with(&format!("{id:016}")), "{key}");
            t.remove(key.as_str()).expect("remove");
            let three_days_ago = format!("jambi/2000-01-01T00:00:00.000Z/{id:016}");
            t.insert(three_days_ago.as_str(), value.as_str())
                .expect("insert");
        }
        tx.commit().expect("commit");
    }
    let s = TestServer::start_in(dir.path(), |_| {});
    let c = s.client();
    let mut state = Value::Null;
    for _ in 0..100 {
        let r = c.get(&reports_of(X));
        assert_eq!(r.status, 200, "{}", r.text);
        state = r.body["items"][0]["state"].clone();
        if state == "approved" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(state, "approved", "the sweep approved the overdue report");
    let history = c.get(&format!("{BASE}/employees/{X}/history?limit=1000"));
    assert!(
        history.text.contains("\"report.approve\""),
        "{}",
        history.text
    );
}

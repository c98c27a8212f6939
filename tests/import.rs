//! `kinerja import` end to end: the real binary on a temporary data dir, good files in both
//! formats, files with bad lines (named in the error, nothing half-written), `--skip-invalid`,
//! a refusal while a server holds the database, and the records read back through the API.

use kinerja_tests::*;
use std::path::Path;
use std::process::{Command, Output};

fn import(dir: &Path, args: &[&str], file: &Path) -> Output {
    Command::new(kinerja_binary())
        .arg("import")
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .arg(file)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run kinerja import")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn count(dir: &Path) -> u64 {
    kinerja::store::Store::open(dir)
        .expect("open")
        .count(kinerja::store::tables::ACTIVITIES)
        .expect("count")
}

fn line(nip: &str, date: &str, minutes: u32) -> String {
    json!({"region": "jambi", "nip": nip, "date": date,
           "description": "Menyusun laporan, bagian 1", "minutes": minutes})
    .to_string()
}

#[test]
fn import_end_to_end() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("data");
    let nips = seed_bulk(&dir, "jambi", "dinas", 3, 0);
    let files = tempfile::tempdir().expect("tempdir");

    // A good JSON Lines file, a blank line included.
    let good = files.path().join("good.jsonl");
    let mut text = String::new();
    for (i, nip) in nips.iter().enumerate() {
        text.push_str(&line(nip, "2026-05-04", 60 + i as u32));
        text.push('\n');
    }
    text.push('\n');
    text.push_str(&line(&nips[0], "2026-05-05", 90));
    text.push('\n');
    std::fs::write(&good, &text).expect("write");
    let out = import(&dir, &[], &good);
    assert!(out.status.success(), "{}", stderr(&out));
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert_eq!(summary["imported"], json!(4), "{summary}");
    assert_eq!(count(&dir), 4);

    // CSV with --region, a quoted comma and columns in another order.
    let csv = files.path().join("reports.csv");
    std::fs::write(
        &csv,
        format!(
            "nip,date,minutes,description\n{},2026-05-06,45,\"Rapat koordinasi, evaluasi\"\n{},2026-05-06,30,Pelayanan\n",
            nips[1], nips[2]
        ),
    )
    .expect("write");
    let out = import(&dir, &["--region", "jambi"], &csv);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(count(&dir), 6);

    // Bad lines: each named with its number and reason, and nothing of the file is written.
    let bad = files.path().join("bad.jsonl");
    let unknown = nip_for(500);
    std::fs::write(
        &bad,
        [
            line(&nips[0], "2026-05-07", 60),
            line(&nips[1], "2026-05-07", 0),
            line(&unknown, "2026-05-07", 60),
            r#"{"region": "jambi", "nip": "123", "date": "2026-05-07", "description": "x", "minutes": 5}"#.into(),
            r#"{"region": "jambi", "nip": "x", "date": "2026-02-30"#.into(),
            line(&nips[2], "2026-05-07", 60),
        ]
        .join("\n"),
    )
    .expect("write");
    let out = import(&dir, &[], &bad);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("line 2:") && err.contains("minutes"), "{err}");
    assert!(
        err.contains("line 3:") && err.contains("does not exist"),
        "{err}"
    );
    assert!(err.contains("line 4:") && err.contains("nip"), "{err}");
    assert!(err.contains("line 5:"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    assert!(
        !err.contains("line 1:") && !err.contains("line 6:"),
        "{err}"
    );
    assert_eq!(count(&dir), 6, "a file with a bad line writes nothing");

    // --skip-invalid imports the good lines and reports the bad ones.
    let out = import(&dir, &["--skip-invalid"], &bad);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("line 2:"), "{err}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).expect("summary");
    assert_eq!(
        (summary["imported"].clone(), summary["skipped"].clone()),
        (json!(2), json!(4))
    );
    assert_eq!(count(&dir), 8);

    // A day holds 1,440 minutes, counting what is stored and the file's own earlier rows.
    let full = files.path().join("full.jsonl");
    std::fs::write(
        &full,
        [
            line(&nips[0], "2026-05-08", 1000),
            line(&nips[0], "2026-05-08", 500),
            line(&nips[0], "2026-05-04", 1400),
        ]
        .join("\n"),
    )
    .expect("write");
    let out = import(&dir, &[], &full);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("line 2:") && err.contains("a day has 1440 (already 1000)"),
        "{err}"
    );
    assert!(
        err.contains("line 3:") && err.contains("(already 60)"),
        "{err}"
    );
    assert!(!err.contains("line 1:"), "{err}");
    assert_eq!(count(&dir), 8);

    // The region's reporting window applies, judged at the import's time: with the default
    // (until the 5th of the next month) a report of a year ago is refused, naming the rule.
    {
        let store = kinerja::store::Store::open(&dir).expect("open");
        store
            .set_reporting_rules("jambi", "test", Default::default(), false)
            .expect("rules");
    }
    let old = files.path().join("old.jsonl");
    std::fs::write(&old, line(&nips[0], "2025-11-03", 60)).expect("write");
    let out = import(&dir, &[], &old);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("line 1:") && stderr(&out).contains("reporting window"),
        "{}",
        stderr(&out)
    );
    assert_eq!(count(&dir), 8);
    // Nor a day that has not begun.
    let today: kinerja::domain::date::Date = today().parse().expect("today");
    let future = kinerja::domain::date::Date::from_days(today.to_days() + 2);
    std::fs::write(&old, line(&nips[0], &future.to_string(), 60)).expect("write");
    let out = import(&dir, &[], &old);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("line 1:") && stderr(&out).contains("after today"),
        "{}",
        stderr(&out)
    );
    assert_eq!(count(&dir), 8);

    // A region that contradicts --region, and an unknown extension.
    let out = import(&dir, &["--region", "jakarta"], &good);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("differs from --region"),
        "{}",
        stderr(&out)
    );
    let txt = files.path().join("reports.txt");
    std::fs::write(&txt, "").expect("write");
    let out = import(&dir, &[], &txt);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("--format"), "{}", stderr(&out));

    // While a server runs on the data dir the import refuses, saying why.
    let server = TestServer::start_in(&dir, |_| {});
    let out = import(&dir, &[], &good);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("in use by another process") && err.contains("server"),
        "{err}"
    );

    // The server reads back what was imported, with ids and all fields.
    let c = server.client();
    let r = c.get(&format!(
        "/api/v1/regions/jambi/employees/{}/activities",
        nips[0]
    ));
    assert_eq!(r.status, 200, "{}", r.text);
    let items = r.body["items"].as_array().expect("items");
    let dates: Vec<&str> = items.iter().filter_map(|a| a["date"].as_str()).collect();
    assert_eq!(
        dates,
        ["2026-05-04", "2026-05-05", "2026-05-07"],
        "{}",
        r.text
    );
    assert!(items
        .iter()
        .all(|a| a["id"].as_u64().is_some_and(|id| id > 0)));
    // The agency's central entry stands approved.
    assert!(items.iter().all(|a| a["state"] == "approved"), "{}", r.text);
    let r = c.get(&format!(
        "/api/v1/regions/jambi/employees/{}/activities",
        nips[1]
    ));
    let descs: Vec<&str> = r.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["description"].as_str())
        .collect();
    assert!(descs.contains(&"Rapat koordinasi, evaluasi"), "{}", r.text);
    // The API keeps numbering after the imported reports.
    let r = c.post(
        &format!("/api/v1/regions/jambi/employees/{}/activities", nips[2]),
        &json!({"date": "2026-05-08", "description": "Setelah impor", "minutes": 15}),
    );
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["items"][0]["id"], json!(9), "{}", r.text);
}

//! Every decision is provable: the exact request bytes are kept (compressed, one copy per
//! plugin call), a replay re-runs the same module on them, and `kinerja audit verify` replays
//! many. A stored output changed behind the server's back is caught by both.

use kinerja_tests::*;
use redb::{ReadableDatabase, ReadableTable, TableDefinition};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

const DECISIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("decisions");
const INPUTS: TableDefinition<&str, &[u8]> = TableDefinition::new("inputs");
const OUTPUTS: TableDefinition<&str, &[u8]> = TableDefinition::new("outputs");
const DECISION_CALLS: TableDefinition<&str, &[u8]> = TableDefinition::new("decision_calls");
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// Runs `kinerja audit verify` on `dir` with `args`; answers the exit code, the JSON summary
/// and stderr.
fn verify(dir: &Path, args: &[&str]) -> (i32, Value, String) {
    let out = Command::new(kinerja_binary())
        .args(["audit", "verify", "--quiet", "--data-dir"])
        .arg(dir)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run kinerja audit verify");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let summary = serde_json::from_str(stdout.trim()).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), summary, stderr)
}

/// Changes one table of the database while no server runs, as a tamperer with file access
/// would, in one committed transaction.
fn in_table(
    dir: &Path,
    table: TableDefinition<&str, &[u8]>,
    f: impl FnOnce(&mut redb::Table<&str, &[u8]>),
) {
    let db = redb::Database::open(dir.join("kinerja.redb")).expect("open db");
    let tx = db.begin_write().expect("write tx");
    f(&mut tx.open_table(table).expect("table"));
    tx.commit().expect("commit");
}

/// Rewrites one row of the database behind the server's back.
fn tamper(
    dir: &Path,
    table: TableDefinition<&str, &[u8]>,
    key: &str,
    f: impl FnOnce(Vec<u8>) -> Vec<u8>,
) {
    in_table(dir, table, |t| {
        let old = t
            .get(key)
            .expect("get")
            .expect("row exists")
            .value()
            .to_vec();
        let new = f(old);
        t.insert(key, new.as_slice()).expect("insert");
    });
}

/// Deletes one row of the database behind the server's back; the row must be there.
fn remove_row(dir: &Path, table: TableDefinition<&str, &[u8]>, key: &str) {
    in_table(dir, table, |t| {
        t.remove(key).expect("remove").expect("row exists");
    });
}

#[test]
fn replay_is_identical_and_a_tampered_output_is_caught() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let s = TestServer::demo_in(dir);
    let c = s.client();

    // One appraisal batch and one rotation, each a single plugin call.
    let ap = c.post(
        "/api/v1/regions/jambi/appraisals",
        &json!({"period": "2025", "agency": "dinas-pendidikan"}),
    );
    assert_eq!(ap.status, 200, "{}", ap.text);
    let results = ap.body["results"].as_array().expect("results").clone();
    assert!(results.len() >= 10);
    let rot = c.post(
        "/api/v1/regions/jakarta/rotations",
        &json!({"as_of": "2026-01-31", "agency": "dinas-kesehatan"}),
    );
    assert_eq!(rot.status, 200, "{}", rot.text);
    let rot_id = rot.body["decision_id"]
        .as_str()
        .expect("decision id")
        .to_string();

    let ids: Vec<String> = results
        .iter()
        .map(|r| r["decision_id"].as_str().expect("decision id").to_string())
        .collect();
    let first = c.get(&format!("/api/v1/decisions/{}", ids[0])).body;
    let victim_output = c.get(&format!("/api/v1/decisions/{}", ids[1])).body["output"].clone();
    let last = c
        .get(&format!("/api/v1/decisions/{}", ids[ids.len() - 1]))
        .body;
    assert_eq!(
        first["input_sha256"], last["input_sha256"],
        "the results of one batch share one stored request"
    );

    // Replays of untouched decisions agree in every check.
    for id in [&ids[0], &ids[ids.len() - 1], &rot_id] {
        let r = c.post(&format!("/api/v1/decisions/{id}/replay"), &json!({}));
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["identical"], true, "{id}: {}", r.text);
        assert_eq!(r.body["input_intact"], true);
        assert_eq!(r.body["output_bytes_identical"], true);
        assert_eq!(r.body["decision_output_matches"], true);
        assert_eq!(r.body["replay_output_sha256"], r.body["output_sha256"]);
        assert_eq!(r.body["mismatches"], json!([]));
    }
    // A module replaced by another policy stays available to the decisions that name it.
    let other = c.upload("jambi", wasm("kinerja_test_simple"));
    c.activate("jambi", "appraise", &other, json!({}));
    let r = c.post(&format!("/api/v1/decisions/{}/replay", ids[2]), &json!({}));
    assert_eq!(r.body["identical"], true, "{}", r.text);
    assert_eq!(r.body["plugin"], first["plugin"]);
    let unknown = c.post("/api/v1/decisions/dec-999999999999/replay", &json!({}));
    assert_eq!(unknown.status, 404, "{}", unknown.text);

    // While the server holds the database, the audit says so instead of waiting.
    let (code, _, err) = verify(dir, &[]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("already open") || err.contains("lock") || err.contains("in use"),
        "{err}"
    );
    let admin = s.admin.clone();
    drop(s);

    // The request is stored compressed, once per call.
    {
        let db = redb::Database::open(dir.join("kinerja.redb")).expect("open db");
        let tx = db.begin_read().expect("read tx");
        let inputs = tx.open_table(INPUTS).expect("inputs");
        let sha = first["input_sha256"].as_str().expect("sha");
        let row = inputs
            .get(sha)
            .expect("get")
            .expect("the batch's request is kept");
        assert!(row.value().starts_with(&ZSTD_MAGIC), "stored compressed");
        let outputs = tx.open_table(OUTPUTS).expect("outputs");
        assert!(outputs
            .get(first["output_sha256"].as_str().expect("sha"))
            .expect("get")
            .is_some());
    }

    // Everything agrees before tampering; the filters narrow the set.
    let (code, sum, err) = verify(dir, &[]);
    assert_eq!(code, 0, "{err}");
    let n = sum["decisions"].as_u64().expect("count");
    assert!(n as usize > ids.len(), "{sum}");
    assert_eq!(sum["identical"], n);
    assert!(
        sum["calls"].as_u64().expect("calls") < n,
        "one replay per call: {sum}"
    );
    let (code, sum, _) = verify(dir, &["--region", "jakarta"]);
    assert_eq!((code, sum["decisions"].as_u64()), (0, Some(1)), "{sum}");
    let (code, sum, _) = verify(dir, &["--since", "2099-01-01"]);
    assert_eq!((code, sum["decisions"].as_u64()), (0, Some(0)), "{sum}");
    let (code, _, err) = verify(dir, &["--since", "yesterday"]);
    assert_eq!(code, 2);
    assert!(err.contains("--since"), "{err}");

    // A batch's decision row holds only where its result lies in the call's stored stdout.
    // Written back with a result of its own (the form of a re-encoded result), its predikat
    // changed and every hash left as it was:
    let victim = ids[1].clone();
    let row_of = |id: &str| -> Value {
        let mut row = Value::Null;
        in_table(dir, DECISIONS, |t| {
            let v = t.get(id).expect("get").expect("row exists");
            row = serde_json::from_slice(v.value()).expect("decision json");
        });
        row
    };
    assert_eq!(row_of(&victim)["v"], 3, "{}", row_of(&victim));
    assert!(row_of(&victim).get("output").is_none());
    tamper(dir, DECISIONS, &victim, |old| {
        let mut d: Value = serde_json::from_slice(&old).expect("decision json");
        let mut output = victim_output.clone();
        output["predikat"] = json!(if output["predikat"] == "sangat_baik" {
            "kurang"
        } else {
            "sangat_baik"
        });
        d["v"] = json!(2);
        d["output"] = output;
        d.as_object_mut().expect("object").remove("at");
        serde_json::to_vec(&d).expect("encode")
    });
    let (code, sum, err) = verify(dir, &[]);
    assert_eq!(code, 1, "{sum} {err}");
    assert_eq!(sum["mismatched"], 1, "{sum}");
    assert_eq!(sum["mismatched_ids"], json!([victim]));
    assert!(err.contains(&victim) && err.contains("result 1"), "{err}");

    // Pointed at another employee's result of the same stdout instead: caught too, then put
    // back.
    let (moved, saved) = (ids[2].clone(), row_of(&ids[2]));
    let elsewhere = row_of(&ids[3])["at"].clone();
    tamper(dir, DECISIONS, &moved, |old| {
        let mut d: Value = serde_json::from_slice(&old).expect("decision json");
        d["at"] = elsewhere;
        serde_json::to_vec(&d).expect("encode")
    });
    let (code, sum, err) = verify(dir, &[]);
    assert_eq!(code, 1, "{sum} {err}");
    assert_eq!(sum["mismatched_ids"], json!([victim, moved]), "{sum}");
    assert!(err.contains(&moved) && err.contains("result 2"), "{err}");
    tamper(dir, DECISIONS, &moved, |_| {
        serde_json::to_vec(&saved).expect("encode")
    });

    // The rotation's stored stdout is altered too: its bytes no longer match.
    let (rot_out, rot_in) = {
        let s = TestServer::demo_in(dir);
        assert_eq!(s.admin, admin, "the admin token survives a restart");
        let c = s.client();
        let r = c.post(&format!("/api/v1/decisions/{victim}/replay"), &json!({}));
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.body["identical"], false, "{}", r.text);
        assert_eq!(r.body["decision_output_matches"], false);
        assert_eq!(
            r.body["output_bytes_identical"], true,
            "the module itself still agrees"
        );
        let ok = c.post(&format!("/api/v1/decisions/{}/replay", ids[0]), &json!({}));
        assert_eq!(ok.body["identical"], true, "{}", ok.text);
        let rot = c.get(&format!("/api/v1/decisions/{rot_id}")).body;
        let sha = |k: &str| rot[k].as_str().expect("sha").to_string();
        (sha("output_sha256"), sha("input_sha256"))
    };
    tamper(dir, OUTPUTS, &rot_out, |_| {
        br#"{"talent":[],"moves":[],"flags":[]}"#.to_vec()
    });
    let (code, sum, err) = verify(dir, &["--region", "jakarta"]);
    assert_eq!(code, 1, "{sum} {err}");
    assert_eq!(sum["mismatched_ids"], json!([rot_id]));
    assert!(err.contains("stored output no longer hashes"), "{err}");

    // A lost request row is reported against its decisions; the audit goes on.
    remove_row(dir, INPUTS, &rot_in);
    let (code, sum, err) = verify(dir, &[]);
    assert_eq!(code, 1, "{sum} {err}");
    assert_eq!(
        sum["mismatched"], 2,
        "the rotation and the edited appraisal: {sum}"
    );
    assert!(err.contains("stored request is unavailable"), "{err}");

    // The row a batch's decisions share is lost: each of them is named as unreadable and the
    // rest of the audit still runs, instead of the whole audit failing on the first of them.
    // A call's row is keyed by the id of its first decision.
    remove_row(dir, DECISION_CALLS, &ids[0]);
    let (code, sum, err) = verify(dir, &["--max-mismatches", "100000"]);
    assert_eq!(code, 1, "{sum} {err}");
    assert_eq!(
        sum["mismatched"].as_u64(),
        Some(ids.len() as u64 + 1),
        "the batch's decisions and the rotation: {sum}"
    );
    let mut named: Vec<String> = sum["mismatched_ids"]
        .as_array()
        .expect("ids")
        .iter()
        .map(|v| v.as_str().expect("id").to_string())
        .collect();
    named.retain(|id| id != &rot_id);
    assert_eq!(named, ids, "every decision of the batch, in order");
    assert!(
        err.contains("cannot be read") && err.contains(&ids[0]),
        "{err}"
    );
    let (code, sum, _) = verify(dir, &["--region", "jakarta"]);
    assert_eq!(code, 1, "{sum}");
    assert_eq!(
        sum["decisions"].as_u64(),
        Some(ids.len() as u64 + 1),
        "unreadable decisions are reported whatever the region: {sum}"
    );

    // A data dir without a database is an error, not an empty success.
    let (code, _, err) = verify(&dir.join("nowhere"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no database"), "{err}");
}

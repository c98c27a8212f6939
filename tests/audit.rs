//! Every decision is provable: the exact request bytes are kept (compressed, one copy per
//! plugin call), a replay re-runs the same module on them, and `kinerja audit verify` replays
//! many. A stored output changed behind the server's back is caught by both.

use kinerja_tests::*;
use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, TableDefinition};
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

/// Changes one table of a region's file while no server runs, as a tamperer with file access
/// would, in one committed transaction: the file of the region whose table holds `key`.
fn in_table(
    dir: &Path,
    table: TableDefinition<&str, &[u8]>,
    key: &str,
    f: impl FnOnce(&mut redb::Table<&str, &[u8]>),
) {
    let file = ["jambi", "jakarta", "tenayan-raya"]
        .into_iter()
        .map(|r| kinerja::store::region_file(dir, r))
        .find(|file| {
            let db = redb::Database::open(file).expect("open db");
            let tx = db.begin_read().expect("read tx");
            tx.open_table(table)
                .expect("table")
                .get(key)
                .expect("get")
                .is_some()
        })
        .unwrap_or_else(|| kinerja::store::region_file(dir, "jambi"));
    let db = redb::Database::open(file).expect("open db");
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
    in_table(dir, table, key, |t| {
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
    in_table(dir, table, key, |t| {
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
        let db = redb::Database::open(kinerja::store::region_file(dir, "jambi")).expect("open db");
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
        in_table(dir, DECISIONS, id, |t| {
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
    // Each region's decisions are in its own file: a region's audit reads that file alone,
    // its unreadable decisions included, and none of another region's.
    let (code, sum, _) = verify(dir, &["--region", "jakarta"]);
    assert_eq!(code, 1, "{sum}");
    assert_eq!(sum["decisions"].as_u64(), Some(1), "the rotation: {sum}");
    let (code, sum, _) = verify(dir, &["--region", "jambi", "--max-mismatches", "100000"]);
    assert_eq!(code, 1, "{sum}");
    assert_eq!(
        sum["mismatched"].as_u64(),
        Some(ids.len() as u64),
        "the batch's unreadable decisions: {sum}"
    );

    // A data dir without a database is an error, not an empty success.
    let (code, _, err) = verify(&dir.join("nowhere"), &[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no database"), "{err}");
}

/// Runs `kinerja` with `args`; answers the exit code, stdout and stderr.
fn kinerja(args: &[&std::ffi::OsStr]) -> (i32, String, String) {
    let out = Command::new(kinerja_binary())
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run kinerja");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// The receive buffer of [`held_get`]'s connection (the kernel doubles it).
const HELD_RECEIVE_BUFFER: usize = 16 << 10;

/// Sends `GET path` on a connection that takes in little (a receive buffer of
/// [`HELD_RECEIVE_BUFFER`], set before connecting so the window stays small), reads the
/// status line and headers, asserts 200, and leaves the body unread: a streamed answer larger
/// than the buffers cannot end until the connection is dropped.
fn held_get(base: &str, path: &str, token: &str) -> std::net::TcpStream {
    use std::io::{Read, Write};
    let host = base.trim_start_matches("http://");
    let addr: std::net::SocketAddr = host.parse().expect("the server's address");
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(addr),
        socket2::Type::STREAM,
        None,
    )
    .expect("socket");
    socket
        .set_recv_buffer_size(HELD_RECEIVE_BUFFER)
        .expect("SO_RCVBUF");
    socket.connect(&addr.into()).expect("connect");
    let mut stream: std::net::TcpStream = socket.into();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n\r\n"
    )
    .expect("send");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("the answer's head");
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    stream
}

/// The largest send buffer a connection may grow to (Linux's `tcp_wmem` maximum; 8 MiB where
/// it cannot be read).
fn send_buffer_max() -> usize {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().last()?.parse().ok())
        .unwrap_or(8 << 20)
}

/// `kinerja restore BACKUP --data-dir DIR`.
fn restore(backup: &Path, dir: &Path) -> (i32, String, String) {
    kinerja(&[
        "restore".as_ref(),
        backup.as_os_str(),
        "--data-dir".as_ref(),
        dir.as_os_str(),
    ])
}

/// Every table's rows and digest in `dir`'s database, as a backup's manifest has them: to tell
/// that its data did not change. (Its bytes may: redb writes its own state when a writer opens
/// and closes the file, which is how a restore learns that no server holds it.)
fn tables_of(dir: &Path, scratch: &Path) -> Value {
    let _ = std::fs::remove_dir_all(scratch);
    let (code, stdout, stderr) = kinerja(&[
        "backup".as_ref(),
        "--data-dir".as_ref(),
        dir.as_os_str(),
        "--out".as_ref(),
        scratch.as_os_str(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let manifest: Value = serde_json::from_str(stdout.trim()).expect("a manifest");
    let files = manifest["files"].as_object().expect("files");
    files
        .iter()
        .map(|(f, m)| (f.clone(), m["tables"].clone()))
        .collect::<serde_json::Map<_, _>>()
        .into()
}

/// A backup taken while reports and appraisals stream in holds exactly the writes acknowledged
/// before its commit point, passes its checks, and restores into a data dir whose every
/// decision `audit verify` replays byte for byte. The same snapshot streams over HTTP (admins
/// only). A restore is refused while the server runs, and a truncated, altered or damaged
/// backup is refused with the live database untouched.
#[test]
fn a_backup_under_writes_restores_and_replays() {
    // Built before the writer starts, so that the backup begins when it is told to.
    let _ = kinerja_binary();
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path().join("live");
    let s = TestServer::demo_in(&dir);
    let c = s.client();
    let ap = c.post(
        "/api/v1/regions/jambi/appraisals",
        &json!({"period": "2025", "agency": "dinas-pendidikan"}),
    );
    assert_eq!(ap.status, 200, "{}", ap.text);
    let staff = c.get("/api/v1/regions/jambi/employees?agency=dinas-pendidikan&limit=3");
    let nips: Vec<String> = staff.body["items"]
        .as_array()
        .expect("employees")
        .iter()
        .map(|e| e["nip"].as_str().expect("nip").to_string())
        .collect();

    // A writer: a report a day for one employee, and an appraisal of another every tenth,
    // until the backup is done (and at most 2,000 reports).
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let (c, nips, done) = (s.client(), nips.clone(), std::sync::Arc::clone(&done));
        std::thread::spawn(move || {
            let mut acked = Vec::new();
            let mut after_done = 0;
            for i in 0..2000u32 {
                if done.load(std::sync::atomic::Ordering::Acquire) {
                    after_done += 1;
                    if after_done > 5 {
                        break;
                    }
                }
                let date = format!(
                    "{}-{:02}-{:02}",
                    2017 + i / 336,
                    1 + (i / 28) % 12,
                    1 + i % 28
                );
                let r = c.post(
                    &format!("/api/v1/regions/jambi/employees/{}/activities", nips[0]),
                    &json!({"date": date, "minutes": 30, "description": format!("laporan {i}")}),
                );
                assert_eq!(r.status, 201, "{}", r.text);
                acked.push(r.body["items"][0]["id"].as_u64().expect("an id"));
                if i % 10 == 0 {
                    let a = c.post(
                        "/api/v1/regions/jambi/appraisals",
                        &json!({"period": "2025", "nips": [nips[1]]}),
                    );
                    assert_eq!(a.status, 200, "{}", a.text);
                }
                if i == 20 {
                    let _ = started_tx.send(());
                }
            }
            acked
        })
    };
    started_rx.recv().expect("the writer is under way");
    let out = tmp.path().join("backup");
    let (code, stdout, stderr) = kinerja(&[
        "backup".as_ref(),
        "--data-dir".as_ref(),
        dir.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    done.store(true, std::sync::atomic::Ordering::Release);
    assert_eq!(code, 0, "{stderr}");
    let acked = writer.join().expect("writer");
    let manifest: Value = serde_json::from_str(stdout.trim()).expect("the manifest");
    let on_disk: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("manifest.json")).expect("manifest.json"),
    )
    .expect("json");
    assert_eq!(on_disk, manifest);
    let jambi = &manifest["files"]["regions/jambi.redb"];
    let point = jambi["commit_point"]["activity"].as_u64().expect("a point");
    assert!(
        acked[20] <= point,
        "the backup began after the 21st report was acknowledged"
    );
    assert!(
        acked.iter().any(|&id| id > point),
        "reports went on being written after the snapshot: {} acknowledged, the last {:?}, commit point {point}",
        acked.len(),
        acked.last()
    );
    // Exactly the reports acknowledged up to the commit point, and none after it.
    {
        let db = redb::ReadOnlyDatabase::open(out.join("regions/jambi.redb")).expect("opens");
        let tx = db.begin_read().expect("read");
        let ids: TableDefinition<u64, &str> = TableDefinition::new("activity_ids");
        let t = tx.open_table(ids).expect("activity_ids");
        for &id in &acked {
            assert_eq!(
                t.get(id).expect("get").is_some(),
                id <= point,
                "report {id}, commit point {point}"
            );
        }
        let rows = tx
            .open_table(TableDefinition::<&str, &[u8]>::new("decisions"))
            .expect("decisions")
            .len()
            .expect("len");
        assert_eq!(jambi["tables"]["decisions"]["rows"], rows);
    }

    // The same over HTTP, for admins only; it restores too (below).
    let region_admin = s
        .client()
        .with_token(&c.issue(json!({"role": "region_admin", "region": "jambi"})));
    let r = region_admin.get("/api/v1/regions/jambi/backup");
    assert_eq!(r.status, 403, "{}", r.text);
    // One backup at a time (each writes a copy beside the region's file): while one is
    // streamed to a client that reads none of it, a second is 503, in words, and the server
    // serves on; once that client is gone, the next one is taken.
    // The premise of the busy check: a snapshot larger than the kernel may buffer of it (the
    // server's send buffer at its largest, the held connection's receive buffer, 1 MiB of
    // slack), so the held stream cannot end by itself. The CLI's backup above is the same size.
    let buffered = send_buffer_max() + HELD_RECEIVE_BUFFER * 2 + (1 << 20);
    let snapshot = std::fs::metadata(out.join("regions/jambi.redb"))
        .expect("the CLI's backup of jambi")
        .len() as usize;
    assert!(
        snapshot > buffered,
        "this machine may buffer {buffered} bytes of a stream, more than jambi's snapshot \
         ({snapshot}): the backup-busy check cannot hold a stream open here"
    );
    let held = held_get(&s.base, "/api/v1/regions/jambi/backup", &s.admin);
    let second = c.get("/api/v1/regions/jambi/backup");
    assert_eq!(second.status, 503, "{}", second.text);
    assert!(
        second.text.contains("a backup is being taken"),
        "{}",
        second.text
    );
    assert_eq!(c.get("/api/v1/regions/jambi").status, 200);
    drop(held);
    let started = std::time::Instant::now();
    let streamed = loop {
        let r = reqwest::blocking::Client::new()
            .get(format!("{}/api/v1/regions/jambi/backup", s.base))
            .bearer_auth(&s.admin)
            .send()
            .expect("GET /api/v1/regions/jambi/backup");
        // The server lets the held stream go when its next write fails.
        if r.status() != 503 || started.elapsed() > std::time::Duration::from_secs(30) {
            break r;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert_eq!(streamed.status(), 200);
    let bytes = streamed.bytes().expect("the snapshot");
    let audit = c.get("/api/v1/audit?limit=1000");
    assert!(
        audit.body["items"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["action"] == "backup.take"),
        "the HTTP backup is audited: {}",
        audit.text
    );
    let over_http = tmp.path().join("over-http.redb");
    std::fs::write(&over_http, &bytes).expect("write");

    // Not while the server runs on the data dir; its database is untouched.
    let (code, _, stderr) = restore(&out, &dir);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("in use"), "{stderr}");
    drop(s);

    let restored = tmp.path().join("restored");
    let (code, _, stderr) = restore(&out, &restored);
    assert_eq!(code, 0, "{stderr}");
    let (code, summary, stderr) = verify(&restored, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        summary["decisions"].as_u64().expect("a count") > 10,
        "{summary}"
    );
    assert_eq!(summary["identical"], summary["decisions"], "{summary}");
    let from_http = tmp.path().join("from-http");
    let (code, _, stderr) = restore(&over_http, &from_http);
    assert_eq!(code, 0, "{stderr}");
    let (code, summary, stderr) = verify(&from_http, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        summary["decisions"].as_u64().expect("a count") > 10,
        "{summary}"
    );
    assert!(from_http.join("regions/jambi.redb").is_file());
    assert!(
        !from_http.join("regions/jakarta.redb").exists(),
        "one region's file alone"
    );

    // Damaged backups are refused, naming what is wrong, and replace nothing.
    let scratch = tmp.path().join("scratch");
    let before = tables_of(&restored, &scratch);
    // A backup of one region, its file under `regions/`, damaged in three ways.
    let copy = |name: &str| {
        let d = tmp.path().join(name);
        std::fs::create_dir_all(d.join("regions")).expect("mkdir");
        std::fs::copy(out.join("regions/jambi.redb"), d.join("regions/jambi.redb")).expect("copy");
        d
    };
    let truncated = copy("truncated");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(truncated.join("regions/jambi.redb"))
        .expect("open");
    let len = f.metadata().expect("meta").len();
    f.set_len(len / 2).expect("truncate");
    drop(f);
    let altered = copy("altered");
    {
        let db = redb::Database::open(altered.join("regions/jambi.redb")).expect("opens");
        let tx = db.begin_write().expect("write");
        {
            let mut t = tx
                .open_table(TableDefinition::<&str, &[u8]>::new("employees"))
                .expect("employees");
            let key = t
                .first()
                .expect("first")
                .map(|(k, _)| k.value().to_string())
                .expect("a row");
            t.insert(key.as_str(), b"{}".as_slice()).expect("insert");
        }
        tx.commit().expect("commit");
    }
    let flipped = copy("flipped");
    {
        let path = flipped.join("regions/jambi.redb");
        let mut bytes = std::fs::read(&path).expect("read");
        // Half of the file, past its header: pages of the tables among it, whatever the layout.
        let len = bytes.len();
        for b in &mut bytes[len / 4..len * 3 / 4] {
            *b ^= 0x5a;
        }
        std::fs::write(&path, bytes).expect("write");
    }
    for (bad, says) in [
        (&truncated, "not an intact database"),
        (&altered, "table `employees`"),
        (&flipped, "not an intact database"),
    ] {
        let (code, _, stderr) = restore(bad, &restored);
        assert_eq!(code, 1, "{}: {stderr}", bad.display());
        assert!(
            stderr.contains(says) || stderr.contains("does not match its manifest"),
            "{}: {stderr}",
            bad.display()
        );
        assert_eq!(
            tables_of(&restored, &scratch),
            before,
            "{}: the live data",
            bad.display()
        );
        assert!(!restored.join("regions/jambi.redb.restoring").exists());
    }
    let (code, _, stderr) = verify(&restored, &[]);
    assert_eq!(code, 0, "still whole: {stderr}");

    // Over a database that exists: replaced, and the one replaced kept under a name of its own.
    let (code, _, stderr) = restore(&out, &restored);
    assert_eq!(code, 0, "{stderr}");
    assert!(stderr.contains("kept as"), "{stderr}");
    let kept = |dir: &Path, name: &str| {
        std::fs::read_dir(dir)
            .expect("list")
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with(&format!("{name}.before-restore-"))
            })
            .count()
    };
    assert_eq!(
        kept(&restored, "system.redb"),
        1,
        "the replaced file is kept"
    );
    assert_eq!(
        kept(&restored.join("regions"), "jambi.redb"),
        1,
        "the replaced file is kept"
    );
    let (code, _, stderr) = verify(&restored, &[]);
    assert_eq!(code, 0, "{stderr}");
}

/// The copy of a backup a server was streaming when it stopped is removed at its next start;
/// the rest of the data dir is left alone.
#[test]
fn a_stale_backup_copy_is_removed_at_start() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let stale = tmp.path().join(".backup-interrupted");
    std::fs::create_dir_all(&stale).expect("mkdir");
    std::fs::write(stale.join("kinerja.redb"), b"half a snapshot").expect("write");
    let other = tmp.path().join("notes.txt");
    std::fs::write(&other, b"an operator's file").expect("write");
    let s = TestServer::start_in(tmp.path(), |_| {});
    assert!(!stale.exists(), "the stale copy is gone");
    assert!(other.exists(), "nothing else is touched");
    drop(s);
}

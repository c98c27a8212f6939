//! Crashes: the real `kinerja` binary as a child process, killed with SIGKILL at a random
//! moment while writes stream at it, then restarted. Every write that got a success reply must
//! be there, and the database must open cleanly.

use kinerja_tests::*;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn binary() -> PathBuf {
    kinerja_binary()
}

fn spawn(dir: &Path) -> (Child, String) {
    let mut child = Command::new(binary())
        .args(["serve", "--data-dir"])
        .arg(dir)
        .args(["--listen", "127.0.0.1:0"])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn kinerja");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("read the listening line");
    let addr = line.trim().rsplit(' ').next().expect("address").to_string();
    assert!(addr.starts_with("http://"), "unexpected first line: {line}");
    (child, addr)
}

/// A small deterministic generator for the kill moments.
fn next(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

/// Reads every activity report of the employees back, as (nip, description).
fn stored_reports(c: &Client, nips: &[String]) -> std::collections::BTreeSet<(String, String)> {
    let mut stored = std::collections::BTreeSet::new();
    for n in nips {
        let mut cursor: Option<String> = None;
        loop {
            let q = cursor
                .as_ref()
                .map(|c| format!("&cursor={c}"))
                .unwrap_or_default();
            let r = c.get(&format!(
                "/api/v1/regions/jambi/employees/{n}/activities?limit=1000{q}"
            ));
            assert_eq!(r.status, 200, "{}", r.text);
            for a in r.body["items"].as_array().unwrap() {
                stored.insert((n.clone(), a["description"].as_str().unwrap().to_string()));
            }
            match r.body["next"].as_str() {
                Some(n) => cursor = Some(n.to_string()),
                None => break,
            }
        }
    }
    stored
}

#[test]
fn sigkill_during_writes_loses_no_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut base) = spawn(dir.path());
    let token = std::fs::read_to_string(dir.path().join("admin.token"))
        .unwrap()
        .trim()
        .to_string();
    let c = Client::new(&base, &token);
    create_demo_regions(&c);
    seed_agency(&c, "jambi", "disdik");
    let nips: Vec<String> = (0..4).map(|i| format!("19900101201501100{i}")).collect();
    for n in &nips {
        assert_eq!(
            c.put(
                &format!("/api/v1/regions/jambi/employees/{n}"),
                &employee_body("disdik", "staf", "2021-03-01")
            )
            .status,
            200
        );
    }
    let acked: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    for round in 0..5 {
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = nips
            .iter()
            .cloned()
            .enumerate()
            .map(|(t, nip)| {
                let (base, token, acked, stop) =
                    (base.clone(), token.clone(), acked.clone(), stop.clone());
                std::thread::spawn(move || {
                    let http = reqwest::blocking::Client::builder()
                        .timeout(Duration::from_secs(5))
                        .build()
                        .unwrap();
                    let mut i = 0;
                    while !stop.load(Ordering::Relaxed) {
                        let desc = format!("r{round} t{t} i{i}");
                        i += 1;
                        let r = http
                            .post(format!(
                                "{base}/api/v1/regions/jambi/employees/{nip}/activities"
                            ))
                            .bearer_auth(&token)
                            .json(&json!({"date": today(), "description": desc, "minutes": 30}))
                            .send();
                        if let Ok(resp) = r {
                            if resp.status().as_u16() == 201 {
                                acked.lock().unwrap().push((nip.clone(), desc));
                            }
                        }
                    }
                })
            })
            .collect();
        std::thread::sleep(Duration::from_millis(150 + next(&mut seed) % 600));
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        let (c2, b2) = spawn(dir.path());
        child = c2;
        base = b2;
        let stored = stored_reports(&Client::new(&base, &token), &nips);
        let acked_now = acked.lock().unwrap().clone();
        assert!(
            !acked_now.is_empty(),
            "round {round}: no write got through before the kill"
        );
        let missing: Vec<_> = acked_now.iter().filter(|a| !stored.contains(*a)).collect();
        assert!(
            missing.is_empty(),
            "round {round}: {} acknowledged writes lost, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(3)]
        );
        eprintln!(
            "round {round}: SIGKILL; all {} acknowledged writes present after restart",
            acked_now.len()
        );
    }
    child.kill().ok();
    child.wait().ok();
}

#[test]
fn sigkill_during_uploads_and_activations() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, mut base) = spawn(dir.path());
    let token = std::fs::read_to_string(dir.path().join("admin.token"))
        .unwrap()
        .trim()
        .to_string();
    create_demo_regions(&Client::new(&base, &token));
    let modules = [
        "kinerja_test_simple",
        "command",
        "refusal",
        "invalid-json",
        "slow",
        "trap",
    ];
    let mut seed = 0x1234_5678_9ABC_DEF1u64;
    let uploaded: Arc<Mutex<Vec<String>>> = Arc::default();
    let activations: Arc<Mutex<Vec<u64>>> = Arc::default();
    for round in 0..3 {
        let stop = Arc::new(AtomicBool::new(false));
        let w = {
            let (base, token, uploaded, activations, stop) = (
                base.clone(),
                token.clone(),
                uploaded.clone(),
                activations.clone(),
                stop.clone(),
            );
            std::thread::spawn(move || {
                let c = Client::new(&base, &token);
                let mut i = 0;
                while !stop.load(Ordering::Relaxed) {
                    let name = modules[i % modules.len()];
                    i += 1;
                    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        c.post_raw(
                            "/api/v1/regions/jambi/plugins",
                            "application/wasm",
                            wasm(name),
                        )
                    }));
                    let Ok(r) = r else { break };
                    if r.status == 201 || r.status == 200 {
                        let id = r.body["id"].as_str().unwrap().to_string();
                        uploaded.lock().unwrap().push(id.clone());
                        let a = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            c.put(
                                "/api/v1/regions/jambi/policies/appraise",
                                &json!({"plugin": id, "config": {"i": i}}),
                            )
                        }));
                        if let Ok(a) = a {
                            if a.status == 200 {
                                activations
                                    .lock()
                                    .unwrap()
                                    .push(a.body["seq"].as_u64().unwrap());
                            }
                        }
                    }
                }
            })
        };
        std::thread::sleep(Duration::from_millis(100 + next(&mut seed) % 500));
        child.kill().expect("SIGKILL");
        child.wait().unwrap();
        stop.store(true, Ordering::Relaxed);
        let _ = w.join();
        let (c2, b2) = spawn(dir.path());
        child = c2;
        base = b2;
        let c = Client::new(&base, &token);
        let listed: std::collections::BTreeSet<String> =
            c.get("/api/v1/regions/jambi/plugins").body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p["id"].as_str().unwrap().to_string())
                .collect();
        for id in uploaded.lock().unwrap().iter() {
            assert!(
                listed.contains(id),
                "round {round}: acknowledged upload {id} lost"
            );
        }
        let pol = c.get("/api/v1/regions/jambi/policies");
        let seqs: std::collections::BTreeSet<u64> = pol.body["history"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["seq"].as_u64().unwrap())
            .collect();
        for s in activations.lock().unwrap().iter() {
            assert!(
                seqs.contains(s),
                "round {round}: acknowledged activation {s} lost"
            );
        }
        // The active plugin is loadable and runs after the restart.
        if let Some(p) = pol.body["active"]["appraise"]["plugin"].as_str() {
            assert!(listed.contains(p));
        }
        eprintln!(
            "round {round}: SIGKILL; {} uploads and {} activations acknowledged, all present",
            uploaded.lock().unwrap().len(),
            activations.lock().unwrap().len()
        );
    }
    child.kill().ok();
    child.wait().ok();
}

#[test]
fn sigterm_finishes_requests_in_flight_and_closes_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (mut child, base) = spawn(dir.path());
    let token = std::fs::read_to_string(dir.path().join("admin.token"))
        .unwrap()
        .trim()
        .to_string();
    let c = Client::new(&base, &token);
    create_demo_regions(&c);
    seed_agency(&c, "jambi", "disdik");
    assert_eq!(
        c.put(
            &format!("/api/v1/regions/jambi/employees/{NIP}"),
            &employee_body("disdik", "staf", "2021-03-01")
        )
        .status,
        200
    );
    // A request is in flight (headers and half its body sent) when SIGTERM arrives; it still
    // gets its answer, and the server exits 0 afterwards.
    use std::io::{Read, Write};
    let body =
        serde_json::to_vec(&json!([{"date": today(), "description": "in flight", "minutes": 30}]))
            .unwrap();
    let host = base.trim_start_matches("http://").to_string();
    let mut sock = std::net::TcpStream::connect(&host).unwrap();
    write!(
        sock,
        "POST /api/v1/regions/jambi/employees/{NIP}/activities HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    let half = body.len() / 2;
    sock.write_all(&body[..half]).unwrap();
    sock.flush().unwrap();
    std::thread::sleep(Duration::from_millis(200));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    std::thread::sleep(Duration::from_millis(200));
    sock.write_all(&body[half..]).unwrap();
    let mut resp = String::new();
    sock.read_to_string(&mut resp).unwrap();
    assert!(
        resp.starts_with("HTTP/1.1 201"),
        "the request in flight was answered: {resp}"
    );
    let exit = child.wait().expect("wait");
    assert!(exit.success(), "a graceful stop exits 0: {exit:?}");
    let (mut again, base2) = spawn(dir.path());
    let items = Client::new(&base2, &token)
        .get(&format!("/api/v1/regions/jambi/employees/{NIP}/activities"))
        .body["items"]
        .clone();
    assert_eq!(
        items[0]["description"], "in flight",
        "stored before the database closed"
    );
    again.kill().ok();
    again.wait().ok();
}

//! End to end over HTTP: upload, validation, activation, evaluation, decisions, failure modes,
//! restarts and determinism of the plugin runtime.

use kinerja_tests::*;

const R: &str = "/api/v1/regions/jambi";

/// A hand-assembled module: `import env.system` and an `appraise` export.
fn forbidden_import_module() -> Vec<u8> {
    let mut m = vec![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    m.extend([0x01, 0x04, 0x01, 0x60, 0x00, 0x00]); // type 0: () -> ()
    m.extend([
        0x02, 0x0e, 0x01, 0x03, b'e', b'n', b'v', 0x06, b's', b'y', b's', b't', b'e', b'm', 0x00,
        0x00,
    ]);
    m.extend([0x03, 0x02, 0x01, 0x00]); // one function of type 0
    m.extend([
        0x07, 0x0c, 0x01, 0x08, b'a', b'p', b'p', b'r', b'a', b'i', b's', b'e', 0x00, 0x01,
    ]);
    m.extend([0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b]);
    m
}

#[test]
fn upload_activate_appraise_and_read_the_decision() {
    let s = TestServer::start();
    let c = s.client();
    let nips = seed_people(&c, "jambi", "disdik");

    // No policy yet: 409 with the code the contract names.
    let r = c.post(
        &format!("{R}/appraisals"),
        &json!({"period": "2026", "agency": "disdik"}),
    );
    assert_eq!(
        (r.status, r.body["error"]["code"].as_str()),
        (409, Some("no_active_policy")),
        "{}",
        r.text
    );

    let bytes = wasm("kinerja_test_simple");
    let up = c.post_raw(&format!("{R}/plugins"), "application/wasm", bytes.clone());
    assert_eq!(up.status, 201, "{}", up.text);
    let id = up.body["id"].as_str().unwrap().to_string();
    assert_eq!(id.len(), 64);
    assert_eq!(up.body["hooks"], json!(["appraise", "rotate"]));
    assert_eq!(up.body["size"], bytes.len());
    let again = c.post_raw(&format!("{R}/plugins"), "application/wasm", bytes);
    assert_eq!(
        (again.status, again.body["id"].as_str()),
        (200, Some(id.as_str())),
        "same bytes, same id"
    );
    let list = c.get(&format!("{R}/plugins"));
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    assert!(list.body["items"][0]["uploaded_by"].is_string());

    c.activate("jambi", "appraise", &id, json!({"marker": "v1"}));
    let pol = c.get(&format!("{R}/policies"));
    assert_eq!(pol.body["active"]["appraise"]["plugin"], id.as_str());
    assert_eq!(
        pol.body["active"]["appraise"]["config"],
        json!({"marker": "v1"})
    );

    let ap = c.post(
        &format!("{R}/appraisals"),
        &json!({"period": "2026", "agency": "disdik"}),
    );
    assert_eq!(ap.status, 200, "{}", ap.text);
    assert_eq!(ap.body["plugin"], id.as_str());
    let results = ap.body["results"].as_array().unwrap();
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["nip"], nips[0].as_str(), "cases by NIP");
    assert_eq!(
        ap.body["skipped"],
        json!([{"nip": nips[2], "reason": "no period record"}])
    );

    let did = results[0]["decision_id"].as_str().unwrap();
    let d = c.get(&format!("/api/v1/decisions/{did}"));
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.body["plugin"], id.as_str());
    assert_eq!(d.body["hook"], "appraise");
    assert_eq!(d.body["input_sha256"].as_str().map(str::len), Some(64));
    assert!(d.body["fuel"].as_u64().unwrap() > 0);
    assert!(d.body["duration_ms"].as_f64().is_some());
    assert!(d.body["at"].is_string() && d.body["by"].is_string());
    assert_eq!(d.body["output"]["nip"], nips[0].as_str());

    let mine = c.get(&format!("{R}/employees/{}/appraisals", nips[0]));
    assert_eq!(mine.body["items"][0]["id"], did);

    // The employee's results are paged, newest first: two more appraisals, then pages of two.
    let mut newest = String::new();
    for _ in 0..2 {
        let again = c.post(
            &format!("{R}/appraisals"),
            &json!({"period": "2026", "nips": [nips[0]]}),
        );
        assert_eq!(again.status, 200, "{}", again.text);
        newest = again.body["results"][0]["decision_id"]
            .as_str()
            .unwrap()
            .to_string();
    }
    let list = format!("{R}/employees/{}/appraisals", nips[0]);
    let first = c.get(&format!("{list}?limit=2"));
    assert_eq!(first.status, 200, "{}", first.text);
    let page1 = first.item_ids();
    assert_eq!(page1.len(), 2);
    assert_eq!(page1[0], newest, "newest first");
    assert_eq!(first.body["next"], page1[1].as_str());
    let second = c.get(&format!("{list}?limit=2&cursor={}", page1[1]));
    let page2 = second.item_ids();
    assert_eq!(page2, [did.to_string()], "{}", second.text);
    assert!(second.body["next"].is_null());
    assert!(page1[0] > page1[1] && page1[1] > page2[0]);
    assert_eq!(c.get(&format!("{list}?limit=0")).status, 400);

    let rp = c.post(&format!("/api/v1/decisions/{did}/replay"), &json!({}));
    assert_eq!(
        (rp.status, &rp.body["identical"]),
        (200, &json!(true)),
        "{}",
        rp.text
    );

    // Selected NIPs keep their order; an unknown one is 404.
    let sel = c.post(
        &format!("{R}/appraisals"),
        &json!({"period": "2026", "nips": [nips[1], nips[0]]}),
    );
    assert_eq!(sel.body["results"][0]["nip"], nips[1].as_str());
    assert_eq!(
        c.post(
            &format!("{R}/appraisals"),
            &json!({"period": "2026", "nips": ["197001011995031009"]})
        )
        .status,
        404
    );
    // Up to 16 named employees are read on the request's own thread, more on a blocking
    // thread: both ways keep the order, skip who has no record, and name an unknown NIP.
    // A NIP may be named once, so 15 more employees with a record join the two seeded ones.
    let mut recorded: Vec<String> = nips[..2].to_vec();
    for i in 0..15 {
        let n = nip_for(100 + i);
        let body = employee_body("disdik", "staf", "2021-03-01");
        let r = c.put(&format!("{R}/employees/{n}"), &body);
        assert_eq!(r.status, 200, "{}", r.text);
        let r = c.put(&format!("{R}/employees/{n}/periods/2026"), &period_body());
        assert_eq!(r.status, 200, "{}", r.text);
        recorded.push(n);
    }
    for len in [16, 17] {
        let mut long: Vec<&str> = recorded[..len - 1].iter().map(String::as_str).collect();
        long.push(nips[2].as_str());
        let sel = c.post(
            &format!("{R}/appraisals"),
            &json!({"period": "2026", "nips": long}),
        );
        assert_eq!(sel.status, 200, "{len}: {}", sel.text);
        let got: Vec<&str> = sel.body["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter_map(|r| r["nip"].as_str())
            .collect();
        // The third employee has no 2026 record: skipped, not appraised.
        assert_eq!(got, long[..len - 1], "{len}");
        assert_eq!(sel.body["skipped"][0]["nip"], nips[2].as_str(), "{len}");
        long[len / 2] = "197001011995031009";
        let unknown = c.post(
            &format!("{R}/appraisals"),
            &json!({"period": "2026", "nips": long}),
        );
        assert_eq!(unknown.status, 404, "{len}: {}", unknown.text);
        assert!(
            unknown.text.contains("197001011995031009"),
            "{}",
            unknown.text
        );
    }
    assert_eq!(
        c.post(&format!("{R}/appraisals"), &json!({"period": "2026-Q9"}))
            .status,
        400
    );

    // Rotate through the same plugin, stored as a decision.
    c.activate("jambi", "rotate", &id, json!({}));
    let rot = c.post(
        &format!("{R}/rotations"),
        &json!({"as_of": "2026-12-31", "agency": "disdik"}),
    );
    assert_eq!(rot.status, 200, "{}", rot.text);
    let rd = c.get(&format!(
        "/api/v1/decisions/{}",
        rot.body["decision_id"].as_str().unwrap()
    ));
    assert_eq!(rd.body["hook"], "rotate");

    // Dry run: nothing stored, logs, fuel and time shown.
    let before = c.get(&format!("{R}/employees/{}/appraisals", nips[0])).body["items"]
        .as_array()
        .unwrap()
        .len();
    let dry = c.post(
        &format!("{R}/plugins/{id}/dry-run"),
        &json!({"hook": "appraise", "period": "2026", "nips": [nips[0]]}),
    );
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert!(dry.body["fuel"].as_u64().unwrap() > 0);
    assert!(dry.body["logs"].is_string());
    assert!(dry.body["results"][0].get("decision_id").is_none());
    let after = c.get(&format!("{R}/employees/{}/appraisals", nips[0])).body["items"]
        .as_array()
        .unwrap()
        .len();
    assert_eq!(before, after, "a dry run stores nothing");
    let dry_rot = c.post(
        &format!("{R}/plugins/{id}/dry-run"),
        &json!({"hook": "rotate", "as_of": "2026-12-31"}),
    );
    assert_eq!(dry_rot.status, 200, "{}", dry_rot.text);

    // An agency that does not exist is a 404 naming it, not an empty success (nor, for a
    // rotation, a stored decision about nobody).
    for (path, body) in [
        (
            "appraisals".to_string(),
            json!({"period": "2026", "agency": "atlantis"}),
        ),
        (
            "rotations".to_string(),
            json!({"as_of": "2026-12-31", "agency": "atlantis"}),
        ),
        (
            format!("plugins/{id}/dry-run"),
            json!({"hook": "appraise", "period": "2026", "agency": "atlantis"}),
        ),
        (
            format!("plugins/{id}/dry-run"),
            json!({"hook": "rotate", "as_of": "2026-12-31", "agency": "atlantis"}),
        ),
        (
            format!("plugins/{id}/impact"),
            json!({"hook": "appraise", "period": "2026", "agency": "atlantis"}),
        ),
        (
            format!("plugins/{id}/impact"),
            json!({"hook": "rotate", "as_of": "2026-12-31", "agency": "atlantis"}),
        ),
    ] {
        let r = c.post(&format!("{R}/{path}"), &body);
        assert!(
            r.status == 404 && r.message().contains("atlantis"),
            "{path} {body}: {} {}",
            r.status,
            r.text
        );
    }

    // Same input, same module: byte-identical output.
    let a = c.post(
        &format!("{R}/plugins/{id}/dry-run"),
        &json!({"hook": "appraise", "period": "2026"}),
    );
    let b = c.post(
        &format!("{R}/plugins/{id}/dry-run"),
        &json!({"hook": "appraise", "period": "2026"}),
    );
    assert_eq!(a.body["results"], b.body["results"]);
}

#[test]
fn upload_validation_names_the_reason() {
    let s = TestServer::start();
    let c = s.client();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"hello, not wasm".to_vec(), "webassembly"),
        (
            vec![0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00],
            "component",
        ),
        (vec![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], "hook"),
        (forbidden_import_module(), "env.system"),
        (
            vec![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, 0x01, 0xff],
            "",
        ),
    ];
    for (bytes, needle) in cases {
        let r = c.post_raw(&format!("{R}/plugins"), "application/wasm", bytes);
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(
            r.message().to_lowercase().contains(needle),
            "`{}` should mention `{needle}`",
            r.message()
        );
    }
    // A 100 MiB upload: the server answers 413 as soon as it sees the length, and may close
    // the connection before a client has finished writing. An HTTP client library then reports
    // a broken pipe instead of the answer, so speak HTTP by hand and read the answer after
    // the first part of the body.
    let status = oversized_upload(&s, &format!("{R}/plugins"), 100 * 1024 * 1024);
    assert!(status.contains(" 413 "), "{status}");
    assert_eq!(
        c.get(&format!("{R}/plugins")).body["items"],
        json!([]),
        "nothing stored"
    );
    assert_eq!(c.anonymous().get("/health").status, 200);
    // Activation of something never uploaded, or for a hook it lacks.
    let r = c.put(
        &format!("{R}/policies/appraise"),
        &json!({"plugin": "0".repeat(64)}),
    );
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(
        c.put(
            &format!("{R}/policies/score"),
            &json!({"plugin": "0".repeat(64)})
        )
        .status,
        404
    );
    let id = c.upload("jambi", wasm("kinerja_test_simple"));
    assert_eq!(
        c.put(
            &format!("{R}/policies/appraise"),
            &json!({"plugin": id, "config": [1]})
        )
        .status,
        400
    );
    // Another region cannot activate this region's upload.
    assert_eq!(
        c.put(
            "/api/v1/regions/jakarta/policies/appraise",
            &json!({"plugin": id})
        )
        .status,
        400
    );
}

#[test]
fn every_failure_mode_is_named_and_the_server_keeps_serving() {
    let s = TestServer::start_in(&tempfile::tempdir().unwrap().keep(), |cfg| {
        cfg.plugin_fuel = 200_000_000;
        cfg.plugin_wall_ms = 1_000;
        cfg.plugin_memory_mib = 32;
    });
    let c = s.client();
    seed_people(&c, "jambi", "disdik");
    let good = c.upload("jambi", wasm("kinerja_test_simple"));
    let modes = [
        ("loop", vec!["fuel", "wall time"]),
        ("memory-hog", vec!["memory"]),
        ("recursion", vec!["stack"]),
        ("trap", vec!["trap", "unreachable", "panic"]),
        ("huge-stdout", vec!["stdout"]),
        ("huge-stderr", vec!["stderr"]),
        ("invalid-utf8", vec!["utf-8"]),
        ("invalid-json", vec!["invalid json"]),
        ("schema-invalid", vec!["schema"]),
        ("refusal", vec!["refused"]),
        ("exit-nonzero", vec!["exit", "3"]),
    ];
    for (name, needles) in modes {
        let id = c.upload("jambi", wasm(name));
        c.activate_forced("jambi", "appraise", &id, json!({}));
        let t = std::time::Instant::now();
        let r = c.post(
            &format!("{R}/appraisals"),
            &json!({"period": "2026", "agency": "disdik"}),
        );
        let took = t.elapsed();
        assert_eq!(r.status, 422, "{name}: {}", r.text);
        assert_eq!(r.body["error"]["code"], "plugin_failed");
        let msg = r.message().to_lowercase();
        assert!(
            msg.contains(&id),
            "{name}: the message names the whole plugin id: {msg}"
        );
        assert!(
            needles.iter().any(|n| msg.contains(n)),
            "{name}: `{msg}` should name one of {needles:?}"
        );
        eprintln!("{name}: stopped after {took:?}: {msg}");
        // Nothing stored, and the server answers at once.
        assert_eq!(c.anonymous().get("/health").status, 200);
        c.activate("jambi", "appraise", &good, json!({}));
        let ok = c.post(
            &format!("{R}/appraisals"),
            &json!({"period": "2026", "agency": "disdik"}),
        );
        assert_eq!(
            ok.status, 200,
            "{name}: a good evaluation right after: {}",
            ok.text
        );
    }
}

#[test]
fn activation_between_calls_changes_the_plugin_and_restarts_keep_it() {
    let s = TestServer::start();
    let c = s.client();
    let nips = seed_people(&c, "jambi", "disdik");
    let a = c.upload("jambi", wasm("kinerja_test_simple"));
    let b = c.upload("jambi", wasm("command"));
    assert_ne!(a, b);
    // The region's modules are paged as every list: one a page, in id order.
    let p1 = c.get(&format!("{R}/plugins?limit=1"));
    assert_eq!(p1.status, 200, "{}", p1.text);
    let next = p1.body["next"].as_str().expect("a second page").to_string();
    let p2 = c.get(&format!("{R}/plugins?limit=1&cursor={next}"));
    assert!(p2.body["next"].is_null(), "{}", p2.text);
    let mut listed = p1.item_ids();
    listed.extend(p2.item_ids());
    listed.sort();
    let mut uploaded = vec![a.clone(), b.clone()];
    uploaded.sort();
    assert_eq!(listed, uploaded);
    c.activate("jambi", "appraise", &a, json!({}));
    let first = c.post(
        &format!("{R}/appraisals"),
        &json!({"period": "2026", "nips": [nips[0]]}),
    );
    assert_eq!(first.body["plugin"], a.as_str(), "{}", first.text);
    c.activate("jambi", "appraise", &b, json!({}));
    let second = c.post(
        &format!("{R}/appraisals"),
        &json!({"period": "2026", "nips": [nips[0]]}),
    );
    assert_eq!(second.body["plugin"], b.as_str(), "{}", second.text);
    // Rollback: the older id again.
    c.activate("jambi", "appraise", &a, json!({"rolled_back": true}));
    let hist = c.get(&format!("{R}/policies")).body["history"].clone();
    assert_eq!(hist.as_array().unwrap().len(), 3);
    assert!(hist
        .as_array()
        .unwrap()
        .iter()
        .all(|h| h["by"].is_string() && h["at"].is_string()));
    let did = first.body["results"][0]["decision_id"]
        .as_str()
        .unwrap()
        .to_string();

    let s = s.restart();
    let c = s.client();
    let pol = c.get(&format!("{R}/policies"));
    assert_eq!(pol.body["active"]["appraise"]["plugin"], a.as_str());
    assert_eq!(pol.body["history"].as_array().unwrap().len(), 3);
    assert_eq!(
        c.get(&format!("{R}/plugins")).body["items"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        c.get(&format!("/api/v1/decisions/{did}")).body["plugin"],
        a.as_str()
    );
    let third = c.post(
        &format!("{R}/appraisals"),
        &json!({"period": "2026", "nips": [nips[0]]}),
    );
    assert_eq!(third.status, 200, "{}", third.text);
    assert_eq!(
        third.body["results"][0]["predikat"],
        first.body["results"][0]["predikat"]
    );
    let audit = c.get("/api/v1/audit").body["items"].clone();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert!(
        actions.iter().filter(|a| **a == "plugin.upload").count() == 2
            && actions.iter().filter(|a| **a == "policy.activate").count() == 3,
        "{actions:?}"
    );
}

#[test]
fn plugin_routes_need_the_right_role() {
    let s = TestServer::start();
    let c = s.client();
    seed_people(&c, "jambi", "disdik");
    let ra_jkt = c.with_token(&c.issue(json!({"role": "region_admin", "region": "jakarta"})));
    let ag =
        c.with_token(&c.issue(json!({"role": "agency", "region": "jambi", "agency": "disdik"})));
    assert_eq!(
        ra_jkt
            .post_raw(
                &format!("{R}/plugins"),
                "application/wasm",
                wasm("kinerja_test_simple")
            )
            .status,
        403
    );
    assert_eq!(
        ag.post_raw(
            &format!("{R}/plugins"),
            "application/wasm",
            wasm("kinerja_test_simple")
        )
        .status,
        403
    );
    let id = c.upload("jambi", wasm("kinerja_test_simple"));
    assert_eq!(
        ag.put(&format!("{R}/policies/appraise"), &json!({"plugin": id}))
            .status,
        403
    );
    c.activate("jambi", "appraise", &id, json!({}));
    // The agency may appraise its own agency, not another.
    assert_eq!(
        ag.post(&format!("{R}/appraisals"), &json!({"period": "2026"}))
            .status,
        200
    );
    assert_eq!(
        ag.post(
            &format!("{R}/appraisals"),
            &json!({"period": "2026", "agency": "dinkes"})
        )
        .status,
        403
    );
}

/// POSTs a body of `len` bytes by hand and returns the status line of the server's answer,
/// read while another thread is still writing (and may stop on a closed connection).
fn oversized_upload(s: &TestServer, path: &str, len: usize) -> String {
    use std::io::{BufRead, BufReader, Write};
    let host = s.base.trim_start_matches("http://");
    let sock = std::net::TcpStream::connect(host).expect("connect");
    sock.set_read_timeout(Some(std::time::Duration::from_secs(120)))
        .expect("timeout");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/wasm\r\nContent-Length: {len}\r\n\r\n",
        s.admin
    );
    let mut writer = sock.try_clone().expect("clone socket");
    let write = std::thread::spawn(move || {
        writer.write_all(head.as_bytes())?;
        let chunk = vec![0u8; 1024 * 1024];
        for _ in 0..len / chunk.len() {
            writer.write_all(&chunk)?;
        }
        std::io::Result::Ok(())
    });
    let mut line = String::new();
    BufReader::new(sock)
        .read_line(&mut line)
        .expect("read the status line");
    // The server may have closed the connection before the body was through: either is fine.
    let _ = write.join();
    line
}

/// An appraisal cut off by the request timeout starts no further plugin calls: its call
/// threads stop at their next batch instead of running the region to the end for nobody.
#[test]
fn an_appraisal_that_times_out_stops_calling_plugins() {
    // The metrics recorder is the process's: a region no other test here uses.
    const REGION: &str = "tenayan-raya";
    let dir = tempfile::tempdir().unwrap();
    {
        let s = TestServer::start_in(dir.path(), |_| {});
        let c = s.client();
        let id = c.upload(REGION, wasm("loop"));
        c.activate_forced(REGION, "appraise", &id, json!({}));
    }
    // One case per call, and each call spins until its 150 ms limit: seconds of calls.
    let n = 40;
    seed_bulk(dir.path(), REGION, "bench", n, 1);
    let s = TestServer::start_in(dir.path(), |cfg| {
        cfg.batch_size = 1;
        // Two calls at a time whatever the core count, so the timeout comes mid-way.
        cfg.plugin_max_in_flight = 2;
        // No pause: this is about the request's cancellation, not the pause that would end
        // the loop's calls sooner.
        cfg.plugin_pause_after = 0;
        cfg.plugin_wall_ms = 150;
        cfg.plugin_fuel = 1 << 40;
        cfg.request_timeout = std::time::Duration::from_millis(400);
    });
    let c = s.client();
    let calls = || -> u64 {
        let m = c.anonymous().get("/metrics");
        m.text
            .lines()
            .filter(|l| l.starts_with("kinerja_plugin_calls_total{") && l.contains(REGION))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64
    };
    let r = c.post(
        &format!("/api/v1/regions/{REGION}/appraisals"),
        &json!({"period": "2026", "agency": "bench"}),
    );
    assert_eq!(r.status, 408, "{}", r.text);
    // Calls under way when the request was dropped end at their limit; then the count stays.
    std::thread::sleep(std::time::Duration::from_millis(600));
    let after = calls();
    assert!(after > 0, "the appraisal was cut during its calls");
    std::thread::sleep(std::time::Duration::from_millis(900));
    assert_eq!(calls(), after, "no call starts after the request is gone");
    assert!(after < n as u64, "{after} calls of {n}");
}

/// An appraisal of more than one batch is stored whole or not at all: the answer keeps the
/// cases' order with consecutive ids and everything is stored, and a batch that fails, first or
/// last, leaves nothing of the others behind and is named in the error.
#[test]
fn a_many_batch_appraisal_is_stored_whole_or_not_at_all() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_in(dir.path(), |cfg| cfg.batch_size = 1);
    let c = s.client();
    let nips = seed_people(&c, "jambi", "disdik");
    let id = c.upload("jambi", wasm("kinerja_test_simple"));
    let appraise = || {
        c.post(
            &format!("{R}/appraisals"),
            &json!({"period": "2026", "agency": "disdik"}),
        )
    };
    let stored = |nip: &str| {
        let r = c.get(&format!("{R}/employees/{nip}/appraisals"));
        assert_eq!(r.status, 200, "{}", r.text);
        r.body["items"].as_array().map_or(0, Vec::len)
    };

    // The second employee's batch refuses: 422 naming it, and the first's decision is gone too.
    c.activate_forced("jambi", "appraise", &id, json!({"refuse_nip": nips[1]}));
    let r = appraise();
    assert_eq!(r.status, 422, "{}", r.text);
    assert_eq!(r.body["error"]["code"], "plugin_failed");
    assert!(r.message().contains(&nips[1]), "{}", r.message());
    assert_eq!((stored(&nips[0]), stored(&nips[1])), (0, 0));

    // The first batch refuses: the same.
    c.activate_forced("jambi", "appraise", &id, json!({"refuse_nip": nips[0]}));
    assert_eq!(appraise().status, 422);
    assert_eq!((stored(&nips[0]), stored(&nips[1])), (0, 0));

    // No refusal: two calls of one case each, answered in case order with consecutive ids;
    // then a single-employee appraisal (group commit).
    c.activate("jambi", "appraise", &id, json!({}));
    let r = appraise();
    assert_eq!(r.status, 200, "{}", r.text);
    let results = r.body["results"].as_array().expect("results");
    let got: Vec<&str> = results.iter().filter_map(|r| r["nip"].as_str()).collect();
    assert_eq!(got, [nips[0].as_str(), nips[1].as_str()]);
    let seqs: Vec<u64> = results
        .iter()
        .map(|r| {
            let id = r["decision_id"].as_str().expect("id");
            id.rsplit_once('-')
                .expect("dec-{region}-{seq}")
                .1
                .parse()
                .expect("seq")
        })
        .collect();
    assert_eq!(seqs[1], seqs[0] + 1, "{seqs:?}");
    assert_eq!(r.body["skipped"].as_array().map(Vec::len), Some(1));
    for (result, nip) in results.iter().zip(&nips) {
        let d = c.get(&format!(
            "/api/v1/decisions/{}",
            result["decision_id"].as_str().unwrap()
        ));
        assert_eq!(d.status, 200, "{}", d.text);
        assert_eq!(d.body["nip"].as_str(), Some(nip.as_str()));
    }
    let one = c.post(
        &format!("{R}/appraisals"),
        &json!({"period": "2026", "nips": [nips[0]]}),
    );
    assert_eq!(one.status, 200, "{}", one.text);
    assert_eq!((stored(&nips[0]), stored(&nips[1])), (2, 1));
}

/// A server over `dir` with `n` employees of Jambi seeded, test-simple uploaded (its id
/// answered), and limits that let test-simple's slow call (`config.slow_nip`, `spin`) run.
fn slow_capable(
    dir: &std::path::Path,
    n: usize,
    tweak: impl FnOnce(&mut kinerja::config::Config),
) -> (TestServer, String, Vec<String>) {
    let id = {
        let s = TestServer::start_in(dir, |_| {});
        s.client().upload("jambi", wasm("kinerja_test_simple"))
    };
    let nips = seed_bulk(dir, "jambi", "bench", n, 1);
    let s = TestServer::start_in(dir, |cfg| {
        // The slow calls of these tests count to 3–6·10^9: two to four seconds of Wasm here,
        // more on a busy machine, and nowhere near these limits.
        cfg.plugin_fuel = 1 << 40;
        cfg.plugin_wall_ms = 60_000;
        tweak(cfg);
    });
    (s, id, nips)
}

/// Single-employee appraisals that arrive while their region is busy share one plugin call,
/// and each is still answered and stored on its own: with a refused employee among them, that
/// request alone fails, and the others are stored as if they had come alone.
#[test]
fn small_appraisals_waiting_together_share_a_call_and_fail_alone() {
    let dir = tempfile::tempdir().unwrap();
    let (s, id, nips) = slow_capable(dir.path(), 7, |_| {});
    let c = s.client();
    let (slow, others) = (&nips[0], &nips[1..]);
    let appraise = |nip: &str| {
        c.post(
            &format!("{R}/appraisals"),
            &json!({"period": "2026", "nips": [nip]}),
        )
    };
    // The slow employee's call keeps the region's worker busy while the others queue.
    let round = |config: serde_json::Value| {
        c.activate_forced("jambi", "appraise", &id, config);
        std::thread::scope(|scope| {
            let blocker = scope.spawn(|| appraise(slow));
            std::thread::sleep(std::time::Duration::from_millis(500));
            let queued: Vec<_> = others
                .iter()
                .map(|nip| scope.spawn(move || appraise(nip)))
                .collect();
            let answers: Vec<_> = queued.into_iter().map(|t| t.join().unwrap()).collect();
            let blocker = blocker.join().unwrap();
            assert_eq!(blocker.status, 200, "{}", blocker.text);
            answers
        })
    };
    let slow_config = json!({"slow_nip": slow, "spin": 3_000_000_000u64});

    let answers = round(slow_config.clone());
    let mut calls = std::collections::BTreeMap::<String, Vec<u64>>::new();
    let mut ids = Vec::new();
    for (nip, r) in others.iter().zip(&answers) {
        assert_eq!(r.status, 200, "{}", r.text);
        let results = r.body["results"].as_array().expect("results");
        assert_eq!(results.len(), 1, "{}", r.text);
        assert_eq!(results[0]["nip"].as_str(), Some(nip.as_str()));
        let d = c.get(&format!(
            "/api/v1/decisions/{}",
            results[0]["decision_id"].as_str().unwrap()
        ));
        assert_eq!(d.status, 200, "{}", d.text);
        assert_eq!(d.body["nip"].as_str(), Some(nip.as_str()));
        let call = d.body["input_sha256"].as_str().unwrap().to_string();
        ids.push((call.clone(), d.body["id"].as_str().unwrap().to_string()));
        calls
            .entry(call)
            .or_default()
            .push(d.body["case_index"].as_u64().unwrap());
    }
    let shared = calls.values().map(Vec::len).max().unwrap_or(0);
    assert!(shared >= 2, "no call was shared: {calls:?}");
    // Each decision of a shared call replays to itself: its case, its part of the stdout and
    // the stored request are the right ones.
    for (call, id) in &ids {
        if calls[call].len() >= 2 {
            let r = c.post(&format!("/api/v1/decisions/{id}/replay"), &json!({}));
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(r.body["identical"], true, "{}", r.text);
        }
    }
    for cases in calls.values() {
        let mut sorted = cases.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), cases.len(), "one case per request: {calls:?}");
    }

    // One of them refused: only its request fails, and nothing of it is stored.
    let refused = &others[2];
    let mut config = slow_config;
    config["refuse_nip"] = json!(refused);
    let answers = round(config);
    for (nip, r) in others.iter().zip(&answers) {
        if nip == refused {
            assert_eq!(r.status, 422, "{}", r.text);
            assert!(r.message().contains(refused.as_str()), "{}", r.message());
        } else {
            assert_eq!(r.status, 200, "{}", r.text);
            assert_eq!(r.body["results"][0]["nip"].as_str(), Some(nip.as_str()));
        }
    }
    for nip in &nips {
        let r = c.get(&format!("{R}/employees/{nip}/appraisals"));
        assert_eq!(r.status, 200, "{}", r.text);
        let want = if nip == refused { 1 } else { 2 };
        assert_eq!(
            r.body["items"].as_array().map(Vec::len),
            Some(want),
            "{nip}"
        );
    }
}

/// One caller's requests pile up only so far: past `max(4 × batch size, 64)` waiting (64
/// here, with batches of one), the next is answered 503 busy at once, and those queued are
/// all answered.
#[test]
fn a_caller_with_too_many_appraisals_waiting_gets_503() {
    let dir = tempfile::tempdir().unwrap();
    let (s, id, nips) = slow_capable(dir.path(), 2, |cfg| cfg.batch_size = 1);
    let c = s.client();
    c.activate(
        "jambi",
        "appraise",
        &id,
        // Twice the other test's spin: the 80 requests must all arrive while it runs.
        json!({"slow_nip": nips[0], "spin": 6_000_000_000u64}),
    );
    let appraise = |nip: &str| {
        c.post(
            &format!("{R}/appraisals"),
            &json!({"period": "2026", "nips": [nip]}),
        )
    };
    let n = 80;
    let answers: Vec<(u16, Option<String>)> = std::thread::scope(|scope| {
        let blocker = scope.spawn(|| appraise(&nips[0]));
        std::thread::sleep(std::time::Duration::from_millis(500));
        let queued: Vec<_> = (0..n).map(|_| scope.spawn(|| appraise(&nips[1]))).collect();
        let answers = queued
            .into_iter()
            .map(|t| t.join().unwrap())
            .map(|r| {
                (
                    r.status,
                    r.body["error"]["code"].as_str().map(str::to_string),
                )
            })
            .collect();
        let blocker = blocker.join().unwrap();
        assert_eq!(blocker.status, 200, "{}", blocker.text);
        answers
    });
    let ok = answers.iter().filter(|a| a.0 == 200).count();
    let busy = answers
        .iter()
        .filter(|a| a.0 == 503 && a.1.as_deref() == Some("busy"))
        .count();
    assert_eq!(ok + busy, n, "only 200 or 503: {answers:?}");
    assert!(busy >= 1 && ok >= 1, "{ok} answered, {busy} busy");
    let r = c.get(&format!("{R}/employees/{}/appraisals", nips[1]));
    assert_eq!(r.body["items"].as_array().map(Vec::len), Some(ok));
}

/// The value of an unlabelled or labelled gauge line of `/metrics`, e.g.
/// `kinerja_plugin_modules{state="loaded"}`.
fn gauge(c: &Client, series: &str) -> Option<f64> {
    c.anonymous()
        .get("/metrics")
        .text
        .lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// Uploads are bounded by what they cost to compile and keep, not only by their size: a module
/// of more functions than the bound is refused before compiling, naming the bound, and leaves
/// nothing behind.
#[test]
fn an_upload_over_a_cost_bound_is_refused_before_compiling() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_in(dir.path(), |_| {});
    let c = s.client();
    seed_agency(&c, "jambi", "disdik");
    let bytes = module_of_functions(60_000);
    assert!(bytes.len() < 1 << 20, "small in bytes: {}", bytes.len());
    let r = c.post_raw("/api/v1/regions/jambi/plugins", "application/wasm", bytes);
    assert_eq!(r.status, 400, "{}", r.text);
    assert!(
        r.message().contains("60000 functions") && r.message().contains("limit"),
        "{}",
        r.message()
    );
    let list = c.get("/api/v1/regions/jambi/plugins");
    assert_eq!(list.body["items"], json!([]), "{}", list.text);
    let cached = std::fs::read_dir(dir.path().join("cache")).unwrap().count();
    assert_eq!(cached, 0, "nothing compiled or cached");
    assert_eq!(c.anonymous().get("/health").status, 200);
}

/// An upload cut off by the request timeout still finishes and is recorded: it is listed, its
/// compiled file is the cached artifact (no temporary file left), and it counts among the
/// loaded modules in `/metrics`.
#[test]
fn an_upload_cut_by_the_timeout_is_still_recorded() {
    let dir = tempfile::tempdir().unwrap();
    {
        let s = TestServer::start_in(dir.path(), |_| {});
        seed_agency(&s.client(), "jambi", "disdik");
    }
    let s = TestServer::start_in(dir.path(), |cfg| {
        cfg.request_timeout = std::time::Duration::from_millis(100);
    });
    let c = s.client();
    // Tens of thousands of functions take far longer than 100 ms to compile.
    let r = c.post_raw(
        "/api/v1/regions/jambi/plugins",
        "application/wasm",
        module_of_functions(40_000),
    );
    assert_eq!(r.status, 408, "{}", r.text);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let listed = loop {
        let list = c.get("/api/v1/regions/jambi/plugins");
        if let Some(item) = list.body["items"].as_array().and_then(|a| a.first()) {
            break item.clone();
        }
        assert!(std::time::Instant::now() < deadline, "never recorded");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let id = listed["id"].as_str().unwrap();
    let files: Vec<String> = std::fs::read_dir(dir.path().join("cache"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(
        files[0].starts_with(id) && files[0].ends_with(".cwasm"),
        "{files:?}"
    );
    assert!(gauge(&c, "kinerja_plugin_modules{state=\"loaded\"}").unwrap() >= 1.0);
    assert!(gauge(&c, "kinerja_plugin_module_resident_bytes").unwrap() > 0.0);
}

/// A module no activation uses is unloaded once idle, and its next call loads it back from
/// the compiled cache; the active one stays loaded.
#[test]
fn idle_modules_are_unloaded_and_loaded_back_on_their_next_call() {
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_in(dir.path(), |cfg| {
        cfg.plugin_idle_unload = std::time::Duration::from_millis(200);
    });
    let c = s.client();
    let nips = seed_people(&c, "jambi", "disdik");
    let active = c.upload("jambi", wasm("kinerja_test_simple"));
    c.activate("jambi", "appraise", &active, json!({}));
    let idle = c.upload("jambi", wasm("command"));
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while gauge(&c, "kinerja_plugin_modules{state=\"unloaded\"}") != Some(1.0) {
        assert!(std::time::Instant::now() < deadline, "never unloaded");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(
        gauge(&c, "kinerja_plugin_modules{state=\"loaded\"}"),
        Some(1.0)
    );
    let dry = c.post(
        &format!("{R}/plugins/{idle}/dry-run"),
        &json!({"hook": "appraise", "period": "2026", "nips": [nips[0]]}),
    );
    assert_eq!(dry.status, 200, "{}", dry.text);
    let r = c.post(
        &format!("{R}/appraisals"),
        &json!({"period": "2026", "nips": [nips[0]]}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
}

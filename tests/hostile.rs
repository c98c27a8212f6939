//! Hostile plugins over HTTP: a burst beyond capacity, sandbox escapes, and the metrics that
//! count what happened.

use kinerja_tests::*;
use std::time::{Duration, Instant};

const R: &str = "/api/v1/regions/jambi";

#[test]
fn a_burst_beyond_capacity_gets_503_never_a_hang() {
    let dir = tempfile::tempdir().unwrap().keep();
    let s = TestServer::start_in(&dir, |cfg| cfg.plugin_max_in_flight = 4);
    let c = s.client();
    let nips = seed_people(&c, "jambi", "disdik");
    let slow = c.upload("jambi", wasm("slow"));
    c.activate("jambi", "appraise", &slow, json!({}));
    // Fifty callers: one caller's waiting requests would share a call, so these need a slot
    // each.
    let callers = callers(&c, "jambi", 50);
    let t = Instant::now();
    let handles: Vec<_> = (0..50)
        .map(|i| {
            let c = callers[i].clone();
            let nip = nips[i % 2].clone();
            std::thread::spawn(move || {
                let r = c.post(
                    &format!("{R}/appraisals"),
                    &json!({"period": "2026", "nips": [nip]}),
                );
                (
                    r.status,
                    r.body["error"]["code"].as_str().map(str::to_string),
                    r.message().to_string(),
                )
            })
        })
        .collect();
    let results: Vec<(u16, Option<String>, String)> =
        handles.into_iter().map(|h| h.join().unwrap()).collect();
    let took = t.elapsed();
    let ok = results.iter().filter(|r| r.0 == 200).count();
    let busy = results
        .iter()
        .filter(|r| r.0 == 503 && r.1.as_deref() == Some("busy"))
        .count();
    eprintln!("50 concurrent slow calls, 4 slots: {ok} answered, {busy} got 503, in {took:?}");
    assert_eq!(ok + busy, 50, "only 200 or 503: {results:?}");
    assert!(ok >= 1 && busy >= 1, "{results:?}");
    assert!(took < Duration::from_secs(60), "no hang");
    assert_eq!(c.anonymous().get("/health").status, 200);
    let good = c.upload("jambi", wasm("kinerja_test_simple"));
    c.activate("jambi", "appraise", &good, json!({}));
    assert_eq!(
        c.post(&format!("{R}/appraisals"), &json!({"period": "2026"}))
            .status,
        200
    );
}

#[test]
fn plugins_reach_nothing_outside_the_sandbox() {
    let s = TestServer::start();
    let c = s.client();
    seed_people(&c, "jambi", "disdik");
    std::env::set_var("KINERJA_SECRET_FOR_TEST", "leak-me");
    let id = c.upload("jambi", wasm("sandbox-escape"));
    let run = || {
        c.post(
            &format!("{R}/plugins/{id}/dry-run"),
            &json!({"hook": "appraise", "period": "2026"}),
        )
    };
    let r = run();
    assert_eq!(r.status, 200, "{}", r.text);
    let sb = &r.body["sandbox"];
    for k in [
        "open_etc_passwd",
        "read_dir_root",
        "read_dir_cwd",
        "create_tmp_file",
        "tcp_connect",
        "tcp_listen",
        "udp_bind",
    ] {
        assert!(
            sb[k].as_str().is_some_and(|v| v.starts_with("error")),
            "{k}: {}",
            sb[k]
        );
    }
    assert_eq!(sb["env_vars"], json!([]));
    assert_eq!(sb["env_home"], json!(null));
    assert_ne!(sb["preopen_fd3_errno"], json!(0), "no preopened directory");
    assert_ne!(
        sb["sleep_errno"],
        json!(0),
        "sleep is refused, not blocking"
    );
    assert!(!r.text.contains("leak-me"));
    // Clocks and random are fixed: the same request gives the same answer.
    let again = run();
    assert_eq!(again.body["sandbox"]["wall_clock_ns"], sb["wall_clock_ns"]);
    assert_eq!(again.body["sandbox"]["random_hex"], sb["random_hex"]);
}

#[test]
fn metrics_count_requests_plugin_calls_and_limit_hits() {
    let s = TestServer::start();
    let c = s.client();
    seed_people(&c, "jambi", "disdik");
    let lp = c.upload("jambi", wasm("loop"));
    c.activate_forced("jambi", "appraise", &lp, json!({}));
    assert_eq!(
        c.post(&format!("{R}/appraisals"), &json!({"period": "2026"}))
            .status,
        422
    );
    let good = c.upload("jambi", wasm("kinerja_test_simple"));
    c.activate("jambi", "appraise", &good, json!({}));
    assert_eq!(
        c.post(&format!("{R}/appraisals"), &json!({"period": "2026"}))
            .status,
        200
    );
    let m = c.anonymous().get("/metrics");
    assert_eq!(m.status, 200);
    let text = m.text;
    let has = |needle: &str| text.lines().any(|l| l.starts_with(needle));
    assert!(
        has("kinerja_plugin_limit_hits_total{"),
        "limit hits counted:\n{text}"
    );
    assert!(text
        .lines()
        .any(
            |l| l.starts_with("kinerja_plugin_limit_hits_total") && l.contains("limit=\"fuel\"")
                || l.contains("limit=\"wall time\"")
        ));
    assert!(
        has("kinerja_plugin_calls_total{")
            && text.contains("outcome=\"ok\"")
            && text.contains("outcome=\"limit\"")
    );
    assert!(
        has("kinerja_http_requests_total{")
            && text.contains("route=\"/api/v1/regions/{region}/appraisals\"")
    );
    assert!(has("kinerja_http_request_duration_seconds_bucket"));
    assert!(
        has("kinerja_plugin_fuel_bucket") && has("kinerja_plugin_call_duration_seconds_bucket")
    );
    assert!(has("kinerja_plugin_calls_in_flight") && has("kinerja_database_size_bytes"));
    assert_eq!(c.anonymous().get("/ready").status, 200);
}

/// A call's logs carry every case of the call; an employee or agency token reading its own
/// decision must not see the colleagues' (or other agencies') NIPs and names in them. Admins
/// and the region's admin see them whole, and a dry run (admins only) shows them.
#[test]
fn plugin_logs_are_shown_only_to_admins() {
    let s = TestServer::start();
    let c = s.client();
    let nips = seed_people(&c, "jambi", "disdik");
    seed_agency(&c, "jambi", "dinkes");
    let other = nip_for(7);
    assert_eq!(
        c.put(
            &format!("{R}/employees/{other}"),
            &employee_body("dinkes", "staf", "2021-03-01")
        )
        .status,
        200
    );
    assert_eq!(
        c.put(
            &format!("{R}/employees/{other}/periods/2026"),
            &period_body()
        )
        .status,
        200
    );
    let id = c.upload("jambi", wasm("log-cases"));
    c.activate("jambi", "appraise", &id, json!({}));
    // One region-wide call: its stderr names all three appraised employees.
    let r = c.post(&format!("{R}/appraisals"), &json!({"period": "2026"}));
    assert_eq!(r.status, 200, "{}", r.text);
    let decision_of = |nip: &str| -> String {
        r.body["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["nip"] == nip)
            .unwrap_or_else(|| panic!("a result for {nip}: {}", r.text))["decision_id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let (mine, theirs) = (decision_of(&nips[0]), decision_of(&other));

    let ra = c.with_token(&c.issue(json!({"role": "region_admin", "region": "jambi"})));
    for who in [&c, &ra] {
        let d = who.get(&format!("/api/v1/decisions/{mine}"));
        assert_eq!(d.status, 200, "{}", d.text);
        let logs = d.body["logs"].as_str().unwrap();
        assert!(
            logs.contains(&nips[1]) && logs.contains(&other),
            "an admin sees the call's logs: {logs}"
        );
    }

    let em = c.with_token(&c.issue(json!({"role": "employee", "region": "jambi", "nip": nips[0]})));
    let ag =
        c.with_token(&c.issue(json!({"role": "agency", "region": "jambi", "agency": "dinkes"})));
    for (who, decision, nip, strangers) in [
        (&em, &mine, &nips[0], vec![&nips[1], &other]),
        (&ag, &theirs, &other, vec![&nips[0], &nips[1]]),
    ] {
        let d = who.get(&format!("/api/v1/decisions/{decision}"));
        assert_eq!(d.status, 200, "{}", d.text);
        let list = who.get(&format!("{R}/employees/{nip}/appraisals"));
        assert_eq!(list.status, 200, "{}", list.text);
        for text in [&d.text, &list.text] {
            for s in &strangers {
                assert!(
                    !text.contains(s.as_str()),
                    "{s} leaked to {nip}'s reader: {text}"
                );
            }
            assert!(!text.contains("log-cases:"), "logs shown: {text}");
        }
        assert_eq!(d.body["logs"], "", "{}", d.text);
    }

    // A dry run is an admin's tool and shows the logs.
    let dry = ra.post(
        &format!("{R}/plugins/{id}/dry-run"),
        &json!({"hook": "appraise", "period": "2026"}),
    );
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert!(
        dry.body["logs"].as_str().unwrap().contains(&other),
        "{}",
        dry.text
    );
}

/// Connections that never finish their headers cannot take the server down (held by the
/// thousands they would use up its file descriptors; see docs/reliability.md). A bounded
/// loopback attack from two addresses, each opening far more connections than the caps and
/// never finishing a request:
/// `/health` from a third address keeps answering, every attacking connection is closed by
/// the server within the header-read timeout (or sooner, to make room), and an idle
/// keep-alive connection is closed after the idle timeout.
#[test]
fn held_open_connections_cannot_exhaust_the_server() {
    use std::io::{Read, Write};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_in(dir.path(), |cfg| {
        cfg.max_connections = 48;
        cfg.max_connections_per_client = 24;
        cfg.header_read_timeout = Duration::from_secs(1);
        cfg.idle_timeout = Duration::from_secs(2);
    });
    let addr: std::net::SocketAddr = s.base.trim_start_matches("http://").parse().unwrap();

    // 2 × 300 connections over ~3 s, each sending half a request and then waiting; each one
    // reports how long it stayed open (at most 10 s: the test is bounded).
    let attack = std::thread::spawn(move || {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(async move {
            let mut held = Vec::new();
            for i in 0..600u32 {
                let from: std::net::IpAddr = [127, 0, 0, if i % 2 == 0 { 2 } else { 3 }].into();
                held.push(tokio::spawn(async move {
                    let sock = tokio::net::TcpSocket::new_v4().ok()?;
                    sock.bind((from, 0).into()).ok()?;
                    let mut c = sock.connect(addr).await.ok()?;
                    let opened = Instant::now();
                    let _ = c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n").await;
                    let mut buf = [0u8; 256];
                    let limit = Duration::from_secs(10);
                    loop {
                        match tokio::time::timeout(limit, c.read(&mut buf)).await {
                            Ok(Ok(0)) | Ok(Err(_)) => return Some(opened.elapsed()),
                            Ok(Ok(_)) => continue,
                            Err(_) => return Some(limit),
                        }
                    }
                }));
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
            let mut open_for = Vec::new();
            for h in held {
                open_for.push(h.await.unwrap());
            }
            open_for
        })
    });

    // Meanwhile, health checks on fresh connections from 127.0.0.1 every 50 ms.
    let health = reqwest::blocking::Client::builder()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let t = Instant::now();
    let mut checks = 0;
    while !attack.is_finished() && t.elapsed() < Duration::from_secs(20) {
        let started = Instant::now();
        let r = health.get(format!("{}/health", s.base)).send();
        assert!(
            r.as_ref().is_ok_and(|r| r.status() == 200),
            "health check {checks} failed during the attack: {r:?}"
        );
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "health check {checks} was slow"
        );
        checks += 1;
        std::thread::sleep(Duration::from_millis(50));
    }
    let open_for = attack.join().unwrap();
    assert!(checks >= 20, "only {checks} health checks ran");
    let connected: Vec<Duration> = open_for.into_iter().flatten().collect();
    assert!(
        connected.len() >= 500,
        "{} attacking connections were made",
        connected.len()
    );
    let longest = connected.iter().max().unwrap();
    assert!(
        *longest < Duration::from_secs(4),
        "an attacking connection stayed open {longest:?} (header-read timeout 1 s)"
    );
    let metrics = s.client().anonymous().get("/metrics").text;
    let evicted = metrics
        .lines()
        .find(|l| l.starts_with("kinerja_connections_closed_total") && l.contains("evicted"))
        .and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(
        evicted > 0.0,
        "the caps closed the oldest idle connections: {metrics}"
    );

    // An idle keep-alive connection: one whole request answered, then silence. (Over HTTP/1
    // the header-read timeout also bounds the wait for a next request, so the idle timeout is
    // tested on a server whose header-read timeout is longer.)
    drop(s);
    let dir = tempfile::tempdir().unwrap();
    let s = TestServer::start_in(dir.path(), |cfg| {
        cfg.header_read_timeout = Duration::from_secs(30);
        cfg.idle_timeout = Duration::from_secs(2);
    });
    let addr: std::net::SocketAddr = s.base.trim_start_matches("http://").parse().unwrap();
    let mut c = std::net::TcpStream::connect(addr).unwrap();
    c.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    c.set_read_timeout(Some(Duration::from_secs(8))).unwrap();
    let mut buf = [0u8; 1024];
    let n = c.read(&mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let idle = Instant::now();
    let closed = loop {
        match c.read(&mut buf) {
            Ok(0) | Err(_) => break idle.elapsed(),
            Ok(_) => continue,
        }
    };
    assert!(
        closed >= Duration::from_millis(1500) && closed < Duration::from_secs(6),
        "idle connection closed after {closed:?} (idle timeout 2 s)"
    );
}

/// A token of its own for each of `n` callers of `region`: one caller's waiting requests would
/// share a plugin call, and these need a slot each.
fn callers(c: &Client, region: &str, n: usize) -> Vec<Client> {
    (0..n)
        .map(|i| {
            let scope =
                json!({"role": "region_admin", "region": region, "label": format!("caller {i}")});
            c.with_token(&c.issue(scope))
        })
        .collect()
}

/// How many appraisal decisions an employee has (every page).
fn decisions_of(c: &Client, region: &str, nip: &str) -> usize {
    let r = c.get(&format!(
        "/api/v1/regions/{region}/employees/{nip}/appraisals?limit=1000"
    ));
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.body["next"].is_null(), "one page holds them");
    r.body["items"].as_array().map_or(0, Vec::len)
}

/// One region's looping plugin, called by eight clients at once, holds no more than its share
/// of the plugin slots while another region calls: the other region is never answered 503 and
/// every decision it was answered is stored. (Pauses are off: the slots alone are tested; the
/// throughput bench prints the other region's latency against its baseline.)
#[test]
fn a_looping_region_leaves_other_regions_their_share_of_the_slots() {
    let dir = tempfile::tempdir().unwrap().keep();
    let s = TestServer::start_in(&dir, |cfg| {
        cfg.plugin_max_in_flight = 4;
        cfg.plugin_pause_after = 0;
        cfg.plugin_wall_ms = 300;
        cfg.plugin_fuel = 1 << 40;
    });
    let c = s.client();
    seed_people(&c, "jambi", "disdik");
    let nips = seed_people(&c, "jakarta", "disdik");
    let lp = c.upload("jambi", wasm("loop"));
    c.activate_forced("jambi", "appraise", &lp, json!({}));
    let good = c.upload("jakarta", wasm("kinerja_test_simple"));
    c.activate("jakarta", "appraise", &good, json!({}));
    let before: usize = nips[..2]
        .iter()
        .map(|n| decisions_of(&c, "jakarta", n))
        .sum();

    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hammer: Vec<_> = callers(&c, "jambi", 8)
        .into_iter()
        .map(|jc| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut statuses = Vec::new();
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let r = jc.post(
                        &format!("{R}/appraisals"),
                        &json!({"period": "2026", "agency": "disdik"}),
                    );
                    if r.status == 503 {
                        std::thread::sleep(Duration::from_millis(10));
                    }
                    statuses.push(r.status);
                }
                statuses
            })
        })
        .collect();
    // Jambi alone first: it may take every slot while no one else wants one.
    std::thread::sleep(Duration::from_millis(500));
    let per_client = 15;
    let jakarta: Vec<_> = callers(&c, "jakarta", 2)
        .into_iter()
        .zip(nips.clone())
        .map(|(kc, nip)| {
            std::thread::spawn(move || {
                (0..per_client)
                    .map(|_| {
                        let r = kc.post(
                            "/api/v1/regions/jakarta/appraisals",
                            &json!({"period": "2026", "nips": [nip]}),
                        );
                        (r.status, r.text)
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    let answers: Vec<(u16, String)> = jakarta
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect();
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let jambi: Vec<u16> = hammer.into_iter().flat_map(|h| h.join().unwrap()).collect();
    let busy = jambi.iter().filter(|s| **s == 503).count();
    eprintln!(
        "jambi: {} requests, {busy} answered 503; jakarta: {} requests",
        jambi.len(),
        answers.len()
    );
    assert!(
        jambi.iter().all(|s| *s == 422 || *s == 503),
        "the looping region gets its limit or busy: {jambi:?}"
    );
    assert!(busy > 0, "jambi asked for more than its share");
    for (status, text) in &answers {
        assert_eq!(*status, 200, "jakarta is never refused: {text}");
    }
    let after: usize = nips[..2]
        .iter()
        .map(|n| decisions_of(&c, "jakarta", n))
        .sum();
    assert_eq!(
        after - before,
        2 * per_client,
        "every answered decision is stored"
    );
    assert_eq!(c.anonymous().get("/health").status, 200);
}

/// A plugin that runs into its time limit on three calls in a row is paused for its region:
/// its calls are answered 503 at once, naming the plugin, with `Retry-After`, while other
/// regions are served; activating a plugin ends the pause.
#[test]
fn a_plugin_that_keeps_hitting_its_limit_is_paused_until_an_activation() {
    let dir = tempfile::tempdir().unwrap().keep();
    let s = TestServer::start_in(&dir, |cfg| cfg.plugin_pause_after = 3);
    let c = s.client();
    seed_people(&c, "jambi", "disdik");
    seed_people(&c, "jakarta", "disdik");
    let lp = c.upload("jambi", wasm("loop"));
    c.activate_forced("jambi", "appraise", &lp, json!({}));
    let good = c.upload("jakarta", wasm("kinerja_test_simple"));
    c.activate("jakarta", "appraise", &good, json!({}));
    let appraise = |region: &str| {
        c.post(
            &format!("/api/v1/regions/{region}/appraisals"),
            &json!({"period": "2026", "agency": "disdik"}),
        )
    };
    for _ in 0..3 {
        let r = appraise("jambi");
        assert_eq!(r.status, 422, "{}", r.text);
    }
    let t = Instant::now();
    let r = appraise("jambi");
    assert_eq!(r.status, 503, "{}", r.text);
    assert!(t.elapsed() < Duration::from_secs(1), "refused at once");
    assert_eq!(r.body["error"]["code"], "plugin_paused");
    assert!(
        r.message().contains(&lp) && r.message().contains("jambi"),
        "{}",
        r.message()
    );
    let wait: u64 = r
        .retry_after
        .as_deref()
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=30).contains(&wait), "{wait}");
    assert_eq!(appraise("jakarta").status, 200, "other regions are served");
    let metrics = c.anonymous().get("/metrics").text;
    assert!(
        metrics
            .lines()
            .any(|l| l == "kinerja_plugin_modules{state=\"paused\"} 1"),
        "{metrics}"
    );
    c.activate_forced("jambi", "appraise", &lp, json!({}));
    assert_eq!(
        appraise("jambi").status,
        422,
        "the activation ended the pause"
    );
}

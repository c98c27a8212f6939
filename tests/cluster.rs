//! Kinerja on three nodes behind a real HAProxy (issue 26), end to end on loopback ports:
//! routing by region, a node's 421 for a region it does not hold, a live move of a region
//! under a stream of writes, a node killed while the others serve, and a proxy restart that
//! keeps the moved region's route. It needs `haproxy`: `scripts/cluster-test.sh` installs it
//! and runs this test (`--ignored`), as part of the test command.

use kinerja_tests::cluster::*;
use kinerja_tests::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Where each region lives at the start.
const PLACEMENT: [(&str, &str); 6] = SIX_REGIONS;

/// The region moved from `a` to `c` under load.
const MOVED: &str = "jakarta";

/// The regions a node counted requests for, from its `/metrics`.
fn regions_counted(node: &Node, admin: &str) -> BTreeSet<String> {
    let m = Client::new(&node.base(), admin).get("/metrics");
    assert_eq!(m.status, 200, "{}", m.text);
    m.text
        .lines()
        .filter(|l| l.starts_with("kinerja_region_requests_total{"))
        .filter_map(|l| l.split("region=\"").nth(1)?.split('"').next())
        .map(str::to_string)
        .collect()
}

/// Retries `send` while it answers 503 (a region's writes paused for a move); answers the
/// final response and how many 503s came first.
fn until_not_busy(send: impl Fn() -> Resp) -> (Resp, usize) {
    let mut busy = 0;
    loop {
        let r = send();
        if r.status != 503 || busy > 600 {
            return (r, busy);
        }
        busy += 1;
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
#[ignore = "needs haproxy: run by scripts/cluster-test.sh"]
fn three_nodes_behind_haproxy() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    // One admin secret, its hash provisioned to every node.
    let secret = format!(
        "knj_{}",
        kinerja::store::blob::sha256_hex(format!("{:?}", Instant::now()).as_bytes())
    );
    let admin_tokens = root.join("admin-tokens");
    std::fs::write(
        &admin_tokens,
        format!(
            "tok_cluster_admin {} cluster admin\n",
            kinerja::store::blob::sha256_hex(secret.as_bytes())
        ),
    )
    .expect("write");
    let token_file = root.join("admin.secret");
    std::fs::write(&token_file, &secret).expect("write");

    let mut nodes: BTreeMap<String, Node> = start_nodes(root, &["a", "b", "c"], &admin_tokens)
        .into_iter()
        .map(|n| (n.name.clone(), n))
        .collect();

    // 1. Each region created and seeded on its node, straight to it.
    let plugin = wasm("kinerja_plugin_jambi");
    let mut nips: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (region, node) in PLACEMENT {
        let c = Client::new(&nodes[node].base(), &secret);
        let r = c.put(
            &format!("/api/v1/regions/{region}"),
            &json!({"name": region, "level": "kota", "time_zone": "Asia/Jakarta"}),
        );
        assert_eq!(r.status, 201, "{region} on {node}: {}", r.text);
        let r = c.put(
            &format!("/api/v1/regions/{region}/reporting"),
            &json!({"window_months": WIDE_WINDOW_MONTHS}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
        nips.insert(region, seed_people(&c, region, "dinas"));
        // The moved region's module is one its target has never had: the move takes it along.
        let module = if region == MOVED {
            wasm("kinerja_test_simple")
        } else {
            plugin.clone()
        };
        let id = c.upload(region, module);
        c.activate(region, "appraise", &id, json!({}));
    }
    let (cluster_file, mut proxy, proxy_base) =
        start_proxy(root, &nodes.values().collect::<Vec<_>>(), &PLACEMENT);
    let via = Client::new(&proxy_base, &secret);

    // 2. Routing: a mixed workload through the proxy reaches each region's own node only.
    for (region, _) in PLACEMENT {
        let e = via.get(&format!("/api/v1/regions/{region}/employees"));
        assert_eq!(e.status, 200, "{region}: {}", e.text);
        let a = via.post(
            &format!("/api/v1/regions/{region}/appraisals"),
            &json!({"period": "2026", "nips": [nips[region][0]]}),
        );
        assert_eq!(a.status, 200, "{region}: {}", a.text);
        let id = a.body["results"][0]["decision_id"].as_str().expect("id");
        assert!(id.starts_with(&format!("dec-{region}-")), "{id}");
    }
    // An admin's list of regions through the proxy (the admin node answers it) is the whole
    // cluster's, page by page; a node asked for its own lists those alone.
    let all: Vec<String> = PLACEMENT
        .iter()
        .map(|(r, _)| r.to_string())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(listed(&via), all);
    let own_only = reqwest::blocking::Client::new()
        .get(format!("{}/api/v1/regions", nodes["b"].base()))
        .bearer_auth(&secret)
        .header(kinerja::api::NODE_ONLY, "1")
        .send()
        .expect("GET /api/v1/regions");
    assert_eq!(own_only.status(), 200);
    let own_only: Value = own_only.json().expect("a page");
    let listed_on_b: BTreeSet<&str> = own_only["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    let on_b: BTreeSet<&str> = PLACEMENT
        .iter()
        .filter(|(_, n)| *n == "b")
        .map(|(r, _)| *r)
        .collect();
    assert_eq!(listed_on_b, on_b);
    // An admin token issued through the admin node's API is that node's alone: its list says
    // so rather than showing the admin node's regions as if they were all.
    let local_admin = Client::new(&proxy_base, &via.issue(json!({"role": "admin"})));
    let refused = local_admin.get("/api/v1/regions");
    assert_eq!(refused.status, 502, "{}", refused.text);
    assert!(
        refused.text.contains("does not know this admin token"),
        "{}",
        refused.text
    );
    for (name, node) in &nodes {
        let own: BTreeSet<String> = PLACEMENT
            .iter()
            .filter(|(_, n)| n == name)
            .map(|(r, _)| r.to_string())
            .collect();
        assert_eq!(regions_counted(node, &secret), own, "node {name}");
    }
    let stray = Client::new(&nodes["b"].base(), &secret).get("/api/v1/regions/jambi/employees");
    assert_eq!(stray.status, 421, "{}", stray.text);
    assert!(stray.text.contains("jambi"), "{}", stray.text);

    // An employee of a region on node b signs in through the proxy under the region's prefix,
    // and the session's routes that name no region (who am I, sign out) follow its token.
    let tr = "tenayan-raya";
    let someone = &nips[tr][0];
    let set = via.put(
        &format!("/api/v1/regions/{tr}/employees/{someone}/password"),
        &json!({"password": "sementara-2026"}),
    );
    assert_eq!(set.status, 204, "{}", set.text);
    let session = via.anonymous().post(
        &format!("/api/v1/regions/{tr}/sessions"),
        &json!({"nip": someone, "password": "sementara-2026"}),
    );
    assert_eq!(session.status, 201, "{}", session.text);
    let employee = via.with_token(session.body["token"].as_str().expect("secret"));
    let me = employee.get("/api/v1/tokens/self");
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(
        (me.body["region"].as_str(), me.body["nip"].as_str()),
        (Some(tr), Some(someone.as_str()))
    );
    assert_eq!(employee.delete("/api/v1/sessions/self").status, 204);
    assert_eq!(
        employee.get("/api/v1/tokens/self").status,
        401,
        "signed out"
    );

    // A survey slip's link names its region, and the answer under that prefix reaches the
    // region's node through the proxy with no token.
    let agency = employee_agency(&via, tr, someone);
    let issued = via.post(
        &format!("/api/v1/regions/{tr}/agencies/{agency}/surveys"),
        &json!({"period": "2026", "count": 1}),
    );
    assert_eq!(issued.status, 201, "{}", issued.text);
    let code = issued.body["codes"][0].as_str().expect("a code");
    assert_eq!(issued.body["links"][0], format!("/#/survey/{tr}/{code}"));
    let answer = via.anonymous().post(
        &format!("/api/v1/regions/{tr}/surveys/{code}"),
        &json!({"elements": [4, 4, 4, 4, 3, 3, 3, 3, 4]}),
    );
    assert_eq!(answer.status, 204, "{}", answer.text);

    // Moving regions is for admins: a region's own admin may not move, release, resume or
    // send in its region.
    let a = Client::new(&nodes["a"].base(), &secret);
    let issued = a.post(
        "/api/v1/regions/jambi/tokens",
        &json!({"role": "region_admin"}),
    );
    assert_eq!(issued.status, 201, "{}", issued.text);
    let ra = a.with_token(issued.body["token"].as_str().expect("secret"));
    for (path, body) in [
        (
            "move",
            json!({"to": format!("http://127.0.0.1:{}", nodes["c"].port)}),
        ),
        ("resume", json!({})),
        ("release", json!({})),
    ] {
        let r = ra.post(&format!("/api/v1/regions/jambi/{path}"), &body);
        assert_eq!(r.status, 403, "{path}: {}", r.text);
    }
    let r = Client::new(&nodes["c"].base(), &secret)
        .with_token(issued.body["token"].as_str().expect("secret"))
        .put_raw(
            "/api/v1/regions/kota-batam-baru/file",
            "application/octet-stream",
            b"x".to_vec(),
        );
    assert_eq!(
        r.status, 401,
        "a region's token is not known on another node: {}",
        r.text
    );
    let r = Client::new(&nodes["c"].base(), &secret).put_raw(
        "/api/v1/regions/kota-batam-baru/file",
        "application/octet-stream",
        b"not a region file".to_vec(),
    );
    assert_eq!(r.status, 400, "no checksum header: {}", r.text);
    // A region's file and the mover's credentials go only to a peer of the cluster.
    let r = a.post(
        "/api/v1/regions/jambi/move",
        &json!({"to": "http://203.0.113.9:80"}),
    );
    assert_eq!(r.status, 400, "not a peer: {}", r.text);
    let r = ra.put_raw(
        "/api/v1/regions/jambi/file",
        "application/octet-stream",
        b"x".to_vec(),
    );
    assert_eq!(r.status, 403, "file: {}", r.text);
    assert_eq!(
        a.get("/api/v1/regions/jambi/employees").status,
        200,
        "and jambi still served"
    );

    // 3. A move under load: writers post reports (and now and then an appraisal) to the
    // region through the proxy before, during and after its move, retrying on 503.
    let acked: Arc<Mutex<Vec<u64>>> = Arc::default();
    let busy = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let day = Arc::new(AtomicUsize::new(0));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (acked, busy, stop, day) = (
                Arc::clone(&acked),
                Arc::clone(&busy),
                Arc::clone(&stop),
                Arc::clone(&day),
            );
            let (c, nips) = (via.clone(), nips[MOVED].clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Acquire) {
                    let i = day.fetch_add(1, Ordering::AcqRel);
                    assert!(i < 3000, "the writers ran out of days");
                    let date = format!(
                        "{}-{:02}-{:02}",
                        2018 + i / 336,
                        1 + (i / 28) % 12,
                        1 + i % 28
                    );
                    let path = format!("/api/v1/regions/{MOVED}/employees/{}/activities", nips[0]);
                    let body =
                        json!({"date": date, "minutes": 30, "description": format!("laporan {i}")});
                    let (r, b) = until_not_busy(|| c.post(&path, &body));
                    busy.fetch_add(b, Ordering::AcqRel);
                    assert_eq!(r.status, 201, "writer {w}: {}", r.text);
                    let id = r.body["items"][0]["id"].as_u64().expect("an id");
                    acked.lock().expect("acked").push(id);
                    if i % 7 == 0 {
                        let path = format!("/api/v1/regions/{MOVED}/appraisals");
                        let body = json!({"period": "2026", "nips": [nips[1]]});
                        let (r, b) = until_not_busy(|| c.post(&path, &body));
                        busy.fetch_add(b, Ordering::AcqRel);
                        assert_eq!(r.status, 200, "writer {w}: {}", r.text);
                    }
                }
            })
        })
        .collect();
    let wait_for = |n: usize| {
        let t = Instant::now();
        while acked.lock().expect("acked").len() < n {
            assert!(t.elapsed() < Duration::from_secs(60), "the writers stalled");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    wait_for(40);
    let (code, out, err) = kinerja(&[
        "region",
        "move",
        MOVED,
        "--to",
        "c",
        "--cluster",
        cluster_file.to_str().expect("utf-8"),
        "--token-file",
        token_file.to_str().expect("utf-8"),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let after_move = acked.lock().expect("acked").len();
    wait_for(after_move + 40);
    stop.store(true, Ordering::Release);
    for w in writers {
        w.join().expect("writer");
    }
    let acked = acked.lock().expect("acked").clone();
    assert!(
        acked.len() < 1000,
        "one page holds them all: {}",
        acked.len()
    );
    assert!(
        busy.load(Ordering::Acquire) > 0,
        "writes during the pause were answered 503 (and then retried)"
    );
    // Every acknowledged report is on the target exactly once, and nothing else.
    let on_target = Client::new(&nodes["c"].base(), &secret).get(&format!(
        "/api/v1/regions/{MOVED}/employees/{}/activities?limit=1000&from=2018-01-01&to=2030-12-31",
        nips[MOVED][0]
    ));
    assert_eq!(on_target.status, 200, "{}", on_target.text);
    let mut stored: Vec<u64> = on_target.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|a| a["id"].as_u64())
        .collect();
    stored.sort_unstable();
    let mut want = acked.clone();
    want.sort_unstable();
    assert_eq!(stored, want, "every acknowledged write once, on the target");
    let gone =
        Client::new(&nodes["a"].base(), &secret).get(&format!("/api/v1/regions/{MOVED}/employees"));
    assert_eq!(gone.status, 421, "the source lets go: {}", gone.text);
    let again = Client::new(&nodes["a"].base(), &secret).put(
        &format!("/api/v1/regions/{MOVED}"),
        &json!({"name": MOVED, "level": "kota", "time_zone": "Asia/Jakarta"}),
    );
    assert_eq!(
        again.status, 409,
        "no second, empty copy on the source: {}",
        again.text
    );
    assert_eq!(
        via.get(&format!("/api/v1/regions/{MOVED}/employees"))
            .status,
        200
    );

    // 4. Node b killed: every other region still answers, b's fail fast, and after a restart
    // they serve again with their acknowledged writes.
    let tr = "tenayan-raya";
    let before = via.post(
        &format!("/api/v1/regions/{tr}/employees/{}/activities", nips[tr][0]),
        &json!({"date": "2026-01-05", "minutes": 45, "description": "sebelum mati"}),
    );
    assert_eq!(before.status, 201, "{}", before.text);
    nodes.get_mut("b").expect("b").kill();
    for (region, node) in PLACEMENT {
        let owner = if region == MOVED { "c" } else { node };
        for _ in 0..10 {
            let t = Instant::now();
            let r = via.get(&format!("/api/v1/regions/{region}/employees"));
            if owner == "b" {
                assert!(r.status >= 500, "{region}: {} {}", r.status, r.text);
                assert!(
                    t.elapsed() < Duration::from_secs(5),
                    "{region} failed slowly"
                );
            } else {
                assert_eq!(r.status, 200, "{region} with b down: {}", r.text);
            }
        }
    }
    // A list of the regions cannot be whole with b down: 502 naming it, not a shorter list.
    let partial = via.get("/api/v1/regions");
    assert_eq!(partial.status, 502, "{}", partial.text);
    let b_address = nodes["b"].base().trim_start_matches("http://").to_string();
    assert!(partial.text.contains(&b_address), "{}", partial.text);
    let peers = peer_list(nodes.values());
    nodes.get_mut("b").expect("b").start(&admin_tokens, &peers);
    let t = Instant::now();
    let back = loop {
        let r = via.get(&format!(
            "/api/v1/regions/{tr}/employees/{}/activities?from=2026-01-01&to=2026-01-31",
            nips[tr][0]
        ));
        if r.status == 200 || t.elapsed() > Duration::from_secs(15) {
            break r;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(back.status, 200, "{}", back.text);
    assert!(back.text.contains("sebelum mati"), "{}", back.text);
    // Every region once after the move and b's restart.
    assert_eq!(listed(&via), all);

    // 5. The proxy restarted reads the rewritten map: the moved region still goes to c.
    proxy.kill();
    proxy.start(&proxy_base);
    let r = via.get(&format!("/api/v1/regions/{MOVED}/employees"));
    assert_eq!(r.status, 200, "after a proxy restart: {}", r.text);
    let map = std::fs::read_to_string(root.join("regions.map")).expect("map");
    assert!(map.contains(&format!("{MOVED} node_c")), "{map}");

    // Every decision of the moved region replays byte for byte from the target's file.
    proxy.kill();
    for n in nodes.values_mut() {
        n.stop();
    }
    let (code, out, err) = kinerja(&[
        "audit",
        "verify",
        "--quiet",
        "--data-dir",
        nodes["c"].dir.to_str().expect("utf-8"),
        "--region",
        MOVED,
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(out.trim()).expect("report");
    assert!(report["decisions"].as_u64().expect("count") > 3, "{report}");
    assert_eq!(report["identical"], report["decisions"], "{report}");
}

/// The agency an employee works in, read through `via`.
fn employee_agency(via: &Client, region: &str, nip: &str) -> String {
    let employee = via.get(&format!("/api/v1/regions/{region}/employees/{nip}"));
    assert_eq!(employee.status, 200, "{}", employee.text);
    employee.body["agency"]
        .as_str()
        .expect("an employee's agency")
        .to_owned()
}

/// The ids of every region an admin's list pages through, four a page.
fn listed(via: &Client) -> Vec<String> {
    let mut ids = Vec::new();
    let mut path = "/api/v1/regions?limit=4".to_string();
    loop {
        let page = via.get(&path);
        assert_eq!(page.status, 200, "{}", page.text);
        ids.extend(page.item_ids());
        match page.body["next"].as_str() {
            Some(next) => path = format!("/api/v1/regions?limit=4&cursor={next}"),
            None => return ids,
        }
    }
}

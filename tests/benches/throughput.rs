//! Throughput of the whole pipeline (issue 6, measurements 4, 5 and 8).
//!
//! The machine is shared and noisy, so every figure is printed next to a baseline measured in
//! the same run, and the ratio is what to compare between runs. Nothing here asserts on time:
//! `cargo test` runs this without `--bench`, in a short mode with tiny counts that only checks
//! that every path works and stores what it should; `cargo bench -p kinerja-tests --bench
//! throughput` runs the full counts.
//!
//! 4. Batch: 100,000 employees of one region appraised end to end in process (records read
//!    from redb, cases built, the Jambi plugin run in batches on all cores, decisions stored).
//!    Baseline: reading the same inputs from redb alone (employees, period records, report
//!    days) — the floor any appraisal pays — so the ratio says how many "plain reads" the
//!    whole appraisal costs. The phase split shows the host's share against the plugins'.
//! 5. HTTP: a tokio + reqwest load generator against `POST /appraisals` (one employee) and
//!    `GET /health` in the same run; ratio appraisal/health requests per second. The clients
//!    share one token (one caller, whose waiting requests share plugin calls) and then have a
//!    token each (callers apart, who never share). Also `GET` of that employee, the cheapest
//!    authenticated request with a record behind it, for scale.
//! 8. Ingest: 1,000,000 daily reports through `POST …/activities` (10,000 per request) and
//!    through `kinerja import` (the real binary); ratio import/API.
//! 9. Fairness: Jakarta's one-employee appraisals (two clients) alone, then while eight Jambi
//!    clients call a looping plugin, with pauses off (the fair share of slots alone) and on;
//!    ratio of Jakarta's p50 and p99 with the loop to without, and its 503s (there should be
//!    none).
//! 10. Sign-in: a wrong password, an unknown NIP and a NIP without a password, interleaved, one
//!     at a time; ratio of each median to the wrong password's. Equal answers must take equal
//!     time, or the timing tells which NIPs exist; the ratios should be 1.0 within noise. The
//!     right password (which also opens a session) is shown for scale.
//! 11. Regions: durable one-employee appraisals (a token each, so no two share a call or wait
//!     for each other's) on one region, then the same load spread over three regions; ratio of
//!     the spread requests per second to the one region's. With one database file every
//!     region's commits queue behind one writer, so the ratio was about 1; with a file per
//!     region each region commits on its own.
//! 13. Cluster: three nodes behind a real HAProxy, six regions two to a node, durable
//!     one-employee appraisals spread over the six: through the proxy against straight to each
//!     region's node (the proxy's own cost, requests/s and p99), and one node holding all six
//!     against the three (straight). Skipped when haproxy is not installed
//!     (`scripts/cluster-test.sh` installs it).
//! 12. Opening: a data dir of 100 regions (mostly idle: an agency and a few employees each)
//!     opened by `Store::open`, against one of a single region, in the same run; ratio of the
//!     times, and the memory (RSS) each open adds to the process.

use kinerja::policy::Policy;
use kinerja::store::Store;
use kinerja_tests::*;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

const REGION: &str = "jambi";
const AGENCY: &str = "bench";

struct Counts {
    batch: usize,
    http_secs: f64,
    http_concurrency: usize,
    ingest: usize,
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let counts = if full {
        Counts {
            batch: 100_000,
            http_secs: 5.0,
            // `KINERJA_BENCH_CLIENTS` to load the server harder (or softer) than 16 clients.
            http_concurrency: std::env::var("KINERJA_BENCH_CLIENTS")
                .ok()
                .and_then(|v| v.parse().ok())
                .unwrap_or(16),
            ingest: 1_000_000,
        }
    } else {
        Counts {
            batch: 450,
            http_secs: 0.3,
            http_concurrency: 4,
            ingest: 3_000,
        }
    };
    println!(
        "throughput ({} mode) on {} cores",
        if full { "full" } else { "short" },
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    );
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let run = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));
    if run("batch") {
        batch(&counts);
    }
    if run("http") {
        http(&counts);
    }
    if run("ingest") {
        ingest(&counts);
    }
    if run("fair") {
        fairness(&counts);
    }
    if run("sign") {
        sign_in(full);
    }
    if run("regions") {
        regions(&counts);
    }
    if run("open") {
        open_many(full);
    }
    if run("cluster") {
        cluster_bench(&counts);
    }
}

fn cluster_bench(counts: &Counts) {
    use kinerja_tests::cluster::{start_nodes, start_proxy, Node, SIX_REGIONS};
    const SIX: [(&str, &str); 6] = SIX_REGIONS;
    if std::process::Command::new("haproxy")
        .arg("-v")
        .output()
        .is_err()
    {
        println!("\n[13] Cluster: skipped, haproxy is not installed (scripts/cluster-test.sh installs it)");
        return;
    }
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path();
    let secret = format!("knj_{}", kinerja::store::blob::sha256_hex(b"cluster bench"));
    let tokens = root.join("admin-tokens");
    let line = format!(
        "tok_bench {} bench\n",
        kinerja::store::blob::sha256_hex(secret.as_bytes())
    );
    std::fs::write(&tokens, line).expect("write");
    let mut nodes = start_nodes(root, &["a", "b", "c", "solo"], &tokens);
    let base = |name: &str| {
        nodes
            .iter()
            .find(|n| n.name == name)
            .map(Node::base)
            .expect("node")
    };
    let plugin = wasm("kinerja_plugin_jambi");
    let mut nips = Vec::new();
    for (region, node) in SIX {
        for on in [node, "solo"] {
            let c = Client::new(&base(on), &secret);
            let r = c.put(
                &format!("/api/v1/regions/{region}"),
                &json!({"name": region, "level": "kota", "time_zone": "Asia/Jakarta"}),
            );
            assert_eq!(r.status, 201, "{}", r.text);
            let people = seed_people(&c, region, "dinas");
            if on == node {
                nips.push(people[0].clone());
            }
            let id = c.upload(region, plugin.clone());
            c.activate(region, "appraise", &id, json!({}));
        }
    }
    let three: Vec<&Node> = nodes.iter().filter(|n| n.name != "solo").collect();
    let (_, mut proxy, via) = start_proxy(root, &three, &SIX);

    // Client i appraises the employee of region i % 6, at `target(region's node)`.
    let targets: Vec<(String, String, String, String)> = SIX
        .iter()
        .zip(&nips)
        .map(|((r, n), nip)| (r.to_string(), nip.clone(), base(n), base("solo")))
        .collect();
    let targets = Arc::new(targets);
    let rt = load_runtime();
    let (proxied, direct, solo) = rt.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(counts.http_concurrency)
            .build()
            .expect("client");
        let at = |how: u8| {
            let (t, via, secret) = (Arc::clone(&targets), via.clone(), secret.clone());
            move |c: &reqwest::Client, i: usize| {
                let (region, nip, node, solo) = &t[i % t.len()];
                let host = match how {
                    0 => &via,
                    1 => node,
                    _ => solo,
                };
                c.post(format!("{host}/api/v1/regions/{region}/appraisals"))
                    .bearer_auth(&secret)
                    .json(&json!({"period": "2026", "nips": [nip]}))
            }
        };
        for how in 0..3 {
            load(&client, 2, 0.1, at(how)).await;
        }
        let mut out = Vec::new();
        for how in 0..3 {
            out.push(load(&client, counts.http_concurrency, counts.http_secs, at(how)).await);
        }
        let solo = out.pop().expect("solo");
        let direct = out.pop().expect("direct");
        let proxied = out.pop().expect("proxied");
        (proxied, direct, solo)
    });
    proxy.kill();
    for n in &mut nodes {
        n.stop();
    }
    assert!(proxied.n > 0 && direct.n > 0 && solo.n > 0);
    println!(
        "\n[13] Cluster: durable one-employee appraisals over six regions, {} clients × {:.1} s",
        counts.http_concurrency, counts.http_secs
    );
    for (name, l) in [
        ("three nodes, via HAProxy", &proxied),
        ("three nodes, straight", &direct),
        ("one node, all six", &solo),
    ] {
        l.print(name);
    }
    println!(
        "  ratio via proxy/straight   {:>8.3} req/s   p99 {:>6.2}   (the proxy's own cost)",
        proxied.rps / direct.rps,
        proxied.p99.as_secs_f64() / direct.p99.as_secs_f64()
    );
    println!(
        "  ratio three nodes/one      {:>8.3} req/s   (three nodes on the same cores)",
        direct.rps / solo.rps
    );
}

/// The resident memory of process `pid`, from /proc (0 where there is none).
fn rss_of(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kib| kib * 1024)
}

/// Starts the real server on `dir`; answers the time until it listens and its resident
/// memory then (after a health check), and stops it.
fn serve_once(dir: &Path) -> (Duration, u64) {
    use std::io::BufRead;
    let t = Instant::now();
    let mut child = std::process::Command::new(kinerja_binary())
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start kinerja");
    let mut line = String::new();
    let mut out = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    while !line.contains("listening on") {
        line.clear();
        assert!(
            out.read_line(&mut line).expect("read") > 0,
            "the server stopped"
        );
    }
    let up = t.elapsed();
    let addr = line.trim().rsplit('/').next().expect("address").to_string();
    let health = reqwest::blocking::get(format!("http://{addr}/health")).expect("health");
    assert!(health.status().is_success());
    let rss = rss_of(child.id());
    let _ = child.kill();
    let _ = child.wait();
    (up, rss)
}

/// A data dir of `n` regions, each with an agency, a position and `people` employees with a
/// period record.
fn data_dir_of(n: usize, people: usize) -> tempfile::TempDir {
    use kinerja::domain::records::{AgencyInput, EmployeeInput, PeriodInput, PositionInput};
    use kinerja::domain::region::{RegionInput, RegionLevel};
    use kinerja::store::BulkEmployee;
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::open(tmp.path()).expect("open");
    let position: PositionInput = serde_json::from_value(json!({
        "title": "staf", "agency": AGENCY, "kind": "fungsional", "level": 1, "capacity": 100}))
    .expect("position");
    let employee: EmployeeInput =
        serde_json::from_value(employee_body(AGENCY, "staf", "2021-03-01")).expect("employee");
    let period = kinerja::domain::period::Period::parse("2026").expect("period");
    let data: PeriodInput = serde_json::from_value(period_body()).expect("period body");
    for r in 0..n {
        let region = format!("kota-{r:03}");
        let input = RegionInput {
            name: format!("Kota {r}"),
            level: RegionLevel::Kota,
            time_zone: kinerja::domain::reporting::TimeZone::Wib,
        };
        store.put_region(&region, input, "bench").expect("region");
        let agency = AgencyInput {
            name: "Dinas".into(),
        };
        store
            .upsert_agency(&region, AGENCY, agency)
            .expect("agency");
        store
            .upsert_position(&region, &format!("{AGENCY}-staf"), position.clone())
            .expect("position");
        let people = (0..people)
            .map(|p| BulkEmployee {
                nip: nip_for(p),
                input: employee.clone(),
                period: Some((period, data.clone())),
            })
            .collect();
        store
            .put_employees_bulk(&region, people)
            .expect("employees");
    }
    drop(store);
    tmp
}

fn open_many(full: bool) {
    let (many, rounds) = if full { (100, 5) } else { (5, 1) };
    let one = data_dir_of(1, 5);
    let lots = data_dir_of(many, 5);
    let mut opened = [Vec::new(), Vec::new()];
    let mut served = [Vec::new(), Vec::new()];
    let mut rss = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        for (i, dir) in [&one, &lots].into_iter().enumerate() {
            let t = Instant::now();
            let store = Store::open(dir.path()).expect("open");
            opened[i].push(t.elapsed());
            assert_eq!(
                store.region_ids().expect("ids").len(),
                if i == 0 { 1 } else { many }
            );
            drop(store);
            let (up, bytes) = serve_once(dir.path());
            served[i].push(up);
            rss[i].push(bytes);
        }
    }
    fn median<T: Ord + Copy>(v: &mut [T]) -> T {
        v.sort();
        v[v.len() / 2]
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let mib = |b: u64| b as f64 / (1 << 20) as f64;
    println!(
        "\n[12] Opening a data dir: {many} mostly idle regions against one, median of {rounds}"
    );
    let mut rows = Vec::new();
    for (i, name) in [
        (0, "one region".to_string()),
        (1, format!("{many} regions")),
    ] {
        let (o, u, r) = (
            median(&mut opened[i]),
            median(&mut served[i]),
            median(&mut rss[i]),
        );
        println!(
            "  {name:<12} Store::open {:>7.1} ms   kinerja serve until listening {:>7.1} ms   RSS {:>6.1} MiB",
            ms(o),
            ms(u),
            mib(r)
        );
        rows.push((o, u, r));
    }
    println!(
        "  ratio {many}/one   open {:>6.2}   serve {:>6.2}   RSS {:>6.2}",
        rows[1].0.as_secs_f64() / rows[0].0.as_secs_f64(),
        rows[1].1.as_secs_f64() / rows[0].1.as_secs_f64(),
        rows[1].2 as f64 / rows[0].2.max(1) as f64
    );
}

fn regions(counts: &Counts) {
    const REGIONS: [&str; 3] = ["jambi", "jakarta", "tenayan-raya"];
    let s = TestServer::start();
    let c = s.client();
    let plugin = wasm("kinerja_plugin_jambi");
    let mut nips = Vec::new();
    for region in REGIONS {
        nips.push(seed_people(&c, region, "dinas")[0].clone());
        let id = c.upload(region, plugin.clone());
        c.activate(region, "appraise", &id, json!({}));
    }
    // Client i's region when spread; its own token either way.
    let callers: Arc<Vec<(String, String, String)>> = Arc::new(
        (0..counts.http_concurrency)
            .map(|i| {
                let k = i % REGIONS.len();
                let token = c.issue(json!({"role": "region_admin", "region": REGIONS[k]}));
                let one = c.issue(json!({"role": "region_admin", "region": REGIONS[0]}));
                (REGIONS[k].to_string(), token, one)
            })
            .collect(),
    );
    let rt = load_runtime();
    let (one, spread) = rt.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(counts.http_concurrency)
            .build()
            .expect("client");
        let (base, who, nip0) = (s.base.clone(), Arc::clone(&callers), nips[0].clone());
        let on_one = move |c: &reqwest::Client, i: usize| {
            c.post(format!("{base}/api/v1/regions/{}/appraisals", REGIONS[0]))
                .bearer_auth(&who[i].2)
                .json(&json!({"period": "2026", "nips": [nip0]}))
        };
        let (base, who, nips) = (s.base.clone(), Arc::clone(&callers), nips.clone());
        let spread_out = move |c: &reqwest::Client, i: usize| {
            let k = i % REGIONS.len();
            c.post(format!("{base}/api/v1/regions/{}/appraisals", who[i].0))
                .bearer_auth(&who[i].1)
                .json(&json!({"period": "2026", "nips": [nips[k]]}))
        };
        load(&client, 2, 0.1, on_one.clone()).await;
        load(&client, 2, 0.1, spread_out.clone()).await;
        let one = load(&client, counts.http_concurrency, counts.http_secs, on_one).await;
        let spread = load(
            &client,
            counts.http_concurrency,
            counts.http_secs,
            spread_out,
        )
        .await;
        (one, spread)
    });
    assert!(one.n > 0 && spread.n > 0);
    println!(
        "\n[11] Regions: durable one-employee appraisals, {} clients × {:.1} s, a token each",
        counts.http_concurrency, counts.http_secs
    );
    for (name, l) in [("one region", &one), ("three regions", &spread)] {
        l.print(name);
    }
    println!(
        "  ratio three/one          {:>8.3}   (a file per region: each region its own writer)",
        spread.rps / one.rps
    );
}

fn sign_in(full: bool) {
    let rounds = if full { 60 } else { 4 };
    println!("\n[10] Sign-in: {rounds} rounds of each answer, interleaved, one at a time");
    let dir = tempfile::tempdir().expect("tmp");
    let s = TestServer::start_in(dir.path(), |cfg| cfg.sign_in_failure_limit = 0);
    let c = s.client();
    let nips = seed_people(&c, REGION, "disdik");
    let r = c.put(
        &format!("/api/v1/regions/{REGION}/employees/{}/password", nips[0]),
        &json!({"password": "sementara-2026"}),
    );
    assert_eq!(r.status, 204, "{}", r.text);
    let anon = c.anonymous();
    let kinds: [(&str, &str, &str, u16); 4] = [
        ("wrong password", &nips[0], "salah-sekali", 401),
        ("unknown NIP", "199912312020121999", "salah-sekali", 401),
        ("NIP without a password", &nips[1], "salah-sekali", 401),
        ("right password", &nips[0], "sementara-2026", 201),
    ];
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); kinds.len()];
    for _ in 0..rounds {
        for (k, (_, nip, password, status)) in kinds.iter().enumerate() {
            let t = Instant::now();
            let r = anon.post(
                "/api/v1/sessions",
                &json!({"region": REGION, "nip": nip, "password": password}),
            );
            times[k].push(t.elapsed());
            assert_eq!(r.status, *status, "{}", r.text);
        }
    }
    let median = |v: &mut Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let base = median(&mut times[0]);
    for (k, (name, ..)) in kinds.iter().enumerate() {
        let m = median(&mut times[k]);
        println!(
            "  {name:<24} median {:>7.2} ms  ratio {:.2}",
            m.as_secs_f64() * 1e3,
            m.as_secs_f64() / base.as_secs_f64()
        );
    }
}

fn per_sec(n: usize, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64().max(1e-9)
}

/// CPU time (user and system) this process has used so far, from `/proc/self/stat` in clock
/// ticks of 10 ms; `None` where there is no procfs. With the wall time it tells idle cores from
/// busy ones, which throughput alone cannot.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces; the fields after it are fixed.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

/// A fresh data dir with the Jambi plugin uploaded and active for appraise; the server that did
/// it has stopped, so the caller may open the store directly.
fn prepared_dir() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().expect("tempdir");
    let s = TestServer::start_in(tmp.path(), |_| {});
    let c = s.client();
    let id = c.upload(REGION, wasm("kinerja_plugin_jambi"));
    c.activate(REGION, "appraise", &id, json!({}));
    drop(s);
    tmp
}

/// The store, runtime and policy a server would build, in process.
fn policy_for(dir: &Path) -> Policy {
    let store = Arc::new(Store::open(dir).expect("open store"));
    Policy::for_store(store, &kinerja::config::Config::for_data_dir(dir)).expect("policy")
}

fn batch(counts: &Counts) {
    let n = counts.batch;
    let tmp = prepared_dir();
    let t = Instant::now();
    let nips = seed_bulk(tmp.path(), REGION, AGENCY, n, 3);
    let seeding = t.elapsed();
    let policy = policy_for(tmp.path());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let period = kinerja::domain::period::Period::parse("2026").expect("period");
    let store = Arc::clone(&policy.store);

    // Baseline: read what the appraisal reads, and nothing else.
    let t = Instant::now();
    let emps = store
        .employees(REGION, Some(AGENCY), None, usize::MAX)
        .expect("employees")
        .items;
    let (inputs, _) = store
        .appraisal_inputs(REGION, period, &emps)
        .expect("inputs");
    let read = t.elapsed();
    assert_eq!(inputs.len(), n);
    assert!(
        inputs
            .iter()
            .all(|(rec, r)| matches!(rec, Ok(Some(_))) && r.days == 3),
        "every employee has a period record and 3 reported days"
    );
    drop((emps, inputs));

    // The whole appraisal, as `POST /appraisals {"agency": …}` runs it.
    let (t, cpu0) = (Instant::now(), cpu_time());
    let (appraisal, phases) = rt.block_on(async {
        let emps = store
            .employees(REGION, Some(AGENCY), None, usize::MAX)
            .expect("employees")
            .items;
        policy
            .appraise_timed(REGION, period, emps, "bench")
            .await
            .expect("appraise")
    });
    let total = t.elapsed();
    let cpu = cpu_time().zip(cpu0).map(|(b, a)| b.saturating_sub(a));
    assert_eq!(appraisal.results.len(), n, "one result per employee");
    assert!(appraisal.skipped.is_empty(), "{:?}", appraisal.skipped);
    // Results come in the store's key order, which is NIP order.
    let mut sorted = nips.clone();
    sorted.sort();
    for (r, nip) in appraisal.results.iter().zip(&sorted) {
        let r: serde_json::Value = serde_json::from_str(r.get()).expect("a result is JSON");
        assert_eq!(r["nip"].as_str(), Some(nip.as_str()));
        assert!(
            r["decision_id"].is_string() && r["predikat"].is_string(),
            "{r}"
        );
    }
    let stored = store.appraisals_of(REGION, &nips[n / 2]).expect("stored");
    assert_eq!(stored.len(), 1, "the decision of an employee is stored");
    assert_eq!(
        store
            .count(kinerja::store::tables::DECISIONS)
            .expect("count"),
        n as u64
    );

    let pipeline = per_sec(n, total);
    let baseline = per_sec(n, read);
    let pct = |d: Duration| 100.0 * d.as_secs_f64() / total.as_secs_f64();
    println!("\n[4] batch appraisal, {n} employees of one region, Jambi plugin");
    println!(
        "  seeding (bulk store)     {:>10.0} employees/s ({n} employees + {} reports in {:.2} s)",
        per_sec(n, seeding),
        3 * n,
        seeding.as_secs_f64()
    );
    println!("  baseline: redb read     {baseline:>10.0} cases/s (employees, period records, report days)");
    println!(
        "  end to end               {pipeline:>10.0} cases/s in {:.2} s   (target ≥ 50000 on 2 cores)",
        total.as_secs_f64()
    );
    println!("  ratio end-to-end/read    {:>10.3}", pipeline / baseline);
    if let Some(cpu) = cpu {
        println!(
            "  CPU                      {:>10.2} s over {:.2} s: {:.2} cores busy on average",
            cpu.as_secs_f64(),
            total.as_secs_f64(),
            cpu.as_secs_f64() / total.as_secs_f64()
        );
    }
    let list = total.saturating_sub(phases.assemble + phases.plugins + phases.store);
    println!(
        "  phases: list employees {:.0}%, assemble {:.0}%, plugins {:.0}%, store decisions {:.0}%",
        pct(list),
        pct(phases.assemble),
        pct(phases.plugins),
        pct(phases.store)
    );
    println!(
        "  plugin calls {}: {:.1} s inside the runtime over all threads, {} fuel/case, {:.1} µs/case in Wasm",
        phases.calls,
        phases.in_plugin.as_secs_f64(),
        phases.fuel / n.max(1) as u64,
        phases.in_plugin.as_secs_f64() * 1e6 / n as f64
    );
}

/// Requests per second and latencies of one endpoint under `concurrency` clients for `secs`
/// (answered 200), and how many were answered 503 `busy` (every plugin slot taken: the server
/// refuses rather than queues, and the client's next request goes straight out again).
/// The runtime of a load generator: two workers, as the machine has two cores.
fn load_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

struct Load {
    rps: f64,
    p50: Duration,
    p99: Duration,
    n: usize,
    busy: usize,
}

impl Load {
    /// One line of a durable-appraisal comparison (benches [11] and [13]).
    fn print(&self, name: &str) {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        println!(
            "  {name:<26} {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({} requests, {} busy)",
            self.rps,
            ms(self.p50),
            ms(self.p99),
            self.n,
            self.busy
        );
    }
}

async fn load(
    client: &reqwest::Client,
    concurrency: usize,
    secs: f64,
    make: impl Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + Clone + 'static,
) -> Load {
    let start = Instant::now();
    let until = start + Duration::from_secs_f64(secs);
    let mut tasks = Vec::new();
    for i in 0..concurrency {
        let c = client.clone();
        let make = make.clone();
        tasks.push(tokio::spawn(async move {
            let (mut lat, mut busy) = (Vec::new(), 0);
            while Instant::now() < until {
                let t = Instant::now();
                let r = make(&c, i).send().await.expect("request");
                let status = r.status();
                let body = r.bytes().await.expect("body");
                if status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
                    busy += 1;
                    continue;
                }
                assert!(
                    status.is_success(),
                    "{status}: {}",
                    String::from_utf8_lossy(&body)
                );
                lat.push(t.elapsed());
            }
            (lat, busy)
        }));
    }
    let (mut all, mut busy) = (Vec::new(), 0);
    for t in tasks {
        let (lat, b) = t.await.expect("load task");
        all.extend(lat);
        busy += b;
    }
    let elapsed = start.elapsed();
    all.sort();
    let q = |p: f64| {
        let i = ((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1));
        all.get(i).copied().unwrap_or_default()
    };
    Load {
        rps: per_sec(all.len(), elapsed),
        p50: q(0.50),
        p99: q(0.99),
        n: all.len(),
        busy,
    }
}

fn http(counts: &Counts) {
    let s = TestServer::start();
    let c = s.client();
    seed_people(&c, REGION, "dinas");
    let id = c.upload(REGION, wasm("kinerja_plugin_jambi"));
    c.activate(REGION, "appraise", &id, json!({}));
    let base = s.base.clone();
    let token = s.admin.clone();
    // One token per client: requests of different callers never share a plugin call.
    let tokens: Arc<Vec<String>> = Arc::new(
        (0..counts.http_concurrency)
            .map(|i| {
                c.issue(json!({"role": "region_admin", "region": REGION, "label": format!("bench {i}")}))
            })
            .collect(),
    );
    let rt = load_runtime();
    let (health, appraise, callers, health2, read) = rt.block_on(async {
        let client = reqwest::Client::builder()
            .pool_max_idle_per_host(counts.http_concurrency)
            .build()
            .expect("client");
        let hb = base.clone();
        let health = move |c: &reqwest::Client, _| c.get(format!("{hb}/health"));
        let (rb, rtok) = (base.clone(), token.clone());
        let read = move |c: &reqwest::Client, _| {
            c.get(format!("{rb}/api/v1/regions/{REGION}/employees/{NIP}"))
                .bearer_auth(&rtok)
        };
        let (ab, tok) = (base.clone(), token.clone());
        let appraise = move |c: &reqwest::Client, _| {
            c.post(format!("{ab}/api/v1/regions/{REGION}/appraisals"))
                .bearer_auth(&tok)
                .json(&json!({"period": "2026", "nips": [NIP]}))
        };
        let mb = base.clone();
        let appraise_apart = move |c: &reqwest::Client, i: usize| {
            c.post(format!("{mb}/api/v1/regions/{REGION}/appraisals"))
                .bearer_auth(&tokens[i])
                .json(&json!({"period": "2026", "nips": [NIP]}))
        };
        // Warm up both paths (connections, the plugin's first instance).
        load(&client, 2, 0.1, health.clone()).await;
        load(&client, 2, 0.1, appraise.clone()).await;
        let h = load(
            &client,
            counts.http_concurrency,
            counts.http_secs,
            health.clone(),
        )
        .await;
        let a = load(&client, counts.http_concurrency, counts.http_secs, appraise).await;
        let m = load(
            &client,
            counts.http_concurrency,
            counts.http_secs,
            appraise_apart,
        )
        .await;
        let r = load(&client, counts.http_concurrency, counts.http_secs, read).await;
        let h2 = load(&client, counts.http_concurrency, counts.http_secs, health).await;
        (h, a, m, h2, r)
    });
    assert!(health.n > 0 && appraise.n > 0 && callers.n > 0 && health2.n > 0);
    // The appraisals were stored: the employee's list (every page) has at least as many
    // decisions.
    let (mut stored, mut cursor) = (0, String::new());
    loop {
        let r = c.get(&format!(
            "/api/v1/regions/{REGION}/employees/{NIP}/appraisals?limit=1000&cursor={cursor}"
        ));
        assert_eq!(r.status, 200, "{}", r.text);
        stored += r.body["items"].as_array().map(Vec::len).unwrap_or(0);
        match r.body["next"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert!(
        stored >= appraise.n + callers.n,
        "{stored} stored < {} answered",
        appraise.n + callers.n
    );
    // Health before and after: their mean is the baseline, their spread the noise.
    let base_rps = (health.rps + health2.rps) / 2.0;
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "\n[5] HTTP load, {} clients × {:.1} s each, tokio + reqwest in process",
        counts.http_concurrency, counts.http_secs
    );
    for (name, l) in [
        ("GET /health (before)", &health),
        ("POST /appraisals (1 NIP)", &appraise),
        ("  the same, a token each", &callers),
        ("GET employee (read)", &read),
        ("GET /health (after)", &health2),
    ] {
        let busy = match l.busy {
            0 => String::new(),
            b => format!(", {b} answered 503 busy"),
        };
        println!(
            "  {name:<26} {:>8.0} req/s  p50 {:>7.2} ms  p99 {:>7.2} ms  ({} requests{busy})",
            l.rps,
            ms(l.p50),
            ms(l.p99),
            l.n
        );
    }
    println!(
        "  ratio appraisal/health   {:>8.3}   (target ≥ 0.5; a token each: {:.3})",
        appraise.rps / base_rps,
        callers.rps / base_rps
    );
    // The cheapest authenticated request with a record behind it, for scale: an appraisal
    // reads that record and more, runs the plugin, and commits durably.
    println!(
        "  ratio read/health        {:>8.3}   ratio appraisal/read {:.3}",
        read.rps / base_rps,
        appraise.rps / read.rps
    );
}

/// One daily report as JSON. Its date walks the days 1–28 of every month of 2017–2025 (inside
/// the test regions' reporting window), so that the reports of one request spread over enough
/// days to keep each day under its 1,440 minutes.
fn report(i: usize) -> serde_json::Value {
    json!({"date": format!("{}-{:02}-{:02}", 2017 + (i / 336) % 9, 1 + (i / 28) % 12, 1 + i % 28),
           "description": format!("Kegiatan harian nomor {i}: menyusun laporan"),
           "minutes": 1 + i % 40})
}

fn ingest(counts: &Counts) {
    let n = counts.ingest;
    let employees = 100;
    const PER_REQUEST: usize = 10_000;

    // Through the API: 10,000 reports per request, two clients at once.
    let api_tmp = tempfile::tempdir().expect("tempdir");
    let nips = seed_bulk(api_tmp.path(), REGION, AGENCY, employees, 0);
    let s = TestServer::start_in(api_tmp.path(), |_| {});
    let mut bodies = Vec::new();
    let mut i = 0;
    while i < n {
        let k = PER_REQUEST.min(n - i);
        let nip = &nips[bodies.len() % employees];
        let items: Vec<serde_json::Value> = (i..i + k).map(report).collect();
        bodies.push((
            format!(
                "{}/api/v1/regions/{REGION}/employees/{nip}/activities",
                s.base
            ),
            serde_json::to_vec(&items).expect("json"),
            k,
        ));
        i += k;
    }
    let rt = load_runtime();
    let token = s.admin.clone();
    let t = Instant::now();
    let sent = rt.block_on(async {
        let client = reqwest::Client::new();
        let queue = Arc::new(std::sync::Mutex::new(bodies));
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let (client, queue, token) = (client.clone(), Arc::clone(&queue), token.clone());
            tasks.push(tokio::spawn(async move {
                let mut sent = 0;
                loop {
                    let next = queue.lock().expect("queue").pop();
                    let Some((url, body, k)) = next else { break };
                    let r = client
                        .post(url)
                        .bearer_auth(&token)
                        .header("content-type", "application/json")
                        .body(body)
                        .send()
                        .await
                        .expect("post");
                    let status = r.status();
                    let text = r.text().await.unwrap_or_default();
                    assert_eq!(status.as_u16(), 201, "{text}");
                    sent += k;
                }
                sent
            }));
        }
        let mut sent = 0;
        for t in tasks {
            sent += t.await.expect("task");
        }
        sent
    });
    let api = t.elapsed();
    assert_eq!(sent, n);
    drop(s);
    let api_count = Store::open(api_tmp.path())
        .expect("open")
        .count(kinerja::store::tables::ACTIVITIES)
        .expect("count");
    assert_eq!(
        api_count, n as u64,
        "every report sent through the API is stored"
    );

    // Through `kinerja import`: the same reports as one JSON Lines file.
    let imp_tmp = tempfile::tempdir().expect("tempdir");
    seed_bulk(imp_tmp.path(), REGION, AGENCY, employees, 0);
    let file = imp_tmp.path().join("reports.jsonl");
    {
        use std::io::Write;
        let mut w = std::io::BufWriter::new(std::fs::File::create(&file).expect("file"));
        for i in 0..n {
            let mut line = report(i);
            line["nip"] = json!(nips[(i / PER_REQUEST) % employees]);
            line["region"] = json!(REGION);
            serde_json::to_writer(&mut w, &line).expect("write");
            w.write_all(b"\n").expect("write");
        }
    }
    let bin = kinerja_binary();
    let t = Instant::now();
    let out = std::process::Command::new(bin)
        .arg("import")
        .arg("--data-dir")
        .arg(imp_tmp.path())
        .arg("--quiet")
        .arg(&file)
        .output()
        .expect("run kinerja import");
    let import = t.elapsed();
    assert!(
        out.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("import prints a JSON summary");
    assert_eq!(summary["imported"], json!(n));
    let imp_count = Store::open(imp_tmp.path())
        .expect("open")
        .count(kinerja::store::tables::ACTIVITIES)
        .expect("count");
    assert_eq!(imp_count, n as u64, "every imported report is stored");

    let (a, b) = (per_sec(n, api), per_sec(n, import));
    println!("\n[8] ingest of {n} daily reports for {employees} employees");
    println!(
        "  API (10,000 per POST, 2 clients) {a:>10.0} records/s in {:.2} s",
        api.as_secs_f64()
    );
    println!(
        "  kinerja import (JSON Lines)      {b:>10.0} records/s in {:.2} s (process start included; {:.0}/s inside)",
        import.as_secs_f64(),
        summary["records_per_second"].as_f64().unwrap_or(0.0)
    );
    println!("  ratio import/API                 {:>10.3}", b / a);
}

/// [9] Jakarta's latency alone and beside a looping Jambi plugin, per pause setting.
fn fairness(counts: &Counts) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "\n[9] Fairness: 2 Jakarta clients × {:.1} s, alone and beside 8 Jambi clients of a looping plugin (4 slots, 300 ms wall time)",
        counts.http_secs
    );
    for pause_after in [0, 3] {
        let s = TestServer::start_in(&tempfile::tempdir().expect("tmp").keep(), |cfg| {
            cfg.plugin_max_in_flight = 4;
            cfg.plugin_pause_after = pause_after;
            cfg.plugin_wall_ms = 300;
            cfg.plugin_fuel = 1 << 40;
        });
        let c = s.client();
        seed_people(&c, "jambi", "disdik");
        seed_people(&c, "jakarta", "disdik");
        let lp = c.upload("jambi", wasm("loop"));
        c.activate_forced("jambi", "appraise", &lp, json!({}));
        let good = c.upload("jakarta", wasm("kinerja_plugin_jakarta"));
        c.activate("jakarta", "appraise", &good, json!({}));
        let token = |region: &str, i: usize| {
            c.issue(json!({"role": "region_admin", "region": region, "label": format!("fair {i}")}))
        };
        let jakarta: Arc<Vec<String>> = Arc::new((0..2).map(|i| token("jakarta", i)).collect());
        let jambi: Vec<String> = (0..8).map(|i| token("jambi", i)).collect();
        let base = s.base.clone();
        let rt = load_runtime();
        let (alone, beside, jambi_n) = rt.block_on(async {
            let client = reqwest::Client::new();
            let kb = base.clone();
            let appraise = move |c: &reqwest::Client, i: usize| {
                c.post(format!("{kb}/api/v1/regions/jakarta/appraisals"))
                    .bearer_auth(&jakarta[i])
                    .json(&json!({"period": "2026", "nips": [NIP]}))
            };
            load(&client, 2, 0.1, appraise.clone()).await;
            let alone = load(&client, 2, counts.http_secs, appraise.clone()).await;
            let until = Instant::now() + Duration::from_secs_f64(counts.http_secs + 0.5);
            let hammer: Vec<_> = jambi
                .into_iter()
                .map(|tok| {
                    let (c, b) = (client.clone(), base.clone());
                    tokio::spawn(async move {
                        let mut n = 0usize;
                        while Instant::now() < until {
                            let r = c
                                .post(format!("{b}/api/v1/regions/jambi/appraisals"))
                                .bearer_auth(&tok)
                                .json(&json!({"period": "2026", "agency": "disdik"}))
                                .send()
                                .await
                                .expect("request");
                            if r.status() == reqwest::StatusCode::SERVICE_UNAVAILABLE {
                                tokio::time::sleep(Duration::from_millis(10)).await;
                            }
                            n += 1;
                        }
                        n
                    })
                })
                .collect();
            // Jambi alone first: it takes every slot while no one else wants one.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let beside = load(&client, 2, counts.http_secs, appraise).await;
            let mut n = 0;
            for h in hammer {
                n += h.await.expect("hammer task");
            }
            (alone, beside, n)
        });
        println!(
            "  pauses {:<4} alone p50 {:>7.2} ms p99 {:>7.2} ms | beside the loop p50 {:>7.2} ms p99 {:>7.2} ms ({} requests, {} answered 503; jambi {} requests)",
            if pause_after == 0 { "off" } else { "on" },
            ms(alone.p50),
            ms(alone.p99),
            ms(beside.p50),
            ms(beside.p99),
            beside.n,
            beside.busy,
            jambi_n
        );
        println!(
            "  ratio beside/alone       p50 {:>6.2}  p99 {:>6.2}",
            ms(beside.p50) / ms(alone.p50).max(1e-6),
            ms(beside.p99) / ms(alone.p99).max(1e-6)
        );
    }
}

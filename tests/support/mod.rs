//! Test support: a real Kinerja server on a free port with a temporary data dir, and a small
//! blocking HTTP client. The server runs in its own thread and Tokio runtime, so stopping it
//! waits for every database task and closes the redb file, as a real shutdown does.

pub mod cluster;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;

pub use serde_json::json;

pub struct TestServer {
    pub base: String,
    pub admin: String,
    dir: PathBuf,
    _tmp: Option<tempfile::TempDir>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl TestServer {
    /// A fresh server on an empty data dir.
    pub fn start() -> TestServer {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().to_path_buf();
        let mut s = Self::start_in(&dir, |_| {});
        s._tmp = Some(tmp);
        s
    }

    /// A server on `dir`, with `tweak` applied to its configuration.
    pub fn start_in(dir: &Path, tweak: impl FnOnce(&mut kinerja::config::Config)) -> TestServer {
        let mut config = kinerja::config::Config::for_data_dir(dir);
        tweak(&mut config);
        let (addr_tx, addr_rx) = mpsc::channel();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let prepared = match kinerja::server::prepare(config).await {
                    Ok(p) => p,
                    Err(e) => {
                        let _ = addr_tx.send(Err(format!("{e:#}")));
                        return;
                    }
                };
                let _ = addr_tx.send(Ok(prepared.addr));
                let stop = async {
                    let _ = stop_rx.await;
                };
                if let Err(e) = kinerja::server::serve(prepared, stop).await {
                    eprintln!("server error: {e:#}");
                }
            });
        });
        let addr = addr_rx
            .recv_timeout(Duration::from_secs(120))
            .expect("server did not start")
            .unwrap_or_else(|e| panic!("server failed to start: {e}"));
        let admin = std::fs::read_to_string(dir.join("admin.token"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        let s = TestServer {
            base: format!("http://{addr}"),
            admin,
            dir: dir.to_path_buf(),
            _tmp: None,
            stop: Some(stop_tx),
            thread: Some(thread),
        };
        s.open_reporting_windows();
        s
    }

    /// Every test server serves the demo's three regions (the demo creates them; a server
    /// without the demo is given them here, through the API, as an admin would), and tests
    /// write reports of fixed dates (2025, early 2026) that the default reporting window
    /// (until the 5th of the next month) closed long ago: every test server opens its regions'
    /// windows ten years wide, as a region migrating paper reports would. The tests of the
    /// window itself set the rules they test.
    fn open_reporting_windows(&self) {
        let c = self.client();
        create_demo_regions(&c);
        for (region, ..) in kinerja::demo::DEMO_REGIONS {
            let path = format!("/api/v1/regions/{region}/reporting");
            let r = c.put(
                &path,
                &serde_json::json!({ "window_months": WIDE_WINDOW_MONTHS }),
            );
            assert_eq!(r.status, 200, "{path}: {}", r.text);
        }
    }

    /// A fresh server with the demo data and the three regions' real plugins activated, on a
    /// temporary data dir removed when the server is dropped.
    pub fn demo() -> TestServer {
        let tmp = tempfile::tempdir().expect("tempdir");
        let mut s = Self::demo_in(tmp.path());
        s._tmp = Some(tmp);
        s
    }

    /// [`TestServer::demo`] on `dir`, which the caller keeps (to restart on, or to read).
    pub fn demo_in(dir: &Path) -> TestServer {
        Self::start_in(dir, |cfg| {
            cfg.demo = true;
            cfg.demo_plugins = wasm_dir();
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Graceful stop: in-flight requests finish and the database closes.
    pub fn stop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            t.join().expect("server thread panicked");
        }
    }

    /// Stops and starts again on the same data dir.
    pub fn restart(mut self) -> TestServer {
        self.stop();
        let tmp = self._tmp.take();
        let mut s = Self::start_in(&self.dir, |_| {});
        s.admin = self.admin.clone();
        s._tmp = tmp;
        s
    }

    pub fn client(&self) -> Client {
        Client::new(&self.base, &self.admin)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A response: status and JSON body (Null when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub text: String,
    /// The `Retry-After` header, where there is one.
    pub retry_after: Option<String>,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    /// A header's value as text ("" when absent).
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

impl Resp {
    /// The error message, for asserting that it names the field.
    pub fn message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or("")
    }

    /// The `id` of every item of a list page, in order; panics unless each has one.
    pub fn item_ids(&self) -> Vec<String> {
        self.body["items"]
            .as_array()
            .unwrap_or_else(|| panic!("a page of items: {}", self.text))
            .iter()
            .map(|i| i["id"].as_str().expect("an id").to_string())
            .collect()
    }
}

#[derive(Clone)]
pub struct Client {
    base: String,
    token: Option<String>,
    http: reqwest::blocking::Client,
}

impl Client {
    pub fn new(base: &str, token: &str) -> Client {
        Client {
            base: base.to_string(),
            token: Some(token.to_string()),
            http: reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(120))
                .build()
                .expect("client"),
        }
    }

    pub fn with_token(&self, token: &str) -> Client {
        Client {
            token: Some(token.to_string()),
            ..self.clone()
        }
    }

    pub fn anonymous(&self) -> Client {
        Client {
            token: None,
            ..self.clone()
        }
    }

    fn send(&self, rb: reqwest::blocking::RequestBuilder) -> Resp {
        let rb = match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        };
        let r = rb.send().expect("request failed");
        let status = r.status().as_u16();
        let retry_after = r
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let headers = r.headers().clone();
        let text = r.text().unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp {
            status,
            body,
            text,
            retry_after,
            headers,
        }
    }

    pub fn get(&self, path: &str) -> Resp {
        self.send(self.http.get(format!("{}{path}", self.base)))
    }
    pub fn delete(&self, path: &str) -> Resp {
        self.send(self.http.delete(format!("{}{path}", self.base)))
    }
    pub fn put(&self, path: &str, body: &Value) -> Resp {
        self.send(self.http.put(format!("{}{path}", self.base)).json(body))
    }
    pub fn post(&self, path: &str, body: &Value) -> Resp {
        self.send(self.http.post(format!("{}{path}", self.base)).json(body))
    }
    pub fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Resp {
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .header("content-type", content_type)
                .body(body),
        )
    }
    pub fn put_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Resp {
        self.send(
            self.http
                .put(format!("{}{path}", self.base))
                .header("content-type", content_type)
                .body(body),
        )
    }

    /// Issues a token and answers its secret.
    pub fn issue(&self, scope: Value) -> String {
        let r = self.post("/api/v1/tokens", &scope);
        assert_eq!(r.status, 201, "issue {scope}: {}", r.text);
        r.body["token"].as_str().expect("token").to_string()
    }
}

/// Creates the demo's three regions through the API where they do not exist yet, as an admin
/// would on a server started without the demo.
pub fn create_demo_regions(c: &Client) {
    for (region, name, level, time_zone) in kinerja::demo::DEMO_REGIONS {
        let path = format!("/api/v1/regions/{region}");
        if c.get(&path).status == 404 {
            let body = serde_json::json!({"name": name, "level": level, "time_zone": time_zone});
            let r = c.put(&path, &body);
            assert_eq!(r.status, 201, "{path}: {}", r.text);
        }
    }
}

/// Posts `reports` for `nip` and approves them all (as the client, centrally), so that they
/// count: only approved reports do.
pub fn add_approved_reports(c: &Client, region: &str, nip: &str, reports: &Value) {
    let r = c.post(
        &format!("/api/v1/regions/{region}/employees/{nip}/activities"),
        reports,
    );
    assert_eq!(r.status, 201, "{}", r.text);
    let ids: Vec<u64> = r.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a["id"].as_u64())
        .collect();
    for part in ids.chunks(1000) {
        let a = c.post(
            &format!("/api/v1/regions/{region}/activities/approve"),
            &json!({ "ids": part }),
        );
        assert_eq!(a.status, 200, "{}", a.text);
    }
}

/// Today in Jakarta (WIB), the newest date a daily report may carry under any region's
/// default rules: for tests on a data dir whose window nobody opened.
pub fn today() -> String {
    kinerja::domain::reporting::TimeZone::Wib
        .date_at(std::time::SystemTime::now())
        .to_string()
}

/// The reporting window of test regions, in months: wide enough for the fixed dates of the
/// tests for years to come.
pub const WIDE_WINDOW_MONTHS: u32 = 120;

/// A small organisation chart in Jambi with its plugin active: agencies `dinkes` (a `kepala`
/// position over `pelaksana`) and `disdik`, and the `staff` given as (NIP, agency, position),
/// each named `Pegawai {nip}`. For the tests of people acting by relationship.
pub fn seed_chart(c: &Client, staff: &[(&str, &str, &str)]) {
    let base = "/api/v1/regions/jambi";
    seed_agency(c, "jambi", "dinkes");
    seed_agency(c, "jambi", "disdik");
    for (id, parent) in [("kepala", None), ("pelaksana", Some("kepala"))] {
        let r = c.put(
            &format!("{base}/positions/{id}"),
            &json!({"title": id, "agency": "dinkes", "kind": "struktural", "level": 3,
                    "capacity": 5, "parent": parent}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    for (nip, agency, pos) in staff {
        let r = c.put(
            &format!("{base}/employees/{nip}"),
            &json!({"name": format!("Pegawai {nip}"), "agency": agency, "position_id": pos,
                    "position_since": "2021-03-01"}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let plugin = c.upload("jambi", wasm("kinerja_plugin_jambi"));
    c.activate("jambi", "appraise", &plugin, json!({}));
}

/// A small fixture: one agency with two positions in `region`.
pub fn seed_agency(c: &Client, region: &str, agency: &str) {
    let r = c.put(
        &format!("/api/v1/regions/{region}/agencies/{agency}"),
        &json!({"name": format!("Dinas {agency}")}),
    );
    assert_eq!(r.status, 200, "{}", r.text);
    for (id, level, cap) in [("staf", 1, 5), ("analis", 3, 2)] {
        let r = c.put(
            &format!("/api/v1/regions/{region}/positions/{agency}-{id}"),
            &json!({"title": id, "agency": agency, "kind": "fungsional", "level": level,
                    "required": {"integritas": 3, "teknis.layanan": 2}, "capacity": cap}),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

pub fn employee_body(agency: &str, position: &str, since: &str) -> Value {
    json!({"name": "Siti Rahma", "agency": agency, "position_id": format!("{agency}-{position}"),
           "position_since": since, "competencies": {"integritas": 4, "teknis.layanan": 2},
           "potential": "tinggi", "declined_rotation": false})
}

pub fn ratings(v: u8) -> Value {
    json!({"berorientasi_pelayanan": v, "akuntabel": v, "kompeten": v, "harmonis": v,
           "loyal": v, "adaptif": v, "kolaboratif": v})
}

pub fn period_body() -> Value {
    json!({
        "indicators": [
            {"id": "iki-1", "name": "Laporan", "kind": "utama", "direction": "higher_is_better",
             "unit": "dokumen", "target": 12, "realization": 11, "weight": 2},
            {"id": "iki-2", "name": "Waktu layanan", "kind": "tambahan", "direction": "lower_is_better",
             "unit": "hari", "target": 5, "realization": 4}
        ],
        "behavior": {"supervisor": {"berorientasi_pelayanan": 4, "akuntabel": 4, "kompeten": 5, "harmonis": 4,
                                    "loyal": 4, "adaptif": 3, "kolaboratif": 4},
                     "peers": [ratings(4)], "self": ratings(5)},
        "innovations": [{"title": "Layanan daring", "date": "2026-05-02"}],
        "process": {"inovasi": 85, "keterlibatan_masyarakat": 70},
        "budget": {"planned": 1500000000.0, "realized": 1320000000.0},
        "public_feedback": {"ikm": 3.41, "respondents": 220},
        "working_days": 246
    })
}

/// The employee predikat, best first, as the plugins write them.
pub const PREDIKAT: [&str; 5] = [
    "sangat_baik",
    "baik",
    "butuh_perbaikan",
    "kurang",
    "sangat_kurang",
];

pub const NIP: &str = "198503122010011001";
pub const NIP2: &str = "199001012015012002";

/// The build output folder of the Wasm plugins (scripts/build-plugins.sh).
pub fn wasm_dir() -> PathBuf {
    repo_root().join("target/wasm32-wasip1/plugin")
}

/// The repository's root folder.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The ABI 2 Jambi component in Rust (`plugins/jambi-abi2`); fails with the command that builds it.
pub fn jambi_rust_component() -> Vec<u8> {
    built(
        "target/wasm32-wasip2/plugin/kinerja_plugin_jambi_abi2.wasm",
        "scripts/build-plugins.sh",
    )
}

/// The ABI 2 Jambi component in Python (`examples/plugins/python`); fails with the command that
/// builds it.
pub fn jambi_python_component() -> Vec<u8> {
    built(
        "examples/plugins/python/out/jambi.wasm",
        "examples/plugins/python/build.sh",
    )
}

fn built(path: &str, how: &str) -> Vec<u8> {
    let path = repo_root().join(path);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}; build it with {how}", path.display()))
}

/// A built plugin's bytes; fails with the command that builds it.
pub fn wasm(name: &str) -> Vec<u8> {
    let path = wasm_dir().join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build the plugins first with scripts/build-plugins.sh",
            path.display()
        )
    })
}

impl Client {
    /// The cases the host sends a plugin for `nips` and `period` of `region`, as an admin's dry
    /// run of the `log-cases` module shows them (it logs each case whole): what the host built,
    /// read end to end.
    pub fn cases_sent(&self, region: &str, period: &str, nips: &[&str]) -> Vec<Value> {
        let id = self.upload(region, wasm("log-cases"));
        let r = self.post(
            &format!("/api/v1/regions/{region}/plugins/{id}/dry-run"),
            &serde_json::json!({"hook": "appraise", "period": period, "nips": nips}),
        );
        assert_eq!(r.status, 200, "dry run: {}", r.text);
        r.body["logs"]
            .as_str()
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.strip_prefix("log-cases: {"))
            .map(|l| serde_json::from_str(&format!("{{{l}")).expect("a logged case"))
            .collect()
    }

    /// Uploads a module to a region and answers its id.
    pub fn upload(&self, region: &str, bytes: Vec<u8>) -> String {
        let r = self.post_raw(
            &format!("/api/v1/regions/{region}/plugins"),
            "application/wasm",
            bytes,
        );
        assert!(r.status == 201 || r.status == 200, "upload: {}", r.text);
        r.body["id"].as_str().expect("id").to_string()
    }

    /// Activates a module as a region admin would: it must pass the preflight (a run with
    /// `config` on a sample of the region's cases).
    pub fn activate(&self, region: &str, hook: &str, plugin: &str, config: Value) {
        let r = self.put(
            &format!("/api/v1/regions/{region}/policies/{hook}"),
            &json!({"plugin": plugin, "config": config}),
        );
        assert_eq!(r.status, 200, "activate: {}", r.text);
    }

    /// Activates a module that is meant to fail (a hostile or broken one, for the tests of
    /// what happens then), skipping the preflight with `"force": true`.
    pub fn activate_forced(&self, region: &str, hook: &str, plugin: &str, config: Value) {
        let r = self.put(
            &format!("/api/v1/regions/{region}/policies/{hook}"),
            &json!({"plugin": plugin, "config": config, "force": true}),
        );
        assert_eq!(r.status, 200, "activate: {}", r.text);
    }
}

/// An agency with employees that have period records (and one without), for evaluations.
pub fn seed_people(c: &Client, region: &str, agency: &str) -> Vec<String> {
    seed_agency(c, region, agency);
    let nips: Vec<String> = [
        "198503122010011001",
        "199001012015012002",
        "198707072012121003",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for n in &nips {
        let r = c.put(
            &format!("/api/v1/regions/{region}/employees/{n}"),
            &employee_body(agency, "staf", "2021-03-01"),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    for n in &nips[..2] {
        let r = c.put(
            &format!("/api/v1/regions/{region}/employees/{n}/periods/2026"),
            &period_body(),
        );
        assert_eq!(r.status, 200, "{}", r.text);
    }
    nips
}

/// The `i`-th of a family of valid, distinct NIPs, for data sets of any size: birth dates walk
/// from 1970-01-01, the last three digits count 001–999 within each birth date.
pub fn nip_for(i: usize) -> String {
    let seq = i % 999 + 1;
    let k = i / 999;
    let (day, month, year) = (k % 28 + 1, (k / 28) % 12 + 1, 1970 + k / 336);
    format!("{year:04}{month:02}{day:02}200001{}{seq:03}", 1 + i % 2)
}

/// Seeds `dir`'s database straight through the store (no server may run on it): agency
/// `agency` with its two positions, `n` employees with a 2026 period record each and
/// `reports` daily reports each, and the region's reporting window opened as a test server's
/// is. Bulk transactions, so 100,000 employees take seconds, not the hours of 100,000 HTTP
/// calls. Answers the NIPs.
pub fn seed_bulk(dir: &Path, region: &str, agency: &str, n: usize, reports: usize) -> Vec<String> {
    use kinerja::domain::records::{AgencyInput, EmployeeInput, PositionInput};
    use kinerja::store::{ActivityRow, BulkEmployee, Store};
    let store = Store::open(dir).expect("open store");
    kinerja::demo::create_regions(&store).expect("the demo's regions");
    let wide = kinerja::domain::reporting::ReportingRules {
        window_months: WIDE_WINDOW_MONTHS,
        ..Default::default()
    };
    store
        .set_reporting_rules(region, "test-seed", wide, false)
        .expect("rules");
    store
        .upsert_agency(
            region,
            agency,
            AgencyInput {
                name: format!("Dinas {agency}"),
            },
        )
        .expect("agency");
    for (id, level) in [("staf", 1u8), ("analis", 3)] {
        let input: PositionInput = serde_json::from_value(json!({
            "title": id, "agency": agency, "kind": "fungsional", "level": level,
            "required": {"integritas": 3, "teknis.layanan": 2}, "capacity": 100000}))
        .expect("position");
        store
            .upsert_position(region, &format!("{agency}-{id}"), input)
            .expect("position");
    }
    let period = kinerja::domain::period::Period::parse("2026").expect("period");
    let data: kinerja::domain::records::PeriodInput =
        serde_json::from_value(period_body()).expect("period body");
    let input: EmployeeInput =
        serde_json::from_value(employee_body(agency, "staf", "2021-03-01")).expect("employee");
    let nips: Vec<String> = (0..n).map(nip_for).collect();
    for chunk in nips.chunks(50_000) {
        let items = chunk
            .iter()
            .map(|nip| BulkEmployee {
                nip: nip.clone(),
                input: input.clone(),
                period: Some((period, data.clone())),
            })
            .collect();
        store.put_employees_bulk(region, items).expect("employees");
    }
    if reports > 0 {
        let mut imp = store.activity_import().expect("import");
        let mut line = 0;
        for chunk in nips.chunks(10_000) {
            let mut rows = Vec::with_capacity(chunk.len() * reports);
            for nip in chunk {
                for r in 0..reports {
                    line += 1;
                    rows.push(ActivityRow {
                        line,
                        region: region.into(),
                        nip: nip.clone(),
                        input: serde_json::from_value(json!({
                            "date": format!("2026-03-{:02}", 2 + r % 20),
                            "description": "Menyusun laporan kegiatan", "minutes": 60}))
                        .expect("activity"),
                    });
                }
            }
            let refused = imp.add(rows).expect("add");
            assert!(refused.is_empty(), "{refused:?}");
        }
        imp.commit().expect("commit");
    }
    nips
}

/// The real `kinerja` binary of the same profile as the running test or bench (target/debug
/// or target/release), built on first use with the cargo that runs us: `cargo test` builds
/// bins only in test mode, and other packages' tests not at all.
pub fn kinerja_binary() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            // target/<profile>/deps/<test>-xxxx → target/<profile>/kinerja
            let exe = std::env::current_exe().expect("current exe");
            let profile_dir = exe
                .parent()
                .and_then(Path::parent)
                .expect("target dir")
                .to_path_buf();
            let bin = profile_dir.join("kinerja");
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let mut cmd = std::process::Command::new(cargo);
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                // With the benches selected too, features unify as in `cargo bench -p
                // kinerja-tests`, and the binary reuses the bench build's wasmtime (alone,
                // `-p kinerja --bin kinerja` unifies features differently and recompiles it).
                cmd.args([
                    "build",
                    "--release",
                    "-p",
                    "kinerja-tests",
                    "-p",
                    "kinerja",
                    "--bins",
                    "--benches",
                ]);
            } else {
                // The same selection as the test command (`cargo test --workspace
                // --all-targets`), so that features unify the same way and the binary reuses
                // the test build's dependencies instead of rebuilding wasmtime.
                cmd.args(["build", "--workspace", "--all-targets"]);
            }
            let status = cmd.status().expect("run cargo build");
            assert!(status.success(), "cargo build -p kinerja failed");
            assert!(bin.exists(), "{} is missing after the build", bin.display());
            bin
        })
        .clone()
}

/// A WebAssembly module of `n` empty functions, the first exported as `appraise`: valid, and
/// as costly to compile as `n` makes it. Written byte by byte (type, function, export and code
/// sections) so the tests need no assembler.
pub fn module_of_functions(n: u32) -> Vec<u8> {
    fn leb(mut v: u32, out: &mut Vec<u8>) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }
    fn section(id: u8, body: Vec<u8>, out: &mut Vec<u8>) {
        out.push(id);
        leb(body.len() as u32, out);
        out.extend(body);
    }
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    // One type: () -> ().
    section(1, vec![1, 0x60, 0, 0], &mut m);
    let mut funcs = Vec::new();
    leb(n, &mut funcs);
    funcs.extend(std::iter::repeat_n(0u8, n as usize));
    section(3, funcs, &mut m);
    let mut exports = vec![1, 8];
    exports.extend(b"appraise");
    exports.extend([0, 0]);
    section(7, exports, &mut m);
    // Each body: size 2, no locals, `end`.
    let mut code = Vec::new();
    leb(n, &mut code);
    for _ in 0..n {
        code.extend([2, 0, 0x0b]);
    }
    section(10, code, &mut m);
    m
}

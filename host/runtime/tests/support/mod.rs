//! Shared helpers for the runtime's integration tests.
#![allow(dead_code)] // Each test binary uses a different subset.

use std::path::PathBuf;
use std::time::Duration;

use kinerja_runtime::{CallError, CallOutput, Hook, Limits, Runtime, RuntimeConfig};
use serde_json::{json, Value};

pub const BUILD_COMMAND: &str = "cargo build -p kinerja-test-plugins -p kinerja-test-simple --target wasm32-wasip1 --profile plugin";

/// Where the test plugins are built.
pub fn plugin_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/wasm32-wasip1/plugin")
}

/// The bytes of a built test plugin, e.g. `plugin("loop")` or
/// `plugin("kinerja_test_simple")`.
pub fn plugin(name: &str) -> Vec<u8> {
    let path = plugin_dir().join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "test plugin {} is missing ({e}); build the test plugins first with `{BUILD_COMMAND}` from the workspace root",
            path.display()
        )
    })
}

pub fn simple() -> Vec<u8> {
    plugin("kinerja_test_simple")
}

/// A runtime with `limits` and `max_in_flight`, caching into a fresh temp
/// directory (kept alive by the returned guard).
pub fn runtime_with(limits: Limits, max_in_flight: usize) -> (Runtime, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let rt = Runtime::new(RuntimeConfig {
        limits,
        max_in_flight,
        ..RuntimeConfig::new(dir.path().join("cache"))
    })
    .expect("runtime");
    (rt, dir)
}

pub fn runtime() -> (Runtime, tempfile::TempDir) {
    runtime_with(Limits::default(), 8)
}

pub fn appraise_request(marker: &str) -> Vec<u8> {
    let case = |nip: &str| {
        json!({
            "employee": {"nip": nip, "name": "Test", "agency": "dinas-pendidikan",
                         "position_id": "guru-ahli-muda", "position_since": "2021-03-01"},
            "period": {"id": "2026", "start": "2026-01-01", "end": "2026-12-31", "working_days": 246},
            "indicators": [{"id": "iki-1", "name": "Kegiatan", "kind": "utama",
                            "direction": "higher_is_better", "unit": "kegiatan",
                            "target": 12, "realization": 11, "weight": 1}],
            "behavior": {"supervisor": {"berorientasi_pelayanan": 4, "akuntabel": 4, "kompeten": 5,
                                        "harmonis": 4, "loyal": 4, "adaptif": 3, "kolaboratif": 4}},
            "activities": {"days_reported": 230}
        })
    };
    serde_json::to_vec(&json!({
        "abi": 1, "hook": "appraise", "region": "jambi",
        "config": {"marker": marker},
        "cases": [case("198503122010011001"), case("199001012015022002")]
    }))
    .expect("json")
}

pub fn rotate_request(marker: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "abi": 1, "hook": "rotate", "region": "jambi", "config": {"marker": marker},
        "as_of": "2026-12-31",
        "employees": [{"nip": "198503122010011001", "agency": "dinas-pendidikan",
                       "position_id": "guru", "position_since": "2020-07-01",
                       "competencies": {"integritas": 4}, "latest_predikat": "baik",
                       "potential": "tinggi", "declined_rotation": false}],
        "positions": [{"id": "guru", "title": "Guru", "agency": "dinas-pendidikan",
                       "kind": "fungsional", "level": 3, "required": {"integritas": 3},
                       "vacancies": 1}]
    }))
    .expect("json")
}

pub fn request(hook: Hook, marker: &str) -> Vec<u8> {
    match hook {
        Hook::Appraise => appraise_request(marker),
        Hook::Rotate => rotate_request(marker),
    }
}

pub fn json_of(out: &CallOutput) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Loads test-simple and checks a good call works: used after every failure
/// to show the runtime keeps serving.
pub fn assert_serves(rt: &Runtime) {
    let id = rt.load(&simple()).expect("load test-simple").id;
    let out = rt
        .call(&id, Hook::Appraise, &appraise_request("after-failure"))
        .expect("a good call right after a failure");
    let v = json_of(&out);
    assert_eq!(v["results"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["config"]["marker"], "after-failure");
    assert_eq!(rt.in_flight(), 0);
}

/// Loads `bytes`, calls `hook`, and returns the error (panicking on success),
/// with the time the call took.
pub fn expect_failure(rt: &Runtime, bytes: &[u8], hook: Hook) -> (String, CallError, Duration) {
    let id = rt.load(bytes).expect("load").id;
    let started = std::time::Instant::now();
    let result = rt.call(&id, hook, &request(hook, "x"));
    let elapsed = started.elapsed();
    match result {
        Ok(out) => panic!(
            "expected a failure, got success: stdout {} bytes, stderr {}",
            out.stdout.len(),
            String::from_utf8_lossy(&out.stderr)
        ),
        Err(e) => (id, e, elapsed),
    }
}

/// Compiles WAT text to a binary module.
pub fn wat(text: &str) -> Vec<u8> {
    wat::parse_str(text).expect("valid WAT")
}

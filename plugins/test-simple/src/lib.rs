//! A minimal reactor-style ABI 1 plugin: exports `appraise` and `rotate`
//! (type `() -> ()`), reads the request JSON on stdin and writes a
//! schema-valid response on stdout.
//!
//! Besides the schema fields, every response carries:
//! - `plugin`: `"test-simple"` and `version`: [`VERSION`], so tests can tell
//!   plugins (and rebuilt variants, see below) apart;
//! - `config`: the request's `config`, echoed, so tests can see which
//!   configuration the host sent;
//! - `call_count`: how many hook calls this instance has served. The host runs
//!   every call in a fresh instance, so this is always 1; anything else means
//!   state leaked between calls.
//!
//! With `config.refuse_nip` set, an appraise call whose cases include that NIP refuses (an
//! ABI 1 refusal document), so that tests can fail one batch of a larger appraisal. With
//! `config.slow_nip` set, an appraise call whose cases include that NIP first counts to
//! `config.spin` (default 10^8), so that tests can keep a region busy while other requests
//! queue behind it.
//!
//! Build a variant with a different version marker (and so different bytes
//! and a different module id) with
//! `KINERJA_TEST_SIMPLE_VERSION=2 cargo build -p kinerja-test-simple ...`.

use serde_json::{json, Value};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU32, Ordering};

/// The version marker, fixed at build time.
pub const VERSION: &str = match option_env!("KINERJA_TEST_SIMPLE_VERSION") {
    Some(v) => v,
    None => "1",
};

static CALLS: AtomicU32 = AtomicU32::new(0);

fn read_request() -> Value {
    let mut buf = Vec::new();
    if std::io::stdin().read_to_end(&mut buf).is_err() {
        return Value::Null;
    }
    serde_json::from_slice(&buf).unwrap_or(Value::Null)
}

fn items<'a>(request: &'a Value, key: &str) -> &'a [Value] {
    request
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn respond(hook: &str, mut body: Value, request: &Value) {
    let calls = CALLS.fetch_add(1, Ordering::Relaxed) + 1;
    if let Some(obj) = body.as_object_mut() {
        obj.insert("plugin".into(), json!("test-simple"));
        obj.insert("version".into(), json!(VERSION));
        obj.insert("hook".into(), json!(hook));
        obj.insert(
            "config".into(),
            request.get("config").cloned().unwrap_or_else(|| json!({})),
        );
        obj.insert("call_count".into(), json!(calls));
    }
    let mut out = std::io::stdout().lock();
    // Nothing else can be done about a failed write: the host sees the
    // truncated stdout and fails the call.
    let _ = serde_json::to_writer(&mut out, &body);
    let _ = out.flush();
}

/// The `appraise` hook: one `baik` result per case, in order.
#[no_mangle]
pub extern "C" fn appraise() {
    let request = read_request();
    let cases = items(&request, "cases");
    eprintln!("test-simple {VERSION}: appraise {} case(s)", cases.len());
    let nip_of = |c: &Value| c.get("employee").and_then(|e| e.get("nip")).cloned();
    if let Some(slow) = request.pointer("/config/slow_nip") {
        if cases.iter().any(|c| nip_of(c).as_ref() == Some(slow)) {
            let n = request
                .pointer("/config/spin")
                .and_then(Value::as_u64)
                .unwrap_or(100_000_000);
            let mut x = 0u64;
            for i in 0..n {
                x = std::hint::black_box(x.wrapping_add(i));
            }
            std::hint::black_box(x);
        }
    }
    if let Some(refused) = request.pointer("/config/refuse_nip") {
        if cases.iter().any(|c| nip_of(c).as_ref() == Some(refused)) {
            let mut out = std::io::stdout().lock();
            let refusal = json!({"error": {"message": format!("refused: test-simple refuses nip {refused}")}});
            let _ = write!(out, "{refusal}");
            let _ = out.flush();
            return;
        }
    }
    let results: Vec<Value> = cases
        .iter()
        .map(|c| {
            json!({
                "nip": c.get("employee").and_then(|e| e.get("nip")).cloned().unwrap_or(Value::Null),
                "hasil_kerja": "sesuai",
                "perilaku_kerja": "sesuai",
                "predikat": "baik",
                "score": 100,
                "components": [],
                "recommendations": [],
                "explanation": "simple",
            })
        })
        .collect();
    respond("appraise", json!({ "results": results }), &request);
}

/// The `rotate` hook: a null talent box per employee, no moves, no flags.
#[no_mangle]
pub extern "C" fn rotate() {
    let request = read_request();
    let employees = items(&request, "employees");
    eprintln!(
        "test-simple {VERSION}: rotate {} employee(s)",
        employees.len()
    );
    let talent: Vec<Value> = employees
        .iter()
        .map(|e| json!({"nip": e.get("nip").cloned().unwrap_or(Value::Null), "box": null}))
        .collect();
    respond(
        "rotate",
        json!({"talent": talent, "moves": [], "flags": []}),
        &request,
    );
}

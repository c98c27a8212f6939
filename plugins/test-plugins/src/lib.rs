//! Helpers shared by the failure-mode test plugins.
//!
//! Every binary in this crate is a command-style (`_start`) ABI 1 plugin: the
//! host passes `argv = ["plugin", "<hook>"]`, the request JSON on stdin, and
//! reads the response JSON from stdout. The helpers here build the one
//! canonical *valid* response, so the plugins that misbehave only at one point
//! (e.g. `slow`) still answer in the shape the host expects.

use serde_json::{json, Value};
use std::io::{Read, Write};

/// Reads all of stdin and parses it as JSON. A missing or malformed request
/// becomes `null`: these plugins exist to test the runtime, not the host's
/// request validation, so they keep going and answer what they can.
pub fn read_request() -> Value {
    let mut buf = Vec::new();
    if std::io::stdin().read_to_end(&mut buf).is_err() {
        return Value::Null;
    }
    serde_json::from_slice(&buf).unwrap_or(Value::Null)
}

/// The hook named by the host in `argv[1]` (`"appraise"` or `"rotate"`),
/// falling back to the request's `hook` field, then to `"appraise"`.
pub fn hook_name(request: &Value) -> String {
    std::env::args()
        .nth(1)
        .or_else(|| {
            request
                .get("hook")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "appraise".to_owned())
}

/// The canonical schema-valid response for `hook`: one `baik` result per
/// appraisal case, or a null talent box per employee and no moves or flags.
/// `plugin` names the binary so tests can tell plugins apart; the request's
/// `config` is echoed back so tests can see which configuration was used.
pub fn valid_response(plugin: &str, hook: &str, request: &Value) -> Value {
    let config = request.get("config").cloned().unwrap_or_else(|| json!({}));
    let mut response = if hook == "rotate" {
        let talent: Vec<Value> = items(request, "employees")
            .iter()
            .map(|e| json!({"nip": e.get("nip").cloned().unwrap_or(Value::Null), "box": null}))
            .collect();
        json!({"talent": talent, "moves": [], "flags": []})
    } else {
        let results: Vec<Value> = items(request, "cases")
            .iter()
            .map(|c| {
                let nip = c
                    .get("employee")
                    .and_then(|e| e.get("nip"))
                    .cloned()
                    .unwrap_or(Value::Null);
                json!({
                    "nip": nip,
                    "hasil_kerja": "sesuai",
                    "perilaku_kerja": "sesuai",
                    "predikat": "baik",
                    "score": 100,
                    "components": [],
                    "recommendations": [],
                    "explanation": plugin,
                })
            })
            .collect();
        json!({"results": results})
    };
    if let Some(obj) = response.as_object_mut() {
        obj.insert("plugin".into(), json!(plugin));
        obj.insert("hook".into(), json!(hook));
        obj.insert("config".into(), config);
        obj.insert(
            "argv".into(),
            json!(std::env::args().collect::<Vec<String>>()),
        );
    }
    response
}

fn items<'a>(request: &'a Value, key: &str) -> &'a [Value] {
    request
        .get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

/// Writes `value` as the whole of stdout.
pub fn write_json(value: &Value) {
    let mut out = std::io::stdout().lock();
    // A failed write cannot be reported anywhere else; the host sees the
    // truncated or empty stdout and fails the call.
    let _ = serde_json::to_writer(&mut out, value);
    let _ = out.flush();
}

/// Reads the request and answers it validly: the body of every plugin that
/// only misbehaves before answering.
pub fn answer(plugin: &str) {
    let request = read_request();
    let hook = hook_name(&request);
    eprintln!("{plugin}: answering {hook}");
    write_json(&valid_response(plugin, &hook, &request));
}

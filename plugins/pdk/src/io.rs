//! Reading the request from stdin, writing the response to stdout, and the one-call runner the
//! export macros use.
//!
//! Every failure on the request path becomes a refusal (`{"error": {"message": …}}`) rather
//! than a panic: plugins are built with `panic = "abort"`, where a panic is a trap and the host
//! can only report "the plugin crashed" instead of what was wrong.

use std::any::Any;
use std::io::{self, Read, Write};

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::types::{AppraiseResponse, HookRequest, Refusal, ABI_VERSION};

/// Parses a request document, naming where it is malformed (for example "invalid request at
/// cases[2].behavior.supervisor: missing field loyal"), since "invalid JSON at column 4311"
/// helps no one fix a batch of cases.
///
/// The path is worked out only when parsing fails: tracking it (serde_path_to_error) costs an
/// allocated string per object key and wraps every value, which would be most of the fuel of
/// an appraisal; a well-formed request is parsed by serde_json alone, and a malformed one is
/// parsed a second time with the tracking on, to name the spot.
pub fn parse_request<T: DeserializeOwned>(json: &str) -> Result<T, String> {
    match serde_json::from_str(json) {
        Ok(value) => Ok(value),
        Err(_) => Err(locate_error::<T>(json)),
    }
}

/// The message for a document that does not parse as `T`, with the path of the problem.
#[cold]
fn locate_error<T: DeserializeOwned>(json: &str) -> String {
    let mut de = serde_json::Deserializer::from_str(json);
    let parsed: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    match parsed {
        Err(e) => {
            let path = e.path().to_string();
            if path == "." {
                format!("invalid request: {}", e.inner())
            } else {
                format!("invalid request at {path}: {}", e.inner())
            }
        }
        Ok(_) => match de.end() {
            Err(e) => format!("invalid request: trailing data after the document: {e}"),
            // serde_json::from_str failed, so one of the two steps fails too; this is only a
            // fallback should they ever disagree.
            Ok(()) => "invalid request".to_string(),
        },
    }
}

/// Reads the whole of stdin and parses it as the request.
pub fn read_request<T: DeserializeOwned>() -> Result<T, String> {
    let mut input = String::new();
    io::stdin()
        .read_to_string(&mut input)
        .map_err(|e| format!("cannot read the request from stdin: {e}"))?;
    parse_request(&input)
}

/// Writes `response` as the whole of stdout.
pub fn write_response<T: Serialize>(response: &T) -> io::Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer(&mut out, response)?;
    out.flush()
}

/// Writes the refusal `{"error": {"message": message}}` as the whole of stdout.
pub fn write_error(message: &str) -> io::Result<()> {
    write_response(&Refusal::new(message))
}

/// Checks the envelope: the ABI version and that the request is for this hook. A request for
/// the other hook reaching this export would otherwise fail with a confusing "missing field".
pub fn check_envelope<R: HookRequest>(request: &R) -> Result<(), String> {
    if request.abi() != ABI_VERSION {
        return Err(format!(
            "unsupported abi {}: this plugin speaks ABI {ABI_VERSION}",
            request.abi()
        ));
    }
    if request.hook() != R::HOOK {
        return Err(format!(
            "request is for hook {:?} but was sent to the {:?} export",
            request.hook().as_str(),
            R::HOOK.as_str()
        ));
    }
    Ok(())
}

/// When a request does not parse, a wrong `abi` or `hook` is the likelier cause (a request of
/// another ABI or for the other hook has another shape), and "missing field `cases`" would hide
/// it; so the envelope alone is read again and named if it is the problem.
fn envelope_problem<Req: HookRequest>(input: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        abi: Option<serde_json::Value>,
        hook: Option<serde_json::Value>,
    }
    let probe: Probe = serde_json::from_str(input).ok()?;
    let abi = probe.abi?;
    if abi.as_u64() != Some(u64::from(ABI_VERSION)) {
        return Some(format!(
            "unsupported abi {abi}: this plugin speaks ABI {ABI_VERSION}"
        ));
    }
    let hook = probe.hook?;
    let expected = Req::HOOK.as_str();
    if hook.as_str() != Some(expected) {
        return Some(format!(
            "request is for hook {hook} but was sent to the {expected:?} export"
        ));
    }
    None
}

/// The response document: an appraise response by the quicker writer (the same bytes), any
/// other by serde_json.
fn render<Resp: Serialize + 'static>(response: &Resp) -> Result<String, serde_json::Error> {
    match (response as &dyn Any).downcast_ref::<AppraiseResponse>() {
        Some(appraisal) => kinerja_abi::fast_write::appraise_response(appraisal),
        None => serde_json::to_string(response),
    }
}

/// String in, string out: parses the request, checks the envelope, calls `handler` and returns
/// the response document or the refusal document. This is what the wasm export does minus
/// stdin/stdout, so native tests and benchmarks can exercise the full JSON path. The response
/// type must own its data (`'static`), so that an appraise response can be told apart and
/// written by the quicker writer.
pub fn handle_json<Req, Resp, F>(input: &str, handler: F) -> String
where
    Req: DeserializeOwned + HookRequest,
    Resp: Serialize + 'static,
    F: FnOnce(Req) -> Result<Resp, String>,
{
    let parsed = Req::parse_fast(input).map_or_else(|| parse_request::<Req>(input), Ok);
    let outcome = match parsed {
        Ok(req) => check_envelope(&req).and_then(|()| handler(req)),
        Err(parse_error) => Err(envelope_problem::<Req>(input).unwrap_or(parse_error)),
    };
    let rendered = match outcome {
        Ok(response) => {
            render(&response).map_err(|e| format!("cannot serialize the response: {e}"))
        }
        Err(message) => Err(message),
    };
    match rendered {
        Ok(json) => json,
        Err(message) => {
            // A refusal is two strings; serializing it cannot fail.
            serde_json::to_string(&Refusal::new(message)).unwrap_or_default()
        }
    }
}

/// The whole body of a hook export: reads stdin, runs `handler`, writes the response or the
/// refusal to stdout. If stdout cannot be written the process exits with status 1, which the
/// host reports as a failed call.
pub fn run_hook<Req, Resp, F>(handler: F)
where
    Req: DeserializeOwned + HookRequest,
    Resp: Serialize + 'static,
    F: FnOnce(Req) -> Result<Resp, String>,
{
    run(handler, false)
}

/// Requests at least this long (a few cases and more) are handled in the call arena.
const ARENA_FROM_BYTES: usize = 16 * 1024;

/// [`run_hook`] for hooks that allocate many small short-lived values per item, such as
/// appraise: a request of [`ARENA_FROM_BYTES`] or more is handled with the call arena on
/// (see [`crate::arena`]). A small request is not: its whole run costs less than the memory
/// growth the arena would add.
#[doc(hidden)]
pub fn run_hook_in_arena<Req, Resp, F>(handler: F)
where
    Req: DeserializeOwned + HookRequest,
    Resp: Serialize + 'static,
    F: FnOnce(Req) -> Result<Resp, String>,
{
    run(handler, true)
}

fn run<Req, Resp, F>(handler: F, arena: bool)
where
    Req: DeserializeOwned + HookRequest,
    Resp: Serialize + 'static,
    F: FnOnce(Req) -> Result<Resp, String>,
{
    let mut input = String::new();
    let output = match io::stdin().read_to_string(&mut input) {
        Ok(n) => {
            let in_arena = arena && n >= ARENA_FROM_BYTES;
            // Native builds (tests, benchmarks) keep the system allocator.
            #[cfg(target_arch = "wasm32")]
            if in_arena {
                crate::ALLOCATOR.enable();
            }
            #[cfg(not(target_arch = "wasm32"))]
            let _ = in_arena;
            handle_json(&input, handler)
        }
        Err(e) => serde_json::to_string(&Refusal::new(format!(
            "cannot read the request from stdin: {e}"
        )))
        .unwrap_or_default(),
    };
    let mut out = io::stdout().lock();
    if out
        .write_all(output.as_bytes())
        .and_then(|()| out.flush())
        .is_err()
    {
        std::process::exit(1);
    }
}

/// Exports `appraise` (type `() -> ()`, reactor style) calling
/// `handler: fn(&AppraiseRequest) -> Result<AppraiseResponse, String>`.
///
/// The export exists only on `wasm32`: native builds of several plugins can then be linked
/// into one binary (the host's benchmarks do) without duplicate `appraise` symbols.
#[macro_export]
macro_rules! export_appraise {
    ($handler:path) => {
        // Exported as `appraise` under another Rust name, so the plugin's own `fn appraise`
        // (the pure function) can live in the same module.
        #[cfg(target_arch = "wasm32")]
        #[unsafe(export_name = "appraise")]
        pub extern "C" fn __kinerja_pdk_export_appraise() {
            // Appraisals allocate many small short-lived values; see `kinerja_pdk::arena`.
            $crate::io::run_hook_in_arena(|req: $crate::AppraiseRequest| $handler(&req));
        }
    };
}

/// Exports `rotate` (type `() -> ()`) calling
/// `handler: fn(&RotateRequest) -> Result<RotateResponse, String>`; wasm32 only, as
/// [`export_appraise!`].
#[macro_export]
macro_rules! export_rotate {
    ($handler:path) => {
        #[cfg(target_arch = "wasm32")]
        #[unsafe(export_name = "rotate")]
        pub extern "C" fn __kinerja_pdk_export_rotate() {
            $crate::run_hook(|req: $crate::RotateRequest| $handler(&req));
        }
    };
}

/// Exports both hooks: `export_hooks!(appraise = my::appraise, rotate = my::rotate);`. Either
/// may be left out for a plugin that offers one hook.
#[macro_export]
macro_rules! export_hooks {
    (appraise = $a:path, rotate = $r:path $(,)?) => {
        $crate::export_appraise!($a);
        $crate::export_rotate!($r);
    };
    (appraise = $a:path $(,)?) => {
        $crate::export_appraise!($a);
    };
    (rotate = $r:path $(,)?) => {
        $crate::export_rotate!($r);
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{AppraiseRequest, AppraiseResponse, RotateRequest, RotateResponse};
    use serde_json::{json, Value};

    fn appraise_doc() -> Value {
        json!({
            "abi": 1, "hook": "appraise", "region": "x", "config": {},
            "future_field": {"the host": "may add this"},
            "cases": [{
                "employee": {"nip": "1", "extra": true},
                "period": {"id": "2026", "start": "2026-01-01", "end": "2026-12-31",
                           "working_days": 261},
                "indicators": [],
                "behavior": {"supervisor": {"berorientasi_pelayanan": 4, "akuntabel": 4,
                    "kompeten": 4, "harmonis": 4, "loyal": 4, "adaptif": 4, "kolaboratif": 4},
                    "peers": null},
                "activities": {"days_reported": 200},
                "innovations": null,
                "process": {}
            }]
        })
    }

    #[test]
    fn tolerates_unknown_fields_and_nulls() {
        let req: AppraiseRequest = parse_request(&appraise_doc().to_string()).unwrap();
        assert_eq!(req.cases.len(), 1);
        assert!(req.cases[0].innovations().is_empty());
        assert!(req.cases[0].process().is_none());
        assert!(req.cases[0].behavior.peers().is_empty());
    }

    #[test]
    fn errors_name_the_path() {
        let mut doc = appraise_doc();
        doc["cases"][0]["behavior"]["supervisor"]
            .as_object_mut()
            .unwrap()
            .remove("loyal");
        let err = parse_request::<AppraiseRequest>(&doc.to_string()).unwrap_err();
        assert!(err.contains("cases[0].behavior.supervisor"), "{err}");
        assert!(err.contains("loyal"), "{err}");

        let err = parse_request::<AppraiseRequest>("{\"abi\": 1,").unwrap_err();
        assert!(err.starts_with("invalid request"), "{err}");
        let err = parse_request::<AppraiseRequest>(&format!("{} x", appraise_doc())).unwrap_err();
        assert!(err.contains("trailing"), "{err}");
    }

    #[test]
    fn handle_json_refuses_wrong_abi_and_hook() {
        let ok = |req: AppraiseRequest| -> Result<AppraiseResponse, String> {
            Ok(AppraiseResponse {
                results: Vec::with_capacity(req.cases.len()),
            })
        };
        assert_eq!(
            handle_json(&appraise_doc().to_string(), ok),
            r#"{"results":[]}"#
        );

        let mut doc = appraise_doc();
        doc["abi"] = json!(2);
        let out: Value = serde_json::from_str(&handle_json(&doc.to_string(), ok)).unwrap();
        let msg = out["error"]["message"].as_str().unwrap();
        assert!(msg.contains("abi 2"), "{msg}");

        let mut doc = appraise_doc();
        doc["hook"] = json!("rotate");
        let out: Value = serde_json::from_str(&handle_json(&doc.to_string(), ok)).unwrap();
        assert!(out["error"]["message"].as_str().unwrap().contains("rotate"));

        // A rotate-shaped request sent to appraise: named as the wrong hook, not as a missing
        // `cases`; an ABI 2 document of another shape: named as the wrong ABI.
        let rotate_doc = json!({"abi": 1, "hook": "rotate", "region": "x", "as_of": "2026-12-31",
                                "employees": [], "positions": []});
        let out: Value = serde_json::from_str(&handle_json(&rotate_doc.to_string(), ok)).unwrap();
        let msg = out["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("\"rotate\"") && msg.contains("appraise"),
            "{msg}"
        );
        let v2 = json!({"abi": 2, "hook": "appraise", "batch": {}});
        let out: Value = serde_json::from_str(&handle_json(&v2.to_string(), ok)).unwrap();
        let msg = out["error"]["message"].as_str().unwrap();
        assert!(msg.contains("unsupported abi 2"), "{msg}");
        // A well-formed envelope with a broken body still names the body.
        let broken = json!({"abi": 1, "hook": "appraise", "region": "x", "cases": [{}]});
        let out: Value = serde_json::from_str(&handle_json(&broken.to_string(), ok)).unwrap();
        let msg = out["error"]["message"].as_str().unwrap();
        assert!(msg.contains("cases[0]"), "{msg}");

        let refuse = |_: RotateRequest| -> Result<RotateResponse, String> { Err("no".into()) };
        let rotate = json!({"abi": 1, "hook": "rotate", "region": "x", "as_of": "2026-12-31",
                            "employees": [], "positions": []});
        assert_eq!(
            handle_json(&rotate.to_string(), refuse),
            r#"{"error":{"message":"no"}}"#
        );
    }
}

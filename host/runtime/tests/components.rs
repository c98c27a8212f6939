//! ABI 2: components in the same sandbox as ABI 1 modules, answering the same documents.
//!
//! Needs the ABI 1 and ABI 2 Jambi plugins built (`scripts/build-plugins.sh`).

mod support;

use std::path::PathBuf;

use kinerja_runtime::{CallError, Hook, LimitKind, Limits, LoadSource, UploadError};
use support::*;

const JAMBI1: &str = "kinerja_plugin_jambi";

/// A component built by scripts/build-plugins.sh.
fn component(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join(format!("../../target/wasm32-wasip2/plugin/{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{} is missing ({e}); build it with scripts/build-plugins.sh",
            path.display()
        )
    })
}

/// The ABI 2 Jambi component (the same rules as [`JAMBI1`]).
fn jambi2() -> Vec<u8> {
    component("kinerja_plugin_jambi_abi2")
}

/// Every request of the Jambi conformance fixtures, with its hook and name.
fn fixtures() -> Vec<(String, Hook, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../plugins/fixtures/jambi");
    let mut out: Vec<(String, Hook, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("fixtures")
        .filter_map(|e| {
            let path = e.expect("entry").path();
            let name = path
                .file_name()?
                .to_str()?
                .strip_suffix(".request.json")?
                .to_owned();
            let hook = if name.starts_with("rotate") {
                Hook::Rotate
            } else {
                Hook::Appraise
            };
            Some((name, hook, std::fs::read(&path).expect("fixture")))
        })
        .collect();
    out.sort();
    assert!(out.len() > 15, "only {} fixtures", out.len());
    out
}

#[test]
fn abi2_answers_what_abi1_answers_byte_for_byte_on_less_fuel() {
    let (rt, _dir) = runtime();
    let one = rt.load(&plugin(JAMBI1)).expect("ABI 1 Jambi");
    let two = rt.load(&jambi2()).expect("ABI 2 Jambi");
    assert_eq!((one.abi, two.abi), (1, 2));
    assert_eq!(two.hooks, [Hook::Appraise, Hook::Rotate]);
    assert_eq!(two.source, LoadSource::Compiled);
    for (name, hook, request) in fixtures() {
        let a = rt.call(&one.id, hook, &request).expect(&name);
        let b = rt.call(&two.id, hook, &request).expect(&name);
        assert_eq!(
            String::from_utf8_lossy(&b.stdout),
            String::from_utf8_lossy(&a.stdout),
            "{name}: the two ABIs answer the same document"
        );
        if name == "appraise-batch" {
            // Deterministic, not timed: the guest no longer reads or writes JSON.
            assert!(
                b.fuel_used * 2 < a.fuel_used,
                "{name}: ABI 2 used {} fuel, ABI 1 {}",
                b.fuel_used,
                a.fuel_used
            );
        }
        let again = rt.call(&two.id, hook, &request).expect(&name);
        assert_eq!(
            (again.stdout, again.fuel_used),
            (b.stdout, b.fuel_used),
            "{name}: same request, same answer, same fuel"
        );
    }
}

#[test]
fn a_refusal_comes_back_as_abi1s_refusal_document() {
    let (rt, _dir) = runtime();
    let id = rt.load(&jambi2()).expect("load").id;
    // Jambi needs the daily reports (`activities`): a case without them is refused.
    let mut request: serde_json::Value =
        serde_json::from_slice(&appraise_request("x")).expect("request");
    for case in request["cases"].as_array_mut().expect("cases") {
        case.as_object_mut().expect("case").remove("activities");
    }
    let out = rt
        .call(&id, Hook::Appraise, request.to_string().as_bytes())
        .expect("a refusal is an answer");
    let v = json_of(&out);
    let message = v["error"]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("activities.days_reported is required"),
        "{v}"
    );
    assert_eq!(v.as_object().map(|o| o.len()), Some(1), "{v}");
}

#[test]
fn a_request_that_is_not_the_hooks_document_is_named() {
    let (rt, _dir) = runtime();
    let id = rt.load(&jambi2()).expect("load").id;
    for bad in [
        &b"not json"[..],
        br#"{"abi":1,"hook":"appraise","region":"x"}"#,
    ] {
        let e = rt
            .call(&id, Hook::Appraise, bad)
            .expect_err("a bad request");
        assert!(matches!(e, CallError::Request { .. }), "{e:?}");
        assert!(
            e.to_string().contains(&id) && e.to_string().contains("appraise request"),
            "{e}"
        );
    }
    assert_serves(&rt);
}

#[test]
fn components_run_under_the_same_limits() {
    let request = fixtures()
        .into_iter()
        .find(|(name, ..)| name == "appraise-batch")
        .expect("appraise-batch")
        .2;

    let (rt, _dir) = runtime_with(
        Limits {
            fuel: 20_000,
            ..Limits::default()
        },
        2,
    );
    let id = rt.load(&jambi2()).expect("load").id;
    let e = rt
        .call(&id, Hook::Appraise, &request)
        .expect_err("over its fuel");
    assert_eq!(e.limit(), Some(LimitKind::Fuel), "{e}");
    assert!(e.to_string().contains(&id), "{e}");

    // A component's memories are bounded as a module's are: the Rust component's stack and
    // data alone need more than 256 KiB, which is refused before compiling.
    let (rt, _dir) = runtime_with(
        Limits {
            memory_bytes: 256 << 10,
            ..Limits::default()
        },
        2,
    );
    let e = rt.load(&jambi2()).expect_err("over its memory");
    assert!(
        matches!(e, UploadError::TooCostly { .. }) && e.to_string().contains("initial memory"),
        "{e}"
    );
}

#[test]
fn a_compiled_component_is_taken_from_the_cache() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = || kinerja_runtime::RuntimeConfig::new(dir.path().join("cache"));
    let first = kinerja_runtime::Runtime::new(config()).expect("runtime");
    assert_eq!(
        first.load(&jambi2()).expect("load").source,
        LoadSource::Compiled
    );
    drop(first);
    let second = kinerja_runtime::Runtime::new(config()).expect("runtime");
    let info = second.load(&jambi2()).expect("load");
    assert_eq!((info.source, info.abi), (LoadSource::Cache, 2));
    assert_eq!(second.compiled_count(), 0);
    let (_, _, request) = fixtures().into_iter().next().expect("a fixture");
    second
        .call(&info.id, Hook::Appraise, &request)
        .expect("a call from the cached artifact");
}

#[test]
fn an_idle_component_is_unloaded_and_revived_from_the_cache() {
    let (rt, _dir) = runtime();
    let id = rt.load(&jambi2()).expect("load").id;
    let (_, _, request) = fixtures().into_iter().next().expect("a fixture");
    let before = rt.call(&id, Hook::Appraise, &request).expect("call");
    assert_eq!(
        rt.unload_idle(|_| false, std::time::Duration::ZERO),
        std::slice::from_ref(&id)
    );
    assert!(rt.hooks(&id).is_none() && rt.is_loaded(&id));
    let after = rt.call(&id, Hook::Appraise, &request).expect("revived");
    assert_eq!(after.stdout, before.stdout);
    assert_eq!(rt.hooks(&id), Some(vec![Hook::Appraise, Hook::Rotate]));
    assert_eq!(
        rt.compiled_count(),
        1,
        "revived from the cache, not compiled"
    );
}

#[test]
fn a_component_that_is_not_an_abi2_plugin_is_refused_by_name() {
    let (rt, _dir) = runtime();
    let e = rt.load(&wat("(component)")).expect_err("no hook");
    assert!(matches!(e, UploadError::NoComponentHook), "{e}");
    assert!(
        e.to_string().contains("kinerja:policy/appraise@2.0.0"),
        "{e}"
    );

    let e = rt
        .load(&wat(
            r#"(component (import "evil:host/fs" (instance (export "read" (func)))))"#,
        ))
        .expect_err("a forbidden import");
    assert!(matches!(e, UploadError::ComponentImports(_)), "{e}");
    assert!(e.to_string().contains("evil:host/fs"), "{e}");

    // The hook's interface and name, but another signature (`appraise: func(u32) -> u32`):
    // refused at upload, naming the hook, instead of failing every call.
    let e = rt
        .load(&wat(r#"(component
                 (core module $m (func (export "f") (param i32) (result i32) local.get 0))
                 (core instance $i (instantiate $m))
                 (func $f (param "request" u32) (result u32) (canon lift (core func $i "f")))
                 (instance $hooks (export "appraise" (func $f)))
                 (export "kinerja:policy/appraise@2.0.0" (instance $hooks)))"#))
        .expect_err("a hook with another signature");
    assert!(
        matches!(
            e,
            UploadError::ComponentSignature {
                hook: Hook::Appraise,
                ..
            }
        ),
        "{e}"
    );
    assert!(e.to_string().contains("appraise hook"), "{e}");
    assert_serves(&rt);
}

/// The misbehaving component (plugins/test-component).
fn misbehaving() -> Vec<u8> {
    component("kinerja_test_component")
}

/// An appraise request whose config tells the test component how to misbehave.
fn mode(mode: &str) -> Vec<u8> {
    let mut request: serde_json::Value =
        serde_json::from_slice(&appraise_request("x")).expect("request");
    request["config"] = serde_json::json!({ "mode": mode });
    request.to_string().into_bytes()
}

#[test]
fn a_component_that_misbehaves_is_stopped_by_name_and_the_runtime_serves_on() {
    let (rt, _dir) = runtime_with(
        Limits {
            wall_time: std::time::Duration::from_millis(300),
            // So that the loop meets the wall-time limit first.
            fuel: 1 << 40,
            stderr_bytes: 64 << 10,
            ..Limits::default()
        },
        2,
    );
    let id = rt.load(&misbehaving()).expect("load").id;
    let ok = rt
        .call(&id, Hook::Appraise, &mode("none"))
        .expect("a good call");
    assert_eq!(json_of(&ok)["results"].as_array().map(Vec::len), Some(2));

    // Waiting traps at once instead of holding the thread (the clocks are fixed anyway).
    let started = std::time::Instant::now();
    let e = rt
        .call(&id, Hook::Appraise, &mode("sleep"))
        .expect_err("sleep");
    assert!(matches!(e, CallError::Trap { .. }), "{e:?}");
    assert!(e.to_string().contains("may not wait or sleep"), "{e}");
    assert!(started.elapsed() < std::time::Duration::from_millis(900));

    // A loop ends at the wall-time limit.
    let e = rt
        .call(&id, Hook::Appraise, &mode("loop"))
        .expect_err("loop");
    assert_eq!(e.limit(), Some(LimitKind::WallTime), "{e}");
    assert!(e.to_string().contains(&id), "{e}");

    // Growing without end is stopped at the memory limit.
    let e = rt
        .call(&id, Hook::Appraise, &mode("grow"))
        .expect_err("grow");
    assert_eq!(e.limit(), Some(LimitKind::Memory), "{e}");

    // The log (stdout and stderr together) is bounded like ABI 1's stderr.
    let e = rt
        .call(&id, Hook::Appraise, &mode("print"))
        .expect_err("print");
    assert_eq!(e.limit(), Some(LimitKind::Stderr), "{e}");

    // A refusal is an answer.
    let out = rt
        .call(&id, Hook::Appraise, &mode("refuse"))
        .expect("refusal");
    assert_eq!(
        json_of(&out),
        serde_json::json!({"error": {"message": "refused on request"}})
    );
    let again = rt
        .call(&id, Hook::Appraise, &mode("none"))
        .expect("serves on");
    assert_eq!(again.stdout, ok.stdout);
    assert_eq!(rt.in_flight(), 0);
}

#[test]
fn a_components_random_bytes_are_bounded_and_the_same_every_call() {
    let (rt, _dir) = runtime();
    let id = rt.load(&misbehaving()).expect("load").id;
    // 2 MiB in one call is over the 1 MiB bound of one random request.
    let e = rt
        .call(&id, Hook::Appraise, &mode("random"))
        .expect_err("random");
    assert!(matches!(e, CallError::Trap { .. }), "{e:?}");
    assert!(e.to_string().contains("at most 1048576 per call"), "{e}");
    // Below the bound, the bytes are the same on every call: the sandbox is deterministic.
    let a = rt.call(&id, Hook::Appraise, &mode("dice")).expect("dice");
    let b = rt.call(&id, Hook::Appraise, &mode("dice")).expect("dice");
    let dice = json_of(&a)["results"][0]["explanation"].clone();
    assert_eq!(dice.as_str().map(str::len), Some(64), "{dice}");
    assert_eq!(a.stdout, b.stdout);
}

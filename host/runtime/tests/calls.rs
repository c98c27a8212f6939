//! Plugin calls: good calls, every failure mode and the limit it maps to, the
//! sandbox, determinism and isolation. Each failure is followed by a good
//! call on the same runtime.

mod support;

use std::time::{Duration, Instant};

use kinerja_runtime::{CallError, Hook, LimitKind, Limits, MAX_WASM_STACK};
use serde_json::Value;
use support::*;

fn assert_limit(id: &str, err: &CallError, kind: LimitKind, value: &str) {
    let msg = err.to_string();
    assert_eq!(
        err.limit(),
        Some(kind),
        "expected the {kind} limit, got: {msg}"
    );
    assert!(msg.contains(id), "message names the plugin id: {msg}");
    assert!(
        msg.contains(kind.as_str()),
        "message names the limit: {msg}"
    );
    assert!(
        msg.contains(value),
        "message gives the configured value {value}: {msg}"
    );
    assert_eq!(err.plugin(), Some(id));
}

#[test]
fn simple_reactor_answers_both_hooks() {
    let (rt, _dir) = runtime();
    let info = rt.load(&simple()).expect("load");
    assert_eq!(info.hooks, vec![Hook::Appraise, Hook::Rotate]);

    let out = rt
        .call(&info.id, Hook::Appraise, &appraise_request("m1"))
        .expect("appraise");
    let v = json_of(&out);
    let results = v["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    assert_eq!(results[0]["nip"], "198503122010011001");
    assert_eq!(results[1]["nip"], "199001012015022002");
    assert_eq!(results[0]["predikat"], "baik");
    assert_eq!(results[0]["hasil_kerja"], "sesuai");
    assert_eq!(results[0]["explanation"], "simple");
    assert_eq!(v["config"]["marker"], "m1");
    assert_eq!(v["plugin"], "test-simple");
    assert_eq!(v["version"], "1");
    assert!(String::from_utf8_lossy(&out.stderr).contains("appraise 2 case(s)"));
    assert!(out.fuel_used > 0);
    eprintln!(
        "test-simple appraise: {} fuel, {:?}",
        out.fuel_used, out.duration
    );

    let out = rt
        .call(&info.id, Hook::Rotate, &rotate_request("m2"))
        .expect("rotate");
    let v = json_of(&out);
    assert_eq!(v["talent"][0]["nip"], "198503122010011001");
    assert_eq!(v["talent"][0]["box"], Value::Null);
    assert_eq!(v["moves"], serde_json::json!([]));
    assert_eq!(v["flags"], serde_json::json!([]));
    assert_eq!(v["config"]["marker"], "m2");
}

#[test]
fn command_plugin_gets_argv_with_the_hook() {
    let (rt, _dir) = runtime();
    let info = rt.load(&plugin("command")).expect("load");
    assert_eq!(info.hooks, vec![Hook::Appraise, Hook::Rotate]);
    for hook in Hook::ALL {
        let out = rt
            .call(&info.id, hook, &request(hook, "cmd"))
            .expect("call");
        let v = json_of(&out);
        assert_eq!(v["argv"], serde_json::json!(["plugin", hook.as_str()]));
        assert_eq!(v["hook"], hook.as_str());
        assert_eq!(v["config"]["marker"], "cmd");
    }
    let v = json_of(
        &rt.call(&info.id, Hook::Rotate, &rotate_request("r"))
            .expect("rotate"),
    );
    assert_eq!(v["talent"][0]["box"], Value::Null);
}

#[test]
fn same_input_gives_byte_identical_output_and_fuel() {
    let (rt, _dir) = runtime();
    for name in ["kinerja_test_simple", "command", "sandbox-escape"] {
        let id = rt.load(&plugin(name)).expect("load").id;
        let req = appraise_request("det");
        let a = rt.call(&id, Hook::Appraise, &req).expect("first");
        let b = rt.call(&id, Hook::Appraise, &req).expect("second");
        assert_eq!(a.stdout, b.stdout, "{name}: stdout differs");
        assert_eq!(a.stderr, b.stderr, "{name}: stderr differs");
        assert_eq!(a.fuel_used, b.fuel_used, "{name}: fuel differs");
    }
}

#[test]
fn state_does_not_survive_between_calls() {
    let (rt, _dir) = runtime();
    let id = rt.load(&simple()).expect("load").id;
    for _ in 0..3 {
        let v = json_of(
            &rt.call(&id, Hook::Appraise, &appraise_request("s"))
                .expect("call"),
        );
        assert_eq!(v["call_count"], 1, "a fresh instance per call");
    }
    // The same with a hand-written module: a global counter and a memory
    // cell, both incremented and printed by every call.
    let counter = wat(r#"
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (global $g (mut i32) (i32.const 0))
          (func (export "appraise")
            (global.set $g (i32.add (global.get $g) (i32.const 1)))
            (i32.store (i32.const 200) (i32.add (i32.load (i32.const 200)) (i32.const 1)))
            ;; stdout: "<g><mem>" as two ASCII digits
            (i32.store8 (i32.const 100) (i32.add (i32.const 48) (global.get $g)))
            (i32.store8 (i32.const 101) (i32.add (i32.const 48) (i32.load (i32.const 200))))
            (i32.store (i32.const 0) (i32.const 100))
            (i32.store (i32.const 4) (i32.const 2))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
    "#);
    let id = rt.load(&counter).expect("load counter").id;
    for _ in 0..3 {
        let out = rt.call(&id, Hook::Appraise, b"{}").expect("call");
        assert_eq!(out.stdout, b"11");
    }
}

#[test]
fn initialize_runs_before_the_hook() {
    let (rt, _dir) = runtime();
    let module = wat(r#"
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (global $init (mut i32) (i32.const 0))
          (data (i32.const 100) "initialized")
          (data (i32.const 200) "not initialized")
          (func (export "_initialize") (global.set $init (i32.add (global.get $init) (i32.const 1))))
          (func (export "appraise")
            (if (i32.eq (global.get $init) (i32.const 1))
              (then (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 11)))
              (else (i32.store (i32.const 0) (i32.const 200)) (i32.store (i32.const 4) (i32.const 15))))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
    "#);
    let info = rt.load(&module).expect("load");
    assert_eq!(info.hooks, vec![Hook::Appraise]);
    let out = rt.call(&info.id, Hook::Appraise, b"{}").expect("call");
    assert_eq!(out.stdout, b"initialized");
    let err = rt
        .call(&info.id, Hook::Rotate, b"{}")
        .expect_err("rotate is not offered");
    assert!(matches!(
        err,
        CallError::HookMissing {
            hook: Hook::Rotate,
            ..
        }
    ));
    assert!(err.to_string().contains(&info.id));
    assert!(err.to_string().contains("rotate"));
}

#[test]
fn proc_exit_zero_from_a_reactor_is_success() {
    let (rt, _dir) = runtime();
    let module = wat(r#"
        (module
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (memory (export "memory") 1)
          (data (i32.const 100) "{\"results\":[]}")
          (func (export "appraise")
            (i32.store (i32.const 0) (i32.const 100))
            (i32.store (i32.const 4) (i32.const 14))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
            (call $exit (i32.const 0))
            unreachable))
    "#);
    let id = rt.load(&module).expect("load").id;
    let out = rt
        .call(&id, Hook::Appraise, b"{}")
        .expect("exit 0 is success");
    assert_eq!(out.stdout, br#"{"results":[]}"#);
}

#[test]
fn unknown_plugin_is_not_loaded() {
    let (rt, _dir) = runtime();
    let err = rt
        .call("deadbeef", Hook::Appraise, b"{}")
        .expect_err("not loaded");
    assert!(matches!(err, CallError::NotLoaded { .. }));
    assert_eq!(err.to_string(), "plugin deadbeef is not loaded");
    let id = rt.load(&simple()).expect("load").id;
    assert!(rt.is_loaded(&id));
    assert!(rt.unload(&id));
    assert!(!rt.is_loaded(&id));
    assert!(matches!(
        rt.call(&id, Hook::Appraise, b"{}"),
        Err(CallError::NotLoaded { .. })
    ));
}

#[test]
fn infinite_loop_hits_the_fuel_limit() {
    let (rt, _dir) = runtime();
    let (id, err, took) = expect_failure(&rt, &plugin("loop"), Hook::Appraise);
    assert_limit(&id, &err, LimitKind::Fuel, "500000000");
    eprintln!("time to stop: fuel (500M, loop): {took:?}");
    assert_serves(&rt);
}

#[test]
fn infinite_loop_hits_the_wall_time_limit() {
    let limits = Limits {
        fuel: u64::MAX,
        wall_time: Duration::from_millis(300),
        ..Limits::default()
    };
    let (rt, _dir) = runtime_with(limits, 4);
    let (id, err, took) = expect_failure(&rt, &plugin("loop"), Hook::Appraise);
    assert_limit(&id, &err, LimitKind::WallTime, "300 ms");
    eprintln!("time to stop: wall time (300 ms, loop): {took:?}");
    assert!(
        took >= Duration::from_millis(300),
        "never stopped early: {took:?}"
    );
    assert!(
        took < Duration::from_millis(1500),
        "stopped promptly: {took:?}"
    );
    assert_serves(&rt);
}

#[test]
fn memory_hog_hits_the_memory_limit() {
    let (rt, _dir) = runtime();
    let (id, err, took) = expect_failure(&rt, &plugin("memory-hog"), Hook::Appraise);
    assert_limit(&id, &err, LimitKind::Memory, &(64u64 << 20).to_string());
    eprintln!("time to stop: memory (64 MiB, memory-hog): {took:?}");
    assert_serves(&rt);

    // A smaller limit is honoured the same way.
    let limits = Limits {
        memory_bytes: 4 << 20,
        ..Limits::default()
    };
    let (rt, _dir) = runtime_with(limits, 2);
    let (id, err, took) = expect_failure(&rt, &plugin("memory-hog"), Hook::Rotate);
    assert_limit(&id, &err, LimitKind::Memory, &(4u64 << 20).to_string());
    eprintln!("time to stop: memory (4 MiB, memory-hog): {took:?}");
    assert_serves(&rt);
}

#[test]
fn initial_memory_over_the_limit_is_refused_at_upload() {
    // The pool's memory slots are sized to the memory limit, so a module
    // whose initial memory is larger can never run: refused at upload.
    let limits = Limits {
        memory_bytes: 64 << 10,
        ..Limits::default()
    };
    let (rt, _dir) = runtime_with(limits, 2);
    let module = wat(r#"(module (memory (export "memory") 2) (func (export "appraise")))"#);
    let err = rt.load(&module).expect_err("initial memory over the limit");
    assert!(
        matches!(err, kinerja_runtime::UploadError::TooCostly { .. }),
        "{err}"
    );
    assert!(
        err.to_string().contains("initial memory of 131072 bytes"),
        "{err}"
    );
    eprintln!("initial memory over the limit: {err}");
    let fits = wat(r#"(module (memory (export "memory") 1) (func (export "appraise")))"#);
    let id = rt.load(&fits).expect("one page fits").id;
    rt.call(&id, Hook::Appraise, b"{}").expect("runs");
}

#[test]
fn unbounded_recursion_hits_the_stack_limit() {
    let (rt, _dir) = runtime();
    let (id, err, took) = expect_failure(&rt, &plugin("recursion"), Hook::Appraise);
    assert_limit(&id, &err, LimitKind::Stack, &MAX_WASM_STACK.to_string());
    eprintln!("time to stop: stack (512 KiB, recursion): {took:?}");
    assert_serves(&rt);
}

#[test]
fn huge_stdout_hits_the_stdout_limit() {
    let (rt, _dir) = runtime();
    let (id, err, took) = expect_failure(&rt, &plugin("huge-stdout"), Hook::Appraise);
    assert_limit(&id, &err, LimitKind::Stdout, &(8u64 << 20).to_string());
    eprintln!("time to stop: stdout (8 MiB, huge-stdout 100 MB): {took:?}");
    assert_serves(&rt);
}

#[test]
fn output_exactly_at_the_limit_is_accepted() {
    let limits = Limits {
        stdout_bytes: 14,
        ..Limits::default()
    };
    let (rt, _dir) = runtime_with(limits.clone(), 2);
    let module = |text: &str| {
        wat(&format!(
            r#"(module
              (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
              (memory (export "memory") 1)
              (data (i32.const 100) "{text}")
              (func (export "appraise")
                (i32.store (i32.const 0) (i32.const 100))
                (i32.store (i32.const 4) (i32.const {len}))
                (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))"#,
            len = text.len()
        ))
    };
    let at = rt.load(&module("exactly14bytes")).expect("load").id;
    let out = rt
        .call(&at, Hook::Appraise, b"{}")
        .expect("exactly at the limit");
    assert_eq!(out.stdout.len(), 14);
    let over = rt.load(&module("fifteen-bytes!!")).expect("load").id;
    let err = rt
        .call(&over, Hook::Appraise, b"{}")
        .expect_err("one byte over");
    assert_limit(&over, &err, LimitKind::Stdout, "14 bytes");
}

#[test]
fn huge_stderr_hits_the_stderr_limit() {
    let (rt, _dir) = runtime();
    let (id, err, took) = expect_failure(&rt, &plugin("huge-stderr"), Hook::Appraise);
    assert_limit(&id, &err, LimitKind::Stderr, &(64u64 << 10).to_string());
    let stderr = err.stderr().expect("stderr kept");
    assert_eq!(stderr.len(), 64 << 10, "stderr is kept up to the limit");
    eprintln!("time to stop: stderr (64 KiB, huge-stderr 100 MB): {took:?}");
    assert_serves(&rt);
}

#[test]
fn panic_is_a_trap_with_the_log() {
    let (rt, _dir) = runtime();
    let (id, err, took) = expect_failure(&rt, &plugin("trap"), Hook::Appraise);
    let CallError::Trap {
        message,
        stderr,
        plugin,
    } = &err
    else {
        panic!("expected a trap, got {err}");
    };
    assert_eq!(plugin, &id);
    assert!(message.contains("unreachable"), "message: {message}");
    let log = String::from_utf8_lossy(stderr);
    assert!(log.contains("deliberate panic"), "stderr: {log}");
    assert!(err.to_string().contains(&id));
    assert!(err.to_string().contains("trapped"));
    assert_eq!(err.limit(), None);
    eprintln!("trap: {err} ({took:?})");
    assert_serves(&rt);
}

#[test]
fn raw_traps_are_reported() {
    let (rt, _dir) = runtime();
    let module = wat(r#"
        (module (memory (export "memory") 1)
          (func $boom (i32.store (i32.const 70000) (i32.const 1)))
          (func (export "appraise") (call $boom)))"#);
    let (id, err, _) = expect_failure(&rt, &module, Hook::Appraise);
    let CallError::Trap { message, .. } = &err else {
        panic!("expected a trap, got {err}");
    };
    assert!(message.contains("out of bounds memory access"), "{message}");
    assert!(
        message.contains("boom"),
        "backtrace names the function: {message}"
    );
    assert!(err.to_string().contains(&id));
    assert_serves(&rt);
}

#[test]
fn a_start_function_that_loops_is_stopped_at_call_time() {
    // Upload never instantiates, so this loads; the first call stops it.
    let (rt, _dir) = runtime();
    let module = wat(r#"
        (module (func $spin (loop $l (br $l))) (start $spin)
          (func (export "appraise")))"#);
    let started = Instant::now();
    let info = rt.load(&module).expect("load never runs the module");
    assert!(started.elapsed() < Duration::from_secs(5));
    let (id, err, took) = expect_failure(&rt, &module, Hook::Appraise);
    assert_eq!(id, info.id);
    assert_limit(&id, &err, LimitKind::Fuel, "500000000");
    eprintln!("time to stop: fuel (start function loop): {took:?}");
    assert_serves(&rt);
}

#[test]
fn nonzero_exit_is_an_exit_error() {
    let (rt, _dir) = runtime();
    let (id, err, _) = expect_failure(&rt, &plugin("exit-nonzero"), Hook::Rotate);
    let CallError::Exit { code, stderr, .. } = &err else {
        panic!("expected an exit, got {err}");
    };
    assert_eq!(*code, 3);
    assert!(String::from_utf8_lossy(stderr).contains("giving up with status 3"));
    assert_eq!(err.to_string(), format!("plugin {id} exited with status 3"));
    assert_serves(&rt);
}

#[test]
fn sleeping_fails_at_once_instead_of_blocking() {
    let (rt, _dir) = runtime();
    let (_, err, took) = expect_failure(&rt, &plugin("sleep"), Hook::Appraise);
    assert!(matches!(err, CallError::Trap { .. }), "got {err}");
    let log = String::from_utf8_lossy(err.stderr().unwrap_or_default()).into_owned();
    // std's sleep asserts that the poll succeeded (or was interrupted) and
    // panics on the refusal; with panic=abort that ends in a trap.
    assert!(
        log.contains("panicked"),
        "std panics on the refused poll: {log}"
    );
    assert!(took < Duration::from_millis(500), "did not sleep: {took:?}");
    eprintln!("time to stop: sleep (1 h requested): {took:?}");
    assert_serves(&rt);
}

#[test]
fn bad_responses_pass_through_for_the_host_to_judge() {
    // The runtime does not parse stdout; the host validates UTF-8, JSON,
    // the response schema and refusals. These calls therefore succeed here.
    let (rt, _dir) = runtime();
    type Check = fn(&[u8]) -> bool;
    let cases: [(&str, Check); 4] = [
        ("invalid-utf8", |s| std::str::from_utf8(s).is_err()),
        ("invalid-json", |s| {
            std::str::from_utf8(s).is_ok() && serde_json::from_slice::<Value>(s).is_err()
        }),
        ("schema-invalid", |s| {
            serde_json::from_slice::<Value>(s).ok() == Some(serde_json::json!({"results": "nope"}))
        }),
        ("refusal", |s| {
            serde_json::from_slice::<Value>(s).ok().and_then(|v| {
                v["error"]["message"]
                    .as_str()
                    .map(|m| m.starts_with("refused:"))
            }) == Some(true)
        }),
    ];
    for (name, check) in cases {
        let id = rt.load(&plugin(name)).expect("load").id;
        let out = rt
            .call(&id, Hook::Appraise, &appraise_request("x"))
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(
            check(&out.stdout),
            "{name}: unexpected stdout {:?}",
            out.stdout
        );
    }
    assert_serves(&rt);
}

#[test]
fn sandbox_escape_finds_nothing() {
    let (rt, _dir) = runtime();
    let id = rt.load(&plugin("sandbox-escape")).expect("load").id;
    let out = rt
        .call(&id, Hook::Appraise, &appraise_request("sandbox"))
        .expect("sandbox-escape answers");
    let v = json_of(&out);
    let s = &v["sandbox"];
    eprintln!("sandbox report: {s:#}");
    for key in [
        "open_etc_passwd",
        "read_dir_root",
        "read_dir_cwd",
        "create_tmp_file",
        "tcp_connect",
        "tcp_listen",
        "udp_bind",
    ] {
        let outcome = s[key].as_str().unwrap_or_default();
        assert!(
            outcome.starts_with("error"),
            "{key} must fail, got {outcome:?}"
        );
    }
    assert_eq!(s["preopen_fd3_errno"], 8, "no preopened directory (EBADF)");
    assert_eq!(s["env_vars"], serde_json::json!([]));
    assert_eq!(s["env_home"], Value::Null);
    assert_eq!(s["sleep_errno"], 58, "poll_oneoff answers ENOTSUP at once");
    assert_eq!(s["sleep_elapsed_ns"], 0, "the monotonic clock is fixed");
    assert_eq!(
        s["wall_clock_ns"], 946_684_800_000_000_000u64,
        "fixed wall clock"
    );
    assert_eq!(s["random_errno"], 0);
    assert_eq!(v["results"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["argv"], serde_json::json!(["plugin", "appraise"]));

    // Seeded random: the same bytes on every call.
    let again = json_of(
        &rt.call(&id, Hook::Appraise, &appraise_request("sandbox"))
            .expect("again"),
    );
    assert_eq!(again["sandbox"]["random_hex"], s["random_hex"]);
    assert_ne!(s["random_hex"], "00000000000000000000000000000000");
}

#[test]
fn fuel_is_reported_and_bounded() {
    let limits = Limits {
        fuel: 5_000_000,
        ..Limits::default()
    };
    let (rt, _dir) = runtime_with(limits, 2);
    let id = rt.load(&simple()).expect("load").id;
    let out = rt
        .call(&id, Hook::Appraise, &appraise_request("f"))
        .expect("call within fuel");
    assert!(out.fuel_used > 0 && out.fuel_used < 5_000_000);
    let (id, err, _) = expect_failure(&rt, &plugin("slow"), Hook::Appraise);
    assert_limit(&id, &err, LimitKind::Fuel, "5000000 fuel units");
}

#[test]
fn random_get_is_bounded_and_checked() {
    let (rt, _dir) = runtime();
    let module = wat(r#"
        (module
          (import "wasi_snapshot_preview1" "random_get" (func $random_get (param i32 i32) (result i32)))
          (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 32)
          (func (export "appraise")
            ;; errno of a buffer running past the end of memory (2 MiB)
            (i32.store8 (i32.const 100) (call $random_get (i32.const 0x1FFFF0) (i32.const 64)))
            ;; errno of the largest allowed request (1 MiB)
            (i32.store8 (i32.const 101) (call $random_get (i32.const 0x100000) (i32.const 0x100000)))
            (i32.store (i32.const 0) (i32.const 100))
            (i32.store (i32.const 4) (i32.const 2))
            (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
          (func (export "rotate")
            (drop (call $random_get (i32.const 0) (i32.const 0x100001)))))
    "#);
    let id = rt.load(&module).expect("load").id;
    let out = rt.call(&id, Hook::Appraise, b"{}").expect("call");
    assert_eq!(
        out.stdout,
        [21, 0],
        "EFAULT out of bounds, success for 1 MiB"
    );
    eprintln!("random_get of 1 MiB: call took {:?}", out.duration);
    let err = rt.call(&id, Hook::Rotate, b"{}").expect_err("over 1 MiB");
    let CallError::Trap { message, .. } = &err else {
        panic!("expected a trap, got {err}");
    };
    assert!(
        message.contains("random_get asked for 1048577 bytes"),
        "{message}"
    );
    assert_serves(&rt);
}

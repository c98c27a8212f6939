//! Calls from many threads: the in-flight bound (Busy, never a hang) and
//! isolation between concurrent calls.

mod support;

use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use kinerja_runtime::{CallError, Hook, Limits};
use support::*;

#[test]
fn over_capacity_calls_get_busy_and_none_hang() {
    let (rt, _dir) = runtime_with(Limits::default(), 2);
    let rt = Arc::new(rt);
    let id = rt.load(&plugin("slow")).expect("load slow").id;

    // How long one slow call takes on this machine.
    let single = rt
        .call(&id, Hook::Appraise, &appraise_request("one"))
        .expect("slow call");
    eprintln!(
        "one slow call: {:?}, {} fuel",
        single.duration, single.fuel_used
    );

    let threads = 10;
    let barrier = Arc::new(Barrier::new(threads));
    let (tx, rx) = mpsc::channel();
    for i in 0..threads {
        let (rt, id, barrier, tx) = (rt.clone(), id.clone(), barrier.clone(), tx.clone());
        std::thread::spawn(move || {
            barrier.wait();
            let result = rt.call(&id, Hook::Appraise, &appraise_request(&format!("t{i}")));
            let _ = tx.send((i, result));
        });
    }
    drop(tx);
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mut ok, mut busy) = (0, 0);
    for _ in 0..threads {
        let left = deadline.saturating_duration_since(Instant::now());
        let (i, result) = rx.recv_timeout(left).expect("every call returns (no hang)");
        match result {
            Ok(out) => {
                ok += 1;
                assert_eq!(json_of(&out)["config"]["marker"], format!("t{i}"));
            }
            Err(CallError::Busy) => busy += 1,
            Err(e) => panic!("unexpected error: {e}"),
        }
    }
    eprintln!("10 concurrent slow calls, max_in_flight 2: {ok} ok, {busy} busy");
    assert!(ok >= 1, "some calls run");
    assert!(busy >= 1, "some calls are refused with Busy");
    assert_eq!(ok + busy, threads);
    assert_eq!(rt.in_flight(), 0, "every slot released");
    assert!(CallError::Busy.to_string().contains("capacity"));
    assert_serves(&rt);
}

#[test]
fn concurrent_calls_are_isolated() {
    let (rt, _dir) = runtime_with(Limits::default(), 8);
    let rt = Arc::new(rt);
    let simple_id = rt.load(&simple()).expect("load").id;
    let command_id = rt.load(&plugin("command")).expect("load").id;
    let hog_id = rt.load(&plugin("memory-hog")).expect("load").id;

    let started = Instant::now();
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let rt = rt.clone();
            let ids = [simple_id.clone(), command_id.clone(), hog_id.clone()];
            std::thread::spawn(move || {
                let mut calls = 0;
                for n in 0..25 {
                    let marker = format!("thread{t}-call{n}");
                    let hook = if n % 2 == 0 {
                        Hook::Appraise
                    } else {
                        Hook::Rotate
                    };
                    // Every fifth call on some threads is a memory hog, failing
                    // next to good calls without disturbing them.
                    if t % 4 == 0 && n % 5 == 0 {
                        let err = rt
                            .call(&ids[2], hook, &request(hook, &marker))
                            .expect_err("memory hog fails");
                        assert!(
                            matches!(err, CallError::Limit { .. } | CallError::Busy),
                            "{err}"
                        );
                        continue;
                    }
                    let id = &ids[n % 2];
                    loop {
                        match rt.call(id, hook, &request(hook, &marker)) {
                            Ok(out) => {
                                let v = json_of(&out);
                                assert_eq!(v["config"]["marker"], marker.as_str());
                                assert_eq!(v["hook"], hook.as_str());
                                calls += 1;
                                break;
                            }
                            Err(CallError::Busy) => std::thread::yield_now(),
                            Err(e) => panic!("{e}"),
                        }
                    }
                }
                calls
            })
        })
        .collect();
    let total: usize = handles.into_iter().map(|h| h.join().expect("thread")).sum();
    let elapsed = started.elapsed();
    eprintln!(
        "{total} good calls from 8 threads in {elapsed:?} ({:?} per call)",
        elapsed / total as u32
    );
    assert_eq!(rt.in_flight(), 0);
}

#[test]
fn per_call_latency() {
    let (rt, _dir) = runtime_with(Limits::default(), 2);
    let id = rt.load(&simple()).expect("load").id;
    let req = appraise_request("latency");
    for _ in 0..20 {
        rt.call(&id, Hook::Appraise, &req).expect("warm-up");
    }
    let n = 200;
    let started = Instant::now();
    for _ in 0..n {
        rt.call(&id, Hook::Appraise, &req).expect("call");
    }
    eprintln!(
        "test-simple appraise (2 cases), fresh instance per call: {:?} per call",
        started.elapsed() / n
    );
}

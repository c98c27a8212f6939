//! Measurement 8, ABI 2 (issue 27): Jambi appraise, one case and batches of 1,000, in one run:
//! native Rust (the baseline), ABI 1 (today's plugin), ABI 2 in Rust, ABI 2 in Python, and the
//! same formula in Rego on the real OPA engine (`scripts/fetch-opa.sh`: OPA's Go evaluator as a
//! C library, called directly) and on regorus. Every path is checked to give the native answers
//! first. Also the Python component's size, compile time, cold start from the cache and first
//! call.

use std::ffi::{c_char, c_int, CStr, CString};
use std::path::{Path, PathBuf};
use std::time::Instant;

use kinerja_runtime::{Hook, LoadSource, Runtime};
use serde_json::Value;

use crate::{
    appraise_request, assert_same, bench_runtime, compare, jambi_cases, median, native_appraise,
    rego_engine, rego_eval, time_us, verdict, Mode, JAMBI_REGO,
};

/// The real OPA engine, `libopabridge.so` loaded with dlopen, the Jambi policy added once and
/// its prepared query reused (the bridge caches it per engine).
struct Opa {
    handle: u64,
    eval: unsafe extern "C" fn(u64, *const c_char, *const c_char, c_int, c_int) -> *mut c_char,
    free: unsafe extern "C" fn(*mut c_char),
    query: CString,
    // Last: the functions above point into it.
    _lib: libloading::Library,
}

impl Opa {
    fn load(path: &Path) -> Result<Opa, String> {
        // SAFETY: the library is the pinned build scripts/fetch-opa.sh checked by SHA-256; the
        // signatures are those of its C header (opa_bindings/_native.py declares the same).
        unsafe {
            let lib = libloading::Library::new(path).map_err(|e| e.to_string())?;
            let new: unsafe extern "C" fn() -> u64 =
                *lib.get(b"OpaNew\0").map_err(|e| e.to_string())?;
            let add: unsafe extern "C" fn(u64, *const c_char, *const c_char) -> *mut c_char =
                *lib.get(b"OpaAddPolicy\0").map_err(|e| e.to_string())?;
            let eval = *lib.get(b"OpaEvalDocument\0").map_err(|e| e.to_string())?;
            let free = *lib.get(b"OpaFreeString\0").map_err(|e| e.to_string())?;
            let handle = new();
            let mut opa = Opa {
                handle,
                eval,
                free,
                query: CString::new("jambi.result").expect("no NUL"),
                _lib: lib,
            };
            let name = CString::new("jambi.rego").expect("no NUL");
            let source = CString::new(JAMBI_REGO).expect("no NUL");
            let envelope = opa.take(add(handle, name.as_ptr(), source.as_ptr()));
            if !envelope["error"].is_null() {
                return Err(format!("OPA refused jambi.rego: {envelope}"));
            }
            opa.handle = handle;
            Ok(opa)
        }
    }

    /// Copies and frees an envelope the bridge returned.
    unsafe fn take(&self, ptr: *mut c_char) -> Value {
        assert!(!ptr.is_null(), "the OPA bridge returned NULL");
        let value = serde_json::from_slice(CStr::from_ptr(ptr).to_bytes()).expect("envelope JSON");
        (self.free)(ptr);
        value
    }

    /// `data.jambi.result` for one case (its JSON).
    fn eval(&self, case_json: &str) -> Value {
        let input = CString::new(case_json).expect("no NUL");
        // SAFETY: valid NUL-terminated strings; the envelope is copied before it is freed.
        let envelope = unsafe {
            self.take((self.eval)(
                self.handle,
                self.query.as_ptr(),
                input.as_ptr(),
                0,
                0,
            ))
        };
        assert!(envelope["error"].is_null(), "OPA: {envelope}");
        envelope["result"][0]["expressions"][0]["value"].clone()
    }
}

fn opa_path() -> PathBuf {
    std::env::var_os("KINERJA_OPA_LIB")
        .map(PathBuf::from)
        .unwrap_or_else(|| kinerja_tests::repo_root().join("target/opa/libopabridge.so"))
}

pub fn bench_abi2(mode: &Mode, runtime: &Runtime, jambi1: &str, dir: &Path) {
    println!(
        "\n## 8. ABI 2: Jambi appraise, native vs ABI 1 vs ABI 2 (Rust, Python) vs Rego (OPA, regorus)"
    );
    let rust2 = kinerja_tests::jambi_rust_component();
    let python = kinerja_tests::jambi_python_component();
    let rust2 = runtime.load(&rust2).expect("ABI 2 Rust").id;

    // The Python component: compiled once into the cache, then a cold start from it.
    let cache = dir.join("abi2-cache");
    let fresh = bench_runtime(&cache);
    let start = Instant::now();
    let info = fresh.load(&python).expect("ABI 2 Python");
    let compile_ms = start.elapsed().as_secs_f64() * 1e3;
    assert_eq!(info.source, LoadSource::Compiled);
    drop(fresh);
    let cold = bench_runtime(&cache);
    let start = Instant::now();
    let info = cold.load(&python).expect("ABI 2 Python from the cache");
    let cache_ms = start.elapsed().as_secs_f64() * 1e3;
    assert_eq!(info.source, LoadSource::Cache);
    let one = appraise_request(&jambi_cases(8, 1));
    let start = Instant::now();
    cold.call(&info.id, Hook::Appraise, one.as_bytes())
        .expect("first call");
    let first_call_ms = start.elapsed().as_secs_f64() * 1e3;
    drop(cold);
    let python = runtime.load(&python).expect("ABI 2 Python").id;
    println!(
        "Python component: {} bytes ({:.1} MiB); compile {compile_ms:.0} ms; cold start from the \
         cache {cache_ms:.1} ms; first call after it {first_call_ms:.1} ms",
        info.size,
        info.size as f64 / (1 << 20) as f64
    );

    let singles: Vec<String> = jambi_cases(9, mode.n(32, 4))
        .iter()
        .map(|c| appraise_request(std::slice::from_ref(c)))
        .collect();
    let batch_cases = mode.n(1000, 20);
    let cases = jambi_cases(10, batch_cases);
    let case_json: Vec<String> = cases.iter().map(Value::to_string).collect();
    let batch = appraise_request(&cases);

    // Correctness first: every path gives the native answers.
    let native: Value = serde_json::from_str(&native_appraise(&batch)).expect("native JSON");
    let native_results = native["results"].as_array().expect("results");
    let mut fuel = Vec::new();
    for (name, id) in [
        ("ABI 1", jambi1),
        ("ABI 2 Rust", &rust2),
        ("ABI 2 Python", &python),
    ] {
        let out = runtime
            .call(id, Hook::Appraise, batch.as_bytes())
            .expect(name);
        let v: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let results = v["results"].as_array().expect("results");
        assert_eq!(results.len(), native_results.len(), "{name}");
        for (r, n) in results.iter().zip(native_results) {
            assert_same(r, n);
        }
        if name != "ABI 2 Python" {
            assert_eq!(
                String::from_utf8_lossy(&out.stdout),
                native_appraise(&batch),
                "{name}: byte for byte"
            );
        }
        fuel.push((name, out.fuel_used as f64 / batch_cases as f64));
    }
    let mut regorus = rego_engine();
    for (c, n) in case_json.iter().zip(native_results) {
        assert_same(&rego_eval(&mut regorus, c), n);
    }
    let opa = match Opa::load(&opa_path()) {
        Ok(opa) => {
            for (c, n) in case_json.iter().zip(native_results) {
                assert_same(&opa.eval(c), n);
            }
            Some(opa)
        }
        Err(e) => {
            println!(
                "SKIPPED: OPA: {} could not be loaded ({e}); run scripts/fetch-opa.sh",
                opa_path().display()
            );
            None
        }
    };
    println!(
        "checked: on {batch_cases} cases ABI 1, ABI 2 Rust (byte for byte), ABI 2 Python, \
         regorus{} decide as native Rust",
        if opa.is_some() { " and OPA" } else { "" }
    );
    for (name, f) in &fuel {
        println!("fuel per case in the batch: {name} {f:.0}");
    }

    let rounds = mode.n(7, 1);
    let n = singles.len();
    let native_single = |i: usize| {
        std::hint::black_box(native_appraise(&singles[i % n]));
    };
    let native_batch = |_| {
        std::hint::black_box(native_appraise(&batch));
    };
    let call = |id: &str, request: &str| {
        std::hint::black_box(
            runtime
                .call(id, Hook::Appraise, request.as_bytes())
                .expect("call"),
        );
    };
    type Row = (&'static str, f64, f64, f64, f64);
    let mut rows: Vec<Row> = Vec::new();
    for (name, id, batch_iters) in [
        ("ABI 1 (JSON in the guest)", jambi1, 5),
        ("ABI 2 Rust", rust2.as_str(), 5),
        ("ABI 2 Python", python.as_str(), 1),
    ] {
        let single = compare(
            rounds,
            (mode.n(1000, 2), native_single),
            (mode.n(100, 2), |i: usize| call(id, &singles[i % n])),
        );
        let batched = compare(
            rounds,
            (mode.n(5, 1), native_batch),
            (mode.n(batch_iters, 1), |_| call(id, &batch)),
        );
        rows.push((
            name,
            single.subject_us,
            single.ratio,
            batched.subject_us / batch_cases as f64,
            batched.ratio,
        ));
    }
    // The Rego engines evaluate one case per call, engine and prepared query reused; the batch
    // figure is per case over the whole batch.
    let rego_single = |eval: &mut dyn FnMut(&str)| {
        compare(
            rounds,
            (mode.n(1000, 2), native_single),
            (mode.n(200, 2), |i: usize| {
                eval(&case_json[i % case_json.len()])
            }),
        )
    };
    let rego_batch = |eval: &mut dyn FnMut(&str)| {
        compare(
            rounds,
            (mode.n(5, 1), native_batch),
            (1, |_| case_json.iter().for_each(|c| eval(c))),
        )
    };
    let mut regorus_eval = |c: &str| {
        std::hint::black_box(rego_eval(&mut regorus, c));
    };
    let (s, b) = (
        rego_single(&mut regorus_eval),
        rego_batch(&mut regorus_eval),
    );
    rows.push((
        "Rego on regorus",
        s.subject_us,
        s.ratio,
        b.subject_us / batch_cases as f64,
        b.ratio,
    ));
    if let Some(opa) = &opa {
        let mut opa_eval = |c: &str| {
            std::hint::black_box(opa.eval(c));
        };
        let (s, b) = (rego_single(&mut opa_eval), rego_batch(&mut opa_eval));
        rows.push((
            "Rego on OPA (Go, C library)",
            s.subject_us,
            s.ratio,
            b.subject_us / batch_cases as f64,
            b.ratio,
        ));
    }
    let native_single_us = time_us(mode.n(2000, 2), native_single);
    let native_batch_us = median((0..rounds).map(|_| time_us(1, native_batch)).collect());
    if mode.full {
        println!(
            "native Rust: one case {native_single_us:.2} µs; batch of {batch_cases} {:.2} µs per case",
            native_batch_us / batch_cases as f64
        );
        println!("| path | one case µs | × native | batch µs/case | × native |");
        println!("|---|---|---|---|---|");
        for (name, su, sr, bu, br) in &rows {
            println!("| {name} | {su:.1} | {sr:.1}× | {bu:.2} | {br:.2}× |");
        }
        let abi2 = rows
            .iter()
            .find(|r| r.0 == "ABI 2 Rust")
            .map_or(f64::NAN, |r| r.4);
        println!(
            "ABI 2 in Rust per batch case: {abi2:.2}× native (target ≤ 1.5×: {})",
            verdict(abi2 <= 1.5)
        );
    }
}

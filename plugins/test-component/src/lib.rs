//! An ABI 2 component for the runtime's tests (`host/runtime/tests/components.rs`): its
//! `appraise` does what the request's `config.mode` says, each a way a component can misbehave,
//! and otherwise answers one `sesuai`/`baik` result per case; its `rotate` answers nothing.
//!
//! Modes: `sleep` (waits a second), `loop` (never ends), `grow` (allocates without end), `print`
//! (writes a megabyte to stdout), `random` (asks for 2 MiB of random bytes), `refuse`, `exit`
//! (exits with status 0 instead of answering), `big` (answers 12 MiB), `dice` (32 random bytes,
//! in hex, as the first result's explanation).

// Only the wasm32-wasip2 build is anything: natively the crate is empty.
#![cfg(target_arch = "wasm32")]

use kinerja_pdk::{
    AppraiseRequest, AppraiseResponse, AppraiseResult, Predikat, Rating, RotateRequest,
    RotateResponse,
};

fn appraise(request: &AppraiseRequest) -> Result<AppraiseResponse, String> {
    match request.config.get("mode").and_then(|m| m.as_str()) {
        Some("sleep") => std::thread::sleep(std::time::Duration::from_secs(1)),
        Some("loop") => {
            let mut n: u64 = 0;
            loop {
                n = std::hint::black_box(n.wrapping_add(1));
            }
        }
        Some("grow") => {
            let mut kept: Vec<Vec<u8>> = Vec::new();
            loop {
                kept.push(vec![1; 1 << 20]);
                std::hint::black_box(&kept);
            }
        }
        Some("print") => {
            let line = "x".repeat(1023);
            for _ in 0..1024 {
                println!("{line}");
            }
        }
        Some("random") => {
            let mut bytes = vec![0u8; 2 << 20];
            std::hint::black_box(random_fill(&mut bytes));
        }
        Some("refuse") => return Err("refused on request".into()),
        Some("dice") => {
            let mut bytes = [0u8; 32];
            random_fill(&mut bytes);
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let mut response = answer(request);
            if let Some(first) = response.results.first_mut() {
                first.explanation = hex;
            }
            return Ok(response);
        }
        Some("exit") => std::process::exit(0),
        Some("big") => {
            // 12 MiB of answer: over the 8 MiB response limit, within the memory limit.
            let explanation = "y".repeat(64 << 10);
            return Ok(AppraiseResponse {
                results: (0..192)
                    .map(|i| baik(format!("{i}"), explanation.clone()))
                    .collect(),
            });
        }
        _ => {}
    }
    Ok(answer(request))
}

/// One `sesuai`/`baik` result per case.
fn answer(request: &AppraiseRequest) -> AppraiseResponse {
    AppraiseResponse {
        results: request
            .cases
            .iter()
            .map(|case| baik(case.employee.nip.clone(), String::new()))
            .collect(),
    }
}

/// A `sesuai`/`baik` result.
fn baik(nip: String, explanation: String) -> AppraiseResult {
    AppraiseResult {
        nip,
        hasil_kerja: Rating::Sesuai,
        perilaku_kerja: Rating::Sesuai,
        predikat: Predikat::Baik,
        score: 80.0,
        components: Vec::new(),
        recommendations: Vec::new(),
        explanation,
        tpp_percent: None,
    }
}

/// Fills `bytes` from WASI's random source in one request (the C library's `arc4random_buf`).
fn random_fill(bytes: &mut [u8]) -> usize {
    extern "C" {
        fn arc4random_buf(buf: *mut u8, len: usize);
    }
    // SAFETY: the buffer is valid for its length.
    unsafe { arc4random_buf(bytes.as_mut_ptr(), bytes.len()) };
    bytes.len()
}

fn rotate(_request: &RotateRequest) -> Result<RotateResponse, String> {
    Ok(RotateResponse {
        talent: Vec::new(),
        moves: Vec::new(),
        flags: Vec::new(),
    })
}

kinerja_pdk::export_component!(appraise = appraise, rotate = rotate);

//! Tries to get out of the sandbox and reports, in a `sandbox` field of an
//! otherwise valid response, what every attempt got. Under the ABI 1 sandbox
//! every attempt fails or comes back empty, and the clock and random values
//! are the same on every call.
use serde_json::{json, Map, Value};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

fn outcome<T>(result: std::io::Result<T>) -> Value {
    match result {
        Ok(_) => json!("ok"),
        Err(e) => json!(format!("error: {e}")),
    }
}

#[cfg(target_os = "wasi")]
mod raw {
    //! The WASI calls std does not expose directly (std's sleep panics when
    //! `poll_oneoff` fails, which would end the report early).
    #[link(wasm_import_module = "wasi_snapshot_preview1")]
    extern "C" {
        fn poll_oneoff(subs: *const u8, events: *mut u8, nsubs: usize, nevents: *mut usize) -> u16;
        fn random_get(buf: *mut u8, len: usize) -> u16;
        fn fd_prestat_get(fd: u32, prestat: *mut u8) -> u16;
    }

    /// Subscribes to a relative one-hour clock timeout; returns the errno.
    pub fn sleep_an_hour() -> u16 {
        let mut sub = [0u8; 48];
        sub[0..8].copy_from_slice(&7u64.to_le_bytes()); // userdata
        sub[8] = 0; // eventtype clock
        sub[16..20].copy_from_slice(&1u32.to_le_bytes()); // clockid monotonic
        sub[24..32].copy_from_slice(&3_600_000_000_000u64.to_le_bytes()); // timeout ns
        sub[40..42].copy_from_slice(&0u16.to_le_bytes()); // relative
        let mut event = [0u8; 32];
        let mut n: usize = 0;
        // SAFETY: buffers are sized for one subscription and one event as WASI
        // preview 1 lays them out.
        unsafe { poll_oneoff(sub.as_ptr(), event.as_mut_ptr(), 1, &mut n) }
    }

    pub fn random_bytes() -> (u16, [u8; 16]) {
        let mut buf = [0u8; 16];
        // SAFETY: the buffer is valid for 16 bytes.
        let errno = unsafe { random_get(buf.as_mut_ptr(), buf.len()) };
        (errno, buf)
    }

    pub fn prestat(fd: u32) -> u16 {
        let mut buf = [0u8; 8];
        // SAFETY: a prestat is 8 bytes.
        unsafe { fd_prestat_get(fd, buf.as_mut_ptr()) }
    }
}

#[cfg(not(target_os = "wasi"))]
mod raw {
    pub fn sleep_an_hour() -> u16 {
        u16::MAX
    }
    pub fn random_bytes() -> (u16, [u8; 16]) {
        (u16::MAX, [0; 16])
    }
    pub fn prestat(_fd: u32) -> u16 {
        u16::MAX
    }
}

fn main() {
    let request = kinerja_test_plugins::read_request();
    let hook = kinerja_test_plugins::hook_name(&request);
    let mut report = Map::new();

    // Files: no directory is preopened, so nothing can be named.
    report.insert(
        "open_etc_passwd".into(),
        outcome(std::fs::read("/etc/passwd")),
    );
    report.insert("read_dir_root".into(), outcome(std::fs::read_dir("/")));
    report.insert("read_dir_cwd".into(), outcome(std::fs::read_dir(".")));
    report.insert(
        "create_tmp_file".into(),
        outcome(std::fs::write("/tmp/kinerja-escape", b"x")),
    );
    report.insert("preopen_fd3_errno".into(), json!(raw::prestat(3)));

    // Environment: empty.
    let vars: Vec<String> = std::env::vars().map(|(k, _)| k).collect();
    report.insert("env_vars".into(), json!(vars));
    report.insert("env_home".into(), json!(std::env::var("HOME").ok()));

    // Network: no sockets.
    report.insert(
        "tcp_connect".into(),
        outcome(std::net::TcpStream::connect("127.0.0.1:80")),
    );
    report.insert(
        "tcp_listen".into(),
        outcome(std::net::TcpListener::bind("0.0.0.0:8080")),
    );
    report.insert(
        "udp_bind".into(),
        outcome(std::net::UdpSocket::bind("0.0.0.0:0")),
    );

    // Sleep: refused at once instead of blocking the host thread.
    let before = Instant::now();
    report.insert("sleep_errno".into(), json!(raw::sleep_an_hour()));
    report.insert(
        "sleep_elapsed_ns".into(),
        json!(before.elapsed().as_nanos() as u64),
    );

    // Clocks and random: fixed, so every call sees the same values.
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    report.insert("wall_clock_ns".into(), json!(now));
    let (errno, bytes) = raw::random_bytes();
    report.insert("random_errno".into(), json!(errno));
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    report.insert("random_hex".into(), json!(hex));

    eprintln!("sandbox-escape: report {}", Value::Object(report.clone()));
    let mut response = kinerja_test_plugins::valid_response("sandbox-escape", &hook, &request);
    if let Some(obj) = response.as_object_mut() {
        obj.insert("sandbox".into(), Value::Object(report));
    }
    kinerja_test_plugins::write_json(&response);
}

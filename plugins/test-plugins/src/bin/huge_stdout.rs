//! Writes 100 MB to stdout and exits 0, ignoring write errors: the runtime
//! must notice the truncation and fail with the stdout limit.
use std::io::Write;

fn main() {
    let chunk = vec![b' '; 64 * 1024];
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(b"{\"results\": [");
    for _ in 0..(100_000_000 / chunk.len()) {
        if out.write_all(&chunk).is_err() {
            // Keep trying like a careless plugin would; every write fails.
            continue;
        }
    }
    let _ = out.write_all(b"]}");
    let _ = out.flush();
}

//! Answers with bytes that are not UTF-8 (and so not JSON). The runtime passes
//! them through; the host must reject them.
use std::io::Write;

fn main() {
    let _ = kinerja_test_plugins::read_request();
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(b"{\"results\": \"\xff\xfe\xc3\x28\"}");
    let _ = out.flush();
}

//! Writes 100 MB of log lines to stderr, then a valid answer: the runtime
//! must fail the call with the stderr limit.
use std::io::Write;

fn main() {
    let line = "log line from huge-stderr, repeated far beyond any sane log size\n".repeat(1000);
    let mut err = std::io::stderr().lock();
    let mut written = 0usize;
    while written < 100_000_000 {
        let _ = err.write_all(line.as_bytes());
        written += line.len();
    }
    drop(err);
    kinerja_test_plugins::answer("huge-stderr");
}

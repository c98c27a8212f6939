//! Tries to sleep for an hour with `std::thread::sleep`. The runtime shadows
//! `poll_oneoff` with an immediate error, so std panics at once (a trap)
//! instead of blocking a host thread where epoch interruption cannot reach.
fn main() {
    let _ = kinerja_test_plugins::read_request();
    eprintln!("sleep: going to sleep for an hour");
    std::thread::sleep(std::time::Duration::from_secs(3600));
    kinerja_test_plugins::answer("sleep");
}

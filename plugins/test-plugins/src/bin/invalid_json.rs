//! Answers with UTF-8 that is not JSON.
fn main() {
    let _ = kinerja_test_plugins::read_request();
    print!("{{\"results\": [ this is not json");
}

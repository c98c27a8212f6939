//! Answers with valid JSON that breaks the response schema.
fn main() {
    let _ = kinerja_test_plugins::read_request();
    print!("{{\"results\": \"nope\"}}");
}

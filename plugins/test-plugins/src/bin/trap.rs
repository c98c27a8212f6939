//! Panics (with `panic = "abort"` this ends in a wasm `unreachable` trap); the
//! panic message on stderr must reach the caller's error.
fn main() {
    let request = kinerja_test_plugins::read_request();
    if request.get("never").is_some() {
        println!("{{}}");
        return;
    }
    panic!("deliberate panic in the trap test plugin");
}

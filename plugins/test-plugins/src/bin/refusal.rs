//! Refuses deliberately (ABI 1 refusal document) and exits 0.
fn main() {
    let _ = kinerja_test_plugins::read_request();
    eprintln!("refusal: refusing on purpose");
    print!(
        "{{\"error\":{{\"message\":\"refused: the refusal test plugin refuses every request\"}}}}"
    );
}

//! Logs a line and exits with status 3 (a non-zero `proc_exit`).
fn main() {
    let _ = kinerja_test_plugins::read_request();
    eprintln!("exit-nonzero: giving up with status 3");
    std::process::exit(3);
}

//! A well-behaved command-style plugin: reads the hook from `argv[1]` and
//! answers both hooks with the canonical valid response (which also echoes
//! `argv`, so tests can check what `_start` received).
fn main() {
    kinerja_test_plugins::answer("command");
}

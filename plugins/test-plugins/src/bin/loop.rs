//! Never returns: must be stopped by the fuel or the wall-time limit.
fn main() {
    let mut n: u64 = 0;
    loop {
        n = std::hint::black_box(n.wrapping_add(1));
    }
}

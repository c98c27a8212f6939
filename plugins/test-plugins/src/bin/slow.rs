//! Burns some tens of milliseconds of CPU (a chain of dependent 64-bit
//! divisions) before answering validly: used to keep calls in flight for the
//! concurrency (Busy) tests. Pure wasm compute costs millions of fuel units
//! per millisecond (about 6-7 million on the development machine), so this
//! uses a sizeable share of the default 500 million fuel limit.

fn main() {
    let divisor = std::hint::black_box(3u64);
    let mut checksum = std::hint::black_box(u64::MAX);
    for i in 0..std::hint::black_box(10_000_000u64) {
        checksum = (checksum / divisor) ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15) | (1 << 63);
    }
    eprintln!("slow: done, checksum {checksum}");
    kinerja_test_plugins::answer("slow");
}

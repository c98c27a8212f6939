//! Unbounded recursion on the WebAssembly call stack: must be stopped by the
//! stack limit. The rotate in the return value keeps LLVM from turning the
//! recursion into a loop; the frames hold no address-taken locals, so they
//! live on the wasm stack rather than the shadow stack in linear memory.
#[inline(never)]
fn recurse(n: u64, stop: u64) -> u64 {
    if n == stop {
        return n;
    }
    let r = recurse(n + 1, stop);
    r.rotate_left((n % 7) as u32) ^ n
}

fn main() {
    let stop = std::hint::black_box(u64::MAX);
    println!("{}", recurse(0, stop));
}

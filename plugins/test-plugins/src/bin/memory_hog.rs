//! Allocates (and touches) 1 MiB blocks for ever: must be stopped by the
//! memory limit.
fn main() {
    let mut blocks: Vec<Vec<u8>> = Vec::new();
    loop {
        let block = vec![1u8; 1 << 20];
        blocks.push(std::hint::black_box(block));
    }
}

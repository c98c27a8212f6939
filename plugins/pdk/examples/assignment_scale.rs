//! Times the optimal assignment at the size the host must handle: 5,000 employees, 500
//! positions, sparse allowed pairs. `cargo run -p kinerja-pdk --release --example assignment_scale`

use std::time::Instant;

use kinerja_pdk::assignment::{optimal_assignment, value_units, Pair};

fn main() {
    let mut state = 0x1234_5678_9abc_def0u64;
    let mut next = move |n: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    };
    let (employees, positions) = (5000usize, 500usize);
    for (per_employee, max_cap, denominators) in [
        (10usize, 4u64, 12u64),
        (50, 4, 12),
        (150, 4, 12),
        (50, 25, 12),
        (50, 25, 97),
    ] {
        let caps: Vec<u32> = (0..positions).map(|_| next(max_cap) as u32).collect();
        let mut pairs = Vec::new();
        for e in 0..employees {
            for _ in 0..per_employee {
                let d = 1 + next(denominators);
                let jpm = 100.0 * (d / 2 + next(d - d / 2 + 1)) as f64 / d as f64; // 50 … 100
                let bonus = if e % 4 == 0 { 1000.0 } else { 0.0 };
                pairs.push(Pair {
                    employee: e,
                    position: next(positions as u64) as usize,
                    value: value_units(jpm + bonus),
                });
            }
        }
        let start = Instant::now();
        let chosen = optimal_assignment(employees, &caps, &pairs);
        let total: i64 = chosen.iter().map(|&i| pairs[i].value).sum();
        println!(
            "{employees} × {positions}, vacancies < {max_cap}, JPM denominators ≤ {denominators}, {} pairs: {} moves of {} seats, total {:.4}, {:?}",
            pairs.len(),
            chosen.len(),
            caps.iter().sum::<u32>(),
            total as f64 / 1e9,
            start.elapsed()
        );
    }
}

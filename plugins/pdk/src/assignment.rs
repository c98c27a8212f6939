//! Optimal assignment of employees to positions with capacities.
//!
//! The policies ask for the largest total value over moves where each employee moves at most
//! once and each position takes at most its vacancies, and among optimal choices one with the
//! most moves. A greedy pick is not optimal (taking the best pair first can block two good
//! ones), so this solves it exactly as a min-cost flow on the sparse graph of allowed pairs:
//!
//! `source →(1, 0) employee →(1, −value) position →(vacancies, 0) sink`
//!
//! by successive shortest paths in the primal–dual form: Dijkstra on reduced costs with
//! potentials (stopped once the sink is settled), then a Dinic-style blocking flow over the
//! zero-reduced-cost edges, so one search serves every augmenting path of the same cost. After
//! k units the flow is a best assignment with exactly k moves, and the best value as a function
//! of k is concave, so augmenting while the shortest path costs ≤ 0 stops exactly at the
//! largest k that reaches the optimum: maximum value first, then maximum moves.
//!
//! Values are integers so that "optimal" and "tie" are exact; [`value_units`] converts a policy
//! value (JPM + bonus) to billionths. The result depends only on the input (including its
//! order), never on hashing or addresses, so a plugin stays deterministic. Scale: see
//! `examples/assignment_scale.rs` (5,000 employees × 500 positions, up to 750,000 pairs).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// An allowed (employee, position) pair and what the move is worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pair {
    /// Index of the employee, `< employees`.
    pub employee: usize,
    /// Index of the position, `< capacities.len()`.
    pub position: usize,
    /// The move's value in integer units (see [`value_units`]).
    pub value: i64,
}

/// A policy value in integer billionths: the 9-decimal value the policies compare on. Values
/// up to about 9.2e9 fit; totals of thousands of JPM-sized values stay far from overflow.
pub fn value_units(value: f64) -> i64 {
    (crate::rules::round9(value) * 1e9).round() as i64
}

const INF: i64 = i64::MAX / 4;

struct Graph {
    to: Vec<u32>,
    cap: Vec<u32>,
    cost: Vec<i64>,
    adj: Vec<Vec<u32>>,
}

impl Graph {
    /// Adds `u → v` and its residual twin; returns the forward edge's index. The twin is always
    /// `index ^ 1`.
    fn add(&mut self, u: usize, v: usize, cap: u32, cost: i64) -> usize {
        let e = self.to.len();
        self.to.push(v as u32);
        self.cap.push(cap);
        self.cost.push(cost);
        self.adj[u].push(e as u32);
        self.to.push(u as u32);
        self.cap.push(0);
        self.cost.push(-cost);
        self.adj[v].push(e as u32 + 1);
        e
    }
}

/// Chooses the moves: returns the indices into `pairs` of the chosen pairs, ascending.
///
/// Guarantees: each employee at most once, each position at most `capacities[position]` times,
/// the total value is the largest possible, and among such choices the number of moves is the
/// largest. Pairs with an out-of-range index, or to a position without capacity, are ignored.
/// A pair of value 0 is taken when a seat allows (it adds a move at no loss); a negative one
/// never is.
pub fn optimal_assignment(employees: usize, capacities: &[u32], pairs: &[Pair]) -> Vec<usize> {
    let positions = capacities.len();
    let source = 0;
    let sink = employees + positions + 1;
    let nodes = sink + 1;
    let emp_node = |e: usize| 1 + e;
    let pos_node = |p: usize| 1 + employees + p;

    let edges = 2 * (pairs.len() + employees + positions);
    let mut g = Graph {
        to: Vec::with_capacity(edges),
        cap: Vec::with_capacity(edges),
        cost: Vec::with_capacity(edges),
        adj: vec![Vec::new(); nodes],
    };
    let mut has_pair = vec![false; employees];
    let mut pos_used = vec![false; positions];
    let mut pair_edges: Vec<(usize, usize)> = Vec::with_capacity(pairs.len());
    for (i, pair) in pairs.iter().enumerate() {
        if pair.employee >= employees
            || pair.position >= positions
            || capacities[pair.position] == 0
        {
            continue;
        }
        has_pair[pair.employee] = true;
        pos_used[pair.position] = true;
        let e = g.add(
            emp_node(pair.employee),
            pos_node(pair.position),
            1,
            -pair.value,
        );
        pair_edges.push((i, e));
    }
    for (e, &used) in has_pair.iter().enumerate() {
        if used {
            g.add(source, emp_node(e), 1, 0);
        }
    }
    for (p, &used) in pos_used.iter().enumerate() {
        if used {
            g.add(pos_node(p), sink, capacities[p], 0);
        }
    }
    if pair_edges.is_empty() {
        return Vec::new();
    }

    // Initial potentials: exact shortest distances, easy because the graph is a DAG
    // (source → employees → positions → sink) with only forward edges carrying capacity.
    // Nodes that cannot be reached get the sink's, which keeps every reduced cost ≥ 0.
    let mut pot = vec![INF; nodes];
    pot[source] = 0;
    for e in 0..employees {
        if has_pair[e] {
            pot[emp_node(e)] = 0;
        }
    }
    for &(i, _) in &pair_edges {
        let p = pos_node(pairs[i].position);
        pot[p] = pot[p].min(-pairs[i].value);
    }
    let mut sink_pot = INF;
    for p in 0..positions {
        if pos_used[p] {
            sink_pot = sink_pot.min(pot[pos_node(p)]);
        }
    }
    pot[sink] = sink_pot;
    for v in pot.iter_mut() {
        if *v == INF {
            *v = sink_pot;
        }
    }

    // Heap keys are (distance, rank) with the sink ranked first among equals, so the search
    // stops as soon as the sink's distance is known instead of first settling every node at
    // that distance (ties are common: many JPMs are equal).
    let rank = |v: usize| if v == sink { 0 } else { v as u32 + 1 };
    let mut dist = vec![INF; nodes];
    let mut level = vec![u32::MAX; nodes];
    let mut next_arc = vec![0usize; nodes];
    let mut heap: BinaryHeap<Reverse<(i64, u32)>> = BinaryHeap::new();
    let mut queue = Vec::with_capacity(nodes);
    let mut stack: Vec<usize> = Vec::new();
    let mut path: Vec<usize> = Vec::new();

    loop {
        // Dijkstra on reduced costs from the source, until the sink is settled.
        dist.fill(INF);
        dist[source] = 0;
        heap.clear();
        heap.push(Reverse((0, rank(source))));
        while let Some(Reverse((d, r))) = heap.pop() {
            let u = if r == 0 { sink } else { r as usize - 1 };
            if d > dist[u] {
                continue;
            }
            if u == sink {
                break;
            }
            for &e in &g.adj[u] {
                let e = e as usize;
                if g.cap[e] == 0 {
                    continue;
                }
                let v = g.to[e] as usize;
                let nd = d + g.cost[e] + pot[u] - pot[v];
                if nd < dist[v] {
                    dist[v] = nd;
                    heap.push(Reverse((nd, rank(v))));
                }
            }
        }
        let dt = dist[sink];
        if dt == INF {
            break; // no augmenting path: the most moves possible are made
        }
        // pot += min(dist, dt): keeps every residual reduced cost ≥ 0 and makes every edge of
        // a shortest path tight, even though the search stopped early.
        for v in 0..nodes {
            pot[v] += dist[v].min(dt);
        }
        // pot[source] stays 0, so pot[sink] is the true cost of every shortest path: a
        // positive cost would lower the total value.
        if pot[sink] > 0 {
            break;
        }

        // Blocking flows over the admissible (zero reduced cost) edges until none is left.
        loop {
            level.fill(u32::MAX);
            level[source] = 0;
            queue.clear();
            queue.push(source);
            let mut head = 0;
            while head < queue.len() {
                let u = queue[head];
                head += 1;
                for &e in &g.adj[u] {
                    let e = e as usize;
                    let v = g.to[e] as usize;
                    if g.cap[e] > 0 && level[v] == u32::MAX && g.cost[e] + pot[u] - pot[v] == 0 {
                        level[v] = level[u] + 1;
                        queue.push(v);
                    }
                }
            }
            if level[sink] == u32::MAX {
                break;
            }
            next_arc.fill(0);
            // Every source edge has capacity 1, so each path carries exactly one unit; an
            // iterative search keeps deep alternating paths off the (small) wasm stack.
            loop {
                stack.clear();
                path.clear();
                stack.push(source);
                let mut found = false;
                while let Some(&u) = stack.last() {
                    if u == sink {
                        found = true;
                        break;
                    }
                    let mut advanced = false;
                    while next_arc[u] < g.adj[u].len() {
                        let e = g.adj[u][next_arc[u]] as usize;
                        let v = g.to[e] as usize;
                        if g.cap[e] > 0
                            && level[v] != u32::MAX
                            && level[v] == level[u] + 1
                            && g.cost[e] + pot[u] - pot[v] == 0
                        {
                            stack.push(v);
                            path.push(e);
                            advanced = true;
                            break;
                        }
                        next_arc[u] += 1;
                    }
                    if !advanced {
                        // Dead end: take it out of the level graph and back up.
                        level[u] = u32::MAX;
                        stack.pop();
                        path.pop();
                    }
                }
                if !found {
                    break;
                }
                for &e in &path {
                    g.cap[e] -= 1;
                    g.cap[e ^ 1] += 1;
                }
            }
        }
    }

    let mut chosen: Vec<usize> = pair_edges
        .iter()
        .filter(|&&(_, e)| g.cap[e] == 0)
        .map(|&(i, _)| i)
        .collect();
    chosen.sort_unstable();
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::SplitMix64;

    /// Best (total, moves) by trying every choice: each employee picks one of its pairs or none.
    fn brute_force(employees: usize, caps: &[u32], pairs: &[Pair]) -> (i64, usize) {
        let by_emp: Vec<Vec<&Pair>> = (0..employees)
            .map(|e| pairs.iter().filter(|p| p.employee == e).collect())
            .collect();
        fn go(
            e: usize,
            by_emp: &[Vec<&Pair>],
            left: &mut Vec<u32>,
            total: i64,
            moves: usize,
            best: &mut (i64, usize),
        ) {
            if e == by_emp.len() {
                if (total, moves) > *best {
                    *best = (total, moves);
                }
                return;
            }
            go(e + 1, by_emp, left, total, moves, best);
            for p in &by_emp[e] {
                if left[p.position] > 0 {
                    left[p.position] -= 1;
                    go(e + 1, by_emp, left, total + p.value, moves + 1, best);
                    left[p.position] += 1;
                }
            }
        }
        let mut best = (0, 0);
        go(0, &by_emp, &mut caps.to_vec(), 0, 0, &mut best);
        best
    }

    fn check(employees: usize, caps: &[u32], pairs: &[Pair]) -> (i64, usize) {
        let chosen = optimal_assignment(employees, caps, pairs);
        let mut used = vec![0u32; caps.len()];
        let mut moved = vec![false; employees];
        let mut total = 0;
        for &i in &chosen {
            let p = pairs[i];
            assert!(!moved[p.employee], "employee {} moved twice", p.employee);
            moved[p.employee] = true;
            used[p.position] += 1;
            assert!(
                used[p.position] <= caps[p.position],
                "position over capacity"
            );
            total += p.value;
        }
        assert!(chosen.windows(2).all(|w| w[0] < w[1]), "sorted, no repeats");
        (total, chosen.len())
    }

    #[test]
    fn matches_brute_force_on_random_small_cases() {
        let mut rng = SplitMix64::new(0x5EED_1234);
        let mut cases_with_ties = 0;
        for case in 0..600 {
            let employees = 1 + rng.below(6) as usize;
            let positions = 1 + rng.below(4) as usize;
            let caps: Vec<u32> = (0..positions).map(|_| rng.below(3) as u32).collect();
            let mut pairs = Vec::new();
            // A small value range makes ties (and zero-gain alternatives) common.
            let spread = if case % 3 == 0 { 3 } else { 12 };
            let allow_negative = case % 5 == 0;
            for e in 0..employees {
                for p in 0..positions {
                    if rng.below(100) < 55 {
                        let mut value = rng.below(spread) as i64;
                        if allow_negative {
                            value -= 2;
                        }
                        pairs.push(Pair {
                            employee: e,
                            position: p,
                            value,
                        });
                    }
                }
            }
            let want = brute_force(employees, &caps, &pairs);
            let got = check(employees, &caps, &pairs);
            assert_eq!(got, want, "case {case}: {employees} × {caps:?} {pairs:?}");
            if pairs.iter().any(|p| p.value == 0) && want.1 > 0 {
                cases_with_ties += 1;
            }
            // Same input, same answer.
            assert_eq!(
                optimal_assignment(employees, &caps, &pairs),
                optimal_assignment(employees, &caps, &pairs)
            );
        }
        assert!(cases_with_ties > 50, "the generator must exercise ties");
    }

    #[test]
    fn greedy_is_not_enough() {
        // Greedy takes e0→p0 (10) and leaves e1 with nothing: 10. Optimal: 9 + 8 = 17.
        let pairs = [
            Pair {
                employee: 0,
                position: 0,
                value: 10,
            },
            Pair {
                employee: 0,
                position: 1,
                value: 9,
            },
            Pair {
                employee: 1,
                position: 0,
                value: 8,
            },
        ];
        let chosen = optimal_assignment(2, &[1, 1], &pairs);
        assert_eq!(chosen, vec![1, 2]);
    }

    #[test]
    fn most_moves_among_optimal() {
        // e0 can take p0 alone (value 10), or e0→p1 (5) + e1→p0 (5): both total 10; the second
        // has more moves and must win. Zero-value moves are also taken.
        let pairs = [
            Pair {
                employee: 0,
                position: 0,
                value: 10,
            },
            Pair {
                employee: 0,
                position: 1,
                value: 5,
            },
            Pair {
                employee: 1,
                position: 0,
                value: 5,
            },
            Pair {
                employee: 2,
                position: 2,
                value: 0,
            },
        ];
        let chosen = optimal_assignment(3, &[1, 1, 1], &pairs);
        assert_eq!(chosen, vec![1, 2, 3]);
        // Negative values are never worth it.
        let neg = [Pair {
            employee: 0,
            position: 0,
            value: -1,
        }];
        assert!(optimal_assignment(1, &[1], &neg).is_empty());
    }

    #[test]
    fn capacities_and_bad_indices() {
        let pairs = [
            Pair {
                employee: 0,
                position: 0,
                value: 3,
            },
            Pair {
                employee: 1,
                position: 0,
                value: 4,
            },
            Pair {
                employee: 2,
                position: 0,
                value: 5,
            },
            Pair {
                employee: 3,
                position: 1,
                value: 7,
            },
            Pair {
                employee: 9,
                position: 0,
                value: 100,
            },
            Pair {
                employee: 0,
                position: 7,
                value: 100,
            },
        ];
        assert_eq!(optimal_assignment(4, &[2, 0], &pairs), vec![1, 2]);
        assert!(optimal_assignment(4, &[0, 0], &pairs).is_empty());
        assert!(optimal_assignment(0, &[], &[]).is_empty());
    }

    #[test]
    fn value_units_are_nine_decimal_billionths() {
        assert_eq!(value_units(91.666_666_666_666_67), 91_666_666_667);
        assert_eq!(value_units(1100.0), 1_100_000_000_000);
        assert_eq!(value_units(0.0), 0);
    }

    #[test]
    fn handles_a_larger_sparse_instance() {
        // Not a benchmark (tests run unoptimised); checks the search scales and stays valid.
        let mut rng = SplitMix64::new(42);
        let (employees, positions) = (1500, 150);
        let caps: Vec<u32> = (0..positions).map(|_| rng.below(4) as u32).collect();
        let mut pairs = Vec::new();
        for e in 0..employees {
            for _ in 0..10 {
                let position = rng.below(positions as u64) as usize;
                let value = value_units(68.0 + rng.below(33) as f64 * 100.0 / 12.0)
                    + if e % 3 == 0 { value_units(1000.0) } else { 0 };
                pairs.push(Pair {
                    employee: e,
                    position,
                    value,
                });
            }
        }
        let (_, moves) = check(employees, &caps, &pairs);
        let seats: u32 = caps.iter().sum();
        // Far more candidates than seats: nearly every seat is filled.
        assert!(moves as u32 <= seats && moves as u32 * 10 >= seats * 9);
    }
}

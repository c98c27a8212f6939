//! Talent management rules: job-person match, competency gaps and the nine-box
//! (PermenPANRB 3/2020).

use std::collections::BTreeMap;

use crate::rules::lt9;
use crate::types::{Potential, Predikat, Rating};

/// JPM(e, p) in percent: `100 × Σ min(a_c, r_c) / Σ r_c` over the competencies `c` the position
/// requires, with a missing employee competency counting 0. A position that requires nothing
/// (or only zero levels) matches 100, since nothing is lacking.
pub fn job_person_match(
    competencies: &BTreeMap<String, f64>,
    required: &BTreeMap<String, f64>,
) -> f64 {
    // Both maps iterate in name order, so one merge pass finds each required competency; this
    // runs for every candidate pair (millions in a region-wide rotation), where a lookup per
    // competency would cost a tree search each.
    let mut held = 0.0;
    let mut needed = 0.0;
    let mut have = competencies.iter().peekable();
    for (name, &r) in required {
        let mut a = 0.0;
        while let Some((k, &v)) = have.peek() {
            match k.as_str().cmp(name.as_str()) {
                std::cmp::Ordering::Less => {
                    have.next();
                }
                std::cmp::Ordering::Equal => {
                    a = v;
                    break;
                }
                std::cmp::Ordering::Greater => break,
            }
        }
        held += a.min(r);
        needed += r;
    }
    if needed <= 0.0 {
        100.0
    } else {
        100.0 * held / needed
    }
}

/// The competencies the employee holds below the required level, sorted by name (the
/// `BTreeMap` order), as training subjects.
pub fn competency_gaps(
    competencies: &BTreeMap<String, f64>,
    required: &BTreeMap<String, f64>,
) -> Vec<String> {
    required
        .iter()
        .filter(|(name, &r)| lt9(competencies.get(*name).copied().unwrap_or(0.0), r))
        .map(|(name, _)| name.clone())
        .collect()
}

/// Kinerja axis of the nine-box: sangat_baik → di_atas, baik → sesuai, the rest → di_bawah.
pub fn kinerja_axis(predikat: Predikat) -> Rating {
    match predikat {
        Predikat::SangatBaik => Rating::DiAtas,
        Predikat::Baik => Rating::Sesuai,
        Predikat::ButuhPerbaikan | Predikat::Kurang | Predikat::SangatKurang => Rating::DiBawah,
    }
}

/// Nine-box number (1–9). Rows by kinerja, columns by potential rendah / menengah / tinggi:
/// di_atas 4 / 7 / 9, sesuai 2 / 5 / 8, di_bawah 1 / 3 / 6. A `null` potential counts as
/// rendah; no latest predikat means no box.
pub fn nine_box(latest_predikat: Option<Predikat>, potential: Option<Potential>) -> Option<u8> {
    let row: [u8; 3] = match kinerja_axis(latest_predikat?) {
        Rating::DiAtas => [4, 7, 9],
        Rating::Sesuai => [2, 5, 8],
        Rating::DiBawah => [1, 3, 6],
    };
    let col = match potential.unwrap_or(Potential::Rendah) {
        Potential::Rendah => 0,
        Potential::Menengah => 1,
        Potential::Tinggi => 2,
    };
    Some(row[col])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, f64)]) -> BTreeMap<String, f64> {
        pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
    }

    #[test]
    fn jpm_counts_missing_competencies_as_zero_and_caps_surplus() {
        let req = map(&[("integritas", 3.0), ("komunikasi", 3.0), ("teknis.x", 2.0)]);
        let emp = map(&[("integritas", 5.0), ("komunikasi", 2.0)]);
        // min(5,3) + min(2,3) + 0 = 5 of 8.
        assert!((job_person_match(&emp, &req) - 62.5).abs() < 1e-12);
        assert_eq!(competency_gaps(&emp, &req), vec!["komunikasi", "teknis.x"]);
        assert_eq!(job_person_match(&emp, &BTreeMap::new()), 100.0);
        assert!(competency_gaps(&emp, &BTreeMap::new()).is_empty());
        assert_eq!(job_person_match(&BTreeMap::new(), &req), 0.0);
        let full = map(&[("integritas", 3.0), ("komunikasi", 4.0), ("teknis.x", 2.0)]);
        assert_eq!(job_person_match(&full, &req), 100.0);
        assert!(competency_gaps(&full, &req).is_empty());
    }

    #[test]
    fn merge_pass_agrees_with_lookups() {
        let names = ["a", "b", "b.x", "c", "k", "z"];
        let mut seed = 7u32;
        for _ in 0..500 {
            let mut pick = || {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (seed >> 16) % 7
            };
            let mut emp = BTreeMap::new();
            let mut req = BTreeMap::new();
            for n in names {
                let (a, r) = (pick(), pick());
                if a < 6 {
                    emp.insert(n.to_string(), f64::from(a));
                }
                if r < 6 {
                    req.insert(n.to_string(), f64::from(r));
                }
            }
            let needed: f64 = req.values().sum();
            let held: f64 = req
                .iter()
                .map(|(k, r)| emp.get(k).copied().unwrap_or(0.0).min(*r))
                .sum();
            let want = if needed <= 0.0 {
                100.0
            } else {
                100.0 * held / needed
            };
            assert_eq!(job_person_match(&emp, &req), want, "{emp:?} {req:?}");
        }
    }

    #[test]
    fn gaps_are_sorted_by_name() {
        let req = map(&[("zeta", 2.0), ("alpha", 2.0), ("mid", 2.0)]);
        assert_eq!(
            competency_gaps(&BTreeMap::new(), &req),
            vec!["alpha", "mid", "zeta"]
        );
    }

    #[test]
    fn all_nine_boxes() {
        use Potential::*;
        use Predikat::*;
        let cases = [
            (SangatBaik, Rendah, 4),
            (SangatBaik, Menengah, 7),
            (SangatBaik, Tinggi, 9),
            (Baik, Rendah, 2),
            (Baik, Menengah, 5),
            (Baik, Tinggi, 8),
            (ButuhPerbaikan, Rendah, 1),
            (Kurang, Menengah, 3),
            (SangatKurang, Tinggi, 6),
        ];
        for (p, pot, want) in cases {
            assert_eq!(nine_box(Some(p), Some(pot)), Some(want), "{p:?} {pot:?}");
        }
        assert_eq!(nine_box(Some(Baik), None), Some(2));
        assert_eq!(nine_box(Some(SangatBaik), None), Some(4));
        assert_eq!(nine_box(None, Some(Tinggi)), None);
        assert_eq!(nine_box(None, None), None);
    }
}

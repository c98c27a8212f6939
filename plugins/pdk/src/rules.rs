//! The shared appraisal rules of `region-policies.md`, as pure functions.
//!
//! Everything is computed in `f64`. Two conventions from the policy document matter for exact
//! answers and live here so every region applies them the same way:
//! - thresholds are compared on the value rounded to 9 decimals ([`round9`], [`ge9`], …), so
//!   floating-point noise such as 89.99999999999999 never flips a rating;
//! - reported numbers are rounded half away from zero to 2 decimals *from that 9-decimal value*
//!   ([`round2`]), so 1.005 (stored in binary as 1.00499999…) still reports as 1.01.

use std::cmp::Ordering;

use crate::types::{
    BerAkhlak, Case, Direction, Indicator, Predikat, Rating, Recommendation, RecommendationKind,
};

/// Largest magnitude for which the 9th decimal still means something in `f64` arithmetic here;
/// beyond it the value is returned as is rather than overflowing the scaled intermediate.
const ROUND9_LIMIT: f64 = 1e9;

/// `x` rounded to 9 decimal places (half away from zero on the scaled value).
///
/// Non-finite values and magnitudes ≥ 1e9 come back unchanged.
pub fn round9(x: f64) -> f64 {
    if !x.is_finite() || x.abs() >= ROUND9_LIMIT {
        return x;
    }
    (x * 1e9).round() / 1e9
}

/// Compares two values as the policies do: on their 9-decimal roundings.
///
/// NaN compares equal to everything, which no validated input can produce.
pub fn cmp9(a: f64, b: f64) -> Ordering {
    round9(a).partial_cmp(&round9(b)).unwrap_or(Ordering::Equal)
}

/// `a ≥ b` on 9-decimal values.
pub fn ge9(a: f64, b: f64) -> bool {
    cmp9(a, b) != Ordering::Less
}

/// `a < b` on 9-decimal values.
pub fn lt9(a: f64, b: f64) -> bool {
    cmp9(a, b) == Ordering::Less
}

/// `a > b` on 9-decimal values.
pub fn gt9(a: f64, b: f64) -> bool {
    cmp9(a, b) == Ordering::Greater
}

/// `a ≤ b` on 9-decimal values.
pub fn le9(a: f64, b: f64) -> bool {
    cmp9(a, b) != Ordering::Greater
}

/// Rounds a reported number (score, job-person match) to 2 decimals, half away from zero,
/// starting from its 9-decimal value: 1.005 → 1.01, 2.675 → 2.68, −1.005 → −1.01.
///
/// The halving decision is made in integer arithmetic on billionths, because the binary value
/// of 1.005 lies just below the half and rounding it directly would give 1.00.
pub fn round2(x: f64) -> f64 {
    if !x.is_finite() {
        return x;
    }
    let nanos = (x * 1e9).round();
    if nanos.abs() >= 9.0e18 {
        // Too large for i64 billionths; the 9th decimal is noise at this size anyway.
        return (x * 100.0).round() / 100.0;
    }
    let nanos = nanos as i64;
    let hundredths = (nanos.unsigned_abs() + 5_000_000) / 10_000_000;
    let signed = if nanos < 0 {
        -(hundredths as f64)
    } else {
        hundredths as f64
    };
    signed / 100.0
}

/// Capaian of one indicator in percent: `100 R/T` when higher is better, `100 (2 − R/T)` when
/// lower is better, clamped to [0, 120]; a `null` realization (not yet reported) gives 0.
///
/// The null case is 0 rather than "R = 0" so that an unreported lower-is-better indicator does
/// not score the maximum. `target` must be > 0 ([`validate_case`] checks it); the result for a
/// non-positive target is unspecified.
pub fn capaian(direction: Direction, target: f64, realization: Option<f64>) -> f64 {
    let Some(r) = realization else {
        return 0.0;
    };
    let ratio = r / target;
    let raw = match direction {
        Direction::HigherIsBetter => 100.0 * ratio,
        Direction::LowerIsBetter => 100.0 * (2.0 - ratio),
    };
    raw.clamp(0.0, 120.0)
}

/// [`capaian`] of an indicator.
pub fn indicator_capaian(indicator: &Indicator) -> f64 {
    capaian(indicator.direction, indicator.target, indicator.realization)
}

/// C: the weighted mean of capaian over the indicators (weights default 1). No indicators, or
/// a total weight of 0 (which [`validate_case`] refuses), give 0.
pub fn weighted_capaian(indicators: &[Indicator]) -> f64 {
    let total_weight: f64 = indicators.iter().map(Indicator::weight).sum();
    if indicators.is_empty() || total_weight == 0.0 {
        return 0.0;
    }
    let weighted: f64 = indicators
        .iter()
        .map(|i| indicator_capaian(i) * i.weight())
        .sum();
    weighted / total_weight
}

/// m(rater): the mean of a rater's seven BerAKHLAK ratings.
pub fn mean_rating(ratings: &BerAkhlak) -> f64 {
    let sum: u32 = ratings.iter().map(|(_, r)| u32::from(r)).sum();
    f64::from(sum) / 7.0
}

/// The PermenPANRB 6/2022 matrix: predikat from (hasil kerja, perilaku kerja).
pub fn predikat(hasil_kerja: Rating, perilaku_kerja: Rating) -> Predikat {
    use Rating::*;
    match (hasil_kerja, perilaku_kerja) {
        (DiAtas, DiAtas) => Predikat::SangatBaik,
        (DiAtas, Sesuai) | (Sesuai, Sesuai) | (Sesuai, DiAtas) => Predikat::Baik,
        (DiAtas, DiBawah) | (Sesuai, DiBawah) => Predikat::Kurang,
        (DiBawah, Sesuai) | (DiBawah, DiAtas) => Predikat::ButuhPerbaikan,
        (DiBawah, DiBawah) => Predikat::SangatKurang,
    }
}

/// Lowers a rating one level: di_atas → sesuai → di_bawah → di_bawah.
pub fn lower_one_level(rating: Rating) -> Rating {
    match rating {
        Rating::DiAtas => Rating::Sesuai,
        Rating::Sesuai | Rating::DiBawah => Rating::DiBawah,
    }
}

/// The minimum mean behaviour value below which perilaku kerja is di_bawah, in every region.
pub const BEHAVIOUR_FLOOR: f64 = 3.0;

/// Perilaku kerja from a behaviour value (m or B): di_bawah if it is below 3.0 or the supervisor
/// rated any value 1 (a single 1 is a conduct problem, whatever the average); di_atas if it is
/// at least `di_atas_from`; else sesuai.
pub fn behaviour_rating(value: f64, supervisor: &BerAkhlak, di_atas_from: f64) -> Rating {
    if lt9(value, BEHAVIOUR_FLOOR) || supervisor.iter().any(|(_, r)| r == 1) {
        Rating::DiBawah
    } else if ge9(value, di_atas_from) {
        Rating::DiAtas
    } else {
        Rating::Sesuai
    }
}

/// Recommendations in the policy order, without duplicates: `reward` for sangat_baik,
/// `coaching` for the poor predikats, then the region's own (`own`, in the given order), then
/// `training` for each BerAKHLAK value the supervisor rated ≤ 2, in BerAKHLAK order.
pub fn recommendations(
    predikat: Predikat,
    own: impl IntoIterator<Item = Recommendation>,
    supervisor: &BerAkhlak,
) -> Vec<Recommendation> {
    let mut out: Vec<Recommendation> = Vec::new();
    let mut push = |r: Recommendation| {
        if !out.contains(&r) {
            out.push(r);
        }
    };
    if predikat == Predikat::SangatBaik {
        push(Recommendation::of(RecommendationKind::Reward));
    }
    if predikat.is_poor() {
        push(Recommendation::of(RecommendationKind::Coaching));
    }
    for r in own {
        push(r);
    }
    for (value, rating) in supervisor.iter() {
        if rating <= 2 {
            push(Recommendation::training(value.as_str()));
        }
    }
    out
}

/// Checks the parts of a case every policy relies on, naming the first problem: ratings within
/// 1–5, indicator targets > 0, weights ≥ 0 with a positive total, finite numbers, and
/// `working_days` ≥ 1. Region-specific data (budget, IKM, …) is checked by the region.
pub fn validate_case(case: &Case) -> Result<(), String> {
    case.behavior.validate()?;
    if case.period.working_days == 0 {
        return Err("period.working_days must be at least 1".to_string());
    }
    for (i, ind) in case.indicators.iter().enumerate() {
        let at = || format!("indicators[{i}] ({})", ind.id);
        if !(ind.target.is_finite() && ind.target > 0.0) {
            return Err(format!("{}: target must be > 0, got {}", at(), ind.target));
        }
        if let Some(r) = ind.realization {
            if !r.is_finite() {
                return Err(format!("{}: realization must be a finite number", at()));
            }
        }
        let w = ind.weight();
        if !(w.is_finite() && w >= 0.0) {
            return Err(format!("{}: weight must be ≥ 0, got {w}", at()));
        }
    }
    if !case.indicators.is_empty() {
        let total: f64 = case.indicators.iter().map(Indicator::weight).sum();
        if total <= 0.0 {
            return Err("indicators: the weights add up to 0".to_string());
        }
    }
    if let Some(process) = case.process() {
        for (name, v) in process {
            if !(v.is_finite() && (0.0..=100.0).contains(v)) {
                return Err(format!("process.{name} must be within 0–100, got {v}"));
            }
        }
    }
    Ok(())
}

/// Returns `x` if it is finite, else a refusal naming it. JSON numbers are finite, but extreme
/// ones (weights near 1e308) can overflow on the way to a score, and a NaN would compare
/// "equal" to every threshold and pass silently as a rating.
pub fn ensure_finite(what: &str, x: f64) -> Result<f64, String> {
    if x.is_finite() {
        Ok(x)
    } else {
        Err(format!(
            "{what} is not a finite number ({x}): some input is out of range"
        ))
    }
}

/// Formats a number with two decimals for explanations (display only; results use
/// [`round2`]).
pub fn fmt2(x: f64) -> String {
    let mut out = String::with_capacity(8);
    push_fmt2(&mut out, x);
    out
}

/// Appends [`fmt2`]`(x)` to `out`: the same text as `format!("{:.2}", round2(x))`.
///
/// `round2` already yields a whole number of hundredths, so the digits are written from that
/// integer. Going through `{:.2}` instead means the float formatter's exact mode (Grisu with a
/// bignum fallback) and the `fmt` machinery, several thousand wasm instructions per number, and
/// an explanation has half a dozen numbers.
pub fn push_fmt2(out: &mut String, x: f64) {
    use std::fmt::Write;
    let v = round2(x);
    let hundredths = (v.abs() * 100.0).round();
    if !v.is_finite() || hundredths >= 1e15 {
        // Out of the range where the integer path is exact (never for validated input).
        let _ = write!(out, "{v:.2}");
        return;
    }
    let hundredths = hundredths as u64;
    if v.is_sign_negative() {
        // Also for −0.0, which `{:.2}` prints as "-0.00".
        out.push('-');
    }
    push_u64(out, hundredths / 100);
    out.push('.');
    let frac = (hundredths % 100) as u8;
    out.push(char::from(b'0' + frac / 10));
    out.push(char::from(b'0' + frac % 10));
}

/// Appends the decimal digits of `n` without the `fmt` machinery.
pub fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{IndicatorKind, Rating::*};

    fn ind(kind: IndicatorKind, dir: Direction, t: f64, r: Option<f64>, w: f64) -> Indicator {
        Indicator {
            id: "iki".into(),
            name: None,
            kind,
            direction: dir,
            unit: None,
            target: t,
            realization: r,
            weight: Some(w),
            evidence: None,
        }
    }

    #[test]
    fn round9_absorbs_float_noise() {
        assert_eq!(round9(89.99999999999999), 90.0);
        assert_eq!(round9(0.7999999999999999), 0.8);
        assert!(ge9(89.99999999999999, 90.0));
        assert!(!lt9(89.99999999999999, 90.0));
        assert!(lt9(89.9999999, 90.0));
        assert!(lt9(89.999999998, 90.0));
        assert!(ge9(89.9999999996, 90.0));
        assert!(gt9(1.0000000006, 1.0));
        assert!(!gt9(1.0000000004, 1.0));
        assert!(le9(1.0000000004, 1.0));
        assert_eq!(round9(f64::INFINITY), f64::INFINITY);
        assert_eq!(round9(2e9 + 0.25), 2e9 + 0.25);
    }

    #[test]
    fn round2_is_half_away_from_zero_on_the_nine_decimal_value() {
        assert_eq!(round2(1.005), 1.01);
        assert_eq!(round2(2.675), 2.68);
        assert_eq!(round2(-1.005), -1.01);
        assert_eq!(round2(-2.675), -2.68);
        assert_eq!(round2(0.125), 0.13);
        assert_eq!(round2(-0.125), -0.13);
        assert_eq!(round2(1.0049999), 1.0);
        assert_eq!(round2(1.004999999999), 1.01); // 9-decimal value is 1.005000000
        assert_eq!(round2(89.834), 89.83);
        assert_eq!(round2(0.0), 0.0);
        assert_eq!(round2(-0.004), 0.0);
        assert_eq!(round2(112.0), 112.0);
        assert_eq!(round2(1e12 + 0.5), 1e12 + 0.5);
    }

    #[test]
    fn fmt2_matches_the_float_formatter() {
        let mut xs = vec![
            0.0,
            -0.0,
            -0.004,
            0.005,
            1.005,
            2.675,
            -2.675,
            89.834,
            112.0,
            99.995,
            0.125,
            -1.005,
            1e12 + 0.5,
            123456.789,
            1e16,
            -1e16,
            f64::INFINITY,
            f64::NAN,
            4.0 / 7.0,
        ];
        let mut seed = 0x1234_5678_u64;
        for _ in 0..20_000 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            xs.push(((seed >> 11) as f64 / (1u64 << 53) as f64 - 0.3) * 300.0);
        }
        for x in xs {
            assert_eq!(fmt2(x), format!("{:.2}", round2(x)), "{x}");
        }
        let mut s = String::new();
        push_u64(&mut s, 0);
        push_u64(&mut s, u64::MAX);
        assert_eq!(s, format!("0{}", u64::MAX));
    }

    #[test]
    fn capaian_follows_direction_and_clamps() {
        use Direction::*;
        assert!((capaian(HigherIsBetter, 12.0, Some(11.0)) - 91.666_666_666_666_67).abs() < 1e-9);
        assert_eq!(capaian(LowerIsBetter, 5.0, Some(4.0)), 120.0);
        // 100 × (2 − 1.1) is 89.99999999999999 in f64: exactly why thresholds use round9.
        let c = capaian(LowerIsBetter, 5.0, Some(5.5));
        assert!(c < 90.0 && ge9(c, 90.0));
        assert_eq!(round9(c), 90.0);
        assert_eq!(capaian(LowerIsBetter, 5.0, Some(11.0)), 0.0);
        assert_eq!(capaian(HigherIsBetter, 10.0, Some(13.0)), 120.0);
        assert_eq!(capaian(HigherIsBetter, 10.0, Some(-1.0)), 0.0);
        assert_eq!(capaian(HigherIsBetter, 10.0, None), 0.0);
        // Not R = 0, which would give the maximum for lower-is-better.
        assert_eq!(capaian(LowerIsBetter, 10.0, None), 0.0);
    }

    #[test]
    fn weighted_capaian_weights_and_defaults() {
        use Direction::*;
        use IndicatorKind::*;
        assert_eq!(weighted_capaian(&[]), 0.0);
        let a = ind(Utama, HigherIsBetter, 10.0, Some(10.0), 1.0);
        let mut b = ind(Tambahan, HigherIsBetter, 10.0, Some(5.0), 3.0);
        assert!((weighted_capaian(&[a.clone(), b.clone()]) - 62.5).abs() < 1e-12);
        b.weight = None; // defaults to 1
        assert!((weighted_capaian(&[a.clone(), b]) - 75.0).abs() < 1e-12);
        let zero = ind(Utama, HigherIsBetter, 10.0, Some(5.0), 0.0);
        assert_eq!(weighted_capaian(&[zero]), 0.0);
    }

    #[test]
    fn worked_example_from_the_policy_document() {
        use Direction::*;
        use IndicatorKind::*;
        let inds = [
            ind(Utama, HigherIsBetter, 12.0, Some(11.0), 2.0),
            ind(Tambahan, LowerIsBetter, 5.0, Some(4.0), 1.0),
        ];
        let c = weighted_capaian(&inds);
        assert_eq!(round2(c), 101.11);
        let p = (85.0 + 70.0) / 2.0;
        let hk = 0.8 * c + 0.2 * p;
        assert_eq!(round2(hk), 96.39);
        let sup = BerAkhlak {
            berorientasi_pelayanan: 4,
            akuntabel: 4,
            kompeten: 5,
            harmonis: 4,
            loyal: 4,
            adaptif: 3,
            kolaboratif: 4,
        };
        let m = mean_rating(&sup);
        assert_eq!(m, 4.0);
        let hk_rating = if ge9(hk, 90.0) { Sesuai } else { DiBawah };
        let pk = behaviour_rating(m, &sup, 4.5);
        assert_eq!((hk_rating, pk), (Sesuai, Sesuai));
        assert_eq!(predikat(hk_rating, pk), Predikat::Baik);
        assert_eq!(round2(0.6 * hk + 0.4 * (20.0 * m)), 89.83);
        assert!(recommendations(Predikat::Baik, [], &sup).is_empty());
    }

    #[test]
    fn predikat_matrix_all_nine_cells() {
        let cases = [
            (DiAtas, DiBawah, Predikat::Kurang),
            (DiAtas, Sesuai, Predikat::Baik),
            (DiAtas, DiAtas, Predikat::SangatBaik),
            (Sesuai, DiBawah, Predikat::Kurang),
            (Sesuai, Sesuai, Predikat::Baik),
            (Sesuai, DiAtas, Predikat::Baik),
            (DiBawah, DiBawah, Predikat::SangatKurang),
            (DiBawah, Sesuai, Predikat::ButuhPerbaikan),
            (DiBawah, DiAtas, Predikat::ButuhPerbaikan),
        ];
        for (hk, pk, want) in cases {
            assert_eq!(predikat(hk, pk), want, "{hk:?} × {pk:?}");
        }
    }

    #[test]
    fn lowering_stops_at_di_bawah() {
        assert_eq!(lower_one_level(DiAtas), Sesuai);
        assert_eq!(lower_one_level(Sesuai), DiBawah);
        assert_eq!(lower_one_level(DiBawah), DiBawah);
    }

    #[test]
    fn behaviour_rating_thresholds() {
        let s = BerAkhlak::uniform(4);
        assert_eq!(behaviour_rating(4.5, &s, 4.5), DiAtas);
        assert_eq!(behaviour_rating(4.499_999_999_9, &s, 4.5), DiAtas);
        assert_eq!(behaviour_rating(4.49, &s, 4.5), Sesuai);
        assert_eq!(behaviour_rating(3.0, &s, 4.5), Sesuai);
        assert_eq!(behaviour_rating(2.99, &s, 4.5), DiBawah);
        let mut one = BerAkhlak::uniform(5);
        one.loyal = 1;
        assert_eq!(behaviour_rating(4.9, &one, 4.5), DiBawah);
        assert_eq!(behaviour_rating(4.25, &s, 4.25), DiAtas);
    }

    #[test]
    fn recommendations_order_and_dedup() {
        let mut sup = BerAkhlak::uniform(4);
        sup.kolaboratif = 2;
        sup.berorientasi_pelayanan = 1;
        sup.adaptif = 3;
        let own = [
            Recommendation::of(RecommendationKind::Dialog),
            Recommendation::of(RecommendationKind::Coaching), // duplicate of the predikat's
            Recommendation::training("kolaboratif"),          // duplicate of the rating's
        ];
        let got = recommendations(Predikat::Kurang, own, &sup);
        assert_eq!(
            got,
            vec![
                Recommendation::of(RecommendationKind::Coaching),
                Recommendation::of(RecommendationKind::Dialog),
                Recommendation::training("kolaboratif"),
                Recommendation::training("berorientasi_pelayanan"),
            ]
        );
        let got = recommendations(Predikat::SangatBaik, [], &BerAkhlak::uniform(5));
        assert_eq!(got, vec![Recommendation::of(RecommendationKind::Reward)]);
        for p in [Predikat::ButuhPerbaikan, Predikat::SangatKurang] {
            assert_eq!(
                recommendations(p, [], &BerAkhlak::uniform(3)),
                vec![Recommendation::of(RecommendationKind::Coaching)]
            );
        }
        let all_two = recommendations(Predikat::Baik, [], &BerAkhlak::uniform(2));
        let subjects: Vec<_> = all_two
            .iter()
            .filter_map(|r| r.subject.as_deref())
            .collect();
        assert_eq!(
            subjects,
            [
                "berorientasi_pelayanan",
                "akuntabel",
                "kompeten",
                "harmonis",
                "loyal",
                "adaptif",
                "kolaboratif"
            ]
        );
    }

    #[test]
    fn ensure_finite_refuses_overflow() {
        assert_eq!(ensure_finite("score", 1.5), Ok(1.5));
        let huge = [
            Indicator {
                weight: Some(1e308),
                ..ind(
                    IndicatorKind::Utama,
                    Direction::HigherIsBetter,
                    1.0,
                    Some(1.0),
                    1.0,
                )
            },
            Indicator {
                weight: Some(1e308),
                ..ind(
                    IndicatorKind::Utama,
                    Direction::HigherIsBetter,
                    1.0,
                    Some(1.0),
                    1.0,
                )
            },
        ];
        let c = weighted_capaian(&huge);
        let err = ensure_finite("capaian", c).unwrap_err();
        assert!(err.contains("capaian"), "{err}");
    }

    #[test]
    fn mean_rating_of_seven() {
        let mut r = BerAkhlak::uniform(3);
        r.kompeten = 5;
        assert!((mean_rating(&r) - 23.0 / 7.0).abs() < 1e-15);
    }
}

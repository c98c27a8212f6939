//! Explanations people can read: the words of an appraisal's `explanation` in Bahasa
//! Indonesia, shared by every region so that the same thing is always said the same way, and
//! the cause of every recommendation.
//!
//! Numbers keep the decimal point of the formulas they come from (`0.8 C + 0.2 P = 96.39`):
//! the explanation shows a calculation a reader can redo, next to region-policies.md.

use crate::rules::push_u64;
use crate::types::{BerAkhlak, Predikat, Rating, Recommendation, RecommendationKind};

/// "di atas ekspektasi", "sesuai ekspektasi", "di bawah ekspektasi".
pub fn rating(r: Rating) -> &'static str {
    match r {
        Rating::DiAtas => "di atas ekspektasi",
        Rating::Sesuai => "sesuai ekspektasi",
        Rating::DiBawah => "di bawah ekspektasi",
    }
}

/// "Sangat Baik", "Baik", "Butuh Perbaikan", "Kurang", "Sangat Kurang".
pub fn predikat(p: Predikat) -> &'static str {
    match p {
        Predikat::SangatBaik => "Sangat Baik",
        Predikat::Baik => "Baik",
        Predikat::ButuhPerbaikan => "Butuh Perbaikan",
        Predikat::Kurang => "Kurang",
        Predikat::SangatKurang => "Sangat Kurang",
    }
}

/// A recommendation's kind as people say it.
pub fn kind(k: RecommendationKind) -> &'static str {
    match k {
        RecommendationKind::Reward => "penghargaan",
        RecommendationKind::Coaching => "pembinaan",
        RecommendationKind::Dialog => "dialog kinerja",
        RecommendationKind::Training => "pelatihan",
    }
}

/// A subject key as words: `berorientasi_pelayanan` → "berorientasi pelayanan".
pub fn push_subject(s: &mut String, subject: &str) {
    s.extend(subject.chars().map(|c| if c == '_' { ' ' } else { c }));
}

/// "; matriks (hasil kerja …, perilaku kerja …) → predikat …".
pub fn push_matrix(s: &mut String, hasil_kerja: Rating, perilaku_kerja: Rating, p: Predikat) {
    s.push_str("; matriks (hasil kerja ");
    s.push_str(rating(hasil_kerja));
    s.push_str(", perilaku kerja ");
    s.push_str(rating(perilaku_kerja));
    s.push_str(") → predikat ");
    s.push_str(predikat(p));
}

/// " (ada nilai 1 dari atasan)" when the supervisor rated any value 1, which alone makes
/// perilaku kerja di bawah ekspektasi.
pub fn push_rated_one(s: &mut String, supervisor: &BerAkhlak) {
    if supervisor.iter().any(|(_, r)| r == 1) {
        s.push_str(" (ada nilai 1 dari atasan)");
    }
}

/// Appends "; rekomendasi: …" with the cause of each of `recommendations` (as the shared rule
/// [`crate::rules::recommendations`] made them from `predikat` and the supervisor's ratings),
/// or "; tanpa rekomendasi". `own` gives the cause of each of the region's own
/// recommendations, found by equality.
pub fn push_recommendations(
    s: &mut String,
    recommendations: &[Recommendation],
    p: Predikat,
    supervisor: &BerAkhlak,
    own: &[(&Recommendation, &str)],
) {
    if recommendations.is_empty() {
        s.push_str("; tanpa rekomendasi");
        return;
    }
    s.push_str("; rekomendasi: ");
    for (i, r) in recommendations.iter().enumerate() {
        if i > 0 {
            s.push_str("; ");
        }
        s.push_str(kind(r.kind));
        if let Some(subject) = &r.subject {
            s.push(' ');
            push_subject(s, subject);
        }
        s.push_str(" (");
        if let Some((_, why)) = own.iter().find(|(o, _)| *o == r) {
            s.push_str(why);
        } else {
            match r.kind {
                RecommendationKind::Reward | RecommendationKind::Coaching => {
                    s.push_str("predikat ");
                    s.push_str(predikat(p));
                }
                _ => {
                    let rated = supervisor
                        .iter()
                        .find(|(v, _)| Some(v.as_str()) == r.subject.as_deref());
                    match rated {
                        Some((v, n)) => {
                            s.push_str("nilai atasan untuk ");
                            push_subject(s, v.as_str());
                            s.push(' ');
                            push_u64(s, u64::from(n));
                            s.push_str(" ≤ 2");
                        }
                        None => s.push_str("aturan wilayah"),
                    }
                }
            }
        }
        s.push(')');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::recommendations;

    fn rated(v: u8) -> BerAkhlak {
        serde_json::from_value(
            serde_json::json!({"berorientasi_pelayanan": 4, "akuntabel": v,
            "kompeten": 4, "harmonis": 4, "loyal": 4, "adaptif": 1, "kolaboratif": 4}),
        )
        .expect("ratings")
    }

    #[test]
    fn every_recommendation_names_its_cause() {
        let sup = rated(2);
        let dialog = Recommendation::of(RecommendationKind::Dialog);
        let recs = recommendations(Predikat::Kurang, Some(dialog.clone()), &sup);
        let mut s = String::new();
        push_recommendations(
            &mut s,
            &recs,
            Predikat::Kurang,
            &sup,
            &[(&dialog, "laporan q 0.50 < 0.80")],
        );
        assert_eq!(
            s,
            "; rekomendasi: pembinaan (predikat Kurang); dialog kinerja (laporan q 0.50 < 0.80); \
             pelatihan akuntabel (nilai atasan untuk akuntabel 2 ≤ 2); pelatihan adaptif (nilai \
             atasan untuk adaptif 1 ≤ 2)"
        );
        let mut s = String::new();
        push_recommendations(&mut s, &[], Predikat::Baik, &rated(4), &[]);
        assert_eq!(s, "; tanpa rekomendasi");
    }
}

//! Kecamatan Tenayan Raya's (Kota Pekanbaru) policy plugin (region-policies.md,
//! "Tenayan Raya").
//!
//! Tenayan Raya judges behaviour 360°: the supervisor, peers and the public (the IKM survey of
//! the service unit) each weigh in, and a poor IKM grade sends the employee to service-quality
//! training. Rotations stay within the same kind and level of position, with anyone still
//! performing poorly flagged for coaching first.
//!
//! The rlib exposes the two hooks as pure functions; the wasm32 build exports them as
//! `appraise` and `rotate`.

use kinerja_pdk::explain;
use kinerja_pdk::rotation::Roster;
use kinerja_pdk::rules::{
    behaviour_rating, ensure_finite, fmt2, ge9, lt9, mean_rating, predikat, recommendations,
    round2, round9, validate_case, weighted_capaian,
};
use kinerja_pdk::talent::competency_gaps;
use kinerja_pdk::{
    AppraiseRequest, AppraiseResponse, AppraiseResult, Case, Component, Flag, FlagKind, Predikat,
    Rating, Recommendation, RotateRequest, RotateResponse,
};

kinerja_pdk::export_hooks!(appraise = appraise, rotate = rotate);

/// HK at or above this is di_atas (no innovation condition in this region).
const HK_DI_ATAS: f64 = 110.0;
/// HK at or above this is sesuai.
const HK_SESUAI: f64 = 90.0;
/// B at or above this is di_atas.
const B_DI_ATAS: f64 = 4.25;
/// Weights of supervisor, peers and public in B, renormalised over those present.
const W_SUPERVISOR: f64 = 0.5;
const W_PEERS: f64 = 0.3;
const W_PUBLIC: f64 = 0.2;
/// IKM × 25 below this is grade C or D (PermenPANRB 14/2017): service training.
const IKM_GRADE_B: f64 = 76.61;
/// Training subject for a unit with a poor IKM grade.
const SERVICE_TRAINING: &str = "pelayanan_prima";
/// Rotation: minimum months in the current position.
const MIN_TENURE: u32 = 24;
/// Rotation: more months than this is overdue and earns the priority bonus.
const MAX_TENURE: u32 = 60;
/// Rotation: minimum JPM for an allowed pair.
const MIN_JPM: f64 = 75.0;
/// Rotation: value bonus that puts overdue employees first.
const OVERDUE_BONUS: f64 = 1000.0;

/// Appraises every case; refuses the whole request if any case is malformed.
pub fn appraise(request: &AppraiseRequest) -> Result<AppraiseResponse, String> {
    kinerja_pdk::appraise_each(request, appraise_case)
}

fn appraise_case(case: &Case) -> Result<AppraiseResult, String> {
    validate_case(case)?;
    let supervisor = &case.behavior.supervisor;

    let hk = weighted_capaian(&case.indicators);
    let hasil_kerja = if ge9(hk, HK_DI_ATAS) {
        Rating::DiAtas
    } else if ge9(hk, HK_SESUAI) {
        Rating::Sesuai
    } else {
        Rating::DiBawah
    };

    let s = mean_rating(supervisor);
    let peers = case.behavior.peers();
    let r = (!peers.is_empty())
        .then(|| peers.iter().map(mean_rating).sum::<f64>() / peers.len() as f64);
    // A survey nobody answered says nothing: ignored, for B and for the training alike.
    let ikm = match case.public_feedback {
        Some(f) if f.respondents > 0 => {
            if !(f.ikm.is_finite() && (1.0..=4.0).contains(&f.ikm)) {
                return Err(format!(
                    "public_feedback.ikm must be within 1–4, got {}",
                    f.ikm
                ));
            }
            Some(f.ikm)
        }
        _ => None,
    };
    let u = ikm.map(|ikm| 1.0 + (ikm - 1.0) * 4.0 / 3.0);

    let parts: Vec<(&str, f64, f64)> = [
        Some(("supervisor", s, W_SUPERVISOR)),
        r.map(|r| ("peers", r, W_PEERS)),
        u.map(|u| ("public", u, W_PUBLIC)),
    ]
    .into_iter()
    .flatten()
    .collect();
    let total_weight: f64 = parts.iter().map(|(_, _, w)| w).sum();
    let b = parts.iter().map(|(_, v, w)| v * w).sum::<f64>() / total_weight;

    let perilaku_kerja = behaviour_rating(b, supervisor, B_DI_ATAS);
    let predikat: Predikat = predikat(hasil_kerja, perilaku_kerja);
    let score = round2(ensure_finite("score", 0.6 * hk + 0.4 * (20.0 * b))?);
    let poor_service = ikm.is_some_and(|ikm| lt9(ikm * 25.0, IKM_GRADE_B));
    let own = poor_service.then(|| Recommendation::training(SERVICE_TRAINING));
    let recommendations = recommendations(predikat, own, supervisor);

    let mut components = vec![Component::new("capaian", hk)];
    for (name, value, weight) in &parts {
        components.push(Component::weighted(*name, *value, weight / total_weight));
    }
    components.push(Component::new("behavior", b));

    let b_how = parts
        .iter()
        .map(|(name, value, weight)| {
            let who = match *name {
                "supervisor" => "atasan",
                "peers" => "rekan kerja",
                _ => "masyarakat",
            };
            format!(
                "{who} {} (bobot {})",
                fmt2(*value),
                fmt2(weight / total_weight)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let mut explanation = format!(
        "HK {hk2} {hk_why} → {hk_r}; perilaku 360°: B dari {b_how} = {b2} → {pk}",
        hk2 = fmt2(hk),
        hk_why = match hasil_kerja {
            Rating::DiAtas => "≥ 110",
            Rating::Sesuai => "≥ 90",
            Rating::DiBawah => "< 90",
        },
        hk_r = explain::rating(hasil_kerja),
        b2 = fmt2(b),
        pk = explain::rating(perilaku_kerja),
    );
    explain::push_rated_one(&mut explanation, supervisor);
    explain::push_matrix(&mut explanation, hasil_kerja, perilaku_kerja, predikat);
    explanation.push_str("; skor = 0.6 HK + 0.4 × 20 B = ");
    explanation.push_str(&fmt2(score));
    let ikm_why = match ikm {
        Some(ikm) => {
            // Four decimals: the threshold is 76.61, so two would show 76.6075 as "76.61 < 76.61".
            let how = format!("IKM {ikm} × 25 = {:.4}", round9(ikm * 25.0));
            explanation.push_str("; ");
            explanation.push_str(&how);
            // Written only when it causes the training (this runs for every case).
            if poor_service {
                format!("{how} < 76.61, mutu pelayanan C/D")
            } else {
                String::new()
            }
        }
        None => String::new(),
    };
    let service = Recommendation::training(SERVICE_TRAINING);
    explain::push_recommendations(
        &mut explanation,
        &recommendations,
        predikat,
        supervisor,
        &[(&service, &ikm_why)],
    );

    Ok(AppraiseResult {
        nip: case.employee.nip.clone(),
        hasil_kerja,
        perilaku_kerja,
        predikat,
        score,
        components,
        recommendations,
        explanation,
        tpp_percent: None,
    })
}

/// Recommends rotations (same kind and level, never promotions) for well-performing employees
/// and flags overdue employees and those who need coaching first.
pub fn rotate(request: &RotateRequest) -> Result<RotateResponse, String> {
    let roster = Roster::prepare(request)?;
    let mut candidates = Vec::new();
    let mut flags = Vec::new();
    for (i, employee, facts) in roster.employees() {
        flags.extend(roster.overdue(i, MAX_TENURE));
        if let Some(p) = employee.latest_predikat.filter(|p| p.is_poor()) {
            flags.push(Flag {
                nip: employee.nip.clone(),
                kind: FlagKind::CoachingFirst,
                detail: format!("latest predikat {}: coaching before any move", p.as_str()),
            });
        }
        let performing = matches!(
            employee.latest_predikat,
            Some(Predikat::SangatBaik | Predikat::Baik)
        );
        if facts.tenure_months < MIN_TENURE || !performing {
            continue;
        }
        let bonus = if facts.tenure_months > MAX_TENURE {
            OVERDUE_BONUS
        } else {
            0.0
        };
        candidates.extend(roster.candidates(i, false, MIN_JPM, bonus));
    }
    Ok(roster.answer(&candidates, flags, |employee, target, _| {
        let gaps = competency_gaps(&employee.competencies, &target.required);
        (!gaps.is_empty()).then_some(gaps)
    }))
}

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

use kinerja_pdk::rotation::{move_kind, sort_flags, sort_moves, Candidate, Roster};
use kinerja_pdk::rules::{
    behaviour_rating, ensure_finite, fmt2, ge9, lt9, mean_rating, predikat, recommendations,
    round2, validate_case, weighted_capaian,
};
use kinerja_pdk::talent::{competency_gaps, job_person_match};
use kinerja_pdk::{
    AppraiseRequest, AppraiseResponse, AppraiseResult, Case, Component, Flag, FlagKind, Move,
    Predikat, Rating, Readiness, Recommendation, RotateRequest, RotateResponse,
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
    let results = request
        .cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            appraise_case(case).map_err(|e| format!("cases[{i}] (nip {}): {e}", case.employee.nip))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AppraiseResponse { results })
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
            format!(
                "{name} {} (weight {})",
                fmt2(*value),
                fmt2(weight / total_weight)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let explanation = format!(
        "HK {hk2} {hk_why} → {hk_r}; B from {b_how} = {b2} → {pk}{one}; matrix ({hk_r}, {pk}) → \
         {pred}; score = 0.6 HK + 0.4 × 20 B = {score2}{ikm_how}",
        hk2 = fmt2(hk),
        score2 = fmt2(score),
        hk_why = match hasil_kerja {
            Rating::DiAtas => "≥ 110",
            Rating::Sesuai => "≥ 90",
            Rating::DiBawah => "< 90",
        },
        hk_r = hasil_kerja.as_str(),
        b2 = fmt2(b),
        pk = perilaku_kerja.as_str(),
        one = if supervisor.iter().any(|(_, r)| r == 1) {
            " (a value rated 1)"
        } else {
            ""
        },
        pred = predikat.as_str(),
        ikm_how = match ikm {
            Some(ikm) if poor_service => format!(
                "; IKM {ikm} × 25 = {} < 76.61 (grade C/D) → pelayanan_prima training",
                fmt2(ikm * 25.0)
            ),
            Some(ikm) => format!("; IKM {ikm} × 25 = {}", fmt2(ikm * 25.0)),
            None => String::new(),
        },
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

/// Recommends same-kind, same-level rotations for employees performing well, and flags overdue
/// employees and those who need coaching first.
pub fn rotate(request: &RotateRequest) -> Result<RotateResponse, String> {
    let roster = Roster::prepare(request)?;
    let mut candidates = Vec::new();
    let mut flags = Vec::new();
    for (i, employee, facts) in roster.employees() {
        let current = roster.current_position(i);
        if facts.tenure_months > MAX_TENURE {
            flags.push(Flag {
                nip: employee.nip.clone(),
                kind: FlagKind::Overdue,
                detail: format!(
                    "{} months in {} (more than {MAX_TENURE})",
                    facts.tenure_months, current.id
                ),
            });
        }
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
        for (pi, target) in roster.positions().iter().enumerate() {
            if pi == facts.current
                || target.vacancies == 0
                || target.kind != current.kind
                || target.level != current.level
            {
                continue;
            }
            let jpm = job_person_match(&employee.competencies, &target.required);
            if lt9(jpm, MIN_JPM) {
                continue;
            }
            candidates.push(Candidate {
                employee: i,
                position: pi,
                value: jpm + bonus,
                job_person_match: jpm,
            });
        }
    }

    let mut moves: Vec<Move> = roster
        .choose(&candidates)
        .into_iter()
        .map(|c| {
            let employee = &request.employees[c.employee];
            let current = roster.current_position(c.employee);
            let target = &request.positions[c.position];
            let gaps = competency_gaps(&employee.competencies, &target.required);
            Move {
                nip: employee.nip.clone(),
                from: current.id.clone(),
                to: target.id.clone(),
                kind: move_kind(current.level, target.level),
                job_person_match: round2(c.job_person_match),
                readiness: if gaps.is_empty() {
                    Readiness::Ready
                } else {
                    Readiness::NeedsTraining
                },
                training: gaps,
            }
        })
        .collect();
    sort_moves(&mut moves);
    sort_flags(&mut flags);
    Ok(RotateResponse {
        talent: roster.talent(),
        moves,
        flags,
    })
}

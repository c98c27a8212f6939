//! Provinsi DKI Jakarta's policy plugin (region-policies.md, "DKI Jakarta").
//!
//! Jakarta scores like its TKD allowance rules (activity 70%, behaviour 10%, budget absorption
//! 20%), pays the performance allowance (TPP) by predikat from the activation config, holds a
//! dialog when self-assessment runs far above the supervisor's view, and rotates only its
//! talent (boxes 4, 7, 8, 9) at the same level, promoting box 9 alone.
//!
//! The rlib exposes the two hooks as pure functions; the wasm32 build exports them as
//! `appraise` and `rotate`.

use kinerja_pdk::explain;
use kinerja_pdk::rotation::Roster;
use kinerja_pdk::rules::{
    behaviour_rating, ensure_finite, fmt2, ge9, gt9, mean_rating, predikat, recommendations,
    round2, validate_case, weighted_capaian,
};
use kinerja_pdk::talent::competency_gaps;
use kinerja_pdk::{
    AppraiseRequest, AppraiseResponse, AppraiseResult, Case, Component, Flag, FlagKind, Predikat,
    Rating, Recommendation, RecommendationKind, RotateRequest, RotateResponse,
};
use serde_json::{Map, Number, Value};

kinerja_pdk::export_hooks!(appraise = appraise, rotate = rotate);

/// K at or above this, with an innovation, is di_atas.
const K_DI_ATAS: f64 = 110.0;
/// K at or above this is sesuai.
const K_SESUAI: f64 = 85.0;
/// m at or above this is di_atas.
const M_DI_ATAS: f64 = 4.5;
/// A self-assessment mean more than this above the supervisor's calls for a dialog.
const SELF_GAP: f64 = 1.0;
/// Rotation: minimum months in the current position.
const MIN_TENURE: u32 = 24;
/// Rotation: more months than this is overdue.
const MAX_TENURE: u32 = 60;
/// Rotation: minimum JPM for an allowed pair.
const MIN_JPM: f64 = 75.0;
/// Rotation: JPM from which a move is ready without training.
const READY_JPM: f64 = 85.0;

/// Appraises every case; refuses the whole request if any case or the config is malformed.
pub fn appraise(request: &AppraiseRequest) -> Result<AppraiseResponse, String> {
    let tpp = tpp_table(&request.config)?;
    kinerja_pdk::appraise_each(request, |case| appraise_case(case, tpp))
}

/// `config.tpp_percent`, checked once: an object whose values for the predikat keys are
/// numbers. Absent means no TPP in the results; anything malformed is refused rather than
/// silently paying nothing.
fn tpp_table(config: &Map<String, Value>) -> Result<Option<&Map<String, Value>>, String> {
    let Some(table) = config.get("tpp_percent") else {
        return Ok(None);
    };
    let table = table
        .as_object()
        .ok_or("config.tpp_percent must be an object of predikat → percent")?;
    for p in Predikat::ALL {
        if let Some(v) = table.get(p.as_str()) {
            if !v.is_number() {
                return Err(format!(
                    "config.tpp_percent.{} must be a number, got {v}",
                    p.as_str()
                ));
            }
        }
    }
    Ok(Some(table))
}

fn appraise_case(case: &Case, tpp: Option<&Map<String, Value>>) -> Result<AppraiseResult, String> {
    validate_case(case)?;
    let supervisor = &case.behavior.supervisor;

    let k = weighted_capaian(&case.indicators);
    let m = mean_rating(supervisor);
    let p = 20.0 * m;
    let budget = match case.budget {
        Some(b) => {
            if !(b.planned.is_finite() && b.planned >= 0.0) {
                return Err(format!("budget.planned must be ≥ 0, got {}", b.planned));
            }
            if !(b.realized.is_finite() && b.realized >= 0.0) {
                return Err(format!("budget.realized must be ≥ 0, got {}", b.realized));
            }
            // A zero plan gives no absorption rate: treated as no budget.
            (b.planned > 0.0).then_some(b)
        }
        None => None,
    };
    let a = budget.map(|b| 100.0 * (b.realized / b.planned).min(1.0));
    let raw_score = match a {
        Some(a) => 0.7 * k + 0.1 * p + 0.2 * a,
        None => (0.7 * k + 0.1 * p) / 0.8,
    };
    let score = round2(ensure_finite("score", raw_score)?);

    let has_innovation = !case.innovations().is_empty();
    let (hasil_kerja, hk_why) = if ge9(k, K_DI_ATAS) && has_innovation {
        (Rating::DiAtas, "≥ 110 dengan inovasi")
    } else if ge9(k, K_SESUAI) {
        (
            Rating::Sesuai,
            if ge9(k, K_DI_ATAS) {
                "≥ 110 tetapi tanpa inovasi"
            } else {
                "≥ 85"
            },
        )
    } else {
        (Rating::DiBawah, "< 85")
    };
    let perilaku_kerja = behaviour_rating(m, supervisor, M_DI_ATAS);
    let predikat = predikat(hasil_kerja, perilaku_kerja);

    let self_gap = case
        .behavior
        .self_assessment
        .as_ref()
        .map(|own| mean_rating(own) - m);
    let dialog = self_gap.is_some_and(|gap| gt9(gap, SELF_GAP));
    let own = dialog.then(|| Recommendation::of(RecommendationKind::Dialog));
    let recommendations = recommendations(predikat, own, supervisor);
    let tpp_percent: Option<Number> = tpp
        .and_then(|t| t.get(predikat.as_str()))
        .and_then(|v| v.as_number().cloned());

    let mut components = Vec::with_capacity(3);
    match a {
        Some(a) => {
            components.push(Component::weighted("kinerja", k, 0.7));
            components.push(Component::weighted("perilaku", p, 0.1));
            components.push(Component::weighted("anggaran", a, 0.2));
        }
        None => {
            components.push(Component::weighted("kinerja", k, 0.875));
            components.push(Component::weighted("perilaku", p, 0.125));
        }
    }

    let score2 = fmt2(score);
    let score_how = match a {
        Some(a) => format!("skor = 0.7 K + 0.1 P + 0.2 A (A {}) = {score2}", fmt2(a)),
        None => format!("tanpa anggaran, jadi skor = (0.7 K + 0.1 P) / 0.8 = {score2}"),
    };
    let self_how = match self_gap {
        Some(gap) => format!("; penilaian diri − penilaian atasan = {}", fmt2(gap)),
        None => String::new(),
    };
    let tpp_how = match &tpp_percent {
        Some(t) => format!("; TPP {t}%"),
        None => String::new(),
    };
    let mut explanation = format!(
        "K {k2} {hk_why} → {hk}; perilaku: rerata nilai atasan m = {m2} → {pk}",
        k2 = fmt2(k),
        hk = explain::rating(hasil_kerja),
        m2 = fmt2(m),
        pk = explain::rating(perilaku_kerja),
    );
    explain::push_rated_one(&mut explanation, supervisor);
    explain::push_matrix(&mut explanation, hasil_kerja, perilaku_kerja, predikat);
    explanation.push_str(&format!(
        "; P = 20 m = {}; {score_how}{self_how}{tpp_how}",
        fmt2(p)
    ));
    // Written only when there is a dialog (this runs for every case).
    let dialog_why = match self_gap {
        Some(gap) if dialog => format!(
            "penilaian diri {} di atas penilaian atasan, > 1.00",
            fmt2(gap)
        ),
        _ => String::new(),
    };
    let dialog = Recommendation::of(RecommendationKind::Dialog);
    explain::push_recommendations(
        &mut explanation,
        &recommendations,
        predikat,
        supervisor,
        &[(&dialog, &dialog_why)],
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
        tpp_percent,
    })
}

/// Recommends rotations for the talent boxes 4, 7, 8 and 9 (and promotions for box 9) and
/// flags box 1 for review and overdue employees.
pub fn rotate(request: &RotateRequest) -> Result<RotateResponse, String> {
    let roster = Roster::prepare(request)?;
    let mut candidates = Vec::new();
    let mut flags = Vec::new();
    for (i, employee, facts) in roster.employees() {
        flags.extend(roster.overdue(i, MAX_TENURE));
        if facts.nine_box == Some(1) {
            flags.push(Flag {
                nip: employee.nip.clone(),
                kind: FlagKind::Review,
                detail: "box 1: low performance and low potential, handle under the \
                         disciplinary rules"
                    .to_string(),
            });
        }
        let Some(nine_box @ (4 | 7 | 8 | 9)) = facts.nine_box else {
            continue;
        };
        if facts.tenure_months < MIN_TENURE {
            continue;
        }
        candidates.extend(roster.candidates(i, nine_box == 9, MIN_JPM, 0.0));
    }
    Ok(roster.answer(&candidates, flags, |employee, target, jpm| {
        (!ge9(jpm, READY_JPM)).then(|| competency_gaps(&employee.competencies, &target.required))
    }))
}

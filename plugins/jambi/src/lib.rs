//! Provinsi Jambi's policy plugin (region-policies.md, "Jambi").
//!
//! Jambi appraises on objective indicators *and* the work process (innovation, community
//! involvement), expects daily activity reports, and manages positions by competence fit with
//! promotion for its talent pool and training to prepare rotations.
//!
//! The rlib exposes the two hooks as pure functions (used by the tests and by the host's
//! native benchmarks); the wasm32 build exports them as `appraise` and `rotate`.

use kinerja_pdk::explain;
use kinerja_pdk::rotation::Roster;
use kinerja_pdk::rules::{
    behaviour_rating, ensure_finite, ge9, indicator_capaian, lower_one_level, lt9, mean_rating,
    predikat, push_fmt2, push_u64, recommendations, round2, validate_case, weighted_capaian,
};
use kinerja_pdk::talent::competency_gaps;
use kinerja_pdk::{
    AppraiseRequest, AppraiseResponse, AppraiseResult, BerAkhlak, Case, Component, IndicatorKind,
    Rating, Recommendation, RecommendationKind, RotateRequest, RotateResponse,
};

#[cfg(feature = "abi1")]
kinerja_pdk::export_hooks!(appraise = appraise, rotate = rotate);

/// HK at or above this (with an innovation and no weak main indicator) is di_atas.
const HK_DI_ATAS: f64 = 110.0;
/// HK at or above this is sesuai.
const HK_SESUAI: f64 = 90.0;
/// No `utama` indicator may fall below this for di_atas.
const UTAMA_FLOOR: f64 = 90.0;
/// Reporting on fewer than this share of working days lowers hasil kerja one level.
const REPORTING_FLOOR: f64 = 0.80;
/// m at or above this is di_atas.
const M_DI_ATAS: f64 = 4.5;
/// Rotation: minimum months in the current position.
const MIN_TENURE: u32 = 24;
/// Rotation: more months than this is overdue and earns the priority bonus.
const MAX_TENURE: u32 = 60;
/// Rotation: minimum JPM for an allowed pair.
const MIN_JPM: f64 = 68.0;
/// Rotation: JPM from which a move is ready without training.
const READY_JPM: f64 = 80.0;
/// Rotation: value bonus that puts overdue employees first.
const OVERDUE_BONUS: f64 = 1000.0;
/// Training subject added for an employee who declined a rotation before.
const DECLINED_TRAINING: &str = "bimbingan";

/// Appraises every case; refuses the whole request if any case is malformed.
pub fn appraise(request: &AppraiseRequest) -> Result<AppraiseResponse, String> {
    kinerja_pdk::appraise_each(request, appraise_case)
}

fn appraise_case(case: &Case) -> Result<AppraiseResult, String> {
    validate_case(case)?;
    let activities = case
        .activities
        .ok_or("activities.days_reported is required by the Jambi policy")?;
    let supervisor = &case.behavior.supervisor;

    let c = weighted_capaian(&case.indicators);
    let (p, p_source) = match case.process() {
        Some(process) => (
            process.values().sum::<f64>() / process.len() as f64,
            "rerata penilaian proses",
        ),
        None => (c, "tanpa penilaian proses, jadi P = C"),
    };
    let hk = 0.8 * c + 0.2 * p;

    let has_innovation = !case.innovations().is_empty();
    let weak_utama: Vec<&str> = case
        .indicators
        .iter()
        .filter(|i| i.kind == IndicatorKind::Utama && lt9(indicator_capaian(i), UTAMA_FLOOR))
        .map(|i| i.id.as_str())
        .collect();
    let (base, base_why) = if ge9(hk, HK_DI_ATAS) && has_innovation && weak_utama.is_empty() {
        (
            Rating::DiAtas,
            "≥ 110 dengan inovasi dan setiap indikator utama ≥ 90".to_string(),
        )
    } else if ge9(hk, HK_SESUAI) {
        let why = if !ge9(hk, HK_DI_ATAS) {
            "≥ 90".to_string()
        } else if !has_innovation {
            "≥ 110 tetapi tanpa inovasi".to_string()
        } else {
            format!(
                "≥ 110 tetapi indikator utama {} di bawah 90",
                weak_utama.join(", ")
            )
        };
        (Rating::Sesuai, why)
    } else {
        (Rating::DiBawah, "< 90".to_string())
    };

    let q = f64::from(activities.days_reported) / f64::from(case.period.working_days);
    let low_reporting = lt9(q, REPORTING_FLOOR);
    let hasil_kerja = if low_reporting {
        lower_one_level(base)
    } else {
        base
    };

    let m = mean_rating(supervisor);
    let perilaku_kerja = behaviour_rating(m, supervisor, M_DI_ATAS);
    let predikat = predikat(hasil_kerja, perilaku_kerja);
    let score = round2(ensure_finite("score", 0.6 * hk + 0.4 * (20.0 * m))?);
    let own = low_reporting.then(|| Recommendation::of(RecommendationKind::Dialog));
    let recommendations = recommendations(predikat, own, supervisor);

    let explanation = explain(&Explained {
        c,
        p,
        p_source,
        hk,
        base_why: &base_why,
        base,
        days_reported: activities.days_reported,
        working_days: case.period.working_days,
        q,
        low_reporting,
        hasil_kerja,
        m,
        perilaku_kerja,
        supervisor,
        predikat,
        score,
        recommendations: &recommendations,
    });

    Ok(AppraiseResult {
        nip: case.employee.nip.clone(),
        hasil_kerja,
        perilaku_kerja,
        predikat,
        score,
        components: vec![
            Component::weighted("capaian", c, 0.8),
            Component::weighted("process", p, 0.2),
            Component::weighted("hk", hk, 0.6),
            Component::new("reporting", q),
            Component::new("behavior", m),
        ],
        recommendations,
        explanation,
        tpp_percent: None,
    })
}

/// The figures an explanation reports.
struct Explained<'a> {
    c: f64,
    p: f64,
    p_source: &'static str,
    hk: f64,
    base_why: &'a str,
    base: Rating,
    days_reported: u32,
    working_days: u32,
    q: f64,
    low_reporting: bool,
    hasil_kerja: Rating,
    m: f64,
    perilaku_kerja: Rating,
    supervisor: &'a BerAkhlak,
    predikat: kinerja_pdk::Predikat,
    score: f64,
    recommendations: &'a [Recommendation],
}

/// "C …; P … (…); HK = 0.8 C + 0.2 P = … → …; laporan harian q = … → …; perilaku: rerata nilai
/// atasan m = … → …; matriks (…, …) → predikat …; skor = 0.6 HK + 0.4 × 20 m = …; rekomendasi: …
/// (cause), …", in Bahasa Indonesia.
///
/// Built by appending to one pre-sized string rather than with nested `format!`s: the
/// explanation is produced for every case, and the formatting machinery (above all `{:.2}` on
/// floats) would be a large share of a case's fuel.
fn explain(e: &Explained) -> String {
    let mut s = String::with_capacity(480);
    s.push_str("C ");
    push_fmt2(&mut s, e.c);
    s.push_str("; P ");
    push_fmt2(&mut s, e.p);
    s.push_str(" (");
    s.push_str(e.p_source);
    s.push_str("); HK = 0.8 C + 0.2 P = ");
    push_fmt2(&mut s, e.hk);
    s.push(' ');
    s.push_str(e.base_why);
    s.push_str(" → ");
    s.push_str(explain::rating(e.base));
    s.push_str("; laporan harian q = ");
    let reporting_start = s.len();
    push_u64(&mut s, u64::from(e.days_reported));
    s.push('/');
    push_u64(&mut s, u64::from(e.working_days));
    s.push_str(" hari kerja = ");
    push_fmt2(&mut s, e.q);
    // Only a low q gives a dialog; its cause is copied only then (this runs for every case).
    let dialog_why = if e.low_reporting {
        format!("laporan harian q = {} < 0.80", &s[reporting_start..])
    } else {
        String::new()
    };
    if e.low_reporting {
        s.push_str(" < 0.80, hasil kerja turun satu tingkat ke ");
        s.push_str(explain::rating(e.hasil_kerja));
    } else {
        s.push_str(" ≥ 0.80, tetap");
    }
    s.push_str("; perilaku: rerata nilai atasan m = ");
    push_fmt2(&mut s, e.m);
    s.push_str(" → ");
    s.push_str(explain::rating(e.perilaku_kerja));
    explain::push_rated_one(&mut s, e.supervisor);
    explain::push_matrix(&mut s, e.hasil_kerja, e.perilaku_kerja, e.predikat);
    s.push_str("; skor = 0.6 HK + 0.4 × 20 m = ");
    push_fmt2(&mut s, e.score);
    let dialog = Recommendation::of(RecommendationKind::Dialog);
    explain::push_recommendations(
        &mut s,
        e.recommendations,
        e.predikat,
        e.supervisor,
        &[(&dialog, &dialog_why)],
    );
    s
}

/// Recommends rotations, and promotions for the talent pool (boxes 7–9), and flags overdue
/// employees.
pub fn rotate(request: &RotateRequest) -> Result<RotateResponse, String> {
    let roster = Roster::prepare(request)?;
    let mut candidates = Vec::new();
    let mut flags = Vec::new();
    for (i, employee, facts) in roster.employees() {
        flags.extend(roster.overdue(i, MAX_TENURE));
        if facts.tenure_months < MIN_TENURE || employee.latest_predikat.is_none() {
            continue;
        }
        let talent_pool = matches!(facts.nine_box, Some(7..=9));
        let bonus = if facts.tenure_months > MAX_TENURE {
            OVERDUE_BONUS
        } else {
            0.0
        };
        candidates.extend(roster.candidates(i, talent_pool, MIN_JPM, bonus));
    }
    Ok(roster.answer(&candidates, flags, |employee, target, jpm| {
        let declined = employee.declined_rotation;
        if ge9(jpm, READY_JPM) && !declined {
            return None;
        }
        let mut training = competency_gaps(&employee.competencies, &target.required);
        if declined {
            training.push(DECLINED_TRAINING.to_string());
        }
        Some(training)
    }))
}

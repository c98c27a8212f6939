//! Provinsi Jambi's policy plugin (region-policies.md, "Jambi").
//!
//! Jambi appraises on objective indicators *and* the work process (innovation, community
//! involvement), expects daily activity reports, and manages positions by competence fit with
//! promotion for its talent pool and training to prepare rotations.
//!
//! The rlib exposes the two hooks as pure functions (used by the tests and by the host's
//! native benchmarks); the wasm32 build exports them as `appraise` and `rotate`.

use kinerja_pdk::rotation::{move_kind, sort_flags, sort_moves, Candidate, Roster};
use kinerja_pdk::rules::{
    behaviour_rating, ensure_finite, ge9, indicator_capaian, lower_one_level, lt9, mean_rating,
    predikat, push_fmt2, push_u64, recommendations, round2, validate_case, weighted_capaian,
};
use kinerja_pdk::talent::{competency_gaps, job_person_match};
use kinerja_pdk::{
    AppraiseRequest, AppraiseResponse, AppraiseResult, Case, Component, Flag, FlagKind,
    IndicatorKind, Move, Rating, Readiness, Recommendation, RecommendationKind, RotateRequest,
    RotateResponse,
};

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
    let activities = case
        .activities
        .ok_or("activities.days_reported is required by the Jambi policy")?;
    let supervisor = &case.behavior.supervisor;

    let c = weighted_capaian(&case.indicators);
    let (p, p_source) = match case.process() {
        Some(process) => (
            process.values().sum::<f64>() / process.len() as f64,
            "mean of the process ratings",
        ),
        None => (c, "no process ratings, so P = C"),
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
            "≥ 110 with an innovation and every utama ≥ 90".to_string(),
        )
    } else if ge9(hk, HK_SESUAI) {
        let why = if !ge9(hk, HK_DI_ATAS) {
            "≥ 90".to_string()
        } else if !has_innovation {
            "≥ 110 but no innovation".to_string()
        } else {
            format!("≥ 110 but utama {} below 90", weak_utama.join(", "))
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
        rated_one: supervisor.iter().any(|(_, r)| r == 1),
        predikat,
        score,
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
    rated_one: bool,
    predikat: kinerja_pdk::Predikat,
    score: f64,
}

/// "C …; P … (…); HK = 0.8 C + 0.2 P = … → …; reporting q = …; supervisor m = … → …; matrix
/// (…, …) → …; score = 0.6 HK + 0.4 × 20 m = …".
///
/// Built by appending to one pre-sized string rather than with nested `format!`s: the
/// explanation is produced for every case, and the formatting machinery (above all `{:.2}` on
/// floats) was a large share of a case's fuel.
fn explain(e: &Explained) -> String {
    let mut s = String::with_capacity(320);
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
    s.push_str(e.base.as_str());
    s.push_str("; reporting q = ");
    push_u64(&mut s, u64::from(e.days_reported));
    s.push('/');
    push_u64(&mut s, u64::from(e.working_days));
    s.push_str(" = ");
    push_fmt2(&mut s, e.q);
    if e.low_reporting {
        s.push_str(" < 0.80, lowered one level to ");
        s.push_str(e.hasil_kerja.as_str());
    } else {
        s.push_str(" ≥ 0.80, no change");
    }
    s.push_str("; supervisor m = ");
    push_fmt2(&mut s, e.m);
    s.push_str(" → ");
    s.push_str(e.perilaku_kerja.as_str());
    if e.rated_one {
        s.push_str(" (a value rated 1)");
    }
    s.push_str("; matrix (");
    s.push_str(e.hasil_kerja.as_str());
    s.push_str(", ");
    s.push_str(e.perilaku_kerja.as_str());
    s.push_str(") → ");
    s.push_str(e.predikat.as_str());
    s.push_str("; score = 0.6 HK + 0.4 × 20 m = ");
    push_fmt2(&mut s, e.score);
    s
}

/// Recommends rotations and promotions and flags overdue employees.
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
        if facts.tenure_months < MIN_TENURE || employee.latest_predikat.is_none() {
            continue;
        }
        let talent_pool = matches!(facts.nine_box, Some(7..=9));
        let bonus = if facts.tenure_months > MAX_TENURE {
            OVERDUE_BONUS
        } else {
            0.0
        };
        for (pi, target) in roster.positions().iter().enumerate() {
            if pi == facts.current
                || target.vacancies == 0
                || (target.level > current.level && !talent_pool)
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
            let declined = employee.declined_rotation;
            let ready = ge9(c.job_person_match, READY_JPM) && !declined;
            let training = if ready {
                Vec::new()
            } else {
                let mut t = competency_gaps(&employee.competencies, &target.required);
                if declined {
                    t.push(DECLINED_TRAINING.to_string());
                }
                t
            };
            Move {
                nip: employee.nip.clone(),
                from: current.id.clone(),
                to: target.id.clone(),
                kind: move_kind(current.level, target.level),
                job_person_match: round2(c.job_person_match),
                readiness: if ready {
                    Readiness::Ready
                } else {
                    Readiness::NeedsTraining
                },
                training,
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

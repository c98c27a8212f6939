//! The SKP (sasaran kinerja pegawai) of one employee and year, as PermenPANRB 6/2022 runs it:
//! rencana hasil kerja (RHK) with their indicators (IKI), the supervisor's expectations per
//! RHK, a state that moves draft → submitted → approved (or returned with a note) and, once the
//! annual appraisal is stored, locked; and the realizations written month by month. An
//! appraisal of any period of the year reads the indicators with the target and realization of
//! that period, so the SKP is written once a year and the plugin ABI does not change.

use super::date::Date;
use super::period::Period;
use super::records::{check_realization, text_of, Direction, Indicator, IndicatorKind};
use super::{check, FieldError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use utoipa::ToSchema;

/// How an indicator's months add up to a period.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Accumulation {
    /// Counts (documents, activities): a period's realization is the sum of its months, and
    /// its target the annual target × its months / 12 (or the sum of the monthly targets).
    #[default]
    Sum,
    /// Rates, percentages, scores: a period's realization is its latest month's value, and its
    /// target the annual target.
    Level,
}

/// An indikator kinerja individu of the SKP.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkpIndicator {
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub id: String,
    pub name: String,
    pub kind: IndicatorKind,
    pub direction: Direction,
    pub unit: String,
    /// The year's target, greater than 0.
    pub target: f64,
    /// Greater than 0 and at most 1000000; defaults to 1.
    #[serde(default = "one")]
    pub weight: f64,
    #[serde(default)]
    pub accumulation: Accumulation,
    /// For a `sum` indicator, the target of each month (12 figures, at least 0, summing to
    /// `target`) when the work is not spread evenly over the year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monthly_targets: Option<Vec<f64>>,
}

fn one() -> f64 {
    1.0
}

/// A rencana hasil kerja and the indicators that measure it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Rhk {
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub id: String,
    /// The planned result, 1–1000 characters.
    pub text: String,
    /// 1–20 indicators.
    pub indicators: Vec<SkpIndicator>,
}

/// What the employee (or their agency) plans: 1–50 RHK, at most 200 indicators in all, each
/// indicator id used once.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkpPlan {
    pub rhk: Vec<Rhk>,
}

/// Where an SKP stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkpState {
    Draft,
    Submitted,
    Approved,
    Returned,
    /// Approved, and the year's annual appraisal was stored since.
    Locked,
}

impl SkpState {
    pub fn as_str(self) -> &'static str {
        match self {
            SkpState::Draft => "draft",
            SkpState::Submitted => "submitted",
            SkpState::Approved => "approved",
            SkpState::Returned => "returned",
            SkpState::Locked => "locked",
        }
    }

    /// Whether appraisals run on it.
    pub fn appraisable(self) -> bool {
        matches!(self, SkpState::Approved | SkpState::Locked)
    }
}

/// A move between states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkpAction {
    Submit,
    Approve,
    Return,
    Reopen,
}

impl SkpAction {
    pub fn as_str(self) -> &'static str {
        match self {
            SkpAction::Submit => "submit",
            SkpAction::Approve => "approve",
            SkpAction::Return => "return",
            SkpAction::Reopen => "reopen",
        }
    }

    /// The state `action` leads to from `from`, or why it cannot be taken (a 409 naming the
    /// state).
    pub fn next(self, from: SkpState) -> Result<SkpState, String> {
        use SkpState::*;
        match (self, from) {
            (SkpAction::Submit, Draft | Returned) => Ok(Submitted),
            (SkpAction::Approve, Submitted) => Ok(Approved),
            (SkpAction::Return, Submitted) => Ok(Returned),
            (SkpAction::Reopen, Approved | Locked) => Ok(Draft),
            (action, state) => Err(format!(
                "the SKP is {}; it cannot be {}",
                state.as_str(),
                match action {
                    SkpAction::Submit => "submitted (only a draft or a returned SKP is)",
                    SkpAction::Approve => "approved (only a submitted SKP is)",
                    SkpAction::Return => "returned (only a submitted SKP is)",
                    SkpAction::Reopen => "reopened (only an approved or locked SKP is)",
                }
            )),
        }
    }
}

/// One step of an SKP's history.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Transition {
    pub action: String,
    pub from: SkpState,
    pub to: SkpState,
    /// The token id that acted.
    pub by: String,
    pub at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Realizations by month (`01`–`12`), each by indicator id.
pub type Realizations = BTreeMap<String, BTreeMap<String, f64>>;

/// The largest evidence file.
pub const MAX_EVIDENCE_BYTES: usize = 2 * 1024 * 1024;
/// The files of one SKP in all: a year's evidence, not an archive.
pub const MAX_EVIDENCE_BYTES_PER_SKP: u64 = 64 * 1024 * 1024;
/// The types an evidence file may be.
pub const EVIDENCE_TYPES: [&str; 3] = ["application/pdf", "image/png", "image/jpeg"];
/// Evidence items of one indicator.
pub const MAX_EVIDENCE_PER_INDICATOR: usize = 50;

/// A piece of evidence (bukti dukung) of an indicator's realization: a link, or a file kept by
/// its SHA-256.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Evidence {
    /// `https://…` or `http://…` for a link.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// For a file: its SHA-256 (`GET …/skp/{year}/evidence/{sha256}`), type and size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The month (`01`–`12`) it backs; none: the year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<String>,
    pub added_by: String,
    pub added_at: String,
}

/// Which piece of evidence a client means: a file by its SHA-256, or a link by its address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvidenceRef {
    File(String),
    Link(String),
}

impl EvidenceRef {
    pub fn matches(&self, e: &Evidence) -> bool {
        match self {
            EvidenceRef::File(sha) => e.sha256.as_deref() == Some(sha.as_str()),
            EvidenceRef::Link(url) => e.url.as_deref() == Some(url.as_str()),
        }
    }
}

/// The type of an evidence file, told by its content (a declared type is only a claim): PDF,
/// PNG or JPEG; anything else is none of them.
pub fn evidence_type(bytes: &[u8]) -> Option<&'static str> {
    let [pdf, png, jpeg] = EVIDENCE_TYPES;
    if bytes.starts_with(b"%PDF-") {
        Some(pdf)
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(jpeg)
    } else {
        None
    }
}

/// A link given as evidence: http(s), at most 2000 characters, nothing a browser would not
/// take as one URL.
pub fn check_link(url: &str) -> Result<(), FieldError> {
    check(
        (url.starts_with("https://") || url.starts_with("http://"))
            && url.len() <= 2000
            && url.len() > "https://".len()
            && !url.chars().any(|c| c.is_whitespace() || c.is_control()),
        "link",
        "must be an http(s) URL of at most 2000 characters, without spaces",
    )
}

/// An evidence's optional name (1–200 characters of one line) and month (`01`–`12`).
pub fn check_evidence_meta(name: Option<&str>, month: Option<&str>) -> Result<(), FieldError> {
    if let Some(n) = name {
        text_of("name", n, 200, false)?;
    }
    if let Some(m) = month {
        month_start(2000, m)?;
    }
    Ok(())
}

/// An SKP as stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Skp {
    pub region: String,
    pub nip: String,
    pub year: i32,
    /// As stored; `locked` is told by the store, from the decisions since the approval.
    pub state: SkpState,
    pub plan: SkpPlan,
    /// The supervisor's expectations (ekspektasi pimpinan), by RHK id.
    #[serde(default)]
    pub expectations: BTreeMap<String, String>,
    #[serde(default)]
    pub realizations: Realizations,
    /// The evidence of each indicator, by indicator id.
    #[serde(default)]
    pub evidence: BTreeMap<String, Vec<Evidence>>,
    /// The last decision id number when it was approved: an annual decision after it locks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approved_after_decision: Option<u64>,
    #[serde(default)]
    pub history: Vec<Transition>,
    pub updated_at: String,
}

const MAX_RHK: usize = 50;
const MAX_IKI_PER_RHK: usize = 20;
const MAX_IKI: usize = 200;

impl SkpPlan {
    pub fn validate(&self) -> Result<(), FieldError> {
        check(
            (1..=MAX_RHK).contains(&self.rhk.len()),
            "rhk",
            format!("must hold 1–{MAX_RHK} rencana hasil kerja"),
        )?;
        let (mut rhk_ids, mut iki_ids) = (BTreeSet::new(), BTreeSet::new());
        for (i, r) in self.rhk.iter().enumerate() {
            let p = format!("rhk[{i}]");
            super::validate_key(&format!("{p}.id"), &r.id)?;
            check(
                rhk_ids.insert(r.id.as_str()),
                &format!("{p}.id"),
                format!("duplicate RHK id `{}`", r.id),
            )?;
            text_of(&format!("{p}.text"), &r.text, 1000, true)?;
            check(
                (1..=MAX_IKI_PER_RHK).contains(&r.indicators.len()),
                &format!("{p}.indicators"),
                format!("must hold 1–{MAX_IKI_PER_RHK} indicators"),
            )?;
            for (j, ind) in r.indicators.iter().enumerate() {
                let q = format!("{p}.indicators[{j}]");
                ind.as_indicator(ind.target, None).validate(&q)?;
                check(
                    iki_ids.insert(ind.id.as_str()),
                    &format!("{q}.id"),
                    format!(
                        "duplicate indicator id `{}` (ids are the SKP's, not the RHK's)",
                        ind.id
                    ),
                )?;
                if let Some(m) = &ind.monthly_targets {
                    let f = format!("{q}.monthly_targets");
                    check(
                        ind.accumulation == Accumulation::Sum,
                        &f,
                        "only a `sum` indicator has monthly targets",
                    )?;
                    check(
                        m.len() == 12,
                        &f,
                        "must hold 12 figures, January to December",
                    )?;
                    for (k, t) in m.iter().enumerate() {
                        check_realization(&format!("{f}[{k}]"), *t)?;
                    }
                    let sum: f64 = m.iter().sum();
                    check(
                        (sum - ind.target).abs() <= 1e-6 * ind.target.max(1.0),
                        &f,
                        format!(
                            "must sum to the year's target {} (they sum to {sum})",
                            ind.target
                        ),
                    )?;
                }
            }
        }
        check(
            iki_ids.len() <= MAX_IKI,
            "rhk",
            format!("at most {MAX_IKI} indicators in all"),
        )
    }

    /// Every indicator with its RHK.
    pub fn indicators(&self) -> impl Iterator<Item = &SkpIndicator> {
        self.rhk.iter().flat_map(|r| r.indicators.iter())
    }
}

impl SkpIndicator {
    fn as_indicator(&self, target: f64, realization: Option<f64>) -> Indicator {
        Indicator {
            id: self.id.clone(),
            name: self.name.clone(),
            kind: self.kind,
            direction: self.direction,
            unit: self.unit.clone(),
            target,
            realization,
            weight: self.weight,
            evidence: None,
        }
    }
}

/// The months (1–12) of `period`.
fn months(period: Period) -> std::ops::RangeInclusive<u32> {
    match period {
        Period::Year(_) => 1..=12,
        Period::Quarter(_, q) => (3 * q - 2)..=(3 * q),
        Period::Month(_, m) => m..=m,
    }
}

/// `01`–`12`.
pub fn month_key(m: u32) -> String {
    format!("{m:02}")
}

impl Skp {
    /// A new SKP of `plan` in `state`, with nothing else yet.
    pub fn new((region, nip, year): (&str, &str, i32), plan: SkpPlan, state: SkpState) -> Skp {
        Skp {
            region: region.into(),
            nip: nip.into(),
            year,
            state,
            plan,
            expectations: BTreeMap::new(),
            realizations: Realizations::new(),
            evidence: BTreeMap::new(),
            approved_after_decision: None,
            history: Vec::new(),
            updated_at: super::now_rfc3339(),
        }
    }

    /// The indicators as an appraisal of `period` (a period of the SKP's year) reads them: the
    /// period's target and realization of each (see [`Accumulation`]); a realization is null
    /// when no month of the period has one. An indicator with nothing planned in the period (its
    /// monthly targets there are 0) is left out: a target of 0 has no capaian.
    pub fn indicators_for(&self, period: Period) -> Vec<Indicator> {
        let months = months(period);
        let n = (months.end() - months.start() + 1) as f64;
        self.plan
            .indicators()
            .map(|ind| {
                let mut values = months.clone().filter_map(|m| {
                    self.realizations
                        .get(&month_key(m))
                        .and_then(|v| v.get(&ind.id))
                        .copied()
                });
                let (target, realization) = match ind.accumulation {
                    Accumulation::Sum => {
                        let target = match &ind.monthly_targets {
                            Some(t) => months
                                .clone()
                                .map(|m| t.get(m as usize - 1).copied().unwrap_or(0.0))
                                .sum(),
                            None => ind.target * n / 12.0,
                        };
                        let got: Vec<f64> = values.collect();
                        let r = (!got.is_empty()).then(|| got.iter().sum());
                        (target, r)
                    }
                    Accumulation::Level => (ind.target, values.next_back()),
                };
                let mut out = ind.as_indicator(target, realization);
                // The evidence of the period's months, and that of the whole year.
                let evidence = self.evidence.get(&ind.id).map_or(0, |list| {
                    list.iter()
                        .filter(|e| {
                            e.month
                                .as_deref()
                                .is_none_or(|m| m.parse::<u32>().is_ok_and(|m| months.contains(&m)))
                        })
                        .count()
                });
                out.evidence = (evidence > 0).then_some(evidence as u32);
                out
            })
            .filter(|i| i.target > 0.0)
            .collect()
    }

    /// Checks a month's realizations against the plan: every id one of its indicators, every
    /// value a realization.
    pub fn check_realizations(&self, values: &BTreeMap<String, f64>) -> Result<(), FieldError> {
        check(
            !values.is_empty(),
            "indicators",
            "name at least one indicator",
        )?;
        let ids: BTreeSet<&str> = self.plan.indicators().map(|i| i.id.as_str()).collect();
        for (id, v) in values {
            let f = format!("indicators.{id}");
            check(
                ids.contains(id.as_str()),
                &f,
                "is not an indicator of this SKP",
            )?;
            check_realization(&f, *v)?;
        }
        Ok(())
    }
}

/// The first day of `year`-`month`, when `month` is `01`–`12`.
pub fn month_start(year: i32, month: &str) -> Result<Date, FieldError> {
    let m: u32 = Some(month)
        .filter(|m| m.len() == 2 && m.bytes().all(|b| b.is_ascii_digit()))
        .and_then(|m| m.parse().ok())
        .filter(|m| (1..=12).contains(m))
        .ok_or_else(|| FieldError::new("month", format!("`{month}` must be 01–12")))?;
    Date::new(year, m, 1).ok_or_else(|| FieldError::new("month", "not a month"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ind(id: &str, acc: Accumulation, target: f64) -> SkpIndicator {
        SkpIndicator {
            id: id.into(),
            name: id.into(),
            kind: IndicatorKind::Utama,
            direction: Direction::HigherIsBetter,
            unit: "dokumen".into(),
            target,
            weight: 1.0,
            accumulation: acc,
            monthly_targets: None,
        }
    }

    fn skp(inds: Vec<SkpIndicator>, real: &[(&str, &str, f64)]) -> Skp {
        let mut realizations = Realizations::new();
        for (m, id, v) in real {
            realizations
                .entry(m.to_string())
                .or_default()
                .insert(id.to_string(), *v);
        }
        Skp {
            region: "jambi".into(),
            nip: "199001012015012004".into(),
            year: 2026,
            state: SkpState::Approved,
            plan: SkpPlan {
                rhk: vec![Rhk {
                    id: "rhk-1".into(),
                    text: "Layanan".into(),
                    indicators: inds,
                }],
            },
            expectations: BTreeMap::new(),
            realizations,
            evidence: BTreeMap::new(),
            approved_after_decision: None,
            history: Vec::new(),
            updated_at: String::new(),
        }
    }

    /// docs/skp.md's worked examples: a count adds its months against a twelfth of the year's
    /// target per month; a rate takes its latest month against the year's target.
    #[test]
    fn periods_read_the_months_by_accumulation() {
        let s = skp(
            vec![
                ind("docs", Accumulation::Sum, 24.0),
                ind("rate", Accumulation::Level, 90.0),
            ],
            &[
                ("01", "docs", 2.0),
                ("02", "docs", 1.0),
                ("03", "docs", 3.0),
                ("01", "rate", 80.0),
                ("03", "rate", 92.0),
                ("04", "docs", 2.0),
            ],
        );
        let at = |p: &str| {
            s.indicators_for(Period::parse(p).unwrap())
                .into_iter()
                .map(|i| (i.target, i.realization))
                .collect::<Vec<_>>()
        };
        assert_eq!(at("2026-02"), [(2.0, Some(1.0)), (90.0, None)]);
        assert_eq!(at("2026-Q1"), [(6.0, Some(6.0)), (90.0, Some(92.0))]);
        assert_eq!(at("2026-Q2"), [(6.0, Some(2.0)), (90.0, None)]);
        assert_eq!(at("2026"), [(24.0, Some(8.0)), (90.0, Some(92.0))]);
        let mut uneven = ind("docs", Accumulation::Sum, 24.0);
        uneven.monthly_targets = Some(vec![
            0.0, 0.0, 12.0, 0.0, 0.0, 12.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0,
        ]);
        let s = skp(
            vec![uneven, ind("rate", Accumulation::Level, 90.0)],
            &[("03", "docs", 10.0)],
        );
        let q1 = s.indicators_for(Period::parse("2026-Q1").unwrap());
        assert_eq!((q1[0].target, q1[0].realization), (12.0, Some(10.0)));
        // Nothing planned in January or the third quarter: the indicator is not in the case.
        for p in ["2026-01", "2026-Q3"] {
            let ids: Vec<String> = s
                .indicators_for(Period::parse(p).unwrap())
                .into_iter()
                .map(|i| i.id)
                .collect();
            assert_eq!(ids, ["rate"], "{p}");
        }
    }

    /// A case counts the evidence of its period's months and of the whole year.
    #[test]
    fn evidence_counts_by_period() {
        let mut s = skp(
            vec![ind("docs", Accumulation::Sum, 24.0)],
            &[("03", "docs", 2.0)],
        );
        let e = |month: Option<&str>| Evidence {
            url: Some("https://x.id/a".into()),
            sha256: None,
            content_type: None,
            size: None,
            name: None,
            month: month.map(str::to_string),
            added_by: "t".into(),
            added_at: String::new(),
        };
        s.evidence
            .insert("docs".into(), vec![e(Some("03")), e(Some("07")), e(None)]);
        let count = |s: &Skp, p: &str| s.indicators_for(Period::parse(p).unwrap())[0].evidence;
        assert_eq!(count(&s, "2026-03"), Some(2));
        assert_eq!(count(&s, "2026-Q1"), Some(2));
        assert_eq!(count(&s, "2026"), Some(3));
        s.evidence.clear();
        assert_eq!(count(&s, "2026"), None);
        assert_eq!(evidence_type(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(evidence_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(evidence_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(evidence_type(b"<html>"), None);
    }

    #[test]
    fn every_illegal_transition_names_the_state() {
        use SkpAction::*;
        use SkpState::*;
        for from in [Draft, Submitted, Approved, Returned, Locked] {
            for action in [Submit, Approve, Return, Reopen] {
                let legal = matches!(
                    (action, from),
                    (Submit, Draft | Returned)
                        | (Approve | Return, Submitted)
                        | (Reopen, Approved | Locked)
                );
                match action.next(from) {
                    Ok(_) => assert!(legal, "{action:?} from {from:?}"),
                    Err(e) => {
                        assert!(!legal, "{action:?} from {from:?}");
                        assert!(e.contains(from.as_str()), "{e}");
                    }
                }
            }
        }
    }

    #[test]
    fn a_plan_names_what_is_wrong() {
        let mut bad = skp(vec![ind("a", Accumulation::Sum, 12.0)], &[]).plan;
        bad.rhk[0]
            .indicators
            .push(ind("a", Accumulation::Level, 1.0));
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("rhk[0].indicators[1].id"), "{e}");
        let mut bad = skp(vec![ind("a", Accumulation::Level, 12.0)], &[]).plan;
        bad.rhk[0].indicators[0].monthly_targets = Some(vec![1.0; 12]);
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("monthly_targets"), "{e}");
        let mut bad = skp(vec![ind("a", Accumulation::Sum, 24.0)], &[]).plan;
        bad.rhk[0].indicators[0].monthly_targets = Some(vec![1.0; 12]);
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("sum to the year's target 24"), "{e}");
        bad.rhk[0].indicators[0].monthly_targets = Some(vec![2.0; 12]);
        assert!(bad.validate().is_ok());
        for bad in ["13", "3", "+3", "00", "1a"] {
            assert!(month_start(2026, bad).is_err(), "{bad}");
        }
    }
}

//! The ASN records as clients send them and as the store keeps them, with their validation.
//! Validation lives next to the types so that every entry point (HTTP, demo, import) applies the
//! same rules, and each error names the field a client must fix.

use super::date::Date;
use super::nip::Nip;
use super::period::Period;
use super::reporting::ReportState;
use super::{check, FieldError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgencyInput {
    /// Display name, e.g. "Dinas Pendidikan".
    #[schema(min_length = 1, max_length = 500)]
    pub name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Agency {
    pub region: String,
    pub id: String,
    pub name: String,
    pub updated_at: String,
}

/// The nine-box potential axis and an indicator's kind and direction mean the same to a client
/// and to a plugin: the ABI's own types.
pub use kinerja_abi::{Direction, IndicatorKind, Potential};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PositionKind {
    Struktural,
    Fungsional,
    Pelaksana,
}

impl PositionKind {
    /// The spelling clients and plugins use.
    pub fn as_str(self) -> &'static str {
        match self {
            PositionKind::Struktural => "struktural",
            PositionKind::Fungsional => "fungsional",
            PositionKind::Pelaksana => "pelaksana",
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionInput {
    #[schema(min_length = 1, max_length = 500)]
    pub title: String,
    /// The agency that owns the position; it must exist in the region.
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    pub agency: String,
    pub kind: PositionKind,
    /// Seniority, higher is more senior (1–20).
    #[schema(minimum = 1, maximum = 20)]
    pub level: u8,
    /// Competence standard: competency name → required level 1–5.
    #[serde(default)]
    pub required: BTreeMap<String, u8>,
    /// How many employees may hold the position at once. A position with `tasks` takes its
    /// vacancies from the workload instead (see `PositionView::workload`).
    #[schema(maximum = 100000)]
    pub capacity: u32,
    /// The position's tasks for the workload analysis (analisis beban kerja, PermenPANRB
    /// 1/2020); empty when none was done.
    #[serde(default)]
    #[schema(max_items = 200)]
    pub tasks: Vec<Task>,
    /// The position this one reports to, in the same region: its holder is the supervisor
    /// (atasan langsung) of this position's holders. Absent at the top of the chart.
    #[serde(default)]
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    pub parent: Option<String>,
}

/// One task of a position's workload analysis: how many units of output a year and how long
/// one unit takes (the "norma waktu").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Task {
    /// What is done, e.g. "Memverifikasi berkas permohonan".
    #[schema(min_length = 1, max_length = 500)]
    pub task: String,
    /// The unit of output, e.g. "berkas".
    #[schema(min_length = 1, max_length = 64)]
    pub unit: String,
    /// Units a year (the "beban kerja"), at least 0 and at most 10000000.
    #[schema(minimum = 0, maximum = 10000000)]
    pub volume: f64,
    /// Minutes one unit takes (the "norma waktu"), greater than 0 and at most 75000 (one
    /// person's effective working year).
    #[schema(exclusive_minimum = 0, maximum = 75000)]
    pub minutes: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Position {
    pub region: String,
    pub id: String,
    pub title: String,
    pub agency: String,
    pub kind: PositionKind,
    pub level: u8,
    pub required: BTreeMap<String, u8>,
    pub capacity: u32,
    /// The tasks of the workload analysis; empty when there is none (as for positions stored
    /// before tasks existed).
    #[serde(default)]
    pub tasks: Vec<Task>,
    /// The position this one reports to; null at the top of the chart (and for positions
    /// stored before the chart existed).
    #[serde(default)]
    pub parent: Option<String>,
    pub updated_at: String,
}

/// Effective working hours of one employee a year (jam kerja efektif, PermenPANRB 1/2020).
pub const EFFECTIVE_HOURS_PER_YEAR: u32 = 1250;
/// The same in minutes: the divisor of the workload.
pub const EFFECTIVE_MINUTES_PER_YEAR: f64 = EFFECTIVE_HOURS_PER_YEAR as f64 * 60.0;
/// The most staff a workload may call for, as for `capacity`.
pub const MAX_NEEDED: u32 = 100_000;

/// A position's workload analysis: needed staff = Σ(volume × minutes) / (1,250 h × 60).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, ToSchema)]
pub struct Workload {
    /// Σ(volume × minutes) over the tasks: minutes of work a year.
    pub minutes: f64,
    /// One employee's effective working minutes a year (1,250 h × 60 = 75,000).
    pub effective_minutes: f64,
    /// Needed staff, `minutes / effective_minutes` rounded to two decimals.
    pub needed: f64,
    /// `needed` rounded up: the staff the position calls for.
    pub needed_staff: u32,
    /// Current holders.
    pub held: u32,
    /// `needed_staff − held`: positive is a shortage, negative a surplus.
    pub gap: i64,
}

impl Workload {
    /// The workload of `tasks` with `held` current holders; `None` when there are no tasks.
    /// The needed staff is kept in hundredths as an integer, so "rounded up" is the ceiling of
    /// the two-decimal figure shown (2.001 shows and counts as 2.00 → 2, never 3).
    pub fn of(tasks: &[Task], held: u32) -> Option<Workload> {
        if tasks.is_empty() {
            return None;
        }
        let minutes: f64 = tasks.iter().map(|t| t.volume * t.minutes).sum();
        let hundredths = (minutes * 100.0 / EFFECTIVE_MINUTES_PER_YEAR).round() as u64;
        let needed_staff = hundredths.div_ceil(100).min(u64::from(u32::MAX)) as u32;
        Some(Workload {
            minutes,
            effective_minutes: EFFECTIVE_MINUTES_PER_YEAR,
            needed: hundredths as f64 / 100.0,
            needed_staff,
            held,
            gap: i64::from(needed_staff) - i64::from(held),
        })
    }

    /// The seats a rotation may fill: `max(ceil(needed) − holders, 0)`.
    pub fn vacancies(&self) -> u32 {
        self.gap.max(0) as u32
    }
}

/// A position as read back: with who holds it now, how many seats are free and, when it has
/// tasks, its workload.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PositionView {
    #[serde(flatten)]
    pub position: Position,
    pub holders: Vec<String>,
    /// Seats a rotation may fill: with a workload `max(needed_staff − holders, 0)`, else
    /// `capacity − holders` (never below 0).
    pub vacancies: u32,
    /// The workload analysis, null when the position has no tasks.
    pub workload: Option<Workload>,
}

impl PositionView {
    pub fn new(position: Position, holders: Vec<String>) -> PositionView {
        let held = holders.len() as u32;
        let workload = Workload::of(&position.tasks, held);
        let vacancies = match &workload {
            Some(w) => w.vacancies(),
            None => position.capacity.saturating_sub(held),
        };
        PositionView {
            position,
            holders,
            vacancies,
            workload,
        }
    }
}

/// Where a formasi row's needed staff comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FormasiBasis {
    /// The position's workload analysis (its tasks).
    Workload,
    /// No tasks: the position's capacity stands in for the need.
    Capacity,
}

/// One position of an agency's formasi.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FormasiRow {
    pub position_id: String,
    pub title: String,
    pub kind: PositionKind,
    pub level: u8,
    pub basis: FormasiBasis,
    /// Minutes of work a year (Σ volume × minutes); null without tasks.
    pub workload_minutes: Option<f64>,
    /// Needed staff to two decimals; null without tasks.
    pub needed_exact: Option<f64>,
    /// Needed staff: the workload's rounded up, or the capacity.
    pub needed: u32,
    pub held: u32,
    /// `needed − held`: positive is a shortage, negative a surplus.
    pub gap: i64,
}

#[derive(Debug, Clone, Copy, Default, Serialize, ToSchema)]
pub struct FormasiTotals {
    pub needed: u64,
    pub held: u64,
    /// `needed − held` over the agency.
    pub gap: i64,
    /// Σ of the positive gaps: seats to fill.
    pub shortage: u64,
    /// Σ of the negative gaps, as a positive number: staff above the need.
    pub surplus: u64,
    /// Positions whose need comes from a workload analysis.
    pub positions_with_workload: u32,
    pub positions: u32,
}

/// An agency's formasi: per position needed, held and gap, and the totals.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Formasi {
    pub region: String,
    pub agency: String,
    /// One employee's effective working minutes a year (1,250 h × 60).
    pub effective_minutes: f64,
    pub positions: Vec<FormasiRow>,
    pub totals: FormasiTotals,
}

impl Formasi {
    pub fn new(region: &str, agency: &str, views: &[PositionView]) -> Formasi {
        let mut totals = FormasiTotals::default();
        let positions: Vec<FormasiRow> = views
            .iter()
            .map(|v| {
                let held = v.holders.len() as u32;
                let p = &v.position;
                let row = match &v.workload {
                    Some(w) => FormasiRow {
                        position_id: p.id.clone(),
                        title: p.title.clone(),
                        kind: p.kind,
                        level: p.level,
                        basis: FormasiBasis::Workload,
                        workload_minutes: Some(w.minutes),
                        needed_exact: Some(w.needed),
                        needed: w.needed_staff,
                        held,
                        gap: w.gap,
                    },
                    None => FormasiRow {
                        position_id: p.id.clone(),
                        title: p.title.clone(),
                        kind: p.kind,
                        level: p.level,
                        basis: FormasiBasis::Capacity,
                        workload_minutes: None,
                        needed_exact: None,
                        needed: p.capacity,
                        held,
                        gap: i64::from(p.capacity) - i64::from(held),
                    },
                };
                totals.positions += 1;
                totals.positions_with_workload += u32::from(row.basis == FormasiBasis::Workload);
                totals.needed += u64::from(row.needed);
                totals.held += u64::from(row.held);
                totals.gap += row.gap;
                if row.gap > 0 {
                    totals.shortage += row.gap as u64;
                } else {
                    totals.surplus += row.gap.unsigned_abs();
                }
                row
            })
            .collect();
        Formasi {
            region: region.into(),
            agency: agency.into(),
            effective_minutes: EFFECTIVE_MINUTES_PER_YEAR,
            positions,
            totals,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmployeeInput {
    #[schema(min_length = 1, max_length = 500)]
    pub name: String,
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    pub agency: String,
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    pub position_id: String,
    /// First day in the current position; tenure is counted from it.
    pub position_since: Date,
    /// Competency name → level 1–5.
    #[serde(default)]
    pub competencies: BTreeMap<String, u8>,
    #[serde(default)]
    pub potential: Option<Potential>,
    #[serde(default)]
    pub declined_rotation: bool,
    /// An acting supervisor (Plt) in place of the holder of the position above: a NIP of the
    /// same region.
    #[serde(default)]
    pub supervisor_nip: Option<String>,
    /// The service unit (unit layanan) whose public satisfaction survey the employee's
    /// appraisal carries, e.g. a puskesmas of the agency; absent: the agency-wide survey.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    pub service_unit: Option<String>,
}

/// A position the employee held before the current one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PositionSpell {
    pub position_id: String,
    pub agency: String,
    pub from: Date,
    pub until: Date,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Employee {
    pub region: String,
    pub nip: String,
    pub name: String,
    pub agency: String,
    pub position_id: String,
    pub position_since: Date,
    pub competencies: BTreeMap<String, u8>,
    pub potential: Option<Potential>,
    pub declined_rotation: bool,
    /// Earlier positions, oldest first.
    pub history: Vec<PositionSpell>,
    /// The acting supervisor (Plt) the record names, if any; otherwise the supervisor is the
    /// holder of the position above (see `domain::org`).
    #[serde(default)]
    pub supervisor_nip: Option<String>,
    /// See [`EmployeeInput::service_unit`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_unit: Option<String>,
    pub updated_at: String,
}

fn one() -> f64 {
    1.0
}

/// An indikator kinerja individu (IKI) of the SKP.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Indicator {
    #[schema(pattern = "^[A-Za-z0-9._-]{1,64}$")]
    pub id: String,
    #[schema(min_length = 1, max_length = 500)]
    pub name: String,
    pub kind: IndicatorKind,
    pub direction: Direction,
    #[schema(min_length = 1, max_length = 64)]
    pub unit: String,
    /// Greater than 0.
    #[schema(exclusive_minimum = 0)]
    pub target: f64,
    /// At least 0; null while not yet reported.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub realization: Option<f64>,
    /// Greater than 0 and at most 1000000; defaults to 1.
    #[serde(default = "one")]
    #[schema(exclusive_minimum = 0, maximum = 1000000)]
    pub weight: f64,
    /// Set by the server from an SKP's evidence (bukti dukung) in the period; a period record
    /// may not set it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<u32>,
}

impl Indicator {
    /// The indicator's own fields, named under `prefix` (`indicators[2]`); the uniqueness of
    /// its id is its list's to check.
    pub fn validate(&self, prefix: &str) -> Result<(), FieldError> {
        let f = |name: &str| format!("{prefix}.{name}");
        super::validate_key(&f("id"), &self.id)?;
        text(&f("name"), &self.name, MAX_TEXT)?;
        text(&f("unit"), &self.unit, 64)?;
        finite(&f("target"), self.target)?;
        check(self.target > 0.0, &f("target"), "must be greater than 0")?;
        if let Some(r) = self.realization {
            check_realization(&f("realization"), r)?;
        }
        finite(&f("weight"), self.weight)?;
        check(self.weight > 0.0, &f("weight"), "must be greater than 0")?;
        check(
            self.weight <= MAX_WEIGHT,
            &f("weight"),
            format!("must be at most {MAX_WEIGHT}"),
        )?;
        check(
            self.evidence.is_none(),
            &f("evidence"),
            "is counted by the server from the SKP's evidence; leave it out",
        )
    }
}

/// A realization: finite and at least 0.
pub fn check_realization(field: &str, r: f64) -> Result<(), FieldError> {
    finite(field, r)?;
    check(
        r >= 0.0,
        field,
        "must be at least 0 (or null when not reported)",
    )
}

/// One rater's BerAKHLAK ratings, 1–5 on each of the seven core values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Ratings {
    #[schema(minimum = 1, maximum = 5)]
    pub berorientasi_pelayanan: u8,
    #[schema(minimum = 1, maximum = 5)]
    pub akuntabel: u8,
    #[schema(minimum = 1, maximum = 5)]
    pub kompeten: u8,
    #[schema(minimum = 1, maximum = 5)]
    pub harmonis: u8,
    #[schema(minimum = 1, maximum = 5)]
    pub loyal: u8,
    #[schema(minimum = 1, maximum = 5)]
    pub adaptif: u8,
    #[schema(minimum = 1, maximum = 5)]
    pub kolaboratif: u8,
}

impl Ratings {
    pub fn values(&self) -> [(&'static str, u8); 7] {
        [
            ("berorientasi_pelayanan", self.berorientasi_pelayanan),
            ("akuntabel", self.akuntabel),
            ("kompeten", self.kompeten),
            ("harmonis", self.harmonis),
            ("loyal", self.loyal),
            ("adaptif", self.adaptif),
            ("kolaboratif", self.kolaboratif),
        ]
    }
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Behavior {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub supervisor: Option<Ratings>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schema(max_items = 50)]
    pub peers: Vec<Ratings>,
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_rating: Option<Ratings>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Innovation {
    #[schema(min_length = 1, max_length = 500)]
    pub title: String,
    pub date: Date,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// Greater than 0.
    #[schema(exclusive_minimum = 0)]
    pub planned: f64,
    /// At least 0.
    #[schema(minimum = 0)]
    pub realized: f64,
}

/// The public satisfaction survey (IKM, PermenPANRB 14/2017) of the employee's service unit.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicFeedback {
    /// 1–4.
    #[schema(minimum = 1, maximum = 4)]
    pub ikm: f64,
    pub respondents: u32,
}

/// The SKP of one employee for one period, with what the appraisal needs.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeriodInput {
    #[serde(default)]
    #[schema(max_items = 200)]
    pub indicators: Vec<Indicator>,
    #[serde(default)]
    pub behavior: Behavior,
    #[serde(default)]
    #[schema(max_items = 100)]
    pub innovations: Vec<Innovation>,
    /// Work-process ratings 0–100, e.g. `inovasi`, `keterlibatan_masyarakat`.
    #[serde(default)]
    pub process: BTreeMap<String, f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_feedback: Option<PublicFeedback>,
    /// Working days of the period when holidays are taken out; default Monday–Friday count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1)]
    pub working_days: Option<u32>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PeriodRecord {
    pub region: String,
    pub nip: String,
    pub period: String,
    pub start: Date,
    pub end: Date,
    #[serde(flatten)]
    #[schema(schema_with = period_fields)]
    pub data: PeriodInput,
    pub updated_at: String,
    /// The raters' own parts (`GET …/ratings` shows them as the caller may see them); kept
    /// when the agency rewrites the record.
    #[serde(skip)]
    pub raters: super::ratings::Raters,
}

/// The schema of [`PeriodInput`]'s fields inside a [`PeriodRecord`]. `deny_unknown_fields` makes
/// the input's schema `additionalProperties: false`, which is right for a request body but, once
/// flattened into the record's `allOf`, would forbid the record's own fields (`region`, `nip`, …)
/// and no stored record would match its documented schema. The field list stays the input's.
fn period_fields() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    use utoipa::openapi::{schema::Schema, RefOr};
    let mut schema = <PeriodInput as utoipa::PartialSchema>::schema();
    if let RefOr::T(Schema::Object(o)) = &mut schema {
        o.additional_properties = None;
    }
    schema
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActivityInput {
    pub date: Date,
    #[schema(min_length = 1, max_length = 4000)]
    pub description: String,
    /// 1–1440.
    #[schema(minimum = 1, maximum = 1440)]
    pub minutes: u32,
}

/// A daily activity report (laporan harian).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Activity {
    pub id: u64,
    pub date: Date,
    pub description: String,
    pub minutes: u32,
    pub created_at: String,
    /// Only approved reports count into `days_reported`.
    #[serde(default = "ReportState::stored_before_states")]
    pub state: ReportState,
    /// When it was last corrected, while pending.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at: Option<String>,
    /// Who approved or rejected it (a token id, or `auto` for the region's auto-approval),
    /// when, and the supervisor's note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

const MAX_TEXT: usize = 500;
/// The largest indicator weight. Plugins sum `weight × score` over the indicators; a finite but
/// huge weight (1e308) overflows that sum to infinity or NaN, and every region plugin then
/// refuses the whole appraisal request (422) because of one record. Real SKP weights are small.
const MAX_WEIGHT: f64 = 1e6;
const MAX_DESCRIPTION: usize = 4000;
/// Tasks of one position's workload analysis.
pub const MAX_TASKS: usize = 200;
/// Units of one task a year; ten million is beyond any office's year, so more is a typo.
const MAX_VOLUME: f64 = 1e7;

/// One-line text: a name, a title, a unit.
fn text(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    text_of(field, value, max, false)
}

pub(crate) fn text_of(
    field: &str,
    value: &str,
    max: usize,
    multiline: bool,
) -> Result<(), FieldError> {
    check(!value.trim().is_empty(), field, "must not be empty")?;
    check(
        value.chars().count() <= max,
        field,
        format!("must be at most {max} characters"),
    )?;
    super::plain_text(field, value, multiline)
}

fn competency_map(field: &str, map: &BTreeMap<String, u8>) -> Result<(), FieldError> {
    check(map.len() <= 64, field, "at most 64 competencies")?;
    for (name, level) in map {
        super::validate_key(&format!("{field}.{name}"), name)?;
        check(
            (1..=5).contains(level),
            &format!("{field}.{name}"),
            "level must be 1–5",
        )?;
    }
    Ok(())
}

impl AgencyInput {
    pub fn validate(&self) -> Result<(), FieldError> {
        text("name", &self.name, MAX_TEXT)
    }
}

impl PositionInput {
    pub fn validate(&self) -> Result<(), FieldError> {
        text("title", &self.title, MAX_TEXT)?;
        super::validate_id("agency", &self.agency)?;
        check((1..=20).contains(&self.level), "level", "must be 1–20")?;
        check(
            self.capacity <= 100_000,
            "capacity",
            "must be at most 100000",
        )?;
        competency_map("required", &self.required)?;
        if let Some(p) = &self.parent {
            super::validate_id("parent", p)?;
        }
        check(
            self.tasks.len() <= MAX_TASKS,
            "tasks",
            format!("at most {MAX_TASKS} tasks"),
        )?;
        for (i, t) in self.tasks.iter().enumerate() {
            let f = |name: &str| format!("tasks[{i}].{name}");
            text(&f("task"), &t.task, MAX_TEXT)?;
            text(&f("unit"), &t.unit, 64)?;
            finite(&f("volume"), t.volume)?;
            check(
                (0.0..=MAX_VOLUME).contains(&t.volume),
                &f("volume"),
                format!("must be 0–{MAX_VOLUME} units a year"),
            )?;
            finite(&f("minutes"), t.minutes)?;
            check(t.minutes > 0.0, &f("minutes"), "must be greater than 0")?;
            check(
                t.minutes <= EFFECTIVE_MINUTES_PER_YEAR,
                &f("minutes"),
                format!(
                    "must be at most {EFFECTIVE_MINUTES_PER_YEAR} (one employee's effective working year)"
                ),
            )?;
        }
        if let Some(w) = Workload::of(&self.tasks, 0) {
            check(
                w.needed_staff <= MAX_NEEDED,
                "tasks",
                format!(
                    "the workload calls for {} staff; at most {MAX_NEEDED}",
                    w.needed
                ),
            )?;
        }
        Ok(())
    }
}

impl EmployeeInput {
    /// `nip` is the employee's: its birth date and its appointment month (digits 9–14) are the
    /// earliest `position_since` can be. The
    /// latest is tomorrow (UTC): today in Indonesia (UTC+7 to +9) can be tomorrow in UTC terms
    /// for a clerk working before 09:00, and a future start date is a typo, not a plan.
    pub fn validate(&self, nip: &Nip) -> Result<(), FieldError> {
        text("name", &self.name, MAX_TEXT)?;
        super::validate_id("agency", &self.agency)?;
        super::validate_id("position_id", &self.position_id)?;
        if let Some(birth) = nip.birth_date() {
            check(
                self.position_since >= birth,
                "position_since",
                format!(
                    "{} is before the employee's birth date {birth} (from the NIP)",
                    self.position_since
                ),
            )?;
        }
        // No position can be held before the appointment as ASN (NIP digits 9–14, YYYYMM;
        // the first of that month, as the NIP carries no day).
        if let Some(appointed) = nip.appointment_start() {
            check(
                self.position_since >= appointed,
                "position_since",
                format!(
                    "{} is before the appointment month {}-{:02} (NIP digits 9–14)",
                    self.position_since, appointed.year, appointed.month
                ),
            )?;
        }
        let latest = Date::from_days(super::date::today().to_days() + 1);
        check(
            self.position_since <= latest,
            "position_since",
            format!("{} is in the future", self.position_since),
        )?;
        if let Some(s) = &self.supervisor_nip {
            Nip::parse(s).map_err(|m| FieldError::new("supervisor_nip", m))?;
            check(
                s != nip.as_str(),
                "supervisor_nip",
                "an employee cannot be their own supervisor",
            )?;
        }
        if let Some(u) = &self.service_unit {
            super::validate_id("service_unit", u)?;
        }
        competency_map("competencies", &self.competencies)
    }

    /// The stored employee this (validated) input describes, with the earlier positions the
    /// store keeps for it. The name is stored trimmed.
    pub fn into_employee(
        self,
        region: &str,
        nip: &str,
        history: Vec<PositionSpell>,
        updated_at: String,
    ) -> Employee {
        Employee {
            region: region.into(),
            nip: nip.into(),
            name: self.name.trim().into(),
            agency: self.agency,
            position_id: self.position_id,
            position_since: self.position_since,
            competencies: self.competencies,
            potential: self.potential,
            declined_rotation: self.declined_rotation,
            history,
            supervisor_nip: self.supervisor_nip,
            service_unit: self.service_unit,
            updated_at,
        }
    }
}

pub fn validate_ratings(field: &str, r: &Ratings) -> Result<(), FieldError> {
    for (name, v) in r.values() {
        check(
            (1..=5).contains(&v),
            &format!("{field}.{name}"),
            "rating must be an integer 1–5",
        )?;
    }
    Ok(())
}

fn finite(field: &str, v: f64) -> Result<(), FieldError> {
    check(v.is_finite(), field, "must be a finite number")
}

impl PeriodInput {
    /// `period` is the record's: its days are the ceiling for `working_days`, and its first and
    /// last day bound the innovations' dates (an innovation of another period would count twice).
    pub fn validate(&self, period: Period) -> Result<(), FieldError> {
        let days = period.days();
        check(
            self.indicators.len() <= 200,
            "indicators",
            "at most 200 indicators",
        )?;
        let mut seen = std::collections::BTreeSet::new();
        for (i, ind) in self.indicators.iter().enumerate() {
            let prefix = format!("indicators[{i}]");
            ind.validate(&prefix)?;
            check(
                seen.insert(ind.id.as_str()),
                &format!("{prefix}.id"),
                format!("duplicate indicator id `{}`", ind.id),
            )?;
        }
        if let Some(s) = &self.behavior.supervisor {
            validate_ratings("behavior.supervisor", s)?;
        }
        check(
            self.behavior.peers.len() <= 50,
            "behavior.peers",
            "at most 50 peers",
        )?;
        for (i, p) in self.behavior.peers.iter().enumerate() {
            validate_ratings(&format!("behavior.peers[{i}]"), p)?;
        }
        if let Some(s) = &self.behavior.self_rating {
            validate_ratings("behavior.self", s)?;
        }
        check(
            self.innovations.len() <= 100,
            "innovations",
            "at most 100 innovations",
        )?;
        let (start, end) = (period.start(), period.end());
        for (i, inn) in self.innovations.iter().enumerate() {
            text(&format!("innovations[{i}].title"), &inn.title, MAX_TEXT)?;
            check(
                (start..=end).contains(&inn.date),
                &format!("innovations[{i}].date"),
                format!("{} is outside the period ({start} to {end})", inn.date),
            )?;
        }
        check(
            self.process.len() <= 20,
            "process",
            "at most 20 process ratings",
        )?;
        for (name, v) in &self.process {
            let f = format!("process.{name}");
            super::validate_key(&f, name)?;
            finite(&f, *v)?;
            check((0.0..=100.0).contains(v), &f, "must be 0–100")?;
        }
        if let Some(b) = &self.budget {
            finite("budget.planned", b.planned)?;
            check(b.planned > 0.0, "budget.planned", "must be greater than 0")?;
            finite("budget.realized", b.realized)?;
            check(b.realized >= 0.0, "budget.realized", "must be at least 0")?;
        }
        if let Some(p) = &self.public_feedback {
            finite("public_feedback.ikm", p.ikm)?;
            check(
                (1.0..=4.0).contains(&p.ikm),
                "public_feedback.ikm",
                "must be 1–4",
            )?;
        }
        if let Some(w) = self.working_days {
            check(
                (1..=days).contains(&w),
                "working_days",
                format!("must be 1–{days} (the days of the period)"),
            )?;
        }
        Ok(())
    }
}

impl PeriodInput {
    /// The year's record as it stands for a month or quarter of it that has none of its own
    /// (an SKP's period): its ratings, process and public feedback; not the year's working
    /// days, budget, nor the innovations dated outside `period`.
    pub fn for_part_of_year(mut self, period: Period) -> PeriodInput {
        let (start, end) = (period.start(), period.end());
        self.working_days = None;
        self.budget = None;
        self.innovations.retain(|i| (start..=end).contains(&i.date));
        self
    }
}

impl ActivityInput {
    /// Checks the report's own fields, named under `field` (`[3]`; empty for a lone report).
    pub fn validate(&self, field: &str) -> Result<(), FieldError> {
        let name = |f: &str| match field {
            "" => f.to_string(),
            p => format!("{p}.{f}"),
        };
        text_of(
            &name("description"),
            &self.description,
            MAX_DESCRIPTION,
            true,
        )?;
        // The date's rules are the region's (domain::reporting), checked where they are known.
        check(
            (1..=1440).contains(&self.minutes),
            &name("minutes"),
            "must be 1–1440",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(volume: f64, minutes: f64) -> Task {
        Task {
            task: "Melayani permohonan".into(),
            unit: "permohonan".into(),
            volume,
            minutes,
        }
    }

    fn position(tasks: Vec<Task>) -> PositionInput {
        PositionInput {
            title: "Pengelola Layanan".into(),
            agency: "disdik".into(),
            kind: PositionKind::Pelaksana,
            level: 2,
            required: BTreeMap::new(),
            capacity: 5,
            tasks,
            parent: None,
        }
    }

    /// The worked example of docs/domain-rules.md.
    #[test]
    fn workload_worked_example() {
        let tasks = vec![
            task(24_000.0, 30.0),
            task(18_000.0, 20.0),
            task(12.0, 480.0),
        ];
        let w = Workload::of(&tasks, 12).unwrap();
        assert_eq!(w.minutes, 1_085_760.0);
        assert_eq!(w.needed, 14.48);
        assert_eq!((w.needed_staff, w.held, w.gap), (15, 12, 3));
        assert_eq!(w.vacancies(), 3);
        let over = Workload::of(&tasks, 17).unwrap();
        assert_eq!((over.gap, over.vacancies()), (-2, 0));
        assert!(Workload::of(&[], 3).is_none());
    }

    #[test]
    fn rounding_up_is_of_the_two_decimals_shown() {
        // 2.001 staff shows as 2.00 and calls for 2, not 3; 2.005 shows as 2.01 and calls for 3.
        let exact = |minutes: f64| Workload::of(&[task(1.0, minutes)], 0).unwrap();
        let w = exact(75_000.0);
        assert_eq!((w.needed, w.needed_staff), (1.0, 1));
        let w = exact(150_075.0);
        assert_eq!((w.needed, w.needed_staff), (2.0, 2));
        let w = exact(150_375.0);
        assert_eq!((w.needed, w.needed_staff), (2.01, 3));
        let w = Workload::of(&[task(0.0, 30.0)], 1).unwrap();
        assert_eq!((w.needed, w.needed_staff, w.gap), (0.0, 0, -1));
    }

    #[test]
    fn view_vacancies_follow_the_workload_when_there_is_one() {
        let p = |tasks: Vec<Task>| Position {
            region: "jambi".into(),
            id: "p".into(),
            title: "t".into(),
            agency: "a".into(),
            kind: PositionKind::Pelaksana,
            level: 1,
            required: BTreeMap::new(),
            capacity: 2,
            tasks,
            parent: None,
            updated_at: String::new(),
        };
        let holders = vec!["a".to_string(), "b".to_string()];
        let v = PositionView::new(p(vec![]), holders.clone());
        assert_eq!((v.vacancies, v.workload.is_none()), (0, true));
        // 3.2 staff needed → 4, two held → 2 seats although the capacity is full.
        let v = PositionView::new(p(vec![task(3.2, 75_000.0)]), holders.clone());
        assert_eq!(v.vacancies, 2);
        // 0.5 staff needed → 1, two held → none.
        let v = PositionView::new(p(vec![task(0.5, 75_000.0)]), holders);
        assert_eq!(v.vacancies, 0);
    }

    #[test]
    fn task_validation_names_the_field() {
        assert!(position(vec![task(24_000.0, 30.0)]).validate().is_ok());
        let field = |tasks: Vec<Task>| position(tasks).validate().unwrap_err().field;
        let mut t = task(1.0, 1.0);
        t.task = " ".into();
        assert_eq!(field(vec![task(1.0, 1.0), t.clone()]), "tasks[1].task");
        t.task = "a\u{0}".into();
        assert_eq!(field(vec![t]), "tasks[0].task");
        let mut t = task(1.0, 1.0);
        t.unit = "x".repeat(65);
        assert_eq!(field(vec![t]), "tasks[0].unit");
        for (v, m, f) in [
            (-1.0, 1.0, "tasks[0].volume"),
            (f64::NAN, 1.0, "tasks[0].volume"),
            (1e8, 1.0, "tasks[0].volume"),
            (1.0, 0.0, "tasks[0].minutes"),
            (1.0, -5.0, "tasks[0].minutes"),
            (1.0, f64::INFINITY, "tasks[0].minutes"),
            (1.0, 75_001.0, "tasks[0].minutes"),
            (1e7, 75_000.0, "tasks"),
        ] {
            assert_eq!(field(vec![task(v, m)]), f, "{v} × {m}");
        }
        assert_eq!(field(vec![task(1.0, 1.0); MAX_TASKS + 1]), "tasks");
        assert!(position(vec![task(1.0, 1.0); MAX_TASKS]).validate().is_ok());
    }

    #[test]
    fn position_since_not_before_the_appointment_month() {
        let nip = Nip::parse("198503122010111001").unwrap();
        let emp = |since: &str| EmployeeInput {
            name: "Siti".into(),
            agency: "disdik".into(),
            position_id: "disdik-staf".into(),
            position_since: since.parse().unwrap(),
            competencies: BTreeMap::new(),
            potential: None,
            declined_rotation: false,
            supervisor_nip: None,
            service_unit: None,
        };
        assert!(emp("2010-11-01").validate(&nip).is_ok());
        let e = emp("2010-10-31").validate(&nip).unwrap_err();
        assert_eq!(e.field, "position_since");
        assert!(e.message.contains("2010-11"), "{}", e.message);
    }
}

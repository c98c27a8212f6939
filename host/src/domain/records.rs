//! The ASN records as clients send them and as the store keeps them, with their validation.
//! Validation lives next to the types so that every entry point (HTTP, demo, import) applies the
//! same rules, and each error names the field a client must fix.

use super::date::Date;
use super::nip::Nip;
use super::period::Period;
use super::{check, FieldError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// The three regions Kinerja serves; they exist from the first start.
pub const REGIONS: [(&str, &str); 3] = [
    ("jambi", "Provinsi Jambi"),
    ("jakarta", "Provinsi DKI Jakarta"),
    ("tenayan-raya", "Kecamatan Tenayan Raya, Kota Pekanbaru"),
];

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Region {
    pub id: String,
    pub name: String,
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PositionKind {
    Struktural,
    Fungsional,
    Pelaksana,
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
    /// How many employees may hold the position at once.
    #[schema(maximum = 100000)]
    pub capacity: u32,
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
    pub updated_at: String,
}

/// A position as read back: with who holds it now and how many seats are free.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PositionView {
    #[serde(flatten)]
    pub position: Position,
    pub holders: Vec<String>,
    pub vacancies: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Potential {
    Tinggi,
    Menengah,
    Rendah,
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
    pub updated_at: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    Utama,
    Tambahan,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
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
}

const MAX_TEXT: usize = 500;
/// The largest indicator weight. Plugins sum `weight × score` over the indicators; a finite but
/// huge weight (1e308) overflows that sum to infinity or NaN, and every region plugin then
/// refuses the whole appraisal request (422) because of one record. Real SKP weights are small.
const MAX_WEIGHT: f64 = 1e6;
const MAX_DESCRIPTION: usize = 4000;

/// One-line text: a name, a title, a unit.
fn text(field: &str, value: &str, max: usize) -> Result<(), FieldError> {
    text_of(field, value, max, false)
}

fn text_of(field: &str, value: &str, max: usize, multiline: bool) -> Result<(), FieldError> {
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
        competency_map("required", &self.required)
    }
}

impl EmployeeInput {
    /// `nip` is the employee's: its birth date is the earliest `position_since` can be. The
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
        let latest = Date::from_days(Date::today().to_days() + 1);
        check(
            self.position_since <= latest,
            "position_since",
            format!("{} is in the future", self.position_since),
        )?;
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
            updated_at,
        }
    }
}

fn ratings(field: &str, r: &Ratings) -> Result<(), FieldError> {
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
            let f = |name: &str| format!("indicators[{i}].{name}");
            super::validate_key(&f("id"), &ind.id)?;
            check(
                seen.insert(ind.id.as_str()),
                &f("id"),
                format!("duplicate indicator id `{}`", ind.id),
            )?;
            text(&f("name"), &ind.name, MAX_TEXT)?;
            text(&f("unit"), &ind.unit, 64)?;
            finite(&f("target"), ind.target)?;
            check(ind.target > 0.0, &f("target"), "must be greater than 0")?;
            if let Some(r) = ind.realization {
                finite(&f("realization"), r)?;
                check(
                    r >= 0.0,
                    &f("realization"),
                    "must be at least 0 (or null when not reported)",
                )?;
            }
            finite(&f("weight"), ind.weight)?;
            check(ind.weight > 0.0, &f("weight"), "must be greater than 0")?;
            check(
                ind.weight <= MAX_WEIGHT,
                &f("weight"),
                format!("must be at most {MAX_WEIGHT}"),
            )?;
        }
        if let Some(s) = &self.behavior.supervisor {
            ratings("behavior.supervisor", s)?;
        }
        check(
            self.behavior.peers.len() <= 50,
            "behavior.peers",
            "at most 50 peers",
        )?;
        for (i, p) in self.behavior.peers.iter().enumerate() {
            ratings(&format!("behavior.peers[{i}]"), p)?;
        }
        if let Some(s) = &self.behavior.self_rating {
            ratings("behavior.self", s)?;
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

impl ActivityInput {
    pub fn validate(&self, field: &str) -> Result<(), FieldError> {
        text_of(
            &format!("{field}.description"),
            &self.description,
            MAX_DESCRIPTION,
            true,
        )?;
        check(
            (1..=1440).contains(&self.minutes),
            &format!("{field}.minutes"),
            "must be 1–1440",
        )?;
        check(
            self.date.year >= 2000 && self.date <= Date::from_days(Date::today().to_days() + 366),
            &format!("{field}.date"),
            "must be between 2000-01-01 and a year from today",
        )
    }
}

//! The ABI 1 documents (see `docs/plugin-contract.md`).
//!
//! Requests are parsed leniently: unknown fields are ignored because the host may add fields
//! in later minor revisions, and blocks the contract calls optional are `Option` so that an
//! absent block and `null` mean the same thing. Responses serialize exactly the contract's
//! field names and enum spellings. Every map is a `BTreeMap` so that serialization order is
//! deterministic (the host hashes and stores plugin output).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The ABI version this crate speaks; the runner refuses requests with another `abi`.
pub const ABI_VERSION: u32 = 1;

/// The hook a request is addressed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Hook {
    Appraise,
    Rotate,
}

impl Hook {
    /// Both hooks, in a fixed order.
    pub const ALL: [Hook; 2] = [Hook::Appraise, Hook::Rotate];

    /// The hook's name in the ABI: the module's export, the `argv[1]` of a command module and
    /// the request's `hook` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Appraise => "appraise",
            Hook::Rotate => "rotate",
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Hook {
    type Err = UnknownHook;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hook::ALL
            .into_iter()
            .find(|h| h.as_str() == s)
            .ok_or_else(|| UnknownHook(s.to_owned()))
    }
}

/// A hook name other than `appraise` or `rotate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownHook(pub String);

impl fmt::Display for UnknownHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown hook {:?}: expected \"appraise\" or \"rotate\"",
            self.0
        )
    }
}

impl std::error::Error for UnknownHook {}

/// Implemented by both hook requests so the runner can check the envelope generically.
pub trait HookRequest {
    /// The hook this request type belongs to.
    const HOOK: Hook;
    /// The `abi` the host sent.
    fn abi(&self) -> u32;
    /// The `hook` the host sent.
    fn hook(&self) -> Hook;
    /// A quicker reader for the document's usual shape, tried before serde_json. `None` means
    /// "let serde_json read it", never "invalid": serde_json decides and names the problem.
    #[doc(hidden)]
    fn parse_fast(_json: &str) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }
}

// ---------------------------------------------------------------------------------------------
// Shared vocabulary
// ---------------------------------------------------------------------------------------------

/// A rating on either axis of the appraisal (hasil kerja or perilaku kerja).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Rating {
    DiAtas,
    Sesuai,
    DiBawah,
}

impl Rating {
    /// All three, best first.
    pub const ALL: [Rating; 3] = [Rating::DiAtas, Rating::Sesuai, Rating::DiBawah];

    /// The contract's spelling, for explanations.
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::DiAtas => "di_atas",
            Rating::Sesuai => "sesuai",
            Rating::DiBawah => "di_bawah",
        }
    }
}

/// The predikat kinerja an appraisal ends in (PermenPANRB 6/2022).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Predikat {
    SangatBaik,
    Baik,
    ButuhPerbaikan,
    Kurang,
    SangatKurang,
}

impl Predikat {
    /// All five, best first.
    pub const ALL: [Predikat; 5] = [
        Predikat::SangatBaik,
        Predikat::Baik,
        Predikat::ButuhPerbaikan,
        Predikat::Kurang,
        Predikat::SangatKurang,
    ];

    /// The contract's spelling; also the key used in configs such as `tpp_percent`.
    pub fn as_str(self) -> &'static str {
        match self {
            Predikat::SangatBaik => "sangat_baik",
            Predikat::Baik => "baik",
            Predikat::ButuhPerbaikan => "butuh_perbaikan",
            Predikat::Kurang => "kurang",
            Predikat::SangatKurang => "sangat_kurang",
        }
    }

    /// `None` for any other text.
    pub fn parse(s: &str) -> Option<Predikat> {
        Predikat::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// butuh_perbaikan, kurang and sangat_kurang: the predikats that call for coaching.
    pub fn is_poor(self) -> bool {
        matches!(
            self,
            Predikat::ButuhPerbaikan | Predikat::Kurang | Predikat::SangatKurang
        )
    }
}

/// Potential axis of the nine-box.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Potential {
    Tinggi,
    Menengah,
    Rendah,
}

/// The seven BerAKHLAK core values, in the order the policies list them (which is also the
/// order training recommendations must follow).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum BerAkhlakValue {
    BerorientasiPelayanan,
    Akuntabel,
    Kompeten,
    Harmonis,
    Loyal,
    Adaptif,
    Kolaboratif,
}

impl BerAkhlakValue {
    /// The canonical order (SE MenPANRB 20/2021).
    pub const ALL: [BerAkhlakValue; 7] = [
        BerAkhlakValue::BerorientasiPelayanan,
        BerAkhlakValue::Akuntabel,
        BerAkhlakValue::Kompeten,
        BerAkhlakValue::Harmonis,
        BerAkhlakValue::Loyal,
        BerAkhlakValue::Adaptif,
        BerAkhlakValue::Kolaboratif,
    ];

    /// The key as spelled in requests, and the `subject` of a training recommendation.
    pub fn as_str(self) -> &'static str {
        match self {
            BerAkhlakValue::BerorientasiPelayanan => "berorientasi_pelayanan",
            BerAkhlakValue::Akuntabel => "akuntabel",
            BerAkhlakValue::Kompeten => "kompeten",
            BerAkhlakValue::Harmonis => "harmonis",
            BerAkhlakValue::Loyal => "loyal",
            BerAkhlakValue::Adaptif => "adaptif",
            BerAkhlakValue::Kolaboratif => "kolaboratif",
        }
    }
}

/// One rater's seven BerAKHLAK ratings (integers 1–5; [`BerAkhlak::validate`] checks the range,
/// the type only guarantees a small non-negative integer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BerAkhlak {
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 5)))]
    pub berorientasi_pelayanan: u8,
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 5)))]
    pub akuntabel: u8,
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 5)))]
    pub kompeten: u8,
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 5)))]
    pub harmonis: u8,
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 5)))]
    pub loyal: u8,
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 5)))]
    pub adaptif: u8,
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 5)))]
    pub kolaboratif: u8,
}

impl BerAkhlak {
    /// The same seven ratings for every value; handy in tests and examples.
    pub fn uniform(rating: u8) -> Self {
        BerAkhlak {
            berorientasi_pelayanan: rating,
            akuntabel: rating,
            kompeten: rating,
            harmonis: rating,
            loyal: rating,
            adaptif: rating,
            kolaboratif: rating,
        }
    }

    /// The rating given for one value.
    pub fn get(&self, value: BerAkhlakValue) -> u8 {
        match value {
            BerAkhlakValue::BerorientasiPelayanan => self.berorientasi_pelayanan,
            BerAkhlakValue::Akuntabel => self.akuntabel,
            BerAkhlakValue::Kompeten => self.kompeten,
            BerAkhlakValue::Harmonis => self.harmonis,
            BerAkhlakValue::Loyal => self.loyal,
            BerAkhlakValue::Adaptif => self.adaptif,
            BerAkhlakValue::Kolaboratif => self.kolaboratif,
        }
    }

    /// The seven (value, rating) pairs in the canonical BerAKHLAK order.
    pub fn iter(&self) -> impl Iterator<Item = (BerAkhlakValue, u8)> + '_ {
        BerAkhlakValue::ALL.into_iter().map(|v| (v, self.get(v)))
    }

    /// Checks every rating is within 1–5, naming the first one that is not.
    pub fn validate(&self) -> Result<(), String> {
        for (value, rating) in self.iter() {
            if !(1..=5).contains(&rating) {
                return Err(format!(
                    "{} is rated {rating}; ratings must be integers from 1 to 5",
                    value.as_str()
                ));
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------------
// appraise
// ---------------------------------------------------------------------------------------------

/// `appraise` request: the envelope plus one or more cases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AppraiseRequest {
    /// ABI version; 1.
    pub abi: u32,
    /// Always `appraise` for this document.
    pub hook: Hook,
    /// The region the plugin is active for, e.g. `jambi`.
    pub region: String,
    /// The activation config the region admin set (`{}` if none).
    #[serde(default)]
    pub config: Map<String, Value>,
    /// One case per employee; the response carries one result per case, same order.
    pub cases: Vec<Case>,
}

impl HookRequest for AppraiseRequest {
    const HOOK: Hook = Hook::Appraise;
    fn abi(&self) -> u32 {
        self.abi
    }
    fn hook(&self) -> Hook {
        self.hook
    }
    fn parse_fast(json: &str) -> Option<Self> {
        crate::fast_read::appraise_request(json)
    }
}

/// An `appraise` request as its writer sends it: the same document as [`AppraiseRequest`],
/// borrowing its parts, so a host can send cases it keeps (for the decisions and answers it
/// builds from the results) without copying them. The test below holds the two to one shape.
#[derive(Debug, Serialize)]
#[serde(bound(serialize = "C: AsRef<Case>"))]
pub struct AppraiseRequestRef<'a, C> {
    pub abi: u32,
    pub hook: Hook,
    pub region: &'a str,
    pub config: &'a Map<String, Value>,
    #[serde(serialize_with = "as_cases")]
    pub cases: &'a [C],
}

impl<'a, C: AsRef<Case>> AppraiseRequestRef<'a, C> {
    /// An ABI 1 `appraise` request for `region` with the activation's `config`.
    pub fn new(region: &'a str, config: &'a Map<String, Value>, cases: &'a [C]) -> Self {
        AppraiseRequestRef {
            abi: ABI_VERSION,
            hook: Hook::Appraise,
            region,
            config,
            cases,
        }
    }
}

fn as_cases<C: AsRef<Case>, S: serde::Serializer>(cases: &&[C], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(cases.iter().map(AsRef::as_ref))
}

impl AsRef<Case> for Case {
    fn as_ref(&self) -> &Case {
        self
    }
}

/// Everything the host knows about one employee for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Case {
    pub employee: Employee,
    pub period: Period,
    /// The SKP indicators (IKI); empty means C = 0.
    #[serde(default)]
    pub indicators: Vec<Indicator>,
    pub behavior: Behavior,
    /// Counted by the host and always sent; optional here only so that a policy that does not
    /// use it does not refuse a request that lacks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activities: Option<Activities>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub innovations: Option<Vec<Innovation>>,
    /// Work-process ratings 0–100 by aspect name (Jambi: `inovasi`, `keterlibatan_masyarakat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub process: Option<BTreeMap<String, f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget: Option<Budget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_feedback: Option<PublicFeedback>,
}

impl Case {
    /// The innovations, with absent, `null` and `[]` all meaning none.
    pub fn innovations(&self) -> &[Innovation] {
        self.innovations.as_deref().unwrap_or(&[])
    }

    /// The process ratings, or `None` when absent, `null` or `{}` (all mean absent).
    pub fn process(&self) -> Option<&BTreeMap<String, f64>> {
        self.process.as_ref().filter(|p| !p.is_empty())
    }
}

/// The appraised employee.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Employee {
    /// 18-digit employee number.
    pub nip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_id: Option<String>,
    /// YYYY-MM-DD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_since: Option<String>,
}

/// The appraisal period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Period {
    pub id: String,
    /// YYYY-MM-DD.
    pub start: String,
    /// YYYY-MM-DD.
    pub end: String,
    /// Monday–Friday dates in the period, less holidays the period record takes out; ≥ 1.
    #[cfg_attr(feature = "schema", schemars(range(min = 1)))]
    pub working_days: u32,
}

/// `utama` (main) or `tambahan` (additional) result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    Utama,
    Tambahan,
}

/// Whether a larger realization is better (output counts) or worse (e.g. service days).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    HigherIsBetter,
    LowerIsBetter,
}

/// One indikator kinerja individu.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Indicator {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub kind: IndicatorKind,
    pub direction: Direction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Must be > 0.
    pub target: f64,
    /// `null` while not yet reported; counts as capaian 0.
    #[serde(default)]
    pub realization: Option<f64>,
    /// Defaults to 1 when absent or `null`; use [`Indicator::weight`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// How many pieces of evidence (bukti dukung: documents, links) back the realization in
    /// the period; absent where the host keeps none (a period record entered centrally).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<u32>,
}

impl Indicator {
    /// The weight with the contract's default of 1 applied.
    pub fn weight(&self) -> f64 {
        self.weight.unwrap_or(1.0)
    }
}

/// The behaviour ratings: the supervisor's (required), peers' and the employee's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Behavior {
    pub supervisor: BerAkhlak,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peers: Option<Vec<BerAkhlak>>,
    #[serde(rename = "self", default, skip_serializing_if = "Option::is_none")]
    pub self_assessment: Option<BerAkhlak>,
}

impl Behavior {
    /// The peers' ratings, with absent, `null` and `[]` all meaning none.
    pub fn peers(&self) -> &[BerAkhlak] {
        self.peers.as_deref().unwrap_or(&[])
    }

    /// Checks every rater's ratings are within 1–5.
    pub fn validate(&self) -> Result<(), String> {
        self.supervisor
            .validate()
            .map_err(|e| format!("behavior.supervisor: {e}"))?;
        for (i, peer) in self.peers().iter().enumerate() {
            peer.validate()
                .map_err(|e| format!("behavior.peers[{i}]: {e}"))?;
        }
        if let Some(own) = &self.self_assessment {
            own.validate().map_err(|e| format!("behavior.self: {e}"))?;
        }
        Ok(())
    }
}

/// Daily activity reporting, counted by the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Activities {
    /// Distinct weekdays in the period whose approved reports reach the region's minimum
    /// minutes, capped at `working_days`.
    pub days_reported: u32,
    /// Minutes of the period's approved reports (hosts before reports were reviewed leave it
    /// out).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minutes_reported: Option<u64>,
}

/// A recorded innovation; only its presence matters to the current policies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Innovation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// YYYY-MM-DD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

/// Budget plan and absorption for the period (rupiah).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Budget {
    pub planned: f64,
    pub realized: f64,
}

/// Public satisfaction survey (IKM, PermenPANRB 14/2017) of the employee's service unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PublicFeedback {
    /// 1–4.
    pub ikm: f64,
    pub respondents: u64,
}

/// `appraise` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AppraiseResponse {
    /// Exactly one per case, in the order of the cases.
    pub results: Vec<AppraiseResult>,
}

/// The appraisal of one case.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct AppraiseResult {
    pub nip: String,
    pub hasil_kerja: Rating,
    pub perilaku_kerja: Rating,
    pub predikat: Predikat,
    /// Rounded to 2 decimals, half away from zero, from the 9-decimal value.
    pub score: f64,
    /// The intermediate values, unrounded, so a reader can retrace the result.
    pub components: Vec<Component>,
    pub recommendations: Vec<Recommendation>,
    /// How the predikat was reached, in plain words.
    pub explanation: String,
    /// Share of the regional allowance (TPP), when the policy computes one. Kept as a JSON number
    /// so a value copied from the config comes back exactly as the admin wrote it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpp_percent: Option<serde_json::Number>,
}

/// One intermediate value of an appraisal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Component {
    pub name: String,
    pub value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
}

impl Component {
    /// A component without a weight.
    pub fn new(name: impl Into<String>, value: f64) -> Self {
        Component {
            name: name.into(),
            value,
            weight: None,
        }
    }

    /// A component with the weight it carries in the formula it feeds.
    pub fn weighted(name: impl Into<String>, value: f64, weight: f64) -> Self {
        Component {
            name: name.into(),
            value,
            weight: Some(weight),
        }
    }
}

/// Kind of follow-up an appraisal recommends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum RecommendationKind {
    Reward,
    Coaching,
    Dialog,
    Training,
}

impl RecommendationKind {
    /// Every kind, in the contract's order.
    pub const ALL: [RecommendationKind; 4] = [
        RecommendationKind::Reward,
        RecommendationKind::Coaching,
        RecommendationKind::Dialog,
        RecommendationKind::Training,
    ];

    /// The contract's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            RecommendationKind::Reward => "reward",
            RecommendationKind::Coaching => "coaching",
            RecommendationKind::Dialog => "dialog",
            RecommendationKind::Training => "training",
        }
    }
}

/// A follow-up; `training` always has a `subject`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(
    feature = "schema",
    schemars(extend(
        "if" = {"properties": {"kind": {"const": "training"}}, "required": ["kind"]},
        "then" = {"required": ["subject"]}
    ))
)]
pub struct Recommendation {
    pub kind: RecommendationKind,
    /// What to train; present (a string, not `null`) on `training`, absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub subject: Option<String>,
}

impl Recommendation {
    /// A recommendation without a subject (`reward`, `coaching`, `dialog`).
    pub fn of(kind: RecommendationKind) -> Self {
        Recommendation {
            kind,
            subject: None,
        }
    }

    /// A `training` recommendation on `subject`.
    pub fn training(subject: impl Into<String>) -> Self {
        Recommendation {
            kind: RecommendationKind::Training,
            subject: Some(subject.into()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// rotate
// ---------------------------------------------------------------------------------------------

/// `rotate` request: the envelope plus the employees and positions in scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RotateRequest {
    /// ABI version; 1.
    pub abi: u32,
    /// Always `rotate` for this document.
    pub hook: Hook,
    pub region: String,
    #[serde(default)]
    pub config: Map<String, Value>,
    /// YYYY-MM-DD; tenure is counted up to this date.
    pub as_of: String,
    pub employees: Vec<RotateEmployee>,
    /// Every position in scope, including each employee's current one.
    pub positions: Vec<Position>,
}

impl HookRequest for RotateRequest {
    const HOOK: Hook = Hook::Rotate;
    fn abi(&self) -> u32 {
        self.abi
    }
    fn hook(&self) -> Hook {
        self.hook
    }
}

/// An employee as the rotation hook sees them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RotateEmployee {
    pub nip: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// Current position; always among the request's positions.
    pub position_id: String,
    /// YYYY-MM-DD, start of the current position.
    pub position_since: String,
    /// Competency levels (1–5) by competency name.
    #[serde(default, serialize_with = "levels")]
    pub competencies: BTreeMap<String, f64>,
    /// Predikat of the latest **annual** appraisal ending on or before `as_of`; `null` if
    /// none. Monthly and quarterly appraisals never count here.
    #[serde(default)]
    pub latest_predikat: Option<Predikat>,
    /// `null` counts as `rendah`.
    #[serde(default)]
    pub potential: Option<Potential>,
    #[serde(default)]
    pub declined_rotation: bool,
}

/// A position in scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Position {
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
    /// `struktural`, `fungsional` or `pelaksana`; compared as text.
    pub kind: String,
    /// Higher is more senior.
    pub level: i64,
    /// Required competency levels by name; empty means JPM 100.
    #[serde(default, serialize_with = "levels")]
    pub required: BTreeMap<String, f64>,
    /// Capacity minus current holders, never below 0.
    pub vacancies: u32,
}

/// Competency levels as hosts write them: whole levels as integers (`4`, not `4.0`), which
/// a plugin reading integers also takes; any other level as the number it is.
fn levels<S: serde::Serializer>(m: &BTreeMap<String, f64>, s: S) -> Result<S::Ok, S::Error> {
    /// Whole numbers up to here convert to `i64` and back exactly.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    let mut numbers = Vec::with_capacity(m.len());
    for (k, &v) in m {
        let n = if v.fract() == 0.0 && v.abs() <= EXACT {
            serde_json::Number::from(v as i64)
        } else {
            serde_json::Number::from_f64(v).ok_or_else(|| {
                serde::ser::Error::custom(format!("competency `{k}` has no level: {v}"))
            })?
        };
        numbers.push((k, n));
    }
    s.collect_map(numbers)
}

/// `rotate` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct RotateResponse {
    /// One per employee, in the request's order.
    pub talent: Vec<Talent>,
    /// Sorted by NIP.
    pub moves: Vec<Move>,
    /// Sorted by NIP, then kind (overdue, review, coaching_first).
    pub flags: Vec<Flag>,
}

/// An employee's nine-box placement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Talent {
    pub nip: String,
    /// 1–9 (PermenPANRB 3/2020 numbering); `null` where there is no latest predikat.
    #[serde(rename = "box")]
    #[cfg_attr(
        feature = "schema",
        schemars(schema_with = "nine_box_schema", required)
    )]
    pub nine_box: Option<u8>,
}

/// `box` must be present (the contract lists it for every employee) but may be `null`;
/// schemars' own `Option` + `range` handling drops the `null`, so this is spelled out.
#[cfg(feature = "schema")]
fn nine_box_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "description": "1–9 (PermenPANRB 3/2020 numbering); `null` where there is no latest predikat.",
        "type": ["integer", "null"],
        "minimum": 1,
        "maximum": 9
    })
}

/// `rotation` (same kind and level) or `promotion` (exactly one level up); nothing moves down.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum MoveKind {
    Rotation,
    Promotion,
}

/// Whether the employee can take up the position as is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum Readiness {
    Ready,
    NeedsTraining,
}

/// A recommended move.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Move {
    pub nip: String,
    /// Current position id.
    pub from: String,
    /// Target position id.
    pub to: String,
    pub kind: MoveKind,
    /// JPM in percent, rounded to 2 decimals.
    pub job_person_match: f64,
    pub readiness: Readiness,
    /// Training subjects (competency gaps, region extras); empty when ready.
    pub training: Vec<String>,
}

/// Kinds of flag, declared in the order flags of one employee are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "snake_case")]
pub enum FlagKind {
    Overdue,
    Review,
    CoachingFirst,
}

/// Something about an employee that needs a person's attention.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Flag {
    pub nip: String,
    pub kind: FlagKind,
    /// Free text.
    pub detail: String,
}

// ---------------------------------------------------------------------------------------------
// refusal
// ---------------------------------------------------------------------------------------------

/// `{"error": {"message": "..."}}`: a deliberate refusal. Not part of the response schemas,
/// because the host recognises refusals before validating a response.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Refusal {
    pub error: RefusalError,
}

/// The body of a [`Refusal`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusalError {
    pub message: String,
}

impl Refusal {
    /// A refusal with the given message.
    pub fn new(message: impl Into<String>) -> Self {
        Refusal {
            error: RefusalError {
                message: message.into(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn case(nip: &str) -> Case {
        Case {
            employee: Employee {
                nip: nip.into(),
                name: Some("A".into()),
                agency: Some("dinas".into()),
                position_id: Some("p".into()),
                position_since: Some("2021-03-01".into()),
            },
            period: Period {
                id: "2026".into(),
                start: "2026-01-01".into(),
                end: "2026-12-31".into(),
                working_days: 246,
            },
            indicators: vec![Indicator {
                id: "iki-1".into(),
                name: Some("Laporan".into()),
                kind: IndicatorKind::Utama,
                direction: Direction::HigherIsBetter,
                unit: Some("dokumen".into()),
                target: 12.0,
                realization: None,
                weight: Some(1.0),
                evidence: Some(2),
            }],
            behavior: Behavior {
                supervisor: BerAkhlak::uniform(4),
                peers: Some(vec![BerAkhlak::uniform(3)]),
                self_assessment: None,
            },
            activities: Some(Activities {
                days_reported: 200,
                minutes_reported: Some(84_000),
            }),
            innovations: None,
            process: Some([("inovasi".to_string(), 85.0)].into()),
            budget: None,
            public_feedback: Some(PublicFeedback {
                ikm: 3.4,
                respondents: 220,
            }),
        }
    }

    /// What a writer sends with the borrowing envelope is exactly the owned document.
    #[test]
    fn the_borrowing_envelope_writes_the_request_document() {
        let config: Map<String, Value> =
            serde_json::from_str(r#"{"tpp_percent": {"baik": 100}}"#).expect("a map");
        let cases = [
            Box::new(case("198503122010011001")),
            Box::new(case("199001012015032002")),
        ];
        let written = serde_json::to_string(&AppraiseRequestRef::new("jambi", &config, &cases[..]))
            .expect("written");
        let owned = AppraiseRequest {
            abi: ABI_VERSION,
            hook: Hook::Appraise,
            region: "jambi".into(),
            config: config.clone(),
            cases: cases.iter().map(|c| (**c).clone()).collect(),
        };
        assert_eq!(written, serde_json::to_string(&owned).expect("serialized"));
        let read: AppraiseRequest = serde_json::from_str(&written).expect("read back");
        assert_eq!(read, owned);
        assert_eq!(
            crate::fast_read::appraise_request(&written),
            Some(owned),
            "the pdk's fast reader takes what the host writes"
        );
    }

    #[test]
    fn hook_names_round_trip() {
        for hook in Hook::ALL {
            assert_eq!(hook.as_str().parse::<Hook>(), Ok(hook));
            assert_eq!(hook.to_string(), hook.as_str());
        }
        assert!("score".parse::<Hook>().is_err());
        for p in Predikat::ALL {
            assert_eq!(Predikat::parse(p.as_str()), Some(p));
        }
        for r in Rating::ALL {
            assert_eq!(serde_json::to_value(r).ok(), Some(Value::from(r.as_str())));
        }
        for k in RecommendationKind::ALL {
            assert_eq!(serde_json::to_value(k).ok(), Some(Value::from(k.as_str())));
        }
    }

    /// Whole levels are written as integers, others as the numbers they are; a level that is
    /// no number is an error, not a silent 0.
    #[test]
    fn levels_are_written_as_numbers() {
        let position = |required: &[(&str, f64)]| Position {
            id: "p".into(),
            title: None,
            agency: None,
            kind: "fungsional".into(),
            level: 1,
            required: required.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
            vacancies: 1,
        };
        let written = |p: &Position| serde_json::to_string(p).map_err(|e| e.to_string());
        let p = position(&[("a", 4.0), ("b", 3.5), ("c", -2.0), ("d", 1e300)]);
        let text = written(&p).expect("written");
        assert!(
            text.contains(r#""required":{"a":4,"b":3.5,"c":-2,"d":1e+300}"#),
            "{text}"
        );
        let back: Position = serde_json::from_str(&text).expect("read back");
        assert_eq!(back, p);
        let err = written(&position(&[("x", f64::NAN)])).expect_err("refused");
        assert!(err.contains("competency `x`"), "{err}");
    }
}

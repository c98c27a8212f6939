//! ABI 2: the same documents as ABI 1, as the typed records of `schemas/wit/policy.wit`.
//!
//! The WIT records are generated into each side's own types (wasmtime's `bindgen!` in the host,
//! `wit-bindgen` in the pdk), so the mapping between them and this crate's types cannot be
//! ordinary `From` impls here. [`abi2_conversions!`] is that mapping, written once: each side
//! expands it over its generated module. Every conversion destructures its source without `..`
//! and builds its target with every field, so a field added to either ABI without the other
//! fails to compile on both sides: the two ABIs cannot drift.

/// The ABI 2 version, the WIT package's major version (`kinerja:policy@2.0.0`).
pub const ABI2_VERSION: u32 = 2;

/// The WIT package that defines ABI 2, and the names of its hook interfaces as a component
/// exports them.
pub const WIT_PACKAGE: &str = "kinerja:policy@2.0.0";
/// The exported interface of the `appraise` hook.
pub const APPRAISE_EXPORT: &str = "kinerja:policy/appraise@2.0.0";
/// The exported interface of the `rotate` hook.
pub const ROTATE_EXPORT: &str = "kinerja:policy/rotate@2.0.0";
/// The interface of the shared types, which a component imports (it holds no functions).
pub const TYPES_IMPORT: &str = "kinerja:policy/types@2.0.0";

/// `tpp_percent` as ABI 1 writes it: a whole number as an integer (`100`, as an admin writes
/// it in a config), any other as the number it is. `None` for a value JSON cannot hold.
pub fn tpp_number(value: f64) -> Option<serde_json::Number> {
    /// Whole numbers up to here convert to `i64` and back exactly.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if value.fract() == 0.0 && value.abs() <= EXACT {
        Some(serde_json::Number::from(value as i64))
    } else {
        serde_json::Number::from_f64(value)
    }
}

/// Reads an ABI 2 request's `config` (a JSON object in a string).
pub fn config_object(config: &str) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    if config.trim().is_empty() {
        return Ok(serde_json::Map::new());
    }
    serde_json::from_str(config).map_err(|e| format!("config is not a JSON object: {e}"))
}

/// Writes ABI 1's `config` object as ABI 2's string.
pub fn config_string(config: &serde_json::Map<String, serde_json::Value>) -> String {
    // A map of JSON values always serialises.
    serde_json::to_string(config).unwrap_or_else(|_| "{}".to_owned())
}

/// The conversions between this crate's types and the WIT types generated into the module
/// `$wit` (a path such as `kinerja::policy::types`): `From` both ways for every record and
/// enum, and `TryFrom` from the WIT requests (their `config` is JSON text).
///
/// ```ignore
/// kinerja_abi::abi2_conversions!(kinerja::policy::types);
/// ```
#[macro_export]
macro_rules! abi2_conversions {
    ($($wit:ident)::+) => {
        const _: () = {
            use $($wit)::+ as w;
            use $crate as a;

            $crate::__abi2_enum!(w, Rating <=> Rating { DiAtas, Sesuai, DiBawah });
            $crate::__abi2_enum!(w, Predikat <=> Predikat { SangatBaik, Baik, ButuhPerbaikan, Kurang, SangatKurang });
            $crate::__abi2_enum!(w, Potential <=> Potential { Tinggi, Menengah, Rendah });
            $crate::__abi2_enum!(w, IndicatorKind <=> IndicatorKind { Utama, Tambahan });
            $crate::__abi2_enum!(w, Direction <=> Direction { HigherIsBetter, LowerIsBetter });
            $crate::__abi2_enum!(w, RecommendationKind <=> RecommendationKind { Reward, Coaching, Dialog, Training });
            $crate::__abi2_enum!(w, MoveKind <=> MoveKind { Rotation, Promotion });
            $crate::__abi2_enum!(w, Readiness <=> Readiness { Ready, NeedsTraining });
            $crate::__abi2_enum!(w, FlagKind <=> FlagKind { Overdue, Review, CoachingFirst });

            $crate::__abi2_record!(w, BerAkhlak <=> BerAkhlak {
                berorientasi_pelayanan, akuntabel, kompeten, harmonis, loyal, adaptif, kolaboratif
            });
            $crate::__abi2_record!(w, Employee <=> Employee { nip, name, agency, position_id, position_since });
            $crate::__abi2_record!(w, Period <=> Period { id, start, end, working_days });
            $crate::__abi2_record!(w, Indicator <=> Indicator {
                id, name, kind, direction, unit, target, realization, weight, evidence
            });
            $crate::__abi2_record!(w, Behavior <=> Behavior { supervisor, peers, self_assessment });
            $crate::__abi2_record!(w, Activities <=> Activities { days_reported, minutes_reported });
            $crate::__abi2_record!(w, Innovation <=> Innovation { title, date });
            $crate::__abi2_record!(w, Budget <=> Budget { planned, realized });
            $crate::__abi2_record!(w, PublicFeedback <=> PublicFeedback { ikm, respondents });
            $crate::__abi2_record!(w, Case <=> Case {
                employee, period, indicators, behavior, activities, innovations, process, budget,
                public_feedback
            });
            $crate::__abi2_record!(w, Component <=> Component { name, value, weight });
            $crate::__abi2_record!(w, Recommendation <=> Recommendation { kind, subject });
            $crate::__abi2_record!(w, AppraiseResponse <=> AppraiseResponse { results });
            $crate::__abi2_record!(w, RotateEmployee <=> RotateEmployee {
                nip, agency, position_id, position_since, competencies, latest_predikat,
                potential, declined_rotation
            });
            $crate::__abi2_record!(w, Position <=> Position { id, title, agency, kind, level, required, vacancies });
            $crate::__abi2_record!(w, Talent <=> Talent { nip, nine_box });
            $crate::__abi2_record!(w, Move <=> Move { nip, from, to, kind, job_person_match, readiness, training });
            $crate::__abi2_record!(w, Flag <=> Flag { nip, kind, detail });
            $crate::__abi2_record!(w, RotateResponse <=> RotateResponse { talent, moves, flags });

            $crate::__abi2_record!(w, AppraiseResult <=> AppraiseResult {
                nip, hasil_kerja, perilaku_kerja, predikat, score, components, recommendations,
                explanation, tpp_percent
            });

            // The requests: ABI 1's envelope (`abi`, `hook`) is implied by the call in ABI 2,
            // and `config` travels as JSON text.
            impl From<a::AppraiseRequest> for w::AppraiseRequest {
                fn from(v: a::AppraiseRequest) -> Self {
                    let a::AppraiseRequest { abi: _, hook: _, region, config, cases } = v;
                    w::AppraiseRequest {
                        region,
                        config: $crate::abi2::config_string(&config),
                        cases: cases.into_iter().map(Into::into).collect(),
                    }
                }
            }
            impl TryFrom<w::AppraiseRequest> for a::AppraiseRequest {
                type Error = String;
                fn try_from(v: w::AppraiseRequest) -> Result<Self, String> {
                    let w::AppraiseRequest { region, config, cases } = v;
                    Ok(a::AppraiseRequest {
                        abi: a::ABI_VERSION,
                        hook: a::Hook::Appraise,
                        region,
                        config: $crate::abi2::config_object(&config)?,
                        cases: cases.into_iter().map(Into::into).collect(),
                    })
                }
            }
            impl From<a::RotateRequest> for w::RotateRequest {
                fn from(v: a::RotateRequest) -> Self {
                    let a::RotateRequest { abi: _, hook: _, region, config, as_of, employees, positions } = v;
                    w::RotateRequest {
                        region,
                        config: $crate::abi2::config_string(&config),
                        as_of,
                        employees: employees.into_iter().map(Into::into).collect(),
                        positions: positions.into_iter().map(Into::into).collect(),
                    }
                }
            }
            impl TryFrom<w::RotateRequest> for a::RotateRequest {
                type Error = String;
                fn try_from(v: w::RotateRequest) -> Result<Self, String> {
                    let w::RotateRequest { region, config, as_of, employees, positions } = v;
                    Ok(a::RotateRequest {
                        abi: a::ABI_VERSION,
                        hook: a::Hook::Rotate,
                        region,
                        config: $crate::abi2::config_object(&config)?,
                        as_of,
                        employees: employees.into_iter().map(Into::into).collect(),
                        positions: positions.into_iter().map(Into::into).collect(),
                    })
                }
            }
        };
    };
}

/// One enum of [`abi2_conversions!`], both ways.
#[doc(hidden)]
#[macro_export]
macro_rules! __abi2_enum {
    ($w:ident, $abi:ident <=> $witty:ident { $($v:ident),+ $(,)? }) => {
        impl From<$crate::$abi> for $w::$witty {
            fn from(v: $crate::$abi) -> Self {
                match v { $($crate::$abi::$v => $w::$witty::$v,)+ }
            }
        }
        impl From<$w::$witty> for $crate::$abi {
            fn from(v: $w::$witty) -> Self {
                match v { $($w::$witty::$v => $crate::$abi::$v,)+ }
            }
        }
        $crate::__abi2_convert!($w, $abi <=> $witty);
    };
}

/// One record of [`abi2_conversions!`] whose fields have the same names on both sides and
/// convert one by one, both ways.
#[doc(hidden)]
#[macro_export]
macro_rules! __abi2_record {
    ($w:ident, $abi:ident <=> $witty:ident { $($f:ident),+ $(,)? }) => {
        impl From<$crate::$abi> for $w::$witty {
            fn from(v: $crate::$abi) -> Self {
                let $crate::$abi { $($f),+ } = v;
                $w::$witty { $($f: $crate::abi2::Convert::convert($f)),+ }
            }
        }
        impl From<$w::$witty> for $crate::$abi {
            fn from(v: $w::$witty) -> Self {
                let $w::$witty { $($f),+ } = v;
                $crate::$abi { $($f: $crate::abi2::Convert::convert($f)),+ }
            }
        }
        $crate::__abi2_convert!($w, $abi <=> $witty);
    };
}

/// [`Convert`] between a type of this crate and its WIT twin, through their `From`s.
#[doc(hidden)]
#[macro_export]
macro_rules! __abi2_convert {
    ($w:ident, $abi:ident <=> $witty:ident) => {
        impl $crate::abi2::Convert<$w::$witty> for $crate::$abi {
            fn convert(self) -> $w::$witty {
                self.into()
            }
        }
        impl $crate::abi2::Convert<$crate::$abi> for $w::$witty {
            fn convert(self) -> $crate::$abi {
                self.into()
            }
        }
    };
}

/// One field's conversion between the two ABIs: `From` where the types differ, identity where
/// they are the same (strings, numbers), and element-wise through options, lists and the
/// name-to-level maps (ABI 1's objects, ABI 2's lists of pairs in name order).
#[doc(hidden)]
pub trait Convert<T> {
    fn convert(self) -> T;
}

macro_rules! same {
    ($($t:ty),+) => { $(impl Convert<$t> for $t { fn convert(self) -> $t { self } })+ };
}
same!(String, f64, u8, u32, u64, i64, bool);

impl<A, B> Convert<Option<B>> for Option<A>
where
    A: Convert<B>,
{
    fn convert(self) -> Option<B> {
        self.map(Convert::convert)
    }
}

impl<A, B> Convert<Vec<B>> for Vec<A>
where
    A: Convert<B>,
{
    fn convert(self) -> Vec<B> {
        self.into_iter().map(Convert::convert).collect()
    }
}

/// `tpp_percent`: a JSON number in ABI 1, an `f64` in ABI 2 (see [`tpp_number`]).
impl Convert<Option<f64>> for Option<serde_json::Number> {
    fn convert(self) -> Option<f64> {
        self.and_then(|n| n.as_f64())
    }
}

impl Convert<Option<serde_json::Number>> for Option<f64> {
    fn convert(self) -> Option<serde_json::Number> {
        self.and_then(tpp_number)
    }
}

impl Convert<Vec<(String, f64)>> for std::collections::BTreeMap<String, f64> {
    fn convert(self) -> Vec<(String, f64)> {
        self.into_iter().collect()
    }
}

impl Convert<std::collections::BTreeMap<String, f64>> for Vec<(String, f64)> {
    fn convert(self) -> std::collections::BTreeMap<String, f64> {
        self.into_iter().collect()
    }
}

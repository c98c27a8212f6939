//! The fast path of the appraise response check: the response is read into borrowed, typed
//! fields instead of a `serde_json::Value` tree, and each result is kept as the bytes the
//! plugin wrote. Building a `Value` per result (a map and a string per field) and encoding it
//! again for the decision row would be a large share of a region-wide appraisal's CPU.
//!
//! This path only ever *accepts*. It is exactly as strict as `schemas/plugin/appraise.response.json`
//! and the JSON parse before it, or stricter (a test mutates valid responses field by field and
//! checks that whatever it accepts the schema accepts too; another feeds it what serde's skip
//! lets through); anything it does not accept goes through the schema check, which decides and
//! names the problem.

use kinerja_abi::{Predikat, Rating, RecommendationKind};
use serde::de::{self, Deserializer, IgnoredAny, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use std::borrow::Cow;

/// One appraisal result: its NIP, and the result as the plugin wrote it.
#[derive(Debug)]
pub struct RawResult {
    pub nip: String,
    pub raw: Box<RawValue>,
    /// Start and length of `raw` in the response, when it is exactly those bytes.
    pub span: Option<(usize, usize)>,
}

/// Any JSON string, read without copying it.
struct AnyStr;

impl<'de> Deserialize<'de> for AnyStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = AnyStr;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<AnyStr, E> {
                Ok(AnyStr)
            }
        }
        d.deserialize_str(V)
    }
}

/// A field that is present, whatever its value (`null` included): the schema check treats
/// `"error": null` as a refusal, so must this.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    IgnoredAny::deserialize(d).map(|_| true)
}

/// A string that is not `null` when present (`Option<AnyStr>` would take `null` as absent,
/// which the schema does not allow for `subject`).
fn some_str<'de, D: Deserializer<'de>>(d: D) -> Result<Option<AnyStr>, D::Error> {
    AnyStr::deserialize(d).map(Some)
}

#[derive(Deserialize)]
struct Response<'a> {
    #[serde(borrow)]
    results: Vec<&'a RawValue>,
    #[serde(default, deserialize_with = "present")]
    error: bool,
}

/// The fields of one result the schema has rules for; the others are kept, unread.
#[derive(Deserialize)]
struct ResultFields<'a> {
    #[serde(borrow)]
    nip: Cow<'a, str>,
    #[serde(borrow)]
    hasil_kerja: Cow<'a, str>,
    #[serde(borrow)]
    perilaku_kerja: Cow<'a, str>,
    #[serde(borrow)]
    predikat: Cow<'a, str>,
    #[serde(rename = "score")]
    _score: f64,
    #[serde(borrow)]
    components: Vec<&'a RawValue>,
    #[serde(borrow)]
    recommendations: Vec<&'a RawValue>,
    #[serde(rename = "explanation")]
    _explanation: AnyStr,
    #[serde(rename = "tpp_percent")]
    _tpp_percent: Option<f64>,
}

#[derive(Deserialize)]
struct Component {
    #[serde(rename = "name")]
    _name: AnyStr,
    #[serde(rename = "value")]
    _value: f64,
    #[serde(rename = "weight")]
    _weight: Option<f64>,
}

#[derive(Deserialize)]
struct Recommendation<'a> {
    #[serde(borrow)]
    kind: Cow<'a, str>,
    #[serde(default, deserialize_with = "some_str")]
    subject: Option<AnyStr>,
}

fn rating(s: &str) -> bool {
    Rating::ALL.iter().any(|r| r.as_str() == s)
}

fn kind(s: &str) -> bool {
    RecommendationKind::ALL.iter().any(|k| k.as_str() == s)
}

/// Serde also reads a struct from a JSON array (by position); the schema wants objects.
fn object(raw: &RawValue) -> bool {
    raw.get().starts_with('{')
}

fn typed<'a, T: Deserialize<'a>>(raw: &'a RawValue) -> Option<T> {
    if !object(raw) {
        return None;
    }
    serde_json::from_str(raw.get()).ok()
}

/// `raw`, a result of the response `text`, when it is one the schema accepts.
fn result(text: &str, raw: &RawValue) -> Option<RawResult> {
    let r: ResultFields = typed(raw)?;
    let ok = rating(&r.hasil_kerja)
        && rating(&r.perilaku_kerja)
        && Predikat::parse(&r.predikat).is_some()
        && r.components.iter().all(|c| typed::<Component>(c).is_some())
        && r.recommendations.iter().all(|c| {
            typed::<Recommendation>(c).is_some_and(|rec| {
                kind(&rec.kind)
                    && (rec.kind != RecommendationKind::Training.as_str() || rec.subject.is_some())
            })
        });
    // `raw` is borrowed from `text`; should it ever not be, there is no span and the row
    // keeps the output itself.
    let len = raw.get().len();
    let span = (raw.get().as_ptr() as usize)
        .checked_sub(text.as_ptr() as usize)
        .filter(|&at| text.get(at..at + len) == Some(raw.get()));
    ok.then(|| RawResult {
        nip: r.nip.into_owned(),
        raw: raw.to_owned(),
        span: span.map(|at| (at, len)),
    })
}

/// Deepest nesting this path takes; serde_json refuses past 128 when it parses (not when it
/// skips).
const MAX_DEPTH: usize = 100;

/// Whether skipping over `text`'s values checks as much as parsing them would. serde_json's
/// skip (for the fields nobody reads here, and for raw values) does not refuse a lone
/// surrogate escape, a number beyond `f64` or nesting past its depth limit, all of which the
/// schema check's parse refuses. Conservative: `false` only sends the response to the schema
/// check, e.g. for any surrogate escape or any long number.
fn plain(text: &[u8]) -> bool {
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&c) = text.get(i) {
        match c {
            b'"' => {
                i += 1;
                loop {
                    match text.get(i) {
                        None => return false,
                        Some(b'"') => break,
                        Some(b'\\') if text.get(i + 1) == Some(&b'u') => {
                            let hex = text
                                .get(i + 2..i + 6)
                                .and_then(|h| std::str::from_utf8(h).ok())
                                .and_then(|h| u16::from_str_radix(h, 16).ok());
                            if !matches!(hex, Some(h) if !(0xD800..=0xDFFF).contains(&h)) {
                                return false;
                            }
                            i += 6;
                        }
                        Some(b'\\') => i += 2,
                        Some(&c) if c < 0x20 => return false,
                        Some(_) => i += 1,
                    }
                }
                i += 1;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return false;
                }
                i += 1;
            }
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                i += 1;
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                while matches!(
                    text.get(i),
                    Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E')
                ) {
                    i += 1;
                }
                let number = &text[start..i];
                // Twenty characters without an exponent stay far inside `f64`; so does any
                // exponent under 290 with them.
                if number.len() > 20 {
                    return false;
                }
                if let Some(e) = number.iter().position(|&c| c == b'e' || c == b'E') {
                    let exp = std::str::from_utf8(&number[e + 1..])
                        .ok()
                        .and_then(|x| x.parse::<i32>().ok());
                    if !matches!(exp, Some(x) if x.abs() < 290) {
                        return false;
                    }
                }
            }
            _ => i += 1,
        }
    }
    true
}

/// The results of a valid appraise response, or `None` when this path cannot tell (the
/// caller then runs the schema check, which decides).
pub fn appraise_results(stdout: &[u8]) -> Option<Vec<RawResult>> {
    let text = std::str::from_utf8(stdout).ok()?;
    if !text.trim_start().starts_with('{') || !plain(text.as_bytes()) {
        return None;
    }
    let resp: Response = serde_json::from_str(text).ok()?;
    if resp.error {
        return None;
    }
    resp.results.into_iter().map(|r| result(text, r)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn valid() -> Value {
        json!({"results": [{
            "nip": "199001012015031001",
            "hasil_kerja": "sesuai",
            "perilaku_kerja": "di_atas",
            "predikat": "baik",
            "score": 90.5,
            "components": [{"name": "capaian", "value": 101.25, "weight": 0.6}, {"name": "x", "value": 1}],
            "recommendations": [{"kind": "training", "subject": "SQL"}, {"kind": "reward"}],
            "explanation": "ok",
            "tpp_percent": 100,
            "extra": {"kept": true}
        }], "plugin_note": 1})
    }

    fn schema_valid(v: &Value) -> bool {
        super::super::output::check(
            "p",
            kinerja_runtime::Hook::Appraise,
            v.to_string().as_bytes(),
        )
        .is_ok()
    }

    fn fast(v: &Value) -> bool {
        appraise_results(v.to_string().as_bytes()).is_some()
    }

    /// Replacements tried at every position of a valid response.
    fn replacements() -> Vec<Option<Value>> {
        vec![
            None,
            Some(Value::Null),
            Some(json!(true)),
            Some(json!(0)),
            Some(json!(-1.5)),
            Some(json!("")),
            Some(json!("sesuai")),
            Some(json!("baik")),
            Some(json!("training")),
            Some(json!([])),
            Some(json!(["a", 1])),
            Some(json!({})),
            Some(json!({"sesuai": null})),
        ]
    }

    /// Every path to a value inside `v` (object keys and array indices).
    fn paths(v: &Value, at: Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(at.clone());
        match v {
            Value::Object(m) => m.iter().for_each(|(k, c)| {
                let mut p = at.clone();
                p.push(k.clone());
                paths(c, p, out)
            }),
            Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| {
                let mut p = at.clone();
                p.push(i.to_string());
                paths(c, p, out)
            }),
            _ => {}
        }
    }

    fn mutate(v: &mut Value, path: &[String], with: &Option<Value>) {
        let Some((last, init)) = path.split_last() else {
            if let Some(w) = with {
                *v = w.clone();
            }
            return;
        };
        let mut cur = v;
        for k in init {
            cur = match cur {
                Value::Object(m) => &mut m[k.as_str()],
                Value::Array(a) => &mut a[k.parse::<usize>().expect("index")],
                _ => return,
            };
        }
        match (cur, with) {
            (Value::Object(m), None) => {
                m.remove(last.as_str());
            }
            (Value::Object(m), Some(w)) => {
                m.insert(last.clone(), w.clone());
            }
            (Value::Array(a), None) => {
                a.remove(last.parse::<usize>().expect("index"));
            }
            (Value::Array(a), Some(w)) => a[last.parse::<usize>().expect("index")] = w.clone(),
            _ => {}
        }
    }

    #[test]
    fn accepts_a_valid_response_and_keeps_its_bytes() {
        let v = valid();
        let text = v.to_string();
        let got = appraise_results(text.as_bytes()).expect("accepted");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].nip, "199001012015031001");
        assert_eq!(got[0].raw.get(), v["results"][0].to_string());
        // Where it lies in the response, for a row that refers to it there.
        let (at, len) = got[0].span.expect("span");
        assert_eq!(&text[at..at + len], got[0].raw.get());
        let two = format!(r#" {{"results": [{0}, {0}]}}"#, v["results"][0]);
        let got = appraise_results(two.as_bytes()).expect("accepted");
        let spans: Vec<_> = got.iter().map(|r| r.span.expect("span")).collect();
        assert_eq!(&two[spans[1].0..spans[1].0 + spans[1].1], got[1].raw.get());
        assert!(spans[1].0 > spans[0].0 + spans[0].1);
    }

    /// Whatever the fast path accepts, the schema accepts: every field of a valid response is
    /// removed or replaced by values of every JSON type, and the two checks are compared.
    #[test]
    fn never_accepts_what_the_schema_refuses() {
        let base = valid();
        let mut all = Vec::new();
        paths(&base, Vec::new(), &mut all);
        let mut refused_by_schema = 0;
        for path in &all {
            for with in replacements() {
                let mut v = base.clone();
                mutate(&mut v, path, &with);
                let schema = schema_valid(&v);
                refused_by_schema += usize::from(!schema);
                assert!(
                    !fast(&v) || schema,
                    "fast path accepted what the schema refuses: {path:?} -> {with:?}: {v}"
                );
            }
        }
        assert!(
            refused_by_schema > 50,
            "the mutations reach the schema's rules"
        );
    }

    /// What serde's skip lets through but a parse refuses, in a field nobody reads: the typed
    /// path leaves it to the schema check, which refuses it as invalid JSON. A valid surrogate
    /// pair goes the slow way too, and is accepted.
    #[test]
    fn what_only_a_parse_refuses_goes_to_the_schema_check() {
        let valid = valid().to_string();
        let with_extra =
            |extra: &str| valid.replacen("\"extra\":", &format!("\"x\":{extra},\"extra\":"), 1);
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        for extra in [
            "1e400",
            "-1e400",
            "\"\\udc00\"",
            "\"\\ud800x\"",
            deep.as_str(),
        ] {
            let text = with_extra(extra);
            assert!(appraise_results(text.as_bytes()).is_none(), "{extra}");
            let err = super::super::output::check_appraise("p", text.as_bytes());
            assert!(err.is_err_and(|e| e.contains("invalid JSON")), "{extra}");
        }
        let long = format!("1{}", "0".repeat(400));
        assert!(appraise_results(with_extra(&long).as_bytes()).is_none());
        let pair = with_extra("\"\\ud83d\\ude00\"");
        assert!(appraise_results(pair.as_bytes()).is_none());
        assert!(super::super::output::check_appraise("p", pair.as_bytes()).is_ok());
        for fine in ["1e-7", "-0.5", "12345678901234567890", "\"\\u00e9\\n\""] {
            assert!(
                appraise_results(with_extra(fine).as_bytes()).is_some(),
                "{fine}"
            );
        }
    }

    #[test]
    fn leaves_refusals_arrays_and_odd_encodings_to_the_schema_check() {
        for text in [
            r#"{"results": [], "error": null}"#,
            r#"{"error": {"message": "no"}}"#,
            r#"[[]]"#,
            r#"{"results": [], "results": []}"#,
            "{\"results\": [\"\\u00ff\"]}",
        ] {
            assert!(appraise_results(text.as_bytes()).is_none(), "{text}");
        }
        assert!(appraise_results(br#"{"results": []}"#).is_some_and(|r| r.is_empty()));
    }
}

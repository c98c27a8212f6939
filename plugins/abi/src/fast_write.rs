//! A quicker writer for appraise responses, byte for byte what serde_json writes.
//!
//! Written by serde_json alone, an appraisal's ~730 bytes per case are a large share of the
//! case's fuel inside the sandbox: serde_json looks every byte of every string up in its escape
//! table, and most of the bytes are in strings (the explanation above all). Here a string with
//! nothing to escape — the usual case — is found so eight bytes at a time and copied whole;
//! anything else (a string that needs escapes, every number) is written by serde_json itself,
//! so the output cannot drift from it. The tests compare the two on responses built to be
//! awkward, and each region's vector test on its real responses.

use std::io;

use crate::fast_read::first_stop;
use crate::types::{AppraiseResponse, AppraiseResult, Component, Recommendation};

/// `response` as `serde_json::to_string` writes it.
pub fn appraise_response(response: &AppraiseResponse) -> Result<String, serde_json::Error> {
    let mut out = String::with_capacity(16 + response.results.len() * 800);
    out.push_str("{\"results\":[");
    for (i, result) in response.results.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        appraise_result(&mut out, result)?;
    }
    out.push_str("]}");
    Ok(out)
}

/// The fields in the order the type declares them, as serde's derive writes them. The types are
/// taken apart field by field (no `..`), so a field added to them does not compile here until
/// it is written.
fn appraise_result(out: &mut String, r: &AppraiseResult) -> Result<(), serde_json::Error> {
    let AppraiseResult {
        nip,
        hasil_kerja,
        perilaku_kerja,
        predikat,
        score,
        components,
        recommendations,
        explanation,
        tpp_percent,
    } = r;
    out.push_str("{\"nip\":");
    string(out, nip)?;
    out.push_str(",\"hasil_kerja\":\"");
    out.push_str(hasil_kerja.as_str());
    out.push_str("\",\"perilaku_kerja\":\"");
    out.push_str(perilaku_kerja.as_str());
    out.push_str("\",\"predikat\":\"");
    out.push_str(predikat.as_str());
    out.push_str("\",\"score\":");
    by_serde(out, score)?;
    out.push_str(",\"components\":[");
    for (i, c) in components.iter().enumerate() {
        let Component {
            name,
            value,
            weight,
        } = c;
        out.push_str(if i > 0 { ",{\"name\":" } else { "{\"name\":" });
        string(out, name)?;
        out.push_str(",\"value\":");
        by_serde(out, value)?;
        if let Some(weight) = weight {
            out.push_str(",\"weight\":");
            by_serde(out, weight)?;
        }
        out.push('}');
    }
    out.push_str("],\"recommendations\":[");
    for (i, rec) in recommendations.iter().enumerate() {
        let Recommendation { kind, subject } = rec;
        out.push_str(if i > 0 {
            ",{\"kind\":\""
        } else {
            "{\"kind\":\""
        });
        out.push_str(kind.as_str());
        out.push('"');
        if let Some(subject) = subject {
            out.push_str(",\"subject\":");
            string(out, subject)?;
        }
        out.push('}');
    }
    out.push_str("],\"explanation\":");
    string(out, explanation)?;
    if let Some(tpp) = tpp_percent {
        out.push_str(",\"tpp_percent\":");
        by_serde(out, tpp)?;
    }
    out.push('}');
    Ok(())
}

/// A string: copied whole when nothing in it needs escaping, else written by serde_json.
fn string(out: &mut String, s: &str) -> Result<(), serde_json::Error> {
    if first_stop(s.as_bytes()) < s.len() {
        return by_serde(out, s);
    }
    out.push('"');
    out.push_str(s);
    out.push('"');
    Ok(())
}

/// Writes `value` with serde_json (numbers, and strings that need escapes).
fn by_serde<T: serde::Serialize + ?Sized>(
    out: &mut String,
    value: &T,
) -> Result<(), serde_json::Error> {
    serde_json::to_writer(Text(out), value)
}

/// Lets serde_json append to a `String`; it writes only whole UTF-8 pieces.
struct Text<'a>(&'a mut String);

impl io::Write for Text<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let s =
            std::str::from_utf8(buf).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        self.0.push_str(s);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Predikat, Rating, RecommendationKind};

    fn same_as_serde(response: &AppraiseResponse) {
        let fast = appraise_response(response).expect("written");
        let serde = serde_json::to_string(response).expect("serialized");
        assert_eq!(fast, serde);
    }

    fn result(text: &str, x: f64) -> AppraiseResult {
        let ratings = [Rating::DiAtas, Rating::Sesuai, Rating::DiBawah];
        let i = text.len() + x.to_bits() as usize;
        AppraiseResult {
            nip: text.to_string(),
            hasil_kerja: ratings[i % 3],
            perilaku_kerja: ratings[(i / 3) % 3],
            predikat: Predikat::ALL[i % 5],
            score: x,
            components: vec![
                Component::new(text, x),
                Component::weighted("w", -x, x / 3.0),
            ],
            recommendations: vec![
                Recommendation::of(RecommendationKind::Reward),
                Recommendation::of(RecommendationKind::Coaching),
                Recommendation::of(RecommendationKind::Dialog),
                Recommendation::training(text),
            ],
            explanation: format!("{text} → ≥ × {text}"),
            tpp_percent: serde_json::Number::from_f64(x),
        }
    }

    #[test]
    fn awkward_strings_and_numbers_are_written_as_serde_writes_them() {
        let texts = [
            "",
            "a",
            "12345678",
            "123456789",
            "quote \" in",
            "back\\slash",
            "tab\there",
            "nl\n",
            "\u{0}\u{1f}",
            "\u{7f} del",
            "é ü ñ 漢字 🙂",
            "seven.",
            "eight..!",
            "long enough to take several chunks of eight bytes \" near the end",
        ];
        let numbers = [
            0.0,
            -0.0,
            1.0,
            0.1,
            2.675,
            90.43,
            1e21,
            1e-7,
            123456789.125,
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ];
        let mut results = Vec::new();
        for (i, text) in texts.iter().enumerate() {
            for x in numbers.iter().skip(i % 3) {
                results.push(result(text, *x));
            }
        }
        same_as_serde(&AppraiseResponse { results });
        same_as_serde(&AppraiseResponse { results: vec![] });
    }

    #[test]
    fn random_floats_are_written_as_serde_writes_them() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let results = (0..2000)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                result("r", f64::from_bits(state))
            })
            .collect();
        same_as_serde(&AppraiseResponse { results });
    }
}

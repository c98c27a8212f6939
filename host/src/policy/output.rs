//! Checking what a plugin wrote: UTF-8, JSON, a deliberate refusal, and the hook's response
//! schema from `schemas/plugin/`. Each failure is a sentence naming the plugin and the cause.

use super::typed::{self, RawResult};
use jsonschema::Validator;
use kinerja_runtime::Hook;
use serde_json::Value;
use std::sync::OnceLock;

const APPRAISE_SCHEMA: &str = include_str!("../../../schemas/plugin/appraise.response.json");
const ROTATE_SCHEMA: &str = include_str!("../../../schemas/plugin/rotate.response.json");

fn compile(src: &str) -> Option<Validator> {
    let schema: Value = serde_json::from_str(src).ok()?;
    match jsonschema::validator_for(&schema) {
        Ok(v) => Some(v),
        Err(e) => {
            tracing::error!(error = %e, "a bundled response schema does not compile");
            None
        }
    }
}

fn validator(hook: Hook) -> Option<&'static Validator> {
    static APPRAISE: OnceLock<Option<Validator>> = OnceLock::new();
    static ROTATE: OnceLock<Option<Validator>> = OnceLock::new();
    match hook {
        Hook::Appraise => APPRAISE.get_or_init(|| compile(APPRAISE_SCHEMA)).as_ref(),
        Hook::Rotate => ROTATE.get_or_init(|| compile(ROTATE_SCHEMA)).as_ref(),
    }
}

/// Parses and validates a response; `Err` is the message for the client.
/// Each message names the whole plugin id, as the API promises for a 422.
pub fn check(plugin: &str, hook: Hook, stdout: &[u8]) -> Result<Value, String> {
    let text = std::str::from_utf8(stdout).map_err(|e| {
        format!(
            "plugin {plugin} wrote stdout that is not UTF-8 (invalid byte at offset {})",
            e.valid_up_to()
        )
    })?;
    if text.trim().is_empty() {
        return Err(format!("plugin {plugin} wrote nothing to stdout"));
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|e| format!("plugin {plugin} wrote invalid JSON: {e}"))?;
    if let Some(err) = value.get("error") {
        let msg = err
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message given");
        return Err(format!(
            "plugin {plugin} refused: {}",
            msg.chars().take(500).collect::<String>()
        ));
    }
    let v = validator(hook)
        .ok_or_else(|| format!("the {hook} response schema is unavailable on this server"))?;
    // `is_valid` stops at the first failure and builds no error values; on the good path it
    // is several times cheaper than collecting errors, and a batch checks a thousand results.
    if v.is_valid(&value) {
        return Ok(value);
    }
    let problems: Vec<String> = v
        .iter_errors(&value)
        .take(3)
        .map(|e| {
            let at = e.instance_path.to_string();
            format!("at `{}`: {e}", if at.is_empty() { "/" } else { &at })
        })
        .collect();
    if !problems.is_empty() {
        return Err(format!(
            "plugin {plugin} response breaks the {hook} response schema {}",
            problems.join("; ")
        ));
    }
    Ok(value)
}

/// [`check`] for an appraise response whose results are kept as written: the typed path
/// when it accepts, else the schema check (which names the problem, or accepts something the
/// typed path leaves to it, such as a duplicated key).
pub fn check_appraise(plugin: &str, stdout: &[u8]) -> Result<Vec<RawResult>, String> {
    if let Some(results) = typed::appraise_results(stdout) {
        return Ok(results);
    }
    let value = check(plugin, Hook::Appraise, stdout)?;
    let results = value["results"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    results
        .iter()
        .map(|r| {
            let raw = serde_json::value::to_raw_value(r).map_err(|e| e.to_string())?;
            Ok(RawResult {
                nip: r["nip"].as_str().unwrap_or_default().to_string(),
                raw,
                // Re-encoded, not the plugin's bytes.
                span: None,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_named() {
        assert!(check("abc", Hook::Appraise, b"\xff\xfe")
            .unwrap_err()
            .contains("not UTF-8"));
        assert!(check("abc", Hook::Appraise, b"{nope")
            .unwrap_err()
            .contains("invalid JSON"));
        assert!(
            check("abc", Hook::Appraise, br#"{"error":{"message":"no"}}"#)
                .unwrap_err()
                .contains("refused: no")
        );
        assert!(check("abc", Hook::Appraise, br#"{"results":"x"}"#)
            .unwrap_err()
            .contains("schema"));
        assert!(check(
            "abc",
            Hook::Rotate,
            br#"{"talent":[],"moves":[],"flags":[]}"#
        )
        .is_ok());
        let ok = br#"{"results":[{"nip":"1","hasil_kerja":"sesuai","perilaku_kerja":"sesuai","predikat":"baik","score":90.0,"components":[],"recommendations":[],"explanation":"x"}]}"#;
        assert!(check("abc", Hook::Appraise, ok).is_ok());
        let dup = br#"{"results":[],"results":[{"nip":"1","hasil_kerja":"sesuai","perilaku_kerja":"sesuai","predikat":"baik","score":90.0,"components":[],"recommendations":[],"explanation":"x"}]}"#;
        let kept = check_appraise("abc", dup).expect("the schema check accepts it");
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].nip, "1");
        assert!(check_appraise("abc", br#"{"results":"x"}"#)
            .unwrap_err()
            .contains("schema"));
    }
}

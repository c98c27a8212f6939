//! Replaying decisions: run the module a decision names on the exact request bytes it was
//! given, and say whether everything still agrees.
//!
//! Comparing only the hash of the new output with the stored hash would miss the case that
//! matters most: a stored result changed after the fact (by a bug, a migration or a person)
//! keeps its old hash. So a verdict checks three things, each reported on its own:
//! the stored request still hashes to the decision's `input_sha256`; the module's new stdout is
//! byte-identical to the stored stdout and to the decision's `output_sha256`; and the
//! decision's own `output` is exactly this case's part of what the module says now.

use crate::store::blob::sha256_hex;
use crate::store::{Decision, Store, StoreError};
use kinerja_runtime::{Hook, Runtime};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// The outcome of replaying one decision.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Verdict {
    /// True when every check below holds.
    pub identical: bool,
    pub decision_id: String,
    pub plugin: String,
    pub hook: String,
    pub input_sha256: String,
    pub output_sha256: String,
    /// SHA-256 of the replay's stdout; absent when the replay could not run.
    pub replay_output_sha256: Option<String>,
    /// The stored request bytes hash to `input_sha256`.
    pub input_intact: bool,
    /// The replay's stdout equals the stored stdout (or, for decisions stored before stdout
    /// was kept, hashes to `output_sha256`).
    pub output_bytes_identical: bool,
    /// The decision's `output` is exactly its part of the replay's output.
    pub decision_output_matches: bool,
    /// What differs, one sentence each; empty when identical.
    pub mismatches: Vec<String>,
    pub fuel: u64,
    pub duration_ms: f64,
}

/// The part of a whole response that a decision keeps: its case's result, or all of it.
fn part<'a>(d: &Decision, whole: &'a Value) -> Option<&'a Value> {
    match d.case_index {
        Some(i) => whole.get("results")?.get(i),
        None => Some(whole),
    }
}

/// Judges a decision from its stored call bytes and a fresh run's stdout (`Err`: why the
/// module could not run).
pub fn judge(
    d: &Decision,
    input: &[u8],
    stored_output: Option<&[u8]>,
    replay: Result<(&[u8], u64, f64), String>,
) -> Verdict {
    let mut mismatches = Vec::new();
    let input_intact = sha256_hex(input) == d.input_sha256;
    if !input_intact {
        mismatches.push("the stored request no longer hashes to input_sha256".to_string());
    }
    if let Some(out) = stored_output {
        if sha256_hex(out) != d.output_sha256 {
            mismatches.push("the stored output no longer hashes to output_sha256".to_string());
        }
    }
    let (mut replay_sha, mut bytes_ok, mut part_ok, mut fuel, mut ms) =
        (None, false, false, 0, 0.0);
    match replay {
        Err(e) => mismatches.push(format!("the module could not be re-run: {e}")),
        Ok((stdout, f, t)) => {
            let sha = sha256_hex(stdout);
            bytes_ok = sha == d.output_sha256 && stored_output.is_none_or(|s| s == stdout);
            if !bytes_ok {
                mismatches.push(format!(
                    "the module's output differs from the stored one ({} bytes now, sha256 {})",
                    stdout.len(),
                    &sha[..12]
                ));
            }
            match serde_json::from_slice::<Value>(stdout) {
                Ok(whole) => {
                    part_ok = part(d, &whole) == Some(&d.output);
                    if !part_ok {
                        mismatches.push(match d.case_index {
                            Some(i) => format!(
                                "the decision's stored output differs from result {i} of the module's output"
                            ),
                            None => "the decision's stored output differs from the module's output"
                                .to_string(),
                        });
                    }
                }
                Err(e) => mismatches.push(format!("the module's output is not JSON now: {e}")),
            }
            replay_sha = Some(sha);
            fuel = f;
            ms = t;
        }
    }
    Verdict {
        identical: mismatches.is_empty(),
        decision_id: d.id.clone(),
        plugin: d.plugin.clone(),
        hook: d.hook.clone(),
        input_sha256: d.input_sha256.clone(),
        output_sha256: d.output_sha256.clone(),
        replay_output_sha256: replay_sha,
        input_intact,
        output_bytes_identical: bytes_ok,
        decision_output_matches: part_ok,
        mismatches,
        fuel,
        duration_ms: ms,
    }
}

/// Replays one plugin call and judges every decision taken from it (they share their
/// `plugin` and `input_sha256`: one run serves a whole batch). Blocking.
pub fn verify_call(
    store: &Store,
    runtime: &Runtime,
    decisions: &[Decision],
) -> Result<Vec<Verdict>, StoreError> {
    let Some(first) = decisions.first() else {
        return Ok(Vec::new());
    };
    let (input, stored_output) = store.call_bytes(&first.input_sha256, &first.output_sha256)?;
    let run = first
        .hook
        .parse::<Hook>()
        .map_err(|e| e.to_string())
        .and_then(|hook| {
            runtime
                .call(&first.plugin, hook, &input)
                .map_err(|e| e.to_string())
        });
    let run = run.as_ref().map(|o| {
        (
            o.stdout.as_slice(),
            o.fuel_used,
            (o.duration.as_secs_f64() * 1e6).round() / 1e3,
        )
    });
    Ok(decisions
        .iter()
        .map(|d| {
            // Decisions of one call normally share the output too; one that does not is
            // judged against its own stored stdout.
            if d.output_sha256 == first.output_sha256 && d.input_sha256 == first.input_sha256 {
                judge(
                    d,
                    &input,
                    stored_output.as_deref(),
                    run.map_err(String::clone),
                )
            } else {
                match store.call_bytes(&d.input_sha256, &d.output_sha256) {
                    Ok((inp, out)) => judge(d, &inp, out.as_deref(), run.map_err(String::clone)),
                    Err(e) => judge(d, &[], None, Err(e.to_string())),
                }
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(output: Value, case_index: Option<usize>, input: &[u8], stdout: &[u8]) -> Decision {
        Decision {
            id: "dec-000000000001".into(),
            region: "jambi".into(),
            hook: "appraise".into(),
            plugin: "p".into(),
            input_sha256: sha256_hex(input),
            output_sha256: sha256_hex(stdout),
            output,
            case_index,
            nip: None,
            period: None,
            period_end: None,
            as_of: None,
            fuel: 0,
            duration_ms: 0.0,
            logs: String::new(),
            at: String::new(),
            by: None,
        }
    }

    const OUT: &[u8] =
        br#"{"results":[{"nip":"1","predikat":"baik"},{"nip":"2","predikat":"kurang"}]}"#;

    #[test]
    fn identical_when_everything_agrees() {
        let d = decision(
            serde_json::json!({"nip":"2","predikat":"kurang"}),
            Some(1),
            b"in",
            OUT,
        );
        let v = judge(&d, b"in", Some(OUT), Ok((OUT, 1, 0.1)));
        assert!(v.identical, "{:?}", v.mismatches);
    }

    #[test]
    fn each_kind_of_tampering_is_named() {
        // The decision's own output was edited; hashes untouched.
        let d = decision(
            serde_json::json!({"nip":"2","predikat":"baik"}),
            Some(1),
            b"in",
            OUT,
        );
        let v = judge(&d, b"in", Some(OUT), Ok((OUT, 1, 0.1)));
        assert!(!v.identical && !v.decision_output_matches && v.output_bytes_identical);
        assert!(v.mismatches[0].contains("result 1"), "{:?}", v.mismatches);

        // The stored request was edited.
        let d = decision(
            serde_json::json!({"nip":"2","predikat":"kurang"}),
            Some(1),
            b"in",
            OUT,
        );
        let v = judge(&d, b"IN", Some(OUT), Ok((OUT, 1, 0.1)));
        assert!(!v.identical && !v.input_intact);

        // The module now answers differently.
        let other = br#"{"results":[{"nip":"1","predikat":"baik"},{"nip":"2","predikat":"baik"}]}"#;
        let v = judge(&d, b"in", Some(OUT), Ok((other, 1, 0.1)));
        assert!(!v.identical && !v.output_bytes_identical && !v.decision_output_matches);

        // The stored stdout was edited (its hash no longer matches).
        let v = judge(&d, b"in", Some(other), Ok((OUT, 1, 0.1)));
        assert!(!v.identical && !v.output_bytes_identical);

        // The module is gone or fails.
        let v = judge(&d, b"in", Some(OUT), Err("no such module".into()));
        assert!(!v.identical && v.mismatches.iter().any(|m| m.contains("no such module")));
    }
}

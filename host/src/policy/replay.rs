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
use kinerja_runtime::{CallError, Hook, Runtime};
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
    /// The decision still names what the stored request was about: its case's employee and
    /// period (appraise) or its date (rotate), and the result's own `nip`.
    pub subject_matches: bool,
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

/// Why a replay could not be judged at all; anything else becomes a failing [`Verdict`].
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// No plugin slot free: try again; says nothing about the decision.
    #[error("every plugin slot is busy; retry shortly")]
    Busy,
    #[error("replay failed on the server: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Whether `d` still names what `request` was about. Without this a decision's `output`
/// could be swapped for another case's result of the same call, index and all, and every
/// hash would still agree.
fn subject_matches(d: &Decision, request: Option<&Value>) -> bool {
    let Some(req) = request else { return false };
    match (d.hook.parse::<Hook>(), d.case_index) {
        (Ok(Hook::Appraise), Some(i)) => {
            let case = &req["cases"][i];
            let nip = d.nip.as_deref();
            case["employee"]["nip"].as_str() == nip
                && case["period"]["id"].as_str() == d.period.as_deref()
                && serde_json::from_str::<Value>(d.output.get())
                    .is_ok_and(|o| o["nip"].as_str() == nip)
        }
        (Ok(Hook::Rotate), None) => req["as_of"].as_str() == d.as_of.as_deref(),
        _ => false,
    }
}

/// Judges a decision from its stored call bytes (`request`: the same bytes parsed) and a
/// fresh run's stdout (`Err`: why the module could not run).
pub fn judge(
    d: &Decision,
    input: &[u8],
    request: Option<&Value>,
    stored_output: Option<&[u8]>,
    replay: Result<(&[u8], u64, f64), String>,
) -> Verdict {
    let mut mismatches = Vec::new();
    let input_intact = sha256_hex(input) == d.input_sha256;
    let subject_ok = subject_matches(d, request);
    if !subject_ok {
        mismatches.push(
            "the decision's employee, period or case does not match the stored request".to_string(),
        );
    }
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
            let stored = serde_json::from_str::<Value>(d.output.get());
            match (serde_json::from_slice::<Value>(stdout), stored) {
                (Err(e), _) => mismatches.push(format!("the module's output is not JSON now: {e}")),
                (Ok(_), Err(e)) => {
                    mismatches.push(format!("the decision's stored output is not JSON: {e}"))
                }
                (Ok(whole), Ok(stored)) => {
                    part_ok = part(d, &whole) == Some(&stored);
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
        subject_matches: subject_ok,
        mismatches,
        fuel,
        duration_ms: ms,
    }
}

/// The failing verdict of a stored decision that cannot be read at all: nothing of it can be
/// checked, which is itself a finding.
pub fn unreadable(id: &str, reason: &str) -> Verdict {
    Verdict {
        identical: false,
        decision_id: id.to_string(),
        plugin: String::new(),
        hook: String::new(),
        input_sha256: String::new(),
        output_sha256: String::new(),
        replay_output_sha256: None,
        input_intact: false,
        output_bytes_identical: false,
        decision_output_matches: false,
        subject_matches: false,
        mismatches: vec![format!("the stored decision cannot be read: {reason}")],
        fuel: 0,
        duration_ms: 0.0,
    }
}

/// Replays one plugin call and judges every decision taken from it (they share their
/// `plugin` and `input_sha256`: one run serves a whole batch). Blocking. Stored bytes that
/// are missing or unreadable make failing verdicts, not an error, so one damaged row never
/// hides the rest of an audit.
pub fn verify_call(
    store: &Store,
    runtime: &Runtime,
    decisions: &[Decision],
) -> Result<Vec<Verdict>, ReplayError> {
    let Some(first) = decisions.first() else {
        return Ok(Vec::new());
    };
    let (input, stored_output) =
        match store.call_bytes(&first.region, &first.input_sha256, &first.output_sha256) {
            Ok(b) => b,
            // The store's own failures are not the decision's: the replay cannot judge it.
            Err(e @ (StoreError::Db(_) | StoreError::Fault(_))) => return Err(e.into()),
            Err(e) => {
                let why = format!("the stored request is unavailable: {e}");
                return Ok(decisions
                    .iter()
                    .map(|d| judge(d, &[], None, None, Err(why.clone())))
                    .collect());
            }
        };
    let request: Option<Value> = serde_json::from_slice(&input).ok();
    let run = match first.hook.parse::<Hook>() {
        Err(e) => Err(e.to_string()),
        // The region's own slots: a replay is the region's work.
        Ok(hook) => match runtime.call_for(&first.region, &first.plugin, hook, &input) {
            Ok(out) => Ok(out),
            Err(CallError::Busy | CallError::Paused { .. }) => return Err(ReplayError::Busy),
            Err(CallError::Internal(m)) => return Err(ReplayError::Internal(m)),
            Err(e) => Err(e.to_string()),
        },
    };
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
            let replay = run.map_err(String::clone);
            // Decisions of one call normally share the output too; one that does not is
            // judged against its own stored stdout.
            if d.output_sha256 == first.output_sha256 && d.input_sha256 == first.input_sha256 {
                judge(
                    d,
                    &input,
                    request.as_ref(),
                    stored_output.as_deref(),
                    replay,
                )
            } else {
                match store.call_bytes(&d.region, &d.input_sha256, &d.output_sha256) {
                    Ok((inp, out)) => judge(d, &inp, request.as_ref(), out.as_deref(), replay),
                    Err(e) => judge(d, &[], None, None, Err(e.to_string())),
                }
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision(output: Value, case_index: Option<usize>, input: &[u8], stdout: &[u8]) -> Decision {
        let nip = output["nip"].as_str().unwrap_or_default().to_string();
        Decision {
            id: "dec-000000000001".into(),
            input_sha256: sha256_hex(input),
            output_sha256: sha256_hex(stdout),
            case_index,
            period_end: None,
            ..Decision::sample(&nip, output)
        }
    }

    /// The stored request the decisions below came from: case 0 for NIP 1, case 1 for NIP 2.
    fn req() -> Value {
        serde_json::json!({"cases": [
            {"employee": {"nip": "1"}, "period": {"id": "2026"}},
            {"employee": {"nip": "2"}, "period": {"id": "2026"}}
        ]})
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
        let v = judge(&d, b"in", Some(&req()), Some(OUT), Ok((OUT, 1, 0.1)));
        assert!(v.identical, "{:?}", v.mismatches);
    }

    /// A stored output that only skips as JSON (a lone surrogate) is named as such, not as
    /// another employee's or another result.
    #[test]
    fn a_stored_output_that_is_not_json_is_named() {
        let mut d = decision(
            serde_json::json!({"nip":"2","predikat":"kurang"}),
            Some(1),
            b"in",
            OUT,
        );
        d.output = serde_json::value::RawValue::from_string(r#"{"nip":"2","x":"\udc00"}"#.into())
            .expect("skips as JSON");
        let v = judge(&d, b"in", Some(&req()), Some(OUT), Ok((OUT, 1, 0.1)));
        assert!(!v.identical && !v.decision_output_matches);
        assert!(
            v.mismatches
                .iter()
                .any(|m| m.contains("stored output is not JSON")),
            "{:?}",
            v.mismatches
        );
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
        let v = judge(&d, b"in", Some(&req()), Some(OUT), Ok((OUT, 1, 0.1)));
        assert!(!v.identical && !v.decision_output_matches && v.output_bytes_identical);
        assert!(v.mismatches[0].contains("result 1"), "{:?}", v.mismatches);

        // The stored request was edited.
        let d = decision(
            serde_json::json!({"nip":"2","predikat":"kurang"}),
            Some(1),
            b"in",
            OUT,
        );
        let v = judge(&d, b"IN", Some(&req()), Some(OUT), Ok((OUT, 1, 0.1)));
        assert!(!v.identical && !v.input_intact);

        // The module now answers differently.
        let other = br#"{"results":[{"nip":"1","predikat":"baik"},{"nip":"2","predikat":"baik"}]}"#;
        let v = judge(&d, b"in", Some(&req()), Some(OUT), Ok((other, 1, 0.1)));
        assert!(!v.identical && !v.output_bytes_identical && !v.decision_output_matches);

        // The stored stdout was edited (its hash no longer matches).
        let v = judge(&d, b"in", Some(&req()), Some(other), Ok((OUT, 1, 0.1)));
        assert!(!v.identical && !v.output_bytes_identical);

        // Another employee's result moved onto this decision, index and all: every hash and
        // the part still agree, only the subject gives it away.
        let mut swapped = decision(
            serde_json::json!({"nip":"2","predikat":"kurang"}),
            Some(1),
            b"in",
            OUT,
        );
        swapped.nip = Some("1".into());
        let v = judge(&swapped, b"in", Some(&req()), Some(OUT), Ok((OUT, 1, 0.1)));
        assert!(!v.identical && !v.subject_matches && v.decision_output_matches);
        // Another period's claim on the same request.
        let mut other_period = d.clone();
        other_period.period = Some("2025".into());
        let v = judge(
            &other_period,
            b"in",
            Some(&req()),
            Some(OUT),
            Ok((OUT, 1, 0.1)),
        );
        assert!(!v.identical && !v.subject_matches);

        // The module is gone or fails.
        let v = judge(
            &d,
            b"in",
            Some(&req()),
            Some(OUT),
            Err("no such module".into()),
        );
        assert!(!v.identical && v.mismatches.iter().any(|m| m.contains("no such module")));
    }
}

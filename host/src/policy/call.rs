//! Call and check: one plugin call on a blocking thread, its outcome counted and its output
//! checked against the hook's schema (and, for an appraisal, one result per case in order).

use super::*;

/// One finished plugin call and what it was given.
pub(super) struct Call {
    pub(super) out: CallOutput,
    /// The checked response, for calls whose results are not stored (`Null` when they are).
    pub(super) value: Value,
    /// The checked results as written, for appraisals whose results are stored.
    pub(super) raw: Option<Vec<RawResult>>,
    /// The request and stdout, packed for storage; only for calls whose results are kept.
    pub(super) bytes: Option<CallBytes>,
}

/// A checked response: a JSON tree, or for a stored appraisal its results as written.
pub(super) enum Checked {
    Value(Value),
    Raw(Vec<RawResult>),
}

/// Whether a call's bytes will be stored with its decisions (and so are packed on the worker
/// thread) or the call is a preview whose bytes are dropped.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Keep {
    Bytes,
    Nothing,
}

/// What a call left on its blocking thread: the output, the checked response, and the packed
/// bytes when they are kept.
pub(super) type RawCall =
    Result<(CallOutput, Result<Checked, String>, Option<CallBytes>), CallError>;

/// The blocking half of a call. The response is parsed, schema-checked and packed on the same
/// thread as the call: on the async worker it serialised every batch's work behind the others.
pub(super) fn call_blocking(
    rt: &Runtime,
    (region, id): (&str, &str),
    hook: Hook,
    input: Vec<u8>,
    keep: Keep,
) -> RawCall {
    rt.call_for(region, id, hook, &input).map(|out| {
        let checked = match (hook, keep) {
            (Hook::Appraise, Keep::Bytes) => {
                output::check_appraise(id, &out.stdout).map(Checked::Raw)
            }
            _ => output::check(id, hook, &out.stdout).map(Checked::Value),
        };
        let bytes = (keep == Keep::Bytes && checked.is_ok()).then(|| CallBytes {
            input: blob::pack(&input),
            output: blob::pack(&out.stdout),
        });
        (out, checked, bytes)
    })
}

/// The async half of a call: metrics, logs, and the plugin's failure as a [`PolicyError`].
pub(super) fn finish(
    region: &str,
    plugin: &str,
    hook: Hook,
    res: RawCall,
) -> Result<Call, PolicyError> {
    let outcome = |o: &str| {
        metrics::counter!(telemetry::PLUGIN_CALLS, "region" => region.to_string(), "hook" => hook.as_str(), "outcome" => o.to_string()).increment(1);
    };
    let (out, checked, bytes) = match res {
        Ok(r) => r,
        Err(e) => {
            match (&e, e.limit()) {
                (_, Some(limit)) => {
                    metrics::counter!(telemetry::PLUGIN_LIMIT_HITS, "region" => region.to_string(), "limit" => limit.to_string()).increment(1);
                    outcome("limit");
                }
                (CallError::Busy, _) => outcome("busy"),
                (CallError::Paused { .. }, _) => outcome("paused"),
                _ => outcome("error"),
            }
            tracing::warn!(region, plugin, hook = hook.as_str(), error = %e, "plugin call failed");
            return Err(e.into());
        }
    };
    metrics::histogram!(telemetry::PLUGIN_FUEL, "hook" => hook.as_str())
        .record(out.fuel_used as f64);
    metrics::histogram!(telemetry::PLUGIN_DURATION, "hook" => hook.as_str())
        .record(out.duration.as_secs_f64());
    let checked = match checked {
        Ok(v) => v,
        Err(m) => {
            outcome("invalid_output");
            let log = logs(&out.stderr);
            let msg = if log.trim().is_empty() {
                m
            } else {
                format!(
                    "{m} (plugin log: {})",
                    log.trim().chars().take(300).collect::<String>()
                )
            };
            return Err(PolicyError::Plugin(msg));
        }
    };
    outcome("ok");
    let (value, raw) = match checked {
        Checked::Value(v) => (v, None),
        Checked::Raw(r) => (Value::Null, Some(r)),
    };
    Ok(Call {
        out,
        value,
        raw,
        bytes,
    })
}

/// One call of the appraise hook (region, plugin, config) over `cases` on this thread: the
/// request written, the module run, its output checked against the schema.
pub(super) fn appraise_call(
    rt: &Runtime,
    (region, plugin, config): (&str, &str, &Value),
    cases: &[Box<Case>],
    keep: Keep,
) -> Result<Call, PolicyError> {
    let input = appraise_request(region, config, cases)?;
    let raw = call_blocking(rt, (region, plugin), Hook::Appraise, input, keep);
    finish(region, plugin, Hook::Appraise, raw)
}

/// One result per case, same order, across the calls of batches of `batch`: anything else is
/// the plugin's fault.
pub(super) fn check_results(
    plugin: &str,
    batch: usize,
    cases: &[Box<Case>],
    calls: &[Call],
) -> Result<(), PolicyError> {
    for (i, call) in calls.iter().enumerate() {
        let first = i * batch;
        let end = cases.len().min(first + batch);
        check_call(plugin, first, cases.get(first..end).unwrap_or(&[]), call)?;
    }
    Ok(())
}

/// One result per case of the call's `cases` (the first being case `first` of the
/// appraisal), same order.
pub(super) fn check_call(
    plugin: &str,
    first: usize,
    cases: &[Box<Case>],
    call: &Call,
) -> Result<(), PolicyError> {
    let n = cases.len();
    let nips: Vec<Option<&str>> = match &call.raw {
        Some(raw) => raw.iter().map(|r| Some(r.nip.as_str())).collect(),
        None => call.value["results"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(|r| r["nip"].as_str())
            .collect(),
    };
    if nips.len() != n {
        return Err(PolicyError::Plugin(format!(
            "plugin {plugin} answered {} results for {n} cases",
            nips.len()
        )));
    }
    for (i, (nip, case)) in nips.into_iter().zip(cases).enumerate() {
        let want = &case.employee.nip;
        if nip != Some(want.as_str()) {
            return Err(PolicyError::Plugin(format!(
                "plugin {plugin} answered result {} for nip {} where {want} was asked",
                first + i,
                nip.map_or_else(|| "(none)".to_string(), |n| Value::from(n).to_string())
            )));
        }
    }
    Ok(())
}

impl From<CallError> for PolicyError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Busy => PolicyError::Busy("every plugin slot is busy; retry shortly".into()),
            CallError::Paused { retry_after, .. } => PolicyError::Paused {
                message: e.to_string(),
                retry_after,
            },
            CallError::Internal(m) => PolicyError::Internal(m),
            other => PolicyError::Call(other),
        }
    }
}

impl Policy {
    /// Runs one call on a blocking thread (the WASI adapter blocks), checks its output and
    /// counts it in the metrics.
    pub(super) async fn call(
        &self,
        region: &str,
        plugin: &str,
        hook: Hook,
        input: Vec<u8>,
        keep: Keep,
    ) -> Result<Call, PolicyError> {
        self.call_with(region, plugin, hook, move || Ok(input), keep)
            .await
    }

    /// [`Policy::call`] with the request built on the blocking thread too, so that the
    /// batches of a large appraisal are serialised in parallel rather than one after another
    /// on the async task before the first call starts.
    pub(super) async fn call_with<F>(
        &self,
        region: &str,
        plugin: &str,
        hook: Hook,
        input: F,
        keep: Keep,
    ) -> Result<Call, PolicyError>
    where
        F: FnOnce() -> Result<Vec<u8>, PolicyError> + Send + 'static,
    {
        let rt = Arc::clone(&self.runtime);
        let (r, id) = (region.to_string(), plugin.to_string());
        let res = tokio::task::spawn_blocking(move || {
            input().map(|input| call_blocking(&rt, (&r, &id), hook, input, keep))
        })
        .await
        .map_err(|e| PolicyError::Internal(format!("plugin task failed: {e}")))??;
        finish(region, plugin, hook, res)
    }
}

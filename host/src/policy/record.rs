//! Record and answer: the decisions of checked calls, and the stored results as the answer
//! shows them (each with its decision id).

use super::*;

/// Below this many results the answer is built on one thread.
pub(super) const PARALLEL_ANSWER_FROM: usize = 4096;

/// The stored decisions' outputs as the answer shows them, with their ids. A region's answer
/// is built while its commit syncs, and on one thread it would take longer than the commit.
pub(super) fn answer(decisions: &[Decision]) -> Result<Vec<Box<RawValue>>, PolicyError> {
    crate::store::in_parts(decisions, PARALLEL_ANSWER_FROM, "answer", |part| {
        part.iter()
            .map(|d| with_decision_id(&d.output, &d.id))
            .collect()
    })
}

/// A result as written with the server's `"decision_id"` in it. The object is spliced, not
/// parsed, unless it may hold a `decision_id` of its own (the schema allows extra fields, and
/// a client reading a duplicated key keeps the last): then the server's replaces it.
pub(super) fn with_decision_id(raw: &RawValue, id: &str) -> Result<Box<RawValue>, PolicyError> {
    let text = raw.get();
    let internal = |e: serde_json::Error| PolicyError::Internal(e.to_string());
    // An escape could spell the key too.
    if text.contains("decision_id") || text.contains("\\u") {
        let mut v: serde_json::Map<String, Value> = serde_json::from_str(text).map_err(internal)?;
        v.insert("decision_id".into(), Value::String(id.into()));
        return serde_json::value::to_raw_value(&v).map_err(internal);
    }
    let Some(rest) = text.strip_prefix('{') else {
        return Err(PolicyError::Internal(
            "a stored appraisal result is not an object".into(),
        ));
    };
    let sep = if rest.trim_start().starts_with('}') {
        ""
    } else {
        ","
    };
    // Ids are `dec-` and digits: nothing to escape.
    let spliced = format!("{{\"decision_id\":\"{id}\"{sep}{rest}");
    RawValue::from_string(spliced).map_err(internal)
}

/// The decisions of an appraisal's checked calls, not yet stored, with the bytes of each call
/// and what the calls cost.
pub(super) struct Made {
    pub(super) decisions: Vec<Decision>,
    pub(super) kept: Vec<CallBytes>,
    pub(super) in_plugin: Duration,
    pub(super) fuel: u64,
}

impl Made {
    /// One decision per result of `calls`, in order, each built from records read at `read`
    /// (a caller whose cases were read apart sets each part's own afterwards). A plain function rather than a step of
    /// the async path, so that a small appraisal's worker builds its decisions on the blocking
    /// thread that made the call.
    pub(super) fn of(
        region: &str,
        plugin: &str,
        period: Period,
        actor: &str,
        calls: Vec<Call>,
        read: InputsRead,
    ) -> Result<Made, PolicyError> {
        let mut made = Made {
            decisions: Vec::with_capacity(
                calls
                    .iter()
                    .map(|c| c.raw.as_ref().map_or(0, Vec::len))
                    .sum(),
            ),
            kept: Vec::with_capacity(calls.len()),
            in_plugin: Duration::ZERO,
            fuel: 0,
        };
        let at = now_rfc3339();
        let by = Some(actor.to_string());
        let (period_s, end_s) = (Some(period.to_string()), Some(period.end().to_string()));
        for mut call in calls {
            made.in_plugin += call.out.duration;
            made.fuel += call.out.fuel_used;
            let results = call.raw.take().unwrap_or_default();
            let bytes = call
                .bytes
                .take()
                .ok_or_else(|| PolicyError::Internal("a stored call was not packed".into()))?;
            let log = logs(&call.out.stderr);
            let dur = ms(call.out.duration);
            for (i, r) in results.into_iter().enumerate() {
                made.decisions.push(Decision {
                    id: String::new(),
                    region: region.into(),
                    hook: Hook::Appraise.as_str().into(),
                    plugin: plugin.into(),
                    input_sha256: bytes.input.sha256.clone(),
                    output_sha256: bytes.output.sha256.clone(),
                    output: r.raw,
                    output_span: r.span,
                    case_index: Some(i),
                    // `check_call` made sure it is the case's NIP.
                    nip: Some(r.nip),
                    period: period_s.clone(),
                    period_end: end_s.clone(),
                    as_of: None,
                    inputs_read: Some(read),
                    fuel: call.out.fuel_used,
                    duration_ms: dur,
                    logs: log.clone(),
                    at: at.clone(),
                    by: by.clone(),
                });
            }
            made.kept.push(bytes);
        }
        Ok(made)
    }
}

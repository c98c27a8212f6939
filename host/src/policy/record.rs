//! Record and answer: the decisions of checked calls, and the stored results as the answer
//! shows them (each with its decision id).

use super::*;

/// Below this many results the answer is built on one thread.
pub(super) const PARALLEL_ANSWER_FROM: usize = 4096;

/// The stored results' outputs as the answer shows them, with their decision ids. A region's
/// answer is built while its commit syncs, and on one thread it would take longer than the
/// commit.
pub(super) fn answer(calls: &[CallRecord]) -> Result<Vec<Box<RawValue>>, PolicyError> {
    let results: Vec<&CallResult> = calls.iter().flat_map(|c| &c.results).collect();
    crate::store::in_parts(&results, PARALLEL_ANSWER_FROM, "answer", |part| {
        part.iter()
            .map(|r| with_decision_id(&r.output, &r.id))
            .collect()
    })
}

/// From this many results on, a stored appraisal's calls are freed on a thread of their own.
const FREE_APART_FROM: usize = 4096;

/// Stores `calls` through group commit, in a transaction of their own, and answers their
/// results with their decision ids (see [`answer`]). The answer is built on a thread of its
/// own from the moment the ids are given, while the rows are written and the commit syncs, and
/// is answered only once the commit is durable; should the write fail, its own error is
/// answered.
pub(super) async fn commit_and_answer(
    store: &Arc<Store>,
    calls: Vec<CallRecord>,
) -> Result<Vec<Box<RawValue>>, PolicyError> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let stored = store
        .put_decisions_meanwhile(calls, move |calls| {
            let _ = tx.send(answer(calls));
        })
        .await?;
    // The commit is durable: should the work beside it not have run (no thread, a panic),
    // the answer is built now, one result after another on a blocking thread (no threads of
    // its own: their lack may be why), rather than a stored appraisal answered as failed.
    let (answered, stored) = match rx.await {
        Ok(answered) => (answered?, stored),
        Err(_) => tokio::task::spawn_blocking(move || {
            let answered = stored
                .iter()
                .flat_map(|c| &c.results)
                .map(|r| with_decision_id(&r.output, &r.id))
                .collect::<Result<Vec<_>, _>>();
            (answered, stored)
        })
        .await
        .map(|(answered, stored)| answered.map(|a| (a, stored)))
        .map_err(|e| PolicyError::Internal(format!("building the answer failed: {e}")))??,
    };
    // A region's results take a while to free: not on the answer's path. (Should no thread
    // start, they are freed here: the commit is durable, so the answer stands.)
    if crate::store::results_in(&stored) >= FREE_APART_FROM {
        let _ = std::thread::Builder::new()
            .name("free".into())
            .spawn(move || drop(stored));
    }
    Ok(answered)
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

/// An appraisal's checked calls as they will be stored, and what the calls cost.
pub(super) struct Made {
    pub(super) calls: Vec<CallRecord>,
    pub(super) in_plugin: Duration,
    pub(super) fuel: u64,
}

impl Made {
    /// One record per call of `calls`, in order, each result built from records read at
    /// `read` (a caller whose cases were read apart sets each part's own afterwards). A plain
    /// function rather than a step of the async path, so that a small appraisal's worker
    /// builds its records on the blocking thread that made the call.
    pub(super) fn of(
        region: &str,
        plugin: &str,
        period: Period,
        actor: &str,
        calls: Vec<Call>,
        read: InputsRead,
    ) -> Result<Made, PolicyError> {
        let mut made = Made {
            calls: Vec::with_capacity(calls.len()),
            in_plugin: Duration::ZERO,
            fuel: 0,
        };
        let at = now_rfc3339();
        let (period_s, end_s) = (Some(period.to_string()), Some(period.end().to_string()));
        for mut call in calls {
            made.in_plugin += call.out.duration;
            made.fuel += call.out.fuel_used;
            let bytes = call
                .bytes
                .take()
                .ok_or_else(|| PolicyError::Internal("a stored call was not packed".into()))?;
            let results = call
                .raw
                .take()
                .unwrap_or_default()
                .into_iter()
                .enumerate()
                .map(|(i, r)| CallResult {
                    id: String::new(),
                    output: r.raw,
                    output_span: r.span,
                    case_index: Some(i),
                    // `check_call` made sure it is the case's NIP.
                    nip: Some(r.nip),
                    inputs_read: Some(read),
                })
                .collect();
            made.calls.push(CallRecord {
                meta: CallMeta {
                    region: region.into(),
                    hook: Hook::Appraise,
                    plugin: plugin.into(),
                    period: period_s.clone(),
                    period_end: end_s.clone(),
                    as_of: None,
                    fuel: call.out.fuel_used,
                    duration_ms: ms(call.out.duration),
                    logs: logs(&call.out.stderr),
                    at: at.clone(),
                    by: Some(actor.to_string()),
                },
                bytes,
                results,
            });
        }
        Ok(made)
    }
}

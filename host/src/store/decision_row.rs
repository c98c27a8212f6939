//! The stored form of decisions. The decisions of one plugin call share most of their fields
//! (region, hook, module, both hashes, period, time, actor, fuel, logs): about a third of each
//! row when they were repeated, written and committed again for each of a batch's results.
//! They are stored once per call in `DECISION_CALLS`, under the id of the call's first
//! decision; a decision's row keeps its own fields (case, NIP, output) and that key. Rows
//! written before, with every field, are still read as they are.

use super::{from_json, has_key, to_json, Decision, Result, StoreError};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// How every decision row of this form starts as written here (serde writes fields in
/// declaration order). A tool that re-encodes a row may reorder its keys, so a row without
/// this start is tried as an old whole row first, then as a split one.
const SPLIT: &[u8] = br#"{"v":2,"#;

/// What the decisions of one call share.
#[derive(Serialize, Deserialize)]
struct Shared {
    region: String,
    hook: String,
    plugin: String,
    input_sha256: String,
    output_sha256: String,
    period: Option<String>,
    period_end: Option<String>,
    as_of: Option<String>,
    fuel: u64,
    duration_ms: f64,
    logs: String,
    at: String,
    by: Option<String>,
}

#[derive(Serialize)]
struct SharedRef<'a> {
    region: &'a str,
    hook: &'a str,
    plugin: &'a str,
    input_sha256: &'a str,
    output_sha256: &'a str,
    period: Option<&'a str>,
    period_end: Option<&'a str>,
    as_of: Option<&'a str>,
    fuel: u64,
    duration_ms: f64,
    logs: &'a str,
    at: &'a str,
    by: Option<&'a str>,
}

impl<'a> From<&'a Decision> for SharedRef<'a> {
    fn from(d: &'a Decision) -> Self {
        SharedRef {
            region: &d.region,
            hook: &d.hook,
            plugin: &d.plugin,
            input_sha256: &d.input_sha256,
            output_sha256: &d.output_sha256,
            period: d.period.as_deref(),
            period_end: d.period_end.as_deref(),
            as_of: d.as_of.as_deref(),
            fuel: d.fuel,
            duration_ms: d.duration_ms,
            logs: &d.logs,
            at: &d.at,
            by: d.by.as_deref(),
        }
    }
}

/// Whether `a` and `b` can share one call row.
fn same_call(a: &Decision, b: &Decision) -> bool {
    a.input_sha256 == b.input_sha256
        && a.output_sha256 == b.output_sha256
        && a.region == b.region
        && a.hook == b.hook
        && a.plugin == b.plugin
        && a.period == b.period
        && a.period_end == b.period_end
        && a.as_of == b.as_of
        && a.fuel == b.fuel
        && a.duration_ms.to_bits() == b.duration_ms.to_bits()
        && a.logs == b.logs
        && a.at == b.at
        && a.by == b.by
}

#[derive(Serialize)]
struct RowRef<'a> {
    v: u8,
    call: &'a str,
    case_index: Option<usize>,
    nip: Option<&'a str>,
    output: &'a RawValue,
}

#[derive(Deserialize)]
struct Row {
    v: u8,
    call: String,
    case_index: Option<usize>,
    nip: Option<String>,
    output: Box<RawValue>,
}

/// For each decision (ids assigned), the index of the first decision of its call: runs of
/// decisions that share a call, in order.
pub(super) fn calls_of(decisions: &[Decision]) -> Vec<usize> {
    let mut first = 0;
    (0..decisions.len())
        .map(|i| {
            if !same_call(&decisions[first], &decisions[i]) {
                first = i;
            }
            first
        })
        .collect()
}

/// The call row of `d` (the first decision of its call).
pub(super) fn encode_call(d: &Decision) -> Result<Vec<u8>> {
    to_json(&SharedRef::from(d))
}

/// The row of `d`, whose call is stored under `call`.
pub(super) fn encode(d: &Decision, call: &str) -> Result<Vec<u8>> {
    to_json(&RowRef {
        v: 2,
        call,
        case_index: d.case_index,
        nip: d.nip.as_deref(),
        output: &d.output,
    })
}

/// Reads decision rows, joining each with its call row; consecutive decisions of one call
/// (the usual order) read the call row once.
pub(super) struct Reader<T> {
    calls: T,
    last: Option<(String, Shared)>,
}

impl<T: ReadableTable<&'static str, &'static [u8]>> Reader<T> {
    pub(super) fn new(calls: T) -> Self {
        Reader { calls, last: None }
    }

    fn shared(&mut self, id: &str, call: &str) -> Result<&Shared> {
        if self.last.as_ref().is_none_or(|(k, _)| k != call) {
            let row = self.calls.get(call)?.ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "decision `{id}` names call `{call}`, which is missing"
                ))
            })?;
            let s: Shared = from_json(row.value()).map_err(|e| {
                StoreError::Corrupt(format!("call `{call}` of decision `{id}`: {e}"))
            })?;
            self.last = Some((call.to_string(), s));
        }
        match &self.last {
            Some((_, s)) => Ok(s),
            None => Err(StoreError::Corrupt(format!("call `{call}` was not kept"))),
        }
    }

    /// The decision stored under `id` as `row`.
    pub(super) fn decode(&mut self, id: &str, row: &[u8]) -> Result<Decision> {
        let damaged = |e: StoreError| StoreError::Corrupt(format!("decision `{id}`: {e}"));
        if !row.starts_with(SPLIT) {
            match from_json::<Decision>(row) {
                Ok(d) => return Ok(d),
                Err(e) if !has_key(row, "call") => return Err(damaged(e)),
                Err(_) => {}
            }
        }
        let r: Row = from_json(row).map_err(damaged)?;
        if r.v != 2 {
            return Err(StoreError::Corrupt(format!(
                "decision `{id}` is stored in a form this version does not know (v {})",
                r.v
            )));
        }
        let s = self.shared(id, &r.call)?;
        Ok(Decision {
            id: id.to_string(),
            region: s.region.clone(),
            hook: s.hook.clone(),
            plugin: s.plugin.clone(),
            input_sha256: s.input_sha256.clone(),
            output_sha256: s.output_sha256.clone(),
            output: r.output,
            case_index: r.case_index,
            nip: r.nip,
            period: s.period.clone(),
            period_end: s.period_end.clone(),
            as_of: s.as_of.clone(),
            fuel: s.fuel,
            duration_ms: s.duration_ms,
            logs: s.logs.clone(),
            at: s.at.clone(),
            by: s.by.clone(),
        })
    }
}

/// The output of a decision row, either form, without its call.
pub(super) fn output(row: &[u8]) -> Result<Box<RawValue>> {
    #[derive(Deserialize)]
    struct O {
        output: Box<RawValue>,
    }
    from_json::<O>(row).map(|o| o.output)
}

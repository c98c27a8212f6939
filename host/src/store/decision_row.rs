//! The stored form of decisions. The decisions of one plugin call share most of their fields
//! (region, hook, module, both hashes, period, time, actor, fuel, logs): repeated, they would
//! be about a third of each row, written and committed again for each of a batch's results.
//! They are stored once per call in `DECISION_CALLS` (once per request, for a call that several
//! coalesced requests shared: each is stored all or nothing on its own), under the id of its
//! first decision; a decision's row keeps its own fields (case, NIP) and that key.
//!
//! A decision's output is, byte for byte, a part of its call's stdout, which `OUTPUTS` already
//! keeps for replays. A row whose output is such a part (`v` 3) holds only where it lies in
//! that stdout instead of repeating it: the output is most of such a row, and writing it twice
//! would make the single-threaded insert and commit of a region-wide appraisal most of its tail. An
//! output the server re-encoded (one the schema check had to read) is kept in the row (`v` 2).
//! Rows written before either, with every field, are still read as they are.
use super::decisions::{CallRecord, CallResult};
use super::{blob, from_json, has_key, Decision, InputsRead, Result, StoreError};
use redb::ReadableTable;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// How every split decision row starts as written here (serde writes fields in declaration
/// order). A tool that re-encodes a row may reorder its keys, so a row without this start is
/// tried as an old whole row first, then as a split one.
const SPLIT: &[u8] = br#"{"v":"#;

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

impl<'a> From<&'a CallRecord> for SharedRef<'a> {
    fn from(c: &'a CallRecord) -> Self {
        let m = &c.meta;
        SharedRef {
            region: &m.region,
            hook: m.hook.as_str(),
            plugin: &m.plugin,
            input_sha256: &c.bytes.input.sha256,
            output_sha256: &c.bytes.output.sha256,
            period: m.period.as_deref(),
            period_end: m.period_end.as_deref(),
            as_of: m.as_of.as_deref(),
            fuel: m.fuel,
            duration_ms: m.duration_ms,
            logs: &m.logs,
            at: &m.at,
            by: m.by.as_deref(),
        }
    }
}

#[derive(Serialize)]
struct RowRef<'a> {
    v: u8,
    call: &'a str,
    case_index: Option<usize>,
    nip: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    output: Option<&'a RawValue>,
    /// Start and length of the output in the call's stdout.
    #[serde(skip_serializing_if = "Option::is_none")]
    at: Option<(usize, usize)>,
    /// Per decision, not per call: the requests sharing a call read their records apart.
    #[serde(skip_serializing_if = "Option::is_none")]
    read: Option<InputsRead>,
}

#[derive(Deserialize)]
struct Row {
    v: u8,
    call: String,
    case_index: Option<usize>,
    nip: Option<String>,
    #[serde(default, deserialize_with = "some_raw")]
    output: Option<Box<RawValue>>,
    at: Option<(usize, usize)>,
    #[serde(default)]
    read: Option<InputsRead>,
}

/// An `output` that is present, `null` included (a `null` output is an output, as it was when
/// the field was required).
fn some_raw<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<Box<RawValue>>, D::Error> {
    Box::<RawValue>::deserialize(d).map(Some)
}

/// The row of a call, stored under the id of its first result.
pub(super) fn encode_call(c: &CallRecord) -> Result<Vec<u8>> {
    super::to_json(&SharedRef::from(c))
}

/// Appends the row of the result `r`, whose call is stored under `call`, to `buf`: the rows
/// of a batch go into one buffer, not an allocation each.
pub(super) fn encode_into(buf: &mut Vec<u8>, r: &CallResult, call: &str) -> Result<()> {
    // A span that cannot be the output's (an output changed after the check that found it)
    // must not replace it: the output is kept in the row then.
    let span = r
        .output_span
        .filter(|&(_, len)| len == r.output.get().len());
    let (output, at) = match span {
        Some(at) => (None, Some(at)),
        None => (Some(&*r.output), None),
    };
    let row = RowRef {
        v: if at.is_some() { 3 } else { 2 },
        call,
        case_index: r.case_index,
        nip: r.nip.as_deref(),
        output,
        at,
        read: r.inputs_read,
    };
    serde_json::to_writer(buf, &row)
        .map_err(|e| StoreError::Fault(format!("cannot encode decision: {e}")))
}

/// The row of the result `r`, whose call is stored under `call`.
#[cfg(test)]
pub(super) fn encode(r: &CallResult, call: &str) -> Result<Vec<u8>> {
    let mut buf = Vec::new();
    encode_into(&mut buf, r, call)?;
    Ok(buf)
}

/// Reads decision rows, joining each with its call row and, for a row that refers to its
/// output, with the call's stdout; consecutive decisions of one call (the usual order) read
/// each of those once.
pub(super) struct Reader<T> {
    calls: Calls<T>,
    outputs: Outputs<T>,
}

/// The call row read last: a batch's decisions are stored, and so read, one after another.
struct Calls<T> {
    table: T,
    last: Option<(String, Shared)>,
}

/// How many unpacked stdouts a reader keeps. More than one, so that a scope read in NIP order
/// whose decisions come from a region's batch and, in between, single-employee calls does not
/// unpack the batch's stdout again after each of those.
const KEPT_OUTPUTS: usize = 4;

/// The call stdouts read last, unpacked and checked, oldest first.
struct Outputs<T> {
    table: T,
    kept: Vec<(String, Vec<u8>)>,
}

impl<T: ReadableTable<&'static str, &'static [u8]>> Calls<T> {
    fn get(&mut self, id: &str, call: &str) -> Result<&Shared> {
        if self.last.as_ref().is_none_or(|(k, _)| k != call) {
            let row = self.table.get(call)?.ok_or_else(|| {
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
}

impl<T: ReadableTable<&'static str, &'static [u8]>> Outputs<T> {
    /// The stdout stored under `sha`. Its hash is checked here, on every read and not only by
    /// a replay: it is where most decisions' outputs are read from.
    fn stdout(&mut self, id: &str, sha: &str) -> Result<&[u8]> {
        let i = match self.kept.iter().position(|(k, _)| k == sha) {
            Some(i) => i,
            None => {
                let row = self.table.get(sha)?.ok_or_else(|| {
                    StoreError::Corrupt(format!(
                        "decision `{id}` lies in its call's output `{sha}`, which is missing"
                    ))
                })?;
                let bytes = blob::unpack(row.value()).map_err(|e| {
                    StoreError::Corrupt(format!("output `{sha}` of decision `{id}`: {e}"))
                })?;
                if blob::sha256_hex(&bytes) != sha {
                    return Err(StoreError::Corrupt(format!(
                        "decision `{id}` lies in its call's output `{sha}`, which no longer \
                         hashes to it"
                    )));
                }
                if self.kept.len() == KEPT_OUTPUTS {
                    self.kept.remove(0);
                }
                self.kept.push((sha.to_string(), bytes));
                self.kept.len() - 1
            }
        };
        Ok(&self.kept[i].1)
    }

    /// The output of a split row (`v`, `output`, `at`) whose call's stdout is stored under
    /// `sha`, and where it lies there.
    fn resolve(
        &mut self,
        id: &str,
        (v, output, at): (u8, Option<Box<RawValue>>, Option<Span>),
        sha: &str,
    ) -> Result<(Box<RawValue>, Option<Span>)> {
        let (start, len) = match (v, output, at) {
            (2, Some(output), None) => return Ok((output, None)),
            (3, None, Some(at)) => at,
            _ => {
                return Err(StoreError::Corrupt(format!(
                    "decision `{id}` (v {v}) is stored without its output, or with it twice"
                )))
            }
        };
        let bytes = self.stdout(id, sha)?;
        let outside = || {
            StoreError::Corrupt(format!(
                "decision `{id}` lies at {start}+{len} of its call's output, which has {} bytes",
                bytes.len()
            ))
        };
        let part = start
            .checked_add(len)
            .and_then(|end| bytes.get(start..end))
            .ok_or_else(outside)?;
        let text = std::str::from_utf8(part).map_err(|_| outside())?;
        let output = RawValue::from_string(text.to_string()).map_err(|e| {
            StoreError::Corrupt(format!(
                "decision `{id}`: its part of its call's output is not JSON: {e}"
            ))
        })?;
        Ok((output, Some((start, len))))
    }
}

/// A reader of the decisions of `tx`.
pub(super) fn reader(
    tx: &redb::ReadTransaction,
) -> Result<Reader<redb::ReadOnlyTable<&'static str, &'static [u8]>>> {
    Ok(Reader {
        calls: Calls {
            table: tx.open_table(super::tables::DECISION_CALLS)?,
            last: None,
        },
        outputs: Outputs {
            table: tx.open_table(super::tables::OUTPUTS)?,
            kept: Vec::new(),
        },
    })
}

/// Start and length of a decision's output in its call's stdout.
type Span = (usize, usize);

/// A decision row as stored: every field (written before call rows), or split.
enum Form {
    Whole(Box<Decision>),
    Split(Row),
}

/// The form of the row stored under `id`.
fn form(id: &str, row: &[u8]) -> Result<Form> {
    let damaged = |e: StoreError| StoreError::Corrupt(format!("decision `{id}`: {e}"));
    if !row.starts_with(SPLIT) {
        match from_json::<Decision>(row) {
            Ok(d) => return Ok(Form::Whole(Box::new(d))),
            Err(e) if !has_key(row, "call") => return Err(damaged(e)),
            Err(_) => {}
        }
    }
    let r: Row = from_json(row).map_err(damaged)?;
    if !matches!(r.v, 2 | 3) {
        return Err(StoreError::Corrupt(format!(
            "decision `{id}` is stored in a form this version does not know (v {})",
            r.v
        )));
    }
    Ok(Form::Split(r))
}

impl<T: ReadableTable<&'static str, &'static [u8]>> Reader<T> {
    /// The decision stored under `id` as `row`.
    pub(super) fn decode(&mut self, id: &str, row: &[u8]) -> Result<Decision> {
        let r = match form(id, row)? {
            Form::Whole(d) => return Ok(*d),
            Form::Split(r) => r,
        };
        let s = self.calls.get(id, &r.call)?;
        let (output, output_span) =
            self.outputs
                .resolve(id, (r.v, r.output, r.at), &s.output_sha256)?;
        Ok(Decision {
            id: id.to_string(),
            region: s.region.clone(),
            hook: s.hook.clone(),
            plugin: s.plugin.clone(),
            input_sha256: s.input_sha256.clone(),
            output_sha256: s.output_sha256.clone(),
            output,
            output_span,
            case_index: r.case_index,
            nip: r.nip,
            period: s.period.clone(),
            period_end: s.period_end.clone(),
            as_of: s.as_of.clone(),
            inputs_read: r.read,
            fuel: s.fuel,
            duration_ms: s.duration_ms,
            logs: s.logs.clone(),
            at: s.at.clone(),
            by: s.by.clone(),
        })
    }

    /// Only the period and the output of the decision stored under `id` as `row`, without
    /// copying the other fields of its call (its logs may be 64 KiB), for a caller that only
    /// reads the predikat of an annual appraisal.
    pub(super) fn period_output(
        &mut self,
        id: &str,
        row: &[u8],
    ) -> Result<(Option<String>, Box<RawValue>)> {
        let r = match form(id, row)? {
            Form::Whole(d) => return Ok((d.period, d.output)),
            Form::Split(r) => r,
        };
        let s = self.calls.get(id, &r.call)?;
        let period = s.period.clone();
        let sha = s.output_sha256.clone();
        let (output, _) = self.outputs.resolve(id, (r.v, r.output, r.at), &sha)?;
        Ok((period, output))
    }
}

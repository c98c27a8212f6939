//! Decisions: every plugin result the server acted on, with what is needed to audit and replay it.

use super::blob::{self, Packed};
use super::decision_row;
use super::shard::Shard;
use super::tables::*;
use super::{get_row, next_seq, prefix_end, Page, Result, Store, StoreError};
use crate::domain::period::Period;
use kinerja_abi::Hook;
use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Decision {
    /// Assigned by the store.
    pub id: String,
    pub region: String,
    pub hook: String,
    pub plugin: String,
    /// SHA-256 of the exact request bytes given to the plugin (one call may carry many cases).
    pub input_sha256: String,
    /// SHA-256 of the plugin's whole stdout for that call; a replay compares against it.
    pub output_sha256: String,
    /// This decision's part of the output: one appraisal result as the plugin wrote it, or
    /// the whole rotate response.
    // Raw, not a `Value`: parsing each of a batch's results into a tree and encoding it again
    // for the row cost more than the plugin call.
    #[schema(value_type = Object)]
    pub output: Box<RawValue>,
    /// Where `output` lies in the call's stdout, when it is exactly those bytes: its row then
    /// refers to them instead of repeating them (see `store::decision_row`).
    #[serde(skip)]
    pub output_span: Option<(usize, usize)>,
    /// Position of this case in the call's `cases` (appraisals).
    pub case_index: Option<usize>,
    pub nip: Option<String>,
    pub period: Option<String>,
    pub period_end: Option<String>,
    pub as_of: Option<String>,
    /// Where the records this appraisal was built from were read: its input is what every
    /// write up to these marks made (see `Store::decision_trace`). Null for rotations and for
    /// decisions stored before marks were kept.
    #[serde(default)]
    pub inputs_read: Option<InputsRead>,
    /// Fuel used by the whole call this decision came from.
    pub fuel: u64,
    pub duration_ms: f64,
    pub logs: String,
    pub at: String,
    pub by: Option<String>,
}

impl Decision {
    /// The predikat of an appraisal decision, read without building the whole output.
    pub fn predikat(&self) -> Option<String> {
        predikat_of(&self.output)
    }
}

fn predikat_of(output: &RawValue) -> Option<String> {
    #[derive(Deserialize)]
    struct P {
        predikat: Option<String>,
    }
    serde_json::from_str::<P>(output.get())
        .ok()
        .and_then(|p| p.predikat)
}

/// `v` as a raw output (a `Value` always encodes; `null` should it ever not).
pub fn raw_output(v: &serde_json::Value) -> Box<RawValue> {
    serde_json::value::to_raw_value(v).unwrap_or_else(|_| RawValue::NULL.to_owned())
}

#[cfg(test)]
impl Decision {
    /// An appraise decision of `nip` for 2026 with `output`, the rest empty: tests change
    /// what they are about.
    pub(crate) fn sample(nip: &str, output: serde_json::Value) -> Decision {
        let output = raw_output(&output);
        Decision {
            id: String::new(),
            region: "jambi".into(),
            hook: "appraise".into(),
            plugin: "p".into(),
            input_sha256: String::new(),
            output_sha256: String::new(),
            output,
            output_span: None,
            case_index: Some(0),
            nip: Some(nip.into()),
            period: Some("2026".into()),
            period_end: Some("2026-12-31".into()),
            as_of: None,
            inputs_read: None,
            fuel: 0,
            duration_ms: 0.0,
            logs: String::new(),
            at: String::new(),
            by: None,
        }
    }
}

/// The snapshot an appraisal's records were read in, as the counters stood in it: every
/// audited write (records, period records, ratings) numbered up to `audit_seq` and every
/// activity report numbered up to `activity_id` had been committed, and nothing after them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InputsRead {
    pub audit_seq: u64,
    pub activity_id: u64,
}

/// A stored decision row that does not decode (damaged, or its call row lost).
#[derive(Debug, Clone)]
pub struct Unreadable {
    pub id: String,
    pub reason: String,
}

/// What the appraisal list of an employee shows.
pub type StoredAppraisal = Decision;

/// The request and response of one plugin call, packed; every decision of the call refers to
/// them by hash, so a batch of a thousand results stores its megabyte of input once.
#[derive(Debug, Clone)]
pub struct CallBytes {
    pub input: Packed,
    pub output: Packed,
}

/// What the results of one plugin call share, stored once for all of them (see
/// [`decision_row`]): the module and hook, the subject, the cost, the logs and who asked.
#[derive(Debug, Clone)]
pub struct CallMeta {
    pub region: String,
    pub hook: Hook,
    pub plugin: String,
    pub period: Option<String>,
    pub period_end: Option<String>,
    pub as_of: Option<String>,
    /// Fuel used by the whole call.
    pub fuel: u64,
    pub duration_ms: f64,
    /// The call's stderr, as kept (see `limits`).
    pub logs: String,
    pub at: String,
    pub by: Option<String>,
}

/// One result of a call, stored as a decision of its own.
#[derive(Debug, Clone)]
pub struct CallResult {
    /// Assigned by the store.
    pub id: String,
    /// One appraisal result as the plugin wrote it, or the whole rotate response.
    pub output: Box<RawValue>,
    /// Where `output` lies in the call's stdout, when it is exactly those bytes: its row then
    /// refers to them instead of repeating them.
    pub output_span: Option<(usize, usize)>,
    /// Position of the case in the call's `cases` (appraisals).
    pub case_index: Option<usize>,
    pub nip: Option<String>,
    /// Per result, not per call: the requests sharing a call read their records apart.
    pub inputs_read: Option<InputsRead>,
}

/// One plugin call as policy hands it to the store: what its results share, its request and
/// stdout, and its results. A call whose results answer several requests (small appraisals
/// coalesced into one call) is handed over as one record per request, each with its own
/// results, so that each request is stored all or nothing on its own.
#[derive(Debug, Clone)]
pub struct CallRecord {
    pub meta: CallMeta,
    pub bytes: CallBytes,
    pub results: Vec<CallResult>,
}

impl CallRecord {
    /// Each result as the decision it reads back as once stored.
    #[cfg(test)]
    pub(crate) fn decisions(&self) -> impl Iterator<Item = Decision> + '_ {
        let m = &self.meta;
        self.results.iter().map(move |r| Decision {
            id: r.id.clone(),
            region: m.region.clone(),
            hook: m.hook.as_str().into(),
            plugin: m.plugin.clone(),
            input_sha256: self.bytes.input.sha256.clone(),
            output_sha256: self.bytes.output.sha256.clone(),
            output: r.output.clone(),
            output_span: r.output_span,
            case_index: r.case_index,
            nip: r.nip.clone(),
            period: m.period.clone(),
            period_end: m.period_end.clone(),
            as_of: m.as_of.clone(),
            inputs_read: r.inputs_read,
            fuel: m.fuel,
            duration_ms: m.duration_ms,
            logs: m.logs.clone(),
            at: m.at.clone(),
            by: m.by.clone(),
        })
    }
}

#[cfg(test)]
impl CallResult {
    /// A result of `nip` with `output`, not yet stored.
    pub(crate) fn sample(nip: &str, output: serde_json::Value) -> CallResult {
        CallResult {
            id: String::new(),
            output: raw_output(&output),
            output_span: None,
            case_index: Some(0),
            nip: Some(nip.into()),
            inputs_read: None,
        }
    }
}

#[cfg(test)]
impl CallRecord {
    /// An appraise call of Jambi for 2026 whose request is `tag` and whose stdout is `{}`,
    /// with `results` (their case indexes set in order).
    pub(crate) fn sample(tag: &[u8], mut results: Vec<CallResult>) -> CallRecord {
        for (i, r) in results.iter_mut().enumerate() {
            r.case_index = Some(i);
        }
        CallRecord {
            meta: CallMeta {
                region: "jambi".into(),
                hook: Hook::Appraise,
                plugin: "p".into(),
                period: Some("2026".into()),
                period_end: Some("2026-12-31".into()),
                as_of: None,
                fuel: 0,
                duration_ms: 0.0,
                logs: String::new(),
                at: String::new(),
                by: None,
            },
            bytes: CallBytes {
                input: blob::pack(tag),
                output: blob::pack(b"{}"),
            },
            results,
        }
    }
}

/// The decisions of stored calls, in order, as they read back.
#[cfg(test)]
pub(crate) fn decisions_of(calls: &[CallRecord]) -> Vec<Decision> {
    calls.iter().flat_map(CallRecord::decisions).collect()
}

/// How many results (decisions to be) `calls` hold.
pub fn results_in(calls: &[CallRecord]) -> usize {
    calls.iter().map(|c| c.results.len()).sum()
}

/// The id of `region`'s decision numbered `seq`: the region is in the id, so a decision is
/// found in its region's file from its id alone.
fn decision_id(region: &str, seq: u64) -> String {
    format!("dec-{region}-{seq:012}")
}

/// The region a decision id names; `None` for the ids given before region files
/// (`dec-{seq}`), which name none.
pub fn decision_region(id: &str) -> Option<&str> {
    let (region, _) = id.strip_prefix("dec-")?.rsplit_once('-')?;
    Some(region)
}

/// The number of a decision id within its region (region files continue the numbering of
/// the single file before them, so numbers grow across both forms).
pub(crate) fn decision_seq(id: &str) -> Option<u64> {
    id.rsplit_once('-')?.1.parse().ok()
}

/// The results of `records`, each with its call.
fn results_of(records: &[CallRecord]) -> impl Iterator<Item = (&CallRecord, &CallResult)> {
    records
        .iter()
        .flat_map(|rec| rec.results.iter().map(move |r| (rec, r)))
}

/// Below this many decisions they are encoded on the writing thread.
const PARALLEL_ENCODE_FROM: usize = 4096;

/// Decision rows encoded one after another into one buffer, and where each ends.
struct Rows {
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

impl Rows {
    fn iter(&self) -> impl Iterator<Item = &[u8]> {
        let starts = std::iter::once(0).chain(self.ends.iter().copied());
        starts.zip(&self.ends).map(|(a, &b)| &self.bytes[a..b])
    }
}

/// Every result's row (each naming its call's row, the id of the call's first result; see
/// [`decision_row`]), in parts of consecutive results. A region-wide appraisal encodes
/// 100,000 of them inside the one write transaction, where nothing else can run in parallel;
/// spreading the encoding over the cores takes that share off the single writer.
fn encode_all(records: &[CallRecord], parallel_from: usize) -> Result<Vec<Rows>> {
    let pairs: Vec<(&CallResult, &str)> = results_of(records)
        .map(|(rec, r)| (r, rec.results[0].id.as_str()))
        .collect();
    super::in_parts(&pairs, parallel_from, "decision encoding", |part| {
        let mut rows = Rows {
            bytes: Vec::with_capacity(part.len() * 128),
            ends: Vec::with_capacity(part.len()),
        };
        for (r, call) in part {
            decision_row::encode_into(&mut rows.bytes, r, call)?;
            rows.ends.push(rows.bytes.len());
        }
        Ok(vec![rows])
    })
}

fn unpack_row(what: &str, sha: &str, stored: &[u8]) -> Result<Vec<u8>> {
    blob::unpack(stored).map_err(|e| StoreError::Corrupt(format!("{what} `{sha}`: {e}")))
}

/// Gives each result `results` yields the next decision id, in order, and answers the first
/// one's number (0 when `total` is 0); `results` must yield exactly `total` of them. The ids are taken from the counter once for all of them, not per
/// decision: reopening the counter table per row would be a visible share of a region-wide
/// batch, and work on the one thread every group commit passes through.
fn assign_ids<'a>(
    tx: &redb::WriteTransaction,
    region: &str,
    total: usize,
    results: impl IntoIterator<Item = &'a mut CallResult>,
) -> Result<u64> {
    if total == 0 {
        return Ok(0);
    }
    let first = next_seq(tx, "decision")?;
    if total > 1 {
        tx.open_table(COUNTERS)?
            .insert("decision", first + total as u64 - 1)?;
    }
    let mut given = 0;
    for (i, r) in results.into_iter().enumerate() {
        r.id = decision_id(region, first + i as u64);
        given += 1;
    }
    // More than `total` would hand out ids the next transaction takes again.
    debug_assert_eq!(given, total, "decisions counted and given ids differ");
    Ok(first)
}

/// The tables a decision write touches, opened once per transaction rather than once per
/// request of a group commit.
struct DecisionTables<'tx> {
    inputs: redb::Table<'tx, &'static str, &'static [u8]>,
    outputs: redb::Table<'tx, &'static str, &'static [u8]>,
    rows: redb::Table<'tx, &'static str, &'static [u8]>,
    by_employee: redb::Table<'tx, &'static str, &'static str>,
    calls: redb::Table<'tx, &'static str, &'static [u8]>,
}

impl<'tx> DecisionTables<'tx> {
    fn open(tx: &'tx redb::WriteTransaction) -> Result<Self> {
        Ok(DecisionTables {
            inputs: tx.open_table(INPUTS)?,
            outputs: tx.open_table(OUTPUTS)?,
            rows: tx.open_table(DECISIONS)?,
            by_employee: tx.open_table(APPRAISALS_BY_EMPLOYEE)?,
            calls: tx.open_table(DECISION_CALLS)?,
        })
    }

    /// The rows of records whose ids are assigned: each call's request and stdout (once per
    /// content), its call row, and each result's row.
    fn write(&mut self, records: &[CallRecord]) -> Result<()> {
        for rec in records {
            // The call row is keyed by its first result's id: a call without results has no
            // key, and nothing to answer for.
            let Some(first) = rec.results.first() else {
                return Err(StoreError::Fault(format!(
                    "a call of `{}` was handed over without results",
                    rec.meta.plugin
                )));
            };
            let (input, output) = (&rec.bytes.input, &rec.bytes.output);
            if self.inputs.get(input.sha256.as_str())?.is_none() {
                self.inputs
                    .insert(input.sha256.as_str(), input.bytes.as_slice())?;
            }
            if self.outputs.get(output.sha256.as_str())?.is_none() {
                self.outputs
                    .insert(output.sha256.as_str(), output.bytes.as_slice())?;
            }
            self.calls.insert(
                first.id.as_str(),
                decision_row::encode_call(rec)?.as_slice(),
            )?;
        }
        let parts = encode_all(records, PARALLEL_ENCODE_FROM)?;
        for ((rec, r), row) in results_of(records).zip(parts.iter().flat_map(Rows::iter)) {
            self.rows.insert(r.id.as_str(), row)?;
            if let (Some(nip), Some(end)) = (&r.nip, &rec.meta.period_end) {
                let key = format!("{}/{nip}/{end}/{}", rec.meta.region, r.id);
                self.by_employee.insert(key.as_str(), r.id.as_str())?;
            }
        }
        Ok(())
    }
}

/// Gives the results of one or more requests their ids, in the caller's transaction: one
/// unbroken run, taken once for all of them.
pub(super) fn assign_request_ids<'a>(
    tx: &redb::WriteTransaction,
    requests: impl IntoIterator<Item = &'a mut [CallRecord]>,
) -> Result<()> {
    let mut requests: Vec<_> = requests.into_iter().collect();
    let total = requests.iter().map(|r| results_in(r)).sum();
    let Some(region) = requests
        .iter()
        .flat_map(|r| r.iter())
        .map(|c| c.meta.region.clone())
        .next()
    else {
        return Ok(());
    };
    let all = requests
        .iter_mut()
        .flat_map(|r| r.iter_mut())
        .flat_map(|c| c.results.iter_mut());
    assign_ids(tx, &region, total, all)?;
    Ok(())
}

/// Writes the calls of one or more requests whose ids are given in the caller's transaction,
/// with the tables opened once for all of them; the tables are closed on return, so the
/// caller can commit. Every decision write goes through here, from group commit
/// (`store::group`), the one way decisions are stored.
pub(super) fn write_requests<'a>(
    tx: &redb::WriteTransaction,
    requests: impl IntoIterator<Item = &'a [CallRecord]>,
) -> Result<()> {
    let mut tables = DecisionTables::open(tx)?;
    for records in requests {
        tables.write(records)?;
    }
    Ok(())
}

impl Store {
    pub fn decision(&self, id: &str) -> Result<Decision> {
        let not_found = || StoreError::NotFound(format!("decision `{id}`"));
        let homes = match decision_region(id) {
            Some(r) => vec![self.shard(r).map_err(|_| not_found())?],
            // An id from before region files: in whichever region's file holds it.
            None => self.each_shard().into_iter().map(|(_, s)| s).collect(),
        };
        for home in homes {
            let tx = home.db.begin_read()?;
            let mut reader = decision_row::reader(&tx)?;
            if let Some(d) = get_row(&tx.open_table(DECISIONS)?, id, |row| reader.decode(id, row))?
            {
                return Ok(d);
            }
        }
        Err(not_found())
    }

    /// The exact request and (when kept: decisions from before outputs were stored have only
    /// the hash) the exact stdout of the call with these hashes.
    pub fn call_bytes(
        &self,
        region: &str,
        input_sha: &str,
        output_sha: &str,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>)> {
        let tx = self.shard(region)?.db.begin_read()?;
        let input = match tx.open_table(INPUTS)?.get(input_sha)? {
            Some(v) => unpack_row("input", input_sha, v.value())?,
            None => return Err(StoreError::NotFound(format!("input `{input_sha}`"))),
        };
        let output = match tx.open_table(OUTPUTS)?.get(output_sha)? {
            Some(v) => Some(unpack_row("output", output_sha, v.value())?),
            None => None,
        };
        Ok((input, output))
    }

    /// Every decision, oldest first, of `region` (all when `None`) made at or after `since`
    /// (an RFC 3339 prefix such as `2026-11-01`), for `kinerja audit verify`; and every stored
    /// decision that cannot be read, with why. Those are not filtered (a decision whose call
    /// row is lost has no region or time left to filter by), and they do not stop the read: a
    /// call row covers a whole batch, and the audit should name each of its decisions rather
    /// than fail outright.
    pub fn decisions_since(
        &self,
        region: Option<&str>,
        since: Option<&str>,
    ) -> Result<(Vec<Decision>, Vec<Unreadable>)> {
        let homes = match region {
            Some(r) => vec![self.shard(r)?],
            None => self.each_shard().into_iter().map(|(_, s)| s).collect(),
        };
        let mut out = Vec::new();
        let mut unreadable = Vec::new();
        for home in homes {
            decisions_in(&home, region, since, &mut out, &mut unreadable)?;
        }
        Ok((out, unreadable))
    }
}

/// [`Store::decisions_since`] in one file, appended to `out` and `unreadable`.
fn decisions_in(
    home: &Shard,
    region: Option<&str>,
    since: Option<&str>,
    out: &mut Vec<Decision>,
    unreadable: &mut Vec<Unreadable>,
) -> Result<()> {
    {
        let tx = home.db.begin_read()?;
        let t = tx.open_table(DECISIONS)?;
        let mut reader = decision_row::reader(&tx)?;
        for row in t.iter()? {
            let (k, v) = row?;
            let d = match reader.decode(k.value(), v.value()) {
                Ok(d) => d,
                Err(StoreError::Corrupt(reason)) => {
                    unreadable.push(Unreadable {
                        id: k.value().to_string(),
                        reason,
                    });
                    continue;
                }
                Err(e) => return Err(e),
            };
            if region.is_some_and(|r| r != d.region) || since.is_some_and(|s| d.at.as_str() < s) {
                continue;
            }
            out.push(d);
        }
        Ok(())
    }
}

impl Store {
    /// An employee's appraisal decisions, newest first, all of them.
    pub fn appraisals_of(&self, region: &str, nip: &str) -> Result<Vec<Decision>> {
        Ok(self.appraisals_page(region, nip, None, usize::MAX)?.items)
    }

    /// One page of an employee's appraisal decisions, newest first: those older than the
    /// decision `before` (the previous page's `next`), at most `limit`. The index is ordered
    /// by period, not by age, so every id of the employee is read and sorted (a short string
    /// each); only the page's decisions are decoded, which is the cost that grows.
    pub fn appraisals_page(
        &self,
        region: &str,
        nip: &str,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Page<Decision>> {
        let tx = self.shard(region)?.db.begin_read()?;
        let idx = tx.open_table(APPRAISALS_BY_EMPLOYEE)?;
        let dec = tx.open_table(DECISIONS)?;
        let mut reader = decision_row::reader(&tx)?;
        let prefix = format!("{region}/{nip}/");
        let mut ids = Vec::new();
        for row in idx.range::<&str>(prefix.as_str()..prefix_end(&prefix).as_str())? {
            ids.push(row?.1.value().to_string());
        }
        ids.sort_unstable_by(|a, b| b.cmp(a));
        let start = before.map_or(0, |b| ids.partition_point(|id| id.as_str() >= b));
        let rest = &ids[start..];
        let page = &rest[..rest.len().min(limit)];
        let mut items = Vec::with_capacity(page.len());
        for id in page {
            if let Some(v) = dec.get(id.as_str())? {
                items.push(reader.decode(id, v.value())?);
            }
        }
        let next = (rest.len() > page.len())
            .then(|| page.last().cloned())
            .flatten();
        Ok(Page { items, next })
    }

    /// The newest stored appraisal of each of `nips` for exactly `period`, in one read.
    pub fn appraisals_for_period(
        &self,
        region: &str,
        nips: &[String],
        period: Period,
    ) -> Result<Vec<Option<Decision>>> {
        let tx = self.shard(region)?.db.begin_read()?;
        let idx = tx.open_table(APPRAISALS_BY_EMPLOYEE)?;
        let dec = tx.open_table(DECISIONS)?;
        let mut reader = decision_row::reader(&tx)?;
        nips.iter()
            .map(
                |nip| match newest_of_period(&idx, &dec, &mut reader, (region, nip), period)? {
                    Some(id) => get_row(&dec, &id, |row| reader.decode(&id, row)),
                    None => Ok(None),
                },
            )
            .collect()
    }

    /// Whether an annual appraisal of `nip` for `year` was stored with a decision id number
    /// above `after` (an SKP approved then is locked by it).
    pub(super) fn annual_since(
        tx: &redb::ReadTransaction,
        (region, nip): (&str, &str),
        year: i32,
        after: u64,
    ) -> Result<bool> {
        let idx = tx.open_table(APPRAISALS_BY_EMPLOYEE)?;
        let dec = tx.open_table(DECISIONS)?;
        let mut reader = decision_row::reader(tx)?;
        let newest = newest_of_period(&idx, &dec, &mut reader, (region, nip), Period::Year(year))?;
        // Ids are sequential: the newest annual one is the only one to compare.
        Ok(newest.is_some_and(|id| decision_seq(&id).is_some_and(|seq| seq > after)))
    }

    /// For each of `nips`, the predikat of its stored **annual** appraisal whose year ends last
    /// on or before `as_of` (ties: the newest decision). The talent map stands on the year's
    /// appraisal (plugin contract, `latest_predikat`): a poor December *monthly* appraisal must
    /// not replace the annual predikat of the same year. One read for a whole scope: a rotation
    /// asks for thousands, and neighbours in NIP order usually share a call's stored output.
    pub fn latest_predikats<'a>(
        &self,
        region: &str,
        nips: impl IntoIterator<Item = &'a str>,
        as_of: &str,
    ) -> Result<Vec<Option<String>>> {
        let tx = self.shard(region)?.db.begin_read()?;
        let idx = tx.open_table(APPRAISALS_BY_EMPLOYEE)?;
        let dec = tx.open_table(DECISIONS)?;
        let mut reader = decision_row::reader(&tx)?;
        let mut out = Vec::new();
        for nip in nips {
            let lo = format!("{region}/{nip}/");
            let hi = format!("{region}/{nip}/{as_of}0");
            let mut predikat = None;
            // Newest first; only year-end keys can hold an annual appraisal.
            for row in idx.range::<&str>(lo.as_str()..hi.as_str())?.rev() {
                let (key, id) = row?;
                if key.value()[lo.len()..].get(4..11) != Some("-12-31/") {
                    continue;
                }
                let read = get_row(&dec, id.value(), |row| {
                    reader.period_output(id.value(), row)
                })?;
                if let Some((Some(period), output)) = read {
                    if matches!(Period::parse(&period), Ok(Period::Year(_))) {
                        predikat = predikat_of(&output);
                        break;
                    }
                }
            }
            out.push(predikat);
        }
        Ok(out)
    }
}

type ReadTable<V> = redb::ReadOnlyTable<&'static str, V>;

/// The id of the newest stored appraisal of `nip` for exactly `period`: the index holds them by
/// period end, which a December month, a fourth quarter and a year share, so each candidate's
/// period is read (not its whole row).
fn newest_of_period(
    idx: &ReadTable<&'static str>,
    dec: &ReadTable<&'static [u8]>,
    reader: &mut decision_row::Reader<ReadTable<&'static [u8]>>,
    (region, nip): (&str, &str),
    period: Period,
) -> Result<Option<String>> {
    let wanted = period.to_string();
    let prefix = format!("{region}/{nip}/{}/", period.end());
    let end = prefix_end(&prefix);
    for row in idx.range::<&str>(prefix.as_str()..end.as_str())?.rev() {
        let (_, id) = row?;
        let id = id.value();
        let read = get_row(dec, id, |row| reader.period_output(id, row))?;
        if read.is_some_and(|(p, _)| p.as_deref() == Some(wanted.as_str())) {
            return Ok(Some(id.to_string()));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::super::has_key;
    use super::*;
    use crate::store::test_store;
    use redb::ReadableTableMetadata;
    use std::sync::Arc;

    fn call(d: &mut Decision, input: &str, i: usize) {
        d.input_sha256 = blob::sha256_hex(input.as_bytes());
        d.output_sha256 = blob::sha256_hex(b"{}");
        d.case_index = Some(i);
    }

    /// Changes one table behind the store's back, as damage or a tamperer would, in one
    /// committed transaction.
    fn in_table(store: &Store, table: JsonTable, f: impl FnOnce(&mut redb::Table<&str, &[u8]>)) {
        let tx = store
            .shard("jambi")
            .expect("jambi")
            .db
            .begin_write()
            .expect("write");
        f(&mut tx.open_table(table).expect("table"));
        tx.commit().expect("commit");
    }

    /// `d`'s own part, as a result not yet stored.
    fn result_of(d: &Decision) -> CallResult {
        CallResult {
            id: String::new(),
            output: d.output.clone(),
            output_span: d.output_span,
            case_index: d.case_index,
            nip: d.nip.clone(),
            inputs_read: d.inputs_read,
        }
    }

    /// `ds` as the calls they came from: runs of decisions of one request and period, each
    /// call with its bytes from `bytes` (by hash). The tests write their data as decisions,
    /// the form it reads back in.
    fn records(ds: &[Decision], bytes: &[CallBytes]) -> Vec<CallRecord> {
        let mut out: Vec<CallRecord> = Vec::new();
        for d in ds {
            match out.last_mut() {
                Some(c) if c.bytes.input.sha256 == d.input_sha256 && c.meta.period == d.period => {
                    c.results.push(result_of(d))
                }
                _ => out.push(CallRecord {
                    meta: CallMeta {
                        region: d.region.clone(),
                        hook: d.hook.parse().expect("a hook"),
                        plugin: d.plugin.clone(),
                        period: d.period.clone(),
                        period_end: d.period_end.clone(),
                        as_of: d.as_of.clone(),
                        fuel: d.fuel,
                        duration_ms: d.duration_ms,
                        logs: d.logs.clone(),
                        at: d.at.clone(),
                        by: d.by.clone(),
                    },
                    bytes: bytes
                        .iter()
                        .find(|b| {
                            b.input.sha256 == d.input_sha256 && b.output.sha256 == d.output_sha256
                        })
                        .cloned()
                        .expect("the call's bytes"),
                    results: vec![result_of(d)],
                }),
            }
        }
        out
    }

    /// Stores `ds` as [`records`] and fills in their ids.
    fn put(store: &Arc<Store>, ds: &mut [Decision], bytes: &[CallBytes]) -> Result<()> {
        let calls = store.put_decisions(records(ds, bytes))?;
        for (d, r) in ds.iter_mut().zip(calls.iter().flat_map(|c| &c.results)) {
            d.id = r.id.clone();
        }
        Ok(())
    }

    /// A call handed over without results is refused, and its request stores nothing.
    #[test]
    fn a_call_without_results_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(test_store(dir.path()));
        let calls = vec![
            CallRecord::sample(b"a", vec![CallResult::sample("1", serde_json::json!({}))]),
            CallRecord::sample(b"empty", Vec::new()),
        ];
        let err = store.put_decisions(calls).expect_err("refused");
        assert!(err.to_string().contains("without results"), "{err}");
        assert_eq!(store.count(DECISIONS).expect("count"), 0);
        assert_eq!(store.count(INPUTS).expect("count"), 0, "all or nothing");
    }

    /// Several requests written in one transaction take one unbroken run of ids, in order,
    /// the counter ends at the last of them, and each request's decisions and call bytes read
    /// back. (Group commit falls back to one request at a time should this path fail, which
    /// would hide its failure from the group commit tests.)
    #[test]
    fn requests_written_together_take_one_run_of_ids() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = test_store(dir.path());
        let mut requests: Vec<Vec<CallRecord>> = (0..3)
            .map(|r| {
                let input = format!("call-{r}");
                let results = (0..=r)
                    .map(|i| CallResult::sample(&format!("{r}-{i}"), serde_json::json!({})))
                    .collect();
                vec![CallRecord::sample(input.as_bytes(), results)]
            })
            .collect();
        let tx = store
            .shard("jambi")
            .expect("jambi")
            .db
            .begin_write()
            .expect("write");
        assign_request_ids(&tx, requests.iter_mut().map(Vec::as_mut_slice)).expect("ids");
        write_requests(&tx, requests.iter().map(Vec::as_slice)).expect("written");
        tx.commit().expect("commit");
        let requests: Vec<Vec<Decision>> = requests.iter().map(|r| decisions_of(r)).collect();
        let ids: Vec<&str> = requests
            .iter()
            .flat_map(|ds| ds.iter().map(|d| d.id.as_str()))
            .collect();
        let expected: Vec<String> = (1..=6).map(|n| format!("dec-jambi-{n:012}")).collect();
        assert_eq!(ids, expected);
        let tx = store
            .shard("jambi")
            .expect("jambi")
            .db
            .begin_read()
            .expect("read");
        let counters = tx.open_table(COUNTERS).expect("counters");
        let last = counters.get("decision").expect("get").map(|v| v.value());
        assert_eq!(last, Some(6));
        for (r, ds) in requests.iter().enumerate() {
            for (i, d) in ds.iter().enumerate() {
                let stored = store.decision(&d.id).expect("stored");
                assert_eq!(stored.nip.as_deref(), Some(format!("{r}-{i}").as_str()));
                assert_eq!(stored.case_index, Some(i));
            }
            let input = format!("call-{r}");
            let (bytes, _) = store
                .call_bytes(
                    "jambi",
                    &blob::sha256_hex(input.as_bytes()),
                    &blob::sha256_hex(b"{}"),
                )
                .expect("call bytes");
            assert_eq!(bytes, input.as_bytes());
        }
    }

    /// Decisions of two calls are stored as two call rows and their own rows, and read back
    /// whole by every reader; a row written with every field (before call rows) still reads.
    #[test]
    fn decisions_share_their_call_row_and_read_back_whole() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(test_store(dir.path()));
        let mut ds: Vec<Decision> = (0..5)
            .map(|i| {
                let nip = format!("19900101201503100{i}");
                let mut d =
                    Decision::sample(&nip, serde_json::json!({"nip": nip, "predikat": "baik"}));
                call(&mut d, if i < 3 { "a" } else { "b" }, i % 3);
                d.at = "2026-11-24T00:00:00Z".into();
                // Decisions of one call may come from reads of their own.
                d.inputs_read = (i != 1).then_some(InputsRead {
                    audit_seq: 10 + i as u64,
                    activity_id: 7,
                });
                d
            })
            .collect();
        let bytes = ["a", "b"].map(|i| CallBytes {
            input: blob::pack(i.as_bytes()),
            output: blob::pack(b"{}"),
        });
        put(&store, &mut ds, &bytes).expect("stored");
        let tx = store
            .shard("jambi")
            .expect("jambi")
            .db
            .begin_read()
            .expect("read");
        assert_eq!(
            tx.open_table(DECISION_CALLS)
                .expect("calls")
                .len()
                .expect("len"),
            2
        );
        drop(tx);
        let whole = |d: &Decision| serde_json::to_value(d).expect("json");
        for d in &ds {
            assert_eq!(whole(&store.decision(&d.id).expect("read")), whole(d));
            let of = store.appraisals_of("jambi", d.nip.as_deref().unwrap_or_default());
            assert_eq!(
                of.expect("list").iter().map(whole).collect::<Vec<_>>(),
                [whole(d)]
            );
        }
        let (since, unreadable) = store.decisions_since(Some("jambi"), None).expect("since");
        assert!(unreadable.is_empty());
        assert_eq!(
            since.iter().map(whole).collect::<Vec<_>>(),
            ds.iter().map(whole).collect::<Vec<_>>()
        );
        assert_eq!(
            store
                .latest_predikats(
                    "jambi",
                    [ds[4].nip.as_deref().unwrap_or_default(), "no-such-nip"],
                    "2027-01-01"
                )
                .expect("latest"),
            [Some("baik".into()), None]
        );

        // An old row, every field in it, under an id of its own (from before the read marks).
        let mut old = ds[0].clone();
        old.id = "dec-000000000900".into();
        old.inputs_read = None;
        in_table(&store, DECISIONS, |t| {
            let row = serde_json::to_vec(&old).expect("json");
            t.insert(old.id.as_str(), row.as_slice()).expect("insert");
        });
        assert_eq!(
            whole(&store.decision(&old.id).expect("old row")),
            whole(&old)
        );

        // Damaged rows of either form, and a form from a later version, are named by id.
        in_table(&store, DECISIONS, |t| {
            let rows: [(&str, &[u8]); 2] = [
                (
                    "dec-000000000901",
                    br#"{"id":"dec-000000000901","region":"jambi"}"#,
                ),
                ("dec-000000000902", br#"{"v":4,"call":"dec-1","output":{}}"#),
            ];
            for (id, row) in rows {
                t.insert(id, row).expect("insert");
            }
        });
        let err = store
            .decision("dec-000000000901")
            .expect_err("damaged")
            .to_string();
        assert!(
            err.contains("dec-000000000901") && err.contains("missing field"),
            "{err}"
        );
        let err = store
            .decision("dec-000000000902")
            .expect_err("later")
            .to_string();
        assert!(err.contains("does not know (v 4)"), "{err}");

        // A decision whose call row is gone is reported as damage, by name.
        in_table(&store, DECISION_CALLS, |t| {
            t.remove(ds[3].id.as_str()).expect("remove");
        });
        let err = store
            .decision(&ds[4].id)
            .expect_err("no call row")
            .to_string();
        assert!(err.contains(&ds[4].id) && err.contains("missing"), "{err}");
    }

    /// Decisions whose output is part of their call's stdout store only where it lies, and
    /// read back whole through every reader; a lost stdout or a span outside it is damage,
    /// named by decision.
    /// The talent map's predikat is the year's: a later monthly or quarterly appraisal ending
    /// the same day, or a newer monthly one, never replaces it.
    #[test]
    fn latest_predikat_is_the_annual_one() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(test_store(dir.path()));
        let stored = |period: &str, end: &str, predikat: &str| {
            let mut d = Decision::sample("1", serde_json::json!({ "predikat": predikat }));
            d.period = Some(period.into());
            d.period_end = Some(end.into());
            call(&mut d, period, 0);
            let bytes = [CallBytes {
                input: blob::pack(period.as_bytes()),
                output: blob::pack(b"{}"),
            }];
            put(&store, &mut [d], &bytes).expect("stored");
        };
        let latest = |as_of: &str| store.latest_predikats("jambi", ["1"], as_of).expect("read");
        stored("2025-11", "2025-11-30", "kurang");
        assert_eq!(
            latest("2026-01-31"),
            [None],
            "a monthly appraisal alone is no predikat"
        );
        stored("2025", "2025-12-31", "sangat_baik");
        stored("2025-12", "2025-12-31", "kurang");
        stored("2025-Q4", "2025-12-31", "butuh_perbaikan");
        stored("2026-01", "2026-01-31", "sangat_kurang");
        assert_eq!(latest("2026-02-28"), [Some("sangat_baik".into())]);
        assert_eq!(latest("2025-12-30"), [None], "the year had not ended");
        stored("2024", "2024-12-31", "kurang");
        assert_eq!(latest("2026-02-28"), [Some("sangat_baik".into())]);
        assert_eq!(latest("2025-06-30"), [Some("kurang".into())]);
    }

    #[test]
    fn decisions_refer_to_their_part_of_the_stored_stdout() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(test_store(dir.path()));
        // Long enough to be stored compressed.
        let pad = "x".repeat(3000);
        let results = [
            format!(r#"{{"nip":"1","predikat":"baik","pad":"{pad}"}}"#),
            r#"{"nip":"2","predikat":"kurang"}"#.to_string(),
        ];
        let stdout = format!(r#"{{"results":[{},{}]}}"#, results[0], results[1]);
        let mut ds: Vec<Decision> = results
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let mut d = Decision::sample(&(i + 1).to_string(), serde_json::json!(null));
                d.output = RawValue::from_string(r.clone()).expect("raw");
                d.output_span = Some((stdout.find(r.as_str()).expect("in stdout"), r.len()));
                d.input_sha256 = blob::sha256_hex(b"a");
                d.output_sha256 = blob::sha256_hex(stdout.as_bytes());
                d.case_index = Some(i);
                d
            })
            .collect();
        let bytes = [CallBytes {
            input: blob::pack(b"a"),
            output: blob::pack(stdout.as_bytes()),
        }];
        assert!(bytes[0].output.bytes.starts_with(&blob::ZSTD_MAGIC));
        put(&store, &mut ds, &bytes).expect("stored");

        let row = |id: &str| -> Vec<u8> {
            let tx = store
                .shard("jambi")
                .expect("jambi")
                .db
                .begin_read()
                .expect("read");
            let t = tx.open_table(DECISIONS).expect("decisions");
            let v = t.get(id).expect("get").expect("row").value().to_vec();
            v
        };
        for d in &ds {
            let r = row(&d.id);
            assert!(
                r.starts_with(br#"{"v":3,"#),
                "{}",
                String::from_utf8_lossy(&r)
            );
            assert!(
                !has_key(&r, "output") && r.len() < 120,
                "{}",
                String::from_utf8_lossy(&r)
            );
            let got = store.decision(&d.id).expect("read");
            assert_eq!(got.output.get(), d.output.get());
            assert_eq!(got.output_span, d.output_span);
        }
        let of = store.appraisals_of("jambi", "2").expect("list");
        assert_eq!(of.len(), 1);
        assert_eq!(of[0].output.get(), results[1]);
        let (since, unreadable) = store.decisions_since(None, None).expect("since");
        assert!(unreadable.is_empty());
        let outs: Vec<&str> = since.iter().map(|d| d.output.get()).collect();
        assert_eq!(outs, results);
        assert_eq!(
            store
                .latest_predikats("jambi", ["1", "2"], "2027-01-01")
                .expect("latest"),
            [Some("baik".into()), Some("kurang".into())]
        );

        // A span outside the stdout.
        let mut bad: serde_json::Value = serde_json::from_slice(&row(&ds[1].id)).expect("row");
        bad["at"] = serde_json::json!([stdout.len() - 2, 10]);
        in_table(&store, DECISIONS, |t| {
            let row = serde_json::to_vec(&bad).expect("json");
            t.insert(ds[1].id.as_str(), row.as_slice()).expect("insert");
        });
        let err = store.decision(&ds[1].id).expect_err("outside").to_string();
        assert!(err.contains(&ds[1].id) && err.contains("lies at"), "{err}");

        // The stdout edited (a predikat changed, the hash left as it was): no read takes it.
        let edited = stdout.replace(r#""predikat":"baik""#, r#""predikat":"kurang""#);
        in_table(&store, OUTPUTS, |t| {
            let packed = blob::pack(edited.as_bytes());
            t.insert(ds[0].output_sha256.as_str(), packed.bytes.as_slice())
                .expect("insert");
        });
        let err = store.decision(&ds[0].id).expect_err("edited").to_string();
        assert!(
            err.contains(&ds[0].id) && err.contains("no longer hashes"),
            "{err}"
        );
        assert!(store
            .latest_predikats("jambi", ["1"], "2027-01-01")
            .is_err());

        // A span that is not the output's length is not trusted: the row keeps the output.
        let mut odd = ds[1].clone();
        odd.output_span = Some((0, 3));
        let row = decision_row::encode(&result_of(&odd), &ds[0].id).expect("row");
        assert!(row.starts_with(br#"{"v":2,"#) && has_key(&row, "output"));

        // The stdout lost: each decision is named, and the audit's read goes on.
        in_table(&store, OUTPUTS, |t| {
            t.remove(ds[0].output_sha256.as_str()).expect("remove");
        });
        let err = store
            .decision(&ds[0].id)
            .expect_err("no stdout")
            .to_string();
        assert!(err.contains(&ds[0].id) && err.contains("missing"), "{err}");
        let (since, unreadable) = store.decisions_since(None, None).expect("since");
        assert!(since.is_empty());
        let ids: Vec<&str> = unreadable.iter().map(|u| u.id.as_str()).collect();
        assert_eq!(ids, [ds[0].id.as_str(), ds[1].id.as_str()]);
    }

    #[test]
    fn parallel_encoding_keeps_every_row_in_order() {
        let results = |from: usize, to: usize| -> Vec<CallResult> {
            (from..to)
                .map(|i| {
                    let mut r = CallResult::sample(
                        &format!("1990010120150310{:02}", i % 100),
                        serde_json::json!({"i": i}),
                    );
                    r.id = format!("dec-{i:012}");
                    r
                })
                .collect()
        };
        let calls = vec![
            CallRecord::sample(b"a", results(0, 600)),
            CallRecord::sample(b"b", results(600, 1000)),
        ];
        let rows = |parts: Vec<Rows>| -> Vec<Vec<u8>> {
            parts
                .iter()
                .flat_map(Rows::iter)
                .map(<[u8]>::to_vec)
                .collect()
        };
        let one = rows(encode_all(&calls, usize::MAX).expect("sequential"));
        let many = encode_all(&calls, 1).expect("parallel");
        assert!(many.len() > 1 || crate::config::cores() < 2, "in parts");
        let many = rows(many);
        assert_eq!(one, many);
        assert_eq!(many.len(), 1000);
        for ((c, r), row) in results_of(&calls).zip(&many) {
            assert_eq!(
                row,
                &decision_row::encode(r, &c.results[0].id).expect("row")
            );
        }
    }
}

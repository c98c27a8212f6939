//! Decisions: every plugin result the server acted on, with what is needed to audit and replay it.

use super::blob::{self, Packed};
use super::decision_row;
use super::tables::*;
use super::{get_row, next_seq, prefix_end, Page, Result, Store, StoreError};
use crate::domain::period::Period;
use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::sync::Arc;
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

/// Every decision's row, given the index of the first decision of each one's call (see
/// [`decision_row`]), in parts of consecutive decisions. A region-wide appraisal encodes
/// 100,000 of them inside the one write transaction, where nothing else can run in parallel;
/// spreading the encoding over the cores takes that share off the single writer.
fn encode_all(decisions: &[Decision], firsts: &[usize], parallel_from: usize) -> Result<Vec<Rows>> {
    let pairs: Vec<(&Decision, &str)> = decisions
        .iter()
        .zip(firsts)
        .map(|(d, &f)| (d, decisions[f].id.as_str()))
        .collect();
    super::in_parts(&pairs, parallel_from, "decision encoding", |part| {
        let mut rows = Rows {
            bytes: Vec::with_capacity(part.len() * 128),
            ends: Vec::with_capacity(part.len()),
        };
        for (d, call) in part {
            decision_row::encode_into(&mut rows.bytes, d, call)?;
            rows.ends.push(rows.bytes.len());
        }
        Ok(vec![rows])
    })
}

fn unpack_row(what: &str, sha: &str, stored: &[u8]) -> Result<Vec<u8>> {
    blob::unpack(stored).map_err(|e| StoreError::Corrupt(format!("{what} `{sha}`: {e}")))
}

/// From this many decisions on, they are freed on a thread of their own.
const FREE_APART_FROM: usize = 4096;

/// Gives each decision `decisions` yields the next id, in order; `decisions` must yield
/// exactly `total` of them. The ids are taken from the counter once for all of them, not per
/// decision: reopening the counter table per row would be a visible share of a region-wide
/// batch, and work on the one thread every group commit passes through.
fn assign_ids<'a>(
    tx: &redb::WriteTransaction,
    total: usize,
    decisions: impl IntoIterator<Item = &'a mut Decision>,
) -> Result<()> {
    if total == 0 {
        return Ok(());
    }
    let first = next_seq(tx, "decision")?;
    if total > 1 {
        tx.open_table(COUNTERS)?
            .insert("decision", first + total as u64 - 1)?;
    }
    let mut given = 0;
    for (i, d) in decisions.into_iter().enumerate() {
        d.id = format!("dec-{:012}", first + i as u64);
        given += 1;
    }
    // More than `total` would hand out ids the next transaction takes again.
    debug_assert_eq!(given, total, "decisions counted and given ids differ");
    Ok(())
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

    /// A decision must stay replayable: its call's request and stdout are among what this
    /// write stores or what is stored already. One without them could never be verified, so
    /// the whole request is refused instead of kept (checked once per call, not per result).
    fn require_call_bytes(&self, d: &Decision) -> Result<()> {
        let input = self.inputs.get(d.input_sha256.as_str())?.is_some();
        let output = self.outputs.get(d.output_sha256.as_str())?.is_some();
        let missing = match (input, output) {
            (true, true) => return Ok(()),
            (false, true) => format!("its request {}", d.input_sha256),
            (true, false) => format!("its stdout {}", d.output_sha256),
            (false, false) => format!(
                "its request {} and its stdout {}",
                d.input_sha256, d.output_sha256
            ),
        };
        Err(StoreError::Fault(format!(
            "a decision refers to a plugin call whose bytes are not stored: {missing}"
        )))
    }

    /// The rows of decisions whose ids are assigned, and their calls' request and stdout.
    fn write(&mut self, decisions: &[Decision], calls: &[CallBytes]) -> Result<()> {
        for c in calls {
            if self.inputs.get(c.input.sha256.as_str())?.is_none() {
                self.inputs
                    .insert(c.input.sha256.as_str(), c.input.bytes.as_slice())?;
            }
            if self.outputs.get(c.output.sha256.as_str())?.is_none() {
                self.outputs
                    .insert(c.output.sha256.as_str(), c.output.bytes.as_slice())?;
            }
        }
        let firsts = decision_row::calls_of(decisions);
        for (i, &f) in firsts.iter().enumerate() {
            if i == f {
                let d = &decisions[i];
                self.require_call_bytes(d)?;
                self.calls
                    .insert(d.id.as_str(), decision_row::encode_call(d)?.as_slice())?;
            }
        }
        let parts = encode_all(decisions, &firsts, PARALLEL_ENCODE_FROM)?;
        for (d, row) in decisions.iter().zip(parts.iter().flat_map(Rows::iter)) {
            self.rows.insert(d.id.as_str(), row)?;
            if let (Some(nip), Some(end)) = (&d.nip, &d.period_end) {
                let key = format!("{}/{nip}/{end}/{}", d.region, d.id);
                self.by_employee.insert(key.as_str(), d.id.as_str())?;
            }
        }
        Ok(())
    }
}

/// Writes the decisions and call bytes of one or more requests in the caller's transaction,
/// with the ids taken and the tables opened once for all of them (group commit puts a
/// commit's requests through here); the tables are closed on return, so the caller can commit.
pub(super) fn write_requests<'a>(
    tx: &redb::WriteTransaction,
    requests: impl IntoIterator<Item = (&'a mut [Decision], &'a [CallBytes])>,
) -> Result<()> {
    let mut requests: Vec<_> = requests.into_iter().collect();
    let total = requests.iter().map(|(d, _)| d.len()).sum();
    let all = requests.iter_mut().flat_map(|(d, _)| d.iter_mut());
    assign_ids(tx, total, all)?;
    let mut tables = DecisionTables::open(tx)?;
    for (decisions, calls) in &requests {
        tables.write(decisions, calls)?;
    }
    Ok(())
}

impl Store {
    /// Stores the decisions of one request and the call bytes they refer to, all or nothing.
    /// Fills in each decision's id.
    pub fn put_decisions(&self, decisions: &mut [Decision], calls: &[CallBytes]) -> Result<()> {
        let tx = self.db.begin_write()?;
        write_requests(&tx, [(decisions, calls)])?;
        tx.commit()?;
        Ok(())
    }

    /// [`Store::put_decisions`] from async code, answering `prepare` of the stored decisions
    /// (ids filled in). `prepare` runs on a thread of its own from the moment the ids are
    /// taken, while the rows are written and the transaction commits and syncs: that is when
    /// a region-wide appraisal builds its answer, beside the writing rather than after it.
    /// Its result is answered only once the commit is durable; should the write fail, the
    /// write's own error is answered and the prepared result is dropped.
    pub async fn put_decisions_then<T, F>(
        self: &Arc<Self>,
        decisions: Vec<Decision>,
        calls: Vec<CallBytes>,
        prepare: F,
    ) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&[Decision]) -> T + Send + 'static,
    {
        let store = Arc::clone(self);
        let joined =
            |e: tokio::task::JoinError| StoreError::Fault(format!("store task failed: {e}"));
        tokio::task::spawn_blocking(move || -> Result<T> {
            let mut decisions = decisions;
            let tx = store.db.begin_write()?;
            assign_ids(&tx, decisions.len(), decisions.iter_mut())?;
            let prepared = std::thread::scope(|s| {
                let prepared = std::thread::Builder::new()
                    .name("prepare".into())
                    .spawn_scoped(s, || prepare(&decisions))
                    .map_err(|e| StoreError::Fault(format!("cannot start a thread: {e}")))?;
                let written = DecisionTables::open(&tx)
                    .and_then(|mut t| t.write(&decisions, &calls))
                    .and_then(|()| Ok(tx.commit()?));
                let prepared = prepared
                    .join()
                    .map_err(|_| StoreError::Fault("preparing the answer panicked".into()));
                written.and(prepared)
            });
            // A region's decisions take a while to free: not on the answer's path. (Should no
            // thread start, they are freed here: the commit is durable, so the answer stands.)
            if decisions.len() >= FREE_APART_FROM {
                let _ = std::thread::Builder::new()
                    .name("free".into())
                    .spawn(move || drop(decisions));
            }
            prepared
        })
        .await
        .map_err(joined)?
    }

    pub fn decision(&self, id: &str) -> Result<Decision> {
        let tx = self.db.begin_read()?;
        let mut reader = decision_row::reader(&tx)?;
        get_row(&tx.open_table(DECISIONS)?, id, |row| reader.decode(id, row))?
            .ok_or_else(|| StoreError::NotFound(format!("decision `{id}`")))
    }

    /// The exact request and (when kept: decisions from before outputs were stored have only
    /// the hash) the exact stdout of the call with these hashes.
    pub fn call_bytes(
        &self,
        input_sha: &str,
        output_sha: &str,
    ) -> Result<(Vec<u8>, Option<Vec<u8>>)> {
        let tx = self.db.begin_read()?;
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
        let tx = self.db.begin_read()?;
        let t = tx.open_table(DECISIONS)?;
        let mut reader = decision_row::reader(&tx)?;
        let mut out = Vec::new();
        let mut unreadable = Vec::new();
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
        Ok((out, unreadable))
    }

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
        let tx = self.db.begin_read()?;
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
        let tx = self.db.begin_read()?;
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
        Ok(newest.is_some_and(|id| {
            id.strip_prefix("dec-")
                .and_then(|n| n.parse::<u64>().ok())
                .is_some_and(|seq| seq > after)
        }))
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
        let tx = self.db.begin_read()?;
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
    use redb::ReadableTableMetadata;

    fn call(d: &mut Decision, input: &str, i: usize) {
        d.input_sha256 = blob::sha256_hex(input.as_bytes());
        d.output_sha256 = blob::sha256_hex(b"{}");
        d.case_index = Some(i);
    }

    /// Changes one table behind the store's back, as damage or a tamperer would, in one
    /// committed transaction.
    fn in_table(store: &Store, table: JsonTable, f: impl FnOnce(&mut redb::Table<&str, &[u8]>)) {
        let tx = store.db.begin_write().expect("write");
        f(&mut tx.open_table(table).expect("table"));
        tx.commit().expect("commit");
    }

    /// A write that fails while `prepare` runs beside it answers the write's own error, drops
    /// what `prepare` made, and stores nothing: here a decision whose call's bytes are neither
    /// given nor stored, which the store refuses (it could never be replayed).
    #[tokio::test]
    async fn put_then_answers_the_writes_own_error() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(Store::open(dir.path()).expect("open"));
        let mut d = Decision::sample("198503122010011001", serde_json::json!({}));
        call(&mut d, "a", 0);
        let other_call = vec![CallBytes {
            input: blob::pack(b"b"),
            output: blob::pack(b"{}"),
        }];
        let res = store
            .put_decisions_then(vec![d], other_call, |ds| ds.len())
            .await;
        let err = res.expect_err("the write failed");
        assert!(err.to_string().contains("bytes are not stored"), "{err}");
        assert_eq!(store.count(DECISIONS).expect("count"), 0);
        assert_eq!(store.count(INPUTS).expect("count"), 0, "all or nothing");
    }

    /// `put_decisions_then` stores every decision and hands them, ids filled in and in order,
    /// to `prepare`, whose result it answers.
    #[tokio::test]
    async fn put_then_prepares_from_the_stored_decisions() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Arc::new(Store::open(dir.path()).expect("open"));
        let ds: Vec<Decision> = (0..4)
            .map(|i| {
                let mut d = Decision::sample(&format!("n{i}"), serde_json::json!({"i": i}));
                call(&mut d, "a", i);
                d
            })
            .collect();
        let bytes = vec![CallBytes {
            input: blob::pack(b"a"),
            output: blob::pack(b"{}"),
        }];
        let got = store
            .put_decisions_then(ds, bytes, |ds| {
                ds.iter()
                    .map(|d| (d.id.clone(), d.nip.clone().unwrap_or_default()))
                    .collect::<Vec<_>>()
            })
            .await
            .expect("stored");
        let nips: Vec<&str> = got.iter().map(|(_, n)| n.as_str()).collect();
        assert_eq!(nips, ["n0", "n1", "n2", "n3"]);
        for (id, nip) in &got {
            assert_eq!(
                store.decision(id).expect("stored").nip.as_deref(),
                Some(nip.as_str())
            );
        }
        let seqs: Vec<u64> = got
            .iter()
            .map(|(id, _)| id["dec-".len()..].parse().expect("seq"))
            .collect();
        assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
    }

    /// Several requests written in one transaction take one unbroken run of ids, in order,
    /// the counter ends at the last of them, and each request's decisions and call bytes read
    /// back. (Group commit falls back to one request at a time should this path fail, which
    /// would hide its failure from the group commit tests.)
    #[test]
    fn requests_written_together_take_one_run_of_ids() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let mut requests: Vec<(Vec<Decision>, Vec<CallBytes>)> = (0..3)
            .map(|r| {
                let input = format!("call-{r}");
                let ds = (0..=r)
                    .map(|i| {
                        let mut d = Decision::sample(&format!("{r}-{i}"), serde_json::json!({}));
                        call(&mut d, &input, i);
                        d
                    })
                    .collect();
                let bytes = CallBytes {
                    input: blob::pack(input.as_bytes()),
                    output: blob::pack(b"{}"),
                };
                (ds, vec![bytes])
            })
            .collect();
        let tx = store.db.begin_write().expect("write");
        write_requests(
            &tx,
            requests
                .iter_mut()
                .map(|(d, c)| (d.as_mut_slice(), c.as_slice())),
        )
        .expect("written");
        tx.commit().expect("commit");
        let ids: Vec<&str> = requests
            .iter()
            .flat_map(|(ds, _)| ds.iter().map(|d| d.id.as_str()))
            .collect();
        let expected: Vec<String> = (1..=6).map(|n| format!("dec-{n:012}")).collect();
        assert_eq!(ids, expected);
        let tx = store.db.begin_read().expect("read");
        let counters = tx.open_table(COUNTERS).expect("counters");
        let last = counters.get("decision").expect("get").map(|v| v.value());
        assert_eq!(last, Some(6));
        for (r, (ds, _)) in requests.iter().enumerate() {
            for (i, d) in ds.iter().enumerate() {
                let stored = store.decision(&d.id).expect("stored");
                assert_eq!(stored.nip.as_deref(), Some(format!("{r}-{i}").as_str()));
                assert_eq!(stored.case_index, Some(i));
            }
            let input = format!("call-{r}");
            let (bytes, _) = store
                .call_bytes(
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
        let store = Store::open(dir.path()).expect("open");
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
        store.put_decisions(&mut ds, &bytes).expect("stored");
        let tx = store.db.begin_read().expect("read");
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
        let store = Store::open(dir.path()).expect("open");
        let stored = |period: &str, end: &str, predikat: &str| {
            let mut d = Decision::sample("1", serde_json::json!({ "predikat": predikat }));
            d.period = Some(period.into());
            d.period_end = Some(end.into());
            call(&mut d, period, 0);
            let bytes = [CallBytes {
                input: blob::pack(period.as_bytes()),
                output: blob::pack(b"{}"),
            }];
            store.put_decisions(&mut [d], &bytes).expect("stored");
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
        let store = Store::open(dir.path()).expect("open");
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
        store.put_decisions(&mut ds, &bytes).expect("stored");

        let row = |id: &str| -> Vec<u8> {
            let tx = store.db.begin_read().expect("read");
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
        let row = decision_row::encode(&odd, &ds[0].id).expect("row");
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
        let decisions: Vec<Decision> = (0..1000)
            .map(|i| {
                let mut d = Decision::sample(
                    &format!("1990010120150310{:02}", i % 100),
                    serde_json::json!({"i": i}),
                );
                d.id = format!("dec-{i:012}");
                d
            })
            .collect();
        let firsts = decision_row::calls_of(&decisions);
        let rows = |parts: Vec<Rows>| -> Vec<Vec<u8>> {
            parts
                .iter()
                .flat_map(Rows::iter)
                .map(<[u8]>::to_vec)
                .collect()
        };
        let one = rows(encode_all(&decisions, &firsts, usize::MAX).expect("sequential"));
        let many = encode_all(&decisions, &firsts, 1).expect("parallel");
        assert!(many.len() > 1 || crate::config::cores() < 2, "in parts");
        let many = rows(many);
        assert_eq!(one, many);
        assert_eq!(many.len(), decisions.len());
        for ((d, row), &f) in decisions.iter().zip(&many).zip(&firsts) {
            assert_eq!(
                row,
                &decision_row::encode(d, &decisions[f].id).expect("row")
            );
        }
    }
}

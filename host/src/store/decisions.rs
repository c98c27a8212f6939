//! Decisions: every plugin result the server acted on, with what is needed to audit and replay it.

use super::tables::*;
use super::{from_json, get_json, next_seq, prefix_end, Result, Store, StoreError};
use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};
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
    /// This decision's part of the output: one appraisal result, or the whole rotate response.
    #[schema(value_type = Object)]
    pub output: serde_json::Value,
    /// Position of this case in the call's `cases` (appraisals).
    pub case_index: Option<usize>,
    pub nip: Option<String>,
    pub period: Option<String>,
    pub period_end: Option<String>,
    pub as_of: Option<String>,
    /// Fuel used by the whole call this decision came from.
    pub fuel: u64,
    pub duration_ms: f64,
    pub logs: String,
    pub at: String,
    pub by: Option<String>,
}

/// What the appraisal list of an employee shows.
pub type StoredAppraisal = Decision;

impl Store {
    /// Stores the decisions of one request and the call inputs they refer to, all or nothing.
    /// Fills in each decision's id.
    pub fn put_decisions(
        &self,
        decisions: &mut [Decision],
        inputs: &[(String, Vec<u8>)],
    ) -> Result<()> {
        let tx = self.db.begin_write()?;
        {
            let mut inp = tx.open_table(INPUTS)?;
            for (sha, bytes) in inputs {
                if inp.get(sha.as_str())?.is_none() {
                    inp.insert(sha.as_str(), bytes.as_slice())?;
                }
            }
            let mut t = tx.open_table(DECISIONS)?;
            let mut idx = tx.open_table(APPRAISALS_BY_EMPLOYEE)?;
            // Ids are taken from the counter once for the whole request, not per decision:
            // reopening the counter table per row was a visible share of a 100k-case batch.
            let first = if decisions.is_empty() {
                0
            } else {
                next_seq(&tx, "decision")?
            };
            if decisions.len() > 1 {
                tx.open_table(COUNTERS)?
                    .insert("decision", first + decisions.len() as u64 - 1)?;
            }
            let mut buf = Vec::with_capacity(1024);
            for (i, d) in decisions.iter_mut().enumerate() {
                let seq = first + i as u64;
                d.id = format!("dec-{seq:012}");
                buf.clear();
                serde_json::to_writer(&mut buf, &*d)
                    .map_err(|e| StoreError::Db(format!("cannot encode record: {e}")))?;
                t.insert(d.id.as_str(), buf.as_slice())?;
                if let (Some(nip), Some(end)) = (&d.nip, &d.period_end) {
                    let key = format!("{}/{nip}/{end}/{}", d.region, d.id);
                    idx.insert(key.as_str(), d.id.as_str())?;
                }
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn decision(&self, id: &str) -> Result<Decision> {
        let tx = self.db.begin_read()?;
        get_json(&tx.open_table(DECISIONS)?, id)?
            .ok_or_else(|| StoreError::NotFound(format!("decision `{id}`")))
    }

    pub fn decision_input(&self, sha: &str) -> Result<Vec<u8>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(INPUTS)?;
        let v = t
            .get(sha)?
            .ok_or_else(|| StoreError::NotFound(format!("input `{sha}`")))?;
        Ok(v.value().to_vec())
    }

    /// An employee's appraisal decisions, newest first.
    pub fn appraisals_of(&self, region: &str, nip: &str) -> Result<Vec<Decision>> {
        let tx = self.db.begin_read()?;
        let idx = tx.open_table(APPRAISALS_BY_EMPLOYEE)?;
        let dec = tx.open_table(DECISIONS)?;
        let prefix = format!("{region}/{nip}/");
        let mut out: Vec<Decision> = Vec::new();
        for row in idx.range::<&str>(prefix.as_str()..prefix_end(&prefix).as_str())? {
            let (_, id) = row?;
            if let Some(v) = dec.get(id.value())? {
                out.push(from_json(v.value())?);
            }
        }
        out.sort_by(|a, b| b.id.cmp(&a.id));
        Ok(out)
    }

    /// The predikat of the stored appraisal whose period ends last on or before `as_of`
    /// (ties: the newest decision).
    pub fn latest_predikat(&self, region: &str, nip: &str, as_of: &str) -> Result<Option<String>> {
        let tx = self.db.begin_read()?;
        let idx = tx.open_table(APPRAISALS_BY_EMPLOYEE)?;
        let lo = format!("{region}/{nip}/");
        let hi = format!("{region}/{nip}/{as_of}0");
        let last = idx.range::<&str>(lo.as_str()..hi.as_str())?.next_back();
        let Some(row) = last else { return Ok(None) };
        let (_, id) = row?;
        let d: Option<Decision> = get_json(&tx.open_table(DECISIONS)?, id.value())?;
        Ok(d.and_then(|d| {
            d.output
                .get("predikat")
                .and_then(|p| p.as_str())
                .map(str::to_string)
        }))
    }
}

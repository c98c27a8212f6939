//! SKPs: one per employee and year, with its state, plan, expectations, monthly realizations
//! and history. Every write is audited about the employee, and checked against the state in
//! its own write transaction. "Locked" is not stored: an approved SKP is locked once an annual
//! appraisal of its year was stored after its approval, which the decisions tell.

use super::tables::*;
use super::{audit, get_json, to_json, Result, Store, StoreError};
use crate::domain::skp::{
    month_key, Evidence, EvidenceRef, Skp, SkpAction, SkpPlan, SkpState, Transition,
    MAX_EVIDENCE_BYTES_PER_SKP, MAX_EVIDENCE_PER_INDICATOR,
};
use crate::domain::{now_rfc3339, FieldError};
use redb::{ReadableDatabase, ReadableTable, WriteTransaction};
use std::collections::BTreeMap;

fn key(region: &str, nip: &str, year: i32) -> String {
    format!("{region}/{nip}/{year:04}")
}

impl Store {
    /// The SKP with its state as it stands (`locked` told from the decisions).
    pub fn skp(&self, region: &str, nip: &str, year: i32) -> Result<Skp> {
        let tx = self.shard(region)?.db.begin_read()?;
        let mut skp: Skp = get_json(&tx.open_table(SKPS)?, &key(region, nip, year))?
            .ok_or_else(|| not_found(nip, year))?;
        skp.state = self.state_now(&skp)?;
        Ok(skp)
    }

    /// Writes the plan of a draft or returned SKP, creating it as a draft.
    pub fn put_skp_plan(
        &self,
        (region, nip, year): (&str, &str, i32),
        actor: &str,
        plan: SkpPlan,
    ) -> Result<Skp> {
        self.require_region(region)?;
        let tx = self.shard(region)?.begin_write()?;
        super::records::employee_exists(&tx, region, nip)?;
        let k = key(region, nip, year);
        let old: Option<Skp> = get_json(&tx.open_table(SKPS)?, &k)?;
        let (mut skp, before) = match old {
            Some(s) => {
                let state = self.state_now(&s)?;
                if !matches!(state, SkpState::Draft | SkpState::Returned) {
                    return Err(StoreError::Conflict(format!(
                        "the SKP {year} is {}; its plan is written while draft or returned",
                        state.as_str()
                    )));
                }
                let before = serde_json::to_value(&s.plan).unwrap_or_default();
                (s, before)
            }
            None => {
                let empty = SkpPlan { rhk: Vec::new() };
                let s = Skp::new((region, nip, year), empty, SkpState::Draft);
                (s, serde_json::Value::Null)
            }
        };
        skp.plan = plan;
        skp.updated_at = now_rfc3339();
        let after = serde_json::to_value(&skp.plan).unwrap_or_default();
        let detail = serde_json::json!({"before": before, "after": after});
        record(&tx, actor, "skp.plan", &skp, detail)?;
        tx.open_table(SKPS)?
            .insert(k.as_str(), to_json(&skp)?.as_slice())?;
        tx.commit()?;
        Ok(skp)
    }

    /// Moves the SKP by `action` (the caller checked who may); 409 naming the state when the
    /// action does not apply to it.
    pub fn skp_transition(
        &self,
        (region, nip, year): (&str, &str, i32),
        actor: &str,
        action: SkpAction,
        note: Option<String>,
    ) -> Result<Skp> {
        self.change_skp((region, nip, year), |store, tx, s| {
            let from = store.state_now(s)?;
            let to = action.next(from).map_err(StoreError::Conflict)?;
            s.state = to;
            s.approved_after_decision = match to {
                SkpState::Approved => Some(last_decision(tx)?),
                _ => None,
            };
            s.history.push(Transition {
                action: action.as_str().into(),
                from,
                to,
                by: actor.into(),
                at: now_rfc3339(),
                note: note.clone(),
            });
            let detail = serde_json::json!({"from": from, "to": to, "note": note});
            record(tx, actor, &format!("skp.{}", action.as_str()), s, detail)
        })
    }

    /// Sets the supervisor's expectations of some RHK while the SKP is not yet approved.
    pub fn set_skp_expectations(
        &self,
        (region, nip, year): (&str, &str, i32),
        actor: &str,
        expectations: BTreeMap<String, String>,
    ) -> Result<Skp> {
        self.change_skp((region, nip, year), |store, tx, s| {
            let state = store.state_now(s)?;
            if state.appraisable() {
                return Err(StoreError::Conflict(format!(
                    "the SKP {year} is {}; expectations are set before it is approved",
                    state.as_str()
                )));
            }
            for id in expectations.keys() {
                if !s.plan.rhk.iter().any(|r| &r.id == id) {
                    return Err(FieldError::new(
                        format!("expectations.{id}"),
                        "is not an RHK of this SKP",
                    )
                    .into());
                }
            }
            let before = serde_json::to_value(&s.expectations).unwrap_or_default();
            s.expectations.extend(expectations.clone());
            let detail = serde_json::json!({"before": before, "after": s.expectations});
            record(tx, actor, "skp.expectations", s, detail)
        })
    }

    /// Writes a month's realizations (merged over what the month had) of an approved SKP,
    /// each checked against its plan. The month's window is the caller's to check.
    pub fn put_skp_realizations(
        &self,
        (region, nip, year): (&str, &str, i32),
        actor: &str,
        month: u32,
        values: BTreeMap<String, f64>,
    ) -> Result<Skp> {
        self.change_skp((region, nip, year), |store, tx, s| {
            store.require_approved(s, "realizations are written")?;
            s.check_realizations(&values)?;
            let m = month_key(month);
            let before = serde_json::to_value(s.realizations.get(&m)).unwrap_or_default();
            s.realizations
                .entry(m.clone())
                .or_default()
                .extend(values.clone());
            let after = serde_json::to_value(s.realizations.get(&m)).unwrap_or_default();
            let detail = serde_json::json!({"month": m, "before": before, "after": after});
            record(tx, actor, "skp.realization", s, detail)
        })
    }

    /// Adds a piece of evidence to an indicator of an approved SKP (its file, if any, stored
    /// by its SHA-256 unless already there). 400 for an unknown indicator or one with its
    /// [`MAX_EVIDENCE_PER_INDICATOR`]; 413 past [`MAX_EVIDENCE_BYTES_PER_SKP`] of files; 409
    /// unless approved.
    pub fn add_skp_evidence(
        &self,
        (region, nip, year): (&str, &str, i32),
        actor: &str,
        indicator: &str,
        evidence: Evidence,
        file: Option<Vec<u8>>,
    ) -> Result<Skp> {
        self.change_skp((region, nip, year), |store, tx, s| {
            store.require_approved(s, "evidence is added")?;
            if !s.plan.indicators().any(|i| i.id == indicator) {
                return Err(FieldError::new("indicator", format!("`{indicator}` is not an indicator of this SKP")).into());
            }
            let stored: u64 = s.evidence.values().flatten().filter_map(|e| e.size).sum();
            if stored + evidence.size.unwrap_or(0) > MAX_EVIDENCE_BYTES_PER_SKP {
                return Err(StoreError::TooLarge(format!(
                    "the SKP {year} holds {stored} bytes of evidence files; with this one it would pass its {MAX_EVIDENCE_BYTES_PER_SKP}"
                )));
            }
            let list = s.evidence.entry(indicator.to_string()).or_default();
            if list.len() >= MAX_EVIDENCE_PER_INDICATOR {
                return Err(FieldError::new(
                    "indicator",
                    format!("`{indicator}` has its {MAX_EVIDENCE_PER_INDICATOR} pieces of evidence already"),
                )
                .into());
            }
            if let (Some(bytes), Some(sha)) = (&file, &evidence.sha256) {
                let mut t = tx.open_table(EVIDENCE)?;
                if t.get(sha.as_str())?.is_none() {
                    t.insert(sha.as_str(), bytes.as_slice())?;
                }
            }
            list.push(evidence.clone());
            let detail = serde_json::json!({"indicator": indicator, "evidence": evidence});
            record(tx, actor, "skp.evidence", s, detail)
        })
    }

    /// Takes a piece of evidence off an indicator of an approved SKP: the first that `which`
    /// names. 404 when the indicator has none such; 409 unless approved. A file's bytes stay
    /// stored: they are kept by their content, and another SKP may hold the same file.
    pub fn remove_skp_evidence(
        &self,
        (region, nip, year): (&str, &str, i32),
        actor: &str,
        indicator: &str,
        which: &EvidenceRef,
    ) -> Result<Skp> {
        self.change_skp((region, nip, year), |store, tx, s| {
            store.require_approved(s, "evidence is removed")?;
            let missing = || {
                StoreError::NotFound(format!(
                    "that evidence of `{indicator}` in SKP {year} of `{nip}`"
                ))
            };
            let list = s.evidence.get_mut(indicator).ok_or_else(missing)?;
            let at = list
                .iter()
                .position(|e| which.matches(e))
                .ok_or_else(missing)?;
            let removed = list.remove(at);
            if list.is_empty() {
                s.evidence.remove(indicator);
            }
            let detail = serde_json::json!({"indicator": indicator, "evidence": removed});
            record(tx, actor, "skp.evidence.remove", s, detail)
        })
    }

    /// An evidence file of the SKP: its type and bytes. 404 unless this SKP refers to it (a
    /// reader of one SKP reads no other's files).
    pub fn skp_evidence_file(
        &self,
        (region, nip, year): (&str, &str, i32),
        sha256: &str,
    ) -> Result<(String, Vec<u8>)> {
        let tx = self.shard(region)?.db.begin_read()?;
        let skp: Skp = get_json(&tx.open_table(SKPS)?, &key(region, nip, year))?
            .ok_or_else(|| not_found(nip, year))?;
        let missing =
            || StoreError::NotFound(format!("evidence `{sha256}` of SKP {year} of `{nip}`"));
        let content_type = skp
            .evidence
            .values()
            .flatten()
            .find(|e| e.sha256.as_deref() == Some(sha256))
            .and_then(|e| e.content_type.clone())
            .ok_or_else(missing)?;
        let bytes = tx
            .open_table(EVIDENCE)?
            .get(sha256)?
            .map(|v| v.value().to_vec())
            .ok_or_else(missing)?;
        Ok((content_type, bytes))
    }

    /// Reads the SKP in a write transaction, changes it with `f`, and writes it back.
    fn change_skp(
        &self,
        (region, nip, year): (&str, &str, i32),
        f: impl FnOnce(&Store, &WriteTransaction, &mut Skp) -> Result<()>,
    ) -> Result<Skp> {
        self.require_region(region)?;
        let tx = self.shard(region)?.begin_write()?;
        let k = key(region, nip, year);
        let mut skp: Skp =
            get_json(&tx.open_table(SKPS)?, &k)?.ok_or_else(|| not_found(nip, year))?;
        f(self, &tx, &mut skp)?;
        skp.updated_at = now_rfc3339();
        tx.open_table(SKPS)?
            .insert(k.as_str(), to_json(&skp)?.as_slice())?;
        tx.commit()?;
        skp.state = self.state_now(&skp)?;
        Ok(skp)
    }

    /// 409 naming the state unless `skp` is approved (not yet locked): `what` happens only then.
    fn require_approved(&self, skp: &Skp, what: &str) -> Result<()> {
        let state = self.state_now(skp)?;
        if state != SkpState::Approved {
            return Err(StoreError::Conflict(format!(
                "the SKP {} is {}; {what} while it is approved",
                skp.year,
                state.as_str()
            )));
        }
        Ok(())
    }

    /// The state as it stands: approved turns locked once an annual appraisal of the year was
    /// stored after the approval. Read in a transaction of its own: called with the write lock
    /// held, no decision can be committed between it and the write.
    fn state_now(&self, skp: &Skp) -> Result<SkpState> {
        if skp.state != SkpState::Approved {
            return Ok(skp.state);
        }
        let tx = self.shard(&skp.region)?.db.begin_read()?;
        let after = skp.approved_after_decision.unwrap_or(0);
        Ok(
            if Store::annual_since(&tx, (&skp.region, &skp.nip), skp.year, after)? {
                SkpState::Locked
            } else {
                SkpState::Approved
            },
        )
    }
}

impl Store {
    /// Stores SKPs as they are, all in one transaction and without audit: the server's own
    /// seeding (the demo, a region at a time), never a client's write.
    pub fn seed_skps(&self, skps: &[Skp]) -> Result<()> {
        for s in skps {
            let tx = self.shard(&s.region)?.begin_write()?;
            {
                let mut t = tx.open_table(SKPS)?;
                t.insert(
                    key(&s.region, &s.nip, s.year).as_str(),
                    to_json(s)?.as_slice(),
                )?;
            }
            tx.commit()?;
        }
        Ok(())
    }
}

/// The last decision id number assigned so far.
fn last_decision(tx: &WriteTransaction) -> Result<u64> {
    Ok(tx
        .open_table(COUNTERS)?
        .get("decision")?
        .map(|v| v.value())
        .unwrap_or(0))
}

fn not_found(nip: &str, year: i32) -> StoreError {
    StoreError::NotFound(format!("SKP {year} of employee `{nip}`"))
}

/// Audits a write of `skp` about its employee.
fn record(
    tx: &WriteTransaction,
    actor: &str,
    action: &str,
    skp: &Skp,
    detail: serde_json::Value,
) -> Result<()> {
    audit::record_about(
        tx,
        Some(actor),
        action,
        (&skp.region, &skp.nip),
        &format!("{}/skp/{}", skp.nip, skp.year),
        detail,
    )
}

/// The SKP of `nip` for `year` in a read transaction, as an appraisal reads it (its stored
/// state; an appraisal runs on approved and locked alike).
pub(super) fn skp_in(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    region: &str,
    nip: &str,
    year: i32,
) -> Result<Option<Skp>> {
    get_json(t, &key(region, nip, year))
}

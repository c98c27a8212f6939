//! The read of an appraisal: one consistent snapshot of what the cases of a region's period
//! need — each employee's period record (or the SKP's indicators over it), the approved reports
//! of the period, the region's reporting minimum and the public surveys of its units.
//!
//! The store answers the records; building a case from them is policy's (`policy::assemble`),
//! which reads a region on several threads from the one snapshot: opening a transaction and
//! its tables per employee costs more than the reads themselves on a 100,000-employee batch,
//! and one snapshot is also consistent.

use super::surveys::Surveys;
use super::tables::*;
use super::{get_row, period_row, InputsRead, Reported, Result, Store, StoreError};
use crate::domain::period::Period;
use crate::domain::records::{Employee, PeriodInput};
use redb::{ReadOnlyTable, ReadableDatabase, ReadableTable};

/// What appraisals of one region's period read, as one snapshot; shared by the threads that
/// read a region's employees.
pub struct AppraisalSnapshot {
    region: String,
    period: Period,
    mark: InputsRead,
    records: ReadOnlyTable<&'static str, &'static [u8]>,
    periods: ReadOnlyTable<&'static str, &'static [u8]>,
    skps: ReadOnlyTable<&'static str, &'static [u8]>,
    days: ReadOnlyTable<&'static str, u64>,
    min_minutes: u32,
    /// The public surveys of the region's units (a few rows), applied to each case.
    surveys: Surveys,
}

impl Store {
    /// A snapshot of what appraisals of `period` in `region` read (see [`AppraisalSnapshot`]).
    pub fn appraisal_snapshot(&self, region: &str, period: Period) -> Result<AppraisalSnapshot> {
        let tx = self.shard(region)?.db.begin_read()?;
        let mark = {
            let counters = tx.open_table(COUNTERS)?;
            let at = |name: &str| -> Result<u64> {
                Ok(counters.get(name)?.map(|v| v.value()).unwrap_or(0))
            };
            InputsRead {
                audit_seq: at("audit")?,
                activity_id: at("activity")?,
            }
        };
        let min_minutes = super::reports::rules_in(&tx.open_table(REGION_REPORTING)?, region)?
            .min_minutes_per_day;
        let surveys = super::surveys::surveys_for(&tx.open_table(SURVEY_TALLIES)?, region, period)?;
        // The tables keep the transaction's snapshot alive once `tx` is dropped.
        Ok(AppraisalSnapshot {
            region: region.into(),
            period,
            mark,
            records: tx.open_table(EMPLOYEES)?,
            periods: tx.open_table(PERIODS)?,
            skps: tx.open_table(SKPS)?,
            days: tx.open_table(DAY_MINUTES)?,
            min_minutes,
            surveys,
        })
    }

    /// What the appraisal of each of `employees` reads, in their order, from one snapshot, and
    /// where the snapshot stood.
    pub fn appraisal_inputs(
        &self,
        region: &str,
        period: Period,
        employees: &[Employee],
    ) -> Result<(Vec<RecordInput>, InputsRead)> {
        self.appraisal_inputs_from(region, period, employees, PARALLEL_READ_FROM)
    }

    /// [`Store::appraisal_inputs`], read on several threads from `parallel_from` employees on
    /// (a parameter so that the tests can compare both ways on a small region).
    fn appraisal_inputs_from(
        &self,
        region: &str,
        period: Period,
        employees: &[Employee],
        parallel_from: usize,
    ) -> Result<(Vec<RecordInput>, InputsRead)> {
        let snap = self.appraisal_snapshot(region, period)?;
        let inputs = super::in_parts(employees, parallel_from, "record reader", |part| {
            part.iter().map(|e| snap.inputs_of(e)).collect()
        })?;
        Ok((inputs, snap.mark()))
    }
}

impl AppraisalSnapshot {
    /// Where the snapshot stood: the decisions built from it keep this.
    pub fn mark(&self) -> InputsRead {
        self.mark
    }

    /// What the appraisal of `e` reads: its records for the period (or why it is not
    /// appraised) and what it reported in the period.
    pub fn inputs_of(&self, e: &Employee) -> Result<RecordInput> {
        let (region, period) = (self.region.as_str(), self.period);
        let key = format!("{region}/{}", e.nip);
        if !unchanged(&self.records, &key, e)? {
            return Ok((Err(CHANGED_WHILE_READ.into()), Reported::default()));
        }
        let own = get_row(
            &self.periods,
            &format!("{key}/{period}"),
            period_row::decode_input,
        )?;
        let mut rec = match super::skp::skp_in(&self.skps, region, &e.nip, period.year())? {
            // No SKP: the period record the agency entered, as it is.
            None => Ok(own),
            // Once there is an SKP, it is what is appraised: not before it is approved (the
            // agency, which may plan and approve it centrally, is never stuck).
            Some(skp) if !skp.state.appraisable() => Err(format!(
                "SKP {} is {}; appraisals run on approved SKPs",
                skp.year,
                skp.state.as_str()
            )),
            // The SKP's indicators for the period over the rest of the period record
            // (ratings, innovations, …), or over the year's when a month or quarter has none
            // of its own: the year's ratings stand for its months.
            Some(skp) => {
                let mut input = match own {
                    Some(r) => r,
                    None => {
                        let year = format!("{key}/{}", period.year());
                        get_row(&self.periods, &year, period_row::decode_input)?
                            .map(|r| r.for_part_of_year(period))
                            .unwrap_or_default()
                    }
                };
                input.indicators = skp.indicators_for(period);
                if input.indicators.is_empty() {
                    Err(format!("SKP {} plans nothing for {period}", skp.year))
                } else {
                    Ok(Some(input))
                }
            }
        };
        if let Ok(Some(r)) = &mut rec {
            // The measured survey of the employee's unit over a figure typed in.
            let unit = e.service_unit.as_deref().unwrap_or("*");
            if let Some(fb) = self.surveys.get(&e.agency).and_then(|u| u.get(unit)) {
                r.public_feedback = Some(*fb);
            }
        }
        let reported = match &rec {
            Ok(Some(_)) => super::reports::count_reported(
                &self.days,
                (region, &e.nip),
                (period.start(), period.end()),
                self.min_minutes,
            )?,
            _ => Reported::default(),
        };
        Ok((rec, reported))
    }
}

/// Why an employee whose record changed between the appraisal's selection and its read of the
/// other records is skipped.
pub const CHANGED_WHILE_READ: &str =
    "the employee's record changed while the appraisal read it; appraise again";

/// Whether the stored record of `e` (under `key`) is still the one `e` was read from. An
/// appraisal selects its employees in a read of its own, before the snapshot its other records
/// are read in: paired with records read after a change to the employee, the case would lack
/// a write its decision's trace lists. Only the `updated_at` of the row is read.
fn unchanged(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    key: &str,
    e: &Employee,
) -> Result<bool> {
    #[derive(serde::Deserialize)]
    struct Version<'a> {
        #[serde(borrow)]
        updated_at: std::borrow::Cow<'a, str>,
    }
    Ok(match t.get(key)? {
        Some(row) => {
            serde_json::from_slice::<Version>(row.value())
                .map_err(|err| StoreError::Corrupt(format!("employee `{}`: {err}", e.nip)))?
                .updated_at
                == e.updated_at
        }
        None => false,
    })
}

/// What an appraisal reads of an employee's records for a period: the period record (with the
/// SKP's indicators when there is an SKP), none, or why the employee is not appraised (an SKP
/// not approved).
pub type Recorded = std::result::Result<Option<PeriodInput>, String>;

/// An employee's records for a period and what they reported in it.
pub type RecordInput = (Recorded, Reported);

/// Below this many employees an appraisal's records are read (and its cases built) on the
/// calling thread, where starting threads would cost more than they save.
pub(crate) const PARALLEL_READ_FROM: usize = 4096;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::EmployeeInput;
    use crate::store::demo_store;

    /// The parallel read gives every employee their own record and day count, in order: the
    /// same answer as the one-thread read, on the demo region.
    #[test]
    fn parallel_and_sequential_reads_agree() {
        let (_dir, store) = demo_store();
        let emps = store
            .employees("jambi", None, None, usize::MAX)
            .expect("employees")
            .items;
        assert!(emps.len() > 100, "{} employees", emps.len());
        let period = Period::parse("2025").expect("period");
        let (one, mark) = store
            .appraisal_inputs_from("jambi", period, &emps, usize::MAX)
            .expect("sequential");
        let (many, same) = store
            .appraisal_inputs_from("jambi", period, &emps, 1)
            .expect("parallel");
        // The demo's reports are numbered, and nothing was written between the two reads.
        assert!(mark.activity_id > 0);
        assert_eq!(mark, same);
        let json = |v: &Vec<RecordInput>| serde_json::to_string(v).expect("json");
        assert_eq!(json(&one), json(&many));
        assert!(
            one.iter()
                .filter(|(r, n)| matches!(r, Ok(Some(_))) && n.days > 0)
                .count()
                > 100
        );
        // Each employee got its own record's input.
        for (e, (r, _)) in emps.iter().zip(&many) {
            let own = store.period_opt("jambi", &e.nip, period).expect("read");
            let v = |x: Option<&PeriodInput>| serde_json::to_value(x).expect("json");
            assert_eq!(
                v(r.as_ref().ok().and_then(Option::as_ref)),
                v(own.as_ref().map(|o| &o.data)),
                "{}",
                e.nip
            );
        }
    }

    /// An employee whose record changed after the appraisal selected them is skipped, naming
    /// why; the others are read as usual.
    #[test]
    fn an_employee_changed_after_selection_is_skipped() {
        let (_dir, store) = demo_store();
        let emps = store
            .employees("jambi", None, None, 3)
            .expect("employees")
            .items;
        // Past the millisecond the demo wrote them in.
        std::thread::sleep(std::time::Duration::from_millis(5));
        let e = &emps[0];
        let input = EmployeeInput {
            name: format!("{} (diubah)", e.name),
            agency: e.agency.clone(),
            position_id: e.position_id.clone(),
            position_since: e.position_since,
            competencies: e.competencies.clone(),
            potential: e.potential,
            declined_rotation: e.declined_rotation,
            supervisor_nip: e.supervisor_nip.clone(),
            service_unit: e.service_unit.clone(),
        };
        store
            .upsert_employee("jambi", &e.nip, input, None)
            .expect("changed");
        let period = Period::parse("2025").expect("period");
        let (read, _) = store
            .appraisal_inputs_from("jambi", period, &emps, usize::MAX)
            .expect("read");
        assert_eq!(
            read[0].0.as_ref().err().map(String::as_str),
            Some(CHANGED_WHILE_READ)
        );
        assert!(read[1..].iter().all(|(r, _)| matches!(r, Ok(Some(_)))));
    }
}

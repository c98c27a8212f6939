//! Bulk writes: many records in one transaction, for `kinerja import`, seeding and benchmarks.
//!
//! The per-record API methods open a write transaction each, and every redb commit is an fsync;
//! a million reports that way would take hours. Here one transaction carries a whole file, which
//! also makes an import all or nothing. Callers validate each record with the same domain rules
//! as the API before handing it over; what only the store can know (does the region or the
//! employee exist?) is checked here and answered per record.

use super::records::check_employee_refs;
use super::shard::Shard;
use super::tables::*;
use super::{to_json, Result, Store, StoreError};
use crate::domain::now_rfc3339;
use crate::domain::period::Period;
use crate::domain::records::*;
use crate::domain::reporting::{ReportState, ReportingRules};
use redb::ReadableTable;
use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

/// One employee for [`Store::put_employees_bulk`], with an optional period record.
#[derive(Debug, Clone)]
pub struct BulkEmployee {
    pub nip: String,
    pub input: EmployeeInput,
    pub period: Option<(Period, PeriodInput)>,
}

/// One validated daily report for an [`ActivityImport`], with the input line it came from.
#[derive(Debug, Clone)]
pub struct ActivityRow {
    pub line: u64,
    pub region: String,
    pub nip: String,
    pub input: ActivityInput,
}

/// A row the store refused, with its line and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

/// An open bulk import of daily reports: one write transaction per region it writes to.
/// Nothing is visible to readers until [`ActivityImport::commit`]; dropping it (or
/// [`ActivityImport::abort`]) writes nothing.
pub struct ActivityImport {
    /// The regions held when the import began, by id.
    shards: BTreeMap<String, Arc<Shard>>,
    /// The regions written to so far: each one's transaction and last report id.
    open: BTreeMap<String, RegionImport>,
    created_at: String,
    /// The import's time, against which each report's date is judged (as the API judges a
    /// report against the time it is posted).
    now: std::time::SystemTime,
    /// `region/nip` → whether that employee exists; asked once per employee, not per row.
    employees: HashMap<String, bool>,
    /// `region/nip/date` → the minutes that day holds so far (stored and imported): read from
    /// the reports once per day, then kept, so that a day's many lines are not each a scan.
    days: HashMap<String, u64>,
    added: u64,
}

/// One region's part of an [`ActivityImport`].
struct RegionImport {
    tx: super::shard::WriteTx,
    seq: u64,
    rules: ReportingRules,
}

impl Store {
    /// Creates many employees of one region (and their period records) in one transaction.
    /// Inputs must already be validated. An employee that already exists is a conflict: a bulk
    /// load is a first load, and a change of position belongs to the API, which keeps history.
    pub fn put_employees_bulk(&self, region: &str, items: Vec<BulkEmployee>) -> Result<u64> {
        self.require_region(region)?;
        let tx = self.shard(region)?.begin_write()?;
        let updated_at = now_rfc3339();
        let n = items.len() as u64;
        {
            let agencies = tx.open_table(AGENCIES)?;
            let positions = tx.open_table(POSITIONS)?;
            let mut employees = tx.open_table(EMPLOYEES)?;
            let mut periods = tx.open_table(PERIODS)?;
            // (position, agency) pairs already checked: looked up once each, not per employee.
            let mut checked: HashSet<(String, String)> = HashSet::new();
            for item in items {
                let input = item.input;
                let pair = (input.position_id.clone(), input.agency.clone());
                if !checked.contains(&pair) {
                    check_employee_refs(
                        &agencies,
                        &positions,
                        region,
                        &input.agency,
                        &input.position_id,
                    )?;
                    checked.insert(pair);
                }
                let key = format!("{region}/{}", item.nip);
                if employees.get(key.as_str())?.is_some() {
                    return Err(StoreError::Conflict(format!(
                        "employee `{}` already exists in region `{region}`",
                        item.nip
                    )));
                }
                let emp = input.into_employee(region, &item.nip, Vec::new(), updated_at.clone());
                employees.insert(key.as_str(), to_json(&emp)?.as_slice())?;
                if let Some((period, data)) = item.period {
                    let rec = PeriodRecord {
                        region: region.into(),
                        nip: item.nip,
                        period: period.to_string(),
                        start: period.start(),
                        end: period.end(),
                        data,
                        updated_at: updated_at.clone(),
                        // A new employee: no rater has written anything yet.
                        raters: Default::default(),
                    };
                    let key = format!("{region}/{}/{period}", rec.nip);
                    periods.insert(key.as_str(), super::period_row::encode(&rec)?.as_slice())?;
                }
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Starts a bulk import of daily reports. Each region's write transaction holds its
    /// file's writer lock until commit or abort, so other writers of that region wait
    /// meanwhile.
    pub fn activity_import(&self) -> Result<ActivityImport> {
        let now = std::time::SystemTime::now();
        Ok(ActivityImport {
            shards: self.each_shard().into_iter().collect(),
            open: BTreeMap::new(),
            created_at: crate::domain::rfc3339(now),
            now,
            employees: HashMap::new(),
            days: HashMap::new(),
            added: 0,
        })
    }
}

impl ActivityImport {
    /// Adds rows (validated by the caller) under the same keys and ids as the API's
    /// `add_activities`. Answers the rows refused because their region or employee does not
    /// exist, their date is outside the region's reporting window, or their minutes would take
    /// the day past 1,440; those are not written. `Err` is a database failure: abandon the
    /// import then.
    pub fn add(&mut self, rows: Vec<ActivityRow>) -> Result<Vec<RowError>> {
        let mut refused = Vec::new();
        let mut by_region: BTreeMap<String, Vec<ActivityRow>> = BTreeMap::new();
        for row in rows {
            by_region.entry(row.region.clone()).or_default().push(row);
        }
        for (region, rows) in by_region {
            let Some(shard) = self.shards.get(&region) else {
                refused.extend(rows.into_iter().map(|row| RowError {
                    line: row.line,
                    reason: format!("region `{region}` does not exist"),
                }));
                continue;
            };
            if !self.open.contains_key(&region) {
                let tx = shard.begin_write()?;
                let seq = tx
                    .open_table(COUNTERS)?
                    .get("activity")?
                    .map(|v| v.value())
                    .unwrap_or(0);
                let rules = super::reports::rules_in(&tx.open_table(REGION_REPORTING)?, &region)?;
                self.open
                    .insert(region.clone(), RegionImport { tx, seq, rules });
            }
            let Some(part) = self.open.get_mut(&region) else {
                continue;
            };
            let mut state = Added {
                created_at: &self.created_at,
                now: self.now,
                employees: &mut self.employees,
                days: &mut self.days,
                added: &mut self.added,
            };
            state.add(part, rows, &mut refused)?;
        }
        refused.sort_by_key(|r| r.line);
        Ok(refused)
    }

    /// Reports added so far (not yet committed).
    pub fn added(&self) -> u64 {
        self.added
    }

    /// Makes every added report durable, region by region; answers how many. A failure
    /// part way (the disk's) leaves the regions committed before it written.
    pub fn commit(self) -> Result<u64> {
        for (_, part) in self.open {
            part.tx.open_table(COUNTERS)?.insert("activity", part.seq)?;
            part.tx.commit()?;
        }
        Ok(self.added)
    }

    /// Writes nothing.
    pub fn abort(self) -> Result<()> {
        for (_, part) in self.open {
            part.tx.abort()?;
        }
        Ok(())
    }
}

/// The import's running state, lent to the rows of one region.
struct Added<'a> {
    created_at: &'a str,
    now: std::time::SystemTime,
    employees: &'a mut HashMap<String, bool>,
    days: &'a mut HashMap<String, u64>,
    added: &'a mut u64,
}

impl Added<'_> {
    /// Adds `rows`, all of `part`'s region, pushing those refused onto `refused`.
    fn add(
        &mut self,
        part: &mut RegionImport,
        rows: Vec<ActivityRow>,
        refused: &mut Vec<RowError>,
    ) -> Result<()> {
        let employees = part.tx.open_table(EMPLOYEES)?;
        let mut t = part.tx.open_table(ACTIVITIES)?;
        let mut key = String::with_capacity(80);
        for row in rows {
            if let Err(e) = part
                .rules
                .check_date("report.date", row.input.date, self.now)
            {
                refused.push(RowError {
                    line: row.line,
                    reason: e.to_string(),
                });
                continue;
            }
            key.clear();
            key.push_str(&row.region);
            key.push('/');
            key.push_str(&row.nip);
            let emp_ok = match self.employees.get(&key) {
                Some(ok) => *ok,
                None => {
                    let ok = employees.get(key.as_str())?.is_some();
                    self.employees.insert(key.clone(), ok);
                    ok
                }
            };
            if !emp_ok {
                refused.push(RowError {
                    line: row.line,
                    reason: format!(
                        "employee `{}` does not exist in region `{}`",
                        row.nip, row.region
                    ),
                });
                continue;
            }
            // A day holds 1,440 minutes however its reports arrive: the rows of this import
            // already added count, as the reports stored before it do.
            let (date, minutes) = (row.input.date, row.input.minutes);
            let claimed =
                match self
                    .days
                    .entry(super::reports::day_key(&row.region, &row.nip, date))
                {
                    Entry::Occupied(e) => e.into_mut(),
                    Entry::Vacant(e) => e.insert(super::reports::day_claimed(
                        &t,
                        (&row.region, &row.nip),
                        date,
                        u64::MAX,
                    )?),
                };
            if let Err(e) = super::reports::check_day(*claimed, minutes, date, "report.minutes") {
                refused.push(RowError {
                    line: row.line,
                    reason: e.to_string(),
                });
                continue;
            }
            *claimed += u64::from(minutes);
            part.seq += 1;
            // An import is the agency's central entry: its reports count as approved.
            let act = Activity {
                id: part.seq,
                date: row.input.date,
                description: row.input.description,
                minutes: row.input.minutes,
                created_at: self.created_at.to_string(),
                state: ReportState::Approved,
                decided_by: Some("import".into()),
                decided_at: Some(self.created_at.to_string()),
                note: None,
                changed_at: None,
            };
            let key = super::reports::report_key(&row.region, &row.nip, act.date, part.seq);
            t.insert(key.as_str(), to_json(&act)?.as_slice())?;
            super::reports::index(&part.tx, &row.region, &row.nip, &act)?;
            *self.added += 1;
        }
        Ok(())
    }
}

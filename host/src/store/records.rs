//! Agencies, positions, employees, period records and activity reports.

use super::period_row;
use super::tables::*;
use super::{
    audit, from_json, get_json, get_row, page_json, page_rows, prefix_end, to_json, InputsRead,
    Reported, Result, Store, StoreError,
};
use crate::domain::org::{Chart, Supervisor};
use crate::domain::period::Period;
use crate::domain::ratings::{Part, Raters};
use crate::domain::records::*;
use crate::domain::{now_rfc3339, FieldError};
use redb::{ReadableDatabase, ReadableTable};
use serde::Serialize;
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// One page of a list: `next` is the cursor of the following page, null on the last.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

pub(super) fn key2(a: &str, b: &str) -> String {
    format!("{a}/{b}")
}

impl Store {
    pub fn upsert_agency(&self, region: &str, id: &str, input: AgencyInput) -> Result<Agency> {
        self.require_region(region)?;
        let agency = Agency {
            region: region.into(),
            id: id.into(),
            name: input.name.trim().into(),
            updated_at: now_rfc3339(),
        };
        let tx = self.db.begin_write()?;
        tx.open_table(AGENCIES)?
            .insert(key2(region, id).as_str(), to_json(&agency)?.as_slice())?;
        tx.commit()?;
        Ok(agency)
    }

    pub fn agency(&self, region: &str, id: &str) -> Result<Agency> {
        self.require_region(region)?;
        let tx = self.db.begin_read()?;
        get_json(&tx.open_table(AGENCIES)?, &key2(region, id))?
            .ok_or_else(|| StoreError::NotFound(format!("agency `{id}` in region `{region}`")))
    }

    pub fn agencies(
        &self,
        region: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<Agency>> {
        self.require_region(region)?;
        let tx = self.db.begin_read()?;
        page_json(
            &tx.open_table(AGENCIES)?,
            &format!("{region}/"),
            cursor,
            limit,
            |_| true,
        )
    }

    pub fn upsert_position(
        &self,
        region: &str,
        id: &str,
        input: PositionInput,
    ) -> Result<Position> {
        self.require_region(region)?;
        let tx = self.db.begin_write()?;
        if !agency_exists(&tx.open_table(AGENCIES)?, region, &input.agency)? {
            return Err(FieldError::new(
                "agency",
                format!(
                    "agency `{}` does not exist in region `{region}`",
                    input.agency
                ),
            )
            .into());
        }
        if let Some(parent) = &input.parent {
            let positions = tx.open_table(POSITIONS)?;
            let parent_of = |p: &str| -> Result<Option<String>> {
                Ok(get_json::<Position>(&positions, &key2(region, p))?.and_then(|p| p.parent))
            };
            if get_json::<Position>(&positions, &key2(region, parent))?.is_none() {
                return Err(FieldError::new(
                    "parent",
                    format!("position `{parent}` does not exist in region `{region}`"),
                )
                .into());
            }
            if let Some(chain) = crate::domain::org::cycle(id, parent, parent_of)? {
                return Err(FieldError::new(
                    "parent",
                    format!("`{parent}` would make a cycle: {}", chain.join(" → ")),
                )
                .into());
            }
        }
        let pos = Position {
            region: region.into(),
            id: id.into(),
            title: input.title.trim().into(),
            agency: input.agency,
            kind: input.kind,
            level: input.level,
            required: input.required,
            capacity: input.capacity,
            tasks: input
                .tasks
                .into_iter()
                .map(|t| Task {
                    task: t.task.trim().into(),
                    unit: t.unit.trim().into(),
                    ..t
                })
                .collect(),
            parent: input.parent,
            updated_at: now_rfc3339(),
        };
        tx.open_table(POSITIONS)?
            .insert(key2(region, id).as_str(), to_json(&pos)?.as_slice())?;
        tx.commit()?;
        Ok(pos)
    }

    /// Current holders per position id, from one scan of the region's employees.
    fn holders(
        &self,
        tx: &redb::ReadTransaction,
        region: &str,
    ) -> Result<BTreeMap<String, Vec<String>>> {
        let t = tx.open_table(EMPLOYEES)?;
        let prefix = format!("{region}/");
        let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for row in t.range::<&str>(prefix.as_str()..prefix_end(&prefix).as_str())? {
            let (_, v) = row?;
            let e: Employee = from_json(v.value())?;
            map.entry(e.position_id).or_default().push(e.nip);
        }
        Ok(map)
    }

    fn view(p: Position, holders: &BTreeMap<String, Vec<String>>) -> PositionView {
        let h = holders.get(&p.id).cloned().unwrap_or_default();
        PositionView::new(p, h)
    }

    pub fn position(&self, region: &str, id: &str) -> Result<PositionView> {
        self.require_region(region)?;
        let tx = self.db.begin_read()?;
        let p: Position = get_json(&tx.open_table(POSITIONS)?, &key2(region, id))?
            .ok_or_else(|| StoreError::NotFound(format!("position `{id}` in region `{region}`")))?;
        let holders = self.holders(&tx, region)?;
        Ok(Self::view(p, &holders))
    }

    pub fn positions(
        &self,
        region: &str,
        agency: Option<&str>,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<PositionView>> {
        self.require_region(region)?;
        let tx = self.db.begin_read()?;
        let page: Page<Position> = page_json(
            &tx.open_table(POSITIONS)?,
            &format!("{region}/"),
            cursor,
            limit,
            |p: &Position| agency.is_none_or(|a| p.agency == a),
        )?;
        let holders = self.holders(&tx, region)?;
        Ok(Page {
            items: page
                .items
                .into_iter()
                .map(|p| Self::view(p, &holders))
                .collect(),
            next: page.next,
        })
    }

    /// An agency's formasi: each of its positions' need (from the workload, else the
    /// capacity), holders and gap, read in one transaction.
    pub fn formasi(&self, region: &str, agency: &str) -> Result<Formasi> {
        self.require_region(region)?;
        let tx = self.db.begin_read()?;
        if !agency_exists(&tx.open_table(AGENCIES)?, region, agency)? {
            return Err(StoreError::NotFound(format!(
                "agency `{agency}` in region `{region}`"
            )));
        }
        let page: Page<Position> = page_json(
            &tx.open_table(POSITIONS)?,
            &format!("{region}/"),
            None,
            usize::MAX,
            |p: &Position| p.agency == agency,
        )?;
        let holders = self.holders(&tx, region)?;
        let views: Vec<PositionView> = page
            .items
            .into_iter()
            .map(|p| Self::view(p, &holders))
            .collect();
        Ok(Formasi::new(region, agency, &views))
    }

    /// All positions of a region (or an agency), with vacancies, for the rotate hook.
    pub fn all_positions(&self, region: &str, agency: Option<&str>) -> Result<Vec<PositionView>> {
        Ok(self.positions(region, agency, None, usize::MAX)?.items)
    }

    /// Upserts an employee. A change of position moves the old one into the history, so that
    /// tenure always counts from the start of the current position.
    /// Creates or replaces an employee; audited (before and after) when an `actor` wrote it,
    /// not when the server seeds its demo.
    pub fn upsert_employee(
        &self,
        region: &str,
        nip: &str,
        input: EmployeeInput,
        actor: Option<&str>,
    ) -> Result<Employee> {
        self.require_region(region)?;
        let tx = self.db.begin_write()?;
        check_employee_refs(
            &tx.open_table(AGENCIES)?,
            &tx.open_table(POSITIONS)?,
            region,
            &input.agency,
            &input.position_id,
        )?;
        let key = key2(region, nip);
        let mut table = tx.open_table(EMPLOYEES)?;
        if let Some(s) = &input.supervisor_nip {
            if get_json::<Employee>(&table, &key2(region, s))?.is_none() {
                return Err(FieldError::new(
                    "supervisor_nip",
                    format!("no employee with NIP {s} in region `{region}`"),
                )
                .into());
            }
        }
        let old: Option<Employee> = get_json(&table, &key)?;
        let before = actor.map(|_| serde_json::to_value(&old).unwrap_or_default());
        let mut history = Vec::new();
        if let Some(old) = old {
            history = old.history;
            if old.position_id != input.position_id {
                if input.position_since <= old.position_since {
                    return Err(FieldError::new(
                        "position_since",
                        format!(
                            "a new position must start after the current one (`{}` since {})",
                            old.position_id, old.position_since
                        ),
                    )
                    .into());
                }
                history.push(PositionSpell {
                    position_id: old.position_id,
                    agency: old.agency,
                    from: old.position_since,
                    until: input.position_since,
                });
            }
        }
        let emp = input.into_employee(region, nip, history, now_rfc3339());
        table.insert(key.as_str(), to_json(&emp)?.as_slice())?;
        drop(table);
        if let (Some(actor), Some(before)) = (actor, before) {
            let after = serde_json::to_value(&emp).unwrap_or_default();
            let detail = serde_json::json!({ "before": before, "after": after });
            audit::record_about(&tx, Some(actor), "employee.put", (region, nip), nip, detail)?;
        }
        tx.commit()?;
        Ok(emp)
    }

    /// The region's organisation chart: every position's parent and every employee, in one
    /// read transaction.
    fn chart(&self, tx: &redb::ReadTransaction, region: &str) -> Result<Chart> {
        let prefix = format!("{region}/");
        let positions: Vec<Position> = page_json(
            &tx.open_table(POSITIONS)?,
            &prefix,
            None,
            usize::MAX,
            |_| true,
        )?
        .items;
        let employees: Vec<Employee> = page_json(
            &tx.open_table(EMPLOYEES)?,
            &prefix,
            None,
            usize::MAX,
            |_| true,
        )?
        .items;
        let parents = positions
            .into_iter()
            .filter_map(|p| Some((p.id, p.parent?)));
        Ok(Chart::new(parents, employees))
    }

    /// Whether `e` may have a supervisor: they name an acting one, or their position has a
    /// parent. One lookup, so it can run in place; [`Store::supervisor`] reads the chart.
    pub fn may_have_supervisor(&self, e: &Employee) -> Result<bool> {
        if e.supervisor_nip.is_some() {
            return Ok(true);
        }
        let tx = self.db.begin_read()?;
        Ok(
            get_json::<Position>(&tx.open_table(POSITIONS)?, &key2(&e.region, &e.position_id))?
                .is_some_and(|p| p.parent.is_some()),
        )
    }

    /// An employee's supervisor (none at the top of the chart), from the region's chart: one
    /// scan of its employees, as there is no index of holders per position yet.
    pub fn supervisor(&self, e: &Employee) -> Result<Option<Supervisor>> {
        let tx = self.db.begin_read()?;
        Ok(self.chart(&tx, &e.region)?.supervisor(e))
    }

    /// The employees whose supervisor is `nip` (their direct reports), by NIP.
    pub fn subordinates(&self, region: &str, nip: &str) -> Result<Vec<Employee>> {
        self.require_region(region)?;
        let tx = self.db.begin_read()?;
        let chart = self.chart(&tx, region)?;
        Ok(chart.subordinates(nip).into_iter().cloned().collect())
    }

    pub fn employee(&self, region: &str, nip: &str) -> Result<Employee> {
        self.require_region(region)?;
        let tx = self.db.begin_read()?;
        get_json(&tx.open_table(EMPLOYEES)?, &key2(region, nip))?
            .ok_or_else(|| StoreError::NotFound(format!("employee `{nip}` in region `{region}`")))
    }

    /// The region checked, then each named employee in order, `None` for a NIP not found, in
    /// one read transaction: an appraisal's selection.
    pub fn employees_named(&self, region: &str, nips: &[String]) -> Result<Vec<Option<Employee>>> {
        self.require_region(region)?;
        let tx = self.db.begin_read()?;
        let t = tx.open_table(EMPLOYEES)?;
        nips.iter()
            .map(|n| get_json(&t, &key2(region, n)))
            .collect()
    }

    pub fn employees(
        &self,
        region: &str,
        agency: Option<&str>,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<Employee>> {
        self.require_region(region)?;
        let tx = self.db.begin_read()?;
        page_json(
            &tx.open_table(EMPLOYEES)?,
            &format!("{region}/"),
            cursor,
            limit,
            |e: &Employee| agency.is_none_or(|a| e.agency == a),
        )
    }

    /// Creates or replaces a period record (the agency's part; the raters' parts stay);
    /// audited with the record's input before and after when an `actor` wrote it.
    pub fn put_period(
        &self,
        region: &str,
        nip: &str,
        period: Period,
        input: PeriodInput,
        actor: Option<&str>,
    ) -> Result<PeriodRecord> {
        self.require_region(region)?;
        let tx = self.db.begin_write()?;
        employee_exists(&tx, region, nip)?;
        // Once the year has an SKP, its indicators are what is appraised: indicators written
        // here would be kept and never read, so they are refused rather than ignored.
        if !input.indicators.is_empty() {
            let year = period.year();
            if super::skp::skp_in(&tx.open_table(SKPS)?, region, nip, year)?.is_some() {
                return Err(StoreError::Conflict(format!(
                    "employee `{nip}` has an SKP for {year}: its indicators and monthly \
                     realizations are written on the SKP (…/skp/{year}, …/skp/{year}/realizations/{{month}}); \
                     a period record beside it carries the ratings and the other parts, with `indicators` empty"
                )));
            }
        }
        let key = format!("{region}/{nip}/{period}");
        let mut periods = tx.open_table(PERIODS)?;
        // The raters' own ratings stay: the agency's rewrite is of its own part.
        let old = get_row(&periods, &key, period_row::decode)?;
        let before = actor.map(|_| serde_json::to_value(old.as_ref().map(|o| &o.data)));
        let raters = old.map(|old| old.raters).unwrap_or_default();
        let rec = PeriodRecord {
            region: region.into(),
            nip: nip.into(),
            period: period.to_string(),
            start: period.start(),
            end: period.end(),
            data: input,
            updated_at: now_rfc3339(),
            raters,
        };
        periods.insert(key.as_str(), period_row::encode(&rec)?.as_slice())?;
        drop(periods);
        if let (Some(actor), Some(before)) = (actor, before) {
            let detail = serde_json::json!({
                "before": before.unwrap_or_default(),
                "after": serde_json::to_value(&rec.data).unwrap_or_default(),
            });
            let subject = format!("{nip}/{period}");
            audit::record_about(
                &tx,
                Some(actor),
                "period.put",
                (region, nip),
                &subject,
                detail,
            )?;
        }
        tx.commit()?;
        Ok(rec)
    }

    /// The raters' part of a period record (empty when there is no record).
    pub fn period_raters(&self, region: &str, nip: &str, period: Period) -> Result<Raters> {
        Ok(self
            .period_opt(region, nip, period)?
            .map(|r| r.raters)
            .unwrap_or_default())
    }

    /// Changes the raters' part of an existing period record with `change` (one of the
    /// raters' own writes), and audits the change with `part`'s value before and after (the
    /// peer assignment when `None`), and nothing of the other parts.
    pub fn update_raters(
        &self,
        region: &str,
        nip: &str,
        period: Period,
        actor: &str,
        part: Option<&Part>,
        change: impl FnOnce(&mut Raters) -> Result<(), FieldError>,
    ) -> Result<Raters> {
        self.require_region(region)?;
        let tx = self.db.begin_write()?;
        employee_exists(&tx, region, nip)?;
        let key = format!("{region}/{nip}/{period}");
        let mut periods = tx.open_table(PERIODS)?;
        // Ratings belong to an SKP the agency entered: a record made up here would have the
        // employee appraised on empty indicators.
        let mut rec = get_row(&periods, &key, period_row::decode)?.ok_or_else(|| {
            StoreError::NotFound(format!(
                "period `{period}` of employee `{nip}` (the agency enters the SKP record first)"
            ))
        })?;
        let before = rec.raters.audited(part);
        change(&mut rec.raters)?;
        let after = rec.raters.audited(part);
        rec.updated_at = now_rfc3339();
        periods.insert(key.as_str(), period_row::encode(&rec)?.as_slice())?;
        drop(periods);
        audit::record_about(
            &tx,
            Some(actor),
            Part::action(part),
            (region, nip),
            &format!("{nip}/{period}"),
            serde_json::json!({ "before": before, "after": after }),
        )?;
        tx.commit()?;
        Ok(rec.raters)
    }

    /// The period record, or `NotFound` naming it. The employee is not looked up again:
    /// callers have read it already to check the caller's scope.
    pub fn period(&self, region: &str, nip: &str, period: Period) -> Result<PeriodRecord> {
        self.period_opt(region, nip, period)?
            .ok_or_else(|| StoreError::NotFound(format!("period `{period}` of employee `{nip}`")))
    }

    /// The period record if there is one; `None` is an answer, not an error, for appraisals.
    pub fn period_opt(
        &self,
        region: &str,
        nip: &str,
        period: Period,
    ) -> Result<Option<PeriodRecord>> {
        let tx = self.db.begin_read()?;
        get_row(
            &tx.open_table(PERIODS)?,
            &format!("{region}/{nip}/{period}"),
            period_row::decode,
        )
    }

    pub fn periods(
        &self,
        region: &str,
        nip: &str,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<PeriodRecord>> {
        self.employee(region, nip)?;
        let tx = self.db.begin_read()?;
        page_rows(
            &tx.open_table(PERIODS)?,
            &format!("{region}/{nip}/"),
            cursor,
            limit,
            period_row::decode,
            |_| true,
        )
    }

    /// The sample an activation's preflight appraises: among the region's first employees by
    /// NIP (at most `4 × n` read), up to `n` that have a period record, the latest period any
    /// of them has (by its end, then its id), and those of them with a record of it. `None`
    /// when none of them has a record. One read transaction.
    pub fn appraisal_sample(
        &self,
        region: &str,
        n: usize,
    ) -> Result<Option<(Period, Vec<Employee>)>> {
        let tx = self.db.begin_read()?;
        let (emps, periods) = (tx.open_table(EMPLOYEES)?, tx.open_table(PERIODS)?);
        let prefix = format!("{region}/");
        let mut sample: Vec<(Employee, Period)> = Vec::new();
        for row in emps
            .range::<&str>(prefix.as_str()..prefix_end(&prefix).as_str())?
            .take(4 * n)
        {
            if sample.len() >= n {
                break;
            }
            let e: Employee = from_json(row?.1.value())?;
            let own = format!("{region}/{}/", e.nip);
            let last = periods
                .range::<&str>(own.as_str()..prefix_end(&own).as_str())?
                .next_back();
            if let Some(row) = last {
                if let Ok(p) = Period::parse(&row?.0.value()[own.len()..]) {
                    sample.push((e, p));
                }
            }
        }
        let Some(latest) = sample.iter().map(|(_, p)| (p.end(), *p)).max() else {
            return Ok(None);
        };
        let with_it = sample
            .into_iter()
            .filter(|(_, p)| *p == latest.1)
            .map(|(e, _)| e)
            .collect();
        Ok(Some((latest.1, with_it)))
    }

    /// What the appraisal of each employee needs — the period record and the approved reports
    /// of the period — read in one transaction. Opening a transaction and two tables per employee costs more
    /// than the reads themselves on a 100,000-employee batch; one snapshot is also consistent.
    pub fn appraisal_inputs(
        &self,
        region: &str,
        period: Period,
        employees: &[Employee],
    ) -> Result<(Vec<RecordInput>, InputsRead)> {
        self.appraisal_inputs_from(region, period, employees, PARALLEL_READ_FROM, |_, r, d| {
            (r, d)
        })
    }

    /// [`Store::appraisal_inputs`], each employee's turned into `T` by `f` on the thread that
    /// read it, so that building a region's cases is spread over the cores as the reading is,
    /// rather than left to one thread after it. Also answers where the snapshot stood, which
    /// the decisions built from it keep.
    pub fn appraisal_inputs_map<T, F>(
        &self,
        region: &str,
        period: Period,
        employees: &[Employee],
        f: F,
    ) -> Result<(Vec<T>, InputsRead)>
    where
        T: Send,
        F: Fn(&Employee, Recorded, Reported) -> T + Sync,
    {
        self.appraisal_inputs_from(region, period, employees, PARALLEL_READ_FROM, f)
    }

    /// [`Store::appraisal_inputs_map`], read on several threads from `parallel_from` employees
    /// on (a parameter so that the tests can compare both ways on a small region).
    fn appraisal_inputs_from<T, F>(
        &self,
        region: &str,
        period: Period,
        employees: &[Employee],
        parallel_from: usize,
        f: F,
    ) -> Result<(Vec<T>, InputsRead)>
    where
        T: Send,
        F: Fn(&Employee, Recorded, Reported) -> T + Sync,
    {
        let tx = self.db.begin_read()?;
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
        let records = tx.open_table(EMPLOYEES)?;
        let periods = tx.open_table(PERIODS)?;
        let skps = tx.open_table(SKPS)?;
        let days = tx.open_table(DAY_MINUTES)?;
        let min_minutes = super::reports::rules_in(&tx.open_table(REGION_REPORTING)?, region)?
            .min_minutes_per_day;
        // The public surveys of the region's units (a few rows), applied to each case below.
        let surveys = super::surveys::surveys_for(&tx.open_table(SURVEY_TALLIES)?, region, period)?;
        let read = |part: &[Employee]| -> Result<Vec<T>> {
            let (start, end) = (period.start(), period.end());
            let mut key = String::with_capacity(64);
            let mut out = Vec::with_capacity(part.len());
            for e in part {
                use std::fmt::Write;
                key.clear();
                let _ = write!(key, "{region}/{}", e.nip);
                if !unchanged(&records, &key, e)? {
                    out.push(f(e, Err(CHANGED_WHILE_READ.into()), Reported::default()));
                    continue;
                }
                let _ = write!(key, "/{period}");
                let own = get_row(&periods, &key, period_row::decode_input)?;
                let mut rec = match super::skp::skp_in(&skps, region, &e.nip, period.year())? {
                    // No SKP: the period record the agency entered, as it is.
                    None => Ok(own),
                    // Once there is an SKP, it is what is appraised: not before it is approved
                    // (the agency, which may plan and approve it centrally, is never stuck).
                    Some(skp) if !skp.state.appraisable() => Err(format!(
                        "SKP {} is {}; appraisals run on approved SKPs",
                        skp.year,
                        skp.state.as_str()
                    )),
                    // The SKP's indicators for the period over the rest of the period record
                    // (ratings, innovations, …), or over the year's when a month or quarter
                    // has none of its own: the year's ratings stand for its months.
                    Some(skp) => {
                        let mut input = match own {
                            Some(r) => r,
                            None => {
                                let year = format!("{region}/{}/{}", e.nip, period.year());
                                let of_year = get_row(&periods, &year, period_row::decode_input)?;
                                of_year
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
                if let (Ok(Some(r)), false) = (&mut rec, surveys.is_empty()) {
                    // The measured survey of the employee's unit over a figure typed in.
                    let unit = e.service_unit.as_deref().unwrap_or("*");
                    if let Some(fb) = surveys.get(&e.agency).and_then(|u| u.get(unit)) {
                        r.public_feedback = Some(*fb);
                    }
                }
                let reported = match &rec {
                    Ok(Some(_)) => super::reports::count_reported(
                        &days,
                        (region, &e.nip),
                        (start, end),
                        min_minutes,
                    )?,
                    _ => Reported::default(),
                };
                out.push(f(e, rec, reported));
            }
            Ok(out)
        };
        // A region-wide appraisal reads tens of thousands of rows and decodes their JSON: on
        // one thread that is a large share of a region-wide batch. The parts share the one read
        // transaction, so they still see one snapshot.
        let cases = super::in_parts(employees, parallel_from, "record reader", read)?;
        Ok((cases, mark))
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

/// Below this many employees the records are read on the calling thread.
const PARALLEL_READ_FROM: usize = 4096;

/// An employee's agency and position must exist in its region, and the position must belong to
/// that agency. The API's upsert and the bulk load both hold employees to this one rule.
/// Whether `agency` exists in `region`, read in the caller's transaction.
/// `NotFound` naming the employee unless they exist: the first check of a write about them.
pub(super) fn employee_exists(tx: &redb::WriteTransaction, region: &str, nip: &str) -> Result<()> {
    if tx
        .open_table(EMPLOYEES)?
        .get(key2(region, nip).as_str())?
        .is_none()
    {
        return Err(StoreError::NotFound(format!(
            "employee `{nip}` in region `{region}`"
        )));
    }
    Ok(())
}

pub(super) fn agency_exists(
    agencies: &impl ReadableTable<&'static str, &'static [u8]>,
    region: &str,
    agency: &str,
) -> Result<bool> {
    Ok(agencies.get(key2(region, agency).as_str())?.is_some())
}

pub(super) fn check_employee_refs(
    agencies: &impl ReadableTable<&'static str, &'static [u8]>,
    positions: &impl ReadableTable<&'static str, &'static [u8]>,
    region: &str,
    agency: &str,
    position_id: &str,
) -> Result<()> {
    if !agency_exists(agencies, region, agency)? {
        return Err(FieldError::new(
            "agency",
            format!("agency `{agency}` does not exist in region `{region}`"),
        )
        .into());
    }
    let pos: Position = get_json(positions, &key2(region, position_id))?.ok_or_else(|| {
        FieldError::new(
            "position_id",
            format!("position `{position_id}` does not exist in region `{region}`"),
        )
    })?;
    if pos.agency != agency {
        return Err(FieldError::new(
            "position_id",
            format!(
                "position `{}` belongs to agency `{}`, not `{agency}`",
                pos.id, pos.agency
            ),
        )
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::period::Period;

    /// A store in a temporary directory (kept alive by the first half) with the demo records.
    fn demo_store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("open store");
        crate::demo::load_records(&store).expect("demo records");
        (dir, store)
    }

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
            .appraisal_inputs_from("jambi", period, &emps, usize::MAX, |_, r, d| (r, d))
            .expect("sequential");
        let (many, same) = store
            .appraisal_inputs_from("jambi", period, &emps, 1, |_, r, d| (r, d))
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
            .appraisal_inputs_from("jambi", period, &emps, usize::MAX, |_, r, _| r)
            .expect("read");
        assert_eq!(
            read[0].as_ref().err().map(String::as_str),
            Some(CHANGED_WHILE_READ)
        );
        assert!(read[1..].iter().all(|r| matches!(r, Ok(Some(_)))));
    }

    /// A listing of everything (decoded on several threads) is the pages of a paged listing
    /// joined, in order, with the agency filter applied alike.
    #[test]
    fn listing_everything_is_the_pages_joined() {
        let (_dir, store) = demo_store();
        let all = store
            .employees("jambi", None, None, usize::MAX)
            .expect("employees");
        assert!(all.items.len() > 100 && all.next.is_none());
        let agency = all.items[all.items.len() / 2].agency.clone();
        for filter in [None, Some(agency.as_str())] {
            let (mut paged, mut cursor) = (Vec::new(), None);
            loop {
                let page = store
                    .employees("jambi", filter, cursor.as_deref(), 7)
                    .expect("page");
                paged.extend(page.items.into_iter().map(|e| e.nip));
                match page.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            let everything: Vec<String> = store
                .employees("jambi", filter, None, usize::MAX)
                .expect("everything")
                .items
                .into_iter()
                .map(|e| e.nip)
                .collect();
            assert_eq!(everything, paged, "{filter:?}");
            assert!(!everything.is_empty());
        }
    }
}

//! Agencies, positions, employees, period records and activity reports.

use super::period_row;
use super::tables::*;
use super::{
    audit, from_json, get_json, get_row, page_json, page_rows, prefix_end, to_json, Result, Store,
    StoreError,
};
use crate::domain::org::{Chart, Supervisor};
use crate::domain::period::Period;
use crate::domain::ratings::{Part, Raters};
use crate::domain::records::*;
use crate::domain::{now_rfc3339, FieldError};
use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;

/// One page of a list: `next` is the cursor of the following page, null on the last.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
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
        let tx = self.shard(region)?.begin_write()?;
        tx.open_table(AGENCIES)?
            .insert(key2(region, id).as_str(), to_json(&agency)?.as_slice())?;
        tx.commit()?;
        Ok(agency)
    }

    pub fn agency(&self, region: &str, id: &str) -> Result<Agency> {
        self.require_region(region)?;
        let tx = self.shard(region)?.db.begin_read()?;
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
        let tx = self.shard(region)?.db.begin_read()?;
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
        let tx = self.shard(region)?.begin_write()?;
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
        let tx = self.shard(region)?.db.begin_read()?;
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
        let tx = self.shard(region)?.db.begin_read()?;
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
        let tx = self.shard(region)?.db.begin_read()?;
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
        let tx = self.shard(region)?.begin_write()?;
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
        let tx = self.shard(&e.region)?.db.begin_read()?;
        Ok(
            get_json::<Position>(&tx.open_table(POSITIONS)?, &key2(&e.region, &e.position_id))?
                .is_some_and(|p| p.parent.is_some()),
        )
    }

    /// An employee's supervisor (none at the top of the chart), from the region's chart: one
    /// scan of its employees, as there is no index of holders per position yet.
    pub fn supervisor(&self, e: &Employee) -> Result<Option<Supervisor>> {
        let tx = self.shard(&e.region)?.db.begin_read()?;
        Ok(self.chart(&tx, &e.region)?.supervisor(e))
    }

    /// The employees whose supervisor is `nip` (their direct reports), by NIP.
    pub fn subordinates(&self, region: &str, nip: &str) -> Result<Vec<Employee>> {
        self.require_region(region)?;
        let tx = self.shard(region)?.db.begin_read()?;
        let chart = self.chart(&tx, region)?;
        Ok(chart.subordinates(nip).into_iter().cloned().collect())
    }

    pub fn employee(&self, region: &str, nip: &str) -> Result<Employee> {
        self.require_region(region)?;
        let tx = self.shard(region)?.db.begin_read()?;
        get_json(&tx.open_table(EMPLOYEES)?, &key2(region, nip))?
            .ok_or_else(|| StoreError::NotFound(format!("employee `{nip}` in region `{region}`")))
    }

    /// The region checked, then each named employee in order, `None` for a NIP not found, in
    /// one read transaction: an appraisal's selection.
    pub fn employees_named(&self, region: &str, nips: &[String]) -> Result<Vec<Option<Employee>>> {
        self.require_region(region)?;
        let tx = self.shard(region)?.db.begin_read()?;
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
        let tx = self.shard(region)?.db.begin_read()?;
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
        let tx = self.shard(region)?.begin_write()?;
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
        let tx = self.shard(region)?.begin_write()?;
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
        let tx = self.shard(region)?.db.begin_read()?;
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
        let tx = self.shard(region)?.db.begin_read()?;
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
        let tx = self.shard(region)?.db.begin_read()?;
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
}

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
    use crate::store::demo_store;

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

//! Daily activity reports and their review: written pending (or approved, when entered
//! centrally), corrected or withdrawn while pending, approved or rejected by the supervisor,
//! and counted into appraisals only once approved. The region's reporting rules live here too.
//!
//! Besides the reports themselves (`ACTIVITIES`, by date) three indexes are kept in the same
//! transactions: `ACTIVITY_IDS` (a report by id), `DAY_MINUTES` (approved minutes per day,
//! all an appraisal reads, without decoding a report) and `PENDING_REPORTS` (pending reports by
//! when they were written, for auto-approval).

use super::tables::*;
use super::{audit, from_json, get_json, prefix_end, to_json, Page, Result, Store, StoreError};
use crate::domain::date::Date;
use crate::domain::records::{Activity, ActivityInput};
use crate::domain::reporting::{ReportState, ReportingRules};
use crate::domain::{now_rfc3339, rfc3339, FieldError};
use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata, WriteTransaction};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Default)]
pub struct ActivityQuery {
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub cursor: Option<String>,
    pub limit: usize,
    /// Only reports in this state.
    pub state: Option<ReportState>,
}

/// What an appraisal counts of a period's approved reports.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reported {
    /// Distinct Monday–Friday dates whose approved minutes reach the region's minimum.
    pub days: u32,
    /// Approved minutes of every day of the period.
    pub minutes: u64,
}

/// A supervisor's (or the agency's) verdict on pending reports.
#[derive(Debug, Clone)]
pub enum Verdict {
    Approve,
    Reject { note: String },
}

/// Auto-approvals done per region per sweep, so that one sweep's transaction stays short; a
/// backlog is worked off over the following sweeps.
const AUTO_APPROVE_PER_SWEEP: usize = 10_000;

pub(super) fn report_key(region: &str, nip: &str, date: Date, id: u64) -> String {
    format!("{region}/{nip}/{date}/{id:016}")
}

pub(super) fn day_key(region: &str, nip: &str, date: Date) -> String {
    format!("{region}/{nip}/{date}")
}

/// A pending report by when it was last written (created or corrected): auto-approval counts
/// its days from then, so a report rewritten just before its days are up waits again.
fn pending_key(region: &str, a: &Activity) -> String {
    let written = a.changed_at.as_deref().unwrap_or(&a.created_at);
    format!("{region}/{written}/{:016}", a.id)
}

/// Adds an approved report's minutes to its day's (an approval is never undone).
fn add_day_minutes(tx: &WriteTransaction, key: &str, minutes: u32) -> Result<()> {
    let mut t = tx.open_table(DAY_MINUTES)?;
    let now = t.get(key)?.map(|v| v.value()).unwrap_or(0);
    t.insert(key, now + u64::from(minutes))?;
    Ok(())
}

/// The most a day's reports may add up to.
const DAY_MAX_MINUTES: u64 = 1440;

/// The minutes of `nip`'s reports of `date` that are pending or approved (a rejected one no
/// longer claims the time), leaving out the report `except`.
pub(super) fn day_claimed(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    (region, nip): (&str, &str),
    date: Date,
    except: u64,
) -> Result<u64> {
    let prefix = format!("{region}/{nip}/{date}/");
    let end = prefix_end(&prefix);
    let mut sum = 0;
    for row in t.range::<&str>(prefix.as_str()..end.as_str())? {
        let a: Activity = from_json(row?.1.value())?;
        if a.id != except && a.state != ReportState::Rejected {
            sum += u64::from(a.minutes);
        }
    }
    Ok(sum)
}

/// 400 naming `field` when `minutes` more would take the day past a day's minutes.
pub(super) fn check_day(claimed: u64, minutes: u32, date: Date, field: &str) -> Result<()> {
    if claimed + u64::from(minutes) > DAY_MAX_MINUTES {
        return Err(FieldError::new(
            field,
            format!(
                "{date} would have {} minutes reported; a day has {DAY_MAX_MINUTES} (already {claimed})",
                claimed + u64::from(minutes)
            ),
        )
        .into());
    }
    Ok(())
}

/// Indexes a stored report: by id, and as pending or as approved minutes.
pub(super) fn index(tx: &WriteTransaction, region: &str, nip: &str, a: &Activity) -> Result<()> {
    let key = report_key(region, nip, a.date, a.id);
    tx.open_table(ACTIVITY_IDS)?.insert(a.id, key.as_str())?;
    match a.state {
        ReportState::Pending => {
            tx.open_table(PENDING_REPORTS)?
                .insert(pending_key(region, a).as_str(), key.as_str())?;
        }
        ReportState::Approved => add_day_minutes(tx, &day_key(region, nip, a.date), a.minutes)?,
        ReportState::Rejected => {}
    }
    Ok(())
}

/// Builds the indexes of reports stored before they existed (all of them counted then, so
/// all approved now). Runs once, when a data dir written by an earlier version is opened.
pub(super) fn index_old_reports(tx: &WriteTransaction) -> Result<u64> {
    let reports = tx.open_table(ACTIVITIES)?;
    if reports.is_empty()? || !tx.open_table(ACTIVITY_IDS)?.is_empty()? {
        return Ok(0);
    }
    let mut n = 0;
    for row in reports.iter()? {
        let (k, v) = row?;
        let key = k.value();
        let a: Activity = from_json(v.value())?;
        let mut parts = key.splitn(3, '/');
        let (Some(region), Some(nip)) = (parts.next(), parts.next()) else {
            continue;
        };
        index(tx, region, nip, &a)?;
        n += 1;
    }
    Ok(n)
}

/// The approved days and minutes of one employee in `[start, end]`, from the day index alone.
pub(super) fn count_reported(
    t: &impl ReadableTable<&'static str, u64>,
    (region, nip): (&str, &str),
    (start, end): (Date, Date),
    min_minutes: u32,
) -> Result<Reported> {
    let prefix = format!("{region}/{nip}/");
    let lo = format!("{prefix}{start}");
    let hi = format!("{prefix}{end}0");
    let mut r = Reported::default();
    for row in t.range::<&str>(lo.as_str()..hi.as_str())? {
        let (k, v) = row?;
        let minutes = v.value();
        r.minutes += minutes;
        let date = &k.value()[prefix.len()..];
        if minutes >= u64::from(min_minutes) && date.parse::<Date>().is_ok_and(|d| d.is_weekday()) {
            r.days += 1;
        }
    }
    Ok(r)
}

/// The region's reporting rules as stored, or the defaults.
pub(super) fn rules_in(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    region: &str,
) -> Result<ReportingRules> {
    Ok(get_json(t, region)?.unwrap_or_default())
}

impl Store {
    /// The region's reporting rules (the defaults until its admin sets them).
    pub fn reporting_rules(&self, region: &str) -> Result<ReportingRules> {
        self.require_region(region)?;
        let tx = self.shard(region)?.db.begin_read()?;
        rules_in(&tx.open_table(REGION_REPORTING)?, region)
    }

    /// Sets the region's reporting rules (validated by the caller), audited before and after;
    /// with `keep_zone`, the region's time zone stays what it is.
    pub fn set_reporting_rules(
        &self,
        region: &str,
        actor: &str,
        mut rules: ReportingRules,
        keep_zone: bool,
    ) -> Result<ReportingRules> {
        self.require_region(region)?;
        let tx = self.shard(region)?.begin_write()?;
        {
            let mut t = tx.open_table(REGION_REPORTING)?;
            let before = rules_in(&t, region)?;
            if keep_zone {
                rules.time_zone = before.time_zone;
            }
            t.insert(region, to_json(&rules)?.as_slice())?;
            audit::record(
                &tx,
                Some(actor),
                "region.reporting",
                Some(region),
                region,
                serde_json::json!({ "before": before, "after": rules }),
            )?;
        }
        tx.commit()?;
        Ok(rules)
    }

    /// Adds reports all at once or not at all, in `state` (pending when the employee writes
    /// them; approved when the server or an import enters them centrally).
    pub fn add_activities(
        &self,
        region: &str,
        nip: &str,
        inputs: Vec<ActivityInput>,
        state: ReportState,
    ) -> Result<Vec<Activity>> {
        self.require_region(region)?;
        let tx = self.shard(region)?.begin_write()?;
        super::records::employee_exists(&tx, region, nip)?;
        // No day may claim more than a day's minutes, this request's reports included.
        let mut claimed: BTreeMap<Date, u64> = BTreeMap::new();
        for (i, a) in inputs.iter().enumerate() {
            let day = match claimed.get(&a.date) {
                Some(&m) => m,
                None => day_claimed(&tx.open_table(ACTIVITIES)?, (region, nip), a.date, 0)?,
            };
            check_day(day, a.minutes, a.date, &format!("[{i}].minutes"))?;
            claimed.insert(a.date, day + u64::from(a.minutes));
        }
        let created_at = now_rfc3339();
        let mut out = Vec::with_capacity(inputs.len());
        {
            let mut t = tx.open_table(ACTIVITIES)?;
            let mut counters = tx.open_table(COUNTERS)?;
            let mut seq = counters.get("activity")?.map(|v| v.value()).unwrap_or(0);
            for a in inputs {
                seq += 1;
                let act = Activity {
                    id: seq,
                    date: a.date,
                    description: a.description,
                    minutes: a.minutes,
                    created_at: created_at.clone(),
                    state,
                    decided_by: None,
                    decided_at: None,
                    note: None,
                    changed_at: None,
                };
                let key = report_key(region, nip, act.date, seq);
                t.insert(key.as_str(), to_json(&act)?.as_slice())?;
                out.push(act);
            }
            counters.insert("activity", seq)?;
        }
        for a in &out {
            index(&tx, region, nip, a)?;
        }
        tx.commit()?;
        Ok(out)
    }

    pub fn activities(&self, region: &str, nip: &str, q: &ActivityQuery) -> Result<Page<Activity>> {
        self.employee(region, nip)?;
        let tx = self.shard(region)?.db.begin_read()?;
        let t = tx.open_table(ACTIVITIES)?;
        let prefix = format!("{region}/{nip}/");
        // Keys are `date/seq`, so the date bounds are key bounds; the cursor (the last key
        // suffix of the previous page) moves the start past what was already sent.
        let mut start = match q.from {
            Some(d) => format!("{prefix}{d}"),
            None => prefix.clone(),
        };
        if let Some(c) = &q.cursor {
            start = start.max(format!("{prefix}{c}\u{0}"));
        }
        let end = match q.to {
            Some(d) => format!("{prefix}{d}0"),
            None => prefix_end(&prefix),
        };
        let mut items = Vec::new();
        let mut next = None;
        let mut last = None;
        if start < end {
            for row in t.range::<&str>(start.as_str()..end.as_str())? {
                let (k, v) = row?;
                if items.len() == q.limit {
                    next = last.take();
                    break;
                }
                let a: Activity = from_json(v.value())?;
                last = Some(k.value()[prefix.len()..].to_string());
                if q.state.is_none_or(|s| s == a.state) {
                    items.push(a);
                }
            }
        }
        Ok(Page { items, next })
    }

    /// The owners of reports by id, in order; `NotFound` names the first id the region has
    /// no report of.
    pub fn activity_owners(&self, region: &str, ids: &[u64]) -> Result<Vec<String>> {
        let tx = self.shard(region)?.db.begin_read()?;
        let t = tx.open_table(ACTIVITY_IDS)?;
        ids.iter()
            .map(|id| {
                let key = t.get(id)?.map(|k| k.value().to_string());
                key.as_deref()
                    .and_then(|k| k.strip_prefix(region)?.strip_prefix('/'))
                    .and_then(|rest| rest.split('/').next())
                    .map(str::to_string)
                    .ok_or_else(|| not_found(region, *id))
            })
            .collect()
    }

    /// Replaces a pending report of `nip` with `input` (same id; its auto-approval days count
    /// again from now), audited before and after; 409 once decided.
    pub fn correct_activity(
        &self,
        (region, nip, id): (&str, &str, u64),
        actor: &str,
        input: ActivityInput,
    ) -> Result<Activity> {
        let tx = self.shard(region)?.begin_write()?;
        let (key, mut a) = pending_of(&tx, region, nip, id, "corrected")?;
        let claimed = day_claimed(&tx.open_table(ACTIVITIES)?, (region, nip), input.date, id)?;
        check_day(claimed, input.minutes, input.date, "minutes")?;
        let before = serde_json::to_value(&a).unwrap_or_default();
        tx.open_table(ACTIVITIES)?.remove(key.as_str())?;
        unindex(&tx, region, &a)?;
        (a.date, a.description, a.minutes) = (input.date, input.description, input.minutes);
        a.changed_at = Some(now_rfc3339());
        tx.open_table(ACTIVITIES)?.insert(
            report_key(region, nip, a.date, id).as_str(),
            to_json(&a)?.as_slice(),
        )?;
        index(&tx, region, nip, &a)?;
        let after = serde_json::to_value(&a).unwrap_or_default();
        audit::record_about(
            &tx,
            Some(actor),
            "report.correct",
            (region, nip),
            nip,
            serde_json::json!({ "id": id, "before": before, "after": after }),
        )?;
        tx.commit()?;
        Ok(a)
    }

    /// Removes a pending report of `nip`, audited with what it said; 409 once decided.
    pub fn withdraw_activity(
        &self,
        (region, nip, id): (&str, &str, u64),
        actor: &str,
    ) -> Result<()> {
        let tx = self.shard(region)?.begin_write()?;
        let (key, a) = pending_of(&tx, region, nip, id, "withdrawn")?;
        tx.open_table(ACTIVITIES)?.remove(key.as_str())?;
        unindex(&tx, region, &a)?;
        tx.open_table(ACTIVITY_IDS)?.remove(id)?;
        audit::record_about(
            &tx,
            Some(actor),
            "report.withdraw",
            (region, nip),
            nip,
            serde_json::json!({ "id": id, "before": a }),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Approves or rejects pending reports (`(nip, id)`, already checked against the caller's
    /// relationships), all or none: one not pending is 409 naming its id and state. Audited
    /// once per employee.
    pub fn decide_activities(
        &self,
        region: &str,
        reports: &[(String, u64)],
        verdict: &Verdict,
        actor: &str,
    ) -> Result<Vec<Activity>> {
        let tx = self.shard(region)?.begin_write()?;
        let at = now_rfc3339();
        let mut out = Vec::with_capacity(reports.len());
        let mut by_employee: BTreeMap<&str, Vec<u64>> = BTreeMap::new();
        for (nip, id) in reports {
            let (key, a) = pending_of(&tx, region, nip, *id, "approved or rejected")?;
            let a = decide(&tx, region, nip, (key, a), verdict, (actor, &at))?;
            by_employee.entry(nip).or_default().push(*id);
            out.push(a);
        }
        let (action, note) = match verdict {
            Verdict::Approve => ("report.approve", None),
            Verdict::Reject { note } => ("report.reject", Some(note)),
        };
        for (nip, ids) in by_employee {
            audit::record_about(
                &tx,
                Some(actor),
                action,
                (region, nip),
                nip,
                serde_json::json!({ "ids": ids, "note": note }),
            )?;
        }
        tx.commit()?;
        Ok(out)
    }

    /// Approves, in every region that auto-approves, the pending reports written at least its
    /// number of days before `now` (at most [`AUTO_APPROVE_PER_SWEEP`] per region). Answers how
    /// many were approved.
    pub fn approve_overdue(&self, now: SystemTime) -> Result<usize> {
        let mut regions: Vec<(String, u32, _)> = Vec::new();
        for (region, shard) in self.each_shard() {
            let tx = shard.db.begin_read()?;
            if let Some(days) =
                rules_in(&tx.open_table(REGION_REPORTING)?, &region)?.auto_approve_after_days
            {
                regions.push((region, days, shard));
            }
        }
        let mut approved = 0;
        for (region, days, shard) in regions {
            let Some(before) = now.checked_sub(Duration::from_secs(u64::from(days) * 86_400))
            else {
                continue;
            };
            let cutoff = rfc3339(before);
            let tx = match shard.begin_write() {
                Ok(tx) => tx,
                // A region being moved: its reports wait for the next sweep (on its node).
                Err(StoreError::Paused(_)) => continue,
                Err(e) => return Err(e),
            };
            let due: Vec<(String, String)> = {
                let t = tx.open_table(PENDING_REPORTS)?;
                let (lo, hi) = (format!("{region}/"), format!("{region}/{cutoff}"));
                let mut keys = Vec::new();
                for row in t.range::<&str>(lo.as_str()..hi.as_str())? {
                    let (k, v) = row?;
                    keys.push((k.value().to_string(), v.value().to_string()));
                    if keys.len() == AUTO_APPROVE_PER_SWEEP {
                        break;
                    }
                }
                keys
            };
            let at = now_rfc3339();
            let mut by_employee: BTreeMap<String, Vec<u64>> = BTreeMap::new();
            for (pending, key) in &due {
                let Some(a) = get_json::<Activity>(&tx.open_table(ACTIVITIES)?, key)? else {
                    // An entry whose report is gone points nowhere: drop it.
                    tx.open_table(PENDING_REPORTS)?.remove(pending.as_str())?;
                    continue;
                };
                let nip = key.split('/').nth(1).unwrap_or_default().to_string();
                let id = a.id;
                decide(
                    &tx,
                    &region,
                    &nip,
                    (key.clone(), a),
                    &Verdict::Approve,
                    ("auto", &at),
                )?;
                by_employee.entry(nip).or_default().push(id);
            }
            for (nip, ids) in &by_employee {
                approved += ids.len();
                audit::record_about(
                    &tx,
                    None,
                    "report.approve",
                    (&region, nip),
                    nip,
                    serde_json::json!({ "ids": ids, "auto_after_days": days }),
                )?;
            }
            tx.commit()?;
        }
        Ok(approved)
    }
}

fn not_found(region: &str, id: u64) -> StoreError {
    StoreError::NotFound(format!("activity report {id} in region `{region}`"))
}

/// The report `id` of `nip` and its key, if it is still pending; 404 when it is not that
/// employee's, 409 naming its state when it was decided.
fn pending_of(
    tx: &WriteTransaction,
    region: &str,
    nip: &str,
    id: u64,
    what: &str,
) -> Result<(String, Activity)> {
    let key = tx
        .open_table(ACTIVITY_IDS)?
        .get(id)?
        .map(|k| k.value().to_string())
        .filter(|k| k.starts_with(&format!("{region}/{nip}/")))
        .ok_or_else(|| StoreError::NotFound(format!("activity report {id} of employee `{nip}`")))?;
    let a: Activity = get_json(&tx.open_table(ACTIVITIES)?, &key)?
        .ok_or_else(|| StoreError::NotFound(format!("activity report {id} of employee `{nip}`")))?;
    if a.state != ReportState::Pending {
        return Err(StoreError::Conflict(format!(
            "activity report {id} is {}; only a pending report can be {what}",
            a.state.as_str()
        )));
    }
    Ok((key, a))
}

/// Removes a pending report from the pending index.
fn unindex(tx: &WriteTransaction, region: &str, a: &Activity) -> Result<()> {
    tx.open_table(PENDING_REPORTS)?
        .remove(pending_key(region, a).as_str())?;
    Ok(())
}

/// Turns a pending report into a decided one, keeping the indexes.
fn decide(
    tx: &WriteTransaction,
    region: &str,
    nip: &str,
    (key, mut a): (String, Activity),
    verdict: &Verdict,
    (actor, at): (&str, &str),
) -> Result<Activity> {
    unindex(tx, region, &a)?;
    match verdict {
        Verdict::Approve => {
            a.state = ReportState::Approved;
            add_day_minutes(tx, &day_key(region, nip, a.date), a.minutes)?;
        }
        Verdict::Reject { note } => {
            a.state = ReportState::Rejected;
            a.note = Some(note.clone());
        }
    }
    a.decided_by = Some(actor.to_string());
    a.decided_at = Some(at.to_string());
    tx.open_table(ACTIVITIES)?
        .insert(key.as_str(), to_json(&a)?.as_slice())?;
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::period::Period;

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Store::open(dir.path()).expect("open store");
        crate::demo::load_records(&store).expect("demo records");
        (dir, store)
    }

    fn counted(store: &Store, nip: &str) -> Reported {
        let period = Period::parse("2025").expect("period");
        let tx = store
            .shard("jambi")
            .expect("jambi")
            .db
            .begin_read()
            .expect("read");
        let t = tx.open_table(DAY_MINUTES).expect("days");
        count_reported(&t, ("jambi", nip), (period.start(), period.end()), 1).expect("count")
    }

    fn a_nip(store: &Store) -> String {
        let page = store.employees("jambi", None, None, 1).expect("employees");
        page.items[0].nip.clone()
    }

    /// A data dir of the version before reviews (reports without a state, no indexes) is
    /// indexed on opening, every old report counted as approved, as it was counted then.
    #[test]
    fn reports_of_an_earlier_version_are_indexed_as_approved() {
        let (dir, store) = store();
        let nip = a_nip(&store);
        let before = counted(&store, &nip);
        assert!(before.days > 0 && before.minutes > 0, "{before:?}");
        {
            let tx = store
                .shard("jambi")
                .expect("jambi")
                .db
                .begin_write()
                .expect("write");
            {
                let mut t = tx.open_table(ACTIVITIES).expect("reports");
                let rows: Vec<(String, Vec<u8>)> = t
                    .iter()
                    .expect("iter")
                    .map(|r| {
                        let (k, v) = r.expect("row");
                        let mut a: serde_json::Value =
                            serde_json::from_slice(v.value()).expect("json");
                        for f in ["state", "decided_by", "decided_at", "note"] {
                            a.as_object_mut().expect("object").remove(f);
                        }
                        (k.value().to_string(), serde_json::to_vec(&a).expect("json"))
                    })
                    .collect();
                for (k, v) in rows {
                    t.insert(k.as_str(), v.as_slice()).expect("insert");
                }
            }
            tx.delete_table(ACTIVITY_IDS).expect("drop ids");
            tx.delete_table(DAY_MINUTES).expect("drop days");
            tx.commit().expect("commit");
        }
        drop(store);
        let store = Store::open(dir.path()).expect("reopen");
        assert_eq!(counted(&store, &nip), before);
        let page = store
            .activities(
                "jambi",
                &nip,
                &ActivityQuery {
                    limit: 1,
                    ..Default::default()
                },
            )
            .expect("list");
        assert_eq!(page.items[0].state, ReportState::Approved);
        let id = page.items[0].id;
        assert_eq!(store.activity_owners("jambi", &[id]).expect("owner"), [nip]);
    }

    /// Auto-approval takes the reports pending at least the region's days, oldest first, and
    /// leaves the newer ones and the regions that do not auto-approve.
    #[test]
    fn overdue_reports_are_approved_where_the_region_asks() {
        let (_dir, store) = store();
        let nip = a_nip(&store);
        let input = |day: &str| ActivityInput {
            date: day.parse().expect("date"),
            description: "Rapat koordinasi".into(),
            minutes: 60,
        };
        let added = store
            .add_activities(
                "jambi",
                &nip,
                vec![input("2025-12-30"), input("2025-12-31")],
                ReportState::Pending,
            )
            .expect("add");
        let before = counted(&store, &nip);
        let now = SystemTime::now();
        assert_eq!(
            store
                .approve_overdue(now + Duration::from_secs(3 * 86_400))
                .expect("sweep"),
            0,
            "no region auto-approves"
        );
        let rules = ReportingRules {
            auto_approve_after_days: Some(2),
            ..Default::default()
        };
        store
            .set_reporting_rules("jambi", "tok-admin", rules, false)
            .expect("rules");
        assert_eq!(
            store.approve_overdue(now).expect("sweep"),
            0,
            "not overdue yet"
        );
        assert_eq!(
            store
                .approve_overdue(now + Duration::from_secs(3 * 86_400))
                .expect("sweep"),
            2
        );
        let after = counted(&store, &nip);
        assert_eq!(after.minutes, before.minutes + 120);
        let decided = store
            .decide_activities(
                "jambi",
                &[(nip.clone(), added[0].id)],
                &Verdict::Approve,
                "tok-x",
            )
            .expect_err("already approved");
        assert!(decided.to_string().contains("approved"), "{decided}");
        let page = store
            .activities(
                "jambi",
                &nip,
                &ActivityQuery {
                    from: Some("2025-12-30".parse().expect("date")),
                    limit: 10,
                    ..Default::default()
                },
            )
            .expect("list");
        assert!(page
            .items
            .iter()
            .all(|a| a.decided_by.as_deref() == Some("auto")));
        let history = store
            .employee_history("jambi", &nip, None, 1000, |_| true)
            .expect("history");
        let auto = history
            .items
            .iter()
            .find(|e| e.action == "report.approve")
            .expect("the auto-approval is audited");
        assert_eq!(
            auto.detail["ids"],
            serde_json::json!([added[0].id, added[1].id])
        );
    }
}

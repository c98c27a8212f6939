//! The audit trail: who (token id) uploaded, activated, issued or revoked what, and when.
//! Events are written in the same transaction as the change they describe, so neither exists
//! without the other.

use super::shard::Shard;
use super::tables::{AUDIT, AUDIT_BY_EMPLOYEE};
use super::{get_json, next_seq, page_json, to_json, InputsRead, Page, Result, Store};
use crate::domain::now_rfc3339;
use redb::ReadableDatabase;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEvent {
    pub seq: u64,
    pub at: String,
    /// The token id that acted; null for the server itself (bootstrap, demo).
    pub actor: Option<String>,
    /// e.g. `token.issue`, `token.revoke`, `plugin.upload`, `policy.activate`, `policy.deactivate`.
    pub action: String,
    pub region: Option<String>,
    pub subject: String,
    #[schema(value_type = Option<Object>, required = true)]
    pub detail: serde_json::Value,
}

pub(crate) fn record(
    tx: &redb::WriteTransaction,
    actor: Option<&str>,
    action: &str,
    region: Option<&str>,
    subject: &str,
    detail: serde_json::Value,
) -> Result<u64> {
    let seq = next_seq(tx, "audit")?;
    let ev = AuditEvent {
        seq,
        at: now_rfc3339(),
        actor: actor.map(str::to_string),
        action: action.into(),
        region: region.map(str::to_string),
        subject: subject.into(),
        detail,
    };
    tx.open_table(AUDIT)?
        .insert(format!("{seq:016}").as_str(), to_json(&ev)?.as_slice())?;
    Ok(seq)
}

/// [`record`] for an event about one employee, which their history then shows.
pub(crate) fn record_about(
    tx: &redb::WriteTransaction,
    actor: Option<&str>,
    action: &str,
    (region, nip): (&str, &str),
    subject: &str,
    detail: serde_json::Value,
) -> Result<()> {
    let seq = record(tx, actor, action, Some(region), subject, detail)?;
    tx.open_table(AUDIT_BY_EMPLOYEE)?
        .insert(format!("{region}/{nip}/{seq:016}").as_str(), seq)?;
    Ok(())
}

impl Store {
    /// Events of `region`, oldest first, from its file; or (`None`, an admin's view) every
    /// event: the national audit of the system file (admin tokens, regions created and
    /// changed, backups) oldest first, then each region's in turn, by region id. The cursor
    /// of that view names the file and the last event read there (`{file}:{seq}`, the system
    /// file as `-`).
    pub fn audit(
        &self,
        region: Option<&str>,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<AuditEvent>> {
        let page_of = |home: &Shard, cursor: Option<&str>, limit: usize| {
            let tx = home.db.begin_read()?;
            // Audit keys have no prefix; page over the whole table.
            page_json(
                &tx.open_table(AUDIT)?,
                "",
                cursor,
                limit,
                |_: &AuditEvent| true,
            )
        };
        if let Some(r) = region {
            return page_of(&*self.shard(r)?, cursor, limit);
        }
        let mut files: Vec<(String, Arc<Shard>)> = vec![("-".into(), Arc::clone(&self.system))];
        files.extend(self.each_shard());
        let (from_file, mut inner) = match cursor.and_then(|c| c.rsplit_once(':')) {
            Some((f, seq)) => (f.to_string(), Some(seq.to_string())),
            None => ("-".to_string(), None),
        };
        let start = files.iter().position(|(f, _)| *f == from_file).unwrap_or(0);
        let mut items = Vec::new();
        for (i, (name, home)) in files.iter().enumerate().skip(start) {
            let want = limit - items.len();
            let page = page_of(home, inner.take().as_deref(), want)?;
            let full = page.items.len() == want;
            let last = page.items.last().map(|e| e.seq);
            items.extend(page.items);
            if let Some(next) = page.next {
                return Ok(Page {
                    items,
                    next: Some(format!("{name}:{next}")),
                });
            }
            if full {
                // Exactly filled: the next page starts after this file's last event, or with
                // the next file when there are more of them.
                let more = files.len() > i + 1;
                let next = last.map(|seq| format!("{name}:{seq:016}"));
                return Ok(Page {
                    items,
                    next: next.filter(|_| more),
                });
            }
        }
        Ok(Page { items, next: None })
    }

    /// The events about one employee that `keep` keeps, oldest first: their records, ratings,
    /// feedback, password and sessions. Filtered here rather than by the caller, so that a
    /// page holds `limit` kept events. The cursor is the last event's `seq`.
    pub fn employee_history(
        &self,
        region: &str,
        nip: &str,
        cursor: Option<&str>,
        limit: usize,
        keep: impl Fn(&AuditEvent) -> bool,
    ) -> Result<Page<AuditEvent>> {
        self.events_about((region, nip), (cursor, limit), u64::MAX, keep)
    }

    /// The writes an appraisal of `nip` for `period` was built from: the audited writes of the
    /// employee's record, of that period's record and ratings (and the year's, which stand for
    /// a month or quarter without its own), of the year's SKP, and the reviews of their reports,
    /// committed in the snapshot `read` (every one numbered up to its mark), oldest first, paged
    /// like the history.
    pub fn decision_trace(
        &self,
        (region, nip, period): (&str, &str, &str),
        read: InputsRead,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<AuditEvent>> {
        let year = period.get(..4).unwrap_or(period);
        let subjects = [
            format!("{nip}/{period}"),
            format!("{nip}/{year}"),
            format!("{nip}/skp/{year}"),
        ];
        self.events_about((region, nip), (cursor, limit), read.audit_seq, |e| {
            feeds_appraisal(e, nip, &subjects)
        })
    }

    /// The events about one employee numbered up to `until` that `keep` keeps, oldest first.
    fn events_about(
        &self,
        (region, nip): (&str, &str),
        (cursor, limit): (Option<&str>, usize),
        until: u64,
        keep: impl Fn(&AuditEvent) -> bool,
    ) -> Result<Page<AuditEvent>> {
        let tx = self.shard(region)?.db.begin_read()?;
        let index = tx.open_table(AUDIT_BY_EMPLOYEE)?;
        let events = tx.open_table(AUDIT)?;
        let prefix = format!("{region}/{nip}/");
        let start = match cursor {
            Some(c) => format!("{prefix}{c}\u{0}"),
            None => prefix.clone(),
        };
        let end = super::prefix_end(&prefix);
        let mut items = Vec::new();
        let mut next = None;
        for row in index.range::<&str>(start.as_str()..end.as_str())? {
            let (_, seq) = row?;
            let seq = seq.value();
            if seq > until {
                break;
            }
            if items.len() == limit {
                next = items.last().map(|e: &AuditEvent| format!("{:016}", e.seq));
                break;
            }
            if let Some(ev) = get_json(&events, &format!("{seq:016}"))? {
                if keep(&ev) {
                    items.push(ev);
                }
            }
        }
        Ok(Page { items, next })
    }
}

/// Whether `e` (an event about the employee `nip`) changed what an appraisal reads whose
/// period, year and SKP are `subjects`: the employee's record, the period records and their
/// ratings and peer assignment, the SKP, and the reviews of the employee's reports. Feedback,
/// passwords and sessions do not enter a case.
fn feeds_appraisal(e: &AuditEvent, nip: &str, subjects: &[String]) -> bool {
    let a = e.action.as_str();
    if a == "employee.put" || a.starts_with("report.") {
        return e.subject == nip;
    }
    (a == "period.put" || a.starts_with("ratings.") || a.starts_with("skp."))
        && subjects.contains(&e.subject)
}

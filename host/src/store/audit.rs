//! The audit trail: who (token id) uploaded, activated, issued or revoked what, and when.
//! Events are written in the same transaction as the change they describe, so neither exists
//! without the other.

use super::tables::{AUDIT, AUDIT_BY_EMPLOYEE};
use super::{get_json, next_seq, page_json, to_json, InputsRead, Page, Result, Store};
use crate::domain::now_rfc3339;
use redb::ReadableDatabase;
use serde::{Deserialize, Serialize};
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
    /// Events oldest first; `region` limits them to one region (a region admin's view).
    pub fn audit(
        &self,
        region: Option<&str>,
        cursor: Option<&str>,
        limit: usize,
    ) -> Result<Page<AuditEvent>> {
        let tx = self.db.begin_read()?;
        let t = tx.open_table(AUDIT)?;
        // Audit keys have no prefix; page over the whole table.
        page_json(&t, "", cursor, limit, |e: &AuditEvent| {
            region.is_none_or(|r| e.region.as_deref() == Some(r))
        })
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
        let tx = self.db.begin_read()?;
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

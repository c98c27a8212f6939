//! Organisational predikat per agency and period, and the stored employee predikat the
//! distribution check of SE MenPANRB 3/2023 compares against it.

use super::tables::*;
use super::{audit, from_json, get_json, prefix_end, to_json, Result, Store, StoreError};
use crate::domain::distribution::OrgPredikat;
use crate::domain::now_rfc3339;
use crate::domain::period::Period;
use crate::domain::records::Employee;
use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// An agency's organisational predikat for one period, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OrgPredikatRecord {
    pub region: String,
    pub agency: String,
    pub period: String,
    pub predikat: OrgPredikat,
    /// The token id that recorded it; null for the server itself.
    pub by: Option<String>,
    pub at: String,
}

/// What the distribution of one agency and period is computed from, read in one snapshot so
/// that the org predikat and the employees' results belong to the same moment.
#[derive(Debug, Clone)]
pub struct AgencyPredikat {
    pub org: Option<OrgPredikatRecord>,
    /// Every current employee of the agency, by NIP, with the predikat of its newest appraisal
    /// of the period (`None`: not appraised for it).
    pub employees: Vec<(String, Option<String>)>,
}

fn key(region: &str, agency: &str, period: Period) -> String {
    format!("{region}/{agency}/{period}")
}

fn require_agency(
    agencies: &impl ReadableTable<&'static str, &'static [u8]>,
    region: &str,
    agency: &str,
) -> Result<()> {
    if super::records::agency_exists(agencies, region, agency)? {
        Ok(())
    } else {
        Err(StoreError::NotFound(format!(
            "agency `{agency}` in region `{region}`"
        )))
    }
}

impl Store {
    /// Records (or replaces) the org predikat, with its audit event in the same transaction.
    pub fn put_org_predikat(
        &self,
        region: &str,
        agency: &str,
        period: Period,
        predikat: OrgPredikat,
        actor: Option<&str>,
    ) -> Result<OrgPredikatRecord> {
        self.require_region(region)?;
        let tx = self.shard(region)?.begin_write()?;
        require_agency(&tx.open_table(AGENCIES)?, region, agency)?;
        let rec = OrgPredikatRecord {
            region: region.into(),
            agency: agency.into(),
            period: period.to_string(),
            predikat,
            by: actor.map(str::to_string),
            at: now_rfc3339(),
        };
        let k = key(region, agency, period);
        let previous: Option<OrgPredikatRecord> = {
            let mut t = tx.open_table(ORG_PREDIKAT)?;
            let previous = get_json(&t, &k)?;
            t.insert(k.as_str(), to_json(&rec)?.as_slice())?;
            previous
        };
        audit::record(
            &tx,
            actor,
            "org_predikat.set",
            Some(region),
            &format!("{agency}/{period}"),
            serde_json::json!({
                "predikat": predikat,
                "previous": previous.map(|p| p.predikat),
            }),
        )?;
        tx.commit()?;
        Ok(rec)
    }

    /// The recorded org predikat; `None` is an answer (nothing recorded yet), a missing agency
    /// is not.
    pub fn org_predikat(
        &self,
        region: &str,
        agency: &str,
        period: Period,
    ) -> Result<Option<OrgPredikatRecord>> {
        self.require_region(region)?;
        let tx = self.shard(region)?.db.begin_read()?;
        require_agency(&tx.open_table(AGENCIES)?, region, agency)?;
        get_json(&tx.open_table(ORG_PREDIKAT)?, &key(region, agency, period))
    }

    /// The agency's employees with their stored predikat for `period`. Several appraisals of
    /// one period may exist; the newest (highest decision id) wins. The index is keyed by the
    /// period's last day, which a year and its last quarter share, so each decision's own
    /// `period` is checked too.
    pub fn stored_predikat_of_agency(
        &self,
        region: &str,
        agency: &str,
        period: Period,
    ) -> Result<AgencyPredikat> {
        self.require_region(region)?;
        let tx = self.shard(region)?.db.begin_read()?;
        require_agency(&tx.open_table(AGENCIES)?, region, agency)?;
        let org = get_json(&tx.open_table(ORG_PREDIKAT)?, &key(region, agency, period))?;
        let emps = tx.open_table(EMPLOYEES)?;
        let idx = tx.open_table(APPRAISALS_BY_EMPLOYEE)?;
        let decisions = tx.open_table(DECISIONS)?;
        let mut reader = super::decision_row::reader(&tx)?;
        let (period_s, end) = (period.to_string(), period.end().to_string());
        let region_prefix = format!("{region}/");
        let mut employees = Vec::new();
        for row in
            emps.range::<&str>(region_prefix.as_str()..prefix_end(&region_prefix).as_str())?
        {
            let (_, v) = row?;
            let e: Employee = from_json(v.value())?;
            if e.agency != agency {
                continue;
            }
            let prefix = format!("{region}/{}/{end}/", e.nip);
            let mut predikat = None;
            // Decision ids are zero-padded, so key order is age order: walk newest first.
            for row in idx
                .range::<&str>(prefix.as_str()..prefix_end(&prefix).as_str())?
                .rev()
            {
                let (_, id) = row?;
                let Some(d) = decisions.get(id.value())? else {
                    continue;
                };
                let d = reader.decode(id.value(), d.value())?;
                if d.period.as_deref() == Some(period_s.as_str()) {
                    predikat = d.predikat();
                    break;
                }
            }
            employees.push((e.nip, predikat));
        }
        Ok(AgencyPredikat { org, employees })
    }
}

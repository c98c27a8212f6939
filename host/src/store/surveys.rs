//! Public survey codes and the answers' tallies. A code is single-use: answering marks it
//! used and adds to its unit's tally in one transaction, so no code counts twice.

use super::shard::Shard;
use super::tables::{AGENCIES, SURVEY_CODES, SURVEY_TALLIES};
use super::tokens::random_hex;
use super::{audit, get_json, to_json, Result, Store, StoreError};
use crate::domain::period::Period;
use crate::domain::records::PublicFeedback;
use crate::domain::survey::Tally;
use crate::domain::{now_rfc3339, FieldError};
use redb::{ReadableDatabase, ReadableTable};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;

/// Codes one unit's survey of one period may have in all: a large service unit's year of
/// respondents, and a bound on what one agency can put in the table.
pub const MAX_CODES_PER_SURVEY: u32 = 1_000_000;

/// One issued code: where its answer counts, and whether it was used.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Code {
    region: String,
    agency: String,
    unit: Option<String>,
    period: String,
    issued_at: String,
    issued_by: String,
    used_at: Option<String>,
}

/// The tally key of a unit: `region/agency/unit/period`, `*` standing for the agency as a
/// whole (ids cannot contain `*` or `/`, see `domain::validate_id`).
fn tally_key(region: &str, agency: &str, unit: Option<&str>, period: &str) -> String {
    format!("{region}/{agency}/{}/{period}", unit.unwrap_or("*"))
}

/// The surveys an appraisal of `period` in `region` uses, by agency, then unit (or `*`): a
/// tally of the period itself, or else of its year. Nested so that a case looks its unit up
/// with the employee's own strings, without building a key.
pub(super) type Surveys = HashMap<String, HashMap<String, PublicFeedback>>;

pub(super) fn surveys_for(
    t: &impl ReadableTable<&'static str, &'static [u8]>,
    region: &str,
    period: Period,
) -> Result<Surveys> {
    let (exact, year) = (
        period.to_string(),
        Period::Year(period.start().year).to_string(),
    );
    let prefix = format!("{region}/");
    let mut best: HashMap<(String, String), (bool, PublicFeedback)> = HashMap::new();
    for row in t.range(prefix.as_str()..super::prefix_end(&prefix).as_str())? {
        let (k, v) = row?;
        let mut parts = k.value()[prefix.len()..].split('/');
        let (Some(agency), Some(unit), Some(p)) = (parts.next(), parts.next(), parts.next()) else {
            continue;
        };
        let is_exact = p == exact;
        if !is_exact && p != year {
            continue;
        }
        let tally: Tally = super::from_json(v.value())?;
        let Some(fb) = tally.feedback() else { continue };
        let key = (agency.to_string(), unit.to_string());
        match best.get(&key) {
            Some((true, _)) => {}
            Some((false, _)) if !is_exact => {}
            _ => {
                best.insert(key, (is_exact, fb));
            }
        }
    }
    let mut surveys = Surveys::new();
    for ((agency, unit), (_, fb)) in best {
        surveys.entry(agency).or_default().insert(unit, fb);
    }
    Ok(surveys)
}

impl Store {
    /// Issues `count` single-use codes for the agency's unit (or the agency) and period.
    pub fn issue_survey_codes(
        &self,
        region: &str,
        agency: &str,
        unit: Option<String>,
        period: Period,
        count: u32,
        actor: &str,
    ) -> Result<Vec<String>> {
        self.require_region(region)?;
        let tx = self.shard(region)?.begin_write()?;
        if !super::records::agency_exists(&tx.open_table(AGENCIES)?, region, agency)? {
            return Err(StoreError::NotFound(format!(
                "agency `{agency}` in region `{region}`"
            )));
        }
        let period_s = period.to_string();
        let mut codes = Vec::with_capacity(count as usize);
        {
            let mut t = tx.open_table(SURVEY_CODES)?;
            let now = now_rfc3339();
            while codes.len() < count as usize {
                let code = random_hex(8);
                if t.get(code.as_str())?.is_some() {
                    continue;
                }
                let c = Code {
                    region: region.into(),
                    agency: agency.into(),
                    unit: unit.clone(),
                    period: period_s.clone(),
                    issued_at: now.clone(),
                    issued_by: actor.into(),
                    used_at: None,
                };
                t.insert(code.as_str(), to_json(&c)?.as_slice())?;
                codes.push(code);
            }
        }
        {
            let mut t = tx.open_table(SURVEY_TALLIES)?;
            let key = tally_key(region, agency, unit.as_deref(), &period_s);
            let mut tally: Tally = get_json(&t, &key)?.unwrap_or_default();
            tally.issued = tally
                .issued
                .checked_add(count)
                .filter(|n| *n <= MAX_CODES_PER_SURVEY)
                .ok_or_else(|| {
                    FieldError::new(
                        "count",
                        format!(
                            "at most {MAX_CODES_PER_SURVEY} codes per unit and period; {} were issued",
                            tally.issued
                        ),
                    )
                })?;
            t.insert(key.as_str(), to_json(&tally)?.as_slice())?;
        }
        audit::record(
            &tx,
            Some(actor),
            "survey.issue",
            Some(region),
            agency,
            serde_json::json!({ "unit": unit, "period": period_s, "count": count }),
        )?;
        tx.commit()?;
        Ok(codes)
    }

    /// Whether `code` was ever issued: a read, so that unknown codes never wait for (or hold)
    /// the writer.
    /// `region` names the region that issued it (its route on a cluster); without it, every
    /// region's file is asked.
    pub fn survey_code_exists(&self, region: Option<&str>, code: &str) -> Result<bool> {
        Ok(self.survey_home(region, code)?.is_some())
    }

    /// The region file that issued `code`, if any: `region`'s, or, when the code comes without
    /// its region (codes are typed by respondents), any region's (a read per region is a few
    /// microseconds).
    fn survey_home(&self, region: Option<&str>, code: &str) -> Result<Option<Arc<Shard>>> {
        let homes = match region {
            Some(r) => match self.shard(r) {
                Ok(s) => vec![(r.to_string(), s)],
                Err(_) => return Ok(None),
            },
            None => self.each_shard(),
        };
        for (_, s) in homes {
            if s.db
                .begin_read()?
                .open_table(SURVEY_CODES)?
                .get(code)?
                .is_some()
            {
                return Ok(Some(s));
            }
        }
        Ok(None)
    }

    /// Records one respondent's answer under a code: 404 for a code never issued, 400 for one
    /// already used.
    pub fn answer_survey(&self, region: Option<&str>, code: &str, scores: [u8; 9]) -> Result<()> {
        let home = self
            .survey_home(region, code)?
            .ok_or_else(|| StoreError::NotFound("survey code".into()))?;
        let tx = home.begin_write()?;
        let c = {
            let mut t = tx.open_table(SURVEY_CODES)?;
            let mut c: Code =
                get_json(&t, code)?.ok_or_else(|| StoreError::NotFound("survey code".into()))?;
            if let Some(at) = &c.used_at {
                return Err(FieldError::new("code", format!("this code was used at {at}")).into());
            }
            c.used_at = Some(now_rfc3339());
            t.insert(code, to_json(&c)?.as_slice())?;
            c
        };
        {
            let mut t = tx.open_table(SURVEY_TALLIES)?;
            let key = tally_key(&c.region, &c.agency, c.unit.as_deref(), &c.period);
            let mut tally: Tally = get_json(&t, &key)?.unwrap_or_default();
            tally.add(scores);
            t.insert(key.as_str(), to_json(&tally)?.as_slice())?;
        }
        audit::record(
            &tx,
            None,
            "survey.answer",
            Some(&c.region),
            &c.agency,
            serde_json::json!({ "unit": c.unit, "period": c.period }),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The tally of a unit (or the agency) for a period; empty when nothing was issued.
    pub fn survey_tally(
        &self,
        region: &str,
        agency: &str,
        unit: Option<&str>,
        period: Period,
    ) -> Result<Tally> {
        self.agency(region, agency)?;
        let tx = self.shard(region)?.db.begin_read()?;
        let key = tally_key(region, agency, unit, &period.to_string());
        Ok(get_json(&tx.open_table(SURVEY_TALLIES)?, &key)?.unwrap_or_default())
    }
}

//! Activation cannot break a region. Before a module becomes a region's policy it runs, with
//! the config it is about to get, on a sample of the region's own cases (a synthetic case when
//! the region has no appraisal data yet); a module that refuses or fails there is not
//! activated. A bad config used to be accepted and then failed every appraisal of the region
//! with 422 until someone noticed.

use super::{cases, Keep, Policy, PolicyError};
use crate::domain::date::{today, Date};
use crate::domain::period::Period;
use crate::domain::records::{Employee, PeriodInput};
use kinerja_runtime::Hook;
use serde_json::{json, Value};
use std::sync::Arc;

impl Policy {
    /// Runs `plugin`'s `hook` with `config` on the region's sample; `Err` names the plugin
    /// and the module's own error. Nothing is stored.
    pub async fn preflight(
        &self,
        region: &str,
        plugin: &str,
        hook: Hook,
        config: &Value,
    ) -> Result<(), PolicyError> {
        match hook {
            Hook::Appraise => {
                let r = region.to_string();
                let sample = self
                    .store
                    .run(move |s| s.appraisal_sample(&r, crate::limits::PREFLIGHT_SAMPLE))
                    .await?;
                let (mut found, _) = match sample {
                    Some((period, employees)) => {
                        self.appraisal_cases(region, period, employees).await?
                    }
                    None => (Vec::new(), Vec::new()),
                };
                if found.is_empty() {
                    found.push(Box::new(synthetic_case()?));
                }
                self.run_appraise(region, plugin, config, &Arc::new(found), (Keep::Nothing, 1))
                    .await?;
            }
            Hook::Rotate => {
                self.dry_run_rotate(region, plugin, config, today(), None)
                    .await?;
            }
        }
        Ok(())
    }
}

/// A plain, complete case: one indicator met, every BerAKHLAK value rated 4 by the supervisor
/// and peers, a process rating, a budget and public feedback, so that every region's formula
/// has what it reads.
pub(super) fn synthetic_case() -> Result<cases::Case, PolicyError> {
    let internal = |e: serde_json::Error| PolicyError::Internal(format!("synthetic case: {e}"));
    let ratings = json!({"berorientasi_pelayanan": 4, "akuntabel": 4, "kompeten": 4,
        "harmonis": 4, "loyal": 4, "adaptif": 4, "kolaboratif": 4});
    let today = today();
    let employee = Employee {
        region: String::new(),
        nip: "199001012015011001".into(),
        name: "Contoh Pegawai".into(),
        agency: "contoh".into(),
        position_id: "contoh-staf".into(),
        position_since: Date::from_days(today.to_days() - 3 * 365),
        competencies: Default::default(),
        potential: None,
        declined_rotation: false,
        history: Vec::new(),
        supervisor_nip: None,
        service_unit: None,
        updated_at: String::new(),
    };
    let record: PeriodInput = serde_json::from_value(json!({
        "indicators": [{"id": "iki-1", "name": "Laporan", "kind": "utama",
            "direction": "higher_is_better", "unit": "dokumen", "target": 12, "realization": 12}],
        "behavior": {"supervisor": ratings, "peers": [ratings], "self": ratings},
        "process": {"inovasi": 80},
        "budget": {"planned": 100.0, "realized": 90.0},
        "public_feedback": {"ikm": 3.2, "respondents": 10}
    }))
    .map_err(internal)?;
    let period = Period::Year(today.year - 1);
    let days = cases::working_days(period, &record);
    let reported = crate::store::Reported {
        days,
        minutes: u64::from(days) * 7 * 60,
    };
    cases::case(&employee, period, Ok(Some(record)), reported)
        .map_err(|why| PolicyError::Internal(format!("synthetic case: {why}")))
}

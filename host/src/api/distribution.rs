//! The organisational predikat of an agency and the distribution check of SE MenPANRB 3/2023:
//! the quotas the org predikat puts on the employees' predikat, against what was stored.

use super::error::{ApiError, ApiResult};
use super::extract::{period_param, AgencyParam, Caller, JsonBody, PeriodParam, RegionParam, P, Q};
use super::{AppState, Errors};
use crate::domain::distribution::{self, Counts, OrgPredikat, Predikat, Quota, Shares};
use crate::domain::validate_id;
use crate::store::OrgPredikatRecord;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_org_predikat))
        .routes(routes!(distribution))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrgPredikatInput {
    /// `istimewa`, `baik`, `butuh_perbaikan`, `kurang` or `sangat_kurang`.
    pub predikat: OrgPredikat,
}

/// Record the agency's organisational predikat for a period; it sets the distribution quotas.
#[utoipa::path(put, path = "/api/v1/regions/{region}/agencies/{agency}/org-predikat/{period}",
    tag = "evaluation", params(RegionParam, AgencyParam, PeriodParam),
    request_body = OrgPredikatInput,
    responses((status = 200, body = OrgPredikatRecord), Errors), security(("bearer" = [])))]
async fn put_org_predikat(
    State(st): State<AppState>,
    c: Caller,
    P((region, agency, period_s)): P<(String, String, String)>,
    JsonBody(input): JsonBody<OrgPredikatInput>,
) -> ApiResult<Json<OrgPredikatRecord>> {
    validate_id("agency", &agency)?;
    // The org predikat is set by the region, not by the agency it judges.
    c.scope.require_region_admin(&region)?;
    let period = period_param(&period_s)?;
    let actor = c.token_id.clone();
    let rec = st
        .store
        .run(move |s| s.put_org_predikat(&region, &agency, period, input.predikat, Some(&actor)))
        .await?;
    tracing::info!(region = %rec.region, agency = %rec.agency, period = %rec.period,
        predikat = ?rec.predikat, "org predikat recorded");
    Ok(Json(rec))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DistributionQuery {
    /// Required: `YYYY`, `YYYY-Qn` or `YYYY-MM`.
    #[param(required = true, example = "2025")]
    pub period: Option<String>,
}

/// The distribution of the employees' stored predikat for one period, against the quotas of
/// the agency's organisational predikat.
#[derive(Debug, Serialize, ToSchema)]
pub struct Distribution {
    pub region: String,
    pub agency: String,
    pub period: String,
    /// Null when none is recorded for the period; then there are no quotas to check.
    pub org_predikat: Option<OrgPredikat>,
    /// Current employees of the agency.
    pub employees: u64,
    /// Of them, those with a stored appraisal of the period; counts, shares and quotas are
    /// taken over these only.
    pub appraised: u64,
    /// NIPs of the employees without a stored predikat for the period, sorted.
    pub not_appraised: Vec<String>,
    pub counts: Counts,
    /// Percent (0–100, not fractions) of `appraised` per predikat; null when nobody is appraised.
    pub shares: Option<Shares>,
    /// Every quota of the org predikat, met or not, in the order of the SE.
    pub quotas: Vec<Quota>,
    /// The quotas not met.
    pub breaks: Vec<Quota>,
    /// Every quota met; null when no org predikat is recorded. False when nobody is appraised
    /// and a quota is a share: a share of nobody cannot be judged, see `Quota::met`.
    pub compliant: Option<bool>,
    /// Why the answer is partial, when it is.
    pub note: Option<String>,
}

/// The actual predikat distribution of an agency for a period and every quota it breaks
/// (SE MenPANRB 3/2023). Each employee counts with its newest stored appraisal of the period.
#[utoipa::path(get, path = "/api/v1/regions/{region}/agencies/{agency}/distribution",
    tag = "evaluation", params(RegionParam, AgencyParam, DistributionQuery),
    responses((status = 200, body = Distribution), Errors), security(("bearer" = [])))]
async fn distribution(
    State(st): State<AppState>,
    c: Caller,
    P((region, agency)): P<(String, String)>,
    Q(q): Q<DistributionQuery>,
) -> ApiResult<Json<Distribution>> {
    validate_id("agency", &agency)?;
    c.scope.require_agency(&region, &agency)?;
    let period =
        period_param(q.period.as_deref().ok_or_else(|| {
            ApiError::BadRequest("period: required, e.g. `?period=2025`".into())
        })?)?;
    let (r, a) = (region.clone(), agency.clone());
    let snap = st
        .store
        .run(move |s| s.stored_predikat_of_agency(&r, &a, period))
        .await?;
    let employees = snap.employees.len() as u64;
    let mut counts = Counts::default();
    let mut not_appraised = Vec::new();
    for (nip, p) in snap.employees {
        match p.as_deref().and_then(Predikat::parse) {
            Some(p) => counts.add(p),
            None => not_appraised.push(nip),
        }
    }
    not_appraised.sort();
    let org_predikat = snap.org.map(|o| o.predikat);
    let quotas = org_predikat
        .map(|o| distribution::check(o, &counts))
        .unwrap_or_default();
    let breaks: Vec<Quota> = quotas.iter().filter(|q| !q.met).cloned().collect();
    let note = match (org_predikat, counts.total()) {
        (None, _) => Some(format!(
            "no organisational predikat is recorded for agency `{agency}` in {period}; \
             record one with PUT .../org-predikat/{period} to check the quotas"
        )),
        (Some(_), 0) => Some(
            "no employee of the agency has a stored predikat for the period: quotas that are \
             shares cannot be evaluated and are reported not met"
                .into(),
        ),
        _ => None,
    };
    Ok(Json(Distribution {
        region,
        agency,
        period: period.to_string(),
        org_predikat,
        employees,
        appraised: counts.total(),
        not_appraised,
        counts,
        shares: counts.shares(),
        compliant: org_predikat.map(|_| breaks.is_empty()),
        quotas,
        breaks,
        note,
    }))
}

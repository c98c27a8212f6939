//! Evaluations: appraisals and rotations with the region's active plugin, stored as decisions.

use super::error::ApiResult;
use super::extract::{period_param, Caller, JsonBody, RegionParam, P};
use super::{AppState, Errors};
use crate::domain::date::Date;
use crate::policy::Appraisal;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(appraise))
        .routes(routes!(rotate))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppraiseInput {
    /// `YYYY`, `YYYY-Qn` or `YYYY-MM`.
    pub period: String,
    pub nips: Option<Vec<String>>,
    pub agency: Option<String>,
}

/// Appraise employees for a period with the active plugin; all results are stored together or not at all.
#[utoipa::path(post, path = "/api/v1/regions/{region}/appraisals", tag = "evaluation",
    params(RegionParam), request_body = AppraiseInput,
    responses((status = 200, body = Appraisal), Errors), security(("bearer" = [])))]
async fn appraise(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
    JsonBody(input): JsonBody<AppraiseInput>,
) -> ApiResult<Json<Appraisal>> {
    c.scope.require_region(&region)?;
    let period = period_param(&input.period)?;
    let emps = st
        .policy
        .select(&c.scope, &region, input.nips, input.agency)
        .await?;
    Ok(Json(
        st.policy
            .appraise(&region, period, emps, &c.token_id)
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateInput {
    /// The date tenure and the latest predikat are taken at.
    #[schema(value_type = String, format = Date)]
    pub as_of: Date,
    pub agency: Option<String>,
}

/// Recommend rotations and promotions with the active plugin; the decision is stored.
#[utoipa::path(post, path = "/api/v1/regions/{region}/rotations", tag = "evaluation",
    params(RegionParam), request_body = RotateInput,
    responses((status = 200, body = Object), Errors), security(("bearer" = [])))]
async fn rotate(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
    JsonBody(input): JsonBody<RotateInput>,
) -> ApiResult<Json<Value>> {
    c.scope.require_region(&region)?;
    st.store.read_now(|s| s.require_region(&region))?;
    let agency = st.policy.scoped_agency(&c.scope, &region, input.agency)?;
    Ok(Json(
        st.policy
            .rotate(&region, input.as_of, agency, &c.token_id)
            .await?,
    ))
}

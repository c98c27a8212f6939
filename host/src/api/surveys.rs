//! The public satisfaction survey: an agency issues single-use codes for a service unit and
//! period, anyone holding a code answers once without a token, and the agency reads the unit's
//! IKM. Appraisals of the unit's employees carry it as `public_feedback`.

use super::error::{ApiError, ApiResult};
use super::extract::{period_param, AgencyParam, Caller, JsonBody, RegionParam, P, Q};
use super::sessions::Peer;
use super::throttle::client_key;
use super::{AppState, Errors};
use crate::domain::survey::{grade, IkmReport, SurveyAnswer, SurveyInput};
use crate::domain::validate_id;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::time::Instant;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue))
        .routes(routes!(answer))
        .routes(routes!(answer_in_region))
        .routes(routes!(ikm))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct IssuedCodes {
    pub unit: Option<String>,
    pub period: String,
    /// Single-use codes to hand to respondents (on a receipt, a QR code, a slip).
    pub codes: Vec<String>,
    /// Each code's survey page in the web console, in `codes` order: a path on this server
    /// (`/#/survey/{region}/{code}`) to put after the public address on the slip or QR code.
    /// It names the region, so a cluster's proxy sends the answer to the node holding it.
    pub links: Vec<String>,
}

/// Issue single-use survey codes for a service unit (or the whole agency) and period: the
/// agency itself, or an administrator.
#[utoipa::path(post, path = "/api/v1/regions/{region}/agencies/{agency}/surveys", tag = "surveys",
    params(RegionParam, AgencyParam), request_body = SurveyInput,
    responses((status = 201, body = IssuedCodes), Errors), security(("bearer" = [])))]
async fn issue(
    State(st): State<AppState>,
    c: Caller,
    P((region, agency)): P<(String, String)>,
    JsonBody(input): JsonBody<SurveyInput>,
) -> ApiResult<(StatusCode, Json<IssuedCodes>)> {
    validate_id("agency", &agency)?;
    c.scope.require_agency(&region, &agency)?;
    let period = input.validate()?;
    let (actor, unit, r) = (c.token_id.clone(), input.unit.clone(), region.clone());
    let codes = st
        .store
        .run(move |s| s.issue_survey_codes(&r, &agency, unit, period, input.count, &actor))
        .await?;
    let links = codes
        .iter()
        .map(|code| format!("/#/survey/{region}/{code}"))
        .collect();
    Ok((
        StatusCode::CREATED,
        Json(IssuedCodes {
            unit: input.unit,
            period: period.to_string(),
            codes,
            links,
        }),
    ))
}

/// Answer the survey with a code: nine scores 1–4, once per code, no token needed.
#[utoipa::path(post, path = "/api/v1/surveys/{code}", tag = "surveys",
    params(("code" = String, Path, description = "the code on the respondent's slip: 16 lowercase hex digits")),
    request_body = SurveyAnswer, responses((status = 204), Errors))]
async fn answer(
    State(st): State<AppState>,
    Peer(peer): Peer,
    P(code): P<String>,
    JsonBody(input): JsonBody<SurveyAnswer>,
) -> ApiResult<StatusCode> {
    answer_code(&st, peer, None, code, input).await
}

/// [`answer`] under the issuing region's prefix, which a proxy routes to the node holding the
/// region (the printed slip or QR code carries this link).
#[utoipa::path(post, path = "/api/v1/regions/{region}/surveys/{code}", tag = "surveys",
    params(RegionParam, ("code" = String, Path, description = "the code on the respondent's slip: 16 lowercase hex digits")),
    request_body = SurveyAnswer, responses((status = 204), Errors))]
async fn answer_in_region(
    State(st): State<AppState>,
    Peer(peer): Peer,
    P((region, code)): P<(String, String)>,
    JsonBody(input): JsonBody<SurveyAnswer>,
) -> ApiResult<StatusCode> {
    crate::domain::region::validate_region_id(&region)?;
    answer_code(&st, peer, Some(region), code, input).await
}

async fn answer_code(
    st: &AppState,
    peer: Option<std::net::IpAddr>,
    region: Option<String>,
    code: String,
    input: SurveyAnswer,
) -> ApiResult<StatusCode> {
    let code = code.trim().to_ascii_lowercase();
    let well_formed = code.len() == 16 && code.bytes().all(|b| b.is_ascii_hexdigit());
    // Unknown codes are answered from a read, never queueing for the writer, and count as a
    // failed authentication of the address: codes are credentials.
    let exists = |s: &crate::store::Store| s.survey_code_exists(region.as_deref(), &code);
    if !well_formed || !st.store.read_now(exists)? {
        if let Some(ip) = peer {
            if let Err(r) = st.throttle.failed(client_key(ip), Instant::now()) {
                return Err(too_many_codes(r.retry_after_secs()));
            }
        }
        return Err(ApiError::NotFound("survey code not found".into()));
    }
    let scores = input.validate()?;
    st.store
        .run(move |s| s.answer_survey(region.as_deref(), &code, scores))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

fn too_many_codes(retry_after: u64) -> ApiError {
    ApiError::TooManyRequests {
        message: format!("too many unknown codes from this address; retry in {retry_after} s"),
        retry_after,
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct IkmQuery {
    /// Required: `YYYY`, `YYYY-Qn` or `YYYY-MM`.
    #[param(required = true, example = "2026")]
    pub period: Option<String>,
    /// A service unit; absent: the agency-wide survey.
    pub unit: Option<String>,
}

/// A unit's (or the agency's) IKM for a period: the mean of the element means, the converted
/// index and its grade, the respondents, and the codes issued and unused.
#[utoipa::path(get, path = "/api/v1/regions/{region}/agencies/{agency}/ikm", tag = "surveys",
    params(RegionParam, AgencyParam, IkmQuery),
    responses((status = 200, body = IkmReport), Errors), security(("bearer" = [])))]
async fn ikm(
    State(st): State<AppState>,
    c: Caller,
    P((region, agency)): P<(String, String)>,
    Q(q): Q<IkmQuery>,
) -> ApiResult<Json<IkmReport>> {
    validate_id("agency", &agency)?;
    c.scope.require_agency(&region, &agency)?;
    let period =
        period_param(q.period.as_deref().ok_or_else(|| {
            ApiError::BadRequest("period: required, e.g. `?period=2026`".into())
        })?)?;
    if let Some(u) = &q.unit {
        validate_id("unit", u)?;
    }
    let (a, unit) = (agency.clone(), q.unit.clone());
    let tally = st
        .store
        .run(move |s| s.survey_tally(&region, &a, unit.as_deref(), period))
        .await?;
    let (ikm, index) = (tally.ikm(), tally.index());
    Ok(Json(IkmReport {
        agency,
        unit: q.unit,
        period: period.to_string(),
        respondents: tally.respondents,
        ikm,
        index,
        grade: index.map(|i| grade(i).to_string()),
        elements: tally.means().map(|m| m.to_vec()),
        codes_issued: tally.issued,
        codes_unused: tally.issued.saturating_sub(tally.respondents),
    }))
}

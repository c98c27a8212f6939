//! Daily activity reports (laporan harian) and their review, and the region's reporting rules.
//! An employee reports their own days, honestly: not after today, not before the region's
//! window. Their supervisor approves or rejects each pending report (in bulk too); only
//! approved reports count. The agency and the administrators may do both for agencies that
//! enter data centrally.

use super::error::{ApiError, ApiResult};
use super::extract::{Caller, JsonBody, JsonBytes, NipParam, PageQuery, RegionParam, P, Q};
use super::ratings::{relation_or, Relation};
use super::records::readable_employee;
use super::{AppState, Errors};
use crate::domain::date::Date;
use crate::domain::records::*;
use crate::domain::reporting::{ReportState, ReportingRules, ReportingRulesPut};
use crate::domain::FieldError;
use crate::store::{ActivityQuery, Page, Verdict};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::time::SystemTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(add_activities, list_activities))
        .routes(routes!(correct_activity, withdraw_activity))
        .routes(routes!(approve_activity))
        .routes(routes!(reject_activity))
        .routes(routes!(approve_many))
        .routes(routes!(get_rules, put_rules))
}

/// One report or a list of them (documents the body; the handler parses it by its first byte).
#[allow(dead_code)]
#[derive(Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum OneOrMany {
    Many(Vec<ActivityInput>),
    One(ActivityInput),
}

#[derive(Serialize, ToSchema)]
pub struct Added {
    pub items: Vec<Activity>,
}

/// The region's rules, read for a check (a few bytes; read on the caller's thread).
pub(super) fn rules_of(st: &AppState, region: &str) -> ApiResult<ReportingRules> {
    Ok(st.store.read_now(|s| s.reporting_rules(region))?)
}

/// Add daily activity reports (one object or a list), all or none. Each is `pending` until
/// the supervisor decides; none may be dated after today or before the region's window.
#[utoipa::path(post, path = "/api/v1/regions/{region}/employees/{nip}/activities", tag = "records",
    params(RegionParam, NipParam), request_body = OneOrMany,
    responses((status = 201, body = Added), Errors), security(("bearer" = [])))]
async fn add_activities(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s)): P<(String, String)>,
    JsonBytes(body): JsonBytes,
) -> ApiResult<(StatusCode, Json<Added>)> {
    let emp = readable_employee(&st, &c, &region, &nip_s).await?;
    // Untagged enums lose the field path; try the list first for a precise message.
    let items: Vec<ActivityInput> = match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => super::extract::parse_json(&body)?,
        Some(b'{') => vec![super::extract::parse_json(&body)?],
        _ => {
            return Err(
                FieldError::new("body", "must be one report object or a list of them").into(),
            )
        }
    };
    if items.is_empty() || items.len() > crate::limits::MAX_ACTIVITIES {
        return Err(FieldError::new(
            "body",
            format!("send 1–{} reports", crate::limits::MAX_ACTIVITIES),
        )
        .into());
    }
    let rules = rules_of(&st, &region)?;
    let now = SystemTime::now();
    for (i, a) in items.iter().enumerate() {
        a.validate(&format!("[{i}]"))?;
        rules.check_date(&format!("[{i}].date"), a.date, now)?;
    }
    let added = st
        .store
        .run(move |s| s.add_activities(&region, &emp.nip, items, ReportState::Pending))
        .await?;
    Ok((StatusCode::CREATED, Json(Added { items: added })))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityParams {
    /// First date, inclusive.
    #[param(value_type = Option<String>, format = Date)]
    pub from: Option<String>,
    /// Last date, inclusive.
    #[param(value_type = Option<String>, format = Date)]
    pub to: Option<String>,
    /// Only reports in this state.
    pub state: Option<ReportState>,
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    pub cursor: Option<String>,
}

/// List activity reports by date (`from`, `to` inclusive), optionally of one state. The
/// employee, their supervisor, their agency and the administrators read them.
#[utoipa::path(get, path = "/api/v1/regions/{region}/employees/{nip}/activities", tag = "records",
    params(RegionParam, NipParam, ActivityParams),
    responses((status = 200, body = Page<Activity>), Errors), security(("bearer" = [])))]
async fn list_activities(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s)): P<(String, String)>,
    Q(q): Q<ActivityParams>,
) -> ApiResult<Json<Page<Activity>>> {
    let (emp, rel) = relation_or(&st, &c, &region, &nip_s, READ_OUTSIDE).await?;
    if rel == Relation::Other {
        return Err(ApiError::Forbidden(READ_OUTSIDE.into()));
    }
    let date = |f: &str, v: &Option<String>| -> ApiResult<Option<Date>> {
        v.as_deref()
            .map(|s| {
                s.parse::<Date>()
                    .map_err(|e| ApiError::BadRequest(format!("{f}: {e}")))
            })
            .transpose()
    };
    let pq = PageQuery {
        limit: q.limit,
        cursor: q.cursor.clone(),
        agency: None,
    };
    let query = ActivityQuery {
        from: date("from", &q.from)?,
        to: date("to", &q.to)?,
        cursor: pq.cursor()?.map(str::to_string),
        limit: pq.limit()?,
        state: q.state,
    };
    Ok(Json(
        st.store
            .run(move |s| s.activities(&region, &emp.nip, &query))
            .await?,
    ))
}

const READ_OUTSIDE: &str =
    "an employee may read only their own reports and those of the employees they supervise";
const DECIDE_OUTSIDE: &str =
    "an employee may approve or reject only the reports of the employees they supervise";

/// The path of one report.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Path)]
pub struct ActivityPath {
    /// Region id.
    pub region: String,
    /// The employee's NIP.
    pub nip: String,
    /// The report's id.
    pub id: u64,
}

/// Correct a pending report (same id): its date, description and minutes, under the same rules
/// as a new one. 409 once it was approved or rejected.
#[utoipa::path(put, path = "/api/v1/regions/{region}/employees/{nip}/activities/{id}", tag = "records",
    params(ActivityPath), request_body = ActivityInput,
    responses((status = 200, body = Activity), Errors), security(("bearer" = [])))]
async fn correct_activity(
    State(st): State<AppState>,
    c: Caller,
    P(ActivityPath {
        region,
        nip: nip_s,
        id,
    }): P<ActivityPath>,
    JsonBody(input): JsonBody<ActivityInput>,
) -> ApiResult<Json<Activity>> {
    let emp = readable_employee(&st, &c, &region, &nip_s).await?;
    input.validate("")?;
    rules_of(&st, &region)?.check_date("date", input.date, SystemTime::now())?;
    let actor = c.token_id.clone();
    Ok(Json(
        st.store
            .run(move |s| s.correct_activity((&region, &emp.nip, id), &actor, input))
            .await?,
    ))
}

/// Withdraw a pending report. 409 once it was approved or rejected.
#[utoipa::path(delete, path = "/api/v1/regions/{region}/employees/{nip}/activities/{id}", tag = "records",
    params(ActivityPath),
    responses((status = 204), Errors), security(("bearer" = [])))]
async fn withdraw_activity(
    State(st): State<AppState>,
    c: Caller,
    P(ActivityPath {
        region,
        nip: nip_s,
        id,
    }): P<ActivityPath>,
) -> ApiResult<StatusCode> {
    let emp = readable_employee(&st, &c, &region, &nip_s).await?;
    let actor = c.token_id.clone();
    st.store
        .run(move |s| s.withdraw_activity((&region, &emp.nip, id), &actor))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Whether the caller may decide on `nip`'s reports: their supervisor, or centrally (agency,
/// administrators); never the employee.
async fn may_decide(st: &AppState, c: &Caller, region: &str, nip: &str) -> ApiResult<String> {
    match relation_or(st, c, region, nip, DECIDE_OUTSIDE).await? {
        (e, Relation::Supervisor | Relation::Central) => Ok(e.nip),
        (_, Relation::Own) => Err(ApiError::Forbidden(
            "an employee cannot approve or reject their own reports; their supervisor does".into(),
        )),
        (_, Relation::Other) => Err(ApiError::Forbidden(DECIDE_OUTSIDE.into())),
    }
}

/// Approve a pending report: it counts from now on. The supervisor, the agency or an
/// administrator; 409 when it was already decided.
#[utoipa::path(post, path = "/api/v1/regions/{region}/employees/{nip}/activities/{id}/approve", tag = "records",
    params(ActivityPath),
    responses((status = 200, body = Activity), Errors), security(("bearer" = [])))]
async fn approve_activity(
    State(st): State<AppState>,
    c: Caller,
    P(ActivityPath {
        region,
        nip: nip_s,
        id,
    }): P<ActivityPath>,
) -> ApiResult<Json<Activity>> {
    decide_one(&st, &c, (region, nip_s, id), Verdict::Approve).await
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RejectBody {
    /// Why (1–1000 characters), for the employee to correct their reporting.
    pub note: String,
}

/// Reject a pending report with a note: it never counts. As approve.
#[utoipa::path(post, path = "/api/v1/regions/{region}/employees/{nip}/activities/{id}/reject", tag = "records",
    params(ActivityPath), request_body = RejectBody,
    responses((status = 200, body = Activity), Errors), security(("bearer" = [])))]
async fn reject_activity(
    State(st): State<AppState>,
    c: Caller,
    P(ActivityPath {
        region,
        nip: nip_s,
        id,
    }): P<ActivityPath>,
    JsonBody(body): JsonBody<RejectBody>,
) -> ApiResult<Json<Activity>> {
    crate::domain::records::text_of("note", &body.note, 1000, true)?;
    let verdict = Verdict::Reject { note: body.note };
    decide_one(&st, &c, (region, nip_s, id), verdict).await
}

async fn decide_one(
    st: &AppState,
    c: &Caller,
    (region, nip_s, id): (String, String, u64),
    verdict: Verdict,
) -> ApiResult<Json<Activity>> {
    let nip = may_decide(st, c, &region, &nip_s).await?;
    let actor = c.token_id.clone();
    let mut out = st
        .store
        .run(move |s| s.decide_activities(&region, &[(nip, id)], &verdict, &actor))
        .await?;
    out.pop()
        .map(Json)
        .ok_or_else(|| ApiError::Internal("a decided report went missing".into()))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproveMany {
    /// 1–1000 report ids, of any employees the caller may decide for.
    pub ids: Vec<u64>,
}

#[derive(Serialize, ToSchema)]
pub struct Approved {
    pub items: Vec<Activity>,
}

/// Approve many pending reports at once (a supervisor's team, an agency's backlog), all or
/// none: an id the region has no report of is 404, one of an employee the caller may not decide
/// for 403, one already decided 409, each naming the id.
#[utoipa::path(post, path = "/api/v1/regions/{region}/activities/approve", tag = "records",
    params(RegionParam), request_body = ApproveMany,
    responses((status = 200, body = Approved), Errors), security(("bearer" = [])))]
async fn approve_many(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
    JsonBody(body): JsonBody<ApproveMany>,
) -> ApiResult<Json<Approved>> {
    c.scope.require_region(&region)?;
    if body.ids.is_empty() || body.ids.len() > 1000 {
        return Err(FieldError::new("ids", "send 1–1000 report ids").into());
    }
    let mut seen = std::collections::HashSet::new();
    for (i, id) in body.ids.iter().enumerate() {
        if !seen.insert(id) {
            return Err(
                FieldError::new(format!("ids[{i}]"), format!("{id} is named twice")).into(),
            );
        }
    }
    let (r, ids) = (region.clone(), body.ids.clone());
    let owners = st.store.run(move |s| s.activity_owners(&r, &ids)).await?;
    // Each employee's standing is checked once.
    let mut allowed = std::collections::HashMap::new();
    let mut reports = Vec::with_capacity(owners.len());
    for (nip, id) in owners.into_iter().zip(body.ids) {
        if !allowed.contains_key(&nip) {
            may_decide(&st, &c, &region, &nip)
                .await
                .map_err(|e| match e {
                    ApiError::Forbidden(m) => ApiError::Forbidden(format!("report {id}: {m}")),
                    e => e,
                })?;
            allowed.insert(nip.clone(), ());
        }
        reports.push((nip, id));
    }
    let actor = c.token_id.clone();
    let items = st
        .store
        .run(move |s| s.decide_activities(&region, &reports, &Verdict::Approve, &actor))
        .await?;
    Ok(Json(Approved { items }))
}

/// The region's reporting rules: its time zone, the reporting window, auto-approval and the
/// minutes a day needs. Anyone of the region reads them (an employee needs the window).
#[utoipa::path(get, path = "/api/v1/regions/{region}/reporting", tag = "records",
    params(RegionParam),
    responses((status = 200, body = ReportingRules), Errors), security(("bearer" = [])))]
async fn get_rules(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
) -> ApiResult<Json<ReportingRules>> {
    c.scope.require_region(&region)?;
    Ok(Json(rules_of(&st, &region)?))
}

/// Set the region's reporting rules (admin, region admin); fields left out keep their defaults.
/// Audited as `region.reporting`.
#[utoipa::path(put, path = "/api/v1/regions/{region}/reporting", tag = "records",
    params(RegionParam), request_body = ReportingRules,
    responses((status = 200, body = ReportingRules), Errors), security(("bearer" = [])))]
async fn put_rules(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
    JsonBody(put): JsonBody<ReportingRulesPut>,
) -> ApiResult<Json<ReportingRules>> {
    c.scope.require_region_admin(&region)?;
    let (rules, keep_zone) = put.rules();
    rules.validate()?;
    let actor = c.token_id.clone();
    Ok(Json(
        st.store
            .run(move |s| s.set_reporting_rules(&region, &actor, rules, keep_zone))
            .await?,
    ))
}

//! Stored decisions: an employee's appraisals, one decision, and its verified replay.

use super::error::{ApiError, ApiResult};
use super::extract::{Caller, NipParam, PageQuery, RegionParam, P, Q};
use super::plugins::ensure_loaded;
use super::service::hide_peer_raters;
use super::{AppState, Errors};
use crate::domain::auth::Role;
use crate::policy::replay::Verdict;
use crate::store::{AuditEvent, Decision, InputsRead, Page, StoreError};
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(employee_appraisals))
        .routes(routes!(decision))
        .routes(routes!(replay))
        .routes(routes!(trace))
        .routes(routes!(decision_in_region))
        .routes(routes!(replay_in_region))
        .routes(routes!(trace_in_region))
}

/// The employee's stored appraisal results, newest first, paged (logs only for admins).
#[utoipa::path(get, path = "/api/v1/regions/{region}/employees/{nip}/appraisals", tag = "evaluation",
    params(RegionParam, NipParam, PageQuery),
    responses((status = 200, body = Page<Decision>), Errors), security(("bearer" = [])))]
async fn employee_appraisals(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip)): P<(String, String)>,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<Page<Decision>>> {
    let (limit, cursor) = (q.limit()?, q.cursor()?.map(str::to_string));
    let nip = super::records::viewable_employee(&st, &c, &region, &nip)
        .await?
        .nip;
    let mut page = st
        .store
        .run(move |s| s.appraisals_page(&region, &nip, cursor.as_deref(), limit))
        .await?;
    for d in &mut page.items {
        redact_logs(&c, d);
    }
    Ok(Json(page))
}

/// A decision's `logs` are the stderr of the whole plugin call it came from, and a call
/// carries up to `batch_size` cases of several agencies and requests: a plugin that logs per
/// case writes other employees' NIPs and names there. They are operator data, so only admins
/// and the region's admins see them; for agency and employee tokens they are always emptied.
/// (Keeping them when a call held the caller's cases only would need every call's case list
/// at read time; the caller loses nothing it needs: its result is in `output`.)
fn redact_logs(c: &Caller, d: &mut Decision) {
    if !matches!(c.scope.role, Role::Admin | Role::RegionAdmin) {
        d.logs.clear();
    }
}

/// A decision the caller may read. Admins and region admins get 404 for an id no decision has;
/// an agency or employee token gets the same 403 for it as for a decision outside its scope:
/// ids are sequential, and telling "missing" from "not yours" would let it count and probe the
/// decisions of the whole server.
async fn readable_decision(st: &AppState, c: &Caller, id: String) -> ApiResult<Decision> {
    // `dec-{region}-{12 digits}`, the region at most 63 characters.
    const MAX_ID: usize = 80;
    if id.len() > MAX_ID || !id.starts_with("dec-") {
        return Err(ApiError::NotFound(format!(
            "decision `{}` not found",
            id.chars().take(MAX_ID).collect::<String>()
        )));
    }
    let not_yours = || ApiError::Forbidden("this decision is not within this token's scope".into());
    let admin = matches!(c.scope.role, Role::Admin | Role::RegionAdmin);
    let d = match st.store.run(move |s| s.decision(&id)).await {
        Ok(d) => d,
        Err(StoreError::NotFound(_)) if !admin => return Err(not_yours()),
        Err(e) => return Err(e.into()),
    };
    if admin {
        c.scope.require_region(&d.region)?;
        return Ok(d);
    }
    c.scope.require_region(&d.region).map_err(|_| not_yours())?;
    match &d.nip {
        // An employee reads their own decisions and those of the employees they supervise.
        Some(nip) if c.scope.role == Role::Employee => {
            super::records::viewable_employee(st, c, &d.region, nip)
                .await
                .map_err(|e| match e {
                    ApiError::Forbidden(_) => not_yours(),
                    e => e,
                })?;
        }
        Some(nip) => {
            let (r, n) = (d.region.clone(), nip.clone());
            let emp = match st.store.run(move |s| s.employee(&r, &n)).await {
                Ok(emp) => emp,
                Err(StoreError::NotFound(_)) => return Err(not_yours()),
                Err(e) => return Err(e.into()),
            };
            c.scope
                .require_employee_read(&d.region, &emp.agency, nip)
                .map_err(|_| not_yours())?;
        }
        None if d.by.as_deref() == Some(c.token_id.as_str()) => {}
        None => return Err(not_yours()),
    }
    Ok(d)
}

/// A stored decision: plugin, hook, input hash, output, fuel, duration, logs, time, who. The
/// logs (the whole call's plugin stderr) are empty for agency and employee tokens.
#[utoipa::path(get, path = "/api/v1/decisions/{id}", tag = "evaluation", params(("id" = String, Path)),
    responses((status = 200, body = Decision), Errors), security(("bearer" = [])))]
async fn decision(
    State(st): State<AppState>,
    c: Caller,
    P(id): P<String>,
) -> ApiResult<Json<Decision>> {
    let mut d = readable_decision(&st, &c, id).await?;
    redact_logs(&c, &mut d);
    Ok(Json(d))
}

/// [`readable_decision`] under a region's prefix: the token must be of the region, and a
/// decision of another region is not found there (admins and region admins: 404, as for one
/// that does not exist; agency and employee tokens: the same 403 as for one that does not).
async fn decision_of_region(
    st: &AppState,
    c: &Caller,
    region: &str,
    id: String,
) -> ApiResult<Decision> {
    c.scope.require_region(region)?;
    let shown: String = id.chars().take(40).collect();
    let elsewhere =
        || ApiError::NotFound(format!("decision `{shown}` not found in region `{region}`"));
    match readable_decision(st, c, id).await {
        Ok(d) if d.region == region => Ok(d),
        Ok(_) => Err(elsewhere()),
        // A region admin's token is refused another region's decision: under its own region's
        // prefix, that is one not found there, as a missing one is. (An agency or employee
        // token gets the same 403 for both.)
        Err(ApiError::Forbidden(_)) if c.scope.role == Role::RegionAdmin => Err(elsewhere()),
        Err(e) => Err(e),
    }
}

/// A stored decision of the region, as `/api/v1/decisions/{id}` shows it.
#[utoipa::path(get, path = "/api/v1/regions/{region}/decisions/{id}", tag = "evaluation",
    params(RegionParam, ("id" = String, Path)),
    responses((status = 200, body = Decision), Errors), security(("bearer" = [])))]
async fn decision_in_region(
    State(st): State<AppState>,
    c: Caller,
    P((region, id)): P<(String, String)>,
) -> ApiResult<Json<Decision>> {
    let mut d = decision_of_region(&st, &c, &region, id).await?;
    redact_logs(&c, &mut d);
    Ok(Json(d))
}

/// The verified replay of a decision of the region, as `/api/v1/decisions/{id}/replay`.
#[utoipa::path(post, path = "/api/v1/regions/{region}/decisions/{id}/replay", tag = "evaluation",
    params(RegionParam, ("id" = String, Path)),
    responses((status = 200, body = Verdict), Errors), security(("bearer" = [])))]
async fn replay_in_region(
    State(st): State<AppState>,
    c: Caller,
    P((region, id)): P<(String, String)>,
) -> ApiResult<Json<Verdict>> {
    no_replay_for_employees(&c)?;
    let d = decision_of_region(&st, &c, &region, id).await?;
    replay_of(&st, d).await
}

/// The input trace of a decision of the region, as `/api/v1/decisions/{id}/trace`.
#[utoipa::path(get, path = "/api/v1/regions/{region}/decisions/{id}/trace", tag = "evaluation",
    params(RegionParam, ("id" = String, Path), PageQuery),
    responses((status = 200, body = DecisionTrace), Errors), security(("bearer" = [])))]
async fn trace_in_region(
    State(st): State<AppState>,
    c: Caller,
    P((region, id)): P<(String, String)>,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<DecisionTrace>> {
    let d = decision_of_region(&st, &c, &region, id).await?;
    trace_of(&st, &c, d, q).await
}

/// Re-run the same module on the same input bytes and say whether the output is identical.
#[utoipa::path(post, path = "/api/v1/decisions/{id}/replay", tag = "evaluation", params(("id" = String, Path)),
    responses((status = 200, body = Verdict), Errors), security(("bearer" = [])))]
async fn replay(
    State(st): State<AppState>,
    c: Caller,
    P(id): P<String>,
) -> ApiResult<Json<Verdict>> {
    no_replay_for_employees(&c)?;
    let d = readable_decision(&st, &c, id).await?;
    replay_of(&st, d).await
}

/// Re-running a module costs the region's capacity; an employee reads its results only.
fn no_replay_for_employees(c: &Caller) -> ApiResult<()> {
    if c.scope.role == Role::Employee {
        return Err(ApiError::Forbidden(
            "an employee token may read decisions but not replay them".into(),
        ));
    }
    Ok(())
}

async fn replay_of(st: &AppState, d: Decision) -> ApiResult<Json<Verdict>> {
    ensure_loaded(st, &d.plugin).await?;
    Ok(Json(st.policy.replay(d).await?))
}

/// The writes an appraisal decision was built from.
#[derive(Serialize, ToSchema)]
pub struct DecisionTrace {
    pub decision_id: String,
    pub nip: String,
    pub period: String,
    /// Where its records were read.
    pub inputs_read: InputsRead,
    /// The audited writes that fed the case, committed when the records were read, oldest
    /// first, paged: the employee's record, the period's (and its year's) record, ratings and
    /// peer assignment, the year's SKP, and the reviews of the employee's reports. Replaying
    /// their `after`s gives the records the decision's input was built from.
    pub writes: Page<AuditEvent>,
}

/// The writes a stored appraisal's input was built from (who wrote which record or rating,
/// when, before and after), up to the snapshot its records were read in. Readable by whoever
/// may read the decision; an employee sees the peers' ratings only as having happened.
#[utoipa::path(get, path = "/api/v1/decisions/{id}/trace", tag = "evaluation",
    params(("id" = String, Path), PageQuery),
    responses((status = 200, body = DecisionTrace), Errors), security(("bearer" = [])))]
async fn trace(
    State(st): State<AppState>,
    c: Caller,
    P(id): P<String>,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<DecisionTrace>> {
    let d = readable_decision(&st, &c, id).await?;
    trace_of(&st, &c, d, q).await
}

async fn trace_of(
    st: &AppState,
    c: &Caller,
    d: Decision,
    q: PageQuery,
) -> ApiResult<Json<DecisionTrace>> {
    let (limit, cursor) = (q.limit()?, q.cursor()?.map(str::to_string));
    let (Some(read), Some(nip), Some(period)) = (d.inputs_read, d.nip, d.period) else {
        return Err(ApiError::NotFound(format!(
            "decision `{}` keeps no input trace (a rotation, or an appraisal stored before traces were kept)",
            d.id
        )));
    };
    let (region, n, p) = (d.region, nip.clone(), period.clone());
    let mut writes = st
        .store
        .run(move |s| s.decision_trace((&region, &n, &p), read, cursor.as_deref(), limit))
        .await?;
    if c.scope.role == Role::Employee {
        hide_peer_raters(&mut writes.items);
    }
    Ok(Json(DecisionTrace {
        decision_id: d.id,
        nip,
        period,
        inputs_read: read,
        writes,
    }))
}

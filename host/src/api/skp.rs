//! The SKP year: an employee plans their SKP (or their agency does, centrally) and submits it;
//! their supervisor sets the expectations and approves or returns it; the employee writes the
//! realizations month by month while it is approved; only the supervisor reopens it. Each
//! route is decided by the caller's relationship to the employee, as the ratings are.

use super::error::{ApiError, ApiResult};
use super::extract::{Caller, JsonBody, NipParam, RegionParam, P, Q};
use super::ratings::{relation_or, Relation};
use super::{AppState, Errors};
use crate::domain::date::Date;
use crate::domain::now_rfc3339;
use crate::domain::records::text_of;
use crate::domain::skp::{
    check_evidence_meta, check_link, evidence_type, month_start, Evidence, EvidenceRef, Skp,
    SkpAction, SkpPlan, EVIDENCE_TYPES, MAX_EVIDENCE_BYTES,
};
use crate::domain::FieldError;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header::{
    CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_SECURITY_POLICY, CONTENT_TYPE,
    X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::SystemTime;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(put_plan, get_skp))
        .routes(routes!(submit))
        .routes(routes!(approve))
        .routes(routes!(return_skp))
        .routes(routes!(reopen))
        .routes(routes!(put_expectations))
        .routes(routes!(put_realizations))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(add_evidence, remove_evidence))
                // A file up to its limit, whatever the JSON body limit is.
                .layer(DefaultBodyLimit::max(MAX_EVIDENCE_BYTES + 1)),
        )
        .routes(routes!(evidence_file))
}

/// The year of an SKP path.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct YearParam {
    /// 2000–2100.
    #[param(example = 2026)]
    pub year: i32,
}

/// The month of a realization path.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct MonthParam {
    /// `01`–`12`.
    #[param(pattern = "^(0[1-9]|1[0-2])$", example = "03")]
    pub month: String,
}

fn year_of(s: &str) -> ApiResult<i32> {
    s.parse::<i32>()
        .ok()
        .filter(|y| (2000..=2100).contains(y))
        .ok_or_else(|| ApiError::BadRequest(format!("year: `{s}` must be 2000–2100")))
}

/// Who may do what to an SKP, by relationship.
#[derive(Clone, Copy)]
enum May {
    /// Read it: the employee, their supervisor, their agency and the administrators.
    Read,
    /// Plan and submit it, write realizations: the employee, or their agency centrally.
    Write,
    /// Approve, return, set expectations: the supervisor, or the agency centrally.
    Review,
    /// Reopen an approved or locked SKP: the supervisor alone (centrally only for an employee
    /// with no supervisor).
    Reopen,
}

const OUTSIDE: &str = "an employee may act only on their own SKP and those of the employees they \
                       supervise";

/// The employee's NIP, once the caller may do `what` to their SKP.
async fn allowed(
    st: &AppState,
    c: &Caller,
    region: &str,
    nip: &str,
    what: May,
) -> ApiResult<String> {
    let (employee, rel) = relation_or(st, c, region, nip, OUTSIDE).await?;
    let ok = match (what, rel) {
        (_, Relation::Other) => false,
        (May::Read, _) => true,
        (May::Write, r) => matches!(r, Relation::Own | Relation::Central),
        (May::Review, r) => matches!(r, Relation::Supervisor | Relation::Central),
        (May::Reopen, Relation::Supervisor) => true,
        // Nobody above (the head of an agency, a vacant parent position): centrally, then.
        (May::Reopen, Relation::Central) => {
            let e = employee.clone();
            st.store.run(move |s| s.supervisor(&e)).await?.is_none()
        }
        (May::Reopen, _) => false,
    };
    if ok {
        return Ok(employee.nip);
    }
    Err(ApiError::Forbidden(match (what, rel) {
        (_, Relation::Other) => OUTSIDE.into(),
        (May::Write, _) => "only the employee (or their agency) plans the SKP, submits it and writes its realizations".into(),
        (May::Review, _) => "only the employee's supervisor (or their agency) approves or returns the SKP and sets its expectations".into(),
        _ => "only the employee's supervisor reopens an approved or locked SKP (centrally only \
              when the employee has no supervisor)"
            .into(),
    }))
}

/// Write the plan of the SKP: its rencana hasil kerja and their indicators. Creates the SKP as
/// a draft; 409 once it was submitted (until it is returned). Audited as `skp.plan`.
#[utoipa::path(put, path = "/api/v1/regions/{region}/employees/{nip}/skp/{year}", tag = "skp",
    params(RegionParam, NipParam, YearParam), request_body = SkpPlan,
    responses((status = 200, body = Skp), Errors), security(("bearer" = [])))]
async fn put_plan(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip, year)): P<(String, String, String)>,
    JsonBody(plan): JsonBody<SkpPlan>,
) -> ApiResult<Json<Skp>> {
    let year = year_of(&year)?;
    let nip = allowed(&st, &c, &region, &nip, May::Write).await?;
    plan.validate()?;
    let actor = c.token_id.clone();
    Ok(Json(
        st.store
            .run(move |s| s.put_skp_plan((&region, &nip, year), &actor, plan))
            .await?,
    ))
}

/// The SKP with its state (`draft`, `submitted`, `approved`, `returned`, `locked`), the
/// supervisor's expectations, the realizations by month and the history of its states.
#[utoipa::path(get, path = "/api/v1/regions/{region}/employees/{nip}/skp/{year}", tag = "skp",
    params(RegionParam, NipParam, YearParam),
    responses((status = 200, body = Skp), Errors), security(("bearer" = [])))]
async fn get_skp(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip, year)): P<(String, String, String)>,
) -> ApiResult<Json<Skp>> {
    let year = year_of(&year)?;
    let nip = allowed(&st, &c, &region, &nip, May::Read).await?;
    Ok(Json(
        st.store.run(move |s| s.skp(&region, &nip, year)).await?,
    ))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// What to change, 1–2000 characters.
    pub note: String,
}

async fn transition(
    st: &AppState,
    c: &Caller,
    (region, nip, year): (String, String, String),
    action: SkpAction,
    note: Option<String>,
) -> ApiResult<Json<Skp>> {
    let year = year_of(&year)?;
    let who = match action {
        SkpAction::Submit => May::Write,
        SkpAction::Approve | SkpAction::Return => May::Review,
        SkpAction::Reopen => May::Reopen,
    };
    let nip = allowed(st, c, &region, &nip, who).await?;
    let actor = c.token_id.clone();
    Ok(Json(
        st.store
            .run(move |s| s.skp_transition((&region, &nip, year), &actor, action, note))
            .await?,
    ))
}

/// Submit a draft or returned SKP to the supervisor. Audited as `skp.submit`.
#[utoipa::path(post, path = "/api/v1/regions/{region}/employees/{nip}/skp/{year}/submit", tag = "skp",
    params(RegionParam, NipParam, YearParam),
    responses((status = 200, body = Skp), Errors), security(("bearer" = [])))]
async fn submit(
    State(st): State<AppState>,
    c: Caller,
    P(p): P<(String, String, String)>,
) -> ApiResult<Json<Skp>> {
    transition(&st, &c, p, SkpAction::Submit, None).await
}

/// Approve a submitted SKP: appraisals run on it, and the employee writes its realizations.
#[utoipa::path(post, path = "/api/v1/regions/{region}/employees/{nip}/skp/{year}/approve", tag = "skp",
    params(RegionParam, NipParam, YearParam),
    responses((status = 200, body = Skp), Errors), security(("bearer" = [])))]
async fn approve(
    State(st): State<AppState>,
    c: Caller,
    P(p): P<(String, String, String)>,
) -> ApiResult<Json<Skp>> {
    transition(&st, &c, p, SkpAction::Approve, None).await
}

/// Return a submitted SKP to the employee with a note of what to change.
#[utoipa::path(post, path = "/api/v1/regions/{region}/employees/{nip}/skp/{year}/return", tag = "skp",
    params(RegionParam, NipParam, YearParam), request_body = NoteBody,
    responses((status = 200, body = Skp), Errors), security(("bearer" = [])))]
async fn return_skp(
    State(st): State<AppState>,
    c: Caller,
    P(p): P<(String, String, String)>,
    JsonBody(body): JsonBody<NoteBody>,
) -> ApiResult<Json<Skp>> {
    text_of("note", &body.note, 2000, true)?;
    transition(&st, &c, p, SkpAction::Return, Some(body.note)).await
}

/// Reopen an approved or locked SKP as a draft (the supervisor alone, or centrally for an
/// employee with no supervisor; audited).
#[utoipa::path(post, path = "/api/v1/regions/{region}/employees/{nip}/skp/{year}/reopen", tag = "skp",
    params(RegionParam, NipParam, YearParam),
    responses((status = 200, body = Skp), Errors), security(("bearer" = [])))]
async fn reopen(
    State(st): State<AppState>,
    c: Caller,
    P(p): P<(String, String, String)>,
) -> ApiResult<Json<Skp>> {
    transition(&st, &c, p, SkpAction::Reopen, None).await
}

/// Set the supervisor's expectations (ekspektasi pimpinan) of some RHK, by RHK id, before
/// the SKP is approved. Audited as `skp.expectations`.
#[utoipa::path(put, path = "/api/v1/regions/{region}/employees/{nip}/skp/{year}/expectations", tag = "skp",
    params(RegionParam, NipParam, YearParam), request_body = BTreeMap<String, String>,
    responses((status = 200, body = Skp), Errors), security(("bearer" = [])))]
async fn put_expectations(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip, year)): P<(String, String, String)>,
    JsonBody(body): JsonBody<BTreeMap<String, String>>,
) -> ApiResult<Json<Skp>> {
    let year = year_of(&year)?;
    let nip = allowed(&st, &c, &region, &nip, May::Review).await?;
    if body.is_empty() || body.len() > 50 {
        return Err(FieldError::new("body", "set the expectations of 1–50 RHK").into());
    }
    for (id, text) in &body {
        text_of(id, text, 2000, true)?;
    }
    let actor = c.token_id.clone();
    Ok(Json(
        st.store
            .run(move |s| s.set_skp_expectations((&region, &nip, year), &actor, body))
            .await?,
    ))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MonthRealizations {
    /// The month's realization of some indicators, by indicator id; others keep theirs.
    pub indicators: BTreeMap<String, f64>,
}

/// Write a month's realizations of an approved SKP while the month is open (begun, and its
/// reporting window not closed: until the region's close day of the next month by default).
/// Audited as `skp.realization` with the month's values before and after.
#[utoipa::path(put, path = "/api/v1/regions/{region}/employees/{nip}/skp/{year}/realizations/{month}", tag = "skp",
    params(RegionParam, NipParam, YearParam, MonthParam), request_body = MonthRealizations,
    responses((status = 200, body = Skp), Errors), security(("bearer" = [])))]
async fn put_realizations(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip, year, month)): P<(String, String, String, String)>,
    JsonBody(body): JsonBody<MonthRealizations>,
) -> ApiResult<Json<Skp>> {
    let year = year_of(&year)?;
    let nip = allowed(&st, &c, &region, &nip, May::Write).await?;
    let start = month_open(&st, &region, year, &month)?;
    let actor = c.token_id.clone();
    Ok(Json(
        st.store
            .run(move |s| {
                s.put_skp_realizations((&region, &nip, year), &actor, start.month, body.indicators)
            })
            .await?,
    ))
}

/// The first day of `year`-`month` when the month is open for its realizations and evidence:
/// begun, and its reporting window not closed (400 naming the month otherwise).
fn month_open(st: &AppState, region: &str, year: i32, month: &str) -> ApiResult<Date> {
    let start = month_start(year, month)?;
    super::reports::rules_of(st, region)?
        .check_date("month", start, SystemTime::now())
        .map_err(|e| {
            FieldError::new(
                "month",
                format!("{year}-{month} is not open: {}", e.message),
            )
        })?;
    Ok(start)
}

/// Where a piece of evidence goes and what it is called.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidenceQuery {
    /// The month (`01`–`12`) it backs; none: the year.
    pub month: Option<String>,
    /// A name for a file, 1–200 characters.
    pub name: Option<String>,
}

/// A link given as evidence.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvidenceLink {
    /// `https://…` or `http://…`, at most 2000 characters.
    pub link: String,
    pub name: Option<String>,
    /// `01`–`12`; none: the year.
    pub month: Option<String>,
}

/// Add a piece of evidence (bukti dukung) to an indicator of an approved SKP: a link (a JSON
/// body `{"link", "name"?, "month"?}`), or a file — a PDF, PNG or JPEG of at most 2 MiB sent as
/// the body with its `Content-Type` (`?month=&name=` in the query), its type checked by its
/// content. Files are kept by their SHA-256. Audited as `skp.evidence`.
#[utoipa::path(post, path = "/api/v1/regions/{region}/employees/{nip}/skp/{year}/indicators/{iki}/evidence", tag = "skp",
    params(RegionParam, NipParam, YearParam, ("iki" = String, Path), EvidenceQuery),
    request_body(content(
        (EvidenceLink = "application/json"),
        (String = "application/pdf"), (String = "image/png"), (String = "image/jpeg"))),
    responses((status = 201, body = Skp), Errors), security(("bearer" = [])))]
async fn add_evidence(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip, year, iki)): P<(String, String, String, String)>,
    Q(q): Q<EvidenceQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Skp>)> {
    let year = year_of(&year)?;
    // Who may is settled before a byte of the body is read.
    let nip = allowed(&st, &c, &region, &nip, May::Write).await?;
    let body = axum::body::to_bytes(body, MAX_EVIDENCE_BYTES + 1)
        .await
        .map_err(|_| {
            ApiError::TooLarge(format!(
                "an evidence file is at most {MAX_EVIDENCE_BYTES} bytes"
            ))
        })?;
    let declared = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_default();
    let (added_by, added_at) = (c.token_id.clone(), now_rfc3339());
    let (evidence, file) = if declared == "application/json" {
        let link: EvidenceLink = super::extract::parse_json(&body)?;
        check_link(&link.link)?;
        check_evidence_meta(link.name.as_deref(), link.month.as_deref())?;
        let e = Evidence {
            url: Some(link.link),
            sha256: None,
            content_type: None,
            size: None,
            name: link.name,
            month: link.month,
            added_by,
            added_at,
        };
        (e, None)
    } else if EVIDENCE_TYPES.contains(&declared.as_str()) {
        if body.len() > MAX_EVIDENCE_BYTES {
            return Err(ApiError::TooLarge(format!(
                "an evidence file is at most {MAX_EVIDENCE_BYTES} bytes; this one is {}",
                body.len()
            )));
        }
        let found = evidence_type(&body);
        if found != Some(declared.as_str()) {
            return Err(ApiError::BadRequest(format!(
                "body: declared {declared}, but its content is {}",
                found.map_or("not a PDF, PNG or JPEG file".to_string(), |t| t.to_string())
            )));
        }
        check_evidence_meta(q.name.as_deref(), q.month.as_deref())?;
        let sha = crate::store::blob::sha256_hex(&body);
        let e = Evidence {
            url: None,
            sha256: Some(sha),
            content_type: Some(declared),
            size: Some(body.len() as u64),
            name: q.name,
            month: q.month,
            added_by,
            added_at,
        };
        (e, Some(body.to_vec()))
    } else {
        return Err(ApiError::UnsupportedMediaType(format!(
            "evidence is a link (application/json) or a file of type {}; got `{declared}`",
            EVIDENCE_TYPES.join(", ")
        )));
    };
    // Evidence of a month, like its realizations, only while the month is open.
    if let Some(m) = &evidence.month {
        month_open(&st, &region, year, m)?;
    }
    let actor = c.token_id.clone();
    let skp = st
        .store
        .run(move |s| s.add_skp_evidence((&region, &nip, year), &actor, &iki, evidence, file))
        .await?;
    Ok((StatusCode::CREATED, Json(skp)))
}

/// Which piece of evidence to remove: exactly one of the two.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidenceWhich {
    /// A file, by its SHA-256 (64 lowercase hexadecimal digits).
    pub sha256: Option<String>,
    /// A link, by its address as it was given.
    pub link: Option<String>,
}

/// Remove a piece of evidence from an indicator of an approved SKP (the first the query
/// names), as the employee (or their agency) may add it, while its month is open. Its room in
/// the SKP's 64 MiB of files is freed. Audited as `skp.evidence.remove`.
#[utoipa::path(delete, path = "/api/v1/regions/{region}/employees/{nip}/skp/{year}/indicators/{iki}/evidence", tag = "skp",
    params(RegionParam, NipParam, YearParam, ("iki" = String, Path), EvidenceWhich),
    responses((status = 200, body = Skp), Errors), security(("bearer" = [])))]
async fn remove_evidence(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip, year, iki)): P<(String, String, String, String)>,
    Q(q): Q<EvidenceWhich>,
) -> ApiResult<Json<Skp>> {
    let year = year_of(&year)?;
    let nip = allowed(&st, &c, &region, &nip, May::Write).await?;
    let which = match (q.sha256, q.link) {
        (Some(sha), None) if crate::domain::is_sha256_hex(&sha) => EvidenceRef::File(sha),
        (Some(_), None) => {
            return Err(ApiError::BadRequest(
                "sha256: must be 64 lowercase hexadecimal digits".into(),
            ))
        }
        (None, Some(link)) => EvidenceRef::Link(link),
        _ => {
            return Err(ApiError::BadRequest(
                "give exactly one of `sha256` (a file) or `link`".into(),
            ))
        }
    };
    // Evidence of a month goes, as it came, only while the month is open.
    let skp = {
        let (r, n) = (region.clone(), nip.clone());
        st.store.run(move |s| s.skp(&r, &n, year)).await?
    };
    let month = skp
        .evidence
        .get(&iki)
        .and_then(|list| list.iter().find(|e| which.matches(e)))
        .and_then(|e| e.month.clone());
    if let Some(m) = month {
        month_open(&st, &region, year, &m)?;
    }
    let actor = c.token_id.clone();
    Ok(Json(
        st.store
            .run(move |s| s.remove_skp_evidence((&region, &nip, year), &actor, &iki, &which))
            .await?,
    ))
}

/// An evidence file of the SKP, as it was given, to whoever may read the SKP (the employee,
/// their supervisor, their agency, the administrators).
#[utoipa::path(get, path = "/api/v1/regions/{region}/employees/{nip}/skp/{year}/evidence/{sha256}", tag = "skp",
    params(RegionParam, NipParam, YearParam, ("sha256" = String, Path)),
    responses((status = 200, content(
        (String = "application/pdf"), (String = "image/png"), (String = "image/jpeg"))), Errors),
    security(("bearer" = [])))]
async fn evidence_file(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip, year, sha)): P<(String, String, String, String)>,
) -> ApiResult<Response> {
    let year = year_of(&year)?;
    let nip = allowed(&st, &c, &region, &nip, May::Read).await?;
    if !crate::domain::is_sha256_hex(&sha) {
        return Err(ApiError::BadRequest(
            "sha256: must be 64 lowercase hexadecimal digits".into(),
        ));
    }
    let (content_type, bytes) = st
        .store
        .run({
            let sha = sha.clone();
            move |s| s.skp_evidence_file((&region, &nip, year), &sha)
        })
        .await?;
    // A file people uploaded: downloaded, never run as a page, never cached on the way.
    let ext = content_type.rsplit('/').next().unwrap_or("bin").to_string();
    Ok((
        [
            (CONTENT_TYPE, content_type),
            (X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"bukti-{}.{ext}\"", &sha[..12]),
            ),
            (
                CONTENT_SECURITY_POLICY,
                "sandbox; default-src 'none'".to_string(),
            ),
            (CACHE_CONTROL, "private, no-store".to_string()),
        ],
        bytes,
    )
        .into_response())
}

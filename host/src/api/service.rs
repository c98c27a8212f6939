//! Liveness, readiness, the audit trail and one employee's history.

use super::error::{ApiError, ApiResult};
use super::extract::{Caller, NipParam, PageQuery, RegionParam, P, Q};
use super::records::viewable_employee;
use super::{AppState, Errors};
use crate::domain::auth::Role;
use crate::store::{AuditEvent, Page};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use std::sync::atomic::Ordering;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
        .routes(routes!(audit))
        .routes(routes!(region_audit))
        .routes(routes!(history))
        .routes(routes!(metrics_text))
}

#[derive(Serialize, ToSchema)]
pub struct Status {
    pub status: String,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/health", tag = "service", responses((status = 200, body = Status)))]
async fn health() -> Json<Status> {
    Json(Status {
        status: "ok".into(),
    })
}

/// Readiness: the database is open and the stored plugins are loaded.
#[utoipa::path(get, path = "/ready", tag = "service",
    responses((status = 200, body = Status), (status = 503, body = Status)))]
async fn ready(State(st): State<AppState>) -> (StatusCode, Json<Status>) {
    if !st.ready.load(Ordering::Acquire) {
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(Status {
                status: "starting".into(),
            }),
        );
    }
    match st.store.run(|s| s.region_ids()).await {
        Ok(_) => (
            StatusCode::OK,
            Json(Status {
                status: "ready".into(),
            }),
        ),
        Err(e) => {
            tracing::error!(error = %e, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Status {
                    status: "database unavailable".into(),
                }),
            )
        }
    }
}

/// Who uploaded, activated, issued or revoked what, and when (admin; a region admin sees its region).
#[utoipa::path(get, path = "/api/v1/audit", tag = "service", params(PageQuery),
    responses((status = 200, body = Page<AuditEvent>), Errors), security(("bearer" = [])))]
async fn audit(
    State(st): State<AppState>,
    c: Caller,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<Page<AuditEvent>>> {
    let region = match c.scope.role {
        Role::Admin => None,
        Role::RegionAdmin => c.scope.region.clone(),
        _ => {
            return Err(ApiError::Forbidden(
                "the audit trail is for admins and region admins".into(),
            ))
        }
    };
    let (limit, cursor) = (q.limit()?, q.cursor()?.map(str::to_string));
    Ok(Json(
        st.store
            .run(move |s| s.audit(region.as_deref(), cursor.as_deref(), limit))
            .await?,
    ))
}

/// The audit trail of one region (admin, or the region's admin): the same events as
/// `/api/v1/audit` shows a region admin, under the region's prefix.
#[utoipa::path(get, path = "/api/v1/regions/{region}/audit", tag = "service",
    params(RegionParam, PageQuery),
    responses((status = 200, body = Page<AuditEvent>), Errors), security(("bearer" = [])))]
async fn region_audit(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<Page<AuditEvent>>> {
    c.scope.require_region_admin(&region)?;
    st.store.read_now(|s| s.require_region(&region))?;
    let (limit, cursor) = (q.limit()?, q.cursor()?.map(str::to_string));
    Ok(Json(
        st.store
            .run(move |s| s.audit(Some(&region), cursor.as_deref(), limit))
            .await?,
    ))
}

/// The history of one employee's records: every write of their record, period records,
/// ratings, feedback notes, password and sessions, with who, when, and what changed (before
/// and after), oldest first. The employee reads their own, with the peers' ratings and their
/// assignment shown only as having happened (never by whom, nor what); their agency and the
/// administrators read it all. Paged.
#[utoipa::path(get, path = "/api/v1/regions/{region}/employees/{nip}/history", tag = "records",
    params(RegionParam, NipParam, PageQuery),
    responses((status = 200, body = Page<AuditEvent>), Errors), security(("bearer" = [])))]
async fn history(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s)): P<(String, String)>,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<Page<AuditEvent>>> {
    let employee = viewable_employee(&st, &c, &region, &nip_s).await?;
    let by_employee = c.scope.role == Role::Employee;
    // A supervisor reads what the work is about, not how the employee signs in.
    let supervisor = by_employee && c.scope.nip.as_deref() != Some(employee.nip.as_str());
    let (limit, cursor) = (q.limit()?, q.cursor()?.map(str::to_string));
    let mut page = st
        .store
        .run(move |s| {
            s.employee_history(&region, &employee.nip, cursor.as_deref(), limit, |e| {
                !(supervisor && is_personal(&e.action))
            })
        })
        .await?;
    if by_employee {
        hide_peer_raters(&mut page.items);
    }
    Ok(Json(page))
}

/// Whether an employee's event is about how they sign in (their password and sessions), which
/// only they, their agency and the administrators read.
fn is_personal(action: &str) -> bool {
    action.starts_with("session.") || action.starts_with("employee.password.")
}

/// The peers' ratings and their assignment as the rated employee sees them: as having
/// happened, never by whom nor what.
pub(super) fn hide_peer_raters(events: &mut [AuditEvent]) {
    for e in events
        .iter_mut()
        .filter(|e| e.action.starts_with("ratings.peers"))
    {
        e.actor = None;
        e.detail = serde_json::Value::Null;
    }
}

/// Prometheus metrics in the text format: requests, latencies, plugin calls, fuel, limit hits,
/// calls in flight, the modules loaded (and their resident bytes, those unloaded for idleness,
/// those paused) and the database size.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, content_type = "text/plain", body = String)))]
async fn metrics_text(State(st): State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    metrics::gauge!(crate::telemetry::DB_SIZE).set(st.store.file_size() as f64);
    let rt = st.runtime();
    metrics::gauge!(crate::telemetry::PLUGIN_IN_FLIGHT).set(rt.in_flight() as f64);
    let modules = rt.module_stats();
    metrics::gauge!(crate::telemetry::PLUGIN_MODULES, "state" => "loaded")
        .set(modules.loaded as f64);
    metrics::gauge!(crate::telemetry::PLUGIN_MODULES, "state" => "unloaded")
        .set(modules.unloaded as f64);
    metrics::gauge!(crate::telemetry::PLUGIN_MODULES, "state" => "paused")
        .set(modules.paused as f64);
    metrics::gauge!(crate::telemetry::PLUGIN_MODULE_BYTES).set(modules.resident_bytes as f64);
    let body = crate::telemetry::handle()
        .map(|h| h.render())
        .unwrap_or_default();
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4",
        )],
        body,
    )
        .into_response()
}

//! Feedback notes (umpan balik berkelanjutan, dialog kinerja): the supervisor writes them to
//! the employee; the employee and the supervisor read them, and beyond them only the region's
//! administrators: a dialogue is between two people, so the agency's integration token, which
//! may write every rating centrally, neither reads nor writes notes.

use super::error::{ApiError, ApiResult};
use super::extract::{Caller, JsonBody, NipParam, PageQuery, RegionParam, P, Q};
use super::ratings::{relation, Relation};
use super::{AppState, Errors};
use crate::domain::auth::Role;
use crate::domain::date::today;
use crate::domain::feedback::{Note, NoteInput};
use crate::store::Page;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(add, list))
}

/// Whether the relation may write (supervisor, administrators) or read (also the employee).
fn allowed(c: &Caller, rel: Relation, write: bool) -> ApiResult<()> {
    let admin = matches!(c.scope.role, Role::Admin | Role::RegionAdmin);
    let ok = match rel {
        Relation::Central => admin,
        Relation::Supervisor => true,
        Relation::Own => !write,
        Relation::Other => false,
    };
    if ok {
        Ok(())
    } else if write {
        Err(ApiError::Forbidden(
            "only the employee's supervisor (or an administrator) writes feedback notes".into(),
        ))
    } else {
        Err(ApiError::Forbidden(
            "feedback notes are read by the employee, their supervisor and administrators".into(),
        ))
    }
}

/// Write a feedback note to an employee, optionally recording a performance dialogue as held.
#[utoipa::path(post, path = "/api/v1/regions/{region}/employees/{nip}/feedback", tag = "ratings",
    params(RegionParam, NipParam), request_body = NoteInput,
    responses((status = 201, body = Note), Errors), security(("bearer" = [])))]
async fn add(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s)): P<(String, String)>,
    JsonBody(input): JsonBody<NoteInput>,
) -> ApiResult<(StatusCode, Json<Note>)> {
    let (employee, rel) = relation(&st, &c, &region, &nip_s).await?;
    allowed(&c, rel, true)?;
    input.validate(today())?;
    let (actor, author) = (c.token_id.clone(), c.scope.nip.clone());
    let note = st
        .store
        .run(move |s| s.add_feedback(&employee.region, &employee.nip, input, &actor, author))
        .await?;
    Ok((StatusCode::CREATED, Json(note)))
}

/// An employee's feedback notes, oldest first. Paged.
#[utoipa::path(get, path = "/api/v1/regions/{region}/employees/{nip}/feedback", tag = "ratings",
    params(RegionParam, NipParam, PageQuery),
    responses((status = 200, body = Page<Note>), Errors), security(("bearer" = [])))]
async fn list(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s)): P<(String, String)>,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<Page<Note>>> {
    let (employee, rel) = relation(&st, &c, &region, &nip_s).await?;
    allowed(&c, rel, false)?;
    let (limit, cursor) = (q.limit()?, q.cursor()?.map(str::to_string));
    Ok(Json(
        st.store
            .run(move |s| s.feedback(&employee.region, &employee.nip, cursor.as_deref(), limit))
            .await?,
    ))
}

//! Issuing, listing and revoking bearer tokens.

use super::error::{ApiError, ApiResult};
use super::extract::{nip_param, Caller, JsonBody, PageQuery, RegionParam, P, Q};
use super::{AppState, Errors};
use crate::domain::auth::{Role, Scope};
use crate::domain::{validate_id, FieldError};
use crate::store::{IssuedToken, Page, StoreError, TokenRecord};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue, list))
        .routes(routes!(revoke))
        .routes(routes!(whoami))
        .routes(routes!(issue_in_region, list_in_region))
        .routes(routes!(revoke_in_region))
        // `DELETE /api/v1/tokens/self` would otherwise be a 405: the static `self` segment wins
        // over `{id}` in the router. It stays what it was before `self` existed, a revocation of
        // a token with that (impossible) id, and is not documented twice.
        .route(
            "/api/v1/tokens/self",
            axum::routing::delete(|st: State<AppState>, c: Caller| async move {
                revoke(st, c, P("self".to_string())).await
            }),
        )
}

/// The calling token's own role and scope, never its secret.
#[derive(Debug, Serialize, ToSchema)]
pub struct SelfToken {
    pub id: String,
    pub role: Role,
    /// Absent for `admin`.
    pub region: Option<String>,
    /// Only for `agency`.
    pub agency: Option<String>,
    /// Only for `employee`.
    pub nip: Option<String>,
    pub label: Option<String>,
    /// Only for a sign-in session: when it ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    /// A session opened with an initial password, which must be changed before anything else.
    pub must_change_password: bool,
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IssueInput {
    pub role: Role,
    /// Required for every role but `admin`.
    pub region: Option<String>,
    /// Required for `agency`.
    pub agency: Option<String>,
    /// Required for `employee`.
    pub nip: Option<String>,
    pub label: Option<String>,
}

/// Checks that the scope names exactly what its role needs and that it exists.
async fn scope_of(st: &AppState, input: IssueInput) -> ApiResult<(Scope, Option<String>)> {
    let need = |ok: bool, field: &str, msg: &str| -> ApiResult<()> {
        if ok {
            Ok(())
        } else {
            Err(FieldError::new(field, msg).into())
        }
    };
    let IssueInput {
        role,
        region,
        agency,
        nip,
        label,
    } = input;
    if let Some(l) = &label {
        need(l.chars().count() <= 200, "label", "at most 200 characters")?;
        crate::domain::plain_text("label", l, false)?;
    }
    match role {
        Role::Admin => need(
            region.is_none() && agency.is_none() && nip.is_none(),
            "role",
            "an admin token has no region, agency or nip",
        )?,
        _ => need(region.is_some(), "region", "required for this role")?,
    }
    need(
        role == Role::Agency || agency.is_none(),
        "agency",
        "only an agency token has an agency",
    )?;
    need(
        role == Role::Agency || role == Role::Admin || agency.is_none(),
        "agency",
        "not allowed for this role",
    )?;
    need(
        role != Role::Agency || agency.is_some(),
        "agency",
        "required for an agency token",
    )?;
    need(
        role == Role::Employee || nip.is_none(),
        "nip",
        "only an employee token has a nip",
    )?;
    need(
        role != Role::Employee || nip.is_some(),
        "nip",
        "required for an employee token",
    )?;
    if let Some(r) = region.clone() {
        validate_id("region", &r)?;
        st.store
            .run(move |s| s.require_region(&r))
            .await
            .map_err(|_| FieldError::new("region", "no such region"))?;
    }
    if let (Some(r), Some(a)) = (region.clone(), agency.clone()) {
        validate_id("agency", &a)?;
        st.store
            .run(move |s| s.agency(&r, &a))
            .await
            .map_err(|_| FieldError::new("agency", "no such agency in the region"))?;
    }
    if let (Some(r), Some(n)) = (region.clone(), nip.clone()) {
        nip_param("nip", &n)?;
        st.store
            .run(move |s| s.employee(&r, &n))
            .await
            .map_err(|_| FieldError::new("nip", "no such employee in the region"))?;
    }
    Ok((
        Scope {
            role,
            region,
            agency,
            nip,
        },
        label,
    ))
}

/// Issue a token; the secret is shown only in this answer.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = IssueInput,
    responses((status = 201, body = IssuedToken), Errors), security(("bearer" = [])))]
async fn issue(
    State(st): State<AppState>,
    c: Caller,
    JsonBody(input): JsonBody<IssueInput>,
) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    issue_token(&st, &c, input).await
}

/// Issue a token of the region (`role` any but `admin`); the body's `region` may be left out.
/// The secret is shown only in this answer.
#[utoipa::path(post, path = "/api/v1/regions/{region}/tokens", tag = "tokens",
    params(RegionParam), request_body = IssueInput,
    responses((status = 201, body = IssuedToken), Errors), security(("bearer" = [])))]
async fn issue_in_region(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
    JsonBody(mut input): JsonBody<IssueInput>,
) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    c.scope.require_region_admin(&region)?;
    st.store.read_now(|s| s.require_region(&region))?;
    match &input.region {
        Some(r) if *r != region => {
            return Err(FieldError::new(
                "region",
                format!("`{r}` is not the region of the path, `{region}`"),
            )
            .into())
        }
        _ => input.region = Some(region),
    }
    if input.role == Role::Admin {
        return Err(FieldError::new("role", "an admin token belongs to no region").into());
    }
    issue_token(&st, &c, input).await
}

async fn issue_token(
    st: &AppState,
    c: &Caller,
    input: IssueInput,
) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    if !matches!(c.scope.role, Role::Admin | Role::RegionAdmin) {
        return Err(ApiError::Forbidden(
            "only admins and region admins issue tokens".into(),
        ));
    }
    let (scope, label) = scope_of(st, input).await?;
    c.scope.may_issue(&scope)?;
    let actor = c.token_id.clone();
    let issued = st
        .store
        .run(move |s| s.issue_token(scope, label, Some(&actor)))
        .await?;
    Ok((StatusCode::CREATED, Json(issued)))
}

/// List tokens (never their secrets); a region admin sees its region's. Paged.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens", params(PageQuery),
    responses((status = 200, body = Page<TokenRecord>), Errors), security(("bearer" = [])))]
async fn list(
    State(st): State<AppState>,
    c: Caller,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<Page<TokenRecord>>> {
    let region = match c.scope.role {
        Role::Admin => None,
        Role::RegionAdmin => c.scope.region.clone(),
        _ => {
            return Err(ApiError::Forbidden(
                "only admins and region admins list tokens".into(),
            ))
        }
    };
    let (limit, cursor) = (q.limit()?, q.cursor()?.map(str::to_string));
    Ok(Json(
        st.store
            .run(move |s| s.tokens(region.as_deref(), cursor.as_deref(), limit))
            .await?,
    ))
}

/// The region's tokens (never their secrets; admin, or the region's admin). Paged.
#[utoipa::path(get, path = "/api/v1/regions/{region}/tokens", tag = "tokens",
    params(RegionParam, PageQuery),
    responses((status = 200, body = Page<TokenRecord>), Errors), security(("bearer" = [])))]
async fn list_in_region(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<Page<TokenRecord>>> {
    c.scope.require_region_admin(&region)?;
    st.store.read_now(|s| s.require_region(&region))?;
    let (limit, cursor) = (q.limit()?, q.cursor()?.map(str::to_string));
    Ok(Json(
        st.store
            .run(move |s| s.tokens(Some(&region), cursor.as_deref(), limit))
            .await?,
    ))
}

/// The calling token's role and scope, so a client (the web console) can show what the token
/// may do without trying routes until one answers 403. Every valid token may call it.
#[utoipa::path(get, path = "/api/v1/tokens/self", tag = "tokens",
    responses((status = 200, body = SelfToken), Errors), security(("bearer" = [])))]
async fn whoami(State(st): State<AppState>, c: Caller) -> ApiResult<Json<SelfToken>> {
    let id = c.token_id.clone();
    // The label and expiry are not part of the authenticated scope; a token revoked between
    // the two reads simply has none.
    let rec = st.store.run(move |s| s.token(&id)).await.ok();
    let (label, expires_at, must_change_password) = rec
        .map(|t| (t.label, t.expires_at, t.must_change_password))
        .unwrap_or_default();
    let Scope {
        role,
        region,
        agency,
        nip,
    } = c.scope;
    Ok(Json(SelfToken {
        id: c.token_id,
        role,
        region,
        agency,
        nip,
        label,
        expires_at,
        must_change_password,
    }))
}

/// Revoke a token.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = String, Path)),
    responses((status = 204), Errors), security(("bearer" = [])))]
async fn revoke(State(st): State<AppState>, c: Caller, P(id): P<String>) -> ApiResult<StatusCode> {
    revoke_token(&st, &c, None, id).await
}

/// Revoke a token of the region (admin, or the region's admin); 404 for a token of another.
#[utoipa::path(delete, path = "/api/v1/regions/{region}/tokens/{id}", tag = "tokens",
    params(RegionParam, ("id" = String, Path)),
    responses((status = 204), Errors), security(("bearer" = [])))]
async fn revoke_in_region(
    State(st): State<AppState>,
    c: Caller,
    P((region, id)): P<(String, String)>,
) -> ApiResult<StatusCode> {
    c.scope.require_region_admin(&region)?;
    st.store.read_now(|s| s.require_region(&region))?;
    revoke_token(&st, &c, Some(region), id).await
}

async fn revoke_token(
    st: &AppState,
    c: &Caller,
    region: Option<String>,
    id: String,
) -> ApiResult<StatusCode> {
    if id.len() > 64 {
        return Err(ApiError::NotFound("token not found".into()));
    }
    let i = id.clone();
    let found = st.store.run(move |s| s.token(&i)).await;
    let target = match region {
        // Under a region's prefix, a token of another region is as missing as one that never
        // was: the same answer for both.
        Some(r) => match found {
            Ok(t) if t.scope.region.as_deref() == Some(r.as_str()) => t,
            Ok(_) | Err(StoreError::NotFound(_)) => {
                return Err(ApiError::NotFound(format!(
                    "token `{id}` not found in region `{r}`"
                )))
            }
            Err(e) => return Err(e.into()),
        },
        None => found?,
    };
    if !c.scope.is_admin() {
        c.scope.may_issue(&target.scope)?;
    }
    let actor = c.token_id.clone();
    st.store
        .run(move |s| s.revoke_token(&id, Some(&actor)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

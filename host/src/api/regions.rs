//! Regions as records: an admin creates a region (`PUT /api/v1/regions/{region}`) and from
//! then on everything about it lives under its prefix. A region's admin keeps its settings.

use super::error::ApiResult;
use super::extract::{Caller, JsonBody, PageQuery, RegionParam, P, Q};
use super::{fanout, AppState, Errors};
use crate::domain::auth::Role;
use crate::domain::region::{validate_region_id, Region, RegionInput};
use crate::store::Page;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(get_region, put_region))
}

/// The regions: every one for an admin, by id; the caller's own (a one-item page) for any
/// other token. A node of a cluster (`--peers`) lists its peers' regions too (502 naming a
/// peer that does not answer); the header `x-kinerja-node-only` asks for its own alone.
#[utoipa::path(get, path = "/api/v1/regions", tag = "regions", params(PageQuery),
    responses((status = 200, body = Page<Region>), Errors), security(("bearer" = [])))]
async fn list(
    State(st): State<AppState>,
    c: Caller,
    headers: HeaderMap,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<Page<Region>>> {
    let (limit, cursor) = (q.limit()?, q.cursor()?.map(str::to_string));
    if c.scope.role == Role::Admin {
        let at = cursor.clone();
        let own = st
            .store
            .run(move |s| s.regions_page(at.as_deref(), limit))
            .await?;
        if !fanout::across_peers(&st, &headers) {
            return Ok(Json(own));
        }
        return Ok(Json(
            fanout::regions_page(&st, &headers, own, cursor.as_deref(), limit).await?,
        ));
    }
    let own = c.scope.region.clone().unwrap_or_default();
    let region = st.store.read_now(|s| s.region(&own))?;
    Ok(Json(Page {
        items: vec![region],
        next: None,
    }))
}

/// One region: its name, level and time zone. Any token of the region reads it.
#[utoipa::path(get, path = "/api/v1/regions/{region}", tag = "regions", params(RegionParam),
    responses((status = 200, body = Region), Errors), security(("bearer" = [])))]
async fn get_region(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
) -> ApiResult<Json<Region>> {
    c.scope.require_region(&region)?;
    Ok(Json(st.store.read_now(|s| s.region(&region))?))
}

/// Creates a region (admin; 201) or replaces its name, level and time zone (admin, or the
/// region's own admin, whose token exists only once the region does; 200). The id is a slug
/// (400 naming the rule otherwise); the time zone is also the one of the region's reporting
/// rules. Audited as `region.put`.
#[utoipa::path(put, path = "/api/v1/regions/{region}", tag = "regions", params(RegionParam),
    request_body = RegionInput,
    responses((status = 200, body = Region), (status = 201, body = Region), Errors),
    security(("bearer" = [])))]
async fn put_region(
    State(st): State<AppState>,
    c: Caller,
    // Not `P`: a segment that cannot be a region id is a 404 on the other routes, and here a
    // 400 that says what an id must look like.
    Path(region): Path<String>,
    JsonBody(input): JsonBody<RegionInput>,
) -> ApiResult<(StatusCode, Json<Region>)> {
    validate_region_id(&region)?;
    c.scope.require_region_admin(&region)?;
    input.validate()?;
    let actor = c.token_id.clone();
    let (region, created) = st
        .store
        .run(move |s| s.put_region(&region, input, &actor))
        .await?;
    tracing::info!(region = %region.id, created, "region written");
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(region)))
}

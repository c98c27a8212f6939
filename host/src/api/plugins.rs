//! A region's modules: upload and list them, and try one without storing anything (dry run,
//! impact preview).

use super::error::{ApiError, ApiResult};
use super::extract::{period_param, Caller, JsonBody, PageQuery, PluginIdParam, RegionParam, P, Q};
use super::{AppState, Errors};
use crate::domain::date::Date;
use crate::domain::period::Period;
use crate::domain::validate_id;
use crate::policy::impact::Impact;
use crate::store::{Page, PluginUpload};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::Json;
use kinerja_runtime::UploadError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router(upload_limit: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(
            OpenApiRouter::new()
                .routes(routes!(upload, list_plugins))
                .layer(DefaultBodyLimit::max(upload_limit)),
        )
        .routes(routes!(dry_run))
        .routes(routes!(impact))
}

/// Makes sure the runtime holds a stored module (for example one whose load failed at start),
/// loading it from the store's bytes; the compiled cache makes this cheap after the first time.
pub(super) async fn ensure_loaded(st: &AppState, id: &str) -> ApiResult<()> {
    let rt = st.runtime();
    if rt.is_loaded(id) {
        return Ok(());
    }
    let pid = id.to_string();
    let bytes = st.store.run(move |s| s.plugin_bytes(&pid)).await?;
    tokio::task::spawn_blocking(move || rt.load(&bytes))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .map_err(|e| ApiError::Internal(format!("stored module {id} no longer loads: {e}")))?;
    Ok(())
}

pub(super) fn hook_ok(hook: &str) -> ApiResult<kinerja_runtime::Hook> {
    hook.parse().map_err(|_| {
        ApiError::NotFound(format!(
            "hook `{}` does not exist; use appraise or rotate",
            hook.chars().take(40).collect::<String>()
        ))
    })
}

pub(super) fn plugin_id_ok(id: &str) -> ApiResult<()> {
    if crate::domain::is_sha256_hex(id) {
        Ok(())
    } else {
        Err(ApiError::NotFound(format!(
            "plugin `{}` not found (ids are 64 lowercase hex digits)",
            id.chars().take(70).collect::<String>()
        )))
    }
}

// For the document only: `Vec<u8>` itself would be documented as a JSON array of integers,
// which is not what goes over the wire.
/// The raw bytes of a WebAssembly module (`.wasm`).
#[allow(dead_code)]
#[derive(ToSchema)]
#[schema(value_type = String, format = Binary)]
pub struct WasmModule(Vec<u8>);

/// Upload a policy plugin (the raw `.wasm` bytes). The same bytes again answer 200 with the same id.
#[utoipa::path(post, path = "/api/v1/regions/{region}/plugins", tag = "plugins",
    params(RegionParam),
    request_body(content = WasmModule, content_type = "application/wasm"),
    responses((status = 201, body = PluginUpload), (status = 200, body = PluginUpload), Errors), security(("bearer" = [])))]
async fn upload(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> ApiResult<(StatusCode, Json<PluginUpload>)> {
    c.scope.require_region_admin(&region)?;
    st.store.read_now(|s| s.require_region(&region))?;
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge(format!(
                "the module is larger than the upload limit of {} bytes",
                st.runtime().limits().module_bytes
            ))
        } else {
            ApiError::BadRequest(format!("body: {}", e.body_text()))
        }
    })?;
    // Compiling and recording run on a task of their own, awaited here: should the request
    // time out or its client go away, the upload still finishes and is recorded (listed, and
    // its compiled file accounted for) instead of leaving a compiled module nobody knows of.
    let (store, rt, actor) = (Arc::clone(&st.store), st.runtime(), c.token_id.clone());
    let bytes = body.to_vec();
    let (up, created) = tokio::spawn(async move {
        let (info, bytes) =
            tokio::task::spawn_blocking(move || rt.load(&bytes).map(|i| (i, bytes)))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .map_err(|e| match e {
                    UploadError::TooLarge { .. } => ApiError::TooLarge(e.to_string()),
                    UploadError::Cache(m) => ApiError::Internal(m),
                    other => ApiError::BadRequest(format!("module: {other}")),
                })?;
        let meta = crate::policy::plugin_meta(&info);
        Ok::<_, ApiError>(
            store
                .run(move |s| s.put_plugin(&region, meta, &bytes, Some(&actor)))
                .await?,
        )
    })
    .await
    .map_err(|e| ApiError::Internal(format!("the upload task failed: {e}")))??;
    tracing::info!(plugin = %up.id, region = %up.region, created, "plugin uploaded");
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(up),
    ))
}

/// The region's modules: id, size, hooks, who uploaded them and when; paged.
#[utoipa::path(get, path = "/api/v1/regions/{region}/plugins", tag = "plugins",
    params(RegionParam, PageQuery),
    responses((status = 200, body = Page<PluginUpload>), Errors), security(("bearer" = [])))]
async fn list_plugins(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<Page<PluginUpload>>> {
    c.scope.require_region_admin(&region)?;
    let (limit, cursor) = (q.limit()?, q.cursor()?.map(str::to_string));
    Ok(Json(
        st.store
            .run(move |s| s.plugins(&region, cursor.as_deref(), limit))
            .await?,
    ))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DryRunInput {
    /// `appraise` or `rotate`.
    pub hook: String,
    pub period: Option<String>,
    pub nips: Option<Vec<String>>,
    pub agency: Option<String>,
    #[schema(value_type = Option<String>, format = Date)]
    pub as_of: Option<Date>,
    /// Absent: the active activation's config, else `{}`.
    #[schema(value_type = Object)]
    pub config: Option<Value>,
}

/// Run a hook of any uploaded module without storing anything; answers the plugin's response with its logs, fuel and time.
#[utoipa::path(post, path = "/api/v1/regions/{region}/plugins/{id}/dry-run", tag = "plugins",
    params(RegionParam, PluginIdParam), request_body = DryRunInput,
    responses((status = 200, body = Object), Errors), security(("bearer" = [])))]
async fn dry_run(
    State(st): State<AppState>,
    c: Caller,
    P((region, id)): P<(String, String)>,
    JsonBody(input): JsonBody<DryRunInput>,
) -> ApiResult<Json<Value>> {
    let (hook, config) = candidate(&st, &c, &region, &id, &input.hook, input.config).await?;
    match hook {
        kinerja_runtime::Hook::Appraise => {
            let period = required_period(input.period.as_deref())?;
            let emps = st
                .policy
                .select(&c.scope, &region, input.nips, input.agency)
                .await?;
            Ok(Json(
                st.policy
                    .dry_run_appraise(&region, &id, &config, period, emps)
                    .await?,
            ))
        }
        kinerja_runtime::Hook::Rotate => {
            let as_of = required_as_of(input.as_of)?;
            let agency = st.policy.scoped_agency(&c.scope, &region, input.agency)?;
            Ok(Json(
                st.policy
                    .dry_run_rotate(&region, &id, &config, as_of, agency)
                    .await?,
            ))
        }
    }
}

/// The period of a dry-run or impact of `appraise`, which has no default.
fn required_period(period: Option<&str>) -> ApiResult<Period> {
    period_param(
        period.ok_or_else(|| ApiError::BadRequest("period: required for appraise".into()))?,
    )
}

/// The date of a dry-run or impact of `rotate`, which has no default.
fn required_as_of(as_of: Option<Date>) -> ApiResult<Date> {
    as_of.ok_or_else(|| ApiError::BadRequest("as_of: required for rotate".into()))
}

/// Checks what dry-run and impact share: the caller administers the region, the module was
/// uploaded to it and offers the hook; answers the hook and the config to run it with (absent:
/// the active activation's, else `{}`), with the module loaded.
async fn candidate(
    st: &AppState,
    c: &Caller,
    region: &str,
    id: &str,
    hook: &str,
    config: Option<Value>,
) -> ApiResult<(kinerja_runtime::Hook, Value)> {
    plugin_id_ok(id)?;
    c.scope.require_region_admin(region)?;
    let hook = hook
        .parse::<kinerja_runtime::Hook>()
        .map_err(|_| ApiError::BadRequest("hook: must be appraise or rotate".into()))?;
    let (r, i) = (region.to_string(), id.to_string());
    let up = st.store.run(move |s| s.plugin_upload(&r, &i)).await?;
    if !up.hooks.iter().any(|h| h == hook.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "hook: module {} does not offer {}",
            up.id,
            hook.as_str()
        )));
    }
    let config = match config {
        Some(c) if c.is_object() => c,
        Some(_) => return Err(ApiError::BadRequest("config: must be a JSON object".into())),
        None => {
            let (r, h) = (region.to_string(), hook.as_str().to_string());
            st.store
                .run(move |s| s.active_policy(&r, &h))
                .await?
                .map(|a| a.config)
                .unwrap_or_else(|| Value::Object(Default::default()))
        }
    };
    ensure_loaded(st, &up.id).await?;
    Ok((hook, config))
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ImpactInput {
    /// `appraise` or `rotate`.
    pub hook: String,
    /// For appraise: `YYYY`, `YYYY-Qn` or `YYYY-MM`.
    pub period: Option<String>,
    /// For rotate: the date tenure and the latest predikat are taken at.
    #[schema(value_type = Option<String>, format = Date)]
    pub as_of: Option<Date>,
    /// Narrows the scope from the whole region to one agency.
    pub agency: Option<String>,
    /// The candidate's config. Absent: the active activation's, else `{}`.
    #[schema(value_type = Object)]
    pub config: Option<Value>,
}

/// Preview what a module (with a config) would change against the active policy over a whole region or agency; nothing is stored.
#[utoipa::path(post, path = "/api/v1/regions/{region}/plugins/{id}/impact", tag = "plugins",
    params(RegionParam, PluginIdParam), request_body = ImpactInput,
    responses((status = 200, body = Impact), Errors), security(("bearer" = [])))]
async fn impact(
    State(st): State<AppState>,
    c: Caller,
    P((region, id)): P<(String, String)>,
    JsonBody(input): JsonBody<ImpactInput>,
) -> ApiResult<Json<Impact>> {
    let (hook, config) = candidate(&st, &c, &region, &id, &input.hook, input.config).await?;
    if let Some(a) = &input.agency {
        validate_id("agency", a)?;
    }
    let out = match hook {
        kinerja_runtime::Hook::Appraise => {
            let period = required_period(input.period.as_deref())?;
            let emps = st
                .policy
                .select(&c.scope, &region, None, input.agency)
                .await?;
            st.policy
                .impact_appraise(&region, &id, config, period, emps)
                .await?
        }
        kinerja_runtime::Hook::Rotate => {
            let as_of = required_as_of(input.as_of)?;
            let agency = st.policy.scoped_agency(&c.scope, &region, input.agency)?;
            st.policy
                .impact_rotate(&region, &id, config, as_of, agency)
                .await?
        }
    };
    Ok(Json(out))
}

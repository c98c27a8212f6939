//! Plugins, policies, evaluations and decisions.

use super::error::{ApiError, ApiResult};
use super::extract::{
    period_param, region_ok, Caller, HookParam, JsonBody, NipParam, PageQuery, PluginIdParam,
    RegionParam, P, Q,
};
use super::{AppState, Errors};
use crate::domain::auth::Role;
use crate::domain::date::Date;
use crate::domain::nip::Nip;
use crate::domain::period::Period;
use crate::domain::records::Employee;
use crate::domain::validate_id;
use crate::policy::impact::Impact;
use crate::policy::replay::Verdict;
use crate::policy::{Appraisal, PolicyError};
use crate::store::{
    Activation, Decision, Page, PluginMeta, PluginUpload, StoreError, READ_NOW_MAX_NIPS,
};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::Json;
use kinerja_runtime::UploadError;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
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
        .routes(routes!(activate, deactivate))
        .routes(routes!(policies))
        .routes(routes!(dry_run))
        .routes(routes!(impact))
        .routes(routes!(appraise))
        .routes(routes!(employee_appraisals))
        .routes(routes!(rotate))
        .routes(routes!(decision))
        .routes(routes!(replay))
}

impl From<PolicyError> for ApiError {
    fn from(e: PolicyError) -> Self {
        match e {
            PolicyError::NoActivePolicy { .. } => ApiError::Conflict {
                code: "no_active_policy",
                message: e.to_string(),
            },
            PolicyError::Plugin(m) => ApiError::Plugin(m),
            PolicyError::Busy(m) => ApiError::Busy(m),
            PolicyError::Paused {
                message,
                retry_after,
            } => ApiError::Paused {
                message,
                retry_after: retry_after.as_secs().max(1),
            },
            PolicyError::BadRequest(m) => ApiError::BadRequest(m),
            PolicyError::Store(s) => s.into(),
            PolicyError::Internal(m) => ApiError::Internal(m),
        }
    }
}

/// Makes sure the runtime holds a stored module (for example one whose load failed at start),
/// loading it from the store's bytes; the compiled cache makes this cheap after the first time.
async fn ensure_loaded(st: &AppState, id: &str) -> ApiResult<()> {
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

fn hook_ok(hook: &str) -> ApiResult<kinerja_runtime::Hook> {
    hook.parse().map_err(|_| {
        ApiError::NotFound(format!(
            "hook `{}` does not exist; use appraise or rotate",
            hook.chars().take(40).collect::<String>()
        ))
    })
}

fn plugin_id_ok(id: &str) -> ApiResult<()> {
    if id.len() == 64
        && id
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    {
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
    region_ok(&region)?;
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
        let meta = PluginMeta {
            id: info.id.clone(),
            size: info.size as u64,
            hooks: info.hooks.iter().map(|h| h.as_str().to_string()).collect(),
        };
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
    region_ok(&region)?;
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
pub struct ActivateInput {
    /// The id (SHA-256) of a module uploaded to this region.
    pub plugin: String,
    /// Handed to the plugin as `config` on every call.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub config: Option<Value>,
    /// Skip the preflight (the module run with this config on a sample of the region's cases
    /// before it is activated); recorded in the audit as `policy.activate.forced`.
    #[serde(default)]
    pub force: bool,
}

/// Activate a module for `appraise` or `rotate`; activating an older id is a rollback.
#[utoipa::path(put, path = "/api/v1/regions/{region}/policies/{hook}", tag = "plugins",
    params(RegionParam, HookParam), request_body = ActivateInput,
    responses((status = 200, body = Activation), Errors), security(("bearer" = [])))]
async fn activate(
    State(st): State<AppState>,
    c: Caller,
    P((region, hook)): P<(String, String)>,
    JsonBody(input): JsonBody<ActivateInput>,
) -> ApiResult<Json<Activation>> {
    region_ok(&region)?;
    let h = hook_ok(&hook)?;
    c.scope.require_region_admin(&region)?;
    let config = input
        .config
        .unwrap_or_else(|| Value::Object(Default::default()));
    if !config.is_object() {
        return Err(ApiError::BadRequest("config: must be a JSON object".into()));
    }
    if plugin_id_ok(&input.plugin).is_err() {
        return Err(ApiError::BadRequest(
            "plugin: must be the 64-hex-digit id of an uploaded module".into(),
        ));
    }
    let (r, p) = (region.clone(), input.plugin.clone());
    let up = st
        .store
        .run(move |s| s.plugin_upload(&r, &p))
        .await
        .map_err(|_| {
            ApiError::BadRequest(format!(
                "plugin: `{}` was not uploaded to region `{region}`",
                input.plugin
            ))
        })?;
    if !up.hooks.iter().any(|x| x == h.as_str()) {
        return Err(ApiError::BadRequest(format!(
            "plugin: module {} does not offer the {hook} hook (it offers {})",
            up.id,
            up.hooks.join(", ")
        )));
    }
    ensure_loaded(&st, &up.id).await?;
    // An activation is the admin's answer to a paused plugin: its calls go through again,
    // the preflight's first.
    st.runtime().resume(&region);
    if !input.force {
        st.policy
            .preflight(&region, &up.id, h, &config)
            .await
            .map_err(|e| match e {
                PolicyError::Plugin(m) => ApiError::Plugin(format!(
                    "not activated: with this config, on a sample of region `{region}`'s \
                     cases, {m}; send \"force\": true to activate it anyway"
                )),
                other => other.into(),
            })?;
    }
    let (actor, forced) = (c.token_id.clone(), input.force);
    let act = st
        .store
        .run(move |s| s.activate(&region, h.as_str(), &up.id, config, Some(&actor), forced))
        .await?;
    tracing::info!(region = %act.region, hook = %act.hook, plugin = ?act.plugin, "policy activated");
    Ok(Json(act))
}

/// Deactivate the hook's policy.
#[utoipa::path(delete, path = "/api/v1/regions/{region}/policies/{hook}", tag = "plugins",
    params(RegionParam, HookParam),
    responses((status = 204), Errors), security(("bearer" = [])))]
async fn deactivate(
    State(st): State<AppState>,
    c: Caller,
    P((region, hook)): P<(String, String)>,
) -> ApiResult<StatusCode> {
    region_ok(&region)?;
    let h = hook_ok(&hook)?;
    c.scope.require_region_admin(&region)?;
    let actor = c.token_id.clone();
    st.store
        .run(move |s| s.deactivate(&region, h.as_str(), Some(&actor)))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Policies {
    /// The activation in force per hook.
    pub active: BTreeMap<String, Activation>,
    /// Every activation and deactivation, oldest first.
    pub history: Vec<Activation>,
}

/// The active plugin and config per hook, and the activation history.
#[utoipa::path(get, path = "/api/v1/regions/{region}/policies", tag = "plugins", params(RegionParam),
    responses((status = 200, body = Policies), Errors), security(("bearer" = [])))]
async fn policies(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
) -> ApiResult<Json<Policies>> {
    region_ok(&region)?;
    c.scope.require_region_staff(&region)?;
    let (active, history) = st.store.run(move |s| s.policies(&region)).await?;
    Ok(Json(Policies { active, history }))
}

/// Who is appraised: the named NIPs in order, or an agency's employees by NIP, or the region's.
/// The region's existence is checked in the same read: a few named employees (an agency's form
/// names one) are read on this thread, more, or an agency's, in one blocking hop.
async fn select(
    st: &AppState,
    c: &Caller,
    region: &str,
    nips: Option<Vec<String>>,
    agency: Option<String>,
) -> ApiResult<Vec<Employee>> {
    if let Some(a) = &agency {
        validate_id("agency", a)?;
    }
    let agency = c.scope.agency_filter(region, agency.as_deref())?;
    known_agency(st, c, region, agency.as_deref())?;
    match nips {
        Some(nips) => {
            if nips.is_empty() || nips.len() > 100_000 {
                return Err(ApiError::BadRequest("nips: give 1–100000 NIPs".into()));
            }
            // The same employee twice would be appraised twice in one request: two decisions
            // of one case, and a plugin comparing colleagues would count it double.
            let mut seen = std::collections::HashMap::with_capacity(nips.len());
            for (i, n) in nips.iter().enumerate() {
                Nip::parse(n).map_err(|m| ApiError::BadRequest(format!("nips[{i}]: {m}")))?;
                if let Some(first) = seen.insert(n.as_str(), i) {
                    return Err(ApiError::BadRequest(format!(
                        "nips[{i}]: NIP {n} is named twice (also nips[{first}])"
                    )));
                }
            }
            let (found, nips) = if reads_now(nips.len()) {
                (
                    st.store.read_now(|s| s.employees_named(region, &nips))?,
                    nips,
                )
            } else {
                let r = region.to_string();
                st.store
                    .run(move |s| Ok((s.employees_named(&r, &nips)?, nips)))
                    .await?
            };
            let mut out = Vec::with_capacity(found.len());
            // An agency token hears the same about a NIP of another agency and a NIP of no
            // one, so it cannot probe which exist.
            let not_in_scope = |i: usize, n: &str| {
                ApiError::Forbidden(format!(
                    "nips[{i}]: agency `{}` has no employee with NIP {n}",
                    agency.as_deref().unwrap_or("")
                ))
            };
            let agency_token = c.scope.role == Role::Agency;
            for (i, (e, n)) in found.into_iter().zip(&nips).enumerate() {
                let e = match e {
                    Some(e) => e,
                    None if agency_token => return Err(not_in_scope(i, n)),
                    None => {
                        return Err(ApiError::NotFound(format!(
                            "employee `{n}` in region `{region}` not found"
                        )))
                    }
                };
                if let Some(a) = &agency {
                    if &e.agency != a {
                        return Err(if agency_token {
                            not_in_scope(i, n)
                        } else {
                            ApiError::BadRequest(format!(
                                "nips: employee {} is not in agency `{a}`",
                                e.nip
                            ))
                        });
                    }
                }
                out.push(e);
            }
            Ok(out)
        }
        None => {
            let r = region.to_string();
            Ok(st
                .store
                .run(move |s| {
                    s.require_region(&r)?;
                    Ok(s.employees(&r, agency.as_deref(), None, usize::MAX)?.items)
                })
                .await?)
        }
    }
}

/// An agency named in an evaluation body must exist: an unknown one would select nobody and
/// answer an empty success, and a rotation would store a decision about nobody. (The region
/// is checked in the same read.) An agency token's own agency is not read again: it was
/// checked when the token was issued, and agencies are never deleted; any other agency it
/// names was refused by the scope check before this.
fn known_agency(st: &AppState, c: &Caller, region: &str, agency: Option<&str>) -> ApiResult<()> {
    match agency {
        Some(a) if c.scope.role != Role::Agency => {
            st.store.read_now(|s| s.agency(region, a).map(drop))?;
        }
        _ => {}
    }
    Ok(())
}

/// Whether an appraisal naming `nips` employees reads them on the request's own thread.
fn reads_now(nips: usize) -> bool {
    nips <= READ_NOW_MAX_NIPS
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
    region_ok(&region)?;
    c.scope.require_region(&region)?;
    let period = period_param(&input.period)?;
    let emps = select(&st, &c, &region, input.nips, input.agency).await?;
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
    region_ok(&region)?;
    if let Some(a) = &input.agency {
        validate_id("agency", a)?;
    }
    let agency = c.scope.agency_filter(&region, input.agency.as_deref())?;
    st.store.read_now(|s| s.require_region(&region))?;
    known_agency(&st, &c, &region, agency.as_deref())?;
    Ok(Json(
        st.policy
            .rotate(&region, input.as_of, agency, &c.token_id)
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
            let emps = select(&st, &c, &region, input.nips, input.agency).await?;
            Ok(Json(
                st.policy
                    .dry_run_appraise(&region, &id, &config, period, emps)
                    .await?,
            ))
        }
        kinerja_runtime::Hook::Rotate => {
            let as_of = required_as_of(input.as_of)?;
            if let Some(a) = &input.agency {
                validate_id("agency", a)?;
            }
            known_agency(&st, &c, &region, input.agency.as_deref())?;
            Ok(Json(
                st.policy
                    .dry_run_rotate(&region, &id, &config, as_of, input.agency)
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
    region_ok(region)?;
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
            let emps = select(&st, &c, &region, None, input.agency).await?;
            st.policy
                .impact_appraise(&region, &id, config, period, emps)
                .await?
        }
        kinerja_runtime::Hook::Rotate => {
            let as_of = required_as_of(input.as_of)?;
            known_agency(&st, &c, &region, input.agency.as_deref())?;
            st.policy
                .impact_rotate(&region, &id, config, as_of, input.agency)
                .await?
        }
    };
    Ok(Json(out))
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
    let nip = super::records::readable_employee(&st, &c, &region, &nip)
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
    if id.len() > 40 || !id.starts_with("dec-") {
        return Err(ApiError::NotFound(format!(
            "decision `{}` not found",
            id.chars().take(40).collect::<String>()
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

/// Re-run the same module on the same input bytes and say whether the output is identical.
#[utoipa::path(post, path = "/api/v1/decisions/{id}/replay", tag = "evaluation", params(("id" = String, Path)),
    responses((status = 200, body = Verdict), Errors), security(("bearer" = [])))]
async fn replay(
    State(st): State<AppState>,
    c: Caller,
    P(id): P<String>,
) -> ApiResult<Json<Verdict>> {
    if c.scope.role == Role::Employee {
        // Re-running a module costs the region's capacity; an employee reads its results only.
        return Err(ApiError::Forbidden(
            "an employee token may read decisions but not replay them".into(),
        ));
    }
    let d = readable_decision(&st, &c, id).await?;
    ensure_loaded(&st, &d.plugin).await?;
    Ok(Json(st.policy.replay(d).await?))
}

#[cfg(test)]
mod tests {
    /// The threshold the docs and `tests/plugins.rs` name: 16 named employees are read on the
    /// request's thread, 17 take the hop.
    #[test]
    fn up_to_sixteen_named_employees_are_read_now() {
        assert!(super::reads_now(1) && super::reads_now(16));
        assert!(!super::reads_now(17));
    }
}

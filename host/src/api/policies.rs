//! A region's active plugin per hook: activate (after a preflight), deactivate, and the
//! history.

use super::error::{ApiError, ApiResult};
use super::extract::{Caller, HookParam, JsonBody, RegionParam, P};
use super::plugins::{ensure_loaded, hook_ok, plugin_id_ok};
use super::{AppState, Errors};
use crate::policy::PolicyError;
use crate::store::Activation;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(activate, deactivate))
        .routes(routes!(policies))
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
    // The candidate's preflight runs even if its calls were paused in this region.
    st.runtime().resume_module(&region, &up.id);
    if !input.force {
        st.policy
            .preflight(&region, &up.id, h, &config)
            .await
            .map_err(|e| match e {
                e @ (PolicyError::Plugin(_) | PolicyError::Call(_)) => ApiError::Plugin(format!(
                    "not activated: with this config, on a sample of region `{region}`'s \
                     cases, {e}; send \"force\": true to activate it anyway"
                )),
                other => other.into(),
            })?;
    }
    let (actor, forced) = (c.token_id.clone(), input.force);
    let act = st
        .store
        .run({
            let region = region.clone();
            move |s| s.activate(&region, h.as_str(), &up.id, config, Some(&actor), forced)
        })
        .await?;
    // An activation is the admin's answer to a paused plugin: the region's calls go through
    // again.
    st.runtime().resume(&region);
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
    c.scope.require_region_staff(&region)?;
    let (active, history) = st.store.run(move |s| s.policies(&region)).await?;
    Ok(Json(Policies { active, history }))
}

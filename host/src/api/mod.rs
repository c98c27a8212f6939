//! The HTTP API: the only module that touches axum. [`app`] builds the whole router so tests
//! and the server use the very same one; the OpenAPI document is generated from the handlers.

pub mod error;
pub mod extract;
mod plugins;
mod records;
mod service;
mod tokens;

use crate::config::Config;
use crate::policy::Policy;
use kinerja_runtime::Runtime;
use crate::store::Store;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use error::{ApiError, ErrorBody};
use std::collections::HashMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Instant;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<Store>,
    pub config: Arc<Config>,
    /// When each token's `last_used` was last written (see `extract::Caller`).
    pub touched: Arc<Mutex<HashMap<String, Instant>>>,
    /// Set once the database is open and the stored plugins are loaded.
    pub ready: Arc<AtomicBool>,
    pub policy: Arc<Policy>,
}

impl AppState {
    pub fn runtime(&self) -> Arc<Runtime> {
        Arc::clone(&self.policy.runtime)
    }
}

/// The error answers every API route may give, for the OpenAPI document.
#[allow(dead_code)]
#[derive(IntoResponses)]
pub enum Errors {
    /// Bad input; the message names the field.
    #[response(status = 400)]
    BadRequest(#[to_schema] ErrorBody),
    /// No token or an unknown one.
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The token may not do this here.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// Unknown region, record or id.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// Conflicts with the state, e.g. `no_active_policy`.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// The request timed out.
    #[response(status = 408)]
    Timeout(ErrorBody),
    /// Body too large.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The plugin refused or failed.
    #[response(status = 422)]
    Plugin(ErrorBody),
    /// No capacity now; retry after `Retry-After`.
    #[response(status = 503)]
    Busy(ErrorBody),
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Kinerja", description = "ASN performance records, with region policies as sandboxed Wasm plugins"),
    modifiers(&BearerAuth),
    components(schemas(ErrorBody))
)]
struct ApiDoc;

fn routes(upload_limit: usize) -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(service::router())
        .merge(tokens::router())
        .merge(records::router())
        .merge(plugins::router(upload_limit))
}

/// The OpenAPI document of every route.
pub fn openapi() -> utoipa::openapi::OpenApi {
    routes(0).split_for_parts().1
}

/// The whole application: routes, body limits, timeouts and request tracing.
pub fn app(state: AppState) -> Router {
    // One byte over the module limit, so the runtime can say "too large" in its own words.
    let upload_limit = state.config.plugin_module_bytes.saturating_add(1);
    let (router, doc) = routes(upload_limit).split_for_parts();
    let doc = Arc::new(doc);
    let timeout = state.config.request_timeout;
    router
        .route(
            "/openapi.json",
            axum::routing::get(move || {
                let doc = Arc::clone(&doc);
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async {
            (StatusCode::METHOD_NOT_ALLOWED, axum::Json(serde_json::json!({"error": {"code": "method_not_allowed", "message": "this route does not take that method"}})))
        })
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .layer(middleware::from_fn(record_metrics))
        .layer(middleware::from_fn(move |req: Request, next: Next| async move {
            match tokio::time::timeout(timeout, next.run(req)).await {
                Ok(resp) => resp,
                Err(_) => ApiError::Timeout(format!("the request took longer than {} s", timeout.as_secs_f64())).into_response(),
            }
        }))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request| {
                    tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), status = tracing::field::Empty)
                })
                .on_response(|resp: &Response, latency: std::time::Duration, span: &tracing::Span| {
                    span.record("status", resp.status().as_u16());
                    tracing::info!(status = resp.status().as_u16(), latency_ms = latency.as_secs_f64() * 1e3, "response");
                }),
        )
        .with_state(state)
}

/// Counts requests by route template (never the raw path: ids would explode the label set),
/// method and status, and their latency.
async fn record_metrics(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let resp = next.run(req).await;
    let status = resp.status().as_u16().to_string();
    metrics::counter!(crate::telemetry::HTTP_REQUESTS, "route" => route.clone(), "method" => method, "status" => status).increment(1);
    metrics::histogram!(crate::telemetry::HTTP_DURATION, "route" => route).record(start.elapsed().as_secs_f64());
    resp
}

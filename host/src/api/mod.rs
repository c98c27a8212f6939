//! The HTTP API: the only module that touches axum. [`app`] builds the whole router so tests
//! and the server use the very same one; the OpenAPI document is generated from the handlers.

mod backup;
pub mod connections;

pub use backup::BACKUP_DIR_PREFIX;
pub use fanout::{client as peers_client, NODE_ONLY};
mod console;
mod decisions;
mod distribution;
pub mod error;
mod evaluation;
mod exports;
pub mod extract;
mod fanout;
mod feedback;
mod placement;
mod plugins;
mod policies;
mod ratings;
mod records;
mod regions;
mod reports;
mod service;
pub mod sessions;
mod skp;
mod surveys;
pub mod throttle;
mod tokens;

use crate::config::Config;
use crate::policy::Policy;
use crate::store::Store;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use error::{ApiError, ErrorBody};
use kinerja_runtime::Runtime;
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
    /// Failed authentications per client address (see `throttle`).
    pub throttle: Arc<throttle::AuthThrottle>,
    /// Password sign-ins and hashing (see `sessions`).
    pub sign_in: Arc<sessions::SignIn>,
    /// How this node asks its `--peers` (see `fanout`).
    pub peers: reqwest::Client,
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
    /// A JSON body without `Content-Type: application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// Too many failed authentications from this address; retry after `Retry-After` seconds.
    #[response(status = 429)]
    TooManyRequests(ErrorBody),
    /// The plugin refused or failed.
    #[response(status = 422)]
    Plugin(ErrorBody),
    /// A region this node does not hold (a node of a cluster): the proxy routes it.
    #[response(status = 421)]
    Misdirected(ErrorBody),
    /// A node this one asked (the target of a region's move) refused or failed.
    #[response(status = 502)]
    Upstream(ErrorBody),
    /// No capacity now (`busy`), a region being moved (`region_moving`), or the region's plugin keeps running into its time limits
    /// and is paused (`plugin_paused`); retry after `Retry-After`.
    #[response(status = 503)]
    Busy(ErrorBody),
}

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
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
        .merge(backup::router())
        .merge(regions::router())
        .merge(placement::router())
        .merge(tokens::router())
        .merge(sessions::router())
        .merge(records::router())
        .merge(reports::router())
        .merge(skp::router())
        .merge(ratings::router())
        .merge(feedback::router())
        .merge(surveys::router())
        .merge(plugins::router(upload_limit))
        .merge(policies::router())
        .merge(evaluation::router())
        .merge(decisions::router())
        .merge(distribution::router())
        .merge(exports::router())
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
        // The console's files are not API routes and stay out of the OpenAPI document.
        .merge(console::router())
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async {
            (StatusCode::METHOD_NOT_ALLOWED, axum::Json(serde_json::json!({"error": {"code": "method_not_allowed", "message": "this route does not take that method"}})))
        })
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .layer(middleware::from_fn(json_errors))
        .layer(middleware::from_fn(finish_body))
        .layer(middleware::from_fn_with_state(state.clone(), placement::region_gate))
        .layer(middleware::from_fn(record_metrics))
        .layer(middleware::from_fn(move |req: Request, next: Next| async move {
            // A snapshot of a region's file takes as long as its data needs: its one route
            // is for admins and runs one at a time.
            if backup::is_backup(req.uri().path()) || placement::is_transfer(req.uri().path()) {
                return next.run(req).await;
            }
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

use crate::limits::{DRAIN_MAX_BYTES, DRAIN_MAX_TIME, PLAIN_ERROR_MAX_BYTES};

/// Answers given before the request body was read to its end — a 401 or 404 before the handler
/// reads it, a 405, a 413 at the body limit, a route that takes no body — leave hyper unable to
/// find the next request on the connection, and it closes it without saying so. A client still
/// writing its body then gets a broken pipe instead of the answer, and a client that pools
/// connections sends its next request into a closed socket. So the rest of such a body is read
/// and dropped (up to [`DRAIN_MAX_BYTES`] and [`DRAIN_MAX_TIME`]) before answering, and when
/// that is not possible the answer says `Connection: close`.
async fn finish_body(req: Request, next: Next) -> Response {
    use axum::http::header::{CONNECTION, CONTENT_LENGTH, EXPECT, TRANSFER_ENCODING};
    use futures::StreamExt;
    let declared = req
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    let chunked = req.headers().contains_key(TRANSFER_ENCODING);
    if declared.unwrap_or(0) == 0 && !chunked {
        return next.run(req).await;
    }
    // A client that waits for `100 Continue` has sent nothing yet; it is not asked to.
    let may_drain = !req.headers().contains_key(EXPECT)
        && declared.is_none_or(|n| n <= DRAIN_MAX_BYTES as u64 * 2);
    let (parts, body) = req.into_parts();
    let shared = Arc::new(Mutex::new(Some(body.into_data_stream())));
    let body = axum::body::Body::from_stream(EndAware {
        inner: Arc::clone(&shared),
    });
    let mut resp = next.run(Request::from_parts(parts, body)).await;
    let rest = shared.lock().unwrap_or_else(|p| p.into_inner()).take();
    let Some(mut rest) = rest else { return resp };
    let drained = may_drain
        && tokio::time::timeout(DRAIN_MAX_TIME, async {
            let mut n = 0usize;
            while let Some(chunk) = rest.next().await {
                match chunk {
                    Ok(c) if n + c.len() <= DRAIN_MAX_BYTES => n += c.len(),
                    _ => return false,
                }
            }
            true
        })
        .await
        .unwrap_or(false);
    if !drained {
        resp.headers_mut()
            .insert(CONNECTION, axum::http::HeaderValue::from_static("close"));
    }
    resp
}

/// The request body as a stream the middleware keeps a hold of; taken out (`None`) once it has
/// been read to its end.
struct EndAware {
    inner: Arc<Mutex<Option<axum::body::BodyDataStream>>>,
}

impl futures::Stream for EndAware {
    type Item = Result<axum::body::Bytes, axum::Error>;

    fn poll_next(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        let mut slot = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        let Some(stream) = slot.as_mut() else {
            return std::task::Poll::Ready(None);
        };
        let next = std::pin::Pin::new(stream).poll_next(cx);
        if let std::task::Poll::Ready(None) = next {
            *slot = None;
        }
        next
    }
}

/// Every error is answered in the API's format, `{"error": {"code", "message"}}`, also the
/// ones no handler wrote: axum's own rejections (a path that is not UTF-8 once decoded, say)
/// are plain text, and a client that reads `error.code` would find nothing. Such an answer keeps
/// its status and headers; its text becomes the message (a 5xx's never: it may name internals).
async fn json_errors(req: Request, next: Next) -> Response {
    use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE};
    let resp = next.run(req).await;
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let is_json = resp
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if is_json {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let text = axum::body::to_bytes(body, PLAIN_ERROR_MAX_BYTES)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_string())
        .unwrap_or_default();
    let reason = status.canonical_reason().unwrap_or("error");
    let message = if text.is_empty() || status.is_server_error() {
        reason.to_string()
    } else {
        text
    };
    let code = match status {
        StatusCode::BAD_REQUEST => "bad_request".to_string(),
        StatusCode::UNAUTHORIZED => "unauthorized".to_string(),
        StatusCode::FORBIDDEN => "forbidden".to_string(),
        StatusCode::NOT_FOUND => "not_found".to_string(),
        StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed".to_string(),
        StatusCode::REQUEST_TIMEOUT => "timeout".to_string(),
        StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large".to_string(),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported_media_type".to_string(),
        StatusCode::TOO_MANY_REQUESTS => "too_many_requests".to_string(),
        StatusCode::SERVICE_UNAVAILABLE => "busy".to_string(),
        StatusCode::INTERNAL_SERVER_ERROR => "internal".to_string(),
        other => format!("http_{}", other.as_u16()),
    };
    parts.headers.remove(CONTENT_LENGTH);
    parts.headers.remove(CONTENT_TYPE);
    let body = ErrorBody {
        error: error::ErrorDetail { code, message },
    };
    let mut out = (status, axum::Json(body)).into_response();
    for (name, value) in &parts.headers {
        out.headers_mut().append(name.clone(), value.clone());
    }
    out
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
    metrics::histogram!(crate::telemetry::HTTP_DURATION, "route" => route)
        .record(start.elapsed().as_secs_f64());
    resp
}

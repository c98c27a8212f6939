//! The one error type of the HTTP API. Every failure becomes `{"error": {"code", "message"}}`
//! with the status the contract gives it; only faults of the server itself are 500.

use crate::domain::auth::Denied;
use crate::domain::FieldError;
use crate::policy::PolicyError;
use crate::store::StoreError;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    /// A request that conflicts with the state, e.g. `no_active_policy`.
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{0}")]
    TooLarge(String),
    /// A body in a format the route does not take (a JSON body without its content type).
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many failed authentications from the client's address; retry after `retry_after`
    /// seconds (see `api::throttle`).
    #[error("{message}")]
    TooManyRequests { message: String, retry_after: u64 },
    /// The plugin refused or failed; the message names the plugin id and the cause.
    #[error("{0}")]
    Plugin(String),
    /// No capacity now; the client should retry after a second.
    #[error("{0}")]
    Busy(String),
    /// The region's plugin keeps running into its time limits and its calls are paused for
    /// `retry_after` seconds (or until a plugin is activated).
    #[error("{message}")]
    Paused { message: String, retry_after: u64 },
    #[error("{0}")]
    Timeout(String),
    /// A region this node does not hold (a node of a cluster): 421.
    #[error("{0}")]
    Misdirected(String),
    /// A region being moved between nodes: its writes are paused (503, retry).
    #[error("{0}")]
    Moving(String),
    /// Another node refused or failed what this one asked of it (a region's move): 502.
    #[error("{0}")]
    Upstream(String),
    #[error("{0}")]
    Internal(String),
}

#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Machine-readable: `bad_request`, `unauthorized`, `forbidden`, `not_found`,
    /// `no_active_policy`, `conflict`, `last_admin`, `payload_too_large`,
    /// `unsupported_media_type`, `plugin_failed`, `too_many_requests`, `busy`, `plugin_paused`, `region_moving`, `misdirected`, `bad_gateway`, `timeout`,
    /// `internal`.
    pub code: String,
    /// A sentence for people; for bad input it names the field.
    pub message: String,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict { .. } => StatusCode::CONFLICT,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooManyRequests { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Plugin(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Busy(_) | ApiError::Paused { .. } | ApiError::Moving(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Misdirected(_) => StatusCode::MISDIRECTED_REQUEST,
            ApiError::Upstream(_) => StatusCode::BAD_GATEWAY,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict { code, .. } => code,
            ApiError::TooLarge(_) => "payload_too_large",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::TooManyRequests { .. } => "too_many_requests",
            ApiError::Plugin(_) => "plugin_failed",
            ApiError::Busy(_) => "busy",
            ApiError::Paused { .. } => "plugin_paused",
            ApiError::Timeout(_) => "timeout",
            ApiError::Misdirected(_) => "misdirected",
            ApiError::Moving(_) => "region_moving",
            ApiError::Upstream(_) => "bad_gateway",
            ApiError::Internal(_) => "internal",
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let message = match &self {
            ApiError::Internal(detail) => {
                // The detail may carry paths or database internals: log it, don't send it.
                tracing::error!(%detail, "internal error");
                "internal server error; the event is in the server log".to_string()
            }
            other => other.to_string(),
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code().into(),
                message,
            },
        };
        let mut resp = (status, axum::Json(body)).into_response();
        if status == StatusCode::SERVICE_UNAVAILABLE {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
        }
        if let ApiError::TooManyRequests { retry_after, .. }
        | ApiError::Paused { retry_after, .. } = self
        {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from(retry_after));
        }
        resp
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        ApiError::BadRequest(e.to_string())
    }
}

impl From<Denied> for ApiError {
    fn from(e: Denied) -> Self {
        ApiError::Forbidden(e.0)
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(format!("{what} not found")),
            StoreError::Invalid(f) => f.into(),
            StoreError::TooLarge(m) => ApiError::TooLarge(m),
            StoreError::Conflict(m) => ApiError::Conflict {
                code: "conflict",
                message: m,
            },
            e @ StoreError::LastAdmin(_) => ApiError::Conflict {
                code: "last_admin",
                message: e.to_string(),
            },
            e @ (StoreError::Db(_) | StoreError::NewerLayout { .. }) => {
                ApiError::Internal(e.to_string())
            }
            StoreError::Fault(m) | StoreError::Corrupt(m) => ApiError::Internal(m),
            e @ StoreError::Paused(_) => ApiError::Moving(e.to_string()),
        }
    }
}

impl From<PolicyError> for ApiError {
    fn from(e: PolicyError) -> Self {
        match e {
            PolicyError::NoActivePolicy { .. } => ApiError::Conflict {
                code: "no_active_policy",
                message: e.to_string(),
            },
            PolicyError::Plugin(m) => ApiError::Plugin(m),
            e @ PolicyError::Call(_) => ApiError::Plugin(e.to_string()),
            PolicyError::Busy(m) => ApiError::Busy(m),
            PolicyError::Paused {
                message,
                retry_after,
            } => ApiError::Paused {
                message,
                // Rounded up: a client retrying on time must find the pause over.
                retry_after: retry_after.as_secs_f64().ceil().max(1.0) as u64,
            },
            PolicyError::BadRequest(m) => ApiError::BadRequest(m),
            PolicyError::Denied(d) => d.into(),
            PolicyError::Store(s) => s.into(),
            PolicyError::Internal(m) => ApiError::Internal(m),
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

//! Request extractors whose rejections speak the API's error format: axum's own answer in
//! plain text and with 422 for JSON data errors, where the contract wants 400 naming the field.

use super::error::ApiError;
use super::AppState;
use crate::domain::auth::Scope;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use std::time::{Duration, Instant};
use utoipa::IntoParams;

/// A JSON body parsed with the path of the offending field in the error.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        if let Some(ct) = req.headers().get(header::CONTENT_TYPE) {
            let ct = ct.to_str().unwrap_or("");
            if !ct.starts_with("application/json") && !ct.contains("+json") {
                return Err(ApiError::BadRequest(format!(
                    "body: expected Content-Type application/json, got `{}`",
                    ct.chars().take(60).collect::<String>()
                )));
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge("body: the request body is larger than the server's limit".into())
            } else {
                ApiError::BadRequest(format!("body: {}", e.body_text()))
            }
        })?;
        parse_json(&bytes).map(JsonBody)
    }
}

pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        let field = if path == "." { "body".to_string() } else { path };
        ApiError::BadRequest(format!("{field}: {inner}"))
    })
}

/// Query parameters; a wrong type names the parameter.
pub struct Q<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Q<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| Q(v))
            .map_err(|e| ApiError::BadRequest(format!("query: {}", e.body_text())))
    }
}

/// Path parameters.
pub struct P<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for P<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| P(v))
            .map_err(|e| ApiError::BadRequest(format!("path: {}", e.body_text())))
    }
}

/// `limit` and `cursor` of every list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// 1–1000, default 100.
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<usize>,
    /// The `next` of the previous page.
    pub cursor: Option<String>,
    /// Only this agency's records.
    pub agency: Option<String>,
}

impl PageQuery {
    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.limit {
            None => Ok(100),
            Some(n @ 1..=1000) => Ok(n),
            Some(n) => Err(ApiError::BadRequest(format!("limit: {n} is not within 1–1000"))),
        }
    }

    pub fn cursor(&self) -> Result<Option<&str>, ApiError> {
        match self.cursor.as_deref() {
            Some(c) if c.len() > 200 || c.contains('\u{0}') => {
                Err(ApiError::BadRequest("cursor: not a cursor this server gave out".into()))
            }
            Some("") | None => Ok(None),
            Some(c) => Ok(Some(c)),
        }
    }
}

/// The authenticated caller of an `/api` route.
#[derive(Debug, Clone)]
pub struct Caller {
    pub token_id: String,
    pub scope: Scope,
}

/// How often `last_used` of a token is written at most: a write per request would turn every
/// read into a disk commit.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let header = parts
            .headers
            .get(header::AUTHORIZATION)
            .ok_or_else(|| ApiError::Unauthorized("missing `Authorization: Bearer <token>` header".into()))?;
        let secret = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 256)
            .ok_or_else(|| ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".into()))?
            .to_string();
        let rec = state
            .store
            .run(move |s| s.authenticate(&secret))
            .await?
            .ok_or_else(|| ApiError::Unauthorized("unknown or revoked token".into()))?;
        let due = {
            let mut touched = state.touched.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            match touched.get(&rec.id) {
                Some(t) if now.duration_since(*t) < TOUCH_EVERY => false,
                _ => {
                    touched.insert(rec.id.clone(), now);
                    true
                }
            }
        };
        if due {
            let id = rec.id.clone();
            if let Err(e) = state.store.run(move |s| s.touch_token(&id)).await {
                tracing::warn!(error = %e, "could not record token use");
            }
        }
        Ok(Caller { token_id: rec.id, scope: rec.scope })
    }
}

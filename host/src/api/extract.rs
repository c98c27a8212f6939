//! Request extractors whose rejections speak the API's error format: axum's own answer in
//! plain text and with 422 for JSON data errors, where the contract wants 400 naming the field.

use super::error::ApiError;
use super::AppState;
use crate::domain::auth::Scope;
use crate::domain::period::Period;
use crate::domain::validate_id;
use axum::body::Bytes;
use axum::extract::{
    ConnectInfo, FromRequest, FromRequestParts, Path, Query, RawPathParams, Request,
};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::net::SocketAddr;
use std::time::Instant;
use utoipa::IntoParams;

/// A JSON body parsed with the path of the offending field in the error.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Serialize> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let JsonBytes(bytes) = JsonBytes::from_request(req, state).await?;
        parse_json(&bytes).map(JsonBody)
    }
}

/// The raw bytes of a JSON body, for handlers that parse it themselves: the same Content-Type
/// check and size limit as [`JsonBody`], answered in the API's error format (axum's own `Bytes`
/// rejection is a `text/plain` 413 that no client of this API expects).
pub struct JsonBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        // A JSON body must say so. Reading an unlabelled or form-encoded body as JSON is what
        // lets a web page on another origin post one without a CORS preflight.
        match req.headers().get(header::CONTENT_TYPE) {
            None => {
                return Err(ApiError::UnsupportedMediaType(
                    "body: send it with `Content-Type: application/json`".into(),
                ))
            }
            Some(ct) => {
                let ct = ct.to_str().unwrap_or("");
                let essence = ct
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase();
                if essence != "application/json" && !essence.ends_with("+json") {
                    return Err(ApiError::UnsupportedMediaType(format!(
                        "body: expected `Content-Type: application/json`, got `{}`",
                        ct.chars().take(60).collect::<String>()
                    )));
                }
            }
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::TooLarge(
                    "body: the request body is larger than the server's limit".into(),
                )
            } else {
                ApiError::BadRequest(format!("body: {}", e.body_text()))
            }
        })?;
        Ok(JsonBytes(bytes))
    }
}

/// `{region}` is an id (no `/`, bounded length); anything else cannot name a region, so it
/// is answered like an unknown one: 404.
pub fn region_ok(region: &str) -> Result<(), ApiError> {
    crate::domain::region::validate_region_id(region).map_err(|_| {
        ApiError::NotFound(format!(
            "region `{}` not found",
            region.chars().take(64).collect::<String>()
        ))
    })
}

/// A period id from a path or body, or 400 naming `period`.
/// A NIP from the path or a body, or 400 naming `field`.
pub fn nip_param(field: &str, s: &str) -> Result<crate::domain::nip::Nip, ApiError> {
    crate::domain::nip::Nip::parse(s).map_err(|m| ApiError::BadRequest(format!("{field}: {m}")))
}

pub fn period_param(s: &str) -> Result<Period, ApiError> {
    Period::parse(s).map_err(|m| ApiError::BadRequest(format!("period: {m}")))
}

/// Parses a JSON body into `T`, naming the offending field on failure.
pub fn parse_json<T: DeserializeOwned + Serialize>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        // Where malformed JSON stops the parser before it read a key, the path holds `?`,
        // which names no field a client could fix; the line and column do (serde_json's
        // message ends with them). A path of real keys is kept: it says where to look.
        if path == "." || path.contains('?') {
            return ApiError::BadRequest(format!("body: malformed JSON: {inner}"));
        }
        ApiError::BadRequest(format!("{path}: {inner}"))
    })?;
    // `serde_json::from_slice` does this itself; a hand-made deserializer stops after the first
    // value and would take `{"name": "x"} anything` as valid.
    de.end()
        .map_err(|e| ApiError::BadRequest(format!("body: {e}")))?;
    // serde's derived types take more shapes than the document gives: a struct also from an
    // array of its field values in order (`["Dinas X"]` as an agency, `"budget": [1, 2]`, `[]` as
    // an empty period record), a unit enum variant also from `{"variant": null}`. What was sent
    // must have the JSON types of what it was read into.
    let sent: Value =
        serde_json::from_slice(bytes).map_err(|e| ApiError::BadRequest(format!("body: {e}")))?;
    let read = serde_json::to_value(&value)
        .map_err(|e| ApiError::Internal(format!("re-encoding a parsed body: {e}")))?;
    let mut path = String::new();
    if let Some((want, got)) = shape_mismatch(&sent, &read, &mut path) {
        let field = if path.is_empty() {
            "body".to_string()
        } else {
            path
        };
        return Err(ApiError::BadRequest(format!(
            "{field}: must be {want}, not {got}"
        )));
    }
    Ok(value)
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The first place where `sent` has another JSON type than `read`, as (wanted, sent), with its
/// path in `path` (`a.b[0].c`, as serde_path_to_error writes it). Keys `read` lacks (skipped
/// when serializing) are not compared.
fn shape_mismatch(
    sent: &Value,
    read: &Value,
    path: &mut String,
) -> Option<(&'static str, &'static str)> {
    match (sent, read) {
        (Value::Object(s), Value::Object(r)) => {
            for (k, sv) in s {
                if let Some(rv) = r.get(k) {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(k);
                    if let Some(m) = shape_mismatch(sv, rv, path) {
                        return Some(m);
                    }
                    path.truncate(len);
                }
            }
            None
        }
        (Value::Array(s), Value::Array(r)) => {
            for (i, (sv, rv)) in s.iter().zip(r).enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                if let Some(m) = shape_mismatch(sv, rv, path) {
                    return Some(m);
                }
                path.truncate(len);
            }
            None
        }
        (s, r) if json_type(s) == json_type(r) => None,
        (s, r) => Some((json_type(r), json_type(s))),
    }
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

/// Path parameters. A `{region}` among them is validated here, for every route at once: a
/// segment that cannot be a region id is answered 404 like an unknown region, before the
/// handler runs.
pub struct P<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for P<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        if let Ok(raw) = RawPathParams::from_request_parts(parts, state).await {
            if let Some((_, region)) = raw.iter().find(|(k, _)| *k == "region") {
                region_ok(region)?;
            }
        }
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
    /// The `agency` filter, an id: anything else (`../jakarta`) names no agency and is 400,
    /// not an empty page that reads as "this agency has no one".
    pub fn agency(&self) -> Result<Option<&str>, ApiError> {
        match self.agency.as_deref() {
            Some(a) => {
                validate_id("agency", a)?;
                Ok(Some(a))
            }
            None => Ok(None),
        }
    }

    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.limit {
            None => Ok(crate::limits::PAGE_DEFAULT),
            Some(n @ 1..=crate::limits::PAGE_MAX) => Ok(n),
            Some(n) => Err(ApiError::BadRequest(format!(
                "limit: {n} is not within 1–{}",
                crate::limits::PAGE_MAX
            ))),
        }
    }

    pub fn cursor(&self) -> Result<Option<&str>, ApiError> {
        match self.cursor.as_deref() {
            Some(c) if c.len() > 200 || c.contains('\u{0}') => Err(ApiError::BadRequest(
                "cursor: not a cursor this server gave out".into(),
            )),
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
    /// A sign-in session (it expires) rather than an integration's token.
    pub session: bool,
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        // No header is no guess: it is not counted by the throttle.
        let header = parts.headers.get(header::AUTHORIZATION).ok_or_else(|| {
            ApiError::Unauthorized("missing `Authorization: Bearer <token>` header".into())
        })?;
        // The peer's address, when the server was started with it (`server::serve`); an app
        // driven without a socket (in-process tests) is not throttled.
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip());
        let failed = |message: &str| -> ApiError {
            let refused = peer.and_then(|ip| {
                let key = super::throttle::client_key(ip);
                state.throttle.failed(key, Instant::now()).err()
            });
            match refused {
                Some(r) => ApiError::TooManyRequests {
                    message: format!(
                        "too many failed authentications from this address; retry in {} s",
                        r.retry_after_secs()
                    ),
                    retry_after: r.retry_after_secs(),
                },
                None => ApiError::Unauthorized(message.into()),
            }
        };
        let secret = header
            .to_str()
            .ok()
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .filter(|s| !s.is_empty() && s.len() <= 256)
            .ok_or_else(|| failed("the Authorization header must be `Bearer <token>`"))?
            .to_string();
        let rec = match state.store.authenticate_cached(&secret) {
            Some(rec) => rec,
            None => state
                .store
                .run(move |s| s.authenticate(&secret))
                .await?
                .ok_or_else(|| failed("unknown or revoked token"))?,
        };
        if rec.is_session() {
            // Not counted by the throttle: an expired session is no guess.
            if rec.expired(&crate::domain::now_rfc3339()) {
                return Err(ApiError::Unauthorized(
                    "this session has expired; sign in again".into(),
                ));
            }
            if rec.must_change_password && !super::sessions::allowed_before_change(parts) {
                return Err(ApiError::Forbidden(
                    "this session was opened with an initial password: choose your own first \
                     (PUT /api/v1/sessions/self/password)"
                        .into(),
                ));
            }
        }
        let due = {
            let mut touched = state.touched.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            // One entry per token or session ever used: past a bound, the ones not due a
            // write soon anyway are forgotten (forgetting one only makes its next use write).
            if touched.len() >= crate::limits::AUTH_CACHE_MAX_ENTRIES {
                touched.retain(|_, t| now.duration_since(*t) < crate::limits::TOUCH_EVERY);
                // All recent: start over rather than sweep again on the next request.
                if touched.len() >= crate::limits::AUTH_CACHE_MAX_ENTRIES / 2 {
                    touched.clear();
                }
            }
            match touched.get(&rec.id) {
                Some(t) if now.duration_since(*t) < crate::limits::TOUCH_EVERY => false,
                _ => {
                    touched.insert(rec.id.clone(), now);
                    true
                }
            }
        };
        if due {
            let id = rec.id.clone();
            let region = rec.scope.region.clone();
            let touched = state
                .store
                .run(move |s| s.touch_token(region.as_deref(), &id));
            if let Err(e) = touched.await {
                tracing::warn!(error = %e, "could not record token use");
            }
        }
        Ok(Caller {
            session: rec.is_session(),
            token_id: rec.id,
            scope: rec.scope,
        })
    }
}

// Path parameters, for the OpenAPI document only (handlers take them through `P<…>`). The
// patterns are the ones the handlers check, so a client — or a fuzzer — knows the shape of a
// valid value; a value outside them is answered 400 (NIP, period) or 404 (the others).

/// `{region}`: a region's id.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RegionParam {
    /// A slug: lowercase letters and digits joined by single hyphens, starting with a
    /// letter, at most 63 characters (`jambi`, `tenayan-raya`).
    #[param(
        pattern = "^[a-z][a-z0-9]*(-[a-z0-9]+)*$",
        max_length = 63,
        example = "jambi"
    )]
    pub region: String,
}

/// `{agency}`: an agency id.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct AgencyParam {
    /// 1–64 lowercase letters, digits, `-` or `_`, starting with a letter or digit.
    #[param(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    pub agency: String,
}

/// `{id}` of a position.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PositionIdParam {
    /// 1–64 lowercase letters, digits, `-` or `_`, starting with a letter or digit.
    #[param(pattern = "^[a-z0-9][a-z0-9_-]{0,63}$")]
    pub id: String,
}

/// `{nip}`: an employee's NIP.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct NipParam {
    /// 18 digits: birth date YYYYMMDD, appointment YYYYMM, sex 1 or 2, a 3-digit sequence.
    #[param(pattern = "^[0-9]{18}$", example = "198503122010011001")]
    pub nip: String,
}

/// `{period}` of a period record.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PeriodParam {
    /// `YYYY` (annual), `YYYY-Qn` (quarter) or `YYYY-MM` (month), year 2000–2100.
    #[param(
        pattern = "^(20[0-9]{2}|2100)(-Q[1-4]|-(0[1-9]|1[0-2]))?$",
        example = "2026"
    )]
    pub period: String,
}

/// `{hook}` of a policy.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct HookParam {
    /// `appraise` or `rotate`.
    #[param(pattern = "^(appraise|rotate)$")]
    pub hook: String,
}

/// `{id}` of an uploaded plugin module.
#[allow(dead_code)]
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PluginIdParam {
    /// The module's SHA-256, 64 lowercase hex digits.
    #[param(pattern = "^[0-9a-f]{64}$")]
    pub id: String,
}

//! Signing in as yourself: an employee's password (set once by an administrator, then chosen
//! by the employee), sessions that expire, and the throttle that makes guessing slow and then
//! refused. A wrong NIP and a wrong password get the same answer after the same work (see
//! `domain::password::verify`).

use super::error::{ApiError, ApiResult};
use super::extract::{nip_param, Caller, JsonBody, NipParam, RegionParam, P};
use super::records::readable_employee;
use super::throttle::{client_key, AuthThrottle, Refused};
use super::{AppState, Errors};
use crate::config::Config;
use crate::domain::{password, rfc3339, FieldError};
use crate::limits::{
    HASH_WAIT, SIGN_IN_ADDRESS_FACTOR, SIGN_IN_SLOWDOWN_MAX, SIGN_IN_SLOWDOWN_STEP,
};
use crate::store::OpenedSession;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant, SystemTime};
use tokio::sync::{Semaphore, SemaphorePermit};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in))
        .routes(routes!(sign_in_region))
        .routes(routes!(sign_out))
        .routes(routes!(change_password))
        .routes(routes!(set_password))
}

/// The sign-in's own state: failures per NIP and per address, and the hashing slots.
pub struct SignIn {
    by_nip: AuthThrottle<String>,
    by_address: AuthThrottle<IpAddr>,
    limit: u32,
    /// One per core: argon2 is meant to be expensive, and a flood of sign-ins must queue for
    /// the cores rather than take every blocking thread and 19 MiB each.
    hashing: Semaphore,
    ttl: Duration,
}

impl SignIn {
    pub fn new(config: &Config) -> SignIn {
        let limit = config.sign_in_failure_limit;
        let window = config.sign_in_failure_window;
        SignIn {
            by_nip: AuthThrottle::new(limit, window),
            by_address: AuthThrottle::new(limit.saturating_mul(SIGN_IN_ADDRESS_FACTOR), window),
            limit,
            hashing: Semaphore::new(crate::config::cores()),
            // A year at most: `SystemTime` arithmetic has an end, and no session should last longer.
            ttl: config.session_ttl.min(Duration::from_secs(366 * 86_400)),
        }
    }

    /// Counts an attempt for the NIP and the address *before* its password is checked, so
    /// that attempts made at once cannot all pass while the first are still being hashed; a
    /// successful one is given back ([`SignIn::succeeded`]). Answers the counted attempt, or
    /// 429 while either key is over its limit: every attempt, a right password included, or
    /// the refusal would not stop a guesser.
    fn attempt<'a>(
        &'a self,
        nip: &'a str,
        peer: Option<IpAddr>,
        now: Instant,
    ) -> ApiResult<Attempt<'a>> {
        // A refused address must not go on counting against the NIPs it tries (it would keep
        // them locked), so both are checked before either counts.
        if let Some(ip) = peer {
            self.by_address
                .check(&client_key(ip), now)
                .map_err(too_many)?;
        }
        self.by_nip.check(&nip.to_string(), now).map_err(too_many)?;
        let n = self.by_nip.failed(nip.to_string(), now).map_err(too_many)?;
        let a = match peer {
            Some(ip) => match self.by_address.failed(client_key(ip), now) {
                Ok(a) => a,
                Err(r) => {
                    // Refused for the address: the password goes unchecked, so the NIP has
                    // not been tried.
                    self.by_nip.refund(&nip.to_string());
                    return Err(too_many(r));
                }
            },
            None => 0,
        };
        // Failures beyond half a limit are each held back one step longer.
        let over = |failures: u32, limit: u32| failures.saturating_sub(limit / 2);
        let address_limit = self.limit.saturating_mul(SIGN_IN_ADDRESS_FACTOR);
        let steps = over(n, self.limit).max(over(a, address_limit));
        Ok(Attempt {
            sign_in: self,
            key: nip,
            peer,
            hold: (SIGN_IN_SLOWDOWN_STEP * steps).min(SIGN_IN_SLOWDOWN_MAX),
            armed: true,
        })
    }

    /// The attempt succeeded: the NIP starts over, the address gets its attempt back.
    fn succeeded(&self, nip: &str, peer: Option<IpAddr>) {
        self.by_nip.succeeded(&nip.to_string());
        if let Some(ip) = peer {
            self.by_address.refund(&client_key(ip));
        }
    }

    /// The attempt never reached its check (no hashing slot, a store error): both keys get
    /// it back, so a busy server does not count against the people it turned away.
    fn unchecked(&self, nip: &str, peer: Option<IpAddr>) {
        self.by_nip.refund(&nip.to_string());
        if let Some(ip) = peer {
            self.by_address.refund(&client_key(ip));
        }
    }

    /// A hashing slot, or 503 after [`HASH_WAIT`].
    async fn permit(&self) -> ApiResult<SemaphorePermit<'_>> {
        match tokio::time::timeout(HASH_WAIT, self.hashing.acquire()).await {
            Ok(Ok(p)) => Ok(p),
            _ => Err(ApiError::Busy(
                "too many sign-ins at once; retry in a moment".into(),
            )),
        }
    }
}

fn too_many(r: Refused) -> ApiError {
    ApiError::TooManyRequests {
        message: format!(
            "too many failed sign-ins for this NIP or from this address; retry in {} s",
            r.retry_after_secs()
        ),
        retry_after: r.retry_after_secs(),
    }
}

/// An attempt counted by [`SignIn::attempt`] whose password has not been checked yet: if the
/// request ends before the check (the client went away while queued for a hashing slot, the
/// server was busy, a store error), dropping it gives the attempt back.
struct Attempt<'a> {
    sign_in: &'a SignIn,
    key: &'a str,
    peer: Option<IpAddr>,
    /// How long to hold back the answer should the password be wrong.
    hold: Duration,
    armed: bool,
}

impl Attempt<'_> {
    /// The password was checked: the attempt stands (a failure) or is given back on success.
    /// Answers how long to hold back a failure's answer.
    fn checked(mut self) -> Duration {
        self.armed = false;
        self.hold
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        if self.armed {
            self.sign_in.unchecked(self.key, self.peer);
        }
    }
}

/// The routes a session opened with an initial password may use before choosing its own.
pub(super) fn allowed_before_change(parts: &Parts) -> bool {
    matches!(
        (&parts.method, parts.uri.path()),
        (&Method::PUT, "/api/v1/sessions/self/password")
            | (&Method::DELETE, "/api/v1/sessions/self")
            | (&Method::GET, "/api/v1/tokens/self")
    )
}

/// The client's address, when the server was started with it (in-process tests have none).
pub struct Peer(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// No `Debug`: it would print the password.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignInInput {
    pub region: String,
    pub nip: String,
    pub password: String,
}

/// No `Debug`: it would print the password.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub old: String,
    pub new: String,
}

/// No `Debug`: it would print the password.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InitialPassword {
    pub password: String,
}

/// Sign in with NIP and password: an expiring session token acting as that employee. A
/// session opened with an initial password may only change it (or sign out) until it has.
#[utoipa::path(post, path = "/api/v1/sessions", tag = "sessions", request_body = SignInInput,
    responses((status = 201, body = OpenedSession), Errors))]
async fn sign_in(
    State(st): State<AppState>,
    Peer(peer): Peer,
    JsonBody(input): JsonBody<SignInInput>,
) -> ApiResult<(StatusCode, Json<OpenedSession>)> {
    open_session(st, peer, input).await
}

/// A NIP and password, under the region's prefix.
#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegionSignIn {
    pub nip: String,
    pub password: String,
}

/// [`sign_in`] under the region's prefix, which a cluster's proxy routes to the node holding
/// the region.
#[utoipa::path(post, path = "/api/v1/regions/{region}/sessions", tag = "sessions",
    params(RegionParam), request_body = RegionSignIn,
    responses((status = 201, body = OpenedSession), Errors))]
async fn sign_in_region(
    State(st): State<AppState>,
    Peer(peer): Peer,
    P(region): P<String>,
    JsonBody(input): JsonBody<RegionSignIn>,
) -> ApiResult<(StatusCode, Json<OpenedSession>)> {
    let RegionSignIn { nip, password } = input;
    let input = SignInInput {
        region,
        nip,
        password,
    };
    open_session(st, peer, input).await
}

async fn open_session(
    st: AppState,
    peer: Option<IpAddr>,
    input: SignInInput,
) -> ApiResult<(StatusCode, Json<OpenedSession>)> {
    let SignInInput {
        region,
        nip,
        password: secret,
    } = input;
    crate::domain::region::validate_region_id(&region)?;
    let nip = nip_param("nip", &nip)?.as_str().to_string();
    password::validate_given("password", &secret)?;
    let key = format!("{region}/{nip}");
    let attempt = st.sign_in.attempt(&key, peer, Instant::now())?;
    let (r, n) = (region.clone(), nip.clone());
    let permit = st.sign_in.permit().await?;
    // The same work for every outcome: one read and one argon2 verification.
    let must_change = st
        .store
        .run(move |s| {
            let c = s.credential(&r, &n)?;
            let ok = password::verify(&secret, c.as_ref().map(|c| c.hash.as_str()));
            Ok(c.filter(|_| ok).map(|c| c.must_change))
        })
        .await?;
    drop(permit);
    let hold = attempt.checked();
    let Some(must_change) = must_change else {
        tokio::time::sleep(hold).await;
        return Err(ApiError::Unauthorized("wrong NIP or password".into()));
    };
    st.sign_in.succeeded(&key, peer);
    let expires_at = rfc3339(SystemTime::now() + st.sign_in.ttl);
    let opened = st
        .store
        .run(move |s| s.open_session(&region, &nip, expires_at, must_change))
        .await?;
    tracing::info!(%key, "signed in");
    Ok((StatusCode::CREATED, Json(opened)))
}

/// Sign out: the calling session ends.
#[utoipa::path(delete, path = "/api/v1/sessions/self", tag = "sessions",
    responses((status = 204), Errors), security(("bearer" = [])))]
async fn sign_out(State(st): State<AppState>, c: Caller) -> ApiResult<StatusCode> {
    let region = require_session(&c)?.0.to_string();
    let id = c.token_id;
    st.store.run(move |s| s.close_session(&region, &id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

fn require_session(c: &Caller) -> ApiResult<(&str, &str)> {
    match (c.session, c.scope.region.as_deref(), c.scope.nip.as_deref()) {
        (true, Some(r), Some(n)) => Ok((r, n)),
        _ => Err(ApiError::BadRequest(
            "this is a token, not a sign-in session: revoke a token with DELETE \
             /api/v1/tokens/{id}"
                .into(),
        )),
    }
}

/// Change your own password: the old one, then the new. Your other sessions end; this one
/// stays, and may now do everything you may.
#[utoipa::path(put, path = "/api/v1/sessions/self/password", tag = "sessions",
    request_body = PasswordChange,
    responses((status = 204), Errors), security(("bearer" = [])))]
async fn change_password(
    State(st): State<AppState>,
    Peer(peer): Peer,
    c: Caller,
    JsonBody(input): JsonBody<PasswordChange>,
) -> ApiResult<StatusCode> {
    let (region, nip) = require_session(&c)?;
    let (region, nip) = (region.to_string(), nip.to_string());
    password::validate_given("old", &input.old)?;
    password::validate_new("new", &input.new, &nip)?;
    if input.new == input.old {
        return Err(FieldError::new("new", "must differ from the old password").into());
    }
    let key = format!("{region}/{nip}");
    let attempt = st.sign_in.attempt(&key, peer, Instant::now())?;
    let permit = st.sign_in.permit().await?;
    let (r, n, id) = (region.clone(), nip.clone(), c.token_id.clone());
    let changed = st
        .store
        .run(move |s| {
            let stored = s.credential(&r, &n)?;
            if !password::verify(&input.old, stored.as_ref().map(|c| c.hash.as_str())) {
                return Ok(false);
            }
            let hash = password::hash(&input.new)
                .map_err(|e| crate::store::StoreError::Fault(format!("hashing: {e}")))?;
            s.set_password(&r, &n, hash, false, Some(&id), &id)?;
            Ok(true)
        })
        .await?;
    drop(permit);
    let hold = attempt.checked();
    if !changed {
        tokio::time::sleep(hold).await;
        return Err(FieldError::new("old", "is not your current password").into());
    }
    st.sign_in.succeeded(&key, peer);
    Ok(StatusCode::NO_CONTENT)
}

/// Set an employee's initial password (admin, the region's admin, or the employee's agency).
/// It works once: the employee must choose their own at the first sign-in. Their sessions end.
#[utoipa::path(put, path = "/api/v1/regions/{region}/employees/{nip}/password", tag = "sessions",
    params(RegionParam, NipParam), request_body = InitialPassword,
    responses((status = 204), Errors), security(("bearer" = [])))]
async fn set_password(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s)): P<(String, String)>,
    JsonBody(input): JsonBody<InitialPassword>,
) -> ApiResult<StatusCode> {
    let emp = readable_employee(&st, &c, &region, &nip_s).await?;
    c.scope.require_agency(&region, &emp.agency)?;
    password::validate_new("password", &input.password, &emp.nip)?;
    let permit = st.sign_in.permit().await?;
    let actor = c.token_id.clone();
    st.store
        .run(move |s| {
            let hash = password::hash(&input.password)
                .map_err(|e| crate::store::StoreError::Fault(format!("hashing: {e}")))?;
            s.set_password(&region, &emp.nip, hash, true, None, &actor)
        })
        .await?;
    drop(permit);
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_trying_many_nips_is_refused_at_ten_times_the_limit() {
        let mut config = Config::for_data_dir("/nonexistent");
        config.sign_in_failure_limit = 2;
        let s = SignIn::new(&config);
        let now = Instant::now();
        let ip: IpAddr = "203.0.113.9".parse().unwrap();
        let mut held = Vec::new();
        for i in 0..20 {
            let key = format!("jambi/{i}");
            held.push(s.attempt(&key, Some(ip), now).unwrap().checked());
        }
        assert!(s.attempt("jambi/x", Some(ip), now).is_err());
        // Each NIP tried once: no slowing by NIP; the address is slowed from its 11th on.
        assert_eq!(held[..10], [Duration::ZERO; 10]);
        assert_eq!(held[10], SIGN_IN_SLOWDOWN_STEP);
        assert_eq!(held[19], SIGN_IN_SLOWDOWN_MAX);
        // Another address, the same NIPs: free.
        let other: IpAddr = "198.51.100.9".parse().unwrap();
        assert!(s.attempt("jambi/1", Some(other), now).is_ok());
    }

    /// Attempts are counted before the password is checked: a burst of concurrent guesses
    /// gets the limit's worth of checks and no more; a success gives its attempt back.
    #[test]
    fn attempts_count_before_the_check_and_successes_are_given_back() {
        let mut config = Config::for_data_dir("/nonexistent");
        config.sign_in_failure_limit = 3;
        let s = SignIn::new(&config);
        let now = Instant::now();
        let ip: IpAddr = "203.0.113.10".parse().unwrap();
        let passed = (0..50)
            .filter(|_| {
                s.attempt("jambi/n", Some(ip), now)
                    .map(Attempt::checked)
                    .is_ok()
            })
            .count();
        assert_eq!(passed, 3);
        let other: IpAddr = "203.0.113.11".parse().unwrap();
        for _ in 0..40 {
            let attempt = s.attempt("jambi/ok", Some(other), now);
            assert!(attempt.map(Attempt::checked).is_ok());
            s.succeeded("jambi/ok", Some(other));
        }
    }
}

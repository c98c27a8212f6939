//! Ratings entered by the raters themselves (issue 24 item 3): the employee's self-assessment,
//! the supervisor's rating, the peers the supervisor assigns and each peer's own rating. Who may
//! write which part follows the relationship to the employee rated, not a role: the employee
//! (self), their supervisor in the organisation chart (supervisor, peer assignment), an
//! assigned peer (that peer's own rating). The agency and the administrators may write every
//! part for agencies that enter ratings centrally; every write is audited.

use super::error::{ApiError, ApiResult};
use super::extract::{
    nip_param, period_param, Caller, JsonBody, NipParam, PeriodParam, RegionParam, P,
};
use super::records::readable_employee;
use super::{AppState, Errors};
use crate::domain::auth::Role;
use crate::domain::period::Period;
use crate::domain::ratings::{validate_peers, Given, Part, PeerMean, Raters};
use crate::domain::records::{validate_ratings, Employee, Ratings};
use crate::domain::{now_rfc3339, FieldError};
use crate::store::StoreError;
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_ratings))
        .routes(routes!(put_self))
        .routes(routes!(put_supervisor))
        .routes(routes!(put_peer))
        .routes(routes!(put_peers))
}

/// How the caller stands to the employee rated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Relation {
    /// Admin, the region's admin, or the employee's agency: every part.
    Central,
    /// The employee rated.
    Own,
    /// Their supervisor (atasan langsung) in the organisation chart.
    Supervisor,
    /// An employee of the region with no other standing; a peer if assigned.
    Other,
}

const OUTSIDE: &str = "an employee may rate only themselves, the employees they supervise, \
                       and those they were assigned to rate as a peer";

/// The employee rated and the caller's relation to them. An employee caller gets the same 403
/// for a NIP that does not exist as for one outside their relationships.
pub(super) async fn relation(
    st: &AppState,
    c: &Caller,
    region: &str,
    nip_s: &str,
) -> ApiResult<(Employee, Relation)> {
    if c.scope.role != Role::Employee {
        // The agency's and administrators' rule: missing and out of scope look alike.
        let employee = readable_employee(st, c, region, nip_s).await?;
        return Ok((employee, Relation::Central));
    }
    let nip = nip_param("nip", nip_s)?;
    c.scope.require_region(region)?;
    let employee = match st.store.read_now(|s| s.employee(region, nip.as_str())) {
        Ok(e) => e,
        Err(StoreError::NotFound(_)) => return Err(ApiError::Forbidden(OUTSIDE.into())),
        Err(e) => return Err(e.into()),
    };
    let me = c.scope.nip.clone().unwrap_or_default();
    if me == employee.nip {
        return Ok((employee, Relation::Own));
    }
    let (employee, supervisor) = st
        .store
        .run(move |s| {
            let sup = s.supervisor(&employee)?;
            Ok((employee, sup))
        })
        .await?;
    if supervisor.is_some_and(|s| s.nip == me) {
        return Ok((employee, Relation::Supervisor));
    }
    Ok((employee, Relation::Other))
}

/// [`relation`] for a route whose refusals say `outside`: an employee caller gets that one
/// answer for a NIP that does not exist as for one they have no standing toward.
pub(super) async fn relation_or(
    st: &AppState,
    c: &Caller,
    region: &str,
    nip: &str,
    outside: &str,
) -> ApiResult<(Employee, Relation)> {
    relation(st, c, region, nip).await.map_err(|e| match e {
        ApiError::Forbidden(_) if c.scope.role == Role::Employee => {
            ApiError::Forbidden(outside.into())
        }
        e => e,
    })
}

/// 403 unless `ok`. An employee with no standing toward the one rated gets the very answer a
/// NIP that does not exist gets, so that refusals do not tell which NIPs exist.
fn allow(ok: bool, rel: Relation, what: &str) -> ApiResult<()> {
    match (ok, rel) {
        (true, _) => Ok(()),
        (false, Relation::Other) => Err(ApiError::Forbidden(OUTSIDE.into())),
        (false, _) => Err(ApiError::Forbidden(format!("{what}; {OUTSIDE}"))),
    }
}

/// Stores one part and answers the caller's view of the ratings after it.
async fn write(
    st: &AppState,
    c: &Caller,
    (employee, rel): (Employee, Relation),
    period: Period,
    part: Part,
    ratings: Ratings,
) -> ApiResult<Json<RatingsView>> {
    validate_ratings("ratings", &ratings)?;
    let given = Given {
        ratings,
        by: c.token_id.clone(),
        at: now_rfc3339(),
    };
    let (region, nip, actor) = (
        employee.region.clone(),
        employee.nip.clone(),
        c.token_id.clone(),
    );
    let p = part.clone();
    let raters = st
        .store
        .run(move |s| {
            s.update_raters(&region, &nip, period, &actor, Some(&p), |r| {
                r.set(&p, given)
            })
        })
        .await?;
    Ok(Json(RatingsView::of(&raters, rel, c.scope.nip.as_deref())))
}

/// Write your own self-assessment (the seven BerAKHLAK values, 1–5) for a period. Also the
/// agency's, for agencies that enter it centrally.
#[utoipa::path(put, path = "/api/v1/regions/{region}/employees/{nip}/periods/{period}/ratings/self", tag = "ratings",
    params(RegionParam, NipParam, PeriodParam), request_body = Ratings,
    responses((status = 200, body = RatingsView), Errors), security(("bearer" = [])))]
async fn put_self(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s, period_s)): P<(String, String, String)>,
    JsonBody(ratings): JsonBody<Ratings>,
) -> ApiResult<Json<RatingsView>> {
    let who = [Relation::Own, Relation::Central];
    let what = "only the employee writes their self-assessment";
    let path = (region, nip_s, period_s);
    put_part(&st, &c, path, Part::Self_, (&who, what), ratings).await
}

/// A write of the self or the supervisor's part by one of the relations `who` may be.
async fn put_part(
    st: &AppState,
    c: &Caller,
    (region, nip_s, period_s): (String, String, String),
    part: Part,
    (who, what): (&[Relation], &str),
    ratings: Ratings,
) -> ApiResult<Json<RatingsView>> {
    let period = period_param(&period_s)?;
    let (employee, rel) = relation(st, c, &region, &nip_s).await?;
    allow(who.contains(&rel), rel, what)?;
    write(st, c, (employee, rel), period, part, ratings).await
}

/// Write the supervisor's ratings of an employee: the supervisor in the organisation chart
/// (or the agency, entering centrally).
#[utoipa::path(put, path = "/api/v1/regions/{region}/employees/{nip}/periods/{period}/ratings/supervisor", tag = "ratings",
    params(RegionParam, NipParam, PeriodParam), request_body = Ratings,
    responses((status = 200, body = RatingsView), Errors), security(("bearer" = [])))]
async fn put_supervisor(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s, period_s)): P<(String, String, String)>,
    JsonBody(ratings): JsonBody<Ratings>,
) -> ApiResult<Json<RatingsView>> {
    let who = [Relation::Supervisor, Relation::Central];
    let what = "only the employee's supervisor writes the supervisor's ratings";
    let path = (region, nip_s, period_s);
    put_part(&st, &c, path, Part::Supervisor, (&who, what), ratings).await
}

/// Write a peer's ratings of an employee: the assigned peer `{rater}` themselves (or the
/// agency, entering centrally).
#[utoipa::path(put, path = "/api/v1/regions/{region}/employees/{nip}/periods/{period}/ratings/peers/{rater}", tag = "ratings",
    params(RegionParam, NipParam, PeriodParam, ("rater" = String, Path, description = "the peer's NIP")),
    request_body = Ratings,
    responses((status = 200, body = RatingsView), Errors), security(("bearer" = [])))]
async fn put_peer(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s, period_s, rater_s)): P<(String, String, String, String)>,
    JsonBody(ratings): JsonBody<Ratings>,
) -> ApiResult<Json<RatingsView>> {
    let period = period_param(&period_s)?;
    let rater = nip_param("rater", &rater_s)?;
    let (employee, mut rel) = relation(&st, &c, &region, &nip_s).await?;
    if rel != Relation::Central {
        allow(
            c.scope.nip.as_deref() == Some(rater.as_str()),
            rel,
            "a peer writes only their own rating",
        )?;
        // Whether this employee is assigned is the relationship itself: 403, not 400.
        let (r, n) = (employee.region.clone(), employee.nip.clone());
        let raters = st
            .store
            .run(move |s| s.period_raters(&r, &n, period))
            .await?;
        allow(
            raters.peers_assigned.iter().any(|p| p == rater.as_str()),
            rel,
            "you are not assigned to rate this employee for this period",
        )?;
        // The answer is a peer's view, whatever else the rater is.
        rel = Relation::Other;
    }
    let part = Part::Peer(rater.as_str().into());
    write(&st, &c, (employee, rel), period, part, ratings).await
}

#[derive(Debug, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PeerAssignment {
    /// 1–5 NIPs of the region, not the employee rated.
    pub raters: Vec<String>,
}

/// Assign the peers who rate an employee for a period (1–5): the supervisor, or the agency.
/// Ratings of peers no longer assigned are dropped.
#[utoipa::path(put, path = "/api/v1/regions/{region}/employees/{nip}/periods/{period}/peers", tag = "ratings",
    params(RegionParam, NipParam, PeriodParam), request_body = PeerAssignment,
    responses((status = 200, body = RatingsView), Errors), security(("bearer" = [])))]
async fn put_peers(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s, period_s)): P<(String, String, String)>,
    JsonBody(input): JsonBody<PeerAssignment>,
) -> ApiResult<Json<RatingsView>> {
    let period = period_param(&period_s)?;
    let (employee, rel) = relation(&st, &c, &region, &nip_s).await?;
    allow(
        matches!(rel, Relation::Supervisor | Relation::Central),
        rel,
        "only the employee's supervisor assigns peer raters",
    )?;
    // The supervisor is never a peer, whoever assigns (the agency might name them). When the
    // supervisor assigns, `relation` has found them already: the caller.
    let supervisor = match rel {
        Relation::Supervisor => c.scope.nip.clone(),
        _ => {
            let emp = employee.clone();
            let sup = st.store.run(move |s| s.supervisor(&emp)).await?;
            sup.map(|s| s.nip)
        }
    };
    validate_peers(&input.raters, &employee.nip, supervisor.as_deref())?;
    let (r, n, actor) = (
        employee.region.clone(),
        employee.nip.clone(),
        c.token_id.clone(),
    );
    let raters = st
        .store
        .run(move |s| {
            let found = s.employees_named(&r, &input.raters)?;
            if let Some(i) = found.iter().position(Option::is_none) {
                return Err(FieldError::new(
                    format!("raters[{i}]"),
                    format!("no employee `{}` in the region", input.raters[i]),
                )
                .into());
            }
            s.update_raters(&r, &n, period, &actor, None, |raters| {
                raters.assign(input.raters);
                Ok(())
            })
        })
        .await?;
    Ok(Json(RatingsView::of(&raters, rel, c.scope.nip.as_deref())))
}

/// The raters' ratings of an employee for a period, as far as the caller may see them: the
/// employee sees their self-assessment, their supervisor's ratings and the peers' mean (once
/// every assigned peer, and at least two, rated; never who gave which); the supervisor also
/// who is assigned; a peer only their own rating; the agency and administrators everything.
#[utoipa::path(get, path = "/api/v1/regions/{region}/employees/{nip}/periods/{period}/ratings", tag = "ratings",
    params(RegionParam, NipParam, PeriodParam),
    responses((status = 200, body = RatingsView), Errors), security(("bearer" = [])))]
async fn get_ratings(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s, period_s)): P<(String, String, String)>,
) -> ApiResult<Json<RatingsView>> {
    let period = period_param(&period_s)?;
    let (employee, rel) = relation(&st, &c, &region, &nip_s).await?;
    let (r, n) = (employee.region.clone(), employee.nip.clone());
    let raters = st
        .store
        .run(move |s| s.period_raters(&r, &n, period))
        .await?;
    let me = c.scope.nip.as_deref();
    if rel == Relation::Other && !me.is_some_and(|m| raters.peers_assigned.iter().any(|p| p == m)) {
        return Err(ApiError::Forbidden(OUTSIDE.into()));
    }
    Ok(Json(RatingsView::of(&raters, rel, me)))
}

/// What one caller sees of the raters' ratings (fields they may not see are absent).
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct RatingsView {
    #[serde(rename = "self", skip_serializing_if = "Option::is_none")]
    pub self_rating: Option<Given>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supervisor: Option<Given>,
    /// The assigned peers' NIPs: the supervisor, the agency and administrators.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peers_assigned: Option<Vec<String>>,
    /// Each peer's rating by NIP: the agency and administrators only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peers: Option<BTreeMap<String, Given>>,
    /// How many peers are assigned.
    pub peers_assigned_count: usize,
    /// The peers' mean, once every assigned peer (and at least two) rated: over fewer it would
    /// name who gave which.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer_mean: Option<PeerMean>,
    /// A peer's own rating, as that peer sees it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mine: Option<Given>,
}

impl RatingsView {
    fn of(r: &Raters, rel: Relation, me: Option<&str>) -> RatingsView {
        // Only once every assigned peer has rated, and at least two: a mean over fewer, or one
        // that grows rater by rater, would tell who gave which.
        let mean = r
            .peer_mean()
            .filter(|m| m.raters >= 2 && m.raters == r.peers_assigned.len());
        let mine = me.and_then(|m| r.peers.get(m).cloned());
        let count = r.peers_assigned.len();
        match rel {
            Relation::Central => RatingsView {
                self_rating: r.self_rating.clone(),
                supervisor: r.supervisor.clone(),
                peers_assigned: Some(r.peers_assigned.clone()),
                peers: Some(r.peers.clone()),
                peers_assigned_count: count,
                peer_mean: r.peer_mean(),
                mine,
            },
            Relation::Own => RatingsView {
                self_rating: r.self_rating.clone(),
                supervisor: r.supervisor.clone(),
                peers_assigned_count: count,
                peer_mean: mean,
                ..Default::default()
            },
            Relation::Supervisor => RatingsView {
                self_rating: r.self_rating.clone(),
                supervisor: r.supervisor.clone(),
                peers_assigned: Some(r.peers_assigned.clone()),
                peers_assigned_count: count,
                peer_mean: mean,
                mine,
                ..Default::default()
            },
            Relation::Other => RatingsView {
                peers_assigned_count: count,
                mine,
                ..Default::default()
            },
        }
    }
}

//! Routes of the ASN records: agencies, positions, employees and period records.

use super::error::{ApiError, ApiResult};
use super::extract::{
    nip_param, period_param, AgencyParam, Caller, JsonBody, NipParam, PageQuery, PeriodParam,
    PositionIdParam, RegionParam, P, Q,
};
use super::{AppState, Errors};
use crate::domain::auth::Role;
use crate::domain::org::EmployeeView;
use crate::domain::records::*;
use crate::domain::{validate_id, FieldError};
use crate::store::{Page, StoreError};
use axum::extract::State;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_agencies))
        .routes(routes!(put_agency, get_agency))
        .routes(routes!(get_formasi))
        .routes(routes!(list_positions))
        .routes(routes!(put_position, get_position))
        .routes(routes!(list_employees))
        .routes(routes!(put_employee, get_employee))
        .routes(routes!(subordinates))
        .routes(routes!(list_periods))
        .routes(routes!(put_period, get_period))
}

/// List agencies of a region.
#[utoipa::path(get, path = "/api/v1/regions/{region}/agencies", tag = "records",
    params(RegionParam, PageQuery),
    responses((status = 200, body = Page<Agency>), Errors), security(("bearer" = [])))]
async fn list_agencies(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<Page<Agency>>> {
    let own = c.scope.agency_filter(&region, None)?;
    let (limit, cursor) = (q.limit()?, q.cursor()?.map(str::to_string));
    // An agency token sees its own agency only, on one page. That agency exists (checked
    // when the token was issued; agencies are never deleted), so one read, which also checks
    // the region, gives the page.
    if let Some(own) = own {
        let items = match cursor {
            Some(_) => Vec::new(),
            None => vec![st.store.read_now(|s| s.agency(&region, &own))?],
        };
        return Ok(Json(Page { items, next: None }));
    }
    Ok(Json(
        st.store
            .run(move |s| s.agencies(&region, cursor.as_deref(), limit))
            .await?,
    ))
}

/// Create or update an agency (OPD).
#[utoipa::path(put, path = "/api/v1/regions/{region}/agencies/{agency}", tag = "records",
    params(RegionParam, AgencyParam), request_body = AgencyInput,
    responses((status = 200, body = Agency), Errors), security(("bearer" = [])))]
async fn put_agency(
    State(st): State<AppState>,
    c: Caller,
    P((region, agency)): P<(String, String)>,
    JsonBody(input): JsonBody<AgencyInput>,
) -> ApiResult<Json<Agency>> {
    validate_id("agency", &agency)?;
    c.scope.require_region_admin(&region)?;
    input.validate()?;
    Ok(Json(
        st.store
            .run(move |s| s.upsert_agency(&region, &agency, input))
            .await?,
    ))
}

/// Read an agency.
#[utoipa::path(get, path = "/api/v1/regions/{region}/agencies/{agency}", tag = "records",
    params(RegionParam, AgencyParam),
    responses((status = 200, body = Agency), Errors), security(("bearer" = [])))]
async fn get_agency(
    State(st): State<AppState>,
    c: Caller,
    P((region, agency)): P<(String, String)>,
) -> ApiResult<Json<Agency>> {
    validate_id("agency", &agency)?;
    c.scope.require_agency(&region, &agency)?;
    Ok(Json(st.store.read_now(|s| s.agency(&region, &agency))?))
}

/// The agency's formasi: per position the staff needed (from its workload analysis, else its
/// capacity), held and the gap, with totals.
#[utoipa::path(get, path = "/api/v1/regions/{region}/agencies/{agency}/formasi", tag = "records",
    params(RegionParam, AgencyParam),
    responses((status = 200, body = Formasi), Errors), security(("bearer" = [])))]
async fn get_formasi(
    State(st): State<AppState>,
    c: Caller,
    P((region, agency)): P<(String, String)>,
) -> ApiResult<Json<Formasi>> {
    validate_id("agency", &agency)?;
    c.scope.require_agency(&region, &agency)?;
    Ok(Json(
        st.store.run(move |s| s.formasi(&region, &agency)).await?,
    ))
}

/// List positions with their holders and vacancies (filter `agency`).
#[utoipa::path(get, path = "/api/v1/regions/{region}/positions", tag = "records",
    params(RegionParam, PageQuery),
    responses((status = 200, body = Page<PositionView>), Errors), security(("bearer" = [])))]
async fn list_positions(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<Page<PositionView>>> {
    let agency = c.scope.agency_filter(&region, q.agency()?)?;
    let (limit, cursor) = (q.limit()?, q.cursor()?.map(str::to_string));
    Ok(Json(
        st.store
            .run(move |s| s.positions(&region, agency.as_deref(), cursor.as_deref(), limit))
            .await?,
    ))
}

/// Create or update a position (jabatan) with its competence standard and capacity.
#[utoipa::path(put, path = "/api/v1/regions/{region}/positions/{id}", tag = "records",
    params(RegionParam, PositionIdParam), request_body = PositionInput,
    responses((status = 200, body = Position), Errors), security(("bearer" = [])))]
async fn put_position(
    State(st): State<AppState>,
    c: Caller,
    P((region, id)): P<(String, String)>,
    JsonBody(input): JsonBody<PositionInput>,
) -> ApiResult<Json<Position>> {
    validate_id("id", &id)?;
    input.validate()?;
    c.scope.require_agency(&region, &input.agency)?;
    let (r, i) = (region.clone(), id.clone());
    if let Ok(old) = st.store.run(move |s| s.position(&r, &i)).await {
        c.scope.require_agency(&region, &old.position.agency)?;
    }
    Ok(Json(
        st.store
            .run(move |s| s.upsert_position(&region, &id, input))
            .await?,
    ))
}

/// Read a position with its current holders and vacancies.
#[utoipa::path(get, path = "/api/v1/regions/{region}/positions/{id}", tag = "records",
    params(RegionParam, PositionIdParam),
    responses((status = 200, body = PositionView), Errors), security(("bearer" = [])))]
async fn get_position(
    State(st): State<AppState>,
    c: Caller,
    P((region, id)): P<(String, String)>,
) -> ApiResult<Json<PositionView>> {
    c.scope.require_region(&region)?;
    validate_id("id", &id)?;
    let view = st.store.run(move |s| s.position(&region, &id)).await?;
    c.scope
        .require_agency(&view.position.region, &view.position.agency)?;
    Ok(Json(view))
}

/// List employees (filter `agency`; an agency token sees its own agency).
#[utoipa::path(get, path = "/api/v1/regions/{region}/employees", tag = "records",
    params(RegionParam, PageQuery),
    responses((status = 200, body = Page<Employee>), Errors), security(("bearer" = [])))]
async fn list_employees(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<Page<Employee>>> {
    let agency = c.scope.agency_filter(&region, q.agency()?)?;
    let (limit, cursor) = (q.limit()?, q.cursor()?.map(str::to_string));
    Ok(Json(
        st.store
            .run(move |s| s.employees(&region, agency.as_deref(), cursor.as_deref(), limit))
            .await?,
    ))
}

/// Create or update an employee; a new position moves the old one into the history.
#[utoipa::path(put, path = "/api/v1/regions/{region}/employees/{nip}", tag = "records",
    params(RegionParam, NipParam), request_body = EmployeeInput,
    responses((status = 200, body = Employee), Errors), security(("bearer" = [])))]
async fn put_employee(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s)): P<(String, String)>,
    JsonBody(input): JsonBody<EmployeeInput>,
) -> ApiResult<Json<Employee>> {
    let nip = nip_param("nip", &nip_s)?;
    input.validate(&nip)?;
    c.scope.require_agency(&region, &input.agency)?;
    let (r, n) = (region.clone(), nip.to_string());
    if let Ok(old) = st.store.run(move |s| s.employee(&r, &n)).await {
        // Refusing shows that the NIP is taken (a NIP is one person's, so that much cannot be
        // hidden from a token that may create employees), but not by which agency.
        c.scope.require_agency(&region, &old.agency).map_err(|_| {
            ApiError::Forbidden(
                "this NIP is another agency's employee; this token changes its own agency's only"
                    .into(),
            )
        })?;
    }
    if let Some(sup) = &input.supervisor_nip {
        // The supervisor's name and position show on the employee: a token names only one it
        // may read, and hears the same about one outside its scope as about no one.
        if !matches!(c.scope.role, Role::Admin | Role::RegionAdmin) {
            match readable_employee(&st, &c, &region, sup).await {
                Ok(_) => {}
                Err(ApiError::Forbidden(_)) => {
                    return Err(FieldError::new(
                        "supervisor_nip",
                        format!("no employee with NIP {sup} that this token may name"),
                    )
                    .into())
                }
                Err(e) => return Err(e),
            }
        }
    }
    let actor = c.token_id.clone();
    Ok(Json(
        st.store
            .run(move |s| s.upsert_employee(&region, nip.as_str(), input, Some(&actor)))
            .await?,
    ))
}

/// What an agency or employee token hears about an employee it may not read, the same whether
/// the NIP belongs to someone outside its scope or to no one: a 404 for the one and a 403 for
/// the other would let it probe which NIPs exist, and naming the other agency would tell where.
fn not_in_scope(c: &Caller) -> ApiError {
    ApiError::Forbidden(match (c.scope.role, c.scope.agency.as_deref()) {
        (Role::Agency, Some(a)) => format!(
            "agency `{a}` has no employee with this NIP; this token reads its own agency's employees only"
        ),
        _ => "an employee token may only read its own records".into(),
    })
}

/// The employee the caller may read. Admins and region admins, who may list every employee
/// anyway, get 404 for a NIP no one has; an agency or employee token gets the same 403 for it
/// as for an employee outside its scope (see [`not_in_scope`]).
pub(super) async fn readable_employee(
    st: &AppState,
    c: &Caller,
    region: &str,
    nip_s: &str,
) -> ApiResult<Employee> {
    let nip = nip_param("nip", nip_s)?;
    c.scope.require_region(region)?;
    let admin = matches!(c.scope.role, Role::Admin | Role::RegionAdmin);
    // An employee token's scope is one NIP: anything else is answered before any read.
    if c.scope.role == Role::Employee && c.scope.nip.as_deref() != Some(nip.as_str()) {
        return Err(not_in_scope(c));
    }
    let emp = match st.store.read_now(|s| s.employee(region, nip.as_str())) {
        Ok(emp) => emp,
        Err(StoreError::NotFound(_)) if !admin => return Err(not_in_scope(c)),
        Err(e) => return Err(e.into()),
    };
    c.scope
        .require_employee_read(region, &emp.agency, &emp.nip)
        .map_err(|_| not_in_scope(c))?;
    Ok(emp)
}

/// The employee the caller may read, where an employee token also reads the employees it
/// supervises (atasan langsung, in the chart or as named Plt): their record, periods,
/// appraisals and history, which a supervisor rates and gives feedback on. Writes keep
/// [`readable_employee`]: a supervisor reads a report but does not file it. Someone with no
/// standing gets the one refusal a NIP that does not exist gets.
pub(super) async fn viewable_employee(
    st: &AppState,
    c: &Caller,
    region: &str,
    nip_s: &str,
) -> ApiResult<Employee> {
    let me = match (c.scope.role, c.scope.nip.as_deref()) {
        (Role::Employee, Some(me)) if me != nip_s => me.to_string(),
        _ => return readable_employee(st, c, region, nip_s).await,
    };
    let nip = nip_param("nip", nip_s)?;
    c.scope.require_region(region)?;
    // The caller's own team is read whether or not the NIP exists, so that the time of a
    // refusal does not tell which NIPs do.
    let r = region.to_string();
    st.store
        .run(move |s| {
            let team = s.subordinates(&r, &me)?;
            Ok(team.into_iter().find(|e| e.nip == nip.as_str()))
        })
        .await?
        .ok_or_else(|| {
            ApiError::Forbidden(
                "an employee token may only read its own records and those of the employees it supervises"
                    .into(),
            )
        })
}

/// Read an employee with the position history and their supervisor (atasan langsung).
#[utoipa::path(get, path = "/api/v1/regions/{region}/employees/{nip}", tag = "records",
    params(RegionParam, NipParam),
    responses((status = 200, body = EmployeeView), Errors), security(("bearer" = [])))]
async fn get_employee(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s)): P<(String, String)>,
) -> ApiResult<Json<EmployeeView>> {
    let employee = viewable_employee(&st, &c, &region, &nip_s).await?;
    // Most reads answer in place; reading the chart takes a blocking hop.
    if !st.store.read_now(|s| s.may_have_supervisor(&employee))? {
        return Ok(Json(EmployeeView {
            employee,
            supervisor: None,
        }));
    }
    let (employee, supervisor) = st
        .store
        .run(move |s| {
            let sup = s.supervisor(&employee)?;
            Ok((employee, sup))
        })
        .await?;
    Ok(Json(EmployeeView {
        employee,
        supervisor,
    }))
}

/// The employee's direct reports: those whose supervisor they are, by NIP.
#[utoipa::path(get, path = "/api/v1/regions/{region}/employees/{nip}/subordinates", tag = "records",
    params(RegionParam, NipParam),
    responses((status = 200, body = Page<Employee>), Errors), security(("bearer" = [])))]
async fn subordinates(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s)): P<(String, String)>,
) -> ApiResult<Json<Page<Employee>>> {
    let nip = readable_employee(&st, &c, &region, &nip_s).await?.nip;
    let r = region.clone();
    let mut items = st.store.run(move |s| s.subordinates(&r, &nip)).await?;
    // A supervisor's reports may sit in other agencies (a post above several): an agency
    // token sees its own agency's only. An employee token asks for its own reports only,
    // and sees them: they are its team.
    if c.scope.role != Role::Employee {
        items.retain(|e| {
            c.scope
                .require_employee_read(&region, &e.agency, &e.nip)
                .is_ok()
        });
    }
    Ok(Json(Page { items, next: None }))
}

/// Create or replace the employee's record for a period (SKP, behaviour, innovations, …).
#[utoipa::path(put, path = "/api/v1/regions/{region}/employees/{nip}/periods/{period}", tag = "records",
    params(RegionParam, NipParam, PeriodParam),
    request_body = PeriodInput,
    responses((status = 200, body = PeriodRecord), Errors), security(("bearer" = [])))]
async fn put_period(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s, period_s)): P<(String, String, String)>,
    JsonBody(input): JsonBody<PeriodInput>,
) -> ApiResult<Json<PeriodRecord>> {
    let nip = nip_param("nip", &nip_s)?;
    let p = period_param(&period_s)?;
    input.validate(p)?;
    c.scope.require_region(&region)?;
    if c.scope.role == Role::Employee {
        return Err(ApiError::Forbidden(
            "an employee token cannot write period records".into(),
        ));
    }
    let emp = readable_employee(&st, &c, &region, nip.as_str()).await?;
    c.scope.require_agency(&region, &emp.agency)?;
    let actor = c.token_id.clone();
    Ok(Json(
        st.store
            .run(move |s| s.put_period(&region, nip.as_str(), p, input, Some(&actor)))
            .await?,
    ))
}

/// Read one period record.
#[utoipa::path(get, path = "/api/v1/regions/{region}/employees/{nip}/periods/{period}", tag = "records",
    params(RegionParam, NipParam, PeriodParam),
    responses((status = 200, body = PeriodRecord), Errors), security(("bearer" = [])))]
async fn get_period(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s, period_s)): P<(String, String, String)>,
) -> ApiResult<Json<PeriodRecord>> {
    let p = period_param(&period_s)?;
    let emp = viewable_employee(&st, &c, &region, &nip_s).await?;
    // A period record can be large (up to 200 indicators): read on a blocking thread.
    Ok(Json(
        st.store
            .run(move |s| s.period(&region, &emp.nip, p))
            .await?,
    ))
}

/// List the employee's period records.
#[utoipa::path(get, path = "/api/v1/regions/{region}/employees/{nip}/periods", tag = "records",
    params(RegionParam, NipParam, PageQuery),
    responses((status = 200, body = Page<PeriodRecord>), Errors), security(("bearer" = [])))]
async fn list_periods(
    State(st): State<AppState>,
    c: Caller,
    P((region, nip_s)): P<(String, String)>,
    Q(q): Q<PageQuery>,
) -> ApiResult<Json<Page<PeriodRecord>>> {
    let emp = viewable_employee(&st, &c, &region, &nip_s).await?;
    let (limit, cursor) = (q.limit()?, q.cursor()?.map(str::to_string));
    Ok(Json(
        st.store
            .run(move |s| s.periods(&region, &emp.nip, cursor.as_deref(), limit))
            .await?,
    ))
}

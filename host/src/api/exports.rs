//! CSV exports of an agency: the appraisal recap of a period and the daily reports of a date
//! range, streamed (an agency of thousands is written page by page as it is read) with a
//! `Content-Disposition` naming the file. The agency's own token, the region admin and admins.

use super::error::{ApiError, ApiResult};
use super::extract::{period_param, AgencyParam, Caller, RegionParam, P, Q};
use super::{AppState, Errors};
use crate::domain::date::Date;
use crate::domain::period::Period;
use crate::store::{ActivityQuery, Store, StoreError};
use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::sync::Arc;
use utoipa::IntoParams;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(appraisals_csv))
        .routes(routes!(activities_csv))
}

/// Employees per chunk of the appraisal recap (a row each).
const PAGE: usize = 500;
/// Employees per chunk of the reports export (every report of the range each, up to a year's):
/// smaller, so that a chunk stays a few MB at most.
const REPORTS_PAGE: usize = 20;
/// The longest range of a reports export.
const MAX_DAYS: i64 = 366;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PeriodQuery {
    /// `YYYY`, `YYYY-Qn` or `YYYY-MM`.
    pub period: String,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeQuery {
    /// First date, inclusive.
    #[param(value_type = String, format = Date)]
    pub from: String,
    /// Last date, inclusive; the range is at most 366 days, both ends counted.
    #[param(value_type = String, format = Date)]
    pub to: String,
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, or a tab or return first)
/// is written with a leading apostrophe: names and descriptions are typed by people.
fn cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// The recap of `period` for the agency: one row per employee (by NIP) with their newest stored
/// appraisal of exactly that period, or blank result columns when they have none.
#[utoipa::path(get, path = "/api/v1/regions/{region}/agencies/{agency}/appraisals.csv", tag = "evaluation",
    params(RegionParam, AgencyParam, PeriodQuery),
    responses((status = 200, content_type = "text/csv", body = String), Errors), security(("bearer" = [])))]
async fn appraisals_csv(
    State(st): State<AppState>,
    c: Caller,
    P((region, agency)): P<(String, String)>,
    Q(q): Q<PeriodQuery>,
) -> ApiResult<Response> {
    c.scope.require_agency(&region, &agency)?;
    let period = period_param(&q.period)?;
    let (r, a) = (region.clone(), agency.clone());
    st.store.run(move |s| s.agency(&r, &a)).await?;
    let name = format!("penilaian-{region}-{agency}-{period}.csv");
    let header = [
        "nip",
        "nama",
        "jabatan",
        "hasil_kerja",
        "perilaku_kerja",
        "predikat",
        "skor",
        "tpp_persen",
        "decision_id",
    ];
    Ok(stream(&st.store, name, &header, move |s, cursor, w| {
        recap_page(s, (&region, &agency, period), cursor, w)
    }))
}

/// One page of the recap written to `w`; answers the next cursor.
fn recap_page(
    s: &Store,
    (region, agency, period): (&str, &str, Period),
    cursor: Option<String>,
    w: &mut csv::Writer<Vec<u8>>,
) -> Result<Option<String>, String> {
    #[derive(Deserialize, Default)]
    struct Out {
        hasil_kerja: Option<String>,
        perilaku_kerja: Option<String>,
        predikat: Option<String>,
        score: Option<f64>,
        tpp_percent: Option<f64>,
    }
    let page = s
        .employees(region, Some(agency), cursor.as_deref(), PAGE)
        .map_err(|e| e.to_string())?;
    let nips: Vec<String> = page.items.iter().map(|e| e.nip.clone()).collect();
    let found = s
        .appraisals_for_period(region, &nips, period)
        .map_err(|e| e.to_string())?;
    for (e, d) in page.items.iter().zip(found) {
        let out: Out = d
            .as_ref()
            .and_then(|d| serde_json::from_str(d.output.get()).ok())
            .unwrap_or_default();
        let num = |v: Option<f64>| v.map(|x| x.to_string()).unwrap_or_default();
        w.write_record([
            e.nip.clone(),
            cell(&e.name),
            cell(&e.position_id),
            out.hasil_kerja.unwrap_or_default(),
            out.perilaku_kerja.unwrap_or_default(),
            out.predikat.unwrap_or_default(),
            num(out.score),
            num(out.tpp_percent),
            d.map(|d| d.id).unwrap_or_default(),
        ])
        .map_err(|e| e.to_string())?;
    }
    Ok(page.next)
}

/// The agency's daily reports dated `from`–`to`: one row per report, by employee (NIP) and
/// date, with its state.
#[utoipa::path(get, path = "/api/v1/regions/{region}/agencies/{agency}/activities.csv", tag = "records",
    params(RegionParam, AgencyParam, RangeQuery),
    responses((status = 200, content_type = "text/csv", body = String), Errors), security(("bearer" = [])))]
async fn activities_csv(
    State(st): State<AppState>,
    c: Caller,
    P((region, agency)): P<(String, String)>,
    Q(q): Q<RangeQuery>,
) -> ApiResult<Response> {
    c.scope.require_agency(&region, &agency)?;
    let date = |f: &str, v: &str| {
        v.parse::<Date>()
            .map_err(|e| ApiError::BadRequest(format!("{f}: {e}")))
    };
    let (from, to) = (date("from", &q.from)?, date("to", &q.to)?);
    if to < from || to.to_days() - from.to_days() >= MAX_DAYS {
        return Err(ApiError::BadRequest(format!(
            "to: must be on or after `from`, the range at most {MAX_DAYS} days (both ends counted)"
        )));
    }
    let (r, a) = (region.clone(), agency.clone());
    st.store.run(move |s| s.agency(&r, &a)).await?;
    let name = format!("laporan-harian-{region}-{agency}-{from}-{to}.csv");
    let header = ["nip", "nama", "id", "tanggal", "menit", "status", "uraian"];
    Ok(stream(&st.store, name, &header, move |s, cursor, w| {
        let page = s
            .employees(&region, Some(&agency), cursor.as_deref(), REPORTS_PAGE)
            .map_err(|e| e.to_string())?;
        for e in &page.items {
            let mut q = ActivityQuery {
                from: Some(from),
                to: Some(to),
                limit: 1000,
                ..Default::default()
            };
            loop {
                let reports = s
                    .activities(&region, &e.nip, &q)
                    .map_err(|e| e.to_string())?;
                for a in &reports.items {
                    w.write_record([
                        e.nip.clone(),
                        cell(&e.name),
                        a.id.to_string(),
                        a.date.to_string(),
                        a.minutes.to_string(),
                        a.state.as_str().to_string(),
                        cell(&a.description),
                    ])
                    .map_err(|e| e.to_string())?;
                }
                match reports.next {
                    Some(next) => q.cursor = Some(next),
                    None => break,
                }
            }
        }
        Ok(page.next)
    }))
}

/// Writes one page of an export to the writer and answers the next cursor.
type PageFn = dyn Fn(&Store, Option<String>, &mut csv::Writer<Vec<u8>>) -> Result<Option<String>, String>
    + Send
    + Sync;

/// A CSV download named `name`: `header`, then the pages `page` writes (each answering the
/// next cursor). Each page is read on a blocking thread only when the client has taken the one
/// before, so a slow reader holds no thread and at most one page in memory; a failure midway
/// ends the body with an error (the client sees a broken download, not a short file) and is
/// logged.
fn stream(
    store: &Arc<Store>,
    name: String,
    header: &[&str],
    page: impl Fn(&Store, Option<String>, &mut csv::Writer<Vec<u8>>) -> Result<Option<String>, String>
        + Send
        + Sync
        + 'static,
) -> Response {
    let page: Arc<PageFn> = Arc::new(page);
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    // `None` cursor with `more`: the first page is next; `more` false: done.
    let start = (Arc::clone(store), page, Some(header), None::<String>, true);
    let body =
        futures::stream::try_unfold(start, |(store, page, header, cursor, more)| async move {
            if !more {
                return Ok(None);
            }
            let (p, h, c) = (Arc::clone(&page), header.clone(), cursor.clone());
            let read = store
                .run(move |s| {
                    let mut w = csv::Writer::from_writer(Vec::new());
                    let fail = |e: String| StoreError::Fault(format!("CSV export: {e}"));
                    if let Some(h) = &h {
                        w.write_record(h).map_err(|e| fail(e.to_string()))?;
                    }
                    let next = p(s, c, &mut w).map_err(fail)?;
                    let bytes = w.into_inner().map_err(|e| fail(e.to_string()))?;
                    Ok((bytes, next))
                })
                .await;
            match read {
                Ok((bytes, next)) => {
                    let more = next.is_some();
                    Ok(Some((bytes, (store, page, None, next, more))))
                }
                Err(e) => {
                    tracing::error!(error = %e, "CSV export stopped midway");
                    Err(std::io::Error::other(e.to_string()))
                }
            }
        });
    (
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(body),
    )
        .into_response()
}

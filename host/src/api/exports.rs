//! CSV exports of an agency: the appraisal recap of a period and the daily reports of a date
//! range, streamed (an agency of thousands is written page by page as it is read) with a
//! `Content-Disposition` naming the file. The agency's own token, the region admin and admins.

use super::error::{ApiError, ApiResult};
use super::extract::{period_param, AgencyParam, Caller, RegionParam, P, Q};
use super::{AppState, Errors};
use crate::domain::date::Date;
use crate::domain::period::Period;
use crate::store::{ActivityQuery, Store};
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

/// Employees written per chunk of the stream.
const PAGE: usize = 500;
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
    /// Last date, inclusive; at most 366 days after `from`.
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
            "to: must be on or after `from` and at most {MAX_DAYS} days from it"
        )));
    }
    let (r, a) = (region.clone(), agency.clone());
    st.store.run(move |s| s.agency(&r, &a)).await?;
    let name = format!("laporan-harian-{region}-{agency}-{from}-{to}.csv");
    let header = ["nip", "nama", "id", "tanggal", "menit", "status", "uraian"];
    Ok(stream(&st.store, name, &header, move |s, cursor, w| {
        let page = s
            .employees(&region, Some(&agency), cursor.as_deref(), PAGE)
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

/// A CSV download named `name`: `header`, then the pages `page` writes (each answering the
/// next cursor), produced on a blocking thread and sent as they are made. A failure midway
/// ends the file early (the status was sent already) and is logged.
fn stream(
    store: &Arc<Store>,
    name: String,
    header: &[&str],
    page: impl Fn(&Store, Option<String>, &mut csv::Writer<Vec<u8>>) -> Result<Option<String>, String>
        + Send
        + 'static,
) -> Response {
    let (tx, rx) = tokio::sync::mpsc::channel::<Vec<u8>>(4);
    let store = Arc::clone(store);
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let mut cursor = None;
        let mut first = true;
        loop {
            let mut w = csv::Writer::from_writer(Vec::new());
            if first {
                if let Err(e) = w.write_record(&header) {
                    tracing::error!(error = %e, "CSV export failed");
                    return;
                }
                first = false;
            }
            let next = match page(&store, cursor.take(), &mut w) {
                Ok(next) => next,
                Err(e) => {
                    tracing::error!(error = %e, "CSV export stopped early");
                    return;
                }
            };
            let bytes = match w.into_inner() {
                Ok(b) => b,
                Err(e) => {
                    tracing::error!(error = %e, "CSV export failed");
                    return;
                }
            };
            // The client went away: stop reading.
            if tx.blocking_send(bytes).is_err() {
                return;
            }
            match next {
                Some(n) => cursor = Some(n),
                None => return,
            }
        }
    });
    let body = futures::stream::unfold(rx, |mut rx| async move {
        rx.recv()
            .await
            .map(|chunk| (Ok::<_, std::io::Error>(chunk), rx))
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

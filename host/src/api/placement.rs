//! A region moving between the nodes of a cluster (issue 26), and the gate that keeps a node
//! to its own regions. `kinerja region move` drives a move: the source pauses the region's
//! writes and sends a snapshot of its file to the target (`…/move`), which checks and opens it
//! (`…/file`); once the proxy routes the region to the target, the source lets go of it
//! (`…/release`), or, should anything fail before, takes its writes back (`…/resume`).

use super::error::{ApiError, ApiResult};
use super::extract::{Caller, JsonBody, RegionParam, P};
use super::{AppState, Errors};
use crate::domain::auth::Role;
use crate::store::backup::{BackupError, Manifest};
use crate::store::StoreError;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(move_region))
        .routes(routes!(resume))
        .routes(routes!(release))
        .routes(routes!(install))
}

/// The header carrying the SHA-256 of a region file sent to `…/file`.
pub const SHA256_HEADER: &str = "x-kinerja-sha256";

/// Whether `path` is one of the routes that take as long as a region's file does (exempt from
/// the request timeout).
pub(super) fn is_transfer(path: &str) -> bool {
    path.starts_with("/api/v1/regions/") && (path.ends_with("/move") || path.ends_with("/file"))
}

fn admin_only(c: &Caller) -> ApiResult<()> {
    if c.scope.role == Role::Admin {
        Ok(())
    } else {
        Err(ApiError::Forbidden(
            "moving a region between nodes is for admins".into(),
        ))
    }
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MoveInput {
    /// The target node's base URL, `http://host:port`.
    pub to: String,
}

#[derive(Serialize, ToSchema)]
pub struct MoveAnswer {
    pub to: String,
    /// The region file's manifest, as both nodes found it.
    #[schema(value_type = Object)]
    pub manifest: Manifest,
}

/// Send the region's file to another node (admin): its writes are paused (503 with
/// `Retry-After`; reads go on) and stay paused until `release` or `resume`; a snapshot of its
/// file goes to the target's `…/file` with its SHA-256, and the target's digests of every
/// table must be the snapshot's. On any failure the writes resume here.
#[utoipa::path(post, path = "/api/v1/regions/{region}/move", tag = "regions",
    params(RegionParam), request_body = MoveInput,
    responses((status = 200, body = MoveAnswer), Errors), security(("bearer" = [])))]
async fn move_region(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
    headers: HeaderMap,
    JsonBody(input): JsonBody<MoveInput>,
) -> ApiResult<Json<MoveAnswer>> {
    admin_only(&c)?;
    let to = input.to.trim_end_matches('/').to_string();
    if !to.starts_with("http://") || to.len() > 200 {
        return Err(ApiError::BadRequest(
            "to: the target node's base URL, http://host:port".into(),
        ));
    }
    if !st.config.peers.iter().any(|p| to == format!("http://{p}")) {
        return Err(ApiError::BadRequest(format!(
            "to: `{to}` is not one of this node's peers (--peers): a region's file and the \
             caller's credentials go only to a node of the cluster"
        )));
    }
    // The target takes the same admin credentials (provisioned to every node).
    let auth = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    // On a task of its own: a client gone mid-move does not cut it short between the pause
    // and the resume that a failure owes.
    let task = tokio::spawn(async move {
        let r = region.clone();
        // Refused (409) when a move holds the pause already; taken back after a timeout.
        st.store.run(move |s| s.pause_region(&r)).await?;
        match send(&st, &region, &to, auth).await {
            Ok(manifest) => {
                tracing::info!(%region, %to, "sent the region's file");
                Ok(Json(MoveAnswer { to, manifest }))
            }
            Err(e) => {
                let r = region.clone();
                if let Err(again) = st.store.run(move |s| s.resume_region(&r)).await {
                    tracing::error!(%region, error = %again, "could not resume the region's writes");
                }
                Err(e)
            }
        }
    });
    task.await
        .map_err(|e| ApiError::Internal(format!("the move's task failed: {e}")))?
}

/// The snapshot of `region` sent to `to`, checked by both sides; its manifest.
async fn send(st: &AppState, region: &str, to: &str, auth: String) -> ApiResult<Manifest> {
    let dir = tempfile::Builder::new()
        .prefix(super::backup::BACKUP_DIR_PREFIX)
        .tempdir_in(st.store.dir())
        .map_err(|e| ApiError::Internal(format!("cannot make a directory for the copy: {e}")))?;
    let file = dir.path().join("region.redb");
    let (r, f) = (region.to_string(), file.clone());
    let manifest = st
        .store
        .run(move |s| s.backup_region_to(&r, &f).map_err(BackupError::into_store))
        .await?;
    let url = format!("{to}/api/v1/regions/{region}/file");
    let answer = tokio::task::spawn_blocking(move || -> Result<(u16, String), String> {
        let sha = sha256_of(&file).map_err(|e| format!("cannot read the copy: {e}"))?;
        let body = std::fs::File::open(&file).map_err(|e| format!("cannot read the copy: {e}"))?;
        // Straight to the peer: the region's file and the mover's token go through no proxy.
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .connect_timeout(std::time::Duration::from_secs(5))
            .timeout(std::time::Duration::from_secs(600))
            .build()
            .map_err(|e| e.to_string())?;
        let r = http
            .put(&url)
            .header(header::AUTHORIZATION, auth)
            .header(SHA256_HEADER, sha)
            .header(header::CONTENT_TYPE, "application/octet-stream")
            .body(reqwest::blocking::Body::new(body))
            .send()
            .map_err(|e| format!("PUT {url}: {e}"))?;
        Ok((r.status().as_u16(), r.text().unwrap_or_default()))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    drop(dir);
    let (status, text) = answer.map_err(ApiError::Upstream)?;
    if status != 201 {
        return Err(ApiError::Upstream(format!(
            "the target refused the region's file: HTTP {status}: {text}"
        )));
    }
    let theirs: Manifest = serde_json::from_str(&text)
        .map_err(|e| ApiError::Upstream(format!("the target's answer does not read: {e}")))?;
    if theirs.tables != manifest.tables {
        return Err(ApiError::Upstream(
            "the target's digests of the region's tables differ from the source's".into(),
        ));
    }
    Ok(manifest)
}

fn sha256_of(path: &std::path::Path) -> std::io::Result<String> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h)?;
    Ok(hex::encode(h.finalize()))
}

/// Take the region's writes back after a `move` that did not complete (admin).
#[utoipa::path(post, path = "/api/v1/regions/{region}/resume", tag = "regions",
    params(RegionParam), responses((status = 204), Errors), security(("bearer" = [])))]
async fn resume(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
) -> ApiResult<StatusCode> {
    admin_only(&c)?;
    st.store.run(move |s| s.resume_region(&region)).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Released {
    /// Where the region's file is kept on this node until the operator removes it.
    pub kept: String,
}

/// Let go of the region (admin): no longer served by this node (421 in a cluster), out of its
/// registry, its file kept aside.
#[utoipa::path(post, path = "/api/v1/regions/{region}/release", tag = "regions",
    params(RegionParam), responses((status = 200, body = Released), Errors),
    security(("bearer" = [])))]
async fn release(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
) -> ApiResult<Json<Released>> {
    admin_only(&c)?;
    let kept = st.store.run(move |s| s.release_region(&region)).await?;
    Ok(Json(Released {
        kept: kept.display().to_string(),
    }))
}

/// Take in a region's file sent by another node (admin): the body is the file, the
/// `x-kinerja-sha256` header its SHA-256. Checked whole (the SHA-256, redb's integrity check,
/// every table against the manifest it carries) before it is served; answers that manifest.
#[utoipa::path(put, path = "/api/v1/regions/{region}/file", tag = "regions",
    params(RegionParam), request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = Object), Errors), security(("bearer" = [])))]
async fn install(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<Manifest>)> {
    admin_only(&c)?;
    crate::domain::region::validate_region_id(&region)?;
    let want = headers
        .get(SHA256_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_ascii_lowercase)
        .ok_or_else(|| {
            ApiError::BadRequest(format!("{SHA256_HEADER}: the SHA-256 of the file, in hex"))
        })?;
    if st.store.holds(&region) {
        return Err(ApiError::Conflict {
            code: "conflict",
            message: format!("region `{region}` is held here already"),
        });
    }
    // A name of its own per request: two sends of one region at once do not share a file.
    let nanos = crate::domain::nanos_now();
    let staged = st.store.incoming_file(&region, nanos);
    let received = receive(body, &staged).await;
    let sha = match received {
        Ok(sha) => sha,
        Err(e) => {
            let _ = tokio::fs::remove_file(&staged).await;
            return Err(e);
        }
    };
    if sha != want {
        let _ = tokio::fs::remove_file(&staged).await;
        return Err(ApiError::BadRequest(format!(
            "{SHA256_HEADER}: the file received has SHA-256 {sha}, not {want}"
        )));
    }
    let (r, s2) = (region.clone(), staged.clone());
    let installed = st
        .store
        .run(move |s| {
            s.install_region(&r, &s2).map_err(|e| match e {
                BackupError::Store(e) => e,
                // The server's own disk: its fault, not the sender's.
                e @ BackupError::Io { .. } => StoreError::Fault(e.to_string()),
                e => StoreError::Invalid(crate::domain::FieldError::new("file", e.to_string())),
            })
        })
        .await;
    if installed.is_err() {
        let _ = tokio::fs::remove_file(&staged).await;
    }
    let manifest = installed?;
    load_modules(&st, region).await?;
    Ok((StatusCode::CREATED, Json(manifest)))
}

/// Loads the modules of a region just taken in that this node's runtime does not hold yet
/// (a node that never had them has them in no compiled cache either).
async fn load_modules(st: &AppState, region: String) -> ApiResult<()> {
    let modules = st
        .store
        .run(move |s| s.region_plugin_bytes(&region))
        .await?;
    let rt = st.runtime();
    tokio::task::spawn_blocking(move || {
        for (id, bytes) in modules {
            if rt.is_loaded(&id) {
                continue;
            }
            if let Err(e) = rt.load(&bytes) {
                // As at start: a module the runtime no longer takes must not refuse the region.
                tracing::error!(plugin = %id, error = %e, "a module of the region failed to load");
            }
        }
    })
    .await
    .map_err(|e| ApiError::Internal(format!("loading the region's modules failed: {e}")))
}

/// Writes `body` to `path`; answers its SHA-256.
async fn receive(body: Body, path: &std::path::Path) -> ApiResult<String> {
    let fault =
        |e: std::io::Error| ApiError::Internal(format!("cannot write {}: {e}", path.display()));
    let mut f = tokio::fs::File::create(path).await.map_err(fault)?;
    let mut h = Sha256::new();
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk
            .map_err(|e| ApiError::BadRequest(format!("the file did not arrive whole: {e}")))?;
        h.update(&chunk);
        f.write_all(&chunk).await.map_err(fault)?;
    }
    f.sync_all().await.map_err(fault)?;
    Ok(hex::encode(h.finalize()))
}

/// The region a path is under (`/api/v1/regions/{region}…`), if it names one.
fn region_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/v1/regions/")?;
    let region = rest.split('/').next()?;
    // An escaped id (`jamb%69`) is refused by the handlers' own check only after decoding:
    // the gate treats it as the region it names by refusing escapes there (see `region_gate`).
    crate::domain::region::validate_region_id(region)
        .is_ok()
        .then_some(region)
}

/// Counts each request under a region's prefix that this node holds (so `/metrics` shows what
/// reached which node); on a node of a cluster (`--node`), answers 421 for a region it does
/// not hold, naming it, so that a stale proxy map can never write to the wrong node. Creating
/// a region, and taking in a region's file, are the two ways a region comes to a node.
pub(super) async fn region_gate(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(segment) = req
        .uri()
        .path()
        .strip_prefix("/api/v1/regions/")
        .and_then(|rest| rest.split('/').next())
    {
        // A region id is a slug: an escaped one would pass here as unknown and reach the
        // handler decoded, a region this node may not hold.
        if segment.contains('%') {
            return ApiError::BadRequest(
                "region: an id is lowercase letters, digits and hyphens, not escaped".into(),
            )
            .into_response();
        }
    }
    if let Some(region) = region_of(req.uri().path()) {
        if st.store.holds(region) {
            metrics::counter!(crate::telemetry::REGION_REQUESTS, "region" => region.to_string())
                .increment(1);
        } else if let Some(node) = &st.config.node {
            let path = req.uri().path();
            let arriving = req.method() == Method::PUT
                && (path == format!("/api/v1/regions/{region}")
                    || path == format!("/api/v1/regions/{region}/file"));
            if !arriving {
                let _ = node;
                return ApiError::Misdirected(format!(
                    "region `{region}` is not held by this node: ask the proxy, whose map says \
                     where it is"
                ))
                .into_response();
            }
        }
    }
    next.run(req).await
}

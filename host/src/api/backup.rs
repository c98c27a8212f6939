//! A region's snapshot over HTTP, for an operator without a shell on the server's machine:
//! the same file `kinerja backup --region` writes (its manifest inside), which `kinerja
//! restore` takes.

use super::error::{ApiError, ApiResult};
use super::extract::Caller;
use super::extract::RegionParam;
use super::extract::P;
use super::{AppState, Errors};
use crate::domain::auth::Role;
use crate::store::backup::BackupError;
use axum::body::Body;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use tokio::io::AsyncReadExt;
use utoipa_axum::{router::OpenApiRouter, routes};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(backup))
}

/// Whether `path` is this route's (exempt from the request timeout).
pub(super) fn is_backup(path: &str) -> bool {
    path.starts_with("/api/v1/regions/") && path.ends_with("/backup")
}

/// The snapshot's name in its directory.
const FILE: &str = "region.redb";

/// Bytes read from the snapshot per chunk of the answer.
const CHUNK: usize = 256 * 1024;

/// How the directories of backups being streamed are named in the data dir; any left by a
/// server that stopped mid-stream are removed at the next start (`server`).
pub const BACKUP_DIR_PREFIX: &str = ".backup-";

/// Whether a backup is being taken over HTTP.
static TAKING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// The one backup being taken; let go of once its stream ends (or is dropped), with its copy.
struct OneBackup;

impl OneBackup {
    fn take() -> Option<OneBackup> {
        use std::sync::atomic::Ordering;
        TAKING
            .compare_exchange(false, true, Ordering::AcqRel, Ordering::Acquire)
            .ok()
            .map(|_| OneBackup)
    }
}

impl Drop for OneBackup {
    fn drop(&mut self) {
        TAKING.store(false, std::sync::atomic::Ordering::Release);
    }
}

/// A consistent snapshot of a region's file (admin), streamed as a redb file that carries its
/// manifest (per-table rows and digests, the commit point); `kinerja restore` checks and
/// restores it. Taken in one read transaction, so writes go on while it is written.
#[utoipa::path(get, path = "/api/v1/regions/{region}/backup", tag = "service", params(RegionParam),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>), Errors),
    security(("bearer" = [])))]
async fn backup(
    State(st): State<AppState>,
    c: Caller,
    P(region): P<String>,
) -> ApiResult<Response> {
    if c.scope.role != Role::Admin {
        return Err(ApiError::Forbidden(
            "a backup of a region's file is for admins".into(),
        ));
    }
    st.store.read_now(|s| s.require_region(&region))?;
    // One at a time: each writes a copy of a region's file beside it.
    let Some(one) = OneBackup::take() else {
        return Err(ApiError::Busy(
            "a backup is being taken; try again when it is done".into(),
        ));
    };
    // Beside the database, so on its file system; the directory goes with the stream (removed
    // once the answer is sent or dropped), and is owned by the blocking task while the
    // snapshot is written, so a client gone meanwhile does not remove it under the writer.
    let near = st.store.dir().to_path_buf();
    let dir = tempfile::Builder::new()
        .prefix(BACKUP_DIR_PREFIX)
        .tempdir_in(&near)
        .map_err(|e| ApiError::Internal(format!("cannot make a backup's directory: {e}")))?;
    let actor = c.token_id.clone();
    let r = region.clone();
    // The guard goes with the work: a client gone (or the handler dropped) while the snapshot
    // is written does not let a second one start beside it.
    let (dir, manifest, one) = st
        .store
        .run(move |s| {
            let manifest = s
                .backup_region_to(&r, &dir.path().join(FILE))
                .map_err(BackupError::into_store)?;
            s.record_backup(&actor, &r, &manifest)?;
            Ok((dir, manifest, one))
        })
        .await?;
    let file = dir.path().join(FILE);
    let opened = tokio::fs::File::open(&file)
        .await
        .map_err(|e| ApiError::Internal(format!("cannot read the backup: {e}")))?;
    let len = opened.metadata().await.map(|m| m.len()).unwrap_or(0);
    tracing::info!(bytes = len, region = %region, "backup streamed");
    // The state ends (None) after the file's end or its first read error; the directory and
    // the one-backup guard go with it.
    let chunks = futures::stream::unfold(
        Some((opened, dir, vec![0u8; CHUNK], one)),
        |state| async move {
            let (mut f, dir, mut buf, one) = state?;
            match f.read(&mut buf).await {
                Ok(0) => None,
                Ok(n) => {
                    let chunk = axum::body::Bytes::copy_from_slice(&buf[..n]);
                    Some((Ok::<_, std::io::Error>(chunk), Some((f, dir, buf, one))))
                }
                Err(e) => Some((Err(e), None)),
            }
        },
    );
    let name = format!(
        "attachment; filename=\"{region}-{}.redb\"",
        manifest.created_at.replace(':', "")
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_string()),
            (header::CONTENT_LENGTH, len.to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        Body::from_stream(chunks),
    )
        .into_response())
}

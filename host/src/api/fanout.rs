//! An admin's list of regions over a cluster.
//!
//! A proxy sends the routes that name no region to the admin node, which holds only some of
//! the regions. So a node with `--peers` answers an admin's `GET /api/v1/regions` with its own
//! regions and its peers', each peer asked with [`NODE_ONLY`] (its own regions alone, so the
//! question is never passed on), merged in id order under the same cursor. A peer that does
//! not answer makes the list a 502 naming it: an incomplete list of a country's regions,
//! shown as if whole, would be worse than none.

use super::error::{ApiError, ApiResult};
use super::AppState;
use crate::domain::region::Region;
use crate::store::Page;
use axum::http::{header, HeaderMap};
use std::time::Duration;

/// A request header asking a node for its own regions only (any value).
pub const NODE_ONLY: &str = "x-kinerja-node-only";

/// How long a peer may take to connect, and to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// How long an idle connection to a peer is kept: under a node's own idle timeout (60 s by
/// default), so a list never goes out on a connection the peer is closing.
const IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// The client nodes ask their peers with: straight to them, never through a proxy from the
/// environment (the admin's token goes with the question).
pub fn client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(ANSWER_TIMEOUT)
        .pool_idle_timeout(IDLE_TIMEOUT)
        .no_proxy()
        .build()
}

/// Whether this request's list takes in the peers' regions.
pub(super) fn across_peers(st: &AppState, headers: &HeaderMap) -> bool {
    !st.config.peers.is_empty() && !headers.contains_key(NODE_ONLY)
}

/// `own` (this node's page) merged with the same page of every peer, asked with the caller's
/// credentials (admin tokens are provisioned to every node).
pub(super) async fn regions_page(
    st: &AppState,
    headers: &HeaderMap,
    own: Page<Region>,
    cursor: Option<&str>,
    limit: usize,
) -> ApiResult<Page<Region>> {
    let auth = headers
        .get(header::AUTHORIZATION)
        .cloned()
        .ok_or_else(|| ApiError::Unauthorized("no bearer token".into()))?;
    let limit_text = limit.to_string();
    let query: Vec<(&str, &str)> = std::iter::once(("limit", limit_text.as_str()))
        .chain(cursor.map(|c| ("cursor", c)))
        .collect();
    // The same list on every node names this one too; it has answered already.
    let others = st.config.peers.iter().filter(|p| **p != st.config.listen);
    let asks = others.map(|peer| {
        let request = st
            .peers
            .get(format!("http://{peer}/api/v1/regions"))
            .query(&query)
            .header(header::AUTHORIZATION, auth.clone())
            .header(NODE_ONLY, "1");
        async move { (peer, ask(request).await) }
    });
    let mut pages = vec![own];
    for (peer, answer) in futures::future::join_all(asks).await {
        pages.push(answer.map_err(|e| {
            ApiError::Upstream(format!(
                "node {peer} (--peers) did not list its regions: {e}; the list would be \
                 incomplete (each node lists its own with the header {NODE_ONLY})"
            ))
        })?);
    }
    Ok(merge(pages, limit))
}

async fn ask(request: reqwest::RequestBuilder) -> Result<Page<Region>, String> {
    let answer = request.send().await.map_err(|e| e.to_string())?;
    let status = answer.status();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        // An admin token issued through one node's API is that node's alone.
        return Err(
            "it does not know this admin token (give every node the same \
                    --admin-tokens file)"
                .into(),
        );
    }
    if !status.is_success() {
        let text = answer.text().await.unwrap_or_default();
        return Err(format!(
            "{status}: {}",
            text.chars().take(300).collect::<String>()
        ));
    }
    answer.json().await.map_err(|e| e.to_string())
}

/// Pages of one cursor from several nodes as one: every id once, in order, `limit` at most,
/// and a next cursor while any node has more. Each node answered the first `limit` ids after
/// the cursor, so the first `limit` of their union are the cluster's.
fn merge(pages: Vec<Page<Region>>, limit: usize) -> Page<Region> {
    let more = pages.iter().any(|p| p.next.is_some());
    let mut all: Vec<Region> = pages.into_iter().flat_map(|p| p.items).collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    // A region mid-move is held by two nodes for a moment.
    all.dedup_by(|a, b| a.id == b.id);
    let more = more || all.len() > limit;
    all.truncate(limit);
    let next = if more {
        all.last().map(|r| r.id.clone())
    } else {
        None
    };
    Page { items: all, next }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(ids: &[&str], next: bool) -> Page<Region> {
        Page {
            items: ids
                .iter()
                .map(|id| Region {
                    id: id.to_string(),
                    name: id.to_string(),
                    level: None,
                    time_zone: Default::default(),
                    created_at: None,
                    updated_at: None,
                })
                .collect(),
            next: next.then(|| ids.last().map(|s| s.to_string())).flatten(),
        }
    }

    fn ids(p: &Page<Region>) -> Vec<&str> {
        p.items.iter().map(|r| r.id.as_str()).collect()
    }

    /// Paging through the merge with any limit lists every region once, in order.
    #[test]
    fn pages_of_several_nodes_merge_in_order() {
        let nodes: [&[&str]; 3] = [&["a", "d", "g"], &["b", "c", "h", "i"], &["e", "f"]];
        for limit in 1..=10 {
            let mut seen = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let pages = nodes
                    .iter()
                    .map(|ids| {
                        let after: Vec<&str> = ids
                            .iter()
                            .copied()
                            .filter(|id| cursor.as_deref().is_none_or(|c| *id > c))
                            .collect();
                        let more = after.len() > limit;
                        page(&after[..after.len().min(limit)], more)
                    })
                    .collect();
                let merged = merge(pages, limit);
                assert!(merged.items.len() <= limit);
                seen.extend(ids(&merged).into_iter().map(str::to_string));
                match merged.next {
                    Some(next) => cursor = Some(next),
                    None => break,
                }
            }
            assert_eq!(
                seen,
                ["a", "b", "c", "d", "e", "f", "g", "h", "i"],
                "limit {limit}"
            );
        }
        let twice = merge(vec![page(&["a", "b"], false), page(&["b"], false)], 10);
        assert_eq!(ids(&twice), ["a", "b"]);
        assert_eq!(twice.next, None);
    }
}

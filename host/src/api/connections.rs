//! The accept loop, with limits that connections without a token cannot exhaust.
//!
//! Connections that never finish their headers, held open by the thousands, would use up the
//! process's file descriptors; `accept` then fails and even `/health` goes unanswered (the
//! finding is in docs/reliability.md). So every connection here is bounded in time and in
//! number:
//! - a connection must send a request's headers within the header-read timeout (hyper's);
//! - a connection with no request in flight for the idle timeout is closed;
//! - at most `max` connections are open, and at most `per_client` from one client address
//!   (IPv6 by its /64, as the authentication throttle counts: `throttle::client_key`). A new connection over either cap closes the *oldest idle* one in its way
//!   (idle: no request in flight, which includes one still sending its headers), so a crowd of
//!   silent connections gives way to new clients; only when every connection in the way is
//!   busy is the new one closed at once.
//!
//! The caps are kept below the process's descriptor limit, which is raised to its hard limit
//! at start where allowed ([`raise_descriptor_limit`]).

use super::throttle::client_key;
use crate::telemetry;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio::sync::{watch, Notify};
use tower::ServiceExt;

/// The limits of [`serve`] (from `kinerja serve`'s flags).
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    pub max: usize,
    pub per_client: usize,
    pub header_read: Duration,
    pub idle: Duration,
}

use crate::limits::RESERVED_DESCRIPTORS;

/// Raises the soft limit on open files to the hard limit (where the OS allows) and answers the
/// connection cap that fits under it: `wanted`, or less when descriptors are short.
pub fn raise_descriptor_limit(wanted: usize) -> usize {
    let limit = match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "could not read or raise the open-files limit");
            return wanted;
        }
    };
    let fits = limit.saturating_sub(RESERVED_DESCRIPTORS).max(16);
    let cap = (wanted as u64).min(fits) as usize;
    if cap < wanted {
        tracing::warn!(
            open_files = limit,
            max_connections = cap,
            "the open-files limit allows fewer connections than configured"
        );
    }
    cap
}

/// What the registry knows of one open connection.
struct Conn {
    client: IpAddr,
    activity: Arc<Activity>,
    close: Arc<Notify>,
}

/// Requests in flight on a connection and when it was last busy.
struct Activity {
    in_flight: AtomicUsize,
    /// Milliseconds since the server's start.
    last: AtomicU64,
}

impl Activity {
    fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
    }
}

/// Open connections by age (ids only grow) and their count per client.
#[derive(Default)]
struct Registry {
    next: u64,
    open: BTreeMap<u64, Conn>,
    per_client: HashMap<IpAddr, usize>,
}

impl Registry {
    /// The oldest idle connection, of `client` when given.
    fn oldest_idle(&self, client: Option<IpAddr>) -> Option<u64> {
        self.open
            .iter()
            .find(|(_, c)| client.is_none_or(|k| c.client == k) && c.activity.is_idle())
            .map(|(id, _)| *id)
    }

    /// Makes room for a connection of `client`: closes the oldest idle one in the way of each
    /// cap. `false` when a cap is reached and every connection in its way is busy.
    fn make_room(&mut self, client: IpAddr, limits: &ConnLimits) -> bool {
        let room = |reg: &mut Registry, of: Option<IpAddr>, full: bool| -> bool {
            if !full {
                return true;
            }
            match reg.oldest_idle(of) {
                Some(id) => {
                    if let Some(conn) = reg.remove(id) {
                        conn.close.notify_one();
                    }
                    metrics::counter!(telemetry::CONNECTIONS_CLOSED, "reason" => "evicted")
                        .increment(1);
                    true
                }
                None => false,
            }
        };
        let mine = self.per_client.get(&client).copied().unwrap_or(0);
        if !room(self, Some(client), mine >= limits.per_client) {
            return false;
        }
        let total = self.open.len();
        room(self, None, total >= limits.max)
    }

    fn add(&mut self, client: IpAddr, activity: Arc<Activity>) -> (u64, Arc<Notify>) {
        let id = self.next;
        self.next += 1;
        let close = Arc::new(Notify::new());
        self.open.insert(
            id,
            Conn {
                client,
                activity,
                close: Arc::clone(&close),
            },
        );
        *self.per_client.entry(client).or_default() += 1;
        (id, close)
    }

    /// Forgets connection `id`; `None` when it is gone already (closed to make room, then
    /// ended by its own task).
    fn remove(&mut self, id: u64) -> Option<Conn> {
        let conn = self.open.remove(&id)?;
        if let Some(n) = self.per_client.get_mut(&conn.client) {
            *n -= 1;
            if *n == 0 {
                self.per_client.remove(&conn.client);
            }
        }
        Some(conn)
    }
}

fn lock(m: &Mutex<Registry>) -> MutexGuard<'_, Registry> {
    // The registry holds plain counts; a panic elsewhere leaves it consistent.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// A request in flight on its connection, until its response body is done.
struct Busy {
    activity: Arc<Activity>,
    start: Instant,
}

impl Busy {
    fn new(activity: &Arc<Activity>, start: Instant) -> Busy {
        activity.in_flight.fetch_add(1, Ordering::AcqRel);
        Busy {
            activity: Arc::clone(activity),
            start,
        }
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        let now = self.start.elapsed().as_millis() as u64;
        self.activity.last.store(now, Ordering::Release);
        self.activity.in_flight.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body that keeps its connection busy until it has been sent (an export streams
/// for a while after its handler returned).
struct BusyBody {
    inner: Body,
    _busy: Busy,
}

impl http_body::Body for BusyBody {
    type Data = axum::body::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets every request in flight
/// finish (each connection is shut down gracefully) before answering.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let registry = Arc::new(Mutex::new(Registry::default()));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = tokio::task::JoinSet::new();
    let start = Instant::now();
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read);
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        while tasks.try_join_next().is_some() {}
        let (socket, remote) = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of descriptors, or the peer gave up before we took it: keep serving
                    // the connections we have, and try again shortly.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let client = client_key(remote.ip());
        let activity = Arc::new(Activity {
            in_flight: AtomicUsize::new(0),
            last: AtomicU64::new(start.elapsed().as_millis() as u64),
        });
        let (id, close) = {
            let mut reg = lock(&registry);
            if !reg.make_room(client, &limits) {
                metrics::counter!(telemetry::CONNECTIONS_CLOSED, "reason" => "refused")
                    .increment(1);
                drop(socket);
                continue;
            }
            reg.add(client, Arc::clone(&activity))
        };
        metrics::gauge!(telemetry::CONNECTIONS_OPEN).increment(1.0);
        let (app, builder, registry, mut stop) = (
            app.clone(),
            Arc::clone(&builder),
            Arc::clone(&registry),
            stop_rx.clone(),
        );
        tasks.spawn(async move {
            let service = {
                let activity = Arc::clone(&activity);
                hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                    let busy = Busy::new(&activity, start);
                    req.extensions_mut().insert(ConnectInfo(remote));
                    let app = app.clone();
                    async move {
                        let resp = app.oneshot(req.map(Body::new)).await?;
                        Ok::<_, std::convert::Infallible>(
                            resp.map(|inner| Body::new(BusyBody { inner, _busy: busy })),
                        )
                    }
                })
            };
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(socket), service);
            tokio::pin!(conn);
            let check = (limits.idle / 4).clamp(Duration::from_millis(100), Duration::from_secs(5));
            let mut closing = false;
            loop {
                tokio::select! {
                    _ = &mut conn => break,
                    _ = close.notified() => break,
                    _ = stop.changed(), if !closing => {
                        closing = true;
                        conn.as_mut().graceful_shutdown();
                    }
                    _ = tokio::time::sleep(check) => {
                        let now = start.elapsed().as_millis() as u64;
                        let quiet = now.saturating_sub(activity.last.load(Ordering::Acquire));
                        if activity.is_idle() && Duration::from_millis(quiet) >= limits.idle {
                            metrics::counter!(telemetry::CONNECTIONS_CLOSED, "reason" => "idle")
                                .increment(1);
                            break;
                        }
                    }
                }
            }
            lock(&registry).remove(id);
            metrics::gauge!(telemetry::CONNECTIONS_OPEN).decrement(1.0);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    while tasks.join_next().await.is_some() {}
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(max: usize, per_client: usize) -> ConnLimits {
        ConnLimits {
            max,
            per_client,
            header_read: Duration::from_secs(1),
            idle: Duration::from_secs(1),
        }
    }

    fn activity(busy: bool) -> Arc<Activity> {
        Arc::new(Activity {
            in_flight: AtomicUsize::new(usize::from(busy)),
            last: AtomicU64::new(0),
        })
    }

    #[test]
    fn the_oldest_idle_connection_gives_way() {
        let (a, b) = (IpAddr::from([10, 0, 0, 1]), IpAddr::from([10, 0, 0, 2]));
        let mut reg = Registry::default();
        let (busy_a, _) = reg.add(a, activity(true));
        let (idle_a, closed) = reg.add(a, activity(false));
        let (_, _) = reg.add(b, activity(false));
        // a is at its cap of 2: its oldest idle connection (not the busy older one) goes.
        assert!(reg.make_room(a, &limits(10, 2)));
        assert!(!reg.open.contains_key(&idle_a) && reg.open.contains_key(&busy_a));
        drop(closed);
        assert_eq!(reg.per_client[&a], 1);
        // The server is full (3 of 3 after a new one of a): b's idle one gives way.
        reg.add(a, activity(true));
        assert!(reg.make_room(IpAddr::from([10, 0, 0, 3]), &limits(3, 2)));
        assert_eq!(reg.open.len(), 2);
        assert!(!reg.per_client.contains_key(&b));
        // Every connection busy: the new one is refused, nothing is closed.
        assert!(!reg.make_room(IpAddr::from([10, 0, 0, 3]), &limits(2, 2)));
        assert_eq!(reg.open.len(), 2);
    }
}

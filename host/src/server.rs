//! Starting and stopping the server: open the store, make the first admin token, load the
//! demo when asked, serve until told to stop, and close the database cleanly.

use crate::api::{self, AppState};
use crate::config::Config;
use crate::policy::Policy;
use crate::store::{Store, StoreError};
use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Everything up to the point of accepting connections; split from [`serve`] so callers learn
/// the bound address before serving.
pub struct Prepared {
    pub state: AppState,
    pub listener: tokio::net::TcpListener,
    pub addr: SocketAddr,
}

/// Removes the copies of backups a server stopped while streaming (`GET /api/v1/backup`
/// writes each into a directory of the data dir and removes it once sent).
fn remove_stale_backups(data_dir: &std::path::Path) {
    let Ok(entries) = std::fs::read_dir(data_dir) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        if name
            .to_str()
            .is_some_and(|n| n.starts_with(crate::api::BACKUP_DIR_PREFIX))
        {
            if let Err(err) = std::fs::remove_dir_all(e.path()) {
                tracing::warn!(path = %e.path().display(), error = %err, "cannot remove a stale backup copy");
            }
        }
    }
}

pub async fn prepare(config: Config) -> anyhow::Result<Prepared> {
    let _ = crate::telemetry::handle();
    let data_dir = config.data_dir.clone();
    let store = tokio::task::spawn_blocking(move || Store::open(&data_dir))
        .await?
        .with_context(|| format!("opening the database in {}", config.data_dir.display()))?;
    let store = Arc::new(store);
    remove_stale_backups(&config.data_dir);
    if let Some(file) = config.admin_tokens.clone() {
        let (added, changed, removed) = store.run(move |s| provision(s, &file)).await?;
        tracing::info!(
            added,
            changed,
            removed,
            "provisioned the admin tokens of --admin-tokens"
        );
    }
    let dir = config.data_dir.clone();
    if let Some(path) = store.run(move |s| s.bootstrap_admin(&dir)).await? {
        tracing::info!(path = %path.display(), "created the first admin token; read it from this file");
    }
    // The one wiring of runtime and stored plugins, shared with `audit verify`, the benches
    // and the tests; it loads every stored module (from the compiled cache when it can) so the
    // first call after a restart does not wait for a compile.
    let (s, c) = (Arc::clone(&store), config.clone());
    let policy = Arc::new(
        tokio::task::spawn_blocking(move || Policy::for_store(s, &c))
            .await?
            .context("starting the plugin runtime")?,
    );
    let state = AppState {
        store,
        config: Arc::new(config.clone()),
        touched: Arc::new(Mutex::new(Default::default())),
        ready: Arc::new(AtomicBool::new(false)),
        policy,
        throttle: Arc::new(api::throttle::AuthThrottle::new(
            config.auth_failure_limit,
            config.auth_failure_window,
        )),
        sign_in: Arc::new(api::sessions::SignIn::new(&config)),
        peers: api::peers_client().context("building the client that asks the --peers")?,
    };
    if config.demo {
        crate::demo::load(&state)
            .await
            .context("loading the demo data")?;
    }
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| format!("binding {}", config.listen))?;
    let addr = listener.local_addr()?;
    Ok(Prepared {
        state,
        listener,
        addr,
    })
}

/// Serves until `shutdown` resolves, then lets requests in flight finish.
pub async fn serve(
    p: Prepared,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    p.state.ready.store(true, Ordering::Release);
    let app = api::app(p.state.clone());
    let config = &p.state.config;
    let limits = api::connections::ConnLimits {
        max: api::connections::raise_descriptor_limit(config.max_connections.max(1)),
        per_client: config.max_connections_per_client.max(1),
        header_read: config.header_read_timeout,
        idle: config.idle_timeout,
    };
    tracing::info!(addr = %p.addr, max_connections = limits.max, "serving");
    let sweeper = tokio::spawn(unload_idle_modules(
        Arc::clone(&p.state.policy),
        config.plugin_idle_unload,
    ));
    let purger = tokio::spawn(purge_expired_sessions(Arc::clone(&p.state.store)));
    // Each request carries the peer's address, which the authentication throttle keys on.
    api::connections::serve(p.listener, app, limits, shutdown).await?;
    sweeper.abort();
    purger.abort();
    p.state.ready.store(false, Ordering::Release);
    // A worker's remaining work is a plugin call, bounded by its wall-clock limit, and one
    // commit: twice the limit outlasts it.
    let wall = std::time::Duration::from_millis(p.state.config.plugin_wall_ms.max(10));
    p.state.policy.drain(2 * wall).await;
    tracing::info!("stopped accepting requests; closing the database");
    Ok(())
}

/// Every so often (a quarter of `idle`, at most a minute), unloads the modules nobody has used
/// for `idle`, so that memory follows the modules in use rather than every module ever
/// uploaded.
async fn unload_idle_modules(policy: Arc<Policy>, idle: std::time::Duration) {
    let every = (idle / 4).clamp(
        std::time::Duration::from_millis(100),
        std::time::Duration::from_secs(60),
    );
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if let Err(e) = policy.unload_idle(idle).await {
            tracing::warn!(error = %e, "could not unload idle modules");
        }
    }
}

/// Every [`crate::limits::SESSION_PURGE_EVERY`], removes the sessions that have expired (they
/// are refused from the moment they expire; this only reclaims their rows), and approves the
/// reports pending longer than their region's auto-approval allows.
async fn purge_expired_sessions(store: Arc<Store>) {
    use crate::limits::{SESSION_PURGE_EVERY, SESSION_PURGE_MAX};
    let mut tick = tokio::time::interval(SESSION_PURGE_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let now = crate::domain::now_rfc3339();
        match store
            .run(move |s| s.purge_expired_sessions(&now, SESSION_PURGE_MAX))
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(sessions = n, "purged expired sessions"),
            Err(e) => tracing::warn!(error = %e, "could not purge expired sessions"),
        }
        // Auto-approval is counted in days: the same tick serves it.
        match store
            .run(|s| s.approve_overdue(std::time::SystemTime::now()))
            .await
        {
            Ok(0) => {}
            Ok(n) => tracing::info!(reports = n, "auto-approved overdue reports"),
            Err(e) => tracing::warn!(error = %e, "could not auto-approve overdue reports"),
        }
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutdown requested");
}

/// Provisions the admin tokens listed in `file` (`id sha256 [label]` per line; `#` comments):
/// the provisioned tokens become exactly those (see `Store::provision_admins`); answers how
/// many were added, changed and removed.
fn provision(store: &Store, file: &std::path::Path) -> Result<(usize, usize, usize), StoreError> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| StoreError::Fault(format!("cannot read {}: {e}", file.display())))?;
    let mut listed = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut parts = line.splitn(3, char::is_whitespace);
        let (id, sha, label) = (
            parts.next().unwrap_or_default(),
            parts.next().unwrap_or_default().to_ascii_lowercase(),
            parts.next().unwrap_or("provisioned admin").trim(),
        );
        if crate::domain::validate_id("token", id).is_err() || !crate::domain::is_sha256_hex(&sha) {
            return Err(StoreError::Fault(format!(
                "{} line {}: `id sha256-of-the-secret [label]` expected",
                file.display(),
                n + 1
            )));
        }
        listed.push((id.to_string(), sha, label.to_string()));
    }
    store.provision_admins(&listed)
}

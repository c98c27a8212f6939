//! Prometheus metrics. One process-wide recorder (the `metrics` facade is global), installed on
//! first use; names are kept here so dashboards have one place to look.

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;

pub const HTTP_REQUESTS: &str = "kinerja_http_requests_total";
pub const HTTP_DURATION: &str = "kinerja_http_request_duration_seconds";
pub const PLUGIN_CALLS: &str = "kinerja_plugin_calls_total";
pub const PLUGIN_FUEL: &str = "kinerja_plugin_fuel";
pub const PLUGIN_DURATION: &str = "kinerja_plugin_call_duration_seconds";
pub const PLUGIN_LIMIT_HITS: &str = "kinerja_plugin_limit_hits_total";
pub const PLUGIN_IN_FLIGHT: &str = "kinerja_plugin_calls_in_flight";
/// Modules by `state`: `loaded`, `unloaded` (for idleness, revived on their next call),
/// `paused` (for some region, after time limits in a row).
pub const PLUGIN_MODULES: &str = "kinerja_plugin_modules";
/// Bytes of compiled code and data the loaded modules keep mapped.
pub const PLUGIN_MODULE_BYTES: &str = "kinerja_plugin_module_resident_bytes";
pub const DB_SIZE: &str = "kinerja_database_size_bytes";
/// Requests under a region's prefix, by region (only the regions this node holds).
pub const REGION_REQUESTS: &str = "kinerja_region_requests_total";
pub const CONNECTIONS_OPEN: &str = "kinerja_connections_open";
/// Connections the server closed itself, by `reason`: `evicted` (the oldest idle, to make
/// room), `refused` (over a cap with every connection busy), `idle` (the idle timeout).
pub const CONNECTIONS_CLOSED: &str = "kinerja_connections_closed_total";

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The recorder's handle; `None` if another recorder was installed first (then metrics are
/// not exported, which must not stop the server).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(
                    Matcher::Suffix("_seconds".into()),
                    &[
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                        5.0, 10.0,
                    ],
                )
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full(PLUGIN_FUEL.into()),
                        &[1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10],
                    )
                });
            match builder.and_then(|b| b.install_recorder()) {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .as_ref()
}

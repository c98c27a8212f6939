//! Evaluation: assemble cases from the records, run the region's active plugin through the
//! runtime, check what it answered and store the decisions. The API calls this; this calls the
//! store and the runtime, never the other way round.

mod assemble;
mod call;
pub mod cases;
mod coalesce;
#[cfg(test)]
mod conformance;
pub mod impact;
mod large;
pub mod output;
mod preflight;
mod record;
pub mod replay;
mod rotate;
pub mod select;
mod small;
pub mod typed;

// The stages of the pipeline (select → assemble → call → check → record → answer) and the two
// schedulers in front of it, each in its own module, seen from here and from each other.
use assemble::*;
use call::*;
use record::*;

use crate::domain::date::Date;
use crate::domain::now_rfc3339;
use crate::domain::period::Period;
use crate::domain::records::Employee;
use crate::store::blob;
use crate::store::raw_output;
use crate::store::{
    Activation, CallBytes, CallMeta, CallRecord, CallResult, Decision, InputsRead, Store,
    StoreError,
};
use crate::telemetry;
use cases::Case;
use kinerja_runtime::{CallError, CallOutput, Hook, Runtime};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use typed::RawResult;
use utoipa::ToSchema;

/// Why an evaluation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    #[error("region `{region}` has no active {hook} policy; activate a plugin first")]
    NoActivePolicy { region: String, hook: String },
    /// The plugin failed in the runtime (trapped, exited, ran into a limit, lacks the hook):
    /// the runtime's error, which names the plugin and the cause.
    #[error(transparent)]
    Call(CallError),
    /// The plugin answered what the host refuses (invalid output, wrong results, a refusal):
    /// the message names the plugin and the cause.
    #[error("{0}")]
    Plugin(String),
    #[error("{0}")]
    Busy(String),
    /// The region's module keeps running into its time limits: its calls are refused for
    /// `retry_after` or until a plugin is activated.
    #[error("{message}")]
    Paused {
        message: String,
        retry_after: Duration,
    },
    #[error("{0}")]
    BadRequest(String),
    /// The caller's token may not see what it asked for.
    #[error(transparent)]
    Denied(#[from] crate::domain::auth::Denied),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

/// Settings of evaluation.
#[derive(Debug, Clone)]
pub struct PolicyConfig {
    /// Cases per plugin call.
    pub batch_size: usize,
    /// Plugin calls of one request run at once.
    pub parallel_calls: usize,
}

impl PolicyConfig {
    /// One call per core, but never more than the runtime's slots: past them a request's own
    /// calls would be refused as busy.
    pub fn from_config(config: &crate::config::Config) -> PolicyConfig {
        PolicyConfig {
            batch_size: config.batch_size.max(1),
            parallel_calls: crate::config::cores()
                .min(config.plugin_max_in_flight)
                .max(1),
        }
    }
}

pub struct Policy {
    pub store: Arc<Store>,
    pub runtime: Arc<Runtime>,
    pub config: PolicyConfig,
    /// Small appraisals waiting to share a call ([`coalesce`]).
    waiting: Arc<coalesce::Queue>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Skipped {
    pub nip: String,
    pub reason: String,
}

/// A whole appraisal request's answer.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Appraisal {
    pub plugin: String,
    /// The plugin's results as it wrote them, each with its `decision_id` added.
    #[schema(value_type = Vec<Object>)]
    pub results: Vec<Box<RawValue>>,
    pub skipped: Vec<Skipped>,
}

/// Wall time of the phases of one appraisal request. For a small appraisal that shared its call
/// with others waiting ([`coalesce`]), `assemble` counts from when it was queued, and the
/// call's figures (`in_plugin`, `calls`, `fuel`) are the whole shared call's.
#[derive(Debug, Clone, Copy, Default)]
pub struct PhaseTimes {
    /// Reading the employees' records from redb and building the cases.
    pub assemble: Duration,
    /// Serialising the batches, running every plugin call (in parallel) and checking outputs.
    pub plugins: Duration,
    /// Turning results into decisions, committing them and preparing the answer.
    pub store: Duration,
    /// Sum over calls of the time inside the runtime (instantiation and Wasm), all threads.
    pub in_plugin: Duration,
    /// Plugin calls made.
    pub calls: usize,
    /// Fuel burnt by all calls.
    pub fuel: u64,
}

fn ms(d: std::time::Duration) -> f64 {
    (d.as_secs_f64() * 1e6).round() / 1e3
}

/// Plugin logs as text, bounded for storage and display.
fn logs(b: &[u8]) -> String {
    String::from_utf8_lossy(b)
        .chars()
        .take(crate::limits::LOG_CHARS)
        .collect()
}

fn no_active_appraise(region: &str) -> PolicyError {
    PolicyError::NoActivePolicy {
        region: region.into(),
        hook: Hook::Appraise.as_str().into(),
    }
}

impl Policy {
    /// A policy over `store` with its own runtime built from the server's settings and every
    /// stored module loaded: the one wiring used by `kinerja serve`, `audit verify` and the
    /// benchmarks. Blocking (it compiles or loads modules).
    pub fn for_store(
        store: Arc<Store>,
        config: &crate::config::Config,
    ) -> Result<Policy, PolicyError> {
        let runtime = Runtime::new(config.runtime())
            .map_err(|e| PolicyError::Internal(format!("starting the plugin runtime: {e}")))?;
        let modules = store.all_plugin_bytes()?;
        let n = modules.len();
        for (id, bytes) in modules {
            if let Err(e) = runtime.load(&bytes) {
                // A module the runtime no longer accepts must not keep the server down.
                tracing::error!(plugin = %id, error = %e, "a stored plugin failed to load");
            }
        }
        tracing::info!(modules = n, "stored plugins loaded");
        Ok(Policy::new(
            store,
            Arc::new(runtime),
            PolicyConfig::from_config(config),
        ))
    }

    /// Unloads the modules that no region has active and nobody called for `idle`; their next
    /// call loads them back from the compiled cache. Returns how many were unloaded.
    pub async fn unload_idle(&self, idle: Duration) -> Result<usize, PolicyError> {
        let active = self.store.run(|s| s.active_plugin_ids()).await?;
        let rt = Arc::clone(&self.runtime);
        tokio::task::spawn_blocking(move || rt.unload_idle(|id| active.contains(id), idle).len())
            .await
            .map_err(|e| PolicyError::Internal(format!("unloading idle modules failed: {e}")))
    }

    /// A policy over `store` and `runtime`; its queue of small appraisals starts empty and
    /// starts its workers as requests come.
    pub fn new(store: Arc<Store>, runtime: Arc<Runtime>, config: PolicyConfig) -> Policy {
        Policy {
            store,
            runtime,
            config,
            waiting: Arc::default(),
        }
    }

    pub async fn active(&self, region: &str, hook: &str) -> Result<Activation, PolicyError> {
        let (r, h) = (region.to_string(), hook.to_string());
        self.store
            .run(move |s| s.active_policy(&r, &h))
            .await?
            .ok_or_else(|| PolicyError::NoActivePolicy {
                region: region.into(),
                hook: hook.into(),
            })
    }

    /// Appraises with the active plugin and stores every result as a decision, all together.
    pub async fn appraise(
        &self,
        region: &str,
        period: Period,
        employees: Vec<Employee>,
        actor: &str,
    ) -> Result<Appraisal, PolicyError> {
        Ok(self
            .appraise_timed(region, period, employees, actor)
            .await?
            .0)
    }

    /// [`Policy::appraise`] with the time of each phase, so benchmarks and logs can tell the
    /// host's share (reading records, building JSON, storing decisions) from the plugins'.
    pub async fn appraise_timed(
        &self,
        region: &str,
        period: Period,
        employees: Vec<Employee>,
        actor: &str,
    ) -> Result<(Appraisal, PhaseTimes), PolicyError> {
        let batch = self.config.batch_size.max(1);
        let (appraisal, times) = if employees.len() <= batch {
            self.appraise_small(region, period, employees, actor)
                .await?
        } else {
            self.appraise_large(region, period, employees, actor)
                .await?
        };
        tracing::debug!(
            region,
            assemble_ms = ms(times.assemble),
            plugins_ms = ms(times.plugins),
            store_ms = ms(times.store),
            "appraisal phases"
        );
        Ok((appraisal, times))
    }

    /// Waits, after the server's last request, until the small appraisals' workers have
    /// stopped and every decision handed to group commit is stored and answered, so that
    /// dropping the server closes the database only then. A worker whose client has gone
    /// still stores the call it had started; this waits for it, up to `limit`.
    pub async fn drain(&self, limit: Duration) {
        let until = Instant::now() + limit;
        while !(self.waiting.is_idle() && self.store.commits_idle()) {
            if Instant::now() >= until {
                tracing::warn!("appraisals were still being stored at shutdown");
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }

    /// Runs any uploaded module's appraise over the selection; stores nothing. Answers the
    /// plugin's own response (results of all batches joined, its extra fields kept) with the
    /// skipped employees, logs, fuel and time.
    pub async fn dry_run_appraise(
        &self,
        region: &str,
        plugin: &str,
        config: &Value,
        period: Period,
        employees: Vec<Employee>,
    ) -> Result<Value, PolicyError> {
        let (cases, skipped) = self.appraisal_cases(region, period, employees).await?;
        let calls = self
            .run_appraise(
                region,
                plugin,
                config,
                &Arc::new(cases),
                (Keep::Nothing, self.config.parallel_calls),
            )
            .await?;
        let mut response = serde_json::Map::new();
        let mut results = Vec::new();
        let (mut fuel, mut dur, mut log) = (0u64, 0.0, String::new());
        for c in calls {
            if let Value::Object(o) = c.value {
                for (k, v) in o {
                    match (k.as_str(), v) {
                        ("results", Value::Array(r)) => results.extend(r),
                        (_, v) => {
                            response.entry(k).or_insert(v);
                        }
                    }
                }
            }
            fuel += c.out.fuel_used;
            dur += ms(c.out.duration);
            log.push_str(&logs(&c.out.stderr));
        }
        response.insert("plugin".into(), Value::String(plugin.into()));
        response.insert("results".into(), Value::Array(results));
        response.insert(
            "skipped".into(),
            serde_json::to_value(skipped).unwrap_or_default(),
        );
        response.insert("logs".into(), Value::String(log));
        response.insert("fuel".into(), Value::from(fuel));
        response.insert("duration_ms".into(), Value::from(dur));
        Ok(Value::Object(response))
    }

    /// Re-runs a decision's module on the very same input bytes and judges the result
    /// (see [`replay`]).
    pub async fn replay(&self, decision: Decision) -> Result<replay::Verdict, PolicyError> {
        let (store, rt) = (Arc::clone(&self.store), Arc::clone(&self.runtime));
        let mut verdicts = tokio::task::spawn_blocking(move || {
            replay::verify_call(&store, &rt, std::slice::from_ref(&decision))
        })
        .await
        .map_err(|e| PolicyError::Internal(e.to_string()))?
        .map_err(|e| match e {
            replay::ReplayError::Busy => PolicyError::Busy(e.to_string()),
            replay::ReplayError::Internal(m) => PolicyError::Internal(m),
            replay::ReplayError::Store(s) => PolicyError::Store(s),
        })?;
        verdicts
            .pop()
            .ok_or_else(|| PolicyError::Internal("a replay judged nothing".into()))
    }
}

/// What the store keeps of a module the runtime accepted.
pub fn plugin_meta(info: &kinerja_runtime::ModuleInfo) -> crate::store::PluginMeta {
    crate::store::PluginMeta {
        id: info.id.clone(),
        size: info.size as u64,
        hooks: info.hooks.iter().map(|h| h.as_str().to_string()).collect(),
        abi: info.abi,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(text: &str) -> Value {
        let raw = RawValue::from_string(text.into()).expect("json");
        let out = with_decision_id(&raw, "dec-000000000007").expect("spliced");
        serde_json::from_str(out.get()).expect("still JSON")
    }

    /// A request never runs more calls at once than the runtime has slots, however many
    /// cores there are.
    #[test]
    fn calls_at_once_stay_within_the_runtime_slots() {
        let mut c = crate::config::Config::for_data_dir("/nonexistent");
        c.plugin_max_in_flight = 1;
        assert_eq!(PolicyConfig::from_config(&c).parallel_calls, 1);
        c.plugin_max_in_flight = 10_000;
        assert_eq!(
            PolicyConfig::from_config(&c).parallel_calls,
            crate::config::cores()
        );
    }

    /// The server's id is in every answer, once, whatever the plugin wrote.
    #[test]
    fn the_decision_id_is_the_servers() {
        let id = serde_json::json!("dec-000000000007");
        assert_eq!(with(r#"{"nip":"1","score":90.5}"#)["decision_id"], id);
        assert_eq!(with("{}")["decision_id"], id);
        assert_eq!(with("{ }")["decision_id"], id);
        for own in [
            r#"{"decision_id":"dec-1","nip":"1"}"#,
            r#"{"nip":"1","decision\u005fid":"dec-1"}"#,
        ] {
            let raw = RawValue::from_string(own.into()).expect("json");
            let text = with_decision_id(&raw, "dec-000000000007").expect("replaced");
            assert_eq!(text.get().matches("decision_id").count(), 1, "{own}");
            assert_eq!(with(own)["decision_id"], id, "{own}");
        }
    }

    /// A region's answer, built in parts, is every decision's in order.
    #[test]
    fn a_large_answer_keeps_the_order() {
        let n = PARALLEL_ANSWER_FROM + 7;
        let mut results: Vec<CallResult> = (0..n)
            .map(|i| {
                let mut r = CallResult::sample(&i.to_string(), serde_json::json!({"i": i}));
                r.id = format!("dec-{i:012}");
                r
            })
            .collect();
        // Two calls: the answer is every call's results, one call after the other.
        let second = results.split_off(5);
        let calls = [
            CallRecord::sample(b"a", results),
            CallRecord::sample(b"b", second),
        ];
        let got = answer(&calls).expect("answer");
        assert_eq!(got.len(), n);
        for (i, r) in got.iter().enumerate() {
            let v: Value = serde_json::from_str(r.get()).expect("json");
            assert_eq!(v["i"], i, "{v}");
            assert_eq!(v["decision_id"], format!("dec-{i:012}"));
        }
    }
}

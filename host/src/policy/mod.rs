//! Evaluation: assemble cases from the records, run the region's active plugin through the
//! runtime, check what it answered and store the decisions. The API calls this; this calls the
//! store and the runtime, never the other way round.

pub mod cases;
mod coalesce;
pub mod impact;
pub mod output;
mod preflight;
pub mod replay;
pub mod select;
pub mod typed;

use crate::domain::date::Date;
use crate::domain::now_rfc3339;
use crate::domain::period::Period;
use crate::domain::records::Employee;
use crate::store::blob;
use crate::store::raw_output;
use crate::store::{Activation, CallBytes, Decision, Store, StoreError};
use crate::telemetry;
use cases::{AppraiseRequest, Case, RotateRequest};
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

/// One finished plugin call and what it was given.
struct Call {
    out: CallOutput,
    /// The checked response, for calls whose results are not stored (`Null` when they are).
    value: Value,
    /// The checked results as written, for appraisals whose results are stored.
    raw: Option<Vec<RawResult>>,
    /// The request and stdout, packed for storage; only for calls whose results are kept.
    bytes: Option<CallBytes>,
}

/// A checked response: a JSON tree, or for a stored appraisal its results as written.
enum Checked {
    Value(Value),
    Raw(Vec<RawResult>),
}

/// Whether a call's bytes will be stored with its decisions (and so are packed on the worker
/// thread) or the call is a preview whose bytes are dropped.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Keep {
    Bytes,
    Nothing,
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

/// What a call left on its blocking thread: the output, the checked response, and the packed
/// bytes when they are kept.
type RawCall = Result<(CallOutput, Result<Checked, String>, Option<CallBytes>), CallError>;

/// The blocking half of a call. The response is parsed, schema-checked and packed on the same
/// thread as the call: on the async worker it serialised every batch's work behind the others.
fn call_blocking(
    rt: &Runtime,
    (region, id): (&str, &str),
    hook: Hook,
    input: Vec<u8>,
    keep: Keep,
) -> RawCall {
    rt.call_for(region, id, hook, &input).map(|out| {
        let checked = match (hook, keep) {
            (Hook::Appraise, Keep::Bytes) => {
                output::check_appraise(id, &out.stdout).map(Checked::Raw)
            }
            _ => output::check(id, hook.as_str(), &out.stdout).map(Checked::Value),
        };
        let bytes = (keep == Keep::Bytes && checked.is_ok()).then(|| CallBytes {
            input: blob::pack(&input),
            output: blob::pack(&out.stdout),
        });
        (out, checked, bytes)
    })
}

/// The async half of a call: metrics, logs, and the plugin's failure as a [`PolicyError`].
fn finish(region: &str, plugin: &str, hook: Hook, res: RawCall) -> Result<Call, PolicyError> {
    let outcome = |o: &str| {
        metrics::counter!(telemetry::PLUGIN_CALLS, "region" => region.to_string(), "hook" => hook.as_str(), "outcome" => o.to_string()).increment(1);
    };
    let (out, checked, bytes) = match res {
        Ok(r) => r,
        Err(e) => {
            match (&e, e.limit()) {
                (_, Some(limit)) => {
                    metrics::counter!(telemetry::PLUGIN_LIMIT_HITS, "region" => region.to_string(), "limit" => limit.to_string()).increment(1);
                    outcome("limit");
                }
                (CallError::Busy, _) => outcome("busy"),
                (CallError::Paused { .. }, _) => outcome("paused"),
                _ => outcome("error"),
            }
            tracing::warn!(region, plugin, hook = hook.as_str(), error = %e, "plugin call failed");
            return Err(e.into());
        }
    };
    metrics::histogram!(telemetry::PLUGIN_FUEL, "hook" => hook.as_str())
        .record(out.fuel_used as f64);
    metrics::histogram!(telemetry::PLUGIN_DURATION, "hook" => hook.as_str())
        .record(out.duration.as_secs_f64());
    let checked = match checked {
        Ok(v) => v,
        Err(m) => {
            outcome("invalid_output");
            let log = logs(&out.stderr);
            let msg = if log.trim().is_empty() {
                m
            } else {
                format!(
                    "{m} (plugin log: {})",
                    log.trim().chars().take(300).collect::<String>()
                )
            };
            return Err(PolicyError::Plugin(msg));
        }
    };
    outcome("ok");
    let (value, raw) = match checked {
        Checked::Value(v) => (v, None),
        Checked::Raw(r) => (Value::Null, Some(r)),
    };
    Ok(Call {
        out,
        value,
        raw,
        bytes,
    })
}

/// The cases of `employees` from one read of their records, in their order, and those skipped
/// with the reason.
#[expect(
    clippy::vec_box,
    reason = "moving whole cases cost more than the boxes"
)]
fn assemble(
    s: &Store,
    region: &str,
    period: Period,
    employees: &[Employee],
) -> Result<(Vec<Box<Case>>, Vec<Skipped>), StoreError> {
    let cases = s.appraisal_inputs_map(region, period, employees, |e, rec, reported| {
        // Boxed: the cases are moved twice more (the parts joined, the skipped taken out),
        // and moving a whole case costs more than the box.
        cases::case(e, period, rec, reported)
            .map(Box::new)
            .map_err(|reason| Skipped {
                nip: e.nip.clone(),
                reason: reason.into(),
            })
    })?;
    let mut out = Vec::with_capacity(cases.len());
    let mut skipped = Vec::new();
    for c in cases {
        match c {
            Ok(c) => out.push(c),
            Err(s) => skipped.push(s),
        }
    }
    Ok((out, skipped))
}

/// One appraise request document.
fn appraise_request(
    region: &str,
    config: &Value,
    cases: &[Box<Case>],
) -> Result<Vec<u8>, PolicyError> {
    // Sized for a typical case up front: growing a batch's buffer step by step copies it
    // about twice over.
    let mut buf = Vec::with_capacity(256 + cases.len() * 1024);
    serde_json::to_writer(
        &mut buf,
        &AppraiseRequest {
            abi: 1,
            hook: "appraise",
            region,
            config,
            cases,
        },
    )
    .map_err(|e| PolicyError::Internal(e.to_string()))?;
    Ok(buf)
}

/// One result per case, same order, across the calls of batches of `batch`: anything else is
/// the plugin's fault.
fn check_results(
    plugin: &str,
    batch: usize,
    cases: &[Box<Case>],
    calls: &[Call],
) -> Result<(), PolicyError> {
    for (i, call) in calls.iter().enumerate() {
        let first = i * batch;
        let end = cases.len().min(first + batch);
        check_call(plugin, first, cases.get(first..end).unwrap_or(&[]), call)?;
    }
    Ok(())
}

/// One result per case of the call's `cases` (the first being case `first` of the
/// appraisal), same order.
fn check_call(
    plugin: &str,
    first: usize,
    cases: &[Box<Case>],
    call: &Call,
) -> Result<(), PolicyError> {
    let n = cases.len();
    let nips: Vec<Option<&str>> = match &call.raw {
        Some(raw) => raw.iter().map(|r| Some(r.nip.as_str())).collect(),
        None => call.value["results"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or(&[])
            .iter()
            .map(|r| r["nip"].as_str())
            .collect(),
    };
    if nips.len() != n {
        return Err(PolicyError::Plugin(format!(
            "plugin {plugin} answered {} results for {n} cases",
            nips.len()
        )));
    }
    for (i, (nip, case)) in nips.into_iter().zip(cases).enumerate() {
        let want = &case.employee.nip;
        if nip != Some(want.as_str()) {
            return Err(PolicyError::Plugin(format!(
                "plugin {plugin} answered result {} for nip {} where {want} was asked",
                first + i,
                nip.map_or_else(|| "(none)".to_string(), |n| Value::from(n).to_string())
            )));
        }
    }
    Ok(())
}

/// Below this many results the answer is built on one thread.
const PARALLEL_ANSWER_FROM: usize = 4096;

/// The stored decisions' outputs as the answer shows them, with their ids. A region's answer
/// is built while its commit syncs, and on one thread it would take longer than the commit.
fn answer(decisions: &[Decision]) -> Result<Vec<Box<RawValue>>, PolicyError> {
    crate::store::in_parts(decisions, PARALLEL_ANSWER_FROM, "answer", |part| {
        part.iter()
            .map(|d| with_decision_id(&d.output, &d.id))
            .collect()
    })
}

/// A result as written with the server's `"decision_id"` in it. The object is spliced, not
/// parsed, unless it may hold a `decision_id` of its own (the schema allows extra fields, and
/// a client reading a duplicated key keeps the last): then the server's replaces it.
fn with_decision_id(raw: &RawValue, id: &str) -> Result<Box<RawValue>, PolicyError> {
    let text = raw.get();
    let internal = |e: serde_json::Error| PolicyError::Internal(e.to_string());
    // An escape could spell the key too.
    if text.contains("decision_id") || text.contains("\\u") {
        let mut v: serde_json::Map<String, Value> = serde_json::from_str(text).map_err(internal)?;
        v.insert("decision_id".into(), Value::String(id.into()));
        return serde_json::value::to_raw_value(&v).map_err(internal);
    }
    let Some(rest) = text.strip_prefix('{') else {
        return Err(PolicyError::Internal(
            "a stored appraisal result is not an object".into(),
        ));
    };
    let sep = if rest.trim_start().starts_with('}') {
        ""
    } else {
        ","
    };
    // Ids are `dec-` and digits: nothing to escape.
    let spliced = format!("{{\"decision_id\":\"{id}\"{sep}{rest}");
    RawValue::from_string(spliced).map_err(internal)
}

/// Raises its flag when dropped: tells the call threads of a request that is gone to stop.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// The decisions of an appraisal's checked calls, not yet stored, with the bytes of each call
/// and what the calls cost.
struct Made {
    decisions: Vec<Decision>,
    kept: Vec<CallBytes>,
    in_plugin: Duration,
    fuel: u64,
}

impl Made {
    /// One decision per result of `calls`, in order. A plain function rather than a step of
    /// the async path, so that a small appraisal's worker builds its decisions on the blocking
    /// thread that made the call.
    fn of(
        region: &str,
        plugin: &str,
        period: Period,
        actor: &str,
        calls: Vec<Call>,
    ) -> Result<Made, PolicyError> {
        let mut made = Made {
            decisions: Vec::with_capacity(
                calls
                    .iter()
                    .map(|c| c.raw.as_ref().map_or(0, Vec::len))
                    .sum(),
            ),
            kept: Vec::with_capacity(calls.len()),
            in_plugin: Duration::ZERO,
            fuel: 0,
        };
        let at = now_rfc3339();
        let by = Some(actor.to_string());
        let (period_s, end_s) = (Some(period.to_string()), Some(period.end().to_string()));
        for mut call in calls {
            made.in_plugin += call.out.duration;
            made.fuel += call.out.fuel_used;
            let results = call.raw.take().unwrap_or_default();
            let bytes = call
                .bytes
                .take()
                .ok_or_else(|| PolicyError::Internal("a stored call was not packed".into()))?;
            let log = logs(&call.out.stderr);
            let dur = ms(call.out.duration);
            for (i, r) in results.into_iter().enumerate() {
                made.decisions.push(Decision {
                    id: String::new(),
                    region: region.into(),
                    hook: "appraise".into(),
                    plugin: plugin.into(),
                    input_sha256: bytes.input.sha256.clone(),
                    output_sha256: bytes.output.sha256.clone(),
                    output: r.raw,
                    output_span: r.span,
                    case_index: Some(i),
                    // `check_call` made sure it is the case's NIP.
                    nip: Some(r.nip),
                    period: period_s.clone(),
                    period_end: end_s.clone(),
                    as_of: None,
                    fuel: call.out.fuel_used,
                    duration_ms: dur,
                    logs: log.clone(),
                    at: at.clone(),
                    by: by.clone(),
                });
            }
            made.kept.push(bytes);
        }
        Ok(made)
    }
}

fn no_active_appraise(region: &str) -> PolicyError {
    PolicyError::NoActivePolicy {
        region: region.into(),
        hook: "appraise".into(),
    }
}

/// One call of the appraise hook (region, plugin, config) over `cases` on this thread: the
/// request written, the module run, its output checked against the schema.
fn appraise_call(
    rt: &Runtime,
    (region, plugin, config): (&str, &str, &Value),
    cases: &[Box<Case>],
    keep: Keep,
) -> Result<Call, PolicyError> {
    let input = appraise_request(region, config, cases)?;
    let raw = call_blocking(rt, (region, plugin), Hook::Appraise, input, keep);
    finish(region, plugin, Hook::Appraise, raw)
}

/// One call of the appraise hook over `cases` (at most one batch) on this thread, checked,
/// and its decisions made but not stored.
fn one_call(
    rt: &Runtime,
    act: (&str, &str, &Value),
    key: &coalesce::Key,
    cases: &[Box<Case>],
) -> Result<Made, PolicyError> {
    let (region, plugin, _) = act;
    let call = appraise_call(rt, act, cases, Keep::Bytes)?;
    check_call(plugin, 0, cases, &call)?;
    Made::of(region, plugin, key.period, &key.actor, vec![call])
}

/// Takes the small appraisals of one key from the queue and runs them, on a blocking thread,
/// until none waits.
struct Worker {
    key: coalesce::Key,
    store: Arc<Store>,
    runtime: Arc<Runtime>,
    batch: usize,
    waiting: Arc<coalesce::Queue>,
}

/// A group's call made and checked, its decisions not yet stored.
struct Ready {
    plugin: String,
    /// `None` when every case of the group was skipped.
    made: Option<Made>,
    /// Per request of the group: how many of the call's cases are its, and its skipped.
    parts: Vec<(usize, Vec<Skipped>)>,
    /// When the records were read, and when the call was checked.
    read: Instant,
    called: Instant,
}

impl Worker {
    fn run(&self) {
        while let Some(group) = self.waiting.take(&self.key, self.batch) {
            // A panic of a request alone drops its reply (it is answered with an error) and
            // the worker goes on: the queue counts it as running until it finds nothing to
            // take. A shared call's panic is caught closer, in `run_group`.
            let run = std::panic::AssertUnwindSafe(|| self.run_group(group));
            if std::panic::catch_unwind(run).is_err() {
                tracing::error!("an appraisal worker panicked; its request got an error");
            }
        }
    }

    /// Runs `group` as one call and hands its decisions to be stored. Should the plugin fail
    /// (or the host panic) on a call of several requests, each runs again alone, so that one
    /// request's refused case is never another's error; a failure that is no request's own
    /// (every slot busy, no active policy) is every request's answer at once.
    fn run_group(&self, group: Vec<coalesce::Job>) {
        let shared = group.len() > 1;
        let ready = {
            let _in_request = group[0].span.enter();
            if shared {
                let call = std::panic::AssertUnwindSafe(|| self.call(&group));
                std::panic::catch_unwind(call).unwrap_or_else(|_| {
                    Err(PolicyError::Internal(
                        "a shared appraisal call panicked".into(),
                    ))
                })
            } else {
                self.call(&group)
            }
        };
        match ready {
            Ok(ready) => self.store_and_answer(group, ready),
            Err(
                e @ (PolicyError::Busy(_)
                | PolicyError::Paused { .. }
                | PolicyError::NoActivePolicy { .. }),
            ) if shared => {
                for job in group {
                    let again = match &e {
                        PolicyError::Busy(m) => PolicyError::Busy(m.clone()),
                        PolicyError::Paused {
                            message,
                            retry_after,
                        } => PolicyError::Paused {
                            message: message.clone(),
                            retry_after: *retry_after,
                        },
                        _ => no_active_appraise(&job.key.region),
                    };
                    let _ = job.reply.send(Err(again));
                }
            }
            Err(e) if shared => {
                tracing::debug!(requests = group.len(), error = %e, "a shared appraisal call failed; each request runs alone");
                // Those whose client has gone meanwhile are not run again.
                for job in group.into_iter().filter(|j| !j.reply.is_closed()) {
                    self.run_group(vec![job]);
                }
            }
            Err(e) => {
                if let Some(job) = group.into_iter().next() {
                    let _ = job.reply.send(Err(e));
                }
            }
        }
    }

    /// The records of `group` (one key) read, and one call over all their cases.
    fn call(&self, group: &[coalesce::Job]) -> Result<Ready, PolicyError> {
        let key = &group[0].key;
        let s = &*self.store;
        let act = s
            .active_policy(&key.region, "appraise")?
            .ok_or_else(|| no_active_appraise(&key.region))?;
        let plugin = act.plugin.clone().unwrap_or_default();
        let mut cases = Vec::new();
        let mut parts = Vec::with_capacity(group.len());
        for job in group {
            let (mine, skipped) = assemble(s, &key.region, key.period, &job.employees)?;
            parts.push((mine.len(), skipped));
            cases.extend(mine);
        }
        let read = Instant::now();
        let made = if cases.is_empty() {
            None
        } else {
            let act = (key.region.as_str(), plugin.as_str(), &act.config);
            Some(one_call(&self.runtime, act, key, &cases)?)
        };
        Ok(Ready {
            plugin,
            made,
            parts,
            read,
            called: Instant::now(),
        })
    }

    /// Hands each request's decisions to group commit (all or nothing on its own), and
    /// answers each once they are durable, from the committer thread: the worker goes on
    /// with its next group meanwhile.
    fn store_and_answer(&self, group: Vec<coalesce::Job>, ready: Ready) {
        let span = group[0].span.clone();
        let Ready {
            plugin,
            made,
            parts,
            read,
            called,
        } = ready;
        let (decisions, kept, in_plugin, fuel) = match made {
            Some(m) => (m.decisions, m.kept, m.in_plugin, m.fuel),
            None => (Vec::new(), Vec::new(), Duration::ZERO, 0),
        };
        // Requests whose employees were all skipped store nothing, not even the call.
        let mut decisions = decisions.into_iter();
        let requests: Vec<_> = parts
            .iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, _)| (decisions.by_ref().take(*n).collect(), kept.clone()))
            .collect();
        let answer_each = move |stored: Vec<Result<Vec<Decision>, StoreError>>| {
            let _in_request = span.enter();
            let mut stored = stored.into_iter();
            let stored_at = Instant::now();
            for (job, (n, skipped)) in group.into_iter().zip(parts) {
                let results = match n {
                    0 => Ok(Vec::new()),
                    _ => stored
                        .next()
                        .unwrap_or_else(|| Err(StoreError::Fault("a request went unstored".into())))
                        .map_err(PolicyError::from)
                        .and_then(|stored| answer(&stored)),
                };
                let times = PhaseTimes {
                    assemble: read.saturating_duration_since(job.since),
                    plugins: called - read,
                    store: stored_at - called,
                    in_plugin,
                    calls: usize::from(n > 0),
                    fuel,
                };
                let answer = results.map(|results| {
                    let appraisal = Appraisal {
                        plugin: plugin.clone(),
                        results,
                        skipped,
                    };
                    (appraisal, times)
                });
                let _ = job.reply.send(answer);
            }
        };
        // Everyone skipped: nothing to wait for.
        if requests.is_empty() {
            answer_each(Vec::new());
        } else {
            self.store.submit_decisions(requests, answer_each);
        }
    }
}

impl From<CallError> for PolicyError {
    fn from(e: CallError) -> Self {
        match e {
            CallError::Busy => PolicyError::Busy("every plugin slot is busy; retry shortly".into()),
            CallError::Paused { retry_after, .. } => PolicyError::Paused {
                message: e.to_string(),
                retry_after,
            },
            CallError::Internal(m) => PolicyError::Internal(m),
            other => PolicyError::Call(other),
        }
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

    /// Runs one call on a blocking thread (the WASI adapter blocks), checks its output and
    /// counts it in the metrics.
    async fn call(
        &self,
        region: &str,
        plugin: &str,
        hook: Hook,
        input: Vec<u8>,
        keep: Keep,
    ) -> Result<Call, PolicyError> {
        self.call_with(region, plugin, hook, move || Ok(input), keep)
            .await
    }

    /// [`Policy::call`] with the request built on the blocking thread too, so that the
    /// batches of a large appraisal are serialised in parallel rather than one after another
    /// on the async task before the first call starts.
    async fn call_with<F>(
        &self,
        region: &str,
        plugin: &str,
        hook: Hook,
        input: F,
        keep: Keep,
    ) -> Result<Call, PolicyError>
    where
        F: FnOnce() -> Result<Vec<u8>, PolicyError> + Send + 'static,
    {
        let rt = Arc::clone(&self.runtime);
        let (r, id) = (region.to_string(), plugin.to_string());
        let res = tokio::task::spawn_blocking(move || {
            input().map(|input| call_blocking(&rt, (&r, &id), hook, input, keep))
        })
        .await
        .map_err(|e| PolicyError::Internal(format!("plugin task failed: {e}")))??;
        finish(region, plugin, hook, res)
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

    /// The cases of the given employees, in their order, and those skipped with the reason.
    pub async fn appraisal_cases(
        &self,
        region: &str,
        period: Period,
        employees: Vec<Employee>,
    ) -> Result<(Vec<Box<Case>>, Vec<Skipped>), PolicyError> {
        let r = region.to_string();
        Ok(self
            .store
            .run(move |s| assemble(s, &r, period, &employees))
            .await?)
    }

    /// Runs the appraise hook of `plugin` over `cases` in batches, `width` calls at a time, on
    /// `width` threads that each take the next batch when they finish one; the calls are put
    /// back in batch order. Every call runs while the request lives (a dropped request starts
    /// no more), and a failure is reported by its batch's position, whatever finished first.
    async fn run_appraise(
        &self,
        region: &str,
        plugin: &str,
        config: &Value,
        cases: &Arc<Vec<Box<Case>>>,
        (keep, width): (Keep, usize),
    ) -> Result<Vec<Call>, PolicyError> {
        let batch = self.config.batch_size.max(1);
        let n = cases.len().div_ceil(batch);
        // `width` threads each take the next batch as soon as they finish one, rather than one
        // blocking task per call: each hand-off between a call's task and the async side is a
        // wake-up during which the call's slot stands idle.
        let next = Arc::new(AtomicUsize::new(0));
        // A request dropped midway (client gone, timeout) starts no further calls.
        let stop = StopOnDrop(Arc::new(AtomicBool::new(false)));
        let config = Arc::new(config.clone());
        let workers: Vec<_> = (0..width.clamp(1, n.max(1)))
            .map(|_| {
                let (cases, config, next, stop) = (
                    Arc::clone(cases),
                    Arc::clone(&config),
                    Arc::clone(&next),
                    Arc::clone(&stop.0),
                );
                let (rt, r, id) = (
                    Arc::clone(&self.runtime),
                    region.to_string(),
                    plugin.to_string(),
                );
                let span = tracing::Span::current();
                tokio::task::spawn_blocking(move || {
                    let _in_request = span.enter();
                    let mut done = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(part) = cases.chunks(batch).nth(i) else {
                            break;
                        };
                        let call = appraise_call(&rt, (&r, &id, &config), part, keep);
                        done.push((i, call));
                    }
                    done
                })
            })
            .collect();
        let mut done: Vec<(usize, Result<Call, PolicyError>)> = Vec::with_capacity(n);
        for worker in workers {
            done.extend(
                worker
                    .await
                    .map_err(|e| PolicyError::Internal(format!("plugin task failed: {e}")))?,
            );
        }
        done.sort_unstable_by_key(|(i, _)| *i);
        let calls: Vec<Call> = done.into_iter().map(|(_, c)| c).collect::<Result<_, _>>()?;
        check_results(plugin, batch, cases, &calls)?;
        Ok(calls)
    }

    /// Runs the appraise hook over `cases` in batches ([`Policy::run_appraise`]) and stores
    /// every result as a decision, all in one transaction. The write lock is taken only after
    /// the last call: holding it while plugins run would let one slow module stop every write
    /// of every region. The answer (each result with its id) is prepared while the rows are
    /// written and committed. Answers the results, the time inside the runtime, the fuel, and
    /// when the calls were done.
    async fn appraise_and_store(
        &self,
        region: &str,
        plugin: &str,
        config: &Value,
        cases: Arc<Vec<Box<Case>>>,
        who: (Period, &str),
    ) -> Result<(Vec<Box<RawValue>>, Duration, u64, Instant), PolicyError> {
        let (period, actor) = who;
        let width = self.config.parallel_calls;
        let calls = self
            .run_appraise(region, plugin, config, &cases, (Keep::Bytes, width))
            .await?;
        let done = Instant::now();
        let stored = async {
            let made = Made::of(region, plugin, period, actor, calls)?;
            let (in_plugin, fuel) = (made.in_plugin, made.fuel);
            let results = self
                .store
                .put_decisions_then(made.decisions, made.kept, answer)
                .await??;
            Ok::<_, PolicyError>((results, in_plugin, fuel))
        }
        .await;
        // A region's cases are freed on a thread of their own once the answer is ready (or
        // the store failed): freeing a region's cases can take longer than the commit, and
        // beside the writing and the answer it would only slow both down.
        drop(tokio::task::spawn_blocking(move || drop(cases)));
        let (results, in_plugin, fuel) = stored?;
        Ok((results, in_plugin, fuel, done))
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

    /// An appraisal of at most one batch of employees: queued to share a call with the
    /// others waiting ([`coalesce`]), and run by a worker on a blocking thread. Once its call
    /// has started it cannot be cancelled: a request whose client gives up (or times out)
    /// then still stores its decisions, as any write already under way does.
    async fn appraise_small(
        &self,
        region: &str,
        period: Period,
        employees: Vec<Employee>,
        actor: &str,
    ) -> coalesce::Answer {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let key = coalesce::Key {
            region: region.into(),
            period,
            actor: actor.into(),
        };
        let job = coalesce::Job {
            key: key.clone(),
            employees,
            reply,
            span: tracing::Span::current(),
            since: Instant::now(),
        };
        let batch = self.config.batch_size.max(1);
        let start = self
            .waiting
            .push(
                job,
                batch
                    .saturating_mul(crate::limits::WAITING_PER_BATCH)
                    .max(crate::limits::WAITING_MIN),
            )
            .ok_or_else(|| {
                PolicyError::Busy(
                    "too many appraisals of this caller are waiting; retry shortly".into(),
                )
            })?;
        if start {
            let worker = Worker {
                key,
                store: Arc::clone(&self.store),
                runtime: Arc::clone(&self.runtime),
                waiting: Arc::clone(&self.waiting),
                batch,
            };
            drop(tokio::task::spawn_blocking(move || worker.run()));
        }
        answer.await.map_err(|_| {
            PolicyError::Internal("an appraisal worker stopped before answering".into())
        })?
    }

    /// An appraisal of more than one batch: the records read and the cases built in one
    /// blocking hop, the batches run on every core ([`Policy::appraise_and_store`]).
    async fn appraise_large(
        &self,
        region: &str,
        period: Period,
        employees: Vec<Employee>,
        actor: &str,
    ) -> Result<(Appraisal, PhaseTimes), PolicyError> {
        let t0 = Instant::now();
        let r = region.to_string();
        let prepared = self
            .store
            .run(move |s| {
                let Some(act) = s.active_policy(&r, "appraise")? else {
                    return Ok(None);
                };
                let (cases, skipped) = assemble(s, &r, period, &employees)?;
                Ok(Some((act, cases, skipped)))
            })
            .await?;
        let Some((act, cases, skipped)) = prepared else {
            return Err(no_active_appraise(region));
        };
        let t1 = Instant::now();
        let plugin = act.plugin.clone().unwrap_or_default();
        let mut times = PhaseTimes {
            assemble: t1 - t0,
            ..PhaseTimes::default()
        };
        // Everyone skipped: nothing to run or store.
        let results = if cases.is_empty() {
            Vec::new()
        } else {
            times.calls = cases.len().div_ceil(self.config.batch_size.max(1));
            let (results, in_plugin, fuel, written) = self
                .appraise_and_store(
                    region,
                    &plugin,
                    &act.config,
                    Arc::new(cases),
                    (period, actor),
                )
                .await?;
            (times.plugins, times.store) = (written - t1, written.elapsed());
            (times.in_plugin, times.fuel) = (in_plugin, fuel);
            results
        };
        Ok((
            Appraisal {
                plugin,
                results,
                skipped,
            },
            times,
        ))
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

    /// The rotate request of a scope: its employees and target positions.
    pub async fn rotate_input(
        &self,
        region: &str,
        as_of: Date,
        agency: Option<String>,
        config: &Value,
    ) -> Result<Vec<u8>, PolicyError> {
        let mut inputs = self
            .rotate_inputs(region, as_of, agency, vec![config.clone()])
            .await?;
        inputs
            .pop()
            .ok_or_else(|| PolicyError::Internal("no rotate request was built".into()))
    }

    /// The rotate requests of one scope under each of `configs`, in order: the scope is read
    /// once (a latest-predikat lookup per employee) however many configs there are.
    pub async fn rotate_inputs(
        &self,
        region: &str,
        as_of: Date,
        agency: Option<String>,
        configs: Vec<Value>,
    ) -> Result<Vec<Vec<u8>>, PolicyError> {
        let r = region.to_string();
        let bytes = self
            .store
            .run(move |s| {
                let emps = s.employees(&r, agency.as_deref(), None, usize::MAX)?.items;
                let as_of_s = as_of.to_string();
                let predikats =
                    s.latest_predikats(&r, emps.iter().map(|e| e.nip.as_str()), &as_of_s)?;
                let employees: Vec<_> = emps
                    .iter()
                    .zip(predikats)
                    .map(|(e, p)| cases::rotate_employee(e, p))
                    .collect();
                let all = s.all_positions(&r, None)?;
                let positions = cases::rotate_positions(&all, agency.as_deref(), &employees);
                configs
                    .iter()
                    .map(|config| {
                        let req = RotateRequest {
                            abi: 1,
                            hook: "rotate",
                            region: &r,
                            config,
                            as_of,
                            employees: &employees,
                            positions: &positions,
                        };
                        serde_json::to_vec(&req).map_err(|e| StoreError::Fault(e.to_string()))
                    })
                    .collect()
            })
            .await?;
        Ok(bytes)
    }

    /// Recommends rotations with the active plugin and stores the decision.
    pub async fn rotate(
        &self,
        region: &str,
        as_of: Date,
        agency: Option<String>,
        actor: &str,
    ) -> Result<Value, PolicyError> {
        let act = self.active(region, "rotate").await?;
        let plugin = act.plugin.clone().unwrap_or_default();
        let input = self
            .rotate_input(region, as_of, agency, &act.config)
            .await?;
        let mut call = self
            .call(region, &plugin, Hook::Rotate, input, Keep::Bytes)
            .await?;
        let bytes = call
            .bytes
            .take()
            .ok_or_else(|| PolicyError::Internal("a stored call was not packed".into()))?;
        let d = vec![Decision {
            id: String::new(),
            region: region.into(),
            hook: "rotate".into(),
            plugin: plugin.clone(),
            input_sha256: bytes.input.sha256.clone(),
            output_sha256: bytes.output.sha256.clone(),
            output: raw_output(&call.value),
            output_span: None,
            case_index: None,
            nip: None,
            period: None,
            period_end: None,
            as_of: Some(as_of.to_string()),
            fuel: call.out.fuel_used,
            duration_ms: ms(call.out.duration),
            logs: logs(&call.out.stderr),
            at: now_rfc3339(),
            by: Some(actor.into()),
        }];
        let d = self.store.put_decisions_queued(d, vec![bytes]).await?;
        let mut out = call.value;
        if let (Some(o), Some(first)) = (out.as_object_mut(), d.first()) {
            o.insert("decision_id".into(), Value::String(first.id.clone()));
            o.insert("plugin".into(), Value::String(plugin));
        }
        Ok(out)
    }

    /// Runs any uploaded module's rotate; stores nothing.
    pub async fn dry_run_rotate(
        &self,
        region: &str,
        plugin: &str,
        config: &Value,
        as_of: Date,
        agency: Option<String>,
    ) -> Result<Value, PolicyError> {
        let input = self.rotate_input(region, as_of, agency, config).await?;
        let call = self
            .call(region, plugin, Hook::Rotate, input, Keep::Nothing)
            .await?;
        let mut out = call.value;
        if let Some(o) = out.as_object_mut() {
            o.insert("logs".into(), Value::String(logs(&call.out.stderr)));
            o.insert("fuel".into(), Value::from(call.out.fuel_used));
            o.insert("duration_ms".into(), Value::from(ms(call.out.duration)));
        }
        Ok(out)
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
        let decisions: Vec<Decision> = (0..n)
            .map(|i| {
                let mut d = Decision::sample(&i.to_string(), serde_json::json!({"i": i}));
                d.id = format!("dec-{i:012}");
                d
            })
            .collect();
        let got = answer(&decisions).expect("answer");
        assert_eq!(got.len(), n);
        for (i, r) in got.iter().enumerate() {
            let v: Value = serde_json::from_str(r.get()).expect("json");
            assert_eq!(v["i"], i, "{v}");
            assert_eq!(v["decision_id"], format!("dec-{i:012}"));
        }
    }
}

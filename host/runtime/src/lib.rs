//! `kinerja-runtime`: the sandbox that runs regions' policy plugins.
//!
//! This is the only crate of Kinerja that touches wasmtime. It implements the
//! host side of both plugin ABIs (see `plugin-contract.md`), run as hooks
//! (`appraise`, `rotate`): ABI 1, WASI preview 1 core modules that read one
//! JSON request on stdin and write one JSON response on stdout; and ABI 2,
//! components typed by `schemas/wit/policy.wit` (see `component`), which take
//! and answer the same documents through the same [`Runtime::call`].
//!
//! The pieces, and why they are shaped this way:
//! - **One [`wasmtime::Engine`]** with fuel, epoch interruption, the pooling
//!   allocator and copy-on-write memory images, so a fresh instance per call
//!   costs tens of microseconds and no call can see another's state.
//! - **[`Runtime::load`]** validates an upload from its header, imports and
//!   exports only (a module is never run at upload: a looping `start` function
//!   would hang the request), compiles it once and caches the artifact on disk
//!   keyed by the module's SHA-256 and the engine's compatibility hash, so a
//!   restart does not recompile.
//! - **[`Runtime::call`]** runs one hook in a fresh `Store` and instance with
//!   per-call limits on fuel, wall time, memory, stdout and stderr, and a
//!   deterministic sandbox (fixed clocks, seeded random, no files, no
//!   environment, no network, no sleeping). It is synchronous and blocking:
//!   async callers must use `spawn_blocking` (or a dedicated pool).
//! - **Bounded, fair concurrency**: at most `max_in_flight` calls run at once,
//!   shared fairly between tenants (the host's regions), and a module that keeps
//!   running into its time limits is paused for its tenant (see `slots`). Calls
//!   over the bound fail fast with [`CallError::Busy`] (HTTP 503) rather than
//!   queue.
//! - **Bounded modules**: an upload's cost is checked from its sections before
//!   it is compiled ([`ModuleBounds`]), and modules no one calls are unloaded
//!   ([`Runtime::unload_idle`]) and revived from the compiled cache on their
//!   next call.

mod bounds;
mod cache;
mod call;
mod component;
mod error;
mod inspect;
mod slots;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, Linker, Module, PoolingAllocationConfig,
    WasmBacktraceDetails,
};

pub use crate::bounds::ModuleBounds;
pub use crate::call::{FIXED_MONOTONIC_CLOCK, FIXED_WALL_CLOCK, MAX_RANDOM_BYTES};
pub use crate::error::{CallError, LimitKind, RuntimeError, UploadError};
pub use crate::slots::{ACTIVE_WINDOW, MAX_PAUSE};

use crate::cache::{ArtifactCache, Compiled};
use crate::call::CallState;
use crate::component::ComponentState;
use crate::slots::{Outcome, Slots};

/// The WebAssembly call-stack limit of every plugin call (512 KiB). Small on
/// purpose: policy code does not recurse deeply, and the stack lives on the
/// calling host thread, which must have this much room to spare (tokio's
/// blocking threads and Rust's spawned threads have 2 MiB).
pub const MAX_WASM_STACK: usize = 512 * 1024;

/// How often the epoch ticker advances the engine's epoch. The wall-time limit
/// is enforced to within about one tick.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The hooks of ABI 1, as `kinerja-abi` defines them for the host and the pdk alike.
pub use kinerja_abi::{Hook, UnknownHook};

/// Per-call limits (and the upload size limit). A plugin over any of them
/// fails with [`CallError::Limit`] naming the limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Instruction budget per call (wasmtime fuel: about one unit per wasm
    /// instruction). Deterministic: the same request uses the same fuel.
    /// Default 500,000,000 (a few tenths of a second of pure compute; one
    /// appraisal case needs about 22,000).
    pub fuel: u64,
    /// Wall-clock time per call, enforced by epoch interruption to within
    /// [`EPOCH_TICK`]. Default 2 s.
    pub wall_time: Duration,
    /// Linear memory per call. Growth beyond it traps. It also sizes the
    /// instance pool's memory slots, so it is fixed for the runtime's
    /// lifetime. Default 64 MiB.
    pub memory_bytes: usize,
    /// Bytes of stdout (the response). Default 8 MiB.
    pub stdout_bytes: usize,
    /// Bytes of stderr (the log). Exceeding it fails the call, per the
    /// contract's "a plugin over a limit fails"; a plugin that wants to log a
    /// lot must log less. Default 64 KiB.
    pub stderr_bytes: usize,
    /// Size of an uploaded module, checked before anything else. Default
    /// 32 MiB: a Python component carries CPython (about 18 MiB).
    pub module_bytes: usize,
    /// What an uploaded module may cost to compile and keep, checked from its
    /// sections before it is compiled.
    pub module: ModuleBounds,
}

impl Limits {
    /// Default for [`Limits::fuel`].
    pub const DEFAULT_FUEL: u64 = 500_000_000;
    /// Default for [`Limits::wall_time`].
    pub const DEFAULT_WALL_TIME: Duration = Duration::from_secs(2);
    /// Default for [`Limits::memory_bytes`].
    pub const DEFAULT_MEMORY_BYTES: usize = 64 << 20;
    /// Default for [`Limits::stdout_bytes`].
    pub const DEFAULT_STDOUT_BYTES: usize = 8 << 20;
    /// Default for [`Limits::stderr_bytes`].
    pub const DEFAULT_STDERR_BYTES: usize = 64 << 10;
    /// Default for [`Limits::module_bytes`].
    pub const DEFAULT_MODULE_BYTES: usize = 32 << 20;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            fuel: Self::DEFAULT_FUEL,
            wall_time: Self::DEFAULT_WALL_TIME,
            memory_bytes: Self::DEFAULT_MEMORY_BYTES,
            stdout_bytes: Self::DEFAULT_STDOUT_BYTES,
            stderr_bytes: Self::DEFAULT_STDERR_BYTES,
            module_bytes: Self::DEFAULT_MODULE_BYTES,
            module: ModuleBounds::default(),
        }
    }
}

/// How the runtime is set up. Fixed for its lifetime: the engine's instance
/// pool is sized from it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// Per-call limits.
    pub limits: Limits,
    /// Calls allowed to run at once; more fail with [`CallError::Busy`].
    /// Default 32. Also the size of the instance pool.
    pub max_in_flight: usize,
    /// Directory for compiled modules (`<sha256>-<engine hash>.cwasm`).
    /// Created if missing. Must be private to the server: artifacts found
    /// there are loaded as native code (after an integrity check).
    pub cache_dir: PathBuf,
    /// Time-limit failures in a row after which a module is paused for the
    /// tenant that called it (0: never). Default 3.
    pub pause_after: u32,
    /// How long the first pause lasts; each pause in a row doubles it, up to
    /// [`MAX_PAUSE`]. Default 30 s.
    pub pause_for: Duration,
}

impl RuntimeConfig {
    /// Default for [`RuntimeConfig::max_in_flight`].
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 32;
    /// Default for [`RuntimeConfig::pause_after`].
    pub const DEFAULT_PAUSE_AFTER: u32 = 3;
    /// Default for [`RuntimeConfig::pause_for`].
    pub const DEFAULT_PAUSE_FOR: Duration = Duration::from_secs(30);

    /// Default limits and concurrency with the given cache directory.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        RuntimeConfig {
            limits: Limits::default(),
            max_in_flight: Self::DEFAULT_MAX_IN_FLIGHT,
            cache_dir: cache_dir.into(),
            pause_after: Self::DEFAULT_PAUSE_AFTER,
            pause_for: Self::DEFAULT_PAUSE_FOR,
        }
    }
}

/// Where [`Runtime::load`] got the compiled module from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LoadSource {
    /// Compiled now (and written to the cache).
    Compiled,
    /// Deserialized from the on-disk cache; no compilation.
    Cache,
    /// Already loaded in this runtime; nothing was done.
    Loaded,
}

/// What [`Runtime::load`] found out about a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    /// SHA-256 of the module's bytes, lower-case hex: the plugin id.
    pub id: String,
    /// The hooks the module offers, in [`Hook::ALL`] order.
    pub hooks: Vec<Hook>,
    /// The plugin ABI: 1 for a core module (JSON on stdin and stdout), 2 for a component
    /// (`schemas/wit/policy.wit`).
    pub abi: u32,
    /// Size of the module in bytes.
    pub size: usize,
    /// Whether the module was compiled, taken from the cache, or already
    /// loaded.
    pub source: LoadSource,
}

/// The result of a successful hook call. The runtime does not look inside
/// stdout: checking that it is UTF-8 JSON matching the hook's response schema
/// (or a refusal) is the host's job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallOutput {
    /// The response bytes (at most [`Limits::stdout_bytes`]).
    pub stdout: Vec<u8>,
    /// The plugin's log (at most [`Limits::stderr_bytes`]).
    pub stderr: Vec<u8>,
    /// Fuel consumed, deterministic for a given module and request.
    pub fuel_used: u64,
    /// Wall time of the call, instantiation included.
    pub duration: Duration,
}

/// A loaded plugin: its pre-linked instance template and entry points.
struct Plugin {
    id: String,
    size: usize,
    hooks: Vec<Hook>,
    linked: Linked,
    /// Bytes of compiled code and data the loaded module keeps mapped.
    resident: usize,
    /// When it was last called or loaded, in ms since the runtime started.
    last_used: AtomicU64,
}

/// What the runtime holds, for metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ModuleStats {
    /// Modules loaded now.
    pub loaded: usize,
    /// Bytes of compiled code and data they keep mapped.
    pub resident_bytes: usize,
    /// Modules unloaded for idleness, revived from the cache on their next call.
    pub unloaded: usize,
    /// Modules paused for some tenant now.
    pub paused: usize,
}

/// A plugin linked and ready to instantiate, by ABI.
enum Linked {
    /// ABI 1: a core module and the entry point of each hook.
    Module {
        pre: wasmtime::InstancePre<CallState>,
        entries: inspect::Entries,
    },
    /// ABI 2: a component and its hook exports.
    Component(component::Prepared),
}

impl Linked {
    fn abi(&self) -> u32 {
        match self {
            Linked::Module { .. } => kinerja_abi::ABI_VERSION,
            Linked::Component(_) => kinerja_abi::abi2::ABI2_VERSION,
        }
    }
}

impl Plugin {
    fn info(&self, source: LoadSource) -> ModuleInfo {
        ModuleInfo {
            id: self.id.clone(),
            hooks: self.hooks.clone(),
            abi: self.linked.abi(),
            size: self.size,
            source,
        }
    }

    /// Marks the module used at `now` (ms since the runtime started, [`Runtime::millis`]).
    fn touch(&self, now: u64) {
        self.last_used.store(now, Ordering::Relaxed);
    }
}

/// The plugin runtime. `Send + Sync`; share it with an `Arc`. Dropping it
/// stops the epoch ticker thread.
pub struct Runtime {
    engine: Engine,
    linker: Linker<CallState>,
    components: wasmtime::component::Linker<ComponentState>,
    limits: Limits,
    max_in_flight: usize,
    cache: ArtifactCache,
    plugins: RwLock<HashMap<String, Arc<Plugin>>>,
    /// Modules accepted before and unloaded for idleness: their compiled
    /// artifact is in the cache, so a call revives them without the bytes.
    unloaded: Mutex<HashMap<String, usize>>,
    slots: Slots,
    started: Instant,
    compiled: AtomicU64,
    ticker: Option<Ticker>,
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("limits", &self.limits)
            .field("max_in_flight", &self.max_in_flight)
            .field("cache", &self.cache)
            .field("in_flight", &self.in_flight())
            .finish_non_exhaustive()
    }
}

/// The thread that advances the engine's epoch every [`EPOCH_TICK`], which is
/// what interrupts a plugin past its wall-time deadline. Stops when the
/// sender is dropped.
struct Ticker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    fn start(engine: Engine) -> Result<Ticker, RuntimeError> {
        let (stop, rx) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("kinerja-epoch-ticker".into())
            .spawn(move || {
                // Tick until the sender is dropped (runtime dropped).
                while let Err(mpsc::RecvTimeoutError::Timeout) = rx.recv_timeout(EPOCH_TICK) {
                    engine.increment_epoch();
                }
            })
            .map_err(|e| RuntimeError::Engine(format!("cannot start the epoch ticker: {e}")))?;
        Ok(Ticker {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // The thread only sleeps and increments; it cannot panic in a way
            // worth reporting from a destructor.
            let _ = thread.join();
        }
    }
}

/// The WASI preview 1 module name, the only import namespace ABI 1 allows.
pub const WASI_MODULE: &str = "wasi_snapshot_preview1";

/// WASI errno `NOTSUP`, what the shadowed `poll_oneoff` answers.
const ERRNO_NOTSUP: i32 = 58;

impl Runtime {
    /// Builds the engine, the WASI linker and the epoch ticker, and creates
    /// the cache directory.
    pub fn new(cfg: RuntimeConfig) -> Result<Runtime, RuntimeError> {
        let limits = cfg.limits;
        validate_config(&limits, cfg.max_in_flight)?;
        let engine = build_engine(&limits, cfg.max_in_flight)?;
        let linker = build_linker(&engine)?;
        let components = component::build_linker(&engine)?;
        let cache = ArtifactCache::open(cfg.cache_dir, &engine)?;
        let ticker = Ticker::start(engine.clone())?;
        // A tenant under its share waits for a slot another holds over its share at most
        // about one call: a call ends within its wall-time limit and a tick (twice that, for
        // a loaded machine).
        let max_wait = 2 * limits.wall_time + 2 * EPOCH_TICK;
        tracing::info!(
            cache = %cache.dir().display(),
            engine_hash = cache.engine_hash(),
            max_in_flight = cfg.max_in_flight,
            ?limits,
            "plugin runtime started"
        );
        Ok(Runtime {
            engine,
            linker,
            components,
            limits,
            max_in_flight: cfg.max_in_flight,
            cache,
            plugins: RwLock::new(HashMap::new()),
            unloaded: Mutex::new(HashMap::new()),
            slots: Slots::new(cfg.max_in_flight, max_wait, cfg.pause_after, cfg.pause_for),
            started: Instant::now(),
            compiled: AtomicU64::new(0),
            ticker: Some(ticker),
        })
    }

    /// Validates and compiles `bytes` (or loads the compiled artifact from the
    /// on-disk cache) and registers the module under its SHA-256. Never
    /// instantiates or runs the module. Loading an already loaded module is
    /// cheap and returns [`LoadSource::Loaded`]. A module's cost is checked
    /// from its sections ([`ModuleBounds`]) before it is compiled.
    pub fn load(&self, bytes: &[u8]) -> Result<ModuleInfo, UploadError> {
        if bytes.len() > self.limits.module_bytes {
            return Err(UploadError::TooLarge {
                size: bytes.len(),
                limit: self.limits.module_bytes,
            });
        }
        let kind = inspect::check_header(bytes)?;
        let id = hex::encode(Sha256::digest(bytes));
        let span = tracing::info_span!("plugin_load", plugin = %id, size = bytes.len());
        let _enter = span.enter();

        if let Some(plugin) = self.plugin(&id) {
            plugin.touch(self.millis());
            return Ok(plugin.info(LoadSource::Loaded));
        }

        let started = Instant::now();
        let (compiled, source) = match self.cache.load(&self.engine, &id) {
            Some(compiled) => (compiled, LoadSource::Cache),
            None => {
                bounds::check(bytes, &self.limits.module, self.limits.memory_bytes)?;
                let invalid = |e: wasmtime::Error| UploadError::Invalid(format!("{e:#}"));
                let compiled = match kind {
                    inspect::Kind::Module => {
                        Compiled::Module(Module::from_binary(&self.engine, bytes).map_err(invalid)?)
                    }
                    inspect::Kind::Component => Compiled::Component(
                        Component::from_binary(&self.engine, bytes).map_err(invalid)?,
                    ),
                };
                self.compiled.fetch_add(1, Ordering::Relaxed);
                (compiled, LoadSource::Compiled)
            }
        };
        let plugin = self.prepare(&id, bytes.len(), &compiled)?;
        if source == LoadSource::Compiled {
            // Only a module that passed every check is cached, so a cache hit
            // is a module this runtime accepted before.
            self.cache.store(&id, &compiled)?;
        }
        let plugin = self.insert(plugin);
        let info = plugin.info(source);
        tracing::info!(
            ?source,
            abi = info.abi,
            hooks = ?info.hooks,
            resident_bytes = plugin.resident,
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "plugin loaded"
        );
        Ok(info)
    }

    /// Checks a compiled module's imports and exports and links it.
    fn prepare(&self, id: &str, size: usize, compiled: &Compiled) -> Result<Plugin, UploadError> {
        let (linked, hooks) = match compiled {
            Compiled::Module(module) => {
                let entries = inspect::entries(module)?;
                let hooks = entries.hooks();
                let pre = self
                    .linker
                    .instantiate_pre(module)
                    .map_err(|e| UploadError::Invalid(format!("{e:#}")))?;
                (Linked::Module { pre, entries }, hooks)
            }
            Compiled::Component(component) => {
                let prepared = component::prepare(&self.components, component)?;
                let hooks = prepared.hooks();
                (Linked::Component(prepared), hooks)
            }
        };
        let plugin = Plugin {
            id: id.to_owned(),
            size,
            hooks,
            linked,
            resident: compiled.resident(),
            last_used: AtomicU64::new(0),
        };
        plugin.touch(self.millis());
        Ok(plugin)
    }

    /// Makes a prepared module callable under its id.
    fn insert(&self, plugin: Plugin) -> Arc<Plugin> {
        let plugin = Arc::new(plugin);
        self.plugins
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(plugin.id.clone(), Arc::clone(&plugin));
        self.unloaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&plugin.id);
        plugin
    }

    /// Whether a module with this id can be called: loaded, or unloaded for
    /// idleness and revived on its next call.
    pub fn is_loaded(&self, id: &str) -> bool {
        self.plugin(id).is_some()
            || self
                .unloaded
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .contains_key(id)
    }

    /// The hooks a loaded module offers, or `None` if it is not loaded.
    pub fn hooks(&self, id: &str) -> Option<Vec<Hook>> {
        self.plugin(id).map(|p| p.hooks.clone())
    }

    /// Forgets a loaded module (calls already running finish normally). The
    /// cached artifact stays on disk. Returns whether it was loaded.
    pub fn unload(&self, id: &str) -> bool {
        self.unloaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id);
        self.plugins
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id)
            .is_some()
    }

    /// Unloads the modules that `keep` does not name and that nobody called
    /// for `idle`, so that only the modules in use stay resident. Their next
    /// call revives them from the compiled cache (milliseconds, no compile);
    /// a module whose artifact is not in the cache stays loaded. Returns the
    /// ids unloaded.
    pub fn unload_idle(&self, keep: impl Fn(&str) -> bool, idle: Duration) -> Vec<String> {
        let now = self.millis();
        let idle_ms = u64::try_from(idle.as_millis()).unwrap_or(u64::MAX);
        let mut plugins = self.plugins.write().unwrap_or_else(PoisonError::into_inner);
        let gone: Vec<(String, usize)> = plugins
            .values()
            .filter(|p| !keep(&p.id))
            .filter(|p| now.saturating_sub(p.last_used.load(Ordering::Relaxed)) >= idle_ms)
            .filter(|p| self.cache.path(&p.id).is_file())
            .map(|p| (p.id.clone(), p.size))
            .collect();
        // Known as unloaded before it is gone, so a call in between revives it.
        self.unloaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend(gone.iter().cloned());
        for (id, _) in &gone {
            plugins.remove(id);
        }
        drop(plugins);
        if !gone.is_empty() {
            tracing::info!(modules = gone.len(), "idle plugins unloaded");
        }
        gone.into_iter().map(|(id, _)| id).collect()
    }

    /// Ends the pauses of every module for `tenant` (a plugin was activated there).
    pub fn resume(&self, tenant: &str) {
        self.slots.resume(tenant);
    }

    /// Ends the pause of `module` for `tenant` (it is about to be tried for activation).
    pub fn resume_module(&self, tenant: &str, module: &str) {
        self.slots.resume_module(tenant, module);
    }

    /// Modules loaded, their resident size, those unloaded for idleness, and
    /// those paused for some tenant.
    pub fn module_stats(&self) -> ModuleStats {
        let plugins = self.plugins.read().unwrap_or_else(PoisonError::into_inner);
        let mut paused = self.slots.paused();
        paused.sort_by(|a, b| a.1.cmp(&b.1));
        paused.dedup_by(|a, b| a.1 == b.1);
        ModuleStats {
            loaded: plugins.len(),
            resident_bytes: plugins.values().map(|p| p.resident).sum(),
            unloaded: self
                .unloaded
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .len(),
            paused: paused.len(),
        }
    }

    /// The per-call limits this runtime enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// The bound on calls in flight.
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// How many modules this runtime has compiled (rather than taken from the
    /// cache) since it started.
    pub fn compiled_count(&self) -> u64 {
        self.compiled.load(Ordering::Relaxed)
    }

    /// The directory of compiled artifacts.
    pub fn cache_dir(&self) -> &std::path::Path {
        self.cache.dir()
    }

    /// The file a module's compiled artifact is cached in (whether or not it
    /// exists yet).
    pub fn cache_path(&self, id: &str) -> PathBuf {
        self.cache.path(id)
    }

    /// Calls currently running.
    pub fn in_flight(&self) -> usize {
        self.slots.running()
    }

    /// [`Runtime::call_for`] without a tenant: for tools and tests, which
    /// share one anonymous tenant.
    pub fn call(&self, id: &str, hook: Hook, stdin: &[u8]) -> Result<CallOutput, CallError> {
        self.call_for("", id, hook, stdin)
    }

    /// Runs one hook call of a loaded module for `tenant` (the host's region)
    /// in a fresh store and instance, with `stdin` as the request. The call
    /// takes one of the tenant's fair share of slots, or fails with
    /// [`CallError::Busy`]; a module paused for the tenant fails with
    /// [`CallError::Paused`]. Synchronous and blocking (up to the wall-time
    /// limit plus a tick, and as long again waiting for a slot): async callers
    /// use `spawn_blocking`. The calling thread needs [`MAX_WASM_STACK`] of
    /// stack to spare.
    pub fn call_for(
        &self,
        tenant: &str,
        id: &str,
        hook: Hook,
        stdin: &[u8],
    ) -> Result<CallOutput, CallError> {
        let span = tracing::info_span!("plugin_call", tenant, plugin = %id, %hook, request_bytes = stdin.len());
        let _enter = span.enter();

        let _slot = self.slots.acquire(tenant, id).inspect_err(|e| {
            tracing::warn!(
                outcome = e.kind(),
                max_in_flight = self.max_in_flight,
                error = %e,
                "plugin call refused"
            );
        })?;
        let result = self.run_in_slot(id, hook, stdin);
        // Every outcome is counted, so that a pause's probe is always decided.
        self.slots.record(tenant, id, Outcome::of(&result));
        match &result {
            Ok(out) => tracing::info!(
                outcome = "ok",
                fuel_used = out.fuel_used,
                duration_us = out.duration.as_micros() as u64,
                stdout_bytes = out.stdout.len(),
                stderr_bytes = out.stderr.len(),
                "plugin call finished"
            ),
            Err(e) => tracing::warn!(
                outcome = e.kind(),
                limit = e.limit().map(LimitKind::as_str),
                error = %e,
                "plugin call failed"
            ),
        }
        result
    }

    /// The call itself, once it has its slot.
    fn run_in_slot(&self, id: &str, hook: Hook, stdin: &[u8]) -> Result<CallOutput, CallError> {
        let Some(plugin) = self.plugin(id).or_else(|| self.revive(id)) else {
            return Err(CallError::NotLoaded {
                plugin: id.to_owned(),
            });
        };
        plugin.touch(self.millis());
        let missing = || CallError::HookMissing {
            plugin: id.to_owned(),
            hook,
        };
        match &plugin.linked {
            Linked::Module { pre, entries } => {
                let entry = entries.entry(hook).ok_or_else(missing)?;
                call::run(&self.engine, &self.limits, id, pre, entry, hook, stdin)
            }
            Linked::Component(prepared) if prepared.offers(hook) => {
                component::run(&self.engine, &self.limits, id, prepared, hook, stdin)
            }
            Linked::Component(_) => Err(missing()),
        }
    }

    /// Loads a module unloaded for idleness back from the compiled cache.
    fn revive(&self, id: &str) -> Option<Arc<Plugin>> {
        let size = *self
            .unloaded
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)?;
        let started = Instant::now();
        let revived = match self.cache.load(&self.engine, id) {
            Some(compiled) => self.prepare(id, size, &compiled).map_err(|e| e.to_string()),
            None => Err("its compiled artifact is gone or damaged".to_string()),
        };
        match revived {
            Ok(plugin) => {
                let plugin = self.insert(plugin);
                tracing::info!(
                    plugin = id,
                    elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
                    "idle plugin revived from the cache"
                );
                Some(plugin)
            }
            Err(e) => {
                // Forgotten, so that the host loads it again from its stored bytes.
                self.unloaded
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .remove(id);
                tracing::error!(plugin = id, error = %e, "an unloaded plugin could not be revived");
                None
            }
        }
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn plugin(&self, id: &str) -> Option<Arc<Plugin>> {
        self.plugins
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(id)
            .cloned()
    }
}
impl Drop for Runtime {
    fn drop(&mut self) {
        // Explicit for clarity: stop and join the ticker before the engine
        // goes away.
        drop(self.ticker.take());
    }
}

// The host shares one runtime across threads and tasks.
const _: fn() = || {
    fn check<T: Send + Sync>() {}
    check::<Runtime>();
};

const WASM_PAGE: usize = 64 * 1024;

fn validate_config(limits: &Limits, max_in_flight: usize) -> Result<(), RuntimeError> {
    let bad = |m: String| Err(RuntimeError::Config(m));
    if max_in_flight == 0 || u32::try_from(max_in_flight).is_err() {
        return bad(format!(
            "max_in_flight must be between 1 and {}, not {max_in_flight}",
            u32::MAX
        ));
    }
    if limits.fuel == 0 {
        return bad("the fuel limit must be at least 1".into());
    }
    if limits.wall_time < EPOCH_TICK {
        return bad(format!(
            "the wall-time limit must be at least {} ms",
            EPOCH_TICK.as_millis()
        ));
    }
    if limits.memory_bytes < WASM_PAGE {
        return bad(format!(
            "the memory limit must be at least one wasm page ({WASM_PAGE} bytes)"
        ));
    }
    if limits.memory_bytes > 4 << 30 {
        return bad("the memory limit must be at most 4 GiB (32-bit wasm)".into());
    }
    if limits.module_bytes == 0 {
        return bad("the module size limit must be at least 1 byte".into());
    }
    Ok(())
}

/// How much of each linear memory the pool keeps mapped between calls and
/// resets in place instead of with `madvise` (the first 4 MiB: a Rust plugin's
/// 1 MiB stack, its data and the heap of an ordinary request). Only used with
/// the `PAGEMAP_SCAN` ioctl (Linux 6.7+), which finds the pages a call dirtied
/// so that only those are restored; without it every byte up to this size
/// would be `memset` on every call, which costs more than it saves, so then
/// the pool keeps nothing resident.
const KEEP_RESIDENT_WITH_PAGEMAP: usize = 4 << 20;

/// The one engine. Every setting here is part of the engine's compatibility
/// hash, so changing one invalidates the artifact cache (by file name).
///
/// Instantiation cost (a fresh instance per call is the sandbox's promise)
/// comes down to the pooling allocator (no mmap per call), copy-on-write
/// memory images (`memory_init_cow`: the data segments are mapped, not
/// copied), `InstancePre` (imports resolved once per module), and resetting
/// a used slot cheaply: with `PAGEMAP_SCAN` only the dirtied pages are
/// restored, in place, and the slot stays warm for the next call of the same
/// module.
fn build_engine(limits: &Limits, max_in_flight: usize) -> Result<Engine, RuntimeError> {
    let instances = u32::try_from(max_in_flight)
        .map_err(|_| RuntimeError::Config("max_in_flight is too large".into()))?;
    // The pool's memory slots must hold the largest memory the limit allows;
    // round up to whole wasm pages.
    let pool_memory = limits.memory_bytes.div_ceil(WASM_PAGE) * WASM_PAGE;

    // Every call may be a component (ABI 2), which instantiates several core modules.
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(instances)
        .max_core_instances_per_component(component::CORE_INSTANCES_PER_COMPONENT)
        .max_memories_per_component(component::MEMORIES_PER_COMPONENT)
        .max_tables_per_component(component::TABLES_PER_COMPONENT)
        .total_core_instances(instances.saturating_mul(component::CORE_INSTANCES_PER_COMPONENT))
        .total_memories(instances.saturating_mul(component::MEMORIES_PER_COMPONENT))
        .total_tables(instances.saturating_mul(component::TABLES_PER_COMPONENT))
        .total_gc_heaps(instances)
        .max_memories_per_module(1)
        .max_tables_per_module(1)
        .max_memory_size(pool_memory);
    if PoolingAllocationConfig::is_pagemap_scan_available() {
        pool.pagemap_scan(Enabled::Yes)
            .linear_memory_keep_resident(KEEP_RESIDENT_WITH_PAGEMAP.min(pool_memory))
            .table_keep_resident(64 << 10);
    } else {
        pool.pagemap_scan(Enabled::No);
    }

    let mut config = Config::new();
    config
        .consume_fuel(true)
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .memory_init_cow(true)
        .max_wasm_stack(MAX_WASM_STACK)
        // Shared memories cannot be pooled or limited per call, and plugins
        // are single-threaded. Components are ABI 2.
        .wasm_threads(false)
        .wasm_component_model(true)
        // Same request, same response, on any host CPU: canonical NaNs and
        // deterministic relaxed SIMD.
        .cranelift_nan_canonicalization(true)
        .relaxed_simd_deterministic(true)
        // Names in trap messages help plugin authors; file/line details
        // would need DWARF and cost at trap time.
        .wasm_backtrace_details(WasmBacktraceDetails::Disable);
    Engine::new(&config).map_err(|e| RuntimeError::Engine(format!("{e:#}")))
}

/// WASI preview 1 for every plugin, with the calls that could hold the host
/// thread shadowed: epoch interruption cannot stop a host call (and with a
/// fixed clock an absolute sleep deadline might never arrive).
fn build_linker(engine: &Engine) -> Result<Linker<CallState>, RuntimeError> {
    let mut linker: Linker<CallState> = Linker::new(engine);
    wasmtime_wasi::p1::add_to_linker_sync(&mut linker, |state: &mut CallState| &mut state.wasi)
        .map_err(|e| RuntimeError::Engine(format!("cannot link WASI preview 1: {e:#}")))?;
    linker.allow_shadowing(true);
    // `poll_oneoff` is the only preview 1 call that waits (sleep, or polling
    // for readiness); stdin/stdout/stderr are memory pipes that never block.
    // Answer NOTSUP at once: std::thread::sleep then panics (a trap) instead
    // of blocking.
    linker
        .func_wrap(
            WASI_MODULE,
            "poll_oneoff",
            |_subscriptions: i32, _events: i32, _count: i32, _nevents: i32| -> i32 { ERRNO_NOTSUP },
        )
        .map_err(|e| RuntimeError::Engine(format!("cannot shadow poll_oneoff: {e:#}")))?;
    // `random_get` generates in place instead of byte by byte, so a large
    // request cannot hold the thread inside a host call (see
    // `call::random_get`).
    linker
        .func_wrap(WASI_MODULE, "random_get", call::random_get)
        .map_err(|e| RuntimeError::Engine(format!("cannot shadow random_get: {e:#}")))?;
    linker.allow_shadowing(false);
    Ok(linker)
}

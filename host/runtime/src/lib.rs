//! `kinerja-runtime`: the sandbox that runs regions' policy plugins.
//!
//! This is the only crate of Kinerja that touches wasmtime. It implements the
//! host side of plugin ABI 1 (see `plugin-contract.md`): WASI preview 1 core
//! modules that read one JSON request on stdin and write one JSON response on
//! stdout, run as hooks (`appraise`, `rotate`).
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
//! - **Bounded concurrency**: at most `max_in_flight` calls run at once; the
//!   rest fail fast with [`CallError::Busy`] (HTTP 503) rather than queue.

mod cache;
mod call;
mod error;
mod inspect;

use std::collections::HashMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, Linker, Module, PoolingAllocationConfig,
    WasmBacktraceDetails,
};

pub use crate::call::{FIXED_MONOTONIC_CLOCK, FIXED_WALL_CLOCK, MAX_RANDOM_BYTES};
pub use crate::error::{CallError, LimitKind, RuntimeError, UnknownHook, UploadError};

use crate::cache::ArtifactCache;
use crate::call::CallState;

/// The WebAssembly call-stack limit of every plugin call (512 KiB). Small on
/// purpose: policy code does not recurse deeply, and the stack lives on the
/// calling host thread, which must have this much room to spare (tokio's
/// blocking threads and Rust's spawned threads have 2 MiB).
pub const MAX_WASM_STACK: usize = 512 * 1024;

/// How often the epoch ticker advances the engine's epoch. The wall-time limit
/// is enforced to within about one tick.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// The hooks of ABI 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Hook {
    /// Score employees for a period.
    Appraise,
    /// Recommend moves.
    Rotate,
}

impl Hook {
    /// Both hooks, in a fixed order.
    pub const ALL: [Hook; 2] = [Hook::Appraise, Hook::Rotate];

    /// The hook's name in the ABI: the export name, the `argv[1]` of a command
    /// and the request's `hook` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Appraise => "appraise",
            Hook::Rotate => "rotate",
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Hook {
    type Err = UnknownHook;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "appraise" => Ok(Hook::Appraise),
            "rotate" => Ok(Hook::Rotate),
            other => Err(UnknownHook(other.to_owned())),
        }
    }
}

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
    /// 16 MiB.
    pub module_bytes: usize,
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
    pub const DEFAULT_MODULE_BYTES: usize = 16 << 20;
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
}

impl RuntimeConfig {
    /// Default for [`RuntimeConfig::max_in_flight`].
    pub const DEFAULT_MAX_IN_FLIGHT: usize = 32;

    /// Default limits and concurrency with the given cache directory.
    pub fn new(cache_dir: impl Into<PathBuf>) -> Self {
        RuntimeConfig {
            limits: Limits::default(),
            max_in_flight: Self::DEFAULT_MAX_IN_FLIGHT,
            cache_dir: cache_dir.into(),
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
    pre: wasmtime::InstancePre<CallState>,
    entries: inspect::Entries,
}

impl Plugin {
    fn info(&self, source: LoadSource) -> ModuleInfo {
        ModuleInfo {
            id: self.id.clone(),
            hooks: self.hooks.clone(),
            size: self.size,
            source,
        }
    }
}

/// The plugin runtime. `Send + Sync`; share it with an `Arc`. Dropping it
/// stops the epoch ticker thread.
pub struct Runtime {
    engine: Engine,
    linker: Linker<CallState>,
    limits: Limits,
    max_in_flight: usize,
    cache: ArtifactCache,
    plugins: RwLock<HashMap<String, Arc<Plugin>>>,
    in_flight: AtomicUsize,
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
        let cache = ArtifactCache::open(cfg.cache_dir, &engine)?;
        let ticker = Ticker::start(engine.clone())?;
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
            limits,
            max_in_flight: cfg.max_in_flight,
            cache,
            plugins: RwLock::new(HashMap::new()),
            in_flight: AtomicUsize::new(0),
            compiled: AtomicU64::new(0),
            ticker: Some(ticker),
        })
    }

    /// Validates and compiles `bytes` (or loads the compiled artifact from the
    /// on-disk cache) and registers the module under its SHA-256. Never
    /// instantiates or runs the module. Loading an already loaded module is
    /// cheap and returns [`LoadSource::Loaded`].
    pub fn load(&self, bytes: &[u8]) -> Result<ModuleInfo, UploadError> {
        if bytes.len() > self.limits.module_bytes {
            return Err(UploadError::TooLarge {
                size: bytes.len(),
                limit: self.limits.module_bytes,
            });
        }
        inspect::check_header(bytes)?;
        let id = hex::encode(Sha256::digest(bytes));
        let span = tracing::info_span!("plugin_load", plugin = %id, size = bytes.len());
        let _enter = span.enter();

        if let Some(plugin) = self.plugin(&id) {
            return Ok(plugin.info(LoadSource::Loaded));
        }

        let started = Instant::now();
        let (module, source) = match self.cache.load(&self.engine, &id) {
            Some(module) => (module, LoadSource::Cache),
            None => {
                let module = Module::from_binary(&self.engine, bytes)
                    .map_err(|e| UploadError::Invalid(format!("{e:#}")))?;
                self.compiled.fetch_add(1, Ordering::Relaxed);
                (module, LoadSource::Compiled)
            }
        };
        let entries = inspect::entries(&module)?;
        let hooks = entries.hooks();
        let pre = self
            .linker
            .instantiate_pre(&module)
            .map_err(|e| UploadError::Invalid(format!("{e:#}")))?;
        if source == LoadSource::Compiled {
            // Only a module that passed every check is cached, so a cache hit
            // is a module this runtime accepted before.
            self.cache.store(&id, &module)?;
        }
        let plugin = Arc::new(Plugin {
            id: id.clone(),
            size: bytes.len(),
            hooks,
            pre,
            entries,
        });
        let info = plugin.info(source);
        self.plugins
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id, plugin);
        tracing::info!(
            ?source,
            hooks = ?info.hooks,
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "plugin loaded"
        );
        Ok(info)
    }

    /// Whether a module with this id is loaded.
    pub fn is_loaded(&self, id: &str) -> bool {
        self.plugin(id).is_some()
    }

    /// The hooks a loaded module offers, or `None` if it is not loaded.
    pub fn hooks(&self, id: &str) -> Option<Vec<Hook>> {
        self.plugin(id).map(|p| p.hooks.clone())
    }

    /// Forgets a loaded module (calls already running finish normally). The
    /// cached artifact stays on disk. Returns whether it was loaded.
    pub fn unload(&self, id: &str) -> bool {
        self.plugins
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(id)
            .is_some()
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
        self.in_flight.load(Ordering::Acquire)
    }

    /// Runs one hook call of a loaded module in a fresh store and instance,
    /// with `stdin` as the request. Synchronous and blocking (up to the
    /// wall-time limit plus a tick): async callers use `spawn_blocking`. The
    /// calling thread needs [`MAX_WASM_STACK`] of stack to spare.
    pub fn call(&self, id: &str, hook: Hook, stdin: &[u8]) -> Result<CallOutput, CallError> {
        let span =
            tracing::info_span!("plugin_call", plugin = %id, %hook, request_bytes = stdin.len());
        let _enter = span.enter();

        let Some(_slot) = InFlightGuard::acquire(&self.in_flight, self.max_in_flight) else {
            tracing::warn!(
                outcome = "busy",
                max_in_flight = self.max_in_flight,
                "plugin call refused: at capacity"
            );
            return Err(CallError::Busy);
        };
        let Some(plugin) = self.plugin(id) else {
            return Err(CallError::NotLoaded {
                plugin: id.to_owned(),
            });
        };
        let Some(entry) = plugin.entries.entry(hook) else {
            return Err(CallError::HookMissing {
                plugin: id.to_owned(),
                hook,
            });
        };

        let result = call::run(&self.engine, &self.limits, &plugin, entry, hook, stdin);
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

/// One slot of the `max_in_flight` bound, released on drop (also when a call
/// panics or returns early).
struct InFlightGuard<'a>(&'a AtomicUsize);

impl<'a> InFlightGuard<'a> {
    fn acquire(counter: &'a AtomicUsize, max: usize) -> Option<Self> {
        counter
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| InFlightGuard(counter))
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

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

    let mut pool = PoolingAllocationConfig::new();
    pool.total_core_instances(instances)
        .total_memories(instances)
        .total_tables(instances)
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
        // Shared memories cannot be pooled or limited per call, and ABI 1
        // plugins are single-threaded; components are not ABI 1.
        .wasm_threads(false)
        .wasm_component_model(false)
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

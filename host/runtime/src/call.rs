//! One hook call: a fresh store and instance, the deterministic WASI sandbox,
//! the per-call limits, and the mapping of every way a call can end to a
//! [`CallOutput`] or a [`CallError`].

use std::time::{Duration, Instant};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wasmtime::{
    Extern, ModuleExport, PoolConcurrencyLimitError, ResourceLimiter, Store, StoreLimits,
    StoreLimitsBuilder, Trap, WasmBacktrace,
};
use wasmtime_wasi::p1::WasiP1Ctx;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};
use wasmtime_wasi::{HostMonotonicClock, HostWallClock, I32Exit, WasiCtxBuilder};

use crate::inspect::Entry;
use crate::{CallError, CallOutput, Hook, LimitKind, Limits, EPOCH_TICK, MAX_WASM_STACK};

/// What every plugin's wall clock says: 2000-01-01T00:00:00Z. Fixed so the
/// same request always gives the same response; dates a policy needs arrive
/// in the request.
pub const FIXED_WALL_CLOCK: Duration = Duration::from_secs(946_684_800);

/// What every plugin's monotonic clock says (nanoseconds): it never advances.
pub const FIXED_MONOTONIC_CLOCK: u64 = 1_000_000_000;

/// Seeds of the WASI random sources. Fixed for determinism: plugins must not
/// use `random_get` for anything secret (they have no secrets to protect).
pub(crate) const SECURE_RANDOM_SEED: u64 = 0x4b49_4e45_524a_4131; // "KINERJA1"
pub(crate) const INSECURE_RANDOM_SEED: u64 = 0x4b49_4e45_524a_4132; // "KINERJA2"
const INSECURE_RANDOM_SEED_U128: u128 = 0x4b49_4e45_524a_4133;

/// The most bytes one `random_get` may ask for (1 MiB: well under a
/// millisecond to generate, far more than any policy needs).
pub const MAX_RANDOM_BYTES: u64 = 1 << 20;

/// The store data of one call.
pub(crate) struct CallState {
    pub(crate) wasi: WasiP1Ctx,
    /// The generator behind the shadowed `random_get` (see
    /// [`random_get`]), seeded identically for every call.
    random: StdRng,
    limiter: CallLimiter,
}

/// WASI errno `FAULT`: a buffer outside the plugin's memory.
const ERRNO_FAULT: i32 = 21;

/// The shadowed WASI `random_get`: fills the plugin's buffer straight from
/// the call's seeded generator.
///
/// wasmtime-wasi's own version collects the bytes one at a time through a
/// boxed generator (hundreds of ns per byte) inside a single
/// host call, where epoch interruption cannot reach, so a plugin asking for
/// its 64 MiB maximum could hold the thread for many seconds. Filling in
/// place runs at memory speed; requests over [`MAX_RANDOM_BYTES`] trap.
pub(crate) fn random_get(
    mut caller: wasmtime::Caller<'_, CallState>,
    ptr: i32,
    len: i32,
) -> wasmtime::Result<i32> {
    // WASI pointers and sizes are unsigned 32-bit values.
    let (start, len) = (ptr as u32 as usize, len as u32 as usize);
    if len as u64 > MAX_RANDOM_BYTES {
        wasmtime::bail!(
            "random_get asked for {len} bytes; at most {MAX_RANDOM_BYTES} per call are allowed"
        );
    }
    let Some(Extern::Memory(memory)) = caller.get_export("memory") else {
        return Ok(ERRNO_FAULT);
    };
    let (data, state) = memory.data_and_store_mut(&mut caller);
    let Some(dest) = start
        .checked_add(len)
        .and_then(|end| data.get_mut(start..end))
    else {
        return Ok(ERRNO_FAULT);
    };
    state.random.fill_bytes(dest);
    Ok(0)
}

/// Enforces [`Limits::memory_bytes`]. Growth past the limit is a trap (like
/// `StoreLimits::trap_on_grow_failure(true)`) carrying a typed error, so the
/// call is reported as a memory-limit failure rather than as whatever the
/// plugin would do when `memory.grow` returns -1 (Rust aborts with an
/// unhelpful "memory allocation failed"). Growth past the module's own
/// declared maximum returns -1 as the spec says: that is the module's choice,
/// not a host limit. Tables and instance counts use [`StoreLimits`].
pub(crate) struct CallLimiter {
    /// Bytes all of the call's linear memories may hold together (a component may have more
    /// than one; it gets no more memory than a module).
    memory_limit: usize,
    /// Bytes the call's memories hold now.
    memory_total: usize,
    /// Set when a growth was refused or failed, in case the typed error is
    /// lost on its way out.
    memory_hit: bool,
    others: StoreLimits,
}

/// The error a refused memory growth traps with.
#[derive(Debug, thiserror::Error)]
#[error("memory growth to {desired} bytes in all refused: the per-call limit is {limit} bytes")]
struct MemoryLimitHit {
    desired: usize,
    limit: usize,
}

/// A fault of the runtime itself during a call (not the plugin's).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub(crate) struct InternalFault(pub(crate) String);

impl CallLimiter {
    /// A limiter for one call: `memory_limit` bytes per memory, and at most this many
    /// instances, memories and tables.
    pub(crate) fn new(memory_limit: usize, instances: u32, memories: u32, tables: u32) -> Self {
        CallLimiter {
            memory_limit,
            memory_total: 0,
            memory_hit: false,
            others: StoreLimitsBuilder::new()
                .instances(instances as usize)
                .memories(memories as usize)
                .tables(tables as usize)
                .build(),
        }
    }

    /// Whether a memory growth was refused or failed.
    pub(crate) fn memory_hit(&self) -> bool {
        self.memory_hit
    }
}

impl ResourceLimiter for CallLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self
            .memory_total
            .saturating_sub(current)
            .saturating_add(desired);
        if total > self.memory_limit {
            self.memory_hit = true;
            return Err(MemoryLimitHit {
                desired: total,
                limit: self.memory_limit,
            }
            .into());
        }
        if maximum.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        self.memory_total = total;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        // The host could not back a growth within the limit (e.g. mmap
        // failed). Trap rather than let the plugin limp on.
        self.memory_hit = true;
        Err(error.context("the host could not provide the requested memory"))
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.others.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.others.instances()
    }

    fn tables(&self) -> usize {
        self.others.tables()
    }

    fn memories(&self) -> usize {
        self.others.memories()
    }
}

struct FixedWallClock;

impl HostWallClock for FixedWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_nanos(1)
    }

    fn now(&self) -> Duration {
        FIXED_WALL_CLOCK
    }
}

struct FixedMonotonicClock;

impl HostMonotonicClock for FixedMonotonicClock {
    fn resolution(&self) -> u64 {
        1
    }

    fn now(&self) -> u64 {
        FIXED_MONOTONIC_CLOCK
    }
}

/// The sandbox both ABIs share: stdin is given, stdout/stderr are bounded memory pipes, no
/// preopened directories, no environment, no arguments, no network (no sockets, no name
/// lookups), fixed clocks and seeded random.
pub(crate) fn sandbox(
    stdin: &[u8],
    stdout: &MemoryOutputPipe,
    stderr: &MemoryOutputPipe,
) -> WasiCtxBuilder {
    let mut builder = WasiCtxBuilder::new();
    builder
        .stdin(MemoryInputPipe::new(stdin.to_vec()))
        .stdout(stdout.clone())
        .stderr(stderr.clone())
        .wall_clock(FixedWallClock)
        .monotonic_clock(FixedMonotonicClock)
        .secure_random(StdRng::seed_from_u64(SECURE_RANDOM_SEED))
        .insecure_random(StdRng::seed_from_u64(INSECURE_RANDOM_SEED))
        .insecure_random_seed(INSECURE_RANDOM_SEED_U128)
        // Preview 1's only random call is shadowed (see `random_get`); WASI 0.2's
        // `get-random-bytes` is bounded by this.
        .max_random_size(MAX_RANDOM_BYTES)
        .allow_tcp(false)
        .allow_udp(false)
        .allow_ip_name_lookup(false);
    builder
}

/// ABI 1's sandbox: [`sandbox`] with the request on stdin and, for a command, `argv`.
fn build_wasi(
    entry: Entry,
    hook: Hook,
    stdin: &[u8],
    stdout: &MemoryOutputPipe,
    stderr: &MemoryOutputPipe,
) -> WasiP1Ctx {
    let mut builder = sandbox(stdin, stdout, stderr);
    if let Entry::Start(_) = entry {
        builder.args(&["plugin", hook.as_str()]);
    }
    builder.build_p1()
}

/// Epoch ticks until the deadline: the wall-time limit rounded up to whole
/// ticks, plus one because the current tick may be about to end. A plugin is
/// therefore never stopped before its limit, and at most about one tick
/// after.
pub(crate) fn deadline_ticks(wall_time: Duration) -> u64 {
    let ticks = wall_time.as_nanos().div_ceil(EPOCH_TICK.as_nanos()).max(1);
    u64::try_from(ticks).unwrap_or(u64::MAX - 1) + 1
}

/// A store for one call of either ABI: the call's limiter, its fuel, and its wall-time deadline
/// (epoch ticks), trapping when it passes.
pub(crate) fn limited_store<S: 'static>(
    engine: &wasmtime::Engine,
    limits: &Limits,
    state: S,
    limiter: fn(&mut S) -> &mut CallLimiter,
) -> Result<Store<S>, CallError> {
    let mut store = Store::new(engine, state);
    store.limiter(move |state| limiter(state) as &mut dyn ResourceLimiter);
    store
        .set_fuel(limits.fuel)
        .map_err(|e| CallError::Internal(format!("cannot set fuel: {e:#}")))?;
    store.set_epoch_deadline(deadline_ticks(limits.wall_time));
    store.epoch_deadline_trap();
    Ok(store)
}

/// Ends a call's store: the fuel it used and whether a memory growth was refused. Dropping
/// the store returns the instance to the pool.
pub(crate) fn finish<S: 'static>(
    store: Store<S>,
    limits: &Limits,
    limiter: fn(&S) -> &CallLimiter,
) -> (u64, bool) {
    let fuel_used = limits
        .fuel
        .saturating_sub(store.get_fuel().unwrap_or_default());
    (fuel_used, limiter(store.data()).memory_hit())
}

/// Runs `entry` of the ABI 1 plugin `id` for `hook` with `stdin` in a fresh store.
pub(crate) fn run(
    engine: &wasmtime::Engine,
    limits: &Limits,
    id: &str,
    pre: &wasmtime::InstancePre<CallState>,
    entry: Entry,
    hook: Hook,
    stdin: &[u8],
) -> Result<CallOutput, CallError> {
    let started = Instant::now();
    // Capacity limit + 1: the pipe refuses writes silently once full, so the
    // only way to tell "exactly at the limit" from "truncated" is to leave
    // room for one more byte and check afterwards.
    let stdout = MemoryOutputPipe::new(limits.stdout_bytes.saturating_add(1));
    let stderr = MemoryOutputPipe::new(limits.stderr_bytes.saturating_add(1));
    let state = CallState {
        wasi: build_wasi(entry, hook, stdin, &stdout, &stderr),
        random: StdRng::seed_from_u64(SECURE_RANDOM_SEED),
        limiter: CallLimiter::new(limits.memory_bytes, 1, 1, 1),
    };
    let mut store = limited_store(engine, limits, state, |state| &mut state.limiter)?;
    let outcome = execute(&mut store, pre, entry);
    let (fuel_used, memory_hit) = finish(store, limits, |state| &state.limiter);
    let duration = started.elapsed();
    let stdout = take_pipe(&stdout);
    let stderr = take_pipe(&stderr);

    classify(
        id,
        limits,
        outcome,
        memory_hit,
        Captured {
            stdout,
            stderr,
            fuel_used,
            duration,
        },
    )
}

/// Instantiates and enters the plugin. Instantiation runs the module's
/// `start` function, if any, under the same limits as the hook.
fn execute(
    store: &mut Store<CallState>,
    pre: &wasmtime::InstancePre<CallState>,
    entry: Entry,
) -> wasmtime::Result<()> {
    let instance = pre.instantiate(&mut *store)?;
    let call = |store: &mut Store<CallState>, export: &ModuleExport| -> wasmtime::Result<()> {
        let func = instance
            .get_module_export(&mut *store, export)
            .and_then(Extern::into_func)
            .ok_or_else(|| InternalFault("a checked entry-point export is missing".into()))?;
        let func = func.typed::<(), ()>(&*store).map_err(|e| {
            InternalFault(format!("a checked entry point has the wrong type: {e:#}"))
        })?;
        func.call(&mut *store, ())
    };
    match entry {
        Entry::Export { func, initialize } => {
            if let Some(initialize) = initialize {
                call(store, &initialize)?;
            }
            call(store, &func)
        }
        Entry::Start(start) => call(store, &start),
    }
}

fn take_pipe(pipe: &MemoryOutputPipe) -> Vec<u8> {
    // One copy of at most the limit + 1 bytes; always correct, whoever else
    // still holds the pipe.
    pipe.contents().into()
}

pub(crate) struct Captured {
    pub(crate) stdout: Vec<u8>,
    pub(crate) stderr: Vec<u8>,
    pub(crate) fuel_used: u64,
    pub(crate) duration: Duration,
}

fn clip(mut bytes: Vec<u8>, limit: usize) -> Vec<u8> {
    bytes.truncate(limit);
    bytes
}

/// Maps how the call ended to its result. Output over a limit wins over
/// everything else: a plugin whose writes were refused typically fails in
/// some other way afterwards (or exits 0 with a truncated response), and the
/// refused write is the real cause.
pub(crate) fn classify(
    id: &str,
    limits: &Limits,
    outcome: wasmtime::Result<()>,
    memory_hit: bool,
    captured: Captured,
) -> Result<CallOutput, CallError> {
    let Captured {
        stdout,
        stderr,
        fuel_used,
        duration,
    } = captured;
    let plugin = id.to_owned();
    let limit = |limit: LimitKind, value: u64, stderr: Vec<u8>| CallError::Limit {
        plugin: plugin.clone(),
        limit,
        value,
        stderr: clip(stderr, limits.stderr_bytes),
    };
    if stdout.len() > limits.stdout_bytes {
        return Err(limit(LimitKind::Stdout, limits.stdout_bytes as u64, stderr));
    }
    if stderr.len() > limits.stderr_bytes {
        return Err(limit(LimitKind::Stderr, limits.stderr_bytes as u64, stderr));
    }
    let ok = |stdout: Vec<u8>, stderr: Vec<u8>| CallOutput {
        stdout,
        stderr,
        fuel_used,
        duration,
    };
    let error = match outcome {
        Ok(()) => return Ok(ok(stdout, stderr)),
        Err(error) => error,
    };
    if let Some(exit) = error.downcast_ref::<I32Exit>() {
        // `proc_exit(0)` is success, also from a reactor hook.
        return if exit.0 == 0 {
            Ok(ok(stdout, stderr))
        } else {
            Err(CallError::Exit {
                plugin,
                code: exit.0,
                stderr,
            })
        };
    }
    if memory_hit || error.is::<MemoryLimitHit>() {
        return Err(limit(LimitKind::Memory, limits.memory_bytes as u64, stderr));
    }
    if let Some(trap) = error.downcast_ref::<Trap>() {
        match trap {
            Trap::OutOfFuel => return Err(limit(LimitKind::Fuel, limits.fuel, stderr)),
            Trap::Interrupt => {
                let ms = u64::try_from(limits.wall_time.as_millis()).unwrap_or(u64::MAX);
                return Err(limit(LimitKind::WallTime, ms, stderr));
            }
            Trap::StackOverflow => {
                return Err(limit(LimitKind::Stack, MAX_WASM_STACK as u64, stderr))
            }
            _ => {}
        }
    }
    if error.is::<PoolConcurrencyLimitError>() {
        return Err(CallError::Busy);
    }
    if let Some(fault) = error.downcast_ref::<InternalFault>() {
        return Err(CallError::Internal(format!("plugin {id}: {fault}")));
    }
    Err(CallError::Trap {
        plugin,
        message: trap_message(&error),
        stderr,
    })
}

/// The trap's description and the innermost few function names of its wasm
/// backtrace (names are present only if the module kept its name section).
fn trap_message(error: &wasmtime::Error) -> String {
    let mut message = match error.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        // A host function failed fatally (e.g. a WASI call with an invalid
        // pointer or an out-of-range exit status): the root cause says what.
        None => error.root_cause().to_string(),
    };
    if let Some(backtrace) = error.downcast_ref::<WasmBacktrace>() {
        let frames: Vec<String> = backtrace
            .frames()
            .iter()
            .take(6)
            .map(|frame| match frame.func_name() {
                Some(name) => name.to_owned(),
                None => format!("func[{}]", frame.func_index()),
            })
            .collect();
        if !frames.is_empty() {
            message.push_str(" (in ");
            message.push_str(&frames.join(" <- "));
            if backtrace.frames().len() > frames.len() {
                message.push_str(" <- ...");
            }
            message.push(')');
        }
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deadline_is_never_early() {
        assert_eq!(deadline_ticks(Duration::from_millis(10)), 2);
        assert_eq!(deadline_ticks(Duration::from_millis(11)), 3);
        assert_eq!(deadline_ticks(Duration::from_secs(2)), 201);
        assert_eq!(deadline_ticks(Duration::ZERO), 2);
    }
}

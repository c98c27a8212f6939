//! The runtime's error types.
//!
//! Every message is a sentence a region admin (for uploads) or an API client
//! (for calls) can act on: it names the plugin, the cause and, for limits, the
//! configured value, without wasmtime internals.

use std::fmt;

use crate::Hook;

/// The runtime could not be set up (bad configuration, engine or cache
/// directory failure). Fatal at server start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// A limit or sizing value is out of range.
    #[error("invalid plugin runtime configuration: {0}")]
    Config(String),
    /// wasmtime refused the engine configuration.
    #[error("cannot create the WebAssembly engine: {0}")]
    Engine(String),
    /// The compiled-module cache directory is unusable.
    #[error("the compiled-module cache is unusable: {0}")]
    Cache(String),
}

/// Why an uploaded module was refused. Uploads are checked from the module's
/// header, imports and exports only; nothing is ever run at upload.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// Over [`crate::Limits::module_bytes`]; checked before anything else.
    #[error("the module is {size} bytes, over the upload limit of {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    /// Missing the `\0asm` magic number.
    #[error(
        "the upload is not a WebAssembly module (it does not start with the \\0asm magic number)"
    )]
    NotWasm,
    /// The module would cost more to compile or keep than
    /// [`crate::ModuleBounds`] allows; checked before compiling.
    #[error("the module has {what}, over the limit of {limit}; the server refuses modules this costly to compile or keep")]
    TooCostly { what: String, limit: String },
    /// A component-model binary rather than a core module.
    /// A component whose imports the host does not provide (ABI 2 allows WASI 0.2 and the
    /// `kinerja:policy/types` interface only).
    #[error("the component imports what ABI 2 plugins may not use (only WASI 0.2 and kinerja:policy/types@2.0.0 are provided): {0}")]
    ComponentImports(String),
    /// A component exporting neither hook interface.
    #[error("the component offers no hook: it must export kinerja:policy/appraise@2.0.0 and/or kinerja:policy/rotate@2.0.0 (schemas/wit/policy.wit)")]
    NoComponentHook,
    /// A hook exported with another signature than `schemas/wit/policy.wit`'s (an older or
    /// newer package, or a hand-written WIT): every call would fail.
    #[error("the component's {hook} hook does not have the signature of kinerja:policy@2.0.0 (schemas/wit/policy.wit): {message}")]
    ComponentSignature { hook: crate::Hook, message: String },
    /// Neither `appraise`, `rotate` nor `_start` is exported.
    #[error("the module offers no hook: it must export `appraise` and/or `rotate` (type () -> ()), or a `_start` command entry point")]
    NoHook,
    /// An entry-point export (`appraise`, `rotate`, `_start`, `_initialize`)
    /// is not a function of type `() -> ()`.
    #[error("the export `{name}` must be a function of type () -> ()")]
    BadHookType { name: String },
    /// An import from a module other than `wasi_snapshot_preview1`.
    #[error("import {module}.{name} is outside wasi_snapshot_preview1; ABI 1 plugins may import only WASI preview 1")]
    ForbiddenImport { module: String, name: String },
    /// wasmtime refused the module (validation, compilation or an unknown
    /// WASI import).
    #[error("the module is not a valid WebAssembly module (ABI 1) or component (ABI 2): {0}")]
    Invalid(String),
    /// The compiled artifact could not be written to the cache directory.
    #[error("the compiled module could not be cached: {0}")]
    Cache(String),
}

/// The limit a plugin call ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// Instruction budget ([`crate::Limits::fuel`]).
    Fuel,
    /// Wall-clock time ([`crate::Limits::wall_time`]), enforced by epoch
    /// interruption.
    WallTime,
    /// Linear memory ([`crate::Limits::memory_bytes`]).
    Memory,
    /// Bytes written to stdout ([`crate::Limits::stdout_bytes`]).
    Stdout,
    /// Bytes written to stderr ([`crate::Limits::stderr_bytes`]).
    Stderr,
    /// WebAssembly call-stack size ([`crate::MAX_WASM_STACK`]).
    Stack,
}

impl LimitKind {
    /// The name used in messages and metrics: "fuel", "wall time", "memory",
    /// "stdout size", "stderr size", "stack".
    pub fn as_str(self) -> &'static str {
        match self {
            LimitKind::Fuel => "fuel",
            LimitKind::WallTime => "wall time",
            LimitKind::Memory => "memory",
            LimitKind::Stdout => "stdout size",
            LimitKind::Stderr => "stderr size",
            LimitKind::Stack => "stack",
        }
    }

    /// Formats a configured value of this limit with its unit.
    fn describe(self, value: u64) -> String {
        match self {
            LimitKind::Fuel => format!("{value} fuel units"),
            LimitKind::WallTime => format!("{value} ms"),
            LimitKind::Memory | LimitKind::Stdout | LimitKind::Stderr | LimitKind::Stack => {
                format!("{value} bytes")
            }
        }
    }
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a plugin call failed. The host maps [`CallError::Busy`] to 503 and the
/// others to a plugin failure naming the plugin; in every case the runtime
/// keeps serving.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// No module with this id is loaded.
    #[error("plugin {plugin} is not loaded")]
    NotLoaded { plugin: String },
    /// No capacity: `max_in_flight` calls are already running, or the
    /// instance pool is exhausted. Retry later (HTTP 503).
    #[error("the plugin runtime is at capacity: every call slot is in use; try again shortly")]
    Busy,
    /// The module ran into its fuel or wall-time limit on several calls in a
    /// row for this tenant, and its calls there are refused until
    /// `retry_after` has passed or a plugin is activated (HTTP 503).
    #[error("plugin {plugin} ran into its time limit on {hits} calls in a row{for_tenant}; its calls are paused for {secs} s, or until a plugin is activated", for_tenant = if tenant.is_empty() { String::new() } else { format!(" in region {tenant}") }, secs = retry_after.as_secs().max(1))]
    Paused {
        plugin: String,
        tenant: String,
        hits: u32,
        retry_after: std::time::Duration,
    },
    /// The module does not offer this hook.
    #[error("plugin {plugin} does not implement the {hook} hook")]
    HookMissing { plugin: String, hook: Hook },
    /// The plugin ran into a per-call limit. `value` is the configured limit
    /// in the unit of `limit` (fuel units, milliseconds or bytes).
    #[error("plugin {plugin} exceeded its {limit} limit ({value_text})", value_text = limit.describe(*value))]
    Limit {
        plugin: String,
        limit: LimitKind,
        value: u64,
        stderr: Vec<u8>,
    },
    /// The plugin trapped (e.g. a Rust panic, `unreachable`, an out-of-bounds
    /// access) or a WASI call failed fatally.
    #[error("plugin {plugin} trapped: {message}")]
    Trap {
        plugin: String,
        message: String,
        stderr: Vec<u8>,
    },
    /// The plugin called `proc_exit` with a non-zero status.
    #[error("plugin {plugin} exited with status {code}")]
    Exit {
        plugin: String,
        code: i32,
        stderr: Vec<u8>,
    },
    /// The request could not be read as the hook's document (an ABI 2 plugin is handed typed
    /// records, so the host reads the document before the call).
    #[error("plugin {plugin}: {message}")]
    Request { plugin: String, message: String },
    /// A fault of the runtime itself, not of the plugin.
    #[error("internal plugin runtime error: {0}")]
    Internal(String),
}

impl CallError {
    /// The plugin's stderr (its log) up to the failure, where there is one.
    pub fn stderr(&self) -> Option<&[u8]> {
        match self {
            CallError::Limit { stderr, .. }
            | CallError::Trap { stderr, .. }
            | CallError::Exit { stderr, .. } => Some(stderr),
            _ => None,
        }
    }

    /// The limit hit, for logs and metrics.
    pub fn limit(&self) -> Option<LimitKind> {
        match self {
            CallError::Limit { limit, .. } => Some(*limit),
            _ => None,
        }
    }

    /// The plugin id the error is about, where there is one.
    pub fn plugin(&self) -> Option<&str> {
        match self {
            CallError::NotLoaded { plugin }
            | CallError::HookMissing { plugin, .. }
            | CallError::Limit { plugin, .. }
            | CallError::Trap { plugin, .. }
            | CallError::Exit { plugin, .. }
            | CallError::Paused { plugin, .. }
            | CallError::Request { plugin, .. } => Some(plugin),
            CallError::Busy | CallError::Internal(_) => None,
        }
    }

    /// A short stable name of the outcome, for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::NotLoaded { .. } => "not_loaded",
            CallError::Busy => "busy",
            CallError::Paused { .. } => "paused",
            CallError::HookMissing { .. } => "hook_missing",
            CallError::Limit { .. } => "limit",
            CallError::Trap { .. } => "trap",
            CallError::Exit { .. } => "exit",
            CallError::Request { .. } => "request",
            CallError::Internal(_) => "internal",
        }
    }
}

//! # kinerja-pdk: writing Kinerja policy plugins in Rust
//!
//! A Kinerja policy plugin is a WASI preview 1 module that reads one JSON request on stdin and
//! writes one JSON response on stdout (ABI 1, `docs/plugin-contract.md`). This crate
//! gives a plugin author:
//!
//! - [`types`]: serde types for every ABI 1 document (re-exported at the root), defined once
//!   in `kinerja-abi` and shared with the host;
//! - [`io`]: [`run_hook`] and the export macros, so a plugin is a pure function plus one line;
//! - [`dates`] (also from `kinerja-abi`), [`rules`], [`talent`], [`assignment`], [`rotation`]: the shared rules of
//!   `docs/region-policies.md` as pure, tested functions (rounding, capaian, predikat matrix,
//!   recommendations, tenure, JPM, nine-box, optimal assignment);
//! - [`conformance`]: checks of an answer against the project's test vectors.
//!
//! With the `schema` feature every document type also implements `schemars::JsonSchema`; the
//! committed schemas in `schemas/plugin/` are generated from these types.
//!
//! ## A plugin in a few lines
//!
//! ```no_run
//! use kinerja_pdk::{AppraiseRequest, AppraiseResponse};
//!
//! pub fn appraise(req: &AppraiseRequest) -> Result<AppraiseResponse, String> {
//!     # let _ = req;
//!     // … apply the region's policy to each case …
//!     Ok(AppraiseResponse { results: Vec::new() })
//! }
//!
//! // Exports `appraise` (wasm32 only) reading stdin and writing stdout or a refusal.
//! kinerja_pdk::export_hooks!(appraise = appraise);
//! ```
//!
//! Build the crate as a `cdylib` for `wasm32-wasip1`: the module then exports the hook(s) as
//! `() -> ()` functions and `memory`, and imports only `wasi_snapshot_preview1`. (Rust's
//! cdylib does not export `_initialize`: wasm-ld wraps each export with the module's
//! constructor and destructor calls instead, and the contract calls `_initialize` only when it
//! is present.)
//!
//! Every export is gated on `target_arch = "wasm32"`, so the same crate also builds natively as
//! an `rlib` whose pure `appraise`/`rotate` functions tests and benchmarks call directly.

pub mod arena;
pub mod assignment;
#[cfg(feature = "abi2")]
pub mod component;
pub mod conformance;
pub mod explain;
pub mod io;
pub mod rotation;
pub mod rules;
pub mod talent;

/// The ABI 1 documents and dates live in `kinerja-abi`, shared with the host; the pdk hands
/// them on unchanged.
pub use kinerja_abi::{dates, rng, types};

pub use io::{
    check_envelope, handle_json, parse_request, read_request, run_hook, write_error, write_response,
};
pub use types::*;

/// Appraises every case of `request` with `case`, in order; the first case `case` refuses
/// refuses the whole request, its message prefixed with the case's index and NIP so that the
/// host's 422 names the record to fix. The shape of every region's `appraise`.
pub fn appraise_each(
    request: &AppraiseRequest,
    case: impl Fn(&Case) -> Result<AppraiseResult, String>,
) -> Result<AppraiseResponse, String> {
    let results = request
        .cases
        .iter()
        .enumerate()
        .map(|(i, c)| case(c).map_err(|e| format!("cases[{i}] (nip {}): {e}", c.employee.nip)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(AppraiseResponse { results })
}

/// Every Rust plugin built with the pdk for `wasm32` allocates through the call arena; it is
/// switched on by the hooks that gain from it (see [`arena`]).
#[cfg(all(target_arch = "wasm32", not(target_env = "p2")))]
#[global_allocator]
pub static ALLOCATOR: arena::CallArena = arena::CallArena::new();

/// An ABI 2 component (`wasm32-wasip2`) allocates from the arena from its first allocation
/// ([`arena::CallArena::from_first_use`]).
#[cfg(all(target_arch = "wasm32", target_env = "p2"))]
#[global_allocator]
pub static ALLOCATOR: arena::CallArena = arena::CallArena::from_first_use();

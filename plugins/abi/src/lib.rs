//! # kinerja-abi: plugin ABI 1, defined once
//!
//! The documents a Kinerja policy plugin reads and writes (`docs/plugin-contract.md`), and the
//! vocabulary both sides share. The host builds its requests from these types and names its
//! hooks with [`Hook`]; the pdk gives them to plugin authors; the committed schemas in
//! `schemas/plugin/` are generated from them (feature `schema`) and a host test validates the
//! requests it builds against those schemas. A change here is a change to ABI 1, on both sides
//! at once.
//!
//! - [`types`]: the request and response documents, [`Hook`], [`Predikat`], ratings;
//! - [`dates`]: `YYYY-MM-DD` dates, weekdays and tenure;
//! - [`fast_read`] / [`fast_write`]: the quick reader of appraise requests and writer of
//!   appraise responses that plugins use inside the sandbox (each checked against serde_json);
//! - [`rng`]: the seeded generator both sides make deterministic data with;
//! - [`abi2`]: ABI 2 (`schemas/wit/policy.wit`): the same documents as typed component-model
//!   records, and [`abi2_conversions!`], the one mapping between the two ABIs.
//!
//! Dependencies are serde and serde_json only (plus schemars or utoipa behind features), so
//! the crate builds for `wasm32-wasip1` inside every Rust plugin.

pub mod abi2;
pub mod dates;
pub mod fast_read;
pub mod fast_write;
pub mod rng;
pub mod types;

pub use dates::Date;
pub use types::*;

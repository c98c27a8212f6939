//! Kinerja: performance management of Indonesian civil servants (ASN), region by region.
//!
//! Data flows one way: [`api`] → [`domain`] → [`store`] (redb) and the plugin runtime
//! (`kinerja-runtime`, wasmtime). [`server`] wires them together for the `kinerja` binary.

pub mod api;
pub mod cluster;
pub mod config;
pub mod demo;
pub mod devkit;
pub mod domain;
pub mod import;
pub mod limits;
pub mod policy;
pub mod progress;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod verify;

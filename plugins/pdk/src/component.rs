//! ABI 2: a plugin as a WebAssembly component (`schemas/wit/policy.wit`, feature `abi2`).
//!
//! The host hands an ABI 2 plugin its request as typed records and takes the answer the same
//! way, so the plugin reads and writes no JSON. The records are ABI 1's documents field for
//! field ([`kinerja_abi::abi2_conversions!`] is the one mapping), so a plugin keeps its pure
//! functions over the pdk's types and exports them with [`export_component!`](crate::export_component):
//!
//! ```ignore
//! kinerja_pdk::export_component!(appraise = my_plugin::appraise, rotate = my_plugin::rotate);
//! ```
//!
//! Build with `cargo build --target wasm32-wasip2`: the output is the component. There the
//! pdk's allocator is the call arena from the first allocation
//! ([`CallArena::from_first_use`](crate::arena::CallArena::from_first_use)).

use crate::{AppraiseRequest, AppraiseResponse, RotateRequest, RotateResponse};

/// The bindings `wit-bindgen` generates from `schemas/wit/policy.wit` (world `policy`).
#[allow(missing_docs, clippy::all)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "../../schemas/wit",
        world: "kinerja:policy/policy",
        pub_export_macro: true,
        default_bindings_module: "kinerja_pdk::component::bindings",
    });
}

kinerja_abi::abi2_conversions!(bindings::kinerja::policy::types);

pub use bindings::exports::kinerja::policy::appraise::Guest as AppraiseGuest;
pub use bindings::exports::kinerja::policy::rotate::Guest as RotateGuest;
/// The WIT records, as `wit-bindgen` generates them.
pub use bindings::kinerja::policy::types as wit;

/// Runs an `appraise` written over the pdk's types on ABI 2's records.
pub fn appraise_with(
    hook: impl Fn(&AppraiseRequest) -> Result<AppraiseResponse, String>,
    request: wit::AppraiseRequest,
) -> Result<wit::AppraiseResponse, String> {
    let request = AppraiseRequest::try_from(request)?;
    hook(&request).map(Into::into)
}

/// Runs a `rotate` written over the pdk's types on ABI 2's records.
pub fn rotate_with(
    hook: impl Fn(&RotateRequest) -> Result<RotateResponse, String>,
    request: wit::RotateRequest,
) -> Result<wit::RotateResponse, String> {
    let request = RotateRequest::try_from(request)?;
    // A region-wide rotation builds and drops large candidate tables: as in ABI 1, it runs on
    // the standard allocator (the request the host wrote stays where the arena put it).
    #[cfg(target_arch = "wasm32")]
    crate::ALLOCATOR.stop();
    hook(&request).map(Into::into)
}

/// Exports both hooks of a plugin as the ABI 2 component's `appraise` and `rotate`
/// interfaces (world `kinerja:policy/policy`). Each is a function over the pdk's types, as
/// for [`export_hooks!`](crate::export_hooks).
#[macro_export]
macro_rules! export_component {
    (appraise = $a:path, rotate = $r:path $(,)?) => {
        struct KinerjaPolicy;

        impl $crate::component::AppraiseGuest for KinerjaPolicy {
            fn appraise(
                request: $crate::component::wit::AppraiseRequest,
            ) -> Result<$crate::component::wit::AppraiseResponse, String> {
                $crate::component::appraise_with($a, request)
            }
        }

        impl $crate::component::RotateGuest for KinerjaPolicy {
            fn rotate(
                request: $crate::component::wit::RotateRequest,
            ) -> Result<$crate::component::wit::RotateResponse, String> {
                $crate::component::rotate_with($r, request)
            }
        }

        $crate::component::bindings::export!(KinerjaPolicy);
    };
}

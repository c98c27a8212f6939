//! Provinsi Jambi's policy plugin as an ABI 2 component: the rules of `kinerja-plugin-jambi`,
//! unchanged, exported through `schemas/wit/policy.wit` instead of JSON on stdin and stdout.
//! Built with `cargo build -p kinerja-plugin-jambi-abi2 --target wasm32-wasip2 --profile plugin`.

#[cfg(target_arch = "wasm32")]
kinerja_pdk::export_component!(
    appraise = kinerja_plugin_jambi::appraise,
    rotate = kinerja_plugin_jambi::rotate
);

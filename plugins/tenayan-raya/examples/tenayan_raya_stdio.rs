//! Runs a hook natively, stdin → stdout, exactly as the wasm export does; handy for debugging a
//! request without a host:
//! `cargo run -p kinerja-plugin-tenayan-raya --example tenayan_raya_stdio -- appraise < request.json`

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("appraise") => kinerja_pdk::run_hook(|r| kinerja_plugin_tenayan_raya::appraise(&r)),
        Some("rotate") => kinerja_pdk::run_hook(|r| kinerja_plugin_tenayan_raya::rotate(&r)),
        _ => {
            eprintln!("usage: tenayan_raya_stdio appraise|rotate < request.json");
            std::process::exit(2);
        }
    }
}

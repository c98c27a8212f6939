//! Runs a hook natively, stdin → stdout, exactly as the wasm export does; handy for debugging a
//! request without a host:
//! `cargo run -p kinerja-plugin-jambi --example jambi_stdio -- appraise < request.json`

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("appraise") => kinerja_pdk::run_hook(|r| kinerja_plugin_jambi::appraise(&r)),
        Some("rotate") => kinerja_pdk::run_hook(|r| kinerja_plugin_jambi::rotate(&r)),
        _ => {
            eprintln!("usage: jambi_stdio appraise|rotate < request.json");
            std::process::exit(2);
        }
    }
}

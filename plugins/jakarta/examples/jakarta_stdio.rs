//! Runs a hook natively, stdin → stdout, exactly as the wasm export does; handy for debugging a
//! request without a host:
//! `cargo run -p kinerja-plugin-jakarta --example jakarta_stdio -- appraise < request.json`

fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("appraise") => kinerja_pdk::run_hook(|r| kinerja_plugin_jakarta::appraise(&r)),
        Some("rotate") => kinerja_pdk::run_hook(|r| kinerja_plugin_jakarta::rotate(&r)),
        _ => {
            eprintln!("usage: jakarta_stdio appraise|rotate < request.json");
            std::process::exit(2);
        }
    }
}

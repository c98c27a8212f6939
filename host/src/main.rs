//! The `kinerja` binary: a thin command line over the library.

use clap::{Parser, Subcommand};
use kinerja::config::Config;
use std::io::Write;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(name = "kinerja", version, about = "ASN performance management with region policies as Wasm plugins")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve(Config),
    /// Print the OpenAPI document.
    Openapi,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")))
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve(config) => {
            let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
            rt.block_on(async {
                let prepared = kinerja::server::prepare(config).await?;
                // Tests and scripts read the bound address from this line.
                println!("kinerja listening on http://{}", prepared.addr);
                std::io::stdout().flush()?;
                kinerja::server::serve(prepared, kinerja::server::shutdown_signal()).await
            })?;
            // Dropping the runtime waits for blocking store tasks; the database closes after.
            drop(rt);
            tracing::info!("database closed; bye");
            Ok(())
        }
        Command::Openapi => {
            println!("{}", serde_json::to_string_pretty(&kinerja::api::openapi())?);
            Ok(())
        }
    }
}

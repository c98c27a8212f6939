//! The `kinerja` binary: a thin command line over the library.

use clap::{Parser, Subcommand};
use kinerja::config::Config;
use std::io::Write;
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "kinerja",
    version,
    about = "ASN performance management with region policies as Wasm plugins"
)]
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
    /// Run and test plugins locally, in the server's sandbox and limits.
    #[command(subcommand)]
    Plugin(PluginCommand),
}

#[derive(Subcommand)]
enum PluginCommand {
    /// Run one hook of a module on a request; print the response, logs, fuel and time.
    Run {
        module: std::path::PathBuf,
        /// `appraise` or `rotate`.
        hook: String,
        request: std::path::PathBuf,
    },
    /// Run every NAME.request.json in a folder against NAME.expected.json.
    Test {
        module: std::path::PathBuf,
        dir: std::path::PathBuf,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match cli.command {
        Command::Serve(config) => {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
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
        Command::Plugin(cmd) => {
            let limits = kinerja_runtime::Limits::default();
            let ok = match cmd {
                PluginCommand::Run {
                    module,
                    hook,
                    request,
                } => kinerja::devkit::run(&module, &hook, &request, limits)?,
                PluginCommand::Test { module, dir } => {
                    kinerja::devkit::test(&module, &dir, limits)?
                }
            };
            std::process::exit(if ok { 0 } else { 1 });
        }
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&kinerja::api::openapi())?
            );
            Ok(())
        }
    }
}

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
    Serve(Box<Config>),
    /// Print the OpenAPI document.
    Openapi,
    /// Import daily activity reports in bulk (JSON Lines or CSV) into the data dir's database;
    /// the server must be stopped. All or nothing unless --skip-invalid.
    #[command(after_help = kinerja::import::AFTER_HELP)]
    Import(kinerja::import::ImportArgs),
    /// Run and test plugins locally, in the server's sandbox and limits.
    #[command(subcommand)]
    Plugin(PluginCommand),
    /// Check stored decisions; the server must be stopped.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Recover administration; the server must be stopped.
    #[command(subcommand)]
    Admin(AdminCommand),
    /// Write a consistent snapshot of each file of the data dir (or of one region's) to a new
    /// directory laid out as a data dir, with manifest.json; works while a server runs on the
    /// data dir.
    Backup {
        /// The server's data directory.
        #[arg(long, env = "KINERJA_DATA_DIR", default_value = "./data")]
        data_dir: std::path::PathBuf,
        /// The directory to write (new, or empty).
        #[arg(long)]
        out: std::path::PathBuf,
        /// Only this region's file.
        #[arg(long)]
        region: Option<String>,
    },
    /// Replace files of the data dir with a backup's (all of a whole backup's, or one
    /// region's), once each is checked whole (redb's integrity check and every table against
    /// its manifest); the server must be stopped. Each replaced file is kept as
    /// <file>.before-restore-<time>.
    Restore {
        /// The directory `kinerja backup` wrote, or a region's file (from `--region` or the
        /// HTTP route).
        backup: std::path::PathBuf,
        /// The server's data directory.
        #[arg(long, env = "KINERJA_DATA_DIR", default_value = "./data")]
        data_dir: std::path::PathBuf,
    },
    /// Kinerja on several nodes behind HAProxy.
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Regions across the nodes of a cluster.
    #[command(subcommand)]
    Region(RegionCommand),
    /// Migrate a data dir of an earlier layout (one kinerja.redb) to this version's (a file per
    /// region and system.redb); the server must be stopped. `serve` does it too on start.
    Migrate {
        /// The server's data directory.
        #[arg(long, env = "KINERJA_DATA_DIR", default_value = "./data")]
        data_dir: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum ClusterCommand {
    /// Write HAProxy's configuration (to --out) and the region map (where the cluster file's
    /// `proxy.map` says) from the cluster file.
    Haproxy {
        #[arg(long)]
        cluster: std::path::PathBuf,
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum RegionCommand {
    /// Move a region to another node, live: its writes pause (503, retry) while its file is
    /// sent and checked, the proxy's map is flipped (Runtime API and map file), and the source
    /// lets go of it; on a failure before the flip it stays where it was.
    Move {
        region: String,
        /// The target node, by its name in the cluster file.
        #[arg(long)]
        to: String,
        #[arg(long)]
        cluster: std::path::PathBuf,
        /// A file holding an admin token's secret (valid on every node).
        #[arg(long, env = "KINERJA_TOKEN_FILE")]
        token_file: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Issue a new admin token and write it to DATA_DIR/admin.token (mode 0600), replacing
    /// the file. For when every admin token is lost: it needs the stopped server's files.
    /// Existing tokens are kept; the issue is in the audit trail.
    ResetToken {
        /// The server's data directory.
        #[arg(long, env = "KINERJA_DATA_DIR", default_value = "./data")]
        data_dir: std::path::PathBuf,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Replay stored decisions on all cores (one run per plugin call) and report every
    /// decision whose module, request or stored output no longer agree. Exit status 1 when
    /// any does.
    Verify(kinerja::verify::VerifyArgs),
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
                let prepared = kinerja::server::prepare(*config).await?;
                // Tests and scripts read the bound address from this line.
                println!("kinerja listening on http://{}", prepared.addr);
                std::io::stdout().flush()?;
                kinerja::server::serve(prepared, kinerja::server::shutdown_signal()).await
            })?;
            // `serve` has waited for group commit to answer everything; dropping the runtime
            // waits for the remaining blocking store tasks, and the database closes after.
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
        Command::Import(args) => match kinerja::import::run(&args) {
            Ok(sum) => {
                for e in &sum.errors {
                    eprintln!("skipped {e}");
                }
                if sum.skipped as usize > sum.errors.len() {
                    eprintln!(
                        "… and {} more skipped line(s)",
                        sum.skipped as usize - sum.errors.len()
                    );
                }
                let secs = sum.elapsed.as_secs_f64();
                let rate = if secs > 0.0 {
                    sum.imported as f64 / secs
                } else {
                    0.0
                };
                eprintln!(
                    "imported {} report(s), skipped {} line(s) in {secs:.2} s",
                    sum.imported, sum.skipped
                );
                println!(
                    "{}",
                    serde_json::json!({
                        "imported": sum.imported,
                        "skipped": sum.skipped,
                        "seconds": secs,
                        "records_per_second": rate,
                    })
                );
                Ok(())
            }
            Err(kinerja::import::ImportError::Invalid { bad, errors }) => {
                for e in &errors {
                    eprintln!("{e}");
                }
                if bad as usize > errors.len() {
                    eprintln!("… and {} more invalid line(s)", bad as usize - errors.len());
                }
                eprintln!(
                        "error: {bad} invalid line(s); nothing was imported (fix them, or pass --skip-invalid)"
                    );
                std::process::exit(1);
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        },
        Command::Audit(AuditCommand::Verify(args)) => match kinerja::verify::run(&args) {
            Ok(report) => {
                for v in &report.mismatches {
                    eprintln!("{}: {}", v.decision_id, v.mismatches.join("; "));
                }
                if report.mismatched > report.mismatches.len() {
                    eprintln!(
                        "… and {} more mismatching decision(s)",
                        report.mismatched - report.mismatches.len()
                    );
                }
                let secs = report.elapsed.as_secs_f64();
                eprintln!(
                    "verified {} decision(s) from {} call(s) in {secs:.2} s: {} identical, {} mismatched",
                    report.decisions, report.calls, report.identical, report.mismatched
                );
                println!(
                    "{}",
                    serde_json::json!({
                        "decisions": report.decisions,
                        "calls": report.calls,
                        "identical": report.identical,
                        "mismatched": report.mismatched,
                        "mismatched_ids": report.mismatches.iter().map(|v| &v.decision_id).collect::<Vec<_>>(),
                        "seconds": secs,
                    })
                );
                std::process::exit(if report.mismatched == 0 { 0 } else { 1 });
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(2);
            }
        },
        Command::Admin(AdminCommand::ResetToken { data_dir }) => {
            let done = kinerja::store::Store::open(&data_dir)
                .and_then(|store| store.reset_admin(&data_dir));
            match done {
                Ok((id, path)) => {
                    // The secret goes to the file only, never to a terminal or a log.
                    eprintln!(
                        "issued admin token {id}; its secret is in {} (mode 0600)",
                        path.display()
                    );
                    println!(
                        "{}",
                        serde_json::json!({"id": id, "file": path.display().to_string()})
                    );
                    Ok(())
                }
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(1);
                }
            }
        }
        Command::Backup {
            data_dir,
            out,
            region,
        } => finish_backup(
            "backup",
            kinerja::store::backup::backup(&data_dir, &out, region.as_deref()),
        ),
        Command::Restore { backup, data_dir } => {
            let restored = kinerja::store::backup::restore(&backup, &data_dir).map(|r| {
                for kept in &r.replaced {
                    eprintln!(
                        "restore: the file it replaced is kept as {} (remove it once the \
                         restored one is checked)",
                        kept.display()
                    );
                }
                r.manifest
            });
            finish_backup("restore", restored)
        }
        Command::Cluster(ClusterCommand::Haproxy { cluster, out }) => {
            match kinerja::cluster::Cluster::read(&cluster)
                .and_then(|c| kinerja::cluster::write_haproxy(&c, &out))
            {
                Ok(()) => Ok(()),
                Err(e) => {
                    eprintln!("error: {e}");
                    std::process::exit(1);
                }
            }
        }
        Command::Region(RegionCommand::Move {
            region,
            to,
            cluster,
            token_file,
        }) => {
            let moved = std::fs::read_to_string(&token_file)
                .map_err(|e| anyhow::anyhow!("{}: {e}", token_file.display()))
                .and_then(|token| {
                    kinerja::cluster::move_region(&cluster, &region, &to, token.trim())
                        .map_err(anyhow::Error::from)
                });
            match moved {
                Ok(m) => {
                    eprintln!(
                        "region move: `{}` moved from `{}` to `{}`",
                        m.region, m.from, m.to
                    );
                    println!("{}", serde_json::to_string(&m)?);
                    Ok(())
                }
                Err(e) => {
                    eprintln!("error: {e:#}");
                    std::process::exit(1);
                }
            }
        }
        Command::Migrate { data_dir } => match kinerja::store::migrate_data_dir(&data_dir) {
            Ok(Some(m)) => {
                eprintln!(
                    "migrate: {} region(s), {} row(s) moved to a file per region; the old file \
                     is kept as {}",
                    m.regions.len(),
                    m.rows,
                    data_dir.join(kinerja::store::LAYOUT1_KEPT).display()
                );
                Ok(())
            }
            Ok(None) => {
                eprintln!(
                    "migrate: nothing to do (the data dir is of layout {})",
                    kinerja::store::LAYOUT
                );
                Ok(())
            }
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        },
        Command::Openapi => {
            println!(
                "{}",
                serde_json::to_string_pretty(&kinerja::api::openapi())?
            );
            Ok(())
        }
    }
}

/// Prints what a backup or restore holds (a summary on stderr, the manifests as JSON on
/// stdout), or the error, exiting 1.
fn finish_backup(
    what: &str,
    done: Result<kinerja::store::backup::BackupManifest, kinerja::store::backup::BackupError>,
) -> anyhow::Result<()> {
    match done {
        Ok(m) => {
            for (file, f) in &m.files {
                let rows: u64 = f.tables.values().map(|t| t.rows).sum();
                eprintln!(
                    "{what}: {file}: {} table(s), {rows} row(s); commit point {}",
                    f.tables.len(),
                    serde_json::to_string(&f.commit_point)?
                );
            }
            println!("{}", serde_json::to_string(&m)?);
            Ok(())
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
